/*
 * The public operations of ext4.h: each reads the inodes it needs, checks the arguments, does its
 * work through inode.c/dir.c/alloc.c and writes the inodes back. Order of writes for creation:
 * inode bitmap, the new inode, then the name; for removal: the name, then the inode and its
 * blocks. So a crash leaves at worst leaked (not doubly used) inodes and blocks.
 */
#include "fs/ext4/ext4_fs.h"

#define EXT4_LINK_MAX   65000          /* beyond it dir_nlink directories count 1 */
#define EXT4_MAX_SYMLINK 4096          /* PATH_MAX */
#define EXT4_RENAME_WALK_MAX 4096      /* ".." hops before we call the tree a loop */

static int check_name(const char *name, size_t len)
{
	if (len == 0)
		return -ENOENT;
	if (len > EXT4_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == 0)
			return -EINVAL;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	return 0;
}

static int get_dir(struct ext4_fs *fs, uint32_t ino, struct ext4_iref **out)
{
	int r = ext4_iget(fs, ino, out);
	if (r < 0)
		return r;
	if (!ext4_is_dir(*out)) {
		ext4_iput(*out);
		*out = NULL;
		return -ENOTDIR;
	}
	return 0;
}

/* ---- reading ---- */
int ext4_stat(struct ext4_fs *fs, uint32_t ino, struct ext4_stat *st)
{
	struct ext4_iref *ir;
	int r = ext4_iget(fs, ino, &ir);
	if (r < 0)
		return r;
	ext4_iget_stat(fs, ir, st);
	ext4_iput(ir);
	return 0;
}

int ext4_lookup(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t *ino)
{
	if (len == 0)
		return -ENOENT;
	if (len > EXT4_NAME_MAX)
		return -ENAMETOOLONG;
	struct ext4_iref *d;
	int r = get_dir(fs, dir, &d);
	if (r < 0)
		return r;
	r = ext4_dir_find(fs, d, name, len, ino);
	ext4_iput(d);
	if (r == 0 && (*ino == 0 || *ino > fs->sb.s_inodes_count))
		r = ext4_corrupt(fs);
	return r;
}

int ext4_lookup_path(struct ext4_fs *fs, const char *path, uint32_t *ino)
{
	uint32_t cur = EXT4_ROOT_INO;
	while (*path) {
		while (*path == '/')
			path++;
		if (!*path)
			break;
		size_t n = 0;
		while (path[n] && path[n] != '/')
			n++;
		int r = ext4_lookup(fs, cur, path, n, &cur);
		if (r < 0)
			return r;
		path += n;
	}
	*ino = cur;
	return 0;
}

int ext4_readdir(struct ext4_fs *fs, uint32_t dir, uint64_t *cookie, ext4_filldir_t fn, void *arg)
{
	struct ext4_iref *d;
	int r = get_dir(fs, dir, &d);
	if (r < 0)
		return r;
	r = ext4_dir_iterate(fs, d, cookie, fn, arg);
	ext4_iput(d);
	return r;
}

long ext4_read(struct ext4_fs *fs, uint32_t ino, uint64_t off, void *buf, size_t len)
{
	struct ext4_iref *ir;
	int r = ext4_iget(fs, ino, &ir);
	if (r < 0)
		return r;
	long ret;
	uint64_t size = ext4_isize(ir);
	if (ext4_is_dir(ir)) {
		ret = -EISDIR;
	} else if (off >= size) {
		ret = 0;
	} else {
		if (len > size - off)
			len = (size_t)(size - off);
		if (len > (size_t)1 << 30)
			len = (size_t)1 << 30;
		r = ext4_iread_data(fs, ir, off, buf, len);
		ret = r < 0 ? r : (long)len;
	}
	ext4_iput(ir);
	return ret;
}

