/*
 * /proc: the "proc" file system type, one shared tmpfs instance (fs/super.c) holding two kinds
 * of special inodes; every mount of proc shows it.
 *   - generated files (proc_create): a show() callback fills a buffer when the file is opened;
 *     reads and seeks then walk that snapshot, so a reader sees one consistent picture.
 *   - /proc/self, a symlink to the reader's pid, and the /proc/<pid> directories: proc_pid.c
 *     (proc_snapshot_* below are shared with it). Global figures (meminfo, stat ...): proc_sys.c.
 * Nothing here is locked beyond what tmpfs does: a snapshot belongs to its open file.
 */
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define PROC_BUF_SIZE (64 * 1024)            /* a generated file's first buffer */
#define PROC_BUF_MAX (2 * 1024 * 1024)       /* the largest generated file (in one 4 MiB block) */

struct proc_entry { size_t (*show)(char *buf, size_t size); };
struct proc_snapshot { size_t len; char data[]; };

static size_t show_plain(char *buf, size_t size, void *arg)
{
	return ((struct proc_entry *)arg)->show(buf, size);
}

/* A snapshot as big as the file: a show() that filled its buffer (bufprintf stops one byte short
 * of the end) runs again with twice the room, up to PROC_BUF_MAX; if memory runs out first, the
 * largest complete-so-far snapshot is kept. /proc/net/unix stopped at 1,100 sockets with one
 * 64 KiB buffer (and /proc/net/tcp likewise); Linux's seq_file has no such limit. */
int proc_snapshot_open(struct file *f, size_t (*show)(char *buf, size_t size, void *arg), void *arg)
{
	struct proc_snapshot *best = NULL;
	for (size_t size = PROC_BUF_SIZE; size <= PROC_BUF_MAX; size *= 2) {
		struct proc_snapshot *s = kmalloc(sizeof(*s) + size);
		if (!s)
			break;
		size_t len = show(s->data, size, arg);
		if ((long)len < 0) {                 /* the object is gone (-ESRCH) */
			kfree(s);
			kfree(best);
			return (int)(long)len;
		}
		kfree(best);
		s->len = MIN(len, size);
		best = s;
		if (len + 1 < size)
			break;                       /* it all fitted */
	}
	if (!best)
		return -ENOMEM;
	f->priv = best;
	return 0;
}

static int proc_open(struct inode *ino, struct file *f)
{
	return proc_snapshot_open(f, show_plain, ino->priv);
}

long proc_snapshot_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	struct proc_snapshot *s = f->priv;
	if (*pos >= s->len)
		return 0;
	n = MIN(n, s->len - *pos);
	if (copy_to_user(ubuf, s->data + *pos, n))
		return -EFAULT;
	*pos += n;
	return n;
}

long proc_snapshot_llseek(struct file *f, long off, int whence)
{
	return generic_llseek(f, off, whence, ((struct proc_snapshot *)f->priv)->len);
}

void proc_snapshot_release(struct file *f) { kfree(f->priv); }

static const struct inode_ops proc_file_iops = { 0 };   /* no tmpfs data behind it */

static const struct file_ops proc_file_ops = {
	.open = proc_open,
	.read = proc_snapshot_read,
	.llseek = proc_snapshot_llseek,
	.release = proc_snapshot_release,
};

/* Makes the inode at /proc/..., creating missing directories on the way. */
int proc_node(const char *path, uint32_t mode, const struct file_ops *fops,
		     const struct inode_ops *iops, void *priv)
{
	static const char prefix[] = "/proc/";
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return -EINVAL;
	return tmpfs_make_node(proc_sb->root, path + sizeof(prefix) - 1, mode, 0, fops, iops, priv);
}

int proc_create(const char *path, size_t (*show)(char *buf, size_t size))
{
	struct proc_entry *pe = kmalloc(sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	pe->show = show;
	int err = proc_node(path, S_IFREG | 0444, &proc_file_ops, &proc_file_iops, pe);
	if (err)
		kfree(pe);
	return err;
}

int procfs_init(void)
{
	int err = proc_pid_init();          /* /proc/self and the <pid> directories */
	return err ?: proc_sys_init();      /* meminfo, stat, uptime ... */
}
