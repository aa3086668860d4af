/*
 * execve: turn the calling process into a new program, as Linux's fs/exec.c, binfmt_script.c and
 * binfmt_elf.c do.
 *
 * Theory. The path names a file that must be a regular file with an execute bit (EACCES
 * otherwise, also for directories and devices) that nobody has open for writing (ETXTBSY). Its
 * first BINPRM_BUF_SIZE bytes pick the format:
 *   "#!interp [arg]"  a script: argv becomes interp, arg (one, optional, spaces inside kept),
 *                     the script's path, argv[1..]; then the interpreter is exec'ed the same way.
 *                     Scripts may name scripts, up to MAX_INTERP_DEPTH rewrites (then ELOOP).
 *   "\177ELF"         an ELF64 RISC-V ET_EXEC or ET_DYN (PIE). A PT_INTERP names the dynamic
 *                     loader: it is opened like the program (ENOENT, EACCES ... come back to the
 *                     caller), must be an ELF itself (ELIBBAD otherwise; its own PT_INTERP is
 *                     ignored, as Linux does) and receives control with the auxiliary vector
 *                     telling it where the program is (AT_PHDR, AT_ENTRY, AT_BASE = its own bias).
 *   anything else     ENOEXEC.
 * Images are mapped from the file (kernel/elf.c), the stack gets the strings, 16 random bytes
 * and the vector argc | argv[] NULL | envp[] NULL | auxv AT_NULL with sp 16-byte aligned at argc.
 *
 * Layout. The stack sits under the sigreturn page at the top of the user half, the mmap area
 * below it grows down (the interpreter and shared libraries land there). ET_EXEC programs are
 * linked low (0x10000). A PIE main program goes at PIE_BASE plus a random number of pages: Linux
 * would use 2/3 of the address space (0x2aaaaaa000 on Sv39), but programs that keep the break in
 * an int (the contest's brk test does) need the heap, which follows the image, below 2 GiB.
 * PIE_BASE (~683 MiB) leaves the range under it to ET_EXEC images and over it 1.3 GiB of heap
 * before the break passes 2^31, and the mmap area stays at the top, so mmap never competes with
 * brk for low addresses. Static PIE programs and the loader run as a program get the same base.
 *
 * Failure. Everything that can fail happens on a new mm; the old address space is dropped only
 * once the new one is complete, so a failing exec returns an error to an intact process (Linux
 * kills the process with SIGSEGV for the failures it meets after its point of no return, such as
 * a segment that does not fit).
 *
 * Context: process context of the calling thread (other threads are gone, sys_execve made sure);
 * sleeps in file reads and allocation, holds no spinlock across them.
 */
#include "kernel/cpu.h"
#include "kernel/elf.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "kernel/proc.h"
#include "kernel/random.h"
#include "kernel/script.h"
#include "kernel/signal.h"
#include "lib/string.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"
#include "fs/fs.h"
#include "kernel/vdso.h"
#include "kernel/rlimit.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/trap.h"

#define BINPRM_BUF_SIZE 256              /* Linux's: the bytes a format handler sees */
#define MAX_INTERP_DEPTH 5               /* script rewrites before ELOOP (Linux's exec_binprm) */
#define PIE_BASE 0x2aaaa000UL            /* see "Layout" above */
#define PIE_RANDOM_PAGES 4096UL          /* 16 MiB of randomization, in pages */
#define STACK_MIN (64UL << 10)           /* the smallest stack RLIMIT_STACK can ask for */

/* The main thread's stack: RLIMIT_STACK's soft limit (kernel/rlimit.c), page-aligned, between
 * STACK_MIN and USER_STACK_MAX (the mmap area starts below the largest stack). Linux grows the
 * stack on demand up to the limit; Ember maps it whole at exec, pages arriving at first touch. */
static size_t exec_stack_size(void)
{
	uint64_t lim = rlimit_cur(RLIMIT_STACK);
	return ALIGN_DOWN(MAX(MIN(lim, (uint64_t)USER_STACK_MAX), (uint64_t)STACK_MIN), PAGE_SIZE);
}

#define STACK_STRINGS_MAX (exec_stack_size() / 4)   /* Linux: a quarter of the stack limit */

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
#define AT_SYSINFO_EHDR 33
#define AT_MINSIGSTKSZ 51
#define HWCAP_IMAFDC ((1UL << ('i' - 'a')) | (1UL << ('m' - 'a')) | (1UL << ('a' - 'a')) | \
		      (1UL << ('f' - 'a')) | (1UL << ('d' - 'a')) | (1UL << ('c' - 'a')))
