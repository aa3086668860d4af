/* Trap frames and trap entry (arch/riscv/vector.S, trap.c). */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H
#include "kernel/types.h"

/* Saved by vector.S on the kernel stack. regs[i] is register xi (regs[0] unused). */
struct trapframe {
	uint64_t regs[32];
	uint64_t sepc, sstatus, scause, stval;
};
#define TF_RA 1
#define TF_SP 2
#define TF_FP 8

void trap_init_cpu(void);                 /* point stvec at the kernel vector, enable sie bits */
void trap_kernel(struct trapframe *tf);   /* called from vector.S */
void trap_user(struct trapframe *tf);     /* called from vector.S */
const char *trap_cause_name(uint64_t scause);

#endif
