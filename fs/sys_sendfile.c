/*
 * sendfile(2): copy bytes from a regular file to a socket or another regular file without a trip
 * through user memory.
 *
 * The data moves in chunks through one kernel bounce buffer: kernel_read from the input at the
 * position (the caller's *offset, else in->pos under in->pos_lock), then sock_send_kernel (a socket:
 * the same path as write(2), blocking unless O_NONBLOCK, SIGPIPE on EPIPE) or kernel_write (a
 * regular file, at out->pos under its pos_lock). A short send ends the call; the position moves by
 * what was sent. Errors come in Linux's order (do_sendfile): the offset pointer (EFAULT), the input
 * fd (EBADF, not readable EBADF), a negative offset (EINVAL), the output fd (EBADF, not writable
 * EBADF), a non-regular input or an unsupported / O_APPEND output (EINVAL). An error after some
 * bytes moved returns the count instead. Thread context; may sleep; holds no spinlock.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/signal.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"
#include "net/socket.h"

#define SENDFILE_CHUNK (64 * 1024)           /* bytes per read/send round */

static bool fmode_read(struct file *f)
{
	return !(f->f_flags & O_PATH) && (f->f_flags & O_ACCMODE) != O_WRONLY;
}

static bool fmode_write(struct file *f)
{
	unsigned acc = f->f_flags & O_ACCMODE;
	return !(f->f_flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR);
}

/* Move up to count bytes from in at *pos to out; advance *pos by what was delivered. */
static long sendfile_copy(struct file *out, struct file *in, uint64_t *pos, size_t count)
{
	bool sock = file_is_socket(out);
	char *buf = kmalloc(MIN(count, (size_t)SENDFILE_CHUNK));
	if (!buf)
		return -ENOMEM;
	long total = 0, err = 0;
	while ((size_t)total < count) {
		size_t want = MIN(count - (size_t)total, (size_t)SENDFILE_CHUNK);
		long got = kernel_read(in, buf, want, *pos);
		if (got <= 0) {
			err = got;
			break;
		}
		long sent;
		if (sock) {
			sent = sock_send_kernel(out, buf, (size_t)got);
		} else {
			sleep_lock(&out->pos_lock);
			sent = kernel_write(out, buf, (size_t)got, out->pos);
			if (sent > 0)
				out->pos += (uint64_t)sent;
			sleep_unlock(&out->pos_lock);
		}
		if (sent <= 0) {
			err = sent;
			break;
		}
		total += sent;
		*pos += (uint64_t)sent;
		if (sent < got || signal_pending())
			break;
	}
	kfree(buf);
	return total ? total : err;
}

long sys_sendfile(int out_fd, int in_fd, uintptr_t uoffset, size_t count)
{
	int64_t off = 0;
	if (uoffset && copy_from_user(&off, uoffset, sizeof(off)))
		return -EFAULT;
	struct file *in = fd_get(in_fd);
	if (!in)
		return -EBADF;
	struct file *out = NULL;
	long r = -EBADF;
	if (!fmode_read(in))
		goto done;
	r = -EINVAL;
	if (uoffset && off < 0)
		goto done;
	r = -EBADF;
	out = fd_get(out_fd);
	if (!out || !fmode_write(out))
		goto done;
	r = -EINVAL;
	if (!file_is_regular(in) || (out->f_flags & O_APPEND) || in->inode == out->inode ||
	    !(file_is_socket(out) || file_is_regular(out)))
		goto done;
	count = MIN(count, (size_t)MAX_RW_COUNT);
	if (uoffset) {
		uint64_t pos = (uint64_t)off;
		r = count ? sendfile_copy(out, in, &pos, count) : 0;
		off = (int64_t)pos;
		if (copy_to_user(uoffset, &off, sizeof(off)))
			r = -EFAULT;
	} else {
		sleep_lock(&in->pos_lock);
		r = count ? sendfile_copy(out, in, &in->pos, count) : 0;
		sleep_unlock(&in->pos_lock);
	}
done:
	if (out)
		file_put(out);
	file_put(in);
	return r;
}
