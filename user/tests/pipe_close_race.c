/*
 * Both ends of a pipe closed at once on different harts (the panic behind scm_gc_stress's
 * flake: wake_up <- file_put <- unix_fds_free <- unix_gc, the collector closing a pipe's write
 * end that a cycle hid while the pipe's reader saw end of file and closed the read end).
 *
 * A release that drops the last writer lets a reader see end of file at once; if the reader then
 * closes the read end, that release frees the pipe. So the writer's release must not touch the
 * pipe once it has published the count (fs/pipe.c: "Lifetime"); Ember's used to wake the readers
 * after dropping the pipe's lock, a use after free whenever the writer's hart was interrupted or
 * preempted in between.
 *
 * PAIRS pairs of threads: the reader makes a non-blocking pipe, hands the write end to its closer
 * and spins on read until end of file, then closes the read end at once; the closer only closes
 * what it is handed (half the rounds the other way round: the closer gets the read end, and the
 * reader spins on poll until the write end reports POLLERR, no readers, then closes it). Right
 * after its close each of them queues SPRAY datagrams of SPRAY_LEN bytes on a socket pair of its
 * own and takes back the ones it queued a round earlier: a freed pipe's memory is reused at once
 * by bytes whose words look like a wait queue holding a bad pointer (in Ember a 72-byte
 * datagram's record is a 128-byte object like a pipe, its bytes where a pipe's wait queues are),
 * so a late wake-up faults instead of passing unseen. More threads than harts, so the timer tick
 * preempts them anywhere.
 *
 * Checks: every round ends with end of file (or POLLERR) and both closes succeed; every datagram
 * comes back intact; the pairs run for ROUND_MS or ROUNDS rounds each. The kernel must survive.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include "sockutil.h"

#define PAIRS 3
#define ROUNDS 20000                /* rounds per pair at most */
#define ROUND_MS 4000               /* or this long */
#define SPRAY 4                     /* datagrams queued per close: the pipe and what its file frees */
#define SPRAY_LEN 72
#define BAD_WORD 0xdead4000dead4000ULL

struct pair {
	int id;
	_Atomic int handed;             /* the fd the closer must close, -1 when none */
	_Atomic int stop;
	int rounds, bad;
	char why[160];
};

struct sprayer {
	int sv[2];
	int queued;                     /* datagrams on sv[1]'s queue, from the previous round */
	int bad;
};

static struct pair pairs[PAIRS];

static void note(struct pair *p, const char *what, int round, long err)
{
	if (p->bad++ == 0)
		snprintf(p->why, sizeof(p->why), "round %d: %s (errno %ld)", round, what, err);
}

/* Words 0, BAD, BAD, BAD, ...: a wait queue's lock free, its list pointers bad. */
static void spray_fill(uint64_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		w[i] = i % 4 == 0 ? 0 : BAD_WORD;
}

static int spray_init(struct sprayer *s)
{
	s->queued = s->bad = 0;
	return socketpair(AF_UNIX, SOCK_DGRAM, 0, s->sv);
}

/* Queue SPRAY new datagrams, then take back (and check) the ones queued last time. */
static void spray(struct sprayer *s)
{
	uint64_t w[SPRAY_LEN / 8], got[SPRAY_LEN / 8 + 1];
	spray_fill(w, SPRAY_LEN / 8);
	int sent = 0;
	for (int i = 0; i < SPRAY; i++)
		if (send(s->sv[0], w, sizeof(w), MSG_DONTWAIT) == (long)sizeof(w))
			sent++;
	for (int i = 0; i < s->queued; i++) {
		long r = recv(s->sv[1], got, sizeof(got), MSG_DONTWAIT);
		if (r != (long)sizeof(w) || memcmp(got, w, sizeof(w)))
			s->bad++;
	}
	s->queued = sent;
}

