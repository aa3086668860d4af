/*
 * The net_device layer: registry, per-CPU counters, the NAPI-like receive path and the transmit
 * path (interface and contract in net/netdev.h).
 *
 * Theory. A NIC interrupt must do as little as possible: the driver's handler acks the device,
 * masks the IRQ and calls netdev_schedule_poll, which puts the device on the poll list of the CPU
 * that took the interrupt and wakes that CPU's poll thread. The poll thread (one per CPU, pinned,
 * named netpoll/N) takes devices off its list in FIFO order and runs ops->poll with a budget, so
 * several busy devices on one CPU share it fairly; a device that used its whole budget goes back
 * to the tail of the list with its IRQ still masked (polling mode), one that found its ring empty
 * becomes idle and gets its IRQ unmasked. Under load a device therefore takes one interrupt per
 * burst instead of one per frame. The poll thread sleeps on its CPU's wait queue when the list is
 * empty (wait queues are the one blocking primitive: nothing spins).
 *
 * Device poll state: IDLE -> SCHEDULED (netdev_schedule_poll) -> RUNNING (the poll thread took it)
 * -> IDLE (ring empty; IRQ unmasked) or SCHEDULED again (budget used, or netdev_schedule_poll
 * called while running, recorded in poll_again). Because a device is re-queued only by the thread
 * that ran it, and only after its poll returned, two CPUs never poll one device at once.
 *
 * Unmask, then look (kernel/irq.h says why QEMU needs this order). When poll finds the ring empty,
 * the thread unmasks the IRQ while the device is still RUNNING and calls poll once more; only if
 * that also comes back empty does the device become IDLE. An interrupt taken during the second
 * look finds the device RUNNING and sets poll_again.
 *
 * Transmit: netdev_xmit retries ops->start_xmit; on BUSY it sleeps on dev->tx_wait until
 * netdev_tx_wake bumps dev->tx_wake_gen (sampled before the attempt, so a wake between the
 * attempt and the sleep is not lost), bounded by NETDEV_TX_TIMEOUT_MS.
 * netdev_xmit_nosleep (the stack's) never sleeps: under txq_lock it first sends what the backlog
 * holds, then the new frame, and copies what the ring will not take into the backlog (in order).
 * netdev_tx_wake sets txq_flush and schedules a poll round (without counting an interrupt), and
 * the poll thread flushes before it polls. A wake racing with a BUSY is not lost: the sender
 * samples tx_wake_gen before the attempt and flushes again if it moved after the frame was queued,
 * while netdev_tx_wake reads txq_len after bumping tx_wake_gen (both sequentially consistent).
 *
 * Receive: netdev_rx validates and counts the frame, on a NIC without LRO passes it through
 * software GRO (net/gro.c: a poll's consecutive segments of a TCP connection become one frame,
 * and the poll thread flushes what GRO holds after each ops->poll, so nothing is held across
 * polls), shows it to the packet taps and hands it to the protocol handler registered for its
 * ethertype (netdev_add_proto: the stack registers IPv4
 * and ARP at stack_init); frames of other types are counted as rx_nohandler and dropped. The
 * handler table is written only at boot, before any device polls, so readers take no lock.
 *
 * Packet taps (AF_PACKET): a list under tap_lock with a count beside it, so a frame costs one
 * atomic load while nobody captures. netdev_rx shows incoming frames to the taps (pkttype from the
 * destination MAC), netdev_xmit and netdev_xmit_nosleep outgoing ones (before padding, as the
 * driver gets them); net/stack.c does the same for lo's IP traffic, which bypasses both.
 *
 * Locks: registry_lock guards the device list and naming; dev->poll_lock guards poll_state,
 * poll_again and poll_cpu; pollcpu[c].lock guards CPU c's poll list. Order: poll_lock -> list
 * lock -> (irq_lock inside irq_unmask); txq_lock -> the driver's ring lock -> tap_lock (lo's
 * start_xmit is netdev_rx). tap_lock guards the tap list and every tap's filter. The per-CPU
 * counters need no lock: each CPU writes only its own, with interrupts off.
 */
#include "kernel/init.h"
#include "net/netdev.h"
#include "net/squeue.h"
#include "net/gro.h"
#include "kernel/irq.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "kernel/timer.h"

enum { POLL_IDLE, POLL_SCHEDULED, POLL_RUNNING };

#define MAX_NAME_UNIT 100            /* eth0 .. eth99 */
#define LO_DEV_MTU 65536             /* Linux's (the stack's lwIP netif for lo, 16 bits, says 65535) */

