/*
 * Block and inode allocation from the group bitmaps. A group whose descriptor says BLOCK_UNINIT
 * (or INODE_UNINIT) has no bitmap on disk yet: its bitmap is computed here (the group's superblock
 * backup and descriptor blocks, any group's bitmaps or inode table that live inside it, and the
 * bits past the end of the file system) and written the first time something is allocated in it.
 * Every change writes the bitmap (with its checksum in the descriptor) and then the descriptor.
 */
#include "fs/ext4/ext4_fs.h"

static inline bool bit_test(const uint8_t *bm, uint32_t i) { return bm[i >> 3] & (1u << (i & 7)); }
static inline void bit_set(uint8_t *bm, uint32_t i) { bm[i >> 3] |= (uint8_t)(1u << (i & 7)); }
static inline void bit_clear(uint8_t *bm, uint32_t i) { bm[i >> 3] &= (uint8_t)~(1u << (i & 7)); }

/* The first clear bit in [lo, n), or n: whole bytes of used bits are skipped at once (a group
 * filled by thousands of creates is scanned at every one). */
static uint32_t first_clear(const uint8_t *bm, uint32_t lo, uint32_t n)
{
	uint32_t i = lo;
	while (i < n && (i & 7))
		if (!bit_test(bm, i++))
			return i - 1;
	while (i + 8 <= n && bm[i >> 3] == 0xff)
		i += 8;
	for (; i < n; i++)
		if (!bit_test(bm, i))
			return i;
	return n;
}

static void mark_range(struct ext4_fs *fs, uint32_t g, uint8_t *bm, uint64_t first, uint64_t count)
{
	uint64_t start = ext4_group_first_block(fs, g), end = start + fs->bpg;
	for (uint64_t b = first; b < first + count; b++)
		if (b >= start && b < end)
			bit_set(bm, (uint32_t)(b - start));
}

static void init_block_bitmap(struct ext4_fs *fs, uint32_t g, uint8_t *bm)
{
	memset(bm, 0, fs->bs);
	uint64_t start = ext4_group_first_block(fs, g);
	if (ext4_group_has_super(fs, g))
		mark_range(fs, g, bm, start, 1 + fs->gdt_blocks + fs->sb.s_reserved_gdt_blocks);
	for (uint32_t h = 0; h < fs->groups; h++) {
		struct ext4_group_desc *gd = ext4_gd(fs, h);
		mark_range(fs, g, bm, ext4_gd_block_bitmap(fs, gd), 1);
		mark_range(fs, g, bm, ext4_gd_inode_bitmap(fs, gd), 1);
		mark_range(fs, g, bm, ext4_gd_inode_table(fs, gd), fs->itable_blocks);
	}
	for (uint32_t i = ext4_group_nblocks(fs, g); i < fs->bs * 8; i++)
		bit_set(bm, i);
}

static int load_bitmap(struct ext4_fs *fs, uint32_t g, bool inode, uint8_t *bm)
{
	struct ext4_group_desc *gd = ext4_gd(fs, g);
	if (!inode && (gd->bg_flags & EXT4_BG_BLOCK_UNINIT)) {
		init_block_bitmap(fs, g, bm);
		return 0;
	}
	if (inode && (gd->bg_flags & EXT4_BG_INODE_UNINIT)) {
		memset(bm, 0, fs->bs);
		for (uint32_t i = fs->ipg; i < fs->bs * 8; i++)
			bit_set(bm, i);
		return 0;
	}
	uint64_t blk = inode ? ext4_gd_inode_bitmap(fs, gd) : ext4_gd_block_bitmap(fs, gd);
	int r = ext4_bread(fs, blk, bm);
	if (r < 0)
		return r;
	if (!ext4_csum_known_good(fs, blk)) {
		if (!ext4_bitmap_csum_ok(fs, gd, inode, bm))
			return ext4_corrupt(fs);
		ext4_csum_mark_good(fs, blk);
	}
	return 0;
}

static int store_bitmap(struct ext4_fs *fs, uint32_t g, bool inode, uint8_t *bm)
{
	struct ext4_group_desc *gd = ext4_gd(fs, g);
	gd->bg_flags &= (uint16_t)~(inode ? EXT4_BG_INODE_UNINIT : EXT4_BG_BLOCK_UNINIT);
	uint64_t blk = inode ? ext4_gd_inode_bitmap(fs, gd) : ext4_gd_block_bitmap(fs, gd);
	int r;
	if (ext4_tx_csum_deferrable(fs)) {      /* the commit checksums it, and its descriptor */
		r = ext4_bwrite_csum_later(fs, blk, bm, inode ? EXT4_TXC_IBITMAP : EXT4_TXC_BBITMAP, g);
	} else {
		ext4_bitmap_csum_set(fs, gd, inode, bm);
		r = ext4_bwrite(fs, blk, bm);
	}
	if (r == 0)
		r = ext4_write_gd(fs, g);
	return r;
}

