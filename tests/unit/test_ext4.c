// unit-sources: fs/ext4/orphan.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/htree.c fs/ext4/namei.c lib/crc32c.c
/*
 * fs/ext4 on the host against e2fsprogs (the oracle). Images are made by the host's mkfs.ext4 -d
 * from a generated tree (sizes around block boundaries, a sparse file, a fragmented file with an
 * extent tree, deep directories, a directory of thousands of entries that e2fsck -D indexes,
 * fast/slow symlinks, hard links, inline data); fs/ext4 must read every byte. Then fs/ext4
 * writes (thousands of files, renames, unlinks, deep trees, a big file, a file of 1500 extents,
 * truncates, times with nanoseconds), every change mirrored in a host "shadow" directory; e2fsck
 * -fn must find the image clean and debugfs rdump must give back the shadow exactly. Error cases:
 * ENOSPC (blocks and inodes), ENAMETOOLONG, EROFS, and targeted corruptions (EINVAL/EUCLEAN).
 * Both 1 KiB and 4 KiB blocks; the device block size (512 or 4096) differs from the fs block.
 */
#include "tests/unit/ext4_host.h"
#include "fs/ext4/ext4_fs.h"

/* Phase timings, to keep the whole test near its time budget. */
static void tick(const char *what)
{
	static struct timespec last;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec && getenv("EXT4_TIMES"))
		printf("  [%5.2fs] %s\n", (double)(now.tv_sec - last.tv_sec) + (now.tv_nsec - last.tv_nsec) / 1e9, what);
	last = now;
}

static void now_clock(struct ext4_time *t)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->nsec = (uint32_t)ts.tv_nsec;
}

static void pw(int fd, const void *b, size_t n, off_t off)
{
	if (pwrite(fd, b, n, off) != (ssize_t)n)
		abort();
}

/* The generated source tree. big_n entries in big/. */
static void gen_tree(const char *root, int big_n)
{
	char p[512], q[600];
	sh("rm -rf %s && mkdir -p %s/files %s/big %s/deep", root, root, root, root);
	static const size_t sizes[] = { 0, 1, 59, 60, 61, 100, 1023, 1024, 1025, 4095, 4096, 4097,
					12288, 65537, 300000, 1048589 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(p, sizeof(p), "%s/files/f%u", root, i);
		host_file(p, sizes[i], i + 1);
	}
	snprintf(p, sizeof(p), "%s/files/f3", root);
	chmod(p, 0600);
	snprintf(p, sizeof(p), "%s/files/f4", root);
	chmod(p, 0751);
	/* sparse: data at 0, 2 MiB and just before 6 MiB */
	uint8_t buf[8192];
	snprintf(p, sizeof(p), "%s/sparse", root);
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	fill_content(buf, 0, 5000, 77);
	pw(fd, buf, 5000, 0);
	pw(fd, buf, 100, 2 << 20);
	pw(fd, buf, 10, (6 << 20) - 10);
	close(fd);
	/* fragmented: 4 KiB of data every 8 KiB, 500 times: 500 extents */
	snprintf(p, sizeof(p), "%s/frag", root);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	for (int k = 0; k < 500; k++) {
		fill_content(buf, (uint64_t)k * 4096, 4096, 88);
		pw(fd, buf, 4096, (off_t)k * 8192);
	}
	close(fd);
	/* deep directories */
	snprintf(p, sizeof(p), "%s/deep", root);
	for (int k = 0; k < 25; k++) {
		size_t l = strlen(p);
		snprintf(p + l, sizeof(p) - l, "/d%d", k);
		mkdir(p, 0755);
	}
	snprintf(q, sizeof(q), "%s/leaf.txt", p);
	host_file(q, 3333, 99);
	/* a big directory */
	for (int k = 0; k < big_n; k++) {
		snprintf(p, sizeof(p), "%s/big/entry-%05d-with-a-longer-name", root, k);
		host_file(p, (size_t)(k % 7 == 0 ? k % 300 : 0), (unsigned)k);
	}
	/* symlinks: fast (< 60), boundary 59/60, slow, dangling */
	snprintf(p, sizeof(p), "%s/s_short", root);
	if (symlink("files/f3", p)) abort();
	char t[400];
	memset(t, 'a', sizeof(t));
	memcpy(t, "x/", 2);
	t[59] = 0;
	snprintf(p, sizeof(p), "%s/s_59", root);
	if (symlink(t, p)) abort();
	t[59] = 'b';
	t[60] = 0;
	snprintf(p, sizeof(p), "%s/s_60", root);
	if (symlink(t, p)) abort();
	t[60] = 'c';
	t[300] = 0;
	snprintf(p, sizeof(p), "%s/s_long", root);
	if (symlink(t, p)) abort();
	/* hard link */
	snprintf(p, sizeof(p), "%s/files/f5", root);
	snprintf(q, sizeof(q), "%s/hl5", root);
	if (link(p, q)) abort();
}

/* mkfs.ext4 -d, then e2fsck -fyD to index big directories. */
static int make_image(const char *img, const char *tree, unsigned bs, const char *size, const char *extra)
{
	if (sh("mkfs.ext4 -q -F -d %s -b %u -N 8192 %s %s %s >/dev/null 2>&1", tree, bs, extra, img, size))
		return -1;
	int r = sh("e2fsck -fyD %s >/dev/null 2>&1", img);
	if (r != 0 && r != 1)
		return -1;
	return sh("e2fsck -fn %s >/dev/null 2>&1", img);
}

static int extent_depth(struct ext4_fs *fs, uint32_t ino)
{
	struct ext4_iref *ir;
	if (ext4_iget(fs, ino, &ir))
		return -1;
	int d = ((struct ext4_extent_header *)ir->i.i_block)->eh_depth;
	ext4_iput(ir);
	return d;
}

static void read_check(unsigned bs, uint32_t dev_bs)
{
	setup_work("ext4");
	char tree[300], img[300];
	snprintf(tree, sizeof(tree), "%s/rtree", work);
	snprintf(img, sizeof(img), "%s/r%u.img", work, bs);
	static int made;
	if (!made) {
		tick("start");
		gen_tree(tree, 2500);
		made = 1;
		tick("gen_tree");
	}
	CHECK_EQ(make_image(img, tree, bs, "64M", ""), 0);
	tick("make_image");
	struct img im;
	CHECK_EQ(img_open(&im, img, dev_bs), 0);
	struct ext4_fs *fs;
	int r = ext4_mount(&im.bd, EXT4_MOUNT_RDONLY, &fs);
	CHECK_EQ(r, 0);
	if (r) {
		img_close(&im);
		return;
	}
	uint32_t ino, ino2;
	struct ext4_stat st;
	CHECK_EQ(ext4_lookup_path(fs, "/big", &ino), 0);
	CHECK_EQ(ext4_stat(fs, ino, &st), 0);
	CHECK(st.flags & EXT4_INDEX_FL);             /* the htree path is really exercised */
	CHECK_EQ(ext4_lookup_path(fs, "/frag", &ino), 0);
	CHECK(extent_depth(fs, ino) >= 1);
	CHECK_EQ(ext4_lookup_path(fs, "/files/f5", &ino), 0);
	CHECK_EQ(ext4_lookup_path(fs, "/hl5", &ino2), 0);
	CHECK_EQ(ino, ino2);
	CHECK_EQ(ext4_stat(fs, ino, &st), 0);
	CHECK_EQ(st.nlink, 2);
	CHECK_EQ(ext4_lookup_path(fs, "/nonexistent", &ino), -ENOENT);
	CHECK_EQ(ext4_lookup_path(fs, "/files/f1/x", &ino), -ENOTDIR);
	long files = 0;
	cmp_failures = 0;
	cmp_tree(fs, EXT4_ROOT_INO, tree, &files);
	CHECK_EQ(cmp_failures, 0);
	CHECK(files > 2500);
	tick("cmp_tree");
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "x", 1, 0644, 0, 0, &ino), -EROFS);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
}

TEST(read_1k) { read_check(1024, 512); }
TEST(read_4k) { read_check(4096, 4096); }

