/*
 * The buffer cache (interface and usage: block/bcache.h).
 *
 * Theory. A buffer is one block of one device: the key is (device, block number, size). Buffers
 * live in nbuckets hash buckets, each with its own spinlock and a list kept in recency order
 * (a hit moves the buffer to the front), so lookups of different blocks on different harts rarely
 * meet on a lock; no global lock is taken on the hit path. A buffer's refcount, flags and stamp
 * are guarded by its bucket's lock. A new buffer is allocated outside every lock, then inserted
 * after a second lookup (another hart may have inserted the same block meanwhile: the loser frees
 * its copy). A buffer that is not VALID is filled by the first reader under the buffer's io
 * sleeplock; later readers wait on it and find it VALID.
 *
 * Size and eviction: the cache is bounded, max_bytes of block data (bcache_init_default: an
 * eighth of RAM). When a new buffer would exceed it, bcache_shrink evicts clean unreferenced
 * buffers, least recently used first: it looks at the least recently used evictable buffer of up
 * to BCACHE_SCAN_BUCKETS buckets from a rotating cursor and frees the oldest of them (an exact
 * LRU when the window covers every bucket, a sampled one otherwise). bcache_shrink is also the
 * hook for memory pressure (a page allocator that runs short can call it). Referenced, dirty and
 * in-flight buffers are never evicted: when dirty ones stand in the way, the allocating thread
 * writes a batch of them itself and evicts them then (throttling a writer that outruns the
 * flusher); when only referenced or in-flight ones remain, the cache grows past its bound.
 *
 * Write-back: mark_dirty sets DIRTY. bcache_writeback takes a batch of dirty buffers (each: DIRTY
 * -> WRITEBACK and a reference, under its bucket lock), submits their writes as one plug (so
 * neighbouring blocks merge into one request), waits, then clears WRITEBACK and drops the
 * references. A buffer changed while its write is in flight is simply dirty again and goes out in
 * a later batch. The flusher thread (bcache_flusher.c) runs bcache_writeback every
 * BCACHE_FLUSH_MS; sync_dev loops it for one device, waits for writes the flusher has in flight,
 * then sends FLUSH. A failed write is recorded in the device's wb_err and reported (once) by the
 * next sync_dev of it.
 *
 * Locks: bucket locks are leaves (nothing else is taken under them; no allocation, no I/O);
 * stats_lock guards the global counters. The io sleeplock is held across a read and never with a
 * spinlock. Everything here may sleep: process context only.
 */
#include "block/bcache.h"
#include "kernel/assert.h"
#include "kernel/errno.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define BCACHE_SCAN_BUCKETS 16
#define BCACHE_WB_BATCH 64

struct bcache_bucket {
	struct spinlock lock;
	struct list_head bufs;         /* most recently used first */
};

static struct bcache_bucket *buckets;
static unsigned nbuckets;
static size_t max_bytes;
static struct spinlock stats_lock = SPINLOCK_INIT("bcache_stats");
static struct bcache_stats stats;      /* stats_lock */
static unsigned cursor;                /* eviction window start (racy: only a hint) */
static uint64_t clock;                 /* LRU stamps (atomic) */
static uint64_t nwriteback;            /* writes in flight (atomic) */
static struct waitq wb_wait = WAITQ_INIT(wb_wait, "bcache_wb");

static void stat_add(uint64_t *field, int64_t d)
{
	spin_lock(&stats_lock);
	*field += d;
	spin_unlock(&stats_lock);
}

static unsigned hash(struct block_device *dev, uint64_t blkno)
{
	uint64_t h = (uintptr_t)dev * 0x9e3779b97f4a7c15ull ^ blkno * 0xff51afd7ed558ccdull;
	return (unsigned)(h ^ (h >> 29)) & (nbuckets - 1);
}

