/*
 * Signals: actions (shared by CLONE_SIGHAND), per-thread masks and pending sets, process-directed
 * pending sets, delivery on the way back to user mode, the signal frame and rt_sigreturn.
 *
 * Theory. A signal is made pending on a thread (tgkill, faults) or on the process (kill); the
 * sender then kicks one thread that does not block it: a sleeping thread is woken, and blocking
 * calls notice signal_pending() and return -ERESTARTSYS. On every return to user mode
 * signal_deliver takes the lowest pending unblocked signal: ignored ones vanish, default actions
 * terminate the process (with a core flag for core signals when RLIMIT_CORE would let Linux
 * write a core), and a handler gets a Linux riscv64
 * rt_sigframe (siginfo + ucontext with all registers and FP state) on the user stack (or the
 * alternate stack) with ra pointing at the sigreturn trampoline page. An interrupted syscall that
 * returned a restart code (signal.h) restarts when no handler runs (the signal was ignored, a stop
 * parked the thread, or another thread took it); when one runs, -ERESTARTSYS restarts under
 * SA_RESTART and everything else fails with EINTR. -ERESTART_RESTARTBLOCK restarts through
 * restart_syscall (a7 = 128), which resumes what the thread's restart block kept.
 *
 * Each pending set (a thread's, a process's) has one siginfo record per standard signal and a
 * queue of real-time instances (kernel/sigqueue.c): a sender fills the record unless the signal
 * is already pending (standard signals are not queued; the first record stays, Linux's
 * legacy_queue) or adds an instance (real-time ones, bounded by RLIMIT_SIGPENDING: sigqueue's
 * EAGAIN), and whoever takes the signal
 * (signal_deliver, signalfd, rt_sigtimedwait) takes the record with it under proc_lock. Linux's
 * si_codes: SI_USER/SI_TKILL with the sender's pid for kill/tgkill, SI_QUEUE for sigqueue, CLD_*
 * for SIGCHLD (signal_child_event_locked), SI_KERNEL for signals the kernel sends on its own, the
 * fault's code and address for faults. A signal sent while blocked is kept even if its action
 * ignores it (it may be taken by sigwaitinfo or the action may change), as Linux's sig_ignored.
 *
 * Locking: sighand->lock guards actions; pending bits are set and taken, with their records,
 * under proc_lock (a few discards clear bits with atomics only); masks belong to their thread.
 */
#include "kernel/signal.h"
#include "kernel/itimer.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/ipi.h"
#include "kernel/jobctl.h"
#include "kernel/printk.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "kernel/pgrp.h"
#include "kernel/proc.h"
#include "kernel/rlimit.h"
#include "kernel/sched.h"
#include "kernel/sigqueue.h"
#include "kernel/timer.h"
#include "lib/string.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/trap.h"

#define SA_NOCLDSTOP 0x1
#define SA_SIGINFO 0x4
#define SA_ONSTACK 0x08000000
#define SA_RESTART 0x10000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SIG_DFL 0
#define SIG_IGN 1
#define NR_RESTART_SYSCALL 128          /* riscv64's __NR_restart_syscall */
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048
#define SIGINFO_SIZE 128
#define UC_UNUSED_BYTES (1024 / 8 - 8)
#define CORE_FLAG 0x80
#define USER_HZ 100                     /* clock_t ticks of si_utime/si_stime */

#define SIGBIT(s) (1UL << ((s) - 1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

struct k_sigaction { uintptr_t handler; unsigned long flags; uint64_t mask; };

struct sighand {
	int refcount;
	struct spinlock lock;
	struct k_sigaction action[NSIG];
};

struct k_siginfo {                      /* siginfo_t: the record, then zeros */
	struct ksiginfo head;
	uint8_t rest[SIGINFO_SIZE - sizeof(struct ksiginfo)];
};

struct k_stack { uintptr_t sp; int flags; int pad; size_t size; };

struct k_ucontext {
	unsigned long flags;
	uintptr_t link;
	struct k_stack stack;
	uint64_t sigmask;
	uint8_t unused[UC_UNUSED_BYTES];
	uint64_t regs[32];              /* sc_regs: pc, ra, sp, gp, tp, t0.. (x1..x31 after pc) */
	uint64_t fpregs[66] __aligned(16);  /* union __riscv_fp_state (q: 64 f + fcsr + reserved) */
};

