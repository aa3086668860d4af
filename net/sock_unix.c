/*
 * AF_UNIX socket pairs: socketpair(AF_UNIX, SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET, 0, sv).
 *
 * Two connected ends and nothing else: no lwIP, no squeues, no addresses (socket(AF_UNIX) with
 * bind/connect to a path is not implemented; socket() answers EAFNOSUPPORT). Each end has a
 * receive queue of records, each the bytes of one send call (or of one chunk of a long stream
 * write). A stream reader takes bytes across records; a datagram or seqpacket reader takes one
 * record per call (the rest of a longer one is dropped, MSG_TRUNC), as Linux does.
 *
 * Flow control: a writer may queue on its peer while the peer's queue holds less than the
 * writer's SO_SNDBUF (Linux charges a writer's unread bytes to its send buffer in much the same
 * way); a datagram always fits an empty queue, and one longer than SO_SNDBUF is EMSGSIZE. A
 * writer that finds no room sleeps on its own wait queue (unless non-blocking: EAGAIN, or what
 * it already wrote); the peer's reader wakes it when it takes bytes. A stream write goes on
 * until all is queued. Nothing is dropped: a send either queues its bytes or fails.
 *
 * Shutdown follows Linux's sk_shutdown bits per end: rcv_shut and snd_shut. shutdown(SHUT_RD)
 * sets our rcv_shut, SHUT_WR our snd_shut, and on stream and seqpacket pairs the peer gets the
 * mirror (our SHUT_WR is its rcv_shut: it reads EOF once the queue is empty). Closing an end of a
 * stream or seqpacket pair shuts the peer both ways (EOF, then EPIPE with SIGPIPE on write). A
 * datagram end whose peer closed gets ECONNREFUSED on its next send and ENOTCONN after that, and
 * its reads wait (Linux's unix_dgram_sendmsg and recvmsg).
 *
 * Locks: one spinlock per pair (pair->lock) guards both ends' queues, flags and the peer's socket
 * pointer; it nests inside nothing and takes only wait-queue locks (sock_wake) inside. Copies to
 * and from user memory happen without it: a writer copies into a new record first, a reader
 * (s->rx_lock held, so one at a time per end) copies from records that only it removes while
 * writers only append. The pair is freed when both ends are released (refs).
 */
#include "net/socket.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/list.h"
#include "fs/poll.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"

#define UNIX_STREAM_CHUNK (64 * 1024)     /* bytes per record of a long stream write */
#define UNIX_BUF_DEFAULT 212992             /* SO_SNDBUF/SO_RCVBUF as Linux reports them (wmem_default) */
#define SOCK_RAW_K 3                        /* Linux treats a SOCK_RAW unix socket as SOCK_DGRAM */

struct unix_rec {
	struct list_head node;              /* on the receiving end's queue */
	size_t len;                         /* bytes in data */
	uint8_t data[];
};

struct unix_pair;

struct unix_end {
	struct unix_pair *pair;
	struct socket *s;                   /* NULL once released */
	struct list_head q;                 /* received records, oldest first */
	size_t qbytes;                      /* bytes queued (beyond off) */
	size_t off;                         /* stream: bytes of the first record already read */
	bool rcv_shut, snd_shut;            /* Linux's RCV_SHUTDOWN, SEND_SHUTDOWN */
	bool peer_dead;                     /* datagram: the peer closed (ECONNREFUSED once) */
	bool peer_reported;                 /* ... and that was reported: ENOTCONN now */
	int creator_pid;                    /* SO_PEERCRED of the other end */
	size_t send_want;                   /* the blocked writer's record size (tx_lock) */
};

struct unix_pair {
	struct spinlock lock;
	int refs;                           /* ends not yet released */
	int type;
	struct unix_end end[2];
};

static struct unix_end *end_of(struct socket *s) { return s->proto; }
static struct unix_end *peer_of(struct unix_end *e) { return &e->pair->end[e == &e->pair->end[0]]; }
static bool is_stream(const struct unix_end *e) { return e->pair->type == SOCK_STREAM; }
static bool connection_based(const struct unix_end *e) { return e->pair->type != SOCK_DGRAM; }

