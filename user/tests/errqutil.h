/* Helpers shared by the error-queue and control-message tests (sock_errq_cmsg.c,
 * sock_raw_recverr.c, sock_recverr.c, sock_send_cmsg.c): a closed loopback port to provoke ICMP
 * errors, waiting for one, raw ICMP sockets (skipped where the host's Linux wants CAP_NET_RAW),
 * the Internet checksum for forged packets, and one recvmsg(MSG_ERRQUEUE) with what its last
 * control message (the IP_RECVERR / IPV6_RECVERR one) says. */
#ifndef USER_TESTS_ERRQUTIL_H
#define USER_TESTS_ERRQUTIL_H
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include "sockutil.h"
#include <linux/errqueue.h>

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

#define ERRQ_WAIT_MS 2000
#define ERRQ_CONTROL 1024           /* room for every control message an error read brings */

/* A closed port on the family's loopback address (127.0.0.1 or ::1): bound once, then closed. */
static inline uint16_t dead_port(int family)
{
	int t = socket(family, SOCK_DGRAM, 0);
	struct sockaddr_storage a;
	memset(&a, 0, sizeof(a));
	a.ss_family = (sa_family_t)family;
	socklen_t l = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if (family == AF_INET)
		((struct sockaddr_in *)&a)->sin_addr.s_addr = LOOPBACK;
	else
		((struct sockaddr_in6 *)&a)->sin6_addr = in6addr_loopback;
	bind(t, (struct sockaddr *)&a, l);
	getsockname(t, (struct sockaddr *)&a, &l);
	close(t);
	return ntohs(family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port : ((struct sockaddr_in6 *)&a)->sin6_port);
}

/* Wait up to ERRQ_WAIT_MS for fd to have something to report: poll's revents (0: nothing came). */
static inline int wait_err(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	long t0 = now_ms();
	while (poll(&p, 1, 0) == 0 && now_ms() - t0 < ERRQ_WAIT_MS)
		sleep_ms(5);
	return p.revents;
}

/* A raw ICMP (AF_INET) or ICMPv6 (AF_INET6) socket; -1 with a SKIP line for name where this host's
 * Linux wants CAP_NET_RAW (inside Ember it must work: -1 is then a failure for the caller). */
static inline int raw_socket(int family, const char *name)
{
	int r = socket(family, SOCK_RAW, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (r < 0 && !running_in_ember() && (errno == EPERM || errno == EACCES)) {
		SKIP(name, "raw sockets need CAP_NET_RAW on this host");
		return -1;
	}
	return r;
}

/* The Internet checksum of n bytes, in network order (RFC 1071). */
static inline uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

#define FORGED_ECHO_LEN 12          /* a forged error's quoted echo request: its header and "ping" */
#define FORGED4_LEN (8 + 20 + FORGED_ECHO_LEN)

/* The quoted echo request of a forged error: type (ICMP_ECHO or ICMP6_ECHO_REQUEST), identifier
 * ident, sequence 1, "ping"; its checksum is left to the caller. echo: FORGED_ECHO_LEN zeroed bytes. */
static inline void forge_echo(uint8_t *echo, int type, uint16_t ident)
{
	echo[0] = (uint8_t)type;
	echo[4] = (uint8_t)(ident >> 8);
	echo[5] = (uint8_t)ident;
	echo[7] = 1;
	memcpy(echo + 8, "ping", 4);
}

/* Fill pkt (FORGED4_LEN bytes) with an ICMP error type/code quoting an IPv4 packet src -> dst
 * (network order) of protocol proto whose first bytes are an echo request with identifier
 * ident and "ping", checksums filled in: the quoted echo (inside pkt). */
static inline uint8_t *forge_icmp4_error(uint8_t *pkt, int type, int code, int proto, uint32_t src, uint32_t dst,
					 uint16_t ident)
{
	memset(pkt, 0, FORGED4_LEN);
	pkt[0] = (uint8_t)type;
	pkt[1] = (uint8_t)code;
	struct iphdr *ih = (struct iphdr *)(pkt + 8);
	ih->version = 4;
	ih->ihl = 5;
	ih->tot_len = htons(20 + FORGED_ECHO_LEN);
	ih->ttl = 64;
	ih->protocol = (uint8_t)proto;
	ih->saddr = src;
	ih->daddr = dst;
	ih->check = csum(ih, 20);
	uint8_t *echo = pkt + 28;
	forge_echo(echo, ICMP_ECHO, ident);
	uint16_t s = csum(echo, FORGED_ECHO_LEN);
	memcpy(echo + 2, &s, 2);
	s = csum(pkt, FORGED4_LEN);
	memcpy(pkt + 2, &s, 2);
	return echo;
}

/* One error-queue read: the message header (walk m's control messages with CMSG_FIRSTHDR), its
 * data vector and control buffer. */
struct errq_msg {
	struct msghdr m;
	struct iovec iv;
	union {
		char buf[ERRQ_CONTROL];
		struct cmsghdr align;
	} cb;
};

/* recvmsg(fd, MSG_ERRQUEUE | MSG_DONTWAIT) into data (len bytes), the name into name (namelen
 * bytes): its result, errno cleared first (set by a failure). */
static inline long errq_recv(int fd, struct errq_msg *x, void *name, socklen_t namelen, void *data, size_t len)
{
	x->iv = (struct iovec){ data, len };
	x->m = (struct msghdr){ .msg_name = name, .msg_namelen = namelen, .msg_iov = &x->iv, .msg_iovlen = 1,
				.msg_control = x->cb.buf, .msg_controllen = sizeof(x->cb.buf) };
	errno = 0;
	return recvmsg(fd, &x->m, MSG_ERRQUEUE | MSG_DONTWAIT);
}

/* What an error read says besides its bytes and names: msg_flags, how many control messages came,
 * and the last one's level, type, cmsg_len, sock_extended_err. A test's own record of a read
 * embeds these fields with ERRQ_LAST_FIELDS in an anonymous union with `struct errq_last last`,
 * so its checks name them directly (e.ncmsg, e.ee.ee_errno). */
#define ERRQ_LAST_FIELDS                                                                                \
	int flags, ncmsg, level, type;                                                                  \
	size_t cmsg_len;                                                                                \
	struct sock_extended_err ee;
struct errq_last {
	ERRQ_LAST_FIELDS
};

/* One error read: data (len bytes), the name (*namelen bytes of room in, its length out), the
 * offender address after the last control message's extended error (up to offlen bytes) and
 * *l. recvmsg's result (errno set by a failure; then only *l is touched, zeroed). */
static inline long errq_read_one(int fd, struct errq_last *l, void *name, socklen_t *namelen, void *data, size_t len,
				 void *offender, size_t offlen)
{
	struct errq_msg x;
	memset(l, 0, sizeof(*l));
	long n = errq_recv(fd, &x, name, *namelen, data, len);
	if (n < 0)
		return n;
	l->flags = x.m.msg_flags;
	*namelen = x.m.msg_namelen;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&x.m); c; c = CMSG_NXTHDR(&x.m, c)) {
		l->ncmsg++;
		l->level = c->cmsg_level;
		l->type = c->cmsg_type;
		l->cmsg_len = c->cmsg_len;
		memcpy(&l->ee, CMSG_DATA(c), sizeof(l->ee));
		size_t rest = c->cmsg_len > CMSG_LEN(sizeof(l->ee)) ? c->cmsg_len - CMSG_LEN(sizeof(l->ee)) : 0;
		memcpy(offender, CMSG_DATA(c) + sizeof(l->ee), MIN(rest, offlen));
	}
	return n;
}

#endif
