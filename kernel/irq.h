/*
 * Device interrupts, the interface the rest of the kernel uses (Linux's kernel/irq). The platform's
 * interrupt controller implements it (drivers/plic/ on QEMU virt). A source is delivered to exactly
 * one CPU, its affinity; handlers run in interrupt context on that CPU and must not sleep.
 */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H
#include "kernel/types.h"

#define IRQ_NAME_LEN 16

typedef void (*irq_handler_t)(int irq, void *arg);

int irq_register(int irq, irq_handler_t handler, void *arg, const char *name);   /* on CPU 0 */
int irq_set_affinity(int irq, int cpu);
/*
 * Leaving polling mode (NAPI). QEMU's PLIC signals a source on its line's rising edge: a source that
 * became pending while masked is not delivered when it is unmasked, and a line that stays high
 * raises nothing new. (The PLIC driver makes QEMU look again at each unmask, but the device side
 * still needs the edge.) So a driver whose ring ran dry does, in this order:
 *   1. irq_unmask(irq);
 *   2. acknowledge the device's causes (this lowers its line, so the next event raises it again);
 *   3. look at the ring once more: what arrived before 2 is found here, what arrives after it
 *      interrupts.
 * netdev's poll loop does 1 and 3 around every driver (net/netdev.c); the drivers do 2.
 */
void irq_mask(int irq);                           /* stop delivering (NAPI: poll mode) */
void irq_unmask(int irq);
int irq_affinity(int irq);
uint64_t irq_count(int irq, int cpu);
const char *irq_name(int irq);                    /* NULL if unregistered */
int irq_max(void);                                /* sources are 1 .. irq_max() */
/* /proc/interrupts' text; returns its length. */
size_t irq_show(char *buf, size_t size);

#endif
