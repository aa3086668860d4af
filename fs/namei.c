/*
 * Path walks over the VFS. A path is split into components at '/'; each non-final component must
 * name a directory (after following symlinks), "." and ".." are the directory itself and its
 * parent ("/.." is "/"), and repeated slashes count as one. walk_parent stops before the last
 * component (for create, unlink, rename); walk resolves it too. A trailing slash demands a
 * directory. Symlinks are followed through recursive walks of their targets, at most MAX_SYMLINKS
 * per walk and MAX_NESTING deep (ELOOP beyond), so the kernel stack stays small.
 *
 * There is no dentry cache: each component is one ->lookup of the directory's file system, which
 * returns a referenced inode (and may sleep). Where we are is a struct path (mount, inode), so
 * mounts are crossed both ways: after a lookup, an inode that is a mountpoint of the current
 * mount (inode->mounted is the cheap hint, the mount table the truth) is replaced by the root of
 * the topmost mount on it; ".." at a mount's root first climbs to the mountpoint in the parent
 * mount (repeatedly, for stacked mounts), and ".." at the root of everything stays there.
 *
 * Everyone is root: directory search permission is not checked; may_access refuses writes on
 * read-only mounts (EROFS) and execution of files without an x bit or on noexec mounts (EACCES).
 *
 * Nothing here holds a lock across a lookup; every path handed out is held (path_put it).
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define MAX_NESTING 8                /* symlinks inside symlink targets, recursively */

static int walk_parent_at(const struct path *base, const char *path, struct nameidata *nd, int depth);
static int last_at(struct nameidata *nd, bool follow, struct path *out, int depth);

bool is_dot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

void root_path(struct path *out)
{
	out->mnt = root_mount;
	out->ino = root_mount->root;
	path_get(out);
}

static bool is_root(const struct path *p) { return p->mnt == root_mount && p->ino == root_mount->root; }

