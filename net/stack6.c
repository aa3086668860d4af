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
 *   - IPv6 MTU: netif->mtu6 is what ip6_output fragments by (through the ND destination cache,
 *     whose entries start with it as their path MTU) and what TCP's MSS comes from. Without
 *     NETDEV_F_TSO6 it is the device's real MTU. On a TSO6 device it is the device's TSO limit (netdev_tso_max), so that big
 *     TCP segments pass down whole (net/stack.c's TSO section: the MSS we advertise is still the
 *     real MTU's, and a connection sends big segments only once stack_tcp_offload allows); any
 *     other IPv6 packet above the real MTU is fragmented here (eth_output6) with the real MTU, as
 *     eth_output does for IPv4. (A router advertisement's MTU option lowers mtu6, as lwIP does:
 *     then ip6_output fragments everything above it, big TCP segments included; they still arrive.)
 *   - Multicast reception: each NIC's filter holds the all-nodes group (ff02::1, which lwIP takes
 *     as always received) and every group MLD joins: lwIP reports each join and leave through
 *     netif->mld_mac_filter (the solicited-node group of every address, IPV6_JOIN_GROUP), which
 *     adds or removes the group's MAC (33:33 and its last 32 bits, RFC 2464) on the device's
 *     multicast list (net/netdev.h: Multicast). e1000 programs its MTA and RTL8139 its MAR from
 *     it, so QEMU's models drop other groups' frames; virtio-net negotiates no
 *     VIRTIO_NET_F_CTRL_RX, and a device without it delivers every frame (the virtio spec:
 *     filtering is only commanded through the control queue), which ip6_input then drops.
 *
 * Context: all functions run under the stack lock (squeue context), as lwIP requires, except the
 * /proc show functions (thread context: they enter an squeue).
 */
#include "net/stack6.h"
#include "lwip/ip6.h"
#include "lwip/ip6_frag.h"
#include "lwip/prot/ip6.h"
#include "lwip/ip6_addr.h"
#include "lwip/ethip6.h"
#include "lwip/mld6.h"
#include "lwip/nd6.h"
#include "lwip/priv/nd6_priv.h"
#include "net/stack.h"
#include "net/netdev.h"
#include "net/squeue.h"
#include "kernel/printk.h"
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
	netif_ip6_addr_set_state(n, LO_ADDR6_INDEX, IP6_ADDR_PREFERRED);   /* as Linux's (not deprecated) */
}

/* ip6_frag with the device's MTU (a TSO6 netif's mtu6, and the destination cache's path MTUs that
 * start from it, are bigger): both are lowered to it for the call. Stack lock held. */
static err_t frag_wire6(struct netif *n, struct pbuf *p, const ip6_addr_t *dst, u16_t wire)
{
	u16_t mtu6 = n->mtu6, pmtu = 0;
	int d = -1;
	for (int i = 0; i < LWIP_ND6_NUM_DESTINATIONS && d < 0; i++)
		if (ip6_addr_cmp(dst, &destination_cache[i].destination_addr))
			d = i;
	if (d >= 0) {
		pmtu = destination_cache[d].pmtu;
		destination_cache[d].pmtu = (u16_t)MIN(pmtu, wire);
	}
	n->mtu6 = (u16_t)MIN(mtu6, wire);
	err_t e = ip6_frag(p, n, dst);
	n->mtu6 = mtu6;
	if (d >= 0 && ip6_addr_cmp(dst, &destination_cache[d].destination_addr))
		destination_cache[d].pmtu = pmtu;      /* unless ip6_frag's output reused the entry */
	return e;
}

/* A NIC's IPv6 output: to ourselves through lo (as eth_output does for IPv4), else ND + Ethernet;
 * on a TSO6 device anything but TCP above the device's MTU is fragmented to it first. */
static err_t eth_output6(struct netif *n, struct pbuf *p, const ip6_addr_t *dst)
{
	stack_tcp_csum_restore();
	if (stack6_addr_local(dst))
		return stack_loop_output(p);
	unsigned wire = stack_wire_mtu(n);
	if (p->tot_len > wire && p->len >= IP6_HLEN && IP6H_NEXTH((struct ip6_hdr *)p->payload) != IP6_NEXTH_TCP)
		return frag_wire6(n, p, dst, (u16_t)wire);
	return ethip6_output(n, p, dst);
}

/* The Ethernet address of IPv6 multicast group g: 33:33 and its last 32 bits (RFC 2464, 7). */
static void group_mac(const ip6_addr_t *g, uint8_t mac[ETH_ALEN])
{
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, &g->addr[3], 4);          /* network byte order in memory */
}

