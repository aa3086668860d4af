/*
 * ext4 under the VFS: the thin glue between fs/ext4's library (inode numbers and (dir, name)
 * pairs, fs/ext4/ext4.h) and the VFS's super block and inode ops (fs/vfs_disk.h).
 *
 * mount: the struct blkdev the VFS found behind the source node becomes the library's struct
 * ext4_bdev (its callbacks call the block layer's read_blocks/write_blocks/flush); ext4_mount
 * reads (and, with a journal needing recovery, replays) the file system. A read-only device or
 * an ext4 that can only be read (unknown ro_compat features) mounts read-only.
 *
 * Inodes: one VFS inode per ext4 inode number through the VFS inode cache; its attributes are
 * copied from ext4_stat when it is first looked up and refreshed after every change this glue
 * makes (the library is the truth, the VFS fields a copy for stat and the generic ops). File
 * data goes straight through ext4_read/ext4_write with a kernel bounce buffer for user memory.
 * Mapped pages live in a per-inode page index (fs/pcache.c has the theory: write-through by
 * write(), overlaid on read(), written back at msync/fsync/munmap/sync/evict), which every
 * mapping of the file, shared or private, gets its pages from. The mount keeps a list of the
 * inodes whose index holds pages (em->mapped) so sync can write theirs back.
 *
 * Unlinked but open: when an unlink, rmdir or rename-over drops the last link of an inode the
 * library asks the glue (ext4_set_in_use) whether the VFS still has it; the glue answers from the
 * inode cache (more references than the VFS's own during the operation), and then the library
 * keeps it on the on-disk orphan list until the glue's evict calls ext4_release at the last
 * close. An inode that lost its last name is marked gone (nlink 0); one the library freed at
 * once leaves the inode cache right then (under em->lock), since its number may come back as
 * another inode with the next create. For the same reason a lookup or create and the inode cache
 * lookup of the number it found happen under one em->lock hold. Directory ops on a gone
 * directory are ENOENT without asking the library.
 *
 * A known window, now narrow: evict writes an inode's mapped pages back after the inode left the
 * inode cache, so an open of the same file in that moment makes a new VFS inode that reads the
 * library's older bytes. mm/uvm.c writes them back when the last shared mapping with unwritten
 * stores goes (free_dead, still holding a file reference), so evict finds something to write
 * only after an earlier writeback failed (user/tests/mmap_evict_race races the other case).
 *
 * Locks: inode->rw -> the inode's pc.io (fs/pcache.h) -> em->lock (sleeplock) around every
 * library call (the library wants one caller at a time per mount) -> em->mapped_lock (spinlock:
 * the mapped list). User copies and inode_put happen outside em->lock and pc.io. Evict writes
 * back mapped pages and releases orphans, so it takes both: inode_put may sleep (fs/fs.h).
 */
#include "fs/internal.h"
#include "fs/vfs_disk.h"
#include "fs/pcache.h"
#include "mm/mm.h"
#include "mm/rmap.h"
#include "fs/ext4/ext4.h"
#include "kernel/errno.h"
#include "kernel/systime.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define EXT4_SUPER_MAGIC_NR 0xEF53
/* Bytes per library call for user buffers: each call is one journal transaction (writes) and one
 * device request per contiguous run, so big chunks matter; under memory pressure a small one. */
#define BOUNCE_MAX (1024 * 1024)
#define BOUNCE_MIN (16 * 1024)
#define NSEC 1000000000ULL

struct ext4_mount {
	struct ext4_fs *fs;
	struct ext4_bdev bd;
	struct blkdev *bdev;
	struct sleeplock lock;                  /* one library call at a time */
	bool unflushed;                         /* written since the last device flush (lock) */
	struct spinlock mapped_lock;            /* mapped */
	struct list_head mapped;                /* e4v_inodes whose page index may hold pages */
};

static struct ext4_mount *EM(struct super_block *sb) { return sb->priv; }


/* A VFS inode of ext4; freed: the library freed the inode at its last unlink (its number may
 * already belong to another inode), so evict must not release it. */
struct e4v_inode {
	struct inode vfs;
	bool freed;
	struct pcache pc;                       /* mapped pages (fs/pcache.c) */
	struct list_head mapped;                /* in em->mapped (mapped_lock); init: not listed */
	bool listed;                            /* mapped_lock */
};
#define E4V_I(ino) container_of(ino, struct e4v_inode, vfs)

/* The VFS holds one reference on the victim of unlink/rmdir/rename while the op runs. */
#define REFS_DURING_OP 1

static bool dir_gone(struct inode *dir) { return READ_ONCE(dir->nlink) == 0; }

