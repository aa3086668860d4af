/*
 * Resource limits: getrlimit/setrlimit/prlimit64 (soft <= hard, EINVAL, EPERM beyond nr_open,
 * ESRCH, pid 0 and other pids, root may raise a hard limit), inheritance over fork and exec, and
 * enforcement: RLIMIT_NOFILE (EMFILE from open/dup/pipe/socket, dup2 EBADF and F_DUPFD EINVAL
 * beyond it), RLIMIT_FSIZE (short write up to the limit, then SIGXFSZ and EFBIG; truncate),
 * RLIMIT_STACK (a new image's stack), RLIMIT_AS and RLIMIT_DATA (mmap ENOMEM, brk), and
 * /proc/self/limits in Linux's format.
 *
 * qemu-user ignores setrlimit for RLIMIT_AS, RLIMIT_DATA and RLIMIT_STACK (they would bind qemu
 * itself), so those enforcement checks run inside Ember only; exec-based checks skip where the
 * host cannot execve a riscv64 binary (no binfmt_misc), as in exec.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "sockutil.h"

#define NO_PID 99999
#define SMALL_NOFILE 16
#define FSIZE_LIMIT 100
#define EXIT_EXEC_FAILED 100
#define MODE_ENV "RLIMIT_TEST_MODE"
#define MIB (1024UL * 1024)
#define SMALL_STACK (256UL * 1024)
#define RECURSE_FRAME 4096
#define RECURSE_DEPTH 512                 /* 2 MiB of stack: more than SMALL_STACK, less than 8 MiB */

static char self[512];

/* Run body in a child; the check passes when the child exits 0 (body returns a bitmask of failures). */
#define CHILD_CHECK(name, ...) do { \
	pid_t _c = fork(); \
	if (_c == 0) { int bad = 0; __VA_ARGS__; _exit(bad); } \
	int _st; waitpid(_c, &_st, 0); \
	CHECK(name, WIFEXITED(_st) && WEXITSTATUS(_st) == 0, "child status %#x", _st); \
} while (0)

static int recurse(int depth)
{
	volatile char frame[RECURSE_FRAME];
	frame[0] = (char)depth;
	frame[RECURSE_FRAME - 1] = (char)depth;
	return depth ? recurse(depth - 1) + frame[0] - frame[RECURSE_FRAME - 1] : 0;
}

/* the child role after a re-exec: exit 0 when what it finds is right */
static int child_mode(const char *mode)
{
	struct rlimit rl;
	if (!strcmp(mode, "nofile")) {
		getrlimit(RLIMIT_NOFILE, &rl);
		return rl.rlim_cur == SMALL_NOFILE && rl.rlim_max == SMALL_NOFILE ? 0 : 1;
	}
	if (!strcmp(mode, "recurse"))
		return recurse(RECURSE_DEPTH);
	return 2;
}

/* fork, set limit (resource, cur, max) in the child, re-exec self with MODE_ENV=mode: status word */
static int exec_with_limit(int resource, rlim_t cur, rlim_t max, const char *mode)
{
	pid_t c = fork();
	if (c == 0) {
		struct rlimit rl = { cur, max };
		if (setrlimit(resource, &rl) < 0)
			_exit(3);
		char env[64];
		snprintf(env, sizeof(env), MODE_ENV "=%s", mode);
		execve(self, (char *[]){ self, NULL }, (char *[]){ env, NULL });
		_exit(EXIT_EXEC_FAILED + errno);
	}
	int st;
	waitpid(c, &st, 0);
	return st;
}

static bool exec_unavailable(int st)
{
	return !running_in_ember() && WIFEXITED(st) && WEXITSTATUS(st) == EXIT_EXEC_FAILED + ENOEXEC;
}

#define CAP_SYS_RESOURCE 24

/* CapEff of /proc/self/status (the host's, under qemu-user) */
static bool has_cap_sys_resource(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long caps = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	if (f)
		fclose(f);
	return caps >> CAP_SYS_RESOURCE & 1;
}

