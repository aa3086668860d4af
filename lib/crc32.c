/* CRC-32, bytewise with a 256-entry table built on first use (lib/crc32.h). */
#include "lib/crc32.h"

#define CRC32_POLY 0xedb88320u

static uint32_t table[256];
static volatile bool table_ready;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? CRC32_POLY ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	table_ready = true;    /* racing builders write the same values */
}

uint32_t crc32(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	if (!table_ready)
		build_table();
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
