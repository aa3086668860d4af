/* Timers whose interval is shorter than an interrupt must not take their CPU away (issue 17: the
 * fuzzer's stuck workers were runnable threads queued on a CPU that did nothing but timer
 * interrupts, after a timerfd was set to a 1 ns interval).
 *
 * The test pins itself to one CPU, measures how much work it gets done in a short window, arms a
 * timer there with a 1 ns interval and measures again: it must still get a fair share (as on
 * Linux, where a timerfd's hrtimer is restarted only by a read, and an ITIMER_REAL one only when
 * its SIGALRM is dequeued). Then the timer's count and state are checked: a timerfd counts every
 * interval that passed, whoever reads it. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define WINDOW_MS 150
#define WINDOWS 3
#define FAIR_SHARE 4            /* with the timer armed, at least 1/FAIR_SHARE of the work */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Loop iterations in the best of WINDOWS windows of WINDOW_MS (the host may be busy). */
static uint64_t work(void)
{
	uint64_t best = 0;
	for (int w = 0; w < WINDOWS; w++) {
		volatile uint64_t n = 0;
		uint64_t end = now_ns() + WINDOW_MS * 1000000ULL;
		while (now_ns() < end)
			for (int i = 0; i < 1024; i++)
				n++;
		if (n > best)
			best = n;
	}
	return best;
}

int main(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CHECK("pin to cpu 0", sched_setaffinity(0, sizeof(set), &set) == 0, "errno %d", errno);
	uint64_t base = work();

	/* timerfd, 1 ns interval, nobody reading */
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	CHECK("timerfd_create", fd >= 0, "errno %d", errno);
	struct itimerspec its = { .it_interval = { 0, 1 }, .it_value = { 0, 1 } };
	CHECK("timerfd_settime 1 ns interval", timerfd_settime(fd, 0, &its, NULL) == 0, "errno %d", errno);
	uint64_t with = work();
	CHECK("timerfd 1 ns: the CPU still works", with * FAIR_SHARE >= base,
	      "%llu iterations per window, %llu without the timer", (unsigned long long)with, (unsigned long long)base);
	uint64_t count = 0;
	CHECK("timerfd counts every interval", read(fd, &count, sizeof(count)) == sizeof(count) &&
	      count > (uint64_t)WINDOWS * WINDOW_MS * 1000000ULL / 2, "count %llu", (unsigned long long)count);
	/* read again: the intervals since the last read, never 0 (1 ns passes between two reads) */
	uint64_t again = 0;
	CHECK("timerfd counts again after a read", read(fd, &again, sizeof(again)) == sizeof(again) && again >= 1,
	      "count %llu errno %d", (unsigned long long)again, errno);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK("timerfd stays readable", poll(&p, 1, 1000) == 1 && (p.revents & POLLIN), "revents %#x", p.revents);

	/* a 20 ms interval still wakes a blocked reader each time: the read re-arms the timer */
	struct itimerspec slow = { .it_interval = { 0, 20000000 }, .it_value = { 0, 20000000 } };
	timerfd_settime(fd, 0, &slow, NULL);
	int wakes = 0;
	uint64_t t0 = now_ns();
	for (int i = 0; i < 5; i++) {
		struct pollfd q = { .fd = fd, .events = POLLIN };
		if (poll(&q, 1, 1000) == 1 && read(fd, &count, sizeof(count)) == sizeof(count))
			wakes++;
	}
	uint64_t el = now_ns() - t0;
	CHECK("20 ms timerfd wakes poll 5 times", wakes == 5, "%d wakes", wakes);
	CHECK("... in about 100 ms", el >= 90000000ULL && el < 2000000000ULL, "%llu ns", (unsigned long long)el);
	close(fd);
	return t_finish();
}
