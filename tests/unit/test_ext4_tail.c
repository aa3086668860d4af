// unit-sources: fs/ext4/orphan.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/htree.c fs/ext4/namei.c lib/crc32c.c
/*
 * The bytes past end-of-file in the last block are zero on disk, so that whatever makes the file
 * longer again (truncate up, a write past the end leaving a gap, fallocate) reads zeros there, as
 * Linux guarantees:
 *  - truncate down to a size inside a block zeroes the rest of that block in place before the size
 *    change commits (checked on the device block itself);
 *  - a truncate cut by a power failure at every write it makes: after our mount replays the journal
 *    the file is either the old one or the short one, and extending the short one reads zeros;
 *  - an append cut before its size commits leaves its bytes past end-of-file in the block: the next
 *    extension (truncate up, or a write further on) must still read zeros there (Linux zeroes the
 *    old last block's tail when the size grows).
 * 1 KiB and 4 KiB blocks; e2fsck -fn clean at the end.
 */
#include "tests/unit/ext4_host.h"
#include "fs/ext4/ext4_fs.h"

#define FILL 0xA5

static int mkimg(const char *name, uint32_t bs, char *img, size_t n)
{
	setup_work("ext4tail");
	snprintf(img, n, "%s/%s", work, name);
	return sh("mkfs.ext4 -q -F -b %u %s 8M >/dev/null 2>&1", bs, img);
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Device bytes of file block lblk (through ext4_bmap, not the file read path). */
static int dev_block(struct img *im, struct ext4_fs *fs, uint32_t ino, uint64_t lblk, uint8_t *out)
{
	uint64_t pblk;
	int r = ext4_bmap(fs, ino, lblk, &pblk);
	if (r < 0 || !pblk)
		return -1;
	uint32_t bs = ext4_block_size(fs);
	return im->bd.read_blocks(&im->bd, pblk * (bs / im->bd.block_size), bs / im->bd.block_size, out);
}

/* The file holds `keep` bytes of FILL, then zeros up to `size`. */
static bool reads_as(struct ext4_fs *fs, uint32_t ino, uint64_t keep, uint64_t size)
{
	uint8_t *b = malloc(size + 16);
	long got = ext4_read(fs, ino, 0, b, size + 16);
	bool ok = got == (long)size;
	for (uint64_t i = 0; ok && i < size; i++)
		ok = b[i] == (i < keep ? FILL : 0);
	free(b);
	return ok;
}

static void tail_case(uint32_t bs)
{
	char img[300];
	CHECK_EQ(mkimg("tail.img", bs, img, sizeof(img)), 0);
	struct img im;
	CHECK_EQ(img_open(&im, img, 512), 0);
	struct ext4_fs *fs;
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	uint32_t ino, ino2;
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "f", 1, 0644, 0, 0, &ino), 0);
	uint8_t *buf = malloc(4 * bs), *blk = malloc(bs);
	memset(buf, FILL, 4 * bs);
	CHECK_EQ(ext4_write(fs, ino, 0, buf, 3 * bs), (long)(3 * bs));
	/* down into block 1: its tail is zero on the device */
	CHECK_EQ(ext4_truncate(fs, ino, bs + 100), 0);
	CHECK_EQ(dev_block(&im, fs, ino, 1, blk), 0);
	CHECK(blk[99] == FILL && all_zero(blk + 100, bs - 100));
	/* up again with a hole: zeros from bs+100 */
	CHECK_EQ(ext4_truncate(fs, ino, 3 * bs + 5), 0);
	CHECK(reads_as(fs, ino, bs + 100, 3 * bs + 5));
	/* down into block 0, then a write past the end leaving a gap */
	CHECK_EQ(ext4_truncate(fs, ino, 17), 0);
	CHECK_EQ(ext4_write(fs, ino, 2 * bs, buf, 1), 1);
	uint8_t *b = malloc(2 * bs + 1);
	CHECK_EQ(ext4_read(fs, ino, 0, b, 2 * bs + 1), (long)(2 * bs + 1));
	CHECK(b[16] == FILL && all_zero(b + 17, 2 * bs - 17) && b[2 * bs] == FILL);
	free(b);
	/* fallocate past a mid-block end */
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "g", 1, 0644, 0, 0, &ino2), 0);
	CHECK_EQ(ext4_write(fs, ino2, 0, buf, bs + bs / 2), (long)(bs + bs / 2));
	CHECK_EQ(ext4_truncate(fs, ino2, bs + 1), 0);
	CHECK_EQ(ext4_fallocate(fs, ino2, false, 0, 3 * bs), 0);
	CHECK(reads_as(fs, ino2, bs + 1, 3 * bs));
	/* bytes past the end left in the block by a cut append (written straight to the device, as
	 * the data of an append whose size never committed): an extension must not show them */
	CHECK_EQ(ext4_truncate(fs, ino2, bs + 1), 0);
	CHECK_EQ(dev_block(&im, fs, ino2, 1, blk), 0);
	uint64_t pblk;
	CHECK_EQ(ext4_bmap(fs, ino2, 1, &pblk), 0);
	memset(blk + 1, 0x77, bs - 1);
	CHECK_EQ(im.bd.write_blocks(&im.bd, pblk * (bs / 512), bs / 512, blk), 0);
	CHECK_EQ(ext4_truncate(fs, ino2, 2 * bs), 0);
	CHECK(reads_as(fs, ino2, bs + 1, 2 * bs));
	CHECK_EQ(ext4_truncate(fs, ino2, bs + 1), 0);
	memset(blk + 1, 0x77, bs - 1);
	CHECK_EQ(im.bd.write_blocks(&im.bd, pblk * (bs / 512), bs / 512, blk), 0);
	CHECK_EQ(ext4_write(fs, ino2, 3 * bs, buf, 2), 2);       /* a gap after the old end */
	b = malloc(3 * bs + 2);
	CHECK_EQ(ext4_read(fs, ino2, 0, b, 3 * bs + 2), (long)(3 * bs + 2));
	CHECK(b[bs] == FILL && all_zero(b + bs + 1, 2 * bs - 1) && b[3 * bs] == FILL);
	free(b);
	CHECK_EQ(ext4_truncate(fs, ino2, bs + 1), 0);
	memset(blk + 1, 0x77, bs - 1);
	CHECK_EQ(im.bd.write_blocks(&im.bd, pblk * (bs / 512), bs / 512, blk), 0);
	CHECK_EQ(ext4_write(fs, ino2, bs + 10, buf, 3), 3);      /* a gap inside the old last block */
	b = malloc(bs + 13);
	CHECK_EQ(ext4_read(fs, ino2, 0, b, bs + 13), (long)(bs + 13));
	CHECK(b[bs] == FILL && all_zero(b + bs + 1, 9) && b[bs + 10] == FILL && b[bs + 12] == FILL);
	free(b);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	free(buf);
	free(blk);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
}

