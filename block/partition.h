/*
 * Partition tables (block/partition.c): MBR (four primary entries, logical partitions in an
 * extended one, numbered from 5 as Linux does) and GPT (a protective MBR, then the header at LBA 1,
 * checked by its CRC32 and its entry array's CRC32; the backup header at the last LBA is used when
 * the primary is bad). Pure: the caller supplies a block reader, so the host unit tests parse
 * images made by sfdisk and sgdisk (tests/unit/test_partition.c).
 */
#ifndef BLOCK_PARTITION_H
#define BLOCK_PARTITION_H
#include "kernel/types.h"

#define PART_MAX 16

struct part_info {
	int partno;                /* Linux's number: MBR slot 1-4, logical 5...; GPT entry index + 1 */
	uint64_t start, nblocks;   /* in logical blocks */
};

/* Reads logical block lba (lbsize bytes) into buf: 0 or -errno. */
typedef int (*part_read_t)(void *ctx, uint64_t lba, void *buf);

/* Finds the partitions of a device of nblocks blocks of lbsize bytes (512 ... 4096), using
 * scratch (2 * lbsize bytes). Entries that do not fit the device are skipped. Returns how many
 * were stored in out (up to max): 0 for no table, or a read's -errno. */
int part_parse(part_read_t rd, void *ctx, uint32_t lbsize, uint64_t nblocks, void *scratch,
	       struct part_info *out, int max);

#endif
