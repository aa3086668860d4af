/*
 * ICMPv6 sockets over ::1:
 *   - ping sockets (SOCK_DGRAM, IPPROTO_ICMPV6): unbound until the first send, which picks the
 *     identifier (getsockname's port); the echo reply comes back without an IPv6 header, with
 *     that identifier, the sequence and payload sent, a valid checksum (the kernel computed the
 *     request's) and ::1 as source (port 0); bind sets the identifier; connect + send and
 *     getpeername (ENOTCONN without a peer port); each socket hears only its own replies; IPV6_RECVPKTINFO / IPV6_RECVHOPLIMIT
 *     control messages on a reply; EINVAL for a short message, a reply type, a non-zero code, a
 *     short or v4-mapped address; EAFNOSUPPORT for another family; EDESTADDRREQ; EMSGSIZE above
 *     65535 bytes; ENOTTY for FIONREAD; MSG_CTRUNC for a control buffer too short (inside Ember only:
 *     qemu-user's translation of control messages loses the flag)
 *   - raw sockets (SOCK_RAW, IPPROTO_ICMPV6): getsockname's port is the protocol; an echo request
 *     whose checksum field holds junk goes out checksummed by the kernel and comes back twice (the
 *     request arriving on lo, the reply), without IPv6 headers, checksums valid; ICMP6_FILTER
 *     (set, read back, and blocking the request); SOL_RAW IPV6_CHECKSUM reads 2, odd offsets and
 *     SOL_IPV6 are EINVAL; IPV6_UNICAST_HOPS seen in the hop-limit control message of the
 *     request; FIONREAD, MSG_TRUNC with the real length, EDESTADDRREQ, EINVAL for another port or
 *     a message without room for the checksum, EMSGSIZE; a raw socket sees a ping socket's echo
 * Linux allows ping sockets only to the groups in net.ipv4.ping_group_range (by default nobody), so
 * under qemu-user they may be skipped (run it in a network namespace whose ping_group_range is
 * "0 2147483647" to see Linux's answers; they were checked so); Ember has no such restriction.
 * qemu-user passes no getsockopt of levels SOL_RAW and IPPROTO_ICMPV6: those checks run in Ember.
 */
#define _GNU_SOURCE
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <sys/ioctl.h>
#include "sockutil.h"

#define BIG 65535                    /* the largest ICMPv6 message (the IPv6 payload length) */

static unsigned char out[BIG + 1], in[BIG + 64];

static struct sockaddr_in6 lo6(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	return a;
}

/* The ICMPv6 checksum of a message from ::1 to ::1 (0 when the message's own is right). */
static uint16_t icmp6_csum_lo(const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint32_t sum = 1 + 1 + (uint32_t)(n >> 16) + (uint32_t)(n & 0xffff) + IPPROTO_ICMPV6;   /* pseudo-header */
	for (; n > 1; n -= 2, p += 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An echo request of len bytes in out: id, seq, a pattern; its checksum field junk (the kernel's). */
static void make_echo(size_t len, uint16_t id, uint16_t seq, uint8_t type, uint8_t code)
{
	struct icmp6_hdr *h = (struct icmp6_hdr *)out;
	for (size_t i = sizeof(*h); i < len; i++)
		out[i] = (unsigned char)(i * 7 + seq);
	memset(h, 0, sizeof(*h));
	h->icmp6_type = type;
	h->icmp6_code = code;
	h->icmp6_cksum = 0x1234;
	h->icmp6_id = htons(id);
	h->icmp6_seq = htons(seq);
}

static int wait_in(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, ms);
}

/* Receive until an ICMPv6 message of type with id/seq arrives (within ms): its length or -1.
 * With msg, recvmsg fills msg's control buffer (the caller sets msg_control/msg_controllen). */
static long recv_match(int fd, int type, uint16_t id, uint16_t seq, struct sockaddr_in6 *from, socklen_t *fl,
		       struct msghdr *msg, int ms)
{
	long deadline = now_ms() + ms;
	size_t clen = msg ? msg->msg_controllen : 0;
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0 || wait_in(fd, (int)left) != 1)
			return -1;
		struct iovec v = { in, sizeof(in) };
		struct msghdr m = { .msg_name = from, .msg_namelen = sizeof(*from), .msg_iov = &v, .msg_iovlen = 1 };
		if (msg) {
			m.msg_control = msg->msg_control;
			m.msg_controllen = clen;
		}
		long n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n < (long)sizeof(struct icmp6_hdr))
			continue;
		struct icmp6_hdr *h = (struct icmp6_hdr *)in;
		if (h->icmp6_type == type && ntohs(h->icmp6_id) == id && ntohs(h->icmp6_seq) == seq) {
			if (fl)
				*fl = m.msg_namelen;
			if (msg) {
				msg->msg_controllen = m.msg_controllen;
				msg->msg_flags = m.msg_flags;
			}
			return n;
		}
	}
}

