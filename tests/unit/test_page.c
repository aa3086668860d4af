// unit-sources: mm/page.c
/* Buddy allocator and per-CPU page caches over a fake 16 MiB "RAM" (host memory, PA == VA). */
#include <string.h>
#include "tests/unit/unit.h"
#include "mm/page.h"
#include "kernel/cpu.h"

#define RAM_SIZE   (16UL << 20)
#define RAM_ALIGN  (4UL << 20)                       /* so RAM is 4 whole order-10 blocks */
#define RAM_PAGES  (RAM_SIZE / PAGE_SIZE)
#define META_PAGES (RAM_PAGES * sizeof(struct page) / PAGE_SIZE)   /* 8 */
#define FREE_PAGES (RAM_PAGES - META_PAGES)
#define MAX_BLOCK  (PAGE_SIZE << PAGE_MAX_ORDER)

static char *ram;
static paddr_t ram_pa, free_pa;

/* Fresh RAM: metadata carved from its start, the rest given to the allocator. */
static void ram_setup(void)
{
	free(ram);
	ram = aligned_alloc(RAM_ALIGN, RAM_SIZE);
	ram_pa = (paddr_t)(uintptr_t)ram;
	free_pa = ram_pa;
	page_setup(ram_pa, ram_pa + RAM_SIZE, &free_pa);
	page_free_range(free_pa, ram_pa + RAM_SIZE);
}

static struct page_stats stats(void)
{
	struct page_stats st;
	page_get_stats(&st);
	return st;
}

static void drain_all(void)
{
	for (int i = 0; i < NCPU; i++)
		page_drain_cpu_cache(i);
}

static void check_baseline(void)
{
	struct page_stats st = stats();
	CHECK_EQ(st.total, RAM_PAGES);
	CHECK_EQ(st.reserved, META_PAGES);
	CHECK_EQ(st.free, FREE_PAGES);
	CHECK_EQ(st.used, 0);
}

/* After everything is freed and drained, RAM must be whole order-10 blocks again (the first one
 * holds the metadata, so 3 of them). */
static void check_coalesced(void)
{
	paddr_t b[3];
	drain_all();
	CHECK_EQ(stats().cached, 0);
	for (int i = 0; i < 3; i++) {
		b[i] = page_alloc(PAGE_MAX_ORDER, 0);
		CHECK(b[i] != 0);
	}
	CHECK_EQ(page_alloc(PAGE_MAX_ORDER, 0), 0);
	for (int i = 0; i < 3; i++)
		if (b[i])
			page_free(b[i], PAGE_MAX_ORDER);
	check_baseline();
}

TEST(setup_carves_metadata)
{
	CHECK_EQ(sizeof(struct page), 8);
	free(ram);
	ram = aligned_alloc(RAM_ALIGN, RAM_SIZE);
	ram_pa = (paddr_t)(uintptr_t)ram;
	/* RAM bounds get page-aligned to [ram+4K, ram+16M): 4095 pages. The array (4095 * 8 bytes)
	 * goes at the unaligned free_start rounded to 8, ram+4200, and ends at ram+36960, so the
	 * first free page is ram+40K. */
	free_pa = ram_pa + PAGE_SIZE + 100;
	page_setup(ram_pa + 1, ram_pa + RAM_SIZE + 1, &free_pa);
	CHECK_EQ(free_pa, ram_pa + 10 * PAGE_SIZE);
	CHECK(pa_to_page(ram_pa + PAGE_SIZE) == (struct page *)(ram + 4200));

	struct page_stats st = stats();
	CHECK_EQ(st.total, RAM_PAGES - 1);             /* [ram+4K, ram+16M) */
	CHECK_EQ(st.reserved, RAM_PAGES - 1);
	CHECK_EQ(st.free, 0);
	CHECK_EQ(st.used, 0);
	CHECK(pa_to_page(ram_pa) == NULL);
	CHECK(pa_to_page(ram_pa + RAM_SIZE) == NULL);
	CHECK(pa_to_page(ram_pa + PAGE_SIZE) != NULL);
	CHECK(page_to_pa(pa_to_page(ram_pa + 5 * PAGE_SIZE + 7)) == ram_pa + 5 * PAGE_SIZE);
	CHECK_EQ(page_alloc(0, 0), 0);                 /* everything is reserved */

	/* clipped to whole pages: frees exactly pages 20 and 21 */
	page_free_range(ram_pa + 19 * PAGE_SIZE + 1, ram_pa + 22 * PAGE_SIZE + 100);
	st = stats();
	CHECK_EQ(st.free, 2);
	CHECK_EQ(st.reserved, RAM_PAGES - 3);
	paddr_t a = page_alloc(0, 0), b = page_alloc(0, 0);
	CHECK(a >= ram_pa + 20 * PAGE_SIZE && a < ram_pa + 22 * PAGE_SIZE);
	CHECK(b >= ram_pa + 20 * PAGE_SIZE && b < ram_pa + 22 * PAGE_SIZE && b != a);
	CHECK_EQ(page_alloc(0, 0), 0);
	CHECK_EQ(stats().used, 2);
	UNIT_EXPECT_PANIC(page_free_range(ram_pa + 20 * PAGE_SIZE, ram_pa + 21 * PAGE_SIZE));
	page_free(a, 0);
	page_free(b, 0);
	CHECK_EQ(stats().free, 2);

	ram_setup();
	check_baseline();
	CHECK_EQ(free_pa, ram_pa + META_PAGES * PAGE_SIZE);
	CHECK(pa_to_page(ram_pa) == (struct page *)ram);   /* the array sits at the start of RAM */
	CHECK(pa_to_page(ram_pa)->flags & PG_RESERVED);
	CHECK(pa_to_page(free_pa)->flags & PG_BUDDY);
}

