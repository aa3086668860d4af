/*
 * Job control: stop signals stop a whole process, SIGCONT continues it, and the parent sees both.
 * SIGSTOP/SIGTSTP stop (counters in shared memory freeze, /proc/<pid>/stat says T), wait4 with
 * WUNTRACED/WCONTINUED and waitid with WSTOPPED/WCONTINUED/WNOWAIT report each once (status
 * 0x7f|sig<<8 and 0xffff, CLD_STOPPED/CLD_CONTINUED), SIGCHLD reaches the parent unless
 * SA_NOCLDSTOP, a handled SIGTSTP does not stop, SIGCONT's handler runs after the continue, a
 * blocking read survives a stop (it restarts), every thread stops, kill(-pgid) stops a group,
 * SIGKILL ends a stopped process, and sending SIGCONT discards pending stop signals (and the
 * other way round).
 *
 * Structure: main forks a runner that does the work, so no child is init's (inside Ember this
 * program is init, and Linux treats a group whose only outside parent is init as orphaned, where
 * SIGTSTP is discarded); every stopped child makes its own process group, whose parent (the
 * runner) is in another group of the same session, so the group is not orphaned.
 *
 * qemu-user does not pass SA_NOCLDSTOP on to the host's sigaction, so that check runs in Ember only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "harness.h"
#include "sockutil.h"

#define SETTLE_MS 200
#define NCOUNTERS 4

struct shared {
	volatile unsigned long count[NCOUNTERS];
	volatile int flag;
};
static struct shared *sh;
static volatile int chld_count;

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void on_chld(int sig) { (void)sig; chld_count++; }
static void on_flag(int sig) { (void)sig; sh->flag = 1; }

static void spin(int i)
{
	for (;;)
		sh->count[i]++;
}

/* a child in its own process group counting in sh->count[0] */
static pid_t spawn_counter(void)
{
	sh->count[0] = 0;
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		spin(0);
	}
	setpgid(c, c);
	while (sh->count[0] == 0)               /* it runs */
		msleep(1);
	return c;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return '?';
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static bool frozen(int i)
{
	unsigned long a = sh->count[i];
	msleep(SETTLE_MS);
	return sh->count[i] == a;
}

static bool advancing(int i)
{
	unsigned long a = sh->count[i];
	for (int k = 0; k < 100 && sh->count[i] == a; k++)
		msleep(10);
	return sh->count[i] != a;
}

static void kill_and_reap(pid_t c)
{
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
}

static void test_stop_cont_wait4(void)
{
	pid_t c = spawn_counter();
	int st = 0;
	CHECK("sigstop_sent", kill(c, SIGSTOP) == 0, "errno %d", errno);
	pid_t r = waitpid(c, &st, WUNTRACED);
	CHECK("wait4_wuntraced_reports_stop", r == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP && st == 0x137f,
	      "r %d status %#x", r, st);
	CHECK("stopped_child_does_not_run", frozen(0), "counter moved");
	CHECK("proc_stat_state_T", proc_state(c) == 'T', "state %c", proc_state(c));
	st = 0;
	r = waitpid(c, &st, WUNTRACED | WNOHANG);
	CHECK("stop_reported_once", r == 0, "r %d status %#x", r, st);
	r = waitpid(c, &st, WNOHANG);
	CHECK("stop_not_reported_without_wuntraced", r == 0, "r %d", r);
	CHECK("sigcont_sent", kill(c, SIGCONT) == 0, "errno %d", errno);
	st = 0;
	r = waitpid(c, &st, WCONTINUED);
	CHECK("wait4_wcontinued_reports_continue", r == c && WIFCONTINUED(st) && st == 0xffff, "r %d status %#x", r, st);
	CHECK("continued_child_runs", advancing(0), "counter frozen");
	r = waitpid(c, &st, WCONTINUED | WNOHANG);
	CHECK("continue_reported_once", r == 0, "r %d status %#x", r, st);
	CHECK("proc_stat_state_not_T", proc_state(c) == 'R' || proc_state(c) == 'S', "state %c", proc_state(c));
	/* SIGKILL ends a stopped process */
	kill(c, SIGSTOP);
	waitpid(c, &st, WUNTRACED);
	kill(c, SIGKILL);
	r = waitpid(c, &st, 0);
	CHECK("sigkill_ends_stopped", r == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "r %d status %#x", r, st);
}

