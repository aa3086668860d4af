/*
 * A copy-on-write break must reach every hart that runs the process. Threads on other CPUs spin
 * reading a flag; the main thread forks (the flag's page becomes copy-on-write, shared with a
 * child that stays alive) and then sets the flag: its write copies the page, and the readers must
 * see the copy, not the pre-fork page a stale read-only TLB entry on their hart still points to
 * (Linux fences every CPU of the mm before it maps the copy: ptep_clear_flush in wp_page_copy).
 * A kernel that fences only the faulting hart leaves the readers spinning on the old page (freed
 * once the child exits): they must all report within READ_DEADLINE_MS, in each of ROUNDS forks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define READERS 3
#define READ_DEADLINE_MS 3000
#define SPIN_MS 50                       /* the readers re-read the flag through their TLB meanwhile */
#define PAGE 4096
#define ROUNDS 3

/* The flag alone on its page; the counters elsewhere (a write to them must not touch its page). */
static struct { volatile int go; volatile int quit; char rest[PAGE - 2 * sizeof(int)]; } flag_page
	__attribute__((aligned(PAGE)));
static atomic_int ready, seen;

static void *reader(void *arg)
{
	(void)arg;
	for (int round = 1; ; round++) {
		atomic_fetch_add(&ready, 1);
		while (flag_page.go < round && !flag_page.quit)
			;
		if (flag_page.quit)
			return NULL;
		atomic_fetch_add(&seen, 1);
	}
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Wait until `count` reaches `want` or the deadline passes. */
static int wait_for(atomic_int *count, int want)
{
	for (int ms = 0; ms < READ_DEADLINE_MS; ms += 5) {
		if (atomic_load(count) >= want)
			return 1;
		nap_ms(5);
	}
	return atomic_load(count) >= want;
}

/* One round: fork, let the readers spin on the write-protected page, then write the flag while
 * the child still holds the old page (so the write copies it). */
static void one_round(int round)
{
	const char *name = "copy-on-write break after fork reaches readers on other harts";
	int p[2];
	if (pipe(p) < 0) {
		FAIL(name, "pipe: %s", strerror(errno));
		return;
	}
	pid_t c = fork();
	if (c < 0) {
		FAIL(name, "fork: %s", strerror(errno));
		return;
	}
	if (c == 0) {
		char b;
		close(p[1]);
		while (read(p[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(flag_page.go == round - 1 ? 0 : 1);   /* the child's copy never sees the write */
	}
	close(p[0]);
	int st = 0;
	nap_ms(SPIN_MS);
	flag_page.go = round;                        /* copy-on-write break on this hart */
	int ok = wait_for(&seen, READERS * round);
	close(p[1]);
	waitpid(c, &st, 0);
	CHECK(name, ok && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "round %d: %d of %d readers saw the write within %d ms (the rest read the pre-fork page); child status 0x%x",
	      round, atomic_load(&seen) - READERS * (round - 1), READERS, READ_DEADLINE_MS, st);
	wait_for(&ready, READERS * (round + 1));     /* all spinning on the next round */
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_t th[READERS];
	for (int i = 0; i < READERS; i++)
		pthread_create(&th[i], NULL, reader, NULL);
	if (!wait_for(&ready, READERS)) {
		FAIL("readers start", "%d of %d", atomic_load(&ready), READERS);
		return t_finish();
	}
	for (int round = 1; round <= ROUNDS; round++)
		one_round(round);
	if (t_failed)
		return t_finish();      /* readers stuck on a stale page would never see quit: exit kills them */
	flag_page.quit = 1;
	for (int i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	return t_finish();
}
