/*
 * UDP sockets: AF_INET and AF_INET6 SOCK_DGRAM over lwIP's raw UDP API (net/socket.h has the
 * socket layer's theory, net/stack.h the rules for entering lwIP, net/sock_dgram.c the receive
 * queue, net/inet_addr.h the addresses).
 *
 * AF_INET6: the pcb is lwIP's dual-stack IPADDR_TYPE_ANY until bound (as TCP's, net/sock_tcp.c),
 * so an unbound or ::-bound socket hears and sends IPv4 too, its IPv4 peers v4-mapped; bound to
 * an address it has that address's family; IPV6_V6ONLY makes the wildcard IPv6's ::. The IPV6_*
 * options map onto the pcb's fields: UNICAST_HOPS ttl, TCLASS tos, MULTICAST_HOPS mcast_ttl,
 * MULTICAST_IF mcast_ifindex (the interface's lwIP index), MULTICAST_LOOP the pcb flag.
 * IPV6_ADD_MEMBERSHIP / IPV6_DROP_MEMBERSHIP (Linux's ipv6_sock_mc_join / _drop): the socket
 * keeps its memberships (at most UDP_MC_MAX, ENOBUFS beyond) and joins each group on its
 * interface through lwIP's MLD (mld6_joingroup_netif: reports, and the NIC's multicast filter
 * through net/stack6.c's hook); release leaves them. Interface 0 means the group's route's. As
 * on Linux (IPV6_MULTICAST_ALL, on by default), a datagram to a joined group reaches every
 * socket bound to its port on the wildcard or on the group, whichever socket joined it.
 *
 * One struct udp_sock per socket, owning one lwIP udp_pcb. The pcb is touched only under the
 * stack lock: in squeue_call'd functions (bind, connect, send, names, options, release) or in
 * lwIP's receive callback. A UDP socket is not a connection bound to one squeue (net/stack.h rule
 * 4): an unconnected one hears datagrams of many flows, and its receive callback runs on whichever
 * squeue a datagram was classified to; the threads' calls enter the caller's own squeue. All of
 * them serialize on the stack lock, which is all a pcb needs.
 *
 * Receive. lwIP's callback (squeue context) wraps the pbuf chain it is handed, unchanged, into a
 * struct dgram with the sender's address and queues it on the socket (net/sock_dgram.c: bounded by
 * SO_RCVBUF, dropped and counted beyond, as Linux drops). The reader copies it to user memory in
 * its own thread without the stack lock and frees the pbufs there. A connected pcb hears only its
 * peer (lwIP's demultiplexing prefers the exact match and never gives a connected pcb another
 * source's datagram), as on Linux.
 *
 * Send. The user's bytes are copied into a PBUF_RAM pbuf allocated outside the stack lock with
 * PBUF_TRANSPORT headroom (net/stack.h rule 3), so lwIP adds the UDP and IP headers in place; then
 * one squeue_call checks what Linux checks in its order (route, SO_BROADCAST, size, the pending
 * error, shutdown) and calls udp_sendto_if. A send never blocks: lwIP either passes the datagram
 * to the interface or drops it. A drop for want of memory (a full device backlog, ERR_MEM) is
 * reported as success, as Linux does without IP_RECVERR. A datagram to a local address is in its
 * receiver's queue when send returns (stack_lo_sync), as on Linux, where programs count on it
 * (send, then poll with no timeout).
 *
 * Ports and addresses follow Linux: port 0 in bind is an ephemeral port (lwIP's 49152..65535), the
 * first send or connect of an unbound socket binds one, connect fills in the local address from
 * the route, and connect(AF_UNSPEC) undoes what connect did: the peer, a local address that bind
 * did not set, and an automatically chosen port (the pcb is replaced by a fresh one, so the port
 * is free again). A second bind to a port in use fails with EADDRINUSE unless both sockets set
 * SO_REUSEADDR (lwIP's SOF_REUSEADDR, synced from every socket's option at each bind, since
 * Linux looks at the option's value at the time of the later bind).
 *
 * ICMP errors. A raw ICMP pcb and a raw ICMPv6 pcb of our own (created with the first UDP socket)
 * look at every ICMP error that arrives, find the socket whose datagram it quotes as Linux's
 * __udp4_lib_err / __udp6_lib_err do (the connected pcb that sent it, else one bound to its
 * source port) and hand it to the error queue (net/sock_errq.c): with IP_RECVERR (ICMP) or
 * IPV6_RECVERR (ICMPv6) queued for recvmsg(MSG_ERRQUEUE) with its sock_extended_err, offender,
 * destination and quoted payload, and made the pending error; without, Linux's "fatal" errors
 * (port unreachable: ECONNREFUSED, protocol unreachable: ENOPROTOOPT, prohibited: EACCES, ...)
 * become a connected socket's pending error, which its next send or recv reports; unconnected
 * sockets are not told. They never eat the packet. An AF_INET6 socket's IPv4 flows get ICMP's
 * errors (IP_RECVERR), read back in its family's form. lwIP's own IPv4 port unreachable quotes 8
 * bytes only: net/udp_unreach.c sends Linux's instead, so a local sender's queue gets the payload.
 *
 * Control messages (net/inet_cmsg.h): the receive callback keeps each datagram's header fields;
 * recvmsg reports IP_PKTINFO / IP_TTL / IP_TOS and IPV6_PKTINFO / HOPLIMIT / TCLASS as asked; a
 * sendmsg's IP_PKTINFO / IPV6_PKTINFO picks the datagram's source address (udp_sendto_if_src),
 * its IP_TTL / IP_TOS / IPV6_HOPLIMIT / IPV6_TCLASS that datagram's header fields.
 *
 * A dual-stack socket's IPv4 datagrams (v4-mapped destinations) take the TTL and TOS of its
 * SOL_IP options and messages (IP_TTL, IP_TOS), its IPv6 ones those of SOL_IPV6
 * (IPV6_UNICAST_HOPS, IPV6_TCLASS, IPV6_HOPLIMIT), as Linux sends mapped ones through IPv4's
 * udp_sendmsg: the pcb's ttl / tos hold the IPv6 values and the IPv4 pair is swapped in for a
 * mapped send.
 *
 * Path MTU discovery modes (IP_MTU_DISCOVER at SOL_IP, IPV6_MTU_DISCOVER at SOL_IPV6 for AF_INET6
 * sockets; Linux's values IP_PMTUDISC_DONT 0, WANT 1, DO 2, PROBE 3, INTERFACE 4, OMIT 5, others
 * EINVAL; both WANT by default as Linux's UDP sockets with ip_no_pmtu_disc 0). As Linux's
 * __ip_append_data / ip6_append_data: under DO, PROBE and INTERFACE (ip_sk_ignore_df false) a
 * datagram whose IP packet would exceed the route's MTU is refused with EMSGSIZE (and the local
 * error under IP_RECVERR / IPV6_RECVERR, ee_info the MTU); the others fragment it. An IPv4
 * datagram that fits leaves with DF set under WANT, DO and PROBE (__ip_make_skb,
 * ip_dont_fragment: net/stack.c's stack_set_tx_df), without it under DONT, INTERFACE and OMIT; a
 * fragmented one never has it. A v4-mapped datagram of an AF_INET6 socket follows IP_MTU_DISCOVER
 * (Linux sends it through IPv4's udp_sendmsg). Ember keeps no path MTU learnt from ICMP, so the
 * route's MTU is the device's; IP_MTU / IPV6_MTU (getsockopt only) give it for a connected
 * socket's peer (lo: 65536) and ENOTCONN otherwise, as Linux's dst_mtu(sk_dst_get).
 *
 * Not done: IP options other than IP_TTL, IP_TOS and the above, SOL_UDP options (UDP_CORK, GSO),
 * multicast membership, setting IPV6_MTU. Above 65535 bytes the plain EMSGSIZE comes first, for
 * IPv6 too.
 */
