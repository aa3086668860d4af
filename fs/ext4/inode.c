/*
 * Inodes: reading and writing them in the inode tables (with their checksums), sizes, block
 * counts and nanosecond timestamps, and the data of regular files, directories and slow symlinks
 * through their extent trees (inline-data inodes are read from i_block and the "system.data"
 * attribute in the inode's extra space). Writes fill holes with freshly allocated blocks, trying
 * to continue the previous block on disk so the extent tree merges them.
 */
#include "fs/ext4/ext4_fs.h"


static uint64_t inode_block(struct ext4_fs *fs, uint32_t ino, uint32_t *off)
{
	uint32_t g = (ino - 1) / fs->ipg, idx = (ino - 1) % fs->ipg;
	*off = (idx % fs->inodes_per_block) * fs->inode_size;
	return ext4_gd_inode_table(fs, ext4_gd(fs, g)) + idx / fs->inodes_per_block;
}

bool ext4_is_dir(const struct ext4_iref *ir)
{
	return (ir->i.i_mode & EXT4_S_IFMT) == EXT4_S_IFDIR;
}

static void set_seed(struct ext4_fs *fs, struct ext4_iref *ir)
{
	uint32_t c = ext4_csum(fs, fs->csum_seed, &ir->ino, 4);
	ir->csum_seed = ext4_csum(fs, c, &ir->i.i_generation, 4);
}

int ext4_iget(struct ext4_fs *fs, uint32_t ino, struct ext4_iref **out)
{
	*out = NULL;
	if (ino < 1 || ino > fs->sb.s_inodes_count)
		return ext4_corrupt(fs);
	struct ext4_iref *ir = ext4_zalloc(sizeof(*ir));
	int r = -ENOMEM;
	if (!ir)
		goto fail;
	uint32_t off;
	uint64_t blk = inode_block(fs, ino, &off);
	r = ext4_bpeek(fs, blk, off, ir->raw, fs->inode_size);
	if (r < 0)
		goto fail;
	ir->ino = ino;
	r = -EUCLEAN;
	if (fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE) {
		uint32_t ex = ir->i.i_extra_isize;
		if (ex > fs->inode_size - EXT4_GOOD_OLD_INODE_SIZE || (ex & 3))
			goto bad;
	}
	if (!ext4_inode_csum_ok(fs, ir))
		goto bad;
	set_seed(fs, ir);
	/* A free inode (a name pointing at one is corruption) has mode 0 or, with no links, a real
	 * deletion time; an orphan (open, unlinked) has no links and i_dtime = the next orphan. */
	if (ir->i.i_mode == 0 || (ir->i.i_links_count == 0 && ir->i.i_dtime > fs->sb.s_inodes_count))
		goto bad;
	if ((ir->i.i_flags & EXT4_EXTENTS_FL) && !(ir->i.i_flags & EXT4_INLINE_DATA_FL) &&
	    ext4_ext_check_root(fs, ir) < 0)
		goto bad;
	uint64_t size = ext4_isize(ir);
	if (size > ((uint64_t)EXT4_MAX_LBLK + 1) * fs->bs)
		goto bad;
	if (ext4_is_dir(ir) && !(ir->i.i_flags & EXT4_INLINE_DATA_FL) && (size % fs->bs))
		goto bad;
	*out = ir;
	return 0;
bad:
	r = ext4_corrupt(fs);
fail:
	ext4_free(ir);
	return r;
}

void ext4_iput(struct ext4_iref *ir)
{
	ext4_free(ir);
}

int ext4_iwrite(struct ext4_fs *fs, struct ext4_iref *ir)
{
	if (fs->ro)
		return -EROFS;
	uint32_t off;
	uint64_t blk = inode_block(fs, ir->ino, &off);
	ext4_inode_csum_set(fs, ir);
	return ext4_bpatch(fs, blk, off, ir->raw, fs->inode_size);
}

