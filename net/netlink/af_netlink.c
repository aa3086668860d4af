/*
 * AF_NETLINK sockets: NETLINK_ROUTE, what glibc (getaddrinfo's AI_ADDRCONFIG, if_nameindex,
 * getifaddrs), musl (getifaddrs, if_nameindex) and busybox's `ip` use to read the interfaces,
 * their addresses and the routes.
 *
 * Theory. A netlink socket talks to the kernel (port id 0) in datagrams of netlink messages
 * (struct nlmsghdr_k, each padded to 4 bytes). A request is answered while sendmsg runs: each
 * message with NLM_F_REQUEST goes to rtnetlink.c, whose replies (one message, or a dump's messages
 * and NLMSG_DONE) are appended to datagrams of up to NL_CHUNK bytes (struct nl_reply) and queued
 * on the requester's receive queue, net/sock_dgram.c's queue of whole datagrams bounded by
 * SO_RCVBUF: recvmsg, MSG_PEEK, MSG_TRUNC, poll and FIONREAD behave as for any datagram socket.
 * An error, or any request with NLM_F_ACK that is not a dump, gets an NLMSG_ERROR carrying the
 * errno (0: the acknowledgement) and the request's header, as Linux's netlink_ack. A dump is
 * generated whole at once (there are few interfaces), where Linux continues it as the reader
 * drains the queue. Nothing is ever sent to other sockets: no multicast groups carry events
 * (membership options are accepted and remembered, so programs that subscribe still work, and
 * simply hear nothing), and messages to a user port id are refused (ECONNREFUSED, as Linux when
 * that port does not exist).
 *
 * Port ids: bind with nl_pid 0, or the first send, picks one as Linux does: the process's id if
 * free, else a negative number counting down from -4096; an explicit id must be free
 * (EADDRINUSE). ports_lock guards the list of bound sockets; s->lock what the socket holds.
 */
#include "net/netlink/netlink.h"
#include "net/sock_dgram.h"
#include "net/socket.h"
#include "kernel/errno.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "lib/list.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"

#define SOL_NETLINK 270
#define NETLINK_OPT_MAX 12           /* NETLINK_ADD_MEMBERSHIP (1) .. NETLINK_GET_STRICT_CHK (12) */
#define NETLINK_ADD_MEMBERSHIP 1
#define NETLINK_DROP_MEMBERSHIP 2
#define NL_SEND_MAX 65536            /* the largest request datagram taken */
#define NL_AUTOBIND_START (-4096)
#define NL_RECV_FLAGS (MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_WAITALL)

struct nl_sock {
	struct dgram_queue q;        /* first: net/sock_dgram.h's convention */
	struct list_head node;       /* on ports, once bound (ports_lock) */
	bool bound;                  /* ports_lock */
	uint32_t portid;             /* ports_lock; fixed once bound */
	uint32_t groups;             /* s->lock: bind()'s groups, ADD_MEMBERSHIP's (1..32) */
	uint32_t opts;               /* s->lock: boolean SOL_NETLINK options that are set (bit = name) */
};

static struct spinlock ports_lock = SPINLOCK_INIT("netlink_ports");
static struct list_head ports = LIST_HEAD_INIT(ports);
static int32_t next_autobind = NL_AUTOBIND_START;

static struct nl_sock *nl_of(struct socket *s) { return s->proto; }

static bool port_taken_locked(uint32_t portid)
{
	struct list_head *p;
	list_for_each(p, &ports)
		if (list_entry(p, struct nl_sock, node)->portid == portid)
			return true;
	return false;
}

/* Bind to portid, or (0) pick one. 0, -EADDRINUSE, -EINVAL (bound to another id already). */
static int nl_bind_port(struct nl_sock *n, uint32_t portid)
{
	int r = 0;
	spin_lock(&ports_lock);
	if (n->bound) {
		r = portid && portid != n->portid ? -EINVAL : 0;
	} else if (portid) {
		if (port_taken_locked(portid))
			r = -EADDRINUSE;
	} else {
		portid = current->proc ? (uint32_t)current->proc->pid : 0;
		while (!portid || port_taken_locked(portid))
			portid = (uint32_t)next_autobind--;
	}
	if (r == 0 && !n->bound) {
		n->portid = portid;
		n->bound = true;
		list_add_tail(&n->node, &ports);
	}
	spin_unlock(&ports_lock);
	return r;
}

static int nl_create(struct socket *s)
{
	if (s->protocol != NETLINK_ROUTE)
		return -EPROTONOSUPPORT;
	struct nl_sock *n = kzalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	dgq_init(&n->q);
	list_init(&n->node);
	s->proto = n;
	return 0;
}

static void nl_release(struct socket *s)
{
	struct nl_sock *n = nl_of(s);
	spin_lock(&ports_lock);
	if (n->bound)
		list_del(&n->node);
	spin_unlock(&ports_lock);
	dgq_flush(s);
	kfree(n);
	s->proto = NULL;
}

static int nl_addr(const struct sockaddr_k *a, int len)
{
	if (len < (int)sizeof(struct sockaddr_nl_k))
		return -EINVAL;
	return a->family == AF_NETLINK ? 0 : -EINVAL;
}