/* lwIP's MLD joined or left group on n (stack lock): the device's multicast list follows. */
static err_t mld_mac_filter(struct netif *n, const ip6_addr_t *group, enum netif_mac_filter_action action)
{
	struct net_device *dev = stack_netif_dev(n);
	uint8_t mac[ETH_ALEN];
	if (!dev)
		return ERR_OK;
	group_mac(group, mac);
	if (action == NETIF_ADD_MAC_FILTER)
		netdev_mc_add(dev, mac);
	else
		netdev_mc_del(dev, mac);
	return ERR_OK;
}

void stack6_nic_init(struct netif *n, struct net_device *dev)
{
	n->output_ip6 = eth_output6;
	n->flags |= NETIF_FLAG_MLD6;
	netif_set_mld_mac_filter(n, mld_mac_filter);   /* before any address: every join is seen */
	ip6_addr_t all;
	uint8_t mac[ETH_ALEN];
	ip6_addr_set_allnodes_linklocal(&all);
	group_mac(&all, mac);                            /* no MLD for it: lwIP assumes it is received */
	netdev_mc_add(dev, mac);
}

void stack6_set_mtu(struct netif *n, unsigned dev_mtu, unsigned tso6_max)
{
	n->mtu6 = (u16_t)(tso6_max ? tso6_max : MIN(dev_mtu, (unsigned)n->mtu));
}

void stack6_nic_up(struct netif *n, unsigned dev_mtu, unsigned tso6_max, bool autoconf)
{
	stack6_set_mtu(n, dev_mtu, tso6_max);     /* netif_add copied netif->mtu (a TSO netif's is big) */
	if (!autoconf)
		return;
	netif_create_ip6_linklocal_address(n, 1);
	netif_set_ip6_autoconfig_enabled(n, 1);
}

/* ---- /proc/net/if_inet6 and /proc/net/ipv6_route (Linux's formats: net/ipv6/addrconf.c,
 * net/ipv6/route.c) ----
 * Generated under the stack lock (squeue_call from the reader's thread). lwIP keeps no prefix
 * lengths: its addresses come from /64 prefixes (link-local, SLAAC) except ::1 (/128). */

#define IFA_F_TENTATIVE   0x40
#define IFA_F_DEPRECATED  0x20
#define IFA_F_PERMANENT   0x80
#define IPV6_SCOPE_GLOBAL 0x00
#define IPV6_SCOPE_HOST   0x10
#define IPV6_SCOPE_LINK   0x20
#define IPV6_SCOPE_SITE   0x40
#define PLEN_SUBNET       64
#define PLEN_HOST         128
#define RTF_UP            0x0001
#define RTF_GATEWAY       0x0002
#define RTF_HOST          0x0004
#define RT_METRIC_PREFIX  256          /* Linux's defaults: prefix routes 256, RA default routes 1024 */
#define RT_METRIC_ROUTER  1024

struct show_req {
	char *buf;
	size_t size, n;
};

static void hex6(char out[33], const ip6_addr_t *a, int plen)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		uint8_t b = ((const uint8_t *)a->addr)[i];
		if (i * 8 >= plen)
			b = 0;
		else if (i * 8 + 8 > plen)
			b &= (uint8_t)(0xff << (8 - (plen - i * 8)));
		out[2 * i] = hex[b >> 4];
		out[2 * i + 1] = hex[b & 0xf];
	}
	out[32] = 0;
}

static int addr_plen(const ip6_addr_t *a) { return ip6_addr_isloopback(a) ? PLEN_HOST : PLEN_SUBNET; }

static unsigned addr_scope(const ip6_addr_t *a)
{
	if (ip6_addr_isloopback(a))
		return IPV6_SCOPE_HOST;
	if (ip6_addr_islinklocal(a))
		return IPV6_SCOPE_LINK;
	if (ip6_addr_issitelocal(a))
		return IPV6_SCOPE_SITE;
	return IPV6_SCOPE_GLOBAL;
}

static void if_inet6_fn(void *arg)
{
	struct show_req *r = arg;
	struct netif *n;
	NETIF_FOREACH(n) {
		struct net_device *dev = stack_netif_dev(n);
		if (!dev)
			continue;
		for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
			u8_t st = netif_ip6_addr_state(n, i);
			if (ip6_addr_isinvalid(st))
				continue;
			const ip6_addr_t *a = netif_ip6_addr(n, i);
			unsigned flags = 0;
			if (ip6_addr_istentative(st))
				flags |= IFA_F_TENTATIVE;
			if (ip6_addr_isdeprecated(st))
				flags |= IFA_F_DEPRECATED;
			if (ip6_addr_life_isstatic(netif_ip6_addr_valid_life(n, i)))
				flags |= IFA_F_PERMANENT;
			char h[33];
			hex6(h, a, PLEN_HOST);
			bufprintf(r->buf, r->size, &r->n, "%s %02x %02x %02x %02x %8s\n", h, dev->ifindex, addr_plen(a),
				  addr_scope(a), flags, dev->name);
		}
	}
}