struct rt_sigframe {
	struct k_siginfo info;
	struct k_ucontext uc;
};

size_t signal_frame_size(void) { return ALIGN_UP(sizeof(struct rt_sigframe), 16); }

/* ---- sighand objects ---- */

struct sighand *sighand_new(void)
{
	struct sighand *sh = kzalloc(sizeof(*sh));
	if (sh) {
		sh->refcount = 1;
		spin_init(&sh->lock, "sighand");
	}
	return sh;
}

void sighand_get(struct sighand *sh) { __atomic_fetch_add(&sh->refcount, 1, __ATOMIC_RELAXED); }

void sighand_put(struct sighand *sh)
{
	if (sh && __atomic_sub_fetch(&sh->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		kfree(sh);
}

struct sighand *sighand_dup(struct sighand *old)
{
	struct sighand *sh = sighand_new();
	if (sh) {
		spin_lock(&old->lock);
		memcpy(sh->action, old->action, sizeof(sh->action));
		spin_unlock(&old->lock);
	}
	return sh;
}

/* exec: handled signals go back to default, ignored ones stay ignored */
void signal_exec_reset(struct sighand *sh)
{
	spin_lock(&sh->lock);
	for (int i = 0; i < NSIG; i++)
		if (sh->action[i].handler != SIG_IGN)
			sh->action[i] = (struct k_sigaction){ SIG_DFL, 0, 0 };
	spin_unlock(&sh->lock);
}

/* ---- sending ---- */

static bool default_ignored(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == 23 /* SIGURG */ || sig == 28 /* SIGWINCH */;
}

static bool default_core(int sig)
{
	return sig == SIGQUIT || sig == SIGILL || sig == SIGTRAP || sig == SIGABRT || sig == SIGBUS ||
	       sig == SIGFPE || sig == SIGSEGV || sig == 24 || sig == 25 || sig == 31;
}

void signal_kick(struct thread *t)
{
	if (t->state == THREAD_SLEEPING)
		sched_wake(t);
	else if (t->cpu != cpu_id())
		ipi_send(t->cpu, IPI_RESCHED);
}

void siginfo_kernel(struct ksiginfo *si, int sig)
{
	memset(si, 0, sizeof(*si));
	si->signo = sig;
	si->code = SI_KERNEL;
}

void siginfo_sender(struct ksiginfo *si, int sig, int code)
{
	memset(si, 0, sizeof(*si));
	si->signo = sig;
	si->code = code;
	struct thread *t = current;
	si->kill.pid = t && t->proc ? t->proc->pid : 0;
	si->kill.uid = 0;                       /* everyone is root */
}

struct sigset_ref signal_thread_set(struct thread *t)
{
	return (struct sigset_ref){ &t->sigpending, t->sig_info, &t->sigq };
}

struct sigset_ref signal_proc_set(struct proc *p)
{
	return (struct sigset_ref){ &p->shared_pending, p->shared_info, &p->shared_sigq };
}

int signal_send_thread_info_locked(struct thread *t, const struct ksiginfo *info)
{
	int r = sigqueue_add_locked(signal_thread_set(t), info, READ_ONCE(t->proc->rlim[RLIMIT_SIGPENDING].cur));
	if (r)
		return r;
	signal_kick(t);
	signalfd_notify();
	return 0;
}

void signal_send_thread(struct thread *t, int sig)
{
	struct ksiginfo si;
	siginfo_kernel(&si, sig);
	spin_lock(&proc_lock);
	signal_send_thread_info_locked(t, &si);
	spin_unlock(&proc_lock);
}

unsigned long signal_action_flags(struct proc *p, int sig)
{
	struct sighand *sh = p->sighand;
	if (!sh)
		return 0;
	spin_lock(&sh->lock);
	unsigned long f = sh->action[sig - 1].flags;
	spin_unlock(&sh->lock);
	return f;
}

bool signal_ignored_or_blocked(struct thread *t, int sig)
{
	if (t->sigmask & SIGBIT(sig))
		return true;
	struct sighand *sh = t->proc->sighand;
	spin_lock(&sh->lock);
	uintptr_t h = sh->action[sig - 1].handler;
	spin_unlock(&sh->lock);
	return h == SIG_IGN;
}

/* Linux's sig_ignored: a blocked signal is never discarded when sent (its action may change
 * before it is unblocked, or sigwaitinfo/signalfd takes it). Linux looks at the thread the pid
 * names; Ember at every thread of the process. proc_lock held. */
static bool blocked_by_any(struct proc *p, int sig)
{
	struct list_head *q;
	list_for_each(q, &p->threads) {
		struct thread *t = list_entry(q, struct thread, thread_node);
		if ((t->sigmask | t->real_blocked) & SIGBIT(sig))
			return true;
	}
	return false;
}

void signal_send_proc_locked(struct proc *p, int sig)
{
	struct ksiginfo si;
	siginfo_kernel(&si, sig);
	signal_send_proc_info_locked(p, &si);
}

int signal_send_proc_info_locked(struct proc *p, const struct ksiginfo *info)
{
	int sig = info->signo;
	if (!p->sighand)
		return 0;
	jobctl_send_locked(p, sig);              /* SIGCONT resumes; stop and continue cancel */
	uintptr_t h = p->sighand->action[sig - 1].handler;
	if ((h == SIG_IGN || (h == SIG_DFL && default_ignored(sig))) && !blocked_by_any(p, sig))
		return 0;                        /* discarded at once, as Linux does */
	int r = sigqueue_add_locked(signal_proc_set(p), info, READ_ONCE(p->rlim[RLIMIT_SIGPENDING].cur));
	if (r)
		return r;
	signalfd_notify();
	struct list_head *q;
	list_for_each(q, &p->threads) {
		struct thread *t = list_entry(q, struct thread, thread_node);
		if (!(t->sigmask & SIGBIT(sig)) || sig == SIGKILL) {
			signal_kick(t);
			return 0;
		}
	}
	return 0;
}

/* SIGPIPE, SIGXFSZ: Linux's send_sig(sig, current, 0), si_code SI_USER from the caller itself */
void signal_raise(int sig)
{
	struct ksiginfo si;
	siginfo_sender(&si, sig, SI_USER);
	spin_lock(&proc_lock);
	signal_send_thread_info_locked(current, &si);
	spin_unlock(&proc_lock);
}

/* wstatus in wait(2)'s encoding (an exit, a fatal signal with the core flag, a stop, a continue):
 * SIGCHLD to child's parent with the si_code, si_status and the child's CPU times. */
#define STATUS_CONTINUED 0xffff

void signal_child_event_locked(struct proc *child, int wstatus)
{
	struct proc *pp = child->parent;
	if (!pp || pp->zombie)
		return;
	struct ksiginfo si;
	memset(&si, 0, sizeof(si));
	si.signo = SIGCHLD;
	si.chld.pid = child->pid;
	if (wstatus == STATUS_CONTINUED) {
		si.code = CLD_CONTINUED;
		si.chld.status = SIGCONT;
	} else if ((wstatus & 0xff) == 0x7f) {
		si.code = CLD_STOPPED;
		si.chld.status = (wstatus >> 8) & 0xff;
	} else if (wstatus & 0x7f) {
		si.code = (wstatus & CORE_FLAG) ? CLD_DUMPED : CLD_KILLED;
		si.chld.status = wstatus & 0x7f;
	} else {
		si.code = CLD_EXITED;
		si.chld.status = (wstatus >> 8) & 0xff;
	}
	uint64_t u = child->utime_ns, s = child->stime_ns;
	struct list_head *q;
	list_for_each(q, &child->threads) {
		struct thread *t = list_entry(q, struct thread, thread_node);
		u += t->utime_ns;
		s += t->stime_ns;
	}
	si.chld.utime = (int64_t)(u / (NSEC_PER_SEC / USER_HZ));
	si.chld.stime = (int64_t)(s / (NSEC_PER_SEC / USER_HZ));
	signal_send_proc_info_locked(pp, &si);
}

/* Take sig from the current thread's own set or its process's (shared) with its record: false if
 * another thread took it first. proc_lock held. */
static bool take_locked(struct thread *t, int sig, bool shared, struct ksiginfo *out)
{
	if (!sigqueue_take_locked(shared ? signal_proc_set(t->proc) : signal_thread_set(t), sig, out))
		return false;
	if (shared && sig == SIGALRM)
		itimer_sigalrm_dequeued(t->proc);       /* a periodic itimer restarts (proc_lock -> it->lock) */
	return true;
}

int signal_dequeue(uint64_t mask, struct ksiginfo *out)
{
	struct thread *t = current;
	int sig = 0;
	spin_lock(&proc_lock);
	uint64_t own = READ_ONCE(t->sigpending) & mask;
	uint64_t sh = READ_ONCE(t->proc->shared_pending) & mask;
	if (own)
		sig = ctz64(own) + 1;
	else if (sh)
		sig = ctz64(sh) + 1;
	if (sig && !take_locked(t, sig, !own, out))
		sig = 0;
	spin_unlock(&proc_lock);
	return sig;
}

bool signal_pending(void)
{
	struct thread *t = current;
	if (!t->proc)
		return false;
	return t->killed || t->proc->exiting || READ_ONCE(t->proc->stopped) ||
	       ((READ_ONCE(t->sigpending) | READ_ONCE(t->proc->shared_pending)) & ~t->sigmask);
}

/* ---- delivery ---- */

static int next_signal(struct thread *t, bool *shared)
{
	uint64_t own = READ_ONCE(t->sigpending) & ~t->sigmask;
	uint64_t sh = READ_ONCE(t->proc->shared_pending) & ~t->sigmask;
	if ((own | sh) & SIGBIT(SIGKILL)) {       /* first: it also ends a stop */
		*shared = !(own & SIGBIT(SIGKILL));
		return SIGKILL;
	}
	if (own) {
		*shared = false;
		return ctz64(own) + 1;
	}
	if (sh) {
		*shared = true;
		return ctz64(sh) + 1;
	}
	return 0;
}

static int setup_frame(struct trapframe *tf, int sig, struct k_sigaction *ka, const struct k_siginfo *info)
{
	struct thread *t = current;
	uintptr_t sp = tf->regs[2];
	bool on_alt = t->altstack_size && sp >= t->altstack_sp && sp < t->altstack_sp + t->altstack_size;
	if ((ka->flags & SA_ONSTACK) && t->altstack_size && !on_alt && !(t->altstack_flags & SS_DISABLE))
		sp = t->altstack_sp + t->altstack_size;
	sp = ALIGN_DOWN(sp - sizeof(struct rt_sigframe), 16);
	struct rt_sigframe *f = kzalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->info = *info;
	f->uc.stack = (struct k_stack){ t->altstack_sp, t->altstack_size ? (on_alt ? SS_ONSTACK : 0) : SS_DISABLE, 0,
				       t->altstack_size };
	f->uc.sigmask = t->has_saved_sigmask ? t->saved_sigmask : t->sigmask;
	f->uc.regs[0] = tf->sepc;
	for (int i = 1; i < 32; i++)
		f->uc.regs[i] = tf->regs[i];
	irq_push_off();                 /* this_cpu() must not change under us */
	struct cpu *c = this_cpu();
	if (c->fp_owner == t && t->fp_cpu == c->id && (csr_read(sstatus) & SSTATUS_FS))
		fpu_save(t->fp);
	irq_pop_off();
	memcpy(f->uc.fpregs, t->fp->f, sizeof(t->fp->f));
	f->uc.fpregs[32] = t->fp->fcsr;
	int r = copy_to_user(sp, f, sizeof(*f));
	kfree(f);
	if (r < 0)
		return r;
	tf->regs[2] = sp;
	tf->regs[1] = USER_SIGPAGE;
	tf->regs[10] = (uint64_t)sig;
	tf->regs[11] = sp + offsetof(struct rt_sigframe, info);
	tf->regs[12] = sp + offsetof(struct rt_sigframe, uc);
	tf->sepc = ka->handler;
	return 0;
}

/* Linux sets the wait status's core flag (CLD_DUMPED) only when do_coredump wrote a core, and
 * with core_pattern "core" it writes none below a page of RLIMIT_CORE (the ELF binfmt's
 * min_coredump): so no flag with the default soft limit 0. Ember writes no core file; the flag
 * says a core would have been dumped, as shells then report. */
static bool would_dump_core(int sig)
{
	return default_core(sig) && rlimit_cur(RLIMIT_CORE) >= PAGE_SIZE;
}

static void __noreturn die(int sig)
{
	proc_exit_group(sig | (would_dump_core(sig) ? CORE_FLAG : 0));
	__builtin_unreachable();
}

static bool is_restart_code(long r)
{
	return r == -ERESTARTSYS || r == -ERESTARTNOHAND || r == -ERESTART_RESTARTBLOCK;
}

/* The interrupted call goes again as no handler ran (signal.h's restart codes): the same call
 * with its first argument back, or restart_syscall for a restart block. */
static void restart_unhandled(struct thread *t, struct trapframe *tf, long restart)
{
	if (!is_restart_code(restart))
		return;
	tf->regs[10] = t->syscall_a0;
	if (restart == -ERESTART_RESTARTBLOCK)
		tf->regs[17] = NR_RESTART_SYSCALL;  /* a7 */
	tf->sepc -= 4;
}

void signal_deliver(struct trapframe *tf)
{
	struct thread *t = current;
	bool shared;
	int sig = next_signal(t, &shared);
	long restart = t->in_syscall && tf->scause == EXC_ECALL_U ? (long)tf->regs[10] : 0;
	if (!sig) {
		if (t->has_saved_sigmask) {     /* sigsuspend woke for nothing we deliver */
			t->sigmask = t->saved_sigmask;
			t->has_saved_sigmask = false;
		}
		restart_unhandled(t, tf, restart);   /* nobody handled it: restart the call */
		t->in_syscall = false;
		return;
	}
	struct sighand *sh = t->proc->sighand;
	spin_lock(&sh->lock);
	struct k_sigaction ka = sh->action[sig - 1];
	spin_unlock(&sh->lock);
	bool stop = ka.handler == SIG_DFL && sig_is_stop(sig);
	struct k_siginfo info;
	memset(&info, 0, sizeof(info));
	bool taken = false;
	if (stop) {                             /* dequeued under proc_lock (jobctl.c) */
		jobctl_stop(sig, shared);
	} else {
		spin_lock(&proc_lock);
		taken = take_locked(t, sig, shared, &info.head);
		spin_unlock(&proc_lock);
	}

	/* ignored, a stop (the thread parks in proc_return_to_user; the call restarts after), or
	 * another thread took the process's signal first */
	if (stop || !taken || ka.handler == SIG_IGN || (ka.handler == SIG_DFL && default_ignored(sig))) {
		if (t->has_saved_sigmask) {     /* sigsuspend/ppoll: back to the caller's mask */
			t->sigmask = t->saved_sigmask;
			t->has_saved_sigmask = false;
		}
		restart_unhandled(t, tf, restart);
		t->in_syscall = false;
		return;
	}
	if (ka.handler == SIG_DFL || sig == SIGKILL)
		die(sig);
	if (ka.flags & SA_RESETHAND) {
		spin_lock(&sh->lock);
		sh->action[sig - 1] = (struct k_sigaction){ SIG_DFL, 0, 0 };
		spin_unlock(&sh->lock);
	}
	if (restart == -ERESTARTSYS && (ka.flags & SA_RESTART))
		restart_unhandled(t, tf, restart);
	else if (is_restart_code(restart))
		tf->regs[10] = (uint64_t)-EINTR;
	t->restart.fn = NULL;                   /* the handler's own calls cannot resume this one */
	t->in_syscall = false;
	if (setup_frame(tf, sig, &ka, &info) < 0)
		die(SIGSEGV);
	t->has_saved_sigmask = false;
	t->sigmask |= ka.mask | (ka.flags & SA_NODEFER ? 0 : SIGBIT(sig));
	t->sigmask &= ~UNBLOCKABLE;
}

void signal_fault(int sig, int code, uintptr_t addr)
{
	struct thread *t = current;
	struct sighand *sh = t->proc->sighand;
	uintptr_t h = sh->action[sig - 1].handler;
	if (h == SIG_DFL)                       /* as Linux's show_unhandled_signals */
		printk("%s[%d]: unhandled signal %d code %d at %#lx pc %#lx\n", t->proc->comm, t->tid, sig, code,
		       (unsigned long)addr, (unsigned long)thread_tf(t)->sepc);
	if ((t->sigmask & SIGBIT(sig)) || h == SIG_IGN)
		die(sig);                   /* a blocked or ignored fault signal kills, as on Linux */
	struct ksiginfo si;
	memset(&si, 0, sizeof(si));
	si.signo = sig;
	si.code = code;
	si.fault.addr = addr;
	spin_lock(&proc_lock);
	sigqueue_force_locked(signal_thread_set(t), &si);   /* the fault's record wins, as force_sig_fault */
	spin_unlock(&proc_lock);
}

long sys_rt_sigreturn(void)
{
	struct thread *t = current;
	struct trapframe *tf = thread_tf(t);
	struct rt_sigframe *f = kmalloc(sizeof(*f));
	if (!f)
		die(SIGSEGV);
	if (copy_from_user(f, tf->regs[2], sizeof(*f)) < 0) {
		kfree(f);
		die(SIGSEGV);
	}
	tf->sepc = f->uc.regs[0];
	for (int i = 1; i < 32; i++)
		tf->regs[i] = f->uc.regs[i];
	memcpy(t->fp->f, f->uc.fpregs, sizeof(t->fp->f));
	t->fp->fcsr = (uint32_t)f->uc.fpregs[32];
	t->fp_cpu = -1;                     /* reload on the way out */
	t->sigmask = f->uc.sigmask & ~UNBLOCKABLE;
	kfree(f);
	t->restart.fn = NULL;
	t->in_syscall = false;
	return (long)tf->regs[10];
}

/* ---- system calls ---- */

/* restart_syscall: what signal_deliver set up after -ERESTART_RESTARTBLOCK, once; called
 * directly (or a second time), EINTR as Linux's do_no_restart_syscall. */
long sys_restart_syscall(void)
{
	struct thread *t = current;
	long (*fn)(struct restart_block *) = t->restart.fn;
	t->restart.fn = NULL;
	return fn ? fn(&t->restart) : -EINTR;
}

long sys_rt_sigaction(int sig, uintptr_t act, uintptr_t oact, size_t sigsetsize)
{
	if (sig < 1 || sig > NSIG || sigsetsize != sizeof(uint64_t))
		return -EINVAL;
	struct k_sigaction ka, old;
	if (act && copy_from_user(&ka, act, sizeof(ka)) < 0)
		return -EFAULT;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	struct sighand *sh = current->proc->sighand;
	spin_lock(&sh->lock);
	old = sh->action[sig - 1];
	if (act) {
		ka.mask &= ~UNBLOCKABLE;
		sh->action[sig - 1] = ka;
	}
	spin_unlock(&sh->lock);
	if (act && (ka.handler == SIG_IGN || (ka.handler == SIG_DFL && default_ignored(sig)))) {
		struct proc *p = current->proc;         /* every thread's instances go, as Linux's */
		spin_lock(&proc_lock);                  /* flush_sigqueue_mask */
		sigqueue_discard_locked(signal_proc_set(p), SIGBIT(sig));
		struct list_head *q;
		list_for_each(q, &p->threads)
			sigqueue_discard_locked(signal_thread_set(list_entry(q, struct thread, thread_node)), SIGBIT(sig));
		spin_unlock(&proc_lock);
	}
	if (oact && copy_to_user(oact, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sys_rt_sigprocmask(int how, uintptr_t set, uintptr_t oset, size_t sigsetsize)
{
	if (sigsetsize != sizeof(uint64_t))
		return -EINVAL;
	struct thread *t = current;
	uint64_t old = t->sigmask, m;
	if (set) {
		if (copy_from_user(&m, set, sizeof(m)) < 0)
			return -EFAULT;
		switch (how) {
		case SIG_BLOCK: t->sigmask |= m; break;
		case SIG_UNBLOCK: t->sigmask &= ~m; break;
		case SIG_SETMASK: t->sigmask = m; break;
		default: return -EINVAL;
		}
		t->sigmask &= ~UNBLOCKABLE;
	}
	if (oset && copy_to_user(oset, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sys_rt_sigpending(uintptr_t set, size_t sigsetsize)
{
	if (sigsetsize != sizeof(uint64_t))
		return -EINVAL;
	uint64_t p = (current->sigpending | current->proc->shared_pending) & current->sigmask;
	return copy_to_user(set, &p, sizeof(p)) < 0 ? -EFAULT : 0;
}

static struct waitq suspend_wq = WAITQ_INIT(suspend_wq, "sigsuspend");

long sys_rt_sigsuspend(uintptr_t mask, size_t sigsetsize)
{
	uint64_t m;
	if (sigsetsize != sizeof(uint64_t))
		return -EINVAL;
	if (copy_from_user(&m, mask, sizeof(m)) < 0)
		return -EFAULT;
	struct thread *t = current;
	uint64_t old = t->sigmask;
	t->sigmask = m & ~UNBLOCKABLE;
	wait_event(&suspend_wq, signal_pending());
	/* the handler runs with the temporary mask; its frame records the old one for sigreturn.
	 * A signal no handler takes (ignored, a stop) puts the old mask back and suspends again, as
	 * Linux: sigsuspend returns only after a handler ran. */
	t->saved_sigmask = old;
	t->has_saved_sigmask = true;
	return -ERESTARTNOHAND;
}

long sys_sigaltstack(uintptr_t ss, uintptr_t oss)
{
	struct thread *t = current;
	struct k_stack old = { t->altstack_sp, t->altstack_size ? t->altstack_flags : SS_DISABLE, 0, t->altstack_size };
	uintptr_t sp = thread_tf(t)->regs[2];
	if (t->altstack_size && sp >= t->altstack_sp && sp < t->altstack_sp + t->altstack_size)
		old.flags = SS_ONSTACK;
	if (ss) {
		struct k_stack n;
		if (copy_from_user(&n, ss, sizeof(n)) < 0)
			return -EFAULT;
		if (old.flags == SS_ONSTACK)
			return -EPERM;
		if (n.flags & ~SS_DISABLE)
			return -EINVAL;
		if (n.flags & SS_DISABLE) {
			t->altstack_sp = 0;
			t->altstack_size = 0;
		} else {
			if (n.size < MINSIGSTKSZ)
				return -ENOMEM;
			t->altstack_sp = n.sp;
			t->altstack_size = n.size;
		}
		t->altstack_flags = n.flags;
	}
	if (oss && copy_to_user(oss, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sys_kill(int pid, int sig)
{
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	long r = -ESRCH;
	struct ksiginfo si;
	siginfo_sender(&si, sig, SI_USER);
	spin_lock(&proc_lock);
	if (pid > 0) {
		struct proc *p = proc_find(pid);
		if (p) {
			if (sig)
				signal_send_proc_info_locked(p, &si);
			r = 0;
		}
	} else if (pid == -1) {                 /* all but init and the sender */
		r = signal_all_locked(&si, current->proc);
	} else {                                /* 0: the sender's group; -pgid: that group */
		r = signal_pgrp_info_locked(pid == 0 ? current->proc->pgid : -pid, &si);
	}
	spin_unlock(&proc_lock);
	return r;
}

static long send_tid(int tgid, int tid, int sig)
{
	if (sig < 0 || sig > NSIG || tid <= 0)
		return -EINVAL;
	struct ksiginfo si;
	siginfo_sender(&si, sig, SI_TKILL);
	return signal_send_tid(tgid, tid, &si);
}

long signal_send_tid(int tgid, int tid, const struct ksiginfo *info)
{
	int sig = info->signo;
	spin_lock(&proc_lock);
	struct thread *t = thread_find(tid);
	long r = -ESRCH;
	if (t && (tgid < 0 || t->proc->pid == tgid)) {
		r = 0;
		if (sig) {
			if (t->proc->sighand)
				jobctl_send_locked(t->proc, sig);
			r = signal_send_thread_info_locked(t, info);
		}
	}
	spin_unlock(&proc_lock);
	return r;
}

long sys_tkill(int tid, int sig) { return send_tid(-1, tid, sig); }
long sys_tgkill(int tgid, int tid, int sig) { return tgid <= 0 ? -EINVAL : send_tid(tgid, tid, sig); }
