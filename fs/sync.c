/*
 * statfs/fstatfs, the sync family (sync, syncfs, fsync, fdatasync) and fallocate: each is
 * dispatched to the file system that holds the file (super_ops->statfs/sync, inode_ops->fsync/
 * fallocate). RAM file systems have nothing to write back, so sync returns 0 at once for them.
 * fsync on files that are not in a file system that can write back (pipes, sockets, character
 * devices) is EINVAL as on Linux. statfs fills what does not depend on the file system (f_type,
 * f_fsid from st_dev, f_flags from the mount) before the fs adds its counts.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "mm/uaccess.h"
#include "lib/string.h"

#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534F434B
#define DEFAULT_NAMELEN 255

static long st_flags(const struct mount *m)
{
	long f = ST_VALID;
	if (!m)
		return f;
	if (mnt_readonly(m))
		f |= ST_RDONLY;
	if (m->flags & MNT_NOSUID)
		f |= ST_NOSUID;
	if (m->flags & MNT_NODEV)
		f |= ST_NODEV;
	if (m->flags & MNT_NOEXEC)
		f |= ST_NOEXEC;
	if (m->flags & MNT_NOATIME)
		f |= ST_NOATIME;
	if (m->flags & MNT_NODIRATIME)
		f |= ST_NODIRATIME;
	if (m->flags & MNT_RELATIME)
		f |= ST_RELATIME;
	return f;
}

static int do_statfs(const struct path *p, uintptr_t ubuf)
{
	struct linux_statfs st;
	memset(&st, 0, sizeof(st));
	struct super_block *sb = p->ino->sb;
	st.f_bsize = st.f_frsize = FS_BLKSIZE;
	st.f_namelen = DEFAULT_NAMELEN;
	st.f_flags = st_flags(p->mnt);
	int err = 0;
	if (sb) {
		st.f_type = sb->magic;
		st.f_fsid[0] = sb->dev;
		if (sb->ops->statfs)
			err = sb->ops->statfs(sb, &st);
	} else {
		st.f_type = S_ISFIFO(p->ino->mode) ? PIPEFS_MAGIC : SOCKFS_MAGIC;
	}
	if (err)
		return err;
	return copy_to_user(ubuf, &st, sizeof(st));
}

long sys_statfs(uintptr_t upath, uintptr_t ubuf)
{
	struct path p;
	int err = lookup_user(AT_FDCWD, upath, 0, &p);
	if (err)
		return err;
	err = do_statfs(&p, ubuf);
	path_put(&p);
	return err;
}

long sys_fstatfs(int fd, uintptr_t ubuf)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct path p = { f->mnt, f->inode };
	int err = do_statfs(&p, ubuf);
	file_put(f);
	return err;
}

/* The block layer's write-back of every device's cached blocks (block/bdev_node.c); nothing in a
 * build without it (host unit tests). */
__attribute__((weak)) int block_sync_all(void) { return 0; }

long sys_sync(void)
{
	sync_all();                                  /* sync(2) cannot fail */
	block_sync_all();
	return 0;
}

long sys_syncfs(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct super_block *sb = f->inode->sb;
	int err = sb && sb->ops->sync && !(sb->flags & SB_RDONLY) ? sb->ops->sync(sb) : 0;
	file_put(f);
	return err;
}

static long fsync_fd(int fd, bool datasync)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	uint32_t mode = f->inode->mode;
	long r;
	if (f->f_flags & O_PATH)
		r = -EBADF;
	else if (!(S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode) || S_ISBLK(mode)) || !f->inode->sb)
		r = -EINVAL;                         /* pipes, sockets, character devices */
	else
		r = vfs_fsync(f, datasync);
	file_put(f);
	return r;
}

long sys_fsync(int fd) { return fsync_fd(fd, false); }
long sys_fdatasync(int fd) { return fsync_fd(fd, true); }

long sys_fallocate(int fd, int mode, long off, long len)
{
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | 0x7c))
		return -EOPNOTSUPP;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct inode *ino = f->inode;
	unsigned acc = f->f_flags & O_ACCMODE;
	long r;
	if ((f->f_flags & O_PATH) || (acc != O_WRONLY && acc != O_RDWR))
		r = -EBADF;
	else if (S_ISDIR(ino->mode))
		r = -EISDIR;
	else if (S_ISFIFO(ino->mode))
		r = -ESPIPE;
	else if (!S_ISREG(ino->mode))
		r = -ENODEV;
	else if ((uint64_t)off + (uint64_t)len > (uint64_t)LINUX_SSIZE_MAX)
		r = -EFBIG;
	else if (ino->seals && !(mode & FALLOC_FL_KEEP_SIZE) &&
		 (r = memfd_seal_check_size(ino, MAX(ino->size, (uint64_t)off + (uint64_t)len))) < 0)
		;                                    /* F_SEAL_GROW (memfd_seal.c) */
	else if ((mode & FALLOC_FL_PUNCH_HOLE) && memfd_seal_denies_write(ino))
		r = -EPERM;
	else if (!ino->iops || !ino->iops->fallocate)
		r = -EOPNOTSUPP;
	else
		r = ino->iops->fallocate(ino, mode, off, len);
	file_put(f);
	return r;
}
