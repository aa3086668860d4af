/*
 * Rate limits of the ICMP errors Ember sends (net/icmp_ratelimit.c): Linux's icmp_ratelimit /
 * icmp_ratemask per destination and the global icmp_msgs_per_sec / icmp_msgs_burst, set through
 * /proc/sys/net/ipv4/{icmp_ratelimit, icmp_ratemask, icmp_msgs_per_sec, icmp_msgs_burst}.
 */
#ifndef NET_ICMP_RATELIMIT_H
#define NET_ICMP_RATELIMIT_H
#include <stdint.h>
#include <stdbool.h>

struct netif;

/* Squeue context, stack lock held: may an ICMP message of type/code go to dst (network order)
 * through out, about a packet that came in through in (NULL: unknown)? Linux's icmp_send order:
 * types outside the mask (and path MTU's "fragmentation needed") always pass; the global bucket
 * unless the packet came in on lo; the destination's bucket unless out is lo. A message that
 * passes is charged to the global bucket. */
bool icmp_rate_allow(uint8_t type, uint8_t code, uint32_t dst, struct netif *in, struct netif *out);

/* The same for an ICMPv6 error of type to dst (network order words), a destination reached through
 * a route of prefix length plen (64 on link, 0 through the default router), about a packet that
 * came in through in: Linux's icmp6_send order (net.ipv6.icmp.ratelimit). */
bool icmp6_rate_allow(uint8_t type, const uint32_t dst[4], int plen, struct netif *in);

#endif
