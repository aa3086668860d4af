/*
 * Truncation of a file that is still mapped (issue 12, mm/rmap.c), with Linux as the reference:
 * the pages past the new size leave every mapping (two shared mappings in this process, one a
 * forked child inherited and one it made itself, a private mapping: pages it never wrote and the
 * copies it made at a write alike, Linux's even_cows), so the next access there is SIGBUS with
 * si_code BUS_ADRERR and si_addr the address touched. The page holding the new EOF stays mapped
 * and shared, its bytes past EOF read 0; growing the file again shows zeros, never the old data.
 * A private mapping faulting a page wholly past EOF is SIGBUS too. O_TRUNC and truncate(2) do
 * what ftruncate does. Then a stress: threads read through a shared mapping while another thread
 * shrinks and regrows the file, stamping every page with a new generation each round; at the
 * end every thread must see the last generation (a thread left with an old page sees an old one).
 *
 * usage: mmap_truncate [DIR [leave]]   (default /tmp). tests/system/test_mmap_truncate_ext4.py
 * runs it on an ext4 root with "leave": it then leaves DIR/mmap_truncated.bin, written through a
 * shared mapping that stays mapped while the file shrinks to KEPT bytes and takes a store past
 * the new EOF, then sync(), for the host's debugfs to read (KEPT bytes of pattern(i) with
 * "kept" at 100) and e2fsck to check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "mmaputil.h"

#define PG 4096
#define SIZE0 (4 * PG + 100)           /* pages 0..4, the fifth partly */
#define SHORT (PG + 50)                /* after the shrink: pages 0..1, the second partly */
#define MAPLEN (6 * PG)
#define STRESS_PAGES 8
#define STRESS_READERS 3
#define STRESS_ROUNDS 40           /* at least, and for STRESS_SECONDS at least */
#define STRESS_SECONDS 2.0
#define STRESS_MAX_ROUNDS 250      /* generations stay below 256 */

static __thread sigjmp_buf jb;
static __thread volatile int got_sig, got_code;
static __thread void *volatile got_addr;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(jb, 1);
}

/* The signal (0: none) an access of p (a load, or a store when store) raises. */
static int touch(volatile unsigned char *p, int store)
{
	got_sig = got_code = 0;
	got_addr = NULL;
	if (sigsetjmp(jb, 1) == 0) {
		if (store)
			*p = 0x5a;
		else
			(void)*p;
	}
	return got_sig;
}

/* SIGBUS, BUS_ADRERR, at p exactly */
static int bus_at(volatile unsigned char *p, int store)
{
	return touch(p, store) == SIGBUS && got_code == BUS_ADRERR && got_addr == (void *)p;
}

