/*
 * The rest of Linux's memory devices (major 1) beside /dev/null and /dev/zero (dev.c):
 *   /dev/random (1,8) and /dev/urandom (1,9): reads return random bytes from the kernel generator
 *     (kernel/random.c) and never block, as Linux 5.6+ once its pool is initialized; writes are
 *     accepted and discarded (Linux mixes them in without crediting entropy).
 *   /dev/full (1,7): reads return zeros, writes fail with ENOSPC.
 * Reads go through a small kernel buffer, in chunks, so a huge read costs no more memory. No state,
 * no locks; any context that may touch user memory.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/random.h"
#include "mm/uaccess.h"

#define MEM_MAJOR 1
#define FULL_MINOR 7
#define RANDOM_MINOR 8
#define URANDOM_MINOR 9
#define RANDOM_CHUNK 256

static long random_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)pos;
	uint8_t buf[RANDOM_CHUNK];
	size_t done = 0;
	while (done < n) {
		size_t k = MIN(n - done, sizeof(buf));
		get_random_bytes(buf, k);
		if (copy_to_user(ubuf + done, buf, k))
			return done ? (long)done : -EFAULT;
		done += k;
	}
	return (long)done;
}

static long discard_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)ubuf; (void)pos;
	return (long)n;
}

static long full_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)pos;
	return clear_user(ubuf, n) ? -EFAULT : (long)n;
}

static long full_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)ubuf; (void)n; (void)pos;
	return -ENOSPC;
}

static long stay_llseek(struct file *f, long off, int whence)
{
	(void)off; (void)whence;
	return f->pos = 0;
}

static const struct file_ops random_ops = { .read = random_read, .write = discard_write, .llseek = stay_llseek };
static const struct file_ops full_ops = { .read = full_read, .write = full_write, .llseek = stay_llseek };

int dev_mem_init(void)
{
	int err = 0;
	err = err ?: dev_create("/dev/full", 0666, MEM_MAJOR, FULL_MINOR, &full_ops, NULL);
	err = err ?: dev_create("/dev/random", 0666, MEM_MAJOR, RANDOM_MINOR, &random_ops, NULL);
	err = err ?: dev_create("/dev/urandom", 0666, MEM_MAJOR, URANDOM_MINOR, &random_ops, NULL);
	return err;
}
