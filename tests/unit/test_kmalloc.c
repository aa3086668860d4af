// unit-sources: mm/page.c mm/kmalloc.c
/* kmalloc over the page allocator on a fake 16 MiB "RAM". Every case frees all it allocated and
 * calls kmalloc_shrink, so kmalloc holds no pages when the next case sets up fresh RAM. */
#include <string.h>
#include "tests/unit/unit.h"
#include "mm/kmalloc.h"
#include "mm/page.h"

#define RAM_SIZE  (16UL << 20)
#define RAM_ALIGN (4UL << 20)

static char *ram;
static struct page_stats base;

static struct page_stats pstats(void)
{
	struct page_stats st;
	page_get_stats(&st);
	return st;
}

static struct kmalloc_stats kstats(void)
{
	struct kmalloc_stats st;
	kmalloc_get_stats(&st);
	return st;
}

static void ram_setup(void)
{
	free(ram);
	ram = aligned_alloc(RAM_ALIGN, RAM_SIZE);
	paddr_t pa = (paddr_t)(uintptr_t)ram, free_pa = pa;
	page_setup(pa, pa + RAM_SIZE, &free_pa);
	page_free_range(free_pa, pa + RAM_SIZE);
	base = pstats();
}

/* Everything freed: after a shrink, kmalloc holds no pages and page usage is back to baseline. */
static void check_baseline(void)
{
	CHECK(kstats().slab_pages <= 8);              /* at most one cached empty slab per class */
	kmalloc_shrink();
	struct kmalloc_stats ks = kstats();
	CHECK_EQ(ks.slab_pages, 0);
	CHECK_EQ(ks.large_allocs, 0);
	CHECK_EQ(ks.allocs, ks.frees);
	struct page_stats st = pstats();
	CHECK_EQ(st.free, base.free);
	CHECK_EQ(st.used, 0);
}

TEST(size_classes)
{
	static const struct { size_t size, reserved; } map[] = {
		{ 0, 0 }, { 1, 16 }, { 15, 16 }, { 16, 16 }, { 17, 32 }, { 32, 32 }, { 33, 64 },
		{ 100, 128 }, { 129, 256 }, { 511, 512 }, { 1000, 1024 }, { 1025, 2048 }, { 2048, 2048 },
		{ 2049, 4096 }, { 4096, 4096 }, { 4097, 8192 }, { 3 << 20, 4 << 20 }, { 4 << 20, 4 << 20 },
		{ (4 << 20) + 1, 0 }, { (size_t)-1, 0 },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		CHECK_EQ(kmalloc_size_class(map[i].size), map[i].reserved);

	ram_setup();
	CHECK(kmalloc(0) == NULL);
	CHECK(kzalloc(0) == NULL);
	CHECK(kmalloc((4 << 20) + 1) == NULL);
	CHECK(kmalloc((size_t)-1) == NULL);
	CHECK_EQ(kstats().allocs, kstats().frees);
	check_baseline();
}

/* Objects of each class (and sizes in between) are aligned to their class size, distinct, don't
 * overlap, and keep their contents. Several slabs per class. */
TEST(objects_distinct_and_aligned)
{
	enum { N = 300 };
	static const size_t sizes[] = { 1, 8, 16, 24, 32, 48, 64, 100, 128, 200, 256, 300, 512, 777,
					1024, 1500, 2048 };
	static unsigned char *obj[N];

	ram_setup();
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t size = sizes[s], cls = kmalloc_size_class(size);
		for (int i = 0; i < N; i++) {
			obj[i] = kmalloc(size);
			CHECK(obj[i] != NULL);
			CHECK((uintptr_t)obj[i] % cls == 0);          /* hence always 16-aligned */
			memset(obj[i], i & 0xff, size);
		}
		/* distinct and non-overlapping: every pair is at least a class size apart */
		int overlaps = 0;
		for (int i = 0; i < N; i++)
			for (int j = i + 1; j < N; j++)
				overlaps += (size_t)(obj[i] > obj[j] ? obj[i] - obj[j] : obj[j] - obj[i]) < cls;
		CHECK_EQ(overlaps, 0);
		CHECK(kstats().slab_pages >= (N * cls + PAGE_SIZE - 1) / PAGE_SIZE);
		int damaged = 0;
		for (int i = 0; i < N; i++) {
			for (size_t b = 0; b < size; b++)
				damaged += obj[i][b] != (i & 0xff);
			kfree(obj[i]);
		}
		CHECK_EQ(damaged, 0);
	}
	check_baseline();
}

TEST(reuse_and_kzalloc)
{
	ram_setup();
	void *keep = kmalloc(100);                  /* keeps the 128-byte slab non-empty */
	void *p = kmalloc(100);
	kfree(p);
	void *q = kmalloc(120);                     /* same class: the hot object comes back */
	CHECK(q == p);
	uint64_t slabs = kstats().slab_pages;
	for (int i = 0; i < 1000; i++) {            /* steady state: no new pages */
		void *r = kmalloc(128);
		CHECK(r != NULL);
		kfree(r);
	}
	CHECK_EQ(kstats().slab_pages, slabs);

	memset(q, 0xff, 120);
	kfree(q);
	unsigned char *z = kzalloc(128);
	CHECK(z == q);
	int nonzero = 0;
	for (int i = 0; i < 128; i++)
		nonzero += z[i] != 0;
	CHECK_EQ(nonzero, 0);
	kfree(z);
	kfree(keep);
	check_baseline();
}

