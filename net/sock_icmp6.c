/*
 * ICMPv6 sockets over lwIP raw pcbs of type IPv6 (the IPv4 ones are net/sock_raw.c; the socket
 * layer's theory is in net/socket.h, the rules for entering lwIP in net/stack.h, the receive
 * queue in net/sock_dgram.c). Two kinds, as Linux's net/ipv6/raw.c and net/ipv6/ping.c:
 *
 *   SOCK_RAW, IPPROTO_ICMPV6: the user sends an ICMPv6 message (header and payload) and the
 *     kernel computes its checksum (the pseudo-header needs the source the route picks), at
 *     offset 2 unless SOL_RAW IPV6_CHECKSUM moved it (-1: the user's own); every ICMPv6 message
 *     for us that passes the socket's ICMP6_FILTER and its bound address and peer is delivered
 *     without the IPv6 header (unlike IPv4's raw sockets), its checksum verified. busybox's
 *     ping -6 is such a socket with a filter passing echo replies only.
 *   SOCK_DGRAM, IPPROTO_ICMPV6 ("ping sockets"): echo requests only (type 128 code 0, else
 *     EINVAL); the kernel sets the identifier to the socket's "port" (bind's, or an unused one
 *     picked at the first send or connect) and the checksum; only echo replies carrying that
 *     identifier come back. Linux's net.ipv4.ping_group_range (which governs IPv6 ping sockets
 *     too) is not modelled, as for IPv4's: everyone may open one.
 *
 * Receive: the pcb's callback (squeue context, stack lock held) sees each ICMPv6 packet (p at the
 * IPv6 header) before lwIP's icmp6_input, copies what the socket wants into a struct dgram with
 * the header's fields for control messages (IPV6_RECVPKTINFO ..., net/inet_cmsg.h) and returns 0:
 * never eaten, so lwIP still answers echo requests and runs ND, and every socket gets its copy.
 *
 * Send: the user's bytes are copied into a PBUF_RAM pbuf outside the stack lock; one squeue_call
 * checks the route and shutdown, fills in the identifier (ping) and sends with raw_sendto_if_src,
 * whose chksum_reqd computes the ICMPv6 checksum. IPV6_PKTINFO in sendmsg chooses the source,
 * IPV6_HOPLIMIT and IPV6_TCLASS that message's header fields.
 *
 * Locks: the pcb, the identifier, the filter and the list of ping sockets live under the stack
 * lock; the peer as getpeername reports it under s->lock.
 *
 * ICMPv6 errors to ping sockets (Linux's ping_err): an error quoting an echo request with the
 * socket's identifier goes to the error queue (net/sock_errq.c): queued with IPV6_RECVERR, else
 * a fatal one (port unreachable, prohibited ...) is a connected socket's pending error.
 *
 * ICMPv6 errors to raw sockets (Linux's raw6_icmp_error / rawv6_err): an error quoting an
 * ICMPv6 packet to the socket's peer (if connected) from its bound address (if bound) goes to the
 * error queue too: queued with IPV6_RECVERR, else a fatal one is a connected socket's pending
 * error (raw6_err_cb, one listener pcb walking idents.raws); the message itself is delivered as
 * to every raw socket.
 *
 * Not done: IPV6_HDRINCL, quoted packets with extension headers, IPV6_* options other than the hop limits and the control-message requests
 * (IPV6_TCLASS, multicast membership), a sticky IPV6_PKTINFO option, SO_BINDTODEVICE.
 */
#include "net/sock_icmp_core.h"
#include "net/stack.h"
#include "net/inet_addr.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/raw.h"
#include "lwip/icmp6.h"
#include "lwip/prot/icmp6.h"
#include "lwip/prot/ip6.h"

#define ICMP6_HDR_LEN 8              /* an echo header: type, code, checksum, id, sequence */
#define ICMP6_MIN_RAW 4              /* type, code, checksum: what a raw socket's checksum needs */
#define ICMP6_MAX_MSG 0xffff         /* the IPv6 payload length */
#define ICMP6_CKSUM_OFFSET 2
#define SOL_RAW_K 255
#define SOL_ICMPV6_K 58
#define IPV6_CHECKSUM_K 7
#define ICMP6_FILTER_K 1