TEST(read_inline_data)
{
	setup_work("ext4");
	char tree[300], img[300], p[400];
	snprintf(tree, sizeof(tree), "%s/itree", work);
	snprintf(img, sizeof(img), "%s/inline.img", work);
	sh("rm -rf %s && mkdir -p %s/sub %s/bigdir %s/tiny && echo hi > %s/tiny/a", tree, tree, tree, tree, tree);
	static const size_t sizes[] = { 10, 59, 60, 100, 2000 };
	for (unsigned i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/sub/i%u", tree, i);
		host_file(p, sizes[i], 200 + i);
	}
	for (unsigned i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "%s/bigdir/name%u", tree, i);
		host_file(p, i, i);
	}
	CHECK_EQ(make_image(img, tree, 1024, "8M", "-O inline_data -I 256"), 0);
	struct img im;
	CHECK_EQ(img_open(&im, img, 1024), 0);
	struct ext4_fs *fs;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	uint32_t ino;
	struct ext4_stat st;
	CHECK_EQ(ext4_lookup_path(fs, "/sub/i0", &ino), 0);
	CHECK_EQ(ext4_stat(fs, ino, &st), 0);
	CHECK(st.flags & EXT4_INLINE_DATA_FL);
	CHECK_EQ(ext4_lookup_path(fs, "/sub/i3", &ino), 0);       /* 100 bytes: i_block + xattr */
	CHECK_EQ(ext4_stat(fs, ino, &st), 0);
	CHECK(st.flags & EXT4_INLINE_DATA_FL);
	CHECK_EQ(ext4_lookup_path(fs, "/tiny", &ino), 0);
	CHECK_EQ(ext4_stat(fs, ino, &st), 0);
	CHECK(st.flags & EXT4_INLINE_DATA_FL);                   /* an inline directory */
	long files = 0;
	cmp_failures = 0;
	cmp_tree(fs, EXT4_ROOT_INO, tree, &files);
	CHECK_EQ(cmp_failures, 0);
	CHECK_EQ(files, 46);
	/* writes to inline inodes are refused, not corrupting */
	CHECK_EQ(ext4_lookup_path(fs, "/sub/i0", &ino), 0);
	CHECK_EQ(ext4_write(fs, ino, 0, "x", 1), -EOPNOTSUPP);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
}

/* ---- writing, mirrored in a shadow directory ---- */
struct wctx {
	struct ext4_fs *fs;
	char shadow[300];
	int errors;
};

