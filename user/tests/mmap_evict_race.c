/*
 * Stores through a shared mapping stay visible to an open that races the last close (issue 12,
 * the evict window of fs/ext4/ext4_vfs.c). A child stamps a file through a writable shared
 * mapping, makes the mapping read-only (mprotect), unmaps it, tells the parent, and closes the
 * file (its last reference: the inode is evicted). The parent, told, opens the file at once and
 * reads it: the stamp must be there (the stores were made, and the mapping gone, before the
 * child said so; on Linux the page cache has them). Many rounds, so the parent's open lands in
 * the middle of the child's close now and then.
 *
 * usage: mmap_evict_race [DIR]   (default /tmp; tests/system/test_mmap_truncate_ext4.py runs it
 * on an ext4 root, where the window was)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define PG 4096
#define ROUNDS 200

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char p[300];
	snprintf(p, sizeof(p), "%s/mmap_evict_race.%d", dir, (int)getpid());
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK("create", fd >= 0 && ftruncate(fd, PG) == 0, "%s", strerror(errno));
	close(fd);
	/* the child's word to the parent: a shared anonymous page the parent spins on (a pipe's
	 * wakeup would let the child's close finish first) */
	volatile int *told = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (told == MAP_FAILED)
		return 1;
	int stale = 0, failed_child = 0;
	for (int r = 1; r <= ROUNDS; r++) {
		pid_t pid = fork();
		if (pid == 0) {
			int cfd = open(p, O_RDWR);
			unsigned char *m = cfd >= 0 ? mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0) : MAP_FAILED;
			if (m == MAP_FAILED)
				_exit(1);
			memset(m, r & 0xff, PG);
			if (mprotect(m, PG, PROT_READ) || munmap(m, PG))
				_exit(1);
			__atomic_store_n(told, r, __ATOMIC_RELEASE);
			close(cfd);                         /* the last reference */
			_exit(0);
		}
		int st = -1, reaped = 0;
		while (__atomic_load_n(told, __ATOMIC_ACQUIRE) != r && !reaped)
			reaped = waitpid(pid, &st, WNOHANG) == pid;
		if (__atomic_load_n(told, __ATOMIC_ACQUIRE) != r) {
			failed_child++;                         /* it died before its word */
			continue;
		}
		int pfd = open(p, O_RDONLY);
		unsigned char b[16];
		if (pfd < 0 || pread(pfd, b, sizeof(b), PG - sizeof(b)) != (ssize_t)sizeof(b) || b[0] != (r & 0xff))
			stale++;
		if (pfd >= 0)
			close(pfd);
		if (!reaped)
			waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed_child++;
	}
	CHECK("every child stamped, unmapped and closed", failed_child == 0, "%d failed", failed_child);
	CHECK("an open racing the last close reads the stores", stale == 0, "%d of %d rounds read older bytes",
	      stale, ROUNDS);
	unlink(p);
	return t_finish();
}
