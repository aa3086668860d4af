/*
 * Hashed directories (dir_index, "htree"), as Linux's fs/ext4/namei.c keeps them.
 *
 * Theory. An indexed directory (EXT4_INDEX_FL) is an ordinary directory file whose block 0 is the
 * dx root: "." (rec_len 12), ".." (rec_len bs - 12, covering the rest of the block for old
 * readers), an 8-byte info {reserved_zero, hash_version, info_length 8, indirect_levels, flags},
 * then an array of 8-byte dx entries {hash, block}. Entry 0's hash field holds {limit, count}
 * instead and its range starts at hash 0. Index nodes (indirect_levels 1 or 2, the latter only
 * with largedir) are blocks holding a fake empty dirent {inode 0, rec_len bs} then the same
 * {limit,count} + entries. Every other block is a leaf: plain dirents (with the 12-byte checksum
 * tail under metadata_csum). Under metadata_csum every dx block has, right after `limit`
 * entries, a dx_tail {reserved, crc32c(inode seed, block up to the end of the used entries,
 * tail with the checksum field as zero)}.
 *
 * The names of a leaf all hash (the directory's hash: legacy, half-MD4 or TEA, signed or
 * unsigned per s_flags, seeded with s_hash_seed; bit 0 always clear) into the range
 * [entry.hash & ~1, next entry's hash). Bit 0 of an entry's hash (continuation) says that the
 * previous leaf holds names of the very same hash: a lookup that does not find its name in the
 * leaf its hash chose moves on to the next leaf while the next range starts at the same hash
 * (ext4_htree_next_block), so a run of colliding names may span several leaves.
 *
 * Lookup: hash the name, descend from the root choosing in each node the last entry whose hash
 * is <= the name's hash, read the one leaf (and its collision successors).
 *
 * Insert (ext4_dx_add_entry): descend the same way; if the leaf has room, the entry goes there.
 * If not, the leaf is split (do_split): its live entries sorted by hash, the upper half by size
 * moves to a new block appended to the directory, and (hash of the first moved entry, new
 * block) is inserted after the old leaf's entry in the parent node, with the continuation bit
 * when that hash equals the last hash staying behind. The new name then goes into whichever half
 * its hash belongs to. When the parent node is full it is split first: half of its entries go
 * to a new node whose (first hash, block) goes into the grandparent; when every node up to the
 * root is full, the root's entries move into a new node and the root points at it alone
 * (indirect_levels + 1), unless the maximum depth is reached: then -ENOSPC, as Linux's
 * "Directory index full". After each change of the index the insert starts again from the root,
 * so every step only ever handles one node that has room above it.
 *
 * A plain (linear) directory of one full block turns into an indexed one when the file system
 * has dir_index (make_indexed_dir): the entries after ".." move to a new block 1, block 0
 * becomes the root with one entry (hash 0 -> block 1, hash version s_def_hash_version), and the
 * insert proceeds as above. Removal just deletes the entry from its leaf (no merging), which
 * leaves the index valid.
 *
 * Nothing read is trusted: counts, limits, levels, block numbers and checksums are checked on
 * the way down, and a bad index gives -EUCLEAN (ext4_corrupt). A hash version we do not know
 * (siphash) gives -EAGAIN: dir.c then falls back to a linear scan, and for inserts drops the
 * index. New blocks are appended with ext4_iwrite_data (the caller writes the inode). Called with
 * the file system's operation lock held (namei.c), may sleep (block I/O).
 */
#include "fs/ext4/ext4_fs.h"

#define DX_ROOT_INFO_OFF 24
#define DX_ROOT_ENTRIES_OFF 32
#define DX_NODE_ENTRIES_OFF 8
#define DX_INFO_LEN 8
#define DX_ENTRY_SIZE 8
#define DX_CONTINUED 1u
#define DX_DOT_REC_LEN 12
#define DX_MAX_RESTARTS 16            /* index changes one insert may need (a split per level + slack) */
#define COMPAT_DIR_INDEX 0x0020
#define FT_DIR 2

struct dx_frame {
	uint32_t lblk;
	uint64_t pblk;
	uint8_t *buf;
	uint32_t off;                 /* {limit, count} offset: 32 in the root, 8 in a node */
	uint32_t at;                  /* the entry chosen on the way down */
};

struct dx_path {
	struct ext4_fs *fs;
	struct ext4_iref *ir;
	uint32_t nblocks;
	unsigned levels;              /* indirect levels: frames 0..levels are index blocks */
	unsigned maxlev;              /* 2, or 3 with largedir */
	unsigned version;             /* hash version with the unsigned flavour applied */
	uint32_t hash;
	struct dx_frame f[EXT4_DX_MAX_LEVELS];
};

