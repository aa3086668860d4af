/*
 * Block device I/O as dd sees it: read, write, lseek, fsync and the BLK* ioctls, from many
 * threads at once.
 *
 * Without arguments (the differential run of tests/system/test_user.py) it works on an 8 MiB
 * regular file under /tmp, so Linux (qemu-riscv64-static) and Ember answer the same calls:
 * patterns at random unaligned offsets, concurrent pwrite/pread from BLK_THREADS threads,
 * SEEK_END, fsync, and ENOTTY for a block ioctl on a regular file.
 *
 * With arguments (tests/system/test_blk.py, inside Ember and inside the Linux 6.1 guest with the
 * same disks attached, so Linux answers these too) each argument is a
 * check on a device node, "what:path:args" (numbers in bytes):
 *   info:/dev/vda:SIZE:SSZ         BLKGETSIZE64 == SIZE, BLKSSZGET == SSZ, SEEK_END == SIZE,
 *                                  read at the end returns 0, write at the end fails with ENOSPC
 *   verify:/dev/vda:SEED:OFF:LEN   [OFF, OFF+LEN) of the device holds pattern SEED (written by the
 *                                  host), checked at random unaligned offsets by BLK_THREADS threads
 *   write:/dev/vda:SEED:OFF:LEN    writes pattern SEED over [OFF, OFF+LEN): each thread one
 *                                  sector-aligned slice in unaligned pieces, then fsync; the host
 *                                  checks the image after poweroff. Reads it back too.
 *   ro:/dev/vdb:SEED               a read-only disk: reads work (pattern SEED at 0), write -> EPERM
 *                                  (Linux's answer; the kernel's block layer says EROFS inside)
 *   eio:/dev/vdc:OFF               reading 4 KiB at OFF fails with EIO
 * The pattern: byte o of a device is byte o % 8 of the little-endian 64-bit word
 * (o / 8) * 0x9e3779b97f4a7c15 + SEED (tests/system/test_blk.py computes the same).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"

#define BLK_THREADS 8
#define FILE_SIZE (8 << 20)
#define MAX_IO (192 << 10)
#define READS_PER_THREAD 40
#define PIECE_MAX 70001              /* write piece sizes: odd, so pieces are unaligned */
#define SECTOR 512
#define GOLDEN 0x9e3779b97f4a7c15ull
#ifndef BLKGETSIZE64
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#endif
#ifndef BLKSSZGET
#define BLKSSZGET _IO(0x12, 104)
#endif

static void pattern(uint64_t seed, uint64_t off, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t o = off + i;
		uint64_t w = (o / 8) * GOLDEN + seed;
		buf[i] = (uint8_t)(w >> (8 * (o % 8)));
	}
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t MIN_IO_LEN(uint64_t len) { return len < MAX_IO ? len : MAX_IO; }

struct job {
	const char *path;
	uint64_t seed, off, len;     /* the region */
	int index;
	int errors;
	char why[160];
};

