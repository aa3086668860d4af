/*
 * File system types and super blocks.
 *
 * The registry is a singly linked list of struct fs_type (register_filesystem, find_filesystem),
 * guarded by types_lock; types are never unregistered. A super block is made by its type's
 * mount op (sb_alloc gives it a fresh anonymous st_dev, 0:N, as Linux's get_anon_bdev) and is
 * reference counted by the mounts that show it; the last sb_put calls super_ops->kill (or puts
 * the root and frees it). Types whose instances are shared (proc, devtmpfs) keep one reference
 * of their own, so that super block lives for ever and every mount of the type shows it.
 *
 * The RAM types registered here: tmpfs (a new instance per mount), proc and devtmpfs (one shared
 * instance each, both tmpfs underneath with generated files and device nodes). The boot root is
 * a tmpfs instance of the unregistered type "rootfs".
 */
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "mm/kmalloc.h"
#include "lib/string.h"

#define ANON_DEV_FIRST 20                    /* anonymous st_dev minors start here (0:20 is /) */
#define PROC_SUPER_MAGIC 0x9fa0

static struct spinlock types_lock = SPINLOCK_INIT("fs_types");
static struct fs_type *types;
static uint32_t next_anon = ANON_DEV_FIRST;  /* atomic */

struct super_block *dev_sb, *proc_sb;

int register_filesystem(struct fs_type *t)
{
	spin_lock(&types_lock);
	for (struct fs_type *p = types; p; p = p->next) {
		if (strcmp(p->name, t->name) == 0) {
			spin_unlock(&types_lock);
			return -EBUSY;
		}
	}
	t->next = types;
	types = t;
	spin_unlock(&types_lock);
	return 0;
}

const struct fs_type *find_filesystem(const char *name)
{
	spin_lock(&types_lock);
	struct fs_type *p = types;
	while (p && strcmp(p->name, name) != 0)
		p = p->next;
	spin_unlock(&types_lock);
	return p;
}

const struct fs_type *fs_type_next(const struct fs_type *prev)
{
	spin_lock(&types_lock);                      /* types are never unregistered */
	const struct fs_type *p = prev ? prev->next : types;
	spin_unlock(&types_lock);
	return p;
}

struct super_block *sb_alloc(const struct fs_type *t, const struct super_ops *ops, uint64_t magic)
{
	struct super_block *sb = kzalloc(sizeof(*sb));
	if (!sb)
		return NULL;
	sb->type = t;
	sb->ops = ops;
	sb->magic = magic;
	sb->refcount = 1;
	sb->dev = linux_dev(0, __atomic_fetch_add(&next_anon, 1, __ATOMIC_RELAXED));
	return sb;
}

void sb_get(struct super_block *sb) { __atomic_fetch_add(&sb->refcount, 1, __ATOMIC_RELAXED); }

void sb_put(struct super_block *sb)
{
	if (!sb || __atomic_sub_fetch(&sb->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (sb->ops->kill) {
		sb->ops->kill(sb);
		return;
	}
	inode_put(sb->root);
	kfree(sb);
}

/* ---- the RAM types ---- */

static int tmpfs_mount(const struct fs_type *t, struct blkdev *bdev, unsigned long flags,
		       const char *data, struct super_block **out)
{
	(void)bdev; (void)data;
	struct super_block *sb = tmpfs_sb_new(t, TMPFS_MAGIC, 01777);
	if (!sb)
		return -ENOMEM;
	if (flags & MS_RDONLY)
		sb->flags |= SB_RDONLY;
	*out = sb;
	return 0;
}

/* proc and devtmpfs: every mount shows the one instance */
static int shared_mount(const struct fs_type *t, struct blkdev *bdev, unsigned long flags,
			const char *data, struct super_block **out)
{
	(void)bdev; (void)flags; (void)data;
	struct super_block *sb = strcmp(t->name, "proc") == 0 ? proc_sb : dev_sb;
	if (!sb)
		return -ENODEV;
	sb_get(sb);
	*out = sb;
	return 0;
}

static struct fs_type tmpfs_type = { .name = "tmpfs", .mount = tmpfs_mount };
static struct fs_type proc_type = { .name = "proc", .mount = shared_mount };
static struct fs_type devtmpfs_type = { .name = "devtmpfs", .mount = shared_mount };
static const struct fs_type rootfs_type = { .name = "rootfs" };

struct super_block *rootfs_new(void)
{
	return tmpfs_sb_new(&rootfs_type, TMPFS_MAGIC, 0755);
}

/* proc holds no data: statfs counts nothing, as Linux's (df shows it empty) */
static int proc_statfs(struct super_block *sb, struct linux_statfs *st)
{
	(void)sb;
	st->f_blocks = st->f_bfree = st->f_bavail = st->f_files = st->f_ffree = 0;
	return 0;
}

static struct super_ops proc_super_ops;

void fs_types_init(void)
{
	register_filesystem(&tmpfs_type);
	register_filesystem(&proc_type);
	register_filesystem(&devtmpfs_type);
	proc_sb = tmpfs_sb_new(&proc_type, PROC_SUPER_MAGIC, 0555);
	proc_super_ops = tmpfs_super_ops;
	proc_super_ops.statfs = proc_statfs;
	if (proc_sb)
		proc_sb->ops = &proc_super_ops;
	dev_sb = tmpfs_sb_new(&devtmpfs_type, TMPFS_MAGIC, 0755);
}

/* /proc/filesystems: one line per registered type, "nodev" before those without a device. */
size_t filesystems_show(char *buf, size_t size)
{
	size_t n = 0;
	spin_lock(&types_lock);
	for (struct fs_type *t = types; t && n < size; t = t->next) {
		int w = snprintf(buf + n, size - n, "%s\t%s\n", (t->flags & FS_REQUIRES_DEV) ? "" : "nodev", t->name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	spin_unlock(&types_lock);
	return MIN(n, size);
}
