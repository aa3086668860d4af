/*
 * File system calls on open files: open, read/write and their vector and positioned forms, lseek,
 * fstat, getdents64, ftruncate, fchmod, fcntl, ioctl. (close/dup/dup3 are in file.c, pipe2 in
 * pipe.c, the path-based calls in sys_path.c, the sync family and statfs in sync.c, sendfile and
 * copy_file_range in copy.c.)
 *
 * Each call pins its file with fd_get for its whole duration. A file is seekable when its ops
 * have llseek; then read/write/lseek/getdents serialize on f->pos_lock and use f->pos. Stream
 * files (pipes, the console) get a throw-away position. Arguments are checked the way Linux
 * does, in the same order where it decides which errno wins.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/syscall.h"
#include "mm/kmalloc.h"
#include "kernel/sched.h"
#include "mm/uaccess.h"

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)
#define OPEN_FLAGS_DROPPED (O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)
#define F_GETPIPE_SZ 1032
#define PIPE_SIZE_REPORTED (64 * 1024)

/* struct flock (asm-generic/fcntl.h, 64-bit) */
struct linux_flock { int16_t l_type, l_whence; int64_t l_start, l_len; int32_t l_pid; };
#define F_UNLCK 2

static const struct file_ops path_ops = { 0 };      /* O_PATH: a handle for *at() and fstat only */

static bool is_path(struct file *f) { return f->f_flags & O_PATH; }
static bool readable(struct file *f) { return !is_path(f) && (f->f_flags & O_ACCMODE) != O_WRONLY; }
static bool writable(struct file *f)
{
	unsigned acc = f->f_flags & O_ACCMODE;
	return !is_path(f) && (acc == O_WRONLY || acc == O_RDWR);
}
static bool seekable(struct file *f) { return f->ops->llseek != NULL; }

/* ---- open ---- */

/* The place O_CREAT opens: the existing file (symlinks followed, even dangling ones, whose target
 * gets created) or a new regular file, held in *out. */
static int open_create(struct nameidata *nd, int flags, unsigned mode, bool *created, struct path *out)
{
	for (;;) {
		if (nd->len == 0 || nd->slash || is_dot(nd->last, nd->len))
			return -EISDIR;
		struct path p;
		int err = walk_step(&nd->dir, nd->last, nd->len, &p);
		if (err == -ENOENT) {
			struct inode *dir = nd->dir.ino, *ino;
			if ((err = may_access(&nd->dir, W_OK)))
				return err;
			if (!dir->iops || !dir->iops->create)
				return -EACCES;
			err = dir->iops->create(dir, nd->last, nd->len,
						S_IFREG | (mode & ~current_umask() & S_IALLUGO), 0, &ino);
			if (err == -EEXIST && !(flags & O_EXCL))
				continue;                    /* made meanwhile: open that one */
			if (err)
				return err;
			*created = true;
			*out = (struct path){ nd->dir.mnt, ino };
			if (out->mnt)
				mnt_get(out->mnt);
			return 0;
		}
		if (err)
			return err;
		if (flags & O_EXCL) {
			path_put(&p);
			return -EEXIST;
		}
		if (!S_ISLNK(p.ino->mode)) {
			*out = p;
			return 0;
		}
		if ((flags & O_NOFOLLOW) || ++nd->links > MAX_SYMLINKS) {
			path_put(&p);
			return -ELOOP;
		}
		char *target = kmalloc(PATH_MAX);
		long n = target ? vfs_readlink(p.ino, target, PATH_MAX - 1) : -ENOMEM;
		path_put(&p);
		if (n <= 0) {
			kfree(target);
			return n ? (int)n : -ENOENT;
		}
		target[n] = '\0';
		struct path base;
		if (target[0] == '/')
			root_path(&base);
		else {
			base = nd->dir;
			path_get(&base);
		}
		int links = nd->links;
		nd_release(nd);
		err = walk_parent(&base, target, nd);
		path_put(&base);
		nd->links += links;
		nd->linkbuf = target;                        /* nd->last points into it */
		if (err)
			return err;
	}
}

