/*
 * mmap, munmap and mprotect from many threads of one process at once, with the contents checked.
 *
 * Ember fences the other harts' TLBs after munmap/mprotect with mm->lock dropped and the removed
 * pages still held (mm/uvm.c); a new mapping cannot take the range until the fence is done. If it
 * could, a thread whose hart still cached the old translation would write its new mapping's data
 * into the old page and then read zeroes (or another thread's data) through the new one. Here 6
 * threads map 16-page regions anywhere (so each often gets a range another thread just unmapped),
 * stamp every page with (thread, round) and publish the region, check it, withdraw it, make it
 * read-only, check it again and unmap it. Two reader threads read the published regions all the
 * time (their harts cache translations of ranges that others unmap and map again) and check the
 * stamps. Another thread faults pages of its own region in and out, so faults run while fences
 * are in flight.
 * Mappers run for SECONDS (fences cost a lot under TCG: the pace is printed, not judged; the crawl
 * that fences under mm->lock caused is musl-malloc_threads' job to catch). Without any remote fence
 * this fails at once: the readers see millions of stale stamps through old translations.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>
#include "harness.h"

#define THREADS 6
#define READERS 2
#define SECONDS 5                  /* each mapper runs this long (a fence can take ~0.1 s on a loaded host) */
#define MIN_ROUNDS 3
#define PAGES 16
#define PAGE 4096

static int bad_stamp, bad_map, bad_prot, bad_seen, seen;
static volatile int stop;
static uint64_t rounds;
static double deadline;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* A thread's current region as others may read it: addr and stamp under the lock, a reader-writer
 * spinlock (state: readers, or -1 for the writer) so that readers never sleep: a hart that goes
 * idle switches page tables and drops its cached translations, which would hide a missing fence. */
static struct slot {
	int state;
	int writer_waits;           /* no new reader while set: readers cannot starve the owner */
	uint64_t *addr;
	uint64_t stamp;
} slots[THREADS];

