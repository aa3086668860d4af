// unit-sources: block/bcache.c
/* The buffer cache (block/bcache.c) over a fake disk in host memory: hits and misses, reference
 * counts, exact LRU eviction with one bucket and the size bound, referenced and dirty buffers
 * never evicted, write-back batching neighbours into one plug, bwrite, sync_dev's error report,
 * and read errors as -EIO. The block layer, sleeplocks and wait queues are stubbed (single
 * thread: I/O completes inside blk_finish_plug / blk_rw). */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "block/bcache.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/printk.h"

#define DISK_SECTORS 4096
#define BS 1024
#define SPB (BS / SECTOR_SIZE)

static uint8_t disk_mem[DISK_SECTORS * SECTOR_SIZE];
static struct block_device disk;
static int nreads, nwrites, nplugs, last_plug_bios, nflushes;
static uint64_t fail_sector = UINT64_MAX;     /* I/O touching it fails */

/* ---- stubs: memory, locks, wait queues ---- */
void *kmalloc(size_t n) { return malloc(n); }
void *kzalloc(size_t n) { return calloc(1, n); }
void kfree(void *p) { free(p); }
void sleeplock_init(struct sleeplock *l, const char *name) { spin_init(&l->lk, name); l->held = false; }
void sleep_lock(struct sleeplock *l) { CHECK(!l->held); l->held = true; }
void sleep_unlock(struct sleeplock *l) { l->held = false; }
void prepare_to_wait(struct waitq *wq, struct wait_entry *e) { (void)wq; (void)e; }
void finish_wait(struct waitq *wq, struct wait_entry *e) { (void)wq; (void)e; }
void wait_schedule(uint64_t deadline) { (void)deadline; panic("the test would sleep forever"); }
int wake_up(struct waitq *wq, int nr) { (void)wq; (void)nr; return 0; }

/* ---- stubs: the block layer, over disk_mem ---- */
static int do_io(enum bio_op op, uint64_t sector, uint32_t nsect, void *buf)
{
	if (fail_sector >= sector && fail_sector < sector + nsect)
		return -EIO;
	if (op == BIO_READ) {
		nreads++;
		memcpy(buf, disk_mem + sector * SECTOR_SIZE, (size_t)nsect * SECTOR_SIZE);
	} else {
		nwrites++;
		memcpy(disk_mem + sector * SECTOR_SIZE, buf, (size_t)nsect * SECTOR_SIZE);
	}
	return 0;
}
int blk_rw(struct block_device *bd, enum bio_op op, uint64_t sector, uint32_t nsect, void *buf)
{
	return do_io(op, bd->start + sector, nsect, buf);
}
int blk_flush(struct block_device *bd) { (void)bd; nflushes++; return 0; }
void blk_start_plug(struct blk_plug *p) { p->head = NULL; p->count = 0; }
void blk_plug_add(struct blk_plug *p, struct bio *b) { b->next = p->head; p->head = b; p->count++; }
void blk_finish_plug(struct blk_plug *p)
{
	nplugs++;
	last_plug_bios = p->count;
	for (struct bio *b = p->head, *n; b; b = n) {
		n = b->next;
		b->status = do_io(b->op, b->bdev->start + b->sector, b->nsect, b->buf);
		b->end(b);
	}
}
void bio_end_wake(struct bio *b) { b->done = true; }
int bio_wait(struct bio *b) { CHECK(b->done); return b->status; }
int blk_count(void) { return 1; }
struct block_device *blk_get(int i) { return i == 0 ? &disk : NULL; }

static void setup(unsigned nbuckets, size_t max_bytes)
{
	for (size_t i = 0; i < sizeof(disk_mem); i++)
		disk_mem[i] = (uint8_t)(i / BS * 7 + i);
	disk = (struct block_device){ .name = "vda", .nsect = DISK_SECTORS, .block_size = SECTOR_SIZE };
	disk.disk = &disk;
	nreads = nwrites = nplugs = last_plug_bios = nflushes = 0;
	fail_sector = UINT64_MAX;
	CHECK_EQ(bcache_init(nbuckets, max_bytes), 0);
}

static struct buf *get(uint64_t blk)
{
	int err = 0;
	struct buf *b = bread(&disk, blk, BS, &err);
	CHECK(b != NULL);
	CHECK_EQ(err, 0);
	return b;
}

/* bread then brelse; returns whether it had to read the disk */
static bool touch(uint64_t blk)
{
	int before = nreads;
	brelse(get(blk));
	return nreads != before;
}