#define W(expr) do { long _r = (long)(expr); if (_r < 0) { if (w->errors++ < 10) \
	printf("  %s -> %ld (%s:%d)\n", #expr, _r, __FILE__, __LINE__); } } while (0)

static uint32_t ipath(struct wctx *w, const char *path)
{
	uint32_t ino = 0;
	int r = ext4_lookup_path(w->fs, path, &ino);
	if (r && w->errors++ < 10)
		printf("  lookup %s -> %d\n", path, r);
	return ino;
}

static void split_path(const char *path, char *dir, const char **base)
{
	const char *s = strrchr(path, '/');
	size_t n = (size_t)(s - path);
	memcpy(dir, path, n);
	dir[n] = 0;
	if (n == 0)
		strcpy(dir, "/");
	*base = s + 1;
}

static void w_mkdir(struct wctx *w, const char *path)
{
	char dir[512], sp[700];
	const char *b;
	split_path(path, dir, &b);
	W(ext4_mkdir(w->fs, ipath(w, dir), b, strlen(b), 0755, 0, 0, NULL));
	snprintf(sp, sizeof(sp), "%s%s", w->shadow, path);
	W(mkdir(sp, 0755));
}

static void w_write(struct wctx *w, const char *path, uint64_t off, size_t len, unsigned seed, bool create)
{
	char dir[512], sp[700];
	const char *b;
	uint32_t ino;
	if (create) {
		split_path(path, dir, &b);
		W(ext4_create(w->fs, ipath(w, dir), b, strlen(b), 0644, 0, 0, &ino));
	} else {
		ino = ipath(w, path);
	}
	uint8_t *buf = malloc(len + 1);
	fill_content(buf, off, len, seed);
	long n = ext4_write(w->fs, ino, off, buf, len);
	if (n != (long)len && w->errors++ < 10)
		printf("  write %s %zu -> %ld\n", path, len, n);
	snprintf(sp, sizeof(sp), "%s%s", w->shadow, path);
	int fd = open(sp, O_WRONLY | O_CREAT, 0644);
	if (len)
		pw(fd, buf, len, (off_t)off);
	close(fd);
	free(buf);
}

static void w_unlink(struct wctx *w, const char *path)
{
	char dir[512], sp[700];
	const char *b;
	split_path(path, dir, &b);
	W(ext4_unlink(w->fs, ipath(w, dir), b, strlen(b)));
	snprintf(sp, sizeof(sp), "%s%s", w->shadow, path);
	W(unlink(sp));
}

static void w_rename(struct wctx *w, const char *from, const char *to, unsigned flags)
{
	char d1[512], d2[512], s1[700], s2[700];
	const char *b1, *b2;
	split_path(from, d1, &b1);
	split_path(to, d2, &b2);
	W(ext4_rename(w->fs, ipath(w, d1), b1, strlen(b1), ipath(w, d2), b2, strlen(b2), flags));
	snprintf(s1, sizeof(s1), "%s%s", w->shadow, from);
	snprintf(s2, sizeof(s2), "%s%s", w->shadow, to);
	W(renameat2(AT_FDCWD, s1, AT_FDCWD, s2, flags));
}

static void w_truncate(struct wctx *w, const char *path, uint64_t size)
{
	char sp[700];
	W(ext4_truncate(w->fs, ipath(w, path), size));
	snprintf(sp, sizeof(sp), "%s%s", w->shadow, path);
	W(truncate(sp, (off_t)size));
}

static void w_symlink(struct wctx *w, const char *path, const char *target)
{
	char dir[512], sp[700];
	const char *b;
	split_path(path, dir, &b);
	W(ext4_symlink(w->fs, ipath(w, dir), b, strlen(b), target, strlen(target), 0, 0, NULL));
	snprintf(sp, sizeof(sp), "%s%s", w->shadow, path);
	W(symlink(target, sp));
}

static void w_link(struct wctx *w, const char *from, const char *to)
{
	char dir[512], s1[700], s2[700];
	const char *b;
	split_path(to, dir, &b);
	W(ext4_link(w->fs, ipath(w, from), ipath(w, dir), b, strlen(b)));
	snprintf(s1, sizeof(s1), "%s%s", w->shadow, from);
	snprintf(s2, sizeof(s2), "%s%s", w->shadow, to);
	W(link(s1, s2));
}

static void w_rmdir(struct wctx *w, const char *path)
{
	char dir[512], sp[700];
	const char *b;
	split_path(path, dir, &b);
	W(ext4_rmdir(w->fs, ipath(w, dir), b, strlen(b)));
	snprintf(sp, sizeof(sp), "%s%s", w->shadow, path);
	W(rmdir(sp));
}

static void write_check(unsigned bs, uint32_t dev_bs)
{
	setup_work("ext4");
	struct wctx wc = { 0 }, *w = &wc;
	char tree[300], img[300], out[300], p[600], q[700];
	snprintf(tree, sizeof(tree), "%s/wtree%u", work, bs);
	snprintf(img, sizeof(img), "%s/w%u.img", work, bs);
	snprintf(w->shadow, sizeof(w->shadow), "%s/shadow%u", work, bs);
	snprintf(out, sizeof(out), "%s/rdump%u", work, bs);
	tick("start");
	gen_tree(tree, 1500);
	sh("mkdir -p %s/big2 && cd %s/big2 && for i in $(seq 1 400); do : > name-$i; done", tree, tree);
	tick("gen_tree");
	CHECK_EQ(make_image(img, tree, bs, "96M", ""), 0);
	tick("make_image");
	sh("rm -rf %s %s && cp -a %s %s && mkdir -p %s", w->shadow, out, tree, w->shadow, out);
	struct img im;
	CHECK_EQ(img_open(&im, img, dev_bs), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &w->fs), 0);
	if (!w->fs)
		return;
	ext4_set_clock(w->fs, now_clock);
	struct ext4_stat st;
	uint32_t ino;

	/* thousands of files of varied sizes */
	w_mkdir(w, "/w");
	for (int i = 0; i < 1500; i++) {
		snprintf(p, sizeof(p), "/w/f%04d", i);
		w_write(w, p, 0, (size_t)(i * 37 % 9000), (unsigned)i, true);
	}
	tick("1500 files");
	/* names added to htree directories: the index stays valid (leaves split, htree.c), e2fsck
	 * checks it at the end */
	CHECK_EQ(ext4_stat(w->fs, ipath(w, "/big"), &st), 0);
	CHECK(st.flags & EXT4_INDEX_FL);
	for (int i = 0; i < 60; i++) {
		snprintf(p, sizeof(p), "/big/new-%d", i);
		w_write(w, p, 0, (size_t)i, (unsigned)i + 5000, true);
	}
	CHECK_EQ(ext4_stat(w->fs, ipath(w, "/big"), &st), 0);
	CHECK(st.flags & EXT4_INDEX_FL);
	CHECK_EQ(ext4_stat(w->fs, ipath(w, "/big2"), &st), 0);
	CHECK(st.flags & EXT4_INDEX_FL);
	for (int i = 0; i < 1200; i++) {
		snprintf(p, sizeof(p), "/big2/new-%d", i);
		w_write(w, p, 0, (size_t)i, (unsigned)i + 6000, true);
	}
	CHECK_EQ(ext4_stat(w->fs, ipath(w, "/big2"), &st), 0);
	CHECK(st.flags & EXT4_INDEX_FL);
	CHECK_EQ(ext4_stat(w->fs, ipath(w, "/w"), &st), 0);
	CHECK(st.flags & EXT4_INDEX_FL);                /* grown past one block by us: indexed */
	tick("htree adds");
	/* unlinks */
	for (int i = 0; i < 1500; i += 3) {
		snprintf(p, sizeof(p), "/w/f%04d", i);
		w_unlink(w, p);
	}
	for (int i = 0; i < 1500; i += 5) {
		snprintf(p, sizeof(p), "/big/entry-%05d-with-a-longer-name", i);
		w_unlink(w, p);
	}
	for (int i = 1; i < 400; i += 4) {
		snprintf(p, sizeof(p), "/big2/name-%d", i);
		w_unlink(w, p);
	}
	/* renames: across dirs, within, over an existing file, a directory, exchange */
	w_rename(w, "/w/f0001", "/big/renamed-1", 0);
	w_rename(w, "/w/f0002", "/w/f0002-renamed", 0);
	w_rename(w, "/w/f0004", "/w/f0005", 0);
	w_rename(w, "/deep/d0/d1", "/moved-d1", 0);
	w_rename(w, "/w/f0007", "/files/f10", EXT4_RENAME_EXCHANGE);
	w_rename(w, "/moved-d1/d2", "/w/d2-exchanged-with-file", 0);
	w_rename(w, "/big", "/deep/big-moved", 0);           /* ".." inside a dx root block */
	w_rename(w, "/deep/big-moved", "/big", 0);
	CHECK_EQ(ext4_stat(w->fs, ipath(w, "/big"), &st), 0);
	CHECK(st.flags & EXT4_INDEX_FL);
	CHECK_EQ(ext4_rename(w->fs, ipath(w, "/w"), "f0008", 5, ipath(w, "/w"), "f0010", 5,
			     EXT4_RENAME_NOREPLACE), -EEXIST);
	CHECK_EQ(ext4_rename(w->fs, EXT4_ROOT_INO, "moved-d1", 8, ipath(w, "/w/d2-exchanged-with-file/d3"),
			     "x", 1, 0), 0);
	CHECK_EQ(ext4_rename(w->fs, ipath(w, "/w/d2-exchanged-with-file/d3"), "x", 1, EXT4_ROOT_INO, "moved-d1", 8, 0), 0);
	CHECK_EQ(ext4_rename(w->fs, EXT4_ROOT_INO, "w", 1, ipath(w, "/w/d2-exchanged-with-file/d3"), "w", 1, 0),
		 -EINVAL);                       /* a directory into its own subtree */
	tick("unlinks, renames");
	/* a deep new tree */
	strcpy(p, "/newdeep");
	w_mkdir(w, p);
	for (int k = 0; k < 40; k++) {
		size_t l = strlen(p);
		snprintf(p + l, sizeof(p) - l, "/n%d", k);
		w_mkdir(w, p);
	}
	snprintf(q, sizeof(q), "%s/bottom", p);
	w_write(w, q, 0, 12345, 4242, true);
	/* a big file in odd-sized chunks */
	w_write(w, "/bigfile", 0, 0, 1, true);
	for (uint64_t off = 0; off < (3u << 20); off += 100003)
		w_write(w, "/bigfile", off, 100003, 1, false);
	tick("deep, bigfile");
	/* a file of 1500 extents: one block written every other block (deep tree) */
	w_write(w, "/fragw", 0, 0, 2, true);
	for (int k = 0; k < 1500; k++)
		w_write(w, "/fragw", (uint64_t)k * 2 * bs, bs, 2, false);
	CHECK(extent_depth(w->fs, ipath(w, "/fragw")) >= 2);
	tick("fragw");
	/* overwrite inside an existing file, extend past EOF, fill a hole of the sparse file */
	w_write(w, "/files/f14", 1000, 5000, 3, false);
	w_write(w, "/files/f8", 5000, 3000, 4, false);
	w_write(w, "/sparse", (1 << 20) + 77, 9000, 5, false);
	/* truncates: partial block, many extents removed, to zero, extension with a hole */
	w_truncate(w, "/bigfile", 1234567);
	w_truncate(w, "/fragw", (uint64_t)1000 * bs + 17);
	w_truncate(w, "/frag", 100000);
	w_truncate(w, "/files/f15", 0);
	w_truncate(w, "/files/f9", 50000);
	w_write(w, "/files/f15", 3, 10, 6, false);
	/* links and symlinks */
	w_link(w, "/w/f0011", "/w/hard-11");
	w_link(w, "/w/f0011", "/deep/hard-11b");
	w_symlink(w, "/sym-fast", "w/f0011");
	memset(q, 'z', 500);
	memcpy(q, "long/", 5);
	q[500] = 0;
	w_symlink(w, "/sym-slow", q);
	/* rmdir: emptied, and one that is not empty */
	w_unlink(w, "/w/d2-exchanged-with-file/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/d21/d22/d23/d24/leaf.txt");
	w_rmdir(w, "/w/d2-exchanged-with-file/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/d21/d22/d23/d24");
	CHECK_EQ(ext4_rmdir(w->fs, EXT4_ROOT_INO, "w", 1), -ENOTEMPTY);
	CHECK_EQ(ext4_unlink(w->fs, EXT4_ROOT_INO, "w", 1), -EISDIR);
	CHECK_EQ(ext4_rmdir(w->fs, ipath(w, "/w"), "f0011", 5), -ENOTDIR);
	/* attributes with nanoseconds */
	struct ext4_setattr sa = { .valid = EXT4_SET_MODE | EXT4_SET_UID | EXT4_SET_GID | EXT4_SET_ATIME |
					    EXT4_SET_MTIME, .mode = 0640, .uid = 1234, .gid = 70000,
				   .atime = { 1600000000, 123456789 }, .mtime = { 1700000001, 987654321 } };
	W(ext4_setattr(w->fs, ipath(w, "/w/f0013"), &sa));
	snprintf(p, sizeof(p), "%s/w/f0013", w->shadow);
	chmod(p, 0640);
	/* name errors */
	memset(q, 'n', 256);
	CHECK_EQ(ext4_create(w->fs, EXT4_ROOT_INO, q, 256, 0644, 0, 0, &ino), -ENAMETOOLONG);
	CHECK_EQ(ext4_lookup(w->fs, EXT4_ROOT_INO, q, 256, &ino), -ENAMETOOLONG);
	q[0] = '/';
	memset(q + 1, 'n', 255);
	q[256] = 0;
	w_write(w, q, 0, 1, 7, true);                        /* 255 bytes is fine */
	CHECK_EQ(ext4_create(w->fs, EXT4_ROOT_INO, "files", 5, 0644, 0, 0, &ino), -EEXIST);
	CHECK_EQ(ext4_mkdir(w->fs, EXT4_ROOT_INO, "a/b", 3, 0755, 0, 0, &ino), -EINVAL);
	CHECK_EQ(w->errors, 0);
	CHECK_EQ(ext4_umount(w->fs), 0);
	img_close(&im);

	tick("rest");
	/* The oracle: e2fsck clean, debugfs gives back the shadow tree. */
	CHECK_EQ(sh("e2fsck -fn %s > %s/fsck%u.log 2>&1", img, work, bs), 0);
	CHECK_EQ(sh("debugfs -R 'rdump / %s' %s >/dev/null 2>&1", out, img), 0);
	CHECK_EQ(sh("rm -rf %s/lost+found && diff -r --no-dereference %s %s >%s/diff%u.log 2>&1",
		    out, w->shadow, out, work, bs), 0);
	CHECK_EQ(sh("debugfs -R 'stat /w/f0013' %s 2>/dev/null | grep -q 'mtime: 0x6553f101:%08x'", img,
		    987654321u << 2 | 0), 0);
	CHECK_EQ(sh("debugfs -R 'stat /w/f0013' %s 2>/dev/null | grep -q 'User:  1234   Group: 70000'", img), 0);

	tick("e2fsck, rdump, diff");
	/* And fs/ext4 reads its own writes after a remount. */
	CHECK_EQ(img_open(&im, img, dev_bs), 0);
	CHECK_EQ(ext4_mount(&im.bd, EXT4_MOUNT_RDONLY, &w->fs), 0);
	if (!w->fs)
		return;
	long files = 0;
	cmp_failures = 0;
	cmp_tree(w->fs, EXT4_ROOT_INO, w->shadow, &files);
	CHECK_EQ(cmp_failures, 0);
	CHECK_EQ(ext4_stat(w->fs, ipath(w, "/w/f0013"), &st), 0);
	CHECK_EQ(st.mtime.sec, 1700000001);
	CHECK_EQ(st.mtime.nsec, 987654321);
	CHECK_EQ(st.atime.nsec, 123456789);
	CHECK_EQ(st.uid, 1234);
	CHECK_EQ(st.gid, 70000);
	CHECK_EQ(ext4_stat(w->fs, ipath(w, "/w/f0011"), &st), 0);
	CHECK_EQ(st.nlink, 3);
	tick("remount compare");
	CHECK_EQ(ext4_umount(w->fs), 0);
	img_close(&im);
}

