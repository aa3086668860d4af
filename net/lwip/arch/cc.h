/*
 * lwIP compiler/platform glue for Ember (lwIP's arch/cc.h). Freestanding: no libc headers beyond the
 * compiler's (stddef, stdint, limits); the few libc routines lwIP's sources use come from
 * net/lwip/compat/ (string.h, stdlib.h) mapped onto the kernel's.
 *
 * Diagnostics never panic: LWIP_PLATFORM_ASSERT prints the failed assertion with its place and a
 * backtrace-free one-liner and counts it (ember_lwip_asserts), then lwIP's own error handling
 * continues (every LWIP_ASSERT in lwIP is followed by code that copes, or by LWIP_ERROR). A bad
 * frame from the wire must never stop the kernel.
 */
#ifndef EMBER_LWIP_ARCH_CC_H
#define EMBER_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H 1
#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "lu"

/* lwIP's byte-swapping helpers, inline (the kernel links without libgcc, whose __bswapsi2 the
 * builtins would call on RV64 without Zbb) */
static inline uint16_t ember_bswap16(uint16_t x) { return (uint16_t)(x << 8 | x >> 8); }
static inline uint32_t ember_bswap32(uint32_t x)
{
	return x << 24 | (x & 0xff00u) << 8 | (x >> 8 & 0xff00u) | x >> 24;
}
#define lwip_htons(x) ember_bswap16((uint16_t)(x))
#define lwip_htonl(x) ember_bswap32((uint32_t)(x))

/* Structures lwIP overlays on packets are packed: RV64 traps on misaligned access, and the compiler
 * then emits byte accesses where alignment is not known. */
#define PACK_STRUCT_BEGIN
#define PACK_STRUCT_STRUCT __attribute__((packed))
#define PACK_STRUCT_END
#define PACK_STRUCT_FIELD(x) x

void ember_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ember_lwip_assert(const char *msg, const char *file, int line);
uint32_t ember_lwip_rand(void);

#define LWIP_PLATFORM_DIAG(x) do { ember_lwip_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) ember_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() ember_lwip_rand()

#include "arch/sys_arch.h"

#endif
