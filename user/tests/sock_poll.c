/*
 * Sockets in poll, select and epoll, with the exact event masks Linux reports:
 *   - poll states: a fresh TCP socket (POLLOUT|POLLHUP), a listener without and with a pending
 *     connection (POLLIN), a connected socket (POLLOUT; POLLIN with data), the peer's FIN
 *     (POLLIN|POLLOUT|POLLRDHUP, read gives 0), both directions shut (adds POLLHUP), our own
 *     SHUT_WR (still POLLOUT), the peer's RST (adds POLLERR until SO_ERROR is read), a refused
 *     non-blocking connect, a full send buffer (no POLLOUT)
 *   - wake-ups: poll blocked on a listener woken by a connect from another process, on a
 *     connected socket by data and by the peer closing, on a full send buffer by the peer
 *     draining it; SIOCOUTQ along the way (0 when idle, the queued bytes when full, 0 again once
 *     the peer has read everything)
 *   - select: listener readable when a connection is pending, connected socket writable,
 *     readable with data and at EOF, nothing in exceptfds, a wake-up from another thread
 *   - epoll: level-triggered listener and data, edge-triggered once per arrival, EPOLLRDHUP on
 *     the peer's shutdown, EPOLLERR|EPOLLHUP on a reset, EPOLLONESHOT re-armed with MOD, a
 *     non-blocking connect completing as EPOLLOUT, an epoll_wait woken from another thread
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include "sockutil.h"

#define ALL (POLLIN | POLLOUT | POLLRDHUP | POLLPRI)

static int revents(int fd, short events, int ms)
{
	struct pollfd p = { fd, events, 0 };
	int r = poll(&p, 1, ms);
	return r < 0 ? -1 : p.revents;
}

/* wait up to 2 s for any of the bits in want, then report every bit right now */
static int settle(int fd, short want)
{
	revents(fd, want, 2000);
	return revents(fd, ALL, 0);
}

static void test_poll_states(void)
{
	int f = socket(AF_INET, SOCK_STREAM, 0);
	int ev = revents(f, ALL, 0);
	CHECK("poll_fresh_tcp_pollout_pollhup", ev == (POLLOUT | POLLHUP), "revents=%#x", ev);
	close(f);

	uint16_t port;
	int l = tcp_listener(&port, 4);
	ev = revents(l, ALL, 0);
	CHECK("poll_listener_idle_nothing", ev == 0, "revents=%#x", ev);
	int c = tcp_connect(port);
	ev = settle(l, POLLIN);
	CHECK("poll_listener_pending_pollin", ev == POLLIN, "revents=%#x", ev);
	int s = accept(l, NULL, NULL);
	ev = revents(l, ALL, 0);
	CHECK("poll_listener_after_accept_nothing", ev == 0, "revents=%#x", ev);
	ev = revents(c, ALL, 0);
	CHECK("poll_connected_pollout", ev == POLLOUT, "revents=%#x", ev);
	write(s, "x", 1);
	ev = settle(c, POLLIN);
	CHECK("poll_connected_data_pollin", ev == (POLLIN | POLLOUT), "revents=%#x", ev);
	char b[8];
	read(c, b, 1);
	ev = revents(c, ALL, 0);
	CHECK("poll_data_consumed", ev == POLLOUT, "revents=%#x", ev);

	shutdown(s, SHUT_WR);
	ev = settle(c, POLLRDHUP);
	CHECK("poll_peer_fin_pollin_rdhup", ev == (POLLIN | POLLOUT | POLLRDHUP), "revents=%#x", ev);
	long n = read(c, b, sizeof(b));
	ev = revents(c, ALL, 0);
	CHECK("poll_eof_read_0_still_readable", n == 0 && ev == (POLLIN | POLLOUT | POLLRDHUP), "read=%ld revents=%#x", n, ev);
	ev = revents(c, POLLOUT, 0);
	CHECK("poll_rdhup_only_when_asked", ev == POLLOUT, "revents=%#x", ev);
	ev = revents(s, ALL, 0);
	CHECK("poll_own_shut_wr_still_pollout", ev == POLLOUT, "revents=%#x", ev);
	shutdown(c, SHUT_WR);
	ev = settle(s, POLLRDHUP);
	int ev_c = revents(c, ALL, 0);
	CHECK("poll_both_shut_pollhup", ev == (POLLIN | POLLOUT | POLLRDHUP | POLLHUP) && ev_c == ev, "s=%#x c=%#x", ev, ev_c);
	ev = revents(c, 0, 0);
	CHECK("poll_pollhup_reported_unasked", ev == POLLHUP, "revents=%#x", ev);
	close(c);
	close(s);

	/* the peer resets */
	c = tcp_connect(port);
	s = accept(l, NULL, NULL);
	struct linger lg = { 1, 0 };
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	ev = settle(c, POLLIN);
	CHECK("poll_peer_reset_err_hup", ev == (POLLIN | POLLOUT | POLLRDHUP | POLLERR | POLLHUP), "revents=%#x", ev);
	ev = revents(c, 0, 0);
	CHECK("poll_pollerr_reported_unasked", ev == (POLLERR | POLLHUP), "revents=%#x", ev);
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
	ev = revents(c, ALL, 0);
	CHECK("poll_reset_so_error_clears_pollerr", err == ECONNRESET && ev == (POLLIN | POLLOUT | POLLRDHUP | POLLHUP),
	      "so_error=%d revents=%#x", err, ev);
	close(c);

	/* a refused non-blocking connect */
	uint16_t dead;
	int hold = bound_socket(SOCK_STREAM, &dead);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = lo_addr(dead);
	connect(c, (struct sockaddr *)&a, sizeof(a));
	ev = settle(c, POLLOUT);
	CHECK("poll_refused_connect", ev == (POLLIN | POLLOUT | POLLRDHUP | POLLERR | POLLHUP), "revents=%#x", ev);
	close(c);
	close(hold);
	close(l);
}