static const struct inode_ops e4v_dir_iops, e4v_file_iops, e4v_link_iops, e4v_special_iops;
static const struct pcache_ops e4v_pcache_ops;

/* ---- the device ---- */

static int bd_read(struct ext4_bdev *bd, uint64_t blk, uint32_t count, void *buf)
{
	struct blkdev *b = bd->priv;
	return b->ops->read_blocks(b->priv, blk, count, buf);
}

/* The library calls these with em->lock held. */
static int bd_write(struct ext4_bdev *bd, uint64_t blk, uint32_t count, const void *buf)
{
	struct blkdev *b = bd->priv;
	container_of(bd, struct ext4_mount, bd)->unflushed = true;
	return b->geom.readonly ? -EROFS : b->ops->write_blocks(b->priv, blk, count, buf);
}

/* A flush with nothing written since the last one is skipped: the periodic sync (fs/writeback.c)
 * costs an idle disk nothing. */
static int bd_flush(struct ext4_bdev *bd)
{
	struct blkdev *b = bd->priv;
	struct ext4_mount *em = container_of(bd, struct ext4_mount, bd);
	if (!em->unflushed)
		return 0;
	em->unflushed = false;
	int r = b->ops->flush ? b->ops->flush(b->priv) : 0;
	if (r < 0)
		em->unflushed = true;
	return r;
}

static void now_clock(struct ext4_time *t)
{
	uint64_t ns = fs_now() + realtime_offset_ns();
	t->sec = ns / NSEC;
	t->nsec = ns % NSEC;
}

static uint64_t to_ns(struct ext4_time t) { return (uint64_t)t.sec * NSEC + t.nsec; }
static struct ext4_time from_ns(uint64_t ns) { return (struct ext4_time){ ns / NSEC, ns % NSEC }; }

/* ---- inodes ---- */

static void fill(struct inode *ino, const struct ext4_stat *st)
{
	spin_lock(&ino->lock);
	ino->mode = st->mode;
	ino->size = st->size;
	ino->blocks = st->blocks;
	ino->rdev = st->rdev;
	ino->atime = to_ns(st->atime);
	ino->mtime = to_ns(st->mtime);
	ino->ctime = to_ns(st->ctime);
	spin_unlock(&ino->lock);
	WRITE_ONCE(ino->nlink, st->nlink);
}

/* Re-reads the attributes of inode nr if the VFS has it. */
static void refresh(struct super_block *sb, uint32_t nr)
{
	struct inode *ino = icache_find(sb, nr);
	if (!ino)
		return;
	struct ext4_stat st;
	sleep_lock(&EM(sb)->lock);
	int err = ext4_stat(EM(sb)->fs, nr, &st);
	sleep_unlock(&EM(sb)->lock);
	if (!err)
		fill(ino, &st);
	else
		WRITE_ONCE(ino->nlink, 0);           /* freed by its last unlink */
	inode_put(ino);
}

/*
 * The library's question when inode nr loses its last name (em->lock held): does the VFS still
 * have it? Yes: the library keeps it on the orphan list, and the VFS copy says it has no links
 * (its last close releases it). No: the library frees it now, so the VFS copy leaves the inode
 * cache at once, before em->lock is let go: the number may come back as another inode with the
 * very next create, which must not find this one (found by tests/system/test_ext4_crash.py:
 * done after the unlock, a create on another hart got the removed directory's inode and
 * open(O_CREAT) said EISDIR). Never ext4_stat a freed inode: it is corruption to the library.
 */
static bool in_use(void *arg, uint32_t nr)
{
	struct inode *ino = icache_find(arg, nr);
	if (!ino)
		return false;
	bool used = READ_ONCE(ino->refcount) > REFS_DURING_OP + 1;      /* + 1: icache_find's */
	WRITE_ONCE(ino->nlink, 0);
	if (!used) {
		E4V_I(ino)->freed = true;            /* so evict never releases the number */
		icache_remove(ino);
	}
	inode_put(ino);                              /* never the last: the operation holds one */
	return used;
}

/* After a name of nr went away: a last name was handled by in_use, others refresh. */
static void name_dropped(struct super_block *sb, uint32_t nr, bool last)
{
	if (!last)
		refresh(sb, nr);
}

/* The VFS inode of nr, em->lock held: a number found by a lookup or made by a create under the
 * same hold, so it cannot have been freed (and given to another inode) meanwhile. */
