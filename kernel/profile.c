/*
 * /proc/profile: Linux's statistical kernel profiler (kernel/profile.c there), read by
 * `readprofile` (busybox, util-linux) with the kernel's symbol map.
 *
 * Theory. Booted with `profile=N` (N: the shift, 0..PROFILE_SHIFT_MAX), every timer interrupt
 * that lands in kernel mode adds one to the counter of the interrupted pc: counter
 * (pc - _text_start) >> N, over the kernel's text. Timer interrupts come at least every scheduler
 * tick on every CPU, idle or not (the idle loop's wfi is where an idle CPU is seen), so over a run
 * the counters say where the kernel spends its time outside interrupts-off sections (a sample is
 * taken only when interrupts are on, as on Linux without NMI profiling). User-mode samples are not
 * counted (Linux's profile_tick does the same). A sample in the lock functions, where a timer
 * interrupt held back by a spinlock is taken when the last lock is dropped, is charged to the
 * function that dropped it (profile_pc, as Linux's profile_pc for in_lock_functions): the
 * critical section that ended there.
 *
 * The file, as Linux's: one unsigned int, the step in bytes (1 << N), then one unsigned int per
 * step of text. A write of any bytes resets the counters. Without profile= there is no
 * /proc/profile (as on Linux).
 *
 * Concurrency: counters are bumped with relaxed atomic adds from any CPU's interrupt handler and
 * read without a lock (a read may mix counts from before and after a sample: a statistical file).
 * The buffer is allocated once at boot and never freed.
 */
#include "kernel/init.h"
#include "kernel/profile.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/errno.h"
#include "fs/internal.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"
#include "lib/string.h"

#define PROFILE_SHIFT_MAX 16
#define PROFILE_PARAM "profile="

extern char _text_start[], _text_end[];

static uint32_t *counters;             /* [0]: the step; then one per step of text */
static size_t ncounters;               /* counters after the step word */
static unsigned shift;

/* The pc a sample is charged to: a pc in the lock functions (where held-back timer interrupts
 * land: kernel/spinlock.c) is replaced by their caller's, walking frame pointers (fp - 8: the
 * return address, fp - 16: the caller's fp) within the running thread's kernel stack. */
static uint64_t profile_pc(uint64_t pc, uint64_t fp)
{
	uint64_t lo = (uint64_t)current->kstack, hi = lo + KSTACK_SIZE;
	while (pc >= (uint64_t)__lock_text_start && pc < (uint64_t)__lock_text_end) {
		if (fp < lo + 16 || fp > hi || fp & 7)
			break;
		pc = ((uint64_t *)fp)[-1];
		fp = ((uint64_t *)fp)[-2];
	}
	return pc;
}

void profile_hit(uint64_t pc, uint64_t fp)
{
	if (!counters)
		return;
	pc = profile_pc(pc, fp);
	uint64_t off = pc - (uint64_t)_text_start;
	if (pc < (uint64_t)_text_start || (off >> shift) >= ncounters)
		return;
	__atomic_add_fetch(&counters[1 + (off >> shift)], 1, __ATOMIC_RELAXED);
}

/* The last profile=N among the kernel's arguments (those before "--"), with Linux's
 * profile=schedule,N / sleep,N / kvm,N forms taken as plain CPU profiling; -1 when absent or
 * malformed. */
static int parse_shift(const char *args)
{
	int found = -1;
	size_t plen = strlen(PROFILE_PARAM);
	for (const char *p = args; p && *p;) {
		while (*p == ' ')
			p++;
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 2 && !strncmp(p, "--", 2))
			break;
		if (len > plen && !strncmp(p, PROFILE_PARAM, plen)) {
			const char *v = p + plen, *stop = p + len;
			for (const char *c = v; c < stop; c++)
				if (*c == ',')
					v = c + 1;
			int n = 0, digits = 0;
			for (; v < stop && *v >= '0' && *v <= '9'; v++, digits++)
				n = n * 10 + (*v - '0');
			found = digits && v == stop && n <= PROFILE_SHIFT_MAX ? n : -1;
		}
		p += len;
	}
	return found;
}

static size_t profile_size(void) { return (ncounters + 1) * sizeof(uint32_t); }

static long profile_read(struct file *f __unused, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	size_t size = profile_size();
	if (*pos >= size)
		return 0;
	size_t len = MIN(n, size - *pos);
	if (copy_to_user(ubuf, (const char *)counters + *pos, len))
		return -EFAULT;
	*pos += len;
	return (long)len;
}

static long profile_write(struct file *f __unused, uintptr_t ubuf __unused, size_t n, uint64_t *pos __unused)
{
	for (size_t i = 1; i <= ncounters; i++)
		__atomic_store_n(&counters[i], 0, __ATOMIC_RELAXED);
	return (long)n;
}

/* seekable (a file position, which read needs to end): Linux's is a regular file too */
static long profile_llseek(struct file *f, long off, int whence)
{
	return generic_llseek(f, off, whence, profile_size());
}

static int profile_open(struct inode *ino __unused, struct file *f __unused) { return 0; }

static const struct file_ops profile_fops = {
	.open = profile_open, .read = profile_read, .write = profile_write, .llseek = profile_llseek,
};
static const struct inode_ops profile_iops = { 0 };

static void profile_init(void)
{
	int s = parse_shift(platform.bootargs);
	if (s < 0)
		return;
	size_t n = (((size_t)(_text_end - _text_start)) >> s) + 1;
	uint32_t *buf = kzalloc((n + 1) * sizeof(uint32_t));
	if (!buf) {
		printk("profile: no memory for %zu counters\n", n);
		return;
	}
	buf[0] = 1u << s;
	shift = (unsigned)s;
	ncounters = n;
	if (proc_node("/proc/profile", S_IFREG | 0600, &profile_fops, &profile_iops, NULL) < 0) {
		printk("profile: cannot create /proc/profile\n");
		kfree(buf);
		return;
	}
	__atomic_store_n(&counters, buf, __ATOMIC_RELEASE);
	printk("kernel profiling enabled (shift: %d)\n", s);
}
late_init(profile_init);
