/*
 * Physical page allocator.
 *
 * Buddy system. Memory is handed out in blocks of 2^order pages, 0 <= order <= PAGE_MAX_ORDER, and a
 * block of order k always starts at a physical address that is a multiple of its size. Its "buddy"
 * is the other half of the order-(k+1) block containing it: pa ^ (PAGE_SIZE << k). Allocation takes
 * a block from the smallest non-empty free list of order >= k and splits it, putting the unused upper
 * halves back on the lower lists. Freeing merges a block with its buddy for as long as the buddy is
 * a free block of the same order, so after everything is freed, RAM is back in maximal blocks.
 *
 * Metadata. `pages[]` holds one 8-byte struct page per page of RAM, carved from RAM at boot.
 * Invariants (changed only under `lock`, except for the PG_PCP bit, see below):
 *   - every page of a free buddy block has PG_BUDDY; its first page has order = k, the others
 *     PAGE_ORDER_NONE. So "b is a free block of order k" is (b->flags & PG_BUDDY) && b->order == k,
 *     and a double free of any page of a free block is caught, even after it has been merged.
 *   - an allocated block likewise has order = k on its first page, PAGE_ORDER_NONE on the rest, so
 *     page_free can check the order it is given.
 *   - reserved pages (all of them after page_setup until page_free_range) have PG_RESERVED.
 * The free-list links are a struct list_head stored in the first bytes of each free block itself,
 * reached through the direct map (pa_to_va), so struct page needs no pointers.
 *
 * Per-CPU caches. Most allocations are single pages, so each CPU keeps a small stack of free
 * order-0 pages (pcp) that it allocates from and frees to without the global lock. It is touched
 * only by its own CPU with interrupts off (irq_push_off), so it needs no lock. An empty cache is
 * refilled with PCP_BATCH pages in one trip under the lock; a full one (PCP_HIGH pages) gives its
 * PCP_BATCH oldest pages back in one trip. Cached pages are free but not on the buddy lists: they
 * carry PG_PCP (set/cleared by the owning CPU) and are not merged until drained. A failing
 * higher-order allocation drains its own CPU's cache and retries; pages cached on other CPUs (at
 * most PCP_HIGH each) stay out of reach, so page_alloc can fail with a few of them still free.
 *
 * Lock. One spinlock guards the buddy free lists, nr_free, nr_reserved and the PG_BUDDY / order
 * fields of free blocks. Checks that only read the caller's own (allocated) pages run unlocked, so
 * a detected misuse panics without holding the lock.
 *
 * Pages that held code. A page that was mapped executable in user space (PG_EXEC, set by mm/uvm.c
 * when it installs such a mapping) is zeroed when its block is freed. On QEMU (TCG) a page whose
 * instructions were translated keeps its translations until every one of them is overwritten: until
 * then every store to that page, at any offset, takes the emulator's slow path (it looks for
 * translations to invalidate). Reused as a slab or a socket buffer, a former text page with a few
 * stale translations made every store to the kernel objects in it cost that: the contest's
 * iperf3 TCP at -smp 1 ran at 0.4-0.7 Gbit/s instead of 2.5-4 after the busybox group had run
 * (QEMU's page_collection_lock was its top function). Zeroing the whole page once, when it is
 * freed, overwrites every translation on it. On hardware it only costs the memset.
 *
 * Counters. nr_free counts pages on the buddy lists, pcp[i].count those in each cache; the free
 * count in page_get_stats is their sum. nr_reserved counts PG_RESERVED pages; used is the rest.
 */
#include "mm/page.h"
#include "kernel/cpu.h"
#include "lib/list.h"
#include "kernel/printk.h"
#include "kernel/assert.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

#define PCP_HIGH  64        /* most pages a per-CPU cache holds */
#define PCP_BATCH 16        /* pages moved per refill / drain */
#define CACHE_LINE 64

struct pcp {
	unsigned count;
	paddr_t pages[PCP_HIGH];    /* stack: pages[count - 1] is the most recently freed (hottest) */
} __aligned(CACHE_LINE);

static struct spinlock lock = SPINLOCK_INIT("page");
static struct list_head free_area[PAGE_MAX_ORDER + 1];  /* free blocks of each order */
static uint64_t nr_free;          /* pages on the buddy lists */
static uint64_t nr_reserved;
static struct pcp pcps[NCPU];

