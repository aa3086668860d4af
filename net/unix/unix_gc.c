/*
 * AF_UNIX garbage collection of descriptors in flight (Linux's net/unix/garbage.c, the classic
 * mark-and-sweep form of it).
 *
 * The problem. A unix socket's file may be passed with SCM_RIGHTS and sit, unread, on a receive
 * queue; that record holds a reference to the file (af_unix.c: "Descriptors in flight"). When the
 * only references to a set of sockets are records on those sockets' own queues (a socket sent
 * over itself and closed; A's fd queued on B, B's on A, both closed; rings of any length; a
 * listener queued on its own unaccepted embryo), nobody can ever read them and their reference
 * counts never reach zero: without a collector they, and every file their queues carry (a pipe's
 * write end, say), leak until reboot.
 *
 * Accounting. u->inflight counts the references to u's file held by records that are on some
 * socket's queue (u->q of any unix socket, an unaccepted embryo's included). It goes up when a
 * record carrying descriptors is appended to a queue (sendmsg) and down when its descriptors leave
 * the queue: a reader takes them (recvmsg, which unlinks them from the record under unix_lock
 * before installing them), the record is unlinked (release moves a dead socket's queue out), or
 * this collector purges the queue. A descriptor peeked (MSG_PEEK) stays in flight; the new fd
 * is an ordinary reference. Sockets with inflight > 0 are on unix_inflight_list. The counts,
 * the list and every queue are guarded by unix_lock, so inside one unix_lock hold the graph
 * (sockets -> queued records -> sockets in flight) is frozen.
 *
 * Theory. file refcount >= inflight always: every in-flight reference is a real one. A socket
 * whose refcount equals its inflight count (a "candidate") is referenced by no fd table and by
 * no thread (a system call on a socket holds a file reference of its own for its whole
 * duration, as fd_get always takes one here), only by queued records. Such a socket is still live
 * if a record holding it sits on the queue of a socket that is live: one held from outside
 * (not a candidate), or a candidate that is itself live. The pass, all under unix_lock:
 *   1. candidates: every u on the in-flight list with refcount == inflight; gc_refs = inflight.
 *   2. for each candidate, for each unix socket c in flight on its queue (a listener: on its
 *      embryos' queues too, as Linux's scan_children), if c is a candidate, c->gc_refs--. What
 *      is left in gc_refs counts references from records on queues of non-candidates (or on no
 *      candidate's queue at all).
 *   3. mark: every candidate with gc_refs > 0 is reachable; so is every candidate in flight on
 *      a reachable candidate's queue (a work list, no recursion, no allocation).
 *   4. sweep: the queues of unreachable candidates (and of their embryos) are moved to a hit
 *      list, their descriptors leaving flight. After the lock is dropped the hit list is freed,
 *      which closes the files it carried: the cycle's own references go, so the sockets are
 *      released as usual (their peers see EOF), and so does anything else they carried.
 * Why this is safe against concurrent system calls on 4 harts: while unix_lock is held no
 * inflight count changes and no record moves. A candidate's refcount cannot rise under us: a
 * new reference to it can only come from a record that holds it (fd tables hold none, by the
 * definition), and taking it requires a recvmsg on the socket whose queue holds the record,
 * which holds a reference to that socket, which therefore is no candidate: the record's socket
 * is reachable and so is everything queued on it (MSG_PEEK's duplicate included: Linux's
 * CVE-2021-0920 race needs fdget without a reference, which Ember does not have). It cannot fall
 * either: in-flight references are dropped only after their record left a queue under unix_lock.
 * A non-candidate may become one during the pass (a close on another hart): it is simply kept
 * this time and found by the next pass, which that close starts.
 *
 * When. unix_release runs a pass whenever any unix socket is in flight (closing is what makes a
 * cycle unreachable), and sendmsg with descriptors runs one first when more than
 * UNIX_GC_TRIGGER sockets are in flight (Linux's UNIX_INFLIGHT_TRIGGER_GC). One pass at a time:
 * a call while a pass runs (another hart's, or the nested release of the sockets a sweep frees)
 * asks the running one to go round again, up to UNIX_GC_MAX_PASSES in a row.
 *
 * Limits. Linux refuses a send with ETOOMANYREFS when the sender's user has more descriptors in
 * flight than its RLIMIT_NOFILE, unless it has CAP_SYS_RESOURCE or CAP_SYS_ADMIN. Everyone is
 * root here, so that limit never applies, as on Linux for root; the collector, and the receive
 * queues' bounds, are what bound the memory.
 *
 * Locks and context. Thread context; called with nothing held (unix_release after it dropped
 * unix_lock; sendmsg before tx_lock). The pass holds unix_lock (interrupts off) for list and
 * counter work only: it reads file refcounts with atomic loads, takes no other lock but the wait
 * queue locks of wake_all (the usual order unix_lock -> waitq locks), allocates nothing and never
 * sleeps; files are closed only after the lock is dropped (closing may sleep and may release
 * sockets, which takes unix_lock again). Those closes are ordinary last closes, racing with the
 * other users of what the files stood for: the write end of a pipe hidden in a cycle is released
 * here while the pipe's reader, which sees end of file the moment the writers count drops, closes
 * the read end on another hart. So every release must be safe against the other half of its
 * object being released at the same time (fs/pipe.c "Lifetime": a pipe's release used to wake
 * the reader after dropping the lock, a use after free the reader's close had just freed, which
 * panicked in wake_up from this collector's hit list).
 */
