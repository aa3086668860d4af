/*
 * Reading a big directory while it changes (POSIX readdir: a name neither added nor removed
 * while the directory is read is returned exactly once; a name added or removed meanwhile may or
 * may not be): getdents64 with a small buffer, a few entries per call, and between the calls
 * new names are created and others unlinked. On ext4 this is what hash-order readdir (cookies
 * that are hash positions, Linux's ext4_dx_readdir) is for: leaf splits move half a block's names
 * to a new block between two calls.
 *
 * usage: dirchurn [DIR]   (default /tmp; tests/system/test_root_disk.py runs it on an ext4 root)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "harness.h"

#define KEEP 2000
#define GONE 600
#define NEW_MAX 4000
#define ADD_PER_CALL 11
#define DEL_PER_CALL 3
#define BUF_SIZE 512                  /* ~10 entries per getdents64 */

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int keep[KEEP], gone[GONE], added[NEW_MAX];
static int dots, dotdots, others;

static void name_of(char *b, size_t n, const char *prefix, int i)
{
	snprintf(b, n, "%s-%d-%.*s", prefix, i, (i * 7) % 41, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ");
}

static bool make(const char *dir, const char *prefix, int i)
{
	char p[300], n[128];
	name_of(n, sizeof(n), prefix, i);
	snprintf(p, sizeof(p), "%s/%s", dir, n);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool drop(const char *dir, const char *prefix, int i)
{
	char p[300], n[128];
	name_of(n, sizeof(n), prefix, i);
	snprintf(p, sizeof(p), "%s/%s", dir, n);
	return unlink(p) == 0;
}

static void count(const char *name)
{
	int i;
	if (!strcmp(name, "."))
		dots++;
	else if (!strcmp(name, ".."))
		dotdots++;
	else if (sscanf(name, "keep-%d-", &i) == 1 && i >= 0 && i < KEEP)
		keep[i]++;
	else if (sscanf(name, "gone-%d-", &i) == 1 && i >= 0 && i < GONE)
		gone[i]++;
	else if (sscanf(name, "new-%d-", &i) == 1 && i >= 0 && i < NEW_MAX)
		added[i]++;
	else
		others++;
}

int main(int argc, char **argv)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/dirchurn-%d", argc > 1 ? argv[1] : "/tmp", (int)getpid());
	if (mkdir(dir, 0755) < 0) {
		FAIL("mkdir", "%s: %s", dir, strerror(errno));
		return t_finish();
	}
	int bad = 0;
	for (int i = 0; i < KEEP; i++)
		bad += !make(dir, "keep", i);
	for (int i = 0; i < GONE; i++)
		bad += !make(dir, "gone", i);
	CHECK("create the directory's names", bad == 0, "%d failed: %s", bad, strerror(errno));

	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK("open the directory", fd >= 0, "%s", strerror(errno));
	static char buf[BUF_SIZE];
	int calls = 0, nadded = 0, nremoved = 0;
	bad = 0;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n <= 0) {
			CHECK("getdents64 ends with 0", n == 0, "%ld: %s", n, strerror(errno));
			break;
		}
		calls++;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *de = (struct linux_dirent64 *)(buf + off);
			count(de->d_name);
			off += de->d_reclen;
		}
		for (int k = 0; k < ADD_PER_CALL && nadded < NEW_MAX; k++)
			bad += !make(dir, "new", nadded++);
		for (int k = 0; k < DEL_PER_CALL && nremoved < GONE; k++)
			bad += !drop(dir, "gone", nremoved++);
		if (calls > 100000)
			break;
	}
	close(fd);
	CHECK("changes between the reads", bad == 0 && nadded > 1000, "%d failed, %d added", bad, nadded);
	int missing = 0, twice = 0;
	for (int i = 0; i < KEEP; i++) {
		missing += keep[i] == 0;
		twice += keep[i] > 1;
	}
	for (int i = 0; i < GONE; i++)
		twice += gone[i] > 1;
	for (int i = 0; i < NEW_MAX; i++)
		twice += added[i] > 1;
	CHECK("every name that stayed is read", missing == 0, "%d of %d missing", missing, KEEP);
	CHECK("no name is read twice", twice == 0, "%d names twice", twice);
	CHECK("\".\" and \"..\" once each", dots == 1 && dotdots == 1, "%d and %d", dots, dotdots);
	CHECK("no other names", others == 0, "%d", others);

	/* clean up, and the directory is empty again */
	for (int i = 0; i < KEEP; i++)
		drop(dir, "keep", i);
	for (int i = nremoved; i < GONE; i++)
		drop(dir, "gone", i);
	for (int i = 0; i < nadded; i++)
		drop(dir, "new", i);
	CHECK("rmdir after removing everything", rmdir(dir) == 0, "%s", strerror(errno));
	return t_finish();
}
