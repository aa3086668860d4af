/*
 * The request path's pure logic (block/merge.c): sorting a plug's bios and merging neighbours into
 * requests. No locks, no allocation, no device: the host unit tests drive it (tests/unit/test_blk_merge.c).
 */
#ifndef BLOCK_MERGE_H
#define BLOCK_MERGE_H
#include "block/blkdev.h"

/* Sort a singly linked bio list (through ->next) by disk, then disk sector; stable. */
struct bio *blk_sort_bios(struct bio *list);
/* A request holding b alone (b->next cleared). */
void blk_rq_init(struct blk_request *rq, struct bio *b);
/* Can b join the end of rq? Same disk and op (reads and writes only), b's first disk sector right
 * after rq's last, within BLK_MAX_REQ_SECTORS, and a free segment unless b's buffer directly
 * follows the last segment's in memory. */
bool blk_rq_can_merge(const struct blk_request *rq, const struct bio *b);
/* Append b (blk_rq_can_merge(rq, b) must hold). */
void blk_rq_append(struct blk_request *rq, struct bio *b);
/* The first disk sector of b (partition offset applied). */
uint64_t bio_disk_sector(const struct bio *b);

#endif
