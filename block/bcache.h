/*
 * The buffer cache (block/bcache.c has the theory): blocks of a block device cached by
 * (device, block number, block size), reference counted, written back by a flusher thread and on
 * sync. The synchronous API the file systems (ext4) use:
 *
 *   b = bread(dev, blkno, size, &err)   the block, read from the disk if not cached (sleeps until
 *                                       the I/O is done); NULL with err = -EIO on a device error
 *   b = bget(dev, blkno, size, &err)    the block without reading it (for a whole overwrite:
 *                                       fill b->data, then buf_set_valid)
 *   mark_dirty(b)                       b->data changed: write it back later
 *   bwrite(b)                           write it now (synchronously): 0 or -EIO
 *   brelse(b)                           drop the reference
 *   sync_dev(dev)                       write back every dirty block of dev (and of its partitions
 *                                       when dev is a disk), then FLUSH the disk's write cache:
 *                                       0, or -EIO if any write-back of dev failed since the last sync
 *
 * Callers that share a block coordinate changes to b->data themselves (as Linux's lock_buffer):
 * the cache guarantees that a block has one buffer, that its data stays while referenced, and
 * that a buffer being written back is not freed. All of these may sleep: process context only.
 */
#ifndef BLOCK_BCACHE_H
#define BLOCK_BCACHE_H
#include "block/blkdev.h"
#include "lib/list.h"
#include "lib/sleeplock.h"

#define B_VALID 0x1                    /* data holds the block's contents */
#define B_DIRTY 0x2                    /* changed since it was last written */
#define B_WRITEBACK 0x4                /* a write of it is in flight */

struct bcache_bucket;

struct buf {
	struct block_device *dev;
	uint64_t blkno;                /* in units of size */
	uint32_t size;                 /* bytes: 512 ... 4096 */
	uint32_t refcount;             /* bucket lock */
	unsigned flags;                /* B_*: bucket lock */
	uint64_t last_use;             /* LRU stamp: bucket lock */
	struct sleeplock io;           /* held while filling an invalid buffer from the disk */
	uint8_t *data;
	struct list_head node;         /* its bucket's list, most recently used first */
	struct bcache_bucket *bucket;
};

/* Sets up an empty cache: nbuckets hash buckets (a power of two), at most max_bytes of block data
 * kept unreferenced (a bounded size: referenced and dirty buffers may exceed it until written).
 * 0 or -ENOMEM. Called again it throws away a clean, unreferenced cache (host tests). */
int bcache_init(unsigned nbuckets, size_t max_bytes);

struct buf *bread(struct block_device *dev, uint64_t blkno, uint32_t size, int *err);
struct buf *bget(struct block_device *dev, uint64_t blkno, uint32_t size, int *err);
/* The valid buffer of (dev, blkno, size) with a reference if it is cached, else NULL: no I/O, no
 * allocation (a writer that bypasses the cache updates cached copies with it). */
struct buf *bpeek(struct block_device *dev, uint64_t blkno, uint32_t size);
void buf_set_valid(struct buf *b);
void brelse(struct buf *b);
void mark_dirty(struct buf *b);
int bwrite(struct buf *b);
int sync_dev(struct block_device *dev);
int bcache_sync_all(void);               /* sync(2): every device */

/* Write back up to max dirty buffers (of dev, or any when dev is NULL); returns how many were
 * written. The flusher thread calls it with dev NULL. */
unsigned bcache_writeback(struct block_device *dev, unsigned max);
/* Evict up to nr clean, unreferenced buffers, least recently used first: what the page
 * allocator's pressure hook (or anyone short of memory) calls. Returns how many were freed. */
unsigned bcache_shrink(unsigned nr);
/* Drops every clean, unreferenced buffer of dev (a file system let go of it: what others write
 * through the node next must not meet stale copies). Returns how many. */
unsigned bcache_forget(struct block_device *dev);

struct bcache_stats {
	uint64_t hits, misses, evictions, writebacks, write_errors;
	uint64_t nbufs, bytes, peak_bytes, dirty, max_bytes;
};
void bcache_get_stats(struct bcache_stats *st);

#endif
