// unit-sources: fs/tmpfs.c fs/tmpfs_data.c mm/rmap.c fs/inode.c fs/super.c fs/mount.c fs/blkdev.c fs/sync.c fs/copy.c fs/namei.c fs/file.c lib/sleeplock.c fs/sys_file.c fs/memfd.c fs/memfd_seal.c fs/open_path.c fs/sys_path.c fs/pipe.c fs/dev.c fs/dev_mem.c fs/dev_rtc.c fs/sys_utime.c fs/procfs.c fs/fs_init.c fs/initramfs.c fs/cpio.c mm/page.c mm/kmalloc.c fs/ext4/ext4_vfs.c fs/pcache.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/htree.c fs/ext4/namei.c fs/ext4/orphan.c lib/crc32c.c
/*
 * ext4 under the VFS (fs/ext4/ext4_vfs.c), on the host: an image made by the host's mkfs.ext4 -d
 * sits behind a block device node (fs/blkdev.h) and is mounted with mount(2) like any file
 * system; reads, getdents, getcwd, symlinks, statfs, /proc/mounts, then writes of every kind
 * through the system calls; after umount the host's e2fsck must find the image clean and
 * debugfs must read back what was written. The same harness as test_fs.c (fs_harness.h): every
 * case gives back every page and kmalloc object (the ext4 library itself uses the C library's
 * malloc here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int open(const char *path, int flags, ...);          /* <fcntl.h> would clash with fs/abi.h */
void *memmem(const void *hay, size_t n, const void *needle, size_t m);   /* _GNU_SOURCE too */

#include "tests/unit/fs_harness.h"
#include "fs/vfs_disk.h"
#include "kernel/systime.h"

/* proc_pid.c and proc_sys.c need the process table: /proc holds just /proc/self/mounts here */
int proc_pid_init(void) { return proc_create("/proc/self/mounts", mounts_show); }

uint64_t realtime_offset_ns(void) { return 1700000000ULL * 1000000000ULL; }

/* ---- the image behind /dev/img0 ---- */

static char img_path[64], img_dir[48];
static int img_fd = -1;
#define IMG_BS 4096
#define IMG_BLOCKS 8192                          /* 32 MiB */

static int img_read(void *priv, uint64_t blk, uint32_t n, void *buf)
{
	(void)priv;
	return pread(img_fd, buf, (size_t)n * IMG_BS, (off_t)blk * IMG_BS) == (ssize_t)n * IMG_BS ? 0 : -EIO;
}
static int img_write(void *priv, uint64_t blk, uint32_t n, const void *buf)
{
	(void)priv;
	return pwrite(img_fd, buf, (size_t)n * IMG_BS, (off_t)blk * IMG_BS) == (ssize_t)n * IMG_BS ? 0 : -EIO;
}
static int img_flush(void *priv) { (void)priv; return fsync(img_fd) == 0 ? 0 : -EIO; }
static const struct blkdev_ops img_ops = { .read_blocks = img_read, .write_blocks = img_write, .flush = img_flush };

static int sh(const char *fmt, const char *arg)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg);
	return system(cmd);
}

static void make_image(void)
{
	strcpy(img_dir, "/tmp/ember-e4v-XXXXXX");
	if (!mkdtemp(img_dir))
		exit(2);
	snprintf(img_path, sizeof(img_path), "%s/img", img_dir);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tree/sub/deeper && printf 'hello ext4\\n' > %s/tree/hello && "
		 "ln -s sub/deeper %s/tree/link && head -c 70000 /dev/urandom > %s/tree/sub/blob && "
		 "mkfs.ext4 -q -F -b 4096 -d %s/tree %s 32M",
		 img_dir, img_dir, img_dir, img_dir, img_dir, img_path);
	if (system(cmd) != 0) {
		printf("mkfs.ext4 failed\n");
		exit(2);
	}
	img_fd = open(img_path, O_RDWR);
}

static long mnt_(const char *src, const char *target, const char *type, unsigned long flags)
{
	return sys_mount(src ? ustr(src) : 0, ustr(target), type ? ustr(type) : 0, flags, 0);
}

