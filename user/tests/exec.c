/*
 * execve as Linux does it: the auxiliary vector (AT_PHDR points at the program headers, AT_BASE at
 * the dynamic loader, AT_RANDOM, AT_EXECFN ... through getauxval), PIE programs, thread-local
 * storage (PT_TLS), PT_GNU_STACK, "#!" scripts with one argument and their nesting limit (ELOOP),
 * the errors execve gives (EACCES, ENOEXEC, ETXTBSY, ENOENT, ENOTDIR, ELOOP, EFAULT) and
 * malformed ELF files written at run time (truncated, bad program headers, overlapping segments,
 * a missing interpreter or one with an interpreter of its own, huge p_memsz).
 *
 * The program re-executes itself to see what a new image receives (the child's role comes from
 * EXEC_TEST_MODE in its environment). Under qemu-user on a host without binfmt_misc the host
 * kernel cannot run a riscv64 binary, so the checks that need a child image skip there; the
 * errors execve finds before it looks at the machine type are the host kernel's own answers.
 * Malformed-ELF answers come from a riscv64 kernel's fs/binfmt_elf.c, which qemu-user does not
 * run: they are checked inside Ember only. Where Linux meets a failure after its point of no
 * return it kills the process with SIGSEGV; Ember fails the execve instead and leaves the process
 * intact; the checks accept either, and never a successful run.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define EXIT_EXEC_FAILED 100        /* a child whose execve failed exits 100 + errno */
#define EXIT_PROBE 33
#define EXIT_ARGV_OK 44
#define EXIT_ARGV_BAD 45
#define EXIT_TINY 42
#define EXIT_LOADER 55
#define TINY_CODE_OFF 0x200
#define TINY_INTERP_OFF 0x300
#define TINY_VADDR 0x10000
#define PG 4096
#define TWO_GIB 0x80000000UL
#define PATHLEN 512
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

extern char _start[];
static char self[PATHLEN];          /* our executable's path, for re-executing */
static char dir[PATHLEN / 4];       /* scratch directory */
static bool can_exec, in_ember;

struct child_info {
	unsigned char random[16];
	uintptr_t main_addr, brk, phdr, base;
	char execfn[PATHLEN];
};

/* ---- helpers ---- */

