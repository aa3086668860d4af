/*
 * VFS inodes and the generic file operations every file system shares.
 *
 * An inode belongs to its file system (which embeds struct inode in its own object and frees it
 * in super_ops->evict) or, for pipes and sockets, to nobody (sb NULL, freed here). The last
 * inode_put calls evict, which may hand back another inode to put (a tmpfs directory's parent),
 * so a long chain is freed by iteration rather than recursion.
 *
 * Regular files of every file system open with generic_file_ops: read/write go to the inode's
 * iops->read/write, which take user or kernel buffers, so exec, sendfile and copy_file_range use
 * the same path as read(2). O_SYNC/O_DSYNC writes call iops->fsync before returning.
 * Directories open with generic_dir_ops: getdents formats linux_dirent64 records from
 * iops->readdir into a kernel buffer, then copies them out (the fs may hold a spinlock while it
 * calls back).
 *
 * RLIMIT_FSIZE (kernel/rlimit.c), as Linux's generic_write_check_limits and inode_newsize_ok: a
 * write that starts at or beyond the limit raises SIGXFSZ and fails with EFBIG; one that crosses
 * it is cut short at the limit; a truncate that grows a file beyond it raises SIGXFSZ and fails.
 */
#include "fs/internal.h"
#include "fs/vfs_disk.h"
#include "kernel/errno.h"
#include "kernel/rlimit.h"
#include "kernel/signal.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "lib/string.h"
#include "kernel/systime.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"

#define GETDENTS_BUF_MAX (16 * 1024)     /* records formatted per getdents call at most */
#define DIRENT_HDR offsetof(struct linux_dirent64, d_name)

static uint64_t next_ino = 1;                /* atomic */

/* File times are wall-clock times (CLOCK_REALTIME), as on Linux. */
uint64_t fs_now(void) { return time_ns() + realtime_offset_ns(); }
uint64_t inode_next_ino(void) { return __atomic_fetch_add(&next_ino, 1, __ATOMIC_RELAXED); }

void inode_init(struct inode *ino, struct super_block *sb, uint32_t mode, uint64_t ino_nr)
{
	spin_init(&ino->lock, "inode");
	sleeplock_init(&ino->rw, "inode_rw");
	spin_init(&ino->i_mmap_lock, "i_mmap");
	list_init(&ino->i_mmap);
	ino->refcount = 1;
	ino->mode = mode;
	ino->sb = sb;
	ino->ino = ino_nr;
	ino->atime = ino->mtime = ino->ctime = fs_now();
}

struct inode *inode_new(uint32_t mode)
{
	struct inode *ino = kzalloc(sizeof(*ino));
	if (ino)
		inode_init(ino, NULL, mode, inode_next_ino());
	return ino;
}

void inode_get(struct inode *ino) { __atomic_fetch_add(&ino->refcount, 1, __ATOMIC_RELAXED); }

/* ---- the inode cache of disk file systems (fs/vfs_disk.h) ----
 * A hash of inode number -> inode per super block. Its lock covers the last reference's drop
 * (inode_put) as well as lookups, so a lookup never finds an inode that is being evicted: an
 * inode in the table always has refcount >= 1. */
#define ICACHE_BUCKETS 256

struct icache {
	struct spinlock lock;
	struct list_head bucket[ICACHE_BUCKETS];
};

int icache_init(struct super_block *sb)
{
	struct icache *c = kmalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	spin_init(&c->lock, "icache");
	for (int i = 0; i < ICACHE_BUCKETS; i++)
		list_init(&c->bucket[i]);
	sb->icache = c;
	return 0;
}

void icache_destroy(struct super_block *sb)
{
	kfree(sb->icache);
	sb->icache = NULL;
}

struct inode *icache_find(struct super_block *sb, uint64_t nr)
{
	struct icache *c = sb->icache;
	struct inode *found = NULL;
	struct list_head *p;
	spin_lock(&c->lock);
	list_for_each(p, &c->bucket[nr % ICACHE_BUCKETS]) {
		struct inode *ino = list_entry(p, struct inode, hash);
		if (ino->ino == nr) {
			found = ino;
			inode_get(ino);
			break;
		}
	}
	spin_unlock(&c->lock);
	return found;
}

