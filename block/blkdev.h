/*
 * The block layer's interface (block/blkdev.c has the theory).
 *
 * A block_device is a disk (registered by its driver, named vda, vdb ... in registration order)
 * or a partition of one (vda1 ..., found by block/partition.c when the disk registers). Users hand
 * it bios: one operation on a contiguous range of 512-byte sectors to or from one physically
 * contiguous kernel buffer. The request path (block/merge.c) gathers the bios of a plug, sorts
 * them and merges neighbours into requests of up to BLK_MAX_SEGS segments, which the driver's
 * submit op puts on the device. The driver ends a request with blk_request_done, in any context
 * (usually its interrupt handler), which ends each bio: bio->end runs there and must not sleep.
 *
 * Synchronous helpers (blk_rw, blk_flush) sleep until the device answers: process context only.
 * Errors: -EIO for a device error, -EROFS for a write to a read-only device, -EINVAL for a range
 * beyond the device, -EOPNOTSUPP for FLUSH on a device without a write cache.
 */
#ifndef BLOCK_BLKDEV_H
#define BLOCK_BLKDEV_H
#include "kernel/types.h"
#include "lib/list.h"

#define SECTOR_SHIFT 9
#define SECTOR_SIZE (1u << SECTOR_SHIFT)
#define BLK_MAX_SEGS 6                 /* segments per request: a virtio chain of 8 less header, status */
#define BLK_MAX_REQ_SECTORS 2048       /* 1 MiB per merged request */
#define BLK_NAME_LEN 16
#define BLK_MAX_DEVICES 64

enum bio_op { BIO_READ, BIO_WRITE, BIO_FLUSH };

struct block_device;
struct bio;
typedef void (*bio_end_t)(struct bio *b);

struct bio {
	struct block_device *bdev;
	enum bio_op op;
	uint64_t sector;               /* in 512-byte sectors, relative to bdev */
	uint32_t nsect;
	void *buf;                     /* kernel memory, physically contiguous, nsect * 512 bytes */
	int status;                    /* 0 or -errno, set before end runs */
	bio_end_t end;                 /* completion (any context, must not sleep) */
	void *priv;                    /* the submitter's */
	struct bio *next;              /* request's bios / plug list */
	volatile bool done;            /* set by the default end (bio_wait) */
};

/* A request the driver executes: bios merged into one contiguous sector range. */
struct blk_request {
	enum bio_op op;
	uint64_t sector;               /* on the disk (partition offsets applied) */
	uint32_t nsect;
	unsigned nseg;
	struct { void *buf; uint32_t len; } seg[BLK_MAX_SEGS];
	struct bio *bios;              /* the merged bios, in sector order */
	void *driver;                  /* the driver's per-request state */
};

struct block_device_ops {
	/* Queue rq on the device; may sleep while the device queue is full. `last` says no more
	 * requests follow at once (the driver notifies the device then). Returns 0, or -errno when
	 * rq cannot be queued at all (the caller then ends it with that error). */
	int (*submit)(struct block_device *bdev, struct blk_request *rq, bool last);
};

#define BDEV_RO 0x1                    /* refuses writes: -EROFS */
#define BDEV_FLUSH 0x2                 /* has a write cache: FLUSH means something */

struct block_device {
	char name[BLK_NAME_LEN];       /* "vda", "vda1" */
	const struct block_device_ops *ops;   /* disks only */
	void *priv;                    /* the driver's */
	uint64_t nsect;                /* capacity in 512-byte sectors */
	uint32_t block_size;           /* logical block size in bytes (BLKSSZGET), >= 512 */
	unsigned flags;                /* BDEV_RO | BDEV_FLUSH */
	struct block_device *disk;     /* partitions: the whole disk; disks: itself */
	uint64_t start;                /* partitions: first sector on the disk; disks: 0 */
	int partno;                    /* 0 for the disk */
	unsigned major, minor;         /* device number of the /dev node */
	int wb_err;                    /* a write-back error not yet reported by sync (bcache) */
	uint32_t bcache_sizes;         /* OR of the buffer sizes ever cached for it (bcache; atomic) */
	uint32_t fs_block_size;        /* what its file system's blocks are: cached (bdev_node.c), 0: none */
	/* disks: request counters (atomic) */
	uint32_t inflight, max_inflight;   /* requests queued on the device and not yet done */
	uint64_t nrequests, nbios;         /* requests sent, bios they carried */
};

/* Disks: name the disk (vd + next letter for prefix "vd"), register it, scan its partitions.
 * Process context (drivers call it from probe). 0 or -errno. */
int blk_register_disk(struct block_device *disk, const char *prefix);
struct block_device *blk_lookup(const char *name);
struct block_device *blk_get(int index);          /* registration order; NULL past the end */
int blk_count(void);

/* Asynchronous: queue one bio (bio->end is called when it completes, maybe before this returns). */
void submit_bio(struct bio *b);

/* Plugging: bios submitted with blk_plug_add are held until blk_finish_plug, which sorts them,
 * merges neighbours and queues the requests, notifying the device once. */
struct blk_plug { struct bio *head; unsigned count; };
void blk_start_plug(struct blk_plug *p);
void blk_plug_add(struct blk_plug *p, struct bio *b);
void blk_finish_plug(struct blk_plug *p);

/* Driver side: rq finished with status (0 or -errno); ends its bios. Any context. */
void blk_request_done(struct blk_request *rq, int status);

/* Sleep until b (submitted with end == NULL or bio_end_wake) has completed; returns its status. */
void bio_end_wake(struct bio *b);
int bio_wait(struct bio *b);

/* Synchronous raw I/O of whole sectors between the device and a kernel buffer (any length; split
 * into requests as needed). 0 or -errno. */
int blk_rw(struct block_device *bdev, enum bio_op op, uint64_t sector, uint32_t nsect, void *buf);
/* Ask the disk to make written data durable (VIRTIO_BLK_T_FLUSH); 0 when it has no write cache. */
int blk_flush(struct block_device *bdev);

#endif
