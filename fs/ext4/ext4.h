/*
 * fs/ext4 public interface: an ext4 file system on a struct ext4_bdev (ext4_bdev.h), addressed by
 * inode numbers. The VFS keeps its own inode objects and calls these with (dir inode, name) pairs.
 *
 * Calling rules: one caller at a time per struct ext4_fs (the VFS holds a per-mount sleeplock around
 * every call); every call may sleep (block I/O). Names are (pointer, length), not NUL-terminated,
 * at most EXT4_NAME_MAX bytes (else -ENAMETOOLONG), never "." or ".." for create/unlink/rename,
 * never containing '/' or NUL (-EINVAL). Errors are negative errnos: -EUCLEAN for corrupted
 * metadata (bad magic, checksum, impossible values), -EIO from the device, -ENOSPC, -ENOENT,
 * -EEXIST, -ENOTDIR, -EISDIR, -ENOTEMPTY, -EROFS (mounted read-only), -EINVAL, -EOPNOTSUPP.
 * Metadata errors found while writing switch the mount read-only (errors=remount-ro).
 *
 * Lifetime: when unlink/rmdir/rename-over drop an inode's last link, ext4 asks the in_use
 * callback (ext4_set_in_use) whether the VFS still has it open: if not it is freed at once, if
 * so it goes on the on-disk orphan list (nlink 0, still readable and writable by number) until
 * the VFS calls ext4_release() at its last close. A crash leaves the list to the next mount,
 * which frees what is on it; umount frees what is left.
 */
#ifndef FS_EXT4_EXT4_H
#define FS_EXT4_EXT4_H
#include "kernel/types.h"
#include "fs/ext4/ext4_bdev.h"

#define EXT4_ROOT_INO   2
#define EXT4_NAME_MAX   255

/* Directory entry types (Linux DT_* values, as readdir reports them). */
#define EXT4_DT_UNKNOWN 0
#define EXT4_DT_FIFO    1
#define EXT4_DT_CHR     2
#define EXT4_DT_DIR     4
#define EXT4_DT_BLK     6
#define EXT4_DT_REG     8
#define EXT4_DT_LNK     10
#define EXT4_DT_SOCK    12

/* File type bits of a mode (Linux S_IF* values). */
#define EXT4_S_IFMT   0170000
#define EXT4_S_IFSOCK 0140000
#define EXT4_S_IFLNK  0120000
#define EXT4_S_IFREG  0100000
#define EXT4_S_IFBLK  0060000
#define EXT4_S_IFDIR  0040000
#define EXT4_S_IFCHR  0020000
#define EXT4_S_IFIFO  0010000

/* ext4_mount flags */
#define EXT4_MOUNT_RDONLY    1u
#define EXT4_MOUNT_NOJOURNAL 2u   /* write metadata in place, not through the journal */

/* ext4_rename flags (Linux's renameat2 values) */
#define EXT4_RENAME_NOREPLACE 1u
#define EXT4_RENAME_EXCHANGE  2u

struct ext4_fs;

struct ext4_time { int64_t sec; uint32_t nsec; };

struct ext4_stat {
	uint32_t ino;
	uint32_t mode;            /* type and permission bits */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t blocks;          /* 512-byte units allocated (data + extent tree blocks) */
	uint32_t flags;           /* EXT4_*_FL inode flags */
	uint32_t generation;
	uint32_t rdev;            /* device number of char/block nodes (Linux new encoding) */
	struct ext4_time atime, mtime, ctime, crtime;
};

/* ext4_setattr: which fields of struct ext4_setattr apply */
#define EXT4_SET_MODE  0x01u   /* permission bits only; the type is kept */
#define EXT4_SET_UID   0x02u
#define EXT4_SET_GID   0x04u
#define EXT4_SET_SIZE  0x08u   /* truncate or extend (with a hole) */
#define EXT4_SET_ATIME 0x10u
#define EXT4_SET_MTIME 0x20u
#define EXT4_SET_CTIME 0x40u

struct ext4_setattr {
	uint32_t valid;           /* EXT4_SET_* */
	uint32_t mode, uid, gid;
	uint64_t size;
	struct ext4_time atime, mtime, ctime;
};

struct ext4_statfs {
	uint32_t block_size;
	uint64_t blocks, free_blocks, avail_blocks;   /* avail: minus the root reservation */
	uint64_t inodes, free_inodes;
	uint8_t uuid[16];
};

/*
 * Called by ext4_readdir for each entry, "." and ".." included. `next` is the cookie that resumes
 * after this entry. Return nonzero to stop (the entry counts as not consumed: resume at its own
 * cookie, which was the previous call's `next`).
 */
