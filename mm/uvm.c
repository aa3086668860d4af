/*
 * User address spaces: VMAs, demand paging, copy-on-write fork, mmap/munmap/mprotect/brk.
 *
 * Theory. A VMA says what may be mapped; the page table says what is. mm_fault resolves a fault
 * inside a VMA that permits the access: a missing page becomes a zeroed page (anonymous) or the
 * file's own page (file mappings; a private one maps it read-only); a write to a present read-only
 * page of a private, writable VMA is copy-on-write: the page is copied unless this mm holds its
 * only reference (struct page refcount), in which case it just becomes writable. So a private file
 * page is copied at its first write (the file holds a reference too), as with Linux's page cache.
 * Owner-backed mappings (System V shm, and MAP_SHARED|MAP_ANONYMOUS memory, which is an unnamed
 * segment as on Linux) get each page from their owner at its first touch, so fork shares them.
 *
 * Out of memory: a fault (or fork) that finds no free page drops its locks and asks the OOM policy
 * (mm/oom.c), which kills the process with the largest footprint and waits for its memory to come
 * back; then the fault is retried (at most OOM_RETRIES times). -ENOMEM reaches the caller only
 * when the faulting thread is itself being killed or nothing could be killed. (fork does the same
 * around its whole copy: kernel/proc.c.)
 *
 * Locking: mm->lock (spinlock) guards the VMA list and every PTE of the user half. Nothing under it
 * sleeps: allocation does not sleep, file pages are fetched with it dropped (a disk file system
 * reads them), and VMAs taken out are freed after it (free_dead: their file's last reference may
 * go, and a disk inode's evict writes its mapped pages back). Lock order:
 * mm->map_lock -> mm->lock -> page allocator / file page locks, inode->i_mmap_lock (the reverse
 * map of file VMAs, mm/rmap.c: truncation unmaps through it, taking one mm->lock at a time and
 * never with i_mmap_lock held; fork nests the new child's lock inside the parent's). TLB:
 * removing or write-protecting a mapping fences this hart and every hart in mm->cpumask (SBI
 * remote fence, synchronous) but the lazy ones (see "Lazy address spaces"), and so does moving
 * one to another page (a copy-on-write copy: a hart that cached the read-only entry would go on
 * reading the old page, then a freed one), before the old page is put; adding permission needs
 * nothing (a hart that cached the old, more restrictive entry simply faults again and finds it
 * fixed). Truncation removes a file's pages
 * past its new EOF from every mapping (mm_zap_file, called by mm/rmap.c) the same way.
 *
 * The fence after munmap and mprotect runs after mm->lock is dropped. Under TCG a remote fence
 * waits for every other hart of the mm to be scheduled by the host (~1 ms on a loaded host);
 * held under the spinlock, the other threads' faults spun with interrupts off for all of it, their
 * vCPUs busy, and 4 threads doing mmap/munmap took minutes for what 2 did in 3 s (musl's malloc,
 * which maps and unmaps its large chunks, from 8 threads). So those calls hold mm->map_lock, a
 * sleeping lock taken by everything that changes the VMA list, across the fence, and drop the
 * removed pages only after it (struct unmap_batch): until then a hart's stale TLB entry reaches a
 * page that is still allocated, and no new mapping can take the range (its map call waits for
 * map_lock), so no stale entry can alias a new page. Faults take only mm->lock: they never wait
 * for a fence. A replacing map (MAP_FIXED over a mapping) still fences under mm->lock, since the
 * new VMA is visible to faults as soon as it is inserted.
 */
#include "mm/uvm.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "mm/rmap.h"
#include "mm/oom.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "mm/uaccess.h"
#include "fs/fs.h"
#include "fs/abi.h"
#include "ipc/shm/shm.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/sbi.h"
#include "kernel/ipi.h"

#define SIGRETURN_INSN_LI_A7 0x08b00893U   /* li a7, 139 (rt_sigreturn) */
#define SIGRETURN_INSN_ECALL 0x00000073U
#define FAULT_AROUND_PAGES 16          /* 64 KiB, Linux's fault_around_bytes */
#define OOM_RETRIES 16                 /* rounds of the OOM policy one fault may ask for */

static bool vma_shared(const struct vma *v) { return (v->flags & MAP_TYPE) == MAP_SHARED; }

static uint64_t pte_perm(int prot, bool writable)
{
	uint64_t p = PTE_V | PTE_U | PTE_A | PTE_D;
	if (prot & (PROT_READ | PROT_WRITE))
		p |= PTE_R;
	if ((prot & PROT_WRITE) && writable)
		p |= PTE_W;
	if (prot & PROT_EXEC)
		p |= PTE_X;
	return p;
}

/* The PTE mapping page pa into user space with prot. An executable mapping marks the page, which
 * is then zeroed when freed (mm/page.c: "Pages that held code"). */
static uint64_t user_pte(paddr_t pa, int prot, bool writable)
{
	if (prot & PROT_EXEC)
		page_mark_exec(pa);
	return PA_PTE(pa) | pte_perm(prot, writable);
}

/* ---- TLB ---- */

/* Fence the page at va (size PAGE_SIZE) or everything (size ALL_PAGES) on this hart and on every other hart in
 * mm->cpumask but the lazy ones. May run with mm->lock held: the SBI fence is a call, and it
 * returns once every target hart has fenced. */
