/*
 * Directories: blocks of variable-length entries {inode, rec_len, name_len, file_type, name},
 * ending (with metadata_csum) in a 12-byte fake entry that holds the block's crc32c.
 *
 * Hashed (dir_index) directories keep their entries in ordinary leaf blocks too; block 0 (the dx
 * root: "." and ".." then the index) and the interior index blocks hold none. Lookups, inserts,
 * removals and renames of a name go through the index (htree.c: one leaf read by hash, leaves
 * split and the index grown as Linux does); a one-block linear directory that fills up becomes
 * indexed there too. readdir of an indexed directory goes in hash order with hash positions as
 * cookies (htree.c: a split between two getdents calls neither repeats nor skips a name); the
 * emptiness check, and readdir of an index we cannot follow, mark the index blocks first (walking
 * the index from the root, checking counts and limits) and then scan every other block in order.
 * An index whose hash we cannot compute is dropped at the next insert (block 0 and the interior
 * blocks rewritten as empty entry blocks, EXT4_INDEX_FL cleared) and scanned linearly before.
 *
 * Inline-data directories (i_block: the parent's inode number then entries; more entries in the
 * system.data attribute) are read; adding to or removing from them gives -EOPNOTSUPP.
 */
#include "fs/ext4/ext4_fs.h"

#define FT_REG 1
#define FT_DIR 2
#define FT_CHR 3
#define FT_BLK 4
#define FT_FIFO 5
#define FT_SOCK 6
#define FT_LNK 7
#define FT_MAX 8
#define COMPAT_DIR_INDEX 0x0020
#define DX_ROOT_INFO_OFF 24
#define DX_ROOT_ENTRIES_OFF 32
#define DX_NODE_ENTRIES_OFF 8
#define DX_INFO_LEN 8

/* What a walk callback asks for. */
#define WALK_NEXT 0
#define WALK_STOP 1
#define WALK_WRITE_STOP 2

uint8_t ext4_mode_to_ftype(uint32_t mode)
{
	switch (mode & EXT4_S_IFMT) {
	case EXT4_S_IFREG: return FT_REG;
	case EXT4_S_IFDIR: return FT_DIR;
	case EXT4_S_IFCHR: return FT_CHR;
	case EXT4_S_IFBLK: return FT_BLK;
	case EXT4_S_IFIFO: return FT_FIFO;
	case EXT4_S_IFSOCK: return FT_SOCK;
	case EXT4_S_IFLNK: return FT_LNK;
	}
	return 0;
}

unsigned ext4_ftype_to_dt(uint8_t ft)
{
	static const uint8_t dt[FT_MAX] = { EXT4_DT_UNKNOWN, EXT4_DT_REG, EXT4_DT_DIR, EXT4_DT_CHR,
					    EXT4_DT_BLK, EXT4_DT_FIFO, EXT4_DT_SOCK, EXT4_DT_LNK };
	return ft < FT_MAX ? dt[ft] : EXT4_DT_UNKNOWN;
}

struct dirctx {
	struct ext4_fs *fs;
	struct ext4_iref *ir;
	uint32_t nblocks;
	uint8_t *dxmap;            /* bit per block: an htree index block (no entries) */
	bool dx;
	unsigned levels;           /* dx: index levels below the root */
	unsigned hash_version;     /* dx: DX_HASH_*, the unsigned flavour applied */
};

static bool is_dx_block(struct dirctx *d, uint32_t lblk)
{
	return d->dxmap && (d->dxmap[lblk >> 3] & (1u << (lblk & 7)));
}

static int read_dir_block(struct dirctx *d, uint32_t lblk, uint8_t *buf, uint64_t *pblk_out)
{
	uint64_t pblk;
	uint32_t run;
	bool uw;
	int r = ext4_ext_map(d->fs, d->ir, lblk, &pblk, &run, &uw);
	if (r < 0)
		return r;
	if (!pblk || uw)
		return 1;                      /* a hole: nothing there */
	*pblk_out = pblk;
	return ext4_bread(d->fs, pblk, buf);
}

/* In a transaction the leaf's checksum is left to the commit (journal.c, tx_csum_all): a leaf
 * that takes many entries in one transaction is checksummed once. */
