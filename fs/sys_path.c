/*
 * File system calls that name files by path: stat (newfstatat, statx), mkdirat, unlinkat,
 * renameat2, symlinkat, linkat, readlinkat, faccessat, fchmodat, truncate, getcwd, chdir, fchdir.
 *
 * Each copies the path in (getname), finds its base directory (path_base: "/", the cwd, or a
 * directory fd, with a reference), then walks and changes the namespace in one ns_lock section,
 * so a rename or unlink is atomic with respect to every other path operation. Inodes that lose
 * their last name are put after ns_lock is dropped. Everyone is root: permission bits are kept
 * and reported but not enforced, except that X_OK needs an execute bit.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/syscall.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"

#define BOGO_DIRENT_SIZE 20                  /* tmpfs reports a directory's size per entry */
#define STAT_BLOCK 512                       /* st_blocks unit */

void stat_fill(struct inode *ino, struct linux_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = linux_dev(TMPFS_DEV_MAJOR, TMPFS_DEV_MINOR);
	st->st_ino = ino->ino;
	st->st_nlink = READ_ONCE(ino->nlink);
	st->st_rdev = ino->rdev;
	st->st_blksize = FS_BLKSIZE;
	spin_lock(&ino->lock);
	st->st_mode = ino->mode;
	if (S_ISDIR(ino->mode))
		st->st_size = (READ_ONCE(ino->dir.count) + 2) * BOGO_DIRENT_SIZE;
	else
		st->st_size = ino->size;
	if (S_ISREG(ino->mode))
		st->st_blocks = ino->reg.pages * (PAGE_SIZE / STAT_BLOCK);
	st->st_atime_sec = ino->atime / NSEC_PER_SEC;
	st->st_atime_nsec = ino->atime % NSEC_PER_SEC;
	st->st_mtime_sec = ino->mtime / NSEC_PER_SEC;
	st->st_mtime_nsec = ino->mtime % NSEC_PER_SEC;
	st->st_ctime_sec = ino->ctime / NSEC_PER_SEC;
	st->st_ctime_nsec = ino->ctime % NSEC_PER_SEC;
	spin_unlock(&ino->lock);
}

/* dirfd itself (AT_EMPTY_PATH): its inode with a reference. */
int fd_inode(int dirfd, struct inode **out)
{
	if (dirfd == AT_FDCWD)
		return path_base(AT_FDCWD, ".", out);
	struct file *f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	*out = f->inode;
	inode_get(*out);
	file_put(f);
	return 0;
}

/* The inode (dirfd, path) names, with a reference. at_flags: AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
int lookup_at(int dirfd, const char *path, int at_flags, struct inode **out)
{
	if (!path[0])
		return (at_flags & AT_EMPTY_PATH) ? fd_inode(dirfd, out) : -ENOENT;
	struct inode *base;
	int err = path_base(dirfd, path, &base);
	if (err)
		return err;
	spin_lock(&ns_lock);
	if (!(err = walk(base, path, !(at_flags & AT_SYMLINK_NOFOLLOW), out)))
		inode_get(*out);
	spin_unlock(&ns_lock);
	inode_put(base);
	return err;
}

static int lookup_user(int dirfd, uintptr_t upath, int at_flags, struct inode **out)
{
	int err;
	char *path = getname(upath, &err);
	if (!path)
		return err;
	err = lookup_at(dirfd, path, at_flags, out);
	putname(path);
	return err;
}

/* ---- stat ---- */

long sys_newfstatat(int dirfd, uintptr_t upath, uintptr_t ust, int flags)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	struct inode *ino;
	int err = lookup_user(dirfd, upath, flags, &ino);
	if (err)
		return err;
	struct linux_stat st;
	stat_fill(ino, &st);
	inode_put(ino);
	return copy_to_user(ust, &st, sizeof(st));
}

static struct linux_statx_timestamp stx_time(long sec, unsigned long nsec)
{
	return (struct linux_statx_timestamp){ .tv_sec = sec, .tv_nsec = nsec };
}

