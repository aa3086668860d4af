/*
 * /proc/<pid>/maps and /proc/<pid>/cwd, the same on Linux and in Ember:
 *   - maps: every line is "start-end perms offset major:minor inode" with lowercase hex; an
 *     anonymous PROT_READ mapping lies inside a r--p line with offset 0, device 00:00, inode 0;
 *     a MAP_SHARED file mapping at page offset 1 is an rw-s line with offset 1000, the file's
 *     device and inode; the main stack's line (holding a local variable's address) is named
 *     [stack] at column 73; after munmap the anonymous range is gone
 *   - cwd: readlink gives getcwd's answer, follows chdir, and shows a child's own directory
 *   - fd/: readdir lists 0, 1, 2 and our open fds (not closed ones); readlink of a file's entry is
 *     its path (also for a relative open with "." and ".."), of a pipe "pipe:[ino]", of a socket
 *     "socket:[ino]", of a directory its path; a closed fd is ENOENT; a child's table is its own
 *   - task/: one directory per thread (the main thread's tid is the pid; a second thread appears
 *     while it lives and goes when it ends), each with a comm equal to the process's; ".." leads back to task/
 *   - environ: a program exec'd with envp {"EMBER_A=1", "B=two"} reads exactly those strings (each
 *     with its NUL) from /proc/self/environ, also after setenv
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "sockutil.h"

struct map {
	unsigned long start, end;
	char perms[8];
	unsigned long long off;
	unsigned maj, min;
	unsigned long ino;
	int name_col;                    /* 1-based column of the name, 0 if none */
	char name[256];
};

static int read_maps(const char *path, struct map *m, int max, int *bad)
{
	FILE *f = fopen(path, "r");
	int n = 0;
	*bad = 0;
	if (!f)
		return -1;
	char line[512];
	while (n < max && fgets(line, sizeof(line), f)) {
		struct map *x = &m[n];
		int used = 0;
		memset(x, 0, sizeof(*x));
		if (sscanf(line, "%lx-%lx %4s %llx %x:%x %lu%n", &x->start, &x->end, x->perms, &x->off, &x->maj, &x->min,
			   &x->ino, &used) != 7 || strlen(x->perms) != 4) {
			(*bad)++;
			continue;
		}
		char *p = line + used;
		while (*p == ' ')
			p++;
		if (*p && *p != '\n') {
			x->name_col = (int)(p - line) + 1;
			snprintf(x->name, sizeof(x->name), "%s", p);
			x->name[strcspn(x->name, "\n")] = 0;
		}
		n++;
	}
	fclose(f);
	return n;
}

static struct map maps[512];

static void test_maps(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *anon = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char fname[64];
	snprintf(fname, sizeof(fname), "/tmp/ember-maps-%d", getpid());
	int fd = open(fname, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, 4 * pg);
	struct stat st;
	fstat(fd, &st);
	char *fm = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pg);
	int bad, n = read_maps("/proc/self/maps", maps, 512, &bad);
	CHECK("maps_read", n > 3 && bad == 0, "n=%d bad=%d", n, bad);
	bool anon_ok = false, file_ok = false, stack_ok = false;
	int local = 0;
	unsigned long here = (unsigned long)&local;
	for (int i = 0; i < n; i++) {
		struct map *m = &maps[i];
		if (m->start <= (unsigned long)anon && m->end >= (unsigned long)anon + 3 * pg)
			anon_ok = !strcmp(m->perms, "r--p") && m->off == 0 && m->maj == 0 && m->min == 0 && m->ino == 0;
		if (m->start == (unsigned long)fm && m->end == (unsigned long)fm + 2 * pg)
			file_ok = !strcmp(m->perms, "rw-s") && m->off == (unsigned long long)pg && m->ino == st.st_ino &&
				  m->maj == major(st.st_dev) && m->min == minor(st.st_dev) && !strcmp(m->name, fname) &&
				  m->name_col == 74;
		if (m->start <= here && here < m->end)
			stack_ok = !strcmp(m->name, "[stack]") && m->name_col == 74 && m->perms[0] == 'r' && m->perms[1] == 'w';
	}
	CHECK("maps_anonymous", anon_ok, "anon=%p", (void *)anon);
	CHECK("maps_shared_file", file_ok, "fm=%p ino=%lu", (void *)fm, (unsigned long)st.st_ino);
	CHECK("maps_stack", stack_ok, "local=%#lx", here);
	munmap(anon, 3 * pg);
	n = read_maps("/proc/self/maps", maps, 512, &bad);
	bool gone = true;
	for (int i = 0; i < n; i++)
		if (maps[i].start <= (unsigned long)anon + pg && (unsigned long)anon + pg < maps[i].end)
			gone = false;
	CHECK("maps_after_munmap", gone, "still mapped");
	munmap(fm, 2 * pg);
	close(fd);
	unlink(fname);
}

