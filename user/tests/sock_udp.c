/*
 * UDP over 127.0.0.1:
 *   - bind to port 0 + getsockname, autobind on the first sendto, EADDRINUSE on a bound port
 *   - datagram boundaries: three datagrams of 3, 1400 and 8000 bytes come back one per recv;
 *     50 small datagrams arrive all and in order
 *   - FIONREAD is the size of the first queued datagram
 *   - truncation: a small buffer gets the head of the datagram and the rest is dropped;
 *     recvmsg sets MSG_TRUNC in msg_flags; recv(MSG_TRUNC) returns the real length
 *   - recvfrom and recvmsg report the sender's address; sendmsg with msg_name
 *   - MSG_PEEK leaves the datagram queued
 *   - a 0-byte datagram: sent, readable, received as 0 with the sender's address
 *   - connected UDP: send/recv/write/read, getpeername, datagrams from other sockets filtered
 *     out, connect(AF_UNSPEC) dissolves the association (ENOTCONN, EDESTADDRREQ)
 *   - a connected socket sending to a closed port: the next recv fails with ECONNREFUSED (ICMP
 *     port unreachable); an unconnected socket is not told (EAGAIN)
 *   - non-blocking recv and MSG_DONTWAIT with nothing queued: EAGAIN
 *   - poll: POLLOUT always, POLLIN only with a datagram queued
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include "sockutil.h"

static int udp_socket(uint16_t *port)
{
	return bound_socket(SOCK_DGRAM, port);
}

static long send_to(int fd, const void *buf, size_t n, uint16_t port)
{
	struct sockaddr_in a = lo_addr(port);
	return sendto(fd, buf, n, 0, (struct sockaddr *)&a, sizeof(a));
}

static int wait_in(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, ms);
}

/* a port that was free a moment ago */
static uint16_t closed_udp_port(void)
{
	uint16_t port = 0;
	int fd = udp_socket(&port);
	close(fd);
	return port;
}

static void test_bind(void)
{
	uint16_t port;
	int fd = udp_socket(&port);
	CHECK("udp_bind_port0", fd >= 0 && port != 0, "fd=%d port=%u errno=%d", fd, port, errno);
	int other = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = lo_addr(port);
	errno = 0;
	int r = bind(other, (struct sockaddr *)&a, sizeof(a));
	CHECK("udp_bind_in_use_eaddrinuse", r == -1 && errno == EADDRINUSE, "r=%d errno=%d", r, errno);
	uint16_t before = local_port(other);
	long n = send_to(other, "auto", 4, port);
	uint16_t after = local_port(other);
	CHECK("udp_sendto_autobinds", n == 4 && before == 0 && after != 0, "n=%ld before=%u after=%u", n, before, after);
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	char buf[8];
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	CHECK("udp_recvfrom_sender_address", n == 4 && len == sizeof(from) && from.sin_family == AF_INET &&
	      from.sin_addr.s_addr == LOOPBACK && ntohs(from.sin_port) == after, "n=%ld len=%u addr=%#x port=%u want %u", n, len,
	      from.sin_addr.s_addr, ntohs(from.sin_port), after);
	close(other);
	close(fd);
}