typedef int (*ext4_filldir_t)(void *arg, const char *name, size_t len, uint32_t ino,
			      unsigned dtype, uint64_t next);

/* ---- mount ---- */
int ext4_mount(struct ext4_bdev *bd, unsigned flags, struct ext4_fs **out);
int ext4_umount(struct ext4_fs *fs);      /* writes the superblock back, flushes, frees fs */
int ext4_sync(struct ext4_fs *fs);        /* the running transaction committed, the superblock, a device flush */
/* Batched commits (journal.c): operations share a transaction, committed by ext4_sync/umount, when
 * it is JNL_BATCH_AGE_S old, or full; without (the default) each operation commits at its end. */
void ext4_journal_batch(struct ext4_fs *fs, bool on);
int ext4_journal_commit(struct ext4_fs *fs);    /* commit the running transaction now */
int ext4_statfs(struct ext4_fs *fs, struct ext4_statfs *st);
bool ext4_is_readonly(struct ext4_fs *fs);
uint32_t ext4_block_size(struct ext4_fs *fs);
/* Where the current time comes from for new timestamps (default: 0 until set). */
void ext4_set_clock(struct ext4_fs *fs, void (*now)(struct ext4_time *t));

/* ---- reading ---- */
int ext4_stat(struct ext4_fs *fs, uint32_t ino, struct ext4_stat *st);
int ext4_lookup(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t *ino);
int ext4_readdir(struct ext4_fs *fs, uint32_t dir, uint64_t *cookie, ext4_filldir_t fn, void *arg);
/* Bytes read (short at EOF, 0 past it); holes and unwritten extents read as zeros. */
long ext4_read(struct ext4_fs *fs, uint32_t ino, uint64_t off, void *buf, size_t len);
/* Copies the target (not NUL-terminated) into buf, returns its length (truncated to len). */
long ext4_readlink(struct ext4_fs *fs, uint32_t ino, char *buf, size_t len);
/* File block -> disk block (0 for a hole), for a page cache that does its own I/O. */
int ext4_bmap(struct ext4_fs *fs, uint32_t ino, uint64_t lblk, uint64_t *pblk);
/* Resolve an absolute path from the root without following symlinks (tools and tests). */
int ext4_lookup_path(struct ext4_fs *fs, const char *path, uint32_t *ino);

/* ---- writing ---- */
/* mode carries the type: EXT4_S_IFREG/IFIFO/IFSOCK/IFCHR/IFBLK (rdev for the last two). */
int ext4_mknod(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
	       uint32_t rdev, uint32_t uid, uint32_t gid, uint32_t *ino);
int ext4_create(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
		uint32_t uid, uint32_t gid, uint32_t *ino);
int ext4_mkdir(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
	       uint32_t uid, uint32_t gid, uint32_t *ino);
int ext4_symlink(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len,
		 const char *target, size_t tlen, uint32_t uid, uint32_t gid, uint32_t *ino);
/* Bytes written (all of len, or an error with nothing partially visible beyond i_size). */
long ext4_write(struct ext4_fs *fs, uint32_t ino, uint64_t off, const void *buf, size_t len);
int ext4_truncate(struct ext4_fs *fs, uint32_t ino, uint64_t size);
/* Allocates [off, off+len) as unwritten extents (read as zeros until written); the size grows to
 * off+len unless keep_size (FALLOC_FL_KEEP_SIZE). Blocks allocated before an ENOSPC stay. */
int ext4_fallocate(struct ext4_fs *fs, uint32_t ino, bool keep_size, uint64_t off, uint64_t len);
int ext4_setattr(struct ext4_fs *fs, uint32_t ino, const struct ext4_setattr *sa);
int ext4_link(struct ext4_fs *fs, uint32_t ino, uint32_t dir, const char *name, size_t len);
int ext4_unlink(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len);
int ext4_rmdir(struct ext4_fs *fs, uint32_t dir, const char *name, size_t len);
int ext4_rename(struct ext4_fs *fs, uint32_t odir, const char *oname, size_t olen,
		uint32_t ndir, const char *nname, size_t nlen, unsigned flags);

/* ---- open-but-unlinked inodes (orphan.c) ---- */
void ext4_set_in_use(struct ext4_fs *fs, bool (*in_use)(void *arg, uint32_t ino), void *arg);
/* The VFS's last close of ino: frees it if it has no names left (0 otherwise). */
int ext4_release(struct ext4_fs *fs, uint32_t ino);

#endif
