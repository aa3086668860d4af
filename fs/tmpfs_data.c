/*
 * tmpfs regular files: contents live in whole pages found through a radix tree of page-sized
 * nodes (TREE_FANOUT physical addresses each), so a file grows to any size without a large
 * contiguous allocation and a sparse file costs only the pages written.
 *
 * The tree has a height h: a tree of height h covers TREE_FANOUT^h pages. Height 0 means the root
 * slot holds the data page of index 0 itself (small files need no node at all); each extra level
 * puts a node above the old root. A zero slot is a hole (reads as zeros; a page is allocated when
 * written or mapped). Data pages are refcounted (page_get/page_put) so a mapped or in-flight page
 * survives truncation; nodes belong to the tree alone.
 *
 * Pages are allocated (and so charged) when first written or faulted in, never at truncate; a
 * write that finds no memory asks the OOM policy (mm/oom.c) and retries before it is ENOSPC.
 *
 * Locks: inode->lock (spinlock) guards size, the tree and the times; it is held only to find or
 * allocate a page and take a reference, never across a user copy (a copy may fault on a mapping
 * of this very file, and the fault handler calls file_get_page). inode->rw (sleeplock) serializes
 * writers and truncation, so appends and extending writes are atomic with respect to each other.
 */
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "kernel/errno.h"
#include "mm/oom.h"
#include "mm/page.h"
#include "mm/rmap.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define TREE_SHIFT 9
#define TREE_FANOUT (1UL << TREE_SHIFT)       /* PAGE_SIZE / sizeof(paddr_t) */
#define TREE_MAX_HEIGHT 4                     /* 512^4 pages = 2^48 bytes >= TMPFS_MAX_SIZE */
#define WRITE_OOM_RETRIES 16                  /* rounds of mm/oom.c one page of a write may ask for */

static paddr_t *node_slots(paddr_t node) { return pa_to_va(node); }

/* The slot for page idx, growing the tree and allocating nodes if create (lock held).
 * NULL: absent (create false) or out of memory (create true). */
static paddr_t *tree_slot(struct inode *ino, uint64_t idx, bool create)
{
	while (TMPFS_I(ino)->reg.height < TREE_MAX_HEIGHT && (idx >> (TREE_SHIFT * TMPFS_I(ino)->reg.height)) != 0) {
		if (!create)
			return NULL;
		if (TMPFS_I(ino)->reg.root) {
			paddr_t n = page_alloc(0, PAGE_ZERO);
			if (!n)
				return NULL;
			node_slots(n)[0] = TMPFS_I(ino)->reg.root;
			TMPFS_I(ino)->reg.root = n;
		}
		TMPFS_I(ino)->reg.height++;
	}
	if ((idx >> (TREE_SHIFT * TMPFS_I(ino)->reg.height)) != 0)
		return NULL;
	paddr_t *slot = &TMPFS_I(ino)->reg.root;
	for (int h = TMPFS_I(ino)->reg.height; h > 0; h--) {
		if (!*slot) {
			if (!create || !(*slot = page_alloc(0, PAGE_ZERO)))
				return NULL;
		}
		slot = &node_slots(*slot)[(idx >> (TREE_SHIFT * (h - 1))) & (TREE_FANOUT - 1)];
	}
	return slot;
}

/* The data page for idx with a reference taken, 0 for a hole (or no memory when create).
 * ino->lock held. */
static paddr_t page_ref_locked(struct inode *ino, uint64_t idx, bool create)
{
	paddr_t pa = 0;
	paddr_t *slot = tree_slot(ino, idx, create);
	if (slot && !*slot && create && (*slot = page_alloc(0, PAGE_ZERO))) {
		TMPFS_I(ino)->reg.pages++;
		ino->blocks = TMPFS_I(ino)->reg.pages * (PAGE_SIZE / 512);
	}
	if (slot && *slot) {
		pa = *slot;
		page_get(pa);
	}
	return pa;
}

static paddr_t page_ref(struct inode *ino, uint64_t idx, bool create)
{
	spin_lock(&ino->lock);
	paddr_t pa = page_ref_locked(ino, idx, create);
	spin_unlock(&ino->lock);
	return pa;
}

