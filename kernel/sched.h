/*
 * Threads and the per-CPU scheduler (kernel/sched.c has the theory). A thread is a kernel stack and
 * a saved context; later stages hang a process and user state off it.
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H
#include "kernel/types.h"
#include "lib/list.h"
#include "kernel/cpu.h"
#include "kernel/timerq.h"
#include "kernel/siginfo.h"

#define KSTACK_ORDER 2                       /* 16 KiB kernel stacks */
#define KSTACK_SIZE (4096UL << KSTACK_ORDER)
#define THREAD_NAME_LEN 16
#define CPU_MASK_ALL (~0UL)

/* callee-saved registers, switched by context_switch (arch/riscv/switch.S) */
struct context {
	uint64_t ra, sp;
	uint64_t s[12];
};

/* NEW: allocated, not started: only kthread_start makes it runnable, so a wake-up (a signal's
 * kick, say) reaching a thread whose creator has published it but not finished it cannot run it
 * early (issue 17, fuzz-corpus/004). */
enum thread_state { THREAD_RUNNABLE, THREAD_RUNNING, THREAD_SLEEPING, THREAD_DEAD, THREAD_NEW };

/* What restart_syscall resumes after a call returned -ERESTART_RESTARTBLOCK and no handler ran
 * (Linux's restart_block). Owned by its thread; cleared by sigreturn and by a handler's frame. */
struct restart_block {
	long (*fn)(struct restart_block *rb);   /* NULL: restart_syscall fails with EINTR */
	union {
		struct {                        /* nanosleep, relative clock_nanosleep */
			uint64_t deadline_ns;   /* monotonic */
			uintptr_t urem;         /* where the remaining time goes */
		} sleep;
		struct {                        /* FUTEX_WAIT(_BITSET) with a timeout */
			uintptr_t uaddr;
			uint64_t deadline;      /* timer ticks */
			uint32_t val, bitset;
			bool private_;
		} futex;
	};
};

struct files;
struct fs_ctx;
struct proc;
struct mm;
struct fpstate;

struct thread {
	struct context ctx;
	int tid;
	char name[THREAD_NAME_LEN];
	volatile int state;             /* enum thread_state; SLEEPING->RUNNABLE only under the rq lock */
	int cpu;                        /* run queue that owns it (changes only under that rq's lock) */
	volatile bool on_cpu;           /* still executing on t->cpu (cleared after the switch away) */
	bool intena;                    /* interrupt state carried across context_switch */
	unsigned long affinity;         /* CPU mask this thread may run on */
	bool urgent;                    /* a service thread: woken, it runs at once (kernel/sched.c) */
	struct thread *holding;         /* a forked child parked, on no queue, until this thread (its
	                                 * creator) leaves its CPU ("Fork placement", sched.c) */
	uint8_t hold_ticks;             /* ticks taken on time while holding ... */
	uint8_t hold_age;               /* ... and all ticks while holding */
	struct list_head rq_node;       /* on its run queue while RUNNABLE */
	struct list_head all_node;      /* on the global thread list */
	void *kstack;                   /* base of the kernel stack (KSTACK_SIZE) */
	void (*fn)(void *);
	void *arg;
	struct timer sleep_timer;       /* for timed sleeps */
	/* user-space state (NULL for kernel threads); see kernel/proc.h */
	struct proc *proc;              /* thread group (process) */
	struct files *files;            /* fd table, shared with CLONE_FILES (fs/) */
	struct fs_ctx *fs;              /* cwd, shared with CLONE_FS (fs/) */
	struct mm *mm;                  /* address space, shared with CLONE_VM (mm/uvm.h) */
	struct list_head thread_node;   /* in proc->threads */
	uintptr_t clear_child_tid;      /* CLONE_CHILD_CLEARTID / set_tid_address */
	uintptr_t robust_list;          /* set_robust_list head and length (kernel/futex) */
	size_t robust_len;
	uint64_t sigmask;               /* blocked signals */
	uint64_t sigpending;            /* thread-directed pending signals */
	struct ksiginfo sig_info[KSIG_MAX];   /* each pending signal's record (proc_lock; kernel/signal.c) */
	struct sigqueue sigq;           /* counted records, queued RT instances (kernel/sigqueue.c) */
	uint64_t saved_sigmask;         /* rt_sigsuspend: the mask to restore after the handler */
	uint64_t real_blocked;          /* rt_sigtimedwait: the mask while it waits with its set open */
	bool has_saved_sigmask;
	uintptr_t altstack_sp;          /* sigaltstack */
	size_t altstack_size;
	int altstack_flags;
	unsigned long syscall_a0;       /* a0 at syscall entry, for restarting */
	bool in_syscall;                /* syscall_a0 is valid (a0 may be any value, -1 too) */
	struct restart_block restart;   /* how restart_syscall goes on (kernel/signal.h) */
	bool killed;                    /* the process is exiting: leave at the next chance */
	struct fpstate *fp;             /* user FP registers (kmalloc'd) */
	int fp_cpu;                     /* CPU whose FP registers last held ours (-1 none) */
	uint64_t utime_ns, stime_ns;
	uint64_t user_enter_ns;         /* when it last entered user mode */
	uint64_t kernel_enter_ns;       /* when it last started running in the kernel */
	uint64_t switches;
	uint64_t nvcsw, nivcsw;         /* switches away by blocking, by preemption (rusage); written by
					 * its own CPU in __schedule, read without a lock */
};

