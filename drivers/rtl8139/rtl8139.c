/*
 * Realtek RTL8139 (QEMU `-device rtl8139`) driver: receive through the chip's original ("C mode")
 * ring, transmit through C+ mode descriptors (the RTL8139C+'s, which QEMU models), for their
 * large-send offload.
 *
 * Theory of operation. Receive: the chip writes every accepted packet into one contiguous ring
 * buffer (RBSTART) as a byte stream: a 4-byte header (status, length including the 4-byte CRC),
 * the frame, the CRC, padding to 4 bytes. CBR is its write offset; the driver reports its read
 * offset through CAPR, biased by -16 (drivers/rtl8139/rxring.h has the arithmetic). The ring here
 * is 64 KiB, where the chip always wraps a packet around to offset 0 (the WRAP bit is ignored),
 * so a frame may come in two pieces; rtl_rx_frame() joins them in a bounce buffer. The ring gets
 * 64 KiB + 16 bytes plus slack (a 128 KiB block) and must lie below 4 GiB: the chip's DMA
 * addresses are 32 bits. Interrupt status (ISR) bits are cleared by writing 1s.
 *
 * Transmit (C+ mode, enabled by CPCMD's C+ transmit bit alone, so receive stays as above): a ring
 * of 64 descriptors (TNPDS), each with its own 2 KiB buffer. A frame is copied into the buffers of
 * one or more descriptors (FS on the first, LS on the last), handed over by setting OWN (the first
 * descriptor last) and announced by a TPPOLL write; the chip clears OWN in each descriptor it has
 * read and raises TOK once per batch. TSO (NETDEV_F_TSO): a TCP frame longer than the MTU goes out
 * with LGSEN and the MSS in its descriptors, and the chip cuts it into MTU-sized segments,
 * computing their IP and TCP checksums. QEMU's model cuts and checksums IPv4 only, so an IPv6
 * TSO frame (NETDEV_F_TSO6) is cut here (netdev_tso_segment, the TCP checksum computed in
 * software: the model has no IPv6 checksum offload either), one whole frame per descriptor, all
 * announced by one TPPOLL write: lwIP then builds, routes and queues one 16 KiB segment where it
 * would a dozen. Two faults of the model (hw/net/rtl8139.c) shape the IPv4 path:
 *   - It reads LGSEN and the MSS from a frame's last descriptor, so they go in every descriptor
 *     (as Linux's 8139cp does). With them in the first only, a frame spanning descriptors went
 *     out whole, a 16 KiB frame on a 1500-byte link, which only a host tap accepts.
 *   - It clears FIN and PSH in the one TCP header it reuses for every segment, so the last
 *     segment lost them too. PSH is a hint; but a lost FIN leaves the connection hanging: the peer
 *     acks the data, not the FIN, which is sent again without it until lwIP gives up (a 1 MiB
 *     echo over RTL8139 hung about 1 in 20 times). So an IPv4 frame with FIN goes as two: the
 *     chip cuts all but its last segment (FIN and PSH cleared, the IP length shortened), and the
 *     last is cut here (netdev_tso_segment) and sent plain with its FIN.
 * Two things of C+ mode to respect: a reset leaves it (open enters it again after every reset),
 * and any CR write with TE set sends the chip back to descriptor 0, so the driver's ring restarts
 * there too (tx_restart).
 *
 * Receive is NAPI-like (net/netdev.h): the interrupt handler acknowledges ISR, masks the PLIC
 * source and schedules the poll on its CPU. Poll reclaims finished transmit descriptors, then walks
 * the ring from the read offset up to CBR (re-read when reached), up to `budget` packets, handing
 * good frames to netdev_rx. CAPR (which also lets the chip deliver packets it had to hold back)
 * is written in batches, not per packet: after each RTL_RX_RELEASE_BYTES consumed, across polls
 * (see there why no packet waits for it; rx_releases counts the writes: on QEMU each one is a trap into
 * the model that flushes its receive queue and wakes its I/O thread, which at one per packet cost
 * more than half the host->guest rate). When it runs dry it unmasks the source, acknowledges the receive
 * and transmit bits that came in meanwhile and checks once more: a packet seen then keeps the
 * device in polling mode, one that lands later raises the line afresh and interrupts (kernel/irq.h:
 * leaving polling mode).
 *
 * Errors: a packet with a receive-error status bit, or a frame shorter than 60 or longer than
 * 1514 bytes (1518 with an 802.1Q tag), is counted in rx_errors and skipped. A header that cannot
 * be trusted (ROK clear, length zero, larger than the ring or than what the chip says it wrote) is
 * counted in rx_errors and the receiver is reset: ring offsets back to 0. The chip's missed-packet
 * counter (MPC) is not reported as drops: QEMU's model bumps it when a packet does not fit the
 * free space and then holds the packet back and delivers it after the next CAPR write, so on
 * QEMU it counts retries, not losses (measured: 8 "missed" in 10,000 frames, all delivered).
 * Transmit descriptors written back with the error summary bit count in tx_errors.
 *
 * Transmit flow: start_xmit reclaims finished descriptors, fills the frame's descriptors and
 * polls. On QEMU the TPPOLL write sends the frames there and then, in the writing vCPU (80 us
 * for a 16 KiB TSO frame), so with NETDEV_XMIT_MORE (the stack's TSO frames, under its lock) the
 * write is left for tx_kick, made once the stack lock is let go, or made at once when the ring
 * lacks room (net/netdev.h: Doorbells); tx_unkicked says a write is owed. Without room for a
 * whole frame (RTL_TX_FRAME_MAX descriptors at most) it returns NETDEV_TX_BUSY after enabling
 * the TOK/TER interrupts; the poll they schedule reclaims, calls netdev_tx_wake and masks them
 * again.
 *
 * Locks and contexts:
 *   - Receive state (rx_off, the bounce buffer) belongs to poll, which the netdev core never runs
 *     twice at once for a device; open sets it before interrupts are enabled. No lock.
 *   - tx_lock guards the transmit ring (txq, descriptors, buffers, tx_stopped, tx_unkicked) and
 *     IMR, which start_xmit (any thread, any CPU), tx_kick and poll modify, and every CR write
 *     once the device is open (a CR write with TE restarts the transmit ring). Never held across
 *     netdev_tx_wake.
 *   - The interrupt handler runs on whichever hart the IRQ is routed to; it only reads and
 *     acknowledges ISR (a write-1-to-clear register: no read-modify-write) and reads BMSR.
 */
