/*
 * The vDSO as Linux's riscv one: AT_SYSINFO_EHDR points at an ELF shared object exporting
 * __vdso_clock_gettime, __vdso_gettimeofday, __vdso_clock_getres and __vdso_getcpu at version
 * LINUX_4.15 (what glibc and musl look up, through DT_HASH for musl), its clocks agree with the
 * system calls (never behind a time the kernel gave earlier, never ahead of a later one), other
 * clocks and bad clock ids get the kernel's answers, /proc/self/maps names [vvar] and [vdso], and
 * the data page cannot be made writable. qemu-user 7.2 gives riscv64 programs no vDSO: there the
 * checks that need one say SKIP (inside Ember a SKIP is a failure).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

typedef int (*cgt_fn)(clockid_t, struct timespec *);
typedef int (*gtod_fn)(struct timeval *, void *);
typedef int (*getcpu_fn)(unsigned *, unsigned *, void *);

static uintptr_t base;                  /* load bias: the vDSO is linked at 0 */
static const Elf64_Sym *symtab;
static const char *strtab;
static const uint32_t *hashtab;
static const uint16_t *versym;
static const Elf64_Verdef *verdef;

static int load(const Elf64_Ehdr *eh)
{
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_type != ET_DYN || eh->e_machine != EM_RISCV)
		return -1;
	const Elf64_Phdr *ph = (const void *)((const char *)eh + eh->e_phoff);
	const Elf64_Dyn *dyn = NULL;
	base = (uintptr_t)-1;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && base == (uintptr_t)-1)
			base = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const void *)((const char *)eh + ph[i].p_offset);
	}
	if (!dyn || base == (uintptr_t)-1)
		return -1;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		const void *p = (const void *)(base + dyn->d_un.d_ptr);
		switch (dyn->d_tag) {
		case DT_SYMTAB: symtab = p; break;
		case DT_STRTAB: strtab = p; break;
		case DT_HASH: hashtab = p; break;
		case DT_VERSYM: versym = p; break;
		case DT_VERDEF: verdef = p; break;
		}
	}
	return symtab && strtab && hashtab ? 0 : -1;
}

/* The version a symbol index is defined at, from DT_VERSYM and DT_VERDEF. */
static const char *version_of(unsigned idx)
{
	if (!versym || !verdef)
		return NULL;
	unsigned v = versym[idx] & 0x7fff;
	for (const Elf64_Verdef *d = verdef;; d = (const void *)((const char *)d + d->vd_next)) {
		if (d->vd_ndx == v) {
			const Elf64_Verdaux *a = (const void *)((const char *)d + d->vd_aux);
			return strtab + a->vda_name;
		}
		if (!d->vd_next)
			return NULL;
	}
}