static struct page *pages;        /* metadata for [ram_start, ram_end) */
static paddr_t ram_start, ram_end;
static uint64_t nr_pages;

static inline uint64_t block_size(unsigned order) { return PAGE_SIZE << order; }
static inline struct list_head *block_link(paddr_t pa) { return pa_to_va(pa); }

struct page *pa_to_page(paddr_t pa)
{
	if (pa < ram_start || pa >= ram_end)
		return NULL;
	return &pages[(pa - ram_start) >> PAGE_SHIFT];
}

paddr_t page_to_pa(const struct page *pg)
{
	return ram_start + ((paddr_t)(pg - pages) << PAGE_SHIFT);
}

void page_setup(paddr_t start, paddr_t end, paddr_t *free_start)
{
	ram_start = ALIGN_UP(start, PAGE_SIZE);
	ram_end = ALIGN_DOWN(end, PAGE_SIZE);
	BUG_ON(ram_end <= ram_start);
	nr_pages = (ram_end - ram_start) >> PAGE_SHIFT;

	paddr_t meta = ALIGN_UP(*free_start, sizeof(struct page));
	paddr_t meta_end = meta + nr_pages * sizeof(struct page);
	if (meta < ram_start || meta_end > ram_end)
		panic("page_setup: no room for %lu page structs at %#lx", (unsigned long)nr_pages,
		      (unsigned long)meta);
	pages = pa_to_va(meta);
	*free_start = ALIGN_UP(meta_end, PAGE_SIZE);

	for (uint64_t i = 0; i < nr_pages; i++)
		pages[i] = (struct page){ .order = PAGE_ORDER_NONE, .flags = PG_RESERVED };
	for (unsigned k = 0; k <= PAGE_MAX_ORDER; k++)
		list_init(&free_area[k]);
	for (int i = 0; i < NCPU; i++)
		pcps[i].count = 0;
	nr_free = 0;
	nr_reserved = nr_pages;
	spin_init(&lock, "page");
}

/* Put a block on the buddy lists, merging with free buddies. Its pages must not be free. */
static void buddy_free_locked(paddr_t pa, unsigned order)
{
	struct page *pg = pa_to_page(pa);

	for (uint64_t i = 0; i < (1UL << order); i++)
		pg[i].flags |= PG_BUDDY;
	nr_free += 1UL << order;

	while (order < PAGE_MAX_ORDER) {
		paddr_t bpa = pa ^ block_size(order);
		struct page *b = pa_to_page(bpa);
		if (!b || !(b->flags & PG_BUDDY) || b->order != order)
			break;
		list_del(block_link(bpa));
		b->order = PAGE_ORDER_NONE;          /* both halves lose their heads... */
		pa_to_page(pa)->order = PAGE_ORDER_NONE;
		pa = MIN(pa, bpa);                    /* ...and the lower one heads the merged block */
		order++;
	}
	pa_to_page(pa)->order = order;
	list_add(block_link(pa), &free_area[order]);
}

/* Take a block of exactly `order` from the buddy lists, splitting a larger one if needed. 0 if none. */
static paddr_t buddy_alloc_locked(unsigned order)
{
	unsigned k = order;
	while (k <= PAGE_MAX_ORDER && list_empty(&free_area[k]))
		k++;
	if (k > PAGE_MAX_ORDER)
		return 0;

	struct list_head *l = free_area[k].next;
	list_del(l);
	paddr_t pa = va_to_pa(l);
	while (k > order) {                       /* give back the upper halves */
		k--;
		paddr_t half = pa + block_size(k);
		pa_to_page(half)->order = k;
		list_add(block_link(half), &free_area[k]);
	}

	struct page *pg = pa_to_page(pa);
	pg->order = order;
	for (uint64_t i = 0; i < (1UL << order); i++)
		pg[i].flags &= ~PG_BUDDY;
	nr_free -= 1UL << order;
	return pa;
}

/* Give the `n` oldest pages of a cache back to the buddy lists. Interrupts off, on c's CPU. */
static void pcp_drain(struct pcp *c, unsigned n)
{
	n = MIN(n, c->count);
	spin_lock(&lock);
	for (unsigned i = 0; i < n; i++) {
		pa_to_page(c->pages[i])->flags &= ~PG_PCP;
		buddy_free_locked(c->pages[i], 0);
	}
	spin_unlock(&lock);
	c->count -= n;
	memmove(c->pages, c->pages + n, c->count * sizeof(c->pages[0]));
}