struct inode *icache_insert(struct inode *ino)
{
	struct icache *c = ino->sb->icache;
	struct inode *old = NULL;
	struct list_head *p, *head = &c->bucket[ino->ino % ICACHE_BUCKETS];
	spin_lock(&c->lock);
	list_for_each(p, head) {
		struct inode *x = list_entry(p, struct inode, hash);
		if (x->ino == ino->ino) {
			old = x;
			inode_get(old);
			break;
		}
	}
	if (!old) {
		list_add_tail(&ino->hash, head);
		ino->hashed = true;
	}
	spin_unlock(&c->lock);
	return old ? old : ino;
}

uint32_t icache_refs(struct super_block *sb, uint64_t nr)
{
	struct icache *c = sb->icache;
	uint32_t refs = 0;
	struct list_head *p;
	spin_lock(&c->lock);
	list_for_each(p, &c->bucket[nr % ICACHE_BUCKETS]) {
		struct inode *ino = list_entry(p, struct inode, hash);
		if (ino->ino == nr) {
			refs = READ_ONCE(ino->refcount);
			break;
		}
	}
	spin_unlock(&c->lock);
	return refs;
}

bool icache_any(struct super_block *sb, bool (*pred)(struct inode *ino))
{
	struct icache *c = sb->icache;
	bool found = false;
	spin_lock(&c->lock);
	for (int i = 0; i < ICACHE_BUCKETS && !found; i++) {
		struct list_head *p;
		list_for_each(p, &c->bucket[i]) {
			if (pred(list_entry(p, struct inode, hash))) {
				found = true;
				break;
			}
		}
	}
	spin_unlock(&c->lock);
	return found;
}

void icache_remove(struct inode *ino)
{
	struct icache *c = ino->sb->icache;
	spin_lock(&c->lock);
	if (ino->hashed) {
		list_del(&ino->hash);
		ino->hashed = false;
	}
	spin_unlock(&c->lock);
}

/* Drops a reference; true when it was the last (and the inode left its cache). */
static bool put_last(struct inode *ino)
{
	struct icache *c = ino->sb ? ino->sb->icache : NULL;
	if (!c || !ino->hashed)
		return __atomic_sub_fetch(&ino->refcount, 1, __ATOMIC_ACQ_REL) == 0;
	spin_lock(&c->lock);
	bool last = __atomic_sub_fetch(&ino->refcount, 1, __ATOMIC_ACQ_REL) == 0;
	if (last) {
		list_del(&ino->hash);
		ino->hashed = false;
	}
	spin_unlock(&c->lock);
	return last;
}

void inode_put(struct inode *ino)
{
	while (ino && put_last(ino)) {
		if (ino->sb && ino->sb->ops->evict) {
			ino = ino->sb->ops->evict(ino);
		} else {
			kfree(ino);
			ino = NULL;
		}
	}
}

void path_get(const struct path *p)
{
	inode_get(p->ino);
	if (p->mnt)
		mnt_get(p->mnt);
}