static void read_lock(struct slot *s)
{
	for (;;) {
		int v = __atomic_load_n(&s->state, __ATOMIC_RELAXED);
		if (v >= 0 && !__atomic_load_n(&s->writer_waits, __ATOMIC_RELAXED) &&__atomic_compare_exchange_n(&s->state, &v, v + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
	}
}

static void read_unlock(struct slot *s) { __atomic_sub_fetch(&s->state, 1, __ATOMIC_RELEASE); }

static void write_lock(struct slot *s)
{
	int v = 0;
	__atomic_store_n(&s->writer_waits, 1, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&s->state, &v, -1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		v = 0;
	__atomic_store_n(&s->writer_waits, 0, __ATOMIC_RELAXED);
}

static void write_unlock(struct slot *s) { __atomic_store_n(&s->state, 0, __ATOMIC_RELEASE); }

static void read_other(uint64_t k)
{
	struct slot *s = &slots[k % THREADS];
	read_lock(s);
	if (s->addr) {
		for (int i = 0; i < PAGES; i++)
			if (s->addr[i * PAGE / 8] != s->stamp + (uint64_t)i)
				__atomic_add_fetch(&bad_seen, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&seen, 1, __ATOMIC_RELAXED);
	}
	read_unlock(s);
}

static void publish(uint64_t id, uint64_t *p, uint64_t stamp)
{
	struct slot *s = &slots[id % THREADS];
	write_lock(s);
	s->addr = p;
	s->stamp = stamp;
	write_unlock(s);
}

static void *mapper(void *arg)
{
	uint64_t id = (uintptr_t)arg;
	uint64_t r;
	for (r = 0; r < MIN_ROUNDS || now() < deadline; r++) {
		uint64_t *p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			__atomic_add_fetch(&bad_map, 1, __ATOMIC_RELAXED);
			continue;
		}
		uint64_t stamp = id << 32 | r;
		for (int i = 0; i < PAGES; i++) {
			if (p[i * PAGE / 8] != 0)                   /* a new anonymous page is zeroed */
				__atomic_add_fetch(&bad_stamp, 1, __ATOMIC_RELAXED);
			p[i * PAGE / 8] = stamp + (uint64_t)i;
		}
		publish(id, p, stamp);
		read_other(id + r);
		for (int i = 0; i < PAGES; i++)
			if (p[i * PAGE / 8] != stamp + (uint64_t)i)
				__atomic_add_fetch(&bad_stamp, 1, __ATOMIC_RELAXED);
		publish(id, NULL, 0);
		if (mprotect(p, PAGES * PAGE, PROT_READ) != 0)
			__atomic_add_fetch(&bad_prot, 1, __ATOMIC_RELAXED);
		for (int i = 0; i < PAGES; i++)
			if (p[i * PAGE / 8] != stamp + (uint64_t)i)
				__atomic_add_fetch(&bad_stamp, 1, __ATOMIC_RELAXED);
		if (munmap(p, PAGES * PAGE) != 0)
			__atomic_add_fetch(&bad_map, 1, __ATOMIC_RELAXED);
	}
	__atomic_add_fetch(&rounds, r, __ATOMIC_RELAXED);
	return NULL;
}

/* Reads the published regions all the time and never maps, unmaps or sleeps: its hart keeps the
 * translations it cached (a hart's own munmap or a switch to idle would fence them away). */
static void *reader(void *arg)
{
	for (uint64_t k = (uintptr_t)arg; !stop; k++)
		read_other(k);
	return NULL;
}

/* Faults while fences are in flight: touch a region, drop its pages with MAP_FIXED, again. */
static void *faulter(void *arg)
{
	(void)arg;
	char *p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		__atomic_add_fetch(&bad_map, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	for (unsigned n = 0; !stop; n++) {
		for (int i = 0; i < PAGES; i++)
			p[i * PAGE] = (char)(n + i);
		for (int i = 0; i < PAGES; i++)
			if (p[i * PAGE] != (char)(n + i))
				__atomic_add_fetch(&bad_stamp, 1, __ATOMIC_RELAXED);
		if (mmap(p, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p)
			__atomic_add_fetch(&bad_map, 1, __ATOMIC_RELAXED);
		if (p[0] != 0)                              /* the replacement is a fresh zeroed page */
			__atomic_add_fetch(&bad_stamp, 1, __ATOMIC_RELAXED);
	}
	munmap(p, PAGES * PAGE);
	return NULL;
}

int main(void)
{
	alarm(100);
	deadline = now() + SECONDS;
	pthread_t t[THREADS], f, rd[READERS];
	int created = 0, readers = 0;
	int fok = pthread_create(&f, NULL, faulter, NULL) == 0;
	for (int i = 0; i < READERS; i++)
		if (pthread_create(&rd[i], NULL, reader, (void *)(uintptr_t)i) == 0)
			readers++;
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, mapper, (void *)(uintptr_t)(i + 1)) == 0)
			created++;
	for (int i = 0; i < created; i++)
		pthread_join(t[i], NULL);
	stop = 1;
	if (fok)
		pthread_join(f, NULL);
	for (int i = 0; i < readers; i++)
		pthread_join(rd[i], NULL);
	CHECK("threads_created", created == THREADS && fok && readers == READERS, "created=%d faulter=%d readers=%d",
	      created, fok, readers);
	printf("%d mappers: %llu rounds in %d s\n", created, (unsigned long long)rounds, SECONDS);
	CHECK("every_map_and_unmap_succeeded", bad_map == 0, "failures=%d", bad_map);
	CHECK("mprotect_succeeded", bad_prot == 0, "failures=%d", bad_prot);
	CHECK("every_page_held_its_own_stamp", bad_stamp == 0, "bad=%d", bad_stamp);
	CHECK("other_threads_saw_the_same_stamps", bad_seen == 0 && seen > 0, "bad=%d of %d", bad_seen, seen);
	return t_finish();
}