/* ---- dx entries in a buffer ---- */
static uint16_t cl_limit(const uint8_t *b, uint32_t off) { uint16_t v; memcpy(&v, b + off, 2); return v; }
static uint16_t cl_count(const uint8_t *b, uint32_t off) { uint16_t v; memcpy(&v, b + off + 2, 2); return v; }
static void cl_set_limit(uint8_t *b, uint32_t off, uint16_t v) { memcpy(b + off, &v, 2); }
static void cl_set_count(uint8_t *b, uint32_t off, uint16_t v) { memcpy(b + off + 2, &v, 2); }
static uint32_t ent_hash(const uint8_t *b, uint32_t off, uint32_t i) { uint32_t v; memcpy(&v, b + off + i * DX_ENTRY_SIZE, 4); return v; }
static uint32_t ent_block(const uint8_t *b, uint32_t off, uint32_t i) { uint32_t v; memcpy(&v, b + off + i * DX_ENTRY_SIZE + 4, 4); return v; }
static void ent_set(uint8_t *b, uint32_t off, uint32_t i, uint32_t hash, uint32_t blk)
{
	if (i)
		memcpy(b + off + i * DX_ENTRY_SIZE, &hash, 4);
	memcpy(b + off + i * DX_ENTRY_SIZE + 4, &blk, 4);
}

static uint16_t dx_limit(struct ext4_fs *fs, uint32_t off)
{
	return (uint16_t)((fs->bs - off) / DX_ENTRY_SIZE -
			  (fs->csum ? sizeof(struct ext4_dx_tail) / DX_ENTRY_SIZE : 0));
}

/* crc32c(inode seed, header + used entries, tail with the checksum as zero): ext4_dx_csum. */
static uint32_t dx_csum(struct ext4_fs *fs, struct ext4_iref *ir, const uint8_t *b, uint32_t off)
{
	uint32_t size = off + cl_count(b, off) * DX_ENTRY_SIZE;
	const uint8_t *t = b + off + cl_limit(b, off) * DX_ENTRY_SIZE;
	uint32_t zero = 0;
	uint32_t c = ext4_csum(fs, ir->csum_seed, b, size);
	c = ext4_csum(fs, c, t, offsetof(struct ext4_dx_tail, dt_checksum));
	return ext4_csum(fs, c, &zero, sizeof(zero));
}

static void dx_csum_set(struct ext4_fs *fs, struct ext4_iref *ir, uint8_t *b, uint32_t off)
{
	if (!fs->csum)
		return;
	struct ext4_dx_tail *t = (void *)(b + off + cl_limit(b, off) * DX_ENTRY_SIZE);
	t->dt_checksum = dx_csum(fs, ir, b, off);
}

static bool dx_csum_ok(struct ext4_fs *fs, struct ext4_iref *ir, const uint8_t *b, uint32_t off)
{
	if (!fs->csum)
		return true;
	const struct ext4_dx_tail *t = (const void *)(b + off + cl_limit(b, off) * DX_ENTRY_SIZE);
	return t->dt_checksum == dx_csum(fs, ir, b, off);
}

static int dx_write(struct dx_path *p, struct dx_frame *f)
{
	dx_csum_set(p->fs, p->ir, f->buf, f->off);
	return ext4_bwrite(p->fs, f->pblk, f->buf);
}

/* A block of the directory that must exist (no hole, not unwritten). */
static int dblock_read(struct dx_path *p, uint32_t lblk, uint8_t *buf, uint64_t *pblk)
{
	uint32_t run;
	bool uw;
	if (lblk >= p->nblocks)
		return ext4_corrupt(p->fs);
	int r = ext4_ext_map(p->fs, p->ir, lblk, pblk, &run, &uw);
	if (r < 0)
		return r;
	if (!*pblk || uw)
		return ext4_corrupt(p->fs);
	return ext4_bread(p->fs, *pblk, buf);
}

/* Append a block holding buf at the end of the directory. */
static int dblock_append(struct dx_path *p, const uint8_t *buf, uint32_t *lblk, uint64_t *pblk)
{
	struct ext4_fs *fs = p->fs;
	uint32_t n = (uint32_t)(ext4_isize(p->ir) >> fs->log_bs);
	long w = ext4_iwrite_data(fs, p->ir, (uint64_t)n << fs->log_bs, buf, fs->bs);
	if (w < 0)
		return (int)w;
	if (w != (long)fs->bs)
		return -ENOSPC;
	uint32_t run;
	bool uw;
	int r = ext4_ext_map(fs, p->ir, n, pblk, &run, &uw);
	if (r < 0)
		return r;
	if (!*pblk)
		return -EIO;
	*lblk = n;
	p->nblocks = n + 1;
	return 0;
}

static void path_free(struct dx_path *p)
{
	for (unsigned i = 0; i < EXT4_DX_MAX_LEVELS; i++) {
		ext4_bfree(p->fs, p->f[i].buf);
		p->f[i].buf = NULL;
	}
}

/* Check a {limit, count} header and the checksum of the index block in f. */
static int frame_check(struct dx_path *p, struct dx_frame *f)
{
	uint16_t limit = cl_limit(f->buf, f->off), count = cl_count(f->buf, f->off);
	if (limit != dx_limit(p->fs, f->off) || count == 0 || count > limit)
		return ext4_corrupt(p->fs);
	if (!dx_csum_ok(p->fs, p->ir, f->buf, f->off))
		return ext4_corrupt(p->fs);
	return 0;
}