void path_put(const struct path *p)
{
	inode_put(p->ino);
	if (p->mnt)
		mnt_put(p->mnt);
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

/* ---- attribute changes and sync ---- */

int vfs_setattr(struct inode *ino, const struct iattr *ia)
{
	if (ino->iops && ino->iops->setattr)
		return ino->iops->setattr(ino, ia);
	if (ia->valid & ATTR_SIZE)
		return -EINVAL;
	spin_lock(&ino->lock);
	if (ia->valid & ATTR_MODE)
		ino->mode = (ino->mode & S_IFMT) | (ia->mode & S_IALLUGO);
	if (ia->valid & ATTR_ATIME)
		ino->atime = ia->atime;
	if (ia->valid & ATTR_MTIME)
		ino->mtime = ia->mtime;
	spin_unlock(&ino->lock);
	inode_touch(ino, false);
	return 0;
}

int vfs_truncate(struct inode *ino, uint64_t size)
{
	if (S_ISDIR(ino->mode))
		return -EISDIR;
	if (!S_ISREG(ino->mode) || !ino->iops || !ino->iops->write)
		return -EINVAL;
	if (size > READ_ONCE(ino->size) && rlimit_cur(RLIMIT_FSIZE) != RLIM_INFINITY &&
	    size > rlimit_cur(RLIMIT_FSIZE)) {
		signal_raise(SIGXFSZ);
		return -EFBIG;
	}
	int err = ino->seals ? memfd_seal_check_size(ino, size) : 0;      /* memfd_seal.c */
	if (err)
		return err;
	struct iattr ia = { .valid = ATTR_SIZE, .size = size };
	return vfs_setattr(ino, &ia);
}

int vfs_fsync(struct file *f, bool datasync)
{
	struct inode *ino = f->inode;
	if (ino->iops && ino->iops->fsync)
		return ino->iops->fsync(ino, datasync);
	if (ino->sb && ino->sb->ops->sync)
		return ino->sb->ops->sync(ino->sb);
	return 0;
}

long vfs_readlink(struct inode *ino, char *buf, size_t size)
{
	if (!S_ISLNK(ino->mode) || !ino->iops || !ino->iops->readlink)
		return -EINVAL;
	return ino->iops->readlink(ino, buf, size);
}

/* ---- regular files (f->pos_lock held by the caller for f->pos) ---- */

bool file_is_regular(struct file *f)
{
	return S_ISREG(f->inode->mode) && f->inode->iops && f->inode->iops->read &&
	       f->ops == &generic_file_ops;
}

int file_exec_check(struct file *f)
{
	if (!file_is_regular(f))
		return -EACCES;
	struct path p = { f->mnt, f->inode };
	return may_access(&p, X_OK);
}

static long file_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	long r = f->inode->iops->read(f->inode, (void *)ubuf, n, *pos, true);
	if (r > 0)
		*pos += r;
	return r;
}


/* RLIMIT_FSIZE: how much of a write of n bytes at pos may go ahead, or -EFBIG (SIGXFSZ sent) */
static long fsize_check(uint64_t pos, size_t n)
{
	uint64_t limit = rlimit_cur(RLIMIT_FSIZE);
	if (limit == RLIM_INFINITY || n == 0)
		return (long)n;
	if (pos >= limit) {
		signal_raise(SIGXFSZ);
		return -EFBIG;
	}
	return (long)MIN((uint64_t)n, limit - pos);
}

static long file_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	struct inode *ino = f->inode;
	uint64_t at = (f->f_flags & O_APPEND) ? READ_ONCE(ino->size) : *pos;
	long lim = fsize_check(at, n);
	if (lim < 0)
		return lim;
	n = (size_t)lim;
	if (ino->seals && (lim = memfd_seal_check_write(ino, at, n)) < 0)     /* memfd_seal.c */
		return lim;
	long r = ino->iops->write(ino, (const void *)ubuf, n, pos, f->f_flags & O_APPEND, true);
	if (r > 0 && (f->f_flags & O_DSYNC)) {             /* O_SYNC includes O_DSYNC's bit */
		int err = vfs_fsync(f, (f->f_flags & O_SYNC) != O_SYNC);
		if (err)
			r = err;
	}
	return r;
}

long generic_llseek(struct file *f, long off, int whence, uint64_t size)
{
	long base;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = f->pos; break;
	case SEEK_END: base = size; break;
	case SEEK_DATA:
	case SEEK_HOLE:                              /* the whole file counts as data */
		if (off < 0 || (uint64_t)off >= size)
			return -ENXIO;
		return f->pos = (whence == SEEK_DATA ? (uint64_t)off : size);
	default:
		return -EINVAL;
	}
	long to;
	if (__builtin_add_overflow(base, off, &to) || to < 0)
		return -EINVAL;
	return f->pos = to;
}

static long file_llseek(struct file *f, long off, int whence)
{
	return generic_llseek(f, off, whence, file_size(f));
}

const struct file_ops generic_file_ops = {
	.read = file_read,
	.write = file_write,
	.llseek = file_llseek,
};

