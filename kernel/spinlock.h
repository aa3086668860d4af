/*
 * Spinlocks. Taking one disables interrupts on this hart (nested: interrupts come back when the
 * last lock is released, and only if they were on before the first) so an interrupt handler can
 * never spin on a lock its own hart holds. The holder's CPU is recorded; taking a lock this CPU
 * already holds panics ("self-deadlock") instead of hanging. Never sleep holding a spinlock.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H
#include "kernel/types.h"

struct spinlock {
	volatile uint32_t locked;
	int cpu;               /* holder's CPU id, -1 when free (for diagnostics and self-deadlock) */
	const char *name;
};

#define SPINLOCK_INIT(n) { 0, -1, (n) }

/* The lock and interrupt on/off functions live in .text.lock (kernel.ld) so the profiler can tell
 * them apart (kernel/spinlock.c). */
#define __lockfunc __attribute__((section(".text.lock")))
extern char __lock_text_start[], __lock_text_end[];

void spin_init(struct spinlock *l, const char *name);
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
bool spin_trylock(struct spinlock *l);
bool spin_holding(const struct spinlock *l);

/* Nested interrupt disable for this hart (what spin_lock uses). */
void irq_push_off(void);
void irq_pop_off(void);

#endif
