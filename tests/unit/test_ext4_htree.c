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
	setup_work("htree");
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
	/* our readdir walks what we built: every name once */
	struct rd_count rc = { 0, 0 };
	uint64_t cookie = 0;
	CHECK_EQ(ext4_readdir(fs, d, &cookie, rd_count_cb, &rc), 0);
	CHECK_EQ(rc.n, in_d);
	CHECK_EQ(rc.dots, 2);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	check_image(img, "/d", in_d);
	check_image(img, "/e", in_e);
}


/*
 * A directory indexed by e2fsprogs (mkfs.ext4 -d, e2fsck -fyD) with the given hash algorithm,
 * signed or unsigned (s_flags), names with bytes >= 0x80 among them: Ember finds every name,
 * adds, removes and renames through that index, and e2fsck must still find it clean.
 */
static void e2fs_case(const char *alg, bool unsig)
{
	setup_work("htree");
	char tree[300], img[300], p[600], b[128], c[128];
	int n = 2500;
	snprintf(tree, sizeof(tree), "%s/tree", work);
	snprintf(img, sizeof(img), "%s/x-%s-%d.img", work, alg, unsig);
	static bool made;
	if (!made) {
		sh("rm -rf %s && mkdir -p %s/big", tree, tree);
		for (int i = 0; i < n; i++) {
			name_of(b, sizeof(b), i % 5 ? "orig" : "\xc3\xa9t\xc3\xa9", i);
			snprintf(p, sizeof(p), "%s/big/%s", tree, b);
			host_file(p, 0, 0);
		}
		made = true;
	}
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -N 12000 -d %s %s 64M >/dev/null 2>&1", tree, img), 0);
	/* e2fsck -D indexes with s_def_hash_version; s_flags 2: unsigned, 1: signed */
	CHECK_EQ(sh("debugfs -w -R 'ssv def_hash_version %s' %s >/dev/null 2>&1", alg, img), 0);
	CHECK_EQ(sh("debugfs -w -R 'ssv flags %d' %s >/dev/null 2>&1", unsig ? 2 : 1, img), 0);
	int r = sh("e2fsck -fyD %s >/dev/null 2>&1", img);
	CHECK(r == 0 || r == 1);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
	struct img im;
	struct ext4_fs *fs = NULL;
	CHECK_EQ(img_open(&im, img, 1024), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	ext4_journal_batch(fs, true);
	uint32_t d, ino;
	CHECK_EQ(ext4_lookup_path(fs, "/big", &d), 0);
	CHECK(dir_flags(fs, d) & EXT4_INDEX_FL);
	int bad = 0;
	for (int i = 0; i < n; i++) {
		name_of(b, sizeof(b), i % 5 ? "orig" : "\xc3\xa9t\xc3\xa9", i);
		if (ext4_lookup(fs, d, b, strlen(b), &ino) && bad++ < 5)
			printf("  lookup %s failed\n", b);
	}
	for (int i = 0; i < 2000; i++) {
		name_of(b, sizeof(b), i % 3 ? "new" : "n\xc3\xbc", i);
		if (ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino) && bad++ < 5)
			printf("  create %s failed\n", b);
	}
	for (int i = 0; i < n; i += 3) {
		name_of(b, sizeof(b), i % 5 ? "orig" : "\xc3\xa9t\xc3\xa9", i);
		if (ext4_unlink(fs, d, b, strlen(b)) && bad++ < 5)
			printf("  unlink %s failed\n", b);
	}
	for (int i = 1; i < 2000; i += 3) {
		name_of(b, sizeof(b), i % 3 ? "new" : "n\xc3\xbc", i);
		name_of(c, sizeof(c), "renamed", i);
		if (ext4_rename(fs, d, b, strlen(b), d, c, strlen(c), 0) && bad++ < 5)
			printf("  rename %s failed\n", b);
	}
	CHECK_EQ(check_names(fs, d, "renamed", 1, 2000, 3, true), 0);
	CHECK_EQ(check_names(fs, d, "new", 1, 2000, 3, false), 0);
	CHECK_EQ(bad, 0);
	int left = n - (n + 2) / 3 + 2000;
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	check_image(img, "/big", left);
	int ver = strcmp(alg, "legacy") == 0 ? 0 : strcmp(alg, "half_md4") == 0 ? 1 : 2;
	CHECK_EQ(sh("grep -q 'Hash Version: %d' %s/htree.out", ver, work), 0);   /* the algorithm asked for */
}

