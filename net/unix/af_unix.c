/*
 * AF_UNIX sockets: socket(AF_UNIX, SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET) and socketpair.
 *
 * Files (one job each):
 *   af_unix.c    this theory, the socket's life (create, socketpair, release, shutdown), readiness,
 *                names out, options, ioctls, the wait helper
 *   unix_conn.c  names in: bind (pathname and abstract, autobind), lookup; listen, connect, accept
 *   unix_msg.c   sendmsg/recvmsg on the record queues
 *   unix_scm.c   control messages: SCM_RIGHTS (descriptors in flight) and SCM_CREDENTIALS
 *   unix_gc.c    in-flight accounting and the collector of unreachable cycles of sockets
 *   unix_proc.c  /proc/net/unix in Linux's format
 *   fs/sock_node.c  the S_IFSOCK node a pathname bind makes
 * No lwIP, no squeues: a unix socket is a struct unix_sock (Linux's name) behind the socket.
 *
 * Queues. Each socket has a receive queue of records, each the bytes of one send call (or of one
 * 64 KiB chunk of a long stream write) with the sender's credentials, its name and the
 * descriptors it passed. A stream reader takes bytes across records but stops after a record
 * that carried descriptors (Linux never glues two of them); a datagram or seqpacket reader takes
 * one record per call (the rest is dropped, MSG_TRUNC).
 *
 * Names. A pathname bind makes an S_IFSOCK node (EADDRINUSE if the name exists); the socket keeps
 * a reference to the inode and connect finds the socket by it, so unlink(2) or a rename makes
 * the name unreachable and a new file at the path is another node (ECONNREFUSED). Abstract names
 * (sun_path[0] == 0) live only in the unix_bound list, every byte significant; they vanish with
 * the socket. bind with only the family (and connect/send of an unbound socket with SO_PASSCRED)
 * autobinds to an abstract "\0XXXXX" as Linux does.
 *
 * Connections (stream, seqpacket), as Linux: connect makes the server's socket at once (an
 * "embryo": a unix_sock without a struct socket), connects it to the client and queues it on
 * the listener's accept queue; the client may write before accept. The accept queue is full
 * above the listen backlog: a blocking connect waits for room on the listener's peer_wait, a
 * non-blocking one gets EAGAIN (not EINPROGRESS). accept gives the oldest embryo a socket.
 * Closing a connected end shuts its peer both ways (EOF, then EPIPE); if it had unread data or was
 * never accepted, the peer reads ECONNRESET once. Datagram sockets may connect (a default
 * destination and a filter: a socket connected elsewhere takes nothing from us, EPERM); a
 * datagram whose destination closed gets ECONNREFUSED once, then ENOTCONN.
 *
 * Flow control. A stream or seqpacket writer may queue while the peer's queue holds less than
 * the writer's SO_SNDBUF; a datagram fits when the receiver's queue has room in bytes and, unless
 * the receiver is connected back to the sender, holds at most max_dgram_qlen (10) records. A
 * writer without room sleeps on the receiver's peer_wait (holding a reference to it); a reader
 * that takes a record wakes its peer_wait and its connected peer's watchers (poll EPOLLOUT).
 *
 * Descriptors in flight (SCM_RIGHTS) are file references owned by their record: delivered, they
 * become the receiver's fds (MSG_CTRUNC and closed when the control buffer is short; read(2)
 * gives no control buffer); a record dropped unread (the receiver closed) closes them. Cycles
 * (a socket sent over itself and then closed, rings of sockets queued on each other) are found
 * by unix_gc.c's collector, which each release runs while any unix socket is in flight: it
 * purges their queues, so they are released as any other socket (theory and locking there).
 *
 * Lifetime. refs counts: the struct socket (until release), a peer's pointer, a listener's accept
 * queue (for an embryo: it stands for the socket it will get) and a sleeper waiting on peer_wait.
 * The last unix_put frees the structure; by then release emptied its queue outside the lock, so
 * unix_put never closes files and may run under unix_lock.
 *
 * Locks. One spinlock, unix_lock, for every unix socket's state and the tables (connect and
 * release each touch up to three sockets; one lock makes their order trivial, and it is held
 * only for list and pointer work: no copies, no allocation that may sleep, no file closes).
 * Order: s->rx_lock / s->tx_lock (sleeplocks, held while bytes are copied) -> unix_lock -> wait
 * queue locks. User memory is touched only outside unix_lock: a writer copies into a new record
 * first, a reader (rx_lock held, so one per socket) copies from records only it removes.
 */
#include "net/unix/unix.h"
#include "kernel/errno.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/timer.h"
#include "fs/poll.h"
#include "fs/fs.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"