#include "net/sock_dgram.h"
#include "net/stack.h"
#include "net/inet_addr.h"
#include "net/flow_stats.h"
#include "net/netdev.h"
#include "kernel/printk.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "lwip/ip.h"
#include "lwip/raw.h"
#include "lwip/udp.h"
#include "lwip/mld6.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/icmp6.h"

#define UDP_MAX_PAYLOAD 65507          /* 65535 - IP header - UDP header */
#define UDP_MC_MAX 20                   /* groups a socket may join (Linux's igmp_max_memberships) */
#define UDP6_MAX_PAYLOAD 65527         /* 65535 (IPv6's payload length) - UDP header */
#define IP_MAX_MTU_K 0xffff            /* Linux's IP_MAX_MTU: an IPv4 route's MTU is at most this */
/* <linux/in.h>, <linux/in6.h> */
#define IP_MTU_DISCOVER_K 10
#define IP_MTU_K 14
#define IPV6_MTU_DISCOVER_K 23
#define IPV6_MTU_K 24
#define PMTUDISC_DONT 0
#define PMTUDISC_WANT 1
#define PMTUDISC_DO 2
#define PMTUDISC_PROBE 3
#define PMTUDISC_INTERFACE 4
#define PMTUDISC_OMIT 5
#define UDP_HDR_LEN 8
#define IP4_HDR_LEN 20
#define IP6_HDR_LEN 40
#define UDP_HDR_LEN 8
#define ICMP_HDR_LEN 8

struct udp_sock {
	struct dgram_queue q;            /* first (net/sock_dgram.h) */
	struct socket *s;
	struct udp_pcb *pcb;             /* stack lock (the pointer too: connect(AF_UNSPEC) replaces it) */
	bool addr_bound, port_bound;     /* stack lock: bind() set them (connect(AF_UNSPEC) keeps them) */
	bool addr_from_connect;          /* stack lock: the local address came with connect() */
	bool connected;                  /* s->lock (written with the stack lock held too) */
	bool v6only;                     /* stack lock: IPV6_V6ONLY */
	uint8_t ip_ttl, ip_tos;          /* stack lock: an AF_INET6 socket's IP_TTL / IP_TOS, for its
					  * v4-mapped datagrams (the pcb's ttl / tos are IPv6's) */
	uint8_t pmtudisc4, pmtudisc6;    /* IP_MTU_DISCOVER, IPV6_MTU_DISCOVER: one byte each, written
					  * by setsockopt (WRITE_ONCE), read by send (READ_ONCE) */
	struct udp_mc {                  /* stack lock: IPv6 groups joined (IPV6_ADD_MEMBERSHIP) */
		ip6_addr_t group;
		struct netif *netif;
	} mc[UDP_MC_MAX];
	int nmc;
};

/* The raw pcbs that hear ICMP and ICMPv6 errors for all UDP sockets (stack lock). */
static struct raw_pcb *icmp_err_pcb, *icmp6_err_pcb;

static struct udp_sock *us_of(struct socket *s) { return s->proto; }
static void set_ip(ip_addr_t *a, uint32_t host) { ip_addr_set_ip4_u32(a, lwip_htonl(host)); }

static bool is_connected(struct udp_sock *us)
{
	spin_lock(&us->s->lock);
	bool c = us->connected;
	spin_unlock(&us->s->lock);
	return c;
}

/* ---- callbacks (squeue context, stack lock held) ---- */

static void udp_recv_cb(void *arg, struct udp_pcb *pcb __unused, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	struct udp_sock *us = arg;
	struct dgram *d = dgq_full(us->s) ? NULL : dgram_new_pbuf(p);
	if (!d) {
		dgq_count_drop(us->s);
		pbuf_free(p);
		return;
	}
	if (us->s->family == AF_INET6) {
		int len;
		inet_sockaddr_set(AF_INET6, (struct sockaddr_k *)&d->addr, &len, addr, port);
		d->addrlen = len;
	} else {
		d->addr.in = (struct sockaddr_in_k){ .sin_family = AF_INET, .sin_port = lwip_htons(port),
						     .sin_addr = ip4_addr_get_u32(ip_2_ip4(addr)) };
		d->addrlen = sizeof(d->addr.in);
	}
	inet_rx_info_capture(&d->info);
	dgq_push(us->s, d);
}

/* The socket an ICMP error about our datagram src:sport -> dst:dport is for (Linux's
 * __udp4_lib_lookup / __udp6_lib_lookup on the quoted addresses): the connected pcb that sent it
 * (the exact match wins), else an unconnected one bound to sport (and src, or the wildcard of
 * src's family; a dual-stack wildcard takes IPv4 too). Stack lock held. */
