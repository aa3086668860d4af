/*
 * ext4 for Ember: mounting, the superblock and the group descriptor table.
 *
 * Theory.
 * fs/ext4/ is a self-contained ext4 implementation: it reaches storage only through a struct
 * ext4_bdev (read_blocks/write_blocks/flush) and memory only through os.h, so the same C files are
 * built into the kernel and, with -DHOST_TEST, into host unit tests that run over image files made
 * by the host's mkfs.ext4 and are judged by the host's e2fsck and debugfs.
 *
 * On-disk picture (what Debian's mkfs.ext4 makes by default): block groups of 8*block_size blocks;
 * group descriptors (64 bytes with 64bit) in the blocks after the superblock; with flex_bg the
 * bitmaps and inode tables of 16 groups sit together in the first group of the 16. Files map
 * blocks through extent trees whose root lives in the inode (i_block, 4 entries) and whose deeper
 * nodes are whole blocks. Directories are lists of variable-length entries in blocks, optionally
 * with an htree (dir_index) whose interior blocks look like empty directory blocks to old readers.
 * metadata_csum puts crc32c on all of it (csum.c).
 *
 * Files, one job each:
 *   super.c    mount/umount, the superblock and group descriptors, block I/O
 *   csum.c     every metadata checksum
 *   alloc.c    block and inode bitmaps (allocation and freeing, uninit groups)
 *   inode.c    inode read/write, timestamps, file data read/write, truncate, inline data
 *   extents.c  extent tree lookup, insertion (with node splits and tree growth), truncation
 *   dir.c      directory blocks: lookup, iteration (linear, htree and inline dirs), add/remove entries
 *   hash.c     htree name hashes
 *   namei.c    the public operations (ext4.h): create, mkdir, symlink, link, unlink, rmdir, rename,
 *              setattr, read/write entry points; each write operation is one transaction
 *   journal.c  JBD2: replay at mount, and the transaction writer
 *   orphan.c   open-but-unlinked inodes (the orphan list)
 *
 * Consistency model: at a read-write mount a journal that needs recovery is replayed
 * (journal.c), then every public write operation is one JBD2 transaction: its metadata blocks
 * collect in memory, go to the log with a commit block, then to their homes, before the call
 * returns (file data is written first, directly: ordered mode; with batched commits a new
 * block written in part waits for the commit, which writes it home before its log). A power
 * cut leaves the old or the new state of each operation, which our replay or e2fsck's
 * restores. The superblock's free
 * counters are advisory (recomputed from the group descriptors at mount, written at sync and
 * umount); needs_recovery is set while mounted read-write and cleared at umount.
 *
 * Trust: everything read from the device is checked before use: magic numbers, checksums,
 * ranges (blocks inside the file system, entries inside their block, tree depths bounded). A
 * failed check returns -EUCLEAN and makes the mount read-only (errors=remount-ro); it never
 * crashes. No block is cached between calls: the block layer under ext4_bdev does the caching.
 *
 * Locking: none inside; the caller serializes all calls on one struct ext4_fs and every call may
 * sleep in the block device callbacks.
 */
#include "fs/ext4/ext4_fs.h"

/* ---- block I/O: metadata goes through the running transaction when the journal is on ---- */
int ext4_bread(struct ext4_fs *fs, uint64_t blk, void *buf)
{
	if (blk >= fs->blocks_count)
		return ext4_corrupt(fs);
	if (fs->jnl && ext4_tx_get(fs, blk, buf))
		return 0;
	int r = fs->bd->read_blocks(fs->bd, blk * fs->dev_per_block, fs->dev_per_block, buf);
	return r < 0 ? r : 0;
}

int ext4_bwrite_raw(struct ext4_fs *fs, uint64_t blk, const void *buf)
{
	if (fs->ro)
		return -EROFS;
	if (blk >= fs->blocks_count || blk < fs->first_data_block)   /* 1 KiB blocks: 0 is the boot block */
		return ext4_corrupt(fs);
	if (fs->jnl && ext4_tx_data_update(fs, blk, buf))
		return 0;                        /* a new data block not yet home: its copy */
	int r = fs->bd->write_blocks(fs->bd, blk * fs->dev_per_block, fs->dev_per_block, buf);
	return r < 0 ? r : 0;
}