static void test_boundaries(void)
{
	uint16_t rport, sport;
	int rx = udp_socket(&rport), tx = udp_socket(&sport);
	static char big[8000], in[9000];
	const size_t sizes[3] = { 3, 1400, 8000 };
	for (int i = 0; i < 8000; i++)
		big[i] = (char)(i * 7);
	long sent[3];
	for (int i = 0; i < 3; i++) {
		big[0] = (char)i;
		sent[i] = send_to(tx, big, sizes[i], rport);
	}
	CHECK("udp_send_three", sent[0] == 3 && sent[1] == 1400 && sent[2] == 8000, "%ld %ld %ld errno=%d", sent[0], sent[1],
	      sent[2], errno);
	wait_in(rx, 2000);
	int avail = -1;
	int r = ioctl(rx, FIONREAD, &avail);
	CHECK("udp_fionread_first_datagram", r == 0 && avail == 3, "r=%d avail=%d", r, avail);
	int ok = 0;
	long got[3] = { -1, -1, -1 };
	for (int i = 0; i < 3; i++) {
		got[i] = recv(rx, in, sizeof(in), 0);
		if (got[i] == (long)sizes[i] && in[0] == (char)i && !memcmp(in + 1, big + 1, sizes[i] - 1))
			ok++;
	}
	CHECK("udp_boundaries_preserved", ok == 3, "got %ld %ld %ld", got[0], got[1], got[2]);

	enum { MANY = 50 };
	int sent_ok = 0;
	for (int i = 0; i < MANY; i++) {
		char msg[16];
		int len = snprintf(msg, sizeof(msg), "dgram-%d", i);
		sent_ok += send_to(tx, msg, len, rport) == len;
	}
	int in_order = 0;
	for (int i = 0; i < MANY; i++) {
		char msg[16], want[16];
		if (wait_in(rx, 2000) != 1)
			break;
		long n = recv(rx, msg, sizeof(msg), 0);
		int len = snprintf(want, sizeof(want), "dgram-%d", i);
		if (n == len && !memcmp(msg, want, len))
			in_order++;
	}
	CHECK("udp_50_datagrams_all_in_order", sent_ok == MANY && in_order == MANY, "sent %d, %d in order", sent_ok, in_order);
	close(rx);
	close(tx);
}

static void test_truncation(void)
{
	uint16_t rport;
	int rx = udp_socket(&rport), tx = socket(AF_INET, SOCK_DGRAM, 0);
	char msg[100], buf[128];
	for (int i = 0; i < 100; i++)
		msg[i] = (char)('a' + i % 26);
	send_to(tx, msg, 100, rport);
	send_to(tx, "next", 4, rport);
	wait_in(rx, 2000);
	long n = recv(rx, buf, 10, 0);
	CHECK("udp_small_buffer_gets_head", n == 10 && !memcmp(buf, msg, 10), "n=%ld", n);
	n = recv(rx, buf, sizeof(buf), 0);
	CHECK("udp_rest_of_truncated_dropped", n == 4 && !memcmp(buf, "next", 4), "n=%ld", n);

	send_to(tx, msg, 100, rport);
	wait_in(rx, 2000);
	struct iovec iov = { buf, 10 };
	struct sockaddr_in from;
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &from;
	mh.msg_namelen = sizeof(from);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	n = recvmsg(rx, &mh, 0);
	CHECK("udp_recvmsg_msg_trunc", n == 10 && (mh.msg_flags & MSG_TRUNC) && mh.msg_namelen == sizeof(from) &&
	      ntohs(from.sin_port) == local_port(tx), "n=%ld flags=%#x namelen=%u", n, mh.msg_flags, mh.msg_namelen);

	send_to(tx, msg, 100, rport);
	wait_in(rx, 2000);
	n = recv(rx, buf, 10, MSG_TRUNC);
	CHECK("udp_recv_flag_trunc_real_length", n == 100 && !memcmp(buf, msg, 10), "n=%ld", n);

	/* a whole datagram: no MSG_TRUNC */
	send_to(tx, "fits", 4, rport);
	wait_in(rx, 2000);
	iov = (struct iovec){ buf, sizeof(buf) };
	mh.msg_namelen = sizeof(from);
	mh.msg_flags = -1;
	n = recvmsg(rx, &mh, 0);
	CHECK("udp_recvmsg_whole_no_trunc", n == 4 && mh.msg_flags == 0, "n=%ld flags=%#x", n, mh.msg_flags);

	/* sendmsg with msg_name, and MSG_PEEK */
	struct sockaddr_in to = lo_addr(rport);
	char part1[] = "peek", part2[] = "-me";
	struct iovec v2[2] = { { part1, 4 }, { part2, 3 } };
	struct msghdr sm;
	memset(&sm, 0, sizeof(sm));
	sm.msg_name = &to;
	sm.msg_namelen = sizeof(to);
	sm.msg_iov = v2;
	sm.msg_iovlen = 2;
	n = sendmsg(tx, &sm, 0);
	CHECK("udp_sendmsg_msg_name", n == 7, "n=%ld errno=%d", n, errno);
	wait_in(rx, 2000);
	memset(buf, 0, sizeof(buf));
	n = recv(rx, buf, sizeof(buf), MSG_PEEK);
	long n2 = recv(rx, buf + 16, sizeof(buf) - 16, 0);
	CHECK("udp_msg_peek_keeps_datagram", n == 7 && n2 == 7 && !memcmp(buf, "peek-me", 7) && !memcmp(buf + 16, "peek-me", 7),
	      "peek=%ld recv=%ld", n, n2);
	close(rx);
	close(tx);
}