static void test_waitid(void)
{
	pid_t c = spawn_counter();
	siginfo_t si;
	kill(c, SIGSTOP);
	memset(&si, 0, sizeof(si));
	int r = waitid(P_PID, c, &si, WSTOPPED | WNOWAIT);
	CHECK("waitid_wstopped_nowait", r == 0 && si.si_pid == c && si.si_code == CLD_STOPPED &&
	      si.si_status == SIGSTOP && si.si_signo == SIGCHLD, "r %d pid %d code %d status %d", r, si.si_pid,
	      si.si_code, si.si_status);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, c, &si, WSTOPPED);
	CHECK("waitid_nowait_left_it", r == 0 && si.si_pid == c && si.si_code == CLD_STOPPED,
	      "r %d pid %d code %d", r, si.si_pid, si.si_code);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, c, &si, WSTOPPED | WNOHANG);
	CHECK("waitid_stop_consumed", r == 0 && si.si_pid == 0, "r %d pid %d code %d", r, si.si_pid, si.si_code);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, c, &si, WEXITED | WNOHANG);
	CHECK("waitid_wexited_ignores_stop", r == 0 && si.si_pid == 0, "r %d pid %d", r, si.si_pid);
	kill(c, SIGCONT);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, c, &si, WCONTINUED);
	CHECK("waitid_wcontinued", r == 0 && si.si_pid == c && si.si_code == CLD_CONTINUED && si.si_status == SIGCONT,
	      "r %d pid %d code %d status %d", r, si.si_pid, si.si_code, si.si_status);
	/* WSTOPPED alone does not report the exit: a WNOHANG wait for it finds nothing */
	kill(c, SIGKILL);
	msleep(SETTLE_MS);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, c, &si, WSTOPPED | WNOHANG);
	CHECK("waitid_wstopped_ignores_exit", r == -1 && errno == ECHILD, "r %d pid %d errno %d", r, si.si_pid, errno);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, c, &si, WEXITED);
	CHECK("waitid_exit_after", r == 0 && si.si_pid == c && si.si_code == CLD_KILLED && si.si_status == SIGKILL,
	      "r %d code %d", r, si.si_code);
}

static void test_sigchld(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	pid_t c = spawn_counter();
	int st;
	chld_count = 0;
	kill(c, SIGSTOP);
	waitpid(c, &st, WUNTRACED);
	for (int k = 0; k < 100 && chld_count == 0; k++)
		msleep(10);
	CHECK("sigchld_on_stop", chld_count == 1, "count %d", chld_count);
	kill(c, SIGCONT);
	waitpid(c, &st, WCONTINUED);
	for (int k = 0; k < 100 && chld_count == 1; k++)
		msleep(10);
	CHECK("sigchld_on_continue", chld_count == 2, "count %d", chld_count);

	if (!running_in_ember()) {     /* qemu-user does not pass SA_NOCLDSTOP to the host's sigaction */
		SKIP("sa_nocldstop_no_sigchld", "qemu-user drops SA_NOCLDSTOP");
		kill_and_reap(c);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		return;
	}
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	chld_count = 0;
	kill(c, SIGSTOP);
	waitpid(c, &st, WUNTRACED);
	kill(c, SIGCONT);
	waitpid(c, &st, WCONTINUED);
	msleep(SETTLE_MS);
	CHECK("sa_nocldstop_no_sigchld", chld_count == 0, "count %d", chld_count);
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	for (int k = 0; k < 100 && chld_count == 0; k++)
		msleep(10);
	CHECK("sa_nocldstop_still_exit_sigchld", chld_count == 1, "count %d", chld_count);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGCHLD, &sa, NULL);
}

static void test_tstp(void)
{
	pid_t c = spawn_counter();
	int st = 0;
	kill(c, SIGTSTP);
	pid_t r = waitpid(c, &st, WUNTRACED);
	CHECK("sigtstp_stops", r == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP,
	      "r %d status %#x", r, st);
	CHECK("sigtstp_frozen", frozen(0), "counter moved");
	kill(c, SIGCONT);
	CHECK("sigtstp_continue", advancing(0), "counter frozen");
	kill_and_reap(c);

	/* a handled SIGTSTP runs the handler and does not stop */
	sh->flag = 0;
	sh->count[0] = 0;
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		signal(SIGTSTP, on_flag);
		sh->count[1] = 1;
		spin(0);
	}
	while (sh->count[1] != 1 || sh->count[0] == 0)
		msleep(1);
	kill(c, SIGTSTP);
	for (int k = 0; k < 100 && !sh->flag; k++)
		msleep(10);
	r = waitpid(c, &st, WUNTRACED | WNOHANG);
	CHECK("handled_sigtstp_no_stop", sh->flag == 1 && r == 0 && advancing(0), "flag %d r %d", sh->flag, r);
	kill_and_reap(c);
	sh->count[1] = 0;

	/* an ignored SIGTSTP does nothing */
	sh->count[0] = 0;
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		signal(SIGTSTP, SIG_IGN);
		sh->count[1] = 1;
		spin(0);
	}
	while (sh->count[1] != 1 || sh->count[0] == 0)
		msleep(1);
	kill(c, SIGTSTP);
	msleep(SETTLE_MS);
	r = waitpid(c, &st, WUNTRACED | WNOHANG);
	CHECK("ignored_sigtstp_no_stop", r == 0 && advancing(0), "r %d", r);
	kill_and_reap(c);
	sh->count[1] = 0;
}

