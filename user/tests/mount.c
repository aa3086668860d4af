/*
 * Mounts and the file-system-wide calls: mount/umount2 of tmpfs on a directory (what was there
 * hides and comes back, EBUSY while a file, a cwd or a child is inside, MNT_DETACH with a file
 * still open, umount of what is not a mount point), ".." and getcwd across a mount point, bind
 * mounts, remount read-only (EROFS), EXDEV across mounts, /proc/mounts and /proc/self/mounts
 * lines, statfs/fstatfs fields, renameat2 flags, the sync family's answers, fallocate, and
 * sendfile/copy_file_range copying byte for byte.
 *
 * Under qemu-user the host's Linux answers; mount needs CAP_SYS_ADMIN there, and without it the
 * mount cases are skipped (the rest still runs). Every mount is made below a fresh directory in
 * /tmp and detached at the end even if a check failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef RENAME_NOREPLACE                /* musl 1.2.3's stdio.h lacks them (linux/fs.h values) */
#define RENAME_NOREPLACE 1
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE 2
#endif
#include "harness.h"

#define TMPFS_MAGIC_NR 0x01021994
#define BIG 100000                            /* bytes copied by sendfile and copy_file_range */

static char top[64], mnt[128], mnt_abs[PATH_MAX], top_abs[PATH_MAX];

static int err_is(long r, int e) { return r == -1 && errno == e; }

static void spit(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			perror("write");
		close(fd);
	}
}

static int slurp(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	buf[r < 0 ? 0 : r] = '\0';
	return r;
}

static char *path_in(const char *dir, const char *name)
{
	static char buf[4][256];
	static int i;
	char *p = buf[i++ % 4];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

/* The /proc/mounts line (of file f) whose mount point is path: its fields, or 0. */
static int find_mount(const char *f, const char *path, char *src, char *type, char *opts)
{
	FILE *fp = fopen(f, "r");
	char line[1024], s[256], mp[PATH_MAX], t[64], o[512];
	int found = 0, a, b;
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%255s %4095s %63s %511s %d %d", s, mp, t, o, &a, &b) == 6 &&
		    strcmp(mp, path) == 0) {
			found = 1;                   /* the last match is the topmost mount */
			strcpy(src, s);
			strcpy(type, t);
			strcpy(opts, o);
		}
	}
	fclose(fp);
	return found;
}

