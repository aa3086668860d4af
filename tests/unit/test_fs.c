// unit-sources: fs/tmpfs.c fs/tmpfs_data.c mm/rmap.c fs/inode.c fs/super.c fs/mount.c fs/blkdev.c fs/sync.c fs/copy.c fs/namei.c fs/file.c lib/sleeplock.c fs/sys_file.c fs/memfd.c fs/memfd_seal.c fs/open_path.c fs/sys_path.c fs/pipe.c fs/dev.c fs/dev_mem.c fs/dev_rtc.c fs/sys_utime.c fs/procfs.c fs/fs_init.c fs/initramfs.c fs/cpio.c mm/page.c mm/kmalloc.c
/*
 * The file layer (fs/) through its system calls, on the host: tmpfs over the real page
 * allocator and kmalloc on a fake RAM, one fake thread as `current`, and "user memory" that is an
 * arena mapped below USER_TOP, so access_ok passes for it and the copy_*_user stubs turn anything
 * outside it into -EFAULT. Nothing may block (the wait-queue stubs panic if asked to sleep).
 * Every case checks that it gave back every page and kmalloc object it used.
 */
#include "tests/unit/fs_harness.h"

uint64_t realtime_offset_ns(void) { return 0; }

/* proc_pid.c and proc_sys.c need the process table and the scheduler: here /proc has just a
 * computed symlink, /proc/self/exe (current_exe), to exercise computed links in path walks. */
static long stub_self_exe(struct inode *ino, char *buf, size_t size)
{
	(void)ino;
	if (!current_exe())
		return -ENOENT;
	size_t len = strlen(current_exe());
	len = len < size ? len : size;
	memcpy(buf, current_exe(), len);
	return (long)len;
}
static const struct inode_ops stub_self_exe_iops = { .readlink = stub_self_exe };
int proc_pid_init(void)
{
	int err = proc_node("/proc/self/exe", S_IFLNK | 0777, NULL, &stub_self_exe_iops, NULL);
	return err ? err : proc_create("/proc/self/mounts", mounts_show);
}

/* ---- cases ---- */

TEST(open_read_write_seek)
{
	begin();
	char buf[64];
	CHECK_EQ(op("/tmp/a", O_RDONLY, 0), -ENOENT);
	int fd = op("/tmp/a", O_RDWR | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(op("/tmp/a", O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);
	CHECK_EQ(wr(fd, "hello world"), 11);
	CHECK_EQ(sys_lseek(fd, 0, SEEK_CUR), 11);
	CHECK_EQ(sys_lseek(fd, 6, SEEK_SET), 6);
	CHECK_EQ(rd(fd, buf, 10), 5);
	CHECK(strcmp(buf, "world") == 0);
	CHECK_EQ(rd(fd, buf, 10), 0);                        /* EOF */
	CHECK_EQ(sys_lseek(fd, -1, SEEK_SET), -EINVAL);
	CHECK_EQ(sys_lseek(fd, 0, 99), -EINVAL);
	CHECK_EQ(sys_lseek(fd, -3, SEEK_END), 8);
	CHECK_EQ(sys_lseek(fd, 0, SEEK_DATA), 0);
	CHECK_EQ(sys_lseek(fd, 0, SEEK_HOLE), 11);
	CHECK_EQ(sys_lseek(fd, 11, SEEK_DATA), -ENXIO);
	uintptr_t b = ubuf(16);
	CHECK_EQ(sys_pread64(fd, b, 5, 0), 5);
	CHECK(memcmp((void *)b, "hello", 5) == 0);
	CHECK_EQ(sys_pread64(fd, b, 5, -1), -EINVAL);
	CHECK_EQ(sys_pwrite64(fd, ustr("J"), 1, 0), 1);
	CHECK_EQ(sys_lseek(fd, 0, SEEK_CUR), 11);            /* pread/pwrite leave the offset */
	CHECK_EQ(sys_lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(rd(fd, buf, 5), 5);
	CHECK(strcmp(buf, "Jello") == 0);
	CHECK_EQ(sys_close(fd), 0);
	CHECK_EQ(sys_close(fd), -EBADF);

	/* access modes, O_TRUNC, O_APPEND */
	fd = op("/tmp/a", O_RDONLY, 0);
	CHECK_EQ(wr(fd, "x"), -EBADF);
	sys_close(fd);
	fd = op("/tmp/a", O_WRONLY | O_APPEND, 0);
	CHECK_EQ(rd(fd, buf, 1), -EBADF);
	CHECK_EQ(sys_lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(wr(fd, "!"), 1);                            /* appends despite the offset */
	struct linux_stat st;
	CHECK_EQ(stp("/tmp/a", &st, 0), 0);
	CHECK_EQ(st.st_size, 12);
	sys_close(fd);
	fd = op("/tmp/a", O_WRONLY | O_TRUNC, 0);
	CHECK_EQ(stp("/tmp/a", &st, 0), 0);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(st.st_mode, S_IFREG | 0644);
	CHECK_EQ(st.st_nlink, 1);
	sys_close(fd);
	CHECK_EQ(unl("/tmp/a", 0), 0);
	CHECK_EQ(unl("/tmp/a", 0), -ENOENT);
	end();
}

TEST(errors_of_open)
{
	begin();
	CHECK_EQ(mkd("/tmp/d"), 0);
	int f = op("/tmp/d/f", O_CREAT | O_WRONLY, 0600);
	CHECK(f >= 0);
	sys_close(f);
	CHECK_EQ(op("/tmp/d", O_WRONLY, 0), -EISDIR);
	CHECK_EQ(op("/tmp/d", O_RDWR | O_CREAT, 0600), -EISDIR);
	CHECK_EQ(op("/tmp/d", O_RDONLY | O_CREAT, 0600), -EISDIR);
	CHECK_EQ(op("/tmp/d/f", O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
	CHECK_EQ(op("/tmp/d/f/x", O_RDONLY, 0), -ENOTDIR);
	CHECK_EQ(op("/tmp/d/f/", O_RDONLY, 0), -ENOTDIR);
	CHECK_EQ(op("/tmp/d/new/", O_CREAT | O_RDWR, 0600), -EISDIR);
	CHECK_EQ(op("/tmp/nodir/x", O_CREAT | O_RDWR, 0600), -ENOENT);
	CHECK_EQ(op("", O_RDONLY, 0), -ENOENT);
	int d = op("/tmp/d/", O_RDONLY | O_DIRECTORY, 0);
	CHECK(d >= 0);
	uintptr_t b = ubuf(8);
	CHECK_EQ(sys_read(d, b, 8), -EISDIR);
	CHECK_EQ(sys_write(d, b, 8), -EBADF);
	sys_close(d);
	char longname[300];
	memset(longname, 'n', 256);
	strcpy(longname + 256, "");
	CHECK_EQ(op(longname, O_CREAT | O_RDWR, 0600), -ENAMETOOLONG);
	static char longpath[PATH_MAX + 10];
	for (int i = 0; i < PATH_MAX + 4; i += 2)
		memcpy(longpath + i, "a/", 2);
	longpath[PATH_MAX + 4] = '\0';
	CHECK_EQ(op(longpath, O_RDONLY, 0), -ENAMETOOLONG);
	CHECK_EQ(sys_openat(AT_FDCWD, BAD, O_RDONLY, 0), -EFAULT);
	CHECK_EQ(sys_openat(1000, ustr("x"), O_RDONLY, 0), -EBADF);
	f = op("/tmp/d/f", O_RDONLY, 0);
	CHECK_EQ(sys_openat(f, ustr("x"), O_RDONLY, 0), -ENOTDIR);
	sys_close(f);
	CHECK_EQ(unl("/tmp/d/f", 0), 0);
	CHECK_EQ(unl("/tmp/d", AT_REMOVEDIR), 0);
	end();
}

TEST(paths_dots_and_symlinks)
{
	begin();
	CHECK_EQ(mkd("/tmp/p"), 0);
	CHECK_EQ(mkd("/tmp/p/q/"), 0);                       /* trailing slash is fine for mkdir */
	CHECK_EQ(mkd("/tmp/p/q"), -EEXIST);
	CHECK_EQ(mkd("/"), -EEXIST);
	CHECK_EQ(mkd("/tmp/p/."), -EEXIST);
	int f = op("/tmp/p/q/../q/./file", O_CREAT | O_RDWR, 0644);
	CHECK(f >= 0);
	sys_close(f);
	CHECK(exists("//tmp///p/q/file"));
	CHECK(exists("/../../tmp/p/q/file"));                /* ".." at the root stays there */
	CHECK_EQ(sym("q/file", "/tmp/p/l1"), 0);
	CHECK_EQ(sym("/tmp/p/q", "/tmp/p/ldir"), 0);
	CHECK_EQ(sym("loop2", "/tmp/p/loop1"), 0);
	CHECK_EQ(sym("loop1", "/tmp/p/loop2"), 0);
	CHECK_EQ(sym("nothing", "/tmp/p/dangling"), 0);
	CHECK_EQ(sym("x", "/tmp/p/l1"), -EEXIST);
	struct linux_stat st, lst;
	CHECK_EQ(stp("/tmp/p/l1", &st, 0), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(stp("/tmp/p/l1", &lst, AT_SYMLINK_NOFOLLOW), 0);
	CHECK(S_ISLNK(lst.st_mode));
	CHECK_EQ(lst.st_size, 6);
	CHECK(exists("/tmp/p/ldir/file"));
	CHECK_EQ(stp("/tmp/p/ldir/", &st, AT_SYMLINK_NOFOLLOW), 0);      /* slash follows it */
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(stp("/tmp/p/loop1", &st, 0), -ELOOP);
	CHECK_EQ(op("/tmp/p/loop1/x", O_RDONLY, 0), -ELOOP);
	CHECK_EQ(op("/tmp/p/l1", O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
	CHECK_EQ(op("/tmp/p/dangling", O_RDONLY, 0), -ENOENT);
	CHECK_EQ(op("/tmp/p/dangling", O_RDWR | O_CREAT | O_EXCL, 0600), -EEXIST);
	f = op("/tmp/p/dangling", O_RDWR | O_CREAT, 0600);  /* creates the target */
	CHECK(f >= 0);
	sys_close(f);
	CHECK(exists("/tmp/p/nothing"));
	/* readlink */
	uintptr_t b = ubuf(64);
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr("/tmp/p/l1"), b, 64), 6);
	CHECK(memcmp((void *)b, "q/file", 6) == 0);
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr("/tmp/p/l1"), b, 3), 3);
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr("/tmp/p/q"), b, 64), -EINVAL);
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr(""), b, 64), -ENOENT);
	int lfd = op("/tmp/p/l1", O_PATH | O_NOFOLLOW, 0);
	CHECK_EQ(sys_readlinkat(lfd, ustr(""), b, 64), 6);           /* the link itself */
	sys_close(lfd);
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr("/tmp/p/l1"), b, 0), -EINVAL);
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr("/tmp/p/l1"), BAD, 64), -EFAULT);
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr("/proc/self/exe"), b, 64), 9);
	CHECK(memcmp((void *)b, "/bin/prog", 9) == 0);
	/* canonical paths for /proc/self/exe */
	char real[PATH_MAX];
	CHECK_EQ(fs_realpath("/tmp/p/l1", real, sizeof(real)), 13);
	CHECK(strcmp(real, "/tmp/p/q/file") == 0);
	CHECK_EQ(fs_realpath("/tmp/p/ldir/../q/./file", real, sizeof(real)), 13);
	CHECK_EQ(fs_realpath("/tmp/p/ldir", real, sizeof(real)), 8);
	CHECK(strcmp(real, "/tmp/p/q") == 0);
	CHECK_EQ(fs_realpath("/", real, sizeof(real)), 1);
	CHECK(strcmp(real, "/") == 0);
	CHECK_EQ(fs_realpath("/tmp/p/loop1", real, sizeof(real)), -ELOOP);
	CHECK_EQ(fs_realpath("/tmp/p/none", real, sizeof(real)), -ENOENT);
	CHECK_EQ(fs_realpath("/tmp/p/l1", real, 8), -ENAMETOOLONG);
	/* relative to a directory fd and to the cwd */
	int d = op("/tmp/p", O_RDONLY | O_DIRECTORY, 0);
	CHECK_EQ(sys_newfstatat(d, ustr("q/file"), ubuf(sizeof(st)), 0), 0);
	CHECK_EQ(sys_newfstatat(d, ustr(""), ubuf(sizeof(st)), 0), -ENOENT);
	CHECK_EQ(sys_newfstatat(d, ustr(""), ubuf(sizeof(st)), AT_EMPTY_PATH), 0);
	CHECK_EQ(sys_newfstatat(d, ustr("q"), ubuf(sizeof(st)), 0x8000), -EINVAL);
	CHECK_EQ(sys_chdir(ustr("/tmp/p/ldir")), 0);
	CHECK(exists("file"));
	CHECK(exists("../l1"));
	CHECK_EQ(fs_realpath("file", real, sizeof(real)), 13);
	uintptr_t cwd = ubuf(PATH_MAX);
	CHECK_EQ(sys_getcwd(cwd, PATH_MAX), 9);              /* the length counts the NUL */
	CHECK(strcmp((char *)cwd, "/tmp/p/q") == 0);
	CHECK_EQ(sys_getcwd(cwd, 5), -ERANGE);
	CHECK_EQ(sys_getcwd(BAD, 64), -EFAULT);
	CHECK_EQ(sys_chdir(ustr("file")), -ENOTDIR);
	CHECK_EQ(sys_fchdir(d), 0);
	CHECK_EQ(sys_getcwd(cwd, PATH_MAX), 7);
	CHECK_EQ(sys_chdir(ustr("/")), 0);
	CHECK_EQ(sys_getcwd(cwd, PATH_MAX), 2);
	CHECK(strcmp((char *)cwd, "/") == 0);
	sys_close(d);
	/* faccessat */
	CHECK_EQ(sys_faccessat(AT_FDCWD, ustr("/tmp/p/q/file"), R_OK | W_OK), 0);
	CHECK_EQ(sys_faccessat(AT_FDCWD, ustr("/tmp/p/q/file"), X_OK), -EACCES);
	CHECK_EQ(sys_faccessat(AT_FDCWD, ustr("/tmp/p/q"), X_OK), 0);
	CHECK_EQ(sys_faccessat(AT_FDCWD, ustr("/tmp/p/none"), F_OK), -ENOENT);
	CHECK_EQ(sys_faccessat(AT_FDCWD, ustr("/tmp/p/q"), 8), -EINVAL);
	/* clean up */
	const char *names[] = { "l1", "ldir", "loop1", "loop2", "dangling", "nothing", "q/file" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/tmp/p/%s", names[i]);
		CHECK_EQ(unl(path, 0), 0);
	}
	CHECK_EQ(unl("/tmp/p", AT_REMOVEDIR), -ENOTEMPTY);
	CHECK_EQ(unl("/tmp/p/q", 0), -EISDIR);
	CHECK_EQ(unl("/tmp/p/q/", AT_REMOVEDIR), 0);
	CHECK_EQ(unl("/tmp/p", AT_REMOVEDIR), 0);
	end();
}

