/*
 * IPv6 on the stack's interfaces (net/stack6.c): lo's ::1, every NIC's link-local address,
 * neighbour discovery, SLAAC and MLD, all lwIP's own; this module sets them up and routes
 * IPv6 output (our own addresses through lo, the rest through ND to the wire).
 *
 * Context: everything here runs under the stack lock (squeue context), called from net/stack.c.
 */
#ifndef NET_STACK6_H
#define NET_STACK6_H
#include "kernel/types.h"
#include "lwip/netif.h"
#include "lwip/err.h"

/* From lo's netif init: ::1 and lo's IPv6 output. */
void stack6_lo_init(struct netif *n);
/* From a NIC's netif init: IPv6 output, MLD, and dev's multicast list (the all-nodes group, then
 * every group MLD joins). */
struct net_device;
void stack6_nic_init(struct netif *n, struct net_device *dev);
/* After netif_add of a NIC: the device's MTU for IPv6 (tso6_max, the device's TSO limit, when it does
 * TSO6, else 0: net/stack6.c); with autoconf (not ip=off, which keeps the
 * stack silent) a link-local address from the MAC (DAD, router solicitation) and SLAAC on. */
void stack6_nic_up(struct netif *n, unsigned dev_mtu, unsigned tso6_max, bool autoconf);
/* IPv6's MTU is the device's, or its TSO limit (tso6_max) on a TSO6 device (lwIP resets it to netif->mtu when
 * the link changes). */
void stack6_set_mtu(struct netif *n, unsigned dev_mtu, unsigned tso6_max);
/* Is a (an IPv6 address) one of our interfaces' valid or tentative addresses (or ::1)? */
bool stack6_addr_local(const ip6_addr_t *a);

/* /proc/net/if_inet6 and /proc/net/ipv6_route in Linux's formats (thread context). */
size_t stack6_show_if_inet6(char *buf, size_t size);
size_t stack6_show_ipv6_route(char *buf, size_t size);
/* Every interface's IPv6 addresses (rtnetlink's RTM_GETADDR), at most max: how many (thread context). */
struct stack6_addr {
	uint8_t addr[16];
	int ifindex;
	uint8_t plen, scope, flags;     /* prefix length, Linux's RT_SCOPE_* value, IFA_F_* */
};
int stack6_addrs(struct stack6_addr *out, int max);

/* net/stack.c: copy p and deliver it through lo (the squeue of its flow). */
err_t stack_loop_output(struct pbuf *p);

#endif
