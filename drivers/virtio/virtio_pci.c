/*
 * Modern virtio-pci transport (virtio 1.x section 4.1). The device describes where its register
 * blocks live with vendor-specific PCI capabilities (cfg_type common / notify / ISR / device), each
 * naming a BAR, an offset and a length; pci.c has assigned and mapped the BARs. QEMU's
 * virtio-net-pci is transitional (device 0x1000, also a legacy I/O BAR) unless disable-legacy=on
 * (device 0x1041); both carry the modern capabilities, which are all this transport uses.
 * Interrupts are INTx (the PLIC has no MSI): reading the ISR register acknowledges and lowers the
 * line. No lock: the core serialises register use as for virtio-mmio.
 */
#include "drivers/virtio/virtio.h"
#include "drivers/pci/pci.h"
#include "kernel/init.h"
#include "mm/kmalloc.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "arch/riscv/riscv.h"

#define PCI_VENDOR_REDHAT_QUMRANET 0x1af4
/* PCI device IDs (virtio 1.x 4.1.2): 0x1040 + type for modern devices; transitional ones use
 * 0x1000-0x103f, of which net (0x1000) and block (0x1001) are the ones with a driver here. */
#define VIRTIO_PCI_DEVICE_MODERN_BASE 0x1040
#define VIRTIO_PCI_DEVICE_MODERN_LAST 0x107f
#define VIRTIO_PCI_DEVICE_NET_TRANSITIONAL 0x1000
#define VIRTIO_PCI_DEVICE_BLOCK_TRANSITIONAL 0x1001
#define PCI_CAP_ID_VNDR 0x09

/* struct virtio_pci_cap */
#define VPCI_CAP_CFG_TYPE 3
#define VPCI_CAP_BAR 4
#define VPCI_CAP_OFFSET 8
#define VPCI_CAP_LENGTH 12
#define VPCI_NOTIFY_OFF_MULTIPLIER 16
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* struct virtio_pci_common_cfg */
#define VPCI_DEVICE_FEATURE_SELECT 0x00
#define VPCI_DEVICE_FEATURE 0x04
#define VPCI_DRIVER_FEATURE_SELECT 0x08
#define VPCI_DRIVER_FEATURE 0x0c
#define VPCI_NUM_QUEUES 0x12
#define VPCI_DEVICE_STATUS 0x14
#define VPCI_QUEUE_SELECT 0x16
#define VPCI_QUEUE_SIZE 0x18
#define VPCI_QUEUE_ENABLE 0x1c
#define VPCI_QUEUE_NOTIFY_OFF 0x1e
#define VPCI_QUEUE_DESC 0x20
#define VPCI_QUEUE_DRIVER 0x28
#define VPCI_QUEUE_DEVICE 0x30
#define VPCI_COMMON_MIN_LEN 0x38
#define VPCI_MAX_QUEUES 4

struct vpci {
	struct virtio_device vd;
	struct pci_dev *pdev;
	uint8_t *common, *isr, *device;
	uint8_t *notify_base;
	uint32_t notify_mult;
	uint16_t notify_off[VPCI_MAX_QUEUES];
};

static struct vpci *to_vpci(struct virtio_device *vd) { return vd->priv; }
static uint8_t *common(struct virtio_device *vd) { return to_vpci(vd)->common; }

static uint64_t pci_get_features(struct virtio_device *vd)
{
	mmio_write32(common(vd) + VPCI_DEVICE_FEATURE_SELECT, 0);
	uint64_t f = mmio_read32(common(vd) + VPCI_DEVICE_FEATURE);
	mmio_write32(common(vd) + VPCI_DEVICE_FEATURE_SELECT, 1);
	return f | (uint64_t)mmio_read32(common(vd) + VPCI_DEVICE_FEATURE) << 32;
}

static void pci_set_features(struct virtio_device *vd, uint64_t f)
{
	mmio_write32(common(vd) + VPCI_DRIVER_FEATURE_SELECT, 0);
	mmio_write32(common(vd) + VPCI_DRIVER_FEATURE, (uint32_t)f);
	mmio_write32(common(vd) + VPCI_DRIVER_FEATURE_SELECT, 1);
	mmio_write32(common(vd) + VPCI_DRIVER_FEATURE, (uint32_t)(f >> 32));
}

static uint8_t pci_get_status(struct virtio_device *vd) { return mmio_read8(common(vd) + VPCI_DEVICE_STATUS); }
static void pci_set_status(struct virtio_device *vd, uint8_t s) { mmio_write8(common(vd) + VPCI_DEVICE_STATUS, s); }

static uint16_t pci_queue_max(struct virtio_device *vd, int index)
{
	if (index >= VPCI_MAX_QUEUES || index >= mmio_read16(common(vd) + VPCI_NUM_QUEUES))
		return 0;
	mmio_write16(common(vd) + VPCI_QUEUE_SELECT, (uint16_t)index);
	return mmio_read16(common(vd) + VPCI_QUEUE_SIZE);
}

static void write64(uint8_t *p, uint64_t v)
{
	mmio_write32(p, (uint32_t)v);
	mmio_write32(p + 4, (uint32_t)(v >> 32));
}

