/*
 * Receive taps in netdev_rx, ahead of the stack (net/rxsink.c): counters by ethertype, the last ARP
 * replies (for arping, which works below the stack), and a watch that counts ETH_P_EXP frames on
 * one device and wakes a waiter when a target count arrives (rxwait, benches). Every valid frame
 * passes here; IPv4 and ARP frames then go on to the stack (stack_input).
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

int rxsink_attach(struct net_device *dev);   /* allocate dev->sink; -ENOMEM */
void rxsink_detach(struct net_device *dev);
void rxsink_input(struct net_device *dev, const uint8_t *frame, size_t len);   /* valid frame */

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
