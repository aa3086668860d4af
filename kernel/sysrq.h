/* /proc/sysrq-trigger (kernel/sysrq.c): where threads sleep and CPUs run, on demand. */
#ifndef KERNEL_SYSRQ_H
#define KERNEL_SYSRQ_H

struct trapframe;

void sysrq_ipi(struct trapframe *tf);   /* IPI_BACKTRACE, in the interrupt: this CPU's report */

/* Another subsystem's key (Linux's register_sysrq_key): fn runs in the writer's system call and
 * prints its report; called before user space starts (no lock guards the table). */
int sysrq_register(char key, const char *help, void (*fn)(void));

#endif