TEST(e2fs_indexed_legacy) { e2fs_case("legacy", false); }
TEST(e2fs_indexed_half_md4) { e2fs_case("half_md4", false); }
TEST(e2fs_indexed_tea) { e2fs_case("tea", false); }
TEST(e2fs_indexed_legacy_unsigned) { e2fs_case("legacy", true); }
TEST(e2fs_indexed_half_md4_unsigned) { e2fs_case("half_md4", true); }
TEST(e2fs_indexed_tea_unsigned) { e2fs_case("tea", true); }

/*
 * Names of equal hash. Long names (3 to a 1 KiB leaf) found by a birthday search with the
 * file system's own hash (half-MD4, its seed) pair up; created in an order that puts pairs side
 * by side, splits must fall between equal hashes, so the index gets entries with the
 * continuation bit, and lookups have to follow it into the next leaf. e2fsck recomputes the hashes.
 */
struct hn { uint32_t h; uint32_t i; };
static int hn_cmp(const void *a, const void *b)
{
	const struct hn *x = a, *y = b;
	return x->h < y->h ? -1 : x->h > y->h ? 1 : (x->i < y->i ? -1 : x->i > y->i);
}

static void long_name(char *b, size_t n, uint32_t i)
{
	char pad[241];
	memset(pad, 'x', 240);
	pad[240] = 0;
	snprintf(b, n, "%s-%u", pad, i);
}

TEST(hash_collisions)
{
	setup_work("htree");
	char img[300], b[300];
	snprintf(img, sizeof(img), "%s/coll.img", work);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -N 4000 -O metadata_csum %s 32M >/dev/null 2>&1", img), 0);
	CHECK_EQ(sh("debugfs -w -R 'ssv def_hash_version half_md4' %s >/dev/null 2>&1", img), 0);
	struct img im;
	struct ext4_fs *fs = NULL;
	CHECK_EQ(img_open(&im, img, 1024), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	unsigned ver = EXT4_DX_HASH_HALF_MD4;
	/* the superblock through the internal structure (ext4_fs.h): seed and signedness */
	struct ext4_fs *f = fs;
	if (f->sb.s_flags & EXT2_FLAGS_UNSIGNED_HASH)
		ver += EXT4_DX_HASH_LEGACY_UNSIGNED;
	CHECK_EQ(f->sb.s_def_hash_version, EXT4_DX_HASH_HALF_MD4);
	uint32_t N = 400000;
	struct hn *v = malloc(N * sizeof(*v));
	for (uint32_t i = 0; i < N; i++) {
		long_name(b, sizeof(b), i);
		CHECK_EQ(ext4_dx_hash(b, strlen(b), ver, f->sb.s_hash_seed, &v[i].h), 0);
		v[i].i = i;
	}
	qsort(v, N, sizeof(*v), hn_cmp);
	uint32_t pairs[64][2];
	int np = 0;
	for (uint32_t k = 1; k < N && np < 64; k++)
		if (v[k].h == v[k - 1].h && (k < 2 || v[k - 2].h != v[k].h))
			pairs[np][0] = v[k - 1].i, pairs[np][1] = v[k].i, np++;
	free(v);
	CHECK(np >= 8);
	printf("  %d colliding pairs\n", np);
	uint32_t d, ino;
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "c", 1, 0755, 0, 0, &d), 0);
	int bad = 0;
	/* pairs, each followed by one ordinary long name */
	for (int k = 0; k < np; k++) {
		for (int j = 0; j < 3; j++) {
			long_name(b, sizeof(b), j < 2 ? pairs[k][j] : 1000000 + (uint32_t)k);
			if (ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino) && bad++ < 5)
				printf("  create %d/%d failed\n", k, j);
		}
	}
	CHECK_EQ(bad, 0);
	for (int k = 0; k < np; k++) {
		for (int j = 0; j < 3; j++) {
			long_name(b, sizeof(b), j < 2 ? pairs[k][j] : 1000000 + (uint32_t)k);
			if (ext4_lookup(fs, d, b, strlen(b), &ino) && bad++ < 5)
				printf("  lookup %d/%d failed\n", k, j);
		}
	}
	CHECK_EQ(bad, 0);
	/* remove the first of each pair: the second must still be found across the continuation */
	for (int k = 0; k < np; k++) {
		long_name(b, sizeof(b), pairs[k][0]);
		CHECK_EQ(ext4_unlink(fs, d, b, strlen(b)), 0);
		long_name(b, sizeof(b), pairs[k][1]);
		if (ext4_lookup(fs, d, b, strlen(b), &ino) && bad++ < 5)
			printf("  lookup second of %d failed\n", k);
		long_name(b, sizeof(b), pairs[k][0]);
		CHECK_EQ(ext4_lookup(fs, d, b, strlen(b), &ino), -ENOENT);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	check_image(img, "/c", 2 * np);
	/* the index has entries with the continuation bit (an odd hash) */
	CHECK_EQ(sh("grep -q 'Hash 0x[0-9a-f]*[13579bdf], block' %s/htree.out", work), 0);
}


