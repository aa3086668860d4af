/*
 * PCI host driver for the generic ECAM host (QEMU virt's pci-host-ecam-generic).
 *
 * Theory. Nothing has configured the bus before us (OpenSBI does not), so the kernel does what
 * firmware does on a PC:
 *   1. Enumerate: function f of slot s on bus b has its 4 KiB configuration space at
 *      ECAM + (b << 20 | s << 15 | f << 12); a vendor ID of 0xffff means "nothing there", and
 *      functions 1..7 exist only when function 0's header type has the multi-function bit.
 *   2. Size each BAR: with decoding off, write all ones and read back; the bits that stay zero
 *      are the size (the low bits say I/O or memory, 32- or 64-bit, prefetchable).
 *   3. Assign: each BAR gets a naturally aligned range from the host's window of its kind, taken
 *      from the device tree's `ranges` (platform.pci_io / pci_mem32 / pci_mem64): I/O BARs from
 *      the I/O window, 64-bit memory BARs from the 64-bit window when there is one (else the 32-bit
 *      one), 32-bit BARs from the 32-bit window. The bus address goes into the BAR, the CPU
 *      address (window.cpu + bus address - window.pci) into struct pci_bar; the windows are in
 *      the kernel's direct map already (kvm_init maps them), so the VA is pa_to_va(cpu).
 *   4. Enable I/O and/or memory decoding and bus mastering (DMA) in the command register.
 *   5. Route INTx: the host's interrupt-map lists (unit address, pin) -> (interrupt controller,
 *      interrupt) after masking with interrupt-map-mask; the map already encodes QEMU's swizzle
 *      (slot + pin) mod 4, so the lookup is the whole job for devices on the root bus.
 *   6. Print one line per function, then probe the registered drivers by vendor/device ID.
 * Only the root bus is enumerated: bridges are listed but not configured (QEMU virt puts devices
 * on bus 0 unless told otherwise).
 *
 * Locking: none. pci_init runs once at boot in one thread; drivers register before it; after it
 * the device table is read-only (each driver owns its function's configuration space).
 */
#include "kernel/init.h"
#include "drivers/pci/pci.h"
#include "kernel/platform.h"
#include "kernel/fdt.h"
#include "mm/mm.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "arch/riscv/riscv.h"

#define PCI_MAX_DEVS 64
#define PCI_MAX_DRIVERS 16
#define PCI_SLOTS 32
#define PCI_FUNCS 8
#define ECAM_BUS_SHIFT 20
#define ECAM_SLOT_SHIFT 15
#define ECAM_FUNC_SHIFT 12

/* configuration space registers */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_HEADER_MULTI 0x80
#define PCI_HEADER_TYPE_MASK 0x7f
#define PCI_HEADER_NORMAL 0
#define PCI_HEADER_BRIDGE 1
#define PCI_BRIDGE_BARS 2

#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM_TYPE_MASK 0x6
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_BAR_PREFETCH 0x8
#define PCI_BAR_IO_MASK (~0x3U)
#define PCI_BAR_MEM_MASK (~0xfU)
#define PCI_IO_ALLOC_START 0x1000      /* keep I/O port 0 unused (drivers read 0 as "unassigned") */
#define PCI_CAP_MAX 48                 /* bound on a capability list walk */
#define PCI_CAP_PTR_MASK 0xfc

#define VENDOR_NONE 0xffff

/* interrupt-map: child unit address cells (3) + child interrupt cells (1), then the parent. */
#define PCI_ADDR_CELLS 3
#define PCI_INT_CELLS 1
#define PHYS_HI_BUS_SHIFT 16
#define PHYS_HI_SLOT_SHIFT 11
#define PHYS_HI_FUNC_SHIFT 8
#define MAX_MAP_CELLS 16

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs;
static const struct pci_driver *drivers[PCI_MAX_DRIVERS];
static int ndrivers;
static uint8_t *ecam;

struct window_alloc {
	const struct pci_window *w;
	uint64_t next;                 /* next free bus address */
};
static struct window_alloc io_alloc, mem32_alloc, mem64_alloc;

/* ---- configuration space ---- */

