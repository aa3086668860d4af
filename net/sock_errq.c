/*
 * The error queue of internet datagram sockets (UDP, ICMP and ICMPv6 ping sockets), one mechanism
 * for both families: Linux's sock_extended_err queue that IP_RECVERR (ip_icmp_error,
 * ip_recv_error) and IPV6_RECVERR (ipv6_icmp_error, ipv6_recv_error) fill and read. The interface
 * is in net/sock_dgram.h.
 *
 * Theory. A protocol's ICMP error listener (squeue context, stack lock held; p the ICMP or ICMPv6
 * packet from its IP header on) finds the socket the quoted datagram came from, converts the
 * message with icmp_err_convert / icmp6_err_convert (Linux's errno and "fatal" tables) and, when
 * the socket asked for errors of that family (IP_RECVERR for ICMP, IPV6_RECVERR for ICMPv6; an
 * AF_INET6 socket's IPv4 flows are ICMP's), queues a struct dgram_err: the sock_extended_err, the
 * ICMP message's sender (the offender), the failed datagram's destination and port, and the part
 * of its payload the message quoted. Queueing makes the error the socket's pending error. Without
 * the option only a fatal error reaches a connected socket, as its pending error. The error is
 * kept family-neutral (lwIP addresses); the reader formats it for its socket: an AF_INET socket
 * gets a sockaddr_in msg_name and a SOL_IP IP_RECVERR message (sock_extended_err + sockaddr_in
 * offender), an AF_INET6 socket sockaddr_in6 ones (IPv4 v4-mapped) under SOL_IPV6 IPV6_RECVERR.
 * Before that message come the control messages the socket asked for (IP_PKTINFO, IP_TTL,
 * IPV6_PKTINFO, IPV6_HOPLIMIT ...: net/inet_cmsg.c) describing the ICMP message's own IP header
 * (the interface it came in on, its TTL, TOS ...), as Linux's ip_recv_error / ipv6_recv_error do
 * for ICMP-originated errors (ipv4_datagram_support_cmsg, ip6_datagram_support_cmsg).
 *
 * Local errors (SO_EE_ORIGIN_LOCAL, Linux's ip_local_error / ipv6_local_error): a send the
 * stack refused (EMSGSIZE above the IP limit, ee_info the MTU) queues an error without payload
 * when the socket asked for errors of the destination's family; it has no offender (zeroed) and
 * no control messages besides the error itself.
 *
 * Locks: the queue (dgram_queue.errq, charged against SO_RCVBUF with the datagrams) is under
 * s->lock; readers hold s->rx_lock as for datagrams (net/sock_dgram.c). The option flags are
 * READ_ONCE/WRITE_ONCE words.
 */
#include "net/sock_dgram.h"
#include "net/inet_addr.h"
#include "net/cmsg.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"
#include "lib/string.h"
#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/icmp6.h"

static struct dgram_queue *dgq(struct socket *s) { return s->proto; }

/* ---- the ICMP messages (Linux's icmp_err_convert and icmpv6_err_convert) ---- */

#define NR_ICMP_UNREACH_K 15
#define ICMP_FRAG_NEEDED_K 4
#define ICMP_SQ_K 4                       /* source quench */
#define ICMP_RD_K 5                       /* redirect */
#define ICMP_PP_K 12                      /* parameter problem */

int icmp_err_convert(const uint8_t icmp[8], uint32_t *info, bool *fatal)
{
	static const struct { int err; bool fatal; } unreach[NR_ICMP_UNREACH_K + 1] = {
		{ ENETUNREACH, false }, { EHOSTUNREACH, false }, { ENOPROTOOPT, true }, { ECONNREFUSED, true },
		{ EMSGSIZE, false }, { EOPNOTSUPP, false }, { ENETUNREACH, true }, { EHOSTDOWN, true },
		{ ENONET, true }, { ENETUNREACH, true }, { EHOSTUNREACH, true }, { ENETUNREACH, false },
		{ EHOSTUNREACH, false }, { EHOSTUNREACH, true }, { EHOSTUNREACH, true }, { EHOSTUNREACH, true },
	};
	uint8_t type = icmp[0], code = icmp[1];
	*info = 0;
	*fatal = false;
	switch (type) {
	case ICMP_DUR:
		if (code == ICMP_FRAG_NEEDED_K) {          /* path MTU: IP_PMTUDISC_WANT, Linux's default */
			*info = (uint32_t)(icmp[6] << 8 | icmp[7]);
			*fatal = true;
			return EMSGSIZE;
		}
		if (code > NR_ICMP_UNREACH_K)
			return EHOSTUNREACH;
		*fatal = unreach[code].fatal;
		return unreach[code].err;
	case ICMP_TE:
		return EHOSTUNREACH;
	case ICMP_PP_K:
		*info = icmp[4];
		*fatal = true;
		return EPROTO;
	}
	return 0;                                  /* not an error (or source quench, redirect) */
}