static void test_cwd(void)
{
	char want[PATH_MAX], got[PATH_MAX];
	getcwd(want, sizeof(want));
	long r = readlink("/proc/self/cwd", got, sizeof(got) - 1);
	got[r > 0 ? r : 0] = 0;
	CHECK("cwd_self", r > 0 && !strcmp(got, want), "got=%s want=%s", got, want);
	char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/ember-cwd-%d", getpid());
	mkdir(dir, 0755);
	chdir(dir);
	r = readlink("/proc/self/cwd", got, sizeof(got) - 1);
	got[r > 0 ? r : 0] = 0;
	CHECK("cwd_follows_chdir", r > 0 && !strcmp(got, dir), "got=%s", got);
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		chdir("/");
		write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	read(p[0], &c, 1);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	r = readlink(path, got, sizeof(got) - 1);
	got[r > 0 ? r : 0] = 0;
	CHECK("cwd_of_child", r > 0 && !strcmp(got, "/"), "got=%s r=%ld", got, r);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	chdir(want);
	rmdir(dir);
}

static bool link_is(const char *path, const char *want)
{
	char got[PATH_MAX];
	long r = readlink(path, got, sizeof(got) - 1);
	got[r > 0 ? r : 0] = 0;
	if (r <= 0 || strcmp(got, want))
		printf("readlink %s: %s (want %s)\n", path, got, want);
	return r > 0 && !strcmp(got, want);
}

static bool fd_listed(int fd)
{
	DIR *d = opendir("/proc/self/fd");
	bool found = false;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (atoi(e->d_name) == fd && e->d_name[0] >= '0' && e->d_name[0] <= '9')
			found = true;
	if (d)
		closedir(d);
	return found;
}

