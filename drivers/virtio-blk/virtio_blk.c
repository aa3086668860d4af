/*
 * virtio-blk driver, on the virtio bus (drivers/virtio/virtio.h) over virtio-mmio (legacy v1 and
 * modern v2) and modern virtio-pci; it registers each device as a disk of the block layer
 * (block/blkdev.h), vda, vdb ... in probe order.
 *
 * Theory. One request queue (virtqueue 0) of up to VBLK_QUEUE_SIZE descriptors. A block request
 * is one chain: a device-readable header (type, sector), one descriptor per data segment
 * (device-writable for reads), and a one-byte device-writable status; with BLK_MAX_SEGS segments
 * that is at most VIRTQ_CHAIN_MAX descriptors, so a 256-entry queue holds at least 32 requests of
 * the largest kind and 85 of the common one-segment kind (>= 64 in flight). Each request in
 * flight owns a slot (header + status, preallocated, vblk->nslots of them); the chain's cookie is
 * the slot.
 *
 * Completion is by interrupt (PLIC): the handler acks the ISR, turns device interrupts off
 * (virtq_disable_cb: event suppression while it is busy harvesting), ends every used request
 * (blk_request_done: status OK -> 0, IOERR -> -EIO, UNSUPP -> -EOPNOTSUPP), then turns them back
 * on and harvests again if more arrived meanwhile (virtq_enable_cb), so no completion is missed.
 * Submitters that find no free slot or descriptors sleep on `room`, woken by the handler.
 * The device is notified once per batch (the block layer's `last`), and only when it asks to
 * be (virtq_need_notify: it sets NO_NOTIFY while it is processing the ring).
 *
 * Features: VERSION_1 (modern), RO (writes refused by the block layer with -EROFS), BLK_SIZE
 * (logical block size), FLUSH (the device has a write cache: FLUSH requests go out; without it the
 * block layer completes flushes at once), SEG_MAX and SIZE_MAX (segments and their sizes are kept
 * within them). Capacity (in 512-byte sectors) and the rest come from config space.
 *
 * Locks: vblk->lock (spinlock, interrupts off) guards the virtqueue, the slots and the notify
 * register; the handler takes it too. Ending requests happens outside it (bio end callbacks may
 * take their own locks and wake sleepers). submit sleeps only without the lock.
 */
#include "block/blkdev.h"
#include "drivers/virtio/virtio.h"
#include "kernel/errno.h"
#include "kernel/init.h"
#include "kernel/irq.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_CFG_CAPACITY 0      /* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX 8      /* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX 12      /* le32 */
#define VIRTIO_BLK_CFG_BLK_SIZE 20     /* le32 */

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VBLK_STATUS_PENDING 0xff       /* what we put in the status byte before the device answers */

#define VBLK_RQ 0
#define VBLK_QUEUE_SIZE 256
#define VBLK_MAX_BLOCK_SIZE 4096

#define BIT(n) (1ULL << (n))

struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct vblk_slot {
	struct virtio_blk_req_hdr hdr;
	uint8_t status;
	struct blk_request *rq;
	struct vblk_slot *next_free;
};

struct vblk {
	struct block_device disk;
	struct virtio_device *vd;
	uint64_t features;
	struct spinlock lock;
	struct virtq vq;
	struct vblk_slot *slots, *free_slots;
	unsigned nslots;
	uint32_t seg_max;              /* data descriptors per request */
	uint32_t size_max;             /* bytes per data descriptor (0: no limit) */
	bool pending_notify;           /* added since the last notify */
	struct waitq room;             /* submitters waiting for a slot or descriptors */
	uint64_t requests, ioerrs, irqs;
};

static unsigned order_for(size_t bytes)
{
	unsigned o = 0;
	while ((PAGE_SIZE << o) < bytes)
		o++;
	return o;
}

static uint32_t config_read32(struct virtio_device *vd, int off)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)vd->ops->config_read8(vd, off + i) << (8 * i);
	return v;
}

/* A 64-bit config field read a byte at a time: read until two reads agree (the device may update
 * it between our byte reads, e.g. on a resize). */
static uint64_t config_read64(struct virtio_device *vd, int off)
{
	uint64_t a, b;
	do {
		a = config_read32(vd, off) | (uint64_t)config_read32(vd, off + 4) << 32;
		b = config_read32(vd, off) | (uint64_t)config_read32(vd, off + 4) << 32;
	} while (a != b);
	return a;
}

/* ---- completion ---- */

static int status_to_errno(uint8_t s)
{
	switch (s) {
	case VIRTIO_BLK_S_OK: return 0;
	case VIRTIO_BLK_S_UNSUPP: return -EOPNOTSUPP;
	default: return -EIO;
	}
}

/* Take the used requests off the ring (lock held): returns them as a list through slot->next_free
 * after recording each status; their slots are NOT yet free (the caller frees them). */
static struct vblk_slot *harvest_locked(struct vblk *vb)
{
	struct vblk_slot *done = NULL;
	for (;;) {
		uint32_t len;
		struct vblk_slot *s = virtq_get_used(&vb->vq, &len);
		if (!s)
			break;
		s->next_free = done;
		done = s;
	}
	return done;
}

