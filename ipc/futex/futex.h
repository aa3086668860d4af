/* Futexes (ipc/futex/futex.c): what the rest of the kernel calls. */
#ifndef KERNEL_FUTEX_H
#define KERNEL_FUTEX_H
#include "kernel/types.h"

struct mm;
struct thread;

int futex_wake_addr(struct mm *mm, uintptr_t uaddr, int nr);   /* private wake; count woken */
void futex_exit_robust_list(struct thread *t);                 /* thread exit: robust mutexes */
long sys_futex(uintptr_t uaddr, int op, uint32_t val, uintptr_t timeout, uintptr_t uaddr2, uint32_t val3);

#endif
