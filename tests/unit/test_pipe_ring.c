// unit-sources:
/*
 * The pipe ring's index arithmetic (fs/pipe_ring.h): used/space, spans that stop at the
 * buffer's end, two-piece copies across the wrap, indices that wrap at 2^32, and a randomized
 * producer/consumer run against a reference queue, copying through ring_pieces exactly as
 * pipe.c does.
 */
#include <string.h>
#include <stdint.h>
#include "tests/unit/unit.h"
#include "fs/pipe_ring.h"

TEST(empty_and_full)
{
	struct pipe_ring r;
	ring_init(&r, 16);
	CHECK_EQ(ring_used(&r), 0);
	CHECK_EQ(ring_space(&r), 16);
	CHECK_EQ(ring_read_span(&r, 100), 0);
	CHECK_EQ(ring_write_span(&r, 100), 16);
	r.tail += 16;
	CHECK_EQ(ring_used(&r), 16);
	CHECK_EQ(ring_space(&r), 0);
	CHECK_EQ(ring_write_span(&r, 5), 0);
	CHECK_EQ(ring_read_span(&r, 5), 5);
	CHECK_EQ(ring_read_span(&r, 100), 16);
}

TEST(spans_stop_at_the_end)
{
	struct pipe_ring r;
	ring_init(&r, 16);
	r.head = r.tail = 12;                        /* empty, positioned near the end */
	CHECK_EQ(ring_write_span(&r, 100), 4);       /* up to the end of the buffer */
	r.tail = 20;                                 /* 8 bytes: 4 at the end, 4 at the start */
	CHECK_EQ(ring_read_span(&r, 100), 4);
	uint32_t off[2], len[2];
	CHECK_EQ(ring_pieces(&r, r.head, 8, off, len), 2);
	CHECK_EQ(off[0], 12);
	CHECK_EQ(len[0], 4);
	CHECK_EQ(off[1], 0);
	CHECK_EQ(len[1], 4);
	CHECK_EQ(ring_pieces(&r, r.head, 3, off, len), 1);
	CHECK_EQ(len[0], 3);
	CHECK_EQ(ring_pieces(&r, r.head, 0, off, len), 0);
}

TEST(indices_wrap_at_2_32)
{
	struct pipe_ring r;
	ring_init(&r, 65536);
	r.head = UINT32_MAX - 10;
	r.tail = r.head + 100;                       /* wrapped past zero */
	CHECK(r.tail < r.head);
	CHECK_EQ(ring_used(&r), 100);
	CHECK_EQ(ring_space(&r), 65536 - 100);
	uint32_t off[2], len[2];
	int n = ring_pieces(&r, r.head, 100, off, len);
	CHECK_EQ(off[0], (UINT32_MAX - 10) & 65535);
	CHECK_EQ(len[0] + (n == 2 ? len[1] : 0), 100);
}

static uint64_t rng_state = 88172645463325252ULL;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

TEST(random_against_a_model)
{
	enum { SIZE = 64, STEPS = 200000 };
	static char buf[SIZE];
	struct pipe_ring r;
	ring_init(&r, SIZE);
	r.head = r.tail = UINT32_MAX - 1000;         /* cross the 2^32 wrap during the run */
	uint8_t next_in = 0, next_out = 0;
	uint64_t moved = 0;
	for (int step = 0; step < STEPS; step++) {
		uint32_t off[2], len[2];
		if (rng() & 1) {                     /* writer: as much as fits of a random size */
			uint32_t want = rng() % (SIZE + 8);
			uint32_t n = MIN(want, ring_space(&r));
			int k = ring_pieces(&r, r.tail, n, off, len);
			for (int i = 0; i < k; i++)
				for (uint32_t j = 0; j < len[i]; j++)
					buf[off[i] + j] = next_in++;
			CHECK(k == 0 || off[0] + len[0] <= SIZE);
			r.tail += n;
		} else {                             /* reader */
			uint32_t want = rng() % (SIZE + 8);
			uint32_t n = MIN(want, ring_used(&r));
			int k = ring_pieces(&r, r.head, n, off, len);
			for (int i = 0; i < k; i++)
				for (uint32_t j = 0; j < len[i]; j++)
					if ((uint8_t)buf[off[i] + j] != next_out++) {
						CHECK(!"bytes out of order");
						return;
					}
			r.head += n;
			moved += n;
		}
		if (ring_used(&r) > SIZE) {
			CHECK(!"used exceeds size");
			return;
		}
	}
	CHECK(moved > STEPS);                        /* the run did move data */
}

UNIT_TESTS(CASE(empty_and_full), CASE(spans_stop_at_the_end), CASE(indices_wrap_at_2_32),
	   CASE(random_against_a_model))