#define SOCK_RAW_K 3                        /* Linux treats a SOCK_RAW unix socket as SOCK_DGRAM */
#define NO_ID 0xffffffffu                   /* SO_PEERCRED uid/gid of an unconnected socket: -1 */

struct spinlock unix_lock = SPINLOCK_INIT("unix");
struct list_head unix_all = LIST_HEAD_INIT(unix_all);
struct list_head unix_bound = LIST_HEAD_INIT(unix_bound);

/* ---- life ---- */

void unix_current_cred(struct unix_cred *c)
{
	c->pid = current->proc ? current->proc->pid : 0;
	c->uid = c->gid = 0;                        /* everyone is root */
}

struct unix_sock *unix_sock_new(int type)
{
	struct unix_sock *u = kzalloc(sizeof(*u));
	if (!u)
		return NULL;
	u->refs = 1;
	u->type = type;
	list_init(&u->q);
	list_init(&u->acceptq);
	list_init(&u->accept_node);
	list_init(&u->bound_node);
	list_init(&u->inflight_node);
	list_init(&u->gc_node);
	list_init(&u->gc_work);
	waitq_init(&u->peer_wait, "unix_peer");
	unix_current_cred(&u->owncred);
	u->peercred = (struct unix_cred){ 0, NO_ID, NO_ID };
	spin_lock(&unix_lock);
	list_add_tail(&u->all_node, &unix_all);
	spin_unlock(&unix_lock);
	return u;
}

void unix_get(struct unix_sock *u) { __atomic_add_fetch(&u->refs, 1, __ATOMIC_RELAXED); }

void unix_put(struct unix_sock *u)
{
	if (__atomic_sub_fetch(&u->refs, 1, __ATOMIC_ACQ_REL))
		return;
	kfree(u->addr);
	kfree(u);
}

void unix_wake(struct unix_sock *u)
{
	if (u->s)
		sock_wake(u->s);
}

void unix_free_recs(struct list_head *recs)
{
	while (!list_empty(recs)) {
		struct unix_rec *r = list_first_entry(recs, struct unix_rec, node);
		list_del(&r->node);
		unix_fds_free(r->fds);
		kfree(r->from);
		kfree(r);
	}
}

void unix_queue_drain_locked(struct unix_sock *u, struct list_head *recs)
{
	while (!list_empty(&u->q)) {
		struct unix_rec *r = list_first_entry(&u->q, struct unix_rec, node);
		list_del(&r->node);
		unix_inflight_del_locked(r->fds);
		list_add_tail(&r->node, recs);
	}
	u->qbytes = u->qlen = u->off = 0;
}

int unix_wait(struct waitq *wq, bool (*cond)(void *arg), void *arg, bool nonblock, uint64_t timeo_ns,
	      uint64_t *deadline, struct sleeplock *drop)
{
	if (cond(arg))
		return 0;
	if (nonblock)
		return -EAGAIN;
	if (timeo_ns && !*deadline)
		*deadline = time_now() + ns_to_ticks(timeo_ns);
	struct wait_entry e = { .queued = false };
	int r = 0;
	for (;;) {
		prepare_to_wait(wq, &e);
		if (cond(arg))
			break;
		if (signal_pending()) {
			r = timeo_ns ? -EINTR : -ERESTARTSYS;
			break;
		}
		if (timeo_ns && time_now() >= *deadline) {
			r = -EAGAIN;
			break;
		}
		if (drop)
			sleep_unlock(drop);
		wait_schedule(timeo_ns ? *deadline : TIMER_NONE);
		finish_wait(wq, &e);
		if (drop)
			sleep_lock(drop);
	}
	finish_wait(wq, &e);
	return r;
}

/* Detach u from everything at its release (or an unaccepted embryo's): unix_lock held. Its
 * records go to recs, its embryos (listener) to embryos with their references, its inode to
 * *ino. Drops the reference u held on its peer. */
static void unix_detach_locked(struct unix_sock *u, struct list_head *recs, struct list_head *embryos,
			       struct inode **ino)
{
	bool unread = !list_empty(&u->q), embryo = !u->s && u->state == UNIX_CONNECTED;
	u->dead = true;
	u->s = NULL;
	list_del(&u->all_node);
	unix_unbind_locked(u, ino);
	unix_queue_drain_locked(u, recs);
	u->rcv_shut = u->snd_shut = true;
	while (!list_empty(&u->acceptq)) {
		struct unix_sock *e = list_first_entry(&u->acceptq, struct unix_sock, accept_node);
		list_del(&e->accept_node);
		list_add_tail(&e->accept_node, embryos);
	}
	u->nacc = 0;
	struct unix_sock *p = u->peer;
	if (p) {
		if (u->type != SOCK_DGRAM) {
			p->rcv_shut = p->snd_shut = true;
			if (unread || embryo)
				p->err = ECONNRESET;
		}
		wake_all(&p->peer_wait);
		unix_wake(p);
		u->peer = NULL;
		unix_put(p);                             /* if the last, p was released: its queue is empty */
	}
	wake_all(&u->peer_wait);                     /* senders and connectors waiting on us */
}

