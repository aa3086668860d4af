/*
 * Context switch counts, as Linux keeps them: every time a thread blocks (here: a 1 ms
 * nanosleep) it makes a voluntary switch, which getrusage (RUSAGE_SELF, RUSAGE_THREAD,
 * RUSAGE_CHILDREN), wait4's rusage and /proc/<pid>/status (voluntary_ctxt_switches) report; a
 * process's count goes on including its threads that have exited, and a parent's children's
 * count includes what the children's own reaped children made. Bad arguments: EINVAL, EFAULT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define SLEEPS 20                   /* blocking sleeps per measured stretch */

static void nap(int n)
{
	for (int i = 0; i < n; i++) {
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static long nvcsw(int who)
{
	struct rusage ru;
	if (getrusage(who, &ru) != 0)
		return -1;
	return ru.ru_nvcsw;
}

/* voluntary_ctxt_switches of /proc/<pid>/status, or -1 */
static long status_switches(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* the sleeper thread's own counts: at its start and after its naps */
static long sleeper_thr0 = -1, sleeper_thr1 = -1, sleeper_self0 = -1;

static void *sleeper(void *arg)
{
	(void)arg;
	sleeper_thr0 = nvcsw(RUSAGE_THREAD);
	sleeper_self0 = nvcsw(RUSAGE_SELF);
	nap(SLEEPS);
	sleeper_thr1 = nvcsw(RUSAGE_THREAD);
	return NULL;
}

int main(void)
{
	/* the caller's own sleeps */
	long self0 = nvcsw(RUSAGE_SELF), thr0 = nvcsw(RUSAGE_THREAD), st0 = status_switches(getpid());
	nap(SLEEPS);
	long self1 = nvcsw(RUSAGE_SELF), thr1 = nvcsw(RUSAGE_THREAD), st1 = status_switches(getpid());
	CHECK("RUSAGE_SELF counts each blocking sleep", self0 >= 0 && self1 - self0 >= SLEEPS,
	      "%ld -> %ld over %d sleeps", self0, self1, SLEEPS);
	CHECK("RUSAGE_THREAD counts them", thr0 >= 0 && thr1 - thr0 >= SLEEPS, "%ld -> %ld", thr0, thr1);
	CHECK("/proc/<pid>/status voluntary_ctxt_switches counts them", st0 >= 0 && st1 - st0 >= SLEEPS,
	      "%ld -> %ld", st0, st1);

	/*
	 * A thread's sleeps: the process's count, and the thread's own RUSAGE_THREAD, which leaves out
	 * the main thread's SLEEPS naps that the process's count holds. Nothing absolute is assumed of
	 * a new thread's count: under qemu-user its host thread has made some 40 switches before the
	 * guest code runs. (Nor is the joiner's count compared: under qemu-user the host thread blocked
	 * in pthread_join is sometimes woken once per nap of the other thread.)
	 */
	pthread_t t;
	long self2 = nvcsw(RUSAGE_SELF);
	CHECK("pthread_create", pthread_create(&t, NULL, sleeper, NULL) == 0, "failed");
	pthread_join(t, NULL);
	long self3 = nvcsw(RUSAGE_SELF);
	CHECK("RUSAGE_SELF keeps an exited thread's switches", self3 - self2 >= SLEEPS, "%ld -> %ld", self2, self3);
	CHECK("RUSAGE_THREAD is the calling thread's only", sleeper_thr0 >= 0 &&
	      sleeper_self0 - sleeper_thr0 >= SLEEPS,
	      "new thread: RUSAGE_THREAD %ld, RUSAGE_SELF %ld", sleeper_thr0, sleeper_self0);
	CHECK("a thread's RUSAGE_THREAD counts its own sleeps", sleeper_thr1 - sleeper_thr0 >= SLEEPS,
	      "%ld -> %ld", sleeper_thr0, sleeper_thr1);

	/* a child's sleeps (and its own child's): wait4's rusage and RUSAGE_CHILDREN */
	long ch0 = nvcsw(RUSAGE_CHILDREN);
	pid_t pid = fork();
	if (pid == 0) {
		nap(SLEEPS);
		pid_t g = fork();
		if (g == 0) {
			nap(SLEEPS);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	int status = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	pid_t w = wait4(pid, &status, 0, &ru);
	CHECK("wait4 reaps the child", w == pid && WIFEXITED(status), "wait4 %d status %#x", (int)w, status);
	CHECK("wait4's rusage has the child's and grandchild's sleeps", ru.ru_nvcsw >= 2 * SLEEPS,
	      "ru_nvcsw %ld", ru.ru_nvcsw);
	long ch1 = nvcsw(RUSAGE_CHILDREN);
	CHECK("RUSAGE_CHILDREN adds them once reaped", ch1 - ch0 >= 2 * SLEEPS, "%ld -> %ld", ch0, ch1);

	/* bad arguments */
	errno = 0;
	CHECK("getrusage(who 5) is EINVAL", getrusage(5, &ru) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	CHECK("getrusage to a bad pointer is EFAULT", getrusage(RUSAGE_SELF, (struct rusage *)8) == -1 && errno == EFAULT,
	      "errno %d", errno);
	return t_finish();
}
