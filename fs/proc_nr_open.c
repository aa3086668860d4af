/*
 * /proc/sys/fs/nr_open: the ceiling of RLIMIT_NOFILE's hard limit and of the fd table (fs/file.c
 * nr_open), which root may change as on Linux (proc_douintvec_minmax): a decimal number, with
 * blanks around it, within [NR_OPEN_MIN, NR_OPEN_MAX]; anything else is EINVAL and changes
 * nothing. Lowering it does not shrink tables or limits already set: it bounds later setrlimit
 * calls (EPERM above it) and later table growth, as Linux's.
 *
 * Context: system calls; the value is one word, read with READ_ONCE and written whole.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define WRITE_MAX 32                    /* longer writes are not a number Linux takes either */

static size_t show_nr_open(char *buf, size_t size, void *arg)
{
	(void)arg;
	return (size_t)snprintf(buf, size, "%u\n", READ_ONCE(nr_open));
}

static int nr_open_open(struct inode *ino, struct file *f)
{
	(void)ino;
	return proc_snapshot_open(f, show_nr_open, NULL);
}

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

static long nr_open_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f;
	(void)pos;
	char b[WRITE_MAX + 1];
	if (n > WRITE_MAX)
		return -EINVAL;
	if (copy_from_user(b, ubuf, n))
		return -EFAULT;
	b[n] = 0;
	char *s = b;
	while (blank(*s))
		s++;
	if (*s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9' && v <= NR_OPEN_MAX)
		v = v * 10 + (uint64_t)(*s++ - '0');
	while (blank(*s))
		s++;
	if (*s || v < NR_OPEN_MIN || v > NR_OPEN_MAX)
		return -EINVAL;
	WRITE_ONCE(nr_open, (unsigned int)v);
	return (long)n;
}

static const struct file_ops nr_open_fops = {
	.open = nr_open_open,
	.read = proc_snapshot_read,
	.write = nr_open_write,
	.llseek = proc_snapshot_llseek,
	.release = proc_snapshot_release,
};

static const struct inode_ops nr_open_iops = { 0 };   /* generated: no tmpfs data behind it */

int proc_nr_open_init(void)
{
	return proc_node("/proc/sys/fs/nr_open", S_IFREG | 0644, &nr_open_fops, &nr_open_iops, NULL);
}