#include "drivers/rtl8139/rtl8139_hw.h"
#include "drivers/rtl8139/rxring.h"
#include "drivers/pci/pci.h"
#include "kernel/irq.h"
#include "net/netdev.h"
#include "kernel/init.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "arch/riscv/riscv.h"

#define RTL_RX_RBLEN     3                                  /* 8 KiB << 3 = 64 KiB */
#define RTL_RX_RING_SIZE (RTL_RX_RING_MIN << RTL_RX_RBLEN)
#define RTL_RX_ALLOC     (2 * RTL_RX_RING_SIZE)             /* ring + 16 + slack, a power of 2 */
/* CAPR is written once this many ring bytes were consumed, not after every packet: on QEMU each
 * CAPR write is a trap into the model that also flushes its receive queue and wakes its I/O
 * thread. Invariant: at most this much is consumed but unreported, so the chip always sees the
 * rest of the ring as free or as its own unread packets; it holds a packet back only when those
 * fill more than the rest less a frame (pending > 3/4 ring - 1.5 KiB), and then the driver,
 * which walks to CBR, consumes a quarter ring and writes CAPR before it catches up. No write is
 * needed when a walk stops. */
#define RTL_RX_RELEASE_BYTES (RTL_RX_RING_SIZE / 4)
#define RTL_TX_BUF_SIZE  2048                               /* per transmit descriptor */
#define RTL_TX_FRAME_MAX MAX((ETH_HLEN + NETDEV_TSO_DEFAULT + RTL_TX_BUF_SIZE - 1) / RTL_TX_BUF_SIZE, \
			     NETDEV_TSO6_SEGS_MAX)
					     /* descriptors a frame may need (a TSO frame) */
