/*
 * Physical page allocator: a buddy allocator over RAM with per-CPU caches of order-0 pages.
 * See mm/page.c for the design. Blocks are 2^order pages, naturally aligned in physical memory.
 */
#ifndef KERNEL_PAGE_H
#define KERNEL_PAGE_H
#include "kernel/types.h"
#include "mm/mm.h"

#define PAGE_MAX_ORDER 10          /* largest block: 4 MiB */
#define PAGE_ZERO  0x1             /* flags for page_alloc: zero the block */

/* struct page.flags (owned by page.c; read-only for everyone else) */
#define PG_RESERVED 0x1            /* never handed to the allocator (kernel image, metadata, firmware) */
#define PG_BUDDY    0x2            /* part of a free block on a buddy list (every page of the block) */
#define PG_PCP      0x4            /* free order-0 page sitting in a per-CPU cache */
#define PG_FREE     (PG_BUDDY | PG_PCP)
#define PG_EXEC     0x8            /* mapped executable in user space since allocated: zeroed when freed */

#define PAGE_ORDER_NONE 0xff       /* struct page.order of a page that does not start a block */

/*
 * One per page of RAM. `order` is valid on the first page of a block (free or allocated), else
 * PAGE_ORDER_NONE. `slab_class` is 0 unless kmalloc owns the block (mm/kmalloc.c). `refcount` is
 * 1 for a freshly allocated block (page_get/page_put for sharing); kmalloc reuses it on its slab pages
 * as the count of live objects. 0 for free and reserved pages.
 */
struct page { uint8_t order; uint8_t flags; uint8_t slab_class; uint8_t pad; uint32_t refcount; };

/* Boot: describe RAM [ram_start, ram_end) (page-aligned by the function); the struct page array is
   carved from *free_start (a physical address inside RAM, advanced past the array and page-aligned).
   All pages start reserved. Also resets all allocator state (host tests call it once per case). */
void page_setup(paddr_t ram_start, paddr_t ram_end, paddr_t *free_start);
/* Boot: give [start,end) to the allocator (clipped to whole pages inside RAM). The pages must be
   reserved (panics otherwise). */
void page_free_range(paddr_t start, paddr_t end);

paddr_t page_alloc(unsigned order, int flags);   /* 0 when out of memory (never panics) */
void page_free(paddr_t pa, unsigned order);      /* panics on a double free or a bad address */
void *alloc_pages(unsigned order, int flags);    /* kernel VA or NULL */
void free_pages(void *va, unsigned order);       /* NULL is a no-op */

struct page *pa_to_page(paddr_t pa);             /* NULL outside RAM */
paddr_t page_to_pa(const struct page *pg);
void page_get(paddr_t pa);                       /* refcount++ of an allocated block */
bool page_put(paddr_t pa);                       /* refcount--; frees the block (its recorded order)
                                                    at 0 and returns true */
/* pa (an allocated page) is being mapped executable in user space: it is zeroed when it is freed
 * (mm/page.c: "Pages that held code"). Any context. */
void page_mark_exec(paddr_t pa);

struct page_stats {
	uint64_t total;      /* pages of RAM */
	uint64_t free;       /* free pages, including those in per-CPU caches */
	uint64_t used;       /* allocated: total - free - reserved */
	uint64_t reserved;   /* never given to the allocator */
	uint64_t cached;     /* free pages sitting in per-CPU caches */
};
/* Exact when no allocation is in flight on another CPU (the caches are read without their owners). */
void page_get_stats(struct page_stats *st);
/* Return a CPU's cache to the buddy lists. Call on that CPU, or while that CPU is not running. */
void page_drain_cpu_cache(int cpu);

#endif