/* Read and check the root. -EAGAIN: an index we cannot use (unknown hash version). */
static int path_init(struct dx_path *p, struct ext4_fs *fs, struct ext4_iref *ir)
{
	memset(p, 0, sizeof(*p));
	p->fs = fs;
	p->ir = ir;
	if (!(ir->i.i_flags & EXT4_EXTENTS_FL))
		return -EOPNOTSUPP;
	uint64_t nb = ext4_isize(ir) >> fs->log_bs;
	if (nb < 2 || nb > fs->blocks_count || nb > EXT4_MAX_LBLK)
		return ext4_corrupt(fs);
	p->nblocks = (uint32_t)nb;
	p->maxlev = (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_LARGEDIR) ? EXT4_DX_MAX_LEVELS : 2;
	for (unsigned i = 0; i < EXT4_DX_MAX_LEVELS; i++) {
		p->f[i].buf = ext4_balloc(fs);
		if (!p->f[i].buf) {
			path_free(p);
			return -ENOMEM;
		}
	}
	struct dx_frame *f = &p->f[0];
	int r = dblock_read(p, 0, f->buf, &f->pblk);
	if (r < 0)
		goto fail;
	f->lblk = 0;
	f->off = DX_ROOT_ENTRIES_OFF;
	struct ext4_dx_root_info info;
	memcpy(&info, f->buf + DX_ROOT_INFO_OFF, sizeof(info));
	const struct ext4_dirent *dot = (const void *)f->buf, *dd = (const void *)(f->buf + DX_DOT_REC_LEN);
	if (dot->rec_len != DX_DOT_REC_LEN || dot->name_len != 1 || dd->rec_len != fs->bs - DX_DOT_REC_LEN ||
	    dd->name_len != 2 || info.reserved_zero != 0 || info.info_length != DX_INFO_LEN ||
	    info.indirect_levels >= p->maxlev) {
		r = ext4_corrupt(fs);
		goto fail;
	}
	r = frame_check(p, f);
	if (r < 0)
		goto fail;
	p->levels = info.indirect_levels;
	p->version = info.hash_version;
	if (p->version <= EXT4_DX_HASH_TEA && (fs->sb.s_flags & EXT2_FLAGS_UNSIGNED_HASH))
		p->version += EXT4_DX_HASH_LEGACY_UNSIGNED;
	uint32_t h;
	if (ext4_dx_hash("", 0, p->version, fs->sb.s_hash_seed, &h) < 0) {
		r = -EAGAIN;
		goto fail;
	}
	return 0;
fail:
	path_free(p);
	return r;
}

/* Read the index node at lblk into frame f (level >= 1) and check it. */
static int node_read(struct dx_path *p, struct dx_frame *f, uint32_t lblk)
{
	if (lblk == 0)
		return ext4_corrupt(p->fs);
	int r = dblock_read(p, lblk, f->buf, &f->pblk);
	if (r < 0)
		return r;
	f->lblk = lblk;
	f->off = DX_NODE_ENTRIES_OFF;
	const struct ext4_dirent *de = (const void *)f->buf;
	if (de->inode != 0 || de->rec_len != (p->fs->bs & 0xffff) || de->name_len != 0)
		return ext4_corrupt(p->fs);
	return frame_check(p, f);
}

/* The last entry whose hash is <= h (entry 0 covers everything below entry 1's hash). */
static uint32_t node_search(const uint8_t *b, uint32_t off, uint32_t h)
{
	uint32_t lo = 1, hi = cl_count(b, off);        /* answer in [lo - 1, hi - 1] */
	while (lo < hi) {
		uint32_t m = lo + (hi - lo) / 2;
		if (ent_hash(b, off, m) > h)
			hi = m;
		else
			lo = m + 1;
	}
	return lo - 1;
}

/* Descend from the (already read) root for p->hash; frames 0..levels filled, returns the leaf. */
static int path_probe(struct dx_path *p, uint32_t *leaf)
{
	for (unsigned lev = 0;; lev++) {
		struct dx_frame *f = &p->f[lev];
		f->at = node_search(f->buf, f->off, p->hash);
		uint32_t blk = ent_block(f->buf, f->off, f->at);
		if (blk == 0 || blk >= p->nblocks)
			return ext4_corrupt(p->fs);
		if (lev == p->levels) {
			*leaf = blk;
			return 0;
		}
		int r = node_read(p, &p->f[lev + 1], blk);
		if (r < 0)
			return r;
	}
}

/* Step the path to the next leaf in hash order (whatever its hash); 1: *leaf and *hash (with the
 * continuation bit) are its, 0: that was the last leaf. */
static int leaf_step(struct dx_path *p, uint32_t *leaf, uint32_t *hash)
{
	int lev = (int)p->levels;
	while (lev >= 0 && p->f[lev].at + 1 >= cl_count(p->f[lev].buf, p->f[lev].off))
		lev--;
	if (lev < 0)
		return 0;
	p->f[lev].at++;
	*hash = ent_hash(p->f[lev].buf, p->f[lev].off, p->f[lev].at);
	for (; lev < (int)p->levels; lev++) {
		uint32_t blk = ent_block(p->f[lev].buf, p->f[lev].off, p->f[lev].at);
		int r = node_read(p, &p->f[lev + 1], blk);
		if (r < 0)
			return r;
		p->f[lev + 1].at = 0;
	}
	struct dx_frame *f = &p->f[p->levels];
	*leaf = ent_block(f->buf, f->off, f->at);
	if (*leaf == 0 || *leaf >= p->nblocks)
		return ext4_corrupt(p->fs);
	return 1;
}

/*
 * After the leaf of frame `levels` was searched: move to the next leaf if it continues the
 * run of p->hash (ext4_htree_next_block). 1: *leaf is the next one, 0: no more.
 */
