/*
 * AF_UNIX socket pairs (socketpair), the same on Linux and in Ember:
 *   - SOCK_STREAM: bytes both ways; 1 MiB through a child with every byte checked; a writer that
 *     filled the pair (non-blocking until EAGAIN) blocks, then finishes once the reader drains;
 *     MSG_PEEK, FIONREAD, readv/writev, MSG_DONTWAIT EAGAIN; poll POLLIN/POLLOUT;
 *     shutdown(SHUT_WR): the peer reads the rest, then EOF, and our write is EPIPE + SIGPIPE;
 *     closing one end: the other reads what is queued, then EOF, and writes EPIPE (MSG_NOSIGNAL:
 *     no signal); poll then says POLLIN|POLLHUP|POLLRDHUP
 *   - SOCK_DGRAM: boundaries kept; a short buffer truncates (MSG_TRUNC in msg_flags, and recv
 *     with MSG_TRUNC returns the real length); an empty datagram; a closed peer: ECONNREFUSED on
 *     the next send, then ENOTCONN, and reads wait (EAGAIN non-blocking)
 *   - SOCK_SEQPACKET: boundaries kept; a closed peer: EOF, then EPIPE
 *   - names and options: getsockname/getpeername give just the family; SO_TYPE, SO_DOMAIN,
 *     SO_PEERCRED (our pid, uid and gid); FIONREAD: all queued bytes on stream and seqpacket
 *     pairs, the next datagram's on dgram pairs
 *   - errors: AF_INET pairs EOPNOTSUPP, a protocol EPROTONOSUPPORT, SOCK_PACKET and another type
 *     below SOCK_MAX ESOCKTNOSUPPORT, a bad pointer EFAULT, an unknown family EAFNOSUPPORT (bad
 *     flag bits are not tried: qemu-user drops them); SOCK_NONBLOCK and SOCK_CLOEXEC apply to both fds;
 *     sendto with an address on a stream pair EISCONN
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "sockutil.h"

#define BIG (1 << 20)


static short poll_now(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };
	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static void test_stream_basics(void)
{
	int sv[2];
	int r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	CHECK("stream_pair", r == 0 && sv[0] >= 0 && sv[1] > sv[0], "r=%d errno=%d", r, errno);
	if (r)
		return;
	char buf[64];
	CHECK("stream_empty_pollout_only", poll_now(sv[0], POLLIN | POLLOUT) == POLLOUT, "revents=%#x",
	      poll_now(sv[0], POLLIN | POLLOUT));
	EXPECT("stream_empty_dontwait_eagain", recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	long w = write(sv[0], "hello", 5), w2 = write(sv[1], "back", 4);
	int q = -1;
	ioctl(sv[1], FIONREAD, &q);
	CHECK("stream_fionread", q == 5, "fionread=%d", q);
	CHECK("stream_pollin", poll_now(sv[1], POLLIN) == POLLIN, "revents=%#x", poll_now(sv[1], POLLIN));
	long p = recv(sv[1], buf, 3, MSG_PEEK);
	long m = read(sv[1], buf, 2);
	long m2 = read(sv[1], buf + 2, sizeof(buf) - 2);
	CHECK("stream_peek_then_partial_reads", w == 5 && p == 3 && m == 2 && m2 == 3 && !memcmp(buf, "hello", 5),
	      "w=%ld peek=%ld m=%ld m2=%ld", w, p, m, m2);
	m = read(sv[0], buf, sizeof(buf));
	CHECK("stream_other_direction", w2 == 4 && m == 4 && !memcmp(buf, "back", 4), "w2=%ld m=%ld", w2, m);
	struct iovec wv[2] = { { "ab", 2 }, { "cde", 3 } };
	w = writev(sv[0], wv, 2);
	char x[2], y[8];
	struct iovec rv[2] = { { x, 2 }, { y, sizeof(y) } };
	m = readv(sv[1], rv, 2);
	CHECK("stream_writev_readv", w == 5 && m == 5 && !memcmp(x, "ab", 2) && !memcmp(y, "cde", 3), "w=%ld m=%ld", w, m);
	struct sockaddr_in a = lo_addr(9);
	EXPECT("stream_sendto_address_eisconn", sendto(sv[0], "x", 1, 0, (struct sockaddr *)&a, sizeof(a)), EISCONN);

	/* shutdown(SHUT_WR): the rest, then EOF at the peer; our own write EPIPE + SIGPIPE */
	write(sv[0], "tail", 4);
	r = shutdown(sv[0], SHUT_WR);
	m = read(sv[1], buf, sizeof(buf));
	long eof = read(sv[1], buf, sizeof(buf));
	CHECK("stream_shut_wr_peer_reads_rest_then_eof", r == 0 && m == 4 && eof == 0, "r=%d m=%ld eof=%ld", r, m, eof);
	sigpipes = 0;
	EXPECT("stream_write_after_shut_wr_epipe", write(sv[0], "x", 1), EPIPE);
	CHECK("stream_write_after_shut_wr_sigpipe", sigpipes == 1, "sigpipes=%d", sigpipes);
	w = write(sv[1], "still", 5);
	m = read(sv[0], buf, sizeof(buf));
	CHECK("stream_shut_wr_other_direction_works", w == 5 && m == 5, "w=%ld m=%ld", w, m);
	close(sv[0]);
	close(sv[1]);

	/* closing one end */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	write(sv[0], "queued", 6);
	close(sv[0]);
	short ev = poll_now(sv[1], POLLIN | POLLOUT | POLLRDHUP);
	m = read(sv[1], buf, sizeof(buf));
	eof = read(sv[1], buf, sizeof(buf));
	CHECK("stream_peer_closed_rest_then_eof", m == 6 && eof == 0, "m=%ld eof=%ld", m, eof);
	CHECK("stream_peer_closed_poll", (ev & (POLLIN | POLLHUP | POLLRDHUP)) == (POLLIN | POLLHUP | POLLRDHUP),
	      "revents=%#x", ev);
	sigpipes = 0;
	EXPECT("stream_write_to_closed_peer_epipe", write(sv[1], "x", 1), EPIPE);
	EXPECT("stream_send_nosignal_epipe", send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK("stream_one_sigpipe", sigpipes == 1, "sigpipes=%d", sigpipes);
	close(sv[1]);
}

