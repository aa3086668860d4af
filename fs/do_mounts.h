/*
 * The root file system on a disk, at boot (fs/do_mounts.c): kmain's calls, in its context,
 * before any user process exists.
 */
#ifndef FS_DO_MOUNTS_H
#define FS_DO_MOUNTS_H
#include <stdbool.h>

/* root=dev: mounts it (fstype NULL: every disk type in turn; ms_flags: MS_RDONLY or 0) and makes
 * it the root, with devtmpfs on its /dev and proc on its /proc. 0 or -errno (printed). */
int mount_root(const char *dev, const char *fstype, unsigned ms_flags);
/* Neither an initramfs nor root=: the first virtio-blk disk or partition that mounts and holds an
 * init program becomes the root, read-write. -ENODEV if none. */
int mount_root_auto(void);
/* The program to run as init on the disk root: the requested one (init=) as is, else the first
 * of /sbin/init, /etc/init, /bin/init, /bin/sh that exists; NULL if none. */
const char *root_init(const char *requested);

#endif
