/*
 * Control messages on error-queue reads and locally generated errors (Linux's ip_recv_error /
 * ipv6_recv_error with ipv4_datagram_support_cmsg / ip6_datagram_support_cmsg, ip_local_error /
 * ipv6_local_error):
 *   - IPv4 UDP with IP_RECVERR, IP_PKTINFO, IP_RECVTTL, IP_RECVTOS sending to 127.0.0.1's closed
 *     port: the error read gives IP_PKTINFO (the interface the ICMP error came in on, lo; its
 *     destination 127.0.0.1), IP_TTL 64 and IP_TOS 0xc0 of the ICMP packet, then IP_RECVERR
 *   - a dual-stack AF_INET6 socket with IP_RECVERR and IPV6_RECVPKTINFO sending to
 *     ::ffff:127.0.0.1's closed port: IPV6_PKTINFO (v4-mapped destination, lo) then IP_TTL (the
 *     SOL_IP ones it asked for) then IPV6_RECVERR
 *   - IPv6 UDP with IPV6_RECVERR, IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS to ::1's
 *     closed port: IPV6_PKTINFO (::1, lo), IPV6_HOPLIMIT, IPV6_TCLASS, then IPV6_RECVERR
 *   - a datagram above the IP limit with IP_RECVERR (65508 bytes over IPv4, 65528 over IPv6):
 *     EMSGSIZE, and a SO_EE_ORIGIN_LOCAL error is queued (ee_info the MTU: lo's 65536 for IPv6, 65535
 *     for IPv4 whose route MTU is capped at IP_MAX_MTU; no payload, no control messages besides
 *     the error even with IP_PKTINFO, a zeroed offender; msg_name the destination with the
 *     connected port for IPv4 (0 when unconnected), the destination's port for IPv6); without
 *     the option nothing is queued; a v4-mapped destination of an AF_INET6 socket takes IPv4's
 *     limit and IP_RECVERR, and the error comes back in the IPv6 form
 */
#define _GNU_SOURCE
#include <net/if.h>
#include <stdlib.h>
#include "errqutil.h"

#define ICMP_ERR_TTL 64            /* net.ipv4.ip_default_ttl: Linux's ICMP errors */
#define ICMP_ERR_TOS 0xc0          /* IPTOS_PREC_INTERNETCONTROL */
#define LO_MTU6 65536              /* lo's MTU */
#define LO_MTU4 65535              /* IPv4's route MTU is at most IP_MAX_MTU */
#define BIG4 65508                 /* 65535 - 20 - 8 + 1 */
#define BIG6 65528                 /* 65535 - 8 + 1 */

#define MAX_CM 8
struct cm {
	int level, type;
	size_t len;
	unsigned char data[64];
};
struct errq_read {
	long n;
	int flags, ncm;
	struct cm cm[MAX_CM];
	struct sockaddr_storage name;
	socklen_t namelen;
	char data[2048];
};

static void read_errq(int fd, struct errq_read *r)
{
	memset(r, 0, sizeof(*r));
	struct errq_msg x;
	memset(&r->name, 0xaa, sizeof(r->name));
	r->n = errq_recv(fd, &x, &r->name, sizeof(r->name), r->data, sizeof(r->data));
	if (r->n < 0)
		return;
	r->flags = x.m.msg_flags;
	r->namelen = x.m.msg_namelen;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&x.m); c && r->ncm < MAX_CM; c = CMSG_NXTHDR(&x.m, c)) {
		struct cm *x = &r->cm[r->ncm++];
		x->level = c->cmsg_level;
		x->type = c->cmsg_type;
		x->len = c->cmsg_len - CMSG_LEN(0);
		memcpy(x->data, CMSG_DATA(c), MIN(x->len, sizeof(x->data)));
	}
}

static int cm_int(const struct cm *c)
{
	int v;
	memcpy(&v, c->data, sizeof(v));
	return v;
}

