/*
 * ICMPv6 errors to UDP sockets over ::1 (the IPv4 case is sock_udp_basic.c's test_refused):
 *   - a connected AF_INET6 socket sending to a closed port: the kernel's ICMPv6 port unreachable
 *     makes it readable with POLLERR, recv fails once with ECONNREFUSED, then EAGAIN; the next
 *     send after another refusal fails with ECONNREFUSED, the one after it goes out
 *   - SO_ERROR reads ECONNREFUSED once
 *   - an unconnected socket's sendto a closed port reports nothing (Linux without IPV6_RECVERR)
 *   - a dual-stack socket connected to ::ffff:127.0.0.1's closed port gets ECONNREFUSED too
 *     (the ICMPv4 error, v4-mapped peer)
 *   - IPV6_RECVERR: an unconnected socket gets POLLERR; recvmsg(MSG_ERRQUEUE) returns the failed
 *     datagram's payload, its destination as msg_name, MSG_ERRQUEUE, and an IPV6_RECVERR message
 *     (sock_extended_err: ECONNREFUSED, SO_EE_ORIGIN_ICMP6, type 1 code 4; the offender ::1);
 *     reading it clears the pending error; an ordinary recv reports the pending error first
 *   - a raw ICMPv6 socket sees the port unreachable (type 1 code 4) quoting the datagram
 * With an address argument only the connected case runs, against that host's closed port
 * (tests/system/test_ipv6_sock.py: the host's Linux sends the port unreachable over the wire).
 */
#define _GNU_SOURCE
#include <netinet/icmp6.h>
#include <poll.h>
#include "sockutil.h"
#include <linux/errqueue.h>

static struct sockaddr_in6 addr6(const char *a, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	inet_pton(AF_INET6, a, &s.sin6_addr);
	return s;
}

/* A port nobody listens on: bound once, then closed. */
static uint16_t dead_port6(void)
{
	int t = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = addr6("::1", 0);
	socklen_t l = sizeof(a);
	bind(t, (struct sockaddr *)&a, sizeof(a));
	getsockname(t, (struct sockaddr *)&a, &l);
	close(t);
	return ntohs(a.sin6_port);
}

/* Wait up to 2 s for POLLERR: the revents. */
static int wait_err(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	long t0 = now_ms();
	while (poll(&p, 1, 0) == 0 && now_ms() - t0 < 2000)
		sleep_ms(5);
	return p.revents;
}

static void test_connected(const char *dst, const char *tag)
{
	char name[96];
	uint16_t dead = dead_port6();
	int c = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 to = addr6(dst, dead);
	int r = connect(c, (struct sockaddr *)&to, sizeof(to));
	long n = send(c, "knock", 5, 0);
	int rev = wait_err(c);
	snprintf(name, sizeof(name), "%s_pollerr", tag);
	CHECK(name, r == 0 && n == 5 && (rev & POLLERR), "connect=%d n=%ld revents=%#x errno=%d", r, n, rev, errno);
	char b[16];
	errno = 0;
	n = recv(c, b, sizeof(b), MSG_DONTWAIT);
	int e1 = errno;
	errno = 0;
	long m = recv(c, b, sizeof(b), MSG_DONTWAIT);
	snprintf(name, sizeof(name), "%s_recv_econnrefused_once", tag);
	CHECK(name, n == -1 && e1 == ECONNREFUSED && m == -1 && errno == EAGAIN, "recv %ld/%d then %ld/%d", n, e1, m, errno);
	send(c, "knock", 5, 0);
	wait_err(c);
	int err = 0, err2 = -1;
	socklen_t el = sizeof(err);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err2, &el);
	snprintf(name, sizeof(name), "%s_so_error_once", tag);
	CHECK(name, err == ECONNREFUSED && err2 == 0, "err=%d then %d", err, err2);
	send(c, "knock", 5, 0);
	wait_err(c);
	errno = 0;
	n = send(c, "again", 5, 0);
	int e2 = errno;
	m = send(c, "third", 5, 0);
	snprintf(name, sizeof(name), "%s_send_econnrefused_once", tag);
	CHECK(name, n == -1 && e2 == ECONNREFUSED && m == 5, "send %ld/%d then %ld", n, e2, m);
	close(c);
}

static void test_unconnected(void)
{
	uint16_t dead = dead_port6();
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 to = addr6("::1", dead);
	long n = sendto(u, "knock", 5, 0, (struct sockaddr *)&to, sizeof(to));
	sleep_ms(200);
	struct pollfd p = { u, POLLIN, 0 };
	int pr = poll(&p, 1, 0);
	char b[16];
	errno = 0;
	long m = recv(u, b, sizeof(b), MSG_DONTWAIT);
	CHECK("udp6_unconnected_not_told", n == 5 && pr == 0 && m == -1 && errno == EAGAIN, "n=%ld poll=%d revents=%#x recv=%ld errno=%d",
	      n, pr, p.revents, m, errno);
	close(u);
}