TEST(rmdir_and_unlink_rules)
{
	begin();
	CHECK_EQ(mkd("/tmp/r"), 0);
	int f = op("/tmp/r/f", O_CREAT | O_RDWR, 0600);
	sys_close(f);
	CHECK_EQ(unl("/tmp/r/f", AT_REMOVEDIR), -ENOTDIR);
	CHECK_EQ(unl("/tmp/r/f/", 0), -ENOTDIR);
	CHECK_EQ(unl("/tmp/r/.", AT_REMOVEDIR), -EINVAL);
	CHECK_EQ(unl("/tmp/r/..", AT_REMOVEDIR), -ENOTEMPTY);
	CHECK_EQ(unl("/", AT_REMOVEDIR), -EBUSY);
	CHECK_EQ(unl("/tmp/r", 0x1), -EINVAL);
	CHECK_EQ(unl("/tmp/r/f", 0), 0);
	/* the cwd removed: getcwd says ENOENT, creating inside fails, ".." still works */
	CHECK_EQ(mkd("/tmp/r/gone"), 0);
	CHECK_EQ(sys_chdir(ustr("/tmp/r/gone")), 0);
	CHECK_EQ(unl("/tmp/r/gone", AT_REMOVEDIR), 0);
	CHECK_EQ(sys_getcwd(ubuf(64), 64), -ENOENT);
	CHECK_EQ(op("x", O_CREAT | O_RDWR, 0600), -ENOENT);
	CHECK(exists(".."));
	CHECK_EQ(sys_chdir(ustr("/")), 0);
	CHECK_EQ(unl("/tmp/r", AT_REMOVEDIR), 0);
	end();
}

TEST(unlinked_file_lives_while_open)
{
	begin();
	int fd = op("/tmp/u", O_CREAT | O_RDWR, 0600);
	uintptr_t b = ubuf(3 * PAGE_SIZE);
	memset((void *)b, 'u', 3 * PAGE_SIZE);
	CHECK_EQ(sys_write(fd, b, 3 * PAGE_SIZE), 3 * PAGE_SIZE);
	uint64_t with_file = pages_used();
	CHECK_EQ(unl("/tmp/u", 0), 0);
	CHECK(!exists("/tmp/u"));
	struct linux_stat st;
	uintptr_t sb = ubuf(sizeof(st));
	CHECK_EQ(sys_fstat(fd, sb), 0);
	memcpy(&st, (void *)sb, sizeof(st));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, 3 * PAGE_SIZE);
	CHECK_EQ(st.st_blocks, 3 * PAGE_SIZE / 512);
	CHECK_EQ(pages_used(), with_file);                   /* still there */
	memset((void *)b, 0, 3 * PAGE_SIZE);
	CHECK_EQ(sys_pread64(fd, b, 3 * PAGE_SIZE, 0), 3 * PAGE_SIZE);
	CHECK(((char *)b)[3 * PAGE_SIZE - 1] == 'u');
	sys_close(fd);
	end();                                               /* and gone after the close */
}

