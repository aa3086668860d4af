/*
 * IPC micro-benchmarks (make bench runs this inside Ember and under qemu-user): futex ping-pong
 * between two threads on different harts, a contended pthread mutex with 4 threads, and System V
 * shm producer/consumer bandwidth between two processes. Prints "bench NAME VALUE UNIT" lines.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

#define PINGS 20000
#define MUTEX_THREADS 4
#define MUTEX_ITERS 50000
#define SHM_SLOTS 64
#define SHM_SLOT 4096
#define SHM_BYTES (64 << 20)


static _Atomic uint32_t turn;

static void fwait(_Atomic uint32_t *w, uint32_t v) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0); }
static void fwake(_Atomic uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void *ponger(void *a)
{
	(void)a;
	pin(1);
	for (uint32_t i = 0; i < PINGS; i++) {
		uint32_t t;
		while ((t = atomic_load(&turn)) != 2 * i + 1)
			fwait(&turn, t);
		atomic_store(&turn, 2 * i + 2);
		fwake(&turn);
	}
	return NULL;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *locker(void *a)
{
	(void)a;
	for (int i = 0; i < MUTEX_ITERS; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

struct ring { _Atomic uint32_t head, tail; unsigned char slot[SHM_SLOTS][SHM_SLOT]; };

int main(void)
{
	pthread_t t;
	pin(0);
	pthread_create(&t, NULL, ponger, NULL);
	double t0 = now();
	for (uint32_t i = 0; i < PINGS; i++) {
		atomic_store(&turn, 2 * i + 1);
		fwake(&turn);
		uint32_t v;
		while ((v = atomic_load(&turn)) != 2 * i + 2)
			fwait(&turn, v);
	}
	double dt = now() - t0;
	pthread_join(t, NULL);
	printf("bench futex_pingpong %.0f round-trips/s\n", PINGS / dt);

	cpu_set_t all;
	CPU_ZERO(&all);
	for (int i = 0; i < 64; i++)
		CPU_SET(i, &all);
	sched_setaffinity(0, sizeof(all), &all);
	pthread_t th[MUTEX_THREADS];
	t0 = now();
	for (int i = 0; i < MUTEX_THREADS; i++)
		pthread_create(&th[i], NULL, locker, NULL);
	for (int i = 0; i < MUTEX_THREADS; i++)
		pthread_join(th[i], NULL);
	dt = now() - t0;
	printf("bench contended_mutex_4_threads %.0f lock-unlock/s\n", MUTEX_THREADS * MUTEX_ITERS / dt);

	int id = shmget(IPC_PRIVATE, sizeof(struct ring), 0600);
	struct ring *r = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	t0 = now();
	pid_t p = fork();
	if (p == 0) {
		for (uint32_t n = 0; n < SHM_BYTES / SHM_SLOT; n++) {
			uint32_t h = atomic_load(&r->head), tl;
			while (h - (tl = atomic_load(&r->tail)) == SHM_SLOTS)
				syscall(SYS_futex, &r->tail, FUTEX_WAIT, tl, NULL, NULL, 0);
			memset(r->slot[h % SHM_SLOTS], (int)n, SHM_SLOT);
			atomic_store(&r->head, h + 1);
			syscall(SYS_futex, &r->head, FUTEX_WAKE, 1, NULL, NULL, 0);
		}
		_exit(0);
	}
	unsigned long sum = 0;
	unsigned char buf[SHM_SLOT];
	for (uint32_t n = 0; n < SHM_BYTES / SHM_SLOT; n++) {
		uint32_t tl = atomic_load(&r->tail);
		while (atomic_load(&r->head) == tl)
			syscall(SYS_futex, &r->head, FUTEX_WAIT, tl, NULL, NULL, 0);
		memcpy(buf, r->slot[tl % SHM_SLOTS], SHM_SLOT);
		sum += buf[0];
		atomic_store(&r->tail, tl + 1);
		syscall(SYS_futex, &r->tail, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	waitpid(p, NULL, 0);
	dt = now() - t0;
	printf("bench shm_producer_consumer %.1f MB/s\n", SHM_BYTES / dt / 1e6);
	return sum == 0xdeadbeef;   /* keep the copy */
}