/* Drops every data page with index >= from below *slot (a subtree of height h whose first page
 * is base) and frees nodes left empty. */
static void tree_trim(struct inode *ino, paddr_t *slot, int h, uint64_t base, uint64_t from)
{
	if (!*slot)
		return;
	uint64_t span = 1ULL << (TREE_SHIFT * h);
	if (base + span <= from)
		return;
	if (h == 0) {
		page_put(*slot);
		*slot = 0;
		TMPFS_I(ino)->reg.pages--;
		ino->blocks = TMPFS_I(ino)->reg.pages * (PAGE_SIZE / 512);
		return;
	}
	paddr_t *n = node_slots(*slot);
	uint64_t child = span >> TREE_SHIFT;
	bool empty = true;
	for (uint64_t i = 0; i < TREE_FANOUT; i++) {
		if (base + (i + 1) * child > from)
			tree_trim(ino, &n[i], h - 1, base + i * child, from);
		if (n[i])
			empty = false;
	}
	if (empty) {
		page_free(*slot, 0);
		*slot = 0;
	}
}

void tmpfs_free_data(struct inode *ino)
{
	tree_trim(ino, &TMPFS_I(ino)->reg.root, TMPFS_I(ino)->reg.height, 0, 0);
	TMPFS_I(ino)->reg.height = 0;
}

static int copy_out(void *dst, const void *src, size_t n, bool user)
{
	if (user)
		return copy_to_user((uintptr_t)dst, src, n);
	memcpy(dst, src, n);
	return 0;
}

static int copy_in(void *dst, const void *src, size_t n, bool user)
{
	if (user)
		return copy_from_user(dst, (uintptr_t)src, n);
	memcpy(dst, src, n);
	return 0;
}

static int zero_out(void *dst, size_t n, bool user)
{
	if (user)
		return clear_user((uintptr_t)dst, n);
	memset(dst, 0, n);
	return 0;
}

long tmpfs_read(struct inode *ino, void *buf, size_t n, uint64_t pos, bool user)
{
	spin_lock(&ino->lock);
	uint64_t size = ino->size;
	spin_unlock(&ino->lock);
	if (pos >= size)
		return 0;
	n = MIN(n, size - pos);
	size_t done = 0;
	while (done < n) {
		uint64_t at = pos + done;
		size_t off = at % PAGE_SIZE, chunk = MIN(PAGE_SIZE - off, n - done);
		paddr_t pa = page_ref(ino, at / PAGE_SIZE, false);
		int err;
		if (pa) {
			err = copy_out((char *)buf + done, (char *)pa_to_va(pa) + off, chunk, user);
			page_put(pa);
		} else {
			err = zero_out((char *)buf + done, chunk, user);
		}
		if (err)
			return done ? (long)done : err;
		done += chunk;
	}
	uint64_t now = fs_now();
	spin_lock(&ino->lock);
	if (ino->atime <= ino->mtime)               /* relatime */
		ino->atime = now;
	spin_unlock(&ino->lock);
	return done;
}

long tmpfs_write(struct inode *ino, const void *buf, size_t n, uint64_t *pos, bool append, bool user)
{
	sleep_lock(&ino->rw);
	uint64_t at = append ? ino->size : *pos;      /* size changes only under rw */
	long ret = 0;
	if (at >= TMPFS_MAX_SIZE) {
		ret = n ? -EFBIG : 0;
		goto out;
	}
	n = MIN(n, TMPFS_MAX_SIZE - at);
	size_t done = 0;
	while (done < n) {
		uint64_t p = at + done;
		size_t off = p % PAGE_SIZE, chunk = MIN(PAGE_SIZE - off, n - done);
		paddr_t pa = page_ref(ino, p / PAGE_SIZE, true);
		for (int tries = 0; !pa && tries < WRITE_OOM_RETRIES && out_of_memory("tmpfs write"); tries++)
			pa = page_ref(ino, p / PAGE_SIZE, true);
		if (!pa) {
			ret = -ENOSPC;
			break;
		}
		int err = copy_in((char *)pa_to_va(pa) + off, (const char *)buf + done, chunk, user);
		page_put(pa);
		if (err) {
			ret = err;
			break;
		}
		done += chunk;
		spin_lock(&ino->lock);
		if (p + chunk > ino->size)
			ino->size = p + chunk;
		spin_unlock(&ino->lock);
	}
	if (done) {
		ret = done;
		*pos = at + done;
		inode_touch(ino, true);
	}
out:
	sleep_unlock(&ino->rw);
	return ret;
}

