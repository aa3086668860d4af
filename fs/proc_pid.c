/*
 * /proc/self and /proc/<pid>: what ps, top and glibc read about processes, in Linux's formats.
 *
 * Theory. /proc is a tmpfs directory (proc.c); a process's directory is made when the process is
 * created (procfs_pid_add, from kernel/proc.c) and removed when it is reaped (procfs_pid_remove),
 * so readdir of /proc lists live processes (and zombies) and lookups need no special case. Each
 * /proc/<pid> holds
 *   stat, status, cmdline, comm   generated at open (a snapshot, proc.c) from the process table
 *   exe, cwd                      symlinks to the executable and the working directory
 *   maps                          the address space's VMAs (generated, as stat)
 *   fd/                           a directory generated from the fd table at each lookup and
 *                                 readdir: symlinks to the open files (their path, socket:[ino],
 *                                 pipe:[ino]); readlink only (no Linux-style reopen through them)
 *   task/                         generated: a directory per thread (tid) holding stat, status
 *                                 and comm, which show the process's figures
 *   oom_score, oom_score_adj      mm/oom.c's figures; oom_score_adj is writable (-1000..1000)
 *   limits                        resource limits (proc_limits.c)
 * The files carry no allocated state: an inode's priv encodes (pid, which file), so an open file
 * that outlives its process just fails to open again (ESRCH) and removal frees nothing else.
 * /proc/self is a symlink whose target, the reader's pid, is computed at each lookup.
 *
 * cmdline: the kernel keeps no copy of a process's arguments, so execve (sys_execve_cmdline, in
 * the syscall table) copies the NUL-separated argv strings (at most CMDLINE_MAX bytes) before the
 * old image goes, and keeps them here when the exec succeeds; a child inherits its parent's at
 * fork, as its memory holds the same strings on Linux. environ is kept the same way (the envp
 * strings of the last execve, at most ENVIRON_MAX bytes; setenv does not change it, as on Linux).
 *
 * Locks: proc_lock is taken inside ns_lock (symlink targets are computed during path walks) and
 * never the other way round: the hooks are called without proc_lock. cmd_lock (a leaf) guards the
 * cmdline records. mm->lock is taken with no other lock held, on an mm referenced with mm_get.
 */
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/oom.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/rlimit.h"
#include "kernel/sigqueue.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"
#include "arch/riscv/riscv.h"

#define CLK_TCK 100                       /* USER_HZ: the unit of times in stat */
#define CMDLINE_MAX 4096                  /* bytes of argv kept per process (Linux ps reads a page) */
#define ENVIRON_MAX 16384                 /* bytes of the environment kept per process */
#define PID_PATH_MAX 32
#define PID_FILE_BITS 4

enum pid_file { PF_STAT, PF_STATUS, PF_CMDLINE, PF_COMM, PF_EXE, PF_MOUNTS, PF_MAPS, PF_CWD, PF_FD, PF_ENVIRON,
		PF_TASK, PF_OOM_SCORE, PF_OOM_SCORE_ADJ, PF_LIMITS, PF_COUNT };
static const char *const pid_file_name[PF_COUNT] = { "stat", "status", "cmdline", "comm", "exe", "mounts",
						     "maps", "cwd", "fd", "environ", "task", "oom_score",
						     "oom_score_adj", "limits" };

static void *pid_priv(int pid, enum pid_file which)
{
	return (void *)(((uintptr_t)pid << PID_FILE_BITS) | which);
}
static int priv_pid(const void *priv) { return (int)((uintptr_t)priv >> PID_FILE_BITS); }
static enum pid_file priv_file(const void *priv)
{
	return (enum pid_file)((uintptr_t)priv & ((1u << PID_FILE_BITS) - 1));
}

/* ---- command lines ---- */

struct cmdline {
	struct list_head node;
	int pid;
	size_t len;                     /* argv bytes */
	size_t envlen;                  /* environment bytes, after them */
	char data[];
};
static struct spinlock cmd_lock = SPINLOCK_INIT("proc_cmdline");
static struct list_head cmdlines = LIST_HEAD_INIT(cmdlines);

static struct cmdline *cmd_find(int pid)          /* cmd_lock held */
{
	struct list_head *p;
	list_for_each(p, &cmdlines) {
		struct cmdline *c = list_entry(p, struct cmdline, node);
		if (c->pid == pid)
			return c;
	}
	return NULL;
}

/* Replaces pid's record with c (NULL: just drops it). */
static void cmd_set(int pid, struct cmdline *c)
{
	spin_lock(&cmd_lock);
	struct cmdline *old = cmd_find(pid);
	if (old)
		list_del(&old->node);
	if (c) {
		c->pid = pid;
		list_add_tail(&c->node, &cmdlines);
	}
	spin_unlock(&cmd_lock);
	kfree(old);
}