int bcache_init(unsigned nb, size_t maxb)
{
	if (!nb || (nb & (nb - 1)))
		return -EINVAL;
	if (buckets) {           /* re-init: free what is there (must be clean and unreferenced) */
		for (unsigned i = 0; i < nbuckets; i++) {
			struct list_head *p, *n;
			list_for_each_safe(p, n, &buckets[i].bufs) {
				struct buf *b = list_entry(p, struct buf, node);
				kfree(b->data);
				kfree(b);
			}
		}
		kfree(buckets);
	}
	buckets = kmalloc(nb * sizeof(*buckets));
	if (!buckets)
		return -ENOMEM;
	for (unsigned i = 0; i < nb; i++) {
		spin_init(&buckets[i].lock, "bcache_bucket");
		list_init(&buckets[i].bufs);
	}
	nbuckets = nb;
	max_bytes = maxb;
	memset(&stats, 0, sizeof(stats));
	cursor = 0;
	return 0;
}

static struct buf *find_locked(struct bcache_bucket *bk, struct block_device *dev, uint64_t blkno, uint32_t size)
{
	struct list_head *p;
	list_for_each(p, &bk->bufs) {
		struct buf *b = list_entry(p, struct buf, node);
		if (b->dev == dev && b->blkno == blkno && b->size == size)
			return b;
	}
	return NULL;
}

/* A hit (bucket lock held): take a reference and make it the most recently used. */
static void touch_locked(struct bcache_bucket *bk, struct buf *b)
{
	b->refcount++;
	b->last_use = __atomic_add_fetch(&clock, 1, __ATOMIC_RELAXED);
	list_del(&b->node);
	list_add(&b->node, &bk->bufs);
}

static bool evictable(const struct buf *b) { return b->refcount == 0 && !(b->flags & (B_DIRTY | B_WRITEBACK)); }

/* The least recently used evictable buffer of bk (lock held), or NULL. */
static struct buf *lru_victim_locked(struct bcache_bucket *bk)
{
	for (struct list_head *p = bk->bufs.prev; p != &bk->bufs; p = p->prev) {
		struct buf *b = list_entry(p, struct buf, node);
		if (evictable(b))
			return b;
	}
	return NULL;
}

static void free_buf(struct buf *b)
{
	stat_add(&stats.nbufs, -1);
	stat_add(&stats.bytes, -(int64_t)b->size);
	stat_add(&stats.evictions, 1);
	kfree(b->data);
	kfree(b);
}

/* Evicts one buffer, the oldest in the window; false if none could be evicted there. */
static bool evict_one(void)
{
	unsigned window = MIN(nbuckets, (unsigned)BCACHE_SCAN_BUCKETS);
	unsigned start = cursor, best = 0;
	uint64_t best_use = UINT64_MAX;
	bool found = false;
	for (unsigned i = 0; i < window; i++) {
		unsigned k = (start + i) & (nbuckets - 1);
		spin_lock(&buckets[k].lock);
		struct buf *v = lru_victim_locked(&buckets[k]);
		if (v && v->last_use < best_use) {
			best_use = v->last_use;
			best = k;
			found = true;
		}
		spin_unlock(&buckets[k].lock);
	}
	cursor = (start + window) & (nbuckets - 1);
	if (!found)
		return false;
	spin_lock(&buckets[best].lock);
	struct buf *v = lru_victim_locked(&buckets[best]);
	if (v)
		list_del(&v->node);
	spin_unlock(&buckets[best].lock);
	if (v)
		free_buf(v);
	return v != NULL;
}

unsigned bcache_shrink(unsigned nr)
{
	unsigned done = 0, misses = 0;
	/* a full turn of windows without a victim means nothing is evictable */
	unsigned turns = (nbuckets + BCACHE_SCAN_BUCKETS - 1) / BCACHE_SCAN_BUCKETS;
	while (done < nr && misses < turns) {
		if (evict_one()) {
			done++;
			misses = 0;
		} else {
			misses++;
		}
	}
	return done;
}

