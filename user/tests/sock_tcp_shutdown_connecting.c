/* shutdown() of a TCP socket whose connect() is still in progress (SYN sent, nothing answered):
 * Linux's inet_shutdown disconnects the attempt, whatever `how` says. shutdown returns 0, the
 * socket reports ECONNRESET (SO_ERROR, or the failing connect() of a thread blocked in it), poll
 * shows POLLHUP and POLLERR, and the SYN is not sent again: the listener never sees it.
 *
 * The attempt is held in SYN_SENT deterministically: the listener's accept queue is full (backlog
 * 0 holds one connection), and both kernels drop a SYN that finds it full (the client retries). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define HOLD_MS 150          /* the attempt stays in progress this long before shutdown */

static struct sockaddr_in addr;

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A listener on loopback with backlog 0 and one connection filling its accept queue. */
static int full_listener(int *filler)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t alen = sizeof(addr);
	addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(l, (struct sockaddr *)&addr, &alen) < 0 || listen(l, 0) < 0)
		return -1;
	*filler = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*filler, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -1;
	msleep(50);                      /* the handshake's last ACK reaches the listener */
	return l;
}

static int so_error(int fd)
{
	int e = -1;
	socklen_t len = sizeof(e);
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 ? -1 : e;
}

/* The listener holds exactly the filler: one accept succeeds, the next finds nothing. */
static void check_only_filler(const char *what, int l)
{
	struct pollfd p = { .fd = l, .events = POLLIN };
	int a = poll(&p, 1, 1000) == 1 ? accept(l, NULL, NULL) : -1;
	CHECK(what, a >= 0, "the filler connection was not accepted (errno %d)", errno);
	if (a >= 0)
		close(a);
	/* the shut-down attempt's SYN must not be sent again (its first retry is due at 1 s) */
	p.revents = 0;
	int n = poll(&p, 1, 1500);
	CHECK("no connection from the abandoned attempt", n == 0, "poll %d revents %#x", n, p.revents);
	if (n > 0) {
		a = accept(l, NULL, NULL);
		if (a >= 0)
			close(a);
	}
}

static void nonblocking_case(int how, const char *name)
{
	int filler, l = full_listener(&filler);
	if (l < 0) {
		FAIL(name, "set-up failed: %s", strerror(errno));
		return;
	}
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(c, (struct sockaddr *)&addr, sizeof(addr));
	CHECK("connect in progress", r < 0 && errno == EINPROGRESS, "r %d errno %d", r, errno);
	msleep(HOLD_MS);
	struct pollfd p = { .fd = c, .events = POLLOUT };
	CHECK("still in progress (SYN dropped by the full queue)", poll(&p, 1, 0) == 0, "revents %#x", p.revents);
	r = shutdown(c, how);
	CHECK(name, r == 0, "shutdown gave %d errno %d (Linux disconnects the attempt)", r, errno);
	p = (struct pollfd){ .fd = c, .events = POLLIN | POLLOUT };
	poll(&p, 1, 1000);
	CHECK("POLLHUP and POLLERR after it", (p.revents & (POLLHUP | POLLERR)) == (POLLHUP | POLLERR),
	      "revents %#x", p.revents);
	int e = so_error(c);
	CHECK("SO_ERROR is ECONNRESET", e == ECONNRESET, "SO_ERROR %d", e);
	CHECK("SO_ERROR is cleared by reading it", so_error(c) == 0, "second SO_ERROR %d", so_error(c));
	r = shutdown(c, SHUT_RDWR);
	CHECK("a second shutdown: ENOTCONN", r < 0 && errno == ENOTCONN, "r %d errno %d", r, errno);
	close(c);
	check_only_filler("filler accepted", l);
	close(filler);
	close(l);
}

struct blocked {
	int fd, r, err;
};

static void *blocked_connect(void *arg)
{
	struct blocked *b = arg;
	b->r = connect(b->fd, (struct sockaddr *)&addr, sizeof(addr));
	b->err = errno;
	return NULL;
}

static void blocking_case(void)
{
	int filler, l = full_listener(&filler);
	if (l < 0) {
		FAIL("blocking case set-up", "%s", strerror(errno));
		return;
	}
	struct blocked b = { .fd = socket(AF_INET, SOCK_STREAM, 0), .r = 1 };
	pthread_t t;
	pthread_create(&t, NULL, blocked_connect, &b);
	msleep(HOLD_MS);
	int r = shutdown(b.fd, SHUT_WR);
	CHECK("shutdown(SHUT_WR) of a connect blocked in another thread", r == 0, "r %d errno %d", r, errno);
	pthread_join(t, NULL);
	CHECK("the blocked connect fails with ECONNRESET", b.r < 0 && b.err == ECONNRESET,
	      "connect gave %d errno %d", b.r, b.err);
	close(b.fd);
	check_only_filler("filler accepted (blocking case)", l);
	close(filler);
	close(l);
}

int main(void)
{
	nonblocking_case(SHUT_RDWR, "shutdown(SHUT_RDWR) of a connecting socket returns 0");
	nonblocking_case(SHUT_RD, "shutdown(SHUT_RD) of a connecting socket returns 0");
	blocking_case();
	return t_finish();
}
