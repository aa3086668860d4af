/*
 * Memory is charged when touched, as on Linux: a System V segment as large as half of RAM costs
 * (almost) nothing until its pages are touched (free memory from sysinfo stays put at shmget and
 * at shmat), its pages read as zeros and are shared with a forked child; a segment larger than RAM
 * and swap is ENOMEM (the overcommit heuristic). /proc/<pid>/oom_score_adj reads and writes
 * (inherited at fork, range-checked), /proc/<pid>/oom_score follows it, and -1000 gives score 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define TOUCH_PAGES 256
#define PAGE 4096UL

static long free_bytes(void)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0)
		return -1;
	return (long)(si.freeram * si.mem_unit);
}

static long read_long(const char *path, int *err)
{
	char b[64] = { 0 };
	int fd = open(path, O_RDONLY);
	*err = 0;
	if (fd < 0) {
		*err = errno;
		return 0;
	}
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0) {
		*err = n < 0 ? errno : EIO;
		return 0;
	}
	return strtol(b, NULL, 10);
}

static unsigned long read_ulong(const char *path, int *err)
{
	char b[64] = { 0 };
	int fd = open(path, O_RDONLY);
	*err = fd < 0 ? errno : 0;
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		*err = EIO;
	return strtoul(b, NULL, 10);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	return n < 0 ? -e : (int)n;
}

static bool overcommit_always(void)
{
	int err;
	long v = read_long("/proc/sys/vm/overcommit_memory", &err);
	return !err && v == 1;
}

static void test_lazy_segment(void)
{
	struct sysinfo si;
	sysinfo(&si);
	size_t size = (size_t)(si.totalram * si.mem_unit / 2) & ~(PAGE - 1);
	long before = free_bytes();
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
	CHECK("shmget_half_ram", id >= 0, "size %zu errno %d", size, errno);
	if (id < 0)
		return;
	long after_get = free_bytes();
	CHECK("shmget_uses_no_memory", before - after_get < (long)(size / 8),
	      "free %ld -> %ld for a %zu-byte segment", before, after_get, size);
	char *p = shmat(id, NULL, 0);
	CHECK("shmat", p != (void *)-1, "errno %d", errno);
	shmctl(id, IPC_RMID, NULL);
	if (p == (void *)-1)
		return;
	long after_at = free_bytes();
	CHECK("shmat_uses_no_memory", before - after_at < (long)(size / 8),
	      "free %ld -> %ld after attaching %zu bytes", before, after_at, size);
	bool zero = true;
	for (size_t i = 0; i < TOUCH_PAGES; i++) {
		char *q = p + i * (size / TOUCH_PAGES & ~(PAGE - 1));
		if (*q != 0)
			zero = false;
		*q = (char)(i + 1);
	}
	CHECK("touched_pages_zero", zero, "a fresh page was not zero");
	pid_t c = fork();
	if (c == 0) {
		int ok = 1;
		for (size_t i = 0; i < TOUCH_PAGES; i++)
			if (p[i * (size / TOUCH_PAGES & ~(PAGE - 1))] != (char)(i + 1))
				ok = 0;
		p[PAGE / 2] = 0x5a;          /* inside page 0: seen by the parent */
		_exit(ok ? 0 : 1);
	}
	int st = -1;
	waitpid(c, &st, 0);
	CHECK("child_sees_pages", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	CHECK("parent_sees_child_write", p[PAGE / 2] == 0x5a, "got %d", p[PAGE / 2]);
	struct shm_info info;
	int r = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);
	CHECK("shm_info_rss_small", r >= 0 && info.shm_rss < info.shm_tot,
	      "r %d rss %lu tot %lu", r, info.shm_rss, info.shm_tot);
	CHECK("shmdt", shmdt(p) == 0, "errno %d", errno);
}