unsigned bcache_forget(struct block_device *dev)
{
	unsigned freed = 0;
	for (unsigned k = 0; buckets && k < nbuckets; k++) {
		for (;;) {
			struct buf *victim = NULL;
			struct list_head *p;
			spin_lock(&buckets[k].lock);
			list_for_each(p, &buckets[k].bufs) {
				struct buf *b = list_entry(p, struct buf, node);
				if (b->dev == dev && evictable(b)) {
					victim = b;
					list_del(&b->node);
					break;
				}
			}
			spin_unlock(&buckets[k].lock);
			if (!victim)
				break;
			free_buf(victim);
			freed++;
		}
	}
	return freed;
}

static size_t cache_bytes(void)
{
	spin_lock(&stats_lock);
	size_t b = stats.bytes;
	spin_unlock(&stats_lock);
	return b;
}

static uint64_t dirty_count(void)
{
	spin_lock(&stats_lock);
	uint64_t d = stats.dirty;
	spin_unlock(&stats_lock);
	return d;
}

static struct buf *alloc_buf(struct block_device *dev, uint64_t blkno, uint32_t size)
{
	/* keep the bound: evict; if only dirty buffers stand in the way, write a batch of them
	 * ourselves first (a writer that outruns the flusher is throttled here, so a disk larger
	 * than RAM can be written through the cache) */
	while (cache_bytes() + size > max_bytes) {
		if (bcache_shrink(1))
			continue;
		if (!dirty_count() || !bcache_writeback(NULL, BCACHE_WB_BATCH))
			break;                  /* all referenced or in flight: grow past the bound */
	}
	struct buf *b = kzalloc(sizeof(*b));
	uint8_t *data = b ? kmalloc(size) : NULL;
	if (b && !data && bcache_shrink(BCACHE_WB_BATCH))
		data = kmalloc(size);
	if (!data) {
		kfree(b);
		return NULL;
	}
	b->dev = dev;
	b->blkno = blkno;
	b->size = size;
	b->data = data;
	__atomic_fetch_or(&dev->bcache_sizes, size, __ATOMIC_RELAXED);
	sleeplock_init(&b->io, "buf_io");
	return b;
}

/* The buffer of (dev, blkno, size) with a reference, created if absent (not VALID then). */
static struct buf *getblk(struct block_device *dev, uint64_t blkno, uint32_t size, int *err)
{
	struct bcache_bucket *bk = &buckets[hash(dev, blkno)];
	spin_lock(&bk->lock);
	struct buf *b = find_locked(bk, dev, blkno, size);
	if (b) {
		touch_locked(bk, b);
		spin_unlock(&bk->lock);
		stat_add(&stats.hits, 1);
		return b;
	}
	spin_unlock(&bk->lock);
	struct buf *nb = alloc_buf(dev, blkno, size);
	if (!nb) {
		*err = -ENOMEM;
		return NULL;
	}
	spin_lock(&bk->lock);
	b = find_locked(bk, dev, blkno, size);
	if (b) {
		touch_locked(bk, b);        /* someone else inserted it meanwhile */
	} else {
		b = nb;
		b->bucket = bk;
		b->refcount = 1;
		b->last_use = __atomic_add_fetch(&clock, 1, __ATOMIC_RELAXED);
		list_add(&b->node, &bk->bufs);
		nb = NULL;
	}
	spin_unlock(&bk->lock);
	if (nb) {
		kfree(nb->data);
		kfree(nb);
		stat_add(&stats.hits, 1);
	} else {
		stat_add(&stats.misses, 1);
		spin_lock(&stats_lock);
		stats.nbufs++;
		stats.bytes += size;
		stats.peak_bytes = MAX(stats.peak_bytes, stats.bytes);
		spin_unlock(&stats_lock);
	}
	return b;
}

static bool valid_args(struct block_device *dev, uint64_t blkno, uint32_t size)
{
	if (!dev || size < SECTOR_SIZE || size > 4096 || (size & (size - 1)))
		return false;
	uint64_t spb = size >> SECTOR_SHIFT;
	return size >= dev->block_size && blkno < dev->nsect / spb;   /* no partial logical blocks */
}

struct buf *bget(struct block_device *dev, uint64_t blkno, uint32_t size, int *err)
{
	might_sleep();
	if (!valid_args(dev, blkno, size)) {
		*err = -EINVAL;
		return NULL;
	}
	return getblk(dev, blkno, size, err);
}

