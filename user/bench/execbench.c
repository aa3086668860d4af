/*
 * exec micro-benchmark (make bench runs it inside Ember; under qemu-user the host kernel cannot
 * execve a riscv64 binary, so only Ember's figures exist): fork + execve + wait per second of
 * /bin/hello-dyn (a dynamic glibc PIE: the kernel maps it and glibc's loader, the loader maps
 * libc) and of the static /bin/hello for comparison. The child's output goes to /dev/null.
 * Prints "bench NAME VALUE UNIT" lines.
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
	double dyn = rate("/bin/hello-dyn"), stat = rate("/bin/hello");
	if (dyn > 0)
		printf("bench fork_exec_wait_hello_dynamic_glibc %.1f /s\n", dyn);
	if (stat > 0)
		printf("bench fork_exec_wait_hello_static %.1f /s\n", stat);
	return dyn > 0 && stat > 0 ? 0 : 1;
}
