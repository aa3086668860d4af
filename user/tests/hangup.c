/*
 * SIGHUP from the kernel, as Linux sends it:
 *   - a session leader with a controlling terminal exits: the terminal's foreground process group
 *     gets SIGHUP (si_code SI_KERNEL) and the terminal leaves the session (a pty under Linux; the
 *     console inside Ember, which has no ptys);
 *   - POSIX orphaned process groups: when an exit orphans a group that has a stopped member, the
 *     group gets SIGHUP then SIGCONT; both through a child's group (its parent exits) and through
 *     the exiting process's own group (it was the member tying the group to the session); a
 *     group orphaned with no stopped member gets nothing.
 * Each case runs in a new session (setsid), so the process that inherits the orphans (init, or a
 * subreaper under qemu-user) sits outside the session as POSIX's rule wants.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define REPORT_TIMEOUT_MS 10000
#define QUIET_MS 400

static int report_fd = -1;          /* the reporting child's end of the pipe to main */
static volatile sig_atomic_t seen;  /* 1: SIGHUP, 2: SIGCONT */

/* Handler of the process that reports: one record per signal, H/C, then k for SI_KERNEL. Both
 * pending at once, SIGHUP's frame is set up first and SIGCONT's on top of it (Linux and Ember
 * alike), so the SIGCONT handler runs first: main compares the set, not the order. */
static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char rec[2] = { sig == SIGHUP ? 'H' : sig == SIGCONT ? 'C' : '?', si->si_code == SI_KERNEL ? 'k' : 'u' };
	write(report_fd, rec, sizeof(rec));
	seen |= sig == SIGHUP ? 1 : 2;
}

/* the reporter: wait for the signals wanted (1 SIGHUP, 2 SIGCONT), then leave */
static void __attribute__((noreturn)) report_until(int want)
{
	while ((seen & want) != want)
		pause();
	_exit(0);
}

/* records sorted: the set of signals received */
static void sort_records(char *buf)
{
	int n = (int)strlen(buf) / 2;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (buf[2 * j] > buf[2 * i]) {
				char a = buf[2 * i], b = buf[2 * i + 1];
				buf[2 * i] = buf[2 * j];
				buf[2 * i + 1] = buf[2 * j + 1];
				buf[2 * j] = a;
				buf[2 * j + 1] = b;
			}
}

static void catch_hup_cont(int wfd)
{
	report_fd = wfd;
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCONT, &sa, NULL);
}

/* What main reads from the pipe until EOF or the timeout (every writer gone) */
static int read_report(int rfd, char *buf, int max)
{
	int n = 0;
	struct pollfd p = { rfd, POLLIN, 0 };
	while (n < max && poll(&p, 1, REPORT_TIMEOUT_MS) > 0) {
		ssize_t r = read(rfd, buf + n, (size_t)(max - n));
		if (r <= 0)
			break;
		n += (int)r;
	}
	buf[n] = 0;
	return n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A child's group is orphaned by its parent's exit while it is stopped: SIGHUP, then SIGCONT. */
static void test_orphan_child_group(void)
{
	int p[2];
	pipe(p);
	pid_t a = fork();
	if (a == 0) {
		close(p[0]);
		setsid();
		pid_t b = fork();
		if (b == 0) {
			setpgid(0, 0);
			catch_hup_cont(p[1]);
			raise(SIGSTOP);
			report_until(3);
		}
		close(p[1]);
		int st;
		waitpid(b, &st, WUNTRACED);
		_exit(WIFSTOPPED(st) ? 0 : 1);
	}
	close(p[1]);
	int st;
	waitpid(a, &st, 0);
	char buf[16];
	read_report(p[0], buf, 4);
	sort_records(buf);
	CHECK("orphan_child_group_hup_cont", strcmp(buf, "HkCk") == 0, "got '%s' (middle exited %#x)", buf, st);
	close(p[0]);
}

/* The exiting process was the one member of its group whose parent sat in another group of the
 * session; a stopped member (its child) is left: the group gets SIGHUP, then SIGCONT. */
static void test_orphan_own_group(void)
{
	int p[2];
	pipe(p);
	pid_t a = fork();
	if (a == 0) {
		close(p[0]);
		setsid();
		pid_t g = fork();
		if (g == 0) {
			setpgid(0, 0);
			pid_t s = fork();
			if (s == 0) {
				catch_hup_cont(p[1]);
				raise(SIGSTOP);
				report_until(3);
			}
			close(p[1]);
			int st;
			waitpid(s, &st, WUNTRACED);
			_exit(0);
		}
		close(p[1]);
		waitpid(g, NULL, 0);
		for (;;)                    /* stays, in another group of the session */
			pause();
	}
	close(p[1]);
	char buf[16];
	read_report(p[0], buf, 4);
	sort_records(buf);
	CHECK("orphan_own_group_hup_cont", strcmp(buf, "HkCk") == 0, "got '%s'", buf);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	close(p[0]);
}

/* Orphaned with nobody stopped: no signal. */
static void test_orphan_running(void)
{
	int p[2];
	pipe(p);
	pid_t a = fork();
	if (a == 0) {
		close(p[0]);
		setsid();
		int go[2];
		pipe(go);
		pid_t b = fork();
		if (b == 0) {
			close(go[1]);
			setpgid(0, 0);
			catch_hup_cont(p[1]);
			char c;
			read(go[0], &c, 1);             /* EOF once the parent exited */
			sleep_ms(QUIET_MS);
			write(p[1], "N", 1);
			_exit(0);
		}
		setpgid(b, b);
		_exit(0);
	}
	close(p[1]);
	waitpid(a, NULL, 0);
	char buf[16];
	read_report(p[0], buf, 4);
	CHECK("orphan_running_nothing", strcmp(buf, "N") == 0, "got '%s'", buf);
	close(p[0]);
}

/* A terminal to control: a pty under Linux; the console inside Ember (no ptys there). */
static int open_terminal(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m >= 0) {
		if (grantpt(m) == 0 && unlockpt(m) == 0) {
			int s = open(ptsname(m), O_RDWR | O_NOCTTY);
			if (s >= 0)
				return s;               /* m stays open (leaked to the leader's exit) */
		}
		close(m);
	}
	return open("/dev/console", O_RDWR | O_NOCTTY);
}

