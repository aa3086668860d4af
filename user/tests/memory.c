/*
 * Address spaces: file mappings (shared writes reach the file, private ones don't), MAP_FIXED and
 * MAP_FIXED_NOREPLACE, partial munmap, mprotect errors, PROT_NONE, and TLB shootdown: a thread on
 * another hart that has just used a page must fault on it once the main thread unmaps it. Also the
 * CPU-time clocks, times() and getrusage().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/times.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "harness.h"

#define PG 4096

static void test_file_maps(void)
{
	char path[] = "/tmp/ember-mmap-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		FAIL("mkstemp", "errno=%d", errno);
		return;
	}
	char buf[2 * PG];
	memset(buf, 'a', sizeof(buf));
	write(fd, buf, sizeof(buf));
	char *sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *pr = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK("mmap_file", sh != MAP_FAILED && pr != MAP_FAILED && sh[0] == 'a' && pr[PG] == 'a', "errno=%d", errno);
	sh[10] = 'S';
	pr[20] = 'P';
	char c1 = 0, c2 = 0;
	pread(fd, &c1, 1, 10);
	pread(fd, &c2, 1, 20);
	CHECK("map_shared_writes_file", c1 == 'S', "file has %c", c1);
	CHECK("map_private_keeps_file", c2 == 'a' && pr[20] == 'P', "file has %c", c2);
	pwrite(fd, "W", 1, 30);
	CHECK("file_write_seen_in_shared_map", sh[30] == 'W', "map has %c", sh[30]);
	munmap(sh, 2 * PG);
	munmap(pr, 2 * PG);
	int ro = open(path, O_RDONLY);
	errno = 0;
	CHECK("map_shared_write_on_rdonly_eacces",
	      mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED && errno == EACCES, "errno=%d", errno);
	errno = 0;
	CHECK("mmap_bad_fd_ebadf", mmap(NULL, PG, PROT_READ, MAP_SHARED, 999, 0) == MAP_FAILED && errno == EBADF, "errno=%d", errno);
	errno = 0;
	CHECK("mmap_unaligned_offset_einval", mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 100) == MAP_FAILED && errno == EINVAL, "errno=%d", errno);
	close(ro);
	close(fd);
	unlink(path);
}

static void test_fixed(void)
{
	char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(a, 1, 4 * PG);
	char *b = mmap(a + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK("map_fixed_replaces", b == a + PG && b[0] == 0 && a[0] == 1 && a[2 * PG] == 1, "");
	errno = 0;
	void *c = mmap(a, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (c != MAP_FAILED && c != (void *)a) {     /* qemu-user treats the flag as a hint */
		SKIP("map_fixed_noreplace_eexist", "MAP_FIXED_NOREPLACE taken as a hint (qemu-user)");
		munmap(c, PG);
	} else {
		CHECK("map_fixed_noreplace_eexist", c == MAP_FAILED && errno == EEXIST, "errno=%d", errno);
	}
	CHECK("munmap_middle", munmap(a + PG, PG) == 0, "errno=%d", errno);
	CHECK("neighbours_survive", a[0] == 1 && a[3 * PG] == 1, "");
	errno = 0;
	CHECK("mprotect_hole_enomem", mprotect(a, 3 * PG, PROT_READ) == -1 && errno == ENOMEM, "errno=%d", errno);
	errno = 0;
	CHECK("mprotect_unaligned_einval", syscall(SYS_mprotect, a + 1, PG, PROT_READ) == -1 && errno == EINVAL, "errno=%d", errno);
	munmap(a, 4 * PG);
}

static sigjmp_buf wjb;
static volatile int wfaults;
static void on_segv(int s) { (void)s; wfaults++; siglongjmp(wjb, 1); }

static volatile char *shared_page;
static volatile int phase;

static void *toucher(void *arg)
{
	(void)arg;
	signal(SIGSEGV, on_segv);
	volatile int sum = 0;
	for (int i = 0; i < 1000; i++)          /* the page is in this hart's TLB now */
		sum += shared_page[i];
	phase = 1;
	while (phase != 2)
		;
	if (sigsetjmp(wjb, 1) == 0)
		sum += shared_page[0];              /* unmapped by now: must fault */
	phase = 3;
	return NULL;
}

static void test_shootdown(void)
{
	shared_page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset((char *)shared_page, 7, PG);
	pthread_t t;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t s;
	if (n > 1) {                                /* the toucher on another hart than main: */
		CPU_ZERO(&s);                       /* a new thread inherits its creator's mask */
		CPU_SET(1, &s);
		sched_setaffinity(0, sizeof(s), &s);
	}
	pthread_create(&t, NULL, toucher, NULL);
	if (n > 1) {
		CPU_ZERO(&s);
		CPU_SET(0, &s);
		sched_setaffinity(0, sizeof(s), &s);
	}
	while (phase != 1)
		;
	munmap((void *)shared_page, PG);
	phase = 2;
	while (phase != 3)
		;
	pthread_join(t, NULL);
	CHECK("tlb_shootdown_on_munmap", wfaults == 1, "faults=%d", wfaults);
	signal(SIGSEGV, SIG_DFL);
}

static void test_cpu_clocks(void)
{
	struct timespec a, b, w0, w1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	/* spin until 50 ms of CPU time are counted (a loaded host gives us less than the wall time),
	 * giving up after 10 s of wall time; the CPU time cannot exceed the wall time spent */
	volatile unsigned long x = 0;
	long used, wall;
	do {
		for (int i = 0; i < 100000; i++)
			x += i;
		clock_gettime(CLOCK_MONOTONIC, &w1);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		used = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
		wall = (w1.tv_sec - w0.tv_sec) * 1000000000L + (w1.tv_nsec - w0.tv_nsec);
	} while (used < 50000000L && wall < 10000000000L);
	CHECK("process_cputime_counts_work", used >= 50000000L && used <= wall + 20000000L,
	      "used %ld ns in %ld ns of spinning", used, wall);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	struct timespec d = { 0, 200000000L };
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	used = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
	CHECK("thread_cputime_not_sleep", used >= 0 && used < 100000000L, "used %ld ns while sleeping 200 ms", used);
	struct rusage ru;
	CHECK("getrusage_self", getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec > 20000,
	      "utime %ld.%06ld", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	struct tms tm;
	clock_t t0 = times(&tm);
	CHECK("times", t0 != (clock_t)-1 && tm.tms_utime > 0, "utime=%ld", (long)tm.tms_utime);
	struct timespec now, abs;
	clock_gettime(CLOCK_MONOTONIC, &now);
	abs = now;
	abs.tv_nsec += 50000000L;
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK("clock_nanosleep_abstime", b.tv_sec > abs.tv_sec || (b.tv_sec == abs.tv_sec && b.tv_nsec >= abs.tv_nsec), "woke early");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_file_maps();
	test_fixed();
	test_shootdown();
	test_cpu_clocks();
	return t_finish();
}
