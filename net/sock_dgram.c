/*
 * The receive side of datagram sockets (UDP, ICMP raw and ping sockets, AF_PACKET), shared; the
 * interface is net/sock_dgram.h.
 *
 * Theory. A datagram arrives in a callback that must not sleep or touch user memory: an lwIP
 * receive callback (squeue context, stack lock held) or a packet tap (net/netdev.h: the tap lock
 * held, in a poll thread, an squeue callback or a sending thread). It becomes a struct dgram (the
 * pbuf chain lwIP handed over, kept as it is; or a copy when lwIP goes on using its packet) and is
 * appended to the socket's queue under s->lock, followed by sock_wake. The queue is bounded the
 * way Linux bounds it: a datagram is dropped (and counted) when what is already queued is over
 * SO_RCVBUF, so a single datagram larger than the buffer still gets in.
 *
 * A reader holds s->rx_lock from its first look at the queue to the end of its copy, and only a
 * holder of rx_lock unlinks datagrams; callbacks only append. So a reader may copy from a
 * datagram it left on the queue (MSG_PEEK) with no spinlock held, and the copy to user memory
 * happens outside s->lock and the stack lock (pbufs may be read and freed there: net/stack.h rule
 * 3). While it waits for a datagram the reader sleeps in sock_wait, which drops rx_lock, so a
 * blocked reader never holds up a non-blocking one.
 *
 * Locks: s->rx_lock (sleeplock) -> s->lock (spinlock) -> s->wq. Callbacks come in holding the
 * stack lock or the tap lock, both taken before s->lock.
 */
#include "net/sock_dgram.h"
#include "net/stack.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "fs/poll.h"
#include "lib/string.h"
#include "mm/uaccess.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "net/inet_addr.h"
#include "lwip/pbuf.h"


static struct dgram_queue *dgq(struct socket *s) { return s->proto; }

void dgq_init(struct dgram_queue *q)
{
	memset(q, 0, sizeof(*q));
	list_init(&q->list);
	list_init(&q->errq);
}

struct dgram *dgram_new(size_t len)
{
	struct dgram *d = kmalloc(sizeof(*d) + len);
	if (!d)
		return NULL;
	d->p = NULL;
	d->len = (uint32_t)len;
	d->charge = (uint32_t)len + DGRAM_OVERHEAD;
	d->addrlen = 0;
	d->info.valid = false;
	return d;
}

struct dgram *dgram_new_pbuf(struct pbuf *p)
{
	struct dgram *d = kmalloc(sizeof(*d));
	if (!d)
		return NULL;
	d->p = p;
	d->len = p->tot_len;
	d->charge = p->tot_len + DGRAM_OVERHEAD;
	d->addrlen = 0;
	d->info.valid = false;
	return d;
}

void dgram_free(struct dgram *d)
{
	if (d->p)
		pbuf_free(d->p);
	kfree(d);
}

bool dgq_full(struct socket *s)
{
	return READ_ONCE(dgq(s)->charged) > (size_t)READ_ONCE(s->rcvbuf);
}

bool dgq_push(struct socket *s, struct dgram *d)
{
	struct dgram_queue *q = dgq(s);
	spin_lock(&s->lock);
	bool ok = q->charged <= (size_t)s->rcvbuf;
	if (ok) {
		list_add_tail(&d->node, &q->list);
		q->charged += d->charge;
		q->received++;
	} else {
		q->drops++;
	}
	spin_unlock(&s->lock);
	if (!ok) {
		dgram_free(d);
		return false;
	}
	sock_wake(s);
	return true;
}

void dgq_count_drop(struct socket *s)
{
	spin_lock(&s->lock);
	dgq(s)->drops++;
	spin_unlock(&s->lock);
}

/* sock_wait's condition: something for a reader to act on. */
static bool dgq_ready(struct socket *s)
{
	struct dgram_queue *q = dgq(s);
	spin_lock(&s->lock);
	bool r = !list_empty(&q->list) || q->shut_rd || s->error;
	spin_unlock(&s->lock);
	return r;
}

