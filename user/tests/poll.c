/*
 * Readiness: poll/ppoll, select/pselect6 and epoll over pipes, epoll files and the console.
 * Pipe states (data, room, writer gone -> POLLHUP, reader gone -> POLLERR/EPIPE, closed fd ->
 * POLLNVAL), timeouts (zero, accuracy, the time left written back), EINTR from a handler (never
 * restarted, even with SA_RESTART), temporary signal masks, EFAULT/EINVAL/EBADF; epoll level-
 * and edge-triggered, EPOLLONESHOT re-armed by MOD, DEL, the epoll_ctl error rules, nesting and
 * loops, 256 registered pipes of which only the written ones report, wake-ups across harts,
 * registered files being closed, and stress runs that would hang on a lost wake-up.
 *
 * Every wait has a timeout, and a watchdog thread ends the program if it hangs anyway.
 * With the argument "console" (a system test types on the console) it checks console input
 * readiness instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define BAD_PTR ((void *)0x10)
#define WATCHDOG_SEC 240
#define MANY_PIPES 256
#define PINGPONG_ROUNDS 2000
#define STRESS_WRITERS 4
#define STRESS_BYTES 500
#define LONG_MS 5000                 /* "forever" for waits that a helper ends */
#define LEAK_ROUNDS 40
#define LEAK_PIPES 32
#define LEAK_SLACK_BYTES (64 * 1024)

static bool in_ember;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void *watchdog(void *arg)
{
	(void)arg;
	sleep(WATCHDOG_SEC);
	printf("FAIL watchdog: the test hung for %d s\n", WATCHDOG_SEC);
	printf("%d passed, %d failed\n", t_passed, t_failed + 1);
	fflush(stdout);
	_exit(1);
}

/* ---- signals ---- */

static volatile int hits;
static void on_sig(int sig) { (void)sig; hits++; }

static void handle(int sig, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* A thread that sends sig to one thread every few ms until stopped: whichever signal lands while
 * the target is blocked interrupts it, so no timing assumption is needed. */
struct kicker {
	pthread_t th;
	pid_t tid;
	int sig, every_ms;
	volatile int stop;
};

static void *kicker_fn(void *arg)
{
	struct kicker *k = arg;
	while (!k->stop) {
		sleep_ms(k->every_ms);
		if (!k->stop)
			syscall(SYS_tgkill, getpid(), k->tid, k->sig);
	}
	return NULL;
}

static void kicker_start(struct kicker *k, int sig, int every_ms)
{
	k->tid = gettid_();
	k->sig = sig;
	k->every_ms = every_ms;
	k->stop = 0;
	pthread_create(&k->th, NULL, kicker_fn, k);
}

static void kicker_stop(struct kicker *k)
{
	k->stop = 1;
	pthread_join(k->th, NULL);
}

/* ---- poll ---- */

static int poll1(int fd, short events, int ms, short *revents)
{
	struct pollfd p = { fd, events, 0 };
	int r = poll(&p, 1, ms);
	*revents = p.revents;
	return r;
}

static void test_poll_pipe(void)
{
	int p[2];
	short rev;
	pipe(p);
	int r = poll1(p[0], POLLIN, 0, &rev);
	CHECK("poll_empty_pipe_not_readable", r == 0 && rev == 0, "r=%d rev=%#x", r, rev);
	r = poll1(p[1], POLLOUT, 0, &rev);
	CHECK("poll_pipe_writable", r == 1 && rev == POLLOUT, "r=%d rev=%#x", r, rev);
	r = poll1(p[1], POLLIN, 0, &rev);
	CHECK("poll_write_end_not_readable", r == 0 && rev == 0, "r=%d rev=%#x", r, rev);
	write(p[1], "x", 1);
	r = poll1(p[0], POLLIN | POLLOUT | POLLPRI, 0, &rev);
	CHECK("poll_pipe_readable_with_data", r == 1 && rev == POLLIN, "r=%d rev=%#x", r, rev);
	r = poll1(p[0], POLLRDNORM, 0, &rev);
	CHECK("poll_rdnorm", r == 1 && rev == POLLRDNORM, "r=%d rev=%#x", r, rev);
	r = poll1(p[0], 0, 0, &rev);
	CHECK("poll_no_events_asked", r == 0 && rev == 0, "r=%d rev=%#x", r, rev);
	close(p[1]);
	r = poll1(p[0], POLLIN, 0, &rev);
	CHECK("poll_hup_with_data", r == 1 && rev == (POLLIN | POLLHUP), "r=%d rev=%#x", r, rev);
	char c;
	read(p[0], &c, 1);
	r = poll1(p[0], POLLIN, 0, &rev);
	CHECK("poll_hup_after_drain", r == 1 && rev == POLLHUP, "r=%d rev=%#x", r, rev);
	r = poll1(p[0], 0, 0, &rev);
	CHECK("poll_hup_reported_unasked", r == 1 && rev == POLLHUP, "r=%d rev=%#x", r, rev);
	close(p[0]);

	/* several fds at once: the count is of fds, not bits */
	int a[2], b[2];
	pipe(a);
	pipe(b);
	write(b[1], "y", 1);
	struct pollfd fds[5] = {
		{ a[0], POLLIN, 0 }, { a[1], POLLOUT, 0 }, { b[0], POLLIN, 0 }, { -1, POLLIN, 0 }, { b[1], POLLOUT | POLLIN, 0 },
	};
	r = poll(fds, 5, 0);
	CHECK("poll_many_count", r == 3 && fds[0].revents == 0 && fds[1].revents == POLLOUT && fds[2].revents == POLLIN &&
	      fds[3].revents == 0 && fds[4].revents == POLLOUT, "r=%d %#x %#x %#x %#x %#x", r, fds[0].revents,
	      fds[1].revents, fds[2].revents, fds[3].revents, fds[4].revents);
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

static void test_poll_full_pipe(void)
{
	int p[2];
	short rev;
	pipe2(p, O_NONBLOCK);
	static char buf[65536];
	long total = 0, n;
	while ((n = write(p[1], buf, sizeof(buf))) > 0)
		total += n;
	CHECK("pipe_fills_eagain", n < 0 && errno == EAGAIN && total > 0, "n=%ld errno=%d total=%ld", n, errno, total);
	int r = poll1(p[1], POLLOUT, 0, &rev);
	CHECK("poll_full_pipe_not_writable", r == 0 && rev == 0, "r=%d rev=%#x", r, rev);
	long t0 = now_ms();
	r = poll1(p[1], POLLOUT, 50, &rev);
	CHECK("poll_full_pipe_times_out", r == 0 && now_ms() - t0 >= 45, "r=%d", r);
	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	r = poll1(p[1], POLLOUT, 0, &rev);
	CHECK("poll_drained_pipe_writable", r == 1 && rev == POLLOUT, "r=%d rev=%#x", r, rev);
	close(p[0]);
	close(p[1]);
}

static void test_poll_reader_gone(void)
{
	int p[2];
	short rev;
	pipe(p);
	close(p[0]);
	int r = poll1(p[1], POLLOUT, 0, &rev);
	CHECK("poll_reader_gone_pollerr", r == 1 && (rev & POLLERR), "r=%d rev=%#x", r, rev);
	r = poll1(p[1], 0, 0, &rev);
	CHECK("poll_pollerr_reported_unasked", r == 1 && rev == POLLERR, "r=%d rev=%#x", r, rev);
	signal(SIGPIPE, SIG_IGN);
	errno = 0;
	long w = write(p[1], "x", 1);
	CHECK("write_reader_gone_epipe", w == -1 && errno == EPIPE, "w=%ld errno=%d", w, errno);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);
}

static void test_poll_nval(void)
{
	int p[2];
	pipe(p);
	int fd = p[0];
	close(p[0]);
	close(p[1]);
	struct pollfd fds[2] = { { fd, POLLIN, 0 }, { -5, POLLIN, 0 } };
	int r = poll(fds, 2, 0);
	CHECK("poll_closed_fd_nval", r == 1 && fds[0].revents == POLLNVAL && fds[1].revents == 0, "r=%d %#x %#x", r,
	      fds[0].revents, fds[1].revents);
	fds[0].events = 0;
	r = poll(fds, 1, 1000);                      /* NVAL is ready: no wait */
	CHECK("poll_nval_no_wait", r == 1 && fds[0].revents == POLLNVAL, "r=%d %#x", r, fds[0].revents);
}

static void test_poll_timeouts(void)
{
	int p[2];
	short rev;
	pipe(p);
	long t0 = now_ms();
	int r = poll1(p[0], POLLIN, 0, &rev);
	long dt = now_ms() - t0;
	CHECK("poll_zero_timeout_immediate", r == 0 && dt < 50, "r=%d dt=%ld", r, dt);
	t0 = now_ms();
	r = poll1(p[0], POLLIN, 100, &rev);
	dt = now_ms() - t0;
	CHECK("poll_100ms_timeout", r == 0 && dt >= 99 && dt < 2000, "r=%d dt=%ld", r, dt);
	t0 = now_ms();
	r = poll(NULL, 0, 60);                       /* a plain sleep */
	dt = now_ms() - t0;
	CHECK("poll_no_fds_sleeps", r == 0 && dt >= 59 && dt < 2000, "r=%d dt=%ld", r, dt);

	/* ppoll writes the time left back to its timespec (glibc's ppoll hides it: raw syscall) */
	struct pollfd pf = { p[1], POLLOUT, 0 };
	struct timespec ts = { 2, 0 };
	r = syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8);
	CHECK("ppoll_ready_keeps_time_left", r == 1 && ts.tv_sec >= 1 && ts.tv_sec <= 2, "r=%d left=%ld.%09ld", r,
	      (long)ts.tv_sec, ts.tv_nsec);
	pf = (struct pollfd){ p[0], POLLIN, 0 };
	ts = (struct timespec){ 0, 30 * 1000000L };
	r = syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8);
	CHECK("ppoll_timeout_left_zero", r == 0 && ts.tv_sec == 0 && ts.tv_nsec == 0, "r=%d left=%ld.%09ld", r,
	      (long)ts.tv_sec, ts.tv_nsec);
	close(p[0]);
	close(p[1]);
}

