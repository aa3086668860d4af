/*
 * Running out of memory (issue 17's reproducer, run as init inside Ember by
 * tests/system/test_oom.py; not a differential test: it would run the host out of memory).
 *
 * Cast: a "protected" process holding half of the free memory with oom_score_adj -1000 (the
 * largest footprint, so only its adj keeps it alive), a "bystander" rewriting and checking 4 MiB,
 * a "victim" forking children that each touch and check 8 MiB, and an "aggressor" that creates
 * System V segments (shmget, shmat, IPC_RMID), touches every page and never stops. When memory
 * runs out, the kernel must kill the aggressor (SIGKILL, named in the kernel log), and nobody else:
 * no fork fails, no child dies of a signal, every process's memory is intact, and free memory
 * comes back to where it was. Ends with "N passed, N failed" like user/tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../tests/harness.h"

#define PAGE 4096UL
#define SEG_BYTES (16UL << 20)
#define BYSTANDER_BYTES (4UL << 20)
#define CHILD_BYTES (8UL << 20)
#define AGGRESSOR_DEADLINE_S 180
#define SETTLE_S 2
#define FREE_SLACK_PCT 2
#define KLOG_READ_ALL 3
#define KLOG_SIZE_BUFFER 10

struct shared {
	volatile int stop;
	volatile int protected_ready;
	volatile long victim_forks, victim_fork_fail, victim_fork_errno, victim_child_bad, victim_child_sig;
	volatile long bystander_rounds, aggressor_segs;
};
static struct shared *sh;

static long free_bytes(void)
{
	struct sysinfo si;
	sysinfo(&si);
	return (long)(si.freeram * si.mem_unit);
}

static long read_proc_long(int pid, const char *file)
{
	char path[64], b[32] = { 0 };
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n > 0 ? strtol(b, NULL, 10) : -1;
}

static bool fill_check(unsigned char *p, size_t n, unsigned char seed, bool check)
{
	for (size_t i = 0; i < n; i += PAGE / 4) {
		unsigned char v = (unsigned char)(seed + i / PAGE);
		if (check && p[i] != v)
			return false;
		p[i] = v;
	}
	return true;
}

static int protected_main(size_t bytes)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0 || write(fd, "-1000", 5) != 5)
		return 2;
	close(fd);
	unsigned char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 3;
	fill_check(p, bytes, 7, false);
	sh->protected_ready = 1;
	while (!sh->stop) {
		if (!fill_check(p, bytes, 7, true))
			return 1;
		usleep(100000);
	}
	return 0;
}

static int bystander_main(void)
{
	unsigned char *p = malloc(BYSTANDER_BYTES);
	if (!p)
		return 3;
	for (unsigned char seed = 0; !sh->stop; seed++) {
		fill_check(p, BYSTANDER_BYTES, seed, false);
		usleep(20000);
		if (!fill_check(p, BYSTANDER_BYTES, seed, true))
			return 1;
		sh->bystander_rounds++;
	}
	return 0;
}

static int victim_main(void)
{
	while (!sh->stop) {
		pid_t c = fork();
		if (c < 0) {
			sh->victim_fork_fail++;
			sh->victim_fork_errno = errno;
			usleep(10000);
			continue;
		}
		if (c == 0) {
			unsigned char *p = malloc(CHILD_BYTES);
			if (!p)
				_exit(3);
			fill_check(p, CHILD_BYTES, (unsigned char)getpid(), false);
			_exit(fill_check(p, CHILD_BYTES, (unsigned char)getpid(), true) ? 0 : 1);
		}
		sh->victim_forks++;
		int st;
		if (waitpid(c, &st, 0) != c)
			return 4;
		if (WIFSIGNALED(st)) {
			sh->victim_child_sig = WTERMSIG(st);
			sh->victim_child_bad++;
		} else if (WEXITSTATUS(st)) {
			sh->victim_child_bad++;
		}
	}
	return 0;
}

static __attribute__((noreturn)) int aggressor_main(void)
{
	for (;;) {
		int id = shmget(IPC_PRIVATE, SEG_BYTES, IPC_CREAT | 0600);
		if (id < 0) {
			usleep(1000);
			continue;
		}
		unsigned char *p = shmat(id, NULL, 0);
		shmctl(id, IPC_RMID, NULL);           /* freed once detached (its death detaches it) */
		if (p == (void *)-1)
			continue;
		for (size_t i = 0; i < SEG_BYTES; i += PAGE)
			p[i] = 1;
		sh->aggressor_segs++;
	}
}

