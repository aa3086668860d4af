/*
 * Linux riscv64 user ABI of the file system calls: flag values and structure layouts, copied from
 * the cross toolchain's asm-generic and linux headers (/usr/riscv64-linux-gnu/include). The kernel
 * never includes system headers, so these carry their own names (struct linux_stat ...) and the
 * host unit tests can include them next to the host's libc.
 */
#ifndef KERNEL_FS_ABI_H
#define KERNEL_FS_ABI_H
#include "kernel/types.h"

/* open flags (asm-generic/fcntl.h) */
#define O_ACCMODE   00000003
#define O_RDONLY    00000000
#define O_WRONLY    00000001
#define O_RDWR      00000002
#define O_CREAT     00000100
#define O_EXCL      00000200
#define O_NOCTTY    00000400
#define O_TRUNC     00001000
#define O_APPEND    00002000
#define O_NONBLOCK  00004000
#define O_DSYNC     00010000
#define O_DIRECT    00040000
#define O_LARGEFILE 00100000
#define O_DIRECTORY 00200000
#define O_NOFOLLOW  00400000
#define O_NOATIME   01000000
#define O_CLOEXEC   02000000
#define O_SYNC      04010000
#define O_PATH      010000000
#define O_TMPFILE   020200000

/* fcntl */
#define F_DUPFD         0
#define F_GETFD         1
#define F_SETFD         2
#define F_GETFL         3
#define F_SETFL         4
#define F_GETLK         5
#define F_SETLK         6
#define F_SETLKW        7
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC      1

/* *at() (linux/fcntl.h) */
#define AT_FDCWD            (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_EACCESS          0x200
#define AT_REMOVEDIR        0x200
#define AT_SYMLINK_FOLLOW   0x400
#define AT_NO_AUTOMOUNT     0x800
#define AT_EMPTY_PATH       0x1000
#define AT_STATX_SYNC_TYPE  0x6000

/* renameat2 */
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE  2
#define RENAME_WHITEOUT  4

/* access */
#define F_OK 0
#define X_OK 1
#define W_OK 2
#define R_OK 4

/* lseek */
#define SEEK_SET  0
#define SEEK_CUR  1
#define SEEK_END  2
#define SEEK_DATA 3
#define SEEK_HOLE 4

/* file types and mode bits (linux/stat.h) */
#define S_IFMT   0170000
#define S_IFSOCK 0140000
#define S_IFLNK  0120000
#define S_IFREG  0100000
#define S_IFBLK  0060000
#define S_IFDIR  0040000
#define S_IFCHR  0020000
#define S_IFIFO  0010000
#define S_ISUID  0004000
#define S_ISGID  0002000
#define S_ISVTX  0001000
#define S_IALLUGO 0007777
#define S_IXUGO  0000111
#define S_ISREG(m)  (((m) & S_IFMT) == S_IFREG)
#define S_ISDIR(m)  (((m) & S_IFMT) == S_IFDIR)
#define S_ISLNK(m)  (((m) & S_IFMT) == S_IFLNK)
#define S_ISCHR(m)  (((m) & S_IFMT) == S_IFCHR)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)
#define S_ISBLK(m)  (((m) & S_IFMT) == S_IFBLK)

/* getdents64 d_type */
#define DT_UNKNOWN 0
#define DT_FIFO    1
#define DT_CHR     2
#define DT_DIR     4
#define DT_BLK     6
#define DT_REG     8
#define DT_LNK     10
#define DT_SOCK    12

/* poll readiness bits (linux/eventpoll.h) */
#define EPOLLIN     0x001
#define EPOLLPRI    0x002
#define EPOLLOUT    0x004
#define EPOLLERR    0x008
#define EPOLLHUP    0x010
#define EPOLLRDNORM 0x040
#define EPOLLWRNORM 0x100

/* ioctls (asm-generic/ioctls.h) */
#define TCGETS     0x5401
#define TCSETS     0x5402
#define TCSETSW    0x5403
#define TCSETSF    0x5404
#define TIOCGPGRP  0x540F
#define TIOCSPGRP  0x5410
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define FIONREAD   0x541B
#define FIONBIO    0x5421
#define FIONCLEX   0x5450
#define FIOCLEX    0x5451

#define PATH_MAX 4096      /* including the NUL */
#define NAME_MAX 255
#define PIPE_BUF 4096      /* writes up to this size are atomic */
#define IOV_MAX  1024
#define MAX_RW_COUNT 0x7ffff000L            /* Linux: INT_MAX & PAGE_MASK per call */
#define LINUX_SSIZE_MAX 0x7fffffffffffffffL

/* asm-generic/stat.h */
struct linux_stat {
	unsigned long st_dev;
	unsigned long st_ino;
	unsigned int st_mode;
	unsigned int st_nlink;
	unsigned int st_uid;
	unsigned int st_gid;
	unsigned long st_rdev;
	unsigned long __pad1;
	long st_size;
	int st_blksize;
	int __pad2;
	long st_blocks;
	long st_atime_sec;
	unsigned long st_atime_nsec;
	long st_mtime_sec;
	unsigned long st_mtime_nsec;
	long st_ctime_sec;
	unsigned long st_ctime_nsec;
	unsigned int __unused4;
	unsigned int __unused5;
};

