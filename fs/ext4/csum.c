/*
 * metadata_csum: crc32c over every metadata block, as Linux's fs/ext4 and e2fsprogs compute them.
 * All use the raw crc32c update (no final inversion). The file system's seed is crc32c(~0, uuid)
 * (or s_checksum_seed with csum_seed); an inode's seed chains its number and generation onto it,
 * and that inode seed covers the inode's own extent and directory blocks.
 */
#include "fs/ext4/ext4_fs.h"
#include "lib/crc32c.h"

uint32_t ext4_csum(struct ext4_fs *fs, uint32_t seed, const void *buf, size_t len)
{
	(void)fs;
	return crc32c_update(seed, buf, len);
}

/* A block whose checksum the running transaction computes at commit (ext4_bwrite_csum_later)
 * holds a stale one until then: its copy is our own, so it counts as good. */
bool ext4_csum_known_good(struct ext4_fs *fs, uint64_t blk)
{
	return __atomic_load_n(&fs->csum_good[blk % EXT4_CSUM_GOOD_SLOTS], __ATOMIC_RELAXED) == blk + 1 ||
	       (fs->jnl && ext4_tx_csum_pending(fs, blk));
}

void ext4_csum_mark_good(struct ext4_fs *fs, uint64_t blk)
{
	__atomic_store_n(&fs->csum_good[blk % EXT4_CSUM_GOOD_SLOTS], blk + 1, __ATOMIC_RELAXED);
}

/* ---- superblock: crc32c(~0, sb[0 .. s_checksum)) ---- */
void ext4_sb_csum_set(struct ext4_fs *fs, struct ext4_super *sb)
{
	(void)fs;
	sb->s_checksum = crc32c_update(~0u, sb, offsetof(struct ext4_super, s_checksum));
}

bool ext4_sb_csum_ok(struct ext4_super *sb)
{
	return sb->s_checksum == crc32c_update(~0u, sb, offsetof(struct ext4_super, s_checksum));
}

/* ---- group descriptor: low 16 bits of crc32c(seed, le32 group, desc without bg_checksum) ---- */
uint16_t ext4_gd_csum(struct ext4_fs *fs, uint32_t g, const struct ext4_group_desc *gd)
{
	const uint8_t *p = (const uint8_t *)gd;
	uint16_t zero = 0;
	uint32_t c = crc32c_update(fs->csum_seed, &g, 4);
	c = crc32c_update(c, p, EXT4_GD_CSUM_OFFSET);
	c = crc32c_update(c, &zero, 2);
	if (fs->desc_size > EXT4_GD_CSUM_OFFSET + 2)
		c = crc32c_update(c, p + EXT4_GD_CSUM_OFFSET + 2, fs->desc_size - EXT4_GD_CSUM_OFFSET - 2);
	return (uint16_t)c;
}

/* ---- bitmaps: crc32c(seed, bitmap bytes that cover the group) split lo/hi in the descriptor ---- */
static uint32_t bitmap_csum(struct ext4_fs *fs, bool inode, const void *bm)
{
	uint32_t bytes = (inode ? fs->ipg : fs->bpg) / 8;
	return crc32c_update(fs->csum_seed, bm, bytes);
}

void ext4_bitmap_csum_set(struct ext4_fs *fs, struct ext4_group_desc *gd, bool inode, const void *bm)
{
	if (!fs->csum)
		return;
	uint32_t c = bitmap_csum(fs, inode, bm);
	bool hi = fs->desc_size >= EXT4_GD_BITMAP_CSUM_HI_END;
	if (inode) {
		gd->bg_inode_bitmap_csum_lo = (uint16_t)c;
		if (hi)
			gd->bg_inode_bitmap_csum_hi = (uint16_t)(c >> 16);
	} else {
		gd->bg_block_bitmap_csum_lo = (uint16_t)c;
		if (hi)
			gd->bg_block_bitmap_csum_hi = (uint16_t)(c >> 16);
	}
}

bool ext4_bitmap_csum_ok(struct ext4_fs *fs, const struct ext4_group_desc *gd, bool inode, const void *bm)
{
	if (!fs->csum)
		return true;
	uint32_t c = bitmap_csum(fs, inode, bm);
	bool hi = fs->desc_size >= EXT4_GD_BITMAP_CSUM_HI_END;
	uint32_t want = inode ? gd->bg_inode_bitmap_csum_lo : gd->bg_block_bitmap_csum_lo;
	if (hi)
		want |= (uint32_t)(inode ? gd->bg_inode_bitmap_csum_hi : gd->bg_block_bitmap_csum_hi) << 16;
	else
		c &= 0xffff;
	return c == want;
}

