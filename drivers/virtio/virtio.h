/*
 * The virtio bus: device drivers (virtio-net, virtio-blk ...) and the two transports that find
 * devices, virtio-mmio (virtio_mmio.c, version 2 "modern" and version 1 "legacy") and modern
 * virtio-pci (virtio_pci.c).
 *
 * A driver registers a struct virtio_driver for its device type (driver_init, kernel/init.h). A
 * transport that finds a device fills a struct virtio_device whose ops reach the device's
 * registers and calls virtio_bind, which hands it to the driver registered for its device type
 * (virtio.c). Registration happens before the transports scan (kmain: drivers_init, then
 * virtio_mmio_scan and pci_init), all on CPU 0 at boot, so the driver table needs no lock.
 */
#ifndef DRIVERS_VIRTIO_H
#define DRIVERS_VIRTIO_H
#include "kernel/types.h"
#include "drivers/virtio/virtq.h"

/* device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED 0x80

/* interrupt status (ISR) bits */
#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

/* transport-independent feature bits */
#define VIRTIO_F_ANY_LAYOUT 27
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_DESC_LEN 32
#define VIRTIO_MODEL_LEN 24

struct virtio_device;

struct virtio_ops {
	uint64_t (*get_features)(struct virtio_device *vd);        /* legacy: the low 32 bits only */
	void (*set_features)(struct virtio_device *vd, uint64_t features);
	uint8_t (*get_status)(struct virtio_device *vd);
	void (*set_status)(struct virtio_device *vd, uint8_t status);
	uint16_t (*queue_max)(struct virtio_device *vd, int index);   /* 0: no such queue */
	/* Give the device queue `index` of vq->num entries laid out in vq's memory, and enable it. */
	int (*queue_setup)(struct virtio_device *vd, int index, struct virtq *vq);
	void (*notify)(struct virtio_device *vd, int index);
	uint8_t (*ack_irq)(struct virtio_device *vd);      /* read and acknowledge the ISR bits */
	uint8_t (*config_read8)(struct virtio_device *vd, int off);
};

struct virtio_device {
	const struct virtio_ops *ops;
	void *priv;                    /* the transport's state */
	int irq;                       /* PLIC interrupt */
	bool legacy;                   /* virtio 0.9.5 interface (virtio-mmio version 1) */
	uint32_t device_id;            /* VIRTIO_ID_NET ... */
	const char *transport;         /* "mmio", "pci" */
	char model[VIRTIO_MODEL_LEN];  /* driver-transport: "virtio-net-mmio", "virtio-blk-pci" (virtio_bind) */
	char desc[VIRTIO_DESC_LEN];    /* where: "mmio 0x10008000", "pci 00:01.0" */
};

struct virtio_driver {
	const char *name;              /* "virtio-net" */
	uint32_t device_id;            /* the device type it drives */
	int (*probe)(struct virtio_device *vd);   /* 0 when bound; vd->model is set */
};

int virtio_register_driver(const struct virtio_driver *drv);   /* from a driver_init fn; -ENOSPC */
bool virtio_has_driver(uint32_t device_id);
/* Transports: binds vd (device_id, transport, irq, ops set) to its type's driver; 0 when bound,
 * -ENODEV without a driver, else the driver's error. */
int virtio_bind(struct virtio_device *vd);
void virtio_mmio_scan(void);   /* kmain: every virtio,mmio slot of the device tree */

#endif