#define CLK_TCK 100
#define AUXV_MAX 48

/* One execve in progress. Strings made by script rewrites live in bufs[] until the end. */
struct binprm {
	const char *execfn;             /* the path execve was given (AT_EXECFN, comm) */
	const char *filename;           /* the file being looked at now */
	struct file *file;              /* open on filename */
	char **argv, **envp;
	int argc, envc;
	char **argv_alloc;              /* argv when a script rewrite made a new one (kfree) */
	char *bufs[MAX_INTERP_DEPTH + 1];
	int nbufs;
	char buf[BINPRM_BUF_SIZE];      /* the file's first bytes, NUL-padded */
};

static int count_strings(char *const v[]) { int n = 0; while (v && v[n]) n++; return n; }

/* Linux's do_open_execat: a regular file with an execute bit, not open for writing. */
static struct file *open_exec(const char *path, int *err)
{
	struct file *f = kernel_open(path, 0, err);
	if (!f)
		return NULL;
	struct inode *ino = f->inode;
	int x = file_exec_check(f);                  /* a regular file with x, not on noexec: EACCES */
	if (x < 0)
		*err = x;
	else if (__atomic_load_n(&ino->writers, __ATOMIC_ACQUIRE) > 0)
		*err = -ETXTBSY;
	if (*err) {
		file_put(f);
		return NULL;
	}
	return f;
}

/* ---- #! scripts (Linux's binfmt_script) ---- */

/* Rewrite bprm for the script in bprm->buf: new argv, filename = the interpreter (not opened). */
static int load_script(struct binprm *bp)
{
	char *i_name, *i_arg;
	int r = script_parse(bp->buf, sizeof(bp->buf), &i_name, &i_arg);
	if (r < 0)
		return r;
	/* the strings outlive bp->buf, which the next round overwrites */
	size_t nlen = strlen(i_name) + 1, alen = i_arg ? strlen(i_arg) + 1 : 0, flen = strlen(bp->filename) + 1;
	char *store = kmalloc(nlen + alen + flen);
	if (!store)
		return -ENOMEM;
	bp->bufs[bp->nbufs++] = store;
	char *name = store, *arg = store + nlen, *script = store + nlen + alen;
	memcpy(name, i_name, nlen);
	if (i_arg)
		memcpy(arg, i_arg, alen);
	memcpy(script, bp->filename, flen);
	/* argv: interp [arg] script argv[1..] (argv[0] is replaced by the script's path) */
	int keep = bp->argc > 0 ? bp->argc - 1 : 0;
	int argc = 1 + (i_arg ? 1 : 0) + 1 + keep;
	char **nv = kmalloc((argc + 1) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	int n = 0;
	nv[n++] = name;
	if (i_arg)
		nv[n++] = arg;
	nv[n++] = script;
	for (int i = 0; i < keep; i++)
		nv[n++] = bp->argv[1 + i];
	nv[n] = NULL;
	if (bp->argv_alloc)
		kfree(bp->argv_alloc);
	bp->argv = bp->argv_alloc = nv;
	bp->argc = argc;
	bp->filename = name;
	return 0;
}

/* ---- the new stack ---- */

struct stack_builder {
	struct mm *mm;
	uintptr_t sp;
	bool failed;
};

static uintptr_t push_bytes(struct stack_builder *sb, const void *p, size_t n)
{
	sb->sp -= n;
	if (mm_write(sb->mm, sb->sp, p, n) < 0)
		sb->failed = true;
	return sb->sp;
}

struct exec_layout {
	struct elf_image prog, interp;
	bool has_interp;
	uint16_t phnum;
	uintptr_t vdso;                 /* the vDSO's ELF header (AT_SYSINFO_EHDR) */
};

/* Strings, random bytes, argc/argv/envp/auxv. Returns sp, or 0 (E2BIG/EFAULT). */
static uintptr_t build_stack(struct mm *mm, struct binprm *bp, const struct exec_layout *lay)
{
	struct stack_builder sb = { mm, USER_STACK_TOP, false };
	size_t total = strlen(bp->execfn) + 1;
	for (int i = 0; i < bp->argc; i++)
		total += strlen(bp->argv[i]) + 1;
	for (int i = 0; i < bp->envc; i++)
		total += strlen(bp->envp[i]) + 1;
	if (total > STACK_STRINGS_MAX)
		return 0;
	uintptr_t *uv = kmalloc((bp->argc + bp->envc + 2) * sizeof(uintptr_t));
	if (!uv)
		return 0;
	/* Linux's order from the top: the file name, envp strings, argv strings */
	uintptr_t execfn = push_bytes(&sb, bp->execfn, strlen(bp->execfn) + 1);
	for (int i = bp->envc - 1; i >= 0; i--)
		uv[bp->argc + 1 + i] = push_bytes(&sb, bp->envp[i], strlen(bp->envp[i]) + 1);
	for (int i = bp->argc - 1; i >= 0; i--)
		uv[i] = push_bytes(&sb, bp->argv[i], strlen(bp->argv[i]) + 1);
	uv[bp->argc] = 0;
	uv[bp->argc + 1 + bp->envc] = 0;
	uint8_t rnd[16];
	get_random_bytes(rnd, sizeof(rnd));
	sb.sp = ALIGN_DOWN(sb.sp, 16);
	uintptr_t urandom = push_bytes(&sb, rnd, sizeof(rnd));

	uint64_t auxv[AUXV_MAX];
	int na = 0;
#define AUX(k, v) do { auxv[na++] = (k); auxv[na++] = (v); } while (0)
	/* Linux's order (create_elf_tables) */
	AUX(AT_HWCAP, HWCAP_IMAFDC);
	AUX(AT_PAGESZ, PAGE_SIZE);
	AUX(AT_CLKTCK, CLK_TCK);
	AUX(AT_PHDR, lay->prog.phdr);
	AUX(AT_PHENT, sizeof(struct elf64_phdr));
	AUX(AT_PHNUM, lay->phnum);
	AUX(AT_BASE, lay->has_interp ? lay->interp.bias : 0);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, lay->prog.entry);
	AUX(AT_UID, 0);
	AUX(AT_EUID, 0);
	AUX(AT_GID, 0);
	AUX(AT_EGID, 0);
	AUX(AT_SECURE, 0);
	AUX(AT_RANDOM, urandom);
	AUX(AT_EXECFN, execfn);
	if (lay->vdso)
		AUX(AT_SYSINFO_EHDR, lay->vdso);
	AUX(AT_MINSIGSTKSZ, signal_frame_size());
	AUX(AT_NULL, 0);
#undef AUX
	size_t words = 1 + (bp->argc + 1) + (bp->envc + 1) + na;
	uintptr_t sp = ALIGN_DOWN(sb.sp - words * sizeof(uint64_t), 16);
	uint64_t argc64 = (uint64_t)bp->argc;
	size_t vec = (bp->argc + bp->envc + 2) * sizeof(uintptr_t);
	bool ok = !sb.failed && mm_write(mm, sp, &argc64, 8) == 0 && mm_write(mm, sp + 8, uv, vec) == 0 &&
		  mm_write(mm, sp + 8 + vec, auxv, na * sizeof(uint64_t)) == 0;
	kfree(uv);
	return ok ? sp : 0;
}