/* a frame waiting in a device's transmit backlog */
struct txq_frame {
	struct list_head node;
	size_t len;
	uint8_t data[];
};

struct poll_cpu {
	struct spinlock lock;
	struct list_head list;           /* scheduled devices, FIFO */
	struct waitq wq;                 /* the poll thread sleeps here when the list is empty */
	struct thread *thread;
};

static struct poll_cpu pollcpu[NCPU];
static struct spinlock registry_lock = SPINLOCK_INIT("netdev");
static struct list_head devices = LIST_HEAD_INIT(devices);
static int next_ifindex = 1;
static int nirq_devices;             /* devices with an IRQ, for spreading them over CPUs */
static struct spinlock tap_lock = SPINLOCK_INIT("netdev_tap");
static struct list_head taps = LIST_HEAD_INIT(taps);
int netdev_ntaps_all;

/* ---- registry ---- */

static struct net_device *find_by_name_locked(const char *name)
{
	struct list_head *p;
	list_for_each(p, &devices) {
		struct net_device *d = list_entry(p, struct net_device, list);
		if (!strcmp(d->name, name))
			return d;
	}
	return NULL;
}

/* The i-th online CPU after CPU 0, wrapping (spreads devices, CPU 0 last). */
static int spread_cpu(int i)
{
	int online[NCPU], n = 0;
	for (int c = 0; c < ncpus; c++)
		if (cpus[c].online)
			online[n++] = c;
	return n ? online[(i + 1) % n] : 0;
}

int netdev_set_irq_affinity(struct net_device *dev, int cpu)
{
	if (dev->irq <= 0)
		return -EINVAL;
	if (irq_set_affinity(dev->irq, cpu) < 0)
		return -EINVAL;
	dev->irq_cpu = cpu;
	return 0;
}

/* ---- software GRO (net/gro.c) ---- */

static void rx_deliver(struct net_device *dev, const uint8_t *f, size_t len, unsigned flags);

static void gro_deliver(void *ctx, const uint8_t *frame, size_t len, unsigned flags, unsigned segs)
{
	struct net_device *dev = ctx;
	if (segs > 1)
		NETDEV_STAT_INC(dev, rx_gro);
	rx_deliver(dev, frame, len, flags);
}

/* Without memory the device simply goes without GRO. */
static void gro_attach(struct net_device *dev)
{
	struct gro *g = kmalloc(sizeof(*g));
	uint8_t *buf = g ? kmalloc(GRO_MAX) : NULL;
	if (!buf) {
		kfree(g);
		return;
	}
	gro_init(g, buf, gro_deliver, dev);
	dev->gro = g;
	dev->features |= NETDEV_F_GRO;
}

static void gro_detach(struct net_device *dev)
{
	struct gro *g = dev->gro;
	if (!g)
		return;
	dev->gro = NULL;
	dev->features &= ~NETDEV_F_GRO;
	kfree(g->buf);
	kfree(g);
}

int netdev_register(struct net_device *dev, const char *name_prefix)
{
	if (!dev->ops || !dev->ops->start_xmit || !dev->ops->poll)
		return -EINVAL;
	memset(dev->stats, 0, sizeof(dev->stats));
	waitq_init(&dev->tx_wait, "tx_wait");
	spin_init(&dev->poll_lock, "netpoll");
	list_init(&dev->poll_node);
	dev->poll_state = POLL_IDLE;
	dev->poll_again = false;
	dev->poll_cpu = -1;
	dev->tx_wake_gen = 0;
	dev->stack = NULL;
	spin_init(&dev->txq_lock, "txq");
	spin_init(&dev->mc_lock, "netdev_mc");
	spin_init(&dev->mc_sync, "netdev_mc_sync");
	dev->nmc = 0;
	dev->mc_over = 0;
	list_init(&dev->txq);
	dev->txq_len = 0;
	dev->txq_flush = 0;
	dev->flags &= ~NETDEV_UP;
	if (!dev->mtu)
		dev->mtu = ETH_DATA_LEN;
	dev->gro = NULL;
	if (!(dev->flags & NETDEV_LOOPBACK) && !(dev->features & NETDEV_F_LRO))
		gro_attach(dev);

	spin_lock(&registry_lock);
	int unit = 0;
	for (; unit < MAX_NAME_UNIT; unit++) {
		if (dev->flags & NETDEV_LOOPBACK)      /* "lo", no unit */
			strlcpy(dev->name, name_prefix, sizeof(dev->name));
		else
			snprintf(dev->name, sizeof(dev->name), "%s%d", name_prefix, unit);
		if (!find_by_name_locked(dev->name))
			break;
		if (dev->flags & NETDEV_LOOPBACK)
			unit = MAX_NAME_UNIT - 1;
	}
	if (unit == MAX_NAME_UNIT) {
		spin_unlock(&registry_lock);
		return -ENOSPC;
	}
	dev->ifindex = next_ifindex++;
	int spread = dev->irq > 0 ? nirq_devices++ : -1;
	list_add_tail(&dev->list, &devices);
	spin_unlock(&registry_lock);

	if (!dev->ops->open || dev->ops->open(dev) == 0)
		dev->flags |= NETDEV_UP;
	else
		printk("%s: open failed\n", dev->name);
	if (spread >= 0)
		netdev_set_irq_affinity(dev, spread_cpu(spread));
	return 0;
}

