/*
 * The siginfo of signals the kernel sends, as Linux fills it: SIGCHLD for a child's exit, kill -9,
 * abort, stop and continue (si_code CLD_*, si_pid, si_uid, si_status, si_utime/si_stime) seen by
 * an SA_SIGINFO handler, by sigwaitinfo and by a signalfd; kill's SI_USER and tgkill's SI_TKILL
 * with the sender's pid; sigqueue's SI_QUEUE with its value; a standard signal sent twice while
 * pending keeps the first sender's siginfo; a blocked SIGCHLD with the default action stays
 * pending for sigwaitinfo; sigtimedwait's EAGAIN and EINVAL; rt_sigqueueinfo's EPERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define EXIT_CODE 7
#define BUSY_MS 300

static volatile sig_atomic_t got;
static siginfo_t last;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	last = *si;
	got++;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static long cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void busy(int ms)
{
	long end = cpu_ms() + ms;
	while (cpu_ms() < end)
		;
}

static pid_t child_pause(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	return c;
}

/* SIGCHLD blocked: wait for the handler to have run n times (sigsuspend opens SIGCHLD) */
static int wait_handler(int n)
{
	sigset_t open;
	sigprocmask(SIG_SETMASK, NULL, &open);
	sigdelset(&open, SIGCHLD);
	while (got < n) {
		alarm(5);
		sigsuspend(&open);
		alarm(0);
	}
	return got >= n;
}

static int chld_ok(const siginfo_t *si, int code, pid_t pid, int status)
{
	return si->si_signo == SIGCHLD && si->si_code == code && si->si_pid == pid && si->si_status == status &&
	       si->si_uid == getuid();
}

#define SHOW(si) "signo %d code %d pid %d status %d uid %d", (si).si_signo, (si).si_code, (si).si_pid, \
		 (si).si_status, (int)(si).si_uid

static void on_alarm(int sig) { (void)sig; }

static void test_handler(void)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	got = 0;
	pid_t c = fork();
	if (c == 0) {
		busy(BUSY_MS);
		_exit(EXIT_CODE);
	}
	wait_handler(1);
	CHECK("handler_exit_code", chld_ok(&last, CLD_EXITED, c, EXIT_CODE), SHOW(last));
	CHECK("handler_exit_times", last.si_utime + last.si_stime > 0 && last.si_utime + last.si_stime < 100 * 60,
	      "utime %ld stime %ld", (long)last.si_utime, (long)last.si_stime);
	waitpid(c, NULL, 0);

	got = 0;
	c = child_pause();
	kill(c, SIGKILL);
	wait_handler(1);
	CHECK("handler_kill9", chld_ok(&last, CLD_KILLED, c, SIGKILL), SHOW(last));
	waitpid(c, NULL, 0);

	got = 0;
	c = child_pause();
	kill(c, SIGSTOP);
	wait_handler(1);
	CHECK("handler_stopped", chld_ok(&last, CLD_STOPPED, c, SIGSTOP), SHOW(last));
	kill(c, SIGCONT);
	wait_handler(2);
	CHECK("handler_continued", chld_ok(&last, CLD_CONTINUED, c, SIGCONT), SHOW(last));
	kill(c, SIGKILL);
	wait_handler(3);
	waitpid(c, NULL, 0);

	/* abort: CLD_KILLED or CLD_DUMPED (core policy), the same code waitid reports */
	got = 0;
	c = fork();
	if (c == 0) {
		struct rlimit no = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no);
		abort();
	}
	wait_handler(1);
	siginfo_t w = { 0 };
	waitid(P_PID, c, &w, WEXITED | WNOWAIT);
	CHECK("handler_abort", (last.si_code == CLD_KILLED || last.si_code == CLD_DUMPED) &&
	      chld_ok(&last, w.si_code, c, SIGABRT), SHOW(last));
	waitpid(c, NULL, 0);

	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGCHLD, &sa, NULL);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
}

/* a blocked SIGCHLD with the default action stays pending (Linux does not discard blocked
 * signals) and sigwaitinfo takes it with its siginfo */
