/*
 * ICMP sockets over lwIP raw pcbs (net/socket.h has the socket layer's theory, net/stack.h the
 * rules for entering lwIP, net/sock_dgram.c the receive queue). Two kinds, as on Linux:
 *
 *   SOCK_RAW, IPPROTO_ICMP: the user sends an ICMP message (header and payload, its own checksum)
 *     and the kernel adds the IP header; every ICMP packet that arrives for us is delivered whole,
 *     IP header included, to every raw socket whose bound address (bind) and peer (connect) match.
 *   SOCK_DGRAM, IPPROTO_ICMP ("ping sockets"): the user sends an echo request without an IP header
 *     (anything else is EINVAL); the kernel sets its identifier to the socket's local "port" (the
 *     one bind gave, or an unused one picked at the first send or connect) and computes the
 *     checksum. Only echo replies carrying that identifier come back, without the IP header.
 *     Linux's net.ipv4.ping_group_range is not modelled: everyone may open one.
 *
 * One raw pcb per socket. Its receive callback (squeue context, stack lock held) sees each ICMP
 * packet before lwIP's own ICMP code does, copies what the socket wants into a struct dgram and
 * returns 0: the packet is never eaten, so lwIP still answers echo requests and every other raw
 * pcb (the other sockets, the kernel's ping in net/ping.c, UDP's error listener) gets it too, as
 * every Linux raw socket gets its copy. A copy rather than a reference, because lwIP goes on using
 * the packet (icmp_input turns an echo request into the reply in place).
 *
 * Sends copy the user's bytes into a PBUF_RAM pbuf with IP headroom outside the stack lock, then
 * one squeue_call does what Linux does in its order (route, SO_BROADCAST, size, shutdown; for ping
 * the identifier and checksum) and raw_sendto. The pcb, the identifier and the list of ping
 * sockets live under the stack lock; the peer as getpeername reports it under s->lock.
 *
 * Received packets carry their IP header's fields for IP_PKTINFO / IP_RECVTTL / IP_RECVTOS control
 * messages (net/inet_cmsg.h); IP_PKTINFO in sendmsg chooses the source (raw_sendto_if_src), IP_TTL
 * and IP_TOS that datagram's header fields.
 *
 * ICMP errors to ping sockets (Linux's ping_err): an error quoting an echo request with the
 * socket's identifier goes to the error queue (net/sock_errq.c): queued with IP_RECVERR, else a
 * fatal one is a connected socket's pending error.
 *
 * ICMP errors to raw sockets (Linux's raw_icmp_error / raw_err): besides the error message
 * itself, which every raw socket receives, an error quoting an ICMP packet to the socket's peer
 * (if connected) from its bound address (if bound) goes to the error queue: queued with
 * IP_RECVERR, else a fatal one is a connected socket's pending error (raw_err_cb, one listener
 * pcb for all raw sockets, which walk idents.raws).
 *
 * Not done: IP_HDRINCL, ICMP_FILTER, raw sockets of protocols other than ICMP.
 */
#include "net/sock_icmp_core.h"
#include "net/stack.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/raw.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"

#define ICMP_HDR_LEN 8
#define ICMP_MAX_MSG (0xffff - IP_HLEN)    /* an ICMP message in one IPv4 datagram */
#define INADDR_LOOPBACK_H 0x7f000001u

static struct icmp_idents idents = ICMP_IDENTS_INIT(idents);   /* stack lock */
static struct raw_pcb *err_pcb;     /* stack lock: hears ICMP errors for the raw sockets */

static void set_ip(ip_addr_t *a, uint32_t host) { ip_addr_set_ip4_u32(a, lwip_htonl(host)); }

/* ---- receive (squeue context, stack lock held) ---- */

#define ICMP_SQ_K 4                       /* source quench */
#define ICMP_RD_K 5                       /* redirect */

/* Linux's ping_err: an ICMP error (p at its IP header, hlen long) quoting an echo request that
 * carries this socket's identifier, sent from its bound address if it has one. Source quench
 * and redirect are EREMOTEIO, not fatal; the rest as UDP's (net/sock_errq.c). The payload
 * queued with IP_RECVERR starts at the quoted echo header. */
