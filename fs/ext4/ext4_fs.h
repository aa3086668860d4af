/*
 * fs/ext4 internals: the on-disk structures (little-endian, read in place: see os.h), the mounted
 * file system and the functions the files of fs/ext4/ call in each other. Not for the VFS: it
 * uses ext4.h.
 */
#ifndef FS_EXT4_FS_H
#define FS_EXT4_FS_H
#include "fs/ext4/ext4.h"
#include "fs/ext4/os.h"

/* ---- superblock ---- */
#define EXT4_SB_OFFSET      1024
#define EXT4_SB_SIZE        1024
#define EXT4_SUPER_MAGIC    0xEF53
#define EXT4_MIN_LOG_BS     10
#define EXT4_MAX_LOG_BS     12          /* 1, 2 and 4 KiB blocks */
#define EXT4_GOOD_OLD_INODE_SIZE 128
#define EXT4_MAX_INODE_SIZE 1024
#define EXT4_STATE_VALID    0x0001
#define EXT4_STATE_ERROR    0x0002
#define EXT4_CRC32C_CHKSUM  1

#define EXT4_FEATURE_COMPAT_HAS_JOURNAL   0x0004
#define EXT4_FEATURE_INCOMPAT_FILETYPE    0x0002
#define EXT4_FEATURE_INCOMPAT_RECOVER     0x0004
#define EXT4_FEATURE_INCOMPAT_JOURNAL_DEV 0x0008
#define EXT4_FEATURE_INCOMPAT_META_BG     0x0010
#define EXT4_FEATURE_INCOMPAT_EXTENTS     0x0040
#define EXT4_FEATURE_INCOMPAT_64BIT       0x0080
#define EXT4_FEATURE_INCOMPAT_MMP         0x0100
#define EXT4_FEATURE_INCOMPAT_FLEX_BG     0x0200
#define EXT4_FEATURE_INCOMPAT_CSUM_SEED   0x2000
#define EXT4_FEATURE_INCOMPAT_LARGEDIR    0x4000
#define EXT4_FEATURE_INCOMPAT_INLINE_DATA 0x8000
#define EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER  0x0001
#define EXT4_FEATURE_RO_COMPAT_LARGE_FILE    0x0002
#define EXT4_FEATURE_RO_COMPAT_HUGE_FILE     0x0008
#define EXT4_FEATURE_RO_COMPAT_GDT_CSUM      0x0010
#define EXT4_FEATURE_RO_COMPAT_DIR_NLINK     0x0020
#define EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE   0x0040
#define EXT4_FEATURE_RO_COMPAT_BIGALLOC      0x0200
#define EXT4_FEATURE_RO_COMPAT_METADATA_CSUM 0x0400
#define EXT4_FEATURE_RO_COMPAT_READONLY      0x1000
/* What we can read; anything else in incompat refuses the mount. */
#define EXT4_INCOMPAT_SUPPORTED (EXT4_FEATURE_INCOMPAT_FILETYPE | EXT4_FEATURE_INCOMPAT_EXTENTS | \
	EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_FLEX_BG | EXT4_FEATURE_INCOMPAT_CSUM_SEED | \
	EXT4_FEATURE_INCOMPAT_LARGEDIR | EXT4_FEATURE_INCOMPAT_INLINE_DATA | EXT4_FEATURE_INCOMPAT_RECOVER)
/* What we can write; other ro_compat bits mount read-only. */
#define EXT4_RO_COMPAT_SUPPORTED (EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT4_FEATURE_RO_COMPAT_LARGE_FILE | \
	0x0004 /* btree_dir */ | EXT4_FEATURE_RO_COMPAT_HUGE_FILE | EXT4_FEATURE_RO_COMPAT_DIR_NLINK | \
	EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM)

