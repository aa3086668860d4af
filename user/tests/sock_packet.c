/*
 * AF_PACKET sockets on lo:
 *   - getsockname before and after bind (protocol kept when bind gives 0; lo's index, hardware
 *     type ARPHRD_LOOPBACK and 6-byte zero address once bound)
 *   - a UDP datagram over 127.0.0.1 seen by a SOCK_RAW ETH_P_ALL socket twice, outgoing
 *     (PACKET_OUTGOING) then arriving (PACKET_HOST), as whole frames with zero MACs and ethertype
 *     0x0800, sockaddr_ll filled in (family, protocol, ifindex, hatype, halen, source address);
 *     a SOCK_DGRAM ETH_P_IP socket sees it once (only what arrives), without the Ethernet header
 *   - frames sent on lo: a 22-byte SOCK_RAW frame comes back as 22 bytes (lo does not pad); the
 *     sender does not see its own outgoing copy; a SOCK_DGRAM send gets its header built from
 *     sll_addr, the device's address and sll_protocol
 *   - FIONREAD (the next frame's size), MSG_TRUNC (the real length), MSG_PEEK, poll
 *   - errors: ENODEV (bind to an unknown index), EINVAL (short sockaddr_ll, short frame, MSG_OOB),
 *     ENXIO (send with no device), EOPNOTSUPP (shutdown, connect, getpeername),
 *     ESOCKTNOSUPPORT (SOCK_STREAM), EFAULT (bad send and receive buffers)
 *   - PACKET_STATISTICS counts frames and drops past a small SO_RCVBUF (Ember only: qemu-user
 *     does not pass SOL_PACKET options on)
 * Frames are recognized by their payload, so other traffic on the host's lo does no harm.
 */
#define _GNU_SOURCE
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include "sockutil.h"

#define ETH_P_EXPERIMENTAL 0x88b5
#define ARPHRD_LOOPBACK_T 772

static unsigned char buf[70000];
static const unsigned char zero_mac[6];

static int lo_index(void)
{
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	strcpy(r.ifr_name, "lo");
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int rc = ioctl(fd, SIOCGIFINDEX, &r);
	close(fd);
	return rc == 0 ? r.ifr_ifindex : -1;
}

static struct sockaddr_ll ll_addr(int ifindex, uint16_t proto)
{
	struct sockaddr_ll a;
	memset(&a, 0, sizeof(a));
	a.sll_family = AF_PACKET;
	a.sll_ifindex = ifindex;
	a.sll_protocol = htons(proto);
	a.sll_halen = 6;
	return a;
}

/* Receive frames until one contains needle (within ms): its length, or -1; *from is its address. */
static long recv_with(int fd, const void *needle, size_t nlen, struct sockaddr_ll *from, socklen_t *flen, int ms)
{
	long deadline = now_ms() + ms;
	for (;;) {
		long left = deadline - now_ms();
		struct pollfd p = { fd, POLLIN, 0 };
		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return -1;
		*flen = sizeof(*from);
		memset(from, 0, sizeof(*from));
		long n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)from, flen);
		if (n > 0 && memmem(buf, (size_t)n, needle, nlen))
			return n;
	}
}

static bool lo_sll(const struct sockaddr_ll *a, socklen_t len, int lo, uint16_t proto, int pkttype)
{
	return len == sizeof(*a) && a->sll_family == AF_PACKET && a->sll_protocol == htons(proto) && a->sll_ifindex == lo &&
	       a->sll_hatype == ARPHRD_LOOPBACK_T && a->sll_pkttype == pkttype && a->sll_halen == 6 &&
	       !memcmp(a->sll_addr, zero_mac, 6);
}

static void test_names(int lo)
{
	int ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	struct sockaddr_ll a;
	socklen_t len = sizeof(a);
	memset(&a, 0xff, sizeof(a));
	int r = getsockname(ps, (struct sockaddr *)&a, &len);
	CHECK("packet_unbound_name", r == 0 && len == 12 && a.sll_family == AF_PACKET && a.sll_protocol == htons(ETH_P_ALL) &&
	      a.sll_ifindex == 0 && a.sll_halen == 0 && a.sll_hatype == 0, "r=%d len=%u proto=%#x if=%d halen=%d", r, len,
	      ntohs(a.sll_protocol), a.sll_ifindex, a.sll_halen);
	struct sockaddr_ll b = ll_addr(lo, 0);
	b.sll_protocol = 0;                    /* keep the socket's protocol */
	r = bind(ps, (struct sockaddr *)&b, sizeof(b));
	len = sizeof(a);
	memset(&a, 0xff, sizeof(a));
	int r2 = getsockname(ps, (struct sockaddr *)&a, &len);
	CHECK("packet_bound_name", r == 0 && r2 == 0 && len == 18 && a.sll_protocol == htons(ETH_P_ALL) && a.sll_ifindex == lo &&
	      a.sll_hatype == ARPHRD_LOOPBACK_T && a.sll_halen == 6 && !memcmp(a.sll_addr, zero_mac, 6), "r=%d/%d len=%u if=%d hatype=%d",
	      r, r2, len, a.sll_ifindex, a.sll_hatype);
	close(ps);
}