int ext4_bwrite(struct ext4_fs *fs, uint64_t blk, const void *buf)
{
	if (fs->ro)
		return -EROFS;
	if (fs->jnl && ext4_tx_active(fs)) {
		if (blk >= fs->blocks_count || blk < fs->first_data_block)
			return ext4_corrupt(fs);
		return ext4_tx_put(fs, blk, buf);
	}
	return ext4_bwrite_raw(fs, blk, buf);
}

int ext4_bpeek(struct ext4_fs *fs, uint64_t blk, uint32_t off, void *dst, uint32_t len)
{
	if (blk >= fs->blocks_count)
		return ext4_corrupt(fs);
	if (off > fs->bs || len == 0 || len > fs->bs - off)
		return -EINVAL;
	uint8_t *in_tx = fs->jnl ? ext4_tx_block(fs, blk) : NULL;
	if (in_tx) {
		memcpy(dst, in_tx + off, len);
		return 0;
	}
	/* The whole block, though only len bytes are wanted: the block layer caches transfers of
	 * exactly one file-system block (block/bdev_node.c), a part would go to the disk. */
	uint8_t *buf = ext4_balloc(fs);
	if (!buf)
		return -ENOMEM;
	int r = fs->bd->read_blocks(fs->bd, blk * fs->dev_per_block, fs->dev_per_block, buf);
	if (r >= 0)
		memcpy(dst, buf + off, len);
	ext4_bfree(fs, buf);
	return r < 0 ? r : 0;
}

int ext4_bpatch(struct ext4_fs *fs, uint64_t blk, uint32_t off, const void *src, uint32_t len)
{
	if (fs->ro)
		return -EROFS;
	if (off > fs->bs || len > fs->bs - off)
		return -EINVAL;
	uint8_t *in_tx = fs->jnl && ext4_tx_active(fs) ? ext4_tx_block(fs, blk) : NULL;
	if (in_tx) {
		memcpy(in_tx + off, src, len);   /* already journaled: the commit writes it */
		return 0;
	}
	uint8_t *buf = ext4_balloc(fs);
	if (!buf)
		return -ENOMEM;
	int r = ext4_bread(fs, blk, buf);
	if (r == 0) {
		memcpy(buf + off, src, len);
		r = ext4_bwrite(fs, blk, buf);
	}
	ext4_bfree(fs, buf);
	return r;
}

void *ext4_balloc(struct ext4_fs *fs)
{
	return fs->nspare ? fs->spare[--fs->nspare] : ext4_malloc(fs->bs);
}

void ext4_bfree(struct ext4_fs *fs, void *p)
{
	if (p && fs->nspare < EXT4_SPARE_BLOCKS)
		fs->spare[fs->nspare++] = p;
	else
		ext4_free(p);
}

/* The struct itself and what hangs off it (the journal is stopped first). */
static void fs_free(struct ext4_fs *fs)
{
	while (fs->nspare)
		ext4_free(fs->spare[--fs->nspare]);
	ext4_free(fs->gdt);
	ext4_free(fs);
}

int ext4_corrupt(struct ext4_fs *fs)
{
	fs->ro = true;
	return -EUCLEAN;
}

void ext4_now(struct ext4_fs *fs, struct ext4_time *t)
{
	/* Without a clock, the last write time of the superblock is the best "now" we have. */
	t->sec = fs->sb.s_wtime;
	t->nsec = 0;
	if (fs->now)
		fs->now(t);
}

void ext4_set_clock(struct ext4_fs *fs, void (*now)(struct ext4_time *t))
{
	fs->now = now;
}

bool ext4_is_readonly(struct ext4_fs *fs)
{
	return fs->ro;
}

/* ---- the superblock, at byte 1024 whatever the device block size ---- */
static int sb_io(struct ext4_bdev *bd, struct ext4_super *sb, bool write)
{
	uint32_t dbs = bd->block_size;
	uint64_t first = EXT4_SB_OFFSET / dbs, last = (EXT4_SB_OFFSET + EXT4_SB_SIZE - 1) / dbs;
	uint32_t count = (uint32_t)(last - first + 1);
	uint32_t off = (uint32_t)(EXT4_SB_OFFSET - first * dbs);
	uint8_t *buf = ext4_malloc((size_t)count * dbs);
	if (!buf)
		return -ENOMEM;
	int r = bd->read_blocks(bd, first, count, buf);
	if (r >= 0) {
		if (write) {
			memcpy(buf + off, sb, EXT4_SB_SIZE);
			r = bd->write_blocks(bd, first, count, buf);
		} else {
			memcpy(sb, buf + off, EXT4_SB_SIZE);
		}
	}
	ext4_free(buf);
	return r < 0 ? r : 0;
}

