/*
 * The test kernel's receive tap (net/debug/rxsink.c): counters by ethertype, the last ARP replies
 * (for arping, which works below the stack), and a watch that counts ETH_P_EXP frames on one
 * device and wakes a waiter when a target count arrives (rxwait, benches). It sees every frame a
 * device receives through an ETH_P_ALL packet tap.
 */
#ifndef NET_RXSINK_H
#define NET_RXSINK_H
#include "net/netdev.h"

#define ARP_KEEP 8                     /* ARP replies remembered */
#define IPV4_ALEN 4

struct arp_reply {
	int ifindex;
	uint8_t ip[IPV4_ALEN];
	uint8_t mac[ETH_ALEN];
	uint64_t ns;                       /* time_ns() when it arrived */
	uint64_t seq;                      /* 1, 2, ... in arrival order */
};

/* Per-CPU frame and byte counters by ethertype, summed over CPUs: one entry per ethertype seen,
 * at most max; returns the count. */
#define RX_SINK_TYPES 16               /* ethertypes counted per CPU; later ones go to "other" */
#define RX_SINK_OTHER 0xffff
struct netdev_rx_type_stats { uint16_t type; uint64_t frames, bytes; };
int netdev_rx_types(struct net_device *dev, struct netdev_rx_type_stats *out, int max);

/* ARP replies: arp_wq is woken on each one. */
extern struct waitq arp_wq;
uint64_t arp_reply_seq(void);          /* seq of the newest reply, 0 if none */
/* The newest reply from ip with seq > after (on any device when ifindex < 0). */
bool arp_reply_find(const uint8_t ip[IPV4_ALEN], int ifindex, uint64_t after, struct arp_reply *out);

/* Watch ETH_P_EXP frames on dev (one watch at a time: -EBUSY), then sleep until `target` of them
 * arrived (0) or the timeout passed (-ETIMEDOUT); either way the watch ends. */
struct rx_watch_result { uint64_t frames, bytes, first_ns, last_ns; };
int rx_watch_start(struct net_device *dev, uint64_t target);
int rx_watch_wait(uint64_t timeout_ns, struct rx_watch_result *res);

#endif
