/*
 * CRC-32C, table driven "slicing by 8": eight 256-entry tables (8 KiB of .bss) computed once at
 * first use let the loop fold 8 bytes per step; bytes before 8-byte alignment and the tail go
 * one at a time through table 0. The table build is idempotent, so a race between two first
 * callers is harmless. Little-endian 64-bit loads (RISC-V and x86 hosts).
 */
#include "lib/crc32c.h"

#define CRC32C_POLY 0x82F63B78u   /* Castagnoli polynomial, bit-reflected */
#define SLICES 8

static uint32_t crc32c_table[SLICES][256];
static int crc32c_table_ready;

static void crc32c_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int s = 1; s < SLICES; s++)
			crc32c_table[s][i] = (crc32c_table[s - 1][i] >> 8) ^
					     crc32c_table[0][crc32c_table[s - 1][i] & 0xff];
	__atomic_store_n(&crc32c_table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!__atomic_load_n(&crc32c_table_ready, __ATOMIC_ACQUIRE))
		crc32c_init_table();
	while (len && ((uintptr_t)p & 7)) {
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		/* p is 8-byte aligned here: one load, not eight byte loads and their shifts (the
		 * compiler cannot know the alignment and would split it) */
		uint64_t v = *(const uint64_t *)__builtin_assume_aligned(p, 8);
		uint32_t lo = crc ^ (uint32_t)v, hi = (uint32_t)(v >> 32);
		crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
		      crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
		      crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
		      crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

uint32_t crc32c(const void *buf, size_t len)
{
	return crc32c_update(0xffffffffu, buf, len) ^ 0xffffffffu;
}
