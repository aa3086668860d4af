/*
 * Control messages on send that set one datagram's header fields (the receiver reads them back
 * with IP_RECVTTL / IP_RECVTOS / IPV6_RECVHOPLIMIT / IPV6_RECVTCLASS over loopback):
 *   - UDP over IPv4: IP_TTL (an int, 1..255) and IP_TOS (an int or one byte) set that datagram's
 *     TTL and TOS; the next datagram has the socket's own again (the default, or IP_TTL's option);
 *     TTL 0 or 256, a one-byte IP_TTL, TOS 256 are EINVAL
 *   - a raw ICMP socket: the echo request it sends with IP_TTL / IP_TOS carries them (the raw
 *     socket's own copy of the request shows the IP header)
 *   - UDP over IPv6: IPV6_HOPLIMIT, IPV6_2292HOPLIMIT and IPV6_TCLASS (ints; a hop limit of -1 is
 *     the socket's default) set that datagram's hop limit and traffic class; 256 or a short message is EINVAL;
 *     an AF_INET6 socket sending to a v4-mapped address ignores IPV6_HOPLIMIT (IPv4's rules)
 *   - a raw ICMPv6 socket: IPV6_HOPLIMIT on its echo request (its own copy shows it)
 * With "wire ADDR4 PORT4 ADDR6 PORT6" it sends one datagram each way to a host (TTL 13, TOS 0x20;
 * hop limit 9, traffic class 0x40): tests/system/test_ipv6_sock.py checks what arrives.
 */
#define _GNU_SOURCE
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include "errqutil.h"

union cbuf {
	char buf[256];
	struct cmsghdr align;
};

/* sendmsg of data to `to` with up to two int (or, len 1, byte) control messages; len 0 = none. */
struct cm {
	int level, type, len, v;
};

static long send_cm(int fd, const void *to, socklen_t tolen, const char *data, struct cm a, struct cm b)
{
	union cbuf cb;
	memset(&cb, 0, sizeof(cb));
	struct iovec iv = { (void *)data, strlen(data) };
	struct msghdr m = { .msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iv, .msg_iovlen = 1,
			    .msg_control = cb.buf, .msg_controllen = 0 };
	struct cm all[2] = { a, b };
	size_t used = 0;
	for (int i = 0; i < 2; i++) {
		if (!all[i].len)
			continue;
		struct cmsghdr *c = (struct cmsghdr *)(cb.buf + used);
		c->cmsg_level = all[i].level;
		c->cmsg_type = all[i].type;
		c->cmsg_len = CMSG_LEN(all[i].len);
		if (all[i].len == 1)
			*CMSG_DATA(c) = (unsigned char)all[i].v;
		else
			memcpy(CMSG_DATA(c), &all[i].v, sizeof(int));
		used += CMSG_SPACE(all[i].len);
	}
	m.msg_controllen = used;
	if (!used)
		m.msg_control = NULL;
	errno = 0;
	return sendmsg(fd, &m, 0);
}

static const struct cm NONE = { 0, 0, 0, 0 };

/* One datagram's TTL / hop limit and TOS / traffic class as the receiver's messages say (-1: none). */
static long recv_fields(int fd, int *ttl, int *tos, char *data, size_t size)
{
	union cbuf cb;
	struct iovec iv = { data, size };
	struct msghdr m = { .msg_iov = &iv, .msg_iovlen = 1, .msg_control = cb.buf, .msg_controllen = sizeof(cb.buf) };
	struct pollfd p = { fd, POLLIN, 0 };
	poll(&p, 1, 2000);
	*ttl = *tos = -1;
	long n = recvmsg(fd, &m, MSG_DONTWAIT);
	for (struct cmsghdr *c = n < 0 ? NULL : CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
			memcpy(ttl, CMSG_DATA(c), sizeof(int));
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
			*tos = *CMSG_DATA(c);
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS)
			memcpy(tos, CMSG_DATA(c), sizeof(int));
	}
	return n;
}