int ext4_dirblock_write(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t pblk, uint8_t *blk)
{
	if (ext4_tx_csum_deferrable(fs))
		return ext4_bwrite_csum_later(fs, pblk, blk, EXT4_TXC_DIRLEAF, ir->csum_seed);
	ext4_dirblock_csum_set(fs, ir, blk);
	return ext4_bwrite(fs, pblk, blk);
}

static uint16_t dx_limit(struct ext4_fs *fs, uint32_t off)
{
	return (uint16_t)((fs->bs - off) / sizeof(struct ext4_dx_entry) -
			  (fs->csum ? sizeof(struct ext4_dx_tail) / sizeof(struct ext4_dx_entry) : 0));
}

/* Mark the index blocks below the node in buf (entries at `off`), `levels` more levels down. */
static int dx_mark(struct dirctx *d, uint8_t *buf, uint32_t off, unsigned levels, uint8_t *tmp)
{
	struct ext4_dx_countlimit cl;
	memcpy(&cl, buf + off, sizeof(cl));
	if (cl.limit != dx_limit(d->fs, off) || cl.count == 0 || cl.count > cl.limit)
		return ext4_corrupt(d->fs);
	if (levels == 0)
		return 0;
	/* Each child is itself an index node; copy the block numbers out before reusing tmp. */
	uint32_t n = cl.count;
	uint32_t *blocks = ext4_malloc(n * sizeof(uint32_t));
	if (!blocks)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		memcpy(&blocks[i], buf + off + i * sizeof(struct ext4_dx_entry) + 4, 4);
	int r = 0;
	for (uint32_t i = 0; i < n && r == 0; i++) {
		uint32_t b = blocks[i];
		if (b == 0 || b >= d->nblocks || is_dx_block(d, b)) {
			r = ext4_corrupt(d->fs);
			break;
		}
		d->dxmap[b >> 3] |= (uint8_t)(1u << (b & 7));
		uint64_t pb;
		r = read_dir_block(d, b, tmp, &pb);
		if (r == 1)
			r = ext4_corrupt(d->fs);
		if (r < 0)
			break;
		const struct ext4_dirent *de = (const void *)tmp;
		if (de->inode != 0 || de->rec_len != (d->fs->bs & 0xffff)) {
			r = ext4_corrupt(d->fs);
			break;
		}
		uint8_t *nbuf = ext4_balloc(d->fs);
		if (!nbuf) {
			r = -ENOMEM;
			break;
		}
		memcpy(nbuf, tmp, d->fs->bs);
		r = dx_mark(d, nbuf, DX_NODE_ENTRIES_OFF, levels - 1, tmp);
		ext4_bfree(d->fs, nbuf);
	}
	ext4_free(blocks);
	return r;
}

static void dirctx_done(struct dirctx *d)
{
	ext4_free(d->dxmap);
	d->dxmap = NULL;
}

static int dirctx_init(struct ext4_fs *fs, struct ext4_iref *ir, struct dirctx *d)
{
	memset(d, 0, sizeof(*d));
	d->fs = fs;
	d->ir = ir;
	if (!ext4_is_dir(ir))
		return -ENOTDIR;
	if (ir->i.i_flags & EXT4_INLINE_DATA_FL)
		return 0;
	if (!(ir->i.i_flags & EXT4_EXTENTS_FL))
		return -EOPNOTSUPP;
	uint64_t nb = ext4_isize(ir) >> fs->log_bs;
	uint64_t have = ext4_iblocks(fs, ir) / (fs->bs / 512);
	if (nb == 0 || nb > have || nb > fs->blocks_count)
		return ext4_corrupt(fs);
	d->nblocks = (uint32_t)nb;
	d->dx = (ir->i.i_flags & EXT4_INDEX_FL) && (fs->sb.s_feature_compat & COMPAT_DIR_INDEX);
	if (!d->dx)
		return 0;
	uint8_t *root = ext4_balloc(fs), *tmp = ext4_balloc(fs);
	d->dxmap = ext4_zalloc((d->nblocks + 7) / 8);
	int r = -ENOMEM;
	if (!root || !tmp || !d->dxmap)
		goto out;
	uint64_t pb;
	r = read_dir_block(d, 0, root, &pb);
	if (r == 1)
		r = ext4_corrupt(fs);
	if (r < 0)
		goto out;
	struct ext4_dx_root_info info;
	memcpy(&info, root + DX_ROOT_INFO_OFF, sizeof(info));
	const struct ext4_dirent *dot = (const void *)root, *dotdot = (const void *)(root + 12);
	unsigned maxlev = (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_LARGEDIR) ? EXT4_DX_MAX_LEVELS : 2;
	if (dot->rec_len != 12 || dot->name_len != 1 || dotdot->rec_len != fs->bs - 12 ||
	    dotdot->name_len != 2 || info.reserved_zero != 0 || info.info_length != DX_INFO_LEN ||
	    info.indirect_levels >= maxlev) {
		r = ext4_corrupt(fs);
		goto out;
	}
	d->dxmap[0] |= 1;
	d->levels = info.indirect_levels;
	d->hash_version = info.hash_version;
	if (d->hash_version <= EXT4_DX_HASH_TEA && (fs->sb.s_flags & EXT2_FLAGS_UNSIGNED_HASH))
		d->hash_version += EXT4_DX_HASH_LEGACY_UNSIGNED;
	r = dx_mark(d, root, DX_ROOT_ENTRIES_OFF, info.indirect_levels, tmp);
out:
	ext4_bfree(fs, root);
	ext4_bfree(fs, tmp);
	if (r < 0)
		dirctx_done(d);
	return r;
}

