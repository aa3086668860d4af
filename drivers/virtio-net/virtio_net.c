/*
 * virtio-net driver core, shared by the virtio-mmio and virtio-pci transports (virtio.h).
 *
 * Theory. Two split virtqueues: receive (0) and transmit (1). Every receive descriptor is one
 * VNET_BUF_SIZE buffer that holds the virtio-net header and a whole frame; all of them are posted
 * at open and each is re-posted as soon as poll has handed its frame to netdev_rx (which copies
 * what it keeps), so the ring never runs dry while the poll thread keeps up. Transmit copies the
 * frame behind a zeroed header into one of VNET_QUEUE_SIZE preallocated buffers, one descriptor
 * per frame (two, header and frame, on a legacy device without ANY_LAYOUT).
 *
 * Features: VERSION_1 (modern transports), MAC, STATUS (link state, config interrupt) and
 * MRG_RXBUF. With MRG_RXBUF every buffer is a single descriptor and a frame too big for one buffer
 * arrives as num_buffers > 1 consecutive used buffers. EVENT_IDX is not negotiated: the avail
 * ring's NO_INTERRUPT flag is the event suppression.
 *
 * LRO (GUEST_CSUM + GUEST_TSO4, when offered with MRG_RXBUF; NETDEV_F_LRO in net/netdev.h): the
 * host may hand us one TCP frame standing for up to 64 KiB of segments (gso_type TCPV4, and TCPV6
 * when GUEST_TSO6 is offered too: a device that gives LRO gets no software GRO, so IPv6 would
 * otherwise go up one wire frame at a time), spread
 * over merged buffers, and TCP/UDP frames whose checksum is partial (NEEDS_CSUM: a sender on the
 * host left it to "hardware") or already verified (DATA_VALID). Merged buffers are gathered into
 * rx_lro, one frame at a time (poll is single-threaded per device, so it needs no lock), and the
 * frame goes up with NETDEV_RX_LRO and NETDEV_RX_CSUM_OK. Without LRO a merged frame is over the
 * 1514-byte limit: it is counted as an error and all its buffers are dropped (the malformed-input
 * path), as is a frame whose gso_type is not one we negotiated or that would overflow rx_lro.
 *
 * TSO (CSUM + HOST_TSO4, when offered; NETDEV_F_TSO in net/netdev.h; HOST_TSO6 likewise gives
 * NETDEV_F_TSO6): the stack sends TCP segments of up to VNET_TSO_MAX bytes (64 KiB with the
 * headers; the 16 KiB other drivers take gave ~1.7 Gbit/s guest->host where this gives ~2.7),
 * and an IPv4 (IPv6)
 * TCP frame longer than the MTU gets a header asking the device to cut it into MTU-sized segments
 * (gso_type TCPV4 or TCPV6, gso_size = mtu - IP and TCP headers)
 * and to checksum each (NEEDS_CSUM from the TCP header on; the TCP checksum field then holds the
 * pseudo-header sum, as the device adds the rest). A frame that does not fit a transmit buffer
 * gets its own allocation, freed when the device returns it. Frames within the MTU go out as
 * before, with the checksums the stack computed.
 *
 * Interrupts and polling (net/netdev.h has the NAPI contract): the handler reads and acks the ISR,
 * sets NO_INTERRUPT on the receive queue, masks the IRQ and schedules the poll. Poll reclaims
 * transmit buffers, harvests up to the budget, re-posts, and when the ring is empty acks the ISR
 * (lowering the line), clears NO_INTERRUPT and looks once more before returning (virtq_enable_cb). Transmit completions do not
 * interrupt (NO_INTERRUPT stays set on the transmit queue) and are reclaimed by the next transmit
 * or poll; only when the ring is full does start_xmit enable the transmit interrupt, so that a
 * completion wakes the waiting sender through poll -> netdev_tx_wake.
 *
 * Doorbells (net/netdev.h): with NETDEV_XMIT_MORE (the stack's TSO frames, under its lock) the
 * notify is left owed (tx_unkicked) and made by tx_kick once the stack lock is let go. On QEMU the
 * notify is an MMIO write that takes QEMU's global lock, which its main loop holds while it sends
 * the queue's frames to the host: 7.7 us a notify on average under an iperf3 stream, 82 % of the
 * TSO frames notifying, all of it inside the stack lock.
 *
 * Locks: tx_lock guards the transmit queue, the free transmit buffers, tx_irq_on and tx_unkicked. The receive
 * queue has no lock: it is touched by probe/open (before the IRQ is enabled), by poll (one at a
 * time per device) and by the interrupt handler, which runs only while the IRQ is unmasked, i.e.
 * never during a poll.
 */
