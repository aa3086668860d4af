/*
 * AF_INET6 sockets over ::1 and dual-stack listeners (Linux's semantics, net/inet_addr.h):
 *   - socket(AF_INET6, SOCK_STREAM / SOCK_DGRAM); getsockname of a fresh socket is [::]:0 in a
 *     28-byte sockaddr_in6
 *   - bind: a short address (a sockaddr_in's 16 bytes) EINVAL, another family EAFNOSUPPORT, an
 *     address that is not ours EADDRNOTAVAIL, a v4-mapped one on an IPV6_V6ONLY socket EINVAL
 *   - TCP over ::1: names on both ends (family, ::1, the ports each side sees), 1 MiB echoed
 *     byte-exact
 *   - a dual-stack listener on [::]: an IPv4 client (AF_INET to 127.0.0.1) is accepted with the
 *     v4-mapped ::ffff:127.0.0.1 and its port, the accepted socket's own name is
 *     ::ffff:127.0.0.1 too; an IPv6 client on the same listener is ::1; an AF_INET6 client
 *     connecting to ::ffff:127.0.0.1 reaches an AF_INET listener and calls itself v4-mapped
 *   - IPV6_V6ONLY: off by default, on refuses IPv4 clients (ECONNREFUSED) and lets an AF_INET
 *     listener share the port, which a dual-stack listener may not (EADDRINUSE); EINVAL after bind;
 *     a v6only socket's connect to a v4-mapped address ENETUNREACH
 *   - UDP over ::1: recvfrom reports the sender as a sockaddr_in6 (::1, its port); a dual-stack
 *     socket hears an AF_INET sender as ::ffff:127.0.0.1 and its reply to that address reaches
 *     the IPv4 socket; connect + getpeername; a v6only socket's sendto to a v4-mapped address
 *     ENETUNREACH
 *   - /proc/net/tcp6 and udp6 (Linux's format): a listener on [::1] is "<::1 as Linux prints
 *     it>:<port> ... 0A" with its socket's inode, a connection accepted from IPv4 on [::] shows
 *     the v4-mapped addresses in state 01, a UDP socket on [::1] is in state 07 with its inode
 *   - /proc/net/snmp6: "Name<TAB>value" lines; Ip6InReceives and Ip6OutRequests grow with traffic
 *     over ::1
 *   - options: IPV6_UNICAST_HOPS (64 by default, set, -1 resets, 256 EINVAL), IPV6_MULTICAST_HOPS
 *     (1), IPV6_MULTICAST_LOOP (1), IPV6_TCLASS; SOL_IPV6 on an AF_INET socket ENOPROTOOPT
 *   - IPV6_ADD_MEMBERSHIP / IPV6_DROP_MEMBERSHIP on lo: a unicast group or a short ipv6_mreq
 *     EINVAL, an unknown interface ENODEV, leaving a group not joined EADDRNOTAVAIL, join, the
 *     same join again EADDRINUSE, leave, leave again EADDRNOTAVAIL; on a TCP socket EPROTO;
 *     getsockopt of either ENOPROTOOPT (delivery over a NIC: tests/system/test_ipv6_sock.py)
 * "mcrecv PORT GROUP IFNAME SECONDS" instead binds [::]:PORT, joins GROUP on IFNAME, leaves
 * GROUP2 = GROUP + 1 unjoined and counts what arrives for SECONDS (test_ipv6_sock.py's host sends).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sys/stat.h>
#include "sockutil.h"

#define ECHO_BYTES (1 << 20)

static struct sockaddr_in6 addr6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return a;
}

static bool is_addr6(const struct sockaddr_in6 *a, const char *ip)
{
	struct in6_addr want;
	inet_pton(AF_INET6, ip, &want);
	return a->sin6_family == AF_INET6 && memcmp(&a->sin6_addr, &want, sizeof(want)) == 0;
}

static const char *show6(const struct sockaddr_in6 *a)
{
	static char buf[2][INET6_ADDRSTRLEN + 32];
	static int i;
	char ip[INET6_ADDRSTRLEN];
	i ^= 1;
	inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
	snprintf(buf[i], sizeof(buf[i]), "fam %d [%s]:%u", a->sin6_family, ip, ntohs(a->sin6_port));
	return buf[i];
}

static int name6(int fd, struct sockaddr_in6 *a, bool peer)
{
	socklen_t len = sizeof(*a);
	memset(a, 0, sizeof(*a));
	int r = peer ? getpeername(fd, (struct sockaddr *)a, &len) : getsockname(fd, (struct sockaddr *)a, &len);
	return r < 0 ? -1 : (int)len;
}

static int v6only(int fd, int on)
{
	return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
}

/* A TCP listener of AF_INET6 on ip (port 0), with IPV6_V6ONLY as given (-1: untouched). */
static int listener6(const char *ip, int only, uint16_t *port)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (only >= 0)
		v6only(fd, only);
	struct sockaddr_in6 a = addr6(ip, *port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	struct sockaddr_in6 b;
	name6(fd, &b, false);
	*port = ntohs(b.sin6_port);
	return fd;
}