static void teardown(void) { bcache_init(1, 0); }   /* frees what the test left (all released) */

TEST(hit_and_miss_share_one_buffer)
{
	setup(8, 1 << 20);
	struct buf *a = get(5);
	CHECK_EQ(nreads, 1);
	CHECK(!memcmp(a->data, disk_mem + 5 * BS, BS));
	struct buf *b = get(5);
	CHECK(a == b);
	CHECK_EQ(nreads, 1);
	CHECK_EQ(a->refcount, 2);
	brelse(a);
	brelse(b);
	CHECK_EQ(a->refcount, 0);
	struct bcache_stats st;
	bcache_get_stats(&st);
	CHECK_EQ(st.hits, 1);
	CHECK_EQ(st.misses, 1);
	CHECK_EQ(st.nbufs, 1);
	CHECK_EQ(st.bytes, BS);
	teardown();
}

TEST(lru_evicts_least_recently_used)
{
	setup(1, 4 * BS);                      /* one bucket: exact LRU; room for four blocks */
	for (int i = 0; i < 4; i++)
		CHECK(touch(i));
	CHECK(!touch(0));                      /* 0 is now the most recent; 1 the least */
	CHECK(touch(4));                       /* evicts 1 */
	CHECK(!touch(0));
	CHECK(!touch(2));
	CHECK(!touch(3));
	CHECK(!touch(4));
	CHECK(touch(1));                       /* was evicted: read again (evicts 0, now the LRU) */
	CHECK(touch(0));                       /* evicts 2, the LRU after 1 came back */
	CHECK(!touch(3));
	CHECK(touch(2));
	struct bcache_stats st;
	bcache_get_stats(&st);
	CHECK_EQ(st.nbufs, 4);
	CHECK_EQ(st.evictions, 4);
	teardown();
}

TEST(referenced_and_dirty_buffers_stay)
{
	setup(1, 2 * BS);
	struct buf *held = get(0);
	struct buf *d = get(1);
	d->data[0] ^= 0xff;
	mark_dirty(d);
	brelse(d);
	CHECK_EQ(bcache_shrink(10), 0);        /* one held, one dirty: nothing can go */
	CHECK(!touch(1));                      /* the dirty block is still cached */
	CHECK_EQ(sync_dev(&disk), 0);          /* writes block 1, flushes */
	CHECK_EQ(disk_mem[BS], d->data[0]);
	CHECK_EQ(nflushes, 1);
	CHECK_EQ(bcache_shrink(10), 1);        /* now clean: evictable; block 0 is still held */
	CHECK(!touch(0));
	struct buf *h2 = get(1);               /* both held: a third block grows the cache */
	CHECK(touch(2));
	struct bcache_stats st;
	bcache_get_stats(&st);
	CHECK_EQ(st.nbufs, 3);
	brelse(h2);
	brelse(held);
	teardown();
}

TEST(dirty_buffers_are_written_to_keep_the_bound)
{
	setup(4, 8 * BS);
	for (int i = 0; i < 64; i++) {         /* a writer 8 times the cache size, no flusher */
		struct buf *b = get(100 + i);
		memset(b->data, 0x40 + i, BS);
		mark_dirty(b);
		brelse(b);
		struct bcache_stats st;
		bcache_get_stats(&st);
		CHECK(st.bytes <= 8 * BS);
	}
	struct bcache_stats st;
	bcache_get_stats(&st);
	CHECK(st.peak_bytes <= 8 * BS);
	CHECK_EQ(sync_dev(&disk), 0);
	for (int i = 0; i < 64; i++)
		CHECK_EQ(disk_mem[(100 + i) * BS + 3], 0x40 + i);
	teardown();
}

TEST(writeback_batches_neighbours_in_one_plug)
{
	setup(64, 1 << 20);
	for (int i = 10; i < 14; i++) {
		struct buf *b = get(i);
		memset(b->data, i, BS);
		mark_dirty(b);
		brelse(b);
	}
	struct bcache_stats st;
	bcache_get_stats(&st);
	CHECK_EQ(st.dirty, 4);
	CHECK_EQ(bcache_writeback(NULL, 100), 4);
	CHECK_EQ(nplugs, 1);
	CHECK_EQ(last_plug_bios, 4);
	for (int i = 10; i < 14; i++)
		CHECK_EQ(disk_mem[i * BS + 17], i);
	bcache_get_stats(&st);
	CHECK_EQ(st.dirty, 0);
	CHECK_EQ(bcache_writeback(NULL, 100), 0);    /* nothing left */
	teardown();
}