int ext4_write_super(struct ext4_fs *fs)
{
	if (fs->ro)
		return 0;
	struct ext4_time t;
	ext4_now(fs, &t);
	fs->sb.s_wtime = (uint32_t)t.sec;
	if (fs->csum)
		ext4_sb_csum_set(fs, &fs->sb);
	fs->sb_dirty = false;
	return sb_io(fs->bd, &fs->sb, true);
}

uint64_t ext4_sb_free_blocks(struct ext4_fs *fs)
{
	uint64_t v = fs->sb.s_free_blocks_count_lo;
	if (fs->has64)
		v |= (uint64_t)fs->sb.s_free_blocks_count_hi << 32;
	return v;
}

void ext4_sb_set_free_blocks(struct ext4_fs *fs, uint64_t v)
{
	fs->sb.s_free_blocks_count_lo = (uint32_t)v;
	if (fs->has64)
		fs->sb.s_free_blocks_count_hi = (uint32_t)(v >> 32);
	fs->sb_dirty = true;
}

/* ---- group descriptors ---- */
struct ext4_group_desc *ext4_gd(struct ext4_fs *fs, uint32_t g)
{
	return (struct ext4_group_desc *)(fs->gdt + (size_t)g * fs->desc_size);
}

#define GD_LOHI32(fs, gd, f) ((uint64_t)(gd)->f##_lo | ((fs)->has64 ? (uint64_t)(gd)->f##_hi << 32 : 0))
#define GD_LOHI16(fs, gd, f) ((uint32_t)(gd)->f##_lo | ((fs)->has64 ? (uint32_t)(gd)->f##_hi << 16 : 0))
#define GD_SET16(fs, gd, f, v) do { (gd)->f##_lo = (uint16_t)(v); \
	if ((fs)->has64) (gd)->f##_hi = (uint16_t)((v) >> 16); } while (0)

uint64_t ext4_gd_block_bitmap(struct ext4_fs *fs, const struct ext4_group_desc *gd) { return GD_LOHI32(fs, gd, bg_block_bitmap); }
uint64_t ext4_gd_inode_bitmap(struct ext4_fs *fs, const struct ext4_group_desc *gd) { return GD_LOHI32(fs, gd, bg_inode_bitmap); }
uint64_t ext4_gd_inode_table(struct ext4_fs *fs, const struct ext4_group_desc *gd) { return GD_LOHI32(fs, gd, bg_inode_table); }
uint32_t ext4_gd_free_blocks(struct ext4_fs *fs, const struct ext4_group_desc *gd) { return GD_LOHI16(fs, gd, bg_free_blocks_count); }
uint32_t ext4_gd_free_inodes(struct ext4_fs *fs, const struct ext4_group_desc *gd) { return GD_LOHI16(fs, gd, bg_free_inodes_count); }
uint32_t ext4_gd_used_dirs(struct ext4_fs *fs, const struct ext4_group_desc *gd) { return GD_LOHI16(fs, gd, bg_used_dirs_count); }
uint32_t ext4_gd_itable_unused(struct ext4_fs *fs, const struct ext4_group_desc *gd) { return GD_LOHI16(fs, gd, bg_itable_unused); }
void ext4_gd_set_free_blocks(struct ext4_fs *fs, struct ext4_group_desc *gd, uint32_t v) { GD_SET16(fs, gd, bg_free_blocks_count, v); }
void ext4_gd_set_free_inodes(struct ext4_fs *fs, struct ext4_group_desc *gd, uint32_t v) { GD_SET16(fs, gd, bg_free_inodes_count, v); }
void ext4_gd_set_used_dirs(struct ext4_fs *fs, struct ext4_group_desc *gd, uint32_t v) { GD_SET16(fs, gd, bg_used_dirs_count, v); }
void ext4_gd_set_itable_unused(struct ext4_fs *fs, struct ext4_group_desc *gd, uint32_t v) { GD_SET16(fs, gd, bg_itable_unused, v); }

