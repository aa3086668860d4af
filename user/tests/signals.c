/*
 * Signals in depth: SA_SIGINFO fields, SA_RESETHAND, SA_NODEFER, blocking calls interrupted with
 * EINTR or restarted with SA_RESTART, SIGCHLD on child exit, sigsuspend, sigaltstack, tgkill to a
 * thread, and the kernel freeing a process's memory when it exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define LEAK_ROUNDS 20
#define LEAK_SLACK_BYTES (64 * 1024)

static volatile int hits, last_code;
static volatile void *last_addr;
static volatile uintptr_t handler_sp;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_code = si->si_code;
	last_addr = si->si_addr;
	(void)sig;
}

static void on_plain(int sig) { (void)sig; hits++; handler_sp = (uintptr_t)&sig; }

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void test_siginfo(void)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	hits = 0;
	kill(getpid(), SIGUSR1);
	CHECK("siginfo_user", hits == 1 && last_code == SI_USER, "hits=%d code=%d", hits, last_code);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	CHECK("siginfo_tkill", hits == 2 && last_code == SI_TKILL, "hits=%d code=%d", hits, last_code);
}

static void test_resethand(void)
{
	struct sigaction sa = { 0 }, old;
	sa.sa_handler = on_plain;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGUSR2, &sa, NULL);
	hits = 0;
	raise(SIGUSR2);
	sigaction(SIGUSR2, NULL, &old);
	CHECK("sa_resethand", hits == 1 && old.sa_handler == SIG_DFL, "hits=%d", hits);
}

static volatile int depth, max_depth, calls;
static void on_nested(int sig)
{
	calls++;
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (calls < 3)
		raise(sig);
	depth--;
}

static void test_nodefer(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_nested;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGUSR1, &sa, NULL);
	max_depth = calls = depth = 0;
	raise(SIGUSR1);
	CHECK("sa_nodefer_nests", max_depth == 3 && calls == 3, "max_depth=%d calls=%d", max_depth, calls);
	sa.sa_flags = 0;   /* default: blocked inside its handler, delivered after it returns */
	sigaction(SIGUSR1, &sa, NULL);
	max_depth = calls = depth = 0;
	raise(SIGUSR1);
	CHECK("handler_blocks_own_signal", max_depth == 1 && calls == 3, "max_depth=%d calls=%d", max_depth, calls);
}

/* A child signals us while we block in read(); restart or EINTR depending on SA_RESTART. */
static void test_restart(int restart)
{
	int fd[2];
	pipe(fd);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_plain;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, NULL);
	pid_t parent = getpid();
	pid_t p = fork();
	if (p == 0) {
		sleep_ms(100);
		kill(parent, SIGUSR1);
		sleep_ms(100);
		write(fd[1], "z", 1);
		_exit(0);
	}
	hits = 0;
	char c = 0;
	errno = 0;
	ssize_t n = read(fd[0], &c, 1);
	int e = errno;
	waitpid(p, NULL, 0);
	if (restart)
		CHECK("sa_restart_read", n == 1 && c == 'z' && hits == 1, "n=%zd errno=%d hits=%d", n, e, hits);
	else
		CHECK("eintr_read", n == -1 && e == EINTR && hits == 1, "n=%zd errno=%d hits=%d", n, e, hits);
	close(fd[0]);
	close(fd[1]);
}

static volatile int chld;
static void on_chld(int s) { (void)s; chld++; }

static void test_sigchld_and_suspend(void)
{
	signal(SIGCHLD, on_chld);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	chld = 0;
	pid_t p = fork();
	if (p == 0)
		_exit(3);
	sigset_t wait_mask = old;
	sigdelset(&wait_mask, SIGCHLD);
	int r = sigsuspend(&wait_mask);
	int e = errno;
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	CHECK("sigchld_sigsuspend", r == -1 && e == EINTR && chld == 1, "r=%d errno=%d chld=%d", r, e, chld);
	CHECK("sigsuspend_restores_mask", sigismember(&now, SIGCHLD), "mask not restored");
	sigprocmask(SIG_SETMASK, &old, NULL);
	int st;
	CHECK("sigchld_child_reaped", waitpid(p, &st, 0) == p && WEXITSTATUS(st) == 3, "st=%#x", st);
	signal(SIGCHLD, SIG_DFL);
}

