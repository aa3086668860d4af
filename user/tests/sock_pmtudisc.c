/*
 * Path MTU discovery options of UDP sockets, against Linux:
 *   - IP_MTU_DISCOVER (AF_INET and AF_INET6 sockets) and IPV6_MTU_DISCOVER (AF_INET6) read
 *     IP_PMTUDISC_WANT by default, take each of DONT, WANT, DO, PROBE, INTERFACE, OMIT (0..5) and
 *     read it back; -1 and 6 are EINVAL; IPV6_MTU_DISCOVER on an AF_INET socket is ENOPROTOOPT
 *   - IP_MTU / IPV6_MTU: ENOTCONN on an unconnected socket, lo's MTU (65536) once connected to
 *     127.0.0.1 / ::1; setting IP_MTU is ENOPROTOOPT
 *   - IP_PMTUDISC_DO over lo: the largest datagram (65507 bytes) still goes (lo's MTU is above it)
 * With "wire ADDR PORT" it sends, over a 1500-byte link to a host, one datagram per mode (payload
 * "mode=M len=N ..."): WANT / DONT / DO / PROBE / INTERFACE / OMIT with 1472 bytes (a full 1500-byte
 * packet), then DO 1473 (EMSGSIZE, and IP_RECVERR's local error with ee_info 1500) and WANT 1473
 * (sent, fragmented); tests/system/test_ipv6_sock.py checks the DF bits that arrive.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdlib.h>
#include "sockutil.h"
#include <linux/errqueue.h>

static const char *const mode_names[] = { "dont", "want", "do", "probe", "interface", "omit" };
#define NMODES 6

static int geti(int fd, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);
	*v = -12345;
	return getsockopt(fd, level, name, v, &len);
}

static void modes(const char *fam, int fd, int level, int name)
{
	char t[96];
	int v;
	snprintf(t, sizeof(t), "%s default WANT", fam);
	CHECK(t, geti(fd, level, name, &v) == 0 && v == IP_PMTUDISC_WANT, "got %d errno %d", v, errno);
	for (int m = 0; m < NMODES; m++) {
		snprintf(t, sizeof(t), "%s set %s", fam, mode_names[m]);
		int r = setsockopt(fd, level, name, &m, sizeof(m));
		int r2 = geti(fd, level, name, &v);
		CHECK(t, r == 0 && r2 == 0 && v == m, "set %d get %d value %d errno %d", r, r2, v, errno);
	}
	int bad[] = { -1, 6 };
	for (int i = 0; i < 2; i++) {
		snprintf(t, sizeof(t), "%s set %d EINVAL", fam, bad[i]);
		EXPECT(t, setsockopt(fd, level, name, &bad[i], sizeof(int)), EINVAL);
	}
	snprintf(t, sizeof(t), "%s keeps the last good mode", fam);
	CHECK(t, geti(fd, level, name, &v) == 0 && v == IP_PMTUDISC_OMIT, "got %d", v);
}

static void lo_tests(void)
{
	int v;
	int s4 = socket(AF_INET, SOCK_DGRAM, 0);
	modes("IP_MTU_DISCOVER", s4, SOL_IP, IP_MTU_DISCOVER);
	/* qemu-user does not pass IP_MTU on (ENOPROTOOPT from qemu itself): Linux's answers are known */
	bool qemu_no_ip_mtu = !running_in_ember() && geti(s4, SOL_IP, IP_MTU, &v) < 0 && errno == ENOPROTOOPT;
	if (qemu_no_ip_mtu)
		SKIP("IP_MTU unconnected ENOTCONN", "qemu-user does not translate IP_MTU");
	else
		EXPECT("IP_MTU unconnected ENOTCONN", geti(s4, SOL_IP, IP_MTU, &v), ENOTCONN);
	int one = 1400;
	EXPECT("IP_MTU set ENOPROTOOPT", setsockopt(s4, SOL_IP, IP_MTU, &one, sizeof(one)), ENOPROTOOPT);
	EXPECT("IPV6_MTU_DISCOVER on AF_INET ENOPROTOOPT",
	       setsockopt(s4, SOL_IPV6, IPV6_MTU_DISCOVER, &one, sizeof(one)), ENOPROTOOPT);
	uint16_t port = 0;
	int rx = bound_socket(SOCK_DGRAM, &port);
	struct sockaddr_in to = lo_addr(port);
	CHECK("connect 127.0.0.1", connect(s4, (struct sockaddr *)&to, sizeof(to)) == 0, "errno %d", errno);
	int r = geti(s4, SOL_IP, IP_MTU, &v);
	if (qemu_no_ip_mtu)
		SKIP("IP_MTU connected to lo", "qemu-user does not translate IP_MTU");
	else
		CHECK("IP_MTU connected to lo", r == 0 && v == 65536, "r %d mtu %d errno %d", r, v, errno);
	int m = IP_PMTUDISC_DO;
	setsockopt(s4, SOL_IP, IP_MTU_DISCOVER, &m, sizeof(m));
	static char big[65507];
	CHECK("DO: 65507 bytes over lo", send(s4, big, sizeof(big), 0) == (long)sizeof(big), "errno %d", errno);
	CHECK("DO: received over lo", recv(rx, big, sizeof(big), 0) == (long)sizeof(big), "errno %d", errno);
	close(rx);
	close(s4);

	int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK("AF_INET6 IP_MTU_DISCOVER default WANT", geti(s6, SOL_IP, IP_MTU_DISCOVER, &v) == 0 && v == 1,
	      "got %d errno %d", v, errno);
	modes("IPV6_MTU_DISCOVER", s6, SOL_IPV6, IPV6_MTU_DISCOVER);
	EXPECT("IPV6_MTU unconnected ENOTCONN", geti(s6, SOL_IPV6, IPV6_MTU, &v), ENOTCONN);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT, .sin6_port = htons(9) };
	CHECK("connect ::1", connect(s6, (struct sockaddr *)&a6, sizeof(a6)) == 0, "errno %d", errno);
	r = geti(s6, SOL_IPV6, IPV6_MTU, &v);
	CHECK("IPV6_MTU connected to ::1", r == 0 && v == 65536, "r %d mtu %d errno %d", r, v, errno);
	close(s6);
}

