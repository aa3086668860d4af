/*
 * IP_RECVERR and ICMP errors to ping sockets (the IPv6 UDP error queue is sock_udp6_refused.c's):
 *   - IPv4 UDP with IP_RECVERR (getsockopt reads it back) sending to 127.0.0.1's closed port: the
 *     kernel's ICMP port unreachable makes an unconnected socket POLLERR; recvmsg(MSG_ERRQUEUE)
 *     returns the datagram's payload, MSG_ERRQUEUE, msg_name the destination (sockaddr_in with
 *     its port) and one SOL_IP IP_RECVERR message: sock_extended_err (ECONNREFUSED,
 *     SO_EE_ORIGIN_ICMP, type 3 code 3, info 0) and the offender 127.0.0.1 as a sockaddr_in;
 *     reading it clears the pending error, a second read is EAGAIN
 *   - a 1000-byte datagram: the error quotes what fits in a 576-byte ICMP packet (Linux's
 *     icmp_send): 520 bytes of payload come back
 *   - the pending error comes first on an ordinary recv; turning IP_RECVERR off purges the
 *     queue (SO_ERROR still reports the error)
 *   - a dual-stack AF_INET6 socket with IP_RECVERR sending to ::ffff:127.0.0.1's closed port: the
 *     error comes back as SOL_IPV6 IPV6_RECVERR with SO_EE_ORIGIN_ICMP, the v4-mapped offender and
 *     destination; with IPV6_RECVERR alone the ICMP error is not queued
 *   - ping sockets (skipped where net.ipv4.ping_group_range excludes us, raw sockets needed to
 *     forge the error): an ICMP host unreachable / ICMPv6 address unreachable quoting an echo
 *     request with the socket's identifier, sent over loopback by a raw socket, is queued with
 *     IP_RECVERR / IPV6_RECVERR (EHOSTUNREACH, the quoted echo header as payload, the echo's
 *     destination as msg_name); a connected ping socket without the option gets a fatal one
 *     (ICMPv6 port unreachable: ECONNREFUSED) as its pending error
 * With "ADDR PORT" only a host's closed port is tried (tests/system/test_ipv6_sock.py: the host's
 * Linux sends the port unreachable over the wire).
 */
#define _GNU_SOURCE
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include "errqutil.h"

struct errq_read {
	long n;
	union {
		struct { ERRQ_LAST_FIELDS };
		struct errq_last last;
	};
	struct sockaddr_storage offender, name;
	socklen_t namelen;
	char data[2048];
};

static void read_errq(int fd, struct errq_read *r)
{
	memset(r, 0, sizeof(*r));
	r->namelen = sizeof(r->name);
	r->n = errq_read_one(fd, &r->last, &r->name, &r->namelen, r->data, sizeof(r->data), &r->offender,
			     sizeof(r->offender));
}