static void test_altstack(void)
{
	static char stack[65536];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack), .ss_flags = 0 };
	CHECK("sigaltstack_set", sigaltstack(&ss, NULL) == 0, "errno=%d", errno);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_plain;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);
	handler_sp = 0;
	raise(SIGUSR2);
	CHECK("handler_on_altstack", handler_sp >= (uintptr_t)stack && handler_sp < (uintptr_t)stack + sizeof(stack),
	      "sp=%#lx", (unsigned long)handler_sp);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	errno = 0;
	stack_t small = { .ss_sp = stack, .ss_size = 100, .ss_flags = 0 };
	CHECK("sigaltstack_too_small", sigaltstack(&small, NULL) == -1 && errno == ENOMEM, "errno=%d", errno);
}

static volatile int thread_got;
static void on_thread_sig(int s) { (void)s; thread_got = (int)syscall(SYS_gettid); }
static volatile int thread_tid, thread_stop;
static void *sig_thread(void *a)
{
	(void)a;
	thread_tid = (int)syscall(SYS_gettid);
	while (!thread_stop)
		sleep_ms(5);
	return NULL;
}

static void test_tgkill_thread(void)
{
	signal(SIGUSR2, on_thread_sig);
	pthread_t t;
	pthread_create(&t, NULL, sig_thread, NULL);
	while (!thread_tid)
		sleep_ms(1);
	syscall(SYS_tgkill, getpid(), thread_tid, SIGUSR2);
	for (int i = 0; i < 200 && !thread_got; i++)
		sleep_ms(5);
	thread_stop = 1;
	pthread_join(t, NULL);
	CHECK("tgkill_reaches_thread", thread_got == thread_tid, "got=%d want=%d", thread_got, thread_tid);
	errno = 0;
	CHECK("tgkill_esrch", syscall(SYS_tgkill, getpid(), 999999, SIGUSR2) == -1 && errno == ESRCH, "errno=%d", errno);
	errno = 0;
	CHECK("kill_einval", kill(getpid(), 1000) == -1 && errno == EINVAL, "errno=%d", errno);
}

static int child_status(void (*fn)(void))
{
	pid_t p = fork();
	if (p == 0) {
		fn();
		_exit(0);
	}
	int st = 0;
	waitpid(p, &st, 0);
	return st;
}

static void do_sigpipe(void)
{
	int fd[2];
	pipe(fd);
	close(fd[0]);
	write(fd[1], "x", 1);
}

static void do_sigill(void) { __asm__ volatile(".word 0"); }

static void do_abort(void) { abort(); }

static void test_default_actions(void)
{
	int st = child_status(do_sigpipe);
	CHECK("default_sigpipe_kills", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "st=%#x", st);
	st = child_status(do_sigill);
	CHECK("illegal_instruction_sigill", WIFSIGNALED(st) && WTERMSIG(st) == SIGILL, "st=%#x", st);
	st = child_status(do_abort);
	CHECK("abort_sigabrt", WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "st=%#x", st);
}

static void *noop_thread(void *a) { return a; }

static void churn(void)
{
	for (int i = 0; i < LEAK_ROUNDS; i++) {
		pid_t p = fork();
		if (p == 0) {
			char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			memset(m, 1, 1 << 20);
			int fd[2];
			pipe(fd);
			write(fd[1], "x", 1);
			_exit(0);
		}
		waitpid(p, NULL, 0);
		pthread_t t;
		pthread_create(&t, NULL, noop_thread, NULL);
		pthread_join(t, NULL);
	}
}

static void test_no_leak(void)
{
	struct utsname u;
	uname(&u);
	if (!strstr(u.release, "ember")) {
		SKIP("exit_frees_memory", "free memory on the host's Linux moves for reasons of its own");
		return;
	}
	struct sysinfo a, b;
	churn();                             /* warm the kernel's caches */
	sysinfo(&a);
	churn();
	sysinfo(&b);
	long delta = (long)a.freeram - (long)b.freeram;
	CHECK("exit_frees_memory", delta <= LEAK_SLACK_BYTES && delta >= -LEAK_SLACK_BYTES,
	      "free before %lu after %lu (lost %ld bytes)", a.freeram, b.freeram, delta);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_siginfo();
	test_resethand();
	test_nodefer();
	test_restart(0);
	test_restart(1);
	test_sigchld_and_suspend();
	test_altstack();
	test_tgkill_thread();
	test_default_actions();
	test_no_leak();
	return t_finish();
}
