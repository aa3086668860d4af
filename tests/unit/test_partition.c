// unit-sources: block/partition.c lib/crc32.c
/* Partition tables (block/partition.c) against images made by the host's sfdisk and sgdisk (Debian
 * packages fdisk and gdisk): the partitions found must be the ones `sfdisk -d` lists. Also a
 * damaged primary GPT header (the backup is used), both headers damaged, entries beyond the disk,
 * and a looping EBR chain. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "block/partition.h"
#include "lib/crc32.h"

#define IMG_SIZE (64 << 20)
#define LB 512

static char img[64];
static FILE *fp;
static uint8_t scratch[2 * LB];
static struct part_info parts[PART_MAX];

static int rd(void *ctx, uint64_t lba, void *buf)
{
	(void)ctx;
	if (fseek(fp, (long)(lba * LB), SEEK_SET) || fread(buf, 1, LB, fp) != LB)
		return -5;
	return 0;
}

static bool make_image(const char *tool_cmd)
{
	snprintf(img, sizeof(img), "/tmp/ember-part-%d.img", (int)getpid());
	FILE *f = fopen(img, "w");
	if (!f || ftruncate(fileno(f), IMG_SIZE))
		return false;
	fclose(f);
	char cmd[512];
	char body[400];
	snprintf(body, sizeof(body), tool_cmd, img);
	snprintf(cmd, sizeof(cmd), "PATH=\"$PATH:/usr/sbin:/sbin\"; %s", body);
	if (system(cmd) != 0) {
		printf("  command failed: %s (scripts/deps.sh installs fdisk and gdisk)\n", cmd);
		return false;
	}
	return true;
}

/* The partitions `sfdisk -d` lists: number from the node name, start and size in sectors. */
static int sfdisk_list(struct part_info *out, int max)
{
	char cmd[128], line[256];
	snprintf(cmd, sizeof(cmd), "PATH=\"$PATH:/usr/sbin:/sbin\" sfdisk -d %s 2>/dev/null", img);
	FILE *p = popen(cmd, "r");
	int n = 0;
	size_t len = strlen(img);
	while (p && fgets(line, sizeof(line), p)) {
		unsigned long long s, z;
		int no;
		if (strncmp(line, img, len) || sscanf(line + len, "%d : start= %llu, size= %llu", &no, &s, &z) != 3)
			continue;
		if (n < max)
			out[n++] = (struct part_info){ no, s, z };
	}
	if (p)
		pclose(p);
	return n;
}

static int parse(void)
{
	fp = fopen(img, "rb");
	if (!fp)
		return -1;
	int n = part_parse(rd, NULL, LB, IMG_SIZE / LB, scratch, parts, PART_MAX);
	fclose(fp);
	return n;
}

static void check_matches_sfdisk(int expect)
{
	struct part_info want[PART_MAX];
	int nw = sfdisk_list(want, PART_MAX);
	int n = parse();
	CHECK_EQ(nw, expect);
	CHECK_EQ(n, nw);
	for (int i = 0; i < n && i < nw; i++) {
		CHECK_EQ(parts[i].partno, want[i].partno);
		CHECK_EQ(parts[i].start, want[i].start);
		CHECK_EQ(parts[i].nblocks, want[i].nblocks);
	}
}

static void patch(long off, const void *data, size_t n)
{
	FILE *f = fopen(img, "r+b");
	CHECK(f != NULL);
	if (!f)
		return;
	fseek(f, off, SEEK_SET);
	fwrite(data, 1, n, f);
	fclose(f);
}

TEST(no_table)
{
	CHECK(make_image("true %s"));
	CHECK_EQ(parse(), 0);
	unlink(img);
}

TEST(mbr_primary_and_logical)
{
	CHECK(make_image("printf 'label: dos\\n,8M,83\\n,4M,83\\n,,5\\n,6M,83\\n,3M,83\\n' | sfdisk -q %s"));
	check_matches_sfdisk(5);                           /* 1 2 3(extended) 5 6 */
	CHECK_EQ(parts[3].partno, 5);
	CHECK_EQ(parts[4].partno, 6);
	unlink(img);
}