/*
 * The depth limit: 1 KiB blocks and 250-byte names (three to a leaf) fill a two-level index
 * (root and one level of nodes) until the insert gets -ENOSPC ("Directory index full"), as
 * without largedir; then `tune2fs -O large_dir` allows a third level and the same directory
 * grows on. e2fsck checks both.
 */
TEST(index_depth_largedir)
{
	setup_work("htree");
	char img[300], b[300];
	snprintf(img, sizeof(img), "%s/deep.img", work);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -N 48000 -O metadata_csum %s 128M >/dev/null 2>&1", img), 0);
	struct img im;
	struct ext4_fs *fs = NULL;
	CHECK_EQ(img_open(&im, img, 1024), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	ext4_journal_batch(fs, true);
	uint32_t d, ino;
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "d", 1, 0755, 0, 0, &d), 0);
	int n = 0, r = 0;
	while (n < 60000) {
		long_name(b, sizeof(b), (uint32_t)n);
		r = ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino);
		if (r)
			break;
		n++;
	}
	printf("  %d names before %d\n", n, r);
	CHECK_EQ(r, -ENOSPC);
	CHECK(n > 10000);                       /* ~20k: nodes split half full, the fill varies with the seed */
	CHECK_EQ(levels_of(fs, d), 1);
	int bad = 0;
	for (int i = 0; i < n; i += 7) {
		long_name(b, sizeof(b), (uint32_t)i);
		if (ext4_lookup(fs, d, b, strlen(b), &ino) && bad++ < 5)
			printf("  lookup %d failed\n", i);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	check_image(img, "/d", n);
	CHECK_EQ(sh("tune2fs -O large_dir %s >/dev/null 2>&1", img), 0);
	CHECK_EQ(img_open(&im, img, 1024), 0);
	fs = NULL;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	ext4_journal_batch(fs, true);
	for (int i = n; i < n + 3000; i++) {
		long_name(b, sizeof(b), (uint32_t)i);
		if (ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino) && bad++ < 5)
			printf("  create %d failed\n", i);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(levels_of(fs, d), 2);
	for (int i = 0; i < n + 3000; i += 5) {
		long_name(b, sizeof(b), (uint32_t)i);
		if (ext4_lookup(fs, d, b, strlen(b), &ino) && bad++ < 5)
			printf("  lookup %d failed\n", i);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	check_image(img, "/d", n + 3000);
}

/* Without dir_index a directory stays linear however large it grows (Linux's ext4_add_entry). */
TEST(no_dir_index_stays_linear)
{
	setup_work("htree");
	char img[300], b[128];
	snprintf(img, sizeof(img), "%s/lin.img", work);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -N 4000 -O ^dir_index %s 32M >/dev/null 2>&1", img), 0);
	struct img im;
	struct ext4_fs *fs = NULL;
	CHECK_EQ(img_open(&im, img, 1024), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	ext4_journal_batch(fs, true);
	uint32_t d, ino;
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "d", 1, 0755, 0, 0, &d), 0);
	int bad = 0;
	for (int i = 0; i < 600; i++) {
		name_of(b, sizeof(b), "f", i);
		if (ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino) && bad++ < 5)
			printf("  create %s failed\n", b);
	}
	CHECK_EQ(bad, 0);
	CHECK(!(dir_flags(fs, d) & EXT4_INDEX_FL));
	CHECK_EQ(check_names(fs, d, "f", 0, 600, 1, true), 0);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
}

