/*
 * NETLINK_ROUTE's requests (af_netlink.c runs them while the requester's sendmsg runs, thread
 * context): RTM_GETLINK, RTM_GETADDR and RTM_GETROUTE, as dumps (NLM_F_DUMP) and, for links, one
 * interface by index or name, in Linux's message formats (uapi <linux/rtnetlink.h>,
 * <linux/if_link.h>, <linux/if_addr.h>). The figures are the stack's own: stack_if_info for each
 * interface (name, MAC, MTU, up/link, IPv4 address, mask, gateway) and stack6_addrs for the IPv6
 * addresses.
 *
 * Chosen, where Linux has more: routes are IPv4's main table (each configured interface's subnet
 * route, "proto kernel scope link src ADDR", and the default route); the local table and IPv6
 * routes are not dumped (/proc/net/ipv6_route has the latter). Changing the configuration
 * (RTM_NEWADDR, RTM_NEWROUTE, RTM_SETLINK ...) answers EOPNOTSUPP: ifconfig's and route's ioctls
 * do that. Any other message type: EOPNOTSUPP, as Linux for a type nobody registered.
 */
#include "net/netlink/netlink.h"
#include "net/netdev.h"
#include "net/socket.h"
#include "net/stack.h"
#include "net/stack6.h"
#include "kernel/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define RTM_NEWLINK 16
#define RTM_GETLINK 18
#define RTM_NEWADDR 20
#define RTM_GETADDR 22
#define RTM_NEWROUTE 24
#define RTM_GETROUTE 26

struct ifinfomsg_k { uint8_t family, pad; uint16_t type; int32_t index; uint32_t flags, change; };
struct ifaddrmsg_k { uint8_t family, prefixlen, flags, scope; uint32_t index; };
struct rtmsg_k { uint8_t family, dst_len, src_len, tos, table, protocol, scope, type; uint32_t flags; };
struct ifa_cacheinfo_k { uint32_t prefered, valid, cstamp, tstamp; };

#define IFLA_ADDRESS 1
#define IFLA_BROADCAST 2
#define IFLA_IFNAME 3
#define IFLA_MTU 4
#define IFLA_TXQLEN 13
#define IFLA_OPERSTATE 16
#define IFLA_LINKMODE 17
#define IFA_ADDRESS 1
#define IFA_LOCAL 2
#define IFA_LABEL 3
#define IFA_BROADCAST 4
#define IFA_CACHEINFO 6
#define IFA_FLAGS 8
#define RTA_DST 1
#define RTA_OIF 4
#define RTA_GATEWAY 5
#define RTA_PREFSRC 7
#define RTA_TABLE 15

#define IFF_UP 0x1
#define IFF_BROADCAST 0x2
#define IFF_LOOPBACK 0x8
#define IFF_RUNNING 0x40
#define IFF_MULTICAST 0x1000
#define IFF_LOWER_UP 0x10000
#define ARPHRD_ETHER 1
#define ARPHRD_LOOPBACK 772
#define IF_OPER_UNKNOWN 0
#define IF_OPER_DOWN 2
#define IF_OPER_UP 6
#define TXQLEN 1000                      /* Linux's default tx_queue_len (SIOCGIFTXQLEN says the same) */
#define IFA_F_PERMANENT 0x80
#define INFINITY_LIFE 0xffffffffu
#define RT_TABLE_MAIN 254
#define RTPROT_KERNEL 2
#define RTPROT_BOOT 3
#define RTPROT_DHCP 16
#define RTN_UNICAST 1
#define RT_SCOPE_UNIVERSE 0
#define RT_SCOPE_LINK 253
#define RT_SCOPE_HOST 254
#define V6_ADDRS_MAX 32

/* The family a request asks for: the first byte of its payload (rtgenmsg, ifinfomsg, ifaddrmsg
 * and rtmsg all start with it), AF_UNSPEC when there is none. */
static uint8_t req_family(const struct nlmsghdr_k *req)
{
	return req->nlmsg_len > NLMSG_HDRLEN ? *((const uint8_t *)req + NLMSG_HDRLEN) : AF_UNSPEC;
}

