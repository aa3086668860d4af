/*
 * Processes and user threads: creation (clone, clone3, the first process), exit (thread and whole
 * group, zombies, reparenting to init), wait4/waitid, and the way back to user mode.
 *
 * Theory. Linux's model: every user thread is a schedulable struct thread; a process is the group
 * of threads sharing a struct proc (its pid is the leader's tid). clone's flags decide which parts
 * the new thread shares (CLONE_VM: the mm; CLONE_FILES: the fd table; CLONE_FS: the cwd;
 * CLONE_SIGHAND: handlers; CLONE_THREAD: the proc itself) and which it copies (fork).
 * A thread leaves through thread_exit_user: it clears and wakes clear_child_tid, leaves its proc,
 * and if it was the last one the proc drops its mm, files and fs, hands its children to init,
 * becomes a zombie and tells its parent (SIGCHLD, child_wait). wait4 reaps zombies.
 *
 * Locking: proc_lock (a spinlock) guards the tree, the thread lists, zombie state and pid lookup.
 * Order: proc_lock -> wait-queue locks -> run-queue locks. Process exit wakes the parent after the
 * zombie state is visible under proc_lock, so a waiter that checked and found nothing cannot miss it
 * (wait_event re-checks after queueing).
 */
#include "kernel/proc.h"
#include "kernel/itimer.h"
#include "kernel/jobctl.h"
#include "kernel/pgrp.h"
#include "kernel/rlimit.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "ipc/futex/futex.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/signal.h"
#include "kernel/sigqueue.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"
#include "mm/oom.h"
#include "fs/fs.h"
#include "fs/abi.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/trap.h"

#define CLONE_VM 0x00000100
#define CLONE_FS 0x00000200
#define CLONE_FILES 0x00000400
#define CLONE_SIGHAND 0x00000800
#define CLONE_PIDFD 0x00001000
#define CLONE_VFORK 0x00004000
#define CLONE_PARENT 0x00008000
#define CLONE_THREAD 0x00010000
#define CLONE_SYSVSEM 0x00040000
#define CLONE_SETTLS 0x00080000
#define CLONE_PARENT_SETTID 0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_CHILD_SETTID 0x01000000
#define CSIGNAL 0xff

#define WNOHANG 1
#define WUNTRACED 2
#define WEXITED 4
#define WNOWAIT 0x01000000
#define P_ALL 0
#define P_PID 1
#define P_PGID 2
#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_DUMPED 3


struct spinlock proc_lock = SPINLOCK_INIT("proc");
static struct list_head all_procs = LIST_HEAD_INIT(all_procs);
static struct proc *init_proc;
static int next_pid = 1;


struct trapframe *thread_tf(struct thread *t)
{
	return (struct trapframe *)((char *)t->kstack + KSTACK_SIZE) - 1;
}

struct proc *proc_find(int pid)
{
	struct list_head *p;
	list_for_each(p, &all_procs) {
		struct proc *pr = list_entry(p, struct proc, all_node);
		if (pr->pid == pid && !pr->zombie)
			return pr;
	}
	return NULL;
}

struct proc *proc_next_locked(struct proc *prev)
{
	struct list_head *n = prev ? prev->all_node.next : all_procs.next;
	for (; n != &all_procs; n = n->next) {
		struct proc *pr = list_entry(n, struct proc, all_node);
		if (!pr->zombie)
			return pr;
	}
	return NULL;
}

struct proc *proc_next_any_locked(struct proc *prev)
{
	struct list_head *n = prev ? prev->all_node.next : all_procs.next;
	return n == &all_procs ? NULL : list_entry(n, struct proc, all_node);
}

struct thread *thread_find(int tid)
{
	struct list_head *p, *q;
	list_for_each(p, &all_procs) {
		struct proc *pr = list_entry(p, struct proc, all_node);
		list_for_each(q, &pr->threads) {
			struct thread *t = list_entry(q, struct thread, thread_node);
			if (t->tid == tid)
				return t;
		}
	}
	return NULL;
}

static struct proc *proc_alloc(void)
{
	struct proc *p = kzalloc(sizeof(*p));
	if (!p)
		return NULL;
	list_init(&p->children);
	list_init(&p->sibling);
	list_init(&p->threads);
	waitq_init(&p->child_wait, "child_wait");
	rlimit_init_defaults(p->rlim);          /* fork copies the parent's over them */
	p->start_ns = time_ns();
	return p;
}