uint8_t pci_cfg_read8(struct pci_dev *d, int off) { return mmio_read8((uint8_t *)d->cfg + off); }
uint16_t pci_cfg_read16(struct pci_dev *d, int off) { return mmio_read16((uint8_t *)d->cfg + off); }
uint32_t pci_cfg_read32(struct pci_dev *d, int off) { return mmio_read32((uint8_t *)d->cfg + off); }
void pci_cfg_write8(struct pci_dev *d, int off, uint8_t v) { mmio_write8((uint8_t *)d->cfg + off, v); }
void pci_cfg_write16(struct pci_dev *d, int off, uint16_t v) { mmio_write16((uint8_t *)d->cfg + off, v); }
void pci_cfg_write32(struct pci_dev *d, int off, uint32_t v) { mmio_write32((uint8_t *)d->cfg + off, v); }

int pci_find_capability(struct pci_dev *d, uint8_t cap_id, int start)
{
	if (!(pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	int off = start ? pci_cfg_read8(d, start + 1) : pci_cfg_read8(d, PCI_CAPABILITY_LIST);
	for (int n = 0; n < PCI_CAP_MAX && (off & PCI_CAP_PTR_MASK); n++) {
		off &= PCI_CAP_PTR_MASK;
		if (pci_cfg_read8(d, off) == cap_id)
			return off;
		off = pci_cfg_read8(d, off + 1);
	}
	return 0;
}

static void *cfg_addr(int bus, int slot, int func)
{
	return ecam + ((uint64_t)(bus - platform.pci_bus_start) << ECAM_BUS_SHIFT) +
	       ((uint64_t)slot << ECAM_SLOT_SHIFT) + ((uint64_t)func << ECAM_FUNC_SHIFT);
}

/* ---- BARs ---- */

/* A naturally aligned range of `size` bytes from the window; false when it does not fit. */
static bool window_alloc(struct window_alloc *a, uint64_t size, uint64_t *bus_addr)
{
	if (!a->w || !a->w->size)
		return false;
	uint64_t addr = ALIGN_UP(a->next, size);
	if (addr < a->next || addr + size > a->w->pci + a->w->size || addr + size < addr)
		return false;
	*bus_addr = addr;
	a->next = addr + size;
	return true;
}

/* Size and assign BAR i (returns the number of BAR registers it used: 1, or 2 for 64-bit). */
static int setup_bar(struct pci_dev *d, int i, int nbars)
{
	int off = PCI_BAR0 + 4 * i;
	struct pci_bar *b = &d->bar[i];
	uint32_t orig = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, 0xffffffff);
	uint32_t lo = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, orig);
	b->io = orig & PCI_BAR_IO;
	b->mem64 = !b->io && (orig & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && i + 1 < nbars;
	b->prefetch = !b->io && (orig & PCI_BAR_PREFETCH);
	uint64_t mask;
	if (b->io) {
		mask = 0xffffffffffff0000ULL | (lo & PCI_BAR_IO_MASK);   /* upper 16 bits may read as 0 */
	} else if (b->mem64) {
		uint32_t orig_hi = pci_cfg_read32(d, off + 4);
		pci_cfg_write32(d, off + 4, 0xffffffff);
		uint32_t hi = pci_cfg_read32(d, off + 4);
		pci_cfg_write32(d, off + 4, orig_hi);
		mask = (uint64_t)hi << 32 | (lo & PCI_BAR_MEM_MASK);
	} else {
		mask = 0xffffffff00000000ULL | (lo & PCI_BAR_MEM_MASK);
	}
	int used = b->mem64 ? 2 : 1;
	if ((uint32_t)mask == 0 && (mask >> 32) == 0xffffffffU)
		return used;                          /* unimplemented BAR */
	uint64_t size = ~mask + 1;
	if (!size || (size & (size - 1)))
		return used;
	struct window_alloc *a = b->io ? &io_alloc : b->mem64 && mem64_alloc.w ? &mem64_alloc : &mem32_alloc;
	uint64_t bus_addr;
	if (!window_alloc(a, size, &bus_addr)) {
		if (a == &mem64_alloc && window_alloc(&mem32_alloc, size, &bus_addr)) {
			a = &mem32_alloc;
		} else {
			printk("pci %02x:%02x.%d: no room for bar%d (%#llx bytes)\n", d->bus, d->slot, d->func, i,
			       (unsigned long long)size);
			return used;
		}
	}
	pci_cfg_write32(d, off, (uint32_t)bus_addr | (orig & (b->io ? 0x3 : 0xf)));
	if (b->mem64)
		pci_cfg_write32(d, off + 4, (uint32_t)(bus_addr >> 32));
	b->size = size;
	b->cpu = a->w->cpu + (bus_addr - a->w->pci);
	b->va = pa_to_va(b->cpu);
	return used;
}

/* ---- INTx routing ---- */

/* PLIC interrupt for (bus, slot, func, pin) through the host's interrupt-map, -1 if none. */
static int route_intx(int bus, int slot, int func, int pin)
{
	int node = platform.pci_node, len, mlen;
	const uint32_t *map = fdt_getprop(node, "interrupt-map", &len);
	const uint32_t *mask = fdt_getprop(node, "interrupt-map-mask", &mlen);
	if (!map || pin < 1 || pin > 4)
		return -1;
	uint32_t key[PCI_ADDR_CELLS + PCI_INT_CELLS] = {
		(uint32_t)(bus << PHYS_HI_BUS_SHIFT | slot << PHYS_HI_SLOT_SHIFT | func << PHYS_HI_FUNC_SHIFT), 0, 0,
		(uint32_t)pin };
	for (int i = 0; i < PCI_ADDR_CELLS + PCI_INT_CELLS; i++)
		if (mask && mlen >= (int)sizeof(key))
			key[i] &= (uint32_t)fdt_read_cells(mask + i, 1);
	int ncells = len / 4, p = 0;
	while (p + PCI_ADDR_CELLS + PCI_INT_CELLS + 1 <= ncells) {
		const uint32_t *e = map + p;
		bool match = true;
		for (int i = 0; i < PCI_ADDR_CELLS + PCI_INT_CELLS; i++)
			if ((uint32_t)fdt_read_cells(e + i, 1) != key[i])
				match = false;
		uint32_t phandle = (uint32_t)fdt_read_cells(e + PCI_ADDR_CELLS + PCI_INT_CELLS, 1);
		int parent = fdt_node_by_phandle(phandle);
		if (parent < 0)
			return -1;
		uint32_t pac = 0, pic = 1;
		fdt_getprop_u32(parent, "#address-cells", &pac);
		fdt_getprop_u32(parent, "#interrupt-cells", &pic);
		if (pic < 1 || pac + pic > MAX_MAP_CELLS)
			return -1;
		int entry = PCI_ADDR_CELLS + PCI_INT_CELLS + 1 + (int)(pac + pic);
		if (p + entry > ncells)
			return -1;
		if (match)
			return (int)fdt_read_cells(e + PCI_ADDR_CELLS + PCI_INT_CELLS + 1 + pac, 1);
		p += entry;
	}
	return -1;
}

/* ---- enumeration ---- */

static void print_dev(struct pci_dev *d)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "pci %02x:%02x.%d %04x:%04x class %06x", d->bus, d->slot, d->func,
			 d->vendor, d->device, d->class_code);
	if (d->irq >= 0)
		n += snprintf(line + n, sizeof(line) - n, " irq %d", d->irq);
	else if (d->irq_pin)
		n += snprintf(line + n, sizeof(line) - n, " irq unrouted");
	for (int i = 0; i < PCI_MAX_BARS && n < (int)sizeof(line); i++) {
		struct pci_bar *b = &d->bar[i];
		if (!b->size)
			continue;
		n += snprintf(line + n, sizeof(line) - n, " bar%d %s %#llx+%#llx", i,
			      b->io ? "io" : b->mem64 ? "mem64" : "mem", (unsigned long long)b->cpu,
			      (unsigned long long)b->size);
	}
	printk("%s\n", line);
}

