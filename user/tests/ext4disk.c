/*
 * Files on a disk file system, as a program sees them: byte-exact reads of files the host put
 * there, writes of new files and directories, and what survives umount and a second mount.
 *
 * Without arguments (the differential run of tests/system/test_user.py) it writes, reads back and
 * removes a small tree under a fresh directory in /tmp, so Linux (qemu-riscv64-static) and Ember
 * answer the same calls.
 *
 * With arguments (tests/system/test_ext4_disk.py, inside Ember with an ext4 image made by the
 * host's mkfs.ext4 -d on virtio-blk) each argument holds steps "what:args" separated by commas
 * (the kernel passes init only a few arguments), run in order:
 *   mount:DEV:DIR            mount(DEV, DIR, "ext4", 0, NULL) (DIR made if missing)
 *   statfs:DIR               statfs says ext4 (f_type 0xEF53) and has free blocks
 *   read:PATH:SEED:SIZE      PATH is a regular file of SIZE bytes holding pattern SEED, read in
 *                            uneven pieces and once with pread at an odd offset
 *   write:PATH:SEED:SIZE     creates PATH (O_TRUNC) with pattern SEED in uneven pieces, fsync
 *   mkdir:PATH               mkdir PATH 0755
 *   count:DIR:N              DIR has N entries besides . and ..
 *   umount:DIR               umount(DIR)
 *   say:WORD                 prints "say: WORD" (a marker for the host: the next step starts)
 * The pattern: byte i of a file is ((i * 2654435761 + SEED * 40503) >> 11) & 0xff
 * (tests/system/test_ext4_disk.py computes the same).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "harness.h"

#define EXT4_MAGIC 0xEF53
#define CHUNK_MAX 7001                /* uneven pieces: not a multiple of any block size */
#define ODD_OFFSET 4093

static uint8_t pattern_byte(uint64_t i, uint64_t seed)
{
	return (uint8_t)(((i * 2654435761u + seed * 40503u) >> 11) & 0xff);
}

static void fill(uint8_t *buf, uint64_t off, size_t n, uint64_t seed)
{
	for (size_t k = 0; k < n; k++)
		buf[k] = pattern_byte(off + k, seed);
}

/* 0 when path holds exactly size bytes of pattern seed; else says what differs. */
static int check_file(const char *path, uint64_t seed, uint64_t size, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(why, whylen, "open: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		snprintf(why, whylen, "size %lld, want %llu", (long long)st.st_size, (unsigned long long)size);
		close(fd);
		return -1;
	}
	static uint8_t got[CHUNK_MAX], want[CHUNK_MAX];
	uint64_t off = 0;
	size_t piece = 1;
	int rc = 0;
	while (off < size) {
		size_t n = piece;
		if (n > size - off)
			n = (size_t)(size - off);
		ssize_t r = read(fd, got, n);
		if (r <= 0) {
			snprintf(why, whylen, "read at %llu: %zd (%s)", (unsigned long long)off, r, strerror(errno));
			rc = -1;
			break;
		}
		fill(want, off, (size_t)r, seed);
		if (memcmp(got, want, (size_t)r)) {
			snprintf(why, whylen, "bytes differ in [%llu, %llu)", (unsigned long long)off,
				 (unsigned long long)(off + (size_t)r));
			rc = -1;
			break;
		}
		off += (uint64_t)r;
		piece = piece * 3 % CHUNK_MAX + 1;
	}
	char extra;
	if (!rc && read(fd, &extra, 1) != 0) {
		snprintf(why, whylen, "read past the end returned data");
		rc = -1;
	}
	if (!rc && size > ODD_OFFSET) {
		size_t n = size - ODD_OFFSET < CHUNK_MAX ? (size_t)(size - ODD_OFFSET) : CHUNK_MAX;
		fill(want, ODD_OFFSET, n, seed);
		if (pread(fd, got, n, ODD_OFFSET) != (ssize_t)n || memcmp(got, want, n)) {
			snprintf(why, whylen, "pread at %d differs", ODD_OFFSET);
			rc = -1;
		}
	}
	close(fd);
	return rc;
}