/*
 * A damaged index is caught, not followed: a dx root whose checksum no longer matches, or whose
 * count is above its limit, gives -EUCLEAN on every lookup and the mount turns read-only
 * (errors=remount-ro), so inserts get -EROFS.
 */
static void corrupt_case(int what)
{
	setup_work("htree");
	char img[300], b[128];
	snprintf(img, sizeof(img), "%s/bad%d.img", work, what);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -N 4000 -O metadata_csum %s 32M >/dev/null 2>&1", img), 0);
	struct img im;
	struct ext4_fs *fs = NULL;
	CHECK_EQ(img_open(&im, img, 1024), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	uint32_t d, ino;
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "d", 1, 0755, 0, 0, &d), 0);
	for (int i = 0; i < 300; i++) {
		name_of(b, sizeof(b), "f", i);
		CHECK_EQ(ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino), 0);
	}
	uint64_t root;
	CHECK_EQ(ext4_bmap(fs, d, 0, &root), 0);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	/* the root: count/limit at 32, entries from 36; info at 24 */
	int fd = open(img, O_RDWR);
	uint8_t blk[1024];
	CHECK_EQ(pread(fd, blk, 1024, (off_t)root * 1024), 1024);
	uint16_t count;
	memcpy(&count, blk + 34, 2);
	CHECK(count > 2);
	if (what == 0) {
		blk[40] ^= 0x40;                         /* a hash: the dx_tail checksum fails */
	} else {
		uint16_t big = 1000;                     /* count above limit */
		memcpy(blk + 34, &big, 2);
	}
	CHECK_EQ(pwrite(fd, blk, 1024, (off_t)root * 1024), 1024);
	close(fd);
	CHECK_EQ(img_open(&im, img, 1024), 0);
	fs = NULL;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	int found = 0, eu = 0;
	for (int i = 0; i < 300; i++) {
		name_of(b, sizeof(b), "f", i);
		int r = ext4_lookup(fs, d, b, strlen(b), &ino);
		found += r == 0;
		eu += r == -EUCLEAN;
	}
	CHECK_EQ(found, 0);
	CHECK_EQ(eu, 300);
	CHECK(ext4_is_readonly(fs));
	CHECK_EQ(ext4_create(fs, d, "new", 3, 0644, 0, 0, &ino), -EROFS);
	ext4_umount(fs);
	img_close(&im);
}

TEST(corrupt_index_csum) { corrupt_case(0); }
TEST(corrupt_index_count) { corrupt_case(1); }

TEST(grow_1k_csum) { grow_case(1024, true); }
TEST(grow_4k_csum) { grow_case(4096, true); }
TEST(grow_1k_plain) { grow_case(1024, false); }
TEST(grow_4k_plain) { grow_case(4096, false); }

TEST(cleanup)
{
	if (work[0] && !getenv("EXT4_KEEP"))
		sh("rm -rf %s", work);
}
UNIT_TESTS(CASE(grow_1k_csum), CASE(grow_4k_csum), CASE(grow_1k_plain), CASE(grow_4k_plain), CASE(e2fs_indexed_legacy),
	   CASE(e2fs_indexed_half_md4), CASE(e2fs_indexed_tea), CASE(e2fs_indexed_legacy_unsigned),
	   CASE(e2fs_indexed_half_md4_unsigned), CASE(e2fs_indexed_tea_unsigned), CASE(hash_collisions),
	   CASE(index_depth_largedir), CASE(no_dir_index_stays_linear),
	   CASE(corrupt_index_csum), CASE(corrupt_index_count), CASE(cleanup))
