/*
 * Interval timers: setitimer/getitimer with ITIMER_REAL (what glibc's alarm() uses on riscv64).
 * ITIMER_VIRTUAL and ITIMER_PROF are not kept (EINVAL).
 *
 * A process's timer is a struct itimer of its own, allocated by the first setitimer. Its kernel
 * timer fires in interrupt context on the CPU that armed it and sends SIGALRM under proc_lock.
 * Lock order: proc_lock -> it->lock.
 * Periodic timers restart when their SIGALRM is dequeued (itimer_sigalrm_dequeued, from signal
 * delivery and signalfd), at the next multiple of the interval after that moment, as Linux's
 * dequeue_signal does "to prevent DoS attacks": a handler that re-added the timer itself would,
 * with an interval shorter than an interrupt's cost (1 us is valid), keep its CPU in timer
 * interrupts forever. Until then the timer is `waiting` and getitimer reads 0 left (Linux: not
 * active). A blocked SIGALRM thus stops the timer until it is taken; an ignored one (discarded
 * when sent) stops it for good, as on Linux.
 * Re-arming: setitimer calls are serialized by set_lock (a sleeplock: timer_cancel waits); one
 * first raises it->cancelling so that a handler running concurrently neither signals nor re-adds
 * the timer, then cancels it, then arms it anew.
 * Lifetime: reap() (under proc_lock) detaches the itimer from the dead process (it->proc = NULL,
 * so a firing timer does nothing) and the reaper frees it after dropping proc_lock, because
 * timer_cancel waits for a running handler, which may itself be waiting for proc_lock.
 */
#include "kernel/itimer.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "lib/sleeplock.h"

#define ITIMER_REAL 0
#define ITIMER_PROF 2
#define USEC_MAX 999999

struct itimer {
	struct spinlock lock;          /* expires_ns, interval_ns, proc */
	struct timer t;
	uint64_t expires_ns;           /* time_ns() of the next expiry; 0 = disarmed */
	uint64_t interval_ns;
	struct proc *proc;             /* NULL once the process was reaped */
	bool cancelling;               /* setitimer is replacing the timer: the handler stays quiet */
	bool waiting;                  /* fired, periodic: restarts when its SIGALRM is dequeued */
};

static struct sleeplock set_lock = SLEEPLOCK_INIT(set_lock, "setitimer");

struct k_itimerval {
	struct { int64_t sec, usec; } interval, value;
};

static void itimer_fire(void *arg)
{
	struct itimer *it = arg;
	spin_lock(&proc_lock);
	spin_lock(&it->lock);
	struct proc *p = it->proc;
	if (p && it->expires_ns && !it->cancelling) {
		if (it->interval_ns)
			it->waiting = true;     /* expires_ns stays: the grid the restart follows */
		else
			it->expires_ns = 0;
		signal_send_proc_locked(p, SIGALRM);
	}
	spin_unlock(&it->lock);
	spin_unlock(&proc_lock);
}

void itimer_sigalrm_dequeued(struct proc *p)
{
	struct itimer *it = READ_ONCE(p->itimer);
	if (!it)
		return;
	spin_lock(&it->lock);
	if (it->waiting && !it->cancelling && it->proc) {
		uint64_t now = time_ns();
		if (it->expires_ns <= now)
			it->expires_ns += (1 + (now - it->expires_ns) / it->interval_ns) * it->interval_ns;
		it->waiting = false;
		timer_add(&it->t, time_now() + ns_to_ticks(it->expires_ns - now));
	}
	spin_unlock(&it->lock);
}

void itimer_detach(struct proc *p)
{
	struct itimer *it = p->itimer;
	if (!it)
		return;
	spin_lock(&it->lock);
	it->proc = NULL;
	spin_unlock(&it->lock);
}

void itimer_free(struct itimer *it)
{
	if (!it)
		return;
	timer_cancel(&it->t);
	kfree(it);
}

static uint64_t tv_ns(int64_t sec, int64_t usec) { return (uint64_t)sec * NSEC_PER_SEC + (uint64_t)usec * 1000; }

static void ns_tv(uint64_t ns, int64_t *sec, int64_t *usec)
{
	*sec = (int64_t)(ns / NSEC_PER_SEC);
	*usec = (int64_t)(ns % NSEC_PER_SEC) / 1000;
}

/* The timer's current value (time left, interval). Caller holds it->lock. */
static void itimer_get_locked(struct itimer *it, struct k_itimerval *v)
{
	uint64_t now = time_ns(), left = 0;
	if (it && it->expires_ns && !it->waiting)
		left = it->expires_ns > now ? it->expires_ns - now : 1000;   /* firing now: 1 us */
	ns_tv(left, &v->value.sec, &v->value.usec);
	ns_tv(it ? it->interval_ns : 0, &v->interval.sec, &v->interval.usec);
}

long sys_getitimer(int which, uintptr_t ucur)
{
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	struct k_itimerval v = { 0 };
	struct itimer *it = current->proc->itimer;
	if (which == ITIMER_REAL && it) {
		spin_lock(&it->lock);
		itimer_get_locked(it, &v);
		spin_unlock(&it->lock);
	}
	return copy_to_user(ucur, &v, sizeof(v)) ? -EFAULT : 0;
}

long sys_setitimer(int which, uintptr_t unew, uintptr_t uold)
{
	struct k_itimerval nv, ov = { 0 };
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	if (unew && copy_from_user(&nv, unew, sizeof(nv)))
		return -EFAULT;
	if (!unew)
		nv = (struct k_itimerval){ 0 };     /* Linux: a NULL new value disarms */
	if (nv.value.usec < 0 || nv.value.usec > USEC_MAX || nv.interval.usec < 0 ||
	    nv.interval.usec > USEC_MAX || nv.value.sec < 0 || nv.interval.sec < 0)
		return -EINVAL;
	if (which != ITIMER_REAL) {
		if (nv.value.sec || nv.value.usec)
			return -EINVAL;                 /* not kept: only disarming is accepted */
		return uold && copy_to_user(uold, &ov, sizeof(ov)) ? -EFAULT : 0;
	}
	struct proc *p = current->proc;
	struct itimer *it = p->itimer;
	if (!it) {
		struct itimer *n = kzalloc(sizeof(*n));
		if (!n)
			return -ENOMEM;
		spin_init(&n->lock, "itimer");
		timer_setup(&n->t, itimer_fire, n);
		n->proc = p;
		spin_lock(&proc_lock);
		if (!p->itimer)
			p->itimer = n;
		else
			kfree(n);                       /* another thread won */
		it = p->itimer;
		spin_unlock(&proc_lock);
	}
	sleep_lock(&set_lock);
	spin_lock(&it->lock);
	it->cancelling = true;
	spin_unlock(&it->lock);
	timer_cancel(&it->t);                   /* waits for a running handler; no spinlock held */
	spin_lock(&it->lock);
	it->cancelling = false;
	itimer_get_locked(it, &ov);
	it->waiting = false;
	uint64_t value = tv_ns(nv.value.sec, nv.value.usec);
	it->interval_ns = value ? tv_ns(nv.interval.sec, nv.interval.usec) : 0;
	it->expires_ns = value ? time_ns() + value : 0;
	if (value)
		timer_add(&it->t, time_now() + ns_to_ticks(value));
	spin_unlock(&it->lock);
	sleep_unlock(&set_lock);
	if (uold && copy_to_user(uold, &ov, sizeof(ov)))
		return -EFAULT;
	return 0;
}
