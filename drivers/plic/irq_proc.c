/*
 * /proc/interrupts in Linux's layout (kernel/irq/proc.c, fs/proc/interrupts.c): a CPU header, one
 * row per registered PLIC source with its count on each CPU, then the timer (LOC) and IPI rows.
 * Counters are read without locks (each is a single-writer 64-bit word; a line may mix moments, as
 * on Linux). The test kernel's monitor prints the same text (`irqs`).
 */
#include "kernel/irq.h"
#include "kernel/cpu.h"
#include "kernel/init.h"
#include "kernel/printk.h"
#include "fs/fs.h"

#define U(x) ((unsigned long long)(x))

size_t irq_show(char *buf, size_t size)
{
	size_t n = 0;
	bufprintf(buf, size, &n, "%11s", "");                 /* IRQ_PREC + 8 columns, as Linux */
	for (int c = 0; c < ncpus; c++)
		bufprintf(buf, size, &n, "CPU%-8d", c);
	bufprintf(buf, size, &n, "\n");
	for (int irq = 1; irq <= irq_max(); irq++) {
		const char *name = irq_name(irq);
		if (!name)
			continue;
		bufprintf(buf, size, &n, "%3d: ", irq);
		for (int c = 0; c < ncpus; c++)
			bufprintf(buf, size, &n, "%10llu ", U(irq_count(irq, c)));
		bufprintf(buf, size, &n, " SiFive PLIC %3d Level     %s\n", irq, name);
	}
	bufprintf(buf, size, &n, "%3s: ", "LOC");
	for (int c = 0; c < ncpus; c++)
		bufprintf(buf, size, &n, "%10llu ", U(READ_ONCE(cpus[c].timer_irqs)));
	bufprintf(buf, size, &n, "  Local timer interrupts\n");
	bufprintf(buf, size, &n, "%3s: ", "IPI");
	for (int c = 0; c < ncpus; c++)
		bufprintf(buf, size, &n, "%10llu ", U(READ_ONCE(cpus[c].ipi_irqs)));
	bufprintf(buf, size, &n, "  Inter-processor interrupts\n");
	return n;
}

static void irq_proc_init(void)
{
	if (proc_create("/proc/interrupts", irq_show) < 0)
		printk("irq: cannot create /proc/interrupts\n");
}
late_init(irq_proc_init);