long ext4_readlink(struct ext4_fs *fs, uint32_t ino, char *buf, size_t len)
{
	struct ext4_iref *ir;
	int r = ext4_iget(fs, ino, &ir);
	if (r < 0)
		return r;
	long ret;
	uint64_t size = ext4_isize(ir);
	if ((ir->i.i_mode & EXT4_S_IFMT) != EXT4_S_IFLNK) {
		ret = -EINVAL;
	} else if (size == 0 || size >= EXT4_MAX_SYMLINK || size >= fs->bs + EXT4_INLINE_SIZE) {
		ret = ext4_corrupt(fs);
	} else {
		size_t n = len < size ? len : (size_t)size;
		if (!(ir->i.i_flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL))) {
			/* fast symlink: the target is in i_block */
			if (size >= EXT4_INLINE_SIZE)
				ret = ext4_corrupt(fs);
			else
				ret = (memcpy(buf, ir->i.i_block, n), (long)n);
		} else {
			r = ext4_iread_data(fs, ir, 0, buf, n);
			ret = r < 0 ? r : (long)n;
		}
	}
	ext4_iput(ir);
	return ret;
}

int ext4_bmap(struct ext4_fs *fs, uint32_t ino, uint64_t lblk, uint64_t *pblk)
{
	struct ext4_iref *ir;
	int r = ext4_iget(fs, ino, &ir);
	if (r < 0)
		return r;
	*pblk = 0;
	if (lblk > 0xFFFFFFFFu)
		r = -EFBIG;
	else if ((ir->i.i_flags & EXT4_EXTENTS_FL) && !(ir->i.i_flags & EXT4_INLINE_DATA_FL)) {
		uint32_t run;
		bool uw;
		r = ext4_ext_map(fs, ir, (uint32_t)lblk, pblk, &run, &uw);
		if (uw)
			*pblk = 0;
	} else
		r = -EOPNOTSUPP;
	ext4_iput(ir);
	return r;
}

/* ---- creating ---- */
static int make_node(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
		     uint32_t rdev, uint32_t uid, uint32_t gid, const char *target, size_t tlen, uint32_t *out)
{
	if (fs->ro)
		return -EROFS;
	int r = check_name(name, len);
	if (r < 0)
		return r == -EINVAL && len <= 2 ? -EEXIST : r;
	uint32_t type = mode & EXT4_S_IFMT;
	if (!ext4_mode_to_ftype(mode))
		return -EINVAL;
	struct ext4_iref *d, *ir = NULL;
	r = get_dir(fs, dir, &d);
	if (r < 0)
		return r;
	uint32_t ino;
	r = ext4_dir_find(fs, d, name, len, &ino);
	if (r == 0)
		r = -EEXIST;
	if (r != -ENOENT)
		goto out;
	bool isdir = type == EXT4_S_IFDIR;
	r = ext4_alloc_inode(fs, dir, isdir, &ino);
	if (r < 0)
		goto out;
	r = ext4_inew(fs, ino, mode, uid, gid, &ir);
	if (r < 0) {
		ext4_free_inode(fs, ino, isdir);
		goto out;
	}
	if (type == EXT4_S_IFREG || type == EXT4_S_IFDIR || (type == EXT4_S_IFLNK && tlen >= EXT4_INLINE_SIZE)) {
		ir->i.i_flags |= EXT4_EXTENTS_FL;
		ext4_ext_init_root(ir);
	}
	if (type == EXT4_S_IFDIR) {
		ir->i.i_links_count = 2;
		r = ext4_dir_init(fs, ir, dir);
	} else if (type == EXT4_S_IFLNK) {
		if (tlen < EXT4_INLINE_SIZE) {
			memcpy(ir->i.i_block, target, tlen);
			ext4_set_isize(ir, tlen);
		} else {
			long w = ext4_iwrite_data(fs, ir, 0, target, tlen);
			r = w < 0 ? (int)w : ((size_t)w == tlen ? 0 : -ENOSPC);
		}
	} else if (type == EXT4_S_IFCHR || type == EXT4_S_IFBLK) {
		ir->i.i_block[1] = rdev;
	}
	if (r == 0)
		r = ext4_iwrite(fs, ir);
	if (r == 0)
		r = ext4_dir_add(fs, d, name, len, ino, ext4_mode_to_ftype(mode));
	if (r < 0) {
		ir->i.i_links_count = 0;
		ext4_ifree(fs, ir);
		goto out;
	}
	if (isdir) {
		if (d->i.i_links_count >= EXT4_LINK_MAX || d->i.i_links_count == 1)
			d->i.i_links_count = 1;       /* dir_nlink: too many to count */
		else
			d->i.i_links_count++;
		r = ext4_iwrite(fs, d);
	}
	if (r == 0 && out)
		*out = ino;
out:
	ext4_iput(ir);
	ext4_iput(d);
	return r;
}

