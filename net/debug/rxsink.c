/*
 * The test kernel's receive counters: a packet tap per NIC (net/netdev.h, ETH_P_ALL, bound to the
 * device) registered at boot sees every frame it receives, like an AF_PACKET socket would; the stack's receive path
 * does not know it exists. The shipping kernel has no such tap (this file is test-only).
 *
 * Theory. Counting must stay exact at full rate on several CPUs without a shared lock, so each
 * device has a per-CPU table of (ethertype, frames, bytes) written only by its own CPU with
 * interrupts off (the poll thread is pinned, and irq_push_off keeps a preempting thread of the
 * same CPU out); readers sum the tables. A table holds RX_SINK_TYPES ethertypes in first-seen
 * order; the last slot collects the rest as RX_SINK_OTHER. The ethertype field of a slot is
 * written once, before its counters, so a reader on another CPU sees a slot's type before it
 * sees non-zero counters for it.
 *
 * ARP replies go into a small ring (arp_lock) and wake arp_wq, on which arping sleeps.
 * The watch (watch_lock guards its setup and teardown; the counters are atomics) lets one
 * waiter sleep on watch_wq until N ETH_P_EXP frames arrived on a device, noting the times of the
 * first and last: a receive-rate measurement that needs no cooperation from the sender.
 */
#include "net/debug/rxsink.h"
#include "kernel/init.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "kernel/errno.h"

#define ARP_HTYPE_ETHER 1
#define ARP_OP_REPLY 2
#define ARP_LEN 28                     /* Ethernet/IPv4 ARP payload */

struct type_slot {
	uint16_t type;
	volatile bool used;                /* set once, after type */
	uint64_t frames, bytes;
};

struct netdev_rx_sink {
	struct type_slot cpu[NCPU][RX_SINK_TYPES];
	struct netdev_tap tap;             /* bound to its device (lo has none: its IP traffic would
					      have to be flattened for a tap, see net/stack.c) */
};

static uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* One table per device, by ifindex; allocated at boot for the devices that exist then (written
 * once before the tap is set, read-only after). */
#define RXSINK_MAX_IFINDEX 16
static struct netdev_rx_sink *sinks[RXSINK_MAX_IFINDEX];

static struct netdev_rx_sink *sink_of(struct net_device *dev)
{
	return dev->ifindex >= 0 && dev->ifindex < RXSINK_MAX_IFINDEX ? sinks[dev->ifindex] : NULL;
}

/* ---- ethertype counters ---- */

static void count_type(struct net_device *dev, uint16_t type, size_t len)
{
	struct netdev_rx_sink *sink = sink_of(dev);
	if (!sink)
		return;
	irq_push_off();
	struct type_slot *t = sink->cpu[cpu_id()];
	int i = 0;
	for (; i < RX_SINK_TYPES - 1; i++) {
		if (t[i].used && t[i].type == type)
			break;
		if (!t[i].used) {
			t[i].type = type;
			__atomic_thread_fence(__ATOMIC_RELEASE);
			t[i].used = true;
			break;
		}
	}
	if (i == RX_SINK_TYPES - 1 && !t[i].used) {
		t[i].type = RX_SINK_OTHER;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		t[i].used = true;
	}
	t[i].frames++;
	t[i].bytes += len;
	irq_pop_off();
}

int netdev_rx_types(struct net_device *dev, struct netdev_rx_type_stats *out, int max)
{
	int n = 0;
	struct netdev_rx_sink *sink = sink_of(dev);
	if (!sink)
		return 0;
	for (int c = 0; c < NCPU; c++) {
		for (int i = 0; i < RX_SINK_TYPES; i++) {
			struct type_slot *t = &sink->cpu[c][i];
			if (!t->used)
				continue;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			uint16_t type = t->type;
			uint64_t frames = READ_ONCE(t->frames), bytes = READ_ONCE(t->bytes);
			if (!frames)
				continue;
			int j = 0;
			while (j < n && out[j].type != type)
				j++;
			if (j == n) {
				if (n == max)
					continue;
				out[n++] = (struct netdev_rx_type_stats){ type, 0, 0 };
			}
			out[j].frames += frames;
			out[j].bytes += bytes;
		}
	}
	return n;
}

/* ---- ARP replies ---- */

struct waitq arp_wq = WAITQ_INIT(arp_wq, "arp");
static struct spinlock arp_lock = SPINLOCK_INIT("arp");
static struct arp_reply arp_ring[ARP_KEEP];
static uint64_t arp_seq;

static void arp_input(struct net_device *dev, const uint8_t *frame, size_t len)
{
	const uint8_t *a = frame + ETH_HLEN;
	if (len < ETH_HLEN + ARP_LEN || get_be16(a) != ARP_HTYPE_ETHER || get_be16(a + 2) != ETH_P_IP ||
	    a[4] != ETH_ALEN || a[5] != IPV4_ALEN || get_be16(a + 6) != ARP_OP_REPLY)
		return;
	spin_lock(&arp_lock);
	struct arp_reply *r = &arp_ring[arp_seq % ARP_KEEP];
	r->ifindex = dev->ifindex;
	memcpy(r->mac, a + 8, ETH_ALEN);
	memcpy(r->ip, a + 14, IPV4_ALEN);
	r->ns = time_ns();
	r->seq = ++arp_seq;
	spin_unlock(&arp_lock);
	wake_all(&arp_wq);
}