struct buf *bpeek(struct block_device *dev, uint64_t blkno, uint32_t size)
{
	if (!buckets)
		return NULL;
	struct bcache_bucket *bk = &buckets[hash(dev, blkno)];
	spin_lock(&bk->lock);
	struct buf *b = find_locked(bk, dev, blkno, size);
	if (b && (b->flags & B_VALID))
		b->refcount++;
	else
		b = NULL;
	spin_unlock(&bk->lock);
	return b;
}

void buf_set_valid(struct buf *b)
{
	spin_lock(&b->bucket->lock);
	b->flags |= B_VALID;
	spin_unlock(&b->bucket->lock);
}

static bool is_valid(struct buf *b)
{
	spin_lock(&b->bucket->lock);
	bool v = b->flags & B_VALID;
	spin_unlock(&b->bucket->lock);
	return v;
}

struct buf *bread(struct block_device *dev, uint64_t blkno, uint32_t size, int *err)
{
	struct buf *b = bget(dev, blkno, size, err);
	if (!b || is_valid(b))
		return b;
	sleep_lock(&b->io);
	int r = 0;
	if (!is_valid(b)) {
		uint32_t spb = size >> SECTOR_SHIFT;
		r = blk_rw(dev, BIO_READ, blkno * spb, spb, b->data);
		if (!r)
			buf_set_valid(b);
	}
	sleep_unlock(&b->io);
	if (r) {
		brelse(b);
		*err = r == -EINVAL ? -EINVAL : -EIO;
		return NULL;
	}
	return b;
}

void brelse(struct buf *b)
{
	if (!b)
		return;
	spin_lock(&b->bucket->lock);
	ASSERT(b->refcount > 0);
	b->refcount--;
	spin_unlock(&b->bucket->lock);
}

void mark_dirty(struct buf *b)
{
	spin_lock(&b->bucket->lock);
	bool was = b->flags & B_DIRTY;
	b->flags |= B_DIRTY | B_VALID;
	spin_unlock(&b->bucket->lock);
	if (!was)
		stat_add(&stats.dirty, 1);
}

/* ---- write-back ---- */

static bool matches(const struct buf *b, const struct block_device *dev)
{
	return !dev || b->dev == dev || b->dev->disk == dev;
}

static void wb_end(struct bio *bio)
{
	struct buf *b = bio->priv;
	if (bio->status)
		__atomic_store_n(&b->dev->wb_err, -EIO, __ATOMIC_RELAXED);
	bio_end_wake(bio);
}

/* Write the n buffers (WRITEBACK set, referenced) as one plug and wait; then release them. */
static void write_batch(struct buf **bufs, struct bio *bios, unsigned n)
{
	struct blk_plug plug;
	blk_start_plug(&plug);
	for (unsigned i = 0; i < n; i++) {
		struct buf *b = bufs[i];
		struct bio *bio = &bios[i];
		uint32_t spb = b->size >> SECTOR_SHIFT;
		memset(bio, 0, sizeof(*bio));
		bio->bdev = b->dev;
		bio->op = BIO_WRITE;
		bio->sector = b->blkno * spb;
		bio->nsect = spb;
		bio->buf = b->data;
		bio->end = wb_end;
		bio->priv = b;
		blk_plug_add(&plug, bio);
	}
	blk_finish_plug(&plug);
	unsigned errors = 0;
	for (unsigned i = 0; i < n; i++) {
		if (bio_wait(&bios[i]))
			errors++;
		struct buf *b = bufs[i];
		spin_lock(&b->bucket->lock);
		b->flags &= ~B_WRITEBACK;
		b->refcount--;
		spin_unlock(&b->bucket->lock);
	}
	stat_add(&stats.writebacks, n);
	stat_add(&stats.write_errors, errors);
	__atomic_sub_fetch(&nwriteback, n, __ATOMIC_RELEASE);
	wake_all(&wb_wait);
}

