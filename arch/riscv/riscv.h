/* RISC-V privileged-architecture definitions and CSR accessors for S-mode. */
#ifndef ARCH_RISCV_H
#define ARCH_RISCV_H
#include "kernel/types.h"

#define csr_read(csr) ({ unsigned long __v; __asm__ volatile("csrr %0, " #csr : "=r"(__v) :: "memory"); __v; })
#define csr_write(csr, val) ({ unsigned long __v = (unsigned long)(val); \
	__asm__ volatile("csrw " #csr ", %0" :: "rK"(__v) : "memory"); })
#define csr_set(csr, val) ({ unsigned long __v = (unsigned long)(val); \
	__asm__ volatile("csrs " #csr ", %0" :: "rK"(__v) : "memory"); })
#define csr_clear(csr, val) ({ unsigned long __v = (unsigned long)(val); \
	__asm__ volatile("csrc " #csr ", %0" :: "rK"(__v) : "memory"); })

/* sstatus */
#define SSTATUS_SIE  (1UL << 1)
#define SSTATUS_SPIE (1UL << 5)
#define SSTATUS_SPP  (1UL << 8)
#define SSTATUS_FS   (3UL << 13)
#define SSTATUS_SUM  (1UL << 18)

/* sie / sip bits */
#define IRQ_S_SOFT  1
#define IRQ_S_TIMER 5
#define IRQ_S_EXT   9
#define SIE_SSIE (1UL << IRQ_S_SOFT)
#define SIE_STIE (1UL << IRQ_S_TIMER)
#define SIE_SEIE (1UL << IRQ_S_EXT)

#define SCAUSE_INTR (1UL << 63)

/* exception causes */
#define EXC_INST_MISALIGNED 0
#define EXC_INST_ACCESS     1
#define EXC_ILLEGAL_INST    2
#define EXC_BREAKPOINT      3
#define EXC_LOAD_MISALIGNED 4
#define EXC_LOAD_ACCESS     5
#define EXC_STORE_MISALIGNED 6
#define EXC_STORE_ACCESS    7
#define EXC_ECALL_U         8
#define EXC_ECALL_S         9
#define EXC_INST_PAGE_FAULT 12
#define EXC_LOAD_PAGE_FAULT 13
#define EXC_STORE_PAGE_FAULT 15

/* Sv39 */
#define SATP_MODE_SV39 (8UL << 60)
#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define PTE_PPN_SHIFT 10
#define PTE_PBMT_IO (2UL << 61)    /* Svpbmt: non-cacheable, strongly ordered I/O */

static inline bool intr_enabled(void) { return csr_read(sstatus) & SSTATUS_SIE; }
static inline void intr_on(void) { csr_set(sstatus, SSTATUS_SIE); }
static inline void intr_off(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline uint64_t rdtime(void) { return csr_read(time); }
static inline void sfence_vma(void) { __asm__ volatile("sfence.vma zero, zero" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("wfi"); }
static inline void mb(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }
static inline void io_wmb(void) { __asm__ volatile("fence w, o" ::: "memory"); }
static inline void io_rmb(void) { __asm__ volatile("fence i, r" ::: "memory"); }

/* MMIO accessors: device memory, never cached by the compiler. */
static inline uint8_t mmio_read8(const volatile void *a) { uint8_t v = *(const volatile uint8_t *)a; io_rmb(); return v; }
static inline uint16_t mmio_read16(const volatile void *a) { uint16_t v = *(const volatile uint16_t *)a; io_rmb(); return v; }
static inline uint32_t mmio_read32(const volatile void *a) { uint32_t v = *(const volatile uint32_t *)a; io_rmb(); return v; }
static inline void mmio_write8(volatile void *a, uint8_t v) { io_wmb(); *(volatile uint8_t *)a = v; }
static inline void mmio_write16(volatile void *a, uint16_t v) { io_wmb(); *(volatile uint16_t *)a = v; }
static inline void mmio_write32(volatile void *a, uint32_t v) { io_wmb(); *(volatile uint32_t *)a = v; }

#endif