#include "net/unix/unix.h"
#include "fs/fs.h"

#define UNIX_GC_TRIGGER 16000               /* Linux's UNIX_INFLIGHT_TRIGGER_GC */
#define UNIX_GC_MAX_PASSES 16               /* passes one caller runs in a row before giving up */

static struct list_head unix_inflight_list = LIST_HEAD_INIT(unix_inflight_list);
static int unix_inflight_socks;             /* unix sockets' references in flight (unix_lock) */
static bool gc_running, gc_again;           /* unix_lock */

/* The unix socket behind f, or NULL (another kind of file). f is referenced by the caller. */
static struct unix_sock *unix_of_file(struct file *f)
{
	if (!f || !file_is_socket(f))
		return NULL;
	struct socket *s = f->priv;
	return s->ops == &unix_sock_ops ? unix_sk(s) : NULL;
}

void unix_inflight_add_locked(const struct unix_fds *fds)
{
	for (int i = 0; fds && i < fds->n; i++) {
		struct unix_sock *u = unix_of_file(fds->f[i]);
		if (!u)
			continue;
		if (u->inflight++ == 0)
			list_add_tail(&u->inflight_node, &unix_inflight_list);
		unix_inflight_socks++;
	}
}

void unix_inflight_del_locked(const struct unix_fds *fds)
{
	for (int i = 0; fds && i < fds->n; i++) {
		struct unix_sock *u = unix_of_file(fds->f[i]);
		if (!u)
			continue;
		if (--u->inflight == 0)
			list_del(&u->inflight_node);
		unix_inflight_socks--;
	}
}

struct unix_fds *unix_rec_take_fds_locked(struct unix_rec *r)
{
	struct unix_fds *fds = r->fds;
	r->fds = NULL;
	unix_inflight_del_locked(fds);
	return fds;
}

/* ---- one pass (unix_lock held throughout) ---- */

typedef void (*child_fn)(struct unix_sock *c, struct list_head *work);

static void scan_queue(struct list_head *q, child_fn fn, struct list_head *work)
{
	struct list_head *p;
	list_for_each(p, q) {
		struct unix_rec *r = list_entry(p, struct unix_rec, node);
		for (int i = 0; r->fds && i < r->fds->n; i++) {
			struct unix_sock *c = unix_of_file(r->fds->f[i]);
			if (c && c->gc_cand)
				fn(c, work);
		}
	}
}