static void spray_end(struct sprayer *s)
{
	uint64_t got[SPRAY_LEN / 8 + 1];
	for (int i = 0; i < s->queued; i++)
		if (recv(s->sv[1], got, sizeof(got), MSG_DONTWAIT) != SPRAY_LEN)
			s->bad++;
	close(s->sv[0]);
	close(s->sv[1]);
}

static void *closer(void *arg)
{
	struct pair *p = arg;
	struct sprayer s;
	if (spray_init(&s) < 0) {
		note(p, "closer: socketpair failed", 0, errno);
		return NULL;
	}
	while (!atomic_load(&p->stop)) {
		int fd = atomic_exchange(&p->handed, -1);
		if (fd < 0) {
			sched_yield();
			continue;
		}
		if (close(fd) < 0)
			note(p, "the closer's close failed", p->rounds, errno);
		spray(&s);
	}
	spray_end(&s);
	if (s.bad)
		note(p, "a closer's datagram came back wrong", p->rounds, 0);
	return NULL;
}

/* Spin until the other end is gone: read's end of file on the read end, POLLERR (no readers) on
 * the write end. 0, or -1 on anything else. */
static int wait_other_end(int keep, bool reading)
{
	for (long spins = 0;; spins++) {
		if (reading) {
			char c;
			long r = read(keep, &c, 1);
			if (r == 0)
				return 0;
			if (r > 0 || errno != EAGAIN)
				return -1;              /* nobody writes: a byte from nowhere, or an error */
		} else {
			struct pollfd pf = { .fd = keep, .events = POLLOUT };
			if (poll(&pf, 1, 0) < 0)
				return -1;
			if (pf.revents & POLLERR)
				return 0;
		}
		if (spins % 64 == 63)
			sched_yield();
	}
}

static void *reader(void *arg)
{
	struct pair *p = arg;
	struct sprayer s;
	if (spray_init(&s) < 0) {
		note(p, "reader: socketpair failed", 0, errno);
		atomic_store(&p->stop, 1);
		return NULL;
	}
	long end = now_ms() + ROUND_MS;
	for (int i = 0; i < ROUNDS && now_ms() < end && !p->bad; i++) {
		int fds[2];
		if (pipe2(fds, O_NONBLOCK) < 0) {
			note(p, "pipe2 failed", i, errno);
			break;
		}
		bool reading = (i + p->id) % 2 == 0;    /* we keep the read end and wait for EOF */
		int keep = reading ? fds[0] : fds[1], give = reading ? fds[1] : fds[0];
		atomic_store(&p->handed, give);
		if (wait_other_end(keep, reading) < 0)
			note(p, reading ? "the read end saw no end of file" : "the write end saw no POLLERR", i, errno);
		if (close(keep) < 0)
			note(p, "the reader's close failed", i, errno);
		spray(&s);
		p->rounds++;
	}
	while (atomic_load(&p->handed) >= 0)        /* the last one handed over is closed */
		sched_yield();
	atomic_store(&p->stop, 1);
	spray_end(&s);
	if (s.bad)
		note(p, "a reader's datagram came back wrong", p->rounds, 0);
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	start_watchdog(120);
	pthread_t th[2 * PAIRS];
	int started = 0;
	for (int i = 0; i < PAIRS; i++) {
		pairs[i].id = i;
		pairs[i].handed = -1;
		if (start_thread(&th[started], closer, &pairs[i]) == 0)
			started++;
		if (start_thread(&th[started], reader, &pairs[i]) == 0)
			started++;
	}
	CHECK("threads_started", started == 2 * PAIRS, "%d of %d", started, 2 * PAIRS);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	int total = 0;
	for (int i = 0; i < PAIRS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "pair%d_rounds", i);
		CHECK(name, pairs[i].bad == 0 && pairs[i].rounds > 0, "%d rounds, %d bad: %s", pairs[i].rounds,
		      pairs[i].bad, pairs[i].why);
		total += pairs[i].rounds;
	}
	printf("%d rounds\n", total);
	return t_finish();
}
