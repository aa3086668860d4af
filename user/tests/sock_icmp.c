/*
 * ICMP sockets over 127.0.0.1:
 *   - ping sockets (SOCK_DGRAM, IPPROTO_ICMP): unbound until the first send, which picks the
 *     identifier (getsockname's port); the echo reply comes back without an IP header, with that
 *     identifier, the sequence number and payload sent, a valid checksum and 127.0.0.1 as source;
 *     bind sets the identifier; connect + send; a large (8000 and 65515 bytes) echo; each socket
 *     hears only its own replies; recv with a short buffer (MSG_TRUNC in msg_flags, and no real
 *     length from recv(MSG_TRUNC) unlike UDP); poll; EINVAL for a short message, a reply or a
 *     non-zero code, EDESTADDRREQ, EMSGSIZE above 65515 bytes, ENOTCONN from shutdown, ENOTTY
 *     for FIONREAD
 *   - raw sockets (SOCK_RAW, IPPROTO_ICMP): getsockname's port is the protocol; an echo request
 *     the program checksums itself comes back twice, as the request arriving on lo and as the
 *     kernel's reply, both whole IPv4 packets (header checksum, protocol, addresses, total length
 *     valid) with valid ICMP checksums; a raw socket also sees a ping socket's traffic; FIONREAD,
 *     MSG_TRUNC with the real length, EDESTADDRREQ, EMSGSIZE above 65515 bytes
 * Linux allows ping sockets only to the groups in net.ipv4.ping_group_range (by default nobody),
 * so under qemu-user they may be skipped; Ember has no such restriction. Replies are matched by
 * identifier and sequence, so other ICMP traffic on the host's lo does no harm.
 */
#define _GNU_SOURCE
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include "sockutil.h"

#define BIG 65515                    /* the largest ICMP message in one IPv4 datagram */

static unsigned char out[BIG + 1], in[BIG + 64];

static uint16_t inet_csum(const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;
	for (; n > 1; n -= 2, p += 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An echo request of len bytes (header included) in out: id, seq, a pattern; checksummed. */
static void make_echo(size_t len, uint16_t id, uint16_t seq)
{
	struct icmphdr *h = (struct icmphdr *)out;
	for (size_t i = sizeof(*h); i < len; i++)
		out[i] = (unsigned char)(i * 13 + seq);
	memset(h, 0, sizeof(*h));
	h->type = ICMP_ECHO;
	h->un.echo.id = htons(id);
	h->un.echo.sequence = htons(seq);
	h->checksum = htons(inet_csum(out, len));
}

static int wait_in(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, ms);
}

/* Receive until an ICMP message of type with id/seq arrives (within ms): its length (the whole
 * packet for raw sockets, whose IP header is skipped for the match), or -1. */
static long recv_match(int fd, bool raw, int type, uint16_t id, uint16_t seq, struct sockaddr_in *from, int ms)
{
	long deadline = now_ms() + ms;
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0 || wait_in(fd, (int)left) != 1)
			return -1;
		socklen_t fl = sizeof(*from);
		long n = recvfrom(fd, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)from, &fl);
		if (n < 0)
			continue;
		size_t off = raw && n >= 20 ? (size_t)(in[0] & 0xf) * 4 : 0;
		if ((size_t)n < off + sizeof(struct icmphdr))
			continue;
		struct icmphdr *h = (struct icmphdr *)(in + off);
		if (h->type == type && ntohs(h->un.echo.id) == id && ntohs(h->un.echo.sequence) == seq)
			return n;
	}
}

static int ping_socket(void)
{
	return socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
}