static void test_fd(void)
{
	char dir[64], fname[96], rel[128], lnk[64], want[64];
	snprintf(dir, sizeof(dir), "/tmp/ember-fd-%d", getpid());
	mkdir(dir, 0755);
	snprintf(fname, sizeof(fname), "%s/file", dir);
	int f = open(fname, O_RDWR | O_CREAT, 0600);
	snprintf(lnk, sizeof(lnk), "/proc/self/fd/%d", f);
	CHECK("fd_file_link", link_is(lnk, fname), "fd=%d", f);
	char cwd[PATH_MAX];
	getcwd(cwd, sizeof(cwd));
	chdir(dir);
	snprintf(rel, sizeof(rel), "./../ember-fd-%d//file", getpid());
	int f2 = open(rel, O_RDONLY);
	chdir(cwd);
	snprintf(lnk, sizeof(lnk), "/proc/self/fd/%d", f2);
	CHECK("fd_relative_open_link", link_is(lnk, fname), "fd=%d", f2);
	int p[2];
	pipe(p);
	struct stat st;
	fstat(p[0], &st);
	snprintf(lnk, sizeof(lnk), "/proc/self/fd/%d", p[0]);
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
	CHECK("fd_pipe_link", link_is(lnk, want), "fd=%d", p[0]);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	fstat(s, &st);
	snprintf(lnk, sizeof(lnk), "/proc/self/fd/%d", s);
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	CHECK("fd_socket_link", link_is(lnk, want), "fd=%d", s);
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	snprintf(lnk, sizeof(lnk), "/proc/self/fd/%d", d);
	CHECK("fd_dir_link", link_is(lnk, dir), "fd=%d", d);
	CHECK("fd_listed", fd_listed(0) && fd_listed(1) && fd_listed(2) && fd_listed(f) && fd_listed(p[1]) && fd_listed(s),
	      "missing");
	close(f2);
	dup2(f, 100);                            /* a high number opendir's own fd will not take */
	bool was = fd_listed(100);
	close(100);
	CHECK("fd_closed_not_listed", was && !fd_listed(100), "was=%d", was);
	snprintf(lnk, sizeof(lnk), "/proc/self/fd/%d", f2);
	char buf[64];
	errno = 0;
	CHECK("fd_closed_enoent", readlink(lnk, buf, sizeof(buf)) < 0 && errno == ENOENT, "errno=%d", errno);
	int sync[2];
	pipe(sync);
	pid_t pid = fork();
	if (pid == 0) {
		close(f);
		write(sync[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	read(sync[0], &c, 1);
	snprintf(lnk, sizeof(lnk), "/proc/%d/fd/%d", pid, f);
	errno = 0;
	CHECK("fd_child_table_own", readlink(lnk, buf, sizeof(buf)) < 0 && errno == ENOENT, "errno=%d", errno);
	snprintf(lnk, sizeof(lnk), "/proc/%d/fd/%d", pid, s);
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	CHECK("fd_child_inherited", link_is(lnk, want), "pid=%d", pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(sync[0]);
	close(sync[1]);
	close(f);
	close(p[0]);
	close(p[1]);
	close(s);
	close(d);
	unlink(fname);
	rmdir(dir);
}

static volatile int thread_stop;
static volatile pid_t thread_tid;

static void *sleeper(void *arg)
{
	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	while (!thread_stop)
		sleep_ms(5);
	return NULL;
}

static int count_tasks(pid_t want_tid, bool *found)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	*found = false;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		n++;
		if (atoi(e->d_name) == want_tid)
			*found = true;
	}
	if (d)
		closedir(d);
	return n;
}

static void test_task(void)
{
	bool found;
	/* counts relative to the start: qemu-user has a thread of its own */
	int n0 = count_tasks(getpid(), &found), n;
	CHECK("task_main_thread", n0 >= 1 && found && (n0 == 1 || !running_in_ember()), "n=%d found=%d", n0, found);
	pthread_t th;
	start_thread(&th, sleeper, NULL);
	while (!thread_tid)
		sleep_ms(1);
	n = count_tasks(thread_tid, &found);
	CHECK("task_second_thread", n == n0 + 1 && found, "n=%d found=%d", n, found);
	char path[96], a[64] = "", b[64] = "";
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)thread_tid);
	int fd = open(path, O_RDONLY);
	long ra = fd >= 0 ? read(fd, a, sizeof(a) - 1) : -1;
	close(fd);
	fd = open("/proc/self/comm", O_RDONLY);
	long rb = read(fd, b, sizeof(b) - 1);
	close(fd);
	CHECK("task_comm", ra > 0 && ra == rb && !strcmp(a, b), "a=%s b=%s", a, b);
	struct stat s1, s2;
	snprintf(path, sizeof(path), "/proc/self/task/%d/..", (int)thread_tid);
	CHECK("task_dotdot", stat(path, &s1) == 0 && stat("/proc/self/task", &s2) == 0 && s1.st_ino == s2.st_ino,
	      "errno=%d", errno);
	thread_stop = 1;
	pthread_join(th, NULL);
	/* join returns when the thread's tid is cleared, a moment before the kernel removes it */
	for (int i = 0; i < 200 && (n = count_tasks(thread_tid, &found)) != n0; i++)
		sleep_ms(5);
	CHECK("task_thread_gone", n == n0 && !found, "n=%d found=%d", n, found);
}

static const char environ_want[] = "EMBER_A=1\0B=two\0";

static int environ_child(void)
{
	setenv("LATER", "x", 1);                 /* not in /proc/self/environ, as on Linux */
	char buf[256];
	int fd = open("/proc/self/environ", O_RDONLY);
	long n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (long)sizeof(environ_want) - 1 && !memcmp(buf, environ_want, sizeof(environ_want) - 1) ? 0 : 1;
}

static void test_environ(const char *self)
{
	if (!running_in_ember()) {               /* the host cannot execve a riscv64 program */
		SKIP("environ_of_exec", "qemu-user cannot exec a riscv64 program");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)self, "--environ-child", NULL };
		char *envp[] = { "EMBER_A=1", "B=two", NULL };
		execve(self, argv, envp);
		_exit(2);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK("environ_of_exec", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status=%#x", status);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--environ-child"))
		return environ_child();
	setvbuf(stdout, NULL, _IONBF, 0);
	test_maps();
	test_cwd();
	test_fd();
	test_task();
	char self[PATH_MAX];
	long r = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[r > 0 ? r : 0] = 0;
	test_environ(self);
	return t_finish();
}
