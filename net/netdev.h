/*
 * Network devices (Linux's net_device, pared down). A driver fills a struct net_device with its ops
 * and registers it; the registry names it (eth0, eth1, ... in probe order; "lo" is registered by the
 * stack), gives it an ifindex and lists it. Counters are per CPU, written only by their CPU, summed
 * when read.
 *
 * Receive (NAPI-like): the driver's interrupt handler acks the device, masks its IRQ
 * (irq_mask) and calls netdev_schedule_poll(dev): the device joins this CPU's poll list and the
 * CPU's net poll thread runs dev->ops->poll(dev, budget). poll hands each frame to netdev_rx (the
 * stack's receive entry point) and returns how many it handled; when it finds the ring empty it calls
 * netdev_poll_done(dev), which unmasks the IRQ — the driver must then check the ring once more
 * (a frame that arrived in between must not wait for the next interrupt).
 *
 * Transmit: ops->start_xmit copies one frame into the device's ring and returns NETDEV_TX_OK, or
 * NETDEV_TX_BUSY when the ring is full (nothing queued). netdev_xmit() sleeps on dev->tx_wait until
 * the driver, having reclaimed descriptors, calls netdev_tx_wake(dev). No frame is dropped silently:
 * a real drop is counted in tx_dropped.
 */
#ifndef NET_NETDEV_H
#define NET_NETDEV_H
#include "kernel/types.h"
#include "kernel/list.h"
#include "kernel/cpu.h"
#include "kernel/wait.h"

#define NETDEV_NAME_LEN 16
#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_ZLEN 60            /* minimum frame without FCS */
#define ETH_DATA_LEN 1500
#define ETH_FRAME_LEN 1514     /* maximum frame without FCS */
#define NETDEV_POLL_BUDGET 64

#define NETDEV_TX_OK 0
#define NETDEV_TX_BUSY 1

/* features */
#define NETDEV_F_RXCSUM 0x1    /* device verifies receive checksums */
#define NETDEV_F_TXCSUM 0x2    /* device computes transmit checksums */
#define NETDEV_F_SG     0x4    /* scatter-gather transmit */

/* flags */
#define NETDEV_UP       0x1
#define NETDEV_LINK     0x2    /* carrier */

struct netdev_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
	uint64_t interrupts, polls, tx_busy;
};

struct net_device;

struct net_device_ops {
	int (*open)(struct net_device *dev);
	int (*stop)(struct net_device *dev);
	int (*start_xmit)(struct net_device *dev, const void *frame, size_t len);
	int (*poll)(struct net_device *dev, int budget);
	void (*get_stats)(struct net_device *dev, struct netdev_stats *st);  /* optional extras */
	void (*set_rx_mode)(struct net_device *dev);                         /* optional */
};

struct net_device {
	char name[NETDEV_NAME_LEN];
	int ifindex;
	uint8_t mac[ETH_ALEN];
	unsigned mtu;
	int irq;                     /* PLIC interrupt, -1 for none (lo) */
	unsigned features, flags;
	const struct net_device_ops *ops;
	void *priv;                  /* the driver's state */
	struct netdev_stats stats[NCPU];
	struct waitq tx_wait;        /* senders waiting for ring space */
	struct list_head list;       /* registry */
	struct list_head poll_node;  /* on a CPU's poll list while scheduled */
	volatile bool poll_scheduled;
	int poll_cpu;
};

/* Registry */
int netdev_register(struct net_device *dev, const char *name_prefix);   /* "eth" -> eth0, eth1 ... */
void netdev_unregister(struct net_device *dev);
struct net_device *netdev_get_by_name(const char *name);
struct net_device *netdev_get_by_index(int ifindex);
struct net_device *netdev_next(struct net_device *prev);   /* NULL -> first; iteration */
void netdev_get_stats(struct net_device *dev, struct netdev_stats *sum);
/* per-CPU counter of the running CPU (call with interrupts off or from the poll thread) */
static inline struct netdev_stats *netdev_stats_this_cpu(struct net_device *dev)
{
	return &dev->stats[cpu_id()];
}

/* Receive path */
void netdev_schedule_poll(struct net_device *dev);   /* interrupt context, IRQ already masked */
void netdev_poll_done(struct net_device *dev);       /* from poll: ring empty, unmask the IRQ */
void netdev_rx(struct net_device *dev, const void *frame, size_t len);   /* the stack's entry */

/* Transmit path */
int netdev_xmit(struct net_device *dev, const void *frame, size_t len, bool wait);  /* 0 or -EAGAIN */
void netdev_tx_wake(struct net_device *dev);

void net_init(void);          /* after SMP start: poll threads, drivers, PCI */

#endif