void netdev_unregister(struct net_device *dev)
{
	if (dev->ops->stop)
		dev->ops->stop(dev);
	gro_detach(dev);
	dev->flags &= ~NETDEV_UP;
	spin_lock(&dev->poll_lock);
	if (dev->poll_state == POLL_SCHEDULED) {
		struct poll_cpu *pc = &pollcpu[dev->poll_cpu];
		spin_lock(&pc->lock);
		list_del(&dev->poll_node);
		spin_unlock(&pc->lock);
		dev->poll_state = POLL_IDLE;
	}
	spin_unlock(&dev->poll_lock);
	spin_lock(&registry_lock);
	list_del(&dev->list);
	spin_unlock(&registry_lock);
	wake_all(&dev->tx_wait);
	spin_lock(&dev->txq_lock);
	while (!list_empty(&dev->txq)) {
		struct txq_frame *t = list_first_entry(&dev->txq, struct txq_frame, node);
		list_del(&t->node);
		kfree(t);
		NETDEV_STAT_INC(dev, tx_dropped);
	}
	dev->txq_len = 0;
	spin_unlock(&dev->txq_lock);
}

struct net_device *netdev_get_by_name(const char *name)
{
	spin_lock(&registry_lock);
	struct net_device *d = find_by_name_locked(name);
	spin_unlock(&registry_lock);
	return d;
}

struct net_device *netdev_get_by_index(int ifindex)
{
	struct net_device *found = NULL;
	struct list_head *p;
	spin_lock(&registry_lock);
	list_for_each(p, &devices) {
		struct net_device *d = list_entry(p, struct net_device, list);
		if (d->ifindex == ifindex) {
			found = d;
			break;
		}
	}
	spin_unlock(&registry_lock);
	return found;
}

struct net_device *netdev_next(struct net_device *prev)
{
	spin_lock(&registry_lock);
	struct list_head *n = prev ? prev->list.next : devices.next;
	struct net_device *d = n == &devices ? NULL : list_entry(n, struct net_device, list);
	spin_unlock(&registry_lock);
	return d;
}

void netdev_get_stats(struct net_device *dev, struct netdev_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < NCPU; c++) {
		const struct netdev_stats *s = &dev->stats[c];
		sum->rx_packets += READ_ONCE(s->rx_packets);
		sum->rx_bytes += READ_ONCE(s->rx_bytes);
		sum->rx_dropped += READ_ONCE(s->rx_dropped);
		sum->rx_nohandler += READ_ONCE(s->rx_nohandler);
		sum->rx_errors += READ_ONCE(s->rx_errors);
		sum->tx_packets += READ_ONCE(s->tx_packets);
		sum->tx_bytes += READ_ONCE(s->tx_bytes);
		sum->tx_dropped += READ_ONCE(s->tx_dropped);
		sum->tx_errors += READ_ONCE(s->tx_errors);
		sum->interrupts += READ_ONCE(s->interrupts);
		sum->polls += READ_ONCE(s->polls);
		sum->tx_busy += READ_ONCE(s->tx_busy);
		sum->tx_tso += READ_ONCE(s->tx_tso);
		sum->rx_lro += READ_ONCE(s->rx_lro);
		sum->rx_gro += READ_ONCE(s->rx_gro);
		sum->rx_releases += READ_ONCE(s->rx_releases);
	}
	if (dev->ops->get_stats)
		dev->ops->get_stats(dev, sum);
}

/* ---- receive ---- */

/* Put dev on CPU cpu's poll list (dev->poll_lock held); true if the thread must be woken. */
static bool enqueue_poll(struct net_device *dev, int cpu)
{
	struct poll_cpu *pc = &pollcpu[cpu];
	spin_lock(&pc->lock);
	bool was_empty = list_empty(&pc->list);
	list_add_tail(&dev->poll_node, &pc->list);
	spin_unlock(&pc->lock);
	dev->poll_cpu = cpu;
	dev->poll_state = POLL_SCHEDULED;
	return was_empty;
}

