/*
 * Spinlocks (see spinlock.h for the rules). Acquire is an amoswap with acquire ordering, release a
 * store with release ordering. Interrupt state is tracked per CPU in a push/pop nesting count
 * (cpu->noff, cpu->intena), as xv6 does; the scheduler carries `intena` across a context switch
 * because the run-queue lock is taken by one thread and released by the next.
 *
 * The functions that turn interrupts off and on are __lockfunc (section .text.lock, between
 * __lock_text_start and __lock_text_end): a timer interrupt held back by them is taken right as
 * irq_pop_off turns interrupts on again, and the profiler (kernel/profile.c) charges that sample to
 * the code that called them, as Linux's profile_pc does for its lock functions.
 */
#include "kernel/spinlock.h"
#include "kernel/cpu.h"
#include "kernel/printk.h"
#include "arch/riscv/riscv.h"

void spin_init(struct spinlock *l, const char *name)
{
	l->locked = 0;
	l->cpu = -1;
	l->name = name;
}

__lockfunc void irq_push_off(void)
{
	bool on = intr_enabled();
	intr_off();
	struct cpu *c = this_cpu();
	if (c->noff == 0)
		c->intena = on;
	c->noff++;
}

__lockfunc void irq_pop_off(void)
{
	struct cpu *c = this_cpu();
	if (intr_enabled())
		panic("irq_pop_off: interrupts enabled");
	if (c->noff < 1)
		panic("irq_pop_off: unbalanced");
	c->noff--;
	if (c->noff == 0 && c->intena)
		intr_on();
}

bool spin_holding(const struct spinlock *l)
{
	return l->locked && l->cpu == cpu_id();
}

__lockfunc void spin_lock(struct spinlock *l)
{
	irq_push_off();
	if (spin_holding(l))
		panic("self-deadlock on spinlock '%s' (cpu %d)", l->name, cpu_id());
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		while (READ_ONCE(l->locked))
			__asm__ volatile("nop");
	}
	l->cpu = cpu_id();
}

__lockfunc bool spin_trylock(struct spinlock *l)
{
	irq_push_off();
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		irq_pop_off();
		return false;
	}
	l->cpu = cpu_id();
	return true;
}

__lockfunc void spin_unlock(struct spinlock *l)
{
	if (!spin_holding(l))
		panic("spin_unlock of '%s' not held by cpu %d", l->name, cpu_id());
	l->cpu = -1;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	irq_pop_off();
}

bool may_sleep(void)
{
	return this_cpu()->noff == 0 && intr_enabled();
}
