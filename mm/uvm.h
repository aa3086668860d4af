/*
 * User address spaces (mm/uvm.c). An mm is a Sv39 page table whose upper half is the kernel's
 * (shared entries) plus a sorted list of VMAs describing what the lower half may hold. Pages are
 * filled lazily by mm_fault: anonymous pages zeroed, private file pages copied, shared pages shared;
 * fork shares private pages copy-on-write (page refcounts in struct page). mm->lock (a spinlock)
 * guards the VMA list and the page table; nothing under it sleeps. Threads of one process share
 * one mm (refcount); harts with satp on an mm are in mm->cpumask and get a remote fence when a
 * mapping is removed or write-protected.
 */
#ifndef KERNEL_UVM_H
#define KERNEL_UVM_H
#include "kernel/types.h"
#include "lib/list.h"
#include "kernel/spinlock.h"
#include "lib/sleeplock.h"
#include "arch/riscv/vm.h"

#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define PROT_GROWSDOWN 0x01000000
#define PROT_GROWSUP 0x02000000
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_SHARED_VALIDATE 0x03
#define MAP_TYPE 0x0f
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_GROWSDOWN 0x100
#define MAP_NORESERVE 0x4000
#define MAP_POPULATE 0x8000
#define MAP_STACK 0x20000
#define MAP_FIXED_NOREPLACE 0x100000

/* user layout */
#define USER_SIGPAGE (0x4000000000UL - 0x1000)   /* sigreturn trampoline, R+X */
#define USER_STACK_TOP (USER_SIGPAGE - 0x1000)    /* one guard page below the trampoline */
#define USER_STACK_MAX (8UL << 20)
#define USER_MMAP_TOP (USER_STACK_TOP - USER_STACK_MAX - 0x10000)
#define USER_MIN_ADDR 0x1000UL

struct file;
struct inode;
struct vma;

/*
 * Mappings whose pages belong to someone else (System V shm segments, ipc/shm/): the VMA carries
 * ops and the owner's priv instead of a file. open runs for every new VMA that maps priv (a split,
 * fork, the first map), close for every one that goes away; page returns the physical page for
 * pgoff with a reference taken for the mapping (0: none, the access faults). Called with mm->lock
 * held: they must not sleep. name (optional) is what /proc/<pid>/maps shows; readonly mappings
 * never become writable (mprotect: EACCES).
 */
struct vm_ops {
	void (*open)(struct vma *v);
	void (*close)(struct vma *v);
	paddr_t (*page)(struct vma *v, uint64_t pgoff);
	const char *(*name)(const struct vma *v);
	bool readonly;
};

struct vma {
	struct list_head node;      /* in mm->vmas, sorted by start */
	uintptr_t start, end;       /* page-aligned, end exclusive */
	int prot;                   /* PROT_* */
	int flags;                  /* MAP_SHARED or MAP_PRIVATE, | MAP_ANONYMOUS */
	struct file *file;          /* NULL for anonymous memory */
	const struct vm_ops *ops;   /* owner-backed mappings (shm), or NULL */
	void *priv;                 /* the owner's object (ops) */
	uint64_t pgoff;             /* file offset of start, in pages */
	struct mm *mm;              /* file VMAs: the mm whose list holds it (mm/rmap.c) */
	struct list_head rnode;     /* file VMAs: in file->inode->i_mmap while mm is set */
	uint64_t zap_ticket;        /* the last truncation that handled this mm (i_mmap_lock) */
};

struct mm {
	pte_t *pgtable;
	struct spinlock lock;
	struct sleeplock map_lock;  /* held by whoever changes the VMA list, across its TLB fence */
	struct list_head vmas;
	int refcount;               /* threads using it (atomic) */
	uintptr_t brk_start, brk;   /* heap: [brk_start, brk) */
	volatile unsigned long cpumask;  /* CPUs whose satp points here (bit per CPU id) */
	uint64_t tlb_gen;                /* TLB fences asked for (atomic): a lazy CPU catches up with it */
	uint64_t faults, cow_copies;
	uint32_t pins;              /* atomic: 1 for the users (refcount) + truncations holding the
				     * struct (mm/rmap.c); the last mm_unpin frees it */
};