static void test_stream_bulk(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		FAIL("bulk_pair", "errno=%d", errno);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		close(sv[1]);
		static char out[BIG];
		for (int i = 0; i < BIG; i++)
			out[i] = (char)(i * 7 + i / 4096);
		long w = write_full(sv[0], out, BIG);
		_exit(w == BIG ? 0 : 1);
	}
	close(sv[0]);
	static char in[BIG + 16];
	long n = read_full(sv[1], in, sizeof(in));
	int bad = -1;
	for (long i = 0; i < n && bad < 0; i++)
		if (in[i] != (char)(i * 7 + i / 4096))
			bad = (int)i;
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK("stream_1mib_through_a_child", n == BIG && bad < 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "n=%ld bad_at=%d status=%#x", n, bad, st);
	close(sv[1]);

	/* fill the pair, then a blocking write waits until the reader drains */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	static char chunk[4096];
	long filled = 0, w;
	while ((w = write(sv[0], chunk, sizeof(chunk))) > 0 && filled < (64 << 20))
		filled += w;
	int e = errno;
	CHECK("stream_fills_then_eagain", w == -1 && e == EAGAIN && filled > 0, "w=%ld errno=%d filled=%ld", w, e, filled);
	CHECK("stream_full_not_pollout", !(poll_now(sv[0], POLLOUT) & POLLOUT), "revents=%#x", poll_now(sv[0], POLLOUT));
	fcntl(sv[0], F_SETFL, 0);
	pid = fork();
	if (pid == 0) {
		alarm(30);
		long t0 = now_ms();
		long ww = write(sv[0], chunk, sizeof(chunk));   /* blocks until the parent reads */
		_exit(ww == (long)sizeof(chunk) && now_ms() - t0 >= 150 ? 0 : 1);
	}
	sleep_ms(300);
	static char sink[65536];
	long got = 0;
	while (got < filled + (long)sizeof(chunk)) {
		long m = read(sv[1], sink, sizeof(sink));
		if (m <= 0)
			break;
		got += m;
	}
	waitpid(pid, &st, 0);
	CHECK("stream_blocked_writer_finishes_after_drain", got == filled + (long)sizeof(chunk) && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 0, "got=%ld filled=%ld status=%#x", got, filled, st);
	close(sv[0]);
	close(sv[1]);
}

