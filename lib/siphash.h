/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed 64-bit
 * hash for short inputs that an attacker who does not know the key cannot predict or steer. Used
 * where wire input picks a value that must not be forgeable (net/syncookie.c). Pure function, any
 * context. (A lib/ helper in the new layout.)
 */
#ifndef LIB_SIPHASH_H
#define LIB_SIPHASH_H
#include "kernel/types.h"

#define SIPHASH_KEY_LEN 16

/* The hash of len bytes at data under a 16-byte key (the key's bytes 0-7 and 8-15 are k0 and k1,
 * little-endian, as in the paper's reference code). */
uint64_t siphash_2_4(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len);

#endif