static struct icmp_idents idents = ICMP_IDENTS_INIT(idents);   /* stack lock */
static struct raw_pcb *err_pcb;     /* stack lock: hears ICMPv6 errors for the raw sockets */

/* ---- receive (squeue context, stack lock held) ---- */

/* Linux's ping_err for ICMPv6 (icmpv6_err): an error message (p at the IPv6 header, off at the
 * ICMPv6 one) quoting an echo request (an IPv6 header without extension headers) that carries
 * this socket's identifier, sent from its bound address if it has one. The payload queued with
 * IPV6_RECVERR starts at the quoted echo header. */
static void ping_error(struct icmp_sock *is, struct pbuf *p, u16_t off)
{
	uint8_t b[ICMP6_HDR_LEN + IP6_HLEN + ICMP6_HDR_LEN];
	if (pbuf_copy_partial(p, b, sizeof(b), off) != sizeof(b))
		return;
	const uint8_t *ip6 = b + ICMP6_HDR_LEN;
	const struct icmp6_echo_hdr *echo = (const struct icmp6_echo_hdr *)(ip6 + IP6_HLEN);
	if (ip6[6] != IP6_NEXTH_ICMP6 || echo->type != ICMP6_TYPE_EREQ || echo->code != 0 ||
	    lwip_ntohs(echo->id) != is->ident)
		return;
	ip_addr_t src, dst;
	icmp6_quoted_addrs(ip6, &src, &dst);
	if (!ip_addr_isany(&is->pcb->local_ip) && !ip_addr_cmp_zoneless(&is->pcb->local_ip, &src))
		return;
	uint32_t info;
	bool fatal;
	int err = icmp6_err_convert(b, &info, &fatal);
	if (err)
		dgq_icmp_error(is->s, err, fatal, is->pcb->flags & RAW_FLAGS_CONNECTED, b, info, &dst, 0, p,
			       (uint16_t)(off + ICMP6_HDR_LEN + IP6_HLEN));
}

/* Linux's raw6_icmp_error + rawv6_err: an ICMPv6 error (p at the IPv6 header; one with a bad
 * checksum is icmpv6_rcv's to drop) quoting an IPv6 header without extension headers whose next
 * header is ICMPv6 goes to every raw socket whose peer (if connected) is the quoted destination
 * and whose bound address (if any) the quoted source. With IPV6_RECVERR it is queued (the
 * payload from the end of the quoted IPv6 header); without, an unconnected socket is not told
 * and a connected one only of a fatal error. A listener pcb of its own, because a connected
 * socket's pcb only hears its peer. Never eats the packet. */
static u8_t raw6_err_cb(void *arg __unused, struct raw_pcb *pcb __unused, struct pbuf *p, const ip_addr_t *src __unused)
{
	uint8_t b[ICMP6_HDR_LEN + IP6_HLEN];
	u16_t off = ip_current_header_tot_len();
	if (!ip_current_is_v6() || list_empty(&idents.raws) || pbuf_copy_partial(p, b, sizeof(b), off) != sizeof(b))
		return 0;
	uint32_t info;
	bool fatal;
	int err = icmp6_err_convert(b, &info, &fatal);
	const uint8_t *ip6 = b + ICMP6_HDR_LEN;
	if (!err || ip6[6] != IP6_NEXTH_ICMP6 || pbuf_remove_header(p, off) != 0)
		return 0;
	u16_t sum = ip6_chksum_pseudo(p, IP6_NEXTH_ICMP6, p->tot_len, ip6_current_src_addr(), ip6_current_dest_addr());
	pbuf_add_header_force(p, off);
	if (sum != 0)
		return 0;
	ip_addr_t qsrc, qdst;
	icmp6_quoted_addrs(ip6, &qsrc, &qdst);
	struct list_head *l;
	list_for_each(l, &idents.raws) {
		struct icmp_sock *is = list_entry(l, struct icmp_sock, ping_node);
		struct raw_pcb *rp = is->pcb;
		bool connected = rp->flags & RAW_FLAGS_CONNECTED;
		if (connected && !ip_addr_cmp_zoneless(&rp->remote_ip, &qdst))
			continue;
		if (!ip_addr_isany(&rp->local_ip) && !ip_addr_cmp_zoneless(&rp->local_ip, &qsrc))
			continue;
		if (!connected && !READ_ONCE(is->q.recverr6))
			continue;
		dgq_icmp_error(is->s, err, fatal, connected, b, info, &qdst, 0, p, (uint16_t)(off + ICMP6_HDR_LEN + IP6_HLEN));
	}
	return 0;
}

