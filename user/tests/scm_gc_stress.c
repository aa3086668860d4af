/*
 * SCM_RIGHTS garbage collection under concurrency (issue 13): CYCLERS threads build and drop
 * unreachable cycles (scmutil.h's builders, each hiding a pipe's write end whose reader must
 * then see end of file) while PASSERS threads pass sockets legitimately, so that the collector
 * runs on every hart while reachable sockets are in flight:
 *   - a passer makes x and y (seqpacket pairs), queues y[0] on x[0] and x[0] on y[0] (a cycle of
 *     sockets whose fds are then closed) and x[0] on its carrier, which it holds: BATCH such
 *     groups sit in flight at once. Then it takes them back: x[0] from the carrier, y[0] from
 *     x[0], x[0] again from y[0], each message with its token; x and y must be the same sockets
 *     (inodes) and still carry data both ways. A false collection loses a token, a descriptor
 *     or the connection.
 *   - every cycle is collected: each cycler's pipes all see end of file.
 *   - Ember only: when everything is closed, /proc/net/unix lists as many sockets as before.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/stat.h>
#include "scmutil.h"

#define CYCLERS 4
#define PASSERS 2
#define CYCLES_EACH 150
#define BATCH 4                     /* groups a passer keeps in flight at once */
#define BATCHES_EACH 40

struct result {
	int id, done, bad;
	char why[200];
};

static struct result cyclers[CYCLERS], passers[PASSERS];

static void note(struct result *r, const char *fmt, int a, long b)
{
	if (r->bad++ == 0)
		snprintf(r->why, sizeof(r->why), fmt, a, b);
}

static void *cycler(void *arg)
{
	struct result *res = arg;
	for (int i = 0; i < CYCLES_EACH; i++) {
		int p[2];
		if (pipe(p) < 0) {
			note(res, "cycle %d: pipe failed (%ld)", i, (long)errno);
			continue;
		}
		char name[64];
		int b;
		switch ((i + res->id) % 4) {
		case 0: b = cycle_self(SOCK_STREAM, p[1]); break;
		case 1: b = cycle_ring(SOCK_DGRAM, 2, p[1]); break;
		case 2: b = cycle_ring(SOCK_SEQPACKET, 3, p[1]); break;
		default:
			snprintf(name, sizeof(name), "scm_gc_stress-%d-%d-%d", (int)getpid(), res->id, i);
			b = cycle_listener(name, p[1]);
		}
		close(p[1]);
		long r = b == 0 ? read_within(p[0], res->bad ? 0 : GC_WAIT_MS) : -3;   /* after a failure: go on fast */
		close(p[0]);
		if (r != 0)
			note(res, "cycle %d: the pipe read %ld, not end of file (-2: still held, -3: set-up failed)", i, r);
		res->done++;
	}
	return NULL;
}

static ino_t ino_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* One message whose text is want: the first fd it carried, -1 for none, -2 on anything else. */
static int take(int sock, const char *want)
{
	char got[64] = "";
	int fds[SCM_MAX_TEST_FDS], n;
	struct pollfd p = { .fd = sock, .events = POLLIN };
	if (poll(&p, 1, 5000) <= 0)
		return -2;
	long r = scm_recv(sock, got, sizeof(got) - 1, fds, &n);
	if (r != (long)strlen(want) || memcmp(got, want, (size_t)r)) {
		for (int i = 0; i < n; i++)
			close(fds[i]);
		return -2;
	}
	for (int i = 1; i < n; i++)
		close(fds[i]);
	return n ? fds[0] : -1;
}

struct group {
	int x1, y1;                     /* our ends; x[0] and y[0] are only in flight */
	ino_t xino, yino;
	char xtok[48], ytok[48];
};

static int group_send(struct group *g, int carrier, int id, int batch, int k)
{
	int x[2], y[2];
	g->x1 = g->y1 = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, x) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, y) < 0) {
		close(x[0]);
		close(x[1]);
		return -1;
	}
	snprintf(g->xtok, sizeof(g->xtok), "x-%d-%d-%d", id, batch, k);
	snprintf(g->ytok, sizeof(g->ytok), "y-%d-%d-%d", id, batch, k);
	g->x1 = x[1];
	g->y1 = y[1];
	g->xino = ino_of(x[0]);
	g->yino = ino_of(y[0]);
	int ok = scm_send(x[1], &y[0], 1, g->xtok, strlen(g->xtok)) > 0 &&   /* x[0] holds y[0] */
		 scm_send(y[1], &x[0], 1, g->ytok, strlen(g->ytok)) > 0 &&   /* y[0] holds x[0] */
		 scm_send(carrier, &x[0], 1, "carry", 5) == 5;                /* the carrier holds x[0] */
	close(x[0]);
	close(y[0]);
	return ok ? 0 : -1;
}