const struct file_ops generic_symlink_ops = { 0 };

long kernel_read(struct file *f, void *kbuf, size_t n, uint64_t off)
{
	if (!file_is_regular(f))
		return -EINVAL;
	return f->inode->iops->read(f->inode, kbuf, n, off, false);
}

long kernel_write(struct file *f, const void *kbuf, size_t n, uint64_t off)
{
	if (!file_is_regular(f) || !f->inode->iops->write)
		return -EINVAL;
	return f->inode->iops->write(f->inode, kbuf, n, &off, false, false);
}

/* A file system without get_page gets a private copy of the page read through iops->read:
 * right for private mappings (exec, MAP_PRIVATE), which copy at the first write anyway; a shared
 * mapping of such a file does not see later writes nor write back. (ext4 has get_page: its
 * mapped pages live in fs/pcache.c's index.) */
static int copy_page_of(struct file *f, uint64_t pgoff, paddr_t *pa)
{
	uint64_t size = file_size(f);
	if (pgoff >= (size + PAGE_SIZE - 1) / PAGE_SIZE)
		return -ENXIO;
	void *va = alloc_pages(0, PAGE_ZERO);
	if (!va)
		return -ENOMEM;
	long got = kernel_read(f, va, PAGE_SIZE, pgoff * PAGE_SIZE);
	if (got < 0) {
		free_pages(va, 0);
		return (int)got;
	}
	*pa = va_to_pa(va);
	return 0;
}

int file_get_page(struct file *f, uint64_t pgoff, paddr_t *pa)
{
	if (!file_is_regular(f))
		return -EACCES;
	if (!f->inode->iops->get_page)
		return copy_page_of(f, pgoff, pa);
	return f->inode->iops->get_page(f->inode, pgoff, pa);
}

int file_find_page(struct file *f, uint64_t pgoff, paddr_t *pa)
{
	if (!file_is_regular(f))
		return -EACCES;
	return f->inode->iops->find_page ? f->inode->iops->find_page(f->inode, pgoff, pa) : -ENOENT;
}

/* ---- directories ---- */

struct getdents_buf {
	char *kbuf;
	size_t cap, used;
	bool full;                                   /* a record did not fit */
};

static int fill_one(void *arg, const char *name, size_t len, uint64_t ino, unsigned type, uint64_t next)
{
	struct getdents_buf *b = arg;
	size_t reclen = ALIGN_UP(DIRENT_HDR + len + 1, 8);
	if (b->used + reclen > b->cap) {
		b->full = true;
		return 1;
	}
	struct linux_dirent64 *de = (struct linux_dirent64 *)(b->kbuf + b->used);
	memset(de, 0, reclen);
	de->d_ino = ino;
	de->d_off = next;
	de->d_reclen = reclen;
	de->d_type = type;
	memcpy(de->d_name, name, len);
	b->used += reclen;
	return 0;
}

static long dir_getdents(struct file *f, uintptr_t ubuf, size_t n)
{
	struct inode *dir = f->inode;
	struct getdents_buf b = { .cap = MIN(n, (size_t)GETDENTS_BUF_MAX) };
	if (!dir->iops || !dir->iops->readdir)
		return -ENOTDIR;
	if (b.cap < ALIGN_UP(DIRENT_HDR + 2, 8))
		return -EINVAL;
	if (!(b.kbuf = kmalloc(b.cap)))
		return -ENOMEM;
	uint64_t pos = f->pos;                       /* the caller holds f->pos_lock */
	long ret = dir->iops->readdir(dir, &pos, fill_one, &b);
	if (ret == 0 && b.used == 0 && b.full)
		ret = -EINVAL;                       /* the next record does not fit at all */
	if (ret == 0 && b.used && copy_to_user(ubuf, b.kbuf, b.used))
		ret = -EFAULT;
	if (ret == 0) {
		f->pos = pos;
		ret = b.used;
	}
	kfree(b.kbuf);
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

const struct file_ops generic_dir_ops = {
	.read = dir_read,
	.llseek = dir_llseek,
	.getdents = dir_getdents,
};