/* A fresh in-use inode: zeroed, the given mode, times now, extra_isize as mkfs wants. */
int ext4_inew(struct ext4_fs *fs, uint32_t ino, uint32_t mode, uint32_t uid, uint32_t gid,
	      struct ext4_iref **out)
{
	struct ext4_iref *ir = ext4_zalloc(sizeof(*ir));
	if (!ir)
		return -ENOMEM;
	ir->ino = ino;
	struct ext4_inode *di = &ir->i;
	di->i_mode = (uint16_t)mode;
	di->i_uid = (uint16_t)uid;
	di->i_uid_high = (uint16_t)(uid >> 16);
	di->i_gid = (uint16_t)gid;
	di->i_gid_high = (uint16_t)(gid >> 16);
	di->i_links_count = 1;
	if (fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE) {
		uint32_t want = fs->sb.s_want_extra_isize;
		if (want < EXT4_INODE_EXTRA_END(i_crtime_extra))
			want = EXT4_INODE_EXTRA_END(i_crtime_extra);
		if (want > fs->inode_size - EXT4_GOOD_OLD_INODE_SIZE)
			want = fs->inode_size - EXT4_GOOD_OLD_INODE_SIZE;
		di->i_extra_isize = (uint16_t)want;
	}
	di->i_generation = fs->gen_next = fs->gen_next * 1103515245u + 12345u;
	set_seed(fs, ir);
	ext4_touch(fs, ir, EXT4_T_ATIME | EXT4_T_MTIME | EXT4_T_CTIME | EXT4_T_CRTIME);
	*out = ir;
	return 0;
}

uint64_t ext4_isize(const struct ext4_iref *ir)
{
	return ir->i.i_size_lo | (uint64_t)ir->i.i_size_high << 32;
}

void ext4_set_isize(struct ext4_iref *ir, uint64_t size)
{
	ir->i.i_size_lo = (uint32_t)size;
	ir->i.i_size_high = (uint32_t)(size >> 32);
}

uint64_t ext4_iblocks(struct ext4_fs *fs, const struct ext4_iref *ir)
{
	uint64_t v = ir->i.i_blocks_lo;
	if (fs->sb.s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_HUGE_FILE) {
		v |= (uint64_t)ir->i.i_blocks_high << 32;
		if (ir->i.i_flags & EXT4_HUGE_FILE_FL)
			v <<= (fs->log_bs - 9);
	}
	return v;
}

void ext4_iblocks_add(struct ext4_fs *fs, struct ext4_iref *ir, int64_t fs_blocks)
{
	uint64_t v = ext4_iblocks(fs, ir);
	int64_t d = fs_blocks * (int64_t)(fs->bs / 512);
	v = (d < 0 && (uint64_t)-d > v) ? 0 : v + (uint64_t)d;
	ir->i.i_flags &= ~EXT4_HUGE_FILE_FL;
	ir->i.i_blocks_lo = (uint32_t)v;
	ir->i.i_blocks_high = (uint16_t)(v >> 32);
}

/* ---- timestamps: 32-bit seconds + (nsec << 2 | epoch bits) in the extra fields ---- */
static bool has_extra(const struct ext4_iref *ir, size_t end)
{
	return ir->i.i_extra_isize >= end;
}

static void enc_time(const struct ext4_time *t, uint32_t *lo, uint32_t *extra, bool ex)
{
	*lo = (uint32_t)t->sec;
	if (ex)
		*extra = (uint32_t)(((uint64_t)(t->sec - (int32_t)(uint32_t)t->sec) >> 32) & EXT4_EPOCH_MASK) |
			 (t->nsec << EXT4_EPOCH_BITS);
}

static void dec_time(struct ext4_time *t, uint32_t lo, uint32_t extra, bool ex)
{
	t->sec = (int32_t)lo;
	t->nsec = 0;
	if (ex) {
		t->sec += (int64_t)(extra & EXT4_EPOCH_MASK) << 32;
		t->nsec = extra >> EXT4_EPOCH_BITS;
	}
}