static void test_capture_udp(int lo)
{
	int ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	int pd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	struct sockaddr_ll b = ll_addr(lo, ETH_P_ALL);
	int r1 = bind(ps, (struct sockaddr *)&b, sizeof(b));
	b = ll_addr(lo, ETH_P_IP);
	int r2 = bind(pd, (struct sockaddr *)&b, sizeof(b));
	CHECK("packet_bind_lo", r1 == 0 && r2 == 0, "r=%d/%d errno=%d", r1, r2, errno);

	uint16_t port = 0;
	int rx = bound_socket(SOCK_DGRAM, &port), tx = socket(AF_INET, SOCK_DGRAM, 0);
	char payload[32];
	int plen = snprintf(payload, sizeof(payload), "capture-me-%d", getpid());
	struct sockaddr_in to = lo_addr(port);
	long n = sendto(tx, payload, plen, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("packet_udp_sent", n == plen, "n=%ld errno=%d", n, errno);
	size_t want = 14 + 20 + 8 + (size_t)plen;

	struct sockaddr_ll from;
	socklen_t flen;
	long f1 = recv_with(ps, payload, plen, &from, &flen, 2000);
	CHECK("packet_raw_sees_outgoing", f1 == (long)want && lo_sll(&from, flen, lo, ETH_P_IP, PACKET_OUTGOING),
	      "n=%ld flen=%u proto=%#x if=%d hatype=%d pkttype=%d", f1, flen, ntohs(from.sll_protocol), from.sll_ifindex,
	      from.sll_hatype, from.sll_pkttype);
	CHECK("packet_lo_frame_header", f1 == (long)want && !memcmp(buf, zero_mac, 6) && !memcmp(buf + 6, zero_mac, 6) &&
	      buf[12] == 0x08 && buf[13] == 0x00 && buf[14] == 0x45 && buf[14 + 9] == IPPROTO_UDP, "n=%ld type=%02x%02x", f1,
	      buf[12], buf[13]);
	long f2 = recv_with(ps, payload, plen, &from, &flen, 2000);
	CHECK("packet_raw_sees_incoming", f2 == (long)want && lo_sll(&from, flen, lo, ETH_P_IP, PACKET_HOST),
	      "n=%ld pkttype=%d", f2, from.sll_pkttype);

	long d1 = recv_with(pd, payload, plen, &from, &flen, 2000);
	CHECK("packet_dgram_no_ethernet_header", d1 == (long)want - 14 && buf[0] == 0x45 &&
	      lo_sll(&from, flen, lo, ETH_P_IP, PACKET_HOST), "n=%ld first=%#x pkttype=%d", d1, buf[0], from.sll_pkttype);
	/* one protocol, not ETH_P_ALL: the outgoing copy never came */
	sleep_ms(50);
	long d2 = recv_with(pd, payload, plen, &from, &flen, 100);
	CHECK("packet_dgram_only_incoming", d2 == -1, "n=%ld pkttype=%d", d2, from.sll_pkttype);
	char in[64];
	n = recv(rx, in, sizeof(in), MSG_DONTWAIT);
	CHECK("packet_udp_received", n == plen, "n=%ld errno=%d", n, errno);
	close(rx);
	close(tx);
	close(ps);
	close(pd);
}

static void test_send(int lo)
{
	int pe = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_EXPERIMENTAL));
	int ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	struct sockaddr_ll b = ll_addr(lo, ETH_P_EXPERIMENTAL);
	bind(pe, (struct sockaddr *)&b, sizeof(b));
	b = ll_addr(lo, ETH_P_ALL);
	bind(ps, (struct sockaddr *)&b, sizeof(b));

	unsigned char frame[22] = { 0 };
	char tag[16];
	snprintf(tag, sizeof(tag), "rf%06d", getpid() % 1000000);
	frame[12] = ETH_P_EXPERIMENTAL >> 8;
	frame[13] = ETH_P_EXPERIMENTAL & 0xff;
	memcpy(frame + 14, tag, 8);
	struct sockaddr_ll to = ll_addr(lo, ETH_P_EXPERIMENTAL);
	long n = sendto(pe, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("packet_raw_send", n == (long)sizeof(frame), "n=%ld errno=%d", n, errno);
	struct sockaddr_ll from;
	socklen_t flen;
	long a = recv_with(ps, tag, 8, &from, &flen, 2000);
	int pk1 = from.sll_pkttype;
	long c = recv_with(ps, tag, 8, &from, &flen, 2000);
	CHECK("packet_send_seen_out_and_in", a == 22 && c == 22 && pk1 == PACKET_OUTGOING && from.sll_pkttype == PACKET_HOST &&
	      from.sll_protocol == htons(ETH_P_EXPERIMENTAL), "n=%ld/%ld pkttype %d/%d", a, c, pk1, from.sll_pkttype);
	long s1 = recv_with(pe, tag, 8, &from, &flen, 2000);
	CHECK("packet_sender_gets_looped_frame_unpadded", s1 == 22 && !memcmp(buf, frame, 22) && from.sll_pkttype == PACKET_HOST,
	      "n=%ld pkttype=%d", s1, from.sll_pkttype);
	long s2 = recv_with(pe, tag, 8, &from, &flen, 100);
	CHECK("packet_sender_skips_own_outgoing", s2 == -1, "n=%ld pkttype=%d", s2, from.sll_pkttype);

	/* SOCK_DGRAM: the kernel builds the header */
	int pd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_EXPERIMENTAL));
	char msg[24];
	int mlen = snprintf(msg, sizeof(msg), "dg%06d-payload", getpid() % 1000000);
	n = sendto(pd, msg, mlen, 0, (struct sockaddr *)&to, sizeof(to));
	long g = recv_with(pe, msg, mlen, &from, &flen, 2000);
	CHECK("packet_dgram_send_builds_header", n == mlen && g == 14 + mlen && !memcmp(buf, zero_mac, 6) &&
	      !memcmp(buf + 6, zero_mac, 6) && buf[12] == 0x88 && buf[13] == 0xb5 && !memcmp(buf + 14, msg, mlen),
	      "n=%ld got=%ld", n, g);

	/* FIONREAD, MSG_PEEK, MSG_TRUNC */
	sendto(pe, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to));
	struct pollfd p = { pe, POLLIN | POLLOUT, 0 };
	int r = poll(&p, 1, 2000);
	CHECK("packet_poll_pollin", r == 1 && p.revents == (POLLIN | POLLOUT), "r=%d revents=%#x", r, p.revents);
	int v = -1;
	r = ioctl(pe, FIONREAD, &v);
	CHECK("packet_fionread", r == 0 && v == 22, "r=%d v=%d", r, v);
	n = recv(pe, buf, 4, MSG_PEEK | MSG_TRUNC);
	long m = recv(pe, buf, sizeof(buf), 0);
	CHECK("packet_peek_trunc", n == 22 && m == 22, "peek=%ld recv=%ld", n, m);
	close(pd);
	close(pe);
	close(ps);
}