static int alloc_tid(void) { return __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED); }

/* Entered (through thread_start) by a new user thread: straight to user mode. */
static void user_thread_entry(void *arg __unused) { proc_return_to_user(); }

static struct thread *new_user_thread(struct proc *p, int cpu)
{
	struct thread *t = thread_alloc(user_thread_entry, NULL, p->comm, cpu);
	if (!t)
		return NULL;
	t->fp = kzalloc(sizeof(struct fpstate));
	if (!t->fp) {
		free_pages(t->kstack, KSTACK_ORDER);
		kfree(t);
		return NULL;
	}
	t->proc = p;
	t->tid = alloc_tid();
	t->ctx.sp = (uint64_t)thread_tf(t);     /* the user frame owns the top of the stack */
	return t;
}

/* execve in a multi-threaded process: every other thread leaves first. */
void proc_kill_other_threads(void)
{
	struct thread *t = current;
	struct proc *p = t->proc;
	spin_lock(&proc_lock);
	struct list_head *q;
	list_for_each(q, &p->threads) {
		struct thread *o = list_entry(q, struct thread, thread_node);
		if (o != t) {
			o->killed = true;
			signal_kick(o);
		}
	}
	spin_unlock(&proc_lock);
	wait_event(&p->child_wait, READ_ONCE(p->nthreads) == 1);
}

/* kill(-1, sig): every process but init and the sender. proc_lock held. */
long signal_all_locked(const struct ksiginfo *info, struct proc *self)
{
	struct list_head *p;
	long r = -ESRCH;
	list_for_each(p, &all_procs) {
		struct proc *pr = list_entry(p, struct proc, all_node);
		if (pr == init_proc || pr == self || pr->zombie)
			continue;
		if (info->signo)
			signal_send_proc_info_locked(pr, info);
		r = 0;
	}
	return r;
}

/* ---- the way out to user mode ---- */

void proc_return_to_user(void)
{
	struct thread *t = current;
	struct trapframe *tf = thread_tf(t);
	for (;;) {
		intr_on();
		if (t->killed || t->proc->exiting)
			thread_exit_user(t->proc->group_status);
		rlimit_cpu_check();                     /* RLIMIT_CPU: SIGXCPU, SIGKILL (rlimit.c) */
		if (jobctl_must_park(t)) {              /* job control: park until SIGCONT (jobctl.c) */
			jobctl_wait_continue();
			continue;
		}
		signal_deliver(tf);
		intr_off();
		if (this_cpu()->need_resched) {
			intr_on();
			sched_yield();
			continue;
		}
		if (!((t->sigpending | t->proc->shared_pending) & ~t->sigmask) && !t->killed &&
		    !jobctl_must_park(t))
			break;
	}
	/* FP registers: restore ours unless they are still live in this hart */
	struct cpu *c = this_cpu();
	if (c->fp_owner != t || t->fp_cpu != c->id) {
		csr_set(sstatus, SSTATUS_FS);
		fpu_restore(t->fp);
		c->fp_owner = t;
		t->fp_cpu = c->id;
	}
	/* SUM stays set (arch/riscv/trap.c): it has no effect in U-mode */
	tf->sstatus = (tf->sstatus & ~(SSTATUS_SPP | SSTATUS_FS)) | SSTATUS_SUM | SSTATUS_SPIE | (2UL << 13);
	t->user_enter_ns = time_ns();
	t->stime_ns += t->user_enter_ns - t->kernel_enter_ns;
	__asm__ volatile("mv sp, %0\n\tj user_return" :: "r"(tf) : "memory");
	__builtin_unreachable();
}

/* ---- the first process ---- */

struct init_args { const char *path; char *const *argv, *const *envp; };

/* The first user thread starts here, in its own context: exec the init program, stdio on the
 * console, then leave for user mode. */