static uint16_t port6(int fd)
{
	struct sockaddr_in6 a;
	socklen_t l = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		return 0xffff;
	return ntohs(a.sin6_port);
}

static bool is_lo6(const struct sockaddr_in6 *a)
{
	return a->sin6_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) && a->sin6_port == 0;
}

static void test_ping_basic(int p)
{
	struct sockaddr_in6 to = lo6(), from;
	socklen_t fl = sizeof(from);
	struct sockaddr_in6 me;
	socklen_t ml = sizeof(me);
	int r = getsockname(p, (struct sockaddr *)&me, &ml);
	CHECK("ping6_unbound_name", r == 0 && ml == sizeof(me) && me.sin6_family == AF_INET6 && me.sin6_port == 0 &&
	      IN6_IS_ADDR_UNSPECIFIED(&me.sin6_addr), "r=%d len=%u port=%u", r, ml, ntohs(me.sin6_port));

	make_echo(40, 0, 1, ICMP6_ECHO_REQUEST, 0);
	long n = sendto(p, out, 40, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping6_send", n == 40, "n=%ld errno=%d", n, errno);
	uint16_t id = port6(p);
	CHECK("ping6_autobound_ident", id != 0 && id != 0xffff, "id=%u", id);
	n = recv_match(p, ICMP6_ECHO_REPLY, id, 1, &from, &fl, NULL, 2000);
	CHECK("ping6_reply", n == 40 && !memcmp(in + 8, out + 8, 32), "n=%ld", n);
	CHECK("ping6_reply_checksum_valid", n == 40 && icmp6_csum_lo(in, 40) == 0, "n=%ld csum %#x", n,
	      icmp6_csum_lo(in, 40));
	CHECK("ping6_reply_source", n == 40 && fl == sizeof(from) && is_lo6(&from), "len=%u port=%u", fl,
	      ntohs(from.sin6_port));

	/* a large echo */
	make_echo(8000, 0, 2, ICMP6_ECHO_REQUEST, 0);
	n = sendto(p, out, 8000, 0, (struct sockaddr *)&to, sizeof(to));
	long m = recv_match(p, ICMP6_ECHO_REPLY, id, 2, &from, NULL, NULL, 3000);
	CHECK("ping6_large_echo", n == 8000 && m == 8000 && !memcmp(in + 8, out + 8, 8000 - 8), "n=%ld m=%ld", n, m);

	/* control messages: the reply's destination, interface and hop limit */
	int one = 1;
	r = setsockopt(p, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	int r2 = setsockopt(p, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	CHECK("ping6_recvpktinfo_option", r == 0 && r2 == 0, "r=%d r2=%d errno=%d", r, r2, errno);
	make_echo(16, 0, 3, ICMP6_ECHO_REQUEST, 0);
	sendto(p, out, 16, 0, (struct sockaddr *)&to, sizeof(to));
	union { char buf[256]; struct cmsghdr align; } cb;
	struct msghdr msg = { .msg_control = cb.buf, .msg_controllen = sizeof(cb.buf) };
	n = recv_match(p, ICMP6_ECHO_REPLY, id, 3, &from, NULL, &msg, 2000);
	struct in6_pktinfo pi = { 0 };
	int hl = -1, count = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		count++;
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO && c->cmsg_len == CMSG_LEN(sizeof(pi)))
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&hl, CMSG_DATA(c), sizeof(int));
	}
	CHECK("ping6_cmsg_pktinfo", n == 16 && count == 2 && IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr) &&
	      pi.ipi6_ifindex == if_nametoindex("lo"), "n=%ld count=%d ifindex=%d lo=%u", n, count, pi.ipi6_ifindex,
	      if_nametoindex("lo"));
	CHECK("ping6_cmsg_hoplimit", hl == 64, "hoplimit=%d", hl);
	CHECK("ping6_cmsg_length", msg.msg_controllen == CMSG_SPACE(sizeof(pi)) + CMSG_SPACE(sizeof(int)) &&
	      !(msg.msg_flags & MSG_CTRUNC), "controllen=%zu flags=%#x", (size_t)msg.msg_controllen, msg.msg_flags);
	/* a control buffer with room for the first message only: MSG_CTRUNC */
	sendto(p, out, 16, 0, (struct sockaddr *)&to, sizeof(to));
	msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	n = recv_match(p, ICMP6_ECHO_REPLY, id, 3, &from, NULL, &msg, 2000);
	if (running_in_ember())        /* qemu-user's cmsg translation drops MSG_CTRUNC (Linux's put_cmsg sets it) */
		CHECK("ping6_cmsg_ctrunc", n == 16 && (msg.msg_flags & MSG_CTRUNC) &&
		      msg.msg_controllen == CMSG_SPACE(sizeof(pi)), "n=%ld controllen=%zu flags=%#x", n,
		      (size_t)msg.msg_controllen, msg.msg_flags);
	else
		CHECK("ping6_cmsg_first_fits", n == 16 && msg.msg_controllen == CMSG_SPACE(sizeof(pi)), "n=%ld controllen=%zu",
		      n, (size_t)msg.msg_controllen);
	int zero = 0;
	setsockopt(p, IPPROTO_IPV6, IPV6_RECVPKTINFO, &zero, sizeof(zero));
	setsockopt(p, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &zero, sizeof(zero));
	int v = -1;
	socklen_t vl = sizeof(v);
	r = getsockopt(p, IPPROTO_IPV6, IPV6_RECVPKTINFO, &v, &vl);
	CHECK("ping6_recvpktinfo_off", r == 0 && v == 0 && vl == sizeof(int), "r=%d v=%d", r, v);
}