/* IPV6_RECVERR: the error queue (Linux's ipv6_recv_error) */
static void test_recverr(void)
{
	uint16_t dead = dead_port6();
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	int one = 1, v = 0;
	socklen_t vl = sizeof(v);
	int r = setsockopt(u, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	int g = getsockopt(u, IPPROTO_IPV6, IPV6_RECVERR, &v, &vl);
	CHECK("udp6_recverr_option", r == 0 && g == 0 && v == 1, "r=%d g=%d v=%d errno=%d", r, g, v, errno);
	struct sockaddr_in6 to = addr6("::1", dead);
	long n = sendto(u, "knock-knock", 11, 0, (struct sockaddr *)&to, sizeof(to));
	int rev = wait_err(u);
	CHECK("udp6_recverr_unconnected_pollerr", n == 11 && (rev & POLLERR), "n=%ld revents=%#x", n, rev);

	char data[64] = { 0 };
	struct iovec iv = { data, sizeof(data) };
	struct sockaddr_in6 name;
	union { char buf[256]; struct cmsghdr align; } cb;
	struct msghdr m = { .msg_name = &name, .msg_namelen = sizeof(name), .msg_iov = &iv, .msg_iovlen = 1,
			    .msg_control = cb.buf, .msg_controllen = sizeof(cb.buf) };
	n = recvmsg(u, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
	CHECK("udp6_errqueue_payload", n == 11 && !memcmp(data, "knock-knock", 11) && (m.msg_flags & MSG_ERRQUEUE),
	      "n=%ld errno=%d flags=%#x", n, errno, m.msg_flags);
	CHECK("udp6_errqueue_name_is_destination", m.msg_namelen == sizeof(name) && name.sin6_family == AF_INET6 &&
	      IN6_IS_ADDR_LOOPBACK(&name.sin6_addr) && ntohs(name.sin6_port) == dead, "namelen=%u port=%u", m.msg_namelen,
	      ntohs(name.sin6_port));
	struct { struct sock_extended_err ee; struct sockaddr_in6 offender; } eh;
	memset(&eh, 0, sizeof(eh));
	int found = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR && c->cmsg_len == CMSG_LEN(sizeof(eh))) {
			memcpy(&eh, CMSG_DATA(c), sizeof(eh));
			found++;
		}
	CHECK("udp6_errqueue_extended_err", found == 1 && eh.ee.ee_errno == ECONNREFUSED &&
	      eh.ee.ee_origin == SO_EE_ORIGIN_ICMP6 && eh.ee.ee_type == ICMP6_DST_UNREACH &&
	      eh.ee.ee_code == ICMP6_DST_UNREACH_NOPORT && eh.ee.ee_info == 0 && eh.ee.ee_data == 0,
	      "found=%d errno=%u origin=%u type=%u code=%u info=%u", found, eh.ee.ee_errno, eh.ee.ee_origin, eh.ee.ee_type,
	      eh.ee.ee_code, eh.ee.ee_info);
	CHECK("udp6_errqueue_offender", found == 1 && eh.offender.sin6_family == AF_INET6 &&
	      IN6_IS_ADDR_LOOPBACK(&eh.offender.sin6_addr) && eh.offender.sin6_port == 0, "family=%u", eh.offender.sin6_family);
	errno = 0;
	n = recvmsg(u, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
	int e1 = errno;
	int err = -1;
	socklen_t el = sizeof(err);
	getsockopt(u, SOL_SOCKET, SO_ERROR, &err, &el);
	CHECK("udp6_errqueue_read_once_clears_error", n == -1 && e1 == EAGAIN && err == 0, "n=%ld errno=%d so_error=%d", n, e1,
	      err);

	/* the pending error comes first on an ordinary recv; the queued error stays */
	sendto(u, "again", 5, 0, (struct sockaddr *)&to, sizeof(to));
	wait_err(u);
	char b[16];
	errno = 0;
	n = recv(u, b, sizeof(b), MSG_DONTWAIT);
	int e2 = errno;
	m.msg_controllen = sizeof(cb.buf);
	long q = recvmsg(u, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
	CHECK("udp6_recverr_recv_then_queue", n == -1 && e2 == ECONNREFUSED && q == 5 && !memcmp(data, "again", 5),
	      "recv %ld/%d errqueue %ld/%d", n, e2, q, errno);
	close(u);
}

static void test_raw_sees_unreachable(void)
{
	int r = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (r < 0 && !running_in_ember() && (errno == EPERM || errno == EACCES)) {
		SKIP("raw6_sees_port_unreachable", "raw sockets need CAP_NET_RAW on this host");
		return;
	}
	uint16_t dead = dead_port6();
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 to = addr6("::1", dead);
	sendto(u, "knock-knock", 11, 0, (struct sockaddr *)&to, sizeof(to));
	unsigned char in[1500];
	bool seen = false;
	long deadline = now_ms() + 2000;
	while (!seen && now_ms() < deadline) {
		struct pollfd p = { r, POLLIN, 0 };
		if (poll(&p, 1, 200) != 1)
			continue;
		long n = recv(r, in, sizeof(in), MSG_DONTWAIT);
		/* type, code, checksum, unused; then the datagram's IPv6 header (next header UDP) and UDP header */
		if (n >= 8 + 40 + 8 && in[0] == ICMP6_DST_UNREACH && in[1] == ICMP6_DST_UNREACH_NOPORT && in[8 + 6] == IPPROTO_UDP &&
		    (in[8 + 40 + 2] << 8 | in[8 + 40 + 3]) == dead)
			seen = true;
	}
	CHECK("raw6_sees_port_unreachable", seen, "no port unreachable for port %u", dead);
	close(u);
	close(r);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	if (argc > 1) {                  /* a remote peer's closed port (tests/system/test_ipv6_sock.py) */
		test_connected(argv[1], "udp6_remote_refused");
		return t_finish();
	}
	test_connected("::1", "udp6_refused");
	test_connected("::ffff:127.0.0.1", "udp6_mapped_refused");
	test_unconnected();
	test_recverr();
	test_raw_sees_unreachable();
	return t_finish();
}