static void ping_error(struct icmp_sock *is, struct pbuf *p, u16_t hlen)
{
	uint8_t b[ICMP_HDR_LEN + IP_HLEN_MAX + ICMP_HDR_LEN];
	u16_t n = pbuf_copy_partial(p, b, sizeof(b), hlen);
	if (n < ICMP_HDR_LEN + IP_HLEN)
		return;
	const struct ip_hdr *inner = (const struct ip_hdr *)(b + ICMP_HDR_LEN);
	u16_t ihl = IPH_HL_BYTES(inner);
	if (ihl < IP_HLEN || n < ICMP_HDR_LEN + ihl + ICMP_HDR_LEN || IPH_PROTO(inner) != IP_PROTO_ICMP)
		return;
	const struct icmp_echo_hdr *echo = (const struct icmp_echo_hdr *)(b + ICMP_HDR_LEN + ihl);
	if (echo->type != ICMP_ECHO || echo->code != 0 || lwip_ntohs(echo->id) != is->ident)
		return;
	if (!ip_addr_isany(&is->pcb->local_ip) && ip4_addr_get_u32(ip_2_ip4(&is->pcb->local_ip)) != inner->src.addr)
		return;
	uint32_t info = 0;
	bool fatal = false;
	int err = b[0] == ICMP_SQ_K || b[0] == ICMP_RD_K ? EREMOTEIO : icmp_err_convert(b, &info, &fatal);
	if (!err)
		return;
	ip_addr_t dst;
	ip_addr_set_ip4_u32_val(dst, inner->dest.addr);
	dgq_icmp_error(is->s, err, fatal, is->pcb->flags & RAW_FLAGS_CONNECTED, b, info, &dst, 0, p,
		       (uint16_t)(hlen + ICMP_HDR_LEN + ihl));
}

/* Linux's raw_icmp_error + raw_err: an ICMP error (p at its IP header, hlen long) quoting an
 * IPv4 packet of protocol ICMP goes to every raw socket whose peer (if connected) is the quoted
 * destination and whose bound address (if any) the quoted source. With IP_RECVERR it is queued
 * (the payload from the end of the quoted IP header); without, an unconnected socket is not
 * told and a connected one only of a fatal error (net/sock_errq.c decides). A listener pcb of
 * its own, because a connected socket's pcb only hears its peer. Never eats the packet. */
static u8_t raw_err_cb(void *arg __unused, struct raw_pcb *pcb __unused, struct pbuf *p, const ip_addr_t *src __unused)
{
	uint8_t b[IP_HLEN_MAX + ICMP_HDR_LEN + IP_HLEN_MAX];
	if (ip_current_is_v6() || list_empty(&idents.raws))
		return 0;
	u16_t n = pbuf_copy_partial(p, b, sizeof(b), 0);
	if (n < IP_HLEN)
		return 0;
	u16_t hlen = IPH_HL_BYTES((struct ip_hdr *)b);
	if (hlen < IP_HLEN || n < hlen + ICMP_HDR_LEN + IP_HLEN)
		return 0;
	const uint8_t *icmp = b + hlen;
	uint32_t info;
	bool fatal;
	int err = icmp_err_convert(icmp, &info, &fatal);   /* raw_err's table is the same */
	const struct ip_hdr *inner = (const struct ip_hdr *)(icmp + ICMP_HDR_LEN);
	u16_t ihl = IPH_HL_BYTES(inner);
	if (!err || ihl < IP_HLEN || n < hlen + ICMP_HDR_LEN + ihl || IPH_PROTO(inner) != IP_PROTO_ICMP)
		return 0;
	ip_addr_t dst;
	ip_addr_set_ip4_u32_val(dst, inner->dest.addr);
	struct list_head *l;
	list_for_each(l, &idents.raws) {
		struct icmp_sock *is = list_entry(l, struct icmp_sock, ping_node);
		struct raw_pcb *rp = is->pcb;
		bool connected = rp->flags & RAW_FLAGS_CONNECTED;
		if (connected && ip4_addr_get_u32(ip_2_ip4(&rp->remote_ip)) != inner->dest.addr)
			continue;
		if (!ip_addr_isany(&rp->local_ip) && ip4_addr_get_u32(ip_2_ip4(&rp->local_ip)) != inner->src.addr)
			continue;
		if (!connected && !READ_ONCE(is->q.recverr))
			continue;
		dgq_icmp_error(is->s, err, fatal, connected, icmp, info, &dst, 0, p, (uint16_t)(hlen + ICMP_HDR_LEN + ihl));
	}
	return 0;
}

static u8_t icmp_recv_cb(void *arg, struct raw_pcb *pcb __unused, struct pbuf *p, const ip_addr_t *addr)
{
	struct icmp_sock *is = arg;
	struct ip_hdr iph;
	if (pbuf_copy_partial(p, &iph, sizeof(iph), 0) != sizeof(iph))
		return 0;
	u16_t off = 0, hlen = IPH_HL_BYTES(&iph);
	if (is->ping) {
		struct icmp_echo_hdr e;
		if (!is->ident || pbuf_copy_partial(p, &e, sizeof(e), hlen) != sizeof(e))
			return 0;
		if (e.type != ICMP_ER) {
			ping_error(is, p, hlen);
			return 0;
		}
		if (e.code != 0 || lwip_ntohs(e.id) != is->ident)
			return 0;
		off = hlen;
	}
	size_t len = p->tot_len - off;
	struct dgram *d = dgq_full(is->s) ? NULL : dgram_new(len);
	if (!d) {
		dgq_count_drop(is->s);
		return 0;
	}
	pbuf_copy_partial(p, d->data, (u16_t)len, off);
	d->addr.in = (struct sockaddr_in_k){ .sin_family = AF_INET, .sin_addr = ip4_addr_get_u32(ip_2_ip4(addr)) };
	d->addrlen = sizeof(d->addr.in);
	inet_rx_info_capture(&d->info);
	dgq_push(is->s, d);
	return 0;
}

