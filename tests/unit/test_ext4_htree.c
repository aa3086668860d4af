// unit-sources: fs/ext4/orphan.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/htree.c fs/ext4/namei.c lib/crc32c.c
/*
 * fs/ext4/htree.c against e2fsprogs: indexed directories grown by Ember from empty (a linear
 * block that fills up becomes indexed, leaves split, the index gets a second level), with 1 KiB
 * and 4 KiB blocks, with and without metadata_csum; every name must be found by lookup, and
 * after umount `e2fsck -fn` (which checks the htree: hash order of every leaf, counts, limits,
 * dx checksums) must be clean, `debugfs htree` must walk the index and `debugfs ls` must list
 * exactly the names we made. Then half the names go, others come, names move between two indexed
 * directories (files and directories), and the checks run again. Directories indexed by
 * e2fsprogs (mkfs.ext4 -d, e2fsck -fyD; each hash version) are written by Ember and checked the
 * same way. Names of equal hash (found by brute force with our own hash function, which e2fsck
 * recomputes) exercise the continuation bit.
 */
#include "tests/unit/ext4_host.h"
#include "fs/ext4/ext4_fs.h"

static char work[256];

static void setup_work(void)
{
	if (!work[0]) {
		strcpy(work, "/tmp/ember-htree-XXXXXX");
		if (!mkdtemp(work))
			abort();
	}
}

static void name_of(char *b, size_t n, const char *prefix, int i)
{
	/* lengths vary from short to long so leaves split at different entry counts */
	snprintf(b, n, "%s-%d-%.*s", prefix, i, i % 37, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF");
}

static int dir_flags(struct ext4_fs *fs, uint32_t ino)
{
	struct ext4_stat st;
	if (ext4_stat(fs, ino, &st))
		return -1;
	return (int)st.flags;
}

static int levels_of(struct ext4_fs *fs, uint32_t dir)
{
	struct ext4_iref *ir;
	if (ext4_iget(fs, dir, &ir))
		return -1;
	uint64_t pblk;
	uint32_t run;
	bool uw;
	uint8_t *b = malloc(ext4_block_size(fs));
	int lv = -1;
	if (ext4_ext_map(fs, ir, 0, &pblk, &run, &uw) == 0 && pblk && ext4_bread(fs, pblk, b) == 0)
		lv = b[24 + 6];
	free(b);
	ext4_iput(ir);
	return lv;
}

/* Every name of [0, n) with prefix present (or absent) in dir. Returns the failures. */
static int check_names(struct ext4_fs *fs, uint32_t dir, const char *prefix, int from, int to, int step, bool present)
{
	char b[128];
	int bad = 0;
	for (int i = from; i < to; i += step) {
		name_of(b, sizeof(b), prefix, i);
		uint32_t ino;
		int r = ext4_lookup(fs, dir, b, strlen(b), &ino);
		if (present ? r != 0 : r != -ENOENT) {
			if (bad++ < 5)
				printf("  lookup %s -> %d\n", b, r);
		}
	}
	return bad;
}

/* The image passes e2fsck -fn, debugfs walks dir's htree, and ls lists `want` names. */
static void check_image(const char *img, const char *dir, int want)
{
	CHECK_EQ(sh("e2fsck -fn %s >%s/fsck.log 2>&1 || { cat %s/fsck.log | head -30; exit 1; }", img, work, work), 0);
	CHECK_EQ(sh("debugfs -R 'htree %s' %s 2>%s/htree.err >%s/htree.out; grep -q 'Root node dump' %s/htree.out",
		    dir, img, work, work, work), 0);
	CHECK_EQ(sh("! grep -qi 'corrupt\\|bad\\|error' %s/htree.err", work), 0);
	if (want >= 0) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "debugfs -R 'ls -p %s' %s 2>/dev/null | grep -c '^/[1-9]'", dir, img);   /* inode 0: a deleted entry */
		FILE *f = popen(cmd, "r");
		int n = -1;
		if (f) {
			if (fscanf(f, "%d", &n) != 1)
				n = -1;
			pclose(f);
		}
		CHECK_EQ(n, want + 2);                  /* and "." and ".." */
	}
}