static void test_sigwaitinfo(void)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	siginfo_t si;

	pid_t c = fork();
	if (c == 0)
		_exit(EXIT_CODE + 1);
	int s = sigwaitinfo(&chld, &si);
	CHECK("wait_exit", s == SIGCHLD && chld_ok(&si, CLD_EXITED, c, EXIT_CODE + 1), "ret %d " SHOW(si), s);
	waitpid(c, NULL, 0);

	c = child_pause();
	kill(c, SIGKILL);
	s = sigwaitinfo(&chld, &si);
	CHECK("wait_kill9", s == SIGCHLD && chld_ok(&si, CLD_KILLED, c, SIGKILL), "ret %d " SHOW(si), s);
	waitpid(c, NULL, 0);

	c = child_pause();
	kill(c, SIGSTOP);
	s = sigwaitinfo(&chld, &si);
	CHECK("wait_stopped", s == SIGCHLD && chld_ok(&si, CLD_STOPPED, c, SIGSTOP), "ret %d " SHOW(si), s);
	kill(c, SIGCONT);
	s = sigwaitinfo(&chld, &si);
	CHECK("wait_continued", s == SIGCHLD && chld_ok(&si, CLD_CONTINUED, c, SIGCONT), "ret %d " SHOW(si), s);
	kill(c, SIGKILL);
	sigwaitinfo(&chld, &si);
	waitpid(c, NULL, 0);

	struct timespec zero = { 0, 0 }, bad = { 0, 1000000000L };
	errno = 0;
	CHECK("timedwait_eagain", sigtimedwait(&chld, &si, &zero) == -1 && errno == EAGAIN, "errno %d", errno);
	errno = 0;
	CHECK("timedwait_einval", sigtimedwait(&chld, &si, &bad) == -1 && errno == EINVAL, "errno %d", errno);
	struct timespec short_ts = { 0, 50000000L };
	errno = 0;
	CHECK("timedwait_timeout", sigtimedwait(&chld, &si, &short_ts) == -1 && errno == EAGAIN, "errno %d", errno);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
}

static void test_signalfd(void)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int fd = signalfd(-1, &chld, 0);
	struct signalfd_siginfo ssi;

	pid_t c = fork();
	if (c == 0) {
		busy(BUSY_MS);
		_exit(EXIT_CODE + 2);
	}
	ssize_t n = read(fd, &ssi, sizeof(ssi));
	CHECK("sfd_exit", n == sizeof(ssi) && ssi.ssi_signo == SIGCHLD && ssi.ssi_code == CLD_EXITED &&
	      ssi.ssi_pid == (uint32_t)c && ssi.ssi_status == EXIT_CODE + 2 && ssi.ssi_uid == getuid() &&
	      ssi.ssi_utime + ssi.ssi_stime > 0,
	      "n %zd code %d pid %u status %d utime %llu stime %llu", n, ssi.ssi_code, ssi.ssi_pid, ssi.ssi_status,
	      (unsigned long long)ssi.ssi_utime, (unsigned long long)ssi.ssi_stime);
	waitpid(c, NULL, 0);

	c = child_pause();
	kill(c, SIGKILL);
	n = read(fd, &ssi, sizeof(ssi));
	CHECK("sfd_kill9", n == sizeof(ssi) && ssi.ssi_code == CLD_KILLED && ssi.ssi_pid == (uint32_t)c &&
	      ssi.ssi_status == SIGKILL, "n %zd code %d pid %u status %d", n, ssi.ssi_code, ssi.ssi_pid, ssi.ssi_status);
	waitpid(c, NULL, 0);

	c = child_pause();
	kill(c, SIGSTOP);
	n = read(fd, &ssi, sizeof(ssi));
	CHECK("sfd_stopped", n == sizeof(ssi) && ssi.ssi_code == CLD_STOPPED && ssi.ssi_pid == (uint32_t)c &&
	      ssi.ssi_status == SIGSTOP, "n %zd code %d pid %u status %d", n, ssi.ssi_code, ssi.ssi_pid, ssi.ssi_status);
	kill(c, SIGCONT);
	n = read(fd, &ssi, sizeof(ssi));
	CHECK("sfd_continued", n == sizeof(ssi) && ssi.ssi_code == CLD_CONTINUED && ssi.ssi_pid == (uint32_t)c &&
	      ssi.ssi_status == SIGCONT, "n %zd code %d pid %u status %d", n, ssi.ssi_code, ssi.ssi_pid, ssi.ssi_status);
	kill(c, SIGKILL);
	read(fd, &ssi, sizeof(ssi));
	waitpid(c, NULL, 0);

	/* kill from a child: SI_USER with its pid */
	sigset_t usr;
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr, NULL);
	int ufd = signalfd(-1, &usr, 0);
	c = fork();
	if (c == 0) {
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	n = read(ufd, &ssi, sizeof(ssi));
	CHECK("sfd_kill_sender", n == sizeof(ssi) && ssi.ssi_signo == SIGUSR1 && ssi.ssi_code == SI_USER &&
	      ssi.ssi_pid == (uint32_t)c, "n %zd code %d pid %u", n, ssi.ssi_code, ssi.ssi_pid);
	close(ufd);
	close(fd);
	/* drain the SIGCHLD of the kill child */
	struct timespec zero = { 0, 0 };
	sigtimedwait(&chld, NULL, &zero);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
	sigprocmask(SIG_UNBLOCK, &usr, NULL);
}

