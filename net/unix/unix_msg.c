/*
 * AF_UNIX data: sendmsg and recvmsg on the record queues (af_unix.c's theory: "Queues", "Flow
 * control"). A sender copies the user's bytes into a new record with no lock held, then appends
 * it under unix_lock if the receiver is still there; a reader (rx_lock held: the only one taking
 * records off its queue) copies from records outside the lock and unlinks them under it.
 */
#include "net/unix/unix.h"
#include "kernel/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

/* ---- send ---- */

/* Why u cannot send to t now: 0 or -errno (unix_lock held). *drop_peer: t was our datagram peer
 * and is gone; the caller puts the reference u held. */
static int send_error_locked(struct unix_sock *u, struct unix_sock *t, bool addressed, bool *drop_peer)
{
	if (u->snd_shut)
		return -EPIPE;
	if (!t)
		return -ENOTCONN;
	if (u->type != SOCK_DGRAM)
		return (t->dead || t->rcv_shut) ? -EPIPE : 0;
	if (t->dead) {
		if (!addressed && u->peer == t) {   /* Linux: ECONNREFUSED once, then ENOTCONN */
			u->peer = NULL;
			u->state = UNIX_UNCONNECTED;
			*drop_peer = true;
		}
		return -ECONNREFUSED;
	}
	if (t->type != u->type)
		return -EPROTOTYPE;
	if (t->peer && t->peer != u)
		return -EPERM;                      /* connected elsewhere: Linux's unix_may_send */
	if (t->rcv_shut)
		return -EPIPE;
	return 0;
}

struct send_wait {
	struct unix_sock *u, *t;
	bool addressed;
};

static bool send_ready(void *arg)
{
	struct send_wait *w = arg;
	struct unix_sock *u = w->u, *t = w->t;
	spin_lock(&unix_lock);
	bool ok = u->snd_shut || t->dead || t->rcv_shut || (!w->addressed && u->peer != t) ||
		  unix_room(u, t, u->send_want);
	spin_unlock(&unix_lock);
	return ok;
}

/* The record for n bytes of m (copied in), with its credentials, name and descriptors. */
static struct unix_rec *rec_new(struct unix_sock *u, struct sock_msg *m, size_t n, const struct unix_cred *cred,
				struct unix_fds **fds, int *err)
{
	struct unix_rec *r = kmalloc(sizeof(*r) + n);
	struct unix_addr *from = NULL;
	spin_lock(&unix_lock);
	bool named = u->addr != NULL;
	spin_unlock(&unix_lock);
	if (named && !(from = kmalloc(sizeof(*from)))) {
		kfree(r);
		r = NULL;
	}
	if (!r) {
		*err = -ENOBUFS;
		return NULL;
	}
	if (from) {
		spin_lock(&unix_lock);
		memcpy(from, u->addr, sizeof(*from));   /* a bound name never changes */
		spin_unlock(&unix_lock);
	}
	r->len = n;
	r->cred = *cred;
	r->from = from;
	r->fds = *fds;
	if (n && uio_copy_in(&m->data, r->data, n) < 0) {
		kfree(from);
		kfree(r);
		*err = -EFAULT;
		return NULL;
	}
	*fds = NULL;                                  /* the record owns them now (first chunk only) */
	return r;
}