static int write_file(const char *path, uint64_t seed, uint64_t size, char *why, size_t whylen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		snprintf(why, whylen, "open: %s", strerror(errno));
		return -1;
	}
	static uint8_t buf[CHUNK_MAX];
	uint64_t off = 0;
	size_t piece = 4095;
	while (off < size) {
		size_t n = piece;
		if (n > size - off)
			n = (size_t)(size - off);
		fill(buf, off, n, seed);
		ssize_t w = write(fd, buf, n);
		if (w != (ssize_t)n) {
			snprintf(why, whylen, "write at %llu: %zd (%s)", (unsigned long long)off, w, strerror(errno));
			close(fd);
			return -1;
		}
		off += n;
		piece = piece * 5 % CHUNK_MAX + 1;
	}
	int rc = fsync(fd);
	if (rc < 0)
		snprintf(why, whylen, "fsync: %s", strerror(errno));
	if (close(fd) < 0 && !rc) {
		snprintf(why, whylen, "close: %s", strerror(errno));
		rc = -1;
	}
	return rc;
}

static long count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	long n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Splits "what:a:b:c" in place; returns the number of fields. */
static int split(char *s, char *f[], int max)
{
	int n = 0;
	f[n++] = s;
	for (char *p = s; *p && n < max; p++)
		if (*p == ':') {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

static void step(char *arg)
{
	char name[600], why[300] = "";
	snprintf(name, sizeof(name), "%s", arg);
	char *f[5];
	int n = split(arg, f, 5);
	if (!strcmp(f[0], "say") && n == 2) {
		printf("say: %s\n", f[1]);
	} else if (!strcmp(f[0], "mount") && n == 3) {
		mkdir(f[2], 0755);
		CHECK(name, mount(f[1], f[2], "ext4", 0, NULL) == 0, "%s", strerror(errno));
	} else if (!strcmp(f[0], "umount") && n == 2) {
		CHECK(name, umount(f[1]) == 0, "%s", strerror(errno));
	} else if (!strcmp(f[0], "statfs") && n == 2) {
		struct statfs s;
		int r = statfs(f[1], &s);
		CHECK(name, r == 0 && s.f_type == EXT4_MAGIC && s.f_bfree > 0 && s.f_blocks >= s.f_bfree,
		      "r=%d type %#lx blocks %llu free %llu", r, (unsigned long)s.f_type,
		      (unsigned long long)s.f_blocks, (unsigned long long)s.f_bfree);
	} else if (!strcmp(f[0], "read") && n == 4) {
		CHECK(name, check_file(f[1], strtoull(f[2], 0, 0), strtoull(f[3], 0, 0), why, sizeof(why)) == 0,
		      "%s", why);
	} else if (!strcmp(f[0], "write") && n == 4) {
		CHECK(name, write_file(f[1], strtoull(f[2], 0, 0), strtoull(f[3], 0, 0), why, sizeof(why)) == 0,
		      "%s", why);
	} else if (!strcmp(f[0], "mkdir") && n == 2) {
		CHECK(name, mkdir(f[1], 0755) == 0, "%s", strerror(errno));
	} else if (!strcmp(f[0], "count") && n == 3) {
		long c = count_entries(f[1]);
		CHECK(name, c == strtol(f[2], 0, 0), "%ld entries", c);
	} else {
		FAIL(name, "unknown step");
	}
}

/* The differential run: the same write/read steps on a directory in /tmp. */
static void local_run(void)
{
	char dir[] = "/tmp/ext4disk.XXXXXX", path[64], why[300] = "";
	if (!mkdtemp(dir)) {
		FAIL("mkdtemp", "%s", strerror(errno));
		return;
	}
	static const uint64_t sizes[] = { 0, 1, 4095, 4096, 70001, 1 << 20 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(path, sizeof(path), "%s/f%u", dir, i);
		CHECK("write", write_file(path, i + 7, sizes[i], why, sizeof(why)) == 0, "%s: %s", path, why);
		CHECK("read back", check_file(path, i + 7, sizes[i], why, sizeof(why)) == 0, "%s: %s", path, why);
		CHECK("wrong seed differs", sizes[i] < 64 || check_file(path, i + 8, sizes[i], why, sizeof(why)) < 0,
		      "%s", path);
	}
	CHECK("count", count_entries(dir) == (long)(sizeof(sizes) / sizeof(sizes[0])), "%ld", count_entries(dir));
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(path, sizeof(path), "%s/f%u", dir, i);
		unlink(path);
	}
	CHECK("rmdir", rmdir(dir) == 0, "%s", strerror(errno));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		local_run();
	for (int i = 1; i < argc; i++)
		for (char *save = NULL, *st = strtok_r(argv[i], ",", &save); st; st = strtok_r(NULL, ",", &save))
			step(st);
	return t_finish();
}