/* fn for every candidate in flight on u's queue and, a listener, on its embryos' queues. */
static void scan_children(struct unix_sock *u, child_fn fn, struct list_head *work)
{
	scan_queue(&u->q, fn, work);
	if (u->state != UNIX_LISTENING)
		return;
	struct list_head *p;
	list_for_each(p, &u->acceptq)
		scan_queue(&list_entry(p, struct unix_sock, accept_node)->q, fn, work);
}

static void drop_internal_ref(struct unix_sock *c, struct list_head *work __unused) { c->gc_refs--; }

static void mark_reachable(struct unix_sock *c, struct list_head *work)
{
	if (c->gc_reach)
		return;
	c->gc_reach = true;
	list_add_tail(&c->gc_work, work);
}

/* Move q's records to hit; their descriptors leave flight. */
static void purge_queue_locked(struct unix_sock *u, struct list_head *hit)
{
	unix_queue_drain_locked(u, hit);
	wake_all(&u->peer_wait);                     /* a writer waiting for room (it will see EPIPE) */
	if (u->peer)
		unix_wake(u->peer);
}

/* Finds the unreachable candidates and moves their queues to hit: how many there were. */
static int gc_pass_locked(struct list_head *hit)
{
	struct list_head cand, work;
	list_init(&cand);
	list_init(&work);
	struct list_head *p;
	list_for_each(p, &unix_inflight_list) {
		struct unix_sock *u = list_entry(p, struct unix_sock, inflight_node);
		struct file *f = u->s ? u->s->file : NULL;
		if (!f || __atomic_load_n(&f->refcount, __ATOMIC_ACQUIRE) != (uint32_t)u->inflight)
			continue;
		u->gc_cand = true;
		u->gc_reach = false;
		u->gc_refs = u->inflight;
		list_add_tail(&u->gc_node, &cand);
	}
	list_for_each(p, &cand)
		scan_children(list_entry(p, struct unix_sock, gc_node), drop_internal_ref, NULL);
	list_for_each(p, &cand) {
		struct unix_sock *u = list_entry(p, struct unix_sock, gc_node);
		if (u->gc_refs > 0)
			mark_reachable(u, &work);
	}
	while (!list_empty(&work)) {
		struct unix_sock *u = list_first_entry(&work, struct unix_sock, gc_work);
		list_del(&u->gc_work);
		scan_children(u, mark_reachable, &work);
	}
	int found = 0;
	list_for_each(p, &cand) {
		struct unix_sock *u = list_entry(p, struct unix_sock, gc_node);
		if (u->gc_reach)
			continue;
		found++;
		purge_queue_locked(u, hit);
		if (u->state == UNIX_LISTENING) {
			struct list_head *e;
			list_for_each(e, &u->acceptq)
				purge_queue_locked(list_entry(e, struct unix_sock, accept_node), hit);
		}
	}
	while (!list_empty(&cand)) {
		struct unix_sock *u = list_first_entry(&cand, struct unix_sock, gc_node);
		list_del(&u->gc_node);
		u->gc_cand = u->gc_reach = false;
	}
	return found;
}

void unix_gc(void)
{
	spin_lock(&unix_lock);
	if (gc_running) {
		gc_again = true;                         /* the running pass goes round once more */
		spin_unlock(&unix_lock);
		return;
	}
	gc_running = true;
	for (int pass = 0; pass < UNIX_GC_MAX_PASSES; pass++) {
		gc_again = false;
		struct list_head hit;
		list_init(&hit);
		int found = unix_inflight_socks ? gc_pass_locked(&hit) : 0;
		spin_unlock(&unix_lock);
		unix_free_recs(&hit);                    /* closes the cycle's files: nested releases */
		spin_lock(&unix_lock);
		if (!gc_again && !found)
			break;
		if (!unix_inflight_socks)
			break;
	}
	gc_running = false;
	spin_unlock(&unix_lock);
}

void unix_gc_maybe(void)
{
	if (READ_ONCE(unix_inflight_socks) > UNIX_GC_TRIGGER)
		unix_gc();
}

bool unix_gc_wanted(void) { return READ_ONCE(unix_inflight_socks) != 0; }