static void complete(struct vblk *vb, struct vblk_slot *done)
{
	/* end the requests outside the lock, then give the slots back */
	struct vblk_slot *s = done;
	while (s) {
		struct vblk_slot *n = s->next_free;
		int err = status_to_errno(s->status);
		if (err)
			__atomic_fetch_add(&vb->ioerrs, 1, __ATOMIC_RELAXED);
		blk_request_done(s->rq, err);
		s->rq = NULL;
		s = n;
	}
	if (!done)
		return;
	spin_lock(&vb->lock);
	for (s = done; s;) {
		struct vblk_slot *n = s->next_free;
		s->next_free = vb->free_slots;
		vb->free_slots = s;
		s = n;
	}
	spin_unlock(&vb->lock);
	wake_all(&vb->room);
}

static void vblk_irq(int irq, void *arg)
{
	struct vblk *vb = arg;
	(void)irq;
	vb->irqs++;
	vb->vd->ops->ack_irq(vb->vd);
	for (;;) {
		spin_lock(&vb->lock);
		virtq_disable_cb(&vb->vq);
		struct vblk_slot *done = harvest_locked(vb);
		bool quiet = virtq_enable_cb(&vb->vq);
		spin_unlock(&vb->lock);
		complete(vb, done);
		if (quiet)
			break;
	}
}

/* ---- submission ---- */

static bool have_room(struct vblk *vb, unsigned ndesc)
{
	return vb->free_slots && virtq_num_free(&vb->vq) >= ndesc;
}

static void kick_locked(struct vblk *vb)
{
	if (vb->pending_notify && virtq_need_notify(&vb->vq))
		vb->vd->ops->notify(vb->vd, VBLK_RQ);
	vb->pending_notify = false;
}

static int vblk_submit(struct block_device *bdev, struct blk_request *rq, bool last)
{
	struct vblk *vb = bdev->priv;
	struct virtq_buf bufs[VIRTQ_CHAIN_MAX];
	unsigned n = 0;
	if (rq->nseg > vb->seg_max)
		return -EINVAL;          /* the block layer never builds one: BLK_MAX_SEGS <= seg_max */
	for (unsigned i = 0; i < rq->nseg; i++)
		if (vb->size_max && rq->seg[i].len > vb->size_max)
			return -EINVAL;
	unsigned ndesc = rq->nseg + 2;
	spin_lock(&vb->lock);
	while (!have_room(vb, ndesc)) {
		/* full: let the device see what we queued, then wait for completions */
		vb->pending_notify = true;
		kick_locked(vb);
		spin_unlock(&vb->lock);
		wait_event(&vb->room, READ_ONCE(vb->free_slots) != NULL &&
			   virtq_num_free(&vb->vq) >= ndesc);
		spin_lock(&vb->lock);
	}
	struct vblk_slot *s = vb->free_slots;
	vb->free_slots = s->next_free;
	s->hdr.type = rq->op == BIO_READ ? VIRTIO_BLK_T_IN : rq->op == BIO_WRITE ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH;
	s->hdr.reserved = 0;
	s->hdr.sector = rq->op == BIO_FLUSH ? 0 : rq->sector;
	s->status = VBLK_STATUS_PENDING;
	s->rq = rq;
	rq->driver = s;
	bufs[n++] = (struct virtq_buf){ va_to_pa(&s->hdr), sizeof(s->hdr), false };
	for (unsigned i = 0; i < rq->nseg; i++)
		bufs[n++] = (struct virtq_buf){ va_to_pa(rq->seg[i].buf), rq->seg[i].len, rq->op == BIO_READ };
	bufs[n++] = (struct virtq_buf){ va_to_pa(&s->status), 1, true };
	int head = virtq_add(&vb->vq, bufs, n, s);
	if (head < 0) {                  /* cannot happen: room was checked under the lock */
		s->next_free = vb->free_slots;
		vb->free_slots = s;
		spin_unlock(&vb->lock);
		return -EIO;
	}
	vb->requests++;
	vb->pending_notify = true;
	if (last)
		kick_locked(vb);
	spin_unlock(&vb->lock);
	return 0;
}

static const struct block_device_ops vblk_ops = { .submit = vblk_submit };

/* ---- probe ---- */

static int setup_queue(struct vblk *vb)
{
	unsigned max = vb->vd->ops->queue_max(vb->vd, VBLK_RQ), num = VBLK_QUEUE_SIZE;
	while (num > max)
		num >>= 1;
	if (num < 4)
		return -ENODEV;
	size_t sz = virtq_ring_size(num);
	void *mem = alloc_pages(order_for(sz), PAGE_ZERO);
	void **cookie = kzalloc(num * sizeof(void *));
	if (!mem || !cookie || virtq_init(&vb->vq, num, mem, va_to_pa(mem), cookie) < 0)
		return -ENOMEM;
	/* one slot per possible chain of the shortest kind (header, one segment, status) */
	vb->nslots = num / 3;
	vb->slots = kzalloc(vb->nslots * sizeof(*vb->slots));
	if (!vb->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < vb->nslots; i++) {
		vb->slots[i].next_free = vb->free_slots;
		vb->free_slots = &vb->slots[i];
	}
	return vb->vd->ops->queue_setup(vb->vd, VBLK_RQ, &vb->vq) < 0 ? -EBUSY : 0;
}