static struct inode *iget_locked(struct super_block *sb, uint32_t nr, int *err)
{
	struct inode *ino = icache_find(sb, nr);
	if (ino)
		return ino;
	struct ext4_stat st;
	*err = ext4_stat(EM(sb)->fs, nr, &st);
	if (*err)
		return NULL;
	struct e4v_inode *ei = kzalloc(sizeof(*ei));
	if (!ei) {
		*err = -ENOMEM;
		return NULL;
	}
	ino = &ei->vfs;
	inode_init(ino, sb, st.mode, nr);
	pcache_init(&ei->pc, &e4v_pcache_ops);
	list_init(&ei->mapped);
	fill(ino, &st);
	switch (st.mode & S_IFMT) {
	case S_IFDIR: ino->iops = &e4v_dir_iops; ino->fops = &generic_dir_ops; break;
	case S_IFREG: ino->iops = &e4v_file_iops; ino->fops = &generic_file_ops; break;
	case S_IFLNK: ino->iops = &e4v_link_iops; ino->fops = &generic_symlink_ops; break;
	default: ino->iops = &e4v_special_iops; break;   /* device nodes, fifos: no ops of ours */
	}
	struct inode *won = icache_insert(ino);
	if (won != ino)
		kfree(ei);                           /* someone else read it first */
	*err = 0;
	return won;
}

static struct inode *e4v_iget(struct super_block *sb, uint32_t nr, int *err)
{
	sleep_lock(&EM(sb)->lock);
	struct inode *ino = iget_locked(sb, nr, err);
	sleep_unlock(&EM(sb)->lock);
	return ino;
}

static struct inode *e4v_evict(struct inode *ino)
{
	struct e4v_inode *ei = E4V_I(ino);
	if (READ_ONCE(ino->nlink) != 0 && !ei->freed)
		pcache_writeback(&ei->pc, ino);      /* stores through mappings now gone */
	if (ei->listed) {
		struct ext4_mount *em = EM(ino->sb);
		spin_lock(&em->mapped_lock);
		list_del(&ei->mapped);
		ei->listed = false;
		spin_unlock(&em->mapped_lock);
	}
	pcache_destroy(&ei->pc);
	if (READ_ONCE(ino->nlink) == 0 && !E4V_I(ino)->freed) {
		/* the last close of an inode without names: off the orphan list (0 if it had none) */
		struct ext4_mount *em = EM(ino->sb);
		sleep_lock(&em->lock);
		ext4_release(em->fs, ino->ino);
		sleep_unlock(&em->lock);
	}
	kfree(E4V_I(ino));
	return NULL;
}

/* ---- directories ---- */

static struct inode *e4v_lookup(struct inode *dir, const char *name, size_t len, int *err)
{
	struct ext4_mount *em = EM(dir->sb);
	uint32_t nr;
	if (len == 1 && name[0] == '.') {
		inode_get(dir);
		*err = 0;
		return dir;
	}
	if (dir_gone(dir)) {
		*err = -ENOENT;
		return NULL;
	}
	sleep_lock(&em->lock);
	*err = ext4_lookup(em->fs, dir->ino, name, len, &nr);
	struct inode *ino = *err ? NULL : iget_locked(dir->sb, nr, err);
	sleep_unlock(&em->lock);
	return ino;
}

static uint32_t cur_uid(void) { return 0; }        /* everyone is root */

static int e4v_create(struct inode *dir, const char *name, size_t len, uint32_t mode, uint32_t rdev,
		      struct inode **out)
{
	struct ext4_mount *em = EM(dir->sb);
	uint32_t nr;
	if (dir_gone(dir))
		return -ENOENT;
	sleep_lock(&em->lock);
	int err = S_ISREG(mode) ? ext4_create(em->fs, dir->ino, name, len, mode, cur_uid(), 0, &nr)
				: ext4_mknod(em->fs, dir->ino, name, len, mode, rdev, cur_uid(), 0, &nr);
	if (!err && out)
		*out = iget_locked(dir->sb, nr, &err);
	sleep_unlock(&em->lock);
	if (err)
		return err;
	refresh(dir->sb, dir->ino);
	return 0;
}

static int e4v_mkdir(struct inode *dir, const char *name, size_t len, uint32_t mode)
{
	struct ext4_mount *em = EM(dir->sb);
	uint32_t nr;
	if (dir_gone(dir))
		return -ENOENT;
	sleep_lock(&em->lock);
	int err = ext4_mkdir(em->fs, dir->ino, name, len, mode, cur_uid(), 0, &nr);
	sleep_unlock(&em->lock);
	if (!err)
		refresh(dir->sb, dir->ino);
	return err;
}

