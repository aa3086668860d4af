/* connect() again on a TCP socket whose connection attempt failed. Linux turns such a socket
 * back into an unconnected one once connect() has reported the failure (inet_stream_connect's
 * sock_error path, then tcp_disconnect): a blocking connect that failed can simply be called
 * again; after a non-blocking attempt failed, the next connect() reports the failure (the pending
 * error, or ECONNABORTED once SO_ERROR took it) and the one after that starts a new attempt.
 * A port the user bound explicitly stays the socket's port. A socket that connect() reported
 * connected stays so after a reset: connect() gives EISCONN. But a non-blocking connect whose
 * success was only seen through poll and SO_ERROR (iperf3's and curl's way) was never reported by
 * connect(): after a reset, connect() reports the reset and the socket may connect again. Both
 * families (IPv4 on 127.0.0.1 and IPv6 on ::1). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"

#define POLL_MS 3000

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

static void loopback(int family, struct addr *a, unsigned short port)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;
		s->sin_family = AF_INET;
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->sin_port = htons(port);
		a->len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->ss;
		s->sin6_family = AF_INET6;
		s->sin6_addr = in6addr_loopback;
		s->sin6_port = htons(port);
		a->len = sizeof(*s);
	}
}

static unsigned short port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static unsigned short local_port(int s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	return getsockname(s, (struct sockaddr *)&ss, &len) < 0 ? 0 : port_of(&ss);
}

/* A port nobody listens on: a listener's, closed (a listener leaves no TIME_WAIT behind). */
static unsigned short free_port(int family)
{
	struct addr a;
	loopback(family, &a, 0);
	int l = socket(family, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a.ss, a.len) < 0 || listen(l, 1) < 0)
		return 0;
	unsigned short p = local_port(l);
	close(l);
	return p;
}

static int listen_on(int family, unsigned short port)
{
	struct addr a;
	loopback(family, &a, port);
	int l = socket(family, SOCK_STREAM, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a.ss, a.len) < 0 || listen(l, 4) < 0) {
		if (l >= 0)
			close(l);
		return -1;
	}
	return l;
}

static int try_connect(int s, int family, unsigned short port)
{
	struct addr a;
	loopback(family, &a, port);
	return connect(s, (struct sockaddr *)&a.ss, a.len) < 0 ? errno : 0;
}

/* accept(), bounded: a connection that never arrived fails the check instead of hanging. */
static int accept_within(int l)
{
	struct pollfd p = { .fd = l, .events = POLLIN };
	return poll(&p, 1, POLL_MS) == 1 ? accept(l, NULL, NULL) : -1;
}

/* The connection s made is accepted at l and carries bytes both ways. */
static int works(int s, int l)
{
	int c = accept_within(l);
	if (c < 0)
		return 0;
	char b[8] = { 0 };
	struct pollfd in = { .fd = s, .events = POLLIN };   /* s may be non-blocking */
	int ok = send(s, "ping", 4, 0) == 4 && recv(c, b, 4, MSG_WAITALL) == 4 && !memcmp(b, "ping", 4) &&
		 send(c, "pong", 4, 0) == 4 && poll(&in, 1, POLL_MS) == 1 && recv(s, b, 4, MSG_WAITALL) == 4 &&
		 !memcmp(b, "pong", 4);
	close(c);
	return ok;
}

static int wait_out(int s, short *revents)
{
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int n = poll(&p, 1, POLL_MS);
	*revents = p.revents;
	return n;
}

static int so_error(int s)
{
	int e = -1;
	socklen_t len = sizeof(e);
	return getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len) < 0 ? -errno : e;
}

static const char *fam(int family) { return family == AF_INET ? "v4" : "v6"; }