/* Blocks the allocator must never hand out whatever a (corrupted) bitmap says. */
static bool is_fixed_metadata(struct ext4_fs *fs, uint64_t b)
{
	return b < fs->first_data_block + 1 + fs->gdt_blocks + fs->sb.s_reserved_gdt_blocks;
}

/* Blocks freed in a running batched transaction stay unallocatable until it commits (journal.c
 * explains why): one bitmap per group that had frees, made on the first. */
static bool batching(struct ext4_fs *fs) { return ext4_journal_batching(fs); }

static int pending_add(struct ext4_fs *fs, uint32_t g, uint32_t off, uint32_t n)
{
	if (!fs->pending_free && !(fs->pending_free = ext4_zalloc(fs->groups * sizeof(uint8_t *))))
		return -ENOMEM;
	if (!fs->pending_free[g] && !(fs->pending_free[g] = ext4_zalloc(fs->bs)))
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		bit_set(fs->pending_free[g], off + i);
	return 0;
}

static bool pending(struct ext4_fs *fs, uint32_t g, uint32_t i)
{
	return fs->pending_free && fs->pending_free[g] && bit_test(fs->pending_free[g], i);
}

void ext4_pending_clear(struct ext4_fs *fs)
{
	if (!fs->pending_free)
		return;
	for (uint32_t g = 0; g < fs->groups; g++)
		ext4_free(fs->pending_free[g]);
	ext4_free(fs->pending_free);
	fs->pending_free = NULL;
}

static int alloc_blocks(struct ext4_fs *fs, uint64_t goal, uint32_t want, uint64_t *first, uint32_t *got)
{
	if (fs->ro)
		return -EROFS;
	if (want == 0)
		want = 1;
	if (goal < fs->first_data_block || goal >= fs->blocks_count)
		goal = fs->first_data_block;
	uint32_t g0 = (uint32_t)((goal - fs->first_data_block) / fs->bpg);
	uint8_t *bm = ext4_balloc(fs);
	if (!bm)
		return -ENOMEM;
	int r = -ENOSPC;
	for (uint32_t k = 0; k < fs->groups; k++) {
		uint32_t g = (g0 + k) % fs->groups;
		struct ext4_group_desc *gd = ext4_gd(fs, g);
		uint32_t nfree = ext4_gd_free_blocks(fs, gd);
		if (nfree == 0)
			continue;
		int e = load_bitmap(fs, g, false, bm);
		if (e < 0) {
			r = e;
			break;
		}
		uint64_t gstart = ext4_group_first_block(fs, g);
		uint32_t n = ext4_group_nblocks(fs, g);
		uint32_t from = (k == 0 && goal >= gstart) ? (uint32_t)(goal - gstart) : 0;
		uint32_t i, found = n;
		for (uint32_t pass = 0; pass < 2 && found == n; pass++) {
			uint32_t lo = pass ? 0 : from, hi = pass ? from : n;
			for (i = lo; i < hi; i++) {
				if ((bm[i >> 3] == 0xff) && !(i & 7)) {
					i += 7;
					continue;
				}
				if (!bit_test(bm, i) && !is_fixed_metadata(fs, gstart + i) && !pending(fs, g, i)) {
					found = i;
					break;
				}
			}
		}
		if (found == n)
			continue;            /* the count lied; try elsewhere */
		uint32_t len = 0;
		while (found + len < n && len < want && len < nfree && !bit_test(bm, found + len) &&
		       !pending(fs, g, found + len)) {
			bit_set(bm, found + len);
			len++;
		}
		ext4_gd_set_free_blocks(fs, gd, nfree - len);
		r = store_bitmap(fs, g, false, bm);
		if (r == 0) {
			ext4_sb_set_free_blocks(fs, ext4_sb_free_blocks(fs) - len);
			*first = gstart + found;
			*got = len;
		}
		break;
	}
	ext4_bfree(fs, bm);
	return r;
}

int ext4_alloc_blocks(struct ext4_fs *fs, uint64_t goal, uint32_t want, uint64_t *first, uint32_t *got)
{
	int r = alloc_blocks(fs, goal, want, first, got);
	if (r == -ENOSPC && fs->pending_free && ext4_journal_commit_now(fs) == 0)
		r = alloc_blocks(fs, goal, want, first, got);   /* what the commit gave back */
	return r;
}

