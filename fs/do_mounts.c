/*
 * The root file system on a disk, at boot (Linux's init/do_mounts.c).
 *
 * kernel/main.c decides: an initramfs whose rdinit (/init) exists runs from RAM as before; else
 * root=/dev/X (rootfstype=, ro/rw, as Linux) mounts that device as the root; with neither an
 * initramfs nor root=, Ember looks for one itself: the first virtio-blk disk or partition
 * (/dev/vda, /dev/vda1 ... /dev/vdh4) that holds a disk file system with an init program on it
 * (mount_root_auto). Linux has no such search (it panics without root=); Ember does it so that a
 * disk image alone boots, and it takes only a disk that can actually run something.
 *
 * Either way the device is mounted on rootfs's /root and then made the root of every path
 * (mount_make_root, fs/mount.c), as Linux moves it onto / and chroots into it. Then devtmpfs goes
 * on the new /dev (Linux's CONFIG_DEVTMPFS_MOUNT) and proc on the new /proc, where those
 * directories exist: Linux leaves /proc to init scripts; Ember mounts it so that programs that
 * read /proc work on a disk without an init script, and says so here.
 *
 * Flags as Linux: the root is mounted read-only unless the command line says "rw" (distributions
 * pass "rw" or remount from their init scripts); the automatic search mounts read-write, as it
 * is for a disk booted without any command line. rootfstype= names the type; without it every
 * registered disk type (FS_REQUIRES_DEV) is tried in turn.
 *
 * Runs in kmain's context, before any user process: no locks of its own.
 */
#include "fs/do_mounts.h"
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "kernel/errno.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define ROOT_MOUNTPOINT "/root"
#define AUTO_DISKS 8                         /* /dev/vda .. /dev/vdh */
#define AUTO_PARTS 4                         /* and their first four partitions */
#define DEV_NAME_MAX 16
#define INIT_PATH_MAX 32

static const char *const init_candidates[] = { "/sbin/init", "/etc/init", "/bin/init", "/bin/sh" };

static int make_mountpoint(void)
{
	int err = 0;
	spin_lock(&ns_lock);
	struct inode *dir = tmpfs_mkdirs(root_mount->root, ROOT_MOUNTPOINT + 1,
					 strlen(ROOT_MOUNTPOINT) - 1, 0700, &err);
	spin_unlock(&ns_lock);
	return dir ? 0 : (err ? err : -ENOMEM);
}

/* dev mounted on /root with the given type, or every disk type in turn without one. */
static int mount_on_root_dir(const char *dev, const char *fstype, unsigned ms_flags)
{
	if (fstype)
		return kern_mount(fstype, dev, ROOT_MOUNTPOINT, ms_flags);
	int err = -ENODEV;
	for (const struct fs_type *t = fs_type_next(NULL); t; t = fs_type_next(t)) {
		if (!(t->flags & FS_REQUIRES_DEV))
			continue;
		int e = kern_mount(t->name, dev, ROOT_MOUNTPOINT, ms_flags);
		if (!e)
			return 0;
		if (err == -ENODEV || e != -EINVAL)   /* keep the most telling error */
			err = e;
	}
	return err;
}

/* The first init candidate that is a regular file under prefix ("" once switched). */
static const char *find_init(const char *prefix)
{
	for (size_t i = 0; i < sizeof(init_candidates) / sizeof(init_candidates[0]); i++) {
		char full[INIT_PATH_MAX];
		snprintf(full, sizeof(full), "%s%s", prefix, init_candidates[i]);
		int err;
		struct file *f = kernel_open(full, O_RDONLY, &err);
		if (!f)
			continue;
		bool regular = file_is_regular(f);
		file_put(f);
		if (regular)
			return init_candidates[i];
	}
	return NULL;
}

static void switch_root(const char *dev, unsigned ms_flags)
{
	int err = mount_make_root(ROOT_MOUNTPOINT);
	if (err)
		panic("root: cannot make %s the root: %d", dev, err);
	printk("root: %s mounted %s as /\n", dev, (ms_flags & MS_RDONLY) ? "read-only" : "read-write");
	if (kern_mount("devtmpfs", "devtmpfs", "/dev", MS_NOSUID) == 0)
		printk("root: devtmpfs on /dev\n");
	if (kern_mount("proc", "proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC) == 0)
		printk("root: proc on /proc\n");
}

int mount_root(const char *dev, const char *fstype, unsigned ms_flags)
{
	int err = make_mountpoint();
	if (!err)
		err = mount_on_root_dir(dev, fstype, ms_flags);
	if (err) {
		printk("root: cannot mount %s (%s): error %d\n", dev, fstype ? fstype : "any type", -err);
		return err;
	}
	switch_root(dev, ms_flags);
	return 0;
}

int mount_root_auto(void)
{
	if (make_mountpoint())
		return -ENOMEM;
	for (int d = 0; d < AUTO_DISKS; d++) {
		for (int part = 0; part <= AUTO_PARTS; part++) {
			char dev[DEV_NAME_MAX];
			if (part)
				snprintf(dev, sizeof(dev), "/dev/vd%c%d", 'a' + d, part);
			else
				snprintf(dev, sizeof(dev), "/dev/vd%c", 'a' + d);
			if (mount_on_root_dir(dev, NULL, 0))
				continue;
			if (find_init(ROOT_MOUNTPOINT)) {
				switch_root(dev, 0);
				return 0;
			}
			printk("root: %s holds no init program: not the root\n", dev);
			kern_umount(ROOT_MOUNTPOINT);
		}
	}
	return -ENODEV;
}

const char *root_init(const char *requested)
{
	return requested ? requested : find_init("");  /* Linux: a requested init that fails is fatal */
}
