/*
 * Robustness: children make thousands of system calls with hostile arguments (NULL, unmapped,
 * kernel-half and misaligned pointers, huge sizes, negative numbers) and the kernel must answer
 * them all with errors or results — never panic, never hang the machine. A child that blocks is
 * killed by the parent's watchdog; a child killed by a signal is fine. Inside Ember only: running
 * random system calls against the host's kernel under qemu-user is not this test's business.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define CHILDREN 24
#define CALLS_PER_CHILD 400
#define WATCHDOG_MS 3000

/* calls that cannot take the whole system with them (no kill, clone, exit, reboot-like calls) */
static const int calls[] = {
	17, 23, 24, 25, 29, 34, 35, 46, 48, 49, 50, 53, 56, 57, 59, 61, 62, 63, 64, 65, 66, 67, 68, 78, 79,
	80, 82, 96, 98, 99, 100, 101, 113, 114, 115, 122, 123, 124, 132, 134, 135, 136, 153, 160, 165,
	166, 167, 168, 169, 172, 173, 178, 179, 214, 215, 222, 226, 233, 260, 261, 276, 278, 291, 293,
	439, 1000, -1,
	/* sockets (fds 3-8 are sockets in each child), interval timers, the flow counters */
	198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 242, 243, 269, 102, 103, 500,
};

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static char scratch[4096];

static unsigned long arg(void)
{
	static const unsigned long pool[] = {
		0, 1, 2, 3, 4, 8, 16, 64, 4096, 65536, (unsigned long)-1, (unsigned long)-100, 0x7fffffff,
		0x80000000UL, 0x10, 0x1000, 0xffffffc080200000UL, 0x3fffffffffUL, 0x4000000000UL,
		0xffffffffffff0000UL, 1UL << 40,
	};
	switch (next() % 5) {
	case 0: return pool[next() % (sizeof(pool) / sizeof(pool[0]))];
	case 1: return (unsigned long)scratch + (next() % 4000);        /* valid, maybe misaligned */
	case 2: return next();
	case 3: return next() & 0xfff;
	default: return (unsigned long)-(long)(next() % 4096);
	}
}

static void child(uint64_t seed)
{
	rng = seed;
	for (int i = 0; i < CALLS_PER_CHILD; i++) {
		int nr = calls[next() % (sizeof(calls) / sizeof(calls[0]))];
		syscall(nr, arg(), arg(), arg(), arg(), arg(), arg());
	}
	_exit(0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	/* a few hostile calls with known answers, on both kernels */
	errno = 0;
	CHECK("kernel_pointer_efault", syscall(SYS_write, 1, 0xffffffc080200000UL, 16) == -1 && errno == EFAULT, "errno=%d", errno);
	errno = 0;
	CHECK("bad_fd_ebadf", syscall(SYS_read, -1, scratch, 1) == -1 && errno == EBADF, "errno=%d", errno);
	errno = 0;
	CHECK("bad_clock_einval", syscall(SYS_clock_gettime, 1000, scratch) == -1 && errno == EINVAL, "errno=%d", errno);
	errno = 0;
	CHECK("huge_mmap_enomem", syscall(SYS_mmap, 0, -4096UL, 3, 0x22, -1, 0) == -1 && errno == ENOMEM, "errno=%d", errno);
	errno = 0;
	CHECK("unmapped_user_path_efault", syscall(SYS_openat, AT_FDCWD, 0x1000000000UL, 0) == -1 && errno == EFAULT, "errno=%d", errno);
	struct utsname u;
	uname(&u);
	if (!strstr(u.release, "ember")) {
		SKIP("syscall_fuzz", "random system calls are aimed at Ember's kernel, not the host's");
		return t_finish();
	}
	int exited = 0, signalled = 0, watchdog = 0;
	for (int c = 0; c < CHILDREN; c++) {
		pid_t p = fork();
		if (p == 0) {
			int null = open("/dev/null", O_RDWR);   /* no console reads waiting for a person, */
			dup2(null, 0);                  /* and no garbage written to the console */
			dup2(null, 1);
			dup2(null, 2);
			/* non-blocking sockets of every kind for the socket calls to chew on */
			int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_STREAM, SOCK_DGRAM, SOCK_STREAM, SOCK_DGRAM };
			for (int k = 0; k < 6; k++)
				dup2(socket(AF_INET, types[k] | SOCK_NONBLOCK, 0), 3 + k);
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
			bind(3, (struct sockaddr *)&a, sizeof(a));
			listen(3, 4);
			bind(4, (struct sockaddr *)&a, sizeof(a));
			child(0x9e3779b97f4a7c15ULL * (c + 1));
		}
		int st = 0, waited = 0;
		pid_t r;
		while ((r = waitpid(p, &st, WNOHANG)) == 0 && waited < WATCHDOG_MS) {
			struct timespec ts = { 0, 10 * 1000000L };
			nanosleep(&ts, NULL);
			waited += 10;
		}
		if (r == 0) {
			kill(p, SIGKILL);
			waitpid(p, &st, 0);
			watchdog++;
		} else if (WIFSIGNALED(st)) {
			signalled++;
		} else {
			exited++;
		}
	}
	printf("fuzz: %d children exited, %d killed by signals, %d stopped by the watchdog\n", exited, signalled, watchdog);
	CHECK("syscall_fuzz_kernel_survives", exited + signalled + watchdog == CHILDREN, "");
	CHECK("kernel_still_answers", getpid() > 0 && syscall(SYS_getppid) >= 0, "");
	return t_finish();
}