TEST(write_1k) { write_check(1024, 512); }
TEST(write_4k) { write_check(4096, 1024); }

TEST(enospc_and_inodes)
{
	setup_work("ext4");
	char img[300], tree[300];
	snprintf(img, sizeof(img), "%s/small.img", work);
	snprintf(tree, sizeof(tree), "%s/emptytree", work);
	sh("rm -rf %s && mkdir -p %s", tree, tree);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -N 64 -d %s %s 2M >/dev/null 2>&1", tree, img), 0);
	struct img im;
	CHECK_EQ(img_open(&im, img, 512), 0);
	struct ext4_fs *fs;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	uint32_t ino;
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "fill", 4, 0644, 0, 0, &ino), 0);
	static uint8_t buf[65536];
	fill_content(buf, 0, sizeof(buf), 9);
	uint64_t off = 0;
	long n;
	int rounds = 0;
	while ((n = ext4_write(fs, ino, off, buf, sizeof(buf))) == (long)sizeof(buf) && rounds++ < 1000)
		off += (uint64_t)n;
	CHECK(n >= 0 && n < (long)sizeof(buf));             /* short write at the end */
	if (n > 0)
		off += (uint64_t)n;
	CHECK_EQ(ext4_write(fs, ino, off, buf, 4096), -ENOSPC);
	CHECK(off > (256u << 10));                          /* a 1 MiB journal takes half */
	struct ext4_statfs sf;
	ext4_statfs(fs, &sf);
	CHECK_EQ(sf.free_blocks, 0);
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "d", 1, 0755, 0, 0, &ino), -ENOSPC);
	CHECK_EQ(ext4_umount(fs), 0);
	CHECK_EQ(sh("e2fsck -fn %s >%s/enospc.log 2>&1", img, work), 0);
	/* free it, then use up the inodes */
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	CHECK_EQ(ext4_unlink(fs, EXT4_ROOT_INO, "fill", 4), 0);
	int made = 0, r = 0;
	char name[32];
	while (made < 1000) {
		snprintf(name, sizeof(name), "i%d", made);
		r = ext4_create(fs, EXT4_ROOT_INO, name, strlen(name), 0644, 0, 0, &ino);
		if (r)
			break;
		made++;
	}
	CHECK_EQ(r, -ENOSPC);
	CHECK(made > 40 && made < 64);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
}

/* fallocate: unwritten extents read as zeros; writes into them split them (start, middle, end,
 * across two extents); KEEP_SIZE allocates past EOF; e2fsck agrees, debugfs shows the unwritten
 * extents, and the bytes match a shadow copy. Then an image whose unwritten extents Linux's own
 * tools wrote (mke2fs -d keeps none, so debugfs's fallocate) is read and written the same way. */
static void fallocate_case(unsigned bs, bool host_made)
{
	setup_work("ext4");
	char img[300], tree[300];
	snprintf(img, sizeof(img), "%s/falloc%u.img", work, bs);
	snprintf(tree, sizeof(tree), "%s/emptytree", work);
	sh("rm -rf %s && mkdir -p %s", tree, tree);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b %u -d %s %s 16M >/dev/null 2>&1", bs, tree, img), 0);
	if (host_made) {
		CHECK_EQ(sh("printf 'write /dev/null f\\nfallocate f 0 %u\\nsif f size %u\\n' | debugfs -w -f - %s >/dev/null 2>&1",
			    (1u << 20) / bs - 1, 1u << 20, img), 0);
		CHECK_EQ(sh("debugfs -R 'ex f' %s 2>/dev/null | grep -q Uninit", img), 0);
	}
	struct img im;
	CHECK_EQ(img_open(&im, img, 512), 0);
	struct ext4_fs *fs;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	static uint8_t shadow[6u << 20], buf[6u << 20], data[300000];
	memset(shadow, 0, sizeof(shadow));
	uint32_t ino;
	if (host_made)
		CHECK_EQ(ext4_lookup(fs, EXT4_ROOT_INO, "f", 1, &ino), 0);
	else {
		CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "f", 1, 0644, 0, 0, &ino), 0);
		CHECK_EQ(ext4_fallocate(fs, ino, false, 0, 1u << 20), 0);
	}
	struct ext4_stat st;
	CHECK_EQ(ext4_stat(fs, ino, &st), 0);
	CHECK_EQ(st.size, 1u << 20);
	CHECK(st.blocks * 512 >= (1u << 20));                 /* allocated, not a hole */
	memset(buf, 0xee, 1u << 20);
	CHECK_EQ(ext4_read(fs, ino, 0, buf, 1u << 20), (long)(1u << 20));
	CHECK(!memcmp(buf, shadow, 1u << 20));                /* unwritten reads as zeros */
	/* writes: inside one block in the middle, at the start, at the end, then one long write */
	const struct { uint64_t off; size_t len; } w[] = {
		{ 100000, 5000 }, { 0, 3000 }, { (1u << 20) - 700, 700 }, { 200000, 300000 }, { 4, 1 },
	};
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		fill_content(data, w[i].off, w[i].len, (unsigned)i + 3);
		CHECK_EQ(ext4_write(fs, ino, w[i].off, data, w[i].len), (long)w[i].len);
		memcpy(shadow + w[i].off, data, w[i].len);
	}
	/* KEEP_SIZE past EOF, then a write that lands there */
	CHECK_EQ(ext4_fallocate(fs, ino, true, 3u << 20, 2u << 20), 0);
	CHECK_EQ(ext4_stat(fs, ino, &st), 0);
	CHECK_EQ(st.size, 1u << 20);
	CHECK(st.blocks * 512 >= (3u << 20));
	fill_content(data, (4u << 20) + 123, 9000, 77);
	CHECK_EQ(ext4_write(fs, ino, (4u << 20) + 123, data, 9000), 9000);
	memcpy(shadow + (4u << 20) + 123, data, 9000);
	size_t size = (4u << 20) + 123 + 9000;
	/* fallocate over written and unwritten blocks changes nothing written */
	CHECK_EQ(ext4_fallocate(fs, ino, false, 0, 2u << 20), 0);
	CHECK_EQ(ext4_stat(fs, ino, &st), 0);
	CHECK_EQ(st.size, size);
	CHECK_EQ(ext4_read(fs, ino, 0, buf, size), (long)size);
	CHECK(!memcmp(buf, shadow, size));
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	CHECK_EQ(sh("e2fsck -fn %s >%s/falloc%u.log 2>&1", img, work, bs), 0);
	CHECK_EQ(sh("debugfs -R 'ex f' %s 2>/dev/null | grep -q Uninit", img), 0);   /* some stay unwritten */
	char out[320];
	snprintf(out, sizeof(out), "%s/falloc.out", work);
	CHECK_EQ(sh("debugfs -R 'dump f %s' %s >/dev/null 2>&1", out, img), 0);
	FILE *fp = fopen(out, "rb");
	CHECK(fp != NULL);
	if (fp) {
		CHECK_EQ(fread(buf, 1, sizeof(buf), fp), size);
		CHECK(!memcmp(buf, shadow, size));
		fclose(fp);
	}
}

TEST(fallocate_1k) { fallocate_case(1024, false); }
TEST(fallocate_4k) { fallocate_case(4096, false); }
TEST(unwritten_extents_made_by_debugfs) { fallocate_case(4096, true); }

