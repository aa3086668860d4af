/*
 * The mount table, mount(2), umount2(2) and /proc/mounts.
 *
 * A mount attaches a super block's root (or, for a bind mount, any directory of it) on a
 * mountpoint: a (parent mount, inode) pair. All attached mounts sit on one list, in the order they
 * were made, so a parent always comes before its children and the last match for a mountpoint is
 * the topmost of stacked mounts. Mountpoint inodes count their mounts in inode->mounted, which
 * lets the path walk skip the table for ordinary directories.
 *
 * References: the table holds one on each attached mount; a child holds one on its parent and on
 * its mountpoint inode; a struct path (cwds, open files, walks in flight) holds one. umount2
 * without MNT_DETACH refuses (EBUSY) a mount that anyone but the table and the caller's own walk
 * holds, including through a child mount. MNT_DETACH detaches the mount and everything mounted
 * below it at once; each goes away (and its super block with its last mount) when its last path
 * is put. The root mount is never unmounted.
 *
 * The root: rootfs (tmpfs) at boot. With a disk root (fs/do_mounts.c) the disk is mounted on
 * rootfs's /root and then made the root (mount_make_root): root_mount points at it, so every
 * path walk, "..", getcwd and /proc/mounts stop there, and rootfs with whatever is mounted on it
 * falls out of sight, as after Linux's mount --move of the new root onto / and chroot.
 *
 * Locks: mount_sem (sleeplock) serializes mount, umount, remount and /proc/mounts, which may
 * sleep (lookups, a file system's mount or sync). mount_lock (spinlock) guards the list and
 * each mount's parent/mountpoint/attached, and is what the path walk takes; it is taken inside
 * mount_sem and inside no other lock but nests outside inode->lock.
 */
#include "fs/internal.h"
#include "fs/blkdev.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "mm/uaccess.h"
#include "lib/string.h"
#include "kernel/printk.h"

#define MOUNTS_NAME_MAX 64                   /* a type name copied from user space */
#define MS_PROPAGATION (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

static struct sleeplock mount_sem = SLEEPLOCK_INIT(mount_sem, "mount_sem");
static struct spinlock mount_lock = SPINLOCK_INIT("mount");
static struct list_head mounts = LIST_HEAD_INIT(mounts);
static int next_mount_id = 1;                /* mount_sem */
struct mount *root_mount;

void mnt_get(struct mount *m) { __atomic_fetch_add(&m->refcount, 1, __ATOMIC_RELAXED); }