/* ---- create, release ---- */

/* A thread's request to an squeue: the *_fn functions below run there, with the stack lock held
 * (no sleeping, no user memory); the thread reads the result after squeue_call returns. */

static void create_fn(void *arg)
{
	struct icmp_sock *is = arg;
	if (!is->ping && !err_pcb && (err_pcb = raw_new(IP_PROTO_ICMP)))
		raw_recv(err_pcb, raw_err_cb, NULL);
	is->pcb = raw_new(IP_PROTO_ICMP);
	if (is->pcb)
		icmp_sock_attach(is, icmp_recv_cb, &idents);
}

static int icmp_create(struct socket *s)
{
	return icmp_sock_create(s, create_fn);
}

/* ---- bind, connect ---- */

static void bind_fn(void *arg)
{
	struct inet_dgram_req *r = arg;
	set_ip(&r->ip, r->addr);
	r->result = icmp_sock_bind(icmp_sock_of(r->s), &r->ip, r->port, &idents);
}

static int icmp_bind_op(struct socket *s, const struct sockaddr_k *a, int len)
{
	struct inet_dgram_req r = { .s = s };
	if (!icmp_sock_of(s)->ping && icmp_sock_connected(icmp_sock_of(s)))
		return -EINVAL;                  /* Linux's raw_bind: only before connect */
	int e = inet_bind_addr(a, len, &r.addr, &r.port);
	if (e < 0)
		return e;
	squeue_call(squeue_local(), bind_fn, &r);
	return (int)r.result;
}

static void disconnect_fn(void *arg)
{
	struct inet_dgram_req *r = arg;
	icmp_sock_disconnect(icmp_sock_of(r->s));
	r->result = 0;
}

static void connect_fn(void *arg)
{
	struct inet_dgram_req *r = arg;
	r->result = icmp_sock_connect(icmp_sock_of(r->s), &r->ip, r->port, &idents);
}

static int icmp_connect_op(struct socket *s, const struct sockaddr_k *a, int len, bool nonblock __unused)
{
	struct inet_dgram_req r = { .s = s };
	return inet_dgram_connect(&r, a, len, connect_fn, disconnect_fn);
}

/* ---- send ---- */

/* A send: the datagram and its IP_PKTINFO. */
struct raw_req {
	struct inet_dgram_req d;
	struct inet_tx_info tx;
};

static void send_fn(void *arg)
{
	struct raw_req *q = arg;
	struct inet_dgram_req *r = &q->d;
	struct icmp_sock *is = icmp_sock_of(r->s);
	ip_addr_t dst;
	if (!r->has_addr) {
		if (!(is->pcb->flags & RAW_FLAGS_CONNECTED)) {    /* disconnected since the caller looked */
			r->result = -EDESTADDRREQ;
			return;
		}
		ip_addr_copy(dst, is->pcb->remote_ip);
	} else {
		set_ip(&dst, r->addr ? r->addr : INADDR_LOOPBACK_H);
	}
	struct netif *n;
	int e = icmp_ping_autobind(is, &idents);
	if (e == 0)
		e = inet_route(is->s, lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&dst))), &n);
	if (e == 0)
		e = inet_tx_info_check(&q->tx, &n);
	if (e == 0 && r->len > ICMP_MAX_MSG)
		e = -EMSGSIZE;
	if (e == 0 && dgq_shut_wr(is->s))
		e = -EPIPE;
	if (e < 0) {
		r->result = e;
		return;
	}
	if (is->ping) {
		struct icmp_echo_hdr *h = r->p->payload;
		h->id = lwip_htons(is->ident);
		h->chksum = 0;
		h->chksum = inet_chksum_pbuf(r->p);
	}
	struct inet_tx_saved saved;
	inet_tx_override(&q->tx, &is->pcb->ttl, &is->pcb->mcast_ttl, &is->pcb->tos, &saved);
	err_t le = q->tx.has_src ? raw_sendto_if_src(is->pcb, r->p, &dst, n, &q->tx.src) : raw_sendto(is->pcb, r->p, &dst);
	inet_tx_restore(&saved, &is->pcb->ttl, &is->pcb->mcast_ttl, &is->pcb->tos);
	if (le == ERR_OK || le == ERR_MEM || le == ERR_BUF)
		r->result = (long)r->len;        /* a drop for want of memory is silent, as on Linux */
	else
		r->result = le == ERR_RTE ? -ENETUNREACH : -lwip_to_errno(le);
}