static void test_udp4_cmsg(unsigned lo)
{
	uint16_t dead = dead_port(AF_INET);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1;
	setsockopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	setsockopt(u, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	setsockopt(u, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	setsockopt(u, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	struct sockaddr_in to = lo_addr(dead);
	long n = sendto(u, "pktinfo", 7, 0, (struct sockaddr *)&to, sizeof(to));
	wait_err(u);
	struct errq_read e;
	read_errq(u, &e);
	CHECK("ip_errq_cmsgs_read", n == 7 && e.n == 7 && e.ncm == 4, "sent=%ld read=%ld errno=%d ncmsg=%d", n, e.n, errno,
	      e.ncm);
	if (e.ncm != 4) {
		close(u);
		return;
	}
	struct in_pktinfo pi;
	memcpy(&pi, e.cm[0].data, sizeof(pi));
	CHECK("ip_errq_pktinfo", e.cm[0].level == IPPROTO_IP && e.cm[0].type == IP_PKTINFO && e.cm[0].len == sizeof(pi) &&
	      (unsigned)pi.ipi_ifindex == lo && pi.ipi_addr.s_addr == LOOPBACK && pi.ipi_spec_dst.s_addr == 0,
	      "level=%d type=%d len=%zu ifindex=%d (lo %u) addr=%#x spec_dst=%#x", e.cm[0].level, e.cm[0].type, e.cm[0].len,
	      pi.ipi_ifindex, lo, ntohl(pi.ipi_addr.s_addr), ntohl(pi.ipi_spec_dst.s_addr));
	CHECK("ip_errq_ttl", e.cm[1].level == IPPROTO_IP && e.cm[1].type == IP_TTL && cm_int(&e.cm[1]) == ICMP_ERR_TTL,
	      "level=%d type=%d ttl=%d", e.cm[1].level, e.cm[1].type, cm_int(&e.cm[1]));
	CHECK("ip_errq_tos", e.cm[2].level == IPPROTO_IP && e.cm[2].type == IP_TOS && e.cm[2].len == 1 &&
	      e.cm[2].data[0] == ICMP_ERR_TOS, "level=%d type=%d len=%zu tos=%#x", e.cm[2].level, e.cm[2].type, e.cm[2].len,
	      e.cm[2].data[0]);
	struct sock_extended_err ee;
	memcpy(&ee, e.cm[3].data, sizeof(ee));
	CHECK("ip_errq_recverr_last", e.cm[3].level == IPPROTO_IP && e.cm[3].type == IP_RECVERR &&
	      ee.ee_origin == SO_EE_ORIGIN_ICMP && ee.ee_errno == ECONNREFUSED, "level=%d type=%d origin=%u errno=%u",
	      e.cm[3].level, e.cm[3].type, ee.ee_origin, ee.ee_errno);
	close(u);
}

static void test_mapped_cmsg(unsigned lo)
{
	uint16_t dead = dead_port(AF_INET);
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	int one = 1;
	setsockopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	setsockopt(u, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	setsockopt(u, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	setsockopt(u, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));     /* not for IPv4 packets */
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(dead) };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &to.sin6_addr);
	long n = sendto(u, "mapped", 6, 0, (struct sockaddr *)&to, sizeof(to));
	wait_err(u);
	struct errq_read e;
	read_errq(u, &e);
	CHECK("mapped_errq_cmsgs_read", n == 6 && e.n == 6 && e.ncm == 3, "sent=%ld read=%ld errno=%d ncmsg=%d", n, e.n,
	      errno, e.ncm);
	if (e.ncm != 3) {
		close(u);
		return;
	}
	struct in6_pktinfo pi;
	memcpy(&pi, e.cm[0].data, sizeof(pi));
	CHECK("mapped_errq_pktinfo", e.cm[0].level == IPPROTO_IPV6 && e.cm[0].type == IPV6_PKTINFO &&
	      e.cm[0].len == sizeof(pi) && pi.ipi6_ifindex == lo && !memcmp(&pi.ipi6_addr, &to.sin6_addr, 16),
	      "level=%d type=%d len=%zu ifindex=%u (lo %u)", e.cm[0].level, e.cm[0].type, e.cm[0].len, pi.ipi6_ifindex, lo);
	CHECK("mapped_errq_ttl", e.cm[1].level == IPPROTO_IP && e.cm[1].type == IP_TTL && cm_int(&e.cm[1]) == ICMP_ERR_TTL,
	      "level=%d type=%d ttl=%d", e.cm[1].level, e.cm[1].type, cm_int(&e.cm[1]));
	CHECK("mapped_errq_recverr_last", e.cm[2].level == IPPROTO_IPV6 && e.cm[2].type == IPV6_RECVERR,
	      "level=%d type=%d", e.cm[2].level, e.cm[2].type);
	close(u);
}

static void test_udp6_cmsg(unsigned lo)
{
	uint16_t dead = dead_port(AF_INET6);
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	int one = 1;
	setsockopt(u, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	setsockopt(u, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	setsockopt(u, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	setsockopt(u, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(dead), .sin6_addr = in6addr_loopback };
	long n = sendto(u, "six", 3, 0, (struct sockaddr *)&to, sizeof(to));
	wait_err(u);
	struct errq_read e;
	read_errq(u, &e);
	CHECK("ip6_errq_cmsgs_read", n == 3 && e.n == 3 && e.ncm == 4, "sent=%ld read=%ld errno=%d ncmsg=%d", n, e.n, errno,
	      e.ncm);
	if (e.ncm != 4) {
		close(u);
		return;
	}
	struct in6_pktinfo pi;
	memcpy(&pi, e.cm[0].data, sizeof(pi));
	CHECK("ip6_errq_pktinfo", e.cm[0].level == IPPROTO_IPV6 && e.cm[0].type == IPV6_PKTINFO &&
	      pi.ipi6_ifindex == lo && !memcmp(&pi.ipi6_addr, &in6addr_loopback, 16), "level=%d type=%d ifindex=%u (lo %u)",
	      e.cm[0].level, e.cm[0].type, pi.ipi6_ifindex, lo);
	CHECK("ip6_errq_hoplimit", e.cm[1].level == IPPROTO_IPV6 && e.cm[1].type == IPV6_HOPLIMIT &&
	      cm_int(&e.cm[1]) == ICMP_ERR_TTL, "level=%d type=%d hops=%d", e.cm[1].level, e.cm[1].type, cm_int(&e.cm[1]));
	CHECK("ip6_errq_tclass", e.cm[2].level == IPPROTO_IPV6 && e.cm[2].type == IPV6_TCLASS && cm_int(&e.cm[2]) == 0,
	      "level=%d type=%d tclass=%d", e.cm[2].level, e.cm[2].type, cm_int(&e.cm[2]));
	CHECK("ip6_errq_recverr_last", e.cm[3].level == IPPROTO_IPV6 && e.cm[3].type == IPV6_RECVERR, "level=%d type=%d",
	      e.cm[3].level, e.cm[3].type);
	close(u);
}

static char big[BIG6 + 16];

/* A local EMSGSIZE error read back: its fields as Linux's ip_local_error / ipv6_local_error. */
static void check_local(const char *name, const struct errq_read *e, int level, int type, unsigned mtu)
{
	struct sock_extended_err ee;
	struct sockaddr_in6 off;
	memset(&ee, 0xff, sizeof(ee));
	memset(&off, 0xff, sizeof(off));
	if (e->ncm == 1) {
		memcpy(&ee, e->cm[0].data, sizeof(ee));
		memcpy(&off, e->cm[0].data + sizeof(ee), MIN(e->cm[0].len - sizeof(ee), sizeof(off)));
	}
	static const struct sockaddr_in6 zero;
	size_t olen = level == IPPROTO_IP ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	CHECK(name, e->n == 0 && (e->flags & MSG_ERRQUEUE) && e->ncm == 1 && e->cm[0].level == level &&
	      e->cm[0].type == type && e->cm[0].len == sizeof(ee) + olen && ee.ee_errno == EMSGSIZE &&
	      ee.ee_origin == SO_EE_ORIGIN_LOCAL && ee.ee_type == 0 && ee.ee_code == 0 && ee.ee_info == mtu &&
	      ee.ee_data == 0 && !memcmp(&off, &zero, olen),
	      "n=%ld errno=%d flags=%#x ncmsg=%d level=%d type=%d len=%zu ee_errno=%u origin=%u info=%u offender family=%u",
	      e->n, errno, e->flags, e->ncm, e->cm[0].level, e->cm[0].type, e->cm[0].len, ee.ee_errno, ee.ee_origin,
	      ee.ee_info, off.sin6_family);
}

static void test_local4(void)
{
	uint16_t dead = dead_port(AF_INET);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1;
	struct sockaddr_in to = lo_addr(dead);
	errno = 0;
	long n = sendto(u, big, BIG4, 0, (struct sockaddr *)&to, sizeof(to));
	int e0 = errno;
	struct errq_read e;
	read_errq(u, &e);
	CHECK("local4_without_recverr_not_queued", n == -1 && e0 == EMSGSIZE && e.n == -1 && errno == EAGAIN,
	      "n=%ld errno=%d read=%ld errno=%d", n, e0, e.n, errno);

	setsockopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	setsockopt(u, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	errno = 0;
	n = sendto(u, big, BIG4 - 1, 0, (struct sockaddr *)&to, sizeof(to));       /* the largest: sent */
	CHECK("local4_largest_sent", n == BIG4 - 1, "n=%ld errno=%d", n, errno);
	wait_err(u);
	read_errq(u, &e);                                /* its port unreachable */
	errno = 0;
	n = sendto(u, big, BIG4, 0, (struct sockaddr *)&to, sizeof(to));
	e0 = errno;
	int rev = wait_err(u), err = -1;
	socklen_t el = sizeof(err);
	read_errq(u, &e);
	CHECK("local4_emsgsize_pollerr", n == -1 && e0 == EMSGSIZE && (rev & POLLERR), "n=%ld errno=%d revents=%#x", n, e0,
	      rev);
	check_local("local4_errq_fields", &e, IPPROTO_IP, IP_RECVERR, LO_MTU4);
	struct sockaddr_in *nm = (struct sockaddr_in *)&e.name;
	CHECK("local4_unconnected_name_no_port", e.namelen == sizeof(*nm) && nm->sin_family == AF_INET &&
	      nm->sin_addr.s_addr == LOOPBACK && nm->sin_port == 0, "namelen=%u family=%u addr=%#x port=%u", e.namelen,
	      nm->sin_family, ntohl(nm->sin_addr.s_addr), ntohs(nm->sin_port));
	getsockopt(u, SOL_SOCKET, SO_ERROR, &err, &el);
	CHECK("local4_read_clears_error", err == 0, "so_error=%d", err);

	/* connected: the error carries the connected port and the destination */
	connect(u, (struct sockaddr *)&to, sizeof(to));
	n = send(u, big, BIG4, 0);
	read_errq(u, &e);
	check_local("local4_connected_errq_fields", &e, IPPROTO_IP, IP_RECVERR, LO_MTU4);
	CHECK("local4_connected_name", e.namelen == sizeof(*nm) && nm->sin_family == AF_INET &&
	      nm->sin_addr.s_addr == LOOPBACK && ntohs(nm->sin_port) == dead, "namelen=%u family=%u addr=%#x port=%u",
	      e.namelen, nm->sin_family, ntohl(nm->sin_addr.s_addr), ntohs(nm->sin_port));
	close(u);
}

static void test_local6(void)
{
	uint16_t dead = dead_port(AF_INET6);
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	int one = 1;
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(dead), .sin6_addr = in6addr_loopback };
	/* IP_RECVERR is not IPv6's */
	setsockopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	errno = 0;
	long n = sendto(u, big, BIG6, 0, (struct sockaddr *)&to, sizeof(to));
	int e0 = errno;
	struct errq_read e;
	read_errq(u, &e);
	CHECK("local6_ip_recverr_not_queued", n == -1 && e0 == EMSGSIZE && e.n == -1 && errno == EAGAIN,
	      "n=%ld errno=%d read=%ld errno=%d", n, e0, e.n, errno);
	setsockopt(u, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	setsockopt(u, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	errno = 0;
	n = sendto(u, big, BIG6 - 1, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("local6_largest_sent", n == BIG6 - 1, "n=%ld errno=%d", n, errno);
	wait_err(u);
	read_errq(u, &e);
	errno = 0;
	n = sendto(u, big, BIG6, 0, (struct sockaddr *)&to, sizeof(to));
	e0 = errno;
	read_errq(u, &e);
	struct sockaddr_in6 *nm = (struct sockaddr_in6 *)&e.name;
	CHECK("local6_emsgsize", n == -1 && e0 == EMSGSIZE, "n=%ld errno=%d", n, e0);
	check_local("local6_errq_fields", &e, IPPROTO_IPV6, IPV6_RECVERR, LO_MTU6);
	CHECK("local6_name", e.namelen == sizeof(*nm) && nm->sin6_family == AF_INET6 &&
	      !memcmp(&nm->sin6_addr, &in6addr_loopback, 16) && ntohs(nm->sin6_port) == dead && nm->sin6_scope_id == 0,
	      "namelen=%u family=%u port=%u", e.namelen, nm->sin6_family, ntohs(nm->sin6_port));

	/* a v4-mapped destination takes IPv4's limit and IP_RECVERR */
	struct sockaddr_in6 m4 = { .sin6_family = AF_INET6, .sin6_port = htons(dead) };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &m4.sin6_addr);
	errno = 0;
	n = sendto(u, big, BIG4, 0, (struct sockaddr *)&m4, sizeof(m4));
	e0 = errno;
	read_errq(u, &e);
	CHECK("local_mapped_emsgsize", n == -1 && e0 == EMSGSIZE, "n=%ld errno=%d", n, e0);
	check_local("local_mapped_errq_fields", &e, IPPROTO_IPV6, IPV6_RECVERR, LO_MTU4);
	close(u);
}

int main(void)
{
	start_watchdog(60);
	unsigned lo = if_nametoindex("lo");
	test_udp4_cmsg(lo);
	test_mapped_cmsg(lo);
	test_udp6_cmsg(lo);
	test_local4();
	test_local6();
	return t_finish();
}