static int path_next(struct dx_path *p, uint32_t *leaf)
{
	uint32_t hash;
	int r = leaf_step(p, leaf, &hash);
	if (r <= 0)
		return r;
	return (hash & ~DX_CONTINUED) == p->hash;
}

/* ---- leaves ---- */

/* Read a leaf, check its tail/checksum and every entry; *end: where the entries stop. */
static int leaf_read(struct dx_path *p, uint32_t lblk, uint8_t *buf, uint64_t *pblk, uint32_t *end)
{
	struct ext4_fs *fs = p->fs;
	int r = dblock_read(p, lblk, buf, pblk);
	if (r < 0)
		return r;
	*end = fs->bs;
	if (fs->csum) {
		if (!ext4_csum_known_good(fs, *pblk)) {
			if (!ext4_dirblock_csum_ok(fs, p->ir, buf))
				return ext4_corrupt(fs);
			ext4_csum_mark_good(fs, *pblk);
		}
		*end -= EXT4_DIRENT_TAIL_SIZE;
	} else if (ext4_dirblock_has_tail(fs, buf)) {
		*end -= EXT4_DIRENT_TAIL_SIZE;
	}
	for (uint32_t off = 0; off < *end;) {
		const struct ext4_dirent *de = (const void *)(buf + off);
		if (off + EXT4_DIRENT_HDR > *end || de->rec_len < EXT4_DIR_REC_LEN(1) || (de->rec_len & 3) ||
		    off + de->rec_len > *end || EXT4_DIR_REC_LEN(de->name_len) > de->rec_len ||
		    de->inode > fs->sb.s_inodes_count)
			return ext4_corrupt(fs);
		off += de->rec_len;
	}
	return 0;
}

/* Entries end at `end`: bs, or bs - 12 and a tail (always with metadata_csum, kept without). */
static void leaf_write_prep(struct ext4_fs *fs, struct ext4_iref *ir, uint8_t *buf, uint32_t end)
{
	if (end < fs->bs)
		ext4_dirblock_init_tail(fs, buf);
	ext4_dirblock_csum_set(fs, ir, buf);
}

/* First fit of a new entry in a checked leaf (add_dirent_to_buf). */
static bool leaf_insert(struct ext4_fs *fs, uint8_t *buf, uint32_t end, const char *name, size_t len,
			uint32_t ino, uint8_t ftype)
{
	uint32_t need = EXT4_DIR_REC_LEN(len);
	bool ft = fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_FILETYPE;
	for (uint32_t off = 0; off < end;) {
		struct ext4_dirent *de = (void *)(buf + off);
		uint32_t used = de->inode ? EXT4_DIR_REC_LEN(de->name_len) : 0;
		if (de->rec_len >= used + need) {
			struct ext4_dirent *nd = de;
			uint16_t rl = de->rec_len;
			if (de->inode) {
				nd = (void *)(buf + off + used);
				rl = (uint16_t)(de->rec_len - used);
				de->rec_len = (uint16_t)used;
			}
			nd->inode = ino;
			nd->rec_len = rl;
			nd->name_len = (uint8_t)len;
			nd->file_type = ft ? ftype : 0;
			memcpy(nd->name, name, len);
			return true;
		}
		off += de->rec_len;
	}
	return false;
}

static int leaf_find(const uint8_t *buf, uint32_t end, const char *name, size_t len, uint32_t *off_out,
		     uint32_t *prev_out)
{
	uint32_t prev = UINT32_MAX;
	for (uint32_t off = 0; off < end;) {
		const struct ext4_dirent *de = (const void *)(buf + off);
		if (de->inode && de->name_len == len && memcmp(de->name, name, len) == 0) {
			*off_out = off;
			*prev_out = prev;
			return 0;
		}
		prev = off;
		off += de->rec_len;
	}
	return -ENOENT;
}

int ext4_dx_find(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, struct ext4_dx_hit *hit)
{
	struct dx_path p;
	int r = path_init(&p, fs, dir);
	if (r < 0)
		return r;
	r = ext4_dx_hash(name, len, p.version, fs->sb.s_hash_seed, &p.hash);
	uint32_t leaf;
	if (r == 0)
		r = path_probe(&p, &leaf);
	/* at most every block once: a looping index cannot keep us here */
	uint32_t n = 0;
	for (; r == 0 && n < p.nblocks; n++) {
		uint32_t end;
		r = leaf_read(&p, leaf, hit->blk, &hit->pblk, &end);
		if (r < 0)
			break;
		if (leaf_find(hit->blk, end, name, len, &hit->off, &hit->prev) == 0) {
			hit->lblk = leaf;
			break;
		}
		r = path_next(&p, &leaf);
		r = r == 1 ? 0 : (r == 0 ? -ENOENT : r);
	}
	if (r == 0 && n == p.nblocks)
		r = ext4_corrupt(fs);          /* more leaves in one hash run than the directory has */
	path_free(&p);
	return r;
}

/* ---- splitting ---- */
struct dx_map { uint32_t hash, off; uint16_t size; };

static void map_sort(struct dx_map *m, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct dx_map x = m[i];
		uint32_t j = i;
		while (j > 0 && (m[j - 1].hash > x.hash || (m[j - 1].hash == x.hash && m[j - 1].off > x.off))) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = x;
	}
}