#define RTL_TX_RING_ALIGN 256                               /* the datasheet's ring alignment */
#define RTL_DMA_LIMIT    (1ULL << 32)
#define RTL_RESET_TIMEOUT_NS (10 * NSEC_PER_MSEC)

#define RTL_RCR_VALUE (RTL_RCR_APM | RTL_RCR_AB | RTL_RCR_AM | RTL_RCR_MXDMA_UNLIM << RTL_RCR_MXDMA_SHIFT | \
		       RTL_RX_RBLEN << RTL_RCR_RBLEN_SHIFT | RTL_RCR_RXFTH_NONE << RTL_RCR_RXFTH_SHIFT)
#define RTL_TCR_VALUE (RTL_TCR_IFG_STD << RTL_TCR_IFG_SHIFT | RTL_TCR_MXDMA_1024 << RTL_TCR_MXDMA_SHIFT)
/* interrupts always enabled; TOK/TER only while a sender waits for a slot */
#define RTL_IMR_BASE  (RTL_INT_ROK | RTL_INT_RER | RTL_INT_FOVW | RTL_INT_LINKCHG | RTL_INT_SERR)

struct rtl8139 {
	struct net_device ndev;
	struct pci_dev *pdev;
	uint8_t *regs;

	/* receive: owned by poll */
	uint8_t *rx_ring;                    /* RTL_RX_ALLOC bytes */
	uint32_t rx_off;                     /* read offset: start of the next packet header */
	uint32_t rx_unreported;              /* bytes before rx_off not yet reported through CAPR */
	uint8_t bounce[ETH_MAX_FRAME];       /* a frame wrapped around the ring end, joined */

	/* transmit: tx_lock */
	struct spinlock tx_lock;
	struct rtl_cp_desc *tx_ring;         /* RTL_CP_TX_RING descriptors, in their own page */
	uint8_t *tx_bufs;                    /* RTL_CP_TX_RING * RTL_TX_BUF_SIZE */
	struct rtl_cp_txq txq;
	bool tx_stopped;
	bool tx_unkicked;                    /* descriptors given but TPPOLL not yet written */
	uint16_t imr;                        /* the value last written to IMR */
	uint8_t mar[8];                      /* the multicast filter as last written (set_rx_mode) */
};

static inline uint8_t rd8(struct rtl8139 *r, unsigned reg) { return mmio_read8(r->regs + reg); }
static inline uint16_t rd16(struct rtl8139 *r, unsigned reg) { return mmio_read16(r->regs + reg); }
static inline uint32_t rd32(struct rtl8139 *r, unsigned reg) { return mmio_read32(r->regs + reg); }
static inline void wr8(struct rtl8139 *r, unsigned reg, uint8_t v) { mmio_write8(r->regs + reg, v); }
static inline void wr16(struct rtl8139 *r, unsigned reg, uint16_t v) { mmio_write16(r->regs + reg, v); }
static inline void wr32(struct rtl8139 *r, unsigned reg, uint32_t v) { mmio_write32(r->regs + reg, v); }

static unsigned order_for(size_t bytes)
{
	unsigned o = 0;
	while ((PAGE_SIZE << o) < bytes)
		o++;
	return o;
}

/* ---- link ---- */

static void update_link(struct rtl8139 *r, bool report)
{
	bool up = rd16(r, RTL_BMSR) & RTL_BMSR_LINK;
	unsigned old = up ? __atomic_fetch_or(&r->ndev.flags, NETDEV_LINK, __ATOMIC_RELAXED)
			  : __atomic_fetch_and(&r->ndev.flags, ~NETDEV_LINK, __ATOMIC_RELAXED);
	if (report && !!(old & NETDEV_LINK) != up)
		printk("%s: link %s\n", r->ndev.name, up ? "up" : "down");
}

/* ---- transmit ---- */

static void set_imr_locked(struct rtl8139 *r, uint16_t imr)
{
	r->imr = imr;
	wr16(r, RTL_IMR, imr);
}

