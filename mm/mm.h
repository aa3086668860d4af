/*
 * Memory layout constants and the physical <-> virtual conversions.
 *
 * The kernel runs in the upper half of the Sv39 address space. All physical memory (RAM and the
 * MMIO regions named by the device tree) is mapped at VA = PA + KERNEL_VOFFSET (the "direct map"),
 * and the kernel image itself is linked inside that map, so pa_to_va/va_to_pa are one addition.
 * User space (later stages) owns the lower half, 0 .. USER_TOP.
 */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H
#include "kernel/types.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define MEGAPAGE_SIZE (1UL << 21)
#define GIGAPAGE_SIZE (1UL << 30)

#ifdef HOST_TEST
#define KERNEL_VOFFSET 0UL            /* host unit tests: "physical" memory is ordinary host memory */
#else
#define KERNEL_VOFFSET 0xffffffc000000000UL
#endif

static inline void *pa_to_va(paddr_t pa) { return (void *)(uintptr_t)(pa + KERNEL_VOFFSET); }
static inline paddr_t va_to_pa(const void *va) { return (paddr_t)(uintptr_t)va - KERNEL_VOFFSET; }

#endif