static u8_t icmp6_recv_cb(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	struct icmp_sock *is = arg;
	u16_t off = ip_current_header_tot_len();
	struct icmp6_echo_hdr e;
	if (!ip_current_is_v6() || pbuf_copy_partial(p, &e, sizeof(e), off) < ICMP6_MIN_RAW)
		return 0;
	if (is->ping) {
		if (is->ident && e.type < ICMP6_TYPE_EREQ)
			ping_error(is, p, off);          /* an error message (types below 128) */
		if (p->tot_len < off + ICMP6_HDR_LEN || !is->ident || e.type != ICMP6_TYPE_EREP || e.code != 0 ||
		    lwip_ntohs(e.id) != is->ident)
			return 0;
	} else if (is->filter[e.type >> 5] & (1u << (e.type & 31))) {
		return 0;
	}
	size_t len = p->tot_len - off;
	if ((is->ping || pcb->chksum_reqd) && pbuf_remove_header(p, off) == 0) {
		u16_t sum = ip6_chksum_pseudo(p, IP6_NEXTH_ICMP6, p->tot_len, ip6_current_src_addr(), ip6_current_dest_addr());
		pbuf_add_header_force(p, off);
		if (sum != 0)
			return 0;                    /* a bad checksum: Linux drops it too */
	}
	struct dgram *d = dgq_full(is->s) ? NULL : dgram_new(len);
	if (!d) {
		dgq_count_drop(is->s);
		return 0;
	}
	pbuf_copy_partial(p, d->data, (u16_t)len, off);
	int alen;
	inet_sockaddr_set(AF_INET6, (struct sockaddr_k *)&d->addr, &alen, addr, 0);
	d->addrlen = alen;
	inet_rx_info_capture(&d->info);
	dgq_push(is->s, d);
	return 0;
}

/* ---- create, release ---- */

/* A thread's request to an squeue: the *_fn functions below run there, with the stack lock held
 * (no sleeping, no user memory); the thread reads the result after squeue_call returns. */
struct icmp6_req {
	struct socket *s;
	ip_addr_t ip;                    /* bind, connect, send: the address (IPv6, zoned) */
	uint16_t port;
	bool has_addr;
	struct pbuf *p;                  /* send */
	size_t len;
	struct inet_tx_info tx;          /* send: IPV6_PKTINFO */
	long result;
};

static void create_fn(void *arg)
{
	struct icmp_sock *is = arg;
	if (!is->ping && !err_pcb && (err_pcb = raw_new_ip_type(IPADDR_TYPE_V6, IP6_NEXTH_ICMP6)))
		raw_recv(err_pcb, raw6_err_cb, NULL);
	is->pcb = raw_new_ip_type(IPADDR_TYPE_V6, IP6_NEXTH_ICMP6);
	if (!is->pcb)
		return;
	is->pcb->chksum_reqd = 1;
	is->pcb->chksum_offset = ICMP6_CKSUM_OFFSET;
	icmp_sock_attach(is, icmp6_recv_cb, &idents);
}

static int icmp6_create(struct socket *s)
{
	return icmp_sock_create(s, create_fn);
}

/* ---- bind, connect ---- */

static void bind_fn(void *arg)
{
	struct icmp6_req *r = arg;
	r->result = icmp_sock_bind(icmp_sock_of(r->s), &r->ip, r->port, &idents);
}