static int nl_bind(struct socket *s, const struct sockaddr_k *a, int len)
{
	int r = nl_addr(a, len);
	if (r < 0)
		return r;
	struct nl_sock *n = nl_of(s);
	if ((r = nl_bind_port(n, a->nl.nl_pid)) < 0)
		return r;
	spin_lock(&s->lock);
	n->groups = a->nl.nl_groups;
	spin_unlock(&s->lock);
	return 0;
}

/* Only the kernel (port 0) can be a peer: connect to it is remembered by nothing (it is the
 * default destination anyway), AF_UNSPEC disconnects, a user port is refused. */
static int nl_connect(struct socket *s, const struct sockaddr_k *a, int len, bool nonblock __unused)
{
	if (len >= (int)sizeof(a->family) && a->family == AF_UNSPEC)
		return 0;
	int r = nl_addr(a, len);
	if (r < 0)
		return r;
	if (a->nl.nl_pid != 0)
		return -ECONNREFUSED;
	return nl_bind_port(nl_of(s), 0);
}

static int nl_getname(struct socket *s, struct sockaddr_k *a, int *len, bool peer)
{
	struct nl_sock *n = nl_of(s);
	memset(&a->nl, 0, sizeof(a->nl));
	a->nl.nl_family = AF_NETLINK;
	if (!peer) {
		spin_lock(&ports_lock);
		a->nl.nl_pid = n->bound ? n->portid : 0;
		spin_unlock(&ports_lock);
		spin_lock(&s->lock);
		a->nl.nl_groups = n->groups;
		spin_unlock(&s->lock);
	}
	*len = sizeof(a->nl);
	return 0;
}

/* ---- the reply builder (netlink.h) ---- */

static void nl_flush_chunk(struct nl_reply *r)
{
	if (!r->d)
		return;
	if (!dgq_push(r->s, r->d))
		r->err = -ENOBUFS;
	r->d = NULL;
	r->msg = NULL;
}

/* A new, empty chunk whose datagram comes from the kernel (port 0); NULL without memory. */
static struct dgram *new_chunk(struct nl_reply *r)
{
	struct dgram *d = dgram_new(NL_CHUNK);
	if (!d) {
		r->err = -ENOMEM;
		return NULL;
	}
	d->len = 0;
	d->addrlen = sizeof(d->addr.nl);
	memset(&d->addr.nl, 0, sizeof(d->addr.nl));
	d->addr.nl.nl_family = AF_NETLINK;
	return d;
}

/* Room for n more bytes of the message being built (or of a new one: r->msg NULL): in the current
 * chunk, or in a new one to which the message built so far moves (messages never straddle two
 * datagrams). NULL when there is no memory or a message would exceed NL_CHUNK. */
static void *nl_room(struct nl_reply *r, size_t n)
{
	if (r->d && r->d->len + n > NL_CHUNK) {
		struct dgram *old = r->d;
		size_t mlen = r->msg ? (size_t)(old->data + old->len - (uint8_t *)r->msg) : 0;
		if (mlen == old->len || mlen + n > NL_CHUNK)
			return NULL;                /* one message over NL_CHUNK: never built here */
		struct dgram *d = new_chunk(r);
		if (!d)
			return NULL;
		memcpy(d->data, r->msg, mlen);
		d->len = (uint32_t)mlen;
		old->len -= (uint32_t)mlen;
		r->msg = mlen ? (struct nlmsghdr_k *)d->data : NULL;
		nl_flush_chunk(r);              /* queues old (r->d), clears r->msg */
		r->msg = mlen ? (struct nlmsghdr_k *)d->data : NULL;
		r->d = d;
	}
	if (!r->d && !(r->d = new_chunk(r)))
		return NULL;
	if (r->d->len + n > NL_CHUNK)
		return NULL;
	void *p = r->d->data + r->d->len;
	memset(p, 0, n);
	r->d->len += (uint32_t)n;
	if (r->msg)
		r->msg->nlmsg_len += (uint32_t)n;
	return p;
}

void *nl_msg_begin(struct nl_reply *r, uint16_t type, uint16_t flags, uint32_t seq, size_t hdrlen)
{
	r->msg = NULL;
	struct nlmsghdr_k *h = nl_room(r, NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen));
	if (!h)
		return NULL;
	h->nlmsg_len = (uint32_t)(NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen));
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	h->nlmsg_pid = r->portid;
	r->msg = h;
	return (uint8_t *)h + NLMSG_HDRLEN;
}

void nl_attr(struct nl_reply *r, uint16_t type, const void *data, size_t len)
{
	if (!r->msg)
		return;
	struct nlattr_k *a = nl_room(r, NLA_HDRLEN + NLMSG_ALIGN(len));
	if (!a) {
		r->err = -EMSGSIZE;
		return;
	}
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	a->nla_type = type;
	memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
}

void nl_attr_u32(struct nl_reply *r, uint16_t type, uint32_t v) { nl_attr(r, type, &v, sizeof(v)); }
void nl_attr_str(struct nl_reply *r, uint16_t type, const char *s) { nl_attr(r, type, s, strlen(s) + 1); }

