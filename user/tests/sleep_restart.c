/*
 * Interrupted sleeps and waits that no handler took go on, as on Linux: nanosleep and
 * clock_nanosleep (relative: restart_syscall to the same deadline; absolute: made again), ppoll
 * (with the time left), FUTEX_WAIT with a timeout (restart_syscall: ETIMEDOUT at the deadline) and
 * sigsuspend (until a handler ran). The signal that interrupts them:
 *   - a SIGCHLD (default action: ignore) that reached a sleeping thread because the forking
 *     thread blocked it (musl's fork blocks every signal around clone: this made a thread's
 *     sleep(240) in tests-musl/poll end early);
 *   - a stop and SIGCONT sent to a sleeping child.
 * And the other side: when a handler runs, nanosleep and ppoll fail with EINTR even under
 * SA_RESTART, and so does a FUTEX_WAIT with a timeout; nanosleep tells the time left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define SLEEP_MS 400                /* each sleeper's sleep */
#define FORK_AT_MS 100              /* when the blocking thread forks its short-lived child */
#define SLACK_MS 10                 /* a sleep may end this much early by clock rounding */

enum sleeper_kind { NANOSLEEP, CLOCK_REL, CLOCK_ABS, PPOLL, FUTEX_TIMED, SLEEPER_KINDS };
static const char *const kind_name[] = { "nanosleep", "clock_nanosleep relative", "clock_nanosleep absolute",
					 "ppoll", "FUTEX_WAIT with a timeout" };

struct sleeper {
	enum sleeper_kind kind;
	int ret, err;
	long elapsed_ms;
};

/* Slept its whole time: 0, or ETIMEDOUT for the futex; and not early. */
static bool whole_time(const struct sleeper *s)
{
	bool ret_ok = s->kind == FUTEX_TIMED ? s->ret == -1 && s->err == ETIMEDOUT : s->ret == 0;
	return ret_ok && s->elapsed_ms >= SLEEP_MS - SLACK_MS;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec ms_ts(long ms) { return (struct timespec){ ms / 1000, (ms % 1000) * 1000000L }; }

static void *sleeper(void *arg)
{
	struct sleeper *s = arg;
	long t0 = now_ms();
	struct timespec ts = ms_ts(SLEEP_MS);
	int p[2];
	switch (s->kind) {
	case NANOSLEEP:
		s->ret = nanosleep(&ts, NULL);
		s->err = s->ret ? errno : 0;
		break;
	case CLOCK_REL:
		s->ret = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);   /* returns the error */
		s->err = s->ret;
		break;
	case CLOCK_ABS: {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += ts.tv_sec;
		until.tv_nsec += ts.tv_nsec;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		s->ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
		s->err = s->ret;
		break;
	}
	case PPOLL:
		if (pipe(p) < 0) {
			s->ret = -2;
			break;
		}
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		s->ret = ppoll(&pf, 1, &ts, NULL);                          /* nothing is ever written */
		s->err = s->ret < 0 ? errno : 0;
		close(p[0]);
		close(p[1]);
		break;
	case FUTEX_TIMED: {
		static uint32_t word;                               /* never woken */
		s->ret = (int)syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		s->err = s->ret < 0 ? errno : 0;
		break;
	}
	default:
		break;
	}
	s->elapsed_ms = now_ms() - t0;
	return NULL;
}

/* One thread per kind sleeps while this thread, with SIGCHLD blocked, forks a child that exits at
 * once: its SIGCHLD can only go to a sleeper, where nobody handles it. */
