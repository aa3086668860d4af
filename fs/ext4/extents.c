/*
 * Extent trees. The root is the inode's i_block (a 12-byte header and up to 4 entries); deeper
 * nodes are whole blocks (header, (bs-12)/12 entries, crc32c tail). Index entries point to nodes
 * one level down and carry the first logical block of that node (e2fsck insists they are equal);
 * leaf entries map up to 32768 blocks (more, minus 32768, means "unwritten": reads as zeros).
 *
 * Insertion is top-down with pre-emptive splits, as in a textbook B-tree: a full root first grows
 * the tree by one level (its entries move into a new block), and a full child is split before we
 * descend into it, so the node we stand on always has room for one more index entry. When the
 * new extent only continues the previous one on disk, it is merged instead (sequential writes
 * build one extent per 32768 blocks). Appends split a full node 'all but the last entry left'
 * so that trees grown by appending stay nearly full.
 *
 * Unwritten extents (fallocate's, or Linux's) are allocated blocks that read as zeros. A write into
 * one marks its blocks written (ext4_ext_mark_written): the extent is cut in place down to its
 * first piece, which keeps the extent's first block and with it every index key above, and the
 * other pieces (at most two) are inserted into the hole that leaves. An error between the two
 * steps (ENOSPC for a new tree node) leaves blocks allocated but unmapped, as e2fsck would find
 * them; the data written is never exposed wrongly.
 *
 * Every node read from disk is checked (magic, entries <= max, max fits the node, depth exactly
 * one less than its parent's, checksum) before it is used; depth strictly decreases, so a
 * corrupted tree cannot make us loop.
 */
#include "fs/ext4/ext4_fs.h"

#define EXT_ENTRY 12u

static struct ext4_extent_header *root_hdr(struct ext4_iref *ir)
{
	return (struct ext4_extent_header *)ir->i.i_block;
}

static uint8_t *ent(struct ext4_extent_header *h, uint32_t i)
{
	return (uint8_t *)(h + 1) + EXT_ENTRY * i;
}

static uint32_t key(struct ext4_extent_header *h, uint32_t i)
{
	uint32_t k;
	memcpy(&k, ent(h, i), 4);
	return k;
}

static void set_key(struct ext4_extent_header *h, uint32_t i, uint32_t k)
{
	memcpy(ent(h, i), &k, 4);
}

static struct ext4_extent *ext_at(struct ext4_extent_header *h, uint32_t i) { return (struct ext4_extent *)ent(h, i); }
static struct ext4_extent_idx *idx_at(struct ext4_extent_header *h, uint32_t i) { return (struct ext4_extent_idx *)ent(h, i); }
static uint64_t ext_pblk(const struct ext4_extent *e) { return e->ee_start_lo | (uint64_t)e->ee_start_hi << 32; }
static uint32_t ext_len(const struct ext4_extent *e) { return e->ee_len > EXT4_EXT_INIT_MAX_LEN ? e->ee_len - EXT4_EXT_INIT_MAX_LEN : e->ee_len; }
static bool ext_unwritten(const struct ext4_extent *e) { return e->ee_len > EXT4_EXT_INIT_MAX_LEN; }
static uint64_t idx_pblk(const struct ext4_extent_idx *ix) { return ix->ei_leaf_lo | (uint64_t)ix->ei_leaf_hi << 32; }

static void set_ext(struct ext4_extent *e, uint32_t lblk, uint64_t pblk, uint32_t len)
{
	e->ee_block = lblk;
	e->ee_len = (uint16_t)len;
	e->ee_start_hi = (uint16_t)(pblk >> 32);
	e->ee_start_lo = (uint32_t)pblk;
}

static void set_idx(struct ext4_extent_idx *ix, uint32_t lblk, uint64_t pblk)
{
	ix->ei_block = lblk;
	ix->ei_leaf_lo = (uint32_t)pblk;
	ix->ei_leaf_hi = (uint16_t)(pblk >> 32);
	ix->ei_unused = 0;
}

static uint16_t block_max(struct ext4_fs *fs)
{
	return (uint16_t)((fs->bs - sizeof(struct ext4_extent_header)) / EXT_ENTRY);
}

static bool node_ok(struct ext4_extent_header *h, uint32_t size, int depth)
{
	uint32_t cap = (size - sizeof(*h)) / EXT_ENTRY;
	return h->eh_magic == EXT4_EXT_MAGIC && h->eh_max > 0 && h->eh_max <= cap &&
	       h->eh_entries <= h->eh_max && h->eh_depth <= EXT4_EXT_MAX_DEPTH &&
	       (depth < 0 || h->eh_depth == depth);
}