/* bind()'s and a ping socket's send address: Linux's checks for each kind (0 or -errno; the address
 * IPv6 and zoned in r->ip). A v4-mapped address is no IPv6 host's. */
static int get_addr(struct icmp_sock *is, const struct sockaddr_k *a, int len, struct icmp6_req *r, bool bind)
{
	int minlen = is->ping ? (int)sizeof(struct sockaddr_in6_k) : SIN6_LEN_RFC2133;
	if (len < minlen)
		return -EINVAL;
	if (a->family != AF_INET6)
		return is->ping || !bind ? -EAFNOSUPPORT : -EINVAL;   /* rawv6_bind says EINVAL */
	bool mapped;
	int e = inet_sockaddr_get(AF_INET6, a, len, &r->ip, &r->port, &mapped);
	if (e < 0)
		return e;
	if (mapped)
		return bind && !is->ping ? -EADDRNOTAVAIL : -EINVAL;
	const ip6_addr_t *a6 = ip_2_ip6(&r->ip);
	if (bind && ip6_addr_has_scope(a6, IP6_UNKNOWN) && !ip6_addr_has_zone(a6))
		return -EINVAL;                  /* a link-local address without its interface */
	return 0;
}

static int icmp6_bind_op(struct socket *s, const struct sockaddr_k *a, int len)
{
	struct icmp_sock *is = icmp_sock_of(s);
	struct icmp6_req r = { .s = s };
	if (!is->ping && icmp_sock_connected(is))
		return -EINVAL;                  /* rawv6_bind: only before connect */
	int e = get_addr(is, a, len, &r, true);
	if (e < 0)
		return e;
	if (!is->ping)
		r.port = 0;
	squeue_call(squeue_local(), bind_fn, &r);
	return (int)r.result;
}

static void disconnect_fn(void *arg)
{
	struct icmp6_req *r = arg;
	icmp_sock_disconnect(icmp_sock_of(r->s));
	r->result = 0;
}

static void connect_fn(void *arg)
{
	struct icmp6_req *r = arg;
	r->result = icmp_sock_connect(icmp_sock_of(r->s), &r->ip, r->port, &idents);
}

static int icmp6_connect_op(struct socket *s, const struct sockaddr_k *a, int len, bool nonblock __unused)
{
	struct icmp6_req r = { .s = s };
	if (len >= (int)sizeof(a->family) && a->family == AF_UNSPEC) {
		squeue_call(squeue_local(), disconnect_fn, &r);
		return 0;
	}
	if (len < SIN6_LEN_RFC2133)
		return -EINVAL;
	if (a->family != AF_INET6)
		return -EAFNOSUPPORT;
	bool mapped;
	int e = inet_sockaddr_get(AF_INET6, a, len, &r.ip, &r.port, &mapped);
	if (e < 0)
		return e;
	if (mapped)
		return -EINVAL;                  /* no IPv4 on an ICMPv6 socket */
	squeue_call(squeue_local(), connect_fn, &r);
	return (int)r.result;
}

/* ---- send ---- */