/* Reclaim finished descriptors; returns true if a stopped sender should be woken. tx_lock held. */
static bool tx_reclaim_locked(struct rtl8139 *r)
{
	unsigned errors = 0;
	rtl_cp_tx_reclaim(&r->txq, r->tx_ring, &errors);
	if (errors)
		NETDEV_STAT_ADD(&r->ndev, tx_errors, errors);
	if (r->tx_stopped && rtl_cp_tx_space(&r->txq) >= RTL_TX_FRAME_MAX) {
		r->tx_stopped = false;
		set_imr_locked(r, r->imr & ~RTL_INT_TX);
		return true;
	}
	return false;
}

static void tx_clean(struct rtl8139 *r)
{
	spin_lock(&r->tx_lock);
	bool wake = r->txq.inflight && tx_reclaim_locked(r);
	spin_unlock(&r->tx_lock);
	if (wake)
		netdev_tx_wake(&r->ndev);
}

/* After a CR write with TE the chip starts again at descriptor 0: so does the ring (tx_lock held).
 * What it had taken is sent; what it had not (OWN still set) is dropped and counted. */
static void tx_restart_locked(struct rtl8139 *r)
{
	unsigned errors = 0;
	rtl_cp_tx_reclaim(&r->txq, r->tx_ring, &errors);
	if (r->txq.inflight)
		NETDEV_STAT_ADD(&r->ndev, tx_dropped, r->txq.inflight);
	memset(r->tx_ring, 0, RTL_CP_TX_RING * sizeof(struct rtl_cp_desc));
	rtl_cp_txq_init(&r->txq);
	r->tx_unkicked = false;
}

/* Write CR (tx_lock held): with TE, the transmit ring restarts with the chip's. */
static void write_cr_locked(struct rtl8139 *r, uint8_t cr)
{
	wr8(r, RTL_CR, cr);
	if (cr & RTL_CR_TE)
		tx_restart_locked(r);
}

/* Tell the chip descriptors are waiting. tx_lock held. */
static void tx_kick_locked(struct rtl8139 *r)
{
	wr8(r, RTL_TPPOLL, RTL_TPPOLL_NPQ);      /* mmio_write8 orders the descriptors first */
	r->tx_unkicked = false;
}

static void rtl_tx_kick(struct net_device *dev)
{
	struct rtl8139 *r = dev->priv;
	spin_lock(&r->tx_lock);
	if (r->tx_unkicked)
		tx_kick_locked(r);
	spin_unlock(&r->tx_lock);
}

