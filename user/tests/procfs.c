/*
 * /proc as ps, top, free, uptime, df and mount read it, and statfs(2)/fstatfs(2): the figures
 * are checked against what the system calls say (getpid, getppid, sysinfo, clocks), so the same
 * checks hold on Linux (under qemu-user, which emulates /proc/self/{cmdline,stat} and passes the
 * rest through) and in Ember.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define BAD_PTR ((void *)0x10)
#define PIPEFS_MAGIC 0x50495045
#define FILE_MAX 65536

static char text[FILE_MAX];

/* Reads a whole file into text (NUL-terminated); its length, or -errno. */
static long slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	long n = 0, r;
	while (n < FILE_MAX - 1 && (r = read(fd, text + n, FILE_MAX - 1 - n)) > 0)
		n += r;
	close(fd);
	text[n] = 0;
	return r < 0 ? -errno : n;
}

/* Value of "Key:" in a "Key: value" file already in text; -1 when absent. */
static long field(const char *key)
{
	size_t k = strlen(key);
	for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == ':')
			return strtol(l + k + 1, NULL, 10);
	return -1;
}

/* Fields of a stat line: pid, comm (inside parentheses), state, ppid. */
static int parse_stat(int *pid, char *comm, size_t csize, char *state, int *ppid)
{
	char *open_p = strchr(text, '('), *close_p = strrchr(text, ')');
	if (!open_p || !close_p || close_p < open_p)
		return -1;
	*pid = atoi(text);
	size_t n = (size_t)(close_p - open_p - 1);
	n = n < csize - 1 ? n : csize - 1;
	memcpy(comm, open_p + 1, n);
	comm[n] = 0;
	return sscanf(close_p + 2, "%c %d", state, ppid) == 2 ? 0 : -1;
}

static void test_self(int argc, char **argv)
{
	char buf[64];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK("self_link", n > 0 && atoi(buf) == getpid(), "'%s' pid %d", buf, getpid());

	long len = slurp("/proc/self/cmdline");
	long want = 0;
	for (int i = 0; i < argc; i++)
		want += strlen(argv[i]) + 1;
	CHECK("self_cmdline_len", len == want, "%ld vs %ld", len, want);
	CHECK("self_cmdline_args", len == want && !memcmp(text, argv[0], strlen(argv[0]) + 1),
	      "'%s' vs '%s'", text, argv[0]);

	int pid = 0, ppid = 0;
	char comm[32], state = 0;
	len = slurp("/proc/self/stat");
	CHECK("self_stat_parse", len > 0 && parse_stat(&pid, comm, sizeof(comm), &state, &ppid) == 0,
	      "%ld '%s'", len, text);
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	CHECK("self_stat_pid", pid == getpid() && ppid == getppid(), "%d/%d vs %d/%d", pid, ppid,
	      getpid(), getppid());
	CHECK("self_stat_comm", !strncmp(comm, base, 15), "'%s' vs '%s'", comm, base);

	len = slurp("/proc/self/status");
	CHECK("self_status_ids", len > 0 && field("Pid") == getpid() && field("PPid") == getppid() &&
	      field("Tgid") == getpid(), "Pid %ld PPid %ld", field("Pid"), field("PPid"));
}