TEST(alloc_each_order)
{
	paddr_t blk[PAGE_MAX_ORDER + 1];
	uint64_t used = 0;

	ram_setup();
	for (unsigned k = 0; k <= PAGE_MAX_ORDER; k++) {
		blk[k] = page_alloc(k, 0);
		CHECK(blk[k] != 0);
		CHECK(blk[k] % (PAGE_SIZE << k) == 0);
		CHECK(blk[k] >= free_pa && blk[k] + (PAGE_SIZE << k) <= ram_pa + RAM_SIZE);
		CHECK_EQ(pa_to_page(blk[k])->order, k);
		CHECK_EQ(pa_to_page(blk[k])->refcount, 1);
		for (unsigned j = 0; j < k; j++)          /* no overlap with earlier blocks */
			CHECK(blk[k] + (PAGE_SIZE << k) <= blk[j] || blk[j] + (PAGE_SIZE << j) <= blk[k]);
		memset(pa_to_va(blk[k]), (int)k, PAGE_SIZE << k);
		used += 1UL << k;
		CHECK_EQ(stats().used, used);
	}
	CHECK_EQ(page_alloc(PAGE_MAX_ORDER + 1, 0), 0);
	for (unsigned k = 0; k <= PAGE_MAX_ORDER; k++) {
		CHECK(((char *)pa_to_va(blk[k]))[(PAGE_SIZE << k) - 1] == (char)k);
		free_pages(pa_to_va(blk[k]), k);
	}
	free_pages(NULL, 3);
	check_baseline();
	check_coalesced();
}

TEST(exhaustion_and_coalescing)
{
	static paddr_t pg[FREE_PAGES];

	ram_setup();
	for (uint64_t i = 0; i < FREE_PAGES; i++) {
		pg[i] = page_alloc(0, 0);
		CHECK(pg[i] != 0);
	}
	CHECK_EQ(page_alloc(0, 0), 0);
	CHECK_EQ(page_alloc(0, PAGE_ZERO), 0);
	CHECK_EQ(page_alloc(1, 0), 0);
	CHECK_EQ(page_alloc(PAGE_MAX_ORDER, 0), 0);
	CHECK(alloc_pages(0, 0) == NULL);
	struct page_stats st = stats();
	CHECK_EQ(st.free, 0);
	CHECK_EQ(st.used, FREE_PAGES);

	/* free the odd pages: half of RAM is free, but no two buddies, so no order-1 block */
	for (uint64_t i = 0; i < FREE_PAGES; i++)
		if ((pg[i] / PAGE_SIZE) & 1)
			page_free(pg[i], 0);
	drain_all();
	CHECK_EQ(stats().free, FREE_PAGES / 2);
	CHECK_EQ(page_alloc(1, 0), 0);
	for (uint64_t i = 0; i < FREE_PAGES; i++)
		if (!((pg[i] / PAGE_SIZE) & 1))
			page_free(pg[i], 0);
	check_baseline();
	check_coalesced();

	/* the high orders fail first while order 0 still works, then everything fails */
	paddr_t big[3];
	for (int i = 0; i < 3; i++)
		big[i] = page_alloc(PAGE_MAX_ORDER, 0);
	CHECK_EQ(page_alloc(PAGE_MAX_ORDER, 0), 0);
	paddr_t small = page_alloc(0, 0);
	CHECK(small != 0);
	page_free(small, 0);
	for (int i = 0; i < 3; i++)
		page_free(big[i], PAGE_MAX_ORDER);
	check_baseline();
}

