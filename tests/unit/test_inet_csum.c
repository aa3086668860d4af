// unit-sources: lib/inet_csum.c
/* lib/inet_csum.c against a plain big-endian 16-bit-word sum: every start alignment (0-7) and
 * every length up to 300 over random bytes, sums of consecutive pieces, RFC 1071's example, and a
 * buffer of 0xff bytes long enough to carry many times. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "lib/inet_csum.h"

static uint16_t ref(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint8_t buf[4096 + 8] __attribute__((aligned(8)));

TEST(rfc1071_example)
{
	static const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	CHECK_EQ(inet_csum_fold(inet_csum_add(0, b, 8)), 0xddf2);
	CHECK_EQ(inet_csum_fold(inet_csum_add(0, b, 0)), 0);
}

TEST(every_alignment_and_length)
{
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (unsigned a = 0; a < 8; a++)
		for (size_t n = 0; n <= 300; n++)
			if (inet_csum_fold(inet_csum_add(0, buf + a, n)) != ref(buf + a, n, 0)) {
				printf("  align %u len %zu: %#x, want %#x\n", a, n, inet_csum_fold(inet_csum_add(0, buf + a, n)),
				       ref(buf + a, n, 0));
				CHECK(0);
				return;
			}
	CHECK_EQ(inet_csum_fold(inet_csum_add(0x1234, buf + 3, 4000)), ref(buf + 3, 4000, 0x1234));
}

TEST(pieces_add_up)
{
	srand(11);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t cut = 0; cut <= 64; cut += 2) {
		uint64_t s = inet_csum_add(0, buf + 1, cut);
		s = inet_csum_add(s, buf + 1 + cut, 999 - cut);
		CHECK_EQ(inet_csum_fold(s), ref(buf + 1, 999, 0));
	}
}

TEST(many_carries)
{
	memset(buf, 0xff, sizeof(buf));
	CHECK_EQ(inet_csum_fold(inet_csum_add(0xffff, buf, 4096)), 0xffff);
	buf[100] = 0;
	CHECK_EQ(inet_csum_fold(inet_csum_add(0, buf, 4096)), ref(buf, 4096, 0));
}

UNIT_TESTS(CASE(rfc1071_example), CASE(every_alignment_and_length), CASE(pieces_add_up), CASE(many_carries))