/* Take group g back through the carrier's other end: 0, or a step number that failed. */
static int group_check(struct group *g, int carrier)
{
	int step = 0, xa = -2, ya = -2, xb = -2;
	char buf[8];
	if ((xa = take(carrier, "carry")) < 0)
		step = 1;
	else if ((ya = take(xa, g->xtok)) < 0)
		step = 2;
	else if ((xb = take(ya, g->ytok)) < 0)
		step = 3;
	else if (ino_of(xa) != g->xino || ino_of(xb) != g->xino || ino_of(ya) != g->yino)
		step = 4;
	else if (scm_send(g->x1, NULL, 0, "a", 1) != 1 || take(xb, "a") != -1)
		step = 5;
	else if (scm_send(ya, NULL, 0, "b", 1) != 1 || take(g->y1, "b") != -1)
		step = 6;
	else if (recv(xa, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		step = 7;                   /* nothing left over on x */
	int fds[] = { xa, ya, xb, g->x1, g->y1 };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return step;
}

static void *passer(void *arg)
{
	struct result *res = arg;
	int c[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, c) < 0) {
		note(res, "carrier: socketpair failed (%d %ld)", 0, (long)errno);
		return NULL;
	}
	for (int b = 0; b < BATCHES_EACH; b++) {
		struct group g[BATCH];
		int sent = 0;
		for (; sent < BATCH; sent++)
			if (group_send(&g[sent], c[1], res->id, b, sent) < 0) {
				note(res, "batch %d: a send failed (errno %ld)", b, (long)errno);
				if (g[sent].x1 >= 0)
					close(g[sent].x1);
				if (g[sent].y1 >= 0)
					close(g[sent].y1);
				break;
			}
		sched_yield();              /* let the cyclers' collections run while they are in flight */
		for (int k = 0; k < sent; k++) {
			int step = group_check(&g[k], c[0]);
			if (step)
				note(res, "batch %d: a group in flight came back wrong at step %ld (1 carrier, 2 x's "
				     "queue, 3 y's queue, 4 inodes, 5-6 connections, 7 leftovers)", b, step);
			res->done++;
		}
	}
	close(c[0]);
	close(c[1]);
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	start_watchdog(240);
	bool ember = running_in_ember();
	int n0 = unix_socket_count();
	pthread_t th[CYCLERS + PASSERS];
	int started = 0;
	for (int i = 0; i < CYCLERS; i++) {
		cyclers[i].id = i;
		if (start_thread(&th[started], cycler, &cyclers[i]) == 0)
			started++;
	}
	for (int i = 0; i < PASSERS; i++) {
		passers[i].id = i;
		if (start_thread(&th[started], passer, &passers[i]) == 0)
			started++;
	}
	CHECK("threads_started", started == CYCLERS + PASSERS, "%d of %d", started, CYCLERS + PASSERS);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < CYCLERS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "cycler%d_collected", i);
		CHECK(name, cyclers[i].done == CYCLES_EACH && cyclers[i].bad == 0, "%d of %d done, %d bad: %s",
		      cyclers[i].done, CYCLES_EACH, cyclers[i].bad, cyclers[i].why);
	}
	for (int i = 0; i < PASSERS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "passer%d_intact", i);
		CHECK(name, passers[i].done == BATCH * BATCHES_EACH && passers[i].bad == 0, "%d of %d done, %d bad: %s",
		      passers[i].done, BATCH * BATCHES_EACH, passers[i].bad, passers[i].why);
	}
	int n1 = unix_socket_count();
	printf("unix sockets %d -> %d\n", n0, n1);
	if (ember)
		CHECK("ember_unix_sockets_back", n0 >= 0 && n1 == n0, "/proc/net/unix lists %d, before %d", n1, n0);
	else
		SKIP("ember_unix_sockets_back", "the host's /proc/net/unix lists every socket of the host");
	return t_finish();
}
