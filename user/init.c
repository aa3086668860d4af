/*
 * Ember's default /init: prints a banner and runs a small interactive shell. Commands: a program
 * path with arguments (run in a child, waited for; its exit status is reported when non-zero),
 * `cd DIR`, `exit [N]`. Lines come from the console in canonical mode (the kernel echoes them).
 * With arguments (`init CMD ARGS...`) it runs that one command and exits with its status: `make run`
 * boots `rdinit=/init -- /bin/sh -l`, busybox's login shell.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINE_MAX_LEN 256
#define MAX_ARGS 32

static int run(char **argv)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 127;
	}
	if (pid == 0) {
		execve(argv[0], argv, environ);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* As pid 1, also reap the orphans that are re-parented to us while the child runs. */
	int status;
	for (;;) {
		pid_t r = waitpid(getpid() == 1 ? -1 : pid, &status, 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			perror("waitpid");
			return 127;
		}
	}
	if (WIFSIGNALED(status)) {
		printf("%s: killed by signal %d\n", argv[0], WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return run(argv + 1);
	struct utsname u;
	uname(&u);
	printf("Ember init: %s %s %s. Type a program path (e.g. /bin/hello), cd DIR, or exit.\n",
	       u.sysname, u.release, u.machine);
	char line[LINE_MAX_LEN];
	for (;;) {
		printf("# ");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 0;
		char *args[MAX_ARGS + 1];
		int n = 0;
		for (char *tok = strtok(line, " \t\r\n"); tok && n < MAX_ARGS; tok = strtok(NULL, " \t\r\n"))
			args[n++] = tok;
		args[n] = NULL;
		if (n == 0)
			continue;
		if (!strcmp(args[0], "exit"))
			return n > 1 ? atoi(args[1]) : 0;
		if (!strcmp(args[0], "cd")) {
			if (chdir(n > 1 ? args[1] : "/") < 0)
				perror("cd");
			continue;
		}
		int st = run(args);
		if (st)
			printf("[exit status %d]\n", st);
	}
}