struct ext4_super {
	uint32_t s_inodes_count, s_blocks_count_lo, s_r_blocks_count_lo, s_free_blocks_count_lo;
	uint32_t s_free_inodes_count, s_first_data_block, s_log_block_size, s_log_cluster_size;
	uint32_t s_blocks_per_group, s_clusters_per_group, s_inodes_per_group, s_mtime;
	uint32_t s_wtime;
	uint16_t s_mnt_count, s_max_mnt_count, s_magic, s_state, s_errors, s_minor_rev_level;
	uint32_t s_lastcheck, s_checkinterval, s_creator_os, s_rev_level;
	uint16_t s_def_resuid, s_def_resgid;
	uint32_t s_first_ino;
	uint16_t s_inode_size, s_block_group_nr;
	uint32_t s_feature_compat, s_feature_incompat, s_feature_ro_compat;
	uint8_t s_uuid[16];
	char s_volume_name[16];
	char s_last_mounted[64];
	uint32_t s_algorithm_usage_bitmap;
	uint8_t s_prealloc_blocks, s_prealloc_dir_blocks;
	uint16_t s_reserved_gdt_blocks;
	uint8_t s_journal_uuid[16];
	uint32_t s_journal_inum, s_journal_dev, s_last_orphan;
	uint32_t s_hash_seed[4];
	uint8_t s_def_hash_version, s_jnl_backup_type;
	uint16_t s_desc_size;
	uint32_t s_default_mount_opts, s_first_meta_bg, s_mkfs_time;
	uint32_t s_jnl_blocks[17];
	uint32_t s_blocks_count_hi, s_r_blocks_count_hi, s_free_blocks_count_hi;
	uint16_t s_min_extra_isize, s_want_extra_isize;
	uint32_t s_flags;
	uint8_t s_pad1[0x174 - 0x164];
	uint8_t s_log_groups_per_flex, s_checksum_type;
	uint8_t s_pad2[0x270 - 0x176];
	uint32_t s_checksum_seed;
	uint8_t s_pad3[0x3FC - 0x274];
	uint32_t s_checksum;
};
_Static_assert(sizeof(struct ext4_super) == EXT4_SB_SIZE, "superblock size");
_Static_assert(offsetof(struct ext4_super, s_feature_compat) == 0x5C, "sb layout");
_Static_assert(offsetof(struct ext4_super, s_desc_size) == 0xFE, "sb layout");
_Static_assert(offsetof(struct ext4_super, s_blocks_count_hi) == 0x150, "sb layout");
_Static_assert(offsetof(struct ext4_super, s_want_extra_isize) == 0x15E, "sb layout");

/* ---- group descriptor (32 bytes, or 64 with the 64bit feature) ---- */
#define EXT4_BG_INODE_UNINIT  0x0001
#define EXT4_BG_BLOCK_UNINIT  0x0002
#define EXT4_BG_INODE_ZEROED  0x0004
#define EXT4_DESC_SIZE_MIN    32
#define EXT4_DESC_SIZE_64BIT  64

struct ext4_group_desc {
	uint32_t bg_block_bitmap_lo, bg_inode_bitmap_lo, bg_inode_table_lo;
	uint16_t bg_free_blocks_count_lo, bg_free_inodes_count_lo, bg_used_dirs_count_lo, bg_flags;
	uint32_t bg_exclude_bitmap_lo;
	uint16_t bg_block_bitmap_csum_lo, bg_inode_bitmap_csum_lo, bg_itable_unused_lo, bg_checksum;
	/* 64bit only: */
	uint32_t bg_block_bitmap_hi, bg_inode_bitmap_hi, bg_inode_table_hi;
	uint16_t bg_free_blocks_count_hi, bg_free_inodes_count_hi, bg_used_dirs_count_hi, bg_itable_unused_hi;
	uint32_t bg_exclude_bitmap_hi;
	uint16_t bg_block_bitmap_csum_hi, bg_inode_bitmap_csum_hi;
	uint32_t bg_reserved;
};
_Static_assert(sizeof(struct ext4_group_desc) == 64, "gd size");
#define EXT4_GD_CSUM_OFFSET 0x1E
#define EXT4_GD_BITMAP_CSUM_HI_END 0x3C

/* ---- inode ---- */
#define EXT4_N_BLOCKS        15
#define EXT4_INLINE_SIZE     (EXT4_N_BLOCKS * 4)     /* i_block: fast symlinks, inline data */
#define EXT4_SECRM_FL        0x00000001
#define EXT4_INDEX_FL        0x00001000
#define EXT4_HUGE_FILE_FL    0x00040000
#define EXT4_EXTENTS_FL      0x00080000
#define EXT4_EA_INODE_FL     0x00200000
#define EXT4_INLINE_DATA_FL  0x10000000
#define EXT4_INODE_CSUM_HI_EXTRA 4                   /* i_extra_isize needed for i_checksum_hi */
#define EXT4_EPOCH_BITS      2
#define EXT4_EPOCH_MASK      3u