static int mknod_op(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
	       uint32_t rdev, uint32_t uid, uint32_t gid, uint32_t *ino)
{
	uint32_t t = mode & EXT4_S_IFMT;
	if (t == EXT4_S_IFDIR || t == EXT4_S_IFLNK)
		return -EINVAL;
	return make_node(fs, dir, name, len, mode, rdev, uid, gid, NULL, 0, ino);
}

static int create_op(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
		uint32_t uid, uint32_t gid, uint32_t *ino)
{
	return make_node(fs, dir, name, len, EXT4_S_IFREG | (mode & 07777), 0, uid, gid, NULL, 0, ino);
}

static int mkdir_op(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
	       uint32_t uid, uint32_t gid, uint32_t *ino)
{
	return make_node(fs, dir, name, len, EXT4_S_IFDIR | (mode & 07777), 0, uid, gid, NULL, 0, ino);
}

static int symlink_op(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len,
		 const char *target, size_t tlen, uint32_t uid, uint32_t gid, uint32_t *ino)
{
	if (tlen == 0)
		return -ENOENT;
	if (tlen >= EXT4_MAX_SYMLINK || tlen > fs->bs - 1)
		return -ENAMETOOLONG;
	return make_node(fs, dir, name, len, EXT4_S_IFLNK | 0777, 0, uid, gid, target, tlen, ino);
}

/* ---- data ---- */
static long write_op(struct ext4_fs *fs, uint32_t ino, uint64_t off, const void *buf, size_t len)
{
	if (fs->ro)
		return -EROFS;
	struct ext4_iref *ir;
	int r = ext4_iget(fs, ino, &ir);
	if (r < 0)
		return r;
	long w;
	if ((ir->i.i_mode & EXT4_S_IFMT) != EXT4_S_IFREG)
		w = ext4_is_dir(ir) ? -EISDIR : -EINVAL;
	else
		w = ext4_iwrite_data(fs, ir, off, buf, len);
	if (w > 0 || (w == 0 && len == 0)) {
		r = ext4_iwrite(fs, ir);
		if (r < 0)
			w = r;
	}
	ext4_iput(ir);
	return w;
}

static int fallocate_op(struct ext4_fs *fs, uint32_t ino, bool keep_size, uint64_t off, uint64_t len)
{
	if (fs->ro)
		return -EROFS;
	struct ext4_iref *ir;
	int r = ext4_iget(fs, ino, &ir);
	if (r < 0)
		return r;
	if ((ir->i.i_mode & EXT4_S_IFMT) != EXT4_S_IFREG)
		r = ext4_is_dir(ir) ? -EISDIR : -ENODEV;
	else
		r = ext4_iallocate(fs, ir, off, len, !keep_size);
	if (r == 0) {
		bool grows = !keep_size && off + len > ext4_isize(ir);
		if (grows)
			r = ext4_zero_tail(fs, ir, ext4_isize(ir));
		if (grows && r == 0)
			ext4_set_isize(ir, off + len);
		ext4_touch(fs, ir, grows ? EXT4_T_MTIME | EXT4_T_CTIME : EXT4_T_CTIME);
	}
	int w = ext4_iwrite(fs, ir);                 /* what was allocated stays, even after ENOSPC */
	ext4_iput(ir);
	return r < 0 ? r : w;
}

int ext4_truncate(struct ext4_fs *fs, uint32_t ino, uint64_t size)
{
	struct ext4_setattr sa = { .valid = EXT4_SET_SIZE, .size = size };
	return ext4_setattr(fs, ino, &sa);
}

