// unit-sources: fs/ext4/orphan.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/htree.c fs/ext4/namei.c lib/crc32c.c
/*
 * A power cut during our own journal replay: replay must be idempotent. A batched transaction of
 * many operations (creates with data, a directory, renames, unlinks, a truncate) is cut right
 * after its commit block reached the log and before its blocks reached their homes, so the image
 * needs recovery. That image is mounted once to the end (the reference: its tree is dumped with
 * debugfs rdump after e2fsck -fn finds it clean). Then, for every write the replaying mount
 * makes, a copy is mounted with the power cut after that write, and mounted again: the second
 * mount must replay again (while the log is still marked in use), e2fsck -fn must be clean and
 * the tree must be the reference's, byte for byte. With journal checksums v3 and without.
 */
#include "tests/unit/ext4_host.h"
#include "fs/ext4/ext4_fs.h"

#define NFILES 24

static void workload(struct ext4_fs *fs, uint32_t dir)
{
	uint8_t buf[9000];
	char n[32], m[32];
	uint32_t ino, sub;
	CHECK_EQ(ext4_mkdir(fs, dir, "sub", 3, 0755, 0, 0, &sub), 0);
	for (int i = 0; i < NFILES; i++) {
		snprintf(n, sizeof(n), "f%d", i);
		size_t len = (size_t)(i * 377 % 9000);
		fill_content(buf, 0, len, (unsigned)i + 5);
		CHECK_EQ(ext4_create(fs, i % 3 ? dir : sub, n, strlen(n), 0644, 0, 0, &ino), 0);
		CHECK_EQ(ext4_write(fs, ino, 0, buf, len), (long)len);
		if (i % 5 == 0)
			CHECK_EQ(ext4_truncate(fs, ino, len / 3), 0);
	}
	for (int i = 1; i < NFILES; i += 6) {
		snprintf(n, sizeof(n), "f%d", i);
		snprintf(m, sizeof(m), "moved%d", i);
		CHECK_EQ(ext4_rename(fs, dir, n, strlen(n), sub, m, strlen(m), 0), 0);
	}
	CHECK_EQ(ext4_unlink(fs, dir, "old", 3), 0);
	CHECK_EQ(ext4_unlink(fs, dir, "f4", 2), 0);
}

static void save(const char *path, const uint8_t *m, size_t len)
{
	FILE *f = fopen(path, "wb");
	fwrite(m, 1, len, f);
	fclose(f);
}

static void replay_cut_case(bool v3)
{
	setup_work("ext4rcut");
	char img[300], tree[300], ref[300], cut[300];
	snprintf(img, sizeof(img), "%s/rc.img", work);
	snprintf(tree, sizeof(tree), "%s/rctree", work);
	snprintf(ref, sizeof(ref), "%s/ref", work);
	snprintf(cut, sizeof(cut), "%s/cut.img", work);
	sh("rm -rf %s %s && mkdir -p %s/c && echo x > %s/c/old", tree, ref, tree, tree);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -d %s %s 16M >/dev/null 2>&1", tree, img), 0);
	if (v3)
		CHECK_EQ(sh("printf 'jo -c\\njc\\n' > %s/v3cmd && debugfs -w -f %s/v3cmd %s >/dev/null 2>&1 && "
			    "dumpe2fs -h %s 2>/dev/null | grep -q journal_checksum_v3", work, work, img, img), 0);
	size_t len;
	uint8_t *orig = slurp(img, &len), *m = malloc(len), *crashed = malloc(len);
	struct img im;
	struct ext4_fs *fs;
	uint32_t dir;

	/* the writes of the batched transaction's commit */
	memcpy(m, orig, len);
	img_mem(&im, m, len, 512);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	ext4_journal_batch(fs, true);
	CHECK_EQ(ext4_lookup_path(fs, "/c", &dir), 0);
	workload(fs, dir);
	long before = im.writes;
	CHECK_EQ(ext4_journal_commit(fs), 0);
	long commit_writes = im.writes - before;
	ext4_umount(fs);

	/* the cut that leaves the most to replay: the first after which a mount replays anything */
	long pick = -1;
	uint32_t most = 0;
	for (long k = 1; k <= commit_writes && pick < 0; k++) {
		memcpy(m, orig, len);
		img_mem(&im, m, len, 512);
		CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
		ext4_journal_batch(fs, true);
		ext4_lookup_path(fs, "/c", &dir);
		workload(fs, dir);
		im.write_budget = im.writes + k;
		ext4_journal_commit(fs);
		im.write_budget = im.writes;          /* the power is gone */
		ext4_umount(fs);
		memcpy(crashed, m, len);
		img_mem(&im, m, len, 512);
		CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
		if (fs && fs->journal_replayed) {
			pick = k;
			most = fs->journal_replayed;
		}
		if (fs)
			ext4_umount(fs);
	}
	CHECK(pick > 0 && most > 8);
	printf("  cut after %ld of %ld commit writes: %u blocks to replay\n", pick, commit_writes, most);
	if (pick < 0)
		return;

	/* the reference: one replay to the end */
	memcpy(m, crashed, len);
	img_mem(&im, m, len, 512);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	long replay_writes = im.writes;          /* the replay, the journal superblock, our superblock */
	CHECK_EQ(ext4_umount(fs), 0);
	save(cut, m, len);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", cut), 0);
	CHECK_EQ(sh("mkdir -p %s && debugfs -R 'rdump /c %s' %s >/dev/null 2>&1", ref, ref, cut), 0);
	char refc[320];
	snprintf(refc, sizeof(refc), "%s/c", ref);
	CHECK_EQ(sh("test -f %s/sub/moved1 && test -f %s/sub/f3 && test -f %s/f2 && ! test -e %s/old", refc, refc, refc, refc), 0);

	/* a cut after each write of the replaying mount, then a full mount */
	int again = 0;
	for (long j = 1; j <= replay_writes; j++) {
		memcpy(m, crashed, len);
		img_mem(&im, m, len, 512);
		im.write_budget = j;
		CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
		im.write_budget = im.writes;
		if (fs)
			ext4_umount(fs);
		img_mem(&im, m, len, 512);
		CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
		if (!fs)
			break;
		if (fs->journal_replayed)
			again++;
		uint32_t c;
		long files = 0;
		cmp_failures = 0;
		CHECK_EQ(ext4_lookup_path(fs, "/c", &c), 0);
		cmp_tree(fs, c, refc, &files);
		if (cmp_failures)
			printf("  cut after replay write %ld of %ld: the tree differs\n", j, replay_writes);
		CHECK_EQ(cmp_failures, 0);
		CHECK(files >= NFILES - 2);
		CHECK_EQ(ext4_umount(fs), 0);
		save(cut, m, len);
		int fsck = sh("e2fsck -fn %s >/dev/null 2>&1", cut);
		if (fsck)
			printf("  cut after replay write %ld of %ld: e2fsck -fn says %d\n", j, replay_writes, fsck);
		CHECK_EQ(fsck, 0);
	}
	/* every cut before the log was marked empty replays again */
	printf("  %ld cuts during the replaying mount, %d replayed again\n", replay_writes, again);
	CHECK(again >= (int)most);
	free(orig);
	free(m);
	free(crashed);
}

TEST(replay_cut_plain) { replay_cut_case(false); }
TEST(replay_cut_csum_v3) { replay_cut_case(true); }

UNIT_TESTS(CASE(replay_cut_plain), CASE(replay_cut_csum_v3))