static void test_child(void)
{
	int go[2];
	if (pipe(go) < 0) {
		FAIL("child_pipe", "errno %d", errno);
		return;
	}
	pid_t c = fork();
	if (c == 0) {
		char b;
		close(go[1]);
		read(go[0], &b, 1);          /* sleeps until the parent has looked */
		_exit(0);
	}
	close(go[0]);
	char path[64], comm[32], state = 0;
	int pid = 0, ppid = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", c);
	long len = slurp(path);
	CHECK("child_stat", len > 0 && parse_stat(&pid, comm, sizeof(comm), &state, &ppid) == 0 &&
	      pid == c && ppid == getpid(), "%ld '%s'", len, text);
	snprintf(path, sizeof(path), "/proc/%d/status", c);
	len = slurp(path);
	CHECK("child_status", len > 0 && field("Pid") == c && field("PPid") == getpid() &&
	      field("Threads") >= 1 && field("VmRSS") > 0, "%ld Pid %ld VmRSS %ld", len, field("Pid"),
	      field("VmRSS"));
	close(go[1]);
	int st;
	waitpid(c, &st, 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", c);
	CHECK("child_gone_after_reap", slurp(path) == -ENOENT, "%ld", slurp(path));
}

static void test_system(void)
{
	struct sysinfo si;
	sysinfo(&si);
	long len = slurp("/proc/meminfo");
	long total = field("MemTotal"), freek = field("MemFree");
	CHECK("meminfo_fields", len > 0 && total > 0 && freek > 0 && freek <= total &&
	      field("MemAvailable") >= 0 && field("SwapTotal") >= 0, "total %ld free %ld", total, freek);
	CHECK("meminfo_vs_sysinfo", (unsigned long long)total * 1024 ==
	      (unsigned long long)si.totalram * si.mem_unit, "%ld kB vs %lu", total, si.totalram);

	struct timespec mono, real;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	double up = -1, idle = -1;
	len = slurp("/proc/uptime");
	CHECK("uptime_format", len > 0 && sscanf(text, "%lf %lf", &up, &idle) == 2 && idle >= 0,
	      "'%s'", text);
	CHECK("uptime_vs_clock", up >= 0 && up - mono.tv_sec < 3 && mono.tv_sec - up < 3,
	      "%f vs %ld", up, (long)mono.tv_sec);

	double l1, l5, l15;
	int running = 0, threads = 0, last = 0;
	len = slurp("/proc/loadavg");
	CHECK("loadavg_format", len > 0 && sscanf(text, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running,
	      &threads, &last) == 6 && l1 >= 0 && running >= 1 && threads >= running && last > 0,
	      "'%s'", text);

	len = slurp("/proc/stat");
	unsigned long long u, ni, sy, id;
	int cpus = 0;
	for (char *l = strstr(text, "\ncpu"); l; l = strstr(l + 1, "\ncpu"))
		cpus++;
	CHECK("stat_cpu", len > 0 && sscanf(text, "cpu %llu %llu %llu %llu", &u, &ni, &sy, &id) == 4 &&
	      cpus >= 1, "'%.80s' cpus %d", text, cpus);
	char *bt = strstr(text, "\nbtime ");
	long btime = bt ? atol(bt + 7) : 0;
	CHECK("stat_btime", bt && labs(btime + mono.tv_sec - real.tv_sec) <= 2, "btime %ld now %ld up %ld",
	      btime, (long)real.tv_sec, (long)mono.tv_sec);
	CHECK("stat_processes", strstr(text, "\nprocesses ") && strstr(text, "\nctxt "), "");

	len = slurp("/proc/mounts");
	int root = 0;
	for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char dev[64], dir[256], type[64];
		if (sscanf(l, "%63s %255s %63s", dev, dir, type) == 3 && !strcmp(dir, "/"))
			root = 1;
	}
	/* A chrooted process (a build root, as the fresh-machine check's) sees no mount for its "/"
	 * in Linux's /proc/mounts, which lists only mounts below the process's root: there is
	 * nothing to check then. Chrooted: "/" is not init's root (/proc/1/root), or Linux refuses
	 * to show init's root at all (EACCES: it does so to a chrooted process, and to a user). */
	struct stat me, init_root;
	int ir = stat("/proc/1/root/", &init_root);
	bool chrooted = (ir < 0 && errno == EACCES) ||
			(ir == 0 && stat("/", &me) == 0 && (me.st_dev != init_root.st_dev || me.st_ino != init_root.st_ino));
	if (!root && chrooted)
		SKIP("mounts_root", "chrooted: /proc/mounts has no entry for this root");
	else
		CHECK("mounts_root", len > 0 && root, "'%.200s'", text);
	CHECK("version", slurp("/proc/version") > 0 && !strncmp(text, "Linux version ", 14), "'%.60s'", text);
	CHECK("cpuinfo", slurp("/proc/cpuinfo") > 0 && strstr(text, "processor"), "'%.60s'", text);
}

static void test_statfs(void)
{
	struct statfs s;
	errno = 0;
	int r = statfs("/", &s);
	CHECK("statfs_root", r == 0 && s.f_bsize > 0 && s.f_blocks >= s.f_bfree && s.f_bfree >= s.f_bavail &&
	      s.f_namelen > 0, "r %d errno %d", r, errno);
	errno = 0;
	CHECK("statfs_enoent", statfs("/no/such/dir", &s) == -1 && errno == ENOENT, "errno %d", errno);
	errno = 0;
	CHECK("statfs_efault_buf", syscall(SYS_statfs, "/", BAD_PTR) == -1 && errno == EFAULT, "errno %d", errno);
	errno = 0;
	CHECK("statfs_efault_path", syscall(SYS_statfs, BAD_PTR, &s) == -1 && errno == EFAULT, "errno %d", errno);
	errno = 0;
	CHECK("fstatfs_ebadf", fstatfs(-1, &s) == -1 && errno == EBADF, "errno %d", errno);
	int p[2];
	pipe(p);
	CHECK("fstatfs_pipe", fstatfs(p[0], &s) == 0 && s.f_type == PIPEFS_MAGIC, "type %lx", (long)s.f_type);
	close(p[0]);
	close(p[1]);
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	struct statfs s2;
	CHECK("fstatfs_same_fs", fd >= 0 && fstatfs(fd, &s2) == 0 && statfs("/", &s) == 0 &&
	      s2.f_type == s.f_type && s2.f_bsize == s.f_bsize, "fd %d", fd);
	close(fd);
}

int main(int argc, char **argv)
{
	test_self(argc, argv);
	test_child();
	test_system();
	test_statfs();
	return t_finish();
}
