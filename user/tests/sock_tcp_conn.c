/*
 * TCP over 127.0.0.1: setting connections up and tearing them down.
 *   - shutdown(SHUT_WR): the peer reads EOF while the other direction still carries data; our
 *     own write afterwards is EPIPE + SIGPIPE. shutdown(SHUT_RD): recv returns 0 at once, send
 *     still works. shutdown(SHUT_RDWR).
 *   - close() delivers everything written before it, then EOF; close() with unread data and
 *     close() with SO_LINGER {1,0} reset the connection: the peer's read fails with ECONNRESET
 *   - SO_LINGER {1,T}: close() returns once the peer has acknowledged the data (at once when it
 *     fits the peer's window), or after T seconds when the peer's window is full; either way
 *     the peer then reads every byte and EOF
 *   - write after the peer closed: EPIPE and one SIGPIPE (a handler counts it); MSG_NOSIGNAL
 *     gives EPIPE without the signal
 *   - closing a listener resets the connections it had not accepted yet
 *   - non-blocking connect: EINPROGRESS, poll POLLOUT, SO_ERROR 0; connect again returns 0 once,
 *     then EISCONN
 *   - connect to a port nobody listens on: blocking ECONNREFUSED; non-blocking EINPROGRESS then
 *     SO_ERROR ECONNREFUSED (read once, then cleared)
 *   - accept on a non-blocking listener with nothing pending: EAGAIN
 *   - a backlog of connections completed before anyone accepts, then accepted in order
 *   - bind: a port with a listener is EADDRINUSE (with or without SO_REUSEADDR on both), a second
 *     bind of one socket EINVAL, a non-local address (10.255.255.1) EADDRNOTAVAIL
 *   - ephemeral ports of many bound and many connected sockets are distinct
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include "sockutil.h"


static int poll_in(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, ms);
}

static void test_shutdown(void)
{
	int c, s;
	if (tcp_pair(&c, &s) < 0) {
		FAIL("shutdown_pair", "errno=%d", errno);
		return;
	}
	char buf[64];
	write(c, "last", 4);
	int r = shutdown(c, SHUT_WR);
	CHECK("shutdown_wr", r == 0, "r=%d errno=%d", r, errno);
	long m = read_full(s, buf, 4);
	long e = read(s, buf, sizeof(buf));
	CHECK("shutdown_wr_peer_gets_data_then_eof", m == 4 && !memcmp(buf, "last", 4) && e == 0, "m=%ld eof=%ld errno=%d", m, e,
	      errno);
	e = read(s, buf, sizeof(buf));
	CHECK("eof_repeats", e == 0, "read=%ld errno=%d", e, errno);
	long w = write(s, "reply", 5);
	memset(buf, 0, sizeof(buf));
	m = read_full(c, buf, 5);
	CHECK("shutdown_wr_other_direction_works", w == 5 && m == 5 && !memcmp(buf, "reply", 5), "w=%ld m=%ld", w, m);

	sigpipes = 0;
	errno = 0;
	w = write(c, "x", 1);
	int err = errno;
	CHECK("write_after_own_shut_wr_epipe", w == -1 && err == EPIPE, "w=%ld errno=%d", w, err);
	CHECK("write_after_own_shut_wr_sigpipe", sigpipes == 1, "sigpipes=%d", sigpipes);
	errno = 0;
	w = send(c, "x", 1, MSG_NOSIGNAL);
	err = errno;
	CHECK("send_nosignal_after_shut_wr", w == -1 && err == EPIPE && sigpipes == 1, "w=%ld errno=%d sigpipes=%d", w, err,
	      sigpipes);
	close(c);
	close(s);

	/* SHUT_RD: reads end at once, writes go on */
	if (tcp_pair(&c, &s) < 0) {
		FAIL("shutdown_rd_pair", "errno=%d", errno);
		return;
	}
	r = shutdown(s, SHUT_RD);
	long t0 = now_ms();
	m = recv(s, buf, sizeof(buf), 0);
	CHECK("shutdown_rd_recv_returns_0", r == 0 && m == 0 && now_ms() - t0 < 1000, "r=%d m=%ld errno=%d", r, m, errno);
	w = write(s, "still", 5);
	memset(buf, 0, sizeof(buf));
	m = read_full(c, buf, 5);
	CHECK("shutdown_rd_send_works", w == 5 && m == 5 && !memcmp(buf, "still", 5), "w=%ld m=%ld", w, m);
	r = shutdown(s, SHUT_RDWR);
	e = read_full(c, buf, 1);
	CHECK("shutdown_rdwr_peer_eof", r == 0 && e == 0, "r=%d read=%ld", r, e);
	errno = 0;
	r = shutdown(s, 7);
	CHECK("shutdown_bad_how_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	close(c);
	close(s);
}

