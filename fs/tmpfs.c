/*
 * tmpfs: inodes and directories, all in RAM.
 *
 * A directory is a list of dirent_nodes in insertion order. Each entry holds a reference on its
 * inode and counts in its nlink; a subdirectory also holds a reference on its parent (its ".."),
 * so a removed directory that is still someone's cwd can answer "..". An inode is freed when its
 * last reference goes, whatever nlink says: unlinked files stay readable while open.
 *
 * getdents offsets are per-entry cookies that only increase along the list (0 and 1 are "." and
 * ".."), so a reader resumes at the first entry whose cookie is >= its offset even if entries
 * before it were removed in between.
 *
 * Locks: ns_lock guards every directory's entry list and next_cookie, every nlink and parent
 * pointer. It is a spinlock: walks never sleep and never touch user memory (getdents formats into
 * a kernel buffer and copies out after dropping it). inode->lock guards size, data and times.
 * inode_put may run under ns_lock: freeing takes no directory lock.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "kernel/systime.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"

#define GETDENTS_BUF_MAX (16 * 1024)     /* records formatted per getdents call at most */
#define DIRENT_HDR offsetof(struct linux_dirent64, d_name)

struct spinlock ns_lock = SPINLOCK_INIT("fs_ns");
struct inode *fs_root;
static uint64_t next_ino = 1;                /* atomic */

/* File times are wall-clock times (CLOCK_REALTIME), as on Linux. */
uint64_t fs_now(void) { return time_ns() + realtime_offset_ns(); }

struct inode *inode_new(uint32_t mode)
{
	struct inode *ino = kzalloc(sizeof(*ino));
	if (!ino)
		return NULL;
	spin_init(&ino->lock, "inode");
	sleeplock_init(&ino->rw, "inode_rw");
	ino->refcount = 1;
	ino->mode = mode;
	ino->ino = __atomic_fetch_add(&next_ino, 1, __ATOMIC_RELAXED);
	ino->atime = ino->mtime = ino->ctime = fs_now();
	if (S_ISDIR(mode)) {
		list_init(&ino->dir.entries);
		ino->dir.next_cookie = DIR_FIRST_COOKIE;
		ino->nlink = 1;                      /* its own "." */
		ino->fops = &tmpfs_dir_ops;
	} else if (S_ISREG(mode)) {
		ino->fops = &tmpfs_file_ops;
	} else if (S_ISLNK(mode)) {
		ino->fops = &tmpfs_symlink_ops;
	}
	return ino;
}

void inode_get(struct inode *ino) { __atomic_fetch_add(&ino->refcount, 1, __ATOMIC_RELAXED); }

