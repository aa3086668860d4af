/*
 * The test kernel's block commands (monitor): `blk` lists the block devices with their request
 * counters; `blkdepth` puts many requests in flight at once; `bcachetest` drives the buffer cache
 * against a disk (the system test checks the image afterwards). Only in kernel-test.elf.
 */
#include "block/bcache.h"
#include "block/blkdev.h"
#include "kernel/debug/monitor.h"
#include "kernel/init.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/page.h"

#define BLKDEPTH_MAX 1024
#define BLKDEPTH_STRIDE 8              /* sectors between requests: never adjacent, never merged */

static unsigned long num(const char *s)
{
	unsigned long v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (unsigned long)(*s++ - '0');
	return v;
}

static struct block_device *dev_arg(int argc, char **argv)
{
	struct block_device *bd = argc > 1 ? blk_lookup(argv[1]) : NULL;
	if (!bd)
		printk("no such block device\n");
	return bd;
}

static void cmd_blk(int argc, char **argv)
{
	(void)argc; (void)argv;
	for (int i = 0; i < blk_count(); i++) {
		struct block_device *d = blk_get(i);
		printk("%-6s %10llu sectors  block %4u  %s%s", d->name, (unsigned long long)d->nsect, d->block_size,
		       d->flags & BDEV_RO ? "ro " : "rw ", d->flags & BDEV_FLUSH ? "flush " : "");
		if (d->disk == d)
			printk(" requests %llu bios %llu max_inflight %u", (unsigned long long)d->nrequests,
			       (unsigned long long)d->nbios, d->max_inflight);
		else
			printk(" start %llu", (unsigned long long)d->start);
		printk("\n");
	}
	struct bcache_stats st;
	bcache_get_stats(&st);
	printk("bcache: %llu bufs %llu bytes (peak %llu, bound %llu) dirty %llu hits %llu misses %llu evictions %llu "
	       "writebacks %llu errors %llu\n", (unsigned long long)st.nbufs, (unsigned long long)st.bytes,
	       (unsigned long long)st.peak_bytes, (unsigned long long)st.max_bytes, (unsigned long long)st.dirty, (unsigned long long)st.hits,
	       (unsigned long long)st.misses, (unsigned long long)st.evictions, (unsigned long long)st.writebacks,
	       (unsigned long long)st.write_errors);
}

/* blkdepth <dev> <n>: n one-block reads of scattered blocks in one plug; reports the most
 * requests the disk had in flight at once. */
static void cmd_blkdepth(int argc, char **argv)
{
	struct block_device *bd = dev_arg(argc, argv);
	unsigned n = argc > 2 ? (unsigned)num(argv[2]) : 128;
	if (!bd || !n || n > BLKDEPTH_MAX)
		return;
	uint32_t spb = bd->block_size >> SECTOR_SHIFT, stride = spb * BLKDEPTH_STRIDE;
	if ((uint64_t)n * stride > bd->nsect) {
		printk("blkdepth: device too small\n");
		return;
	}
	struct bio *bios = kzalloc(n * sizeof(*bios));
	uint8_t *mem = kmalloc((size_t)n * bd->block_size);
	if (!bios || !mem) {
		printk("blkdepth: no memory\n");
		goto out;
	}
	bd->disk->max_inflight = 0;
	struct blk_plug plug;
	blk_start_plug(&plug);
	for (unsigned i = 0; i < n; i++) {
		bios[i].bdev = bd;
		bios[i].op = BIO_READ;
		bios[i].sector = (uint64_t)i * stride;
		bios[i].nsect = spb;
		bios[i].buf = mem + (size_t)i * bd->block_size;
		blk_plug_add(&plug, &bios[i]);
	}
	blk_finish_plug(&plug);
	int errors = 0;
	for (unsigned i = 0; i < n; i++)
		errors += bio_wait(&bios[i]) != 0;
	printk("blkdepth: %u requests, %d errors, max in flight %u\n", n, errors, bd->disk->max_inflight);
out:
	kfree(bios);
	kfree(mem);
}

/* bcachetest <dev> <nblocks> <size>: through the cache, fill block i with byte (i * 7 + 1) & 0xff
 * after checking that bread saw what a raw read sees; sync; evict everything; read back. */
static void cmd_bcachetest(int argc, char **argv)
{
	struct block_device *bd = dev_arg(argc, argv);
	unsigned n = argc > 2 ? (unsigned)num(argv[2]) : 64;
	uint32_t size = argc > 3 ? (uint32_t)num(argv[3]) : 1024;
	if (!bd)
		return;
	uint8_t *raw = kmalloc(size);
	int bad = 0, err = 0;
	if (!raw) {
		printk("bcachetest: no memory\n");
		return;
	}
	for (unsigned i = 0; i < n && !bad; i++) {
		struct buf *b = bread(bd, i, size, &err);
		if (!b || blk_rw(bd, BIO_READ, (uint64_t)i * (size >> SECTOR_SHIFT), size >> SECTOR_SHIFT, raw) ||
		    memcmp(b->data, raw, size)) {
			printk("bcachetest: block %u: bread %d differs from the disk\n", i, err);
			bad++;
		}
		if (b) {
			memset(b->data, (i * 7 + 1) & 0xff, size);
			mark_dirty(b);
			brelse(b);
		}
	}
	int s = sync_dev(bd);
	bcache_shrink(UINT32_MAX);
	for (unsigned i = 0; i < n && !bad; i++) {
		struct buf *b = bread(bd, i, size, &err);
		if (!b || b->data[size - 1] != ((i * 7 + 1) & 0xff)) {
			printk("bcachetest: block %u wrong after sync and eviction\n", i);
			bad++;
		}
		brelse(b);
	}
	struct bcache_stats st;
	bcache_get_stats(&st);
	printk("bcachetest: %s, %u blocks, sync %d, writebacks %llu, evictions %llu\n", bad ? "FAILED" : "ok", n, s,
	       (unsigned long long)st.writebacks, (unsigned long long)st.evictions);
	kfree(raw);
}

/* blkwrite <dev> <sector>: one zeroed sector written with blk_rw; prints the result (-30, EROFS,
 * on a read-only disk). */
static void cmd_blkwrite(int argc, char **argv)
{
	struct block_device *bd = dev_arg(argc, argv);
	if (!bd)
		return;
	uint8_t *z = kzalloc(bd->block_size);
	if (!z)
		return;
	uint32_t spb = bd->block_size >> SECTOR_SHIFT;
	int r = blk_rw(bd, BIO_WRITE, argc > 2 ? num(argv[2]) * spb : 0, spb, z);
	printk("blkwrite: %d\n", r);
	kfree(z);
}

static void blkcmd_init(void)
{
	monitor_add_command("blkwrite", "blkwrite <dev> <block>: write one zeroed block, print the result", cmd_blkwrite);
	monitor_add_command("blk", "block devices and the buffer cache", cmd_blk);
	monitor_add_command("blkdepth", "blkdepth <dev> <n>: n scattered reads at once, max in flight", cmd_blkdepth);
	monitor_add_command("bcachetest", "bcachetest <dev> <nblocks> <size>: write blocks through the cache", cmd_bcachetest);
}
debug_init(blkcmd_init);
