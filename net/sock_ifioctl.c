/*
 * The interface ioctls any socket answers (netif_ioctl in net/socket.h; net/socket.c routes them
 * here when the protocol has no answer of its own), read-only, in Linux's shapes (struct ifreq,
 * struct ifconf) and with Linux's errors:
 *   SIOCGIFCONF     struct ifreq (name, AF_INET address) for every interface with an IPv4 address,
 *                   as many as fit in ifc_len, which comes back as the bytes used; a NULL ifc_buf
 *                   asks for the length needed
 *   SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR   EADDRNOTAVAIL when the interface has no address;
 *                   lo has no broadcast address (0.0.0.0, as on Linux), a NIC its subnet's
 *   SIOCGIFFLAGS    IFF_UP|IFF_BROADCAST|IFF_RUNNING|IFF_MULTICAST for a NIC (UP and RUNNING as the
 *                   device and its link are), IFF_UP|IFF_LOOPBACK|IFF_RUNNING for lo
 *   SIOCGIFHWADDR   ARPHRD_ETHER and the MAC; ARPHRD_LOOPBACK and zeros for lo
 *   SIOCGIFINDEX, SIOCGIFMTU, SIOCGIFNAME (by ifr_ifindex)
 *   SIOCGIFTXQLEN   1000, Linux's default tx_queue_len (the drivers' rings are what really queue)
 * A name nobody has is ENODEV, a bad pointer EFAULT. Devices come from the netdev registry
 * (net/netdev.h); addresses from the stack (stack_if_info, which enters an squeue: thread context,
 * no lock held). Names carry no alias part ("eth0:1").
 */
#include "net/socket.h"
#include "net/stack.h"
#include "kernel/errno.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define SIOCGIFNAME 0x8910
#define SIOCGIFCONF 0x8912
#define SIOCGIFFLAGS 0x8913
#define SIOCGIFADDR 0x8915
#define SIOCGIFBRDADDR 0x8919
#define SIOCGIFNETMASK 0x891b
#define SIOCGIFMTU 0x8921
#define SIOCGIFHWADDR 0x8927
#define SIOCGIFINDEX 0x8933
#define SIOCGIFTXQLEN 0x8942
#define TX_QUEUE_LEN 1000

#define IFF_UP 0x1
#define IFF_BROADCAST 0x2
#define IFF_LOOPBACK 0x8
#define IFF_RUNNING 0x40
#define IFF_MULTICAST 0x1000
#define ARPHRD_ETHER 1
#define ARPHRD_LOOPBACK 772
#define IFNAMSIZ 16

struct sockaddr_gen_k {              /* struct sockaddr */
	uint16_t sa_family;
	uint8_t sa_data[14];
};

struct ifreq_k {                     /* struct ifreq (40 bytes) */
	char name[IFNAMSIZ];
	union {
		struct sockaddr_gen_k addr;
		struct sockaddr_in_k in;
		int16_t flags;
		int32_t ifindex;
		int32_t mtu;
		int32_t qlen;
		uint8_t pad[24];             /* struct ifmap, the union's largest member */
	};
};

struct ifconf_k {                    /* struct ifconf */
	int32_t len;
	int32_t pad;
	uint64_t buf;
};

static void set_in(struct ifreq_k *r, uint32_t addr)
{
	memset(&r->in, 0, sizeof(r->in));
	r->in.sin_family = AF_INET;
	r->in.sin_addr = swab32(addr);
}

