/*
 * Console output and fork placement, inside Ember only (tests/system/test_console_out.py reads
 * the console from the host). Modes:
 *
 *   burst N      N numbered lines ("burst <i> <pattern>\n", one write each: more than the
 *                console's output ring holds), then reboot(POWER_OFF) at once: the host must see
 *                every line, in order, before QEMU exits (power-off empties the ring first).
 *   writers      WRITERS processes write LINES lines each ("w<k> <i> <pattern>\n", one write()
 *                per line) at the same time: every line must arrive whole, each writer's in order.
 *   forkline N   N rounds of the contest's test_pipe pattern: fork, then parent and child each
 *                print "cpid: <pid>\n" in three write()s; the parent waits. The host checks that
 *                no two lines interleaved ("Fork placement" in kernel/sched.c).
 *   spread       the parent forks NSPIN children that spin until all have checked in through
 *                shared memory, spin SETTLE_MS more and then report the CPU they run on; the
 *                parent waits. All must check in (an idle CPU took each) and end on distinct
 *                CPUs (a CPU with two while another idles kicks or is stolen from).
 *
 * Each mode but burst ends with "N passed, N failed" for what it can check itself.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATTERN "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define WRITERS 4
#define LINES 300
#define NSPIN 3
#define SPREAD_TIMEOUT_S 10
#define SETTLE_MS 300       /* spinning together this long, they sit on distinct CPUs */

static int passed, failed;

static void check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", what);
	fflush(stdout);
	ok ? passed++ : failed++;
}

static void put(const char *s) { write(1, s, strlen(s)); }

static void burst(int n)
{
	char line[160];
	for (int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "burst %d %s\n", i, PATTERN);
		write(1, line, len);
	}
	sync();
	reboot(RB_POWER_OFF);
	put("FAIL reboot returned\n");
	exit(1);
}

static void writers(void)
{
	for (int k = 0; k < WRITERS; k++) {
		if (fork() == 0) {
			char line[160];
			for (int i = 0; i < LINES; i++) {
				int len = snprintf(line, sizeof(line), "w%d %d %s\n", k, i, PATTERN);
				write(1, line, len);
			}
			_exit(0);
		}
	}
	int ok = 1, st;
	for (int k = 0; k < WRITERS; k++)
		ok &= wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	check(ok, "writers: every writer exited 0");
}

/* As the contest's basic printf: the text, the number and the line end in separate writes. */
static void cpid_line(int pid)
{
	char num[16];
	put("cpid: ");
	snprintf(num, sizeof(num), "%d", pid);
	put(num);
	put("\n");
}

static void forkline(int n)
{
	int ok = 1, st;
	for (int i = 0; i < n; i++) {
		int pid = fork();
		cpid_line(pid);
		if (pid == 0)
			_exit(0);
		ok &= pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st);
	}
	put("forkline done\n");
	check(ok, "forkline: every child reaped");
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void spread(void)
{
	volatile int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		check(0, "spread: mmap");
		return;
	}
	for (int k = 0; k < NSPIN; k++) {
		if (fork() == 0) {
			__atomic_fetch_add(&shared[0], 1, __ATOMIC_SEQ_CST);
			double end = now() + SPREAD_TIMEOUT_S;
			while (__atomic_load_n(&shared[0], __ATOMIC_SEQ_CST) < NSPIN && now() < end)
				;
			int all_in = __atomic_load_n(&shared[0], __ATOMIC_SEQ_CST) == NSPIN;
			/* all running: give balancing SETTLE_MS, then each says where it is, and none
			 * leaves (freeing its CPU) before all have said it */
			for (double settle = now() + SETTLE_MS / 1e3; now() < settle;)
				;
			shared[1 + k] = sched_getcpu();
			__atomic_fetch_add(&shared[4], 1, __ATOMIC_SEQ_CST);
			while (__atomic_load_n(&shared[4], __ATOMIC_SEQ_CST) < NSPIN && now() < end + 1)
				;
			_exit(all_in ? 0 : 1);
		}
	}
	int ok = 1, st;
	for (int k = 0; k < NSPIN; k++)
		ok &= wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	check(ok, "spread: the spinning children all ran at once");
	int distinct = 1;
	for (int a = 0; a < NSPIN; a++)
		for (int b = a + 1; b < NSPIN; b++)
			distinct &= shared[1 + a] != shared[1 + b];
	printf("spread cpus %d %d %d\n", shared[1], shared[2], shared[3]);
	check(distinct, "spread: on distinct CPUs");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int n = argc > 2 ? atoi(argv[2]) : 0;
	if (!strcmp(mode, "burst") && n > 0)
		burst(n);
	else if (!strcmp(mode, "writers"))
		writers();
	else if (!strcmp(mode, "forkline") && n > 0)
		forkline(n);
	else if (!strcmp(mode, "spread"))
		spread();
	else {
		fprintf(stderr, "usage: console burst N | writers | forkline N | spread\n");
		return 2;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