static void test_udp4(void)
{
	uint16_t dead = dead_port(AF_INET);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1, v = 0;
	socklen_t vl = sizeof(v);
	int r = setsockopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	int g = getsockopt(u, IPPROTO_IP, IP_RECVERR, &v, &vl);
	CHECK("ip_recverr_option", r == 0 && g == 0 && v == 1 && vl == sizeof(int), "r=%d g=%d v=%d errno=%d", r, g, v, errno);
	struct sockaddr_in to = lo_addr(dead);
	long n = sendto(u, "knock-knock", 11, 0, (struct sockaddr *)&to, sizeof(to));
	int rev = wait_err(u);
	CHECK("ip_recverr_unconnected_pollerr", n == 11 && (rev & POLLERR), "n=%ld revents=%#x", n, rev);

	struct errq_read e;
	read_errq(u, &e);
	CHECK("ip_errqueue_payload", e.n == 11 && !memcmp(e.data, "knock-knock", 11) && (e.flags & MSG_ERRQUEUE) &&
	      !(e.flags & MSG_TRUNC), "n=%ld errno=%d flags=%#x", e.n, errno, e.flags);
	struct sockaddr_in *nm = (struct sockaddr_in *)&e.name;
	CHECK("ip_errqueue_name_is_destination", e.namelen == sizeof(*nm) && nm->sin_family == AF_INET &&
	      nm->sin_addr.s_addr == LOOPBACK && ntohs(nm->sin_port) == dead, "namelen=%u family=%u port=%u", e.namelen,
	      nm->sin_family, ntohs(nm->sin_port));
	struct sockaddr_in *off = (struct sockaddr_in *)&e.offender;
	CHECK("ip_errqueue_cmsg", e.ncmsg == 1 && e.level == IPPROTO_IP && e.type == IP_RECVERR &&
	      e.cmsg_len == CMSG_LEN(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in)),
	      "ncmsg=%d level=%d type=%d len=%zu", e.ncmsg, e.level, e.type, e.cmsg_len);
	CHECK("ip_errqueue_extended_err", e.ee.ee_errno == ECONNREFUSED && e.ee.ee_origin == SO_EE_ORIGIN_ICMP &&
	      e.ee.ee_type == ICMP_DEST_UNREACH && e.ee.ee_code == ICMP_PORT_UNREACH && e.ee.ee_info == 0 &&
	      e.ee.ee_data == 0 && e.ee.ee_pad == 0, "errno=%u origin=%u type=%u code=%u info=%u", e.ee.ee_errno,
	      e.ee.ee_origin, e.ee.ee_type, e.ee.ee_code, e.ee.ee_info);
	CHECK("ip_errqueue_offender", off->sin_family == AF_INET && off->sin_addr.s_addr == LOOPBACK && off->sin_port == 0,
	      "family=%u addr=%#x", off->sin_family, ntohl(off->sin_addr.s_addr));
	read_errq(u, &e);
	int e1 = errno, err = -1;
	socklen_t el = sizeof(err);
	getsockopt(u, SOL_SOCKET, SO_ERROR, &err, &el);
	CHECK("ip_errqueue_read_once_clears_error", e.n == -1 && e1 == EAGAIN && err == 0, "n=%ld errno=%d so_error=%d", e.n,
	      e1, err);

	/* a long datagram: the ICMP error quotes 576 - 20 - 8 bytes of it, 520 of its payload */
	char big[1000];
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	sendto(u, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to));
	wait_err(u);
	read_errq(u, &e);
	CHECK("ip_errqueue_quote_576", e.n == 520 && !memcmp(e.data, big, 520), "n=%ld errno=%d", e.n, errno);

	/* the pending error first; then IP_RECVERR off purges the queue */
	sendto(u, "again", 5, 0, (struct sockaddr *)&to, sizeof(to));
	wait_err(u);
	char b[16];
	errno = 0;
	n = recv(u, b, sizeof(b), MSG_DONTWAIT);
	int e2 = errno;
	read_errq(u, &e);
	CHECK("ip_recverr_recv_then_queue", n == -1 && e2 == ECONNREFUSED && e.n == 5 && !memcmp(e.data, "again", 5),
	      "recv %ld/%d errqueue %ld/%d", n, e2, e.n, errno);
	sendto(u, "purge", 5, 0, (struct sockaddr *)&to, sizeof(to));
	wait_err(u);
	int zero = 0;
	r = setsockopt(u, IPPROTO_IP, IP_RECVERR, &zero, sizeof(zero));
	read_errq(u, &e);
	int e3 = errno;
	err = -1;
	getsockopt(u, SOL_SOCKET, SO_ERROR, &err, &el);
	CHECK("ip_recverr_off_purges", r == 0 && e.n == -1 && e3 == EAGAIN && err == ECONNREFUSED,
	      "r=%d n=%ld errno=%d so_error=%d", r, e.n, e3, err);
	/* off again: an unconnected socket is not told */
	sendto(u, "quiet", 5, 0, (struct sockaddr *)&to, sizeof(to));
	sleep_ms(200);
	struct pollfd p = { u, POLLIN, 0 };
	int pr = poll(&p, 1, 0);
	CHECK("ip_recverr_off_unconnected_quiet", pr == 0, "poll=%d revents=%#x", pr, p.revents);
	close(u);
}