static void test_cont_handler(void)
{
	sh->flag = 0;
	sh->count[0] = 0;
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		signal(SIGCONT, on_flag);
		sh->count[1] = 1;
		spin(0);
	}
	while (sh->count[1] != 1 || sh->count[0] == 0)
		msleep(1);
	int st;
	kill(c, SIGSTOP);
	waitpid(c, &st, WUNTRACED);
	msleep(50);
	CHECK("sigcont_handler_not_while_stopped", sh->flag == 0, "flag %d", sh->flag);
	kill(c, SIGCONT);
	for (int k = 0; k < 100 && !sh->flag; k++)
		msleep(10);
	CHECK("sigcont_handler_runs_after", sh->flag == 1 && advancing(0), "flag %d", sh->flag);
	kill_and_reap(c);
	sh->count[1] = 0;
}

/* a child blocked in read() is stopped and continued: the read goes on and gets the byte */
static void test_read_restarts(void)
{
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		close(p[1]);
		char ch = 0;
		ssize_t n = read(p[0], &ch, 1);
		_exit(n == 1 ? ch : 100 + (n < 0 ? errno : 0));
	}
	close(p[0]);
	msleep(SETTLE_MS);
	int st;
	kill(c, SIGSTOP);
	pid_t r = waitpid(c, &st, WUNTRACED);
	CHECK("blocked_reader_stops", r == c && WIFSTOPPED(st), "r %d status %#x", r, st);
	kill(c, SIGCONT);
	msleep(SETTLE_MS);
	write(p[1], "A", 1);
	r = waitpid(c, &st, 0);
	CHECK("blocked_read_restarts", r == c && WIFEXITED(st) && WEXITSTATUS(st) == 'A', "r %d status %#x", r, st);
	close(p[1]);
}

static void *thread_spin(void *arg)
{
	spin((int)(long)arg);
	return NULL;
}

static void test_threads_stop(void)
{
	sh->count[2] = sh->count[3] = 0;
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		pthread_t th;
		pthread_create(&th, NULL, thread_spin, (void *)2L);
		spin(3);
	}
	while (sh->count[2] == 0 || sh->count[3] == 0)
		msleep(1);
	int st;
	kill(c, SIGSTOP);
	waitpid(c, &st, WUNTRACED);
	msleep(50);
	bool f2 = frozen(2), f3 = frozen(3);
	CHECK("every_thread_stops", f2 && f3, "thread %d main %d", f2, f3);
	kill(c, SIGCONT);
	bool a2 = advancing(2), a3 = advancing(3);
	CHECK("every_thread_continues", a2 && a3, "thread %d main %d", a2, a3);
	kill_and_reap(c);
}

static void test_group_stop(void)
{
	sh->count[0] = sh->count[1] = 0;
	pid_t a = fork();
	if (a == 0) {
		setpgid(0, 0);
		spin(0);
	}
	setpgid(a, a);
	pid_t b = fork();
	if (b == 0) {
		setpgid(0, a);
		spin(1);
	}
	setpgid(b, a);
	while (sh->count[0] == 0 || sh->count[1] == 0)
		msleep(1);
	int sa, sb;
	CHECK("kill_pgid_stop", kill(-a, SIGSTOP) == 0, "errno %d", errno);
	pid_t ra = waitpid(a, &sa, WUNTRACED), rb = waitpid(b, &sb, WUNTRACED);
	CHECK("group_members_stopped", ra == a && rb == b && WIFSTOPPED(sa) && WIFSTOPPED(sb), "%#x %#x", sa, sb);
	kill(-a, SIGCONT);
	CHECK("group_members_continue", advancing(0) && advancing(1), "frozen");
	kill(-a, SIGKILL);
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
}

static bool pending(int sig)
{
	sigset_t s;
	sigpending(&s);
	return sigismember(&s, sig);
}

/* SIGCONT discards pending stop signals, a stop signal discards a pending SIGCONT */
static void test_pending_discard(void)
{
	pid_t c = fork();
	if (c == 0) {
		int bad = 0;
		signal(SIGCONT, on_flag);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGCONT);
		sigaddset(&s, SIGTSTP);
		sigprocmask(SIG_BLOCK, &s, NULL);
		kill(getpid(), SIGCONT);
		if (!pending(SIGCONT))
			bad |= 1;
		kill(getpid(), SIGTSTP);
		if (pending(SIGCONT) || !pending(SIGTSTP))
			bad |= 2;
		kill(getpid(), SIGCONT);
		if (!pending(SIGCONT) || pending(SIGTSTP))
			bad |= 4;
		_exit(bad);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("cont_and_stop_discard_each_other", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}

static int runner(void)
{
	test_stop_cont_wait4();
	test_waitid();
	test_sigchld();
	test_tstp();
	test_cont_handler();
	test_read_restarts();
	test_threads_stop();
	test_group_stop();
	test_pending_discard();
	return t_finish();
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		printf("mmap failed\n0 passed, 1 failed\n");
		return 1;
	}
	pid_t r = fork();
	if (r == 0)
		_exit(runner());
	int st = 0;
	waitpid(r, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