static int e4v_symlink(struct inode *dir, const char *name, size_t len, const char *target)
{
	struct ext4_mount *em = EM(dir->sb);
	uint32_t nr;
	if (dir_gone(dir))
		return -ENOENT;
	sleep_lock(&em->lock);
	int err = ext4_symlink(em->fs, dir->ino, name, len, target, strlen(target), cur_uid(), 0, &nr);
	sleep_unlock(&em->lock);
	if (!err)
		refresh(dir->sb, dir->ino);
	return err;
}

static int e4v_link(struct inode *ino, struct inode *dir, const char *name, size_t len)
{
	struct ext4_mount *em = EM(dir->sb);
	if (dir_gone(dir) || READ_ONCE(ino->nlink) == 0)
		return -ENOENT;
	sleep_lock(&em->lock);
	int err = ext4_link(em->fs, ino->ino, dir->ino, name, len);
	sleep_unlock(&em->lock);
	if (!err) {
		refresh(dir->sb, dir->ino);
		refresh(dir->sb, ino->ino);
	}
	return err;
}

static int remove_name(struct inode *dir, const char *name, size_t len, bool isdir)
{
	struct ext4_mount *em = EM(dir->sb);
	uint32_t victim = 0;
	struct ext4_stat st;
	if (dir_gone(dir))
		return -ENOENT;
	sleep_lock(&em->lock);
	int err = ext4_lookup(em->fs, dir->ino, name, len, &victim);
	if (!err)
		err = ext4_stat(em->fs, victim, &st);
	if (!err)
		err = isdir ? ext4_rmdir(em->fs, dir->ino, name, len) : ext4_unlink(em->fs, dir->ino, name, len);
	sleep_unlock(&em->lock);
	if (!err) {
		refresh(dir->sb, dir->ino);
		name_dropped(dir->sb, victim, isdir || st.nlink <= 1);
	}
	return err;
}

static int e4v_unlink(struct inode *dir, const char *name, size_t len) { return remove_name(dir, name, len, false); }
static int e4v_rmdir(struct inode *dir, const char *name, size_t len) { return remove_name(dir, name, len, true); }

static int e4v_rename(struct inode *odir, const char *oname, size_t olen, struct inode *ndir,
		      const char *nname, size_t nlen, unsigned flags)
{
	struct ext4_mount *em = EM(odir->sb);
	uint32_t src = 0, dst = 0;
	struct ext4_stat dst_st = { 0 }, src_st = { 0 };
	if (dir_gone(odir) || dir_gone(ndir))
		return -ENOENT;
	sleep_lock(&em->lock);
	int err = ext4_lookup(em->fs, odir->ino, oname, olen, &src);
	if (!err)
		err = ext4_stat(em->fs, src, &src_st);
	if (!err && (ext4_lookup(em->fs, ndir->ino, nname, nlen, &dst) || ext4_stat(em->fs, dst, &dst_st)))
		dst = 0;
	if (!err)
		err = ext4_rename(em->fs, odir->ino, oname, olen, ndir->ino, nname, nlen, flags);
	sleep_unlock(&em->lock);
	if (!err) {
		refresh(odir->sb, odir->ino);
		if (ndir != odir)
			refresh(odir->sb, ndir->ino);
		refresh(odir->sb, src);
		if (dst && dst != src)                   /* replaced (its last name?) or exchanged */
			name_dropped(odir->sb, dst, !(flags & RENAME_EXCHANGE) &&
				     ((dst_st.mode & S_IFMT) == S_IFDIR || dst_st.nlink <= 1));
	}
	return err;
}

struct readdir_arg { filldir_t fn; void *arg; };

static int e4v_fill(void *arg, const char *name, size_t len, uint32_t ino, unsigned dtype, uint64_t next)
{
	struct readdir_arg *ra = arg;
	return ra->fn(ra->arg, name, len, ino, dtype, next);
}

static int e4v_readdir(struct inode *dir, uint64_t *cookie, filldir_t fn, void *arg)
{
	struct ext4_mount *em = EM(dir->sb);
	struct readdir_arg ra = { fn, arg };
	if (READ_ONCE(dir->nlink) == 0)
		return -ENOENT;
	sleep_lock(&em->lock);
	int err = ext4_readdir(em->fs, dir->ino, cookie, e4v_fill, &ra);
	sleep_unlock(&em->lock);
	return err;
}

static long e4v_readlink(struct inode *ino, char *buf, size_t size)
{
	struct ext4_mount *em = EM(ino->sb);
	sleep_lock(&em->lock);
	long n = ext4_readlink(em->fs, ino->ino, buf, size);
	sleep_unlock(&em->lock);
	return n;
}