void ext4_iset_time(struct ext4_iref *ir, int which, const struct ext4_time *t)
{
	struct ext4_inode *di = &ir->i;
	if (which & EXT4_T_ATIME)
		enc_time(t, &di->i_atime, &di->i_atime_extra, has_extra(ir, EXT4_INODE_EXTRA_END(i_atime_extra)));
	if (which & EXT4_T_MTIME)
		enc_time(t, &di->i_mtime, &di->i_mtime_extra, has_extra(ir, EXT4_INODE_EXTRA_END(i_mtime_extra)));
	if (which & EXT4_T_CTIME)
		enc_time(t, &di->i_ctime, &di->i_ctime_extra, has_extra(ir, EXT4_INODE_EXTRA_END(i_ctime_extra)));
	if ((which & EXT4_T_CRTIME) && has_extra(ir, EXT4_INODE_EXTRA_END(i_crtime)))
		enc_time(t, &di->i_crtime, &di->i_crtime_extra, has_extra(ir, EXT4_INODE_EXTRA_END(i_crtime_extra)));
}

void ext4_touch(struct ext4_fs *fs, struct ext4_iref *ir, int which)
{
	struct ext4_time t;
	ext4_now(fs, &t);
	ext4_iset_time(ir, which, &t);
}

void ext4_iget_stat(struct ext4_fs *fs, struct ext4_iref *ir, struct ext4_stat *st)
{
	struct ext4_inode *di = &ir->i;
	memset(st, 0, sizeof(*st));
	st->ino = ir->ino;
	st->mode = di->i_mode;
	st->nlink = di->i_links_count;
	st->uid = di->i_uid | (uint32_t)di->i_uid_high << 16;
	st->gid = di->i_gid | (uint32_t)di->i_gid_high << 16;
	st->size = ext4_isize(ir);
	st->blocks = ext4_iblocks(fs, ir);
	st->flags = di->i_flags;
	st->generation = di->i_generation;
	uint32_t ft = di->i_mode & EXT4_S_IFMT;
	if (ft == EXT4_S_IFCHR || ft == EXT4_S_IFBLK)
		st->rdev = di->i_block[0] ? di->i_block[0] : di->i_block[1];
	dec_time(&st->atime, di->i_atime, di->i_atime_extra, has_extra(ir, EXT4_INODE_EXTRA_END(i_atime_extra)));
	dec_time(&st->mtime, di->i_mtime, di->i_mtime_extra, has_extra(ir, EXT4_INODE_EXTRA_END(i_mtime_extra)));
	dec_time(&st->ctime, di->i_ctime, di->i_ctime_extra, has_extra(ir, EXT4_INODE_EXTRA_END(i_ctime_extra)));
	if (has_extra(ir, EXT4_INODE_EXTRA_END(i_crtime)))
		dec_time(&st->crtime, di->i_crtime, di->i_crtime_extra,
			 has_extra(ir, EXT4_INODE_EXTRA_END(i_crtime_extra)));
}

/* ---- inline data: i_block then the value of the in-inode attribute system.data ---- */
int ext4_inline_get(struct ext4_fs *fs, struct ext4_iref *ir, const uint8_t **xval, uint32_t *xlen)
{
	*xval = NULL;
	*xlen = 0;
	if (fs->inode_size <= EXT4_GOOD_OLD_INODE_SIZE)
		return 0;
	uint32_t start = EXT4_GOOD_OLD_INODE_SIZE + ir->i.i_extra_isize;
	uint32_t end = fs->inode_size;
	uint32_t magic;
	if (start + 4 > end)
		return 0;
	memcpy(&magic, ir->raw + start, 4);
	if (magic != EXT4_XATTR_MAGIC)
		return 0;
	uint32_t base = start + 4, p = base;
	while (p + 4 <= end) {
		uint32_t first;
		memcpy(&first, ir->raw + p, 4);
		if (first == 0)
			break;
		if (p + EXT4_XATTR_ENTRY_SIZE > end)
			return ext4_corrupt(fs);
		const struct ext4_xattr_entry *e = (const void *)(ir->raw + p);
		uint32_t elen = (EXT4_XATTR_ENTRY_SIZE + e->e_name_len + 3) & ~3u;
		if (p + elen > end)
			return ext4_corrupt(fs);
		if (e->e_name_index == EXT4_XATTR_INDEX_SYSTEM && e->e_name_len == 4 &&
		    memcmp(e->e_name, "data", 4) == 0) {
			if (e->e_value_inum || base + e->e_value_offs + (uint64_t)e->e_value_size > end)
				return ext4_corrupt(fs);
			*xval = ir->raw + base + e->e_value_offs;
			*xlen = e->e_value_size;
			return 0;
		}
		p += elen;
	}
	return 0;
}

