/*
 * utimensat(2)/futimens as touch uses them: explicit times, UTIME_NOW, UTIME_OMIT, NULL (both
 * now), a symlink itself with AT_SYMLINK_NOFOLLOW, the change time moving, and ENOENT, EINVAL,
 * EBADF, EFAULT for bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define BAD_PTR ((void *)0x10)

int main(void)
{
	const char *f = "utime_file", *l = "utime_link";
	unlink(f);
	unlink(l);
	int fd = open(f, O_CREAT | O_RDWR, 0644);
	struct stat st;
	struct timespec t[2] = { { 1000000000, 123456789 }, { 1200000000, 987654321 } };
	CHECK("explicit", utimensat(AT_FDCWD, f, t, 0) == 0 && stat(f, &st) == 0 &&
	      st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 123456789 &&
	      st.st_mtim.tv_sec == 1200000000 && st.st_mtim.tv_nsec == 987654321, "errno %d", errno);

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct timespec omit_now[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	CHECK("omit_and_now", utimensat(AT_FDCWD, f, omit_now, 0) == 0 && stat(f, &st) == 0 &&
	      st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec >= now.tv_sec - 1 &&
	      st.st_mtim.tv_sec <= now.tv_sec + 2 && st.st_ctim.tv_sec >= now.tv_sec - 1,
	      "a %ld m %ld now %ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec, (long)now.tv_sec);

	CHECK("futimens", futimens(fd, t) == 0 && fstat(fd, &st) == 0 && st.st_mtim.tv_sec == 1200000000,
	      "errno %d", errno);
	CHECK("null_times", utimensat(AT_FDCWD, f, NULL, 0) == 0 && stat(f, &st) == 0 &&
	      st.st_atim.tv_sec >= now.tv_sec - 1 && st.st_mtim.tv_sec >= now.tv_sec - 1, "errno %d", errno);

	symlink(f, l);
	struct stat ls;
	CHECK("nofollow", utimensat(AT_FDCWD, l, t, AT_SYMLINK_NOFOLLOW) == 0 && lstat(l, &ls) == 0 &&
	      ls.st_mtim.tv_sec == 1200000000 && stat(f, &st) == 0 && st.st_mtim.tv_sec != 1200000000,
	      "errno %d", errno);

	errno = 0;
	CHECK("enoent", utimensat(AT_FDCWD, "no/such/file", NULL, 0) == -1 && errno == ENOENT, "errno %d", errno);
	struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
	errno = 0;
	CHECK("einval_nsec", utimensat(AT_FDCWD, f, bad, 0) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	CHECK("einval_flags", utimensat(AT_FDCWD, f, NULL, 0x4) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	CHECK("ebadf", futimens(-1, NULL) == -1 && errno == EBADF, "errno %d", errno);
	errno = 0;
	CHECK("efault_times", syscall(SYS_utimensat, AT_FDCWD, f, BAD_PTR, 0) == -1 && errno == EFAULT, "errno %d", errno);
	errno = 0;
	CHECK("efault_path", syscall(SYS_utimensat, AT_FDCWD, BAD_PTR, NULL, 0) == -1 && errno == EFAULT,
	      "errno %d", errno);
	close(fd);
	unlink(l);
	unlink(f);
	return t_finish();
}