/* ---- file data ---- */

/* A bounce buffer for a transfer of n bytes: up to BOUNCE_MAX, BOUNCE_MIN if memory is short. */
static char *bounce_alloc(size_t n, size_t *size)
{
	size_t want = BOUNCE_MIN;
	while (want < n && want < BOUNCE_MAX)
		want <<= 1;
	char *b = kmalloc(want);
	if (!b && want > BOUNCE_MIN)
		b = kmalloc(want = BOUNCE_MIN);
	*size = want;
	return b;
}

/* k bytes at pos into the kernel buffer kbuf, with the cached pages' bytes over the library's
 * (fs/pcache.c): a file nobody mapped skips the index's lock. */
static long read_some(struct inode *ino, uint64_t pos, void *kbuf, size_t k)
{
	struct ext4_mount *em = EM(ino->sb);
	struct pcache *pc = &E4V_I(ino)->pc;
	bool mapped = !pcache_empty(pc);
	if (mapped)
		pcache_lock(pc);
	sleep_lock(&em->lock);
	long r = ext4_read(em->fs, ino->ino, pos, kbuf, k);
	sleep_unlock(&em->lock);
	if (mapped && r > 0)
		pcache_overlay(pc, pos, kbuf, r);
	if (mapped)
		pcache_unlock(pc);
	return r;
}

static long e4v_read(struct inode *ino, void *buf, size_t n, uint64_t pos, bool user)
{
	if (!user)
		return read_some(ino, pos, buf, n);
	size_t bsize;
	char *bounce = bounce_alloc(n, &bsize);
	if (!bounce)
		return -ENOMEM;
	size_t done = 0;
	long err = 0;
	while (done < n) {
		size_t k = MIN(n - done, bsize);
		long r = read_some(ino, pos + done, bounce, k);
		if (r <= 0) {
			err = r;
			break;
		}
		if (copy_to_user((uintptr_t)buf + done, bounce, r)) {
			err = -EFAULT;
			break;
		}
		done += r;
		if ((size_t)r < k)
			break;                       /* end of file */
	}
	kfree(bounce);
	return done ? (long)done : err;
}

static long e4v_write(struct inode *ino, const void *buf, size_t n, uint64_t *pos, bool append, bool user)
{
	struct ext4_mount *em = EM(ino->sb);
	size_t bsize = 0;
	char *bounce = user ? bounce_alloc(n, &bsize) : NULL;
	if (user && !bounce)
		return -ENOMEM;
	sleep_lock(&ino->rw);                        /* appends and extensions are atomic */
	uint64_t at = append ? READ_ONCE(ino->size) : *pos;
	uint64_t size = READ_ONCE(ino->size);        /* changes under rw only */
	struct pcache *pc = &E4V_I(ino)->pc;
	size_t done = 0;
	long err = 0;
	while (done < n) {
		size_t k = user ? MIN(n - done, bsize) : n - done;
		const void *src = (const char *)buf + done;
		if (user) {
			if (copy_from_user(bounce, (uintptr_t)src, k)) {
				err = -EFAULT;
				break;
			}
			src = bounce;
		}
		/* write-through: the library and the cached pages change under one hold of pc->io */
		pcache_lock(pc);
		if (at + done + k > size)
			pcache_resize(pc, size, at + done + k);     /* stores past the old EOF: zeros */
		sleep_lock(&em->lock);
		long w = ext4_write(em->fs, ino->ino, at + done, src, k);
		sleep_unlock(&em->lock);
		if (w > 0) {
			pcache_write_through(pc, at + done, src, w);
			size = MAX(size, at + done + w);
		}
		pcache_unlock(pc);
		if (w <= 0) {
			err = w ? w : -EIO;
			break;
		}
		done += w;
	}
	if (done) {
		*pos = at + done;
		refresh(ino->sb, ino->ino);
	}
	sleep_unlock(&ino->rw);
	kfree(bounce);
	return done ? (long)done : err;
}

