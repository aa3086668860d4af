/*
 * tmpfs: a file system in RAM, and the base of proc, devtmpfs and the boot root (rootfs).
 *
 * A directory is a list of dirent_nodes in insertion order. Each entry holds a reference on its
 * inode and counts in its nlink; a subdirectory also holds a reference on its parent (its ".."),
 * so a removed directory that is still someone's cwd can answer "..". An inode is freed (evict)
 * when its last reference goes, whatever nlink says: unlinked files stay readable while open.
 * The root's ".." is itself; the VFS crosses mount points before asking.
 *
 * getdents offsets are per-entry cookies that only increase along the list (0 and 1 are "." and
 * ".."), so a reader resumes at the first entry whose cookie is >= its offset even if entries
 * before it were removed in between.
 *
 * When the last mount of a tmpfs goes (kill), every entry is unlinked, deepest first and without
 * recursion; files still open keep their inodes until closed.
 *
 * Locks: ns_lock guards every directory's entry list and next_cookie, every nlink and parent
 * pointer, of every tmpfs super block. It is a spinlock: tmpfs never sleeps in a directory op and
 * never touches user memory under it (readdir's callback formats into a kernel buffer).
 * inode->lock guards size, data and times. tmpfs inodes may be put under ns_lock: their evict
 * takes no directory lock.
 */
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define BOGO_DIRENT_SIZE 20                  /* tmpfs reports a directory's size per entry */
#define TMPFS_NAMELEN 255

struct spinlock ns_lock = SPINLOCK_INIT("fs_ns");

static struct inode *tmpfs_alloc(struct super_block *sb, uint32_t mode)
{
	struct tmpfs_inode *ti = kzalloc(sizeof(*ti));
	if (!ti)
		return NULL;
	struct inode *ino = &ti->vfs;
	inode_init(ino, sb, mode, inode_next_ino());
	if (S_ISDIR(mode)) {
		list_init(&ti->dir.entries);
		ti->dir.next_cookie = DIR_FIRST_COOKIE;
		ino->nlink = 1;                      /* its own "." */
		ino->size = 2 * BOGO_DIRENT_SIZE;
		ino->iops = &tmpfs_dir_iops;
		ino->fops = &generic_dir_ops;
	} else if (S_ISREG(mode)) {
		ino->iops = &tmpfs_file_iops;
		ino->fops = &generic_file_ops;
	} else if (S_ISLNK(mode)) {
		ino->iops = &tmpfs_symlink_iops;
		ino->fops = &generic_symlink_ops;
	}
	return ino;
}

static struct inode *tmpfs_evict(struct inode *ino)
{
	struct tmpfs_inode *ti = TMPFS_I(ino);
	struct inode *parent = NULL;
	if (S_ISREG(ino->mode))
		tmpfs_free_data(ino);
	else if (S_ISLNK(ino->mode))
		kfree(ti->symlink);
	else if (S_ISDIR(ino->mode))
		parent = ti->parent;                 /* entries are gone: each held a reference */
	kfree(ti);
	return parent;                               /* the VFS iterates up a deep tree */
}

/* ---- directories (ns_lock held) ---- */

struct dirent_node *tmpfs_dir_find(struct inode *dir, const char *name, size_t len)
{
	struct list_head *p;
	list_for_each(p, &TMPFS_I(dir)->dir.entries) {
		struct dirent_node *d = list_entry(p, struct dirent_node, node);
		if (d->len == len && memcmp(d->name, name, len) == 0)
			return d;
	}
	return NULL;
}

struct inode *tmpfs_dir_lookup(struct inode *dir, const char *name, size_t len)
{
	if (len == 1 && name[0] == '.')
		return dir;
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return TMPFS_I(dir)->parent ? TMPFS_I(dir)->parent : dir;
	struct dirent_node *d = tmpfs_dir_find(dir, name, len);
	return d ? d->inode : NULL;
}

static struct dirent_node *dirent_new(const char *name, size_t len)
{
	struct dirent_node *d = kmalloc(sizeof(*d) + len);
	if (d) {
		memcpy(d->name, name, len);
		d->len = len;
	}
	return d;
}