/* Copy the entries of src named by map[from..to) packed into dst (an empty leaf of `end`). */
static void pack_entries(const uint8_t *src, const struct dx_map *map, uint32_t from, uint32_t to,
			 uint8_t *dst, uint32_t end)
{
	uint32_t off = 0, last = UINT32_MAX;
	for (uint32_t i = from; i < to; i++) {
		const struct ext4_dirent *s = (const void *)(src + map[i].off);
		struct ext4_dirent *d = (void *)(dst + off);
		memcpy(d, s, map[i].size);
		d->rec_len = map[i].size;
		last = off;
		off += map[i].size;
	}
	if (last == UINT32_MAX) {
		struct ext4_dirent *d = (void *)dst;
		d->inode = 0;
		d->rec_len = (uint16_t)end;
		d->name_len = 0;
		d->file_type = 0;
	} else {
		((struct ext4_dirent *)(dst + last))->rec_len = (uint16_t)(end - last);
	}
}

/* Insert (hash, blk) right after entry `at` of the index block in f (which has room). */
static void node_insert(struct dx_frame *f, uint32_t hash, uint32_t blk)
{
	uint16_t count = cl_count(f->buf, f->off);
	uint8_t *pos = f->buf + f->off + (f->at + 1) * DX_ENTRY_SIZE;
	memmove(pos + DX_ENTRY_SIZE, pos, (count - f->at - 1) * DX_ENTRY_SIZE);
	ent_set(f->buf, f->off, f->at + 1, hash, blk);
	cl_set_count(f->buf, f->off, (uint16_t)(count + 1));
}

static void node_init(struct ext4_fs *fs, uint8_t *buf)
{
	memset(buf, 0, fs->bs);
	struct ext4_dirent *de = (void *)buf;
	de->rec_len = (uint16_t)(fs->bs & 0xffff);
	cl_set_limit(buf, DX_NODE_ENTRIES_OFF, dx_limit(fs, DX_NODE_ENTRIES_OFF));
}

/*
 * Split the full leaf (in leafbuf, at lblk/pblk) of frame `levels`, whose node has room, and put
 * the new name into the half its hash belongs to. *added: the name is in.
 */
static int split_leaf(struct dx_path *p, uint8_t *leafbuf, uint64_t pblk, uint32_t end, const char *name,
		      size_t len, uint32_t ino, uint8_t ftype, bool *added)
{
	struct ext4_fs *fs = p->fs;
	uint32_t maxn = fs->bs / EXT4_DIR_REC_LEN(1) + 1;
	struct dx_map *map = ext4_malloc(maxn * sizeof(*map));
	uint8_t *lo = ext4_zalloc(fs->bs), *hi = ext4_zalloc(fs->bs);
	int r = -ENOMEM;
	if (!map || !lo || !hi)
		goto out;
	uint32_t n = 0;
	for (uint32_t off = 0; off < end && n < maxn;) {
		const struct ext4_dirent *de = (const void *)(leafbuf + off);
		if (de->inode) {
			r = ext4_dx_hash(de->name, de->name_len, p->version, fs->sb.s_hash_seed, &map[n].hash);
			if (r < 0)
				goto out;
			map[n].off = off;
			map[n].size = (uint16_t)EXT4_DIR_REC_LEN(de->name_len);
			n++;
		}
		off += de->rec_len;
	}
	if (n < 2) {
		r = -ENOSPC;                 /* nothing to split: the name cannot fit in a block */
		goto out;
	}
	map_sort(map, n);
	/* Move the upper half by size: while more than half of the entry lies in the second half. */
	uint32_t size = 0, move = 0;
	for (uint32_t i = n; i-- > 0;) {
		if (size + map[i].size / 2 > fs->bs / 2)
			break;
		size += map[i].size;
		move++;
	}
	if (move == 0)
		move = 1;
	if (move == n)
		move = n - 1;
	uint32_t split = n - move;
	uint32_t hash2 = map[split].hash;
	uint32_t continued = hash2 == map[split - 1].hash ? DX_CONTINUED : 0;
	/* The old block keeps its entries in their original order, packed: sort them back by offset. */
	for (uint32_t i = 1; i < split; i++) {
		struct dx_map x = map[i];
		uint32_t j = i;
		while (j > 0 && map[j - 1].off > x.off) {
			map[j] = map[j - 1];
			j--;
		}
		map[j] = x;
	}
	pack_entries(leafbuf, map, 0, split, lo, end);
	pack_entries(leafbuf, map, split, n, hi, end);
	uint8_t *target = p->hash >= hash2 ? hi : lo;
	*added = leaf_insert(fs, target, end, name, len, ino, ftype);
	leaf_write_prep(fs, p->ir, lo, end);
	leaf_write_prep(fs, p->ir, hi, end);
	uint32_t nlblk;
	uint64_t npblk;
	r = dblock_append(p, hi, &nlblk, &npblk);
	if (r == 0)
		r = ext4_bwrite(fs, pblk, lo);
	if (r == 0) {
		struct dx_frame *f = &p->f[p->levels];
		node_insert(f, hash2 | continued, nlblk);
		r = dx_write(p, f);
	}
out:
	ext4_free(map);
	ext4_free(lo);
	ext4_free(hi);
	return r;
}