static pid_t spawn(int (*fn)(void))
{
	pid_t p = fork();
	if (p == 0)
		_exit(fn());
	return p;
}

static bool klog_names(pid_t pid)
{
	int size = klogctl(KLOG_SIZE_BUFFER, NULL, 0);
	if (size <= 0)
		return false;
	char *buf = malloc((size_t)size + 1);
	int n = klogctl(KLOG_READ_ALL, buf, size);
	if (n < 0)
		return false;
	buf[n] = 0;
	char want[80];
	snprintf(want, sizeof(want), "Out of memory: Killed process %d (oomstress)", pid);
	bool found = strstr(buf, want) != NULL;
	free(buf);
	return found;
}

int main(int argc, char **argv)
{
	/* --no-protected: the plain aggressor-and-victim reproducer, without the oom_score_adj=-1000
	 * process (runs on a kernel without oom_score_adj: the pre-OOM-policy one, for comparison) */
	bool with_protected = !(argc > 1 && strcmp(argv[1], "--no-protected") == 0);
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(AGGRESSOR_DEADLINE_S + 60);
	sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	sleep(1);                                       /* let boot-time allocations settle */
	long baseline = free_bytes();
	printf("free at start: %ld KiB\n", baseline >> 10);

	pid_t prot = with_protected ? fork() : 0;
	if (with_protected && prot == 0)
		_exit(protected_main((size_t)baseline / 2 & ~(PAGE - 1)));
	while (with_protected && !sh->protected_ready) {
		int st;
		if (waitpid(prot, &st, WNOHANG) == prot) {
			FAIL("protected_start", "status %#x", st);
			return t_finish();
		}
		usleep(10000);
	}
	pid_t by = spawn(bystander_main);
	pid_t vic = spawn(victim_main);
	sleep(1);
	if (with_protected)
		CHECK("protected_score_zero", read_proc_long(prot, "oom_score") == 0, "score %ld",
		      read_proc_long(prot, "oom_score"));
	CHECK("bystander_score_positive", read_proc_long(by, "oom_score") > 0, "score %ld",
	      read_proc_long(by, "oom_score"));

	pid_t agg = spawn(aggressor_main);
	int st = 0;
	pid_t w = 0;
	for (int i = 0; i < AGGRESSOR_DEADLINE_S * 10 && w == 0; i++) {
		w = waitpid(agg, &st, WNOHANG);
		if (w == 0)
			usleep(100000);
	}
	printf("aggressor: %ld segments of %lu MiB; victim: %ld forks\n", sh->aggressor_segs, SEG_BYTES >> 20,
	       sh->victim_forks);
	CHECK("aggressor_killed", w == agg && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "waitpid %d status %#x", w, st);
	if (w == 0) {
		kill(agg, SIGKILL);
		waitpid(agg, &st, 0);
	}
	CHECK("klog_names_aggressor", klog_names(agg), "no 'Out of memory: Killed process %d (oomstress)' line", agg);
	sleep(SETTLE_S);
	long forks_after = sh->victim_forks;
	sleep(SETTLE_S);
	CHECK("victim_forks_after_oom", sh->victim_forks > forks_after, "%ld -> %ld", forks_after, sh->victim_forks);
	sh->stop = 1;
	pid_t kids[3] = { prot, by, vic };
	const char *names[3] = { "protected_survives", "bystander_survives", "victim_survives" };
	for (int i = with_protected ? 0 : 1; i < 3; i++) {
		int s = -1;
		waitpid(kids[i], &s, 0);
		CHECK(names[i], WIFEXITED(s) && WEXITSTATUS(s) == 0, "status %#x", s);
	}
	CHECK("no_fork_failed", sh->victim_fork_fail == 0, "%ld forks failed (errno %ld)", sh->victim_fork_fail,
	      sh->victim_fork_errno);
	CHECK("no_victim_child_lost", sh->victim_child_bad == 0, "%ld children failed (last signal %ld)",
	      sh->victim_child_bad, sh->victim_child_sig);
	CHECK("bystander_ran", sh->bystander_rounds > 0, "%ld rounds", sh->bystander_rounds);
	long end = 0;
	for (int i = 0; i < 20; i++) {                  /* exits finish freeing shortly after wait */
		end = free_bytes();
		if (end >= baseline - baseline / 100 * FREE_SLACK_PCT)
			break;
		usleep(100000);
	}
	printf("free at end: %ld KiB\n", end >> 10);
	CHECK("free_memory_back", end >= baseline - baseline / 100 * FREE_SLACK_PCT, "start %ld end %ld", baseline, end);
	return t_finish();
}
