/*
 * Control messages of internet datagram sockets (net/inet_cmsg.c): what a received datagram's IP
 * header said (destination, interface, TTL / hop limit, TOS / traffic class), handed to recvmsg
 * as Linux's IP_PKTINFO, IP_TTL, IP_TOS, IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS (and RFC 2292's
 * IPV6_2292PKTINFO / IPV6_2292HOPLIMIT) messages when the socket asked for them with the options
 * of the same names; and on sendmsg the IP_PKTINFO / IPV6_PKTINFO message that chooses the source
 * address (and interface) of one datagram.
 *
 * Users: UDP (net/sock_udp.c), ICMP raw and ping sockets (net/sock_raw.c, net/sock_icmp6.c),
 * through the datagram queue (net/sock_dgram.c), which stores a struct inet_rx_info with each
 * datagram and the socket's request flags (struct dgram_queue.cmsg_flags).
 *
 * Context: inet_rx_info_capture runs in an lwIP receive callback (squeue context, stack lock
 * held: it reads lwIP's ip_data); the rest in thread context with no lock held (user memory).
 */
#ifndef NET_INET_CMSG_H
#define NET_INET_CMSG_H
#include "net/socket.h"
#include "lwip/ip_addr.h"

/* Linux's option names (and cmsg types) */
#define IP_PKTINFO 8
#define IP_RECVTTL 12
#define IP_RECVTOS 13
#define IPV6_2292PKTINFO 2
#define IPV6_2292HOPLIMIT 8
#define IPV6_PKTINFO 50
#define IPV6_RECVHOPLIMIT 51
#define IPV6_HOPLIMIT 52
#define IPV6_RECVTCLASS 66

/* struct dgram_queue.cmsg_flags: what recvmsg reports */
#define CM_IP_PKTINFO     0x001
#define CM_IP_TTL         0x002
#define CM_IP_TOS         0x004
#define CM_IP6_PKTINFO    0x010
#define CM_IP6_HOPLIMIT   0x020
#define CM_IP6_TCLASS     0x040
#define CM_IP6_2292PKTINFO 0x080
#define CM_IP6_2292HOPLIMIT 0x100

/* What a received datagram's IP header said. */
struct inet_rx_info {
	bool valid;                  /* captured (false: AF_PACKET, or none) */
	bool v6;                     /* an IPv6 header (else IPv4) */
	bool errq;                   /* an ICMP error's, on the error queue: IP_PKTINFO's ipi_spec_dst is 0 */
	uint8_t ttl;                 /* TTL / hop limit */
	uint8_t tos;                 /* TOS / traffic class */
	uint32_t ifindex;            /* the interface it came in on (0: unknown) */
	uint8_t dst[16];             /* the header's destination: IPv6, or IPv4 in the first 4 bytes */
};

/* In an lwIP receive callback (stack lock held): the current packet's header. */
void inet_rx_info_capture(struct inet_rx_info *i);

/* setsockopt/getsockopt of the request options above on a socket of family (levels SOL_IP,
 * SOL_IPV6: the latter only on AF_INET6 sockets). -ENOPROTOOPT when name is not one of them (the
 * caller goes on with its own options); else 0 or -EINVAL. */
int inet_cmsg_setsockopt(unsigned *flags, int family, int level, int name, const void *val, int len);
int inet_cmsg_getsockopt(unsigned flags, int family, int level, int name, void *val, int *len);
/* A boolean or small int option's value as Linux's ip_setsockopt / ipv6_setsockopt read it (SOL_IP
 * also takes one byte, or nothing as 0; else an int): 0 or -EINVAL. And the answer getsockopt
 * writes (SOL_IP answers one byte to a shorter buffer): 0 or -EINVAL for a negative *len. */
int inet_opt_get_int(int level, const void *val, int len, int *v);
int inet_opt_put_int(int level, int v, void *val, int *len);

/* recvmsg: append the messages flags asks for, for a datagram with info i, to m's control
 * buffer as Linux's put_cmsg lays them out (m->control_out grows; what does not fit sets
 * MSG_CTRUNC in m->flags). 0 or -EFAULT. */
int inet_cmsg_put(struct sock_msg *m, unsigned flags, int family, const struct inet_rx_info *i);

/* The error queue's message (net/sock_errq.c: IP_RECVERR is net/socket.h's) */
#define IPV6_RECVERR_K 25

/* sendmsg: the IP_PKTINFO, IP_TTL, IP_TOS (AF_INET) or IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS
 * (AF_INET6) of m's control buffer. */
struct inet_tx_info {
	bool has_src;                /* a source address was chosen */
	ip_addr_t src;               /* IPv4 for a v4-mapped or AF_INET one */
	unsigned ifindex;            /* 0: route decides */
	int ttl;                     /* TTL / hop limit of this datagram, unicast or multicast; -1: the socket's */
	int tos;                     /* TOS / traffic class; -1: the socket's */
	/* An AF_INET6 socket's SOL_IP IP_TTL / IP_TOS messages (-1: none), which only a v4-mapped
	 * datagram takes (Linux's ip_cmsg_send in udp_sendmsg), and the error they or another SOL_IP
	 * message (other than IP_PKTINFO, ignored) make such a send fail with (0: none). */
	int ttl4, tos4, err4;
};
/* 0, -EINVAL (a malformed message, or an IP-level one Ember does not know), -EFAULT, -ENOBUFS. */
int inet_cmsg_parse(const struct sock_msg *m, int family, struct inet_tx_info *t);
/* Squeue context: check t's source is ours and pick the interface (*n is the route's and may be
 * replaced by t's ifindex). 0, -ENETUNREACH (IPv4) or -EINVAL (IPv6) for a foreign source, -ENODEV for an unknown ifindex. */
struct netif;
int inet_tx_info_check(const struct inet_tx_info *t, struct netif **n);
/* Squeue context, around one send: put t's TTL / TOS (if given) into the pcb's fields (ttl,
 * mcast_ttl, tos), keeping the socket's in *saved; inet_tx_restore puts them back. */
struct inet_tx_saved { uint8_t ttl, mcast_ttl, tos; };
void inet_tx_override(const struct inet_tx_info *t, uint8_t *ttl, uint8_t *mcast_ttl, uint8_t *tos,
		      struct inet_tx_saved *saved);
void inet_tx_restore(const struct inet_tx_saved *saved, uint8_t *ttl, uint8_t *mcast_ttl, uint8_t *tos);

#endif