static struct cmdline *cmd_new(size_t len)
{
	struct cmdline *c = kmalloc(sizeof(*c) + len);
	if (c) {
		c->len = len;
		c->envlen = 0;
	}
	return c;
}

void procfs_set_cmdline(int pid, char *const argv[])
{
	size_t len = 0;
	for (int i = 0; argv[i] && len < CMDLINE_MAX; i++)
		len += strlen(argv[i]) + 1;
	len = MIN(len, (size_t)CMDLINE_MAX);
	struct cmdline *c = cmd_new(len);
	if (!c)
		return;
	size_t at = 0;
	for (int i = 0; argv[i] && at < len; i++) {
		size_t n = MIN(strlen(argv[i]) + 1, len - at);
		memcpy(c->data + at, argv[i], n);
		at += n;
	}
	cmd_set(pid, c);
}

/* The argv strings of a user execve, NUL-separated, truncated at CMDLINE_MAX. NULL when argv is
 * unreadable or memory is short: execve itself then reports the error (or runs without a record). */
/* NUL-separated strings of a user vector into buf (at most max bytes): their length. */
static size_t strings_from_user(uintptr_t uvec, char *buf, size_t max)
{
	size_t len = 0;
	for (int i = 0; uvec && len < max; i++) {
		uintptr_t s;
		if (copy_from_user(&s, uvec + i * sizeof(s), sizeof(s)) || !s)
			break;
		long n = strncpy_from_user(buf + len, s, max - len);
		if (n < 0)
			break;
		len += MIN((size_t)n + 1, max - len);   /* with its NUL when it fits */
	}
	return len;
}

static struct cmdline *cmd_from_user(uintptr_t uargv, uintptr_t uenvp)
{
	char *buf = kmalloc(CMDLINE_MAX + ENVIRON_MAX);
	if (!buf)
		return NULL;
	size_t len = strings_from_user(uargv, buf, CMDLINE_MAX);
	size_t envlen = strings_from_user(uenvp, buf + len, ENVIRON_MAX);
	struct cmdline *c = cmd_new(len + envlen);
	if (c) {
		memcpy(c->data, buf, len + envlen);
		c->len = len;
		c->envlen = envlen;
	}
	kfree(buf);
	return c;
}

long sys_execve_cmdline(uintptr_t upath, uintptr_t uargv, uintptr_t uenvp)
{
	struct cmdline *c = cmd_from_user(uargv, uenvp);
	int pid = current->proc->pid;
	long r = sys_execve(upath, uargv, uenvp);
	if (r < 0)
		kfree(c);
	else
		cmd_set(pid, c);
	return r;
}

/* ---- what the files show ---- */

struct pid_info {
	int pid, ppid, pgid, sid, nthreads, cpu;
	char state;
	char comm[PROC_COMM_LEN];
	char exe[PROC_PATH_MAX];
	uint64_t utime, stime, cutime, cstime, start_ns;
	uint64_t sigpnd, shdpnd, sigblk;
	uint64_t sigq_limit;            /* RLIMIT_SIGPENDING's soft limit */
	unsigned long affinity;
	uint64_t nvcsw, nivcsw;
	struct mm *mm;                  /* referenced (mm_put when done), or NULL */
};

static int pid_info_get(int pid, struct pid_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	if (!p) {
		spin_unlock(&proc_lock);
		return -ESRCH;
	}
	pi->pid = p->pid;
	pi->ppid = p->parent ? p->parent->pid : 0;
	pi->pgid = p->pgid;
	pi->sid = p->sid;
	pi->nthreads = p->nthreads;
	memcpy(pi->comm, p->comm, sizeof(pi->comm));
	pi->comm[sizeof(pi->comm) - 1] = 0;
	memcpy(pi->exe, p->exe, sizeof(pi->exe));
	pi->exe[sizeof(pi->exe) - 1] = 0;
	pi->utime = p->utime_ns;
	pi->stime = p->stime_ns;
	pi->cutime = p->cutime_ns;
	pi->cstime = p->cstime_ns;
	pi->start_ns = p->start_ns;
	pi->shdpnd = p->shared_pending;
	pi->sigq_limit = p->rlim[RLIMIT_SIGPENDING].cur;
	pi->state = 'S';
	struct list_head *q;
	bool first = true;
	list_for_each(q, &p->threads) {
		struct thread *t = list_entry(q, struct thread, thread_node);
		pi->utime += t->utime_ns;
		pi->stime += t->stime_ns;
		if (t->state == THREAD_RUNNING || t->state == THREAD_RUNNABLE)
			pi->state = 'R';
		if (first) {
			first = false;
			pi->cpu = t->cpu;
			pi->sigpnd = t->sigpending;
			pi->sigblk = t->sigmask;
			pi->affinity = t->affinity;
			pi->nvcsw = t->nvcsw;
			pi->nivcsw = t->nivcsw;
			if (t->mm) {
				pi->mm = t->mm;
				mm_get(t->mm);
			}
		}
	}
	if (p->stopped)                 /* job control (kernel/jobctl.c) */
		pi->state = 'T';
	spin_unlock(&proc_lock);
	return 0;
}

