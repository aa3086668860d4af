/*
 * RTL8139 receive-ring and transmit-slot bookkeeping, free of MMIO and locks so the host unit
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
 * Transmit: four slots used strictly round robin (the chip itself walks them in order). The driver
 * owns [tail, head) in flight; a slot is finished when its TSD shows OWN (DMA done) and TOK, or an
 * error (TUN/TABT).
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

/* transmit slots */
#define RTL_NUM_TX         4
#define RTL_TSD_SIZE_MASK  0x1fff
#define RTL_TSD_OWN        (1U << 13)   /* DMA to the chip's FIFO finished */
#define RTL_TSD_TUN        (1U << 14)   /* FIFO underrun */
#define RTL_TSD_TOK        (1U << 15)   /* transmitted */
#define RTL_TSD_ERTXTH_SHIFT 16         /* early TX threshold, 32-byte units */
#define RTL_TSD_TABT       (1U << 30)   /* aborted */
#define RTL_TSD_CRS        (1U << 31)   /* carrier lost */

struct rtl_txq {
	unsigned head;      /* next slot to fill */
	unsigned tail;      /* oldest slot in flight */
	unsigned inflight;
};

enum rtl_tx_state { RTL_TX_PENDING, RTL_TX_DONE_OK, RTL_TX_DONE_ERR };

void rtl_txq_init(struct rtl_txq *q);
static inline bool rtl_tx_full(const struct rtl_txq *q) { return q->inflight == RTL_NUM_TX; }
/* take the next slot (precondition: not full) */
unsigned rtl_tx_claim(struct rtl_txq *q);
/* state of a slot from its TSD value */
enum rtl_tx_state rtl_tx_state(uint32_t tsd);
/* retire the oldest in-flight slot (precondition: inflight > 0) */
void rtl_tx_retire(struct rtl_txq *q);

#endif
