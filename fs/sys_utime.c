/*
 * utimensat(2) (and futimens, which glibc makes of it with a NULL path): set a file's access and
 * modification times, each to a given time, to now (UTIME_NOW) or left alone (UTIME_OMIT); a
 * NULL times array means both now. The change time becomes now whenever anything is set. Every
 * caller is root, so there is no permission check. The inode lock guards the times.
 */
#include "fs/internal.h"
#include "fs/mount.h"
#include "kernel/errno.h"
#include "mm/uaccess.h"

#define UTIME_NOW ((1L << 30) - 1)
#define UTIME_OMIT ((1L << 30) - 2)

struct k_timespec { long tv_sec, tv_nsec; };

static int time_arg(const struct k_timespec *t, bool *set, uint64_t *ns, uint64_t now)
{
	*set = t->tv_nsec != UTIME_OMIT;
	if (t->tv_nsec == UTIME_NOW || t->tv_nsec == UTIME_OMIT) {
		*ns = now;
		return 0;
	}
	if (t->tv_nsec < 0 || t->tv_nsec >= (long)NSEC_PER_SEC || t->tv_sec < 0)
		return -EINVAL;
	*ns = (uint64_t)t->tv_sec * NSEC_PER_SEC + (uint64_t)t->tv_nsec;
	return 0;
}

long sys_utimensat(int dirfd, uintptr_t upath, uintptr_t utimes, int flags)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	uint64_t now = fs_now(), at = now, mt = now;
	bool set_a = true, set_m = true;
	if (utimes) {
		struct k_timespec t[2];
		if (copy_from_user(t, utimes, sizeof(t)))
			return -EFAULT;
		int err = time_arg(&t[0], &set_a, &at, now);
		err = err ?: time_arg(&t[1], &set_m, &mt, now);
		if (err)
			return err;
	}
	struct path p;
	int err;
	if (!upath && dirfd != AT_FDCWD) {          /* futimens */
		if (flags)
			return -EINVAL;
		err = lookup_at(dirfd, "", AT_EMPTY_PATH, &p);
	} else {
		char *path = getname(upath, &err);
		if (!path)
			return err;
		err = lookup_at(dirfd, path, flags, &p);
		putname(path);
	}
	if (err)
		return err;
	/* through the file system's setattr (a disk fs writes the times back); ctime is now */
	struct iattr ia = { .valid = (set_a ? ATTR_ATIME : 0) | (set_m ? ATTR_MTIME : 0), .atime = at, .mtime = mt };
	if (p.mnt && mnt_readonly(p.mnt))
		err = -EROFS;
	else
		err = vfs_setattr(p.ino, &ia);
	path_put(&p);
	return err;
}
