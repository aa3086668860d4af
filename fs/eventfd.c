/*
 * eventfd2(initval, flags): a 64-bit counter behind a file. write adds to it (waiting while the sum
 * would pass 0xfffffffffffffffe), read takes it all and leaves zero, or with EFD_SEMAPHORE takes
 * one (waiting while it is zero); both move exactly 8 bytes. Readable while the counter is
 * non-zero, writable while one more can be added; poll, select and epoll watch the file's wait
 * queue, which every change wakes, as do readers and writers waiting for their turn.
 * Locks: efd->lock (spinlock, interrupts off) guards count; wait-queue locks nest inside it.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"

#define EFD_SEMAPHORE 1
#define EFD_FLAGS (EFD_SEMAPHORE | O_NONBLOCK | O_CLOEXEC)
#define EFD_MAX 0xfffffffffffffffeULL        /* ULLONG_MAX - 1: the largest count */

struct eventfd {
	struct spinlock lock;
	struct waitq wq;
	uint64_t count;
	bool semaphore;
};

static const struct file_ops eventfd_ops;

/* Wait until try(efd, arg) succeeds under the lock (it returns true). 0, -EAGAIN, -ERESTARTSYS. */
static int efd_wait(struct file *f, bool (*try)(struct eventfd *, uint64_t *), uint64_t *arg)
{
	struct eventfd *efd = f->priv;
	spin_lock(&efd->lock);
	bool ok = try(efd, arg);
	spin_unlock(&efd->lock);
	if (ok)
		return 0;
	if (READ_ONCE(f->f_flags) & O_NONBLOCK)
		return -EAGAIN;
	struct wait_entry e = { .queued = false };
	int r = 0;
	for (;;) {
		prepare_to_wait(&efd->wq, &e);
		spin_lock(&efd->lock);
		ok = try(efd, arg);
		spin_unlock(&efd->lock);
		if (ok)
			break;
		if (signal_pending()) {
			r = -ERESTARTSYS;
			break;
		}
		wait_schedule(TIMER_NONE);
	}
	finish_wait(&efd->wq, &e);
	return r;
}

static bool try_read(struct eventfd *efd, uint64_t *v)
{
	if (!efd->count)
		return false;
	*v = efd->semaphore ? 1 : efd->count;
	efd->count -= *v;
	wake_all(&efd->wq);                       /* room for writers, news for pollers */
	return true;
}

static bool try_write(struct eventfd *efd, uint64_t *v)
{
	if (*v > EFD_MAX - efd->count)
		return false;
	efd->count += *v;
	if (*v)
		wake_all(&efd->wq);
	return true;
}

static long eventfd_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos __unused)
{
	if (n < sizeof(uint64_t))
		return -EINVAL;
	uint64_t v = 0;
	int r = efd_wait(f, try_read, &v);
	if (r)
		return r;
	return copy_to_user(ubuf, &v, sizeof(v)) ? -EFAULT : (long)sizeof(v);
}

static long eventfd_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos __unused)
{
	uint64_t v;
	if (n < sizeof(v))
		return -EINVAL;
	if (copy_from_user(&v, ubuf, sizeof(v)))
		return -EFAULT;
	if (v == ~0ULL)
		return -EINVAL;
	int r = efd_wait(f, try_write, &v);
	return r ? r : (long)sizeof(v);
}

static unsigned eventfd_poll(struct file *f)
{
	struct eventfd *efd = f->priv;
	spin_lock(&efd->lock);
	uint64_t c = efd->count;
	spin_unlock(&efd->lock);
	unsigned m = 0;
	if (c)
		m |= EPOLLIN | EPOLLRDNORM;
	if (c < EFD_MAX)
		m |= EPOLLOUT | EPOLLWRNORM;
	return m;
}

static struct waitq *eventfd_waitq(struct file *f) { return &((struct eventfd *)f->priv)->wq; }

static void eventfd_release(struct file *f) { kfree(f->priv); }

static const struct file_ops eventfd_ops = {
	.read = eventfd_read,
	.write = eventfd_write,
	.poll = eventfd_poll,
	.waitq = eventfd_waitq,
	.release = eventfd_release,
};

long sys_eventfd2(unsigned initval, int flags)
{
	if (flags & ~EFD_FLAGS)
		return -EINVAL;
	struct eventfd *efd = kzalloc(sizeof(*efd));
	if (!efd)
		return -ENOMEM;
	spin_init(&efd->lock, "eventfd");
	waitq_init(&efd->wq, "eventfd");
	efd->count = initval;
	efd->semaphore = flags & EFD_SEMAPHORE;
	struct file *f = anon_file_new(0600, &eventfd_ops, O_RDWR | (flags & O_NONBLOCK), efd);
	if (!f) {
		kfree(efd);
		return -ENFILE;
	}
	int fd = fd_install(current->files, f, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}