static struct udp_sock *err_lookup(const ip_addr_t *src, uint16_t sport, const ip_addr_t *dst, uint16_t dport,
				   bool *connected)
{
	bool v6 = IP_IS_V6(dst);
	struct udp_sock *hit = NULL;
	*connected = false;
	for (struct udp_pcb *pcb = udp_pcbs; pcb; pcb = pcb->next) {
		if (pcb->recv != udp_recv_cb || pcb->local_port != sport)
			continue;
		if (!IP_IS_ANY_TYPE_VAL(pcb->local_ip) &&
		    (IP_IS_V6_VAL(pcb->local_ip) != v6 ||
		     (!ip_addr_isany(&pcb->local_ip) && !ip_addr_cmp_zoneless(&pcb->local_ip, src))))
			continue;
		if (pcb->flags & UDP_FLAGS_CONNECTED) {
			if (IP_IS_V6_VAL(pcb->remote_ip) != v6 || pcb->remote_port != dport ||
			    !ip_addr_cmp_zoneless(&pcb->remote_ip, dst))
				continue;
			*connected = true;
			return pcb->recv_arg;
		}
		if (!hit)
			hit = pcb->recv_arg;
	}
	return hit;
}

/* Linux's __udp4_lib_err: an ICMP error quoting a UDP datagram of ours (p starts at the IP header
 * of the ICMP message) goes to the socket err_lookup finds; net/sock_errq.c decides whether it
 * is queued (IP_RECVERR) or only the pending error. Never eats the packet. */
static u8_t icmp_err_cb(void *arg __unused, struct raw_pcb *rpcb __unused, struct pbuf *p, const ip_addr_t *src __unused)
{
	uint8_t b[2 * IP_HLEN_MAX + ICMP_HDR_LEN + UDP_HDR_LEN];
	u16_t n = pbuf_copy_partial(p, b, sizeof(b), 0);
	if (ip_current_is_v6() || n < IP_HLEN)
		return 0;
	size_t hl = IPH_HL_BYTES((struct ip_hdr *)b);
	if (hl < IP_HLEN || hl + ICMP_HDR_LEN + IP_HLEN > n)
		return 0;
	const uint8_t *icmp = b + hl;
	uint32_t info;
	bool fatal;
	int err = icmp_err_convert(icmp, &info, &fatal);
	const struct ip_hdr *inner = (const struct ip_hdr *)(icmp + ICMP_HDR_LEN);
	size_t ihl = IPH_HL_BYTES(inner);
	if (!err || IPH_PROTO(inner) != IP_PROTO_UDP || ihl < IP_HLEN || hl + ICMP_HDR_LEN + ihl + UDP_HDR_LEN > n)
		return 0;
	const uint8_t *uh = icmp + ICMP_HDR_LEN + ihl;
	uint16_t sport = (uint16_t)(uh[0] << 8 | uh[1]), dport = (uint16_t)(uh[2] << 8 | uh[3]);
	ip_addr_t isrc, idst;
	ip_addr_set_ip4_u32_val(isrc, inner->src.addr);
	ip_addr_set_ip4_u32_val(idst, inner->dest.addr);
	bool connected;
	struct udp_sock *us = err_lookup(&isrc, sport, &idst, dport, &connected);
	if (us)
		dgq_icmp_error(us->s, err, fatal, connected, icmp, info, &idst, dport, p,
			       (uint16_t)(hl + ICMP_HDR_LEN + ihl + UDP_HDR_LEN));
	return 0;
}

/* The IPv6 twin (Linux's __udp6_lib_err): p starts at the IPv6 header of an ICMPv6 message that
 * quotes an IPv6 header without extension headers, then the UDP header. */
static u8_t icmp6_err_cb(void *arg __unused, struct raw_pcb *rpcb __unused, struct pbuf *p, const ip_addr_t *src __unused)
{
	uint8_t b[ICMP_HDR_LEN + IP6_HLEN + UDP_HDR_LEN];
	u16_t off = ip_current_header_tot_len();
	if (!ip_current_is_v6() || pbuf_copy_partial(p, b, sizeof(b), off) != sizeof(b))
		return 0;
	uint32_t info;
	bool fatal;
	int err = icmp6_err_convert(b, &info, &fatal);
	const uint8_t *ip6 = b + ICMP_HDR_LEN, *uh = ip6 + IP6_HLEN;
	if (!err || ip6[6] != IP6_NEXTH_UDP)
		return 0;
	ip_addr_t isrc, idst;
	icmp6_quoted_addrs(ip6, &isrc, &idst);
	uint16_t sport = (uint16_t)(uh[0] << 8 | uh[1]), dport = (uint16_t)(uh[2] << 8 | uh[3]);
	bool connected;
	struct udp_sock *us = err_lookup(&isrc, sport, &idst, dport, &connected);
	if (us)
		dgq_icmp_error(us->s, err, fatal, connected, b, info, &idst, dport, p,
			       (uint16_t)(off + ICMP_HDR_LEN + IP6_HLEN + UDP_HDR_LEN));
	return 0;
}

/* ---- create, release ---- */

/* A thread's request to an squeue: the *_fn functions below run there, with the stack lock held
 * (no sleeping, no user memory); the thread reads the result after squeue_call returns. */
struct udp_req {
	struct inet_dgram_req d;         /* first: connect and send take it as their arg too */
	struct inet_tx_info tx;          /* send: IP_PKTINFO / IPV6_PKTINFO */
	struct stack_lo_ticket lo;       /* send: the datagram looped back through lo */
	bool looped;
};

static void create_fn(void *arg)
{
	struct inet_dgram_req *r = arg;
	struct udp_sock *us = us_of(r->s);
	if (!icmp_err_pcb && (icmp_err_pcb = raw_new(IP_PROTO_ICMP)))
		raw_recv(icmp_err_pcb, icmp_err_cb, NULL);
	if (!icmp6_err_pcb && (icmp6_err_pcb = raw_new_ip_type(IPADDR_TYPE_V6, IP6_NEXTH_ICMP6)))
		raw_recv(icmp6_err_pcb, icmp6_err_cb, NULL);
	us->pcb = udp_new_ip_type(r->s->family == AF_INET6 ? IPADDR_TYPE_ANY : IPADDR_TYPE_V4);
	if (!us->pcb)
		return;
	udp_recv(us->pcb, udp_recv_cb, us);
	us->pcb->mcast_ttl = 1;                          /* Linux's defaults: hop limit 1, looped back */
	us->pcb->flags |= UDP_FLAGS_MULTICAST_LOOP;
}