#include "drivers/virtio/virtio.h"
#include "kernel/init.h"
#include "kernel/irq.h"
#include "net/netdev.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_CFG_MAC 0
#define VIRTIO_NET_CFG_STATUS 6
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_TCPV6 4

#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_QUEUE_SIZE 256          /* entries per queue (fewer if the device allows fewer) */
#define VNET_BUF_SIZE 2048           /* header + largest frame, two per page */
#define VNET_HDR_LEN 12              /* with num_buffers: VERSION_1 or MRG_RXBUF */
#define VNET_HDR_LEN_LEGACY 10
/* The largest TSO frame's IP packet (net_device.tso_max): as big as IP allows while the frame and
 * its header fit one 64 KiB allocation. */
#define VNET_TSO_MAX (64 * 1024 - VNET_HDR_LEN - ETH_HLEN)
_Static_assert(VNET_TSO_MAX <= NETDEV_TSO_MAX, "within IP's limit");
#define TCP_CSUM_OFFSET 16           /* the checksum's offset in the TCP header */

#define BIT(n) (1ULL << (n))

struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;         /* only with VERSION_1 or MRG_RXBUF */
};

struct vnet {
	struct net_device ndev;
	struct virtio_device *vd;
	uint64_t features;
	size_t hdr_len;
	bool mrg;
	unsigned tx_descs;            /* descriptors per transmitted frame: 1, or 2 */
	struct virtq rx, tx;
	uint8_t *rx_bufs, *tx_bufs;    /* VNET_BUF_SIZE buffers, one per descriptor */
	unsigned buf_order;
	struct spinlock tx_lock;
	uint8_t **tx_free;            /* stack of free transmit buffers */
	unsigned tx_nfree;
	bool tx_irq_on;               /* transmit interrupt enabled (a sender may be waiting) */
	bool tx_unkicked;             /* frames were added with NETDEV_XMIT_MORE: a notify is owed */
	/* a merged frame being gathered (poll only) */
	unsigned rx_left;             /* its buffers still to come */
	bool rx_dropping;             /* it is being dropped */
	struct virtio_net_hdr rx_hdr; /* its header */
	uint8_t *rx_lro;              /* NETDEV_LRO_MAX bytes with LRO, else NULL */
	size_t rx_len;                /* bytes gathered in rx_lro */
};

static struct vnet *to_vnet(struct net_device *dev) { return dev->priv; }

static unsigned order_for(size_t bytes)
{
	unsigned o = 0;
	while ((PAGE_SIZE << o) < bytes)
		o++;
	return o;
}

/* ---- receive ---- */

static void rx_post(struct vnet *vn, uint8_t *buf)
{
	struct virtq_buf b = { va_to_pa(buf), VNET_BUF_SIZE, true };
	virtq_add(&vn->rx, &b, 1, buf);   /* cannot fail: one buffer per descriptor, as many as slots */
}

/* Hands a whole frame up with what its header says. */
static void rx_deliver(struct vnet *vn, const struct virtio_net_hdr *h, const uint8_t *frame, size_t len)
{
	struct net_device *dev = &vn->ndev;
	unsigned flags = 0;
	if (vn->rx_lro) {
		if (h->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
			flags |= NETDEV_RX_CSUM_OK;
		if (h->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ||
		    (h->gso_type == VIRTIO_NET_HDR_GSO_TCPV6 && (vn->features & BIT(VIRTIO_NET_F_GUEST_TSO6))))
			flags |= NETDEV_RX_LRO;
		else if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			NETDEV_STAT_INC(dev, rx_errors);      /* a kind we did not negotiate */
			return;
		}
	}
	netdev_rx_offload(dev, frame, len, flags);
}

