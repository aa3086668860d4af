/*
 * Pipes: a PIPE_SIZE byte ring (pipe_ring.h) between two open files, the read end and the write
 * end, sharing one anonymous fifo inode.
 *
 * At most one reader and one writer copy at a time (the `reading` and `writing` flags); they copy
 * between user memory and the ring outside the lock, each in its own region (a reader in
 * [head, tail), a writer in [tail, head + size)), and publish the new index under the lock
 * afterwards. A write of at most PIPE_BUF bytes waits until it fits whole, so it is never split;
 * larger writes move in pieces as room appears and may interleave with other writers' pieces.
 *
 * Sleepers wait on rwait (readers: data, EOF, or their turn) and wwait (writers: room, no readers,
 * or their turn). A sleeper queues itself before checking its condition under the lock, and a
 * waker changes the condition under the lock before looking at the queue, so no wake-up is lost
 * (and the waker may skip wake_up when the queue is empty). Blocking waits return -ERESTARTSYS
 * when a signal is pending; O_NONBLOCK gives -EAGAIN instead of sleeping.
 *
 * Lifetime. The pipe lives while either end's file is open: each end's release drops its count
 * under the lock, and the release that leaves both at zero frees it. So a release must not touch
 * the pipe after it drops the lock: the other end may be released on another hart at that very
 * moment (a reader that sees EOF as soon as the writers count reads zero, and closes), and free
 * it. The closing end therefore wakes the other end's sleepers (EOF, EPIPE) with the lock still
 * held. Readers and writers may wake after unlocking: their own file keeps the pipe alive.
 *
 * Lock order: pipe->lock -> waitq locks (finish_wait, and release's wake-up, under pipe->lock) ->
 * run-queue locks; waitq callbacks (poll, epoll's ep->lock) come after the waitq lock.
 * pipe->lock guards head, tail, readers, writers, reading, writing.
 */
#include "fs/internal.h"
#include "fs/pipe_ring.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"

#define PIPE_SIZE (64 * 1024)
#define PIPE_ORDER 4                        /* PIPE_SIZE = PAGE_SIZE << PIPE_ORDER */

struct pipe {
	struct spinlock lock;
	struct pipe_ring ring;
	char *buf;
	int readers, writers;                /* open files of each end */
	bool reading, writing;               /* a reader / a writer is copying */
	struct waitq rwait, wwait;
};

static bool can_read(struct pipe *p, size_t need)
{
	(void)need;
	return !p->reading && (ring_used(&p->ring) > 0 || p->writers == 0);
}

static bool can_write(struct pipe *p, size_t need)
{
	return !p->writing && (p->readers == 0 || ring_space(&p->ring) >= need);
}

/*
 * Returns 0 with p->lock held once ready(p, need), or -EAGAIN / -ERESTARTSYS without it.
 */
static int pipe_wait(struct pipe *p, struct waitq *wq, bool (*ready)(struct pipe *, size_t),
		     size_t need, bool nonblock)
{
	spin_lock(&p->lock);
	if (ready(p, need))
		return 0;
	spin_unlock(&p->lock);
	if (nonblock)
		return -EAGAIN;
	struct wait_entry e = { .queued = false };
	int err;
	for (;;) {
		prepare_to_wait(wq, &e);
		spin_lock(&p->lock);
		if (ready(p, need)) {
			finish_wait(wq, &e);
			return 0;
		}
		spin_unlock(&p->lock);
		if (signal_pending()) {
			err = -ERESTARTSYS;
			break;
		}
		wait_schedule(TIMER_NONE);
	}
	finish_wait(wq, &e);
	return err;
}

static void wake(struct waitq *wq)
{
	if (waitq_active(wq))
		wake_all(wq);
}

static long pipe_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	struct pipe *p = f->priv;
	(void)pos;
	if (n == 0)
		return 0;
	int err = pipe_wait(p, &p->rwait, can_read, 1, f->f_flags & O_NONBLOCK);
	if (err)
		return err;
	uint32_t avail = MIN(ring_used(&p->ring), MIN(n, (size_t)PIPE_SIZE));
	if (avail == 0) {                            /* no writers left: EOF */
		spin_unlock(&p->lock);
		return 0;
	}
	uint32_t off[2], len[2], done = 0;
	int pieces = ring_pieces(&p->ring, p->ring.head, avail, off, len);
	p->reading = true;
	spin_unlock(&p->lock);

	for (int i = 0; i < pieces; i++) {
		if (copy_to_user(ubuf + done, p->buf + off[i], len[i]))
			break;
		done += len[i];
	}

	spin_lock(&p->lock);
	p->ring.head += done;
	p->reading = false;
	spin_unlock(&p->lock);
	wake(&p->wwait);                             /* room for writers */
	wake(&p->rwait);                             /* the next reader's turn */
	return done ? (long)done : -EFAULT;
}

