/*
 * execve: load a static ELF64 RISC-V executable (ET_EXEC, or ET_DYN without an interpreter, i.e.
 * static-pie) into a fresh address space and build the initial stack the Linux ABI promises:
 *   argc | argv[] NULL | envp[] NULL | auxv (AT_*) AT_NULL | ... strings, 16 random bytes
 * with sp 16-byte aligned at argc. Segments are copied into anonymous private memory (programs are
 * small and this keeps page faults simple); bss is what the fresh zeroed pages already hold.
 * The old address space is dropped only once the new one is complete: a failing exec returns an
 * error to a process that is still intact.
 */
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "kernel/proc.h"
#include "kernel/random.h"
#include "kernel/signal.h"
#include "lib/string.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"
#include "fs/fs.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/trap.h"

#define EI_NIDENT 16
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_RISCV 243
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_PHDR 6
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define MAX_PHDRS 32
#define ET_DYN_BASE 0x2aaaaaa000UL
#define EXEC_CHUNK 65536

#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31
#define HWCAP_IMAFDC ((1UL << ('i' - 'a')) | (1UL << ('m' - 'a')) | (1UL << ('a' - 'a')) | \
		      (1UL << ('f' - 'a')) | (1UL << ('d' - 'a')) | (1UL << ('c' - 'a')))
#define CLK_TCK 100
#define AUXV_MAX 40

struct elf64_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static int prot_of(uint32_t pf)
{
	return (pf & PF_R ? PROT_READ : 0) | (pf & PF_W ? PROT_WRITE : 0) | (pf & PF_X ? PROT_EXEC : 0);
}

/* Copy file bytes [off, off+len) to user address va of mm. */
static int copy_segment(struct mm *mm, struct file *f, uint64_t off, uintptr_t va, uint64_t len, void *buf)
{
	while (len) {
		size_t n = MIN(len, (uint64_t)EXEC_CHUNK);
		long got = kernel_read(f, buf, n, off);
		if (got != (long)n)
			return -ENOEXEC;
		if (mm_write(mm, va, buf, n) < 0)
			return -ENOMEM;
		off += n;
		va += n;
		len -= n;
	}
	return 0;
}

struct stack_builder {
	struct mm *mm;
	uintptr_t sp;
};

static uintptr_t push_bytes(struct stack_builder *sb, const void *p, size_t n)
{
	sb->sp -= n;
	return mm_write(sb->mm, sb->sp, p, n) < 0 ? 0 : sb->sp;
}

static int count_strings(char *const v[]) { int n = 0; while (v && v[n]) n++; return n; }

