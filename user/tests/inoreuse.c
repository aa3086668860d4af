/*
 * Inode numbers coming back: two processes in one directory, one making and removing a
 * directory, the other creating (O_CREAT|O_EXCL) and unlinking a file, over and over. A file
 * system hands a freed number to the next new inode, so each gets the number the other just
 * freed: the new file must be a file (open for writing works, fstat says S_IFREG), the new
 * directory a directory (rmdir works). On Ember's ext4 the VFS copy of a freed inode once left
 * the inode cache only after the file system's lock was let go, and a create on another hart in
 * between got the removed directory: open said EISDIR (found by tests/system/test_ext4_crash.py).
 *
 * usage: inoreuse [DIR]   (default /tmp; tests/system/test_root_disk.py runs it on an ext4 root)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define ROUNDS 3000

static int dir_loop(const char *d)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/sub", d);
	for (int i = 0; i < ROUNDS; i++) {
		if (mkdir(p, 0755) < 0) {
			printf("mkdir %d: %s\n", i, strerror(errno));
			return 1;
		}
		struct stat st;
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
			printf("stat of the new directory %d: mode %o (%s)\n", i, st.st_mode, strerror(errno));
			return 1;
		}
		if (rmdir(p) < 0) {
			printf("rmdir %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	return 0;
}

static int file_loop(const char *d)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/file", d);
	for (int i = 0; i < ROUNDS; i++) {
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		struct stat st;
		if (fd < 0) {
			printf("create %d: %s\n", i, strerror(errno));
			return 1;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || write(fd, "x", 1) != 1) {
			printf("the new file %d: mode %o (%s)\n", i, st.st_mode, strerror(errno));
			return 1;
		}
		close(fd);
		if (unlink(p) < 0) {
			printf("unlink %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char d[256];
	snprintf(d, sizeof(d), "%s/inoreuse-%d", argc > 1 ? argv[1] : "/tmp", (int)getpid());
	if (mkdir(d, 0755) < 0) {
		FAIL("mkdir", "%s: %s", d, strerror(errno));
		return t_finish();
	}
	fflush(stdout);
	pid_t a = fork();
	if (a == 0)
		_exit(dir_loop(d));
	pid_t b = fork();
	if (b == 0)
		_exit(file_loop(d));
	int sa = -1, sb = -1;
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	CHECK("a new directory is a directory each time", WIFEXITED(sa) && WEXITSTATUS(sa) == 0, "status %#x", sa);
	CHECK("a new file is a file each time", WIFEXITED(sb) && WEXITSTATUS(sb) == 0, "status %#x", sb);
	CHECK("the directory is empty at the end", rmdir(d) == 0, "%s", strerror(errno));
	return t_finish();
}
