/*
 * Block device nodes (interface and theory: fs/blkdev.h).
 *
 * Locks: bd->lock (sleeplock) serializes the generic node's transfers on one device, because
 * unaligned writes read, modify and write back whole blocks; it is held across the driver's
 * callbacks (which may sleep) and across user copies, never inside a spinlock.
 */
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "fs/blkdev.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define BOUNCE_SIZE (16 * 1024)              /* bytes moved per driver call at most */
#define BLKGETSIZE64 0x80081272UL
#define BLKSSZGET    0x1268UL
#define BLKFLSBUF    0x1261UL

static int blk_fsync(struct inode *ino, bool datasync)
{
	(void)datasync;
	struct blkdev *bd = ino->priv;
	return bd->ops->flush ? bd->ops->flush(bd->priv) : 0;
}

static const struct inode_ops blkdev_iops = { .fsync = blk_fsync };

struct blkdev *blkdev_of(struct inode *ino)
{
	return S_ISBLK(ino->mode) && ino->iops == &blkdev_iops ? ino->priv : NULL;
}

static uint64_t dev_bytes(struct blkdev *bd) { return bd->geom.block_count * bd->geom.block_size; }

long blkdev_rw(struct blkdev *bd, void *buf, size_t n, uint64_t off, bool write, bool user)
{
	uint32_t bs = bd->geom.block_size;
	uint64_t size = dev_bytes(bd);
	if (write && bd->geom.readonly)
		return -EROFS;
	if (off >= size)
		return write && n ? -ENOSPC : 0;
	n = MIN(n, size - off);
	char *bounce = kmalloc(BOUNCE_SIZE);
	if (!bounce)
		return -ENOMEM;
	size_t done = 0;
	long err = 0;
	sleep_lock(&bd->lock);
	while (done < n) {
		uint64_t at = off + done;
		uint64_t blk = at / bs;
		size_t skip = at % bs;
		size_t chunk = MIN(n - done, (size_t)BOUNCE_SIZE - skip);
		uint32_t count = (skip + chunk + bs - 1) / bs;
		char *p = (char *)buf + done;
		if (!write || skip || (skip + chunk) % bs) {     /* reads, and partial blocks to merge */
			if ((err = bd->ops->read_blocks(bd->priv, blk, count, bounce)))
				break;
		}
		if (write) {
			if (user ? copy_from_user(bounce + skip, (uintptr_t)p, chunk) : (memcpy(bounce + skip, p, chunk), 0)) {
				err = -EFAULT;
				break;
			}
			if ((err = bd->ops->write_blocks(bd->priv, blk, count, bounce)))
				break;
		} else if (user ? copy_to_user((uintptr_t)p, bounce + skip, chunk) : (memcpy(p, bounce + skip, chunk), 0)) {
			err = -EFAULT;
			break;
		}
		done += chunk;
	}
	sleep_unlock(&bd->lock);
	kfree(bounce);
	return done ? (long)done : err;
}

static long node_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	long r = blkdev_rw(f->inode->priv, (void *)ubuf, n, *pos, false, true);
	if (r > 0)
		*pos += r;
	return r;
}

static long node_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	long r = blkdev_rw(f->inode->priv, (void *)ubuf, n, *pos, true, true);
	if (r > 0) {
		*pos += r;
		if (f->f_flags & O_DSYNC) {
			int err = blk_fsync(f->inode, true);
			r = err ? err : r;
		}
	}
	return r;
}

static long node_llseek(struct file *f, long off, int whence)
{
	return generic_llseek(f, off, whence, dev_bytes(f->inode->priv));
}

static long node_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
	struct blkdev *bd = f->inode->priv;
	if (cmd == BLKGETSIZE64) {
		uint64_t size = dev_bytes(bd);
		return copy_to_user(arg, &size, sizeof(size));
	}
	if (cmd == BLKSSZGET) {
		int bs = bd->geom.block_size;
		return copy_to_user(arg, &bs, sizeof(bs));
	}
	if (cmd == BLKFLSBUF)
		return 0;
	return -ENOTTY;
}

static const struct file_ops blkdev_node_ops = {
	.read = node_read,
	.write = node_write,
	.llseek = node_llseek,
	.ioctl = node_ioctl,
};

struct blkdev *blkdev_register_node(const char *name, const struct blkdev_ops *ops, void *priv,
				    const struct blkdev_geom *geom, int *err)
{
	size_t len = strlen(name);
	uint32_t bs = geom->block_size;
	if (len == 0 || len >= BLKDEV_NAME_MAX || strchr(name, '/') || bs < 512 || bs > 4096 ||
	    (bs & (bs - 1)) || !ops->read_blocks || !ops->write_blocks) {
		*err = -EINVAL;
		return NULL;
	}
	struct blkdev *bd = kzalloc(sizeof(*bd));
	if (!bd) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(bd->name, name, len + 1);
	bd->ops = ops;
	bd->priv = priv;
	bd->geom = *geom;
	sleeplock_init(&bd->lock, "blkdev");
	*err = tmpfs_make_node(dev_sb->root, name, S_IFBLK | 0660, linux_dev(geom->major, geom->minor),
			       ops->fops ? ops->fops : &blkdev_node_ops, &blkdev_iops, bd);
	if (*err) {
		kfree(bd);
		return NULL;
	}
	return bd;
}
