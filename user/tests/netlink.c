/*
 * AF_NETLINK / NETLINK_ROUTE as Linux answers it: socket and bind rules (port ids), the link,
 * address and route dumps (seq and port echoed, NLM_F_MULTI, NLMSG_DONE), one link by index with
 * NLM_F_ACK, NLMSG_ERROR for a missing interface, datagram semantics (MSG_PEEK|MSG_TRUNC sizing,
 * EAGAIN when drained), and what libc builds on it: getifaddrs and if_nameindex. The answers are
 * the running kernel's interfaces (the host's under qemu-user), so the checks are about lo, which
 * both have, and about the dump agreeing with /proc/net/dev.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"

#define BUF 65536

static uint8_t buf[BUF];
static size_t buflen;
static uint32_t seqno = 100;

/* Send one request (type, flags, payload) and read replies until NLMSG_DONE, an NLMSG_ERROR, or
 * (not a dump) the first answer, gathering every message into buf. The number of datagrams read,
 * or -errno of the send. */
static int request(int fd, uint16_t type, uint16_t flags, const void *payload, size_t plen, uint32_t *seq_out)
{
	struct { struct nlmsghdr h; uint8_t p[256]; } req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(plen);
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | flags;
	req.h.nlmsg_seq = ++seqno;
	memcpy(req.p, payload, plen);
	*seq_out = seqno;
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&k, sizeof(k)) < 0)
		return -errno;
	buflen = 0;
	int dgrams = 0;
	bool dump = (flags & NLM_F_DUMP) == NLM_F_DUMP, ack = flags & NLM_F_ACK;
	for (;;) {
		ssize_t n = recv(fd, buf + buflen, BUF - buflen, 0);
		if (n <= 0)
			return dgrams;
		dgrams++;
		bool end = false;
		int left = (int)n;
		for (struct nlmsghdr *h = (void *)(buf + buflen); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR || (!dump && !ack))
				end = true;
		buflen += (size_t)n;
		if (end)
			return dgrams;
	}
}

#define FOR_EACH_MSG(h) for (struct nlmsghdr *h = (void *)buf; (uint8_t *)h < buf + buflen && \
	NLMSG_OK(h, (size_t)(buf + buflen - (uint8_t *)h)); h = (void *)((uint8_t *)h + NLMSG_ALIGN(h->nlmsg_len)))

static const struct rtattr *attr(const struct nlmsghdr *h, size_t hdr, int type)
{
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(hdr);
	for (const struct rtattr *a = (const void *)((const uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr)); RTA_OK(a, len);
	     a = RTA_NEXT(a, len))
		if (a->rta_type == type)
			return a;
	return NULL;
}

static int proc_net_dev_count(void)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strchr(line, ':'))
			n++;
	if (f)
		fclose(f);
	return n;
}

