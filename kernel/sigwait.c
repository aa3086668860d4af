/*
 * Taking signals synchronously and sending them with a caller's siginfo: rt_sigtimedwait (glibc's
 * sigwaitinfo, sigtimedwait, sigwait), rt_sigqueueinfo and rt_tgsigqueueinfo (sigqueue).
 *
 * Theory. rt_sigtimedwait takes the lowest pending signal of its set (the thread's own pending
 * set first, then the process's) with its record (kernel/signal.c keeps one per pending signal).
 * With none pending it sleeps with the set unblocked, as Linux's do_sigtimedwait does
 * (real_blocked): a sender then picks this thread and kicks it. Woken, the old mask comes back
 * and the call takes a signal of the set if one is there; if not it fails with EAGAIN once the
 * timeout passed and EINTR otherwise (a handled signal, a stop: Linux does not restart it).
 * The sigqueue calls send the caller's siginfo record, except that (as Linux) only a process
 * signalling itself may claim a non-negative si_code or SI_TKILL: EPERM. A real-time signal is
 * queued as one more instance, or refused with EAGAIN at the receiver's RLIMIT_SIGPENDING
 * (kernel/sigqueue.c); each call here takes one instance.
 *
 * Context: system calls only; the sleeper holds no lock.
 */
#include "kernel/errno.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/siginfo.h"
#include "kernel/signal.h"
#include "kernel/timer.h"
#include "kernel/wait.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define SIGSET_SIZE 8
#define SIGINFO_SIZE 128
#define SIGBIT(s) (1ULL << ((s) - 1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

struct k_timespec_w { int64_t sec, nsec; };

static struct waitq sigwait_wq = WAITQ_INIT(sigwait_wq, "sigtimedwait");

/* the record and zeros: a whole siginfo_t */
static int copy_info_out(uintptr_t uinfo, const struct ksiginfo *k)
{
	uint8_t buf[SIGINFO_SIZE];
	memset(buf, 0, sizeof(buf));
	memcpy(buf, k, sizeof(*k));
	return copy_to_user(uinfo, buf, sizeof(buf)) < 0 ? -EFAULT : 0;
}

long sys_rt_sigtimedwait(uintptr_t uset, uintptr_t uinfo, uintptr_t uts, size_t sigsetsize)
{
	uint64_t set;
	struct k_timespec_w ts = { 0, 0 };
	if (sigsetsize != SIGSET_SIZE)
		return -EINVAL;
	if (copy_from_user(&set, uset, sizeof(set)) < 0)
		return -EFAULT;
	set &= ~UNBLOCKABLE;
	if (uts) {
		if (copy_from_user(&ts, uts, sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
			return -EINVAL;
	}
	struct thread *t = current;
	struct ksiginfo k;
	int sig = signal_dequeue(set, &k);
	if (!sig) {
		uint64_t timeout = uts ? (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec : 0;
		if (uts && timeout == 0)
			return -EAGAIN;
		uint64_t old = t->sigmask;
		t->real_blocked = old;          /* still blocked as far as discarding goes */
		t->sigmask &= ~set;             /* a sender now picks (and kicks) this thread */
		int r = 0;
		if (uts)
			r = wait_event_timeout(&sigwait_wq, signal_pending(), timeout);
		else
			wait_event(&sigwait_wq, signal_pending());
		t->sigmask = old;
		t->real_blocked = 0;
		sig = signal_dequeue(set, &k);
		if (!sig)
			return r ? -EAGAIN : -EINTR;
	}
	if (uinfo && copy_info_out(uinfo, &k) < 0)
		return -EFAULT;
	return sig;
}

/* The caller's siginfo for sig, with Linux's rule on who may claim which si_code. */
static long read_info(int sig, uintptr_t uinfo, bool self, struct ksiginfo *k)
{
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (copy_from_user(k, uinfo, sizeof(*k)) < 0)
		return -EFAULT;
	if ((k->code >= 0 || k->code == SI_TKILL) && !self)
		return -EPERM;
	k->signo = sig;
	return 0;
}

long sys_rt_sigqueueinfo(int pid, int sig, uintptr_t uinfo)
{
	struct ksiginfo k;
	long r = read_info(sig, uinfo, pid == current->proc->pid, &k);
	if (r)
		return r;
	if (pid <= 0)
		return -ESRCH;
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	r = p ? 0 : -ESRCH;
	if (p && sig)
		r = signal_send_proc_info_locked(p, &k);    /* -EAGAIN: RLIMIT_SIGPENDING */
	spin_unlock(&proc_lock);
	return r;
}

long sys_rt_tgsigqueueinfo(int tgid, int tid, int sig, uintptr_t uinfo)
{
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	struct ksiginfo k;
	long r = read_info(sig, uinfo, tid == current->tid, &k);
	if (r)
		return r;
	return signal_send_tid(tgid, tid, &k);
}
