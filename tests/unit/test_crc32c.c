// unit-sources: lib/crc32c.c
/* lib/crc32c.c against published CRC-32C check values (RFC 3720 appendix B.4, the "123456789"
 * check value) and against a bit-at-a-time reference on random buffers split at random points. */
#include <string.h>
#include "tests/unit/unit.h"
#include "lib/crc32c.h"

static uint32_t crc_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return crc;
}

TEST(check_value)
{
	CHECK_EQ(crc32c("123456789", 9), 0xE3069283u);
	CHECK_EQ(crc32c("", 0), 0);
	CHECK_EQ(crc32c("a", 1), 0xC1D04330u);
}

TEST(rfc3720_vectors)
{
	uint8_t b[48];
	memset(b, 0, 32);
	CHECK_EQ(crc32c(b, 32), 0x8A9136AAu);
	memset(b, 0xff, 32);
	CHECK_EQ(crc32c(b, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	CHECK_EQ(crc32c(b, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	CHECK_EQ(crc32c(b, 32), 0x113FDB5Cu);
	static const uint8_t iscsi[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
		0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	CHECK_EQ(crc32c(iscsi, 48), 0xD9963A56u);
}

TEST(matches_bitwise_and_chains)
{
	uint8_t buf[4096];
	unsigned s = 12345;
	for (int round = 0; round < 50; round++) {
		size_t n = (size_t)(s % sizeof(buf));
		for (size_t i = 0; i < n; i++) {
			s = s * 1103515245u + 12345u;
			buf[i] = (uint8_t)(s >> 16);
		}
		size_t cut = n ? s % n : 0;
		uint32_t seed = s ^ 0x5a5a5a5au;
		uint32_t whole = crc32c_update(seed, buf, n);
		CHECK_EQ(whole, crc_bitwise(seed, buf, n));
		CHECK_EQ(crc32c_update(crc32c_update(seed, buf, cut), buf + cut, n - cut), whole);
	}
}

UNIT_TESTS(CASE(check_value), CASE(rfc3720_vectors), CASE(matches_bitwise_and_chains))