int do_open(int dirfd, const char *path, int flags, unsigned mode, struct file **out)
{
	struct path base, p = { 0 };
	struct nameidata nd;
	bool created = false;
	unsigned acc = flags & O_ACCMODE;
	int err;
	if ((flags & O_TMPFILE) == O_TMPFILE && acc == O_RDONLY)
		return -EINVAL;
	if ((err = path_base(dirfd, path, &base)))
		return err;
	err = walk_parent(&base, path, &nd);
	path_put(&base);
	if (err) {
		nd_release(&nd);
		return err;
	}
	if ((flags & O_TMPFILE) == O_TMPFILE) {              /* an unnamed file in a directory */
		struct path dir;
		if (!(err = walk_last(&nd, true, &dir))) {
			struct inode *ino = NULL;
			if (!S_ISDIR(dir.ino->mode))
				err = -ENOTDIR;
			else if (!(err = may_access(&dir, W_OK)))
				err = !dir.ino->iops->tmpfile ? -EOPNOTSUPP :
				      dir.ino->iops->tmpfile(dir.ino, S_IFREG | (mode & ~current_umask() & S_IALLUGO), &ino);
			if (!err) {
				p = (struct path){ dir.mnt, ino };
				if (p.mnt)
					mnt_get(p.mnt);
				created = true;
			}
			path_put(&dir);
		}
	} else if (flags & O_CREAT) {
		err = open_create(&nd, flags, mode, &created, &p);
	} else {
		err = walk_last(&nd, !(flags & O_NOFOLLOW), &p);
	}
	nd_release(&nd);
	if (err)
		return err;
	struct inode *ino = p.ino;
	if ((flags & O_TMPFILE) == O_TMPFILE)
		;                                            /* a fresh file: nothing to check */
	else if (S_ISLNK(ino->mode) && !(flags & O_PATH))
		err = -ELOOP;                                /* O_NOFOLLOW met a symlink */
	else if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
		err = -ENOTDIR;
	else if (S_ISDIR(ino->mode) && !(flags & O_PATH) &&
		 (acc != O_RDONLY || (flags & (O_TRUNC | O_CREAT))))
		err = -EISDIR;
	else if ((S_ISFIFO(ino->mode) || (ino->mode & S_IFMT) == S_IFSOCK) && !(flags & O_PATH))
		err = -ENXIO;                                /* no named pipes or sockets yet */
	else if ((S_ISCHR(ino->mode) || S_ISBLK(ino->mode)) && !(flags & O_PATH) && p.mnt &&
		 (p.mnt->flags & MNT_NODEV))
		err = -EACCES;
	else if (!(flags & O_PATH) && !created && (acc != O_RDONLY || (flags & O_TRUNC)))
		err = may_access(&p, W_OK);                  /* EROFS */
	if (!err && (flags & O_TRUNC) && !created && !(flags & O_PATH) && S_ISREG(ino->mode) &&
	    ino->iops && ino->iops->write)
		err = vfs_truncate(ino, 0);
	if (err) {
		path_put(&p);
		return err;
	}
	unsigned fflags = (flags & ~OPEN_FLAGS_DROPPED) | O_LARGEFILE;
	if (flags & O_PATH)
		fflags = flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW);
	const struct file_ops *ops = (flags & O_PATH) || !ino->fops ? &path_ops : ino->fops;
	struct file *f = file_alloc(ino, ops, fflags, ino->priv);
	if (!f) {
		path_put(&p);
		return -ENOMEM;
	}
	f->mnt = p.mnt;                                      /* the path's mount reference moves in */
	inode_put(ino);
	if (!(flags & O_PATH) && ops->open && (err = ops->open(ino, f))) {
		f->ops = &path_ops;                          /* a failed open is not released */
		file_put(f);
		return err;
	}
	f->path = open_path(dirfd, path);                   /* for /proc/<pid>/fd and maps */
	*out = f;
	return 0;
}