static void unix_release(struct socket *s)
{
	struct unix_sock *u = unix_sk(s);
	if (!u)
		return;
	struct list_head recs, embryos;
	list_init(&recs);
	list_init(&embryos);
	struct inode *ino = NULL;
	spin_lock(&unix_lock);
	unix_detach_locked(u, &recs, &embryos, &ino);
	spin_unlock(&unix_lock);
	s->proto = NULL;
	/* a listener's unaccepted embryos go with it: their clients see ECONNRESET, then EOF */
	while (!list_empty(&embryos)) {
		struct unix_sock *e = list_first_entry(&embryos, struct unix_sock, accept_node);
		struct inode *eino = NULL;
		spin_lock(&unix_lock);
		list_del(&e->accept_node);
		list_init(&e->accept_node);
		unix_detach_locked(e, &recs, &embryos, &eino);
		spin_unlock(&unix_lock);
		unix_put(e);
	}
	unix_free_recs(&recs);
	if (ino)
		inode_put(ino);
	unix_put(u);
	if (unix_gc_wanted())
		unix_gc();                               /* this close may have left a cycle unreachable */
}

void unix_attach(struct socket *s, struct unix_sock *u)
{
	s->proto = u;
	s->sndbuf = s->rcvbuf = UNIX_BUF_DEFAULT;
	spin_lock(&unix_lock);
	u->s = s;
	spin_unlock(&unix_lock);
}

static int unix_normal_type(int type)
{
	if (type == SOCK_RAW_K)
		return SOCK_DGRAM;
	if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
		return -ESOCKTNOSUPPORT;
	return type;
}