static int udp_create(struct socket *s)
{
	struct udp_sock *us = kzalloc(sizeof(*us));
	if (!us)
		return -ENOMEM;
	dgq_init(&us->q);
	us->s = s;
	us->ip_ttl = IP_DEFAULT_TTL;
	us->pmtudisc4 = us->pmtudisc6 = PMTUDISC_WANT;
	s->proto = us;                   /* before the pcb exists: its callbacks find the queue there */
	s->rcvbuf = s->sndbuf = DGRAM_BUF_DEFAULT;
	struct inet_dgram_req r = { .s = s };
	squeue_call(squeue_local(), create_fn, &r);
	if (!us->pcb) {
		s->proto = NULL;
		kfree(us);
		return -ENOMEM;
	}
	return 0;
}

static void release_fn(void *arg)
{
	struct udp_sock *us = arg;
	for (int i = 0; i < us->nmc; i++)
		mld6_leavegroup_netif(us->mc[i].netif, &us->mc[i].group);
	us->nmc = 0;
	udp_remove(us->pcb);
}

/* After release_fn no callback can reach us: the pcb is gone from lwIP's list. */
static void udp_release(struct socket *s)
{
	struct udp_sock *us = us_of(s);
	squeue_call(squeue_local(), release_fn, us);
	dgq_flush(s);
	kfree(us);
	s->proto = NULL;
}

/* ---- bind, connect ---- */

/* Bind an unbound pcb to an ephemeral port (Linux's autobind: first send or connect). */
static err_t autobind(struct udp_pcb *pcb)
{
	return pcb->local_port ? ERR_OK : udp_bind(pcb, &pcb->local_ip, 0);
}

/* Sockets sharing a port (SO_REUSEADDR): Linux gives a unicast datagram to the one bound last
 * (among those with the best address match). lwIP gives it to the first INADDR_ANY pcb in its
 * list, unless a pcb with a specific address matches, and then to the last such pcb. udp_bind puts
 * a pcb at the front; moving one bound to a specific address to the tail keeps those in bind
 * order, so both rules pick the same socket. */
static void move_to_tail(struct udp_pcb *pcb)
{
	struct udp_pcb **pp = &udp_pcbs;
	while (*pp && *pp != pcb)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = pcb->next;
	while (*pp)
		pp = &(*pp)->next;
	*pp = pcb;
	pcb->next = NULL;
}

static void bind_fn(void *arg)
{
	struct inet_dgram_req *r = arg;
	struct udp_sock *us = us_of(r->s);
	struct udp_pcb *pcb = us->pcb;
	if (!inet_addr_local(&r->ip)) {
		r->result = -EADDRNOTAVAIL;
		return;
	}
	if (pcb->local_port) {
		r->result = -EINVAL;
		return;
	}
	/* SO_REUSEADDR as every UDP socket has it now */
	for (struct udp_pcb *q = udp_pcbs; q; q = q->next) {
		if (q->recv != udp_recv_cb)
			continue;
		if (READ_ONCE(((struct udp_sock *)q->recv_arg)->s->reuseaddr))
			ip_set_option(q, SOF_REUSEADDR);
		else
			ip_reset_option(q, SOF_REUSEADDR);
	}
	if (READ_ONCE(us->s->reuseaddr))
		ip_set_option(pcb, SOF_REUSEADDR);
	else
		ip_reset_option(pcb, SOF_REUSEADDR);
	if (IP_IS_V6_VAL(r->ip) && ip_addr_isany_val(r->ip))
		inet_addr_any(AF_INET6, us->v6only, &r->ip);   /* ::, dual-stack unless v6only */
	err_t e = udp_bind(pcb, &r->ip, r->port);
	if (e != ERR_OK) {
		r->result = e == ERR_USE ? -EADDRINUSE : -lwip_to_errno(e);
		return;
	}
	us->addr_bound = !ip_addr_isany(&r->ip);
	us->port_bound = r->port != 0;
	if (us->addr_bound)
		move_to_tail(pcb);
	r->result = 0;
}

static int udp_bind_op(struct socket *s, const struct sockaddr_k *a, int len)
{
	struct inet_dgram_req r = { .s = s };
	int e;
	if (s->family == AF_INET6) {
		bool mapped;
		if ((e = inet_sockaddr_get(AF_INET6, a, len, &r.ip, &r.port, &mapped)) < 0)
			return e;
		if (mapped && READ_ONCE(us_of(s)->v6only))
			return -EINVAL;
	} else {
		if ((e = inet_bind_addr(a, len, &r.addr, &r.port)) < 0)
			return e;
		set_ip(&r.ip, r.addr);
	}
	squeue_call(squeue_local(), bind_fn, &r);
	return (int)r.result;
}

/* A fresh pcb in place of us->pcb, with its options and callback: gives an automatically chosen
 * port back. Keeps the old one if there is no memory. */
static void replace_pcb(struct udp_sock *us)
{
	struct udp_pcb *old = us->pcb, *n = udp_new_ip_type(IP_GET_TYPE(&old->local_ip));
	if (!n)
		return;
	n->so_options = old->so_options;
	n->ttl = old->ttl;
	n->tos = old->tos;
	n->mcast_ttl = old->mcast_ttl;
	n->mcast_ifindex = old->mcast_ifindex;
	n->flags |= old->flags & UDP_FLAGS_MULTICAST_LOOP;
	if (us->addr_bound)
		ip_addr_copy(n->local_ip, old->local_ip);
	else
		inet_addr_any(us->s->family, us->v6only, &n->local_ip);
	udp_recv(n, udp_recv_cb, us);
	udp_remove(old);
	us->pcb = n;
}

static void disconnect_fn(void *arg)
{
	struct inet_dgram_req *r = arg;
	struct udp_sock *us = us_of(r->s);
	udp_disconnect(us->pcb);
	if (us->addr_from_connect)
		inet_addr_any(us->s->family, us->v6only, &us->pcb->local_ip);
	us->addr_from_connect = false;
	if (us->pcb->local_port && !us->port_bound)
		replace_pcb(us);
	spin_lock(&us->s->lock);
	us->connected = false;
	spin_unlock(&us->s->lock);
	r->result = 0;
}