static void test_senders(void)
{
	sigset_t usr;
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	sigaddset(&usr, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr, NULL);
	siginfo_t si;

	/* two senders while pending: one instance, the first one's siginfo */
	pid_t a = fork();
	if (a == 0) {
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	waitpid(a, NULL, 0);
	pid_t b = fork();
	if (b == 0) {
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	waitpid(b, NULL, 0);
	sigset_t only1;
	sigemptyset(&only1);
	sigaddset(&only1, SIGUSR1);
	int s = sigwaitinfo(&only1, &si);
	CHECK("legacy_first_kept", s == SIGUSR1 && si.si_code == SI_USER && si.si_pid == a,
	      "ret %d code %d pid %d (first %d second %d)", s, si.si_code, si.si_pid, a, b);
	struct timespec zero = { 0, 0 };
	errno = 0;
	CHECK("legacy_one_instance", sigtimedwait(&only1, &si, &zero) == -1 && errno == EAGAIN, "errno %d", errno);

	/* tgkill: SI_TKILL with the sender's pid (seen by a handler: qemu-user's sigwaitinfo loses it) */
	struct sigaction sa = { 0 }, old;
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, &old);
	got = 0;
	sigprocmask(SIG_UNBLOCK, &only1, NULL);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	sigprocmask(SIG_BLOCK, &only1, NULL);
	CHECK("tkill_info", got == 1 && last.si_signo == SIGUSR1 && last.si_code == SI_TKILL && last.si_pid == getpid(),
	      "got %d code %d pid %d", (int)got, last.si_code, last.si_pid);
	sigaction(SIGUSR1, &old, NULL);

	union sigval v = { .sival_int = 4242 };
	CHECK("sigqueue_ok", sigqueue(getpid(), SIGUSR2, v) == 0, "errno %d", errno);
	sigset_t only2;
	sigemptyset(&only2);
	sigaddset(&only2, SIGUSR2);
	s = sigwaitinfo(&only2, &si);
	CHECK("sigqueue_info", s == SIGUSR2 && si.si_code == SI_QUEUE && si.si_pid == getpid() &&
	      si.si_value.sival_int == 4242, "code %d pid %d value %d", si.si_code, si.si_pid, si.si_value.sival_int);

	/* only a process signalling itself may claim SI_USER or SI_TKILL */
	pid_t c = child_pause();
	siginfo_t fake;
	memset(&fake, 0, sizeof(fake));
	fake.si_code = SI_USER;
	errno = 0;
	CHECK("sigqueueinfo_eperm", syscall(SYS_rt_sigqueueinfo, c, SIGUSR1, &fake) == -1 && errno == EPERM,
	      "errno %d", errno);
	errno = 0;
	CHECK("sigqueueinfo_efault", syscall(SYS_rt_sigqueueinfo, c, SIGUSR1, (void *)8) == -1 && errno == EFAULT,
	      "errno %d", errno);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	sigprocmask(SIG_UNBLOCK, &usr, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGALRM, on_alarm);
	test_handler();
	test_sigwaitinfo();
	test_signalfd();
	test_senders();
	(void)sleep_ms;
	return t_finish();
}