static int virtio_blk_probe(struct virtio_device *vd)
{
	const struct virtio_ops *ops = vd->ops;
	ops->set_status(vd, 0);
	if (ops->get_status(vd) != 0) {
		printk("virtio-blk %s: reset failed\n", vd->desc);
		return -EIO;
	}
	ops->set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	ops->set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	uint64_t offered = ops->get_features(vd);
	uint64_t wanted = BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_RO) |
			  BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) |
			  (vd->legacy ? 0 : BIT(VIRTIO_F_VERSION_1));
	if (!vd->legacy && !(offered & BIT(VIRTIO_F_VERSION_1))) {
		printk("virtio-blk %s: device does not offer VERSION_1\n", vd->desc);
		ops->set_status(vd, VIRTIO_STATUS_FAILED);
		return -ENODEV;
	}
	struct vblk *vb = kzalloc(sizeof(*vb));
	if (!vb)
		return -ENOMEM;
	vb->vd = vd;
	vb->features = offered & wanted;
	ops->set_features(vd, vb->features);
	if (!vd->legacy) {
		ops->set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		if (!(ops->get_status(vd) & VIRTIO_STATUS_FEATURES_OK)) {
			printk("virtio-blk %s: features not accepted\n", vd->desc);
			goto fail;
		}
	}
	spin_init(&vb->lock, "vblk");
	waitq_init(&vb->room, "vblk_room");
	vb->seg_max = BLK_MAX_SEGS;
	if (vb->features & BIT(VIRTIO_BLK_F_SEG_MAX)) {
		uint32_t sm = config_read32(vd, VIRTIO_BLK_CFG_SEG_MAX);
		if (sm && sm < vb->seg_max)
			vb->seg_max = sm;
	}
	if (vb->features & BIT(VIRTIO_BLK_F_SIZE_MAX))
		vb->size_max = config_read32(vd, VIRTIO_BLK_CFG_SIZE_MAX);
	if (vb->seg_max < BLK_MAX_SEGS || (vb->size_max && vb->size_max < (BLK_MAX_REQ_SECTORS << SECTOR_SHIFT)))
		printk("virtio-blk %s: seg_max %u size_max %u below what the block layer builds\n",
		       vd->desc, vb->seg_max, vb->size_max);
	if (setup_queue(vb) < 0) {
		printk("virtio-blk %s: cannot set up the queue\n", vd->desc);
		goto fail;
	}
	struct block_device *d = &vb->disk;
	d->ops = &vblk_ops;
	d->priv = vb;
	d->nsect = config_read64(vd, VIRTIO_BLK_CFG_CAPACITY);
	d->block_size = SECTOR_SIZE;
	if (vb->features & BIT(VIRTIO_BLK_F_BLK_SIZE)) {
		uint32_t bs = config_read32(vd, VIRTIO_BLK_CFG_BLK_SIZE);
		if (bs >= SECTOR_SIZE && bs <= VBLK_MAX_BLOCK_SIZE && !(bs & (bs - 1)))
			d->block_size = bs;
	}
	d->flags = (vb->features & BIT(VIRTIO_BLK_F_RO) ? BDEV_RO : 0) |
		   (vb->features & BIT(VIRTIO_BLK_F_FLUSH) ? BDEV_FLUSH : 0);
	if (irq_register(vd->irq, vblk_irq, vb, vd->model) < 0) {
		printk("virtio-blk %s: cannot register irq %d\n", vd->desc, vd->irq);
		goto fail;
	}
	ops->set_status(vd, ops->get_status(vd) | VIRTIO_STATUS_DRIVER_OK);
	if (blk_register_disk(d, "vd") < 0)
		goto fail;
	printk("%s: %s at %s, %s, %llu sectors (%llu MiB), block %u%s%s, queue %u\n", d->name, vd->model,
	       vd->desc, vd->legacy ? "legacy" : "modern", (unsigned long long)d->nsect,
	       (unsigned long long)(d->nsect >> 11), d->block_size, d->flags & BDEV_RO ? ", read-only" : "",
	       d->flags & BDEV_FLUSH ? ", flush" : "", vb->vq.num);
	return 0;
fail:
	ops->set_status(vd, VIRTIO_STATUS_FAILED);
	return -EIO;       /* memory of a failed probe is not returned: it only happens at boot */
}

static const struct virtio_driver virtio_blk_driver = { "virtio-blk", VIRTIO_ID_BLOCK, virtio_blk_probe };

static void virtio_blk_register(void) { virtio_register_driver(&virtio_blk_driver); }
driver_init(virtio_blk_register);
