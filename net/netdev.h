/*
 * Network devices (Linux's net_device, pared down). A driver fills a struct net_device with its ops
 * and registers it; the registry names it (eth0, eth1, ... in probe order; "lo" is registered by the
 * stack), gives it an ifindex, opens it (ops->open) and lists it. Counters are per CPU, written only
 * by their CPU with interrupts off (NETDEV_STAT_ADD), summed when read.
 *
 * Receive (NAPI-like): the driver's interrupt handler acks the device, masks its IRQ (irq_mask),
 * optionally silences the device's own interrupt (event suppression) and calls
 * netdev_schedule_poll(dev), which counts the interrupt: the device joins this CPU's poll list and
 * the CPU's net poll thread ("netpoll/N") calls dev->ops->poll(dev, budget). poll hands each frame
 * to netdev_rx (the stack's receive entry point, which also drops and counts malformed frames) and
 * returns how many it handled:
 *   - budget (or more): not finished; the device stays scheduled and is polled again (the IRQ
 *     stays masked: under load the device stays in polling mode);
 *   - less than budget: the ring is empty. Before returning, the driver re-enables the device's
 *     own interrupt, acknowledges its interrupt cause (so the line drops and the next event
 *     raises it afresh) and checks the ring once more (if a frame slipped in, it handles it or
 *     returns budget). The poll thread then unmasks the IRQ and calls poll once more, and only if
 *     that also finds nothing marks the device idle. The second call is there because QEMU 7.2's
 *     PLIC does not deliver an interrupt that became pending while masked when the IRQ is
 *     unmasked (only at its next update), and QEMU's PCI INTx only passes on level changes: a
 *     frame that arrives after the unmask and the ack raises a fresh edge and is delivered; one
 *     that arrived before it is found by the second call. No frame waits for a later interrupt.
 * A device is polled by one thread at a time (it is on at most one poll list, and it is not
 * re-queued while its poll runs), so poll needs no lock against itself. netdev_poll_done(dev) is
 * optional: it only states "ring empty" (as returning < budget does).
 *
 * Transmit: ops->start_xmit copies one frame into the device's ring and returns NETDEV_TX_OK, or
 * NETDEV_TX_BUSY when the ring is full (nothing queued). Before returning BUSY the driver arranges
 * to be told when space frees (for example by enabling its transmit-complete interrupt); when it
 * has reclaimed descriptors (in poll or in its interrupt handler) it calls netdev_tx_wake(dev).
 * netdev_xmit() counts tx packets/bytes, and on BUSY sleeps on dev->tx_wait until then (bounded by
 * NETDEV_TX_TIMEOUT_MS, after which the frame is counted in tx_dropped). No frame is dropped
 * silently: a real drop is counted.
 * The stack transmits with netdev_xmit_nosleep() (it holds the stack lock and must not sleep): a
 * frame the ring cannot take is copied to the device's transmit backlog (at most NETDEV_TX_BACKLOG
 * frames, sent in order before any newer frame), and beyond that dropped and counted in tx_dropped
 * (TCP retransmits). The backlog is flushed by the next stack transmit and by the device's poll
 * thread after netdev_tx_wake (which schedules a poll round that flushes first).
 * Doorbells (Linux's xmit_more): on QEMU, e1000's TDT write and RTL8139's TPPOLL write make the
 * vCPU run the model's whole transmit (cutting TSO frames, one host write per segment: 80 us for
 * a 16 KiB frame on RTL8139) before the write returns. Made under the stack lock, that serialised
 * every CPU's protocol work behind it. So the stack passes a transmit batch (struct
 * netdev_tx_batch, its own: guarded by the stack lock): for a TSO frame, a driver with
 * ops->tx_kick is called with NETDEV_XMIT_MORE and may leave the frame in its ring without
 * ringing, and the batch records the device; the stack calls netdev_tx_batch_kick after it lets
 * go of the lock, which rings each recorded device once (ops->tx_kick). A driver out of ring
 * space rings at once whatever the flag (what it left waiting is then sent and reclaimable).
 * Plain frames (ACKs above all) ring at once: their doorbell costs one frame, and held back they
 * cost the other direction (e1000 host->guest fell from 1437 to 1261 Mbit/s, medians of 7, when
 * they waited too). Every other caller passes no batch and gets the doorbell at once.
 *
 * Interrupt affinity: net_init spreads the devices' IRQs over the online harts (the i-th device
 * with an IRQ goes to CPU (i + 1) % ncpus); netdev_set_irq_affinity moves one.
 *
 * Receive into the stack: netdev_rx counts the frame, shows it to the packet taps (below), feeds the
 * ethertype counters (net/rxsink.c: rxtypes, arping, rxwait) and hands IPv4 and ARP frames to
 * stack_input (net/stack.c), which copies each into a pbuf, classifies it by flow and enters the
 * owning squeue. Frames of other types stop at the counters.
 *
 * Locks: the registry lock guards the device list and the name/ifindex counters; each device's
 * poll_lock guards its poll state; each CPU's poll list has its own lock (order: poll_lock, then the
 * list lock). txq_lock guards the transmit backlog and is taken before the driver's ring lock
 * (start_xmit is called under it). Drivers keep their own ring locks; netdev_rx and netdev_tx_wake
 * take only short internal locks and never sleep, so a driver may call them with its own lock held
 * (netdev_rx then queues to the squeues instead of running the stack inline: squeue.h).
 */