long sys_openat(int dirfd, uintptr_t upath, int flags, unsigned mode)
{
	int err;
	char *path = getname(upath, &err);
	if (!path)
		return err;
	struct file *f;
	err = do_open(dirfd, path, flags, mode, &f);
	putname(path);
	if (err)
		return err;
	int fd = fd_install(current->files, f, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

/* ---- read and write ---- */

/* One read or write; pos is NULL to use (and advance) the file position. */
static long do_rw(struct file *f, uintptr_t buf, size_t n, uint64_t *pos, bool write)
{
	if (write ? !writable(f) : !readable(f))
		return -EBADF;
	long (*op)(struct file *, uintptr_t, size_t, uint64_t *) = write ? f->ops->write : f->ops->read;
	if (!op)
		return -EINVAL;
	n = MIN(n, (size_t)MAX_RW_COUNT);
	if (!access_ok(buf, n))
		return -EFAULT;
	if (pos)
		return op(f, buf, n, pos);
	if (!seekable(f)) {
		uint64_t stream_pos = 0;
		return op(f, buf, n, &stream_pos);
	}
	sleep_lock(&f->pos_lock);
	long r = op(f, buf, n, &f->pos);
	sleep_unlock(&f->pos_lock);
	return r;
}

static long rw_fd(int fd, uintptr_t buf, size_t n, uint64_t *pos, bool write)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long r = do_rw(f, buf, n, pos, write);
	file_put(f);
	return r;
}

long sys_read(int fd, uintptr_t buf, size_t n) { return rw_fd(fd, buf, n, NULL, false); }
long sys_write(int fd, uintptr_t buf, size_t n) { return rw_fd(fd, buf, n, NULL, true); }

static long prw(int fd, uintptr_t buf, size_t n, long off, bool write)
{
	if (off < 0)
		return -EINVAL;
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long r;
	if (write ? !writable(f) : !readable(f))
		r = -EBADF;
	else if (!seekable(f))
		r = -ESPIPE;
	else {
		uint64_t pos = off;
		r = do_rw(f, buf, n, &pos, write);
	}
	file_put(f);
	return r;
}

long sys_pread64(int fd, uintptr_t buf, size_t n, long off) { return prw(fd, buf, n, off, false); }
long sys_pwrite64(int fd, uintptr_t buf, size_t n, long off) { return prw(fd, buf, n, off, true); }

static long rw_vec(int fd, uintptr_t uiov, int iovcnt, bool write)
{
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long total = 0, ret = 0;
	struct linux_iovec *iov = NULL;
	if (write ? !writable(f) : !readable(f)) {
		ret = -EBADF;
		goto out;
	}
	if (iovcnt == 0)
		goto out;
	if (!(iov = kmalloc(iovcnt * sizeof(*iov)))) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(iov, uiov, iovcnt * sizeof(*iov))) {
		ret = -EFAULT;
		goto out;
	}
	long sum = 0;
	for (int i = 0; i < iovcnt; i++) {              /* validate everything before any I/O */
		if ((long)iov[i].iov_len < 0 || iov[i].iov_len > (uint64_t)(LINUX_SSIZE_MAX - sum)) {
			ret = -EINVAL;
			goto out;
		}
		sum += iov[i].iov_len;
		if (!access_ok(iov[i].iov_base, iov[i].iov_len)) {
			ret = -EFAULT;
			goto out;
		}
	}
	if (f->ops->rw_vec) {
		ret = f->ops->rw_vec(f, iov, iovcnt, write);
		goto out;
	}
	for (int i = 0; i < iovcnt && total < MAX_RW_COUNT; i++) {
		size_t len = MIN(iov[i].iov_len, (uint64_t)(MAX_RW_COUNT - total));
		if (len == 0)
			continue;
		long r = do_rw(f, iov[i].iov_base, len, NULL, write);
		if (r < 0) {
			ret = r;
			break;
		}
		total += r;
		if ((size_t)r < len)
			break;
	}
out:
	kfree(iov);
	file_put(f);
	return total ? total : ret;
}

long sys_readv(int fd, uintptr_t iov, int iovcnt) { return rw_vec(fd, iov, iovcnt, false); }
long sys_writev(int fd, uintptr_t iov, int iovcnt) { return rw_vec(fd, iov, iovcnt, true); }

/* ---- lseek, fstat, getdents, truncate, sync ---- */

long sys_lseek(int fd, long off, int whence)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long r;
	if (is_path(f))
		r = -EBADF;
	else if (!seekable(f))
		r = -ESPIPE;
	else if (whence < SEEK_SET || whence > SEEK_HOLE)
		r = -EINVAL;
	else {
		sleep_lock(&f->pos_lock);
		r = f->ops->llseek(f, off, whence);
		sleep_unlock(&f->pos_lock);
	}
	file_put(f);
	return r;
}

long sys_fstat(int fd, uintptr_t ust)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct linux_stat st;
	stat_fill(f->inode, &st);
	file_put(f);
	return copy_to_user(ust, &st, sizeof(st));
}

