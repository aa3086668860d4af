/*
 * A full receive window reopens however the reader reads. A writer sends 8 MiB over loopback TCP
 * while the reader first reads nothing (the window and the send buffer fill, the writer blocks),
 * then reads in small pieces (1 to 4 KiB) or, in the second round, in single bytes for a while
 * first. Every byte must arrive, in order, and the writer must finish: the kernel hands consumed
 * window back to the sender in batches (Ember: net/sock_tcp.c), so a batch that never filled
 * would leave both sides waiting. An alarm turns such a hang into a failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define TOTAL (8 << 20)             /* bytes per round */
#define FILL_MS 300                 /* the reader's idle start: long enough to fill the window */
#define BYTEWISE 20000              /* round 2: the first bytes read one at a time */
#define ALARM_S 120

static uint8_t pattern(size_t i) { return (uint8_t)(i * 131 + (i >> 13)); }

struct writer { int fd; long sent; int err; };

static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	uint8_t buf[65536];
	size_t off = 0;
	while (off < TOTAL) {
		size_t n = TOTAL - off < sizeof(buf) ? TOTAL - off : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + i);
		ssize_t r = write(w->fd, buf, n);
		if (r <= 0) {
			w->err = errno;
			break;
		}
		off += (size_t)r;
	}
	w->sent = (long)off;
	close(w->fd);
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "FAIL the transfer hung (alarm)\n";
	write(1, msg, sizeof(msg) - 1);
	_exit(1);
}

/* One round: returns bytes received in order (stops at the first wrong byte). */
static long round_trip(int bytewise, long *sent, int *werr)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al))
		return -1;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	int s = accept(l, NULL, NULL);
	close(l);
	if (s < 0)
		return -1;
	struct writer w = { .fd = c };
	pthread_t th;
	if (pthread_create(&th, NULL, writer_fn, &w))
		return -1;
	struct timespec fill = { 0, FILL_MS * 1000000L };
	nanosleep(&fill, NULL);
	uint8_t buf[4096];
	long got = 0;
	int step = 0;
	for (;;) {
		size_t want = got < bytewise ? 1 : 1 + (size_t)(step++ * 977 % sizeof(buf));
		ssize_t r = read(s, buf, want);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pattern((size_t)got + (size_t)i)) {
				printf("byte %ld differs\n", got + (long)i);
				goto out;
			}
		got += r;
	}
out:
	close(s);
	pthread_join(th, NULL);
	*sent = w.sent;
	*werr = w.err;
	return got;
}

int main(void)
{
	signal(SIGALRM, on_alarm);
	alarm(ALARM_S);
	for (int round = 0; round < 2; round++) {
		long sent = 0;
		int werr = 0;
		long got = round_trip(round ? BYTEWISE : 0, &sent, &werr);
		char name[96];
		snprintf(name, sizeof(name), "%s reads after a full window: every byte, in order",
			 round ? "single-byte then small" : "small");
		CHECK(name, got == TOTAL, "received %ld of %d", got, TOTAL);
		snprintf(name, sizeof(name), "%s reads: the writer finished", round ? "single-byte then small" : "small");
		CHECK(name, sent == TOTAL && werr == 0, "sent %ld, errno %d", sent, werr);
	}
	return t_finish();
}
