/*
 * Files through glibc: open/read/write/seek and their vector and positioned forms, O_APPEND,
 * O_TRUNC, O_EXCL (mkstemp), truncation both ways and sparse files, stat/statx, directories
 * (mkdir, rmdir, readdir, getcwd, chdir), rename in all its forms, unlink of open files, symlinks
 * and /proc/self/exe, dup/dup3/fcntl, pipes (EOF, EPIPE, O_NONBLOCK, atomic PIPE_BUF writes from
 * several processes, EINTR), /dev/null and /dev/zero, and EFAULT/EINVAL for bad arguments.
 * Everything happens in a fresh directory under /tmp, removed at the end.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

static void *volatile bad_ptr = (void *)0x10;   /* volatile: keeps gcc from warning */
#define BAD_PTR bad_ptr

#ifndef STATX_BASIC_STATS      /* musl 1.2.3 has no statx() wrapper: the system call, with the uapi struct */
#include <linux/stat.h>
static int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, sx);
}
#endif
#define BIG_BYTES (8 << 20)
#define WRITERS 4
#define RECORDS 64                    /* per writer, PIPE_BUF bytes each */

static char top[64];                  /* the scratch directory */

static int err_is(long r, int e) { return r == -1 && errno == e; }

static void spit(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		printf("setup: cannot write %s: %s\n", path, strerror(errno));
	close(fd);
}

