/*
 * Software receive coalescing (Linux's GRO) for NICs without LRO: consecutive in-order TCP (IPv4 or IPv6)
 * segments of one connection that arrive in one poll are handed up as one frame. net/gro.c has
 * the theory and the rules.
 *
 * Context: a device's poll (net/netdev.c), which never runs on two CPUs at once for one device,
 * so a struct gro needs no lock. The deliver callback runs in that same context.
 */
#ifndef NET_GRO_H
#define NET_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* frame, its length, NETDEV_RX_* flags, and how many wire frames it stands for (1 = as received) */
typedef void (*gro_deliver_fn)(void *ctx, const uint8_t *frame, size_t len, unsigned flags, unsigned segs);

struct gro {
	uint8_t *buf;                /* GRO_MAX bytes: the frame being built */
	size_t len;                  /* bytes held in buf; 0 = nothing held */
	unsigned flags;              /* NETDEV_RX_* of the held frame */
	unsigned segs;               /* wire frames merged into it */
	unsigned ip_off, tcp_off, hdr_len;   /* header layout of the held frame */
	unsigned mss;                /* payload of its first segment: later ones may not be longer */
	uint32_t next_seq;           /* the sequence number a segment must have to join */
	gro_deliver_fn deliver;
	void *ctx;
};

#define GRO_MAX 65535                /* a merged frame's bytes (NETDEV_LRO_MAX: lwIP's 16-bit length) */

/* buf must hold GRO_MAX bytes; deliver gets every frame, merged or not, in arrival order. */
void gro_init(struct gro *g, uint8_t *buf, gro_deliver_fn deliver, void *ctx);
/* A received frame (flags: NETDEV_RX_CSUM_OK when the device verified its checksum). It is
 * merged into the held frame, or held to start one, or delivered (after whatever was held). */
void gro_receive(struct gro *g, const uint8_t *frame, size_t len, unsigned flags);
/* Deliver the held frame, if any: the end of a poll. */
void gro_flush(struct gro *g);

#endif