static bool listed(int dfd, const char *name)
{
	uintptr_t b = ubuf(4096);
	sys_lseek(dfd, 0, SEEK_SET);
	long n = sys_getdents64(dfd, b, 4096);
	for (long at = 0; at < n;) {
		struct linux_dirent64 *de = (struct linux_dirent64 *)(b + at);
		if (strcmp(de->d_name, name) == 0)
			return true;
		at += de->d_reclen;
	}
	return false;
}

TEST(ext4_read_through_the_vfs)
{
	int err;
	struct blkdev_geom geom = { .block_size = IMG_BS, .block_count = IMG_BLOCKS, .major = 254, .minor = 0 };
	make_image();
	begin();                                     /* boots the fs layer on the first call */
	end();
	CHECK(blkdev_register_node("img0", &img_ops, NULL, &geom, &err) != NULL);   /* lives on */
	CHECK(find_filesystem("ext4") != NULL);          /* fs_init registered it */
	begin();
	CHECK_EQ(mkd("/tmp/e"), 0);
	CHECK_EQ(mnt_("/dev/img0", "/tmp/e", "ext4", 0), 0);
	char buf[4096];
	int f = op("/tmp/e/hello", O_RDONLY, 0);
	CHECK_EQ(rd(f, buf, 100), 11);
	CHECK(strcmp(buf, "hello ext4\n") == 0);
	sys_close(f);
	struct linux_stat st;
	CHECK_EQ(stp("/tmp/e/sub/blob", &st, 0), 0);
	CHECK_EQ(st.st_size, 70000);
	CHECK_EQ(st.st_dev, linux_dev(254, 0));
	CHECK_EQ(stp("/tmp/e/link", &st, 0), 0);                    /* followed: a directory */
	CHECK((st.st_mode & S_IFMT) == S_IFDIR);
	uintptr_t lb = ubuf(64);
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr("/tmp/e/link"), lb, 64), 10);
	CHECK(memcmp((void *)lb, "sub/deeper", 10) == 0);
	int d = op("/tmp/e", O_RDONLY | O_DIRECTORY, 0);
	CHECK(listed(d, "hello") && listed(d, "sub") && listed(d, "lost+found") && listed(d, ".."));
	sys_close(d);
	CHECK_EQ(sys_chdir(ustr("/tmp/e/link")), 0);
	char *cwd = (char *)ubuf(64);
	CHECK_EQ(sys_getcwd((uintptr_t)cwd, 64), 18);
	CHECK(strcmp(cwd, "/tmp/e/sub/deeper") == 0);
	CHECK_EQ(sys_chdir(ustr("../../..")), 0);                   /* out through the mount root */
	CHECK_EQ(sys_getcwd((uintptr_t)cwd, 64), 5);
	CHECK(strcmp(cwd, "/tmp") == 0);
	uintptr_t sfb = ubuf(sizeof(struct linux_statfs));
	CHECK_EQ(sys_statfs(ustr("/tmp/e"), sfb), 0);
	struct linux_statfs *sf = (struct linux_statfs *)sfb;
	CHECK_EQ(sf->f_type, 0xEF53);
	CHECK_EQ(sf->f_bsize, IMG_BS);
	CHECK(sf->f_blocks > 0 && sf->f_bfree < sf->f_blocks && sf->f_bavail <= sf->f_bfree);
	f = op("/proc/mounts", O_RDONLY, 0);
	CHECK(rd(f, buf, sizeof(buf) - 1) > 0);
	sys_close(f);
	CHECK(strstr(buf, "/dev/img0 /tmp/e ext4 rw,relatime 0 0\n") != NULL);
	CHECK_EQ(sys_umount2(ustr("/tmp/e"), 0), 0);
	CHECK_EQ(unl("/tmp/e", AT_REMOVEDIR), 0);
	end();
}

/* The page index of mapped ext4 pages (fs/pcache.c): file_get_page hands every caller the same
 * page, read() sees stores into it, write() goes into it, pages past EOF are -ENXIO, truncation
 * drops them, and fsync (with a writable mapping counted in mmap_writers) puts the stores on the
 * disk, where debugfs reads them after the umount; every page comes back at the last close. */