static void test_ping_errors(int p)
{
	struct sockaddr_in6 to = lo6();
	errno = 0;
	long n = sendto(p, out, 7, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping6_short_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	make_echo(16, 0, 9, ICMP6_ECHO_REPLY, 0);
	errno = 0;
	n = sendto(p, out, 16, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping6_reply_type_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	make_echo(16, 0, 9, ICMP6_ECHO_REQUEST, 1);
	errno = 0;
	n = sendto(p, out, 16, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping6_code_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	make_echo(16, 0, 9, ICMP6_ECHO_REQUEST, 0);
	errno = 0;
	n = send(p, out, 16, 0);
	CHECK("ping6_no_address_edestaddrreq", n == -1 && errno == EDESTADDRREQ, "n=%ld errno=%d", n, errno);
	errno = 0;
	n = sendto(p, out, 16, 0, (struct sockaddr *)&to, 24);
	CHECK("ping6_short_address_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	struct sockaddr_in6 bad = to;
	bad.sin6_family = AF_INET;
	errno = 0;
	n = sendto(p, out, 16, 0, (struct sockaddr *)&bad, sizeof(bad));
	CHECK("ping6_other_family_eafnosupport", n == -1 && errno == EAFNOSUPPORT, "n=%ld errno=%d", n, errno);
	struct sockaddr_in6 mapped = lo6();
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	errno = 0;
	n = sendto(p, out, 16, 0, (struct sockaddr *)&mapped, sizeof(mapped));
	CHECK("ping6_v4mapped_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	make_echo(BIG + 1, 0, 9, ICMP6_ECHO_REQUEST, 0);
	errno = 0;
	n = sendto(p, out, BIG + 1, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("ping6_too_big_emsgsize", n == -1 && errno == EMSGSIZE, "n=%ld errno=%d", n, errno);
	int v;
	errno = 0;
	int r = ioctl(p, FIONREAD, &v);
	CHECK("ping6_fionread_enotty", r == -1 && errno == ENOTTY, "r=%d errno=%d", r, errno);
}

static void test_ping_bind_connect(void)
{
	int a = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6), b = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	struct sockaddr_in6 me = lo6(), to = lo6(), from;
	me.sin6_port = htons(4242);
	int r = bind(a, (struct sockaddr *)&me, sizeof(me));
	CHECK("ping6_bind_ident", r == 0 && port6(a) == 4242, "r=%d errno=%d port=%u", r, errno, port6(a));
	r = connect(b, (struct sockaddr *)&to, sizeof(to));
	struct sockaddr_in6 peer;
	socklen_t pl = sizeof(peer);
	errno = 0;
	int g = getpeername(b, (struct sockaddr *)&peer, &pl);
	CHECK("ping6_connect_no_port_no_peer", r == 0 && g == -1 && errno == ENOTCONN, "r=%d g=%d errno=%d", r, g, errno);
	struct sockaddr_in6 to7 = to;
	to7.sin6_port = htons(7);
	r = connect(b, (struct sockaddr *)&to7, sizeof(to7));
	g = getpeername(b, (struct sockaddr *)&peer, &pl);
	CHECK("ping6_connect", r == 0 && g == 0 && pl == sizeof(peer) && IN6_IS_ADDR_LOOPBACK(&peer.sin6_addr) &&
	      ntohs(peer.sin6_port) == 7, "r=%d g=%d errno=%d port=%u", r, g, errno, ntohs(peer.sin6_port));
	uint16_t bid = port6(b);
	CHECK("ping6_connect_binds_ident", bid != 0 && bid != 4242, "id=%u", bid);
	make_echo(24, 0, 5, ICMP6_ECHO_REQUEST, 0);
	long n = send(b, out, 24, 0);
	long m = sendto(a, out, 24, 0, (struct sockaddr *)&to, sizeof(to));
	long rb = recv_match(b, ICMP6_ECHO_REPLY, bid, 5, &from, NULL, NULL, 2000);
	long ra = recv_match(a, ICMP6_ECHO_REPLY, 4242, 5, &from, NULL, NULL, 2000);
	CHECK("ping6_connected_and_bound_replies", n == 24 && m == 24 && rb == 24 && ra == 24, "n=%ld m=%ld rb=%ld ra=%ld",
	      n, m, rb, ra);
	errno = 0;
	n = recv(a, in, sizeof(in), MSG_DONTWAIT);
	int ea = errno;
	errno = 0;
	m = recv(b, in, sizeof(in), MSG_DONTWAIT);
	CHECK("ping6_only_own_replies", n == -1 && ea == EAGAIN && m == -1 && errno == EAGAIN, "a: %ld/%d b: %ld/%d", n, ea,
	      m, errno);
	close(a);
	close(b);
}

static void test_raw(int ping)
{
	int r = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (r < 0 && !running_in_ember() && (errno == EPERM || errno == EACCES)) {
		SKIP("raw_icmp6", "raw sockets need CAP_NET_RAW on this host");
		return;
	}
	CHECK("raw6_socket", r >= 0, "errno=%d", errno);
	if (r < 0)
		return;
	struct sockaddr_in6 to = lo6(), from;
	uint16_t id = (uint16_t)(getpid() ^ 0x6a6a);
	CHECK("raw6_name_port_is_protocol", port6(r) == IPPROTO_ICMPV6, "port=%u", port6(r));
	int v = -1;
	socklen_t vl = sizeof(v);
	int rv = getsockopt(r, SOL_RAW, IPV6_CHECKSUM, &v, &vl);
	if (rv < 0 && errno == EOPNOTSUPP && !running_in_ember())
		SKIP("raw6_checksum_offset_2", "qemu-user passes no getsockopt of level SOL_RAW");
	else
		CHECK("raw6_checksum_offset_2", rv == 0 && v == 2, "r=%d v=%d errno=%d", rv, v, errno);
	v = 3;
	errno = 0;
	rv = setsockopt(r, SOL_RAW, IPV6_CHECKSUM, &v, sizeof(v));
	CHECK("raw6_checksum_odd_einval", rv == -1 && errno == EINVAL, "r=%d errno=%d", rv, errno);
	v = 2;
	errno = 0;
	rv = setsockopt(r, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof(v));
	CHECK("raw6_checksum_at_ipv6_einval", rv == -1 && errno == EINVAL, "r=%d errno=%d", rv, errno);
	rv = ioctl(r, FIONREAD, &v);
	CHECK("raw6_fionread_empty", rv == 0 && v == 0, "r=%d v=%d errno=%d", rv, v, errno);

	/* the hop limit we send with shows in the request's IPV6_HOPLIMIT message */
	int hops = 33, one = 1;
	setsockopt(r, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops));
	setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	make_echo(48, id, 3, ICMP6_ECHO_REQUEST, 0);
	long n = sendto(r, out, 48, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("raw6_send_echo", n == 48, "n=%ld errno=%d", n, errno);
	union { char buf[128]; struct cmsghdr align; } cb;
	struct msghdr msg = { .msg_control = cb.buf, .msg_controllen = sizeof(cb.buf) };
	socklen_t fl = sizeof(from);
	long q = recv_match(r, ICMP6_ECHO_REQUEST, id, 3, &from, &fl, &msg, 2000);
	int hl = -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
		memcpy(&hl, CMSG_DATA(c), sizeof(hl));
	CHECK("raw6_sees_request_without_header", q == 48 && !memcmp(in + 8, out + 8, 40) && is_lo6(&from) &&
	      fl == sizeof(from), "n=%ld fl=%u", q, fl);
	CHECK("raw6_request_checksummed_by_kernel", q == 48 && icmp6_csum_lo(in, 48) == 0, "n=%ld", q);
	CHECK("raw6_request_hoplimit_cmsg", hl == 33 && msg.msg_controllen == CMSG_SPACE(sizeof(int)), "hl=%d len=%zu", hl,
	      (size_t)msg.msg_controllen);
	long a = recv_match(r, ICMP6_ECHO_REPLY, id, 3, &from, NULL, NULL, 2000);
	CHECK("raw6_sees_reply", a == 48 && !memcmp(in + 8, out + 8, 40) && is_lo6(&from), "n=%ld", a);
	CHECK("raw6_reply_checksum_valid", a == 48 && icmp6_csum_lo(in, 48) == 0, "n=%ld", a);
	setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &(int){ 0 }, sizeof(int));

	/* FIONREAD and MSG_TRUNC (the real length) */
	make_echo(48, id, 4, ICMP6_ECHO_REQUEST, 0);
	sendto(r, out, 48, 0, (struct sockaddr *)&to, sizeof(to));
	wait_in(r, 2000);
	rv = ioctl(r, FIONREAD, &v);
	CHECK("raw6_fionread_first_packet", rv == 0 && v >= 8, "r=%d v=%d", rv, v);
	n = recv(r, in, 4, MSG_TRUNC);
	CHECK("raw6_recv_flag_trunc_real_length", n >= 8, "n=%ld", n);

	/* ICMP6_FILTER: only echo replies pass */
	struct icmp6_filter f, g;
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
	rv = setsockopt(r, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	socklen_t gl = sizeof(g);
	int rg = getsockopt(r, IPPROTO_ICMPV6, ICMP6_FILTER, &g, &gl);
	if (rg < 0 && errno == EOPNOTSUPP && !running_in_ember())
		SKIP("raw6_filter_set_get", "qemu-user passes no getsockopt of level IPPROTO_ICMPV6");
	else
		CHECK("raw6_filter_set_get", rv == 0 && rg == 0 && gl == sizeof(g) && !memcmp(&f, &g, sizeof(f)),
		      "r=%d g=%d errno=%d", rv, rg, errno);
	while (recv(r, in, sizeof(in), MSG_DONTWAIT) >= 0)
		;
	make_echo(24, id, 5, ICMP6_ECHO_REQUEST, 0);
	sendto(r, out, 24, 0, (struct sockaddr *)&to, sizeof(to));
	a = recv_match(r, ICMP6_ECHO_REPLY, id, 5, &from, NULL, NULL, 2000);
	struct icmp6_hdr *h = (struct icmp6_hdr *)in;
	CHECK("raw6_filter_passes_reply_first", a == 24 && h->icmp6_type == ICMP6_ECHO_REPLY, "n=%ld", a);
	make_echo(24, id, 6, ICMP6_ECHO_REQUEST, 0);
	sendto(r, out, 24, 0, (struct sockaddr *)&to, sizeof(to));
	int got_request = 0, got_reply = 0;
	long deadline = now_ms() + 1000;
	while (now_ms() < deadline && wait_in(r, 200) == 1) {
		n = recv(r, in, sizeof(in), MSG_DONTWAIT);
		if (n >= 8 && ntohs(h->icmp6_id) == id && ntohs(h->icmp6_seq) == 6) {
			got_request += h->icmp6_type == ICMP6_ECHO_REQUEST;
			got_reply += h->icmp6_type == ICMP6_ECHO_REPLY;
		}
	}
	CHECK("raw6_filter_blocks_request", got_request == 0 && got_reply == 1, "request %d reply %d", got_request, got_reply);
	ICMP6_FILTER_SETPASSALL(&f);
	setsockopt(r, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));

	errno = 0;
	n = send(r, out, 48, 0);
	CHECK("raw6_no_address_edestaddrreq", n == -1 && errno == EDESTADDRREQ, "n=%ld errno=%d", n, errno);
	struct sockaddr_in6 udp = to;
	udp.sin6_port = htons(IPPROTO_UDP);
	errno = 0;
	n = sendto(r, out, 48, 0, (struct sockaddr *)&udp, sizeof(udp));
	CHECK("raw6_other_protocol_port_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	errno = 0;
	n = sendto(r, out, 3, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("raw6_no_room_for_checksum_einval", n == -1 && errno == EINVAL, "n=%ld errno=%d", n, errno);
	errno = 0;
	n = sendto(r, out, BIG + 1, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("raw6_too_big_emsgsize", n == -1 && errno == EMSGSIZE, "n=%ld errno=%d", n, errno);

	if (ping >= 0) {
		/* a raw socket hears a ping socket's request and reply too */
		while (recv(r, in, sizeof(in), MSG_DONTWAIT) >= 0)
			;
		make_echo(24, 0, 31, ICMP6_ECHO_REQUEST, 0);
		sendto(ping, out, 24, 0, (struct sockaddr *)&to, sizeof(to));
		uint16_t pid = port6(ping);
		long rq = recv_match(r, ICMP6_ECHO_REQUEST, pid, 31, &from, NULL, NULL, 2000);
		long rr = recv_match(r, ICMP6_ECHO_REPLY, pid, 31, &from, NULL, NULL, 2000);
		long pr = recv_match(ping, ICMP6_ECHO_REPLY, pid, 31, &from, NULL, NULL, 2000);
		CHECK("raw6_sees_ping_socket_traffic", rq == 24 && rr == 24 && pr == 24, "request %ld reply %ld ping %ld", rq,
		      rr, pr);
	}
	close(r);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	int p = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	if (p < 0 && errno == EACCES && !running_in_ember()) {
		SKIP("ping6_sockets", "net.ipv4.ping_group_range excludes us on this host");
	} else {
		CHECK("ping6_socket", p >= 0, "errno=%d", errno);
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