/* ---- wake-ups ---- */

struct later { int fd, ms, what; pthread_t th; };
enum { LATER_WRITE, LATER_CLOSE, LATER_DRAIN, LATER_SHUT_WR };

static void *later_fn(void *arg)
{
	struct later *lt = arg;
	sleep_ms(lt->ms);
	switch (lt->what) {
	case LATER_WRITE: write(lt->fd, "w", 1); break;
	case LATER_CLOSE: close(lt->fd); break;
	case LATER_SHUT_WR: shutdown(lt->fd, SHUT_WR); break;
	case LATER_DRAIN: {
		static char buf[65536];
		int fl = fcntl(lt->fd, F_GETFL);
		fcntl(lt->fd, F_SETFL, fl | O_NONBLOCK);
		long t0 = now_ms();
		while (now_ms() - t0 < 2000) {       /* read until the writer stops refilling */
			if (read(lt->fd, buf, sizeof(buf)) < 0 && errno == EAGAIN)
				break;
		}
		fcntl(lt->fd, F_SETFL, fl);
		break;
	}
	}
	return NULL;
}

static void later(struct later *lt, int fd, int ms, int what)
{
	lt->fd = fd;
	lt->ms = ms;
	lt->what = what;
	start_thread(&lt->th, later_fn, lt);
}

