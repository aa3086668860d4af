/*
 * Linux's ICMP rate limits on the ICMP and ICMPv6 errors lwIP sends itself.
 *
 * Theory. lwIP answers some packets with an error on its own: ip4_input a protocol nobody takes
 * (protocol unreachable), a reassembly that timed out (time exceeded); ip6_input an unknown next
 * header or bad option (parameter problem), ip6_frag's timeout (time exceeded), udp_input an IPv6
 * datagram to a closed port (port unreachable; the IPv4 one is net/udp_unreach.c's). Linux's
 * icmp_send / icmp6_send hold every such error to the rate limits of net/icmp_ratelimit.c, and so
 * must we, without editing lwIP's sources (third_party is Debian's, never patched): the kernel is
 * linked with ld's --wrap for each of lwIP's error senders (Makefile, LWIP_WRAP), so every call of
 * icmp_dest_unreach from another object file (ip4.c, udp.c, ip4_frag.c ...) lands in
 * __wrap_icmp_dest_unreach here, which asks icmp_rate_allow / icmp6_rate_allow and then calls
 * lwIP's own function as __real_icmp_dest_unreach, or drops the error (counted by the limiter as
 * Linux's OutRateLimitGlobal / OutRateLimitHost). lwIP never calls these senders inside icmp.c or
 * icmp6.c, so no error escapes the wrap. Packet too big and "fragmentation needed" are not limited
 * (Linux's masks), which the limiter decides.
 *
 * The error's destination is the offending packet's source: the IPv4 header p->payload points at
 * (lwIP rewinds p to it before calling), the current IPv6 packet's source for a direct response,
 * or the explicit one ip6_frag passes. The interface is the one the packet came in on (NULL from a
 * timer: not lo), which both decides lo's exemption and, for IPv6, the route's prefix length.
 *
 * Context: as lwIP's senders, squeue context with the stack lock held (net/stack.h).
 */
#include "net/icmp_ratelimit.h"
#include "lib/string.h"
#include "lwip/icmp.h"
#include "lwip/icmp6.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/prot/ip4.h"

#define ICMP_DEST_UNREACH_TYPE 3
#define ICMP_TIME_EXCEEDED_TYPE 11
#define ICMP6_PLEN_ON_LINK 64            /* lwIP's prefixes are /64 (ip6_addr_netcmp) */
#define ICMP6_PLEN_DEFAULT 0             /* through the default router: ::/0 */

void __real_icmp_dest_unreach(struct pbuf *p, enum icmp_dur_type t);
void __real_icmp_time_exceeded(struct pbuf *p, enum icmp_te_type t);
void __real_icmp6_dest_unreach(struct pbuf *p, enum icmp6_dur_code c);
void __real_icmp6_time_exceeded(struct pbuf *p, enum icmp6_te_code c);
void __real_icmp6_time_exceeded_with_addrs(struct pbuf *p, enum icmp6_te_code c, const ip6_addr_t *src_addr,
					   const ip6_addr_t *dest_addr);
void __real_icmp6_param_problem(struct pbuf *p, enum icmp6_pp_code c, const void *pointer);

void __wrap_icmp_dest_unreach(struct pbuf *p, enum icmp_dur_type t);
void __wrap_icmp_time_exceeded(struct pbuf *p, enum icmp_te_type t);
void __wrap_icmp6_dest_unreach(struct pbuf *p, enum icmp6_dur_code c);
void __wrap_icmp6_time_exceeded(struct pbuf *p, enum icmp6_te_code c);
void __wrap_icmp6_time_exceeded_with_addrs(struct pbuf *p, enum icmp6_te_code c, const ip6_addr_t *src_addr,
					   const ip6_addr_t *dest_addr);
void __wrap_icmp6_param_problem(struct pbuf *p, enum icmp6_pp_code c, const void *pointer);

/* May an ICMP error of type/code about the IPv4 packet p (payload at its header) be sent? */
static bool allow4(struct pbuf *p, uint8_t type, uint8_t code)
{
	if (!p || p->len < IP_HLEN)
		return true;                     /* lwIP will not send it either */
	struct ip_hdr iph;
	memcpy(&iph, p->payload, sizeof(iph));
	struct netif *in = ip_current_input_netif();
	/* the error goes back through the interface the packet came in on (lo for our own) */
	return icmp_rate_allow(type, code, iph.src.addr, in, in);
}

/* Is dst on the link of one of our addresses' /64s? (Linux: the route's prefix length) */
static int route_plen6(const ip6_addr_t *dst)
{
	struct netif *n;
	NETIF_FOREACH(n) {
		for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
			if (ip6_addr_isvalid(netif_ip6_addr_state(n, i)) &&
			    ip6_addr_netcmp_zoneless(netif_ip6_addr(n, i), dst))
				return ICMP6_PLEN_ON_LINK;
	}
	return ICMP6_PLEN_DEFAULT;
}

static bool allow6(const ip6_addr_t *dst, uint8_t type)
{
	if (!dst)
		return true;
	return icmp6_rate_allow(type, dst->addr, route_plen6(dst), ip_current_input_netif());
}

void __wrap_icmp_dest_unreach(struct pbuf *p, enum icmp_dur_type t)
{
	if (allow4(p, ICMP_DEST_UNREACH_TYPE, (uint8_t)t))
		__real_icmp_dest_unreach(p, t);
}

void __wrap_icmp_time_exceeded(struct pbuf *p, enum icmp_te_type t)
{
	if (allow4(p, ICMP_TIME_EXCEEDED_TYPE, (uint8_t)t))
		__real_icmp_time_exceeded(p, t);
}

void __wrap_icmp6_dest_unreach(struct pbuf *p, enum icmp6_dur_code c)
{
	if (allow6(ip6_current_src_addr(), ICMP6_TYPE_DUR))
		__real_icmp6_dest_unreach(p, c);
}

void __wrap_icmp6_time_exceeded(struct pbuf *p, enum icmp6_te_code c)
{
	if (allow6(ip6_current_src_addr(), ICMP6_TYPE_TE))
		__real_icmp6_time_exceeded(p, c);
}

void __wrap_icmp6_time_exceeded_with_addrs(struct pbuf *p, enum icmp6_te_code c, const ip6_addr_t *src_addr,
					   const ip6_addr_t *dest_addr)
{
	if (allow6(src_addr, ICMP6_TYPE_TE))
		__real_icmp6_time_exceeded_with_addrs(p, c, src_addr, dest_addr);
}

void __wrap_icmp6_param_problem(struct pbuf *p, enum icmp6_pp_code c, const void *pointer)
{
	if (allow6(ip6_current_src_addr(), ICMP6_TYPE_PP))
		__real_icmp6_param_problem(p, c, pointer);
}