#ifndef NET_NETDEV_H
#define NET_NETDEV_H
#include "kernel/types.h"
#include "lib/list.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"

#define NETDEV_NAME_LEN 16
#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_ZLEN 60            /* minimum frame without FCS */
#define ETH_DATA_LEN 1500
#define ETH_FRAME_LEN 1514     /* maximum frame without FCS */
#define VLAN_HLEN 4
#define ETH_MAX_FRAME (ETH_FRAME_LEN + VLAN_HLEN)   /* largest frame netdev_rx accepts (802.1Q only) */
#define NETDEV_POLL_BUDGET 64
#define NETDEV_TX_TIMEOUT_MS 2000
#define NETDEV_TX_BACKLOG 1024         /* frames the stack may queue behind a full ring, per device */

#define ETH_P_IP   0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100    /* VLAN tag: the frame may be VLAN_HLEN longer */
#define ETH_P_EXP  0x88b5      /* IEEE 802 local experimental ethertype 1 (raw test frames) */

#define NETDEV_TX_OK 0
#define NETDEV_TX_BUSY 1
#define NETDEV_XMIT_MORE 0x1           /* start_xmit flag: netdev_tx_batch_kick will call tx_kick */
#define NETDEV_TX_BATCH_DEVS 8         /* devices a batch records; beyond, doorbells ring at once */

/* features */
#define NETDEV_F_RXCSUM 0x1    /* device verifies receive checksums */
#define NETDEV_F_TXCSUM 0x2    /* device computes transmit checksums */
#define NETDEV_F_SG     0x4    /* scatter-gather transmit */
#define NETDEV_F_TSO    0x8    /* TCP segmentation offload (IPv4): see netdev_tso_max */
#define NETDEV_F_TSO6   0x40   /* the same for TCP over IPv6 (Linux's NETIF_F_TSO6) */

/* TSO: the stack may hand a device with NETDEV_F_TSO an IPv4/TCP frame whose IP packet is up to
 * netdev_tso_max(dev) bytes (with no VLAN tag); the device cuts it into segments that fill its MTU
 * (payload mtu - IP header - TCP header each, the headers copied, IP ids and sequence numbers
 * advanced, checksums computed). NETDEV_F_TSO6 says the same of an IPv6/TCP frame (TCP right
 * behind the fixed header; each segment's payload length set). Only the stack's transmit
 * (netdev_xmit_nosleep) may pass such a frame: netdev_xmit and packet sockets keep the MTU limit.
 * NETDEV_F_TSO_CSUM: the driver itself writes the TCP checksum field of every TSO frame (the
 * pseudo-header sum, which the device completes per segment: virtio-net, e1000), so the stack may
 * hand it TSO frames with that field unset (net/stack.c). Not the RTL8139: with its frames QEMU's
 * model needs the stack's sum (a guest->host IPv4 stream over it stalls without it). */
#define NETDEV_TSO_MAX  65535          /* IP's limit: no device takes more (Linux's GSO_MAX_SIZE) */
#define NETDEV_TSO_DEFAULT 16384       /* what a device takes whose driver sets no tso_max */
#define NETDEV_F_TSO_CSUM 0x80
/* The most segments netdev_tso_segment cuts an IPv6 frame of a NETDEV_TSO_DEFAULT device into
 * (the drivers that cut in software keep that default): IPv6's minimum MTU less the fixed header
 * and TCP with its longest options is the smallest MSS. */