static void proc_init_entry(void *arg)
{
	struct init_args *ia = arg;
	int err = 0;
	struct file *con = kernel_open("/dev/console", O_RDWR, &err);
	if (!con) {
		printk("init: cannot open /dev/console (%d)\n", err);
	} else {                                /* stdin, stdout, stderr */
		file_get(con);
		file_get(con);
		fd_install(current->files, con, false);
		fd_install(current->files, con, false);
		fd_install(current->files, con, false);
	}
	long r = do_execve(ia->path, ia->argv, ia->envp);
	if (r < 0) {
		printk("init: cannot run %s: error %ld\n", ia->path, -r);
		power_fail(2);
	}
	proc_return_to_user();
}

void proc_start_init(const char *path, char *const argv[], char *const envp[])
{
	static struct init_args ia;             /* read once by the init thread */
	struct proc *p = proc_alloc();
	if (!p)
		panic("init: no memory");
	p->sighand = sighand_new();
	struct thread *t = new_user_thread(p, -1);
	if (!t || !p->sighand)
		panic("init: no memory");
	t->files = files_new();
	t->fs = fs_ctx_new();
	if (!t->files || !t->fs)
		panic("init: no memory for files");
	p->pid = p->pgid = p->sid = t->tid;
	p->nthreads = 1;
	list_add_tail(&t->thread_node, &p->threads);
	spin_lock(&proc_lock);
	list_add_tail(&p->all_node, &all_procs);
	init_proc = p;
	spin_unlock(&proc_lock);
	procfs_pid_add(p->pid, 0);                  /* /proc/<pid>: fs/proc_pid.c */
	procfs_set_cmdline(p->pid, argv);
	ia = (struct init_args){ path, argv, envp };
	t->fn = proc_init_entry;
	t->arg = &ia;
	kthread_start(t);
}

/* ---- clone ---- */

static long do_clone(unsigned long flags, uintptr_t newsp, uintptr_t ptid, uintptr_t tls, uintptr_t ctid)
{
	struct thread *parent = current;
	struct proc *pp = parent->proc;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if (flags & CLONE_PIDFD)
		return -EINVAL;
	/* vfork (CLONE_VM|CLONE_VFORK): the parent is not suspended, so the child gets a copy of the
	 * address space, as fork: sharing it while both run would corrupt the parent's stack. */
	if ((flags & CLONE_VFORK) && !(flags & CLONE_THREAD))
		flags &= ~CLONE_VM;
	struct proc *p = pp;
	if (!(flags & CLONE_THREAD)) {
		p = proc_alloc();
		if (!p)
			return -ENOMEM;
		memcpy(p->exe, pp->exe, sizeof(p->exe));
		memcpy(p->comm, pp->comm, sizeof(p->comm));
		memcpy(p->rlim, pp->rlim, sizeof(p->rlim));
		p->oom_score_adj = pp->oom_score_adj;
	}
	struct thread *t = new_user_thread(p, -1);
	long err = -ENOMEM;
	if (!t)
		goto fail_proc;
	t->affinity = parent->affinity;
	t->mm = (flags & CLONE_VM) ? parent->mm : mm_fork(parent->mm);
	if (!t->mm)
		goto fail_thread;
	if (flags & CLONE_VM)
		mm_get(t->mm);
	t->files = (flags & CLONE_FILES) ? (files_get(parent->files), parent->files) : files_dup(parent->files);
	t->fs = (flags & CLONE_FS) ? (fs_ctx_get(parent->fs), parent->fs) : fs_ctx_dup(parent->fs);
	if (p != pp)
		p->sighand = (flags & CLONE_SIGHAND) ? (sighand_get(pp->sighand), pp->sighand) : sighand_dup(pp->sighand);
	if (!t->files || !t->fs || (p != pp && !p->sighand))
		goto fail_res;
	memcpy(t->fp, parent->fp, sizeof(struct fpstate));
	irq_push_off();                   /* this_cpu() must not change under us */
	if (this_cpu()->fp_owner == parent && parent->fp_cpu == cpu_id() && (csr_read(sstatus) & SSTATUS_FS))
		fpu_save(t->fp);          /* the parent's live registers are newer than its saved copy */
	irq_pop_off();
	t->sigmask = parent->sigmask;
	struct trapframe *tf = thread_tf(t);
	*tf = *thread_tf(parent);
	tf->regs[10] = 0;                 /* the child's return value */
	if (newsp)
		tf->regs[2] = newsp;
	if (flags & CLONE_SETTLS)
		tf->regs[4] = tls;
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = ctid;
	int tid = t->tid;
	if ((flags & CLONE_PARENT_SETTID) && copy_to_user(ptid, &tid, sizeof(tid)) < 0) {
		err = -EFAULT;
		goto fail_res;
	}
	if (flags & CLONE_CHILD_SETTID) {
		/* written into the child's memory (its own copy after fork) */
		if (mm_write(t->mm, ctid, &tid, sizeof(tid)) < 0) {
			err = -EFAULT;
			goto fail_res;
		}
	}
	spin_lock(&proc_lock);
	if (p != pp) {
		p->pid = tid;
		p->pgid = pp->pgid;
		p->sid = pp->sid;
		p->parent = (flags & CLONE_PARENT) && pp->parent ? pp->parent : pp;
		list_add_tail(&p->sibling, &p->parent->children);
		list_add_tail(&p->all_node, &all_procs);
	}
	list_add_tail(&t->thread_node, &p->threads);
	p->nthreads++;
	spin_unlock(&proc_lock);
	if (p != pp)
		procfs_pid_add(tid, pp->pid);       /* before it runs (and maybe execs) */
	if (flags & CLONE_VM)
		kthread_start(t);
	else
		kthread_start_behind(t);            /* a new address space: "Fork placement", sched.c */
	return tid;

fail_res:
	if (t->files)
		files_put(t->files);
	if (t->fs)
		fs_ctx_put(t->fs);
	mm_put(t->mm);
	if (p != pp && p->sighand)
		sighand_put(p->sighand);
fail_thread:
	kfree(t->fp);
	free_pages(t->kstack, KSTACK_ORDER);
	kfree(t);
fail_proc:
	if (p != pp)
		kfree(p);
	return err;
}

