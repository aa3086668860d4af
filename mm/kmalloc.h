/*
 * Kernel heap: kmalloc/kfree over power-of-two size classes of 16..2048 bytes carved from single
 * pages ("slabs"), larger requests straight from the page allocator. See mm/kmalloc.c.
 * Objects are aligned to their class size (so at least 16 bytes); large blocks are page-aligned.
 */
#ifndef KERNEL_KMALLOC_H
#define KERNEL_KMALLOC_H
#include "kernel/types.h"

#define KMALLOC_MIN_SIZE 16
#define KMALLOC_MAX_SIZE 2048      /* largest slab class; bigger requests get a page block */

void *kmalloc(size_t size);          /* NULL on failure or size 0 */
void *kzalloc(size_t size);
void kfree(void *p);                 /* NULL is fine; panics on a pointer that isn't a kmalloc object */
size_t kmalloc_size_class(size_t size);  /* the size actually reserved (class size or page block size);
                                            0 for size 0 or a size kmalloc cannot serve */
/* Give the empty slab pages each class keeps cached back to the page allocator. */
void kmalloc_shrink(void);

struct kmalloc_stats {
	uint64_t allocs;         /* successful kmalloc calls, ever */
	uint64_t frees;          /* kfree calls on non-NULL pointers, ever */
	uint64_t slab_pages;     /* pages currently held as slabs (including cached empty ones) */
	uint64_t large_allocs;   /* live allocations served by the page allocator */
};
void kmalloc_get_stats(struct kmalloc_stats *st);

#endif