struct ext4_inode {
	uint16_t i_mode, i_uid;
	uint32_t i_size_lo, i_atime, i_ctime, i_mtime, i_dtime;
	uint16_t i_gid, i_links_count;
	uint32_t i_blocks_lo, i_flags, i_version;
	uint32_t i_block[EXT4_N_BLOCKS];
	uint32_t i_generation, i_file_acl_lo, i_size_high, i_obso_faddr;
	uint16_t i_blocks_high, i_file_acl_high, i_uid_high, i_gid_high, i_checksum_lo, i_reserved;
	/* large inodes (i_extra_isize bytes from here are valid): */
	uint16_t i_extra_isize, i_checksum_hi;
	uint32_t i_ctime_extra, i_mtime_extra, i_atime_extra, i_crtime, i_crtime_extra;
	uint32_t i_version_hi, i_projid;
};
_Static_assert(sizeof(struct ext4_inode) == 160, "inode size");
_Static_assert(offsetof(struct ext4_inode, i_checksum_lo) == 0x7C, "inode layout");
#define EXT4_INODE_EXTRA_END(field) (offsetof(struct ext4_inode, field) + 4 - EXT4_GOOD_OLD_INODE_SIZE)

/* An inode read into memory; raw holds s_inode_size bytes. */
struct ext4_iref {
	uint32_t ino;
	uint32_t csum_seed;        /* crc32c seed for this inode's blocks (extent, dir) */
	union {
		struct ext4_inode i;
		uint8_t raw[EXT4_MAX_INODE_SIZE];
	};
};

/* ---- extents ---- */
#define EXT4_EXT_MAGIC        0xF30A
#define EXT4_EXT_MAX_DEPTH    5
#define EXT4_EXT_INIT_MAX_LEN 32768u
#define EXT4_EXT_UNWRITTEN_MAX_LEN (EXT4_EXT_INIT_MAX_LEN - 1)
#define EXT4_MAX_LBLK   0xFFFFFFFEu          /* last logical block a file may use */
struct ext4_extent_header { uint16_t eh_magic, eh_entries, eh_max, eh_depth; uint32_t eh_generation; };
struct ext4_extent { uint32_t ee_block; uint16_t ee_len, ee_start_hi; uint32_t ee_start_lo; };
struct ext4_extent_idx { uint32_t ei_block, ei_leaf_lo; uint16_t ei_leaf_hi, ei_unused; };
struct ext4_extent_tail { uint32_t et_checksum; };

/* ---- directories ---- */
#define EXT4_DIRENT_HDR     8
#define EXT4_DIR_ROUND      4
#define EXT4_DIRENT_TAIL_SIZE 12
#define EXT4_DIRENT_TAIL_FT 0xDE
#define EXT4_DX_MAX_LEVELS  3            /* with largedir; 2 without */
struct ext4_dirent { uint32_t inode; uint16_t rec_len; uint8_t name_len, file_type; char name[]; };
struct ext4_dirent_tail { uint32_t det_reserved_zero1; uint16_t det_rec_len; uint8_t det_reserved_zero2, det_reserved_ft; uint32_t det_checksum; };
struct ext4_dx_root_info { uint32_t reserved_zero; uint8_t hash_version, info_length, indirect_levels, unused_flags; };
struct ext4_dx_countlimit { uint16_t limit, count; };
struct ext4_dx_entry { uint32_t hash, block; };
struct ext4_dx_tail { uint32_t dt_reserved, dt_checksum; };
#define EXT4_DIR_REC_LEN(n) (((n) + EXT4_DIRENT_HDR + EXT4_DIR_ROUND - 1) & ~(EXT4_DIR_ROUND - 1))

#define EXT4_DX_HASH_LEGACY 0
#define EXT4_DX_HASH_HALF_MD4 1
#define EXT4_DX_HASH_TEA 2
#define EXT4_DX_HASH_LEGACY_UNSIGNED 3
#define EXT4_DX_HASH_HALF_MD4_UNSIGNED 4
#define EXT4_DX_HASH_TEA_UNSIGNED 5
#define EXT2_FLAGS_UNSIGNED_HASH 0x0002

/* ---- inline data: the ibody extended attribute area ---- */
#define EXT4_XATTR_MAGIC       0xEA020000u
#define EXT4_XATTR_INDEX_SYSTEM 7
#define EXT4_XATTR_ENTRY_SIZE  16
struct ext4_xattr_entry { uint8_t e_name_len, e_name_index; uint16_t e_value_offs; uint32_t e_value_inum, e_value_size, e_hash; char e_name[]; };