TEST(big_and_sparse_files)
{
	begin();
	int fd = op("/tmp/big", O_CREAT | O_RDWR, 0600);
	enum { CHUNK = 64 * 1024, TOTAL = 24 << 20 };
	uintptr_t b = ubuf(CHUNK);
	for (long off = 0; off < TOTAL; off += CHUNK) {
		for (int i = 0; i < CHUNK; i += 8)
			*(uint64_t *)(b + i) = off + i;
		if (sys_write(fd, b, CHUNK) != CHUNK) {
			CHECK(!"short write");
			break;
		}
	}
	CHECK_EQ(sys_lseek(fd, 0, SEEK_END), TOTAL);
	bool ok = true;
	for (long off = 0; off < TOTAL && ok; off += CHUNK) {
		ok = sys_pread64(fd, b, CHUNK, off) == CHUNK;
		for (int i = 0; i < CHUNK && ok; i += 8)
			ok = *(uint64_t *)(b + i) == (uint64_t)(off + i);
	}
	CHECK(ok);
	/* a write far away leaves a hole that reads as zeros and costs no pages */
	uint64_t before = pages_used();
	long far = 1L << 40;
	CHECK_EQ(sys_pwrite64(fd, ustr("END"), 3, far), 3);
	CHECK(pages_used() - before <= 6);                   /* the data page and a few nodes */
	uintptr_t z = ubuf(16);
	memset((void *)z, 1, 16);
	CHECK_EQ(sys_pread64(fd, z, 16, far - 8), 11);
	CHECK(((char *)z)[0] == 0 && ((char *)z)[7] == 0 && memcmp((char *)z + 8, "END", 3) == 0);
	CHECK_EQ(sys_pwrite64(fd, ustr("x"), 1, 1L << 50), -EFBIG);
	/* truncate down in the middle of a page, then up again: the tail reads as zeros */
	CHECK_EQ(sys_ftruncate(fd, 5000), 0);
	CHECK_EQ(sys_lseek(fd, 0, SEEK_END), 5000);
	CHECK_EQ(sys_ftruncate(fd, 9000), 0);
	memset((void *)b, 1, 9000);
	CHECK_EQ(sys_pread64(fd, b, 9000, 0), 9000);
	CHECK(*(uint64_t *)(b + 4992) == 4992);
	ok = true;
	for (int i = 5000; i < 9000; i++)
		ok = ok && ((char *)b)[i] == 0;
	CHECK(ok);
	CHECK_EQ(sys_ftruncate(fd, -1), -EINVAL);
	CHECK_EQ(sys_truncate(ustr("/tmp/big"), 0), 0);
	CHECK_EQ(sys_lseek(fd, 0, SEEK_END), 0);
	int ro = op("/tmp/big", O_RDONLY, 0);
	CHECK_EQ(sys_ftruncate(ro, 0), -EINVAL);
	sys_close(ro);
	sys_close(fd);
	CHECK_EQ(unl("/tmp/big", 0), 0);
	end();
}

TEST(rename_cases)
{
	begin();
	CHECK_EQ(mkd("/tmp/n"), 0);
	CHECK_EQ(mkd("/tmp/n/d1"), 0);
	CHECK_EQ(mkd("/tmp/n/d2"), 0);
	int f = op("/tmp/n/a", O_CREAT | O_RDWR, 0600);
	wr(f, "A");
	sys_close(f);
	f = op("/tmp/n/b", O_CREAT | O_RDWR, 0600);
	wr(f, "B");
	sys_close(f);
	f = op("/tmp/n/d2/inner", O_CREAT | O_RDWR, 0600);
	sys_close(f);
	char buf[8];
	CHECK_EQ(ren("/tmp/n/a", "/tmp/n/b", RENAME_NOREPLACE), -EEXIST);
	CHECK_EQ(ren("/tmp/n/a", "/tmp/n/b", RENAME_EXCHANGE), 0);
	f = op("/tmp/n/a", O_RDONLY, 0);
	CHECK_EQ(rd(f, buf, 4), 1);
	CHECK(buf[0] == 'B');
	sys_close(f);
	CHECK_EQ(ren("/tmp/n/a", "/tmp/n/b", 0), 0);         /* replaces b */
	CHECK(!exists("/tmp/n/a"));
	f = op("/tmp/n/b", O_RDONLY, 0);
	CHECK_EQ(rd(f, buf, 4), 1);
	CHECK(buf[0] == 'B');
	sys_close(f);
	CHECK_EQ(ren("/tmp/n/b", "/tmp/n/b", 0), 0);
	CHECK_EQ(ren("/tmp/n/missing", "/tmp/n/x", 0), -ENOENT);
	CHECK_EQ(ren("/tmp/n/b", "/tmp/n/d1", 0), -EISDIR);
	CHECK_EQ(ren("/tmp/n/d1", "/tmp/n/b", 0), -ENOTDIR);
	CHECK_EQ(ren("/tmp/n/d1", "/tmp/n/d2", 0), -ENOTEMPTY);
	CHECK_EQ(ren("/tmp/n/d1", "/tmp/n/d1/sub", 0), -EINVAL);
	CHECK_EQ(ren("/tmp/n/b", "/tmp/n/b/", 0), -ENOTDIR);
	CHECK_EQ(ren("/tmp/n/.", "/tmp/n/x", 0), -EBUSY);
	CHECK_EQ(ren("/tmp/n/b", "/tmp/n/x", 8), -EINVAL);
	struct linux_stat st;
	CHECK_EQ(stp("/tmp/n", &st, 0), 0);
	CHECK_EQ(st.st_nlink, 4);                            /* ., its entry, d1/.., d2/.. */
	CHECK_EQ(ren("/tmp/n/d1", "/tmp/n/d2/d1", 0), 0);    /* a directory moves: nlinks follow */
	CHECK_EQ(stp("/tmp/n", &st, 0), 0);
	CHECK_EQ(st.st_nlink, 3);
	CHECK_EQ(stp("/tmp/n/d2", &st, 0), 0);
	CHECK_EQ(st.st_nlink, 3);
	CHECK_EQ(sys_chdir(ustr("/tmp/n/d2/d1")), 0);
	uintptr_t cwd = ubuf(64);
	CHECK_EQ(sys_getcwd(cwd, 64), 13);
	CHECK(strcmp((char *)cwd, "/tmp/n/d2/d1") == 0);
	CHECK_EQ(sys_chdir(ustr("/")), 0);
	CHECK_EQ(mkd("/tmp/n/e"), 0);
	CHECK_EQ(ren("/tmp/n/e", "/tmp/n/d2/d1", 0), 0);     /* over an empty directory */
	CHECK_EQ(unl("/tmp/n/d2/d1", AT_REMOVEDIR), 0);
	CHECK_EQ(unl("/tmp/n/d2/inner", 0), 0);
	CHECK_EQ(unl("/tmp/n/d2", AT_REMOVEDIR), 0);
	CHECK_EQ(unl("/tmp/n/b", 0), 0);
	CHECK_EQ(unl("/tmp/n", AT_REMOVEDIR), 0);
	end();
}

/* Reads a whole directory with a buffer of bufsize; returns the names joined by ','. */
static int list_dir(const char *path, size_t bufsize, char *out, size_t outsize)
{
	int d = op(path, O_RDONLY | O_DIRECTORY, 0), n = 0;
	uintptr_t b = ubuf(bufsize);
	out[0] = '\0';
	for (;;) {
		long r = sys_getdents64(d, b, bufsize);
		if (r <= 0) {
			if (r < 0)
				n = r;
			break;
		}
		for (long off = 0; off < r;) {
			struct linux_dirent64 *de = (void *)(b + off);
			CHECK_EQ(de->d_reclen % 8, 0);
			strncat(out, de->d_name, outsize - strlen(out) - 2);
			strcat(out, ",");
			off += de->d_reclen;
			n++;
		}
	}
	sys_close(d);
	return n;
}

TEST(getdents)
{
	begin();
	CHECK_EQ(mkd("/tmp/g"), 0);
	char name[32], out[2048];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "/tmp/g/file%02d", i);
		sys_close(op(name, O_CREAT | O_RDWR, 0600));
	}
	CHECK_EQ(list_dir("/tmp/g", 4096, out, sizeof(out)), 42);
	CHECK(strncmp(out, ".,..,file00,file01,", 19) == 0);
	CHECK_EQ(list_dir("/tmp/g", 32, out, sizeof(out)), 42);     /* one record per call */
	CHECK_EQ(list_dir("/tmp/g", 16, out, sizeof(out)), -EINVAL);
	/* removing entries already read does not skip the rest */
	int d = op("/tmp/g", O_RDONLY | O_DIRECTORY, 0);
	uintptr_t b = ubuf(128);
	long r = sys_getdents64(d, b, 128);
	CHECK(r > 0);
	struct linux_dirent64 *de = (void *)b;
	int seen = 0;
	while ((uintptr_t)de < b + r) {
		seen++;
		de = (void *)((char *)de + de->d_reclen);
	}
	CHECK_EQ(unl("/tmp/g/file00", 0), 0);
	CHECK_EQ(unl("/tmp/g/file01", 0), 0);
	int rest = 0;
	while ((r = sys_getdents64(d, b, 128)) > 0)
		for (long off = 0; off < r; off += ((struct linux_dirent64 *)(b + off))->d_reclen)
			rest++;
	CHECK_EQ(seen, 4);                                   /* ., .., file00, file01 */
	CHECK_EQ(rest, 38);
	CHECK_EQ(sys_lseek(d, 0, SEEK_SET), 0);             /* rewinddir */
	r = sys_getdents64(d, b, 128);
	CHECK(r > 0 && strcmp(((struct linux_dirent64 *)b)->d_name, ".") == 0);
	CHECK_EQ(sys_getdents64(d, BAD, 128), -EFAULT);
	sys_close(d);
	int f = op("/tmp/g/file05", O_RDONLY, 0);
	CHECK_EQ(sys_getdents64(f, b, 128), -ENOTDIR);
	sys_close(f);
	CHECK_EQ(list_dir("/dev", 4096, out, sizeof(out)), 10);  /* . .. null zero console tty full random urandom rtc0 */
	for (int i = 2; i < 40; i++) {
		snprintf(name, sizeof(name), "/tmp/g/file%02d", i);
		CHECK_EQ(unl(name, 0), 0);
	}
	CHECK_EQ(unl("/tmp/g", AT_REMOVEDIR), 0);
	end();
}

