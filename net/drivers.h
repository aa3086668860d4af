/*
 * Network driver entry points called by net_init (net/netdev.c). A *_register function registers
 * the driver's PCI IDs with pci_register_driver (pci_init probes them afterwards); virtio-net over
 * virtio-mmio probes the device tree's virtio slots directly.
 */
#ifndef NET_DRIVERS_H
#define NET_DRIVERS_H

void virtio_net_mmio_probe_all(void);   /* drivers/virtio/virtio_mmio.c */
void virtio_net_pci_register(void);     /* drivers/virtio/virtio_pci.c */
void e1000_register(void);              /* drivers/e1000/ */
void rtl8139_register(void);            /* drivers/rtl8139/ */

#endif