static void test_udp4(void)
{
	uint16_t port = 0;
	int r = bound_socket(SOCK_DGRAM, &port);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1;
	setsockopt(r, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	setsockopt(r, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	struct sockaddr_in to = lo_addr(port);
	char b[64];
	int ttl, tos;
	long w = send_cm(s, &to, sizeof(to), "ttl-tos", (struct cm){ IPPROTO_IP, IP_TTL, 4, 7 },
			 (struct cm){ IPPROTO_IP, IP_TOS, 4, 0x10 });
	long n = recv_fields(r, &ttl, &tos, b, sizeof(b));
	CHECK("ip_ttl_tos_cmsg_send", w == 7 && n == 7 && ttl == 7 && tos == 0x10, "w=%ld errno=%d n=%ld ttl=%d tos=%#x", w,
	      errno, n, ttl, tos);
	w = send_cm(s, &to, sizeof(to), "plain", NONE, NONE);
	n = recv_fields(r, &ttl, &tos, b, sizeof(b));
	CHECK("ip_cmsg_send_one_datagram_only", w == 5 && n == 5 && ttl == 64 && tos == 0, "w=%ld n=%ld ttl=%d tos=%#x", w, n,
	      ttl, tos);
	w = send_cm(s, &to, sizeof(to), "tos-byte", (struct cm){ IPPROTO_IP, IP_TOS, 1, 0x08 }, NONE);
	n = recv_fields(r, &ttl, &tos, b, sizeof(b));
	CHECK("ip_tos_cmsg_byte", w == 8 && n == 8 && tos == 0x08 && ttl == 64, "w=%ld errno=%d n=%ld ttl=%d tos=%#x", w, errno,
	      n, ttl, tos);
	int thirty = 30;
	setsockopt(s, IPPROTO_IP, IP_TTL, &thirty, sizeof(thirty));
	w = send_cm(s, &to, sizeof(to), "over", (struct cm){ IPPROTO_IP, IP_TTL, 4, 5 }, NONE);
	n = recv_fields(r, &ttl, &tos, b, sizeof(b));
	int ttl2;
	long w2 = send_cm(s, &to, sizeof(to), "back", NONE, NONE);
	recv_fields(r, &ttl2, &tos, b, sizeof(b));
	CHECK("ip_ttl_cmsg_over_option", w == 4 && n == 4 && ttl == 5 && w2 == 4 && ttl2 == 30, "w=%ld n=%ld ttl=%d then %d",
	      w, n, ttl, ttl2);
	w = send_cm(s, &to, sizeof(to), "x", (struct cm){ IPPROTO_IP, IP_TTL, 4, 0 }, NONE);
	CHECK("ip_ttl_cmsg_zero_einval", w == -1 && errno == EINVAL, "w=%ld errno=%d", w, errno);
	w = send_cm(s, &to, sizeof(to), "x", (struct cm){ IPPROTO_IP, IP_TTL, 4, 256 }, NONE);
	CHECK("ip_ttl_cmsg_256_einval", w == -1 && errno == EINVAL, "w=%ld errno=%d", w, errno);
	w = send_cm(s, &to, sizeof(to), "x", (struct cm){ IPPROTO_IP, IP_TTL, 1, 9 }, NONE);
	CHECK("ip_ttl_cmsg_byte_einval", w == -1 && errno == EINVAL, "w=%ld errno=%d", w, errno);
	w = send_cm(s, &to, sizeof(to), "x", (struct cm){ IPPROTO_IP, IP_TOS, 4, 256 }, NONE);
	CHECK("ip_tos_cmsg_256_einval", w == -1 && errno == EINVAL, "w=%ld errno=%d", w, errno);
	close(r);
	close(s);
}

static void test_raw4(void)
{
	int r = raw_socket(AF_INET, "raw4_ttl_tos_cmsg");
	if (r < 0)
		return;
	char echo[16] = { ICMP_ECHO, 0, 0, 0, 0x4e, 0x17, 0, 1, 'r', 'a', 'w', '4', 't', 't', 'l', '!' };
	uint16_t s = csum(echo, sizeof(echo));
	memcpy(echo + 2, &s, 2);
	union cbuf cb;
	memset(&cb, 0, sizeof(cb));
	struct iovec iv = { echo, sizeof(echo) };
	struct sockaddr_in to = lo_addr(0);
	struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iv, .msg_iovlen = 1, .msg_control = cb.buf,
			    .msg_controllen = 2 * CMSG_SPACE(sizeof(int)) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_TTL;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	int v = 11;
	memcpy(CMSG_DATA(c), &v, sizeof(v));
	c = CMSG_NXTHDR(&m, c);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_TOS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	v = 0x20;
	memcpy(CMSG_DATA(c), &v, sizeof(v));
	long w = sendmsg(r, &m, 0);
	int ttl = -1, tos = -1;
	long deadline = now_ms() + 2000;
	while (now_ms() < deadline && ttl < 0) {
		unsigned char in[256];
		struct pollfd p = { r, POLLIN, 0 };
		if (poll(&p, 1, 200) != 1)
			continue;
		long n = recv(r, in, sizeof(in), MSG_DONTWAIT);
		if (n >= 20 + 16 && in[20] == ICMP_ECHO && !memcmp(in + 20 + 8, "raw4ttl!", 8)) {
			ttl = in[8];
			tos = in[1];
		}
	}
	CHECK("raw4_ttl_tos_cmsg", w == (long)sizeof(echo) && ttl == 11 && tos == 0x20, "w=%ld errno=%d ttl=%d tos=%#x", w,
	      errno, ttl, tos);
	close(r);
}

static int udp6_bound(uint16_t *port)
{
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	socklen_t l = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin6_port);
	return s;
}

static void test_udp6(void)
{
	uint16_t port = 0;
	int r = udp6_bound(&port);
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	int one = 1;
	setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	setsockopt(r, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	char b[64];
	int hl, tc;
	long w = send_cm(s, &to, sizeof(to), "hops-tc", (struct cm){ IPPROTO_IPV6, IPV6_HOPLIMIT, 4, 9 },
			 (struct cm){ IPPROTO_IPV6, IPV6_TCLASS, 4, 0x28 });
	long n = recv_fields(r, &hl, &tc, b, sizeof(b));
	CHECK("ipv6_hoplimit_tclass_cmsg_send", w == 7 && n == 7 && hl == 9 && tc == 0x28, "w=%ld errno=%d n=%ld hl=%d tc=%#x",
	      w, errno, n, hl, tc);
	/* (IPV6_TCLASS -1 is left out: Linux 6.1 sends the socket's class, later kernels 0xff) */
	w = send_cm(s, &to, sizeof(to), "dflt", (struct cm){ IPPROTO_IPV6, IPV6_HOPLIMIT, 4, -1 }, NONE);
	n = recv_fields(r, &hl, &tc, b, sizeof(b));
	CHECK("ipv6_cmsg_minus_one_default", w == 4 && n == 4 && hl == 64 && tc == 0, "w=%ld errno=%d n=%ld hl=%d tc=%#x", w,
	      errno, n, hl, tc);
	w = send_cm(s, &to, sizeof(to), "2292", (struct cm){ IPPROTO_IPV6, IPV6_2292HOPLIMIT, 4, 3 }, NONE);
	n = recv_fields(r, &hl, &tc, b, sizeof(b));
	CHECK("ipv6_2292hoplimit_cmsg_send", w == 4 && n == 4 && hl == 3, "w=%ld errno=%d n=%ld hl=%d", w, errno, n, hl);
	w = send_cm(s, &to, sizeof(to), "plain", NONE, NONE);
	n = recv_fields(r, &hl, &tc, b, sizeof(b));
	CHECK("ipv6_cmsg_send_one_datagram_only", w == 5 && n == 5 && hl == 64 && tc == 0, "w=%ld n=%ld hl=%d tc=%#x", w, n, hl,
	      tc);
	w = send_cm(s, &to, sizeof(to), "x", (struct cm){ IPPROTO_IPV6, IPV6_HOPLIMIT, 4, 256 }, NONE);
	CHECK("ipv6_hoplimit_cmsg_256_einval", w == -1 && errno == EINVAL, "w=%ld errno=%d", w, errno);
	w = send_cm(s, &to, sizeof(to), "x", (struct cm){ IPPROTO_IPV6, IPV6_TCLASS, 1, 4 }, NONE);
	CHECK("ipv6_tclass_cmsg_short_einval", w == -1 && errno == EINVAL, "w=%ld errno=%d", w, errno);

	/* a v4-mapped destination: IPv4's rules, SOL_IPV6's hop limit is not applied */
	uint16_t p4 = 0;
	int r4 = bound_socket(SOCK_DGRAM, &p4);
	setsockopt(r4, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	struct sockaddr_in6 m4 = { .sin6_family = AF_INET6, .sin6_port = htons(p4) };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &m4.sin6_addr);
	w = send_cm(s, &m4, sizeof(m4), "mapped", (struct cm){ IPPROTO_IPV6, IPV6_HOPLIMIT, 4, 9 }, NONE);
	n = recv_fields(r4, &hl, &tc, b, sizeof(b));
	CHECK("ipv6_hoplimit_cmsg_mapped_ignored", w == 6 && n == 6 && hl == 64, "w=%ld errno=%d n=%ld ttl=%d", w, errno, n, hl);
	close(r4);
	close(r);
	close(s);
}

static void test_raw6(void)
{
	int r = raw_socket(AF_INET6, "raw6_hoplimit_cmsg");
	if (r < 0)
		return;
	int one = 1;
	setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	char echo[16] = { (char)ICMP6_ECHO_REQUEST, 0, 0, 0, 0x4e, 0x18, 0, 1, 'r', 'a', 'w', '6', 'h', 'o', 'p', '!' };
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	union cbuf cb;
	memset(&cb, 0, sizeof(cb));
	struct iovec iv = { echo, sizeof(echo) };
	struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iv, .msg_iovlen = 1, .msg_control = cb.buf,
			    .msg_controllen = CMSG_SPACE(sizeof(int)) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_HOPLIMIT;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	int v = 5;
	memcpy(CMSG_DATA(c), &v, sizeof(v));
	long w = sendmsg(r, &m, 0);
	int hl = -1, tc;
	long deadline = now_ms() + 2000;
	while (now_ms() < deadline && hl < 0) {
		char in[256];
		long n = recv_fields(r, &hl, &tc, in, sizeof(in));
		if (n < 16 || (unsigned char)in[0] != ICMP6_ECHO_REQUEST || memcmp(in + 8, "raw6hop!", 8))
			hl = -1;
	}
	CHECK("raw6_hoplimit_cmsg", w == (long)sizeof(echo) && hl == 5, "w=%ld errno=%d hl=%d", w, errno, hl);
	close(r);
}

/* The wire: one datagram each way to a host (tests/system/test_ipv6_sock.py). */
static int wire(char **argv)
{
	int s4 = socket(AF_INET, SOCK_DGRAM, 0), s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(argv[5])) };
	inet_pton(AF_INET, argv[2], &to4.sin_addr);
	inet_pton(AF_INET6, argv[4], &to6.sin6_addr);
	long w4 = send_cm(s4, &to4, sizeof(to4), "wire-v4", (struct cm){ IPPROTO_IP, IP_TTL, 4, 13 },
			  (struct cm){ IPPROTO_IP, IP_TOS, 4, 0x20 });
	long w6 = send_cm(s6, &to6, sizeof(to6), "wire-v6", (struct cm){ IPPROTO_IPV6, IPV6_HOPLIMIT, 4, 9 },
			  (struct cm){ IPPROTO_IPV6, IPV6_TCLASS, 4, 0x40 });
	CHECK("wire_cmsg_sends", w4 == 7 && w6 == 7, "w4=%ld w6=%ld errno=%d", w4, w6, errno);
	return t_finish();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	if (argc == 6 && !strcmp(argv[1], "wire"))
		return wire(argv);
	test_udp4();
	test_raw4();
	test_udp6();
	test_raw6();
	return t_finish();
}