TEST(fd_table)
{
	begin();
	int a = op("/dev/null", O_RDWR, 0);
	CHECK_EQ(a, 0);
	CHECK_EQ(sys_dup(a), 1);
	CHECK_EQ(sys_dup3(a, 1, 0), 1);                      /* replaces an open fd */
	CHECK_EQ(sys_dup3(a, a, 0), -EINVAL);
	CHECK_EQ(sys_dup3(a, 5, 0x1), -EINVAL);
	CHECK_EQ(sys_dup3(a, TEST_NOFILE, 0), -EBADF);
	CHECK_EQ(sys_dup3(77, 5, 0), -EBADF);
	CHECK_EQ(sys_dup3(a, 700, O_CLOEXEC), 700);          /* grows the table */
	CHECK_EQ(sys_fcntl(700, F_GETFD, 0), FD_CLOEXEC);
	CHECK_EQ(sys_fcntl(a, F_GETFD, 0), 0);
	CHECK_EQ(sys_fcntl(a, F_SETFD, FD_CLOEXEC), 0);
	CHECK_EQ(sys_fcntl(a, F_GETFD, 0), FD_CLOEXEC);
	CHECK_EQ(sys_fcntl(a, F_DUPFD, 10), 10);
	CHECK_EQ(sys_fcntl(a, F_DUPFD_CLOEXEC, 10), 11);
	CHECK_EQ(sys_fcntl(11, F_GETFD, 0), FD_CLOEXEC);
	CHECK_EQ(sys_fcntl(a, F_DUPFD, TEST_NOFILE), -EINVAL);
	CHECK_EQ(sys_fcntl(a, 9999, 0), -EINVAL);
	CHECK_EQ(sys_fcntl(55, F_GETFD, 0), -EBADF);
	CHECK_EQ(sys_fcntl(a, F_GETFL, 0) & O_ACCMODE, O_RDWR);
	CHECK_EQ(sys_fcntl(a, F_SETFL, O_NONBLOCK | O_APPEND | O_RDONLY), 0);
	CHECK_EQ(sys_fcntl(1, F_GETFL, 0) & (O_ACCMODE | O_NONBLOCK | O_APPEND), O_RDWR | O_NONBLOCK | O_APPEND);
	/* exec closes the close-on-exec ones */
	files_close_on_exec(me.files);
	CHECK_EQ(sys_fcntl(a, F_GETFD, 0), -EBADF);
	CHECK_EQ(sys_fcntl(700, F_GETFD, 0), -EBADF);
	CHECK_EQ(sys_fcntl(11, F_GETFD, 0), -EBADF);
	CHECK_EQ(sys_fcntl(10, F_GETFD, 0), 0);
	/* fork copies the table; the copies share the open file (and its offset) */
	struct files *child = files_dup(me.files);
	struct files *mine = me.files;
	me.files = child;
	CHECK_EQ(sys_close(10), 0);
	me.files = mine;
	CHECK_EQ(sys_fcntl(10, F_GETFD, 0), 0);              /* still open in the parent */
	files_put(child);
	/* fill the table: EMFILE at TEST_NOFILE */
	int last = -1, n;
	while ((n = sys_dup(1)) >= 0)
		last = n;
	CHECK_EQ(n, -EMFILE);
	CHECK_EQ(last, TEST_NOFILE - 1);
	CHECK_EQ(op("/dev/null", O_RDONLY, 0), -EMFILE);
	end();
}