/* ---- ELF programs ---- */

/* The interpreter named by PT_INTERP, opened and checked; *ief filled. */
static int open_interp(struct binprm *bp, const struct elf64_phdr *pi, struct file **out, struct elf_file *ief)
{
	if (pi->filesz < 2 || pi->filesz > ELF_INTERP_PATH_MAX)
		return -ENOEXEC;
	char *path = kmalloc(pi->filesz);
	if (!path)
		return -ENOMEM;
	int err = 0;
	if (kernel_read(bp->file, path, pi->filesz, pi->offset) != (long)pi->filesz)
		err = -EIO;                     /* Linux's elf_read on a short file */
	else if (path[pi->filesz - 1])
		err = -ENOEXEC;                 /* not NUL-terminated */
	struct file *f = err ? NULL : open_exec(path, &err);
	kfree(path);
	if (!f)
		return err;
	if (file_size(f) < sizeof(struct elf64_ehdr))
		err = -EIO;
	else if ((err = elf_read(f, ief)) == -ENOEXEC)
		err = -ELIBBAD;                 /* not an ELF interpreter for this machine */
	if (err) {
		file_put(f);
		return err;
	}
	*out = f;
	return 0;
}

/* Replace current's image with the ELF program bp->file. 0 or -errno (current intact). */
static long exec_elf(struct binprm *bp)
{
	struct elf_file ef, ief = { 0 };
	struct file *interp = NULL;
	struct mm *mm = NULL;
	struct exec_layout lay = { 0 };
	long r = elf_read(bp->file, &ef);
	if (r < 0)
		return r;
	const struct elf64_phdr *pi = elf_find(&ef, PT_INTERP);
	if (pi && (r = open_interp(bp, pi, &interp, &ief)) < 0)
		goto out;
	const struct elf64_phdr *gs = elf_find(&ef, PT_GNU_STACK);
	int stack_prot = PROT_READ | PROT_WRITE | (gs && (gs->flags & PF_X) ? PROT_EXEC : 0);
	r = -ENOMEM;
	if (!(mm = mm_create()))
		goto out;
	uintptr_t pie_base = PIE_BASE + (random_u64() % PIE_RANDOM_PAGES) * PAGE_SIZE;
	if ((r = elf_map(mm, &ef, pie_base, &lay.prog)) < 0)
		goto out;
	lay.phnum = ef.eh.phnum;
	mm->brk_start = mm->brk = ALIGN_UP(lay.prog.end, PAGE_SIZE);
	if (interp) {
		lay.has_interp = true;
		if ((r = elf_map(mm, &ief, 0, &lay.interp)) < 0)
			goto out;
	}
	if ((r = mm_map(mm, USER_STACK_TOP - exec_stack_size(), exec_stack_size(), stack_prot,
			MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0)) < 0)
		goto out;
	mm_map_sigpage(mm);
	long vdso = vdso_map(mm);
	if (vdso < 0) {
		r = (int)vdso;
		goto out;
	}
	lay.vdso = (uintptr_t)vdso;
	uintptr_t sp = build_stack(mm, bp, &lay);
	if (!sp) {
		r = -E2BIG;
		goto out;
	}

	/* point of no return: switch to the new image */
	struct thread *t = current;
	struct proc *p = t->proc;
	struct mm *old = t->mm;
	intr_off();
	spin_lock(&proc_lock);                  /* mm/oom.c reads t->mm under proc_lock */
	t->mm = mm;
	spin_unlock(&proc_lock);
	mm_activate(mm);
	intr_on();
	if (old)
		mm_put(old);
	mm = NULL;
	files_close_on_exec(t->files);
	signal_exec_reset(p->sighand);
	if (fs_realpath(bp->filename, p->exe, sizeof(p->exe)) < 0)
		strlcpy(p->exe, bp->filename, sizeof(p->exe));
	const char *base = bp->execfn;
	for (const char *s = bp->execfn; *s; s++)
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
	tf->sepc = interp ? lay.interp.entry : lay.prog.entry;
	tf->regs[2] = sp;
	tf->scause = 0;
	t->syscall_a0 = (unsigned long)-1;
	r = 0;
out:
	if (mm)
		mm_put(mm);
	if (interp)
		file_put(interp);
	elf_release(&ief);
	elf_release(&ef);
	return r;
}