TEST(truncate_zeroes_tail_1k) { tail_case(1024); }
TEST(truncate_zeroes_tail_4k) { tail_case(4096); }

/*
 * A power cut at every write of "truncate 3 blocks of FILL down to bs+100": after our mount (and
 * its replay) the size is 3*bs (the truncate lost) or bs+100 (committed), e2fsck is clean, and
 * truncating up to 3*bs reads FILL up to the size and zeros after. Then the same for an append of
 * FILL at a mid-block end, cut at every write: an extension afterwards reads zeros past the size.
 */
static void cut_case(uint32_t bs, bool append)
{
	char img[300], cut[320];
	CHECK_EQ(mkimg("cut.img", bs, img, sizeof(img)), 0);
	snprintf(cut, sizeof(cut), "%s/cut-now.img", work);
	size_t len;
	uint8_t *orig, *m;
	struct img im;
	struct ext4_fs *fs;
	uint32_t ino;
	uint8_t *buf = malloc(3 * bs);
	memset(buf, FILL, 3 * bs);
	/* the starting image: f holds 3 blocks of FILL (or bs+100 bytes to append to) */
	CHECK_EQ(img_open(&im, img, 512), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	CHECK_EQ(ext4_create(fs, EXT4_ROOT_INO, "f", 1, 0644, 0, 0, &ino), 0);
	uint64_t start = append ? bs + 100 : 3 * bs, after = append ? bs + 700 : bs + 100;
	CHECK_EQ(ext4_write(fs, ino, 0, buf, start), (long)start);
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	orig = slurp(img, &len);
	m = malloc(len);
	/* how many writes the operation makes */
	memcpy(m, orig, len);
	img_mem(&im, m, len, 512);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	long w0 = im.writes;
	if (append)
		CHECK_EQ(ext4_write(fs, ino, start, buf, after - start), (long)(after - start));
	else
		CHECK_EQ(ext4_truncate(fs, ino, after), 0);
	long ops = im.writes - w0;
	ext4_umount(fs);
	CHECK(ops > 2);
	int old_seen = 0, new_seen = 0;
	for (long k = 0; k <= ops; k++) {
		memcpy(m, orig, len);
		img_mem(&im, m, len, 512);
		CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
		if (!fs)
			break;
		im.write_budget = im.writes + k;         /* the mount wrote the superblock: > 0 */
		if (append)
			ext4_write(fs, ino, start, buf, after - start);
		else
			ext4_truncate(fs, ino, after);
		/* the power is gone: drop the mount's memory without writing anything more */
		im.write_budget = im.writes;
		ext4_umount(fs);
		img_mem(&im, m, len, 512);
		CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);        /* replays what committed */
		if (!fs)
			break;
		struct ext4_stat st;
		CHECK_EQ(ext4_stat(fs, ino, &st), 0);
		if (st.size == start)
			old_seen++;
		else if (st.size == after)
			new_seen++;
		else
			CHECK(!"size neither old nor new");
		uint64_t size = st.size;
		CHECK_EQ(ext4_truncate(fs, ino, 3 * bs), 0);
		bool ok = reads_as(fs, ino, size, 3 * bs);
		if (!ok && !append && size == start) {
			/* the truncate lost, but its zeroing of the new last block's tail (done before the
			 * commit, as Linux's ordered data) may be on the disk: that whole range is zero */
			uint8_t *z = malloc(bs);
			uint64_t end = (after | (bs - 1)) + 1;
			ok = ext4_read(fs, ino, after, z, end - after) == (long)(end - after) &&
			     all_zero(z, end - after);
			uint8_t *all = malloc(3 * bs);
			ok = ok && ext4_read(fs, ino, 0, all, 3 * bs) == (long)(3 * bs);
			for (uint64_t i = 0; ok && i < 3 * bs; i++)
				ok = all[i] == ((i >= after && i < end) ? 0 : FILL);
			free(all);
			free(z);
		}
		if (!ok)
			printf("  cut after %ld of %ld writes: size %llu, not zeros past it\n", k, ops,
			       (unsigned long long)size);
		CHECK(ok);
		CHECK_EQ(ext4_umount(fs), 0);
		FILE *f = fopen(cut, "wb");
		fwrite(m, 1, len, f);
		fclose(f);
		CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", cut), 0);
	}
	CHECK(old_seen > 0 && new_seen > 0);
	free(orig);
	free(m);
	free(buf);
}

TEST(truncate_cut_1k) { cut_case(1024, false); }
TEST(truncate_cut_4k) { cut_case(4096, false); }
TEST(append_cut_1k) { cut_case(1024, true); }
TEST(append_cut_4k) { cut_case(4096, true); }

UNIT_TESTS(CASE(truncate_zeroes_tail_1k), CASE(truncate_zeroes_tail_4k), CASE(truncate_cut_1k),
	   CASE(truncate_cut_4k), CASE(append_cut_1k), CASE(append_cut_4k))