static int setattr_op(struct ext4_fs *fs, uint32_t ino, const struct ext4_setattr *sa)
{
	if (fs->ro)
		return -EROFS;
	struct ext4_iref *ir;
	int r = ext4_iget(fs, ino, &ir);
	if (r < 0)
		return r;
	if (sa->valid & EXT4_SET_SIZE) {
		if (ext4_is_dir(ir))
			r = -EISDIR;
		else if ((ir->i.i_mode & EXT4_S_IFMT) != EXT4_S_IFREG)
			r = -EINVAL;
		else
			r = ext4_itruncate(fs, ir, sa->size);
	}
	if (r == 0) {
		struct ext4_inode *di = &ir->i;
		if (sa->valid & EXT4_SET_MODE)
			di->i_mode = (uint16_t)((di->i_mode & EXT4_S_IFMT) | (sa->mode & 07777));
		if (sa->valid & EXT4_SET_UID) {
			di->i_uid = (uint16_t)sa->uid;
			di->i_uid_high = (uint16_t)(sa->uid >> 16);
		}
		if (sa->valid & EXT4_SET_GID) {
			di->i_gid = (uint16_t)sa->gid;
			di->i_gid_high = (uint16_t)(sa->gid >> 16);
		}
		if (sa->valid & EXT4_SET_ATIME)
			ext4_iset_time(ir, EXT4_T_ATIME, &sa->atime);
		if (sa->valid & EXT4_SET_MTIME)
			ext4_iset_time(ir, EXT4_T_MTIME, &sa->mtime);
		if (sa->valid & EXT4_SET_CTIME)
			ext4_iset_time(ir, EXT4_T_CTIME, &sa->ctime);
		else
			ext4_touch(fs, ir, EXT4_T_CTIME);
		r = ext4_iwrite(fs, ir);
	}
	ext4_iput(ir);
	return r;
}

/* ---- names ---- */
static int link_op(struct ext4_fs *fs, uint32_t ino, uint32_t dir, const char *name, size_t len)
{
	if (fs->ro)
		return -EROFS;
	int r = check_name(name, len);
	if (r < 0)
		return r == -EINVAL && len <= 2 ? -EEXIST : r;
	struct ext4_iref *d, *ir;
	r = get_dir(fs, dir, &d);
	if (r < 0)
		return r;
	r = ext4_iget(fs, ino, &ir);
	if (r < 0) {
		ext4_iput(d);
		return r;
	}
	uint32_t x;
	if (ext4_is_dir(ir))
		r = -EPERM;
	else if (ir->i.i_links_count >= EXT4_LINK_MAX)
		r = -EMLINK;
	else if ((r = ext4_dir_find(fs, d, name, len, &x)) == 0)
		r = -EEXIST;
	else if (r == -ENOENT) {
		ir->i.i_links_count++;
		ext4_touch(fs, ir, EXT4_T_CTIME);
		r = ext4_iwrite(fs, ir);
		if (r == 0)
			r = ext4_dir_add(fs, d, name, len, ino, ext4_mode_to_ftype(ir->i.i_mode));
		if (r < 0) {
			ir->i.i_links_count--;
			ext4_iwrite(fs, ir);
		}
	}
	ext4_iput(ir);
	ext4_iput(d);
	return r;
}

static int remove_name(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, bool want_dir)
{
	if (fs->ro)
		return -EROFS;
	int r = check_name(name, len);
	if (r < 0)
		return r;
	struct ext4_iref *d, *ir = NULL;
	r = get_dir(fs, dir, &d);
	if (r < 0)
		return r;
	uint32_t ino;
	r = ext4_dir_find(fs, d, name, len, &ino);
	if (r == 0)
		r = ext4_iget(fs, ino, &ir);
	if (r < 0)
		goto out;
	if (ino == dir || ino == EXT4_ROOT_INO) {
		r = ext4_corrupt(fs);
		goto out;
	}
	if (want_dir && !ext4_is_dir(ir)) {
		r = -ENOTDIR;
		goto out;
	}
	if (!want_dir && ext4_is_dir(ir)) {
		r = -EISDIR;
		goto out;
	}
	if (want_dir) {
		r = ext4_dir_is_empty(fs, ir);
		if (r == 0)
			r = -ENOTEMPTY;
		if (r < 0)
			goto out;
	}
	r = ext4_dir_remove(fs, d, name, len);
	if (r < 0)
		goto out;
	if (want_dir) {
		r = ext4_last_link(fs, ir);
		if (d->i.i_links_count > 2)
			d->i.i_links_count--;
	} else {
		r = ext4_drop_link(fs, ir);
	}
	ext4_touch(fs, d, EXT4_T_MTIME | EXT4_T_CTIME);
	int r2 = ext4_iwrite(fs, d);
	if (r == 0)
		r = r2;
out:
	ext4_iput(ir);
	ext4_iput(d);
	return r;
}

static int unlink_op(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len)
{
	return remove_name(fs, dir, name, len, false);
}