static void test_dgram_and_seqpacket(void)
{
	int types[2] = { SOCK_DGRAM, SOCK_SEQPACKET };
	const char *names[2] = { "dgram", "seqpacket" };
	for (int t = 0; t < 2; t++) {
		int sv[2];
		char name[64], buf[64];
		if (socketpair(AF_UNIX, types[t], 0, sv) < 0) {
			FAIL(names[t], "socketpair errno=%d", errno);
			continue;
		}
		send(sv[0], "one", 3, 0);
		send(sv[0], "second", 6, 0);
		send(sv[0], "", 0, 0);
		long a = recv(sv[1], buf, sizeof(buf), 0);
		long b = recv(sv[1], buf + 8, sizeof(buf) - 8, 0);
		long c = recv(sv[1], buf + 16, sizeof(buf) - 16, MSG_DONTWAIT);
		snprintf(name, sizeof(name), "%s_boundaries_kept", names[t]);
		CHECK(name, a == 3 && b == 6 && c == 0 && !memcmp(buf, "one", 3) && !memcmp(buf + 8, "second", 6),
		      "a=%ld b=%ld c=%ld errno=%d", a, b, c, errno);
		send(sv[0], "truncated", 9, 0);
		struct iovec v = { buf, 4 };
		struct msghdr mh = { .msg_iov = &v, .msg_iovlen = 1 };
		long m = recvmsg(sv[1], &mh, 0);
		snprintf(name, sizeof(name), "%s_short_buffer_msg_trunc", names[t]);
		CHECK(name, m == 4 && (mh.msg_flags & MSG_TRUNC) && !memcmp(buf, "trun", 4), "m=%ld flags=%#x", m, mh.msg_flags);
		send(sv[0], "realsize", 8, 0);
		m = recv(sv[1], buf, 2, MSG_TRUNC);
		snprintf(name, sizeof(name), "%s_recv_msg_trunc_real_length", names[t]);
		CHECK(name, m == 8, "m=%ld errno=%d", m, errno);
		int q = -1;
		send(sv[0], "12345", 5, 0);
		send(sv[0], "123", 3, 0);
		ioctl(sv[1], FIONREAD, &q);
		snprintf(name, sizeof(name), "%s_fionread", names[t]);
		CHECK(name, q == (types[t] == SOCK_DGRAM ? 5 : 8), "fionread=%d", q);
		recv(sv[1], buf, sizeof(buf), 0);
		recv(sv[1], buf, sizeof(buf), 0);
		close(sv[0]);
		if (types[t] == SOCK_DGRAM) {
			EXPECT("dgram_closed_peer_econnrefused", send(sv[1], "x", 1, 0), ECONNREFUSED);
			EXPECT("dgram_closed_peer_then_enotconn", send(sv[1], "x", 1, 0), ENOTCONN);
			EXPECT("dgram_closed_peer_recv_waits", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
		} else {
			m = recv(sv[1], buf, sizeof(buf), 0);
			CHECK("seqpacket_closed_peer_eof", m == 0, "m=%ld errno=%d", m, errno);
			EXPECT("seqpacket_closed_peer_epipe", send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
		}
		close(sv[1]);
	}
}

static void test_names_options_errors(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		FAIL("flags_pair", "errno=%d", errno);
		return;
	}
	bool nb = (fcntl(sv[0], F_GETFL) & O_NONBLOCK) && (fcntl(sv[1], F_GETFL) & O_NONBLOCK);
	bool ce = (fcntl(sv[0], F_GETFD) & FD_CLOEXEC) && (fcntl(sv[1], F_GETFD) & FD_CLOEXEC);
	CHECK("pair_nonblock_cloexec_both", nb && ce, "nonblock=%d cloexec=%d", nb, ce);
	struct sockaddr_un su;
	socklen_t len = sizeof(su);
	memset(&su, 0x55, sizeof(su));
	int r = getsockname(sv[0], (struct sockaddr *)&su, &len);
	CHECK("getsockname_family_only", r == 0 && len == sizeof(sa_family_t) && su.sun_family == AF_UNIX, "r=%d len=%u fam=%d",
	      r, len, su.sun_family);
	len = sizeof(su);
	r = getpeername(sv[0], (struct sockaddr *)&su, &len);
	CHECK("getpeername_family_only", r == 0 && len == sizeof(sa_family_t) && su.sun_family == AF_UNIX, "r=%d len=%u", r, len);
	int v = 0;
	socklen_t vl = sizeof(v);
	r = getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &vl);
	CHECK("so_type_stream", r == 0 && v == SOCK_STREAM, "r=%d v=%d", r, v);
	r = getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &vl);
	CHECK("so_domain_unix", r == 0 && v == AF_UNIX, "r=%d v=%d", r, v);
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	r = getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &cr, &cl);
	CHECK("so_peercred", r == 0 && cl == sizeof(cr) && cr.pid == getpid() && cr.uid == getuid() && cr.gid == getgid(),
	      "r=%d len=%u pid=%d/%d uid=%u gid=%u", r, cl, cr.pid, getpid(), cr.uid, cr.gid);
	close(sv[0]);
	close(sv[1]);
	EXPECT("inet_pair_eopnotsupp", socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
	EXPECT("unix_pair_protocol_eprotonosupport", socketpair(AF_UNIX, SOCK_STREAM, IPPROTO_TCP, sv), EPROTONOSUPPORT);
	EXPECT("unix_pair_sock_packet_esocktnosupport", socketpair(AF_UNIX, SOCK_PACKET, 0, sv), ESOCKTNOSUPPORT);
	EXPECT("unix_pair_type_7_esocktnosupport", socketpair(AF_UNIX, 7, 0, sv), ESOCKTNOSUPPORT);
	EXPECT("unix_pair_bad_pointer_efault", socketpair(AF_UNIX, SOCK_STREAM, 0, BAD_PTR), EFAULT);
	EXPECT("bad_family_eafnosupport", socketpair(45, SOCK_STREAM, 0, sv), EAFNOSUPPORT);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	count_sigpipes();
	test_stream_basics();
	test_stream_bulk();
	test_dgram_and_seqpacket();
	test_names_options_errors();
	return t_finish();
}