/* One datagram of len bytes in mode m to `to`; its payload names both. */
static long send_mode(int fd, const struct sockaddr_in *to, int m, size_t len)
{
	static char buf[2048];
	memset(buf, '.', sizeof(buf));
	int n = snprintf(buf, sizeof(buf), "mode=%s len=%zu ", mode_names[m], len);
	buf[n] = '.';
	setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &m, sizeof(m));
	errno = 0;
	return sendto(fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to));
}

static void wire(const char *addr, int port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, addr, &to.sin_addr);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1;
	setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
	char t[64];
	for (int m = 0; m < NMODES; m++) {
		snprintf(t, sizeof(t), "wire %s 1472", mode_names[m]);
		long r = send_mode(fd, &to, m, 1472);
		CHECK(t, r == 1472, "sent %ld errno %d", r, errno);
		sleep_ms(20);
	}
	long r = send_mode(fd, &to, IP_PMTUDISC_DO, 1473);
	CHECK("wire do 1473 EMSGSIZE", r == -1 && errno == EMSGSIZE, "sent %ld errno %d", r, errno);
	char cb[256], d[64];
	struct iovec iv = { d, sizeof(d) };
	struct msghdr mh = { .msg_iov = &iv, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof(cb) };
	r = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
	struct cmsghdr *c = r >= 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	struct sock_extended_err ee = { 0 };
	if (c)
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
	CHECK("wire do 1473 local error", c && c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR &&
	      ee.ee_errno == EMSGSIZE && ee.ee_origin == SO_EE_ORIGIN_LOCAL && ee.ee_info == 1500,
	      "r %ld errno %d ee errno %u origin %u info %u", r, errno, ee.ee_errno, ee.ee_origin, ee.ee_info);
	r = send_mode(fd, &to, IP_PMTUDISC_WANT, 1473);
	CHECK("wire want 1473 fragmented", r == 1473, "sent %ld errno %d", r, errno);
	close(fd);
}

int main(int argc, char **argv)
{
	start_watchdog(60);
	if (argc == 4 && !strcmp(argv[1], "wire"))
		wire(argv[2], atoi(argv[3]));
	else
		lo_tests();
	return t_finish();
}
