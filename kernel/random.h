/* Kernel random numbers: a xoshiro256** generator per CPU seeded from the timer and the boot hart's
 * entropy-free state. Good for AT_RANDOM, getrandom and ephemeral ports; not cryptographic. */
#ifndef KERNEL_RANDOM_H
#define KERNEL_RANDOM_H
#include "kernel/types.h"
void get_random_bytes(void *buf, size_t n);
uint64_t random_u64(void);
long sys_getrandom(uintptr_t buf, size_t len, unsigned flags);
#endif