static int read_inline(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t off, uint8_t *buf, size_t len)
{
	const uint8_t *xv;
	uint32_t xl;
	int r = ext4_inline_get(fs, ir, &xv, &xl);
	if (r < 0)
		return r;
	if (off + len > EXT4_INLINE_SIZE + (uint64_t)xl)
		return ext4_corrupt(fs);
	for (size_t k = 0; k < len; k++) {
		uint64_t o = off + k;
		buf[k] = o < EXT4_INLINE_SIZE ? ((const uint8_t *)ir->i.i_block)[o] : xv[o - EXT4_INLINE_SIZE];
	}
	return 0;
}

/* ---- file data ---- */
static int dev_io(struct ext4_fs *fs, uint64_t pblk, uint32_t n, void *buf, bool write)
{
	if (pblk >= fs->blocks_count || n > fs->blocks_count - pblk)
		return ext4_corrupt(fs);
	if (write && fs->ro)
		return -EROFS;
	if (write && fs->jnl)
		ext4_tx_data_drop(fs, pblk, n);      /* superseded copies of new blocks */
	int r = write ? fs->bd->write_blocks(fs->bd, pblk * fs->dev_per_block, n * fs->dev_per_block, buf)
		      : fs->bd->read_blocks(fs->bd, pblk * fs->dev_per_block, n * fs->dev_per_block, buf);
	if (r >= 0 && !write && fs->jnl)
		ext4_tx_data_overlay(fs, pblk, n, buf);
	return r < 0 ? r : 0;
}

/* Read [off, off+len) of the inode's data (the caller clamps to i_size); holes are zeros. */
int ext4_iread_data(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t off, void *dst, size_t len)
{
	uint8_t *out = dst;
	if (ir->i.i_flags & EXT4_INLINE_DATA_FL)
		return read_inline(fs, ir, off, out, len);
	if (!(ir->i.i_flags & EXT4_EXTENTS_FL))
		return ir->i.i_blocks_lo ? -EOPNOTSUPP : (memset(out, 0, len), 0);  /* block maps: no */
	uint8_t *bounce = NULL;
	int r = 0;
	while (len) {
		uint64_t lblk = off >> fs->log_bs;
		uint32_t boff = (uint32_t)(off & (fs->bs - 1));
		if (lblk > EXT4_MAX_LBLK) {
			r = ext4_corrupt(fs);
			break;
		}
		uint64_t pblk;
		uint32_t run;
		bool unwritten;
		r = ext4_ext_map(fs, ir, (uint32_t)lblk, &pblk, &run, &unwritten);
		if (r < 0)
			break;
		if (run == 0)
			run = 1;
		uint64_t span = (uint64_t)run * fs->bs - boff;
		size_t n = span < len ? (size_t)span : len;
		if (!pblk || unwritten) {
			memset(out, 0, n);
		} else if (boff == 0 && n >= fs->bs) {
			uint32_t whole = (uint32_t)(n >> fs->log_bs);
			r = dev_io(fs, pblk, whole, out, false);
			n = (size_t)whole << fs->log_bs;
		} else {
			if (!bounce && !(bounce = ext4_balloc(fs))) {
				r = -ENOMEM;
				break;
			}
			n = ext4_min32((uint32_t)(fs->bs - boff), (uint32_t)(len < fs->bs ? len : fs->bs));
			r = ext4_bread(fs, pblk, bounce);
			if (r == 0)
				memcpy(out, bounce + boff, n);
		}
		if (r < 0)
			break;
		out += n;
		off += n;
		len -= n;
	}
	ext4_bfree(fs, bounce);
	return r;
}