static void test_errors(int lo)
{
	int ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_EXPERIMENTAL));
	struct sockaddr_ll a = ll_addr(999, ETH_P_EXPERIMENTAL);
	EXPECT("packet_bind_unknown_index_enodev", bind(ps, (struct sockaddr *)&a, sizeof(a)), ENODEV);
	EXPECT("packet_bind_short_einval", bind(ps, (struct sockaddr *)&a, sizeof(a) - 1), EINVAL);
	unsigned char frame[64] = { 0 };
	EXPECT("packet_send_unbound_enxio", send(ps, frame, sizeof(frame), 0), ENXIO);
	EXPECT("packet_sendto_unknown_index_enxio", sendto(ps, frame, sizeof(frame), 0, (struct sockaddr *)&a, sizeof(a)), ENXIO);
	a = ll_addr(lo, ETH_P_EXPERIMENTAL);
	EXPECT("packet_short_frame_einval", sendto(ps, frame, 10, 0, (struct sockaddr *)&a, sizeof(a)), EINVAL);
	EXPECT("packet_shutdown_eopnotsupp", shutdown(ps, SHUT_RDWR), EOPNOTSUPP);
	EXPECT("packet_connect_eopnotsupp", connect(ps, (struct sockaddr *)&a, sizeof(a)), EOPNOTSUPP);
	socklen_t len = sizeof(a);
	EXPECT("packet_getpeername_eopnotsupp", getpeername(ps, (struct sockaddr *)&a, &len), EOPNOTSUPP);
	EXPECT("packet_recv_oob_einval", recv(ps, frame, sizeof(frame), MSG_OOB | MSG_DONTWAIT), EINVAL);
	EXPECT("packet_recv_empty_eagain", recv(ps, frame, sizeof(frame), MSG_DONTWAIT), EAGAIN);
	EXPECT("packet_send_bad_buffer_efault", sendto(ps, BAD_PTR, 64, 0, (struct sockaddr *)&a, sizeof(a)), EFAULT);
	struct sockaddr_ll me = ll_addr(lo, ETH_P_EXPERIMENTAL);
	bind(ps, (struct sockaddr *)&me, sizeof(me));
	frame[12] = ETH_P_EXPERIMENTAL >> 8;
	frame[13] = ETH_P_EXPERIMENTAL & 0xff;
	sendto(ps, frame, sizeof(frame), 0, (struct sockaddr *)&a, sizeof(a));
	struct pollfd p = { ps, POLLIN, 0 };
	poll(&p, 1, 2000);
	EXPECT("packet_recv_bad_buffer_efault", recv(ps, BAD_PTR, sizeof(frame), 0), EFAULT);
	EXPECT("packet_stream_esocktnosupport", socket(AF_PACKET, SOCK_STREAM, 0), ESOCKTNOSUPPORT);
	close(ps);
}

