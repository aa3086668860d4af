/*
 * Bytes past end-of-file read as zeros once the file grows again: truncate (and ftruncate) down
 * to a size inside a block, then extend it (ftruncate up, a write further on that leaves a gap,
 * a write inside the old last block, fallocate): everything between the short size and the new
 * data reads as zeros, through read() and through a private mapping, also after fsync and a
 * reopen. Linux zeroes the tail of the last block at the truncate and when the size grows.
 *
 * usage: truncate_tail [DIR]   (default /tmp; tests/system/test_root_disk.py runs it on an ext4
 * root, where the file system's own blocks keep the zeros)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"

#define FILL 0xA5
#define BIG  20000                  /* several blocks of 1 KiB and 4 KiB */

static unsigned char buf[BIG + 64];

/* The file holds `keep` bytes of FILL, zeros up to `zero_to`, FILL up to `size`. */
static int looks(int fd, long keep, long zero_to, long size)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size != size) {
		printf("  size %ld, want %ld\n", (long)st.st_size, size);
		return 0;
	}
	memset(buf, 0x11, sizeof(buf));
	if (pread(fd, buf, sizeof(buf), 0) != size) {
		printf("  short read\n");
		return 0;
	}
	for (long i = 0; i < size; i++) {
		unsigned char want = (i < keep || i >= zero_to) ? FILL : 0;
		if (buf[i] != want) {
			printf("  byte %ld is %#x, want %#x\n", i, buf[i], want);
			return 0;
		}
	}
	return 1;
}

static int fill(int fd, long off, long n)
{
	unsigned char b[BIG];
	memset(b, FILL, sizeof(b));
	return pwrite(fd, b, (size_t)n, off) == n;
}

/* Back to BIG bytes of FILL. */
static int reset(int fd)
{
	return ftruncate(fd, 0) == 0 && fill(fd, 0, BIG);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char p[300];
	snprintf(p, sizeof(p), "%s/truncate_tail.%d", dir, (int)getpid());
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open %s: %s\n", p, strerror(errno));
		return 1;
	}
	CHECK("write", fill(fd, 0, BIG), "%s", strerror(errno));

	/* ftruncate down into a block, up again: a hole after zeros */
	CHECK("ftruncate down", ftruncate(fd, 5000) == 0, "%s", strerror(errno));
	CHECK("ftruncate up", ftruncate(fd, BIG) == 0, "%s", strerror(errno));
	CHECK("zeros after ftruncate down+up", looks(fd, 5000, BIG, BIG), "see above");

	/* truncate(path) down, then a write past the end leaving a gap */
	CHECK("truncate path", reset(fd) && truncate(p, 100) == 0, "%s", strerror(errno));
	CHECK("write past the end", fill(fd, 9000, 10), "%s", strerror(errno));
	CHECK("zeros in the gap", looks(fd, 100, 9000, 9010), "see above");

	/* down to one byte into a block, then a write a little further in the same block */
	CHECK("truncate to 4097", reset(fd) && ftruncate(fd, 4097) == 0, "%s", strerror(errno));
	CHECK("write in the last block", fill(fd, 4200, 3), "%s", strerror(errno));
	CHECK("zeros inside the old last block", looks(fd, 4097, 4200, 4203), "see above");

	/* down, then an append with O_APPEND semantics through lseek: no gap, nothing stale after */
	CHECK("truncate to 1500", reset(fd) && ftruncate(fd, 1500) == 0, "%s", strerror(errno));
	CHECK("append", fill(fd, 1500, 10), "%s", strerror(errno));
	CHECK("extend after append", ftruncate(fd, 6000) == 0, "%s", strerror(errno));
	CHECK("zeros after the append", looks(fd, 1510, 6000, 6000), "see above");

	/* fallocate growing the size over a short last block */
	CHECK("truncate to 3333", reset(fd) && ftruncate(fd, 3333) == 0, "%s", strerror(errno));
	int fa = fallocate(fd, 0, 0, 12000);
	if (fa < 0 && errno == EOPNOTSUPP)
		SKIP("zeros after fallocate", "fallocate not supported here");
	else
		CHECK("zeros after fallocate", fa == 0 && looks(fd, 3333, 12000, 12000), "fallocate %d %s", fa,
		      strerror(errno));

	/* the same through a private mapping, and after fsync and a reopen */
	CHECK("truncate to 700", reset(fd) && ftruncate(fd, 700) == 0 && ftruncate(fd, 8192) == 0, "%s", strerror(errno));
	unsigned char *m = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	int ok = m != MAP_FAILED;
	for (int i = 0; ok && i < 8192; i++)
		ok = m[i] == (i < 700 ? FILL : 0);
	CHECK("zeros through mmap", ok, "mapping %p", (void *)m);
	if (m != MAP_FAILED)
		munmap(m, 8192);
	CHECK("fsync", fsync(fd) == 0, "%s", strerror(errno));
	close(fd);
	fd = open(p, O_RDONLY);
	CHECK("zeros after reopen", fd >= 0 && looks(fd, 700, 8192, 8192), "see above");
	close(fd);
	CHECK("unlink", unlink(p) == 0, "%s", strerror(errno));
	return t_finish();
}