static int connect6(const char *ip, uint16_t port)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = addr6(ip, port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_basics(void)
{
	int t = socket(AF_INET6, SOCK_STREAM, 0), u = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK("socket AF_INET6 stream and dgram", t >= 0 && u >= 0, "%d %d errno %d", t, u, errno);
	struct sockaddr_in6 a;
	int len = name6(t, &a, false);
	CHECK("fresh socket's name is [::]:0, 28 bytes", len == (int)sizeof(a) && is_addr6(&a, "::") && a.sin6_port == 0,
	      "len %d %s", len, show6(&a));
	int v = -1;
	socklen_t vl = sizeof(v);
	CHECK("IPV6_V6ONLY off by default", getsockopt(t, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 && v == 0, "%d", v);
	struct sockaddr_in6 b = addr6("::1", 0);
	EXPECT("bind with a sockaddr_in's length", bind(t, (struct sockaddr *)&b, sizeof(struct sockaddr_in)), EINVAL);
	b.sin6_family = AF_INET;
	EXPECT("bind of another family", bind(t, (struct sockaddr *)&b, sizeof(b)), EAFNOSUPPORT);
	b = addr6("2001:db8::77", 0);
	EXPECT("bind to an address not ours", bind(t, (struct sockaddr *)&b, sizeof(b)), EADDRNOTAVAIL);
	EXPECT("udp bind to an address not ours", bind(u, (struct sockaddr *)&b, sizeof(b)), EADDRNOTAVAIL);
	int o = socket(AF_INET6, SOCK_STREAM, 0);
	v6only(o, 1);
	b = addr6("::ffff:127.0.0.1", 0);
	EXPECT("v6only bind to a v4-mapped address", bind(o, (struct sockaddr *)&b, sizeof(b)), EINVAL);
	b = addr6("::1", 0);
	CHECK("bind ::1", bind(t, (struct sockaddr *)&b, sizeof(b)) == 0, "errno %d", errno);
	EXPECT("IPV6_V6ONLY after bind", v6only(t, 1), EINVAL);
	len = name6(t, &a, false);
	CHECK("bound name ::1 with a port", is_addr6(&a, "::1") && a.sin6_port != 0, "%s", show6(&a));
	int four = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	EXPECT("SOL_IPV6 on AF_INET", setsockopt(four, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), ENOPROTOOPT);
	close(four);
	close(o);
	close(t);
	close(u);
}

static void *echo_fn(void *arg)
{
	int fd = (int)(long)arg;
	static char buf[65536];
	long n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			break;
	shutdown(fd, SHUT_WR);
	return NULL;
}

static void test_tcp_loopback(void)
{
	uint16_t port = 0;
	int l = listener6("::1", -1, &port);
	CHECK("listen on [::1]", l >= 0 && port, "errno %d", errno);
	int c = connect6("::1", port);
	CHECK("connect to [::1]", c >= 0, "errno %d", errno);
	struct sockaddr_in6 pa;
	socklen_t pl = sizeof(pa);
	int s = accept(l, (struct sockaddr *)&pa, &pl);
	CHECK("accept", s >= 0, "errno %d", errno);
	if (l < 0 || c < 0 || s < 0)
		return;
	struct sockaddr_in6 cn, cp, sn;
	name6(c, &cn, false);
	name6(c, &cp, true);
	name6(s, &sn, false);
	CHECK("accept's address is the client's name", pl == sizeof(pa) && is_addr6(&pa, "::1") &&
	      pa.sin6_port == cn.sin6_port, "%d %s vs %s", (int)pl, show6(&pa), show6(&cn));
	CHECK("client's peer is the listener", is_addr6(&cp, "::1") && ntohs(cp.sin6_port) == port, "%s", show6(&cp));
	CHECK("accepted socket's name", is_addr6(&sn, "::1") && ntohs(sn.sin6_port) == port, "%s", show6(&sn));
	pthread_t th;
	start_thread(&th, echo_fn, (void *)(long)s);
	static unsigned char out[ECHO_BYTES], in[ECHO_BYTES];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + (i >> 10));
	size_t sent = 0, got = 0;
	fcntl(c, F_SETFL, O_NONBLOCK);
	while (got < sizeof(in)) {
		struct pollfd p = { c, POLLIN | (sent < sizeof(out) ? POLLOUT : 0), 0 };
		if (poll(&p, 1, 10000) <= 0)
			break;
		if ((p.revents & POLLOUT) && sent < sizeof(out)) {
			long n = write(c, out + sent, sizeof(out) - sent);
			if (n > 0)
				sent += n;
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			long n = read(c, in + got, sizeof(in) - got);
			if (n <= 0)
				break;
			got += n;
		}
	}
	CHECK("1 MiB echoed over ::1 byte-exact", got == sizeof(in) && memcmp(in, out, sizeof(in)) == 0, "got %zu", got);
	close(c);
	pthread_join(th, NULL);
	close(s);
	close(l);
}

static void test_dual_stack(void)
{
	uint16_t port = 0;
	int l = listener6("::", 0, &port);
	CHECK("dual-stack listen on [::]", l >= 0, "errno %d", errno);
	if (l < 0)
		return;
	int c4 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a4 = lo_addr(port);
	CHECK("IPv4 client connects to the [::] listener", connect(c4, (struct sockaddr *)&a4, sizeof(a4)) == 0,
	      "errno %d", errno);
	struct sockaddr_in6 pa, sn;
	socklen_t pl = sizeof(pa);
	int s = accept(l, (struct sockaddr *)&pa, &pl);
	CHECK("accepted as ::ffff:127.0.0.1 with the client's port",
	      s >= 0 && pl == sizeof(pa) && is_addr6(&pa, "::ffff:127.0.0.1") && ntohs(pa.sin6_port) == local_port(c4),
	      "%d %s (client port %u)", s, show6(&pa), local_port(c4));
	name6(s, &sn, false);
	CHECK("the accepted socket's name is v4-mapped", is_addr6(&sn, "::ffff:127.0.0.1") && ntohs(sn.sin6_port) == port,
	      "%s", show6(&sn));
	char b[4] = { 0 };
	CHECK("bytes both ways", write(c4, "ping", 4) == 4 && read(s, b, 4) == 4 && memcmp(b, "ping", 4) == 0 &&
	      write(s, "pong", 4) == 4 && read(c4, b, 4) == 4 && memcmp(b, "pong", 4) == 0, "errno %d", errno);
	close(s);
	close(c4);
	int c6 = connect6("::1", port);
	pl = sizeof(pa);
	s = accept(l, (struct sockaddr *)&pa, &pl);
	CHECK("an IPv6 client on the same listener is ::1", c6 >= 0 && s >= 0 && is_addr6(&pa, "::1"), "%s", show6(&pa));
	close(s);
	close(c6);
	/* an AF_INET listener on the same port: refused while the dual-stack one is there */
	int l4 = socket(AF_INET, SOCK_STREAM, 0);
	a4 = lo_addr(port);
	a4.sin_addr.s_addr = htonl(INADDR_ANY);
	EXPECT("AF_INET bind on the dual-stack listener's port", bind(l4, (struct sockaddr *)&a4, sizeof(a4)), EADDRINUSE);
	close(l4);
	close(l);

	/* v6only: IPv4 clients refused; an AF_INET listener may share the port */
	port = 0;
	l = listener6("::", 1, &port);
	int v = 0;
	socklen_t vl = sizeof(v);
	CHECK("v6only listener", l >= 0 && getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 && v == 1, "v %d", v);
	c4 = socket(AF_INET, SOCK_STREAM, 0);
	a4 = lo_addr(port);
	EXPECT("IPv4 client of a v6only listener", connect(c4, (struct sockaddr *)&a4, sizeof(a4)), ECONNREFUSED);
	close(c4);
	l4 = socket(AF_INET, SOCK_STREAM, 0);
	a4.sin_addr.s_addr = htonl(INADDR_ANY);
	CHECK("AF_INET listener shares a v6only listener's port",
	      bind(l4, (struct sockaddr *)&a4, sizeof(a4)) == 0 && listen(l4, 4) == 0, "errno %d", errno);
	/* an AF_INET6 client to ::ffff:127.0.0.1 reaches the AF_INET listener */
	int c = connect6("::ffff:127.0.0.1", port);
	struct sockaddr_in6 cn;
	name6(c, &cn, false);
	CHECK("AF_INET6 client to a v4-mapped address", c >= 0 && is_addr6(&cn, "::ffff:127.0.0.1"), "errno %d %s",
	      errno, show6(&cn));
	struct sockaddr_in p4;
	socklen_t p4l = sizeof(p4);
	s = accept(l4, (struct sockaddr *)&p4, &p4l);
	CHECK("the AF_INET listener sees 127.0.0.1", s >= 0 && p4l == sizeof(p4) && p4.sin_addr.s_addr == LOOPBACK &&
	      p4.sin_port == cn.sin6_port, "%d", s);
	close(s);
	close(c);
	int o = socket(AF_INET6, SOCK_STREAM, 0);
	v6only(o, 1);
	struct sockaddr_in6 m = addr6("::ffff:127.0.0.1", port);
	EXPECT("v6only connect to a v4-mapped address", connect(o, (struct sockaddr *)&m, sizeof(m)), ENETUNREACH);
	close(o);
	close(l4);
	close(l);
}

static long recv6(int fd, char *buf, size_t n, struct sockaddr_in6 *from, socklen_t *fl)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, 5000) <= 0)
		return -1;
	*fl = sizeof(*from);
	memset(from, 0, sizeof(*from));
	return recvfrom(fd, buf, n, 0, (struct sockaddr *)from, fl);
}

