/* Timers whose interval is shorter than an interrupt must not take their CPU away (issue 17: the
 * fuzzer's stuck workers were runnable threads queued on a CPU that did nothing but timer
 * interrupts, after a timerfd was set to a 1 ns interval).
 *
 * The test pins itself to one CPU, measures how much work it gets done in a short window, arms a
 * timer there with a 1 ns interval and measures again: it must still get a fair share (as on
 * Linux, where a timerfd's hrtimer is restarted only by a read, and an ITIMER_REAL one only when
 * its SIGALRM is dequeued). Then the timer's count and state are checked: a timerfd counts every
 * interval that passed, whoever reads it; an itimer whose signal waits reads 0 left and runs
 * again once the signal is taken; a periodic itimer with a handler keeps its rate. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define WINDOW_MS 150
#define WINDOWS 3
#define FAIR_SHARE 4            /* with the timer armed, at least 1/FAIR_SHARE of the work */

static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

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

	/* ITIMER_REAL, 1 us interval, SIGALRM blocked: one expiry, then nothing until it is taken */
	sigset_t alrm, old;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_BLOCK, &alrm, &old);
	struct itimerval iv = { .it_interval = { 0, 1 }, .it_value = { 0, 1 } };
	CHECK("setitimer 1 us interval", setitimer(ITIMER_REAL, &iv, NULL) == 0, "errno %d", errno);
	with = work();
	CHECK("itimer 1 us, SIGALRM blocked: the CPU still works", with * FAIR_SHARE >= base,
	      "%llu iterations per window, %llu without the timer", (unsigned long long)with, (unsigned long long)base);
	sigset_t pend;
	sigpending(&pend);
	CHECK("SIGALRM pending", sigismember(&pend, SIGALRM) == 1, "not pending");
	struct itimerval cur;
	CHECK("getitimer while its signal waits: 0 left, interval kept", getitimer(ITIMER_REAL, &cur) == 0 &&
	      cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 && cur.it_interval.tv_usec == 1,
	      "value %ld.%06ld interval %ld.%06ld", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec,
	      (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec);
	int sfd = signalfd(-1, &alrm, SFD_CLOEXEC);
	struct signalfd_siginfo ssi = { 0 };
	CHECK("signalfd takes it", read(sfd, &ssi, sizeof(ssi)) == sizeof(ssi) && ssi.ssi_signo == SIGALRM,
	      "signo %u errno %d", ssi.ssi_signo, errno);
	/* taken: the timer runs again, and fires again at once */
	usleep(20000);
	sigpending(&pend);
	CHECK("after it was taken the timer fired again", sigismember(&pend, SIGALRM) == 1, "not pending");
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	CHECK("... and signalfd takes that one too", read(sfd, &ssi, sizeof(ssi)) == sizeof(ssi), "errno %d", errno);
	close(sfd);

	/* taken by sigwait (rt_sigtimedwait) instead: the same restart */
	setitimer(ITIMER_REAL, &iv, NULL);
	usleep(20000);
	int sig = 0;
	CHECK("sigwait takes it", sigwait(&alrm, &sig) == 0 && sig == SIGALRM, "sig %d", sig);
	usleep(20000);
	sigpending(&pend);
	CHECK("after sigwait the timer fired again", sigismember(&pend, SIGALRM) == 1, "not pending");
	setitimer(ITIMER_REAL, &off, NULL);
	sigwait(&alrm, &sig);

	/* a 2 ms interval with a handler: every delivery restarts it, about 100 in 200 ms */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	struct itimerval two = { .it_interval = { 0, 2000 }, .it_value = { 0, 2000 } };
	setitimer(ITIMER_REAL, &two, NULL);
	uint64_t end = now_ns() + 200000000ULL;
	while (now_ns() < end)
		;
	setitimer(ITIMER_REAL, &off, NULL);
	int n = alarms;
	CHECK("2 ms itimer with a handler: 30..110 signals in 200 ms", n >= 30 && n <= 110, "%d signals", n);
	return t_finish();
}