static int rtl_start_xmit(struct net_device *dev, const void *frame, size_t len, unsigned flags)
{
	struct rtl8139 *r = dev->priv;
	const uint8_t *f = frame;
	struct netdev_tso_frame t;
	enum netdev_tx_kind kind = netdev_tx_kind(dev, f, len, RTL_TX_BUF_SIZE, &t);
	if (kind == NETDEV_TX_BAD) {
		NETDEV_STAT_INC(dev, tx_errors);      /* not a frame the chip can send: dropped, counted */
		return NETDEV_TX_OK;
	}
	bool tso = kind == NETDEV_TX_TSO, tso6 = tso && t.v6;
	/* the chip cuts [0, body); an IPv4 FIN frame's last segment (from body on) is cut here */
	size_t body = len;
	if (tso && !tso6 && (f[t.tcp_off + NETDEV_TCP_FLAGS_OFF] & NETDEV_TCP_FIN))
		body = t.hdr_len + (len - t.hdr_len - 1) / t.mss * t.mss;
	unsigned need = (unsigned)((body + RTL_TX_BUF_SIZE - 1) / RTL_TX_BUF_SIZE) + (body < len);
	if (tso6) {
		need = (unsigned)((len - t.hdr_len + t.mss - 1) / t.mss);
		if (need > RTL_TX_FRAME_MAX || t.hdr_len + t.mss > RTL_TX_BUF_SIZE) {
			NETDEV_STAT_INC(dev, tx_errors);  /* an MTU below IPv6's or above a buffer */
			return NETDEV_TX_OK;
		}
	}
	spin_lock(&r->tx_lock);
	if (rtl_cp_tx_space(&r->txq) < need) {
		if (r->tx_unkicked)
			tx_kick_locked(r);      /* what waits for a kick cannot be reclaimed */
		tx_reclaim_locked(r);
	}
	if (rtl_cp_tx_space(&r->txq) < need) {
		/* a batch finishing from here on raises TOK, which is now enabled */
		r->tx_stopped = true;
		set_imr_locked(r, r->imr | RTL_INT_TX);
		spin_unlock(&r->tx_lock);
		return NETDEV_TX_BUSY;
	}
	unsigned first = r->txq.tail;
	/* in every descriptor of the frame: QEMU's model takes it from the last one (LS) */
	uint32_t large = tso ? RTL_CP_LGSEN | (t.mss & RTL_CP_MSS_MASK) << RTL_CP_MSS_SHIFT : 0;
	for (size_t off = t.hdr_len; tso6 && off < len; off += t.mss) {   /* one whole frame per segment */
		uint8_t *buf = r->tx_bufs + (size_t)r->txq.tail * RTL_TX_BUF_SIZE;
		size_t n = netdev_tso_segment(f, len, &t, off, buf, true);
		rtl_cp_tx_fill(&r->txq, r->tx_ring, va_to_pa(buf), (uint32_t)n, RTL_CP_FS | RTL_CP_LS);
	}
	for (size_t off = 0; !tso6 && off < body; off += RTL_TX_BUF_SIZE) {
		size_t n = MIN(body - off, (size_t)RTL_TX_BUF_SIZE);
		uint8_t *buf = r->tx_bufs + (size_t)r->txq.tail * RTL_TX_BUF_SIZE;
		memcpy(buf, f + off, n);
		if (off == 0 && body < len) {
			/* the frame without its last segment: its IP length, and no FIN yet */
			buf[t.ip_off + 2] = (uint8_t)((body - t.ip_off) >> 8);
			buf[t.ip_off + 3] = (uint8_t)(body - t.ip_off);
			buf[t.tcp_off + NETDEV_TCP_FLAGS_OFF] &= (uint8_t)~(NETDEV_TCP_FIN | NETDEV_TCP_PSH);
		}
		uint32_t flags = (off == 0 ? RTL_CP_FS : 0) | large | (off + n == body ? RTL_CP_LS : 0);
		rtl_cp_tx_fill(&r->txq, r->tx_ring, va_to_pa(buf), (uint32_t)n, flags);
	}
	if (body < len) {                        /* the last segment, FIN and all: a plain frame */
		uint8_t *buf = r->tx_bufs + (size_t)r->txq.tail * RTL_TX_BUF_SIZE;
		size_t n = netdev_tso_segment(f, len, &t, body, buf, true);
		rtl_cp_tx_fill(&r->txq, r->tx_ring, va_to_pa(buf), (uint32_t)n, RTL_CP_FS | RTL_CP_LS);
	}
	rtl_cp_tx_give(r->tx_ring, first, need);
	if (flags & NETDEV_XMIT_MORE)
		r->tx_unkicked = true;
	else
		tx_kick_locked(r);
	spin_unlock(&r->tx_lock);
	if (tso)
		NETDEV_STAT_INC(dev, tx_tso);
	return NETDEV_TX_OK;
}

/* ---- receive ---- */

/* Ring address and read offset 0. CAPR is written only once the receiver is enabled again: a CAPR
 * write lets QEMU's model deliver held-back packets, which a disabled receiver would drop. */
static void program_rx(struct rtl8139 *r)
{
	wr32(r, RTL_RBSTART, (uint32_t)va_to_pa(r->rx_ring));
	r->rx_off = 0;
	r->rx_unreported = 0;
}

