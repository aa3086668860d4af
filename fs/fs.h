/*
 * The file layer: what the rest of the kernel uses (fs/ has the implementation).
 *
 * Ember's file layer is a VFS: several file system TYPES (tmpfs, proc, devtmpfs, and disk file
 * systems such as ext4 through fs/vfs_disk.h) register with it; each mount of one makes (or
 * shares) a SUPER BLOCK, and the mount table (fs/mount.h) grafts super blocks onto directories.
 *
 * Objects
 *   inode    a file system object: directory, regular file, symlink, device, fifo or socket. The
 *            VFS part (this struct) has the attributes every fs shares; a file system embeds it in
 *            its own inode (tmpfs: struct tmpfs_inode) and gives it inode_ops. Reference counted;
 *            at the last inode_put the super block's evict frees it (anonymous inodes of pipes and
 *            sockets have no super block and are simply freed).
 *   super_block  one mounted instance of a file system: root inode, super_ops, flags, st_dev.
 *   mount    a super block (or a directory of one: bind mounts) attached on a directory of
 *            another mount. A (mount, inode) pair is a struct path; cwds and open files hold one.
 *   file     an open file description: flags, offset, ops, path, private data. Reference counted
 *            (fd table slots, dup, fork, in-flight syscalls each hold one).
 *   files    a process's fd table (shared by threads created with CLONE_FILES).
 *   fs_ctx   a process's working directory and umask (shared with CLONE_FS).
 *
 * There are no dentries: a path walk (fs/namei.c) calls ->lookup on each component, crossing into
 * a mount when the inode it reached is a mountpoint of the mount it walks in, and out of one when
 * ".." is taken at a mount's root. Every inode a walk hands out carries a reference, so file
 * systems may sleep in any inode op (disk I/O).
 *
 * Locks, outermost first (each file says which lock guards what):
 *   mount_sem (sleeplock: mount table changes, fs/mount.c) -> file->pos_lock (sleeplock) ->
 *   inode->rw (sleeplock) -> a file system's own sleeplocks (ext4: one per mount) -> bd->lock
 *   (sleeplock: a block device node's transfers, fs/blkdev.c) -> tty/pipe locks -> spinlocks,
 *   none of which nests in another of this list: ns_lock (every tmpfs directory), mount_lock
 *   (the mount list, taken by walks), the inode cache's lock (fs/inode.c), files->lock,
 *   fs_ctx->lock; then inode->lock (spinlock) -> page allocator / kmalloc. Copies to and from
 *   user memory happen under sleeplocks only. inode_put may sleep (evict of a disk inode), so the
 *   VFS never calls it under a spinlock (tmpfs does under ns_lock: its evict only frees memory).
 */
#ifndef KERNEL_FS_FS_H
#define KERNEL_FS_FS_H
#include "kernel/types.h"
#include "lib/list.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "fs/abi.h"
#include "lib/sleeplock.h"

/* fds per process at most: RLIMIT_NOFILE's ceiling, Linux's fs.nr_open, which root may change
 * through /proc/sys/fs/nr_open (fs/proc_nr_open.c) within Linux's bounds */
#define NR_OPEN_DEFAULT (1 << 20)
#define NR_OPEN_MIN 64                 /* sysctl_nr_open_min: BITS_PER_LONG */
#define NR_OPEN_MAX 0x7fffffc0         /* sysctl_nr_open_max: INT_MAX rounded down to BITS_PER_LONG */
extern unsigned int nr_open;           /* fs/file.c */
#define NR_OPEN ((int)READ_ONCE(nr_open))
int proc_nr_open_init(void);           /* /proc/sys/fs/nr_open */

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
};

struct super_block;
struct mount;
struct linux_statfs;
struct icache;
struct blkdev;

/* A place in the tree: a mount and an inode of its super block (both referenced when held). */
struct path {
	struct mount *mnt;
	struct inode *ino;
};

/* setattr: which fields apply */
#define ATTR_MODE  0x01u            /* permission bits only; the type is kept */
#define ATTR_SIZE  0x08u            /* truncate or extend with a hole */
#define ATTR_ATIME 0x10u
#define ATTR_MTIME 0x20u
struct iattr {
	unsigned valid;
	uint32_t mode;
	uint64_t size;
	uint64_t atime, mtime;          /* nanoseconds */
};

