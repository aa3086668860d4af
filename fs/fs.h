/*
 * The file layer: what the rest of the kernel uses (fs/ has the implementation).
 *
 * Objects
 *   inode    a file system object: directory, regular file, symlink, character device, fifo (pipe)
 *            or socket. Reference counted; a directory entry holds one reference, so an unlinked
 *            file lives on while it is open and is freed at the last inode_put.
 *   file     an open file description: flags, offset, ops, inode, private data. Reference counted
 *            (fd table slots, dup, fork, in-flight syscalls each hold one).
 *   files    a process's fd table (shared by threads created with CLONE_FILES).
 *   fs_ctx   a process's working directory and umask (shared with CLONE_FS).
 *
 * The only file system is tmpfs (fs/tmpfs.c), holding the initramfs, /dev and /proc.
 * Locks, outermost first (each file says which lock guards what):
 *   file->pos_lock (sleeplock) -> inode->rw (sleeplock) -> tty/pipe locks -> ns_lock (spinlock,
 *   every directory of tmpfs) -> files->lock, fs_ctx->lock -> inode->lock (spinlock) -> page
 *   allocator / kmalloc. Copies to and from user memory happen under sleeplocks only.
 */
#ifndef KERNEL_FS_FS_H
#define KERNEL_FS_FS_H
#include "kernel/types.h"
#include "lib/list.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "fs/abi.h"
#include "lib/sleeplock.h"

#define FD_MAX 1024                 /* fds per process (RLIMIT_NOFILE) */

struct file;
struct inode;

/*
 * Operations on an open file. read/write get USER addresses and copy with copy_to_user /
 * copy_from_user; *pos is the file offset (f->pos for read/write, the explicit offset for
 * pread/pwrite), advanced by the op. A file is seekable when it has llseek; then the syscall layer
 * holds f->pos_lock around read/write/llseek/getdents on f->pos, and ops never take it. All return
 * bytes moved or -errno; a blocking op returns -ERESTARTSYS when a signal is pending. NULL ops
 * mean: read/write -EINVAL, llseek -ESPIPE (and pread/pwrite too), ioctl -ENOTTY, getdents
 * -ENOTDIR, poll "always ready". open (if set) runs at open(); release runs only after a
 * successful open, when the last reference goes.
 */
struct file_ops {
	long (*read)(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos);
	long (*write)(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos);
	long (*llseek)(struct file *f, long off, int whence);          /* new offset; updates f->pos */
	long (*ioctl)(struct file *f, unsigned long cmd, unsigned long arg);
	long (*getdents)(struct file *f, uintptr_t ubuf, size_t n);     /* linux_dirent64 records */
	void (*release)(struct file *f);                                 /* last reference dropped */
	unsigned (*poll)(struct file *f);                                /* EPOLLIN/OUT/HUP/ERR now */
	struct waitq *(*waitq)(struct file *f);                          /* woken when poll() changes */
	/* (poll/waitq contract for poll, select and epoll: fs/poll.h) */
	int (*open)(struct inode *ino, struct file *f);                  /* called by open(); may set priv */
	/* readv/writev as one operation (sockets: a datagram spans the segments). Optional: without
	 * it they loop over read/write. The segments are validated (access_ok, sizes). */
	long (*rw_vec)(struct file *f, const struct linux_iovec *iov, int iovcnt, bool write);
	/* fsync/fdatasync: write back what the file holds (block device nodes). Optional: 0. */
	int (*fsync)(struct file *f);
};

struct inode_ops {
	/* Symlinks: the target, a kernel string that stays valid while the caller runs (NULL: ENOENT). */
	const char *(*get_link)(struct inode *ino);
};

struct inode {
	struct spinlock lock;          /* size, data tree, times */
	struct sleeplock rw;           /* serializes writers and truncation of a regular file */
	uint32_t refcount;             /* atomic */
	uint32_t mode;                 /* S_IFxxx | permission bits */
	uint32_t nlink;                /* ns_lock */
	uint32_t rdev;                 /* devices: linux_dev(major, minor) */
	uint64_t ino;
	uint64_t size;                 /* regular files, symlinks; pipes: 0 */
	uint64_t atime, mtime, ctime;  /* nanoseconds (time_ns) */
	const struct file_ops *fops;   /* installed by open */
	const struct inode_ops *iops;
	struct inode *parent;          /* directories: "..", holding a reference (ns_lock) */
	union {
		struct { struct list_head entries; uint64_t next_cookie, count; } dir; /* ns_lock */
		struct { paddr_t root; int height; uint64_t pages; } reg;         /* lock */
		char *symlink;                                                     /* immutable */
	};
	void *priv;                    /* devices, pipes, /proc files: their owner's */
};

struct file {
	uint32_t refcount;             /* atomic */
	unsigned f_flags;              /* O_ACCMODE | O_APPEND | O_NONBLOCK ... (F_SETFL: atomic update) */
	struct sleeplock pos_lock;     /* pos: held across read/write/lseek/getdents of seekable files */
	uint64_t pos;
	const struct file_ops *ops;
	struct inode *inode;           /* holds a reference; never NULL */
	void *priv;
	struct list_head ep_links;     /* epoll items watching this file (fs/epoll.c guards it) */
};

