/*
 * Reads the flattened device tree (kernel/fdt.c) into struct platform: memory, harts and their
 * PLIC contexts, timebase, ISA extensions, bootargs, initrd, UART, PLIC, virtio-mmio slots, the PCI
 * host and the poweroff/test devices, plus the reserved RAM ranges and every device register region
 * the kernel page table must map.
 */
#include "kernel/platform.h"
#include "kernel/fdt.h"
#include "mm/mm.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define IRQ_S_EXTERNAL 9

struct platform platform;

static void add_region(struct region *list, int *n, paddr_t base, uint64_t size)
{
	if (*n < PLAT_MAX_REGIONS && size) {
		list[*n].base = base;
		list[*n].size = size;
		(*n)++;
	}
}

static int first_irq(int node)
{
	uint32_t irq;
	return fdt_getprop_u32(node, "interrupts", &irq) ? (int)irq : -1;
}

static bool has_ext(const char *isa, const char *ext)
{
	/* multi-letter extensions follow '_' in the riscv,isa string */
	size_t n = strlen(ext);
	for (const char *p = strchr(isa, '_'); p; p = strchr(p + 1, '_'))
		if (strncmp(p + 1, ext, n) == 0 && (p[1 + n] == '_' || p[1 + n] == 0))
			return true;
	return false;
}

/* hart id owning the interrupt-controller node with this phandle, or -1 */
static long hart_of_intc(uint32_t phandle)
{
	int intc = fdt_node_by_phandle(phandle);
	if (intc < 0)
		return -1;
	int cpu = fdt_parent(intc);
	uint64_t hart, sz;
	if (cpu < 0 || !fdt_reg(cpu, 0, &hart, &sz))
		return -1;
	return (long)hart;
}

static void parse_cpus(void)
{
	int cpus_node = fdt_path_offset("/cpus");
	uint32_t tb;
	if (cpus_node >= 0 && fdt_getprop_u32(cpus_node, "timebase-frequency", &tb))
		platform.timebase_hz = tb;
	for (int n = fdt_first_child(cpus_node); n >= 0; n = fdt_next_sibling(n)) {
		const char *type = fdt_getprop_str(n, "device_type");
		const char *status = fdt_getprop_str(n, "status");
		uint64_t hart, sz;
		if (!type || strcmp(type, "cpu") || (status && strcmp(status, "okay")) || !fdt_reg(n, 0, &hart, &sz))
			continue;
		if (platform.nharts < NCPU) {
			platform.plic_context[platform.nharts] = -1;
			platform.hartids[platform.nharts++] = hart;
		}
		const char *isa = fdt_getprop_str(n, "riscv,isa");
		if (isa && !platform.isa[0])
			strlcpy(platform.isa, isa, sizeof(platform.isa));
	}
	platform.sstc = has_ext(platform.isa, "sstc");
	platform.svpbmt = has_ext(platform.isa, "svpbmt");
}

static void parse_plic(int node)
{
	uint64_t base, size;
	uint32_t ndev = 0;
	if (!fdt_reg(node, 0, &base, &size))
		return;
	platform.plic.base = base;
	platform.plic.size = size;
	fdt_getprop_u32(node, "riscv,ndev", &ndev);
	platform.plic_ndev = (int)ndev;
	int len;
	const uint32_t *ie = fdt_getprop(node, "interrupts-extended", &len);
	for (int ctx = 0; ie && ctx < len / 8; ctx++) {
		uint32_t ph = (uint32_t)fdt_read_cells(&ie[2 * ctx], 1);
		uint32_t kind = (uint32_t)fdt_read_cells(&ie[2 * ctx + 1], 1);
		if (kind != IRQ_S_EXTERNAL)
			continue;
		long hart = hart_of_intc(ph);
		for (int i = 0; i < platform.nharts; i++)
			if ((long)platform.hartids[i] == hart)
				platform.plic_context[i] = ctx;
	}
}

