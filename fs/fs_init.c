/*
 * Boot-time set-up of the file system and the calls other kernel code makes on files (exec reads
 * ELF images with kernel_open/kernel_read; mmap maps tmpfs pages with file_get_page).
 *
 * The root tmpfs gets /dev (null, zero, console, tty), /tmp (sticky, world-writable) and /proc
 * (self/exe); initramfs_unpack then adds the archive's contents on top.
 */
#include "kernel/init.h"
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "lib/string.h"

static void mkdir_boot(const char *path, uint32_t perm)
{
	int err;
	spin_lock(&ns_lock);
	struct inode *dir = tmpfs_mkdirs(path, strlen(path), perm, &err);
	spin_unlock(&ns_lock);
	if (!dir)
		panic("fs_init: cannot create %s: %d", path, err);
}

void fs_init(void)
{
	fs_root = inode_new(S_IFDIR | 0755);
	if (!fs_root)
		panic("fs_init: no memory for the root");
	fs_root->nlink = 2;                          /* "." and the root's own ".." */
	mkdir_boot("/dev", 0755);
	mkdir_boot("/tmp", 01777);
	mkdir_boot("/proc", 0555);
	if (dev_init() || procfs_init())
		panic("fs_init: cannot create /dev or /proc");
}

struct file *kernel_open(const char *path, int flags, int *err)
{
	struct file *f = NULL;
	*err = do_open(AT_FDCWD, path, flags, 0, &f);
	return *err ? NULL : f;
}

bool file_is_regular(struct file *f)
{
	return S_ISREG(f->inode->mode) && f->inode->fops == &tmpfs_file_ops;
}

long kernel_read(struct file *f, void *kbuf, size_t n, uint64_t off)
{
	if (!file_is_regular(f))
		return -EINVAL;
	return tmpfs_read(f->inode, kbuf, n, off, false);
}

long kernel_write(struct file *f, const void *kbuf, size_t n, uint64_t off)
{
	if (!file_is_regular(f))
		return -EINVAL;
	return tmpfs_write(f->inode, kbuf, n, &off, false, false);
}

int file_get_page(struct file *f, uint64_t pgoff, paddr_t *pa)
{
	if (!file_is_regular(f))
		return -EACCES;
	return tmpfs_get_page(f->inode, pgoff, pa);
}

int file_find_page(struct file *f, uint64_t pgoff, paddr_t *pa)
{
	if (!file_is_regular(f))
		return -EACCES;
	return tmpfs_find_page(f->inode, pgoff, pa);
}

core_init(fs_init);
