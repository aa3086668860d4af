/*
 * MAP_SHARED mappings of a regular file (issue 12): every shared mapping of the file sees the
 * same bytes (two mappings in one process, a child after fork, a mapping the child makes), a
 * store through a mapping is seen by read() and a write() through the mapping, msync syncs them
 * (and checks its arguments as Linux does), the data stays after munmap and a reopen, a store
 * past EOF in the last page neither changes the size nor shows in read(), pages wholly past EOF
 * are SIGBUS, MAP_PRIVATE stays copy-on-write, and truncation drops the pages past the new size.
 *
 * usage: mmap_shared_file [DIR [leave]]   (default /tmp). tests/system/test_root_disk.py runs it
 * on an ext4 root with "leave": it then leaves two files in DIR written only through shared
 * mappings (one still mapped at sync(), one unmapped and closed without msync) for the host's
 * debugfs to read after the poweroff.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "mmaputil.h"

#define PG 4096
#define SIZE (3 * PG + 100)            /* three pages and a bit of a fourth */
#define MAPLEN (5 * PG)                /* the fifth page is wholly past EOF */

static sigjmp_buf jb;
static volatile int got_sig;

static void on_sig(int sig)
{
	got_sig = sig;
	siglongjmp(jb, 1);
}

/* The signal (0: none) an access of p (read, or write when store) raises. */
static int touch(volatile unsigned char *p, int store)
{
	got_sig = 0;
	if (sigsetjmp(jb, 1) == 0) {
		if (store)
			*p = 0x5a;
		else
			(void)*p;
	}
	return got_sig;
}

static int read_is(int fd, long off, const void *want, size_t n)
{
	unsigned char b[256];
	if (n > sizeof(b) || pread(fd, b, n, off) != (ssize_t)n)
		return 0;
	return memcmp(b, want, n) == 0;
}

static const char TEXT_A[] = "written only through a shared mapping: page 0";
static const char TEXT_B[] = "and this one at 5000, in the second page";

