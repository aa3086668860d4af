/*
 * Intel 82540EM (QEMU `-device e1000`) driver.
 *
 * Theory of operation. The chip moves frames between the wire and host memory through two rings of
 * 16-byte legacy descriptors (drivers/e1000/ring.h has the index rules). Receive: each RX
 * descriptor points at a 2 KiB buffer; the chip fills descriptors from RDH on, writing the frame,
 * then the length and DD|EOP, and stops when it reaches RDT, the first descriptor the driver has
 * not handed back. Transmit: the driver copies a frame into the buffer of the descriptor at TDT,
 * advances TDT, and the chip sends it and sets DD (every descriptor asks for status with RS).
 * Interrupt causes collect in ICR, and reading ICR acknowledges (clears) all of them; IMS/IMC set
 * and clear the mask; ITR spaces interrupts at least 1/8000 s apart. The CRC is stripped (SECRC)
 * and short frames are padded on transmit (PSP). STATUS.LU is the carrier; a change raises LSC.
 *
 * Receive is NAPI-like (net/netdev.h): the interrupt handler reads ICR, notes a link change,
 * masks the PLIC source and schedules the device's poll on the CPU that took the interrupt. Poll
 * reclaims finished TX descriptors, then hands up to `budget` frames to netdev_rx, recycling each
 * buffer in place and returning batches of descriptors to the chip through RDT. When the ring is
 * empty it unmasks the source, reads ICR (acknowledging whatever came in meanwhile, which drops
 * the line) and checks the ring again: a frame seen then keeps the device in polling mode, and one
 * that lands later raises the line afresh and interrupts (kernel/irq.h: leaving polling mode).
 *
 * Transmit: start_xmit reclaims finished descriptors when the ring runs low, copies the frame into
 * the descriptor's own buffer and writes TDT. With the ring full it returns NETDEV_TX_BUSY after
 * enabling the TXDW interrupt; the poll that interrupt schedules reclaims, calls netdev_tx_wake
 * and masks TXDW again (a transmit burst does not interrupt per frame). On QEMU a TDT write
 * sends the frames there and then, in the writing vCPU; so with NETDEV_XMIT_MORE (the stack's
 * TSO frames, under its lock) TDT is left behind (tx_unkicked) and written by tx_kick once the
 * stack lock is let go, or at once when the ring runs low (net/netdev.h: Doorbells).
 *
 * TSO (NETDEV_F_TSO, net/netdev.h): a TCP frame longer than the MTU goes out as a TCP/IP context
 * descriptor (header offsets, header length, MSS, payload length) followed by the frame cut into
 * 2 KiB pieces, each in the next descriptor's own buffer (extended data descriptors, the last
 * with EOP). The chip repeats the headers per segment, advances the IP id and the sequence number
 * and inserts both checksums; for that the copy's IP checksum is zeroed and its TCP checksum
 * holds the pseudo-header sum without the length, which the chip adds per segment. Such a frame
 * needs up to E1000_TX_FRAME_MAX descriptors, and a stopped sender is woken only when that many
 * are free.
 *
 * TSO for IPv6 (NETDEV_F_TSO6) is cut here, not by the chip: QEMU's model segments IPv6 (the
 * context's IP bit clear) but writes each segment's payload length as the bytes from IPCSS on,
 * the 40-byte fixed header included, so a receiver drops every segment as truncated (hw/net/e1000.c
 * xmit_seg). The driver cuts it into its descriptors' buffers with netdev_tso_segment
 * (net/tso.c: the headers and up to an MSS of payload per segment, its payload length, sequence
 * number and flags, PSH and FIN only on the last), seeds the TCP checksum with the segment's
 * pseudo-header sum, and lets the chip finish the checksum (one checksum context descriptor, then TXSM data descriptors). Compared with
 * sending MSS-sized frames from the stack, lwIP builds and checksums one segment instead of a
 * dozen, and the whole frame costs one TDT write.
 *
 * Errors: descriptors with error bits, runts, oversized frames and frames spanning descriptors are
 * counted in rx_errors and dropped; frames the chip itself drops as oversized (ROC) or undersized
 * (RUC) are added to rx_errors, and receiver overruns (RXO) to rx_dropped, when counters are read.
 *
 * Locks and contexts:
 *   - RX ring state (rx_ring, rxq) belongs to poll, which the netdev core never runs twice at once
 *     for a device; open initialises it before interrupts are enabled. No lock.
 *   - tx_lock guards the TX ring (tx_ring, txq, tx buffers, tx_stopped, tx_unkicked) and TDT;
 *     taken by start_xmit (any thread, any CPU), tx_kick and poll's reclaim. Never held across
 *     netdev_tx_wake.
 *   - stats_lock guards the accumulated hardware counters (get_stats, any thread) and the
 *     interrupt handler's overrun count.
 *   - The interrupt handler runs on whichever hart the IRQ is routed to (the netdev core spreads
 *     devices over harts); nothing here assumes a particular CPU. Registers written from more than
 *     one context (IMS/IMC) are set/clear registers, so no read-modify-write races.
 * DMA memory comes from alloc_pages; the device is given va_to_pa() addresses (RAM is coherent on
 * QEMU virt, so fences order descriptor and buffer accesses against MMIO; no cache maintenance).
 */