/* readdir callback: one entry ("." and ".." included); next resumes after it. Nonzero stops (the
 * entry is then not consumed). */
typedef int (*filldir_t)(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype,
			 uint64_t next);

/*
 * Operations on inodes, supplied per inode by its file system. Every op may sleep. Names are
 * (pointer, length), never "." or ".." except for lookup, which must answer ".." (the fs root's
 * ".." is itself; the VFS handles mount roots before asking). The VFS checks beforehand what
 * does not depend on the file system: the directory exists and is one, the mount is writable
 * (EROFS), both ends of link/rename are on one mount (EXDEV), the name's length, "." and "..",
 * mountpoints (EBUSY), and that a directory is not moved below itself. The fs checks what needs
 * its data: existence (EEXIST/ENOENT), the types of rename's two ends (EISDIR/ENOTDIR) and
 * emptiness (ENOTEMPTY). A NULL op gives -EPERM (namespace changes), -EINVAL (data), or the
 * documented default.
 */
struct inode_ops {
	/* directories */
	struct inode *(*lookup)(struct inode *dir, const char *name, size_t len, int *err);  /* referenced; -ENOENT */
	/* A new non-directory (S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK with rdev): -EEXIST if
	 * the name exists. *out (if out) gets it referenced. */
	int (*create)(struct inode *dir, const char *name, size_t len, uint32_t mode, uint32_t rdev,
		      struct inode **out);
	int (*mkdir)(struct inode *dir, const char *name, size_t len, uint32_t mode);
	int (*symlink)(struct inode *dir, const char *name, size_t len, const char *target);
	int (*link)(struct inode *ino, struct inode *dir, const char *name, size_t len);
	int (*unlink)(struct inode *dir, const char *name, size_t len);       /* not a directory */
	int (*rmdir)(struct inode *dir, const char *name, size_t len);        /* -ENOTEMPTY */
	/* flags: RENAME_NOREPLACE / RENAME_EXCHANGE; both dirs are of this super block */
	int (*rename)(struct inode *odir, const char *oname, size_t olen, struct inode *ndir,
		      const char *nname, size_t nlen, unsigned flags);
	/* Entries from *cookie on (0 is the start) until fn returns nonzero; *cookie advances past
	 * every consumed entry. 0 or -errno (-ENOENT: the directory was removed). */
	int (*readdir)(struct inode *dir, uint64_t *cookie, filldir_t fn, void *arg);
	/* O_TMPFILE: an unnamed regular file (nlink 0) of dir's super block, referenced */
	int (*tmpfile)(struct inode *dir, uint32_t mode, struct inode **out);
	/* symlinks: the target into buf (not NUL-terminated), its length (truncated to size) */
	long (*readlink)(struct inode *ino, char *buf, size_t size);
	/* regular files; user says whether buf is a user address (copy_*_user) or a kernel one */
	long (*read)(struct inode *ino, void *buf, size_t n, uint64_t pos, bool user);
	/* with append, at the end; advances *pos; -EFBIG, -ENOSPC */
	long (*write)(struct inode *ino, const void *buf, size_t n, uint64_t *pos, bool append, bool user);
	/* mmap: the page holding byte pgoff*PAGE_SIZE, page_get() taken (see file_get_page) */
	int (*get_page)(struct inode *ino, uint64_t pgoff, paddr_t *pa);
	/* the same for a page already in memory, never sleeping nor allocating (-ENOENT when it is
	 * not; file_find_page). Optional: without it fault-around maps nothing. */
	int (*find_page)(struct inode *ino, uint64_t pgoff, paddr_t *pa);
	int (*fsync)(struct inode *ino, bool datasync);                 /* NULL: nothing to write */
	/* write pages stores through shared mappings may have changed to the file system (not
	 * necessarily to stable storage: msync MS_ASYNC, munmap of the last writable mapping).
	 * Optional: NULL when mapped pages are the file's own (tmpfs). */
	int (*writeback)(struct inode *ino);
	int (*fallocate)(struct inode *ino, int mode, uint64_t off, uint64_t len);  /* NULL: -EOPNOTSUPP */
	/* any inode: chmod, truncate, utimes (NULL: the VFS updates its own fields) */
	int (*setattr)(struct inode *ino, const struct iattr *ia);
};