int ext4_free_blocks(struct ext4_fs *fs, uint64_t first, uint32_t count)
{
	if (fs->ro)
		return -EROFS;
	if (count == 0)
		return 0;
	if (first < fs->first_data_block || first + count > fs->blocks_count || first + count < first ||
	    is_fixed_metadata(fs, first))
		return ext4_corrupt(fs);
	uint8_t *bm = ext4_balloc(fs);
	if (!bm)
		return -ENOMEM;
	int r = 0;
	while (count && r == 0) {
		uint32_t g = (uint32_t)((first - fs->first_data_block) / fs->bpg);
		uint64_t gstart = ext4_group_first_block(fs, g);
		uint32_t off = (uint32_t)(first - gstart);
		uint32_t n = ext4_min32(count, fs->bpg - off);
		r = load_bitmap(fs, g, false, bm);
		if (r == 0 && batching(fs))
			r = pending_add(fs, g, off, n);  /* before any change: a failure leaves none */
		if (r < 0)
			break;
		for (uint32_t i = 0; i < n; i++) {
			if (!bit_test(bm, off + i)) {
				r = ext4_corrupt(fs);     /* freeing a free block */
				break;
			}
			bit_clear(bm, off + i);
		}
		if (r < 0)
			break;
		if (fs->jnl)
			ext4_tx_forget(fs, first, n);    /* never write a freed block's old metadata home */
		struct ext4_group_desc *gd = ext4_gd(fs, g);
		ext4_gd_set_free_blocks(fs, gd, ext4_gd_free_blocks(fs, gd) + n);
		r = store_bitmap(fs, g, false, bm);
		ext4_sb_set_free_blocks(fs, ext4_sb_free_blocks(fs) + n);
		first += n;
		count -= n;
	}
	ext4_bfree(fs, bm);
	return r;
}

int ext4_alloc_inode(struct ext4_fs *fs, uint32_t parent, bool dir, uint32_t *ino)
{
	if (fs->ro)
		return -EROFS;
	uint32_t g0 = parent ? (parent - 1) / fs->ipg : 0;
	if (g0 >= fs->groups)
		g0 = 0;
	uint8_t *bm = ext4_balloc(fs);
	if (!bm)
		return -ENOMEM;
	int r = -ENOSPC;
	for (uint32_t k = 0; k < fs->groups; k++) {
		uint32_t g = (g0 + k) % fs->groups;
		struct ext4_group_desc *gd = ext4_gd(fs, g);
		uint32_t nfree = ext4_gd_free_inodes(fs, gd);
		if (nfree == 0)
			continue;
		int e = load_bitmap(fs, g, true, bm);
		if (e < 0) {
			r = e;
			break;
		}
		uint32_t lo = g == 0 ? fs->sb.s_first_ino - 1 : 0;
		uint32_t i = first_clear(bm, lo, fs->ipg);
		if (i == fs->ipg)
			continue;
		bit_set(bm, i);
		ext4_gd_set_free_inodes(fs, gd, nfree - 1);
		if (dir)
			ext4_gd_set_used_dirs(fs, gd, ext4_gd_used_dirs(fs, gd) + 1);
		uint32_t unused = ext4_gd_itable_unused(fs, gd);
		if (fs->csum && i >= fs->ipg - unused)
			ext4_gd_set_itable_unused(fs, gd, fs->ipg - i - 1);
		r = store_bitmap(fs, g, true, bm);
		if (r == 0) {
			fs->sb.s_free_inodes_count--;
			fs->sb_dirty = true;
			*ino = g * fs->ipg + i + 1;
		}
		break;
	}
	ext4_bfree(fs, bm);
	return r;
}

int ext4_free_inode(struct ext4_fs *fs, uint32_t ino, bool dir)
{
	if (fs->ro)
		return -EROFS;
	if (ino < 1 || ino > fs->sb.s_inodes_count)
		return ext4_corrupt(fs);
	uint32_t g = (ino - 1) / fs->ipg, i = (ino - 1) % fs->ipg;
	uint8_t *bm = ext4_balloc(fs);
	if (!bm)
		return -ENOMEM;
	int r = load_bitmap(fs, g, true, bm);
	if (r == 0 && !bit_test(bm, i))
		r = ext4_corrupt(fs);
	if (r == 0) {
		struct ext4_group_desc *gd = ext4_gd(fs, g);
		bit_clear(bm, i);
		ext4_gd_set_free_inodes(fs, gd, ext4_gd_free_inodes(fs, gd) + 1);
		if (dir && ext4_gd_used_dirs(fs, gd))
			ext4_gd_set_used_dirs(fs, gd, ext4_gd_used_dirs(fs, gd) - 1);
		r = store_bitmap(fs, g, true, bm);
		fs->sb.s_free_inodes_count++;
		fs->sb_dirty = true;
	}
	ext4_bfree(fs, bm);
	return r;
}