TEST(large_allocations)
{
	ram_setup();
	uint64_t allocs = kstats().allocs;
	unsigned char *p = kmalloc(5000);           /* order 1 */
	CHECK(p != NULL);
	CHECK((uintptr_t)p % PAGE_SIZE == 0);
	CHECK_EQ(pa_to_page(va_to_pa(p))->order, 1);
	CHECK_EQ(pstats().used, 2);
	CHECK_EQ(kstats().large_allocs, 1);
	CHECK_EQ(kstats().slab_pages, 0);
	CHECK_EQ(kstats().allocs, allocs + 1);
	memset(p, 0x5a, 5000);

	unsigned char *big = kzalloc(4 << 20);      /* the largest block */
	CHECK(big != NULL);
	CHECK((uintptr_t)big % (4 << 20) == 0);
	size_t nonzero = 0;
	for (size_t i = 0; i < (4 << 20); i += 64)
		nonzero += big[i] != 0;
	CHECK_EQ(nonzero, 0);
	CHECK_EQ(kstats().large_allocs, 2);
	kfree(big);
	kfree(p);
	CHECK_EQ(pstats().used, 0);
	CHECK_EQ(kstats().large_allocs, 0);

	/* out of memory: NULL, no panic */
	void *blocks[4];
	int n = 0;
	while (n < 4 && (blocks[n] = kmalloc(4 << 20)) != NULL)
		n++;
	CHECK_EQ(n, 3);                             /* the first 4 MiB holds the page metadata */
	while (n > 0)
		kfree(blocks[--n]);
	check_baseline();
}

/* Random mixed sizes; then everything freed returns page usage to baseline. */
TEST(random_back_to_baseline)
{
	enum { LIVE = 2000, OPS = 30000 };
	static struct { unsigned char *p; size_t size; unsigned char tag; } live[LIVE];
	uint64_t seed = 12345;
	int nlive = 0, damaged = 0;

	ram_setup();
	for (int op = 0; op < OPS; op++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;   /* LCG */
		uint64_t r = seed >> 33;
		if (nlive == 0 || (nlive < LIVE && r % 100 < 52)) {
			size_t size = r % 100 < 95 ? 1 + (r >> 8) % KMALLOC_MAX_SIZE : 1 + (r >> 8) % 20000;
			unsigned char *p = kmalloc(size);
			if (!p)
				continue;
			live[nlive].p = p;
			live[nlive].size = size;
			live[nlive].tag = (unsigned char)op;
			memset(p, (unsigned char)op, size);
			nlive++;
		} else {
			int i = (int)((r >> 8) % (uint64_t)nlive);
			for (size_t b = 0; b < live[i].size; b++)
				damaged += live[i].p[b] != live[i].tag;
			kfree(live[i].p);
			live[i] = live[--nlive];
		}
	}
	CHECK_EQ(damaged, 0);
	CHECK(pstats().used > 0);
	while (nlive > 0)
		kfree(live[--nlive].p);
	check_baseline();
}

TEST(bad_pointers_panic)
{
	int on_stack;

	ram_setup();
	kfree(NULL);
	unsigned char *a = kmalloc(64), *b = kmalloc(64), *c = kmalloc(16);
	UNIT_EXPECT_PANIC(kfree(a + 16));           /* not the start of an object */
	UNIT_EXPECT_PANIC(kfree(&on_stack));        /* not in RAM */
	UNIT_EXPECT_PANIC(kfree(ram));              /* page metadata: not a kmalloc page */
	paddr_t pg = page_alloc(0, 0);
	UNIT_EXPECT_PANIC(kfree(pa_to_va(pg)));     /* a page_alloc page */
	UNIT_EXPECT_PANIC(page_free(va_to_pa(a) & ~(PAGE_SIZE - 1), 0));   /* a slab, via page_free */
	page_free(pg, 0);
	UNIT_EXPECT_PANIC(kfree(pa_to_va(pg)));     /* a free page */

	kfree(a);
	UNIT_EXPECT_PANIC(kfree(a));                /* double free (magic + links) */
	kfree(c);
	UNIT_EXPECT_PANIC(kfree(c));                /* double free into an empty slab */

	unsigned char *big = kmalloc(3 * PAGE_SIZE);    /* an order-2 block */
	UNIT_EXPECT_PANIC(kfree(big + 16));
	UNIT_EXPECT_PANIC(kfree(big + PAGE_SIZE));
	UNIT_EXPECT_PANIC(page_free(va_to_pa(big), 2)); /* a kmalloc block, via page_free */
	kfree(big);
	UNIT_EXPECT_PANIC(kfree(big));

	/* nothing was left locked or half-done */
	kfree(b);
	check_baseline();
}

UNIT_TESTS(CASE(size_classes), CASE(objects_distinct_and_aligned), CASE(reuse_and_kzalloc),
	   CASE(large_allocations), CASE(random_back_to_baseline), CASE(bad_pointers_panic))
