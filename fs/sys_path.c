/*
 * File system calls that name files by path: stat (newfstatat, statx), mkdirat, unlinkat,
 * renameat2, symlinkat, linkat, readlinkat, faccessat, fchmodat, truncate, getcwd, chdir, fchdir.
 *
 * Each copies the path in (getname), finds its base directory (path_base: "/", the cwd, or a
 * directory fd, held), walks to the parent of the last component and checks what the VFS owns
 * (names, EROFS, EXDEV across mounts, EBUSY for mountpoints), then calls the directory's inode
 * op; the file system makes the change atomically with respect to its other directory ops
 * (tmpfs under ns_lock). Linux's errno order is kept: EEXIST before EROFS for creation, EROFS
 * before ENOENT for removal and rename. Everyone is root: permission bits are kept and reported
 * but not enforced, except that X_OK needs an execute bit (and a mount without noexec).
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

#define STAT_BLOCK 512                       /* st_blocks unit */

void stat_fill(struct inode *ino, struct linux_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = ino->sb ? ino->sb->dev : 0;
	st->st_ino = ino->ino;
	st->st_nlink = READ_ONCE(ino->nlink);
	st->st_rdev = ino->rdev;
	st->st_blksize = FS_BLKSIZE;
	spin_lock(&ino->lock);
	st->st_mode = ino->mode;
	st->st_size = ino->size;
	st->st_blocks = ino->blocks;
	st->st_atime_sec = ino->atime / NSEC_PER_SEC;
	st->st_atime_nsec = ino->atime % NSEC_PER_SEC;
	st->st_mtime_sec = ino->mtime / NSEC_PER_SEC;
	st->st_mtime_nsec = ino->mtime % NSEC_PER_SEC;
	st->st_ctime_sec = ino->ctime / NSEC_PER_SEC;
	st->st_ctime_nsec = ino->ctime % NSEC_PER_SEC;
	spin_unlock(&ino->lock);
}

/* dirfd itself (AT_EMPTY_PATH), held. */
static int fd_path(int dirfd, struct path *out)
{
	if (dirfd == AT_FDCWD)
		return path_base(AT_FDCWD, ".", out);
	struct file *f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	*out = (struct path){ f->mnt, f->inode };
	path_get(out);
	file_put(f);
	return 0;
}

int lookup_at(int dirfd, const char *path, int at_flags, struct path *out)
{
	if (!path[0])
		return (at_flags & AT_EMPTY_PATH) ? fd_path(dirfd, out) : -ENOENT;
	struct path base;
	int err = path_base(dirfd, path, &base);
	if (err)
		return err;
	err = walk(&base, path, !(at_flags & AT_SYMLINK_NOFOLLOW), out);
	path_put(&base);
	return err;
}

int lookup_user(int dirfd, uintptr_t upath, int at_flags, struct path *out)
{
	int err;
	char *path = getname(upath, &err);
	if (!path)
		return err;
	err = lookup_at(dirfd, path, at_flags, out);
	putname(path);
	return err;
}

/* The inode a directory holds under name, mounts not crossed (victims of unlink, rmdir, rename). */
static struct inode *lookup_raw(struct inode *dir, const char *name, size_t len, int *err)
{
	if (!dir->iops || !dir->iops->lookup) {
		*err = -ENOTDIR;
		return NULL;
	}
	*err = 0;
	struct inode *ino = dir->iops->lookup(dir, name, len, err);
	if (!ino && !*err)
		*err = -ENOENT;
	return ino;
}

static bool name_exists(struct nameidata *nd)
{
	int err;
	struct inode *ino = lookup_raw(nd->dir.ino, nd->last, nd->len, &err);
	inode_put(ino);
	return ino != NULL;
}

/* ---- stat ---- */

long sys_newfstatat(int dirfd, uintptr_t upath, uintptr_t ust, int flags)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	struct path p;
	int err = lookup_user(dirfd, upath, flags, &p);
	if (err)
		return err;
	struct linux_stat st;
	stat_fill(p.ino, &st);
	path_put(&p);
	return copy_to_user(ust, &st, sizeof(st));
}

