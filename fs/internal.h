/* Shared between the files of fs/ only; the rest of the kernel uses fs.h. */
#ifndef KERNEL_FS_INTERNAL_H
#define KERNEL_FS_INTERNAL_H
#include "fs/fs.h"

#define TMPFS_DEV_MAJOR 0
#define TMPFS_DEV_MINOR 20
#define FS_BLKSIZE 4096
#define MAX_SYMLINKS 40             /* links followed in one path walk (ELOOP beyond) */
#define DEFAULT_UMASK 022

/* Every directory of tmpfs: entry lists, parent pointers, nlink. Taken inside no other spinlock. */
extern struct spinlock ns_lock;
extern struct inode *fs_root;

/* A name in a directory. Holds a reference on its inode. */
struct dirent_node {
	struct list_head node;          /* dir.entries, in insertion order */
	uint64_t cookie;                /* getdents offset; increases along the list */
	struct inode *inode;
	uint16_t len;
	char name[];
};
#define DIR_FIRST_COOKIE 2          /* 0 = ".", 1 = ".." */

/* ---- tmpfs.c: inodes and directories (ns_lock held for the dir_ calls) ---- */
struct inode *dir_lookup(struct inode *dir, const char *name, size_t len);    /* borrowed */
struct dirent_node *dir_find(struct inode *dir, const char *name, size_t len);
int dir_link(struct inode *dir, const char *name, size_t len, struct inode *ino);
struct dirent_node *dirent_new(const char *name, size_t len);          /* for dir_insert */
void dir_insert(struct inode *dir, struct dirent_node *d, struct inode *ino);   /* cannot fail */
/* Removes d; returns its inode, whose reference the caller drops (after ns_lock). */
struct inode *dir_unlink(struct inode *dir, struct dirent_node *d);
bool dir_is_empty(struct inode *dir);
/* Makes an inode and links it at dir/name (ns_lock held); returns it borrowed. */
struct inode *tmpfs_create(struct inode *dir, const char *name, size_t len, uint32_t mode, int *err);
/* Walks path[0, upto) from the root creating missing directories (mode S_IFDIR|perm); returns
 * the last one (ns_lock held). */
struct inode *tmpfs_mkdirs(const char *path, size_t upto, uint32_t perm, int *err);
int tmpfs_symlink(struct inode *dir, const char *name, size_t len, const char *target);
/* Path of ino relative to the root, into buf (ns_lock held). Length, or -ENOENT if unlinked,
 * -ERANGE if it does not fit. */
long dir_path(struct inode *ino, char *buf, size_t size);
void inode_touch(struct inode *ino, bool modify);     /* mtime+ctime (modify) or ctime */
uint8_t inode_dtype(const struct inode *ino);
extern const struct file_ops tmpfs_dir_ops;
extern const struct file_ops tmpfs_symlink_ops;

/* ---- tmpfs_data.c: regular file contents in a radix tree of pages ---- */
#define TMPFS_MAX_SIZE (1ULL << 44)  /* 16 TiB: EFBIG beyond */
long tmpfs_read(struct inode *ino, void *buf, size_t n, uint64_t pos, bool user);
/* Takes ino->rw; with append, writes at the end. Advances *pos. */
long tmpfs_write(struct inode *ino, const void *buf, size_t n, uint64_t *pos, bool append, bool user);
int tmpfs_truncate(struct inode *ino, uint64_t size);        /* takes ino->rw */
int tmpfs_get_page(struct inode *ino, uint64_t pgoff, paddr_t *pa);
void tmpfs_free_data(struct inode *ino);
extern const struct file_ops tmpfs_file_ops;

/* ---- namei.c: path walks (ns_lock held; results borrowed) ---- */
struct nameidata {
	struct inode *dir;              /* the directory holding the last component */
	const char *last;               /* last component (not NUL-terminated), len 0 for "/" */
	size_t len;
	bool slash;                     /* the path ended with '/' */
	int links;                      /* symlinks followed so far */
};
/* Base directory for a relative path: dirfd's inode or the cwd, with a reference. */
int path_base(int dirfd, const char *path, struct inode **base);
int walk_parent(struct inode *base, const char *path, struct nameidata *nd);
int walk(struct inode *base, const char *path, bool follow, struct inode **out);
/* Resolves nd->last inside nd->dir (following a symlink there if follow). NULL + *err if absent. */
struct inode *walk_last(struct nameidata *nd, bool follow, int *err);
long generic_llseek(struct file *f, long off, int whence, uint64_t size);
bool is_dot(const char *name, size_t len);             /* "." or ".." */

/* ---- file.c ---- */
int fd_get_cloexec(int fd);
int fd_set_cloexec(int fd, bool on);
void fs_set_cwd(struct fs_ctx *fs, struct inode *dir);
unsigned current_umask(void);

/* ---- syscall helpers (sys_*.c) ---- */
char *getname(uintptr_t upath, int *err);             /* kmalloc'd copy of a user path */
void putname(char *name);
int do_open(int dirfd, const char *path, int flags, unsigned mode, struct file **out);
void stat_fill(struct inode *ino, struct linux_stat *st);
/* sys_path.c: the inode (dirfd, path) names, with a reference (at_flags: AT_SYMLINK_NOFOLLOW,
 * AT_EMPTY_PATH); fd_inode: dirfd's own inode (AT_FDCWD: the cwd), with a reference. */
int lookup_at(int dirfd, const char *path, int at_flags, struct inode **out);
int fd_inode(int dirfd, struct inode **out);

/* ---- dev.c, proc.c, pipe.c ---- */
int dev_init(void);
int dev_mem_init(void);                             /* dev_mem.c */
int dev_rtc_init(void);                             /* dev_rtc.c */
int procfs_init(void);
/* proc.c: a generated file's contents are a snapshot taken at open by show() (which may return
 * a negative errno as size_t); read/llseek/release walk and free it. */
int proc_snapshot_open(struct file *f, size_t (*show)(char *buf, size_t size, void *arg), void *arg);
long proc_snapshot_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos);
long proc_snapshot_llseek(struct file *f, long off, int whence);
void proc_snapshot_release(struct file *f);
int proc_node(const char *path, uint32_t mode, const struct file_ops *fops,
	      const struct inode_ops *iops, void *priv);
int proc_pid_init(void);                              /* proc_pid.c */
int procfs_last_pid(void);                            /* highest pid given out */
unsigned long procfs_forks(void);                     /* processes created since boot */
int proc_sys_init(void);                              /* proc_sys.c */
extern const struct file_ops pipe_read_ops, pipe_write_ops;

#endif