int tmpfs_truncate(struct inode *ino, uint64_t size)
{
	if (size > TMPFS_MAX_SIZE)
		return -EFBIG;
	sleep_lock(&ino->rw);
	spin_lock(&ino->lock);
	uint64_t old = ino->size;
	ino->size = size;
	spin_unlock(&ino->lock);
	/* the new size first, then out of every mapping (mm/rmap.c: a fault meanwhile fetches again
	 * and finds the new EOF), then out of the tree; writers wait for ino->rw */
	if (size < old)
		rmap_unmap_from(ino, (size + PAGE_SIZE - 1) / PAGE_SIZE);
	spin_lock(&ino->lock);
	if (size < old) {
		uint64_t keep = (size + PAGE_SIZE - 1) / PAGE_SIZE;     /* pages still (partly) inside */
		tree_trim(ino, &TMPFS_I(ino)->reg.root, TMPFS_I(ino)->reg.height, 0, keep);
		if (size % PAGE_SIZE) {
			paddr_t *slot = tree_slot(ino, size / PAGE_SIZE, false);
			if (slot && *slot)               /* zero the tail so growing again reads zeros */
				memset((char *)pa_to_va(*slot) + size % PAGE_SIZE, 0,
				       PAGE_SIZE - size % PAGE_SIZE);
		}
		if (size == 0)
			TMPFS_I(ino)->reg.height = 0;
	}
	spin_unlock(&ino->lock);
	inode_touch(ino, true);
	sleep_unlock(&ino->rw);
	return 0;
}

/* The size is checked in the same hold of ino->lock that allocates: a fault racing a truncation
 * never leaves a page in the tree past EOF. */
int tmpfs_get_page(struct inode *ino, uint64_t pgoff, paddr_t *pa)
{
	spin_lock(&ino->lock);
	bool past = pgoff >= (ino->size + PAGE_SIZE - 1) / PAGE_SIZE;
	*pa = past ? 0 : page_ref_locked(ino, pgoff, true);
	spin_unlock(&ino->lock);
	return past ? -ENXIO : *pa ? 0 : -ENOMEM;
}

int tmpfs_find_page(struct inode *ino, uint64_t pgoff, paddr_t *pa)
{
	spin_lock(&ino->lock);
	uint64_t size = ino->size;
	spin_unlock(&ino->lock);
	if (pgoff >= (size + PAGE_SIZE - 1) / PAGE_SIZE)
		return -ENXIO;
	*pa = page_ref(ino, pgoff, false);
	return *pa ? 0 : -ENOENT;
}

/* mode 0 allocates [off, off+len) and extends the size; FALLOC_FL_KEEP_SIZE only allocates. */
int tmpfs_fallocate(struct inode *ino, int mode, uint64_t off, uint64_t len)
{
	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	if (off + len > TMPFS_MAX_SIZE || off + len < off)
		return -EFBIG;
	sleep_lock(&ino->rw);
	int err = 0;
	for (uint64_t idx = off / PAGE_SIZE; idx < (off + len + PAGE_SIZE - 1) / PAGE_SIZE; idx++) {
		paddr_t pa = page_ref(ino, idx, true);
		if (!pa) {
			err = -ENOSPC;
			break;
		}
		page_put(pa);
	}
	if (!err && !(mode & FALLOC_FL_KEEP_SIZE)) {
		spin_lock(&ino->lock);
		if (off + len > ino->size)
			ino->size = off + len;
		spin_unlock(&ino->lock);
		inode_touch(ino, true);
	}
	sleep_unlock(&ino->rw);
	return err;
}