static bool pblk_ok(struct ext4_fs *fs, uint64_t pblk, uint64_t len)
{
	return pblk > fs->first_data_block + fs->gdt_blocks && pblk < fs->blocks_count &&
	       len <= fs->blocks_count - pblk;
}

int ext4_ext_check_root(struct ext4_fs *fs, struct ext4_iref *ir)
{
	return node_ok(root_hdr(ir), EXT4_INLINE_SIZE, -1) ? 0 : ext4_corrupt(fs);
}

void ext4_ext_init_root(struct ext4_iref *ir)
{
	struct ext4_extent_header *h = root_hdr(ir);
	memset(ir->i.i_block, 0, sizeof(ir->i.i_block));
	h->eh_magic = EXT4_EXT_MAGIC;
	h->eh_max = (EXT4_INLINE_SIZE - sizeof(*h)) / EXT_ENTRY;
	h->eh_entries = 0;
	h->eh_depth = 0;
}

static int read_node(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t pblk, int depth, uint8_t *buf)
{
	if (!pblk_ok(fs, pblk, 1))
		return ext4_corrupt(fs);
	int r = ext4_bread(fs, pblk, buf);
	if (r < 0)
		return r;
	if (!node_ok((struct ext4_extent_header *)buf, fs->bs, depth))
		return ext4_corrupt(fs);
	if (!ext4_csum_known_good(fs, pblk)) {
		if (!ext4_extent_csum_ok(fs, ir, buf))
			return ext4_corrupt(fs);
		ext4_csum_mark_good(fs, pblk);
	}
	return 0;
}

static int write_node(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t pblk, uint8_t *buf)
{
	ext4_extent_csum_set(fs, ir, buf);
	return ext4_bwrite(fs, pblk, buf);
}