static void test_udp(void)
{
	int a = socket(AF_INET6, SOCK_DGRAM, 0), b = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 la = addr6("::1", 0), from;
	socklen_t fl;
	bind(a, (struct sockaddr *)&la, sizeof(la));
	name6(a, &la, false);
	CHECK("udp bound to ::1", is_addr6(&la, "::1") && la.sin6_port, "%s", show6(&la));
	char buf[64];
	CHECK("udp sendto [::1]", sendto(b, "hello6", 6, 0, (struct sockaddr *)&la, sizeof(la)) == 6, "errno %d", errno);
	long n = recv6(a, buf, sizeof(buf), &from, &fl);
	struct sockaddr_in6 bn;
	name6(b, &bn, false);
	CHECK("recvfrom gives the IPv6 sender", n == 6 && fl == sizeof(from) && is_addr6(&from, "::1") &&
	      from.sin6_port == bn.sin6_port && bn.sin6_port != 0, "n %ld fl %d %s vs %s", n, (int)fl, show6(&from), show6(&bn));
	CHECK("udp connect + getpeername", connect(b, (struct sockaddr *)&la, sizeof(la)) == 0 &&
	      name6(b, &from, true) == (int)sizeof(from) && is_addr6(&from, "::1") && from.sin6_port == la.sin6_port,
	      "errno %d", errno);
	CHECK("udp send on the connected socket", send(b, "again", 5, 0) == 5 && recv6(a, buf, sizeof(buf), &from, &fl) == 5,
	      "errno %d", errno);
	close(b);

	/* dual stack */
	int d = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 any = addr6("::", 0);
	bind(d, (struct sockaddr *)&any, sizeof(any));
	name6(d, &any, false);
	uint16_t port = ntohs(any.sin6_port);
	int four = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to4 = lo_addr(port);
	sendto(four, "v4", 2, 0, (struct sockaddr *)&to4, sizeof(to4));
	n = recv6(d, buf, sizeof(buf), &from, &fl);
	CHECK("a [::] socket hears IPv4 as ::ffff:127.0.0.1", n == 2 && is_addr6(&from, "::ffff:127.0.0.1") &&
	      ntohs(from.sin6_port) == local_port(four), "n %ld %s (sender port %u)", n, show6(&from), local_port(four));
	CHECK("the reply to the v4-mapped address reaches the IPv4 socket",
	      sendto(d, "back", 4, 0, (struct sockaddr *)&from, sizeof(from)) == 4 && recv(four, buf, sizeof(buf), 0) == 4 &&
	      memcmp(buf, "back", 4) == 0, "errno %d", errno);
	close(four);
	close(d);

	int o = socket(AF_INET6, SOCK_DGRAM, 0);
	v6only(o, 1);
	struct sockaddr_in6 m = addr6("::ffff:127.0.0.1", la.sin6_port ? ntohs(la.sin6_port) : 9);
	EXPECT("v6only udp sendto a v4-mapped address", sendto(o, "x", 1, 0, (struct sockaddr *)&m, sizeof(m)), ENETUNREACH);
	close(o);
	close(a);
}

