/*
 * System-wide /proc files in Linux's formats, for free, uptime, top, df, mount and glibc:
 *   /proc/meminfo      page allocator figures (mm/page.c); Ember has no swap or page cache
 *   /proc/uptime       time since boot and the summed idle time of all CPUs
 *   /proc/loadavg      1/5/15-minute averages of running+runnable threads, sampled every 5 s on
 *                      CPU 0's tick as Linux's calc_load does (11-bit fixed point, same constants)
 *   /proc/stat         per-CPU time from the scheduler tick's samples (struct cpu): "user" is a
 *                      tick that found a user process's thread running (in user mode or in a system
 *                      call: Ember does not tell them apart), "system" one that found a kernel
 *                      thread, "idle" the idle thread; plus context switches, boot time, forks
 *   /proc/filesystems  the registered types (fs/super.c); /proc/mounts is fs/mount.c's
 *   /proc/version, /proc/cpuinfo
 *   /proc/sys/fs/nr_open  RLIMIT_NOFILE's ceiling (fs/proc_nr_open.c, writable)
 * (statfs(2)/fstatfs(2) are the VFS's: fs/sync.c.)
 *
 * Everything is read without locks (counters are racy snapshots, as on Linux); loadavg_tick runs
 * in CPU 0's timer interrupt.
 */
#include "fs/internal.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "mm/page.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "kernel/systime.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"

#define CLK_TCK 100                       /* USER_HZ */
#define TICK_NS (NSEC_PER_SEC / SCHED_HZ)

/* Linux's calc_load (kernel/sched/loadavg.c): fixed point with 11 fractional bits. */
#define FSHIFT 11
#define FIXED_1 (1UL << FSHIFT)
#define LOAD_FREQ_TICKS (5 * SCHED_HZ + 1)  /* 5 s (+1 tick, as Linux, to avoid aliasing) */
#define EXP_1 1884
#define EXP_5 2014
#define EXP_15 2037

static unsigned long avenrun[3];
static unsigned load_countdown = LOAD_FREQ_TICKS;

static unsigned long calc_load(unsigned long load, unsigned long exp, unsigned long active)
{
	unsigned long newload = load * exp + active * (FIXED_1 - exp);
	if (active >= load)
		newload += FIXED_1 - 1;
	return newload / FIXED_1;
}

void loadavg_tick(void)
{
	if (--load_countdown)
		return;
	load_countdown = LOAD_FREQ_TICKS;
	unsigned long active = (unsigned long)sched_nr_active() * FIXED_1;
	avenrun[0] = calc_load(avenrun[0], EXP_1, active);
	avenrun[1] = calc_load(avenrun[1], EXP_5, active);
	avenrun[2] = calc_load(avenrun[2], EXP_15, active);
}

#define OUT(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
#define LOAD_INT(x) ((x) >> FSHIFT)
#define LOAD_FRAC(x) LOAD_INT(((x) & (FIXED_1 - 1)) * 100)

static size_t show_loadavg(char *buf, size_t size)
{
	struct sched_stats st;
	sched_get_stats(&st);
	unsigned long a[3] = { READ_ONCE(avenrun[0]), READ_ONCE(avenrun[1]), READ_ONCE(avenrun[2]) };
	size_t n = 0;
	OUT("%lu.%02lu %lu.%02lu %lu.%02lu %u/%d %d\n", LOAD_INT(a[0]), LOAD_FRAC(a[0]),
	    LOAD_INT(a[1]), LOAD_FRAC(a[1]), LOAD_INT(a[2]), LOAD_FRAC(a[2]), sched_nr_active(),
	    st.nthreads, procfs_last_pid());
	return MIN(n, size);
}

static size_t show_meminfo(char *buf, size_t size)
{
	struct page_stats ps;
	page_get_stats(&ps);
	unsigned long kb = PAGE_SIZE / 1024;
	size_t n = 0;
	OUT("MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
	    "Buffers:        %8lu kB\nCached:         %8lu kB\nSwapCached:     %8lu kB\n"
	    "SwapTotal:      %8lu kB\nSwapFree:       %8lu kB\nShmem:          %8lu kB\n"
	    "Slab:           %8lu kB\nSReclaimable:   %8lu kB\n",
	    (unsigned long)ps.total * kb, (unsigned long)ps.free * kb, (unsigned long)ps.free * kb,
	    0UL, 0UL, 0UL, 0UL, 0UL, 0UL, 0UL, 0UL);
	return MIN(n, size);
}