static void dir_insert(struct inode *dir, struct dirent_node *d, struct inode *ino)
{
	struct tmpfs_inode *td = TMPFS_I(dir);
	d->inode = ino;
	d->cookie = td->dir.next_cookie++;
	inode_get(ino);
	ino->nlink++;
	if (S_ISDIR(ino->mode)) {
		struct tmpfs_inode *ti = TMPFS_I(ino);
		dir->nlink++;                        /* the child's ".." */
		if (ti->parent != dir) {
			inode_get(dir);
			if (ti->parent)
				inode_put(ti->parent);   /* a rename: the old parent keeps its own entry */
			ti->parent = dir;
		}
	}
	list_add_tail(&d->node, &td->dir.entries);
	td->dir.count++;
	dir->size += BOGO_DIRENT_SIZE;
	inode_touch(dir, true);
	inode_touch(ino, false);
}

int tmpfs_dir_link(struct inode *dir, const char *name, size_t len, struct inode *ino)
{
	struct dirent_node *d = dirent_new(name, len);
	if (!d)
		return -ENOMEM;
	dir_insert(dir, d, ino);
	return 0;
}

struct inode *tmpfs_dir_unlink(struct inode *dir, struct dirent_node *d)
{
	struct inode *ino = d->inode;
	list_del(&d->node);
	TMPFS_I(dir)->dir.count--;
	dir->size -= BOGO_DIRENT_SIZE;
	kfree(d);
	ino->nlink--;
	if (S_ISDIR(ino->mode))
		dir->nlink--;
	inode_touch(dir, true);
	inode_touch(ino, false);
	return ino;
}

static bool dir_is_empty(struct inode *dir) { return list_empty(&TMPFS_I(dir)->dir.entries); }

struct inode *tmpfs_new_node(struct inode *dir, const char *name, size_t len, uint32_t mode, int *err)
{
	if (dir->nlink == 0) {                       /* creating in a removed directory */
		*err = -ENOENT;
		return NULL;
	}
	struct inode *ino = tmpfs_alloc(dir->sb, mode);
	if (!ino) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = tmpfs_dir_link(dir, name, len, ino);
	inode_put(ino);                              /* the entry holds it now (or it is freed) */
	return *err ? NULL : ino;
}

struct inode *tmpfs_mkdirs(struct inode *dir, const char *path, size_t upto, uint32_t perm, int *err)
{
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
		struct inode *next = tmpfs_dir_lookup(dir, path + start, i - start);
		if (!next)
			next = tmpfs_new_node(dir, path + start, i - start, S_IFDIR | perm, err);
		if (!next || !S_ISDIR(next->mode)) {
			*err = next ? -ENOTDIR : *err;
			return NULL;
		}
		dir = next;
	}
	return dir;
}

int tmpfs_new_symlink(struct inode *dir, const char *name, size_t len, const char *target)
{
	size_t tlen = strlen(target);
	char *copy = kmalloc(tlen + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, target, tlen + 1);
	struct inode *ino = tmpfs_alloc(dir->sb, S_IFLNK | 0777);
	if (!ino) {
		kfree(copy);
		return -ENOMEM;
	}
	TMPFS_I(ino)->symlink = copy;
	ino->size = tlen;
	int err = dir->nlink == 0 ? -ENOENT : tmpfs_dir_link(dir, name, len, ino);
	inode_put(ino);
	return err;
}