/* Random unaligned reads of the region, each compared with the pattern. */
static void *verify_thread(void *arg)
{
	struct job *j = arg;
	uint8_t *got = malloc(MAX_IO), *want = malloc(MAX_IO);
	int fd = open(j->path, O_RDONLY);
	uint64_t rs = 0x1234567 + j->index * 7919;
	if (fd < 0 || !got || !want) {
		snprintf(j->why, sizeof(j->why), "open %s: %s", j->path, strerror(errno));
		j->errors++;
		goto out;
	}
	for (int i = 0; i < READS_PER_THREAD && !j->errors; i++) {
		uint64_t n = 1 + rng_next(&rs) % MIN_IO_LEN(j->len);
		uint64_t off = j->off + rng_next(&rs) % (j->len - n + 1);
		ssize_t r = pread(fd, got, n, off);
		pattern(j->seed, off, want, n);
		if (r != (ssize_t)n || memcmp(got, want, n)) {
			snprintf(j->why, sizeof(j->why), "pread %llu at %llu: %zd (%s)%s", (unsigned long long)n,
				 (unsigned long long)off, r, r < 0 ? strerror(errno) : "ok", r == (ssize_t)n ? ", wrong data" : "");
			j->errors++;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(got);
	free(want);
	return NULL;
}

/* Writes the thread's slice of the region in unaligned pieces, through its own fd and lseek+write. */
static void *write_thread(void *arg)
{
	struct job *j = arg;
	uint8_t *buf = malloc(PIECE_MAX);
	int fd = open(j->path, O_RDWR);
	uint64_t rs = 0xabcdef + j->index * 104729;
	if (fd < 0 || !buf) {
		snprintf(j->why, sizeof(j->why), "open %s: %s", j->path, strerror(errno));
		j->errors++;
		goto out;
	}
	if (lseek(fd, (off_t)j->off, SEEK_SET) != (off_t)j->off) {
		snprintf(j->why, sizeof(j->why), "lseek: %s", strerror(errno));
		j->errors++;
		goto out;
	}
	for (uint64_t done = 0; done < j->len && !j->errors;) {
		uint64_t n = 1 + rng_next(&rs) % PIECE_MAX;
		if (n > j->len - done)
			n = j->len - done;
		pattern(j->seed, j->off + done, buf, n);
		ssize_t r = write(fd, buf, n);
		if (r != (ssize_t)n) {
			snprintf(j->why, sizeof(j->why), "write %llu at %llu: %zd (%s)", (unsigned long long)n,
				 (unsigned long long)(j->off + done), r, r < 0 ? strerror(errno) : "short");
			j->errors++;
		}
		done += n;
	}
	if (!j->errors && fsync(fd)) {
		snprintf(j->why, sizeof(j->why), "fsync: %s", strerror(errno));
		j->errors++;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* Runs fn on BLK_THREADS threads over [off, off+len), split into sector-aligned slices when
 * `split` (writers must not share a sector), else each thread sees the whole region. */
static int run_threads(void *(*fn)(void *), const char *path, uint64_t seed, uint64_t off, uint64_t len,
		       bool split, char *why, size_t whylen)
{
	pthread_t t[BLK_THREADS];
	struct job jobs[BLK_THREADS];
	uint64_t slice = (len / BLK_THREADS) & ~(uint64_t)(SECTOR - 1);
	for (int i = 0; i < BLK_THREADS; i++) {
		jobs[i] = (struct job){ .path = path, .seed = seed, .off = off, .len = len, .index = i };
		if (split) {
			jobs[i].off = off + i * slice;
			jobs[i].len = i == BLK_THREADS - 1 ? len - i * slice : slice;
		}
		pthread_create(&t[i], NULL, fn, &jobs[i]);
	}
	int errors = 0;
	for (int i = 0; i < BLK_THREADS; i++) {
		pthread_join(t[i], NULL);
		if (jobs[i].errors && !errors)
			snprintf(why, whylen, "thread %d: %s", i, jobs[i].why);
		errors += jobs[i].errors;
	}
	return errors;
}

/* ---- the checks ---- */

static void check_verify(const char *path, uint64_t seed, uint64_t off, uint64_t len)
{
	char why[200] = "";
	int e = run_threads(verify_thread, path, seed, off, len, false, why, sizeof(why));
	CHECK("concurrent reads see the pattern", e == 0, "%s: %s", path, why);
}

static void check_write(const char *path, uint64_t seed, uint64_t off, uint64_t len)
{
	char why[200] = "";
	int e = run_threads(write_thread, path, seed, off, len, true, why, sizeof(why));
	CHECK("concurrent unaligned writes", e == 0, "%s: %s", path, why);
	e = run_threads(verify_thread, path, seed, off, len, false, why, sizeof(why));
	CHECK("written pattern reads back", e == 0, "%s: %s", path, why);
}

static void check_info(const char *path, uint64_t size, int ssz)
{
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		FAIL("open device", "%s: %s", path, strerror(errno));
		return;
	}
	struct stat st;
	CHECK("device node is a block device", fstat(fd, &st) == 0 && S_ISBLK(st.st_mode), "%s mode %o", path, st.st_mode);
	uint64_t sz = 0;
	int s = 0;
	CHECK("BLKGETSIZE64", ioctl(fd, BLKGETSIZE64, &sz) == 0 && sz == size, "%s: %llu, want %llu", path,
	      (unsigned long long)sz, (unsigned long long)size);
	CHECK("BLKSSZGET", ioctl(fd, BLKSSZGET, &s) == 0 && s == ssz, "%s: %d, want %d", path, s, ssz);
	CHECK("SEEK_END is the size", lseek(fd, 0, SEEK_END) == (off_t)size, "%s", path);
	char c;
	CHECK("read at the end is EOF", read(fd, &c, 1) == 0, "%s", path);
	errno = 0;
	CHECK("write at the end is ENOSPC", write(fd, "x", 1) == -1 && errno == ENOSPC, "%s: %s", path, strerror(errno));
	errno = 0;
	CHECK("bad user pointer is EFAULT", pread(fd, (void *)16, 512, 0) == -1 && errno == EFAULT, "%s: %s", path, strerror(errno));
	CHECK("fsync", fsync(fd) == 0, "%s: %s", path, strerror(errno));
	close(fd);
}

static void check_ro(const char *path, uint64_t seed)
{
	int fd = open(path, O_RDWR);
	if (fd < 0)
		fd = open(path, O_RDONLY);
	if (fd < 0) {
		FAIL("open read-only device", "%s: %s", path, strerror(errno));
		return;
	}
	uint8_t got[4096], want[4096];
	pattern(seed, 0, want, sizeof(want));
	CHECK("read-only disk reads", pread(fd, got, sizeof(got), 0) == (ssize_t)sizeof(got) &&
	      !memcmp(got, want, sizeof(got)), "%s", path);
	errno = 0;
	CHECK("read-only disk: write is EPERM", pwrite(fd, got, 512, 0) == -1 && errno == EPERM, "%s: %s", path,
	      strerror(errno));
	close(fd);
}

static void check_eio(const char *path, uint64_t off)
{
	int fd = open(path, O_RDONLY);
	uint8_t buf[4096];
	errno = 0;
	ssize_t r = fd < 0 ? -1 : pread(fd, buf, sizeof(buf), (off_t)off);
	CHECK("device error is EIO", r == -1 && errno == EIO, "%s: %zd (%s)", path, r, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The differential part: the same calls on a regular file. */
static void file_mode(void)
{
	const char *path = "/tmp/blk-test.img";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		FAIL("create image file", "%s", strerror(errno));
		return;
	}
	uint8_t *buf = malloc(1 << 20);
	for (uint64_t o = 0; o < FILE_SIZE; o += 1 << 20) {
		pattern(7, o, buf, 1 << 20);
		if (write(fd, buf, 1 << 20) != 1 << 20)
			break;
	}
	free(buf);
	CHECK("file SEEK_END", lseek(fd, 0, SEEK_END) == FILE_SIZE, "");
	uint64_t sz;
	errno = 0;
	CHECK("BLKGETSIZE64 on a regular file is ENOTTY", ioctl(fd, BLKGETSIZE64, &sz) == -1 && errno == ENOTTY, "%s",
	      strerror(errno));
	CHECK("file fsync", fsync(fd) == 0, "%s", strerror(errno));
	close(fd);
	check_verify(path, 7, 0, FILE_SIZE);
	check_write(path, 99, FILE_SIZE / 4, FILE_SIZE / 2);
	check_verify(path, 7, 0, FILE_SIZE / 4);
	unlink(path);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		file_mode();
	for (int i = 1; i < argc; i++) {
		char what[16], path[64];
		unsigned long long a = 0, b = 0, c = 0;
		int n = sscanf(argv[i], "%15[^:]:%63[^:]:%llu:%llu:%llu", what, path, &a, &b, &c);
		printf("-- %s\n", argv[i]);
		if (n >= 4 && !strcmp(what, "info"))
			check_info(path, a, (int)b);
		else if (n == 5 && !strcmp(what, "verify"))
			check_verify(path, a, b, c);
		else if (n == 5 && !strcmp(what, "write"))
			check_write(path, a, b, c);
		else if (n == 3 && !strcmp(what, "ro"))
			check_ro(path, a);
		else if (n == 3 && !strcmp(what, "eio"))
			check_eio(path, a);
		else
			FAIL("argument", "cannot parse %s", argv[i]);
	}
	return t_finish();
}
