/*
 * epoll: epoll_create1, epoll_ctl, epoll_pwait/epoll_pwait2, level- and edge-triggered.
 *
 * Theory. An epoll instance (struct eventpoll) is the private data of an anonymous file, so it can
 * be polled, selected and nested like any other file. It holds an interest list of items, one per
 * (file, fd) pair registered, hashed for O(1) epoll_ctl lookups, and a ready list. Each item keeps
 * a callback wait entry (kernel/wait.h) on its file's wait queue for as long as it is registered;
 * when the file's queue is woken, ep_item_wake puts the item on the ready list (if it is not on it
 * already) and wakes the instance's own queue. So a wake-up costs O(1) whatever the number of
 * registered files, and epoll_wait only ever looks at items on the ready list:
 *
 *   harvest   (ep->mtx held) move the ready list to a private list; for each item take it off
 *             (clear on_rdl, so a new event re-queues it), ask the file (ops->poll) and, if any
 *             wanted bit is set, report it. Level-triggered items that reported go back on the
 *             ready list, so they are asked again next time and drop off once they read as not
 *             ready; edge-triggered items (EPOLLET) come back only with a new wake-up; EPOLLONESHOT
 *             items are disabled (events cleared to the private bits) until EPOLL_CTL_MOD re-arms
 *             them. Items not reported for lack of room go back to the front of the ready list.
 *   sleep     epoll_wait sleeps on ep->wq with an ordinary wait entry (prepare_to_wait before it
 *             checks the ready list, so no wake-up is lost) until the list is non-empty, a signal
 *             is pending (-EINTR) or the timeout passes.
 *
 * The ready list is a hint: an item on it may have become unready (data read elsewhere); the
 * harvest re-asks the file and drops it. Items are registered before their first readiness
 * check (ADD, MOD), so no event between check and registration is missed.
 *
 * Closing a registered file: items hold NO reference on their file (or closing the last fd would
 * not close the file, and a pipe writer would never see EPIPE). Instead the last file_put calls
 * eventpoll_release(f) before ops->release; it removes every item on f->ep_links (under the
 * epoll's mtx, which also keeps a concurrent harvest from asking a half-released file). An
 * epoll file's own release (ep_free) removes all of its items. So no item ever points at a
 * freed file, and no wait queue ever holds an entry of a freed item.
 *
 * Nesting: an epoll file can be watched by another epoll (its poll op reports EPOLLIN when one of
 * its ready items really is ready). Adding an epoll file takes the global epmutex and refuses a
 * loop (ELOOP), including one through deeper instances, and any chain of more than
 * EP_MAX_NESTS + 1 epolls, counted both below the new item and above the instance (as Linux 6.x
 * does, so the limit holds however the chain is built). The nested mutexes and wake-up chains
 * below therefore follow a finite acyclic order, and their recursion is at most that deep.
 *
 * Locks, outermost first:
 *   epmutex (sleeplock)      adding and deleting epoll files (loop checks), eventpoll_release,
 *                            ep_free; guards eventpoll.gen/loop_depth and the ep_links lists of
 *                            epoll files (items watching an epoll).
 *   ep->mtx (sleeplock)      the interest list and item fields (data, registration), the
 *                            harvest; an outer instance's mtx before an inner one's (parent ->
 *                            child, acyclic by the loop check). Calls ops->poll and copy_to_user.
 *   file waitq lock          held while ep_item_wake runs (maybe in interrupt context).
 *   ep->lock (spinlock)      the ready list, item->on_rdl, item->events. Never held across
 *                            ops->poll (pipe code takes pipe->lock -> waitq lock, and a callback
 *                            takes waitq lock -> ep->lock: ep->lock -> pipe->lock would close a
 *                            cycle).
 *   ep->wq lock, run-queue locks   woken after ep->lock is dropped (still under the file's waitq
 *                            lock: a nested chain of wake-ups, bounded by the nesting limit).
 *   ep_links_lock (spinlock) every file's ep_links list; a leaf.
 * EPOLLEXCLUSIVE is accepted with Linux's rules but wakes like a normal item (every epoll_wait
 * sleeper on the instance is woken); EPOLLWAKEUP is accepted and means nothing here.
 */
#include "fs/poll.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "kernel/wait.h"
#include "fs/fs.h"