static int rmdir_op(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len)
{
	return remove_name(fs, dir, name, len, true);
}

/* Is `dir` the directory `anc` or below it? Walks ".." up to the root. */
static int is_under(struct ext4_fs *fs, uint32_t dir, uint32_t anc)
{
	for (int hops = 0; hops < EXT4_RENAME_WALK_MAX; hops++) {
		if (dir == anc)
			return 1;
		if (dir == EXT4_ROOT_INO)
			return 0;
		uint32_t up;
		int r = ext4_lookup(fs, dir, "..", 2, &up);
		if (r < 0)
			return r;
		dir = up;
	}
	return ext4_corrupt(fs);       /* ".." never reaches the root: a loop */
}

static void dir_links_adjust(struct ext4_iref *d, int delta)
{
	if (delta > 0) {
		if (d->i.i_links_count >= EXT4_LINK_MAX || d->i.i_links_count == 1)
			d->i.i_links_count = 1;
		else
			d->i.i_links_count++;
	} else if (d->i.i_links_count > 2) {
		d->i.i_links_count--;
	}
}

static int rename_op(struct ext4_fs *fs, uint32_t odir, const char *oname, size_t olen,
		uint32_t ndir, const char *nname, size_t nlen, unsigned flags)
{
	if (fs->ro)
		return -EROFS;
	if (flags & ~(EXT4_RENAME_NOREPLACE | EXT4_RENAME_EXCHANGE) ||
	    (flags & EXT4_RENAME_NOREPLACE && flags & EXT4_RENAME_EXCHANGE))
		return -EINVAL;
	int r = check_name(oname, olen);
	if (r == 0)
		r = check_name(nname, nlen);
	if (r < 0)
		return r;
	struct ext4_iref *od = NULL, *nd = NULL, *src = NULL, *dst = NULL;
	uint32_t sino, dino = 0;
	r = get_dir(fs, odir, &od);
	if (r < 0)
		return r;
	if (ndir == odir)
		nd = od;
	else if ((r = get_dir(fs, ndir, &nd)) < 0)
		goto out;
	r = ext4_dir_find(fs, od, oname, olen, &sino);
	if (r == 0)
		r = ext4_iget(fs, sino, &src);
	if (r < 0)
		goto out;
	r = ext4_dir_find(fs, nd, nname, nlen, &dino);
	if (r == -ENOENT) {
		dino = 0;
		r = 0;
	}
	if (r < 0)
		goto out;
	if (dino && (flags & EXT4_RENAME_NOREPLACE)) {
		r = -EEXIST;
		goto out;
	}
	if (!dino && (flags & EXT4_RENAME_EXCHANGE)) {
		r = -ENOENT;
		goto out;
	}
	if (dino == sino) {
		r = 0;                         /* two names of one inode: nothing to do */
		goto out;
	}
	if (sino == ndir || sino == EXT4_ROOT_INO || dino == odir || dino == EXT4_ROOT_INO ||
	    sino == odir || dino == ndir) {
		r = -EINVAL;
		goto out;
	}
	if (dino && (r = ext4_iget(fs, dino, &dst)) < 0)
		goto out;
	bool sdir = ext4_is_dir(src), ddir = dst && ext4_is_dir(dst);
	/* A directory may not move below itself. */
	if (sdir && odir != ndir && (r = is_under(fs, ndir, sino)) != 0) {
		r = r > 0 ? -EINVAL : r;
		goto out;
	}
	if ((flags & EXT4_RENAME_EXCHANGE) && ddir && odir != ndir && (r = is_under(fs, odir, dino)) != 0) {
		r = r > 0 ? -EINVAL : r;
		goto out;
	}
	uint8_t sft = ext4_mode_to_ftype(src->i.i_mode);
	if (flags & EXT4_RENAME_EXCHANGE) {
		uint8_t dft = ext4_mode_to_ftype(dst->i.i_mode);
		r = ext4_dir_set_ino(fs, nd, nname, nlen, sino, sft);
		if (r == 0)
			r = ext4_dir_set_ino(fs, od, oname, olen, dino, dft);
		if (r == 0 && odir != ndir) {
			if (sdir)
				r = ext4_dir_set_ino(fs, src, "..", 2, ndir, 2);
			if (r == 0 && ddir)
				r = ext4_dir_set_ino(fs, dst, "..", 2, odir, 2);
			if (sdir != ddir) {
				dir_links_adjust(sdir ? nd : od, +1);
				dir_links_adjust(sdir ? od : nd, -1);
			}
		}
		ext4_touch(fs, dst, EXT4_T_CTIME);
		if (r == 0)
			r = ext4_iwrite(fs, dst);
	} else {
		if (dst) {
			if (sdir && !ddir) {
				r = -ENOTDIR;
				goto out;
			}
			if (!sdir && ddir) {
				r = -EISDIR;
				goto out;
			}
			if (ddir) {
				r = ext4_dir_is_empty(fs, dst);
				if (r == 0)
					r = -ENOTEMPTY;
				if (r < 0)
					goto out;
			}
			r = ext4_dir_set_ino(fs, nd, nname, nlen, sino, sft);
			if (r == 0) {
				if (ddir) {
					r = ext4_last_link(fs, dst);
					dir_links_adjust(nd, -1);
				} else {
					r = ext4_drop_link(fs, dst);
				}
			}
		} else {
			r = ext4_dir_add(fs, nd, nname, nlen, sino, sft);
		}
		if (r == 0)
			r = ext4_dir_remove(fs, od, oname, olen);
		if (r == 0 && sdir && odir != ndir) {
			r = ext4_dir_set_ino(fs, src, "..", 2, ndir, 2);
			dir_links_adjust(od, -1);
			dir_links_adjust(nd, +1);
		}
	}
	if (r < 0)
		goto out;
	ext4_touch(fs, src, EXT4_T_CTIME);
	r = ext4_iwrite(fs, src);
	ext4_touch(fs, od, EXT4_T_MTIME | EXT4_T_CTIME);
	if (r == 0)
		r = ext4_iwrite(fs, od);
	if (nd != od) {
		ext4_touch(fs, nd, EXT4_T_MTIME | EXT4_T_CTIME);
		if (r == 0)
			r = ext4_iwrite(fs, nd);
	}
out:
	ext4_iput(dst);
	ext4_iput(src);
	if (nd != od)
		ext4_iput(nd);
	ext4_iput(od);
	return r;
}