static void test_zero_length(void)
{
	uint16_t rport, sport;
	int rx = udp_socket(&rport), tx = udp_socket(&sport);
	long n = send_to(tx, "", 0, rport);
	CHECK("udp_send_zero_length", n == 0, "n=%ld errno=%d", n, errno);
	struct pollfd p = { rx, POLLIN, 0 };
	int r = poll(&p, 1, 2000);
	CHECK("udp_zero_length_readable", r == 1 && p.revents == POLLIN, "r=%d revents=%#x", r, p.revents);
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	char buf[8];
	memset(&from, 0, sizeof(from));
	n = recvfrom(rx, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &len);
	CHECK("udp_recv_zero_length", n == 0 && len == sizeof(from) && ntohs(from.sin_port) == sport, "n=%ld errno=%d port=%u", n,
	      errno, ntohs(from.sin_port));
	errno = 0;
	n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK("udp_zero_length_consumed", n == -1 && errno == EAGAIN, "n=%ld errno=%d", n, errno);
	close(rx);
	close(tx);
}

static void test_connected(void)
{
	uint16_t pa, pb, pc;
	int a = udp_socket(&pa), b = udp_socket(&pb), stranger = udp_socket(&pc);
	struct sockaddr_in to = lo_addr(pb);
	int r = connect(a, (struct sockaddr *)&to, sizeof(to));
	to = lo_addr(pa);
	int r2 = connect(b, (struct sockaddr *)&to, sizeof(to));
	CHECK("udp_connect", r == 0 && r2 == 0, "r=%d r2=%d errno=%d", r, r2, errno);
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	r = getpeername(a, (struct sockaddr *)&peer, &len);
	CHECK("udp_getpeername", r == 0 && ntohs(peer.sin_port) == pb && peer.sin_addr.s_addr == LOOPBACK, "r=%d port=%u", r,
	      ntohs(peer.sin_port));
	long n = send(a, "hi-b", 4, 0);
	char buf[16] = { 0 };
	wait_in(b, 2000);
	long m = recv(b, buf, sizeof(buf), 0);
	CHECK("udp_connected_send_recv", n == 4 && m == 4 && !memcmp(buf, "hi-b", 4), "n=%ld m=%ld", n, m);
	n = write(b, "hi-a", 4);
	wait_in(a, 2000);
	m = read(a, buf, sizeof(buf));
	CHECK("udp_connected_write_read", n == 4 && m == 4 && !memcmp(buf, "hi-a", 4), "n=%ld m=%ld", n, m);

	/* a connected socket only hears its peer */
	send_to(stranger, "stranger", 8, pa);
	send(b, "friend", 6, 0);
	wait_in(a, 2000);
	memset(buf, 0, sizeof(buf));
	m = recv(a, buf, sizeof(buf), 0);
	sleep_ms(50);
	errno = 0;
	long m2 = recv(a, buf + 8, sizeof(buf) - 8, MSG_DONTWAIT);
	CHECK("udp_connected_filters_strangers", m == 6 && !memcmp(buf, "friend", 6) && m2 == -1 && errno == EAGAIN,
	      "m=%ld buf=%.6s then %ld errno=%d", m, buf, m2, errno);

	/* sendto another address on a connected UDP socket goes there (Linux allows it) */
	n = send_to(a, "direct", 6, pc);
	wait_in(stranger, 2000);
	m = recv(stranger, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK("udp_connected_sendto_other", n == 6 && m == 6, "n=%ld m=%ld errno=%d", n, m, errno);

	/* AF_UNSPEC dissolves the association */
	struct sockaddr un;
	memset(&un, 0, sizeof(un));
	un.sa_family = AF_UNSPEC;
	r = connect(a, &un, sizeof(un));
	len = sizeof(peer);
	errno = 0;
	r2 = getpeername(a, (struct sockaddr *)&peer, &len);
	int e = errno;
	CHECK("udp_disconnect_af_unspec", r == 0 && r2 == -1 && e == ENOTCONN, "r=%d getpeername=%d errno=%d", r, r2, e);
	errno = 0;
	n = send(a, "x", 1, 0);
	CHECK("udp_disconnected_send_edestaddrreq", n == -1 && errno == EDESTADDRREQ, "n=%ld errno=%d", n, errno);
	close(a);
	close(b);
	close(stranger);
}

static void test_refused(void)
{
	uint16_t dead = closed_udp_port();
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = lo_addr(dead);
	connect(c, (struct sockaddr *)&to, sizeof(to));
	struct timeval tv = { 2, 0 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	long n = send(c, "anyone?", 7, 0);
	char buf[8];
	errno = 0;
	long m = recv(c, buf, sizeof(buf), 0);
	int e = errno;
	CHECK("udp_connected_closed_port_econnrefused", n == 7 && m == -1 && e == ECONNREFUSED, "send=%ld recv=%ld errno=%d", n, m,
	      e);
	close(c);

	/* unconnected: the ICMP error is not reported */
	uint16_t p;
	int u = udp_socket(&p);
	n = send_to(u, "anyone?", 7, dead);
	sleep_ms(100);
	errno = 0;
	m = recv(u, buf, sizeof(buf), MSG_DONTWAIT);
	e = errno;
	CHECK("udp_unconnected_closed_port_no_error", n == 7 && m == -1 && e == EAGAIN, "send=%ld recv=%ld errno=%d", n, m, e);
	close(u);
}

static void test_nonblocking_and_poll(void)
{
	uint16_t port;
	int fd = udp_socket(&port), tx = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[8];
	errno = 0;
	long n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK("udp_msg_dontwait_eagain", n == -1 && errno == EAGAIN, "n=%ld errno=%d", n, errno);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	errno = 0;
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK("udp_nonblocking_recv_eagain", n == -1 && errno == EAGAIN, "n=%ld errno=%d", n, errno);
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
	int r = poll(&p, 1, 0);
	CHECK("udp_poll_empty_only_pollout", r == 1 && p.revents == POLLOUT, "r=%d revents=%#x", r, p.revents);
	p.events = POLLIN;
	long t0 = now_ms();
	r = poll(&p, 1, 100);
	CHECK("udp_poll_empty_times_out", r == 0 && now_ms() - t0 >= 90, "r=%d", r);
	send_to(tx, "ping", 4, port);
	p.events = POLLIN | POLLOUT;
	r = poll(&p, 1, 2000);
	CHECK("udp_poll_pollin_with_datagram", r == 1 && p.revents == (POLLIN | POLLOUT), "r=%d revents=%#x", r, p.revents);
	n = recv(fd, buf, sizeof(buf), 0);
	p.events = POLLIN;
	r = poll(&p, 1, 0);
	CHECK("udp_poll_after_recv_not_readable", n == 4 && r == 0, "n=%ld r=%d revents=%#x", n, r, p.revents);
	close(fd);
	close(tx);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	test_bind();
	test_boundaries();
	test_truncation();
	test_zero_length();
	test_connected();
	test_refused();
	test_nonblocking_and_poll();
	return t_finish();
}