#define EPOLL_CLOEXEC O_CLOEXEC
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#define EPOLLEXCLUSIVE (1U << 28)
#define EPOLLWAKEUP (1U << 29)
#define EPOLLONESHOT (1U << 30)
#define EPOLLET (1U << 31)
#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLLEXCLUSIVE_OK_BITS (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
#define EP_MAX_NESTS 4                       /* as Linux: deeper chains of epolls give ELOOP */
#define EP_HASH_SIZE 64                      /* interest-list buckets (power of two) */
#define INT_MAX_ 0x7fffffff

/* struct epoll_event of riscv64 (not packed: data at offset 8) */
struct k_epoll_event {
	uint32_t events;
	uint32_t pad;
	uint64_t data;
};
#define EP_MAX_EVENTS (INT_MAX_ / sizeof(struct k_epoll_event))

struct eventpoll;

struct epitem {
	struct wait_entry wait;              /* callback entry on wq (ep_item_wake) */
	struct waitq *wq;                    /* the file's queue; NULL if it has none */
	struct list_head hnode;              /* ep->hash bucket (mtx) */
	struct list_head flink;              /* file->ep_links (ep_links_lock) */
	struct list_head rdlink;             /* ep->rdllist or a harvest's private list (ep->lock) */
	bool on_rdl;                         /* rdlink is on one of those lists (ep->lock) */
	struct eventpoll *ep;
	struct file *file;                   /* no reference: see eventpoll_release */
	int fd;
	uint32_t events;                     /* wanted bits | EPOLLERR | EPOLLHUP | private bits (ep->lock) */
	uint64_t data;                       /* mtx */
};

struct eventpoll {
	struct sleeplock mtx;
	struct spinlock lock;
	struct list_head hash[EP_HASH_SIZE]; /* epitem.hnode (mtx) */
	struct list_head rdllist;            /* epitem.rdlink (lock) */
	struct waitq wq;                     /* epoll_wait sleepers and watchers of the epoll file */
	struct file *file;                   /* the epoll's own file (it outlives ep) */
	uint64_t gen;                        /* loop checks: visited in pass loop_check_gen (epmutex) */
	int loop_depth;                      /* ... with this depth (epmutex) */
};

static struct sleeplock epmutex;
static bool epmutex_ready;
static uint64_t loop_check_gen;              /* one per pass of a loop check (epmutex) */
static struct spinlock epmutex_init_lock = SPINLOCK_INIT("epmutex_init");
static struct spinlock ep_links_lock = SPINLOCK_INIT("ep_links");

static const struct file_ops epoll_fops;

static bool is_epoll(struct file *f) { return f->ops == &epoll_fops; }

/* epmutex is a sleeplock (no static initializer): set it up on first use. */
static struct sleeplock *get_epmutex(void)
{
	if (!__atomic_load_n(&epmutex_ready, __ATOMIC_ACQUIRE)) {
		spin_lock(&epmutex_init_lock);
		if (!epmutex_ready) {
			sleeplock_init(&epmutex, "epmutex");
			__atomic_store_n(&epmutex_ready, true, __ATOMIC_RELEASE);
		}
		spin_unlock(&epmutex_init_lock);
	}
	return &epmutex;
}

/* Moves every node of from to the front of to (in order); from ends empty. */
static void list_splice_front(struct list_head *from, struct list_head *to)
{
	if (list_empty(from))
		return;
	struct list_head *first = from->next, *last = from->prev, *at = to->next;
	first->prev = to;
	to->next = first;
	last->next = at;
	at->prev = last;
	list_init(from);
}

static unsigned ep_hash(struct file *f, int fd)
{
	uintptr_t h = (uintptr_t)f >> 4;
	return (unsigned)(h ^ (h >> 12) ^ (unsigned)fd) & (EP_HASH_SIZE - 1);
}

static struct epitem *ep_find(struct eventpoll *ep, struct file *f, int fd)
{
	struct list_head *p;
	list_for_each(p, &ep->hash[ep_hash(f, fd)]) {
		struct epitem *epi = list_entry(p, struct epitem, hnode);
		if (epi->file == f && epi->fd == fd)
			return epi;
	}
	return NULL;
}

static bool ep_has_ready(struct eventpoll *ep) { return READ_ONCE(ep->rdllist.next) != &ep->rdllist; }

static void ep_wake(struct eventpoll *ep)
{
	if (waitq_active(&ep->wq))
		wake_all(&ep->wq);
}

/* Queues epi on the ready list unless it is on it (or on a harvest's list) already. */
static void ep_queue_ready(struct eventpoll *ep, struct epitem *epi)
{
	spin_lock(&ep->lock);
	if (!epi->on_rdl) {
		list_add_tail(&epi->rdlink, &ep->rdllist);
		epi->on_rdl = true;
	}
	spin_unlock(&ep->lock);
}