/* A new index node holding the count entries at src (the first one's hash slot, which a node's
 * count/limit header takes, aside), appended to the directory; *nlblk: its logical block. */
static int node_append(struct dx_path *p, const uint8_t *src, uint16_t count, uint32_t *nlblk)
{
	struct ext4_fs *fs = p->fs;
	uint8_t *nb = ext4_balloc(fs);
	if (!nb)
		return -ENOMEM;
	node_init(fs, nb);
	memcpy(nb + DX_NODE_ENTRIES_OFF + 4, src + 4, count * DX_ENTRY_SIZE - 4);
	cl_set_count(nb, DX_NODE_ENTRIES_OFF, count);
	dx_csum_set(fs, p->ir, nb, DX_NODE_ENTRIES_OFF);
	uint64_t npblk;
	int r = dblock_append(p, nb, nlblk, &npblk);
	ext4_bfree(fs, nb);
	return r;
}

/* The root and every node down to frame `levels` are full: push the root's entries one level down. */
static int add_level(struct dx_path *p)
{
	if (p->levels + 1 >= p->maxlev)
		return -ENOSPC;              /* "Directory index full" */
	struct dx_frame *root = &p->f[0];
	uint32_t nlblk;
	int r = node_append(p, root->buf + root->off, cl_count(root->buf, root->off), &nlblk);
	if (r < 0)
		return r;
	cl_set_count(root->buf, root->off, 1);
	ent_set(root->buf, root->off, 0, 0, nlblk);
	struct ext4_dx_root_info info;
	memcpy(&info, root->buf + DX_ROOT_INFO_OFF, sizeof(info));
	info.indirect_levels++;
	memcpy(root->buf + DX_ROOT_INFO_OFF, &info, sizeof(info));
	return dx_write(p, root);
}

/* Split the full index node of frame k (k >= 1); frame k - 1 has room. */
static int split_node(struct dx_path *p, unsigned k)
{
	struct dx_frame *f = &p->f[k];
	uint16_t count = cl_count(f->buf, f->off);
	uint16_t c1 = count / 2, c2 = (uint16_t)(count - c1);
	uint32_t hash2 = ent_hash(f->buf, f->off, c1);
	uint32_t nlblk;
	int r = node_append(p, f->buf + f->off + c1 * DX_ENTRY_SIZE, c2, &nlblk);
	if (r < 0)
		return r;
	cl_set_count(f->buf, f->off, c1);
	r = dx_write(p, f);
	if (r < 0)
		return r;
	node_insert(&p->f[k - 1], hash2, nlblk);
	return dx_write(p, &p->f[k - 1]);
}

int ext4_dx_add(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t ino, uint8_t ftype)
{
	struct dx_path p;
	int r = path_init(&p, fs, dir);
	if (r < 0)
		return r;
	uint8_t *leaf = ext4_balloc(fs);
	if (!leaf) {
		path_free(&p);
		return -ENOMEM;
	}
	r = ext4_dx_hash(name, len, p.version, fs->sb.s_hash_seed, &p.hash);
	for (int tries = 0; r == 0; tries++) {
		if (tries == DX_MAX_RESTARTS) {
			r = -ENOSPC;             /* no split made room (not expected: each half has room for a name) */
			break;
		}
		if (tries) {
			/* the index changed: read the root again */
			uint32_t h = p.hash;
			path_free(&p);
			r = path_init(&p, fs, dir);
			if (r < 0)
				break;
			p.hash = h;
		}
		uint32_t lblk, end;
		uint64_t pblk;
		r = path_probe(&p, &lblk);
		if (r == 0)
			r = leaf_read(&p, lblk, leaf, &pblk, &end);
		if (r < 0)
			break;
		if (leaf_insert(fs, leaf, end, name, len, ino, ftype)) {
			if (end < fs->bs)
				ext4_dirblock_init_tail(fs, leaf);
			r = ext4_dirblock_write(fs, dir, pblk, leaf);
			break;
		}
		/* The leaf is full. Room for one more entry in the nodes on the way down? */
		unsigned k = p.levels + 1;
		while (k > 0 && cl_count(p.f[k - 1].buf, p.f[k - 1].off) == cl_limit(p.f[k - 1].buf, p.f[k - 1].off))
			k--;
		if (k == p.levels + 1) {
			bool added = false;
			r = split_leaf(&p, leaf, pblk, end, name, len, ino, ftype, &added);
			if (r < 0 || added)
				break;
			continue;
		}
		/* nodes k..levels are full: split node k into its parent, or grow the tree at the root */
		r = k == 0 ? add_level(&p) : split_node(&p, k);
	}
	ext4_bfree(fs, leaf);
	path_free(&p);
	return r;
}