/*
 * The running thread. Not this_cpu()->cur: reading tp and then ->cur are two instructions, and a
 * thread preempted between them could resume on another CPU and read that CPU's thread. Every
 * kernel stack is KSTACK_SIZE-aligned and holds its thread's pointer in its lowest word, and the
 * stack pointer moves with the thread, so this is right whenever it is evaluated.
 */
#ifdef HOST_TEST
#define current (this_cpu()->cur)
#else
static inline struct thread *get_current(void)
{
	uintptr_t sp;
	__asm__ volatile("mv %0, sp" : "=r"(sp));
	return *(struct thread **)(sp & ~(KSTACK_SIZE - 1));
}
#define current get_current()
#endif

void sched_init(void);                         /* boot CPU: the boot context becomes cpu 0's idle thread */
void sched_cpu_init(void);                     /* secondary CPU: adopt the boot stack as idle thread */
void __noreturn sched_idle_loop(void);         /* run by each CPU's idle thread */
void schedule(void);                           /* give up the CPU; a SLEEPING caller stays off the run queue */
void sched_yield(void);
void sched_migrate_current(void);               /* after an affinity change excluding this CPU */
void sched_wake(struct thread *t);             /* SLEEPING -> RUNNABLE on its CPU (kicks an idle CPU) */
void sched_tick(bool late);                    /* timer interrupt: preemption (late: taken long
                                                 * after it was due) */
void sched_preempt_check(void);                /* trap return: switch if the tick asked for it */

struct thread *kthread_create(void (*fn)(void *), void *arg, const char *name, int cpu);
/* As kthread_create, for a service thread others wait on (squeue workers, NIC poll threads): a
 * wake-up puts it at the head of its run queue and preempts whatever non-urgent thread runs there. */
struct thread *kthread_create_urgent(void (*fn)(void *), void *arg, const char *name, int cpu);
/* Two steps, for callers that finish setting the thread up first (user threads): */
struct thread *thread_alloc(void (*fn)(void *), void *arg, const char *name, int cpu);
void kthread_start(struct thread *t);
/* Starts a forked process's first thread on its creator's CPU, queued behind the creator, which
 * keeps running ("Fork placement" in sched.c). */
void kthread_start_behind(struct thread *t);
void __noreturn kthread_exit(void);

/* Sleep without a wait queue. */
void sleep_until(uint64_t deadline_ticks);
void msleep(uint64_t ms);

struct sched_stats { uint64_t nr_running[NCPU]; int nthreads; };
void sched_get_stats(struct sched_stats *st);
void sched_dump(void);                        /* one line per thread, for the monitor */
/* fn on every thread that exists, under the thread-list lock (a spinlock: fn must not sleep); no
 * thread is freed meanwhile, so its stack may be read (kernel/sysrq.c). */
void sched_for_each_thread(void (*fn)(struct thread *t, void *arg), void *arg);
const char *sched_state_name(int state);
void sched_dump_cpu(int cpu);                  /* one line: its thread, run queue, counters (racy) */
unsigned sched_nr_active(void);                 /* running + runnable threads, all CPUs (racy snapshot) */
void loadavg_tick(void);                        /* CPU 0's tick: fs/proc_sys.c */

/* arch/riscv/switch.S */
void context_switch(struct context *old, struct context *new);

#endif