long do_execve(const char *path, char *const argv[], char *const envp[])
{
	struct binprm *bp = kzalloc(sizeof(*bp));
	if (!bp)
		return -ENOMEM;
	bp->execfn = bp->filename = path;
	bp->argv = (char **)argv;
	bp->envp = (char **)envp;
	bp->argc = count_strings(argv);
	bp->envc = count_strings(envp);
	static char *const empty_argv[] = { "", NULL };
	if (bp->argc == 0) {            /* Linux (5.18+): an empty argv becomes { "" } */
		bp->argv = (char **)empty_argv;
		bp->argc = 1;
	}
	long r;
	for (int depth = 0;; depth++) {
		if (depth > MAX_INTERP_DEPTH) {
			r = -ELOOP;
			break;
		}
		int err = 0;
		bp->file = open_exec(bp->filename, &err);
		if (!bp->file) {
			r = err;
			break;
		}
		memset(bp->buf, 0, sizeof(bp->buf));
		long got = kernel_read(bp->file, bp->buf, sizeof(bp->buf), 0);
		if (got < 0)
			r = got;
		else if (got >= 2 && bp->buf[0] == '#' && bp->buf[1] == '!')
			r = load_script(bp);
		else if (elf_magic(bp->buf, got))
			r = exec_elf(bp);
		else
			r = -ENOEXEC;
		file_put(bp->file);
		bp->file = NULL;
		if (r < 0 || !(got >= 2 && bp->buf[0] == '#' && bp->buf[1] == '!'))
			break;
		/* a script: go round again with its interpreter */
	}
	for (int i = 0; i < bp->nbufs; i++)
		kfree(bp->bufs[i]);
	if (bp->argv_alloc)
		kfree(bp->argv_alloc);
	kfree(bp);
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
