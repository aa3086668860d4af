/*
 * What the ICMP sockets of both families share (net/sock_icmp_core.c): raw (SOCK_RAW) and ping
 * (SOCK_DGRAM) sockets over one lwIP raw pcb each, IPv4's in net/sock_raw.c and ICMPv6's in
 * net/sock_icmp6.c. The state below, the echo identifiers of ping sockets (one space per family),
 * create / release, connect(AF_UNSPEC), and the recvmsg / shutdown / ioctl operations.
 *
 * Locks: the pcb, the identifiers and the lists of ping sockets live under the stack lock (the
 * *_fn functions run in squeue context); the peer as getpeername reports it under s->lock.
 */
#ifndef NET_SOCK_ICMP_CORE_H
#define NET_SOCK_ICMP_CORE_H
#include "net/sock_dgram.h"
#include "lwip/raw.h"

#define ICMP6_FILTER_WORDS 8         /* struct icmp6_filter: 256 bits, a set bit blocks the type */

struct icmp_sock {
	struct dgram_queue q;            /* first (net/sock_dgram.h) */
	struct socket *s;
	struct raw_pcb *pcb;             /* stack lock */
	bool ping;                       /* SOCK_DGRAM: a ping socket (fixed) */
	/* stack lock */
	uint16_t ident;                  /* ping: the echo identifier ("port"); 0 until bound */
	bool ident_bound, addr_bound;    /* bind() chose them (connect(AF_UNSPEC) keeps them) */
	bool addr_from_connect;
	struct list_head ping_node;      /* on their family's icmp_idents: ping sockets .socks, raw .raws */
	uint32_t filter[ICMP6_FILTER_WORDS];   /* ICMPv6 raw sockets: ICMP6_FILTER */
	/* s->lock (written with the stack lock held too) */
	bool connected;
	ip_addr_t peer;                  /* as connect() gave it */
	uint16_t peer_port;              /* Linux keeps it as inet_dport */
};

/* One family's ping identifiers (stack lock). */
struct icmp_idents {
	struct list_head socks;          /* its ping sockets */
	uint16_t rover;
	struct list_head raws;           /* its raw sockets (the ICMP error listener walks them) */
};
#define ICMP_IDENTS_INIT(x) { LIST_HEAD_INIT((x).socks), 0, LIST_HEAD_INIT((x).raws) }

static inline struct icmp_sock *icmp_sock_of(struct socket *s) { return s->proto; }
bool icmp_sock_connected(struct icmp_sock *is);

/* Squeue context: an unused identifier for an unbound ping socket (Linux's autobind; 0 for raw
 * sockets and bound ones), -EAGAIN when none is left. */
int icmp_ping_autobind(struct icmp_sock *is, struct icmp_idents *ids);

/* create(): the socket's state, then create_fn(is) in squeue context, which makes is->pcb (NULL:
 * no memory) and calls icmp_sock_attach. 0 or -ENOMEM. */
int icmp_sock_create(struct socket *s, void (*create_fn)(void *));
/* Squeue context: is's pcb delivers to recv; it joins ids (socks or raws). */
void icmp_sock_attach(struct icmp_sock *is, raw_recv_fn recv, struct icmp_idents *ids);
/* release(): the pcb removed (no callback can reach is after it), the queue flushed, is freed. */
void icmp_sock_release(struct socket *s);
/* Squeue context, bind(): to a (ours or the wildcard: else -EADDRNOTAVAIL), a ping socket to
 * identifier port (0: an unused one; -EINVAL once it has one). 0 or -errno. */
int icmp_sock_bind(struct icmp_sock *is, const ip_addr_t *a, uint16_t port, struct icmp_idents *ids);
/* Squeue context, connect(): to *dst (the wildcard means this host; *dst may get the route's
 * zone), port kept for getpeername; binds the route's source address if unbound, a ping socket
 * an identifier. 0 or -errno (the route's, -EAGAIN, -EADDRNOTAVAIL). */
int icmp_sock_connect(struct icmp_sock *is, ip_addr_t *dst, uint16_t port, struct icmp_idents *ids);
/* Squeue context, connect(AF_UNSPEC): forget the peer, a local address connect chose and an
 * identifier bind did not give. */
void icmp_sock_disconnect(struct icmp_sock *is);

long icmp_sock_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock);
int icmp_sock_shutdown(struct socket *s, int how);
long icmp_sock_ioctl(struct socket *s, unsigned long cmd, unsigned long arg);

#endif