/* ---- the mounted file system ---- */
#define EXT4_CSUM_GOOD_SLOTS 2048
#define EXT4_SPARE_BLOCKS 16       /* block buffers ext4_bfree keeps for the next ext4_balloc */

struct ext4_fs {
	struct ext4_bdev *bd;
	struct ext4_super sb;             /* in-memory copy, written back by ext4_write_super */
	uint32_t bs, log_bs;              /* file-system block size */
	uint32_t dev_per_block;           /* device blocks per fs block */
	uint64_t blocks_count;
	uint32_t first_data_block, bpg, ipg, inode_size, desc_size, groups, gdt_blocks;
	uint32_t inodes_per_block, itable_blocks;
	uint8_t *gdt;                     /* groups * desc_size bytes, the primary table */
	uint32_t csum_seed;
	bool csum;                        /* metadata_csum */
	bool has64;                       /* 64bit */
	bool ro;
	bool sb_dirty;
	uint32_t gen_next;                /* i_generation for new inodes */
	uint32_t journal_replayed;        /* blocks the mount replayed from the journal */
	void (*now)(struct ext4_time *t);
	struct ext4_jnl *jnl;             /* journal writer (journal.c); NULL: write in place */
	uint8_t **pending_free;           /* per group: blocks freed in the running batched transaction (alloc.c) */
	bool (*in_use)(void *arg, uint32_t ino);   /* the VFS: is this inode open? (orphan.c) */
	void *in_use_arg;
	bool orphan_dirty;                /* s_last_orphan changed: superblock after the commit */
	uint32_t orphans_freed;           /* by the mount's cleanup */
	/* blocks whose checksum is known good since mount (csum.c: ext4_csum_known_good); slot
	 * blk % EXT4_CSUM_GOOD_SLOTS holds blk + 1 (0: empty); relaxed atomic loads and stores */
	uint64_t csum_good[EXT4_CSUM_GOOD_SLOTS];
	void *spare[EXT4_SPARE_BLOCKS];   /* block-sized buffers kept for reuse (ext4_balloc) */
	uint32_t nspare;
};

static inline uint32_t ext4_min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* super.c */
int ext4_bread(struct ext4_fs *fs, uint64_t blk, void *buf);
int ext4_bwrite(struct ext4_fs *fs, uint64_t blk, const void *buf);      /* metadata */
int ext4_bwrite_raw(struct ext4_fs *fs, uint64_t blk, const void *buf);  /* file data, the log */
/* len bytes at off of block blk, as ext4_bread would see them (no copy of the whole block
 * when it is in the running transaction) */
int ext4_bpeek(struct ext4_fs *fs, uint64_t blk, uint32_t off, void *dst, uint32_t len);
/* len bytes at off of metadata block blk: in place when the block is in the running
 * transaction, else read, patch, ext4_bwrite */
int ext4_bpatch(struct ext4_fs *fs, uint64_t blk, uint32_t off, const void *src, uint32_t len);
/* A block-sized buffer (contents undefined) and its return; ext4_bfree also takes any buffer of
 * ext4_malloc(fs->bs), and NULL. Operations allocate and drop several per call: a few are kept
 * instead of going back to the allocator each time. */