static void test_mount_basics(void)
{
	char buf[64], src[256], type[64], opts[512];
	struct stat before, after, st;
	spit(path_in(mnt, "under"), "lower");
	stat(mnt, &before);
	CHECK("mount tmpfs", mount("vfstest", mnt, "tmpfs", 0, NULL) == 0, "errno %d", errno);
	stat(mnt, &after);
	CHECK("mount: new st_dev", after.st_dev != before.st_dev, "dev %lx", (long)after.st_dev);
	CHECK("mount: lower file hidden", err_is(access(path_in(mnt, "under"), F_OK), ENOENT), "errno %d", errno);
	spit(path_in(mnt, "a"), "upper");
	CHECK("mount: file inside", slurp(path_in(mnt, "a"), buf, sizeof(buf)) == 5 && strcmp(buf, "upper") == 0, "%s", buf);
	CHECK("mount: /proc/mounts line", find_mount("/proc/mounts", mnt_abs, src, type, opts) == 1 &&
	      strcmp(src, "vfstest") == 0 && strcmp(type, "tmpfs") == 0 && strncmp(opts, "rw", 2) == 0,
	      "%s %s %s", src, type, opts);
	CHECK("mount: /proc/self/mounts line", find_mount("/proc/self/mounts", mnt_abs, src, type, opts) == 1 &&
	      strcmp(type, "tmpfs") == 0, "%s", type);

	struct statfs sf;
	CHECK("statfs: tmpfs", statfs(mnt, &sf) == 0 && sf.f_type == TMPFS_MAGIC_NR && sf.f_bsize == 4096 &&
	      sf.f_namelen == 255 && !(sf.f_flags & ST_RDONLY) && sf.f_blocks >= sf.f_bfree &&
	      sf.f_bfree >= sf.f_bavail, "type %lx bsize %ld namelen %ld flags %lx", (long)sf.f_type,
	      (long)sf.f_bsize, (long)sf.f_namelen, (long)sf.f_flags);
	int fd = open(path_in(mnt, "a"), O_RDONLY);
	struct statfs sf2;
	CHECK("fstatfs: same fs", fstatfs(fd, &sf2) == 0 && sf2.f_type == sf.f_type, "errno %d", errno);
	struct statfs sp;
	CHECK("statfs of /proc", statfs("/proc", &sp) == 0 && sp.f_type == 0x9fa0 && sp.f_blocks == 0,
	      "type %lx blocks %ld", (long)sp.f_type, (long)sp.f_blocks);
	CHECK("statfs: ENOENT", err_is(statfs(path_in(mnt, "nope"), &sf2), ENOENT), "errno %d", errno);
	CHECK("fstatfs: EBADF", err_is(fstatfs(-1, &sf2), EBADF), "errno %d", errno);

	/* ".." and getcwd across the mount point */
	mkdir(path_in(mnt, "sub"), 0755);
	char cwd[PATH_MAX], want[PATH_MAX + 8];
	CHECK("chdir into mount", chdir(path_in(mnt, "sub")) == 0, "errno %d", errno);
	snprintf(want, sizeof(want), "%s/sub", mnt_abs);
	CHECK("getcwd inside mount", getcwd(cwd, sizeof(cwd)) && strcmp(cwd, want) == 0, "%s", cwd);
	CHECK("umount: EBUSY with cwd inside", err_is(umount(mnt), EBUSY), "errno %d", errno);
	CHECK("dotdot out of mount", chdir("../..") == 0 && getcwd(cwd, sizeof(cwd)) && strcmp(cwd, top_abs) == 0, "%s", cwd);
	CHECK("mountpoint/.. is the parent", stat(path_in(mnt, ".."), &st) == 0 && stat(top, &after) == 0 &&
	      st.st_ino == after.st_ino && st.st_dev == after.st_dev, "ino %lu", (unsigned long)st.st_ino);
	chdir("/");

	CHECK("umount: EBUSY with an open file", err_is(umount(mnt), EBUSY), "errno %d", errno);
	close(fd);
	CHECK("rmdir of a mount point: EBUSY", err_is(rmdir(mnt), EBUSY), "errno %d", errno);
	CHECK("rename across mounts: EXDEV", err_is(rename(path_in(mnt, "a"), path_in(top, "a")), EXDEV), "errno %d", errno);
	CHECK("link across mounts: EXDEV", err_is(link(path_in(mnt, "a"), path_in(top, "a")), EXDEV), "errno %d", errno);

	/* a mount on a directory of the mount: the parent is busy */
	CHECK("nested mount", mount("inner", path_in(mnt, "sub"), "tmpfs", 0, NULL) == 0, "errno %d", errno);
	CHECK("umount: EBUSY with a child mount", err_is(umount(mnt), EBUSY), "errno %d", errno);
	CHECK("umount child", umount(path_in(mnt, "sub")) == 0, "errno %d", errno);

	CHECK("umount", umount(mnt) == 0, "errno %d", errno);
	CHECK("umount: upper file gone", err_is(access(path_in(mnt, "a"), F_OK), ENOENT), "errno %d", errno);
	CHECK("umount: lower file back", slurp(path_in(mnt, "under"), buf, sizeof(buf)) == 5 &&
	      strcmp(buf, "lower") == 0, "%s", buf);
	CHECK("umount: line gone", find_mount("/proc/mounts", mnt_abs, src, type, opts) == 0, "still there");
	CHECK("umount: not a mount point", err_is(umount(mnt), EINVAL), "errno %d", errno);
	CHECK("umount2: bad flags", err_is(umount2(mnt, 0x100), EINVAL), "errno %d", errno);
	CHECK("umount: ENOENT", err_is(umount(path_in(top, "nope")), ENOENT), "errno %d", errno);
	CHECK("mount: unknown type", err_is(mount("x", mnt, "no-such-fs", 0, NULL), ENODEV), "errno %d", errno);
	CHECK("mount: on a file", err_is(mount("x", path_in(mnt, "under"), "tmpfs", 0, NULL), ENOTDIR), "errno %d", errno);
	CHECK("mount: target missing", err_is(mount("x", path_in(top, "nope"), "tmpfs", 0, NULL), ENOENT), "errno %d", errno);
	unlink(path_in(mnt, "under"));
}

