/*
 * Real-time signals are queued, as Linux does: every sigqueue/kill/tgkill of SIGRTMIN..SIGRTMAX
 * adds one instance with its own siginfo (si_value kept), taken one at a time in order of signal
 * number and then of sending, the thread's own instances before the process's; standard signals
 * stay one instance with the first siginfo. The queue is bounded by RLIMIT_SIGPENDING: sigqueue
 * and tgkill get EAGAIN when it is full, kill still makes the signal pending (its siginfo lost),
 * a standard signal sent by sigqueue then arrives with SI_USER and no sender. /proc/self/status's
 * SigQ counts the queued records against the limit. Taken by sigwaitinfo, by a handler (one call
 * per instance) and by signalfd (one record per instance); an ignored action drops them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define LIMIT_ROOM 5                     /* instances the test's RLIMIT_SIGPENDING leaves room for */

static int tgkill_self(int sig) { return (int)syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig); }

/* rt_tgsigqueueinfo to the calling thread: SI_QUEUE with a value (glibc's pthread_sigqueue) */
static int tg_queue(int sig, int value)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	return (int)syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), sig, &si);
}

static int queue(int sig, int value)
{
	union sigval v = { .sival_int = value };
	return sigqueue(getpid(), sig, v);
}

static void block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

/* take one pending instance of sig without waiting: its siginfo, or si_signo 0 */
static siginfo_t take(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (sigtimedwait(&s, &si, &zero) != sig)
		memset(&si, 0, sizeof(si));
	return si;
}

static int pending(int sig)
{
	sigset_t s;
	sigpending(&s);
	return sigismember(&s, sig);
}

/* SigQ's queued count from /proc/self/status, or -1 without one */
static long sigq_count(unsigned long *limit)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long n = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "SigQ:\t%ld/%lu", &n, limit) == 2)
			break;
	if (f)
		fclose(f);
	return n;
}

#define SHOW(si) "signo %d code %d value %d pid %d", (si).si_signo, (si).si_code, (si).si_value.sival_int, \
		 (int)(si).si_pid

static int is_queued(const siginfo_t *si, int sig, int value)
{
	return si->si_signo == sig && si->si_code == SI_QUEUE && si->si_value.sival_int == value &&
	       si->si_pid == getpid();
}

static void test_order(void)
{
	int a = SIGRTMIN + 1, b = SIGRTMIN + 2;
	block(a);
	block(b);
	queue(b, 1);
	queue(a, 2);
	queue(b, 3);
	queue(a, 4);
	kill(getpid(), b);
	siginfo_t s1 = take(a);
	CHECK("rt_first_lowest_number", is_queued(&s1, a, 2), SHOW(s1));
	CHECK("rt_still_pending_after_one", pending(a), "signal %d no longer pending", a);
	siginfo_t s2 = take(a);
	CHECK("rt_second_instance", is_queued(&s2, a, 4), SHOW(s2));
	CHECK("rt_gone_after_last", !pending(a), "signal %d still pending", a);
	siginfo_t s3 = take(b), s4 = take(b), s5 = take(b), s6 = take(b);
	CHECK("rt_higher_in_order", is_queued(&s3, b, 1) && is_queued(&s4, b, 3), SHOW(s3));
	CHECK("rt_kill_queued_too", s5.si_signo == b && s5.si_code == SI_USER && s5.si_pid == getpid(), SHOW(s5));
	CHECK("rt_all_taken", s6.si_signo == 0 && !pending(b), SHOW(s6));

	/* thread-directed instances first, then the process's, each in sending order (tgkill's
	 * si_code is left alone: hosts differ, see sigchld_info) */
	queue(a, 10);
	tg_queue(a, 11);
	tg_queue(a, 12);
	siginfo_t t1 = take(a), t2 = take(a), t3 = take(a), t4 = take(a);
	CHECK("rt_thread_instances_first", is_queued(&t1, a, 11) && is_queued(&t2, a, 12), SHOW(t1));
	CHECK("rt_then_process_instance", is_queued(&t3, a, 10) && t4.si_signo == 0, SHOW(t3));
	tgkill_self(a);
	tgkill_self(a);
	siginfo_t k1 = take(a), k2 = take(a), k3 = take(a);
	CHECK("rt_tgkill_queued", k1.si_signo == a && k2.si_signo == a && k3.si_signo == 0, SHOW(k2));

	/* a standard signal is one instance with the first sender's siginfo */
	block(SIGUSR1);
	queue(SIGUSR1, 20);
	queue(SIGUSR1, 21);
	siginfo_t u1 = take(SIGUSR1), u2 = take(SIGUSR1);
	CHECK("standard_not_queued", is_queued(&u1, SIGUSR1, 20) && u2.si_signo == 0, SHOW(u1));
}

