// unit-sources: lib/string.c
/* memcpy/memmove/memset (lib/string.c): every source and destination alignment and the lengths
 * around the 8- and 32-byte steps, against a byte-by-byte reference; bytes around the copy stay. */
#include "tests/unit/unit.h"
#include "lib/string.h"

#define BUF 256

static unsigned char src[BUF + 16], dst[BUF + 16], ref[BUF + 16];

static void fill(unsigned char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 131 + seed * 17 + (i >> 3));
}

TEST(memcpy_all_alignments)
{
	static const size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 200 };
	int bad = 0;
	for (size_t so = 0; so < 8; so++)
		for (size_t d = 0; d < 8; d++)
			for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
				size_t n = lens[k];
				fill(src, sizeof(src), (unsigned)(so + k));
				fill(dst, sizeof(dst), 99);
				for (size_t i = 0; i < sizeof(ref); i++)
					ref[i] = dst[i];
				for (size_t i = 0; i < n; i++)
					ref[d + i] = src[so + i];
				void *r = memcpy(dst + d, src + so, n);
				if (r != dst + d)
					bad++;
				for (size_t i = 0; i < sizeof(dst); i++)
					if (dst[i] != ref[i]) {
						bad++;
						break;
					}
			}
	CHECK_EQ(bad, 0);
}

TEST(memmove_overlap_and_memset)
{
	fill(src, sizeof(src), 3);
	for (size_t i = 0; i < sizeof(ref); i++)
		ref[i] = src[i];
	memmove(src + 3, src, 100);                /* overlapping, forwards */
	int bad = 0;
	for (size_t i = 0; i < 100; i++)
		bad += src[3 + i] != ref[i];
	CHECK_EQ(bad, 0);
	memset(dst + 1, 0xab, 77);
	bad = 0;
	for (size_t i = 1; i < 78; i++)
		bad += dst[i] != 0xab;
	CHECK_EQ(bad, 0);
}

UNIT_TESTS(CASE(memcpy_all_alignments), CASE(memmove_overlap_and_memset))