/* Out of memory (a kernel stack, the address space's copy, a table): ask the OOM policy
 * (mm/oom.c) and try again, as Linux's fork does from inside its allocations; ENOMEM only when
 * nothing could be freed. */
#define CLONE_OOM_RETRIES 16

static long clone_retrying(unsigned long flags, uintptr_t newsp, uintptr_t ptid, uintptr_t tls, uintptr_t ctid)
{
	for (int tries = 0;; tries++) {
		long r = do_clone(flags, newsp, ptid, tls, ctid);
		if (r != -ENOMEM || tries >= CLONE_OOM_RETRIES || !out_of_memory("fork"))
			return r;
	}
}

long sys_clone(unsigned long flags, uintptr_t newsp, uintptr_t ptid, uintptr_t tls, uintptr_t ctid)
{
	return clone_retrying(flags, newsp, ptid, tls, ctid);
}

struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0 64

long sys_clone3(uintptr_t uargs, size_t size)
{
	struct clone_args a;
	memset(&a, 0, sizeof(a));
	if (size < CLONE_ARGS_SIZE_VER0 || size > PAGE_SIZE)
		return -EINVAL;
	if (copy_from_user(&a, uargs, MIN(size, sizeof(a))) < 0)
		return -EFAULT;
	if ((a.flags & CSIGNAL) || a.set_tid || a.set_tid_size || a.cgroup || a.exit_signal > 64)
		return -EINVAL;
	uintptr_t sp = a.stack ? a.stack + a.stack_size : 0;
	return clone_retrying(a.flags | a.exit_signal, sp, a.parent_tid, a.tls, a.child_tid);
}

/* ---- exit ---- */

/* The whole process is gone: parent notification. proc_lock held. */
static void proc_become_zombie(struct proc *p, int status)
{
	struct list_head *c, *tmp;
	pgrp_exit_locked(p);                            /* orphaned groups, the terminal (pgrp.c) */
	list_for_each_safe(c, tmp, &p->children) {      /* orphans go to init */
		struct proc *child = list_entry(c, struct proc, sibling);
		list_del(&child->sibling);
		if (init_proc && init_proc != p) {
			child->parent = init_proc;
			list_add_tail(&child->sibling, &init_proc->children);
			if (child->zombie)
				wake_all(&init_proc->child_wait);
		} else {
			child->parent = NULL;
		}
	}
	p->zombie = true;
	p->exit_status = status;
	p->stopped = p->cont_report = false;
	p->stop_report = 0;
	if (p->parent) {
		signal_child_event_locked(p, status);
		wake_all(&p->parent->child_wait);
	}
}