static int e4v_setattr(struct inode *ino, const struct iattr *ia)
{
	struct ext4_mount *em = EM(ino->sb);
	struct ext4_setattr sa = { 0 };
	if (ia->valid & ATTR_MODE) {
		sa.valid |= EXT4_SET_MODE;
		sa.mode = ia->mode & S_IALLUGO;
	}
	if (ia->valid & ATTR_SIZE) {
		if (!S_ISREG(ino->mode))
			return -EINVAL;
		sa.valid |= EXT4_SET_SIZE | EXT4_SET_MTIME;
		sa.size = ia->size;
		sa.mtime = from_ns(fs_now() + realtime_offset_ns());
	}
	if (ia->valid & ATTR_ATIME) {
		sa.valid |= EXT4_SET_ATIME;
		sa.atime = from_ns(ia->atime);
	}
	if (ia->valid & ATTR_MTIME) {
		sa.valid |= EXT4_SET_MTIME;
		sa.mtime = from_ns(ia->mtime);
	}
	sa.valid |= EXT4_SET_CTIME;
	sa.ctime = from_ns(fs_now() + realtime_offset_ns());
	struct pcache *pc = &E4V_I(ino)->pc;
	if (ia->valid & ATTR_SIZE) {
		sleep_lock(&ino->rw);
		pcache_lock(pc);             /* no fill between the library's change and the index's */
	}
	uint64_t old = READ_ONCE(ino->size);
	sleep_lock(&em->lock);
	int err = ext4_setattr(em->fs, ino->ino, &sa);
	sleep_unlock(&em->lock);
	if (ia->valid & ATTR_SIZE) {
		if (!err) {
			spin_lock(&ino->lock);
			ino->size = ia->size;
			spin_unlock(&ino->lock);
			/* the new size first, then out of every mapping, then out of the index
			 * (mm/rmap.c: a fault meanwhile fetches again and finds the new EOF) */
			if (ia->size < old)
				rmap_unmap_from(ino, (ia->size + PAGE_SIZE - 1) / PAGE_SIZE);
			pcache_resize(pc, old, ia->size);   /* pages past the new EOF go */
		}
		pcache_unlock(pc);
		sleep_unlock(&ino->rw);
	}
	refresh(ino->sb, ino->ino);
	return err;
}

static int e4v_fallocate(struct inode *ino, int mode, uint64_t off, uint64_t len)
{
	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;                  /* punch hole, zero range ...: not yet */
	struct ext4_mount *em = EM(ino->sb);
	struct pcache *pc = &E4V_I(ino)->pc;
	sleep_lock(&ino->rw);
	pcache_lock(pc);
	uint64_t size = READ_ONCE(ino->size);
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > size)
		pcache_resize(pc, size, off + len);          /* stores past the old EOF: zeros */
	sleep_lock(&em->lock);
	int err = ext4_fallocate(em->fs, ino->ino, mode & FALLOC_FL_KEEP_SIZE, off, len);
	sleep_unlock(&em->lock);
	pcache_unlock(pc);
	sleep_unlock(&ino->rw);
	refresh(ino->sb, ino->ino);
	return err;
}

/* ---- mapped pages (fs/pcache.c) ---- */

static long pc_fill(struct inode *ino, uint64_t off, void *buf, size_t n)
{
	struct ext4_mount *em = EM(ino->sb);
	sleep_lock(&em->lock);
	long r = ext4_read(em->fs, ino->ino, off, buf, n);
	sleep_unlock(&em->lock);
	return r;
}

static long pc_store(struct inode *ino, uint64_t off, const void *buf, size_t n)
{
	struct ext4_mount *em = EM(ino->sb);
	sleep_lock(&em->lock);
	long r = ext4_write(em->fs, ino->ino, off, buf, n);
	sleep_unlock(&em->lock);
	return r;
}

static const struct pcache_ops e4v_pcache_ops = { .fill = pc_fill, .store = pc_store };

static int e4v_get_page(struct inode *ino, uint64_t pgoff, paddr_t *pa)
{
	struct e4v_inode *ei = E4V_I(ino);
	struct ext4_mount *em = EM(ino->sb);
	if (!READ_ONCE(ei->listed)) {                /* so sync finds its pages */
		spin_lock(&em->mapped_lock);
		if (!ei->listed) {
			list_add_tail(&ei->mapped, &em->mapped);
			ei->listed = true;
		}
		spin_unlock(&em->mapped_lock);
	}
	return pcache_get_page(&ei->pc, ino, pgoff, pa);
}

static int e4v_find_page(struct inode *ino, uint64_t pgoff, paddr_t *pa)
{
	return pcache_find_page(&E4V_I(ino)->pc, ino, pgoff, pa);
}

/* Stores through shared mappings to the library (its journal); the attributes it changed. */
static int e4v_writeback(struct inode *ino)
{
	struct pcache *pc = &E4V_I(ino)->pc;
	if (!pcache_dirty(pc, ino))
		return 0;
	int err = pcache_writeback(pc, ino);
	refresh(ino->sb, ino->ino);
	return err;
}

/* Every listed inode with pages to write back (sync, syncfs, the periodic writeback): their
 * numbers are taken under mapped_lock, each inode then through the inode cache (one being evicted
 * is not found: its evict writes back itself). */
