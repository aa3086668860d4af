/*
 * Socket nodes: the file-system side of AF_UNIX pathname sockets (net/unix/). bind(2) makes an
 * S_IFSOCK inode at the path as mknod would (the caller keeps a reference to it: the socket is
 * found again by that inode); connect(2) and sendto(2) look the path up, following symlinks.
 * open(2) of such a node is ENXIO (fs/sys_file.c); unlink removes the name as for any file, after
 * which nothing can connect to the socket by that name (the socket itself lives on).
 * Thread context; may sleep (path walks, the file system's create).
 */
#include "fs/internal.h"
#include "kernel/errno.h"

int sock_node_create(const char *path, uint32_t mode, struct inode **out)
{
	struct path base;
	struct nameidata nd;
	int err = path_base(AT_FDCWD, path, &base);
	if (err)
		return err;
	err = walk_parent(&base, path, &nd);
	path_put(&base);
	if (err)
		return err;
	struct inode *dir = nd.dir.ino;
	if (nd.len == 0 || nd.slash || is_dot(nd.last, nd.len))
		err = -EEXIST;                               /* "/", "dir/", "." name something already */
	else if (!S_ISDIR(dir->mode))
		err = -ENOTDIR;
	else if ((err = may_access(&nd.dir, W_OK)))
		;
	else if (!dir->iops || !dir->iops->create)
		err = -EACCES;
	else
		err = dir->iops->create(dir, nd.last, nd.len,
					S_IFSOCK | (mode & ~current_umask() & S_IALLUGO), 0, out);
	nd_release(&nd);
	return err;
}

int sock_node_lookup(const char *path, struct inode **out)
{
	struct path p;
	int err = lookup_at(AT_FDCWD, path, 0, &p);
	if (err)
		return err;
	*out = p.ino;
	inode_get(p.ino);
	path_put(&p);
	return 0;
}