static uint64_t alloc_goal(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk)
{
	uint64_t pblk;
	uint32_t run;
	bool uw;
	if (lblk > 0 && ext4_ext_map(fs, ir, lblk - 1, &pblk, &run, &uw) == 0 && pblk)
		return pblk + 1;
	return ext4_group_first_block(fs, (ir->ino - 1) / fs->ipg);
}

/* Writes count new (or unwritten) blocks from pblk with the caller's bytes: the first block from
 * byte boff, whole blocks straight from src, partial ones zero-padded; *used: bytes of src taken. */
static int fill_blocks(struct ext4_fs *fs, uint64_t pblk, uint32_t count, uint32_t boff, const uint8_t *src,
		       size_t left, uint8_t *bounce, size_t *used)
{
	uint32_t k = 0;
	int r = 0;
	*used = 0;
	while (k < count && r == 0) {
		uint32_t bo = k == 0 ? boff : 0;
		size_t rest = left - *used;
		size_t n = rest < fs->bs - bo ? rest : fs->bs - bo;
		if (bo == 0 && n == fs->bs) {
			uint32_t whole = ext4_min32(count - k, (uint32_t)(rest >> fs->log_bs));
			r = dev_io(fs, pblk + k, whole, (void *)(src + *used), true);
			k += whole;
			*used += (size_t)whole << fs->log_bs;
		} else {
			memset(bounce, 0, fs->bs);
			memcpy(bounce + bo, src + *used, n);
			if (fs->ro)
				r = -EROFS;
			else if (fs->jnl)                /* newly allocated: may wait for the commit */
				r = ext4_tx_data_put(fs, pblk + k, bounce);
			else
				r = ext4_bwrite_raw(fs, pblk + k, bounce);
			k++;
			*used += n;
		}
	}
	return r;
}

