/*
 * AF_PACKET sockets (net/socket.h has the socket layer's theory, net/sock_dgram.c the receive
 * queue, net/netdev.h the packet taps this file hangs on):
 *   SOCK_RAW    whole Ethernet frames, in and out;
 *   SOCK_DGRAM  what follows the Ethernet header; a send gets its header from the kernel (the
 *               destination from sll_addr, the device's MAC as source, sll_protocol as type).
 * The protocol (socket()'s, in network order, or bind's sll_protocol) is an ethertype, or ETH_P_ALL
 * for every frame including the outgoing ones (PACKET_OUTGOING), as on Linux, where a socket bound
 * to one protocol sees only frames that arrive; 0 captures nothing. bind's sll_ifindex limits the
 * socket to one device (0: all). recvfrom fills a struct sockaddr_ll: the ethertype, the device,
 * its hardware type (ARPHRD_ETHER, or ARPHRD_LOOPBACK for lo as Linux reports), pkttype
 * (PACKET_HOST, BROADCAST, MULTICAST, OTHERHOST, OUTGOING) and the source MAC.
 *
 * Capture. Each socket owns a struct netdev_tap, on the device layer's tap list while its protocol
 * is not 0. The tap function runs wherever a frame passes (a NIC's poll thread for netdev_rx, an
 * squeue callback for the stack's transmissions and lo's IP traffic, a sending thread for frames
 * sent by packet sockets), with the tap lock held: it copies the frame into a kmalloc'd struct
 * dgram and queues it on the socket (bounded by SO_RCVBUF; a frame that does not fit is dropped
 * and counted, and PACKET_STATISTICS reports the counts as Linux does). lo's IP packets show with
 * a made-up Ethernet header of zero MACs and ETH_P_IP, once outgoing and once arriving, as on
 * Linux. The filter (device, protocol) lives in the tap under the tap lock; taking the tap off
 * the list (release, rebinding) waits for any tap function running, so nothing reaches a freed
 * socket.
 *
 * Transmit. sendto copies the frame (or builds it, for SOCK_DGRAM) into a kmalloc'd buffer and
 * hands it to the device with netdev_xmit_tap, which never sleeps: it is sent, or queued behind a
 * full ring, or dropped with ENOBUFS. The sender's own tap does not see its outgoing copy (Linux's
 * rule); a frame sent on lo comes back in through netdev_rx like one from the wire.
 *
 * Not done: PACKET_MMAP rings, fanout, promiscuous mode and memberships, auxiliary data, BPF
 * filters, SOCK_PACKET.
 */
#include "net/sock_dgram.h"
#include "net/netdev.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/string.h"

#define ARPHRD_ETHER 1
#define ARPHRD_LOOPBACK 772
#define PACKET_STATISTICS 6
#define SLL_ADDR_OFF offsetof(struct sockaddr_ll_k, sll_addr)
#define PACKET_RECV_FLAGS (MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | 0x2000 /* MSG_ERRQUEUE */)

struct packet_sock {
	struct dgram_queue q;            /* first (net/sock_dgram.h) */
	struct socket *s;
	struct netdev_tap tap;           /* its filter: the tap lock */
	uint64_t stats_received, stats_drops;   /* s->lock: the counts PACKET_STATISTICS last reported */
};

struct tpacket_stats_k {
	uint32_t tp_packets, tp_drops;
};

static struct packet_sock *ps_of(struct socket *s) { return s->proto; }

static uint16_t hatype(const struct net_device *dev)
{
	return (dev->flags & NETDEV_LOOPBACK) ? ARPHRD_LOOPBACK : ARPHRD_ETHER;
}

/* The tap: the tap lock held, interrupts off; any context that passes frames (see the top). */
static void packet_tap_fn(struct netdev_tap *t, struct net_device *dev, const uint8_t *hdr, const uint8_t *data,
			  size_t len, int pkttype)
{
	struct packet_sock *ps = container_of(t, struct packet_sock, tap);
	struct socket *s = ps->s;
	bool raw = s->type == SOCK_RAW;
	struct dgram *d = dgq_full(s) ? NULL : dgram_new(raw ? ETH_HLEN + len : len);
	if (!d) {
		dgq_count_drop(s);
		return;
	}
	if (raw)
		memcpy(d->data, hdr, ETH_HLEN);
	memcpy(d->data + (raw ? ETH_HLEN : 0), data, len);
	struct sockaddr_ll_k *ll = &d->addr.ll;
	memset(ll, 0, sizeof(*ll));
	ll->sll_family = AF_PACKET;
	memcpy(&ll->sll_protocol, hdr + 2 * ETH_ALEN, sizeof(ll->sll_protocol));   /* network order */
	ll->sll_ifindex = dev->ifindex;
	ll->sll_hatype = hatype(dev);
	ll->sll_pkttype = (uint8_t)pkttype;
	ll->sll_halen = ETH_ALEN;
	memcpy(ll->sll_addr, hdr + ETH_ALEN, ETH_ALEN);
	d->addrlen = sizeof(*ll);            /* Linux reports the whole struct for a 6-byte address */
	dgq_push(s, d);
}