/* ---- inode: crc32c(seed, ino, gen, inode with both checksum fields as zero) ---- */
static uint32_t inode_csum(struct ext4_fs *fs, struct ext4_iref *ir)
{
	struct ext4_inode *di = &ir->i;
	uint16_t lo = di->i_checksum_lo, hi = di->i_checksum_hi;
	bool has_hi = fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE &&
		      di->i_extra_isize >= EXT4_INODE_CSUM_HI_EXTRA;
	di->i_checksum_lo = 0;
	if (has_hi)
		di->i_checksum_hi = 0;
	uint32_t c = crc32c_update(fs->csum_seed, &ir->ino, 4);
	c = crc32c_update(c, &di->i_generation, 4);
	c = crc32c_update(c, ir->raw, fs->inode_size);
	di->i_checksum_lo = lo;
	if (has_hi)
		di->i_checksum_hi = hi;
	return has_hi ? c : (c & 0xffff);
}

void ext4_inode_csum_set(struct ext4_fs *fs, struct ext4_iref *ir)
{
	if (!fs->csum)
		return;
	uint32_t c = inode_csum(fs, ir);
	ir->i.i_checksum_lo = (uint16_t)c;
	if (fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE && ir->i.i_extra_isize >= EXT4_INODE_CSUM_HI_EXTRA)
		ir->i.i_checksum_hi = (uint16_t)(c >> 16);
}

bool ext4_inode_csum_ok(struct ext4_fs *fs, struct ext4_iref *ir)
{
	if (!fs->csum)
		return true;
	uint32_t want = ir->i.i_checksum_lo;
	if (fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE && ir->i.i_extra_isize >= EXT4_INODE_CSUM_HI_EXTRA)
		want |= (uint32_t)ir->i.i_checksum_hi << 16;
	return inode_csum(fs, ir) == want;
}

/* ---- extent tree block: tail after eh_max entries ---- */
static size_t extent_tail_off(struct ext4_fs *fs, const void *blk)
{
	const struct ext4_extent_header *h = blk;
	size_t off = sizeof(*h) + sizeof(struct ext4_extent) * h->eh_max;
	return off + sizeof(struct ext4_extent_tail) <= fs->bs ? off : 0;
}

void ext4_extent_csum_set(struct ext4_fs *fs, struct ext4_iref *ir, void *blk)
{
	size_t off = extent_tail_off(fs, blk);
	if (!fs->csum || !off)
		return;
	uint32_t c = crc32c_update(ir->csum_seed, blk, off);
	memcpy((uint8_t *)blk + off, &c, 4);
}

bool ext4_extent_csum_ok(struct ext4_fs *fs, struct ext4_iref *ir, const void *blk)
{
	if (!fs->csum)
		return true;
	size_t off = extent_tail_off(fs, blk);
	if (!off)
		return false;
	uint32_t want;
	memcpy(&want, (const uint8_t *)blk + off, 4);
	return crc32c_update(ir->csum_seed, blk, off) == want;
}

/* ---- directory leaf block: a fake 12-byte entry at the end holds the checksum ---- */
bool ext4_dirblock_has_tail(struct ext4_fs *fs, const void *blk)
{
	const struct ext4_dirent_tail *t =
		(const void *)((const uint8_t *)blk + fs->bs - EXT4_DIRENT_TAIL_SIZE);
	return t->det_reserved_zero1 == 0 && t->det_rec_len == EXT4_DIRENT_TAIL_SIZE &&
	       t->det_reserved_zero2 == 0 && t->det_reserved_ft == EXT4_DIRENT_TAIL_FT;
}

void ext4_dirblock_init_tail(struct ext4_fs *fs, void *blk)
{
	struct ext4_dirent_tail *t = (void *)((uint8_t *)blk + fs->bs - EXT4_DIRENT_TAIL_SIZE);
	memset(t, 0, sizeof(*t));
	t->det_rec_len = EXT4_DIRENT_TAIL_SIZE;
	t->det_reserved_ft = EXT4_DIRENT_TAIL_FT;
}

void ext4_dirblock_csum_seed_set(struct ext4_fs *fs, uint32_t seed, void *blk)
{
	if (!fs->csum)
		return;
	struct ext4_dirent_tail *t = (void *)((uint8_t *)blk + fs->bs - EXT4_DIRENT_TAIL_SIZE);
	t->det_checksum = crc32c_update(seed, blk, fs->bs - EXT4_DIRENT_TAIL_SIZE);
}

void ext4_dirblock_csum_set(struct ext4_fs *fs, struct ext4_iref *ir, void *blk)
{
	ext4_dirblock_csum_seed_set(fs, ir->csum_seed, blk);
}

bool ext4_dirblock_csum_ok(struct ext4_fs *fs, struct ext4_iref *ir, const void *blk)
{
	if (!fs->csum)
		return true;
	if (!ext4_dirblock_has_tail(fs, blk))
		return false;
	const struct ext4_dirent_tail *t =
		(const void *)((const uint8_t *)blk + fs->bs - EXT4_DIRENT_TAIL_SIZE);
	return t->det_checksum == crc32c_update(ir->csum_seed, blk, fs->bs - EXT4_DIRENT_TAIL_SIZE);
}