/* ---- close ---- */

#define DRAIN_BYTES (256 * 1024)

static void test_close_delivers(void)
{
	int c, s;
	if (tcp_pair(&c, &s) < 0) {
		FAIL("close_pair", "errno=%d", errno);
		return;
	}
	/* the writer closes with everything still in flight: none of it is lost */
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		close(s);
		static char big[DRAIN_BYTES];
		for (int i = 0; i < DRAIN_BYTES; i++)
			big[i] = (char)(i % 251);
		long w = write_full(c, big, DRAIN_BYTES);
		close(c);
		_exit(w == DRAIN_BYTES ? 0 : 1);
	}
	close(c);
	static char got[DRAIN_BYTES + 16];
	long n = read_full(s, got, DRAIN_BYTES + 16);
	int bad = -1;
	for (int i = 0; i < n && bad < 0; i++)
		if (got[i] != (char)(i % 251))
			bad = i;
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK("close_delivers_all_then_eof", n == DRAIN_BYTES && bad < 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "got=%ld bad_at=%d status=%#x", n, bad, st);
	close(s);
}

static void test_resets(void)
{
	int c, s;
	char buf[16];
	if (tcp_pair(&c, &s) < 0) {
		FAIL("linger_pair", "errno=%d", errno);
		return;
	}
	struct linger lg = { 1, 0 };
	int r = setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
	int p = poll_in(s, 2000);
	errno = 0;
	long m = read(s, buf, sizeof(buf));
	int e = errno;
	CHECK("linger0_close_peer_econnreset", r == 0 && p == 1 && m == -1 && e == ECONNRESET, "r=%d poll=%d m=%ld errno=%d", r, p,
	      m, e);
	m = read(s, buf, sizeof(buf));
	CHECK("after_reset_read_eof", m == 0, "m=%ld errno=%d", m, errno);
	sigpipes = 0;
	errno = 0;
	m = write(s, "x", 1);
	e = errno;
	CHECK("after_reset_write_epipe", m == -1 && e == EPIPE && sigpipes == 1, "m=%ld errno=%d sigpipes=%d", m, e, sigpipes);
	close(s);

	/* close() with data nobody read also resets the connection */
	if (tcp_pair(&c, &s) < 0) {
		FAIL("unread_pair", "errno=%d", errno);
		return;
	}
	write(s, "unread", 6);
	long t0 = now_ms();
	while (recv(c, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) < 6 && now_ms() - t0 < 2000)
		sleep_ms(5);                         /* the data has arrived, unread */
	close(c);
	p = poll_in(s, 2000);
	errno = 0;
	m = read(s, buf, sizeof(buf));
	e = errno;
	CHECK("close_with_unread_data_resets_peer", p == 1 && m == -1 && e == ECONNRESET, "poll=%d m=%ld errno=%d", p, m, e);
	close(s);
}

#define LINGER_CHUNK 4096
#define LINGER_FILL_MAX (64 << 20)              /* a full window: well under this on either kernel */

/* Reads everything s gets until EOF, checking the pattern (byte i is i % 251); -1 on a mismatch. */
static long drain_pattern(int s)
{
	static char buf[65536];
	long total = 0, r;
	while ((r = read(s, buf, sizeof(buf))) > 0) {
		for (long i = 0; i < r; i++)
			if (buf[i] != (char)((total + i) % 251))
				return -1;
		total += r;
	}
	return r < 0 ? -1 : total;
}

static long write_pattern(int c, long from, long n)
{
	static char buf[LINGER_CHUNK];
	long done = 0;
	while (done < n) {
		long k = n - done < LINGER_CHUNK ? n - done : LINGER_CHUNK;
		for (long i = 0; i < k; i++)
			buf[i] = (char)((from + done + i) % 251);
		long w = write(c, buf, k);
		if (w <= 0)
			break;
		done += w;
	}
	return done;
}