void nl_done(struct nl_reply *r, const struct nlmsghdr_k *req)
{
	int32_t *v = nl_msg_begin(r, NLMSG_DONE, NLM_F_MULTI, req->nlmsg_seq, sizeof(int32_t));
	if (v)
		*v = 0;
	r->msg = NULL;
}

/* Linux's netlink_ack: the errno, then the request's header (and, for an error, its payload
 * unless NETLINK_CAP_ACK; we echo the header only and say so with NLM_F_CAPPED). */
void nl_error(struct nl_reply *r, const struct nlmsghdr_k *req, int err)
{
	struct { int32_t error; struct nlmsghdr_k req; } *e =
		nl_msg_begin(r, NLMSG_ERROR, err ? NLM_F_CAPPED : 0, req->nlmsg_seq, sizeof(*e));
	if (e) {
		e->error = err;
		e->req = *req;
	}
	r->msg = NULL;
}

/* ---- send and receive ---- */

static long nl_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock __unused)
{
	struct nl_sock *n = nl_of(s);
	if (m->addrlen) {
		int r = nl_addr(&m->addr, m->addrlen);
		if (r < 0)
			return r;
		if (m->addr.nl.nl_pid != 0 || m->addr.nl.nl_groups)
			return -ECONNREFUSED;   /* no user port or group is ever reached */
	}
	size_t len = m->data.resid;
	if (len > NL_SEND_MAX)
		return -EMSGSIZE;
	int r = nl_bind_port(n, 0);
	if (r < 0)
		return r;
	uint8_t *buf = kmalloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	if (uio_copy_in(&m->data, buf, len) < 0) {
		kfree(buf);
		return -EFAULT;
	}
	struct nl_reply rep = { .s = s, .portid = n->portid };
	/* Linux's netlink_rcv_skb: a message shorter than its header or longer than what is left
	 * ends the walk silently */
	for (size_t off = 0; off + NLMSG_HDRLEN <= len;) {
		struct nlmsghdr_k h;
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
			break;
		int err = 0;
		bool ack = h.nlmsg_flags & NLM_F_ACK;
		if ((h.nlmsg_flags & NLM_F_REQUEST) && h.nlmsg_type >= 0x10) {   /* NLMSG_MIN_TYPE */
			struct nlmsghdr_k *req = (struct nlmsghdr_k *)(buf + off);
			err = rtnl_request(&rep, req);
			if (err > 0) {              /* a dump: its NLMSG_DONE is the answer, no ack */
				err = 0;
				ack = false;
			}
		}
		if (err || ack)
			nl_error(&rep, &h, err);
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	nl_flush_chunk(&rep);
	kfree(buf);
	return (long)len;
}

static long nl_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	if (m->flags & ~NL_RECV_FLAGS)
		return -EINVAL;
	return dgq_recvmsg(s, m, nonblock);
}

static int nl_shutdown(struct socket *s, int how) { return dgq_shutdown(s, how, true); }

/* ---- options ---- */

static int nl_setsockopt(struct socket *s, int level, int name, const void *val, int len)
{
	if (level != SOL_NETLINK)
		return -ENOPROTOOPT;
	if (name < 1 || name > NETLINK_OPT_MAX)
		return -ENOPROTOOPT;
	if (len < (int)sizeof(int))
		return -EINVAL;
	int v;
	memcpy(&v, val, sizeof(v));
	struct nl_sock *n = nl_of(s);
	spin_lock(&s->lock);
	if (name == NETLINK_ADD_MEMBERSHIP || name == NETLINK_DROP_MEMBERSHIP) {
		if (v >= 1 && v <= 32) {
			uint32_t bit = 1u << (v - 1);
			n->groups = name == NETLINK_ADD_MEMBERSHIP ? n->groups | bit : n->groups & ~bit;
		}
	} else if (v) {
		n->opts |= 1u << name;
	} else {
		n->opts &= ~(1u << name);
	}
	spin_unlock(&s->lock);
	return 0;
}

static int nl_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	if (level != SOL_NETLINK)
		return -ENOPROTOOPT;
	if (name < 1 || name > NETLINK_OPT_MAX || name == NETLINK_ADD_MEMBERSHIP || name == NETLINK_DROP_MEMBERSHIP)
		return -ENOPROTOOPT;
	if (*len < (int)sizeof(int))
		return -EINVAL;
	spin_lock(&s->lock);
	int v = (nl_of(s)->opts >> name) & 1;
	spin_unlock(&s->lock);
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

const struct sock_ops netlink_sock_ops = {
	.create = nl_create,
	.release = nl_release,
	.bind = nl_bind,
	.connect = nl_connect,
	.sendmsg = nl_sendmsg,
	.recvmsg = nl_recvmsg,
	.shutdown = nl_shutdown,
	.getname = nl_getname,
	.poll = dgq_poll,
	.setsockopt = nl_setsockopt,
	.getsockopt = nl_getsockopt,
	.ioctl = dgq_ioctl,
};