void nd_release(struct nameidata *nd)
{
	if (nd->dir.ino)
		path_put(&nd->dir);
	nd->dir.ino = NULL;
	kfree(nd->linkbuf);
	nd->linkbuf = NULL;
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

int walk_step(const struct path *dir, const char *name, size_t len, struct path *out)
{
	struct path cur = *dir;
	path_get(&cur);
	if (len == 1 && name[0] == '.') {
		*out = cur;
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		struct path up;
		while (!is_root(&cur) && cur.mnt && cur.ino == cur.mnt->root && mnt_climb(cur.mnt, &up)) {
			path_put(&cur);
			cur = up;
		}
		if (is_root(&cur) || (cur.mnt && cur.ino == cur.mnt->root)) {
			*out = cur;                  /* the top, or a detached mount's root */
			return 0;
		}
	}
	if (!S_ISDIR(cur.ino->mode) || !cur.ino->iops || !cur.ino->iops->lookup) {
		path_put(&cur);
		return -ENOTDIR;
	}
	int err = 0;
	struct inode *child = cur.ino->iops->lookup(cur.ino, name, len, &err);
	if (!child) {
		path_put(&cur);
		return err ? err : -ENOENT;
	}
	struct path next = { cur.mnt, child };
	if (next.mnt)
		mnt_get(next.mnt);
	path_put(&cur);
	while (next.mnt && READ_ONCE(next.ino->mounted)) {
		struct mount *m = mount_lookup(next.mnt, next.ino);
		if (!m)
			break;
		inode_get(m->root);
		path_put(&next);
		next = (struct path){ m, m->root };  /* mount_lookup's reference moves in */
	}
	*out = next;
	return 0;
}

/* The place a symlink found in dir points to (followed all the way), held in *out. */
static int follow_link(const struct path *dir, struct inode *link, int *links, int depth, struct path *out)
{
	if (++*links > MAX_SYMLINKS || depth >= MAX_NESTING)
		return -ELOOP;
	char *target = kmalloc(PATH_MAX);
	if (!target)
		return -ENOMEM;
	long n = vfs_readlink(link, target, PATH_MAX - 1);
	int err = n < 0 ? (int)n : n == 0 ? -ENOENT : 0;
	if (!err) {
		target[n] = '\0';
		struct nameidata nd = { .links = *links };
		struct path base;
		if (target[0] == '/')
			root_path(&base);
		else {
			base = *dir;
			path_get(&base);
		}
		err = walk_parent_at(&base, target, &nd, depth + 1);
		path_put(&base);
		if (!err)
			err = last_at(&nd, true, out, depth + 1);
		*links = nd.links;
		nd_release(&nd);
	}
	kfree(target);
	return err;
}

static int walk_parent_at(const struct path *base, const char *path, struct nameidata *nd, int depth)
{
	const char *p = path, *name;
	struct path dir;
	nd->dir.ino = NULL;
	if (!*path)
		return -ENOENT;
	if (path[0] == '/')
		root_path(&dir);
	else {
		dir = *base;
		path_get(&dir);
	}
	if (!S_ISDIR(dir.ino->mode)) {
		path_put(&dir);
		return -ENOTDIR;
	}
	size_t len = next_component(&p, &name);
	for (;;) {
		if (len > NAME_MAX) {
			path_put(&dir);
			return -ENAMETOOLONG;
		}
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
		struct path child;
		int err = walk_step(&dir, name, len, &child);
		if (!err && S_ISLNK(child.ino->mode)) {
			struct path t;
			err = follow_link(&dir, child.ino, &nd->links, depth, &t);
			path_put(&child);
			child = t;
		}
		path_put(&dir);
		if (err)
			return err;
		if (!S_ISDIR(child.ino->mode)) {
			path_put(&child);
			return -ENOTDIR;
		}
		dir = child;
		len = next_component(&p, &name);
	}
}

static int last_at(struct nameidata *nd, bool follow, struct path *out, int depth)
{
	if (nd->len == 0) {
		*out = nd->dir;                      /* "/" */
		path_get(out);
		return 0;
	}
	struct path p;
	int err = walk_step(&nd->dir, nd->last, nd->len, &p);
	if (err)
		return err;
	if (S_ISLNK(p.ino->mode) && (follow || nd->slash)) {
		struct path t;
		err = follow_link(&nd->dir, p.ino, &nd->links, depth, &t);
		path_put(&p);
		if (err)
			return err;
		p = t;
	}
	if (nd->slash && !S_ISDIR(p.ino->mode)) {
		path_put(&p);
		return -ENOTDIR;
	}
	*out = p;
	return 0;
}

int walk_parent(const struct path *base, const char *path, struct nameidata *nd)
{
	nd->links = 0;
	nd->linkbuf = NULL;
	return walk_parent_at(base, path, nd, 0);
}

int walk_last(struct nameidata *nd, bool follow, struct path *out)
{
	return last_at(nd, follow, out, 0);
}

int walk(const struct path *base, const char *path, bool follow, struct path *out)
{
	struct nameidata nd;
	int err = walk_parent(base, path, &nd);
	if (!err)
		err = walk_last(&nd, follow, out);
	nd_release(&nd);
	return err;
}

int path_base(int dirfd, const char *path, struct path *base)
{
	if (path[0] == '/' || (dirfd == AT_FDCWD && !(current && current->fs))) {
		root_path(base);
		return 0;
	}
	if (dirfd == AT_FDCWD) {
		struct fs_ctx *fs = current->fs;
		spin_lock(&fs->lock);
		*base = fs->cwd;
		path_get(base);
		spin_unlock(&fs->lock);
		return 0;
	}
	struct file *f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	*base = (struct path){ f->mnt, f->inode };
	path_get(base);
	file_put(f);
	if (path[0] && !S_ISDIR(base->ino->mode)) {
		path_put(base);
		return -ENOTDIR;
	}
	return 0;
}

int may_access(const struct path *p, int mask)
{
	uint32_t mode = READ_ONCE(p->ino->mode);
	if ((mask & W_OK) && p->mnt && mnt_readonly(p->mnt) &&
	    (S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode)))
		return -EROFS;
	if ((mask & X_OK) && !S_ISDIR(mode) &&
	    (!(mode & S_IXUGO) || (p->mnt && (p->mnt->flags & MNT_NOEXEC))))
		return -EACCES;
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

/* ---- names of places ---- */

struct find_name { uint64_t ino; char *name; size_t len; bool found; };

static int find_cb(void *arg, const char *name, size_t len, uint64_t ino, unsigned type, uint64_t next)
{
	struct find_name *fa = arg;
	(void)type; (void)next;
	if (ino != fa->ino || is_dot(name, len))
		return 0;
	memcpy(fa->name, name, len);
	fa->len = len;
	fa->found = true;
	return 1;
}

long path_name(const struct path *p, char *buf, size_t size)
{
	size_t at = size;                            /* built backwards from the end of buf */
	if (size < 2)
		return -ERANGE;
	char *name = kmalloc(NAME_MAX + 1);
	if (!name)
		return -ENOMEM;
	buf[--at] = '\0';
	struct path cur = *p;
	path_get(&cur);
	long err = 0;
	while (!is_root(&cur)) {
		if (!cur.mnt) {
			err = -ENOENT;
			break;
		}
		if (cur.ino == cur.mnt->root) {
			struct path up;
			if (!mnt_climb(cur.mnt, &up)) {      /* a detached mount */
				err = -ENOENT;
				break;
			}
			path_put(&cur);
			cur = up;
			continue;
		}
		struct inode *dir = cur.ino;
		if (READ_ONCE(dir->nlink) == 0 || !S_ISDIR(dir->mode) || !dir->iops->lookup) {
			err = -ENOENT;
			break;
		}
		int e = 0;
		struct inode *parent = dir->iops->lookup(dir, "..", 2, &e);
		if (!parent) {
			err = e ? e : -ENOENT;
			break;
		}
		struct find_name fa = { .ino = dir->ino, .name = name };
		uint64_t cookie = 0;
		e = parent->iops && parent->iops->readdir ? parent->iops->readdir(parent, &cookie, find_cb, &fa) : -ENOENT;
		if (e || !fa.found) {
			inode_put(parent);
			err = e ? e : -ENOENT;
			break;
		}
		if (at < fa.len + 1) {
			inode_put(parent);
			err = -ERANGE;
			break;
		}
		at -= fa.len;
		memcpy(buf + at, fa.name, fa.len);
		buf[--at] = '/';
		struct path up = { cur.mnt, parent };
		mnt_get(cur.mnt);
		path_put(&cur);
		cur = up;
	}
	path_put(&cur);
	kfree(name);
	if (err)
		return err;
	if (at == size - 1)
		buf[--at] = '/';                     /* the root itself */
	size_t len = size - 1 - at;
	memmove(buf, buf + at, len + 1);
	return len;
}

long fs_realpath(const char *path, char *buf, size_t size)
{
	struct path start;
	struct nameidata nd;
	char *linkbuf = NULL;
	int links = 0;
	long err = path_base(AT_FDCWD, path, &start);
	if (err)
		return err;
	for (;;) {
		err = walk_parent(&start, path, &nd);
		path_put(&start);
		if (err)
			break;
		links += nd.links;
		struct path last;
		if ((err = walk_last(&nd, false, &last))) {
			nd_release(&nd);
			break;
		}
		if (!S_ISLNK(last.ino->mode) || nd.len == 0) {
			if (S_ISDIR(last.ino->mode)) {           /* a directory knows its own path */
				err = path_name(&last, buf, size);
			} else {
				long n = path_name(&nd.dir, buf, size);
				size_t at = n == 1 ? 0 : (size_t)n;  /* "/" + name, or "/dir" + "/" + name */
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
			}
			path_put(&last);
			nd_release(&nd);
			break;
		}
		char *target = kmalloc(PATH_MAX);
		long n = target ? vfs_readlink(last.ino, target, PATH_MAX - 1) : -ENOMEM;
		path_put(&last);
		if (++links > MAX_SYMLINKS)
			n = -ELOOP;
		if (n <= 0) {
			err = n ? n : -ENOENT;
			kfree(target);
			nd_release(&nd);
			break;
		}
		target[n] = '\0';
		if (target[0] == '/') {
			root_path(&start);
		} else {
			start = nd.dir;
			path_get(&start);
		}
		nd_release(&nd);
		kfree(linkbuf);
		linkbuf = target;
		path = target;
	}
	kfree(linkbuf);
	return err == -ERANGE ? -ENAMETOOLONG : err;
}
