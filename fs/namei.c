/*
 * Path walks over tmpfs. A path is split into components at '/'; each non-final component must
 * name a directory (after following symlinks), "." and ".." are the directory itself and its
 * parent ("/.." is "/"), and repeated slashes count as one. walk_parent stops before the last
 * component (for create, unlink, rename); walk resolves it too. A trailing slash demands a
 * directory. Symlinks are followed through recursive walks of their targets, at most MAX_SYMLINKS
 * per walk and MAX_NESTING deep (ELOOP beyond), so the kernel stack stays small.
 *
 * Everything here runs with ns_lock held, so the inodes it returns are borrowed: valid until the
 * caller drops ns_lock, and the caller takes a reference if it needs one longer.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define MAX_NESTING 8                /* symlinks inside symlink targets, recursively */

static int walk_parent_at(struct inode *base, const char *path, struct nameidata *nd, int depth);
static struct inode *last_at(struct nameidata *nd, bool follow, int *err, int depth);

bool is_dot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

/* Skips slashes, then returns the next component's length (0 at the end of the path). */
static size_t next_component(const char **p, const char **name)
{
	while (**p == '/')
		(*p)++;
	*name = *p;
	while (**p && **p != '/')
		(*p)++;
	return *p - *name;
}

/* The inode a symlink found in dir points to (followed all the way). */
static struct inode *follow_link(struct inode *dir, struct inode *link, int *links, int depth, int *err)
{
	if (++*links > MAX_SYMLINKS || depth >= MAX_NESTING) {
		*err = -ELOOP;
		return NULL;
	}
	const char *target = link->iops && link->iops->get_link ? link->iops->get_link(link) : NULL;
	if (!target || !*target) {
		*err = -ENOENT;
		return NULL;
	}
	struct nameidata nd = { .links = *links };
	struct inode *ino = NULL;
	*err = walk_parent_at(target[0] == '/' ? fs_root : dir, target, &nd, depth + 1);
	if (!*err)
		ino = last_at(&nd, true, err, depth + 1);
	*links = nd.links;
	return ino;
}

static int walk_parent_at(struct inode *base, const char *path, struct nameidata *nd, int depth)
{
	const char *p = path, *name;
	struct inode *dir = path[0] == '/' ? fs_root : base;
	if (!*path)
		return -ENOENT;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	size_t len = next_component(&p, &name);
	for (;;) {
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		const char *rest = p;
		while (*rest == '/')
			rest++;
		if (*rest == '\0') {
			nd->dir = dir;
			nd->last = name;
			nd->len = len;
			nd->slash = len == 0 || *p == '/';
			return 0;
		}
		int err;
		struct inode *child = dir_lookup(dir, name, len);
		if (!child)
			return -ENOENT;
		if (S_ISLNK(child->mode) && !(child = follow_link(dir, child, &nd->links, depth, &err)))
			return err;
		if (!S_ISDIR(child->mode))
			return -ENOTDIR;
		dir = child;
		len = next_component(&p, &name);
	}
}

static struct inode *last_at(struct nameidata *nd, bool follow, int *err, int depth)
{
	if (nd->len == 0)
		return nd->dir;                      /* "/" */
	struct inode *ino = dir_lookup(nd->dir, nd->last, nd->len);
	if (!ino) {
		*err = -ENOENT;
		return NULL;
	}
	if (S_ISLNK(ino->mode) && (follow || nd->slash) &&
	    !(ino = follow_link(nd->dir, ino, &nd->links, depth, err)))
		return NULL;
	if (nd->slash && !S_ISDIR(ino->mode)) {
		*err = -ENOTDIR;
		return NULL;
	}
	return ino;
}

int walk_parent(struct inode *base, const char *path, struct nameidata *nd)
{
	nd->links = 0;
	return walk_parent_at(base, path, nd, 0);
}

struct inode *walk_last(struct nameidata *nd, bool follow, int *err)
{
	return last_at(nd, follow, err, 0);
}

int walk(struct inode *base, const char *path, bool follow, struct inode **out)
{
	struct nameidata nd;
	int err = walk_parent(base, path, &nd);
	if (err)
		return err;
	*out = walk_last(&nd, follow, &err);
	return *out ? 0 : err;
}

int path_base(int dirfd, const char *path, struct inode **base)
{
	if (path[0] == '/' || (dirfd == AT_FDCWD && !(current && current->fs))) {
		inode_get(fs_root);
		*base = fs_root;
		return 0;
	}
	if (dirfd == AT_FDCWD) {
		struct fs_ctx *fs = current->fs;
		spin_lock(&fs->lock);
		*base = fs->cwd;
		inode_get(*base);
		spin_unlock(&fs->lock);
		return 0;
	}
	struct file *f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	*base = f->inode;
	inode_get(*base);
	file_put(f);
	if (path[0] && !S_ISDIR((*base)->mode)) {
		inode_put(*base);
		return -ENOTDIR;
	}
	return 0;
}

char *getname(uintptr_t upath, int *err)
{
	char *name = kmalloc(PATH_MAX);
	if (!name) {
		*err = -ENOMEM;
		return NULL;
	}
	long n = strncpy_from_user(name, upath, PATH_MAX);
	if (n < 0) {
		kfree(name);
		*err = n;
		return NULL;
	}
	*err = 0;
	return name;
}

void putname(char *name) { kfree(name); }

long fs_realpath(const char *path, char *buf, size_t size)
{
	struct inode *base;
	struct nameidata nd;
	int err = path_base(AT_FDCWD, path, &base), links = 0;
	if (err)
		return err;
	spin_lock(&ns_lock);
	struct inode *start = base;
	for (;;) {
		if ((err = walk_parent(start, path, &nd)))
			break;
		links += nd.links;
		struct inode *ino = nd.len ? dir_lookup(nd.dir, nd.last, nd.len) : nd.dir;
		if (!ino) {
			err = -ENOENT;
			break;
		}
		if (!S_ISLNK(ino->mode) || is_dot(nd.last, nd.len) || nd.len == 0) {
			if (S_ISDIR(ino->mode)) {                /* a directory knows its own path */
				err = dir_path(ino, buf, size);
				break;
			}
			long n = dir_path(nd.dir, buf, size);
			size_t at = n == 1 ? 0 : (size_t)n;      /* "/" + name, or "/dir" + "/" + name */
			if (n < 0)
				err = n;
			else if (at + 1 + nd.len + 1 > size)
				err = -ENAMETOOLONG;
			else {
				buf[at] = '/';
				memcpy(buf + at + 1, nd.last, nd.len);
				buf[at + 1 + nd.len] = '\0';
				err = at + 1 + nd.len;
			}
			break;
		}
		const char *target = ino->iops && ino->iops->get_link ? ino->iops->get_link(ino) : NULL;
		if (++links > MAX_SYMLINKS) {
			err = -ELOOP;
			break;
		}
		if (!target || !*target) {
			err = -ENOENT;
			break;
		}
		start = target[0] == '/' ? fs_root : nd.dir;
		path = target;
	}
	spin_unlock(&ns_lock);
	inode_put(base);
	return err == -ERANGE ? -ENAMETOOLONG : err;
}
