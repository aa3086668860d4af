/*
 * Regression tests for what the system-call fuzzer (user/fuzz/sysfuzz.c, issue 17) found: each
 * check is the smallest call sequence that showed the bug, with the answer Linux gives. Run under
 * qemu-riscv64-static (Linux answers) and inside Ember, as every user test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "harness.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* renameat2(RENAME_EXCHANGE) of a name with itself (or with another link of the same file) is a
 * no-op returning 0: Ember's tmpfs unlinked the one entry twice (kfree double free, panic). */
static void rename_exchange_self(void)
{
	int fd = open("fz_a", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK("exchange_setup", fd >= 0 && write(fd, "x", 1) == 1, "errno=%d", errno);
	close(fd);
	long r = syscall(SYS_renameat2, AT_FDCWD, "fz_a", AT_FDCWD, "fz_a", RENAME_EXCHANGE);
	CHECK("exchange_same_name", r == 0, "r=%ld errno=%d", r, errno);
	CHECK("exchange_same_name_link", link("fz_a", "fz_b") == 0, "errno=%d", errno);
	r = syscall(SYS_renameat2, AT_FDCWD, "fz_a", AT_FDCWD, "fz_b", RENAME_EXCHANGE);
	struct stat a, b;
	CHECK("exchange_two_links", r == 0 && stat("fz_a", &a) == 0 && stat("fz_b", &b) == 0 && a.st_ino == b.st_ino &&
	      a.st_nlink == 2, "r=%ld errno=%d nlink=%ld", r, errno, (long)a.st_nlink);
	mkdir("fz_d", 0755);
	r = syscall(SYS_renameat2, AT_FDCWD, "fz_d", AT_FDCWD, "fz_d", RENAME_EXCHANGE);
	CHECK("exchange_same_dir", r == 0 && stat("fz_d", &a) == 0 && S_ISDIR(a.st_mode), "r=%ld errno=%d", r, errno);
	r = syscall(SYS_renameat2, AT_FDCWD, "fz_d", AT_FDCWD, "fz_d", 0);
	CHECK("rename_same_dir", r == 0, "r=%ld errno=%d", r, errno);
	unlink("fz_a");
	unlink("fz_b");
	rmdir("fz_d");
}

/* madvise checks its arguments as Linux does: Ember answered 0 to anything page-aligned, e.g.
 * madvise(0xfffffffffffff000, ~0, 0x4914d7f7). */
static void madvise_args(void)
{
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("madvise_setup", p != MAP_FAILED && munmap(p + 2 * 4096, 4096) == 0, "errno=%d", errno);
	errno = 0;
	CHECK("madvise_ok", madvise(p, 2 * 4096, MADV_NORMAL) == 0, "errno=%d", errno);
	struct utsname u;
	uname(&u);
	bool in_ember = strstr(u.release, "ember") != NULL;
	errno = 0;
	int r = madvise(p, 4096, 0x4914d7f7);
	if (!in_ember && r == 0)      /* qemu-user answers madvise itself (0, a hint) without the kernel */
		SKIP("madvise_bad_advice", "qemu-user's madvise is a no-op returning 0");
	else
		CHECK("madvise_bad_advice", r == -1 && errno == EINVAL, "errno=%d", errno);
	errno = 0;
	CHECK("madvise_wrapping_len", madvise((void *)0xfffffffffffff000UL, ~0UL, MADV_NORMAL) == -1 && errno == EINVAL,
	      "errno=%d", errno);
	errno = 0;
	CHECK("madvise_len_overflow", madvise(p, ~0UL - 100, MADV_NORMAL) == -1 && errno == EINVAL, "errno=%d", errno);
	errno = 0;
	r = madvise(p, 3 * 4096, MADV_WILLNEED);
	if (!in_ember && r == 0)
		SKIP("madvise_unmapped_enomem", "qemu-user's madvise is a no-op returning 0");
	else
		CHECK("madvise_unmapped_enomem", r == -1 && errno == ENOMEM, "errno=%d", errno);
	errno = 0;
	CHECK("madvise_empty", madvise(p + 2 * 4096, 0, MADV_NORMAL) == 0, "errno=%d", errno);
	errno = 0;
	CHECK("madvise_misaligned", madvise(p + 1, 4096, MADV_NORMAL) == -1 && errno == EINVAL, "errno=%d", errno);
	munmap(p, 2 * 4096);
}

/* fuzz-corpus/003: shmget(IPC_PRIVATE, 221 MB, 0600), without IPC_CREAT (IPC_PRIVATE creates
 * anyway), kept a worker in the kernel > 10 s in a 512 MiB guest while ipc/shm allocated every
 * page up front. Segments are lazy now: it answers at once (SHM_FAST_S) with a new segment,
 * and no page is touched here. An alarm bounds the call if it ever hangs again. */
#define SHM_FUZZ_BYTES 0xd38af5dUL
#define SHM_FAST_S 2.0
#define SHM_ALARM_S 20

static void on_alarm(int sig) { (void)sig; }

static void shmget_private_big(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(SHM_ALARM_S);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int id = shmget(IPC_PRIVATE, SHM_FUZZ_BYTES, 0600);
	int err = errno;
	clock_gettime(CLOCK_MONOTONIC, &b);
	alarm(0);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	CHECK("shmget_private_221mb", id >= 0, "errno=%d", err);
	CHECK("shmget_private_221mb_fast", s < SHM_FAST_S, "%.2f s", s);
	if (id >= 0)
		CHECK("shmget_private_221mb_rmid", shmctl(id, IPC_RMID, NULL) == 0, "errno=%d", errno);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (chdir("/tmp") < 0)   /* inside Ember the root is the initramfs; a tmpfs either way */
		perror("chdir /tmp");
	rename_exchange_self();
	madvise_args();
	shmget_private_big();
	return t_finish();
}
