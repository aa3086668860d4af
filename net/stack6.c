/*
 * IPv6 on the stack's interfaces (interface: net/stack6.h; the stack itself: net/stack.c).
 *
 * lwIP does the protocol: ND (neighbour solicitation/advertisement, router solicitation at link
 * up, the neighbour and destination caches), SLAAC (LWIP_IPV6_AUTOCONFIG: a router advertisement's
 * prefix with the A flag gives an address from the MAC's EUI-64; QEMU's user networking advertises
 * fec0::/64), duplicate address detection, MLD reports for the groups lwIP joins (solicited-node
 * groups of each address), fragmentation and reassembly. This module wires it to Ember:
 *
 *   - lo has ::1 (valid at once, no DAD on lo); its IPv6 output re-enters the squeues as IPv4's does.
 *   - each NIC gets fe80::/64 from its MAC (netif_create_ip6_linklocal_address, EUI-64) and
 *     router solicitation; its IPv6 output sends our own addresses through lo and the rest through
 *     ethip6_output (ND resolves the MAC).
 *   - IPv6 MTU: a TSO device's netif has a big mtu so IPv4 TCP segments pass down whole; IPv6 has
 *     no TSO here, so netif->mtu6 (what ip6_output fragments by, and what TCP's MSS comes from)
 *     is the device's real MTU.
 *   - Multicast reception: the drivers accept all multicast rather than program their filters
 *     from MLD joins (lwIP joins and leaves groups without a driver hook): e1000 sets RCTL.MPE,
 *     RTL8139 sets RCR.AM with every MAR hash bit; virtio-net negotiates no VIRTIO_NET_F_CTRL_RX,
 *     and a device without it delivers every frame (the virtio spec: filtering is only commanded
 *     through the control queue; QEMU starts promiscuous). Groups we did not join are dropped by
 *     ip6_input. Multicast traffic is rare enough on the links Ember sees for this to cost nothing.
 *
 * Context: all functions run under the stack lock (squeue context), as lwIP requires.
 */
#include "net/stack6.h"
#include "lwip/ip6.h"
#include "lwip/ip6_addr.h"
#include "lwip/ethip6.h"
#include "lwip/mld6.h"
#include "lwip/nd6.h"
#include "lib/string.h"

#define LO_ADDR6_INDEX 0

bool stack6_addr_local(const ip6_addr_t *a)
{
	if (ip6_addr_isloopback(a))
		return true;
	struct netif *n;
	NETIF_FOREACH(n) {
		for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
			if (!ip6_addr_isinvalid(netif_ip6_addr_state(n, i)) &&
			    ip6_addr_cmp_zoneless(a, netif_ip6_addr(n, i)))
				return true;
	}
	return false;
}

static err_t lo_output6(struct netif *n __unused, struct pbuf *p, const ip6_addr_t *dst __unused)
{
	return stack_loop_output(p);
}

void stack6_lo_init(struct netif *n)
{
	ip6_addr_t a;
	ip6_addr_set_loopback(&a);
	n->output_ip6 = lo_output6;
	netif_ip6_addr_set(n, LO_ADDR6_INDEX, &a);
	netif_ip6_addr_set_state(n, LO_ADDR6_INDEX, IP6_ADDR_VALID);
}

/* A NIC's IPv6 output: to ourselves through lo (as eth_output does for IPv4), else ND + Ethernet. */
static err_t eth_output6(struct netif *n, struct pbuf *p, const ip6_addr_t *dst)
{
	if (stack6_addr_local(dst))
		return stack_loop_output(p);
	return ethip6_output(n, p, dst);
}

void stack6_nic_init(struct netif *n)
{
	n->output_ip6 = eth_output6;
	n->flags |= NETIF_FLAG_MLD6;
}

void stack6_set_mtu(struct netif *n, unsigned dev_mtu)
{
	n->mtu6 = (u16_t)MIN(dev_mtu, (unsigned)n->mtu);
}

void stack6_nic_up(struct netif *n, unsigned dev_mtu)
{
	stack6_set_mtu(n, dev_mtu);     /* netif_add copied netif->mtu (a TSO netif's is big) */
	netif_create_ip6_linklocal_address(n, 1);
	netif_set_ip6_autoconfig_enabled(n, 1);
}