static void parse_chosen(void)
{
	int chosen = fdt_path_offset("/chosen");
	if (chosen < 0)
		return;
	platform.bootargs = fdt_getprop_str(chosen, "bootargs");
	int len;
	const void *p = fdt_getprop(chosen, "linux,initrd-start", &len);
	const void *q = fdt_getprop(chosen, "linux,initrd-end", NULL);
	if (p && q) {
		platform.initrd_start = fdt_read_cells(p, len / 4);
		platform.initrd_end = fdt_read_cells(q, len / 4);
	}
}

static void parse_reserved(void)
{
	uint64_t a, s;
	for (int i = 0; fdt_mem_rsv(i, &a, &s); i++)
		add_region(platform.reserved, &platform.nreserved, a, s);
	int rm = fdt_path_offset("/reserved-memory");
	for (int n = rm >= 0 ? fdt_first_child(rm) : -1; n >= 0; n = fdt_next_sibling(n))
		for (int i = 0; fdt_reg(n, i, &a, &s); i++)
			add_region(platform.reserved, &platform.nreserved, a, s);
	add_region(platform.reserved, &platform.nreserved, platform.dtb_pa, platform.dtb_size);
	if (platform.initrd_end > platform.initrd_start)
		add_region(platform.reserved, &platform.nreserved, platform.initrd_start,
			   platform.initrd_end - platform.initrd_start);
}

#define PCI_SPACE_SHIFT 24
#define PCI_SPACE_MASK 3
#define PCI_SPACE_IO 1
#define PCI_SPACE_MEM32 2
#define PCI_SPACE_MEM64 3
#define PCI_RANGE_CELLS 7          /* 3 PCI address + 2 CPU address + 2 size */

/* The PCI host's windows (ranges) and bus range; the windows are mapped like device registers. */
static void parse_pci(int n)
{
	int len;
	uint32_t bus[2];
	const void *br = fdt_getprop(n, "bus-range", &len);
	platform.pci_bus_start = 0;
	platform.pci_bus_end = (int)(platform.pci_ecam.size >> 20) - 1;
	if (br && len == 8) {
		bus[0] = (uint32_t)fdt_read_cells(br, 1);
		bus[1] = (uint32_t)fdt_read_cells((const uint32_t *)br + 1, 1);
		platform.pci_bus_start = (int)bus[0];
		platform.pci_bus_end = (int)bus[1];
	}
	const uint32_t *r = fdt_getprop(n, "ranges", &len);
	for (int i = 0; r && (i + 1) * PCI_RANGE_CELLS * 4 <= len; i++) {
		const uint32_t *e = r + i * PCI_RANGE_CELLS;
		uint32_t hi = (uint32_t)fdt_read_cells(e, 1);
		struct pci_window w = { fdt_read_cells(e + 3, 2), fdt_read_cells(e + 1, 2), fdt_read_cells(e + 5, 2) };
		switch ((hi >> PCI_SPACE_SHIFT) & PCI_SPACE_MASK) {
		case PCI_SPACE_IO: platform.pci_io = w; break;
		case PCI_SPACE_MEM32: platform.pci_mem32 = w; break;
		case PCI_SPACE_MEM64: platform.pci_mem64 = w; break;
		}
		add_region(platform.mmio, &platform.nmmio, w.cpu, w.size);
	}
}