/* Virtual size (bytes) and resident pages of an address space. */
static void mm_sizes(struct mm *mm, uint64_t *vsize, uint64_t *rss)
{
	*vsize = *rss = 0;
	if (!mm)
		return;
	spin_lock(&mm->lock);
	struct list_head *q;
	list_for_each(q, &mm->vmas) {
		struct vma *v = list_entry(q, struct vma, node);
		*vsize += v->end - v->start;
		for (uintptr_t va = v->start; va < v->end; va += PAGE_SIZE) {
			pte_t *pte = vm_walk(mm->pgtable, va, false);
			if (pte && (*pte & PTE_V))
				(*rss)++;
		}
	}
	spin_unlock(&mm->lock);
}

static unsigned long ticks(uint64_t ns) { return (unsigned long)(ns / (NSEC_PER_SEC / CLK_TCK)); }

#define OUT(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))

/* Linux's fs/proc/array.c do_task_stat: 52 fields. tty_nr is 0 and tpgid -1 (the console is not
 * a numbered tty), nice 0. */
static size_t show_stat(char *buf, size_t size, struct pid_info *pi)
{
	uint64_t vsize, rss;
	mm_sizes(pi->mm, &vsize, &rss);
	uintptr_t brk_start = pi->mm ? pi->mm->brk_start : 0;
	size_t n = 0;
	OUT("%d (%s) %c %d %d %d 0 -1 %u 0 0 0 0 %lu %lu %lu %lu 20 0 %d 0 %lu %lu %lu %lu ",
	    pi->pid, pi->comm, pi->state, pi->ppid, pi->pgid, pi->sid, 0u /* flags */,
	    ticks(pi->utime), ticks(pi->stime), ticks(pi->cutime), ticks(pi->cstime), pi->nthreads,
	    ticks(pi->start_ns), (unsigned long)vsize, (unsigned long)rss, ~0UL /* rsslim */);
	OUT("0 0 0 0 0 %lu %lu 0 0 0 0 0 17 %d 0 0 0 0 0 0 0 %lu 0 0 0 0 0\n",
	    (unsigned long)(pi->sigpnd | pi->shdpnd), (unsigned long)pi->sigblk, pi->cpu,
	    (unsigned long)brk_start);
	return n;
}

static size_t show_status(char *buf, size_t size, struct pid_info *pi)
{
	uint64_t vsize, rss;
	mm_sizes(pi->mm, &vsize, &rss);
	uint64_t heap = pi->mm ? pi->mm->brk - pi->mm->brk_start : 0;
	static const char *const state_name[128] = { ['R'] = "R (running)", ['S'] = "S (sleeping)",
						     ['T'] = "T (stopped)" };
	size_t n = 0;
	OUT("Name:\t%s\nUmask:\t0022\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
	    "TracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t\n",
	    pi->comm, state_name[(int)pi->state], pi->pid, pi->pid, pi->ppid);
	if (pi->mm)
		OUT("VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\n"
		    "VmHWM:\t%8lu kB\nVmRSS:\t%8lu kB\nRssAnon:\t%8lu kB\nRssFile:\t       0 kB\n"
		    "RssShmem:\t       0 kB\nVmData:\t%8lu kB\nVmStk:\t%8lu kB\n",
		    (unsigned long)(vsize >> 10), (unsigned long)(vsize >> 10), (unsigned long)(rss * PAGE_SIZE >> 10),
		    (unsigned long)(rss * PAGE_SIZE >> 10), (unsigned long)(rss * PAGE_SIZE >> 10),
		    (unsigned long)(heap >> 10), (unsigned long)(USER_STACK_MAX >> 10));
	OUT("Threads:\t%d\nSigQ:\t%ld/%lu\nSigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\n"
	    "SigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\nCpus_allowed:\t%lx\n"
	    "voluntary_ctxt_switches:\t%llu\nnonvoluntary_ctxt_switches:\t%llu\n",
	    pi->nthreads, sigqueue_count(), (unsigned long)pi->sigq_limit, (unsigned long)pi->sigpnd, (unsigned long)pi->shdpnd, (unsigned long)pi->sigblk,
	    pi->affinity, (unsigned long long)pi->nvcsw, (unsigned long long)pi->nivcsw);
	return n;
}

static size_t show_environ(char *buf, size_t size, int pid)
{
	spin_lock(&cmd_lock);
	struct cmdline *c = cmd_find(pid);
	size_t n = c ? MIN(c->envlen, size) : 0;
	if (c)
		memcpy(buf, c->data + c->len, n);
	spin_unlock(&cmd_lock);
	return n;
}