/* A one-block linear directory that is full becomes indexed (make_indexed_dir); then the insert. */
int ext4_dx_make_indexed(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t ino,
			 uint8_t ftype)
{
	if (!(fs->sb.s_feature_compat & COMPAT_DIR_INDEX) || (dir->i.i_flags & EXT4_INDEX_FL) ||
	    !(dir->i.i_flags & EXT4_EXTENTS_FL) || ext4_isize(dir) != fs->bs)
		return -EAGAIN;
	uint32_t h;
	if (ext4_dx_hash("", 0, fs->sb.s_def_hash_version, fs->sb.s_hash_seed, &h) < 0)
		return -EAGAIN;              /* a default hash we cannot compute */
	struct dx_path p;
	memset(&p, 0, sizeof(p));
	p.fs = fs;
	p.ir = dir;
	p.nblocks = 1;
	uint8_t *root = ext4_balloc(fs), *b1 = ext4_zalloc(fs->bs);
	int r = -ENOMEM;
	if (!root || !b1)
		goto out;
	uint64_t rpblk;
	uint32_t end;
	r = leaf_read(&p, 0, root, &rpblk, &end);
	if (r < 0)
		goto out;
	const struct ext4_dirent *dot = (const void *)root, *dd = (const void *)(root + DX_DOT_REC_LEN);
	if (dot->rec_len != DX_DOT_REC_LEN || dot->name_len != 1 || dot->name[0] != '.' ||
	    dd->name_len != 2 || dd->name[0] != '.' || dd->name[1] != '.') {
		r = -EAGAIN;                 /* not the usual "." and "..": stay linear */
		goto out;
	}
	/* Entries after ".." move to block 1, the last one stretched to the end. */
	uint32_t bend = fs->csum ? fs->bs - EXT4_DIRENT_TAIL_SIZE : fs->bs;
	uint32_t moved = 0, last = UINT32_MAX;
	{
		/* ".." may itself hold free space before the next entry: copy entry by entry */
		uint32_t off = DX_DOT_REC_LEN;
		const struct ext4_dirent *de = (const void *)(root + off);
		off += de->rec_len;
		while (off < end) {
			de = (const void *)(root + off);
			if (de->inode) {
				uint32_t sz = EXT4_DIR_REC_LEN(de->name_len);
				memcpy(b1 + moved, de, sz);
				((struct ext4_dirent *)(b1 + moved))->rec_len = (uint16_t)sz;
				last = moved;
				moved += sz;
			}
			off += de->rec_len;
		}
	}
	if (last == UINT32_MAX)
		((struct ext4_dirent *)b1)->rec_len = (uint16_t)bend;
	else
		((struct ext4_dirent *)(b1 + last))->rec_len = (uint16_t)(bend - last);
	leaf_write_prep(fs, dir, b1, bend);
	uint32_t lblk1;
	uint64_t pblk1;
	r = dblock_append(&p, b1, &lblk1, &pblk1);
	if (r < 0)
		goto out;
	/* Block 0 becomes the root. */
	memset(root + DX_DOT_REC_LEN + EXT4_DIR_REC_LEN(2), 0, fs->bs - DX_DOT_REC_LEN - EXT4_DIR_REC_LEN(2));
	((struct ext4_dirent *)(root + DX_DOT_REC_LEN))->rec_len = (uint16_t)(fs->bs - DX_DOT_REC_LEN);
	struct ext4_dx_root_info info = { 0, fs->sb.s_def_hash_version, DX_INFO_LEN, 0, 0 };
	memcpy(root + DX_ROOT_INFO_OFF, &info, sizeof(info));
	cl_set_limit(root, DX_ROOT_ENTRIES_OFF, dx_limit(fs, DX_ROOT_ENTRIES_OFF));
	cl_set_count(root, DX_ROOT_ENTRIES_OFF, 1);
	ent_set(root, DX_ROOT_ENTRIES_OFF, 0, 0, lblk1);
	dx_csum_set(fs, dir, root, DX_ROOT_ENTRIES_OFF);
	r = ext4_bwrite(fs, rpblk, root);
	if (r < 0)
		goto out;
	dir->i.i_flags |= EXT4_INDEX_FL;
	r = ext4_dx_add(fs, dir, name, len, ino, ftype);
out:
	ext4_bfree(fs, root);
	ext4_free(b1);
	return r;
}

/*
 * ---- readdir in hash order (Linux's ext4_dx_readdir) ----
 *
 * The cookie of a name is its hash position, not a byte offset: leaf splits move entries to new
 * blocks and pack the old one, so a reader holding a byte offset would see a moved name twice or
 * skip one that slid below its offset. Positions: "." 0, ".." 1, a name 2 + (major hash >> 1 <<
 * 31 | minor hash >> 1) (below DX_POS_EOF, which ends the directory; Linux: hash2pos and
 * EXT4_HTREE_EOF_64BIT). A call resumes at the leaf whose range holds the cookie's major hash and
 * returns names in position order: a group of leaves (a leaf and those continuing its last hash)
 * is read, its names at or after the cookie sorted by position, then the next group. So a name
 * that stays in the directory while it is read is returned exactly once, whatever splits happen
 * between the calls, unless two names share a whole position (then the second may come twice,
 * never be skipped).
 */
#define DX_POS_DOTDOT 1
#define DX_POS_FIRST 2
#define DX_POS_EOF 0x7fffffffffffffffull

struct dx_rent { uint64_t pos; uint32_t ino, name; uint8_t len, ftype; };

struct dx_group {
	struct dx_rent *e;
	uint32_t n, cap;
	char *names;
	uint32_t used, names_cap;
};

static uint64_t dx_pos(uint32_t major, uint32_t minor)
{
	return DX_POS_FIRST + (((uint64_t)(major >> 1) << 31) | (minor >> 1));
}