/* The file's wait queue was woken (its lock held, maybe in interrupt context). */
static void ep_item_wake(struct wait_entry *e)
{
	struct epitem *epi = container_of(e, struct epitem, wait);
	struct eventpoll *ep = epi->ep;
	spin_lock(&ep->lock);
	bool armed = epi->events & ~EP_PRIVATE_BITS;     /* a fired EPOLLONESHOT item is disarmed */
	if (armed && !epi->on_rdl) {
		list_add_tail(&epi->rdlink, &ep->rdllist);
		epi->on_rdl = true;
	}
	spin_unlock(&ep->lock);
	if (armed)
		ep_wake(ep);
}

/* The bits of epi's file that epi wants, now (mtx held; no spinlock). */
static unsigned ep_item_poll(struct eventpoll *ep, struct epitem *epi)
{
	spin_lock(&ep->lock);
	uint32_t want = epi->events & ~EP_PRIVATE_BITS;
	spin_unlock(&ep->lock);
	return want ? file_poll(epi->file) & want : 0;
}

/* ---- interest list (mtx held) ---- */

static int ep_insert(struct eventpoll *ep, struct file *f, int fd, const struct k_epoll_event *ev)
{
	struct epitem *epi = kzalloc(sizeof(*epi));
	if (!epi)
		return -ENOMEM;
	epi->ep = ep;
	epi->file = f;
	epi->fd = fd;
	epi->events = ev->events;
	epi->data = ev->data;
	epi->wq = file_waitq(f);
	list_init(&epi->rdlink);
	list_add(&epi->hnode, &ep->hash[ep_hash(f, fd)]);
	spin_lock(&ep_links_lock);
	list_add_tail(&epi->flink, &f->ep_links);
	spin_unlock(&ep_links_lock);
	if (epi->wq)                             /* registered before the first check */
		waitq_add_callback(epi->wq, &epi->wait, ep_item_wake);
	if (ep_item_poll(ep, epi)) {
		ep_queue_ready(ep, epi);
		ep_wake(ep);
	}
	return 0;
}

static void ep_remove(struct eventpoll *ep, struct epitem *epi)
{
	if (epi->wq)
		waitq_remove(epi->wq, &epi->wait);  /* afterwards ep_item_wake is not running on it */
	spin_lock(&ep_links_lock);
	list_del(&epi->flink);                   /* the last touch of epi->file */
	spin_unlock(&ep_links_lock);
	list_del(&epi->hnode);
	spin_lock(&ep->lock);
	if (epi->on_rdl)                         /* mtx held: no harvest owns it, so it is on rdllist */
		list_del(&epi->rdlink);
	spin_unlock(&ep->lock);
	kfree(epi);
}

static int ep_modify(struct eventpoll *ep, struct epitem *epi, const struct k_epoll_event *ev)
{
	spin_lock(&ep->lock);
	epi->events = ev->events;
	spin_unlock(&ep->lock);
	epi->data = ev->data;
	if (ep_item_poll(ep, epi)) {             /* the entry has stayed queued all along */
		ep_queue_ready(ep, epi);
		ep_wake(ep);
	}
	return 0;
}

/* ---- harvesting ---- */

/*
 * Reports up to maxevents ready items to user memory at uevents: their count, or -EFAULT when
 * the first copy fails (the item stays ready).
 */
