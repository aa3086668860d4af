/* Helpers shared by the user/tests/sock_*.c programs: loopback addresses, a listener on an
 * ephemeral port, connected TCP pairs, time, and a watchdog thread that ends a hung program with a
 * FAIL line (a thread, so SIGALRM stays free for the tests). Everything runs over 127.0.0.1 and
 * takes its ports from bind(port 0) + getsockname, so parallel runs never collide. */
#ifndef USER_TESTS_SOCKUTIL_H
#define USER_TESTS_SOCKUTIL_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define LOOPBACK htonl(INADDR_LOOPBACK)
#define BAD_PTR ((void *)0x10)

static inline long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static inline bool running_in_ember(void)
{
	struct utsname u;
	uname(&u);
	return strstr(u.release, "ember") != NULL;
}

/* Helper threads start with every signal blocked, so a process-directed signal (SIGALRM from a
 * timer, SIGPIPE, ...) always lands on the main thread, which is the one the tests look at. */
static inline int start_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int watchdog_sec;

static void *watchdog_fn(void *arg)
{
	(void)arg;
	sleep(watchdog_sec);
	printf("FAIL watchdog: the test hung for %d s\n", watchdog_sec);
	printf("%d passed, %d failed\n", t_passed, t_failed + 1);
	fflush(stdout);
	_exit(1);
}

static inline void start_watchdog(int sec)
{
	pthread_t th;
	watchdog_sec = sec;
	start_thread(&th, watchdog_fn, NULL);
	pthread_detach(th);
}

/* A call that must fail with errno want. */
#define EXPECT(name, call, want) do {                                                                     \
	errno = 0;                                                                                        \
	long r_ = (long)(call);                                                                           \
	int e_ = errno;                                                                                   \
	CHECK(name, r_ == -1 && e_ == (want), "returned %ld errno=%d (%s), want errno %d (%s)", r_, e_,   \
	      strerror(e_), want, strerror(want));                                                        \
} while (0)

/* SIGPIPE counted instead of killing: count_sigpipes() installs the handler; tests reset and read
 * sigpipes. */
static volatile int sigpipes __attribute__((unused));
static inline void on_sigpipe(int sig) { (void)sig; sigpipes++; }
static inline void count_sigpipes(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

static inline struct sockaddr_in lo_addr(uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = LOOPBACK;
	a.sin_port = htons(port);
	return a;
}

static inline uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	memset(&a, 0, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	return ntohs(a.sin_port);
}

/* A socket of the given type bound to 127.0.0.1:0; its port goes to *port. -1 on failure. */
static inline int bound_socket(int type, uint16_t *port)
{
	int fd = socket(AF_INET, type, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = lo_addr(0);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	if (port)
		*port = local_port(fd);
	return fd;
}

/* A TCP listener on 127.0.0.1 and an ephemeral port. */
static inline int tcp_listener(uint16_t *port, int backlog)
{
	int fd = bound_socket(SOCK_STREAM, port);
	if (fd >= 0 && listen(fd, backlog) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int tcp_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = lo_addr(port);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A connected pair over loopback: *cli connected, *srv accepted. 0 on success. */
static inline int tcp_pair(int *cli, int *srv)
{
	uint16_t port;
	int l = tcp_listener(&port, 4);
	if (l < 0)
		return -1;
	*cli = tcp_connect(port);
	*srv = *cli >= 0 ? accept(l, NULL, NULL) : -1;
	close(l);
	if (*cli < 0 || *srv < 0) {
		if (*cli >= 0)
			close(*cli);
		if (*srv >= 0)
			close(*srv);
		return -1;
	}
	return 0;
}

/* Read exactly n bytes (blocking socket); returns what it got before EOF or an error. */
static inline long read_full(int fd, void *buf, long n)
{
	long got = 0;
	while (got < n) {
		long r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	return got;
}

static inline long write_full(int fd, const void *buf, long n)
{
	long put = 0;
	while (put < n) {
		long r = write(fd, (const char *)buf + put, n - put);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		put += r;
	}
	return put;
}

#endif