/* Files for the host to read after the poweroff (test_root_disk.py). */
static void leave_files(const char *dir)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/mmap_kept.bin", dir);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	int ok = fd >= 0 && ftruncate(fd, 8192) == 0;
	unsigned char *m = ok ? mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
	ok = m != MAP_FAILED;
	if (ok) {
		memcpy(m, TEXT_A, sizeof(TEXT_A));
		memcpy(m + 5000, TEXT_B, sizeof(TEXT_B));
	}
	CHECK("leave: a file written through a mapping kept mapped", ok, "%s", strerror(errno));
	snprintf(p, sizeof(p), "%s/mmap_gone.bin", dir);
	int fd2 = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok = fd2 >= 0 && ftruncate(fd2, 8192) == 0;
	unsigned char *m2 = ok ? mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0) : MAP_FAILED;
	ok = m2 != MAP_FAILED;
	if (ok) {
		memcpy(m2 + 5000, TEXT_A, sizeof(TEXT_A));
		memcpy(m2, TEXT_B, sizeof(TEXT_B));
		ok = munmap(m2, 8192) == 0 && close(fd2) == 0;
	}
	CHECK("leave: a file written through a mapping, unmapped and closed", ok, "%s", strerror(errno));
	sync();                                   /* the first one is still mapped */
	printf("leave: files in %s\n", dir);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	int leave = argc > 2 && strcmp(argv[2], "leave") == 0;
	char p[300];
	snprintf(p, sizeof(p), "%s/mmap_shared_file.%d", dir, (int)getpid());
	struct sigaction sa = { 0 };
	sa.sa_handler = on_sig;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	int fd = make_file(p, SIZE);
	if (fd < 0) {
		printf("create %s: %s\n", p, strerror(errno));
		return 1;
	}
	unsigned char *m1 = mmap(NULL, MAPLEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned char *m2 = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("two shared mappings", m1 != MAP_FAILED && m2 != MAP_FAILED && m1 != m2, "%s", strerror(errno));
	if (m1 == MAP_FAILED || m2 == MAP_FAILED)
		return t_finish();
	int ok = 1;
	for (long i = 0; i < SIZE && ok; i++)
		ok = m1[i] == pattern(i) && m2[i] == pattern(i);
	CHECK("mappings show the file", ok, "");

	/* store -> other mapping, read() */
	memcpy(m1 + 100, "HELLO", 5);
	memcpy(m2 + 2 * PG + 7, "WORLD", 5);
	CHECK("a store is seen by the other mapping", memcmp(m2 + 100, "HELLO", 5) == 0 &&
	      memcmp(m1 + 2 * PG + 7, "WORLD", 5) == 0, "");
	CHECK("a store is seen by read()", read_is(fd, 100, "HELLO", 5) && read_is(fd, 2 * PG + 7, "WORLD", 5), "");

	/* write() -> mappings */
	CHECK("pwrite", pwrite(fd, "pwritten", 8, PG - 4) == 8, "%s", strerror(errno));
	CHECK("write() is seen through both mappings", memcmp(m1 + PG - 4, "pwritten", 8) == 0 &&
	      memcmp(m2 + PG - 4, "pwritten", 8) == 0, "");

	/* fork: the child's stores through the inherited mapping and through its own */
	pid_t pid = fork();
	if (pid == 0) {
		int good = memcmp(m1 + 100, "HELLO", 5) == 0;
		memcpy(m1 + 300, "child1", 6);
		int cfd = open(p, O_RDWR);
		unsigned char *m3 = cfd >= 0 ? mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0) : MAP_FAILED;
		if (m3 == MAP_FAILED)
			_exit(2);
		good = good && memcmp(m3 + 300, "child1", 6) == 0 && memcmp(m3 + PG - 4, "pwritten", 8) == 0;
		memcpy(m3 + 3 * PG + 10, "child2", 6);
		munmap(m3, SIZE);
		close(cfd);
		_exit(good ? 0 : 1);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK("the child sees the parent's stores", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	CHECK("the parent sees the child's stores (inherited and own mapping)",
	      memcmp(m2 + 300, "child1", 6) == 0 && memcmp(m1 + 3 * PG + 10, "child2", 6) == 0 &&
	      read_is(fd, 3 * PG + 10, "child2", 6), "");

	/* MAP_PRIVATE stays copy-on-write */
	unsigned char *pm = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ok = pm != MAP_FAILED && memcmp(pm + 100, "HELLO", 5) == 0;
	if (ok)
		memcpy(pm + 100, "privy", 5);
	CHECK("a private mapping's store stays private", ok && memcmp(m1 + 100, "HELLO", 5) == 0 &&
	      read_is(fd, 100, "HELLO", 5) && memcmp(pm + 100, "privy", 5) == 0, "");
	if (pm != MAP_FAILED)
		munmap(pm, SIZE);

	/* past EOF: the last page's tail is there but not part of the file, the next page is SIGBUS */
	CHECK("the tail of the last page reads zeros", m1[SIZE] == 0 && m1[4 * PG - 1] == 0, "%#x", m1[SIZE]);
	CHECK("a store past EOF in the last page is no signal", touch(m1 + SIZE + 10, 1) == 0, "sig %d", got_sig);
	CHECK("a page wholly past EOF is SIGBUS (load)", touch(m1 + 4 * PG + 5, 0) == SIGBUS, "sig %d", got_sig);
	CHECK("a page wholly past EOF is SIGBUS (store)", touch(m1 + 4 * PG, 1) == SIGBUS, "sig %d", got_sig);

	/* msync */
	CHECK("msync MS_SYNC", msync(m1, MAPLEN, MS_SYNC) == 0, "%s", strerror(errno));
	CHECK("msync MS_ASYNC", msync(m2, SIZE, MS_ASYNC) == 0, "%s", strerror(errno));
	CHECK("msync MS_INVALIDATE", msync(m2, PG, MS_INVALIDATE) == 0, "%s", strerror(errno));
	CHECK("msync of nothing", msync(m1, 0, MS_SYNC) == 0, "%s", strerror(errno));
	errno = 0;
	CHECK("msync unaligned: EINVAL", msync(m1 + 1, PG, MS_SYNC) == -1 && errno == EINVAL, "%s", strerror(errno));
	errno = 0;
	CHECK("msync MS_ASYNC|MS_SYNC: EINVAL", msync(m1, PG, MS_ASYNC | MS_SYNC) == -1 && errno == EINVAL,
	      "%s", strerror(errno));
	errno = 0;
	CHECK("msync unknown flag: EINVAL", msync(m1, PG, 0x100) == -1 && errno == EINVAL, "%s", strerror(errno));
	unsigned char *hole = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole + PG, PG);
	errno = 0;
	CHECK("msync over an unmapped page: ENOMEM", msync(hole, 3 * PG, MS_SYNC) == -1 && errno == ENOMEM,
	      "%s", strerror(errno));
	errno = 0;
	CHECK("msync of an anonymous mapping", msync(hole, PG, MS_SYNC) == 0, "%s", strerror(errno));
	munmap(hole, 3 * PG);
	struct stat sb;
	CHECK("stores past EOF leave the size", fstat(fd, &sb) == 0 && sb.st_size == SIZE, "size %ld", (long)sb.st_size);
	unsigned char big[SIZE + 200];
	CHECK("read() stops at EOF", pread(fd, big, sizeof(big), 0) == SIZE, "");

	int fd2 = open(p, O_RDONLY);
	CHECK("after msync another open reads the stores", fd2 >= 0 && read_is(fd2, 100, "HELLO", 5) &&
	      read_is(fd2, 300, "child1", 6) && read_is(fd2, 3 * PG + 10, "child2", 6), "");
	close(fd2);

	/* munmap, close, reopen: the data stays */
	memcpy(m2 + 2 * PG + 50, "unmapped", 8);            /* no msync for this one */
	CHECK("munmap", munmap(m1, MAPLEN) == 0 && munmap(m2, SIZE) == 0, "%s", strerror(errno));
	close(fd);
	fd = open(p, O_RDWR);
	CHECK("after munmap and a reopen read() has the stores", fd >= 0 && read_is(fd, 100, "HELLO", 5) &&
	      read_is(fd, 2 * PG + 50, "unmapped", 8) && read_is(fd, PG - 4, "pwritten", 8), "");
	m1 = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("and a new mapping too", m1 != MAP_FAILED && memcmp(m1 + 2 * PG + 50, "unmapped", 8) == 0 &&
	      memcmp(m1 + 3 * PG + 10, "child2", 6) == 0, "");

	/* truncation drops the pages past the new size */
	memcpy(m1 + 2 * PG, "dropped", 7);
	munmap(m1, SIZE);
	CHECK("truncate down and up", ftruncate(fd, 100) == 0 && ftruncate(fd, SIZE) == 0, "%s", strerror(errno));
	static const unsigned char zeros[64];
	CHECK("the truncated range reads zeros", read_is(fd, 100, zeros, 64) && read_is(fd, 2 * PG, zeros, 64), "");
	m1 = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK("and maps as zeros", m1 != MAP_FAILED && memcmp(m1 + 2 * PG, zeros, 64) == 0 &&
	      memcmp(m1 + 100, zeros, 64) == 0 && m1[99] == pattern(99), "");
	if (m1 != MAP_FAILED)
		munmap(m1, SIZE);
	close(fd);
	CHECK("unlink", unlink(p) == 0, "%s", strerror(errno));
	if (leave)
		leave_files(dir);
	return t_finish();
}
