/*
 * Page index of a disk file's mapped pages (ext4's MAP_SHARED mappings, issue 12).
 *
 * Theory. A disk file system reads and writes through its own library and the block layer; it
 * keeps no copy of file data in pages of its own. A shared mapping needs one: every MAP_SHARED
 * mapping of the file (in one process or many, after fork too) must map the same physical page,
 * so a store through one is seen by all. So each regular file gets an index of pages keyed by page
 * offset (a sorted array: mappings fault mostly in order, so an insert is mostly an append and a
 * lookup a binary search). A page enters at its first fault (file_get_page -> pcache_get_page),
 * filled from the file system (holes read as zeros, the bytes past EOF in the last page too), and
 * stays until the file shrinks past it or the inode is evicted; the index holds one reference on
 * it, every mapping (PTE) one more. Private mappings map the same page read-only and copy it at
 * their first write (mm/uvm.c), so MAP_PRIVATE stays copy-on-write and programs share their text.
 * Pages at or beyond EOF are not given out (-ENXIO: the fault is SIGBUS, as on Linux).
 *
 * Coherence with read() and write(): the file system stays the truth for every byte that has no
 * cached page, and the cached page is the truth for the bytes it holds. So
 *   - write() writes to the file system AND copies into the cached pages it covers (write-through),
 *     under pc->io, so a page being filled never misses a write nor gets stale bytes;
 *   - read() reads from the file system and then lays the cached pages' bytes over what it read
 *     (they may hold stores through a mapping not yet written back), under pc->io as well; a read
 *     of a file with no cached page at all skips the lock (a page filled meanwhile holds what the
 *     file system has, and a store into it is concurrent with this read anyway).
 * That costs a copy per write of a mapped range and nothing for files nobody maps, and needs no
 * second cache of file data (the block layer keeps metadata only).
 *
 * Dirty tracking: the MMU's dirty bits are not used (Ember sets PTE_D on every mapping), and
 * writeback does not write-protect mapped pages to catch the next store (Linux's page_mkclean).
 * Instead a page may be dirty exactly while the inode has a writable shared mapping
 * (inode->mmap_writers, kept by mm/uvm.c) or had one since the last writeback (mm/uvm.c sets
 * inode->mmap_dirty whenever a writable shared VMA goes away or loses PROT_WRITE). Writeback then
 * writes every cached page, each clamped to the file size: a store past EOF in the last page never
 * reaches the disk and never changes the size. It runs at msync (MS_SYNC and MS_ASYNC), fsync and
 * fdatasync, munmap (or exit) of the last writable mapping and of any shared mapping while stores
 * are unwritten (mmap_dirty), sync/syncfs and the periodic writeback thread (fs/writeback.c), and
 * at evict (the last reference: file closed, no VMA left; by then only a failed writeback leaves
 * anything, see ext4_vfs.c's known window). The cost is that
 * a file kept mapped writable is rewritten whole at each of those (its journal absorbs it); the
 * gain is that no store can be missed.
 *
 * Truncation drops the pages wholly past the new size and zeroes the tail of the page holding the
 * new (or, growing, the old) size. The file system first publishes the new size and has
 * mm/rmap.c unmap those pages from every mapping (private copies too), as Linux does, so a
 * process that still maps one gets SIGBUS at its next access; the page holding EOF stays mapped.
 *
 * Locks: inode->rw -> pc->io (sleeplock: fills, write-through, overlays, writeback, truncation,
 * so each of them sees the file system and the pages in one state) -> the file system's lock
 * (ops->fill/store) -> pc->lock (spinlock: the array, for lookups, which run under mm->lock in
 * fault-around and so may not sleep). No user copy happens under pc->io (a copy may fault on a
 * mapping of this very file, and that fault takes pc->io).
 */
#include "fs/pcache.h"
#include "fs/fs.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "lib/string.h"

#define PCACHE_MIN_CAP 8

void pcache_init(struct pcache *pc, const struct pcache_ops *ops)
{
	memset(pc, 0, sizeof(*pc));
	sleeplock_init(&pc->io, "pcache");
	spin_init(&pc->lock, "pcache");
	pc->ops = ops;
}

void pcache_destroy(struct pcache *pc)
{
	for (uint32_t i = 0; i < pc->n; i++)
		page_put(pc->ents[i].pa);
	kfree(pc->ents);
	pc->ents = NULL;
	pc->n = pc->cap = 0;
}