struct inode {
	struct spinlock lock;          /* size, blocks, mode, times */
	struct sleeplock rw;           /* serializes writers and truncation of a regular file */
	uint32_t refcount;             /* atomic */
	uint32_t mode;                 /* S_IFxxx | permission bits */
	uint32_t nlink;                /* the file system's lock (tmpfs: ns_lock) */
	uint32_t writers;              /* atomic: open files of a regular file with write access (ETXTBSY) */
	uint32_t rdev;                 /* devices: linux_dev(major, minor) */
	uint32_t mounted;              /* mounts on this inode (atomic; the mount table's hint) */
	uint64_t ino;
	uint64_t size;                 /* regular files, symlinks, directories as the fs reports */
	uint64_t blocks;               /* 512-byte units allocated */
	uint64_t atime, mtime, ctime;  /* nanoseconds (time_ns) */
	const struct file_ops *fops;   /* installed by open */
	const struct inode_ops *iops;
	struct super_block *sb;        /* NULL for anonymous inodes (pipes, sockets) */
	void *priv;                    /* devices, pipes, /proc files: their owner's */
	struct list_head hash;         /* sb->icache (its lock), for file systems that use one */
	bool hashed;
	uint32_t seals;                /* memfd seals (fs/memfd_seal.c); 0 for other files */
	uint32_t mmap_writers;         /* atomic: VMAs mapping it MAP_SHARED with PROT_WRITE (mm/uvm.c) */
	uint32_t mmap_dirty;           /* atomic: such a VMA went away or lost PROT_WRITE since the
					* last writeback of its pages (mm/uvm.c sets, fs/pcache.c clears) */
	/* reverse map (mm/rmap.c): every file VMA mapping this inode (vma->rnode), so truncation
	 * can unmap the pages past the new EOF; i_mmap_lock is taken inside mm->lock */
	struct list_head i_mmap;
	struct spinlock i_mmap_lock;
	uint64_t mmap_seq;             /* atomic: bumped by each such unmap (faults re-check it) */
};

/* fs/memfd_seal.c: memfd seals and their checks (each 0 or -EPERM; no-ops without seals) */
bool memfd_inode(struct inode *ino);                           /* fs/memfd.c: made by memfd_create */
bool memfd_seal_cmd(int cmd);                                  /* F_ADD_SEALS, F_GET_SEALS */
long memfd_seal_fcntl(struct file *f, int cmd, unsigned long arg);
int memfd_seal_check_write(struct inode *ino, uint64_t pos, size_t n);
int memfd_seal_check_size(struct inode *ino, uint64_t size);    /* truncate, fallocate */
int memfd_seal_check_mmap(struct inode *ino, int prot, int flags);
bool memfd_seal_denies_write(struct inode *ino);               /* mprotect of a shared mapping */

/* Operations on a super block. */
struct super_ops {
	/* The last reference to ino is gone: free it (and whatever the fs keeps for it). May return
	 * another inode of which the VFS drops one reference next (tmpfs: a directory's parent), so
	 * long chains are freed iteratively. */
	struct inode *(*evict)(struct inode *ino);
	int (*statfs)(struct super_block *sb, struct linux_statfs *st);  /* type-independent fields preset */
	int (*sync)(struct super_block *sb);                              /* sync, syncfs, umount */
	int (*remount)(struct super_block *sb, unsigned long ms_flags);   /* NULL: always fine */
	/* The last reference is gone: release the root, everything else and sb itself (NULL: the
	 * root is put and sb freed). */
	void (*kill)(struct super_block *sb);
	/* fs-specific mount options for /proc/mounts (",size=..."), appended to buf: length */
	size_t (*show_options)(struct super_block *sb, char *buf, size_t size);
};

#define SB_RDONLY 1u                /* = MS_RDONLY */