/* Targeted corruptions give the documented errors. */
TEST(corruption_errors)
{
	setup_work("ext4");
	char img[300], tree[300], p[400];
	snprintf(img, sizeof(img), "%s/c.img", work);
	snprintf(tree, sizeof(tree), "%s/ctree", work);
	sh("rm -rf %s && mkdir -p %s/a/b", tree, tree);
	snprintf(p, sizeof(p), "%s/file", tree);
	host_file(p, 20000, 1);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -d %s %s 4M >/dev/null 2>&1", tree, img), 0);
	size_t len;
	uint8_t *orig = slurp(img, &len), *m = malloc(len);
	struct img im;
	struct ext4_fs *fs;
	/* bad magic */
	memcpy(m, orig, len);
	m[1024 + 0x38] ^= 0xff;
	img_mem(&im, m, len, 1024);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), -EINVAL);
	/* superblock checksum */
	memcpy(m, orig, len);
	m[1024 + 0x10] ^= 1;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), -EUCLEAN);
	/* group descriptor checksum */
	memcpy(m, orig, len);
	m[2048 + 0x0C] ^= 1;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), -EUCLEAN);
	/* a file's extent outside the disk (inode checksum made right) */
	memcpy(m, orig, len);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	uint32_t ino, dino;
	CHECK_EQ(ext4_lookup_path(fs, "/file", &ino), 0);
	struct ext4_iref *ir;
	CHECK_EQ(ext4_iget(fs, ino, &ir), 0);
	((struct ext4_extent *)((struct ext4_extent_header *)ir->i.i_block + 1))->ee_start_lo = 4096 + 10;
	CHECK_EQ(ext4_iwrite(fs, ir), 0);
	ext4_iput(ir);
	uint8_t b[100];
	CHECK_EQ(ext4_read(fs, ino, 0, b, 100), -EUCLEAN);
	CHECK(ext4_is_readonly(fs));                         /* errors=remount-ro */
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "x", 1, 0644, 0, 0, &ino), -EROFS);
	ext4_umount(fs);
	/* impossible directory size; an inode checksum */
	memcpy(m, orig, len);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	CHECK_EQ(ext4_lookup_path(fs, "/a", &dino), 0);
	CHECK_EQ(ext4_iget(fs, dino, &ir), 0);
	ir->i.i_size_lo += 5;
	CHECK_EQ(ext4_iwrite(fs, ir), 0);
	ext4_iput(ir);
	CHECK_EQ(ext4_lookup_path(fs, "/a/b", &ino), -EUCLEAN);
	ext4_umount(fs);
	memcpy(m, orig, len);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	CHECK_EQ(ext4_lookup_path(fs, "/file", &ino), 0);
	CHECK_EQ(ext4_iget(fs, ino, &ir), 0);
	ir->i.i_mtime ^= 1;
	ext4_inode_csum_set(fs, ir);
	ir->i.i_mtime ^= 1;                                  /* stale checksum */
	fs->csum = false;
	CHECK_EQ(ext4_iwrite(fs, ir), 0);
	fs->csum = true;
	ext4_iput(ir);
	struct ext4_stat st;
	CHECK_EQ(ext4_stat(fs, ino, &st), -EUCLEAN);
	ext4_umount(fs);
	/* a directory loop: b's ".." points at b itself */
	memcpy(m, orig, len);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	uint32_t bino;
	CHECK_EQ(ext4_lookup_path(fs, "/a/b", &bino), 0);
	CHECK_EQ(ext4_iget(fs, bino, &ir), 0);
	CHECK_EQ(ext4_dir_set_ino(fs, ir, "..", 2, bino, 2), 0);
	ext4_iput(ir);
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "c", 1, 0755, 0, 0, &ino), 0);
	CHECK_EQ(ext4_rename(fs, EXT4_ROOT_INO, "c", 1, bino, "c", 1, 0), -EUCLEAN);
	ext4_umount(fs);
	/* a directory block checksum */
	memcpy(m, orig, len);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	uint64_t pb;
	CHECK_EQ(ext4_lookup_path(fs, "/a", &dino), 0);
	CHECK_EQ(ext4_bmap(fs, dino, 0, &pb), 0);
	ext4_umount(fs);
	m[pb * 1024 + 13] ^= 0x40;                           /* inside ".."'s name area padding */
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	CHECK_EQ(ext4_lookup_path(fs, "/a/b", &ino), -EUCLEAN);
	ext4_umount(fs);
	free(m);
	free(orig);
}


/*
 * JBD2 replay: debugfs writes transactions into the journal without replaying them (jo/jw/jc):
 * committed ones, one that revokes a block an earlier one wrote, and (without checksums) an
 * uncommitted tail. Our mount must replay exactly what e2fsck's replay does (compared block by
 * block on a copy), clear needs_recovery, and leave e2fsck nothing to fix.
 */
static void journal_case(bool csum)
{
	setup_work("ext4");
	char img[300], ref[300], tree[300], a[300], b[300], cmds[300];
	snprintf(img, sizeof(img), "%s/j.img", work);
	snprintf(ref, sizeof(ref), "%s/jref.img", work);
	snprintf(tree, sizeof(tree), "%s/jtree", work);
	snprintf(a, sizeof(a), "%s/jA", work);
	snprintf(b, sizeof(b), "%s/jB", work);
	snprintf(cmds, sizeof(cmds), "%s/jcmds", work);
	sh("rm -rf %s && mkdir -p %s && echo hello > %s/f", tree, tree, tree);
	host_file(a, 1024, 11);
	host_file(b, 2048, 12);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -d %s %s 8M >/dev/null 2>&1", tree, img), 0);
	FILE *f = fopen(cmds, "w");
	fprintf(f, "jo%s\njw -b 5000 %s\njw -b 5001,5002 %s\njw -b 5003 -r 5001 %s\n%sjc\n", csum ? " -c" : "",
		a, b, a, csum ? "" : "jw -b 5004 -c /dev/null\n");
	fclose(f);
	CHECK_EQ(sh("debugfs -w -f %s %s >/dev/null 2>&1", cmds, img), 0);
	CHECK_EQ(sh("dumpe2fs -h %s 2>/dev/null | grep -q needs_recovery", img), 0);
	CHECK_EQ(sh("cp %s %s && e2fsck -fy %s >/dev/null 2>&1; true", img, ref, ref), 0);
	struct img im;
	CHECK_EQ(img_open(&im, img, 512), 0);
	struct ext4_fs *fs;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	CHECK(fs->journal_replayed >= 3);
	uint32_t ino;
	CHECK_EQ(ext4_lookup_path(fs, "/f", &ino), 0);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	size_t l1, l2;
	uint8_t *x = slurp(img, &l1), *y = slurp(ref, &l2);
	CHECK(x && y && l1 == l2);
	if (x && y && l1 == l2) {
		CHECK(!memcmp(x + 5000 * 1024, y + 5000 * 1024, 5 * 1024));    /* the same replay as e2fsck */
		uint8_t ab[1024];
		fill_content(ab, 0, 1024, 11);
		CHECK(!memcmp(x + 5000 * 1024, ab, 1024));                    /* and something was replayed */
	}
	free(x);
	free(y);
	CHECK_EQ(sh("dumpe2fs -h %s 2>/dev/null | grep -q needs_recovery", img), 1);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
}

TEST(journal_replay_csum_v3) { journal_case(true); }
TEST(journal_replay_plain) { journal_case(false); }

/*
 * Crash consistency with metadata through the journal: a workload of creates, writes, renames,
 * unlinks and truncates runs on a device that silently drops every write after the k-th (a
 * power cut), for 12 values of k spread over the workload, with and without journal checksums. Afterwards our mount must replay the
 * journal, e2fsck -fn must find nothing to fix, and every operation that had returned before the
 * cut must be there (each returns only after its transaction reached its home).
 */
#define CRASH_OPS 60
#define CRASH_CUTS 12          /* per journal format: 24 power cuts in all */
#define CRASH_SYNC_EVERY 7     /* batched commits: the workload syncs this often */
static int crash_sync_every, crash_synced;   /* batched runs: 0 = no syncs; ops done at the last sync */

/* Operation i of the workload, given which files exist so far: 0 unlink f(i-3), 1 rename
 * f(i-1) to f(i), 2 create f(i) (written, every third one truncated to half). */
static int crash_kind(int i, const int *seed_of)
{
	if (i % 5 == 4 && seed_of[i - 3] >= 0)
		return 0;
	if (i % 7 == 6 && seed_of[i - 1] >= 0)
		return 1;
	return 2;
}

static void crash_apply(int i, int *seed_of, size_t *size_of)
{
	switch (crash_kind(i, seed_of)) {
	case 0:
		seed_of[i - 3] = -1;
		break;
	case 1:
		seed_of[i] = seed_of[i - 1];
		size_of[i] = size_of[i - 1];
		seed_of[i - 1] = -1;
		break;
	default:
		seed_of[i] = i;
		size_of[i] = (size_t)(i * 311 % 6000);
		if (i % 3 == 0)
			size_of[i] /= 2;
	}
}

/* What must exist after the first `done` operations: name -> (seed, size), or absent. */
static void crash_model(int done, int *seed_of, size_t *size_of)
{
	for (int i = 0; i < CRASH_OPS; i++)
		seed_of[i] = -1;
	for (int i = 0; i < done; i++)
		crash_apply(i, seed_of, size_of);
}

/* *done: operations that returned before the power cut (the device keeps "accepting" writes
 * after it, so later operations seem to succeed: only those before the cut count). */