#define ALL_PAGES ((unsigned long)-1)
static void mm_flush_range(struct mm *mm, uintptr_t va, unsigned long size)
{
	/* Announce the fence first, then look at who is lazy (see "Lazy address spaces"). */
	__atomic_add_fetch(&mm->tlb_gen, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	irq_push_off();
	int me = cpu_id();
	unsigned long others = READ_ONCE(mm->cpumask) & ~(1UL << me);
	if (size == PAGE_SIZE)
		__asm__ volatile("sfence.vma %0, zero" :: "r"(va) : "memory");
	else
		sfence_vma();
	irq_pop_off();
	unsigned long harts = 0;
	for (int i = 0; i < ncpus; i++)
		if ((others & (1UL << i)) && !__atomic_load_n(&cpus[i].tlb_lazy, __ATOMIC_SEQ_CST))
			harts |= 1UL << cpus[i].hartid;
	if (harts)
		sbi_remote_sfence_vma(harts, 0, size == ALL_PAGES ? 0 : va, size);
}

static void mm_flush_tlb(struct mm *mm) { mm_flush_range(mm, 0, ALL_PAGES); }

/* Lazy address spaces. A kernel thread (or the idle loop) has no address space of its own and
 * touches only the kernel half, which every page table shares. So switching to one keeps the
 * previous thread's user page table in satp (Linux's lazy TLB mode): user A -> squeue worker ->
 * user A costs no satp write and no TLB flush (under TCG a flush empties the whole soft TLB, which
 * every later access then refills). The CPU stays in the mm's cpumask meanwhile, so it still gets
 * that mm's TLB fences. What must not happen is freeing a page table some CPU still has in satp:
 * the last mm_put first drops the mm from every CPU (mm_unlazy: this one directly, the others by
 * IPI_MM_LAZY, waited for with interrupts on; nothing can make the mm active again, as no thread
 * holds it).
 *
 * A lazy CPU gets no TLB fences: it runs kernel code only, which never goes through the user half
 * of satp, and waking an idle vCPU (or one the host has descheduled) for a remote fence cost
 * munmap up to 16 ms on a loaded host (iperf3's server between two tests). Instead, like x86's
 * lazy TLB, mm->tlb_gen counts the fences asked for and each CPU remembers the count its TLB was
 * last flushed at (cpu->tlb_gen); a CPU leaving lazy mode for the same mm flushes if a fence
 * happened since. No fence is lost: the fencer increments tlb_gen before it reads tlb_lazy, and the
 * CPU clears tlb_lazy before it reads tlb_gen (a full fence each side), so either the fencer sees
 * the CPU not lazy and fences it, or the CPU sees the new count and flushes itself. Page tables
 * are freed only with the mm (mm_unlazy first), never under a lazy CPU. */
void mm_switch_to(struct mm *next)
{
	struct cpu *c = this_cpu();
	if (next) {
		mm_activate(next);
	} else if (c->active_mm) {
		__atomic_store_n(&c->tlb_lazy, true, __ATOMIC_SEQ_CST);
	}
}

/* IPI_MM_LAZY (interrupts off): a CPU running a thread without an mm drops the one it keeps. */
void mm_lazy_drop(void)
{
	struct cpu *c = this_cpu();
	if (c->active_mm && !c->cur->mm)
		mm_activate(NULL);
}

/* Before mm's tables are freed: no CPU may keep it in satp. Sleepable context (mm_put's last). */
static void mm_unlazy(struct mm *mm)
{
	irq_push_off();
	if (this_cpu()->active_mm == mm)
		mm_activate(NULL);
	irq_pop_off();
	unsigned long sent = 0, left;
	while ((left = __atomic_load_n(&mm->cpumask, __ATOMIC_ACQUIRE)) != 0) {
		for (int i = 0; i < ncpus; i++)
			if ((left & ~sent) & (1UL << i))
				ipi_send(i, IPI_MM_LAZY);
		sent |= left;
		__asm__ volatile("nop");
	}
	for (int i = 0; i < ncpus; i++)         /* cpumask and active_mm change together (mm_activate) */
		if (READ_ONCE(cpus[i].active_mm) == mm)
			panic("mm: freeing an address space cpu %d still has in satp", i);
}

void mm_activate(struct mm *mm)
{
	struct cpu *c = this_cpu();
	struct mm *old = c->active_mm;
	if (old == mm) {
		if (c->tlb_lazy) {               /* back from lazy: catch up with skipped fences */
			__atomic_store_n(&c->tlb_lazy, false, __ATOMIC_SEQ_CST);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			uint64_t gen = __atomic_load_n(&mm->tlb_gen, __ATOMIC_SEQ_CST);
			if (gen != c->tlb_gen) {
				sfence_vma();
				c->tlb_gen = gen;
			}
		}
		return;
	}
	__atomic_store_n(&c->tlb_lazy, false, __ATOMIC_SEQ_CST);
	/* Join the new mm's cpumask before using its table (its TLB fences must reach us), and leave
	 * the old one's only after satp and active_mm no longer point at it: a cleared bit is what
	 * lets the old mm's last mm_put free the tables (mm_unlazy). */
	if (mm)
		__atomic_fetch_or(&mm->cpumask, 1UL << c->id, __ATOMIC_RELAXED);
	WRITE_ONCE(c->active_mm, mm);
	if (mm)                              /* read before the flush below: it covers this count */
		c->tlb_gen = __atomic_load_n(&mm->tlb_gen, __ATOMIC_SEQ_CST);
	pte_t *pt = mm ? mm->pgtable : kernel_pagetable;
	csr_write(satp, SATP_MODE_SV39 | (va_to_pa(pt) >> PAGE_SHIFT));
	sfence_vma();
	if (old)
		__atomic_fetch_and(&old->cpumask, ~(1UL << c->id), __ATOMIC_RELEASE);
}

/* ---- page-table walking over the user half ---- */

typedef void (*pte_fn)(pte_t *pte, uintptr_t va, void *arg);

/* Call fn on every valid 4 KiB leaf in [start, end), skipping absent tables. */
static void walk_range(pte_t *pt, int level, uintptr_t base, uintptr_t start, uintptr_t end, pte_fn fn, void *arg)
{
	uint64_t span = PAGE_SIZE << (9 * level);
	for (int i = 0; i < PT_ENTRIES; i++) {
		uintptr_t lo = base + i * span, hi = lo + span;
		if (hi <= start || lo >= end || (level == 2 && i >= PT_USER_ENTRIES))
			continue;
		pte_t *e = &pt[i];
		if (!(*e & PTE_V))
			continue;
		if (level == 0)
			fn(e, lo, arg);
		else
			walk_range(pa_to_va(PTE_PA(*e)), level - 1, lo, start, end, fn, arg);
	}
}

static void each_pte(struct mm *mm, uintptr_t start, uintptr_t end, pte_fn fn, void *arg)
{
	walk_range(mm->pgtable, 2, 0, start, end, fn, arg);
}

/*
 * Pages taken out of the page table by munmap, put only after the TLB fence (see the theory
 * above). When the batch fills, the walk fences and puts at once, under mm->lock (still correct,
 * just the slow way).
 */
#define UNMAP_BATCH 64
struct unmap_batch {
	struct mm *mm;
	bool dropped;               /* a present page was removed: a fence is due */
	int n;
	paddr_t pages[UNMAP_BATCH];
};

static void unmap_batch_flush(struct unmap_batch *b)
{
	if (b->dropped)
		mm_flush_tlb(b->mm);
	for (int i = 0; i < b->n; i++)
		page_put(b->pages[i]);
	b->n = 0;
	b->dropped = false;
}

/* arg: a struct unmap_batch, or NULL to put each page at once (no other hart can see it). */
static void drop_pte(pte_t *pte, uintptr_t va __unused, void *arg)
{
	struct unmap_batch *b = arg;
	paddr_t pa = PTE_PA(*pte);
	*pte = 0;
	if (!b) {
		page_put(pa);
		return;
	}
	if (b->n == UNMAP_BATCH)
		unmap_batch_flush(b);
	b->pages[b->n++] = pa;
	b->dropped = true;
}

static void free_tables(pte_t *pt, int level)
{
	int n = level == 2 ? PT_USER_ENTRIES : PT_ENTRIES;
	for (int i = 0; level > 0 && i < n; i++)
		if ((pt[i] & PTE_V) && !(pt[i] & PTE_LEAF_BITS))
			free_tables(pa_to_va(PTE_PA(pt[i])), level - 1);
	free_pages(pt, 0);
}

/* ---- VMAs ---- */

static struct vma *find_vma(struct mm *mm, uintptr_t addr)
{
	struct list_head *p;
	list_for_each(p, &mm->vmas) {
		struct vma *v = list_entry(p, struct vma, node);
		if (addr < v->start)
			return NULL;
		if (addr < v->end)
			return v;
	}
	return NULL;
}

static void insert_vma(struct mm *mm, struct vma *n)
{
	struct list_head *p;
	list_for_each(p, &mm->vmas)
		if (list_entry(p, struct vma, node)->start > n->start)
			break;
	__list_add(&n->node, p->prev, p);
}

/* memfd seals (fs/memfd_seal.c) need to know whether an inode has writable shared mappings:
 * every VMA mapping a file MAP_SHARED with PROT_WRITE counts in inode->mmap_writers from its
 * creation (map, split, fork) to free_vma; mprotect moves it. */
static bool vma_shared_writer(const struct vma *v)
{
	return v->file && (v->flags & MAP_TYPE) == MAP_SHARED && (v->prot & PROT_WRITE);
}

/* A writable shared VMA that goes (or loses PROT_WRITE) may have stored into the file's pages:
 * inode->mmap_dirty tells the file's writeback (fs/pcache.c) that they need writing. */
static void vma_count_writer(struct vma *v, int delta)
{
	if (!vma_shared_writer(v))
		return;
	if (delta < 0)
		__atomic_store_n(&v->file->inode->mmap_dirty, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&v->file->inode->mmap_writers, delta, __ATOMIC_RELAXED);
}

static void free_vma(struct vma *v)
{
	vma_count_writer(v, -1);
	rmap_unlink(v);
	if (v->file)
		file_put(v->file);
	if (v->ops)
		v->ops->close(v);
	kfree(v);
}

/* Split v at addr (v->start < addr < v->end); returns the upper part, or NULL without memory. */
static struct vma *split_vma(struct vma *v, uintptr_t addr)
{
	struct vma *hi = kmalloc(sizeof(*hi));
	if (!hi)
		return NULL;
	*hi = *v;
	hi->start = addr;
	if (hi->file)
		file_get(hi->file);
	vma_count_writer(hi, 1);
	if (hi->ops)
		hi->ops->open(hi);
	hi->pgoff += (addr - v->start) >> PAGE_SHIFT;
	v->end = addr;
	__list_add(&hi->node, &v->node, v->node.next);
	rmap_link(v->mm, hi);                   /* mm->lock held; v->mm is set for file VMAs */
	return hi;
}

/*
 * The VMAs unmap_locked took out, freed by free_dead once mm->lock is dropped: the last
 * reference to a file may go with one, and its inode's evict may sleep (a disk file system
 * writes back its mapped pages). With writeback, a file that lost its last writable shared
 * mapping gets its pages written back (munmap: inode_ops->writeback), after map_lock too. So
 * does a file whose shared mapping goes while stores made through an earlier writable one are
 * still unwritten (inode->mmap_dirty: one made read-only by mprotect, then unmapped): written
 * here, with the VMA's file reference still held, and not at evict after the close, where the
 * inode has left the inode cache and an open racing that close would read older bytes
 * (user/tests/mmap_evict_race).
 */
static bool needs_writeback(const struct vma *v)
{
	return vma_shared_writer(v) ||
	       (v->file && vma_shared(v) && __atomic_load_n(&v->file->inode->mmap_dirty, __ATOMIC_ACQUIRE));
}

static void free_dead(struct list_head *dead, bool writeback)
{
	struct list_head *p, *tmp;
	list_for_each_safe(p, tmp, dead) {
		struct vma *v = list_entry(p, struct vma, node);
		struct file *f = writeback && needs_writeback(v) ? v->file : NULL;
		list_del(&v->node);
		if (f)
			file_get(f);
		free_vma(v);
		if (f && !__atomic_load_n(&f->inode->mmap_writers, __ATOMIC_ACQUIRE) &&
		    f->inode->iops && f->inode->iops->writeback)
			f->inode->iops->writeback(f->inode);
		if (f)
			file_put(f);
	}
}

/*
 * Remove [start, end) from the VMA list and the page table. mm->lock held. With a batch the fence
 * and the pages' release are left to the caller (unmap_batch_flush after dropping mm->lock, with
 * map_lock still held); without one they happen here. The removed VMAs go on dead (free_dead
 * after the unlock).
 */
static int unmap_locked(struct mm *mm, uintptr_t start, uintptr_t end, struct unmap_batch *b,
			struct list_head *dead)
{
	bool any = false;
	for (struct list_head *p = mm->vmas.next; p != &mm->vmas;) {
		struct vma *v = list_entry(p, struct vma, node);
		if (v->end <= start || v->start >= end) {
			p = p->next;
			continue;
		}
		if (v->start < start) {         /* keep the lower part; the upper one is next */
			if (!split_vma(v, start))
				return -ENOMEM;
			p = p->next;
			continue;
		}
		if (v->end > end && !split_vma(v, end))
			return -ENOMEM;
		p = p->next;
		list_del(&v->node);
		list_add_tail(&v->node, dead);
		any = true;
	}
	if (any && b) {
		each_pte(mm, start, end, drop_pte, b);
	} else if (any) {
		struct unmap_batch now = { .mm = mm };
		each_pte(mm, start, end, drop_pte, &now);
		unmap_batch_flush(&now);
	}
	return 0;
}

/* ---- truncation (mm/rmap.c) ---- */

void mm_zap_file(struct mm *mm, struct inode *ino, uint64_t pgoff)
{
	struct unmap_batch b = { .mm = mm };
	struct list_head *p;
	spin_lock(&mm->lock);
	list_for_each(p, &mm->vmas) {
		struct vma *v = list_entry(p, struct vma, node);
		if (!v->file || v->file->inode != ino || v->pgoff + ((v->end - v->start) >> PAGE_SHIFT) <= pgoff)
			continue;
		uintptr_t from = v->start + (pgoff > v->pgoff ? (pgoff - v->pgoff) << PAGE_SHIFT : 0);
		each_pte(mm, from, v->end, drop_pte, &b);
	}
	spin_unlock(&mm->lock);
	unmap_batch_flush(&b);             /* fence, then the references go (see unmap_batch) */
}

/* ---- create, fork, destroy ---- */

struct mm *mm_create(void)
{
	struct mm *mm = kzalloc(sizeof(*mm));
	if (!mm)
		return NULL;
	mm->pgtable = alloc_pages(0, PAGE_ZERO);
	if (!mm->pgtable) {
		kfree(mm);
		return NULL;
	}
	for (int i = PT_USER_ENTRIES; i < PT_ENTRIES; i++)
		mm->pgtable[i] = kernel_pagetable[i];
	spin_init(&mm->lock, "mm");
	sleeplock_init(&mm->map_lock, "mm_map");
	list_init(&mm->vmas);
	mm->refcount = 1;
	mm->pins = 1;
	return mm;
}

void mm_get(struct mm *mm) { __atomic_fetch_add(&mm->refcount, 1, __ATOMIC_RELAXED); }

void mm_pin(struct mm *mm) { __atomic_fetch_add(&mm->pins, 1, __ATOMIC_RELAXED); }

void mm_unpin(struct mm *mm)
{
	if (__atomic_sub_fetch(&mm->pins, 1, __ATOMIC_ACQ_REL) == 0)
		kfree(mm);
}

/* The last user: the VMAs leave mm->vmas under mm->lock first, so a truncation that pinned this
 * mm (mm/rmap.c) finds it empty from then on and never walks the tables freed here. */
void mm_put(struct mm *mm)
{
	if (__atomic_sub_fetch(&mm->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	mm_unlazy(mm);
	struct list_head dead;
	list_init(&dead);
	spin_lock(&mm->lock);
	while (!list_empty(&mm->vmas)) {
		struct list_head *p = mm->vmas.next;
		list_del(p);
		list_add_tail(p, &dead);
	}
	spin_unlock(&mm->lock);
	each_pte(mm, 0, USER_TOP, drop_pte, NULL);
	free_dead(&dead, true);             /* the last writable mappings of files: written back */
	free_tables(mm->pgtable, 2);
	mm->pgtable = NULL;
	mm_unpin(mm);
}

struct fork_arg { struct mm *child; bool shared; int err; };

static void fork_pte(pte_t *pte, uintptr_t va, void *arg)
{
	struct fork_arg *fa = arg;
	pte_t *c = vm_walk(fa->child->pgtable, va, true);
	if (!c) {
		fa->err = -ENOMEM;
		return;
	}
	if (!fa->shared)
		*pte &= ~PTE_W;        /* copy-on-write in both */
	page_get(PTE_PA(*pte));
	*c = *pte;
}

/* Out of memory: NULL (the caller, kernel/proc.c's clone, asks mm/oom.c and tries again). */
struct mm *mm_fork(struct mm *parent)
{
	struct mm *child = mm_create();
	if (!child)
		return NULL;
	struct fork_arg fa = { child, false, 0 };
	struct list_head *p;
	spin_lock(&parent->lock);
	/* the child's file VMAs are on their inodes' lists as soon as linked, and a truncation may
	 * then take child->lock (mm/rmap.c; never while holding another mm's lock, so this nesting
	 * cannot deadlock) */
	spin_lock(&child->lock);
	child->brk_start = parent->brk_start;
	child->brk = parent->brk;
	list_for_each(p, &parent->vmas) {
		struct vma *v = list_entry(p, struct vma, node), *n = kmalloc(sizeof(*n));
		if (!n) {
			fa.err = -ENOMEM;
			break;
		}
		*n = *v;
		if (n->file)
			file_get(n->file);
		vma_count_writer(n, 1);
		if (n->ops)
			n->ops->open(n);
		n->mm = NULL;
		list_add_tail(&n->node, &child->vmas);
		rmap_link(child, n);
		fa.shared = vma_shared(v);
		each_pte(parent, v->start, v->end, fork_pte, &fa);
		if (fa.err)
			break;
	}
	mm_flush_tlb(parent);
	spin_unlock(&child->lock);
	spin_unlock(&parent->lock);
	if (fa.err) {
		mm_put(child);
		return NULL;
	}
	return child;
}

static void count_pte(pte_t *pte __unused, uintptr_t va __unused, void *arg)
{
	(*(uint64_t *)arg)++;
}

static uint64_t count_tables(pte_t *pt, int level)
{
	uint64_t n = 1;
	int entries = level == 2 ? PT_USER_ENTRIES : PT_ENTRIES;
	for (int i = 0; level > 0 && i < entries; i++)
		if ((pt[i] & PTE_V) && !(pt[i] & PTE_LEAF_BITS))
			n += count_tables(pa_to_va(PTE_PA(pt[i])), level - 1);
	return n;
}

void mm_get_usage(struct mm *mm, struct mm_usage *u)
{
	memset(u, 0, sizeof(*u));
	spin_lock(&mm->lock);
	struct list_head *p;
	list_for_each(p, &mm->vmas) {
		struct vma *v = list_entry(p, struct vma, node);
		u->total_vm += (v->end - v->start) >> PAGE_SHIFT;
		uint64_t *c = v->ops ? &u->shmem_rss : v->file ? &u->file_rss : &u->anon_rss;
		each_pte(mm, v->start, v->end, count_pte, c);
	}
	u->pgtables = count_tables(mm->pgtable, 2);
	spin_unlock(&mm->lock);
}

/* ---- faults ---- */

/* A fresh anonymous page (zeroed), or the owner's page (ops, with a reference). 0 when out of
 * memory. File pages come from file_page. */
static paddr_t new_page(struct vma *v, uintptr_t va)
{
	if (v->ops)
		return v->ops->page(v, v->pgoff + ((va - v->start) >> PAGE_SHIFT));
	return v->file ? 0 : page_alloc(0, PAGE_ZERO);
}

/* The page backing file offset pgoff, with a reference for the caller: the file's own page, for
 * shared and private mappings alike (a private mapping maps it read-only and copies it at the
 * first write, like Linux's page cache: programs and libraries share their text, and QEMU's
 * translation cache, keyed by physical address, keeps what it translated for the next exec).
 * A page wholly past EOF is SIGBUS for both kinds, as on Linux (-ENXIO). May sleep (the file
 * system's locks), so it runs without mm->lock. 0 on failure. */
static paddr_t file_page(struct file *f, uint64_t pgoff, int *err)
{
	paddr_t pa;
	int r = file_get_page(f, pgoff, &pa);
	/* no memory: the OOM policy, then again; wholly past EOF: SIGBUS */
	*err = r == -ENOMEM ? -ENOMEM : r == -ENXIO ? -ENXIO : -EFAULT;
	return r == 0 ? pa : 0;
}

/* Make va present (and writable when write) in v. mm->lock held. 0 or -EFAULT/-ENOMEM. */
static int fault_locked(struct mm *mm, struct vma *v, uintptr_t va, bool write, bool force)
{
	pte_t *pte = vm_walk(mm->pgtable, va, true);
	if (!pte)
		return -ENOMEM;
	bool writable = (v->prot & PROT_WRITE) || force;
	if (!(*pte & PTE_V)) {
		paddr_t pa = new_page(v, va);
		if (!pa)
			return v->file ? -EFAULT : -ENOMEM;
		*pte = user_pte(pa, v->prot | (force ? PROT_WRITE : 0), true);
		mm->faults++;
		return 0;
	}
	if (!write || (*pte & PTE_W))
		return 0;                       /* another thread got here first */
	if (!writable)
		return -EFAULT;
	paddr_t old = PTE_PA(*pte);
	struct page *pg = pa_to_page(old);
	if (!vma_shared(v) && pg && __atomic_load_n(&pg->refcount, __ATOMIC_ACQUIRE) > 1) {
		paddr_t n = page_alloc(0, 0);
		if (!n)
			return -ENOMEM;
		memcpy(pa_to_va(n), pa_to_va(old), PAGE_SIZE);
		if (*pte & PTE_X)
			page_mark_exec(n);
		*pte = PA_PTE(n) | (*pte & 0x3ff) | PTE_W;
		/* the page moved: fence every hart of mm before the old one can go ("TLB" above) */
		mm_flush_range(mm, va, PAGE_SIZE);
		page_put(old);
		mm->cow_copies++;
		return 0;
	}
	*pte |= PTE_W;                          /* more permission only: a stale entry just faults */
	__asm__ volatile("sfence.vma %0, zero" :: "r"(va) : "memory");
	return 0;
}

/* Bring the file page behind va (absent) into v: fetched with mm->lock dropped (file reads may
 * sleep), then installed unless someone else did meanwhile or the VMA changed. mm->lock is held on
 * entry and on return; v may be stale afterwards (callers look it up again). */
static int fault_file_page(struct mm *mm, struct vma *v, uintptr_t va)
{
	struct file *f = v->file;
	uint64_t pgoff = v->pgoff + ((va - v->start) >> PAGE_SHIFT);
	file_get(f);
	spin_unlock(&mm->lock);
	/* a truncation between here and the install may have unmapped this offset already: then
	 * the page is not installed and the access faults again (mm/rmap.c) */
	uint64_t seq = __atomic_load_n(&f->inode->mmap_seq, __ATOMIC_SEQ_CST);
	int err;
	paddr_t pa = file_page(f, pgoff, &err);
	int r = pa ? 0 : err;
	spin_lock(&mm->lock);
	v = find_vma(mm, va);
	pte_t *pte = pa ? vm_walk(mm->pgtable, va, true) : NULL;
	if (pa && v && v->file == f && pte && !(*pte & PTE_V) &&
	    __atomic_load_n(&f->inode->mmap_seq, __ATOMIC_SEQ_CST) == seq) {
		/* private: read-only until a write fault copies it (fault_locked) */
		*pte = user_pte(pa, v->prot, vma_shared(v));
		mm->faults++;
	} else if (pa) {
		page_put(pa);
	}
	/* the file's last reference may be this one (the VMA went meanwhile): its evict may sleep
	 * (a disk file system writes back its pages), so it is put without mm->lock */
	spin_unlock(&mm->lock);
	file_put(f);
	spin_lock(&mm->lock);
	return r;
}

/* Linux's fault-around: after a read or execute fault on a file page, map the other pages of the
 * aligned FAULT_AROUND_PAGES window (inside v) that are already in memory, so a program's text
 * and a library's data arrive in a few faults instead of one per page. mm->lock held; v current. */
static void fault_around_locked(struct mm *mm, struct vma *v, uintptr_t va)
{
	uintptr_t lo = MAX(ALIGN_DOWN(va, FAULT_AROUND_PAGES * PAGE_SIZE), v->start);
	uintptr_t hi = MIN(ALIGN_DOWN(va, FAULT_AROUND_PAGES * PAGE_SIZE) + FAULT_AROUND_PAGES * PAGE_SIZE, v->end);
	for (uintptr_t a = lo; a < hi; a += PAGE_SIZE) {
		pte_t *pte = vm_walk(mm->pgtable, a, true);
		if (!pte || (*pte & PTE_V))
			continue;
		paddr_t pa;
		if (file_find_page(v->file, v->pgoff + ((a - v->start) >> PAGE_SHIFT), &pa) < 0)
			continue;
		*pte = user_pte(pa, v->prot, vma_shared(v));
	}
}

static int fault_once(struct mm *mm, uintptr_t addr, uint64_t cause)
{
	if (!mm || addr >= USER_TOP)
		return -EFAULT;
	int need = cause == EXC_STORE_PAGE_FAULT ? PROT_WRITE : cause == EXC_INST_PAGE_FAULT ? PROT_EXEC : PROT_READ;
	uintptr_t va = ALIGN_DOWN(addr, PAGE_SIZE);
	spin_lock(&mm->lock);
	struct vma *v = find_vma(mm, addr);
	if (!v || !(v->prot & need || (need == PROT_READ && (v->prot & PROT_WRITE)))) {
		spin_unlock(&mm->lock);
		return -EFAULT;
	}
	pte_t *pte = vm_walk(mm->pgtable, va, false);
	if (v->file && !(pte && (*pte & PTE_V))) {
		int r = fault_file_page(mm, v, va);
		if (r == 0 && need != PROT_WRITE && (v = find_vma(mm, addr)) && v->file)
			fault_around_locked(mm, v, va);
		spin_unlock(&mm->lock);
		return r;
	}
	int r = fault_locked(mm, v, va, need == PROT_WRITE, false);
	spin_unlock(&mm->lock);
	return r;
}

/* May sleep (the OOM policy waits for its victim). */
int mm_fault(struct mm *mm, uintptr_t addr, uint64_t cause)
{
	for (int tries = 0;; tries++) {
		int r = fault_once(mm, addr, cause);
		/* (a fault with interrupts off, inside a user copy made under a spinlock, cannot wait) */
		if (r != -ENOMEM || tries >= OOM_RETRIES || !intr_enabled() || !out_of_memory("page fault"))
			return r;
	}
}

int mm_pin_pa(struct mm *mm, uintptr_t addr, paddr_t *pa)
{
	spin_lock(&mm->lock);
	pte_t *pte = vm_walk(mm->pgtable, ALIGN_DOWN(addr, PAGE_SIZE), false);
	int r = pte && (*pte & PTE_V) && (*pte & PTE_W) ? 0 : -EFAULT;
	if (r == 0) {
		*pa = PTE_PA(*pte) + (addr & (PAGE_SIZE - 1));
		page_get(PTE_PA(*pte));
	}
	spin_unlock(&mm->lock);
	return r;
}

bool mm_addr_shared(struct mm *mm, uintptr_t addr)
{
	spin_lock(&mm->lock);
	struct vma *v = find_vma(mm, addr);
	bool shared = v && vma_shared(v);
	spin_unlock(&mm->lock);
	return shared;
}

int mm_lookup_pa(struct mm *mm, uintptr_t addr, paddr_t *pa)
{
	if (mm_fault(mm, addr, EXC_LOAD_PAGE_FAULT) < 0)
		return -EFAULT;
	spin_lock(&mm->lock);
	pte_t *pte = vm_walk(mm->pgtable, ALIGN_DOWN(addr, PAGE_SIZE), false);
	int r = pte && (*pte & PTE_V) ? 0 : -EFAULT;
	if (r == 0)
		*pa = PTE_PA(*pte) + (addr & (PAGE_SIZE - 1));
	spin_unlock(&mm->lock);
	return r;
}

int mm_write(struct mm *mm, uintptr_t uaddr, const void *src, size_t n)
{
	const uint8_t *s = src;
	int oom_tries = 0;
	bool can_wait = intr_enabled();         /* (read before the spinlock turns interrupts off) */
	spin_lock(&mm->lock);
	while (n) {
		uintptr_t va = ALIGN_DOWN(uaddr, PAGE_SIZE);
		size_t chunk = MIN(n, va + PAGE_SIZE - uaddr);
		struct vma *v = find_vma(mm, uaddr);
		pte_t *fp = v && v->file ? vm_walk(mm->pgtable, va, false) : NULL;
		if (v && v->file && !(fp && (*fp & PTE_V))) {     /* exec's loader zeroing a bss tail */
			if (fault_file_page(mm, v, va) < 0) {
				spin_unlock(&mm->lock);
				return -EFAULT;
			}
			continue;                                 /* the lock was dropped: look again */
		}
		int r = v ? fault_locked(mm, v, va, true, true) : -EFAULT;
		if (r == -ENOMEM && can_wait && oom_tries++ < OOM_RETRIES) {
			spin_unlock(&mm->lock);                   /* the OOM policy sleeps */
			bool again = out_of_memory("exec");
			spin_lock(&mm->lock);
			if (again)
				continue;                         /* the lock was dropped: look again */
		}
		if (r < 0) {
			spin_unlock(&mm->lock);
			return -EFAULT;
		}
		pte_t *pte = vm_walk(mm->pgtable, va, false);
		memcpy((uint8_t *)pa_to_va(PTE_PA(*pte)) + (uaddr - va), s, chunk);
		if (!(v->prot & PROT_WRITE))
			*pte &= ~PTE_W;         /* written by the loader only */
		uaddr += chunk;
		s += chunk;
		n -= chunk;
	}
	spin_unlock(&mm->lock);
	return 0;
}

/* ---- mapping ---- */

static uintptr_t find_free_locked(struct mm *mm, size_t len);

/* Insert a new VMA for [addr, addr + len), replacing what was there (anywhere: at a free range
 * found under the same hold of mm->lock, so two threads mapping at once never get the same range;
 * noreplace: -EEXIST if anything is mapped there, checked under that hold too). Returns the
 * address or -errno. */
static bool range_busy_locked(struct mm *mm, uintptr_t start, uintptr_t end)
{
	struct list_head *p;
	list_for_each(p, &mm->vmas) {
		struct vma *v = list_entry(p, struct vma, node);
		if (v->start < end && v->end > start)
			return true;
	}
	return false;
}

static long map_new(struct mm *mm, uintptr_t addr, bool anywhere, bool noreplace, size_t len, int prot,
		    int flags, struct file *file, uint64_t pgoff)
{
	struct vma *v = kzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	len = ALIGN_UP(len, PAGE_SIZE);
	v->prot = prot;
	v->flags = flags & (MAP_TYPE | MAP_ANONYMOUS);
	v->file = file;
	v->pgoff = pgoff;
	if (file)
		file_get(file);
	vma_count_writer(v, 1);
	struct list_head dead;
	list_init(&dead);
	sleep_lock(&mm->map_lock);
	spin_lock(&mm->lock);
	int r = 0;
	bool inserted = false;
	if (anywhere && !(addr = find_free_locked(mm, len)))
		r = -ENOMEM;
	v->start = addr;
	v->end = addr + len;
	if (r == 0 && noreplace && range_busy_locked(mm, v->start, v->end))
		r = -EEXIST;
	if (r == 0)
		r = unmap_locked(mm, v->start, v->end, NULL, &dead);
	if (r == 0) {
		insert_vma(mm, v);
		rmap_link(mm, v);
		inserted = true;
	}
	if (r == 0 && vma_shared(v) && !file) {        /* shared anonymous from the kernel (sys_mmap uses ipc/shm/) */
		for (uintptr_t va = v->start; va < v->end && r == 0; va += PAGE_SIZE)
			r = fault_locked(mm, v, va, false, false);
	}
	if (r < 0 && inserted)
		unmap_locked(mm, v->start, v->end, NULL, &dead);
	spin_unlock(&mm->lock);
	sleep_unlock(&mm->map_lock);
	free_dead(&dead, true);
	if (r < 0 && !inserted)
		free_vma(v);
	return r < 0 ? r : (long)addr;
}

int mm_map(struct mm *mm, uintptr_t addr, size_t len, int prot, int flags, struct file *file, uint64_t pgoff)
{
	long r = map_new(mm, addr, false, false, len, prot, flags, file, pgoff);
	return r < 0 ? (int)r : 0;
}

int mm_map_noreplace(struct mm *mm, uintptr_t addr, size_t len, int prot, int flags, struct file *file,
		     uint64_t pgoff)
{
	long r = map_new(mm, addr, false, true, len, prot, flags, file, pgoff);
	return r < 0 ? (int)r : 0;
}

long mm_map_anywhere(struct mm *mm, size_t len, int prot, int flags, struct file *file, uint64_t pgoff)
{
	return map_new(mm, 0, true, false, len, prot, flags, file, pgoff);
}

long mm_map_owned(struct mm *mm, uintptr_t addr, size_t len, int prot, const struct vm_ops *ops, void *priv,
		  bool remap)
{
	struct vma *v = kzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	*v = (struct vma){ .prot = prot, .flags = MAP_SHARED, .ops = ops, .priv = priv };
	list_init(&v->node);
	ops->open(v);
	struct list_head dead;
	list_init(&dead);
	sleep_lock(&mm->map_lock);
	spin_lock(&mm->lock);
	int r = 0;
	if (!addr && !(addr = find_free_locked(mm, len)))   /* chosen under the same hold as the insert */
		r = -ENOMEM;
	if (r == 0 && !remap && range_busy_locked(mm, addr, addr + len))
		r = -EINVAL;                                    /* Linux: an occupied range needs SHM_REMAP */
	v->start = addr;
	v->end = addr + len;
	if (r == 0)
		r = unmap_locked(mm, v->start, v->end, NULL, &dead);
	if (r == 0)
		insert_vma(mm, v);                      /* pages come at their first touch (ops->page) */
	spin_unlock(&mm->lock);
	sleep_unlock(&mm->map_lock);
	free_dead(&dead, true);
	if (r < 0)
		free_vma(v);                            /* never inserted: every failure is before that */
	return r < 0 ? r : (long)addr;
}

long mm_unmap_owned(struct mm *mm, uintptr_t addr, const struct vm_ops *ops)
{
	struct unmap_batch b = { .mm = mm };
	sleep_lock(&mm->map_lock);
	spin_lock(&mm->lock);
	struct vma *v = find_vma(mm, addr);
	if (!v || v->start != addr || v->ops != ops) {
		spin_unlock(&mm->lock);
		sleep_unlock(&mm->map_lock);
		return -EINVAL;
	}
	/* the attachment: this VMA and the ones right after it that continue the same object
	 * (a split one); a second attachment placed right behind starts again at offset 0 */
	uintptr_t end = v->end;
	for (struct list_head *p = v->node.next; p != &mm->vmas; p = p->next) {
		struct vma *n = list_entry(p, struct vma, node);
		if (n->ops != ops || n->priv != v->priv || n->start != end || n->pgoff != v->pgoff + ((n->start - addr) >> PAGE_SHIFT))
			break;
		end = n->end;
	}
	struct list_head dead;
	list_init(&dead);
	int r = unmap_locked(mm, addr, end, &b, &dead);
	spin_unlock(&mm->lock);
	unmap_batch_flush(&b);
	sleep_unlock(&mm->map_lock);
	free_dead(&dead, true);
	return r;
}

int mm_unmap(struct mm *mm, uintptr_t addr, size_t len)
{
	struct unmap_batch b = { .mm = mm };
	struct list_head dead;
	list_init(&dead);
	sleep_lock(&mm->map_lock);
	spin_lock(&mm->lock);
	int r = unmap_locked(mm, addr, addr + ALIGN_UP(len, PAGE_SIZE), &b, &dead);
	spin_unlock(&mm->lock);
	unmap_batch_flush(&b);
	sleep_unlock(&mm->map_lock);
	free_dead(&dead, true);
	return r;
}

/* The highest free range of len bytes below USER_MMAP_TOP and above the heap, or 0. mm->lock held. */
static uintptr_t find_free_locked(struct mm *mm, size_t len)
{
	len = ALIGN_UP(len, PAGE_SIZE);
	uintptr_t top = USER_MMAP_TOP;
	struct list_head *p;
	for (p = mm->vmas.prev; p != &mm->vmas; p = p->prev) {
		struct vma *v = list_entry(p, struct vma, node);
		if (v->start >= top)
			continue;
		if (top >= len && v->end <= top - len)
			break;          /* the gap [v->end, top) fits */
		top = v->start;
	}
	uintptr_t brk_limit = ALIGN_UP(mm->brk, PAGE_SIZE);
	if (top < len || top - len < MAX(brk_limit, USER_MIN_ADDR))
		return 0;
	return top - len;
}

void mm_map_sigpage(struct mm *mm)
{
	static const uint32_t code[] = { SIGRETURN_INSN_LI_A7, SIGRETURN_INSN_ECALL };
	if (mm_map(mm, USER_SIGPAGE, PAGE_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0) == 0)
		mm_write(mm, USER_SIGPAGE, code, sizeof(code));
}

/* ---- system calls ---- */

static struct mm *cur_mm(void) { return current->mm; }

long sys_brk(uintptr_t addr)
{
	struct mm *mm = cur_mm();
	uintptr_t old = mm->brk;
	if (addr < mm->brk_start || addr >= USER_MMAP_TOP)
		return (long)old;
	uintptr_t old_end = ALIGN_UP(old, PAGE_SIZE), new_end = ALIGN_UP(addr, PAGE_SIZE);
	if (new_end > old_end) {
		if (mm_may_expand(mm, new_end - old_end, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS) < 0)
			return (long)old;                   /* RLIMIT_AS / RLIMIT_DATA (vm_limit.c) */
		if (mm_map_noreplace(mm, old_end, new_end - old_end, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0) < 0)
			return (long)old;                   /* no memory, or something is mapped there */
	} else if (new_end < old_end) {
		mm_unmap(mm, new_end, old_end - new_end);
	}
	mm->brk = addr;
	return (long)addr;
}

long sys_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, long off)
{
	struct mm *mm = cur_mm();
	int type = flags & MAP_TYPE;
	if (!len || (off & (PAGE_SIZE - 1)) || (type != MAP_SHARED && type != MAP_PRIVATE &&
						 type != MAP_SHARED_VALIDATE))
		return -EINVAL;
	if (type == MAP_SHARED_VALIDATE)
		flags = (flags & ~MAP_TYPE) | MAP_SHARED;
	if (len > USER_TOP)
		return -ENOMEM;
	len = ALIGN_UP(len, PAGE_SIZE);
	struct file *f = NULL;
	if (!(flags & MAP_ANONYMOUS)) {
		f = fd_get(fd);
		if (!f)
			return -EBADF;
		if (!file_is_regular(f)) {
			file_put(f);
			return -ENODEV;
		}
		if ((flags & MAP_TYPE) == MAP_SHARED && (prot & PROT_WRITE) && (f->f_flags & O_ACCMODE) == O_RDONLY) {
			file_put(f);
			return -EACCES;
		}
		int err = memfd_seal_check_mmap(f->inode, prot, flags);      /* fs/memfd_seal.c */
		if (err) {
			file_put(f);
			return err;
		}
	}
	long r = mm_may_expand(mm, len, prot, flags);     /* RLIMIT_AS / RLIMIT_DATA (vm_limit.c) */
	if (r < 0)
		goto out;
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	if (fixed && ((addr & (PAGE_SIZE - 1)) || !access_ok(addr, len) || addr < USER_MIN_ADDR)) {
		r = -EINVAL;
		goto out;
	}
	if (!f && (flags & MAP_TYPE) == MAP_SHARED) {       /* shared anonymous: ipc/shm/ */
		r = shm_map_anon(mm, addr, len, prot, fixed, flags & MAP_FIXED_NOREPLACE);
		goto out;
	}
	if (fixed) {
		if (flags & MAP_FIXED_NOREPLACE) {
			r = mm_map_noreplace(mm, addr, len, prot, flags, f, (uint64_t)off >> PAGE_SHIFT);
			if (r == 0)
				r = (long)addr;
			goto out;
		}
	} else {
		/* found and mapped under one hold of mm->lock: threads mapping at once get disjoint ranges */
		r = mm_map_anywhere(mm, len, prot, flags, f, (uint64_t)off >> PAGE_SHIFT);
		goto out;
	}
	r = mm_map(mm, addr, len, prot, flags, f, (uint64_t)off >> PAGE_SHIFT);
	if (r == 0)
		r = (long)addr;
out:
	if (f)
		file_put(f);
	return r;
}

long sys_munmap(uintptr_t addr, size_t len)
{
	if ((addr & (PAGE_SIZE - 1)) || !len || !access_ok(addr, len))
		return -EINVAL;
	return mm_unmap(cur_mm(), addr, len);
}

static void protect_pte(pte_t *pte, uintptr_t va __unused, void *arg)
{
	int prot = *(int *)arg;
	/* write permission comes back through a fault, which also handles copy-on-write */
	uint64_t bits = pte_perm(prot, false) & (PTE_R | PTE_X);
	if (!bits) {
		bits = PTE_R;          /* PROT_NONE: still a leaf, but no user access */
		*pte &= ~PTE_U;
	} else {
		*pte |= PTE_U;
	}
	if (bits & PTE_X)
		page_mark_exec(PTE_PA(*pte));
	*pte = (*pte & ~(PTE_R | PTE_W | PTE_X)) | bits;
}

long sys_mprotect(uintptr_t addr, size_t len, int prot)
{
	struct mm *mm = cur_mm();
	prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);      /* the stack VMA is fixed-size: nothing grows */
	if ((addr & (PAGE_SIZE - 1)) || !access_ok(addr, len) || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	uintptr_t end = addr + ALIGN_UP(len, PAGE_SIZE);
	int r = 0;
	sleep_lock(&mm->map_lock);
	spin_lock(&mm->lock);
	/* every page of the range must be mapped (Linux: ENOMEM otherwise) */
	for (uintptr_t a = addr; a < end;) {
		struct vma *v = find_vma(mm, a);
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		a = v->end;
	}
	for (struct list_head *p = mm->vmas.next; p != &mm->vmas; p = p->next) {
		struct vma *v = list_entry(p, struct vma, node);
		if (v->end <= addr || v->start >= end)
			continue;
		if (v->start < addr) {          /* the upper part, next in the list, is handled next */
			if (!split_vma(v, addr))
				break;
			continue;
		}
		if (v->end > end && !split_vma(v, end))
			break;
		if ((prot & PROT_WRITE) &&
		    ((v->file && vma_shared(v) && !(v->prot & PROT_WRITE) &&
		      ((v->file->f_flags & O_ACCMODE) == O_RDONLY || memfd_seal_denies_write(v->file->inode))) ||
		     (v->ops && v->ops->readonly))) {
			r = -EACCES;
			goto out;
		}
		vma_count_writer(v, -1);
		v->prot = prot;
		vma_count_writer(v, 1);
	}
	each_pte(mm, addr, end, protect_pte, &prot);
	spin_unlock(&mm->lock);
	mm_flush_tlb(mm);               /* map_lock held: see the theory on fences after the unlock */
	sleep_unlock(&mm->map_lock);
	return 0;
out:
	spin_unlock(&mm->lock);
	sleep_unlock(&mm->map_lock);
	return r;
}

/* The advice values Linux 6.1 knows (MADV_NORMAL .. MADV_COLLAPSE, HWPOISON, SOFT_OFFLINE). */
static bool madvise_known(int advice)
{
	return (advice >= 0 && advice <= 4) || (advice >= 8 && advice <= 23) || advice == 25 ||
	       advice == 100 || advice == 101;
}

/* Advice is taken and ignored (no page is dropped or read ahead), but the arguments are checked as
 * Linux checks them: an unknown advice, a misaligned start or a range that wraps is EINVAL, an
 * empty range 0, a range with unmapped pages ENOMEM. Before, anything aligned was 0 (found by
 * sysfuzz: madvise(0xfffffffffffff000, ~0, 0x4914d7f7) = 0). */
long sys_madvise(uintptr_t addr, size_t len, int advice)
{
	if ((addr & (PAGE_SIZE - 1)) || !madvise_known(advice))
		return -EINVAL;
	size_t alen = ALIGN_UP(len, PAGE_SIZE);
	if ((len && !alen) || addr + alen < addr)
		return -EINVAL;
	if (!alen)
		return 0;
	if (!access_ok(addr, alen))
		return -ENOMEM;
	struct mm *mm = cur_mm();
	uintptr_t end = addr + alen;
	spin_lock(&mm->lock);
	for (uintptr_t a = addr; a < end;) {
		struct vma *v = find_vma(mm, a);
		if (!v) {
			spin_unlock(&mm->lock);
			return -ENOMEM;
		}
		a = v->end;
	}
	spin_unlock(&mm->lock);
	return 0;
}

/* ---- msync ---- */

#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4

/*
 * msync(2) as Linux checks it: flags other than the three, both MS_ASYNC and MS_SYNC, or an
 * unaligned start are EINVAL; a range that wraps, or has pages no VMA covers, is ENOMEM (after
 * the mapped parts were synced, as Linux goes on). Each file mapped MAP_SHARED in the range is
 * written back: MS_SYNC to stable storage (fsync), MS_ASYNC to the file system (its pages are
 * then what read() and a later mapping see, and sync or the periodic writeback makes them
 * durable; Linux's MS_ASYNC does even less). MS_INVALIDATE has nothing to drop: every shared
 * mapping maps the file's own pages. One VMA at a time: the file is synced with no lock held.
 */
long sys_msync(uintptr_t addr, size_t len, int flags)
{
	if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) || (addr & (PAGE_SIZE - 1)) ||
	    ((flags & MS_ASYNC) && (flags & MS_SYNC)))
		return -EINVAL;
	size_t alen = ALIGN_UP(len, PAGE_SIZE);
	uintptr_t end = addr + alen;
	if ((len && !alen) || end < addr)
		return -ENOMEM;
	if (end == addr)
		return 0;
	struct mm *mm = cur_mm();
	long err = 0;
	bool unmapped = false;
	for (uintptr_t a = addr; a < end;) {
		spin_lock(&mm->lock);
		struct vma *v = NULL;
		struct list_head *p;
		list_for_each(p, &mm->vmas) {
			struct vma *c = list_entry(p, struct vma, node);
			if (c->end > a) {
				v = c;
				break;
			}
		}
		if (!v || v->start >= end) {
			spin_unlock(&mm->lock);
			unmapped = true;
			break;
		}
		if (v->start > a)
			unmapped = true;
		struct file *f = v->file && vma_shared(v) ? v->file : NULL;
		if (f)
			file_get(f);
		a = v->end;
		spin_unlock(&mm->lock);
		if (!f)
			continue;
		int r = 0;
		if (flags & MS_SYNC)
			r = vfs_fsync(f, false);
		else if (f->inode->iops && f->inode->iops->writeback)
			r = f->inode->iops->writeback(f->inode);
		file_put(f);
		if (r && !err)
			err = r;
	}
	if (unmapped)
		return -ENOMEM;
	return err;
}