static struct linux_statx_timestamp stx_time(long sec, unsigned long nsec)
{
	return (struct linux_statx_timestamp){ .tv_sec = sec, .tv_nsec = nsec };
}

static unsigned dev_major(unsigned long dev) { return (dev >> 8) & 0xfff; }
static unsigned dev_minor(unsigned long dev) { return (dev & 0xff) | ((dev >> 12) & ~0xffUL); }

long sys_statx(int dirfd, uintptr_t upath, int flags, unsigned mask, uintptr_t ustx)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED))
		return -EINVAL;
	struct path p;
	int err = lookup_user(dirfd, upath, flags, &p);
	if (err)
		return err;
	struct linux_stat st;
	stat_fill(p.ino, &st);
	int mnt_id = p.mnt ? p.mnt->id : 0;
	path_put(&p);
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
	x.stx_rdev_major = dev_major(st.st_rdev);
	x.stx_rdev_minor = dev_minor(st.st_rdev);
	x.stx_dev_major = dev_major(st.st_dev);
	x.stx_dev_minor = dev_minor(st.st_dev);
	x.stx_mnt_id = mnt_id;
	return copy_to_user(ustx, &x, sizeof(x));
}

/* ---- creating and removing names ---- */

/* Runs op on the parent of path (nd->dir held by the walk). */
typedef int (*parent_op)(struct nameidata *nd, void *arg);

static long with_parent(int dirfd, uintptr_t upath, parent_op op, void *arg)
{
	int err;
	char *path = getname(upath, &err);
	if (!path)
		return err;
	struct path base;
	if (!(err = path_base(dirfd, path, &base))) {
		struct nameidata nd;
		err = walk_parent(&base, path, &nd);
		path_put(&base);
		if (!err)
			err = op(&nd, arg);
		nd_release(&nd);
	}
	putname(path);
	return err;
}

static int mkdir_op(struct nameidata *nd, void *arg)
{
	unsigned mode = *(unsigned *)arg;
	struct inode *dir = nd->dir.ino;
	int err;
	if (nd->len == 0 || is_dot(nd->last, nd->len) || name_exists(nd))
		return -EEXIST;
	if ((err = may_access(&nd->dir, W_OK)))
		return err;
	if (!dir->iops->mkdir)
		return -EPERM;
	return dir->iops->mkdir(dir, nd->last, nd->len, S_IFDIR | (mode & ~current_umask() & S_IALLUGO));
}

long sys_mkdirat(int dirfd, uintptr_t path, unsigned mode)
{
	return with_parent(dirfd, path, mkdir_op, &mode);
}

static int unlink_op(struct nameidata *nd, void *arg)
{
	(void)arg;
	struct inode *dir = nd->dir.ino;
	int err;
	if (nd->len == 0 || is_dot(nd->last, nd->len))
		return -EISDIR;
	if ((err = may_access(&nd->dir, W_OK)))
		return err;
	struct inode *victim = lookup_raw(dir, nd->last, nd->len, &err);
	if (!victim)
		return err;
	if (S_ISDIR(victim->mode))
		err = -EISDIR;
	else if (nd->slash)
		err = -ENOTDIR;
	else if (READ_ONCE(victim->mounted))
		err = -EBUSY;
	else
		err = dir->iops->unlink ? dir->iops->unlink(dir, nd->last, nd->len) : -EPERM;
	inode_put(victim);
	return err;
}

static int rmdir_op(struct nameidata *nd, void *arg)
{
	(void)arg;
	struct inode *dir = nd->dir.ino;
	int err;
	if (nd->len == 0)
		return -EBUSY;
	if (is_dot(nd->last, nd->len))
		return nd->len == 1 ? -EINVAL : -ENOTEMPTY;
	if ((err = may_access(&nd->dir, W_OK)))
		return err;
	struct inode *victim = lookup_raw(dir, nd->last, nd->len, &err);
	if (!victim)
		return err;
	if (!S_ISDIR(victim->mode))
		err = -ENOTDIR;
	else if (READ_ONCE(victim->mounted))
		err = -EBUSY;
	else
		err = dir->iops->rmdir ? dir->iops->rmdir(dir, nd->last, nd->len) : -EPERM;
	inode_put(victim);
	return err;
}