TEST(pipes)
{
	begin();
	uintptr_t fds = ubuf(8);
	CHECK_EQ(sys_pipe2(fds, 0x4), -EINVAL);
	CHECK_EQ(sys_pipe2(BAD, 0), -EFAULT);
	CHECK_EQ(sys_pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	int r = ((int *)fds)[0], w = ((int *)fds)[1];
	CHECK_EQ(sys_fcntl(r, F_GETFD, 0), FD_CLOEXEC);
	CHECK_EQ(sys_fcntl(r, F_GETFL, 0), O_RDONLY | O_NONBLOCK);
	CHECK_EQ(sys_fcntl(w, F_GETFL, 0), O_WRONLY | O_NONBLOCK);
	char buf[64];
	CHECK_EQ(rd(r, buf, 10), -EAGAIN);
	CHECK_EQ(wr(w, "ping"), 4);
	CHECK_EQ(wr(w, "pong"), 4);
	uintptr_t cnt = ubuf(4);
	CHECK_EQ(sys_ioctl(r, FIONREAD, cnt), 0);
	CHECK_EQ(*(int *)cnt, 8);
	CHECK_EQ(rd(r, buf, 5), 5);
	CHECK(strcmp(buf, "pingp") == 0);
	CHECK_EQ(rd(r, buf, 64), 3);
	CHECK_EQ(rd(w, buf, 1), -EBADF);
	CHECK_EQ(wr(r, "x"), -EBADF);
	CHECK_EQ(sys_lseek(r, 0, SEEK_SET), -ESPIPE);
	CHECK_EQ(sys_pread64(r, ubuf(4), 4, 0), -ESPIPE);
	CHECK_EQ(sys_pwrite64(w, ustr("x"), 1, 0), -ESPIPE);
	struct linux_stat st;
	uintptr_t sb = ubuf(sizeof(st));
	CHECK_EQ(sys_fstat(r, sb), 0);
	memcpy(&st, (void *)sb, sizeof(st));
	CHECK(S_ISFIFO(st.st_mode));
	/* fill it: 64 KiB fit, then EAGAIN; an atomic write never goes in part */
	uintptr_t big = ubuf(128 * 1024);
	for (int i = 0; i < 128 * 1024; i++)
		((unsigned char *)big)[i] = i * 7;
	CHECK_EQ(sys_write(w, big, 65536 - 100), 65536 - 100);
	CHECK_EQ(sys_write(w, big, 200), -EAGAIN);           /* <= PIPE_BUF: all or nothing */
	CHECK_EQ(sys_write(w, big + 65436, 8192), 100);      /* larger: what fits */
	CHECK_EQ(sys_write(w, big, 1), -EAGAIN);
	uintptr_t back = ubuf(128 * 1024);
	CHECK_EQ(sys_read(r, back, 128 * 1024), 65536);
	CHECK(memcmp((void *)back, (void *)big, 65536) == 0);
	/* readv/writev */
	uintptr_t iov = ubuf(3 * sizeof(struct linux_iovec));
	struct linux_iovec *v = (void *)iov;
	v[0] = (struct linux_iovec){ ustr("abc"), 3 };
	v[1] = (struct linux_iovec){ 0, 0 };
	v[2] = (struct linux_iovec){ ustr("defg"), 4 };
	CHECK_EQ(sys_writev(w, iov, 3), 7);
	CHECK_EQ(rd(r, buf, 64), 7);
	CHECK(strcmp(buf, "abcdefg") == 0);
	CHECK_EQ(sys_writev(w, iov, -1), -EINVAL);
	CHECK_EQ(sys_writev(w, iov, IOV_MAX + 1), -EINVAL);
	CHECK_EQ(sys_writev(w, BAD, 2), -EFAULT);
	v[1] = (struct linux_iovec){ USER_TOP + PAGE_SIZE, 5 };   /* refused before any I/O */
	CHECK_EQ(sys_writev(w, iov, 3), -EFAULT);
	v[1] = (struct linux_iovec){ 0, (uint64_t)-1 };
	CHECK_EQ(sys_writev(w, iov, 3), -EINVAL);
	CHECK_EQ(sys_writev(w, iov, 0), 0);
	CHECK_EQ(wr(w, "kept"), 4);
	CHECK_EQ(sys_read(r, BAD, 4), -EFAULT);              /* the data stays in the pipe */
	CHECK_EQ(rd(r, buf, 64), 4);
	CHECK_EQ(sys_write(w, BAD, 4), -EFAULT);
	/* blocking mode back on; poll bits */
	CHECK_EQ(sys_fcntl(r, F_SETFL, 0), 0);
	CHECK_EQ(sys_fcntl(r, F_GETFL, 0), O_RDONLY);
	struct file *rf = fd_get(r), *wf = fd_get(w);
	CHECK_EQ(rf->ops->poll(rf), 0);
	CHECK_EQ(wf->ops->poll(wf) & EPOLLOUT, EPOLLOUT);
	wr(w, "z");
	CHECK_EQ(rf->ops->poll(rf) & EPOLLIN, EPOLLIN);
	/* EOF when the writers are gone, EPIPE + SIGPIPE when the readers are */
	CHECK_EQ(sys_close(w), 0);
	file_put(wf);                                        /* the last reference to the write end */
	CHECK_EQ(rf->ops->poll(rf) & EPOLLHUP, EPOLLHUP);
	CHECK_EQ(rd(r, buf, 64), 1);
	CHECK_EQ(rd(r, buf, 64), 0);
	file_put(rf);
	sys_close(r);

	CHECK_EQ(sys_pipe2(fds, 0), 0);
	r = ((int *)fds)[0];
	w = ((int *)fds)[1];
	CHECK_EQ(sys_close(r), 0);
	CHECK_EQ(wr(w, "lost"), -EPIPE);
	CHECK_EQ(raised_sig, SIGPIPE);
	sys_close(w);
	end();
}

TEST(devices_and_console)
{
	begin();
	int n = op("/dev/null", O_RDWR, 0), z = op("/dev/zero", O_RDONLY, 0);
	char buf[64];
	CHECK_EQ(wr(n, "discarded"), 9);
	CHECK_EQ(rd(n, buf, 10), 0);
	uintptr_t b = ubuf(100);
	memset((void *)b, 7, 100);
	CHECK_EQ(sys_read(z, b, 100), 100);
	CHECK(((char *)b)[0] == 0 && ((char *)b)[99] == 0);
	CHECK_EQ(sys_read(z, BAD, 100), -EFAULT);
	CHECK_EQ(sys_ioctl(n, TCGETS, ubuf(64)), -ENOTTY);
	struct linux_stat st;
	CHECK_EQ(stp("/dev/null", &st, 0), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(st.st_rdev, linux_dev(1, 3));
	sys_close(n);
	sys_close(z);

	int c = op("/dev/console", O_RDWR, 0);
	console_len = 0;
	CHECK_EQ(wr(c, "out\n"), 4);
	CHECK(strcmp(console_out, "out\n") == 0);
	uintptr_t t = ubuf(sizeof(struct linux_termios));
	CHECK_EQ(sys_ioctl(c, TCGETS, t), 0);
	struct linux_termios *tio = (void *)t;
	CHECK_EQ(tio->c_lflag & (TIO_ICANON | TIO_ECHO), TIO_ICANON | TIO_ECHO);
	CHECK_EQ(tio->c_iflag & TIO_ICRNL, TIO_ICRNL);
	CHECK_EQ(tio->c_cc[VERASE], 0x7f);
	CHECK_EQ(sizeof(struct linux_termios), 36);
	uintptr_t ws = ubuf(sizeof(struct linux_winsize));
	CHECK_EQ(sys_ioctl(c, TIOCGWINSZ, ws), 0);
	CHECK_EQ(((struct linux_winsize *)ws)->ws_row, 24);
	CHECK_EQ(((struct linux_winsize *)ws)->ws_col, 80);
	CHECK_EQ(sys_ioctl(c, TIOCSWINSZ, ws), 0);
	CHECK_EQ(sys_ioctl(c, TCSETS, t), 0);
	CHECK_EQ(sys_ioctl(c, TCGETS, BAD), -EFAULT);
	CHECK_EQ(sys_ioctl(c, 0x5499, 0), -ENOTTY);
	CHECK_EQ(sys_lseek(c, 0, SEEK_SET), -ESPIPE);
	/* canonical input: editing, a line per read, leftovers kept, ^D */
	console_len = 0;
	console_in = "helo\x7f\x7fllo\rsecond line\nab\x15xy\x04";
	CHECK_EQ(rd(c, buf, 64), 6);
	CHECK(strcmp(buf, "hello\n") == 0);
	CHECK_EQ(rd(c, buf, 3), 3);
	CHECK(strcmp(buf, "sec") == 0);
	CHECK_EQ(rd(c, buf, 64), 9);
	CHECK(strcmp(buf, "ond line\n") == 0);
	CHECK_EQ(rd(c, buf, 64), 2);                         /* ^U killed "ab"; ^D ends "xy" */
	CHECK(strcmp(buf, "xy") == 0);
	CHECK_EQ(rd(c, buf, 64), 0);                         /* ^D on an empty line: EOF */
	CHECK(strcmp(console_out, "helo\b \b\b \bllo\nsecond line\nab\b \b\b \bxy") == 0);
	/* raw mode */
	tio->c_lflag &= ~(TIO_ICANON | TIO_ECHO);
	CHECK_EQ(sys_ioctl(c, TCSETS, t), 0);
	console_in = "qr";
	console_len = 0;
	CHECK_EQ(rd(c, buf, 64), 1);
	CHECK(buf[0] == 'q');
	CHECK_EQ(console_len, 0);                            /* no echo */
	tio->c_lflag |= TIO_ICANON | TIO_ECHO;
	CHECK_EQ(sys_ioctl(c, TCSETS, t), 0);
	console_in = NULL;
	sys_close(c);
	end();
}

TEST(stat_and_statx)
{
	begin();
	int f = op("/tmp/s", O_CREAT | O_RDWR, 0640);
	wr(f, "12345");
	struct linux_stat st;
	CHECK_EQ(stp("/tmp/s", &st, 0), 0);
	CHECK_EQ(st.st_size, 5);
	CHECK_EQ(st.st_mode, S_IFREG | 0640);
	CHECK_EQ(st.st_blksize, 4096);
	CHECK_EQ(st.st_blocks, 8);
	CHECK(st.st_mtime_sec >= 1);
	CHECK_EQ(sizeof(struct linux_stat), 128);
	CHECK_EQ(sizeof(struct linux_statx), 256);
	CHECK_EQ(offsetof(struct linux_stat, st_size), 48);
	CHECK_EQ(offsetof(struct linux_stat, st_atime_sec), 72);
	uintptr_t x = ubuf(sizeof(struct linux_statx));
	CHECK_EQ(sys_statx(AT_FDCWD, ustr("/tmp/s"), 0, STATX_BASIC_STATS, x), 0);
	struct linux_statx *sx = (void *)x;
	CHECK_EQ(sx->stx_size, 5);
	CHECK_EQ(sx->stx_mode, S_IFREG | 0640);
	CHECK_EQ(sx->stx_ino, st.st_ino);
	CHECK_EQ(sx->stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
	CHECK_EQ(sys_statx(f, ustr(""), AT_EMPTY_PATH, STATX_SIZE, x), 0);
	CHECK_EQ(sys_statx(AT_FDCWD, ustr("/tmp/s"), 0, STATX__RESERVED, x), -EINVAL);
	CHECK_EQ(sys_statx(AT_FDCWD, ustr("/tmp/s"), 0x6000, STATX_SIZE, x), -EINVAL);
	CHECK_EQ(sys_statx(AT_FDCWD, ustr("/tmp/s"), 0, STATX_SIZE, BAD), -EFAULT);
	CHECK_EQ(sys_fstat(f, BAD), -EFAULT);
	CHECK_EQ(sys_fstat(99, ubuf(128)), -EBADF);
	CHECK_EQ(sys_fchmodat(AT_FDCWD, ustr("/tmp/s"), 0755), 0);
	CHECK_EQ(stp("/tmp/s", &st, 0), 0);
	CHECK_EQ(st.st_mode, S_IFREG | 0755);
	CHECK_EQ(sys_umask(077), 022);
	int g = op("/tmp/s2", O_CREAT | O_RDWR, 0666);
	CHECK_EQ(stp("/tmp/s2", &st, 0), 0);
	CHECK_EQ(st.st_mode, S_IFREG | 0600);
	sys_close(g);
	/* hard links */
	CHECK_EQ(sys_linkat(AT_FDCWD, ustr("/tmp/s"), AT_FDCWD, ustr("/tmp/s3"), 0), 0);
	CHECK_EQ(stp("/tmp/s3", &st, 0), 0);
	CHECK_EQ(st.st_nlink, 2);
	CHECK_EQ(sys_linkat(AT_FDCWD, ustr("/tmp"), AT_FDCWD, ustr("/tmp/dirlink"), 0), -EPERM);
	CHECK_EQ(unl("/tmp/s3", 0), 0);
	sys_close(f);
	CHECK_EQ(unl("/tmp/s", 0), 0);
	CHECK_EQ(unl("/tmp/s2", 0), 0);
	end();
}

TEST(o_path_and_tmpfile)
{
	begin();
	int d = op("/tmp", O_PATH, 0);
	CHECK(d >= 0);
	CHECK_EQ(rd(d, (char[8]){ 0 }, 4), -EBADF);
	CHECK_EQ(sys_fstat(d, ubuf(128)), 0);
	int f = sys_openat(d, ustr("made-via-opath"), O_CREAT | O_RDWR, 0600);
	CHECK(f >= 0);
	sys_close(f);
	CHECK_EQ(sys_unlinkat(d, ustr("made-via-opath"), 0), 0);
	sys_close(d);
	int t = op("/tmp", O_TMPFILE | O_RDWR, 0600);
	CHECK(t >= 0);
	CHECK_EQ(wr(t, "anonymous"), 9);
	sys_close(t);
	end();
}

/* Builds a newc archive in "user" memory (only the kernel reads it: plain pointers). */
static size_t cpio_add(char *buf, size_t at, const char *name, unsigned mode, unsigned ino, unsigned nlink,
		       const char *data)
{
	size_t dlen = strlen(data);
	at += sprintf(buf + at, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		      ino, mode, 0, 0, nlink, 7, (unsigned)dlen, 0, 0, 0, 0, (unsigned)strlen(name) + 1, 0);
	at += sprintf(buf + at, "%s", name) + 1;
	while (at % 4)
		buf[at++] = 0;
	memcpy(buf + at, data, dlen);
	at += dlen;
	while (at % 4)
		buf[at++] = 0;
	return at;
}

TEST(initramfs)
{
	begin();
	static char ar[8192];
	size_t n = 0;
	n = cpio_add(ar, n, ".", S_IFDIR | 0755, 1, 2, "");
	n = cpio_add(ar, n, "./it", S_IFDIR | 0700, 2, 2, "");
	n = cpio_add(ar, n, "it/deep/er/file", S_IFREG | 0755, 3, 1, "contents");
	n = cpio_add(ar, n, "it/link", S_IFLNK | 0777, 4, 1, "deep/er/file");
	n = cpio_add(ar, n, "it/h1", S_IFREG | 0644, 9, 2, "");
	n = cpio_add(ar, n, "it/h2", S_IFREG | 0644, 9, 2, "shared");
	n = cpio_add(ar, n, "dev/console", S_IFCHR | 0600, 5, 1, "");
	n = cpio_add(ar, n, "TRAILER!!!", 0, 0, 1, "");
	CHECK_EQ(initramfs_unpack(ar, n), 0);
	char buf[64];
	int f = op("/it/link", O_RDONLY, 0);
	CHECK_EQ(rd(f, buf, 64), 8);
	CHECK(strcmp(buf, "contents") == 0);
	sys_close(f);
	struct linux_stat st;
	CHECK_EQ(stp("/it", &st, 0), 0);
	CHECK_EQ(st.st_mode, S_IFDIR | 0700);
	CHECK_EQ(stp("/it/deep/er/file", &st, 0), 0);
	CHECK_EQ(st.st_mode, S_IFREG | 0755);
	CHECK_EQ(st.st_mtime_sec, 7);
	CHECK_EQ(stp("/it/h1", &st, 0), 0);
	CHECK_EQ(st.st_nlink, 2);
	CHECK_EQ(st.st_size, 6);
	CHECK(exists("/dev/console"));
	/* exec's view */
	int err;
	struct file *k = kernel_open("/it/deep/er/file", O_RDONLY, &err);
	CHECK(k != NULL);
	char kb[16] = { 0 };
	CHECK_EQ(kernel_read(k, kb, 4, 2), 4);
	CHECK(strcmp(kb, "nten") == 0);
	CHECK(file_is_regular(k));
	CHECK_EQ(file_size(k), 8);
	paddr_t pa;
	CHECK_EQ(file_get_page(k, 0, &pa), 0);
	CHECK(memcmp(pa_to_va(pa), "contents", 8) == 0);
	page_put(pa);
	CHECK_EQ(file_get_page(k, 1, &pa), -ENXIO);
	file_put(k);
	CHECK(kernel_open("/nope", O_RDONLY, &err) == NULL);
	CHECK_EQ(err, -ENOENT);
	k = kernel_open("/dev/null", O_RDONLY, &err);
	CHECK_EQ(kernel_read(k, kb, 4, 0), -EINVAL);
	CHECK_EQ(file_get_page(k, 0, &pa), -EACCES);
	file_put(k);
	/* a damaged archive: what came before the damage stays */
	n = 0;
	n = cpio_add(ar, n, "it/partial", S_IFREG | 0644, 11, 1, "x");
	memcpy(ar + n, "070701zz", 8);
	CHECK_EQ(initramfs_unpack(ar, n + 8), -EINVAL);
	CHECK(exists("/it/partial"));
	const char *rm[] = { "/it/partial", "/it/h1", "/it/h2", "/it/link", "/it/deep/er/file" };
	for (size_t i = 0; i < ARRAY_SIZE(rm); i++)
		CHECK_EQ(unl(rm[i], 0), 0);
	CHECK_EQ(unl("/it/deep/er", AT_REMOVEDIR), 0);
	CHECK_EQ(unl("/it/deep", AT_REMOVEDIR), 0);
	CHECK_EQ(unl("/it", AT_REMOVEDIR), 0);
	end();
}

static size_t show_hello(char *buf, size_t size) { return snprintf(buf, size, "hello from proc\n"); }

TEST(proc_files)
{
	begin();
	end();
	CHECK_EQ(proc_create("/proc/net/test", show_hello), 0);     /* stays: outside the accounting */
	CHECK_EQ(proc_create("/proc/net/test", show_hello), -EEXIST);
	begin();
	char buf[64];
	int f = op("/proc/net/test", O_RDONLY, 0);
	CHECK_EQ(rd(f, buf, 5), 5);
	CHECK_EQ(rd(f, buf, 64), 11);
	CHECK(strcmp(buf, " from proc\n") == 0);
	CHECK_EQ(sys_lseek(f, 0, SEEK_SET), 0);
	CHECK_EQ(rd(f, buf, 64), 16);
	sys_close(f);
	exe_path = NULL;
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr("/proc/self/exe"), ubuf(64), 64), -ENOENT);
	exe_path = "/bin/prog";
	end();
}

/* ---- mounts (fs/mount.c), block device nodes (fs/blkdev.c) ---- */

static long mnt_(const char *src, const char *target, const char *type, unsigned long flags)
{
	return sys_mount(src ? ustr(src) : 0, ustr(target), type ? ustr(type) : 0, flags, 0);
}

/* The whole of /proc/mounts. */
static void read_mounts(char *out, size_t n)
{
	int f = op("/proc/mounts", O_RDONLY, 0);
	CHECK(f >= 0);
	CHECK(rd(f, out, n - 1) > 0);
	sys_close(f);
}

TEST(mount_and_umount)
{
	begin();
	char buf[2048];
	struct linux_stat st, st2;
	CHECK_EQ(mkd("/tmp/m"), 0);
	int f = op("/tmp/m/lower", O_CREAT | O_WRONLY, 0644);
	CHECK_EQ(wr(f, "lower"), 5);
	sys_close(f);
	CHECK_EQ(stp("/tmp/m", &st, 0), 0);
	CHECK_EQ(mnt_("src", "/tmp/m", "tmpfs", 0), 0);
	CHECK_EQ(stp("/tmp/m", &st2, 0), 0);
	CHECK(st2.st_dev != st.st_dev);
	CHECK_EQ(st2.st_mode, S_IFDIR | 01777);
	struct linux_stat mroot = st2;
	CHECK(!exists("/tmp/m/lower"));
	/* data in the mount: pages that umount must give back (end() checks) */
	f = op("/tmp/m/big", O_CREAT | O_RDWR, 0644);
	CHECK_EQ(sys_pwrite64(f, ustr("x"), 1, 3 << 20), 1);
	CHECK_EQ(mkd("/tmp/m/d1"), 0);
	CHECK_EQ(mkd("/tmp/m/d1/d2"), 0);
	CHECK_EQ(sym("../..", "/tmp/m/d1/d2/up"), 0);
	CHECK_EQ(stp("/tmp/m/d1/d2/up", &st2, 0), 0);                     /* the mount's root */
	CHECK_EQ(st2.st_ino, mroot.st_ino);
	CHECK_EQ(st2.st_dev, mroot.st_dev);
	CHECK_EQ(stp("/tmp/m/d1/d2/up/../m/lower", &st2, 0), -ENOENT);    /* ".." crosses back up */
	CHECK_EQ(stp("/tmp/m/d1/d2/up/../m/big", &st2, 0), 0);
	CHECK_EQ(stp("/tmp/m/..", &st2, 0), 0);
	struct linux_stat tmp;
	CHECK_EQ(stp("/tmp", &tmp, 0), 0);
	CHECK_EQ(st2.st_ino, tmp.st_ino);
	read_mounts(buf, sizeof(buf));
	CHECK(strstr(buf, "rootfs / rootfs rw,relatime 0 0\n") == buf);
	CHECK(strstr(buf, "devtmpfs /dev devtmpfs rw,nosuid,relatime 0 0\n") != NULL);
	CHECK(strstr(buf, "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n") != NULL);
	CHECK(strstr(buf, "src /tmp/m tmpfs rw,relatime 0 0\n") != NULL);
	/* busy: an open file, a cwd, a child mount */
	CHECK_EQ(sys_umount2(ustr("/tmp/m"), 0), -EBUSY);
	sys_close(f);
	CHECK_EQ(sys_chdir(ustr("/tmp/m/d1")), 0);
	char *cwd = (char *)ubuf(64);
	CHECK_EQ(sys_getcwd((uintptr_t)cwd, 64), 10);
	CHECK(strcmp(cwd, "/tmp/m/d1") == 0);
	CHECK_EQ(sys_umount2(ustr("/tmp/m"), 0), -EBUSY);
	CHECK_EQ(sys_chdir(ustr("../..")), 0);
	CHECK_EQ(sys_getcwd((uintptr_t)cwd, 64), 5);
	CHECK(strcmp(cwd, "/tmp") == 0);
	CHECK_EQ(mnt_("inner", "/tmp/m/d1", "tmpfs", MS_NOEXEC | MS_NOSUID), 0);
	CHECK_EQ(sys_umount2(ustr("/tmp/m"), 0), -EBUSY);
	CHECK_EQ(sys_unlinkat(AT_FDCWD, ustr("/tmp/m/d1"), AT_REMOVEDIR), -EBUSY);
	CHECK_EQ(ren("/tmp/m/d1", "/tmp/m/d3", 0), -EBUSY);
	read_mounts(buf, sizeof(buf));
	CHECK(strstr(buf, "inner /tmp/m/d1 tmpfs rw,nosuid,noexec,relatime 0 0\n") != NULL);
	CHECK_EQ(ren("/tmp/m/big", "/tmp/m/d1/big", 0), -EXDEV);
	CHECK_EQ(sys_umount2(ustr("/tmp/m/d1"), 0), 0);
	CHECK_EQ(sys_umount2(ustr("/tmp/m"), 0x100), -EINVAL);
	CHECK_EQ(sys_umount2(ustr("/tmp/m"), 0), 0);
	CHECK(exists("/tmp/m/lower"));
	CHECK(!exists("/tmp/m/big"));
	CHECK_EQ(sys_umount2(ustr("/tmp/m"), 0), -EINVAL);            /* not a mount point now */
	CHECK_EQ(sys_umount2(ustr("/"), 0), -EBUSY);
	CHECK_EQ(mnt_("x", "/tmp/m", "nofs", 0), -ENODEV);
	CHECK_EQ(mnt_("x", "/tmp/m/lower", "tmpfs", 0), -ENOTDIR);
	CHECK_EQ(sys_mount(0, BAD, ustr("tmpfs"), 0, 0), -EFAULT);
	CHECK_EQ(unl("/tmp/m/lower", 0), 0);
	CHECK_EQ(unl("/tmp/m", AT_REMOVEDIR), 0);
	end();
}

TEST(mount_detach_remount_bind)
{
	begin();
	char buf[2048];
	CHECK_EQ(mkd("/tmp/a b"), 0);
	CHECK_EQ(mnt_("lazy", "/tmp/a b", "tmpfs", 0), 0);
	read_mounts(buf, sizeof(buf));
	CHECK(strstr(buf, "lazy /tmp/a\\040b tmpfs rw,relatime 0 0\n") != NULL);
	int f = op("/tmp/a b/kept", O_CREAT | O_RDWR, 0644);
	CHECK_EQ(wr(f, "still here"), 10);
	CHECK_EQ(mkd("/tmp/a b/sub"), 0);
	CHECK_EQ(mnt_("below", "/tmp/a b/sub", "tmpfs", 0), 0);
	CHECK_EQ(sys_umount2(ustr("/tmp/a b"), MNT_DETACH), 0);      /* the child goes with it */
	read_mounts(buf, sizeof(buf));
	CHECK(strstr(buf, "lazy") == NULL && strstr(buf, "below") == NULL);
	CHECK(!exists("/tmp/a b/kept"));
	char got[16];
	CHECK_EQ(sys_lseek(f, 0, SEEK_SET), 0);
	CHECK_EQ(rd(f, got, 15), 10);
	CHECK(strcmp(got, "still here") == 0);
	uintptr_t sfb = ubuf(sizeof(struct linux_statfs));
	CHECK_EQ(sys_fstatfs(f, sfb), 0);
	CHECK_EQ(((struct linux_statfs *)sfb)->f_type, TMPFS_MAGIC);
	CHECK_EQ(sys_openat(f, ustr("x"), O_RDONLY, 0), -ENOTDIR);
	sys_close(f);                                /* the last user: the tmpfs goes (end() checks) */

	/* remount read-only, then back */
	CHECK_EQ(mnt_("ro", "/tmp/a b", "tmpfs", 0), 0);
	f = op("/tmp/a b/file", O_CREAT | O_RDWR, 0644);
	sys_close(f);
	CHECK_EQ(mnt_(NULL, "/tmp/a b", NULL, MS_REMOUNT | MS_RDONLY | MS_NODEV), 0);
	CHECK_EQ(op("/tmp/a b/new", O_CREAT | O_RDWR, 0644), -EROFS);
	CHECK_EQ(op("/tmp/a b/file", O_RDWR, 0), -EROFS);
	CHECK_EQ(op("/tmp/a b/file", O_RDONLY | O_TRUNC, 0), -EROFS);
	CHECK_EQ(mkd("/tmp/a b/file"), -EEXIST);
	CHECK_EQ(mkd("/tmp/a b/dir"), -EROFS);
	CHECK_EQ(unl("/tmp/a b/file", 0), -EROFS);
	CHECK_EQ(unl("/tmp/a b/none", 0), -EROFS);
	CHECK_EQ(sym("x", "/tmp/a b/link"), -EROFS);
	CHECK_EQ(ren("/tmp/a b/file", "/tmp/a b/file2", 0), -EROFS);
	CHECK_EQ(sys_fchmodat(AT_FDCWD, ustr("/tmp/a b/file"), 0600), -EROFS);
	CHECK_EQ(sys_truncate(ustr("/tmp/a b/file"), 0), -EROFS);
	CHECK_EQ(sys_faccessat(AT_FDCWD, ustr("/tmp/a b/file"), W_OK), -EROFS);
	CHECK_EQ(sys_statfs(ustr("/tmp/a b"), sfb), 0);
	CHECK_EQ(((struct linux_statfs *)sfb)->f_flags, ST_VALID | ST_RDONLY | ST_NODEV | ST_RELATIME);
	read_mounts(buf, sizeof(buf));
	CHECK(strstr(buf, "ro /tmp/a\\040b tmpfs ro,nodev,relatime 0 0\n") != NULL);
	CHECK_EQ(mnt_(NULL, "/tmp/a b", NULL, MS_REMOUNT), 0);
	CHECK_EQ(mkd("/tmp/a b/dir"), 0);
	CHECK_EQ(mnt_(NULL, "/tmp/a b/dir", NULL, MS_REMOUNT), -EINVAL);   /* not a mount's root */

	/* a bind mount of a directory of it, read-only on its own */
	CHECK_EQ(mkd("/tmp/bind"), 0);
	CHECK_EQ(mnt_("/tmp/a b/dir", "/tmp/bind", NULL, MS_BIND), 0);
	f = op("/tmp/bind/through", O_CREAT | O_RDWR, 0644);
	CHECK(f >= 0);
	sys_close(f);
	CHECK(exists("/tmp/a b/dir/through"));
	struct linux_stat s1, s2;
	CHECK_EQ(stp("/tmp/bind/..", &s1, 0), 0);                      /* ".." of a bind's root: /tmp */
	CHECK_EQ(stp("/tmp", &s2, 0), 0);
	CHECK_EQ(s1.st_ino, s2.st_ino);
	CHECK_EQ(mnt_(NULL, "/tmp/bind", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY), 0);
	CHECK_EQ(op("/tmp/bind/through", O_WRONLY, 0), -EROFS);
	f = op("/tmp/a b/dir/through", O_WRONLY, 0);
	CHECK(f >= 0);
	sys_close(f);
	CHECK_EQ(mnt_(NULL, "/tmp/bind", NULL, MS_PRIVATE), 0);
	CHECK_EQ(sys_umount2(ustr("/tmp/a b"), 0), 0);               /* the bind keeps the tmpfs */
	CHECK(exists("/tmp/bind/through"));
	CHECK(!exists("/tmp/a b/dir"));
	CHECK_EQ(sys_umount2(ustr("/tmp/bind"), 0), 0);
	CHECK_EQ(unl("/tmp/bind", AT_REMOVEDIR), 0);
	CHECK_EQ(unl("/tmp/a b", AT_REMOVEDIR), 0);
	end();
}

TEST(sync_copy_and_fallocate)
{
	begin();
	int p[2];
	uintptr_t fds = ubuf(8);
	CHECK_EQ(sys_pipe2(fds, 0), 0);
	memcpy(p, (void *)fds, 8);
	int f = op("/tmp/src", O_CREAT | O_RDWR | O_SYNC, 0644);
	static char pattern[20000];
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)(i * 13 + 1);
	uintptr_t u = ubuf(sizeof(pattern));
	memcpy((void *)u, pattern, sizeof(pattern));
	CHECK_EQ(sys_write(f, u, sizeof(pattern)), sizeof(pattern));
	CHECK_EQ(sys_fsync(f), 0);
	CHECK_EQ(sys_fdatasync(f), 0);
	CHECK_EQ(sys_syncfs(f), 0);
	CHECK_EQ(sys_sync(), 0);
	CHECK_EQ(sys_fsync(p[0]), -EINVAL);
	CHECK_EQ(sys_fsync(99), -EBADF);
	int g = op("/tmp/dst", O_CREAT | O_RDWR, 0644);
	uintptr_t off = ubuf(8);
	*(int64_t *)off = 100;
	CHECK_EQ(sendfile_files(g, f, off, 5000), 5000);
	CHECK_EQ(*(int64_t *)off, 5100);
	CHECK_EQ(sendfile_files(p[1], f, off, 10), -EINVAL);          /* pipes: callers fall back */
	CHECK_EQ(sys_lseek(f, 0, SEEK_SET), 0);
	CHECK_EQ(sys_copy_file_range(f, 0, g, 0, 100000, 0), sizeof(pattern));
	CHECK_EQ(sys_lseek(g, 0, SEEK_CUR), 5000 + sizeof(pattern));
	uintptr_t back = ubuf(30000);
	CHECK_EQ(sys_pread64(g, back, 30000, 0), 25000);
	CHECK(memcmp((void *)back, pattern + 100, 5000) == 0);
	CHECK(memcmp((char *)back + 5000, pattern, sizeof(pattern)) == 0);
	*(int64_t *)off = 0;
	uintptr_t off2 = ubuf(8);
	*(int64_t *)off2 = 10;
	CHECK_EQ(sys_copy_file_range(f, off, f, off2, 100, 0), -EINVAL);  /* overlap */
	CHECK_EQ(sys_copy_file_range(f, off, g, off2, 100, 1), -EINVAL);
	CHECK_EQ(sys_copy_file_range(f, BAD, g, 0, 100, 0), -EFAULT);
	CHECK_EQ(sys_fallocate(g, 0, 0, 1 << 20), 0);
	struct linux_stat st;
	CHECK_EQ(stp("/tmp/dst", &st, 0), 0);
	CHECK_EQ(st.st_size, 1 << 20);
	CHECK_EQ(st.st_blocks, (1 << 20) / 512);
	CHECK_EQ(sys_fallocate(g, FALLOC_FL_KEEP_SIZE, 0, 2 << 20), 0);
	CHECK_EQ(stp("/tmp/dst", &st, 0), 0);
	CHECK_EQ(st.st_size, 1 << 20);
	CHECK_EQ(sys_fallocate(g, FALLOC_FL_PUNCH_HOLE, 0, 10), -EOPNOTSUPP);
	CHECK_EQ(sys_fallocate(p[1], 0, 0, 10), -ESPIPE);
	CHECK_EQ(sys_fallocate(g, 0, -1, 10), -EINVAL);
	uintptr_t sfb = ubuf(sizeof(struct linux_statfs));
	CHECK_EQ(sys_fstatfs(p[0], sfb), 0);
	CHECK_EQ(((struct linux_statfs *)sfb)->f_type, 0x50495045);
	CHECK_EQ(sys_statfs(ustr("/proc"), sfb), 0);
	CHECK_EQ(((struct linux_statfs *)sfb)->f_type, 0x9fa0);
	CHECK_EQ(((struct linux_statfs *)sfb)->f_blocks, 0);
	CHECK_EQ(((struct linux_statfs *)sfb)->f_namelen, 255);
	CHECK_EQ(sys_statfs(ustr("/tmp"), BAD), -EFAULT);
	sys_close(f);
	sys_close(g);
	sys_close(p[0]);
	sys_close(p[1]);
	CHECK_EQ(unl("/tmp/src", 0), 0);
	CHECK_EQ(unl("/tmp/dst", 0), 0);
	end();
}