int main(void)
{
	errno = 0;
	int bad = socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE);
	CHECK("stream_type_is_ESOCKTNOSUPPORT", bad < 0 && errno == ESOCKTNOSUPPORT, "fd=%d errno=%d", bad, errno);
	errno = 0;
	bad = socket(AF_NETLINK, SOCK_RAW, 31);
	CHECK("unknown_protocol_is_EPROTONOSUPPORT", bad < 0 && errno == EPROTONOSUPPORT, "fd=%d errno=%d", bad, errno);

	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	CHECK("socket", fd >= 0, "errno=%d", errno);
	if (fd < 0)
		return t_finish();
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	CHECK("bind_autobinds", bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0, "errno=%d", errno);
	socklen_t ml = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &ml);
	CHECK("first_port_id_is_the_pid", me.nl_family == AF_NETLINK && me.nl_pid == (uint32_t)getpid() && ml == sizeof(me),
	      "family %d pid %u (getpid %d) len %u", me.nl_family, me.nl_pid, getpid(), ml);
	int fd2 = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
	struct sockaddr_nl me2 = { .nl_family = AF_NETLINK };
	bind(fd2, (struct sockaddr *)&me2, sizeof(me2));
	ml = sizeof(me2);
	getsockname(fd2, (struct sockaddr *)&me2, &ml);
	CHECK("second_port_id_differs", me2.nl_pid != 0 && me2.nl_pid != me.nl_pid, "%u vs %u", me2.nl_pid, me.nl_pid);
	int fd3 = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct sockaddr_nl taken = { .nl_family = AF_NETLINK, .nl_pid = me.nl_pid };
	errno = 0;
	CHECK("taken_port_id_is_EADDRINUSE", bind(fd3, (struct sockaddr *)&taken, sizeof(taken)) < 0 && errno == EADDRINUSE,
	      "errno=%d", errno);
	close(fd3);
	close(fd2);

	/* links */
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	uint32_t seq;
	int dg = request(fd, RTM_GETLINK, NLM_F_DUMP, &g, sizeof(g), &seq);
	int links = 0, lo_index = 0, bad_hdr = 0, done = 0;
	FOR_EACH_MSG(h) {
		if (h->nlmsg_seq != seq || h->nlmsg_pid != me.nl_pid)
			bad_hdr++;
		if (h->nlmsg_type == NLMSG_DONE)
			done++;
		if (h->nlmsg_type != RTM_NEWLINK)
			continue;
		if (!(h->nlmsg_flags & NLM_F_MULTI))
			bad_hdr++;
		links++;
		struct ifinfomsg *ifi = NLMSG_DATA(h);
		const struct rtattr *name = attr(h, sizeof(*ifi), IFLA_IFNAME);
		if (name && !strcmp(RTA_DATA(name), "lo") && (ifi->ifi_flags & IFF_LOOPBACK) && ifi->ifi_type == 772)
			lo_index = ifi->ifi_index;
	}
	CHECK("link_dump_ends_with_done", dg > 0 && done == 1, "datagrams %d done %d", dg, done);
	CHECK("link_dump_echoes_seq_and_port", bad_hdr == 0, "%d bad headers", bad_hdr);
	CHECK("link_dump_has_lo", lo_index > 0 && lo_index == (int)if_nametoindex("lo"), "lo index %d", lo_index);
	CHECK("link_dump_matches_proc_net_dev", links == proc_net_dev_count(), "%d links, /proc/net/dev %d", links,
	      proc_net_dev_count());

	/* one link by index, with an acknowledgement */
	struct ifinfomsg one = { .ifi_family = AF_UNSPEC, .ifi_index = lo_index };
	request(fd, RTM_GETLINK, NLM_F_ACK, &one, sizeof(one), &seq);
	int got_link = 0, acks = 0;
	FOR_EACH_MSG(h) {
		if (h->nlmsg_type == RTM_NEWLINK && !(h->nlmsg_flags & NLM_F_MULTI)) {
			const struct rtattr *mtu = attr(h, sizeof(struct ifinfomsg), IFLA_MTU);
			if (mtu && *(uint32_t *)RTA_DATA(mtu) > 0)
				got_link++;
		}
		if (h->nlmsg_type == NLMSG_ERROR && ((struct nlmsgerr *)NLMSG_DATA(h))->error == 0 &&
		    ((struct nlmsgerr *)NLMSG_DATA(h))->msg.nlmsg_seq == seq)
			acks++;
	}
	if (acks == 0 && got_link == 1) {               /* the ack may come in its own datagram */
		ssize_t n = recv(fd, buf, BUF, MSG_DONTWAIT);
		struct nlmsghdr *h = (void *)buf;
		if (n > 0 && h->nlmsg_type == NLMSG_ERROR && ((struct nlmsgerr *)NLMSG_DATA(h))->error == 0)
			acks++;
	}
	CHECK("get_one_link_with_ack", got_link == 1 && acks == 1, "links %d acks %d", got_link, acks);

	struct ifinfomsg none = { .ifi_family = AF_UNSPEC, .ifi_index = 99999 };
	request(fd, RTM_GETLINK, 0, &none, sizeof(none), &seq);
	struct nlmsghdr *eh = (void *)buf;
	struct nlmsgerr *err = NLMSG_DATA(eh);
	CHECK("missing_link_is_ENODEV", buflen >= NLMSG_LENGTH(sizeof(*err)) && eh->nlmsg_type == NLMSG_ERROR &&
	      err->error == -ENODEV && err->msg.nlmsg_seq == seq && err->msg.nlmsg_type == RTM_GETLINK,
	      "type %d error %d", eh->nlmsg_type, err->error);

	/* an unknown type: EOPNOTSUPP (qemu-user already refuses it at send) */
	int r = request(fd, 0x7f0, 0, &g, sizeof(g), &seq);
	CHECK("unknown_type_is_EOPNOTSUPP", r == -EOPNOTSUPP || (r > 0 && eh->nlmsg_type == NLMSG_ERROR &&
	      err->error == -EOPNOTSUPP), "r=%d type %d error %d", r, eh->nlmsg_type, err->error);

	/* addresses: lo's 127.0.0.1/8, scope host */
	struct ifaddrmsg a4 = { .ifa_family = AF_INET };
	request(fd, RTM_GETADDR, NLM_F_DUMP, &a4, sizeof(a4), &seq);
	int lo_addr = 0, other_family = 0;
	done = 0;
	FOR_EACH_MSG(h) {
		if (h->nlmsg_type == NLMSG_DONE)
			done++;
		if (h->nlmsg_type != RTM_NEWADDR)
			continue;
		struct ifaddrmsg *ifa = NLMSG_DATA(h);
		if (ifa->ifa_family != AF_INET)
			other_family++;
		const struct rtattr *local = attr(h, sizeof(*ifa), IFA_LOCAL);
		if (local && *(uint32_t *)RTA_DATA(local) == htonl(INADDR_LOOPBACK) && ifa->ifa_prefixlen == 8 &&
		    ifa->ifa_scope == RT_SCOPE_HOST && (int)ifa->ifa_index == lo_index)
			lo_addr++;
	}
	CHECK("addr_dump_has_127.0.0.1/8_on_lo", lo_addr == 1 && done == 1, "lo %d done %d", lo_addr, done);
	CHECK("addr_dump_keeps_to_the_family", other_family == 0, "%d others", other_family);

	/* routes: a dump of AF_INET routes, each one AF_INET */
	struct rtmsg rt = { .rtm_family = AF_INET };
	request(fd, RTM_GETROUTE, NLM_F_DUMP, &rt, sizeof(rt), &seq);
	int routes = 0, bad_route = 0;
	done = 0;
	FOR_EACH_MSG(h) {
		if (h->nlmsg_type == NLMSG_DONE)
			done++;
		else if (h->nlmsg_type == RTM_NEWROUTE && ((struct rtmsg *)NLMSG_DATA(h))->rtm_family == AF_INET)
			routes++;
		else
			bad_route++;
	}
	CHECK("route_dump", done == 1 && bad_route == 0, "routes %d bad %d done %d", routes, bad_route, done);

	/* datagram semantics: the next datagram's size without reading it, then EAGAIN when drained */
	struct nlmsghdr q = { .nlmsg_len = NLMSG_LENGTH(sizeof(g)), .nlmsg_type = RTM_GETLINK,
			      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = ++seqno };
	struct { struct nlmsghdr h; struct rtgenmsg g; } qq = { q, g };
	send(fd, &qq, sizeof(qq), 0);
	ssize_t peek = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	ssize_t got = recv(fd, buf, BUF, 0);
	CHECK("peek_trunc_gives_the_datagram_size", peek > 0 && peek == got, "peek %zd got %zd", peek, got);
	while (recv(fd, buf, BUF, MSG_DONTWAIT) > 0)
		;
	errno = 0;
	CHECK("drained_is_EAGAIN", recv(fd, buf, BUF, MSG_DONTWAIT) < 0 && errno == EAGAIN, "errno=%d", errno);
	close(fd);

	/* what libc builds on it */
	struct ifaddrs *ifs = NULL;
	int lo_seen = 0;
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
			if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, "lo") &&
			    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
				lo_seen++;
		freeifaddrs(ifs);
	}
	CHECK("getifaddrs_sees_lo", lo_seen == 1, "%d", lo_seen);
	struct if_nameindex *ni = if_nameindex();
	int ni_lo = 0, ni_count = 0;
	for (struct if_nameindex *p = ni; p && p->if_index; p++, ni_count++)
		if (!strcmp(p->if_name, "lo") && (int)p->if_index == lo_index)
			ni_lo++;
	if (ni)
		if_freenameindex(ni);
	CHECK("if_nameindex_agrees", ni_lo == 1 && ni_count == links, "lo %d count %d links %d", ni_lo, ni_count, links);
	return t_finish();
}
