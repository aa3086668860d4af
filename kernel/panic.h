/* Fatal errors: panic() (declared in printk.h), and the trap and backtrace helpers behind it. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H
#include "kernel/types.h"

struct trapframe;

void __noreturn panic_trap(struct trapframe *tf);  /* kernel exception */
/* Symbolized frame-pointer walk from fp; pc and ra (0 if unknown) are a trapped frame's sepc and ra. */
void backtrace(uint64_t fp, uint64_t pc, uint64_t ra);
/* The same walk (without the heading) on the stack [lo, hi): another thread's, for kernel/sysrq.c. */
void backtrace_stack(uint64_t lo, uint64_t hi, uint64_t fp, uint64_t pc, uint64_t ra);
extern volatile int panicking;

#endif