/* Look a name up the way musl does (DT_HASH buckets), with its version. */
static void *sym(const char *name, const char **ver)
{
	uint32_t h = 0, g;
	for (const unsigned char *s = (const void *)name; *s; s++) {
		h = (h << 4) + *s;
		g = h & 0xf0000000;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	uint32_t nbucket = hashtab[0];
	const uint32_t *bucket = hashtab + 2, *chain = bucket + nbucket;
	for (uint32_t i = bucket[h % nbucket]; i; i = chain[i]) {
		const Elf64_Sym *s = &symtab[i];
		if (!strcmp(strtab + s->st_name, name) && ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_shndx) {
			*ver = version_of(i);
			return (void *)(base + s->st_value);
		}
	}
	return NULL;
}

static int64_t ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

static int64_t sys_ns(clockid_t c)
{
	struct timespec t;
	syscall(SYS_clock_gettime, c, &t);
	return ns(&t);
}

static cgt_fn cgt;
static int order_bad;

/* kernel, vDSO, kernel: the middle one within the other two, many times, on every hart */
static void *order_worker(void *arg)
{
	clockid_t c = (clockid_t)(uintptr_t)arg;
	for (int i = 0; i < 2000; i++) {
		struct timespec v;
		int64_t a = sys_ns(c);
		int r = cgt(c, &v);
		int64_t b = sys_ns(c);
		if (r != 0 || ns(&v) < a || ns(&v) > b)
			__atomic_add_fetch(&order_bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(void)
{
	/* libc's own clock_gettime (through the vDSO, where there is one, with glibc and musl) */
	struct timespec lt;
	int64_t a = sys_ns(CLOCK_MONOTONIC);
	clock_gettime(CLOCK_MONOTONIC, &lt);
	int64_t b = sys_ns(CLOCK_MONOTONIC);
	CHECK("libc_clock_gettime_between_two_syscalls", ns(&lt) >= a && ns(&lt) <= b, "%lld", (long long)ns(&lt));

	uintptr_t eh = getauxval(AT_SYSINFO_EHDR);
	if (!eh) {
		SKIP("vdso_present", "no AT_SYSINFO_EHDR (qemu-user gives riscv64 programs no vDSO)");
		return t_finish();
	}
	CHECK("vdso_is_an_elf_shared_object", load((const Elf64_Ehdr *)eh) == 0, "at %#lx", (unsigned long)eh);
	if (!symtab)
		return t_finish();
	static const char *names[] = { "__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_clock_getres",
				       "__vdso_getcpu" };
	void *fn[4];
	int found = 0;
	for (int i = 0; i < 4; i++) {
		const char *ver = NULL;
		fn[i] = sym(names[i], &ver);
		if (fn[i] && ver && !strcmp(ver, "LINUX_4.15"))
			found++;
		else
			printf("  %s: %p version %s\n", names[i], fn[i], ver ? ver : "(none)");
	}
	CHECK("exports_the_four_calls_at_LINUX_4.15", found == 4, "found %d", found);
	if (found != 4)
		return t_finish();
	cgt = (cgt_fn)fn[0];

	static const clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW };
	for (unsigned k = 0; k < sizeof(clocks) / sizeof(clocks[0]); k++) {
		pthread_t t[4];
		order_bad = 0;
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, order_worker, (void *)(uintptr_t)clocks[k]);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		char name[64];
		snprintf(name, sizeof(name), "clock_%d_between_two_syscalls", (int)clocks[k]);
		CHECK(name, order_bad == 0, "%d of 8000 out of order", order_bad);
	}
	struct timespec c1, c2;
	CHECK("coarse_clocks_answer", cgt(CLOCK_MONOTONIC_COARSE, &c1) == 0 && cgt(CLOCK_REALTIME_COARSE, &c2) == 0 &&
	      c1.tv_nsec >= 0 && c1.tv_nsec < 1000000000 && c2.tv_sec > 1600000000, "mono %ld rt %ld", (long)c1.tv_sec,
	      (long)c2.tv_sec);
	struct timespec cpu;
	CHECK("cputime_clock_falls_back_to_the_kernel", cgt(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0 && ns(&cpu) > 0,
	      "%lld", (long long)ns(&cpu));
	CHECK("bad_clock_is_minus_EINVAL", cgt(1234, &cpu) == -EINVAL, "%d", cgt(1234, &cpu));

	struct timeval tv;
	a = sys_ns(CLOCK_REALTIME) / 1000;
	int r = ((gtod_fn)fn[1])(&tv, NULL);
	b = sys_ns(CLOCK_REALTIME) / 1000;
	int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	CHECK("gettimeofday_between_two_syscalls", r == 0 && us >= a && us <= b, "r=%d %lld not in [%lld, %lld]", r,
	      (long long)us, (long long)a, (long long)b);
	struct timespec res;
	CHECK("clock_getres", ((int (*)(clockid_t, struct timespec *))fn[2])(CLOCK_MONOTONIC, &res) == 0 &&
	      res.tv_sec == 0 && res.tv_nsec > 0, "%ld", res.tv_nsec);
	unsigned cpuid = ~0u;
	CHECK("getcpu", ((getcpu_fn)fn[3])(&cpuid, NULL, NULL) == 0 && cpuid < 64, "cpu %u", cpuid);


	/* /proc/self/maps: [vvar] right below [vdso], which holds the ELF header */
	FILE *m = fopen("/proc/self/maps", "r");
	char line[256];
	unsigned long vvar_lo = 0, vvar_hi = 0, vdso_lo = 0, vdso_hi = 0;
	while (m && fgets(line, sizeof(line), m)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if (strstr(line, "[vvar]"))
			vvar_lo = lo, vvar_hi = hi;
		if (strstr(line, "[vdso]"))
			vdso_lo = lo, vdso_hi = hi;
	}
	if (m)
		fclose(m);
	CHECK("maps_names_vdso_at_the_header", vdso_lo == eh && vdso_hi > vdso_lo, "[vdso] %lx-%lx header %lx", vdso_lo,
	      vdso_hi, (unsigned long)eh);
	CHECK("maps_names_vvar", vvar_hi > vvar_lo, "[vvar] %lx-%lx", vvar_lo, vvar_hi);
	if (vvar_hi > vvar_lo) {
		errno = 0;
		int pr = mprotect((void *)vvar_lo, vvar_hi - vvar_lo, PROT_READ | PROT_WRITE);
		CHECK("vvar_cannot_become_writable", pr == -1 && errno == EACCES, "mprotect=%d errno=%d", pr, errno);
	}
	/* a child of fork has it too, at the same place */
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec t;
		_exit(cgt(CLOCK_MONOTONIC, &t) == 0 && t.tv_sec >= c1.tv_sec ? 0 : 1);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK("works_in_a_forked_child", st == 0, "status %#x", st);
	return t_finish();
}
