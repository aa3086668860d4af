/*
 * Linux's memory devices as programs use them: /dev/urandom and /dev/random (random bytes, any
 * size, never blocking), /dev/full (ENOSPC on write, zeros on read), /dev/zero, /dev/null; their
 * device numbers (1,3 1,5 1,7 1,8 1,9), lseek answering 0, and EFAULT for a bad buffer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "harness.h"

#define BAD_PTR ((void *)0x10)
#define BIG (1 << 20)

static char big[BIG];

static void test_random(const char *path)
{
	char name[64];
	int fd = open(path, O_RDONLY);
	snprintf(name, sizeof(name), "%s_open", path);
	CHECK(name, fd >= 0, "errno %d", errno);
	if (fd < 0)
		return;
	unsigned char a[64], b[64], zero[64] = { 0 };
	snprintf(name, sizeof(name), "%s_differ", path);
	CHECK(name, read(fd, a, sizeof(a)) == sizeof(a) && read(fd, b, sizeof(b)) == sizeof(b) &&
	      memcmp(a, b, sizeof(a)) && memcmp(a, zero, sizeof(a)), "two reads");
	/* a big read is filled completely, and its bytes look random: each value about 1/256 */
	long n = read(fd, big, BIG);
	unsigned long count[256] = { 0 };
	for (long i = 0; i < n; i++)
		count[(unsigned char)big[i]]++;
	unsigned long lo = ~0UL, hi = 0;
	for (int i = 0; i < 256; i++) {
		lo = count[i] < lo ? count[i] : lo;
		hi = count[i] > hi ? count[i] : hi;
	}
	snprintf(name, sizeof(name), "%s_big", path);
	CHECK(name, n == BIG && lo > BIG / 256 * 8 / 10 && hi < BIG / 256 * 12 / 10, "n %ld lo %lu hi %lu", n, lo, hi);
	errno = 0;
	snprintf(name, sizeof(name), "%s_efault", path);
	CHECK(name, read(fd, BAD_PTR, 16) == -1 && errno == EFAULT, "errno %d", errno);
	close(fd);
	fd = open(path, O_WRONLY);
	snprintf(name, sizeof(name), "%s_write", path);
	CHECK(name, fd >= 0 && write(fd, "entropy", 7) == 7, "errno %d", errno);
	close(fd);
}

static void test_rdev(const char *path, unsigned maj, unsigned min)
{
	struct stat st;
	char name[64];
	snprintf(name, sizeof(name), "%s_rdev", path);
	CHECK(name, stat(path, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == maj &&
	      minor(st.st_rdev) == min && (st.st_mode & 0666) == 0666, "mode %o rdev %u,%u",
	      st.st_mode, major(st.st_rdev), minor(st.st_rdev));
	int fd = open(path, O_RDONLY);
	snprintf(name, sizeof(name), "%s_lseek", path);
	CHECK(name, fd >= 0 && lseek(fd, 1000, SEEK_SET) == 0 && lseek(fd, 5, SEEK_CUR) == 0, "errno %d", errno);
	close(fd);
}

int main(void)
{
	test_random("/dev/urandom");
	test_random("/dev/random");

	int fd = open("/dev/full", O_RDWR);
	errno = 0;
	CHECK("full_write_enospc", fd >= 0 && write(fd, "x", 1) == -1 && errno == ENOSPC, "errno %d", errno);
	memset(big, 0x5a, 4096);
	CHECK("full_read_zeros", read(fd, big, 4096) == 4096 && big[0] == 0 && big[4095] == 0 &&
	      !memcmp(big, big + 1, 4095), "read");
	errno = 0;
	CHECK("full_read_efault", read(fd, BAD_PTR, 8) == -1 && errno == EFAULT, "errno %d", errno);
	close(fd);

	fd = open("/dev/zero", O_RDONLY);
	memset(big, 1, 4096);
	CHECK("zero_read", fd >= 0 && read(fd, big, 4096) == 4096 && big[0] == 0 && !memcmp(big, big + 1, 4095), "read");
	close(fd);
	fd = open("/dev/null", O_RDWR);
	CHECK("null_rw", fd >= 0 && write(fd, big, 4096) == 4096 && read(fd, big, 16) == 0, "errno %d", errno);
	close(fd);

	test_rdev("/dev/null", 1, 3);
	test_rdev("/dev/zero", 1, 5);
	test_rdev("/dev/full", 1, 7);
	test_rdev("/dev/random", 1, 8);
	test_rdev("/dev/urandom", 1, 9);
	return t_finish();
}