#include "drivers/e1000/e1000_hw.h"
#include "drivers/e1000/ring.h"
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

#define E1000_RX_RING   256                  /* descriptors (multiple of 8) */
#define E1000_TX_RING   256
#define E1000_TX_TSO4_DESCS (1 + (ETH_HLEN + NETDEV_TSO_DEFAULT + E1000_TX_BUF_SIZE - 1) / E1000_TX_BUF_SIZE)
#define E1000_TX_TSO6_DESCS (1 + NETDEV_TSO6_SEGS_MAX)
#define E1000_TX_FRAME_MAX MAX(E1000_TX_TSO4_DESCS, E1000_TX_TSO6_DESCS)
					     /* descriptors a frame may need: a context and its pieces */
#define E1000_RX_REFILL 32                   /* hand descriptors back at least this often */
#define E1000_TX_LOW    (E1000_TX_RING / 4)  /* reclaim in start_xmit below this much space */
#define E1000_RESET_TIMEOUT_NS (10 * NSEC_PER_MSEC)
#define E1000_EERD_TIMEOUT_NS  (10 * NSEC_PER_MSEC)
#define E1000_MMIO_MIN  0x20000              /* BAR 0 is 128 KiB */
/* receive control: broadcast, 2 KiB buffers, CRC stripped; multicast through the MTA (MPE added
 * by set_rx_mode past NETDEV_MC_MAX groups) */
#define E1000_RCTL_VALUE (E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_BSIZE_2048 | E1000_RCTL_SECRC | \
			  E1000_RCTL_RDMTS_HALF)

/* interrupt causes the driver enables; TXDW only while a sender waits for ring space */
#define E1000_IMS_RX    (E1000_INT_RXT0 | E1000_INT_RXO | E1000_INT_RXDMT0 | E1000_INT_RXSEQ)
#define E1000_IMS_BASE  (E1000_IMS_RX | E1000_INT_LSC)

struct e1000 {
	struct net_device ndev;
	struct pci_dev *pdev;
	uint8_t *regs;

	/* receive: owned by poll */
	struct e1000_rx_desc *rx_ring;
	uint8_t *rx_bufs;                    /* E1000_RX_RING * E1000_RX_BUF_SIZE */
	struct e1000_rxq rxq;

	/* transmit: tx_lock */
	struct spinlock tx_lock;
	struct e1000_tx_desc *tx_ring;
	uint8_t *tx_bufs;                    /* E1000_TX_RING * E1000_TX_BUF_SIZE */
	struct e1000_txq txq;
	bool tx_stopped;                     /* a sender got BUSY: wake it after the next reclaim */
	bool tx_unkicked;                    /* TDT lags txq.tail: frames wait for tx_kick */

