/*
 * RTL8139 receive-ring and C+ transmit-ring bookkeeping, free of MMIO and locks so the host unit
 * tests (tests/unit/test_rtl8139_ring.c) can drive it against a model of the chip.
 *
 * Receive ring: one physically contiguous buffer of `size` bytes (8, 16, 32 or 64 KiB) that the
 * chip fills as a byte stream. Each packet is a 4-byte header (status in the low 16 bits, length
 * in the high 16 bits, the length counting the 4-byte CRC that follows the data), the frame, the
 * CRC, then padding to a 4-byte boundary. The chip's write offset is CBR; the driver's read offset
 * `off` is reported to the chip through CAPR, which by the chip's convention is off - 16 (a 16-bit
 * register, so off 0 is CAPR 0xfff0). A packet that runs past the end continues at offset 0 (WRAP
 * clear) or runs on contiguously into slack after the ring (WRAP set, not possible at 64 KiB);
 * rtl_rx_frame() handles both: it returns the frame in place when contiguous in memory, else copies
 * the two pieces into a bounce buffer.
 *
 * Transmit (C+ mode, RTL8139C+ datasheet "transmit descriptors"): a ring of RTL_CP_TX_RING 16-byte
 * descriptors (dw0: OWN, EOR, FS, LS, LGSEN, the large-send MSS in bits 16-26, the buffer length
 * in bits 0-15; dw1: VLAN; then the buffer's address, low and high). A frame is one or more
 * descriptors from FS to LS; the chip takes those with OWN set, in order from the start of the
 * ring (EOR marks the last descriptor), and clears OWN in each one it has read. The driver fills
 * descriptors at tail, hands a frame over by setting OWN on its descriptors (the first one last),
 * and reclaims from clean while OWN is clear.
 */
#ifndef DRIVERS_RTL8139_RXRING_H
#define DRIVERS_RTL8139_RXRING_H
#include "kernel/types.h"

#define RTL_RX_HDR_LEN     4
#define RTL_RX_CRC_LEN     4
#define RTL_RX_ALIGN       4
#define RTL_CAPR_BIAS      16       /* CAPR = read offset - 16 */
#define RTL_RX_EARLY       0xfff0   /* length field while an early-receive is still in progress */

/* receive status (low half of the packet header) */
#define RTL_RXS_ROK        0x0001   /* receive OK */
#define RTL_RXS_FAE        0x0002   /* frame alignment error */
#define RTL_RXS_CRC        0x0004   /* CRC error */
#define RTL_RXS_LONG       0x0008   /* longer than 4 KiB */
#define RTL_RXS_RUNT       0x0010   /* shorter than 64 bytes */
#define RTL_RXS_ISE        0x0020   /* invalid symbol */
#define RTL_RXS_BAR        0x2000   /* broadcast */
#define RTL_RXS_PAM        0x4000   /* physical address matched */
#define RTL_RXS_MAR        0x8000   /* multicast */
#define RTL_RXS_ERRORS     (RTL_RXS_FAE | RTL_RXS_CRC | RTL_RXS_LONG | RTL_RXS_RUNT | RTL_RXS_ISE)

enum rtl_rx_verdict {
	RTL_RX_EMPTY,       /* nothing (more) written by the chip */
	RTL_RX_FRAME,       /* a frame of *frame_len bytes (60..1518; check rtl_frame_len_ok on its
			       data for the 1515..1518 case), then skip to rtl_rx_advance() */
	RTL_RX_BAD_FRAME,   /* a well-formed packet with a bad frame (error bit, runt, oversized):
			       count an error and skip it */
	RTL_RX_CORRUPT,     /* the header cannot be trusted (ROK clear, length impossible or beyond
			       what the chip wrote): count an error and reset the ring */
};

/* bytes the chip has written that the driver has not consumed */
static inline uint32_t rtl_rx_pending(uint32_t off, uint32_t cbr, uint32_t size)
{
	return (cbr - off) & (size - 1);
}
/* read offset of the packet after the one at `off` whose header length field is `len` */
static inline uint32_t rtl_rx_advance(uint32_t off, uint32_t len, uint32_t size)
{
	return ((off + RTL_RX_HDR_LEN + len + RTL_RX_ALIGN - 1) & ~(uint32_t)(RTL_RX_ALIGN - 1)) & (size - 1);
}
/* value for CAPR after consuming everything before `off` */
static inline uint16_t rtl_capr(uint32_t off) { return (uint16_t)(off - RTL_CAPR_BIAS); }
/* read offset the chip derives from a CAPR value */
static inline uint32_t rtl_capr_to_off(uint16_t capr, uint32_t size) { return (uint32_t)(capr + RTL_CAPR_BIAS) & (size - 1); }