#define ICMP6_DUR_CODES 7
#define IP6_SRC_OFFSET 8                  /* in an IPv6 header */
#define IP6_DST_OFFSET 24
int icmp6_err_convert(const uint8_t icmp[8], uint32_t *info, bool *fatal)
{
	static const struct { int err; bool fatal; } unreach[ICMP6_DUR_CODES] = {
		{ ENETUNREACH, false }, { EACCES, true }, { EHOSTUNREACH, false }, { EHOSTUNREACH, false },
		{ ECONNREFUSED, true }, { EACCES, true }, { EACCES, true },
	};
	uint8_t type = icmp[0], code = icmp[1];
	*info = (uint32_t)(icmp[4] << 24 | icmp[5] << 16 | icmp[6] << 8 | icmp[7]);   /* MTU, pointer or 0 */
	*fatal = false;
	switch (type) {
	case ICMP6_TYPE_DUR:
		if (code >= ICMP6_DUR_CODES) {
			*fatal = true;
			return EPROTO;
		}
		*fatal = unreach[code].fatal;
		return unreach[code].err;
	case ICMP6_TYPE_PTB: return EMSGSIZE;
	case ICMP6_TYPE_PP: *fatal = true; return EPROTO;
	case ICMP6_TYPE_TE: return EHOSTUNREACH;
	}
	return 0;
}

void icmp6_quoted_addrs(const uint8_t *ip6, ip_addr_t *src, ip_addr_t *dst)
{
	IP_SET_TYPE_VAL(*src, IPADDR_TYPE_V6);
	IP_SET_TYPE_VAL(*dst, IPADDR_TYPE_V6);
	memcpy(ip_2_ip6(src)->addr, ip6 + IP6_SRC_OFFSET, 16);
	memcpy(ip_2_ip6(dst)->addr, ip6 + IP6_DST_OFFSET, 16);
	ip6_addr_clear_zone(ip_2_ip6(src));
	ip6_addr_clear_zone(ip_2_ip6(dst));
}

/* ---- queueing (squeue context) ---- */

bool dgq_wants_errors(struct socket *s, const ip_addr_t *dst)
{
	struct dgram_queue *q = dgq(s);
	return IP_IS_V6(dst) ? READ_ONCE(q->recverr6) : READ_ONCE(q->recverr);
}

/* Queue e (allocated, filled) on s as its pending error, or drop it when the queue is over
 * SO_RCVBUF (sock_queue_err_skb's test; the pending error is set all the same). Wakes. */
static void queue_err(struct socket *s, struct dgram_err *e)
{
	e->charge = e->len + DGRAM_OVERHEAD;
	spin_lock(&s->lock);
	bool ok = dgq(s)->charged + e->charge < (size_t)s->rcvbuf;
	if (ok) {
		list_add_tail(&e->node, &dgq(s)->errq);
		dgq(s)->charged += e->charge;
	}
	s->error = (int)e->ee.ee_errno;
	spin_unlock(&s->lock);
	if (!ok)
		kfree(e);
	sock_wake(s);
}

void dgq_icmp_error(struct socket *s, int err, bool fatal, bool connected, const uint8_t icmp[8], uint32_t info,
		    const ip_addr_t *dst, uint16_t port, struct pbuf *p, uint16_t at)
{
	if (!dgq_wants_errors(s, dst)) {
		if (fatal && connected)
			sock_set_error(s, err);
		return;
	}
	u16_t len = p->tot_len > at ? (u16_t)(p->tot_len - at) : 0;
	struct dgram_err *e = kmalloc(sizeof(*e) + len);
	if (!e) {
		sock_set_error(s, err);
		return;
	}
	memset(e, 0, sizeof(*e));
	e->ee.ee_errno = (uint32_t)err;
	e->ee.ee_origin = IP_IS_V6(dst) ? SO_EE_ORIGIN_ICMP6_K : SO_EE_ORIGIN_ICMP_K;
	e->ee.ee_type = icmp[0];
	e->ee.ee_code = icmp[1];
	e->ee.ee_info = info;
	ip_addr_copy(e->dst, *dst);
	ip_addr_copy(e->offender, *ip_current_src_addr());
	if (IP_IS_V6(&e->offender))
		ip6_addr_clear_zone(ip_2_ip6(&e->offender));
	inet_rx_info_capture(&e->info);           /* the ICMP message's header: control messages */
	e->info.errq = true;
	e->port = port;
	e->len = pbuf_copy_partial(p, e->data, len, at);
	queue_err(s, e);
}