long sys_getdents64(int fd, uintptr_t dirp, size_t n)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long r;
	if (is_path(f))
		r = -EBADF;
	else if (!f->ops->getdents)
		r = -ENOTDIR;
	else if (!access_ok(dirp, n))
		r = -EFAULT;
	else {
		n = MIN(n, (size_t)MAX_RW_COUNT);
		sleep_lock(&f->pos_lock);
		r = f->ops->getdents(f, dirp, n);
		sleep_unlock(&f->pos_lock);
	}
	file_put(f);
	return r;
}

long sys_ftruncate(int fd, long length)
{
	if (length < 0)
		return -EINVAL;
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long r;
	if (is_path(f))
		r = -EBADF;
	else if (!file_is_regular(f) || !writable(f))
		r = -EINVAL;
	else
		r = vfs_truncate(f->inode, length);
	file_put(f);
	return r;
}

long sys_fchmod(int fd, unsigned mode)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long r = -EBADF;
	if (!is_path(f)) {
		struct iattr ia = { .valid = ATTR_MODE, .mode = mode };
		r = f->mnt && mnt_readonly(f->mnt) ? -EROFS : vfs_setattr(f->inode, &ia);
	}
	file_put(f);
	return r;
}

/* ---- fcntl and ioctl ---- */

static void set_flags(struct file *f, unsigned set, unsigned mask)
{
	unsigned old = READ_ONCE(f->f_flags), new;
	do {
		new = (old & ~mask) | (set & mask);
	} while (!__atomic_compare_exchange_n(&f->f_flags, &old, new, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
}

long sys_fcntl(int fd, int cmd, unsigned long arg)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long r;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= (unsigned long)fd_limit()) {     /* RLIMIT_NOFILE */
			r = -EINVAL;
			break;
		}
		file_get(f);
		r = fd_install_from(current->files, f, arg, cmd == F_DUPFD_CLOEXEC);
		if (r < 0)
			file_put(f);
		break;
	case F_GETFD:
		r = fd_get_cloexec(fd);
		break;
	case F_SETFD:
		r = fd_set_cloexec(fd, arg & FD_CLOEXEC);
		break;
	case F_GETFL:
		r = READ_ONCE(f->f_flags);
		break;
	case F_SETFL:
		if (is_path(f)) {
			r = -EBADF;
			break;
		}
		set_flags(f, arg, SETFL_MASK);
		r = 0;
		break;
	case F_GETLK: {                              /* no record locks are ever held */
		struct linux_flock fl;
		if (is_path(f))
			r = -EBADF;
		else if (copy_from_user(&fl, arg, sizeof(fl)))
			r = -EFAULT;
		else {
			fl.l_type = F_UNLCK;
			r = copy_to_user(arg, &fl, sizeof(fl));
		}
		break;
	}
	case F_SETLK:
	case F_SETLKW:                               /* granted: one process only sees its own */
		r = is_path(f) ? -EBADF : 0;
		break;
	case 1033:                                   /* F_ADD_SEALS, F_GET_SEALS: memfd_seal.c */
	case 1034:
		r = memfd_seal_fcntl(f, cmd, arg);
		break;
	case F_GETPIPE_SZ:
		r = S_ISFIFO(f->inode->mode) ? PIPE_SIZE_REPORTED : -EBADF;
		break;
	default:
		r = -EINVAL;
	}
	file_put(f);
	return r;
}

long sys_ioctl(int fd, unsigned long cmd_reg, unsigned long arg)
{
	/* Linux's ioctl takes an unsigned int command: a libc whose ioctl() passes it as an int (musl)
	 * sign-extends _IOR numbers (bit 31 set) into the register, so only the low 32 bits count. */
	unsigned long cmd = (uint32_t)cmd_reg;
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long r;
	int on;
	if (is_path(f)) {
		r = -EBADF;
	} else if (cmd == FIOCLEX || cmd == FIONCLEX) {
		r = fd_set_cloexec(fd, cmd == FIOCLEX);
	} else if (cmd == FIONBIO) {
		if (!(r = copy_from_user(&on, arg, sizeof(on))))
			set_flags(f, on ? O_NONBLOCK : 0, O_NONBLOCK);
	} else if (cmd == FIONREAD && file_is_regular(f)) {
		uint64_t size = file_size(f), pos = READ_ONCE(f->pos);
		on = size > pos ? (int)MIN(size - pos, (uint64_t)0x7fffffff) : 0;
		r = copy_to_user(arg, &on, sizeof(on));
	} else {
		r = f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
	}
	file_put(f);
	return r;
}