static long slurp(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	long r = read(fd, buf, n - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	return r;
}

static void test_basic_io(void)
{
	char buf[64];
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK("open_creat_excl", fd >= 0, "%s", strerror(errno));
	CHECK("open_excl_exists", err_is(open("f", O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST), "errno %d", errno);
	CHECK("write", write(fd, "hello world", 11) == 11, "%s", strerror(errno));
	CHECK("lseek_set", lseek(fd, 6, SEEK_SET) == 6, "");
	ssize_t r = read(fd, buf, sizeof(buf));
	CHECK("read_rest", r == 5 && !memcmp(buf, "world", 5), "r=%zd", r);
	CHECK("read_eof", read(fd, buf, sizeof(buf)) == 0, "");
	CHECK("lseek_end", lseek(fd, -5, SEEK_END) == 6, "");
	CHECK("lseek_negative", err_is(lseek(fd, -100, SEEK_CUR), EINVAL), "errno %d", errno);
	CHECK("lseek_bad_whence", err_is(lseek(fd, 0, 17), EINVAL), "errno %d", errno);
	CHECK("pwrite", pwrite(fd, "J", 1, 0) == 1 && lseek(fd, 0, SEEK_CUR) == 6, "");
	r = pread(fd, buf, 5, 0);
	CHECK("pread", r == 5 && !memcmp(buf, "Jello", 5) && lseek(fd, 0, SEEK_CUR) == 6, "r=%zd", r);
	CHECK("pread_negative_offset", err_is(pread(fd, buf, 1, -1), EINVAL), "errno %d", errno);
	struct iovec iov[3] = { { "ab", 2 }, { NULL, 0 }, { "cde", 3 } };
	lseek(fd, 0, SEEK_END);
	CHECK("writev", writev(fd, iov, 3) == 5, "%s", strerror(errno));
	char x[4], y[8];
	struct iovec rv[2] = { { x, 4 }, { y, 8 } };
	lseek(fd, 9, SEEK_SET);
	r = readv(fd, rv, 2);
	CHECK("readv", r == 7 && !memcmp(x, "ldab", 4) && !memcmp(y, "cde", 3), "r=%zd", r);
	volatile int neg_count = -1, big_count = IOV_MAX + 1;
	CHECK("readv_negative_count", err_is(readv(fd, rv, neg_count), EINVAL), "errno %d", errno);
	CHECK("readv_too_many", err_is(readv(fd, rv, big_count), EINVAL), "errno %d", errno);
	struct iovec neg[1] = { { x, (size_t)-1 } };
	CHECK("readv_negative_len", err_is(readv(fd, neg, 1), EINVAL), "errno %d", errno);
	close(fd);

	fd = open("f", O_RDONLY);
	CHECK("write_on_rdonly", err_is(write(fd, "x", 1), EBADF), "errno %d", errno);
	close(fd);
	fd = open("f", O_WRONLY | O_APPEND);
	lseek(fd, 0, SEEK_SET);
	CHECK("append", write(fd, "!", 1) == 1 && lseek(fd, 0, SEEK_CUR) == 17, "pos %ld", (long)lseek(fd, 0, SEEK_CUR));
	CHECK("read_on_wronly", err_is(read(fd, buf, 1), EBADF), "errno %d", errno);
	int fl = fcntl(fd, F_GETFL);
	CHECK("getfl_append", (fl & O_ACCMODE) == O_WRONLY && (fl & O_APPEND), "%#x", fl);
	close(fd);
	fd = open("f", O_RDWR | O_TRUNC);
	struct stat st;
	CHECK("o_trunc", fstat(fd, &st) == 0 && st.st_size == 0, "size %ld", (long)st.st_size);
	close(fd);
	CHECK("close_twice", close(fd) == -1 && errno == EBADF, "");
	CHECK("unlink", unlink("f") == 0 && err_is(unlink("f"), ENOENT), "errno %d", errno);

	char tmpl[] = "/tmp/files-mkstemp-XXXXXX";
	fd = mkstemp(tmpl);
	CHECK("mkstemp", fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600,
	      "%s", strerror(errno));
	close(fd);
	unlink(tmpl);
}

static void test_truncate_and_sparse(void)
{
	int fd = open("big", O_RDWR | O_CREAT | O_TRUNC, 0600);
	static uint32_t blk[16384];
	uint32_t sum = 0, sum2 = 0;
	int ok = 1;
	for (int i = 0; i < BIG_BYTES / (int)sizeof(blk) && ok; i++) {
		for (size_t j = 0; j < 16384; j++)
			sum += blk[j] = i * 16384 + j;
		ok = write(fd, blk, sizeof(blk)) == sizeof(blk);
	}
	CHECK("big_write", ok, "%s", strerror(errno));
	lseek(fd, 0, SEEK_SET);
	for (int i = 0; i < BIG_BYTES / (int)sizeof(blk) && ok; i++) {
		ok = read(fd, blk, sizeof(blk)) == sizeof(blk);
		for (size_t j = 0; j < 16384; j++)
			sum2 += blk[j];
	}
	CHECK("big_read_checksum", ok && sum == sum2, "%u vs %u", sum, sum2);
	off_t far = 1L << 32;
	CHECK("sparse_write", pwrite(fd, "end", 3, far) == 3, "%s", strerror(errno));
	char z[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	CHECK("hole_reads_zero", pread(fd, z, 8, far - 8) == 8 && !memcmp(z, "\0\0\0\0\0\0\0\0", 8), "");
	struct stat st;
	CHECK("sparse_size", fstat(fd, &st) == 0 && st.st_size == far + 3, "%ld", (long)st.st_size);
	CHECK("ftruncate_down", ftruncate(fd, 5000) == 0 && fstat(fd, &st) == 0 && st.st_size == 5000, "");
	CHECK("ftruncate_up", ftruncate(fd, 9000) == 0 && fstat(fd, &st) == 0 && st.st_size == 9000, "");
	char tail[16];
	CHECK("truncated_tail_zero", pread(fd, tail, 16, 5000) == 16 && !memcmp(tail, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16), "");
	CHECK("ftruncate_negative", err_is(ftruncate(fd, -1), EINVAL), "errno %d", errno);
	CHECK("truncate_path", truncate("big", 0) == 0 && stat("big", &st) == 0 && st.st_size == 0, "");
	close(fd);
	fd = open("big", O_RDONLY);
	CHECK("ftruncate_rdonly", err_is(ftruncate(fd, 0), EINVAL), "errno %d", errno);
	close(fd);
	unlink("big");
}

static void test_stat(void)
{
	spit("s", "12345");
	struct stat st, lst;
	CHECK("stat_size_mode", stat("s", &st) == 0 && st.st_size == 5 && S_ISREG(st.st_mode) && st.st_nlink == 1,
	      "size %ld mode %o", (long)st.st_size, st.st_mode);
	CHECK("stat_missing", err_is(stat("nope", &st), ENOENT), "errno %d", errno);
	CHECK("stat_enotdir", err_is(stat("s/x", &st), ENOTDIR), "errno %d", errno);
	CHECK("stat_trailing_slash", err_is(stat("s/", &st), ENOTDIR), "errno %d", errno);
	CHECK("symlink", symlink("s", "ln") == 0, "%s", strerror(errno));
	CHECK("lstat_link", lstat("ln", &lst) == 0 && S_ISLNK(lst.st_mode) && lst.st_size == 1, "");
	CHECK("stat_follows", stat("ln", &lst) == 0 && lst.st_ino == st.st_ino, "");
	int fd = open("s", O_RDONLY);
	struct statx sx;
	CHECK("statx", statx(AT_FDCWD, "s", 0, STATX_BASIC_STATS, &sx) == 0 && sx.stx_size == 5 &&
	      S_ISREG(sx.stx_mode) && sx.stx_ino == st.st_ino && (sx.stx_mask & STATX_SIZE), "");
	CHECK("statx_empty_path", statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx) == 0 && sx.stx_size == 5, "");
	CHECK("fstatat_empty_path", fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && st.st_size == 5, "");
	close(fd);
	CHECK("chmod", chmod("s", 0700) == 0 && stat("s", &st) == 0 && (st.st_mode & 07777) == 0700, "");
	CHECK("access", access("s", F_OK) == 0 && err_is(access("nope", F_OK), ENOENT), "");
	CHECK("link", link("s", "s2") == 0 && stat("s", &st) == 0 && st.st_nlink == 2, "");
	unlink("s2");
	unlink("ln");
	unlink("s");
}

static void test_dirs(void)
{
	char cwd[PATH_MAX], base[PATH_MAX];
	CHECK("getcwd", getcwd(base, sizeof(base)) && !strcmp(base, top), "%s vs %s", base, top);
	CHECK("mkdir", mkdir("d", 0755) == 0, "%s", strerror(errno));
	CHECK("mkdir_exists", err_is(mkdir("d", 0755), EEXIST), "errno %d", errno);
	CHECK("mkdir_noparent", err_is(mkdir("nope/d", 0755), ENOENT), "errno %d", errno);
	CHECK("mkdir_trailing_slash", mkdir("d/sub/", 0755) == 0, "%s", strerror(errno));
	spit("d/file", "x");
	CHECK("mkdir_under_file", err_is(mkdir("d/file/x", 0755), ENOTDIR), "errno %d", errno);
	CHECK("rmdir_notempty", err_is(rmdir("d"), ENOTEMPTY), "errno %d", errno);
	CHECK("rmdir_file", err_is(rmdir("d/file"), ENOTDIR), "errno %d", errno);
	CHECK("unlink_dir", err_is(unlink("d/sub"), EISDIR), "errno %d", errno);
	CHECK("rmdir_dot", err_is(rmdir("d/."), EINVAL), "errno %d", errno);
	CHECK("open_dir_for_write", err_is(open("d", O_WRONLY), EISDIR), "errno %d", errno);
	CHECK("open_dir_creat", err_is(open("d", O_RDONLY | O_CREAT, 0600), EISDIR), "errno %d", errno);
	CHECK("o_directory_on_file", err_is(open("d/file", O_RDONLY | O_DIRECTORY), ENOTDIR), "errno %d", errno);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	char c;
	CHECK("read_dir", err_is(read(dfd, &c, 1), EISDIR), "errno %d", errno);
	CHECK("openat_relative", faccessat(dfd, "file", F_OK, 0) == 0, "%s", strerror(errno));
	char longname[300];
	memset(longname, 'n', 299);
	longname[299] = '\0';
	CHECK("enametoolong", err_is(open(longname, O_RDONLY | O_CREAT, 0600), ENAMETOOLONG), "errno %d", errno);

	/* readdir sees every entry exactly once */
	for (int i = 0; i < 50; i++) {
		char name[32];
		snprintf(name, sizeof(name), "d/e%02d", i);
		spit(name, "");
	}
	DIR *dir = opendir("d");
	int n = 0, dots = 0, subdir_type = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		n++;
		dots += !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		if (!strcmp(de->d_name, "sub"))
			subdir_type = de->d_type == DT_DIR;
	}
	CHECK("readdir_count", n == 54 && dots == 2 && subdir_type, "n=%d dots=%d", n, dots);
	rewinddir(dir);
	CHECK("rewinddir", readdir(dir) != NULL, "");
	closedir(dir);
	for (int i = 0; i < 50; i++) {
		char name[32];
		snprintf(name, sizeof(name), "d/e%02d", i);
		unlink(name);
	}

	/* cwd */
	CHECK("chdir", chdir("d/sub") == 0 && getcwd(cwd, sizeof(cwd)) && strlen(cwd) == strlen(top) + 6, "%s", cwd);
	CHECK("dotdot", access("../file", F_OK) == 0, "");
	CHECK("getcwd_erange", getcwd(cwd, 3) == NULL && errno == ERANGE, "errno %d", errno);
	CHECK("fchdir", fchdir(dfd) == 0 && getcwd(cwd, sizeof(cwd)) && !strcmp(cwd + strlen(top), "/d"), "%s", cwd);
	CHECK("chdir_file", err_is(chdir("file"), ENOTDIR), "errno %d", errno);
	chdir(top);
	close(dfd);
	unlink("d/file");
	rmdir("d/sub");
	CHECK("rmdir", rmdir("d") == 0 && err_is(rmdir("d"), ENOENT), "errno %d", errno);
}

static void test_rename(void)
{
	char buf[16];
	spit("a", "A");
	spit("b", "B");
	mkdir("d1", 0755);
	mkdir("d2", 0755);
	spit("d2/inner", "");
	CHECK("rename_replace", rename("a", "b") == 0 && access("a", F_OK) != 0 && slurp("b", buf, 16) == 1 && buf[0] == 'A', "");
	CHECK("rename_missing", err_is(rename("a", "c"), ENOENT), "errno %d", errno);
	CHECK("rename_file_over_dir", err_is(rename("b", "d1"), EISDIR), "errno %d", errno);
	CHECK("rename_dir_over_file", err_is(rename("d1", "b"), ENOTDIR), "errno %d", errno);
	CHECK("rename_dir_over_nonempty", rename("d1", "d2") == -1 && (errno == ENOTEMPTY || errno == EEXIST), "errno %d", errno);
	CHECK("rename_into_itself", err_is(rename("d1", "d1/x"), EINVAL), "errno %d", errno);
	CHECK("rename_same", rename("b", "b") == 0, "");
	CHECK("rename_dir", rename("d1", "d2/d1") == 0 && access("d2/d1", F_OK) == 0, "");
	spit("c", "C");
	long r = syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", 1 /* RENAME_NOREPLACE */);
	CHECK("renameat2_noreplace", err_is(r, EEXIST), "r=%ld errno %d", r, errno);
	r = syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", 2 /* RENAME_EXCHANGE */);
	CHECK("renameat2_exchange", r == 0 && slurp("b", buf, 16) == 1 && buf[0] == 'C' && slurp("c", buf, 16) == 1 && buf[0] == 'A',
	      "r=%ld errno %d", r, errno);
	unlink("b");
	unlink("c");
	unlink("d2/inner");
	rmdir("d2/d1");
	rmdir("d2");
}

static void test_unlink_open(void)
{
	int fd = open("u", O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "still here", 10);
	unlink("u");
	char buf[16] = { 0 };
	struct stat st;
	CHECK("unlinked_gone", access("u", F_OK) != 0, "");
	CHECK("unlinked_readable", pread(fd, buf, 10, 0) == 10 && !memcmp(buf, "still here", 10), "");
	CHECK("unlinked_nlink0", fstat(fd, &st) == 0 && st.st_nlink == 0, "nlink %ld", (long)st.st_nlink);
	close(fd);
}

static void test_symlinks(void)
{
	char buf[PATH_MAX];
	mkdir("sd", 0755);
	spit("sd/t", "target");
	symlink("sd/t", "l1");
	symlink("sd", "ldir");
	symlink("loop2", "loop1");
	symlink("loop1", "loop2");
	symlink("dangling-target", "dangling");
	ssize_t n = readlink("l1", buf, sizeof(buf));
	CHECK("readlink", n == 4 && !memcmp(buf, "sd/t", 4), "n=%zd", n);
	CHECK("readlink_short_buf", readlink("l1", buf, 2) == 2, "");
	CHECK("readlink_not_link", err_is(readlink("sd", buf, sizeof(buf)), EINVAL), "errno %d", errno);
	CHECK("symlink_follow_read", slurp("l1", buf, sizeof(buf)) == 6, "");
	CHECK("symlink_dir_path", access("ldir/t", F_OK) == 0, "");
	CHECK("eloop", err_is(open("loop1", O_RDONLY), ELOOP), "errno %d", errno);
	CHECK("nofollow", err_is(open("l1", O_RDONLY | O_NOFOLLOW), ELOOP), "errno %d", errno);
	CHECK("symlink_exists", err_is(symlink("x", "l1"), EEXIST), "errno %d", errno);
	int fd = open("dangling", O_WRONLY | O_CREAT, 0600);
	CHECK("creat_through_dangling", fd >= 0 && access("dangling-target", F_OK) == 0, "%s", strerror(errno));
	close(fd);
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK("proc_self_exe", n > 6 && buf[0] == '/' && !strcmp(buf + n - 6, "/files"), "n=%zd '%s'", n, buf);
	const char *rm[] = { "l1", "ldir", "loop1", "loop2", "dangling", "dangling-target", "sd/t" };
	for (size_t i = 0; i < sizeof(rm) / sizeof(rm[0]); i++)
		unlink(rm[i]);
	rmdir("sd");
}

static void test_fds(void)
{
	int fd = open("/dev/null", O_RDWR);
	int d = dup(fd);
	CHECK("dup", d > fd, "%d", d);
	CHECK("dup3_same", err_is(dup3(fd, fd, 0), EINVAL), "errno %d", errno);
	CHECK("dup3_badflags", err_is(dup3(fd, d, 0x1), EINVAL), "errno %d", errno);
	CHECK("dup2_same", dup2(fd, fd) == fd, "");
	CHECK("dup3_cloexec", dup3(fd, 50, O_CLOEXEC) == 50 && fcntl(50, F_GETFD) == FD_CLOEXEC, "");
	CHECK("setfd", fcntl(50, F_SETFD, 0) == 0 && fcntl(50, F_GETFD) == 0, "");
	int c = fcntl(fd, F_DUPFD_CLOEXEC, 20);
	CHECK("dupfd_cloexec", c == 20 && fcntl(c, F_GETFD) == FD_CLOEXEC, "%d", c);
	CHECK("dupfd_min", fcntl(fd, F_DUPFD, 20) == 21, "");
	CHECK("badfd", err_is(fcntl(900, F_GETFD), EBADF), "errno %d", errno);
	CHECK("setfl_nonblock", fcntl(fd, F_SETFL, O_NONBLOCK) == 0 && (fcntl(d, F_GETFL) & O_NONBLOCK), "");
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 1024) {
		CHECK("high_fd", dup2(fd, 1000) == 1000 && close(1000) == 0, "%s", strerror(errno));
		CHECK("fd_beyond_limit", err_is(dup2(fd, (int)rl.rlim_cur), EBADF), "errno %d", errno);
	}
	int t = ioctl(fd, TCGETS, &(struct termios){ 0 });
	CHECK("tcgets_not_tty", err_is(t, ENOTTY), "errno %d", errno);
	CHECK("isatty_null", !isatty(fd), "");
	char z[64];
	memset(z, 7, sizeof(z));
	int zfd = open("/dev/zero", O_RDONLY);
	CHECK("dev_zero", read(zfd, z, sizeof(z)) == sizeof(z) && z[0] == 0 && z[63] == 0, "");
	CHECK("dev_null", write(fd, z, sizeof(z)) == sizeof(z) && read(fd, z, 1) == 0, "");
	close(zfd);
	close(c);
	close(21);
	close(50);
	close(d);
	close(fd);
}