#define WRITEBACK_STACK 32
static int writeback_mapped(struct super_block *sb)
{
	struct ext4_mount *em = EM(sb);
	uint32_t stack[WRITEBACK_STACK], *nrs = stack;
	size_t cap = WRITEBACK_STACK, n = 0, listed = 0;
	struct list_head *p;
	spin_lock(&em->mapped_lock);
	list_for_each(p, &em->mapped)
		listed++;
	spin_unlock(&em->mapped_lock);
	if (listed > cap) {
		uint32_t *big = kmalloc(listed * sizeof(*big));
		if (big) {
			nrs = big;
			cap = listed;
		}
	}
	spin_lock(&em->mapped_lock);
	list_for_each(p, &em->mapped) {
		struct e4v_inode *ei = list_entry(p, struct e4v_inode, mapped);
		if (n < cap && pcache_dirty(&ei->pc, &ei->vfs))
			nrs[n++] = (uint32_t)ei->vfs.ino;
	}
	spin_unlock(&em->mapped_lock);
	int err = 0;
	for (size_t i = 0; i < n; i++) {
		struct inode *ino = icache_find(sb, nrs[i]);
		if (!ino)
			continue;
		int e = READ_ONCE(ino->nlink) ? e4v_writeback(ino) : 0;
		if (e && !err)
			err = e;
		inode_put(ino);
	}
	if (nrs != stack)
		kfree(nrs);
	return err;
}

static int e4v_fsync(struct inode *ino, bool datasync)
{
	(void)datasync;                              /* the library syncs the whole file system */
	struct ext4_mount *em = EM(ino->sb);
	int err = S_ISREG(ino->mode) ? e4v_writeback(ino) : 0;
	sleep_lock(&em->lock);
	int e = ext4_sync(em->fs);
	sleep_unlock(&em->lock);
	return err ? err : e;
}

static const struct inode_ops e4v_dir_iops = {
	.lookup = e4v_lookup,
	.create = e4v_create,
	.mkdir = e4v_mkdir,
	.symlink = e4v_symlink,
	.link = e4v_link,
	.unlink = e4v_unlink,
	.rmdir = e4v_rmdir,
	.rename = e4v_rename,
	.readdir = e4v_readdir,
	.setattr = e4v_setattr,
	.fsync = e4v_fsync,
};

static const struct inode_ops e4v_file_iops = {
	.read = e4v_read,
	.write = e4v_write,
	.setattr = e4v_setattr,
	.fallocate = e4v_fallocate,
	.fsync = e4v_fsync,
	.get_page = e4v_get_page,
	.find_page = e4v_find_page,
	.writeback = e4v_writeback,
};

static const struct inode_ops e4v_link_iops = { .readlink = e4v_readlink, .setattr = e4v_setattr };
static const struct inode_ops e4v_special_iops = { .setattr = e4v_setattr };

/* ---- super blocks ---- */

static int e4v_statfs(struct super_block *sb, struct linux_statfs *st)
{
	struct ext4_statfs es;
	sleep_lock(&EM(sb)->lock);
	int err = ext4_statfs(EM(sb)->fs, &es);
	sleep_unlock(&EM(sb)->lock);
	if (err)
		return err;
	st->f_bsize = st->f_frsize = es.block_size;
	st->f_blocks = es.blocks;
	st->f_bfree = es.free_blocks;
	st->f_bavail = es.avail_blocks;
	st->f_files = es.inodes;
	st->f_ffree = es.free_inodes;
	st->f_namelen = EXT4_NAME_MAX;
	uint32_t a, b;                               /* Linux: the uuid's halves xor'ed */
	memcpy(&a, es.uuid, 4);
	memcpy(&b, es.uuid + 4, 4);
	st->f_fsid[0] = a ^ (es.uuid[8] | es.uuid[9] << 8 | es.uuid[10] << 16 | (uint32_t)es.uuid[11] << 24);
	memcpy(&a, es.uuid + 12, 4);
	st->f_fsid[1] = b ^ a;
	return 0;
}

static int e4v_sync(struct super_block *sb)
{
	int wb = (sb->flags & SB_RDONLY) ? 0 : writeback_mapped(sb);
	sleep_lock(&EM(sb)->lock);
	int err = ext4_sync(EM(sb)->fs);
	sleep_unlock(&EM(sb)->lock);
	return err ? err : wb;
}

static bool unlinked(struct inode *ino) { return READ_ONCE(ino->nlink) == 0; }

