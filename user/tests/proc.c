/*
 * Processes, memory and signals through glibc: ids, fork/exec/wait status words, copy-on-write,
 * pipes across fork, pthreads on several harts, brk/mmap/munmap/mprotect, signal handlers with
 * siglongjmp out of SIGSEGV, EFAULT for bad pointers, ENOSYS for unknown calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define BAD_PTR ((void *)0x10)
#define PIPE_BYTES (1 << 20)
#define THREADS 4
#define THREAD_ITERS 20000

static sigjmp_buf jb;
static volatile int got_sig;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	(void)si;
	siglongjmp(jb, 1);
}

static void test_ids(void)
{
	CHECK("getpid", getpid() > 0, "%d", getpid());
	CHECK("gettid_is_pid_in_main", syscall(SYS_gettid) == getpid(), "tid %ld", syscall(SYS_gettid));
	struct utsname u;
	CHECK("uname", uname(&u) == 0 && !strcmp(u.sysname, "Linux") && !strcmp(u.machine, "riscv64"), "%s %s", u.sysname, u.machine);
	errno = 0;
	long r = syscall(1000);
	CHECK("unknown_syscall_enosys", r == -1 && errno == ENOSYS, "r=%ld errno=%d", r, errno);
}

static void test_fork_wait(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(42);
	int st = 0;
	pid_t w = waitpid(p, &st, 0);
	CHECK("fork_exit_status", w == p && WIFEXITED(st) && WEXITSTATUS(st) == 42, "w=%d st=%#x", w, st);
	p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	kill(p, SIGKILL);
	w = waitpid(p, &st, 0);
	CHECK("killed_status", w == p && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "w=%d st=%#x", w, st);
	p = fork();
	if (p == 0) {
		*(volatile int *)BAD_PTR = 1;   /* default SIGSEGV action: killed, core flag */
		_exit(0);
	}
	w = waitpid(p, &st, 0);
	CHECK("segv_status", w == p && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "st=%#x", st);
	errno = 0;
	CHECK("wait_no_child_echild", waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD, "errno=%d", errno);
	int pr[2];
	pipe(pr);
	p = fork();
	if (p == 0) {
		char b[16];
		snprintf(b, sizeof(b), "%d", (int)getppid());
		write(pr[1], b, strlen(b) + 1);
		_exit(0);
	}
	char b[16] = "";
	read(pr[0], b, sizeof(b));
	waitpid(p, &st, 0);
	CHECK("getppid", atoi(b) == getpid(), "child saw %s, parent %d", b, getpid());
	close(pr[0]);
	close(pr[1]);
}

static void test_cow(void)
{
	static int shared_val = 1;
	int *heap = malloc(sizeof(int));
	*heap = 7;
	pid_t p = fork();
	if (p == 0) {
		shared_val = 2;
		*heap = 8;
		_exit(shared_val == 2 && *heap == 8 ? 0 : 1);
	}
	int st;
	waitpid(p, &st, 0);
	CHECK("cow_isolation", WIFEXITED(st) && WEXITSTATUS(st) == 0 && shared_val == 1 && *heap == 7,
	      "st=%#x parent sees %d %d", st, shared_val, *heap);
	free(heap);
	int *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*sh = 1;
	p = fork();
	if (p == 0) {
		*sh = 99;
		_exit(0);
	}
	waitpid(p, &st, 0);
	CHECK("map_shared_across_fork", *sh == 99, "%d", *sh);
	munmap(sh, 4096);
}