static void test_ping_basic(int p)
{
	struct sockaddr_in to = lo_addr(0), from;
	socklen_t len = sizeof(from);
	memset(&from, 0xff, sizeof(from));
	int r = getsockname(p, (struct sockaddr *)&from, &len);
	CHECK("ping_unbound_name", r == 0 && from.sin_port == 0 && from.sin_addr.s_addr == 0, "r=%d port=%u addr=%#x", r,
	      ntohs(from.sin_port), from.sin_addr.s_addr);

	make_echo(64, 0x1234, 7);
	long n = sendto(p, out, 64, 0, (struct sockaddr *)&to, sizeof(to));
	uint16_t ident = local_port(p);
	CHECK("ping_send_autobinds", n == 64 && ident != 0, "n=%ld errno=%d ident=%u", n, errno, ident);
	n = recv_match(p, false, ICMP_ECHOREPLY, ident, 7, &from, 2000);
	struct icmphdr *h = (struct icmphdr *)in;
	CHECK("ping_echo_reply", n == 64 && h->code == 0 && !memcmp(in + 8, out + 8, 56), "n=%ld code=%d", n, h->code);
	CHECK("ping_reply_checksum_valid", n == 64 && inet_csum(in, 64) == 0, "n=%ld", n);
	CHECK("ping_reply_source", from.sin_family == AF_INET && from.sin_addr.s_addr == LOOPBACK, "family=%d addr=%#x",
	      from.sin_family, from.sin_addr.s_addr);

	make_echo(8000, 0, 8);
	n = sendto(p, out, 8000, 0, (struct sockaddr *)&to, sizeof(to));
	long m = recv_match(p, false, ICMP_ECHOREPLY, ident, 8, &from, 2000);
	CHECK("ping_8000_bytes", n == 8000 && m == 8000 && !memcmp(in + 8, out + 8, 8000 - 8), "n=%ld m=%ld", n, m);
	make_echo(BIG, 0, 9);
	n = sendto(p, out, BIG, 0, (struct sockaddr *)&to, sizeof(to));
	m = recv_match(p, false, ICMP_ECHOREPLY, ident, 9, &from, 3000);
	CHECK("ping_65515_bytes", n == BIG && m == BIG && !memcmp(in + 8, out + 8, BIG - 8), "n=%ld m=%ld errno=%d", n, m,
	      errno);

	/* a short buffer: the head, MSG_TRUNC in msg_flags; recv(MSG_TRUNC) returns what it copied */
	make_echo(100, 0, 10);
	sendto(p, out, 100, 0, (struct sockaddr *)&to, sizeof(to));
	wait_in(p, 2000);
	struct iovec iov = { in, 16 };
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	n = recvmsg(p, &mh, 0);
	CHECK("ping_recvmsg_trunc", n == 16 && (mh.msg_flags & MSG_TRUNC) && ntohs(((struct icmphdr *)in)->un.echo.sequence) == 10,
	      "n=%ld flags=%#x", n, mh.msg_flags);
	make_echo(100, 0, 11);
	sendto(p, out, 100, 0, (struct sockaddr *)&to, sizeof(to));
	wait_in(p, 2000);
	n = recv(p, in, 16, MSG_TRUNC);
	CHECK("ping_recv_flag_trunc_copied_length", n == 16, "n=%ld", n);

	struct pollfd pf = { p, POLLIN | POLLOUT, 0 };
	r = poll(&pf, 1, 0);
	CHECK("ping_poll_empty_pollout", r == 1 && pf.revents == POLLOUT, "r=%d revents=%#x", r, pf.revents);
	make_echo(20, 0, 12);
	sendto(p, out, 20, 0, (struct sockaddr *)&to, sizeof(to));
	r = wait_in(p, 2000);
	CHECK("ping_poll_reply_pollin", r == 1, "r=%d", r);
	recv(p, in, sizeof(in), 0);
}