/* ---- the public write operations: each one transaction (journal.c) ---- */

int ext4_mknod(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
	       uint32_t rdev, uint32_t uid, uint32_t gid, uint32_t *ino)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, mknod_op(fs, dir, name, len, mode, rdev, uid, gid, ino));
}

int ext4_create(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
		uint32_t uid, uint32_t gid, uint32_t *ino)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, create_op(fs, dir, name, len, mode, uid, gid, ino));
}

int ext4_mkdir(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
	       uint32_t uid, uint32_t gid, uint32_t *ino)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, mkdir_op(fs, dir, name, len, mode, uid, gid, ino));
}

int ext4_symlink(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len,
		 const char *target, size_t tlen, uint32_t uid, uint32_t gid, uint32_t *ino)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, symlink_op(fs, dir, name, len, target, tlen, uid, gid, ino));
}

long ext4_write(struct ext4_fs *fs, uint32_t ino, uint64_t off, const void *buf, size_t len)
{
	ext4_tx_begin(fs);
	long w = write_op(fs, ino, off, buf, len);
	int r = ext4_tx_end(fs, w < 0 ? (int)w : 0);
	return r < 0 ? r : w;
}

int ext4_fallocate(struct ext4_fs *fs, uint32_t ino, bool keep_size, uint64_t off, uint64_t len)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, fallocate_op(fs, ino, keep_size, off, len));
}

int ext4_setattr(struct ext4_fs *fs, uint32_t ino, const struct ext4_setattr *sa)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, setattr_op(fs, ino, sa));
}

int ext4_link(struct ext4_fs *fs, uint32_t ino, uint32_t dir, const char *name, size_t len)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, link_op(fs, ino, dir, name, len));
}

int ext4_unlink(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, unlink_op(fs, dir, name, len));
}

int ext4_rmdir(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, rmdir_op(fs, dir, name, len));
}

int ext4_rename(struct ext4_fs *fs, uint32_t odir, const char *oname, size_t olen,
		uint32_t ndir, const char *nname, size_t nlen, unsigned flags)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, rename_op(fs, odir, oname, olen, ndir, nname, nlen, flags));
}