#define NETDEV_TSO6_MIN_MSS (1280 - 40 - 60)
#define NETDEV_TSO6_SEGS_MAX ((NETDEV_TSO_DEFAULT + NETDEV_TSO6_MIN_MSS - 1) / NETDEV_TSO6_MIN_MSS)

struct net_device;
/* A TSO frame's layout, for drivers: checked by netdev_tso_frame (IPv4 or IPv6 as the device's
 * NETDEV_F_TSO/TSO6 allow, without a VLAN tag, TCP, not a fragment, no IPv6 extension headers, the
 * IP length matching the frame). */
struct netdev_tso_frame {
	bool v6;                     /* IPv6 (NETDEV_F_TSO6), else IPv4 */
	unsigned ip_off, tcp_off;    /* where the IP and TCP headers start */
	unsigned hdr_len;            /* all headers: the part every segment repeats */
	unsigned mss;                /* payload per segment: the MTU less the IP and TCP headers */
};
bool netdev_tso_frame(const struct net_device *dev, const uint8_t *frame, size_t len, struct netdev_tso_frame *t);
/* What a driver's start_xmit has in hand: a frame to send as it is (up to max_plain bytes, the
 * driver's own limit), a TSO frame (a TSO device, longer than the MTU: the layout in *t), or
 * neither (to drop and count in tx_errors). */
enum netdev_tx_kind { NETDEV_TX_PLAIN, NETDEV_TX_TSO, NETDEV_TX_BAD };
enum netdev_tx_kind netdev_tx_kind(const struct net_device *dev, const void *frame, size_t len, size_t max_plain,
				   struct netdev_tso_frame *t);
/* The TCP pseudo-header sum (folded, not inverted) of the frame's addresses and protocol plus
 * tcp_len, which devices expect in the TCP checksum field of a TSO frame: virtio with the whole
 * TCP length, e1000 with 0 (it adds each segment's). */
uint16_t netdev_tso_pseudo_sum(const uint8_t *frame, const struct netdev_tso_frame *t, uint32_t tcp_len);
/* Software segmentation of a TSO frame: of an IPv6 one for chips that cut only IPv4 (e1000 as QEMU
 * models it, RTL8139), of an IPv4 one's last segment where the chip would lose its FIN (RTL8139).
 * The segment whose payload starts at frame offset off (t->hdr_len, then every t->mss bytes on)
 * is written to buf (room for t->hdr_len + t->mss bytes) and its length returned: the headers
 * repeated with that segment's IPv6 payload length (IPv4: total length, the id advanced by the
 * segment's index, the header checksum) and sequence number, FIN and PSH only on the last one,
 * and in the TCP checksum field either the whole checksum (full_csum) or the pseudo-header sum
 * for a chip that finishes it. Any context. */
size_t netdev_tso_segment(const uint8_t *frame, size_t len, const struct netdev_tso_frame *t, size_t off, uint8_t *buf,
			  bool full_csum);
#define NETDEV_TCP_FLAGS_OFF 13      /* in the TCP header */
#define NETDEV_TCP_FIN 0x01
#define NETDEV_TCP_PSH 0x08

/* Receive offloads. A device with NETDEV_F_LRO may hand up one TCP frame (IPv4, or IPv6 where the
 * device coalesces it) standing for several consecutive segments of a connection (virtio-net's
 * GUEST_TSO4/GUEST_TSO6, Linux's LRO/GRO): up to
 * NETDEV_LRO_MAX bytes (lwIP's packet length is 16 bits), flagged NETDEV_RX_LRO. NETDEV_RX_CSUM_OK
 * says the device vouches for the frame's TCP/UDP checksum (verified, or a local sender's partial
 * one: Linux's CHECKSUM_UNNECESSARY and CHECKSUM_PARTIAL), so the stack does not check it. */
#define NETDEV_F_LRO    0x10
/* Software GRO (net/gro.c): set by netdev_register on every NIC without NETDEV_F_LRO. Within one
 * poll, consecutive TCP segments (IPv4 or IPv6) of a connection go up as one NETDEV_RX_LRO frame. */
#define NETDEV_F_GRO    0x20
#define NETDEV_LRO_MAX  65535
#define NETDEV_RX_CSUM_OK 0x1
#define NETDEV_RX_LRO     0x2