static int group_add(struct dx_group *g, uint64_t pos, const struct ext4_dirent *de)
{
	if (g->n == g->cap) {
		uint32_t cap = g->cap ? g->cap * 2 : 64;
		struct dx_rent *e = ext4_malloc(cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		if (g->e)
			memcpy(e, g->e, g->n * sizeof(*e));
		ext4_free(g->e);
		g->e = e;
		g->cap = cap;
	}
	if (g->used + de->name_len > g->names_cap) {
		uint32_t cap = g->names_cap ? g->names_cap * 2 : 4096;
		while (cap < g->used + de->name_len)
			cap *= 2;
		char *nm = ext4_malloc(cap);
		if (!nm)
			return -ENOMEM;
		if (g->names)
			memcpy(nm, g->names, g->used);
		ext4_free(g->names);
		g->names = nm;
		g->names_cap = cap;
	}
	memcpy(g->names + g->used, de->name, de->name_len);
	g->e[g->n++] = (struct dx_rent){ pos, de->inode, g->used, de->name_len, de->file_type };
	g->used += de->name_len;
	return 0;
}

/* The live names of the leaf in buf at positions >= from. */
static int group_leaf(struct dx_path *p, struct dx_group *g, const uint8_t *buf, uint32_t end, uint64_t from)
{
	for (uint32_t off = 0; off < end;) {
		const struct ext4_dirent *de = (const void *)(buf + off);
		off += de->rec_len;
		if (!de->inode || !de->name_len)
			continue;
		uint32_t major, minor;
		int r = ext4_dx_hash2(de->name, de->name_len, p->version, p->fs->sb.s_hash_seed, &major, &minor);
		if (r < 0)
			return r;
		uint64_t pos = dx_pos(major, minor);
		if (pos >= from && (r = group_add(g, pos, de)) < 0)
			return r;
	}
	return 0;
}

static void group_sort(struct dx_group *g)
{
	for (uint32_t i = 1; i < g->n; i++) {
		struct dx_rent x = g->e[i];
		uint32_t j = i;
		while (j > 0 && g->e[j - 1].pos > x.pos) {
			g->e[j] = g->e[j - 1];
			j--;
		}
		g->e[j] = x;
	}
}

/* Hand the sorted group to fn; 1 when fn stopped. `after`: where the next group starts. */
static int group_emit(struct dx_group *g, uint64_t *cookie, uint64_t after, ext4_filldir_t fn, void *arg)
{
	for (uint32_t i = 0; i < g->n; i++) {
		struct dx_rent *e = &g->e[i];
		uint64_t next = e->pos + 1;
		if (i + 1 < g->n && g->e[i + 1].pos == e->pos)
			next = e->pos;                   /* a shared position: may repeat, never skip */
		else if (i + 1 == g->n && after > next)
			next = after;
		if (fn(arg, g->names + e->name, e->len, e->ino, ext4_ftype_to_dt(e->ftype), next))
			return 1;
		*cookie = next;
	}
	return 0;
}

int ext4_dx_readdir(struct ext4_fs *fs, struct ext4_iref *dir, uint64_t *cookie, ext4_filldir_t fn, void *arg)
{
	struct dx_path p;
	int r = path_init(&p, fs, dir);
	if (r < 0)
		return r;
	if (*cookie == 0) {
		if (fn(arg, ".", 1, dir->ino, EXT4_DT_DIR, DX_POS_DOTDOT))
			goto out;
		*cookie = DX_POS_DOTDOT;
	}
	if (*cookie == DX_POS_DOTDOT) {
		const struct ext4_dirent *dd = (const void *)(p.f[0].buf + DX_DOT_REC_LEN);
		if (fn(arg, "..", 2, dd->inode, EXT4_DT_DIR, DX_POS_FIRST))
			goto out;
		*cookie = DX_POS_FIRST;
	}
	if (*cookie >= DX_POS_EOF)
		goto out;
	struct dx_group g = { 0 };
	uint8_t *leaf = ext4_balloc(fs);
	r = -ENOMEM;
	if (!leaf)
		goto done;
	uint64_t from = *cookie;
	p.hash = (uint32_t)((from - DX_POS_FIRST) >> 31) << 1;
	uint32_t lblk = 0, next_lblk = 0, next_hash = 0;
	r = path_probe(&p, &lblk);
	int more = 1;
	while (r == 0 && more == 1) {
		/* one group: this leaf and every following one that continues its last hash */
		g.n = g.used = 0;
		for (;;) {
			uint32_t end;
			uint64_t pblk;
			if ((r = leaf_read(&p, lblk, leaf, &pblk, &end)) < 0 ||
			    (r = group_leaf(&p, &g, leaf, end, from)) < 0)
				goto done;
			more = leaf_step(&p, &next_lblk, &next_hash);
			if (more < 0) {
				r = more;
				goto done;
			}
			lblk = next_lblk;
			if (more == 0 || !(next_hash & DX_CONTINUED))
				break;
		}
		group_sort(&g);
		uint64_t after = more ? dx_pos(next_hash & ~DX_CONTINUED, 0) : DX_POS_EOF;
		if (group_emit(&g, cookie, after, fn, arg))
			goto done;
		*cookie = after;
	}
done:
	ext4_free(g.e);
	ext4_free(g.names);
	ext4_bfree(fs, leaf);
out:
	path_free(&p);
	return r;
}
