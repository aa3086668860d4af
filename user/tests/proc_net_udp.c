/*
 * /proc/net/udp in Linux's format (net/ipv4/udp.c udp4_format_sock): the header and every line
 * padded to 127 characters, a bound socket's line (local address as the network-order word the
 * CPU prints, 127.0.0.1 -> 0100007F, port in hex, remote 00000000:0000, state 07, its inode), a
 * connected one (state 01, the peer's address and port), rx_queue counting an unread datagram,
 * and IPv6 sockets kept out (they are in /proc/net/udp6).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"

#define LINE_WIDTH 127
#define LO_PROC "0100007F"

struct udp_line {
	char local[64], remote[64];
	unsigned st, txq, rxq;
	unsigned long ino;
};

static bool header_ok, widths_ok;

/* the line whose local address is local (and remote, if given), or false */
static bool find_line(const char *local, const char *remote, struct udp_line *out)
{
	FILE *f = fopen("/proc/net/udp", "r");
	char line[512];
	bool found = false;
	if (!f)
		return false;
	header_ok = widths_ok = true;
	char want[256];
	snprintf(want, sizeof(want), "%-*s\n", LINE_WIDTH, "   sl  local_address rem_address   st tx_queue rx_queue tr "
		 "tm->when retrnsmt   uid  timeout inode ref pointer drops");
	if (!fgets(line, sizeof(line), f) || strcmp(line, want))
		header_ok = false;
	while (fgets(line, sizeof(line), f)) {
		if (strlen(line) != LINE_WIDTH + 1)
			widths_ok = false;
		struct udp_line u;
		int sl, tr, timeout, ref;
		unsigned retr, uid;
		unsigned long when;
		if (sscanf(line, "%d: %63s %63s %x %x:%x %x:%lx %x %u %d %lu %d", &sl, u.local, u.remote, &u.st, &u.txq,
			   &u.rxq, &tr, &when, &retr, &uid, &timeout, &u.ino, &ref) != 13)
			continue;
		if (!found && !strcmp(u.local, local) && (!remote || !strcmp(u.remote, remote))) {
			*out = u;
			found = true;
		}
	}
	fclose(f);
	return found;
}

static unsigned long ino_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &al);
	unsigned port = ntohs(a.sin_port);
	char local[64], remote[64];
	snprintf(local, sizeof(local), LO_PROC ":%04X", port);
	struct udp_line u;
	bool found = find_line(local, NULL, &u);
	CHECK("header_in_linux_format", header_ok, "header differs");
	CHECK("lines_padded_to_127", widths_ok, "a line of another width");
	CHECK("bound_socket_listed", found && !strcmp(u.remote, "00000000:0000") && u.st == 0x07,
	      "found %d remote %s st %x", found, found ? u.remote : "-", found ? u.st : 0);
	CHECK("bound_socket_inode", found && u.ino == ino_of(s), "ino %lu want %lu", found ? u.ino : 0, ino_of(s));
	CHECK("bound_socket_empty_queues", found && u.rxq == 0 && u.txq == 0, "rxq %x txq %x", u.rxq, u.txq);

	int c = socket(AF_INET, SOCK_DGRAM, 0);
	connect(c, (struct sockaddr *)&a, sizeof(a));
	struct sockaddr_in ca;
	socklen_t cl = sizeof(ca);
	getsockname(c, (struct sockaddr *)&ca, &cl);
	char clocal[64];
	snprintf(clocal, sizeof(clocal), LO_PROC ":%04X", ntohs(ca.sin_port));
	snprintf(remote, sizeof(remote), LO_PROC ":%04X", port);
	found = find_line(clocal, remote, &u);
	CHECK("connected_socket_established", found && u.st == 0x01 && u.ino == ino_of(c), "found %d st %x",
	      found, found ? u.st : 0);

	send(c, "0123456789", 10, 0);
	usleep(100 * 1000);
	found = find_line(local, NULL, &u);
	CHECK("unread_datagram_in_rx_queue", found && u.rxq > 0, "rxq %x", found ? u.rxq : 0);

	int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t al6 = sizeof(a6);
	bind(s6, (struct sockaddr *)&a6, sizeof(a6));
	getsockname(s6, (struct sockaddr *)&a6, &al6);
	FILE *f = fopen("/proc/net/udp", "r");
	char line[512];
	bool v6_listed = false;
	unsigned long ino6 = ino_of(s6);
	while (f && fgets(line, sizeof(line), f)) {
		struct udp_line x;
		int sl;
		if (sscanf(line, "%d: %63s %63s %x %x:%x %*x:%*x %*x %*u %*d %lu", &sl, x.local, x.remote, &x.st, &x.txq,
			   &x.rxq, &x.ino) == 7 && x.ino == ino6)
			v6_listed = true;
	}
	if (f)
		fclose(f);
	CHECK("ipv6_socket_not_in_udp", f && !v6_listed, "listed");
	close(s6);
	close(c);
	close(s);
	return t_finish();
}