/* One used receive buffer (len bytes written): a whole frame, or a part of a merged one. */
static void rx_buffer(struct vnet *vn, uint8_t *buf, uint32_t len)
{
	struct net_device *dev = &vn->ndev;
	if (vn->rx_left) {                /* a later buffer of a merged frame */
		vn->rx_left--;
		if (vn->rx_dropping)
			return;
		if (len > VNET_BUF_SIZE || vn->rx_len + len > NETDEV_LRO_MAX) {
			vn->rx_dropping = true;
			NETDEV_STAT_INC(dev, rx_errors);
			return;
		}
		memcpy(vn->rx_lro + vn->rx_len, buf, len);
		vn->rx_len += len;
		if (!vn->rx_left)
			rx_deliver(vn, &vn->rx_hdr, vn->rx_lro, vn->rx_len);
		return;
	}
	if (len < vn->hdr_len || len > VNET_BUF_SIZE) {
		NETDEV_STAT_INC(dev, rx_errors);
		return;
	}
	const struct virtio_net_hdr *h = (const struct virtio_net_hdr *)buf;
	if (vn->mrg && h->num_buffers > 1) {
		vn->rx_left = MIN((unsigned)h->num_buffers - 1, vn->rx.num);
		vn->rx_dropping = !vn->rx_lro;
		if (vn->rx_dropping) {
			NETDEV_STAT_INC(dev, rx_errors);   /* over the MTU without LRO */
			return;
		}
		vn->rx_hdr = *h;
		vn->rx_len = len - vn->hdr_len;
		memcpy(vn->rx_lro, buf + vn->hdr_len, vn->rx_len);
		return;
	}
	rx_deliver(vn, h, buf + vn->hdr_len, len - vn->hdr_len);
}

/* ---- transmit ---- */

static bool tx_pool_buf(struct vnet *vn, const uint8_t *buf)
{
	return buf >= vn->tx_bufs && buf < vn->tx_bufs + (size_t)vn->tx.num * VNET_BUF_SIZE;
}

/* Take back the buffers of sent frames (tx_lock held). Returns how many. */
static unsigned tx_reclaim_locked(struct vnet *vn)
{
	unsigned n = 0;
	uint32_t len;
	uint8_t *buf;
	while ((buf = virtq_get_used(&vn->tx, &len)) != NULL) {
		if (tx_pool_buf(vn, buf))
			vn->tx_free[vn->tx_nfree++] = buf;
		else
			kfree(buf);               /* a TSO frame's own buffer */
		n++;
	}
	return n;
}

static bool tx_room(struct vnet *vn) { return vn->tx_nfree && virtq_num_free(&vn->tx) >= vn->tx_descs; }

static void tx_reclaim(struct vnet *vn)
{
	spin_lock(&vn->tx_lock);
	unsigned n = tx_reclaim_locked(vn);
	bool wake = vn->tx_irq_on && tx_room(vn);
	if (wake) {
		vn->tx_irq_on = false;
		virtq_disable_cb(&vn->tx);
	}
	spin_unlock(&vn->tx_lock);
	if (n && wake)
		netdev_tx_wake(&vn->ndev);
}

/* Turns hdr into a TSO request for frame (the copy in the transmit buffer, len bytes, laid out as
 * t says). The TCP checksum field gets the pseudo-header sum over the whole TCP length, which the
 * device adjusts per segment. */
static void tso_prepare(struct virtio_net_hdr *hdr, uint8_t *frame, size_t len, const struct netdev_tso_frame *t)
{
	uint16_t sum = netdev_tso_pseudo_sum(frame, t, (uint32_t)(len - t->tcp_off));
	frame[t->tcp_off + TCP_CSUM_OFFSET] = (uint8_t)(sum >> 8);
	frame[t->tcp_off + TCP_CSUM_OFFSET + 1] = (uint8_t)sum;
	hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr->gso_type = t->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	hdr->hdr_len = (uint16_t)t->hdr_len;
	hdr->gso_size = (uint16_t)t->mss;
	hdr->csum_start = (uint16_t)t->tcp_off;
	hdr->csum_offset = TCP_CSUM_OFFSET;
}

/* Whether the device must be notified of what start_xmit added without notifying (tx_lock held;
 * the caller notifies after unlocking). */
static bool tx_owed_locked(struct vnet *vn)
{
	bool owed = vn->tx_unkicked && virtq_need_notify(&vn->tx);
	vn->tx_unkicked = false;
	return owed;
}

static void vnet_tx_kick(struct net_device *dev)
{
	struct vnet *vn = to_vnet(dev);
	spin_lock(&vn->tx_lock);
	bool kick = tx_owed_locked(vn);
	spin_unlock(&vn->tx_lock);
	if (kick)
		vn->vd->ops->notify(vn->vd, VNET_TXQ);
}