TEST(ext4_mapped_pages)
{
	begin();
	CHECK_EQ(mkd("/tmp/e"), 0);
	CHECK_EQ(mnt_("/dev/img0", "/tmp/e", "ext4", 0), 0);
	static char pattern[10000];
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)('a' + i % 26);
	uintptr_t u = ubuf(sizeof(pattern));
	memcpy((void *)u, pattern, sizeof(pattern));
	int fd = op("/tmp/e/mapped", O_CREAT | O_RDWR, 0644);
	CHECK_EQ(sys_write(fd, u, sizeof(pattern)), sizeof(pattern));
	struct file *f = fd_get(fd);
	paddr_t p0, p0b, p1, p2, px;
	CHECK_EQ(file_get_page(f, 0, &p0), 0);
	CHECK(memcmp(pa_to_va(p0), pattern, 4096) == 0);
	CHECK_EQ(file_get_page(f, 0, &p0b), 0);
	CHECK_EQ(p0b, p0);                                        /* one page for every mapping */
	page_put(p0b);
	CHECK_EQ(file_get_page(f, 1, &p1), 0);
	CHECK_EQ(file_get_page(f, 2, &p2), 0);                    /* the last, partial page */
	CHECK(memcmp(pa_to_va(p2), pattern + 8192, 10000 - 8192) == 0);
	CHECK_EQ(((char *)pa_to_va(p2))[10000 - 8192], 0);        /* past EOF: zeros */
	CHECK_EQ(file_get_page(f, 3, &px), -ENXIO);
	CHECK_EQ(file_find_page(f, 1, &px), 0);
	CHECK_EQ(px, p1);
	page_put(px);
	/* a store through a writable shared mapping, then read() */
	__atomic_fetch_add(&f->inode->mmap_writers, 1, __ATOMIC_RELAXED);
	memcpy((char *)pa_to_va(p0) + 10, "STORED", 6);
	memcpy((char *)pa_to_va(p2) + 1808, "PAST", 4);           /* 8192 + 1808 = 10000: past EOF */
	uintptr_t back = ubuf(sizeof(pattern) + 16);
	CHECK_EQ(sys_pread64(fd, back, 16, 8), 16);
	CHECK(memcmp((char *)back + 2, "STORED", 6) == 0);
	CHECK_EQ(sys_pread64(fd, back, 100, 9990), 10);           /* the size did not move */
	/* write() into the mapped pages, across two of them */
	CHECK_EQ(sys_pwrite64(fd, ustr("abcdefghijkl"), 12, 4090), 12);
	CHECK(memcmp((char *)pa_to_va(p0) + 4090, "abcdef", 6) == 0 && memcmp(pa_to_va(p1), "ghijkl", 6) == 0);
	CHECK_EQ(sys_fsync(fd), 0);
	/* truncation: page 2 leaves the file (the holder keeps it), page 1's tail is zeroed */
	CHECK_EQ(sys_ftruncate(fd, 5000), 0);
	CHECK_EQ(file_find_page(f, 2, &px), -ENXIO);
	CHECK_EQ(((char *)pa_to_va(p1))[5000 - 4096], 0);
	CHECK_EQ(sys_ftruncate(fd, 6000), 0);
	CHECK_EQ(sys_pread64(fd, back, 1000, 5000), 1000);
	static const char zeros[1000];
	CHECK(memcmp((void *)back, zeros, 1000) == 0);
	memcpy((char *)pa_to_va(p1) + 100, "LAST", 4);            /* written back at the last close */
	page_put(p0);
	page_put(p1);
	page_put(p2);
	__atomic_fetch_sub(&f->inode->mmap_writers, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&f->inode->mmap_dirty, 1, __ATOMIC_RELAXED);     /* as munmap does */
	file_put(f);
	sys_close(fd);
	CHECK_EQ(sys_umount2(ustr("/tmp/e"), 0), 0);
	CHECK_EQ(unl("/tmp/e", AT_REMOVEDIR), 0);
	end();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat /mapped' %s 2>/dev/null > %s/mapped", img_path, img_dir);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/mapped", img_dir);
	FILE *fp = fopen(cmd, "rb");
	static char got[6001];
	CHECK(fp && fread(got, 1, sizeof(got), fp) == 6000);
	if (fp)
		fclose(fp);
	CHECK(memcmp(got + 10, "STORED", 6) == 0 && memcmp(got + 4090, "abcdefghijkl", 12) == 0);
	CHECK(memcmp(got + 4196, "LAST", 4) == 0 && memcmp(got + 5000, zeros, 1000) == 0);
	CHECK(memcmp(got, pattern, 10) == 0 && memcmp(got + 16, pattern + 16, 4090 - 16) == 0);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img_path), 0);
}