/* Put dev on this CPU's poll list (or note that its running poll must run again). */
static void schedule_poll(struct net_device *dev)
{
	irq_push_off();
	int cpu = cpu_id();
	bool wake = false;
	spin_lock(&dev->poll_lock);
	if (dev->poll_state == POLL_IDLE) {
		if (!pollcpu[cpu].thread)        /* before net_init started the threads: CPU 0's */
			cpu = 0;
		wake = enqueue_poll(dev, cpu);
	} else if (dev->poll_state == POLL_RUNNING) {
		dev->poll_again = true;
	}
	int target = dev->poll_cpu;
	spin_unlock(&dev->poll_lock);
	irq_pop_off();
	if (wake)
		wake_one(&pollcpu[target].wq);
}

void netdev_schedule_poll(struct net_device *dev)
{
	NETDEV_STAT_INC(dev, interrupts);
	schedule_poll(dev);
}

static void txq_flush(struct net_device *dev);

void netdev_poll_done(struct net_device *dev __unused) {}

static bool list_nonempty(struct poll_cpu *pc) { return READ_ONCE(pc->list.next) != &pc->list; }

static void poll_thread(void *arg)
{
	struct poll_cpu *pc = arg;
	int cpu = (int)(pc - pollcpu);
	for (;;) {
		wait_event(&pc->wq, list_nonempty(pc));
		spin_lock(&pc->lock);
		struct net_device *dev = NULL;
		if (!list_empty(&pc->list)) {
			dev = list_first_entry(&pc->list, struct net_device, poll_node);
			list_del(&dev->poll_node);
		}
		spin_unlock(&pc->lock);
		if (!dev)
			continue;
		spin_lock(&dev->poll_lock);
		dev->poll_state = POLL_RUNNING;
		dev->poll_again = false;
		spin_unlock(&dev->poll_lock);

		if (__atomic_exchange_n(&dev->txq_flush, 0, __ATOMIC_ACQ_REL))
			txq_flush(dev);
		NETDEV_STAT_INC(dev, polls);
		int done = dev->ops->poll(dev, NETDEV_POLL_BUDGET);
		if (dev->gro)
			gro_flush(dev->gro);             /* a poll's frames go up before it ends */
		bool unmasked = false;
		if (done < NETDEV_POLL_BUDGET && !READ_ONCE(dev->poll_again) && dev->irq > 0) {
			/* unmask first, then look once more (see "Unmask, then look" above) */
			irq_unmask(dev->irq);
			unmasked = true;
			NETDEV_STAT_INC(dev, polls);
			done = dev->ops->poll(dev, NETDEV_POLL_BUDGET);
			if (dev->gro)
				gro_flush(dev->gro);
		}

		spin_lock(&dev->poll_lock);
		if (done >= NETDEV_POLL_BUDGET || dev->poll_again) {
			if (unmasked)
				irq_mask(dev->irq);      /* back to polling mode */
			enqueue_poll(dev, cpu);          /* our own list: we are awake anyway */
		} else {
			dev->poll_state = POLL_IDLE;
		}
		spin_unlock(&dev->poll_lock);
	}
}

/* Receive handlers by ethertype (netdev_add_proto): written at boot only, read without a lock. */
#define NETDEV_MAX_PROTOS 4
struct netdev_proto { uint16_t type; netdev_proto_fn fn; };
static struct netdev_proto protos[NETDEV_MAX_PROTOS];
static int nprotos;

void netdev_rx_offload(struct net_device *dev, const void *frame, size_t len, unsigned flags)
{
	const uint8_t *f = frame;
	/* lo loops back whatever was sent on it, up to its MTU; an LRO frame may be up to NETDEV_LRO_MAX */
	bool lo_ok = (dev->flags & NETDEV_LOOPBACK) && len <= dev->mtu + ETH_HLEN;
	if ((flags & NETDEV_RX_LRO) && (dev->features & NETDEV_F_LRO) && len <= NETDEV_LRO_MAX)
		lo_ok = true;
	if (len < ETH_HLEN || (!lo_ok && (len > ETH_MAX_FRAME ||
	    (len > ETH_FRAME_LEN && (f[2 * ETH_ALEN] << 8 | f[2 * ETH_ALEN + 1]) != ETH_P_8021Q)))) {
		NETDEV_STAT_INC(dev, rx_errors);
		return;
	}
	irq_push_off();
	struct netdev_stats *s = netdev_stats_this_cpu(dev);
	s->rx_packets++;
	s->rx_bytes += len;
	if (flags & NETDEV_RX_LRO)
		s->rx_lro++;
	irq_pop_off();
	if (dev->gro && !(flags & NETDEV_RX_LRO))
		gro_receive(dev->gro, f, len, flags);    /* merged, held, or delivered through rx_deliver */
	else
		rx_deliver(dev, f, len, flags);
}

