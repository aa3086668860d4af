// unit-sources: fs/ext4/orphan.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/htree.c fs/ext4/namei.c lib/crc32c.c
/*
 * readdir of an indexed (htree) directory in hash order, as Linux's ext4_dx_readdir: the cookie
 * is a hash position, so a directory changed between two readdir calls (names added, which splits
 * leaves: half a leaf moves to a new block and the old one is packed; names removed) never shows
 * a name twice and never skips a name that stayed. With byte-offset cookies both happen: a name
 * read in a split leaf comes again from the new block, a name packed below the cookie is lost.
 *
 * Each case reads a directory of a few thousand names a few entries per call, and between the
 * calls creates and removes other names; then every name that was there all along must have come
 * exactly once, no name twice, and the cookies must only grow. A directory not changed while read
 * gives exactly its names (and e2fsck -fn agrees with what was written). 1 KiB and 4 KiB blocks,
 * metadata_csum on and off, every hash version mkfs can set.
 */
#include "tests/unit/ext4_host.h"
#include "fs/ext4/ext4_fs.h"

#define KEEP 3000                 /* names present from start to end */
#define CHURN 1500                /* names present at the start, removed while reading */
#define NEW_MAX 6000              /* names added while reading */
#define PER_CALL 7                /* entries a readdir call may return */
#define ADD_PER_CALL 13
#define DEL_PER_CALL 5