void mnt_put(struct mount *m)
{
	if (!m || __atomic_sub_fetch(&m->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	/* only a detached mount reaches 0: the table holds attached ones */
	inode_put(m->root);
	sb_put(m->sb);
	kfree(m->source);
	kfree(m);
}

bool mnt_readonly(const struct mount *m)
{
	return (READ_ONCE(m->flags) & MNT_RDONLY) || (READ_ONCE(m->sb->flags) & SB_RDONLY);
}

struct mount *mount_lookup(struct mount *parent, struct inode *ino)
{
	struct mount *found = NULL;
	struct list_head *p;
	spin_lock(&mount_lock);
	list_for_each(p, &mounts) {
		struct mount *m = list_entry(p, struct mount, node);
		if (m->parent == parent && m->mountpoint == ino)
			found = m;
	}
	if (found)
		mnt_get(found);
	spin_unlock(&mount_lock);
	return found;
}

bool mnt_climb(struct mount *m, struct path *up)
{
	spin_lock(&mount_lock);
	bool ok = m->parent != NULL;
	if (ok) {
		*up = (struct path){ m->parent, m->mountpoint };
		path_get(up);
	}
	spin_unlock(&mount_lock);
	return ok;
}

static char *kstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = kmalloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

int mount_attach(struct super_block *sb, struct inode *root, const struct path *where, unsigned flags,
		 const char *source, struct mount **out)
{
	struct mount *m = kzalloc(sizeof(*m));
	char *src = kstrdup(source ? source : "none");
	if (!m || !src) {
		kfree(m);
		kfree(src);
		return -ENOMEM;
	}
	m->refcount = 1;                             /* the table's */
	m->sb = sb;
	sb_get(sb);
	m->root = root;
	inode_get(root);
	m->flags = flags & MNT_USER_FLAGS;
	if (!(flags & (MS_NOATIME | MS_STRICTATIME)))
		m->flags |= MNT_RELATIME;
	m->source = src;
	m->id = next_mount_id++;
	if (where) {
		path_get(where);
		__atomic_fetch_add(&where->ino->mounted, 1, __ATOMIC_RELAXED);
	}
	spin_lock(&mount_lock);
	if (where) {
		m->parent = where->mnt;
		m->mountpoint = where->ino;
	}
	m->attached = true;
	list_add_tail(&m->node, &mounts);
	spin_unlock(&mount_lock);
	if (out)
		*out = m;
	return 0;
}

void mount_init(struct super_block *root_sb)
{
	sleep_lock(&mount_sem);
	if (mount_attach(root_sb, root_sb->root, NULL, 0, "rootfs", &root_mount))
		panic("mount_init: no memory");
	sleep_unlock(&mount_sem);
}

/* Takes m (and with it its parent's hold on the mountpoint) out of the table (mount_sem held). */
static void detach_one(struct mount *m)
{
	spin_lock(&mount_lock);
	list_del(&m->node);
	m->attached = false;
	struct path where = { m->parent, m->mountpoint };
	m->parent = NULL;
	m->mountpoint = NULL;
	spin_unlock(&mount_lock);
	if (where.ino) {
		__atomic_fetch_sub(&where.ino->mounted, 1, __ATOMIC_RELAXED);
		path_put(&where);
	}
	mnt_put(m);                                  /* the table's reference */
}

/* umount of m, which the caller holds once through its walk (mount_sem held). */
static int do_umount(struct mount *m, int flags)
{
	if (m == root_mount || !m->attached)
		return m == root_mount ? -EBUSY : -EINVAL;
	if (!(flags & MNT_DETACH)) {
		if (READ_ONCE(m->refcount) > 2)      /* the table, the caller: anyone else is a user */
			return -EBUSY;
		if (m->sb->ops->sync && READ_ONCE(m->sb->refcount) == 1)
			m->sb->ops->sync(m->sb);     /* the last mount: write back before it goes */
		detach_one(m);
		return 0;
	}
	/* m and every mount below it; the list has parents first, so one pass finds them all */
	struct mount **victims = NULL;
	int n = 0, cap = 0;
	for (;;) {
		struct list_head *p;
		n = 0;
		spin_lock(&mount_lock);
		list_for_each(p, &mounts) {
			struct mount *x = list_entry(p, struct mount, node);
			bool below = x == m;
			for (int i = 0; i < n && !below && n <= cap; i++)
				below = x->parent == victims[i];
			if (below) {
				if (n < cap)
					victims[n] = x;
				n++;
			}
		}
		spin_unlock(&mount_lock);
		if (n <= cap)
			break;
		kfree(victims);
		cap = n;
		if (!(victims = kmalloc(cap * sizeof(*victims))))
			return -ENOMEM;
	}
	for (int i = n - 1; i >= 0; i--)             /* children first */
		detach_one(victims[i]);
	kfree(victims);
	return 0;
}

/* ---- mount(2) and umount2(2) ---- */

static int copy_string(uintptr_t u, char **out, size_t max)
{
	*out = NULL;
	if (!u)
		return 0;
	char *s = kmalloc(max);
	if (!s)
		return -ENOMEM;
	long n = strncpy_from_user(s, u, max);
	if (n == -ENAMETOOLONG && max == PAGE_SIZE) {
		s[max - 1] = '\0';                   /* options: one page, as Linux copies */
		n = max - 1;
	}
	if (n < 0) {
		kfree(s);
		return n == -ENAMETOOLONG && max < PATH_MAX ? -ENODEV : (int)n;
	}
	*out = s;
	return 0;
}

/* A new instance of type fstype from source, attached at tp (mount_sem held). */
static int mount_new(const char *fstype, const char *source, const struct path *tp, unsigned long flags,
		     const char *data)
{
	const struct fs_type *t = fstype ? find_filesystem(fstype) : NULL;
	if (!t || !t->mount)
		return -ENODEV;
	if (!S_ISDIR(tp->ino->mode))
		return -ENOTDIR;
	struct blkdev *bdev = NULL;
	struct path sp = { 0 };
	int err;
	if (t->flags & FS_REQUIRES_DEV) {
		if (!source)
			return -EINVAL;
		if ((err = lookup_at(AT_FDCWD, source, 0, &sp)))
			return err;
		if (!S_ISBLK(sp.ino->mode))
			err = -ENOTBLK;
		else if (!(bdev = blkdev_of(sp.ino)))
			err = -ENXIO;
		else if ((sp.mnt && (sp.mnt->flags & MNT_NODEV)))
			err = -EACCES;
		if (err) {
			path_put(&sp);
			return err;
		}
	}
	struct super_block *sb;
	if (!(err = t->mount(t, bdev, flags, data, &sb))) {
		if (flags & MS_RDONLY)                   /* read-only is the super block's, as Linux */
			sb->flags |= SB_RDONLY;
		err = mount_attach(sb, sb->root, tp, flags & ~MS_RDONLY, source, NULL);
		sb_put(sb);
	}
	if (sp.ino)
		path_put(&sp);
	return err;
}

static int mount_remount(const struct path *tp, unsigned long flags)
{
	struct mount *m = tp->mnt;
	if (tp->ino != m->root)
		return -EINVAL;
	unsigned keep = m->flags & ~MNT_USER_FLAGS;
	unsigned atime = (flags & (MS_NOATIME | MS_STRICTATIME)) ? 0 : MNT_RELATIME;
	if (flags & MS_BIND) {                       /* per-mount flags only */
		WRITE_ONCE(m->flags, keep | (flags & MNT_USER_FLAGS) | atime);
		return 0;
	}
	struct super_block *sb = m->sb;
	if (sb->ops->remount) {
		int err = sb->ops->remount(sb, flags);
		if (err)
			return err;
	}
	if ((flags & MS_RDONLY) && !(sb->flags & SB_RDONLY) && sb->ops->sync)
		sb->ops->sync(sb);
	WRITE_ONCE(sb->flags, (flags & MS_RDONLY) ? sb->flags | SB_RDONLY : sb->flags & ~SB_RDONLY);
	WRITE_ONCE(m->flags, (m->flags & MNT_RDONLY) | keep |
		   (flags & MNT_USER_FLAGS & ~MNT_RDONLY) | atime);
	return 0;
}

long sys_mount(uintptr_t usource, uintptr_t utarget, uintptr_t ufstype, unsigned long flags, uintptr_t udata)
{
	char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
	struct path tp = { 0 };
	int err;
	if ((flags & MS_MGC_MSK) == MS_MGC_VAL)
		flags &= ~MS_MGC_MSK;
	if ((err = copy_string(utarget, &target, PATH_MAX)))
		goto out;
	if (!target) {
		err = -EFAULT;
		goto out;
	}
	if ((err = copy_string(usource, &source, PATH_MAX)) ||
	    (!(flags & (MS_REMOUNT | MS_BIND | MS_MOVE | MS_PROPAGATION)) &&
	     (err = copy_string(ufstype, &fstype, MOUNTS_NAME_MAX))) ||
	    (err = copy_string(udata, &data, PAGE_SIZE)))
		goto out;
	if ((err = lookup_at(AT_FDCWD, target, 0, &tp)))
		goto out;
	sleep_lock(&mount_sem);
	if (!tp.mnt || !tp.mnt->attached) {
		err = -EINVAL;
	} else if (flags & MS_REMOUNT) {
		err = mount_remount(&tp, flags);
	} else if (flags & MS_BIND) {
		struct path sp;
		if (!source)
			err = -EFAULT;
		else if (!(err = lookup_at(AT_FDCWD, source, 0, &sp))) {
			if (S_ISDIR(sp.ino->mode) != S_ISDIR(tp.ino->mode))
				err = S_ISDIR(sp.ino->mode) ? -ENOTDIR : -EISDIR;
			else if (!sp.mnt || !sp.mnt->attached)
				err = -EINVAL;
			else
				err = mount_attach(sp.mnt->sb, sp.ino, &tp, flags, source, NULL);
			path_put(&sp);
		}
	} else if (flags & MS_MOVE) {
		err = -EINVAL;                       /* not supported */
	} else if (flags & MS_PROPAGATION) {
		err = tp.ino == tp.mnt->root ? 0 : -EINVAL;   /* every mount is private */
	} else {
		err = mount_new(fstype, source, &tp, flags, data);
	}
	sleep_unlock(&mount_sem);
out:
	if (tp.ino)
		path_put(&tp);
	kfree(source);
	kfree(target);
	kfree(fstype);
	kfree(data);
	return err;
}

long sys_umount2(uintptr_t utarget, int flags)
{
	if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
		return -EINVAL;
	if ((flags & MNT_EXPIRE) && (flags & (MNT_FORCE | MNT_DETACH)))
		return -EINVAL;
	struct path tp;
	int err = lookup_user(AT_FDCWD, utarget, (flags & UMOUNT_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0, &tp);
	if (err)
		return err;
	sleep_lock(&mount_sem);
	if (!tp.mnt || tp.ino != tp.mnt->root)
		err = -EINVAL;                       /* not a mount point */
	else if (flags & MNT_EXPIRE)
		err = READ_ONCE(tp.mnt->refcount) > 2 ? -EBUSY : -EAGAIN;
	else
		err = do_umount(tp.mnt, flags);
	sleep_unlock(&mount_sem);
	path_put(&tp);
	return err;
}

/* The boot-time callers below: walk an absolute path from the root, then op on it under mount_sem. */
static int at_path(const char *path, int (*op)(struct path *tp, const void *arg), const void *arg)
{
	struct path root, tp;
	root_path(&root);
	int err = walk(&root, path, true, &tp);
	path_put(&root);
	if (err)
		return err;
	sleep_lock(&mount_sem);
	err = op(&tp, arg);
	sleep_unlock(&mount_sem);
	path_put(&tp);
	return err;
}

struct kern_mount_args { const char *type, *source; unsigned flags; };

static int kern_mount_op(struct path *tp, const void *arg)
{
	const struct kern_mount_args *a = arg;
	return mount_new(a->type, a->source, tp, a->flags, NULL);
}

int kern_mount(const char *type, const char *source, const char *path, unsigned flags)
{
	struct kern_mount_args a = { type, source, flags };
	return at_path(path, kern_mount_op, &a);
}

static int kern_umount_op(struct path *tp, const void *arg)
{
	(void)arg;
	return tp->ino != tp->mnt->root ? -EINVAL : do_umount(tp->mnt, 0);
}

int kern_umount(const char *path) { return at_path(path, kern_umount_op, NULL); }

static int make_root_op(struct path *tp, const void *arg)
{
	(void)arg;
	if (tp->ino != tp->mnt->root || tp->mnt == root_mount)
		return -EINVAL;
	mnt_get(tp->mnt);                            /* root_mount's own reference */
	WRITE_ONCE(root_mount, tp->mnt);             /* the old root keeps the table's reference */
	return 0;
}

int mount_make_root(const char *path) { return at_path(path, make_root_op, NULL); }

int sync_all(void)
{
	int ret = 0;
	sleep_lock(&mount_sem);
	struct list_head *p;
	list_for_each(p, &mounts) {                  /* mount_sem keeps the list still */
		struct super_block *sb = list_entry(p, struct mount, node)->sb;
		if (sb->ops->sync && !(sb->flags & SB_RDONLY)) {
			int err = sb->ops->sync(sb);
			ret = ret ? ret : err;
		}
	}
	sleep_unlock(&mount_sem);
	return ret;
}

/* ---- /proc/mounts ---- */

/* Appends s with Linux's escapes for space, tab, newline and backslash (\ooo). */
static size_t put_escaped(char *buf, size_t at, size_t size, const char *s)
{
	for (; *s && at + 4 < size; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\') {
			unsigned c = (unsigned char)*s;
			buf[at++] = '\\';
			buf[at++] = '0' + (c >> 6);
			buf[at++] = '0' + ((c >> 3) & 7);
			buf[at++] = '0' + (c & 7);
		} else {
			buf[at++] = *s;
		}
	}
	return at;
}

static size_t put_str(char *buf, size_t at, size_t size, const char *s)
{
	while (*s && at + 1 < size)
		buf[at++] = *s++;
	return at;
}

size_t mounts_show(char *buf, size_t size)
{
	char *path = kmalloc(PATH_MAX);
	size_t at = 0;
	if (!path)
		return 0;
	sleep_lock(&mount_sem);
	struct list_head *p;
	list_for_each(p, &mounts) {
		struct mount *m = list_entry(p, struct mount, node);
		struct path where = { m, m->root };
		if (path_name(&where, path, PATH_MAX) < 0)
			continue;
		at = put_escaped(buf, at, size, m->source);
		at = put_str(buf, at, size, " ");
		at = put_escaped(buf, at, size, path);
		at = put_str(buf, at, size, " ");
		at = put_escaped(buf, at, size, m->sb->type->name);
		at = put_str(buf, at, size, mnt_readonly(m) ? " ro" : " rw");
		unsigned f = m->flags;
		if (f & MNT_NOSUID)
			at = put_str(buf, at, size, ",nosuid");
		if (f & MNT_NODEV)
			at = put_str(buf, at, size, ",nodev");
		if (f & MNT_NOEXEC)
			at = put_str(buf, at, size, ",noexec");
		if (f & MNT_NOATIME)
			at = put_str(buf, at, size, ",noatime");
		if (f & MNT_NODIRATIME)
			at = put_str(buf, at, size, ",nodiratime");
		if (f & MNT_RELATIME)
			at = put_str(buf, at, size, ",relatime");
		if (m->sb->ops->show_options && at < size)
			at += m->sb->ops->show_options(m->sb, buf + at, size - at);
		at = put_str(buf, at, size, " 0 0\n");
	}
	sleep_unlock(&mount_sem);
	kfree(path);
	return at;
}

int mount_proc_init(void)
{
	return proc_create("/proc/mounts", mounts_show);   /* /proc/<pid>/mounts: proc_pid.c */
}
