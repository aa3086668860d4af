/* Time and identity system calls (kernel/systime.c). */
#ifndef KERNEL_SYSTIME_H
#define KERNEL_SYSTIME_H
#include "kernel/types.h"
void systime_init(void);
uint64_t realtime_offset_ns(void);
long sys_clock_gettime(int clk, uintptr_t ts);
long sys_clock_getres(int clk, uintptr_t ts);
long sys_gettimeofday(uintptr_t tv, uintptr_t tz);
long sys_nanosleep(uintptr_t req, uintptr_t rem);
long sys_clock_nanosleep(int clk, int flags, uintptr_t req, uintptr_t rem);
long sys_uname(uintptr_t buf);
long sys_sysinfo(uintptr_t info);
#endif