/* Check one entry at off in a block whose entries end at `end`. */
static bool dirent_ok(struct ext4_fs *fs, const uint8_t *blk, uint32_t off, uint32_t end)
{
	if (off + EXT4_DIRENT_HDR > end)
		return false;
	const struct ext4_dirent *de = (const void *)(blk + off);
	return de->rec_len >= EXT4_DIR_REC_LEN(1) && !(de->rec_len & 3) && off + de->rec_len <= end &&
	       EXT4_DIR_REC_LEN(de->name_len) <= de->rec_len && de->inode <= fs->sb.s_inodes_count;
}

typedef int (*walk_fn)(struct dirctx *d, uint8_t *blk, uint32_t lblk, uint32_t off, uint32_t prev,
		       void *arg);

static int walk_one(struct dirctx *d, uint32_t lblk, uint32_t skip_to, walk_fn fn, void *arg, uint8_t *blk)
{
	struct ext4_fs *fs = d->fs;
	bool root = d->dx && lblk == 0;
	if (is_dx_block(d, lblk) && !root)
		return 0;
	uint64_t pblk;
	int r = read_dir_block(d, lblk, blk, &pblk);
	if (r != 0)
		return r == 1 ? 0 : r;
	uint32_t end = fs->bs;
	if (!root && fs->csum) {
		if (!ext4_csum_known_good(fs, pblk)) {
			if (!ext4_dirblock_csum_ok(fs, d->ir, blk))
				return ext4_corrupt(fs);
			ext4_csum_mark_good(fs, pblk);
		}
		end -= EXT4_DIRENT_TAIL_SIZE;
	} else if (!root && ext4_dirblock_has_tail(fs, blk)) {
		end -= EXT4_DIRENT_TAIL_SIZE;
	}
	uint32_t off = 0, prev = UINT32_MAX;
	int nent = 0;
	while (off < end) {
		if (!dirent_ok(fs, blk, off, end))
			return ext4_corrupt(fs);
		const struct ext4_dirent *de = (const void *)(blk + off);
		uint32_t rl = de->rec_len;
		if (off >= skip_to) {
			int w = fn(d, blk, lblk, off, prev, arg);
			if (w < 0)
				return w;
			if (w == WALK_WRITE_STOP) {
				r = ext4_dirblock_write(fs, d->ir, pblk, blk);
				return r < 0 ? r : 1;
			}
			if (w == WALK_STOP)
				return 1;
		}
		prev = off;
		off += rl;
		if (root && ++nent == 2)
			break;                 /* the rest of a dx root is the index */
	}
	return 0;
}

/*
 * Call fn on every entry (used or not) of every entry block from byte position `start`: "." and
 * ".." of a dx root included, index blocks skipped. fn may edit the block and return
 * WALK_WRITE_STOP to have it checksummed and written. Returns 1 when fn stopped the walk.
 */