long sys_unlinkat(int dirfd, uintptr_t path, int flags)
{
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	return with_parent(dirfd, path, (flags & AT_REMOVEDIR) ? rmdir_op : unlink_op, NULL);
}

static int symlink_op(struct nameidata *nd, void *arg)
{
	struct inode *dir = nd->dir.ino;
	int err;
	if (nd->len == 0 || is_dot(nd->last, nd->len) || name_exists(nd))
		return -EEXIST;
	if (nd->slash)
		return -ENOENT;
	if ((err = may_access(&nd->dir, W_OK)))
		return err;
	return dir->iops->symlink ? dir->iops->symlink(dir, nd->last, nd->len, arg) : -EPERM;
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

static int link_op(struct nameidata *nd, void *arg)
{
	struct path *old = arg;
	struct inode *dir = nd->dir.ino;
	int err;
	if (nd->len == 0 || is_dot(nd->last, nd->len) || name_exists(nd))
		return -EEXIST;
	if (nd->slash)
		return -ENOENT;
	if (old->mnt != nd->dir.mnt)
		return -EXDEV;
	if ((err = may_access(&nd->dir, W_OK)))
		return err;
	if (READ_ONCE(old->ino->nlink) == 0)         /* unlinked meanwhile (not O_TMPFILE-linkable) */
		return -ENOENT;
	return dir->iops->link ? dir->iops->link(old->ino, dir, nd->last, nd->len) : -EPERM;
}

long sys_linkat(int olddirfd, uintptr_t oldpath, int newdirfd, uintptr_t newpath, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct path old;
	int err = lookup_user(olddirfd, oldpath, (flags & AT_EMPTY_PATH) |
			      ((flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW), &old);
	if (err)
		return err;
	err = S_ISDIR(old.ino->mode) ? -EPERM : with_parent(newdirfd, newpath, link_op, &old);
	path_put(&old);
	return err;
}

/* ---- rename ---- */

/* Is a (a directory) d or above it, below the mount's root top? Walks ".." (may sleep). */
static bool is_ancestor(struct inode *a, struct inode *d, struct inode *top)
{
	struct inode *p = d;
	inode_get(p);
	bool found = false;
	for (int depth = 0; depth < PATH_MAX / 2; depth++) {
		if (p == a) {
			found = true;
			break;
		}
		int err;
		struct inode *up = p == top || !p->iops || !p->iops->lookup ? NULL : p->iops->lookup(p, "..", 2, &err);
		if (!up || up == p) {
			inode_put(up);
			break;
		}
		inode_put(p);
		p = up;
	}
	inode_put(p);
	return found;
}

static int rename_op(struct nameidata *on, struct nameidata *nn, unsigned flags)
{
	struct inode *odir = on->dir.ino, *ndir = nn->dir.ino;
	int err;
	if (on->len == 0 || is_dot(on->last, on->len) || nn->len == 0 || is_dot(nn->last, nn->len))
		return -EBUSY;
	if (on->dir.mnt != nn->dir.mnt)
		return -EXDEV;
	if ((err = may_access(&on->dir, W_OK)))
		return err;
	struct inode *src = lookup_raw(odir, on->last, on->len, &err);
	if (!src)
		return err;
	struct inode *dst = lookup_raw(ndir, nn->last, nn->len, &err);
	err = 0;
	if (!S_ISDIR(src->mode) && (on->slash || nn->slash))
		err = -ENOTDIR;
	else if (READ_ONCE(src->mounted) || (dst && READ_ONCE(dst->mounted)))
		err = -EBUSY;
	else if (!odir->iops->rename)
		err = -EPERM;
	else if (src == dst)
		err = 0;                             /* one file under both names (even one entry): as Linux's
						      * vfs_rename, nothing to do; RENAME_EXCHANGE of an entry
						      * with itself unlinked it twice (found by sysfuzz) */
	else if (odir != ndir && S_ISDIR(src->mode) && is_ancestor(src, ndir, on->dir.mnt->root))
		err = -EINVAL;                       /* a directory into itself */
	else if (odir != ndir && dst && (flags & RENAME_EXCHANGE) && S_ISDIR(dst->mode) &&
		 is_ancestor(dst, odir, on->dir.mnt->root))
		err = -EINVAL;
	else
		err = odir->iops->rename(odir, on->last, on->len, ndir, nn->last, nn->len, flags);
	inode_put(src);
	inode_put(dst);
	return err;
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
	char *newname = getname(newpath, &err);
	struct path obase, nbase;
	if (newname && !(err = path_base(olddirfd, oldpath, &obase))) {
		if (!(err = path_base(newdirfd, newname, &nbase))) {
			struct nameidata on, nn;
			if (!(err = walk_parent(&obase, oldpath, &on))) {
				if (!(err = walk_parent(&nbase, newname, &nn)))
					err = rename_op(&on, &nn, flags);
				nd_release(&nn);
			}
			nd_release(&on);
			path_put(&nbase);
		}
		path_put(&obase);
	}
	putname(newname);
	putname(oldpath);
	return err;
}

/* ---- readlink, access, chmod, truncate ---- */

long sys_readlinkat(int dirfd, uintptr_t upath, uintptr_t ubuf, size_t size)
{
	if ((long)size <= 0)
		return -EINVAL;
	struct path p;
	int err;
	char *path = getname(upath, &err);
	if (!path)
		return err;
	bool empty = !path[0];                       /* an O_PATH fd of a symlink itself */
	err = lookup_at(dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &p);
	putname(path);
	if (err)
		return err;
	char *buf = kmalloc(PATH_MAX);
	long len = -ENOMEM;
	if (!S_ISLNK(p.ino->mode)) {
		len = empty ? -ENOENT : -EINVAL;
	} else if (buf) {
		len = vfs_readlink(p.ino, buf, MIN(size, (size_t)PATH_MAX));
		if (len > 0 && copy_to_user(ubuf, buf, len))
			len = -EFAULT;
	}
	kfree(buf);
	path_put(&p);
	return len;
}

long sys_faccessat2(int dirfd, uintptr_t upath, int mode, int flags)
{
	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct path p;
	int err = lookup_user(dirfd, upath, flags, &p);
	if (err)
		return err;
	err = may_access(&p, mode);                  /* root: only x bits, noexec and EROFS matter */
	path_put(&p);
	return err;
}

long sys_faccessat(int dirfd, uintptr_t path, int mode) { return sys_faccessat2(dirfd, path, mode, 0); }

long sys_fchmodat(int dirfd, uintptr_t upath, unsigned mode)
{
	struct path p;
	int err = lookup_user(dirfd, upath, 0, &p);
	if (err)
		return err;
	struct iattr ia = { .valid = ATTR_MODE, .mode = mode };
	err = p.mnt && mnt_readonly(p.mnt) ? -EROFS : vfs_setattr(p.ino, &ia);
	path_put(&p);
	return err;
}

long sys_truncate(uintptr_t upath, long length)
{
	if (length < 0)
		return -EINVAL;
	struct path p;
	int err = lookup_user(AT_FDCWD, upath, 0, &p);
	if (err)
		return err;
	if (S_ISDIR(p.ino->mode))
		err = -EISDIR;
	else if (!S_ISREG(p.ino->mode) || !p.ino->iops || !p.ino->iops->write)
		err = -EINVAL;
	else if (!(err = may_access(&p, W_OK)))
		err = vfs_truncate(p.ino, length);
	path_put(&p);
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
	struct path cwd = fs->cwd;
	path_get(&cwd);
	spin_unlock(&fs->lock);
	long len = path_name(&cwd, buf, PATH_MAX);
	path_put(&cwd);
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

static long set_cwd(struct path *p)
{
	if (!S_ISDIR(p->ino->mode)) {
		path_put(p);
		return -ENOTDIR;
	}
	fs_set_cwd(current->fs, p);
	return 0;
}

long sys_chdir(uintptr_t upath)
{
	struct path p;
	int err = lookup_user(AT_FDCWD, upath, 0, &p);
	return err ? err : set_cwd(&p);
}

long sys_fchdir(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct path p = { f->mnt, f->inode };
	path_get(&p);
	file_put(f);
	return set_cwd(&p);
}