/* A RAM block device for the node and the disk-fs mount path. */
#define RAM_BLOCKS 64
#define RAM_BS 512
static uint8_t ramdisk[RAM_BLOCKS * RAM_BS];
static int flushes;
static int ram_read(void *priv, uint64_t blk, uint32_t count, void *buf)
{
	(void)priv;
	if (blk + count > RAM_BLOCKS)
		return -EIO;
	memcpy(buf, ramdisk + blk * RAM_BS, count * RAM_BS);
	return 0;
}
static int ram_write(void *priv, uint64_t blk, uint32_t count, const void *buf)
{
	(void)priv;
	if (blk + count > RAM_BLOCKS)
		return -EIO;
	memcpy(ramdisk + blk * RAM_BS, buf, count * RAM_BS);
	return 0;
}
static int ram_flush(void *priv) { (void)priv; flushes++; return 0; }
static const struct blkdev_ops ram_ops = { .read_blocks = ram_read, .write_blocks = ram_write, .flush = ram_flush };

/* A disk file system type that records the device it was given and shows a tmpfs. */
static struct blkdev *mounted_bdev;
static int fake_mount(const struct fs_type *t, struct blkdev *bdev, unsigned long flags, const char *data,
		      struct super_block **out)
{
	(void)flags; (void)data;
	mounted_bdev = bdev;
	return (*out = tmpfs_sb_new(t, 0xEF53, 0755)) ? 0 : -ENOMEM;
}
static struct fs_type fake_disk_type = { .name = "fakedisk", .flags = FS_REQUIRES_DEV, .mount = fake_mount };

