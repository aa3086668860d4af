/*
 * What the datagram sockets share (UDP: net/sock_udp.c; ICMP raw and ping sockets: net/sock_raw.c;
 * AF_PACKET: net/sock_packet.c; AF_NETLINK: net/netlink/): the receive queue of whole datagrams bounded by SO_RCVBUF, the
 * blocking recvmsg over it, poll, FIONREAD, shutdown's flags, and the IP-level options and address
 * rules of the two AF_INET kinds. Theory in net/sock_dgram.c.
 *
 * Convention: a datagram socket's protocol state (s->proto) starts with its struct dgram_queue,
 * so the helpers below find the queue from the socket alone.
 */
#ifndef NET_SOCK_DGRAM_H
#define NET_SOCK_DGRAM_H
#include "net/socket.h"
#include "lib/list.h"
#include "lwip/ip_addr.h"
#include "net/inet_cmsg.h"

struct pbuf;
struct netif;

/* Linux's net.core.rmem_default and wmem_default: every non-TCP socket starts with them. */
#define DGRAM_BUF_DEFAULT 212992
/* What a queued datagram costs against SO_RCVBUF besides its payload: Linux charges an skb's
 * truesize, which for a small datagram is about this much more than the payload. The number of
 * datagrams a full queue holds is therefore close to Linux's, not equal to it. */
#define DGRAM_OVERHEAD 768

/* One received datagram. */
struct dgram {
	struct list_head node;      /* on the queue (s->lock) */
	struct pbuf *p;             /* the chain lwIP handed over (its bytes are the payload), or NULL */
	uint32_t len;               /* payload bytes */
	uint32_t charge;            /* counted against SO_RCVBUF while queued */
	int addrlen;                /* of addr: the source as recvfrom reports it */
	union {
		struct sockaddr_in_k in;
		struct sockaddr_in6_k in6;
		struct sockaddr_ll_k ll;
		struct sockaddr_nl_k nl;
	} addr;
	struct inet_rx_info info;   /* its IP header, for control messages (info.valid: captured) */
	uint8_t data[];             /* the payload when p is NULL */
};

/* An ICMP error queued for recvmsg(MSG_ERRQUEUE) (IP_RECVERR, IPV6_RECVERR: net/sock_errq.c):
 * Linux's sock_extended_err, the sender of the ICMP message (the offender), the failed datagram's
 * destination and port and the part of its payload the ICMP message quoted. Family-neutral: the
 * reader's socket family decides how it is reported. */
#define MSG_ERRQUEUE_K 0x2000        /* Linux's MSG_ERRQUEUE */
#define SO_EE_ORIGIN_LOCAL_K 1
#define SO_EE_ORIGIN_ICMP_K 2
#define SO_EE_ORIGIN_ICMP6_K 3
struct sock_ee_k {                   /* struct sock_extended_err */
	uint32_t ee_errno;
	uint8_t ee_origin, ee_type, ee_code, ee_pad;
	uint32_t ee_info, ee_data;
};
struct dgram_err {
	struct list_head node;       /* on dgram_queue.errq (s->lock) */
	struct sock_ee_k ee;
	ip_addr_t offender;          /* the ICMP message's source */
	ip_addr_t dst;               /* the failed datagram's destination: msg_name of the error's recvmsg */
	uint16_t port;               /* its destination port (host order; 0 for ping sockets) */
	struct inet_rx_info info;    /* the ICMP message's IP header (not valid for a local error) */
	uint32_t len, charge;
	uint8_t data[];
};

struct dgram_queue {
	struct list_head list;      /* s->lock: struct dgram, oldest first */
	size_t charged;             /* s->lock: sum of the queued datagrams' charge */
	uint64_t received, drops;   /* s->lock: datagrams queued / dropped (queue full or no memory), ever */
	bool shut_rd, shut_wr;      /* s->lock: shutdown() */
	unsigned cmsg_flags;        /* CM_* (net/inet_cmsg.h): control messages recvmsg reports (READ_ONCE) */
	struct list_head errq;      /* s->lock: struct dgram_err, oldest first (charged like datagrams) */
	bool recverr, recverr6;     /* IP_RECVERR, IPV6_RECVERR (READ_ONCE) */
};

