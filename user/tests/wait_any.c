/* waitpid(-1) as a shell uses it for a pipeline: two children, one exits at once, the other after
 * a pause; a SIGCHLD handler without SA_RESTART is installed, as busybox ash
 * does. Every waitpid either returns a child or fails with EINTR; ECHILD comes only once both are
 * reaped. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

static volatile int chld_count;
static void on_chld(int sig) { (void)sig; chld_count++; }

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);

	pid_t a = fork();
	if (a == 0)
		_exit(3);
	pid_t b = fork();
	if (b == 0) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		_exit(7);
	}
	int got_a = 0, got_b = 0, eintr = 0, other = 0, st_a = -1, st_b = -1;
	for (int i = 0; i < 100 && !(got_a && got_b); i++) {
		int st;
		pid_t r = waitpid(-1, &st, 0);
		if (r == a) { got_a++; st_a = st; }
		else if (r == b) { got_b++; st_b = st; }
		else if (r < 0 && errno == EINTR) eintr++;
		else { other++; printf("waitpid: %d errno %d (%s)\n", r, errno, strerror(errno)); }
	}
	CHECK("wait_any: both children reaped once", got_a == 1 && got_b == 1, "a %d b %d", got_a, got_b);
	CHECK("wait_any: nothing but children and EINTR", other == 0, "%d other results", other);
	CHECK("wait_any: exit statuses", WIFEXITED(st_a) && WEXITSTATUS(st_a) == 3 &&
	      WIFEXITED(st_b) && WEXITSTATUS(st_b) == 7, "a %#x b %#x", st_a, st_b);
	errno = 0;
	CHECK("wait_any: ECHILD after the last", waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "errno %d", errno);
	CHECK("wait_any: SIGCHLD delivered", chld_count >= 1, "%d", chld_count);
	return t_finish();
}
