/*
 * Block device nodes: how the block layer (block/, drivers/virtio-blk) plugs devices into the
 * file layer without touching fs/, and what disk file systems get to read from.
 *
 * The block layer calls blkdev_register_node("vda", &ops, priv, &geom): /dev/vda appears as an
 * S_IFBLK node with the given device number. Opening it uses ops->fops if the block layer gives
 * its own (e.g. through its cache), else generic file ops here that turn byte reads and writes
 * into whole-block read_blocks/write_blocks calls (read-modify-write at unaligned edges, one
 * caller at a time per device), with fsync -> flush, lseek, and the BLKGETSIZE64 and BLKSSZGET
 * ioctls. mount(2) of a FS_REQUIRES_DEV type finds the struct blkdev through the node
 * (blkdev_of) and hands it to the type's mount op (see fs/vfs_disk.h).
 */
#ifndef KERNEL_FS_BLKDEV_H
#define KERNEL_FS_BLKDEV_H
#include "fs/fs.h"

#define BLKDEV_NAME_MAX 16

/* What a block device driver or the block layer supplies. Blocks are of geom.block_size bytes;
 * callbacks return 0 or -errno (-EIO, -EROFS) and may sleep. */
struct blkdev_ops {
	int (*read_blocks)(void *priv, uint64_t blk, uint32_t count, void *buf);
	int (*write_blocks)(void *priv, uint64_t blk, uint32_t count, const void *buf);
	int (*flush)(void *priv);                   /* durable; NULL: nothing to do */
	/* A file system mounted on it reads and writes metadata in blocks of size bytes (0: none
	 * now): the block layer may cache those. NULL: no cache. */
	void (*cache_blocks)(void *priv, uint32_t size);
	const struct file_ops *fops;                /* the node's file ops instead of the generic ones */
};

struct blkdev_geom {
	uint32_t block_size;                        /* a power of two, 512 .. 4096 */
	uint64_t block_count;
	unsigned major, minor;                      /* st_rdev of the node */
	bool readonly;
};

struct blkdev {
	char name[BLKDEV_NAME_MAX];
	const struct blkdev_ops *ops;
	void *priv;
	struct blkdev_geom geom;
	struct sleeplock lock;                      /* the generic node's block-edge buffer */
};

/* Creates /dev/<name> (in devtmpfs, whether or not /dev is mounted yet). The returned device
 * lives for ever. NULL on failure (-EEXIST name, no memory: *err). */
struct blkdev *blkdev_register_node(const char *name, const struct blkdev_ops *ops, void *priv,
				    const struct blkdev_geom *geom, int *err);
struct blkdev *blkdev_of(struct inode *ino);        /* the device behind a node, or NULL */
/* Byte-granular I/O on a device (kernel buffers): for disk file systems' glue and the node. */
long blkdev_rw(struct blkdev *bd, void *buf, size_t n, uint64_t off, bool write, bool user);

#endif
