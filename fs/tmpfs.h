/*
 * tmpfs internals shared with the RAM file systems built on it (proc, devtmpfs, the root's
 * rootfs) and the initramfs unpacker. Everyone else sees tmpfs only through the VFS ops.
 */
#ifndef KERNEL_FS_TMPFS_H
#define KERNEL_FS_TMPFS_H
#include "fs/fs.h"

#define TMPFS_MAGIC      0x01021994
#define TMPFS_MAX_SIZE   (1ULL << 44)   /* 16 TiB: EFBIG beyond */
#define DIR_FIRST_COOKIE 2              /* getdents offsets: 0 = ".", 1 = ".." */

/* Every tmpfs directory of every tmpfs super block: entry lists, parent pointers, nlink.
 * Taken inside no other spinlock but mount_lock-free code; never held across a sleep. */
extern struct spinlock ns_lock;

struct tmpfs_inode {
	struct inode vfs;
	struct inode *parent;           /* directories: "..", holding a reference (ns_lock) */
	union {
		struct { struct list_head entries; uint64_t next_cookie, count; } dir;   /* ns_lock */
		struct { paddr_t root; int height; uint64_t pages; } reg;              /* vfs.lock */
		char *symlink;                                                          /* immutable */
	};
};
#define TMPFS_I(ino) container_of(ino, struct tmpfs_inode, vfs)

/* A name in a directory. Holds a reference on its inode. */
struct dirent_node {
	struct list_head node;          /* dir.entries, in insertion order */
	uint64_t cookie;                /* getdents offset; increases along the list */
	struct inode *inode;
	uint16_t len;
	char name[];
};

/* A tmpfs super block of type t (its root a directory of mode S_IFDIR|perm). */
struct super_block *tmpfs_sb_new(const struct fs_type *t, uint64_t magic, uint32_t perm);

/* ---- under ns_lock; results borrowed ---- */
struct inode *tmpfs_dir_lookup(struct inode *dir, const char *name, size_t len);
struct dirent_node *tmpfs_dir_find(struct inode *dir, const char *name, size_t len);
/* Makes an inode (type and perm in mode) and links it at dir/name. */
struct inode *tmpfs_new_node(struct inode *dir, const char *name, size_t len, uint32_t mode, int *err);
/* Walks path[0, upto) from dir creating missing directories (S_IFDIR|perm); returns the last. */
struct inode *tmpfs_mkdirs(struct inode *dir, const char *path, size_t upto, uint32_t perm, int *err);
int tmpfs_dir_link(struct inode *dir, const char *name, size_t len, struct inode *ino);
struct inode *tmpfs_dir_unlink(struct inode *dir, struct dirent_node *d);   /* caller puts it */
int tmpfs_new_symlink(struct inode *dir, const char *name, size_t len, const char *target);
/* Creates a node at path (relative to root; missing directories made 0555) with the given ops. */
int tmpfs_make_node(struct inode *root, const char *path, uint32_t mode, uint32_t rdev,
		    const struct file_ops *fops, const struct inode_ops *iops, void *priv);

/* ---- tmpfs_data.c: regular file contents ---- */
long tmpfs_read(struct inode *ino, void *buf, size_t n, uint64_t pos, bool user);
long tmpfs_write(struct inode *ino, const void *buf, size_t n, uint64_t *pos, bool append, bool user);
int tmpfs_truncate(struct inode *ino, uint64_t size);        /* takes ino->rw */
int tmpfs_get_page(struct inode *ino, uint64_t pgoff, paddr_t *pa);
int tmpfs_find_page(struct inode *ino, uint64_t pgoff, paddr_t *pa);    /* no allocation: -ENOENT */
int tmpfs_fallocate(struct inode *ino, int mode, uint64_t off, uint64_t len);
void tmpfs_free_data(struct inode *ino);

extern const struct inode_ops tmpfs_dir_iops, tmpfs_file_iops, tmpfs_symlink_iops;
extern const struct super_ops tmpfs_super_ops;

#endif