static int unix_create(struct socket *s)
{
	if (s->protocol != 0 && s->protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	int type = unix_normal_type(s->type);
	if (type < 0)
		return type;
	s->type = type;
	struct unix_sock *u = unix_sock_new(type);
	if (!u)
		return -ENOMEM;
	unix_attach(s, u);
	return 0;
}

int unix_socketpair(int type, int protocol, struct socket *sv[2])
{
	if (protocol != 0 && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	type = unix_normal_type(type);
	if (type < 0)
		return type;
	struct unix_sock *u[2] = { unix_sock_new(type), unix_sock_new(type) };
	sv[0] = sock_alloc(AF_UNIX, type, 0, &unix_sock_ops);
	sv[1] = sock_alloc(AF_UNIX, type, 0, &unix_sock_ops);
	if (!u[0] || !u[1] || !sv[0] || !sv[1]) {
		for (int i = 0; i < 2; i++) {
			if (u[i]) {
				spin_lock(&unix_lock);
				list_del(&u[i]->all_node);
				spin_unlock(&unix_lock);
				unix_put(u[i]);
			}
			if (sv[i])
				sock_free(sv[i]);
		}
		return -ENOMEM;
	}
	for (int i = 0; i < 2; i++)
		unix_attach(sv[i], u[i]);
	spin_lock(&unix_lock);
	for (int i = 0; i < 2; i++) {
		u[i]->peer = u[!i];
		unix_get(u[!i]);
		u[i]->state = UNIX_CONNECTED;
		u[i]->peercred = u[!i]->owncred;
	}
	spin_unlock(&unix_lock);
	return 0;
}

/* ---- shutdown ---- */

static int unix_shutdown(struct socket *s, int how)
{
	struct unix_sock *u = unix_sk(s);
	spin_lock(&unix_lock);
	bool rd = how != SHUT_WR, wr = how != SHUT_RD;
	u->rcv_shut |= rd;
	u->snd_shut |= wr;
	struct unix_sock *p = u->peer;
	if (p && u->type != SOCK_DGRAM) {            /* the mirror on the peer */
		p->snd_shut |= rd;
		p->rcv_shut |= wr;
		unix_wake(p);
		wake_all(&p->peer_wait);
	}
	wake_all(&u->peer_wait);
	unix_wake(u);
	spin_unlock(&unix_lock);
	return 0;
}

/* ---- names, readiness, options ---- */

static int unix_getname(struct socket *s, struct sockaddr_k *a, int *len, bool peer)
{
	struct unix_sock *u = unix_sk(s);
	memset(a, 0, sizeof(*a));
	a->family = AF_UNIX;
	*len = sizeof(a->family);                   /* an unnamed socket: the family alone */
	spin_lock(&unix_lock);
	struct unix_sock *n = u;
	if (peer) {
		n = u->peer;
		if (!n || (u->type != SOCK_DGRAM && u->state != UNIX_CONNECTED)) {
			spin_unlock(&unix_lock);
			return -ENOTCONN;
		}
	}
	if (n->addr) {
		memcpy(a->raw, n->addr->bytes, (size_t)n->addr->len);
		*len = n->addr->len;
	}
	spin_unlock(&unix_lock);
	return 0;
}

/* Room on r's queue for len bytes from u (unix_lock held). */
bool unix_room(struct unix_sock *u, struct unix_sock *r, size_t len)
{
	size_t limit = u->s ? (size_t)READ_ONCE(u->s->sndbuf) : UNIX_BUF_DEFAULT;
	if (u->type == SOCK_DGRAM && r->peer != u && r->qlen > UNIX_MAX_DGRAM_QLEN)
		return false;
	return r->qbytes == 0 || r->qbytes + len <= limit || (u->type == SOCK_STREAM && r->qbytes < limit);
}

static unsigned unix_poll(struct socket *s)
{
	struct unix_sock *u = unix_sk(s);
	unsigned m = 0;
	spin_lock(&unix_lock);
	if (u->state == UNIX_LISTENING) {
		if (!list_empty(&u->acceptq))
			m |= EPOLLIN | EPOLLRDNORM;
		spin_unlock(&unix_lock);
		return m;
	}
	if (u->err)
		m |= EPOLLERR;
	if (u->rcv_shut && u->snd_shut)
		m |= EPOLLHUP;
	if (u->rcv_shut)
		m |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
	if (!list_empty(&u->q))
		m |= EPOLLIN | EPOLLRDNORM;
	if (u->type != SOCK_DGRAM && u->state == UNIX_UNCONNECTED)
		m |= EPOLLHUP;
	struct unix_sock *p = u->peer;
	if (u->snd_shut || !p || p->dead || unix_room(u, p, 1))
		m |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	spin_unlock(&unix_lock);
	return m;
}

static int unix_setsockopt(struct socket *s, int level, int name, const void *val, int len)
{
	if (level != SOL_SOCKET || name != SO_PASSCRED_K)
		return -ENOPROTOOPT;
	int v;
	if (len < (int)sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	spin_lock(&unix_lock);
	unix_sk(s)->passcred = v != 0;
	spin_unlock(&unix_lock);
	return 0;
}

static int unix_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	struct unix_sock *u = unix_sk(s);
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	int v;
	spin_lock(&unix_lock);
	struct unix_cred c = u->peercred;
	bool passcred = u->passcred, listening = u->state == UNIX_LISTENING;
	spin_unlock(&unix_lock);
	switch (name) {
	case SO_PEERCRED:
		*len = MIN(*len, (int)sizeof(c));
		memcpy(val, &c, (size_t)*len);
		return 0;
	case SO_PASSCRED_K: v = passcred; break;
	case SO_ACCEPTCONN: v = listening; break;
	default: return -ENOPROTOOPT;
	}
	*len = MIN(*len, (int)sizeof(v));
	memcpy(val, &v, (size_t)*len);
	return 0;
}

static long unix_ioctl(struct socket *s, unsigned long cmd, unsigned long arg)
{
	struct unix_sock *u = unix_sk(s);
	int v;
	spin_lock(&unix_lock);
	if (cmd == FIONREAD) {                    /* stream, seqpacket: all queued; dgram: the next record */
		v = u->type != SOCK_DGRAM ? (int)u->qbytes
		    : list_empty(&u->q) ? 0 : (int)list_first_entry(&u->q, struct unix_rec, node)->len;
	} else if (cmd == SIOCOUTQ_K) {             /* what the peer has not read of ours */
		v = u->peer ? (int)u->peer->qbytes : 0;
	} else {
		spin_unlock(&unix_lock);
		return -ENOTTY;
	}
	spin_unlock(&unix_lock);
	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

const struct sock_ops unix_sock_ops = {
	.create = unix_create,
	.release = unix_release,
	.bind = unix_bind,
	.listen = unix_listen,
	.accept = unix_accept,
	.connect = unix_connect,
	.sendmsg = unix_sendmsg,
	.recvmsg = unix_recvmsg,
	.shutdown = unix_shutdown,
	.getname = unix_getname,
	.poll = unix_poll,
	.setsockopt = unix_setsockopt,
	.getsockopt = unix_getsockopt,
	.ioctl = unix_ioctl,
};