/* Write [off, off+len) allocating what is a hole; i_size grows to cover it. Caller writes ir. */
long ext4_iwrite_data(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t off, const void *src, size_t len)
{
	const uint8_t *in = src;
	if (fs->ro)
		return -EROFS;
	if (ir->i.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	if (!(ir->i.i_flags & EXT4_EXTENTS_FL)) {
		if (ir->i.i_blocks_lo || ext4_isize(ir))
			return -EOPNOTSUPP;                 /* indirect-block files: read only */
		ir->i.i_flags |= EXT4_EXTENTS_FL;
		ext4_ext_init_root(ir);
	}
	if (len == 0)
		return 0;
	if (off + len < off || ((off + len - 1) >> fs->log_bs) > EXT4_MAX_LBLK)
		return -EFBIG;
	/* Past the old end: the old last block's tail must read as zeros (ext4_zero_tail). A write
	 * into that block zeroes it in its read-modify-write below; one starting further on first. */
	uint64_t old = ext4_isize(ir);
	uint32_t old_lblk = (uint32_t)(old >> fs->log_bs), old_tail = (uint32_t)(old & (fs->bs - 1));
	if (off + len > old && old_tail && (off >> fs->log_bs) > old_lblk) {
		int z = ext4_zero_tail(fs, ir, old);
		if (z < 0)
			return z;
	}
	uint8_t *bounce = ext4_balloc(fs);
	if (!bounce)
		return -ENOMEM;
	size_t done = 0;
	int r = 0;
	uint64_t goal = 0;
	while (done < len) {
		uint64_t pos = off + done;
		uint32_t lblk = (uint32_t)(pos >> fs->log_bs);
		uint32_t boff = (uint32_t)(pos & (fs->bs - 1));
		uint64_t pblk;
		uint32_t run;
		bool unwritten;
		r = ext4_ext_map(fs, ir, lblk, &pblk, &run, &unwritten);
		if (r < 0)
			break;
		uint32_t nblk = (uint32_t)((boff + (len - done) + fs->bs - 1) >> fs->log_bs);  /* blocks left */
		if (run == 0)
			run = 1;
		if (pblk && unwritten) {
			/* Allocated but reading as zeros: write the data (zero-padded), then mark it written. */
			uint32_t n = ext4_min32(run, nblk);
			size_t used;
			r = fill_blocks(fs, pblk, n, boff, in + done, len - done, bounce, &used);
			if (r == 0)
				r = ext4_ext_mark_written(fs, ir, lblk, n);
			if (r < 0)
				break;
			goal = pblk + n;
			done += used;
		} else if (!pblk) {
			/* A hole: allocate up to the end of the write or the hole, whichever is first. */
			uint32_t want = ext4_min32(ext4_min32(run, nblk), EXT4_EXT_INIT_MAX_LEN);
			uint32_t got;
			if (!goal)
				goal = alloc_goal(fs, ir, lblk);
			r = ext4_alloc_blocks(fs, goal, want, &pblk, &got);
			if (r < 0)
				break;
			size_t used;
			r = fill_blocks(fs, pblk, got, boff, in + done, len - done, bounce, &used);
			if (r == 0)
				r = ext4_ext_insert(fs, ir, lblk, pblk, got);
			if (r < 0) {
				ext4_free_blocks(fs, pblk, got);
				break;
			}
			ext4_iblocks_add(fs, ir, got);
			goal = pblk + got;
			done += used;
		} else {
			uint32_t n = ext4_min32(fs->bs - boff, (uint32_t)((len - done) > fs->bs ? fs->bs : (len - done)));
			if (boff == 0 && n == fs->bs) {
				uint32_t whole = ext4_min32(run, (uint32_t)((len - done) >> fs->log_bs));
				r = dev_io(fs, pblk, whole, (void *)(in + done), true);
				done += (size_t)whole << fs->log_bs;
			} else {
				r = ext4_bread(fs, pblk, bounce);
				if (r == 0) {
					if (lblk == old_lblk && old_tail)
						memset(bounce + old_tail, 0, fs->bs - old_tail);
					memcpy(bounce + boff, in + done, n);
					r = ext4_bwrite_raw(fs, pblk, bounce);
				}
				done += n;
			}
			if (r < 0)
				break;
			goal = pblk + run;
		}
		if (off + done > ext4_isize(ir))
			ext4_set_isize(ir, off + done);
		if ((ir->i.i_mode & EXT4_S_IFMT) == EXT4_S_IFREG && done < len) {
			ext4_touch(fs, ir, EXT4_T_MTIME | EXT4_T_CTIME);
			r = ext4_tx_restart(fs, ir);     /* a huge write: its prefix commits */
			if (r < 0)
				break;
		}
	}
	ext4_bfree(fs, bounce);
	if (done)
		ext4_touch(fs, ir, EXT4_T_MTIME | EXT4_T_CTIME);
	if (done == 0 && r < 0)
		return r;
	return r < 0 && r != -ENOSPC ? r : (long)done;
}

/* Allocates every hole of [off, off+len) as unwritten extents (fallocate); i_size is the caller's.
 * Blocks already mapped, written or not, stay as they are. Caller writes ir. */
int ext4_iallocate(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t off, uint64_t len, bool grow)
{
	if (fs->ro)
		return -EROFS;
	if (ir->i.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	if (!(ir->i.i_flags & EXT4_EXTENTS_FL)) {
		if (ir->i.i_blocks_lo || ext4_isize(ir))
			return -EOPNOTSUPP;                 /* indirect-block files: Linux says the same */
		ir->i.i_flags |= EXT4_EXTENTS_FL;
		ext4_ext_init_root(ir);
	}
	if (len == 0)
		return 0;
	if (off + len < off || ((off + len - 1) >> fs->log_bs) > EXT4_MAX_LBLK)
		return -EFBIG;
	uint32_t lblk = (uint32_t)(off >> fs->log_bs), last = (uint32_t)((off + len - 1) >> fs->log_bs);
	uint64_t goal = 0;
	for (;;) {
		uint64_t pblk;
		uint32_t run;
		bool unwritten;
		int r = ext4_ext_map(fs, ir, lblk, &pblk, &run, &unwritten);
		if (r < 0)
			return r;
		if (run == 0)
			run = 1;
		uint32_t left = last - lblk + 1;
		if (pblk) {
			goal = pblk + ext4_min32(run, left);
		} else {
			uint32_t want = ext4_min32(ext4_min32(run, left), EXT4_EXT_UNWRITTEN_MAX_LEN), got;
			if (!goal)
				goal = alloc_goal(fs, ir, lblk);
			if ((r = ext4_alloc_blocks(fs, goal, want, &pblk, &got)) < 0)
				return r;
			if ((r = ext4_ext_insert_flags(fs, ir, lblk, pblk, got, true)) < 0) {
				ext4_free_blocks(fs, pblk, got);
				return r;
			}
			ext4_iblocks_add(fs, ir, got);
			goal = pblk + got;
			run = got;
		}
		if (run >= left)
			return 0;
		lblk += run;
		/* A huge fallocate commits what is allocated so far; growing the size with it, as
		 * Linux does, so that no committed state has its extents past the end of the file. */
		uint64_t upto = (uint64_t)lblk << fs->log_bs;
		if (grow && upto > ext4_isize(ir) && (r = ext4_zero_tail(fs, ir, ext4_isize(ir))) == 0)
			ext4_set_isize(ir, upto);
		if (r == 0)
			r = ext4_tx_restart(fs, ir);
		if (r < 0)
			return r;
	}
}

/*
 * The bytes of the block holding offset `size` from there to the block's end become zero on the
 * device (nothing is written when they are already): the invariant that nothing but zeros lies
 * past end-of-file in the last block, which truncate down keeps, and which every size increase
 * (truncate up, a write or fallocate past the end) re-establishes first, since a write cut by a
 * crash before its size committed leaves its bytes there. File data, written in place before the
 * transaction that changes the size commits (ordered mode).
 */
int ext4_zero_tail(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t size)
{
	uint32_t tail = (uint32_t)(size & (fs->bs - 1));
	if (!tail || !(ir->i.i_flags & EXT4_EXTENTS_FL) || (ir->i.i_flags & EXT4_INLINE_DATA_FL) ||
	    (size >> fs->log_bs) > EXT4_MAX_LBLK)
		return 0;
	uint64_t pblk;
	uint32_t run;
	bool uw;
	int r = ext4_ext_map(fs, ir, (uint32_t)(size >> fs->log_bs), &pblk, &run, &uw);
	if (r < 0 || !pblk || uw)
		return r;                               /* a hole or unwritten: reads as zeros */
	uint8_t *b = ext4_balloc(fs);
	if (!b)
		return -ENOMEM;
	r = ext4_bread(fs, pblk, b);
	bool dirty = false;
	for (uint32_t i = tail; r == 0 && i < fs->bs && !dirty; i++)
		dirty = b[i] != 0;
	if (dirty) {
		memset(b + tail, 0, fs->bs - tail);
		r = ext4_bwrite_raw(fs, pblk, b);
	}
	ext4_bfree(fs, b);
	return r;
}

/* Blocks freed per piece of a big truncation: a few dozen bitmaps, far below half the log. */
#define TRUNC_PIECE_GROUPS 32

static uint32_t trunc_piece(struct ext4_fs *fs)
{
	return fs->bpg * TRUNC_PIECE_GROUPS;
}

bool ext4_ibig(struct ext4_fs *fs, struct ext4_iref *ir)
{
	return fs->jnl && (ir->i.i_flags & EXT4_EXTENTS_FL) && !(ir->i.i_flags & EXT4_INLINE_DATA_FL) &&
	       ext4_iblocks(fs, ir) / (fs->bs / 512) > trunc_piece(fs);
}

int ext4_itrunc_blocks(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t from, bool restart)
{
	if (!(ir->i.i_flags & EXT4_EXTENTS_FL) || (ir->i.i_flags & EXT4_INLINE_DATA_FL))
		return 0;
	uint64_t prev = (uint64_t)EXT4_MAX_LBLK + 2;
	for (;;) {
		uint32_t start;
		bool any;
		int r = ext4_ext_last_chunk(fs, ir, from, trunc_piece(fs), &start, &any);
		if (r < 0 || !any)
			return r;
		if (start >= prev)
			start = from;           /* no progress (a damaged tree): all at once, as before */
		prev = start;
		r = ext4_ext_truncate(fs, ir, start);
		if (r < 0 || start <= from)
			return r;
		if (restart) {
			/* The file is now its first `start` blocks: a valid state to commit. */
			uint64_t mid = (uint64_t)start << fs->log_bs;
			if (mid < ext4_isize(ir) && ir->i.i_links_count)
				ext4_set_isize(ir, mid);
			r = ext4_tx_restart(fs, ir);
			if (r < 0)
				return r;
		}
	}
}

int ext4_itruncate(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t size)
{
	if (fs->ro)
		return -EROFS;
	uint64_t old = ext4_isize(ir);
	if (size > ((uint64_t)EXT4_MAX_LBLK + 1) * fs->bs)
		return -EFBIG;
	if (ir->i.i_flags & EXT4_INLINE_DATA_FL)
		return size == old ? 0 : -EOPNOTSUPP;
	if (!(ir->i.i_flags & EXT4_EXTENTS_FL)) {
		if (ir->i.i_blocks_lo)
			return -EOPNOTSUPP;
		ir->i.i_flags |= EXT4_EXTENTS_FL;
		ext4_ext_init_root(ir);
	}
	int r = 0;
	if (size < old) {
		uint32_t from = (uint32_t)((size + fs->bs - 1) >> fs->log_bs);
		r = ext4_itrunc_blocks(fs, ir, from, (ir->i.i_mode & EXT4_S_IFMT) == EXT4_S_IFREG);
		if (r == 0)
			r = ext4_zero_tail(fs, ir, size);   /* a later extension reads zeros */
	} else if (size > old) {
		r = ext4_zero_tail(fs, ir, old);        /* whatever a cut write left past the end */
	}
	if (r < 0)
		return r;
	ext4_set_isize(ir, size);
	ext4_touch(fs, ir, EXT4_T_MTIME | EXT4_T_CTIME);
	return 0;
}

/* Free the inode and everything it holds (its link count already 0). */
int ext4_ifree(struct ext4_fs *fs, struct ext4_iref *ir)
{
	int r = 0;
	bool dir = ext4_is_dir(ir);
	if ((ir->i.i_flags & EXT4_EXTENTS_FL) && !(ir->i.i_flags & EXT4_INLINE_DATA_FL))
		r = ext4_itrunc_blocks(fs, ir, 0, false);
	if (r < 0)
		return r;
	ir->i.i_links_count = 0;
	ext4_set_isize(ir, 0);
	struct ext4_time t;
	ext4_now(fs, &t);
	/* e2fsck reads a dtime below s_inodes_count as an orphan-list link: never store one. */
	ir->i.i_dtime = (uint32_t)t.sec > fs->sb.s_inodes_count ? (uint32_t)t.sec : fs->sb.s_inodes_count + 1;
	r = ext4_iwrite(fs, ir);
	if (r == 0)
		r = ext4_free_inode(fs, ir->ino, dir);
	return r;
}

int ext4_drop_link(struct ext4_fs *fs, struct ext4_iref *ir)
{
	if (ir->i.i_links_count > 1) {
		ir->i.i_links_count--;
		ext4_touch(fs, ir, EXT4_T_CTIME);
		return ext4_iwrite(fs, ir);
	}
	return ext4_last_link(fs, ir);
}