TEST(block_device_nodes)
{
	int err;
	struct blkdev_geom geom = { .block_size = RAM_BS, .block_count = RAM_BLOCKS, .major = 254, .minor = 0 };
	struct blkdev *bd = blkdev_register_node("ram0", &ram_ops, NULL, &geom, &err);   /* before begin: lives on */
	CHECK(bd != NULL);
	CHECK(blkdev_register_node("ram0", &ram_ops, NULL, &geom, &err) == NULL && err == -EEXIST);
	geom.block_size = 1000;
	CHECK(blkdev_register_node("ram1", &ram_ops, NULL, &geom, &err) == NULL && err == -EINVAL);
	CHECK_EQ(register_filesystem(&fake_disk_type), 0);
	begin();
	struct linux_stat st;
	CHECK_EQ(stp("/dev/ram0", &st, 0), 0);
	CHECK_EQ(st.st_mode & S_IFMT, S_IFBLK);
	CHECK_EQ(st.st_rdev, linux_dev(254, 0));
	int f = op("/dev/ram0", O_RDWR, 0);
	CHECK(f >= 0);
	char data[1000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 3 + 7);
	uintptr_t u = ubuf(sizeof(data));
	memcpy((void *)u, data, sizeof(data));
	memset(ramdisk, 0xAA, sizeof(ramdisk));
	CHECK_EQ(sys_pwrite64(f, u, sizeof(data), 700), 1000);          /* unaligned at both ends */
	CHECK(memcmp(ramdisk + 700, data, sizeof(data)) == 0);
	CHECK(ramdisk[699] == 0xAA && ramdisk[1700] == 0xAA);
	uintptr_t r = ubuf(2000);
	CHECK_EQ(sys_pread64(f, r, 1000, 700), 1000);
	CHECK(memcmp((void *)r, data, sizeof(data)) == 0);
	CHECK_EQ(sys_lseek(f, 0, SEEK_END), RAM_BLOCKS * RAM_BS);
	CHECK_EQ(sys_read(f, r, 10), 0);
	CHECK_EQ(sys_write(f, u, 10), -ENOSPC);
	CHECK_EQ(sys_pread64(f, r, 2000, RAM_BLOCKS * RAM_BS - 100), 100);
	CHECK_EQ(sys_pwrite64(f, BAD, 10, 0), -EFAULT);
	uintptr_t sz = ubuf(8);
	CHECK_EQ(sys_ioctl(f, 0x80081272UL, sz), 0);
	CHECK_EQ(*(uint64_t *)sz, RAM_BLOCKS * RAM_BS);
	flushes = 0;
	CHECK_EQ(sys_fsync(f), 0);
	CHECK_EQ(flushes, 1);
	sys_close(f);
	/* a disk file system mounts from the node */
	CHECK_EQ(mkd("/tmp/disk"), 0);
	CHECK_EQ(mnt_("/dev/ram0", "/tmp/disk", "fakedisk", MS_RDONLY), 0);
	CHECK(mounted_bdev == bd);
	uintptr_t sfb = ubuf(sizeof(struct linux_statfs));
	CHECK_EQ(sys_statfs(ustr("/tmp/disk"), sfb), 0);
	CHECK_EQ(((struct linux_statfs *)sfb)->f_type, 0xEF53);
	CHECK(((struct linux_statfs *)sfb)->f_flags & ST_RDONLY);
	CHECK_EQ(sys_umount2(ustr("/tmp/disk"), 0), 0);
	CHECK_EQ(mnt_("/tmp", "/tmp/disk", "fakedisk", 0), -ENOTBLK);
	CHECK_EQ(mnt_("/dev/none", "/tmp/disk", "fakedisk", 0), -ENOENT);
	CHECK_EQ(mnt_(NULL, "/tmp/disk", "fakedisk", 0), -EINVAL);
	CHECK_EQ(unl("/tmp/disk", AT_REMOVEDIR), 0);
	end();
}

UNIT_TESTS(CASE(open_read_write_seek), CASE(errors_of_open), CASE(paths_dots_and_symlinks),
	   CASE(rmdir_and_unlink_rules), CASE(unlinked_file_lives_while_open), CASE(big_and_sparse_files),
	   CASE(rename_cases), CASE(getdents), CASE(fd_table), CASE(pipes), CASE(devices_and_console),
	   CASE(stat_and_statx), CASE(o_path_and_tmpfile), CASE(initramfs), CASE(proc_files),
	   CASE(mount_and_umount), CASE(mount_detach_remount_bind), CASE(sync_copy_and_fallocate),
	   CASE(block_device_nodes))
