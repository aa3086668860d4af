/* CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320) as zlib and the UEFI GPT use it. */
#ifndef LIB_CRC32_H
#define LIB_CRC32_H
#include "kernel/types.h"

/* crc32(0, p, n) is the CRC of p; pass a previous result to continue over more bytes. */
uint32_t crc32(uint32_t crc, const void *p, size_t n);

#endif
