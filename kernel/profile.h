/* The statistical kernel profiler behind /proc/profile (kernel/profile.c): boot with profile=N. */
#ifndef KERNEL_PROFILE_H
#define KERNEL_PROFILE_H

#include "kernel/types.h"

/* A timer interrupt taken in kernel mode at pc, with frame pointer fp (interrupt context). */
void profile_hit(uint64_t pc, uint64_t fp);

#endif