TEST(ext4_writes_checked_by_e2fsck)
{
	begin();
	CHECK_EQ(mkd("/tmp/e"), 0);
	CHECK_EQ(mnt_("/dev/img0", "/tmp/e", "ext4", 0), 0);
	static char pattern[100000];
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)(i * 31 + i / 4096);
	uintptr_t u = ubuf(sizeof(pattern));
	memcpy((void *)u, pattern, sizeof(pattern));
	int f = op("/tmp/e/new", O_CREAT | O_RDWR, 0640);
	CHECK(f >= 0);
	CHECK_EQ(sys_write(f, u, sizeof(pattern)), sizeof(pattern));
	uintptr_t back = ubuf(sizeof(pattern));
	CHECK_EQ(sys_pread64(f, back, sizeof(pattern), 0), sizeof(pattern));
	CHECK(memcmp((void *)back, pattern, sizeof(pattern)) == 0);
	CHECK_EQ(sys_fsync(f), 0);
	struct linux_stat st;
	CHECK_EQ(sys_fstat(f, ubuf(sizeof(st))), 0);
	sys_close(f);
	CHECK_EQ(stp("/tmp/e/new", &st, 0), 0);
	CHECK_EQ(st.st_size, sizeof(pattern));
	CHECK_EQ(st.st_mode, S_IFREG | 0640);
	CHECK_EQ(mkd("/tmp/e/d"), 0);
	CHECK_EQ(mkd("/tmp/e/d"), -EEXIST);
	CHECK_EQ(ren("/tmp/e/new", "/tmp/e/d/moved", 0), 0);
	CHECK_EQ(sys_linkat(AT_FDCWD, ustr("/tmp/e/d/moved"), AT_FDCWD, ustr("/tmp/e/hard"), 0), 0);
	CHECK_EQ(stp("/tmp/e/hard", &st, 0), 0);
	CHECK_EQ(st.st_nlink, 2);
	CHECK_EQ(sym("d/moved", "/tmp/e/sym"), 0);
	f = op("/tmp/e/sym", O_RDONLY, 0);
	CHECK_EQ(sys_read(f, back, 10), 10);
	CHECK(memcmp((void *)back, pattern, 10) == 0);
	sys_close(f);
	f = op("/tmp/e/hello", O_WRONLY | O_APPEND, 0);
	CHECK_EQ(wr(f, "more\n"), 5);
	sys_close(f);
	CHECK_EQ(sys_truncate(ustr("/tmp/e/sub/blob"), 5000), 0);
	CHECK_EQ(unl("/tmp/e/sub/deeper", AT_REMOVEDIR), 0);
	CHECK_EQ(unl("/tmp/e/sub", AT_REMOVEDIR), -ENOTEMPTY);
	CHECK_EQ(mkd("/tmp/e/x"), 0);
	CHECK_EQ(ren("/tmp/e/x", "/tmp/e/d", RENAME_NOREPLACE), -EEXIST);
	CHECK_EQ(ren("/tmp/e/x", "/tmp/e/d", RENAME_EXCHANGE), 0);
	CHECK(exists("/tmp/e/x/moved"));
	CHECK_EQ(mkd("/tmp/e/x/in"), 0);
	CHECK_EQ(ren("/tmp/e/x", "/tmp/e/x/in/x", 0), -EINVAL);      /* into itself */
	CHECK_EQ(unl("/tmp/e/x/in", AT_REMOVEDIR), 0);
	CHECK_EQ(sys_fchmodat(AT_FDCWD, ustr("/tmp/e/hello"), 0600), 0);
	/* unlinked and replaced while open: the data lives until the last close */
	f = op("/tmp/e/doomed", O_CREAT | O_RDWR, 0644);
	CHECK_EQ(wr(f, "still readable"), 14);
	CHECK_EQ(unl("/tmp/e/doomed", 0), 0);
	CHECK(!exists("/tmp/e/doomed"));
	char got2[32];
	CHECK_EQ(sys_pread64(f, ubuf(32), 32, 0), 14);
	CHECK_EQ(sys_lseek(f, 0, SEEK_SET), 0);
	CHECK_EQ(rd(f, got2, 31), 14);
	CHECK(strcmp(got2, "still readable") == 0);
	uintptr_t fst = ubuf(sizeof(struct linux_stat));
	CHECK_EQ(sys_fstat(f, fst), 0);
	CHECK_EQ(((struct linux_stat *)fst)->st_nlink, 0);
	int d = op("/tmp/e", O_RDONLY | O_DIRECTORY, 0);
	uintptr_t db = ubuf(8192);
	long dn = sys_getdents64(d, db, 8192);
	CHECK(dn > 0 && !memmem((void *)db, dn, "doomed", 6));
	sys_close(d);
	int g = op("/tmp/e/victim", O_CREAT | O_RDWR, 0644);
	CHECK_EQ(wr(g, "old data"), 8);
	int h = op("/tmp/e/newer", O_CREAT | O_RDWR, 0644);
	CHECK_EQ(wr(h, "new"), 3);
	sys_close(h);
	CHECK_EQ(ren("/tmp/e/newer", "/tmp/e/victim", 0), 0);
	CHECK_EQ(sys_pread64(g, (uintptr_t)ubuf(16), 16, 0), 8);
	sys_close(g);
	sys_close(f);
	f = op("/tmp/e/victim", O_RDONLY, 0);
	CHECK_EQ(rd(f, got2, 31), 3);
	sys_close(f);
	/* a removed cwd: ENOENT inside it, and the file system stays writable */
	CHECK_EQ(mkd("/tmp/e/cwd"), 0);
	CHECK_EQ(sys_chdir(ustr("/tmp/e/cwd")), 0);
	CHECK_EQ(unl("/tmp/e/cwd", AT_REMOVEDIR), 0);
	CHECK_EQ(op("x", O_CREAT | O_RDWR, 0644), -ENOENT);
	CHECK_EQ(sys_newfstatat(AT_FDCWD, ustr("y"), ubuf(256), 0), -ENOENT);
	CHECK_EQ(sys_chdir(ustr("/tmp")), 0);
	CHECK_EQ(mkd("/tmp/e/after"), 0);
	CHECK_EQ(sys_umount2(ustr("/tmp/e"), 0), 0);
	CHECK_EQ(sh("debugfs -R 'ls -l /' %s 2>/dev/null | grep -q doomed", img_path) != 0, 1);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img_path), 0);      /* orphans released */
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img_path), 0);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat /x/moved' %s 2>/dev/null > %s/moved", img_path, img_dir);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/moved", img_dir);
	FILE *fp = fopen(cmd, "rb");
	static char got[sizeof(pattern) + 1];
	CHECK(fp && fread(got, 1, sizeof(got), fp) == sizeof(pattern) && memcmp(got, pattern, sizeof(pattern)) == 0);
	if (fp)
		fclose(fp);
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat /hello' %s 2>/dev/null | grep -q '^more$'", img_path);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "debugfs -R 'stat /hello' %s 2>/dev/null | grep -q 'Mode:  0600'", img_path);
	CHECK_EQ(system(cmd), 0);
	/* read-only mounts refuse writes */
	CHECK_EQ(mnt_("/dev/img0", "/tmp/e", "ext4", MS_RDONLY), 0);
	CHECK_EQ(op("/tmp/e/other", O_CREAT | O_RDWR, 0644), -EROFS);
	CHECK_EQ(mnt_(NULL, "/tmp/e", NULL, MS_REMOUNT), 0);
	f = op("/tmp/e/other", O_CREAT | O_RDWR, 0644);
	CHECK(f >= 0);
	sys_close(f);
	CHECK_EQ(sys_umount2(ustr("/tmp/e"), 0), 0);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img_path), 0);
	CHECK_EQ(unl("/tmp/e", AT_REMOVEDIR), 0);
	end();
	close(img_fd);
	sh("rm -rf %s", img_dir);
}

UNIT_TESTS(CASE(ext4_read_through_the_vfs), CASE(ext4_mapped_pages), CASE(ext4_writes_checked_by_e2fsck))