static void test_linger_timeout(void)
{
	int c, s;
	struct linger lg = { 1, 5 };
	/* the data fits the peer's window: acknowledged at once, close returns long before 5 s */
	if (tcp_pair(&c, &s) < 0) {
		FAIL("linger_pair", "errno=%d", errno);
		return;
	}
	int r = setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	long w = write_pattern(c, 0, 65536);
	long t0 = now_ms();
	int cr = close(c);
	long dt = now_ms() - t0;
	long got = drain_pattern(s);
	CHECK("linger_close_returns_when_acked", r == 0 && w == 65536 && cr == 0 && dt < 2000 && got == 65536,
	      "r=%d w=%ld close=%d %ld ms got=%ld", r, w, cr, dt, got);
	close(s);

	/* the peer reads nothing and its window is full: close waits the whole timeout, then the
	 * data still arrives once the peer reads */
	if (tcp_pair(&c, &s) < 0) {
		FAIL("linger_full_pair", "errno=%d", errno);
		return;
	}
	lg.l_linger = 1;
	r = setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);      /* fill until EAGAIN; lingering still applies */
	long filled = 0;
	for (;;) {
		w = write_pattern(c, filled, LINGER_CHUNK);
		filled += w;
		if (w < LINGER_CHUNK || filled > LINGER_FILL_MAX)
			break;
	}
	int e = errno;
	t0 = now_ms();
	cr = close(c);
	dt = now_ms() - t0;
	got = drain_pattern(s);
	CHECK("linger_close_waits_for_the_timeout", r == 0 && e == EAGAIN && cr == 0 && dt >= 900 && dt < 4000,
	      "r=%d errno=%d filled=%ld close=%d %ld ms", r, e, filled, cr, dt);
	CHECK("linger_timeout_data_still_delivered", got == filled, "got=%ld filled=%ld", got, filled);
	close(s);
}

static void test_epipe(void)
{
	int c, s;
	if (tcp_pair(&c, &s) < 0) {
		FAIL("epipe_pair", "errno=%d", errno);
		return;
	}
	close(s);
	char ch;
	long eof = read(c, &ch, 1);
	CHECK("peer_close_read_eof", eof == 0, "read=%ld errno=%d", eof, errno);
	/* the first write is accepted and answered with a reset; a later one fails */
	sigpipes = 0;
	long w = 0;
	int writes = 0, e = 0;
	long t0 = now_ms();
	while (now_ms() - t0 < 3000) {
		errno = 0;
		w = write(c, "data", 4);
		e = errno;
		writes++;
		if (w < 0)
			break;
		sleep_ms(10);
	}
	CHECK("write_after_peer_close_epipe", w == -1 && e == EPIPE && writes >= 2, "w=%ld errno=%d writes=%d", w, e, writes);
	CHECK("write_after_peer_close_one_sigpipe", sigpipes == 1, "sigpipes=%d", sigpipes);
	errno = 0;
	w = send(c, "data", 4, MSG_NOSIGNAL);
	e = errno;
	CHECK("msg_nosignal_epipe_no_signal", w == -1 && e == EPIPE && sigpipes == 1, "w=%ld errno=%d sigpipes=%d", w, e,
	      sigpipes);
	errno = 0;
	w = send(c, "data", 4, 0);
	e = errno;
	CHECK("send_again_epipe_sigpipe", w == -1 && e == EPIPE && sigpipes == 2, "w=%ld errno=%d sigpipes=%d", w, e, sigpipes);
	close(c);
}

static void test_listener_close_resets_pending(void)
{
	uint16_t port;
	int l = tcp_listener(&port, 4);
	int c = tcp_connect(port);
	CHECK("pending_connect", c >= 0, "errno=%d", errno);
	close(l);
	int p = poll_in(c, 2000);
	char ch;
	errno = 0;
	long m = read(c, &ch, 1);
	int e = errno;
	CHECK("listener_close_resets_unaccepted", p == 1 && m == -1 && e == ECONNRESET, "poll=%d m=%ld errno=%d", p, m, e);
	close(c);
	errno = 0;
	c = tcp_connect(port);
	CHECK("connect_after_listener_closed_refused", c == -1 && errno == ECONNREFUSED, "c=%d errno=%d", c, errno);
	if (c >= 0)
		close(c);
}

/* ---- connect ---- */