/* Copy d to the reader (rx_lock held, no spinlock): payload, source, flags; the result. */
static long dgram_copy_out(const struct dgram *d, struct sock_msg *m)
{
	size_t want = m->data.resid;
	size_t n = MIN(want, (size_t)d->len);
	if (d->p) {
		size_t done = 0;
		for (const struct pbuf *q = d->p; q && done < n; q = q->next) {
			size_t chunk = MIN((size_t)q->len, n - done);
			if (uio_copy_out(&m->data, q->payload, chunk) < 0)
				return -EFAULT;
			done += chunk;
		}
	} else if (uio_copy_out(&m->data, d->data, n) < 0) {
		return -EFAULT;
	}
	memset(&m->addr, 0, sizeof(m->addr));
	memcpy(&m->addr, &d->addr, (size_t)d->addrlen);
	m->addrlen = d->addrlen;
	bool want_real = m->flags & MSG_TRUNC;
	m->flags = d->len > want ? MSG_TRUNC : 0;
	return want_real ? (long)d->len : (long)n;
}

long dgq_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct dgram_queue *q = dgq(s);
	bool peek = m->flags & MSG_PEEK;
	uint64_t deadline = 0;
	long r;
	if (m->flags & MSG_ERRQUEUE_K) {
		sleep_lock(&s->rx_lock);
		r = dgq_recv_err(s, m);
		sleep_unlock(&s->rx_lock);
		return r;
	}
	sleep_lock(&s->rx_lock);
	for (;;) {
		int err = sock_take_error(s);
		if (err) {
			r = -err;
			break;
		}
		spin_lock(&s->lock);
		struct dgram *d = list_empty(&q->list) ? NULL : list_first_entry(&q->list, struct dgram, node);
		bool shut = q->shut_rd;
		if (d && !peek) {
			list_del(&d->node);
			q->charged -= d->charge;
		}
		spin_unlock(&s->lock);
		if (d) {
			/* a fault loses an unlinked datagram, as Linux's does */
			r = dgram_copy_out(d, m);
			if (r >= 0 && inet_cmsg_put(m, READ_ONCE(q->cmsg_flags), s->family, &d->info) < 0)
				r = -EFAULT;
			if (!peek)
				dgram_free(d);
			break;
		}
		if (shut) {
			r = nonblock ? -EAGAIN : 0;
			break;
		}
		if ((r = sock_wait(s, dgq_ready, nonblock, s->rcvtimeo_ns, &deadline, &s->rx_lock)) < 0)
			break;
	}
	sleep_unlock(&s->rx_lock);
	return r;
}

unsigned dgq_poll(struct socket *s)
{
	struct dgram_queue *q = dgq(s);
	unsigned mask = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	spin_lock(&s->lock);
	if (s->error || !list_empty(&q->errq))
		mask |= EPOLLERR;
	if (q->shut_rd)
		mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
	if (q->shut_rd && q->shut_wr)
		mask |= EPOLLHUP;
	if (!list_empty(&q->list))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&s->lock);
	return mask;
}

long dgq_ioctl(struct socket *s, unsigned long cmd, unsigned long arg)
{
	struct dgram_queue *q = dgq(s);
	int v = 0;
	if (cmd == FIONREAD) {
		spin_lock(&s->lock);
		if (!list_empty(&q->list))
			v = (int)list_first_entry(&q->list, struct dgram, node)->len;
		spin_unlock(&s->lock);
	} else if (cmd != SIOCOUTQ_K) {
		return -ENOTTY;
	}
	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

int dgq_shutdown(struct socket *s, int how, bool connected)
{
	struct dgram_queue *q = dgq(s);
	spin_lock(&s->lock);
	if (how != SHUT_WR)
		q->shut_rd = true;
	if (how != SHUT_RD)
		q->shut_wr = true;
	spin_unlock(&s->lock);
	sock_wake(s);
	return connected ? 0 : -ENOTCONN;
}

bool dgq_shut_wr(struct socket *s)
{
	spin_lock(&s->lock);
	bool r = dgq(s)->shut_wr;
	spin_unlock(&s->lock);
	return r;
}

void dgq_flush(struct socket *s)
{
	struct dgram_queue *q = dgq(s);
	while (!list_empty(&q->list)) {
		struct dgram *d = list_first_entry(&q->list, struct dgram, node);
		list_del(&d->node);
		dgram_free(d);
	}
	while (!list_empty(&q->errq)) {
		struct dgram_err *e = list_first_entry(&q->errq, struct dgram_err, node);
		list_del(&e->node);
		kfree(e);
	}
	q->charged = 0;
}

/* ---- AF_INET ---- */

int inet_bind_addr(const struct sockaddr_k *a, int len, uint32_t *addr, uint16_t *port)
{
	if (len >= (int)sizeof(struct sockaddr_in_k) && a->family == AF_UNSPEC && a->in.sin_addr == 0) {
		*addr = 0;
		*port = swab16(a->in.sin_port);
		return 0;
	}
	return sockaddr_in_get(a, len, addr, port);
}

int inet_route(struct socket *s, uint32_t addr, struct netif **out)
{
	if (stack_addr_broadcast(addr) && !READ_ONCE(s->broadcast))
		return -EACCES;
	ip4_addr_t a;
	ip4_addr_set_u32(&a, lwip_htonl(addr));
	struct netif *n = ip4_route(&a);
	if (!n)
		return -ENETUNREACH;
	*out = n;
	return 0;
}

int inet_dgram_connect(struct inet_dgram_req *r, const struct sockaddr_k *a, int len, void (*connect)(void *),
		       void (*disconnect)(void *))
{
	if (len < (int)sizeof(a->family))
		return -EINVAL;
	if (a->family == AF_UNSPEC) {
		squeue_call(squeue_local(), disconnect, r);
		return 0;
	}
	int e = inet_sockaddr_get(r->s->family, a, len, &r->ip, &r->port, NULL);
	if (e < 0)
		return e;
	r->addr = IP_IS_V6_VAL(r->ip) ? 0 : lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&r->ip)));
	squeue_call(squeue_local(), connect, r);
	return (int)r->result;
}