/* ---- the queue (any context unless noted; none of them may be called with s->lock held) ---- */
void dgq_init(struct dgram_queue *q);
/* A datagram holding len bytes of its own (d->data), or wrapping the pbuf chain p (whose payload
 * is the datagram; the dgram owns the reference). NULL without memory (p is then not freed). */
struct dgram *dgram_new(size_t len);
struct dgram *dgram_new_pbuf(struct pbuf *p);
void dgram_free(struct dgram *d);
/* A cheap hint for callbacks, before they copy a datagram: true when the queue is over SO_RCVBUF
 * (the datagram would be dropped). */
bool dgq_full(struct socket *s);
/* Queue d (or drop and free it when the queue is over SO_RCVBUF, as Linux drops), wake readers. */
bool dgq_push(struct socket *s, struct dgram *d);
void dgq_count_drop(struct socket *s);          /* a datagram lost before it was a struct dgram */
/* recvmsg (thread context): with MSG_ERRQUEUE the oldest queued ICMP error (never blocks: -EAGAIN
 * when none; msg_name its datagram's destination, an IPV6_RECVERR message, MSG_ERRQUEUE in
 * m->flags; the pending error becomes the next one's, or none, as Linux's sock_dequeue_err_skb).
 * Otherwise the pending error first, then the oldest datagram: MSG_PEEK leaves it
 * queued, MSG_TRUNC returns its real length, m->flags gets MSG_TRUNC when it did not fit, m->addr
 * its source, m's control buffer the messages cmsg_flags asks for (inet sockets). Blocks (SO_RCVTIMEO, signals) unless nonblock; after SHUT_RD an empty queue gives 0
 * (EAGAIN when non-blocking), as Linux does. */
long dgq_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock);
unsigned dgq_poll(struct socket *s);            /* Linux's datagram_poll; always writable */
/* FIONREAD (size of the next datagram) and SIOCOUTQ (0: sends never queue); -ENOTTY otherwise. */
long dgq_ioctl(struct socket *s, unsigned long cmd, unsigned long arg);
/* shutdown(): record how (readers and writers see it), wake; -ENOTCONN when !connected, the
 * flags set all the same (Linux's inet_shutdown). */
int dgq_shutdown(struct socket *s, int how, bool connected);
bool dgq_shut_wr(struct socket *s);
void dgq_flush(struct socket *s);               /* release: free what is queued (no callback can run) */

/* ---- the error queue (net/sock_errq.c) ---- */
/* An ICMP message (its first 8 bytes) as Linux's __udp4_lib_err / icmpv6_err_convert see it: the
 * errno (0: not an error a socket is told of), *fatal (reported to a connected socket without
 * IP_RECVERR / IPV6_RECVERR) and the sock_extended_err's ee_info (MTU, pointer). */
int icmp_err_convert(const uint8_t icmp[8], uint32_t *info, bool *fatal);
int icmp6_err_convert(const uint8_t icmp[8], uint32_t *info, bool *fatal);
/* The source and destination (zoneless) of the IPv6 header an ICMPv6 error quotes. */
void icmp6_quoted_addrs(const uint8_t *ip6, ip_addr_t *src, ip_addr_t *dst);
/* Did s ask for the errors of dst's family (IP_RECVERR for IPv4, IPV6_RECVERR for IPv6)? */
bool dgq_wants_errors(struct socket *s, const ip_addr_t *dst);
/* In an ICMP error listener (squeue context, stack lock held; the current packet is the ICMP
 * message, p from its IP header): tell s of error err about its datagram to dst:port. If s wants
 * errors of dst's family, queue it (the quoted payload: p's bytes from at; the offender: the
 * current packet's source) and make it the pending error (Linux's ip_icmp_error /
 * ipv6_icmp_error + sk_err; dropped when the queue is over SO_RCVBUF, the pending error still
 * set); otherwise only a fatal error of a connected socket becomes its pending error. Wakes. */
void dgq_icmp_error(struct socket *s, int err, bool fatal, bool connected, const uint8_t icmp[8], uint32_t info,
		    const ip_addr_t *dst, uint16_t port, struct pbuf *p, uint16_t at);