long do_execve(const char *path, char *const argv[], char *const envp[])
{
	int err = 0;
	struct file *f = kernel_open(path, 0, &err);
	if (!f)
		return err ? err : -ENOENT;
	long r = -ENOEXEC;
	struct mm *mm = NULL;
	void *buf = NULL;
	struct elf64_ehdr eh;
	struct elf64_phdr ph[MAX_PHDRS];
	if ((r = file_exec_check(f)) < 0)                /* a regular file with x, not on noexec */
		goto out;
	r = -ENOEXEC;
	if (kernel_read(f, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.ident, "\177ELF", 4) ||
	    eh.ident[4] != ELFCLASS64 || eh.ident[5] != ELFDATA2LSB || eh.machine != EM_RISCV ||
	    (eh.type != ET_EXEC && eh.type != ET_DYN) || eh.phentsize != sizeof(struct elf64_phdr) ||
	    eh.phnum == 0 || eh.phnum > MAX_PHDRS)
		goto out;
	if (kernel_read(f, ph, eh.phnum * sizeof(ph[0]), eh.phoff) != (long)(eh.phnum * sizeof(ph[0])))
		goto out;
	uintptr_t bias = eh.type == ET_DYN ? ET_DYN_BASE : 0, phdr_addr = 0, brk = 0;
	for (int i = 0; i < eh.phnum; i++)
		if (ph[i].type == PT_INTERP)
			goto out;       /* no dynamic loader: static binaries only */
	r = -ENOMEM;
	mm = mm_create();
	buf = kmalloc(EXEC_CHUNK);
	if (!mm || !buf)
		goto out;
	for (int i = 0; i < eh.phnum; i++) {
		struct elf64_phdr *p = &ph[i];
		if (p->type == PT_PHDR)
			phdr_addr = p->vaddr + bias;
		if (p->type != PT_LOAD || p->memsz == 0)
			continue;
		uintptr_t va = p->vaddr + bias;
		uintptr_t start = ALIGN_DOWN(va, PAGE_SIZE), end = ALIGN_UP(va + p->memsz, PAGE_SIZE);
		if (p->filesz > p->memsz || end > USER_MMAP_TOP || start < USER_MIN_ADDR) {
			r = -ENOEXEC;
			goto out;
		}
		r = mm_map(mm, start, end - start, prot_of(p->flags), MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
		if (r < 0)
			goto out;
		r = copy_segment(mm, f, p->offset, va, p->filesz, buf);
		if (r < 0)
			goto out;
		if (!phdr_addr && eh.phoff >= p->offset && eh.phoff < p->offset + p->filesz)
			phdr_addr = va + (eh.phoff - p->offset);
		brk = MAX(brk, end);
	}
	mm->brk_start = mm->brk = brk;

	/* the stack: strings first (top), then the pointer arrays */
	r = mm_map(mm, USER_STACK_TOP - USER_STACK_MAX, USER_STACK_MAX, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	if (r < 0)
		goto out;
	mm_map_sigpage(mm);
	struct stack_builder sb = { mm, USER_STACK_TOP };
	int argc = count_strings(argv), envc = count_strings(envp);
	uintptr_t *uargv = kmalloc((argc + envc + 2) * sizeof(uintptr_t));
	if (!uargv)
		goto out;
	uintptr_t execfn = push_bytes(&sb, path, strlen(path) + 1);
	for (int i = argc - 1; i >= 0; i--)
		uargv[i] = push_bytes(&sb, argv[i], strlen(argv[i]) + 1);
	for (int i = envc - 1; i >= 0; i--)
		uargv[argc + 1 + i] = push_bytes(&sb, envp[i], strlen(envp[i]) + 1);
	uint8_t rnd[16];
	get_random_bytes(rnd, sizeof(rnd));
	uintptr_t urandom = push_bytes(&sb, rnd, sizeof(rnd));
	uargv[argc] = 0;
	uargv[argc + 1 + envc] = 0;
	uint64_t auxv[AUXV_MAX];
	int na = 0;
#define AUX(k, v) do { auxv[na++] = (k); auxv[na++] = (v); } while (0)
	AUX(AT_PHDR, phdr_addr);
	AUX(AT_PHENT, sizeof(struct elf64_phdr));
	AUX(AT_PHNUM, eh.phnum);
	AUX(AT_PAGESZ, PAGE_SIZE);
	AUX(AT_BASE, 0);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, eh.entry + bias);
	AUX(AT_UID, 0);
	AUX(AT_EUID, 0);
	AUX(AT_GID, 0);
	AUX(AT_EGID, 0);
	AUX(AT_HWCAP, HWCAP_IMAFDC);
	AUX(AT_CLKTCK, CLK_TCK);
	AUX(AT_SECURE, 0);
	AUX(AT_RANDOM, urandom);
	AUX(AT_EXECFN, execfn);
	AUX(AT_NULL, 0);
#undef AUX
	size_t words = 1 + (argc + 1) + (envc + 1) + na;
	sb.sp = ALIGN_DOWN(sb.sp - words * sizeof(uint64_t), 16);
	uintptr_t sp = sb.sp;
	uint64_t argc64 = (uint64_t)argc;
	bool ok = execfn && urandom && mm_write(mm, sp, &argc64, 8) == 0 &&
		  mm_write(mm, sp + 8, uargv, (argc + envc + 2) * sizeof(uintptr_t)) == 0 &&
		  mm_write(mm, sp + 8 + (argc + envc + 2) * sizeof(uintptr_t), auxv, na * sizeof(uint64_t)) == 0;
	for (int i = 0; i < argc + envc + 2 && ok; i++)
		ok = (i == argc || i == argc + envc + 1) || uargv[i];
	kfree(uargv);
	if (!ok) {
		r = -E2BIG;
		goto out;
	}

	/* point of no return: switch to the new image */
	struct thread *t = current;
	struct proc *p = t->proc;
	struct mm *old = t->mm;
	intr_off();
	t->mm = mm;
	mm_activate(mm);
	intr_on();
	if (old)
		mm_put(old);
	mm = NULL;
	files_close_on_exec(t->files);
	signal_exec_reset(p->sighand);
	if (fs_realpath(path, p->exe, sizeof(p->exe)) < 0)
		strlcpy(p->exe, path, sizeof(p->exe));
	const char *base = path;
	for (const char *s = path; *s; s++)
		if (*s == '/')
			base = s + 1;
	strlcpy(p->comm, base, sizeof(p->comm));
	strlcpy(t->name, base, sizeof(t->name));
	t->altstack_sp = 0;
	t->altstack_size = 0;
	memset(t->fp, 0, sizeof(*t->fp));
	t->fp_cpu = -1;
	struct trapframe *tf = thread_tf(t);
	memset(tf, 0, sizeof(*tf));
	tf->sepc = eh.entry + bias;
	tf->regs[2] = sp;
	tf->scause = 0;
	t->syscall_a0 = (unsigned long)-1;
	r = 0;
out:
	if (mm)
		mm_put(mm);
	if (buf)
		kfree(buf);
	file_put(f);
	return r;
}

/* Copy a NULL-terminated user array of strings into one kernel block. */
static char **copy_strings(uintptr_t uv, char *block, size_t *used, size_t cap, long *err)
{
	int n = 0;
	uintptr_t p;
	char **vec = NULL;
	if (!uv) {
		vec = kzalloc(sizeof(char *));
		return vec;
	}
	for (;; n++) {
		if (copy_from_user(&p, uv + n * sizeof(p), sizeof(p)) < 0) {
			*err = -EFAULT;
			return NULL;
		}
		if (!p)
			break;
		if (n > (int)(cap / 2)) {
			*err = -E2BIG;
			return NULL;
		}
	}
	vec = kmalloc((n + 1) * sizeof(char *));
	if (!vec) {
		*err = -ENOMEM;
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		if (copy_from_user(&p, uv + i * sizeof(p), sizeof(p)) < 0) {
			*err = -EFAULT;
			kfree(vec);
			return NULL;
		}
		long len = strncpy_from_user(block + *used, p, cap - *used);
		if (len < 0) {
			*err = len == -ENAMETOOLONG ? -E2BIG : len;
			kfree(vec);
			return NULL;
		}
		vec[i] = block + *used;
		*used += len + 1;
	}
	vec[n] = NULL;
	return vec;
}

long sys_execve(uintptr_t upath, uintptr_t uargv, uintptr_t uenvp)
{
	char *block = alloc_pages(5, 0);     /* 128 KiB: ARG_MAX_BYTES */
	char *path = kmalloc(PROC_PATH_MAX);
	long err = 0;
	char **argv = NULL, **envp = NULL;
	size_t used = 0;
	if (!block || !path) {
		err = -ENOMEM;
		goto out;
	}
	long n = strncpy_from_user(path, upath, PROC_PATH_MAX);
	if (n < 0) {
		err = n;
		goto out;
	}
	argv = copy_strings(uargv, block, &used, ARG_MAX_BYTES, &err);
	if (argv)
		envp = copy_strings(uenvp, block, &used, ARG_MAX_BYTES, &err);
	if (!argv || !envp) {
		err = err ? err : -ENOMEM;
		goto out;
	}
	/* other threads of the process go away first (Linux's de_thread) */
	struct proc *p = current->proc;
	if (p->nthreads > 1)
		proc_kill_other_threads();
	err = do_execve(path, argv, envp);
out:
	if (argv)
		kfree(argv);
	if (envp)
		kfree(envp);
	if (path)
		kfree(path);
	if (block)
		free_pages(block, 5);
	if (err == 0)
		return (long)thread_tf(current)->regs[10];   /* a0 of the new image: 0 */
	return err;
}