struct super_block {
	const struct fs_type *type;
	const struct super_ops *ops;
	struct inode *root;            /* a reference */
	unsigned flags;                /* SB_RDONLY (mount_sem) */
	uint32_t dev;                  /* st_dev: linux_dev(0, anon) or the block device's */
	uint32_t refcount;             /* atomic: mounts of it, and its type's own reference */
	uint64_t magic;                /* statfs f_type */
	struct blkdev *bdev;           /* disk file systems */
	struct icache *icache;         /* disk file systems: inode number -> inode (fs/vfs_disk.h) */
	void *priv;                    /* the file system's */
};

#define FS_REQUIRES_DEV 1u          /* mount's source names a block device */

/* A file system type: mount makes (or shares) a super block, returned with a reference. */
struct fs_type {
	const char *name;
	unsigned flags;
	int (*mount)(const struct fs_type *t, struct blkdev *bdev, unsigned long ms_flags,
		     const char *data, struct super_block **out);
	struct fs_type *next;          /* the registry (fs/super.c) */
};

int register_filesystem(struct fs_type *t);
const struct fs_type *find_filesystem(const char *name);
/* The registered types one by one (NULL: the first); types are never unregistered. */
const struct fs_type *fs_type_next(const struct fs_type *prev);
/* A new super block (refcount 1, a fresh anonymous st_dev) for a file system's mount op. */
struct super_block *sb_alloc(const struct fs_type *t, const struct super_ops *ops, uint64_t magic);
void sb_get(struct super_block *sb);
void sb_put(struct super_block *sb);       /* the last put: root put, ops->kill, freed */

struct file {
	uint32_t refcount;             /* atomic */
	unsigned f_flags;              /* O_ACCMODE | O_APPEND | O_NONBLOCK ... (F_SETFL: atomic update) */
	struct sleeplock pos_lock;     /* pos: held across read/write/lseek/getdents of seekable files */
	uint64_t pos;
	const struct file_ops *ops;
	struct inode *inode;           /* holds a reference; never NULL */
	struct mount *mnt;             /* holds a reference; NULL for anonymous files */
	void *priv;
	struct list_head ep_links;     /* epoll items watching this file (fs/epoll.c guards it) */
	char *path;                    /* absolute path it was opened by (fs/open_path.c), or NULL:
					* /proc/<pid>/fd and maps show it; immutable once set */
};

/* ---- fd tables (file.c) ---- */
struct files {
	struct spinlock lock;          /* fd[], max, cloexec */
	uint32_t refcount;             /* atomic: threads sharing the table */
	int max;                       /* capacity of fd[] (a multiple of 64; grows up to NR_OPEN) */
	struct file **fd;
	uint64_t *cloexec;             /* max / 64 words */
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
int fd_limit(void);             /* the caller's bound on fd numbers: RLIMIT_NOFILE, at most NR_OPEN */
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
	struct path cwd;               /* holds a reference */
	unsigned umask;
};

struct fs_ctx *fs_ctx_new(void);                     /* cwd = "/", umask 022 */
struct fs_ctx *fs_ctx_dup(struct fs_ctx *old);       /* fork without CLONE_FS */
void fs_ctx_get(struct fs_ctx *fs);
void fs_ctx_put(struct fs_ctx *fs);

/* ---- inodes (inode.c) ---- */
struct inode *inode_new(uint32_t mode);              /* anonymous: refcount 1, fresh ino; NULL: no memory */
/* Sets up the VFS part of an inode a file system allocated (zeroed): refcount 1, times now. */
void inode_init(struct inode *ino, struct super_block *sb, uint32_t mode, uint64_t ino_nr);
uint64_t inode_next_ino(void);                       /* fresh inode numbers for RAM file systems */
void inode_get(struct inode *ino);
void inode_put(struct inode *ino);                   /* at refcount 0: sb->ops->evict or kfree; may sleep */
uint64_t fs_now(void);                               /* timestamps: nanoseconds */
void path_get(const struct path *p);
void path_put(const struct path *p);

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
/* The same for a page already in memory, never sleeping nor allocating (-ENOENT when it is not):
 * mm's fault-around maps these next to a faulting page. Spinlocks only, so mm->lock may be held. */
