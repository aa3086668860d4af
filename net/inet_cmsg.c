/*
 * Control messages of internet datagram sockets; the interface and who uses it: net/inet_cmsg.h.
 *
 * Receive. The receive callback captures the IP header's fields into the datagram's struct
 * inet_rx_info (inet_rx_info_capture, under the stack lock); recvmsg, after copying the payload,
 * writes the messages the socket asked for in Linux's order:
 *   AF_INET socket:              IP_PKTINFO, IP_TTL, IP_TOS (ip_cmsg_recv_offset)
 *   AF_INET6 socket, IPv6 packet: IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS, IPV6_2292PKTINFO,
 *                                IPV6_2292HOPLIMIT (ip6_datagram_recv_ctl)
 *   AF_INET6 socket, IPv4 packet: IPV6_PKTINFO with the v4-mapped destination, then the IPv4
 *                                ones the socket asked for at SOL_IP (udpv6_recvmsg)
 * Each is laid out by put_cmsg's rules: a header that does not fit is left out, a body that does
 * not fit is cut, both set MSG_CTRUNC, and msg_controllen says what was written.
 *
 * Send. IP_PKTINFO's ipi_spec_dst (AF_INET) or IPV6_PKTINFO's ipi6_addr (AF_INET6; v4-mapped is
 * IPv4) becomes the datagram's source if it is not the wildcard; their ifindex the interface. The
 * source must be one of ours (otherwise IPv4's route lookup answers ENETUNREACH, IPv6's
 * ip6_datagram_send_ctl EINVAL). IP_TTL (1..255) and IP_TOS (an int or a byte), IPV6_HOPLIMIT /
 * IPV6_2292HOPLIMIT and IPV6_TCLASS (an int, -1..255; -1 the socket's) set that datagram's TTL /
 * hop limit (unicast and multicast alike, as Linux's cork) and TOS / traffic class: the sender
 * puts them into its pcb for the one send (inet_tx_override). An AF_INET6 socket's SOL_IP IP_TTL /
 * IP_TOS are kept apart (ttl4, tos4) for a v4-mapped datagram, which takes them and not the
 * SOL_IPV6 ones, as Linux's udp_sendmsg. Other messages of the socket's IP level are EINVAL here
 * (Linux honours some: not done); other levels are ignored as Linux ignores them.
 */
#include "net/inet_cmsg.h"
#include "net/cmsg.h"
#include "net/inet_addr.h"
#include "net/stack.h"
#include "net/netdev.h"
#include "kernel/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"

#define SCM_RIGHTS_K 1
#define SCM_CREDENTIALS_K 2
#define CMSG_IN_MAX 4096                    /* control bytes sendmsg looks at (Linux: optmem_max is larger) */

struct in_pktinfo_k {                       /* struct in_pktinfo */
	int32_t ipi_ifindex;
	uint32_t ipi_spec_dst;               /* network order */
	uint32_t ipi_addr;
};

struct in6_pktinfo_k {                      /* struct in6_pktinfo */
	uint8_t ipi6_addr[16];
	int32_t ipi6_ifindex;
};

/* ---- receive ---- */

void inet_rx_info_capture(struct inet_rx_info *i)
{
	memset(i, 0, sizeof(*i));
	struct netif *in = ip_current_input_netif();
	struct net_device *dev = in ? stack_netif_dev(in) : NULL;
	i->ifindex = dev ? (uint32_t)dev->ifindex : 0;
	if (ip_current_is_v6()) {
		const struct ip6_hdr *h = ip6_current_header();
		i->v6 = true;
		i->ttl = IP6H_HOPLIM(h);
		i->tos = IP6H_TC(h);
		memcpy(i->dst, &h->dest, 16);
	} else if (ip4_current_header()) {
		const struct ip_hdr *h = ip4_current_header();
		i->ttl = IPH_TTL(h);
		i->tos = IPH_TOS(h);
		memcpy(i->dst, &h->dest.addr, 4);
	} else {
		return;
	}
	i->valid = true;
}

static int put_int(struct sock_msg *m, int level, int type, int v)
{
	return put_cmsg(m, level, type, &v, sizeof(v));
}

