/*
 * What the device tree says about the machine, read once at boot (kernel/platform.c) and printed in
 * the boot banner. Nothing about QEMU virt is hard-coded elsewhere: drivers take their addresses and
 * interrupts from here.
 */
#ifndef KERNEL_PLATFORM_H
#define KERNEL_PLATFORM_H
#include "kernel/types.h"
#include "kernel/cpu.h"

#define PLAT_MAX_REGIONS 32
#define PLAT_MAX_VIRTIO 16
#define ISA_LEN 128

struct region { paddr_t base; uint64_t size; };

struct platform {
	paddr_t ram_base;
	uint64_t ram_size;
	int nharts;
	unsigned long hartids[NCPU];      /* in device-tree order */
	int plic_context[NCPU];           /* S-mode PLIC context of hartids[i] */
	uint64_t timebase_hz;
	char isa[ISA_LEN];
	bool sstc, svpbmt;
	const char *bootargs;
	paddr_t initrd_start, initrd_end; /* 0,0 when none */
	paddr_t dtb_pa;
	uint32_t dtb_size;
	struct region uart;
	int uart_irq, uart_shift;
	struct region plic;
	int plic_ndev;
	int nvirtio;
	struct region virtio[PLAT_MAX_VIRTIO];
	int virtio_irq[PLAT_MAX_VIRTIO];
	int pci_node;                     /* device-tree node of the PCI host, -1 if none */
	struct region pci_ecam;
	int pci_bus_start, pci_bus_end;   /* bus-range */
	struct pci_window {               /* from the host's "ranges": CPU address, PCI bus address */
		paddr_t cpu;
		uint64_t pci, size;
	} pci_io, pci_mem32, pci_mem64;   /* size 0 when absent */
	paddr_t test_dev;                 /* sifive,test0 finisher (0 if none) */
	paddr_t poweroff_reg;             /* syscon-poweroff target address (0 if none) */
	uint32_t poweroff_value;
	int nreserved;
	struct region reserved[PLAT_MAX_REGIONS];  /* RAM the allocator must not hand out */
	int nmmio;
	struct region mmio[PLAT_MAX_REGIONS];      /* device registers to map uncached */
};

extern struct platform platform;

int platform_parse(paddr_t dtb_pa);   /* 0 on success */
void platform_print(void);            /* boot banner: harts, memory, every device */

#endif
