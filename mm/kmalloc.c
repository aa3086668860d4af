/*
 * kmalloc: a small-object allocator on top of the page allocator.
 *
 * Size classes are the powers of two 16, 32, ..., 2048 (class c holds 16 << c bytes). A slab is one
 * page cut into objects of a single class; its struct page has slab_class = c + 1 and its refcount
 * field counts the page's live objects (slab pages are never shared, so the field is free for it).
 * Because slabs are page-aligned and sizes are powers of two, every object is aligned to its size.
 *
 * Each class has one list of free objects, all slabs mixed; the links (a struct list_head) live in
 * the free objects themselves, and objects of 32 bytes and up also carry FREE_MAGIC after the links
 * so a double kfree is caught. When a slab's last object is freed the slab is "empty": each class
 * keeps at most KEEP_EMPTY empty slab cached (to avoid page ping-pong) and gives the others back to
 * the page allocator, unlinking their objects from the free list first; kmalloc_shrink gives back
 * the cached ones too. So once everything is freed and shrunk, page usage is back to where it was.
 *
 * Requests above KMALLOC_MAX_SIZE get a block of the smallest order that fits straight from
 * page_alloc; its first struct page gets slab_class = SLAB_LARGE and keeps the order, so kfree
 * knows how to give it back.
 *
 * Locking: each class has a spinlock guarding its free list, nr_empty and its slabs' live counts.
 * The page allocator is called without it held. Statistics are atomic counters.
 */
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "lib/list.h"
#include "kernel/printk.h"
#include "kernel/assert.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

#define NCLASSES    8                       /* 16 .. 2048 */
#define SLAB_LARGE  0xff                    /* slab_class of a large (page-block) allocation */
#define KEEP_EMPTY  1                       /* empty slabs cached per class */
#define FREE_MAGIC  0x6b667265656f626aULL   /* in free objects of >= 32 bytes, after the links */
#define CACHE_LINE  64

_Static_assert(KMALLOC_MAX_SIZE == KMALLOC_MIN_SIZE << (NCLASSES - 1), "size classes");
_Static_assert(KMALLOC_MAX_SIZE < PAGE_SIZE, "a slab holds several objects");
_Static_assert(sizeof(struct list_head) <= KMALLOC_MIN_SIZE, "free objects hold their links");

struct free_obj {
	struct list_head link;
	uint64_t magic;                         /* only in classes of >= 32 bytes */
};

struct kclass {
	struct spinlock lock;
	struct list_head free;                  /* free objects of every slab of this class */
	unsigned nr_empty;                      /* slabs with no live object, <= KEEP_EMPTY */
} __aligned(CACHE_LINE);

#define KCLASS(c) { SPINLOCK_INIT("kmalloc"), LIST_HEAD_INIT(classes[c].free), 0 }
static struct kclass classes[NCLASSES] = {
	KCLASS(0), KCLASS(1), KCLASS(2), KCLASS(3), KCLASS(4), KCLASS(5), KCLASS(6), KCLASS(7),
};

static struct kmalloc_stats stats;

static inline void stat_add(uint64_t *ctr, int64_t v) { __atomic_fetch_add(ctr, v, __ATOMIC_RELAXED); }
static inline size_t class_size(unsigned c) { return (size_t)KMALLOC_MIN_SIZE << c; }
static inline bool has_magic(unsigned c) { return class_size(c) >= sizeof(struct free_obj); }

/* Class of a size in 1..KMALLOC_MAX_SIZE: the smallest c with class_size(c) >= size. */
static unsigned size_to_class(size_t size)
{
	unsigned c = 0;
	while (class_size(c) < size)            /* at most NCLASSES - 1 steps; no libgcc clz */
		c++;
	return c;
}

/* Smallest page order whose block holds size bytes; > PAGE_MAX_ORDER if none does. */
static unsigned size_to_order(size_t size)
{
	unsigned order = 0;
	while (order <= PAGE_MAX_ORDER && (PAGE_SIZE << order) < size)
		order++;
	return order;
}

size_t kmalloc_size_class(size_t size)
{
	if (size == 0)
		return 0;
	if (size <= KMALLOC_MAX_SIZE)
		return class_size(size_to_class(size));
	unsigned order = size_to_order(size);
	return order > PAGE_MAX_ORDER ? 0 : PAGE_SIZE << order;
}

static void *kmalloc_large(size_t size)
{
	unsigned order = size_to_order(size);
	if (order > PAGE_MAX_ORDER)
		return NULL;
	paddr_t pa = page_alloc(order, 0);
	if (!pa)
		return NULL;
	pa_to_page(pa)->slab_class = SLAB_LARGE;
	stat_add(&stats.large_allocs, 1);
	return pa_to_va(pa);
}

/* Put a new slab's objects on the class free list. The new slab counts as empty. */
static void slab_add_locked(struct kclass *kc, unsigned c, paddr_t pa)
{
	char *base = pa_to_va(pa);
	for (size_t off = 0; off + class_size(c) <= PAGE_SIZE; off += class_size(c)) {
		struct free_obj *o = (struct free_obj *)(base + off);
		list_add_tail(&o->link, &kc->free);
		if (has_magic(c))
			o->magic = FREE_MAGIC;
	}
	kc->nr_empty++;
}

/* Take an empty slab's objects (all free) off the class free list; the caller frees the page. */
static void slab_remove_locked(struct kclass *kc, unsigned c, paddr_t pa)
{
	char *base = pa_to_va(pa);
	for (size_t off = 0; off + class_size(c) <= PAGE_SIZE; off += class_size(c))
		list_del(&((struct free_obj *)(base + off))->link);
	kc->nr_empty--;
}

