/*
 * The TTL and TOS of a dual-stack AF_INET6 UDP socket's IPv4 (v4-mapped) datagrams, as Linux
 * sends them: a v4-mapped send goes through IPv4's udp_sendmsg with the socket's inet part, so
 *   - SOL_IP IP_TTL / IP_TOS (set on the AF_INET6 socket) give the mapped datagrams' TTL and TOS,
 *     and not the IPv6 ones' hop limit and traffic class
 *   - IPV6_UNICAST_HOPS / IPV6_TCLASS give the IPv6 datagrams' and not the mapped ones'
 *   - each option reads back its own value; IP_TTL -1 and IPV6_UNICAST_HOPS -1 go back to 64
 *   - on sendmsg, SOL_IP IP_TTL / IP_TOS control messages set one mapped datagram's fields (SOL_IPV6
 *     IPV6_HOPLIMIT / IPV6_TCLASS are ignored there), and an IPv6 datagram ignores the SOL_IP ones
 * The receivers (127.0.0.1 with IP_RECVTTL / IP_RECVTOS, ::1 with IPV6_RECVHOPLIMIT /
 * IPV6_RECVTCLASS) report what each datagram's header said.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include "sockutil.h"

#define DEFAULT_TTL 64

struct rx {
	int ttl, tos;        /* -1: no such message */
	long n;
};

static void recv_fields(int fd, struct rx *r)
{
	union {
		char buf[256];
		struct cmsghdr align;
	} cb;
	char data[64];
	struct iovec iv = { data, sizeof(data) };
	struct msghdr m = { .msg_iov = &iv, .msg_iovlen = 1, .msg_control = cb.buf, .msg_controllen = sizeof(cb.buf) };
	struct pollfd p = { fd, POLLIN, 0 };
	poll(&p, 1, 2000);
	r->ttl = r->tos = -1;
	r->n = recvmsg(fd, &m, MSG_DONTWAIT);
	if (r->n < 0)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		int v = 0;
		if (c->cmsg_len == CMSG_LEN(1))
			v = *CMSG_DATA(c);
		else
			memcpy(&v, CMSG_DATA(c), sizeof(v));
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
			r->ttl = v;
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS))
			r->tos = v;
	}
}

static int r4, r6;
static struct sockaddr_in6 to4, to6;

/* Send one datagram from s to the mapped (v4) or the IPv6 receiver, with an optional control
 * message (level/type/int value), and read its header fields back. */
static void send_one(int s, bool v4, int level, int type, int val, struct rx *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cb;
	struct iovec iv = { "x", 1 };
	struct msghdr m = { .msg_name = v4 ? &to4 : &to6, .msg_namelen = sizeof(to4), .msg_iov = &iv, .msg_iovlen = 1 };
	if (level >= 0) {
		m.msg_control = cb.buf;
		m.msg_controllen = sizeof(cb.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = level;
		c->cmsg_type = type;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &val, sizeof(val));
	}
	long n = sendmsg(s, &m, 0);
	if (n != 1) {
		r->n = n;
		r->ttl = r->tos = -2;
		return;
	}
	recv_fields(v4 ? r4 : r6, r);
}

#define EXPECT_FIELDS(name, r, want_ttl, want_tos) \
	CHECK(name, (r).n == 1 && (r).ttl == (want_ttl) && (r).tos == (want_tos), "n=%ld ttl=%d (want %d) tos=%#x (want %#x) errno=%d", \
	      (r).n, (r).ttl, want_ttl, (unsigned)(r).tos, (unsigned)(want_tos), errno)

static int get_int(int s, int level, int name)
{
	int v = -100;
	socklen_t l = sizeof(v);
	if (getsockopt(s, level, name, &v, &l) < 0)
		return -200;
	return v;
}