static void test_detach(void)
{
	char buf[16];
	mount("lazy", mnt, "tmpfs", 0, NULL);
	int fd = open(path_in(mnt, "b"), O_RDWR | O_CREAT, 0644);
	CHECK("detach: write", write(fd, "kept", 4) == 4, "errno %d", errno);
	CHECK("detach: EBUSY without MNT_DETACH", err_is(umount2(mnt, 0), EBUSY), "errno %d", errno);
	CHECK("umount2 MNT_DETACH", umount2(mnt, MNT_DETACH) == 0, "errno %d", errno);
	CHECK("detach: name gone", err_is(access(path_in(mnt, "b"), F_OK), ENOENT), "errno %d", errno);
	memset(buf, 0, sizeof(buf));
	CHECK("detach: open file still reads", pread(fd, buf, 4, 0) == 4 && memcmp(buf, "kept", 4) == 0, "%s", buf);
	struct statfs sf;
	CHECK("detach: fstatfs still works", fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC_NR, "errno %d", errno);
	close(fd);
}

static void test_remount_and_bind(void)
{
	char buf[32], src[256], type[64], opts[512];
	struct statfs sf;
	mount("ro-test", mnt, "tmpfs", 0, NULL);
	spit(path_in(mnt, "f"), "data");
	CHECK("remount ro", mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0, "errno %d", errno);
	CHECK("ro: create EROFS", err_is(open(path_in(mnt, "g"), O_WRONLY | O_CREAT, 0644), EROFS), "errno %d", errno);
	CHECK("ro: open for write EROFS", err_is(open(path_in(mnt, "f"), O_WRONLY), EROFS), "errno %d", errno);
	CHECK("ro: mkdir EROFS", err_is(mkdir(path_in(mnt, "d"), 0755), EROFS), "errno %d", errno);
	CHECK("ro: mkdir of an existing name EEXIST", err_is(mkdir(path_in(mnt, "f"), 0755), EEXIST), "errno %d", errno);
	CHECK("ro: unlink EROFS", err_is(unlink(path_in(mnt, "f")), EROFS), "errno %d", errno);
	CHECK("ro: read still works", slurp(path_in(mnt, "f"), buf, sizeof(buf)) == 4, "errno %d", errno);
	CHECK("ro: statfs ST_RDONLY", statfs(mnt, &sf) == 0 && (sf.f_flags & ST_RDONLY), "flags %lx", (long)sf.f_flags);
	CHECK("ro: access W_OK EROFS", err_is(access(path_in(mnt, "f"), W_OK), EROFS), "errno %d", errno);
	CHECK("ro: /proc/mounts says ro", find_mount("/proc/mounts", mnt_abs, src, type, opts) == 1 &&
	      strncmp(opts, "ro", 2) == 0, "%s", opts);
	CHECK("remount rw", mount(NULL, mnt, NULL, MS_REMOUNT, NULL) == 0, "errno %d", errno);
	chmod(path_in(mnt, "f"), 0755);
	CHECK("rw: x bit", access(path_in(mnt, "f"), X_OK) == 0, "errno %d", errno);
	CHECK("remount noexec", mount(NULL, mnt, NULL, MS_REMOUNT | MS_NOEXEC, NULL) == 0, "errno %d", errno);
	CHECK("noexec: access X_OK EACCES", err_is(access(path_in(mnt, "f"), X_OK), EACCES), "errno %d", errno);
	CHECK("noexec: statfs ST_NOEXEC", statfs(mnt, &sf) == 0 && (sf.f_flags & ST_NOEXEC), "flags %lx", (long)sf.f_flags);
	CHECK("noexec: execve EACCES", err_is(execl(path_in(mnt, "f"), "f", (char *)NULL), EACCES), "errno %d", errno);
	CHECK("remount exec", mount(NULL, mnt, NULL, MS_REMOUNT, NULL) == 0, "errno %d", errno);
	spit(path_in(mnt, "g"), "again");
	CHECK("rw: create works", access(path_in(mnt, "g"), F_OK) == 0, "errno %d", errno);
	CHECK("remount: not a mount point", err_is(mount(NULL, path_in(top, "src"), NULL, MS_REMOUNT, NULL), EINVAL) ||
	      err_is(mount(NULL, path_in(top, "src"), NULL, MS_REMOUNT, NULL), ENOENT), "errno %d", errno);
	umount(mnt);

	/* mounted read-only from the start, then made writable */
	CHECK("mount MS_RDONLY", mount("ro2", mnt, "tmpfs", MS_RDONLY, NULL) == 0, "errno %d", errno);
	CHECK("MS_RDONLY: EROFS", err_is(mkdir(path_in(mnt, "d"), 0755), EROFS), "errno %d", errno);
	CHECK("MS_RDONLY: remount rw", mount(NULL, mnt, NULL, MS_REMOUNT, NULL) == 0 &&
	      mkdir(path_in(mnt, "d"), 0755) == 0, "errno %d", errno);
	umount(mnt);

	/* a bind mount shows the same files under a second name */
	char srcdir[128];
	snprintf(srcdir, sizeof(srcdir), "%s/src", top);
	mkdir(srcdir, 0755);
	spit(path_in(srcdir, "shared"), "same");
	CHECK("bind mount", mount(srcdir, mnt, NULL, MS_BIND, NULL) == 0, "errno %d", errno);
	struct stat s1, s2;
	CHECK("bind: same inode", stat(path_in(srcdir, "shared"), &s1) == 0 && stat(path_in(mnt, "shared"), &s2) == 0 &&
	      s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev, "ino %lu %lu", (unsigned long)s1.st_ino, (unsigned long)s2.st_ino);
	spit(path_in(mnt, "made-through-bind"), "x");
	CHECK("bind: writes show in the source", access(path_in(srcdir, "made-through-bind"), F_OK) == 0, "errno %d", errno);
	CHECK("bind: rename between the two names EXDEV",
	      err_is(rename(path_in(mnt, "shared"), path_in(srcdir, "moved")), EXDEV), "errno %d", errno);
	CHECK("bind: remount ro of the bind only", mount(NULL, mnt, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0,
	      "errno %d", errno);
	CHECK("bind ro: write EROFS", err_is(open(path_in(mnt, "shared"), O_WRONLY), EROFS), "errno %d", errno);
	int fd = open(path_in(srcdir, "shared"), O_WRONLY);
	CHECK("bind ro: the source stays writable", fd >= 0, "errno %d", errno);
	close(fd);
	CHECK("umount bind", umount(mnt) == 0, "errno %d", errno);
	unlink(path_in(srcdir, "shared"));
	unlink(path_in(srcdir, "made-through-bind"));
	rmdir(srcdir);
}

/* renameat2 flags, the sync family, fallocate, sendfile and copy_file_range in directory dir. */
static void test_file_calls(const char *dir)
{
	char buf[32];
	char *a = path_in(dir, "ra"), *b = path_in(dir, "rb");
	spit(a, "AAA");
	spit(b, "BB");
	CHECK("renameat2 NOREPLACE: EEXIST", err_is(syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE), EEXIST),
	      "errno %d", errno);
	CHECK("renameat2 EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0 &&
	      slurp(a, buf, sizeof(buf)) == 2 && slurp(b, buf, sizeof(buf)) == 3, "errno %d", errno);
	CHECK("renameat2 both flags: EINVAL",
	      err_is(syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL), "errno %d", errno);
	CHECK("renameat2 EXCHANGE with no target: ENOENT",
	      err_is(syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, path_in(dir, "none"), RENAME_EXCHANGE), ENOENT), "errno %d", errno);
	CHECK("renameat2 NOREPLACE to a free name", syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, path_in(dir, "rc"),
	      RENAME_NOREPLACE) == 0 && access(a, F_OK) != 0, "errno %d", errno);
	unlink(path_in(dir, "rc"));
	unlink(b);

	/* the sync family */
	char *s = path_in(dir, "sync");
	int fd = open(s, O_RDWR | O_CREAT | O_SYNC, 0644);
	CHECK("O_SYNC write", write(fd, "12345", 5) == 5, "errno %d", errno);
	CHECK("fsync", fsync(fd) == 0, "errno %d", errno);
	CHECK("fdatasync", fdatasync(fd) == 0, "errno %d", errno);
	CHECK("syncfs", syncfs(fd) == 0, "errno %d", errno);
	sync();
	PASS("sync returns");
	close(fd);
	fd = open(s, O_WRONLY | O_DSYNC | O_APPEND);
	CHECK("O_DSYNC append", write(fd, "678", 3) == 3 && fsync(fd) == 0, "errno %d", errno);
	close(fd);
	CHECK("O_SYNC data there", slurp(s, buf, sizeof(buf)) == 8 && strcmp(buf, "12345678") == 0, "%s", buf);
	int p[2];
	pipe(p);
	CHECK("fsync of a pipe: EINVAL", err_is(fsync(p[0]), EINVAL), "errno %d", errno);
	CHECK("fdatasync of a pipe: EINVAL", err_is(fdatasync(p[1]), EINVAL), "errno %d", errno);
	CHECK("fsync: EBADF", err_is(fsync(-1), EBADF), "errno %d", errno);
	CHECK("syncfs: EBADF", err_is(syncfs(-1), EBADF), "errno %d", errno);
	fd = open("/dev/null", O_WRONLY);
	CHECK("fsync of /dev/null: EINVAL", err_is(fsync(fd), EINVAL), "errno %d", errno);
	close(fd);

	/* fallocate */
	fd = open(s, O_RDWR);
	struct stat st;
	CHECK("fallocate grows", fallocate(fd, 0, 0, 10000) == 0 && fstat(fd, &st) == 0 && st.st_size == 10000,
	      "errno %d size %ld", errno, (long)st.st_size);
	CHECK("fallocate KEEP_SIZE", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 50000) == 0 && fstat(fd, &st) == 0 &&
	      st.st_size == 10000, "errno %d size %ld", errno, (long)st.st_size);
	CHECK("fallocate keeps data", pread(fd, buf, 8, 0) == 8 && memcmp(buf, "12345678", 8) == 0, "%.8s", buf);
	CHECK("fallocate KEEP_SIZE allocates", fstat(fd, &st) == 0 && st.st_blocks * 512 >= 50000,
	      "blocks %ld", (long)st.st_blocks);
	static char big[12000], zeros[12000];
	CHECK("fallocated bytes read as zeros", pread(fd, big, 9992, 8) == 9992 && !memcmp(big, zeros, 9992), "errno %d", errno);
	CHECK("write into allocated blocks past EOF", pwrite(fd, "Z", 1, 20000) == 1 && fstat(fd, &st) == 0 &&
	      st.st_size == 20001 && pread(fd, big, 10000, 10000) == 10000 && !memcmp(big, zeros, 10000) &&
	      pread(fd, buf, 2, 19999) == 2 && buf[0] == 0 && buf[1] == 'Z', "errno %d size %ld", errno, (long)st.st_size);
	CHECK("fallocate: EINVAL for len 0", err_is(fallocate(fd, 0, 0, 0), EINVAL), "errno %d", errno);
	CHECK("fallocate of a pipe: ESPIPE", err_is(fallocate(p[1], 0, 0, 10), ESPIPE), "errno %d", errno);
	close(fd);
	fd = open(s, O_RDONLY);
	CHECK("fallocate read-only fd: EBADF", err_is(fallocate(fd, 0, 0, 10), EBADF), "errno %d", errno);
	close(fd);
	unlink(s);

	/* sendfile and copy_file_range, byte for byte */
	static char pattern[BIG], back[BIG];
	for (int i = 0; i < BIG; i++)
		pattern[i] = (char)(i * 7 + i / 251);
	char *in = path_in(dir, "in"), *out = path_in(dir, "out"), *out2 = path_in(dir, "out2");
	int fi = open(in, O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fi, pattern, BIG);
	lseek(fi, 0, SEEK_SET);
	int fo = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
	off_t off = 123;
	CHECK("sendfile with offset", sendfile(fo, fi, &off, 50000) == 50000 && off == 50123, "off %ld errno %d", (long)off, errno);
	CHECK("sendfile: input position kept", lseek(fi, 0, SEEK_CUR) == 0, "pos %ld", (long)lseek(fi, 0, SEEK_CUR));
	CHECK("sendfile: output position moved", lseek(fo, 0, SEEK_CUR) == 50000, "pos %ld", (long)lseek(fo, 0, SEEK_CUR));
	CHECK("sendfile without offset", sendfile(fo, fi, NULL, 30000) == 30000 && lseek(fi, 0, SEEK_CUR) == 30000,
	      "errno %d", errno);
	off = BIG - 10;
	CHECK("sendfile short at EOF", sendfile(fo, fi, &off, 1000) == 10 && off == BIG, "off %ld", (long)off);
	CHECK("sendfile at EOF: 0", sendfile(fo, fi, &off, 1000) == 0, "errno %d", errno);
	memset(back, 0, sizeof(back));
	CHECK("sendfile bytes", pread(fo, back, BIG, 0) == 80010 && memcmp(back, pattern + 123, 50000) == 0 &&
	      memcmp(back + 50000, pattern, 30000) == 0 && memcmp(back + 80000, pattern + BIG - 10, 10) == 0, "mismatch");
	int fro = open(out, O_RDONLY);
	CHECK("sendfile to a read-only fd: EBADF", err_is(sendfile(fro, fi, NULL, 10), EBADF), "errno %d", errno);
	CHECK("sendfile: EBADF", err_is(sendfile(fo, -1, NULL, 10), EBADF), "errno %d", errno);
	close(fro);
	int fa = open(out, O_WRONLY | O_APPEND);
	CHECK("sendfile to O_APPEND: EINVAL", err_is(sendfile(fa, fi, NULL, 10), EINVAL), "errno %d", errno);
	CHECK("copy_file_range to O_APPEND: EBADF", err_is(copy_file_range(fi, NULL, fa, NULL, 10, 0), EBADF), "errno %d", errno);
	close(fa);

	int fo2 = open(out2, O_RDWR | O_CREAT | O_TRUNC, 0644);
	loff_t oin = 1000, oout = 0;
	CHECK("copy_file_range", copy_file_range(fi, &oin, fo2, &oout, 70000, 0) == 70000 && oin == 71000 &&
	      oout == 70000, "oin %ld oout %ld errno %d", (long)oin, (long)oout, errno);
	lseek(fi, 5, SEEK_SET);
	CHECK("copy_file_range with positions", copy_file_range(fi, NULL, fo2, NULL, 20, 0) == 20 &&
	      lseek(fi, 0, SEEK_CUR) == 25 && lseek(fo2, 0, SEEK_CUR) == 20, "errno %d", errno);
	oin = BIG - 5;
	oout = 70000;
	CHECK("copy_file_range short at EOF", copy_file_range(fi, &oin, fo2, &oout, 100, 0) == 5, "errno %d", errno);
	memset(back, 0, sizeof(back));
	CHECK("copy_file_range bytes", pread(fo2, back, BIG, 0) == 70005 && memcmp(back, pattern + 5, 20) == 0 &&
	      memcmp(back + 20, pattern + 1020, 70000 - 20) == 0 && memcmp(back + 70000, pattern + BIG - 5, 5) == 0,
	      "mismatch");
	CHECK("copy_file_range flags: EINVAL", err_is(copy_file_range(fi, NULL, fo2, NULL, 10, 1), EINVAL), "errno %d", errno);
	oin = 0;
	oout = 100;
	CHECK("copy_file_range overlap: EINVAL", err_is(copy_file_range(fi, &oin, fi, &oout, 1000, 0), EINVAL), "errno %d", errno);
	CHECK("copy_file_range of a pipe: EINVAL", err_is(copy_file_range(p[0], NULL, fo2, NULL, 10, 0), EINVAL), "errno %d", errno);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK("copy_file_range of a directory: EISDIR", err_is(copy_file_range(dfd, NULL, fo2, NULL, 10, 0), EISDIR), "errno %d", errno);
	close(dfd);
	close(fi);
	close(fo);
	close(fo2);
	close(p[0]);
	close(p[1]);
	unlink(in);
	unlink(out);
	unlink(out2);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1) {                      /* the file calls alone, on the file system at argv[1] */
		snprintf(top, sizeof(top), "%s/vfsXXXXXX", strcmp(argv[1], "/") ? argv[1] : "");
		if (!mkdtemp(top)) {
			perror("mkdtemp");
			return 1;
		}
		test_file_calls(top);
		rmdir(top);
		return t_finish();
	}
	strcpy(top, "/tmp/vfsXXXXXX");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(mnt, sizeof(mnt), "%s/m", top);
	mkdir(mnt, 0755);
	if (!realpath(top, top_abs) || !realpath(mnt, mnt_abs)) {
		perror("realpath");
		return 1;
	}
	int can_mount = mount("probe", mnt, "tmpfs", 0, NULL) == 0;
	if (!can_mount && errno == EPERM) {
		SKIP("mounts", "mount needs CAP_SYS_ADMIN here");
		test_file_calls(top);
	} else {
		CHECK("probe mount", can_mount, "errno %d", errno);
		/* the file calls on a fresh tmpfs (so fallocate and statfs answer as tmpfs) */
		test_file_calls(mnt);
		umount2(mnt, MNT_DETACH);
		test_mount_basics();
		test_detach();
		test_remount_and_bind();
		umount2(mnt, MNT_DETACH);            /* whatever a failed check left */
	}
	rmdir(mnt);
	rmdir(top);
	return t_finish();
}