unsigned bcache_writeback(struct block_device *dev, unsigned max)
{
	might_sleep();
	struct buf **bufs = kmalloc(BCACHE_WB_BATCH * sizeof(*bufs));
	struct bio *bios = kmalloc(BCACHE_WB_BATCH * sizeof(*bios));
	unsigned total = 0;
	if (!bufs || !bios)
		goto out;
	while (total < max) {
		unsigned n = 0;
		for (unsigned i = 0; i < nbuckets && n < BCACHE_WB_BATCH && total + n < max; i++) {
			struct bcache_bucket *bk = &buckets[i];
			spin_lock(&bk->lock);
			struct list_head *p;
			list_for_each(p, &bk->bufs) {
				if (n == BCACHE_WB_BATCH || total + n == max)
					break;
				struct buf *b = list_entry(p, struct buf, node);
				if ((b->flags & (B_DIRTY | B_WRITEBACK)) != B_DIRTY || !matches(b, dev))
					continue;
				b->flags = (b->flags & ~B_DIRTY) | B_WRITEBACK;
				b->refcount++;
				bufs[n++] = b;
			}
			spin_unlock(&bk->lock);
		}
		if (!n)
			break;
		__atomic_add_fetch(&nwriteback, n, __ATOMIC_RELAXED);
		stat_add(&stats.dirty, -(int64_t)n);
		write_batch(bufs, bios, n);
		total += n;
	}
out:
	kfree(bufs);
	kfree(bios);
	return total;
}

int bwrite(struct buf *b)
{
	might_sleep();
	mark_dirty(b);
	/* wait for a write of it already in flight, then write it ourselves */
	for (;;) {
		spin_lock(&b->bucket->lock);
		bool busy = b->flags & B_WRITEBACK;
		if (!busy) {
			bool dirty = b->flags & B_DIRTY;
			b->flags = (b->flags & ~B_DIRTY) | (dirty ? B_WRITEBACK : 0);
			if (dirty)
				b->refcount++;
			spin_unlock(&b->bucket->lock);
			if (!dirty)
				return 0;      /* someone else wrote it since */
			break;
		}
		spin_unlock(&b->bucket->lock);
		wait_event(&wb_wait, !(READ_ONCE(b->flags) & B_WRITEBACK));
	}
	stat_add(&stats.dirty, -1);
	__atomic_add_fetch(&nwriteback, 1, __ATOMIC_RELAXED);
	struct bio bio;
	int before = __atomic_exchange_n(&b->dev->wb_err, 0, __ATOMIC_RELAXED);
	write_batch(&b, &bio, 1);
	int err = __atomic_exchange_n(&b->dev->wb_err, before, __ATOMIC_RELAXED);
	return err ? -EIO : 0;
}

int sync_dev(struct block_device *dev)
{
	might_sleep();
	while (bcache_writeback(dev, UINT32_MAX))
		;
	wait_event(&wb_wait, __atomic_load_n(&nwriteback, __ATOMIC_ACQUIRE) == 0);
	int err = 0;
	if (dev->disk == dev) {          /* a disk: its partitions' write errors too */
		for (int i = 0; i < blk_count(); i++) {
			struct block_device *p = blk_get(i);
			if (p->disk == dev && __atomic_exchange_n(&p->wb_err, 0, __ATOMIC_RELAXED))
				err = -EIO;
		}
	} else if (__atomic_exchange_n(&dev->wb_err, 0, __ATOMIC_RELAXED)) {
		err = -EIO;
	}
	int fr = blk_flush(dev);
	return err ? err : fr == -EOPNOTSUPP ? 0 : fr;
}

int bcache_sync_all(void)
{
	int err = 0;
	for (int i = 0; i < blk_count(); i++) {
		struct block_device *d = blk_get(i);
		if (d->disk == d) {
			int r = sync_dev(d);
			if (r && !err)
				err = r;
		}
	}
	return err;
}

void bcache_get_stats(struct bcache_stats *st)
{
	spin_lock(&stats_lock);
	*st = stats;
	spin_unlock(&stats_lock);
	st->max_bytes = max_bytes;
}
