/*
 * initramfs: unpacks a newc cpio archive (cpio.c parses it) into the root tmpfs (rootfs, through tmpfs internals), as Linux does
 * with -initrd. Directories, regular files and symlinks are created with their mode bits and
 * mtime; missing parent directories are made on the way; an existing non-directory of the same
 * name is replaced, an existing directory keeps its contents and takes the new mode. Device
 * nodes, fifos and sockets are skipped (fs_init made the devices Ember has). Regular files with
 * nlink > 1 that share an inode number become hard links of one inode, as newc records them
 * (the data comes with the last of the names).
 */
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "fs/cpio.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "kernel/timer.h"

#define HARDLINK_MAX 64                    /* multiply-linked files remembered per archive */

struct unpack {
	int files, skipped;
	struct { uint32_t ino, major, minor; struct inode *inode; } links[HARDLINK_MAX];
	int nlinks;
};

static struct inode **hardlink_slot(struct unpack *u, const struct cpio_entry *e)
{
	for (int i = 0; i < u->nlinks; i++)
		if (u->links[i].ino == e->ino && u->links[i].major == e->devmajor &&
		    u->links[i].minor == e->devminor)
			return &u->links[i].inode;
	if (u->nlinks == HARDLINK_MAX)
		return NULL;
	u->links[u->nlinks].ino = e->ino;
	u->links[u->nlinks].major = e->devmajor;
	u->links[u->nlinks].minor = e->devminor;
	u->links[u->nlinks].inode = NULL;
	return &u->links[u->nlinks++].inode;
}

/* Creates (or finds) the entry's inode under ns_lock; returns it with a reference for regular
 * files that need their data written, NULL otherwise. */
static struct inode *make_node(struct unpack *u, const struct cpio_entry *e, const char *name,
			       const char *target, int *err)
{
	uint32_t type = e->mode & S_IFMT, perm = e->mode & S_IALLUGO;
	size_t namelen = strlen(name);
	const char *last = name + namelen;
	while (last > name && last[-1] != '/')
		last--;
	size_t len = name + namelen - last;
	struct inode *ino = NULL, *victim = NULL;
	*err = 0;
	spin_lock(&ns_lock);
	struct inode *dir = tmpfs_mkdirs(root_mount->root, name, last - name, 0755, err);
	if (!dir)
		goto out;
	if (len > NAME_MAX || is_dot(last, len)) {
		*err = len > NAME_MAX ? -ENAMETOOLONG : 0;
		goto out;
	}
	struct dirent_node *d = tmpfs_dir_find(dir, last, len);
	if (d && S_ISDIR(d->inode->mode)) {
		if (type == S_IFDIR)
			d->inode->mode = S_IFDIR | perm;
		else
			*err = -EISDIR;
		goto out;
	}
	if (d)
		victim = tmpfs_dir_unlink(dir, d);
	struct inode **hl = type == S_IFREG && e->nlink > 1 ? hardlink_slot(u, e) : NULL;
	if (hl && *hl) {
		*err = tmpfs_dir_link(dir, last, len, *hl);
		ino = *err ? NULL : *hl;
	} else if (type == S_IFLNK) {
		*err = tmpfs_new_symlink(dir, last, len, target);
	} else {
		ino = tmpfs_new_node(dir, last, len, type | perm, err);
		if (hl && ino) {
			*hl = ino;
			inode_get(ino);                  /* the table's reference */
		}
	}
	if (ino) {
		ino->mtime = (uint64_t)e->mtime * NSEC_PER_SEC;
		if (type == S_IFREG)
			inode_get(ino);
		else
			ino = NULL;
	}
out:
	spin_unlock(&ns_lock);
	inode_put(victim);
	return ino;
}

static int unpack_entry(const struct cpio_entry *e, void *arg)
{
	struct unpack *u = arg;
	const char *name = e->name;
	uint32_t type = e->mode & S_IFMT;
	for (;;) {                                   /* "./a", "/a" and "a" are the same */
		if (name[0] == '/')
			name++;
		else if (name[0] == '.' && name[1] == '/')
			name += 2;
		else
			break;
	}
	if (!*name || (name[0] == '.' && !name[1]))
		return 0;                            /* the root itself */
	if (strlen(name) >= PATH_MAX ||
	    (type != S_IFDIR && type != S_IFREG && type != S_IFLNK) ||
	    (type == S_IFLNK && (e->size == 0 || e->size >= PATH_MAX))) {
		u->skipped++;
		return 0;
	}
	char *target = NULL;
	if (type == S_IFLNK) {
		if (!(target = kmalloc(e->size + 1)))
			return -ENOMEM;
		memcpy(target, e->data, e->size);
		target[e->size] = '\0';
	}
	int err;
	struct inode *ino = make_node(u, e, name, target, &err);
	kfree(target);
	if (ino) {
		uint64_t pos = 0;
		long n = e->size ? tmpfs_write(ino, e->data, e->size, &pos, false, false) : 0;
		ino->mtime = (uint64_t)e->mtime * NSEC_PER_SEC;
		inode_put(ino);
		if (n < 0 || (size_t)n != e->size)
			return n < 0 ? (int)n : -ENOSPC;
	}
	if (err == -ENOMEM || err == -ENOSPC)
		return err;
	if (err) {
		printk("initramfs: %s: error %d, skipped\n", name, -err);
		u->skipped++;
	} else {
		u->files++;
	}
	return 0;
}

int initramfs_unpack(const void *data, size_t len)
{
	struct unpack *u = kzalloc(sizeof(*u));
	if (!u)
		return -ENOMEM;
	int err = cpio_parse(data, len, unpack_entry, u);
	for (int i = 0; i < u->nlinks; i++)
		inode_put(u->links[i].inode);
	printk("initramfs: %d entries unpacked, %d skipped%s\n", u->files, u->skipped,
	       err ? " (archive damaged)" : "");
	kfree(u);
	return err;
}
