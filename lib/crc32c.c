/*
 * CRC-32C, one byte per step through a 256-entry table computed once at first use (1 KiB of
 * .bss; the table build is idempotent, so a race between two first callers is harmless).
 */
#include "lib/crc32c.h"

#define CRC32C_POLY 0x82F63B78u   /* Castagnoli polynomial, bit-reflected */

static uint32_t crc32c_table[256];
static int crc32c_table_ready;

static void crc32c_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_table[i] = c;
	}
	__atomic_store_n(&crc32c_table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!__atomic_load_n(&crc32c_table_ready, __ATOMIC_ACQUIRE))
		crc32c_init_table();
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

uint32_t crc32c(const void *buf, size_t len)
{
	return crc32c_update(0xffffffffu, buf, len) ^ 0xffffffffu;
}