static void blocking(int family)
{
	char n[120];
	unsigned short p = free_port(family);
	int s = socket(family, SOCK_STREAM, 0);
	int e = try_connect(s, family, p);
	snprintf(n, sizeof(n), "%s blocking: connect to a closed port is refused", fam(family));
	CHECK(n, e == ECONNREFUSED, "got %s", strerror(e));
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	e = getpeername(s, (struct sockaddr *)&peer, &plen) < 0 ? errno : 0;
	snprintf(n, sizeof(n), "%s blocking: getpeername after the failure is ENOTCONN", fam(family));
	CHECK(n, e == ENOTCONN, "got %s", strerror(e));
	e = try_connect(s, family, p);
	snprintf(n, sizeof(n), "%s blocking: a second refused connect is refused again", fam(family));
	CHECK(n, e == ECONNREFUSED, "got %s", strerror(e));
	int l = listen_on(family, p);
	e = try_connect(s, family, p);
	snprintf(n, sizeof(n), "%s blocking: connect again once a listener is there", fam(family));
	CHECK(n, l >= 0 && e == 0, "listener %d, connect: %s", l, strerror(e));
	snprintf(n, sizeof(n), "%s blocking: the new connection carries data", fam(family));
	CHECK(n, e == 0 && works(s, l), "%s", strerror(errno));
	plen = sizeof(peer);
	e = getpeername(s, (struct sockaddr *)&peer, &plen) < 0 ? errno : 0;
	snprintf(n, sizeof(n), "%s blocking: getpeername gives the listener's port", fam(family));
	CHECK(n, e == 0 && port_of(&peer) == p, "%s, port %u", strerror(e), e ? 0 : port_of(&peer));
	close(s);
	close(l);
}

/* consume: take the failure with SO_ERROR first (connect then says ECONNABORTED) or not (connect
 * reports the pending ECONNREFUSED itself). */
static void nonblocking(int family, int consume)
{
	char n[120];
	const char *how = consume ? "SO_ERROR taken" : "error left pending";
	unsigned short p = free_port(family);
	int s = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int e = try_connect(s, family, p);
	short rev = 0;
	int pr = wait_out(s, &rev);
	snprintf(n, sizeof(n), "%s non-blocking (%s): the attempt fails with POLLERR", fam(family), how);
	CHECK(n, (e == EINPROGRESS || e == ECONNREFUSED) && pr == 1 && (rev & POLLERR), "connect %s, poll %d revents %#x",
	      strerror(e), pr, rev);
	if (consume) {
		int se = so_error(s);
		snprintf(n, sizeof(n), "%s non-blocking (%s): SO_ERROR is ECONNREFUSED", fam(family), how);
		CHECK(n, e == ECONNREFUSED || se == ECONNREFUSED, "SO_ERROR %d", se);
	}
	int l = listen_on(family, p);
	if (e == EINPROGRESS) {
		e = try_connect(s, family, p);
		int want = consume ? ECONNABORTED : ECONNREFUSED;
		snprintf(n, sizeof(n), "%s non-blocking (%s): the next connect reports the failure (%s)", fam(family), how,
			 strerror(want));
		CHECK(n, e == want, "got %s", strerror(e));
	}
	int started = try_connect(s, family, p);
	pr = wait_out(s, &rev);
	snprintf(n, sizeof(n), "%s non-blocking (%s): then a new attempt connects", fam(family), how);
	CHECK(n, l >= 0 && (started == EINPROGRESS || started == 0) && pr == 1 && !(rev & POLLERR) && so_error(s) == 0,
	      "listener %d, connect %s, poll %d revents %#x", l, strerror(started), pr, rev);
	/* an attempt that was in progress reports its success once (Linux: SS_CONNECTING) */
	int e1 = try_connect(s, family, p);
	e = try_connect(s, family, p);
	snprintf(n, sizeof(n), "%s non-blocking (%s): connect reports success once, then EISCONN", fam(family), how);
	CHECK(n, (started == 0 ? e1 == EISCONN : e1 == 0) && e == EISCONN, "got %s, then %s", strerror(e1), strerror(e));
	struct pollfd in = { .fd = s, .events = POLLIN };
	snprintf(n, sizeof(n), "%s non-blocking (%s): the new connection carries data", fam(family), how);
	int ok = 0;
	int c = accept_within(l);
	if (c >= 0) {
		char b[4];
		ok = send(s, "ping", 4, 0) == 4 && recv(c, b, 4, MSG_WAITALL) == 4 && !memcmp(b, "ping", 4) &&
		     send(c, "pong", 4, 0) == 4 && poll(&in, 1, POLL_MS) == 1 && recv(s, b, 4, 0) == 4 && !memcmp(b, "pong", 4);
		close(c);
	}
	CHECK(n, ok, "%s", strerror(errno));
	close(s);
	close(l);
}