TEST(bwrite_and_bget)
{
	setup(8, 1 << 20);
	int err = 0;
	struct buf *b = bget(&disk, 20, BS, &err);
	CHECK(b && !(b->flags & B_VALID));
	CHECK_EQ(nreads, 0);
	memset(b->data, 0xab, BS);
	buf_set_valid(b);
	CHECK_EQ(bwrite(b), 0);
	CHECK_EQ(disk_mem[20 * BS + 5], 0xab);
	CHECK(!(b->flags & (B_DIRTY | B_WRITEBACK)));
	brelse(b);
	CHECK(!touch(20));                     /* valid: no read */
	teardown();
}

TEST(errors_are_eio)
{
	setup(8, 1 << 20);
	fail_sector = 30 * SPB;
	int err = 0;
	CHECK(bread(&disk, 30, BS, &err) == NULL);
	CHECK_EQ(err, -EIO);
	fail_sector = UINT64_MAX;
	CHECK(touch(30));                      /* the failed read was not cached as valid */
	struct buf *b = get(31);
	mark_dirty(b);
	brelse(b);
	fail_sector = 31 * SPB + 1;
	CHECK_EQ(sync_dev(&disk), -EIO);
	CHECK_EQ(sync_dev(&disk), 0);          /* reported once */
	b = get(32);
	mark_dirty(b);
	fail_sector = 32 * SPB;
	CHECK_EQ(bwrite(b), -EIO);
	brelse(b);
	fail_sector = UINT64_MAX;
	CHECK(bread(&disk, DISK_SECTORS / SPB, BS, &err) == NULL);   /* past the end */
	CHECK_EQ(err, -EINVAL);
	CHECK(bread(&disk, 0, 1000, &err) == NULL);                  /* not a power of two */
	CHECK_EQ(err, -EINVAL);
	teardown();
}

TEST(many_buckets_shrink_only_clean_unreferenced)
{
	setup(256, 1 << 20);
	struct buf *held[8];
	for (int i = 0; i < 200; i++)
		CHECK(touch(i));
	for (int i = 0; i < 8; i++)
		held[i] = get(i);
	for (int i = 8; i < 16; i++) {
		struct buf *b = get(i);
		mark_dirty(b);
		brelse(b);
	}
	CHECK_EQ(bcache_shrink(1000), 200 - 16);
	for (int i = 0; i < 16; i++)
		CHECK(!touch(i));
	for (int i = 0; i < 8; i++)
		brelse(held[i]);
	CHECK_EQ(sync_dev(&disk), 0);
	teardown();
}

/* bpeek finds only valid cached buffers, never reads; bcache_forget drops a device's clean,
 * unreferenced buffers and keeps the referenced and the dirty ones. */
TEST(peek_and_forget)
{
	setup(8, 1 << 20);
	CHECK(bpeek(&disk, 3, BS) == NULL);
	CHECK_EQ(nreads, 0);
	struct buf *a = get(3), *d = get(4), *r = get(6);
	brelse(a);
	CHECK(bpeek(&disk, 3, BS) == a);
	CHECK(bpeek(&disk, 3, BS / 2) == NULL);      /* another size is another buffer */
	brelse(a);
	CHECK_EQ(nreads, 3);
	mark_dirty(d);
	brelse(d);
	CHECK(disk.bcache_sizes & BS);
	CHECK_EQ(bcache_forget(&disk), 1);          /* 3 goes; 4 is dirty, 6 is referenced */
	CHECK(bpeek(&disk, 3, BS) == NULL);
	struct buf *again = bpeek(&disk, 4, BS);
	CHECK(again == d);
	brelse(again);
	brelse(r);
	bcache_writeback(&disk, 16);
	CHECK_EQ(bcache_forget(&disk), 2);
	teardown();
}

UNIT_TESTS(CASE(peek_and_forget), CASE(hit_and_miss_share_one_buffer), CASE(lru_evicts_least_recently_used),
	   CASE(referenced_and_dirty_buffers_stay), CASE(dirty_buffers_are_written_to_keep_the_bound),
	   CASE(writeback_batches_neighbours_in_one_plug),
	   CASE(bwrite_and_bget), CASE(errors_are_eio), CASE(many_buckets_shrink_only_clean_unreferenced))