#define HANDLED_MAX 16
static volatile int handled_n;
static int handled_sig[HANDLED_MAX], handled_val[HANDLED_MAX];

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (handled_n < HANDLED_MAX) {
		handled_sig[handled_n] = sig;
		handled_val[handled_n] = si->si_value.sival_int;
	}
	handled_n++;
}

/* one handler call per instance, in sending order (across signal numbers qemu-user's own
 * queue reorders handlers; sigwaitinfo shows that order above) */
static void test_handler(void)
{
	int a = SIGRTMIN + 3;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(a, &sa, NULL);
	sigset_t one, old;
	sigemptyset(&one);
	sigaddset(&one, a);
	sigprocmask(SIG_BLOCK, &one, &old);
	queue(a, 2);
	queue(a, 4);
	queue(a, 5);
	handled_n = 0;
	sigprocmask(SIG_UNBLOCK, &one, NULL);   /* all three arrive before sigprocmask returns */
	int want_val[] = { 2, 4, 5 };
	int ok = handled_n == 3;
	for (int i = 0; ok && i < 3; i++)
		ok = handled_sig[i] == a && handled_val[i] == want_val[i];
	CHECK("handler_once_per_instance_in_order", ok, "%d calls, first %d/%d", handled_n, handled_sig[0], handled_val[0]);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void test_signalfd(void)
{
	int a = SIGRTMIN + 5;
	block(a);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, a);
	int fd = signalfd(-1, &s, SFD_NONBLOCK);
	for (int v = 30; v < 33; v++)
		queue(a, v);
	struct signalfd_siginfo r[4];
	ssize_t n = read(fd, r, sizeof(r));
	int ok = n == 3 * (ssize_t)sizeof(r[0]);
	for (int i = 0; ok && i < 3; i++)
		ok = (int)r[i].ssi_signo == a && r[i].ssi_code == SI_QUEUE && r[i].ssi_int == 30 + i;
	CHECK("signalfd_one_record_per_instance", ok, "read %zd, first value %d", n, n > 0 ? r[0].ssi_int : -1);
	n = read(fd, r, sizeof(r));
	CHECK("signalfd_drained", n == -1 && errno == EAGAIN, "read %zd errno %d", n, errno);
	close(fd);
}

static void test_ignore_drops(void)
{
	int a = SIGRTMIN + 6;
	block(a);
	queue(a, 1);
	queue(a, 2);
	signal(a, SIG_IGN);
	CHECK("ignore_drops_instances", !pending(a), "still pending");
	signal(a, SIG_DFL);
	block(a);
	queue(a, 3);
	siginfo_t si = take(a);
	CHECK("ignore_then_queue_again", is_queued(&si, a, 3) && !pending(a), SHOW(si));
}

#define FILL_ATTEMPTS 5

/* Set the soft limit LIMIT_ROOM above the queued count and fill the queue with signal a. The count
 * is the user's, every process's (Linux's ucounts): under qemu-user other processes of the host
 * user change it, so an attempt that saw it move is drained and made again. */
static int fill(int a, const struct rlimit *rl, long *base, int *accepted, int *err)
{
	unsigned long lim = 0;
	for (int attempt = 0; attempt < FILL_ATTEMPTS; attempt++) {
		*base = sigq_count(&lim);
		long b = *base < 0 ? 0 : *base;          /* no /proc: nothing else is queued here */
		struct rlimit small = { (rlim_t)b + LIMIT_ROOM, rl->rlim_max };
		if (setrlimit(RLIMIT_SIGPENDING, &small))
			return -1;
		int r = 0;
		*accepted = 0;
		while (*accepted < LIMIT_ROOM + 3 && (r = queue(a, 100 + *accepted)) == 0)
			(*accepted)++;
		*err = r ? errno : 0;
		long now = sigq_count(&lim);
		if (*base < 0 || (now == b + *accepted && sigq_count(&lim) == now && *accepted == LIMIT_ROOM))
			return 0;
		while (take(a).si_signo)                 /* the count moved under us: again */
			;
	}
	return 0;
}

