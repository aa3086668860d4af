/*
 * poll/ppoll and select/pselect6: one thread waiting for any of many files (interface and the
 * file-side contract in fs/poll.h).
 *
 * Theory. A call builds a poll table: an array of poll entries, one per file it looks at, each a
 * callback wait entry (kernel/wait.h) queued on that file's wait queue and holding a reference to
 * the file, all pointing back at the table and thus at the one waiting thread. The call then
 * loops:
 *
 *   scan      for every fd: look the file up, on the first pass queue an entry on its wait queue
 *             (BEFORE asking it), then ask ops->poll. The thread is RUNNING throughout, so a poll
 *             op may take a sleeplock.
 *   decide    ready fds -> return their count; none and a signal pending -> -ERESTARTNOHAND
 *             (poll.h); none and the timeout passed (or was zero) -> 0.
 *   sleep     set the thread SLEEPING, full fence, and only if no callback has fired since the
 *             scan began (table->triggered), no signal is pending and the deadline has not passed,
 *             schedule (with a timer for the deadline). Then RUNNING, clear triggered, rescan.
 *
 * No lost wake-up: the entries are queued before the first check, so any change after a file was
 * checked runs poll_wake, which sets triggered and then (full fence) calls sched_wake. Either
 * the sleeper's load of triggered (after its own fence) sees true and it does not sleep, or
 * sched_wake sees it SLEEPING and makes it runnable (a wake-up before schedule() just keeps it
 * running: kernel/sched.c). Signals: signal_kick wakes a SLEEPING thread, and the sleeper checks
 * signal_pending() after setting SLEEPING. Timers: wait_schedule arms thread->sleep_timer.
 * Spurious wake-ups only cost a rescan; nothing spins.
 *
 * Like Linux, registration stops once a ready fd is found (the call will not sleep), a zero
 * timeout registers nothing, and each pass looks the fd up afresh: an fd closed meanwhile reads
 * as POLLNVAL (poll) or is skipped (select), while our entry's reference keeps the old file and
 * its wait queue alive until the table is freed. Freeing removes every entry (waitq_remove: the
 * callback is not running afterwards) before dropping the references, so no callback can reach
 * a freed table.
 *
 * Locks: none of our own. poll_wake runs under the woken file's waitq lock (maybe in interrupt
 * context) and takes only the run-queue lock (sched_wake).
 */
#include "fs/poll.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "kernel/wait.h"
#include "fs/fs.h"

#define RLIMIT_NOFILE_IDX 7                 /* Linux's RLIMIT_NOFILE: the bound on ppoll's nfds */
#define SIGSET_SIZE sizeof(uint64_t)        /* the kernel sigset_t of riscv64 */
#define SIGBIT(s) (1UL << ((s) - 1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define POLL_STACK_FDS 32                   /* pollfds copied to the stack; more go to kmalloc */
#define POLL_STACK_ENTRIES 8                /* wait entries on the stack; more go to kmalloc */
/* what select counts as readable / writable / exceptional (Linux's POLLIN_SET ...) */
#define POLLIN_SET (EPOLLRDNORM | EPOLLRDBAND | EPOLLIN | EPOLLHUP | EPOLLERR)
#define POLLOUT_SET (EPOLLWRBAND | EPOLLWRNORM | EPOLLOUT | EPOLLERR)
#define POLLEX_SET EPOLLPRI
#define MAX_TIMEOUT_SEC (1L << 32)          /* longer timeouts (136 years) count as forever */

struct k_timespec { long sec, nsec; };
struct k_pollfd { int fd; short events, revents; };

/* ---- file-side helpers ---- */

unsigned file_poll(struct file *f)
{
	return f->ops && f->ops->poll ? f->ops->poll(f) : POLL_DEFAULT_MASK;
}

struct waitq *file_waitq(struct file *f)
{
	return f->ops && f->ops->waitq ? f->ops->waitq(f) : NULL;
}

/* ---- timeouts ---- */

void poll_timeout_forever(struct poll_timeout *to) { *to = (struct poll_timeout){ .forever = true }; }

void poll_timeout_ns(struct poll_timeout *to, uint64_t ns)
{
	*to = (struct poll_timeout){ .zero = ns == 0, .deadline = time_now() + ns_to_ticks(ns) };
}