static void connect_fn(void *arg)
{
	struct inet_dgram_req *r = arg;
	struct udp_sock *us = us_of(r->s);
	struct udp_pcb *pcb = us->pcb;
	struct netif *n;
	ip_addr_t dst = r->ip;
	if (ip_addr_isany_val(dst))                   /* Linux: INADDR_ANY / :: mean this host */
		ip_addr_set_loopback(IP_IS_V6_VAL(dst), &dst);
	if (IP_IS_V4_VAL(dst) && us->v6only) {
		r->result = -ENETUNREACH;
		return;
	}
	if (!IP_IS_ANY_TYPE_VAL(pcb->local_ip) && IP_IS_V6_VAL(pcb->local_ip) != IP_IS_V6_VAL(dst)) {
		r->result = -ENETUNREACH;             /* bound to one family, connecting to the other */
		return;
	}
	int e = inet_route_ip(us->s, &dst, &n);
	if (e < 0) {
		r->result = e;
		return;
	}
	if (autobind(pcb) != ERR_OK) {
		r->result = -EAGAIN;                  /* Linux's answer when no ephemeral port is left */
		return;
	}
	if (ip_addr_isany(&pcb->local_ip)) {
		const ip_addr_t *src = ip_netif_get_local_ip(n, &dst);
		if (!src) {
			r->result = -EADDRNOTAVAIL;
			return;
		}
		ip_addr_copy(pcb->local_ip, *src);
		us->addr_from_connect = true;
	}
	udp_connect(pcb, &dst, r->port);
	spin_lock(&us->s->lock);
	us->connected = true;
	spin_unlock(&us->s->lock);
	r->result = 0;
}

static int udp_connect_op(struct socket *s, const struct sockaddr_k *a, int len, bool nonblock __unused)
{
	struct inet_dgram_req r = { .s = s };
	return inet_dgram_connect(&r, a, len, connect_fn, disconnect_fn);
}

/* ---- send ---- */

/* The MTU a local EMSGSIZE error reports for route n (Linux: the device's, lo's 65536; IPv4's
 * capped at IP_MAX_MTU; IPv6's the netif's mtu6 when a router advertised less). */
static uint32_t route_mtu(struct netif *n, bool v6)
{
	struct net_device *dev = stack_netif_dev(n);
	uint32_t mtu = dev ? dev->mtu : n->mtu;
	if (v6 && netif_mtu6(n) < mtu && !(dev && (dev->flags & NETDEV_LOOPBACK)))
		mtu = netif_mtu6(n);
	return v6 ? mtu : MIN(mtu, (uint32_t)IP_MAX_MTU_K);
}

static void send_fn(void *arg)
{
	struct udp_req *u = arg;
	struct inet_dgram_req *r = &u->d;
	struct udp_sock *us = us_of(r->s);
	struct udp_pcb *pcb = us->pcb;
	ip_addr_t dst;
	u16_t port;
	if (!r->has_addr) {
		if (!(pcb->flags & UDP_FLAGS_CONNECTED)) {    /* disconnected since the caller looked */
			r->result = -EDESTADDRREQ;
			return;
		}
		ip_addr_copy(dst, pcb->remote_ip);
		port = pcb->remote_port;
	} else {
		dst = r->ip;
		if (ip_addr_isany_val(dst))
			ip_addr_set_loopback(IP_IS_V6_VAL(dst), &dst);
		port = r->port;
		if ((IP_IS_V4_VAL(dst) && us->v6only) ||
		    (!IP_IS_ANY_TYPE_VAL(pcb->local_ip) && IP_IS_V6_VAL(pcb->local_ip) != IP_IS_V6_VAL(dst))) {
			r->result = -ENETUNREACH;
			return;
		}
	}
	if (autobind(pcb) != ERR_OK) {
		r->result = -EAGAIN;
		return;
	}
	struct netif *n;
	int e = inet_route_ip(us->s, &dst, &n);
	if (e == 0)
		e = inet_tx_info_check(&u->tx, &n);
	if (e == 0 && u->tx.has_src && IP_IS_V6_VAL(u->tx.src) != IP_IS_V6_VAL(dst))
		e = -EINVAL;                             /* a source of the other family */
	if (e < 0) {
		r->result = e;
		return;
	}
	if (r->len > (IP_IS_V6_VAL(dst) ? UDP6_MAX_PAYLOAD : UDP_MAX_PAYLOAD)) {
		/* ip_local_error reports the connected port (inet_dport), ipv6_local_error the flow's */
		bool v6 = IP_IS_V6_VAL(dst);
		uint16_t eport = v6 ? port : (pcb->flags & UDP_FLAGS_CONNECTED) ? pcb->remote_port : 0;
		dgq_local_error(us->s, EMSGSIZE, &dst, eport, route_mtu(n, v6));
		r->result = -EMSGSIZE;
		return;
	}
	/* IP_MTU_DISCOVER / IPV6_MTU_DISCOVER (the theory above) */
	bool v6dst = IP_IS_V6_VAL(dst);
	int mode = v6dst ? READ_ONCE(us->pmtudisc6) : READ_ONCE(us->pmtudisc4);
	uint32_t mtu = route_mtu(n, v6dst);
	bool fits = r->len + UDP_HDR_LEN + (v6dst ? IP6_HDR_LEN : IP4_HDR_LEN) <= mtu;
	if (!fits && mode >= PMTUDISC_DO && mode != PMTUDISC_OMIT) {
		uint16_t eport = v6dst ? port : (pcb->flags & UDP_FLAGS_CONNECTED) ? pcb->remote_port : 0;
		dgq_local_error(us->s, EMSGSIZE, &dst, eport, mtu);
		r->result = -EMSGSIZE;
		return;
	}
	bool df = !v6dst && fits && (mode == PMTUDISC_WANT || mode == PMTUDISC_DO || mode == PMTUDISC_PROBE);
	if ((e = sock_take_error(us->s)) != 0) {
		r->result = -e;
		return;
	}
	if (dgq_shut_wr(us->s)) {
		r->result = -EPIPE;
		return;
	}
	struct inet_tx_info tx = u->tx;
	bool mapped = us->s->family == AF_INET6 && !IP_IS_V6_VAL(dst);
	uint8_t ttl6 = pcb->ttl, tclass = pcb->tos;
	if (mapped) {                                /* udp_sendmsg with the socket's inet part */
		if (tx.err4) {
			r->result = tx.err4;
			return;
		}
		tx.ttl = tx.ttl4;                    /* SOL_IP's messages; SOL_IPV6's are skipped */
		tx.tos = tx.tos4;
		pcb->ttl = us->ip_ttl;
		pcb->tos = us->ip_tos;
	}
	struct inet_tx_saved saved;
	inet_tx_override(&tx, &pcb->ttl, &pcb->mcast_ttl, &pcb->tos, &saved);
	stack_lo_track();
	stack_set_tx_df(df);
	err_t le = u->tx.has_src ? udp_sendto_if_src(pcb, r->p, &dst, port, n, &u->tx.src)
				 : udp_sendto_if(pcb, r->p, &dst, port, n);
	stack_set_tx_df(false);
	inet_tx_restore(&saved, &pcb->ttl, &pcb->mcast_ttl, &pcb->tos);
	pcb->ttl = ttl6;
	pcb->tos = tclass;
	u->looped = stack_lo_tracked(&u->lo);
	if (le == ERR_OK || le == ERR_MEM || le == ERR_BUF)
		r->result = (long)r->len;                /* a drop for want of memory is silent, as on Linux */
	else
		r->result = le == ERR_RTE ? -ENETUNREACH : -lwip_to_errno(le);
}

