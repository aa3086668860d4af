/*
 * Reverse map of file mappings (mm/rmap.c has the theory): each inode lists the VMAs that map
 * it (inode->i_mmap), so truncation can take the pages past the new end of file out of every
 * address space, as Linux's unmap_mapping_range does.
 *
 * Lock order: mm->lock -> inode->i_mmap_lock (spinlocks). rmap_link runs under mm->lock,
 * rmap_unlink without it; rmap_unmap_from takes them one at a time and may sleep only in neither.
 */
#ifndef KERNEL_MM_RMAP_H
#define KERNEL_MM_RMAP_H
#include "kernel/types.h"

struct inode;
struct mm;
struct vma;

/* A file VMA enters mm's list (mm->lock held): it joins its inode's list too. No-op without a file. */
void rmap_link(struct mm *mm, struct vma *v);
/* A VMA is freed (mm->lock not held): it leaves its inode's list, if on it. */
void rmap_unlink(struct vma *v);
/* The file ino shrank to fewer than pgoff + 1 pages... precisely: its size is already the new one
 * and the pages at offsets >= pgoff are about to be dropped. Unmap them from every mapping
 * (private copies too, as Linux) and make faults that raced with the size change fetch again. May take
 * every mm->lock of the mappers in turn and fence their harts; call it after the new size is
 * visible and before the file system lets the pages go. The caller may hold sleeplocks
 * (inode->rw, the page index's io lock) but no spinlock. */
void rmap_unmap_from(struct inode *ino, uint64_t pgoff);

#endif