static void route_line(struct show_req *r, const char *dst, int plen, const char *via, unsigned metric,
		       unsigned flags, const char *dev)
{
	static const char zero[] = "00000000000000000000000000000000";
	bufprintf(r->buf, r->size, &r->n, "%s %02x %s %02x %s %08x %08x %08x %08x %8s\n", dst, plen, zero, 0,
		  via ? via : zero, metric, 1, 0, flags, dev);
}

static void ipv6_route_fn(void *arg)
{
	struct show_req *r = arg;
	struct netif *n;
	NETIF_FOREACH(n) {
		struct net_device *dev = stack_netif_dev(n);
		if (!dev)
			continue;
		for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {   /* one prefix route per prefix (tentative ones too, as Linux) */
			if (ip6_addr_isinvalid(netif_ip6_addr_state(n, i)))
				continue;
			const ip6_addr_t *a = netif_ip6_addr(n, i);
			bool seen = false;
			for (int j = 0; j < i && !seen; j++)
				seen = !ip6_addr_isinvalid(netif_ip6_addr_state(n, j)) &&
				       ip6_addr_netcmp_zoneless(a, netif_ip6_addr(n, j));
			if (seen)
				continue;
			char h[33];
			int plen = addr_plen(a);
			hex6(h, a, plen);
			route_line(r, h, plen, NULL, RT_METRIC_PREFIX, RTF_UP | (plen == PLEN_HOST ? RTF_HOST : 0), dev->name);
		}
	}
	for (int i = 0; i < LWIP_ND6_NUM_ROUTERS; i++) {          /* default routes from RAs */
		struct nd6_neighbor_cache_entry *e = default_router_list[i].neighbor_entry;
		if (!e || !e->netif)
			continue;
		struct net_device *dev = stack_netif_dev(e->netif);
		if (!dev)
			continue;
		char via[33], any[33];
		ip6_addr_t zero;
		ip6_addr_set_zero(&zero);
		hex6(via, &e->next_hop_address, PLEN_HOST);
		hex6(any, &zero, 0);
		route_line(r, any, 0, via, RT_METRIC_ROUTER, RTF_UP | RTF_GATEWAY, dev->name);
	}
}

static size_t show(void (*fn)(void *), char *buf, size_t size)
{
	struct show_req r = { buf, size, 0 };
	if (stack_ready())
		squeue_call(squeue_local(), fn, &r);
	return r.n;
}

size_t stack6_show_if_inet6(char *buf, size_t size) { return show(if_inet6_fn, buf, size); }

#define RT_SCOPE_UNIVERSE 0
#define RT_SCOPE_SITE     200
#define RT_SCOPE_LINK     253
#define RT_SCOPE_HOST     254

struct addrs_req {
	struct stack6_addr *out;
	int max, n;
};

static uint8_t rt_scope(const ip6_addr_t *a)
{
	switch (addr_scope(a)) {
	case IPV6_SCOPE_HOST: return RT_SCOPE_HOST;
	case IPV6_SCOPE_LINK: return RT_SCOPE_LINK;
	case IPV6_SCOPE_SITE: return RT_SCOPE_SITE;
	default: return RT_SCOPE_UNIVERSE;
	}
}

static void addrs_fn(void *arg)
{
	struct addrs_req *r = arg;
	struct netif *n;
	NETIF_FOREACH(n) {
		struct net_device *dev = stack_netif_dev(n);
		for (int i = 0; dev && i < LWIP_IPV6_NUM_ADDRESSES && r->n < r->max; i++) {
			u8_t st = netif_ip6_addr_state(n, i);
			if (ip6_addr_isinvalid(st))
				continue;
			const ip6_addr_t *a = netif_ip6_addr(n, i);
			struct stack6_addr *o = &r->out[r->n++];
			memcpy(o->addr, a->addr, sizeof(o->addr));
			o->ifindex = dev->ifindex;
			o->plen = (uint8_t)addr_plen(a);
			o->scope = rt_scope(a);
			o->flags = (uint8_t)((ip6_addr_istentative(st) ? IFA_F_TENTATIVE : 0) |
					     (ip6_addr_isdeprecated(st) ? IFA_F_DEPRECATED : 0) |
					     (ip6_addr_life_isstatic(netif_ip6_addr_valid_life(n, i)) ? IFA_F_PERMANENT : 0));
		}
	}
}

int stack6_addrs(struct stack6_addr *out, int max)
{
	struct addrs_req r = { out, max, 0 };
	if (stack_ready())
		squeue_call(squeue_local(), addrs_fn, &r);
	return r.n;
}
size_t stack6_show_ipv6_route(char *buf, size_t size) { return show(ipv6_route_fn, buf, size); }