struct delayed_write { int fd, ms; pthread_t th; };

static void *delayed_write_fn(void *arg)
{
	struct delayed_write *d = arg;
	sleep_ms(d->ms);
	write(d->fd, "w", 1);
	return NULL;
}

static void delayed_write(struct delayed_write *d, int fd, int ms)
{
	d->fd = fd;
	d->ms = ms;
	pthread_create(&d->th, NULL, delayed_write_fn, d);
}

static void test_poll_wakeup(void)
{
	int p[2];
	short rev;
	pipe(p);
	struct delayed_write d;
	long t0 = now_ms();
	delayed_write(&d, p[1], 50);
	int r = poll1(p[0], POLLIN, LONG_MS, &rev);
	long dt = now_ms() - t0;
	pthread_join(d.th, NULL);
	CHECK("poll_woken_by_writer_thread", r == 1 && rev == POLLIN && dt >= 45 && dt < LONG_MS, "r=%d rev=%#x dt=%ld",
	      r, rev, dt);
	char c;
	read(p[0], &c, 1);
	close(p[0]);
	close(p[1]);
}

static void *close_later_fn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	sleep_ms(50);
	close(fd);
	return NULL;
}

static void test_poll_hup_wakeup(void)
{
	int p[2];
	short rev;
	pipe(p);
	pthread_t th;
	pthread_create(&th, NULL, close_later_fn, (void *)(intptr_t)p[1]);
	int r = poll1(p[0], POLLIN, LONG_MS, &rev);
	pthread_join(th, NULL);
	CHECK("poll_woken_by_writer_close", r == 1 && rev == POLLHUP, "r=%d rev=%#x", r, rev);
	close(p[0]);
}

static void test_poll_eintr(void)
{
	int p[2];
	short rev;
	pipe(p);
	handle(SIGUSR1, SA_RESTART);                 /* poll is never restarted, SA_RESTART or not */
	struct kicker k;
	hits = 0;
	kicker_start(&k, SIGUSR1, 20);
	long t0 = now_ms();
	errno = 0;
	int r = poll1(p[0], POLLIN, LONG_MS, &rev);
	int e = errno;
	long dt = now_ms() - t0;
	kicker_stop(&k);
	CHECK("poll_eintr_from_handler", r == -1 && e == EINTR && hits >= 1 && dt < LONG_MS, "r=%d errno=%d hits=%d dt=%ld",
	      r, e, hits, dt);

	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	struct timeval tv = { LONG_MS / 1000, 0 };
	hits = 0;
	kicker_start(&k, SIGUSR1, 20);
	errno = 0;
	r = select(p[0] + 1, &rs, NULL, NULL, &tv);
	e = errno;
	kicker_stop(&k);
	CHECK("select_eintr_from_handler", r == -1 && e == EINTR && hits >= 1, "r=%d errno=%d hits=%d", r, e, hits);

	/* a handler with SA_RESTART still restarts read(): the contrast */
	struct delayed_write d;
	hits = 0;
	kicker_start(&k, SIGUSR1, 10);
	delayed_write(&d, p[1], 100);
	char c = 0;
	long n = read(p[0], &c, 1);
	kicker_stop(&k);
	pthread_join(d.th, NULL);
	CHECK("read_restarted_with_sa_restart", n == 1 && c == 'w' && hits >= 1, "n=%ld hits=%d", n, hits);
	signal(SIGUSR1, SIG_IGN);
	close(p[0]);
	close(p[1]);
}

static void test_ppoll_sigmask(void)
{
	int p[2];
	pipe(p);
	handle(SIGUSR2, 0);
	sigset_t block, empty, now;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);
	hits = 0;
	raise(SIGUSR2);
	CHECK("blocked_signal_pending", hits == 0, "hits=%d", hits);

	/* a mask that keeps it blocked: a plain timeout, nothing delivered */
	struct pollfd pf = { p[0], POLLIN, 0 };
	struct timespec ts = { 0, 30 * 1000000L };
	int r = ppoll(&pf, 1, &ts, &block);
	CHECK("ppoll_mask_keeps_blocked", r == 0 && hits == 0, "r=%d hits=%d", r, hits);

	/* a mask that unblocks it: EINTR at once, the handler runs, the old mask comes back */
	ts = (struct timespec){ LONG_MS / 1000, 0 };
	long t0 = now_ms();
	errno = 0;
	r = ppoll(&pf, 1, &ts, &empty);
	int e = errno;
	long dt = now_ms() - t0;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK("ppoll_sigmask_unblocks_pending", r == -1 && e == EINTR && hits == 1 && dt < 1000, "r=%d errno=%d hits=%d dt=%ld",
	      r, e, hits, dt);
	CHECK("ppoll_sigmask_restored", sigismember(&now, SIGUSR2), "SIGUSR2 no longer blocked");

	/* ready fds win: the mask is restored at once and the signal stays pending */
	raise(SIGUSR2);
	hits = 0;
	pf = (struct pollfd){ p[1], POLLOUT, 0 };
	r = ppoll(&pf, 1, &ts, &block);
	CHECK("ppoll_ready_with_mask", r == 1 && hits == 0, "r=%d hits=%d", r, hits);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	CHECK("pending_delivered_after_unblock", hits == 1, "hits=%d", hits);

	/* pselect with the same */
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR2);
	hits = 0;
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	errno = 0;
	r = pselect(p[0] + 1, &rs, NULL, NULL, &ts, &empty);
	e = errno;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK("pselect_sigmask_unblocks_pending", r == -1 && e == EINTR && hits == 1 && sigismember(&now, SIGUSR2),
	      "r=%d errno=%d hits=%d", r, e, hits);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGUSR2, SIG_IGN);
	close(p[0]);
	close(p[1]);
}