static void test_pipe_checksum(void)
{
	int fd[2];
	if (pipe(fd) < 0) {
		FAIL("pipe_1mib", "pipe: %s", strerror(errno));
		return;
	}
	pid_t p = fork();
	if (p == 0) {
		close(fd[0]);
		unsigned char buf[4096];
		uint32_t x = 12345;
		for (int sent = 0; sent < PIPE_BYTES; sent += sizeof(buf)) {
			for (size_t i = 0; i < sizeof(buf); i++) {
				x = x * 1103515245 + 12345;
				buf[i] = (unsigned char)(x >> 16);
			}
			if (write(fd[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				_exit(2);
		}
		_exit(0);
	}
	close(fd[1]);
	uint32_t x = 12345, bad = 0;
	long total = 0;
	unsigned char buf[3000];
	ssize_t n;
	while ((n = read(fd[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			bad += buf[i] != (unsigned char)(x >> 16);
		}
		total += n;
	}
	close(fd[0]);
	int st;
	waitpid(p, &st, 0);
	CHECK("pipe_1mib_checksum", total == PIPE_BYTES && bad == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "total=%ld bad=%u st=%#x", total, bad, st);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter, ready;
static volatile int cpus_seen[64];

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	ready++;
	pthread_cond_broadcast(&cv);
	while (ready < THREADS)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < THREAD_ITERS; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
		int c = sched_getcpu();
		if (c >= 0 && c < 64)
			cpus_seen[c] = 1;
	}
	return (void *)(long)syscall(SYS_gettid);
}

static void test_threads(void)
{
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	int distinct = 1;
	long tids[THREADS];
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		tids[i] = (long)r;
		if (tids[i] == getpid())
			distinct = 0;
	}
	for (int i = 0; i < THREADS; i++)
		for (int j = i + 1; j < THREADS; j++)
			if (tids[i] == tids[j])
				distinct = 0;
	CHECK("pthreads_mutex_exact", counter == (long)THREADS * THREAD_ITERS, "counter=%ld", counter);
	CHECK("pthreads_distinct_tids", distinct, "tids not distinct");
	int ncpus_seen = 0;
	for (int i = 0; i < 64; i++)
		ncpus_seen += cpus_seen[i];
	struct utsname u;
	uname(&u);
	if (!strstr(u.release, "ember"))
		SKIP("pthreads_on_several_harts", "the host's scheduler decides where qemu-user threads run");
	else
		CHECK("pthreads_on_several_harts", ncpus_seen >= 2, "threads ran on %d harts", ncpus_seen);
}

static void test_memory(void)
{
	char *big = malloc(8 << 20);                /* mmap'd by glibc */
	memset(big, 0x5a, 8 << 20);
	CHECK("malloc_8mib", big[0] == 0x5a && big[(8 << 20) - 1] == 0x5a, "");
	free(big);
	/* the brk system call itself: musl's sbrk(n) refuses to move the break it never uses */
	uintptr_t b0 = (uintptr_t)syscall(SYS_brk, 0);
	CHECK("brk_grow", (uintptr_t)syscall(SYS_brk, b0 + (1 << 20)) == b0 + (1 << 20) &&
	      (uintptr_t)syscall(SYS_brk, 0) == b0 + (1 << 20), "");
	((char *)b0)[(1 << 20) - 1] = 1;
	syscall(SYS_brk, b0);

	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap_anon_zeroed", m != MAP_FAILED && m[0] == 0 && m[8191] == 0, "");
	m[0] = 1;
	mprotect(m, 4096, PROT_READ);
	got_sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		m[0] = 2;
	CHECK("mprotect_readonly_segv", got_sig == SIGSEGV && m[0] == 1, "sig=%d m0=%d", got_sig, m[0]);
	m[4096] = 3;                                 /* the second page is still writable */
	munmap(m, 8192);
	got_sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile char *)m;
	CHECK("munmap_then_segv", got_sig == SIGSEGV, "sig=%d", got_sig);
	got_sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		*(volatile int *)BAD_PTR = 1;
	CHECK("siglongjmp_out_of_segv", got_sig == SIGSEGV, "sig=%d", got_sig);
	signal(SIGSEGV, SIG_DFL);
	errno = 0;
	CHECK("mmap_len0_einval", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL, "errno=%d", errno);
}

static volatile int usr1;
static void on_usr1(int s) { usr1 = s; }

static void test_signals(void)
{
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	CHECK("raise_handler", usr1 == SIGUSR1, "usr1=%d", usr1);
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	usr1 = 0;
	sigprocmask(SIG_BLOCK, &s, &old);
	kill(getpid(), SIGUSR1);
	int blocked_ok = usr1 == 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK("blocked_until_unblocked", blocked_ok && usr1 == SIGUSR1, "usr1=%d", usr1);
	signal(SIGPIPE, SIG_IGN);
	int fd[2];
	pipe(fd);
	close(fd[0]);
	errno = 0;
	CHECK("epipe", write(fd[1], "x", 1) == -1 && errno == EPIPE, "errno=%d", errno);
	close(fd[1]);
	signal(SIGPIPE, SIG_DFL);
}

static void test_efault(void)
{
	struct timespec ts;
	int fd[2];
	errno = 0;
	CHECK("efault_write", write(1, BAD_PTR, 10) == -1 && errno == EFAULT, "errno=%d", errno);
	pipe(fd);
	write(fd[1], "abc", 3);
	errno = 0;
	CHECK("efault_read", read(fd[0], BAD_PTR, 3) == -1 && errno == EFAULT, "errno=%d", errno);
	close(fd[0]);
	close(fd[1]);
	errno = 0;
	CHECK("efault_clock_gettime", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD_PTR) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_uname", syscall(SYS_uname, BAD_PTR) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_pipe2", syscall(SYS_pipe2, BAD_PTR, 0) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_getcwd", syscall(SYS_getcwd, BAD_PTR, 100) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_openat", syscall(SYS_openat, AT_FDCWD, BAD_PTR, O_RDONLY) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_fstat", syscall(SYS_fstat, 1, BAD_PTR) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_sysinfo", syscall(SYS_sysinfo, BAD_PTR) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_sigaction", syscall(SYS_rt_sigaction, SIGUSR2, BAD_PTR, NULL, 8) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_execve", syscall(SYS_execve, BAD_PTR, NULL, NULL) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_wait4", ({ pid_t p = fork(); if (!p) _exit(0); long r = syscall(SYS_wait4, p, BAD_PTR, 0, NULL); int e = errno; waitpid(p, NULL, 0); errno = e; r; }) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("efault_getrandom", syscall(SYS_getrandom, BAD_PTR, 16, 0) == -1 && errno == EFAULT, "errno=%d", errno);
	CHECK("clock_ok", clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "");
}

static void test_time(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct timespec d = { 0, 50 * 1000 * 1000 };
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK("nanosleep_50ms", ms >= 50 && ms < 1000, "slept %ld ms", ms);
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	CHECK("realtime_after_2020", rt.tv_sec > 1577836800, "%ld", (long)rt.tv_sec);
	unsigned char r1[16] = { 0 }, r2[16] = { 0 };
	CHECK("getrandom", getrandom(r1, 16, 0) == 16 && getrandom(r2, 16, 0) == 16 && memcmp(r1, r2, 16), "");
}

static void test_exec(const char *self)
{
	pid_t p = fork();
	if (p == 0) {
		char *args[] = { (char *)self, "exec-child", "a b", NULL };
		char *env[] = { "EMBER_TEST=1", NULL };
		execve(self, args, env);
		_exit(errno == ENOEXEC ? 98 : 99);
	}
	int st;
	waitpid(p, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 98)   /* qemu-user without binfmt_misc */
		SKIP("execve_argv_envp", "the host cannot execve a riscv64 binary (ENOEXEC: no binfmt_misc)");
	else
		CHECK("execve_argv_envp", WIFEXITED(st) && WEXITSTATUS(st) == 33, "st=%#x", st);
	errno = 0;
	CHECK("execve_enoent", execve("/no/such/file", (char *[]){ "x", NULL }, NULL) == -1 && errno == ENOENT, "errno=%d", errno);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exec-child"))
		return !strcmp(argv[2], "a b") && getenv("EMBER_TEST") && !strcmp(getenv("EMBER_TEST"), "1") ? 33 : 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	test_ids();
	test_fork_wait();
	test_cow();
	test_pipe_checksum();
	test_threads();
	test_memory();
	test_signals();
	test_efault();
	test_time();
	test_exec(argv[0]);
	return t_finish();
}
