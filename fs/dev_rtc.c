/*
 * /dev/rtc0, the real-time clock as Linux's rtc class device shows it to hwclock: RTC_RD_TIME
 * gives the time in UTC as a struct rtc_time. Ember reads the goldfish RTC once at boot
 * (kernel/systime.c) and keeps CLOCK_REALTIME from it, which nothing can set, so the device
 * answers from CLOCK_REALTIME: the same time the hardware would give. RTC_SET_TIME answers EPERM
 * (Ember does not write the hardware clock); any other request ENOTTY. No state, no locks.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/systime.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"

#define RTC_MAJOR 254                     /* Linux gives the rtc class a dynamic major; 254 is usual */
#define RTC_RD_TIME 0x80247009UL          /* _IOR('p', 0x09, struct rtc_time) */
#define RTC_SET_TIME 0x4024700aUL         /* _IOW('p', 0x0a, struct rtc_time) */
#define SECS_PER_DAY 86400
#define EPOCH_WDAY 4                      /* 1970-01-01 was a Thursday */

struct rtc_time { int tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst; };

static bool leap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Seconds since the epoch to a UTC calendar time. */
static void to_tm(uint64_t secs, struct rtc_time *tm)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long days = (long)(secs / SECS_PER_DAY), rem = (long)(secs % SECS_PER_DAY);
	tm->tm_hour = (int)(rem / 3600);
	tm->tm_min = (int)(rem % 3600 / 60);
	tm->tm_sec = (int)(rem % 60);
	tm->tm_wday = (int)((days + EPOCH_WDAY) % 7);
	long y = 1970;
	while (days >= (leap(y) ? 366 : 365)) {
		days -= leap(y) ? 366 : 365;
		y++;
	}
	tm->tm_year = (int)(y - 1900);
	tm->tm_yday = (int)days;
	int m = 0;
	while (days >= mdays[m] + (m == 1 && leap(y))) {
		days -= mdays[m] + (m == 1 && leap(y));
		m++;
	}
	tm->tm_mon = m;
	tm->tm_mday = (int)days + 1;
	tm->tm_isdst = 0;
}

static long rtc_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
	(void)f;
	if (cmd == RTC_RD_TIME) {
		struct rtc_time tm;
		to_tm((time_ns() + realtime_offset_ns()) / NSEC_PER_SEC, &tm);
		return copy_to_user(arg, &tm, sizeof(tm)) ? -EFAULT : 0;
	}
	if (cmd == RTC_SET_TIME)
		return -EPERM;
	return -ENOTTY;
}

static long rtc_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)ubuf; (void)n; (void)pos;
	return -EINVAL;                       /* update interrupts are not offered */
}

static const struct file_ops rtc_ops = { .read = rtc_read, .ioctl = rtc_ioctl };

int dev_rtc_init(void)
{
	return dev_create("/dev/rtc0", 0600, RTC_MAJOR, 0, &rtc_ops, NULL);
}