/* MAP_SHARED|MAP_ANONYMOUS is shmem on Linux: the same laziness, shared with children */
static void test_shared_anon(void)
{
	struct sysinfo si;
	sysinfo(&si);
	size_t size = (size_t)(si.totalram * si.mem_unit / 2) & ~(PAGE - 1);
	long before = free_bytes();
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap_shared_anon_half_ram", p != MAP_FAILED, "errno %d", errno);
	if (p == MAP_FAILED)
		return;
	long after = free_bytes();
	CHECK("mmap_shared_anon_no_memory", before - after < (long)(size / 8), "free %ld -> %ld for %zu bytes",
	      before, after, size);
	pid_t c = fork();
	if (c == 0) {
		p[size - 1] = 7;                 /* untouched before the fork: still shared */
		p[0] = 9;
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("shared_anon_child_writes_seen", p[size - 1] == 7 && p[0] == 9, "got %d %d", p[size - 1], p[0]);
	/* Linux: EEXIST; qemu-user (older mmap emulation) may take it as a hint and map elsewhere */
	char *nr = mmap(p, PAGE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK("shared_anon_fixed_noreplace", nr == MAP_FAILED ? errno == EEXIST : nr != p, "errno %d", errno);
	if (nr != MAP_FAILED && nr != p)
		munmap(nr, PAGE);
	char *q = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK("shared_anon_fixed_replaces", q == p + PAGE && q[0] == 0 && p[0] == 9, "q %p", (void *)q);
	CHECK("shmdt_refuses_shared_anon", shmdt(p) < 0 && errno == EINVAL, "errno %d", errno);
	CHECK("munmap_shared_anon", munmap(p, size) == 0, "errno %d", errno);
}

static void test_too_big(void)
{
	struct sysinfo si;
	sysinfo(&si);
	if (overcommit_always()) {
		SKIP("shmget_more_than_ram", "vm.overcommit_memory=1 on this host");
		return;
	}
	size_t size = (size_t)(si.totalram + si.totalswap) * si.mem_unit * 2;
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
	CHECK("shmget_more_than_ram", id < 0 && errno == ENOMEM, "id %d errno %d", id, errno);
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	struct shminfo in;
	CHECK("ipc_info", shmctl(0, IPC_INFO, (struct shmid_ds *)&in) >= 0 && in.shmmni > 0 && in.shmmax >= size,
	      "shmmni %lu shmmax %lu", in.shmmni, in.shmmax);
	/* the sysctls say the same as IPC_INFO (Linux's defaults unless an administrator changed them) */
	int e1, e2, e3;
	unsigned long shmmax = read_ulong("/proc/sys/kernel/shmmax", &e1);
	unsigned long shmall = read_ulong("/proc/sys/kernel/shmall", &e2);
	unsigned long shmmni = read_ulong("/proc/sys/kernel/shmmni", &e3);
	CHECK("sysctl_shm", !e1 && !e2 && !e3 && shmmax == in.shmmax && shmall == in.shmall &&
	      shmmni == in.shmmni, "shmmax %lu/%lu shmall %lu/%lu shmmni %lu/%lu", shmmax, in.shmmax,
	      shmall, in.shmall, shmmni, in.shmmni);
}

static void test_oom_adj(void)
{
	int err;
	long adj = read_long("/proc/self/oom_score_adj", &err);
	CHECK("read_adj", !err && adj >= -1000 && adj <= 1000, "err %d adj %ld", err, adj);
	long score = read_long("/proc/self/oom_score", &err);
	CHECK("read_score", !err && score >= 0 && score <= 2000, "err %d score %ld", err, score);
	pid_t c = fork();
	if (c == 0) {
		/* raising needs no privilege on Linux */
		int fails = 0;
		if (write_str("/proc/self/oom_score_adj", "500\n") < 0)
			fails |= 1;
		if (read_long("/proc/self/oom_score_adj", &err) != 500)
			fails |= 2;
		if (read_long("/proc/self/oom_score", &err) < 990)     /* (1000 + 500 + rss) * 2 / 3 */
			fails |= 4;
		if (write_str("/proc/self/oom_score_adj", "1001") != -EINVAL)
			fails |= 8;
		if (write_str("/proc/self/oom_score_adj", "abc") != -EINVAL)
			fails |= 16;
		pid_t g = fork();                   /* inherited */
		if (g == 0)
			_exit(read_long("/proc/self/oom_score_adj", &err) == 500 ? 0 : 1);
		int st;
		waitpid(g, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fails |= 32;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", getpid());
		if (read_long(path, &err) != 500)
			fails |= 64;
		_exit(fails);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("adj_write_read_inherit", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	CHECK("parent_adj_unchanged", read_long("/proc/self/oom_score_adj", &err) == adj, "changed");
	c = fork();
	if (c == 0) {
		int r = write_str("/proc/self/oom_score_adj", "-1000");
		if (r == -EACCES)
			_exit(2);                      /* Linux: lowering it needs CAP_SYS_RESOURCE (a
						          container's root may lack it); a skip fails inside Ember */
		if (r < 0)
			_exit(3);
		_exit(read_long("/proc/self/oom_score", &err) == 0 && read_long("/proc/self/oom_score_adj", &err) == -1000
		      ? 0 : 1);
	}
	waitpid(c, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
		SKIP("adj_min_score_zero", "EACCES: no CAP_SYS_RESOURCE here");
	else
		CHECK("adj_min_score_zero", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_lazy_segment();
	test_shared_anon();
	test_too_big();
	test_oom_adj();
	return t_finish();
}
