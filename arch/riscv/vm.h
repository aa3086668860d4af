/* Sv39 page tables: the kernel's own (direct map of RAM and device registers) and helpers that
 * later stages use for user address spaces. */
#ifndef ARCH_VM_H
#define ARCH_VM_H
#include "kernel/types.h"

typedef uint64_t pte_t;

#define PT_ENTRIES 512
#define PT_USER_ENTRIES 256          /* top-level entries 0..255 map the user half */
#define PTE_PA(pte) ((((pte) >> 10) & ((1UL << 44) - 1)) << 12)
#define PA_PTE(pa) (((pa) >> 12) << 10)
#define PTE_LEAF_BITS 0xe            /* R|W|X: a leaf when any is set */

extern pte_t *kernel_pagetable;

int vm_map(pte_t *pt, vaddr_t va, paddr_t pa, uint64_t size, uint64_t perm);  /* 0 or -ENOMEM */
pte_t *vm_walk(pte_t *pt, vaddr_t va, bool alloc);   /* leaf PTE slot for a 4 KiB page */
void kvm_init(void);          /* boot CPU: build the kernel page table and switch to it */
void kvm_init_hart(void);     /* other CPUs: switch to it */
void *ioremap(paddr_t pa, uint64_t size);   /* device registers in the direct map (mapped at boot) */
struct vm_stats { uint64_t pt_pages, mapped_4k, mapped_2m, mapped_1g; };
void vm_get_stats(struct vm_stats *st);

#endif
