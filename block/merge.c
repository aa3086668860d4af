/*
 * Merging bios into requests (block/merge.h). A plug's bios are sorted by (disk, sector) with a
 * stable merge sort, so bios that touch neighbouring sectors end up next to each other whatever
 * order they were submitted in; blk_finish_plug (blkdev.c) then grows a request while the next bio
 * continues it. A bio whose buffer continues the previous segment's in memory extends that
 * segment, so a large buffer split into bios becomes one segment again.
 */
#include "block/merge.h"

static struct block_device *disk_of(const struct bio *b) { return b->bdev->disk; }

uint64_t bio_disk_sector(const struct bio *b) { return b->bdev->start + b->sector; }

static bool before(const struct bio *a, const struct bio *b)
{
	if (disk_of(a) != disk_of(b))
		return (uintptr_t)disk_of(a) < (uintptr_t)disk_of(b);
	return bio_disk_sector(a) < bio_disk_sector(b);
}

static struct bio *merge_lists(struct bio *a, struct bio *b)
{
	struct bio head = { .next = NULL }, *t = &head;
	while (a && b) {
		if (before(b, a)) {          /* take a on ties: stable */
			t->next = b;
			b = b->next;
		} else {
			t->next = a;
			a = a->next;
		}
		t = t->next;
	}
	t->next = a ? a : b;
	return head.next;
}

struct bio *blk_sort_bios(struct bio *list)
{
	if (!list || !list->next)
		return list;
	struct bio *slow = list, *fast = list->next;
	while (fast && fast->next) {
		slow = slow->next;
		fast = fast->next->next;
	}
	struct bio *second = slow->next;
	slow->next = NULL;
	return merge_lists(blk_sort_bios(list), blk_sort_bios(second));
}

void blk_rq_init(struct blk_request *rq, struct bio *b)
{
	b->next = NULL;
	rq->op = b->op;
	rq->sector = bio_disk_sector(b);
	rq->nsect = b->nsect;
	rq->nseg = 0;
	if (b->op != BIO_FLUSH && b->nsect) {
		rq->seg[0].buf = b->buf;
		rq->seg[0].len = b->nsect << SECTOR_SHIFT;
		rq->nseg = 1;
	}
	rq->bios = b;
	rq->driver = NULL;
}

static bool extends_last_seg(const struct blk_request *rq, const struct bio *b)
{
	return rq->nseg && (uint8_t *)rq->seg[rq->nseg - 1].buf + rq->seg[rq->nseg - 1].len == (uint8_t *)b->buf;
}

bool blk_rq_can_merge(const struct blk_request *rq, const struct bio *b)
{
	if (b->op != rq->op || b->op == BIO_FLUSH || !b->nsect || !rq->nseg)
		return false;
	if (disk_of(b) != disk_of(rq->bios) || bio_disk_sector(b) != rq->sector + rq->nsect)
		return false;
	if ((uint64_t)rq->nsect + b->nsect > BLK_MAX_REQ_SECTORS)
		return false;
	return extends_last_seg(rq, b) || rq->nseg < BLK_MAX_SEGS;
}

void blk_rq_append(struct blk_request *rq, struct bio *b)
{
	uint32_t len = b->nsect << SECTOR_SHIFT;
	if (extends_last_seg(rq, b)) {
		rq->seg[rq->nseg - 1].len += len;
	} else {
		rq->seg[rq->nseg].buf = b->buf;
		rq->seg[rq->nseg].len = len;
		rq->nseg++;
	}
	rq->nsect += b->nsect;
	struct bio *t = rq->bios;
	while (t->next)
		t = t->next;
	t->next = b;
	b->next = NULL;
}