struct mm *mm_create(void);                 /* empty user half, kernel half shared */
void mm_get(struct mm *mm);
void mm_put(struct mm *mm);                 /* last one frees pages, tables, VMAs */
struct mm *mm_fork(struct mm *parent);      /* private pages become copy-on-write */
void mm_activate(struct mm *mm);            /* satp for this CPU (NULL: kernel only) */
/* The scheduler's switch: next's mm, or for a thread without one keep the current (lazy; uvm.c). */
void mm_switch_to(struct mm *next);
void mm_lazy_drop(void);                    /* IPI_MM_LAZY handler */
/* Keep the struct (not the address space: an mm whose users left is empty) past mm_put. */
void mm_pin(struct mm *mm);
void mm_unpin(struct mm *mm);
/* Truncation (mm/rmap.c): unmap, in mm, the pages of ino's mappings at page offsets >= pgoff:
 * shared and private alike, a private mapping's copies made at a write too (Linux's even_cows:
 * past EOF there is nothing left to be private about; the next access is SIGBUS). Takes
 * mm->lock; fences the harts of mm. */
void mm_zap_file(struct mm *mm, struct inode *ino, uint64_t pgoff);

/* Fault in addr for an access (cause: EXC_*_PAGE_FAULT). 0, or -EFAULT when no VMA allows it. */
int mm_fault(struct mm *mm, uintptr_t addr, uint64_t cause);
/* Fault addr in for reading and return its physical address (futex keys). */
int mm_lookup_pa(struct mm *mm, uintptr_t addr, paddr_t *pa);
/* Does addr lie in a MAP_SHARED mapping (a file's, shared anonymous memory, System V shm), whose
 * pages no copy-on-write ever replaces? (futex keys) */
bool mm_addr_shared(struct mm *mm, uintptr_t addr);
/* The writable page at addr with a reference taken (page_put when done); -EFAULT if not present. */
int mm_pin_pa(struct mm *mm, uintptr_t addr, paddr_t *pa);

/* VMAs. mm_map: create a mapping at [addr, addr+len) (replacing what is there). */
int mm_map(struct mm *mm, uintptr_t addr, size_t len, int prot, int flags, struct file *file, uint64_t pgoff);
/* The same, -EEXIST if anything is mapped in the range (checked atomically with the mapping). */
int mm_map_noreplace(struct mm *mm, uintptr_t addr, size_t len, int prot, int flags, struct file *file,
		     uint64_t pgoff);
/* The same at a free range chosen atomically with the mapping: the address, or -errno. */
long mm_map_anywhere(struct mm *mm, size_t len, int prot, int flags, struct file *file, uint64_t pgoff);
int mm_unmap(struct mm *mm, uintptr_t addr, size_t len);
/* An owner-backed shared mapping (System V shm): the pages of [addr, addr+len) come from ops->page
 * at their first touch (a fault), as Linux's shmem does. addr 0: anywhere (chosen atomically with the mapping); an occupied range is -EINVAL unless
 * remap. The address, or -errno. */
long mm_map_owned(struct mm *mm, uintptr_t addr, size_t len, int prot, const struct vm_ops *ops, void *priv,
		  bool remap);
/* Unmap the attachment that starts at addr: the VMA there (which must use ops) and those right
 * after it that continue it (one that was split). -EINVAL if none starts at addr. */
long mm_unmap_owned(struct mm *mm, uintptr_t addr, const struct vm_ops *ops);
/* What an address space holds, in pages (the OOM policy's footprint, mm/oom.c): the size of its
 * VMAs, its present pages by kind (anonymous, file, owner-backed shm) and its page-table pages. */
struct mm_usage { uint64_t total_vm, anon_rss, file_rss, shmem_rss, pgtables; };
void mm_get_usage(struct mm *mm, struct mm_usage *u);
/* Write into another (not yet active) address space, faulting pages in: exec's loader. */
int mm_write(struct mm *mm, uintptr_t uaddr, const void *src, size_t n);
void mm_map_sigpage(struct mm *mm);

long sys_brk(uintptr_t addr);
long sys_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, long off);
long sys_munmap(uintptr_t addr, size_t len);
long sys_mprotect(uintptr_t addr, size_t len, int prot);
long sys_madvise(uintptr_t addr, size_t len, int advice);
long sys_msync(uintptr_t addr, size_t len, int flags);      /* writeback of shared file mappings */

/* mm/vm_limit.c: may mm grow by len bytes of a mapping (prot, flags) under RLIMIT_AS and
 * RLIMIT_DATA? 0 or -ENOMEM */
int mm_may_expand(struct mm *mm, size_t len, int prot, int flags);
#endif
