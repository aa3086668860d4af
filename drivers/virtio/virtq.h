/*
 * Split virtqueues (virtio 1.x section 2.7; the same ring layout serves legacy devices). Pure
 * bookkeeping with no locking and no device access, so the host unit tests can drive it
 * (tests/unit/test_virtq.c); the caller serialises each queue (see drivers/virtio-net/virtio_net.c).
 *
 * The ring indices avail->idx and used->idx are free-running 16-bit counters: the slot of index i is
 * i % num (num is a power of two, so 65536 is a multiple of it and the slot sequence stays
 * continuous across the 16-bit wrap). The number of used entries not yet consumed is
 * (uint16_t)(used->idx - last_used), never more than num for a sane device.
 *
 * Free descriptors form a singly linked list through desc[i].next starting at free_head; a buffer
 * chain of n descriptors is taken from its front and given back whole when the device returns the
 * chain's head in the used ring. cookie[head] remembers the caller's pointer for the chain.
 */
#ifndef DRIVERS_VIRTQ_H
#define DRIVERS_VIRTQ_H
#include "kernel/types.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_LEGACY_ALIGN 4096      /* legacy (and our) alignment of the used ring */
#define VIRTQ_MAX_SIZE 32768
#define VIRTQ_CHAIN_MAX 8            /* longest chain virtq_add accepts */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];             /* num entries, then used_event (unused: no EVENT_IDX) */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];   /* num entries, then avail_event */
};

/* One buffer of a chain: physical address, length, device-writable or not. */
struct virtq_buf {
	paddr_t addr;
	uint32_t len;
	bool write;
};

struct virtq {
	unsigned num;                /* entries, a power of two */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	paddr_t desc_pa, avail_pa, used_pa;
	uint16_t free_head;          /* first free descriptor (valid when num_free > 0) */
	unsigned num_free;
	uint16_t avail_idx;          /* our copy of avail->idx: next slot to fill */
	uint16_t last_used;          /* next used entry to consume */
	void **cookie;               /* num entries: caller's pointer per in-flight chain head */
	uint64_t bad_used;           /* device returned an id that is not an in-flight head */
};

/* Bytes of ring memory for num entries: descriptors, avail ring, then the used ring aligned to
 * VIRTQ_LEGACY_ALIGN (the legacy layout, also valid for modern devices). */
size_t virtq_ring_size(unsigned num);
/* Lay the queue out in zeroed memory `mem` (physical address mem_pa, virtq_ring_size bytes,
 * VIRTQ_LEGACY_ALIGN-aligned) with a cookie array of num entries. num must be a power of two. */
int virtq_init(struct virtq *vq, unsigned num, void *mem, paddr_t mem_pa, void **cookie);

/* Queue a chain of n buffers (readable first, then writable, as the spec requires) and publish it
 * in the avail ring. Returns the head descriptor, or -1 when fewer than n descriptors are free
 * (nothing changes) or n is 0 or too long. */
int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned n, void *cookie);
/* True when the device has returned chains we have not consumed yet. */
bool virtq_has_used(struct virtq *vq);
/* Consume one used chain: returns its cookie and the bytes the device wrote (*len), and frees the
 * descriptors. NULL when none is pending, or when the device returned a bogus id (counted in
 * bad_used; that entry is skipped). */
void *virtq_get_used(struct virtq *vq, uint32_t *len);
/* Event suppression: ask the device not to interrupt on used buffers (a hint), or re-enable
 * interrupts. virtq_enable_cb returns false when used entries arrived meanwhile (the caller must
 * then process them: the interrupt for them may never come). */
void virtq_disable_cb(struct virtq *vq);
bool virtq_enable_cb(struct virtq *vq);
/* After virtq_add: does the device want a notification? (it sets NO_NOTIFY while it is busy) */
bool virtq_need_notify(struct virtq *vq);
static inline unsigned virtq_num_free(const struct virtq *vq) { return vq->num_free; }
/* Descriptors the device holds (added and not yet consumed). */
static inline unsigned virtq_in_flight(const struct virtq *vq)
{
	return vq->num - vq->num_free;
}

#endif
