/*
 * Signals: actions (shared by CLONE_SIGHAND), per-thread masks and pending sets, process-directed
 * pending sets, delivery on the way back to user mode, the signal frame and rt_sigreturn.
 *
 * Theory. A signal is made pending on a thread (tgkill, faults) or on the process (kill); the
 * sender then kicks one thread that does not block it: a sleeping thread is woken, and blocking
 * calls notice signal_pending() and return -ERESTARTSYS. On every return to user mode
 * signal_deliver takes the lowest pending unblocked signal: ignored ones vanish, default actions
 * terminate the process (with a core flag for core signals), and a handler gets a Linux riscv64
 * rt_sigframe (siginfo + ucontext with all registers and FP state) on the user stack (or the
 * alternate stack) with ra pointing at the sigreturn trampoline page. An interrupted syscall that
 * returned -ERESTARTSYS restarts when the handler has SA_RESTART (or there is no handler), else
 * fails with EINTR.
 *
 * Locking: sighand->lock guards actions; pending sets and masks are updated with atomics or under
 * proc_lock (senders), and read by their own thread.
 */
#include "kernel/signal.h"
#include "kernel/itimer.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/ipi.h"
#include "kernel/jobctl.h"
#include "kernel/printk.h"
#include "mm/kmalloc.h"
#include "kernel/pgrp.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
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
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048
#define SI_USER 0
#define SI_TKILL (-6)
#define SIGINFO_SIZE 128
#define UC_UNUSED_BYTES (1024 / 8 - 8)
#define CORE_FLAG 0x80

#define SIGBIT(s) (1UL << ((s) - 1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

struct k_sigaction { uintptr_t handler; unsigned long flags; uint64_t mask; };

struct sighand {
	int refcount;
	struct spinlock lock;
	struct k_sigaction action[NSIG];
};

