/*
 * Per-CPU data. Each hart's `struct cpu` is reached through the tp register while in the kernel.
 * CPU ids are dense (0 = the boot hart) and differ from RISC-V hart ids, which OpenSBI may hand out
 * in any order. Per-CPU fields are touched only by their own CPU with interrupts off, unless a field
 * says otherwise.
 */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H
#include "kernel/types.h"

#define NCPU 8

struct thread;
struct mm;

struct cpu {
	/* read by arch/riscv/vector.S at fixed offsets: keep these two first */
	uint64_t kstack_top;         /* top of the running thread's kernel stack (user traps land here) */
	uint64_t user_sp;            /* scratch: user sp while switching stacks on a user trap */
	int id;                      /* dense CPU id */
	unsigned long hartid;        /* RISC-V hart id */
	int noff;                    /* depth of irq_push_off nesting */
	bool intena;                 /* were interrupts on before the first push_off? */
	struct thread *cur;          /* running thread (`current` in sched.h) */
	struct thread *idle;         /* this CPU's idle thread */
	struct thread *switch_prev;  /* thread being switched away from (sched.c) */
	void *boot_stack_top;        /* stack the CPU starts on (becomes its idle thread's) */
	volatile bool online;
	volatile bool need_resched;  /* set by timer/IPI; acted on at trap return */
	volatile uint32_t ipi_pending; /* bitmask of IPI_* reasons, set atomically by senders */
	uint64_t timer_irqs;         /* timer interrupts taken on this CPU */
	uint64_t ipi_irqs;           /* software interrupts taken */
	uint64_t ctx_switches;
	uint64_t idle_ticks;         /* timer ticks that found this CPU idle */
	uint64_t user_ticks;         /* ... running a user process's thread (user or kernel mode) */
	uint64_t system_ticks;       /* ... running a kernel thread (/proc/stat: fs/proc_sys.c) */
	uint64_t next_tick;          /* timebase value of the next scheduler tick */
	void *sched;                 /* this CPU's run queue (kernel/sched.c) */
	void *timers;                /* this CPU's timer queue (kernel/timer.c) */
	void *page_cache;            /* this CPU's free-page cache (mm/page.c) */
	struct thread *fp_owner;     /* user thread whose FP registers are live in this hart */
	struct mm *active_mm;        /* address space satp points at (NULL: kernel only) */
	bool tlb_lazy;               /* active_mm kept for a kernel thread: its TLB fences are skipped */
	uint64_t tlb_gen;            /* active_mm->tlb_gen this CPU's TLB is known to be flushed up to */
};

extern struct cpu cpus[NCPU];
extern int ncpus;                /* CPUs described by the device tree (and started) */

#ifdef HOST_TEST
extern int host_cpu_id;
static inline struct cpu *this_cpu(void) { return &cpus[host_cpu_id]; }
#else
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mv %0, tp" : "=r"(c));
	return c;
}
#endif
static inline int cpu_id(void) { return this_cpu()->id; }

#endif