static void test_poll_wakeups(void)
{
	uint16_t port;
	int l = tcp_listener(&port, 4);
	long t0 = now_ms();                          /* before the fork: the child connects >= 50 ms later */
	pid_t pid = fork();
	if (pid == 0) {
		alarm(10);
		sleep_ms(50);
		int c = tcp_connect(port);
		char ch;
		read(c, &ch, 1);                     /* hold the connection until the parent closes */
		_exit(c >= 0 ? 0 : 1);
	}
	int ev = revents(l, POLLIN, 5000);
	long dt = now_ms() - t0;
	CHECK("poll_listener_woken_by_connect", ev == POLLIN && dt >= 40 && dt < 5000, "revents=%#x dt=%ld", ev, dt);
	int s = accept(l, NULL, NULL);
	close(s);
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK("poll_connecting_child_ok", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%#x", st);

	int c;
	if (tcp_pair(&c, &s) < 0) {
		FAIL("wakeup_pair", "errno=%d", errno);
		close(l);
		return;
	}
	struct later lt;
	t0 = now_ms();
	later(&lt, s, 50, LATER_WRITE);
	ev = revents(c, POLLIN, 5000);
	dt = now_ms() - t0;
	pthread_join(lt.th, NULL);
	CHECK("poll_woken_by_data", ev == POLLIN && dt >= 40 && dt < 5000, "revents=%#x dt=%ld", ev, dt);
	char ch;
	read(c, &ch, 1);
	later(&lt, s, 50, LATER_CLOSE);
	ev = revents(c, POLLIN | POLLRDHUP, 5000);
	pthread_join(lt.th, NULL);
	CHECK("poll_woken_by_peer_close", ev == (POLLIN | POLLRDHUP), "revents=%#x", ev);
	close(c);

	/* fill the send buffer, then let the peer drain it */
	if (tcp_pair(&c, &s) < 0) {
		FAIL("full_pair", "errno=%d", errno);
		close(l);
		return;
	}
	int outq = -1;
	CHECK("siocoutq_idle_is_zero", ioctl(c, SIOCOUTQ, &outq) == 0 && outq == 0, "outq=%d errno=%d", outq, errno);
	fcntl(c, F_SETFL, O_NONBLOCK);
	static char big[65536];
	long total = 0, n;
	t0 = now_ms();
	while (now_ms() - t0 < 5000) {
		n = write(c, big, sizeof(big));
		if (n > 0) {
			total += n;
			continue;
		}
		if (errno != EAGAIN)
			break;
		if (revents(c, POLLOUT, 50) == 0)    /* still full after a moment: really full */
			break;
	}
	ev = revents(c, ALL, 0);
	CHECK("poll_full_send_buffer_no_pollout", total > 0 && ev == 0, "filled %ld bytes, revents=%#x", total, ev);
	outq = -1;
	CHECK("siocoutq_counts_a_full_queue", ioctl(c, SIOCOUTQ, &outq) == 0 && outq > 0 && outq <= total,
	      "outq=%d of %ld written", outq, total);
	t0 = now_ms();
	later(&lt, s, 50, LATER_DRAIN);
	ev = revents(c, POLLOUT, 5000);
	dt = now_ms() - t0;
	pthread_join(lt.th, NULL);
	CHECK("poll_woken_by_peer_draining", ev == POLLOUT && dt >= 40 && dt < 5000, "revents=%#x dt=%ld", ev, dt);
	fcntl(s, F_SETFL, O_NONBLOCK);
	t0 = now_ms();
	do {                                         /* read the rest until all is acknowledged */
		while (read(s, big, sizeof(big)) > 0)
			;
		outq = -1;
		ioctl(c, SIOCOUTQ, &outq);
	} while (outq != 0 && now_ms() - t0 < 3000 && (sleep_ms(10), 1));
	CHECK("siocoutq_zero_once_read", outq == 0, "outq=%d", outq);
	close(c);
	close(s);
	close(l);
}

/* ---- select ---- */

static int select1(int fd, int *r, int *w, int *x, int ms)
{
	fd_set rs, ws, xs;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_ZERO(&xs);
	FD_SET(fd, &rs);
	FD_SET(fd, &ws);
	FD_SET(fd, &xs);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int n = select(fd + 1, r ? &rs : NULL, w ? &ws : NULL, x ? &xs : NULL, &tv);
	if (r)
		*r = FD_ISSET(fd, &rs);
	if (w)
		*w = FD_ISSET(fd, &ws);
	if (x)
		*x = FD_ISSET(fd, &xs);
	return n;
}

static void test_select(void)
{
	uint16_t port;
	int l = tcp_listener(&port, 4);
	int r, w, x;
	int n = select1(l, &r, NULL, &x, 0);
	CHECK("select_listener_idle", n == 0 && !r && !x, "n=%d r=%d x=%d", n, r, x);
	int c = tcp_connect(port);
	n = select1(l, &r, NULL, &x, 2000);
	CHECK("select_listener_pending_readable", n == 1 && r && !x, "n=%d r=%d x=%d", n, r, x);
	int s = accept(l, NULL, NULL);
	n = select1(c, &r, &w, &x, 0);
	CHECK("select_connected_writable_only", n == 1 && !r && w && !x, "n=%d r=%d w=%d x=%d", n, r, w, x);
	write(s, "abc", 3);
	n = select1(c, &r, NULL, NULL, 2000);
	CHECK("select_data_readable", n == 1 && r, "n=%d r=%d", n, r);
	char buf[8];
	read(c, buf, sizeof(buf));
	struct later lt;
	long t0 = now_ms();
	later(&lt, s, 50, LATER_WRITE);
	n = select1(c, &r, NULL, NULL, 5000);
	long dt = now_ms() - t0;
	pthread_join(lt.th, NULL);
	CHECK("select_woken_by_data", n == 1 && r && dt >= 40, "n=%d r=%d dt=%ld", n, r, dt);
	read(c, buf, sizeof(buf));
	t0 = now_ms();
	n = select1(c, &r, NULL, NULL, 100);
	dt = now_ms() - t0;
	CHECK("select_times_out", n == 0 && !r && dt >= 90, "n=%d r=%d dt=%ld", n, r, dt);
	shutdown(s, SHUT_WR);
	/* a writable socket makes select return at once: wait for the FIN first (on Ember's loopback
	 * it travels through an squeue after shutdown() returned; Linux delivers it inside the call) */
	select1(c, &r, NULL, NULL, 2000);
	n = select1(c, &r, &w, &x, 2000);
	long eof = read(c, buf, sizeof(buf));
	CHECK("select_eof_readable", n == 2 && r && w && !x && eof == 0, "n=%d r=%d w=%d x=%d eof=%ld", n, r, w, x, eof);
	close(c);
	close(s);
	close(l);
}

/* ---- epoll ---- */

static int ep_add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* one wait: returns the count, the first event's mask in *evs and data in *data */
static int ep_wait(int ep, int ms, uint32_t *evs, uint64_t *data)
{
	struct epoll_event ev[4];
	memset(ev, 0, sizeof(ev));
	int n = epoll_wait(ep, ev, 4, ms);
	*evs = n > 0 ? ev[0].events : 0;
	if (data)
		*data = n > 0 ? ev[0].data.u64 : ~0ull;
	return n;
}

static void test_epoll(void)
{
	uint16_t port;
	int l = tcp_listener(&port, 4);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	uint32_t evs;
	uint64_t data;
	ep_add(ep, l, EPOLLIN, 7);
	int n = ep_wait(ep, 0, &evs, &data);
	CHECK("epoll_listener_idle", n == 0, "n=%d", n);
	int c = tcp_connect(port);
	n = ep_wait(ep, 2000, &evs, &data);
	CHECK("epoll_listener_pending", n == 1 && evs == EPOLLIN && data == 7, "n=%d events=%#x data=%llu", n, evs,
	      (unsigned long long)data);
	n = ep_wait(ep, 0, &evs, &data);
	CHECK("epoll_listener_level_triggered", n == 1 && evs == EPOLLIN, "n=%d events=%#x", n, evs);
	int s = accept(l, NULL, NULL);
	n = ep_wait(ep, 0, &evs, &data);
	CHECK("epoll_listener_quiet_after_accept", n == 0, "n=%d events=%#x", n, evs);
	epoll_ctl(ep, EPOLL_CTL_DEL, l, NULL);

	ep_add(ep, c, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 1);
	n = ep_wait(ep, 0, &evs, &data);
	CHECK("epoll_connected_epollout", n == 1 && evs == EPOLLOUT && data == 1, "n=%d events=%#x", n, evs);
	struct epoll_event mod = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = 1 };
	epoll_ctl(ep, EPOLL_CTL_MOD, c, &mod);
	write(s, "lt", 2);
	n = ep_wait(ep, 2000, &evs, &data);
	int n2 = ep_wait(ep, 0, &evs, &data);
	CHECK("epoll_lt_data_reported_until_read", n == 1 && n2 == 1 && evs == EPOLLIN, "n=%d n2=%d events=%#x", n, n2, evs);
	char buf[8];
	read(c, buf, sizeof(buf));
	n = ep_wait(ep, 0, &evs, &data);
	CHECK("epoll_lt_quiet_after_read", n == 0, "n=%d events=%#x", n, evs);

	/* edge-triggered: one report per arrival */
	mod.events = EPOLLIN | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, c, &mod);
	write(s, "e1", 2);
	n = ep_wait(ep, 2000, &evs, &data);
	n2 = ep_wait(ep, 0, &evs, &data);
	CHECK("epoll_et_once_per_arrival", n == 1 && n2 == 0, "n=%d n2=%d", n, n2);
	write(s, "e2", 2);
	n = ep_wait(ep, 2000, &evs, &data);
	long got = read(c, buf, sizeof(buf));
	if (got < 4)                                 /* e1 and e2 may come apart */
		got += read(c, buf, sizeof(buf));
	CHECK("epoll_et_new_arrival_reported", n == 1 && evs == EPOLLIN && got == 4, "n=%d events=%#x got=%ld", n, evs, got);

	/* a wake-up from another thread */
	struct later lt;
	long t0 = now_ms();
	later(&lt, s, 50, LATER_WRITE);
	n = ep_wait(ep, 5000, &evs, &data);
	long dt = now_ms() - t0;
	pthread_join(lt.th, NULL);
	CHECK("epoll_woken_by_data", n == 1 && evs == EPOLLIN && dt >= 40 && dt < 5000, "n=%d events=%#x dt=%ld", n, evs, dt);
	read(c, buf, sizeof(buf));

	/* the peer shuts down its side */
	mod.events = EPOLLIN | EPOLLRDHUP;
	epoll_ctl(ep, EPOLL_CTL_MOD, c, &mod);
	later(&lt, s, 20, LATER_SHUT_WR);
	n = ep_wait(ep, 5000, &evs, &data);
	pthread_join(lt.th, NULL);
	CHECK("epoll_peer_shutdown_rdhup", n == 1 && evs == (EPOLLIN | EPOLLRDHUP), "n=%d events=%#x", n, evs);
	close(c);                                    /* closing removes it from the epoll */
	struct linger lg = { 1, 0 };
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));

	/* the peer resets */
	c = tcp_connect(port);
	int s2 = accept(l, NULL, NULL);
	ep_add(ep, c, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 2);
	setsockopt(s2, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s2);
	t0 = now_ms();
	do
		n = ep_wait(ep, 2000, &evs, &data);
	while (n == 1 && !(evs & EPOLLERR) && now_ms() - t0 < 2000);
	CHECK("epoll_peer_reset_err_hup", n == 1 && data == 2 && evs == (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLERR | EPOLLHUP),
	      "n=%d data=%llu events=%#x", n, (unsigned long long)data, evs);
	close(c);
	close(s);

	/* one-shot */
	if (tcp_pair(&c, &s) == 0) {
		ep_add(ep, c, EPOLLIN | EPOLLONESHOT, 3);
		write(s, "a", 1);
		n = ep_wait(ep, 2000, &evs, &data);
		write(s, "b", 1);
		sleep_ms(20);
		n2 = ep_wait(ep, 0, &evs, &data);
		mod = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 3 };
		epoll_ctl(ep, EPOLL_CTL_MOD, c, &mod);
		int n3 = ep_wait(ep, 0, &evs, &data);
		CHECK("epoll_oneshot_rearmed_by_mod", n == 1 && n2 == 0 && n3 == 1 && data == 3, "n=%d n2=%d n3=%d", n, n2, n3);
		close(c);
		close(s);
	} else {
		FAIL("oneshot_pair", "errno=%d", errno);
	}

	/* a non-blocking connect completes as EPOLLOUT */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ep_add(ep, c, EPOLLOUT | EPOLLET, 4);
	struct sockaddr_in a = lo_addr(port);
	errno = 0;
	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	n = ep_wait(ep, 2000, &evs, &data);
	int err = -1;
	socklen_t len = sizeof(err);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
	CHECK("epoll_nonblocking_connect_epollout", r == -1 && e == EINPROGRESS && n == 1 && evs == EPOLLOUT && data == 4 &&
	      err == 0, "r=%d errno=%d n=%d events=%#x so_error=%d", r, e, n, evs, err);
	s = accept(l, NULL, NULL);
	close(s);
	close(c);
	close(ep);
	close(l);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	start_watchdog(90);
	test_poll_states();
	test_poll_wakeups();
	test_select();
	test_epoll();
	return t_finish();
}