static int getopt6(int fd, int name)
{
	int v = -1000;
	socklen_t l = sizeof(v);
	if (getsockopt(fd, IPPROTO_IPV6, name, &v, &l) < 0)
		return -1000 - errno;
	return v;
}

static void test_options(void)
{
	int u = socket(AF_INET6, SOCK_DGRAM, 0), t = socket(AF_INET6, SOCK_STREAM, 0);
	int v;
	CHECK("IPV6_UNICAST_HOPS defaults to 64", getopt6(u, IPV6_UNICAST_HOPS) == 64 && getopt6(t, IPV6_UNICAST_HOPS) == 64,
	      "%d %d", getopt6(u, IPV6_UNICAST_HOPS), getopt6(t, IPV6_UNICAST_HOPS));
	v = 7;
	setsockopt(u, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v));
	setsockopt(t, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v));
	CHECK("IPV6_UNICAST_HOPS set", getopt6(u, IPV6_UNICAST_HOPS) == 7 && getopt6(t, IPV6_UNICAST_HOPS) == 7, "%d %d",
	      getopt6(u, IPV6_UNICAST_HOPS), getopt6(t, IPV6_UNICAST_HOPS));
	v = -1;
	setsockopt(u, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v));
	CHECK("IPV6_UNICAST_HOPS -1 resets", getopt6(u, IPV6_UNICAST_HOPS) == 64, "%d", getopt6(u, IPV6_UNICAST_HOPS));
	v = 256;
	EXPECT("IPV6_UNICAST_HOPS 256", setsockopt(u, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v)), EINVAL);
	CHECK("IPV6_MULTICAST_HOPS defaults to 1, LOOP to 1",
	      getopt6(u, IPV6_MULTICAST_HOPS) == 1 && getopt6(u, IPV6_MULTICAST_LOOP) == 1, "%d %d",
	      getopt6(u, IPV6_MULTICAST_HOPS), getopt6(u, IPV6_MULTICAST_LOOP));
	v = 5;
	setsockopt(u, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, sizeof(v));
	v = 0;
	setsockopt(u, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, sizeof(v));
	CHECK("IPV6_MULTICAST_HOPS / LOOP set", getopt6(u, IPV6_MULTICAST_HOPS) == 5 && getopt6(u, IPV6_MULTICAST_LOOP) == 0,
	      "%d %d", getopt6(u, IPV6_MULTICAST_HOPS), getopt6(u, IPV6_MULTICAST_LOOP));
	v = 0x28;
	setsockopt(u, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v));
	setsockopt(t, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v));
	CHECK("IPV6_TCLASS", getopt6(u, IPV6_TCLASS) == 0x28 && getopt6(t, IPV6_TCLASS) == 0x28, "%d %d",
	      getopt6(u, IPV6_TCLASS), getopt6(t, IPV6_TCLASS));
	close(u);
	close(t);
}

