/* Shared between the files of fs/ only; the rest of the kernel uses fs.h. */
#ifndef KERNEL_FS_INTERNAL_H
#define KERNEL_FS_INTERNAL_H
#include "fs/fs.h"
#include "fs/mount.h"

#define FS_BLKSIZE 4096
#define MAX_SYMLINKS 40             /* links followed in one path walk (ELOOP beyond) */
#define DEFAULT_UMASK 022

/* ---- namei.c: path walks; every inode and mount handed out is referenced ---- */
struct nameidata {
	struct path dir;                /* held: the directory holding the last component */
	const char *last;               /* last component (not NUL-terminated), len 0 for "/" */
	size_t len;
	bool slash;                     /* the path ended with '/' */
	int links;                      /* symlinks followed so far */
	char *linkbuf;                  /* a followed symlink's target that last points into */
};
void nd_release(struct nameidata *nd);                 /* puts dir, frees linkbuf */
/* Base directory for a relative path: dirfd's path, the cwd or the root, held. */
int path_base(int dirfd, const char *path, struct path *base);
int walk_parent(const struct path *base, const char *path, struct nameidata *nd);
int walk(const struct path *base, const char *path, bool follow, struct path *out);
/* Resolves nd->last inside nd->dir (following a symlink there if follow), held in *out. */
int walk_last(struct nameidata *nd, bool follow, struct path *out);
/* One component of dir, mounts crossed both ways, ".." and "." handled; *out held. */
int walk_step(const struct path *dir, const char *name, size_t len, struct path *out);
/* The absolute path of a held directory (or any inode reached as (mnt, ino)) into buf. */
long path_name(const struct path *p, char *buf, size_t size);
void root_path(struct path *out);                      /* the root, held */
long generic_llseek(struct file *f, long off, int whence, uint64_t size);
bool is_dot(const char *name, size_t len);             /* "." or ".." */
/* Root may do anything but execute a file without an x bit; writes need a writable mount. */
int may_access(const struct path *p, int mask);        /* R_OK | W_OK | X_OK */

/* ---- inode.c: VFS helpers over inode ops ---- */
int vfs_setattr(struct inode *ino, const struct iattr *ia);
int vfs_truncate(struct inode *ino, uint64_t size);
int vfs_fsync(struct file *f, bool datasync);
long vfs_readlink(struct inode *ino, char *buf, size_t size);
uint8_t inode_dtype(const struct inode *ino);
void inode_touch(struct inode *ino, bool modify);     /* mtime+ctime (modify) or ctime */
extern const struct file_ops generic_file_ops;        /* regular files over iops read/write */
extern const struct file_ops generic_dir_ops;         /* getdents over iops readdir */
extern const struct file_ops generic_symlink_ops;     /* only O_PATH opens a symlink itself */

/* ---- file.c ---- */
int fd_get_cloexec(int fd);
int fd_set_cloexec(int fd, bool on);
void fs_set_cwd(struct fs_ctx *fs, const struct path *dir);    /* the caller's reference moves in */
unsigned current_umask(void);

/* ---- syscall helpers (sys_*.c) ---- */
char *getname(uintptr_t upath, int *err);             /* kmalloc'd copy of a user path */
void putname(char *name);
int do_open(int dirfd, const char *path, int flags, unsigned mode, struct file **out);
/* open_path.c: the absolute, lexically normalized path of (dirfd, path), kmalloc'd; NULL when it
 * cannot be made (no memory, a detached cwd). Symlinks are not resolved. */
char *open_path(int dirfd, const char *path);
void stat_fill(struct inode *ino, struct linux_stat *st);
/* The held path (dirfd, path) names; at_flags: AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
int lookup_at(int dirfd, const char *path, int at_flags, struct path *out);
int lookup_user(int dirfd, uintptr_t upath, int at_flags, struct path *out);

/* ---- dev.c, procfs.c, pipe.c, super.c ---- */
int dev_init(void);
int dev_mem_init(void);                             /* dev_mem.c */
int dev_rtc_init(void);                             /* dev_rtc.c */
long tty_job_ioctl(unsigned long cmd, unsigned long arg);   /* tty_job.c: the console's job control */
bool tty_job_signal(int sig);
size_t proc_limits_show(char *buf, size_t size, int pid);   /* proc_limits.c: /proc/<pid>/limits */
long tty_job_check(int sig);   /* tty_job.c: a background read (SIGTTIN) or write (SIGTTOU): 0, -EIO, -ERESTARTSYS */                       /* any context: signal the foreground group */
int procfs_init(void);
extern struct super_block *dev_sb, *proc_sb;
/* procfs.c: a generated file's contents are a snapshot taken at open by show() (which may return
 * a negative errno as size_t); read/llseek/release walk and free it. */
int proc_snapshot_open(struct file *f, size_t (*show)(char *buf, size_t size, void *arg), void *arg);
long proc_snapshot_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos);
long proc_snapshot_llseek(struct file *f, long off, int whence);
void proc_snapshot_release(struct file *f);
/* Makes the inode at /proc/..., creating missing directories on the way. */
int proc_node(const char *path, uint32_t mode, const struct file_ops *fops,
	      const struct inode_ops *iops, void *priv);
int proc_pid_init(void);                              /* proc_pid.c */
int procfs_last_pid(void);                            /* highest pid given out */
unsigned long procfs_forks(void);                     /* processes created since boot */
int proc_sys_init(void);                              /* proc_sys.c */
size_t filesystems_show(char *buf, size_t size);      /* super.c: /proc/filesystems */
size_t mounts_show(char *buf, size_t size);           /* mount.c: /proc/mounts, /proc/<pid>/mounts */
extern const struct file_ops pipe_read_ops, pipe_write_ops;
int ext4_vfs_init(void);                                /* fs/ext4/ext4_vfs.c */
void fs_types_init(void);                              /* tmpfs, proc, devtmpfs */
struct super_block *rootfs_new(void);                  /* the boot root: a tmpfs */

#endif
