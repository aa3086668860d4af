/*
 * The block layer: disks and partitions, the request path, synchronous I/O.
 *
 * Theory. A driver registers a disk (blk_register_disk, from its probe, process context); the
 * layer names it (prefix + letter in registration order: vda, vdb ...), reads its partition table
 * (block/partition.c) and registers one block_device per partition (vda1 ...), all in one table.
 * Partitions have no ops: their bios are mapped onto the disk (bio->bdev->start) when requests are
 * built.
 *
 * Request path. submit_bio is a plug of one. A plug (blk_start_plug / blk_plug_add /
 * blk_finish_plug, on the caller's stack) collects bios; finishing it checks each (range, read-only
 * device), sorts the rest by disk sector and merges runs of adjacent sectors of the same direction
 * into requests (block/merge.c: up to BLK_MAX_SEGS buffers and BLK_MAX_REQ_SECTORS sectors each),
 * and hands them to the driver with `last` set on the final one, so the device is notified once
 * per batch. The driver ends each request (blk_request_done), usually in its interrupt handler;
 * that ends the request's bios and frees it.
 *
 * Waiting. A bio submitted with end == NULL (or bio_end_wake) is waited for with bio_wait, which
 * sleeps on one of BIO_WAIT_HASH wait queues chosen by the bio's address: the queues are static,
 * so a waker never touches a waiter's stack after the waiter has seen `done`.
 *
 * Locks: the device table is written only at boot by probe (bus_init, CPU 0) and read afterwards
 * without a lock; a driver keeps its own queue lock. Nothing here sleeps with a spinlock held.
 */
#include "block/blkdev.h"
#include "block/merge.h"
#include "block/partition.h"
#include "kernel/assert.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/wait.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define BIO_WAIT_HASH 64
#define BLK_DISK_MAJOR 254             /* virtblk's dynamic major on a typical Linux */
#define BLK_MINORS_PER_DISK 16         /* minor = disk index * 16 + partition number */
#define BLK_MAX_DISKS 26

static struct block_device *devices[BLK_MAX_DEVICES];
static int ndevices;
static struct waitq bio_waitqs[BIO_WAIT_HASH];
static bool waitqs_ready;

static struct waitq *bio_waitq(struct bio *b)
{
	return &bio_waitqs[((uintptr_t)b >> 6) % BIO_WAIT_HASH];
}

int blk_count(void) { return ndevices; }
struct block_device *blk_get(int i) { return i >= 0 && i < ndevices ? devices[i] : NULL; }

struct block_device *blk_lookup(const char *name)
{
	for (int i = 0; i < ndevices; i++)
		if (!strcmp(devices[i]->name, name))
			return devices[i];
	return NULL;
}

/* ---- ending bios and requests ---- */

static void bio_end(struct bio *b, int status)
{
	b->status = status;
	if (b->end)
		b->end(b);
	else
		bio_end_wake(b);
}

void bio_end_wake(struct bio *b)
{
	struct waitq *wq = bio_waitq(b);
	__atomic_store_n(&b->done, true, __ATOMIC_RELEASE);
	wake_all(wq);
}

int bio_wait(struct bio *b)
{
	might_sleep();
	wait_event(bio_waitq(b), __atomic_load_n(&b->done, __ATOMIC_ACQUIRE));
	return b->status;
}

void blk_request_done(struct blk_request *rq, int status)
{
	struct bio *b = rq->bios;
	__atomic_sub_fetch(&b->bdev->disk->inflight, 1, __ATOMIC_RELAXED);
	kfree(rq);
	while (b) {
		struct bio *next = b->next;      /* read before end: it may free or reuse b */
		bio_end(b, status);
		b = next;
	}
}

/* ---- the request path ---- */

void blk_start_plug(struct blk_plug *p)
{
	p->head = NULL;
	p->count = 0;
}

