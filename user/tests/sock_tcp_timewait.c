/* A client that reuses its port while the server's side of the previous connection is still in
 * TIME_WAIT (the server closed first): the new SYN must open a new connection, as on Linux, not
 * be answered with a reset (connect: ECONNREFUSED) or with the old connection's ACK (connect
 * hangs until TIME_WAIT ends). netperf's TCP_CRR reuses ports this way; it failed with "Connection
 * refused" now and then inside Ember. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"

#define ROUNDS 20
#define CONNECT_MS 3000

static int bound_socket(uint16_t port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

/* connect within CONNECT_MS: 0, or the errno */
static int connect_timed(int s, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	fcntl(s, F_SETFL, O_NONBLOCK);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	struct pollfd p = { .fd = s, .events = POLLOUT };
	if (poll(&p, 1, CONNECT_MS) != 1)
		return ETIMEDOUT;
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

int main(void)
{
	int l = bound_socket(0);
	CHECK("listener", l >= 0 && listen(l, 8) == 0, "errno %d", errno);
	struct sockaddr_in la;
	socklen_t lalen = sizeof(la);
	getsockname(l, (struct sockaddr *)&la, &lalen);
	uint16_t lport = ntohs(la.sin_port);

	/* the client's port: one the kernel hands out, then bound again every round */
	int c = bound_socket(0);
	struct sockaddr_in ca;
	socklen_t calen = sizeof(ca);
	getsockname(c, (struct sockaddr *)&ca, &calen);
	uint16_t cport = ntohs(ca.sin_port);
	close(c);

	int ok = 0, refused = 0, timedout = 0, other = 0, exchanged = 0;
	for (int i = 0; i < ROUNDS; i++) {
		c = bound_socket(cport);
		if (c < 0) {
			other++;
			continue;
		}
		int e = connect_timed(c, lport);
		if (e == 0) {
			ok++;
			int a = accept(l, NULL, NULL);
			char b = 'x';
			fcntl(c, F_SETFL, 0);
			if (a >= 0 && write(c, &b, 1) == 1 && read(a, &b, 1) == 1 && write(a, &b, 1) == 1 &&
			    read(c, &b, 1) == 1)
				exchanged++;
			if (a >= 0)
				close(a);        /* the server closes first: its side goes to TIME_WAIT */
			usleep(10000);
			close(c);
			usleep(10000);
		} else {
			close(c);
			if (e == ECONNREFUSED)
				refused++;
			else if (e == ETIMEDOUT)
				timedout++;
			else
				other++;
		}
	}
	CHECK("every reconnect from the same port succeeds", ok == ROUNDS,
	      "%d of %d connected, %d refused, %d timed out, %d other errors", ok, ROUNDS, refused, timedout, other);
	CHECK("... and carries data", exchanged == ok, "%d of %d exchanged a byte", exchanged, ok);
	close(l);
	return t_finish();
}