/* flags */
#define NETDEV_UP       0x1
#define NETDEV_LINK     0x2    /* carrier */
#define NETDEV_LOOPBACK 0x4    /* lo: named without a unit number, no IRQ */

struct netdev_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
	uint64_t interrupts, polls, tx_busy;
	uint64_t tx_tso;             /* TSO frames handed to the device (each counted once in tx_packets) */
	uint64_t rx_lro;             /* LRO frames received (each counted once in rx_packets) */
	uint64_t rx_gro;             /* frames GRO handed up for several received ones (each of those
					counted in rx_packets) */
	uint64_t rx_nohandler;       /* valid frames of an ethertype nobody handles (Linux's too) */
	uint64_t rx_releases;        /* times the driver told the device it may reuse receive buffer
					space it consumed (RTL8139: CAPR writes); 0 where untracked */
};

struct net_device;
struct stack_if;

struct net_device_ops {
	int (*open)(struct net_device *dev);      /* optional; called by netdev_register */
	int (*stop)(struct net_device *dev);      /* optional; called by netdev_unregister */
	/* flags: NETDEV_XMIT_MORE (only to a driver with tx_kick): the doorbell may wait for tx_kick */
	int (*start_xmit)(struct net_device *dev, const void *frame, size_t len, unsigned flags);
	void (*tx_kick)(struct net_device *dev);  /* optional: ring for what start_xmit left; any context */
	int (*poll)(struct net_device *dev, int budget);
	void (*get_stats)(struct net_device *dev, struct netdev_stats *st);  /* optional: adds extras */
	/* optional: reprogram the multicast filter from netdev_mc_list (see Multicast below); thread
	 * or squeue context, never two at once for a device. Without it every multicast arrives. */
	void (*set_rx_mode)(struct net_device *dev);
};

/* Multicast reception (Linux's dev_mc_add / dev_mc_del and ndo_set_rx_mode). The stack adds and
 * removes the link-layer groups it listens on: IPv6's all-nodes group, and every group lwIP's MLD
 * joins (solicited-node groups of our addresses, IPV6_JOIN_GROUP) through netif->mld_mac_filter
 * (net/stack6.c). Adds are counted, so a group two joins share stays until both leave. After each
 * change netdev calls the driver's set_rx_mode, which reads the groups with netdev_mc_list and
 * programs its filter (e1000: the MTA hash table; RTL8139: the MAR hash bits). Past NETDEV_MC_MAX
 * groups the list says "all" and the driver accepts every multicast. A driver without
 * set_rx_mode gets every multicast frame (virtio-net, which negotiates no control queue). */
#define NETDEV_MC_MAX 32
struct netdev_mc {
	uint8_t mac[ETH_ALEN];
	unsigned refs;
};

struct net_device {
	char name[NETDEV_NAME_LEN];
	int ifindex;
	uint8_t mac[ETH_ALEN];
	unsigned mtu;
	int irq;                     /* PLIC interrupt, -1 for none (lo) */
	unsigned features, flags;
	unsigned tso_max;            /* with NETDEV_F_TSO/TSO6: the largest TSO frame's IP packet, at most
					NETDEV_TSO_MAX; 0 means NETDEV_TSO_DEFAULT (netdev_tso_max) */
	const char *driver;          /* driver/model name for ifconfig (optional) */
	const struct net_device_ops *ops;
	void *priv;                  /* the driver's state */
	struct netdev_stats stats[NCPU];
	struct waitq tx_wait;        /* senders waiting for ring space */
	struct list_head list;       /* registry */
	/* owned by net/netdev.c */
	struct list_head poll_node;  /* on a CPU's poll list while scheduled */
	struct spinlock poll_lock;   /* guards poll_state, poll_again, poll_cpu */
	int poll_state;              /* idle, scheduled (on a list) or running */
	bool poll_again;             /* netdev_schedule_poll while running: poll once more */
	int poll_cpu;                /* CPU whose list it is on or whose thread polls it */
	int irq_cpu;                 /* CPU its IRQ is routed to */
	volatile uint32_t tx_wake_gen;   /* bumped by netdev_tx_wake */
	int ntaps;                   /* packet taps bound to this device (atomic; netdev_tapped) */
	struct gro *gro;             /* NETDEV_F_GRO's state: used only by the device's poll */
	struct stack_if *stack;      /* the stack's interface (lwIP netif); NULL until attached */
	/* transmit backlog for netdev_xmit_nosleep (txq_lock) */
	struct spinlock txq_lock;
	struct list_head txq;
	unsigned txq_len;            /* written under txq_lock, read without it */
	uint32_t txq_flush;          /* atomic: netdev_tx_wake asked the poll thread to flush */
	/* multicast groups: mc_lock guards mc, nmc and mc_over; mc_sync serializes set_rx_mode
	   (order: mc_sync -> mc_lock) */
	struct spinlock mc_lock, mc_sync;
	struct netdev_mc mc[NETDEV_MC_MAX];
	int nmc;
	unsigned mc_over;            /* adds that did not fit (and not yet removed): accept all */
};

