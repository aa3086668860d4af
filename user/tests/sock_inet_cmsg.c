/*
 * Control messages of UDP sockets over lo:
 *   - AF_INET with IP_PKTINFO, IP_RECVTTL, IP_RECVTOS: recvmsg gives IP_PKTINFO (lo's ifindex,
 *     127.0.0.1 as ipi_addr and ipi_spec_dst), IP_TTL (the sender's IP_TTL) and IP_TOS (one byte,
 *     the sender's IP_TOS), in that order, msg_controllen their sum; getsockopt reads the options
 *     back; none without them
 *   - AF_INET6 with IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS: IPV6_PKTINFO (::1, lo),
 *     IPV6_HOPLIMIT (the sender's IPV6_UNICAST_HOPS), IPV6_TCLASS (its IPV6_TCLASS)
 *   - a dual-stack AF_INET6 socket hearing an IPv4 datagram: IPV6_PKTINFO with ::ffff:127.0.0.1
 *   - MSG_CTRUNC when the control buffer holds only the first message
 *   - sendmsg with IP_PKTINFO (ipi_spec_dst 127.0.0.2) and IPV6_PKTINFO (::1; v4-mapped
 *     ::ffff:127.0.0.3 to a v4-mapped peer) chooses the source the receiver sees; a source that
 *     is not ours is ENETUNREACH for IPv4 (the route lookup's answer), EINVAL for IPv6; a
 *     malformed message is EINVAL
 *   - a raw ICMP socket: IP_PKTINFO on send sets the echo request's source, IP_RECVTTL shows the
 *     TTL it was sent with
 * qemu-user's translation of control messages loses MSG_CTRUNC: that check runs inside Ember only.
 * "recv6 PORT" receives one datagram from a host peer instead (tests/system/test_ipv6_sock.py).
 */
#define _GNU_SOURCE
#include <net/if.h>
#include <netinet/ip.h>
#include <poll.h>
#include "sockutil.h"

union cbuf {
	char buf[256];
	struct cmsghdr align;
};

static int udp6_bound(uint16_t *port, const char *addr)
{
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, addr, &a.sin6_addr);
	socklen_t l = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin6_port);
	return s;
}

/* recvmsg of one datagram (waiting up to 2 s) into cb with clen bytes of control room. */
static long recv_cm(int fd, union cbuf *cb, size_t clen, struct msghdr *msg, struct sockaddr_storage *from)
{
	static char data[64];
	static struct iovec v;
	v.iov_base = data;
	v.iov_len = sizeof(data);
	memset(msg, 0, sizeof(*msg));
	msg->msg_name = from;
	msg->msg_namelen = sizeof(*from);
	msg->msg_iov = &v;
	msg->msg_iovlen = 1;
	msg->msg_control = cb->buf;
	msg->msg_controllen = clen;
	memset(cb->buf, 0, sizeof(cb->buf));
	struct pollfd p = { fd, POLLIN, 0 };
	poll(&p, 1, 2000);
	return recvmsg(fd, msg, MSG_DONTWAIT);
}

