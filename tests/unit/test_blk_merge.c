// unit-sources: block/merge.c
/* The request path's merging (block/merge.c): sorting a plug's bios and growing requests from
 * neighbours, with the limits on segments and sectors, directions, disks and partitions. */
#include <string.h>
#include "tests/unit/unit.h"
#include "block/merge.h"

static struct block_device disk_a, disk_b, part_a1;
static uint8_t mem[4 << 20];
static struct bio bios[64];
static struct blk_request rqs[64];

static void setup(void)
{
	memset(bios, 0, sizeof(bios));
	disk_a = (struct block_device){ .name = "vda", .nsect = 1 << 20 };
	disk_a.disk = &disk_a;
	disk_b = (struct block_device){ .name = "vdb", .nsect = 1 << 20 };
	disk_b.disk = &disk_b;
	part_a1 = (struct block_device){ .name = "vda1", .nsect = 1 << 16, .start = 2048, .disk = &disk_a, .partno = 1 };
}

static struct bio *mk(int i, struct block_device *bd, enum bio_op op, uint64_t sector, uint32_t nsect, void *buf)
{
	bios[i] = (struct bio){ .bdev = bd, .op = op, .sector = sector, .nsect = nsect, .buf = buf };
	return &bios[i];
}

static struct bio *list_of(struct bio **v, int n)
{
	for (int i = 0; i < n; i++)
		v[i]->next = i + 1 < n ? v[i + 1] : NULL;
	return n ? v[0] : NULL;
}

/* What blk_finish_plug does with a sorted list: grow a request while the next bio joins it. */
static int build(struct bio *b)
{
	int n = 0;
	b = blk_sort_bios(b);
	while (b) {
		struct bio *next = b->next;
		if (n && blk_rq_can_merge(&rqs[n - 1], b))
			blk_rq_append(&rqs[n - 1], b);
		else
			blk_rq_init(&rqs[n++], b);
		b = next;
	}
	return n;
}

TEST(sort_orders_by_disk_sector_and_is_stable)
{
	setup();
	struct bio *v[] = { mk(0, &disk_a, BIO_READ, 30, 1, mem), mk(1, &disk_a, BIO_READ, 10, 1, mem),
			    mk(2, &disk_a, BIO_READ, 20, 1, mem), mk(3, &disk_a, BIO_WRITE, 10, 1, mem),
			    mk(4, &part_a1, BIO_READ, 0, 1, mem) };        /* disk sector 2048 */
	struct bio *s = blk_sort_bios(list_of(v, 5));
	uint64_t want[] = { 10, 10, 20, 30, 2048 };
	int i = 0;
	for (struct bio *b = s; b; b = b->next, i++)
		CHECK_EQ(bio_disk_sector(b), want[i]);
	CHECK_EQ(i, 5);
	CHECK(s == &bios[1] && s->next == &bios[3]);              /* the tie keeps submission order */
}

TEST(contiguous_buffer_and_sectors_make_one_segment)
{
	setup();
	struct bio *v[4];
	for (int i = 0; i < 4; i++)                                  /* submitted backwards */
		v[i] = mk(i, &disk_a, BIO_WRITE, 100 + 8 * (3 - i), 8, mem + 4096 * (3 - i));
	CHECK_EQ(build(list_of(v, 4)), 1);
	CHECK_EQ(rqs[0].sector, 100);
	CHECK_EQ(rqs[0].nsect, 32);
	CHECK_EQ(rqs[0].nseg, 1);
	CHECK_EQ(rqs[0].seg[0].len, 16384);
	CHECK(rqs[0].seg[0].buf == mem);
	int nb = 0;
	for (struct bio *b = rqs[0].bios; b; b = b->next)
		nb++;
	CHECK_EQ(nb, 4);
}

TEST(scattered_buffers_fill_segments_then_split)
{
	setup();
	struct bio *v[BLK_MAX_SEGS + 2];
	for (int i = 0; i < BLK_MAX_SEGS + 2; i++)   /* adjacent sectors, buffers 8 KiB apart */
		v[i] = mk(i, &disk_a, BIO_READ, 8 * i, 8, mem + 8192 * i);
	CHECK_EQ(build(list_of(v, BLK_MAX_SEGS + 2)), 2);
	CHECK_EQ(rqs[0].nseg, BLK_MAX_SEGS);
	CHECK_EQ(rqs[0].nsect, 8 * BLK_MAX_SEGS);
	CHECK_EQ(rqs[1].sector, 8 * BLK_MAX_SEGS);
	CHECK_EQ(rqs[1].nseg, 2);
}

TEST(gaps_directions_and_disks_do_not_merge)
{
	setup();
	struct bio *v[] = { mk(0, &disk_a, BIO_READ, 0, 8, mem), mk(1, &disk_a, BIO_READ, 9, 8, mem + 4096),
			    mk(2, &disk_a, BIO_WRITE, 17, 8, mem + 8192), mk(3, &disk_b, BIO_READ, 25, 8, mem + 12288),
			    mk(4, &disk_a, BIO_FLUSH, 0, 0, NULL), mk(5, &disk_a, BIO_FLUSH, 0, 0, NULL) };
	CHECK_EQ(build(list_of(v, 6)), 6);
}

TEST(partition_bios_merge_in_disk_sectors)
{
	setup();
	struct bio *v[] = { mk(0, &part_a1, BIO_READ, 0, 8, mem + 4096), mk(1, &disk_a, BIO_READ, 2040, 8, mem) };
	CHECK_EQ(build(list_of(v, 2)), 1);
	CHECK_EQ(rqs[0].sector, 2040);
	CHECK_EQ(rqs[0].nsect, 16);
	CHECK_EQ(rqs[0].nseg, 1);
}

TEST(request_size_is_bounded)
{
	setup();
	uint32_t half = BLK_MAX_REQ_SECTORS / 2;
	struct bio *v[] = { mk(0, &disk_a, BIO_READ, 0, half, mem), mk(1, &disk_a, BIO_READ, half, half, mem + half * 512),
			    mk(2, &disk_a, BIO_READ, 2 * half, 8, mem + 2 * half * 512) };
	CHECK_EQ(build(list_of(v, 3)), 2);
	CHECK_EQ(rqs[0].nsect, BLK_MAX_REQ_SECTORS);
	CHECK_EQ(rqs[1].sector, BLK_MAX_REQ_SECTORS);
}

UNIT_TESTS(CASE(sort_orders_by_disk_sector_and_is_stable), CASE(contiguous_buffer_and_sectors_make_one_segment),
	   CASE(scattered_buffers_fill_segments_then_split), CASE(gaps_directions_and_disks_do_not_merge),
	   CASE(partition_bios_merge_in_disk_sectors), CASE(request_size_is_bounded))
