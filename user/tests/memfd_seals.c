/*
 * memfd file seals: memfd_create(MFD_ALLOW_SEALING), fcntl F_ADD_SEALS/F_GET_SEALS and what each
 * seal forbids: F_SEAL_SHRINK and F_SEAL_GROW (ftruncate, writes past the end, fallocate),
 * F_SEAL_WRITE (write, writable shared mmap, mprotect to writable; EBUSY while a writable shared
 * mapping exists, counted across fork and munmap), F_SEAL_FUTURE_WRITE (existing mappings keep
 * writing), F_SEAL_SEAL, a memfd without MFD_ALLOW_SEALING (sealed with F_SEAL_SEAL), and the
 * errors (EINVAL for unknown seals and for files that are not memfds, EPERM).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define PAGE 4096
#define BAD_SEAL 0x100

static int mfd(unsigned flags, size_t size)
{
	int fd = memfd_create("seals", flags);
	if (fd >= 0 && size)
		ftruncate(fd, size);
	return fd;
}

static void test_basics(void)
{
	int fd = mfd(MFD_ALLOW_SEALING, 0);
	CHECK("allow_sealing_starts_empty", fd >= 0 && fcntl(fd, F_GET_SEALS) == 0, "fd %d errno %d", fd, errno);
	errno = 0;
	CHECK("unknown_seal_einval", fcntl(fd, F_ADD_SEALS, BAD_SEAL) == -1 && errno == EINVAL, "errno %d", errno);
	CHECK("add_none_ok", fcntl(fd, F_ADD_SEALS, 0) == 0 && fcntl(fd, F_GET_SEALS) == 0, "errno %d", errno);
	close(fd);
	fd = mfd(0, 0);
	CHECK("no_allow_sealing_is_sealed", fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL, "seals %d", fcntl(fd, F_GET_SEALS));
	errno = 0;
	CHECK("no_allow_sealing_add_eperm", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == -1 && errno == EPERM,
	      "errno %d", errno);
	CHECK("unsealed_memfd_writes", write(fd, "abc", 3) == 3 && ftruncate(fd, 0) == 0, "errno %d", errno);
	close(fd);
	int p[2];
	pipe(p);
	errno = 0;
	CHECK("pipe_get_seals_einval", fcntl(p[0], F_GET_SEALS) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	CHECK("pipe_add_seals_einval", fcntl(p[1], F_ADD_SEALS, F_SEAL_GROW) == -1 && errno == EINVAL, "errno %d", errno);
	close(p[0]);
	close(p[1]);
}

static void test_shrink_grow(void)
{
	int fd = mfd(MFD_ALLOW_SEALING, 2 * PAGE);
	CHECK("add_shrink", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0 && fcntl(fd, F_GET_SEALS) == F_SEAL_SHRINK,
	      "errno %d", errno);
	errno = 0;
	CHECK("shrink_sealed_truncate_down_eperm", ftruncate(fd, PAGE) == -1 && errno == EPERM, "errno %d", errno);
	CHECK("shrink_sealed_grow_ok", ftruncate(fd, 4 * PAGE) == 0, "errno %d", errno);
	CHECK("add_grow", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) == 0 &&
	      fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW), "errno %d", errno);
	errno = 0;
	CHECK("grow_sealed_truncate_up_eperm", ftruncate(fd, 8 * PAGE) == -1 && errno == EPERM, "errno %d", errno);
	CHECK("grow_sealed_same_size_ok", ftruncate(fd, 4 * PAGE) == 0, "errno %d", errno);
	CHECK("grow_sealed_write_inside_ok", pwrite(fd, "data", 4, PAGE) == 4, "errno %d", errno);
	errno = 0;
	CHECK("grow_sealed_write_past_end_eperm", pwrite(fd, "data", 4, 4 * PAGE) == -1 && errno == EPERM,
	      "errno %d", errno);
	errno = 0;
	CHECK("grow_sealed_fallocate_eperm", fallocate(fd, 0, 0, 8 * PAGE) == -1 && errno == EPERM, "errno %d", errno);
	struct stat st;
	fstat(fd, &st);
	CHECK("size_unchanged", st.st_size == 4 * PAGE, "size %ld", (long)st.st_size);
	close(fd);
}

static void test_write_seal(void)
{
	int fd = mfd(MFD_ALLOW_SEALING, PAGE);
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	m[0] = 'A';
	errno = 0;
	CHECK("write_seal_busy_with_shared_writable_map", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EBUSY,
	      "errno %d", errno);
	/* a child inherits the mapping: still busy after the parent unmaps, free once it is gone */
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	munmap(m, PAGE);
	errno = 0;
	CHECK("write_seal_busy_with_childs_map", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EBUSY,
	      "errno %d", errno);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	CHECK("write_seal_after_unmap", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0 &&
	      fcntl(fd, F_GET_SEALS) == F_SEAL_WRITE, "errno %d", errno);
	errno = 0;
	CHECK("write_sealed_write_eperm", write(fd, "x", 1) == -1 && errno == EPERM, "errno %d", errno);
	errno = 0;
	CHECK("write_sealed_pwrite_eperm", pwrite(fd, "x", 1, 0) == -1 && errno == EPERM, "errno %d", errno);
	errno = 0;
	CHECK("write_sealed_shared_writable_mmap_eperm",
	      mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EPERM,
	      "errno %d", errno);
	char *r = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK("write_sealed_shared_readonly_mmap", r != MAP_FAILED && r[0] == 'A', "errno %d", errno);
	errno = 0;
	CHECK("write_sealed_mprotect_writable_eacces",
	      r != MAP_FAILED && mprotect(r, PAGE, PROT_READ | PROT_WRITE) == -1 && errno == EACCES, "errno %d", errno);
	char *pv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (pv != MAP_FAILED)
		pv[0] = 'P';
	char b = 0;
	pread(fd, &b, 1, 0);
	CHECK("write_sealed_private_copy", pv != MAP_FAILED && pv[0] == 'P' && b == 'A', "b %c", b);
	errno = 0;
	CHECK("write_sealed_punch_hole_eperm",
	      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE) == -1 && errno == EPERM, "errno %d", errno);
	CHECK("write_sealed_truncate_ok", ftruncate(fd, 2 * PAGE) == 0, "errno %d", errno);
	close(fd);
}