static int all_zero(const volatile unsigned char *p, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int is_pattern(const volatile unsigned char *p, long from, long to)
{
	for (long i = from; i < to; i++)
		if (p[i] != pattern(i))
			return 0;
	return 1;
}

static void pread_is(int fd, long off, const char *want, size_t n, const char *name)
{
	char b[64];
	CHECK(name, n <= sizeof(b) && pread(fd, b, n, off) == (ssize_t)n && memcmp(b, want, n) == 0, "");
}

/* The child: maps the file itself too, waits for the parent's shrink, checks what it sees. */
static int child(int fd, unsigned char *m1, int go, int done)
{
	unsigned char *own = mmap(NULL, MAPLEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (own == MAP_FAILED)
		return 1;
	int bad = 0;
	bad |= !(is_pattern(m1, 0, SIZE0) && is_pattern(own, 0, SIZE0)) << 1;   /* all mapped now */
	char c;
	if (write(done, "r", 1) != 1 || read(go, &c, 1) != 1)
		return 1;
	bad |= !bus_at(m1 + 2 * PG + 8, 0) << 2;
	bad |= !bus_at(own + 4 * PG, 1) << 3;
	bad |= !(all_zero(m1 + SHORT, 2 * PG - SHORT) && all_zero(own + SHORT, 2 * PG - SHORT)) << 4;
	bad |= !is_pattern(own, 0, 100) << 5;
	memcpy(own + PG + 20, "fromchild", 9);      /* the last page stays shared */
	return bad;
}

static void shrink_with_mappings(const char *p)
{
	int fd = make_file(p, SIZE0);
	unsigned char *m1 = mmap(NULL, MAPLEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned char *m2 = mmap(NULL, MAPLEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned char *pm = mmap(NULL, MAPLEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (fd < 0 || m1 == MAP_FAILED || m2 == MAP_FAILED || pm == MAP_FAILED) {
		FAIL("setup", "%s", strerror(errno));
		return;
	}
	CHECK("all mappings show the file", is_pattern(m1, 0, SIZE0) && is_pattern(m2, 0, SIZE0) &&
	      is_pattern(pm, 0, SIZE0), "");
	memcpy(pm + 3 * PG, "privy", 5);            /* a private copy past the coming EOF */
	memcpy(pm, "mine", 4);                      /* and one before it */
	int go[2], done[2];
	if (pipe(go) || pipe(done)) {
		FAIL("pipe", "%s", strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid == 0)
		_exit(child(fd, m1, go[0], done[1]));
	char c;
	CHECK("the child mapped the file", read(done[0], &c, 1) == 1, "");

	CHECK("ftruncate down with live mappings", ftruncate(fd, SHORT) == 0, "%s", strerror(errno));
	CHECK("a load past the new EOF: SIGBUS BUS_ADRERR at the address", bus_at(m1 + 2 * PG + 8, 0),
	      "sig %d code %d addr %p want %p", got_sig, got_code, got_addr, (void *)(m1 + 2 * PG + 8));
	CHECK("a store past the new EOF (other mapping): SIGBUS BUS_ADRERR at the address",
	      bus_at(m2 + 3 * PG + 1, 1), "sig %d code %d addr %p", got_sig, got_code, got_addr);
	CHECK("the old last page too", bus_at(m1 + 4 * PG + 99, 0), "sig %d code %d", got_sig, got_code);
	CHECK("a private page never written, past the new EOF: SIGBUS", bus_at(pm + 2 * PG, 0),
	      "sig %d code %d addr %p", got_sig, got_code, got_addr);
	CHECK("a private copy past the new EOF: SIGBUS too (Linux unmaps COW copies at truncate)",
	      bus_at(pm + 3 * PG + 2, 0), "sig %d code %d", got_sig, got_code);
	CHECK("a private copy before EOF stays", memcmp(pm, "mine", 4) == 0 && is_pattern(pm, 4, 100), "");
	CHECK("the last page past EOF reads 0 (both mappings)", all_zero(m1 + SHORT, 2 * PG - SHORT) &&
	      all_zero(m2 + SHORT, 2 * PG - SHORT), "");
	CHECK("a private mapping's shared last page too", all_zero(pm + SHORT, 2 * PG - SHORT), "");
	CHECK("the bytes before EOF stay", is_pattern(m1, 0, SHORT) && is_pattern(m2, 4, SHORT), "");
	memcpy(m1 + PG + 4, "shared", 6);
	CHECK("the last page stays shared", memcmp(m2 + PG + 4, "shared", 6) == 0 &&
	      memcmp(pm + PG + 4, "shared", 6) == 0, "");
	pread_is(fd, PG + 4, "shared", 6, "and read() sees the store");

	CHECK("the child runs on", write(go[1], "g", 1) == 1, "");
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK("the child sees SIGBUS past EOF (inherited and own mapping), zeros in the last page",
	      WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	CHECK("the child's store in the last page is seen", memcmp(m1 + PG + 20, "fromchild", 9) == 0, "");
	close(go[0]); close(go[1]); close(done[0]); close(done[1]);

	CHECK("ftruncate up again", ftruncate(fd, SIZE0) == 0, "%s", strerror(errno));
	CHECK("the grown pages map as zeros, not the old data", all_zero(m1 + 2 * PG, SIZE0 - 2 * PG) &&
	      all_zero(m2 + 2 * PG, SIZE0 - 2 * PG), "");
	CHECK("the old last page's tail too", all_zero(m1 + SHORT, 2 * PG - SHORT), "");
	CHECK("a private mapping sees the file's new pages", all_zero(pm + 2 * PG, 2 * PG) &&
	      all_zero(pm + 3 * PG, 5), "");
	memcpy(m2 + 3 * PG + 8, "regrown", 7);
	pread_is(fd, 3 * PG + 8, "regrown", 7, "a store in a regrown page reaches read()");
	CHECK("still SIGBUS wholly past EOF", bus_at(m1 + 5 * PG, 0), "sig %d", got_sig);
	munmap(m1, MAPLEN);
	munmap(m2, MAPLEN);
	munmap(pm, MAPLEN);
	close(fd);
}

/* A private mapping longer than the file: the partial page reads 0 past EOF, the next is SIGBUS. */
static void private_past_eof(const char *p)
{
	int fd = make_file(p, PG + 10);
	unsigned char *pm = fd >= 0 ? mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	if (pm == MAP_FAILED) {
		FAIL("private setup", "%s", strerror(errno));
		return;
	}
	CHECK("private: the last page reads the file, then 0", is_pattern(pm, 0, PG + 10) &&
	      all_zero(pm + PG + 10, PG - 10), "");
	CHECK("private: a load wholly past EOF is SIGBUS BUS_ADRERR at the address", bus_at(pm + 2 * PG + 40, 0),
	      "sig %d code %d addr %p want %p", got_sig, got_code, got_addr, (void *)(pm + 2 * PG + 40));
	CHECK("private: a store wholly past EOF is SIGBUS", bus_at(pm + 2 * PG, 1), "sig %d code %d", got_sig, got_code);
	CHECK("private: the store in the last page stays private", touch(pm + PG + 20, 1) == 0 && pm[PG + 20] == 0x5a, "");
	unsigned char b;
	CHECK("and the file does not see it", pread(fd, &b, 1, PG + 20) == 0, "");
	munmap(pm, 3 * PG);
	/* read-only private mapping (program text, data) past EOF */
	unsigned char *rm = mmap(NULL, 2 * PG + PG, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK("private read-only: SIGBUS wholly past EOF", rm != MAP_FAILED && bus_at(rm + 2 * PG, 0), "sig %d", got_sig);
	munmap(rm, 3 * PG);
	close(fd);
}

/* O_TRUNC and truncate(2) unmap as ftruncate does. */
static void otrunc_and_truncate(const char *p)
{
	int fd = make_file(p, SIZE0);
	unsigned char *m = fd >= 0 ? mmap(NULL, MAPLEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
	if (m == MAP_FAILED) {
		FAIL("O_TRUNC setup", "%s", strerror(errno));
		return;
	}
	CHECK("mapped", is_pattern(m, 0, SIZE0), "");
	CHECK("truncate(2) to 3000", truncate(p, 3000) == 0, "%s", strerror(errno));
	CHECK("truncate(2): SIGBUS in the second page", bus_at(m + PG + 5, 0), "sig %d code %d", got_sig, got_code);
	CHECK("truncate(2): zeros from 3000", is_pattern(m, 0, 3000) && all_zero(m + 3000, PG - 3000), "");
	int fd2 = open(p, O_RDWR | O_TRUNC);
	CHECK("open O_TRUNC", fd2 >= 0, "%s", strerror(errno));
	CHECK("O_TRUNC: SIGBUS in the first page", bus_at(m + 8, 0), "sig %d code %d addr %p", got_sig, got_code,
	      got_addr);
	CHECK("O_TRUNC: a write grows it, the mapping sees it", pwrite(fd2, "again", 5, 10) == 5 &&
	      all_zero(m, 10) && memcmp(m + 10, "again", 5) == 0 && all_zero(m + 15, PG - 15), "");
	munmap(m, MAPLEN);
	close(fd2);
	close(fd);
}

/* ---- stress: readers fault while a thread shrinks and regrows the file ---- */

static int s_fd;
static unsigned char *s_map;
static volatile int s_stop, s_gen, s_done;   /* s_done: the last generation written whole */
static long s_reads[STRESS_READERS], s_bus[STRESS_READERS], s_bad[STRESS_READERS], s_stale[STRESS_READERS];

static void *reader(void *arg)
{
	long id = (long)arg;
	unsigned seed = (unsigned)id * 2654435761u + 1;
	while (!s_stop) {
		seed = seed * 1103515245u + 12345u;
		long pg = (seed >> 8) % STRESS_PAGES, off = (seed >> 4) % PG;
		volatile unsigned char *q = s_map + pg * PG + off;
		got_sig = 0;
		int done = __atomic_load_n(&s_done, __ATOMIC_ACQUIRE);
		if (sigsetjmp(jb, 1) == 0) {
			unsigned char v = *q;
			/* a byte is 0 (past the half page kept) or a generation stamped lately: never
			 * ahead, and never older than the last one written whole before this load (an
			 * older one is a page the file dropped, still mapped here) */
			if (v > (unsigned char)s_gen)
				s_bad[id]++;
			if (v != 0 && v < done)
				s_stale[id]++;
			s_reads[id]++;
		} else {
			s_bus[id]++;
		}
	}
	return NULL;
}

/* Every page of the mapping as this thread sees it now: the generation everywhere? */
static void *final_check(void *arg)
{
	long *bad = arg;
	for (long pg = 0; pg < STRESS_PAGES; pg++)
		for (long off = 0; off < PG; off += 512)
			if (touch(s_map + pg * PG + off, 0) || s_map[pg * PG + off] != (unsigned char)s_gen)
				(*bad)++;
	return NULL;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void stress(const char *p)
{
	s_fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	static unsigned char page[PG];
	s_gen = 1;
	memset(page, s_gen, PG);
	int ok = s_fd >= 0;
	for (int i = 0; i < STRESS_PAGES && ok; i++)
		ok = pwrite(s_fd, page, PG, (off_t)i * PG) == PG;
	s_map = ok ? mmap(NULL, STRESS_PAGES * PG, PROT_READ, MAP_SHARED, s_fd, 0) : MAP_FAILED;
	if (s_map == MAP_FAILED) {
		FAIL("stress setup", "%s", strerror(errno));
		return;
	}
	pthread_t t[STRESS_READERS];
	for (long i = 0; i < STRESS_READERS; i++)
		pthread_create(&t[i], NULL, reader, (void *)i);
	double t0 = now();
	int rounds_ok = 1, r;
	for (r = 0; rounds_ok && r < STRESS_MAX_ROUNDS && (r < STRESS_ROUNDS || now() - t0 < STRESS_SECONDS); r++) {
		/* shrink to half a page, let the readers run into it, then stamp the pages with the
		 * next generation */
		rounds_ok = ftruncate(s_fd, PG / 2) == 0;
		struct timespec nap = { 0, 300 * 1000 };
		nanosleep(&nap, NULL);
		int g = s_gen + 1;
		s_gen = g;
		memset(page, g, PG);
		for (int i = 0; i < STRESS_PAGES && rounds_ok; i++)
			rounds_ok = pwrite(s_fd, page, PG, (off_t)i * PG) == PG;
		__atomic_store_n(&s_done, g, __ATOMIC_RELEASE);
	}
	double dt = now() - t0;
	s_stop = 1;
	long reads = 0, bus = 0, bad = 0, dropped = 0;
	for (int i = 0; i < STRESS_READERS; i++) {
		pthread_join(t[i], NULL);
		reads += s_reads[i];
		bus += s_bus[i];
		bad += s_bad[i];
		dropped += s_stale[i];
	}
	CHECK("stress: every round truncated and regrew", rounds_ok, "%s", strerror(errno));
	CHECK("stress: readers never saw a generation ahead", bad == 0, "%ld bad", bad);
	CHECK("stress: readers never saw a page the file had dropped", dropped == 0, "%ld stale reads", dropped);
	printf("stress: %d rounds in %.2f s, %ld reads, %ld SIGBUS\n", r, dt, reads, bus);
	/* every thread (and the main one) sees the last generation everywhere: nobody kept old pages */
	long stale[STRESS_READERS] = { 0 };
	for (long i = 0; i < STRESS_READERS; i++)
		pthread_create(&t[i], NULL, final_check, &stale[i]);
	for (int i = 0; i < STRESS_READERS; i++)
		pthread_join(t[i], NULL);
	long st = 0;
	final_check(&st);
	for (int i = 0; i < STRESS_READERS; i++)
		st += stale[i];
	CHECK("stress: every thread sees the last generation on every page", st == 0, "%ld stale", st);
	CHECK("stress: a shrink leaves SIGBUS behind for every thread", ftruncate(s_fd, PG) == 0 &&
	      bus_at(s_map + 3 * PG, 0) && bus_at(s_map + 7 * PG + 1, 0), "sig %d", got_sig);
	munmap(s_map, STRESS_PAGES * PG);
	close(s_fd);
}

#define KEPT (PG + 50)

static void leave_file(const char *dir)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/mmap_truncated.bin", dir);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	int ok = fd >= 0 && ftruncate(fd, 3 * PG) == 0;
	unsigned char *m = ok ? mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
	ok = m != MAP_FAILED;
	for (long i = 0; ok && i < 3 * PG; i++)
		m[i] = pattern(i);
	ok = ok && msync(m, 3 * PG, MS_SYNC) == 0;
	if (ok) {
		memcpy(m + 100, "kept", 4);
		memcpy(m + 2 * PG, "gone", 4);
		ok = ftruncate(fd, KEPT) == 0 && bus_at(m + 2 * PG, 1);
		m[KEPT + 10] = 0x77;                    /* past EOF in the last page: never on disk */
	}
	CHECK("leave: a file shrunk while mapped", ok, "%s", strerror(errno));
	sync();                                    /* still mapped */
	printf("leave: mmap_truncated.bin in %s\n", dir);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	int leave = argc > 2 && strcmp(argv[2], "leave") == 0;
	char p[300];
	snprintf(p, sizeof(p), "%s/mmap_truncate.%d", dir, (int)getpid());
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	shrink_with_mappings(p);
	private_past_eof(p);
	otrunc_and_truncate(p);
	stress(p);
	CHECK("unlink", unlink(p) == 0, "%s", strerror(errno));
	if (leave)
		leave_file(dir);
	return t_finish();
}
