/*
 * The vDSO in every process (the code and its theory: arch/riscv/vdso/vdso.c).
 *
 * At boot vdso_init copies the image the build embedded (vdso_blob.S) into pages of its own and
 * fills the data page (struct vdso_data). exec maps both into the new process as owner-backed
 * mappings (mm/uvm.h's vm_ops): [vvar] (the data page, read-only) and right above it [vdso] (the
 * image, read+execute), at an address chosen like any mmap, and tells the program where through
 * AT_SYSINFO_EHDR. Every process shares the same physical pages; a mapping takes a page
 * reference per present PTE, and the kernel's own reference keeps them forever. Neither mapping
 * can become writable (mprotect gives EACCES, as Linux does for these VM_MAYWRITE-less mappings),
 * so no process can change what the others run.
 */
#include "kernel/vdso.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/systime.h"
#include "kernel/timer.h"
#include "lib/string.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "mm/uvm.h"
#include "arch/riscv/vdso/vdso_data.h"

#define VDSO_MAX_PAGES 4

extern const char vdso_image_start[], vdso_image_end[];

static paddr_t data_pa;
static paddr_t text_pa[VDSO_MAX_PAGES];
static unsigned text_pages;

/* pgoff 0 is the data page, 1.. the image's pages: both VMAs use these ops (the [vdso] one starts
 * at pgoff 1). mm->lock held: no sleeping. */
static paddr_t vdso_page(struct vma *v __unused, uint64_t pgoff)
{
	paddr_t pa = pgoff == 0 ? data_pa : pgoff <= text_pages ? text_pa[pgoff - 1] : 0;
	if (pa)
		page_get(pa);
	return pa;
}

static void vdso_open(struct vma *v __unused) {}
static void vdso_close(struct vma *v __unused) {}

static const char *vdso_name(const struct vma *v) { return v->pgoff == 0 ? "[vvar]" : "[vdso]"; }

static const struct vm_ops vdso_ops = {
	.open = vdso_open, .close = vdso_close, .page = vdso_page, .name = vdso_name, .readonly = true,
};

void vdso_init(void)
{
	size_t len = (size_t)(vdso_image_end - vdso_image_start);
	text_pages = (unsigned)(ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE);
	if (text_pages > VDSO_MAX_PAGES)
		panic("vdso: image of %zu bytes is larger than %d pages", len, VDSO_MAX_PAGES);
	struct vdso_data *d = alloc_pages(0, PAGE_ZERO);
	if (!d)
		panic("vdso: no memory");
	d->timebase_hz = timebase_hz;
	d->rt_offset_ns = realtime_offset_ns();
	data_pa = va_to_pa(d);
	for (unsigned i = 0; i < text_pages; i++) {
		char *p = alloc_pages(0, PAGE_ZERO);
		if (!p)
			panic("vdso: no memory");
		size_t off = (size_t)i * PAGE_SIZE;
		memcpy(p, vdso_image_start + off, MIN(len - off, (size_t)PAGE_SIZE));
		text_pa[i] = va_to_pa(p);
	}
}

long vdso_map(struct mm *mm)
{
	size_t total = (size_t)(1 + text_pages) * PAGE_SIZE;
	long base = mm_map_owned(mm, 0, total, PROT_READ | PROT_EXEC, &vdso_ops, NULL, false);
	if (base < 0)
		return base;
	/* the first page again, read-only: the split leaves [vdso] at pgoff 1 */
	long r = mm_map_owned(mm, (uintptr_t)base, PAGE_SIZE, PROT_READ, &vdso_ops, NULL, true);
	if (r < 0)
		return r;
	return base + PAGE_SIZE;
}