TEST(gpt_three_partitions)
{
	CHECK(make_image("sgdisk -o -n 1:2048:+12M -n 2:0:+20M -n 3:0:+4M %s >/dev/null"));
	check_matches_sfdisk(3);
	unlink(img);
}

TEST(gpt_gap_in_entries_keeps_numbers)
{
	CHECK(make_image("sgdisk -o -n 2:2048:+4M -n 5:0:+4M %s >/dev/null"));
	check_matches_sfdisk(2);
	CHECK_EQ(parts[0].partno, 2);
	CHECK_EQ(parts[1].partno, 5);
	unlink(img);
}

TEST(gpt_bad_primary_uses_backup)
{
	CHECK(make_image("sgdisk -o -n 1:2048:+12M -n 2:0:+20M %s >/dev/null"));
	uint8_t junk = 0x5a;
	patch(LB + 40, &junk, 1);                          /* first_usable of the primary header */
	CHECK_EQ(parse(), 2);
	CHECK_EQ(parts[1].start, 2048 + 12 * 2048);
	patch((long)IMG_SIZE - LB + 40, &junk, 1);         /* and of the backup */
	CHECK_EQ(parse(), 0);
	unlink(img);
}

TEST(gpt_bad_entry_crc_is_refused)
{
	CHECK(make_image("sgdisk -o -n 1:2048:+12M %s >/dev/null"));
	uint8_t junk = 0x77;
	patch(2 * LB + 33, &junk, 1);                      /* first LBA of entry 0, primary array */
	patch((long)IMG_SIZE - 33 * LB + 33, &junk, 1);    /* and in the backup array */
	CHECK_EQ(parse(), 0);
	unlink(img);
}

static void mbr_entry(uint8_t *sec, int slot, uint8_t type, uint32_t start, uint32_t len)
{
	uint8_t *e = sec + 446 + 16 * slot;
	e[4] = type;
	memcpy(e + 8, &start, 4);                          /* little-endian host */
	memcpy(e + 12, &len, 4);
	sec[510] = 0x55;
	sec[511] = 0xaa;
}

TEST(mbr_out_of_range_and_ebr_loop)
{
	CHECK(make_image("true %s"));
	uint8_t sec[LB] = { 0 };
	mbr_entry(sec, 0, 0x83, 2048, 2048);
	mbr_entry(sec, 1, 0x83, IMG_SIZE / LB - 10, 100);  /* runs past the end: skipped */
	mbr_entry(sec, 2, 0x05, 8192, 65536);
	patch(0, sec, LB);
	uint8_t ebr[LB] = { 0 };
	mbr_entry(ebr, 0, 0x83, 64, 1024);
	mbr_entry(ebr, 1, 0x05, 0, 4096);                  /* the next EBR is itself: a loop */
	patch(8192L * LB, ebr, LB);
	CHECK_EQ(parse(), 3);                              /* 1, 3 (extended), 5 */
	CHECK_EQ(parts[0].partno, 1);
	CHECK_EQ(parts[1].partno, 3);
	CHECK_EQ(parts[2].partno, 5);
	CHECK_EQ(parts[2].start, 8192 + 64);
	unlink(img);
}

TEST(crc32_known_value)
{
	CHECK_EQ(crc32(0, "123456789", 9), 0xcbf43926);
	CHECK_EQ(crc32(crc32(0, "1234", 4), "56789", 5), 0xcbf43926);
}

UNIT_TESTS(CASE(no_table), CASE(mbr_primary_and_logical), CASE(gpt_three_partitions),
	   CASE(gpt_gap_in_entries_keeps_numbers), CASE(gpt_bad_primary_uses_backup),
	   CASE(gpt_bad_entry_crc_is_refused), CASE(mbr_out_of_range_and_ebr_loop), CASE(crc32_known_value))