static long pipe_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	struct pipe *p = f->priv;
	bool nonblock = f->f_flags & O_NONBLOCK;
	size_t done = 0;
	(void)pos;
	while (done < n) {
		/* small writes are atomic: wait for room for all of it */
		size_t need = n <= PIPE_BUF ? n : 1;
		int err = pipe_wait(p, &p->wwait, can_write, need, nonblock);
		if (err)
			return done ? (long)done : err;
		if (p->readers == 0) {
			spin_unlock(&p->lock);
			signal_raise(SIGPIPE);
			return done ? (long)done : -EPIPE;
		}
		uint32_t chunk = MIN(ring_space(&p->ring), n - done);
		uint32_t off[2], len[2], copied = 0;
		int pieces = ring_pieces(&p->ring, p->ring.tail, chunk, off, len);
		p->writing = true;
		spin_unlock(&p->lock);

		for (int i = 0; i < pieces; i++) {
			if (copy_from_user(p->buf + off[i], ubuf + done + copied, len[i]))
				break;
			copied += len[i];
		}

		spin_lock(&p->lock);
		p->ring.tail += copied;
		p->writing = false;
		spin_unlock(&p->lock);
		wake(&p->rwait);                     /* data for readers */
		wake(&p->wwait);                     /* the next writer's turn */
		done += copied;
		if (copied < chunk)
			return done ? (long)done : -EFAULT;
	}
	return done;
}

static unsigned pipe_poll_read(struct file *f)
{
	struct pipe *p = f->priv;
	spin_lock(&p->lock);
	unsigned m = (ring_used(&p->ring) ? EPOLLIN | EPOLLRDNORM : 0) | (p->writers ? 0 : EPOLLHUP);
	spin_unlock(&p->lock);
	return m;
}

static unsigned pipe_poll_write(struct file *f)
{
	struct pipe *p = f->priv;
	spin_lock(&p->lock);
	unsigned m = (ring_space(&p->ring) >= PIPE_BUF ? EPOLLOUT | EPOLLWRNORM : 0) |
		     (p->readers ? 0 : EPOLLERR);
	spin_unlock(&p->lock);
	return m;
}

static struct waitq *pipe_rwaitq(struct file *f) { return &((struct pipe *)f->priv)->rwait; }
static struct waitq *pipe_wwaitq(struct file *f) { return &((struct pipe *)f->priv)->wwait; }

static long pipe_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
	struct pipe *p = f->priv;
	if (cmd != FIONREAD)
		return -ENOTTY;
	spin_lock(&p->lock);
	int n = ring_used(&p->ring);
	spin_unlock(&p->lock);
	return copy_to_user(arg, &n, sizeof(n));
}

static void pipe_release(struct file *f, bool reader)
{
	struct pipe *p = f->priv;
	spin_lock(&p->lock);
	if (reader)
		p->readers--;
	else
		p->writers--;
	bool last = p->readers == 0 && p->writers == 0;
	/* Under the lock: once it is dropped, the other end's release may free p (see the top). */
	if (!last)
		wake(reader ? &p->wwait : &p->rwait);    /* EPIPE for writers, EOF for readers */
	spin_unlock(&p->lock);
	if (last) {
		free_pages(p->buf, PIPE_ORDER);
		kfree(p);
	}
}

static void pipe_release_read(struct file *f) { pipe_release(f, true); }
static void pipe_release_write(struct file *f) { pipe_release(f, false); }

const struct file_ops pipe_read_ops = {
	.read = pipe_read,
	.ioctl = pipe_ioctl,
	.release = pipe_release_read,
	.poll = pipe_poll_read,
	.waitq = pipe_rwaitq,
};

const struct file_ops pipe_write_ops = {
	.write = pipe_write,
	.ioctl = pipe_ioctl,
	.release = pipe_release_write,
	.poll = pipe_poll_write,
	.waitq = pipe_wwaitq,
};

/* Creates a pipe: *rd and *wr are new files (refcount 1 each). */
int pipe_create(unsigned flags, struct file **rd, struct file **wr)
{
	struct pipe *p = kzalloc(sizeof(*p));
	struct inode *ino = inode_new(S_IFIFO | 0600);
	if (!p || !ino || !(p->buf = alloc_pages(PIPE_ORDER, 0)))
		goto fail;
	spin_init(&p->lock, "pipe");
	ring_init(&p->ring, PIPE_SIZE);
	waitq_init(&p->rwait, "pipe_r");
	waitq_init(&p->wwait, "pipe_w");
	ino->priv = p;
	*rd = file_alloc(ino, &pipe_read_ops, O_RDONLY | (flags & O_NONBLOCK), p);
	*wr = file_alloc(ino, &pipe_write_ops, O_WRONLY | (flags & O_NONBLOCK), p);
	if (!*rd || !*wr) {
		kfree(*rd);                      /* not put: their release would count ends */
		kfree(*wr);
		if (*rd || *wr)
			inode_put(ino);              /* the reference a lone file took */
		goto fail;
	}
	p->readers = p->writers = 1;
	inode_put(ino);
	return 0;
fail:
	if (p && p->buf)
		free_pages(p->buf, PIPE_ORDER);
	kfree(p);
	inode_put(ino);
	return -ENOMEM;
}

long sys_pipe2(uintptr_t ufds, int flags)
{
	struct file *rd, *wr;
	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	int err = pipe_create(flags, &rd, &wr);
	if (err)
		return err;
	struct files *fs = current->files;
	int fds[2];
	fds[0] = fd_install(fs, rd, flags & O_CLOEXEC);
	if (fds[0] < 0) {
		file_put(rd);
		file_put(wr);
		return fds[0];
	}
	fds[1] = fd_install(fs, wr, flags & O_CLOEXEC);
	if (fds[1] < 0) {
		sys_close(fds[0]);
		file_put(wr);
		return fds[1];
	}
	if (copy_to_user(ufds, fds, sizeof(fds))) {
		sys_close(fds[0]);
		sys_close(fds[1]);
		return -EFAULT;
	}
	return 0;
}