static long udp_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock __unused)
{
	struct udp_req u = { .d = { .s = s, .len = m->data.resid } };
	struct inet_dgram_req *r = &u.d;
	if (r->len > 0xffff)
		return -EMSGSIZE;
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	int e = inet_dgram_dest(r, m, is_connected(us_of(s)), true);
	if (e < 0)
		return e;
	if (r->has_addr && !r->port)
		return -EINVAL;
	if ((e = inet_cmsg_parse(m, s->family, &u.tx)) < 0)
		return e;
	r->p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)r->len, PBUF_RAM);
	if (!r->p)
		return -ENOBUFS;
	if (uio_copy_in(&m->data, r->p->payload, r->len) < 0) {
		pbuf_free(r->p);
		return -EFAULT;
	}
	squeue_call(squeue_local(), send_fn, &u);
	pbuf_free(r->p);
	if (u.looped)
		stack_lo_sync(&u.lo);      /* queued at a local receiver when send returns, as on Linux */
	return r->result;
}

/* ---- the rest ---- */

static long udp_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	return dgq_recvmsg(s, m, nonblock);
}

static int udp_shutdown(struct socket *s, int how)
{
	return dgq_shutdown(s, how, is_connected(us_of(s)));
}

struct name_req {
	struct udp_sock *us;
	bool peer;
	ip_addr_t addr;
	uint16_t port;
	int result;
};

static void name_fn(void *arg)
{
	struct name_req *r = arg;
	struct udp_pcb *pcb = r->us->pcb;
	if (r->peer && (!(pcb->flags & UDP_FLAGS_CONNECTED) || !pcb->remote_port)) {   /* Linux: no port, no peer */
		r->result = -ENOTCONN;
		return;
	}
	r->addr = r->peer ? pcb->remote_ip : pcb->local_ip;
	r->port = r->peer ? pcb->remote_port : pcb->local_port;
	r->result = 0;
}

static int udp_getname(struct socket *s, struct sockaddr_k *a, int *len, bool peer)
{
	struct name_req r = { .us = us_of(s), .peer = peer };
	squeue_call(squeue_local(), name_fn, &r);
	if (r.result == 0)
		inet_sockaddr_set(s->family, a, len, &r.addr, r.port);
	return r.result;
}

/* IP_TTL / IP_TOS field of s (stack lock held): an AF_INET socket's pcb's; an AF_INET6 socket's
 * own pair, which only its v4-mapped datagrams take (Linux: the socket's inet part, as IPv4's
 * udp_sendmsg sends them; IPV6_UNICAST_HOPS / IPV6_TCLASS are the pcb's fields there). */
static uint8_t *ipopt_field(struct socket *s, int name)
{
	struct udp_sock *us = us_of(s);
	if (s->family == AF_INET6)
		return name == IP_TTL ? &us->ip_ttl : &us->ip_tos;
	return name == IP_TTL ? &us->pcb->ttl : &us->pcb->tos;
}

/* SOL_IPV6 options (AF_INET6 sockets), applied to the pcb in squeue context. */
struct ipv6_opt_req {
	struct udp_sock *us;
	int name, v;
	bool set;
	int result;
};

static void ipv6_opt_fn(void *arg)
{
	struct ipv6_opt_req *o = arg;
	struct udp_sock *us = o->us;
	struct udp_pcb *pcb = us->pcb;
	o->result = 0;
	if (!o->set) {
		switch (o->name) {
		case IPV6_V6ONLY: o->v = us->v6only; break;
		case IPV6_UNICAST_HOPS: o->v = pcb->ttl; break;
		case IPV6_TCLASS: o->v = pcb->tos; break;
		case IPV6_MULTICAST_HOPS: o->v = pcb->mcast_ttl; break;
		case IPV6_MULTICAST_LOOP: o->v = (pcb->flags & UDP_FLAGS_MULTICAST_LOOP) != 0; break;
		case IPV6_MULTICAST_IF: o->v = (int)inet_ifindex_of_zone(pcb->mcast_ifindex); break;
		default: o->result = -ENOPROTOOPT;
		}
		return;
	}
	int v = o->v;
	switch (o->name) {
	case IPV6_V6ONLY:
		if (pcb->local_port) {
			o->result = -EINVAL;             /* Linux: only before bind */
			return;
		}
		us->v6only = v != 0;
		if (!us->addr_bound)
			inet_addr_any(AF_INET6, us->v6only, &pcb->local_ip);
		return;
	case IPV6_UNICAST_HOPS: pcb->ttl = (u8_t)(v == -1 ? IP_DEFAULT_TTL : v); return;
	case IPV6_TCLASS: pcb->tos = (u8_t)(v == -1 ? 0 : v); return;
	case IPV6_MULTICAST_HOPS: pcb->mcast_ttl = (u8_t)(v == -1 ? 1 : v); return;
	case IPV6_MULTICAST_LOOP:
		if (v)
			pcb->flags |= UDP_FLAGS_MULTICAST_LOOP;
		else
			pcb->flags &= (u8_t)~UDP_FLAGS_MULTICAST_LOOP;
		return;
	case IPV6_MULTICAST_IF: {
		unsigned zone = v ? inet_zone_of_ifindex((unsigned)v) : 0;
		if (v && !zone) {
			o->result = -ENODEV;
			return;
		}
		pcb->mcast_ifindex = (u8_t)zone;
		return;
	}
	}
	o->result = -ENOPROTOOPT;
}