static void test_ipv4(void)
{
	uint16_t port = 0;
	int r = bound_socket(SOCK_DGRAM, &port);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1, ttl = 42, tos = IPTOS_LOWDELAY;
	int e1 = setsockopt(r, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	int e2 = setsockopt(r, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	int e3 = setsockopt(r, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	int v = 0;
	socklen_t vl = sizeof(v);
	int g = getsockopt(r, IPPROTO_IP, IP_PKTINFO, &v, &vl);
	CHECK("ip_cmsg_options", e1 == 0 && e2 == 0 && e3 == 0 && g == 0 && v == 1 && vl == sizeof(int), "%d %d %d %d v=%d errno=%d",
	      e1, e2, e3, g, v, errno);
	struct sockaddr_in to = lo_addr(port);
	sendto(s, "four", 4, 0, (struct sockaddr *)&to, sizeof(to));
	union cbuf cb;
	struct msghdr msg;
	struct sockaddr_storage from;
	long n = recv_cm(r, &cb, sizeof(cb.buf), &msg, &from);
	int types[4] = { -1, -1, -1, -1 }, k = 0, got_ttl = -1, got_tos = -1;
	size_t tos_len = 0;
	struct in_pktinfo pi = { 0 };
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (k < 4)
			types[k++] = c->cmsg_level == IPPROTO_IP ? c->cmsg_type : -2;
		if (c->cmsg_type == IP_PKTINFO)
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		if (c->cmsg_type == IP_TTL)
			memcpy(&got_ttl, CMSG_DATA(c), sizeof(int));
		if (c->cmsg_type == IP_TOS) {
			got_tos = *(unsigned char *)CMSG_DATA(c);
			tos_len = c->cmsg_len;
		}
	}
	CHECK("ip_cmsg_order", n == 4 && k == 3 && types[0] == IP_PKTINFO && types[1] == IP_TTL && types[2] == IP_TOS,
	      "n=%ld k=%d types %d %d %d", n, k, types[0], types[1], types[2]);
	CHECK("ip_cmsg_pktinfo", pi.ipi_ifindex == (int)if_nametoindex("lo") && pi.ipi_addr.s_addr == LOOPBACK &&
	      pi.ipi_spec_dst.s_addr == LOOPBACK, "ifindex=%d addr=%#x spec_dst=%#x", pi.ipi_ifindex,
	      ntohl(pi.ipi_addr.s_addr), ntohl(pi.ipi_spec_dst.s_addr));
	CHECK("ip_cmsg_ttl_tos", got_ttl == 42 && got_tos == IPTOS_LOWDELAY && tos_len == CMSG_LEN(1), "ttl=%d tos=%#x len=%zu",
	      got_ttl, got_tos, tos_len);
	CHECK("ip_cmsg_controllen", msg.msg_controllen == CMSG_SPACE(sizeof(pi)) + CMSG_SPACE(sizeof(int)) + CMSG_SPACE(1) &&
	      !(msg.msg_flags & MSG_CTRUNC), "controllen=%zu flags=%#x", (size_t)msg.msg_controllen, msg.msg_flags);

	/* short control buffer */
	sendto(s, "four", 4, 0, (struct sockaddr *)&to, sizeof(to));
	n = recv_cm(r, &cb, CMSG_SPACE(sizeof(pi)), &msg, &from);
	if (running_in_ember())
		CHECK("ip_cmsg_ctrunc", n == 4 && (msg.msg_flags & MSG_CTRUNC) && msg.msg_controllen == CMSG_SPACE(sizeof(pi)),
		      "n=%ld controllen=%zu flags=%#x", n, (size_t)msg.msg_controllen, msg.msg_flags);

	/* the options off: no messages */
	int zero = 0;
	setsockopt(r, IPPROTO_IP, IP_PKTINFO, &zero, sizeof(zero));
	setsockopt(r, IPPROTO_IP, IP_RECVTTL, &zero, sizeof(zero));
	setsockopt(r, IPPROTO_IP, IP_RECVTOS, &zero, sizeof(zero));
	sendto(s, "four", 4, 0, (struct sockaddr *)&to, sizeof(to));
	n = recv_cm(r, &cb, sizeof(cb.buf), &msg, &from);
	CHECK("ip_cmsg_none_when_off", n == 4 && msg.msg_controllen == 0, "n=%ld controllen=%zu", n, (size_t)msg.msg_controllen);

	/* IP_PKTINFO on send: the source */
	struct in_pktinfo spi = { 0 };
	inet_pton(AF_INET, "127.0.0.2", &spi.ipi_spec_dst);
	char sb[CMSG_SPACE(sizeof(spi))] __attribute__((aligned(8))) = { 0 };
	struct iovec iv = { "five!", 5 };
	struct msghdr sm = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iv, .msg_iovlen = 1, .msg_control = sb,
			     .msg_controllen = sizeof(sb) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&sm);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(spi));
	memcpy(CMSG_DATA(c), &spi, sizeof(spi));
	long w = sendmsg(s, &sm, 0);
	n = recv_cm(r, &cb, sizeof(cb.buf), &msg, &from);
	struct sockaddr_in *f4 = (struct sockaddr_in *)&from;
	CHECK("ip_pktinfo_send_source", w == 5 && n == 5 && f4->sin_addr.s_addr == spi.ipi_spec_dst.s_addr, "w=%ld n=%ld from %#x",
	      w, n, ntohl(f4->sin_addr.s_addr));
	inet_pton(AF_INET, "192.0.2.99", &spi.ipi_spec_dst);
	memcpy(CMSG_DATA(c), &spi, sizeof(spi));
	errno = 0;
	w = sendmsg(s, &sm, 0);
	CHECK("ip_pktinfo_send_foreign_source_enetunreach", w == -1 && errno == ENETUNREACH, "w=%ld errno=%d", w, errno);
	c->cmsg_len = CMSG_LEN(4);
	errno = 0;
	w = sendmsg(s, &sm, 0);
	CHECK("ip_pktinfo_send_short_einval", w == -1 && errno == EINVAL, "w=%ld errno=%d", w, errno);
	close(r);
	close(s);
}