static int vnet_xmit(struct net_device *dev, const void *frame, size_t len, unsigned flags)
{
	struct vnet *vn = to_vnet(dev);
	struct netdev_tso_frame t;
	enum netdev_tx_kind kind = netdev_tx_kind(dev, frame, len, VNET_BUF_SIZE - vn->hdr_len, &t);
	bool tso = kind == NETDEV_TX_TSO;
	uint8_t *own = NULL;              /* a buffer of its own, for a frame longer than VNET_BUF_SIZE */
	if (tso && len > VNET_BUF_SIZE - vn->hdr_len && !(own = kmalloc(vn->hdr_len + len)))
		kind = NETDEV_TX_BAD;
	if (kind == NETDEV_TX_BAD) {
		NETDEV_STAT_INC(dev, tx_errors);
		return NETDEV_TX_OK;              /* dropped, and counted */
	}
	spin_lock(&vn->tx_lock);
	if (!tx_room(vn))
		tx_reclaim_locked(vn);
	if (!tx_room(vn)) {
		/* full: ask for an interrupt when the device returns buffers, then look once more */
		if (!vn->tx_irq_on) {
			vn->tx_irq_on = true;
			if (!virtq_enable_cb(&vn->tx))
				tx_reclaim_locked(vn);
		}
		if (!tx_room(vn)) {
			bool kick = tx_owed_locked(vn);     /* what waits for a notify is never returned */
			spin_unlock(&vn->tx_lock);
			if (kick)
				vn->vd->ops->notify(vn->vd, VNET_TXQ);
			kfree(own);
			return NETDEV_TX_BUSY;
		}
	}
	uint8_t *buf = own;
	if (!buf)
		buf = vn->tx_free[--vn->tx_nfree];
	memset(buf, 0, vn->hdr_len);
	memcpy(buf + vn->hdr_len, frame, len);
	if (tso)
		tso_prepare((struct virtio_net_hdr *)buf, buf + vn->hdr_len, len, &t);
	struct virtq_buf b[2];
	unsigned n;
	if (vn->tx_descs == 1) {
		b[0] = (struct virtq_buf){ va_to_pa(buf), (uint32_t)(vn->hdr_len + len), false };
		n = 1;
	} else {
		b[0] = (struct virtq_buf){ va_to_pa(buf), (uint32_t)vn->hdr_len, false };
		b[1] = (struct virtq_buf){ va_to_pa(buf + vn->hdr_len), (uint32_t)len, false };
		n = 2;
	}
	virtq_add(&vn->tx, b, n, buf);
	bool kick = false;
	if (flags & NETDEV_XMIT_MORE) {
		vn->tx_unkicked = true;
	} else {
		vn->tx_unkicked = false;          /* this notify covers what was owed */
		kick = virtq_need_notify(&vn->tx);
	}
	spin_unlock(&vn->tx_lock);
	if (kick)
		vn->vd->ops->notify(vn->vd, VNET_TXQ);
	if (tso)
		NETDEV_STAT_INC(dev, tx_tso);
	return NETDEV_TX_OK;
}

/* ---- interrupt and poll ---- */