int ext4_write_gd(struct ext4_fs *fs, uint32_t g)
{
	if (fs->csum)
		ext4_gd(fs, g)->bg_checksum = ext4_gd_csum(fs, g, ext4_gd(fs, g));
	uint32_t per_block = fs->bs / fs->desc_size;
	uint32_t b = g / per_block;
	return ext4_bwrite(fs, fs->first_data_block + 1 + b, fs->gdt + (size_t)b * fs->bs);
}

uint64_t ext4_group_first_block(struct ext4_fs *fs, uint32_t g)
{
	return fs->first_data_block + (uint64_t)g * fs->bpg;
}

uint32_t ext4_group_nblocks(struct ext4_fs *fs, uint32_t g)
{
	uint64_t first = ext4_group_first_block(fs, g);
	uint64_t left = fs->blocks_count - first;
	return left < fs->bpg ? (uint32_t)left : fs->bpg;
}

static bool is_power_of(uint32_t n, uint32_t base)
{
	while (n > 1 && n % base == 0)
		n /= base;
	return n == 1;
}

bool ext4_group_has_super(struct ext4_fs *fs, uint32_t g)
{
	if (g <= 1 || !(fs->sb.s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER))
		return true;
	if (!(g & 1))
		return false;
	return is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
}

/* ---- mount ---- */
static int check_super(struct ext4_fs *fs, struct ext4_bdev *bd)
{
	struct ext4_super *sb = &fs->sb;
	if (sb->s_magic != EXT4_SUPER_MAGIC)
		return -EINVAL;
	if (sb->s_feature_incompat & ~EXT4_INCOMPAT_SUPPORTED)
		return -EINVAL;
	fs->csum = sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM;
	if (fs->csum && (sb->s_checksum_type != EXT4_CRC32C_CHKSUM || !ext4_sb_csum_ok(sb)))
		return -EUCLEAN;
	if (sb->s_log_block_size > EXT4_MAX_LOG_BS - EXT4_MIN_LOG_BS || sb->s_rev_level < 1)
		return -EINVAL;
	fs->log_bs = EXT4_MIN_LOG_BS + sb->s_log_block_size;
	fs->bs = 1u << fs->log_bs;
	if (bd->block_size == 0 || (bd->block_size & (bd->block_size - 1)) || fs->bs % bd->block_size)
		return -EINVAL;
	fs->dev_per_block = fs->bs / bd->block_size;
	fs->has64 = sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT;
	fs->blocks_count = sb->s_blocks_count_lo | (fs->has64 ? (uint64_t)sb->s_blocks_count_hi << 32 : 0);
	fs->first_data_block = sb->s_first_data_block;
	fs->bpg = sb->s_blocks_per_group;
	fs->ipg = sb->s_inodes_per_group;
	fs->inode_size = sb->s_inode_size;
	if (fs->first_data_block != (fs->bs == 1024 ? 1u : 0u))
		return -EUCLEAN;
	if (sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_BIGALLOC)
		return -EINVAL;
	if (fs->bpg != fs->bs * 8 || sb->s_clusters_per_group != fs->bpg)
		return -EUCLEAN;
	if (fs->inode_size < EXT4_GOOD_OLD_INODE_SIZE || fs->inode_size > EXT4_MAX_INODE_SIZE ||
	    fs->inode_size > fs->bs || (fs->inode_size & (fs->inode_size - 1)))
		return -EUCLEAN;
	fs->inodes_per_block = fs->bs / fs->inode_size;
	if (fs->ipg == 0 || fs->ipg > fs->bs * 8 || fs->ipg % fs->inodes_per_block || fs->ipg % 8)
		return -EUCLEAN;
	fs->itable_blocks = fs->ipg / fs->inodes_per_block;
	if (fs->blocks_count <= fs->first_data_block + 1 ||
	    fs->blocks_count > bd->block_count / fs->dev_per_block)
		return -EUCLEAN;
	uint64_t groups = (fs->blocks_count - fs->first_data_block + fs->bpg - 1) / fs->bpg;
	if (groups == 0 || groups * fs->ipg != sb->s_inodes_count || groups > 0xffffffffu / fs->ipg)
		return -EUCLEAN;
	fs->groups = (uint32_t)groups;
	fs->desc_size = EXT4_DESC_SIZE_MIN;
	if (fs->has64) {
		fs->desc_size = sb->s_desc_size;
		if (fs->desc_size < EXT4_DESC_SIZE_MIN || fs->desc_size > EXT4_DESC_SIZE_64BIT ||
		    (fs->desc_size & (fs->desc_size - 1)))
			return -EUCLEAN;
	}
	fs->gdt_blocks = (uint32_t)((groups * fs->desc_size + fs->bs - 1) / fs->bs);
	if (fs->first_data_block + 1 + fs->gdt_blocks > fs->blocks_count)
		return -EUCLEAN;
	if (sb->s_first_ino < 11 || sb->s_first_ino >= sb->s_inodes_count)
		return -EUCLEAN;
	if (fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE &&
	    sb->s_want_extra_isize > fs->inode_size - EXT4_GOOD_OLD_INODE_SIZE)
		return -EUCLEAN;
	if (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_CSUM_SEED)
		fs->csum_seed = sb->s_checksum_seed;
	else
		fs->csum_seed = ext4_csum(fs, ~0u, sb->s_uuid, sizeof(sb->s_uuid));
	return 0;
}

