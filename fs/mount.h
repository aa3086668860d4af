/*
 * The mount table (fs/mount.c): which super block (or which directory of one: bind mounts) is
 * attached on which directory of which other mount. The VFS's path walk uses it to cross mount
 * points; mount(2), umount2(2) and /proc/mounts change and show it.
 */
#ifndef KERNEL_FS_MOUNT_H
#define KERNEL_FS_MOUNT_H
#include "fs/fs.h"

/* Per-mount flags (MS_* values, so /proc/mounts and statfs read them straight). */
#define MNT_RDONLY      0x0001u
#define MNT_NOSUID      0x0002u
#define MNT_NODEV       0x0004u
#define MNT_NOEXEC      0x0008u
#define MNT_NOATIME     0x0400u
#define MNT_NODIRATIME  0x0800u
#define MNT_RELATIME    0x200000u
#define MNT_USER_FLAGS  (MNT_RDONLY | MNT_NOSUID | MNT_NODEV | MNT_NOEXEC | MNT_NOATIME | \
			 MNT_NODIRATIME | MNT_RELATIME)

struct mount {
	struct list_head node;         /* the mount list, parents before children (mount_lock) */
	uint32_t refcount;             /* atomic: the table (while attached), paths, child mounts */
	struct mount *parent;          /* a reference; NULL for the root mount and detached ones */
	struct inode *mountpoint;      /* in parent: a reference (and its ->mounted count) */
	struct super_block *sb;        /* a reference */
	struct inode *root;            /* a reference: sb->root, or the directory a bind mount shows */
	unsigned flags;                /* MNT_* (mount_sem) */
	int id;
	bool attached;                 /* in the list */
	char *source;                  /* as given to mount(2) */
};

extern struct mount *root_mount;

void mnt_get(struct mount *m);
void mnt_put(struct mount *m);        /* the last put of a detached mount drops its super block */
/* The mount attached on (m, ino), the topmost if several, with a reference; NULL if none. */
struct mount *mount_lookup(struct mount *m, struct inode *ino);
/* The mountpoint m is attached on (parent mount, inode), held in *up; false at the top or for a
 * detached mount. */
bool mnt_climb(struct mount *m, struct path *up);
/* Attaches sb at the held path where (NULL: the root mount, at boot). */
int mount_attach(struct super_block *sb, struct inode *root, const struct path *where, unsigned flags,
		 const char *source, struct mount **out);
bool mnt_readonly(const struct mount *m);           /* the mount or its super block is read-only */
/* Mounts a file system of the named type at an absolute path (boot: /proc, /dev). */
int kern_mount(const char *type, const char *source, const char *path, unsigned flags);
/* Unmounts what is mounted at an absolute path (no MNT_DETACH): boot's undo of a trial mount. */
int kern_umount(const char *path);
/* Boot only, before user space starts: the mount at path becomes the root of every path walk
 * (fs/do_mounts.c's disk root). */
int mount_make_root(const char *path);
void mount_init(struct super_block *root_sb);        /* the root mount */
int mount_proc_init(void);                          /* /proc/mounts, /proc/self/mounts */
/* sync(2): every super block's sync op; the first error */
int sync_all(void);

#endif