static void pcp_drain_this_cpu(void)
{
	irq_push_off();
	struct pcp *c = &pcps[cpu_id()];
	pcp_drain(c, c->count);
	irq_pop_off();
}

static paddr_t pcp_alloc(void)
{
	paddr_t pa = 0;

	irq_push_off();
	struct pcp *c = &pcps[cpu_id()];
	if (c->count == 0) {
		spin_lock(&lock);
		while (c->count < PCP_BATCH && (pa = buddy_alloc_locked(0)) != 0) {
			pa_to_page(pa)->flags |= PG_PCP;
			c->pages[c->count++] = pa;
		}
		spin_unlock(&lock);
	}
	pa = 0;
	if (c->count > 0) {
		pa = c->pages[--c->count];
		pa_to_page(pa)->flags &= ~PG_PCP;
	}
	irq_pop_off();
	return pa;
}

static void pcp_free(paddr_t pa)
{
	irq_push_off();
	struct pcp *c = &pcps[cpu_id()];
	if (c->count == PCP_HIGH)
		pcp_drain(c, PCP_BATCH);
	pa_to_page(pa)->flags |= PG_PCP;
	c->pages[c->count++] = pa;
	irq_pop_off();
}

paddr_t page_alloc(unsigned order, int flags)
{
	paddr_t pa;

	if (order > PAGE_MAX_ORDER)
		return 0;
	if (order == 0) {
		pa = pcp_alloc();
	} else {
		spin_lock(&lock);
		pa = buddy_alloc_locked(order);
		spin_unlock(&lock);
		if (!pa) {
			/* This CPU's cached pages may complete a block: give them back and retry once. */
			pcp_drain_this_cpu();
			spin_lock(&lock);
			pa = buddy_alloc_locked(order);
			spin_unlock(&lock);
		}
	}
	if (!pa)
		return 0;

	struct page *pg = pa_to_page(pa);
	pg->refcount = 1;
	pg->slab_class = 0;
	if (flags & PAGE_ZERO)
		memset(pa_to_va(pa), 0, block_size(order));
	return pa;
}

/*
 * Check that [pa, pa + 2^order pages) is an allocated block the caller may free. Reads only the
 * caller's own pages, so no lock; a misuse panics before any lock is taken.
 */
static struct page *check_block(paddr_t pa, unsigned order, const char *who)
{
	struct page *pg = pa_to_page(pa);

	if (order > PAGE_MAX_ORDER || !pg || pa + block_size(order) > ram_end)
		panic("%s: bad address %#lx order %u (RAM is %#lx-%#lx)", who, (unsigned long)pa, order,
		      (unsigned long)ram_start, (unsigned long)ram_end);
	if (pa & (block_size(order) - 1))
		panic("%s: %#lx is not aligned for order %u", who, (unsigned long)pa, order);
	for (uint64_t i = 0; i < (1UL << order); i++) {
		if (pg[i].flags & PG_FREE)
			panic("%s: double free of page %#lx (order %u block %#lx)", who,
			      (unsigned long)(pa + i * PAGE_SIZE), order, (unsigned long)pa);
		if (pg[i].flags & PG_RESERVED)
			panic("%s: page %#lx is reserved", who, (unsigned long)(pa + i * PAGE_SIZE));
	}
	if (pg->order == PAGE_ORDER_NONE)
		panic("%s: %#lx is inside an allocated block, not its start", who, (unsigned long)pa);
	if (pg->order != order)
		panic("%s: %#lx freed as order %u but allocated as order %u", who, (unsigned long)pa,
		      order, pg->order);
	if (pg->slab_class)
		panic("%s: %#lx is a kmalloc page (slab class %u)", who, (unsigned long)pa, pg->slab_class);
	return pg;
}

/* The block [pa, 2^order pages) is being freed: zero the pages that held code ("Pages that held
 * code"). Its owner is done with it, so nobody else touches the flags. */
static void scrub_exec(paddr_t pa, unsigned order)
{
	struct page *pg = pa_to_page(pa);
	for (uint64_t i = 0; i < (1UL << order); i++) {
		if (pg[i].flags & PG_EXEC) {
			pg[i].flags &= ~PG_EXEC;
			memset(pa_to_va(pa + i * PAGE_SIZE), 0, PAGE_SIZE);
		}
	}
}

