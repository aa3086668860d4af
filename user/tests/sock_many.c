/*
 * Many TCP connections to one epoll server over 127.0.0.1:
 *   - the server is a forked child: a non-blocking listener and level-triggered epoll_wait,
 *     accept4(SOCK_NONBLOCK) until EAGAIN, echo whatever arrives, close at EOF
 *   - 256 connections open at once (all connected before any is used, the local ports all
 *     distinct); each sends its own message and gets exactly that message back
 *   - then 8 threads each run 32 connect/echo/close rounds at the same time
 *   - the server reports through its exit status that it saw every connection end cleanly and
 *     had all 256 open together
 * RLIMIT_NOFILE is raised when it is below what this needs (Ember allows 1024).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "sockutil.h"

#define CONNS 256
#define THREADS 8
#define ROUNDS 32
#define TOTAL (CONNS + THREADS * ROUNDS)
#define WAIT_MS 10000

static int make_msg(char *buf, size_t size, int a, int b)
{
	/* distinct and of varying length */
	int n = snprintf(buf, size, "conn-%d-%d:", a, b);
	for (int i = 0; i < (a * 7 + b) % 90; i++)
		buf[n++] = (char)('A' + (a + b + i) % 26);
	return n;
}

/* ---- the server (child) ---- */

enum { SRV_OK = 0, SRV_EPOLL = 10, SRV_ACCEPT, SRV_IO, SRV_COUNT, SRV_CONCURRENT };

static void server(int l)
{
	alarm(60);                                   /* SIGALRM's default action ends a hung server */
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) < 0)
		_exit(SRV_EPOLL);
	int accepted = 0, closed = 0, open_now = 0, open_max = 0;
	static char buf[4096];
	while (closed < TOTAL) {
		struct epoll_event out[64];
		int n = epoll_wait(ep, out, 64, WAIT_MS);
		if (n <= 0)
			_exit(SRV_EPOLL);
		for (int i = 0; i < n; i++) {
			int fd = out[i].data.fd;
			if (fd == l) {
				int s;
				while ((s = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event cev = { .events = EPOLLIN, .data.fd = s };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &cev) < 0)
						_exit(SRV_EPOLL);
					accepted++;
					if (++open_now > open_max)
						open_max = open_now;
				}
				if (errno != EAGAIN)
					_exit(SRV_ACCEPT);
				continue;
			}
			long r = read(fd, buf, sizeof(buf));
			if (r > 0) {
				/* replies are small and clients read them: the socket never fills */
				if (write(fd, buf, r) != r)
					_exit(SRV_IO);
			} else if (r == 0) {
				close(fd);                   /* closing also removes it from the epoll */
				closed++;
				open_now--;
			} else if (errno != EAGAIN) {
				_exit(SRV_IO);
			}
		}
	}
	if (accepted != TOTAL)
		_exit(SRV_COUNT);
	if (open_max < CONNS)
		_exit(SRV_CONCURRENT);
	_exit(SRV_OK);
}

/* ---- clients ---- */

static int echo_once(int fd, const char *msg, int len)
{
	if (write_full(fd, msg, len) != len)
		return 0;
	char in[256];
	long got = 0;
	while (got < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, WAIT_MS) != 1)
			return 0;
		long r = read(fd, in + got, sizeof(in) - got);
		if (r <= 0)
			return 0;
		got += r;
	}
	return got == len && !memcmp(in, msg, len);
}

struct worker { uint16_t port; int id, ok; pthread_t th; };

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < ROUNDS; i++) {
		int fd = tcp_connect(w->port);
		if (fd < 0)
			continue;
		char msg[128];
		int len = make_msg(msg, sizeof(msg), 1000 + w->id, i);
		w->ok += echo_once(fd, msg, len);
		close(fd);
	}
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	start_watchdog(90);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < CONNS + 64) {
		rl.rlim_cur = rl.rlim_max < 1024 ? rl.rlim_max : 1024;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	CHECK("rlimit_nofile_enough", rl.rlim_cur >= CONNS + 64, "soft limit %lu", (unsigned long)rl.rlim_cur);

	uint16_t port;
	int l = tcp_listener(&port, CONNS);
	CHECK("many_listener", l >= 0, "errno=%d", errno);
	if (l < 0)
		return t_finish();
	fcntl(l, F_SETFL, O_NONBLOCK);
	pid_t pid = fork();
	if (pid == 0)
		server(l);
	close(l);

	/* 256 at once */
	static int fd[CONNS];
	static uint16_t ports[CONNS];
	int connected = 0;
	long t0 = now_ms();
	for (int i = 0; i < CONNS; i++) {
		fd[i] = tcp_connect(port);
		ports[i] = fd[i] >= 0 ? local_port(fd[i]) : 0;
		connected += fd[i] >= 0;
	}
	CHECK("many_all_connected", connected == CONNS, "%d of %d connected (last errno %d) in %ld ms", connected, CONNS, errno,
	      now_ms() - t0);
	int dup_ports = 0;
	for (int i = 0; i < CONNS; i++)
		for (int j = 0; j < i; j++)
			if (ports[i] && ports[i] == ports[j])
				dup_ports++;
	CHECK("many_local_ports_distinct", dup_ports == 0, "%d duplicates", dup_ports);
	int sent = 0;
	for (int i = 0; i < CONNS; i++) {
		char msg[128];
		int len = make_msg(msg, sizeof(msg), i, 0);
		if (fd[i] >= 0 && write_full(fd[i], msg, len) == len)
			sent++;
	}
	CHECK("many_all_sent", sent == CONNS, "%d of %d sent", sent, CONNS);
	int echoed = 0, first_bad = -1;
	for (int i = 0; i < CONNS; i++) {
		char msg[128], in[256];
		int len = make_msg(msg, sizeof(msg), i, 0);
		long got = 0;
		while (fd[i] >= 0 && got < len) {
			struct pollfd p = { fd[i], POLLIN, 0 };
			if (poll(&p, 1, WAIT_MS) != 1)
				break;
			long r = read(fd[i], in + got, sizeof(in) - got);
			if (r <= 0)
				break;
			got += r;
		}
		if (got == len && !memcmp(in, msg, len))
			echoed++;
		else if (first_bad < 0)
			first_bad = i;
	}
	CHECK("many_each_gets_its_own_echo", echoed == CONNS, "%d of %d echoed, first bad %d (%ld ms)", echoed, CONNS, first_bad,
	      now_ms() - t0);
	for (int i = 0; i < CONNS; i++)
		if (fd[i] >= 0)
			close(fd[i]);

	/* churn from several threads */
	struct worker w[THREADS];
	t0 = now_ms();
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .port = port, .id = i, .ok = 0 };
		start_thread(&w[i].th, worker_fn, &w[i]);
	}
	int ok = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(w[i].th, NULL);
		ok += w[i].ok;
	}
	CHECK("many_threads_connect_echo_close", ok == THREADS * ROUNDS, "%d of %d rounds ok (%ld ms)", ok, THREADS * ROUNDS,
	      now_ms() - t0);

	int st = -1, waited = 0;
	pid_t r;
	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && waited < WAIT_MS) {
		sleep_ms(10);
		waited += 10;
	}
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	CHECK("many_server_saw_everything", r == pid && WIFEXITED(st) && WEXITSTATUS(st) == SRV_OK,
	      "server %s, status %#x (10 epoll, 11 accept, 12 io, 13 count, 14 not all open at once)",
	      r == 0 ? "hung" : "ended", st);
	return t_finish();
}