int inet_dgram_dest(struct inet_dgram_req *r, const struct sock_msg *m, bool connected, bool allow_unspec)
{
	if (!m->addrlen)
		return connected ? 0 : -EDESTADDRREQ;
	if (r->s->family == AF_INET6) {
		if (m->addrlen >= (int)sizeof(m->addr.family) && m->addr.family == AF_UNSPEC)
			return connected ? 0 : -EDESTADDRREQ;          /* Linux's udpv6_sendmsg: no address */
		int e = inet_sockaddr_get(AF_INET6, &m->addr, m->addrlen, &r->ip, &r->port, NULL);
		if (e < 0)
			return e;
		r->has_addr = true;
		return 0;
	}
	if (m->addrlen < (int)sizeof(struct sockaddr_in_k))
		return -EINVAL;
	if (m->addr.family != AF_INET && (!allow_unspec || m->addr.family != AF_UNSPEC))
		return -EAFNOSUPPORT;
	r->addr = lwip_ntohl(m->addr.in.sin_addr);
	ip_addr_set_ip4_u32_val(r->ip, m->addr.in.sin_addr);
	r->port = lwip_ntohs(m->addr.in.sin_port);
	r->has_addr = true;
	return 0;
}

int inet_route_ip(struct socket *s, ip_addr_t *dst, struct netif **out)
{
	if (!IP_IS_V6_VAL(*dst))
		return inet_route(s, lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(dst))), out);
	struct netif *n = ip6_route(IP6_ADDR_ANY6, ip_2_ip6(dst));
	if (!n)
		return -ENETUNREACH;
	if (ip6_addr_lacks_zone(ip_2_ip6(dst), IP6_UNKNOWN))
		ip6_addr_assign_zone(ip_2_ip6(dst), IP6_UNKNOWN, n);
	*out = n;
	return 0;
}

struct ipopt_req {
	struct socket *s;
	inet_opt_field_fn field;
	int name, v;
	bool set;
};

/* squeue context */
static void ipopt_fn(void *arg)
{
	struct ipopt_req *r = arg;
	uint8_t *f = r->field(r->s, r->name);
	if (r->set)
		*f = (uint8_t)r->v;
	else
		r->v = *f;
}

int inet_setsockopt(struct socket *s, inet_opt_field_fn field, int name, const void *val, int len)
{
	struct ipopt_req r = { .s = s, .field = field, .name = name, .set = true };
	if (name != IP_TTL && name != IP_TOS)
		return -ENOPROTOOPT;
	if (len < (int)sizeof(int))
		return -EINVAL;
	memcpy(&r.v, val, sizeof(r.v));
	if (name == IP_TTL) {
		if (r.v == -1)
			r.v = IP_DEFAULT_TTL;
		else if (r.v < 1 || r.v > 255)
			return -EINVAL;
	}
	squeue_call(squeue_local(), ipopt_fn, &r);
	return 0;
}

int inet_getsockopt(struct socket *s, inet_opt_field_fn field, int name, void *val, int *len)
{
	struct ipopt_req r = { .s = s, .field = field, .name = name };
	if (name != IP_TTL && name != IP_TOS)
		return -ENOPROTOOPT;
	squeue_call(squeue_local(), ipopt_fn, &r);
	*len = MIN(*len, (int)sizeof(r.v));
	memcpy(val, &r.v, (size_t)*len);
	return 0;
}