long unix_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct unix_sock *u = unix_sk(s);
	bool stream = u->type == SOCK_STREAM, addressed = false;
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (u->type == SOCK_STREAM && m->addrlen)
		return READ_ONCE(u->state) == UNIX_CONNECTED ? -EISCONN : -EOPNOTSUPP;
	if (u->type == SOCK_SEQPACKET && READ_ONCE(u->state) != UNIX_CONNECTED)
		return -ENOTCONN;
	if (u->type == SOCK_DGRAM && m->addrlen)
		addressed = true;                        /* seqpacket ignores an address, as Linux */
	if (!stream && m->data.resid > (size_t)READ_ONCE(s->sndbuf))
		return -EMSGSIZE;
	struct unix_fds *fds = NULL;
	struct unix_cred cred;
	unix_current_cred(&cred);
	int err = unix_scm_parse(m->control, m->controllen, &fds, &cred);
	if (err)
		return err;
	if (u->type == SOCK_DGRAM && READ_ONCE(u->passcred) && (err = unix_autobind(u))) {
		unix_fds_free(fds);
		return err;
	}
	struct unix_sock *dst = NULL;                /* the addressed receiver (a reference) */
	if (addressed && (err = unix_find(&m->addr, m->addrlen, &dst))) {
		unix_fds_free(fds);
		return err;
	}
	if (fds)
		unix_gc_maybe();
	sleep_lock(&s->tx_lock);
	uint64_t deadline = 0;
	long done = 0;
	bool all_queued = false;                     /* an empty datagram still goes once */
	while (!all_queued) {
		size_t n = stream ? MIN(m->data.resid, (size_t)UNIX_STREAM_CHUNK) : m->data.resid;
		bool drop_peer = false, room = false;
		spin_lock(&unix_lock);
		struct unix_sock *t = addressed ? dst : u->peer;
		err = send_error_locked(u, t, addressed, &drop_peer);
		if (!err) {
			room = unix_room(u, t, n);
			unix_get(t);
		}
		spin_unlock(&unix_lock);
		if (drop_peer)
			unix_put(t);
		if (err)
			break;
		if (!room) {
			u->send_want = n;
			struct send_wait w = { u, t, addressed };
			err = unix_wait(&t->peer_wait, send_ready, &w, nonblock, s->sndtimeo_ns, &deadline, &s->tx_lock);
			unix_put(t);
			if (err)
				break;
			continue;
		}
		struct unix_rec *r = rec_new(u, m, n, &cred, &fds, &err);
		if (!r) {
			unix_put(t);
			break;
		}
		spin_lock(&unix_lock);
		drop_peer = false;
		if (!addressed && u->peer != t)
			err = u->type == SOCK_DGRAM ? -ENOTCONN : -EPIPE;
		else
			err = send_error_locked(u, t, addressed, &drop_peer);
		if (!err) {
			list_add_tail(&r->node, &t->q);
			unix_inflight_add_locked(r->fds);
			t->qbytes += n;
			t->qlen++;
			unix_wake(t);
		}
		spin_unlock(&unix_lock);
		if (drop_peer)
			unix_put(t);
		unix_put(t);
		if (err) {
			struct list_head one;
			list_init(&one);
			list_add_tail(&r->node, &one);
			unix_free_recs(&one);
			break;
		}
		done += (long)n;
		all_queued = m->data.resid == 0;
	}
	sleep_unlock(&s->tx_lock);
	unix_fds_free(fds);                          /* not sent */
	if (dst)
		unix_put(dst);
	return done ? done : err;
}

/* ---- receive ---- */

static bool recv_ready(struct socket *s)
{
	struct unix_sock *u = unix_sk(s);
	spin_lock(&unix_lock);
	bool ok = !list_empty(&u->q) || u->rcv_shut || u->err;
	spin_unlock(&unix_lock);
	return ok;
}

/* After a record left u's queue: its writers may go on (unix_lock held). */
static void wake_writers_locked(struct unix_sock *u)
{
	wake_all(&u->peer_wait);
	if (u->peer)
		unix_wake(u->peer);                 /* poll/epoll EPOLLOUT watchers */
}

/* Unlink r, the first record (rx_lock held by the caller; frees it). */
static void take_first(struct unix_sock *u, struct unix_rec *r)
{
	spin_lock(&unix_lock);
	list_del(&r->node);
	unix_inflight_del_locked(r->fds);            /* normally taken already */
	u->qlen--;
	u->off = 0;
	wake_writers_locked(u);
	spin_unlock(&unix_lock);
	struct list_head one;
	list_init(&one);
	list_add_tail(&r->node, &one);
	unix_free_recs(&one);
}

/* The record after r on u's queue, or NULL (records stay: only this reader removes them). */
static struct unix_rec *next_rec(struct unix_sock *u, struct unix_rec *r)
{
	spin_lock(&unix_lock);
	struct list_head *n = r ? r->node.next : u->q.next;
	struct unix_rec *x = n == &u->q ? NULL : list_entry(n, struct unix_rec, node);
	spin_unlock(&unix_lock);
	return x;
}

static void name_out(struct sock_msg *m, const struct unix_rec *r)
{
	if (r->from) {
		memcpy(m->addr.raw, r->from->bytes, (size_t)r->from->len);
		m->addrlen = r->from->len;
	}
}

/* One datagram or seqpacket record. */
static long recv_record(struct unix_sock *u, struct sock_msg *m, bool peek, int *out_flags,
			struct unix_fds **fds, struct unix_cred *cred)
{
	struct unix_rec *r = next_rec(u, NULL);
	long c = (long)MIN(m->data.resid, r->len);
	if (c && uio_copy_out(&m->data, r->data, (size_t)c) < 0)
		return -EFAULT;
	if ((size_t)c < r->len) {
		*out_flags |= MSG_TRUNC;
		if (m->flags & MSG_TRUNC)
			c = (long)r->len;                /* Linux: the real length with MSG_TRUNC */
	}
	name_out(m, r);
	*cred = r->cred;
	*fds = r->fds;                               /* peek: they stay the record's */
	if (!peek) {
		spin_lock(&unix_lock);
		*fds = unix_rec_take_fds_locked(r);      /* out of flight while r is still queued */
		u->qbytes -= r->len;
		spin_unlock(&unix_lock);
		take_first(u, r);
	}
	return c;
}