static void crash_workload(struct ext4_fs *fs, struct img *im, uint32_t dir, int *done)
{
	uint8_t buf[6000];
	char n[32], m[32];
	int seed_of[CRASH_OPS];
	size_t size_of[CRASH_OPS];
	crash_model(0, seed_of, size_of);
	*done = 0;
	for (int i = 0; i < CRASH_OPS; i++) {
		uint32_t ino;
		int r;
		snprintf(n, sizeof(n), "f%d", i);
		switch (crash_kind(i, seed_of)) {
		case 0:
			snprintf(m, sizeof(m), "f%d", i - 3);
			r = ext4_unlink(fs, dir, m, strlen(m));
			break;
		case 1:
			snprintf(m, sizeof(m), "f%d", i - 1);
			r = ext4_rename(fs, dir, m, strlen(m), dir, n, strlen(n), 0);
			break;
		default: {
			r = ext4_create(fs, dir, n, strlen(n), 0644, 0, 0, &ino);
			size_t len = (size_t)(i * 311 % 6000);
			fill_content(buf, 0, len, (unsigned)i);
			if (r == 0 && ext4_write(fs, ino, 0, buf, len) != (long)len)
				r = -1;
			if (r == 0 && i % 3 == 0)
				r = ext4_truncate(fs, ino, len / 2);
		}
		}
		if (r != 0)
			return;
		crash_apply(i, seed_of, size_of);
		if (im->write_budget == 0 || im->writes <= im->write_budget)
			*done = i + 1;
		if (crash_sync_every && (i + 1) % crash_sync_every == 0 && ext4_sync(fs) == 0 &&
		    (im->write_budget == 0 || im->writes <= im->write_budget))
			crash_synced = i + 1;           /* what a crash may no longer take */
	}
}

/* Files of the model after `done` operations that are not as they should be. */
static int crash_check(struct ext4_fs *fs, uint32_t dir, int done, int skip, bool verbose)
{
	int seed_of[CRASH_OPS], miss = 0;
	size_t size_of[CRASH_OPS];
	uint8_t want[6000], got[6000];
	crash_model(done > CRASH_OPS ? CRASH_OPS : done, seed_of, size_of);
	for (int i = 0; i < CRASH_OPS; i++) {
		char n[32];
		uint32_t ino;
		if (i == skip)
			continue;
		snprintf(n, sizeof(n), "f%d", i);
		int r = ext4_lookup(fs, dir, n, strlen(n), &ino);
		if (seed_of[i] < 0) {
			if (r != -ENOENT) {
				miss++;
				if (verbose)
					printf("    f%d should not exist (%d)\n", i, r);
			}
			continue;
		}
		fill_content(want, 0, size_of[i], (unsigned)seed_of[i]);
		long g = r == 0 ? ext4_read(fs, ino, 0, got, sizeof(got)) : r;
		if (g != (long)size_of[i] || memcmp(want, got, size_of[i])) {
			miss++;
			if (verbose)
				printf("    f%d: %ld bytes, want %zu\n", i, g, size_of[i]);
		}
	}
	return miss;
}

/* batch: the journal batches commits (as the VFS mounts it): a cut may lose whole operations after
 * the last sync, so what comes back must be the model after some k ops, synced <= k <= done+1. */
static void crash_case(bool v3, bool batch)
{
	crash_sync_every = batch ? CRASH_SYNC_EVERY : 0;
	setup_work("ext4");
	char img[300], tree[300];
	snprintf(img, sizeof(img), "%s/crash.img", work);
	snprintf(tree, sizeof(tree), "%s/crtree", work);
	sh("rm -rf %s && mkdir -p %s/c && echo x > %s/c/old", tree, tree, tree);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -d %s %s 16M >/dev/null 2>&1", tree, img), 0);
	if (v3)        /* journal checksums v3, as Linux turns them on for metadata_csum */
		CHECK_EQ(sh("printf 'jo -c\\njc\\n' > %s/v3cmd && debugfs -w -f %s/v3cmd %s >/dev/null 2>&1 && "
			    "dumpe2fs -h %s 2>/dev/null | grep -q journal_checksum_v3", work, work, img, img), 0);
	size_t len;
	uint8_t *orig = slurp(img, &len), *m = malloc(len);
	/* a full run measures the writes */
	struct img im;
	struct ext4_fs *fs;
	uint32_t dir;
	int done;
	memcpy(m, orig, len);
	img_mem(&im, m, len, 512);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	CHECK(fs->jnl != NULL);
	ext4_journal_batch(fs, batch);
	CHECK_EQ(ext4_lookup_path(fs, "/c", &dir), 0);
	long w0 = im.writes;
	crash_workload(fs, &im, dir, &done);
	CHECK_EQ(done, CRASH_OPS);
	long total = im.writes - w0;
	ext4_umount(fs);
	int bad = 0;
	for (int k = 0; k < CRASH_CUTS; k++) {
		memcpy(m, orig, len);
		img_mem(&im, m, len, 512);
		CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
		if (!fs)
			break;
		ext4_lookup_path(fs, "/c", &dir);
		ext4_journal_batch(fs, batch);
		crash_synced = 0;
		im.write_budget = im.writes + 1 + (long)((uint64_t)total * (2 * k + 1) / (2 * CRASH_CUTS)) + k % 3;
		crash_workload(fs, &im, dir, &done);
		ext4_umount(fs);                            /* its writes are lost too */
		im.write_budget = 0;
		CHECK(done < CRASH_OPS);
		if (getenv("EXT4_KEEP")) {
			char p[400];
			snprintf(p, sizeof(p), "%s/crashed%d.img", work, k);
			FILE *cf = fopen(p, "wb");
			fwrite(m, 1, len, cf);
			fclose(cf);
		}
		/* Odd cuts: e2fsck replays what we logged (our writer against the oracle's reader);
		 * even cuts: our replay. Then the same checks. */
		if (k & 1) {
			FILE *cf = fopen(img, "wb");
			fwrite(m, 1, len, cf);
			fclose(cf);
			int fy = sh("e2fsck -fy %s > %s/crashfy%d.log 2>&1", img, work, k);
			if (fy > 1 && bad++ < 5)
				printf("  cut %d: e2fsck -fy says %d\n", k, fy);
			/* it may replay the journal, nothing else */
			if (sh("grep -q 'Fix?' %s/crashfy%d.log", work, k) == 0 && bad++ < 5)
				printf("  cut %d: e2fsck -fy fixed more than the journal (see crashfy%d.log)\n", k, k);
			cf = fopen(img, "rb");
			if (fread(m, 1, len, cf) != len)
				abort();
			fclose(cf);
		}
		CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
		if (!fs)
			break;
		ext4_lookup_path(fs, "/c", &dir);
		/* The operation in flight at the cut may or may not have happened. A "create" is three
		 * calls (create, write, truncate), each atomic: its file may be in any of the states
		 * between, so that one file is not compared. */
		int seed_now[CRASH_OPS];
		size_t size_now[CRASH_OPS];
		bool match = false;
		int lo = batch ? crash_synced : done, miss_a = 0, miss_b = 0;
		for (int at = done; at >= lo && !match; at--) {
			crash_model(at, seed_now, size_now);
			int skip = at < CRASH_OPS && crash_kind(at, seed_now) == 2 ? at : -1;
			miss_a = crash_check(fs, dir, at, skip, false);
			miss_b = crash_check(fs, dir, at + 1, skip, false);
			match = !miss_a || !miss_b;
		}
		if (!match && bad++ < 5) {
			printf("  cut %d (after %d ops, synced %d): %d/%d files differ\n", k, done, crash_synced, miss_a, miss_b);
			crash_check(fs, dir, done, -1, true);
		}
		CHECK_EQ(ext4_umount(fs), 0);
		FILE *f = fopen(img, "wb");
		fwrite(m, 1, len, f);
		fclose(f);
		int fsck = sh("e2fsck -fn %s > %s/crash%d.log 2>&1", img, work, k);
		if (fsck != 0 && bad++ < 5)
			printf("  cut %d (after %d ops): e2fsck -fn says %d\n", k, done, fsck);
	}
	CHECK_EQ(bad, 0);
	free(m);
	free(orig);
}

TEST(crash_consistency) { crash_case(false, false); }
TEST(crash_consistency_csum_v3) { crash_case(true, false); }
TEST(crash_consistency_batched) { crash_case(true, true); }

/*
 * Open-but-unlinked files: the VFS's in_use callback keeps them (the orphan list) until
 * ext4_release; a crash leaves them to the next mount, which frees them; umount frees the rest.
 * Free-block counts come back exactly and e2fsck -fn stays clean in every case. Batched (as the
 * VFS mounts), the superblock with the orphan list head joins the transaction only when it
 * commits (journal.c, super_to_tx): the cut then comes after ext4_journal_commit, what fsync does.
 */
static uint32_t open_inos[4];
static bool test_in_use(void *arg, uint32_t ino)
{
	(void)arg;
	for (int i = 0; i < 4; i++)
		if (open_inos[i] == ino)
			return true;
	return false;
}

