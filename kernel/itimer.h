/* Interval timers (kernel/itimer.c): setitimer/getitimer, ITIMER_REAL. */
#ifndef KERNEL_ITIMER_H
#define KERNEL_ITIMER_H
#include "kernel/types.h"
struct proc;
struct itimer;
long sys_setitimer(int which, uintptr_t unew, uintptr_t uold);
long sys_getitimer(int which, uintptr_t ucur);
/* reap(), under proc_lock: the timer no longer signals p. */
void itimer_detach(struct proc *p);
/* A SIGALRM left p's shared pending set (delivered or read): restart a periodic timer. */
void itimer_sigalrm_dequeued(struct proc *p);
/* After dropping proc_lock: stop and free a detached timer (NULL: nothing). */
void itimer_free(struct itimer *it);
#endif