/* MAR0-7 from r->mar: byte i is MAR i (little-endian 32-bit writes). */
static void write_mar(struct rtl8139 *r)
{
	for (int w = 0; w < 2; w++) {
		const uint8_t *b = r->mar + 4 * w;
		wr32(r, RTL_MAR0 + 4 * (unsigned)w, (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
						    (uint32_t)b[3] << 24);
	}
}

/* The ring holds garbage where a header should be: restart the receiver at offset 0. */
static void rx_reset(struct rtl8139 *r, uint32_t hdr)
{
	printk("%s: receive ring corrupt (header %#x at offset %#x), resetting the receiver\n",
	       r->ndev.name, hdr, r->rx_off);
	spin_lock(&r->tx_lock);
	write_cr_locked(r, RTL_CR_TE);           /* receiver off, transmitter on */
	program_rx(r);
	write_cr_locked(r, RTL_CR_RE | RTL_CR_TE);
	spin_unlock(&r->tx_lock);
	wr32(r, RTL_RCR, RTL_RCR_VALUE);         /* also restarts the chip's ring offsets */
	wr16(r, RTL_CAPR, rtl_capr(0));
}

/* Report the read offset to the chip (CAPR). */
static void rx_release(struct rtl8139 *r)
{
	wr16(r, RTL_CAPR, rtl_capr(r->rx_off));
	NETDEV_STAT_INC(&r->ndev, rx_releases);
	r->rx_unreported = 0;
}

static int rx_harvest(struct rtl8139 *r, int budget)
{
	struct net_device *dev = &r->ndev;
	int n = 0;
	uint32_t cbr = rd16(r, RTL_CBR);         /* the fence in mmio_read orders the ring reads */
	while (n < budget) {
		uint32_t pending = rtl_rx_pending(r->rx_off, cbr, RTL_RX_RING_SIZE);
		if (pending == 0) {
			cbr = rd16(r, RTL_CBR);          /* caught up: anything new? */
			pending = rtl_rx_pending(r->rx_off, cbr, RTL_RX_RING_SIZE);
			if (pending == 0)
				break;
		}
		uint32_t hdr = rtl_rx_header(r->rx_ring, r->rx_off), len = 0;
		enum rtl_rx_verdict v = rtl_rx_check(hdr, pending, RTL_RX_RING_SIZE, &len);
		if (v == RTL_RX_EMPTY)
			break;
		if (v == RTL_RX_CORRUPT) {
			NETDEV_STAT_INC(dev, rx_errors);
			rx_reset(r, hdr);
			return n + 1;
		}
		if (v == RTL_RX_FRAME) {
			const uint8_t *f = rtl_rx_frame(r->rx_ring, RTL_RX_RING_SIZE, 0, r->rx_off, len, r->bounce);
			if (rtl_frame_len_ok(f, len))
				netdev_rx(dev, f, len);
			else
				NETDEV_STAT_INC(dev, rx_errors);
		} else {
			NETDEV_STAT_INC(dev, rx_errors);
		}
		uint32_t next = rtl_rx_advance(r->rx_off, hdr >> 16, RTL_RX_RING_SIZE);
		r->rx_unreported += (next - r->rx_off) & (RTL_RX_RING_SIZE - 1);
		r->rx_off = next;
		if (r->rx_unreported >= RTL_RX_RELEASE_BYTES)
			rx_release(r);
		n++;
	}
	return n;
}

static int rtl_poll(struct net_device *dev, int budget)
{
	struct rtl8139 *r = dev->priv;
	tx_clean(r);
	int n = rx_harvest(r, budget);
	if (n >= budget)
		return budget;                   /* more to do: stay in polling mode */
	/* Ring empty: leave polling mode as kernel/irq.h says: unmask, acknowledge the receive and
	 * transmit causes (the ISR write, even of no bits, drops the line on QEMU's model and raises
	 * it again for causes left set, such as a link change), look once more. (The core unmasks
	 * again after we return: harmless.) */
	irq_unmask(dev->irq);
	uint16_t isr = rd16(r, RTL_ISR) & (RTL_INT_RX | RTL_INT_TX);
	wr16(r, RTL_ISR, isr);
	if (isr & RTL_INT_TX)
		tx_clean(r);
	if (rx_harvest(r, budget - n) > 0) {
		irq_mask(dev->irq);              /* packets slipped in: stay in polling mode */
		return budget;
	}
	netdev_poll_done(dev);
	return n;
}

static void rtl_irq(int irq, void *arg)
{
	struct rtl8139 *r = arg;
	uint16_t isr = rd16(r, RTL_ISR);
	if (!isr || isr == 0xffff)
		return;                          /* nothing pending, or the device is gone */
	wr16(r, RTL_ISR, isr);                   /* write 1s to acknowledge what we saw */
	if (isr & RTL_INT_LINKCHG)
		update_link(r, true);
	if (isr & RTL_INT_SERR)
		printk("%s: PCI system error (isr %#x)\n", r->ndev.name, isr);
	if (isr & (RTL_INT_RX | RTL_INT_TX)) {
		irq_mask(irq);
		netdev_schedule_poll(&r->ndev);
	}
}

/* ---- bring-up ---- */

static bool chip_reset(struct rtl8139 *r)
{
	wr8(r, RTL_9346CR, RTL_9346CR_CFG_WRITE);
	wr8(r, RTL_CONFIG1, RTL_CONFIG1_PWRON);
	wr8(r, RTL_9346CR, RTL_9346CR_NORMAL);
	wr8(r, RTL_CR, RTL_CR_RST);
	uint64_t deadline = time_ns() + RTL_RESET_TIMEOUT_NS;
	while (rd8(r, RTL_CR) & RTL_CR_RST)
		if (time_ns() >= deadline)
			return false;
	return true;
}

static int rtl_open(struct net_device *dev)
{
	struct rtl8139 *r = dev->priv;
	if (!chip_reset(r)) {
		printk("%s: reset timed out\n", dev->name);
		return -EIO;
	}
	wr16(r, RTL_IMR, 0);
	wr16(r, RTL_ISR, 0xffff);
	program_rx(r);
	/* C+ transmit (the reset left C+ mode): its ring, then enable (which starts it at 0) */
	wr16(r, RTL_CPCMD, RTL_CPCMD_TXENB);
	uint64_t ring = va_to_pa(r->tx_ring);
	wr32(r, RTL_TNPDS, (uint32_t)ring);
	wr32(r, RTL_TNPDS + 4, (uint32_t)(ring >> 32));
	spin_lock(&r->tx_lock);
	r->tx_stopped = false;
	/* enable first: the configuration registers take effect on an enabled chip */
	write_cr_locked(r, RTL_CR_RE | RTL_CR_TE);
	spin_unlock(&r->tx_lock);
	wr32(r, RTL_RCR, RTL_RCR_VALUE);         /* ring size; restarts the chip's ring offsets */
	wr32(r, RTL_TCR, RTL_TCR_VALUE);
	wr16(r, RTL_CAPR, rtl_capr(0));
	/* the multicast groups set_rx_mode was given (RCR.AM with their MAR hash bits; none yet) */
	write_mar(r);
	wr32(r, RTL_MPC, 0);
	update_link(r, false);
	spin_lock(&r->tx_lock);
	set_imr_locked(r, RTL_IMR_BASE);
	spin_unlock(&r->tx_lock);
	return 0;
}

static int rtl_stop(struct net_device *dev)
{
	struct rtl8139 *r = dev->priv;
	spin_lock(&r->tx_lock);
	set_imr_locked(r, 0);
	write_cr_locked(r, 0);
	spin_unlock(&r->tx_lock);
	wr16(r, RTL_ISR, 0xffff);
	__atomic_fetch_and(&dev->flags, ~NETDEV_LINK, __ATOMIC_RELAXED);
	return 0;
}

/* The stack's multicast groups into MAR (net/netdev.h: Multicast); past NETDEV_MC_MAX of them,
 * every hash bucket. */
static void rtl_set_rx_mode(struct net_device *dev)
{
	struct rtl8139 *r = dev->priv;
	uint8_t macs[NETDEV_MC_MAX][ETH_ALEN];
	int n = netdev_mc_list(dev, macs);
	if (n < 0)
		memset(r->mar, 0xff, sizeof(r->mar));
	else
		rtl_mar_build(r->mar, macs, n);
	write_mar(r);
}

static const struct net_device_ops rtl_ops = {
	.open = rtl_open,
	.stop = rtl_stop,
	.start_xmit = rtl_start_xmit,
	.tx_kick = rtl_tx_kick,
	.poll = rtl_poll,
	.set_rx_mode = rtl_set_rx_mode,
};

static void free_dma(struct rtl8139 *r)
{
	free_pages(r->rx_ring, order_for(RTL_RX_ALLOC));
	free_pages(r->tx_ring, 0);
	free_pages(r->tx_bufs, order_for(RTL_CP_TX_RING * RTL_TX_BUF_SIZE));
}

static int rtl_probe(struct pci_dev *pdev)
{
	/* registers: the memory BAR (1) if assigned, else the I/O BAR (0), which QEMU maps as MMIO */
	struct pci_bar *bar = &pdev->bar[1];
	if (!bar->va || bar->io || bar->size < RTL_REGS_SIZE)
		bar = &pdev->bar[0];
	if (!bar->va || bar->size < RTL_REGS_SIZE) {
		printk("rtl8139 %02x:%02x.%x: no register BAR\n", pdev->bus, pdev->slot, pdev->func);
		return -ENODEV;
	}
	if (pdev->irq <= 0) {
		printk("rtl8139 %02x:%02x.%x: no interrupt\n", pdev->bus, pdev->slot, pdev->func);
		return -ENODEV;
	}
	struct rtl8139 *r = kzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->pdev = pdev;
	r->regs = bar->va;
	spin_init(&r->tx_lock, "rtl8139-tx");
	r->rx_ring = alloc_pages(order_for(RTL_RX_ALLOC), PAGE_ZERO);
	r->tx_ring = alloc_pages(0, PAGE_ZERO);  /* page-aligned: beyond RTL_TX_RING_ALIGN */
	r->tx_bufs = alloc_pages(order_for(RTL_CP_TX_RING * RTL_TX_BUF_SIZE), 0);
	if (!r->rx_ring || !r->tx_ring || !r->tx_bufs) {
		printk("rtl8139 %02x:%02x.%x: out of memory for rings\n", pdev->bus, pdev->slot, pdev->func);
		goto fail;
	}
	if (va_to_pa(r->rx_ring) + RTL_RX_ALLOC > RTL_DMA_LIMIT) {
		printk("rtl8139 %02x:%02x.%x: no DMA memory below 4 GiB\n", pdev->bus, pdev->slot, pdev->func);
		goto fail;
	}

	struct net_device *dev = &r->ndev;
	for (int i = 0; i < ETH_ALEN; i++)
		dev->mac[i] = rd8(r, RTL_IDR0 + i);
	dev->mtu = ETH_DATA_LEN;
	dev->irq = pdev->irq;
	dev->features = NETDEV_F_TSO | NETDEV_F_TSO6;
	dev->driver = "rtl8139";
	dev->ops = &rtl_ops;
	dev->priv = r;
	if (netdev_register(dev, "eth") < 0) {
		printk("rtl8139 %02x:%02x.%x: cannot register\n", pdev->bus, pdev->slot, pdev->func);
		goto fail;
	}
	if (irq_register(dev->irq, rtl_irq, r, dev->name) < 0) {
		printk("%s: irq %d unavailable\n", dev->name, dev->irq);
		netdev_unregister(dev);
		goto fail;
	}
	netdev_set_irq_affinity(dev, dev->irq_cpu);
	pdev->driver_data = r;
	printk("%s: rtl8139 at %02x:%02x.%x regs %#llx (%s) irq %d, %u KiB rx ring, %d C+ tx descriptors\n",
	       dev->name, pdev->bus, pdev->slot, pdev->func, (unsigned long long)bar->cpu,
	       bar->io ? "io" : "mem", dev->irq, RTL_RX_RING_SIZE / 1024, RTL_CP_TX_RING);
	return 0;
fail:
	free_dma(r);
	kfree(r);
	return -ENODEV;
}

static const struct pci_id rtl_ids[] = {
	{ RTL_VENDOR_REALTEK, RTL_DEV_8139 },
	{ 0, 0 },
};

static const struct pci_driver rtl_driver = {
	.name = "rtl8139",
	.ids = rtl_ids,
	.probe = rtl_probe,
};

static void rtl8139_register(void)
{
	pci_register_driver(&rtl_driver);
}
driver_init(rtl8139_register);
