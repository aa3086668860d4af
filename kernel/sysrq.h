/* /proc/sysrq-trigger (kernel/sysrq.c): where threads sleep and CPUs run, on demand. */
#ifndef KERNEL_SYSRQ_H
#define KERNEL_SYSRQ_H

struct trapframe;

void sysrq_ipi(struct trapframe *tf);   /* IPI_BACKTRACE, in the interrupt: this CPU's report */

#endif