static void setup_function(int bus, int slot, int func)
{
	if (ndevs == PCI_MAX_DEVS) {
		printk("pci: more than %d functions, ignoring %02x:%02x.%d\n", PCI_MAX_DEVS, bus, slot, func);
		return;
	}
	struct pci_dev *d = &devs[ndevs];
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->slot = slot;
	d->func = func;
	d->cfg = cfg_addr(bus, slot, func);
	d->vendor = pci_cfg_read16(d, PCI_VENDOR_ID);
	d->device = pci_cfg_read16(d, PCI_DEVICE_ID);
	d->class_code = pci_cfg_read32(d, PCI_CLASS_REVISION) >> 8;
	int type = pci_cfg_read8(d, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	d->irq = -1;
	ndevs++;
	if (type != PCI_HEADER_NORMAL) {
		print_dev(d);
		printk("pci %02x:%02x.%d: %s header type %d not configured\n", bus, slot, func,
		       type == PCI_HEADER_BRIDGE ? "bridge," : "", type);
		return;
	}
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	pci_cfg_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	bool any_io = false, any_mem = false;
	for (int i = 0; i < PCI_MAX_BARS;) {
		int used = setup_bar(d, i, PCI_MAX_BARS);
		if (d->bar[i].size) {
			any_io |= d->bar[i].io;
			any_mem |= !d->bar[i].io;
		}
		i += used;
	}
	d->irq_pin = pci_cfg_read8(d, PCI_INTERRUPT_PIN);
	if (d->irq_pin) {
		d->irq = route_intx(bus, slot, func, d->irq_pin);
		pci_cfg_write8(d, PCI_INTERRUPT_LINE, d->irq >= 0 ? (uint8_t)d->irq : 0xff);
	}
	cmd = (uint16_t)((cmd & ~PCI_COMMAND_INTX_DISABLE) | PCI_COMMAND_MASTER |
			 (any_io ? PCI_COMMAND_IO : 0) | (any_mem ? PCI_COMMAND_MEMORY : 0));
	pci_cfg_write16(d, PCI_COMMAND, cmd);
	print_dev(d);
}

static void scan_bus(int bus)
{
	for (int slot = 0; slot < PCI_SLOTS; slot++) {
		for (int func = 0; func < PCI_FUNCS; func++) {
			void *cfg = cfg_addr(bus, slot, func);
			if (mmio_read16((uint8_t *)cfg + PCI_VENDOR_ID) == VENDOR_NONE) {
				if (func == 0)
					break;
				continue;
			}
			setup_function(bus, slot, func);
			if (func == 0 && !(mmio_read8((uint8_t *)cfg + PCI_HEADER_TYPE) & PCI_HEADER_MULTI))
				break;
		}
	}
}

/* ---- drivers ---- */

int pci_register_driver(const struct pci_driver *drv)
{
	if (ndrivers == PCI_MAX_DRIVERS)
		return -1;
	drivers[ndrivers++] = drv;
	return 0;
}

static bool id_match(const struct pci_id *id, const struct pci_dev *d)
{
	return (id->vendor == PCI_ANY_ID || id->vendor == d->vendor) &&
	       (id->device == PCI_ANY_ID || id->device == d->device);
}

static void probe_drivers(struct pci_dev *d)
{
	for (int i = 0; i < ndrivers; i++) {
		for (const struct pci_id *id = drivers[i]->ids; id && (id->vendor || id->device); id++) {
			if (!id_match(id, d))
				continue;
			if (drivers[i]->probe(d) == 0) {
				printk("pci %02x:%02x.%d: bound to %s\n", d->bus, d->slot, d->func, drivers[i]->name);
				return;
			}
			break;                   /* this driver declined; try the next one */
		}
	}
}

void pci_init(void)
{
	if (platform.pci_node < 0 || !platform.pci_ecam.size) {
		printk("pci: no host bridge\n");
		return;
	}
	ecam = pa_to_va(platform.pci_ecam.base);
	io_alloc = (struct window_alloc){ &platform.pci_io, MAX(platform.pci_io.pci, (uint64_t)PCI_IO_ALLOC_START) };
	mem32_alloc = (struct window_alloc){ &platform.pci_mem32, platform.pci_mem32.pci };
	mem64_alloc = (struct window_alloc){ platform.pci_mem64.size ? &platform.pci_mem64 : NULL,
					     platform.pci_mem64.pci };
	int buses = (int)(platform.pci_ecam.size >> ECAM_BUS_SHIFT);
	if (buses <= 0 || platform.pci_bus_start > platform.pci_bus_end) {
		printk("pci: bad bus range\n");
		return;
	}
	printk("pci: ecam %#llx buses %d-%d, io %#llx+%#llx, mem %#llx+%#llx, mem64 %#llx+%#llx\n",
	       (unsigned long long)platform.pci_ecam.base, platform.pci_bus_start, platform.pci_bus_end,
	       (unsigned long long)platform.pci_io.cpu, (unsigned long long)platform.pci_io.size,
	       (unsigned long long)platform.pci_mem32.cpu, (unsigned long long)platform.pci_mem32.size,
	       (unsigned long long)platform.pci_mem64.cpu, (unsigned long long)platform.pci_mem64.size);
	scan_bus(platform.pci_bus_start);
	printk("pci: %d function%s\n", ndevs, ndevs == 1 ? "" : "s");
	for (int i = 0; i < ndevs; i++)
		probe_drivers(&devs[i]);
}

int pci_ndevs(void) { return ndevs; }
struct pci_dev *pci_get(int i) { return i >= 0 && i < ndevs ? &devs[i] : NULL; }
bus_init(pci_init);