static long ifconf(unsigned long arg)
{
	struct ifconf_k ifc;
	if (copy_from_user(&ifc, arg, sizeof(ifc)))
		return -EFAULT;
	int32_t used = 0;
	for (struct net_device *d = netdev_next(NULL); d; d = netdev_next(d)) {
		struct stack_ifinfo info;
		if (stack_if_info(d, &info) < 0 || !info.addr)
			continue;
		if (ifc.buf) {
			if (ifc.len - used < (int32_t)sizeof(struct ifreq_k))
				break;
			struct ifreq_k r;
			memset(&r, 0, sizeof(r));
			strlcpy(r.name, d->name, sizeof(r.name));
			set_in(&r, info.addr);
			if (copy_to_user(ifc.buf + (uint64_t)used, &r, sizeof(r)))
				return -EFAULT;
		}
		used += (int32_t)sizeof(struct ifreq_k);
	}
	ifc.len = used;
	return copy_to_user(arg, &ifc.len, sizeof(ifc.len)) ? -EFAULT : 0;
}

static int16_t if_flags(const struct net_device *d)
{
	unsigned f = d->flags;
	int16_t r = (f & NETDEV_LOOPBACK) ? IFF_LOOPBACK : IFF_BROADCAST | IFF_MULTICAST;
	if (f & NETDEV_UP)
		r |= IFF_UP;
	if ((f & NETDEV_UP) && (f & (NETDEV_LINK | NETDEV_LOOPBACK)))
		r |= IFF_RUNNING;
	return r;
}

/* The address queries: 0, or -EADDRNOTAVAIL without an IPv4 address. */
static int if_addr(struct net_device *d, unsigned long cmd, struct ifreq_k *r)
{
	struct stack_ifinfo info;
	if (stack_if_info(d, &info) < 0 || !info.addr)
		return -EADDRNOTAVAIL;
	if (cmd == SIOCGIFADDR)
		set_in(r, info.addr);
	else if (cmd == SIOCGIFNETMASK)
		set_in(r, info.mask);
	else
		set_in(r, info.loopback ? 0 : info.addr | ~info.mask);
	return 0;
}

long netif_ioctl(unsigned long cmd, unsigned long arg)
{
	switch (cmd) {
	case SIOCGIFNAME: case SIOCGIFCONF: case SIOCGIFFLAGS: case SIOCGIFADDR: case SIOCGIFBRDADDR:
	case SIOCGIFNETMASK: case SIOCGIFMTU: case SIOCGIFHWADDR: case SIOCGIFINDEX: case SIOCGIFTXQLEN:
		break;
	default:
		return -ENOTTY;                  /* not ours: before the argument is read */
	}
	if (cmd == SIOCGIFCONF)
		return ifconf(arg);
	struct ifreq_k r;
	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	struct net_device *d;
	if (cmd == SIOCGIFNAME) {
		if (!(d = netdev_get_by_index(r.ifindex)))
			return -ENODEV;
		memset(r.name, 0, sizeof(r.name));
		strlcpy(r.name, d->name, sizeof(r.name));
		return copy_to_user(arg, &r, sizeof(r)) ? -EFAULT : 0;
	}
	r.name[IFNAMSIZ - 1] = 0;
	if (!(d = netdev_get_by_name(r.name)))
		return -ENODEV;
	int e = 0;
	switch (cmd) {
	case SIOCGIFADDR: case SIOCGIFNETMASK: case SIOCGIFBRDADDR:
		e = if_addr(d, cmd, &r);
		break;
	case SIOCGIFFLAGS:
		r.flags = if_flags(d);
		break;
	case SIOCGIFHWADDR:
		memset(&r.addr, 0, sizeof(r.addr));
		r.addr.sa_family = (d->flags & NETDEV_LOOPBACK) ? ARPHRD_LOOPBACK : ARPHRD_ETHER;
		memcpy(r.addr.sa_data, d->mac, ETH_ALEN);
		break;
	case SIOCGIFINDEX:
		r.ifindex = d->ifindex;
		break;
	case SIOCGIFMTU:
		r.mtu = (int32_t)d->mtu;
		break;
	case SIOCGIFTXQLEN:
		r.qlen = TX_QUEUE_LEN;
		break;
	default:
		return -ENOTTY;
	}
	if (e < 0)
		return e;
	return copy_to_user(arg, &r, sizeof(r)) ? -EFAULT : 0;
}