/* Only PG_EXEC changes in an allocated page's flags, so racing markers (two address spaces faulting
 * one page cache page in) store the same byte: a plain byte store is enough. */
void page_mark_exec(paddr_t pa)
{
	struct page *pg = pa_to_page(pa);
	uint8_t f = pg ? __atomic_load_n(&pg->flags, __ATOMIC_RELAXED) : PG_EXEC;
	if (!(f & PG_EXEC))
		__atomic_store_n(&pg->flags, (uint8_t)(f | PG_EXEC), __ATOMIC_RELAXED);
}

/* Return a checked block with refcount 0 to the allocator. */
static void release_block(paddr_t pa, unsigned order)
{
	scrub_exec(pa, order);
	if (order == 0) {
		pcp_free(pa);
		return;
	}
	spin_lock(&lock);
	buddy_free_locked(pa, order);
	spin_unlock(&lock);
}

void page_free(paddr_t pa, unsigned order)
{
	struct page *pg = check_block(pa, order, "page_free");
	if (pg->refcount > 1)
		panic("page_free: %#lx is still shared (refcount %u); use page_put", (unsigned long)pa,
		      pg->refcount);
	pg->refcount = 0;
	release_block(pa, order);
}

void page_free_range(paddr_t start, paddr_t end)
{
	start = MAX(ALIGN_UP(start, PAGE_SIZE), ram_start);
	end = MIN(ALIGN_DOWN(end, PAGE_SIZE), ram_end);

	spin_lock(&lock);
	while (start < end) {
		/* the largest naturally aligned block that starts here and fits */
		unsigned order = 0;
		while (order < PAGE_MAX_ORDER && !(start & (block_size(order + 1) - 1)) &&
		       start + block_size(order + 1) <= end)
			order++;
		struct page *pg = pa_to_page(start);
		for (uint64_t i = 0; i < (1UL << order); i++) {
			if (!(pg[i].flags & PG_RESERVED)) {
				spin_unlock(&lock);
				panic("page_free_range: page %#lx is not reserved",
				      (unsigned long)(start + i * PAGE_SIZE));
			}
			pg[i].flags &= ~PG_RESERVED;
		}
		nr_reserved -= 1UL << order;
		buddy_free_locked(start, order);
		start += block_size(order);
	}
	spin_unlock(&lock);
}

void *alloc_pages(unsigned order, int flags)
{
	paddr_t pa = page_alloc(order, flags);
	return pa ? pa_to_va(pa) : NULL;
}

void free_pages(void *va, unsigned order)
{
	if (va)
		page_free(va_to_pa(va), order);
}

static struct page *check_allocated(paddr_t pa, const char *who)
{
	struct page *pg = pa_to_page(pa);
	if (!pg || (pg->flags & (PG_FREE | PG_RESERVED)) || pg->order == PAGE_ORDER_NONE)
		panic("%s: %#lx is not an allocated block", who, (unsigned long)pa);
	return pg;
}

void page_get(paddr_t pa)
{
	struct page *pg = check_allocated(pa, "page_get");
	__atomic_fetch_add(&pg->refcount, 1, __ATOMIC_RELAXED);
}

bool page_put(paddr_t pa)
{
	struct page *pg = check_allocated(pa, "page_put");
	uint32_t old = __atomic_fetch_sub(&pg->refcount, 1, __ATOMIC_ACQ_REL);
	if (old == 0)
		panic("page_put: %#lx has refcount 0", (unsigned long)pa);
	if (old > 1)
		return false;
	unsigned order = pg->order;
	check_block(pa, order, "page_put");
	release_block(pa, order);
	return true;
}

void page_get_stats(struct page_stats *st)
{
	uint64_t cached = 0;

	spin_lock(&lock);
	for (int i = 0; i < NCPU; i++)
		cached += READ_ONCE(pcps[i].count);
	st->total = nr_pages;
	st->reserved = nr_reserved;
	st->cached = cached;
	st->free = nr_free + cached;
	spin_unlock(&lock);
	st->used = st->total - st->free - st->reserved;
}

void page_drain_cpu_cache(int cpu)
{
	BUG_ON(cpu < 0 || cpu >= NCPU);
	irq_push_off();
	BUG_ON(cpu != cpu_id() && cpus[cpu].online);   /* a running CPU owns its cache */
	pcp_drain(&pcps[cpu], pcps[cpu].count);
	irq_pop_off();
}
