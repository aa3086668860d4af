/*
 * IP_RECVERR on raw ICMP sockets (Linux's raw_icmp_error / raw_err). An ICMP error quoting an
 * IPv4 packet of the socket's protocol (ICMP), sent to the quoted destination (if the socket is
 * connected) from the quoted source (if it is bound), is the socket's:
 *   - IP_RECVERR reads back; with it set an unconnected raw socket gets POLLERR and
 *     recvmsg(MSG_ERRQUEUE) returns the quoted packet's payload (after the quoted IP header),
 *     msg_name the quoted destination (port 0), IP_RECVERR with EHOSTUNREACH, SO_EE_ORIGIN_ICMP,
 *     type 3 code 1, the offender 127.0.0.1; the ICMP message itself still arrives as a datagram
 *   - errors quoting another protocol (UDP), or from a source other than the bound address, are
 *     not the socket's
 *   - without the option an unconnected socket is not told; a connected one gets a fatal error
 *     (port unreachable: ECONNREFUSED) as its pending error and not a non-fatal one (host
 *     unreachable)
 * The same for raw ICMPv6 sockets and IPV6_RECVERR (Linux's raw6_icmp_error / rawv6_err): an
 * ICMPv6 address unreachable quoting an ICMPv6 echo ::1 -> 2001:db8::9 is queued (EHOSTUNREACH,
 * SO_EE_ORIGIN_ICMP6, the quoted echo as payload, msg_name the quoted destination, offender ::1);
 * a connected socket without the option gets port unreachable (ECONNREFUSED) as its pending error,
 * and not the non-fatal address unreachable.
 * The errors are forged (a raw socket sends them to 127.0.0.1); under Linux raw sockets need
 * CAP_NET_RAW (skipped without). Every forged packet carries this run's echo identifier, and only
 * queued errors quoting it count, so other ICMP traffic on the host's loopback does not disturb.
 */
#define _GNU_SOURCE
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include "errqutil.h"

#define QUOTED_DST "127.0.0.9"
#define ECHO_LEN FORGED_ECHO_LEN    /* the quoted echo request: header + "ping" */
#define PKT_LEN FORGED4_LEN

static uint16_t ident;

/* An ICMP error type/code from 127.0.0.1 quoting a packet src -> QUOTED_DST of protocol proto
 * whose first bytes are an echo request with our identifier; sent by raw socket f. */
static long forge(int f, int type, int code, int proto, const char *src)
{
	uint8_t pkt[PKT_LEN];
	uint32_t from, to;
	inet_pton(AF_INET, src, &from);
	inet_pton(AF_INET, QUOTED_DST, &to);
	forge_icmp4_error(pkt, type, code, proto, from, to, ident);
	struct sockaddr_in lo = lo_addr(0);
	return sendto(f, pkt, sizeof(pkt), 0, (struct sockaddr *)&lo, sizeof(lo));
}

struct errq_read {
	long n;
	union {
		struct { ERRQ_LAST_FIELDS };
		struct errq_last last;
	};
	struct sockaddr_in offender, name;
	socklen_t namelen;
	uint8_t data[256];
};

static bool ours(const uint8_t *echo, long n)
{
	return n >= ECHO_LEN && echo[0] == ICMP_ECHO && echo[4] == (uint8_t)(ident >> 8) && echo[5] == (uint8_t)ident &&
	       !memcmp(echo + 8, "ping", 4);
}

/* The next queued error quoting our identifier (others are read and dropped); n -1 when none. */
static void read_errq(int fd, struct errq_read *r)
{
	for (;;) {
		memset(r, 0, sizeof(*r));
		r->namelen = sizeof(r->name);
		r->n = errq_read_one(fd, &r->last, &r->name, &r->namelen, r->data, sizeof(r->data), &r->offender,
				     sizeof(r->offender));
		if (r->n < 0)
			return;
		if (ours(r->data, r->n))
			return;
	}
}