static void test_limit(void)
{
	struct rlimit rl, got, old;
	CHECK("getrlimit_sigpending", getrlimit(RLIMIT_SIGPENDING, &rl) == 0 && rl.rlim_cur > 0 &&
	      rl.rlim_cur <= rl.rlim_max, "cur %lu max %lu", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
	unsigned long lim = 0;
	if (sigq_count(&lim) >= 0)
		CHECK("sigq_limit_is_rlimit", lim == rl.rlim_cur, "SigQ limit %lu, rlimit %lu", lim, (unsigned long)rl.rlim_cur);
	struct rlimit two = { 2, rl.rlim_max };
	CHECK("prlimit_sigpending", prlimit(0, RLIMIT_SIGPENDING, &two, &old) == 0 && old.rlim_cur == rl.rlim_cur &&
	      getrlimit(RLIMIT_SIGPENDING, &got) == 0 && got.rlim_cur == 2 && got.rlim_max == rl.rlim_max,
	      "errno %d", errno);

	int a = SIGRTMIN + 7;
	block(a);
	block(SIGUSR2);
	long base;
	int accepted = 0, err = 0;
	fill(a, &rl, &base, &accepted, &err);
	CHECK("sigqueue_eagain_when_full", accepted == LIMIT_ROOM && err == EAGAIN, "%d accepted, then errno %d",
	      accepted, err);
	long now = sigq_count(&lim);
	if (now >= 0)
		CHECK("sigq_counts_instances", now == base + LIMIT_ROOM && lim == (unsigned long)base + LIMIT_ROOM,
		      "SigQ %ld/%lu, base %ld", now, lim, base);
	errno = 0;
	CHECK("tgkill_eagain_when_full", tgkill_self(a) == -1 && errno == EAGAIN, "errno %d", errno);
	errno = 0;
	CHECK("tgsigqueueinfo_eagain_when_full", tg_queue(a, 1) == -1 && errno == EAGAIN, "errno %d", errno);
	CHECK("kill_still_pends_when_full", kill(getpid(), a) == 0, "errno %d", errno);
	CHECK("standard_sigqueue_when_full", queue(SIGUSR2, 7) == 0, "errno %d", errno);
	siginfo_t u = take(SIGUSR2);
	CHECK("standard_info_lost_when_full", u.si_signo == SIGUSR2 && u.si_code == SI_USER && u.si_pid == 0 &&
	      u.si_value.sival_int == 0, SHOW(u));
	int in_order = 1;
	for (int i = 0; i < LIMIT_ROOM; i++) {
		siginfo_t si = take(a);
		in_order &= is_queued(&si, a, 100 + i);
	}
	CHECK("full_queue_taken_in_order", in_order, "an instance out of order");
	siginfo_t last = take(a);      /* kill's instance had no record: it went with the last queued one */
	CHECK("lost_kill_instance_merged", last.si_signo == 0 && !pending(a), SHOW(last));
	CHECK("sigqueue_after_drain", queue(a, 200) == 0 && is_queued((siginfo_t[]){ take(a) }, a, 200), "errno %d", errno);

	/* a limit below the count refuses more and keeps what is queued */
	queue(a, 300);
	struct rlimit one = { 1, rl.rlim_max };
	setrlimit(RLIMIT_SIGPENDING, &one);
	errno = 0;
	CHECK("limit_below_count_eagain", queue(a, 301) == -1 && errno == EAGAIN, "errno %d", errno);
	siginfo_t kept = take(a);
	CHECK("limit_lowered_keeps_queued", is_queued(&kept, a, 300) && !pending(a), SHOW(kept));
	setrlimit(RLIMIT_SIGPENDING, &rl);
	CHECK("sigqueue_after_restore", queue(a, 400) == 0 && is_queued((siginfo_t[]){ take(a) }, a, 400), "errno %d", errno);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_order();
	test_handler();
	test_signalfd();
	test_ignore_drops();
	test_limit();
	return t_finish();
}