/* A send s's stack refused (any context, no lock held): with errors of dst's family asked for,
 * queue a SO_EE_ORIGIN_LOCAL error err (ee_info info) about a datagram to dst:port and make it
 * the pending error (Linux's ip_local_error / ipv6_local_error); otherwise nothing. */
void dgq_local_error(struct socket *s, int err, const ip_addr_t *dst, uint16_t port, uint32_t info);
/* recvmsg(MSG_ERRQUEUE) (thread context, rx_lock held): the oldest error, -EAGAIN when none;
 * msg_name its datagram's destination and an IP_RECVERR (AF_INET) or IPV6_RECVERR (AF_INET6)
 * message in the socket's family's form, after the control messages the socket asked for about
 * an ICMP error's packet; the pending error becomes the next one's, or none. */
long dgq_recv_err(struct socket *s, struct sock_msg *m);
/* SOL_IP IP_RECVERR (both families) and SOL_IPV6 IPV6_RECVERR (AF_INET6); turning one off purges
 * the queue. -ENOPROTOOPT for other options (the caller goes on with its own). */
int dgq_recverr_setsockopt(struct socket *s, int level, int name, const void *val, int len);
int dgq_recverr_getsockopt(struct socket *s, int level, int name, void *val, int *len);

/* ---- AF_INET datagram sockets (UDP, raw, ping) ---- */
/* bind()'s address: -EINVAL for a short one, -EAFNOSUPPORT for another family (AF_UNSPEC with
 * INADDR_ANY passes, as on Linux); host order out. */
int inet_bind_addr(const struct sockaddr_k *a, int len, uint32_t *addr, uint16_t *port);
/* Where a datagram to addr goes (stack lock held): 0 with the netif, or -EACCES for a broadcast
 * without SO_BROADCAST, -ENETUNREACH without a route. */
int inet_route(struct socket *s, uint32_t addr, struct netif **out);
/* SOL_IP options IP_TTL and IP_TOS (thread context: it enters an squeue). field(s, name) gives the
 * socket's pcb's ttl or tos field; it is called there, with the stack lock held. -ENOPROTOOPT for
 * other names. */
typedef uint8_t *(*inet_opt_field_fn)(struct socket *s, int name);
/* What an AF_INET datagram socket hands its protocol's squeue functions (connect, disconnect,
 * send): the socket, the destination and the datagram; they answer in result. */
struct inet_dgram_req {
	struct socket *s;
	uint32_t addr;                   /* host order (IPv4 only: the raw and ping sockets use it) */
	ip_addr_t ip;                    /* the same address as lwIP takes it, of either family (UDP) */
	uint16_t port;
	bool has_addr;                   /* send: an address was given (else the connected peer) */
	struct pbuf *p;                  /* send: the datagram */
	size_t len;
	long result;                     /* -errno, 0, or bytes sent */
};
/* connect(): AF_UNSPEC runs disconnect, an address of the socket's family connect (r->addr or
 * r->ip, r->port set; net/inet_addr.h for AF_INET6's), on the local squeue. Returns r->result, or
 * the address's error (-EINVAL, -EAFNOSUPPORT). */
int inet_dgram_connect(struct inet_dgram_req *r, const struct sockaddr_k *a, int len, void (*connect)(void *),
		       void (*disconnect)(void *));
/* The destination of a sendmsg: none (then the socket must be connected: else -EDESTADDRREQ), or
 * an AF_INET address (or AF_UNSPEC if allow_unspec, as UDP and raw sockets take it), which sets
 * r->addr, r->ip, r->port, r->has_addr; on an AF_INET6 socket a sockaddr_in6 (AF_UNSPEC: none).
 * 0, -EINVAL for a short address, -EAFNOSUPPORT. */
int inet_dgram_dest(struct inet_dgram_req *r, const struct sock_msg *m, bool connected, bool allow_unspec);
int inet_setsockopt(struct socket *s, inet_opt_field_fn field, int name, const void *val, int len);
/* Where a datagram to dst (either family) goes (stack lock held): inet_route's rules for IPv4; an
 * IPv6 destination takes lwIP's route and, if it is link-local without a zone, that route's zone.
 * -ENETUNREACH without a route. */
int inet_route_ip(struct socket *s, ip_addr_t *dst, struct netif **out);
int inet_getsockopt(struct socket *s, inet_opt_field_fn field, int name, void *val, int *len);

#endif
