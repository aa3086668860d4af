/*
 * Futexes: errors, wake counts, bitsets, requeue, wake-op, timeouts (relative, absolute, realtime),
 * EINTR, a 4-thread mutex + condvar + barrier stress with exact counts, robust mutexes whose owner
 * thread or owner process dies, and a producer/consumer pair of processes moving 16 MiB through a
 * shared ring synchronised with shared futexes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define STRESS_THREADS 4
#define STRESS_ITERS 5000
#define RING_SLOTS 64
#define SLOT_BYTES 4096
#define STREAM_BYTES (16 << 20)

static long fx(void *uaddr, int op, uint32_t val, const struct timespec *ts, void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static double now_s(int clk)
{
	struct timespec t;
	clock_gettime(clk, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void test_errors(void)
{
	static uint32_t w = 5;
	errno = 0;
	CHECK("wait_mismatch_eagain", fx(&w, FUTEX_WAIT_PRIVATE, 6, NULL, NULL, 0) == -1 && errno == EAGAIN, "errno=%d", errno);
	errno = 0;
	CHECK("misaligned_einval", fx((char *)&w + 1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == -1 && errno == EINVAL, "errno=%d", errno);
	errno = 0;
	CHECK("zero_bitset_einval", fx(&w, FUTEX_WAIT_BITSET_PRIVATE, 5, NULL, NULL, 0) == -1 && errno == EINVAL, "errno=%d", errno);
	errno = 0;
	CHECK("bad_op_enosys", fx(&w, 99, 0, NULL, NULL, 0) == -1 && errno == ENOSYS, "errno=%d", errno);
	errno = 0;
	CHECK("unmapped_efault", fx((void *)0x1000, FUTEX_WAIT, 0, NULL, NULL, 0) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	struct timespec bad = { 0, 2000000000L };
	CHECK("bad_timeout_einval", fx(&w, FUTEX_WAIT_PRIVATE, 5, &bad, NULL, 0) == -1 && errno == EINVAL, "errno=%d", errno);
	CHECK("wake_nobody", fx(&w, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0) == 0, "");
}

static void test_timeouts(void)
{
	static uint32_t w;
	struct timespec rel = { 0, 100000000L };
	double t0 = now_s(CLOCK_MONOTONIC);
	errno = 0;
	long r = fx(&w, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
	double dt = now_s(CLOCK_MONOTONIC) - t0;
	CHECK("relative_timeout", r == -1 && errno == ETIMEDOUT && dt >= 0.099 && dt < 2, "r=%ld errno=%d dt=%.3f", r, errno, dt);
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 100000000L;
	if (abs.tv_nsec >= 1000000000L) { abs.tv_sec++; abs.tv_nsec -= 1000000000L; }
	errno = 0;
	r = fx(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
	double end = now_s(CLOCK_MONOTONIC);
	CHECK("absolute_timeout", r == -1 && errno == ETIMEDOUT && end >= abs.tv_sec + abs.tv_nsec / 1e9 - 0.001,
	      "r=%ld errno=%d", r, errno);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec += 100000000L;
	if (abs.tv_nsec >= 1000000000L) { abs.tv_sec++; abs.tv_nsec -= 1000000000L; }
	errno = 0;
	r = fx(&w, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
	end = now_s(CLOCK_REALTIME);
	CHECK("realtime_timeout", r == -1 && errno == ETIMEDOUT && end >= abs.tv_sec + abs.tv_nsec / 1e9 - 0.01,
	      "r=%ld errno=%d", r, errno);
}

/* waiters that record when they were woken */
static uint32_t word, word2;
static atomic_int woken, started;

struct waiter_arg { uint32_t *addr; uint32_t bitset; };

static void *waiter(void *p)
{
	struct waiter_arg *a = p;
	atomic_fetch_add(&started, 1);
	while (fx(a->addr, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, a->bitset) == -1 && errno == EINTR)
		;
	atomic_fetch_add(&woken, 1);
	return NULL;
}

static void spawn(pthread_t *t, int n, struct waiter_arg *a)
{
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, waiter, &a[i]);
	while (atomic_load(&started) < n)
		sleep_ms(1);
	sleep_ms(50);                               /* let them block */
}