static void update_link(struct vnet *vn)
{
	bool up = true;
	if (vn->features & BIT(VIRTIO_NET_F_STATUS))
		up = vn->vd->ops->config_read8(vn->vd, VIRTIO_NET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP;
	if (up)
		vn->ndev.flags |= NETDEV_LINK;
	else
		vn->ndev.flags &= ~NETDEV_LINK;
}

static void vnet_irq(int irq, void *arg)
{
	struct vnet *vn = arg;
	uint8_t isr = vn->vd->ops->ack_irq(vn->vd);
	if (isr & VIRTIO_ISR_CONFIG)
		update_link(vn);
	if (isr & VIRTIO_ISR_QUEUE) {
		virtq_disable_cb(&vn->rx);
		irq_mask(irq);
		netdev_schedule_poll(&vn->ndev);
	}
}

static int vnet_poll(struct net_device *dev, int budget)
{
	struct vnet *vn = to_vnet(dev);
	tx_reclaim(vn);
	int done = 0;
	bool posted = false;
	uint32_t len;
	uint8_t *buf;
	while (done < budget && (buf = virtq_get_used(&vn->rx, &len)) != NULL) {
		rx_buffer(vn, buf, len);
		rx_post(vn, buf);
		posted = true;
		done++;
	}
	if (posted && virtq_need_notify(&vn->rx))
		vn->vd->ops->notify(vn->vd, VNET_RXQ);
	if (done < budget) {
		/* Acknowledge (lower the line) before re-arming, so that the next used buffer raises
		 * it afresh (kernel/irq.h: leaving polling mode). */
		if (vn->vd->ops->ack_irq(vn->vd) & VIRTIO_ISR_CONFIG)
			update_link(vn);
		if (!virtq_enable_cb(&vn->rx)) {
			virtq_disable_cb(&vn->rx);    /* more arrived while re-arming: keep polling */
			return budget;
		}
	}
	return done;
}

static int vnet_open(struct net_device *dev)
{
	struct vnet *vn = to_vnet(dev);
	if (irq_register(vn->vd->irq, vnet_irq, vn, vn->vd->model) < 0) {
		printk("%s: cannot register irq %d\n", dev->name, vn->vd->irq);
		return -EBUSY;
	}
	uint8_t s = vn->vd->ops->get_status(vn->vd);
	vn->vd->ops->set_status(vn->vd, s | VIRTIO_STATUS_DRIVER_OK);
	update_link(vn);
	vn->vd->ops->notify(vn->vd, VNET_RXQ);
	return 0;
}

static void vnet_get_stats(struct net_device *dev, struct netdev_stats *st)
{
	struct vnet *vn = to_vnet(dev);
	st->rx_errors += vn->rx.bad_used;
	st->tx_errors += vn->tx.bad_used;
}

static const struct net_device_ops vnet_ops = {
	.open = vnet_open,
	.start_xmit = vnet_xmit,
	.tx_kick = vnet_tx_kick,
	.poll = vnet_poll,
	.get_stats = vnet_get_stats,
};

/* ---- probe ---- */

static int setup_queue(struct vnet *vn, int index, struct virtq *vq)
{
	unsigned max = vn->vd->ops->queue_max(vn->vd, index), num = VNET_QUEUE_SIZE;
	while (num > max)
		num >>= 1;
	if (!num)
		return -ENODEV;
	size_t sz = virtq_ring_size(num);
	void *mem = alloc_pages(order_for(sz), PAGE_ZERO);
	void **cookie = kzalloc(num * sizeof(void *));
	if (!mem || !cookie || virtq_init(vq, num, mem, va_to_pa(mem), cookie) < 0)
		return -ENOMEM;
	return vn->vd->ops->queue_setup(vn->vd, index, vq) < 0 ? -EBUSY : 0;
}

static int setup_buffers(struct vnet *vn)
{
	vn->buf_order = order_for(MAX(vn->rx.num, vn->tx.num) * VNET_BUF_SIZE);
	vn->rx_bufs = alloc_pages(vn->buf_order, 0);
	vn->tx_bufs = alloc_pages(vn->buf_order, 0);
	vn->tx_free = kmalloc(vn->tx.num * sizeof(uint8_t *));
	if (!vn->rx_bufs || !vn->tx_bufs || !vn->tx_free)
		return -ENOMEM;
	for (unsigned i = 0; i < vn->rx.num; i++)
		rx_post(vn, vn->rx_bufs + i * VNET_BUF_SIZE);
	for (unsigned i = 0; i < vn->tx.num; i++)
		vn->tx_free[vn->tx_nfree++] = vn->tx_bufs + i * VNET_BUF_SIZE;
	virtq_disable_cb(&vn->tx);
	return 0;
}

static int virtio_net_probe(struct virtio_device *vd)
{
	const struct virtio_ops *ops = vd->ops;
	ops->set_status(vd, 0);                          /* reset */
	if (ops->get_status(vd) != 0) {
		printk("virtio-net %s: reset failed\n", vd->desc);
		return -EIO;
	}
	ops->set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	ops->set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	uint64_t offered = ops->get_features(vd);
	uint64_t wanted = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
			  (vd->legacy ? BIT(VIRTIO_F_ANY_LAYOUT) : BIT(VIRTIO_F_VERSION_1));
	uint64_t tso = BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4);   /* TSO4 needs CSUM */
	uint64_t lro = BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_MRG_RXBUF);
	if ((offered & tso) == tso)
		wanted |= tso;
	if ((offered & lro) == lro)       /* 64 KiB frames in 2 KiB buffers need MRG_RXBUF */
		wanted |= lro | BIT(VIRTIO_NET_F_GUEST_TSO6);            /* TSO6 taken if offered */
	if ((offered & tso) == tso)
		wanted |= BIT(VIRTIO_NET_F_HOST_TSO6);
	if (!vd->legacy && !(offered & BIT(VIRTIO_F_VERSION_1))) {
		printk("virtio-net %s: device does not offer VERSION_1\n", vd->desc);
		ops->set_status(vd, VIRTIO_STATUS_FAILED);
		return -ENODEV;
	}
	struct vnet *vn = kzalloc(sizeof(*vn));
	if (!vn)
		return -ENOMEM;
	vn->vd = vd;
	vn->features = offered & wanted;
	ops->set_features(vd, vn->features);
	if (!vd->legacy) {
		ops->set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		if (!(ops->get_status(vd) & VIRTIO_STATUS_FEATURES_OK)) {
			printk("virtio-net %s: features not accepted\n", vd->desc);
			goto fail;
		}
	}
	vn->mrg = vn->features & BIT(VIRTIO_NET_F_MRG_RXBUF);
	vn->hdr_len = (vn->features & BIT(VIRTIO_F_VERSION_1)) || vn->mrg ? VNET_HDR_LEN : VNET_HDR_LEN_LEGACY;
	vn->tx_descs = vd->legacy && !(vn->features & BIT(VIRTIO_F_ANY_LAYOUT)) ? 2 : 1;
	spin_init(&vn->tx_lock, "vnet_tx");
	if (setup_queue(vn, VNET_RXQ, &vn->rx) < 0 || setup_queue(vn, VNET_TXQ, &vn->tx) < 0 ||
	    setup_buffers(vn) < 0) {
		printk("virtio-net %s: cannot set up the queues\n", vd->desc);
		goto fail;
	}

	struct net_device *dev = &vn->ndev;
	if (vn->features & BIT(VIRTIO_NET_F_MAC)) {
		for (int i = 0; i < ETH_ALEN; i++)
			dev->mac[i] = ops->config_read8(vd, VIRTIO_NET_CFG_MAC + i);
	} else {
		static const uint8_t fallback[ETH_ALEN] = { 0x52, 0x54, 0x00, 0xee, 0x00, 0x00 };
		memcpy(dev->mac, fallback, ETH_ALEN);
		dev->mac[ETH_ALEN - 1] = (uint8_t)vd->irq;
	}
	dev->mtu = ETH_DATA_LEN;
	dev->irq = vd->irq;
	dev->features = (vn->features & BIT(VIRTIO_NET_F_HOST_TSO4)) ? NETDEV_F_TSO : 0;
	if (vn->features & BIT(VIRTIO_NET_F_HOST_TSO6))
		dev->features |= NETDEV_F_TSO6;
	if (dev->features) {
		dev->features |= NETDEV_F_TSO_CSUM;          /* tso_prepare writes the pseudo-header sum */
		dev->tso_max = VNET_TSO_MAX;
	}
	if (vn->features & BIT(VIRTIO_NET_F_GUEST_TSO4)) {
		vn->rx_lro = kmalloc(NETDEV_LRO_MAX);
		if (!vn->rx_lro)
			goto fail;
		dev->features |= NETDEV_F_LRO | NETDEV_F_RXCSUM;
	}
	dev->driver = vd->model;
	dev->ops = &vnet_ops;
	dev->priv = vn;
	if (netdev_register(dev, "eth") < 0)
		goto fail;
	printk("%s: %s at %s, %s, offered %#llx, features %#llx (%s%s%s), queues %u/%u, hdr %u\n", dev->name, vd->model, vd->desc,
	       vd->legacy ? "legacy" : "modern", (unsigned long long)offered, (unsigned long long)vn->features,
	       vn->features & BIT(VIRTIO_NET_F_MAC) ? "mac " : "", vn->features & BIT(VIRTIO_NET_F_STATUS) ? "status " : "",
	       vn->mrg ? "mrg_rxbuf" : "", vn->rx.num, vn->tx.num, (unsigned)vn->hdr_len);
	return 0;
fail:
	ops->set_status(vd, VIRTIO_STATUS_FAILED);
	return -EIO;       /* memory of a failed probe is not returned: it only happens at boot */
}

static const struct virtio_driver virtio_net_driver = { "virtio-net", VIRTIO_ID_NET, virtio_net_probe };

static void virtio_net_register(void) { virtio_register_driver(&virtio_net_driver); }
driver_init(virtio_net_register);
