/* Connect, request, response, close, over and over (netperf's TCP_CRR): a server thread in a
 * blocking accept()/recv()/send()/close() loop, a client connecting for each transaction. No step
 * may stall: every transaction must finish within STALL_MS. Like netperf, the client binds each
 * connection to the next port of a range with SO_REUSEADDR, and goes over the range twice, so new
 * connections meet both ends' TIME_WAIT remains of the previous pass. Inside Ember a TCP_CRR run
 * now and then took 5 s for a 1 s test: one connection got stuck until netserver's own timer
 * ended it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define ROUNDS 400
#define PORTS (ROUNDS / 2)             /* each client port is used twice */
#define MSG 64
#define STALL_MS 1500

static int listener;
static uint16_t port;
static volatile int served;

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int full(int fd, char *buf, int n, int rd)
{
	int done = 0;
	while (done < n) {
		ssize_t r = rd ? recv(fd, buf + done, (size_t)(n - done), 0) : send(fd, buf + done, (size_t)(n - done), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (int)r;
	}
	return 0;
}

static void *server(void *arg)
{
	(void)arg;
	char buf[MSG];
	for (;;) {
		int s = accept(listener, NULL, NULL);
		if (s < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (full(s, buf, MSG, 1) == 0 && full(s, buf, MSG, 0) == 0)
			served++;
		close(s);
	}
}

int main(void)
{
	listener = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int ok = listener >= 0 && bind(listener, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		 getsockname(listener, (struct sockaddr *)&a, &alen) == 0 && listen(listener, 128) == 0;
	CHECK("listener", ok, "%s", strerror(errno));
	if (!ok)
		return t_finish();
	port = ntohs(a.sin_port);
	pthread_t th;
	pthread_create(&th, NULL, server, NULL);

	uint16_t base = (uint16_t)(20000 + (getpid() % 200) * 200);
	int done = 0, failed = 0, host_skips = 0;
	long long worst = 0;
	const char *stage = "";
	char req[MSG], resp[MSG];
	memset(req, 'q', sizeof(req));
	for (int i = 0; i < ROUNDS && !failed; i++) {
		long long t0 = now_ms();
		int c = socket(AF_INET, SOCK_STREAM, 0);
		struct timeval tv = { .tv_sec = STALL_MS / 1000 * 2, .tv_usec = 0 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		int one = 1;
		setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* bound to the port only, as netperf does (its -L not given): odd rounds to 127.0.0.1 */
		struct sockaddr_in me = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(i & 1 ? INADDR_LOOPBACK : INADDR_ANY),
					  .sin_port = htons((uint16_t)(base + i % PORTS)) };
		stage = "bind";
		int br = bind(c, (struct sockaddr *)&me, sizeof(me));
		int cr = br < 0 ? -1 : (stage = "connect", connect(c, (struct sockaddr *)&a, sizeof(a)));
		if (cr < 0 && getpid() != 1 && (errno == EADDRINUSE || errno == EADDRNOTAVAIL)) {
			/* on a shared host another program may hold the port, or a TIME_WAIT of it
			 * too young for Linux to reuse: take the next round's port, as netperf does
			 * (inside Ember, pid 1, the ports are ours and each must work) */
			close(c);
			host_skips++;
			continue;
		}
		if (cr < 0) {
			failed = 1;
		} else {
			stage = "request";
			if (full(c, req, MSG, 0) < 0) {
				failed = 1;
			} else {
				stage = "response";
				if (full(c, resp, MSG, 1) < 0)
					failed = 1;
			}
		}
		int err = errno;
		close(c);
		long long t = now_ms() - t0;
		if (t > worst)
			worst = t;
		if (failed) {
			FAIL("transactions", "round %d: %s failed after %lld ms: %s (server served %d)", i, stage, t,
			     strerror(err), served);
			break;
		}
		if (t > STALL_MS) {
			FAIL("transactions", "round %d took %lld ms (server served %d)", i, t, served);
			failed = 1;
			break;
		}
		done++;
	}
	if (!failed)
		PASS("transactions");
	CHECK("every round served", done + host_skips == ROUNDS && host_skips < ROUNDS / 4,
	      "%d of %d, %d ports in use elsewhere (worst %lld ms)", done, ROUNDS, host_skips, worst);
	printf("worst transaction %lld ms\n", worst);
	int r = t_finish();
	_exit(r);             /* the server thread is blocked in accept */
}