static size_t show_cmdline(char *buf, size_t size, int pid)
{
	spin_lock(&cmd_lock);
	struct cmdline *c = cmd_find(pid);
	size_t n = c ? MIN(c->len, size) : 0;
	if (c)
		memcpy(buf, c->data, n);
	spin_unlock(&cmd_lock);
	return n;
}

/* /proc/<pid>/maps in Linux's format (fs/proc/task_mmu.c show_map_vma): one line per VMA,
 * "start-end perms offset major:minor inode", then (after 73 characters, as Linux pads) the name:
 * [heap] for the brk area, [stack] for the main stack, the path a file was opened by (struct
 * file's path; none for files not opened by path). The VMAs are copied under mm->lock (with
 * references to their files) and formatted after it. */
struct map_line {
	uintptr_t start, end;
	int prot, flags;
	uint64_t pgoff;
	uint32_t dev;
	uint64_t ino;
	bool file;
	struct file *f;                 /* a reference while formatting (its path), or NULL */
	const char *special;            /* an owner's name for its mapping ([vdso]), or NULL */
};
#define MAPS_NAME_COL 73                   /* characters before the name */
#define PROT_R 1
#define PROT_W 2
#define PROT_X 4
#define MAP_SHARED_K 1

static size_t show_maps(char *buf, size_t size, struct mm *mm)
{
	size_t n = 0;
	if (!mm)
		return 0;
	int cap = 0, cnt = 0;
	struct map_line *v = NULL;
	for (;;) {                                  /* size the copy, then take it */
		spin_lock(&mm->lock);
		struct list_head *q;
		int need = 0;
		list_for_each(q, &mm->vmas)
			need++;
		if (need <= cap) {
			list_for_each(q, &mm->vmas) {
				struct vma *a = list_entry(q, struct vma, node);
				struct inode *ino = a->file ? a->file->inode : NULL;
				v[cnt++] = (struct map_line){ a->start, a->end, a->prot, a->flags, a->pgoff,
							      ino && ino->sb ? ino->sb->dev : 0, ino ? ino->ino : 0,
							      ino != NULL, a->file,
							      a->ops && a->ops->name ? a->ops->name(a) : NULL };
				if (a->file)
					file_get(a->file);
			}
			spin_unlock(&mm->lock);
			break;
		}
		spin_unlock(&mm->lock);
		kfree(v);
		cap = need + 8;
		if (!(v = kmalloc((size_t)cap * sizeof(*v))))
			return 0;
	}
	uintptr_t brk_start = mm->brk_start, brk = mm->brk;
	for (int i = 0; i < cnt; i++) {
		struct map_line *a = &v[i];
		size_t line = n;
		OUT("%08lx-%08lx %c%c%c%c %08llx %02x:%02x %llu ", (unsigned long)a->start, (unsigned long)a->end,
		    a->prot & PROT_R ? 'r' : '-', a->prot & PROT_W ? 'w' : '-', a->prot & PROT_X ? 'x' : '-',
		    a->flags & MAP_SHARED_K ? 's' : 'p', (unsigned long long)(a->pgoff * PAGE_SIZE),
		    (a->dev >> 8) & 0xfff, (a->dev & 0xff) | ((a->dev >> 12) & ~0xffu), (unsigned long long)a->ino);
		const char *name = NULL;
		if (!a->file && a->start < USER_STACK_TOP && a->end >= USER_STACK_TOP)
			name = "[stack]";
		else if (!a->file && brk > brk_start && a->start < brk && a->end > brk_start)
			name = "[heap]";
		else if (a->f && a->f->path)
			name = a->f->path;
		else if (a->special)
			name = a->special;
		if (name) {
			while (n - line < MAPS_NAME_COL)
				OUT(" ");
			OUT("%s", name);
		} else if (n > line) {
			n--;                                /* Linux: no trailing space without a name */
		}
		OUT("\n");
	}
	for (int i = 0; i < cnt; i++)
		if (v[i].f)
			file_put(v[i].f);
	kfree(v);
	return n;
}

static size_t show_pid_file(char *buf, size_t size, void *priv)
{
	struct pid_info pi;
	int err = pid_info_get(priv_pid(priv), &pi);
	if (err)
		return (size_t)(long)err;
	size_t n = 0;
	switch (priv_file(priv)) {
	case PF_STAT: n = show_stat(buf, size, &pi); break;
	case PF_STATUS: n = show_status(buf, size, &pi); break;
	case PF_CMDLINE: n = show_cmdline(buf, size, pi.pid); break;
	case PF_ENVIRON: n = show_environ(buf, size, pi.pid); break;
	case PF_COMM: OUT("%s\n", pi.comm); break;
	case PF_MOUNTS: n = mounts_show(buf, size); break;
	case PF_MAPS: n = show_maps(buf, size, pi.mm); break;
	case PF_OOM_SCORE: OUT("%ld\n", MAX(oom_score(pi.pid), 0L)); break;
	case PF_OOM_SCORE_ADJ: OUT("%ld\n", oom_score_adj_get(pi.pid)); break;
	case PF_LIMITS: n = proc_limits_show(buf, size, pi.pid); break;      /* proc_limits.c */
	default: break;
	}
	if (pi.mm)
		mm_put(pi.mm);
	return MIN(n, size);
}