void thread_exit_user(int status)
{
	struct thread *t = current;
	struct proc *p = t->proc;
	if (t->clear_child_tid) {
		int zero = 0;
		if (copy_to_user(t->clear_child_tid, &zero, sizeof(zero)) == 0)
			futex_wake_addr(t->mm, t->clear_child_tid, 1);
	}
	futex_exit_robust_list(t);
	intr_off();
	struct mm *mm = t->mm;
	struct files *files = t->files;
	struct fs_ctx *fs = t->fs;
	spin_lock(&proc_lock);                  /* mm/oom.c, fs/proc_pid.c read these under proc_lock */
	t->mm = NULL;
	t->files = NULL;
	t->fs = NULL;
	spin_unlock(&proc_lock);
	mm_activate(NULL);
	intr_on();
	mm_put(mm);
	files_put(files);
	fs_ctx_put(fs);
	if (this_cpu()->fp_owner == t)
		this_cpu()->fp_owner = NULL;
	for (int i = 0; i < ncpus; i++) {       /* no hart may keep a pointer to the dying thread */
		struct thread *expect = t;
		__atomic_compare_exchange_n(&cpus[i].fp_owner, &expect, NULL, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}

	spin_lock(&proc_lock);
	list_del(&t->thread_node);
	sigqueue_discard_locked(signal_thread_set(t), ~0ULL);   /* its own pending signals go */
	p->utime_ns += t->utime_ns;
	p->stime_ns += t->stime_ns;
	p->nvcsw += t->nvcsw;
	p->nivcsw += t->nivcsw;
	bool last = --p->nthreads == 0;
	if (p->nthreads == 1)
		wake_all(&p->child_wait);       /* an exec may wait for the others to leave */
	if (last && p->exiting)
		status = p->group_status;       /* exit_group's code (or the fatal signal) wins, as in
						 * Linux; a caller may have read exiting before it was set */
	if (last) {
		sigqueue_discard_locked(signal_proc_set(p), ~0ULL);
		sighand_put(p->sighand);
		p->sighand = NULL;
		if (p == init_proc) {
			spin_unlock(&proc_lock);
			int code = (status >> 8) & 0xff;
			printk("init exited with status %d\n", (status & 0x7f) ? 128 + (status & 0x7f) : code);
			if ((status & 0x7f) == 0 && code == 0)
				power_off();
			power_fail(code ? code : 1);
		}
		proc_become_zombie(p, status);
	}
	spin_unlock(&proc_lock);
	kthread_exit();
}

void proc_exit_group(int status)
{
	struct thread *t = current;
	struct proc *p = t->proc;
	spin_lock(&proc_lock);
	if (!p->exiting) {
		p->exiting = true;
		p->group_status = status;
	}
	struct list_head *q;
	list_for_each(q, &p->threads) {
		struct thread *o = list_entry(q, struct thread, thread_node);
		if (o != t) {
			o->killed = true;
			signal_kick(o);
		}
	}
	spin_unlock(&proc_lock);
	thread_exit_user(p->group_status);
}

long sys_exit(int code) { thread_exit_user((code & 0xff) << 8); }
long sys_exit_group(int code) { proc_exit_group((code & 0xff) << 8); return 0; }

/* ---- wait ---- */

static bool wait_match(struct proc *c, int pid)
{
	if (pid == 0)
		return c->pgid == current->proc->pgid;
	return pid == -1 || (pid < -1 && c->pgid == -pid) || c->pid == pid;
}

/* What a waiter wants reported (wait4: exits always; waitid: WEXITED), Linux's order per child:
 * an exit (zombie), then an unreported stop (WUNTRACED/WSTOPPED), then an unreported continue
 * (WCONTINUED). Stops and continues come from job control (kernel/jobctl.c). */
#define WANT_EXITED 1
#define WANT_STOPPED 2
#define WANT_CONTINUED 4
#define WCONTINUED 8
#define CLD_STOPPED 5
#define CLD_CONTINUED 6
#define STOPPED_STATUS(sig) (((sig) << 8) | 0x7f)
#define CONTINUED_STATUS 0xffff

static bool child_has_event(struct proc *ch, int want)
{
	if (ch->zombie)
		return want & WANT_EXITED;
	return ((want & WANT_STOPPED) && ch->stopped && ch->stop_report) ||
	       ((want & WANT_CONTINUED) && ch->cont_report);
}

/* A child matching pid with an event to report, or NULL; *any says whether any child matches.
 * proc_lock held. */
static struct proc *find_event(struct proc *p, int pid, int want, bool *any)
{
	struct list_head *c;
	*any = false;
	list_for_each(c, &p->children) {
		struct proc *ch = list_entry(c, struct proc, sibling);
		if (!wait_match(ch, pid) || (ch->zombie && !(want & WANT_EXITED)))
			continue;                   /* Linux: a zombie counts only for WEXITED */
		*any = true;
		if (child_has_event(ch, want))
			return ch;
	}
	return NULL;
}

/* proc_lock held. Returns z's interval timer, detached, for the caller to free unlocked. */
static struct itimer *reap(struct proc *parent, struct proc *z)
{
	struct itimer *it = z->itimer;
	itimer_detach(z);
	list_del(&z->sibling);
	list_del(&z->all_node);
	parent->cutime_ns += z->utime_ns + z->cutime_ns;
	parent->cstime_ns += z->stime_ns + z->cstime_ns;
	parent->cnvcsw += z->nvcsw + z->cnvcsw;
	parent->cnivcsw += z->nivcsw + z->cnivcsw;
	kfree(z);
	return it;
}

static bool event_ready(struct proc *p, int pid, int want)
{
	bool any;
	spin_lock(&proc_lock);
	bool r = find_event(p, pid, want, &any) != NULL || !any;
	spin_unlock(&proc_lock);
	return r || signal_pending();
}

/* Linux's struct rusage: the times, 12 counters Ember leaves 0 (maxrss .. nsignals), and the
 * voluntary (blocking) and involuntary (preempted) context switches. */
struct k_rusage { long utime[2], stime[2]; long rest[12]; long nvcsw, nivcsw; };

/* What a rusage reports: times in ns, switch counts. */
struct usage { uint64_t u, s, nvcsw, nivcsw; };

static void fill_rusage(struct k_rusage *ru, const struct usage *us)
{
	memset(ru, 0, sizeof(*ru));
	ru->utime[0] = (long)(us->u / NSEC_PER_SEC);
	ru->utime[1] = (long)(us->u % NSEC_PER_SEC / 1000);
	ru->stime[0] = (long)(us->s / NSEC_PER_SEC);
	ru->stime[1] = (long)(us->s % NSEC_PER_SEC / 1000);
	ru->nvcsw = (long)us->nvcsw;
	ru->nivcsw = (long)us->nivcsw;
}

/* A zombie's or stopped child's usage, with (total) or without its reaped children's. proc_lock held. */
static struct usage child_usage(const struct proc *z, bool total)
{
	struct usage us = { z->utime_ns, z->stime_ns, z->nvcsw, z->nivcsw };
	if (total) {
		us.u += z->cutime_ns;
		us.s += z->cstime_ns;
		us.nvcsw += z->cnvcsw;
		us.nivcsw += z->cnivcsw;
	}
	return us;
}

/* Wait for a child's event (want: WANT_*); returns its pid and wait status (an exit's, or
 * STOPPED_STATUS/CONTINUED_STATUS), 0 (WNOHANG), or -errno. consume: reap a zombie, clear a
 * stop or continue report (false for WNOWAIT). */
static long do_wait(int pid, int options, int want, int *status, struct usage *us, bool consume)
{
	struct proc *p = current->proc;
	for (;;) {
		bool any;
		spin_lock(&proc_lock);
		struct proc *z = find_event(p, pid, want, &any);
		if (z && !z->zombie) {                  /* a stop or a continue */
			int zpid = z->pid;
			*status = z->stopped && z->stop_report ? STOPPED_STATUS(z->stop_report) : CONTINUED_STATUS;
			*us = child_usage(z, false);
			if (consume && z->stopped && z->stop_report)
				z->stop_report = 0;
			else if (consume)
				z->cont_report = false;
			spin_unlock(&proc_lock);
			return zpid;
		}
		if (z) {
			int zpid = z->pid;
			*status = z->exit_status;
			*us = child_usage(z, true);
			struct itimer *it = consume ? reap(p, z) : NULL;
			spin_unlock(&proc_lock);
			itimer_free(it);
			if (consume)
				procfs_pid_remove(zpid);
			return zpid;
		}
		spin_unlock(&proc_lock);
		if (!any)
			return -ECHILD;
		if (options & WNOHANG)
			return 0;
		wait_event(&p->child_wait, event_ready(p, pid, want));
		if (signal_pending())
			return -ERESTARTSYS;
	}
}

long sys_wait4(int pid, uintptr_t ustatus, int options, uintptr_t rusage)
{
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | 0x40000000 /* __WALL */ | 0x80000000))
		return -EINVAL;
	int want = WANT_EXITED | (options & WUNTRACED ? WANT_STOPPED : 0) | (options & WCONTINUED ? WANT_CONTINUED : 0);
	int status;
	struct usage us;
	long r = do_wait(pid, options, want, &status, &us, true);
	if (r > 0 && ustatus && copy_to_user(ustatus, &status, sizeof(status)) < 0)
		return -EFAULT;
	if (r > 0 && rusage) {
		struct k_rusage ru;
		fill_rusage(&ru, &us);
		if (copy_to_user(rusage, &ru, sizeof(ru)) < 0)
			return -EFAULT;
	}
	return r;
}