static int pci_queue_setup(struct virtio_device *vd, int index, struct virtq *vq)
{
	struct vpci *v = to_vpci(vd);
	if (index >= VPCI_MAX_QUEUES)
		return -1;
	mmio_write16(v->common + VPCI_QUEUE_SELECT, (uint16_t)index);
	if (mmio_read16(v->common + VPCI_QUEUE_ENABLE))
		return -1;
	mmio_write16(v->common + VPCI_QUEUE_SIZE, (uint16_t)vq->num);
	write64(v->common + VPCI_QUEUE_DESC, vq->desc_pa);
	write64(v->common + VPCI_QUEUE_DRIVER, vq->avail_pa);
	write64(v->common + VPCI_QUEUE_DEVICE, vq->used_pa);
	v->notify_off[index] = mmio_read16(v->common + VPCI_QUEUE_NOTIFY_OFF);
	mmio_write16(v->common + VPCI_QUEUE_ENABLE, 1);
	return 0;
}

static void pci_notify(struct virtio_device *vd, int index)
{
	struct vpci *v = to_vpci(vd);
	mmio_write16(v->notify_base + (uint64_t)v->notify_off[index] * v->notify_mult, (uint16_t)index);
}

static uint8_t pci_ack_irq(struct virtio_device *vd) { return mmio_read8(to_vpci(vd)->isr); }

static uint8_t pci_config_read8(struct virtio_device *vd, int off) { return mmio_read8(to_vpci(vd)->device + off); }

static const struct virtio_ops vpci_ops = {
	.get_features = pci_get_features,
	.set_features = pci_set_features,
	.get_status = pci_get_status,
	.set_status = pci_set_status,
	.queue_max = pci_queue_max,
	.queue_setup = pci_queue_setup,
	.notify = pci_notify,
	.ack_irq = pci_ack_irq,
	.config_read8 = pci_config_read8,
};

/* The register block a capability points to, or NULL if its BAR is unassigned or too small. */
static uint8_t *cap_region(struct pci_dev *d, int cap, uint32_t min_len)
{
	uint8_t bar = pci_cfg_read8(d, cap + VPCI_CAP_BAR);
	uint32_t off = pci_cfg_read32(d, cap + VPCI_CAP_OFFSET);
	uint32_t len = pci_cfg_read32(d, cap + VPCI_CAP_LENGTH);
	if (bar >= PCI_MAX_BARS || !d->bar[bar].va || d->bar[bar].io || len < min_len ||
	    (uint64_t)off + len > d->bar[bar].size)
		return NULL;
	return (uint8_t *)d->bar[bar].va + off;
}

/* The virtio device type of a PCI device ID, 0 if it is not a virtio device we know. */
static uint32_t virtio_pci_device_type(uint16_t device)
{
	if (device >= VIRTIO_PCI_DEVICE_MODERN_BASE && device <= VIRTIO_PCI_DEVICE_MODERN_LAST)
		return device - VIRTIO_PCI_DEVICE_MODERN_BASE;
	if (device == VIRTIO_PCI_DEVICE_NET_TRANSITIONAL)
		return VIRTIO_ID_NET;
	if (device == VIRTIO_PCI_DEVICE_BLOCK_TRANSITIONAL)
		return VIRTIO_ID_BLOCK;
	return 0;
}

static int vpci_probe(struct pci_dev *d)
{
	if (!virtio_has_driver(virtio_pci_device_type(d->device)))
		return -1;
	struct vpci *v = kzalloc(sizeof(*v));
	if (!v)
		return -1;
	for (int cap = pci_find_capability(d, PCI_CAP_ID_VNDR, 0); cap;
	     cap = pci_find_capability(d, PCI_CAP_ID_VNDR, cap)) {
		switch (pci_cfg_read8(d, cap + VPCI_CAP_CFG_TYPE)) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!v->common)
				v->common = cap_region(d, cap, VPCI_COMMON_MIN_LEN);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (!v->notify_base) {
				v->notify_base = cap_region(d, cap, sizeof(uint16_t));
				v->notify_mult = pci_cfg_read32(d, cap + VPCI_NOTIFY_OFF_MULTIPLIER);
			}
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!v->isr)
				v->isr = cap_region(d, cap, 1);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!v->device)
				v->device = cap_region(d, cap, 1);
			break;
		}
	}
	if (!v->common || !v->notify_base || !v->isr || !v->device || d->irq < 0) {
		printk("virtio-pci %02x:%02x.%d: no modern interface or no interrupt (legacy-only devices are "
		       "not supported)\n", d->bus, d->slot, d->func);
		kfree(v);
		return -1;
	}
	v->pdev = d;
	v->vd.ops = &vpci_ops;
	v->vd.priv = v;
	v->vd.irq = d->irq;
	v->vd.legacy = false;
	v->vd.device_id = virtio_pci_device_type(d->device);
	v->vd.transport = "pci";
	snprintf(v->vd.desc, sizeof(v->vd.desc), "pci %02x:%02x.%d", d->bus, d->slot, d->func);
	if (virtio_bind(&v->vd) < 0) {
		kfree(v);
		return -1;
	}
	d->driver_data = v;
	return 0;
}

static const struct pci_id vpci_ids[] = {
	{ PCI_VENDOR_REDHAT_QUMRANET, PCI_ANY_ID },   /* vpci_probe picks the virtio ones it can bind */
	{ 0, 0 },
};

static const struct pci_driver vpci_driver = { "virtio-pci", vpci_ids, vpci_probe };

static void vpci_register(void) { pci_register_driver(&vpci_driver); }
driver_init(vpci_register);