static void test_poll_errors(void)
{
	int p[2];
	pipe(p);
	struct pollfd pf = { p[1], POLLOUT, 0 };
	errno = 0;
	int r = poll(BAD_PTR, 1, 0);
	CHECK("poll_bad_fds_efault", r == -1 && errno == EFAULT, "r=%d errno=%d", r, errno);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (1u << 20)) {
		struct pollfd *many = calloc(rl.rlim_cur + 1, sizeof(*many));
		for (rlim_t i = 0; i <= rl.rlim_cur; i++)
			many[i].fd = -1;
		errno = 0;
		r = poll(many, rl.rlim_cur + 1, 0);
		CHECK("poll_nfds_over_rlimit_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
		r = poll(many, rl.rlim_cur, 0);
		CHECK("poll_nfds_at_rlimit_ok", r == 0, "r=%d errno=%d", r, errno);
		free(many);
	} else {
		SKIP("poll_nfds_over_rlimit_einval", "RLIMIT_NOFILE too large to test");
	}
	struct timespec ts = { 0, -1 };
	errno = 0;
	r = syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8);
	CHECK("ppoll_bad_nsec_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	ts = (struct timespec){ -1, 0 };
	errno = 0;
	r = syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8);
	CHECK("ppoll_negative_timeout_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	errno = 0;
	r = syscall(SYS_ppoll, &pf, 1, BAD_PTR, NULL, 8);
	CHECK("ppoll_bad_timespec_efault", r == -1 && errno == EFAULT, "r=%d errno=%d", r, errno);
	uint64_t mask = 0;
	errno = 0;
	r = syscall(SYS_ppoll, &pf, 1, NULL, &mask, 4);
	CHECK("ppoll_bad_sigsetsize_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	errno = 0;
	r = syscall(SYS_ppoll, &pf, 1, NULL, BAD_PTR, 8);
	CHECK("ppoll_bad_sigset_efault", r == -1 && errno == EFAULT, "r=%d errno=%d", r, errno);
	r = syscall(SYS_ppoll, &pf, 1, NULL, NULL, 4);   /* no mask: its size is not looked at */
	CHECK("ppoll_no_mask_any_size", r == 1, "r=%d errno=%d", r, errno);
	close(p[0]);
	close(p[1]);
}

/* ---- select ---- */

/* select(2) as the kernel gives it: riscv64 has no select system call, so the libc builds it on
 * pselect6, and glibc writes the time left back into *tv as Linux's select does while musl does
 * not. This does glibc's conversion, so the checks below see the kernel's answer under any libc. */
static int select_k(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	struct timespec ts, *tsp = NULL;
	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000;
		tsp = &ts;
	}
	int ret = (int)syscall(SYS_pselect6, n, r, w, e, tsp, NULL);
	if (tv && tsp) {
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return ret;
}

static void test_select(void)
{
	int p[2];
	pipe(p);
	int n = (p[0] > p[1] ? p[0] : p[1]) + 1;
	fd_set rs, ws;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(p[0], &rs);
	FD_SET(p[1], &rs);
	FD_SET(p[0], &ws);
	FD_SET(p[1], &ws);
	struct timeval tv = { 0, 0 };
	int r = select_k(n, &rs, &ws, NULL, &tv);
	CHECK("select_only_write_end_ready", r == 1 && !FD_ISSET(p[0], &rs) && !FD_ISSET(p[1], &rs) && !FD_ISSET(p[0], &ws) &&
	      FD_ISSET(p[1], &ws), "r=%d", r);
	write(p[1], "ab", 2);
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(p[0], &rs);
	FD_SET(p[1], &ws);
	fd_set es;
	FD_ZERO(&es);
	FD_SET(p[0], &es);
	tv = (struct timeval){ 2, 0 };
	r = select_k(n, &rs, &ws, &es, &tv);
	long left_us = tv.tv_sec * 1000000L + tv.tv_usec;
	CHECK("select_counts_bits", r == 2 && FD_ISSET(p[0], &rs) && FD_ISSET(p[1], &ws) && !FD_ISSET(p[0], &es), "r=%d", r);
	CHECK("select_updates_timeout_ready", left_us > 1500000 && left_us <= 2000000, "left=%ldus", left_us);
	char buf[2];
	read(p[0], buf, 2);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	tv = (struct timeval){ 0, 100000 };
	long t0 = now_ms();
	r = select_k(n, &rs, NULL, NULL, &tv);
	long dt = now_ms() - t0;
	CHECK("select_timeout", r == 0 && !FD_ISSET(p[0], &rs) && dt >= 99 && dt < 2000, "r=%d dt=%ld", r, dt);
	CHECK("select_timeout_left_zero", tv.tv_sec == 0 && tv.tv_usec == 0, "left=%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);

	/* writer gone: readable (EOF); reader gone: writable (EPIPE) */
	int q[2];
	pipe(q);
	close(q[1]);
	FD_ZERO(&rs);
	FD_SET(q[0], &rs);
	tv = (struct timeval){ 0, 0 };
	r = select_k(q[0] + 1, &rs, NULL, NULL, &tv);
	CHECK("select_eof_readable", r == 1 && FD_ISSET(q[0], &rs), "r=%d", r);
	close(q[0]);

	/* a wake-up from another thread */
	struct delayed_write d;
	delayed_write(&d, p[1], 50);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	tv = (struct timeval){ LONG_MS / 1000, 0 };
	r = select_k(n, &rs, NULL, NULL, &tv);
	pthread_join(d.th, NULL);
	CHECK("select_woken_by_writer", r == 1 && FD_ISSET(p[0], &rs), "r=%d", r);
	read(p[0], buf, 1);

	/* errors */
	int closed_fd = n + 10;
	FD_ZERO(&rs);
	FD_SET(closed_fd, &rs);
	tv = (struct timeval){ 0, 0 };
	errno = 0;
	r = select_k(closed_fd + 1, &rs, NULL, NULL, &tv);
	CHECK("select_closed_fd_ebadf", r == -1 && errno == EBADF, "r=%d errno=%d", r, errno);
	errno = 0;
	r = select_k(-1, NULL, NULL, NULL, &tv);
	CHECK("select_negative_n_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	errno = 0;
	r = select_k(n, BAD_PTR, NULL, NULL, &tv);
	CHECK("select_bad_set_efault", r == -1 && errno == EFAULT, "r=%d errno=%d", r, errno);
	r = select_k(0, NULL, NULL, NULL, &tv);
	CHECK("select_nothing", r == 0, "r=%d errno=%d", r, errno);
	close(p[0]);
	close(p[1]);
}

static void test_pselect6_raw(void)
{
	int p[2];
	pipe(p);
	int n = p[1] + 1;
	fd_set ws;
	FD_ZERO(&ws);
	FD_SET(p[1], &ws);
	struct timespec ts = { 1, 0 };
	long r = syscall(SYS_pselect6, n, NULL, &ws, NULL, &ts, NULL);
	CHECK("pselect6_ready_time_left", r == 1 && FD_ISSET(p[1], &ws) && ts.tv_sec <= 1 && (ts.tv_sec == 1 || ts.tv_nsec > 500000000L),
	      "r=%ld left=%ld.%09ld", r, (long)ts.tv_sec, ts.tv_nsec);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	ts = (struct timespec){ 0, 20 * 1000000L };
	r = syscall(SYS_pselect6, n, &rs, NULL, NULL, &ts, NULL);
	CHECK("pselect6_timeout_left_zero", r == 0 && ts.tv_sec == 0 && ts.tv_nsec == 0, "r=%ld", r);
	ts = (struct timespec){ 0, 1000000000L };
	errno = 0;
	r = syscall(SYS_pselect6, n, &rs, NULL, NULL, &ts, NULL);
	CHECK("pselect6_bad_nsec_einval", r == -1 && errno == EINVAL, "r=%ld errno=%d", r, errno);
	ts = (struct timespec){ 0, 0 };
	errno = 0;
	r = syscall(SYS_pselect6, n, &rs, NULL, NULL, &ts, BAD_PTR);
	CHECK("pselect6_bad_argpack_efault", r == -1 && errno == EFAULT, "r=%ld errno=%d", r, errno);
	uint64_t mask = 0;
	struct { void *set; size_t size; } pack = { &mask, 4 };
	errno = 0;
	r = syscall(SYS_pselect6, n, &rs, NULL, NULL, &ts, &pack);
	CHECK("pselect6_bad_sigsetsize_einval", r == -1 && errno == EINVAL, "r=%ld errno=%d", r, errno);
	pack.size = 8;
	pack.set = BAD_PTR;
	errno = 0;
	r = syscall(SYS_pselect6, n, &rs, NULL, NULL, &ts, &pack);
	CHECK("pselect6_bad_sigset_efault", r == -1 && errno == EFAULT, "r=%ld errno=%d", r, errno);
	pack.set = NULL;
	pack.size = 4;                               /* no mask: size not looked at */
	r = syscall(SYS_pselect6, n, NULL, &ws, NULL, &ts, &pack);
	CHECK("pselect6_null_mask_ok", r == 1, "r=%ld errno=%d", r, errno);
	close(p[0]);
	close(p[1]);
}

/* ---- epoll ---- */

static int ep_add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int ep_mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static int ep_wait1(int ep, int ms, struct epoll_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	return epoll_wait(ep, ev, 1, ms);
}

static void test_epoll_errors(void)
{
	errno = 0;
	int r = epoll_create1(1);
	CHECK("epoll_create1_bad_flags_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK("epoll_create1_cloexec", ep >= 0 && (fcntl(ep, F_GETFD) & FD_CLOEXEC), "ep=%d", ep);
	close(ep);
	ep = epoll_create1(0);
	CHECK("epoll_create1", ep >= 0 && !(fcntl(ep, F_GETFD) & FD_CLOEXEC), "ep=%d errno=%d", ep, errno);
	int p[2];
	pipe(p);
	CHECK("epoll_add", ep_add(ep, p[0], EPOLLIN, 1) == 0, "errno=%d", errno);
	errno = 0;
	r = ep_add(ep, p[0], EPOLLIN, 1);
	CHECK("epoll_add_twice_eexist", r == -1 && errno == EEXIST, "r=%d errno=%d", r, errno);
	errno = 0;
	r = ep_mod(ep, p[1], EPOLLOUT, 2);
	CHECK("epoll_mod_absent_enoent", r == -1 && errno == ENOENT, "r=%d errno=%d", r, errno);
	errno = 0;
	r = epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
	CHECK("epoll_del_absent_enoent", r == -1 && errno == ENOENT, "r=%d errno=%d", r, errno);
	errno = 0;
	r = ep_add(-1, p[1], EPOLLIN, 0);
	CHECK("epoll_ctl_bad_epfd_ebadf", r == -1 && errno == EBADF, "r=%d errno=%d", r, errno);
	errno = 0;
	r = ep_add(ep, 999, EPOLLIN, 0);
	CHECK("epoll_ctl_bad_fd_ebadf", r == -1 && errno == EBADF, "r=%d errno=%d", r, errno);
	errno = 0;
	r = ep_add(p[0], p[1], EPOLLIN, 0);
	CHECK("epoll_ctl_not_epoll_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	errno = 0;
	r = ep_add(ep, ep, EPOLLIN, 0);
	CHECK("epoll_add_self_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	errno = 0;
	struct epoll_event ev = { .events = EPOLLIN };
	r = epoll_ctl(ep, 99, p[1], &ev);
	CHECK("epoll_ctl_bad_op_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	errno = 0;
	r = epoll_ctl(ep, EPOLL_CTL_ADD, p[1], BAD_PTR);
	CHECK("epoll_ctl_bad_event_efault", r == -1 && errno == EFAULT, "r=%d errno=%d", r, errno);
	r = epoll_ctl(ep, EPOLL_CTL_DEL, p[0], BAD_PTR);   /* DEL never reads the event */
	CHECK("epoll_del_ignores_event", r == 0, "r=%d errno=%d", r, errno);
	errno = 0;
	r = ep_add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 3);
	CHECK("epoll_exclusive_add", r == 0, "r=%d errno=%d", r, errno);
	errno = 0;
	r = ep_mod(ep, p[1], EPOLLOUT, 3);
	CHECK("epoll_mod_of_exclusive_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
	errno = 0;
	r = ep_add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 3);
	CHECK("epoll_exclusive_oneshot_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	ep_add(ep, p[1], EPOLLOUT, 3);
	errno = 0;
	r = ep_mod(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 3);
	CHECK("epoll_mod_exclusive_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);

	/* regular files have no poll: EPERM */
	char path[64];
	snprintf(path, sizeof(path), "/tmp/ember-poll-%d", getpid());
	int reg = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	errno = 0;
	r = ep_add(ep, reg, EPOLLIN, 0);
	CHECK("epoll_regular_file_eperm", reg >= 0 && r == -1 && errno == EPERM, "reg=%d r=%d errno=%d", reg, r, errno);
	/* ... but poll and select call them always ready */
	short rev;
	r = poll1(reg, POLLIN | POLLOUT, 0, &rev);
	CHECK("poll_regular_file_ready", r == 1 && rev == (POLLIN | POLLOUT), "r=%d rev=%#x", r, rev);
	close(reg);
	unlink(path);

	/* epoll_wait arguments */
	struct epoll_event out[4];
	errno = 0;
	r = epoll_wait(ep, out, 0, 0);
	CHECK("epoll_wait_maxevents_0_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	errno = 0;
	r = epoll_wait(-1, out, 0, 0);
	CHECK("epoll_wait_maxevents_checked_first", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	errno = 0;
	r = epoll_wait(-1, out, 4, 0);
	CHECK("epoll_wait_bad_epfd_ebadf", r == -1 && errno == EBADF, "r=%d errno=%d", r, errno);
	errno = 0;
	r = epoll_wait(p[0], out, 4, 0);
	CHECK("epoll_wait_not_epoll_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	errno = 0;
	r = epoll_wait(ep, BAD_PTR, 4, 0);         /* p[1] is writable: an event to copy */
	CHECK("epoll_wait_bad_events_efault", r == -1 && errno == EFAULT, "r=%d errno=%d", r, errno);
	r = epoll_wait(ep, out, 4, 0);
	CHECK("epoll_event_kept_after_efault", r == 1 && out[0].data.u64 == 3 && out[0].events == EPOLLOUT, "r=%d", r);
	uint64_t m = 0;
	errno = 0;
	r = syscall(SYS_epoll_pwait, ep, out, 4, 0, &m, 4);
	CHECK("epoll_pwait_bad_sigsetsize_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void test_epoll_lt(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	pipe(p);
	ep_add(ep, p[0], EPOLLIN, 42);
	int r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_lt_nothing", r == 0, "r=%d", r);
	write(p[1], "0123456789", 10);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_lt_ready", r == 1 && ev.events == EPOLLIN && ev.data.u64 == 42, "r=%d ev=%#x data=%llu", r, ev.events,
	      (unsigned long long)ev.data.u64);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_lt_reported_again", r == 1 && ev.events == EPOLLIN, "r=%d", r);
	char buf[10];
	read(p[0], buf, 5);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_lt_still_ready_after_partial_read", r == 1, "r=%d", r);
	read(p[0], buf, 5);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_lt_drained", r == 0, "r=%d", r);
	long t0 = now_ms();
	r = ep_wait1(ep, 100, &ev);
	long dt = now_ms() - t0;
	CHECK("epoll_wait_100ms_timeout", r == 0 && dt >= 99 && dt < 2000, "r=%d dt=%ld", r, dt);
	/* the write end: EPOLLOUT, and both ends HUP/ERR unasked */
	ep_add(ep, p[1], EPOLLOUT, 43);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_pollout", r == 1 && ev.events == EPOLLOUT && ev.data.u64 == 43, "r=%d ev=%#x", r, ev.events);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
	close(p[1]);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_hup_unasked", r == 1 && ev.events == EPOLLHUP && ev.data.u64 == 42, "r=%d ev=%#x", r, ev.events);
	close(p[0]);
	close(ep);
}

static void test_epoll_et(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	pipe(p);
	ep_add(ep, p[0], EPOLLIN | EPOLLET, 7);
	int r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_et_nothing", r == 0, "r=%d", r);
	write(p[1], "a", 1);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_et_first", r == 1 && ev.events == EPOLLIN && ev.data.u64 == 7, "r=%d ev=%#x", r, ev.events);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_et_once", r == 0, "r=%d", r);
	write(p[1], "b", 1);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_et_new_data_again", r == 1 && ev.events == EPOLLIN, "r=%d", r);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_et_once_more", r == 0, "r=%d", r);
	/* a blocked edge-triggered wait is woken by new data */
	struct delayed_write d;
	delayed_write(&d, p[1], 50);
	r = ep_wait1(ep, LONG_MS, &ev);
	pthread_join(d.th, NULL);
	CHECK("epoll_et_wakes", r == 1 && ev.data.u64 == 7, "r=%d", r);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void test_epoll_oneshot(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	pipe(p);
	ep_add(ep, p[0], EPOLLIN | EPOLLONESHOT, 9);
	write(p[1], "a", 1);
	int r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_oneshot_first", r == 1 && ev.data.u64 == 9, "r=%d", r);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_oneshot_disabled", r == 0, "r=%d", r);
	write(p[1], "b", 1);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_oneshot_disabled_new_data", r == 0, "r=%d", r);
	errno = 0;
	r = ep_add(ep, p[0], EPOLLIN, 9);
	CHECK("epoll_oneshot_still_registered", r == -1 && errno == EEXIST, "r=%d errno=%d", r, errno);
	r = ep_mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 10);
	CHECK("epoll_oneshot_mod", r == 0, "r=%d errno=%d", r, errno);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_oneshot_rearmed", r == 1 && ev.data.u64 == 10, "r=%d data=%llu", r, (unsigned long long)ev.data.u64);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_oneshot_disabled_again", r == 0, "r=%d", r);
	/* MOD to plain LT */
	ep_mod(ep, p[0], EPOLLIN, 11);
	r = ep_wait1(ep, 0, &ev);
	int r2 = ep_wait1(ep, 0, &ev);
	CHECK("epoll_mod_to_lt", r == 1 && r2 == 1 && ev.data.u64 == 11, "r=%d r2=%d", r, r2);
	/* DEL: nothing more */
	CHECK("epoll_del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0, "errno=%d", errno);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_deleted_not_reported", r == 0, "r=%d", r);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void test_epoll_nested(void)
{
	int outer = epoll_create1(0), inner = epoll_create1(0), p[2];
	struct epoll_event ev;
	pipe(p);
	ep_add(inner, p[0], EPOLLIN, 1);
	int r = ep_add(outer, inner, EPOLLIN, 2);
	CHECK("epoll_add_epoll", r == 0, "r=%d errno=%d", r, errno);
	r = ep_wait1(outer, 0, &ev);
	CHECK("epoll_nested_nothing", r == 0, "r=%d", r);
	short rev;
	r = poll1(inner, POLLIN, 0, &rev);
	CHECK("poll_epoll_not_ready", r == 0, "r=%d rev=%#x", r, rev);
	write(p[1], "x", 1);
	r = poll1(inner, POLLIN, 0, &rev);
	CHECK("poll_epoll_ready", r == 1 && rev == POLLIN, "r=%d rev=%#x", r, rev);
	r = ep_wait1(outer, 0, &ev);
	CHECK("epoll_nested_ready", r == 1 && ev.events == EPOLLIN && ev.data.u64 == 2, "r=%d ev=%#x data=%llu", r, ev.events,
	      (unsigned long long)ev.data.u64);
	char c;
	read(p[0], &c, 1);
	r = ep_wait1(outer, 0, &ev);
	CHECK("epoll_nested_drained", r == 0, "r=%d", r);
	r = poll1(inner, POLLIN, 0, &rev);
	CHECK("poll_epoll_drained", r == 0, "r=%d rev=%#x", r, rev);
	/* a blocked outer wait is woken through the inner one */
	struct delayed_write d;
	delayed_write(&d, p[1], 50);
	r = ep_wait1(outer, LONG_MS, &ev);
	pthread_join(d.th, NULL);
	CHECK("epoll_nested_wakes", r == 1 && ev.data.u64 == 2, "r=%d", r);
	/* select on an epoll fd */
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(inner, &rs);
	struct timeval tv = { 0, 0 };
	r = select(inner + 1, &rs, NULL, NULL, &tv);
	CHECK("select_epoll_ready", r == 1 && FD_ISSET(inner, &rs), "r=%d", r);
	/* loops */
	errno = 0;
	r = ep_add(inner, outer, EPOLLIN, 3);
	CHECK("epoll_loop_eloop", r == -1 && errno == ELOOP, "r=%d errno=%d", r, errno);
	int third = epoll_create1(0);
	ep_add(third, outer, EPOLLIN, 4);
	errno = 0;
	r = ep_add(inner, third, EPOLLIN, 5);
	CHECK("epoll_deep_loop_eloop", r == -1 && errno == ELOOP, "r=%d errno=%d", r, errno);
	errno = 0;
	r = ep_add(outer, inner, EPOLLIN | EPOLLEXCLUSIVE, 6);
	CHECK("epoll_exclusive_on_epoll_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	/* closing the inner epoll while the outer watches it */
	close(inner);
	r = ep_wait1(outer, 0, &ev);
	CHECK("epoll_closed_inner_dropped", r == 0, "r=%d data=%llu", r, (unsigned long long)ev.data.u64);
	r = ep_wait1(third, 0, &ev);
	CHECK("epoll_third_level_quiet", r == 0, "r=%d", r);
	close(third);
	close(outer);
	close(p[0]);
	close(p[1]);
}

/* Linux 6.x bounds chains of epolls however they are built: at most 5 in a row. */
static void test_epoll_chains(void)
{
	int e[8], res[7];
	for (int i = 0; i < 8; i++)
		e[i] = epoll_create1(0);
	for (int i = 0; i < 7; i++) {                /* top-down: e0 > e1 > e2 ... */
		errno = 0;
		res[i] = ep_add(e[i], e[i + 1], EPOLLIN, i) < 0 ? errno : 0;
	}
	CHECK("epoll_chain_top_down", !res[0] && !res[1] && !res[2] && !res[3] && res[4] == ELOOP && !res[5] && !res[6],
	      "%d %d %d %d %d %d %d", res[0], res[1], res[2], res[3], res[4], res[5], res[6]);
	/* a write at the bottom of the allowed chain wakes the top */
	int p[2];
	pipe(p);
	ep_add(e[4], p[0], EPOLLIN, 99);
	write(p[1], "x", 1);
	struct epoll_event ev;
	int r = ep_wait1(e[0], 0, &ev);
	CHECK("epoll_chain_readiness_propagates", r == 1 && ev.data.u64 == 0, "r=%d", r);
	close(p[0]);
	close(p[1]);
	for (int i = 0; i < 8; i++)
		close(e[i]);
	for (int i = 0; i < 8; i++)
		e[i] = epoll_create1(0);
	for (int i = 6; i >= 0; i--) {               /* bottom-up */
		errno = 0;
		res[i] = ep_add(e[i], e[i + 1], EPOLLIN, i) < 0 ? errno : 0;
	}
	CHECK("epoll_chain_bottom_up", !res[6] && !res[5] && !res[4] && !res[3] && res[2] == ELOOP && !res[1] && !res[0],
	      "%d %d %d %d %d %d %d", res[0], res[1], res[2], res[3], res[4], res[5], res[6]);
	/* DEL of an epoll breaks the chain: the add that failed now works */
	CHECK("epoll_del_epoll", epoll_ctl(e[3], EPOLL_CTL_DEL, e[4], NULL) == 0, "errno=%d", errno);
	r = ep_add(e[2], e[3], EPOLLIN, 2);
	CHECK("epoll_chain_after_del", r == 0, "r=%d errno=%d", r, errno);
	for (int i = 0; i < 8; i++)
		close(e[i]);
}

static void test_epoll_many(void)
{
	static int fds[MANY_PIPES][2];
	int ep = epoll_create1(0), opened = 0;
	for (int i = 0; i < MANY_PIPES; i++) {
		if (pipe(fds[i]) < 0)
			break;
		opened++;
		if (ep_add(ep, fds[i][0], EPOLLIN, 1000 + i) < 0)
			break;
	}
	CHECK("epoll_256_registered", opened == MANY_PIPES, "opened=%d errno=%d", opened, errno);
	struct epoll_event out[64];
	int r = epoll_wait(ep, out, 64, 0);
	CHECK("epoll_256_none_ready", r == 0, "r=%d", r);
	static const int written[] = { 3, 100, 254 };
	for (int i = 0; i < 3; i++)
		write(fds[written[i]][1], "z", 1);
	r = epoll_wait(ep, out, 64, 0);
	bool seen[3] = { false, false, false }, stray = false;
	for (int i = 0; i < r; i++) {
		int k = (int)out[i].data.u64 - 1000;
		bool found = false;
		for (int j = 0; j < 3; j++)
			if (k == written[j]) {
				seen[j] = found = true;
			}
		stray |= !found || out[i].events != EPOLLIN;
	}
	CHECK("epoll_256_only_written_reported", r == 3 && seen[0] && seen[1] && seen[2] && !stray, "r=%d", r);
	/* maxevents smaller than the ready set: the rest comes next time */
	r = epoll_wait(ep, out, 2, 0);
	int r2 = epoll_wait(ep, out + 2, 2, 0);
	bool all[3] = { false, false, false };
	for (int i = 0; i < r + r2; i++)
		for (int j = 0; j < 3; j++)
			if ((int)out[i].data.u64 - 1000 == written[j])
				all[j] = true;
	CHECK("epoll_maxevents_round_robin", r == 2 && r2 >= 1 && all[0] && all[1] && all[2], "r=%d r2=%d", r, r2);
	for (int i = 0; i < opened; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	r = epoll_wait(ep, out, 64, 0);
	CHECK("epoll_256_closed_all_dropped", r == 0, "r=%d", r);
	close(ep);
}

struct pinned_writer { int fd, cpu, delay_ms, got_cpu; };

static void *pinned_writer_fn(void *arg)
{
	struct pinned_writer *w = arg;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	sleep_ms(w->delay_ms);
	w->got_cpu = sched_getcpu();
	write(w->fd, "h", 1);
	return NULL;
}

static void test_epoll_cross_thread(void)
{
	int ep = epoll_create1(0), p[2];
	pipe(p);
	ep_add(ep, p[0], EPOLLIN, 77);
	cpu_set_t set, old;
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	struct pinned_writer w = { p[1], 1, 50, -1 };
	pthread_t th;
	long t0 = now_ms();
	pthread_create(&th, NULL, pinned_writer_fn, &w);
	struct epoll_event ev;
	int r = ep_wait1(ep, LONG_MS, &ev);
	long dt = now_ms() - t0;
	int mycpu = sched_getcpu();
	pthread_join(th, NULL);
	CHECK("epoll_woken_from_other_thread", r == 1 && ev.data.u64 == 77 && dt < LONG_MS, "r=%d dt=%ld", r, dt);
	if (in_ember)
		CHECK("epoll_waker_on_other_hart", w.got_cpu == 1 && mycpu == 0, "writer cpu %d, waiter cpu %d", w.got_cpu, mycpu);
	sched_setaffinity(0, sizeof(old), &old);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void test_epoll_close(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	pipe(p);
	ep_add(ep, p[0], EPOLLIN, 5);
	write(p[1], "a", 1);
	close(p[0]);                                 /* the only fd: the file goes, epoll lets go */
	int r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_closed_fd_dropped", r == 0, "r=%d data=%llu", r, (unsigned long long)ev.data.u64);
	signal(SIGPIPE, SIG_IGN);
	errno = 0;
	long w = write(p[1], "b", 1);
	CHECK("epoll_holds_no_reference", w == -1 && errno == EPIPE, "w=%ld errno=%d", w, errno);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);

	/* the same fd number again is a new file: ADD works */
	int q[2];
	pipe(q);
	r = ep_add(ep, q[0], EPOLLIN, 6);
	CHECK("epoll_fd_reused_add", r == 0, "r=%d errno=%d (fd %d)", r, errno, q[0]);

	/* closing one of two fds of a file: the registration lives on with the file (Linux) */
	int dupfd = dup(q[0]);
	close(q[0]);
	write(q[1], "c", 1);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_dup_keeps_file_registered", r == 1 && ev.data.u64 == 6, "r=%d", r);
	errno = 0;
	r = epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL);
	CHECK("epoll_del_closed_fd_ebadf", r == -1 && errno == EBADF, "r=%d errno=%d", r, errno);
	close(dupfd);
	r = ep_wait1(ep, 0, &ev);
	CHECK("epoll_last_close_drops", r == 0, "r=%d", r);
	close(q[1]);

	/* closing the epoll fd with items registered, and a file registered in two epolls */
	int ep2 = epoll_create1(0);
	pipe(q);
	ep_add(ep, q[0], EPOLLIN, 8);
	ep_add(ep2, q[0], EPOLLIN, 9);
	close(ep);
	write(q[1], "d", 1);
	r = ep_wait1(ep2, 0, &ev);
	CHECK("epoll_other_instance_survives_close", r == 1 && ev.data.u64 == 9, "r=%d", r);
	close(q[0]);
	close(q[1]);
	close(ep2);

	/* a blocked epoll_wait and a close of the watched fd on another thread */
	ep = epoll_create1(0);
	pipe(q);
	ep_add(ep, q[0], EPOLLIN, 10);
	pthread_t th;
	pthread_create(&th, NULL, close_later_fn, (void *)(intptr_t)q[0]);
	r = ep_wait1(ep, 200, &ev);
	pthread_join(th, NULL);
	CHECK("epoll_wait_survives_close", r == 0, "r=%d", r);
	close(q[1]);
	close(ep);
}

static void test_epoll_signals(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	pipe(p);
	ep_add(ep, p[0], EPOLLIN, 1);
	handle(SIGUSR1, SA_RESTART);
	struct kicker k;
	hits = 0;
	kicker_start(&k, SIGUSR1, 20);
	errno = 0;
	int r = ep_wait1(ep, LONG_MS, &ev);
	int e = errno;
	kicker_stop(&k);
	CHECK("epoll_wait_eintr", r == -1 && e == EINTR && hits >= 1, "r=%d errno=%d hits=%d", r, e, hits);
	signal(SIGUSR1, SIG_IGN);

	handle(SIGUSR2, 0);
	sigset_t block, empty, now;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);
	hits = 0;
	raise(SIGUSR2);
	r = epoll_pwait(ep, &ev, 1, 30, &block);
	CHECK("epoll_pwait_mask_keeps_blocked", r == 0 && hits == 0, "r=%d hits=%d", r, hits);
	errno = 0;
	r = epoll_pwait(ep, &ev, 1, LONG_MS, &empty);
	e = errno;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK("epoll_pwait_sigmask_eintr", r == -1 && e == EINTR && hits == 1 && sigismember(&now, SIGUSR2), "r=%d errno=%d hits=%d",
	      r, e, hits);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGUSR2, SIG_IGN);

	/* epoll_pwait2: a timespec timeout */
	struct timespec ts = { 0, 50 * 1000000L };
	long t0 = now_ms();
	errno = 0;
	r = syscall(441, ep, &ev, 1, &ts, NULL, 8);
	long dt = now_ms() - t0;
	if (r == -1 && errno == ENOSYS && !in_ember) {
		SKIP("epoll_pwait2", "not supported by this qemu-user");
	} else {
		CHECK("epoll_pwait2_timeout", r == 0 && dt >= 49 && dt < 2000, "r=%d errno=%d dt=%ld", r, errno, dt);
		write(p[1], "x", 1);
		r = syscall(441, ep, &ev, 1, NULL, NULL, 8);
		CHECK("epoll_pwait2_ready", r == 1 && ev.data.u64 == 1, "r=%d errno=%d", r, errno);
		ts.tv_nsec = -1;
		errno = 0;
		r = syscall(441, ep, &ev, 1, &ts, NULL, 8);
		CHECK("epoll_pwait2_bad_timespec_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	}
	close(p[0]);
	close(p[1]);
	close(ep);
}

/* ---- stress: a lost wake-up shows as a timeout ---- */

struct pingpong { int in, out, rounds, use_epoll, errors; };

static int wait_readable(int fd, int ep)
{
	if (ep >= 0) {
		struct epoll_event ev;
		return epoll_wait(ep, &ev, 1, LONG_MS);
	}
	struct pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, LONG_MS);
}

static void *pong_fn(void *arg)
{
	struct pingpong *pp = arg;
	int ep = -1;
	if (pp->use_epoll) {
		ep = epoll_create1(0);
		ep_add(ep, pp->in, EPOLLIN, 0);
	}
	for (int i = 0; i < pp->rounds; i++) {
		char c;
		if (wait_readable(pp->in, ep) != 1 || read(pp->in, &c, 1) != 1 || write(pp->out, &c, 1) != 1) {
			pp->errors++;
			break;
		}
	}
	if (ep >= 0)
		close(ep);
	return NULL;
}

static void pingpong(int use_epoll, const char *name)
{
	int a[2], b[2];
	pipe(a);
	pipe(b);
	struct pingpong pp = { a[0], b[1], PINGPONG_ROUNDS, use_epoll, 0 };
	pthread_t th;
	pthread_create(&th, NULL, pong_fn, &pp);
	int ep = -1, done = 0;
	if (use_epoll) {
		ep = epoll_create1(0);
		ep_add(ep, b[0], EPOLLIN | EPOLLET, 0);
	}
	long t0 = now_ms();
	for (; done < PINGPONG_ROUNDS; done++) {
		char c = (char)done;
		if (write(a[1], &c, 1) != 1 || wait_readable(b[0], ep) != 1 || read(b[0], &c, 1) != 1)
			break;
	}
	pthread_join(th, NULL);
	CHECK(name, done == PINGPONG_ROUNDS && pp.errors == 0, "done=%d errors=%d in %ld ms", done, pp.errors, now_ms() - t0);
	if (ep >= 0)
		close(ep);
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

struct writer { int fd; };

static void *stress_writer_fn(void *arg)
{
	struct writer *w = arg;
	for (int i = 0; i < STRESS_BYTES; i++) {
		write(w->fd, "s", 1);
		if (i % 50 == 0)
			sched_yield();
	}
	return NULL;
}

/* Several writers, one edge-triggered epoll reader that drains each fd until EAGAIN. */
static void test_epoll_stress(void)
{
	int ep = epoll_create1(0), p[STRESS_WRITERS][2];
	pthread_t th[STRESS_WRITERS];
	struct writer w[STRESS_WRITERS];
	for (int i = 0; i < STRESS_WRITERS; i++) {
		pipe2(p[i], O_NONBLOCK);
		int fl = fcntl(p[i][1], F_GETFL);
		fcntl(p[i][1], F_SETFL, fl & ~O_NONBLOCK);
		ep_add(ep, p[i][0], EPOLLIN | EPOLLET, i);
		w[i].fd = p[i][1];
	}
	for (int i = 0; i < STRESS_WRITERS; i++)
		pthread_create(&th[i], NULL, stress_writer_fn, &w[i]);
	long got = 0, want = (long)STRESS_WRITERS * STRESS_BYTES;
	int timeouts = 0;
	while (got < want) {
		struct epoll_event out[STRESS_WRITERS];
		int r = epoll_wait(ep, out, STRESS_WRITERS, LONG_MS);
		if (r <= 0) {
			timeouts++;
			break;
		}
		for (int i = 0; i < r; i++) {
			char buf[256];
			long n;
			while ((n = read(p[out[i].data.u64][0], buf, sizeof(buf))) > 0)
				got += n;
		}
	}
	for (int i = 0; i < STRESS_WRITERS; i++)
		pthread_join(th[i], NULL);
	CHECK("epoll_et_stress_no_lost_wakeup", got == want && timeouts == 0, "got=%ld want=%ld timeouts=%d", got, want, timeouts);
	for (int i = 0; i < STRESS_WRITERS; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	close(ep);
}

/*
 * Races: one thread registers, fills and closes pipes (ADD, write, close while registered, or
 * DEL) while others wait on the same epoll, poll those fds and wake each other. Nothing to
 * compare but the events' data; the point is that the kernel neither crashes nor hangs.
 */
#define RACE_ROUNDS 1500
static volatile int race_stop;
static int race_ep;

static void *race_waiter_fn(void *arg)
{
	long *bad = arg;
	while (!race_stop) {
		struct epoll_event ev[16];
		int r = epoll_wait(race_ep, ev, 16, 1);
		for (int i = 0; i < r; i++)
			if (ev[i].data.u64 >= RACE_ROUNDS)
				(*bad)++;
	}
	return NULL;
}

static void *race_poller_fn(void *arg)
{
	(void)arg;
	while (!race_stop) {
		struct pollfd pf[8];
		for (int i = 0; i < 8; i++)
			pf[i] = (struct pollfd){ 3 + i * 7 % 40, POLLIN | POLLOUT, 0 };
		poll(pf, 8, 1);
	}
	return NULL;
}

static void test_epoll_races(void)
{
	race_ep = epoll_create1(0);
	race_stop = 0;
	long bad = 0;
	pthread_t w[2], pl;
	for (int i = 0; i < 2; i++)
		pthread_create(&w[i], NULL, race_waiter_fn, &bad);
	pthread_create(&pl, NULL, race_poller_fn, NULL);
	int done = 0;
	signal(SIGPIPE, SIG_IGN);
	for (; done < RACE_ROUNDS; done++) {
		int p[2];
		if (pipe(p) < 0)
			break;
		ep_add(race_ep, p[0], done % 3 ? EPOLLIN : EPOLLIN | EPOLLET, done);
		ep_add(race_ep, p[1], EPOLLOUT | EPOLLONESHOT, done);
		write(p[1], "r", 1);
		switch (done % 4) {
		case 0: close(p[0]); close(p[1]); break;           /* closed while registered */
		case 1: close(p[1]); close(p[0]); break;
		case 2:
			epoll_ctl(race_ep, EPOLL_CTL_DEL, p[0], NULL);
			close(p[0]);
			close(p[1]);
			break;
		default:
			sched_yield();
			write(p[1], "s", 1);
			close(p[0]);
			write(p[1], "t", 1);                 /* EPIPE: the reader is gone */
			close(p[1]);
		}
	}
	race_stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	pthread_join(pl, NULL);
	signal(SIGPIPE, SIG_DFL);
	struct epoll_event ev;
	int r = ep_wait1(race_ep, 0, &ev);
	CHECK("epoll_races_survive", done == RACE_ROUNDS && bad == 0 && r == 0, "done=%d bad=%ld left=%d", done, bad, r);
	close(race_ep);
}

/* ---- the console ---- */

static void test_console(void)
{
	short rev;
	int r = poll1(1, POLLOUT, 0, &rev);
	CHECK("poll_stdout_writable", r == 1 && (rev & POLLOUT), "r=%d rev=%#x", r, rev);
	struct termios tio;
	if (tcgetattr(0, &tio) < 0) {
		SKIP("console_poll", "stdin is not a terminal");
		return;
	}
	r = poll1(0, POLLIN, 30, &rev);
	CHECK("poll_console_no_input", r == 0, "r=%d rev=%#x", r, rev);
	int ep = epoll_create1(0);
	r = ep_add(ep, 0, EPOLLIN, 1);
	CHECK("epoll_console_add", r == 0, "r=%d errno=%d", r, errno);
	struct epoll_event ev;
	r = ep_wait1(ep, 30, &ev);
	CHECK("epoll_console_no_input", r == 0, "r=%d", r);
	close(ep);
	/* a console read sleeping for input is interrupted by a signal */
	handle(SIGUSR1, 0);
	struct kicker k;
	hits = 0;
	kicker_start(&k, SIGUSR1, 30);
	char c;
	errno = 0;
	long n = read(0, &c, 1);
	int e = errno;
	kicker_stop(&k);
	CHECK("console_read_eintr", n == -1 && e == EINTR && hits >= 1, "n=%ld errno=%d hits=%d", n, e, hits);
	signal(SIGUSR1, SIG_IGN);
}

/* Console input readiness, driven by tests/system/test_poll_console.py typing on the console. */
static int console_main(void)
{
	short rev;
	struct termios tio, raw;
	tcgetattr(0, &tio);
	printf("console: partial?\n");
	int r = poll1(0, POLLIN, 1500, &rev);       /* "hel" arrives: no whole line, not readable */
	CHECK("console_partial_line_not_readable", r == 0, "r=%d rev=%#x", r, rev);
	int ep = epoll_create1(0);
	ep_add(ep, 0, EPOLLIN, 5);
	printf("console: rest?\n");
	struct epoll_event ev;
	r = ep_wait1(ep, 20000, &ev);               /* "lo\r" ends the line */
	CHECK("console_epoll_line_ready", r == 1 && ev.data.u64 == 5 && ev.events == EPOLLIN, "r=%d ev=%#x", r, ev.events);
	r = poll1(0, POLLIN, 0, &rev);
	CHECK("console_poll_line_ready", r == 1 && rev == POLLIN, "r=%d rev=%#x", r, rev);
	char line[64] = { 0 };
	long n = read(0, line, sizeof(line) - 1);
	CHECK("console_read_line", n == 6 && !strcmp(line, "hello\n"), "n=%ld line=%s", n, line);
	r = poll1(0, POLLIN, 0, &rev);
	CHECK("console_consumed_not_readable", r == 0, "r=%d rev=%#x", r, rev);
	/* a signal interrupting a read in the middle of a line loses nothing typed */
	handle(SIGUSR1, 0);
	struct kicker k;
	hits = 0;
	kicker_start(&k, SIGUSR1, 1000);
	printf("console: sig?\n");                 /* "ab" is typed, then the signal comes */
	errno = 0;
	n = read(0, line, sizeof(line) - 1);
	int e = errno;
	kicker_stop(&k);
	CHECK("console_read_eintr_mid_line", n == -1 && e == EINTR, "n=%ld errno=%d", n, e);
	printf("console: end?\n");                 /* "c\r" ends the line */
	memset(line, 0, sizeof(line));
	n = read(0, line, sizeof(line) - 1);
	CHECK("console_partial_line_kept", n == 4 && !strcmp(line, "abc\n"), "n=%ld line=%s", n, line);
	signal(SIGUSR1, SIG_IGN);
	raw = tio;
	raw.c_lflag &= ~(ICANON | ECHO);
	tcsetattr(0, TCSANOW, &raw);
	printf("console: byte?\n");
	r = poll1(0, POLLIN, 20000, &rev);          /* one byte is enough without ICANON */
	CHECK("console_raw_byte_ready", r == 1 && rev == POLLIN, "r=%d rev=%#x", r, rev);
	char c = 0;
	n = read(0, &c, 1);
	CHECK("console_raw_read", n == 1 && c == 'x', "n=%ld c=%#x", n, c);
	tcsetattr(0, TCSANOW, &tio);
	close(ep);
	return t_finish();
}

/* ---- nothing leaks (inside Ember only: the host's free memory moves on its own) ---- */

static void churn(void)
{
	static int p[LEAK_PIPES][2];
	static struct pollfd pf[2 * LEAK_PIPES];
	for (int round = 0; round < LEAK_ROUNDS; round++) {
		int ep = epoll_create1(0), outer = epoll_create1(0);
		ep_add(outer, ep, EPOLLIN, 0);
		for (int i = 0; i < LEAK_PIPES; i++) {
			pipe(p[i]);
			ep_add(ep, p[i][0], i % 2 ? EPOLLIN | EPOLLET : EPOLLIN, i);
			ep_add(ep, p[i][1], EPOLLOUT | EPOLLONESHOT, 100 + i);
			pf[2 * i] = (struct pollfd){ p[i][0], POLLIN, 0 };
			pf[2 * i + 1] = (struct pollfd){ p[i][1], 0, 0 };
		}
		write(p[round % LEAK_PIPES][1], "x", 1);
		struct epoll_event ev[8];
		epoll_wait(outer, ev, 8, 0);
		epoll_wait(ep, ev, 8, 0);
		poll(pf + 2, 2 * LEAK_PIPES - 2, 1);    /* registers on every file, then times out */
		fd_set rs;
		FD_ZERO(&rs);
		FD_SET(p[0][0], &rs);
		struct timeval tv = { 0, 1000 };
		select(p[0][0] + 1, &rs, NULL, NULL, &tv);
		/* half the files go before the epolls, half after */
		for (int i = 0; i < LEAK_PIPES / 2; i++) {
			close(p[i][0]);
			close(p[i][1]);
		}
		if (round % 2) {
			close(ep);
			close(outer);
		} else {
			close(outer);
			close(ep);
		}
		for (int i = LEAK_PIPES / 2; i < LEAK_PIPES; i++) {
			close(p[i][0]);
			close(p[i][1]);
		}
	}
}

static void test_no_leak(void)
{
	struct sysinfo a, b;
	churn();                                     /* warm the kernel's caches */
	sysinfo(&a);
	churn();
	sysinfo(&b);
	long delta = (long)a.freeram - (long)b.freeram;
	CHECK("poll_epoll_free_everything", delta <= LEAK_SLACK_BYTES && delta >= -LEAK_SLACK_BYTES,
	      "free before %lu after %lu (lost %ld bytes)", a.freeram, b.freeram, delta);
}

/* ---- hostile arguments (inside Ember only, as user/tests/fuzz.c) ---- */

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t next_rand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static char scratch[4096];

static unsigned long hostile(void)
{
	static const unsigned long pool[] = { 0, 1, 2, 3, 8, 64, 1024, 4096, (unsigned long)-1, 0x7fffffff, 0x80000000UL,
					      0xffffffc080200000UL, 0x3fffffffffUL, 0x4000000000UL, 0x10 };
	switch (next_rand() % 4) {
	case 0: return pool[next_rand() % (sizeof(pool) / sizeof(pool[0]))];
	case 1: return (unsigned long)scratch + (next_rand() % 4000);
	case 2: return next_rand() & 0xff;
	default: return next_rand();
	}
}

static void test_fuzz(void)
{
	static const int calls[] = { 20, 21, 22, 72, 73, 441 };
	int survived = 0;
	for (int c = 0; c < 6; c++) {
		pid_t pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0);
			rng = 0x9e3779b97f4a7c15ULL * (c + 1);
			int ep = epoll_create1(0), p[2];
			pipe(p);
			(void)ep;
			for (int i = 0; i < 300; i++) {
				memset(scratch, (int)(next_rand() & 0xff), 64);
				syscall(calls[next_rand() % 6], hostile(), hostile(), hostile(), hostile() & 0xffff, hostile(), hostile());
			}
			_exit(0);
		}
		int st = 0, waited = 0;
		pid_t r;
		while ((r = waitpid(pid, &st, WNOHANG)) == 0 && waited < 3000) {
			sleep_ms(10);
			waited += 10;
		}
		if (r == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
		survived++;
	}
	CHECK("poll_fuzz_kernel_survives", survived == 6 && getppid() >= 0, "");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct utsname u;
	uname(&u);
	in_ember = strstr(u.release, "ember") != NULL;
	pthread_t wd;
	pthread_create(&wd, NULL, watchdog, NULL);
	if (argc > 1 && !strcmp(argv[1], "console"))
		return console_main();
	test_poll_pipe();
	test_poll_full_pipe();
	test_poll_reader_gone();
	test_poll_nval();
	test_poll_timeouts();
	test_poll_wakeup();
	test_poll_hup_wakeup();
	test_poll_eintr();
	test_ppoll_sigmask();
	test_poll_errors();
	test_select();
	test_pselect6_raw();
	test_epoll_errors();
	test_epoll_lt();
	test_epoll_et();
	test_epoll_oneshot();
	test_epoll_nested();
	test_epoll_chains();
	test_epoll_many();
	test_epoll_cross_thread();
	test_epoll_close();
	test_epoll_signals();
	pingpong(0, "poll_pingpong_no_lost_wakeup");
	pingpong(1, "epoll_pingpong_no_lost_wakeup");
	test_epoll_stress();
	test_epoll_races();
	test_console();
	if (in_ember) {
		test_no_leak();
		test_fuzz();
	} else {
		SKIP("poll_epoll_free_everything", "free memory on the host's Linux moves for reasons of its own");
	}
	return t_finish();
}