struct k_siginfo_chld { int signo, errno_, code, pad; int pid, uid, status; int pad2; long utime, stime; long rest[10]; };

long sys_waitid(int idtype, int id, uintptr_t info, int options, uintptr_t rusage)
{
	if (!(options & (WEXITED | WUNTRACED | WCONTINUED)) ||
	    (options & ~(WNOHANG | WEXITED | WUNTRACED | WCONTINUED | WNOWAIT)))
		return -EINVAL;
	/* P_PGID: do_wait takes -pgid (0: the caller's group; pgid 1 reads as -1, any child) */
	if ((idtype != P_ALL && idtype != P_PID && idtype != P_PGID) || (idtype == P_PID && id <= 0))
		return -EINVAL;
	int pid = idtype == P_ALL ? -1 : idtype == P_PID ? id : (id > 0 ? -id : 0);
	int want = (options & WEXITED ? WANT_EXITED : 0) | (options & WUNTRACED ? WANT_STOPPED : 0) |
		   (options & WCONTINUED ? WANT_CONTINUED : 0);
	int status;
	struct usage us = { 0 };
	long r = do_wait(pid, options, want, &status, &us, !(options & WNOWAIT));
	if (r < 0)
		return r;
	struct k_siginfo_chld si;
	memset(&si, 0, sizeof(si));
	if (r > 0) {
		si.signo = SIGCHLD;
		si.pid = (int)r;
		if (status == CONTINUED_STATUS) {
			si.code = CLD_CONTINUED;
			si.status = SIGCONT;
		} else if ((status & 0xff) == 0x7f) {
			si.code = CLD_STOPPED;
			si.status = (status >> 8) & 0xff;
		} else if (status & 0x7f) {
			si.code = (status & 0x80) ? CLD_DUMPED : CLD_KILLED;
			si.status = status & 0x7f;
		} else {
			si.code = CLD_EXITED;
			si.status = (status >> 8) & 0xff;
		}
	}
	if (info && copy_to_user(info, &si, sizeof(si)) < 0)
		return -EFAULT;
	if (rusage) {
		struct k_rusage ru;
		fill_rusage(&ru, &us);
		if (copy_to_user(rusage, &ru, sizeof(ru)) < 0)
			return -EFAULT;
	}
	return 0;
}