static int pid_file_open(struct inode *ino, struct file *f)
{
	return proc_snapshot_open(f, show_pid_file, ino->priv);
}

static const struct file_ops pid_file_ops = {
	.open = pid_file_open,
	.read = proc_snapshot_read,
	.llseek = proc_snapshot_llseek,
	.release = proc_snapshot_release,
};

#define ADJ_INPUT_MAX 24

/* oom_score_adj: a decimal number in [-1000, 1000] (spaces and a newline around it allowed). */
static long oom_adj_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos __unused)
{
	char b[ADJ_INPUT_MAX];
	size_t len = MIN(n, sizeof(b) - 1);
	if (copy_from_user(b, ubuf, len))
		return -EFAULT;
	b[len] = 0;
	char *s = b;
	while (*s == ' ' || *s == '\t')
		s++;
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	long v = 0;
	while (*s >= '0' && *s <= '9' && v <= OOM_SCORE_ADJ_MAX)
		v = v * 10 + (*s++ - '0');
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	long r = oom_score_adj_set(priv_pid(f->inode->priv), neg ? -v : v);
	return r < 0 ? r : (long)n;
}

static const struct file_ops oom_adj_file_ops = {
	.open = pid_file_open,
	.read = proc_snapshot_read,
	.write = oom_adj_write,
	.llseek = proc_snapshot_llseek,
	.release = proc_snapshot_release,
};

/* ---- symlinks: /proc/self and /proc/<pid>/exe ---- */

/* Targets are computed on every lookup (readlink), into the caller's buffer. */
static long copy_target(const char *t, char *buf, size_t size)
{
	if (!t || !t[0])
		return -ENOENT;
	size_t len = MIN(strlen(t), size);
	memcpy(buf, t, len);
	return (long)len;
}

static long self_link(struct inode *ino, char *buf, size_t size)
{
	(void)ino;
	if (!current || !current->proc)
		return -ENOENT;
	char b[PID_PATH_MAX];
	snprintf(b, sizeof(b), "%d", current->proc->pid);
	return copy_target(b, buf, size);
}

static long exe_link(struct inode *ino, char *buf, size_t size)
{
	int pid = priv_pid(ino->priv);
	if (current && current->proc && current->proc->pid == pid)
		return copy_target(current_exe(), buf, size);
	char b[PROC_PATH_MAX];
	b[0] = 0;
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	if (p)
		strlcpy(b, p->exe, PROC_PATH_MAX);
	spin_unlock(&proc_lock);
	return copy_target(b, buf, size);
}

/* /proc/<pid>/cwd: the absolute path of the process's working directory (its first thread's). */
static long cwd_link(struct inode *ino, char *buf, size_t size)
{
	int pid = priv_pid(ino->priv);
	struct fs_ctx *fs = NULL;
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	if (p && !list_empty(&p->threads)) {
		struct thread *t = list_first_entry(&p->threads, struct thread, thread_node);
		if ((fs = t->fs))
			fs_ctx_get(fs);
	}
	spin_unlock(&proc_lock);
	if (!fs)
		return -ENOENT;
	spin_lock(&fs->lock);
	struct path cwd = fs->cwd;
	path_get(&cwd);
	spin_unlock(&fs->lock);
	fs_ctx_put(fs);
	char *b = kmalloc(PATH_MAX);
	long r = b ? path_name(&cwd, b, PATH_MAX) : -ENOMEM;
	path_put(&cwd);
	if (r >= 0)
		r = copy_target(b, buf, size);
	kfree(b);
	return r;
}

/* ---- /proc/<pid>/fd: a directory generated from the fd table ---- */

#define FD_BITS 31                        /* NR_OPEN_MAX - 1 fits */
static void *fd_priv(int pid, int fd) { return (void *)(((uintptr_t)pid << FD_BITS) | (uintptr_t)fd); }

/* The process's fd table (its first thread's), referenced, or NULL. */
static struct files *pid_files(int pid)
{
	struct files *fs = NULL;
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	if (p && !list_empty(&p->threads)) {
		struct thread *t = list_first_entry(&p->threads, struct thread, thread_node);
		if ((fs = t->files))
			files_get(fs);
	}
	spin_unlock(&proc_lock);
	return fs;
}

