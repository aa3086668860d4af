// unit-sources: fs/ext4/orphan.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/htree.c fs/ext4/namei.c lib/crc32c.c
/*
 * Operations bigger than the journal: on a 1 GiB file system of 1 KiB blocks with 512 blocks per
 * group (2048 groups, a 1 MiB journal: about 1000 blocks per transaction), a fallocate of 900 MiB
 * changes some 1900 bitmaps and descriptor blocks, as do a truncate and an unlink of that file.
 * Each must succeed, split into several commits (ext4_tx_restart), each a valid file system: a
 * power cut after any write of the operation leaves, after our mount's replay (and orphan
 * cleanup), an image e2fsck -fn finds clean, with the file in one of the states the operation
 * passes through (fallocate: allocated up to some point, the size following it, as Linux's; truncate:
 * a prefix of the file, data intact; unlink: the file whole, or gone with every block back).
 * Batched commits, as the VFS mounts.
 */
#include "tests/unit/ext4_host.h"
#include "fs/ext4/ext4_fs.h"

#define MiB (1024ull * 1024)
#define BIG (9500 * MiB)
#define DATA (64 * 1024)             /* written at the start of the file */
#define TRUNC_TO 1000
#define CUTS 10

enum op { OP_FALLOCATE, OP_TRUNCATE, OP_UNLINK };

static char img[300], base[300], work_img[300];

static int do_op(struct ext4_fs *fs, enum op op)
{
	uint32_t ino;
	int r = ext4_lookup(fs, EXT4_ROOT_INO, "big", 3, &ino);
	if (r < 0)
		return r;
	switch (op) {
	case OP_FALLOCATE:
		return ext4_fallocate(fs, ino, false, 0, BIG);
	case OP_TRUNCATE:
		return ext4_truncate(fs, ino, TRUNC_TO);
	default:
		return ext4_unlink(fs, EXT4_ROOT_INO, "big", 3);
	}
}

static struct ext4_fs *mount_img(struct img *im, const char *path)
{
	struct ext4_fs *fs = NULL;
	if (img_open(im, path, 512) < 0)
		return NULL;
	CHECK_EQ(ext4_mount(&im->bd, 0, &fs), 0);
	if (fs)
		ext4_journal_batch(fs, true);
	return fs;
}

/* The state after a cut (already replayed by our mount): valid for the operation? */
static bool state_ok(struct ext4_fs *fs, enum op op, uint64_t free_before, uint64_t free_gone)
{
	uint32_t ino;
	struct ext4_stat st;
	uint8_t want[DATA], got[DATA];
	int r = ext4_lookup(fs, EXT4_ROOT_INO, "big", 3, &ino);
	if (op == OP_UNLINK && r == -ENOENT) {
		struct ext4_statfs sf;
		ext4_statfs(fs, &sf);
		if (sf.free_blocks != free_gone)
			printf("  unlinked: %llu free blocks, want %llu\n", (unsigned long long)sf.free_blocks,
			       (unsigned long long)free_gone);
		return sf.free_blocks == free_gone;
	}
	if (r < 0 || ext4_stat(fs, ino, &st) < 0)
		return false;
	fill_content(want, 0, DATA, 3);
	switch (op) {
	case OP_FALLOCATE:
		if (st.size < DATA || st.size > BIG)
			return false;
		return ext4_read(fs, ino, 0, got, DATA) == DATA && !memcmp(got, want, DATA);
	case OP_TRUNCATE:
		if (st.size < TRUNC_TO || st.size > BIG)
			return false;
		return ext4_read(fs, ino, 0, got, TRUNC_TO) == TRUNC_TO && !memcmp(got, want, TRUNC_TO);
	default:
		(void)free_before;
		return st.size == BIG && ext4_read(fs, ino, 0, got, DATA) == DATA && !memcmp(got, want, DATA);
	}
}

static void op_case(enum op op)
{
	setup_work("ext4bigtx");
	snprintf(img, sizeof(img), "%s/big.img", work);
	snprintf(base, sizeof(base), "%s/base.img", work);
	snprintf(work_img, sizeof(work_img), "%s/cut.img", work);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b 1024 -N 16384 -J size=1 -E lazy_itable_init=1 %s 10G >/dev/null 2>&1", img), 0);
	struct img im;
	struct ext4_fs *fs = mount_img(&im, img);
	if (!fs)
		return;
	struct ext4_statfs sf;
	ext4_statfs(fs, &sf);
	uint64_t free_gone = sf.free_blocks;           /* the file's blocks all back after the unlink */
	uint32_t ino;
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "big", 3, 0644, 0, 0, &ino), 0);
	uint8_t data[DATA];
	fill_content(data, 0, DATA, 3);
	CHECK_EQ(ext4_write(fs, ino, 0, data, DATA), DATA);
	if (op != OP_FALLOCATE)
		CHECK_EQ(ext4_fallocate(fs, ino, false, 0, BIG), 0);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	CHECK_EQ(sh("cp --sparse=always %s %s", img, base), 0);

	/* the whole operation: it succeeds, in several commits */
	fs = mount_img(&im, img);
	if (!fs)
		return;
	ext4_statfs(fs, &sf);
	uint64_t free_before = sf.free_blocks;
	uint32_t c0 = ext4_journal_commits(fs);
	long w0 = im.writes;
	CHECK_EQ(do_op(fs, op), 0);
	CHECK_EQ(ext4_journal_commit(fs), 0);
	long writes = im.writes - w0;
	uint32_t commits = ext4_journal_commits(fs) - c0;
	printf("  op %d: %ld writes, %u commits\n", (int)op, writes, commits);
	CHECK(commits >= 3);
	CHECK(state_ok(fs, op, free_before, free_gone));
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);

	/* a power cut after k of its writes, for CUTS values of k spread over it */
	int bad = 0;
	for (int c = 0; c < CUTS; c++) {
		long k = 1 + (writes - 1) * c / (CUTS - 1);
		CHECK_EQ(sh("cp --sparse=always %s %s", base, work_img), 0);
		fs = mount_img(&im, work_img);
		if (!fs)
			break;
		im.write_budget = im.writes + k;
		do_op(fs, op);
		ext4_journal_commit(fs);
		im.write_budget = im.writes;           /* the power is gone */
		ext4_umount(fs);
		img_close(&im);
		fs = mount_img(&im, work_img);         /* replay, orphan cleanup */
		if (!fs)
			break;
		bool ok = state_ok(fs, op, free_before, free_gone);
		CHECK_EQ(ext4_umount(fs), 0);
		img_close(&im);
		int fsck = sh("e2fsck -fn %s >/dev/null 2>&1", work_img);
		if (!ok || fsck) {
			printf("  op %d cut after %ld of %ld writes: state %s, e2fsck %d\n", (int)op, k, writes,
			       ok ? "ok" : "WRONG", fsck);
			if (fsck && bad == 0)
				sh("e2fsck -fn %s 2>&1 | head -20", work_img);
			bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

TEST(fallocate_bigger_than_the_journal) { op_case(OP_FALLOCATE); }
TEST(truncate_bigger_than_the_journal) { op_case(OP_TRUNCATE); }
TEST(unlink_bigger_than_the_journal) { op_case(OP_UNLINK); }

UNIT_TESTS(CASE(fallocate_bigger_than_the_journal), CASE(truncate_bigger_than_the_journal),
	   CASE(unlink_bigger_than_the_journal))
