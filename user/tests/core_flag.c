/*
 * The core flag of a fatal signal's wait status, as Linux sets it: only when a core was dumped.
 * With RLIMIT_CORE's soft limit 0 (Linux's default) no core is written, so a child killed by a
 * core signal (SIGABRT from abort, SIGSEGV from a bad store, SIGQUIT from kill) is CLD_KILLED
 * (waitid, SIGCHLD's si_code) and WCOREDUMP is false in wait4's status, as for SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

enum how { BY_ABORT, BY_SEGV, BY_KILL_QUIT, BY_KILL_TERM };

static volatile sig_atomic_t chld_code, chld_status, chld_seen;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	chld_code = si->si_code;
	chld_status = si->si_status;
	chld_seen = 1;
}

/* A child that dies the given way with RLIMIT_CORE's soft limit set to core_soft. */
static pid_t child(enum how how, rlim_t core_soft)
{
	pid_t c = fork();
	if (c == 0) {
		struct rlimit rl;
		getrlimit(RLIMIT_CORE, &rl);
		rl.rlim_cur = core_soft;
		if (setrlimit(RLIMIT_CORE, &rl))
			_exit(100);
		if (how == BY_ABORT)
			abort();
		if (how == BY_SEGV)
			*(volatile int *)16 = 1;
		for (;;)
			pause();
	}
	if (how == BY_KILL_QUIT || how == BY_KILL_TERM) {
		usleep(20000);
		kill(c, how == BY_KILL_QUIT ? SIGQUIT : SIGTERM);
	}
	return c;
}

static void check_death(const char *name, enum how how, int sig)
{
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	chld_seen = 0;
	pid_t c = child(how, 0);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	int r = waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	char n[64];
	snprintf(n, sizeof(n), "%s_waitid_killed", name);
	CHECK(n, r == 0 && si.si_code == CLD_KILLED && si.si_status == sig, "r %d code %d status %d", r, si.si_code,
	      si.si_status);
	int st = 0;
	waitpid(c, &st, 0);
	snprintf(n, sizeof(n), "%s_no_wcoredump", name);
	CHECK(n, WIFSIGNALED(st) && WTERMSIG(st) == sig && !WCOREDUMP(st), "status %#x", st);
	while (!chld_seen)
		sigsuspend(&old);
	snprintf(n, sizeof(n), "%s_sigchld_killed", name);
	CHECK(n, chld_code == CLD_KILLED && chld_status == sig, "code %d status %d", (int)chld_code, (int)chld_status);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	/* An ignored signal stays ignored across exec: a shell that started the test run in the
	 * background (no job control) passes SIGQUIT ignored, and the child then outlived its kill
	 * (the test hung in a CI rehearsal). The children must die by default actions. */
	signal(SIGQUIT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	check_death("abort", BY_ABORT, SIGABRT);
	check_death("segv", BY_SEGV, SIGSEGV);
	check_death("quit", BY_KILL_QUIT, SIGQUIT);
	check_death("term", BY_KILL_TERM, SIGTERM);
	return t_finish();
}