	/* multicast filter as last written (set_rx_mode; netdev serializes it); RCTL is written
	   only between open and stop (rx_on), the MTA at any time */
	uint32_t mta[E1000_MTA_WORDS];
	uint32_t rctl;
	bool rx_on;

	/* hardware counters, accumulated: stats_lock */
	struct spinlock stats_lock;
	uint64_t hw_oversize, hw_undersize, rx_overruns;
};

static inline uint32_t rd(struct e1000 *e, uint32_t reg) { return mmio_read32(e->regs + reg); }
static inline void wr(struct e1000 *e, uint32_t reg, uint32_t v) { mmio_write32(e->regs + reg, v); }

static unsigned order_for(size_t bytes)
{
	unsigned o = 0;
	while ((PAGE_SIZE << o) < bytes)
		o++;
	return o;
}

/* ---- link ---- */

static void update_link(struct e1000 *e, bool report)
{
	bool up = rd(e, E1000_STATUS) & E1000_STATUS_LU;
	unsigned old = up ? __atomic_fetch_or(&e->ndev.flags, NETDEV_LINK, __ATOMIC_RELAXED)
			  : __atomic_fetch_and(&e->ndev.flags, ~NETDEV_LINK, __ATOMIC_RELAXED);
	if (report && !!(old & NETDEV_LINK) != up)
		printk("%s: link %s\n", e->ndev.name, up ? "up" : "down");
}

/* ---- transmit ---- */

/* Reclaim finished descriptors; returns true if a stopped sender should be woken. tx_lock held. */
static bool tx_reclaim_locked(struct e1000 *e)
{
	e1000_tx_reclaim(&e->txq, e->tx_ring);
	if (e->tx_stopped && e1000_tx_space(&e->txq) >= E1000_TX_FRAME_MAX) {
		e->tx_stopped = false;
		wr(e, E1000_IMC, E1000_INT_TXDW);
		return true;
	}
	return false;
}

static void tx_clean(struct e1000 *e)
{
	spin_lock(&e->tx_lock);
	bool wake = tx_reclaim_locked(e);
	spin_unlock(&e->tx_lock);
	if (wake)
		netdev_tx_wake(&e->ndev);
}

/* Copies a TSO frame into the buffers of the descriptors after a context descriptor (tx_lock
 * held, room checked), fixing up the copy's checksum fields as the chip wants them. */
static void tx_post_tso(struct e1000 *e, const uint8_t *frame, size_t len, const struct netdev_tso_frame *t)
{
	struct e1000_tso_ctx c = { t->ip_off, t->tcp_off, t->hdr_len, t->mss, (unsigned)(len - t->hdr_len) };
	e1000_tx_post_tso_ctx(&e->txq, e->tx_ring, &c);
	uint16_t pseudo = netdev_tso_pseudo_sum(frame, t, 0);
	for (size_t off = 0; off < len; off += E1000_TX_BUF_SIZE) {
		size_t n = MIN(len - off, (size_t)E1000_TX_BUF_SIZE);
		uint8_t *buf = e->tx_bufs + (size_t)e->txq.tail * E1000_TX_BUF_SIZE;
		memcpy(buf, frame + off, n);
		if (off == 0) {                  /* the headers: hdr_len < one buffer */
			buf[t->ip_off + E1000_IP_CSUM_OFF] = buf[t->ip_off + E1000_IP_CSUM_OFF + 1] = 0;
			buf[t->tcp_off + E1000_TCP_CSUM_OFF] = (uint8_t)(pseudo >> 8);
			buf[t->tcp_off + E1000_TCP_CSUM_OFF + 1] = (uint8_t)pseudo;
		}
		e1000_tx_post_tso_data(&e->txq, e->tx_ring, va_to_pa(buf), (uint16_t)n, off + n == len);
	}
}