static int walk(struct dirctx *d, uint64_t start, walk_fn fn, void *arg)
{
	struct ext4_fs *fs = d->fs;
	uint8_t *blk = ext4_balloc(fs);
	if (!blk)
		return -ENOMEM;
	int r = 0;
	uint32_t first = (uint32_t)(start >> fs->log_bs);
	for (uint32_t lblk = first; lblk < d->nblocks && r == 0; lblk++)
		r = walk_one(d, lblk, lblk == first ? (uint32_t)(start & (fs->bs - 1)) : 0, fn, arg, blk);
	ext4_bfree(fs, blk);
	return r;
}

/* An indexed directory whose index we follow (htree.c). */
static bool use_dx(struct ext4_fs *fs, struct ext4_iref *dir)
{
	return ext4_is_dir(dir) && (dir->i.i_flags & EXT4_INDEX_FL) && !(dir->i.i_flags & EXT4_INLINE_DATA_FL) &&
	       (fs->sb.s_feature_compat & COMPAT_DIR_INDEX);
}

/* Look name up through the index; 0 found (hit filled), -ENOENT, -EAGAIN: scan linearly. */
static int dx_lookup(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, struct ext4_dx_hit *hit)
{
	if (!use_dx(fs, dir) || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EAGAIN;                /* "." and ".." live in the root block, found by the scan's first block */
	hit->blk = ext4_balloc(fs);
	if (!hit->blk)
		return -ENOMEM;
	int r = ext4_dx_find(fs, dir, name, len, hit);
	if (r < 0) {
		ext4_bfree(fs, hit->blk);
		hit->blk = NULL;
	}
	return r;
}

/* ---- inline directories (read only) ---- */
struct inline_it { const uint8_t *p; uint32_t len; };

static int inline_walk(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t *cookie, ext4_filldir_t fn, void *arg)
{
	const uint8_t *xv;
	uint32_t xl;
	int r = ext4_inline_get(fs, ir, &xv, &xl);
	if (r < 0)
		return r;
	uint32_t parent = ir->i.i_block[0];
	/* cookie: 0 ".", 1 "..", 2 + byte offset into i_block[1..] ++ xattr value */
	if (*cookie == 0) {
		if (fn(arg, ".", 1, ir->ino, EXT4_DT_DIR, 1))
			return 0;
		*cookie = 1;
	}
	if (*cookie == 1) {
		if (fn(arg, "..", 2, parent, EXT4_DT_DIR, 2))
			return 0;
		*cookie = 2;
	}
	struct inline_it parts[2] = { { (const uint8_t *)ir->i.i_block + 4, EXT4_INLINE_SIZE - 4 }, { xv, xl } };
	uint64_t base = 2;
	for (int k = 0; k < 2; k++) {
		const uint8_t *p = parts[k].p;
		uint32_t len = parts[k].len, off = 0;
		while (p && off < len) {
			if (off + EXT4_DIRENT_HDR > len)
				return ext4_corrupt(fs);
			const struct ext4_dirent *de = (const void *)(p + off);
			if (de->rec_len < EXT4_DIRENT_HDR || (de->rec_len & 3) || off + de->rec_len > len ||
			    EXT4_DIRENT_HDR + de->name_len > de->rec_len || de->inode > fs->sb.s_inodes_count)
				return ext4_corrupt(fs);
			uint64_t here = base + off, next = here + de->rec_len;
			if (here >= *cookie && de->inode) {
				if (fn(arg, de->name, de->name_len, de->inode, ext4_ftype_to_dt(de->file_type), next))
					return 0;
			}
			if (here >= *cookie)
				*cookie = next;
			off += de->rec_len;
		}
		base += len;
	}
	return 0;
}

/* ---- lookup ---- */
struct find_arg { const char *name; size_t len; uint32_t ino; uint32_t lblk, off; int mode; };
#define FIND_ONLY 0
#define FIND_REMOVE 1

static int find_cb(struct dirctx *d, uint8_t *blk, uint32_t lblk, uint32_t off, uint32_t prev, void *arg)
{
	struct find_arg *a = arg;
	struct ext4_dirent *de = (void *)(blk + off);
	if (!de->inode || de->name_len != a->len || memcmp(de->name, a->name, a->len))
		return WALK_NEXT;
	a->lblk = lblk;
	a->off = off;
	if (a->mode == FIND_ONLY) {
		a->ino = de->inode;
		return WALK_STOP;
	}
	if (d->dx && lblk == 0)
		return WALK_STOP;              /* "." / ".." of a dx root: never removed or moved */
	a->ino = de->inode;
	if (prev != UINT32_MAX) {
		struct ext4_dirent *pd = (void *)(blk + prev);
		pd->rec_len = (uint16_t)(pd->rec_len + de->rec_len);
		memset(de, 0, EXT4_DIRENT_HDR + de->name_len);
	} else {
		de->inode = 0;
	}
	return WALK_WRITE_STOP;
}

struct inline_find { const char *name; size_t len; uint32_t ino; };
static int inline_find_cb(void *arg, const char *name, size_t len, uint32_t ino, unsigned dt, uint64_t next)
{
	(void)dt;
	(void)next;
	struct inline_find *f = arg;
	if (len == f->len && memcmp(name, f->name, len) == 0) {
		f->ino = ino;
		return 1;
	}
	return 0;
}

int ext4_dir_find(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t *ino)
{
	if (dir->i.i_flags & EXT4_INLINE_DATA_FL) {
		if (!ext4_is_dir(dir))
			return -ENOTDIR;
		struct inline_find f = { name, len, 0 };
		uint64_t c = 0;
		int r = inline_walk(fs, dir, &c, inline_find_cb, &f);
		if (r < 0)
			return r;
		if (!f.ino)
			return -ENOENT;
		*ino = f.ino;
		return 0;
	}
	struct ext4_dx_hit hit;
	int r = dx_lookup(fs, dir, name, len, &hit);
	if (r != -EAGAIN) {
		if (r == 0) {
			*ino = ((const struct ext4_dirent *)(hit.blk + hit.off))->inode;
			ext4_bfree(fs, hit.blk);
		}
		return r;
	}
	struct dirctx d;
	r = dirctx_init(fs, dir, &d);
	if (r < 0)
		return r;
	struct find_arg a = { name, len, 0, 0, 0, FIND_ONLY };
	r = walk(&d, 0, find_cb, &a);
	dirctx_done(&d);
	if (r < 0)
		return r;
	if (r == 0 || !a.ino)
		return -ENOENT;
	*ino = a.ino;
	return 0;
}

/* ---- iteration ---- */
struct iter_arg { ext4_filldir_t fn; void *arg; uint64_t *cookie; uint32_t bs; };

static int iter_cb(struct dirctx *d, uint8_t *blk, uint32_t lblk, uint32_t off, uint32_t prev, void *arg)
{
	(void)prev;
	struct iter_arg *a = arg;
	const struct ext4_dirent *de = (const void *)(blk + off);
	uint64_t here = (uint64_t)lblk * a->bs + off;
	uint64_t next = here + de->rec_len;
	if (d->dx && lblk == 0 && off != 0)
		next = a->bs;                  /* after ".." of a dx root comes block 1 */
	if (de->inode) {
		unsigned dt = ext4_ftype_to_dt(de->file_type);
		if (a->fn(a->arg, de->name, de->name_len, de->inode, dt, next))
			return WALK_STOP;
	}
	*a->cookie = next;
	return WALK_NEXT;
}

int ext4_dir_iterate(struct ext4_fs *fs, struct ext4_iref *dir, uint64_t *cookie, ext4_filldir_t fn, void *arg)
{
	if (dir->i.i_flags & EXT4_INLINE_DATA_FL)
		return ext4_is_dir(dir) ? inline_walk(fs, dir, cookie, fn, arg) : -ENOTDIR;
	if (use_dx(fs, dir)) {
		int r = ext4_dx_readdir(fs, dir, cookie, fn, arg);
		if (r != -EAGAIN)
			return r;
	}
	struct dirctx d;
	int r = dirctx_init(fs, dir, &d);
	if (r < 0)
		return r;
	struct iter_arg a = { fn, arg, cookie, fs->bs };
	r = walk(&d, *cookie, iter_cb, &a);
	if (r == 0)
		*cookie = (uint64_t)d.nblocks << fs->log_bs;
	dirctx_done(&d);
	return r < 0 ? r : 0;
}

/* ---- emptiness ---- */
static int empty_cb(struct dirctx *d, uint8_t *blk, uint32_t lblk, uint32_t off, uint32_t prev, void *arg)
{
	(void)d;
	(void)lblk;
	(void)prev;
	const struct ext4_dirent *de = (const void *)(blk + off);
	if (!de->inode)
		return WALK_NEXT;
	if ((de->name_len == 1 && de->name[0] == '.') ||
	    (de->name_len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return WALK_NEXT;
	*(bool *)arg = false;
	return WALK_STOP;
}

int ext4_dir_is_empty(struct ext4_fs *fs, struct ext4_iref *dir)
{
	if (dir->i.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	struct dirctx d;
	int r = dirctx_init(fs, dir, &d);
	if (r < 0)
		return r;
	bool empty = true;
	r = walk(&d, 0, empty_cb, &empty);
	dirctx_done(&d);
	return r < 0 ? r : (empty ? 1 : 0);
}

/* ---- changes ---- */
int ext4_dir_remove(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len)
{
	if (dir->i.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	struct ext4_dx_hit hit;
	int r = dx_lookup(fs, dir, name, len, &hit);
	if (r != -EAGAIN) {
		if (r == 0) {
			/* the entry joins the one before it, or becomes unused at the start of the block */
			struct ext4_dirent *de = (void *)(hit.blk + hit.off);
			if (hit.prev != UINT32_MAX) {
				struct ext4_dirent *pd = (void *)(hit.blk + hit.prev);
				pd->rec_len = (uint16_t)(pd->rec_len + de->rec_len);
				memset(de, 0, EXT4_DIRENT_HDR + de->name_len);
			} else {
				de->inode = 0;
			}
			r = ext4_dirblock_write(fs, dir, hit.pblk, hit.blk);
			ext4_bfree(fs, hit.blk);
		}
		return r;
	}
	struct dirctx d;
	r = dirctx_init(fs, dir, &d);
	if (r < 0)
		return r;
	struct find_arg a = { name, len, 0, 0, 0, FIND_REMOVE };
	r = walk(&d, 0, find_cb, &a);
	dirctx_done(&d);
	if (r < 0)
		return r;
	return a.ino ? 0 : -ENOENT;
}

struct set_arg { const char *name; size_t len; uint32_t ino; uint8_t ftype; bool done; };

static int set_cb(struct dirctx *d, uint8_t *blk, uint32_t lblk, uint32_t off, uint32_t prev, void *arg)
{
	(void)prev;
	struct set_arg *a = arg;
	struct ext4_dirent *de = (void *)(blk + off);
	if (!de->inode || de->name_len != a->len || memcmp(de->name, a->name, a->len))
		return WALK_NEXT;
	if (d->dx && lblk == 0 && !(a->len == 2 && a->name[0] == '.' && a->name[1] == '.'))
		return WALK_STOP;
	de->inode = a->ino;
	if (d->fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_FILETYPE)
		de->file_type = a->ftype;
	a->done = true;
	if (d->dx && lblk == 0) {
		/* ".." of a dx root: the root block carries no leaf tail, write it as it is */
		return -EAGAIN;
	}
	return WALK_WRITE_STOP;
}

/* Rewrite "..", in a dx root block where walk() cannot (no leaf tail to checksum). */
static int set_dotdot_dx(struct dirctx *d, uint32_t ino, uint8_t ftype)
{
	struct ext4_fs *fs = d->fs;
	uint8_t *blk = ext4_balloc(fs);
	if (!blk)
		return -ENOMEM;
	uint64_t pblk;
	int r = read_dir_block(d, 0, blk, &pblk);
	if (r == 1)
		r = ext4_corrupt(fs);
	if (r == 0) {
		struct ext4_dirent *dd = (void *)(blk + 12);
		dd->inode = ino;
		if (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_FILETYPE)
			dd->file_type = ftype;
		/* the dx root's checksum covers the index: recompute it like Linux's ext4_dx_csum */
		if (fs->csum) {
			struct ext4_dx_countlimit cl;
			memcpy(&cl, blk + DX_ROOT_ENTRIES_OFF, sizeof(cl));
			uint32_t size = DX_ROOT_ENTRIES_OFF + cl.count * (uint32_t)sizeof(struct ext4_dx_entry);
			uint32_t toff = DX_ROOT_ENTRIES_OFF + cl.limit * (uint32_t)sizeof(struct ext4_dx_entry);
			if (cl.count > cl.limit || toff + sizeof(struct ext4_dx_tail) > fs->bs) {
				r = ext4_corrupt(fs);
			} else {
				/* crc32c(inode seed, header + used entries, tail with dt_checksum as zero) */
				struct ext4_dx_tail *t = (void *)(blk + toff);
				uint32_t zero = 0;
				uint32_t c = ext4_csum(fs, d->ir->csum_seed, blk, size);
				c = ext4_csum(fs, c, t, offsetof(struct ext4_dx_tail, dt_checksum));
				c = ext4_csum(fs, c, &zero, sizeof(zero));
				t->dt_checksum = c;
			}
		}
		if (r == 0)
			r = ext4_bwrite(fs, pblk, blk);
	}
	ext4_bfree(fs, blk);
	return r;
}

int ext4_dir_set_ino(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t ino, uint8_t ftype)
{
	if (dir->i.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	bool dotdot = len == 2 && name[0] == '.' && name[1] == '.';
	struct ext4_dx_hit hit;
	int r = dotdot ? -EAGAIN : dx_lookup(fs, dir, name, len, &hit);
	if (r != -EAGAIN) {
		if (r == 0) {
			struct ext4_dirent *de = (void *)(hit.blk + hit.off);
			de->inode = ino;
			if (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_FILETYPE)
				de->file_type = ftype;
			r = ext4_dirblock_write(fs, dir, hit.pblk, hit.blk);
			ext4_bfree(fs, hit.blk);
		}
		return r;
	}
	struct dirctx d;
	r = dirctx_init(fs, dir, &d);
	if (r < 0)
		return r;
	struct set_arg a = { name, len, ino, ftype, false };
	r = walk(&d, 0, set_cb, &a);
	if (r == -EAGAIN)
		r = set_dotdot_dx(&d, ino, ftype);
	dirctx_done(&d);
	if (r < 0)
		return r;
	return a.done ? 0 : -ENOENT;
}

/* Turn a hashed directory into a plain one (see the top of the file). */
static int dx_clear(struct dirctx *d)
{
	struct ext4_fs *fs = d->fs;
	uint8_t *blk = ext4_balloc(fs);
	if (!blk)
		return -ENOMEM;
	uint32_t end = fs->csum ? fs->bs - EXT4_DIRENT_TAIL_SIZE : fs->bs;
	int r = 0;
	for (uint32_t lblk = 0; lblk < d->nblocks && r == 0; lblk++) {
		if (!is_dx_block(d, lblk))
			continue;
		uint64_t pblk;
		r = read_dir_block(d, lblk, blk, &pblk);
		if (r == 1)
			r = ext4_corrupt(fs);
		if (r < 0)
			break;
		if (lblk == 0) {
			/* keep "." and "..", the rest becomes free space in ".." */
			memset(blk + 24, 0, fs->bs - 24);
			((struct ext4_dirent *)(blk + 12))->rec_len = (uint16_t)(end - 12);
		} else {
			memset(blk, 0, fs->bs);
			((struct ext4_dirent *)blk)->rec_len = (uint16_t)end;
		}
		if (fs->csum) {
			ext4_dirblock_init_tail(fs, blk);
			ext4_dirblock_csum_set(fs, d->ir, blk);
		}
		r = ext4_bwrite(fs, pblk, blk);
	}
	ext4_bfree(fs, blk);
	if (r == 0) {
		d->ir->i.i_flags &= ~EXT4_INDEX_FL;
		r = ext4_iwrite(fs, d->ir);
		dirctx_done(d);
		d->dx = false;
	}
	return r;
}

struct add_arg { const char *name; size_t len; uint32_t ino; uint8_t ftype; bool done; bool filetype; };

static void fill_dirent(struct ext4_dirent *de, const struct add_arg *a, uint16_t rec_len)
{
	de->inode = a->ino;
	de->rec_len = rec_len;
	de->name_len = (uint8_t)a->len;
	de->file_type = a->filetype ? a->ftype : 0;
	memcpy(de->name, a->name, a->len);
}

static int add_cb(struct dirctx *d, uint8_t *blk, uint32_t lblk, uint32_t off, uint32_t prev, void *arg)
{
	(void)d;
	(void)lblk;
	(void)prev;
	struct add_arg *a = arg;
	struct ext4_dirent *de = (void *)(blk + off);
	uint32_t need = EXT4_DIR_REC_LEN(a->len);
	uint32_t used = de->inode ? EXT4_DIR_REC_LEN(de->name_len) : 0;
	if (de->rec_len < used + need)
		return WALK_NEXT;
	if (de->inode) {
		struct ext4_dirent *nd = (void *)(blk + off + used);
		uint16_t rest = (uint16_t)(de->rec_len - used);
		de->rec_len = (uint16_t)used;
		fill_dirent(nd, a, rest);
	} else {
		fill_dirent(de, a, de->rec_len);
	}
	a->done = true;
	return WALK_WRITE_STOP;
}

int ext4_dir_add(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t ino, uint8_t ftype)
{
	if (dir->i.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	struct dirctx d;
	int r;
	memset(&d, 0, sizeof(d));
	if (use_dx(fs, dir)) {
		r = ext4_dx_add(fs, dir, name, len, ino, ftype);
		if (r != -EAGAIN)
			goto out;
	}
	r = dirctx_init(fs, dir, &d);
	if (r < 0)
		return r;
	struct add_arg a = { name, len, ino, ftype, false,
			     (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_FILETYPE) != 0 };
	if (d.dx) {
		/* An index we cannot follow (unknown hash): drop it, as Linux does for a bad one. */
		r = dx_clear(&d);
		if (r < 0)
			goto out;
	}
	r = walk(&d, 0, add_cb, &a);
	if (r > 0)
		r = 0;
	if (r < 0 || a.done)
		goto out;
	/* One full block: the directory becomes indexed (with dir_index), as make_indexed_dir. */
	if (d.nblocks == 1) {
		r = ext4_dx_make_indexed(fs, dir, name, len, ino, ftype);
		if (r != -EAGAIN)
			goto out;
	}
	/* No room anywhere: a new block at the end holding just this entry. */
	uint8_t *blk = ext4_zalloc(fs->bs);
	if (!blk) {
		r = -ENOMEM;
		goto out;
	}
	uint32_t end = fs->csum ? fs->bs - EXT4_DIRENT_TAIL_SIZE : fs->bs;
	fill_dirent((struct ext4_dirent *)blk, &a, (uint16_t)end);
	if (fs->csum) {
		ext4_dirblock_init_tail(fs, blk);
		ext4_dirblock_csum_set(fs, dir, blk);
	}
	long w = ext4_iwrite_data(fs, dir, ext4_isize(dir), blk, fs->bs);
	ext4_free(blk);
	r = w < 0 ? (int)w : (w == fs->bs ? 0 : -ENOSPC);
out:
	dirctx_done(&d);
	if (r == 0)
		ext4_touch(fs, dir, EXT4_T_MTIME | EXT4_T_CTIME);
	/* also after a failed insert: blocks it appended (size, extents) must reach the inode */
	int iw = ext4_iwrite(fs, dir);
	return r == 0 ? iw : r;
}

int ext4_dir_init(struct ext4_fs *fs, struct ext4_iref *dir, uint32_t parent)
{
	uint8_t *blk = ext4_zalloc(fs->bs);
	if (!blk)
		return -ENOMEM;
	uint32_t end = fs->csum ? fs->bs - EXT4_DIRENT_TAIL_SIZE : fs->bs;
	bool ft = fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_FILETYPE;
	struct ext4_dirent *dot = (void *)blk, *dd = (void *)(blk + 12);
	dot->inode = dir->ino;
	dot->rec_len = 12;
	dot->name_len = 1;
	dot->file_type = ft ? FT_DIR : 0;
	dot->name[0] = '.';
	dd->inode = parent;
	dd->rec_len = (uint16_t)(end - 12);
	dd->name_len = 2;
	dd->file_type = ft ? FT_DIR : 0;
	dd->name[0] = dd->name[1] = '.';
	if (fs->csum) {
		ext4_dirblock_init_tail(fs, blk);
		ext4_dirblock_csum_set(fs, dir, blk);
	}
	long w = ext4_iwrite_data(fs, dir, 0, blk, fs->bs);
	ext4_free(blk);
	return w < 0 ? (int)w : (w == fs->bs ? 0 : -ENOSPC);
}
