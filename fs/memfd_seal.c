/*
 * File seals on memfds (memfd_create with MFD_ALLOW_SEALING), as Linux's mm/memfd.c: fcntl
 * F_ADD_SEALS and F_GET_SEALS, and the checks that make a seal hold.
 *
 * Theory. A memfd's inode carries a seal set (inode->seals). A memfd made without
 * MFD_ALLOW_SEALING starts with F_SEAL_SEAL, so nothing can be added. Seals only accumulate:
 *   F_SEAL_SEAL          no more seals (F_ADD_SEALS: EPERM)
 *   F_SEAL_SHRINK        the size may not go down (ftruncate: EPERM)
 *   F_SEAL_GROW          the size may not go up (ftruncate, a write past the end, fallocate: EPERM)
 *   F_SEAL_WRITE         no write() and no writable shared mapping (EPERM); adding it fails with
 *                        EBUSY while a writable shared mapping exists (inode->mmap_writers, counted
 *                        by mm/uvm.c for every VMA that maps the inode MAP_SHARED with PROT_WRITE)
 *   F_SEAL_FUTURE_WRITE  like F_SEAL_WRITE for new writes and mappings; existing mappings stay
 * A shared mapping made while a write seal holds cannot be made writable with mprotect (EACCES),
 * as Linux clears VM_MAYWRITE. F_ADD_SEALS needs a file opened for writing (EPERM), known seal
 * bits (EINVAL) and a file that has seals (EINVAL). Linux keeps seals on every shmem file: a
 * regular file of a tmpfs (Ember's tmpfs mounts, the root file system and /dev, which are tmpfs
 * on Linux too when it boots from an initramfs without root=) that memfd_create did not make is
 * born with F_SEAL_SEAL (shmem_get_inode), so F_GET_SEALS says 1 and F_ADD_SEALS fails with
 * EPERM; any other file (pipes, devices, directories, ext4) is EINVAL for both. F_SEAL_EXEC
 * (Linux 6.3) is not known here.
 *
 * Locks: seals change under inode->rw (the sleeplock tmpfs's writers and truncation hold), so
 * adding a seal waits for a write in progress. The checks read seals without it: a write that
 * checked just before a seal was added may still land, as one that started before it would.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "lib/sleeplock.h"
#include "lib/string.h"
#include "mm/uvm.h"

#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#define F_SEAL_FUTURE_WRITE 0x0010
#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)
#define WRITE_SEALS (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

bool memfd_seal_cmd(int cmd) { return cmd == F_ADD_SEALS || cmd == F_GET_SEALS; }

/* A regular file of a tmpfs instance not made by memfd_create: Linux's other shmem files. */
static bool shmem_file(struct inode *ino)
{
	if (!S_ISREG(ino->mode) || !ino->sb || !ino->sb->type)
		return false;
	const char *t = ino->sb->type->name;
	return strcmp(t, "tmpfs") == 0 || strcmp(t, "rootfs") == 0 || strcmp(t, "devtmpfs") == 0;
}

static long add_seals(struct file *f, unsigned seals)
{
	unsigned acc = f->f_flags & O_ACCMODE;
	if (acc != O_WRONLY && acc != O_RDWR)
		return -EPERM;
	if (seals & ~ALL_SEALS)
		return -EINVAL;
	struct inode *ino = f->inode;
	if (!memfd_inode(ino))
		return shmem_file(ino) ? -EPERM : -EINVAL;     /* F_SEAL_SEAL from birth */
	long r = 0;
	sleep_lock(&ino->rw);
	unsigned old = READ_ONCE(ino->seals);
	if (old & F_SEAL_SEAL)
		r = -EPERM;
	else if ((seals & F_SEAL_WRITE) && !(old & F_SEAL_WRITE) && READ_ONCE(ino->mmap_writers) > 0)
		r = -EBUSY;
	else
		WRITE_ONCE(ino->seals, old | seals);
	sleep_unlock(&ino->rw);
	return r;
}

long memfd_seal_fcntl(struct file *f, int cmd, unsigned long arg)
{
	if (cmd == F_ADD_SEALS)
		return add_seals(f, (unsigned)arg);
	if (memfd_inode(f->inode))
		return (long)READ_ONCE(f->inode->seals);
	return shmem_file(f->inode) ? F_SEAL_SEAL : -EINVAL;
}

int memfd_seal_check_write(struct inode *ino, uint64_t pos, size_t n)
{
	unsigned s = READ_ONCE(ino->seals);
	if (s & WRITE_SEALS)
		return -EPERM;
	if ((s & F_SEAL_GROW) && n && pos + n > READ_ONCE(ino->size))
		return -EPERM;
	return 0;
}

int memfd_seal_check_size(struct inode *ino, uint64_t size)
{
	unsigned s = READ_ONCE(ino->seals);
	uint64_t cur = READ_ONCE(ino->size);
	if (((s & F_SEAL_SHRINK) && size < cur) || ((s & F_SEAL_GROW) && size > cur))
		return -EPERM;
	return 0;
}

int memfd_seal_check_mmap(struct inode *ino, int prot, int flags)
{
	if ((READ_ONCE(ino->seals) & WRITE_SEALS) && (flags & MAP_TYPE) == MAP_SHARED && (prot & PROT_WRITE))
		return -EPERM;
	return 0;
}

bool memfd_seal_denies_write(struct inode *ino) { return READ_ONCE(ino->seals) & WRITE_SEALS; }