static long ep_send_events(struct eventpoll *ep, uintptr_t uevents, int maxevents)
{
	struct list_head tx;
	long res = 0;
	list_init(&tx);
	sleep_lock(&ep->mtx);
	spin_lock(&ep->lock);
	list_splice_front(&ep->rdllist, &tx);     /* the items keep on_rdl: callbacks leave them be */
	spin_unlock(&ep->lock);
	while (!list_empty(&tx) && res < maxevents) {
		struct epitem *epi = list_first_entry(&tx, struct epitem, rdlink);
		spin_lock(&ep->lock);
		list_del(&epi->rdlink);
		epi->on_rdl = false;                 /* from now on a wake-up queues it again */
		spin_unlock(&ep->lock);
		unsigned revents = ep_item_poll(ep, epi);
		if (!revents)
			continue;                    /* not ready after all: dropped until the next wake-up */
		struct k_epoll_event kev = { .events = revents, .data = epi->data };
		if (copy_to_user(uevents + (uintptr_t)res * sizeof(kev), &kev, sizeof(kev)) < 0) {
			spin_lock(&ep->lock);
			if (!epi->on_rdl) {
				list_add(&epi->rdlink, &tx);
				epi->on_rdl = true;
			}
			spin_unlock(&ep->lock);
			if (!res)
				res = -EFAULT;
			break;
		}
		res++;
		spin_lock(&ep->lock);
		if (epi->events & EPOLLONESHOT) {
			epi->events &= EP_PRIVATE_BITS;      /* disarmed until EPOLL_CTL_MOD */
		} else if (!(epi->events & EPOLLET) && !epi->on_rdl) {
			list_add_tail(&epi->rdlink, &ep->rdllist);   /* level-triggered: ask again next time */
			epi->on_rdl = true;
		}
		spin_unlock(&ep->lock);
	}
	spin_lock(&ep->lock);
	list_splice_front(&tx, &ep->rdllist);     /* not reported for lack of room: first next time */
	bool more = !list_empty(&ep->rdllist);
	spin_unlock(&ep->lock);
	sleep_unlock(&ep->mtx);
	if (more)
		ep_wake(ep);                         /* other waiters may take what is left */
	return res;
}

static long ep_wait(struct eventpoll *ep, uintptr_t uevents, int maxevents, const struct poll_timeout *to)
{
	for (;;) {
		if (ep_has_ready(ep)) {
			long res = ep_send_events(ep, uevents, maxevents);
			if (res)
				return res;
		}
		if (poll_timed_out(to))
			return 0;
		struct wait_entry e = { .queued = false };
		prepare_to_wait(&ep->wq, &e);        /* queued before the checks: no lost wake-up */
		long r = 1;
		if (!ep_has_ready(ep)) {
			if (signal_pending())
				r = -EINTR;
			else if (poll_timed_out(to))
				r = 0;
			else
				wait_schedule(poll_sleep_deadline(to));
		}
		finish_wait(&ep->wq, &e);
		if (r <= 0)
			return r;
	}
}

/* ---- the epoll file ---- */

/* EPOLLIN when a ready-listed item really is ready; stale items are dropped from the list. */
static unsigned ep_file_poll(struct file *f)
{
	struct eventpoll *ep = f->priv;
	struct list_head tx;
	unsigned mask = 0;
	list_init(&tx);
	sleep_lock(&ep->mtx);
	spin_lock(&ep->lock);
	list_splice_front(&ep->rdllist, &tx);
	spin_unlock(&ep->lock);
	while (!list_empty(&tx)) {
		struct epitem *epi = list_first_entry(&tx, struct epitem, rdlink);
		spin_lock(&ep->lock);
		list_del(&epi->rdlink);
		epi->on_rdl = false;
		spin_unlock(&ep->lock);
		if (ep_item_poll(ep, epi)) {
			spin_lock(&ep->lock);
			if (!epi->on_rdl) {
				list_add(&epi->rdlink, &tx);     /* stays ready, in its place */
				epi->on_rdl = true;
			}
			spin_unlock(&ep->lock);
			mask = EPOLLIN | EPOLLRDNORM;
			break;
		}
	}
	spin_lock(&ep->lock);
	list_splice_front(&tx, &ep->rdllist);
	spin_unlock(&ep->lock);
	sleep_unlock(&ep->mtx);
	return mask;
}

static struct waitq *ep_file_waitq(struct file *f) { return &((struct eventpoll *)f->priv)->wq; }

/* The epoll file's last reference is gone (eventpoll_release already unhooked it from outer
 * epolls; poll and epoll_wait callers hold references, so ep->wq is empty). */
static void ep_free(struct file *f)
{
	struct eventpoll *ep = f->priv;
	struct sleeplock *em = get_epmutex();
	sleep_lock(em);
	sleep_lock(&ep->mtx);
	for (int i = 0; i < EP_HASH_SIZE; i++)
		while (!list_empty(&ep->hash[i]))
			ep_remove(ep, list_first_entry(&ep->hash[i], struct epitem, hnode));
	sleep_unlock(&ep->mtx);
	sleep_unlock(em);
	kfree(ep);
}

static const struct file_ops epoll_fops = {
	.release = ep_free,
	.poll = ep_file_poll,
	.waitq = ep_file_waitq,
};

