/*
 * /proc/sysrq-trigger: Linux's magic SysRq keys written as characters, for finding out where a
 * system that still runs is stuck (the fuzzer writes "tl" when a worker stops making progress:
 * scripts/fuzz.py, user/fuzz/sysfuzz.c). Each character is one command; the report goes to the
 * kernel log (and so to the console, at the default level), as on Linux:
 *   t  every thread: tid, name, state, CPU, and for one that is not executing, the kernel
 *      backtrace of where it sleeps (walked from the registers context_switch saved: ra and the
 *      frame pointer s0)
 *   l  every online CPU's backtrace at this moment: the writer's own, then each other CPU in
 *      turn prints its own from an IPI (IPI_BACKTRACE) with the interrupted frame; a CPU that does
 *      not answer within CPU_ANSWER_NS is reported as such (it runs with interrupts off)
 *   h  (and any other character) the list of commands
 * plus what other subsystems register (sysrq_register): Q, the squeues (net/squeue.c).
 * Blanks and newlines are skipped. One writer reports at a time (the others get EBUSY).
 *
 * Contexts. sysrq_write runs in a system call and may spin waiting for another CPU's answer;
 * sysrq_ipi runs in the answering CPU's interrupt handler. The thread walk holds the thread-list
 * lock (sched_for_each_thread), so no thread's stack is freed under it; a sleeping thread may be
 * woken meanwhile and run on another CPU, so its frames are read racily, but the walk never leaves
 * that thread's stack pages (backtrace_stack bounds every frame pointer), so the worst is a
 * garbled line, never a fault.
 */
#include "kernel/sysrq.h"
#include "arch/riscv/trap.h"
#include "fs/internal.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/init.h"
#include "kernel/ipi.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"

#define SYSRQ_INPUT_MAX 16                  /* characters taken from one write */
#define CPU_ANSWER_NS (1000 * 1000 * 1000ULL)
#define SSTATUS_SPP (1UL << 8)              /* the trap came from supervisor mode */
#define SYSRQ_EXTRA_MAX 8

struct sysrq_key { char key; const char *help; void (*fn)(void); };
static struct sysrq_key extra[SYSRQ_EXTRA_MAX];
static int nextra;

static int busy;                            /* a writer is reporting (atomic) */
static volatile int answered_cpu = -1;      /* the last CPU that printed its 'l' report */

static void show_thread(struct thread *t, void *arg __unused)
{
	printk("  %5d %-16s %-8s cpu %d switches %llu%s\n", t->tid, t->name, sched_state_name(t->state), t->cpu,
	       (unsigned long long)t->switches, t->proc ? "" : " (kernel thread)");
	if (t->on_cpu || t->state == THREAD_RUNNING || t->state == THREAD_NEW)
		return;                     /* executing: its frames move (see 'l'); new: no frames yet */
	uint64_t lo = (uint64_t)t->kstack;
	backtrace_stack(lo, lo + KSTACK_SIZE, t->ctx.s[0], t->ctx.ra, 0);
}

static void show_state(void)
{
	printk("sysrq: Show State\n");
	sched_for_each_thread(show_thread, NULL);
}

void sysrq_ipi(struct trapframe *tf)
{
	struct thread *t = this_cpu()->cur;
	printk("sysrq: CPU %d running %d %s\n", cpu_id(), t ? t->tid : -1, t ? t->name : "?");
	sched_dump_cpu(cpu_id());
	if (tf->sstatus & SSTATUS_SPP) {
		uint64_t lo = (uint64_t)t->kstack;
		backtrace_stack(lo, lo + KSTACK_SIZE, tf->regs[TF_FP], tf->sepc, tf->regs[TF_RA]);
	} else {
		printk("  in user mode, pc %#llx\n", (unsigned long long)tf->sepc);
	}
	__atomic_store_n(&answered_cpu, cpu_id(), __ATOMIC_RELEASE);
}

static void show_cpus(void)
{
	printk("sysrq: Show backtrace of all active CPUs\n");
	struct thread *me = current;
	printk("sysrq: CPU %d running %d %s (the writer)\n", cpu_id(), me->tid, me->name);
	for (int i = 0; i < ncpus; i++)     /* each CPU's state before the IPIs wake any of them */
		if (cpus[i].online)
			sched_dump_cpu(i);
	backtrace_stack((uint64_t)me->kstack, (uint64_t)me->kstack + KSTACK_SIZE,
			(uint64_t)__builtin_frame_address(0), 0, 0);
	for (int i = 0; i < ncpus; i++) {
		if (i == cpu_id() || !cpus[i].online)
			continue;
		__atomic_store_n(&answered_cpu, -1, __ATOMIC_RELEASE);
		ipi_send(i, IPI_BACKTRACE);
		uint64_t deadline = time_ns() + CPU_ANSWER_NS;
		while (__atomic_load_n(&answered_cpu, __ATOMIC_ACQUIRE) != i && time_ns() < deadline)
			;
		if (__atomic_load_n(&answered_cpu, __ATOMIC_ACQUIRE) != i)
			printk("sysrq: CPU %d did not answer in 1 s (interrupts off?)\n", i);
	}
}

static void help(void)
{
	char line[256];
	size_t n = 0;
	bufprintf(line, sizeof(line), &n, "sysrq: HELP : show-backtrace-all-active-cpus(l) show-task-states(t)");
	for (int i = 0; i < nextra; i++)
		bufprintf(line, sizeof(line), &n, " %s(%c)", extra[i].help, extra[i].key);
	printk("%s\n", line);
}

int sysrq_register(char key, const char *help, void (*fn)(void))
{
	if (nextra == SYSRQ_EXTRA_MAX)
		return -ENOSPC;
	extra[nextra++] = (struct sysrq_key){ key, help, fn };
	return 0;
}

static void run_key(char key)
{
	for (int i = 0; i < nextra; i++)
		if (extra[i].key == key) {
			extra[i].fn();
			return;
		}
	help();
}

static long sysrq_write(struct file *f __unused, uintptr_t ubuf, size_t n, uint64_t *pos __unused)
{
	char b[SYSRQ_INPUT_MAX];
	size_t len = MIN(n, sizeof(b));
	if (copy_from_user(b, ubuf, len))
		return -EFAULT;
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return -EBUSY;
	/* The thread may move between CPUs between commands: 'l' reads cpu_id() only while it
	 * cannot (the report of its own CPU is about the thread that writes anyway). */
	for (size_t i = 0; i < len; i++) {
		switch (b[i]) {
		case ' ': case '\t': case '\n': break;
		case 't': show_state(); break;
		case 'l': {
			irq_push_off();
			show_cpus();
			irq_pop_off();
			break;
		}
		default: run_key(b[i]); break;
		}
	}
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	return (long)n;
}

static int sysrq_open(struct inode *ino __unused, struct file *f __unused) { return 0; }

static const struct file_ops sysrq_fops = { .open = sysrq_open, .write = sysrq_write };
static const struct inode_ops sysrq_iops = { 0 };

static void sysrq_init(void)
{
	if (proc_node("/proc/sysrq-trigger", S_IFREG | 0200, &sysrq_fops, &sysrq_iops, NULL) < 0)
		printk("sysrq: cannot create /proc/sysrq-trigger\n");
}
late_init(sysrq_init);
