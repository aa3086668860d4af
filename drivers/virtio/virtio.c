/* The virtio bus's driver table (drivers/virtio/virtio.h has the theory). */
#include "drivers/virtio/virtio.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define VIRTIO_MAX_DRIVERS 8

static const struct virtio_driver *drivers[VIRTIO_MAX_DRIVERS];
static int ndrivers;

int virtio_register_driver(const struct virtio_driver *drv)
{
	if (ndrivers == VIRTIO_MAX_DRIVERS)
		return -ENOSPC;
	drivers[ndrivers++] = drv;
	return 0;
}

static const struct virtio_driver *find(uint32_t device_id)
{
	for (int i = 0; i < ndrivers; i++)
		if (drivers[i]->device_id == device_id)
			return drivers[i];
	return NULL;
}

bool virtio_has_driver(uint32_t device_id) { return find(device_id) != NULL; }

int virtio_bind(struct virtio_device *vd)
{
	const struct virtio_driver *drv = find(vd->device_id);
	if (!drv)
		return -ENODEV;
	snprintf(vd->model, sizeof(vd->model), "%s-%s", drv->name, vd->transport);
	return drv->probe(vd);
}