void *ext4_balloc(struct ext4_fs *fs);
void ext4_bfree(struct ext4_fs *fs, void *p);
struct ext4_group_desc *ext4_gd(struct ext4_fs *fs, uint32_t g);
uint64_t ext4_gd_block_bitmap(struct ext4_fs *fs, const struct ext4_group_desc *gd);
uint64_t ext4_gd_inode_bitmap(struct ext4_fs *fs, const struct ext4_group_desc *gd);
uint64_t ext4_gd_inode_table(struct ext4_fs *fs, const struct ext4_group_desc *gd);
uint32_t ext4_gd_free_blocks(struct ext4_fs *fs, const struct ext4_group_desc *gd);
uint32_t ext4_gd_free_inodes(struct ext4_fs *fs, const struct ext4_group_desc *gd);
uint32_t ext4_gd_used_dirs(struct ext4_fs *fs, const struct ext4_group_desc *gd);
uint32_t ext4_gd_itable_unused(struct ext4_fs *fs, const struct ext4_group_desc *gd);
void ext4_gd_set_free_blocks(struct ext4_fs *fs, struct ext4_group_desc *gd, uint32_t v);
void ext4_gd_set_free_inodes(struct ext4_fs *fs, struct ext4_group_desc *gd, uint32_t v);
void ext4_gd_set_used_dirs(struct ext4_fs *fs, struct ext4_group_desc *gd, uint32_t v);
void ext4_gd_set_itable_unused(struct ext4_fs *fs, struct ext4_group_desc *gd, uint32_t v);
int ext4_write_gd(struct ext4_fs *fs, uint32_t g);      /* checksum + write its GDT block */
uint64_t ext4_sb_free_blocks(struct ext4_fs *fs);
void ext4_sb_set_free_blocks(struct ext4_fs *fs, uint64_t v);
uint64_t ext4_group_first_block(struct ext4_fs *fs, uint32_t g);
uint32_t ext4_group_nblocks(struct ext4_fs *fs, uint32_t g);
bool ext4_group_has_super(struct ext4_fs *fs, uint32_t g);
int ext4_corrupt(struct ext4_fs *fs);
int ext4_write_super(struct ext4_fs *fs);    /* note a metadata error: read-only from now on, -EUCLEAN */
void ext4_now(struct ext4_fs *fs, struct ext4_time *t);

/* csum.c */
uint32_t ext4_csum(struct ext4_fs *fs, uint32_t seed, const void *buf, size_t len);
/* A metadata block whose checksum was verified once is not verified again at every read (as
 * Linux's buffer_verified): only this file system writes the disk, and it writes metadata with
 * its checksum set. Known-good is a small direct-mapped set; a block pushed out of it is simply
 * verified again. */
bool ext4_csum_known_good(struct ext4_fs *fs, uint64_t blk);
void ext4_csum_mark_good(struct ext4_fs *fs, uint64_t blk);
void ext4_sb_csum_set(struct ext4_fs *fs, struct ext4_super *sb);
bool ext4_sb_csum_ok(struct ext4_super *sb);
uint16_t ext4_gd_csum(struct ext4_fs *fs, uint32_t g, const struct ext4_group_desc *gd);
void ext4_bitmap_csum_set(struct ext4_fs *fs, struct ext4_group_desc *gd, bool inode, const void *bm);
bool ext4_bitmap_csum_ok(struct ext4_fs *fs, const struct ext4_group_desc *gd, bool inode, const void *bm);
void ext4_inode_csum_set(struct ext4_fs *fs, struct ext4_iref *ir);
bool ext4_inode_csum_ok(struct ext4_fs *fs, struct ext4_iref *ir);
void ext4_extent_csum_set(struct ext4_fs *fs, struct ext4_iref *ir, void *blk);
bool ext4_extent_csum_ok(struct ext4_fs *fs, struct ext4_iref *ir, const void *blk);
bool ext4_dirblock_has_tail(struct ext4_fs *fs, const void *blk);
void ext4_dirblock_init_tail(struct ext4_fs *fs, void *blk);
void ext4_dirblock_csum_set(struct ext4_fs *fs, struct ext4_iref *ir, void *blk);
void ext4_dirblock_csum_seed_set(struct ext4_fs *fs, uint32_t seed, void *blk);
/* a directory leaf to its block, checksummed now or, in a transaction, by its commit */
int ext4_dirblock_write(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t pblk, uint8_t *blk);
bool ext4_dirblock_csum_ok(struct ext4_fs *fs, struct ext4_iref *ir, const void *blk);

/* alloc.c */
int ext4_alloc_blocks(struct ext4_fs *fs, uint64_t goal, uint32_t want, uint64_t *first, uint32_t *got);
int ext4_free_blocks(struct ext4_fs *fs, uint64_t first, uint32_t count);
int ext4_alloc_inode(struct ext4_fs *fs, uint32_t parent, bool dir, uint32_t *ino);
int ext4_free_inode(struct ext4_fs *fs, uint32_t ino, bool dir);