/* lengths vary so leaves split at different entry counts */
static void name_of(char *b, size_t n, const char *prefix, int i)
{
	snprintf(b, n, "%s-%d-%.*s", prefix, i, (i * 7) % 41, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ");
}

struct seen {
	int keep[KEEP], churn[CHURN], added[NEW_MAX];
	int dot, dotdot, other, calls_left;
	uint64_t last_next;
	int order_bad;
};

static int count_name(void *arg, const char *name, size_t len, uint32_t ino, unsigned dt, uint64_t next)
{
	(void)ino;
	(void)dt;
	struct seen *s = arg;
	if (s->calls_left-- <= 0)
		return 1;
	if (next <= s->last_next && s->last_next)
		s->order_bad++;
	s->last_next = next;
	char b[300];
	memcpy(b, name, len);
	b[len] = 0;
	int i;
	char rest[300];
	if (!strcmp(b, "."))
		s->dot++;
	else if (!strcmp(b, ".."))
		s->dotdot++;
	else if (sscanf(b, "keep-%d-%s", &i, rest) >= 1 && i >= 0 && i < KEEP)
		s->keep[i]++;
	else if (sscanf(b, "churn-%d-%s", &i, rest) >= 1 && i >= 0 && i < CHURN)
		s->churn[i]++;
	else if (sscanf(b, "new-%d-%s", &i, rest) >= 1 && i >= 0 && i < NEW_MAX)
		s->added[i]++;
	else
		s->other++;
	return 0;
}

static void readdir_case(unsigned bs, const char *opts, const char *hash, bool change)
{
	setup_work("readdir");
	char img[300], b[128];
	snprintf(img, sizeof(img), "%s/r%u.img", work, bs);
	CHECK_EQ(sh("mkfs.ext4 -q -F -b %u -N 20000 %s %s 64M >/dev/null 2>&1", bs, opts, img), 0);
	if (hash)
		CHECK_EQ(sh("tune2fs -E hash_alg=%s %s >/dev/null 2>&1", hash, img), 0);
	struct img im;
	struct ext4_fs *fs = NULL;
	CHECK_EQ(img_open(&im, img, 512), 0);
	CHECK_EQ(ext4_mount(&im.bd, 0, &fs), 0);
	if (!fs)
		return;
	ext4_journal_batch(fs, true);
	uint32_t d, ino;
	CHECK_EQ(ext4_mkdir(fs, EXT4_ROOT_INO, "d", 1, 0755, 0, 0, &d), 0);
	int bad = 0;
	for (int i = 0; i < KEEP || i < CHURN; i++) {
		if (i < KEEP) {
			name_of(b, sizeof(b), "keep", i);
			bad += ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino) != 0;
		}
		if (i < CHURN) {
			name_of(b, sizeof(b), "churn", i);
			bad += ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino) != 0;
		}
	}
	CHECK_EQ(bad, 0);
	struct ext4_stat st;
	CHECK_EQ(ext4_stat(fs, d, &st), 0);
	CHECK(st.flags & EXT4_INDEX_FL);

	static struct seen s;
	memset(&s, 0, sizeof(s));
	uint64_t cookie = 0;
	int added = 0, removed = 0, calls = 0;
	for (;;) {
		s.calls_left = PER_CALL;
		uint64_t before = cookie;
		int r = ext4_readdir(fs, d, &cookie, count_name, &s);
		CHECK_EQ(r, 0);
		if (r || s.calls_left > 0)
			break;                           /* the call ended by itself: the end */
		if (++calls > 100000 || cookie == before) {
			CHECK(!"readdir does not advance");
			break;
		}
		if (!change)
			continue;
		for (int k = 0; k < ADD_PER_CALL && added < NEW_MAX; k++, added++) {
			name_of(b, sizeof(b), "new", added);
			bad += ext4_create(fs, d, b, strlen(b), 0644, 0, 0, &ino) != 0;
		}
		for (int k = 0; k < DEL_PER_CALL && removed < CHURN; k++, removed++) {
			name_of(b, sizeof(b), "churn", removed);
			bad += ext4_unlink(fs, d, b, strlen(b)) != 0;
		}
	}
	CHECK_EQ(bad, 0);
	int missing = 0, twice = 0;
	for (int i = 0; i < KEEP; i++) {
		missing += s.keep[i] == 0;
		twice += s.keep[i] > 1;
	}
	for (int i = 0; i < CHURN; i++)
		twice += s.churn[i] > 1;
	for (int i = 0; i < NEW_MAX; i++)
		twice += s.added[i] > 1;
	printf("  %u-byte blocks %s %s%s: %d calls, %d added, %d removed: %d of the staying names missing, %d names twice\n",
	       bs, opts, hash ? hash : "half_md4", change ? ", changing" : "", calls, added, removed, missing, twice);
	CHECK_EQ(missing, 0);
	CHECK_EQ(twice, 0);
	CHECK_EQ(s.dot, 1);
	CHECK_EQ(s.dotdot, 1);
	CHECK_EQ(s.other, 0);
	CHECK_EQ(s.order_bad, 0);
	if (change) {
		CHECK(added > 1000);                 /* enough to split many leaves */
	} else {
		int churn_seen = 0;
		for (int i = 0; i < CHURN; i++)
			churn_seen += s.churn[i] == 1;
		CHECK_EQ(churn_seen, CHURN);
	}
	CHECK_EQ(ext4_umount(fs), 0);
	img_close(&im);
	CHECK_EQ(sh("e2fsck -fn %s >%s/fsck.log 2>&1 || { head -30 %s/fsck.log; exit 1; }", img, work, work), 0);
}

TEST(still_1k_csum) { readdir_case(1024, "-O metadata_csum", NULL, false); }
TEST(changing_1k_csum) { readdir_case(1024, "-O metadata_csum", NULL, true); }
TEST(changing_4k_csum) { readdir_case(4096, "-O metadata_csum", NULL, true); }
TEST(changing_1k_plain) { readdir_case(1024, "-O ^metadata_csum", NULL, true); }
TEST(changing_1k_tea) { readdir_case(1024, "-O metadata_csum", "tea", true); }
TEST(changing_1k_legacy) { readdir_case(1024, "-O metadata_csum", "legacy", true); }

TEST(cleanup)
{
	if (work[0] && !getenv("EXT4_KEEP"))
		sh("rm -rf %s", work);
}
UNIT_TESTS(CASE(still_1k_csum), CASE(changing_1k_csum), CASE(changing_4k_csum), CASE(changing_1k_plain),
	   CASE(changing_1k_tea), CASE(changing_1k_legacy), CASE(cleanup))