/* The library has no remount: a second instance is mounted in the new mode, then the old one
 * (synced first) is unmounted; on failure the old one stays. The VFS inodes only hold inode
 * numbers, so they stay valid across the swap. */
static int e4v_remount(struct super_block *sb, unsigned long flags)
{
	struct ext4_mount *em = EM(sb);
	bool ro = flags & MS_RDONLY;
	if (!ro && sb->bdev->geom.readonly)
		return -EROFS;
	if (ro != ext4_is_readonly(em->fs) && icache_any(sb, unlinked))
		return -EBUSY;                       /* a swap would free open-but-unlinked files */
	int wb = ro && !ext4_is_readonly(em->fs) ? writeback_mapped(sb) : 0;   /* stores in mapped pages */
	if (wb)
		return wb;
	sleep_lock(&em->lock);
	int err = 0;
	if (ro != ext4_is_readonly(em->fs)) {
		struct ext4_fs *fs;
		if (!(err = ext4_sync(em->fs)) && !(err = ext4_mount(&em->bd, ro ? EXT4_MOUNT_RDONLY : 0, &fs))) {
			if (!ro && ext4_is_readonly(fs)) {
				ext4_umount(fs);     /* features it can only read */
				err = -EROFS;
			} else {
				ext4_umount(em->fs);
				em->fs = fs;
				ext4_set_clock(fs, now_clock);
				ext4_set_in_use(fs, in_use, sb);
			}
		}
	}
	sleep_unlock(&em->lock);
	return err;
}

static void e4v_kill(struct super_block *sb)
{
	struct ext4_mount *em = EM(sb);
	inode_put(sb->root);
	sleep_lock(&em->lock);
	ext4_umount(em->fs);                         /* writes back and frees the library's state */
	sleep_unlock(&em->lock);
	if (em->bdev->ops->cache_blocks)
		em->bdev->ops->cache_blocks(em->bdev->priv, 0);
	icache_destroy(sb);
	kfree(em);
	kfree(sb);
}

static const struct super_ops e4v_super_ops = {
	.evict = e4v_evict,
	.statfs = e4v_statfs,
	.sync = e4v_sync,
	.remount = e4v_remount,
	.kill = e4v_kill,
};

static int e4v_mount(const struct fs_type *t, struct blkdev *bdev, unsigned long flags, const char *data,
		     struct super_block **out)
{
	(void)data;
	struct ext4_mount *em = kzalloc(sizeof(*em));
	struct super_block *sb = em ? sb_alloc(t, &e4v_super_ops, EXT4_SUPER_MAGIC_NR) : NULL;
	int err = -ENOMEM;
	if (!sb || icache_init(sb))
		goto fail;
	sleeplock_init(&em->lock, "ext4");
	spin_init(&em->mapped_lock, "ext4_mapped");
	list_init(&em->mapped);
	em->bdev = bdev;
	em->bd = (struct ext4_bdev){
		.block_size = bdev->geom.block_size, .block_count = bdev->geom.block_count,
		.read_blocks = bd_read, .write_blocks = bd_write, .flush = bd_flush, .priv = bdev,
	};
	bool ro = (flags & MS_RDONLY) || bdev->geom.readonly;
	if ((err = ext4_mount(&em->bd, ro ? EXT4_MOUNT_RDONLY : 0, &em->fs)))
		goto fail;
	ext4_set_clock(em->fs, now_clock);
	ext4_set_in_use(em->fs, in_use, sb);
	ext4_journal_batch(em->fs, true);       /* commits every few seconds and at sync, as JBD2 */
	if (bdev->ops->cache_blocks)            /* metadata blocks through the buffer cache */
		bdev->ops->cache_blocks(bdev->priv, ext4_block_size(em->fs));
	sb->priv = em;
	sb->bdev = bdev;
	sb->dev = linux_dev(bdev->geom.major, bdev->geom.minor);
	if (ro || ext4_is_readonly(em->fs))
		sb->flags |= SB_RDONLY;
	if (!(sb->root = e4v_iget(sb, EXT4_ROOT_INO, &err))) {
		ext4_umount(em->fs);
		goto fail;
	}
	if (!S_ISDIR(sb->root->mode)) {
		err = -EUCLEAN;
		sb_put(sb);                          /* kill: root, library, memory */
		return err;
	}
	*out = sb;
	return 0;
fail:
	if (sb && sb->icache)
		icache_destroy(sb);
	kfree(sb);
	kfree(em);
	return err;
}

static struct fs_type ext4_type = { .name = "ext4", .flags = FS_REQUIRES_DEV, .mount = e4v_mount };

int ext4_vfs_init(void)
{
	return register_filesystem(&ext4_type);
}