void eventpoll_release(struct file *f)
{
	struct sleeplock *em = get_epmutex();
	sleep_lock(em);
	/* Under epmutex f's list is stable: adding or deleting needs a reference to f (there are
	 * none left) and ep_free needs epmutex. An item's ep stays alive for the same reason. */
	for (;;) {
		struct epitem *epi = NULL;
		spin_lock(&ep_links_lock);
		if (!list_empty(&f->ep_links))
			epi = list_first_entry(&f->ep_links, struct epitem, flink);
		spin_unlock(&ep_links_lock);
		if (!epi)
			break;
		struct eventpoll *ep = epi->ep;
		sleep_lock(&ep->mtx);                /* waits out a harvest that is asking f */
		ep_remove(ep, epi);
		sleep_unlock(&ep->mtx);
	}
	sleep_unlock(em);
}

/* ---- loop checks (epmutex held) ---- */

/*
 * Linux's rule (6.x): adding epoll tep to epoll ep is refused with ELOOP when ep can be reached
 * from tep (a loop), or when the levels of epolls below tep, plus tep, plus the levels above ep
 * would exceed EP_MAX_NESTS (so chains hold at most EP_MAX_NESTS + 1 epolls however they are
 * built, and the nested wake-up and poll recursions stay shallow). Each pass numbers itself
 * (loop_check_gen) and remembers every instance's answer, so a wide graph costs each instance
 * once.
 */

/* Levels of epolls below tep (0: it watches none), or EP_MAX_NESTS + 1 if ep is reachable. Takes
 * each visited instance's mtx, parent before child, as a harvest does. */
static int ep_depth_below(struct eventpoll *ep, struct eventpoll *tep, int depth)
{
	if (tep->gen == loop_check_gen)
		return tep->loop_depth;
	int result = 0;
	sleep_lock(&tep->mtx);
	tep->gen = loop_check_gen;
	for (int i = 0; i < EP_HASH_SIZE && result <= EP_MAX_NESTS; i++) {
		struct list_head *p;
		list_for_each(p, &tep->hash[i]) {
			struct epitem *epi = list_entry(p, struct epitem, hnode);
			if (!is_epoll(epi->file))
				continue;
			struct eventpoll *child = epi->file->priv;
			if (child == ep || depth > EP_MAX_NESTS)
				result = EP_MAX_NESTS + 1;
			else
				result = MAX(result, ep_depth_below(ep, child, depth + 1) + 1);
			if (result > EP_MAX_NESTS)
				break;
		}
	}
	tep->loop_depth = result;
	sleep_unlock(&tep->mtx);
	return result;
}

/* Levels of epolls above ep. The items watching an epoll file come and go only under epmutex
 * (ADD and DEL of epoll targets, eventpoll_release, ep_free), so its ep_links list is stable. */
static int ep_depth_above(struct eventpoll *ep)
{
	if (ep->gen == loop_check_gen)
		return ep->loop_depth;
	int result = 0;
	struct list_head *p;
	list_for_each(p, &ep->file->ep_links) {
		struct epitem *epi = list_entry(p, struct epitem, flink);
		result = MAX(result, ep_depth_above(epi->ep) + 1);
	}
	ep->gen = loop_check_gen;
	ep->loop_depth = result;
	return result;
}

/* epmutex held; tep != ep (checked by the caller). */
static int ep_loop_check(struct eventpoll *ep, struct eventpoll *tep)
{
	loop_check_gen++;
	int below = ep_depth_below(ep, tep, 0);
	if (below > EP_MAX_NESTS)
		return -ELOOP;
	loop_check_gen++;
	return below + 1 + ep_depth_above(ep) > EP_MAX_NESTS ? -ELOOP : 0;
}

/* ---- system calls ---- */

long sys_epoll_create1(unsigned long flags_arg)
{
	int flags = (int)flags_arg;
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	struct eventpoll *ep = kzalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	sleeplock_init(&ep->mtx, "epoll");
	spin_init(&ep->lock, "epoll_rdl");
	for (int i = 0; i < EP_HASH_SIZE; i++)
		list_init(&ep->hash[i]);
	list_init(&ep->rdllist);
	waitq_init(&ep->wq, "epoll");
	struct file *f = anon_file_new(0600, &epoll_fops, O_RDWR, ep);
	if (!f) {
		kfree(ep);
		return -ENOMEM;
	}
	ep->file = f;
	int fd = fd_install(current->files, f, flags & EPOLL_CLOEXEC);
	if (fd < 0)
		file_put(f);                         /* ep_free frees ep */
	return fd;
}

