/*
 * SCM_RIGHTS garbage collection (issue 13; Linux's net/unix/garbage.c): unix sockets whose only
 * references are descriptors queued, unread, on their own receive queues are freed with
 * everything those queues carry, and sockets that are in flight but still reachable are not.
 *   - cycles, each hiding a pipe's write end in a message (scmutil.h's builders): a socket
 *     queued on itself (stream, datagram, seqpacket), two sockets queued on each other, rings
 *     of 3, a listener queued on its own unaccepted connection. After the cycle's fds are
 *     closed the pipe's reader must see end of file (the collector closed the write end): two
 *     rounds of CYCLES_PER_PATTERN per pattern
 *   - a socket queued on itself with its peer kept: the peer reads end of file once the cycle is
 *     collected (Linux collects when some unix socket is released: the test closes one)
 *   - no false collection: x and y queued on each other (both closed) but x also queued on a
 *     carrier we hold: after a collection both come back through the carrier with their queues
 *     intact, and both connections still carry data both ways
 *   - Ember only (under qemu-user the host's /proc is not ours): at the end /proc/net/unix
 *     lists as many sockets as at the start, and the second round of cycles leaves MemFree within
 *     MEM_SLACK_KB of where the warm-up round left it (a leak of 2100 cycles, each holding a
 *     pipe, costs over 100 MB)
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include "scmutil.h"

#define CYCLES_PER_PATTERN 350      /* x 6 patterns: 2100 cycles a round */
#define MEM_SLACK_KB 1024

enum { P_SELF_STREAM, P_SELF_DGRAM, P_SELF_SEQPACKET, P_PAIR, P_RING3, P_LISTENER, P_MAX };
static const char *const pattern_names[P_MAX] = {
	"self_stream", "self_dgram", "self_seqpacket", "pair", "ring3", "listener",
};

static int build(int pat, int round, int i, int wpipe)
{
	char name[64];
	switch (pat) {
	case P_SELF_STREAM: return cycle_self(SOCK_STREAM, wpipe);
	case P_SELF_DGRAM: return cycle_self(SOCK_DGRAM, wpipe);
	case P_SELF_SEQPACKET: return cycle_self(SOCK_SEQPACKET, wpipe);
	case P_PAIR: return cycle_ring(SOCK_STREAM, 2, wpipe);
	case P_RING3: return cycle_ring(SOCK_SEQPACKET, 3, wpipe);
	default:
		snprintf(name, sizeof(name), "scm_gc-%d-%d-%d", (int)getpid(), round, i);
		return cycle_listener(name, wpipe);
	}
}

/* n cycles of a pattern, each checked for the pipe's end of file: how many failed, the first
 * one's story in why. After a failure the rest are still made (so that a leak shows in the
 * counts) but waited for only briefly. */
static int pattern_round(int pat, int round, int n, char *why, size_t whylen)
{
	int bad = 0;
	for (int i = 0; i < n; i++) {
		int p[2];
		if (pipe(p) < 0) {
			snprintf(why, whylen, "cycle %d: pipe: %s", i, strerror(errno));
			return bad + 1;
		}
		int b = build(pat, round, i, p[1]);
		int e = errno;
		close(p[1]);
		long r = b == 0 ? read_within(p[0], bad ? 0 : GC_WAIT_MS) : -3;
		close(p[0]);
		if (r != 0 && bad++ == 0) {
			if (b < 0)
				snprintf(why, whylen, "cycle %d: setting up failed: %s", i, strerror(e));
			else
				snprintf(why, whylen, "cycle %d: the pipe's reader got %ld, not end of file (%s)", i, r,
					 r == -2 ? "the cycle still holds the write end" : "an error");
		}
	}
	return bad;
}

static void round_all(const char *label, int round)
{
	for (int pat = 0; pat < P_MAX; pat++) {
		char name[64], why[160] = "";
		snprintf(name, sizeof(name), "%s_%s", label, pattern_names[pat]);
		int bad = pattern_round(pat, round, CYCLES_PER_PATTERN, why, sizeof(why));
		CHECK(name, bad == 0, "%d of %d cycles not collected; first: %s", bad, CYCLES_PER_PATTERN, why);
	}
}

/* Some unix socket released: Linux (and Ember) run the collector then. */
static void release_one(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
		close(sv[0]);
		close(sv[1]);
	}
}

static void test_self_observer(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		FAIL("self_observer", "socketpair: %s", strerror(errno));
		return;
	}
	long s = scm_send(sv[1], &sv[0], 1, "o", 1);
	close(sv[0]);                               /* sv[0]'s only reference: on its own queue */
	long before = read_within(sv[1], 0);        /* not yet collected: nothing to read */
	release_one();
	long after = read_within(sv[1], GC_WAIT_MS);
	CHECK("self_observer", s == 1 && before == -2 && after == 0,
	      "send=%ld read before=%ld after=%ld (want 1, -2 nothing yet, 0 end of file)", s, before, after);
	close(sv[1]);
}

static ino_t ino_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static int seq_pair(int sv[2]) { return socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv); }