static void wake_end(struct unix_end *e)
{
	if (e->s)
		sock_wake(e->s);
}

/* ---- send ---- */

/* Room on the peer's queue for a record of len bytes (pair->lock held). */
static bool peer_room(struct unix_end *e, size_t len)
{
	struct unix_end *p = peer_of(e);
	size_t limit = (size_t)READ_ONCE(e->s->sndbuf);
	return p->qbytes == 0 || p->qbytes + len <= limit || (is_stream(e) && p->qbytes < limit);
}

/* Why a send cannot go on now: 0 (it can), or -errno (pair->lock held). */
static int send_error(struct unix_end *e)
{
	if (e->snd_shut)
		return -EPIPE;
	if (e->peer_dead) {
		int r = e->peer_reported ? -ENOTCONN : -ECONNREFUSED;
		e->peer_reported = true;
		return r;
	}
	return 0;
}

static bool send_ready(struct socket *s)
{
	struct unix_end *e = end_of(s);
	spin_lock(&e->pair->lock);
	bool ok = e->snd_shut || e->peer_dead || peer_room(e, e->send_want);
	spin_unlock(&e->pair->lock);
	return ok;
}

static long unix_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct unix_end *e = end_of(s);
	struct unix_pair *pr = e->pair;
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (m->addrlen && connection_based(e))
		return -EISCONN;                    /* Linux: a connected stream takes no address */
	if (!is_stream(e) && m->data.resid > (size_t)READ_ONCE(s->sndbuf))
		return -EMSGSIZE;
	sleep_lock(&s->tx_lock);
	uint64_t deadline = 0;
	long done = 0;
	bool all_queued = false;                     /* an empty datagram still goes once */
	while (!all_queued) {
		size_t n = is_stream(e) ? MIN(m->data.resid, (size_t)UNIX_STREAM_CHUNK) : m->data.resid;
		spin_lock(&pr->lock);
		int err = send_error(e);
		bool room = err || peer_room(e, n);
		spin_unlock(&pr->lock);
		if (err) {
			if (!done)
				done = err;
			break;
		}
		if (!room) {
			e->send_want = n;
			int w = sock_wait(s, send_ready, nonblock, s->sndtimeo_ns, &deadline, &s->tx_lock);
			if (w < 0) {
				if (!done)
					done = w;
				break;
			}
			continue;
		}
		struct unix_rec *r = kmalloc(sizeof(*r) + n);
		if (!r) {
			if (!done)
				done = -ENOBUFS;
			break;
		}
		r->len = n;
		if (n && uio_copy_in(&m->data, r->data, n) < 0) {
			kfree(r);
			if (!done)
				done = -EFAULT;
			break;
		}
		spin_lock(&pr->lock);
		struct unix_end *p = peer_of(e);
		err = send_error(e);
		if (!err) {
			list_add_tail(&r->node, &p->q);
			p->qbytes += n;
			wake_end(p);
		}
		spin_unlock(&pr->lock);
		if (err) {
			kfree(r);
			if (!done)
				done = err;
			break;
		}
		done += (long)n;
		all_queued = m->data.resid == 0;
	}
	sleep_unlock(&s->tx_lock);
	return done;
}

/* ---- receive ---- */

static bool recv_ready(struct socket *s)
{
	struct unix_end *e = end_of(s);
	spin_lock(&e->pair->lock);
	bool ok = !list_empty(&e->q) || e->rcv_shut;
	spin_unlock(&e->pair->lock);
	return ok;
}

/* Copy from the queue without consuming: up to n stream bytes, or the first record. Returns the
 * bytes copied (or -EFAULT), *rec_len the first record's length (datagrams). Records stay put:
 * only this reader (rx_lock) removes them. */
