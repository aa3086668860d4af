// unit-sources: fs/ext4/orphan.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/htree.c fs/ext4/namei.c lib/crc32c.c
/*
 * Incompatible features we do not implement refuse the mount, read-write and read-only alike, as
 * Linux built without them does (a kernel without CONFIG_UNICODE refuses casefold file systems:
 * EINVAL), and the image is left untouched:
 *  - casefold (mkfs.ext4 -O casefold): names compared case-insensitively, directories indexed with
 *    the casefolded names' hashes (siphash when also encrypted); reading them with our byte-exact
 *    lookups would miss names, writing would break their index;
 *  - encrypt (-O encrypt).
 * The same image without the feature (debugfs "feature -casefold" on a fresh one) mounts, so the
 * refusal is the feature's.
 */
#include "tests/unit/ext4_host.h"
#include "fs/ext4/ext4_fs.h"

static void refused(const char *feature)
{
	setup_work("ext4feat");
	char img[300];
	snprintf(img, sizeof(img), "%s/%s.img", work, feature);
	CHECK_EQ(sh("mkfs.ext4 -q -F -O %s %s 8M >/dev/null 2>&1", feature, img), 0);
	CHECK_EQ(sh("dumpe2fs -h %s 2>/dev/null | grep -q 'features:.* %s'", img, feature), 0);
	size_t len, len2;
	uint8_t *before = slurp(img, &len);
	struct img im;
	struct ext4_fs *fs = NULL;
	CHECK_EQ(img_open(&im, img, 512), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), -EINVAL);
	CHECK(fs == NULL);
	CHECK_EQ(ext4_mount(&im.bd, EXT4_MOUNT_RDONLY, &fs), -EINVAL);
	CHECK(fs == NULL);
	CHECK_EQ(im.writes, 0);
	img_close(&im);
	uint8_t *after = slurp(img, &len2);
	CHECK(len == len2 && !memcmp(before, after, len));
	free(before);
	free(after);
	/* without the feature bit the same image mounts */
	CHECK_EQ(sh("debugfs -w -R 'feature -%s' %s >/dev/null 2>&1", feature, img), 0);
	CHECK_EQ(img_open(&im, img, 512), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (fs)
		CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
}

TEST(casefold_refused) { refused("casefold"); }
TEST(encrypt_refused) { refused("encrypt"); }

UNIT_TESTS(CASE(casefold_refused), CASE(encrypt_refused))