/* Read datagrams until our forged error arrives (its quoted echo carries our identifier). */
static bool got_datagram(int fd, int type, int code)
{
	long t0 = now_ms();
	while (now_ms() - t0 < 2000) {
		uint8_t b[256];
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0)
			continue;
		long n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == 20 + PKT_LEN && b[20] == type && b[21] == code && ours(b + 48, n - 48))
			return true;
	}
	return false;
}

static int so_error(int fd)
{
	int e = -1;
	socklen_t l = sizeof(e);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
	return e;
}

#define FAR6 "2001:db8::9"

/* An ICMPv6 type/code from ::1 quoting an IPv6 packet ::1 -> dst of next header nh carrying an
 * echo request with our identifier; the kernel sums a raw ICMPv6 socket's message. */
static long forge6(int f, int type, int code, int nh, const char *dst)
{
	uint8_t pkt[8 + 40 + ECHO_LEN];
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = (uint8_t)type;
	pkt[1] = (uint8_t)code;
	uint8_t *ip6 = pkt + 8;
	ip6[0] = 0x60;
	ip6[5] = ECHO_LEN;
	ip6[6] = (uint8_t)nh;
	ip6[7] = 64;
	memcpy(ip6 + 8, &in6addr_loopback, 16);
	inet_pton(AF_INET6, dst, ip6 + 24);
	uint8_t *echo = ip6 + 40;
	forge_echo(echo, ICMP6_ECHO_REQUEST, ident);
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	return sendto(f, pkt, sizeof(pkt), 0, (struct sockaddr *)&lo, sizeof(lo));
}

static bool ours6(const uint8_t *echo, long n)
{
	return n >= ECHO_LEN && echo[0] == ICMP6_ECHO_REQUEST && echo[4] == (uint8_t)(ident >> 8) &&
	       echo[5] == (uint8_t)ident && !memcmp(echo + 8, "ping", 4);
}

struct errq6 {
	long n;
	union {
		struct { ERRQ_LAST_FIELDS };
		struct errq_last last;
	};
	struct sockaddr_in6 offender, name;
	socklen_t namelen;
	uint8_t data[256];
};

static void read_errq6(int fd, struct errq6 *r)
{
	long t0 = now_ms();
	for (;;) {
		memset(r, 0, sizeof(*r));
		r->namelen = sizeof(r->name);
		r->n = errq_read_one(fd, &r->last, &r->name, &r->namelen, r->data, sizeof(r->data), &r->offender,
				     sizeof(r->offender));
		if (r->n < 0 && errno == EAGAIN && now_ms() - t0 < 500) {
			sleep_ms(10);                /* the forged error may still be on its way */
			continue;
		}
		if (r->n < 0)
			return;
		if (ours6(r->data, r->n))
			return;
	}
}

