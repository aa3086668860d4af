/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table driven, for ext4/jbd2 metadata
 * checksums and anything else that needs it. No subsystem knowledge.
 *
 * crc32c_update() is the raw register update Linux calls crc32c()/ext4_chksum(): no inversion on
 * the way in or out, so ext4 code passes ~0 (or a seed) and stores the result as is. crc32c() is
 * the standard finished checksum (init ~0, final xor ~0): crc32c("123456789") == 0xE3069283.
 */
#ifndef LIB_CRC32C_H
#define LIB_CRC32C_H
#include "kernel/types.h"

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c(const void *buf, size_t len);

#endif
