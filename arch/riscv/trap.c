/*
 * Kernel trap dispatch. Interrupts: timer (timer.c), software/IPI (ipi.c), external (PLIC). After an
 * interrupt that arrived while interrupts were enabled, the tick may have asked for a reschedule:
 * the thread is preempted right here (its registers are in the trap frame on its own stack).
 * Exceptions in the kernel are bugs: they panic with the cause, registers and a backtrace.
 */
#include "arch/riscv/trap.h"
#include "arch/riscv/riscv.h"
#include "drivers/plic/plic.h"
#include "kernel/ipi.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/profile.h"
#include "kernel/sched.h"
#include "kernel/timer.h"
#include "kernel/errno.h"
#include "kernel/proc.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"

#define SEGV_MAPERR 1
#define SEGV_ACCERR 2
#define ILL_ILLOPC 1
#define TRAP_BRKPT 1
#define BUS_ADRALN 1
#define BUS_ADRERR 2                /* a file mapping's page wholly past EOF (mm/uvm.c) */

extern char trap_vector[];

static const char *const exc_names[] = {
	[EXC_INST_MISALIGNED] = "instruction address misaligned",
	[EXC_INST_ACCESS] = "instruction access fault",
	[EXC_ILLEGAL_INST] = "illegal instruction",
	[EXC_BREAKPOINT] = "breakpoint",
	[EXC_LOAD_MISALIGNED] = "load address misaligned",
	[EXC_LOAD_ACCESS] = "load access fault",
	[EXC_STORE_MISALIGNED] = "store address misaligned",
	[EXC_STORE_ACCESS] = "store access fault",
	[EXC_ECALL_U] = "environment call from U-mode",
	[EXC_ECALL_S] = "environment call from S-mode",
	[EXC_INST_PAGE_FAULT] = "instruction page fault",
	[EXC_LOAD_PAGE_FAULT] = "load page fault",
	[EXC_STORE_PAGE_FAULT] = "store page fault",
};

const char *trap_cause_name(uint64_t scause)
{
	if (scause & SCAUSE_INTR)
		return "interrupt";
	if (scause < ARRAY_SIZE(exc_names) && exc_names[scause])
		return exc_names[scause];
	return "unknown exception";
}

#define SCOUNTEREN_TM (1UL << 1)

/*
 * sstatus.SUM (S-mode may access user pages) is set once per hart here and stays set: every trap
 * frame carries it, so sret and the frame restores never change it. Toggling it around each user
 * copy, as SMAP-style kernels do, costs a whole TLB flush on each toggle under QEMU (it flushes the
 * soft TLB whenever SUM changes): a 1 KiB copy_from_user took 7.6 us that way. What keeps the
 * kernel off user memory instead: it touches user addresses only in arch/riscv/uaccess.S, after
 * access_ok, and a fault anywhere else in the kernel is still a fault (user pages are never
 * mapped at kernel addresses).
 */
void trap_init_cpu(void)
{
	csr_write(stvec, (uint64_t)trap_vector);
	csr_write(sscratch, 0);
	csr_set(sstatus, SSTATUS_SUM);
	csr_set(sie, SIE_SSIE);
	csr_write(scounteren, SCOUNTEREN_TM);   /* rdtime from U-mode: the vDSO's clock (kernel/vdso.c) */
}

extern char uaccess_start[], uaccess_end[];

static bool is_page_fault(uint64_t cause)
{
	return cause == EXC_LOAD_PAGE_FAULT || cause == EXC_STORE_PAGE_FAULT || cause == EXC_INST_PAGE_FAULT;
}

/* A fault inside a user-memory copy: resolve it like a user fault, or make the copy fail. */
static bool uaccess_fault(struct trapframe *tf)
{
	if (tf->sepc < (uint64_t)uaccess_start || tf->sepc >= (uint64_t)uaccess_end)
		return false;
	struct thread *t = current;
	int r = -1;
	if (is_page_fault(tf->scause) && t->mm && tf->stval < USER_TOP) {
		if (tf->sstatus & SSTATUS_SPIE)
			intr_on();
		r = mm_fault(t->mm, tf->stval, tf->scause);
		intr_off();
	}
	if (r < 0) {
		tf->regs[10] = (uint64_t)-EFAULT;
		tf->sepc = tf->regs[TF_RA];
	}
	return true;
}

void trap_kernel(struct trapframe *tf)
{
	uint64_t cause = tf->scause;
	if (!(cause & SCAUSE_INTR)) {
		if (uaccess_fault(tf))
			return;
		panic_trap(tf);
	}
	switch (cause & ~SCAUSE_INTR) {
	case IRQ_S_TIMER:
		profile_hit(tf->sepc, tf->regs[TF_FP]);
		timer_interrupt();
		break;
	case IRQ_S_SOFT:
		ipi_interrupt(tf);
		break;
	case IRQ_S_EXT:
		plic_handle();
		break;
	default:
		panic("unexpected interrupt %llu", (unsigned long long)(cause & ~SCAUSE_INTR));
	}
	if (tf->sstatus & SSTATUS_SPIE)
		sched_preempt_check();
}

static void user_interrupt(struct trapframe *tf, uint64_t code)
{
	switch (code) {
	case IRQ_S_TIMER: timer_interrupt(); break;
	case IRQ_S_SOFT: ipi_interrupt(tf); break;
	case IRQ_S_EXT: plic_handle(); break;
	default: panic("unexpected interrupt %llu from user mode", (unsigned long long)code);
	}
}

/* Traps from user mode (vector.S user_entry); returns to user mode through proc_return_to_user. */
void trap_user(struct trapframe *tf)
{
	struct thread *t = current;
	struct cpu *c = this_cpu();
	uint64_t now = time_ns();
	t->utime_ns += now - t->user_enter_ns;
	t->kernel_enter_ns = now;
	if ((tf->sstatus & SSTATUS_FS) == SSTATUS_FS && c->fp_owner == t) {   /* FS dirty */
		fpu_save(t->fp);
		tf->sstatus &= ~SSTATUS_FS;
		tf->sstatus |= 2UL << 13;               /* clean */
	}
	uint64_t cause = tf->scause;
	if (cause & SCAUSE_INTR) {
		user_interrupt(tf, cause & ~SCAUSE_INTR);
	} else if (cause == EXC_ECALL_U) {
		tf->sepc += 4;
		t->syscall_a0 = tf->regs[10];
		t->in_syscall = true;
		intr_on();
		tf->regs[10] = (uint64_t)syscall_dispatch(tf);
	} else if (is_page_fault(cause)) {
		intr_on();
		int r = mm_fault(t->mm, tf->stval, cause);
		if (r == -ENOMEM)                       /* out of memory and mm/oom.c freed nothing */
			signal_send_thread(t, SIGKILL);
		else if (r == -ENXIO)
			signal_fault(SIGBUS, BUS_ADRERR, tf->stval);
		else if (r < 0)
			signal_fault(SIGSEGV, SEGV_MAPERR, tf->stval);
	} else {
		intr_on();
		switch (cause) {
		case EXC_ILLEGAL_INST: signal_fault(SIGILL, ILL_ILLOPC, tf->sepc); break;
		case EXC_BREAKPOINT: signal_fault(SIGTRAP, TRAP_BRKPT, tf->sepc); break;
		case EXC_INST_MISALIGNED:
		case EXC_LOAD_MISALIGNED:
		case EXC_STORE_MISALIGNED: signal_fault(SIGBUS, BUS_ADRALN, tf->stval); break;
		default: signal_fault(SIGSEGV, SEGV_ACCERR, tf->stval); break;
		}
	}
	proc_return_to_user();
}