static void test_udp6_mapped(void)
{
	uint16_t dead = dead_port(AF_INET);
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	int one = 1;
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(dead) };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &to.sin6_addr);

	/* IPV6_RECVERR alone does not queue ICMP (IPv4) errors */
	setsockopt(u, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	sendto(u, "v6only-flag", 11, 0, (struct sockaddr *)&to, sizeof(to));
	sleep_ms(200);
	struct errq_read e;
	read_errq(u, &e);
	CHECK("ipv6_recverr_ignores_icmp4", e.n == -1 && errno == EAGAIN, "n=%ld errno=%d", e.n, errno);

	int r = setsockopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	long n = sendto(u, "mapped", 6, 0, (struct sockaddr *)&to, sizeof(to));
	int rev = wait_err(u);
	read_errq(u, &e);
	struct sockaddr_in6 *nm = (struct sockaddr_in6 *)&e.name, *off = (struct sockaddr_in6 *)&e.offender;
	CHECK("mapped_ip_recverr_queued", r == 0 && n == 6 && (rev & POLLERR) && e.n == 6 && !memcmp(e.data, "mapped", 6),
	      "r=%d n=%ld revents=%#x read=%ld errno=%d", r, n, rev, e.n, errno);
	CHECK("mapped_errqueue_ipv6_form", e.ncmsg == 1 && e.level == IPPROTO_IPV6 && e.type == IPV6_RECVERR &&
	      e.cmsg_len == CMSG_LEN(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6)) &&
	      e.ee.ee_origin == SO_EE_ORIGIN_ICMP && e.ee.ee_errno == ECONNREFUSED && e.ee.ee_type == ICMP_DEST_UNREACH &&
	      e.ee.ee_code == ICMP_PORT_UNREACH, "ncmsg=%d level=%d type=%d len=%zu origin=%u errno=%u", e.ncmsg, e.level,
	      e.type, e.cmsg_len, e.ee.ee_origin, e.ee.ee_errno);
	CHECK("mapped_errqueue_addresses", e.namelen == sizeof(*nm) && nm->sin6_family == AF_INET6 &&
	      !memcmp(&nm->sin6_addr, &to.sin6_addr, 16) && ntohs(nm->sin6_port) == dead && off->sin6_family == AF_INET6 &&
	      !memcmp(&off->sin6_addr, &to.sin6_addr, 16), "namelen=%u port=%u offender family=%u", e.namelen,
	      ntohs(nm->sin6_port), off->sin6_family);
	close(u);
}

