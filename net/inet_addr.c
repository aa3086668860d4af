/*
 * Internet socket addresses of either family: sockaddr_in / sockaddr_in6 <-> lwIP's ip_addr_t.
 * The rules (v4-mapped addresses, zones, the dual-stack wildcard) are in net/inet_addr.h.
 */
#include "net/inet_addr.h"
#include "net/stack.h"
#include "net/stack6.h"
#include "kernel/errno.h"
#include "lib/string.h"
#include "lwip/netif.h"
#include "lwip/ip6_addr.h"
#include "fs/fs.h"

#define V4MAPPED_WORD2 0x0000ffffu     /* ::ffff:0:0/96, the third 32-bit word (host order) */

static bool is_v4mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a, pfx, sizeof(pfx)) == 0;
}

int inet_sockaddr_get(int family, const struct sockaddr_k *a, int len, ip_addr_t *addr, uint16_t *port,
		      bool *mapped)
{
	if (mapped)
		*mapped = false;
	if (family == AF_INET) {
		uint32_t h;
		int e = sockaddr_in_get(a, len, &h, port);
		if (e < 0)
			return e;
		ip_addr_set_ip4_u32_val(*addr, lwip_htonl(h));
		return 0;
	}
	if (len < SIN6_LEN_RFC2133)
		return -EINVAL;
	if (a->family != AF_INET6)
		return -EAFNOSUPPORT;
	const struct sockaddr_in6_k *s6 = &a->in6;
	*port = lwip_ntohs(s6->sin6_port);
	if (is_v4mapped(s6->sin6_addr)) {
		uint32_t v4;
		memcpy(&v4, s6->sin6_addr + 12, sizeof(v4));
		ip_addr_set_ip4_u32_val(*addr, v4);
		if (mapped)
			*mapped = true;
		return 0;
	}
	ip6_addr_t *a6 = ip_2_ip6(addr);
	IP_SET_TYPE_VAL(*addr, IPADDR_TYPE_V6);
	memcpy(a6->addr, s6->sin6_addr, sizeof(a6->addr));
	ip6_addr_clear_zone(a6);
	uint32_t scope = len >= (int)sizeof(struct sockaddr_in6_k) ? s6->sin6_scope_id : 0;
	if (ip6_addr_has_scope(a6, IP6_UNKNOWN) && scope)
		ip6_addr_set_zone(a6, (u8_t)inet_zone_of_ifindex(scope));
	return 0;
}

void inet_addr_to16(const ip_addr_t *a, uint8_t out[16])
{
	memset(out, 0, 16);
	if (IP_IS_V6(a)) {
		memcpy(out, ip_2_ip6(a)->addr, 16);
		return;
	}
	if (IP_IS_ANY_TYPE_VAL(*a))
		return;                            /* the dual-stack wildcard: :: */
	out[10] = out[11] = 0xff;
	uint32_t v4 = ip4_addr_get_u32(ip_2_ip4(a));
	memcpy(out + 12, &v4, sizeof(v4));
}

void inet_sockaddr_set(int family, struct sockaddr_k *a, int *len, const ip_addr_t *addr, uint16_t port)
{
	if (family == AF_INET) {
		sockaddr_in_set(a, len, lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(addr))), port);
		return;
	}
	memset(a, 0, sizeof(a->in6));
	a->in6.sin6_family = AF_INET6;
	a->in6.sin6_port = lwip_htons(port);
	inet_addr_to16(addr, a->in6.sin6_addr);
	if (IP_IS_V6(addr) && ip6_addr_islinklocal(ip_2_ip6(addr)) && ip6_addr_has_zone(ip_2_ip6(addr)))
		a->in6.sin6_scope_id = inet_ifindex_of_zone(ip6_addr_zone(ip_2_ip6(addr)));
	*len = sizeof(a->in6);
}

void inet_addr_any(int family, bool v6only, ip_addr_t *out)
{
	if (family == AF_INET)
		ip_addr_copy(*out, *IP4_ADDR_ANY);
	else if (v6only)
		ip_addr_copy(*out, *IP6_ADDR_ANY);
	else
		ip_addr_copy(*out, *IP_ANY_TYPE);
}

bool inet_addr_local(const ip_addr_t *a)
{
	if (ip_addr_isany(a))
		return true;
	if (!IP_IS_V6(a))
		return stack_addr_local(lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(a))));
	return ip6_addr_ismulticast(ip_2_ip6(a)) || stack6_addr_local(ip_2_ip6(a));
}

unsigned inet_zone_of_ifindex(unsigned ifindex)
{
	struct netif *n;
	NETIF_FOREACH(n) {
		struct net_device *dev = stack_netif_dev(n);
		if (dev && (unsigned)dev->ifindex == ifindex)
			return netif_get_index(n);
	}
	return IP6_NO_ZONE;
}

unsigned inet_ifindex_of_zone(unsigned zone)
{
	struct netif *n;
	NETIF_FOREACH(n) {
		if (netif_get_index(n) == zone) {
			struct net_device *dev = stack_netif_dev(n);
			return dev ? (unsigned)dev->ifindex : 0;
		}
	}
	return 0;
}

void inet_proc_addr(char *out, const ip_addr_t *addr, uint16_t port)
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t a[16];
	inet_addr_to16(addr, a);
	int k = 0;
	for (int w = 0; w < 4; w++)
		for (int b = 3; b >= 0; b--) {              /* the word's bytes, most significant first */
			out[k++] = hex[a[w * 4 + b] >> 4];
			out[k++] = hex[a[w * 4 + b] & 0xf];
		}
	out[k++] = ':';
	for (int sh = 12; sh >= 0; sh -= 4)
		out[k++] = hex[(port >> sh) & 0xf];
	out[k] = 0;
}

uint64_t inet_sock_ino(struct socket *s)
{
	struct file *f = READ_ONCE(s->file);
	return f && f->inode ? f->inode->ino : 0;
}

uint32_t inet_addr_flow(const ip_addr_t *a)
{
	if (IP_IS_V6(a))
		return flow_addr6_fold((const uint8_t *)ip_2_ip6(a)->addr);
	return lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(a)));
}
