/*
 * Kernel trap dispatch. Interrupts: timer (timer.c), software/IPI (ipi.c), external (PLIC). After an
 * interrupt that arrived while interrupts were enabled, the tick may have asked for a reschedule:
 * the thread is preempted right here (its registers are in the trap frame on its own stack).
 * Exceptions in the kernel are bugs: they panic with the cause, registers and a backtrace.
 */
#include "arch/riscv/trap.h"
#include "arch/riscv/riscv.h"
#include "drivers/plic/plic.h"
#include "kernel/ipi.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/timer.h"

extern char kernel_vector[];

static const char *const exc_names[] = {
	[EXC_INST_MISALIGNED] = "instruction address misaligned",
	[EXC_INST_ACCESS] = "instruction access fault",
	[EXC_ILLEGAL_INST] = "illegal instruction",
	[EXC_BREAKPOINT] = "breakpoint",
	[EXC_LOAD_MISALIGNED] = "load address misaligned",
	[EXC_LOAD_ACCESS] = "load access fault",
	[EXC_STORE_MISALIGNED] = "store address misaligned",
	[EXC_STORE_ACCESS] = "store access fault",
	[EXC_ECALL_U] = "environment call from U-mode",
	[EXC_ECALL_S] = "environment call from S-mode",
	[EXC_INST_PAGE_FAULT] = "instruction page fault",
	[EXC_LOAD_PAGE_FAULT] = "load page fault",
	[EXC_STORE_PAGE_FAULT] = "store page fault",
};

const char *trap_cause_name(uint64_t scause)
{
	if (scause & SCAUSE_INTR)
		return "interrupt";
	if (scause < ARRAY_SIZE(exc_names) && exc_names[scause])
		return exc_names[scause];
	return "unknown exception";
}

void trap_init_cpu(void)
{
	csr_write(stvec, (uint64_t)kernel_vector);
	csr_write(sscratch, 0);
	csr_set(sie, SIE_SSIE);
}

void trap_kernel(struct trapframe *tf)
{
	uint64_t cause = tf->scause;
	if (!(cause & SCAUSE_INTR))
		panic_trap(tf);
	switch (cause & ~SCAUSE_INTR) {
	case IRQ_S_TIMER:
		timer_interrupt();
		break;
	case IRQ_S_SOFT:
		ipi_interrupt();
		break;
	case IRQ_S_EXT:
		plic_handle();
		break;
	default:
		panic("unexpected interrupt %llu", (unsigned long long)(cause & ~SCAUSE_INTR));
	}
	if (tf->sstatus & SSTATUS_SPIE)
		sched_preempt_check();
}