/* A frame (as received, or as GRO built it) to the packet taps and its protocol's handler. */
static void rx_deliver(struct net_device *dev, const uint8_t *f, size_t len, unsigned flags)
{
	netdev_tap(dev, f, f + ETH_HLEN, len - ETH_HLEN, false);
	uint16_t type = (uint16_t)(f[2 * ETH_ALEN] << 8 | f[2 * ETH_ALEN + 1]);
	for (int i = 0; i < nprotos; i++) {
		if (protos[i].type == type) {
			protos[i].fn(dev, f, len, flags);
			return;
		}
	}
	NETDEV_STAT_INC(dev, rx_nohandler);
}

int netdev_add_proto(uint16_t ethertype, netdev_proto_fn fn)
{
	if (nprotos == NETDEV_MAX_PROTOS)
		return -ENOSPC;
	protos[nprotos++] = (struct netdev_proto){ ethertype, fn };
	return 0;
}

/* ---- transmit ---- */

/* The largest frame a device takes: its MTU (and a VLAN tag). */
static size_t max_frame(struct net_device *dev) { return dev->mtu + ETH_HLEN + VLAN_HLEN; }

int netdev_xmit(struct net_device *dev, const void *frame, size_t len, bool wait)
{
	uint8_t padded[ETH_ZLEN];
	if (len < ETH_HLEN || len > max_frame(dev)) {
		NETDEV_STAT_INC(dev, tx_errors);
		return -EINVAL;
	}
	if (!(dev->flags & NETDEV_UP)) {
		NETDEV_STAT_INC(dev, tx_dropped);
		return -EIO;
	}
	netdev_tap(dev, frame, (const uint8_t *)frame + ETH_HLEN, len - ETH_HLEN, true);
	if (len < ETH_ZLEN && !(dev->flags & NETDEV_LOOPBACK)) {   /* pad runts: not every device does */
		memcpy(padded, frame, len);
		memset(padded + len, 0, ETH_ZLEN - len);
		frame = padded;
		len = ETH_ZLEN;
	}
	uint64_t deadline = time_ns() + NETDEV_TX_TIMEOUT_MS * NSEC_PER_MSEC;
	for (;;) {
		uint32_t gen = READ_ONCE(dev->tx_wake_gen);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (dev->ops->start_xmit(dev, frame, len, 0) == NETDEV_TX_OK) {
			irq_push_off();
			struct netdev_stats *s = netdev_stats_this_cpu(dev);
			s->tx_packets++;
			s->tx_bytes += len;
			irq_pop_off();
			return 0;
		}
		NETDEV_STAT_INC(dev, tx_busy);
		if (!wait)
			return -EAGAIN;
		uint64_t now = time_ns();
		if (now >= deadline) {
			NETDEV_STAT_INC(dev, tx_dropped);
			return -ETIMEDOUT;
		}
		wait_event_timeout(&dev->tx_wait, READ_ONCE(dev->tx_wake_gen) != gen, deadline - now);
	}
}

void netdev_tx_wake(struct net_device *dev)
{
	__atomic_fetch_add(&dev->tx_wake_gen, 1, __ATOMIC_SEQ_CST);
	if (waitq_active(&dev->tx_wait))
		wake_all(&dev->tx_wait);
	if (__atomic_load_n(&dev->txq_len, __ATOMIC_SEQ_CST) && !__atomic_exchange_n(&dev->txq_flush, 1, __ATOMIC_ACQ_REL))
		schedule_poll(dev);
}

/* ---- multicast groups ---- */

static void mc_sync(struct net_device *dev)
{
	if (!dev->ops->set_rx_mode)
		return;
	spin_lock(&dev->mc_sync);
	dev->ops->set_rx_mode(dev);
	spin_unlock(&dev->mc_sync);
}

/* mac's slot in dev's list, or dev->nmc if it is not there. mc_lock held. */
static int mc_find(const struct net_device *dev, const uint8_t mac[ETH_ALEN])
{
	int i = 0;
	while (i < dev->nmc && memcmp(dev->mc[i].mac, mac, ETH_ALEN))
		i++;
	return i;
}