static int membership(int fd, int name, const char *group, unsigned ifindex, socklen_t len)
{
	struct ipv6_mreq m;
	memset(&m, 0, sizeof(m));
	inet_pton(AF_INET6, group, &m.ipv6mr_multiaddr);
	m.ipv6mr_interface = ifindex;
	return setsockopt(fd, IPPROTO_IPV6, name, &m, len);
}

static void test_memberships(void)
{
	int u = socket(AF_INET6, SOCK_DGRAM, 0), t = socket(AF_INET6, SOCK_STREAM, 0);
	unsigned lo = if_nametoindex("lo");
	const char *g = "ff02::1:3";
	socklen_t len = sizeof(struct ipv6_mreq);
	EXPECT("join a unicast group", membership(u, IPV6_ADD_MEMBERSHIP, "fe80::1", lo, len), EINVAL);
	EXPECT("join with a short ipv6_mreq", membership(u, IPV6_ADD_MEMBERSHIP, g, lo, 16), EINVAL);
	EXPECT("join on an unknown interface", membership(u, IPV6_ADD_MEMBERSHIP, g, 9999, len), ENODEV);
	EXPECT("leave a group not joined", membership(u, IPV6_DROP_MEMBERSHIP, g, lo, len), EADDRNOTAVAIL);
	CHECK("join a group on lo", membership(u, IPV6_ADD_MEMBERSHIP, g, lo, len) == 0, "errno=%d", errno);
	EXPECT("join it again", membership(u, IPV6_ADD_MEMBERSHIP, g, lo, len), EADDRINUSE);
	CHECK("leave it", membership(u, IPV6_DROP_MEMBERSHIP, g, lo, len) == 0, "errno=%d", errno);
	EXPECT("leave it again", membership(u, IPV6_DROP_MEMBERSHIP, g, lo, len), EADDRNOTAVAIL);
	EXPECT("join on a TCP socket", membership(t, IPV6_ADD_MEMBERSHIP, g, lo, len), EPROTO);
	struct ipv6_mreq m;
	socklen_t ml = sizeof(m);
	EXPECT("getsockopt IPV6_ADD_MEMBERSHIP", getsockopt(u, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m, &ml), ENOPROTOOPT);
	CHECK("join again, then close", membership(u, IPV6_ADD_MEMBERSHIP, g, lo, len) == 0, "errno=%d", errno);
	close(u);
	close(t);
}