struct k_siginfo {
	int signo, errno_, code, pad;
	union {
		struct { int pid, uid; } kill;
		struct { uintptr_t addr; } fault;
		char bytes[SIGINFO_SIZE - 16];
	};
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

void signal_send_thread(struct thread *t, int sig)
{
	__atomic_fetch_or(&t->sigpending, SIGBIT(sig), __ATOMIC_RELEASE);
	signal_kick(t);
	signalfd_notify();
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

void signal_send_proc_locked(struct proc *p, int sig)
{
	if (!p->sighand)
		return;
	jobctl_send_locked(p, sig);              /* SIGCONT resumes; stop and continue cancel */
	uintptr_t h = p->sighand->action[sig - 1].handler;
	if (h == SIG_IGN || (h == SIG_DFL && default_ignored(sig)))
		return;                          /* discarded at once, as Linux does */
	__atomic_fetch_or(&p->shared_pending, SIGBIT(sig), __ATOMIC_RELEASE);
	signalfd_notify();
	struct list_head *q;
	list_for_each(q, &p->threads) {
		struct thread *t = list_entry(q, struct thread, thread_node);
		if (!(t->sigmask & SIGBIT(sig)) || sig == SIGKILL) {
			signal_kick(t);
			return;
		}
	}
}

void signal_raise(int sig) { signal_send_thread(current, sig); }

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

static struct k_siginfo fault_info[NCPU];   /* not used across sleeps: filled and consumed at once */

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

static void __noreturn die(int sig)
{
	proc_exit_group(sig | (default_core(sig) ? CORE_FLAG : 0));
	__builtin_unreachable();
}

void signal_deliver(struct trapframe *tf)
{
	struct thread *t = current;
	bool shared;
	int sig = next_signal(t, &shared);
	long restart = t->in_syscall ? (long)tf->regs[10] : 0;
	bool was_restart = tf->scause == EXC_ECALL_U && restart == -ERESTARTSYS;
	if (!sig) {
		if (t->has_saved_sigmask) {     /* sigsuspend woke for nothing we deliver */
			t->sigmask = t->saved_sigmask;
			t->has_saved_sigmask = false;
		}
		if (was_restart) {              /* nobody handled it: restart the call */
			tf->regs[10] = t->syscall_a0;
			tf->sepc -= 4;
		}
		t->in_syscall = false;
		return;
	}
	struct sighand *sh = t->proc->sighand;
	spin_lock(&sh->lock);
	struct k_sigaction ka = sh->action[sig - 1];
	bool stop = ka.handler == SIG_DFL && sig_is_stop(sig);
	if (ka.handler > SIG_IGN && (ka.flags & SA_RESETHAND))
		sh->action[sig - 1] = (struct k_sigaction){ SIG_DFL, 0, 0 };
	spin_unlock(&sh->lock);
	if (stop)                               /* dequeued under proc_lock (jobctl.c) */
		jobctl_stop(sig, shared);
	else if (!shared)
		__atomic_fetch_and(&t->sigpending, ~SIGBIT(sig), __ATOMIC_ACQ_REL);
	else if ((__atomic_fetch_and(&t->proc->shared_pending, ~SIGBIT(sig), __ATOMIC_ACQ_REL) & SIGBIT(sig)) &&
		 sig == SIGALRM)
		itimer_sigalrm_dequeued(t->proc);       /* a periodic itimer restarts */

	/* ignored, or a stop (the thread parks in proc_return_to_user; the call restarts after) */
	if (stop || ka.handler == SIG_IGN || (ka.handler == SIG_DFL && default_ignored(sig))) {
		if (t->has_saved_sigmask) {     /* sigsuspend/ppoll: back to the caller's mask */
			t->sigmask = t->saved_sigmask;
			t->has_saved_sigmask = false;
		}
		if (was_restart) {
			tf->regs[10] = t->syscall_a0;
			tf->sepc -= 4;
		}
		t->in_syscall = false;
		return;
	}
	if (ka.handler == SIG_DFL || sig == SIGKILL)
		die(sig);
	if (was_restart) {
		if (ka.flags & SA_RESTART) {
			tf->regs[10] = t->syscall_a0;
			tf->sepc -= 4;
		} else {
			tf->regs[10] = (uint64_t)-EINTR;
		}
	}
	t->in_syscall = false;
	struct k_siginfo info;
	memset(&info, 0, sizeof(info));
	struct k_siginfo *fi = &fault_info[cpu_id()];
	if (fi->signo == sig) {
		info = *fi;
		fi->signo = 0;
	} else {
		info.signo = sig;
		info.code = (t->sig_tkill & SIGBIT(sig)) ? SI_TKILL : SI_USER;
		__atomic_fetch_and(&t->sig_tkill, ~SIGBIT(sig), __ATOMIC_RELAXED);
	}
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
	struct k_siginfo *fi = &fault_info[cpu_id()];
	memset(fi, 0, sizeof(*fi));
	fi->signo = sig;
	fi->code = code;
	fi->fault.addr = addr;
	__atomic_fetch_or(&t->sigpending, SIGBIT(sig), __ATOMIC_RELEASE);
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
	t->in_syscall = false;
	return (long)tf->regs[10];
}

/* ---- system calls ---- */

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
		__atomic_fetch_and(&current->proc->shared_pending, ~SIGBIT(sig), __ATOMIC_ACQ_REL);
		__atomic_fetch_and(&current->sigpending, ~SIGBIT(sig), __ATOMIC_ACQ_REL);
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
	/* the handler runs with the temporary mask; its frame records the old one for sigreturn */
	t->saved_sigmask = old;
	t->has_saved_sigmask = true;
	t->in_syscall = false;
	return -EINTR;
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
	spin_lock(&proc_lock);
	if (pid > 0) {
		struct proc *p = proc_find(pid);
		if (p) {
			if (sig)
				signal_send_proc_locked(p, sig);
			r = 0;
		}
	} else if (pid == -1) {                 /* all but init and the sender */
		r = signal_all_locked(sig, current->proc);
	} else {                                /* 0: the sender's group; -pgid: that group */
		r = signal_pgrp_locked(pid == 0 ? current->proc->pgid : -pid, sig);
	}
	spin_unlock(&proc_lock);
	return r;
}

static long send_tid(int tgid, int tid, int sig)
{
	if (sig < 0 || sig > NSIG || tid <= 0)
		return -EINVAL;
	spin_lock(&proc_lock);
	struct thread *t = thread_find(tid);
	long r = -ESRCH;
	if (t && (tgid < 0 || t->proc->pid == tgid)) {
		if (sig) {
			if (t->proc->sighand)
				jobctl_send_locked(t->proc, sig);
			__atomic_fetch_or(&t->sig_tkill, SIGBIT(sig), __ATOMIC_RELAXED);
			signal_send_thread(t, sig);
		}
		r = 0;
	}
	spin_unlock(&proc_lock);
	return r;
}

long sys_tkill(int tid, int sig) { return send_tid(-1, tid, sig); }
long sys_tgkill(int tgid, int tid, int sig) { return tgid <= 0 ? -EINVAL : send_tid(tgid, tid, sig); }