static void test_ipv6(void)
{
	uint16_t port = 0;
	int r = udp6_bound(&port, "::");
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	int one = 1, hops = 17, tclass = 0x20;
	int e1 = setsockopt(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	int e2 = setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	int e3 = setsockopt(r, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
	errno = 0;
	int e4 = setsockopt(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, 2);
	CHECK("ipv6_cmsg_options", e1 == 0 && e2 == 0 && e3 == 0 && e4 == -1 && errno == EINVAL, "%d %d %d %d errno=%d", e1,
	      e2, e3, e4, errno);
	setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops));
	setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof(tclass));
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	sendto(s, "six", 3, 0, (struct sockaddr *)&to, sizeof(to));
	union cbuf cb;
	struct msghdr msg;
	struct sockaddr_storage from;
	long n = recv_cm(r, &cb, sizeof(cb.buf), &msg, &from);
	int types[4] = { -1, -1, -1, -1 }, k = 0, hl = -1, tc = -1;
	struct in6_pktinfo pi = { 0 };
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (k < 4)
			types[k++] = c->cmsg_level == IPPROTO_IPV6 ? c->cmsg_type : -2;
		if (c->cmsg_type == IPV6_PKTINFO)
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		if (c->cmsg_type == IPV6_HOPLIMIT)
			memcpy(&hl, CMSG_DATA(c), sizeof(int));
		if (c->cmsg_type == IPV6_TCLASS)
			memcpy(&tc, CMSG_DATA(c), sizeof(int));
	}
	CHECK("ipv6_cmsg_order", n == 3 && k == 3 && types[0] == IPV6_PKTINFO && types[1] == IPV6_HOPLIMIT &&
	      types[2] == IPV6_TCLASS, "n=%ld k=%d types %d %d %d", n, k, types[0], types[1], types[2]);
	CHECK("ipv6_cmsg_pktinfo", IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr) && pi.ipi6_ifindex == if_nametoindex("lo"),
	      "ifindex=%u", pi.ipi6_ifindex);
	CHECK("ipv6_cmsg_hoplimit_tclass", hl == 17 && tc == 0x20, "hoplimit=%d tclass=%#x", hl, tc);
	CHECK("ipv6_cmsg_controllen", msg.msg_controllen == CMSG_SPACE(sizeof(pi)) + 2 * CMSG_SPACE(sizeof(int)),
	      "controllen=%zu", (size_t)msg.msg_controllen);

	/* an IPv4 datagram on the dual-stack socket */
	int s4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to4 = lo_addr(port);
	sendto(s4, "four", 4, 0, (struct sockaddr *)&to4, sizeof(to4));
	n = recv_cm(r, &cb, sizeof(cb.buf), &msg, &from);
	struct in6_pktinfo pi4 = { 0 };
	struct in6_addr mapped;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped);
	k = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		k++;
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
			memcpy(&pi4, CMSG_DATA(c), sizeof(pi4));
	}
	CHECK("ipv6_cmsg_pktinfo_of_ipv4_datagram", n == 4 && k == 1 && !memcmp(&pi4.ipi6_addr, &mapped, 16) &&
	      pi4.ipi6_ifindex == if_nametoindex("lo"), "n=%ld k=%d ifindex=%u", n, k, pi4.ipi6_ifindex);

	/* IPV6_PKTINFO on send: ::1 works, a foreign address is EINVAL */
	struct in6_pktinfo spi = { .ipi6_addr = IN6ADDR_LOOPBACK_INIT };
	char sb[CMSG_SPACE(sizeof(spi))] __attribute__((aligned(8))) = { 0 };
	struct iovec iv = { "seven!!", 7 };
	struct msghdr sm = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iv, .msg_iovlen = 1, .msg_control = sb,
			     .msg_controllen = sizeof(sb) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&sm);
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(spi));
	memcpy(CMSG_DATA(c), &spi, sizeof(spi));
	long w = sendmsg(s, &sm, 0);
	n = recv_cm(r, &cb, sizeof(cb.buf), &msg, &from);
	struct sockaddr_in6 *f6 = (struct sockaddr_in6 *)&from;
	CHECK("ipv6_pktinfo_send_source", w == 7 && n == 7 && IN6_IS_ADDR_LOOPBACK(&f6->sin6_addr), "w=%ld n=%ld errno=%d", w,
	      n, errno);
	inet_pton(AF_INET6, "2001:db8::99", &spi.ipi6_addr);
	memcpy(CMSG_DATA(c), &spi, sizeof(spi));
	errno = 0;
	w = sendmsg(s, &sm, 0);
	CHECK("ipv6_pktinfo_send_foreign_source_einval", w == -1 && errno == EINVAL, "w=%ld errno=%d", w, errno);

	/* a v4-mapped source to a v4-mapped peer */
	struct sockaddr_in6 tom = to;
	tom.sin6_addr = mapped;
	inet_pton(AF_INET6, "::ffff:127.0.0.3", &spi.ipi6_addr);
	memcpy(CMSG_DATA(c), &spi, sizeof(spi));
	sm.msg_name = &tom;
	w = sendmsg(s, &sm, 0);
	n = recv_cm(r, &cb, sizeof(cb.buf), &msg, &from);
	struct in6_addr want;
	inet_pton(AF_INET6, "::ffff:127.0.0.3", &want);
	CHECK("ipv6_pktinfo_send_mapped_source", w == 7 && n == 7 && !memcmp(&f6->sin6_addr, &want, 16), "w=%ld n=%ld errno=%d",
	      w, n, errno);
	close(s4);
	close(r);
	close(s);
}