/* The largest IP packet of a TSO frame dev takes (net_device.tso_max). */
static inline unsigned netdev_tso_max(const struct net_device *dev)
{
	return dev->tso_max ? dev->tso_max : NETDEV_TSO_DEFAULT;
}

/* Add n to one of this CPU's counters of dev (any context: it disables interrupts around it). */
#define NETDEV_STAT_ADD(dev, field, n) do {                       \
	irq_push_off();                                           \
	(dev)->stats[cpu_id()].field += (n);                      \
	irq_pop_off();                                            \
} while (0)
#define NETDEV_STAT_INC(dev, field) NETDEV_STAT_ADD(dev, field, 1)

/* Registry */
int netdev_register(struct net_device *dev, const char *name_prefix);   /* "eth" -> eth0, eth1 ... */
/* Only while the device's poll cannot run: before its IRQ is registered (a failed probe). */
void netdev_unregister(struct net_device *dev);
struct net_device *netdev_get_by_name(const char *name);
struct net_device *netdev_get_by_index(int ifindex);
struct net_device *netdev_next(struct net_device *prev);   /* NULL -> first; iteration */
void netdev_get_stats(struct net_device *dev, struct netdev_stats *sum);
int netdev_set_irq_affinity(struct net_device *dev, int cpu);
/* per-CPU counter of the running CPU (call with interrupts off) */
static inline struct netdev_stats *netdev_stats_this_cpu(struct net_device *dev)
{
	return &dev->stats[cpu_id()];
}

/* Receive path */
void netdev_schedule_poll(struct net_device *dev);   /* interrupt handler, IRQ already masked */
void netdev_poll_done(struct net_device *dev);       /* optional, from poll: ring found empty */
/* The stack's entry, with NETDEV_RX_* flags (a frame without them: netdev_rx). */
void netdev_rx_offload(struct net_device *dev, const void *frame, size_t len, unsigned flags);
static inline void netdev_rx(struct net_device *dev, const void *frame, size_t len)
{
	netdev_rx_offload(dev, frame, len, 0);
}

/* Transmit path: 0, -EAGAIN (ring full and !wait), -EINVAL (bad length), -EIO (device down),
 * -ETIMEDOUT (no space within NETDEV_TX_TIMEOUT_MS; counted as a drop). Thread context if wait. */
int netdev_xmit(struct net_device *dev, const void *frame, size_t len, bool wait);
/* Never sleeps (the stack's transmit, any non-interrupt context): 0 when sent or queued in the
 * backlog, -ENOBUFS when the backlog is full (dropped, counted), -EINVAL, -EIO as netdev_xmit.
 * On a NETDEV_F_TSO device the frame may be a TSO frame (up to netdev_tso_max). */
struct netdev_tx_batch {              /* devices whose doorbell waits (see Doorbells above) */
	unsigned n;
	struct net_device *dev[NETDEV_TX_BATCH_DEVS];
};
/* batch: NULL, or the caller's, which it kicks (netdev_tx_batch_kick) once it is done sending. */
int netdev_xmit_nosleep(struct net_device *dev, const void *frame, size_t len,
			struct netdev_tx_batch *batch);
/* Rings every device batch recorded and empties it. Any context; no lock needed by the caller. */
void netdev_tx_batch_kick(struct netdev_tx_batch *batch);
void netdev_tx_wake(struct net_device *dev);

/* Multicast groups (see Multicast above). Thread or squeue context (they call set_rx_mode). */
void netdev_mc_add(struct net_device *dev, const uint8_t mac[ETH_ALEN]);
void netdev_mc_del(struct net_device *dev, const uint8_t mac[ETH_ALEN]);
/* Copies dev's groups into macs (room for NETDEV_MC_MAX) and returns how many, or -1 when there
 * are more than NETDEV_MC_MAX (the driver should accept every multicast). */