static void ignored_sigchld_wakes_sleepers(void)
{
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &old);
	struct sleeper s[SLEEPER_KINDS];
	pthread_t th[SLEEPER_KINDS];
	for (int k = 0; k < SLEEPER_KINDS; k++) {
		s[k] = (struct sleeper){ .kind = (enum sleeper_kind)k };
		sigset_t open;                                   /* the sleepers do not block SIGCHLD */
		sigemptyset(&open);
		pthread_sigmask(SIG_SETMASK, &open, NULL);
		pthread_create(&th[k], NULL, sleeper, &s[k]);
		pthread_sigmask(SIG_BLOCK, &chld, NULL);
	}
	struct timespec d = ms_ts(FORK_AT_MS);
	nanosleep(&d, NULL);
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	int st = -1;
	long t0 = now_ms();
	while (now_ms() - t0 < 2 * SLEEP_MS && waitpid(c, &st, WNOHANG) == 0) {
		struct timespec tick = ms_ts(5);
		nanosleep(&tick, NULL);                          /* leave SIGCHLD pending on the process */
	}
	for (int k = 0; k < SLEEPER_KINDS; k++) {
		pthread_join(th[k], NULL);
		char name[96];
		snprintf(name, sizeof(name), "ignored SIGCHLD: %s sleeps its whole time", kind_name[k]);
		CHECK(name, whole_time(&s[k]),
		      "returned %d (error %s) after %ld ms of %d", s[k].ret, strerror(s[k].err), s[k].elapsed_ms, SLEEP_MS);
	}
	CHECK("ignored SIGCHLD: the child was reaped", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* A child sleeps SLEEP_MS; it is stopped and continued meanwhile: the sleep goes on. */
static void stop_and_continue(enum sleeper_kind kind)
{
	int p[2];
	if (pipe(p) < 0) {
		FAIL("stop/continue: pipe", "%s", strerror(errno));
		return;
	}
	pid_t c = fork();
	if (c == 0) {
		struct sleeper s = { .kind = kind };
		sleeper(&s);
		if (write(p[1], &s, sizeof(s)) != (ssize_t)sizeof(s))
			_exit(2);
		_exit(0);
	}
	struct timespec d = ms_ts(FORK_AT_MS);
	nanosleep(&d, NULL);
	kill(c, SIGSTOP);
	int st = 0;
	waitpid(c, &st, WUNTRACED);
	bool stopped = WIFSTOPPED(st);
	nanosleep(&d, NULL);
	kill(c, SIGCONT);
	struct sleeper s = { .ret = -9 };
	ssize_t n = read(p[0], &s, sizeof(s));
	waitpid(c, &st, 0);
	close(p[0]);
	close(p[1]);
	char name[96];
	snprintf(name, sizeof(name), "stop and SIGCONT: %s sleeps its whole time", kind_name[kind]);
	CHECK(name, stopped && n == (ssize_t)sizeof(s) && whole_time(&s),
	      "stopped %d, read %zd, returned %d (error %s) after %ld ms of %d", stopped, n, s.ret, strerror(s.err),
	      s.elapsed_ms, SLEEP_MS);
}

static volatile sig_atomic_t usr1_seen;
static void on_usr1(int sig) { (void)sig; usr1_seen++; }

/* A handler runs (installed with SA_RESTART): the sleep fails with EINTR at once. */
static void handler_interrupts(enum sleeper_kind kind)
{
	struct sleeper s = { .kind = kind };
	pthread_t th;
	usr1_seen = 0;
	pthread_create(&th, NULL, sleeper, &s);
	struct timespec d = ms_ts(FORK_AT_MS);
	nanosleep(&d, NULL);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	int want = kind == CLOCK_REL || kind == CLOCK_ABS ? EINTR : -1;     /* clock_nanosleep returns it */
	bool ok = (s.ret == want || (want == -1 && s.ret == -1)) && s.err == EINTR && usr1_seen == 1 &&
		  s.elapsed_ms < SLEEP_MS;
	char name[96];
	snprintf(name, sizeof(name), "SA_RESTART handler: %s fails with EINTR", kind_name[kind]);
	CHECK(name, ok, "returned %d (error %s) after %ld ms, handler ran %d times", s.ret, strerror(s.err),
	      s.elapsed_ms, (int)usr1_seen);
}

static void *remaining_sleeper(void *arg)
{
	struct timespec *rem = arg, ts = ms_ts(SLEEP_MS);
	if (nanosleep(&ts, rem) == 0)
		rem->tv_sec = -1;                                /* not interrupted */
	return NULL;
}

/* nanosleep interrupted by a handler writes the time left. */
static void remaining_time(void)
{
	struct timespec rem = { 0, 0 };
	pthread_t th;
	pthread_create(&th, NULL, remaining_sleeper, &rem);
	struct timespec d = ms_ts(FORK_AT_MS);
	nanosleep(&d, NULL);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	long left = rem.tv_sec * 1000 + rem.tv_nsec / 1000000;
	CHECK("SA_RESTART handler: nanosleep writes the time left", rem.tv_sec == 0 && left > 0 &&
	      left <= SLEEP_MS - FORK_AT_MS + SLACK_MS, "left %ld.%09ld s", (long)rem.tv_sec, rem.tv_nsec);
}

/* sigsuspend with SIGCHLD open: the child's exit wakes it for nothing; it returns only after a
 * later SIGUSR1 ran its handler. */
static void sigsuspend_waits_for_handler(void)
{
	sigset_t both, old;
	sigemptyset(&both);
	sigaddset(&both, SIGCHLD);
	sigaddset(&both, SIGUSR1);
	sigprocmask(SIG_BLOCK, &both, &old);
	usr1_seen = 0;
	pid_t quick = fork();
	if (quick == 0)
		_exit(0);
	pid_t later = fork();
	if (later == 0) {
		struct timespec d = ms_ts(SLEEP_MS);
		nanosleep(&d, NULL);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	struct timespec d = ms_ts(FORK_AT_MS);
	nanosleep(&d, NULL);                                     /* quick has exited: SIGCHLD pending */
	sigset_t open = old;
	sigdelset(&open, SIGCHLD);
	sigdelset(&open, SIGUSR1);
	long t0 = now_ms();
	int r = sigsuspend(&open);
	int e = errno;
	long waited = now_ms() - t0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	waitpid(quick, NULL, 0);
	waitpid(later, NULL, 0);
	CHECK("sigsuspend: an ignored SIGCHLD does not end it, a handled SIGUSR1 does",
	      r == -1 && e == EINTR && usr1_seen == 1 && waited >= SLEEP_MS - FORK_AT_MS - SLACK_MS,
	      "returned %d (%s) after %ld ms, handler ran %d times", r, strerror(e), waited, (int)usr1_seen);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGCHLD, SIG_DFL);
	ignored_sigchld_wakes_sleepers();
	stop_and_continue(NANOSLEEP);
	stop_and_continue(CLOCK_ABS);
	stop_and_continue(PPOLL);
	stop_and_continue(FUTEX_TIMED);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	for (int k = 0; k < SLEEPER_KINDS; k++)
		handler_interrupts((enum sleeper_kind)k);
	remaining_time();
	sigsuspend_waits_for_handler();
	return t_finish();
}
