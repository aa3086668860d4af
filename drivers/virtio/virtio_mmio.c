/*
 * virtio-mmio transport (virtio 1.x section 4.2), versions 2 (modern) and 1 (legacy).
 *
 * QEMU 7.2's virtio-mmio presents version 1 unless started with
 * `-global virtio-mmio.force-legacy=false`, and the contest judge runs it without that flag, so
 * both are handled. They differ only in feature width and queue setup: a modern device takes the
 * three ring addresses and QueueReady; a legacy one takes GuestPageSize once, then QueueNum,
 * QueueAlign and the page number of one contiguous ring (the layout virtq.c always uses).
 *
 * virtio_mmio_scan walks the device tree's virtio,mmio slots (platform.virtio) and binds every
 * slot whose DeviceID has a registered driver (virtio_bind). Registers are only touched by the core's
 * serialized paths (probe; the interrupt handler for InterruptStatus/ACK; notify), so there is no
 * lock here.
 */
#include "kernel/init.h"
#include "drivers/virtio/virtio.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/vm.h"

#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_GUEST_PAGE_SIZE 0x028       /* legacy */
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_ALIGN 0x03c           /* legacy */
#define VIRTIO_MMIO_QUEUE_PFN 0x040             /* legacy */
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW 0x090
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_USED_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976            /* "virt" */
#define VIRTIO_MMIO_VERSION_LEGACY 1
#define VIRTIO_MMIO_VERSION_MODERN 2
#define VIRTIO_MMIO_MIN_SIZE 0x200

struct vmmio {
	struct virtio_device vd;
	uint8_t *base;
};

static struct vmmio *to_vmmio(struct virtio_device *vd) { return vd->priv; }
static uint32_t rd(struct virtio_device *vd, int off) { return mmio_read32(to_vmmio(vd)->base + off); }
static void wr(struct virtio_device *vd, int off, uint32_t v) { mmio_write32(to_vmmio(vd)->base + off, v); }

static uint64_t mmio_get_features(struct virtio_device *vd)
{
	wr(vd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t f = rd(vd, VIRTIO_MMIO_DEVICE_FEATURES);
	if (!vd->legacy) {
		wr(vd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
		f |= (uint64_t)rd(vd, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	}
	return f;
}

static void mmio_set_features(struct virtio_device *vd, uint64_t f)
{
	wr(vd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(vd, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	if (!vd->legacy) {
		wr(vd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
		wr(vd, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	}
}

static uint8_t mmio_get_status(struct virtio_device *vd) { return (uint8_t)rd(vd, VIRTIO_MMIO_STATUS); }
static void mmio_set_status(struct virtio_device *vd, uint8_t s) { wr(vd, VIRTIO_MMIO_STATUS, s); }

static uint16_t mmio_queue_max(struct virtio_device *vd, int index)
{
	wr(vd, VIRTIO_MMIO_QUEUE_SEL, (uint32_t)index);
	uint32_t max = rd(vd, VIRTIO_MMIO_QUEUE_NUM_MAX);
	return (uint16_t)MIN(max, (uint32_t)VIRTQ_MAX_SIZE);
}

static int mmio_queue_setup(struct virtio_device *vd, int index, struct virtq *vq)
{
	wr(vd, VIRTIO_MMIO_QUEUE_SEL, (uint32_t)index);
	if (vd->legacy) {
		if (rd(vd, VIRTIO_MMIO_QUEUE_PFN))
			return -1;                       /* already in use */
		wr(vd, VIRTIO_MMIO_QUEUE_NUM, vq->num);
		wr(vd, VIRTIO_MMIO_QUEUE_ALIGN, VIRTQ_LEGACY_ALIGN);
		wr(vd, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(vq->desc_pa / PAGE_SIZE));
		return 0;
	}
	if (rd(vd, VIRTIO_MMIO_QUEUE_READY))
		return -1;
	wr(vd, VIRTIO_MMIO_QUEUE_NUM, vq->num);
	wr(vd, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)vq->desc_pa);
	wr(vd, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(vq->desc_pa >> 32));
	wr(vd, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)vq->avail_pa);
	wr(vd, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(vq->avail_pa >> 32));
	wr(vd, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)vq->used_pa);
	wr(vd, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(vq->used_pa >> 32));
	wr(vd, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

static void mmio_notify(struct virtio_device *vd, int index) { wr(vd, VIRTIO_MMIO_QUEUE_NOTIFY, (uint32_t)index); }

static uint8_t mmio_ack_irq(struct virtio_device *vd)
{
	uint32_t isr = rd(vd, VIRTIO_MMIO_INTERRUPT_STATUS);
	if (isr)
		wr(vd, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return (uint8_t)isr;
}

static uint8_t mmio_config_read8(struct virtio_device *vd, int off)
{
	return mmio_read8(to_vmmio(vd)->base + VIRTIO_MMIO_CONFIG + off);
}

static const struct virtio_ops mmio_ops = {
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.queue_max = mmio_queue_max,
	.queue_setup = mmio_queue_setup,
	.notify = mmio_notify,
	.ack_irq = mmio_ack_irq,
	.config_read8 = mmio_config_read8,
};

static void probe_slot(int i)
{
	struct region *r = &platform.virtio[i];
	if (r->size < VIRTIO_MMIO_MIN_SIZE)
		return;
	uint8_t *base = ioremap(r->base, PAGE_SIZE);
	if (!base || mmio_read32(base + VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC)
		return;
	uint32_t version = mmio_read32(base + VIRTIO_MMIO_VERSION);
	uint32_t device_id = mmio_read32(base + VIRTIO_MMIO_DEVICE_ID);
	if (!virtio_has_driver(device_id))
		return;                            /* an empty slot (0) or a type nobody drives */
	if (version != VIRTIO_MMIO_VERSION_LEGACY && version != VIRTIO_MMIO_VERSION_MODERN) {
		printk("virtio-mmio %#llx: unknown version %u\n", (unsigned long long)r->base, version);
		return;
	}
	struct vmmio *m = kzalloc(sizeof(*m));
	if (!m)
		return;
	m->base = base;
	m->vd.ops = &mmio_ops;
	m->vd.priv = m;
	m->vd.irq = platform.virtio_irq[i];
	m->vd.legacy = version == VIRTIO_MMIO_VERSION_LEGACY;
	m->vd.device_id = device_id;
	m->vd.transport = "mmio";
	snprintf(m->vd.desc, sizeof(m->vd.desc), "mmio %#llx v%u", (unsigned long long)r->base, version);
	if (m->vd.legacy)
		wr(&m->vd, VIRTIO_MMIO_GUEST_PAGE_SIZE, PAGE_SIZE);
	if (virtio_bind(&m->vd) < 0)
		kfree(m);
}

void virtio_mmio_scan(void)
{
	/* the device tree lists the slots from the highest address down; QEMU fills the highest
	 * first, so walking the list in order names the first -device eth0 */
	for (int i = 0; i < platform.nvirtio; i++)
		probe_slot(i);
}
bus_init(virtio_mmio_scan);
