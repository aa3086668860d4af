/*
 * Shared (non-private) futexes on private memory across a fork. Linux keys such a futex by
 * (mm, address) when the page is anonymous, so copy-on-write, which gives the writing process a
 * new page after a fork, does not separate a waiter from its waker. Ember keyed every shared futex
 * by physical page, and lost the wake-up:
 *   join      pthread_join waits on the thread's tid (glibc: a shared futex); the thread, blocked
 *             in read() when the process forked, wakes, writes its stack (the page holding the tid
 *             is copied) and exits; the kernel clears the tid and wakes the futex (CLONE_CHILD_
 *             CLEARTID). The join must return.
 *   wait      a thread waits with FUTEX_WAIT (no PRIVATE flag) on a word of malloc'd memory; the
 *             process forks; the main thread stores to the word (the page is copied) and calls
 *             FUTEX_WAKE. The waiter must wake.
 * Each case gives up after TIMEOUT_S and fails instead of hanging.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define TIMEOUT_S 5
#define SETTLE_US 100000        /* long enough for a thread to block where it was sent */

static int release_pipe[2];

static void *blocked_reader(void *arg)
{
	char c;
	(void)arg;
	return read(release_pipe[0], &c, 1) == 1 ? (void *)1 : NULL;
}

static void *releaser(void *arg)
{
	(void)arg;
	usleep(2 * SETTLE_US);                  /* the main thread is in pthread_join by then */
	if (write(release_pipe[1], "x", 1) != 1)
		return NULL;
	return (void *)1;
}

/* A child that keeps the parent's pages shared (copy-on-write) until told to go. */
static pid_t hold_pages(int *go)
{
	int p[2];
	if (pipe(p))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static int reap(pid_t pid, int go)
{
	int st = -1;
	if (write(go, "x", 1) != 1)
		return -1;
	close(go);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void test_join(void)
{
	pthread_t t, r;
	void *ret = NULL;
	int go;
	if (pipe(release_pipe) || pthread_create(&t, NULL, blocked_reader, NULL)) {
		FAIL("join setup", "errno %d", errno);
		return;
	}
	usleep(SETTLE_US);                      /* t is blocked in read() */
	pid_t child = hold_pages(&go);
	CHECK("join: fork", child > 0, "errno %d", errno);
	if (child <= 0)
		return;
	pthread_create(&r, NULL, releaser, NULL);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += TIMEOUT_S;
	int e = pthread_timedjoin_np(t, &ret, &dl);
	CHECK("join: a thread that exits after a fork is joined", e == 0 && ret == (void *)1,
	      "pthread_timedjoin_np: %s", strerror(e));
	if (e)                                  /* let it go anyway, or the process cannot end */
		pthread_join(t, NULL);
	pthread_join(r, NULL);
	CHECK("join: the child that held the pages exits", reap(child, go) == 0, "bad status");
	close(release_pipe[0]);
	close(release_pipe[1]);
}

static atomic_int waiter_state;             /* 1: about to wait, 2: woke up, 3: timed out */

static void *shared_waiter(void *arg)
{
	uint32_t *word = arg;
	struct timespec rel = { .tv_sec = TIMEOUT_S };
	atomic_store(&waiter_state, 1);
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0) {
		long r = syscall(SYS_futex, word, FUTEX_WAIT, 0, &rel, NULL, 0);
		if (r < 0 && errno == ETIMEDOUT) {
			atomic_store(&waiter_state, 3);
			return NULL;
		}
	}
	atomic_store(&waiter_state, 2);
	return NULL;
}

static void test_wait(void)
{
	uint32_t *word = malloc(64);
	pthread_t t;
	int go;
	if (!word) {
		FAIL("wait setup", "malloc");
		return;
	}
	*word = 0;
	pthread_create(&t, NULL, shared_waiter, word);
	while (atomic_load(&waiter_state) == 0)
		usleep(1000);
	usleep(SETTLE_US);                      /* it sleeps in FUTEX_WAIT */
	pid_t child = hold_pages(&go);
	CHECK("wait: fork", child > 0, "errno %d", errno);
	if (child <= 0)
		return;
	__atomic_store_n(word, 1, __ATOMIC_RELEASE);   /* copy-on-write: a new page for this process */
	long woken = syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
	pthread_join(t, NULL);
	CHECK("wait: FUTEX_WAKE reaches the waiter across copy-on-write",
	      atomic_load(&waiter_state) == 2 && woken == 1, "state %d, woken %ld", atomic_load(&waiter_state), woken);
	CHECK("wait: the child that held the pages exits", reap(child, go) == 0, "bad status");
	free(word);
}

int main(void)
{
	test_join();
	test_wait();
	return t_finish();
}