static long copy_queue(struct unix_end *e, struct uio *u, size_t n, size_t *rec_len)
{
	spin_lock(&e->pair->lock);
	struct unix_rec *r = list_empty(&e->q) ? NULL : list_first_entry(&e->q, struct unix_rec, node);
	size_t off = e->off;
	if (!is_stream(e))
		n = MIN(n, r ? r->len : 0);
	else
		n = MIN(n, e->qbytes);
	spin_unlock(&e->pair->lock);
	*rec_len = r ? r->len : 0;
	size_t done = 0;
	while (done < n) {
		size_t k = MIN(r->len - off, n - done);
		if (uio_copy_out(u, r->data + off, k) < 0)
			return done ? (long)done : -EFAULT;
		done += k;
		off += k;
		if (off == r->len) {
			spin_lock(&e->pair->lock);
			r = list_entry(r->node.next, struct unix_rec, node);   /* there is one: done < n <= queued */
			spin_unlock(&e->pair->lock);
			off = 0;
		}
	}
	return (long)done;
}

/* Consume n stream bytes, or the first record; free what is used up; wake the writer. */
static void consume(struct unix_end *e, size_t n)
{
	struct list_head gone;
	list_init(&gone);
	spin_lock(&e->pair->lock);
	if (!is_stream(e)) {
		struct unix_rec *r = list_first_entry(&e->q, struct unix_rec, node);
		list_del(&r->node);
		list_add_tail(&r->node, &gone);
		e->qbytes -= r->len;
	} else {
		e->qbytes -= n;
		n += e->off;
		while (!list_empty(&e->q)) {
			struct unix_rec *r = list_first_entry(&e->q, struct unix_rec, node);
			if (n < r->len)
				break;
			n -= r->len;
			list_del(&r->node);
			list_add_tail(&r->node, &gone);
		}
		e->off = n;
	}
	wake_end(peer_of(e));                        /* room for its writer */
	spin_unlock(&e->pair->lock);
	while (!list_empty(&gone)) {
		struct unix_rec *r = list_first_entry(&gone, struct unix_rec, node);
		list_del(&r->node);
		kfree(r);
	}
}

static long unix_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct unix_end *e = end_of(s);
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	bool peek = m->flags & MSG_PEEK, waitall = (m->flags & MSG_WAITALL) && is_stream(e) && !peek;
	sleep_lock(&s->rx_lock);
	uint64_t deadline = 0;
	long done = 0;
	int out_flags = 0;
	for (;;) {
		int w = sock_wait(s, recv_ready, nonblock, s->rcvtimeo_ns, &deadline, &s->rx_lock);
		if (w < 0) {
			if (!done)
				done = w;
			break;
		}
		spin_lock(&e->pair->lock);
		bool empty = list_empty(&e->q);
		spin_unlock(&e->pair->lock);
		if (empty)
			break;                               /* shut down: end of file */
		size_t rec_len;
		long c = copy_queue(e, &m->data, m->data.resid, &rec_len);
		if (c < 0) {
			if (!done)
				done = c;
			break;
		}
		if (!is_stream(e)) {
			if ((size_t)c < rec_len) {
				out_flags |= MSG_TRUNC;
				if (m->flags & MSG_TRUNC)
					c = (long)rec_len;  /* Linux: the real length with MSG_TRUNC */
			}
			if (!peek)
				consume(e, 0);
			done = c;
			break;
		}
		if (!peek)
			consume(e, (size_t)c);
		done += c;
		if (!waitall || !m->data.resid)
			break;
	}
	sleep_unlock(&s->rx_lock);
	m->flags = out_flags;
	m->addrlen = 0;
	return done;
}

/* ---- shutdown, close ---- */

static int unix_shutdown(struct socket *s, int how)
{
	struct unix_end *e = end_of(s);
	spin_lock(&e->pair->lock);
	struct unix_end *p = peer_of(e);
	bool rd = how != SHUT_WR, wr = how != SHUT_RD;
	e->rcv_shut |= rd;
	e->snd_shut |= wr;
	if (connection_based(e) && p->s) {          /* the mirror on the peer */
		p->snd_shut |= rd;
		p->rcv_shut |= wr;
		wake_end(p);
	}
	wake_end(e);
	spin_unlock(&e->pair->lock);
	return 0;
}

