/*
 * Thread and process teardown under fire (issue 17 item 2; tests/fuzz-corpus/004: the fuzzer's
 * SIGKILL of its multi-threaded workers once made Ember free a struct thread that was still
 * referenced). Round after round, NCHILD forked children with several threads each die in every
 * way at once while their threads wake each other with futexes (short timeouts), sleep, yield,
 * hop between CPUs (sched_setaffinity), take SIGALRM every millisecond and keep creating
 * short-lived threads (so that death often meets a thread clone has not started yet):
 *
 *   kill      the parent SIGKILLs the child after a random 0..4 ms;
 *   group     one thread calls exit_group(GROUP_CODE) after a random number of steps;
 *   threads   every thread leaves with the exit system call (the leader first, directly; the others
 *             through pthread_exit, whose last thread calls exit(0)), the last one ending the process;
 *   race      two threads call exit_group(RACE_CODE_A / _B) at the same moment and the parent's
 *             SIGKILL comes at about that time too;
 *   pgkill    the child leads a process group and its spawners fork grandchildren (which leave
 *             at once) instead of creating threads; the parent SIGKILLs the whole group, which
 *             often finds a process fork has published but not yet started (the fuzzer's
 *             parent kills its workers' groups the same way).
 *
 * The parent reaps every child and checks its status is one the mode allows (the kernel must not
 * panic, hang or lose a child on the way). Runs RACE_SECONDS (or MAX_ROUNDS rounds).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#ifndef RACE_SECONDS
#define RACE_SECONDS 10
#endif
#define MAX_ROUNDS 5000
#define MIN_ROUNDS 5
#define NCHILD 4
#define NWORKERS 5               /* threads per child besides the leader and the spawners */
#define NSPAWNERS 2              /* threads per child that keep creating short-lived threads */
#define MAX_SPAWNS 16            /* ... how many each creates in "threads" mode */
#define GROUP_CODE 17
#define RACE_CODE_A 21
#define RACE_CODE_B 22
#define KILL_DELAY_US 4000
#define REAP_TIMEOUT_S 20
#define MAX_CPUS 64

enum mode { M_KILL, M_GROUP, M_THREADS, M_RACE, M_PGKILL, NMODES };
static const char *const mode_names[NMODES] = { "kill", "group", "threads", "race", "pgkill" };

static int cpus[MAX_CPUS], ncpus;

/* ---- the child ---- */