int tmpfs_make_node(struct inode *root, const char *path, uint32_t mode, uint32_t rdev,
		    const struct file_ops *fops, const struct inode_ops *iops, void *priv)
{
	const char *slash = NULL;
	for (const char *s = path; *s; s++)
		if (*s == '/')
			slash = s;
	const char *name = slash ? slash + 1 : path;
	size_t len = strlen(name);
	int err = 0;
	spin_lock(&ns_lock);
	struct inode *dir = slash ? tmpfs_mkdirs(root, path, slash - path, 0555, &err) : root;
	if (dir) {
		if (len == 0 || len > NAME_MAX || is_dot(name, len) || tmpfs_dir_lookup(dir, name, len)) {
			err = len == 0 || len > NAME_MAX ? -EINVAL : -EEXIST;
		} else {
			struct inode *ino = tmpfs_new_node(dir, name, len, mode, &err);
			if (ino) {                   /* under ns_lock: nobody has seen it yet */
				ino->rdev = rdev;
				if (fops)
					ino->fops = fops;
				if (iops)
					ino->iops = iops;
				ino->priv = priv;
			}
		}
	}
	spin_unlock(&ns_lock);
	return err;
}

/* ---- directory inode ops ---- */

static struct inode *tmpfs_lookup(struct inode *dir, const char *name, size_t len, int *err)
{
	spin_lock(&ns_lock);
	struct inode *ino = tmpfs_dir_lookup(dir, name, len);
	if (ino)
		inode_get(ino);
	spin_unlock(&ns_lock);
	*err = ino ? 0 : -ENOENT;
	return ino;
}

static int tmpfs_create(struct inode *dir, const char *name, size_t len, uint32_t mode, uint32_t rdev,
			struct inode **out)
{
	int err;
	spin_lock(&ns_lock);
	struct inode *ino = NULL;
	if (tmpfs_dir_find(dir, name, len))
		err = -EEXIST;
	else if ((ino = tmpfs_new_node(dir, name, len, mode, &err))) {
		ino->rdev = rdev;
		if (out)
			inode_get(ino);
	}
	spin_unlock(&ns_lock);
	if (out)
		*out = ino;
	return err;
}

static int tmpfs_tmpfile(struct inode *dir, uint32_t mode, struct inode **out)
{
	return (*out = tmpfs_alloc(dir->sb, mode)) ? 0 : -ENOMEM;
}

static int tmpfs_mkdir(struct inode *dir, const char *name, size_t len, uint32_t mode)
{
	int err;
	spin_lock(&ns_lock);
	if (tmpfs_dir_find(dir, name, len))
		err = -EEXIST;
	else
		tmpfs_new_node(dir, name, len, S_IFDIR | (mode & S_IALLUGO), &err);
	spin_unlock(&ns_lock);
	return err;
}

static int tmpfs_symlink(struct inode *dir, const char *name, size_t len, const char *target)
{
	int err;
	spin_lock(&ns_lock);
	err = tmpfs_dir_find(dir, name, len) ? -EEXIST : tmpfs_new_symlink(dir, name, len, target);
	spin_unlock(&ns_lock);
	return err;
}

static int tmpfs_link(struct inode *ino, struct inode *dir, const char *name, size_t len)
{
	int err;
	spin_lock(&ns_lock);
	if (tmpfs_dir_find(dir, name, len))
		err = -EEXIST;
	else if (ino->nlink == 0 || dir->nlink == 0)  /* unlinked meanwhile */
		err = -ENOENT;
	else
		err = tmpfs_dir_link(dir, name, len, ino);
	spin_unlock(&ns_lock);
	return err;
}

static int remove_entry(struct inode *dir, const char *name, size_t len, bool isdir)
{
	struct inode *put = NULL;
	int err = 0;
	spin_lock(&ns_lock);
	struct dirent_node *d = tmpfs_dir_find(dir, name, len);
	if (!d)
		err = -ENOENT;
	else if (!isdir && S_ISDIR(d->inode->mode))
		err = -EISDIR;
	else if (isdir && !S_ISDIR(d->inode->mode))
		err = -ENOTDIR;
	else if (isdir && !dir_is_empty(d->inode))
		err = -ENOTEMPTY;
	else {
		put = tmpfs_dir_unlink(dir, d);
		if (isdir)
			put->nlink = 0;              /* its "." goes too */
	}
	spin_unlock(&ns_lock);
	inode_put(put);
	return err;
}

static int tmpfs_unlink(struct inode *dir, const char *name, size_t len) { return remove_entry(dir, name, len, false); }
static int tmpfs_rmdir(struct inode *dir, const char *name, size_t len) { return remove_entry(dir, name, len, true); }