TEST(zeroing)
{
	ram_setup();
	paddr_t a = page_alloc(3, 0);
	memset(pa_to_va(a), 0xaa, PAGE_SIZE << 3);
	page_free(a, 3);
	paddr_t b = page_alloc(3, PAGE_ZERO);
	CHECK_EQ(b, a);                                  /* the same block comes back first */
	unsigned char *p = pa_to_va(b);
	size_t nonzero = 0;
	for (size_t i = 0; i < (PAGE_SIZE << 3); i++)
		nonzero += p[i] != 0;
	CHECK_EQ(nonzero, 0);
	page_free(b, 3);

	unsigned char *q = alloc_pages(0, 0);
	memset(q, 0x55, PAGE_SIZE);
	free_pages(q, 0);
	unsigned char *r = alloc_pages(0, PAGE_ZERO);
	CHECK(r == q);                                   /* the per-CPU cache is LIFO */
	nonzero = 0;
	for (size_t i = 0; i < PAGE_SIZE; i++)
		nonzero += r[i] != 0;
	CHECK_EQ(nonzero, 0);
	free_pages(r, 0);
	check_baseline();
}

static size_t count_byte(const unsigned char *p, size_t n, unsigned char b)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += p[i] == b;
	return k;
}

/* A page marked executable (page_mark_exec: it was mapped executable in user space) is zeroed
 * when freed, through page_free and through the last page_put, in a block or alone; an unmarked
 * page keeps its bytes (the allocator does not zero what it need not), and the mark does not
 * survive the free. */
TEST(pages_that_held_code_are_zeroed_when_freed)
{
	ram_setup();
	unsigned char *q = alloc_pages(0, 0);
	memset(q, 0x55, PAGE_SIZE);
	free_pages(q, 0);
	unsigned char *r = alloc_pages(0, 0);
	CHECK(r == q);                                   /* the per-CPU cache is LIFO */
	CHECK_EQ(count_byte(r, PAGE_SIZE, 0x55), PAGE_SIZE);   /* not marked: bytes kept */
	page_mark_exec(va_to_pa(r));
	page_mark_exec(va_to_pa(r));                     /* marking twice is marking once */
	CHECK(pa_to_page(va_to_pa(r))->flags & PG_EXEC);
	free_pages(r, 0);
	unsigned char *s = alloc_pages(0, 0);
	CHECK(s == q);
	CHECK_EQ(count_byte(s, PAGE_SIZE, 0), PAGE_SIZE);
	CHECK(!(pa_to_page(va_to_pa(s))->flags & PG_EXEC));

	memset(s, 0x77, PAGE_SIZE);                      /* the last page_put frees: zeroed too */
	page_mark_exec(va_to_pa(s));
	page_get(va_to_pa(s));
	CHECK(!page_put(va_to_pa(s)));
	CHECK_EQ(count_byte(s, PAGE_SIZE, 0x77), PAGE_SIZE);   /* still referenced: untouched */
	CHECK(page_put(va_to_pa(s)));
	unsigned char *t = alloc_pages(0, 0);
	CHECK(t == q);
	CHECK_EQ(count_byte(t, PAGE_SIZE, 0), PAGE_SIZE);
	free_pages(t, 0);

	paddr_t a = page_alloc(2, 0);                    /* in a block: only the marked page */
	memset(pa_to_va(a), 0xaa, PAGE_SIZE << 2);
	page_mark_exec(a + 2 * PAGE_SIZE);
	page_free(a, 2);
	paddr_t b = page_alloc(2, 0);
	CHECK_EQ(b, a);
	unsigned char *pb = pa_to_va(b);               /* (page 0 held the free list's link) */
	CHECK_EQ(count_byte(pb + PAGE_SIZE, PAGE_SIZE, 0xaa), PAGE_SIZE);
	CHECK_EQ(count_byte(pb + 2 * PAGE_SIZE, PAGE_SIZE, 0), PAGE_SIZE);
	CHECK_EQ(count_byte(pb + 3 * PAGE_SIZE, PAGE_SIZE, 0xaa), PAGE_SIZE);
	page_free(b, 2);
	check_baseline();
}