int poll_timeout_from_user(uintptr_t uts, struct poll_timeout *to)
{
	struct k_timespec ts;
	if (!uts) {
		poll_timeout_forever(to);
		return 0;
	}
	if (copy_from_user(&ts, uts, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (long)NSEC_PER_SEC)
		return -EINVAL;
	if (ts.sec >= MAX_TIMEOUT_SEC)
		poll_timeout_forever(to);
	else
		poll_timeout_ns(to, (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec);
	return 0;
}

bool poll_timed_out(const struct poll_timeout *to)
{
	return to->zero || (!to->forever && time_now() >= to->deadline);
}

uint64_t poll_sleep_deadline(const struct poll_timeout *to) { return to->forever ? TIMER_NONE : to->deadline; }

void poll_timeout_to_user(uintptr_t uts, const struct poll_timeout *to)
{
	if (!uts || to->zero || to->forever)
		return;
	uint64_t now = time_now();
	uint64_t left = now < to->deadline ? ticks_to_ns(to->deadline - now) : 0;
	struct k_timespec ts = { (long)(left / NSEC_PER_SEC), (long)(left % NSEC_PER_SEC) };
	(void)copy_to_user(uts, &ts, sizeof(ts));    /* Linux ignores a fault here too */
}

/* ---- temporary signal masks ---- */

int poll_sigmask_set(uintptr_t usig, size_t size, struct poll_sigmask *sm)
{
	uint64_t m;
	sm->set = false;
	if (!usig)
		return 0;
	if (size != SIGSET_SIZE)
		return -EINVAL;
	if (copy_from_user(&m, usig, sizeof(m)) < 0)
		return -EFAULT;
	struct thread *t = current;
	sm->old = t->sigmask;
	sm->set = true;
	t->sigmask = m & ~UNBLOCKABLE;
	return 0;
}

void poll_sigmask_restore(struct poll_sigmask *sm, bool interrupted)
{
	struct thread *t = current;
	if (!sm->set)
		return;
	if (interrupted) {
		/* as rt_sigsuspend: the handler's frame records the old mask for sigreturn; with no
		 * handler to run, signal_deliver puts it back on the way out */
		t->saved_sigmask = sm->old;
		t->has_saved_sigmask = true;
	} else {
		t->sigmask = sm->old;
	}
}

/* ---- the poll table ---- */

struct poll_table;

struct poll_entry {
	struct wait_entry wait;          /* callback entry on wq (poll_wake) */
	struct waitq *wq;
	struct file *file;               /* a reference, dropped after the entry is dequeued */
	struct poll_table *pt;
};

struct poll_table {
	struct thread *thread;           /* the one waiter */
	bool triggered;                  /* a callback fired since the last sleep (atomic) */
	bool registering;                /* this pass queues entries */
	int n, cap;                      /* entries used / available */
	struct poll_entry *entries;
	bool entries_allocated;          /* entries came from kmalloc */
	struct poll_entry stack_entries[POLL_STACK_ENTRIES];
};

static void poll_wake(struct wait_entry *e)
{
	struct poll_table *pt = container_of(e, struct poll_entry, wait)->pt;
	__atomic_store_n(&pt->triggered, true, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);   /* triggered before the state check in sched_wake */
	sched_wake(pt->thread);
}

/* A table for up to max files; registration only when the call may sleep. -ENOMEM. */
static int poll_table_init(struct poll_table *pt, unsigned max, bool may_sleep)
{
	pt->thread = current;
	pt->triggered = false;
	pt->registering = may_sleep && max > 0;
	pt->n = 0;
	pt->cap = pt->registering ? (int)max : 0;
	pt->entries = pt->stack_entries;
	pt->entries_allocated = false;
	if (pt->cap > POLL_STACK_ENTRIES) {
		pt->entries = kmalloc((size_t)pt->cap * sizeof(struct poll_entry));
		if (!pt->entries)
			return -ENOMEM;
		pt->entries_allocated = true;
	}
	return 0;
}

/* Queues an entry on f's wait queue (first pass only). Called before f is asked. */
static void poll_register(struct poll_table *pt, struct file *f)
{
	if (!pt->registering || pt->n == pt->cap)
		return;
	struct waitq *wq = file_waitq(f);
	if (!wq)
		return;
	struct poll_entry *pe = &pt->entries[pt->n++];
	pe->pt = pt;
	pe->wq = wq;
	pe->file = f;
	file_get(f);
	pe->wait.queued = false;
	waitq_add_callback(wq, &pe->wait, poll_wake);
}

static void poll_table_free(struct poll_table *pt)
{
	for (int i = 0; i < pt->n; i++)
		waitq_remove(pt->entries[i].wq, &pt->entries[i].wait);
	for (int i = 0; i < pt->n; i++)
		file_put(pt->entries[i].file);       /* after the dequeue: it may free the queue */
	if (pt->entries_allocated)
		kfree(pt->entries);
}

/* Sleeps until a callback fires, a signal arrives or the deadline passes (see the theory). */
static void poll_table_sleep(struct poll_table *pt, const struct poll_timeout *to)
{
	struct thread *t = current;
	t->state = THREAD_SLEEPING;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);   /* SLEEPING before reading triggered */
	if (!__atomic_load_n(&pt->triggered, __ATOMIC_SEQ_CST) && !signal_pending() && !poll_timed_out(to))
		wait_schedule(poll_sleep_deadline(to));
	t->state = THREAD_RUNNING;
	__atomic_store_n(&pt->triggered, false, __ATOMIC_SEQ_CST);   /* before the rescan */
}

/*
 * The common loop: scan(ctx, pt) returns the number of ready fds (> 0), 0, or -errno. Returns
 * the first non-zero scan, -ERESTARTNOHAND (a signal), or 0 when the time is up.
 */
static long poll_loop(long (*scan)(void *, struct poll_table *), void *ctx, struct poll_table *pt,
		      const struct poll_timeout *to)
{
	for (;;) {
		long r = scan(ctx, pt);
		pt->registering = false;             /* every file has its entry now */
		if (r != 0)
			return r;
		/* as Linux: with nothing ready a pending signal wins, even over an expired timeout */
		if (signal_pending())
			return -ERESTARTNOHAND;
		if (poll_timed_out(to))
			return 0;
		poll_table_sleep(pt, to);
	}
}

/* ---- poll ---- */

struct poll_ctx {
	struct k_pollfd *fds;
	unsigned n;
};

static long scan_pollfds(void *arg, struct poll_table *pt)
{
	struct poll_ctx *c = arg;
	long count = 0;
	for (unsigned i = 0; i < c->n; i++) {
		struct k_pollfd *p = &c->fds[i];
		unsigned mask = 0;
		if (p->fd >= 0) {
			struct file *f = fd_get(p->fd);
			if (!f) {
				mask = EPOLLNVAL;
			} else {
				/* events is a u16 of POLL* bits, the same values as EPOLL* on riscv64 */
				unsigned filter = (uint16_t)p->events | EPOLLERR | EPOLLHUP;
				poll_register(pt, f);
				mask = file_poll(f) & filter;
				file_put(f);
			}
		}
		p->revents = (short)mask;
		if (mask) {
			count++;
			pt->registering = false;     /* we will not sleep: stop queueing entries */
		}
	}
	return count;
}

static long do_poll(uintptr_t ufds, unsigned nfds, const struct poll_timeout *to)
{
	if (nfds > READ_ONCE(current->proc->rlim[RLIMIT_NOFILE_IDX].cur))
		return -EINVAL;
	struct k_pollfd stack_fds[POLL_STACK_FDS], *fds = stack_fds;
	size_t bytes = (size_t)nfds * sizeof(struct k_pollfd);
	if (nfds > POLL_STACK_FDS && !(fds = kmalloc(bytes)))
		return -ENOMEM;
	struct poll_table pt;
	long ret = -EFAULT;
	if (nfds && copy_from_user(fds, ufds, bytes) < 0)
		goto out;
	if ((ret = poll_table_init(&pt, nfds, !to->zero)) < 0)
		goto out;
	struct poll_ctx c = { fds, nfds };
	ret = poll_loop(scan_pollfds, &c, &pt, to);
	poll_table_free(&pt);
	/* revents go back even after a signal (all zero then), as on Linux; only revents is written */
	for (unsigned i = 0; i < nfds; i++) {
		if (copy_to_user(ufds + i * sizeof(struct k_pollfd) + offsetof(struct k_pollfd, revents),
				 &fds[i].revents, sizeof(fds[i].revents)) < 0) {
			ret = -EFAULT;
			break;
		}
	}
out:
	if (fds != stack_fds)
		kfree(fds);
	return ret;
}

long sys_ppoll(unsigned long ufds, unsigned long nfds, unsigned long tsp, unsigned long usig,
	       unsigned long sigsetsize)
{
	struct poll_timeout to;
	struct poll_sigmask sm;
	int r = poll_timeout_from_user(tsp, &to);
	if (r < 0)
		return r;
	if ((r = poll_sigmask_set(usig, sigsetsize, &sm)) < 0)
		return r;
	long ret = do_poll(ufds, (unsigned)nfds, &to);
	poll_sigmask_restore(&sm, ret == -ERESTARTNOHAND);
	poll_timeout_to_user(tsp, &to);
	return ret;
}

/* ---- select ---- */

/* The six bitmaps, each (n + 63) / 64 words, sized by the call's n (at most the fd table's
 * size, so fds of any number work as in Linux, not only those below FD_SETSIZE). */
struct select_ctx {
	int n;
	uint64_t *in, *out, *ex;
	uint64_t *rin, *rout, *rex;
};

static long scan_fdsets(void *arg, struct poll_table *pt)
{
	struct select_ctx *c = arg;
	long count = 0;
	int words = (c->n + 63) / 64;
	for (int w = 0; w < words; w++) {
		uint64_t all = c->in[w] | c->out[w] | c->ex[w];
		while (all) {
			int b = ctz64(all);
			all &= all - 1;
			int fd = w * 64 + b;
			struct file *f = fd_get(fd);
			if (!f)
				continue;                    /* closed since the EBADF check: skipped, as Linux */
			poll_register(pt, f);
			unsigned mask = file_poll(f);
			file_put(f);
			uint64_t bit = 1UL << b;
			if ((mask & POLLIN_SET) && (c->in[w] & bit)) {
				c->rin[w] |= bit;
				count++;
			}
			if ((mask & POLLOUT_SET) && (c->out[w] & bit)) {
				c->rout[w] |= bit;
				count++;
			}
			if ((mask & POLLEX_SET) && (c->ex[w] & bit)) {
				c->rex[w] |= bit;
				count++;
			}
			if (count)
				pt->registering = false;
		}
	}
	return count;
}

static int get_fdset(uintptr_t u, uint64_t *set, int n)
{
	int words = (n + 63) / 64;
	memset(set, 0, words * sizeof(uint64_t));
	if (u && words && copy_from_user(set, u, words * sizeof(uint64_t)) < 0)
		return -EFAULT;
	if (n % 64)
		set[words - 1] &= (1UL << (n % 64)) - 1;   /* bits at or above n are not looked at */
	return 0;
}

static int put_fdset(uintptr_t u, const uint64_t *set, int n)
{
	int words = (n + 63) / 64;
	return u && words && copy_to_user(u, set, words * sizeof(uint64_t)) < 0 ? -EFAULT : 0;
}

static long do_select(int n, uintptr_t inp, uintptr_t outp, uintptr_t exp, const struct poll_timeout *to)
{
	if (n < 0)
		return -EINVAL;
	int max = READ_ONCE(current->files->max);   /* as Linux: n is cut to the table's size */
	if (n > max)
		n = max;
	size_t words = ((size_t)n + 63) / 64;
	struct select_ctx *c = kzalloc(sizeof(*c) + 6 * words * sizeof(uint64_t));
	if (!c)
		return -ENOMEM;
	struct poll_table pt;
	long ret = -EFAULT;
	c->n = n;
	uint64_t *sets = (uint64_t *)(c + 1);
	c->in = sets;
	c->out = sets + words;
	c->ex = sets + 2 * words;
	c->rin = sets + 3 * words;
	c->rout = sets + 4 * words;
	c->rex = sets + 5 * words;
	if (get_fdset(inp, c->in, n) || get_fdset(outp, c->out, n) || get_fdset(exp, c->ex, n))
		goto out;
	/* every fd in the sets must be open (Linux's max_select_fd) */
	int nfiles = 0;
	for (int w = 0; w < (n + 63) / 64; w++) {
		uint64_t all = c->in[w] | c->out[w] | c->ex[w];
		while (all) {
			int fd = w * 64 + ctz64(all);
			all &= all - 1;
			struct file *f = fd_get(fd);
			if (!f) {
				ret = -EBADF;
				goto out;
			}
			file_put(f);
			nfiles++;
		}
	}
	if ((ret = poll_table_init(&pt, nfiles, !to->zero)) < 0)
		goto out;
	ret = poll_loop(scan_fdsets, c, &pt, to);
	poll_table_free(&pt);
	if (ret >= 0 && (put_fdset(inp, c->rin, n) || put_fdset(outp, c->rout, n) || put_fdset(exp, c->rex, n)))
		ret = -EFAULT;                       /* the sets are left alone after an error (EINTR) */
out:
	kfree(c);
	return ret;
}

long sys_pselect6(unsigned long n, unsigned long inp, unsigned long outp, unsigned long exp,
		  unsigned long tsp, unsigned long sig)
{
	struct { uint64_t set; uint64_t size; } pack = { 0, 0 };   /* Linux's sigset_argpack */
	struct poll_timeout to;
	struct poll_sigmask sm;
	if (sig && copy_from_user(&pack, sig, sizeof(pack)) < 0)
		return -EFAULT;
	int r = poll_timeout_from_user(tsp, &to);
	if (r < 0)
		return r;
	if ((r = poll_sigmask_set(pack.set, pack.size, &sm)) < 0)
		return r;
	long ret = do_select((int)n, inp, outp, exp, &to);
	poll_sigmask_restore(&sm, ret == -ERESTARTNOHAND);
	poll_timeout_to_user(tsp, &to);
	return ret;
}