static bool is_dump(const struct nlmsghdr_k *req) { return (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP; }

static void be32_put(uint8_t out[4], uint32_t host)
{
	out[0] = (uint8_t)(host >> 24);
	out[1] = (uint8_t)(host >> 16);
	out[2] = (uint8_t)(host >> 8);
	out[3] = (uint8_t)host;
}

static int prefix_len(uint32_t mask)
{
	int n = 0;
	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	return n;
}

/* ---- links ---- */

static void link_msg(struct nl_reply *r, const struct nlmsghdr_k *req, uint16_t flags, struct net_device *dev,
		     const struct stack_ifinfo *in)
{
	struct ifinfomsg_k *ifi = nl_msg_begin(r, RTM_NEWLINK, flags, req->nlmsg_seq, sizeof(*ifi));
	if (!ifi)
		return;
	ifi->family = AF_UNSPEC;
	ifi->type = in->loopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER;
	ifi->index = dev->ifindex;
	ifi->flags = (in->up ? IFF_UP : 0) | (in->up && in->link ? IFF_RUNNING | IFF_LOWER_UP : 0) |
		     (in->loopback ? IFF_LOOPBACK : IFF_BROADCAST | IFF_MULTICAST);
	nl_attr_str(r, IFLA_IFNAME, dev->name);
	nl_attr_u32(r, IFLA_MTU, in->mtu);
	nl_attr_u32(r, IFLA_TXQLEN, TXQLEN);
	uint8_t oper = in->loopback ? IF_OPER_UNKNOWN : in->up && in->link ? IF_OPER_UP : IF_OPER_DOWN;
	nl_attr(r, IFLA_OPERSTATE, &oper, 1);
	uint8_t mode = 0;
	nl_attr(r, IFLA_LINKMODE, &mode, 1);
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[ETH_ALEN];
	nl_attr(r, IFLA_ADDRESS, in->mac, ETH_ALEN);
	nl_attr(r, IFLA_BROADCAST, in->loopback ? zero : bcast, ETH_ALEN);
}

/* The interface a non-dump RTM_GETLINK names: ifi_index, or else IFLA_IFNAME. */
static struct net_device *link_of_request(const struct nlmsghdr_k *req)
{
	if (req->nlmsg_len < NLMSG_HDRLEN + sizeof(struct ifinfomsg_k))
		return NULL;
	const struct ifinfomsg_k *ifi = (const void *)((const uint8_t *)req + NLMSG_HDRLEN);
	if (ifi->index > 0)
		return netdev_get_by_index(ifi->index);
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*ifi));
	while (off + NLA_HDRLEN <= req->nlmsg_len) {
		const struct nlattr_k *a = (const void *)((const uint8_t *)req + off);
		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > req->nlmsg_len)
			break;
		if (a->nla_type == IFLA_IFNAME) {
			char name[NETDEV_NAME_LEN] = { 0 };
			memcpy(name, (const uint8_t *)a + NLA_HDRLEN, MIN((size_t)a->nla_len - NLA_HDRLEN, sizeof(name) - 1));
			return netdev_get_by_name(name);
		}
		off += NLMSG_ALIGN(a->nla_len);
	}
	return NULL;
}

static int get_link(struct nl_reply *r, const struct nlmsghdr_k *req)
{
	struct stack_ifinfo in;
	if (!is_dump(req)) {
		struct net_device *dev = link_of_request(req);
		if (!dev || stack_if_info(dev, &in) < 0)
			return -ENODEV;
		link_msg(r, req, 0, dev, &in);
		return r->err;
	}
	for (struct net_device *dev = netdev_next(NULL); dev; dev = netdev_next(dev))
		if (stack_if_info(dev, &in) == 0)
			link_msg(r, req, NLM_F_MULTI, dev, &in);
	nl_done(r, req);
	return 1;
}

/* ---- addresses ---- */

static void addr4_msg(struct nl_reply *r, const struct nlmsghdr_k *req, struct net_device *dev,
		      const struct stack_ifinfo *in)
{
	struct ifaddrmsg_k *ifa = nl_msg_begin(r, RTM_NEWADDR, NLM_F_MULTI, req->nlmsg_seq, sizeof(*ifa));
	if (!ifa)
		return;
	ifa->family = AF_INET;
	ifa->prefixlen = (uint8_t)prefix_len(in->mask);
	ifa->flags = IFA_F_PERMANENT;
	ifa->scope = in->loopback ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
	ifa->index = (uint32_t)dev->ifindex;
	uint8_t a[4];
	be32_put(a, in->addr);
	nl_attr(r, IFA_ADDRESS, a, 4);
	nl_attr(r, IFA_LOCAL, a, 4);
	if (!in->loopback) {
		uint8_t b[4];
		be32_put(b, in->addr | ~in->mask);
		nl_attr(r, IFA_BROADCAST, b, 4);
	}
	nl_attr_str(r, IFA_LABEL, dev->name);
	nl_attr_u32(r, IFA_FLAGS, IFA_F_PERMANENT);
	struct ifa_cacheinfo_k ci = { INFINITY_LIFE, INFINITY_LIFE, 0, 0 };
	nl_attr(r, IFA_CACHEINFO, &ci, sizeof(ci));
}