TEST(bad_frees_panic)
{
	ram_setup();
	paddr_t a = page_alloc(0, 0);
	page_free(a, 0);
	UNIT_EXPECT_PANIC(page_free(a, 0));             /* double free into the per-CPU cache */
	drain_all();
	UNIT_EXPECT_PANIC(page_free(a, 0));             /* ... and once it is back in the buddy lists */

	paddr_t b = page_alloc(1, 0);
	page_free(b, 1);
	drain_all();
	UNIT_EXPECT_PANIC(page_free(b + PAGE_SIZE, 0)); /* second page of a free (merged) block */

	paddr_t c = page_alloc(2, 0);
	UNIT_EXPECT_PANIC(page_free(c, 1));             /* wrong order */
	UNIT_EXPECT_PANIC(page_free(c + PAGE_SIZE, 0)); /* not the start of the block */
	UNIT_EXPECT_PANIC(page_free(c + 2 * PAGE_SIZE, 2));  /* misaligned for its order */
	UNIT_EXPECT_PANIC(page_free(c + 8, 0));         /* not page-aligned */
	UNIT_EXPECT_PANIC(page_free(ram_pa + RAM_SIZE, 0));  /* outside RAM */
	UNIT_EXPECT_PANIC(page_free(ram_pa - PAGE_SIZE, 0));
	UNIT_EXPECT_PANIC(page_free(0, 0));
	UNIT_EXPECT_PANIC(page_free(ram_pa, 0));        /* reserved (the metadata) */
	UNIT_EXPECT_PANIC(page_free(ram_pa + RAM_SIZE - MAX_BLOCK, PAGE_MAX_ORDER + 1));
	page_get(c);
	UNIT_EXPECT_PANIC(page_free(c, 2));             /* still shared */
	CHECK(!page_put(c));
	page_free(c, 2);
	UNIT_EXPECT_PANIC(page_get(c));                 /* refcounting a free block */

	/* none of that left a lock held or changed the counts */
	check_baseline();
	check_coalesced();
}

TEST(refcount)
{
	ram_setup();
	paddr_t a = page_alloc(0, 0), b = page_alloc(2, 0);
	CHECK_EQ(pa_to_page(a)->refcount, 1);
	page_get(a);
	page_get(a);
	CHECK_EQ(pa_to_page(a)->refcount, 3);
	CHECK(!page_put(a));
	CHECK(!page_put(a));
	CHECK_EQ(stats().used, 5);
	CHECK(page_put(a));
	CHECK_EQ(pa_to_page(a)->refcount, 0);
	CHECK(pa_to_page(a)->flags & PG_FREE);
	CHECK(page_put(b));                              /* frees the whole order-2 block */
	check_baseline();
	UNIT_EXPECT_PANIC(page_put(a));
	check_coalesced();
}