/* inode.c */
int ext4_iget(struct ext4_fs *fs, uint32_t ino, struct ext4_iref **out);
void ext4_iput(struct ext4_iref *ir);
int ext4_iwrite(struct ext4_fs *fs, struct ext4_iref *ir);
uint64_t ext4_isize(const struct ext4_iref *ir);
void ext4_set_isize(struct ext4_iref *ir, uint64_t size);
uint64_t ext4_iblocks(struct ext4_fs *fs, const struct ext4_iref *ir);   /* 512-byte units */
void ext4_iblocks_add(struct ext4_fs *fs, struct ext4_iref *ir, int64_t fs_blocks);
void ext4_iset_time(struct ext4_iref *ir, int which, const struct ext4_time *t);
#define EXT4_T_ATIME 1
#define EXT4_T_MTIME 2
#define EXT4_T_CTIME 4
#define EXT4_T_CRTIME 8
void ext4_touch(struct ext4_fs *fs, struct ext4_iref *ir, int which);
int ext4_iread_data(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t off, void *buf, size_t len);
int ext4_inline_get(struct ext4_fs *fs, struct ext4_iref *ir, const uint8_t **xval, uint32_t *xlen);
/* grow: the size follows the allocation (not FALLOC_FL_KEEP_SIZE); the caller sets the final one. */
int ext4_iallocate(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t off, uint64_t len, bool grow);
int ext4_itruncate(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t size);
/* Zeros from byte `size` to the end of its block on the device (file data, in place). */
int ext4_zero_tail(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t size);
/* Frees the blocks from file block `from` on, in pieces from the end; with `restart` each piece
 * may end its transaction (ext4_tx_restart): only for an inode whose every intermediate state is
 * valid (a regular file being truncated, or one on the orphan list). */
int ext4_itrunc_blocks(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t from, bool restart);
bool ext4_ibig(struct ext4_fs *fs, struct ext4_iref *ir);     /* freeing it takes several pieces */
long ext4_iwrite_data(struct ext4_fs *fs, struct ext4_iref *ir, uint64_t off, const void *buf, size_t len);
int ext4_drop_link(struct ext4_fs *fs, struct ext4_iref *ir);  /* nlink-1, free at 0 */
bool ext4_is_dir(const struct ext4_iref *ir);
int ext4_inew(struct ext4_fs *fs, uint32_t ino, uint32_t mode, uint32_t uid, uint32_t gid,
	      struct ext4_iref **out);
int ext4_ifree(struct ext4_fs *fs, struct ext4_iref *ir);      /* link count 0: free it all */
void ext4_iget_stat(struct ext4_fs *fs, struct ext4_iref *ir, struct ext4_stat *st);

/* extents.c */
int ext4_ext_check_root(struct ext4_fs *fs, struct ext4_iref *ir);
/* lblk -> pblk (0: a hole); *run: blocks from lblk to the end of that extent or hole (a hole after the
 * last extent runs to the end of the file's block range). */
int ext4_ext_map(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk, uint64_t *pblk, uint32_t *run, bool *unwritten);
int ext4_ext_insert(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk, uint64_t pblk, uint32_t len);
/* The same, into a hole, as an unwritten extent (reads as zeros) when unwritten is set. */
int ext4_ext_insert_flags(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk, uint64_t pblk, uint32_t len,
			  bool unwritten);
/* [lblk, lblk+n), inside one unwritten extent, becomes written (its data is on disk already). */
int ext4_ext_mark_written(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t lblk, uint32_t n);
int ext4_ext_truncate(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t from);
void ext4_ext_init_root(struct ext4_iref *ir);
int ext4_ext_last_chunk(struct ext4_fs *fs, struct ext4_iref *ir, uint32_t from, uint32_t limit,
			uint32_t *start, bool *any);

/* journal.c */
int ext4_journal_recover(struct ext4_fs *fs, uint32_t *replayed);
int ext4_journal_start(struct ext4_fs *fs);          /* rw mount: set up fs->jnl (or leave NULL) */
int ext4_journal_stop(struct ext4_fs *fs);           /* commit what is pending, free fs->jnl */
void ext4_tx_begin(struct ext4_fs *fs);              /* around each public write operation */
int ext4_tx_end(struct ext4_fs *fs, int r);          /* commits at the outermost end (unless batching); returns r or the commit error */
bool ext4_journal_batching(struct ext4_fs *fs);
/* Commits inside an operation too (its first part then commits alone): only to get back blocks
 * freed in the running transaction when nothing else is free, as Linux's ENOSPC retry does. */
int ext4_journal_commit_now(struct ext4_fs *fs);
/* A point where the operation's on-disk state is valid once ir is written: when the running
 * transaction holds more than half of what the log takes, write ir and commit, so the rest of a
 * big operation (a huge write, fallocate or truncate) goes into new transactions instead of
 * overflowing the log. */
