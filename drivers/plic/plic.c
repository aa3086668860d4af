/*
 * PLIC driver (RISC-V Platform-Level Interrupt Controller, as on QEMU virt).
 *
 * Registers: priority[irq] at 4*irq; enable bits of context c at 0x2000 + 0x80*c; threshold and
 * claim/complete of context c at 0x200000 + 0x1000*c. Every registered source gets priority 1 and
 * is enabled in the context of its affinity CPU only, so exactly one hart claims it. Masking clears
 * that enable bit (used by NIC drivers while they poll). irq_lock guards the descriptor table and
 * the enable bits; counters are per CPU and written only by their CPU in interrupt context.
 */
#include "drivers/plic/plic.h"
#include "kernel/cpu.h"
#include "mm/mm.h"
#include "kernel/spinlock.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "arch/riscv/riscv.h"

#define PLIC_PRIORITY(irq) (4 * (irq))
#define PLIC_ENABLE(ctx) (0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx) (0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx) (0x200004 + 0x1000 * (ctx))
#define PLIC_DEFAULT_PRIORITY 1

struct irq_desc {
	irq_handler_t handler;
	void *arg;
	char name[IRQ_NAME_LEN];
	int cpu;                 /* affinity */
	bool masked;
	uint64_t count[NCPU];
};

static uint8_t *plic;
static int ndev;
static int context_of[NCPU];
static struct irq_desc irqs[PLIC_MAX_IRQ];
static struct spinlock irq_lock = SPINLOCK_INIT("irq");

static volatile uint32_t *reg(size_t off) { return (volatile uint32_t *)(plic + off); }

static void set_enable(int irq, int cpu, bool on)
{
	volatile uint32_t *w = reg(PLIC_ENABLE(context_of[cpu]) + 4 * (irq / 32));
	uint32_t v = mmio_read32(w);
	v = on ? v | (1U << (irq % 32)) : v & ~(1U << (irq % 32));
	mmio_write32(w, v);
	/* QEMU 7.2's PLIC does not re-evaluate pending sources when an enable bit changes; a priority
	 * write makes it look again (harmless on hardware). What devices must still do is in
	 * kernel/irq.h (leaving polling mode). */
	if (on)
		mmio_write32(reg(PLIC_PRIORITY(irq)), PLIC_DEFAULT_PRIORITY);
}

void plic_init(paddr_t base, size_t size __unused, int n)
{
	plic = pa_to_va(base);
	ndev = n < PLIC_MAX_IRQ ? n : PLIC_MAX_IRQ - 1;
	for (int i = 1; i <= ndev; i++)
		mmio_write32(reg(PLIC_PRIORITY(i)), 0);
}

void plic_set_context(int cpu, int context) { context_of[cpu] = context; }

void plic_cpu_init(void)
{
	int ctx = context_of[cpu_id()];
	for (int w = 0; w <= ndev / 32; w++)
		mmio_write32(reg(PLIC_ENABLE(ctx) + 4 * w), 0);
	spin_lock(&irq_lock);
	for (int i = 1; i <= ndev; i++)
		if (irqs[i].handler && irqs[i].cpu == cpu_id() && !irqs[i].masked)
			set_enable(i, cpu_id(), true);
	spin_unlock(&irq_lock);
	mmio_write32(reg(PLIC_THRESHOLD(ctx)), 0);
	csr_set(sie, SIE_SEIE);
}

int irq_register(int irq, irq_handler_t handler, void *arg, const char *name)
{
	if (irq <= 0 || irq > ndev || !handler)
		return -1;
	spin_lock(&irq_lock);
	struct irq_desc *d = &irqs[irq];
	if (d->handler) {
		spin_unlock(&irq_lock);
		return -1;
	}
	d->handler = handler;
	d->arg = arg;
	strlcpy(d->name, name, sizeof(d->name));
	d->cpu = 0;
	d->masked = false;
	mmio_write32(reg(PLIC_PRIORITY(irq)), PLIC_DEFAULT_PRIORITY);
	set_enable(irq, d->cpu, true);
	spin_unlock(&irq_lock);
	return 0;
}

int irq_set_affinity(int irq, int cpu)
{
	if (irq <= 0 || irq > ndev || cpu < 0 || cpu >= ncpus || !cpus[cpu].online)
		return -1;
	spin_lock(&irq_lock);
	struct irq_desc *d = &irqs[irq];
	if (!d->masked)
		set_enable(irq, d->cpu, false);
	d->cpu = cpu;
	if (!d->masked)
		set_enable(irq, cpu, true);
	spin_unlock(&irq_lock);
	return 0;
}

void irq_mask(int irq)
{
	spin_lock(&irq_lock);
	if (!irqs[irq].masked) {
		irqs[irq].masked = true;
		set_enable(irq, irqs[irq].cpu, false);
	}
	spin_unlock(&irq_lock);
}

void irq_unmask(int irq)
{
	spin_lock(&irq_lock);
	if (irqs[irq].masked) {
		irqs[irq].masked = false;
		set_enable(irq, irqs[irq].cpu, true);
	}
	spin_unlock(&irq_lock);
}

void plic_handle(void)
{
	int cpu = cpu_id();
	volatile uint32_t *claim = reg(PLIC_CLAIM(context_of[cpu]));
	uint32_t irq;
	while ((irq = mmio_read32(claim)) != 0) {
		if (irq <= (uint32_t)ndev && irqs[irq].handler) {
			irqs[irq].count[cpu]++;
			irqs[irq].handler((int)irq, irqs[irq].arg);
		} else {
			printk("plic: spurious irq %u on cpu %d\n", irq, cpu);
		}
		mmio_write32(claim, irq);
	}
}

int irq_affinity(int irq) { return irqs[irq].cpu; }
uint64_t irq_count(int irq, int cpu) { return irqs[irq].count[cpu]; }
const char *irq_name(int irq) { return irq > 0 && irq <= ndev && irqs[irq].handler ? irqs[irq].name : NULL; }
int plic_ndev(void) { return ndev; }

int irq_max(void) { return plic_ndev(); }