TEST(per_cpu_caches)
{
	enum { N = 20 };
	paddr_t pg[N + 70];

	ram_setup();
	host_cpu_id = 1;
	for (int i = 0; i < N; i++)
		pg[i] = page_alloc(0, 0);
	/* two refills of 16: 12 pages left in CPU 1's cache, still counted as free */
	struct page_stats st = stats();
	CHECK_EQ(st.cached, 2 * 16 - N);
	CHECK_EQ(st.free, FREE_PAGES - N);
	CHECK_EQ(st.used, N);

	host_cpu_id = 2;
	for (int i = 0; i < N; i++)
		page_free(pg[i], 0);
	st = stats();
	CHECK_EQ(st.cached, 2 * 16 - N + N);
	CHECK_EQ(st.free, FREE_PAGES);
	CHECK_EQ(st.used, 0);

	page_drain_cpu_cache(1);
	CHECK_EQ(stats().cached, N);
	page_drain_cpu_cache(2);
	CHECK_EQ(stats().cached, 0);
	check_baseline();

	/* high water: a free into a full cache (64) first gives its 16 oldest pages back */
	host_cpu_id = 3;
	for (int i = 0; i < N + 70; i++)
		pg[i] = page_alloc(0, 0);
	page_drain_cpu_cache(3);
	for (int i = 0; i < 64; i++)
		page_free(pg[i], 0);
	CHECK_EQ(stats().cached, 64);
	page_free(pg[64], 0);
	CHECK_EQ(stats().cached, 49);
	for (int i = 65; i < N + 70; i++)              /* 25 more: 49 -> 64, drain to 48, +10 */
		page_free(pg[i], 0);
	CHECK_EQ(stats().cached, 58);
	check_baseline();
	check_coalesced();
}

/* Random alloc/free over 4 CPUs and all orders, checked against a shadow bitmap of pages. */
TEST(random_stress)
{
	enum { LIVE = 256, OPS = 20000 };
	static struct { paddr_t pa; unsigned order; } live[LIVE];
	static uint8_t owned[RAM_PAGES];
	uint64_t seed = 0x9e3779b97f4a7c15ULL, used = 0;
	int nlive = 0, failures = 0;

	ram_setup();
	memset(owned, 0, sizeof(owned));
	for (int op = 0; op < OPS; op++) {
		seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;   /* xorshift64 */
		host_cpu_id = (int)(seed % 4);
		bool do_alloc = nlive == 0 || (nlive < LIVE && (seed >> 8) % 100 < 55);
		if (do_alloc) {
			unsigned r = (seed >> 16) % 100;
			unsigned order = r < 60 ? 0 : r < 90 ? (seed >> 24) % 4 : (seed >> 24) % (PAGE_MAX_ORDER + 1);
			paddr_t pa = page_alloc(order, (seed >> 32) & 1 ? PAGE_ZERO : 0);
			if (!pa) {
				failures++;
				continue;
			}
			CHECK(pa % (PAGE_SIZE << order) == 0);
			uint64_t first = (pa - ram_pa) / PAGE_SIZE;
			for (uint64_t i = first; i < first + (1UL << order); i++) {
				if (owned[i]) {
					CHECK(!owned[i]);
					return;
				}
				owned[i] = 1;
			}
			*(uint64_t *)pa_to_va(pa) = pa;           /* a tag that must survive until freed */
			live[nlive].pa = pa;
			live[nlive++].order = order;
			used += 1UL << order;
		} else {
			int i = (int)((seed >> 8) % (uint64_t)nlive);
			paddr_t pa = live[i].pa;
			unsigned order = live[i].order;
			CHECK_EQ(*(uint64_t *)pa_to_va(pa), pa);
			uint64_t first = (pa - ram_pa) / PAGE_SIZE;
			for (uint64_t j = first; j < first + (1UL << order); j++)
				owned[j] = 0;
			page_free(pa, order);
			live[i] = live[--nlive];
			used -= 1UL << order;
		}
		if (op % 1000 == 0) {
			struct page_stats st = stats();
			CHECK_EQ(st.used, used);
			CHECK_EQ(st.free + st.used + st.reserved, st.total);
		}
	}
	CHECK(failures > 0);          /* the big orders do run out now and then */
	CHECK(failures < OPS / 10);
	while (nlive > 0) {
		nlive--;
		host_cpu_id = nlive % 4;
		page_free(live[nlive].pa, live[nlive].order);
	}
	check_baseline();
	check_coalesced();
}

UNIT_TESTS(CASE(setup_carves_metadata), CASE(alloc_each_order), CASE(exhaustion_and_coalescing),
	   CASE(zeroing), CASE(pages_that_held_code_are_zeroed_when_freed), CASE(bad_frees_panic), CASE(refcount), CASE(per_cpu_caches), CASE(random_stress))