static struct file *pid_fd_file(int pid, int fd)
{
	struct files *fs = pid_files(pid);
	if (!fs)
		return NULL;
	struct file *f = NULL;
	spin_lock(&fs->lock);
	if (fd >= 0 && fd < fs->max && fs->fd[fd]) {
		f = fs->fd[fd];
		file_get(f);
	}
	spin_unlock(&fs->lock);
	files_put(fs);
	return f;
}

/* Linux's names: the path, socket:[ino], pipe:[ino], anon_inode:[...] for the rest. */
static long fd_link(struct inode *ino, char *buf, size_t size)
{
	uintptr_t pv = (uintptr_t)ino->priv;
	struct file *f = pid_fd_file((int)(pv >> FD_BITS), (int)(pv & ((1u << FD_BITS) - 1)));
	if (!f)
		return -ENOENT;
	char *b = kmalloc(PATH_MAX);
	long r = b ? 0 : -ENOMEM;
	uint32_t type = f->inode->mode & S_IFMT;
	if (r) {
		;
	} else if (f->path) {
		strlcpy(b, f->path, PATH_MAX);
	} else if (type == S_IFSOCK) {
		snprintf(b, PATH_MAX, "socket:[%llu]", (unsigned long long)f->inode->ino);
	} else if (type == S_IFIFO) {
		snprintf(b, PATH_MAX, "pipe:[%llu]", (unsigned long long)f->inode->ino);
	} else if (type == S_IFDIR && f->mnt) {
		struct path p = { f->mnt, f->inode };
		r = path_name(&p, b, PATH_MAX);
	} else {
		snprintf(b, PATH_MAX, "anon_inode:[%llu]", (unsigned long long)f->inode->ino);
	}
	if (r >= 0)
		r = copy_target(b, buf, size);
	kfree(b);
	file_put(f);
	return r;
}

static const struct inode_ops fd_link_iops = { .readlink = fd_link };

static struct inode *fd_dir_lookup(struct inode *dir, const char *name, size_t len, int *err)
{
	int pid = priv_pid(dir->priv);
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		spin_lock(&ns_lock);
		struct inode *up = TMPFS_I(dir)->parent;
		if (up)
			inode_get(up);
		spin_unlock(&ns_lock);
		*err = up ? 0 : -ENOENT;
		return up;
	}
	int fd = 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9' || fd >= NR_OPEN || (i == 0 && name[0] == '0' && len > 1)) {
			*err = -ENOENT;
			return NULL;
		}
		fd = fd * 10 + (name[i] - '0');
	}
	struct file *f = len && fd < NR_OPEN ? pid_fd_file(pid, fd) : NULL;
	if (!f) {
		*err = -ENOENT;
		return NULL;
	}
	bool rd = (f->f_flags & O_ACCMODE) != O_WRONLY, wr = (f->f_flags & O_ACCMODE) != O_RDONLY;
	file_put(f);
	struct inode *ino = inode_new(S_IFLNK | (rd ? 0500 : 0) | (wr ? 0200 : 0));   /* Linux: the open mode */
	if (!ino) {
		*err = -ENOMEM;
		return NULL;
	}
	ino->iops = &fd_link_iops;
	ino->priv = fd_priv(pid, fd);
	return ino;
}

static int fd_dir_readdir(struct inode *dir, uint64_t *cookie, filldir_t fn, void *arg)
{
	int pid = priv_pid(dir->priv);
	if (*cookie == 0) {
		if (fn(arg, ".", 1, dir->ino, DT_DIR, 1))
			return 0;
		*cookie = 1;
	}
	if (*cookie == 1) {
		if (fn(arg, "..", 2, dir->ino, DT_DIR, 2))
			return 0;
		*cookie = 2;
	}
	struct files *fs = pid_files(pid);
	if (!fs)
		return 0;
	int max = READ_ONCE(fs->max);                 /* a snapshot: fn may fault on user memory */
	uint64_t *open = kzalloc((size_t)max / 64 * sizeof(uint64_t));
	if (!open) {
		files_put(fs);
		return -ENOMEM;
	}
	spin_lock(&fs->lock);
	for (int fd = 0; fd < fs->max && fd < max; fd++)
		if (fs->fd[fd])
			open[fd / 64] |= 1ULL << (fd % 64);
	spin_unlock(&fs->lock);
	files_put(fs);
	for (int fd = (int)*cookie - 2; fd < max; fd++) {
		if (!(open[fd / 64] & (1ULL << (fd % 64))))
			continue;
		char name[16];
		int len = snprintf(name, sizeof(name), "%d", fd);
		if (fn(arg, name, (size_t)len, inode_next_ino(), DT_LNK, (uint64_t)fd + 3)) {
			kfree(open);
			return 0;
		}
		*cookie = (uint64_t)fd + 3;
	}
	kfree(open);
	*cookie = (uint64_t)NR_OPEN_MAX + 2;
	return 0;
}

static const struct inode_ops fd_dir_iops = { .lookup = fd_dir_lookup, .readdir = fd_dir_readdir };

