/*
 * Open files, fd tables and working directories.
 *
 * A struct file is shared by every fd that dup/fork made from one open(); its refcount counts
 * those fds plus syscalls in flight (fd_get takes a reference, so a close racing with a read on
 * another thread only drops the table's reference and the read finishes on a live file). The
 * last file_put removes the file from any epoll interest list, calls ops->release and drops the
 * inode.
 *
 * An fd table is an array that starts small and doubles (up to NR_OPEN) when an fd beyond it is
 * needed (RLIMIT_NOFILE bounds which fds may be used); a bitmap of the same capacity holds the
 * close-on-exec flags. files->lock guards both; files are put after the
 * lock is dropped, since release may sleep or take other locks. fs_ctx->lock guards cwd and umask.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/rlimit.h"
#include "kernel/syscall.h"
#include "mm/kmalloc.h"
#include "kernel/sched.h"
#include "lib/string.h"

#define FD_INITIAL 64                   /* first size of a table's fd array */

/* ---- files ---- */

/* A file counted in inode->writers: exec refuses such a file with ETXTBSY, as Linux does. */
static bool file_writes_regular(const struct file *f)
{
	return S_ISREG(f->inode->mode) && (f->f_flags & O_ACCMODE) != O_RDONLY && !(f->f_flags & O_PATH);
}

struct file *file_alloc(struct inode *ino, const struct file_ops *ops, unsigned flags, void *priv)
{
	struct file *f = kzalloc(sizeof(*f));
	if (!f)
		return NULL;
	f->refcount = 1;
	f->f_flags = flags;
	sleeplock_init(&f->pos_lock, "file_pos");
	f->ops = ops;
	f->inode = ino;
	f->priv = priv;
	list_init(&f->ep_links);
	inode_get(ino);
	if (file_writes_regular(f))
		__atomic_fetch_add(&ino->writers, 1, __ATOMIC_RELAXED);
	return f;
}

struct file *anon_file_new(uint32_t mode, const struct file_ops *ops, unsigned flags, void *priv)
{
	struct inode *ino = inode_new(mode);
	if (!ino)
		return NULL;
	ino->fops = ops;
	struct file *f = file_alloc(ino, ops, flags, priv);
	inode_put(ino);
	return f;
}

void file_get(struct file *f) { __atomic_fetch_add(&f->refcount, 1, __ATOMIC_RELAXED); }