static void orphans_case(uint32_t bs, bool batch)
{
	setup_work("ext4");
	char img[300], tree[300];
	snprintf(img, sizeof(img), "%s/orphan.img", work);
	snprintf(tree, sizeof(tree), "%s/otree", work);
	sh("rm -rf %s && mkdir -p %s", tree, tree);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b %u -d %s %s 8M >/dev/null 2>&1", bs, tree, img), 0);
	size_t len;
	uint8_t *m = slurp(img, &len), *crash = malloc(len);
	struct img im, ci;
	struct ext4_fs *fs, *cfs;
	img_mem(&im, m, len, 1024);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	CHECK(fs->jnl != NULL);
	ext4_journal_batch(fs, batch);
	ext4_set_in_use(fs, test_in_use, NULL);
	struct ext4_statfs sf0, sf;
	ext4_statfs(fs, &sf0);
	static uint8_t buf[50000], got[50000];
	fill_content(buf, 0, sizeof(buf), 3);
	uint32_t a, b, c, x;
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "a", 1, 0644, 0, 0, &a), 0);
	CHECK_EQ(ext4_write(fs, a, 0, buf, sizeof(buf)), (long)sizeof(buf));
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "b", 1, 0644, 0, 0, &b), 0);
	CHECK_EQ(ext4_write(fs, b, 0, buf, 3000), 3000);
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "c", 1, 0755, 0, 0, &c), 0);
	open_inos[0] = a;
	open_inos[1] = b;
	open_inos[2] = c;
	CHECK_EQ(ext4_unlink(fs, EXT4_ROOT_INO, "a", 1), 0);
	CHECK_EQ(ext4_unlink(fs, EXT4_ROOT_INO, "b", 1), 0);
	CHECK_EQ(ext4_rmdir(fs, EXT4_ROOT_INO, "c", 1), 0);
	CHECK_EQ(ext4_lookup(fs, EXT4_ROOT_INO, "a", 1, &x), -ENOENT);
	struct ext4_stat st;
	CHECK_EQ(ext4_stat(fs, a, &st), 0);
	CHECK_EQ(st.nlink, 0);
	CHECK_EQ(ext4_read(fs, a, 0, got, sizeof(got)), (long)sizeof(got));
	CHECK(!memcmp(got, buf, sizeof(got)));
	CHECK_EQ(ext4_write(fs, a, sizeof(buf), buf, 1000), 1000);    /* still writable */
	ext4_statfs(fs, &sf);
	CHECK(sf.free_blocks < sf0.free_blocks);
	if (batch) {
		CHECK_EQ(ext4_journal_commit(fs), 0);
		CHECK(!fs->orphan_dirty && !fs->sb_dirty);
	}
	/* a power cut now: the next mount frees all three */
	memcpy(crash, m, len);
	img_mem(&ci, crash, len, 1024);
	CHECK_EQ(ext4_mount(&ci.bd, 0, &cfs), 0);
	if (cfs) {
		CHECK_EQ(cfs->orphans_freed, 3);
		ext4_statfs(cfs, &sf);
		CHECK_EQ(sf.free_blocks, sf0.free_blocks);
		CHECK_EQ(sf.free_inodes, sf0.free_inodes);
		CHECK_EQ(ext4_umount(cfs), 0);
		FILE *f = fopen(img, "wb");
		fwrite(crash, 1, len, f);
		fclose(f);
		CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
	}
	/* the last close of "a" (the list's tail) frees it; umount frees "b" and "c" */
	open_inos[0] = 0;
	struct ext4_statfs before;
	ext4_statfs(fs, &before);
	CHECK_EQ(ext4_release(fs, a), 0);
	ext4_statfs(fs, &sf);
	CHECK(sf.free_blocks >= before.free_blocks + sizeof(buf) / bs);
	CHECK_EQ(sf.free_inodes, before.free_inodes + 1);
	CHECK_EQ(ext4_stat(fs, b, &st), 0);
	CHECK_EQ(ext4_release(fs, EXT4_ROOT_INO), 0);                  /* still linked: nothing */
	CHECK_EQ(ext4_umount(fs), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (fs) {
		ext4_statfs(fs, &sf);
		CHECK_EQ(sf.free_blocks, sf0.free_blocks);
		CHECK_EQ(sf.free_inodes, sf0.free_inodes);
		CHECK_EQ(fs->orphans_freed, 0);
		CHECK_EQ(ext4_umount(fs), 0);
	}
	FILE *f = fopen(img, "wb");
	fwrite(m, 1, len, f);
	fclose(f);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
	memset(open_inos, 0, sizeof(open_inos));
	free(m);
	free(crash);
}

TEST(orphans) { orphans_case(1024, false); }
TEST(orphans_batched_4k) { orphans_case(4096, true); }

/*
 * The running transaction's copies (journal.c): found by block number through a hash whose
 * chains ext4_tx_forget rebuilds after moving copies; read back by ext4_bread and ext4_bpeek,
 * patched in place by ext4_bpatch; what the commit writes home. Free blocks at the end of a
 * fresh image serve as the "metadata" (their contents matter to nobody).
 */
#define TXT_N 300                       /* copies: more than one hash chain's worth */
static void tx_pattern(uint8_t *b, uint32_t bs, uint32_t i, uint32_t gen)
{
	for (uint32_t k = 0; k < bs; k++)
		b[k] = (uint8_t)(i * 7 + k * 13 + gen);
}

static bool tx_gone(uint32_t i) { return (i >= 10 && i < 50) || i == TXT_N - 1; }

static void tx_want(uint8_t *want, const uint8_t *orig, uint32_t bs, uint32_t i, const uint8_t *word, size_t wl)
{
	if (tx_gone(i))
		memcpy(want, orig + (size_t)i * bs, bs);
	else
		tx_pattern(want, bs, i, i % 3 ? 1 : 2);
	if (i == 200)
		memcpy(want + 100, word, wl);
}

/* A fresh 4 KiB-block image made by mkfs.ext4 (with opts, of size), read into memory and mounted
 * there on 512-byte device blocks: its path in img, the image in im (im->mem, im->size). Returns
 * the file system, or NULL after a failed check. */
static struct ext4_fs *mount_fresh_4k(const char *file, const char *opts, const char *size, char *img, size_t imglen,
				      struct img *im)
{
	setup_work("ext4");
	snprintf(img, imglen, "%s/%s", work, file);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 4096 %s %s %s >/dev/null 2>&1", opts, img, size), 0);
	size_t len;
	uint8_t *m = slurp(img, &len);
	CHECK(m != NULL);
	if (!m)
		return NULL;
	struct ext4_fs *fs = NULL;
	img_mem(im, m, len, 512);
	CHECK_EQ(ext4_mount(&im->bd, 0, &fs), 0);
	return fs;
}