static int put_ip4(struct sock_msg *m, unsigned flags, const struct inet_rx_info *i)
{
	int e = 0;
	if (flags & CM_IP_PKTINFO) {
		struct in_pktinfo_k pi = { .ipi_ifindex = (int32_t)i->ifindex };
		if (!i->errq)                            /* Linux: the error's cb holds none */
			memcpy(&pi.ipi_spec_dst, i->dst, 4);
		memcpy(&pi.ipi_addr, i->dst, 4);
		e = put_cmsg(m, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	if (!e && (flags & CM_IP_TTL))
		e = put_int(m, SOL_IP, IP_TTL, i->ttl);
	if (!e && (flags & CM_IP_TOS))
		e = put_cmsg(m, SOL_IP, IP_TOS, &i->tos, 1);        /* one byte, as Linux */
	return e;
}

int inet_cmsg_put(struct sock_msg *m, unsigned flags, int family, const struct inet_rx_info *i)
{
	if (!flags || !i->valid)
		return 0;
	if (family == AF_INET)
		return i->v6 ? 0 : put_ip4(m, flags, i);
	struct in6_pktinfo_k pi = { .ipi6_ifindex = (int32_t)i->ifindex };
	if (i->v6) {
		memcpy(pi.ipi6_addr, i->dst, 16);
	} else {
		pi.ipi6_addr[10] = pi.ipi6_addr[11] = 0xff;
		memcpy(pi.ipi6_addr + 12, i->dst, 4);
	}
	int e = 0;
	if (flags & CM_IP6_PKTINFO)
		e = put_cmsg(m, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	if (!i->v6)
		return e ? e : put_ip4(m, flags, i);
	if (!e && (flags & CM_IP6_HOPLIMIT))
		e = put_int(m, SOL_IPV6, IPV6_HOPLIMIT, i->ttl);
	if (!e && (flags & CM_IP6_TCLASS))
		e = put_int(m, SOL_IPV6, IPV6_TCLASS, i->tos);
	if (!e && (flags & CM_IP6_2292PKTINFO))
		e = put_cmsg(m, SOL_IPV6, IPV6_2292PKTINFO, &pi, sizeof(pi));
	if (!e && (flags & CM_IP6_2292HOPLIMIT))
		e = put_int(m, SOL_IPV6, IPV6_2292HOPLIMIT, i->ttl);
	return e;
}

/* ---- the options ---- */

static unsigned flag_of(int family, int level, int name)
{
	if (level == SOL_IP) {
		switch (name) {
		case IP_PKTINFO: return CM_IP_PKTINFO;
		case IP_RECVTTL: return CM_IP_TTL;
		case IP_RECVTOS: return CM_IP_TOS;
		}
	} else if (level == SOL_IPV6 && family == AF_INET6) {
		switch (name) {
		case IPV6_RECVPKTINFO: return CM_IP6_PKTINFO;
		case IPV6_RECVHOPLIMIT: return CM_IP6_HOPLIMIT;
		case IPV6_RECVTCLASS: return CM_IP6_TCLASS;
		case IPV6_2292PKTINFO: return CM_IP6_2292PKTINFO;
		case IPV6_2292HOPLIMIT: return CM_IP6_2292HOPLIMIT;
		}
	}
	return 0;
}

int inet_cmsg_setsockopt(unsigned *flags, int family, int level, int name, const void *val, int len)
{
	unsigned f = flag_of(family, level, name);
	if (!f)
		return -ENOPROTOOPT;
	int v;
	if (inet_opt_get_int(level, val, len, &v) < 0)
		return -EINVAL;
	unsigned old = READ_ONCE(*flags);
	WRITE_ONCE(*flags, v ? old | f : old & ~f);
	return 0;
}

int inet_cmsg_getsockopt(unsigned flags, int family, int level, int name, void *val, int *len)
{
	unsigned f = flag_of(family, level, name);
	if (!f)
		return -ENOPROTOOPT;
	return inet_opt_put_int(level, (flags & f) != 0, val, len);
}

int inet_opt_get_int(int level, const void *val, int len, int *v)
{
	if (len >= (int)sizeof(int))
		memcpy(v, val, sizeof(*v));
	else if (level == SOL_IP && len >= 1)
		*v = *(const uint8_t *)val;              /* ip_setsockopt takes a char too */
	else if (level == SOL_IP)
		*v = 0;
	else
		return -EINVAL;
	return 0;
}

int inet_opt_put_int(int level, int v, void *val, int *len)
{
	if (*len < 0)
		return -EINVAL;
	if (level == SOL_IP && *len > 0 && *len < (int)sizeof(int)) {
		*(uint8_t *)val = (uint8_t)v;            /* ip_getsockopt's one-byte answer */
		*len = 1;
		return 0;
	}
	*len = MIN(*len, (int)sizeof(int));
	memcpy(val, &v, (size_t)*len);
	return 0;
}

/* ---- send ---- */

static void set_src16(struct inet_tx_info *t, const uint8_t a[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[16];
	if (memcmp(a, zero, 16) == 0)
		return;
	t->has_src = true;
	if (memcmp(a, mapped, 12) == 0) {
		uint32_t v4;
		memcpy(&v4, a + 12, 4);
		ip_addr_set_ip4_u32_val(t->src, v4);
		return;
	}
	IP_SET_TYPE_VAL(t->src, IPADDR_TYPE_V6);
	memcpy(ip_2_ip6(&t->src)->addr, a, 16);
	ip6_addr_clear_zone(ip_2_ip6(&t->src));
}

int inet_cmsg_parse(const struct sock_msg *m, int family, struct inet_tx_info *t)
{
	memset(t, 0, sizeof(*t));
	t->ttl = t->tos = t->ttl4 = t->tos4 = -1;
	if (!m->control || m->controllen < CMSG_HDR)
		return 0;                            /* CMSG_FIRSTHDR is NULL: no messages */
	size_t n = MIN(m->controllen, (size_t)CMSG_IN_MAX);
	uint8_t *buf = kmalloc(n);
	if (!buf)
		return -ENOBUFS;
	int err = copy_from_user(buf, m->control, n) ? -EFAULT : 0;
	for (size_t off = 0; !err && off + CMSG_HDR <= n;) {
		struct cmsghdr_k h;
		memcpy(&h, buf + off, sizeof(h));
		if (h.len < CMSG_HDR || h.len > n - off) {
			err = -EINVAL;                   /* !CMSG_OK */
			break;
		}
		const uint8_t *data = buf + off + CMSG_HDR;
		size_t dlen = h.len - CMSG_HDR;
		if (h.level == SOL_IP && (h.type == IP_TTL || h.type == IP_TOS)) {
			int v = -1;                      /* ip_cmsg_send: an int, or IP_TOS's byte */
			if (dlen == sizeof(int))
				memcpy(&v, data, sizeof(v));
			else if (h.type == IP_TOS && dlen == 1)
				v = data[0];
			bool bad = v < (h.type == IP_TTL ? 1 : 0) || v > 255;
			if (family == AF_INET6) {        /* for a v4-mapped datagram only */
				if (bad && !t->err4)
					t->err4 = -EINVAL;
				*(h.type == IP_TTL ? &t->ttl4 : &t->tos4) = v;
			} else if (bad) {
				err = -EINVAL;
				break;
			} else {
				*(h.type == IP_TTL ? &t->ttl : &t->tos) = v;
			}
		} else if (h.level == SOL_IP && family == AF_INET6) {
			if (h.type != IP_PKTINFO && !t->err4)
				t->err4 = -EINVAL;           /* ip_cmsg_send's default */
		} else if (h.level == SOL_IPV6 && family == AF_INET6 &&
			   (h.type == IPV6_HOPLIMIT || h.type == IPV6_2292HOPLIMIT || h.type == IPV6_TCLASS)) {
			int v;                           /* ip6_datagram_send_ctl: an int, -1 the default */
			if (dlen != sizeof(int)) {
				err = -EINVAL;
				break;
			}
			memcpy(&v, data, sizeof(v));
			if (v < -1 || v > 255) {
				err = -EINVAL;
				break;
			}
			if (h.type == IPV6_TCLASS)
				t->tos = v;
			else
				t->ttl = v;
		} else if (h.level == SOL_IP && family == AF_INET) {
			struct in_pktinfo_k pi;
			if (h.type != IP_PKTINFO || dlen != sizeof(pi)) {
				err = -EINVAL;
				break;
			}
			memcpy(&pi, data, sizeof(pi));
			t->ifindex = (unsigned)pi.ipi_ifindex;
			if (pi.ipi_spec_dst) {
				t->has_src = true;
				ip_addr_set_ip4_u32_val(t->src, pi.ipi_spec_dst);
			}
		} else if (h.level == SOL_IPV6 && family == AF_INET6) {
			struct in6_pktinfo_k pi;
			if ((h.type != IPV6_PKTINFO && h.type != IPV6_2292PKTINFO) || dlen < sizeof(pi)) {
				err = -EINVAL;
				break;
			}
			memcpy(&pi, data, sizeof(pi));
			t->ifindex = (unsigned)pi.ipi6_ifindex;
			set_src16(t, pi.ipi6_addr);
		} else if (h.level == SOL_SOCKET && h.type != SCM_RIGHTS_K && h.type != SCM_CREDENTIALS_K) {
			err = -EINVAL;                   /* __sock_cmsg_send: those two are AF_UNIX's, ignored */
		}
		off += CMSG_ALIGN_K(h.len);
	}
	kfree(buf);
	return err;
}

int inet_tx_info_check(const struct inet_tx_info *t, struct netif **n)
{
	if (t->has_src && !inet_addr_local(&t->src))
		return IP_IS_V6_VAL(t->src) ? -EINVAL : -ENETUNREACH;   /* ip_route_output_key's answer for IPv4 */
	if (t->ifindex) {
		struct netif *x;
		NETIF_FOREACH(x) {
			struct net_device *dev = stack_netif_dev(x);
			if (dev && (unsigned)dev->ifindex == t->ifindex) {
				*n = x;
				return 0;
			}
		}
		return -ENODEV;
	}
	return 0;
}

void inet_tx_override(const struct inet_tx_info *t, uint8_t *ttl, uint8_t *mcast_ttl, uint8_t *tos,
		      struct inet_tx_saved *saved)
{
	*saved = (struct inet_tx_saved){ *ttl, *mcast_ttl, *tos };
	if (t->ttl >= 0)
		*ttl = *mcast_ttl = (uint8_t)t->ttl;
	if (t->tos >= 0)
		*tos = (uint8_t)t->tos;
}

void inet_tx_restore(const struct inet_tx_saved *saved, uint8_t *ttl, uint8_t *mcast_ttl, uint8_t *tos)
{
	*ttl = saved->ttl;
	*mcast_ttl = saved->mcast_ttl;
	*tos = saved->tos;
}