static void test_raw6(void)
{
	int r = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), f = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (r < 0 || f < 0) {
		CHECK("raw6_sockets", running_in_ember() ? false : true, "errno=%d", errno);
		return;
	}
	int one = 1, v = -1;
	socklen_t vl = sizeof(v);
	int s1 = setsockopt(r, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	int g1 = getsockopt(r, IPPROTO_IPV6, IPV6_RECVERR, &v, &vl);
	CHECK("raw6_ipv6_recverr_option", s1 == 0 && g1 == 0 && v == 1, "set %d get %d (%d) errno=%d", s1, g1, v, errno);
	long n = forge6(f, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, IPPROTO_ICMPV6, FAR6);
	struct errq6 e;
	read_errq6(r, &e);
	struct in6_addr far;
	inet_pton(AF_INET6, FAR6, &far);
	CHECK("raw6_errq_queued", n == (long)(8 + 40 + ECHO_LEN) && e.n == ECHO_LEN, "sent %ld read %ld errno=%d", n, e.n,
	      errno);
	CHECK("raw6_errq_fields", e.ncmsg == 1 && e.level == IPPROTO_IPV6 && e.type == IPV6_RECVERR &&
	      e.ee.ee_errno == EHOSTUNREACH && e.ee.ee_origin == SO_EE_ORIGIN_ICMP6 && e.ee.ee_type == ICMP6_DST_UNREACH &&
	      e.ee.ee_code == ICMP6_DST_UNREACH_ADDR && e.namelen == sizeof(e.name) && !memcmp(&e.name.sin6_addr, &far, 16) &&
	      e.name.sin6_port == 0 && IN6_IS_ADDR_LOOPBACK(&e.offender.sin6_addr),
	      "ncmsg=%d level=%d type=%d errno=%u origin=%u type=%u code=%u namelen=%u", e.ncmsg, e.level, e.type,
	      e.ee.ee_errno, e.ee.ee_origin, e.ee.ee_type, e.ee.ee_code, e.namelen);
	/* quoting UDP: not this socket's */
	forge6(f, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, IPPROTO_UDP, FAR6);
	read_errq6(r, &e);
	CHECK("raw6_errq_other_protocol_not_ours", e.n == -1 && errno == EAGAIN, "n=%ld errno=%d", e.n, errno);
	close(r);

	/* connected to ::1 (which binds it to ::1), no IPV6_RECVERR: an error quoting ::1 -> ::1 with
	 * the fatal port unreachable is its pending error; a non-fatal address unreachable is not */
	int c = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	struct sockaddr_in6 peer = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int cr = connect(c, (struct sockaddr *)&peer, sizeof(peer));
	forge6(f, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, IPPROTO_ICMPV6, "::1");
	sleep_ms(200);
	int se0 = so_error(c);
	CHECK("raw6_connected_nonfatal_quiet", cr == 0 && se0 == 0, "connect=%d so_error=%d", cr, se0);
	forge6(f, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, IPPROTO_ICMPV6, "::1");
	long t0 = now_ms();
	int se;
	while ((se = so_error(c)) == 0 && now_ms() - t0 < 2000)
		sleep_ms(10);
	CHECK("raw6_connected_fatal_pending", cr == 0 && se == ECONNREFUSED, "connect=%d errno=%d so_error=%d", cr, errno, se);
	close(c);
	close(f);
}