void file_put(struct file *f)
{
	if (!f || __atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	/* Epoll items hold no reference (a watched file closes as usual): unlink them first. Nobody
	 * can add one now (epoll_ctl holds a reference while it adds), so an empty list stays empty;
	 * the acquire pairs with the unlink of the last item (fs/epoll.c ep_remove), whose
	 * accesses to f are done by then. */
	if (__atomic_load_n(&f->ep_links.next, __ATOMIC_ACQUIRE) != &f->ep_links)
		eventpoll_release(f);
	if (f->ops && f->ops->release)
		f->ops->release(f);
	if (file_writes_regular(f))
		__atomic_fetch_sub(&f->inode->writers, 1, __ATOMIC_RELEASE);
	inode_put(f->inode);
	mnt_put(f->mnt);
	kfree(f->path);
	kfree(f);
}

uint64_t file_size(struct file *f)
{
	spin_lock(&f->inode->lock);
	uint64_t size = f->inode->size;
	spin_unlock(&f->inode->lock);
	return size;
}

/* ---- fd tables ---- */

static bool cloexec_test(struct files *fs, int fd) { return fs->cloexec[fd / 64] >> (fd % 64) & 1; }

static void cloexec_set(struct files *fs, int fd, bool on)
{
	if (on)
		fs->cloexec[fd / 64] |= 1UL << (fd % 64);
	else
		fs->cloexec[fd / 64] &= ~(1UL << (fd % 64));
}

static struct files *files_alloc(int max)
{
	struct files *fs = kzalloc(sizeof(*fs));
	if (!fs)
		return NULL;
	fs->fd = kzalloc(max * sizeof(struct file *));
	fs->cloexec = kzalloc(max / 64 * sizeof(uint64_t));
	if (!fs->fd || !fs->cloexec) {
		kfree(fs->fd);
		kfree(fs->cloexec);
		kfree(fs);
		return NULL;
	}
	spin_init(&fs->lock, "files");
	fs->refcount = 1;
	fs->max = max;
	return fs;
}

struct files *files_new(void) { return files_alloc(FD_INITIAL); }

struct files *files_dup(struct files *old)
{
	struct files *fs;
	int max;
	for (;;) {                               /* allocate outside the lock, retry if it grew */
		max = READ_ONCE(old->max);
		if (!(fs = files_alloc(max)))
			return NULL;
		spin_lock(&old->lock);
		if (old->max == max)
			break;
		spin_unlock(&old->lock);
		files_put(fs);
	}
	for (int i = 0; i < max; i++) {
		if ((fs->fd[i] = old->fd[i]))
			file_get(fs->fd[i]);
	}
	memcpy(fs->cloexec, old->cloexec, max / 64 * sizeof(uint64_t));
	spin_unlock(&old->lock);
	return fs;
}

void files_get(struct files *fs) { __atomic_fetch_add(&fs->refcount, 1, __ATOMIC_RELAXED); }

void files_put(struct files *fs)
{
	if (!fs || __atomic_sub_fetch(&fs->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (int i = 0; i < fs->max; i++)
		file_put(fs->fd[i]);               /* nobody else can see the table now */
	kfree(fs->fd);
	kfree(fs->cloexec);
	kfree(fs);
}

void files_close_on_exec(struct files *fs)
{
	for (int w = 0; w < READ_ONCE(fs->max) / 64; w++) {   /* exec: no other thread grows it */
		for (;;) {
			struct file *f = NULL;
			spin_lock(&fs->lock);
			uint64_t bits = fs->cloexec[w];
			if (bits) {
				int fd = w * 64;
				while (!(bits >> (fd % 64) & 1))      /* lowest set bit (no libgcc ctz) */
					fd++;
				if (fd < fs->max) {
					f = fs->fd[fd];
					fs->fd[fd] = NULL;
				}
				cloexec_set(fs, fd, false);
			}
			spin_unlock(&fs->lock);
			if (!bits)
				break;
			file_put(f);
		}
	}
}

unsigned int nr_open = NR_OPEN_DEFAULT;

/* Makes room for fd (lock held; kmalloc does not sleep). The table ends at nr_open rounded up to
 * whole cloexec words. */
static int files_grow(struct files *fs, int fd)
{
	if (fd < fs->max)
		return 0;
	int limit = NR_OPEN;
	if (fd >= limit)
		return -EMFILE;
	int cap = (int)ALIGN_UP((unsigned)limit, 64u);
	long max = fs->max;
	while (max <= fd && max < cap)
		max *= 2;
	max = MIN(max, (long)cap);
	struct file **nfd = kzalloc(max * sizeof(struct file *));
	uint64_t *ncloexec = kzalloc(max / 64 * sizeof(uint64_t));
	if (!nfd || !ncloexec) {
		kfree(nfd);
		kfree(ncloexec);
		return -ENOMEM;
	}
	memcpy(nfd, fs->fd, fs->max * sizeof(struct file *));
	memcpy(ncloexec, fs->cloexec, fs->max / 64 * sizeof(uint64_t));
	kfree(fs->fd);
	kfree(fs->cloexec);
	fs->fd = nfd;
	fs->cloexec = ncloexec;
	fs->max = (int)max;
	return 0;
}

/* The caller's fd bound: RLIMIT_NOFILE's soft limit (kernel/rlimit.c), which setrlimit keeps at
 * most nr_open; nr_open lowered since bounds the table's growth instead (files_grow: EMFILE). */
int fd_limit(void) { return (int)MIN(rlimit_cur(RLIMIT_NOFILE), (uint64_t)NR_OPEN_MAX); }

int fd_install_from(struct files *fs, struct file *f, int min_fd, bool cloexec)
{
	int limit = fd_limit();
	if (min_fd < 0 || min_fd >= limit)
		return -EINVAL;
	spin_lock(&fs->lock);
	int fd = min_fd;
	while (fd < fs->max && fs->fd[fd])
		fd++;
	int err = fd >= limit ? -EMFILE : files_grow(fs, fd);
	if (!err) {
		fs->fd[fd] = f;
		cloexec_set(fs, fd, cloexec);
	}
	spin_unlock(&fs->lock);
	return err ? err : fd;
}

int fd_install(struct files *fs, struct file *f, bool cloexec) { return fd_install_from(fs, f, 0, cloexec); }

struct file *fd_get(int fd)
{
	struct files *fs = current ? current->files : NULL;
	struct file *f = NULL;
	if (!fs || fd < 0)
		return NULL;
	spin_lock(&fs->lock);
	if (fd < fs->max && (f = fs->fd[fd]))
		file_get(f);
	spin_unlock(&fs->lock);
	return f;
}

/* ---- fd syscalls that only touch the table ---- */

static struct files *cur_files(void) { return current ? current->files : NULL; }

long sys_close(int fd)
{
	struct files *fs = cur_files();
	struct file *f = NULL;
	if (!fs || fd < 0)
		return -EBADF;
	spin_lock(&fs->lock);
	if (fd < fs->max && (f = fs->fd[fd])) {
		fs->fd[fd] = NULL;
		cloexec_set(fs, fd, false);
	}
	spin_unlock(&fs->lock);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

long sys_dup(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	int nfd = fd_install(cur_files(), f, false);
	if (nfd < 0)
		file_put(f);
	return nfd;
}

long sys_dup3(int oldfd, int newfd, int flags)
{
	struct files *fs = cur_files();
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	if (newfd < 0 || newfd >= fd_limit())
		return -EBADF;
	struct file *f = fd_get(oldfd), *old = NULL;
	if (!f)
		return -EBADF;
	spin_lock(&fs->lock);
	int err = files_grow(fs, newfd);
	if (!err) {
		old = fs->fd[newfd];
		fs->fd[newfd] = f;
		cloexec_set(fs, newfd, flags & O_CLOEXEC);
	}
	spin_unlock(&fs->lock);
	if (err) {
		file_put(f);
		return err == -EMFILE ? -EBADF : err;   /* past nr_open: Linux's dup3 says EBADF */
	}
	file_put(old);
	return newfd;
}

/* F_GETFD / F_SETFD */
int fd_get_cloexec(int fd)
{
	struct files *fs = cur_files();
	int r = -EBADF;
	if (!fs)
		return r;
	spin_lock(&fs->lock);
	if (fd >= 0 && fd < fs->max && fs->fd[fd])
		r = cloexec_test(fs, fd);
	spin_unlock(&fs->lock);
	return r;
}

int fd_set_cloexec(int fd, bool on)
{
	struct files *fs = cur_files();
	int r = -EBADF;
	if (!fs)
		return r;
	spin_lock(&fs->lock);
	if (fd >= 0 && fd < fs->max && fs->fd[fd]) {
		cloexec_set(fs, fd, on);
		r = 0;
	}
	spin_unlock(&fs->lock);
	return r;
}

/* ---- working directories ---- */

struct fs_ctx *fs_ctx_new(void)
{
	struct fs_ctx *fs = kzalloc(sizeof(*fs));
	if (!fs)
		return NULL;
	spin_init(&fs->lock, "fs_ctx");
	fs->refcount = 1;
	root_path(&fs->cwd);
	fs->umask = DEFAULT_UMASK;
	return fs;
}

struct fs_ctx *fs_ctx_dup(struct fs_ctx *old)
{
	struct fs_ctx *fs = fs_ctx_new();
	if (!fs)
		return NULL;
	spin_lock(&old->lock);
	struct path root = fs->cwd;
	fs->cwd = old->cwd;
	path_get(&fs->cwd);
	fs->umask = old->umask;
	spin_unlock(&old->lock);
	path_put(&root);
	return fs;
}

void fs_ctx_get(struct fs_ctx *fs) { __atomic_fetch_add(&fs->refcount, 1, __ATOMIC_RELAXED); }

void fs_ctx_put(struct fs_ctx *fs)
{
	if (!fs || __atomic_sub_fetch(&fs->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	path_put(&fs->cwd);
	kfree(fs);
}

/* Replaces the cwd with dir (the caller's reference moves into the fs_ctx). */
void fs_set_cwd(struct fs_ctx *fs, const struct path *dir)
{
	spin_lock(&fs->lock);
	struct path old = fs->cwd;
	fs->cwd = *dir;
	spin_unlock(&fs->lock);
	path_put(&old);
}

long sys_umask(unsigned mask)
{
	struct fs_ctx *fs = current->fs;
	spin_lock(&fs->lock);
	unsigned old = fs->umask;
	fs->umask = mask & 0777;
	spin_unlock(&fs->lock);
	return old;
}

unsigned current_umask(void)
{
	return current && current->fs ? READ_ONCE(current->fs->umask) : DEFAULT_UMASK;
}