int file_find_page(struct file *f, uint64_t pgoff, paddr_t *pa);
bool file_is_regular(struct file *f);
/* fsync(2) of f (msync MS_SYNC too): the inode's fsync op, else its super block's sync (fs/inode.c) */
int vfs_fsync(struct file *f, bool datasync);
/* exec: 0, or -EACCES unless f is a regular file with an x bit on a mount without noexec. */
int file_exec_check(struct file *f);
uint64_t file_size(struct file *f);

/* ---- boot ---- */
void fs_init(void);                                  /* root tmpfs, /dev, /tmp, /proc */
/* Unpacks a newc cpio archive into the root. 0 or -EINVAL (malformed: what was unpacked stays). */
int initramfs_unpack(const void *data, size_t len);
/* Creates a file in /proc (or anywhere) whose contents show() writes at open: up to size bytes
 * into buf, returning the length. For /proc/net/dev, /proc/interrupts ... */
int proc_create(const char *path, size_t (*show)(char *buf, size_t size));
/* Event files (each file's top comment has its theory): eventfd.c, timerfd.c, signalfd.c, memfd.c */
long sys_eventfd2(unsigned initval, int flags);
long sys_timerfd_create(int clockid, int flags);
long sys_timerfd_settime(int fd, int flags, uintptr_t unew, uintptr_t uold);
long sys_timerfd_gettime(int fd, uintptr_t ucur);
long sys_signalfd4(int fd, uintptr_t umask, size_t sizemask, int flags);
long sys_memfd_create(uintptr_t uname, unsigned flags);
/* fs/sock_node.c: AF_UNIX pathname sockets. create: a new S_IFSOCK node at path (mode less the
 * umask), referenced in *out; -EEXIST if the name exists. lookup: the inode path names (symlinks
 * followed), referenced. Thread context, may sleep. */
int sock_node_create(const char *path, uint32_t mode, struct inode **out);
int sock_node_lookup(const char *path, struct inode **out);
/* Creates a character device node at path with the given ops. */
int dev_create(const char *path, uint32_t perm, unsigned major, unsigned minor,
	       const struct file_ops *fops, void *priv);

/* The absolute path of path (relative to current's cwd), symlinks resolved, into buf: its length
 * or -errno (-ENAMETOOLONG when it does not fit). exec can keep it for current_exe(). */
long fs_realpath(const char *path, char *buf, size_t size);

/* Provided by the process code: the path of the current process's executable (NULL: none). */
const char *current_exe(void);

/* /proc/<pid> (proc_pid.c). The process code calls these without proc_lock: add when a process
 * is created (it inherits parent_pid's command line; 0: none), remove when it is reaped. */
void procfs_pid_add(int pid, int parent_pid);
void procfs_pid_remove(int pid);
void procfs_set_cmdline(int pid, char *const argv[]);       /* kernel strings (init) */
/* execve(2) as the syscall table calls it: sys_execve, remembering argv for /proc/<pid>/cmdline. */
long sys_execve_cmdline(uintptr_t path, uintptr_t argv, uintptr_t envp);
long sys_utimensat(int dirfd, uintptr_t path, uintptr_t times, int flags);   /* sys_utime.c */
long sys_sendfile(int out_fd, int in_fd, uintptr_t offset, size_t count);    /* sys_sendfile.c */

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
/* fs/mount.c, fs/sync.c, fs/copy.c */
long sys_mount(uintptr_t source, uintptr_t target, uintptr_t fstype, unsigned long flags, uintptr_t data);
long sys_umount2(uintptr_t target, int flags);
long sys_statfs(uintptr_t path, uintptr_t buf);
long sys_fstatfs(int fd, uintptr_t buf);
long sys_syncfs(int fd);
long sys_fallocate(int fd, int mode, long off, long len);
/* fs/copy.c: sendfile between regular files with both position locks (test_fs); the syscall is fs/sys_sendfile.c (sockets too) */
long sendfile_files(int out_fd, int in_fd, uintptr_t offset, size_t count);
long sys_copy_file_range(int fd_in, uintptr_t off_in, int fd_out, uintptr_t off_out, size_t len,
			 unsigned flags);

#endif