static void test_nonblocking_connect(void)
{
	uint16_t port;
	int l = tcp_listener(&port, 4);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = lo_addr(port);
	errno = 0;
	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK("nonblocking_connect_einprogress", r == -1 && errno == EINPROGRESS, "r=%d errno=%d", r, errno);
	struct pollfd pf = { c, POLLOUT, 0 };
	r = poll(&pf, 1, 2000);
	CHECK("nonblocking_connect_pollout", r == 1 && pf.revents == POLLOUT, "r=%d revents=%#x", r, pf.revents);
	int err = -1;
	socklen_t len = sizeof(err);
	r = getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
	CHECK("nonblocking_connect_so_error_0", r == 0 && err == 0 && len == sizeof(int), "r=%d err=%d len=%u", r, err, len);
	/* Linux: the first connect after the connection completed reports success, the next EISCONN */
	r = connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK("connect_after_completion_returns_0", r == 0, "r=%d errno=%d", r, errno);
	errno = 0;
	r = connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK("connect_again_eisconn", r == -1 && errno == EISCONN, "r=%d errno=%d", r, errno);
	int s = accept(l, NULL, NULL);
	long w = write(c, "nb", 2);
	char buf[2];
	long m = read_full(s, buf, 2);
	CHECK("nonblocking_connect_carries_data", s >= 0 && w == 2 && m == 2, "s=%d w=%ld m=%ld", s, w, m);
	close(s);
	close(c);

	/* nothing pending on a non-blocking listener */
	fcntl(l, F_SETFL, O_NONBLOCK);
	errno = 0;
	s = accept(l, NULL, NULL);
	CHECK("accept_nonblocking_empty_eagain", s == -1 && errno == EAGAIN, "s=%d errno=%d", s, errno);
	errno = 0;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	CHECK("accept4_nonblocking_empty_eagain", s == -1 && errno == EAGAIN, "s=%d errno=%d", s, errno);
	close(l);
}

static void test_refused(void)
{
	/* a bound socket that does not listen keeps the port ours and answers SYNs with RST */
	uint16_t port;
	int hold = bound_socket(SOCK_STREAM, &port);
	errno = 0;
	int c = tcp_connect(port);
	CHECK("blocking_connect_econnrefused", c == -1 && errno == ECONNREFUSED, "c=%d errno=%d", c, errno);

	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = lo_addr(port);
	errno = 0;
	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK("nonblocking_refused_einprogress", r == -1 && errno == EINPROGRESS, "r=%d errno=%d", r, errno);
	struct pollfd pf = { c, POLLOUT, 0 };
	r = poll(&pf, 1, 2000);
	CHECK("nonblocking_refused_poll", r == 1 && (pf.revents & POLLERR) && (pf.revents & POLLHUP), "r=%d revents=%#x", r,
	      pf.revents);
	int err = -1;
	socklen_t len = sizeof(err);
	r = getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
	CHECK("nonblocking_refused_so_error", r == 0 && err == ECONNREFUSED, "r=%d err=%d", r, err);
	err = -1;
	r = getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
	CHECK("so_error_cleared_after_read", r == 0 && err == 0, "r=%d err=%d", r, err);
	close(c);

	/* the error is also reported by the next call instead of SO_ERROR */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(c, (struct sockaddr *)&a, sizeof(a));
	pf = (struct pollfd){ c, POLLOUT, 0 };
	poll(&pf, 1, 2000);
	errno = 0;
	r = connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK("nonblocking_refused_second_connect_reports", r == -1 && errno == ECONNREFUSED, "r=%d errno=%d", r, errno);
	close(c);
	close(hold);
}

static void test_backlog(void)
{
	enum { N = 5 };
	uint16_t port;
	int l = tcp_listener(&port, N);
	int c[N];
	uint16_t cport[N];
	int ok = 0;
	for (int i = 0; i < N; i++) {
		c[i] = tcp_connect(port);
		cport[i] = c[i] >= 0 ? local_port(c[i]) : 0;
		ok += c[i] >= 0;
		if (c[i] >= 0)
			write(c[i], &i, 1);          /* data may wait in a connection nobody accepted */
	}
	CHECK("backlog_connects_complete_before_accept", ok == N, "%d of %d connected, errno=%d", ok, N, errno);
	int matched = 0;
	for (int i = 0; i < N; i++) {
		struct sockaddr_in pa;
		socklen_t len = sizeof(pa);
		int s = accept(l, (struct sockaddr *)&pa, &len);
		unsigned char b = 0xff;
		if (s >= 0 && read_full(s, &b, 1) == 1 && b < N && cport[b] == ntohs(pa.sin_port))
			matched++;
		if (s >= 0)
			close(s);
	}
	CHECK("backlog_all_accepted_with_their_data", matched == N, "matched %d of %d", matched, N);
	for (int i = 0; i < N; i++)
		if (c[i] >= 0)
			close(c[i]);
	int r = listen(l, 16);
	CHECK("listen_again_changes_backlog", r == 0, "r=%d errno=%d", r, errno);
	close(l);
}

