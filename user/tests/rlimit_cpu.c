/*
 * RLIMIT_CPU as Linux enforces it: a busy process gets SIGXCPU (si_code SI_KERNEL) when its CPU
 * time reaches the soft limit, and again every further CPU second (Linux raises the soft limit
 * by one second each time, which getrlimit shows), then SIGKILL at the hard limit; with the
 * default action SIGXCPU ends it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define SOFT_SEC 1
#define HARD_SEC 3
#define MS 1000L
#define SLACK_MS 200L       /* CPU clocks are sampled (Linux: at ticks; qemu-user adds its threads) */

struct record { long cpu_ms; int code; long soft_after; };

static int report_fd;

static long cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * MS + ts.tv_nsec / 1000000;
}

static void on_xcpu(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	struct rlimit rl;
	getrlimit(RLIMIT_CPU, &rl);
	struct record r = { cpu_ms(), si->si_code, (long)rl.rlim_cur };
	write(report_fd, &r, sizeof(r));
}

static void __attribute__((noreturn)) spin(void)
{
	volatile unsigned long n = 0;
	for (;;)
		n++;
}

static void test_soft_then_hard(void)
{
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		report_fd = p[1];
		struct sigaction sa = { 0 };
		sa.sa_sigaction = on_xcpu;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGXCPU, &sa, NULL);
		struct rlimit rl = { SOFT_SEC, HARD_SEC };
		if (setrlimit(RLIMIT_CPU, &rl))
			_exit(2);
		spin();
	}
	close(p[1]);
	struct record r[8];
	int n = 0;
	ssize_t got;
	while (n < 8 && (got = read(p[0], &r[n], sizeof(r[n]))) == sizeof(r[n]))
		n++;
	int st;
	waitpid(c, &st, 0);
	close(p[0]);
	CHECK("hard_limit_sigkill", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
	CHECK("sigxcpu_each_second_until_hard", n == HARD_SEC - SOFT_SEC, "%d SIGXCPU", n);
	if (n >= 1)
		CHECK("first_at_soft_limit", r[0].cpu_ms >= SOFT_SEC * MS - SLACK_MS && r[0].cpu_ms < (SOFT_SEC + 1) * MS &&
		      r[0].code == SI_KERNEL && r[0].soft_after == SOFT_SEC + 1,
		      "cpu %ld ms code %d soft now %ld", r[0].cpu_ms, r[0].code, r[0].soft_after);
	if (n >= 2)
		CHECK("second_a_cpu_second_later", r[1].cpu_ms - r[0].cpu_ms >= MS - SLACK_MS &&
		      r[1].cpu_ms - r[0].cpu_ms <= MS + SLACK_MS && r[1].soft_after == SOFT_SEC + 2,
		      "cpu %ld ms (first %ld) soft now %ld", r[1].cpu_ms, r[0].cpu_ms, r[1].soft_after);
}

static void test_default_action(void)
{
	pid_t c = fork();
	if (c == 0) {
		struct rlimit rl = { SOFT_SEC, RLIM_INFINITY };
		setrlimit(RLIMIT_CPU, &rl);
		spin();
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("default_sigxcpu_kills", WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU, "status %#x", st);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_soft_then_hard();
	test_default_action();
	return t_finish();
}
