/*
 * Block device nodes: /dev/vda, /dev/vda1 ... for user programs (dd): read, write, lseek, fsync,
 * and the ioctls BLKGETSIZE64, BLKGETSIZE, BLKSSZGET, BLKROGET, BLKFLSBUF.
 *
 * I/O goes straight to the device (as O_DIRECT would, not through the buffer cache) through a
 * bounce buffer of up to BDEV_BOUNCE_MAX bytes per call: a request covers whole logical blocks
 * (512 bytes, or the device's larger block size: QEMU refuses smaller requests then), and a
 * write that starts or ends inside a block first reads that block (read-modify-write; two
 * writers of different bytes of one block at once may lose one of them). Reads at or past the
 * end return 0; writes there fail with ENOSPC; a write to a read-only disk fails with EPERM (as
 * on Linux 6.1, checked against the Linux guest; the block layer itself answers -EROFS);
 * device errors are EIO. fsync writes back the buffer cache's dirty blocks of the device and
 * sends FLUSH (sync_dev). Buffers cached by a file system on the device are not updated by
 * writes through the node.
 *
 * The nodes are made by bdev_nodes_create through the VFS's blkdev_register_node (fs/blkdev.h),
 * with these file ops for the node and whole-block read/write/flush for disk file systems (the
 * ext4 glue mounts from the struct blkdev the VFS finds behind the node).
 */
#include "block/bcache.h"
#include "block/blkdev.h"
#include "fs/blkdev.h"
#include "fs/fs.h"
#include "kernel/errno.h"
#include "kernel/init.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "mm/uaccess.h"

#define BDEV_BOUNCE_ORDER 6                 /* 256 KiB */
#define BDEV_BOUNCE_MAX (PAGE_SIZE << BDEV_BOUNCE_ORDER)

/* linux/fs.h */
#define BLKROGET 0x125e
#define BLKGETSIZE 0x1260
#define BLKFLSBUF 0x1261
#define BLKSSZGET 0x1268
#define BLKGETSIZE64 0x80081272

/* The node's inode holds the VFS's struct blkdev (fs/blkdev.h), whose priv is our disk. */
static struct block_device *node_bdev(struct file *f) { return blkdev_of(f->inode)->priv; }
static uint64_t bdev_bytes(struct block_device *bd) { return bd->nsect << SECTOR_SHIFT; }

/* A bounce buffer for n bytes: as large as wanted up to BDEV_BOUNCE_MAX, smaller if memory is
 * fragmented. */
static void *bounce_alloc(size_t n, unsigned *order)
{
	unsigned o = 0;
	while (o < BDEV_BOUNCE_ORDER && (PAGE_SIZE << o) < n)
		o++;
	for (;; o--) {
		void *p = alloc_pages(o, 0);
		if (p || !o) {
			*order = o;
			return p;
		}
	}
}

static long bdev_rw(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos, bool write)
{
	struct block_device *bd = node_bdev(f);
	uint64_t size = bdev_bytes(bd), off = *pos;
	size_t unit = bd->block_size;              /* devices take whole logical blocks */
	uint32_t spu = (uint32_t)(unit >> SECTOR_SHIFT);
	if (write && (bd->disk->flags & BDEV_RO))
		return -EPERM;                         /* Linux's blkdev_write_iter says EPERM, not EROFS */
	if (off >= size)
		return write && n ? -ENOSPC : 0;
	n = MIN((uint64_t)n, size - off);
	if (!n)
		return 0;
	unsigned order;
	uint8_t *bounce = bounce_alloc(n + 2 * unit, &order);
	if (!bounce)
		return -ENOMEM;
	size_t cap = PAGE_SIZE << order, done = 0;
	if (cap < 2 * unit) {
		free_pages(bounce, order);
		return -ENOMEM;
	}
	long err = 0;
	while (done < n) {
		uint64_t o = off + done;
		uint64_t blk = o / unit;
		size_t in = o % unit;
		size_t k = MIN(n - done, cap - in);
		uint32_t nblk = (uint32_t)((in + k + unit - 1) / unit);
		if (!write) {
			err = blk_rw(bd, BIO_READ, blk * spu, nblk * spu, bounce);
			if (!err && copy_to_user(ubuf + done, bounce + in, k))
				err = -EFAULT;
		} else {
			/* partial first or last block: read it first */
			if (in)
				err = blk_rw(bd, BIO_READ, blk * spu, spu, bounce);
			size_t tail = (in + k) % unit;
			if (!err && tail && (nblk > 1 || !in))
				err = blk_rw(bd, BIO_READ, (blk + nblk - 1) * spu, spu, bounce + (size_t)(nblk - 1) * unit);
			if (!err && copy_from_user(bounce + in, ubuf + done, k))
				err = -EFAULT;
			if (!err)
				err = blk_rw(bd, BIO_WRITE, blk * spu, nblk * spu, bounce);
		}
		if (err)
			break;
		done += k;
	}
	free_pages(bounce, order);
	if (err == -EINVAL || err == -EOPNOTSUPP)
		err = -EIO;
	*pos = off + done;
	return done ? (long)done : err;
}