void netdev_mc_add(struct net_device *dev, const uint8_t mac[ETH_ALEN])
{
	bool changed = true;
	spin_lock(&dev->mc_lock);
	int i = mc_find(dev, mac);
	if (i < dev->nmc) {
		dev->mc[i].refs++;
		changed = false;
	} else if (dev->nmc < NETDEV_MC_MAX) {
		memcpy(dev->mc[i].mac, mac, ETH_ALEN);
		dev->mc[i].refs = 1;
		dev->nmc++;
	} else {
		changed = dev->mc_over++ == 0;       /* the first overflow turns "accept all" on */
	}
	spin_unlock(&dev->mc_lock);
	if (changed)
		mc_sync(dev);
}

void netdev_mc_del(struct net_device *dev, const uint8_t mac[ETH_ALEN])
{
	bool changed = false;
	spin_lock(&dev->mc_lock);
	int i = mc_find(dev, mac);
	if (i < dev->nmc) {
		if (--dev->mc[i].refs == 0) {
			dev->mc[i] = dev->mc[--dev->nmc];
			changed = true;
		}
	} else if (dev->mc_over) {
		changed = --dev->mc_over == 0;       /* one that did not fit left; the last turns "all" off */
	}
	spin_unlock(&dev->mc_lock);
	if (changed)
		mc_sync(dev);
}

int netdev_mc_list(struct net_device *dev, uint8_t macs[][ETH_ALEN])
{
	spin_lock(&dev->mc_lock);
	int n = dev->mc_over ? -1 : dev->nmc;
	for (int i = 0; i < n; i++)
		memcpy(macs[i], dev->mc[i].mac, ETH_ALEN);
	spin_unlock(&dev->mc_lock);
	return n;
}

static void count_tx(struct net_device *dev, size_t len)
{
	irq_push_off();
	struct netdev_stats *s = netdev_stats_this_cpu(dev);
	s->tx_packets++;
	s->tx_bytes += len;
	irq_pop_off();
}

/* Sends backlog frames until the ring is full or the backlog empty. txq_lock held. */
static void txq_flush_locked(struct net_device *dev)
{
	while (!list_empty(&dev->txq)) {
		struct txq_frame *t = list_first_entry(&dev->txq, struct txq_frame, node);
		if (!(dev->flags & NETDEV_UP)) {
			NETDEV_STAT_INC(dev, tx_dropped);
		} else if (dev->ops->start_xmit(dev, t->data, t->len, 0) == NETDEV_TX_OK) {
			count_tx(dev, t->len);
		} else {
			NETDEV_STAT_INC(dev, tx_busy);
			return;
		}
		list_del(&t->node);
		__atomic_store_n(&dev->txq_len, dev->txq_len - 1, __ATOMIC_SEQ_CST);
		kfree(t);
	}
}

static void txq_flush(struct net_device *dev)
{
	spin_lock(&dev->txq_lock);
	txq_flush_locked(dev);
	spin_unlock(&dev->txq_lock);
}

/* The flags start_xmit gets for a frame of len bytes in batch (NULL: none): MORE for a TSO frame
 * if dev can wait for a kick (net/netdev.h: Doorbells, why only those). */
static unsigned batch_flags(struct netdev_tx_batch *batch, struct net_device *dev, size_t len)
{
	if (!batch || !dev->ops->tx_kick || len <= max_frame(dev))
		return 0;
	for (unsigned i = 0; i < batch->n; i++)
		if (batch->dev[i] == dev)
			return NETDEV_XMIT_MORE;
	return batch->n < NETDEV_TX_BATCH_DEVS ? NETDEV_XMIT_MORE : 0;
}

static void batch_add(struct netdev_tx_batch *batch, struct net_device *dev)
{
	for (unsigned i = 0; i < batch->n; i++)
		if (batch->dev[i] == dev)
			return;
	batch->dev[batch->n++] = dev;
}

void netdev_tx_batch_kick(struct netdev_tx_batch *batch)
{
	for (unsigned i = 0; i < batch->n; i++)
		batch->dev[i]->ops->tx_kick(batch->dev[i]);
	batch->n = 0;
}