static volatile sig_atomic_t got_usr1, got_pipe;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }
static void on_pipe(int sig) { (void)sig; got_pipe = 1; }

static void test_pipes(void)
{
	int p[2];
	char buf[PIPE_BUF];
	CHECK("pipe2_bad_flags", err_is(pipe2(p, O_APPEND), EINVAL), "errno %d", errno);
	CHECK("pipe2", pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "%s", strerror(errno));
	CHECK("pipe2_flags", (fcntl(p[0], F_GETFL) & O_NONBLOCK) && fcntl(p[1], F_GETFD) == FD_CLOEXEC, "");
	CHECK("pipe_eagain", err_is(read(p[0], buf, 1), EAGAIN), "errno %d", errno);
	CHECK("pipe_espipe", err_is(lseek(p[0], 0, SEEK_SET), ESPIPE) && err_is(pread(p[0], buf, 1, 0), ESPIPE), "");
	int total = 0, r;
	memset(buf, 'x', sizeof(buf));
	while ((r = write(p[1], buf, sizeof(buf))) > 0)
		total += r;
	CHECK("pipe_fills", r == -1 && errno == EAGAIN && total >= 4096, "total %d errno %d", total, errno);
	int avail = 0;
	CHECK("fionread", ioctl(p[0], FIONREAD, &avail) == 0 && avail == total, "%d vs %d", avail, total);
	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	struct stat st;
	CHECK("pipe_fstat", fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "");
	close(p[1]);
	CHECK("pipe_eof", read(p[0], buf, 1) == 0, "");
	close(p[0]);

	/* EPIPE and SIGPIPE */
	pipe(p);
	close(p[0]);
	signal(SIGPIPE, on_pipe);
	CHECK("epipe", err_is(write(p[1], "x", 1), EPIPE) && got_pipe, "errno %d sig %d", errno, got_pipe);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);

	/* PIPE_BUF writes from several processes never interleave */
	pipe(p);
	for (int w = 0; w < WRITERS; w++) {
		if (fork() == 0) {
			close(p[0]);
			memset(buf, 'a' + w, sizeof(buf));
			for (int i = 0; i < RECORDS; i++)
				if (write(p[1], buf, sizeof(buf)) != sizeof(buf))
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	int records = 0, torn = 0, counts[WRITERS] = { 0 };
	size_t have = 0;
	static char rec[PIPE_BUF];
	while ((r = read(p[0], rec + have, sizeof(rec) - have)) > 0) {
		have += r;
		if (have < sizeof(rec))
			continue;
		for (size_t i = 1; i < sizeof(rec); i++)
			torn += rec[i] != rec[0];
		if (rec[0] >= 'a' && rec[0] < 'a' + WRITERS)
			counts[rec[0] - 'a']++;
		records++;
		have = 0;
	}
	close(p[0]);
	int status, ok = 1;
	for (int w = 0; w < WRITERS; w++)
		ok &= wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	CHECK("pipe_buf_atomic", ok && records == WRITERS * RECORDS && !torn && counts[0] == RECORDS &&
	      counts[WRITERS - 1] == RECORDS, "records %d torn %d", records, torn);

	/* a blocked read is interrupted by a handler without SA_RESTART */
	pipe(p);
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	pid_t parent = getpid(), kid = fork();
	if (kid == 0) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	r = read(p[0], buf, 1);
	CHECK("pipe_read_eintr", r == -1 && errno == EINTR && got_usr1, "r=%d errno %d", r, errno);
	waitpid(kid, &status, 0);
	signal(SIGUSR1, SIG_DFL);
	close(p[0]);
	close(p[1]);
}

static void test_efault(void)
{
	int fd = open("ef", O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "data", 4);
	lseek(fd, 0, SEEK_SET);
	struct stat st;
	CHECK("efault_read", err_is(read(fd, BAD_PTR, 4), EFAULT), "errno %d", errno);
	CHECK("efault_write", err_is(write(fd, BAD_PTR, 4), EFAULT), "errno %d", errno);
	CHECK("efault_open", err_is(open(BAD_PTR, O_RDONLY), EFAULT), "errno %d", errno);
	CHECK("efault_stat_buf", err_is(syscall(SYS_newfstatat, AT_FDCWD, "ef", BAD_PTR, 0), EFAULT), "errno %d", errno);
	CHECK("efault_fstat", err_is(syscall(SYS_fstat, fd, BAD_PTR), EFAULT), "errno %d", errno);
	CHECK("efault_stat_path", err_is(syscall(SYS_newfstatat, AT_FDCWD, BAD_PTR, &st, 0), EFAULT), "errno %d", errno);
	CHECK("efault_pipe", err_is(syscall(SYS_pipe2, BAD_PTR, 0), EFAULT), "errno %d", errno);
	CHECK("efault_getcwd", err_is(syscall(SYS_getcwd, BAD_PTR, 128), EFAULT), "errno %d", errno);
	CHECK("efault_readlink", err_is(readlink("/proc/self/exe", BAD_PTR, 64), EFAULT), "errno %d", errno);
	CHECK("efault_writev_iov", err_is(writev(fd, BAD_PTR, 2), EFAULT), "errno %d", errno);
	CHECK("efault_mkdir", err_is(mkdir(BAD_PTR, 0755), EFAULT), "errno %d", errno);
	CHECK("efault_getdents", err_is(syscall(SYS_getdents64, open(".", O_RDONLY | O_DIRECTORY), BAD_PTR, 4096), EFAULT),
	      "errno %d", errno);
	char ok[4];
	CHECK("file_intact_after_efault", pread(fd, ok, 4, 0) == 4 && !memcmp(ok, "data", 4), "");
	close(fd);
	unlink("ef");
}

int main(void)
{
	snprintf(top, sizeof(top), "/tmp/files-test-XXXXXX");
	if (!mkdtemp(top) || chdir(top) != 0) {
		printf("FAIL setup: no scratch directory: %s\n", strerror(errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	test_basic_io();
	test_truncate_and_sparse();
	test_stat();
	test_dirs();
	test_rename();
	test_unlink_open();
	test_symlinks();
	test_fds();
	test_pipes();
	test_efault();
	chdir("/");
	CHECK("cleanup", rmdir(top) == 0, "%s: %s", top, strerror(errno));
	return t_finish();
}
