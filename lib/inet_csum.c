/*
 * The Internet checksum (lib/inet_csum.h). The one's complement sum does not depend on the byte
 * order it is computed in (RFC 1071, 2.(B)): the loop adds 32-bit halves of aligned 64-bit
 * little-endian loads into a 64-bit accumulator (no carry is lost: 2^32 additions of 32-bit
 * values cannot overflow it), and the folded 16-bit result is swapped to big-endian at the end.
 * An odd start address is handled by summing from the next even byte and swapping that part's
 * sum (a byte moved by one position lands in the other half of its word). Little-endian hosts
 * only (RISC-V and the x86 hosts of the unit tests).
 */
#include "lib/inet_csum.h"

static uint32_t fold32(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

static uint16_t fold16(uint64_t s)
{
	uint32_t v = fold32(s);
	v = (v & 0xffff) + (v >> 16);
	v = (v & 0xffff) + (v >> 16);
	return (uint16_t)v;
}

static uint16_t swab16_(uint16_t v) { return (uint16_t)(v << 8 | v >> 8); }

/* The little-endian sum of len bytes from an even address (folded to 16 bits). */
static uint16_t le_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	while (len && ((uintptr_t)p & 7)) {      /* to 8-byte alignment, a 16-bit word at a time */
		if (len == 1) {
			s += p[0];
			return fold16(s);
		}
		s += (uint32_t)p[0] | (uint32_t)p[1] << 8;
		p += 2;
		len -= 2;
	}
	for (; len >= 32; p += 32, len -= 32) {
		const uint64_t *w = (const uint64_t *)__builtin_assume_aligned(p, 8);
		uint64_t a = w[0], b = w[1], c = w[2], d = w[3];
		s += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) +
		     (c & 0xffffffffu) + (c >> 32) + (d & 0xffffffffu) + (d >> 32);
	}
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t a = *(const uint64_t *)__builtin_assume_aligned(p, 8);
		s += (a & 0xffffffffu) + (a >> 32);
	}
	for (; len >= 2; p += 2, len -= 2)
		s += (uint32_t)p[0] | (uint32_t)p[1] << 8;
	if (len)
		s += p[0];
	return fold16(s);
}

uint64_t inet_csum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!len)
		return sum;
	if ((uintptr_t)p & 1) {
		/* the first byte is a high byte; the rest starts at an even address one byte later,
		 * so each of its little-endian words is already a big-endian word's sum */
		sum += (uint64_t)p[0] << 8;
		return sum + le_sum(p + 1, len - 1);
	}
	return sum + swab16_(le_sum(p, len));
}

uint16_t inet_csum_fold(uint64_t sum) { return fold16(sum); }