static uint16_t csum(const void *buf, size_t n)
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

/* A raw ICMP socket: IP_PKTINFO on send picks the request's source, IP_RECVTTL shows its TTL. */
static void test_raw4(void)
{
	int r = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (r < 0 && !running_in_ember()) {
		SKIP("raw4_cmsg", "raw sockets need CAP_NET_RAW on this host");
		return;
	}
	int ttl = 9, one = 1;
	setsockopt(r, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	setsockopt(r, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	uint16_t id = (uint16_t)(getpid() ^ 0x3c3c);
	unsigned char req[16] = { 8, 0, 0, 0, (uint8_t)(id >> 8), (uint8_t)id, 0, 77, 'c', 'm', 's', 'g', 1, 2, 3, 4 };
	uint16_t c = csum(req, sizeof(req));
	req[2] = (uint8_t)(c >> 8);
	req[3] = (uint8_t)c;
	struct sockaddr_in to = lo_addr(0);
	struct in_pktinfo spi = { 0 };
	inet_pton(AF_INET, "127.0.0.2", &spi.ipi_spec_dst);
	char sb[CMSG_SPACE(sizeof(spi))] __attribute__((aligned(8))) = { 0 };
	struct iovec iv = { req, sizeof(req) };
	struct msghdr sm = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iv, .msg_iovlen = 1, .msg_control = sb,
			     .msg_controllen = sizeof(sb) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&sm);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(spi));
	memcpy(CMSG_DATA(cm), &spi, sizeof(spi));
	long w = sendmsg(r, &sm, 0);
	bool seen = false;
	int got_ttl = -1;
	uint32_t saddr = 0;
	long deadline = now_ms() + 2000;
	while (!seen && now_ms() < deadline) {
		union cbuf cb;
		struct msghdr msg;
		struct sockaddr_storage from;
		long n = recv_cm(r, &cb, sizeof(cb.buf), &msg, &from);
		unsigned char *pkt = msg.msg_iov[0].iov_base;
		if (n < 20 + 8 || pkt[20] != 8 || pkt[24] != (uint8_t)(id >> 8) || pkt[25] != (uint8_t)id || pkt[27] != 77)
			continue;
		seen = true;
		memcpy(&saddr, pkt + 12, 4);
		for (struct cmsghdr *x = CMSG_FIRSTHDR(&msg); x; x = CMSG_NXTHDR(&msg, x))
			if (x->cmsg_level == IPPROTO_IP && x->cmsg_type == IP_TTL)
				memcpy(&got_ttl, CMSG_DATA(x), sizeof(int));
	}
	CHECK("raw4_pktinfo_send_source", w == (long)sizeof(req) && seen && saddr == spi.ipi_spec_dst.s_addr,
	      "w=%ld errno=%d seen=%d saddr=%#x", w, errno, seen, ntohl(saddr));
	CHECK("raw4_recvttl_cmsg", got_ttl == 9, "ttl=%d", got_ttl);
	close(r);
}

