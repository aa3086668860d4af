/*
 * How a disk file system (ext4, through fs/ext4/ext4_vfs.c) plugs into the VFS.
 *
 *  1. Register a struct fs_type with FS_REQUIRES_DEV (register_filesystem, at boot). mount(2)
 *     resolves the source path to a block device node and calls
 *        type->mount(type, bdev, ms_flags, data, &sb)
 *     with the struct blkdev (fs/blkdev.h): geometry in bdev->geom, I/O through
 *     bdev->ops->read_blocks / write_blocks / flush (bdev->priv), or byte-granular blkdev_rw.
 *     MS_RDONLY in ms_flags asks for a read-only mount (sb->flags |= SB_RDONLY); a device with
 *     geom.readonly must be mounted read-only (-EROFS otherwise, or go read-only as ext4 does).
 *  2. The mount op makes a super block with sb_alloc(type, &ops, magic), sets sb->dev to the
 *     device's number (linux_dev(geom.major, geom.minor)) and sb->bdev, calls icache_init(sb),
 *     and sets sb->root to the root directory's inode (referenced).
 *  3. Inodes: one VFS inode per inode number, found through the inode cache:
 *        ino = icache_find(sb, nr);                    referenced, or NULL
 *        ... else allocate the fs's inode (embedding struct inode), inode_init(&vfs, sb, mode, nr),
 *        fill size, nlink, times, blocks, rdev, iops and fops (generic_file_ops for regular
 *        files, generic_dir_ops for directories: fs/internal.h), then
 *        ino = icache_insert(&vfs);                    if another won the race, that one comes
 *                                                      back referenced: free your own copy
 *     The VFS removes an inode from the cache at its last inode_put, under the cache's lock, then
 *     calls super_ops->evict, which frees it (and, for an unlinked inode, its blocks).
 *  4. inode_ops (fs/fs.h) map one to one onto a library that works on (dir, name) pairs; they may
 *     sleep, so a per-mount sleeplock around the library is fine. After a change, refresh the
 *     VFS fields (size, nlink, times) of the inodes involved that are in the cache.
 *  5. super_ops: statfs (the VFS presets f_type from the magic, f_fsid, f_flags), sync (sync(2),
 *     syncfs, fsync without an inode op, umount of the last mount), remount (MS_RDONLY toggles),
 *     kill at the last reference (write back, release the root, icache_destroy, free).
 * What the VFS checks before calling (EROFS, EXDEV, EBUSY, names) is listed above inode_ops.
 */
#ifndef KERNEL_FS_VFS_DISK_H
#define KERNEL_FS_VFS_DISK_H
#include "fs/fs.h"
#include "fs/blkdev.h"

int icache_init(struct super_block *sb);
void icache_destroy(struct super_block *sb);            /* every inode must be gone */
struct inode *icache_find(struct super_block *sb, uint64_t nr);
struct inode *icache_insert(struct inode *ino);
/* The reference count of cached inode nr (0: not cached), without taking one: for callbacks
 * that run under the fs's own locks, where an inode_put (and its evict) must not happen. */
uint32_t icache_refs(struct super_block *sb, uint64_t nr);
/* Does any cached inode satisfy pred (called under the cache's spinlock: no sleeping)? */
bool icache_any(struct super_block *sb, bool (*pred)(struct inode *ino));
/* Takes ino out of the cache (its number was freed and may be reused; holders keep the object). */
void icache_remove(struct inode *ino);

/* For the glue's ops (fs/inode.c). */
extern const struct file_ops generic_file_ops, generic_dir_ops, generic_symlink_ops;
uint64_t fs_now(void);

#endif