static void test_wake_counts(void)
{
	pthread_t t[4];
	struct waiter_arg a[4];
	for (int i = 0; i < 4; i++)
		a[i] = (struct waiter_arg){ &word, FUTEX_BITSET_MATCH_ANY };
	started = woken = 0;
	spawn(t, 4, a);
	long n1 = fx(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	sleep_ms(50);
	int w1 = woken;
	long n3 = fx(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK("wake_one_count", n1 == 1 && w1 == 1, "n1=%ld woken=%d", n1, w1);
	CHECK("wake_rest_count", n3 == 3 && woken == 4, "n3=%ld woken=%d", n3, (int)woken);
}

static void test_bitsets(void)
{
	pthread_t t[2];
	struct waiter_arg a[2] = { { &word, 0x1 }, { &word, 0x2 } };
	started = woken = 0;
	spawn(t, 2, a);
	long n = fx(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 0x2);
	sleep_ms(50);
	int w = woken;
	long m = fx(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 0x4);
	long k = fx(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 0x1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK("bitset_matching", n == 1 && w == 1 && m == 0 && k == 1, "n=%ld w=%d m=%ld k=%ld", n, w, m, k);
}

static void test_requeue(void)
{
	pthread_t t[4];
	struct waiter_arg a[4];
	for (int i = 0; i < 4; i++)
		a[i] = (struct waiter_arg){ &word, FUTEX_BITSET_MATCH_ANY };
	started = woken = 0;
	spawn(t, 4, a);
	errno = 0;
	long bad = fx(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2, &word2, 7);
	int e = errno;
	long r = fx(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2, &word2, 0);   /* wake 1, move 2 */
	sleep_ms(50);
	int w = woken;
	long on1 = fx(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);              /* the one left */
	long on2 = fx(&word2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);             /* the two moved */
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK("cmp_requeue_eagain", bad == -1 && e == EAGAIN, "bad=%ld errno=%d", bad, e);
	CHECK("cmp_requeue_moves", r == 3 && w == 1 && on1 == 1 && on2 == 2, "r=%ld w=%d on1=%ld on2=%ld", r, w, on1, on2);
	started = woken = 0;
	spawn(t, 2, a);
	r = fx(&word, FUTEX_REQUEUE_PRIVATE, 0, (void *)5, &word2, 0);
	on2 = fx(&word2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK("requeue_returns_woken_plus_moved", r == 2 && on2 == 2, "r=%ld on2=%ld", r, on2);
}

static void test_wake_op(void)
{
	pthread_t t[2];
	struct waiter_arg a[2] = { { &word, FUTEX_BITSET_MATCH_ANY }, { &word2, FUTEX_BITSET_MATCH_ANY } };
	started = woken = 0;
	word2 = 0;
	spawn(t, 2, a);
	/* word2 += 1; wake 1 on word; wake 1 on word2 if old word2 == 0 */
	uint32_t op = FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0);
	long r = fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &word2, op);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK("wake_op", r == 2 && word2 == 1 && woken == 2, "r=%ld word2=%u woken=%d", r, word2, (int)woken);
	op = FUTEX_OP(FUTEX_OP_OR, 0x10, FUTEX_OP_CMP_GT, 5);       /* old 1 > 5 is false */
	r = fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &word2, op);
	CHECK("wake_op_no_cmp", r == 0 && word2 == 0x11, "r=%ld word2=%#x", r, word2);
}

static void on_usr1(int s) { (void)s; }

static void *interrupter(void *p)
{
	sleep_ms(100);
	pthread_kill(*(pthread_t *)p, SIGUSR1);
	return NULL;
}

static void test_eintr(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_usr1;               /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	static uint32_t w;
	pthread_t self = pthread_self(), t;
	struct timespec ts = { 0, 1 };
	errno = 0;
	long r = fx(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);   /* absolute: long past */
	int e1 = errno;
	struct timespec rel = { 5, 0 };
	pthread_create(&t, NULL, interrupter, &self);
	errno = 0;
	long r2 = fx(&w, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
	int e2 = errno;
	pthread_join(t, NULL);
	CHECK("absolute_past_timedout", r == -1 && e1 == ETIMEDOUT, "r=%ld errno=%d", r, e1);
	CHECK("wait_eintr", r2 == -1 && e2 == EINTR, "r=%ld errno=%d", r2, e2);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t bar;
static long counter, produced, consumed;

static void *stress(void *p)
{
	long id = (long)p;
	pthread_barrier_wait(&bar);
	for (int i = 0; i < STRESS_ITERS; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		if (id % 2 == 0) {
			produced++;
			pthread_cond_signal(&cv);
		} else {
			while (produced == consumed)
				pthread_cond_wait(&cv, &mu);
			consumed++;
		}
		pthread_mutex_unlock(&mu);
	}
	pthread_barrier_wait(&bar);
	return NULL;
}

static void test_stress(void)
{
	pthread_t t[STRESS_THREADS];
	pthread_barrier_init(&bar, NULL, STRESS_THREADS);
	for (long i = 0; i < STRESS_THREADS; i++)
		pthread_create(&t[i], NULL, stress, (void *)i);
	for (int i = 0; i < STRESS_THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK("mutex_condvar_barrier_exact", counter == (long)STRESS_THREADS * STRESS_ITERS && produced == consumed &&
	      produced == (long)STRESS_THREADS / 2 * STRESS_ITERS, "counter=%ld produced=%ld consumed=%ld", counter, produced, consumed);
}

static int robust_supported(void)
{
	void *head;
	size_t len;
	return syscall(SYS_get_robust_list, 0, &head, &len) == 0;
}

static pthread_mutex_t *robust_mu;

static void *die_holding(void *p)
{
	(void)p;
	pthread_mutex_lock(robust_mu);
	return NULL;                                /* thread exits holding it */
}

static void test_robust(void)
{
	if (!robust_supported()) {
		SKIP("robust_thread_owner_died", "no robust futex lists here (qemu-user answers ENOSYS)");
		SKIP("robust_process_owner_died", "no robust futex lists here (qemu-user answers ENOSYS)");
		return;
	}
	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
	robust_mu = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutex_init(robust_mu, &at);
	pthread_t t;
	pthread_create(&t, NULL, die_holding, NULL);
	pthread_join(t, NULL);
	int r = pthread_mutex_lock(robust_mu);
	CHECK("robust_thread_owner_died", r == EOWNERDEAD, "lock returned %d", r);
	pthread_mutex_consistent(robust_mu);
	pthread_mutex_unlock(robust_mu);
	pid_t p = fork();
	if (p == 0) {
		pthread_mutex_lock(robust_mu);
		_exit(0);                               /* the process dies holding it */
	}
	waitpid(p, NULL, 0);
	r = pthread_mutex_lock(robust_mu);
	CHECK("robust_process_owner_died", r == EOWNERDEAD, "lock returned %d", r);
	pthread_mutex_consistent(robust_mu);
	pthread_mutex_unlock(robust_mu);
	munmap(robust_mu, 4096);
}

/* A ring of RING_SLOTS slots in shared memory: head/tail counters and futexes on them. */
struct ring {
	_Atomic uint32_t head, tail;        /* head: next to write, tail: next to read */
	unsigned char slot[RING_SLOTS][SLOT_BYTES];
};

static void ring_wait(_Atomic uint32_t *w, uint32_t seen)
{
	fx((void *)w, FUTEX_WAIT, seen, NULL, NULL, 0);   /* shared futex: no PRIVATE flag */
}

static void test_shared_stream(void)
{
	int id = shmget(IPC_PRIVATE, sizeof(struct ring), 0600);     /* System V shm, as the ring's home */
	struct ring *r = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	if (r == (void *)-1) {
		FAIL("shared_futex_stream_16mib", "shmat: errno=%d", errno);
		return;
	}
	pid_t p = fork();
	if (p == 0) {                               /* producer */
		uint32_t x = 1;
		for (uint32_t n = 0; n < STREAM_BYTES / SLOT_BYTES; n++) {
			uint32_t h = atomic_load(&r->head);
			while (h - atomic_load(&r->tail) == RING_SLOTS)
				ring_wait(&r->tail, atomic_load(&r->tail));
			for (int i = 0; i < SLOT_BYTES; i++) {
				x = x * 1664525 + 1013904223;
				r->slot[h % RING_SLOTS][i] = (unsigned char)(x >> 24);
			}
			atomic_store(&r->head, h + 1);
			fx((void *)&r->head, FUTEX_WAKE, 1, NULL, NULL, 0);
		}
		_exit(0);
	}
	uint32_t x = 1, bad = 0;
	for (uint32_t n = 0; n < STREAM_BYTES / SLOT_BYTES; n++) {
		uint32_t t = atomic_load(&r->tail);
		while (atomic_load(&r->head) == t)
			ring_wait(&r->head, t);
		for (int i = 0; i < SLOT_BYTES; i++) {
			x = x * 1664525 + 1013904223;
			bad += r->slot[t % RING_SLOTS][i] != (unsigned char)(x >> 24);
		}
		atomic_store(&r->tail, t + 1);
		fx((void *)&r->tail, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	int st;
	waitpid(p, &st, 0);
	CHECK("shared_futex_stream_16mib", bad == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "bad=%u st=%#x", bad, st);
	shmdt(r);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_errors();
	test_timeouts();
	test_wake_counts();
	test_bitsets();
	test_requeue();
	test_wake_op();
	test_eintr();
	test_stress();
	test_robust();
	test_shared_stream();
	return t_finish();
}