static void test_get_set(void)
{
	struct rlimit rl, rl2;
	bool ok = true;
	for (int r = 0; r < RLIMIT_NLIMITS; r++)
		if (getrlimit(r, &rl) < 0 || (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max))
			ok = false;
	CHECK("every_limit_readable", ok, "errno %d", errno);
	getrlimit(RLIMIT_NOFILE, &rl);
	CHECK("prlimit_self_pid0", prlimit(0, RLIMIT_NOFILE, NULL, &rl2) == 0 && rl2.rlim_cur == rl.rlim_cur &&
	      rl2.rlim_max == rl.rlim_max, "errno %d", errno);
	CHECK("prlimit_self_pid", prlimit(getpid(), RLIMIT_NOFILE, NULL, &rl2) == 0 && rl2.rlim_cur == rl.rlim_cur,
	      "errno %d", errno);
	CHECK("stack_default_8m", getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur == 8 * MIB, "cur %lu",
	      (unsigned long)rl.rlim_cur);
	errno = 0;
	struct rlimit bad = { 10, 5 };
	CHECK("soft_above_hard_einval", setrlimit(RLIMIT_CORE, &bad) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	CHECK("bad_resource_einval", prlimit(0, RLIMIT_NLIMITS, NULL, &rl) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	CHECK("bad_resource_huge_einval", prlimit(0, 1000, NULL, &rl) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	CHECK("no_such_pid_esrch", prlimit(NO_PID, RLIMIT_NOFILE, NULL, &rl) == -1 && errno == ESRCH, "errno %d", errno);
	errno = 0;
	struct rlimit huge = { 1UL << 30, 1UL << 30 };
	CHECK("nofile_beyond_nr_open_eperm", prlimit(0, RLIMIT_NOFILE, &huge, NULL) == -1 && errno == EPERM,
	      "errno %d", errno);
	errno = 0;
	CHECK("bad_pointer_efault", syscall(261, 0, RLIMIT_NOFILE, (void *)8, NULL) == -1 && errno == EFAULT,
	      "errno %d", errno);
	/* the old value comes back with the new one set */
	CHILD_CHECK("prlimit_old_and_new", {
		struct rlimit a = { 0, 0 }, o;
		getrlimit(RLIMIT_CORE, &rl);
		if (prlimit(0, RLIMIT_CORE, &a, &o) || o.rlim_cur != rl.rlim_cur || o.rlim_max != rl.rlim_max)
			bad |= 1;
		if (getrlimit(RLIMIT_CORE, &o) || o.rlim_cur != 0 || o.rlim_max != 0)
			bad |= 2;
	});
	/* raising a hard limit needs CAP_SYS_RESOURCE: Ember's processes all have it (everyone is
	 * root); a host container's root may not */
	bool cap = running_in_ember() || has_cap_sys_resource();
	CHILD_CHECK(cap ? "capable_raises_hard_limit" : "incapable_cannot_raise_hard_limit", {
		struct rlimit lo = { 8, 16 }, hi = { 32, 64 }, o;
		if (setrlimit(RLIMIT_NOFILE, &lo))
			bad |= 1;
		errno = 0;
		int r = setrlimit(RLIMIT_NOFILE, &hi);
		if (cap ? r != 0 : (r != -1 || errno != EPERM))
			bad |= 2;
		getrlimit(RLIMIT_NOFILE, &o);
		if (cap ? (o.rlim_cur != 32 || o.rlim_max != 64) : (o.rlim_cur != 8 || o.rlim_max != 16))
			bad |= 4;
	});
}

static void test_other_pid(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	struct rlimit nl = { 20, 40 }, o;
	CHECK("prlimit_other_set", prlimit(c, RLIMIT_NOFILE, &nl, NULL) == 0, "errno %d", errno);
	CHECK("prlimit_other_get", prlimit(c, RLIMIT_NOFILE, NULL, &o) == 0 && o.rlim_cur == 20 && o.rlim_max == 40,
	      "cur %lu max %lu", (unsigned long)o.rlim_cur, (unsigned long)o.rlim_max);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
}

static void test_nofile(void)
{
	CHILD_CHECK("nofile_enforced", {
		struct rlimit rl = { SMALL_NOFILE, SMALL_NOFILE };
		setrlimit(RLIMIT_NOFILE, &rl);
		int last = -1, fd;
		while ((fd = open("/dev/null", O_RDONLY)) >= 0)
			last = fd;
		if (errno != EMFILE || last != SMALL_NOFILE - 1)
			bad |= 1;
		errno = 0;
		if (dup(0) != -1 || errno != EMFILE)
			bad |= 2;
		int p[2];
		errno = 0;
		if (pipe(p) != -1 || errno != EMFILE)
			bad |= 4;
		errno = 0;
		if (socket(AF_INET, SOCK_DGRAM, 0) != -1 || errno != EMFILE)
			bad |= 8;
		errno = 0;
		if (fcntl(0, F_DUPFD, 3) != -1 || errno != EMFILE)
			bad |= 16;
		errno = 0;
		if (fcntl(0, F_DUPFD, SMALL_NOFILE) != -1 || errno != EINVAL)
			bad |= 32;
		errno = 0;
		if (dup2(0, SMALL_NOFILE) != -1 || errno != EBADF)
			bad |= 64;
		close(last);
		if (dup2(0, last) != last)
			bad |= 128;
	});
	CHILD_CHECK("nofile_inherited_by_fork", {
		struct rlimit rl = { SMALL_NOFILE, SMALL_NOFILE }, o;
		setrlimit(RLIMIT_NOFILE, &rl);
		pid_t g = fork();
		if (g == 0)
			_exit(getrlimit(RLIMIT_NOFILE, &o) == 0 && o.rlim_cur == SMALL_NOFILE ? 0 : 1);
		int st;
		waitpid(g, &st, 0);
		bad = !WIFEXITED(st) || WEXITSTATUS(st);
	});
	int st = exec_with_limit(RLIMIT_NOFILE, SMALL_NOFILE, SMALL_NOFILE, "nofile");
	if (exec_unavailable(st))
		SKIP("nofile_inherited_by_exec", "the host cannot execve a riscv64 binary (no binfmt_misc)");
	else
		CHECK("nofile_inherited_by_exec", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}

static void test_fsize(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/rlimit_fsize.%d", getpid());
	CHILD_CHECK("fsize_short_write_then_efbig", {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = { FSIZE_LIMIT, RLIM_INFINITY };
		setrlimit(RLIMIT_FSIZE, &rl);
		int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
		char buf[150];
		memset(buf, 'x', sizeof(buf));
		if (write(fd, buf, sizeof(buf)) != FSIZE_LIMIT)
			bad |= 1;
		errno = 0;
		if (write(fd, buf, 1) != -1 || errno != EFBIG)
			bad |= 2;
		errno = 0;
		if (pwrite(fd, buf, 10, 200) != -1 || errno != EFBIG)
			bad |= 4;
		errno = 0;
		if (ftruncate(fd, 200) != -1 || errno != EFBIG)
			bad |= 8;
		if (ftruncate(fd, 50) != 0 || pwrite(fd, buf, 10, 60) != 10)
			bad |= 16;
		close(fd);
	});
	pid_t c = fork();
	if (c == 0) {
		struct rlimit rl = { FSIZE_LIMIT, RLIM_INFINITY };
		setrlimit(RLIMIT_FSIZE, &rl);
		int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		char buf[FSIZE_LIMIT];
		memset(buf, 'y', sizeof(buf));
		write(fd, buf, sizeof(buf));
		write(fd, buf, 1);              /* SIGXFSZ: the default action ends us */
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("fsize_sigxfsz_kills", WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ, "status %#x", st);
	unlink(path);
}

static void test_stack(void)
{
	int st = exec_with_limit(RLIMIT_STACK, 8 * MIB, RLIM_INFINITY, "recurse");
	if (exec_unavailable(st) || !running_in_ember()) {
		SKIP("stack_default_holds_2m", "exec unavailable or qemu-user (it ignores RLIMIT_STACK)");
		SKIP("stack_small_limit_segv", "exec unavailable or qemu-user (it ignores RLIMIT_STACK)");
		return;
	}
	CHECK("stack_default_holds_2m", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	st = exec_with_limit(RLIMIT_STACK, SMALL_STACK, RLIM_INFINITY, "recurse");
	CHECK("stack_small_limit_segv", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status %#x", st);
}

static void test_memory(void)
{
	if (!running_in_ember()) {
		SKIP("as_limits_mmap", "qemu-user ignores RLIMIT_AS");
		SKIP("data_limits_private_writable", "qemu-user ignores RLIMIT_DATA");
		return;
	}
	CHILD_CHECK("as_limits_mmap", {
		struct rlimit rl = { 64 * MIB, RLIM_INFINITY };
		setrlimit(RLIMIT_AS, &rl);
		errno = 0;
		if (mmap(NULL, 128 * MIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED || errno != ENOMEM)
			bad |= 1;
		void *m = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			bad |= 2;
		void *b = sbrk(0);
		errno = 0;
		if (sbrk(128 * MIB) != (void *)-1 || errno != ENOMEM || sbrk(0) != b)
			bad |= 4;
	});
	CHILD_CHECK("data_limits_private_writable", {
		struct rlimit rl = { 16 * MIB, RLIM_INFINITY };
		setrlimit(RLIMIT_DATA, &rl);
		errno = 0;
		if (mmap(NULL, 32 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED ||
		    errno != ENOMEM)
			bad |= 1;
		if (mmap(NULL, 32 * MIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			bad |= 2;
		if (mmap(NULL, 32 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			bad |= 4;
	});
}

/* /proc/self/limits: the header and lines as Linux's proc_pid_limits prints them */
static void test_proc_limits(void)
{
	CHILD_CHECK("proc_self_limits_format", {
		struct rlimit nf = { 100, 200 }, core = { 0, 0 };
		setrlimit(RLIMIT_NOFILE, &nf);
		setrlimit(RLIMIT_CORE, &core);
		FILE *f = fopen("/proc/self/limits", "r");
		char line[256], want[256];
		int n = 0, found = 0;
		while (f && fgets(line, sizeof(line), f)) {
			n++;
			if (n == 1) {
				snprintf(want, sizeof(want), "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit",
					 "Hard Limit", "Units");
				if (strcmp(line, want))
					bad |= 1;
			}
			snprintf(want, sizeof(want), "%-25s %-20s %-20s %-10s\n", "Max open files", "100", "200", "files");
			if (!strcmp(line, want))
				found |= 1;
			snprintf(want, sizeof(want), "%-25s %-20s %-20s %-10s\n", "Max core file size", "0", "0", "bytes");
			if (!strcmp(line, want))
				found |= 2;
			snprintf(want, sizeof(want), "%-25s %-20s %-20s %-10s\n", "Max file size", "unlimited",
				 "unlimited", "bytes");
			if (!strcmp(line, want))
				found |= 4;
			if (!strncmp(line, "Max realtime priority", 21) && line[strlen(line) - 2] != ' ')
				bad |= 8;                   /* no unit: the hard column's padding ends it */
		}
		if (f)
			fclose(f);
		if (n != 1 + RLIMIT_NLIMITS)
			bad |= 16;
		if (found != 7)
			bad |= 32 | found << 6;
	});
}

int main(void)
{
	const char *mode = getenv(MODE_ENV);
	if (mode)
		return child_mode(mode);
	setvbuf(stdout, NULL, _IONBF, 0);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	test_get_set();
	test_other_pid();
	test_nofile();
	test_fsize();
	test_stack();
	test_memory();
	test_proc_limits();
	return t_finish();
}
