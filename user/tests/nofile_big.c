/*
 * RLIMIT_NOFILE beyond 1024, as Linux: /proc/sys/fs/nr_open is the hard limit's ceiling (EPERM
 * past it, even for root); with the limit raised the fd table grows to fd 5000 (dup2, dup3's
 * O_CLOEXEC, F_DUPFD, /proc/self/fd, poll, fork's copy); past the soft limit dup2 answers EBADF,
 * F_DUPFD EINVAL and open/dup EMFILE; lowering the limit leaves open fds above it alone.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define HIGH_FD 5000
#define LOW_LIMIT 100

/* CAP_SYS_RESOURCE, seen by its effect: may a child raise its hard limit? (Ember: everyone is
 * root; a host container's root may lack it) */
static bool capable_resource(void)
{
	pid_t c = fork();
	if (c == 0) {
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_max++;
		_exit(setrlimit(RLIMIT_NOFILE, &rl) == 0 ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static long read_nr_open(void)
{
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static bool fd_listed(int fd)
{
	char want[16];
	snprintf(want, sizeof(want), "%d", fd);
	DIR *d = opendir("/proc/self/fd");
	bool found = false;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, want) == 0)
			found = true;
	if (d)
		closedir(d);
	return found;
}

static void test_nr_open(long nr)
{
	CHECK("nr_open_readable", nr > HIGH_FD, "nr_open %ld", nr);
	pid_t c = fork();
	if (c == 0) {
		struct rlimit at = { (rlim_t)nr, (rlim_t)nr }, past = { (rlim_t)nr + 1, (rlim_t)nr + 1 }, o;
		int bad = 0;
		errno = 0;
		if (setrlimit(RLIMIT_NOFILE, &past) != -1 || errno != EPERM)
			bad |= 1;
		if (setrlimit(RLIMIT_NOFILE, &at) != 0)
			bad |= 2;
		if (getrlimit(RLIMIT_NOFILE, &o) || o.rlim_cur != (rlim_t)nr || o.rlim_max != (rlim_t)nr)
			bad |= 4;
		_exit(bad);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("nofile_up_to_nr_open", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}

static void test_high_fds(void)
{
	struct rlimit rl = { HIGH_FD + 1, HIGH_FD + 1 };
	CHECK("raise_to_5001", setrlimit(RLIMIT_NOFILE, &rl) == 0, "errno %d", errno);
	int null = open("/dev/null", O_RDWR);
	CHECK("dup2_5000", dup2(null, HIGH_FD) == HIGH_FD, "errno %d", errno);
	CHECK("dup2_5000_not_cloexec", fcntl(HIGH_FD, F_GETFD) == 0, "flags %d", fcntl(HIGH_FD, F_GETFD));
	CHECK("dup3_cloexec_4999", dup3(null, HIGH_FD - 1, O_CLOEXEC) == HIGH_FD - 1 &&
	      fcntl(HIGH_FD - 1, F_GETFD) == FD_CLOEXEC, "errno %d", errno);
	errno = 0;
	CHECK("dup2_past_limit_ebadf", dup2(null, HIGH_FD + 1) == -1 && errno == EBADF, "errno %d", errno);
	errno = 0;
	CHECK("dupfd_past_limit_einval", fcntl(null, F_DUPFD, HIGH_FD + 1) == -1 && errno == EINVAL, "errno %d", errno);
	CHECK("dupfd_high", fcntl(null, F_DUPFD, HIGH_FD - 10) == HIGH_FD - 10, "errno %d", errno);
	char a[64] = "", b[64] = "";
	readlink("/proc/self/fd/5000", a, sizeof(a) - 1);
	readlink("/dev/null", b, sizeof(b) - 1);
	CHECK("proc_fd_5000_link", strcmp(a, "/dev/null") == 0, "link '%s'", a);
	CHECK("proc_fd_5000_listed", fd_listed(HIGH_FD), "not in /proc/self/fd");
	struct pollfd p = { HIGH_FD, POLLOUT, 0 };
	CHECK("poll_5000", poll(&p, 1, 0) == 1 && (p.revents & POLLOUT), "revents %#x", p.revents);
	pid_t c = fork();
	if (c == 0)
		_exit(fcntl(HIGH_FD, F_GETFD) == 0 && fcntl(HIGH_FD - 1, F_GETFD) == FD_CLOEXEC ? 0 : 1);
	int st;
	waitpid(c, &st, 0);
	CHECK("fork_copies_high_fds", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);

	/* lowering the soft limit: open fds stay, new ones obey it */
	struct rlimit low = { LOW_LIMIT, HIGH_FD + 1 };
	CHECK("lower_soft", setrlimit(RLIMIT_NOFILE, &low) == 0, "errno %d", errno);
	CHECK("high_fd_survives", fcntl(HIGH_FD, F_GETFD) == 0 && write(HIGH_FD, "x", 1) == 1, "errno %d", errno);
	errno = 0;
	CHECK("dup2_above_low_ebadf", dup2(null, LOW_LIMIT) == -1 && errno == EBADF, "errno %d", errno);
	CHECK("close_high_fd", close(HIGH_FD - 10) == 0, "errno %d", errno);

	/* back up: fill every fd to the limit, then EMFILE */
	CHECK("raise_soft_again", setrlimit(RLIMIT_NOFILE, &rl) == 0, "errno %d", errno);
	int last = -1, fd;
	while ((fd = dup(null)) >= 0)
		last = fd;
	int e = errno;
	CHECK("fill_to_limit_emfile", e == EMFILE && last == HIGH_FD - 2, "errno %d last %d", e, last);
	errno = 0;
	CHECK("open_when_full_emfile", open("/dev/null", O_RDONLY) == -1 && errno == EMFILE, "errno %d", errno);
	for (fd = 3; fd <= HIGH_FD; fd++)
		close(fd);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	bool cap = capable_resource();
	long nr = read_nr_open();
	if (cap)
		test_nr_open(nr);
	else
		SKIP("nofile_up_to_nr_open", "no CAP_SYS_RESOURCE here");
	if (cap || rl.rlim_max > HIGH_FD)
		test_high_fds();
	else
		SKIP("high_fds", "hard RLIMIT_NOFILE below 5001 and no CAP_SYS_RESOURCE");
	return t_finish();
}