/* The destination of a send, Linux's checks for each kind (ping sockets want AF_INET): 0 or -errno. */
static int send_addr(struct icmp_sock *is, const struct sock_msg *m, struct inet_dgram_req *r)
{
	return inet_dgram_dest(r, m, icmp_sock_connected(is), !is->ping);
}

static long icmp_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock __unused)
{
	struct icmp_sock *is = icmp_sock_of(s);
	struct raw_req q = { .d = { .s = s, .len = m->data.resid } };
	struct inet_dgram_req *r = &q.d;
	int e;
	if (r->len > 0xffff)
		return -EMSGSIZE;
	if (is->ping && r->len < ICMP_HDR_LEN)
		return -EINVAL;
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	/* Linux looks at a raw socket's address before the data, at a ping socket's after its header */
	if (!is->ping && (e = send_addr(is, m, r)) < 0)
		return e;
	r->p = pbuf_alloc(PBUF_IP, (u16_t)r->len, PBUF_RAM);
	if (!r->p)
		return -ENOBUFS;
	if (uio_copy_in(&m->data, r->p->payload, r->len) < 0) {
		e = -EFAULT;
	} else if (is->ping) {
		const struct icmp_echo_hdr *h = r->p->payload;
		e = h->type != ICMP_ECHO || h->code != 0 ? -EINVAL : send_addr(is, m, r);
	} else {
		e = 0;
	}
	if (e == 0)
		e = inet_cmsg_parse(m, AF_INET, &q.tx);
	if (e == 0) {
		squeue_call(squeue_local(), send_fn, &q);
		e = (int)r->result;
	}
	pbuf_free(r->p);
	return e < 0 ? e : (long)r->len;
}

/* ---- the rest ---- */

struct name_req {
	struct icmp_sock *is;
	uint32_t addr;
	uint16_t port;
};

static void name_fn(void *arg)
{
	struct name_req *r = arg;
	r->addr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&r->is->pcb->local_ip)));
	r->port = r->is->ping ? r->is->ident : IPPROTO_ICMP;   /* Linux: a raw socket's port is its protocol */
}

static int icmp_getname(struct socket *s, struct sockaddr_k *a, int *len, bool peer)
{
	struct icmp_sock *is = icmp_sock_of(s);
	if (peer) {
		spin_lock(&s->lock);
		bool c = is->connected;
		uint32_t addr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&is->peer)));
		uint16_t port = is->peer_port;
		spin_unlock(&s->lock);
		if (!c || !port)
			return -ENOTCONN;        /* Linux's inet_getname wants a peer port */
		sockaddr_in_set(a, len, addr, port);
		return 0;
	}
	struct name_req r = { .is = is };
	squeue_call(squeue_local(), name_fn, &r);
	sockaddr_in_set(a, len, r.addr, r.port);
	return 0;
}

/* IP_TTL / IP_TOS field of s's pcb (stack lock held) */
static uint8_t *ipopt_field(struct socket *s, int name)
{
	struct raw_pcb *pcb = icmp_sock_of(s)->pcb;
	return name == IP_TTL ? &pcb->ttl : &pcb->tos;
}

static int icmp_setsockopt(struct socket *s, int level, int name, const void *val, int len)
{
	int e = dgq_recverr_setsockopt(s, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	e = inet_cmsg_setsockopt(&icmp_sock_of(s)->q.cmsg_flags, AF_INET, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	if (level == SOL_IP)
		return inet_setsockopt(s, ipopt_field, name, val, len);
	return -ENOPROTOOPT;
}

static int icmp_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	int e = dgq_recverr_getsockopt(s, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	e = inet_cmsg_getsockopt(READ_ONCE(icmp_sock_of(s)->q.cmsg_flags), AF_INET, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	if (level == SOL_IP)
		return inet_getsockopt(s, ipopt_field, name, val, len);
	return -EOPNOTSUPP;
}

const struct sock_ops icmp_sock_ops = {
	.create = icmp_create,
	.release = icmp_sock_release,
	.bind = icmp_bind_op,
	.connect = icmp_connect_op,
	.sendmsg = icmp_sendmsg,
	.recvmsg = icmp_sock_recvmsg,
	.shutdown = icmp_sock_shutdown,
	.getname = icmp_getname,
	.poll = dgq_poll,
	.setsockopt = icmp_setsockopt,
	.getsockopt = icmp_getsockopt,
	.ioctl = icmp_sock_ioctl,
};