int main(void)
{
	start_watchdog(60);
	ident = (uint16_t)(getpid() ^ 0x5a5a);
	int r = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), f = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if ((r < 0 || f < 0) && !running_in_ember() && (errno == EPERM || errno == EACCES)) {
		SKIP("raw_recverr", "raw sockets need CAP_NET_RAW on this host");
		return t_finish();
	}
	int one = 1, zero = 0, v = -1;
	socklen_t vl = sizeof(v);
	int g0 = getsockopt(r, IPPROTO_IP, IP_RECVERR, &v, &vl);
	int v0 = v;
	int s1 = setsockopt(r, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	vl = sizeof(v);
	int g1 = getsockopt(r, IPPROTO_IP, IP_RECVERR, &v, &vl);
	CHECK("raw_ip_recverr_option", g0 == 0 && v0 == 0 && s1 == 0 && g1 == 0 && v == 1, "get %d (%d) set %d get %d (%d) errno=%d",
	      g0, v0, s1, g1, v, errno);

	long n = forge(f, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, IPPROTO_ICMP, "127.0.0.1");
	CHECK("raw_error_datagram_still_delivered", n == PKT_LEN && got_datagram(r, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH),
	      "sent %ld errno=%d", n, errno);
	struct pollfd p = { r, POLLIN, 0 };
	poll(&p, 1, 0);
	struct errq_read e;
	read_errq(r, &e);
	CHECK("raw_errq_payload", (p.revents & POLLERR) && e.n == ECHO_LEN && (e.flags & MSG_ERRQUEUE),
	      "revents=%#x n=%ld errno=%d flags=%#x", p.revents, e.n, errno, e.flags);
	struct in_addr qd;
	inet_pton(AF_INET, QUOTED_DST, &qd);
	CHECK("raw_errq_name", e.namelen == sizeof(e.name) && e.name.sin_family == AF_INET &&
	      e.name.sin_addr.s_addr == qd.s_addr && e.name.sin_port == 0, "namelen=%u family=%u addr=%#x port=%u",
	      e.namelen, e.name.sin_family, ntohl(e.name.sin_addr.s_addr), ntohs(e.name.sin_port));
	CHECK("raw_errq_extended_err", e.ncmsg == 1 && e.level == IPPROTO_IP && e.type == IP_RECVERR &&
	      e.ee.ee_errno == EHOSTUNREACH && e.ee.ee_origin == SO_EE_ORIGIN_ICMP && e.ee.ee_type == ICMP_DEST_UNREACH &&
	      e.ee.ee_code == ICMP_HOST_UNREACH && e.ee.ee_info == 0 && e.offender.sin_family == AF_INET &&
	      e.offender.sin_addr.s_addr == LOOPBACK, "ncmsg=%d level=%d type=%d errno=%u origin=%u type=%u code=%u offender=%#x",
	      e.ncmsg, e.level, e.type, e.ee.ee_errno, e.ee.ee_origin, e.ee.ee_type, e.ee.ee_code,
	      ntohl(e.offender.sin_addr.s_addr));
	int se = so_error(r);
	CHECK("raw_errq_read_clears_error", se == 0, "so_error=%d", se);

	/* another protocol quoted: UDP's, not this socket's */
	forge(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, IPPROTO_UDP, "127.0.0.1");
	got_datagram(r, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	read_errq(r, &e);
	CHECK("raw_errq_other_protocol_not_ours", e.n == -1 && errno == EAGAIN, "n=%ld errno=%d", e.n, errno);

	/* bound to 127.0.0.1: an error quoting a packet from 127.0.0.3 is not ours */
	struct sockaddr_in me = lo_addr(0);
	int b = bind(r, (struct sockaddr *)&me, sizeof(me));
	forge(f, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, IPPROTO_ICMP, "127.0.0.3");
	got_datagram(r, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
	read_errq(r, &e);
	CHECK("raw_errq_other_source_not_ours", b == 0 && e.n == -1 && errno == EAGAIN, "bind=%d n=%ld errno=%d", b, e.n, errno);

	/* without IP_RECVERR: an unconnected socket is not told */
	setsockopt(r, IPPROTO_IP, IP_RECVERR, &zero, sizeof(zero));
	forge(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, IPPROTO_ICMP, "127.0.0.1");
	got_datagram(r, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	read_errq(r, &e);
	int e1 = errno;
	se = so_error(r);
	CHECK("raw_no_recverr_unconnected_quiet", e.n == -1 && e1 == EAGAIN && se == 0, "n=%ld errno=%d so_error=%d", e.n, e1,
	      se);

	/* connected to the quoted destination, no IP_RECVERR: fatal errors only, as the pending error */
	int c = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_addr = qd };
	int cr = connect(c, (struct sockaddr *)&peer, sizeof(peer));
	forge(f, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, IPPROTO_ICMP, "127.0.0.1");
	sleep_ms(200);
	se = so_error(c);
	CHECK("raw_connected_nonfatal_quiet", cr == 0 && se == 0, "connect=%d errno=%d so_error=%d", cr, errno, se);
	forge(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, IPPROTO_ICMP, "127.0.0.1");
	long t0 = now_ms();
	while ((se = so_error(c)) == 0 && now_ms() - t0 < 2000)
		sleep_ms(10);
	read_errq(c, &e);
	CHECK("raw_connected_fatal_pending", se == ECONNREFUSED && e.n == -1, "so_error=%d errq=%ld", se, e.n);
	close(c);
	close(r);
	close(f);
	test_raw6();
	return t_finish();
}