/* SO_RCVBUF bounds the queue; PACKET_STATISTICS reports frames and drops since its last call. */
static void test_statistics(int lo)
{
	if (!running_in_ember()) {
		SKIP("packet_statistics", "qemu-user does not pass SOL_PACKET options on");
		return;
	}
	int pe = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_EXPERIMENTAL));
	int small = 1;
	setsockopt(pe, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_ll a = ll_addr(lo, ETH_P_EXPERIMENTAL);
	bind(pe, (struct sockaddr *)&a, sizeof(a));
	struct tpacket_stats st;
	socklen_t len = sizeof(st);
	getsockopt(pe, SOL_PACKET, PACKET_STATISTICS, &st, &len);          /* reset */
	int tx = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_EXPERIMENTAL));
	static unsigned char frame[1000];
	frame[12] = ETH_P_EXPERIMENTAL >> 8;
	frame[13] = ETH_P_EXPERIMENTAL & 0xff;
	int sent = 0;
	for (int i = 0; i < 20; i++)
		sent += sendto(tx, frame, sizeof(frame), 0, (struct sockaddr *)&a, sizeof(a)) == (long)sizeof(frame);
	int queued = 0;
	while (recv(pe, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		queued++;
	len = sizeof(st);
	memset(&st, 0, sizeof(st));
	int r = getsockopt(pe, SOL_PACKET, PACKET_STATISTICS, &st, &len);
	CHECK("packet_statistics_drops", r == 0 && len == sizeof(st) && sent == 20 && st.tp_packets == 20 &&
	      st.tp_drops == (unsigned)(20 - queued) && queued >= 1 && queued < 20, "r=%d sent=%d queued=%d packets=%u drops=%u",
	      r, sent, queued, st.tp_packets, st.tp_drops);
	len = sizeof(st);
	r = getsockopt(pe, SOL_PACKET, PACKET_STATISTICS, &st, &len);
	CHECK("packet_statistics_reset_on_read", r == 0 && st.tp_packets == 0 && st.tp_drops == 0, "packets=%u drops=%u",
	      st.tp_packets, st.tp_drops);
	close(tx);
	close(pe);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	int probe = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (probe < 0 && !running_in_ember() && (errno == EPERM || errno == EACCES)) {
		SKIP("packet_sockets", "AF_PACKET needs CAP_NET_RAW on this host");
		return t_finish();
	}
	CHECK("packet_socket", probe >= 0, "errno=%d", errno);
	close(probe);
	int lo = lo_index();
	CHECK("packet_lo_index", lo > 0, "lo=%d errno=%d", lo, errno);
	test_names(lo);
	test_capture_udp(lo);
	test_send(lo);
	test_errors(lo);
	test_statistics(lo);
	return t_finish();
}