int ext4_tx_restart(struct ext4_fs *fs, struct ext4_iref *ir);
uint32_t ext4_journal_commits(struct ext4_fs *fs);   /* transactions committed since the mount */
/* alloc.c: blocks freed in the running transaction, kept from reuse until it commits */
void ext4_pending_clear(struct ext4_fs *fs);
bool ext4_tx_active(struct ext4_fs *fs);
bool ext4_tx_get(struct ext4_fs *fs, uint64_t blk, void *buf);
uint8_t *ext4_tx_block(struct ext4_fs *fs, uint64_t blk);   /* its copy in the running transaction, or NULL */
/* Checksums the commit computes (as jbd2's commit-time triggers): a block put many times into a
 * running transaction (a bitmap, a directory leaf) is checksummed once, when it goes to the log. */
#define EXT4_TXC_DIRLEAF  1       /* arg: the directory's checksum seed (ir->csum_seed) */
#define EXT4_TXC_BBITMAP  2       /* arg: the group; the checksum goes to its descriptor */
#define EXT4_TXC_IBITMAP  3
bool ext4_tx_csum_deferrable(struct ext4_fs *fs);           /* metadata_csum, inside a transaction */
int ext4_bwrite_csum_later(struct ext4_fs *fs, uint64_t blk, const void *buf, uint8_t kind, uint32_t arg);
bool ext4_tx_csum_pending(struct ext4_fs *fs, uint64_t blk);
/* new data blocks written in part, kept until the commit (journal.c explains) */
int ext4_tx_data_put(struct ext4_fs *fs, uint64_t blk, const void *buf);
bool ext4_tx_data_update(struct ext4_fs *fs, uint64_t blk, const void *buf);   /* false: no copy */
void ext4_tx_data_drop(struct ext4_fs *fs, uint64_t first, uint32_t count);
void ext4_tx_data_overlay(struct ext4_fs *fs, uint64_t first, uint32_t count, uint8_t *buf);
int ext4_tx_put(struct ext4_fs *fs, uint64_t blk, const void *buf);
void ext4_tx_forget(struct ext4_fs *fs, uint64_t first, uint32_t count);

/* orphan.c */
int ext4_last_link(struct ext4_fs *fs, struct ext4_iref *ir);   /* links hit 0: free or orphan */
int ext4_orphan_cleanup(struct ext4_fs *fs, uint32_t *freed);

/* hash.c */
int ext4_dx_hash(const char *name, size_t len, unsigned version, const uint32_t seed[4], uint32_t *out);
int ext4_dx_hash2(const char *name, size_t len, unsigned version, const uint32_t seed[4], uint32_t *out,
		  uint32_t *minor);

/* htree.c: indexed directories. -EAGAIN: the index cannot be used (unknown hash): go linear. */
struct ext4_dx_hit { uint8_t *blk; uint64_t pblk; uint32_t lblk, off, prev; };   /* blk: caller's bs buffer */
int ext4_dx_find(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, struct ext4_dx_hit *hit);
int ext4_dx_add(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t ino, uint8_t ftype);
int ext4_dx_make_indexed(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t ino,
			 uint8_t ftype);
/* readdir of an indexed directory in hash order: cookies are hash positions (see htree.c). */
int ext4_dx_readdir(struct ext4_fs *fs, struct ext4_iref *dir, uint64_t *cookie, ext4_filldir_t fn, void *arg);
unsigned ext4_ftype_to_dt(uint8_t ft);   /* dir.c */

/* dir.c */
int ext4_dir_find(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t *ino);
int ext4_dir_add(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t ino, uint8_t ftype);
int ext4_dir_remove(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len);
int ext4_dir_set_ino(struct ext4_fs *fs, struct ext4_iref *dir, const char *name, size_t len, uint32_t ino, uint8_t ftype);
int ext4_dir_is_empty(struct ext4_fs *fs, struct ext4_iref *dir);
int ext4_dir_init(struct ext4_fs *fs, struct ext4_iref *dir, uint32_t parent);
int ext4_dir_iterate(struct ext4_fs *fs, struct ext4_iref *dir, uint64_t *cookie, ext4_filldir_t fn, void *arg);
uint8_t ext4_mode_to_ftype(uint32_t mode);

#endif