/* A port bound explicitly stays: the new attempt leaves from it. */
static void bound_port(int family)
{
	char n[120];
	unsigned short p = free_port(family), mine = free_port(family);
	struct addr me;
	loopback(family, &me, mine);
	int s = socket(family, SOCK_STREAM, 0);
	int b = bind(s, (struct sockaddr *)&me.ss, me.len);
	int e = try_connect(s, family, p);
	snprintf(n, sizeof(n), "%s bound: the refused socket keeps its bound port", fam(family));
	CHECK(n, b == 0 && e == ECONNREFUSED && local_port(s) == mine, "bind %d, connect %s, port %u (bound %u)", b,
	      strerror(e), local_port(s), mine);
	int l = listen_on(family, p);
	e = try_connect(s, family, p);
	snprintf(n, sizeof(n), "%s bound: the new connection leaves from the bound port", fam(family));
	CHECK(n, l >= 0 && e == 0 && local_port(s) == mine && works(s, l), "connect %s, port %u (bound %u)", strerror(e),
	      local_port(s), mine);
	close(s);
	close(l);
}

/* Accept s's connection at l and reset it (SO_LINGER 0); then wait until s hears of it.
 * Returns the accepted socket (closed) or -1, and s's poll revents in *rev. */
static int accept_and_reset(int l, int s, short *rev)
{
	int c = accept_within(l);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);                                  /* RST */
	struct pollfd in = { .fd = s, .events = POLLIN };
	poll(&in, 1, POLL_MS);
	*rev = in.revents;
	return c;
}

/* An established connection that the peer reset: the socket is not unconnected (EISCONN). */
static void reset_established(int family)
{
	char n[120];
	unsigned short p = free_port(family);
	int l = listen_on(family, p);
	int s = socket(family, SOCK_STREAM, 0);
	int e = try_connect(s, family, p);
	short rev;
	accept_and_reset(l, s, &rev);
	char b;
	int r = recv(s, &b, 1, 0) < 0 ? errno : 0;
	snprintf(n, sizeof(n), "%s reset: the peer's reset is ECONNRESET", fam(family));
	CHECK(n, e == 0 && r == ECONNRESET, "connect %s, recv %s", strerror(e), strerror(r));
	e = try_connect(s, family, p);
	snprintf(n, sizeof(n), "%s reset: connect on the reset connection is EISCONN", fam(family));
	CHECK(n, e == EISCONN, "got %s", strerror(e));
	close(s);
	close(l);
}

/* Connected through poll and SO_ERROR only, then reset: connect() reports ECONNRESET (Linux's
 * socket was still SS_CONNECTING), after which the socket connects again. */
/* A listener on a free port and a non-blocking socket connecting to it, waited for with poll. */
struct attempt {
	unsigned short p;
	int l, s, e, pr;
	short rev;
};

static void attempt_nonblocking(int family, struct attempt *a)
{
	a->p = free_port(family);
	a->l = listen_on(family, a->p);
	a->s = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a->e = try_connect(a->s, family, a->p);
	a->rev = 0;
	a->pr = wait_out(a->s, &a->rev);
}