/* Index of the last entry whose key <= lblk; -1 when lblk is before the first. */
static int find(struct ext4_extent_header *h, uint32_t lblk)
{
	int lo = 0, hi = (int)h->eh_entries - 1, ans = -1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (key(h, (uint32_t)mid) <= lblk) {
			ans = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return ans;
}

int ext4_ext_map(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk, uint64_t *pblk, uint32_t *run,
		 bool *unwritten)
{
	struct ext4_extent_header *h = root_hdr(ir);
	*pblk = 0;
	*run = 1;
	*unwritten = false;
	if (!node_ok(h, EXT4_INLINE_SIZE, -1))
		return ext4_corrupt(fs);
	uint8_t *buf = NULL;
	int r = 0;
	uint64_t bound = (uint64_t)EXT4_MAX_LBLK + 1;   /* where the subtree we are in ends */
	while (h->eh_depth > 0) {
		int i = find(h, lblk);
		if (i < 0) {
			if (h->eh_entries)
				*run = key(h, 0) - lblk;
			goto out;
		}
		if ((uint32_t)(i + 1) < h->eh_entries)
			bound = key(h, (uint32_t)(i + 1));
		if (!buf && !(buf = ext4_balloc(fs)))
			return -ENOMEM;
		r = read_node(fs, ir, idx_pblk(idx_at(h, (uint32_t)i)), h->eh_depth - 1, buf);
		if (r < 0)
			goto out;
		h = (struct ext4_extent_header *)buf;
	}
	int i = find(h, lblk);
	if (i >= 0) {
		struct ext4_extent *e = ext_at(h, (uint32_t)i);
		uint32_t len = ext_len(e);
		if (lblk - e->ee_block < len) {
			if (!pblk_ok(fs, ext_pblk(e), len)) {
				r = ext4_corrupt(fs);
				goto out;
			}
			*pblk = ext_pblk(e) + (lblk - e->ee_block);
			*run = len - (lblk - e->ee_block);
			*unwritten = ext_unwritten(e);
			goto out;
		}
	}
	if ((uint32_t)(i + 1) < h->eh_entries && key(h, (uint32_t)(i + 1)) > lblk)
		*run = key(h, (uint32_t)(i + 1)) - lblk;
	else if ((uint32_t)(i + 1) >= h->eh_entries && bound > lblk)
		*run = (uint32_t)(bound - lblk > UINT32_MAX ? UINT32_MAX : bound - lblk);   /* to the subtree's end */
out:
	ext4_bfree(fs, buf);
	return r;
}

/* Extend the extent that ends just before (lblk, pblk), if there is one. 1: nothing merged. */
static int try_merge(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk, uint64_t pblk, uint32_t len,
		     uint8_t *buf)
{
	if (lblk == 0)
		return 1;
	struct ext4_extent_header *h = root_hdr(ir);
	uint64_t nodeblk = 0;
	while (h->eh_depth > 0) {
		int i = find(h, lblk - 1);
		if (i < 0)
			return 1;
		nodeblk = idx_pblk(idx_at(h, (uint32_t)i));
		int r = read_node(fs, ir, nodeblk, h->eh_depth - 1, buf);
		if (r < 0)
			return r;
		h = (struct ext4_extent_header *)buf;
	}
	int i = find(h, lblk - 1);
	if (i < 0)
		return 1;
	struct ext4_extent *e = ext_at(h, (uint32_t)i);
	if (ext_unwritten(e) || e->ee_block + ext_len(e) != lblk || ext_pblk(e) + ext_len(e) != pblk ||
	    ext_len(e) + len > EXT4_EXT_INIT_MAX_LEN)
		return 1;
	e->ee_len = (uint16_t)(ext_len(e) + len);
	return nodeblk ? write_node(fs, ir, nodeblk, buf) : 0;
}

static int alloc_node(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t goal, uint64_t *nb)
{
	uint32_t got;
	int r = ext4_alloc_blocks(fs, goal, 1, nb, &got);
	if (r == 0)
		ext4_iblocks_add(fs, ir, 1);
	return r;
}

/* Move the full root into a new block; the root becomes one index entry pointing at it. */
static int grow(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t goal, uint8_t *buf)
{
	struct ext4_extent_header *h = root_hdr(ir);
	if (h->eh_depth >= EXT4_EXT_MAX_DEPTH)
		return -EFBIG;
	uint64_t nb;
	int r = alloc_node(fs, ir, goal, &nb);
	if (r < 0)
		return r;
	memset(buf, 0, fs->bs);
	memcpy(buf, h, sizeof(*h) + EXT_ENTRY * h->eh_entries);
	((struct ext4_extent_header *)buf)->eh_max = block_max(fs);
	r = write_node(fs, ir, nb, buf);
	if (r < 0)
		return r;
	uint32_t first = h->eh_entries ? key(h, 0) : 0;
	h->eh_depth++;
	h->eh_entries = 1;
	set_idx(idx_at(h, 0), first, nb);
	return 0;
}

/* Split the full node in child (block cblk): its upper part moves to a new block. */
static int split(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t cblk, uint8_t *child, uint32_t lblk,
		 uint8_t *tmp, uint32_t *sibkey, uint64_t *sibblk)
{
	struct ext4_extent_header *ch = (struct ext4_extent_header *)child;
	uint32_t n = ch->eh_entries;
	uint32_t nleft = lblk > key(ch, n - 1) ? n - 1 : n / 2;
	int r = alloc_node(fs, ir, cblk + 1, sibblk);
	if (r < 0)
		return r;
	memset(tmp, 0, fs->bs);
	struct ext4_extent_header *sh = (struct ext4_extent_header *)tmp;
	sh->eh_magic = EXT4_EXT_MAGIC;
	sh->eh_max = block_max(fs);
	sh->eh_depth = ch->eh_depth;
	sh->eh_entries = (uint16_t)(n - nleft);
	memcpy(ent(sh, 0), ent(ch, nleft), EXT_ENTRY * (n - nleft));
	ch->eh_entries = (uint16_t)nleft;
	memset(ent(ch, nleft), 0, EXT_ENTRY * (n - nleft));
	*sibkey = key(sh, 0);
	r = write_node(fs, ir, *sibblk, tmp);
	if (r == 0)
		r = write_node(fs, ir, cblk, child);
	return r;
}

static void insert_entry(struct ext4_extent_header *h, uint32_t pos)
{
	memmove(ent(h, pos + 1), ent(h, pos), EXT_ENTRY * (h->eh_entries - pos));
	h->eh_entries++;
}

int ext4_ext_insert(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk, uint64_t pblk, uint32_t len)
{
	return ext4_ext_insert_flags(fs, ir, lblk, pblk, len, false);
}

int ext4_ext_insert_flags(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk, uint64_t pblk, uint32_t len,
			  bool unwritten)
{
	if (len == 0 || len > (unwritten ? EXT4_EXT_UNWRITTEN_MAX_LEN : EXT4_EXT_INIT_MAX_LEN))
		return -EINVAL;
	struct ext4_extent_header *h = root_hdr(ir);
	if (!node_ok(h, EXT4_INLINE_SIZE, -1))
		return ext4_corrupt(fs);
	uint8_t *cur = ext4_balloc(fs), *child = ext4_balloc(fs), *tmp = ext4_balloc(fs);
	int r = -ENOMEM;
	if (!cur || !child || !tmp)
		goto out;
	r = unwritten ? 1 : try_merge(fs, ir, lblk, pblk, len, cur);
	if (r <= 0)
		goto out;
	if (h->eh_entries >= h->eh_max) {
		r = grow(fs, ir, pblk, tmp);
		if (r < 0)
			goto out;
	}
	uint64_t curblk = 0;                 /* 0: h is the root in the inode */
	while (h->eh_depth > 0) {
		int i = find(h, lblk);
		if (i < 0) {
			i = 0;
			set_key(h, 0, lblk);     /* the subtree's first block becomes lblk */
		}
		uint64_t cblk = idx_pblk(idx_at(h, (uint32_t)i));
		r = read_node(fs, ir, cblk, h->eh_depth - 1, child);
		if (r < 0)
			goto out;
		struct ext4_extent_header *ch = (struct ext4_extent_header *)child;
		if (ch->eh_entries >= ch->eh_max) {
			uint32_t sk;
			uint64_t sb;
			r = split(fs, ir, cblk, child, lblk, tmp, &sk, &sb);
			if (r < 0)
				goto out;
			insert_entry(h, (uint32_t)i + 1);
			set_idx(idx_at(h, (uint32_t)i + 1), sk, sb);
			if (lblk >= sk) {
				cblk = sb;
				memcpy(child, tmp, fs->bs);
			}
		}
		if (curblk) {
			r = write_node(fs, ir, curblk, cur);
			if (r < 0)
				goto out;
		}
		uint8_t *t = cur;
		cur = child;
		child = t;
		curblk = cblk;
		h = (struct ext4_extent_header *)cur;
	}
	int i = find(h, lblk);
	uint32_t pos = (uint32_t)(i + 1);
	if (i >= 0) {
		struct ext4_extent *e = ext_at(h, (uint32_t)i);
		if (lblk < e->ee_block + ext_len(e)) {
			r = ext4_corrupt(fs);     /* overlaps: the caller only fills holes */
			goto out;
		}
	}
	if (pos < h->eh_entries && lblk + len > key(h, pos)) {
		r = ext4_corrupt(fs);
		goto out;
	}
	insert_entry(h, pos);
	set_ext(ext_at(h, pos), lblk, pblk, len);
	if (unwritten)
		ext_at(h, pos)->ee_len = (uint16_t)(len + EXT4_EXT_INIT_MAX_LEN);
	r = curblk ? write_node(fs, ir, curblk, cur) : 0;
out:
	ext4_bfree(fs, cur);
	ext4_bfree(fs, child);
	ext4_bfree(fs, tmp);
	return r;
}

int ext4_ext_mark_written(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk, uint32_t n)
{
	struct ext4_extent_header *h = root_hdr(ir);
	if (n == 0 || !node_ok(h, EXT4_INLINE_SIZE, -1))
		return n ? ext4_corrupt(fs) : -EINVAL;
	uint8_t *buf = ext4_balloc(fs);
	if (!buf)
		return -ENOMEM;
	uint64_t nodeblk = 0;                /* 0: the leaf is the root in the inode */
	int r = 0;
	while (h->eh_depth > 0) {
		int i = find(h, lblk);
		if (i < 0) {
			r = ext4_corrupt(fs);
			goto out;
		}
		nodeblk = idx_pblk(idx_at(h, (uint32_t)i));
		if ((r = read_node(fs, ir, nodeblk, h->eh_depth - 1, buf)) < 0)
			goto out;
		h = (struct ext4_extent_header *)buf;
	}
	int i = find(h, lblk);
	struct ext4_extent *e = i >= 0 ? ext_at(h, (uint32_t)i) : NULL;
	if (!e || !ext_unwritten(e) || lblk + n < lblk || lblk + n > e->ee_block + ext_len(e) ||
	    lblk < e->ee_block) {
		r = ext4_corrupt(fs);        /* the caller found [lblk, lblk+n) inside one unwritten extent */
		goto out;
	}
	uint32_t start = e->ee_block, end = e->ee_block + ext_len(e);
	uint64_t p = ext_pblk(e);
	/* the first piece stays in place: unwritten [start, lblk), or the written [lblk, lblk+n) */
	if (lblk > start)
		e->ee_len = (uint16_t)(lblk - start + EXT4_EXT_INIT_MAX_LEN);
	else
		e->ee_len = (uint16_t)n;
	if (nodeblk && (r = write_node(fs, ir, nodeblk, buf)) < 0)
		goto out;
	if (lblk > start && (r = ext4_ext_insert_flags(fs, ir, lblk, p + (lblk - start), n, false)) < 0)
		goto out;
	if (lblk + n < end)
		r = ext4_ext_insert_flags(fs, ir, lblk + n, p + (lblk + n - start), end - lblk - n, true);
out:
	ext4_bfree(fs, buf);
	return r;
}

/* Remove every mapping at or after `from` below node h, freeing data and emptied nodes. */
static int trunc_node(struct ext4_fs *fs, struct ext4_iref *ir, struct ext4_extent_header *h, uint32_t from)
{
	int r = 0;
	if (h->eh_depth == 0) {
		while (h->eh_entries > 0) {
			struct ext4_extent *e = ext_at(h, h->eh_entries - 1u);
			uint32_t start = e->ee_block, len = ext_len(e);
			if (start + len <= from)
				break;
			uint32_t keep = start >= from ? 0 : from - start;
			if (!pblk_ok(fs, ext_pblk(e), len))
				return ext4_corrupt(fs);
			r = ext4_free_blocks(fs, ext_pblk(e) + keep, len - keep);
			if (r < 0)
				return r;
			ext4_iblocks_add(fs, ir, -(int64_t)(len - keep));
			if (keep) {
				e->ee_len = (uint16_t)(ext_unwritten(e) ? keep + EXT4_EXT_INIT_MAX_LEN : keep);
				break;
			}
			memset(e, 0, sizeof(*e));
			h->eh_entries--;
		}
		return 0;
	}
	uint8_t *buf = ext4_balloc(fs);
	if (!buf)
		return -ENOMEM;
	while (h->eh_entries > 0) {
		struct ext4_extent_idx *ix = idx_at(h, h->eh_entries - 1u);
		uint64_t cblk = idx_pblk(ix);
		r = read_node(fs, ir, cblk, h->eh_depth - 1, buf);
		if (r < 0)
			break;
		struct ext4_extent_header *ch = (struct ext4_extent_header *)buf;
		r = trunc_node(fs, ir, ch, from);
		if (r < 0)
			break;
		if (ch->eh_entries) {
			r = write_node(fs, ir, cblk, buf);
			break;
		}
		r = ext4_free_blocks(fs, cblk, 1);
		if (r < 0)
			break;
		ext4_iblocks_add(fs, ir, -1);
		memset(ix, 0, sizeof(*ix));
		h->eh_entries--;
	}
	ext4_bfree(fs, buf);
	return r;
}

int ext4_ext_truncate(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t from)
{
	struct ext4_extent_header *h = root_hdr(ir);
	if (!node_ok(h, EXT4_INLINE_SIZE, -1))
		return ext4_corrupt(fs);
	int r = trunc_node(fs, ir, h, from);
	if (h->eh_entries == 0 && h->eh_depth > 0)
		h->eh_depth = 0;
	return r;
}

/*
 * Where a truncation to `from` may cut first so that one piece frees at most `limit` blocks and
 * empties at most the last leaf: the start of the last leaf's earliest extent reaching past
 * `from`, moved up so that no more than `limit` blocks lie after it. *any: something is mapped at
 * or after `from`. Truncating in such pieces from the end, each its own transaction, keeps every
 * commit a valid file (a shorter one) however big the whole truncation is.
 */
int ext4_ext_last_chunk(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t from, uint32_t limit,
			uint32_t *start, bool *any)
{
	struct ext4_extent_header *h = root_hdr(ir);
	*any = false;
	*start = from;
	if (!node_ok(h, EXT4_INLINE_SIZE, -1))
		return ext4_corrupt(fs);
	uint8_t *buf = NULL;
	int r = 0;
	while (h->eh_depth > 0) {
		if (h->eh_entries == 0)
			goto out;
		if (!buf && !(buf = ext4_balloc(fs)))
			return -ENOMEM;
		r = read_node(fs, ir, idx_pblk(idx_at(h, h->eh_entries - 1u)), h->eh_depth - 1, buf);
		if (r < 0)
			goto out;
		h = (struct ext4_extent_header *)buf;
		*any = true;                    /* an empty last leaf: one truncation from `from` */
	}
	uint64_t freed = 0;
	for (int i = (int)h->eh_entries - 1; i >= 0; i--) {
		struct ext4_extent *e = ext_at(h, (uint32_t)i);
		uint64_t end = (uint64_t)e->ee_block + ext_len(e);
		if (end <= from)
			break;
		*any = true;
		uint32_t lo = e->ee_block < from ? from : e->ee_block;
		if (freed + (end - lo) > limit) {
			*start = (uint32_t)(end - (limit - freed));
			break;
		}
		freed += end - lo;
		*start = lo;
	}
out:
	ext4_bfree(fs, buf);
	return r;
}