/* ---- identities, limits, affinity, times ---- */

/* /proc/self/exe: the canonical path exec stored */
const char *current_exe(void)
{
	struct proc *p = current ? current->proc : NULL;
	return p && p->exe[0] ? p->exe : NULL;
}

long sys_getpid(void) { return current->proc->pid; }
long sys_gettid(void) { return current->tid; }

long sys_getppid(void)
{
	spin_lock(&proc_lock);
	struct proc *pp = current->proc->parent;
	long r = pp ? pp->pid : 0;
	spin_unlock(&proc_lock);
	return r;
}

long sys_set_tid_address(uintptr_t tidptr)
{
	current->clear_child_tid = tidptr;
	return current->tid;
}

#define RUSAGE_SELF 0
#define RUSAGE_CHILDREN (-1)
#define RUSAGE_THREAD 1

/* user and system time of a process: its exited threads plus the live ones */
void proc_times(struct proc *p, uint64_t *u, uint64_t *s)
{
	spin_lock(&proc_lock);
	*u = p->utime_ns;
	*s = p->stime_ns;
	struct list_head *q;
	list_for_each(q, &p->threads) {
		struct thread *t = list_entry(q, struct thread, thread_node);
		*u += t->utime_ns;
		*s += t->stime_ns;
	}
	spin_unlock(&proc_lock);
}