static int check_groups(struct ext4_fs *fs)
{
	uint64_t meta_end = fs->first_data_block + 1 + fs->gdt_blocks;
	uint64_t free_total = 0, free_inodes = 0;
	for (uint32_t g = 0; g < fs->groups; g++) {
		struct ext4_group_desc *gd = ext4_gd(fs, g);
		if (fs->csum && gd->bg_checksum != ext4_gd_csum(fs, g, gd))
			return -EUCLEAN;
		uint64_t bb = ext4_gd_block_bitmap(fs, gd), ib = ext4_gd_inode_bitmap(fs, gd);
		uint64_t it = ext4_gd_inode_table(fs, gd);
		if (bb < meta_end || bb >= fs->blocks_count || ib < meta_end || ib >= fs->blocks_count ||
		    it < meta_end || it + fs->itable_blocks > fs->blocks_count)
			return -EUCLEAN;
		if ((bb >= it && bb < it + fs->itable_blocks) || (ib >= it && ib < it + fs->itable_blocks) || bb == ib)
			return -EUCLEAN;
		if (ext4_gd_free_blocks(fs, gd) > ext4_group_nblocks(fs, g) ||
		    ext4_gd_free_inodes(fs, gd) > fs->ipg || ext4_gd_itable_unused(fs, gd) > fs->ipg ||
		    ext4_gd_used_dirs(fs, gd) > fs->ipg)
			return -EUCLEAN;
		free_total += ext4_gd_free_blocks(fs, gd);
		free_inodes += ext4_gd_free_inodes(fs, gd);
	}
	/* The superblock counters are advisory (Linux recomputes them too). */
	ext4_sb_set_free_blocks(fs, free_total);
	fs->sb.s_free_inodes_count = (uint32_t)free_inodes;
	return 0;
}

static int load_gdt(struct ext4_fs *fs)
{
	ext4_free(fs->gdt);
	fs->gdt = ext4_malloc((size_t)fs->gdt_blocks * fs->bs);
	if (!fs->gdt)
		return -ENOMEM;
	for (uint32_t b = 0; b < fs->gdt_blocks; b++) {
		int r = ext4_bread(fs, fs->first_data_block + 1 + b, fs->gdt + (size_t)b * fs->bs);
		if (r < 0)
			return r;
	}
	return check_groups(fs);
}

