/*
 * Ember's vDSO: the time calls a process makes most often, answered in user mode, as Linux's
 * riscv vDSO does (same symbol names and version, LINUX_4.15, which glibc and musl look up).
 *
 * Theory. CLOCK_MONOTONIC is the rdtime counter (readable from U-mode: the kernel sets
 * scounteren.TM) converted to ns exactly as the kernel converts it (kernel/timer.c's
 * ticks_to_ns), so a time read here is never behind one the kernel gave earlier, and CLOCK_REALTIME
 * adds the offset the kernel read from the RTC at boot (struct vdso_data, the page right below
 * this code). Every other clock, and any bad argument, goes to the real system call, so errors
 * (EINVAL, EFAULT) are the kernel's own.
 *
 * Built as a position-independent shared object without libc (arch/riscv/vdso/vdso.lds), embedded
 * in the kernel (vdso_blob.S) and mapped into every process at exec (kernel/vdso.c).
 */
#include <stdint.h>
#include "arch/riscv/vdso/vdso_data.h"

#define NSEC_PER_SEC 1000000000ULL
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define NR_GETTIMEOFDAY 169
#define NR_CLOCK_GETTIME 113
#define NR_CLOCK_GETRES 114
#define NR_GETCPU 168

struct timespec_k { long tv_sec, tv_nsec; };
struct timeval_k { long tv_sec, tv_usec; };

extern const struct vdso_data vdso_data __attribute__((visibility("hidden")));

static long syscall3(long nr, long a0, long a1, long a2)
{
	register long r_a0 __asm__("a0") = a0;
	register long r_a1 __asm__("a1") = a1;
	register long r_a2 __asm__("a2") = a2;
	register long r_a7 __asm__("a7") = nr;
	__asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a2), "r"(r_a7) : "memory");
	return r_a0;
}

static uint64_t mono_ns(void)
{
	uint64_t t, hz = vdso_data.timebase_hz;
	__asm__ volatile("rdtime %0" : "=r"(t));
	return t / hz * NSEC_PER_SEC + t % hz * NSEC_PER_SEC / hz;
}

/* The clock's time in ns, or -1 for a clock the kernel must answer. */
static int64_t clock_ns(long clk)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		return (int64_t)(mono_ns() + vdso_data.rt_offset_ns);
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		return (int64_t)mono_ns();
	default:
		return -1;
	}
}

int __vdso_clock_gettime(long clk, struct timespec_k *ts)
{
	int64_t ns = clock_ns(clk);
	if (ns < 0 || !ts)
		return (int)syscall3(NR_CLOCK_GETTIME, clk, (long)ts, 0);
	ts->tv_sec = (long)((uint64_t)ns / NSEC_PER_SEC);
	ts->tv_nsec = (long)((uint64_t)ns % NSEC_PER_SEC);
	return 0;
}

int __vdso_gettimeofday(struct timeval_k *tv, void *tz)
{
	if (!tv || tz)
		return (int)syscall3(NR_GETTIMEOFDAY, (long)tv, (long)tz, 0);
	uint64_t ns = mono_ns() + vdso_data.rt_offset_ns;
	tv->tv_sec = (long)(ns / NSEC_PER_SEC);
	tv->tv_usec = (long)(ns % NSEC_PER_SEC / 1000);
	return 0;
}

int __vdso_clock_getres(long clk, struct timespec_k *res)
{
	return (int)syscall3(NR_CLOCK_GETRES, clk, (long)res, 0);
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	return (int)syscall3(NR_GETCPU, (long)cpu, (long)node, (long)cache);
}