bool pcache_empty(struct pcache *pc) { return READ_ONCE(pc->n) == 0; }

void pcache_lock(struct pcache *pc) { sleep_lock(&pc->io); }
void pcache_unlock(struct pcache *pc) { sleep_unlock(&pc->io); }

/* The first entry with idx >= want (n if none). pc->lock or pc->io held. */
static uint32_t lower_bound(struct pcache *pc, uint64_t want)
{
	uint32_t lo = 0, hi = pc->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pc->ents[mid].idx < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The cached page of idx, 0 if none. pc->lock or pc->io held. */
static paddr_t lookup(struct pcache *pc, uint64_t idx)
{
	uint32_t i = lower_bound(pc, idx);
	return i < pc->n && pc->ents[i].idx == idx ? pc->ents[i].pa : 0;
}

static uint64_t pages_of(uint64_t size) { return (size + PAGE_SIZE - 1) / PAGE_SIZE; }

static uint64_t isize(struct inode *ino)
{
	spin_lock(&ino->lock);
	uint64_t s = ino->size;
	spin_unlock(&ino->lock);
	return s;
}

/* Adds (idx, pa), idx absent. pc->io held. -ENOMEM when the array cannot grow. */
static int insert(struct pcache *pc, uint64_t idx, paddr_t pa)
{
	struct pcache_ent *grown = NULL, *old = NULL;
	if (pc->n == pc->cap) {
		uint32_t cap = pc->cap ? pc->cap * 2 : PCACHE_MIN_CAP;
		if (!(grown = kmalloc(cap * sizeof(*grown))))
			return -ENOMEM;
		if (pc->n)
			memcpy(grown, pc->ents, pc->n * sizeof(*grown));
		spin_lock(&pc->lock);
		old = pc->ents;
		pc->ents = grown;
		pc->cap = cap;
		spin_unlock(&pc->lock);
		kfree(old);
	}
	spin_lock(&pc->lock);
	uint32_t i = lower_bound(pc, idx);
	memmove(&pc->ents[i + 1], &pc->ents[i], (pc->n - i) * sizeof(pc->ents[0]));
	pc->ents[i] = (struct pcache_ent){ idx, pa };
	WRITE_ONCE(pc->n, pc->n + 1);
	spin_unlock(&pc->lock);
	return 0;
}

int pcache_find_page(struct pcache *pc, struct inode *ino, uint64_t pgoff, paddr_t *pa)
{
	if (pgoff >= pages_of(isize(ino)))
		return -ENXIO;
	spin_lock(&pc->lock);
	paddr_t p = lookup(pc, pgoff);
	if (p)
		page_get(p);
	spin_unlock(&pc->lock);
	if (!p)
		return -ENOENT;
	*pa = p;
	return 0;
}

int pcache_get_page(struct pcache *pc, struct inode *ino, uint64_t pgoff, paddr_t *pa)
{
	int r = pcache_find_page(pc, ino, pgoff, pa);
	if (r != -ENOENT)
		return r;
	sleep_lock(&pc->io);
	uint64_t size = isize(ino);
	paddr_t p = lookup(pc, pgoff);               /* filled by someone else meanwhile? */
	if (p) {
		page_get(p);
		r = 0;
	} else if (pgoff >= pages_of(size)) {
		r = -ENXIO;                          /* truncated meanwhile */
	} else if (!(p = page_alloc(0, PAGE_ZERO))) {
		r = -ENOMEM;
	} else {
		uint64_t off = pgoff * PAGE_SIZE;
		long got = pc->ops->fill(ino, off, pa_to_va(p), MIN((uint64_t)PAGE_SIZE, size - off));
		r = got < 0 ? (int)got : insert(pc, pgoff, p);
		if (r == 0)
			page_get(p);                 /* the caller's; the index keeps the first */
		else
			page_put(p);
	}
	sleep_unlock(&pc->io);
	if (r == 0)
		*pa = p;
	return r;
}

/* Calls fn on the part of every cached page inside [pos, pos + n): the page's bytes at page_off,
 * the buffer's at buf_off, len bytes. pc->io held (the array does not change). */
static void each_overlap(struct pcache *pc, uint64_t pos, size_t n,
			 void (*fn)(char *page, size_t page_off, size_t buf_off, size_t len, void *arg), void *arg)
{
	if (!n)
		return;
	uint64_t end = pos + n;
	for (uint32_t i = lower_bound(pc, pos / PAGE_SIZE); i < pc->n; i++) {
		uint64_t lo = pc->ents[i].idx * PAGE_SIZE, hi = lo + PAGE_SIZE;
		if (lo >= end)
			break;
		uint64_t a = MAX(lo, pos), b = MIN(hi, end);
		fn(pa_to_va(pc->ents[i].pa), a - lo, a - pos, b - a, arg);
	}
}

static void overlay_one(char *page, size_t page_off, size_t buf_off, size_t len, void *arg)
{
	memcpy((char *)arg + buf_off, page + page_off, len);
}

static void through_one(char *page, size_t page_off, size_t buf_off, size_t len, void *arg)
{
	memcpy(page + page_off, (const char *)arg + buf_off, len);
}

void pcache_overlay(struct pcache *pc, uint64_t pos, void *buf, size_t n)
{
	each_overlap(pc, pos, n, overlay_one, buf);
}

void pcache_write_through(struct pcache *pc, uint64_t pos, const void *src, size_t n)
{
	each_overlap(pc, pos, n, through_one, (void *)src);
}

void pcache_resize(struct pcache *pc, uint64_t old, uint64_t new)
{
	uint64_t keep = pages_of(new);
	paddr_t *drop = NULL;
	uint32_t ndrop = 0;
	spin_lock(&pc->lock);
	uint32_t i = lower_bound(pc, keep);
	if (i < pc->n) {
		/* the dropped pages are put after the unlock (page_put takes the allocator's locks,
		 * which is allowed, but keep the spinlock short); they are moved to the array's tail */
		ndrop = pc->n - i;
		drop = kmalloc(ndrop * sizeof(*drop));
		if (drop) {
			for (uint32_t k = 0; k < ndrop; k++)
				drop[k] = pc->ents[i + k].pa;
			WRITE_ONCE(pc->n, i);
		}
	}
	spin_unlock(&pc->lock);
	if (ndrop && !drop) {                        /* no memory for the list: one at a time */
		spin_lock(&pc->lock);
		while (pc->n > i) {
			paddr_t p = pc->ents[pc->n - 1].pa;
			WRITE_ONCE(pc->n, pc->n - 1);
			page_put(p);
		}
		spin_unlock(&pc->lock);
	}
	for (uint32_t k = 0; drop && k < ndrop; k++)
		page_put(drop[k]);
	kfree(drop);
	uint64_t at = MIN(old, new);
	paddr_t tail = at % PAGE_SIZE ? lookup(pc, at / PAGE_SIZE) : 0;
	if (tail)
		memset((char *)pa_to_va(tail) + at % PAGE_SIZE, 0, PAGE_SIZE - at % PAGE_SIZE);
}

bool pcache_dirty(struct pcache *pc, struct inode *ino)
{
	return !pcache_empty(pc) && (READ_ONCE(ino->mmap_writers) || READ_ONCE(ino->mmap_dirty));
}

int pcache_writeback(struct pcache *pc, struct inode *ino)
{
	if (pcache_empty(pc))
		return 0;
	int err = 0;
	sleep_lock(&pc->io);
	/* cleared first: a writable mapping that goes away during the writeback sets it again */
	bool had = __atomic_exchange_n(&ino->mmap_dirty, 0, __ATOMIC_ACQ_REL);
	if (had || __atomic_load_n(&ino->mmap_writers, __ATOMIC_ACQUIRE)) {
		uint64_t size = isize(ino);
		for (uint32_t i = 0; i < pc->n; i++) {
			uint64_t off = pc->ents[i].idx * PAGE_SIZE;
			if (off >= size)
				break;
			size_t len = MIN((uint64_t)PAGE_SIZE, size - off);
			long w = pc->ops->store(ino, off, pa_to_va(pc->ents[i].pa), len);
			if (w >= 0 && (size_t)w != len)
				w = -EIO;
			if (w < 0 && !err)
				err = (int)w;
		}
		if (err)
			WRITE_ONCE(ino->mmap_dirty, 1);      /* try again at the next writeback */
	}
	sleep_unlock(&pc->io);
	return err;
}
