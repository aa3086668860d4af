/*
 * Process micro-benchmarks (make bench runs this inside Ember and under qemu-user):
 * getpid round trip, fork+exit+wait, pipe ping-pong between two processes on different harts,
 * thread create+join. Prints "bench NAME VALUE UNIT" lines.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"


static void *nothing(void *a) { return a; }

int main(void)
{
	const int getpids = 200000, forks = 300, pings = 20000, threads = 1000;
	double t0 = now();
	for (int i = 0; i < getpids; i++)
		syscall(SYS_getpid);
	double t = now() - t0;
	printf("bench getpid_round_trip %.3f us\n", t / getpids * 1e6);

	t0 = now();
	for (int i = 0; i < forks; i++) {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		waitpid(p, NULL, 0);
	}
	t = now() - t0;
	printf("bench fork_exit_wait %.1f us\n", t / forks * 1e6);

	int a[2], b[2];
	pipe(a);
	pipe(b);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t p = fork();
	if (p == 0) {
		pin(ncpu > 1 ? 1 : 0);
		char c;
		for (int i = 0; i < pings; i++) {
			read(a[0], &c, 1);
			write(b[1], &c, 1);
		}
		_exit(0);
	}
	pin(0);
	char c = 'x';
	t0 = now();
	for (int i = 0; i < pings; i++) {
		write(a[1], &c, 1);
		read(b[0], &c, 1);
	}
	t = now() - t0;
	waitpid(p, NULL, 0);
	printf("bench pipe_pingpong_round_trip %.2f us\n", t / pings * 1e6);

	t0 = now();
	for (int i = 0; i < threads; i++) {
		pthread_t th;
		pthread_create(&th, NULL, nothing, NULL);
		pthread_join(th, NULL);
	}
	t = now() - t0;
	printf("bench thread_create_join %.1f us\n", t / threads * 1e6);
	return 0;
}