void dgq_local_error(struct socket *s, int err, const ip_addr_t *dst, uint16_t port, uint32_t info)
{
	if (!dgq_wants_errors(s, dst))
		return;
	struct dgram_err *e = kmalloc(sizeof(*e));
	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->ee.ee_errno = (uint32_t)err;
	e->ee.ee_origin = SO_EE_ORIGIN_LOCAL_K;
	e->ee.ee_info = info;
	ip_addr_copy(e->dst, *dst);
	if (IP_IS_V6(&e->dst))
		ip6_addr_clear_zone(ip_2_ip6(&e->dst));
	e->port = port;
	queue_err(s, e);
}

/* ---- reading (thread context) ---- */

/* The errors, freed (IP_RECVERR / IPV6_RECVERR turned off purges them, as on Linux). */
static void purge(struct socket *s)
{
	struct dgram_queue *q = dgq(s);
	struct list_head gone;
	list_init(&gone);
	spin_lock(&s->lock);
	while (!list_empty(&q->errq)) {
		struct dgram_err *e = list_first_entry(&q->errq, struct dgram_err, node);
		list_del(&e->node);
		q->charged -= e->charge;
		list_add_tail(&e->node, &gone);
	}
	spin_unlock(&s->lock);
	while (!list_empty(&gone)) {
		struct dgram_err *e = list_first_entry(&gone, struct dgram_err, node);
		list_del(&e->node);
		kfree(e);
	}
}

long dgq_recv_err(struct socket *s, struct sock_msg *m)
{
	struct dgram_queue *q = dgq(s);
	spin_lock(&s->lock);
	struct dgram_err *e = list_empty(&q->errq) ? NULL : list_first_entry(&q->errq, struct dgram_err, node);
	if (e) {
		list_del(&e->node);
		q->charged -= e->charge;
		s->error = list_empty(&q->errq) ? 0 : (int)list_first_entry(&q->errq, struct dgram_err, node)->ee.ee_errno;
	}
	spin_unlock(&s->lock);
	if (!e)
		return -EAGAIN;
	size_t n = MIN(m->data.resid, (size_t)e->len);
	long r = (long)n;
	m->flags = (e->len > n ? MSG_TRUNC : 0) | MSG_ERRQUEUE_K;
	if (uio_copy_out(&m->data, e->data, n) < 0) {
		r = -EFAULT;
	} else {
		memset(&m->addr, 0, sizeof(m->addr));
		inet_sockaddr_set(s->family, &m->addr, &m->addrlen, &e->dst, e->port);
		struct { struct sock_ee_k ee; struct sockaddr_in6_k offender; } h;
		memset(&h, 0, sizeof(h));
		h.ee = e->ee;
		int olen, e2 = 0;
		if (e->ee.ee_origin != SO_EE_ORIGIN_LOCAL_K) {     /* a local error: no offender, no messages */
			inet_sockaddr_set(s->family, (struct sockaddr_k *)&h.offender, &olen, &e->offender, 0);
			e2 = inet_cmsg_put(m, READ_ONCE(q->cmsg_flags), s->family, &e->info);
		}
		size_t hlen = sizeof(h.ee) + (s->family == AF_INET6 ? sizeof(struct sockaddr_in6_k) : sizeof(struct sockaddr_in_k));
		if (e2 == 0)
			e2 = s->family == AF_INET6 ? put_cmsg(m, SOL_IPV6, IPV6_RECVERR_K, &h, hlen)
						   : put_cmsg(m, SOL_IP, IP_RECVERR, &h, hlen);
		if (e2 < 0)
			r = -EFAULT;
	}
	kfree(e);
	return r;
}

/* ---- the options ---- */

static bool *option_of(struct socket *s, int level, int name)
{
	struct dgram_queue *q = dgq(s);
	if (level == SOL_IP && name == IP_RECVERR)
		return &q->recverr;
	if (level == SOL_IPV6 && name == IPV6_RECVERR_K && s->family == AF_INET6)
		return &q->recverr6;
	return NULL;
}

int dgq_recverr_setsockopt(struct socket *s, int level, int name, const void *val, int len)
{
	bool *f = option_of(s, level, name);
	if (!f)
		return -ENOPROTOOPT;
	int v;
	if (inet_opt_get_int(level, val, len, &v) < 0)
		return -EINVAL;
	WRITE_ONCE(*f, v != 0);
	if (!v)
		purge(s);
	return 0;
}

int dgq_recverr_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	bool *f = option_of(s, level, name);
	if (!f)
		return -ENOPROTOOPT;
	return inet_opt_put_int(level, READ_ONCE(*f), val, len);
}