static void send_fn(void *arg)
{
	struct icmp6_req *r = arg;
	struct icmp_sock *is = icmp_sock_of(r->s);
	ip_addr_t dst;
	if (!r->has_addr) {
		if (!(is->pcb->flags & RAW_FLAGS_CONNECTED)) {    /* disconnected since the caller looked */
			r->result = -EDESTADDRREQ;
			return;
		}
		ip_addr_copy(dst, is->pcb->remote_ip);
	} else {
		dst = r->ip;
		if (ip_addr_isany_val(dst))
			ip_addr_set_loopback(true, &dst);
	}
	struct netif *n;
	int e = icmp_ping_autobind(is, &idents);
	if (e == 0)
		e = inet_route_ip(is->s, &dst, &n);
	if (e == 0)
		e = inet_tx_info_check(&r->tx, &n);
	if (e == 0 && r->tx.has_src && !IP_IS_V6_VAL(r->tx.src))
		e = -EINVAL;
	if (e == 0 && dgq_shut_wr(is->s))
		e = -EPIPE;
	if (e == 0 && is->pcb->chksum_reqd && r->len < is->pcb->chksum_offset + 2u)
		e = -EINVAL;                     /* rawv6_push_pending_frames: no room for the checksum */
	if (e < 0) {
		r->result = e;
		return;
	}
	if (ip6_addr_lacks_zone(ip_2_ip6(&dst), IP6_UNKNOWN))
		ip6_addr_assign_zone(ip_2_ip6(&dst), IP6_UNKNOWN, n);
	const ip_addr_t *src;
	if (r->tx.has_src)
		src = &r->tx.src;
	else if (!ip_addr_isany(&is->pcb->local_ip))
		src = &is->pcb->local_ip;
	else
		src = ip6_select_source_address(n, ip_2_ip6(&dst));
	if (!src) {
		r->result = -EADDRNOTAVAIL;
		return;
	}
	if (is->ping) {
		struct icmp6_echo_hdr *h = r->p->payload;
		h->id = lwip_htons(is->ident);
	}
	if (is->pcb->chksum_reqd)                /* lwIP sums the field as it is: Linux zeroes it first */
		memset((uint8_t *)r->p->payload + is->pcb->chksum_offset, 0, 2);
	struct inet_tx_saved saved;
	inet_tx_override(&r->tx, &is->pcb->ttl, &is->pcb->mcast_ttl, &is->pcb->tos, &saved);
	err_t le = raw_sendto_if_src(is->pcb, r->p, &dst, n, src);
	inet_tx_restore(&saved, &is->pcb->ttl, &is->pcb->mcast_ttl, &is->pcb->tos);
	if (le == ERR_OK || le == ERR_MEM || le == ERR_BUF)
		r->result = (long)r->len;        /* a drop for want of memory is silent, as on Linux */
	else
		r->result = le == ERR_RTE ? -ENETUNREACH : -lwip_to_errno(le);
}

/* The destination of a send: 0 or -errno, as each kind checks it. */
static int send_addr(struct icmp_sock *is, const struct sock_msg *m, struct icmp6_req *r)
{
	if (!m->addrlen)
		return icmp_sock_connected(is) ? 0 : -EDESTADDRREQ;
	if (is->ping) {
		int e = get_addr(is, &m->addr, m->addrlen, r, false);
		if (e < 0)
			return e;
	} else {
		if (m->addrlen < SIN6_LEN_RFC2133)
			return -EINVAL;
		if (m->addr.family != AF_INET6 && m->addr.family != AF_UNSPEC)
			return -EAFNOSUPPORT;
		uint16_t proto = lwip_ntohs(m->addr.in6.sin6_port);
		if (proto && proto != IPPROTO_ICMPV6)
			return -EINVAL;                  /* rawv6_sendmsg: the port is the protocol */
		struct sockaddr_k a = m->addr;
		a.family = AF_INET6;
		bool mapped;
		int e = inet_sockaddr_get(AF_INET6, &a, m->addrlen, &r->ip, &r->port, &mapped);
		if (e < 0)
			return e;
		if (mapped)
			return -EINVAL;
	}
	if (ip6_addr_has_scope(ip_2_ip6(&r->ip), IP6_UNKNOWN) && !ip6_addr_has_zone(ip_2_ip6(&r->ip)) && is->ping)
		return -EINVAL;                      /* ping_v6_sendmsg: a link-local address needs an interface */
	r->has_addr = true;
	return 0;
}