uint64_t arp_reply_seq(void)
{
	spin_lock(&arp_lock);
	uint64_t s = arp_seq;
	spin_unlock(&arp_lock);
	return s;
}

bool arp_reply_find(const uint8_t ip[IPV4_ALEN], int ifindex, uint64_t after, struct arp_reply *out)
{
	bool found = false;
	spin_lock(&arp_lock);
	for (uint64_t s = arp_seq; s > after && arp_seq - s < ARP_KEEP; s--) {
		struct arp_reply *r = &arp_ring[(s - 1) % ARP_KEEP];
		if (!memcmp(r->ip, ip, IPV4_ALEN) && (ifindex < 0 || r->ifindex == ifindex)) {
			*out = *r;
			found = true;
			break;
		}
	}
	spin_unlock(&arp_lock);
	return found;
}

/* ---- the ETH_P_EXP watch ---- */

static struct spinlock watch_lock = SPINLOCK_INIT("rxwatch");
static struct waitq watch_wq = WAITQ_INIT(watch_wq, "rxwatch");
static struct {
	struct net_device *volatile dev;   /* NULL: no watch */
	uint64_t target;
	uint64_t frames, bytes, first_ns, last_ns;   /* frames/bytes: atomic adds */
} watch;

static void watch_input(struct net_device *dev, size_t len)
{
	if (READ_ONCE(watch.dev) != dev)
		return;
	uint64_t n = __atomic_add_fetch(&watch.frames, 1, __ATOMIC_ACQ_REL);
	__atomic_add_fetch(&watch.bytes, len, __ATOMIC_RELAXED);
	uint64_t now = time_ns();
	if (n == 1)
		__atomic_store_n(&watch.first_ns, now, __ATOMIC_RELAXED);
	uint64_t last = __atomic_load_n(&watch.last_ns, __ATOMIC_RELAXED);
	while (now > last && !__atomic_compare_exchange_n(&watch.last_ns, &last, now, false, __ATOMIC_RELAXED,
							  __ATOMIC_RELAXED))
		;
	if (n == watch.target)
		wake_all(&watch_wq);
}

int rx_watch_start(struct net_device *dev, uint64_t target)
{
	spin_lock(&watch_lock);
	if (watch.dev) {
		spin_unlock(&watch_lock);
		return -EBUSY;
	}
	watch.target = target;
	watch.frames = watch.bytes = watch.first_ns = watch.last_ns = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	WRITE_ONCE(watch.dev, dev);
	spin_unlock(&watch_lock);
	return 0;
}

int rx_watch_wait(uint64_t timeout_ns, struct rx_watch_result *res)
{
	int r = wait_event_timeout(&watch_wq, __atomic_load_n(&watch.frames, __ATOMIC_ACQUIRE) >= watch.target,
				   timeout_ns);
	spin_lock(&watch_lock);
	WRITE_ONCE(watch.dev, NULL);
	spin_unlock(&watch_lock);
	res->frames = __atomic_load_n(&watch.frames, __ATOMIC_ACQUIRE);
	res->bytes = __atomic_load_n(&watch.bytes, __ATOMIC_RELAXED);
	res->first_ns = __atomic_load_n(&watch.first_ns, __ATOMIC_RELAXED);
	res->last_ns = __atomic_load_n(&watch.last_ns, __ATOMIC_RELAXED);
	return r;
}

/* The tap's callback: netdev_rx's context (a poll thread, or lo's sender), tap_lock held. */
static void rxsink_tap_fn(struct netdev_tap *t __unused, struct net_device *dev, const uint8_t *hdr,
			  const uint8_t *data, size_t len, int pkttype)
{
	if (pkttype == PACKET_OUTGOING || data != hdr + ETH_HLEN)
		return;                        /* sent frames, and lo's made-up headers */
	const uint8_t *frame = hdr;
	len += ETH_HLEN;
	uint16_t type = get_be16(frame + 2 * ETH_ALEN);
	count_type(dev, type, len);
	if (type == ETH_P_ARP)
		arp_input(dev, frame, len);
	else if (type == ETH_P_EXP)
		watch_input(dev, len);
}

static void rxsink_init(void)
{
	for (struct net_device *d = netdev_next(NULL); d; d = netdev_next(d)) {
		if (d->ifindex < 0 || d->ifindex >= RXSINK_MAX_IFINDEX || (d->flags & NETDEV_LOOPBACK))
			continue;
		struct netdev_rx_sink *s = kzalloc(sizeof(*s));
		if (!s)
			continue;
		sinks[d->ifindex] = s;
		s->tap.fn = rxsink_tap_fn;
		netdev_tap_set(&s->tap, d->ifindex, ETH_P_ALL);
	}
}
debug_init(rxsink_init);
