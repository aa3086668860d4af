/*
 * The kernel page table (Sv39). Everything is in the direct map, VA = PA + KERNEL_VOFFSET:
 *   - the kernel image with 4 KiB pages: text R+X, rodata R, data/bss R+W (never writable and
 *     executable at once);
 *   - the rest of RAM R+W with the largest pages alignment allows (2 MiB / 1 GiB);
 *   - every device register window the device tree names, R+W, with Svpbmt's IO attribute when the
 *     hart has Svpbmt (QEMU's PMAs already make them uncached otherwise).
 * All mappings are global (PTE_G): the kernel half is shared by every address space. The table is
 * built by the boot CPU before the others start, so no TLB shootdown is needed for it.
 */
#include "arch/riscv/vm.h"
#include "arch/riscv/riscv.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/errno.h"

#define VPN(va, level) (((va) >> (PAGE_SHIFT + 9 * (level))) & (PT_ENTRIES - 1))
#define LEVEL_SIZE(level) (PAGE_SIZE << (9 * (level)))

extern char _kernel_start[], _text_end[], _rodata_end[], _kernel_end[];

pte_t *kernel_pagetable;
static struct vm_stats stats;
static uint64_t io_attr;

static pte_t *alloc_table(void)
{
	pte_t *t = alloc_pages(0, PAGE_ZERO);
	if (t)
		stats.pt_pages++;
	return t;
}

/* The slot for va at `level` (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB), allocating tables on the way. */
static pte_t *walk_level(pte_t *pt, vaddr_t va, int level, bool alloc)
{
	for (int l = 2; l > level; l--) {
		pte_t *e = &pt[VPN(va, l)];
		if (*e & PTE_V) {
			if (*e & (PTE_R | PTE_W | PTE_X))
				return NULL;          /* a larger leaf is in the way */
			pt = pa_to_va(PTE_PA(*e));
		} else {
			if (!alloc)
				return NULL;
			pte_t *n = alloc_table();
			if (!n)
				return NULL;
			*e = PA_PTE(va_to_pa(n)) | PTE_V;
			pt = n;
		}
	}
	return &pt[VPN(va, level)];
}

pte_t *vm_walk(pte_t *pt, vaddr_t va, bool alloc) { return walk_level(pt, va, 0, alloc); }

int vm_map(pte_t *pt, vaddr_t va, paddr_t pa, uint64_t size, uint64_t perm)
{
	uint64_t end = va + size;
	while (va < end) {
		int level = 2;
		while (level > 0 && ((va | pa) & (LEVEL_SIZE(level) - 1) || end - va < LEVEL_SIZE(level)))
			level--;
		pte_t *e = walk_level(pt, va, level, true);
		if (!e)
			return -ENOMEM;
		*e = PA_PTE(pa) | perm | PTE_V | PTE_A | PTE_D;
		if (level == 2) stats.mapped_1g++;
		else if (level == 1) stats.mapped_2m++;
		else stats.mapped_4k++;
		va += LEVEL_SIZE(level);
		pa += LEVEL_SIZE(level);
	}
	return 0;
}

static void map_pa(paddr_t start, paddr_t end, uint64_t perm)
{
	if (end > start && vm_map(kernel_pagetable, (vaddr_t)pa_to_va(start), start, end - start, perm) < 0)
		panic("kvm: out of memory mapping %#llx", (unsigned long long)start);
}

void kvm_init(void)
{
	kernel_pagetable = alloc_table();
	if (!kernel_pagetable)
		panic("kvm: no memory for the page table");
	io_attr = platform.svpbmt ? PTE_PBMT_IO : 0;
	paddr_t ram = platform.ram_base, ram_end = platform.ram_base + platform.ram_size;
	paddr_t k0 = va_to_pa(_kernel_start), k_text = va_to_pa(_text_end);
	paddr_t k_ro = va_to_pa(_rodata_end), k_end = va_to_pa(_kernel_end);

	map_pa(ram, k0, PTE_R | PTE_W | PTE_G);
	map_pa(k0, k_text, PTE_R | PTE_X | PTE_G);
	map_pa(k_text, k_ro, PTE_R | PTE_G);
	map_pa(k_ro, k_end, PTE_R | PTE_W | PTE_G);
	map_pa(k_end, ram_end, PTE_R | PTE_W | PTE_G);
	for (int i = 0; i < platform.nmmio; i++) {
		paddr_t b = ALIGN_DOWN(platform.mmio[i].base, PAGE_SIZE);
		paddr_t e = ALIGN_UP(platform.mmio[i].base + platform.mmio[i].size, PAGE_SIZE);
		if (ioremap(b, e - b))
			continue;       /* the same window twice (e.g. a syscon and its user) */
		if (vm_map(kernel_pagetable, (vaddr_t)pa_to_va(b), b, e - b, PTE_R | PTE_W | PTE_G | io_attr) < 0)
			panic("kvm: cannot map device window %#llx+%#llx", (unsigned long long)b,
			      (unsigned long long)(e - b));
	}
	kvm_init_hart();
}

void kvm_init_hart(void)
{
	sfence_vma();
	csr_write(satp, SATP_MODE_SV39 | (va_to_pa(kernel_pagetable) >> PAGE_SHIFT));
	sfence_vma();
}

void *ioremap(paddr_t pa, uint64_t size)
{
	if (!kernel_pagetable)
		return NULL;
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		vaddr_t va = (vaddr_t)pa_to_va(pa + off);
		bool mapped = false;
		pte_t *pt = kernel_pagetable;
		for (int l = 2; l >= 0; l--) {
			pte_t e = pt[VPN(va, l)];
			if (!(e & PTE_V))
				break;
			if (e & (PTE_R | PTE_W | PTE_X)) {
				mapped = true;
				break;
			}
			pt = pa_to_va(PTE_PA(e));
		}
		if (!mapped)
			return NULL;
	}
	return pa_to_va(pa);
}

void vm_get_stats(struct vm_stats *st) { *st = stats; }