static long icmp6_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock __unused)
{
	struct icmp_sock *is = icmp_sock_of(s);
	struct icmp6_req r = { .s = s, .len = m->data.resid };
	int e;
	if (r.len > ICMP6_MAX_MSG)
		return -EMSGSIZE;
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (is->ping && r.len < ICMP6_HDR_LEN)
		return -EINVAL;
	/* Linux looks at a raw socket's address before the data, at a ping socket's after its header */
	if (!is->ping && (e = send_addr(is, m, &r)) < 0)
		return e;
	r.p = pbuf_alloc(PBUF_IP, (u16_t)r.len, PBUF_RAM);
	if (!r.p)
		return -ENOBUFS;
	if (uio_copy_in(&m->data, r.p->payload, r.len) < 0) {
		e = -EFAULT;
	} else if (is->ping) {
		const struct icmp6_echo_hdr *h = r.p->payload;
		e = h->type != ICMP6_TYPE_EREQ || h->code != 0 ? -EINVAL : send_addr(is, m, &r);
	} else {
		e = 0;
	}
	if (e == 0)
		e = inet_cmsg_parse(m, AF_INET6, &r.tx);
	if (e == 0) {
		squeue_call(squeue_local(), send_fn, &r);
		e = (int)r.result;
	}
	pbuf_free(r.p);
	return e < 0 ? e : (long)r.len;
}

/* ---- the rest ---- */

struct name_req {
	struct icmp_sock *is;
	ip_addr_t addr;
	uint16_t port;
};

static void name_fn(void *arg)
{
	struct name_req *r = arg;
	r->addr = r->is->pcb->local_ip;
	r->port = r->is->ping ? r->is->ident : IPPROTO_ICMPV6;   /* Linux: a raw socket's port is its protocol */
}

static int icmp6_getname(struct socket *s, struct sockaddr_k *a, int *len, bool peer)
{
	struct icmp_sock *is = icmp_sock_of(s);
	if (peer) {
		spin_lock(&s->lock);
		bool c = is->connected;
		ip_addr_t addr = is->peer;
		uint16_t port = is->peer_port;
		spin_unlock(&s->lock);
		if (!c || !port)
			return -ENOTCONN;            /* Linux's inet6_getname wants a peer port */
		inet_sockaddr_set(AF_INET6, a, len, &addr, port);
		return 0;
	}
	struct name_req r = { .is = is };
	squeue_call(squeue_local(), name_fn, &r);
	if (!IP_IS_V6_VAL(r.addr))
		ip_addr_copy(r.addr, *IP6_ADDR_ANY);
	inet_sockaddr_set(AF_INET6, a, len, &r.addr, r.port);
	return 0;
}

/* Options (squeue context): IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS, the checksum offset, the filter. */
struct opt_req {
	struct icmp_sock *is;
	int level, name, v;
	bool set;
	uint32_t filter[ICMP6_FILTER_WORDS];
	int filter_len;
	int result;
};

static void opt_fn(void *arg)
{
	struct opt_req *o = arg;
	struct raw_pcb *pcb = o->is->pcb;
	o->result = 0;
	if (o->level == SOL_ICMPV6_K) {
		if (o->set)
			memcpy(o->is->filter, o->filter, (size_t)o->filter_len);
		else
			memcpy(o->filter, o->is->filter, sizeof(o->filter));
		return;
	}
	if (o->level == SOL_RAW_K) {
		if (!o->set) {
			o->v = pcb->chksum_reqd ? pcb->chksum_offset : -1;
		} else if (o->v < 0) {
			pcb->chksum_reqd = 0;
		} else {
			pcb->chksum_reqd = 1;
			pcb->chksum_offset = (u16_t)o->v;
		}
		return;
	}
	switch (o->name) {
	case IPV6_UNICAST_HOPS:
		if (o->set)
			pcb->ttl = (u8_t)(o->v == -1 ? IP_DEFAULT_TTL : o->v);
		o->v = pcb->ttl;
		return;
	case IPV6_MULTICAST_HOPS:
		if (o->set)
			raw_set_multicast_ttl(pcb, (u8_t)(o->v == -1 ? 1 : o->v));
		o->v = raw_get_multicast_ttl(pcb);
		return;
	}
	o->result = -ENOPROTOOPT;
}