static long bdev_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos) { return bdev_rw(f, ubuf, n, pos, false); }
static long bdev_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos) { return bdev_rw(f, ubuf, n, pos, true); }

static long bdev_llseek(struct file *f, long off, int whence)
{
	long base;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (long)f->pos; break;
	case SEEK_END: base = (long)bdev_bytes(node_bdev(f)); break;
	default: return -EINVAL;
	}
	long to;
	if (__builtin_add_overflow(base, off, &to) || to < 0)
		return -EINVAL;
	return (long)(f->pos = (uint64_t)to);
}

static long put_u64(unsigned long arg, uint64_t v) { return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0; }
static long put_int(unsigned long arg, int v) { return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0; }

static long bdev_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
	struct block_device *bd = node_bdev(f);
	switch (cmd) {
	case BLKGETSIZE64: return put_u64(arg, bdev_bytes(bd));
	case BLKGETSIZE: return put_u64(arg, bd->nsect);
	case BLKSSZGET: return put_int(arg, (int)bd->block_size);
	case BLKROGET: return put_int(arg, !!(bd->disk->flags & BDEV_RO));
	case BLKFLSBUF: return sync_dev(bd);
	}
	return -ENOTTY;
}

static const struct file_ops bdev_fops = {
	.read = bdev_read,
	.write = bdev_write,
	.llseek = bdev_llseek,
	.ioctl = bdev_ioctl,
};

/* The VFS side (fs/blkdev.h): whole device blocks of block_size bytes, for disk file systems'
 * glue (ext4) and the VFS's own node code; fsync on the node and a file system's flush come here
 * as flush (write back the buffer cache's dirty blocks of the device, then FLUSH).
 *
 * A transfer of exactly one block of the file system mounted on the device (its glue says the
 * size through cache_blocks: metadata, a small file's block) goes through the buffer cache:
 * reads are hits after the first time, writes go through it to the disk at once, so the file
 * system's own ordering (its journal and its flushes) stays exactly what it was without a cache.
 * Other transfers (file data runs, the superblock read at mount) go straight to the disk, and a
 * write updates whatever whole buffers of its range are cached, of any size (bcache_sizes). */
#define CACHED_MAX 4096                     /* the buffer cache's largest buffers */

static bool one_buffer(struct block_device *bd, uint64_t sector, uint32_t nsect)
{
	uint32_t size = READ_ONCE(bd->fs_block_size);
	return size && ((uint64_t)nsect << SECTOR_SHIFT) == size && !((sector << SECTOR_SHIFT) & (size - 1));
}

static void vfs_cache_blocks(void *priv, uint32_t size)
{
	struct block_device *bd = priv;
	bool ok = size >= bd->block_size && size >= SECTOR_SIZE && size <= CACHED_MAX && !(size & (size - 1));
	WRITE_ONCE(bd->fs_block_size, ok ? size : 0);
	if (!size)
		bcache_forget(bd);                   /* unmounted: nothing stale for the next user */
}

