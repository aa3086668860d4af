/*
 * timerfd_create/settime/gettime: a timer behind a file whose read returns how many times it
 * expired since the last read (8 bytes), waiting until it has (EAGAIN with O_NONBLOCK).
 *
 * Time is kept on the monotonic clock (time_ns): a CLOCK_REALTIME timer set with
 * TFD_TIMER_ABSTIME is converted once at settime by the realtime offset (a later clock_settime
 * does not move it; TFD_TIMER_CANCEL_ON_SET is accepted and never fires). Expirations are counted
 * lazily: whoever looks (read, poll, gettime, the kernel timer) first folds every deadline that
 * passed into `ticks` (one per interval, and the next deadline moves past now). The kernel timer
 * exists only to wake readers and poll/epoll watchers at the deadline, so it is armed only while
 * there is nothing to report (ticks == 0): once it fires and finds an expiration, it stays off
 * until a read takes the count (the read re-arms it for the next deadline), as Linux's timerfd
 * restarts its hrtimer only in timerfd_read. A timer re-armed from its own handler would, with an
 * interval shorter than an interrupt's cost (1 ns is valid), keep its CPU in timer interrupts
 * forever (issue 17: the fuzzer's stuck workers were threads queued on such a CPU).
 *
 * Locks: tfd->lock (spinlock, interrupts off: the timer handler takes it in interrupt context)
 * guards the state; wait-queue locks nest inside. settime is serialized by tfd->set_lock (a
 * sleeplock, since timer_cancel waits for a running handler): it raises `cancelling` so a handler
 * running meanwhile neither re-arms nor wakes, cancels, then arms anew (kernel/itimer.c's way).
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/systime.h"
#include "kernel/timer.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"

#define CLOCK_REALTIME_K 0
#define CLOCK_MONOTONIC_K 1
#define CLOCK_BOOTTIME_K 7
#define TFD_TIMER_ABSTIME 1
#define TFD_TIMER_CANCEL_ON_SET 2
#define TFD_CREATE_FLAGS (O_NONBLOCK | O_CLOEXEC)

struct k_itimerspec {
	struct { int64_t sec, nsec; } interval, value;
};

struct timerfd {
	struct spinlock lock;
	struct waitq wq;
	struct sleeplock set_lock;
	struct timer t;
	int clockid;
	uint64_t expires_ns;         /* time_ns() of the next expiry; 0 = disarmed */
	uint64_t interval_ns;
	uint64_t ticks;              /* expirations not yet read */
	bool cancelling;
	bool armed;                  /* t is queued (added, its handler not started yet) */
};

static const struct file_ops timerfd_ops;

/* Fold passed deadlines into ticks (lock held). */
static void tfd_update_locked(struct timerfd *t)
{
	uint64_t now = time_ns();
	if (!t->expires_ns || now < t->expires_ns)
		return;
	if (t->interval_ns) {
		uint64_t n = 1 + (now - t->expires_ns) / t->interval_ns;
		t->ticks += n;
		t->expires_ns += n * t->interval_ns;
	} else {
		t->ticks++;
		t->expires_ns = 0;
	}
}

static void tfd_arm_locked(struct timerfd *t)
{
	if (t->armed || t->cancelling || !t->expires_ns)
		return;
	uint64_t now = time_ns();
	uint64_t left = t->expires_ns > now ? t->expires_ns - now : 0;
	t->armed = true;
	timer_add(&t->t, time_now() + ns_to_ticks(left));
}

/* The kernel timer: interrupt context. */
static void tfd_fire(void *arg)
{
	struct timerfd *t = arg;
	spin_lock(&t->lock);
	t->armed = false;
	if (!t->cancelling && t->expires_ns) {
		tfd_update_locked(t);
		if (t->ticks)
			wake_all(&t->wq);       /* and stay off until a read takes the count */
		else
			tfd_arm_locked(t);      /* early by a rounding: once more */
	}
	spin_unlock(&t->lock);
}

static long timerfd_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos __unused)
{
	struct timerfd *t = f->priv;
	if (n < sizeof(uint64_t))
		return -EINVAL;
	struct wait_entry e = { .queued = false };
	uint64_t v = 0;
	int r = 0;
	for (;;) {
		prepare_to_wait(&t->wq, &e);
		spin_lock(&t->lock);
		tfd_update_locked(t);
		v = t->ticks;
		t->ticks = 0;
		if (v)
			tfd_arm_locked(t);      /* for the next deadline, if any */
		spin_unlock(&t->lock);
		if (v)
			break;
		if (READ_ONCE(f->f_flags) & O_NONBLOCK) {
			r = -EAGAIN;
			break;
		}
		if (signal_pending()) {
			r = -ERESTARTSYS;
			break;
		}
		wait_schedule(TIMER_NONE);
	}
	finish_wait(&t->wq, &e);
	if (r)
		return r;
	return copy_to_user(ubuf, &v, sizeof(v)) ? -EFAULT : (long)sizeof(v);
}

static unsigned timerfd_poll(struct file *f)
{
	struct timerfd *t = f->priv;
	spin_lock(&t->lock);
	tfd_update_locked(t);
	bool ready = t->ticks != 0;
	spin_unlock(&t->lock);
	return ready ? EPOLLIN | EPOLLRDNORM : 0;
}