/* recv6 PORT: one datagram on [::]:PORT from a host peer (tests/system/test_ipv6_sock.py), its
 * IPV6_PKTINFO and IPV6_HOPLIMIT printed as "pktinfo addr=A ifindex=N eth0=N hoplimit=H". */
static int recv6_main(uint16_t port)
{
	uint16_t p = port;
	int r = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(p) };
	int one = 1;
	if (bind(r, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    setsockopt(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one)) < 0) {
		printf("recv6: setup failed: errno %d\n", errno);
		return 1;
	}
	printf("recv6: listening on %u\n", p);
	union cbuf cb;
	struct msghdr msg;
	struct sockaddr_storage from;
	struct pollfd pf = { r, POLLIN, 0 };
	if (poll(&pf, 1, 30000) != 1) {
		printf("recv6: nothing came\n");
		return 1;
	}
	long n = recv_cm(r, &cb, sizeof(cb.buf), &msg, &from);
	struct in6_pktinfo pi = { 0 };
	int hl = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
			memcpy(&hl, CMSG_DATA(c), sizeof(hl));
	}
	char s[INET6_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET6, &pi.ipi6_addr, s, sizeof(s));
	printf("pktinfo n=%ld addr=%s ifindex=%u eth0=%u hoplimit=%d\n", n, s, pi.ipi6_ifindex, if_nametoindex("eth0"), hl);
	return n > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	if (argc == 3 && !strcmp(argv[1], "recv6"))
		return recv6_main((uint16_t)atoi(argv[2]));
	test_ipv4();
	test_ipv6();
	test_raw4();
	return t_finish();
}