static bool is_ancestor(struct inode *a, struct inode *d)        /* a == d or above it */
{
	for (struct inode *p = d; p; p = TMPFS_I(p)->parent)
		if (p == a)
			return true;
	return false;
}

static int rename_locked(struct inode *odir, const char *oname, size_t olen, struct inode *ndir,
			 const char *nname, size_t nlen, unsigned flags, struct inode **put)
{
	struct dirent_node *od = tmpfs_dir_find(odir, oname, olen);
	if (!od)
		return -ENOENT;
	struct inode *src = od->inode;
	struct dirent_node *nd = tmpfs_dir_find(ndir, nname, nlen);
	struct inode *dst = nd ? nd->inode : NULL;
	if (ndir->nlink == 0)
		return -ENOENT;
	if (flags & RENAME_EXCHANGE) {
		if (!dst)
			return -ENOENT;
		if ((S_ISDIR(src->mode) && is_ancestor(src, ndir)) ||
		    (S_ISDIR(dst->mode) && is_ancestor(dst, odir)))
			return -EINVAL;
		struct dirent_node *a = dirent_new(od->name, od->len), *b = dirent_new(nd->name, nd->len);
		if (!a || !b) {
			kfree(a);
			kfree(b);
			return -ENOMEM;
		}
		inode_get(src);
		inode_get(dst);
		inode_put(tmpfs_dir_unlink(odir, od));   /* our references keep both alive */
		inode_put(tmpfs_dir_unlink(ndir, nd));
		dir_insert(odir, a, dst);
		dir_insert(ndir, b, src);
		inode_put(src);
		inode_put(dst);
		return 0;
	}
	if (dst) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (dst == src)
			return 0;                    /* two names of one file: nothing to do */
		if (S_ISDIR(src->mode) && !S_ISDIR(dst->mode))
			return -ENOTDIR;
		if (!S_ISDIR(src->mode) && S_ISDIR(dst->mode))
			return -EISDIR;
		if (S_ISDIR(dst->mode) && !dir_is_empty(dst))
			return -ENOTEMPTY;
	}
	if (S_ISDIR(src->mode) && is_ancestor(src, ndir))
		return -EINVAL;                      /* a directory into itself */
	struct dirent_node *n = dirent_new(nname, nlen);
	if (!n)
		return -ENOMEM;
	if (dst) {
		*put = tmpfs_dir_unlink(ndir, nd);
		if (S_ISDIR(dst->mode))
			dst->nlink = 0;
	}
	dir_insert(ndir, n, src);
	inode_put(tmpfs_dir_unlink(odir, od));       /* the new entry holds src */
	return 0;
}

static int tmpfs_rename(struct inode *odir, const char *oname, size_t olen, struct inode *ndir,
			const char *nname, size_t nlen, unsigned flags)
{
	struct inode *put = NULL;
	spin_lock(&ns_lock);
	int err = rename_locked(odir, oname, olen, ndir, nname, nlen, flags, &put);
	spin_unlock(&ns_lock);
	inode_put(put);
	return err;
}

static int tmpfs_readdir(struct inode *dir, uint64_t *cookie, filldir_t fn, void *arg)
{
	struct tmpfs_inode *td = TMPFS_I(dir);
	int ret = 0;
	spin_lock(&ns_lock);
	if (dir->nlink == 0) {
		ret = -ENOENT;
		goto out;
	}
	if (*cookie == 0) {
		if (fn(arg, ".", 1, dir->ino, DT_DIR, 1))
			goto out;
		*cookie = 1;
	}
	if (*cookie == 1) {
		struct inode *up = td->parent ? td->parent : dir;
		if (fn(arg, "..", 2, up->ino, DT_DIR, DIR_FIRST_COOKIE))
			goto out;
		*cookie = DIR_FIRST_COOKIE;
	}
	struct list_head *p;
	list_for_each(p, &td->dir.entries) {
		struct dirent_node *d = list_entry(p, struct dirent_node, node);
		if (d->cookie < *cookie)
			continue;
		if (fn(arg, d->name, d->len, d->inode->ino, inode_dtype(d->inode), d->cookie + 1))
			break;
		*cookie = d->cookie + 1;
	}
out:
	spin_unlock(&ns_lock);
	return ret;
}