static void reset_unreported(int family)
{
	char n[120];
	struct attempt a;
	attempt_nonblocking(family, &a);
	int se = so_error(a.s);
	short rrev;
	int c = accept_and_reset(a.l, a.s, &rrev);
	snprintf(n, sizeof(n), "%s unreported: connected through poll and SO_ERROR, then reset", fam(family));
	CHECK(n, (a.e == EINPROGRESS || a.e == 0) && a.pr == 1 && se == 0 && c >= 0 && (rrev & (POLLERR | POLLHUP)),
	      "connect %s, poll %d, SO_ERROR %d, accept %d, revents %#x", strerror(a.e), a.pr, se, c, rrev);
	a.e = try_connect(a.s, family, a.p);
	snprintf(n, sizeof(n), "%s unreported: connect reports the reset", fam(family));
	CHECK(n, a.e == ECONNRESET, "got %s", strerror(a.e));
	a.e = try_connect(a.s, family, a.p);
	a.pr = wait_out(a.s, &a.rev);
	snprintf(n, sizeof(n), "%s unreported: then the socket connects again", fam(family));
	CHECK(n, (a.e == EINPROGRESS || a.e == 0) && a.pr == 1 && so_error(a.s) == 0 && works(a.s, a.l), "connect %s, poll %d revents %#x",
	      strerror(a.e), a.pr, a.rev);
	close(a.s);
	close(a.l);
}

/* As above, but the peer sent bytes nobody read before its reset: connect() reporting the reset
 * purges them (Linux's tcp_disconnect), so the next connection reads only its own bytes. */
static void reset_unreported_unread(int family)
{
	char n[120];
	struct attempt a;
	attempt_nonblocking(family, &a);
	int c = accept_within(a.l);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int sent = c >= 0 ? (int)send(c, "stale", 5, 0) : -1;
	struct pollfd in = { .fd = a.s, .events = POLLIN };
	int got_data = poll(&in, 1, POLL_MS) == 1 && recv(a.s, (char[1]){ 0 }, 1, MSG_PEEK) == 1;
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);                                  /* RST, "stale" still unread */
	for (int i = 0; i < POLL_MS / 10; i++) {   /* until the reset is there */
		in.revents = 0;
		if (poll(&in, 1, 10) == 1 && (in.revents & (POLLERR | POLLHUP)))
			break;
	}
	snprintf(n, sizeof(n), "%s unread: bytes arrived, then the reset", fam(family));
	CHECK(n, (a.e == EINPROGRESS || a.e == 0) && a.pr == 1 && sent == 5 && got_data && (in.revents & (POLLERR | POLLHUP)),
	      "connect %s, poll %d, sent %d, data %d, revents %#x", strerror(a.e), a.pr, sent, got_data, in.revents);
	a.e = try_connect(a.s, family, a.p);
	snprintf(n, sizeof(n), "%s unread: connect reports the reset", fam(family));
	CHECK(n, a.e == ECONNRESET, "got %s", strerror(a.e));
	a.e = try_connect(a.s, family, a.p);
	a.pr = wait_out(a.s, &a.rev);
	int c2 = accept_within(a.l);
	char b[8] = { 0 };
	int r = recv(a.s, b, sizeof(b), MSG_DONTWAIT) < 0 ? errno : 0;
	snprintf(n, sizeof(n), "%s unread: the new connection has nothing to read yet", fam(family));
	CHECK(n, (a.e == EINPROGRESS || a.e == 0) && a.pr == 1 && c2 >= 0 && r == EAGAIN, "connect %s, poll %d, accept %d, recv %s (%.5s)",
	      strerror(a.e), a.pr, c2, strerror(r), b);
	in.revents = 0;
	int k = c2 >= 0 && send(c2, "fresh", 5, 0) == 5 && poll(&in, 1, POLL_MS) == 1 ? (int)recv(a.s, b, sizeof(b), 0) : -1;
	snprintf(n, sizeof(n), "%s unread: it reads only its own bytes", fam(family));
	CHECK(n, k == 5 && !memcmp(b, "fresh", 5), "recv %d (%.5s)", k, b);
	if (c2 >= 0)
		close(c2);
	close(a.s);
	close(a.l);
}

int main(void)
{
	const int families[] = { AF_INET, AF_INET6 };
	for (int i = 0; i < 2; i++) {
		blocking(families[i]);
		nonblocking(families[i], 1);
		nonblocking(families[i], 0);
		bound_port(families[i]);
		reset_established(families[i]);
		reset_unreported(families[i]);
		reset_unreported_unread(families[i]);
	}
	return t_finish();
}