long sys_statx(int dirfd, uintptr_t upath, int flags, unsigned mask, uintptr_t ustx)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED))
		return -EINVAL;
	struct inode *ino;
	int err = lookup_user(dirfd, upath, flags, &ino);
	if (err)
		return err;
	struct linux_stat st;
	stat_fill(ino, &st);
	inode_put(ino);
	struct linux_statx x;
	memset(&x, 0, sizeof(x));
	x.stx_mask = STATX_BASIC_STATS;
	x.stx_blksize = st.st_blksize;
	x.stx_nlink = st.st_nlink;
	x.stx_mode = st.st_mode;
	x.stx_ino = st.st_ino;
	x.stx_size = st.st_size;
	x.stx_blocks = st.st_blocks;
	x.stx_atime = stx_time(st.st_atime_sec, st.st_atime_nsec);
	x.stx_mtime = stx_time(st.st_mtime_sec, st.st_mtime_nsec);
	x.stx_ctime = stx_time(st.st_ctime_sec, st.st_ctime_nsec);
	x.stx_rdev_major = (st.st_rdev >> 8) & 0xfff;
	x.stx_rdev_minor = (st.st_rdev & 0xff) | ((st.st_rdev >> 12) & ~0xffUL);
	x.stx_dev_major = TMPFS_DEV_MAJOR;
	x.stx_dev_minor = TMPFS_DEV_MINOR;
	x.stx_mnt_id = 1;
	return copy_to_user(ustx, &x, sizeof(x));
}

/* ---- creating and removing names ---- */

/* Runs op on the parent of path under ns_lock. op returns 0/-errno and may hand back an inode
 * to put after the lock (*put). */
typedef int (*parent_op)(struct nameidata *nd, void *arg, struct inode **put);

static long with_parent(int dirfd, uintptr_t upath, parent_op op, void *arg)
{
	int err;
	char *path = getname(upath, &err);
	if (!path)
		return err;
	struct inode *base, *put = NULL;
	if (!(err = path_base(dirfd, path, &base))) {
		struct nameidata nd;
		spin_lock(&ns_lock);
		if (!(err = walk_parent(base, path, &nd)))
			err = op(&nd, arg, &put);
		spin_unlock(&ns_lock);
		inode_put(base);
	}
	inode_put(put);
	putname(path);
	return err;
}

static int mkdir_op(struct nameidata *nd, void *arg, struct inode **put)
{
	unsigned mode = *(unsigned *)arg;
	int err;
	(void)put;
	if (nd->len == 0 || is_dot(nd->last, nd->len) || dir_lookup(nd->dir, nd->last, nd->len))
		return -EEXIST;
	tmpfs_create(nd->dir, nd->last, nd->len, S_IFDIR | (mode & ~current_umask() & S_IALLUGO), &err);
	return err;
}

long sys_mkdirat(int dirfd, uintptr_t path, unsigned mode)
{
	return with_parent(dirfd, path, mkdir_op, &mode);
}

static int unlink_op(struct nameidata *nd, void *arg, struct inode **put)
{
	(void)arg;
	if (nd->len == 0 || is_dot(nd->last, nd->len))
		return -EISDIR;
	struct dirent_node *d = dir_find(nd->dir, nd->last, nd->len);
	if (!d)
		return -ENOENT;
	if (S_ISDIR(d->inode->mode))
		return -EISDIR;
	if (nd->slash)
		return -ENOTDIR;
	*put = dir_unlink(nd->dir, d);
	return 0;
}

static int rmdir_op(struct nameidata *nd, void *arg, struct inode **put)
{
	(void)arg;
	if (nd->len == 0)
		return -EBUSY;
	if (is_dot(nd->last, nd->len))
		return nd->len == 1 ? -EINVAL : -ENOTEMPTY;
	struct dirent_node *d = dir_find(nd->dir, nd->last, nd->len);
	if (!d)
		return -ENOENT;
	if (!S_ISDIR(d->inode->mode))
		return -ENOTDIR;
	if (!dir_is_empty(d->inode))
		return -ENOTEMPTY;
	*put = dir_unlink(nd->dir, d);
	(*put)->nlink = 0;                           /* its "." goes too */
	return 0;
}

long sys_unlinkat(int dirfd, uintptr_t path, int flags)
{
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	return with_parent(dirfd, path, (flags & AT_REMOVEDIR) ? rmdir_op : unlink_op, NULL);
}

static int symlink_op(struct nameidata *nd, void *arg, struct inode **put)
{
	(void)put;
	if (nd->len == 0 || is_dot(nd->last, nd->len) || dir_lookup(nd->dir, nd->last, nd->len))
		return -EEXIST;
	if (nd->slash)
		return -ENOENT;
	return tmpfs_symlink(nd->dir, nd->last, nd->len, arg);
}

long sys_symlinkat(uintptr_t utarget, int dirfd, uintptr_t path)
{
	int err;
	char *target = getname(utarget, &err);
	if (!target)
		return err;
	err = target[0] ? with_parent(dirfd, path, symlink_op, target) : -ENOENT;
	putname(target);
	return err;
}

struct link_arg { struct inode *old; };

