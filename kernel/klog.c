/*
 * The kernel log: every printk is also kept in a ring buffer (KLOG_SIZE bytes, oldest text
 * overwritten) in syslog's format, each line prefixed "<6>[seconds.micros] " with the time since
 * boot, and read back by syslog(2) (klogctl: what dmesg uses). Actions: READ_ALL (3) and
 * READ_CLEAR (4) copy the newest len bytes, CLEAR (5) empties, SIZE_BUFFER (10) and SIZE_UNREAD
 * (9) report sizes; READ (2, a destructive blocking read) and the rest answer EINVAL.
 *
 * Console level. As Linux's console_loglevel: printk text reaches the console only while the
 * level is above the message's. Every printk here is LOG_INFO (6) and the default level is 7, so
 * all of it shows until user space says otherwise: CONSOLE_OFF (6) saves the level and drops it to
 * 1 (dmesg -n 1; the contest runner does this so that messages such as the DHCP lease do not land
 * in the middle of a test's output), CONSOLE_ON (7) restores the saved level, CONSOLE_LEVEL (8)
 * sets it to len (1..8). The ring keeps everything whatever the level. A panic makes the console
 * verbose again (klog_console_verbose) so its report is never silenced.
 *
 * Lock: klog_lock, a leaf spinlock (interrupts off), so printk may log from any context. A user
 * copy happens after the bytes were copied out under the lock.
 */
#include "kernel/klog.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"

#define KLOG_SIZE (64 * 1024)
#define KLOG_PREFIX_MAX 32
#define LOG_INFO 6
#define SYSLOG_ACTION_READ_ALL 3
#define SYSLOG_ACTION_READ_CLEAR 4
#define SYSLOG_ACTION_CLEAR 5
#define SYSLOG_ACTION_CONSOLE_OFF 6
#define SYSLOG_ACTION_CONSOLE_ON 7
#define SYSLOG_ACTION_CONSOLE_LEVEL 8
#define SYSLOG_ACTION_SIZE_UNREAD 9
#define SYSLOG_ACTION_SIZE_BUFFER 10
#define CONSOLE_LOGLEVEL_DEFAULT 7        /* Linux's CONFIG_CONSOLE_LOGLEVEL_DEFAULT */
#define CONSOLE_LOGLEVEL_MIN 1            /* Linux's minimum_console_loglevel */
#define CONSOLE_LOGLEVEL_MAX 8
#define CONSOLE_LOGLEVEL_VERBOSE 15       /* Linux's CONSOLE_LOGLEVEL_MOTORMOUTH */

static char ring[KLOG_SIZE];
static uint64_t head;                     /* bytes ever written; ring[head % KLOG_SIZE] is next */
static uint64_t start;                    /* oldest byte still readable (after CLEAR) */
static bool line_start = true;
static struct spinlock klog_lock = SPINLOCK_INIT("klog");
/* Read without the lock by printk (a torn read cannot happen on an aligned int). */
static volatile int console_loglevel = CONSOLE_LOGLEVEL_DEFAULT;
static int saved_console_loglevel = -1;   /* CONSOLE_OFF's saved level; -1: none; klog_lock */

bool klog_console_on(void)
{
	return console_loglevel > LOG_INFO;
}

void klog_console_verbose(void)
{
	console_loglevel = CONSOLE_LOGLEVEL_VERBOSE;
}

static long console_level_action(int type, int len)
{
	if (type == SYSLOG_ACTION_CONSOLE_LEVEL && (len < 1 || len > CONSOLE_LOGLEVEL_MAX))
		return -EINVAL;
	spin_lock(&klog_lock);
	if (type == SYSLOG_ACTION_CONSOLE_OFF) {
		if (saved_console_loglevel == -1)
			saved_console_loglevel = console_loglevel;
		console_loglevel = CONSOLE_LOGLEVEL_MIN;
	} else if (type == SYSLOG_ACTION_CONSOLE_ON) {
		if (saved_console_loglevel != -1) {
			console_loglevel = saved_console_loglevel;
			saved_console_loglevel = -1;
		}
	} else {
		console_loglevel = len < CONSOLE_LOGLEVEL_MIN ? CONSOLE_LOGLEVEL_MIN : len;
		saved_console_loglevel = -1;
	}
	spin_unlock(&klog_lock);
	return 0;
}

static void put(const char *s, size_t n)  /* klog_lock held */
{
	for (size_t i = 0; i < n; i++)
		ring[(head + i) % KLOG_SIZE] = s[i];
	head += n;
	if (head - start > KLOG_SIZE)
		start = head - KLOG_SIZE;
}

void klog_write(const char *s, size_t n)
{
	int64_t sns = (int64_t)time_ns();
	uint64_t ns = sns > 0 ? (uint64_t)sns : 0;  /* before timer_init the clock is not set up */
	char prefix[KLOG_PREFIX_MAX];
	int plen = snprintf(prefix, sizeof(prefix), "<%d>[%5lu.%06lu] ", LOG_INFO,
			    (unsigned long)(ns / 1000000000), (unsigned long)(ns % 1000000000 / 1000));
	spin_lock(&klog_lock);
	while (n) {
		if (line_start)
			put(prefix, (size_t)plen);
		size_t k = 0;
		while (k < n && s[k] != '\n')
			k++;
		line_start = k < n;                  /* the line ends in this piece */
		k += line_start;
		put(s, k);
		s += k;
		n -= k;
	}
	spin_unlock(&klog_lock);
}

long sys_syslog(int type, uintptr_t ubuf, int len)
{
	switch (type) {
	case SYSLOG_ACTION_CLEAR:
		break;
	case SYSLOG_ACTION_CONSOLE_OFF:
	case SYSLOG_ACTION_CONSOLE_ON:
	case SYSLOG_ACTION_CONSOLE_LEVEL:
		return console_level_action(type, len);
	case SYSLOG_ACTION_SIZE_BUFFER:
		return KLOG_SIZE;
	case SYSLOG_ACTION_SIZE_UNREAD: {
		spin_lock(&klog_lock);
		long n = (long)(head - start);
		spin_unlock(&klog_lock);
		return n;
	}
	case SYSLOG_ACTION_READ_ALL:
	case SYSLOG_ACTION_READ_CLEAR: {
		if (len < 0)
			return -EINVAL;
		if (len == 0)
			return 0;
		if (!ubuf)
			return -EINVAL;
		char *tmp = kmalloc(KLOG_SIZE);
		if (!tmp)
			return -ENOMEM;
		spin_lock(&klog_lock);
		uint64_t avail = head - start, n = MIN(avail, (uint64_t)len);
		for (uint64_t i = 0; i < n; i++)                /* the newest n bytes */
			tmp[i] = ring[(head - n + i) % KLOG_SIZE];
		if (type == SYSLOG_ACTION_READ_CLEAR)
			start = head;
		spin_unlock(&klog_lock);
		long r = copy_to_user(ubuf, tmp, n) ? -EFAULT : (long)n;
		kfree(tmp);
		return r;
	}
	default:
		return -EINVAL;
	}
	if (type == SYSLOG_ACTION_CLEAR) {
		spin_lock(&klog_lock);
		start = head;
		spin_unlock(&klog_lock);
	}
	return 0;
}