static void unix_release(struct socket *s)
{
	struct unix_end *e = end_of(s);
	if (!e)
		return;
	struct unix_pair *pr = e->pair;
	struct list_head gone;
	list_init(&gone);
	spin_lock(&pr->lock);
	struct unix_end *p = peer_of(e);
	e->s = NULL;
	while (!list_empty(&e->q)) {
		struct unix_rec *r = list_first_entry(&e->q, struct unix_rec, node);
		list_del(&r->node);
		list_add_tail(&r->node, &gone);
	}
	e->qbytes = 0;
	if (connection_based(e)) {
		p->rcv_shut = p->snd_shut = true;
	} else {
		p->peer_dead = true;
	}
	wake_end(p);
	bool last = --pr->refs == 0;
	spin_unlock(&pr->lock);
	while (!list_empty(&gone)) {
		struct unix_rec *r = list_first_entry(&gone, struct unix_rec, node);
		list_del(&r->node);
		kfree(r);
	}
	s->proto = NULL;
	if (last)
		kfree(pr);
}

/* ---- names, readiness, options ---- */

static int unix_getname(struct socket *s __unused, struct sockaddr_k *a, int *len, bool peer __unused)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_UNIX;
	*len = sizeof(a->family);                   /* an unnamed socket: the family alone */
	return 0;
}

static unsigned unix_poll(struct socket *s)
{
	struct unix_end *e = end_of(s);
	unsigned m = 0;
	spin_lock(&e->pair->lock);
	if (e->rcv_shut && e->snd_shut)
		m |= EPOLLHUP;
	if (e->rcv_shut)
		m |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
	if (!list_empty(&e->q))
		m |= EPOLLIN | EPOLLRDNORM;
	if (e->snd_shut || e->peer_dead || peer_room(e, 1))
		m |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	spin_unlock(&e->pair->lock);
	return m;
}

static int unix_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	if (level != SOL_SOCKET || name != SO_PEERCRED)
		return -ENOPROTOOPT;
	struct unix_end *e = end_of(s);
	spin_lock(&e->pair->lock);
	int32_t cred[3] = { peer_of(e)->creator_pid, 0, 0 };   /* struct ucred: pid, uid, gid */
	spin_unlock(&e->pair->lock);
	*len = MIN(*len, (int)sizeof(cred));
	memcpy(val, cred, (size_t)*len);
	return 0;
}

static long unix_ioctl(struct socket *s, unsigned long cmd, unsigned long arg)
{
	struct unix_end *e = end_of(s);
	int v;
	spin_lock(&e->pair->lock);
	if (cmd == FIONREAD) {                    /* stream, seqpacket: all queued; dgram: the next record */
		v = connection_based(e) ? (int)e->qbytes
		    : list_empty(&e->q) ? 0 : (int)list_first_entry(&e->q, struct unix_rec, node)->len;
	} else if (cmd == SIOCOUTQ_K) {             /* what the peer has not read of ours */
		v = (int)peer_of(e)->qbytes;
	} else {
		spin_unlock(&e->pair->lock);
		return -ENOTTY;
	}
	spin_unlock(&e->pair->lock);
	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

const struct sock_ops unix_sock_ops = {
	.release = unix_release,
	.sendmsg = unix_sendmsg,
	.recvmsg = unix_recvmsg,
	.shutdown = unix_shutdown,
	.getname = unix_getname,
	.poll = unix_poll,
	.getsockopt = unix_getsockopt,
	.ioctl = unix_ioctl,
};

int unix_socketpair(int type, int protocol, struct socket *sv[2])
{
	if (protocol != 0 && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	if (type == SOCK_RAW_K)
		type = SOCK_DGRAM;
	if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
		return -ESOCKTNOSUPPORT;
	struct unix_pair *pr = kzalloc(sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	spin_init(&pr->lock, "unix_pair");
	pr->type = type;
	pr->refs = 2;
	int pid = current->proc ? current->proc->pid : 0;
	for (int i = 0; i < 2; i++) {
		struct unix_end *e = &pr->end[i];
		e->pair = pr;
		list_init(&e->q);
		e->creator_pid = pid;
		sv[i] = sock_alloc(AF_UNIX, type, 0, &unix_sock_ops);
		if (!sv[i]) {
			if (i)
				sock_free(sv[0]);
			kfree(pr);
			return -ENOMEM;
		}
		e->s = sv[i];
		sv[i]->proto = e;
		sv[i]->sndbuf = sv[i]->rcvbuf = UNIX_BUF_DEFAULT;
	}
	return 0;
}