/* netdev_xmit_nosleep, the outgoing copy shown to every tap but skip; frames up to max bytes. */
static int xmit_nosleep(struct net_device *dev, const void *frame, size_t len, size_t max,
			const struct netdev_tap *skip, struct netdev_tx_batch *batch)
{
	uint8_t padded[ETH_ZLEN];
	if (len < ETH_HLEN || len > max) {
		NETDEV_STAT_INC(dev, tx_errors);
		return -EINVAL;
	}
	if (!(dev->flags & NETDEV_UP)) {
		NETDEV_STAT_INC(dev, tx_dropped);
		return -EIO;
	}
	if (netdev_tapped(dev))
		netdev_tap_frame(dev, frame, (const uint8_t *)frame + ETH_HLEN, len - ETH_HLEN, true, skip);
	if (len < ETH_ZLEN && !(dev->flags & NETDEV_LOOPBACK)) {
		memcpy(padded, frame, len);
		memset(padded + len, 0, ETH_ZLEN - len);
		frame = padded;
		len = ETH_ZLEN;
	}
	int err = 0;
	spin_lock(&dev->txq_lock);
	uint32_t gen = __atomic_load_n(&dev->tx_wake_gen, __ATOMIC_SEQ_CST);
	txq_flush_locked(dev);
	if (list_empty(&dev->txq)) {
		unsigned flags = batch_flags(batch, dev, len);
		if (dev->ops->start_xmit(dev, frame, len, flags) == NETDEV_TX_OK) {
			if (flags & NETDEV_XMIT_MORE)
				batch_add(batch, dev);
			count_tx(dev, len);
			spin_unlock(&dev->txq_lock);
			return 0;
		}
		NETDEV_STAT_INC(dev, tx_busy);
	}
	struct txq_frame *t = dev->txq_len < NETDEV_TX_BACKLOG ? kmalloc(sizeof(*t) + len) : NULL;
	if (!t) {
		NETDEV_STAT_INC(dev, tx_dropped);
		err = -ENOBUFS;
	} else {
		t->len = len;
		memcpy(t->data, frame, len);
		list_add_tail(&t->node, &dev->txq);
		__atomic_store_n(&dev->txq_len, dev->txq_len + 1, __ATOMIC_SEQ_CST);
		/* space freed since we sampled gen? netdev_tx_wake may have missed our frame: retry */
		if (__atomic_load_n(&dev->tx_wake_gen, __ATOMIC_SEQ_CST) != gen)
			txq_flush_locked(dev);
	}
	spin_unlock(&dev->txq_lock);
	return err;
}

int netdev_xmit_nosleep(struct net_device *dev, const void *frame, size_t len,
			struct netdev_tx_batch *batch)
{
	size_t max = max_frame(dev);
	if (dev->features & (NETDEV_F_TSO | NETDEV_F_TSO6))
		max = MAX(max, ETH_HLEN + netdev_tso_max(dev));
	return xmit_nosleep(dev, frame, len, max, NULL, batch);
}

int netdev_xmit_tap(struct net_device *dev, const void *frame, size_t len, const struct netdev_tap *sender)
{
	return xmit_nosleep(dev, frame, len, max_frame(dev), sender, NULL);
}

/* ---- packet taps ---- */

/* The counter a tap bound to ifindex adds to (netdev_tapped): its device's, or the all-devices one
 * (also for an index no device has: such a tap sees nothing, it only costs a lookup). */
static int *tap_counter(int ifindex)
{
	struct net_device *d = ifindex ? netdev_get_by_index(ifindex) : NULL;
	return d ? &d->ntaps : &netdev_ntaps_all;
}

void netdev_tap_set(struct netdev_tap *t, int ifindex, uint16_t proto)
{
	int *now = tap_counter(ifindex);           /* looked up before tap_lock: registry_lock is apart */
	spin_lock(&tap_lock);
	if (t->proto) {                            /* take the old binding off */
		list_del(&t->node);
		__atomic_fetch_sub(t->counter, 1, __ATOMIC_RELAXED);
	}
	t->ifindex = ifindex;
	t->proto = proto;
	t->counter = now;
	if (proto) {
		list_add_tail(&t->node, &taps);
		__atomic_fetch_add(now, 1, __ATOMIC_RELAXED);
	}
	spin_unlock(&tap_lock);
}

void netdev_tap_get(struct netdev_tap *t, int *ifindex, uint16_t *proto)
{
	spin_lock(&tap_lock);
	*ifindex = t->ifindex;
	*proto = t->proto;
	spin_unlock(&tap_lock);
}

/* Linux's pkttype of a frame arriving on dev, from its destination MAC. */
static int rx_pkttype(struct net_device *dev, const uint8_t *dst)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	if (!memcmp(dst, bcast, ETH_ALEN))
		return PACKET_BROADCAST;
	if (dst[0] & 1)
		return PACKET_MULTICAST;
	return memcmp(dst, dev->mac, ETH_ALEN) ? PACKET_OTHERHOST : PACKET_HOST;
}