/* IPV6_ADD_MEMBERSHIP / IPV6_DROP_MEMBERSHIP (squeue context): Linux's errors, EINVAL for a
 * group that is not multicast, ENODEV for an unknown interface or a group without a route,
 * EADDRINUSE for a group joined twice on one interface, EADDRNOTAVAIL for leaving one not joined. */
struct mc_req {
	struct udp_sock *us;
	bool join;
	ip_addr_t group;
	unsigned ifindex;
	int result;
};

static void membership_fn(void *arg)
{
	struct mc_req *m = arg;
	struct udp_sock *us = m->us;
	struct netif *n = NULL;
	if (m->ifindex) {
		unsigned zone = inet_zone_of_ifindex(m->ifindex);
		n = zone ? netif_get_by_index((u8_t)zone) : NULL;
	} else if (inet_route_ip(us->s, &m->group, &n) < 0) {
		n = NULL;
	}
	if (!n) {
		m->result = -ENODEV;
		return;
	}
	const ip6_addr_t *g = ip_2_ip6(&m->group);
	int i = 0;
	while (i < us->nmc && !(us->mc[i].netif == n && ip6_addr_cmp_zoneless(&us->mc[i].group, g)))
		i++;
	if (!m->join) {
		if (i == us->nmc) {
			m->result = -EADDRNOTAVAIL;
			return;
		}
		mld6_leavegroup_netif(n, &us->mc[i].group);
		us->mc[i] = us->mc[--us->nmc];
		m->result = 0;
		return;
	}
	if (i < us->nmc) {
		m->result = -EADDRINUSE;
		return;
	}
	if (us->nmc == UDP_MC_MAX) {
		m->result = -ENOBUFS;
		return;
	}
	ip6_addr_copy(us->mc[us->nmc].group, *g);
	ip6_addr_clear_zone(&us->mc[us->nmc].group);
	if (mld6_joingroup_netif(n, &us->mc[us->nmc].group) != ERR_OK) {
		m->result = -ENOBUFS;
		return;
	}
	us->mc[us->nmc++].netif = n;
	m->result = 0;
}

/* struct ipv6_mreq: the group's 16 bytes, then the interface index */
#define IPV6_MREQ_LEN 20

static int membership_opt(struct socket *s, int name, const void *val, int len)
{
	if (len < IPV6_MREQ_LEN)
		return -EINVAL;
	struct mc_req m = { .us = us_of(s), .join = name == IPV6_ADD_MEMBERSHIP };
	uint32_t words[4];
	memcpy(words, val, sizeof(words));
	IP_ADDR6(&m.group, words[0], words[1], words[2], words[3]);
	int idx;
	memcpy(&idx, (const uint8_t *)val + 16, sizeof(idx));
	if (!ip6_addr_ismulticast(ip_2_ip6(&m.group)))
		return -EINVAL;
	if (idx < 0)
		return -ENODEV;
	m.ifindex = (unsigned)idx;
	squeue_call(squeue_local(), membership_fn, &m);
	return m.result;
}

static int ipv6_opt(struct socket *s, int name, const void *val, int len, bool set, void *out, int *outlen)
{
	struct ipv6_opt_req o = { .us = us_of(s), .name = name, .set = set };
	if (s->family != AF_INET6)
		return set ? -ENOPROTOOPT : -EOPNOTSUPP;
	if (set && (name == IPV6_ADD_MEMBERSHIP || name == IPV6_DROP_MEMBERSHIP))
		return membership_opt(s, name, val, len);
	if (set) {
		if (len < (int)sizeof(int))
			return -EINVAL;
		memcpy(&o.v, val, sizeof(int));
		bool hops = name == IPV6_UNICAST_HOPS || name == IPV6_MULTICAST_HOPS || name == IPV6_TCLASS;
		if (hops && (o.v < -1 || o.v > 255))
			return -EINVAL;
		if (name == IPV6_MULTICAST_LOOP && (o.v < 0 || o.v > 1))
			return -EINVAL;
	}
	squeue_call(squeue_local(), ipv6_opt_fn, &o);
	if (o.result == 0 && !set) {
		*outlen = MIN(*outlen, (int)sizeof(int));
		memcpy(out, &o.v, (size_t)*outlen);
	}
	return o.result;
}

/* IP_MTU / IPV6_MTU: the MTU of the route to a connected socket's peer (squeue context). */
struct mtu_req {
	struct udp_sock *us;
	int result;
};

static void mtu_fn(void *arg)
{
	struct mtu_req *m = arg;
	struct udp_pcb *pcb = m->us->pcb;
	if (!(pcb->flags & UDP_FLAGS_CONNECTED)) {
		m->result = -ENOTCONN;
		return;
	}
	ip_addr_t dst = pcb->remote_ip;
	struct netif *n;
	if (inet_route_ip(m->us->s, &dst, &n) < 0) {
		m->result = -ENOTCONN;           /* Linux: no dst, no MTU */
		return;
	}
	struct net_device *dev = stack_netif_dev(n);
	uint32_t mtu = dev ? dev->mtu : n->mtu;  /* lo: 65536, as Linux's dst_mtu */
	if (IP_IS_V6_VAL(dst) && netif_mtu6(n) < mtu && !(dev && (dev->flags & NETDEV_LOOPBACK)))
		mtu = netif_mtu6(n);
	m->result = (int)mtu;
}

