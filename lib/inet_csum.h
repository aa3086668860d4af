/*
 * The Internet checksum (RFC 1071): the one's complement sum of 16-bit big-endian words, for
 * drivers and the stack's helpers that build or check IP/TCP/UDP headers themselves. No protocol
 * knowledge.
 *
 * inet_csum_add() adds len bytes at p (any alignment, any length; an odd last byte counts as the
 * high byte of a word) to an unfolded 64-bit sum and returns it; sums of consecutive pieces add up
 * as long as every piece but the last has an even length. inet_csum_fold() folds such a sum to 16
 * bits (not inverted): a checksum field gets ~inet_csum_fold(...), a received packet checks out
 * when inet_csum_fold over it (pseudo-header included) is 0xffff. Values are in host order.
 */
#ifndef LIB_INET_CSUM_H
#define LIB_INET_CSUM_H
#include "kernel/types.h"

uint64_t inet_csum_add(uint64_t sum, const void *p, size_t len);
uint16_t inet_csum_fold(uint64_t sum);

#endif