/* Stream bytes across records, from the first one on: stops after a record with descriptors
 * and (SO_PASSCRED) before one from another sender. done: bytes this call already read. */
static long recv_stream(struct unix_sock *u, struct sock_msg *m, bool peek, long done, bool passcred,
			struct unix_fds **fds, struct unix_cred *cred, bool *stop)
{
	struct unix_rec *r = next_rec(u, NULL);
	size_t off;
	spin_lock(&unix_lock);
	off = u->off;
	spin_unlock(&unix_lock);
	long got = 0;
	bool first = done == 0;
	if (first) {
		*cred = r->cred;
		name_out(m, r);
	}
	while (r && m->data.resid) {
		if (!first && passcred && memcmp(&r->cred, cred, sizeof(*cred))) {
			*stop = true;                    /* never glue two writers' bytes */
			break;
		}
		first = false;
		size_t k = MIN(r->len - off, m->data.resid);
		if (k && uio_copy_out(&m->data, r->data + off, k) < 0)
			return got ? got : -EFAULT;
		got += (long)k;
		off += k;
		bool had_fds = r->fds != NULL;
		if (had_fds && peek) {
			*fds = r->fds;                   /* they stay the record's */
		} else if (had_fds) {
			spin_lock(&unix_lock);
			*fds = unix_rec_take_fds_locked(r);   /* out of flight while r is still queued */
			spin_unlock(&unix_lock);
		}
		struct unix_rec *next = next_rec(u, r);
		bool partial = off < r->len;
		if (!peek) {
			spin_lock(&unix_lock);
			u->qbytes -= k;
			u->off = off;
			if (partial)
				wake_writers_locked(u);
			spin_unlock(&unix_lock);
			if (!partial)
				take_first(u, r);        /* r is gone */
		}
		if (had_fds) {
			*stop = true;
			break;
		}
		if (partial)
			break;
		r = next;
		off = 0;
	}
	return got;
}

long unix_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct unix_sock *u = unix_sk(s);
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	enum unix_state st = READ_ONCE(u->state);
	if (u->type == SOCK_STREAM && st != UNIX_CONNECTED)
		return -EINVAL;
	if (u->type == SOCK_SEQPACKET && st != UNIX_CONNECTED)
		return -ENOTCONN;
	bool stream = u->type == SOCK_STREAM;
	bool peek = m->flags & MSG_PEEK, waitall = (m->flags & MSG_WAITALL) && stream && !peek;
	bool passcred = READ_ONCE(u->passcred);
	struct unix_fds *fds = NULL;
	struct unix_cred cred = { 0 };
	bool got = false;                            /* a record was read: its credentials apply */
	sleep_lock(&s->rx_lock);
	uint64_t deadline = 0;
	long done = 0;
	int out_flags = 0;
	m->addrlen = 0;
	for (;;) {
		int w = sock_wait(s, recv_ready, nonblock, s->rcvtimeo_ns, &deadline, &s->rx_lock);
		if (w < 0) {
			if (!done)
				done = w;
			break;
		}
		spin_lock(&unix_lock);
		bool empty = list_empty(&u->q);
		int err = 0;
		if (empty && u->err) {
			err = u->err;
			u->err = 0;
		}
		spin_unlock(&unix_lock);
		if (err) {
			if (!done)
				done = -err;
			break;
		}
		if (empty)
			break;                               /* shut down: end of file */
		got = true;
		if (!stream) {
			done = recv_record(u, m, peek, &out_flags, &fds, &cred);
			break;
		}
		bool stop = false;
		long c = recv_stream(u, m, peek, done, passcred, &fds, &cred, &stop);
		if (c < 0) {
			if (!done)
				done = c;
			break;
		}
		done += c;
		if (stop || !waitall || !m->data.resid)
			break;
	}
	/* control messages before rx_lock goes: a peeked record's descriptors stay its own */
	bool cloexec = m->flags & MSG_CMSG_CLOEXEC;
	m->flags = out_flags;
	m->control_out = 0;
	if (done >= 0) {
		int e = unix_scm_deliver(m, &cred, passcred && got, fds, !peek, cloexec);
		if (e < 0)
			done = e;
	} else if (fds && !peek) {
		unix_fds_free(fds);
	}
	sleep_unlock(&s->rx_lock);
	return done;
}