static const struct inode_ops pid_file_iops = { 0 };   /* generated: no tmpfs data behind it */
static const struct inode_ops cwd_iops = { .readlink = cwd_link };

/* ---- /proc/<pid>/task: a directory per thread, generated ---- */

#define TASK_FILES 3
static const enum pid_file task_file[TASK_FILES] = { PF_STAT, PF_STATUS, PF_COMM };

static bool thread_of(int pid, int tid)
{
	bool found = false;
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	struct list_head *q;
	if (p)
		list_for_each(q, &p->threads)
			if (list_entry(q, struct thread, thread_node)->tid == tid)
				found = true;
	spin_unlock(&proc_lock);
	return found;
}

/* /proc/<pid>/task itself (a tmpfs node), referenced, for "..". */
static struct inode *task_dir_of(int pid)
{
	char name[PID_PATH_MAX];
	int len = snprintf(name, sizeof(name), "%d", pid);
	spin_lock(&ns_lock);
	struct inode *d = tmpfs_dir_lookup(proc_sb->root, name, (size_t)len);
	struct inode *t = d ? tmpfs_dir_lookup(d, "task", 4) : NULL;
	if (t)
		inode_get(t);
	spin_unlock(&ns_lock);
	return t;
}

static bool parse_num(const char *name, size_t len, int *out)
{
	int v = 0;
	if (!len || len > 9 || (name[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (name[i] - '0');
	}
	*out = v;
	return true;
}

/* task/<tid>: stat, status, comm (the process's figures: Ember keeps them per process). */
static struct inode *tid_dir_lookup(struct inode *dir, const char *name, size_t len, int *err)
{
	uintptr_t pv = (uintptr_t)dir->priv;
	int pid = (int)(pv >> FD_BITS);
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		struct inode *t = task_dir_of(pid);
		*err = t ? 0 : -ENOENT;
		return t;
	}
	for (int i = 0; i < TASK_FILES; i++) {
		const char *fn = pid_file_name[task_file[i]];
		if (strlen(fn) == len && !memcmp(fn, name, len)) {
			struct inode *ino = inode_new(S_IFREG | 0444);
			if (!ino) {
				*err = -ENOMEM;
				return NULL;
			}
			ino->fops = &pid_file_ops;
			ino->iops = &pid_file_iops;
			ino->priv = pid_priv(pid, task_file[i]);
			return ino;
		}
	}
	*err = -ENOENT;
	return NULL;
}

static int tid_dir_readdir(struct inode *dir, uint64_t *cookie, filldir_t fn, void *arg)
{
	if (*cookie == 0) {
		if (fn(arg, ".", 1, dir->ino, DT_DIR, 1))
			return 0;
		*cookie = 1;
	}
	if (*cookie == 1) {
		if (fn(arg, "..", 2, dir->ino, DT_DIR, 2))
			return 0;
		*cookie = 2;
	}
	for (uint64_t i = *cookie - 2; i < TASK_FILES; i++) {
		const char *n = pid_file_name[task_file[i]];
		if (fn(arg, n, strlen(n), inode_next_ino(), DT_REG, i + 3))
			return 0;
		*cookie = i + 3;
	}
	return 0;
}

static const struct inode_ops tid_dir_iops = { .lookup = tid_dir_lookup, .readdir = tid_dir_readdir };

static struct inode *task_dir_lookup(struct inode *dir, const char *name, size_t len, int *err)
{
	int pid = priv_pid(dir->priv), tid;
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		spin_lock(&ns_lock);
		struct inode *up = TMPFS_I(dir)->parent;
		if (up)
			inode_get(up);
		spin_unlock(&ns_lock);
		*err = up ? 0 : -ENOENT;
		return up;
	}
	if (!parse_num(name, len, &tid) || !thread_of(pid, tid)) {
		*err = -ENOENT;
		return NULL;
	}
	struct inode *ino = inode_new(S_IFDIR | 0555);
	if (!ino) {
		*err = -ENOMEM;
		return NULL;
	}
	ino->fops = &generic_dir_ops;
	ino->iops = &tid_dir_iops;
	ino->priv = (void *)(((uintptr_t)pid << FD_BITS) | 0);
	ino->nlink = 2;
	return ino;
}

#define TASK_LIST_MAX 256                 /* threads listed at most */

