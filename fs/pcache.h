/*
 * A page index for the regular files of a disk file system (fs/pcache.c has the theory): the
 * pages MAP_SHARED mappings of a file share, keyed by page offset, filled from the file system
 * at the first fault and written back to it later. ext4's glue (fs/ext4/ext4_vfs.c) embeds one
 * in each VFS inode.
 *
 * Lock order: inode->rw -> pc->io (sleeplock) -> the file system's own locks (ops) -> pc->lock
 * (spinlock). Nobody copies to or from user memory holding pc->io (a copy may fault on a mapping
 * of this very file, and the fault takes pc->io).
 */
#ifndef KERNEL_FS_PCACHE_H
#define KERNEL_FS_PCACHE_H
#include "kernel/types.h"
#include "kernel/spinlock.h"
#include "lib/sleeplock.h"

struct inode;

/* How the index reaches the file's bytes on the file system: fill reads n bytes at off into buf
 * (holes as zeros), store writes them (never past the file size: the index clamps). Both may
 * sleep; called with pc->io held. Bytes moved or -errno. */
struct pcache_ops {
	long (*fill)(struct inode *ino, uint64_t off, void *buf, size_t n);
	long (*store)(struct inode *ino, uint64_t off, const void *buf, size_t n);
};

struct pcache_ent {
	uint64_t idx;                   /* page offset in the file */
	paddr_t pa;                     /* the page: the index holds one reference */
};

struct pcache {
	struct sleeplock io;            /* fills, write-through, writeback, truncation */
	struct spinlock lock;           /* ents, n, cap: lookups (find_page runs under mm->lock) */
	struct pcache_ent *ents;        /* sorted by idx */
	uint32_t n, cap;
	const struct pcache_ops *ops;
};

void pcache_init(struct pcache *pc, const struct pcache_ops *ops);
void pcache_destroy(struct pcache *pc);          /* every page dropped (no writeback) */
bool pcache_empty(struct pcache *pc);            /* no page cached (a racy hint) */

/* inode_ops->get_page / find_page (fs/fs.h): the cached page of pgoff with a reference for the
 * caller, filled on a miss (get_page; may sleep); -ENXIO at or beyond EOF. */
int pcache_get_page(struct pcache *pc, struct inode *ino, uint64_t pgoff, paddr_t *pa);
int pcache_find_page(struct pcache *pc, struct inode *ino, uint64_t pgoff, paddr_t *pa);

/* With pc->io held (pcache_lock), around a read or write of the file system: */
void pcache_lock(struct pcache *pc);
void pcache_unlock(struct pcache *pc);
/* a read of [pos, pos + n) into the kernel buffer buf: the cached pages' bytes replace the file
 * system's (they may hold stores through a mapping not yet written back) */
void pcache_overlay(struct pcache *pc, uint64_t pos, void *buf, size_t n);
/* a write of [pos, pos + n) from the kernel buffer src: into the cached pages too */
void pcache_write_through(struct pcache *pc, uint64_t pos, const void *src, size_t n);
/* the file's size goes from old to new: pages wholly at or past new are dropped (the file system
 * has unmapped them first: mm/rmap.h's rmap_unmap_from), and the cached page holding min(old, new) is zeroed from
 * there to its end (stores past EOF never show when the file grows again) */
void pcache_resize(struct pcache *pc, uint64_t old, uint64_t new);

/* Write the pages that stores may have changed (every page while the inode has a writable shared
 * mapping or had one since the last writeback: inode->mmap_writers, inode->mmap_dirty) to the file
 * system, each clamped to the file size. Takes pc->io; may sleep. 0 or the first -errno. */
int pcache_writeback(struct pcache *pc, struct inode *ino);
bool pcache_dirty(struct pcache *pc, struct inode *ino);   /* would writeback write anything? */

#endif