static enum mode cmode;
static _Atomic uint32_t words[NWORKERS + 1];
static _Atomic int race_go;
static uint32_t child_seed;

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static long fx(void *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void on_alarm(int sig) { (void)sig; }

/* One step of a thread's busy life: futexes, sleeps, CPU hops, yields. */
static void step(int me, uint32_t *s)
{
	switch (rnd(s) % 8) {
	case 0: case 1: case 2: {
		int peer = (me + 1) % (NWORKERS + 1);
		atomic_fetch_add(&words[peer], 1);
		fx(&words[peer], FUTEX_WAKE_PRIVATE, 1, NULL);
		struct timespec ts = { 0, (long)(200 + rnd(s) % 1800) * 1000 };
		fx(&words[me], FUTEX_WAIT_PRIVATE, atomic_load(&words[me]), &ts);
		break;
	}
	case 3: {
		struct timespec ts = { 0, (long)(rnd(s) % 500) * 1000 };
		nanosleep(&ts, NULL);
		break;
	}
	case 4: {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpus[rnd(s) % ncpus], &set);
		sched_setaffinity(0, sizeof(set), &set);
		break;
	}
	case 5:
		sched_yield();
		break;
	case 6:
		fx(&words[me], FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
		break;
	default:
		for (volatile int i = 0; i < 2000; i++)
			;
	}
}

static void *worker(void *arg)
{
	int me = (int)(intptr_t)arg;
	uint32_t s = child_seed * 2654435761u + (uint32_t)me + 1;
	int steps = 5 + (int)(rnd(&s) % 60);
	for (int n = 0;; n++) {
		if (cmode == M_RACE && me < 2 && atomic_load(&race_go)) {
			for (volatile int i = 0; i < 500; i++)
				;
			syscall(SYS_exit_group, me == 0 ? RACE_CODE_A : RACE_CODE_B);
		}
		if (n >= steps) {
			if (cmode == M_GROUP && me == 0)
				syscall(SYS_exit_group, GROUP_CODE);
			if (cmode == M_THREADS)
				pthread_exit(NULL);
		}
		step(me, &s);
	}
	return NULL;
}

static void *short_lived(void *arg)
{
	int me = (int)(intptr_t)arg;
	atomic_fetch_add(&words[me], 1);
	fx(&words[me], FUTEX_WAKE_PRIVATE, 1, NULL);
	return NULL;
}

static void *spawner(void *arg)
{
	(void)arg;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	/* until the process dies (in "threads" mode: MAX_SPAWNS, then leave): a SIGKILL or an
	 * exit_group then often finds a thread that clone has published but not yet started */
	for (int i = 0; cmode != M_THREADS || i < MAX_SPAWNS; i++) {
		if (cmode == M_PGKILL) {
			pid_t g = fork();
			if (g == 0)
				_exit(0);
			while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
				;
			continue;
		}
		pthread_t t;
		if (pthread_create(&t, &a, short_lived, (void *)(intptr_t)(i % (NWORKERS + 1))) == 0)
			pthread_join(t, NULL);
		sched_yield();
	}
	pthread_exit(NULL);
	return NULL;
}

static void __attribute__((noreturn)) child(enum mode m, uint32_t seed)
{
	cmode = m;
	child_seed = seed;
	if (m == M_PGKILL)
		setpgid(0, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	pthread_t t;
	for (int i = 0; i < NWORKERS; i++)
		if (pthread_create(&t, &a, worker, (void *)(intptr_t)i) != 0)
			syscall(SYS_exit_group, 99);
	for (int i = 0; i < NSPAWNERS; i++)
		if (pthread_create(&t, &a, spawner, NULL) != 0)
			syscall(SYS_exit_group, 99);
	atomic_store(&race_go, 1);
	if (m == M_THREADS)
		syscall(SYS_exit, 0);           /* the leader leaves first: the bare system call, as
						 * musl's pthread_exit in a forked child's main thread
						 * keeps its thread-list lock across the exit and only
						 * clear_child_tid (not set after fork) would free it */
	worker((void *)(intptr_t)NWORKERS);
	syscall(SYS_exit_group, 98);            /* not reached */
	for (;;)
		;
}

/* ---- the parent ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool status_ok(enum mode m, int st)
{
	switch (m) {
	case M_KILL:
	case M_PGKILL:
		return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	case M_GROUP:
		return WIFEXITED(st) && WEXITSTATUS(st) == GROUP_CODE;
	case M_THREADS:
		return WIFEXITED(st) && WEXITSTATUS(st) == 0;
	case M_RACE:
		return (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) ||
		       (WIFEXITED(st) && (WEXITSTATUS(st) == RACE_CODE_A || WEXITSTATUS(st) == RACE_CODE_B));
	default:
		return false;
	}
}

int main(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int i = 0; i < MAX_CPUS && i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cpus[ncpus++] = i;
	if (ncpus == 0)
		cpus[ncpus++] = 0;
	printf("thread_teardown: %d CPUs, %d s\n", ncpus, RACE_SECONDS);

	uint32_t s = 0x5eed1234;
	int rounds = 0, reaped = 0, bad = 0, hung = 0, fork_fail = 0;
	int per_mode[NMODES] = { 0 };
	double start = now_s();
	while (rounds < MAX_ROUNDS && now_s() - start < RACE_SECONDS) {
		pid_t pids[NCHILD];
		enum mode modes[NCHILD];
		for (int k = 0; k < NCHILD; k++) {
			modes[k] = (enum mode)(rnd(&s) % NMODES);
			uint32_t seed = rnd(&s);
			fflush(stdout);
			pids[k] = fork();
			if (pids[k] == 0)
				child(modes[k], seed);
			if (pids[k] < 0)
				fork_fail++;
		}
		struct timespec ts = { 0, (long)(rnd(&s) % KILL_DELAY_US) * 1000 };
		nanosleep(&ts, NULL);
		for (int k = 0; k < NCHILD; k++) {
			if (pids[k] > 0 && (modes[k] == M_KILL || modes[k] == M_RACE))
				kill(pids[k], SIGKILL);
			if (pids[k] > 0 && modes[k] == M_PGKILL) {
				setpgid(pids[k], pids[k]);      /* whichever of us runs first */
				kill(-pids[k], SIGKILL);
			}
		}
		for (int k = 0; k < NCHILD; k++) {
			if (pids[k] <= 0)
				continue;
			double deadline = now_s() + REAP_TIMEOUT_S;
			int st = 0;
			pid_t r;
			while ((r = waitpid(pids[k], &st, WNOHANG)) == 0 && now_s() < deadline) {
				struct timespec p = { 0, 1000000 };
				nanosleep(&p, NULL);
			}
			if (r == 0) {
				printf("child %d (%s) still running after %d s\n", pids[k], mode_names[modes[k]], REAP_TIMEOUT_S);
				hung++;
				char path[64], buf[512];
				snprintf(path, sizeof(path), "/proc/%d/status", pids[k]);
				FILE *f = fopen(path, "r");
				while (f && fgets(buf, sizeof(buf), f))
					if (!strncmp(buf, "State", 5) || !strncmp(buf, "Threads", 7) || !strncmp(buf, "Sig", 3) || !strncmp(buf, "Shd", 3))
						printf("  %s", buf);
				if (f)
					fclose(f);
				kill(pids[k], SIGKILL);
				r = waitpid(pids[k], &st, 0);
			}
			if (r != pids[k]) {
				printf("waitpid(%d): %d errno %d\n", pids[k], r, errno);
				bad++;
				continue;
			}
			reaped++;
			per_mode[modes[k]]++;
			if (!status_ok(modes[k], st)) {
				printf("child %d (%s): status %#x\n", pids[k], mode_names[modes[k]], st);
				bad++;
			}
		}
		rounds++;
		while (waitpid(-1, NULL, WNOHANG) > 0)  /* orphaned grandchildren (we may be init) */
			;
	}
	while (waitpid(-1, NULL, 0) > 0)                /* the last ones, killed with their group */
		;
	printf("thread_teardown: %d rounds, %d children (kill %d group %d threads %d race %d pgkill %d) in %.1f s\n",
	       rounds, reaped, per_mode[M_KILL], per_mode[M_GROUP], per_mode[M_THREADS], per_mode[M_RACE],
	       per_mode[M_PGKILL], now_s() - start);
	CHECK("teardown: enough rounds ran", rounds >= MIN_ROUNDS, "%d rounds", rounds);
	CHECK("teardown: every fork succeeded", fork_fail == 0, "%d failed", fork_fail);
	CHECK("teardown: every child reaped with the status its way out allows", bad == 0 && reaped > 0,
	      "%d bad of %d", bad, reaped);
	CHECK("teardown: no child hung", hung == 0, "%d hung", hung);
	errno = 0;
	CHECK("teardown: ECHILD after the last", waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "errno %d", errno);
	return t_finish();
}
