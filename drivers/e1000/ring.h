/*
 * e1000 descriptor-ring bookkeeping, kept free of MMIO and locks so the host unit tests
 * (tests/unit/test_e1000_ring.c) can drive it against a model of the device.
 *
 * Both rings are arrays of n descriptors (n a multiple of 8) shared with the device, which owns
 * the descriptors from its head register (RDH/TDH) up to, not including, the tail register
 * (RDT/TDT) that the driver writes. One descriptor always stays unused so that head == tail means
 * "nothing for the device" rather than "everything".
 *
 * TX: the driver fills descriptors at `tail` and advances it (then writes TDT); the device sends
 * them and sets DD in each (every descriptor carries RS). [clean, tail) are in flight; reclaim
 * walks from `clean` while DD is set.
 *
 * RX: every descriptor holds a 2 KiB buffer. The device fills descriptors from RDH on and sets DD;
 * the driver examines them in order from `next`, recycles each (status cleared, buffer address
 * kept) and returns them by writing RDT = the descriptor before `next`.
 */
#ifndef DRIVERS_E1000_RING_H
#define DRIVERS_E1000_RING_H
#include "kernel/types.h"
#include "drivers/e1000/e1000_hw.h"

static inline unsigned e1000_ring_next(unsigned i, unsigned n) { return i + 1 == n ? 0 : i + 1; }
static inline unsigned e1000_ring_prev(unsigned i, unsigned n) { return i == 0 ? n - 1 : i - 1; }
/* descriptors from `from` up to, not including, `to`, going forward */
static inline unsigned e1000_ring_dist(unsigned from, unsigned to, unsigned n)
{
	return to >= from ? to - from : n - from + to;
}

struct e1000_txq {
	unsigned n;                 /* descriptors in the ring */
	unsigned tail;              /* next descriptor to fill (the value last written to TDT) */
	unsigned clean;             /* oldest descriptor not yet reclaimed */
};

static inline unsigned e1000_tx_inflight(const struct e1000_txq *q)
{
	return e1000_ring_dist(q->clean, q->tail, q->n);
}
/* descriptors the driver may still fill */
static inline unsigned e1000_tx_space(const struct e1000_txq *q)
{
	return q->n - 1 - e1000_tx_inflight(q);
}
void e1000_txq_init(struct e1000_txq *q, unsigned n);
/* Fill the descriptor at tail with one whole frame (EOP|IFCS|RS) and advance tail.
 * Precondition: e1000_tx_space(q) > 0. Returns the descriptor index used. */
unsigned e1000_tx_post(struct e1000_txq *q, struct e1000_tx_desc *ring, paddr_t buf, uint16_t len);
/* TCP segmentation: a context descriptor, then the frame's pieces in extended data descriptors
 * (each asks for the IP and TCP checksums; the last has EOP). Every descriptor carries RS, so
 * reclaim treats them like the others. Precondition: e1000_tx_space(q) > 0 for each. */
struct e1000_tso_ctx {
	unsigned ip_off, tcp_off;   /* header offsets in the frame */
	unsigned hdr_len, mss, paylen;
};
unsigned e1000_tx_post_tso_ctx(struct e1000_txq *q, struct e1000_tx_desc *ring, const struct e1000_tso_ctx *c);
unsigned e1000_tx_post_tso_data(struct e1000_txq *q, struct e1000_tx_desc *ring, paddr_t buf, uint16_t len,
				bool last);
/* Checksum offload without segmentation: a context descriptor naming the TCP checksum (TUCSS at
 * tcp_off, TUCSO its checksum field, to the frame's end; no IP checksum), then whole frames in
 * extended data descriptors asking for it (POPTS TXSM, EOP). The chip adds the bytes from TUCSS on
 * to what the checksum field holds (the pseudo-header sum) and stores the complement. The context
 * stays in force for later such frames. Precondition: e1000_tx_space(q) > 0 for each. */
unsigned e1000_tx_post_csum_ctx(struct e1000_txq *q, struct e1000_tx_desc *ring, unsigned tcp_off);
unsigned e1000_tx_post_csum_data(struct e1000_txq *q, struct e1000_tx_desc *ring, paddr_t buf, uint16_t len);
/* Reclaim finished descriptors from clean on (stops at the first without DD, or at tail).
 * Clears their status. Returns how many were reclaimed. */
unsigned e1000_tx_reclaim(struct e1000_txq *q, struct e1000_tx_desc *ring);

struct e1000_rxq {
	unsigned n;
	unsigned next;              /* next descriptor to examine */
	bool discarding;            /* dropping the rest of a frame that spans descriptors */
};

enum e1000_rx_verdict {
	E1000_RX_EMPTY,             /* DD clear: the device has not filled it yet */
	E1000_RX_FRAME,             /* a whole, good frame of *len bytes in the buffer */
	E1000_RX_ERROR,             /* a bad frame: count one error, drop it */
	E1000_RX_SKIP,              /* more of a frame already counted as an error: drop silently */
};

void e1000_rxq_init(struct e1000_rxq *q, unsigned n);
/* Judge the descriptor at q->next (buf = its buffer). Does not advance. On E1000_RX_FRAME sets
 * *len. A frame that spans descriptors (impossible with 2 KiB buffers unless the device
 * misbehaves), one with error bits, a runt or an oversized frame is an error. */
enum e1000_rx_verdict e1000_rx_check(struct e1000_rxq *q, const struct e1000_rx_desc *d,
				     const uint8_t *buf, unsigned *len);
/* Clear the descriptor at q->next for reuse and advance next. */
void e1000_rx_recycle(struct e1000_rxq *q, struct e1000_rx_desc *ring);
/* The RDT value that hands every recycled descriptor back: the one before next. */
static inline unsigned e1000_rx_tail(const struct e1000_rxq *q) { return e1000_ring_prev(q->next, q->n); }

/* Frame length rule shared with the driver: ETH_ZLEN (60) .. 1514, or 1518 with an 802.1Q tag. */
bool e1000_frame_len_ok(const uint8_t *frame, unsigned len);

/* The multicast table array for n groups: with RCTL.MO = 0 a group's bit is address bits 47:36
 * (the last two bytes' top 12 bits; 82540EM manual 13.4.22), the same rule QEMU's model applies. */
static inline unsigned e1000_mta_hash(const uint8_t mac[6]) { return ((mac[4] >> 4) | ((unsigned)mac[5] << 4)) & 0xfff; }
void e1000_mta_build(uint32_t mta[E1000_MTA_WORDS], const uint8_t macs[][6], int n);

#endif