/* linux/stat.h */
struct linux_statx_timestamp { int64_t tv_sec; uint32_t tv_nsec; int32_t __reserved; };
struct linux_statx {
	uint32_t stx_mask;
	uint32_t stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink;
	uint32_t stx_uid;
	uint32_t stx_gid;
	uint16_t stx_mode;
	uint16_t __spare0[1];
	uint64_t stx_ino;
	uint64_t stx_size;
	uint64_t stx_blocks;
	uint64_t stx_attributes_mask;
	struct linux_statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major;
	uint32_t stx_rdev_minor;
	uint32_t stx_dev_major;
	uint32_t stx_dev_minor;
	uint64_t stx_mnt_id;
	uint32_t stx_dio_mem_align;
	uint32_t stx_dio_offset_align;
	uint64_t __spare3[12];
};
#define STATX_TYPE        0x001U
#define STATX_MODE        0x002U
#define STATX_NLINK       0x004U
#define STATX_UID         0x008U
#define STATX_GID         0x010U
#define STATX_ATIME       0x020U
#define STATX_MTIME       0x040U
#define STATX_CTIME       0x080U
#define STATX_INO         0x100U
#define STATX_SIZE        0x200U
#define STATX_BLOCKS      0x400U
#define STATX_BASIC_STATS 0x7ffU
#define STATX__RESERVED   0x80000000U

/* getdents64 record: header then the NUL-terminated name, padded to 8 bytes */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

/* asm-generic/statfs.h (64-bit: every word a long) */
struct linux_statfs {
	long f_type, f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	long f_namelen, f_frsize, f_flags;
	long f_spare[4];
};
#define ST_RDONLY   0x0001
#define ST_NOSUID   0x0002
#define ST_NODEV    0x0004
#define ST_NOEXEC   0x0008
#define ST_NOATIME  0x0400
#define ST_NODIRATIME 0x0800
#define ST_RELATIME 0x1000
#define ST_VALID    0x0020

/* mount(2) flags (linux/mount.h) */
#define MS_RDONLY      0x1
#define MS_NOSUID      0x2
#define MS_NODEV       0x4
#define MS_NOEXEC      0x8
#define MS_SYNCHRONOUS 0x10
#define MS_REMOUNT     0x20
#define MS_MANDLOCK    0x40
#define MS_DIRSYNC     0x80
#define MS_NOSYMFOLLOW 0x100
#define MS_NOATIME     0x400
#define MS_NODIRATIME  0x800
#define MS_BIND        0x1000
#define MS_MOVE        0x2000
#define MS_REC         0x4000
#define MS_SILENT      0x8000
#define MS_POSIXACL    (1 << 16)
#define MS_UNBINDABLE  (1 << 17)
#define MS_PRIVATE     (1 << 18)
#define MS_SLAVE       (1 << 19)
#define MS_SHARED      (1 << 20)
#define MS_RELATIME    (1 << 21)
#define MS_KERNMOUNT   (1 << 22)
#define MS_I_VERSION   (1 << 23)
#define MS_STRICTATIME (1 << 24)
#define MS_LAZYTIME    (1 << 25)
#define MS_MGC_VAL     0xC0ED0000UL
#define MS_MGC_MSK     0xffff0000UL
#define MNT_FORCE       1
#define MNT_DETACH      2
#define MNT_EXPIRE      4
#define UMOUNT_NOFOLLOW 8

/* fallocate modes (linux/falloc.h) */
#define FALLOC_FL_KEEP_SIZE  0x01
#define FALLOC_FL_PUNCH_HOLE 0x02

struct linux_iovec { uint64_t iov_base; uint64_t iov_len; };

/* asm-generic/termbits.h: the kernel's struct termios (what TCGETS copies) */
#define LINUX_NCCS 19
struct linux_termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[LINUX_NCCS];
};
struct linux_winsize { uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel; };

/* termios bits the console line discipline uses */
#define TIO_ICRNL  0x100
#define TIO_IXON   0x400
#define TIO_OPOST  0x01
#define TIO_ONLCR  0x04
#define TIO_CFLAG_DEFAULT 0x4bf        /* B38400 | CS8 | CREAD | HUPCL */
#define TIO_ISIG   0x001
#define TIO_ICANON 0x002
#define TIO_ECHO   0x008
#define TIO_ECHOE  0x010
#define TIO_ECHOK  0x020
#define TIO_ECHOCTL 0x200
#define TIO_ECHOKE 0x800
#define TIO_IEXTEN 0x8000
#define TIO_TOSTOP 0x100
#define VINTR  0
#define VQUIT  1
#define VERASE 2
#define VKILL  3
#define VEOF   4
#define VTIME  5
#define VMIN   6
#define VSUSP  10

/* new_encode_dev: the st_dev/st_rdev encoding */
static inline unsigned long linux_dev(unsigned major, unsigned minor)
{
	return (minor & 0xff) | (major << 8) | ((unsigned long)(minor & ~0xffu) << 12);
}

#endif