/* A ping socket (NULL-terminated name for skips): -1 when this host does not allow one. */
static int ping_socket(int family, const char *name)
{
	int p = socket(family, SOCK_DGRAM, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (p < 0 && errno == EACCES && !running_in_ember()) {
		SKIP(name, "net.ipv4.ping_group_range excludes us on this host");
		return -1;
	}
	return p;
}

static void test_ping4(void)
{
	int p = ping_socket(AF_INET, "ping4_recverr");
	if (p < 0)
		return;
	int raw = raw_socket(AF_INET, "ping4_recverr");
	if (raw < 0) {
		close(p);
		return;
	}
	struct sockaddr_in any = { .sin_family = AF_INET };
	bind(p, (struct sockaddr *)&any, sizeof(any));
	uint16_t ident = local_port(p);
	int one = 1;
	int r = setsockopt(p, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	/* host unreachable from 127.0.0.1 quoting an echo 127.0.0.1 -> 127.0.0.9 with our identifier */
	uint8_t pkt[FORGED4_LEN];
	uint32_t far;
	inet_pton(AF_INET, "127.0.0.9", &far);
	uint8_t *echo = forge_icmp4_error(pkt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, IPPROTO_ICMP, LOOPBACK, far, ident);
	struct iphdr *ih = (struct iphdr *)(pkt + 8);
	struct sockaddr_in lo = lo_addr(0);
	long n = sendto(raw, pkt, sizeof(pkt), 0, (struct sockaddr *)&lo, sizeof(lo));
	int rev = wait_err(p);
	struct errq_read e;
	read_errq(p, &e);
	struct sockaddr_in *nm = (struct sockaddr_in *)&e.name, *off = (struct sockaddr_in *)&e.offender;
	CHECK("ping4_recverr_queued", r == 0 && n == (long)sizeof(pkt) && (rev & POLLERR) && e.n == 12 &&
	      !memcmp(e.data, echo, 12), "r=%d n=%ld revents=%#x read=%ld errno=%d", r, n, rev, e.n, errno);
	CHECK("ping4_errqueue_fields", e.ncmsg == 1 && e.level == IPPROTO_IP && e.type == IP_RECVERR &&
	      e.ee.ee_errno == EHOSTUNREACH && e.ee.ee_origin == SO_EE_ORIGIN_ICMP && e.ee.ee_type == ICMP_DEST_UNREACH &&
	      e.ee.ee_code == ICMP_HOST_UNREACH && nm->sin_addr.s_addr == ih->daddr && nm->sin_port == 0 &&
	      off->sin_addr.s_addr == LOOPBACK, "ncmsg=%d errno=%u origin=%u name=%#x port=%u offender=%#x", e.ncmsg,
	      e.ee.ee_errno, e.ee.ee_origin, ntohl(nm->sin_addr.s_addr), ntohs(nm->sin_port), ntohl(off->sin_addr.s_addr));
	/* another identifier: not ours */
	echo[5] ^= 0x55;
	memset(echo + 2, 0, 2);
	uint16_t s = csum(echo, 12);
	memcpy(echo + 2, &s, 2);
	memset(pkt + 2, 0, 2);
	s = csum(pkt, sizeof(pkt));
	memcpy(pkt + 2, &s, 2);
	sendto(raw, pkt, sizeof(pkt), 0, (struct sockaddr *)&lo, sizeof(lo));
	sleep_ms(200);
	read_errq(p, &e);
	CHECK("ping4_other_ident_not_told", e.n == -1 && errno == EAGAIN, "n=%ld errno=%d", e.n, errno);
	close(raw);
	close(p);
}

static void test_ping6(void)
{
	int p = ping_socket(AF_INET6, "ping6_recverr");
	if (p < 0)
		return;
	int raw = raw_socket(AF_INET6, "ping6_recverr");
	if (raw < 0) {
		close(p);
		return;
	}
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in6 far = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "2001:db8::9", &far.sin6_addr);
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 };
	bind(p, (struct sockaddr *)&any, sizeof(any));
	struct sockaddr_in6 me;
	socklen_t ml = sizeof(me);
	getsockname(p, (struct sockaddr *)&me, &ml);
	uint16_t ident = ntohs(me.sin6_port);
	int one = 1;
	int r = setsockopt(p, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	/* address unreachable from ::1 quoting an echo ::1 -> 2001:db8::9 with our identifier (the kernel
	 * sums a raw ICMPv6 socket's message) */
	uint8_t pkt[8 + 40 + 12];
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = ICMP6_DST_UNREACH;
	pkt[1] = ICMP6_DST_UNREACH_ADDR;
	uint8_t *ip6 = pkt + 8;
	ip6[0] = 0x60;
	ip6[5] = 12;
	ip6[6] = IPPROTO_ICMPV6;
	ip6[7] = 64;
	memcpy(ip6 + 8, &lo.sin6_addr, 16);
	memcpy(ip6 + 24, &far.sin6_addr, 16);
	uint8_t *echo = ip6 + 40;
	forge_echo(echo, ICMP6_ECHO_REQUEST, ident);
	long n = sendto(raw, pkt, sizeof(pkt), 0, (struct sockaddr *)&lo, sizeof(lo));
	int rev = wait_err(p);
	struct errq_read e;
	read_errq(p, &e);
	struct sockaddr_in6 *nm = (struct sockaddr_in6 *)&e.name, *off = (struct sockaddr_in6 *)&e.offender;
	CHECK("ping6_recverr_queued", r == 0 && n == (long)sizeof(pkt) && (rev & POLLERR) && e.n == 12 &&
	      !memcmp(e.data, echo, 12), "r=%d n=%ld revents=%#x read=%ld errno=%d", r, n, rev, e.n, errno);
	CHECK("ping6_errqueue_fields", e.ncmsg == 1 && e.level == IPPROTO_IPV6 && e.type == IPV6_RECVERR &&
	      e.ee.ee_errno == EHOSTUNREACH && e.ee.ee_origin == SO_EE_ORIGIN_ICMP6 && e.ee.ee_type == ICMP6_DST_UNREACH &&
	      e.ee.ee_code == ICMP6_DST_UNREACH_ADDR && !memcmp(&nm->sin6_addr, &far.sin6_addr, 16) && nm->sin6_port == 0 &&
	      IN6_IS_ADDR_LOOPBACK(&off->sin6_addr), "ncmsg=%d errno=%u origin=%u type=%u port=%u", e.ncmsg, e.ee.ee_errno,
	      e.ee.ee_origin, e.ee.ee_type, ntohs(nm->sin6_port));
	close(p);

	/* connected, no IPV6_RECVERR: port unreachable (fatal) is the pending error; not queued */
	p = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	bind(p, (struct sockaddr *)&any, sizeof(any));
	ml = sizeof(me);
	getsockname(p, (struct sockaddr *)&me, &ml);
	ident = ntohs(me.sin6_port);
	int c = connect(p, (struct sockaddr *)&lo, sizeof(lo));
	memcpy(ip6 + 24, &lo.sin6_addr, 16);
	pkt[1] = ICMP6_DST_UNREACH_NOPORT;
	echo[4] = (uint8_t)(ident >> 8);
	echo[5] = (uint8_t)ident;
	sendto(raw, pkt, sizeof(pkt), 0, (struct sockaddr *)&lo, sizeof(lo));
	wait_err(p);
	read_errq(p, &e);
	int e1 = errno, err = -1;
	socklen_t el = sizeof(err);
	getsockopt(p, SOL_SOCKET, SO_ERROR, &err, &el);
	CHECK("ping6_connected_fatal_pending", c == 0 && e.n == -1 && e1 == EAGAIN && err == ECONNREFUSED,
	      "connect=%d n=%ld errno=%d so_error=%d", c, e.n, e1, err);
	close(p);
	close(raw);
}

/* A remote host's closed port (tests/system/test_ipv6_sock.py): its Linux's port unreachable,
 * from its address, quoting the whole datagram. */
static void test_remote(const char *addr, uint16_t port)
{
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1;
	setsockopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, addr, &to.sin_addr);
	long n = sendto(u, "over-the-wire", 13, 0, (struct sockaddr *)&to, sizeof(to));
	int rev = wait_err(u);
	struct errq_read e;
	read_errq(u, &e);
	struct sockaddr_in *nm = (struct sockaddr_in *)&e.name, *off = (struct sockaddr_in *)&e.offender;
	CHECK("remote_ip_recverr", n == 13 && (rev & POLLERR) && e.n == 13 && !memcmp(e.data, "over-the-wire", 13) &&
	      e.level == IPPROTO_IP && e.type == IP_RECVERR && e.ee.ee_errno == ECONNREFUSED &&
	      e.ee.ee_origin == SO_EE_ORIGIN_ICMP && e.ee.ee_type == ICMP_DEST_UNREACH && e.ee.ee_code == ICMP_PORT_UNREACH &&
	      nm->sin_addr.s_addr == to.sin_addr.s_addr && nm->sin_port == to.sin_port &&
	      off->sin_addr.s_addr == to.sin_addr.s_addr, "n=%ld revents=%#x read=%ld errno=%u origin=%u type=%u code=%u",
	      n, rev, e.n, e.ee.ee_errno, e.ee.ee_origin, e.ee.ee_type, e.ee.ee_code);
	close(u);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	if (argc == 3) {
		test_remote(argv[1], (uint16_t)atoi(argv[2]));
		return t_finish();
	}
	test_udp4();
	test_udp6_mapped();
	test_ping4();
	test_ping6();
	return t_finish();
}
