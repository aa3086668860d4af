/*
 * sendfile and copy_file_range: copies between open files inside the kernel, a page-sized
 * bounce buffer at a time, through the inode ops' kernel-buffer read and write (the same ops
 * read(2) and write(2) use, fs/inode.c), so they work between any two file systems.
 *
 * sendfile reads a regular file (at *offset, or at its position under pos_lock) and writes a
 * regular file at its position; other outputs (pipes, sockets) are EINVAL here, which callers
 * such as busybox take as "fall back to read/write". copy_file_range copies between regular
 * files with Linux's checks (overlapping ranges of one file are EINVAL, an O_APPEND output is
 * EBADF). Both return the bytes copied, short at the input's end; an error after some bytes
 * were copied returns the count.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "mm/uaccess.h"

#define COPY_CHUNK PAGE_SIZE

static bool can_read(struct file *f)
{
	return !(f->f_flags & O_PATH) && (f->f_flags & O_ACCMODE) != O_WRONLY;
}

static bool can_write(struct file *f)
{
	unsigned acc = f->f_flags & O_ACCMODE;
	return !(f->f_flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR);
}

/* Copies up to len bytes from in at *ipos to out at *opos (kernel positions). */
static long copy_range(struct file *in, uint64_t *ipos, struct file *out, uint64_t *opos, size_t len)
{
	char *buf = kmalloc(COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	size_t done = 0;
	long err = 0;
	len = MIN(len, (size_t)MAX_RW_COUNT);
	while (done < len) {
		size_t k = MIN(len - done, (size_t)COPY_CHUNK);
		long r = in->inode->iops->read(in->inode, buf, k, *ipos, false);
		if (r <= 0) {
			err = r;
			break;
		}
		uint64_t at = *opos;
		long w = out->inode->iops->write(out->inode, buf, r, &at, false, false);
		if (w <= 0) {
			err = w ? w : -EIO;
			break;
		}
		*ipos += w;
		*opos = at;
		done += w;
		if (w < r)
			break;
	}
	kfree(buf);
	if (done && (out->f_flags & O_DSYNC)) {
		int e = vfs_fsync(out, (out->f_flags & O_SYNC) != O_SYNC);
		if (e)
			return e;
	}
	return done ? (long)done : err;
}

/* Two position locks (either may be NULL) in address order, so crossed copies cannot deadlock. */
static void lock_two(struct sleeplock *a, struct sleeplock *b)
{
	if (a && b && a > b) {
		struct sleeplock *t = a;
		a = b;
		b = t;
	}
	if (a)
		sleep_lock(a);
	if (b && b != a)
		sleep_lock(b);
}

static void unlock_two(struct sleeplock *a, struct sleeplock *b)
{
	if (a)
		sleep_unlock(a);
	if (b && b != a)
		sleep_unlock(b);
}

static bool regular_rw(struct file *f)
{
	return file_is_regular(f) && f->inode->iops->write;
}

long sendfile_files(int out_fd, int in_fd, uintptr_t uoff, size_t count)
{
	struct file *in = fd_get(in_fd), *out = fd_get(out_fd);
	long r;
	int64_t off = 0;
	if (!in || !out) {
		r = -EBADF;
		goto done;
	}
	if (!can_read(in) || !can_write(out)) {
		r = -EBADF;
		goto done;
	}
	if (!file_is_regular(in) || !regular_rw(out) || (out->f_flags & O_APPEND)) {
		r = -EINVAL;
		goto done;
	}
	if (uoff) {
		if (copy_from_user(&off, uoff, sizeof(off))) {
			r = -EFAULT;
			goto done;
		}
		if (off < 0) {
			r = -EINVAL;
			goto done;
		}
	}
	if (count == 0) {
		r = 0;
		goto done;
	}
	uint64_t ipos = uoff ? (uint64_t)off : 0;
	struct sleeplock *l1 = uoff ? NULL : &in->pos_lock, *l2 = in == out ? NULL : &out->pos_lock;
	lock_two(l1, l2);
	if (!uoff)
		ipos = in->pos;
	uint64_t opos = out->pos;
	r = copy_range(in, &ipos, out, &opos, count);
	out->pos = opos;                             /* in == out: the output position wins */
	if (!uoff && in != out)
		in->pos = ipos;
	unlock_two(l1, l2);
	if (uoff && r >= 0) {
		off = ipos;
		if (copy_to_user(uoff, &off, sizeof(off)))
			r = -EFAULT;
	}
done:
	if (in)
		file_put(in);
	if (out)
		file_put(out);
	return r;
}

static int get_off(uintptr_t u, int64_t *off)
{
	if (!u)
		return 0;
	if (copy_from_user(off, u, sizeof(*off)))
		return -EFAULT;
	return *off < 0 ? -EINVAL : 0;
}

long sys_copy_file_range(int fd_in, uintptr_t uoff_in, int fd_out, uintptr_t uoff_out, size_t len,
			 unsigned flags)
{
	if (flags)
		return -EINVAL;
	struct file *in = fd_get(fd_in), *out = fd_get(fd_out);
	int64_t oin = 0, oout = 0;
	long r = 0;
	if (!in || !out || !can_read(in) || !can_write(out) || (out->f_flags & O_APPEND)) {
		r = -EBADF;
		goto done;
	}
	if (S_ISDIR(in->inode->mode) || S_ISDIR(out->inode->mode)) {
		r = -EISDIR;
		goto done;
	}
	if (!file_is_regular(in) || !regular_rw(out)) {
		r = -EINVAL;
		goto done;
	}
	if ((r = get_off(uoff_in, &oin)) || (r = get_off(uoff_out, &oout)))
		goto done;
	if (len == 0)
		goto done;
	struct sleeplock *l1 = uoff_in ? NULL : &in->pos_lock;
	struct sleeplock *l2 = uoff_out || out == in ? NULL : &out->pos_lock;
	lock_two(l1, l2);
	uint64_t ipos = uoff_in ? (uint64_t)oin : in->pos;
	uint64_t opos = uoff_out ? (uint64_t)oout : out->pos;
	if (in->inode == out->inode && ipos < opos + len && opos < ipos + len) {
		r = -EINVAL;                         /* overlapping ranges of one file */
	} else {
		uint64_t size = file_size(in);
		size_t n = ipos >= size ? 0 : (size_t)MIN((uint64_t)len, size - ipos);
		r = n ? copy_range(in, &ipos, out, &opos, n) : 0;
		if (r > 0) {
			if (!uoff_in)
				in->pos = ipos;
			if (!uoff_out)
				out->pos = opos;
		}
	}
	unlock_two(l1, l2);
	if (r > 0) {
		oin = ipos;
		oout = opos;
		if ((uoff_in && copy_to_user(uoff_in, &oin, sizeof(oin))) ||
		    (uoff_out && copy_to_user(uoff_out, &oout, sizeof(oout))))
			r = -EFAULT;
	}
done:
	if (in)
		file_put(in);
	if (out)
		file_put(out);
	return r;
}