static char *path_in(const char *name)
{
	static char bufs[8][PATHLEN];
	static int n;
	char *b = bufs[n++ % 8];
	snprintf(b, PATHLEN, "%s/%s", dir, name);
	return b;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		printf("setup: cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

/* fork, execve in the child (exit 100+errno when it fails), wait: the status word */
static int run(const char *path, char *const argv[], char *const envp[])
{
	pid_t pid = fork();
	if (pid == 0) {
		execve(path, argv, envp);
		_exit(EXIT_EXEC_FAILED + errno);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	return st;
}

static int run_simple(const char *path)
{
	return run(path, (char *[]){ (char *)path, NULL }, (char *[]){ NULL });
}

static bool exec_failed_with(int st, int err) { return WIFEXITED(st) && WEXITSTATUS(st) == EXIT_EXEC_FAILED + err; }
static bool exited_with(int st, int code) { return WIFEXITED(st) && WEXITSTATUS(st) == code; }

static void expect_errno(const char *name, const char *path, int err)
{
	int st = run_simple(path);
	CHECK(name, exec_failed_with(st, err), "status %#x, want errno %d", st, err);
}

/* A failure Linux meets after its point of no return (SIGSEGV) or Ember before it (errno). */
static void expect_refused(const char *name, const char *path, int err1, int err2)
{
	if (!in_ember) {
		SKIP(name, "Linux's answer comes from a riscv64 kernel's binfmt_elf, not qemu-user");
		return;
	}
	int st = run_simple(path);
	CHECK(name, exec_failed_with(st, err1) || exec_failed_with(st, err2) ||
	      (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV), "status %#x", st);
}

/* ---- the child's side ---- */

static int child_argv(int argc, char **argv)
{
	const char *want = getenv("EXEC_TEST_EXPECT");
	char got[4096] = "";
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(got, "|");
		strncat(got, argv[i], sizeof(got) - strlen(got) - 2);
	}
	/* argc counts too: an empty want means exactly one empty argument (argv = { "" }) */
	if (want && !strcmp(want, got) && (*want || argc == 1))
		return EXIT_ARGV_OK;
	printf("argv child: got \"%s\", want \"%s\"\n", got, want ? want : "(none)");
	return EXIT_ARGV_BAD;
}

static int child_info(void)
{
	struct child_info ci;
	memset(&ci, 0, sizeof(ci));
	memcpy(ci.random, (void *)getauxval(AT_RANDOM), sizeof(ci.random));
	ci.main_addr = (uintptr_t)child_info;
	ci.brk = (uintptr_t)sbrk(0);
	ci.phdr = getauxval(AT_PHDR);
	ci.base = getauxval(AT_BASE);
	const char *fn = (const char *)getauxval(AT_EXECFN);
	if (fn)
		strncpy(ci.execfn, fn, sizeof(ci.execfn) - 1);
	int fd = atoi(getenv("EXEC_TEST_FD"));
	return write(fd, &ci, sizeof(ci)) == sizeof(ci) ? 0 : 1;
}

/* Copy a "ret" onto the stack and call it: works only with an executable stack. */
static int call_on_stack(void)
{
	uint32_t code[4] = { 0x00008067 };      /* jalr x0, 0(ra) */
	__builtin___clear_cache((char *)code, (char *)(code + 4));
	((void (*)(void))(uintptr_t)code)();
	return 0;
}

static int child_main(const char *mode, int argc, char **argv)
{
	if (!strcmp(mode, "probe"))
		return EXIT_PROBE;
	if (!strcmp(mode, "argv"))
		return child_argv(argc, argv);
	if (!strcmp(mode, "info"))
		return child_info();
	if (!strcmp(mode, "stack"))
		return call_on_stack();
	if (!strcmp(mode, "loader"))
		return EXIT_LOADER;
	return 2;
}

/* ---- our own image ---- */

struct self_image {
	const ElfW(Phdr) *ph;
	int phnum;
	uintptr_t bias;
	const char *interp;
};

static struct self_image self_image(void)
{
	struct self_image si = { (const ElfW(Phdr) *)getauxval(AT_PHDR), (int)getauxval(AT_PHNUM), 0, NULL };
	for (int i = 0; si.ph && i < si.phnum; i++)
		if (si.ph[i].p_type == PT_PHDR)
			si.bias = (uintptr_t)si.ph - si.ph[i].p_vaddr;
	for (int i = 0; si.ph && i < si.phnum; i++)
		if (si.ph[i].p_type == PT_INTERP)
			si.interp = (const char *)(si.bias + si.ph[i].p_vaddr);
	return si;
}

static int find_object_at(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	return info->dlpi_addr == *(uintptr_t *)arg && info->dlpi_addr != 0;
}

static void test_auxv(char **argv)
{
	struct self_image si = self_image();
	CHECK("auxv_phent", getauxval(AT_PHENT) == sizeof(ElfW(Phdr)), "%lu", getauxval(AT_PHENT));
	bool load_covers = false;
	for (int i = 0; si.ph && i < si.phnum; i++) {
		const ElfW(Phdr) *p = &si.ph[i];
		if (p->p_type == PT_LOAD && (uintptr_t)si.ph >= si.bias + p->p_vaddr &&
		    (uintptr_t)si.ph < si.bias + p->p_vaddr + p->p_filesz)
			load_covers = true;
	}
	CHECK("auxv_phdr_points_at_phdrs", si.ph && si.phnum > 0 && load_covers,
	      "phdr %p phnum %d", (void *)si.ph, si.phnum);
	/* the first PT_LOAD maps the ELF header: AT_PHDR - e_phoff is the header */
	const ElfW(Ehdr) *eh = NULL;
	for (int i = 0; si.ph && i < si.phnum && !eh; i++)
		if (si.ph[i].p_type == PT_LOAD && si.ph[i].p_offset == 0)
			eh = (const ElfW(Ehdr) *)(si.bias + si.ph[i].p_vaddr);
	CHECK("auxv_phdr_matches_ehdr", eh && !memcmp(eh->e_ident, ELFMAG, SELFMAG) &&
	      (uintptr_t)eh + eh->e_phoff == (uintptr_t)si.ph && eh->e_phnum == si.phnum, "");
	CHECK("auxv_entry_is_start", getauxval(AT_ENTRY) == (uintptr_t)_start,
	      "%#lx vs %p", getauxval(AT_ENTRY), (void *)_start);
	CHECK("pie_bias_matches_type", eh && (eh->e_type == ET_DYN ? si.bias != 0 : si.bias == 0),
	      "type %d bias %#lx", eh ? eh->e_type : -1, (unsigned long)si.bias);
	uintptr_t base = getauxval(AT_BASE);
	if (si.interp) {
		const ElfW(Ehdr) *ld = (const ElfW(Ehdr) *)base;
		CHECK("auxv_base_is_loader", base && !memcmp(ld->e_ident, ELFMAG, SELFMAG) && ld->e_type == ET_DYN &&
		      ld->e_machine == EM_RISCV, "base %#lx", (unsigned long)base);
		/* the loader's own view: one loaded object (the loader) sits at AT_BASE */
		uintptr_t want = base;
		CHECK("auxv_base_is_loaded_object", dl_iterate_phdr(find_object_at, &want) == 1, "base %#lx",
		      (unsigned long)base);
	} else {
		CHECK("auxv_base_zero_static", base == 0, "%#lx", (unsigned long)base);
	}
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int i = 0; rnd && i < 16; i++)
		nonzero += rnd[i] != 0;
	CHECK("auxv_random_16_bytes", rnd && nonzero > 0, "");
	CHECK("auxv_pagesz", getauxval(AT_PAGESZ) == PG && sysconf(_SC_PAGESIZE) == PG, "%lu", getauxval(AT_PAGESZ));
	CHECK("auxv_clktck", getauxval(AT_CLKTCK) == 100 && sysconf(_SC_CLK_TCK) == 100, "%lu", getauxval(AT_CLKTCK));
	unsigned long hw = getauxval(AT_HWCAP), imafdc = 0;
	for (const char *c = "imafdc"; *c; c++)
		imafdc |= 1UL << (*c - 'a');
	CHECK("auxv_hwcap_imafdc", (hw & imafdc) == imafdc, "%#lx", hw);
	CHECK("auxv_ids", getauxval(AT_UID) == getuid() && getauxval(AT_EUID) == geteuid() &&
	      getauxval(AT_GID) == getgid() && getauxval(AT_EGID) == getegid(), "");
	CHECK("auxv_secure_flags_zero", getauxval(AT_SECURE) == 0 && getauxval(AT_FLAGS) == 0, "");
	const char *fn = (const char *)getauxval(AT_EXECFN);
	CHECK("auxv_execfn", fn && !strcmp(fn, argv[0]), "%s vs %s", fn ? fn : "(null)", argv[0]);
	errno = 0;
	unsigned long mss = getauxval(AT_MINSIGSTKSZ);
	if (!mss && !in_ember)
		SKIP("auxv_minsigstksz", "this qemu-user gives no AT_MINSIGSTKSZ");
	else
		CHECK("auxv_minsigstksz", mss >= 256 && mss <= MINSIGSTKSZ * 4, "%lu", mss);
	/* the vector follows envp's NULL on the initial stack */
	extern char **environ;
	char **e = environ;
	while (*e)
		e++;
	ElfW(auxv_t) *av = (ElfW(auxv_t) *)(e + 1);
	int seen = 0;
	for (; av->a_type != AT_NULL && seen < 100; av++, seen++)
		if (av->a_type == AT_PHDR && av->a_un.a_val != (uintptr_t)si.ph)
			seen = 1000;
	CHECK("auxv_after_envp", seen > 10 && seen < 100, "%d entries", seen);
}

/* ---- PT_TLS: initialized and zeroed thread-local data, per thread ---- */

static __thread int tls_data = 1234;
static __thread long tls_bss[64];

static void *tls_thread(void *arg)
{
	(void)arg;
	bool ok = tls_data == 1234 && tls_bss[63] == 0;
	tls_data = 99;
	tls_bss[63] = 7;
	return (void *)(uintptr_t)ok;
}

static void test_tls(void)
{
	tls_data = 5;
	tls_bss[63] = 3;
	pthread_t t;
	void *ok = NULL;
	pthread_create(&t, NULL, tls_thread, NULL);
	pthread_join(t, &ok);
	CHECK("tls_fresh_per_thread", ok && tls_data == 5 && tls_bss[63] == 3, "main %d/%ld", tls_data, tls_bss[63]);
}

/* ---- PT_GNU_STACK ---- */

static void test_stack_exec(void)
{
	/* our own stack is not executable (PT_GNU_STACK RW, as gcc links it) */
	pid_t pid = fork();
	if (pid == 0)
		_exit(call_on_stack());
	int st;
	waitpid(pid, &st, 0);
	CHECK("stack_not_executable", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status %#x", st);
	if (!can_exec) {
		SKIP("stack_executable_with_pf_x", "the host cannot execve a riscv64 binary (no binfmt_misc)");
		return;
	}
	/* a copy of ourselves whose PT_GNU_STACK says PF_X */
	int in = open(self, O_RDONLY);
	struct stat sb;
	fstat(in, &sb);
	char *img = malloc(sb.st_size);
	bool rd = read(in, img, sb.st_size) == sb.st_size;
	close(in);
	ElfW(Ehdr) *eh = (ElfW(Ehdr) *)img;
	ElfW(Phdr) *ph = (ElfW(Phdr) *)(img + eh->e_phoff);
	bool found = false;
	for (int i = 0; rd && i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_GNU_STACK) {
			ph[i].p_flags |= PF_X;
			found = true;
		}
	char *copy = path_in("execstack");
	write_file(copy, img, sb.st_size, 0755);
	free(img);
	st = run(copy, (char *[]){ copy, NULL }, (char *[]){ "EXEC_TEST_MODE=stack", NULL });
	CHECK("stack_executable_with_pf_x", found && exited_with(st, 0), "status %#x", st);
}

/* ---- the new image ---- */

static bool child_info_of(const char *path, char *argv0, struct child_info *ci)
{
	int p[2];
	if (pipe(p))
		return false;
	char env[64];
	snprintf(env, sizeof(env), "EXEC_TEST_FD=%d", p[1]);
	int st = run(path, (char *[]){ argv0, NULL }, (char *[]){ "EXEC_TEST_MODE=info", env, NULL });
	close(p[1]);
	bool ok = exited_with(st, 0) && read(p[0], ci, sizeof(*ci)) == sizeof(*ci);
	close(p[0]);
	return ok;
}

static void test_new_image(void)
{
	if (!can_exec) {
		SKIP("exec_new_image", "the host cannot execve a riscv64 binary (no binfmt_misc)");
		return;
	}
	struct child_info a, b;
	/* a relative path through a symlink: AT_EXECFN is the string execve got */
	char *link = path_in("self-link");
	unlink(link);
	symlink(self, link);
	char cwd[PATHLEN];
	getcwd(cwd, sizeof(cwd));
	chdir(dir);
	bool oka = child_info_of("./self-link", "argv0-differs", &a);
	chdir(cwd);
	bool okb = child_info_of(self, self, &b);
	CHECK("exec_child_runs", oka && okb, "");
	CHECK("exec_execfn_is_path_given", oka && !strcmp(a.execfn, "./self-link"), "%s", a.execfn);
	CHECK("exec_random_differs", oka && okb && memcmp(a.random, b.random, 16), "");
	struct self_image si = self_image();
	if (si.interp || si.bias) {
		CHECK("pie_base_randomized", oka && okb && a.main_addr != b.main_addr, "%#lx", (unsigned long)a.main_addr);
	}
	if (in_ember) {
		/* Ember's layout (kernel/exec.c): programs and their heap below 2 GiB, mmap area high */
		CHECK("ember_brk_below_2gib", oka && a.brk < TWO_GIB && a.main_addr < TWO_GIB, "brk %#lx", (unsigned long)a.brk);
		CHECK("ember_loader_high", !si.interp || (a.base > TWO_GIB), "base %#lx", (unsigned long)a.base);
	}
	if (si.interp) {
		/* the loader run as a program (ET_DYN without PT_INTERP) loads us itself */
		int st = run(si.interp, (char *[]){ (char *)si.interp, self, NULL }, (char *[]){ "EXEC_TEST_MODE=loader", NULL });
		CHECK("exec_loader_as_program", exited_with(st, EXIT_LOADER), "status %#x", st);
	}
}

/* ---- the mappings a dynamic loader makes (glibc's _dl_map_segments, musl's map_library) ---- */

static bool segv_at_access(volatile char *p, bool write)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

static bool segv_at(volatile char *p) { return segv_at_access(p, false); }

static void test_loader_mmap(void)
{
	enum { FILE_LEN = 3 * PG + 100 };
	static char data[FILE_LEN];
	for (int i = 0; i < FILE_LEN; i++)
		data[i] = (char)(i % 251 + 1);
	char *path = strdup(path_in("lib.so"));
	write_file(path, data, FILE_LEN, 0755);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	/* a reservation for the whole span, then each segment MAP_FIXED over it */
	char *base = mmap(NULL, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *text = mmap(base, 2 * PG, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0);
	char *rw = mmap(base + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 2 * PG);
	char *bss = mmap(base + 4 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
	CHECK("loader_reserve_then_fixed", base != MAP_FAILED && text == base && rw == base + 2 * PG && bss == base + 4 * PG,
	      "errno=%d", errno);
	if (text != base || rw != base + 2 * PG || bss != base + 4 * PG) {
		close(fd);
		free(path);
		return;
	}
	CHECK("loader_text_is_file", !memcmp(text, data, 2 * PG), "");
	CHECK("loader_data_is_file", !memcmp(rw, data + 2 * PG, FILE_LEN - 2 * PG), "");
	bool tail_zero = true;
	for (int i = FILE_LEN - 2 * PG; i < PG * 2; i++)
		tail_zero &= rw[i] == 0;
	CHECK("loader_partial_page_zero_past_eof", tail_zero, "");
	/* the loader zeroes the bss part of the last file page itself, then uses the bss */
	memset(rw + 500, 0, PG - 500);
	rw[PG + 10] = 'x';
	bss[5] = 'y';
	char back[16];
	pread(fd, back, sizeof(back), 2 * PG + 500);
	CHECK("loader_private_write_keeps_file", !memcmp(back, data + 2 * PG + 500, sizeof(back)) && bss[5] == 'y' &&
	      bss[PG] == 0, "");
	CHECK("loader_mprotect_relro", mprotect(rw, PG, PROT_READ) == 0 && rw[600] == 0, "errno=%d", errno);
	CHECK("loader_hole_stays_reserved", segv_at(base + 6 * PG) && segv_at(base + 7 * PG), "");
	CHECK("loader_text_not_writable", segv_at_access(text + 8, true) && !segv_at(text + 8), "");
	CHECK("loader_mprotect_text_readonly", mprotect(text, PG, PROT_READ) == 0 && text[9] == data[9], "");
	pid_t pid = fork();
	if (pid == 0) {
		rw[PG + 10] = 'c';
		_exit(rw[PG + 10] == 'c' ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK("loader_data_cow_across_fork", exited_with(st, 0) && rw[PG + 10] == 'x', "");
	struct stat sb;
	char small[8];
	CHECK("loader_fstat_pread", fstat(fd, &sb) == 0 && sb.st_size == FILE_LEN &&
	      pread(fd, small, sizeof(small), 64) == sizeof(small) && !memcmp(small, data + 64, sizeof(small)), "");
	CHECK("loader_munmap_span", munmap(base, 8 * PG) == 0, "errno=%d", errno);
	close(fd);
	unlink(path);
	free(path);
}

/* ---- #! scripts ---- */

static void script(const char *name, const char *first_line)
{
	char buf[PATHLEN + 64];
	int n = snprintf(buf, sizeof(buf), "%s\nthis line is never read\n", first_line);
	write_file(path_in(name), buf, n, 0755);
}

static void expect_argv(const char *name, const char *path, char *const argv[], const char *want)
{
	char env[4096];
	snprintf(env, sizeof(env), "EXEC_TEST_EXPECT=%s", want);
	int st = run(path, argv, (char *[]){ "EXEC_TEST_MODE=argv", env, NULL });
	CHECK(name, exited_with(st, EXIT_ARGV_OK), "status %#x", st);
}

static void test_scripts(void)
{
	char line[PATHLEN + 64], want[4096];
	/* path_in's buffers rotate: keep our own copies */
	char *s_arg = strdup(path_in("s-arg")), *s_plain = strdup(path_in("s-plain"));
	char *s_blanks = strdup(path_in("s-blanks")), *s_nested = strdup(path_in("s-nested"));
	snprintf(line, sizeof(line), "#!%s  one arg with  spaces \t", self);
	script("s-arg", line);
	snprintf(line, sizeof(line), "#!%s", self);
	script("s-plain", line);
	snprintf(line, sizeof(line), "#! \t%s\t ", self);
	script("s-blanks", line);
	snprintf(line, sizeof(line), "#!%s nested", s_arg);      /* a script naming a script */
	script("s-nested", line);
	/* a chain: chain1 -> self, chainN -> chain(N-1) */
	for (int i = 1; i <= 6; i++) {
		char name[16], prev[16];
		snprintf(name, sizeof(name), "chain%d", i);
		snprintf(prev, sizeof(prev), "chain%d", i - 1);
		snprintf(line, sizeof(line), "#!%s", i == 1 ? self : path_in(prev));
		script(name, line);
	}
	if (can_exec) {
		snprintf(want, sizeof(want), "%s|one arg with  spaces|%s|a1|a2", self, s_arg);
		expect_argv("script_with_arg", s_arg, (char *[]){ "ignored-argv0", "a1", "a2", NULL }, want);
		snprintf(want, sizeof(want), "%s|%s|a1", self, s_plain);
		expect_argv("script_without_arg", s_plain, (char *[]){ "x", "a1", NULL }, want);
		snprintf(want, sizeof(want), "%s|%s", self, s_blanks);
		expect_argv("script_blanks_trimmed", s_blanks, (char *[]){ "x", NULL }, want);
		snprintf(want, sizeof(want), "%s|one arg with  spaces|%s|nested|%s|a1", self, s_arg, s_nested);
		expect_argv("script_nested", s_nested, (char *[]){ "x", "a1", NULL }, want);
		char *c5 = strdup(path_in("chain5"));
		snprintf(want, sizeof(want), "%s|%s|%s|%s|%s|%s", self, path_in("chain1"), path_in("chain2"),
			 path_in("chain3"), path_in("chain4"), c5);
		expect_argv("script_chain_of_5_runs", c5, (char *[]){ c5, NULL }, want);
		expect_argv("exec_empty_argv_gets_empty_argv0", self, (char *[]){ NULL }, "");
		free(c5);
	} else {
		SKIP("script_argv", "the host cannot execve a riscv64 binary (no binfmt_misc)");
	}
	expect_errno("script_chain_of_6_eloop", path_in("chain6"), ELOOP);
	script("s-missing", "#!/no/such/interpreter arg");
	expect_errno("script_missing_interp_enoent", path_in("s-missing"), ENOENT);
	snprintf(line, sizeof(line), "#!%s", dir);
	script("s-dir", line);
	expect_errno("script_interp_directory_eacces", path_in("s-dir"), EACCES);
	write_file(path_in("noexec-interp"), "#!/bin/true\n", 12, 0644);
	snprintf(line, sizeof(line), "#!%s", path_in("noexec-interp"));
	script("s-noexec", line);
	expect_errno("script_interp_not_executable_eacces", path_in("s-noexec"), EACCES);
	script("s-empty", "#!");
	expect_errno("script_no_interp_enoexec", path_in("s-empty"), ENOEXEC);
	script("s-blank", "#!   \t ");
	expect_errno("script_blank_interp_enoexec", path_in("s-blank"), ENOEXEC);
	/* an interpreter path longer than the 256 bytes execve looks at */
	char longline[400] = "#!/";
	memset(longline + 3, 'a', 300);
	longline[303] = 0;
	write_file(path_in("s-long"), longline, strlen(longline), 0755);
	expect_errno("script_truncated_interp_enoexec", path_in("s-long"), ENOEXEC);
	free(s_arg);
	free(s_plain);
	free(s_blanks);
	free(s_nested);
}

/* ---- execve's errors ---- */

static void test_errors(void)
{
	write_file(path_in("noexec"), "#!/bin/true\n", 12, 0644);
	expect_errno("exec_without_x_eacces", path_in("noexec"), EACCES);
	expect_errno("exec_directory_eacces", dir, EACCES);
	expect_errno("exec_device_eacces", "/dev/null", EACCES);
	write_file(path_in("empty"), "", 0, 0755);
	expect_errno("exec_empty_enoexec", path_in("empty"), ENOEXEC);
	write_file(path_in("junk"), "MZ\x90\0this is not a program at all", 32, 0755);
	expect_errno("exec_unknown_format_enoexec", path_in("junk"), ENOEXEC);
	expect_errno("exec_missing_enoent", path_in("no-such-file"), ENOENT);
	char notdir[PATHLEN];
	snprintf(notdir, sizeof(notdir), "%s/x", path_in("junk"));
	expect_errno("exec_through_file_enotdir", notdir, ENOTDIR);
	unlink(path_in("loop-a"));
	unlink(path_in("loop-b"));
	symlink(path_in("loop-b"), path_in("loop-a"));
	symlink(path_in("loop-a"), path_in("loop-b"));
	expect_errno("exec_symlink_loop_eloop", path_in("loop-a"), ELOOP);
	/* open for writing: ETXTBSY (the host checks this before the format) */
	char *busy = path_in("busy");
	write_file(busy, "#!/bin/true\n", 12, 0755);
	int w = open(busy, O_WRONLY);
	expect_errno("exec_open_for_write_etxtbsy", busy, ETXTBSY);
	close(w);
	int st = run_simple(busy);
	CHECK("exec_after_writer_closed_not_etxtbsy", !exec_failed_with(st, ETXTBSY), "status %#x", st);
	st = run(self, (char **)1, NULL);
	CHECK("exec_bad_argv_efault", exec_failed_with(st, EFAULT), "status %#x", st);
	st = run(self, (char *[]){ self, (char *)1, NULL }, NULL);
	CHECK("exec_bad_arg_string_efault", exec_failed_with(st, EFAULT), "status %#x", st);
}

/* ---- malformed ELF files ---- */

static uint32_t insn_exit(int code) { return ((uint32_t)code << 20) | 0x513; }   /* addi a0, zero, code */

struct tiny {
	unsigned char b[2 * PG];
	size_t len;
};

/* An ELF that exits with code: one PT_LOAD of the first page, R+X, code at TINY_CODE_OFF. */
static void tiny_elf(struct tiny *t, int type, int code, const char *interp)
{
	memset(t, 0, sizeof(*t));
	ElfW(Ehdr) *eh = (ElfW(Ehdr) *)t->b;
	ElfW(Phdr) *ph = (ElfW(Phdr) *)(t->b + sizeof(*eh));
	uintptr_t vaddr = type == ET_DYN ? 0 : TINY_VADDR;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = type;
	eh->e_machine = EM_RISCV;
	eh->e_version = EV_CURRENT;
	eh->e_entry = vaddr + TINY_CODE_OFF;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph[0] = (ElfW(Phdr)){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0, .p_vaddr = vaddr,
			      .p_paddr = vaddr, .p_filesz = PG, .p_memsz = PG, .p_align = PG };
	uint32_t insns[3] = { insn_exit(code), (93u << 20) | 0x893, 0x73 };   /* li a7, 93; ecall */
	memcpy(t->b + TINY_CODE_OFF, insns, sizeof(insns));
	if (interp) {
		ph[1] = ph[0];
		ph[0] = (ElfW(Phdr)){ .p_type = PT_INTERP, .p_flags = PF_R, .p_offset = TINY_INTERP_OFF,
				      .p_vaddr = vaddr + TINY_INTERP_OFF, .p_filesz = strlen(interp) + 1,
				      .p_memsz = strlen(interp) + 1, .p_align = 1 };
		strcpy((char *)t->b + TINY_INTERP_OFF, interp);
		eh->e_phnum = 2;
	}
	t->len = PG;
}

static ElfW(Ehdr) *tiny_eh(struct tiny *t) { return (ElfW(Ehdr) *)t->b; }
static ElfW(Phdr) *tiny_ph(struct tiny *t) { return (ElfW(Phdr) *)(t->b + sizeof(ElfW(Ehdr))); }
static ElfW(Phdr) *tiny_load(struct tiny *t) { return &tiny_ph(t)[tiny_eh(t)->e_phnum - 1]; }

static void put(const char *name, struct tiny *t) { write_file(path_in(name), t->b, t->len, 0755); }

static void test_malformed(void)
{
	if (!in_ember) {
		SKIP("malformed_elf", "Linux's answers come from a riscv64 kernel's binfmt_elf, not qemu-user");
		return;
	}
	struct tiny t;
	int st;
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	put("tiny", &t);
	st = run_simple(path_in("tiny"));
	CHECK("tiny_exec_runs", exited_with(st, EXIT_TINY), "status %#x", st);
	tiny_elf(&t, ET_DYN, EXIT_TINY, NULL);
	put("tiny-pie", &t);
	st = run_simple(path_in("tiny-pie"));
	CHECK("tiny_pie_runs", exited_with(st, EXIT_TINY), "status %#x", st);

	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	t.len = 40;
	put("trunc-ehdr", &t);
	expect_errno("truncated_header_enoexec", path_in("trunc-ehdr"), ENOEXEC);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	t.len = sizeof(ElfW(Ehdr)) + 20;
	put("trunc-phdr", &t);
	expect_errno("truncated_phdrs_enoexec", path_in("trunc-phdr"), ENOEXEC);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_eh(&t)->e_phoff = 1 << 20;
	put("phoff-beyond", &t);
	expect_errno("phoff_beyond_eof_enoexec", path_in("phoff-beyond"), ENOEXEC);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_eh(&t)->e_phentsize = 32;
	put("phentsize", &t);
	expect_errno("bad_phentsize_enoexec", path_in("phentsize"), ENOEXEC);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_eh(&t)->e_phnum = 0;
	put("phnum0", &t);
	expect_errno("zero_phnum_enoexec", path_in("phnum0"), ENOEXEC);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_eh(&t)->e_phnum = 200;           /* more than a page of headers */
	t.len = sizeof(t.b);
	put("phnum200", &t);
	expect_errno("too_many_phdrs_enoexec", path_in("phnum200"), ENOEXEC);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_eh(&t)->e_machine = EM_X86_64;
	put("x86", &t);
	expect_errno("wrong_machine_enoexec", path_in("x86"), ENOEXEC);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_eh(&t)->e_ident[EI_CLASS] = ELFCLASS32;
	put("class32", &t);
	expect_errno("elfclass32_enoexec", path_in("class32"), ENOEXEC);
	tiny_elf(&t, ET_REL, EXIT_TINY, NULL);
	put("rel", &t);
	expect_errno("relocatable_enoexec", path_in("rel"), ENOEXEC);

	/* two segments on the same page: the later one wins, as with Linux's MAP_FIXED */
	tiny_elf(&t, ET_EXEC, 1, NULL);
	ElfW(Phdr) *ph = tiny_ph(&t);
	ph[1] = ph[0];
	ph[1].p_offset = PG;
	tiny_eh(&t)->e_phnum = 2;
	uint32_t insns[3] = { insn_exit(EXIT_TINY), (93u << 20) | 0x893, 0x73 };
	memcpy(t.b + PG + TINY_CODE_OFF, insns, sizeof(insns));
	t.len = 2 * PG;
	put("overlap", &t);
	st = run_simple(path_in("overlap"));
	CHECK("overlapping_segments_later_wins", exited_with(st, EXIT_TINY), "status %#x", st);

	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_load(&t)->p_memsz = 1UL << 46;      /* beyond any address space */
	put("huge-memsz", &t);
	expect_refused("huge_memsz_refused", path_in("huge-memsz"), ENOMEM, EINVAL);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_load(&t)->p_memsz = ~0UL - PG;      /* vaddr + memsz wraps */
	put("wrap-memsz", &t);
	expect_refused("wrapping_memsz_refused", path_in("wrap-memsz"), ENOMEM, EINVAL);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_load(&t)->p_filesz = 2 * PG;        /* more file than memory */
	put("filesz", &t);
	expect_refused("filesz_over_memsz_refused", path_in("filesz"), ENOEXEC, EINVAL);
	tiny_elf(&t, ET_EXEC, EXIT_TINY, NULL);
	tiny_load(&t)->p_offset = 100;           /* offset and vaddr disagree modulo the page */
	put("misaligned", &t);
	expect_refused("misaligned_offset_refused", path_in("misaligned"), ENOEXEC, EINVAL);

	/* interpreters */
	tiny_elf(&t, ET_EXEC, 7, "/no/such/ld.so");
	put("interp-missing", &t);
	expect_errno("interp_missing_enoent", path_in("interp-missing"), ENOENT);
	tiny_elf(&t, ET_EXEC, 7, "/no/such/ld.so");
	tiny_ph(&t)[0].p_filesz = 1;
	put("interp-short", &t);
	expect_errno("interp_path_too_short_enoexec", path_in("interp-short"), ENOEXEC);
	tiny_elf(&t, ET_EXEC, 7, "/no/such/ld.so");
	tiny_ph(&t)[0].p_filesz = 5;             /* "/no/s" without its NUL */
	put("interp-nonul", &t);
	expect_errno("interp_path_unterminated_enoexec", path_in("interp-nonul"), ENOEXEC);
	write_file(path_in("ld-script"), "#!/bin/true\n# not an ELF loader, long enough to be read: 64 bytes...\n", 70, 0755);
	tiny_elf(&t, ET_EXEC, 7, path_in("ld-script"));
	put("interp-notelf", &t);
	expect_errno("interp_not_elf_elibbad", path_in("interp-notelf"), ELIBBAD);
	write_file(path_in("ld-tiny"), "\177ELF\2\1\1", 7, 0755);
	tiny_elf(&t, ET_EXEC, 7, path_in("ld-tiny"));
	put("interp-trunc", &t);
	expect_errno("interp_truncated_eio", path_in("interp-trunc"), EIO);
	tiny_elf(&t, ET_DYN, EXIT_TINY, NULL);
	tiny_eh(&t)->e_machine = EM_X86_64;
	put("ld-x86", &t);
	tiny_elf(&t, ET_EXEC, 7, path_in("ld-x86"));
	put("interp-x86", &t);
	expect_errno("interp_wrong_machine_elibbad", path_in("interp-x86"), ELIBBAD);
	write_file(path_in("ld-noexec"), t.b, PG, 0644);
	tiny_elf(&t, ET_EXEC, 7, path_in("ld-noexec"));
	put("interp-noexec", &t);
	expect_errno("interp_not_executable_eacces", path_in("interp-noexec"), EACCES);
	/* an interpreter with an interpreter of its own: Linux ignores the second PT_INTERP and runs
	 * the first interpreter (exit 42), never the program (exit 7) */
	tiny_elf(&t, ET_DYN, EXIT_TINY, "/no/such/second/ld.so");
	put("ld-with-interp", &t);
	tiny_elf(&t, ET_EXEC, 7, path_in("ld-with-interp"));
	put("interp-chain", &t);
	st = run_simple(path_in("interp-chain"));
	CHECK("interp_with_interp_runs_first_interp", exited_with(st, EXIT_TINY), "status %#x", st);
}

/* Random bytes written over the headers of a working ELF: whatever execve makes of each (an error,
 * a run, a fatal signal), the kernel survives and the test goes on. alarm() survives execve and
 * ends a mutant that loops. */
#define MUTANTS 300
#define MUTANT_SECONDS 5

static void test_mutants(void)
{
	if (!in_ember) {
		SKIP("mutated_headers", "aimed at Ember's loader; qemu-user's is not Linux's");
		return;
	}
	struct tiny t;
	uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	int ran = 0, refused = 0, killed = 0, other = 0;
	char *path = strdup(path_in("mutant"));
	for (int i = 0; i < MUTANTS; i++) {
		tiny_elf(&t, i % 2 ? ET_DYN : ET_EXEC, EXIT_TINY, i % 3 == 0 ? "/no/such/ld.so" : NULL);
		size_t span = sizeof(ElfW(Ehdr)) + 2 * sizeof(ElfW(Phdr));
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			t.b[(seed >> 33) % span] = (unsigned char)(seed >> 17);
		}
		write_file(path, t.b, t.len, 0755);
		pid_t pid = fork();
		if (pid == 0) {
			alarm(MUTANT_SECONDS);
			execve(path, (char *[]){ path, NULL }, (char *[]){ NULL });
			_exit(EXIT_EXEC_FAILED + errno);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) >= EXIT_EXEC_FAILED)
			refused++;
		else if (WIFEXITED(st))
			ran++;
		else if (WIFSIGNALED(st))
			killed++;
		else
			other++;
	}
	unlink(path);
	free(path);
	printf("mutants: %d ran, %d refused, %d killed, %d other\n", ran, refused, killed, other);
	CHECK("mutated_headers_survived", ran + refused + killed == MUTANTS && refused > 0, "");
}

int main(int argc, char **argv)
{
	const char *mode = getenv("EXEC_TEST_MODE");
	if (mode)
		return child_main(mode, argc, argv);
	struct utsname u;
	in_ember = uname(&u) == 0 && strstr(u.release, "ember");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		strncpy(self, argv[0], sizeof(self) - 1);
	if (self[0] != '/') {         /* keep an absolute path: scripts name it */
		char cwd[PATHLEN / 2], rel[PATHLEN / 2 - 1];
		memcpy(rel, self, sizeof(rel) - 1);
		rel[sizeof(rel) - 1] = 0;
		snprintf(self, sizeof(self), "%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : "", rel);
	}
	snprintf(dir, sizeof(dir), "/tmp/exec-test-XXXXXX");
	if (!mkdtemp(dir)) {
		printf("cannot make a directory in /tmp: %s\n", strerror(errno));
		return 1;
	}
	int st = run(self, (char *[]){ self, NULL }, (char *[]){ "EXEC_TEST_MODE=probe", NULL });
	can_exec = exited_with(st, EXIT_PROBE);
	if (!can_exec)
		CHECK("probe_fails_only_with_enoexec", exec_failed_with(st, ENOEXEC) && !in_ember, "status %#x", st);
	test_auxv(argv);
	test_tls();
	test_stack_exec();
	test_new_image();
	test_loader_mmap();
	test_scripts();
	test_errors();
	test_malformed();
	test_mutants();
	/* clean up the scratch directory */
	const char *names[] = { "execstack", "self-link", "s-arg", "s-plain", "s-blanks", "s-nested", "chain1",
		"chain2", "chain3", "chain4", "chain5", "chain6", "s-missing", "s-dir", "noexec-interp", "s-noexec",
		"s-empty", "s-blank", "s-long", "noexec", "empty", "junk", "loop-a", "loop-b", "busy", "tiny",
		"tiny-pie", "trunc-ehdr", "trunc-phdr", "phoff-beyond", "phentsize", "phnum0", "phnum200", "x86",
		"class32", "rel", "overlap", "huge-memsz", "wrap-memsz", "filesz", "misaligned", "interp-missing",
		"interp-short", "interp-nonul", "ld-script", "interp-notelf", "ld-tiny", "interp-trunc", "ld-x86",
		"interp-x86", "ld-noexec", "interp-noexec", "ld-with-interp", "interp-chain" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(path_in(names[i]));
	rmdir(dir);
	return t_finish();
}