long sys_getrusage(int who, uintptr_t usage)
{
	struct proc *p = current->proc;
	struct usage us;
	if (who == RUSAGE_SELF) {
		proc_times(p, &us.u, &us.s);
		spin_lock(&proc_lock);
		us.nvcsw = p->nvcsw;
		us.nivcsw = p->nivcsw;
		struct list_head *q;
		list_for_each(q, &p->threads) {
			struct thread *t = list_entry(q, struct thread, thread_node);
			us.nvcsw += READ_ONCE(t->nvcsw);
			us.nivcsw += READ_ONCE(t->nivcsw);
		}
		spin_unlock(&proc_lock);
	} else if (who == RUSAGE_CHILDREN) {
		spin_lock(&proc_lock);
		us = (struct usage){ p->cutime_ns, p->cstime_ns, p->cnvcsw, p->cnivcsw };
		spin_unlock(&proc_lock);
	} else if (who == RUSAGE_THREAD) {
		us = (struct usage){ current->utime_ns, current->stime_ns, current->nvcsw, current->nivcsw };
	} else {
		return -EINVAL;
	}
	struct k_rusage ru;
	fill_rusage(&ru, &us);
	return copy_to_user(usage, &ru, sizeof(ru)) < 0 ? -EFAULT : 0;
}

#define CLOCK_TICKS_PER_SEC 100

long sys_times(uintptr_t buf)
{
	struct proc *p = current->proc;
	uint64_t u, s;
	proc_times(p, &u, &s);
	long tms[4] = {
		(long)(u / (NSEC_PER_SEC / CLOCK_TICKS_PER_SEC)),
		(long)(s / (NSEC_PER_SEC / CLOCK_TICKS_PER_SEC)),
		(long)(p->cutime_ns / (NSEC_PER_SEC / CLOCK_TICKS_PER_SEC)),
		(long)(p->cstime_ns / (NSEC_PER_SEC / CLOCK_TICKS_PER_SEC)),
	};
	if (buf && copy_to_user(buf, tms, sizeof(tms)) < 0)
		return -EFAULT;
	return (long)(time_ns() / (NSEC_PER_SEC / CLOCK_TICKS_PER_SEC));
}

static struct thread *affinity_target(int pid)
{
	if (pid == 0)
		return current;
	return thread_find(pid);
}

long sys_sched_getaffinity(int pid, size_t len, uintptr_t mask)
{
	if (len < sizeof(unsigned long) || (len & (sizeof(unsigned long) - 1)))
		return -EINVAL;
	spin_lock(&proc_lock);
	struct thread *t = affinity_target(pid);
	unsigned long m = t ? t->affinity & ((1UL << ncpus) - 1) : 0;
	spin_unlock(&proc_lock);
	if (!t)
		return -ESRCH;
	if (clear_user(mask, len) < 0 || copy_to_user(mask, &m, sizeof(m)) < 0)
		return -EFAULT;
	return sizeof(unsigned long);
}

long sys_sched_setaffinity(int pid, size_t len, uintptr_t mask)
{
	unsigned long m = 0;
	if (copy_from_user(&m, mask, MIN(len, sizeof(m))) < 0)
		return -EFAULT;
	m &= (1UL << ncpus) - 1;
	if (!m)
		return -EINVAL;
	spin_lock(&proc_lock);
	struct thread *t = affinity_target(pid);
	if (t)
		t->affinity = m;
	spin_unlock(&proc_lock);
	if (!t)
		return -ESRCH;
	if (t == current && !(m & (1UL << cpu_id())))
		sched_migrate_current();
	return 0;
}