/* An IPv6 TSO frame cut into segments here (see the theory; tx_lock held, room checked). */
static void tx_post_tso6(struct e1000 *e, const uint8_t *frame, size_t len, const struct netdev_tso_frame *t)
{
	e1000_tx_post_csum_ctx(&e->txq, e->tx_ring, t->tcp_off);
	for (size_t off = t->hdr_len; off < len; off += t->mss) {
		uint8_t *buf = e->tx_bufs + (size_t)e->txq.tail * E1000_TX_BUF_SIZE;
		size_t n = netdev_tso_segment(frame, len, t, off, buf, false);   /* the chip finishes the sum */
		e1000_tx_post_csum_data(&e->txq, e->tx_ring, va_to_pa(buf), (uint16_t)n);
	}
}

/* Hand the chip what start_xmit left behind TDT. tx_lock held. */
static void tx_kick_locked(struct e1000 *e)
{
	wr(e, E1000_TDT, e->txq.tail);   /* mmio_write32 orders the buffers and descriptors first */
	e->tx_unkicked = false;
}

static void e1000_tx_kick(struct net_device *dev)
{
	struct e1000 *e = dev->priv;
	spin_lock(&e->tx_lock);
	if (e->tx_unkicked)
		tx_kick_locked(e);
	spin_unlock(&e->tx_lock);
}

static int e1000_start_xmit(struct net_device *dev, const void *frame, size_t len, unsigned flags)
{
	struct e1000 *e = dev->priv;
	const uint8_t *f = frame;
	struct netdev_tso_frame t;
	enum netdev_tx_kind kind = netdev_tx_kind(dev, f, len, E1000_TX_BUF_SIZE, &t);
	if (kind == NETDEV_TX_BAD) {
		NETDEV_STAT_INC(dev, tx_errors);      /* not a frame the chip can send: dropped, counted */
		return NETDEV_TX_OK;
	}
	bool tso = kind == NETDEV_TX_TSO;
	unsigned need = tso ? 1 + (unsigned)((len + E1000_TX_BUF_SIZE - 1) / E1000_TX_BUF_SIZE) : 1;
	if (tso && t.v6) {
		need = 1 + (unsigned)((len - t.hdr_len + t.mss - 1) / t.mss);
		if (need > E1000_TX_FRAME_MAX || t.hdr_len + t.mss > E1000_TX_BUF_SIZE) {
			NETDEV_STAT_INC(dev, tx_errors);  /* an MTU below IPv6's or above a buffer */
			return NETDEV_TX_OK;
		}
	}
	spin_lock(&e->tx_lock);
	if (e1000_tx_space(&e->txq) < MAX((unsigned)E1000_TX_LOW, need)) {
		if (e->tx_unkicked)
			tx_kick_locked(e);      /* what waits for a kick cannot be reclaimed */
		e1000_tx_reclaim(&e->txq, e->tx_ring);
	}
	if (e1000_tx_space(&e->txq) < need) {
		/* ask for an interrupt when the chip writes back; the ICR bit may already be set, in
		   which case enabling it raises the line at once */
		e->tx_stopped = true;
		wr(e, E1000_IMS, E1000_INT_TXDW);
		spin_unlock(&e->tx_lock);
		return NETDEV_TX_BUSY;
	}
	if (tso && t.v6) {
		tx_post_tso6(e, f, len, &t);
	} else if (tso) {
		tx_post_tso(e, f, len, &t);
	} else {
		unsigned i = e->txq.tail;
		uint8_t *buf = e->tx_bufs + (size_t)i * E1000_TX_BUF_SIZE;
		memcpy(buf, frame, len);
		e1000_tx_post(&e->txq, e->tx_ring, va_to_pa(buf), (uint16_t)len);
	}
	if (flags & NETDEV_XMIT_MORE)
		e->tx_unkicked = true;
	else
		tx_kick_locked(e);
	spin_unlock(&e->tx_lock);
	if (tso)
		NETDEV_STAT_INC(dev, tx_tso);
	return NETDEV_TX_OK;
}

