/*
 * Boot-time set-up of the file layer: the root (a tmpfs of type rootfs) as the root mount, the
 * RAM file system types, /dev (devtmpfs: null, zero, console, tty), /tmp (sticky,
 * world-writable) and /proc (proc: self/exe, mounts); initramfs_unpack then adds the archive's
 * contents to the root. (exec and mmap use kernel_open/kernel_read/file_get_page: fs/inode.c.)
 */
#include "kernel/init.h"
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "lib/string.h"

static void mkdir_boot(const char *path, uint32_t perm)
{
	int err;
	spin_lock(&ns_lock);
	struct inode *dir = tmpfs_mkdirs(root_mount->root, path, strlen(path), perm, &err);
	spin_unlock(&ns_lock);
	if (!dir)
		panic("fs_init: cannot create %s: %d", path, err);
}

/* Disk file system types register here; fs/ext4/ext4_vfs.c supplies the strong definition when
 * it is linked in (a kernel without ext4 keeps this one). */
__attribute__((weak)) int ext4_vfs_init(void) { return 0; }

void fs_init(void)
{
	struct super_block *root = rootfs_new();
	if (!root)
		panic("fs_init: no memory for the root");
	fs_types_init();
	if (!proc_sb || !dev_sb)
		panic("fs_init: no memory for /proc or /dev");
	mount_init(root);
	sb_put(root);                                /* the mount holds it */
	mkdir_boot("/dev", 0755);
	mkdir_boot("/tmp", 01777);
	mkdir_boot("/proc", 0555);
	if (dev_init() || procfs_init() || mount_proc_init())
		panic("fs_init: cannot create /dev or /proc");
	if (ext4_vfs_init())
		panic("fs_init: cannot register ext4");
	if (kern_mount("devtmpfs", "devtmpfs", "/dev", MS_NOSUID) ||
	    kern_mount("proc", "proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC))
		panic("fs_init: cannot mount /dev or /proc");
}

struct file *kernel_open(const char *path, int flags, int *err)
{
	struct file *f = NULL;
	*err = do_open(AT_FDCWD, path, flags, 0, &f);
	return *err ? NULL : f;
}

core_init(fs_init);