static void slab_free_page(paddr_t pa)
{
	pa_to_page(pa)->slab_class = 0;
	pa_to_page(pa)->refcount = 1;           /* back to "allocated, one owner" for page_free */
	page_free(pa, 0);
	stat_add(&stats.slab_pages, -1);
}

void *kmalloc(size_t size)
{
	if (size == 0)
		return NULL;
	if (size > KMALLOC_MAX_SIZE) {
		void *p = kmalloc_large(size);
		if (p)
			stat_add(&stats.allocs, 1);
		return p;
	}

	unsigned c = size_to_class(size);
	struct kclass *kc = &classes[c];
	spin_lock(&kc->lock);
	while (list_empty(&kc->free)) {
		spin_unlock(&kc->lock);
		paddr_t pa = page_alloc(0, 0);
		if (!pa)
			return NULL;
		struct page *pg = pa_to_page(pa);
		pg->slab_class = c + 1;
		pg->refcount = 0;                   /* live objects */
		stat_add(&stats.slab_pages, 1);
		spin_lock(&kc->lock);
		slab_add_locked(kc, c, pa);
	}
	struct free_obj *o = list_first_entry(&kc->free, struct free_obj, link);
	list_del(&o->link);
	if (has_magic(c))
		o->magic = 0;
	struct page *pg = pa_to_page(va_to_pa(o));
	if (pg->refcount++ == 0)
		kc->nr_empty--;
	spin_unlock(&kc->lock);
	stat_add(&stats.allocs, 1);
	return o;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

/* Is `l` a plausible free-list node of kc: its head, or inside RAM? */
static bool list_node_ok(const struct kclass *kc, const struct list_head *l)
{
	return l == &kc->free || pa_to_page(va_to_pa(l)) != NULL;
}

/* A free object (class with magic): the magic is there and its list neighbours point back at it. */
static bool looks_free(const struct kclass *kc, const struct free_obj *o)
{
	const struct list_head *n = o->link.next, *p = o->link.prev;
	return o->magic == FREE_MAGIC && list_node_ok(kc, n) && list_node_ok(kc, p) &&
	       n->prev == &o->link && p->next == &o->link;
}

void kfree(void *ptr)
{
	if (!ptr)
		return;
	paddr_t pa = va_to_pa(ptr);
	struct page *pg = pa_to_page(pa);

	/* Checks first, without locks: the page is the caller's while it holds a live object. */
	if (!pg || pg->slab_class == 0 || (pg->slab_class > NCLASSES && pg->slab_class != SLAB_LARGE))
		panic("kfree: %p is not a kmalloc object", ptr);
	if (pg->slab_class == SLAB_LARGE) {
		if (pa & (PAGE_SIZE - 1))
			panic("kfree: %p is inside a large kmalloc block", ptr);
		unsigned order = pg->order;
		pg->slab_class = 0;
		page_free(pa, order);
		stat_add(&stats.large_allocs, -1);
		stat_add(&stats.frees, 1);
		return;
	}
	unsigned c = pg->slab_class - 1;
	if (pa & (class_size(c) - 1))
		panic("kfree: %p is not the start of a %zu-byte object", ptr, class_size(c));

	struct kclass *kc = &classes[c];
	struct free_obj *o = ptr;
	paddr_t slab = ALIGN_DOWN(pa, PAGE_SIZE);
	bool release = false;
	spin_lock(&kc->lock);
	if (pg->refcount == 0 || (has_magic(c) && looks_free(kc, o))) {
		spin_unlock(&kc->lock);
		panic("kfree: double free of %p (%zu-byte object)", ptr, class_size(c));
	}
	list_add(&o->link, &kc->free);          /* LIFO: the next kmalloc reuses the hot object */
	if (has_magic(c))
		o->magic = FREE_MAGIC;
	if (--pg->refcount == 0) {
		kc->nr_empty++;
		if (kc->nr_empty > KEEP_EMPTY) {
			slab_remove_locked(kc, c, slab);
			release = true;
		}
	}
	spin_unlock(&kc->lock);
	if (release)
		slab_free_page(slab);
	stat_add(&stats.frees, 1);
}

void kmalloc_shrink(void)
{
	for (unsigned c = 0; c < NCLASSES; c++) {
		struct kclass *kc = &classes[c];
		for (;;) {
			paddr_t slab = 0;
			struct list_head *l;
			spin_lock(&kc->lock);
			if (kc->nr_empty > 0) {
				list_for_each(l, &kc->free) {
					paddr_t pa = ALIGN_DOWN(va_to_pa(l), PAGE_SIZE);
					if (pa_to_page(pa)->refcount == 0) {
						slab = pa;
						break;
					}
				}
				BUG_ON(!slab);               /* nr_empty > 0 means an empty slab is listed */
				slab_remove_locked(kc, c, slab);
			}
			spin_unlock(&kc->lock);
			if (!slab)
				break;
			slab_free_page(slab);
		}
	}
}

void kmalloc_get_stats(struct kmalloc_stats *st)
{
	st->allocs = __atomic_load_n(&stats.allocs, __ATOMIC_RELAXED);
	st->frees = __atomic_load_n(&stats.frees, __ATOMIC_RELAXED);
	st->slab_pages = __atomic_load_n(&stats.slab_pages, __ATOMIC_RELAXED);
	st->large_allocs = __atomic_load_n(&stats.large_allocs, __ATOMIC_RELAXED);
}