int main(void)
{
	start_watchdog(60);
	int one = 1;
	r4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a4 = lo_addr(0);
	socklen_t l4 = sizeof(a4);
	bind(r4, (struct sockaddr *)&a4, sizeof(a4));
	getsockname(r4, (struct sockaddr *)&a4, &l4);
	setsockopt(r4, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	setsockopt(r4, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	r6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
	socklen_t l6 = sizeof(a6);
	bind(r6, (struct sockaddr *)&a6, sizeof(a6));
	getsockname(r6, (struct sockaddr *)&a6, &l6);
	setsockopt(r6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	setsockopt(r6, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
	to4 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = a4.sin_port };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &to4.sin6_addr);
	to6 = a6;

	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	struct rx r;
	send_one(s, true, -1, 0, 0, &r);
	EXPECT_FIELDS("mapped_default", r, DEFAULT_TTL, 0);
	send_one(s, false, -1, 0, 0, &r);
	EXPECT_FIELDS("ipv6_default", r, DEFAULT_TTL, 0);

	int hops = 44, tclass = 0x48;
	setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops));
	setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof(tclass));
	send_one(s, true, -1, 0, 0, &r);
	EXPECT_FIELDS("mapped_ignores_unicast_hops_tclass", r, DEFAULT_TTL, 0);
	send_one(s, false, -1, 0, 0, &r);
	EXPECT_FIELDS("ipv6_takes_unicast_hops_tclass", r, 44, 0x48);

	int ttl = 33, tos = 0x28;
	int e1 = setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	int e2 = setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	CHECK("ip_ttl_tos_on_inet6_socket", e1 == 0 && e2 == 0, "IP_TTL %d IP_TOS %d errno=%d", e1, e2, errno);
	send_one(s, true, -1, 0, 0, &r);
	EXPECT_FIELDS("mapped_takes_ip_ttl_tos", r, 33, 0x28);
	send_one(s, false, -1, 0, 0, &r);
	EXPECT_FIELDS("ipv6_ignores_ip_ttl_tos", r, 44, 0x48);
	int gt = get_int(s, IPPROTO_IP, IP_TTL), gs = get_int(s, IPPROTO_IP, IP_TOS);
	int gh = get_int(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), gc = get_int(s, IPPROTO_IPV6, IPV6_TCLASS);
	CHECK("options_read_back_apart", gt == 33 && gs == 0x28 && gh == 44 && gc == 0x48,
	      "IP_TTL %d IP_TOS %#x UNICAST_HOPS %d TCLASS %#x", gt, gs, gh, gc);

	/* control messages: SOL_IP's for a mapped datagram, SOL_IPV6's for an IPv6 one */
	send_one(s, true, IPPROTO_IP, IP_TTL, 22, &r);
	EXPECT_FIELDS("mapped_cmsg_ip_ttl", r, 22, 0x28);
	send_one(s, true, IPPROTO_IP, IP_TOS, 0x10, &r);
	EXPECT_FIELDS("mapped_cmsg_ip_tos", r, 33, 0x10);
	send_one(s, true, IPPROTO_IPV6, IPV6_HOPLIMIT, 11, &r);
	EXPECT_FIELDS("mapped_ignores_cmsg_hoplimit", r, 33, 0x28);
	send_one(s, false, IPPROTO_IP, IP_TTL, 22, &r);
	EXPECT_FIELDS("ipv6_ignores_cmsg_ip_ttl", r, 44, 0x48);
	send_one(s, false, IPPROTO_IPV6, IPV6_HOPLIMIT, 11, &r);
	EXPECT_FIELDS("ipv6_cmsg_hoplimit", r, 11, 0x48);

	/* back to the defaults */
	int dflt = -1;
	setsockopt(s, IPPROTO_IP, IP_TTL, &dflt, sizeof(dflt));
	send_one(s, true, -1, 0, 0, &r);
	EXPECT_FIELDS("mapped_ip_ttl_default_again", r, DEFAULT_TTL, 0x28);
	send_one(s, false, -1, 0, 0, &r);
	EXPECT_FIELDS("ipv6_keeps_hops_after_ip_ttl_reset", r, 44, 0x48);
	setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &dflt, sizeof(dflt));
	send_one(s, false, -1, 0, 0, &r);
	EXPECT_FIELDS("ipv6_unicast_hops_default_again", r, DEFAULT_TTL, 0x48);

	/* connected to the mapped address: the same rule */
	connect(s, (struct sockaddr *)&to4, sizeof(to4));
	ttl = 99;
	setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	long n = send(s, "c", 1, 0);
	recv_fields(r4, &r);
	CHECK("connected_mapped_ip_ttl", n == 1 && r.n == 1 && r.ttl == 99 && r.tos == 0x28, "n=%ld read=%ld ttl=%d tos=%#x",
	      n, r.n, r.ttl, (unsigned)r.tos);
	return t_finish();
}