/* IP_MTU_DISCOVER, IPV6_MTU_DISCOVER, IP_MTU, IPV6_MTU; -ENOPROTOOPT for any other option. */
static int pmtu_opt(struct socket *s, int level, int name, void *val, int *len, bool set)
{
	struct udp_sock *us = us_of(s);
	bool v4 = level == SOL_IP && (name == IP_MTU_DISCOVER_K || name == IP_MTU_K);
	bool v6 = level == SOL_IPV6 && s->family == AF_INET6 && (name == IPV6_MTU_DISCOVER_K || name == IPV6_MTU_K);
	if (!v4 && !v6)
		return -ENOPROTOOPT;
	bool mtu_opt = name == IP_MTU_K || name == IPV6_MTU_K;
	uint8_t *mode = v4 ? &us->pmtudisc4 : &us->pmtudisc6;
	int v;
	if (set) {
		if (mtu_opt)
			return v4 ? -ENOPROTOOPT : -EOPNOTSUPP;   /* IP_MTU is read-only; setting IPV6_MTU: not done */
		if (*len < (int)sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		if (v < PMTUDISC_DONT || v > PMTUDISC_OMIT)
			return -EINVAL;
		WRITE_ONCE(*mode, (uint8_t)v);
		return 0;
	}
	if (mtu_opt) {
		struct mtu_req m = { .us = us };
		squeue_call(squeue_local(), mtu_fn, &m);
		if (m.result < 0)
			return m.result;
		v = m.result;
	} else {
		v = READ_ONCE(*mode);
	}
	if (*len < 0)
		return -EINVAL;
	*len = MIN(*len, (int)sizeof(int));
	memcpy(val, &v, (size_t)*len);
	return 0;
}

static int udp_setsockopt(struct socket *s, int level, int name, const void *val, int len)
{
	int pe = pmtu_opt(s, level, name, (void *)val, &len, true);
	if (pe != -ENOPROTOOPT)
		return pe;
	int e = dgq_recverr_setsockopt(s, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	e = inet_cmsg_setsockopt(&us_of(s)->q.cmsg_flags, s->family, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	if (level == SOL_IPV6)
		return ipv6_opt(s, name, val, len, true, NULL, NULL);
	if (level == SOL_IP)
		return inet_setsockopt(s, ipopt_field, name, val, len);
	return -ENOPROTOOPT;                     /* Linux's ip_setsockopt for a level it does not know */
}

static int udp_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	int pe = pmtu_opt(s, level, name, val, len, false);
	if (pe != -ENOPROTOOPT)
		return pe;
	int e = dgq_recverr_getsockopt(s, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	e = inet_cmsg_getsockopt(READ_ONCE(us_of(s)->q.cmsg_flags), s->family, level, name, val, len);
	if (e != -ENOPROTOOPT)
		return e;
	if (level == SOL_IPV6)
		return ipv6_opt(s, name, NULL, 0, false, val, len);
	if (level == SOL_IP)
		return inet_getsockopt(s, ipopt_field, name, val, len);
	if (level == SOL_UDP)
		return -ENOPROTOOPT;
	return -EOPNOTSUPP;                      /* Linux's ip_getsockopt for a level it does not know */
}

/* /proc/net/udp and /proc/net/udp6: Linux's lines (udp4_format_sock, udp6_sock_seq_show) for the
 * AF_INET and AF_INET6 sockets, from lwIP's pcb list (stack lock; the reader's thread enters its
 * squeue). IPv4 addresses are the network-order word as the CPU prints it (127.0.0.1 is
 * 0100007F), each udp line padded to UDP4_LINE_WIDTH as Linux's seq_pad does. The slot is a
 * running number (Linux prints the socket's hash bucket), the pointer zeros (%pK restricted). */
#define UDP4_LINE_WIDTH 127
#define UDP4_HEADER "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout " \
		    "inode ref pointer drops"

struct udp_show_req {
	char *buf;
	size_t size, n;
	int family;
};

static void pad_line(struct udp_show_req *r, size_t start)
{
	while (r->n - start < UDP4_LINE_WIDTH && r->n + 1 < r->size)
		bufprintf(r->buf, r->size, &r->n, " ");
	bufprintf(r->buf, r->size, &r->n, "\n");
}

static void udp_show_fn(void *arg)
{
	struct udp_show_req *r = arg;
	int sl = 0;
	size_t start = r->n;
	if (r->family == AF_INET6) {
		bufprintf(r->buf, r->size, &r->n, "%s ref pointer drops\n", INET6_PROC_HEADER);
	} else {
		bufprintf(r->buf, r->size, &r->n, "%s", UDP4_HEADER);
		pad_line(r, start);
	}
	for (struct udp_pcb *pcb = udp_pcbs; pcb; pcb = pcb->next) {
		if (pcb->recv != udp_recv_cb)
			continue;
		struct udp_sock *us = pcb->recv_arg;
		if (us->s->family != r->family)
			continue;
		bool connected = pcb->flags & UDP_FLAGS_CONNECTED;
		unsigned st = connected ? 1 : 7;          /* TCP_ESTABLISHED, TCP_CLOSE */
		uint32_t rxq = (uint32_t)READ_ONCE(us->q.charged), drops = (uint32_t)READ_ONCE(us->q.drops);
		unsigned long ino = (unsigned long)inet_sock_ino(us->s);
		start = r->n;
		if (r->family == AF_INET) {
			uint32_t la = ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip));
			uint32_t ra = connected ? ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)) : 0;
			bufprintf(r->buf, r->size, &r->n,
				  "%5d: %08X:%04X %08X:%04X %02X %08X:%08X 00:00000000 00000000 %5u %8d %lu 2 0000000000000000 %u",
				  sl++, la, pcb->local_port, ra, connected ? pcb->remote_port : 0, st, 0u, rxq, 0u, 0,
				  ino, drops);
			pad_line(r, start);
			continue;
		}
		char la[INET_PROC_ADDR_LEN], ra[INET_PROC_ADDR_LEN];
		ip_addr_t remote = pcb->remote_ip;
		if (!connected)
			ip_addr_set_zero_ip6(&remote);
		inet_proc_addr(la, &pcb->local_ip, pcb->local_port);
		inet_proc_addr(ra, &remote, pcb->remote_port);
		bufprintf(r->buf, r->size, &r->n,
			  "%5d: %s %s %02X %08X:%08X 00:00000000 00000000 %5u %8d %lu 2 0000000000000000 %u\n", sl++, la, ra,
			  st, 0u, rxq, 0u, 0, ino, drops);
	}
}

static size_t udp_show(char *buf, size_t size, int family)
{
	struct udp_show_req r = { buf, size, 0, family };
	if (stack_ready())
		squeue_call(squeue_local(), udp_show_fn, &r);
	return r.n;
}

size_t udp6_proc_show(char *buf, size_t size) { return udp_show(buf, size, AF_INET6); }
size_t udp4_proc_show(char *buf, size_t size) { return udp_show(buf, size, AF_INET); }

const struct sock_ops udp_sock_ops = {
	.create = udp_create,
	.release = udp_release,
	.bind = udp_bind_op,
	.connect = udp_connect_op,
	.sendmsg = udp_sendmsg,
	.recvmsg = udp_recvmsg,
	.shutdown = udp_shutdown,
	.getname = udp_getname,
	.poll = dgq_poll,
	.setsockopt = udp_setsockopt,
	.getsockopt = udp_getsockopt,
	.ioctl = dgq_ioctl,
};