/* ---- receive ---- */

static int rx_harvest(struct e1000 *e, int budget)
{
	struct net_device *dev = &e->ndev;
	int n = 0, since_refill = 0;
	unsigned len = 0;
	while (n < budget) {
		unsigned i = e->rxq.next;
		uint8_t *buf = e->rx_bufs + (size_t)i * E1000_RX_BUF_SIZE;
		enum e1000_rx_verdict v = e1000_rx_check(&e->rxq, &e->rx_ring[i], buf, &len);
		if (v == E1000_RX_EMPTY)
			break;
		if (v == E1000_RX_FRAME)
			netdev_rx(dev, buf, len);
		else if (v == E1000_RX_ERROR)
			NETDEV_STAT_INC(dev, rx_errors);
		e1000_rx_recycle(&e->rxq, e->rx_ring);
		n++;
		if (++since_refill == E1000_RX_REFILL) {
			wr(e, E1000_RDT, e1000_rx_tail(&e->rxq));
			since_refill = 0;
		}
	}
	if (since_refill)
		wr(e, E1000_RDT, e1000_rx_tail(&e->rxq));
	return n;
}

static int e1000_poll(struct net_device *dev, int budget)
{
	struct e1000 *e = dev->priv;
	tx_clean(e);
	int n = rx_harvest(e, budget);
	if (n >= budget)
		return budget;                   /* more to do: stay in polling mode */
	/* Ring empty: leave polling mode as kernel/irq.h says: unmask, acknowledge (reading ICR drops
	 * the line), look once more. (The core unmasks again after we return: harmless.) */
	irq_unmask(dev->irq);
	uint32_t icr = rd(e, E1000_ICR);
	if (icr & E1000_INT_LSC)
		update_link(e, true);
	if (icr & E1000_INT_RXO) {
		spin_lock(&e->stats_lock);
		e->rx_overruns++;
		spin_unlock(&e->stats_lock);
	}
	if (icr & E1000_INT_TXDW)
		tx_clean(e);
	if (rx_harvest(e, budget - n) > 0) {
		irq_mask(dev->irq);              /* frames slipped in: stay in polling mode */
		return budget;
	}
	netdev_poll_done(dev);
	return n;
}

static void e1000_irq(int irq, void *arg)
{
	struct e1000 *e = arg;
	uint32_t icr = rd(e, E1000_ICR);         /* reading acknowledges every cause */
	if (!icr)
		return;                          /* nothing pending (taken by poll already) */
	if (icr & E1000_INT_LSC)
		update_link(e, true);
	if (icr & E1000_INT_RXO) {
		spin_lock(&e->stats_lock);
		e->rx_overruns++;
		spin_unlock(&e->stats_lock);
	}
	if (icr & (E1000_IMS_RX | E1000_INT_TXDW)) {
		irq_mask(irq);
		netdev_schedule_poll(&e->ndev);
	}
}

/* ---- counters ---- */

static void e1000_get_stats(struct net_device *dev, struct netdev_stats *st)
{
	struct e1000 *e = dev->priv;
	spin_lock(&e->stats_lock);
	e->hw_oversize += rd(e, E1000_ROC);      /* clear on read */
	e->hw_undersize += rd(e, E1000_RUC);
	st->rx_errors += e->hw_oversize + e->hw_undersize;
	st->rx_dropped += e->rx_overruns;
	spin_unlock(&e->stats_lock);
}

/* ---- bring-up ---- */

