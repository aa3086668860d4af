/* IPIs: the sender ORs a reason into the target's cpu->ipi_pending and raises a software interrupt
 * through SBI; the target clears sip.SSIP, then takes all pending reasons at once. */
#include "kernel/ipi.h"
#include "kernel/cpu.h"
#include "kernel/sysrq.h"
#include "mm/uvm.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/sbi.h"

void ipi_send(int cpu, unsigned reason)
{
	__atomic_fetch_or(&cpus[cpu].ipi_pending, reason, __ATOMIC_RELEASE);
	sbi_send_ipi(1, cpus[cpu].hartid);
}

void ipi_send_others(unsigned reason)
{
	int me = cpu_id();
	for (int i = 0; i < ncpus; i++)
		if (i != me && cpus[i].online)
			ipi_send(i, reason);
}

void ipi_interrupt(struct trapframe *tf)
{
	struct cpu *c = this_cpu();
	csr_clear(sip, SIE_SSIE);
	c->ipi_irqs++;
	unsigned pending = __atomic_exchange_n(&c->ipi_pending, 0, __ATOMIC_ACQUIRE);
	if (pending & IPI_STOP) {
		c->online = false;
		for (;;) {
			intr_off();
			wfi();
		}
	}
	if (pending & IPI_RESCHED)
		c->need_resched = true;
	if (pending & IPI_BACKTRACE)
		sysrq_ipi(tf);
	if (pending & IPI_MM_LAZY)
		mm_lazy_drop();
}