/* The line of /proc/net/<file> whose local address column is local and whose state is st; its
 * inode column to *ino. */
static bool proc_line(const char *file, const char *local, const char *remote, unsigned st, unsigned long *ino)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/net/%s", file);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool found = false;
	if (!fgets(line, sizeof(line), f) || !strstr(line, "local_address"))
		goto out;
	while (fgets(line, sizeof(line), f)) {
		char la[64], ra[64];
		unsigned state, txq, rxq, uid;
		unsigned long inode;
		int sl, tr, retr, timeout;
		unsigned long when;
		if (sscanf(line, "%d: %63s %63s %x %x:%x %x:%lx %x %u %d %lu", &sl, la, ra, &state, &txq, &rxq, &tr, &when,
			   &retr, &uid, &timeout, &inode) != 12)
			continue;
		if (strcmp(la, local) == 0 && (!remote || strcmp(ra, remote) == 0) && state == st) {
			*ino = inode;
			found = true;
			break;
		}
	}
out:
	fclose(f);
	return found;
}

static unsigned long ino_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

#define LO6_PROC "00000000000000000000000001000000"      /* ::1, each word as a little-endian CPU prints it */
#define MAPPED_LO_PROC "0000000000000000FFFF00000100007F" /* ::ffff:127.0.0.1 */

