/*
 * PLIC: the platform-level interrupt controller. Each hart has an S-mode context (found through the
 * device tree's interrupts-extended); an interrupt source is enabled in exactly one context, its
 * affinity CPU. Handlers run in interrupt context on that CPU, between claim and complete.
 */
#ifndef DRIVERS_PLIC_H
#define DRIVERS_PLIC_H
#include "kernel/types.h"

#define PLIC_MAX_IRQ 128
#define IRQ_NAME_LEN 16

typedef void (*irq_handler_t)(int irq, void *arg);

void plic_init(paddr_t base, size_t size, int ndev);
void plic_set_context(int cpu, int context);      /* S-mode context of a CPU */
void plic_cpu_init(void);                         /* this CPU: threshold 0, enable external irqs */
void plic_handle(void);                           /* trap handler: claim, dispatch, complete */

int irq_register(int irq, irq_handler_t handler, void *arg, const char *name);   /* on CPU 0 */
int irq_set_affinity(int irq, int cpu);
void irq_mask(int irq);                           /* stop delivering (NAPI: poll mode) */
void irq_unmask(int irq);
int irq_affinity(int irq);
uint64_t irq_count(int irq, int cpu);
const char *irq_name(int irq);                    /* NULL if unregistered */
int plic_ndev(void);

#endif