/* Any context but interrupt context: a poll thread, an squeue callback, a sending thread. */
void netdev_tap_frame(struct net_device *dev, const uint8_t *hdr, const void *data, size_t len, bool outgoing,
		      const struct netdev_tap *skip)
{
	uint16_t type = (uint16_t)(hdr[2 * ETH_ALEN] << 8 | hdr[2 * ETH_ALEN + 1]);
	int pkttype = outgoing ? PACKET_OUTGOING : rx_pkttype(dev, hdr);
	struct list_head *p;
	spin_lock(&tap_lock);
	list_for_each(p, &taps) {
		struct netdev_tap *t = list_entry(p, struct netdev_tap, node);
		if (t == skip || (t->ifindex && t->ifindex != dev->ifindex))
			continue;
		if (t->proto == ETH_P_ALL || (t->proto == type && !outgoing))
			t->fn(t, dev, hdr, data, len, pkttype);
	}
	spin_unlock(&tap_lock);
}

/* ---- start-up ---- */

static void format_features(unsigned f, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s%s%s%s%s", f & NETDEV_F_RXCSUM ? "rxcsum," : "", f & NETDEV_F_TXCSUM ? "txcsum," : "",
		 f & NETDEV_F_SG ? "sg," : "", f & NETDEV_F_TSO ? "tso," : "", f & NETDEV_F_TSO6 ? "tso6," : "",
		 f & NETDEV_F_TSO_CSUM ? "tsocsum," : "", f & NETDEV_F_LRO ? "lro," : "",
		 f & NETDEV_F_GRO ? "gro," : "", f ? "" : "-");
	size_t n = strlen(buf);
	if (n && buf[n - 1] == ',')
		buf[n - 1] = 0;
}

void netdev_print(struct net_device *dev)
{
	char feat[48];                 /* every feature's name, comma-separated */
	format_features(dev->features, feat, sizeof(feat));
	const uint8_t *m = dev->mac;
	char irq[32] = "irq none";
	if (dev->irq > 0)
		snprintf(irq, sizeof(irq), "irq %d cpu %d", dev->irq, irq_affinity(dev->irq));
	printk("%s: %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u %s features %s %s%s\n", dev->name,
	       dev->driver ? dev->driver : "-", m[0], m[1], m[2], m[3], m[4], m[5], dev->mtu, irq, feat,
	       dev->flags & NETDEV_UP ? "up" : "down", dev->flags & NETDEV_LINK ? " link" : " no-link");
}

/* ---- lo ---- */

/* Frames sent on lo with netdev_xmit (raw tools) come straight back in; IP traffic on lo goes
 * through the stack's netif (net/stack.c) and is counted on this device there. */
static int lo_xmit(struct net_device *dev, const void *frame, size_t len, unsigned flags __unused)
{
	netdev_rx(dev, frame, len);
	return NETDEV_TX_OK;
}

static int lo_poll(struct net_device *dev __unused, int budget __unused) { return 0; }

static const struct net_device_ops lo_ops = { .start_xmit = lo_xmit, .poll = lo_poll };
static struct net_device lo_dev = {
	.mtu = LO_DEV_MTU,
	.irq = -1,
	.flags = NETDEV_LOOPBACK | NETDEV_LINK,
	.driver = "loopback",
	.ops = &lo_ops,
};

void net_init(void)
{
	for (int c = 0; c < ncpus; c++) {
		struct poll_cpu *pc = &pollcpu[c];
		spin_init(&pc->lock, "pollq");
		list_init(&pc->list);
		waitq_init(&pc->wq, "netpoll");
		if (!cpus[c].online)
			continue;
		char name[THREAD_NAME_LEN];
		snprintf(name, sizeof(name), "netpoll/%d", c);
		pc->thread = kthread_create_urgent(poll_thread, pc, name, c);
		if (!pc->thread)
			panic("net: cannot start %s", name);
	}
	squeue_init();
	if (netdev_register(&lo_dev, "lo") < 0)
		panic("net: cannot register lo");
}

void net_start(void)
{
	/* drivers may have (re)registered their IRQs after netdev_register: apply the spread again */
	int n = 0;
	for (struct net_device *d = netdev_next(NULL); d; d = netdev_next(d)) {
		if (d->irq > 0)
			netdev_set_irq_affinity(d, d->irq_cpu);
		netdev_print(d);
		n += !(d->flags & NETDEV_LOOPBACK);
	}
	printk("net: %d device%s\n", n, n == 1 ? "" : "s");   /* NICs; lo is always there */
}
core_init(net_init);
late_init(net_start);