/* Cached whole buffers of [sector, sector+nsect), of every size but skip, get the bytes written. */
static void update_cached(struct block_device *bd, uint64_t sector, uint32_t nsect, const uint8_t *src,
			  uint32_t skip)
{
	uint32_t sizes = __atomic_load_n(&bd->bcache_sizes, __ATOMIC_RELAXED) & ~skip;
	for (uint32_t size = SECTOR_SIZE; size <= CACHED_MAX; size <<= 1) {
		if (!(sizes & size))
			continue;
		uint32_t spb = size >> SECTOR_SHIFT;
		for (uint64_t blk = (sector + spb - 1) / spb; (blk + 1) * spb <= sector + nsect; blk++) {
			struct buf *b = bpeek(bd, blk, size);
			if (b) {
				memcpy(b->data, src + ((blk * spb - sector) << SECTOR_SHIFT), size);
				brelse(b);
			}
		}
	}
}

static int vfs_read_blocks(void *priv, uint64_t blk, uint32_t count, void *buf)
{
	struct block_device *bd = priv;
	uint32_t spb = bd->block_size >> SECTOR_SHIFT;
	uint64_t sector = blk * spb;
	uint32_t nsect = count * spb;
	int err = 0;
	if (one_buffer(bd, sector, nsect)) {
		uint32_t size = nsect << SECTOR_SHIFT;
		struct buf *b = bread(bd, sector / nsect, size, &err);
		if (b) {
			memcpy(buf, b->data, size);
			brelse(b);
			return 0;
		}
		if (err != -ENOMEM)
			return -EIO;
	}
	err = blk_rw(bd, BIO_READ, sector, nsect, buf);
	return err == -EINVAL || err == -EOPNOTSUPP ? -EIO : err;
}

static int vfs_write_blocks(void *priv, uint64_t blk, uint32_t count, const void *buf)
{
	struct block_device *bd = priv;
	uint32_t spb = bd->block_size >> SECTOR_SHIFT;
	uint64_t sector = blk * spb;
	uint32_t nsect = count * spb;
	int err = 0;
	if (one_buffer(bd, sector, nsect)) {
		uint32_t size = nsect << SECTOR_SHIFT;
		struct buf *b = bget(bd, sector / nsect, size, &err);
		if (b) {
			memcpy(b->data, buf, size);
			buf_set_valid(b);
			err = bwrite(b);                 /* through to the disk now */
			brelse(b);
			update_cached(bd, sector, nsect, buf, size);
			return err ? -EIO : 0;
		}
	}
	err = blk_rw(bd, BIO_WRITE, sector, nsect, (void *)buf);
	if (!err)
		update_cached(bd, sector, nsect, buf, 0);
	return err == -EINVAL || err == -EOPNOTSUPP ? -EIO : err;
}

static int vfs_flush(void *priv) { return sync_dev(priv); }

static const struct blkdev_ops vfs_blkdev_ops = {
	.read_blocks = vfs_read_blocks,
	.write_blocks = vfs_write_blocks,
	.flush = vfs_flush,
	.cache_blocks = vfs_cache_blocks,
	.fops = &bdev_fops,                 /* the node: bounce-buffered direct I/O, BLK* ioctls */
};

/* sync(2) (fs/sync.c's weak hook): every device's dirty cached blocks. */
int block_sync_all(void) { return bcache_sync_all(); }

/* /dev/<name> for every registered block device, through the VFS's blkdev_register_node. */
static void bdev_nodes_create(void)
{
	for (int i = 0; i < blk_count(); i++) {
		struct block_device *bd = blk_get(i);
		struct blkdev_geom geom = {
			.block_size = bd->block_size,
			.block_count = bd->nsect / (bd->block_size >> SECTOR_SHIFT),
			.major = bd->major,
			.minor = bd->minor,
			.readonly = !!(bd->disk->flags & BDEV_RO),
		};
		int err;
		if (!blkdev_register_node(bd->name, &vfs_blkdev_ops, bd, &geom, &err))
			printk("%s: cannot create /dev/%s (%d)\n", bd->name, bd->name, err);
	}
}
late_init(bdev_nodes_create);