/* recv one message; its text must be want: the fd it carried (or -1), -2 on a mismatch. */
static int recv_expect(int sock, const char *want, char *got, size_t gotlen)
{
	int fds[SCM_MAX_TEST_FDS], n;
	memset(got, 0, gotlen);
	struct pollfd p = { .fd = sock, .events = POLLIN };
	if (poll(&p, 1, 2000) <= 0)
		return -2;
	long r = scm_recv(sock, got, gotlen - 1, fds, &n);
	if (r != (long)strlen(want) || memcmp(got, want, strlen(want)))
		return -2;
	return n ? fds[0] : -1;
}

static void test_reachable(void)
{
	int c[2], x[2], y[2];
	if (seq_pair(c) < 0 || seq_pair(x) < 0 || seq_pair(y) < 0) {
		FAIL("reachable_setup", "socketpair: %s", strerror(errno));
		return;
	}
	ino_t xino = ino_of(x[0]), yino = ino_of(y[0]);
	int ok = scm_send(x[1], NULL, 0, "data-x", 6) == 6 &&
		 scm_send(x[1], &y[0], 1, "hold-y", 6) == 6 &&      /* x[0] holds y[0] */
		 scm_send(y[1], &x[0], 1, "hold-x", 6) == 6 &&      /* y[0] holds x[0]: a cycle */
		 scm_send(c[1], &x[0], 1, "carry", 5) == 5;         /* and c[0] holds x[0] */
	close(x[0]);
	close(y[0]);
	CHECK("reachable_setup", ok, "a send failed: %s", strerror(errno));
	/* a collection runs (its own cycle's pipe sees end of file) while x, y are only in flight */
	int p[2];
	long r = -3;
	if (pipe(p) == 0) {
		int b = cycle_self(SOCK_STREAM, p[1]);
		close(p[1]);
		r = b == 0 ? read_within(p[0], GC_WAIT_MS) : -3;
		close(p[0]);
	}
	CHECK("reachable_collector_ran", r == 0, "the probe cycle's pipe read %ld", r);
	char buf[32];
	int xa = recv_expect(c[0], "carry", buf, sizeof(buf));
	int none = xa >= 0 ? recv_expect(xa, "data-x", buf, sizeof(buf)) : -2;
	int ya = xa >= 0 ? recv_expect(xa, "hold-y", buf, sizeof(buf)) : -2;
	int xb = ya >= 0 ? recv_expect(ya, "hold-x", buf, sizeof(buf)) : -2;
	CHECK("reachable_queues_intact", xa >= 0 && none == -1 && ya >= 0 && xb >= 0,
	      "carrier gave %d, x's queue: data %d, y %d; y's queue: x %d (want fds, -1 for the data)", xa, none, ya, xb);
	if (xa < 0 || ya < 0 || xb < 0)
		return;
	CHECK("reachable_same_sockets", ino_of(xa) == xino && ino_of(xb) == xino && ino_of(ya) == yino,
	      "inodes x %lu %lu y %lu, want x %lu y %lu", (unsigned long)ino_of(xa), (unsigned long)ino_of(xb),
	      (unsigned long)ino_of(ya), (unsigned long)xino, (unsigned long)yino);
	int live = scm_send(x[1], NULL, 0, "ping", 4) == 4 && recv_expect(xb, "ping", buf, sizeof(buf)) == -1 &&
		   scm_send(y[1], NULL, 0, "pong", 4) == 4 && recv_expect(ya, "pong", buf, sizeof(buf)) == -1 &&
		   scm_send(xa, NULL, 0, "back", 4) == 4 && recv_expect(x[1], "back", buf, sizeof(buf)) == -1 &&
		   scm_send(ya, NULL, 0, "yack", 4) == 4 && recv_expect(y[1], "yack", buf, sizeof(buf)) == -1;
	CHECK("reachable_still_connected", live, "a connection lost data or its peer (%s)", strerror(errno));
	int fds[] = { c[0], c[1], x[1], y[1], xa, xb, ya };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close(fds[i]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	start_watchdog(240);
	bool ember = running_in_ember();
	int n0 = unix_socket_count();
	test_self_observer();
	test_reachable();
	round_all("warmup", 0);
	long m0 = mem_free_kb();
	round_all("measured", 1);
	int n1 = unix_socket_count();
	long m1 = mem_free_kb();
	printf("unix sockets %d -> %d, MemFree %ld -> %ld kB\n", n0, n1, m0, m1);
	if (ember) {
		CHECK("ember_unix_sockets_back", n0 >= 0 && n1 == n0, "/proc/net/unix lists %d, at the start %d", n1, n0);
		CHECK("ember_memfree_back", m0 > 0 && m1 > 0 && m0 - m1 < MEM_SLACK_KB,
		      "MemFree fell by %ld kB over %d cycles", m0 - m1, CYCLES_PER_PATTERN * P_MAX);
	} else {
		SKIP("ember_unix_sockets_back", "the host's /proc/net/unix lists every socket of the host");
		SKIP("ember_memfree_back", "the host's MemFree moves with everything else on it");
	}
	return t_finish();
}