static int icmp6_setsockopt(struct socket *s, int level, int name, const void *val, int len)
{
	struct icmp_sock *is = icmp_sock_of(s);
	struct opt_req o = { .is = is, .level = level, .name = name, .set = true };
	/* a raw socket's SOL_IP is not ipv6_setsockopt's (ping sockets take IP_RECVERR too) */
	int e = is->ping || level == SOL_IPV6 ? dgq_recverr_setsockopt(s, level, name, val, len) : -ENOPROTOOPT;
	if (e != -ENOPROTOOPT)
		return e;
	e = inet_cmsg_setsockopt(&is->q.cmsg_flags, AF_INET6, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	if (level == SOL_ICMPV6_K) {
		if (is->ping)
			return -ENOPROTOOPT;
		if (name != ICMP6_FILTER_K)
			return -ENOPROTOOPT;
		if (len < 0)
			return -EINVAL;
		o.filter_len = MIN(len, (int)sizeof(o.filter));
		memcpy(o.filter, val, (size_t)o.filter_len);
	} else if (level == SOL_RAW_K || (level == SOL_IPV6 && name == IPV6_CHECKSUM_K)) {
		if (is->ping || name != IPV6_CHECKSUM_K)
			return -ENOPROTOOPT;
		if (level == SOL_IPV6)
			return -EINVAL;              /* RFC 3542: not at IPPROTO_IPV6 on an ICMPv6 socket */
		if (len < (int)sizeof(int))
			return -EINVAL;
		memcpy(&o.v, val, sizeof(int));
		if (o.v > 0 && (o.v & 1))
			return -EINVAL;              /* an odd offset */
		o.level = SOL_RAW_K;
	} else if (level == SOL_IPV6) {
		if (name != IPV6_UNICAST_HOPS && name != IPV6_MULTICAST_HOPS)
			return -ENOPROTOOPT;
		if (len < (int)sizeof(int))
			return -EINVAL;
		memcpy(&o.v, val, sizeof(int));
		if (o.v < -1 || o.v > 255)
			return -EINVAL;
	} else {
		return -ENOPROTOOPT;
	}
	squeue_call(squeue_local(), opt_fn, &o);
	return o.result;
}

static int icmp6_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	struct icmp_sock *is = icmp_sock_of(s);
	struct opt_req o = { .is = is, .level = level, .name = name };
	int e = is->ping || level == SOL_IPV6 ? dgq_recverr_getsockopt(s, level, name, val, len) : -ENOPROTOOPT;
	if (e != -ENOPROTOOPT)
		return e;
	e = inet_cmsg_getsockopt(READ_ONCE(is->q.cmsg_flags), AF_INET6, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	if (*len < 0)
		return -EINVAL;
	if (level == SOL_ICMPV6_K) {
		if (is->ping || name != ICMP6_FILTER_K)
			return -EOPNOTSUPP;
		squeue_call(squeue_local(), opt_fn, &o);
		*len = MIN(*len, (int)sizeof(o.filter));
		memcpy(val, o.filter, (size_t)*len);
		return 0;
	}
	if (level == SOL_RAW_K) {
		if (is->ping || name != IPV6_CHECKSUM_K)
			return -EOPNOTSUPP;
	} else if (level != SOL_IPV6 || (name != IPV6_UNICAST_HOPS && name != IPV6_MULTICAST_HOPS)) {
		return level == SOL_IPV6 ? -ENOPROTOOPT : -EOPNOTSUPP;
	}
	squeue_call(squeue_local(), opt_fn, &o);
	if (o.result < 0)
		return o.result;
	*len = MIN(*len, (int)sizeof(int));
	memcpy(val, &o.v, (size_t)*len);
	return 0;
}

const struct sock_ops icmp6_sock_ops = {
	.create = icmp6_create,
	.release = icmp_sock_release,
	.bind = icmp6_bind_op,
	.connect = icmp6_connect_op,
	.sendmsg = icmp6_sendmsg,
	.recvmsg = icmp_sock_recvmsg,
	.shutdown = icmp_sock_shutdown,
	.getname = icmp6_getname,
	.poll = dgq_poll,
	.setsockopt = icmp6_setsockopt,
	.getsockopt = icmp6_getsockopt,
	.ioctl = icmp_sock_ioctl,
};
