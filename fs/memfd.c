/*
 * memfd_create(name, flags): an anonymous regular file in RAM. It is an unnamed tmpfs inode
 * (the tmpfile op, as O_TMPFILE makes one) of a tmpfs super block kept by this file for all
 * memfds (made at the first call, never mounted), so read/write/lseek/ftruncate, fstat and mmap
 * (MAP_SHARED pages are the inode's page-cache pages, shared by every process that maps it, also
 * across fork and through SCM_RIGHTS) are tmpfs's own. The name is only checked (Linux shows it
 * as /proc/self/fd's "memfd:name", which Ember does not). File seals: fs/memfd_seal.c; a memfd
 * made without MFD_ALLOW_SEALING starts sealed with F_SEAL_SEAL.
 * Thread context; memfd_sb is set once under memfd_lock.
 */
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "kernel/errno.h"
#include "kernel/sched.h"
#include "lib/sleeplock.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define MFD_CLOEXEC 1u
#define MFD_ALLOW_SEALING 2u
#define MFD_NAME_MAX 249                    /* NAME_MAX less "memfd:" */
#define MEMFD_MODE (S_IFREG | 0777)         /* Linux's memfd inode: 0777 */
#define F_SEAL_SEAL 0x0001

static struct sleeplock memfd_lock = SLEEPLOCK_INIT(memfd_lock, "memfd");
static struct super_block *memfd_sb;

static struct super_block *memfd_super(void)
{
	sleep_lock(&memfd_lock);
	if (!memfd_sb) {
		const struct fs_type *t = find_filesystem("tmpfs");
		if (t)
			memfd_sb = tmpfs_sb_new(t, TMPFS_MAGIC, 01777);
	}
	sleep_unlock(&memfd_lock);
	return memfd_sb;
}

bool memfd_inode(struct inode *ino) { return ino->sb && ino->sb == READ_ONCE(memfd_sb); }

long sys_memfd_create(uintptr_t uname, unsigned flags)
{
	if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING))
		return -EINVAL;                     /* MFD_HUGETLB and the rest: not here */
	int err;
	char *name = getname(uname, &err);
	if (!name)
		return err;
	size_t len = strlen(name);
	putname(name);
	if (len > MFD_NAME_MAX)
		return -EINVAL;
	struct super_block *sb = memfd_super();
	if (!sb)
		return -ENOMEM;
	struct inode *ino;
	struct inode *root = sb->root;
	if ((err = root->iops->tmpfile(root, MEMFD_MODE, &ino)))
		return err;
	ino->seals = (flags & MFD_ALLOW_SEALING) ? 0 : F_SEAL_SEAL;
	struct file *f = file_alloc(ino, ino->fops ? ino->fops : &generic_file_ops, O_RDWR | O_LARGEFILE, NULL);
	inode_put(ino);
	if (!f)
		return -ENFILE;
	int fd = fd_install(current->files, f, flags & MFD_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}
