/*
 * PCI (ECAM, as QEMU virt's pci-host-ecam-generic). pci_init scans the buses the device tree gives,
 * sizes and assigns BARs from the host's windows (platform.pci_io / pci_mem32 / pci_mem64, already
 * mapped in the kernel page table), enables decoding and bus mastering, routes INTx to a PLIC
 * interrupt through the host's interrupt-map (swizzled by slot), prints one boot line per function,
 * and binds registered drivers by vendor/device ID.
 */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H
#include "kernel/types.h"

#define PCI_MAX_BARS 6
#define PCI_ANY_ID 0xffff

struct pci_bar {
	paddr_t cpu;          /* CPU physical address (0 if unassigned) */
	uint64_t size;
	bool io, mem64, prefetch;
	void *va;             /* kernel virtual address (I/O BARs too: QEMU maps port space as MMIO) */
};

struct pci_dev {
	int bus, slot, func;
	uint16_t vendor, device;
	uint32_t class_code;  /* class << 16 | subclass << 8 | prog-if */
	uint8_t irq_pin;      /* 1..4 = INTA..INTD, 0 none */
	int irq;              /* PLIC interrupt, -1 none */
	struct pci_bar bar[PCI_MAX_BARS];
	void *cfg;            /* this function's 4 KiB ECAM configuration space */
	void *driver_data;
};

struct pci_id { uint16_t vendor, device; };   /* table ends with {0, 0} */

struct pci_driver {
	const char *name;
	const struct pci_id *ids;
	int (*probe)(struct pci_dev *dev);   /* 0 = bound */
};

uint8_t pci_cfg_read8(struct pci_dev *d, int off);
uint16_t pci_cfg_read16(struct pci_dev *d, int off);
uint32_t pci_cfg_read32(struct pci_dev *d, int off);
void pci_cfg_write8(struct pci_dev *d, int off, uint8_t v);
void pci_cfg_write16(struct pci_dev *d, int off, uint16_t v);
void pci_cfg_write32(struct pci_dev *d, int off, uint32_t v);
int pci_find_capability(struct pci_dev *d, uint8_t cap_id, int start);  /* config offset or 0 */

int pci_register_driver(const struct pci_driver *drv);   /* before pci_init */
void pci_init(void);                                      /* scan, assign, route, probe */
int pci_ndevs(void);
struct pci_dev *pci_get(int i);

#endif