/* Does b pass the checks before it may reach the device? 0 or the error to end it with. */
static int bio_check(struct bio *b)
{
	struct block_device *bd = b->bdev, *disk = bd->disk;
	b->done = false;
	b->status = 0;
	if (b->op == BIO_FLUSH)
		return 0;
	if (b->op == BIO_WRITE && (disk->flags & BDEV_RO))
		return -EROFS;
	if (b->sector > bd->nsect || b->nsect > bd->nsect - b->sector)
		return -EINVAL;
	return 0;
}

void blk_plug_add(struct blk_plug *p, struct bio *b)
{
	int err = bio_check(b);
	if (err) {
		bio_end(b, err);
		return;
	}
	if (b->op == BIO_FLUSH && !(b->bdev->disk->flags & BDEV_FLUSH)) {
		bio_end(b, 0);                   /* no write cache: nothing to flush */
		return;
	}
	if (b->op != BIO_FLUSH && !b->nsect) {
		bio_end(b, 0);
		return;
	}
	b->next = p->head;
	p->head = b;
	p->count++;
}

static void queue_rq(struct blk_request *rq, bool last)
{
	struct block_device *disk = rq->bios->bdev->disk;
	uint32_t n = __atomic_add_fetch(&disk->inflight, 1, __ATOMIC_RELAXED);
	uint32_t m = __atomic_load_n(&disk->max_inflight, __ATOMIC_RELAXED);
	while (n > m && !__atomic_compare_exchange_n(&disk->max_inflight, &m, n, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	__atomic_add_fetch(&disk->nrequests, 1, __ATOMIC_RELAXED);
	for (struct bio *b = rq->bios; b; b = b->next)
		__atomic_add_fetch(&disk->nbios, 1, __ATOMIC_RELAXED);
	int err = disk->ops->submit(disk, rq, last);
	if (err)
		blk_request_done(rq, err);
}

void blk_finish_plug(struct blk_plug *p)
{
	/* the list was built by pushing; reverse it so equal sectors keep submission order (FLUSH
	 * after the writes queued before it), then sort */
	struct bio *rev = NULL;
	while (p->head) {
		struct bio *n = p->head->next;
		p->head->next = rev;
		rev = p->head;
		p->head = n;
	}
	/* a FLUSH must follow the writes submitted before it: keep flushes out of the sort and
	 * queue them after everything else of the batch */
	struct bio *flushes = NULL, **ft = &flushes, *rest = NULL, **rt = &rest;
	for (struct bio *b = rev, *n; b; b = n) {
		n = b->next;
		b->next = NULL;
		if (b->op == BIO_FLUSH) { *ft = b; ft = &b->next; }
		else { *rt = b; rt = &b->next; }
	}
	struct bio *b = blk_sort_bios(rest);
	p->head = NULL;
	p->count = 0;
	struct blk_request *rq = NULL;
	while (b || flushes) {
		struct bio *cur;
		if (b) { cur = b; b = b->next; }
		else { cur = flushes; flushes = flushes->next; }
		if (rq && blk_rq_can_merge(rq, cur)) {
			blk_rq_append(rq, cur);
			continue;
		}
		if (rq)
			queue_rq(rq, false);
		rq = kmalloc(sizeof(*rq));
		if (!rq) {
			cur->next = NULL;
			bio_end(cur, -ENOMEM);
			continue;
		}
		blk_rq_init(rq, cur);
	}
	if (rq)
		queue_rq(rq, true);
}

void submit_bio(struct bio *b)
{
	struct blk_plug p;
	blk_start_plug(&p);
	blk_plug_add(&p, b);
	blk_finish_plug(&p);
}

/* ---- synchronous I/O ---- */

#define BLK_RW_BATCH 16                /* bios in flight per blk_rw call */

int blk_rw(struct block_device *bdev, enum bio_op op, uint64_t sector, uint32_t nsect, void *buf)
{
	struct bio bios[BLK_RW_BATCH];
	int err = 0;
	uint8_t *p = buf;
	while (nsect && !err) {
		struct blk_plug plug;
		int n = 0;
		blk_start_plug(&plug);
		while (nsect && n < BLK_RW_BATCH) {
			uint32_t k = MIN(nsect, (uint32_t)BLK_MAX_REQ_SECTORS);
			struct bio *b = &bios[n++];
			memset(b, 0, sizeof(*b));
			b->bdev = bdev;
			b->op = op;
			b->sector = sector;
			b->nsect = k;
			b->buf = p;
			blk_plug_add(&plug, b);
			sector += k;
			nsect -= k;
			p += (size_t)k << SECTOR_SHIFT;
		}
		blk_finish_plug(&plug);
		for (int i = 0; i < n; i++) {
			int r = bio_wait(&bios[i]);
			if (r && !err)
				err = r;
		}
	}
	return err;
}

int blk_flush(struct block_device *bdev)
{
	struct bio b;
	memset(&b, 0, sizeof(b));
	b.bdev = bdev;
	b.op = BIO_FLUSH;
	submit_bio(&b);
	return bio_wait(&b);
}

/* ---- registration ---- */

static int add_device(struct block_device *bd)
{
	if (ndevices == BLK_MAX_DEVICES)
		return -ENOSPC;
	devices[ndevices++] = bd;
	return 0;
}

static int part_read(void *ctx, uint64_t lba, void *buf)
{
	struct block_device *disk = ctx;
	uint32_t spb = disk->block_size >> SECTOR_SHIFT;
	return blk_rw(disk, BIO_READ, lba * spb, spb, buf);
}

static void scan_partitions(struct block_device *disk, int index)
{
	uint32_t spb = disk->block_size >> SECTOR_SHIFT;
	void *scratch = kmalloc(2 * disk->block_size);
	struct part_info *parts = kmalloc(PART_MAX * sizeof(*parts));
	if (!scratch || !parts)
		goto out;
	int n = part_parse(part_read, disk, disk->block_size, disk->nsect / spb, scratch, parts, PART_MAX);
	if (n < 0)
		printk("%s: cannot read the partition table (%d)\n", disk->name, n);
	for (int i = 0; i < n; i++) {
		if (parts[i].partno >= BLK_MINORS_PER_DISK)
			continue;
		struct block_device *p = kzalloc(sizeof(*p));
		if (!p)
			break;
		snprintf(p->name, sizeof(p->name), "%s%d", disk->name, parts[i].partno);
		p->nsect = parts[i].nblocks * spb;
		p->start = parts[i].start * spb;
		p->block_size = disk->block_size;
		p->flags = disk->flags;
		p->disk = disk;
		p->partno = parts[i].partno;
		p->major = BLK_DISK_MAJOR;
		p->minor = index * BLK_MINORS_PER_DISK + parts[i].partno;
		if (add_device(p) < 0) {
			kfree(p);
			break;
		}
		printk("%s: partition %s, start %llu, %llu sectors\n", disk->name, p->name,
		       (unsigned long long)p->start, (unsigned long long)p->nsect);
	}
out:
	kfree(scratch);
	kfree(parts);
}

int blk_register_disk(struct block_device *disk, const char *prefix)
{
	static int ndisks;
	might_sleep();
	if (!waitqs_ready) {
		for (int i = 0; i < BIO_WAIT_HASH; i++)
			waitq_init(&bio_waitqs[i], "bio_wait");
		waitqs_ready = true;
	}
	if (ndisks == BLK_MAX_DISKS)
		return -ENOSPC;
	int index = ndisks++;
	snprintf(disk->name, sizeof(disk->name), "%s%c", prefix, 'a' + index);
	if (disk->block_size < SECTOR_SIZE)
		disk->block_size = SECTOR_SIZE;
	disk->disk = disk;
	disk->start = 0;
	disk->partno = 0;
	disk->major = BLK_DISK_MAJOR;
	disk->minor = index * BLK_MINORS_PER_DISK;
	int err = add_device(disk);
	if (err)
		return err;
	scan_partitions(disk, index);
	return 0;
}