static void addr6_msgs(struct nl_reply *r, const struct nlmsghdr_k *req)
{
	struct stack6_addr *a = kmalloc(V6_ADDRS_MAX * sizeof(*a));
	if (!a) {
		r->err = -ENOMEM;
		return;
	}
	int n = stack6_addrs(a, V6_ADDRS_MAX);
	for (int i = 0; i < n; i++) {
		struct ifaddrmsg_k *ifa = nl_msg_begin(r, RTM_NEWADDR, NLM_F_MULTI, req->nlmsg_seq, sizeof(*ifa));
		if (!ifa)
			break;
		*ifa = (struct ifaddrmsg_k){ AF_INET6, a[i].plen, a[i].flags, a[i].scope, (uint32_t)a[i].ifindex };
		nl_attr(r, IFA_ADDRESS, a[i].addr, sizeof(a[i].addr));
		nl_attr_u32(r, IFA_FLAGS, a[i].flags);
		struct ifa_cacheinfo_k ci = { INFINITY_LIFE, INFINITY_LIFE, 0, 0 };
		nl_attr(r, IFA_CACHEINFO, &ci, sizeof(ci));
	}
	kfree(a);
}

static int get_addr(struct nl_reply *r, const struct nlmsghdr_k *req)
{
	if (!is_dump(req))
		return -EOPNOTSUPP;             /* Linux 6.1 answers one address only with strict checking */
	uint8_t fam = req_family(req);
	if (fam == AF_UNSPEC || fam == AF_INET) {
		struct stack_ifinfo in;
		for (struct net_device *dev = netdev_next(NULL); dev; dev = netdev_next(dev))
			if (stack_if_info(dev, &in) == 0 && in.addr)
				addr4_msg(r, req, dev, &in);
	}
	if (fam == AF_UNSPEC || fam == AF_INET6)
		addr6_msgs(r, req);
	nl_done(r, req);
	return 1;
}

/* ---- routes ---- */

static void route4_msg(struct nl_reply *r, const struct nlmsghdr_k *req, struct net_device *dev, uint32_t dst,
		       int dst_len, uint32_t gw, uint32_t src, bool dhcp)
{
	struct rtmsg_k *rt = nl_msg_begin(r, RTM_NEWROUTE, NLM_F_MULTI, req->nlmsg_seq, sizeof(*rt));
	if (!rt)
		return;
	*rt = (struct rtmsg_k){ .family = AF_INET, .dst_len = (uint8_t)dst_len, .table = RT_TABLE_MAIN,
				.protocol = gw ? (dhcp ? RTPROT_DHCP : RTPROT_BOOT) : RTPROT_KERNEL,
				.scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, .type = RTN_UNICAST };
	nl_attr_u32(r, RTA_TABLE, RT_TABLE_MAIN);
	uint8_t a[4];
	if (dst_len) {
		be32_put(a, dst);
		nl_attr(r, RTA_DST, a, 4);
	}
	if (gw) {
		be32_put(a, gw);
		nl_attr(r, RTA_GATEWAY, a, 4);
	} else {
		be32_put(a, src);
		nl_attr(r, RTA_PREFSRC, a, 4);
	}
	nl_attr_u32(r, RTA_OIF, (uint32_t)dev->ifindex);
}

static int get_route(struct nl_reply *r, const struct nlmsghdr_k *req)
{
	if (!is_dump(req))
		return -EOPNOTSUPP;
	uint8_t fam = req_family(req);
	if (fam == AF_UNSPEC || fam == AF_INET) {
		struct stack_ifinfo in;
		for (struct net_device *dev = netdev_next(NULL); dev; dev = netdev_next(dev)) {
			if (stack_if_info(dev, &in) < 0 || !in.addr || in.loopback)
				continue;               /* lo's 127/8 is in the local table */
			if (in.gw)
				route4_msg(r, req, dev, 0, 0, in.gw, in.addr, in.dhcp);
			route4_msg(r, req, dev, in.addr & in.mask, prefix_len(in.mask), 0, in.addr, in.dhcp);
		}
	}
	nl_done(r, req);
	return 1;
}

int rtnl_request(struct nl_reply *r, const struct nlmsghdr_k *req)
{
	switch (req->nlmsg_type) {
	case RTM_GETLINK:
		return get_link(r, req);
	case RTM_GETADDR:
		return get_addr(r, req);
	case RTM_GETROUTE:
		return get_route(r, req);
	default:
		return -EOPNOTSUPP;
	}
}
