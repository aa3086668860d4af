/*
 * exec micro-benchmark, run as init inside Ember and inside the Linux guest by bench/bench_exec.py:
 * fork + execve + wait per second of /bin/hello-dyn (a dynamic glibc PIE: the kernel maps it and
 * glibc's loader, the loader maps libc), of the static /bin/hello, and of busybox `true` (/bin/true,
 * a link to the static busybox), the child's output going to /dev/null. Prints "bench NAME VALUE
 * UNIT" lines, then "execbench: done".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

#define ROUNDS 200

/* Runs path ROUNDS times; fork+exec+wait per second, or -1 when a run fails. */
static double rate(const char *path)
{
	double t0 = now();
	for (int i = 0; i < ROUNDS; i++) {
		pid_t p = fork();
		if (p == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			execl(path, path, (char *)NULL);
			_exit(127);
		}
		int st;
		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return -1;
	}
	return ROUNDS / (now() - t0);
}

int main(void)
{
	double dyn = rate("/bin/hello-dyn"), stat = rate("/bin/hello"), bb = rate("/bin/true");
	if (dyn > 0)
		printf("bench fork_exec_wait_hello_dynamic_glibc %.1f /s\n", dyn);
	if (stat > 0)
		printf("bench fork_exec_wait_hello_static %.1f /s\n", stat);
	if (bb > 0)
		printf("bench fork_exec_wait_busybox_true %.1f /s\n", bb);
	printf("execbench: done\n");
	fflush(stdout);
	return dyn > 0 && stat > 0 && bb > 0 ? 0 : 1;
}