/* The session leader exits (or, notty, gives the terminal up with TIOCNOTTY): its terminal's
 * foreground group gets SIGHUP (SI_KERNEL), or for TIOCNOTTY SIGHUP and SIGCONT (SI_USER: Linux's
 * disassociate_ctty(0) sends them as from the leader). */
static void leader_case(bool notty)
{
	int p[2];
	pipe(p);
	pid_t l = fork();
	if (l == 0) {
		close(p[0]);
		setsid();
		int t = open_terminal();
		if (t < 0 || ioctl(t, TIOCSCTTY, 1) < 0) {
			write(p[1], "T", 1);
			_exit(1);
		}
		int ready[2];
		pipe(ready);
		pid_t f = fork();
		if (f == 0) {
			setpgid(0, 0);
			catch_hup_cont(p[1]);
			write(ready[1], "r", 1);
			report_until(notty ? 3 : 1);
		}
		close(p[1]);
		setpgid(f, f);
		char c;
		read(ready[0], &c, 1);
		if (tcsetpgrp(t, f) < 0)
			_exit(2);
		if (tcgetpgrp(t) != f)
			_exit(3);
		if (notty) {
			if (ioctl(t, TIOCNOTTY) < 0)
				_exit(4);
			errno = 0;                  /* no longer the controlling terminal */
			_exit(tcgetpgrp(t) == -1 && errno == ENOTTY ? 0 : 5);
		}
		_exit(0);
	}
	close(p[1]);
	int st;
	waitpid(l, &st, 0);
	char buf[16];
	read_report(p[0], buf, 4);
	sort_records(buf);
	if (notty)
		CHECK("notty_fg_hup_cont", WIFEXITED(st) && WEXITSTATUS(st) == 0 && strcmp(buf, "HuCu") == 0,
		      "leader status %#x, got '%s'", st, buf);
	else
		CHECK("leader_exit_fg_hup", WIFEXITED(st) && WEXITSTATUS(st) == 0 && strcmp(buf, "Hk") == 0,
		      "leader status %#x, got '%s'", st, buf);
	close(p[0]);
}

static void test_leader_exit(void) { leader_case(false); }
static void test_notty(void) { leader_case(true); }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	test_orphan_child_group();
	test_orphan_own_group();
	test_orphan_running();
	test_leader_exit();
	test_notty();
	while (waitpid(-1, NULL, WNOHANG) > 0)   /* orphans reaped when this is init */
		;
	return t_finish();
}
