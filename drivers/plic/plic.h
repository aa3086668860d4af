/*
 * PLIC: the platform-level interrupt controller. Each hart has an S-mode context (found through the
 * device tree's interrupts-extended); an interrupt source is enabled in exactly one context, its
 * affinity CPU. Handlers run in interrupt context on that CPU, between claim and complete.
 */
#ifndef DRIVERS_PLIC_H
#define DRIVERS_PLIC_H
#include "kernel/types.h"
#include "kernel/irq.h"      /* the interface this driver implements: irq_register ... */

#define PLIC_MAX_IRQ 128

void plic_init(paddr_t base, size_t size, int ndev);
void plic_set_context(int cpu, int context);      /* S-mode context of a CPU */
void plic_cpu_init(void);                         /* this CPU: threshold 0, enable external irqs */
void plic_handle(void);                           /* trap handler: claim, dispatch, complete */
int plic_ndev(void);

#endif