/* Every device register window outside RAM gets mapped; the PCI host's ECAM too. */
static void parse_devices(void)
{
	int depth;
	for (int n = fdt_next_node(-1, &depth); n >= 0; n = fdt_next_node(n, &depth)) {
		if (!fdt_getprop(n, "compatible", NULL))
			continue;
		uint64_t base, size;
		if (fdt_is_compatible(n, "ns16550a") && !platform.uart.base && fdt_reg(n, 0, &base, &size)) {
			uint32_t sh = 0;
			fdt_getprop_u32(n, "reg-shift", &sh);
			platform.uart = (struct region){ base, size };
			platform.uart_irq = first_irq(n);
			platform.uart_shift = (int)sh;
		} else if ((fdt_is_compatible(n, "riscv,plic0") || fdt_is_compatible(n, "sifive,plic-1.0.0")) &&
			   !platform.plic.base) {
			parse_plic(n);
		} else if (fdt_is_compatible(n, "virtio,mmio") && platform.nvirtio < PLAT_MAX_VIRTIO &&
			   fdt_reg(n, 0, &base, &size)) {
			platform.virtio[platform.nvirtio] = (struct region){ base, size };
			platform.virtio_irq[platform.nvirtio++] = first_irq(n);
		} else if (fdt_is_compatible(n, "pci-host-ecam-generic") && platform.pci_node < 0 &&
			   fdt_reg(n, 0, &base, &size)) {
			platform.pci_node = n;
			platform.pci_ecam = (struct region){ base, size };
			parse_pci(n);
		} else if (fdt_is_compatible(n, "sifive,test0") && fdt_reg(n, 0, &base, &size)) {
			platform.test_dev = base;
		} else if (fdt_is_compatible(n, "syscon-poweroff")) {
			uint32_t ph, off = 0, val = 0;
			int target = fdt_getprop_u32(n, "regmap", &ph) ? fdt_node_by_phandle(ph) : -1;
			fdt_getprop_u32(n, "offset", &off);
			fdt_getprop_u32(n, "value", &val);
			if (target >= 0 && fdt_reg(target, 0, &base, &size)) {
				platform.poweroff_reg = base + off;
				platform.poweroff_value = val;
			}
		}
		const char *dt = fdt_getprop_str(n, "device_type");
		if (dt && !strcmp(dt, "memory"))
			continue;
		for (int i = 0; fdt_reg(n, i, &base, &size); i++)
			if (size && (base + size <= platform.ram_base || base >= platform.ram_base + platform.ram_size) &&
			    fdt_parent(n) >= 0 && fdt_parent(n) != fdt_path_offset("/cpus"))
				add_region(platform.mmio, &platform.nmmio, base, size);
	}
}

int platform_parse(paddr_t dtb_pa)
{
	memset(&platform, 0, sizeof(platform));
	platform.pci_node = -1;
	platform.dtb_pa = dtb_pa;
	if (fdt_init(pa_to_va(dtb_pa)) < 0)
		return -1;
	platform.dtb_size = fdt_totalsize();
	int depth;
	for (int n = fdt_next_node(-1, &depth); n >= 0; n = fdt_next_node(n, &depth)) {
		const char *dt = fdt_getprop_str(n, "device_type");
		uint64_t base, size;
		if (dt && !strcmp(dt, "memory") && !platform.ram_size && fdt_reg(n, 0, &base, &size)) {
			platform.ram_base = base;
			platform.ram_size = size;
		}
	}
	parse_cpus();
	parse_chosen();
	parse_devices();
	parse_reserved();
	return platform.ram_size && platform.nharts && platform.plic.base ? 0 : -1;
}

void platform_print(void)
{
	printk("harts: %d (ids", platform.nharts);
	for (int i = 0; i < platform.nharts; i++)
		printk(" %lu", platform.hartids[i]);
	printk("), isa %s, timebase %llu Hz%s\n", platform.isa, (unsigned long long)platform.timebase_hz,
	       platform.sstc ? ", sstc" : "");
	printk("memory: %llu MiB at %#llx\n", (unsigned long long)(platform.ram_size >> 20),
	       (unsigned long long)platform.ram_base);
	if (platform.bootargs && platform.bootargs[0])
		printk("bootargs: %s\n", platform.bootargs);
	if (platform.initrd_end > platform.initrd_start)
		printk("initrd: %#llx-%#llx\n", (unsigned long long)platform.initrd_start,
		       (unsigned long long)platform.initrd_end);
	printk("devices:\n");
	int depth;
	for (int n = fdt_next_node(-1, &depth); n >= 0; n = fdt_next_node(n, &depth)) {
		const char *compat = fdt_getprop_str(n, "compatible");
		uint64_t base, size;
		if (!compat || depth < 1 || fdt_parent(n) == fdt_path_offset("/cpus") || !fdt_reg(n, 0, &base, &size))
			continue;
		int irq = first_irq(n);
		char irqs[16] = "";
		if (irq >= 0)
			snprintf(irqs, sizeof(irqs), " irq %d", irq);
		printk("  %-24s %-24s %#010llx+%#llx%s\n", fdt_node_name(n), compat,
		       (unsigned long long)base, (unsigned long long)size, irqs);
	}
}
