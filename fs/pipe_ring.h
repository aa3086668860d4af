/*
 * Index arithmetic of a byte ring (the pipe buffer), kept pure so the host tests can check it.
 * head (next byte to read) and tail (next byte to write) run freely and wrap at 2^32; the bytes
 * held are tail - head, and a position's offset in the buffer is pos % size (size a power of two
 * no larger than 2^31). A reader copies ring_read_span bytes at head (then the rest from offset 0),
 * a writer ring_write_span bytes at tail; neither touches the other's region, so copies can run
 * outside the lock that guards the indices.
 */
#ifndef KERNEL_FS_PIPE_RING_H
#define KERNEL_FS_PIPE_RING_H
#include "kernel/types.h"

struct pipe_ring {
	uint32_t head, tail, size;
};

static inline void ring_init(struct pipe_ring *r, uint32_t size) { r->head = r->tail = 0; r->size = size; }
static inline uint32_t ring_used(const struct pipe_ring *r) { return r->tail - r->head; }
static inline uint32_t ring_space(const struct pipe_ring *r) { return r->size - ring_used(r); }
static inline uint32_t ring_off(const struct pipe_ring *r, uint32_t pos) { return pos & (r->size - 1); }

/* Contiguous bytes readable at head (at most want). */
static inline uint32_t ring_read_span(const struct pipe_ring *r, uint32_t want)
{
	return MIN(MIN(want, ring_used(r)), r->size - ring_off(r, r->head));
}

/* Contiguous bytes writable at tail (at most want). */
static inline uint32_t ring_write_span(const struct pipe_ring *r, uint32_t want)
{
	return MIN(MIN(want, ring_space(r)), r->size - ring_off(r, r->tail));
}

/* Splits n bytes starting at pos into at most two (offset, length) pieces of the buffer. */
static inline int ring_pieces(const struct pipe_ring *r, uint32_t pos, uint32_t n,
			      uint32_t off[2], uint32_t len[2])
{
	off[0] = ring_off(r, pos);
	len[0] = MIN(n, r->size - off[0]);
	off[1] = 0;
	len[1] = n - len[0];
	return len[1] ? 2 : (len[0] ? 1 : 0);
}

#endif