static void hw_reset(struct e1000 *e)
{
	wr(e, E1000_IMC, E1000_INT_ALL);
	e->rx_on = false;
	wr(e, E1000_RCTL, 0);
	wr(e, E1000_TCTL, 0);
	wr(e, E1000_CTRL, rd(e, E1000_CTRL) | E1000_CTRL_RST);
	uint64_t deadline = time_ns() + E1000_RESET_TIMEOUT_NS;
	while ((rd(e, E1000_CTRL) & E1000_CTRL_RST) && time_ns() < deadline)
		;
	wr(e, E1000_IMC, E1000_INT_ALL);
	(void)rd(e, E1000_ICR);
	uint32_t ctrl = rd(e, E1000_CTRL);
	ctrl |= E1000_CTRL_SLU | E1000_CTRL_ASDE;
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_VME);
	wr(e, E1000_CTRL, ctrl);
}

static bool eeprom_read(struct e1000 *e, unsigned word, uint16_t *out)
{
	wr(e, E1000_EERD, E1000_EERD_START | word << E1000_EERD_ADDR_SHIFT);
	uint64_t deadline = time_ns() + E1000_EERD_TIMEOUT_NS;
	for (;;) {
		uint32_t v = rd(e, E1000_EERD);
		if (v & E1000_EERD_DONE) {
			*out = (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
			return true;
		}
		if (time_ns() >= deadline)
			return false;
	}
}

static bool mac_valid(const uint8_t *m)
{
	static const uint8_t zero[ETH_ALEN];
	return !(m[0] & 1) && memcmp(m, zero, ETH_ALEN) != 0;
}

/* The MAC: receive address 0 when the chip loaded it (AV), else EEPROM words 0..2. */
static bool read_mac(struct e1000 *e, uint8_t *mac)
{
	uint32_t ral = rd(e, E1000_RAL0), rah = rd(e, E1000_RAH0);
	if (rah & E1000_RAH_AV) {
		for (int i = 0; i < 4; i++)
			mac[i] = (uint8_t)(ral >> (8 * i));
		mac[4] = (uint8_t)rah;
		mac[5] = (uint8_t)(rah >> 8);
		if (mac_valid(mac))
			return true;
	}
	for (unsigned w = 0; w < E1000_EEPROM_MAC_WORDS; w++) {
		uint16_t v;
		if (!eeprom_read(e, w, &v))
			return false;
		mac[2 * w] = (uint8_t)v;
		mac[2 * w + 1] = (uint8_t)(v >> 8);
	}
	return mac_valid(mac);
}

static int e1000_open(struct net_device *dev)
{
	struct e1000 *e = dev->priv;
	const uint8_t *m = dev->mac;
	wr(e, E1000_IMC, E1000_INT_ALL);
	(void)rd(e, E1000_ICR);

	/* our address in receive address 0; the multicast groups set_rx_mode was given (none yet) */
	wr(e, E1000_RAL0, (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24);
	wr(e, E1000_RAH0, (uint32_t)m[4] | (uint32_t)m[5] << 8 | E1000_RAH_AV);
	for (int i = 0; i < E1000_MTA_WORDS; i++)
		wr(e, E1000_MTA + 4 * i, e->mta[i]);

	/* receive ring: every descriptor owns its buffer; all but one go to the chip */
	for (unsigned i = 0; i < E1000_RX_RING; i++) {
		memset(&e->rx_ring[i], 0, sizeof(e->rx_ring[i]));
		e->rx_ring[i].addr = va_to_pa(e->rx_bufs + (size_t)i * E1000_RX_BUF_SIZE);
	}
	e1000_rxq_init(&e->rxq, E1000_RX_RING);
	paddr_t rpa = va_to_pa(e->rx_ring);
	wr(e, E1000_RDBAL, (uint32_t)rpa);
	wr(e, E1000_RDBAH, (uint32_t)(rpa >> 32));
	wr(e, E1000_RDLEN, E1000_RX_RING * sizeof(struct e1000_rx_desc));
	wr(e, E1000_RDH, 0);
	wr(e, E1000_RDT, e1000_rx_tail(&e->rxq));
	wr(e, E1000_RDTR, 0);                    /* no receive delay: ITR does the moderation */
	wr(e, E1000_RADV, 0);

	/* transmit ring */
	spin_lock(&e->tx_lock);
	memset(e->tx_ring, 0, E1000_TX_RING * sizeof(struct e1000_tx_desc));
	e1000_txq_init(&e->txq, E1000_TX_RING);
	e->tx_stopped = false;
	e->tx_unkicked = false;
	paddr_t tpa = va_to_pa(e->tx_ring);
	wr(e, E1000_TDBAL, (uint32_t)tpa);
	wr(e, E1000_TDBAH, (uint32_t)(tpa >> 32));
	wr(e, E1000_TDLEN, E1000_TX_RING * sizeof(struct e1000_tx_desc));
	wr(e, E1000_TDH, 0);
	wr(e, E1000_TDT, 0);
	spin_unlock(&e->tx_lock);
	wr(e, E1000_TIDV, 0);
	wr(e, E1000_TADV, 0);
	wr(e, E1000_TIPG, E1000_TIPG_IPGT | E1000_TIPG_IPGR1 << E1000_TIPG_IPGR1_SHIFT |
			  E1000_TIPG_IPGR2 << E1000_TIPG_IPGR2_SHIFT);
	wr(e, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT |
			  E1000_TCTL_COLD_FULL_DUPLEX << E1000_TCTL_COLD_SHIFT);

	wr(e, E1000_ITR, E1000_ITR_VALUE);
	wr(e, E1000_RCTL, e->rctl);
	e->rx_on = true;
	update_link(e, false);
	wr(e, E1000_IMS, E1000_IMS_BASE);
	return 0;
}

static int e1000_stop(struct net_device *dev)
{
	struct e1000 *e = dev->priv;
	wr(e, E1000_IMC, E1000_INT_ALL);
	wr(e, E1000_RCTL, 0);
	wr(e, E1000_TCTL, 0);
	(void)rd(e, E1000_ICR);
	__atomic_fetch_and(&dev->flags, ~NETDEV_LINK, __ATOMIC_RELAXED);
	return 0;
}

/* The stack's multicast groups into the MTA (net/netdev.h: Multicast); past NETDEV_MC_MAX of
 * them, multicast promiscuous (RCTL.MPE). Only the words that changed are written. */
static void e1000_set_rx_mode(struct net_device *dev)
{
	struct e1000 *e = dev->priv;
	uint8_t macs[NETDEV_MC_MAX][ETH_ALEN];
	uint32_t mta[E1000_MTA_WORDS];
	int n = netdev_mc_list(dev, macs);
	e1000_mta_build(mta, macs, n < 0 ? 0 : n);
	for (int i = 0; i < E1000_MTA_WORDS; i++)
		if (mta[i] != e->mta[i])
			wr(e, E1000_MTA + 4 * i, e->mta[i] = mta[i]);
	uint32_t rctl = E1000_RCTL_VALUE | (n < 0 ? E1000_RCTL_MPE : 0);
	if (rctl != e->rctl) {
		e->rctl = rctl;
		if (e->rx_on)
			wr(e, E1000_RCTL, rctl);
	}
}

static const struct net_device_ops e1000_ops = {
	.open = e1000_open,
	.stop = e1000_stop,
	.start_xmit = e1000_start_xmit,
	.tx_kick = e1000_tx_kick,
	.poll = e1000_poll,
	.get_stats = e1000_get_stats,
	.set_rx_mode = e1000_set_rx_mode,
};

static void free_dma(struct e1000 *e)
{
	free_pages(e->rx_ring, order_for(E1000_RX_RING * sizeof(struct e1000_rx_desc)));
	free_pages(e->tx_ring, order_for(E1000_TX_RING * sizeof(struct e1000_tx_desc)));
	free_pages(e->rx_bufs, order_for((size_t)E1000_RX_RING * E1000_RX_BUF_SIZE));
	free_pages(e->tx_bufs, order_for((size_t)E1000_TX_RING * E1000_TX_BUF_SIZE));
}

static int e1000_probe(struct pci_dev *pdev)
{
	struct pci_bar *bar = &pdev->bar[0];
	if (!bar->va || bar->io || bar->size < E1000_MMIO_MIN) {
		printk("e1000 %02x:%02x.%x: no register BAR\n", pdev->bus, pdev->slot, pdev->func);
		return -ENODEV;
	}
	if (pdev->irq <= 0) {
		printk("e1000 %02x:%02x.%x: no interrupt\n", pdev->bus, pdev->slot, pdev->func);
		return -ENODEV;
	}
	struct e1000 *e = kzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	e->regs = bar->va;
	spin_init(&e->tx_lock, "e1000-tx");
	spin_init(&e->stats_lock, "e1000-stats");
	e->rctl = E1000_RCTL_VALUE;          /* no multicast group yet: the MTA is all clear */

	/* descriptor rings: page-aligned (>= the 128 bytes required); buffers: 2 KiB each */
	e->rx_ring = alloc_pages(order_for(E1000_RX_RING * sizeof(struct e1000_rx_desc)), PAGE_ZERO);
	e->tx_ring = alloc_pages(order_for(E1000_TX_RING * sizeof(struct e1000_tx_desc)), PAGE_ZERO);
	e->rx_bufs = alloc_pages(order_for((size_t)E1000_RX_RING * E1000_RX_BUF_SIZE), 0);
	e->tx_bufs = alloc_pages(order_for((size_t)E1000_TX_RING * E1000_TX_BUF_SIZE), 0);
	if (!e->rx_ring || !e->tx_ring || !e->rx_bufs || !e->tx_bufs) {
		printk("e1000 %02x:%02x.%x: out of memory for rings\n", pdev->bus, pdev->slot, pdev->func);
		goto fail;
	}

	hw_reset(e);
	struct net_device *dev = &e->ndev;
	if (!read_mac(e, dev->mac)) {
		printk("e1000 %02x:%02x.%x: no valid MAC address\n", pdev->bus, pdev->slot, pdev->func);
		goto fail;
	}
	dev->mtu = ETH_DATA_LEN;
	dev->irq = pdev->irq;
	dev->features = NETDEV_F_TSO | NETDEV_F_TSO6 | NETDEV_F_TSO_CSUM;   /* tx_post_tso{,6} write the sums */
	dev->driver = "e1000";
	dev->ops = &e1000_ops;
	dev->priv = e;
	if (netdev_register(dev, "eth") < 0) {
		printk("e1000 %02x:%02x.%x: cannot register\n", pdev->bus, pdev->slot, pdev->func);
		goto fail;
	}
	/* the IRQ is registered under the device's name, then routed where the core chose */
	if (irq_register(dev->irq, e1000_irq, e, dev->name) < 0) {
		printk("%s: irq %d unavailable\n", dev->name, dev->irq);
		netdev_unregister(dev);
		goto fail;
	}
	netdev_set_irq_affinity(dev, dev->irq_cpu);
	pdev->driver_data = e;
	printk("%s: e1000 82540EM at %02x:%02x.%x regs %#llx irq %d, %u rx / %u tx descriptors, itr %u\n",
	       dev->name, pdev->bus, pdev->slot, pdev->func, (unsigned long long)bar->cpu, dev->irq,
	       E1000_RX_RING, E1000_TX_RING, E1000_ITR_VALUE);
	return 0;
fail:
	free_dma(e);
	kfree(e);
	return -ENODEV;
}

static const struct pci_id e1000_ids[] = {
	{ E1000_VENDOR_INTEL, E1000_DEV_82540EM },
	{ 0, 0 },
};

static const struct pci_driver e1000_driver = {
	.name = "e1000",
	.ids = e1000_ids,
	.probe = e1000_probe,
};

static void e1000_register(void)
{
	pci_register_driver(&e1000_driver);
}
driver_init(e1000_register);