TEST(tx_copies_hash_forget_patch)
{
	char img[300];
	struct img im;
	struct ext4_fs *fs = mount_fresh_4k("txcopies.img", "", "16M", img, sizeof(img), &im);
	if (!fs)
		return;
	uint8_t *m = im.mem;
	size_t len = im.size;
	CHECK(fs->jnl != NULL);
	ext4_journal_batch(fs, true);
	uint32_t bs = fs->bs;
	uint64_t base = fs->blocks_count - TXT_N - 8;
	uint8_t *b = malloc(bs), *want = malloc(bs), *orig = malloc((size_t)TXT_N * bs);
	memcpy(orig, m + base * bs, (size_t)TXT_N * bs);
	uint32_t commits = ext4_journal_commits(fs);
	const uint8_t word[8] = "patched!";
	ext4_tx_begin(fs);
	for (uint32_t i = 0; i < TXT_N; i++) {
		tx_pattern(b, bs, i, 1);
		CHECK_EQ(ext4_bwrite(fs, base + i, b), 0);
	}
	for (uint32_t i = 0; i < TXT_N; i += 3) {        /* a second put replaces the copy */
		tx_pattern(b, bs, i, 2);
		CHECK_EQ(ext4_bwrite(fs, base + i, b), 0);
	}
	ext4_tx_forget(fs, base + 10, 40);               /* moves later copies into the holes */
	ext4_tx_forget(fs, base + TXT_N - 1, 1);
	CHECK_EQ(ext4_bpatch(fs, base + 200, 100, word, sizeof(word)), 0);
	int bad = 0;
	for (uint32_t i = 0; i < TXT_N; i++) {
		tx_want(want, orig, bs, i, word, sizeof(word));
		CHECK_EQ(ext4_bread(fs, base + i, b), 0);
		if (memcmp(b, want, bs) && bad++ < 5)
			printf("  block %u: ext4_bread sees the wrong copy\n", i);
		uint8_t part[600];
		CHECK_EQ(ext4_bpeek(fs, base + i, 3000, part, sizeof(part)), 0);
		if (memcmp(part, want + 3000, sizeof(part)) && bad++ < 5)
			printf("  block %u: ext4_bpeek sees the wrong bytes\n", i);
		if ((ext4_tx_block(fs, base + i) == NULL) != tx_gone(i) && bad++ < 5)
			printf("  block %u: ext4_tx_block disagrees\n", i);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(ext4_journal_commits(fs), commits);     /* batched: nothing committed yet */
	CHECK_EQ(ext4_tx_end(fs, 0), 0);
	CHECK_EQ(ext4_journal_commit(fs), 0);
	CHECK_EQ(ext4_journal_commits(fs), commits + 1);
	for (uint32_t i = 0; i < TXT_N; i++) {           /* home now */
		tx_want(want, orig, bs, i, word, sizeof(word));
		if (memcmp(m + (base + i) * bs, want, bs) && bad++ < 5)
			printf("  block %u: home differs after the commit\n", i);
	}
	CHECK_EQ(bad, 0);
	/* out of a transaction ext4_bpatch writes in place (no journal copy left behind) */
	CHECK_EQ(ext4_bpatch(fs, base, 0, word, sizeof(word)), 0);
	CHECK(!memcmp(m + base * bs, word, sizeof(word)));
	CHECK_EQ(ext4_bpeek(fs, base, bs - 8, b, 9), -EINVAL);
	CHECK_EQ(ext4_umount(fs), 0);
	FILE *f = fopen(img, "wb");
	fwrite(m, 1, len, f);
	fclose(f);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
	free(b);
	free(want);
	free(orig);
	free(m);
}

/*
 * Checksums left to the commit (journal.c, tx_csum_all): in a batched transaction a bitmap or a
 * directory leaf is put with a stale checksum, reads take the copy as good even when the
 * known-good cache forgot the block, and the commit writes every checksum right: e2fsck -fn
 * checks the bitmaps' (in the descriptors) and the leaves' after a commit and after umount.
 */
#define CSUM_FILES 400
TEST(csum_at_commit)
{
	char img[300], name[32];
	struct img im;
	struct ext4_fs *fs = mount_fresh_4k("csumlater.img", "-O metadata_csum", "32M", img, sizeof(img), &im);
	if (!fs)
		return;
	uint8_t *m = im.mem;
	size_t len = im.size;
	CHECK(fs->csum && fs->jnl != NULL);
	ext4_journal_batch(fs, true);
	uint32_t dir, ino;
	static uint8_t data[100];
	fill_content(data, 0, sizeof(data), 5);
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "d", 1, 0755, 0, 0, &dir), 0);
	CHECK_EQ(ext4_journal_commit(fs), 0);
	for (int i = 0; i < CSUM_FILES; i++) {
		snprintf(name, sizeof(name), "file-%04d", i);
		CHECK_EQ(ext4_create(fs, dir, name, strlen(name), 0644, 0, 0, &ino), 0);
		CHECK_EQ(ext4_write(fs, ino, 0, data, sizeof(data)), (long)sizeof(data));
		if (i % 50 == 0)                        /* forget what was verified: the copies stay good */
			memset(fs->csum_good, 0, sizeof(fs->csum_good));
	}
	uint64_t bb = ext4_gd_block_bitmap(fs, ext4_gd(fs, 0)), ib = ext4_gd_inode_bitmap(fs, ext4_gd(fs, 0));
	CHECK(ext4_tx_csum_pending(fs, bb));
	CHECK(ext4_tx_csum_pending(fs, ib));
	for (int i = 0; i < CSUM_FILES; i += 2) {
		snprintf(name, sizeof(name), "file-%04d", i);
		CHECK_EQ(ext4_unlink(fs, dir, name, strlen(name)), 0);
	}
	memset(fs->csum_good, 0, sizeof(fs->csum_good));
	for (int i = 1; i < CSUM_FILES; i += 2) {
		snprintf(name, sizeof(name), "file-%04d", i);
		CHECK_EQ(ext4_lookup(fs, dir, name, strlen(name), &ino), 0);
	}
	CHECK(!ext4_is_readonly(fs));
	CHECK_EQ(ext4_journal_commit(fs), 0);
	CHECK(!ext4_tx_csum_pending(fs, bb));
	/* the commit wrote every block home: the image as it is now must be clean */
	uint8_t *cut = malloc(len);
	memcpy(cut, m, len);
	char cimg[300];
	snprintf(cimg, sizeof(cimg), "%s/csumlater-cut.img", work);
	FILE *f = fopen(cimg, "wb");
	fwrite(cut, 1, len, f);
	fclose(f);
	CHECK_EQ(sh("e2fsck -fn %s > %s/csumlater-cut.log 2>&1", cimg, work), 0);
	CHECK_EQ(ext4_umount(fs), 0);
	f = fopen(img, "wb");
	fwrite(m, 1, len, f);
	fclose(f);
	CHECK_EQ(sh("e2fsck -fn %s > %s/csumlater.log 2>&1", img, work), 0);
	free(cut);
	free(m);
}

/*
 * Delayed writes of new data blocks (journal.c, ext4_tx_data_put): in a batched transaction a
 * new block written in part stays in memory until the commit; reads (in part through
 * ext4_bread, whole blocks through the device and the overlay) and later writes see it; the
 * commit writes it home; a file unlinked before the commit never has its block written.
 */
static uint64_t first_pblk(struct ext4_fs *fs, uint32_t ino)
{
	struct ext4_iref *ir;
	uint64_t pblk = 0;
	uint32_t run;
	bool uw;
	if (ext4_iget(fs, ino, &ir) == 0) {
		ext4_ext_map(fs, ir, 0, &pblk, &run, &uw);
		ext4_iput(ir);
	}
	return pblk;
}

TEST(new_data_waits_for_commit)
{
	char img[300];
	struct img im;
	struct ext4_fs *fs = mount_fresh_4k("delaydata.img", "", "32M", img, sizeof(img), &im);
	if (!fs)
		return;
	uint8_t *m = im.mem;
	size_t len = im.size;
	ext4_journal_batch(fs, true);
	static uint8_t small[100], big[4096], got[8192], want[8192];
	fill_content(small, 0, sizeof(small), 7);
	fill_content(big, 0, sizeof(big), 8);
	uint32_t a, b;
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "a", 1, 0644, 0, 0, &a), 0);
	CHECK_EQ(ext4_write(fs, a, 0, small, sizeof(small)), (long)sizeof(small));
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "b", 1, 0644, 0, 0, &b), 0);
	CHECK_EQ(ext4_write(fs, b, 0, small, sizeof(small)), (long)sizeof(small));
	uint64_t pa = first_pblk(fs, a), pb = first_pblk(fs, b);
	CHECK(pa && pb && pa != pb);
	CHECK(m[pa * 4096] != small[0] || m[pa * 4096 + 1] != small[1]);   /* not home yet */
	CHECK(ext4_tx_block(fs, pa) != NULL);
	CHECK_EQ(ext4_read(fs, a, 0, got, sizeof(got)), (long)sizeof(small));
	CHECK(!memcmp(got, small, sizeof(small)));
	/* an overwrite in part, then a whole block after it: a read of both goes to the device */
	CHECK_EQ(ext4_write(fs, a, 50, "0123456789", 10), 10);
	CHECK_EQ(ext4_write(fs, a, 4096, big, sizeof(big)), (long)sizeof(big));
	memset(want, 0, sizeof(want));
	memcpy(want, small, sizeof(small));
	memcpy(want + 50, "0123456789", 10);
	memcpy(want + 4096, big, sizeof(big));
	CHECK_EQ(ext4_read(fs, a, 0, got, sizeof(got)), 8192);
	CHECK(!memcmp(got, want, sizeof(want)));
	/* b goes before the commit: its block is never written */
	uint8_t before[64];
	memcpy(before, m + pb * 4096, sizeof(before));
	CHECK_EQ(ext4_unlink(fs, EXT4_ROOT_INO, "b", 1), 0);
	CHECK_EQ(ext4_journal_commit(fs), 0);
	CHECK(!memcmp(m + pb * 4096, before, sizeof(before)));
	CHECK(!memcmp(m + pa * 4096, want, 4096));              /* a's is home */
	CHECK(ext4_tx_block(fs, pa) == NULL);
	CHECK_EQ(ext4_umount(fs), 0);
	FILE *f = fopen(img, "wb");
	fwrite(m, 1, len, f);
	fclose(f);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
	free(m);
}

TEST(cleanup)
{
	CHECK(work[0]);
	if (work[0] && !getenv("EXT4_KEEP"))
		sh("rm -rf %s", work);
}

UNIT_TESTS(CASE(read_1k), CASE(read_4k), CASE(read_inline_data), CASE(write_1k), CASE(write_4k),
	   CASE(enospc_and_inodes), CASE(fallocate_1k), CASE(fallocate_4k), CASE(unwritten_extents_made_by_debugfs),
	   CASE(corruption_errors), CASE(journal_replay_csum_v3),
	   CASE(journal_replay_plain), CASE(crash_consistency), CASE(crash_consistency_csum_v3),
	   CASE(crash_consistency_batched), CASE(orphans), CASE(orphans_batched_4k),
	   CASE(tx_copies_hash_forget_patch), CASE(csum_at_commit),
	   CASE(new_data_waits_for_commit), CASE(cleanup))