static struct waitq *timerfd_waitq(struct file *f) { return &((struct timerfd *)f->priv)->wq; }

static void timerfd_release(struct file *f)
{
	struct timerfd *t = f->priv;
	spin_lock(&t->lock);
	t->cancelling = true;
	spin_unlock(&t->lock);
	timer_cancel(&t->t);
	kfree(t);
}

static const struct file_ops timerfd_ops = {
	.read = timerfd_read,
	.poll = timerfd_poll,
	.waitq = timerfd_waitq,
	.release = timerfd_release,
};

long sys_timerfd_create(int clockid, int flags)
{
	if (clockid != CLOCK_REALTIME_K && clockid != CLOCK_MONOTONIC_K && clockid != CLOCK_BOOTTIME_K)
		return -EINVAL;
	if (flags & ~TFD_CREATE_FLAGS)
		return -EINVAL;
	struct timerfd *t = kzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	spin_init(&t->lock, "timerfd");
	waitq_init(&t->wq, "timerfd");
	sleeplock_init(&t->set_lock, "timerfd-set");
	timer_setup(&t->t, tfd_fire, t);
	t->clockid = clockid;
	struct file *f = anon_file_new(0600, &timerfd_ops, O_RDWR | (flags & O_NONBLOCK), t);
	if (!f) {
		kfree(t);
		return -ENFILE;
	}
	int fd = fd_install(current->files, f, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

/* The timerfd behind fd with a reference: -EBADF, or -EINVAL for another kind of file. */
static struct file *timerfd_get(int fd, long *err)
{
	struct file *f = fd_get(fd);
	if (!f) {
		*err = -EBADF;
		return NULL;
	}
	if (f->ops != &timerfd_ops) {
		file_put(f);
		*err = -EINVAL;
		return NULL;
	}
	return f;
}

static void ns_ts(uint64_t ns, int64_t *sec, int64_t *nsec)
{
	*sec = (int64_t)(ns / NSEC_PER_SEC);
	*nsec = (int64_t)(ns % NSEC_PER_SEC);
}

/* Current value (lock held): time left and interval. */
static void tfd_get_locked(struct timerfd *t, struct k_itimerspec *v)
{
	tfd_update_locked(t);
	uint64_t now = time_ns(), left = 0;
	if (t->expires_ns)
		left = t->expires_ns > now ? t->expires_ns - now : 1;
	ns_ts(left, &v->value.sec, &v->value.nsec);
	ns_ts(t->interval_ns, &v->interval.sec, &v->interval.nsec);
}

static bool ts_valid(int64_t sec, int64_t nsec) { return sec >= 0 && nsec >= 0 && nsec < (int64_t)NSEC_PER_SEC; }

long sys_timerfd_settime(int fd, int flags, uintptr_t unew, uintptr_t uold)
{
	struct k_itimerspec nv, ov;
	if (copy_from_user(&nv, unew, sizeof(nv)))
		return -EFAULT;
	if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return -EINVAL;
	if (!ts_valid(nv.value.sec, nv.value.nsec) || !ts_valid(nv.interval.sec, nv.interval.nsec))
		return -EINVAL;
	long err = 0;
	struct file *f = timerfd_get(fd, &err);
	if (!f)
		return err;
	struct timerfd *t = f->priv;
	sleep_lock(&t->set_lock);
	spin_lock(&t->lock);
	t->cancelling = true;
	spin_unlock(&t->lock);
	timer_cancel(&t->t);                      /* waits for a running handler: no spinlock held */
	spin_lock(&t->lock);
	t->cancelling = false;
	t->armed = false;                         /* cancelled above */
	tfd_get_locked(t, &ov);
	uint64_t value = (uint64_t)nv.value.sec * NSEC_PER_SEC + (uint64_t)nv.value.nsec;
	uint64_t now = time_ns();
	t->ticks = 0;
	t->interval_ns = (uint64_t)nv.interval.sec * NSEC_PER_SEC + (uint64_t)nv.interval.nsec;
	if (!value) {
		t->expires_ns = 0;                /* disarm */
	} else if (flags & TFD_TIMER_ABSTIME) {
		uint64_t base = t->clockid == CLOCK_REALTIME_K ? realtime_offset_ns() : 0;
		t->expires_ns = value > base ? value - base : 1;   /* in the past: expires at once */
		if (t->expires_ns == 0)
			t->expires_ns = 1;
	} else {
		t->expires_ns = now + value;
	}
	if (!t->expires_ns)
		t->interval_ns = 0;
	tfd_arm_locked(t);
	spin_unlock(&t->lock);
	sleep_unlock(&t->set_lock);
	file_put(f);
	if (uold && copy_to_user(uold, &ov, sizeof(ov)))
		return -EFAULT;
	return 0;
}

long sys_timerfd_gettime(int fd, uintptr_t ucur)
{
	long err = 0;
	struct file *f = timerfd_get(fd, &err);
	if (!f)
		return err;
	struct timerfd *t = f->priv;
	struct k_itimerspec v;
	spin_lock(&t->lock);
	tfd_get_locked(t, &v);
	spin_unlock(&t->lock);
	file_put(f);
	return copy_to_user(ucur, &v, sizeof(v)) ? -EFAULT : 0;
}