static int packet_create(struct socket *s)
{
	struct packet_sock *ps = kzalloc(sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	dgq_init(&ps->q);
	ps->s = s;
	ps->tap.fn = packet_tap_fn;
	s->proto = ps;
	s->rcvbuf = s->sndbuf = DGRAM_BUF_DEFAULT;
	netdev_tap_set(&ps->tap, 0, swab16((uint16_t)s->protocol));
	return 0;
}

static void packet_release(struct socket *s)
{
	struct packet_sock *ps = ps_of(s);
	netdev_tap_set(&ps->tap, 0, 0);      /* no tap function runs for ps after this */
	dgq_flush(s);
	kfree(ps);
	s->proto = NULL;
}

static int packet_bind(struct socket *s, const struct sockaddr_k *a, int len)
{
	struct packet_sock *ps = ps_of(s);
	if (len < (int)sizeof(struct sockaddr_ll_k) || a->family != AF_PACKET)
		return -EINVAL;
	int ifindex = a->ll.sll_ifindex;
	if (ifindex && !netdev_get_by_index(ifindex))
		return -ENODEV;
	int old_ifindex;
	uint16_t proto;
	netdev_tap_get(&ps->tap, &old_ifindex, &proto);
	if (a->ll.sll_protocol)
		proto = swab16(a->ll.sll_protocol);
	netdev_tap_set(&ps->tap, ifindex, proto);
	return 0;
}

static int packet_getname(struct socket *s, struct sockaddr_k *a, int *len, bool peer)
{
	if (peer)
		return -EOPNOTSUPP;
	int ifindex;
	uint16_t proto;
	netdev_tap_get(&ps_of(s)->tap, &ifindex, &proto);
	struct sockaddr_ll_k *ll = &a->ll;
	memset(ll, 0, sizeof(*ll));
	ll->sll_family = AF_PACKET;
	ll->sll_protocol = swab16(proto);
	ll->sll_ifindex = ifindex;
	struct net_device *dev = ifindex ? netdev_get_by_index(ifindex) : NULL;
	if (dev) {
		ll->sll_hatype = hatype(dev);
		ll->sll_halen = ETH_ALEN;
		memcpy(ll->sll_addr, dev->mac, ETH_ALEN);
	}
	*len = (int)SLL_ADDR_OFF + ll->sll_halen;
	return 0;
}

static long packet_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock __unused)
{
	struct packet_sock *ps = ps_of(s);
	size_t len = m->data.resid;
	const uint8_t *daddr = NULL;
	int ifindex;
	uint16_t proto;
	netdev_tap_get(&ps->tap, &ifindex, &proto);
	if (m->addrlen) {
		if (m->addrlen < (int)sizeof(struct sockaddr_ll_k))
			return -EINVAL;
		ifindex = m->addr.ll.sll_ifindex;
		proto = swab16(m->addr.ll.sll_protocol);
		daddr = m->addr.ll.sll_addr;
	}
	struct net_device *dev = ifindex ? netdev_get_by_index(ifindex) : NULL;
	if (!dev)
		return -ENXIO;
	if (!(dev->flags & NETDEV_UP))
		return -ENETDOWN;
	bool raw = s->type == SOCK_RAW;
	size_t hlen = raw ? 0 : ETH_HLEN;
	if (raw && len < ETH_HLEN)
		return -EINVAL;
	if (!raw && !daddr)
		return -EINVAL;                  /* no destination for the header we build */
	if (len + hlen > dev->mtu + ETH_HLEN + VLAN_HLEN)
		return -EMSGSIZE;
	uint8_t *frame = kmalloc(len + hlen);
	if (!frame)
		return -ENOBUFS;
	long r = uio_copy_in(&m->data, frame + hlen, len);
	if (r >= 0 && !raw) {
		memcpy(frame, daddr, ETH_ALEN);
		memcpy(frame + ETH_ALEN, dev->mac, ETH_ALEN);
		frame[2 * ETH_ALEN] = (uint8_t)(proto >> 8);
		frame[2 * ETH_ALEN + 1] = (uint8_t)proto;
	}
	if (r >= 0)
		r = netdev_xmit_tap(dev, frame, len + hlen, &ps->tap);
	kfree(frame);
	if (r == -EIO)
		return -ENETDOWN;
	return r < 0 ? r : (long)len;
}

static long packet_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	if (m->flags & ~PACKET_RECV_FLAGS)
		return -EINVAL;
	return dgq_recvmsg(s, m, nonblock);
}

static int packet_setsockopt(struct socket *s __unused, int level __unused, int name __unused,
			     const void *val __unused, int len __unused)
{
	return -ENOPROTOOPT;
}

static int packet_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	if (level != SOL_PACKET)
		return -ENOPROTOOPT;
	if (name != PACKET_STATISTICS)
		return -EOPNOTSUPP;
	/* Linux: the counts since the last call, the dropped ones counted in tp_packets too */
	struct packet_sock *ps = ps_of(s);
	struct tpacket_stats_k st;
	spin_lock(&s->lock);
	uint64_t drops = ps->q.drops - ps->stats_drops;
	st.tp_packets = (uint32_t)(ps->q.received - ps->stats_received + drops);
	st.tp_drops = (uint32_t)drops;
	ps->stats_received = ps->q.received;
	ps->stats_drops = ps->q.drops;
	spin_unlock(&s->lock);
	*len = MIN(*len, (int)sizeof(st));
	memcpy(val, &st, (size_t)*len);
	return 0;
}

const struct sock_ops packet_sock_ops = {
	.create = packet_create,
	.release = packet_release,
	.bind = packet_bind,
	.sendmsg = packet_sendmsg,
	.recvmsg = packet_recvmsg,
	.getname = packet_getname,
	.poll = dgq_poll,
	.setsockopt = packet_setsockopt,
	.getsockopt = packet_getsockopt,
	.ioctl = dgq_ioctl,
};
