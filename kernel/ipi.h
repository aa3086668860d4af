/* Inter-processor interrupts, sent through SBI as supervisor software interrupts. */
#ifndef KERNEL_IPI_H
#define KERNEL_IPI_H

#define IPI_RESCHED 0x1      /* look at the run queue */
#define IPI_STOP    0x2      /* halt this hart (panic) */
#define IPI_BACKTRACE 0x4    /* print where this CPU is (kernel/sysrq.c 'l') */
#define IPI_MM_LAZY 0x8      /* drop a lazily kept address space (mm/uvm.c) */

struct trapframe;

void ipi_send(int cpu, unsigned reason);
void ipi_send_others(unsigned reason);
void ipi_interrupt(struct trapframe *tf);    /* trap handler: supervisor software interrupt */

#endif
