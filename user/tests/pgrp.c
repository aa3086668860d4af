/*
 * Process groups and sessions as a job-control shell uses them: setpgid (own group for a child,
 * moving it back, EINVAL/ESRCH/EPERM), getpgid/getsid, setsid (new session; EPERM for a group
 * leader), kill(-pgid) and kill(0) reaching exactly a group, waitpid(0) and waitpid(-pgid)
 * choosing children by group, and tcgetpgrp on something that is not a terminal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "harness.h"

#define NO_PID 99999

static pid_t spawn_sleeper(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	return c;
}

/* A child that reports through its exit status whether cond held, for checks made inside it. */
#define CHILD_CHECK(name, body) do { \
	pid_t _c = fork(); \
	if (_c == 0) { body; } \
	int _st; waitpid(_c, &_st, 0); \
	CHECK(name, WIFEXITED(_st) && WEXITSTATUS(_st) == 0, "child status %#x", _st); \
} while (0)

int main(void)
{
	pid_t me = getpid(), pg = getpgrp();
	CHECK("getpgid_self", getpgid(0) == pg && getpgid(me) == pg, "%d %d", getpgid(0), pg);
	/* 0 is legal: in a PID namespace whose session leader lives outside
	 * (CI containers), Linux reports the session id as 0. */
	CHECK("getsid_self", getsid(0) >= 0 && getsid(me) == getsid(0), "%d", getsid(0));

	pid_t a = spawn_sleeper(), b = spawn_sleeper();
	CHECK("child_inherits_group", getpgid(a) == pg, "%d vs %d", getpgid(a), pg);
	CHECK("setpgid_child_own", setpgid(a, a) == 0 && getpgid(a) == a, "errno %d", errno);
	CHECK("setpgid_join", setpgid(b, a) == 0 && getpgid(b) == a, "errno %d", errno);
	errno = 0;
	CHECK("setpgid_einval", setpgid(0, -1) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	CHECK("setpgid_esrch", setpgid(NO_PID, 0) == -1 && errno == ESRCH, "errno %d", errno);
	errno = 0;
	CHECK("setpgid_eperm_no_group", setpgid(b, NO_PID) == -1 && errno == EPERM, "errno %d", errno);
	errno = 0;
	CHECK("getpgid_esrch", getpgid(NO_PID) == -1 && errno == ESRCH, "errno %d", errno);
	errno = 0;
	CHECK("getsid_esrch", getsid(NO_PID) == -1 && errno == ESRCH, "errno %d", errno);

	/* waitpid(0): only children of our own group; a and b are in group a */
	pid_t c = fork();
	if (c == 0)
		_exit(5);
	int st = 0;
	CHECK("waitpid_0_own_group", waitpid(0, &st, 0) == c && WEXITSTATUS(st) == 5, "st %#x", st);
	errno = 0;
	CHECK("waitpid_0_none_left", waitpid(0, &st, WNOHANG) == -1 && errno == ECHILD, "errno %d", errno);

	/* kill(-pgid) reaches both, and not us */
	CHECK("kill_group_probe", kill(-a, 0) == 0, "errno %d", errno);
	CHECK("kill_group", kill(-a, SIGTERM) == 0, "errno %d", errno);
	int reaped = 0;
	for (int i = 0; i < 2; i++) {
		pid_t r = waitpid(-a, &st, 0);
		if ((r == a || r == b) && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
			reaped++;
	}
	CHECK("kill_group_both_died", reaped == 2, "%d", reaped);
	errno = 0;
	CHECK("kill_group_gone", kill(-a, 0) == -1 && errno == ESRCH, "errno %d", errno);
	CHECK("kill_0_probe", kill(0, 0) == 0, "errno %d", errno);

	/* setsid in a child that is not a group leader; then again (now a leader): EPERM */
	CHILD_CHECK("setsid_child", {
		pid_t s = setsid();
		int ok = s == getpid() && getsid(0) == getpid() && getpgid(0) == getpid();
		errno = 0;
		ok = ok && setsid() == -1 && errno == EPERM;
		_exit(ok ? 0 : 1);
	});
	CHILD_CHECK("setsid_group_leader_eperm", {
		int ok = setpgid(0, 0) == 0;
		errno = 0;
		ok = ok && setsid() == -1 && errno == EPERM;
		_exit(ok ? 0 : 1);
	});
	/* a child in another session cannot be moved */
	int up[2], down[2];                 /* child -> parent "in its session", parent -> child "go" */
	pipe(up);
	pipe(down);
	pid_t d = fork();
	if (d == 0) {
		char x;
		setsid();
		write(up[1], "s", 1);
		read(down[0], &x, 1);
		_exit(0);
	}
	char x;
	read(up[0], &x, 1);
	errno = 0;
	CHECK("setpgid_other_session_eperm", setpgid(d, d) == -1 && errno == EPERM, "errno %d", errno);
	CHECK("getsid_child_session", getsid(d) == d, "%d", getsid(d));
	write(down[1], "g", 1);
	waitpid(d, &st, 0);

	/* A group whose leader has exited but is not reaped yet still exists (a shell's pipeline: the
	 * first command ends before the second joins its group). */
	pid_t lead = fork();
	if (lead == 0) {
		setpgid(0, 0);
		_exit(0);
	}
	setpgid(lead, lead);
	siginfo_t si;
	waitid(P_PID, lead, &si, WEXITED | WNOWAIT);  /* a zombie now, not reaped */
	pid_t joiner = spawn_sleeper();
	CHECK("setpgid_join_group_of_zombie_leader", setpgid(joiner, lead) == 0 && getpgid(joiner) == lead,
	      "errno %d pgid %d", errno, getpgid(joiner));
	kill(joiner, SIGKILL);
	waitpid(joiner, &st, 0);
	waitpid(lead, &st, 0);
	errno = 0;
	CHECK("setpgid_group_gone_after_reap", setpgid(0, lead) == -1 && errno == EPERM, "errno %d", errno);

	int null = open("/dev/null", O_RDWR);
	errno = 0;
	CHECK("tcgetpgrp_not_tty", tcgetpgrp(null) == -1 && errno == ENOTTY, "errno %d", errno);
	close(null);
	return t_finish();
}
