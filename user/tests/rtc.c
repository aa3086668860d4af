/*
 * /dev/rtc0 as hwclock reads it: RTC_RD_TIME gives the UTC calendar time, which agrees with
 * time(2) to a couple of seconds; unknown requests are ENOTTY, a bad pointer EFAULT. (Where the
 * host has no RTC device, qemu-user reports a SKIP; inside Ember that is a failure.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define BAD_PTR ((void *)0x10)

int main(void)
{
	struct rtc_time rt;
	int null = open("/dev/null", O_RDONLY);
	errno = 0;
	CHECK("not_an_rtc", ioctl(null, RTC_RD_TIME, &rt) == -1 && errno == ENOTTY, "errno %d", errno);
	close(null);
	int fd = open("/dev/rtc0", O_RDONLY);
	if (fd < 0 && (errno == ENOENT || errno == EACCES || errno == EPERM || errno == EBUSY)) {
		SKIP("rtc", "no usable /dev/rtc0 here");
		return t_finish();
	}
	CHECK("open", fd >= 0, "errno %d", errno);
	time_t before = time(NULL);
	int r = ioctl(fd, RTC_RD_TIME, &rt);
	time_t after = time(NULL);
	struct tm tm = { .tm_sec = rt.tm_sec, .tm_min = rt.tm_min, .tm_hour = rt.tm_hour, .tm_mday = rt.tm_mday,
			 .tm_mon = rt.tm_mon, .tm_year = rt.tm_year };
	time_t t = timegm(&tm);
	CHECK("rd_time", r == 0 && t >= before - 2 && t <= after + 2, "r %d rtc %ld now %ld", r, (long)t, (long)before);
	CHECK("rd_time_fields", rt.tm_mon >= 0 && rt.tm_mon < 12 && rt.tm_mday >= 1 && rt.tm_mday <= 31 &&
	      rt.tm_hour < 24 && rt.tm_min < 60 && rt.tm_sec < 61 && rt.tm_year >= 70, "fields");
	struct tm check;
	gmtime_r(&t, &check);
	CHECK("rd_time_wday_yday", (rt.tm_wday == check.tm_wday && rt.tm_yday == check.tm_yday) ||
	      (rt.tm_wday == 0 && rt.tm_yday == 0), "wday %d/%d yday %d/%d", rt.tm_wday, check.tm_wday,
	      rt.tm_yday, check.tm_yday);
	errno = 0;
	CHECK("efault", ioctl(fd, RTC_RD_TIME, BAD_PTR) == -1 && errno == EFAULT, "errno %d", errno);
	errno = 0;
	CHECK("enotty", ioctl(fd, 0x7000 /* no such request */) == -1 && errno == ENOTTY, "errno %d", errno);
	close(fd);
	return t_finish();
}
