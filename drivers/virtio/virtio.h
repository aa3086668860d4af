/*
 * The virtio transport interface between the virtio-net core (virtio_net.c) and its two
 * transports: virtio-mmio (virtio_mmio.c, version 2 "modern" and version 1 "legacy") and modern
 * virtio-pci (virtio_pci.c). A transport finds the device, then calls virtio_net_probe with a
 * struct virtio_device whose ops reach the device's registers.
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
#define VIRTIO_DESC_LEN 32

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
	const char *model;             /* "virtio-net-mmio", "virtio-net-pci" */
	char desc[VIRTIO_DESC_LEN];    /* where: "mmio 0x10008000", "pci 00:01.0" */
};

/* drivers/virtio-net/virtio_net.c: 0 when bound */
int virtio_net_probe(struct virtio_device *vd);

#endif