static int tmpfs_setattr(struct inode *ino, const struct iattr *ia)
{
	if (ia->valid & ATTR_SIZE) {
		if (!S_ISREG(ino->mode))
			return -EINVAL;
		int err = tmpfs_truncate(ino, ia->size);
		if (err)
			return err;
	}
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

const struct inode_ops tmpfs_dir_iops = {
	.lookup = tmpfs_lookup,
	.create = tmpfs_create,
	.mkdir = tmpfs_mkdir,
	.symlink = tmpfs_symlink,
	.link = tmpfs_link,
	.unlink = tmpfs_unlink,
	.rmdir = tmpfs_rmdir,
	.rename = tmpfs_rename,
	.readdir = tmpfs_readdir,
	.tmpfile = tmpfs_tmpfile,
	.setattr = tmpfs_setattr,
};

const struct inode_ops tmpfs_file_iops = {
	.read = tmpfs_read,
	.write = tmpfs_write,
	.get_page = tmpfs_get_page,
	.find_page = tmpfs_find_page,
	.fallocate = tmpfs_fallocate,
	.setattr = tmpfs_setattr,
};

static long tmpfs_readlink(struct inode *ino, char *buf, size_t size)
{
	const char *t = TMPFS_I(ino)->symlink;
	size_t len = MIN(strlen(t), size);
	memcpy(buf, t, len);
	return len;
}

const struct inode_ops tmpfs_symlink_iops = { .readlink = tmpfs_readlink, .setattr = tmpfs_setattr };

/* ---- super blocks ---- */

static int tmpfs_statfs(struct super_block *sb, struct linux_statfs *st)
{
	(void)sb;
	struct page_stats ps;
	page_get_stats(&ps);
	st->f_bsize = st->f_frsize = PAGE_SIZE;
	st->f_blocks = ps.total;                  /* no size limit but RAM */
	st->f_bfree = st->f_bavail = ps.free;
	st->f_files = ps.total;
	st->f_ffree = ps.free;
	st->f_namelen = TMPFS_NAMELEN;
	return 0;
}

/* Unlinks every entry below the root, deepest first, without recursion (ns_lock held). */
static void tmpfs_clear(struct inode *root)
{
	struct inode *cur = root;
	for (;;) {
		struct tmpfs_inode *tc = TMPFS_I(cur);
		if (list_empty(&tc->dir.entries)) {
			if (cur == root)
				return;
			cur = tc->parent;            /* its entry there goes next */
			continue;
		}
		struct dirent_node *d = list_first_entry(&tc->dir.entries, struct dirent_node, node);
		if (S_ISDIR(d->inode->mode) && !dir_is_empty(d->inode)) {
			cur = d->inode;
			continue;
		}
		struct inode *ino = tmpfs_dir_unlink(cur, d);
		if (S_ISDIR(ino->mode))
			ino->nlink = 0;
		inode_put(ino);
	}
}

static void tmpfs_kill(struct super_block *sb)
{
	spin_lock(&ns_lock);
	tmpfs_clear(sb->root);
	spin_unlock(&ns_lock);
	inode_put(sb->root);
	kfree(sb);
}

const struct super_ops tmpfs_super_ops = {
	.evict = tmpfs_evict,
	.statfs = tmpfs_statfs,
	.kill = tmpfs_kill,
};

struct super_block *tmpfs_sb_new(const struct fs_type *t, uint64_t magic, uint32_t perm)
{
	struct super_block *sb = sb_alloc(t, &tmpfs_super_ops, magic);
	if (!sb)
		return NULL;
	struct inode *root = tmpfs_alloc(sb, S_IFDIR | perm);
	if (!root) {
		kfree(sb);
		return NULL;
	}
	root->nlink = 2;                             /* "." and the root's own ".." */
	sb->root = root;
	return sb;
}