long sys_epoll_ctl(unsigned long epfd_arg, unsigned long op_arg, unsigned long fd_arg, unsigned long uevent)
{
	int epfd = (int)epfd_arg, op = (int)op_arg, fd = (int)fd_arg;
	struct k_epoll_event ev = { 0, 0, 0 };
	bool has_event = op != EPOLL_CTL_DEL;
	/* Linux's order of checks: the event, the fds, poll support, epfd's type, flag rules, loops */
	if (has_event && copy_from_user(&ev, uevent, sizeof(ev)) < 0)
		return -EFAULT;
	struct file *f = fd_get(epfd), *tf = NULL;
	struct sleeplock *em = NULL;
	long err = -EBADF;
	if (!f || !(tf = fd_get(fd)))
		goto out;
	err = -EPERM;
	if (!tf->ops || !tf->ops->poll)
		goto out;
	err = -EINVAL;
	if (f == tf || !is_epoll(f))
		goto out;
	if (has_event && (ev.events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			goto out;
		if (op == EPOLL_CTL_ADD && (is_epoll(tf) || (ev.events & ~EPOLLEXCLUSIVE_OK_BITS)))
			goto out;
	}
	struct eventpoll *ep = f->priv;
	if (is_epoll(tf) && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_DEL)) {
		/* the graph of epolls in epolls changes only under epmutex (see ep_depth_above) */
		em = get_epmutex();
		sleep_lock(em);
		if (op == EPOLL_CTL_ADD && (err = ep_loop_check(ep, tf->priv)) < 0)
			goto out;
	}
	sleep_lock(&ep->mtx);
	struct epitem *epi = ep_find(ep, tf, fd);
	err = -EINVAL;
	switch (op) {
	case EPOLL_CTL_ADD:
		if (epi) {
			err = -EEXIST;
		} else {
			ev.events |= EPOLLERR | EPOLLHUP;
			err = ep_insert(ep, tf, fd, &ev);
		}
		break;
	case EPOLL_CTL_DEL:
		if (epi) {
			ep_remove(ep, epi);
			err = 0;
		} else {
			err = -ENOENT;
		}
		break;
	case EPOLL_CTL_MOD:
		if (!epi) {
			err = -ENOENT;
		} else if (!(epi->events & EPOLLEXCLUSIVE)) {
			ev.events |= EPOLLERR | EPOLLHUP;
			err = ep_modify(ep, epi, &ev);
		}
		break;
	}
	sleep_unlock(&ep->mtx);
out:
	if (em)
		sleep_unlock(em);
	/* after every lock: a last reference here runs eventpoll_release, which takes them */
	file_put(tf);
	file_put(f);
	return err;
}

static long do_epoll_wait(int epfd, uintptr_t uevents, int maxevents, const struct poll_timeout *to)
{
	if (maxevents <= 0 || (unsigned long)maxevents > EP_MAX_EVENTS)
		return -EINVAL;
	if (!access_ok(uevents, (size_t)maxevents * sizeof(struct k_epoll_event)))
		return -EFAULT;
	struct file *f = fd_get(epfd);
	if (!f)
		return -EBADF;
	long r = is_epoll(f) ? ep_wait(f->priv, uevents, maxevents, to) : -EINVAL;
	file_put(f);
	return r;
}

static long do_epoll_pwait(int epfd, uintptr_t uevents, int maxevents, const struct poll_timeout *to,
			   uintptr_t usig, size_t sigsetsize)
{
	struct poll_sigmask sm;
	int r = poll_sigmask_set(usig, sigsetsize, &sm);
	if (r < 0)
		return r;
	long ret = do_epoll_wait(epfd, uevents, maxevents, to);
	poll_sigmask_restore(&sm, ret == -EINTR);
	return ret;
}

long sys_epoll_pwait(unsigned long epfd, unsigned long uevents, unsigned long maxevents,
		     unsigned long timeout_ms, unsigned long usig, unsigned long sigsetsize)
{
	struct poll_timeout to;
	int ms = (int)timeout_ms;
	if (ms < 0)
		poll_timeout_forever(&to);
	else
		poll_timeout_ns(&to, (uint64_t)ms * NSEC_PER_MSEC);
	return do_epoll_pwait((int)epfd, uevents, (int)maxevents, &to, usig, sigsetsize);
}

long sys_epoll_pwait2(unsigned long epfd, unsigned long uevents, unsigned long maxevents,
		      unsigned long tsp, unsigned long usig, unsigned long sigsetsize)
{
	struct poll_timeout to;
	int r = poll_timeout_from_user(tsp, &to);
	if (r < 0)
		return r;
	return do_epoll_pwait((int)epfd, uevents, (int)maxevents, &to, usig, sigsetsize);
}