int ext4_mount(struct ext4_bdev *bd, unsigned flags, struct ext4_fs **out)
{
	*out = NULL;
	if (!bd || !bd->read_blocks || !bd->write_blocks || bd->block_size == 0 ||
	    bd->block_size > 4096)
		return -EINVAL;
	struct ext4_fs *fs = ext4_zalloc(sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->bd = bd;
	int r = sb_io(bd, &fs->sb, false);
	if (r == 0)
		r = check_super(fs, bd);
	if (r < 0)
		goto fail;
	bool can_write = !(flags & EXT4_MOUNT_RDONLY) &&
			 !(fs->sb.s_feature_ro_compat & ~EXT4_RO_COMPAT_SUPPORTED) &&
			 !(!fs->csum && (fs->sb.s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_GDT_CSUM)) &&
			 (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_EXTENTS);
	fs->ro = true;
	r = load_gdt(fs);
	if (r < 0)
		goto fail;
	if ((fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER) && can_write) {
		/* Replay the journal, then read the superblock and descriptors it may have rewritten. */
		fs->ro = false;
		r = ext4_journal_recover(fs, &fs->journal_replayed);
		if (r == 0)
			r = sb_io(bd, &fs->sb, false);
		if (r == 0)
			r = check_super(fs, bd);
		if (r == 0)
			r = load_gdt(fs);
		if (r < 0)
			goto fail;
		fs->sb.s_feature_incompat &= ~EXT4_FEATURE_INCOMPAT_RECOVER;
	}
	/* Without a replay (read-only mount) a journal that needs one leaves us read-only. */
	fs->ro = !can_write || (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER);
	/* The root must be a directory we can read. */
	struct ext4_iref *root;
	r = ext4_iget(fs, EXT4_ROOT_INO, &root);
	if (r < 0)
		goto fail;
	bool isdir = ext4_is_dir(root);
	ext4_iput(root);
	if (!isdir) {
		r = -EUCLEAN;
		goto fail;
	}
	fs->gen_next = fs->sb.s_wtime ^ (uint32_t)fs->sb.s_free_inodes_count;
	if (!fs->ro && !(flags & EXT4_MOUNT_NOJOURNAL)) {
		/* Metadata through the journal from now on; needs_recovery says so while mounted. */
		r = ext4_journal_start(fs);
		if (r < 0)
			goto fail;
		if (fs->jnl)
			fs->sb.s_feature_incompat |= EXT4_FEATURE_INCOMPAT_RECOVER;
	}
	if (!fs->ro) {
		fs->sb.s_state &= (uint16_t)~EXT4_STATE_VALID;
		fs->sb.s_mnt_count++;
		r = ext4_write_super(fs);
		if (r == 0)
			r = ext4_orphan_cleanup(fs, &fs->orphans_freed);   /* open-unlinked at a crash */
		if (r < 0)
			goto fail;
	}
	*out = fs;
	return 0;
fail:
	ext4_journal_stop(fs);
	fs_free(fs);
	return r;
}

uint32_t ext4_block_size(struct ext4_fs *fs) { return fs->bs; }

int ext4_sync(struct ext4_fs *fs)
{
	int r = fs->ro ? 0 : ext4_journal_commit(fs);
	if (r == 0 && !fs->ro && fs->sb_dirty)
		r = ext4_write_super(fs);
	if (r == 0 && !fs->ro && fs->bd->flush)
		r = fs->bd->flush(fs->bd);
	return r;
}

int ext4_umount(struct ext4_fs *fs)
{
	int r = 0;
	uint32_t freed;
	if (!fs->ro)
		r = ext4_orphan_cleanup(fs, &freed);      /* still open at umount: the VFS let go */
	if (fs->jnl && !fs->ro && r == 0) {
		r = ext4_journal_stop(fs);     /* nothing is left in the log */
		if (r == 0)
			fs->sb.s_feature_incompat &= ~EXT4_FEATURE_INCOMPAT_RECOVER;
	}
	ext4_journal_stop(fs);
	if (!fs->ro && r == 0) {
		fs->sb.s_state |= EXT4_STATE_VALID;
		r = ext4_write_super(fs);
		if (r == 0 && fs->bd->flush)
			r = fs->bd->flush(fs->bd);
	}
	fs_free(fs);
	return r;
}

int ext4_statfs(struct ext4_fs *fs, struct ext4_statfs *st)
{
	uint64_t resv = fs->sb.s_r_blocks_count_lo | (fs->has64 ? (uint64_t)fs->sb.s_r_blocks_count_hi << 32 : 0);
	uint64_t freeb = ext4_sb_free_blocks(fs);
	st->block_size = fs->bs;
	st->blocks = fs->blocks_count;
	st->free_blocks = freeb;
	st->avail_blocks = freeb > resv ? freeb - resv : 0;
	st->inodes = fs->sb.s_inodes_count;
	st->free_inodes = fs->sb.s_free_inodes_count;
	memcpy(st->uuid, fs->sb.s_uuid, sizeof(st->uuid));
	return 0;
}