static void grow_case(unsigned bs, bool csum)
{
	setup_work();
	char img[300];
	snprintf(img, sizeof(img), "%s/g%u%d.img", work, bs, csum);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b %u -N 20000 %s %s 64M >/dev/null 2>&1", bs,
		    csum ? "-O metadata_csum" : "-O ^metadata_csum", img), 0);
	int n = bs == 1024 ? 6000 : 8000;
	struct img im;
	struct ext4_fs *fs = NULL;
	CHECK_EQ(img_open(&im, img, 512), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	ext4_journal_batch(fs, true);
	uint32_t d, e, ino;
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "d", 1, 0755, 0, 0, &d), 0);
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "e", 1, 0755, 0, 0, &e), 0);
	char b[128], c[128];
	int bad = 0;
	for (int i = 0; i < n; i++) {
		name_of(b, sizeof(b), "file", i);
		int r = ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino);
		if (r && bad++ < 5)
			printf("  create %s -> %d\n", b, r);
		if (i == 2 * (int)bs / 48)
			CHECK(dir_flags(fs, d) & EXT4_INDEX_FL);   /* one block filled: indexed now */
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(check_names(fs, d, "file", 0, n, 1, true), 0);
	CHECK_EQ(check_names(fs, d, "nothere", 0, n, 7, false), 0);
	CHECK(dir_flags(fs, d) & EXT4_INDEX_FL);
	if (bs == 1024)
		CHECK_EQ(levels_of(fs, d), 1);          /* the root filled up: a second level */
	/* subdirectories in the indexed directory */
	for (int i = 0; i < 50; i++) {
		name_of(b, sizeof(b), "sub", i);
		CHECK_EQ(ext4_mkdir(fs, d, b, strlen(b), 0755, 0, 0, &ino), 0);
	}
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	check_image(img, "/d", n + 50);

	/* remove half, re-add others, move names between two indexed directories */
	CHECK_EQ(img_open(&im, img, 512), 0);
	fs = NULL;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	ext4_journal_batch(fs, true);
	for (int i = 0; i < n; i += 2) {
		name_of(b, sizeof(b), "file", i);
		if (ext4_unlink(fs, d, b, strlen(b)) && bad++ < 5)
			printf("  unlink %s failed\n", b);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(check_names(fs, d, "file", 0, n, 2, false), 0);
	CHECK_EQ(check_names(fs, d, "file", 1, n, 2, true), 0);
	for (int i = 0; i < n / 2; i++) {
		name_of(b, sizeof(b), "again", i);
		if (ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino) && bad++ < 5)
			printf("  create %s failed\n", b);
	}
	for (int i = 0; i < 3000; i++) {
		name_of(b, sizeof(b), "in-e", i);
		if (ext4_create(fs, e, b, strlen(b), 0644, 0, 0, &ino) && bad++ < 5)
			printf("  create %s failed\n", b);
	}
	CHECK(dir_flags(fs, e) & EXT4_INDEX_FL);
	/* d -> e (new names), e -> d over existing names, directories across */
	for (int i = 1; i < n; i += 4) {
		name_of(b, sizeof(b), "file", i);
		name_of(c, sizeof(c), "moved", i);
		if (ext4_rename(fs, d, b, strlen(b), e, c, strlen(c), 0) && bad++ < 5)
			printf("  rename %s failed\n", b);
	}
	for (int i = 0; i < 1000; i++) {
		name_of(b, sizeof(b), "in-e", i);
		name_of(c, sizeof(c), "file", 4 * i + 3);
		if (ext4_rename(fs, e, b, strlen(b), d, c, strlen(c), 0) && bad++ < 5)
			printf("  rename over %s failed\n", c);
	}
	for (int i = 0; i < 50; i += 2) {
		name_of(b, sizeof(b), "sub", i);
		int r = ext4_rename(fs, d, b, strlen(b), e, b, strlen(b), 0);
		if (r && bad++ < 5)
			printf("  rename dir %s failed: %d\n", b, r);
	}
	for (int i = 1; i < 50; i += 2) {
		name_of(b, sizeof(b), "sub", i);
		if (ext4_rmdir(fs, d, b, strlen(b)) && bad++ < 5)
			printf("  rmdir %s failed\n", b);
	}
	name_of(b, sizeof(b), "again", 7);
	CHECK_EQ(ext4_lookup(fs, d, b, strlen(b), &ino), 0);
	CHECK_EQ(ext4_link(fs, ino, e, "hard-link", 9), 0);
	CHECK_EQ(bad, 0);
	/* who is where now */
	int in_d = 0, in_e = 0;
	for (int i = 1; i < n; i += 2) {
		name_of(b, sizeof(b), "file", i);
		bool there = ext4_lookup(fs, d, b, strlen(b), &ino) == 0;
		bool want = i % 4 == 3;           /* 4k+1 moved to e; 4k+3 stay (1000 replaced from e) */
		if (there != want && bad++ < 5)
			printf("  %s in d: %d, want %d\n", b, there, want);
		in_d += there;
	}
	CHECK_EQ(check_names(fs, d, "again", 0, n / 2, 1, true), 0);
	CHECK_EQ(check_names(fs, e, "moved", 1, n, 4, true), 0);
	CHECK_EQ(check_names(fs, e, "in-e", 0, 1000, 1, false), 0);
	CHECK_EQ(check_names(fs, e, "in-e", 1000, 3000, 1, true), 0);
	CHECK_EQ(check_names(fs, e, "sub", 0, 50, 2, true), 0);
	CHECK_EQ(bad, 0);
	in_d += n / 2;
	in_e = (n + 2) / 4 + 2000 + 25 + 1;
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	check_image(img, "/d", in_d);
	check_image(img, "/e", in_e);
}

TEST(grow_1k_csum) { grow_case(1024, true); }
TEST(grow_4k_csum) { grow_case(4096, true); }
TEST(grow_1k_plain) { grow_case(1024, false); }
TEST(grow_4k_plain) { grow_case(4096, false); }

TEST(cleanup)
{
	if (work[0] && !getenv("EXT4_KEEP"))
		sh("rm -rf %s", work);
}
UNIT_TESTS(CASE(grow_1k_csum), CASE(grow_4k_csum), CASE(grow_1k_plain), CASE(grow_4k_plain), CASE(cleanup))