/* ---- fd tables (file.c) ---- */
struct files {
	struct spinlock lock;          /* fd[], max, cloexec */
	uint32_t refcount;             /* atomic: threads sharing the table */
	int max;                       /* capacity of fd[] (grows up to FD_MAX) */
	struct file **fd;
	uint64_t cloexec[FD_MAX / 64];
};

struct files *files_new(void);                       /* empty table, refcount 1 (NULL: no memory) */
struct files *files_dup(struct files *old);          /* fork: a copy sharing the open files */
void files_get(struct files *fs);
void files_put(struct files *fs);                    /* last put closes every fd */
void files_close_on_exec(struct files *fs);
/* Installs f at the lowest free fd (>= min_fd); the table takes over the caller's reference on
 * success. -EMFILE (the caller keeps its reference) when full. */
int fd_install(struct files *fs, struct file *f, bool cloexec);
int fd_install_from(struct files *fs, struct file *f, int min_fd, bool cloexec);
struct file *fd_get(int fd);                         /* current's fd with a reference, or NULL */
void file_get(struct file *f);
void file_put(struct file *f);

/* A new open file on ino (takes a reference on ino): refcount 1, pos 0. NULL: no memory. */
struct file *file_alloc(struct inode *ino, const struct file_ops *ops, unsigned flags, void *priv);
/* A file on a fresh anonymous inode of the given type (S_IFSOCK for sockets, S_IFIFO ...). */
struct file *anon_file_new(uint32_t mode, const struct file_ops *ops, unsigned flags, void *priv);

/* ---- working directory (file.c) ---- */
struct fs_ctx {
	struct spinlock lock;          /* cwd, umask */
	uint32_t refcount;             /* atomic */
	struct inode *cwd;             /* holds a reference */
	unsigned umask;
};

struct fs_ctx *fs_ctx_new(void);                     /* cwd = "/", umask 022 */
struct fs_ctx *fs_ctx_dup(struct fs_ctx *old);       /* fork without CLONE_FS */
void fs_ctx_get(struct fs_ctx *fs);
void fs_ctx_put(struct fs_ctx *fs);

/* ---- inodes (tmpfs.c) ---- */
struct inode *inode_new(uint32_t mode);              /* refcount 1, nlink 0, fresh ino; NULL: no memory */
void inode_get(struct inode *ino);
void inode_put(struct inode *ino);                   /* frees data and the inode at refcount 0 */
uint64_t fs_now(void);                               /* timestamps: nanoseconds */

/* ---- for exec and mmap ---- */
/* Opens a path relative to current's cwd (or "/" without a process). NULL with *err set on failure. */
struct file *kernel_open(const char *path, int flags, int *err);
long kernel_read(struct file *f, void *kbuf, size_t n, uint64_t off);   /* regular files only */
long kernel_write(struct file *f, const void *kbuf, size_t n, uint64_t off);
/* The page holding byte pgoff*PAGE_SIZE of a regular file, allocated (zeroed) if it is a hole below
 * the file size, with page_get() taken for the caller (who page_put()s it). -ENXIO at or beyond
 * EOF (the caller raises SIGBUS), -EACCES for non-regular files, -ENOMEM. A page truncated away
 * later stays valid for whoever still holds it but is no longer part of the file. */
int file_get_page(struct file *f, uint64_t pgoff, paddr_t *pa);
bool file_is_regular(struct file *f);
uint64_t file_size(struct file *f);

/* ---- boot ---- */
void fs_init(void);                                  /* root tmpfs, /dev, /tmp, /proc */
/* Unpacks a newc cpio archive into the root. 0 or -EINVAL (malformed: what was unpacked stays). */
int initramfs_unpack(const void *data, size_t len);
/* Creates a file in /proc (or anywhere) whose contents show() writes at open: up to size bytes
 * into buf, returning the length. For /proc/net/dev, /proc/interrupts ... */
int proc_create(const char *path, size_t (*show)(char *buf, size_t size));
/* Creates a device node at path with the given ops: a character device, or a block device when
 * perm has S_IFBLK. */
int dev_create(const char *path, uint32_t perm, unsigned major, unsigned minor,
	       const struct file_ops *fops, void *priv);

/* The absolute path of path (relative to current's cwd), symlinks resolved, into buf: its length
 * or -errno (-ENAMETOOLONG when it does not fit). exec can keep it for current_exe(). */
long fs_realpath(const char *path, char *buf, size_t size);

/* Provided by the process code: the path of the current process's executable (NULL: none). */
const char *current_exe(void);

/* Provided by fs/epoll.c: the last reference to f is gone; drop it from every epoll interest
 * list (as Linux does at the last close) before ops->release runs. */
void eventpoll_release(struct file *f);

/* Extra syscalls beyond kernel/syscall.h that the table may wire up. */
long sys_umask(unsigned mask);
long sys_fchmodat(int dirfd, uintptr_t path, unsigned mode);
long sys_fchmod(int fd, unsigned mode);
long sys_truncate(uintptr_t path, long length);
long sys_symlinkat(uintptr_t target, int dirfd, uintptr_t path);
long sys_linkat(int olddirfd, uintptr_t oldpath, int newdirfd, uintptr_t newpath, int flags);
long sys_fdatasync(int fd);

#endif