static void test_future_write(void)
{
	int fd = mfd(MFD_ALLOW_SEALING, PAGE);
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("future_write_not_busy", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0 &&
	      fcntl(fd, F_GET_SEALS) == F_SEAL_FUTURE_WRITE, "errno %d", errno);
	m[1] = 'F';
	char b = 0;
	pread(fd, &b, 1, 1);
	CHECK("future_write_old_mapping_writes", b == 'F', "b %c", b);
	errno = 0;
	CHECK("future_write_write_eperm", write(fd, "x", 1) == -1 && errno == EPERM, "errno %d", errno);
	errno = 0;
	CHECK("future_write_new_writable_map_eperm",
	      mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EPERM,
	      "errno %d", errno);
	munmap(m, PAGE);
	close(fd);
}

static void test_seal_seal(void)
{
	int fd = mfd(MFD_ALLOW_SEALING, PAGE);
	CHECK("add_seal_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_GROW) == 0 &&
	      fcntl(fd, F_GET_SEALS) == (F_SEAL_SEAL | F_SEAL_GROW), "errno %d", errno);
	errno = 0;
	CHECK("sealed_seals_eperm", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == -1 && errno == EPERM, "errno %d", errno);
	int d = dup(fd);
	CHECK("seals_shared_by_dup", fcntl(d, F_GET_SEALS) == (F_SEAL_SEAL | F_SEAL_GROW), "seals %d",
	      fcntl(d, F_GET_SEALS));
	pid_t c = fork();
	if (c == 0)
		_exit(fcntl(fd, F_GET_SEALS) == (F_SEAL_SEAL | F_SEAL_GROW) ? 0 : 1);
	int st;
	waitpid(c, &st, 0);
	CHECK("seals_seen_by_child", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	close(d);
	close(fd);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_basics();
	test_shrink_grow();
	test_write_seal();
	test_future_write();
	test_seal_seal();
	return t_finish();
}