static uint64_t idle_ns_all(void)
{
	uint64_t idle = 0;
	for (int i = 0; i < NCPU; i++)
		if (cpus[i].online)
			idle += READ_ONCE(cpus[i].idle_ticks) * TICK_NS;
	return idle;
}

static size_t show_uptime(char *buf, size_t size)
{
	uint64_t up = time_ns(), idle = idle_ns_all();
	size_t n = 0;
	OUT("%lu.%02lu %lu.%02lu\n", (unsigned long)(up / NSEC_PER_SEC),
	    (unsigned long)(up % NSEC_PER_SEC / (NSEC_PER_SEC / 100)),
	    (unsigned long)(idle / NSEC_PER_SEC), (unsigned long)(idle % NSEC_PER_SEC / (NSEC_PER_SEC / 100)));
	return MIN(n, size);
}

/* Scheduler ticks (SCHED_HZ) to USER_HZ. */
static unsigned long user_hz(uint64_t sched_ticks) { return (unsigned long)(sched_ticks * CLK_TCK / SCHED_HZ); }

static size_t show_stat(char *buf, size_t size)
{
	uint64_t u = 0, s = 0, id = 0, ctxt = 0;
	for (int i = 0; i < NCPU; i++) {
		if (!cpus[i].online)
			continue;
		u += READ_ONCE(cpus[i].user_ticks);
		s += READ_ONCE(cpus[i].system_ticks);
		id += READ_ONCE(cpus[i].idle_ticks);
		ctxt += READ_ONCE(cpus[i].ctx_switches);
	}
	size_t n = 0;
	OUT("cpu  %lu 0 %lu %lu 0 0 0 0 0 0\n", user_hz(u), user_hz(s), user_hz(id));
	for (int i = 0; i < NCPU; i++)
		if (cpus[i].online)
			OUT("cpu%d %lu 0 %lu %lu 0 0 0 0 0 0\n", i, user_hz(READ_ONCE(cpus[i].user_ticks)),
			    user_hz(READ_ONCE(cpus[i].system_ticks)), user_hz(READ_ONCE(cpus[i].idle_ticks)));
	uint64_t boot_s = realtime_offset_ns() / NSEC_PER_SEC;
	OUT("intr 0\nctxt %lu\nbtime %lu\nprocesses %lu\nprocs_running %u\nprocs_blocked 0\n",
	    (unsigned long)ctxt, (unsigned long)boot_s, procfs_forks(), sched_nr_active());
	return MIN(n, size);
}

static size_t show_version(char *buf, size_t size)
{
	size_t n = 0;
	OUT("Linux version 6.1.0-ember (ember) (riscv64-unknown-elf-gcc) #1 SMP Ember\n");
	return MIN(n, size);
}

static size_t show_cpuinfo(char *buf, size_t size)
{
	size_t n = 0;
	for (int i = 0; i < NCPU; i++)
		if (cpus[i].online)
			OUT("processor\t: %d\nhart\t\t: %lu\nisa\t\t: %s\nmmu\t\t: sv39\n\n", i,
			    cpus[i].hartid, platform.isa);
	return MIN(n, size);
}

int proc_sys_init(void)
{
	int err = 0;
	err = err ?: proc_create("/proc/meminfo", show_meminfo);
	err = err ?: proc_create("/proc/uptime", show_uptime);
	err = err ?: proc_create("/proc/loadavg", show_loadavg);
	err = err ?: proc_create("/proc/stat", show_stat);
	err = err ?: proc_create("/proc/filesystems", filesystems_show);
	err = err ?: proc_create("/proc/version", show_version);
	err = err ?: proc_create("/proc/cpuinfo", show_cpuinfo);
	err = err ?: proc_nr_open_init();
	return err;
}

