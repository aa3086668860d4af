/*
 * The only way fs/ext4/ reaches storage: a block device described by this struct. The kernel's
 * block layer (block/) or a host unit test (an image file) fills it in. Blocks here are DEVICE
 * blocks of `block_size` bytes (512, 1024, 4096 ...); the file system's block size must be a
 * multiple of it. Callbacks return 0 or a negative errno (-EIO); they may sleep.
 */
#ifndef FS_EXT4_BDEV_H
#define FS_EXT4_BDEV_H
#include "kernel/types.h"

struct ext4_bdev {
	uint32_t block_size;          /* bytes per device block, a power of two <= 4096 */
	uint64_t block_count;         /* device size in blocks */
	int (*read_blocks)(struct ext4_bdev *bd, uint64_t blk, uint32_t count, void *buf);
	int (*write_blocks)(struct ext4_bdev *bd, uint64_t blk, uint32_t count, const void *buf);
	int (*flush)(struct ext4_bdev *bd);    /* make written blocks durable; may be NULL */
	void *priv;                   /* the owner's */
};

#endif
