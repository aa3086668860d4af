/*
 * panic: stop the other harts (IPI_STOP), print the message, the registers of a faulting trap and a
 * symbolized backtrace, then power off with a failure status so QEMU exits non-zero.
 *
 * Backtraces walk frame pointers (the kernel is built with -fno-omit-frame-pointer): in a RISC-V
 * frame, fp points just above the saved return address (fp - 8) and the caller's fp (fp - 16).
 * The walk stops at the first frame pointer that leaves the current kernel stack. Symbol names come
 * from kernel/kallsyms.c.
 */
#include "kernel/klog.h"
#include "kernel/panic.h"
#include "kernel/kallsyms.h"
#include "kernel/printk.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/ipi.h"
#include "kernel/power.h"
#include "kernel/sched.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/trap.h"

#define BACKTRACE_MAX 32

volatile int panicking;

static void print_addr(const char *prefix, uint64_t pc)
{
	uint64_t off = 0;
	const char *name = ksym_lookup(pc, &off);
	if (name)
		printk("%s%#018llx %s+%#llx\n", prefix, (unsigned long long)pc, name, (unsigned long long)off);
	else
		printk("%s%#018llx ?\n", prefix, (unsigned long long)pc);
}

void backtrace(uint64_t fp, uint64_t pc, uint64_t ra)
{
	struct thread *t = this_cpu()->cur;
	uint64_t lo = t ? (uint64_t)t->kstack : fp, hi = t ? lo + KSTACK_SIZE : fp + KSTACK_SIZE;
	printk("backtrace:\n");
	backtrace_stack(lo, hi, fp, pc, ra);
}

void backtrace_stack(uint64_t lo, uint64_t hi, uint64_t fp, uint64_t pc, uint64_t ra)
{
	if (pc)
		print_addr("  ", pc);
	/* A trapped leaf function keeps its caller only in ra (its frame, if any, holds just fp, and
	 * may already be torn down): print ra when it lies in another function than pc. */
	uint64_t off;
	if (pc && ra && ksym_lookup(ra, &off) != ksym_lookup(pc, &off))
		print_addr("  ", ra);
	for (int i = 0; i < BACKTRACE_MAX; i++) {
		if (fp < lo + 16 || fp > hi || (fp & 7))
			break;
		uint64_t slot = ((uint64_t *)fp)[-1];
		if (i == 0 && pc && slot >= lo && slot <= hi) {
			fp = slot;      /* a leaf's frame: fp - 8 holds the caller's fp, not a return address */
			continue;
		}
		uint64_t prev = ((uint64_t *)fp)[-2];
		if (!slot || !prev)     /* the outermost frame of a thread: nothing called it */
			break;
		print_addr("  ", slot);
		if (prev <= fp)
			break;
		fp = prev;
	}
}

static void panic_begin(void)
{
	intr_off();
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL)) {
		for (;;)    /* another hart is already reporting */
			wfi();
	}
	console_panic_mode();
	klog_console_verbose();
	ipi_send_others(IPI_STOP);
}

void panic(const char *fmt, ...)
{
	panic_begin();
	va_list ap;
	printk("\nKERNEL PANIC on cpu %d: ", cpu_id());
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	backtrace((uint64_t)__builtin_frame_address(0), 0, 0);
	power_fail(1);
}

void panic_trap(struct trapframe *tf)
{
	static const char *const names[32] = {
		"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
		"a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
	};
	panic_begin();
	struct thread *t = this_cpu()->cur;
	printk("\nKERNEL PANIC on cpu %d: %s in kernel (thread %s)\n", cpu_id(), trap_cause_name(tf->scause),
	       t ? t->name : "-");
	printk("scause %#llx sepc %#llx stval %#llx sstatus %#llx\n", (unsigned long long)tf->scause,
	       (unsigned long long)tf->sepc, (unsigned long long)tf->stval, (unsigned long long)tf->sstatus);
	for (int i = 1; i < 32; i += 4)
		printk("%-4s %016llx  %-4s %016llx  %-4s %016llx  %-4s %016llx\n",
		       names[i], (unsigned long long)tf->regs[i], names[i + 1], (unsigned long long)tf->regs[i + 1],
		       names[i + 2], (unsigned long long)tf->regs[i + 2],
		       i + 3 < 32 ? names[i + 3] : "", i + 3 < 32 ? (unsigned long long)tf->regs[i + 3] : 0ULL);
	print_addr("faulting pc: ", tf->sepc);
	print_addr("ra:          ", tf->regs[TF_RA]);
	backtrace(tf->regs[TF_FP], tf->sepc, tf->regs[TF_RA]);
	power_fail(1);
}