/* Judge the packet at `off` given its header and how many bytes the chip has written
 * (rtl_rx_pending). On RTL_RX_FRAME sets *frame_len (without CRC). */
enum rtl_rx_verdict rtl_rx_check(uint32_t hdr, uint32_t pending, uint32_t size, uint32_t *frame_len);

/* The frame of `len` bytes whose packet header is at `off`: in place if contiguous in memory
 * (`slack` bytes are mapped after the ring, for WRAP mode), else copied from the two pieces
 * (end of ring, start of ring) into `bounce`. */
const uint8_t *rtl_rx_frame(const uint8_t *ring, uint32_t size, uint32_t slack, uint32_t off,
			    uint32_t len, uint8_t *bounce);
/* Read the 32-bit little-endian packet header at off (never split: off is 4-aligned). */
uint32_t rtl_rx_header(const uint8_t *ring, uint32_t off);

/* Frame length rule: ETH_ZLEN (60) .. 1514, or 1518 with an 802.1Q tag. */
bool rtl_frame_len_ok(const uint8_t *frame, uint32_t len);

/* C+ transmit ring */
#define RTL_CP_TX_RING     64           /* descriptors: the chip's maximum */
#define RTL_CP_OWN         (1U << 31)   /* the chip's to send */
#define RTL_CP_EOR         (1U << 30)   /* end of ring: the next is descriptor 0 */
#define RTL_CP_FS          (1U << 29)   /* first descriptor of a frame */
#define RTL_CP_LS          (1U << 28)   /* last descriptor of a frame */
#define RTL_CP_LGSEN       (1U << 27)   /* large send: cut the TCP frame into MTU-sized segments */
#define RTL_CP_MSS_SHIFT   16           /* with LGSEN: the MSS, 11 bits */
#define RTL_CP_MSS_MASK    0x7ff
#define RTL_CP_TES         (1U << 23)   /* written back: transmit error summary */
#define RTL_CP_SIZE_MASK   0xffff

struct rtl_cp_desc {
	uint32_t dw0, dw1, addr_lo, addr_hi;
};

struct rtl_cp_txq {
	unsigned tail;      /* next descriptor to fill */
	unsigned clean;     /* oldest descriptor not yet reclaimed */
	unsigned inflight;  /* filled, not yet reclaimed */
};

void rtl_cp_txq_init(struct rtl_cp_txq *q);
static inline unsigned rtl_cp_tx_space(const struct rtl_cp_txq *q) { return RTL_CP_TX_RING - q->inflight; }
/* Fill the descriptor at tail with a buffer of len bytes and flags (FS, LS, LGSEN and MSS; never
 * OWN) and advance tail; EOR is added on the ring's last descriptor. Precondition: space > 0.
 * Returns the descriptor's index. */
unsigned rtl_cp_tx_fill(struct rtl_cp_txq *q, struct rtl_cp_desc *ring, uint64_t pa, uint32_t len, uint32_t flags);
/* Hand the n descriptors filled from index first to the chip: OWN on each, the first one last
 * (after a fence), so the chip never sees part of a frame. */
void rtl_cp_tx_give(struct rtl_cp_desc *ring, unsigned first, unsigned n);
/* Reclaim descriptors from clean while the chip has cleared OWN; adds the ones with TES to
 * *errors. Returns how many were reclaimed. */
unsigned rtl_cp_tx_reclaim(struct rtl_cp_txq *q, struct rtl_cp_desc *ring, unsigned *errors);

/* The multicast filter (MAR0-7, byte i holding buckets 8i..8i+7) for n groups: a group's bucket
 * is the top 6 bits of the big-endian Ethernet CRC of its address (Linux's ether_crc >> 26, the
 * rule QEMU's model applies). */
unsigned rtl_mar_bucket(const uint8_t mac[6]);
void rtl_mar_build(uint8_t mar[8], const uint8_t macs[][6], int n);

#endif