static void test_ping_errors(int p)
{
	struct sockaddr_in to = lo_addr(0);
	make_echo(64, 0, 1);
	errno = 0;
	long n = sendto(p, out, 7, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping_short_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	((struct icmphdr *)out)->type = ICMP_ECHOREPLY;
	errno = 0;
	n = sendto(p, out, 64, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping_reply_type_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	((struct icmphdr *)out)->type = ICMP_ECHO;
	((struct icmphdr *)out)->code = 1;
	errno = 0;
	n = sendto(p, out, 64, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping_nonzero_code_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	((struct icmphdr *)out)->code = 0;
	errno = 0;
	n = send(p, out, 64, 0);
	CHECK("ping_no_address_edestaddrreq", n == -1 && errno == EDESTADDRREQ, "n=%ld errno=%d", n, errno);
	errno = 0;
	n = sendto(p, out, BIG + 1, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping_too_big_emsgsize", n == -1 && errno == EMSGSIZE, "n=%ld errno=%d", n, errno);
	int fresh = ping_socket();
	errno = 0;
	int r = shutdown(fresh, SHUT_RDWR);
	CHECK("ping_shutdown_unconnected_enotconn", r == -1 && errno == ENOTCONN, "r=%d errno=%d", r, errno);
	errno = 0;
	n = sendto(fresh, out, 64, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping_send_after_shutdown_epipe", n == -1 && errno == EPIPE, "n=%ld errno=%d", n, errno);
	close(fresh);
	int v;
	errno = 0;
	r = ioctl(p, FIONREAD, &v);
	CHECK("ping_fionread_enotty", r == -1 && errno == ENOTTY, "r=%d errno=%d", r, errno);
}

static void test_ping_bind_connect(void)
{
	int a = ping_socket(), b = ping_socket();
	struct sockaddr_in me = lo_addr(4242), to = lo_addr(0), from;
	int r = bind(a, (struct sockaddr *)&me, sizeof(me));
	CHECK("ping_bind_identifier", r == 0 && local_port(a) == 4242, "r=%d errno=%d port=%u", r, errno, local_port(a));
	errno = 0;
	r = bind(a, (struct sockaddr *)&me, sizeof(me));
	CHECK("ping_bind_twice_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
	/* Linux's getpeername wants a port, which ping does not use: ENOTCONN after a connect to port 0 */
	r = connect(b, (struct sockaddr *)&to, sizeof(to));
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	errno = 0;
	int r2 = getpeername(b, (struct sockaddr *)&peer, &len);
	CHECK("ping_connect_port0_getpeername_enotconn", r == 0 && r2 == -1 && errno == ENOTCONN, "r=%d r2=%d errno=%d", r,
	      r2, errno);
	struct sockaddr_in to7 = lo_addr(7);
	r = connect(b, (struct sockaddr *)&to7, sizeof(to7));
	uint16_t bid = local_port(b);
	len = sizeof(peer);
	r2 = getpeername(b, (struct sockaddr *)&peer, &len);
	CHECK("ping_connect", r == 0 && r2 == 0 && peer.sin_addr.s_addr == LOOPBACK && ntohs(peer.sin_port) == 7 && bid != 0 &&
	      bid != 4242, "r=%d r2=%d errno=%d ident=%u", r, r2, errno, bid);

	/* both send; each hears its own reply only */
	make_echo(32, 0, 21);
	long n = sendto(a, out, 32, 0, (struct sockaddr *)&to, sizeof(to));
	make_echo(32, 0, 22);
	long m = send(b, out, 32, 0);
	long ra = recv_match(a, false, ICMP_ECHOREPLY, 4242, 21, &from, 2000);
	long rb = recv_match(b, false, ICMP_ECHOREPLY, bid, 22, &from, 2000);
	CHECK("ping_bound_and_connected_replies", n == 32 && m == 32 && ra == 32 && rb == 32, "n=%ld m=%ld ra=%ld rb=%ld", n, m,
	      ra, rb);
	sleep_ms(50);
	errno = 0;
	n = recv(a, in, sizeof(in), MSG_DONTWAIT);
	int ea = errno;
	errno = 0;
	m = recv(b, in, sizeof(in), MSG_DONTWAIT);
	CHECK("ping_only_own_replies", n == -1 && ea == EAGAIN && m == -1 && errno == EAGAIN, "a: %ld/%d b: %ld/%d", n, ea, m,
	      errno);
	r = shutdown(b, SHUT_RD);
	CHECK("ping_shutdown_connected", r == 0, "r=%d errno=%d", r, errno);
	close(a);
	close(b);
}

static void test_raw(int ping)
{
	int r = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (r < 0 && !running_in_ember() && (errno == EPERM || errno == EACCES)) {
		SKIP("raw_icmp", "raw sockets need CAP_NET_RAW on this host");
		return;
	}
	CHECK("raw_socket", r >= 0, "errno=%d", errno);
	if (r < 0)
		return;
	struct sockaddr_in to = lo_addr(0), from;
	uint16_t id = (uint16_t)(getpid() ^ 0x5a5a);
	CHECK("raw_name_port_is_protocol", local_port(r) == IPPROTO_ICMP, "port=%u", local_port(r));
	int v = -1;
	int rv = ioctl(r, FIONREAD, &v);
	CHECK("raw_fionread_empty", rv == 0 && v == 0, "r=%d v=%d errno=%d", rv, v, errno);

	make_echo(48, id, 3);
	long n = sendto(r, out, 48, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("raw_send_echo", n == 48, "n=%ld errno=%d", n, errno);
	/* the request as it arrived on lo, then the kernel's reply */
	long q = recv_match(r, true, ICMP_ECHO, id, 3, &from, 2000);
	struct iphdr ip;
	memcpy(&ip, in, sizeof(ip));
	CHECK("raw_sees_request_with_ip_header", q == 68 && ip.version == 4 && ip.ihl == 5 && ip.protocol == IPPROTO_ICMP &&
	      ntohs(ip.tot_len) == 68 && ip.saddr == LOOPBACK && ip.daddr == LOOPBACK && !memcmp(in + 20, out, 48),
	      "n=%ld version=%d ihl=%d proto=%d tot_len=%d", q, ip.version, ip.ihl, ip.protocol, ntohs(ip.tot_len));
	CHECK("raw_ip_header_checksum_valid", q == 68 && inet_csum(in, 20) == 0, "n=%ld", q);
	long a = recv_match(r, true, ICMP_ECHOREPLY, id, 3, &from, 2000);
	memcpy(&ip, in, sizeof(ip));
	CHECK("raw_sees_reply", a == 68 && ip.protocol == IPPROTO_ICMP && ntohs(ip.tot_len) == 68 && ip.ttl > 0 &&
	      !memcmp(in + 28, out + 8, 40) && from.sin_addr.s_addr == LOOPBACK, "n=%ld proto=%d tot_len=%d", a, ip.protocol,
	      ntohs(ip.tot_len));
	CHECK("raw_reply_checksums_valid", a == 68 && inet_csum(in, 20) == 0 && inet_csum(in + 20, 48) == 0, "n=%ld", a);

	/* FIONREAD and MSG_TRUNC (the real length) */
	make_echo(48, id, 4);
	sendto(r, out, 48, 0, (struct sockaddr *)&to, sizeof(to));
	wait_in(r, 2000);
	rv = ioctl(r, FIONREAD, &v);
	CHECK("raw_fionread_first_packet", rv == 0 && v >= 28, "r=%d v=%d", rv, v);
	n = recv(r, in, 10, MSG_TRUNC);
	CHECK("raw_recv_flag_trunc_real_length", n >= 28, "n=%ld", n);

	errno = 0;
	n = send(r, out, 48, 0);
	CHECK("raw_no_address_edestaddrreq", n == -1 && errno == EDESTADDRREQ, "n=%ld errno=%d", n, errno);
	errno = 0;
	n = sendto(r, out, BIG + 1, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("raw_too_big_emsgsize", n == -1 && errno == EMSGSIZE, "n=%ld errno=%d", n, errno);
	errno = 0;
	int s = shutdown(r, SHUT_WR);
	CHECK("raw_shutdown_unconnected_enotconn", s == -1 && errno == ENOTCONN, "r=%d errno=%d", s, errno);

	if (ping >= 0) {
		/* a raw socket hears a ping socket's request and reply too */
		make_echo(24, 0, 31);
		sendto(ping, out, 24, 0, (struct sockaddr *)&to, sizeof(to));
		uint16_t pid = local_port(ping);
		long rq = recv_match(r, true, ICMP_ECHO, pid, 31, &from, 2000);
		long rr = recv_match(r, true, ICMP_ECHOREPLY, pid, 31, &from, 2000);
		long pr = recv_match(ping, false, ICMP_ECHOREPLY, pid, 31, &from, 2000);
		CHECK("raw_sees_ping_socket_traffic", rq == 44 && rr == 44 && pr == 24, "request %ld reply %ld ping %ld", rq, rr, pr);
	}
	close(r);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	int p = ping_socket();
	if (p < 0 && errno == EACCES && !running_in_ember()) {
		SKIP("ping_sockets", "net.ipv4.ping_group_range excludes us on this host");
	} else {
		CHECK("ping_socket", p >= 0, "errno=%d", errno);
		if (p >= 0) {
			test_ping_basic(p);
			test_ping_errors(p);
			test_ping_bind_connect();
		}
	}
	test_raw(p);
	if (p >= 0)
		close(p);
	return t_finish();
}
