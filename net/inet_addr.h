/*
 * Internet socket addresses of either family (net/inet_addr.c): the translation between what
 * users pass (struct sockaddr_in, struct sockaddr_in6) and lwIP's ip_addr_t, which carries its
 * family (IPADDR_TYPE_V4 / V6, or ANY for a dual-stack wildcard) and, for IPv6 link-local
 * addresses, a zone (lwIP's netif index; users speak ifindexes: sin6_scope_id).
 *
 * AF_INET6 sockets are dual-stack as on Linux: an IPv4 peer or local address is the v4-mapped
 * ::ffff:a.b.c.d in every sockaddr_in6 the user sees, and a v4-mapped address the user gives is
 * an IPv4 ip_addr_t inside (so lwIP's IPv4 path carries it). IPV6_V6ONLY refuses them.
 *
 * Context: the sockaddr conversions run in any thread context (no lock). The zone conversions
 * walk lwIP's netif list, which is fixed once the stack is up (interfaces are added at boot and
 * never removed): they may run without the stack lock.
 */
#ifndef NET_INET_ADDR_H
#define NET_INET_ADDR_H
#include "net/socket.h"
#include "lwip/ip_addr.h"

/* What the user gave: family rules of the socket's family (AF_INET: a sockaddr_in; AF_INET6: a
 * sockaddr_in6 of at least SIN6_LEN_RFC2133 bytes); -EINVAL for a short one, -EAFNOSUPPORT for
 * another family. *addr comes out zoned (scope id -> zone) and v4-mapped addresses as IPv4 with
 * *mapped set (mapped may be NULL). port in host order. allow_unspec: AF_UNSPEC counts as the
 * socket's family (bind's INADDR_ANY rule and sendto's are the callers'). */
int inet_sockaddr_get(int family, const struct sockaddr_k *a, int len, ip_addr_t *addr, uint16_t *port,
		      bool *mapped);
/* The sockaddr a socket of family reports for addr:port (IPv4 addresses v4-mapped on AF_INET6,
 * the scope id from the zone of a link-local one). */
void inet_sockaddr_set(int family, struct sockaddr_k *a, int *len, const ip_addr_t *addr, uint16_t port);

/* The wildcard a socket of family binds to: IPv4 0.0.0.0, or for AF_INET6 the dual-stack any
 * (IPADDR_TYPE_ANY) or, v6only, IPv6's ::. */
void inet_addr_any(int family, bool v6only, ip_addr_t *out);

/* May a socket bind to a (stack lock held): the wildcards, our IPv4 addresses as
 * stack_addr_local says, ::1 and our interfaces' IPv6 addresses, and multicast. */
bool inet_addr_local(const ip_addr_t *a);

/* Zones: lwIP netif index <-> the interface's ifindex (0 for none / unknown). */
unsigned inet_zone_of_ifindex(unsigned ifindex);
unsigned inet_ifindex_of_zone(unsigned zone);

/* A 16-byte IPv6 form of a (v4-mapped for IPv4; network order), for /proc and flow records. */
void inet_addr_to16(const ip_addr_t *a, uint8_t out[16]);

/* /proc/net/tcp6 and udp6's "<32 hex>:<4 hex>" for addr:port (Linux prints each 32-bit word of
 * the address as the CPU holds it, little-endian here). out: INET_PROC_ADDR_LEN bytes. */
#define INET_PROC_ADDR_LEN 38
void inet_proc_addr(char *out, const ip_addr_t *addr, uint16_t port);
/* The column header both files share, and the inode number of a socket's file (0 without one). */
#define INET6_PROC_HEADER "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
struct socket;
uint64_t inet_sock_ino(struct socket *s);

/* The flow-table key fields of an address (net/flow.h: IPv4 host order, IPv6 folded). */
uint32_t inet_addr_flow(const ip_addr_t *a);

#endif
