/*
 * Time system calls: clock_gettime/getres, gettimeofday, nanosleep, clock_nanosleep; plus uname,
 * sysinfo and the identity calls of a single-user system (uid/gid 0). CLOCK_REALTIME is the
 * monotonic clock plus an offset read from the goldfish RTC at boot (QEMU virt has one).
 */
#include "kernel/errno.h"
#include "kernel/fdt.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "lib/string.h"
#include "kernel/systime.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "kernel/wait.h"
#include "arch/riscv/riscv.h"

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define TIMER_ABSTIME 1
#define GOLDFISH_TIME_LOW 0x00
#define GOLDFISH_TIME_HIGH 0x04
#define UTS_LEN 65

struct k_timespec { long sec, nsec; };

static uint64_t rt_offset;

uint64_t realtime_offset_ns(void) { return rt_offset; }

void systime_init(void)
{
	int n = fdt_find_compatible(-1, "google,goldfish-rtc");
	uint64_t base, size;
	if (n < 0 || !fdt_reg(n, 0, &base, &size))
		return;
	volatile uint8_t *rtc = pa_to_va(base);
	uint64_t lo = mmio_read32(rtc + GOLDFISH_TIME_LOW);     /* reading low latches high */
	uint64_t hi = mmio_read32(rtc + GOLDFISH_TIME_HIGH);
	uint64_t now = (hi << 32) | lo;
	rt_offset = now - time_ns();
}

static uint64_t proc_cpu_ns(struct proc *p)
{
	uint64_t u, s;
	proc_times(p, &u, &s);
	return u + s;
}

static int clock_ns(int clk, uint64_t *ns)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		*ns = time_ns() + rt_offset;
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		*ns = time_ns();
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
		*ns = proc_cpu_ns(current->proc) + (time_ns() - current->kernel_enter_ns);
		return 0;
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = current->utime_ns + current->stime_ns + (time_ns() - current->kernel_enter_ns);
		return 0;
	default:
		return -EINVAL;
	}
}

static struct k_timespec to_ts(uint64_t ns) { return (struct k_timespec){ (long)(ns / NSEC_PER_SEC), (long)(ns % NSEC_PER_SEC) }; }

long sys_clock_gettime(int clk, uintptr_t uts)
{
	uint64_t ns;
	int r = clock_ns(clk, &ns);
	if (r < 0)
		return r;
	struct k_timespec ts = to_ts(ns);
	return copy_to_user(uts, &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

long sys_clock_getres(int clk, uintptr_t uts)
{
	uint64_t ns;
	if (clock_ns(clk, &ns) < 0)
		return -EINVAL;
	struct k_timespec ts = { 0, (long)(NSEC_PER_SEC / timebase_hz) ? (long)(NSEC_PER_SEC / timebase_hz) : 1 };
	return uts && copy_to_user(uts, &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

long sys_gettimeofday(uintptr_t utv, uintptr_t utz)
{
	uint64_t ns = time_ns() + rt_offset;
	long tv[2] = { (long)(ns / NSEC_PER_SEC), (long)(ns % NSEC_PER_SEC / 1000) };
	if (utv && copy_to_user(utv, tv, sizeof(tv)) < 0)
		return -EFAULT;
	if (utz && clear_user(utz, 2 * sizeof(int)) < 0)
		return -EFAULT;
	return 0;
}

static struct waitq sleep_wq = WAITQ_INIT(sleep_wq, "nanosleep");
static long sleep_restart(struct restart_block *rb);

/* Sleeps until the monotonic deadline (ns): 0, or a restart code when a signal is pending (it
 * may be one nobody handles: an ignored SIGCHLD that a blocking thread let through, a stop and
 * SIGCONT). As Linux: a relative sleep writes the time left to urem and returns
 * -ERESTART_RESTARTBLOCK, so that with no handler it goes on to the same deadline through
 * restart_syscall; an absolute one returns -ERESTARTNOHAND and is simply made again. Either is
 * EINTR once a handler ran, whatever SA_RESTART says. */
static long sleep_ns_until(uint64_t deadline_ns, bool relative, uintptr_t urem)
{
	uint64_t now = time_ns();
	if (deadline_ns <= now)
		return 0;
	wait_event_timeout(&sleep_wq, signal_pending(), deadline_ns - now);
	now = time_ns();
	if (now >= deadline_ns || !signal_pending())
		return 0;
	if (!relative)
		return -ERESTARTNOHAND;
	if (urem) {
		struct k_timespec rem = to_ts(deadline_ns - now);
		if (copy_to_user(urem, &rem, sizeof(rem)) < 0)
			return -EFAULT;
	}
	struct restart_block *rb = &current->restart;
	rb->fn = sleep_restart;
	rb->sleep.deadline_ns = deadline_ns;
	rb->sleep.urem = urem;
	return -ERESTART_RESTARTBLOCK;
}

/* restart_syscall after an interrupted relative sleep: on to the same deadline */
static long sleep_restart(struct restart_block *rb)
{
	return sleep_ns_until(rb->sleep.deadline_ns, true, rb->sleep.urem);
}

static int read_ts(uintptr_t u, uint64_t *ns)
{
	struct k_timespec ts;
	if (copy_from_user(&ts, u, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (long)NSEC_PER_SEC)
		return -EINVAL;
	*ns = (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec;
	return 0;
}

long sys_nanosleep(uintptr_t ureq, uintptr_t urem)
{
	uint64_t ns;
	int r = read_ts(ureq, &ns);
	if (r < 0)
		return r;
	return sleep_ns_until(time_ns() + ns, true, urem);
}

long sys_clock_nanosleep(int clk, int flags, uintptr_t ureq, uintptr_t urem)
{
	uint64_t ns, now;
	if (clk == CLOCK_THREAD_CPUTIME_ID || clk == CLOCK_PROCESS_CPUTIME_ID)
		return -EINVAL;
	if (clock_ns(clk, &now) < 0)
		return -EINVAL;
	int r = read_ts(ureq, &ns);
	if (r < 0)
		return r;
	if (flags & TIMER_ABSTIME) {
		uint64_t rel = ns > now ? ns - now : 0;
		return sleep_ns_until(time_ns() + rel, false, 0);
	}
	return sleep_ns_until(time_ns() + ns, true, urem);
}

long sys_uname(uintptr_t ubuf)
{
	static const char fields[6][UTS_LEN] = { "Linux", "ember", "6.1.0-ember", "#1 SMP Ember", "riscv64", "(none)" };
	return copy_to_user(ubuf, fields, sizeof(fields)) < 0 ? -EFAULT : 0;
}

struct k_sysinfo {
	long uptime;
	unsigned long loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	unsigned short procs, pad;
	unsigned long totalhigh, freehigh;
	unsigned mem_unit;
	/* Linux's _f[20 - 2 * sizeof(long) - sizeof(int)] is empty on 64-bit: the struct is 112 bytes */
};
_Static_assert(sizeof(struct k_sysinfo) == 112, "struct sysinfo on riscv64");

long sys_sysinfo(uintptr_t uinfo)
{
	struct k_sysinfo si;
	struct page_stats ps;
	memset(&si, 0, sizeof(si));
	page_get_stats(&ps);
	si.uptime = (long)(time_ns() / NSEC_PER_SEC);
	si.totalram = ps.total * PAGE_SIZE;
	si.freeram = ps.free * PAGE_SIZE;
	si.procs = 1;
	si.mem_unit = 1;
	return copy_to_user(uinfo, &si, sizeof(si)) < 0 ? -EFAULT : 0;
}