int netdev_mc_list(struct net_device *dev, uint8_t macs[][ETH_ALEN]);

/* ---- packet taps (AF_PACKET sockets: net/sock_packet.c) ----
 * Every frame a device receives (netdev_rx; lo's IP traffic from net/stack.c) or transmits
 * (netdev_xmit*, lo's IP output) is shown to each tap whose filter matches: its device (ifindex,
 * 0 = every device) and ethertype (proto; ETH_P_ALL also sees outgoing frames, as on Linux, where
 * a socket bound to one protocol sees only what arrives). fn runs with the tap lock held (a
 * spinlock: interrupts off, no sleeping), in whatever context the frame passes through (a poll
 * thread, an squeue callback with the stack lock held, a sending thread), and copies what it
 * keeps. A frame is hdr (its ETH_HLEN-byte Ethernet header) followed by len bytes of data, apart
 * so that lo's IP packets get a made-up header (zero MACs, ETH_P_IP) without a copy. With no tap
 * registered a frame costs one atomic load. Lock order: the stack lock, txq_lock, a driver's ring
 * lock -> the tap lock -> whatever fn takes (the socket's lock, its wait queue). */
#define ETH_P_ALL 0x0003
#define PACKET_HOST 0
#define PACKET_BROADCAST 1
#define PACKET_MULTICAST 2
#define PACKET_OTHERHOST 3
#define PACKET_OUTGOING 4

struct netdev_tap {
	struct list_head node;       /* on the tap list while proto != 0 (tap lock) */
	int ifindex;                 /* tap lock */
	uint16_t proto;              /* tap lock; host order; 0 = off */
	int *counter;                /* tap lock: the tap counter it adds to while on (netdev_tapped) */
	void (*fn)(struct netdev_tap *t, struct net_device *dev, const uint8_t *hdr, const uint8_t *data,
		   size_t len, int pkttype);
};
/* Set t's filter (thread context); proto 0 takes it off the list: after that fn no longer runs for t. */
void netdev_tap_set(struct netdev_tap *t, int ifindex, uint16_t proto);
void netdev_tap_get(struct netdev_tap *t, int *ifindex, uint16_t *proto);
extern int netdev_ntaps_all; /* taps on every device (ifindex 0) (atomic) */
/* Whether any tap would see dev's frames: one or two atomic loads, so a device nobody captures
 * on (lo while a NIC is watched, say) pays nothing more. */
static inline bool netdev_tapped(const struct net_device *dev)
{
	return __atomic_load_n(&netdev_ntaps_all, __ATOMIC_RELAXED) || __atomic_load_n(&dev->ntaps, __ATOMIC_RELAXED);
}
void netdev_tap_frame(struct net_device *dev, const uint8_t *hdr, const void *data, size_t len, bool outgoing,
		      const struct netdev_tap *skip);
static inline void netdev_tap(struct net_device *dev, const uint8_t *hdr, const void *data, size_t len, bool outgoing)
{
	if (netdev_tapped(dev))
		netdev_tap_frame(dev, hdr, data, len, outgoing, NULL);
}
/* netdev_xmit_nosleep for a packet socket: its own tap does not see the outgoing copy (Linux's
 * skb_loop_sk). */
int netdev_xmit_tap(struct net_device *dev, const void *frame, size_t len, const struct netdev_tap *sender);

/* The receive handler for one ethertype (the stack's IPv4 and ARP input): called from netdev_rx in
 * the device's poll thread with a valid, counted frame. Registered at boot, before devices poll. */
typedef void (*netdev_proto_fn)(struct net_device *dev, const void *frame, size_t len, unsigned flags);
int netdev_add_proto(uint16_t ethertype, netdev_proto_fn fn);   /* -ENOSPC when the table is full */

void netdev_print(struct net_device *dev);   /* one line: name, driver, MAC, MTU, IRQ and CPU ... */
/* Boot order (kmain): net_init (poll threads, squeues, lo), then the drivers register and the buses
 * probe (drivers_init, virtio_mmio_scan, pci_init), then net_start (IRQ spread, one line per
 * device) and stack_init (netifs for every device, DHCP). */
void net_init(void);
void net_start(void);
void net_proc_init(void);     /* after fs_init: /proc/net/dev, /proc/net/squeue, /proc/interrupts */

#endif