static void test_proc(void)
{
	uint16_t port = 0;
	int l = listener6("::1", -1, &port);
	char want[64];
	unsigned long ino = 0;
	snprintf(want, sizeof(want), "%s:%04X", LO6_PROC, port);
	CHECK("tcp6: the [::1] listener, LISTEN, its inode", proc_line("tcp6", want, NULL, 0x0A, &ino) && ino == ino_of(l),
	      "want %s ino %lu (fd's %lu)", want, ino, ino_of(l));
	close(l);
	port = 0;
	l = listener6("::", 0, &port);
	int c4 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a4 = lo_addr(port);
	connect(c4, (struct sockaddr *)&a4, sizeof(a4));
	int s = accept(l, NULL, NULL);
	char rem[64];
	snprintf(want, sizeof(want), "%s:%04X", MAPPED_LO_PROC, port);
	snprintf(rem, sizeof(rem), "%s:%04X", MAPPED_LO_PROC, local_port(c4));
	CHECK("tcp6: the connection from IPv4, v4-mapped, ESTABLISHED", s >= 0 && proc_line("tcp6", want, rem, 0x01, &ino) &&
	      ino == ino_of(s), "want %s %s", want, rem);
	close(s);
	close(c4);
	close(l);
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 ua = addr6("::1", 0);
	bind(u, (struct sockaddr *)&ua, sizeof(ua));
	name6(u, &ua, false);
	snprintf(want, sizeof(want), "%s:%04X", LO6_PROC, ntohs(ua.sin6_port));
	CHECK("udp6: the [::1] socket, state 07, its inode", proc_line("udp6", want, NULL, 0x07, &ino) && ino == ino_of(u),
	      "want %s", want);
	close(u);
}

/* A counter of /proc/net/snmp6 (-1 when absent or the line is not "Name<spaces/tab>value"). */
static long snmp6(const char *name)
{
	FILE *f = fopen("/proc/net/snmp6", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof(line), f)) {
		char n[64];
		unsigned long x;
		if (sscanf(line, "%63s %lu", n, &x) == 2 && strcmp(n, name) == 0 && strchr(line, '\t'))
			v = (long)x;
	}
	if (f)
		fclose(f);
	return v;
}

static void test_snmp6(void)
{
	long in0 = snmp6("Ip6InReceives"), out0 = snmp6("Ip6OutRequests");
	CHECK("snmp6 has Ip6InReceives, Ip6OutRequests, Icmp6InMsgs", in0 >= 0 && out0 >= 0 && snmp6("Icmp6InMsgs") >= 0,
	      "%ld %ld", in0, out0);
	uint16_t port = 0;
	int l = listener6("::1", -1, &port);
	int c = connect6("::1", port);
	int s = accept(l, NULL, NULL);
	char b[8];
	for (int i = 0; i < 10; i++)
		if (write(c, "1234", 4) != 4 || read(s, b, 4) != 4)
			break;
	close(s);
	close(c);
	close(l);
	long in1 = snmp6("Ip6InReceives"), out1 = snmp6("Ip6OutRequests");
	CHECK("snmp6 counts traffic over ::1", in1 >= in0 + 10 && out1 >= out0 + 10, "in %ld -> %ld, out %ld -> %ld", in0,
	      in1, out0, out1);
}

/* mcrecv PORT GROUP IFNAME SECONDS: datagrams to [::]:PORT counted for SECONDS after joining
 * GROUP on IFNAME, printed as "mcrecv got=N". */
static int mcrecv_main(uint16_t port, const char *group, const char *ifname, int secs)
{
	int r = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	unsigned idx = if_nametoindex(ifname);
	if (r < 0 || bind(r, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    membership(r, IPV6_ADD_MEMBERSHIP, group, idx, sizeof(struct ipv6_mreq)) < 0) {
		printf("mcrecv: setup failed: errno %d\n", errno);
		return 1;
	}
	printf("mcrecv: joined on %u\n", port);
	fflush(stdout);
	long got = 0;
	struct pollfd pf = { r, POLLIN, 0 };
	char buf[256];
	while (poll(&pf, 1, secs * 1000) == 1)
		if (recv(r, buf, sizeof(buf), 0) > 0)
			got++;
	printf("mcrecv got=%ld\n", got);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(120);
	if (argc == 6 && !strcmp(argv[1], "mcrecv"))
		return mcrecv_main((uint16_t)atoi(argv[2]), argv[3], argv[4], atoi(argv[5]));
	int probe = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 lo = addr6("::1", 0);
	if (probe < 0 || bind(probe, (struct sockaddr *)&lo, sizeof(lo)) < 0) {
		if (!running_in_ember()) {
			SKIP("sock_inet6", "no IPv6 loopback on this host");
			PASS("skipped");
			return t_finish();
		}
	}
	close(probe);
	test_basics();
	test_tcp_loopback();
	test_dual_stack();
	test_udp();
	test_options();
	test_memberships();
	test_proc();
	test_snmp6();
	return t_finish();
}