void inode_put(struct inode *ino)
{
	while (ino && __atomic_sub_fetch(&ino->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
		struct inode *parent = NULL;
		if (S_ISREG(ino->mode))
			tmpfs_free_data(ino);
		else if (S_ISLNK(ino->mode))
			kfree(ino->symlink);
		else if (S_ISDIR(ino->mode))
			parent = ino->parent;        /* entries are gone: each held a reference */
		kfree(ino);
		ino = parent;                        /* iterate rather than recurse up a deep tree */
	}
}

void inode_touch(struct inode *ino, bool modify)
{
	uint64_t now = fs_now();
	spin_lock(&ino->lock);
	ino->ctime = now;
	if (modify)
		ino->mtime = now;
	spin_unlock(&ino->lock);
}

uint8_t inode_dtype(const struct inode *ino)
{
	switch (ino->mode & S_IFMT) {
	case S_IFDIR: return DT_DIR;
	case S_IFREG: return DT_REG;
	case S_IFLNK: return DT_LNK;
	case S_IFCHR: return DT_CHR;
	case S_IFIFO: return DT_FIFO;
	case S_IFSOCK: return DT_SOCK;
	case S_IFBLK: return DT_BLK;
	}
	return DT_UNKNOWN;
}

/* ---- directories (ns_lock held) ---- */

struct dirent_node *dir_find(struct inode *dir, const char *name, size_t len)
{
	struct list_head *p;
	list_for_each(p, &dir->dir.entries) {
		struct dirent_node *d = list_entry(p, struct dirent_node, node);
		if (d->len == len && memcmp(d->name, name, len) == 0)
			return d;
	}
	return NULL;
}

struct inode *dir_lookup(struct inode *dir, const char *name, size_t len)
{
	if (len == 1 && name[0] == '.')
		return dir;
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return dir->parent ? dir->parent : dir;
	struct dirent_node *d = dir_find(dir, name, len);
	return d ? d->inode : NULL;
}

struct dirent_node *dirent_new(const char *name, size_t len)
{
	struct dirent_node *d = kmalloc(sizeof(*d) + len);
	if (d) {
		memcpy(d->name, name, len);
		d->len = len;
	}
	return d;
}

void dir_insert(struct inode *dir, struct dirent_node *d, struct inode *ino)
{
	d->inode = ino;
	d->cookie = dir->dir.next_cookie++;
	inode_get(ino);
	ino->nlink++;
	if (S_ISDIR(ino->mode)) {
		dir->nlink++;                        /* the child's ".." */
		if (ino->parent != dir) {
			inode_get(dir);
			if (ino->parent)
				inode_put(ino->parent);  /* a rename: the old parent keeps its own entry */
			ino->parent = dir;
		}
	}
	list_add_tail(&d->node, &dir->dir.entries);
	dir->dir.count++;
	inode_touch(dir, true);
	inode_touch(ino, false);
}

int dir_link(struct inode *dir, const char *name, size_t len, struct inode *ino)
{
	struct dirent_node *d = dirent_new(name, len);
	if (!d)
		return -ENOMEM;
	dir_insert(dir, d, ino);
	return 0;
}

struct inode *dir_unlink(struct inode *dir, struct dirent_node *d)
{
	struct inode *ino = d->inode;
	list_del(&d->node);
	dir->dir.count--;
	kfree(d);
	ino->nlink--;
	if (S_ISDIR(ino->mode))
		dir->nlink--;
	inode_touch(dir, true);
	inode_touch(ino, false);
	return ino;
}

bool dir_is_empty(struct inode *dir) { return list_empty(&dir->dir.entries); }

struct inode *tmpfs_create(struct inode *dir, const char *name, size_t len, uint32_t mode, int *err)
{
	if (dir->nlink == 0) {                       /* creating in a removed directory */
		*err = -ENOENT;
		return NULL;
	}
	struct inode *ino = inode_new(mode);
	if (!ino) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = dir_link(dir, name, len, ino);
	inode_put(ino);                              /* the entry holds it now (or it is freed) */
	return *err ? NULL : ino;
}

struct inode *tmpfs_mkdirs(const char *path, size_t upto, uint32_t perm, int *err)
{
	struct inode *dir = fs_root;
	size_t i = 0;
	while (i < upto) {
		while (i < upto && path[i] == '/')
			i++;
		size_t start = i;
		while (i < upto && path[i] != '/')
			i++;
		if (i == start)
			break;
		if (i - start > NAME_MAX) {
			*err = -ENAMETOOLONG;
			return NULL;
		}
		struct inode *next = dir_lookup(dir, path + start, i - start);
		if (!next)
			next = tmpfs_create(dir, path + start, i - start, S_IFDIR | perm, err);
		if (!next || !S_ISDIR(next->mode)) {
			*err = next ? -ENOTDIR : *err;
			return NULL;
		}
		dir = next;
	}
	return dir;
}

long dir_path(struct inode *ino, char *buf, size_t size)
{
	size_t at = size;                            /* built backwards from the end of buf */
	if (size < 2)
		return -ERANGE;
	buf[--at] = '\0';
	for (struct inode *cur = ino; cur != fs_root; cur = cur->parent) {
		if (cur->nlink == 0 || !cur->parent)
			return -ENOENT;
		struct list_head *p;
		struct dirent_node *d = NULL;
		list_for_each(p, &cur->parent->dir.entries) {
			d = list_entry(p, struct dirent_node, node);
			if (d->inode == cur)
				break;
			d = NULL;
		}
		if (!d)
			return -ENOENT;
		if (at < (size_t)d->len + 1)
			return -ERANGE;
		at -= d->len;
		memcpy(buf + at, d->name, d->len);
		buf[--at] = '/';
	}
	if (at == size - 1)
		buf[--at] = '/';                     /* the root itself */
	size_t len = size - 1 - at;
	memmove(buf, buf + at, len + 1);
	return len;
}

/* ---- directory files ---- */

/* Appends one record to kbuf; false if it does not fit. */
static bool emit(char *kbuf, size_t cap, size_t *used, uint64_t ino, int64_t next, uint8_t type,
		 const char *name, size_t len)
{
	size_t reclen = ALIGN_UP(DIRENT_HDR + len + 1, 8);
	if (*used + reclen > cap)
		return false;
	struct linux_dirent64 *de = (struct linux_dirent64 *)(kbuf + *used);
	memset(de, 0, reclen);
	de->d_ino = ino;
	de->d_off = next;
	de->d_reclen = reclen;
	de->d_type = type;
	memcpy(de->d_name, name, len);
	*used += reclen;
	return true;
}

static long dir_getdents(struct file *f, uintptr_t ubuf, size_t n)
{
	struct inode *dir = f->inode;
	size_t cap = MIN(n, (size_t)GETDENTS_BUF_MAX), used = 0;
	if (cap < ALIGN_UP(DIRENT_HDR + 2, 8))
		return -EINVAL;
	char *kbuf = kmalloc(cap);
	if (!kbuf)
		return -ENOMEM;
	uint64_t pos = f->pos;                       /* the caller holds f->pos_lock */
	long ret = 0;
	bool full = false;                           /* a record did not fit */
	spin_lock(&ns_lock);
	if (dir->nlink == 0) {
		ret = -ENOENT;
	} else {
		if (pos == 0) {
			if (emit(kbuf, cap, &used, dir->ino, 1, DT_DIR, ".", 1))
				pos = 1;
			else
				full = true;
		}
		struct inode *up = dir->parent ? dir->parent : dir;
		if (pos == 1 && !full) {
			if (emit(kbuf, cap, &used, up->ino, DIR_FIRST_COOKIE, DT_DIR, "..", 2))
				pos = DIR_FIRST_COOKIE;
			else
				full = true;
		}
		struct list_head *p;
		list_for_each(p, &dir->dir.entries) {
			struct dirent_node *d = list_entry(p, struct dirent_node, node);
			if (full || pos < DIR_FIRST_COOKIE)
				break;
			if (d->cookie < pos)
				continue;
			if (!emit(kbuf, cap, &used, d->inode->ino, d->cookie + 1, inode_dtype(d->inode),
				  d->name, d->len)) {
				full = true;
				break;
			}
			pos = d->cookie + 1;
		}
	}
	spin_unlock(&ns_lock);
	if (ret == 0 && used == 0 && full)
		ret = -EINVAL;                       /* the next record does not fit at all */
	if (ret == 0 && used && copy_to_user(ubuf, kbuf, used))
		ret = -EFAULT;
	if (ret == 0) {
		f->pos = pos;
		ret = used;
	}
	kfree(kbuf);
	return ret;
}

/* Directory offsets are cookies: only absolute positions and "where am I" make sense. */
static long dir_llseek(struct file *f, long off, int whence)
{
	if (whence == SEEK_SET && off >= 0)
		return f->pos = off;
	if (whence == SEEK_CUR && off == 0)
		return f->pos;
	return -EINVAL;
}

static long dir_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)ubuf; (void)n; (void)pos;
	return -EISDIR;
}

const struct file_ops tmpfs_dir_ops = {
	.read = dir_read,
	.llseek = dir_llseek,
	.getdents = dir_getdents,
};

/* ---- symlinks ---- */

static const char *symlink_target(struct inode *ino) { return ino->symlink; }
static const struct inode_ops symlink_iops = { .get_link = symlink_target };

/* Makes a symlink at dir/name (ns_lock held). */
int tmpfs_symlink(struct inode *dir, const char *name, size_t len, const char *target)
{
	size_t tlen = strlen(target);
	char *copy = kmalloc(tlen + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, target, tlen + 1);
	int err;
	struct inode *ino = inode_new(S_IFLNK | 0777);
	if (!ino) {
		kfree(copy);
		return -ENOMEM;
	}
	ino->symlink = copy;
	ino->size = tlen;
	ino->iops = &symlink_iops;
	if (dir->nlink == 0)
		err = -ENOENT;
	else
		err = dir_link(dir, name, len, ino);
	inode_put(ino);
	return err;
}

const struct file_ops tmpfs_symlink_ops = { 0 };     /* only O_PATH opens a symlink itself */