static int link_op(struct nameidata *nd, void *arg, struct inode **put)
{
	struct inode *old = ((struct link_arg *)arg)->old;
	(void)put;
	if (nd->len == 0 || is_dot(nd->last, nd->len) || dir_lookup(nd->dir, nd->last, nd->len))
		return -EEXIST;
	if (nd->slash)
		return -ENOENT;
	if (old->nlink == 0)                         /* unlinked meanwhile (not O_TMPFILE-linkable) */
		return -ENOENT;
	return dir_link(nd->dir, nd->last, nd->len, old);
}

long sys_linkat(int olddirfd, uintptr_t oldpath, int newdirfd, uintptr_t newpath, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct link_arg a;
	int err = lookup_user(olddirfd, oldpath, (flags & AT_EMPTY_PATH) |
			      ((flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW), &a.old);
	if (err)
		return err;
	err = S_ISDIR(a.old->mode) ? -EPERM : with_parent(newdirfd, newpath, link_op, &a);
	inode_put(a.old);
	return err;
}

/* ---- rename ---- */

struct rename_arg {
	struct nameidata old;
	unsigned flags;
};

static bool is_ancestor(struct inode *a, struct inode *d)        /* a == d or above it */
{
	for (struct inode *p = d;; p = p->parent) {
		if (p == a)
			return true;
		if (p == fs_root || !p->parent)
			return false;
	}
}

static int rename_op(struct nameidata *nn, void *arg, struct inode **put)
{
	struct rename_arg *ra = arg;
	struct nameidata *on = &ra->old;
	if (on->len == 0 || is_dot(on->last, on->len) || nn->len == 0 || is_dot(nn->last, nn->len))
		return -EBUSY;
	struct dirent_node *od = dir_find(on->dir, on->last, on->len);
	if (!od)
		return -ENOENT;
	struct inode *src = od->inode;
	struct dirent_node *nd = dir_find(nn->dir, nn->last, nn->len);
	struct inode *dst = nd ? nd->inode : NULL;
	if (!S_ISDIR(src->mode) && (on->slash || nn->slash))
		return -ENOTDIR;
	if (ra->flags & RENAME_EXCHANGE) {
		if (!dst)
			return -ENOENT;
		if ((S_ISDIR(src->mode) && is_ancestor(src, nn->dir)) ||
		    (S_ISDIR(dst->mode) && is_ancestor(dst, on->dir)))
			return -EINVAL;
		struct dirent_node *a = dirent_new(od->name, od->len), *b = dirent_new(nd->name, nd->len);
		if (!a || !b) {
			kfree(a);
			kfree(b);
			return -ENOMEM;
		}
		inode_get(src);
		inode_get(dst);
		inode_put(dir_unlink(on->dir, od));      /* our references keep both alive */
		inode_put(dir_unlink(nn->dir, nd));
		dir_insert(on->dir, a, dst);
		dir_insert(nn->dir, b, src);
		inode_put(src);
		inode_put(dst);
		return 0;
	}
	if (dst) {
		if (ra->flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (dst == src)
			return 0;                    /* two names of one file: nothing to do */
		if (S_ISDIR(src->mode) && !S_ISDIR(dst->mode))
			return -ENOTDIR;
		if (!S_ISDIR(src->mode) && S_ISDIR(dst->mode))
			return -EISDIR;
		if (S_ISDIR(dst->mode) && !dir_is_empty(dst))
			return -ENOTEMPTY;
	}
	if (S_ISDIR(src->mode) && is_ancestor(src, nn->dir))
		return -EINVAL;                      /* a directory into itself */
	struct dirent_node *n = dirent_new(nn->last, nn->len);
	if (!n)
		return -ENOMEM;
	if (dst) {
		*put = dir_unlink(nn->dir, nd);
		if (S_ISDIR(dst->mode))
			dst->nlink = 0;
	}
	dir_insert(nn->dir, n, src);
	inode_put(dir_unlink(on->dir, od));          /* the new entry holds src */
	return 0;
}

long sys_renameat2(int olddirfd, uintptr_t uoldpath, int newdirfd, uintptr_t newpath, unsigned flags)
{
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	int err;
	char *oldpath = getname(uoldpath, &err);
	if (!oldpath)
		return err;
	struct rename_arg ra = { .flags = flags };
	struct inode *obase;
	if (!(err = path_base(olddirfd, oldpath, &obase))) {
		/* the old name's parent is walked again under the same ns_lock as the new one */
		struct nameidata *on = &ra.old;
		char *newname = getname(newpath, &err);
		struct inode *nbase = NULL, *put = NULL;
		if (newname && !(err = path_base(newdirfd, newname, &nbase))) {
			struct nameidata nn;
			spin_lock(&ns_lock);
			if (!(err = walk_parent(obase, oldpath, on)) &&
			    !(err = walk_parent(nbase, newname, &nn)))
				err = rename_op(&nn, &ra, &put);
			spin_unlock(&ns_lock);
			inode_put(nbase);
		}
		inode_put(put);
		putname(newname);
		inode_put(obase);
	}
	putname(oldpath);
	return err;
}

/* ---- readlink, access, chmod, truncate ---- */

long sys_readlinkat(int dirfd, uintptr_t upath, uintptr_t ubuf, size_t size)
{
	if ((long)size <= 0)
		return -EINVAL;
	struct inode *ino;
	int err;
	char *path = getname(upath, &err);
	if (!path)
		return err;
	bool empty = !path[0];                       /* an O_PATH fd of a symlink itself */
	err = lookup_at(dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &ino);
	putname(path);
	if (err)
		return err;
	char *buf = kmalloc(PATH_MAX);
	long len = -ENOMEM;
	if (buf) {
		spin_lock(&ns_lock);                 /* the target is read like a path walk would */
		const char *t = !S_ISLNK(ino->mode) ? NULL :
				 ino->iops && ino->iops->get_link ? ino->iops->get_link(ino) : NULL;
		len = !S_ISLNK(ino->mode) ? (empty ? -ENOENT : -EINVAL) :
		      t ? (long)strnlen(t, PATH_MAX) : -ENOENT;
		if (len > 0)
			memcpy(buf, t, len);
		spin_unlock(&ns_lock);
		if (len > 0) {
			len = MIN((size_t)len, size);
			if (copy_to_user(ubuf, buf, len))
				len = -EFAULT;
		}
		kfree(buf);
	}
	inode_put(ino);
	return len;
}

long sys_faccessat2(int dirfd, uintptr_t upath, int mode, int flags)
{
	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct inode *ino;
	int err = lookup_user(dirfd, upath, flags, &ino);
	if (err)
		return err;
	if ((mode & X_OK) && !S_ISDIR(ino->mode) && !(ino->mode & S_IXUGO))
		err = -EACCES;                       /* root may do anything but run a non-program */
	inode_put(ino);
	return err;
}

long sys_faccessat(int dirfd, uintptr_t path, int mode) { return sys_faccessat2(dirfd, path, mode, 0); }

long sys_fchmodat(int dirfd, uintptr_t upath, unsigned mode)
{
	struct inode *ino;
	int err = lookup_user(dirfd, upath, 0, &ino);
	if (err)
		return err;
	spin_lock(&ino->lock);
	ino->mode = (ino->mode & S_IFMT) | (mode & S_IALLUGO);
	spin_unlock(&ino->lock);
	inode_touch(ino, false);
	inode_put(ino);
	return 0;
}

long sys_truncate(uintptr_t upath, long length)
{
	if (length < 0)
		return -EINVAL;
	struct inode *ino;
	int err = lookup_user(AT_FDCWD, upath, 0, &ino);
	if (err)
		return err;
	if (S_ISDIR(ino->mode))
		err = -EISDIR;
	else if (!S_ISREG(ino->mode) || ino->fops != &tmpfs_file_ops)
		err = -EINVAL;
	else
		err = tmpfs_truncate(ino, length);
	inode_put(ino);
	return err;
}

/* ---- working directory ---- */

long sys_getcwd(uintptr_t ubuf, size_t size)
{
	struct fs_ctx *fs = current->fs;
	char *buf = kmalloc(PATH_MAX);
	if (!buf)
		return -ENOMEM;
	spin_lock(&fs->lock);
	struct inode *cwd = fs->cwd;
	inode_get(cwd);
	spin_unlock(&fs->lock);
	spin_lock(&ns_lock);
	long len = dir_path(cwd, buf, PATH_MAX);
	spin_unlock(&ns_lock);
	inode_put(cwd);
	if (len >= 0) {
		if ((size_t)len + 1 > size)
			len = -ERANGE;
		else if (copy_to_user(ubuf, buf, len + 1))
			len = -EFAULT;
		else
			len++;                       /* the syscall counts the NUL */
	}
	kfree(buf);
	return len;
}

static long set_cwd(struct inode *ino)
{
	if (!S_ISDIR(ino->mode)) {
		inode_put(ino);
		return -ENOTDIR;
	}
	fs_set_cwd(current->fs, ino);
	return 0;
}

long sys_chdir(uintptr_t upath)
{
	struct inode *ino;
	int err = lookup_user(AT_FDCWD, upath, 0, &ino);
	return err ? err : set_cwd(ino);
}

long sys_fchdir(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct inode *ino = f->inode;
	inode_get(ino);
	file_put(f);
	return set_cwd(ino);
}