static int task_dir_readdir(struct inode *dir, uint64_t *cookie, filldir_t fn, void *arg)
{
	int pid = priv_pid(dir->priv);
	if (*cookie == 0) {
		if (fn(arg, ".", 1, dir->ino, DT_DIR, 1))
			return 0;
		*cookie = 1;
	}
	if (*cookie == 1) {
		if (fn(arg, "..", 2, dir->ino, DT_DIR, 2))
			return 0;
		*cookie = 2;
	}
	int *tids = kmalloc(TASK_LIST_MAX * sizeof(int));
	if (!tids)
		return -ENOMEM;
	int n = 0;
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	struct list_head *q;
	if (p)
		list_for_each(q, &p->threads)
			if (n < TASK_LIST_MAX)
				tids[n++] = list_entry(q, struct thread, thread_node)->tid;
	spin_unlock(&proc_lock);
	for (int i = (int)*cookie - 2; i < n; i++) {
		char name[16];
		int len = snprintf(name, sizeof(name), "%d", tids[i]);
		if (fn(arg, name, (size_t)len, inode_next_ino(), DT_DIR, (uint64_t)i + 3))
			break;
		*cookie = (uint64_t)i + 3;
	}
	kfree(tids);
	return 0;
}

static const struct inode_ops task_dir_iops = { .lookup = task_dir_lookup, .readdir = task_dir_readdir };
static const struct inode_ops self_iops = { .readlink = self_link };
static const struct inode_ops exe_iops = { .readlink = exe_link };

/* ---- directories ---- */

static int last_pid;                      /* /proc/loadavg's last field */
static unsigned long forks;               /* /proc/stat's "processes" */
int procfs_last_pid(void) { return READ_ONCE(last_pid); }
unsigned long procfs_forks(void) { return READ_ONCE(forks); }

void procfs_pid_add(int pid, int parent_pid)
{
	char path[PID_PATH_MAX];
	__atomic_fetch_add(&forks, 1, __ATOMIC_RELAXED);
	int last = READ_ONCE(last_pid);
	while (pid > last && !__atomic_compare_exchange_n(&last_pid, &last, pid, false,
							     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	for (int f = 0; f < PF_COUNT; f++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, pid_file_name[f]);
		int err = f == PF_FD || f == PF_TASK
			? proc_node(path, S_IFDIR | (f == PF_FD ? 0500 : 0555), &generic_dir_ops,
				    f == PF_FD ? &fd_dir_iops : &task_dir_iops, pid_priv(pid, f))
			: f == PF_EXE || f == PF_CWD
			? proc_node(path, S_IFLNK | 0777, NULL, f == PF_EXE ? &exe_iops : &cwd_iops, pid_priv(pid, f))
			: f == PF_OOM_SCORE_ADJ
			? proc_node(path, S_IFREG | 0644, &oom_adj_file_ops, &pid_file_iops, pid_priv(pid, f))
			: proc_node(path, S_IFREG | 0444, &pid_file_ops, &pid_file_iops, pid_priv(pid, f));
		if (err && err != -EEXIST)
			printk("proc: /proc/%d: error %d\n", pid, err);
	}
	if (parent_pid) {
		struct cmdline *c = NULL;
		spin_lock(&cmd_lock);
		struct cmdline *pc = cmd_find(parent_pid);
		size_t len = pc ? pc->len + pc->envlen : 0;
		spin_unlock(&cmd_lock);
		if (len && (c = cmd_new(len))) {
			spin_lock(&cmd_lock);
			pc = cmd_find(parent_pid);
			if (pc && pc->len + pc->envlen <= len) {
				c->len = pc->len;
				c->envlen = pc->envlen;
				memcpy(c->data, pc->data, c->len + c->envlen);
			} else {
				c->len = 0;                  /* the parent exec'd meanwhile */
			}
			spin_unlock(&cmd_lock);
		}
		cmd_set(pid, c);
	}
}

void procfs_pid_remove(int pid)
{
	char name[PID_PATH_MAX];
	int len = snprintf(name, sizeof(name), "%d", pid);
	struct inode *gone[PF_COUNT + 1];
	int ngone = 0;
	spin_lock(&ns_lock);
	struct inode *proc_dir = proc_sb->root;
	struct dirent_node *d = tmpfs_dir_find(proc_dir, name, len);
	if (d && S_ISDIR(d->inode->mode)) {
		struct inode *dir = d->inode;
		struct list_head *p, *n;
		list_for_each_safe(p, n, &TMPFS_I(dir)->dir.entries) {
			struct dirent_node *e = list_entry(p, struct dirent_node, node);
			if (ngone < PF_COUNT) {
				struct inode *x = tmpfs_dir_unlink(dir, e);
				if (S_ISDIR(x->mode))
					x->nlink = 0;                /* fd/: its "." goes too (as rmdir) */
				gone[ngone++] = x;
			}
		}
		if (list_empty(&TMPFS_I(dir)->dir.entries)) {
			gone[ngone++] = tmpfs_dir_unlink(proc_dir, d);
			dir->nlink = 0;                      /* its "." goes too (as rmdir) */
		}
	}
	spin_unlock(&ns_lock);
	for (int i = 0; i < ngone; i++)
		inode_put(gone[i]);
	cmd_set(pid, NULL);
}

int proc_pid_init(void)
{
	return proc_node("/proc/self", S_IFLNK | 0777, NULL, &self_iops, NULL);
}