/* ---- bind ---- */

static void test_bind(void)
{
	uint16_t port;
	int l = tcp_listener(&port, 1);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo_addr(port);
	errno = 0;
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_in_use_eaddrinuse", r == -1 && errno == EADDRINUSE, "r=%d errno=%d", r, errno);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	errno = 0;
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_any_same_port_eaddrinuse", r == -1 && errno == EADDRINUSE, "r=%d errno=%d", r, errno);
	close(fd);
	close(l);

	/* SO_REUSEADDR on both does not let two sockets share a port while one listens */
	int one = 1;
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a = lo_addr(0);
	bind(l, (struct sockaddr *)&a, sizeof(a));
	port = local_port(l);
	listen(l, 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a = lo_addr(port);
	errno = 0;
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_reuseaddr_listener_eaddrinuse", r == -1 && errno == EADDRINUSE, "r=%d errno=%d", r, errno);
	close(fd);
	close(l);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	a = lo_addr(0);
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	errno = 0;
	int r2 = bind(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_twice_einval", r == 0 && r2 == -1 && errno == EINVAL, "r=%d r2=%d errno=%d", r, r2, errno);
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	a = lo_addr(0);
	a.sin_addr.s_addr = inet_addr("10.255.255.1");
	errno = 0;
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_nonlocal_eaddrnotavail", r == -1 && errno == EADDRNOTAVAIL, "r=%d errno=%d", r, errno);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_any_port0", r == 0 && local_port(fd) != 0, "r=%d errno=%d port=%u", r, errno, local_port(fd));
	close(fd);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	a = lo_addr(0);
	a.sin_addr.s_addr = inet_addr("10.255.255.1");
	errno = 0;
	r = bind(u, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_udp_nonlocal_eaddrnotavail", r == -1 && errno == EADDRNOTAVAIL, "r=%d errno=%d", r, errno);
	close(u);
}

static int distinct(const uint16_t *p, int n)
{
	for (int i = 0; i < n; i++) {
		if (p[i] == 0)
			return 0;
		for (int j = 0; j < i; j++)
			if (p[i] == p[j])
				return 0;
	}
	return 1;
}

static void test_ephemeral(void)
{
	enum { NB = 64, NC = 32 };
	int fd[NB];
	uint16_t ports[NB];
	for (int i = 0; i < NB; i++) {
		fd[i] = bound_socket(SOCK_STREAM, &ports[i]);
		if (fd[i] < 0)
			ports[i] = 0;
	}
	CHECK("ephemeral_bound_ports_distinct", distinct(ports, NB), "ports %u %u %u ... errno=%d", ports[0], ports[1], ports[2],
	      errno);
	for (int i = 0; i < NB; i++)
		if (fd[i] >= 0)
			close(fd[i]);

	uint16_t lport;
	int l = tcp_listener(&lport, NC);
	int c[NC], s[NC];
	uint16_t cp[NC + 1];
	for (int i = 0; i < NC; i++) {
		c[i] = tcp_connect(lport);
		s[i] = c[i] >= 0 ? accept(l, NULL, NULL) : -1;
		cp[i] = c[i] >= 0 ? local_port(c[i]) : 0;
	}
	cp[NC] = lport;
	CHECK("ephemeral_connect_ports_distinct", distinct(cp, NC + 1), "ports %u %u %u ... errno=%d", cp[0], cp[1], cp[2], errno);
	for (int i = 0; i < NC; i++) {
		if (c[i] >= 0)
			close(c[i]);
		if (s[i] >= 0)
			close(s[i]);
	}
	close(l);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(120);
	count_sigpipes();
	test_shutdown();
	test_close_delivers();
	test_resets();
	test_linger_timeout();
	test_epipe();
	test_listener_close_resets_pending();
	test_nonblocking_connect();
	test_refused();
	test_backlog();
	test_bind();
	test_ephemeral();
	return t_finish();
}
