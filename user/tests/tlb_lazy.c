/* A thread that slept while another thread of its process replaced a page must see the new page.
 *
 * Inside Ember a CPU whose user thread goes to sleep keeps that thread's page table (lazy address
 * spaces, mm/uvm.c) and its TLB entries; TLB fences skip such a lazy CPU, which instead flushes
 * when it goes back to the same address space if a fence happened meanwhile. If that catch-up
 * were missing, the reader below would wake on its old CPU and read the replaced (and freed)
 * page through the stale TLB entry.
 *
 * Each round: the reader reads the page (its CPU caches the translation) and sleeps on a pipe;
 * the writer puts the round's value into one of two memfd pages (the two alternate, so the old
 * translation leads to a page that really holds an older value: a freed anonymous page would be
 * handed straight back by the allocator and hide the stale entry), maps that page over the
 * address (MAP_FIXED over the old mapping, or munmap then mmap) and wakes the reader, which must
 * read the round's value. ROUNDS rounds of each kind. The two threads are pinned to different
 * CPUs, so the reader always sleeps and wakes on a CPU the writer does not use. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "harness.h"

#define ROUNDS 600
#define PAGE 4096

enum kind { REPLACE, UNMAP_MAP, KINDS };
static const char *const kind_name[KINDS] = { "MAP_FIXED over the page", "munmap then mmap" };
static volatile uint64_t *page;
static int to_reader[2], to_writer[2];
static int stale, errors;

static int pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int reader_pinned;

static void *reader(void *arg)
{
	(void)arg;
	reader_pinned = pin(0) == 0;
	for (;;) {
		uint64_t want;
		if (read(to_reader[0], &want, sizeof(want)) != sizeof(want) || want == UINT64_MAX)
			return NULL;
		uint64_t got = *page;            /* the replaced page, after a sleep */
		if (got != want)
			stale++;
		(void)*page;                     /* cache the translation again before sleeping */
		if (write(to_writer[1], &got, sizeof(got)) != sizeof(got))
			return NULL;
	}
}

static int memfds[2];

static int replace(enum kind k, uint64_t value)
{
	int fd = memfds[value & 1];
	void *want = (void *)page;
	if (pwrite(fd, &value, sizeof(value), 0) != sizeof(value))
		return -1;
	void *p;
	if (k == REPLACE) {
		p = mmap(want, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	} else {
		if (munmap(want, PAGE) < 0)
			return -1;
		p = mmap(want, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
	}
	return p == want ? 0 : -1;
}

int main(void)
{
	memfds[0] = memfd_create("tlb_lazy_a", 0);
	memfds[1] = memfd_create("tlb_lazy_b", 0);
	CHECK("two memfd pages", memfds[0] >= 0 && memfds[1] >= 0 && ftruncate(memfds[0], PAGE) == 0 &&
	      ftruncate(memfds[1], PAGE) == 0, "%s", strerror(errno));
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memfds[1], 0);
	CHECK("map the page", page != MAP_FAILED, "%s", strerror(errno));
	CHECK("pipes", pipe(to_reader) == 0 && pipe(to_writer) == 0, "%s", strerror(errno));
	pthread_t t;
	CHECK("reader thread", pthread_create(&t, NULL, reader, NULL) == 0, "");
	CHECK("writer pinned to CPU 1", pin(1) == 0, "%s", strerror(errno));
	uint64_t value = 1;
	*page = value;
	for (int k = 0; k < KINDS; k++) {
		int before = stale;
		for (int i = 0; i < ROUNDS; i++) {
			uint64_t echoed;
			value++;
			if (replace((enum kind)k, value) < 0) {
				errors++;
				break;
			}
			if (write(to_reader[1], &value, sizeof(value)) != sizeof(value) ||
			    read(to_writer[0], &echoed, sizeof(echoed)) != sizeof(echoed)) {
				errors++;
				break;
			}
			if (i % 3 == 0)
				usleep(200);             /* let the reader's CPU go idle (lazy) now and then */
		}
		char name[96];
		snprintf(name, sizeof(name), "%s: the woken reader sees the new page", kind_name[k]);
		CHECK(name, stale == before && errors == 0, "%d of %d reads saw the old page, %d errors (%s)", stale - before,
		      ROUNDS, errors, strerror(errno));
	}
	uint64_t end = UINT64_MAX;
	if (write(to_reader[1], &end, sizeof(end)) == sizeof(end))
		pthread_join(t, NULL);
	CHECK("reader pinned to CPU 0", reader_pinned, "sched_setaffinity failed");
	return t_finish();
}
