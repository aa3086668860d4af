/*
 * Processes (thread groups) and user threads (kernel/proc.c). A user thread is a struct thread
 * (kernel/sched.h) whose proc is set; its user registers live in the trap frame at the top of its
 * kernel stack. Threads of a process share its mm, files, fs and signal handlers (clone flags
 * decide). proc_lock guards the process tree (parent, children, zombies), each process's thread
 * list and the pid table; it is taken before any wait-queue lock.
 */
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H
#include "kernel/types.h"
#include "lib/list.h"
#include "kernel/wait.h"
#include "kernel/sched.h"

#define PROC_PATH_MAX 256
#define PROC_COMM_LEN 16
#define ARG_MAX_BYTES (128 * 1024)

struct sighand;
struct trapframe;

struct k_rlimit { uint64_t cur, max; };     /* kernel/rlimit.c */
#define RLIM_NLIMITS 16

struct proc {
	int pid;
	int pgid, sid;                  /* process group and session (kernel/pgrp.c); proc_lock */
	struct proc *parent;
	struct list_head children;      /* struct proc, via sibling */
	struct list_head sibling;
	struct list_head threads;       /* struct thread, via thread_node */
	int nthreads;                   /* live threads */
	bool zombie;
	int exit_status;                /* wait status word once zombie */
	bool exiting;                   /* exit_group or a fatal signal: every thread leaves */
	int group_status;
	struct waitq child_wait;        /* wait4/waitid sleep here */
	struct sighand *sighand;
	uint64_t shared_pending;        /* process-directed signals */
	struct ksiginfo shared_info[KSIG_MAX];   /* their records (proc_lock; kernel/signal.c) */
	struct sigqueue shared_sigq;    /* counted records, queued RT instances (kernel/sigqueue.c) */
	char exe[PROC_PATH_MAX];
	char comm[PROC_COMM_LEN];
	struct k_rlimit rlim[RLIM_NLIMITS];
	uint64_t start_ns;
	uint64_t utime_ns, stime_ns;            /* of exited threads */
	uint64_t cutime_ns, cstime_ns;          /* of reaped children */
	uint64_t nvcsw, nivcsw;                 /* context switches of exited threads (rusage) */
	uint64_t cnvcsw, cnivcsw;               /* ... of reaped children */
	struct list_head all_node;
	int oom_score_adj;              /* mm/oom.c: -1000..1000, inherited at fork; proc_lock */
	struct itimer *itimer;          /* setitimer(ITIMER_REAL), kernel/itimer.c; NULL until used */
	/* job control (kernel/jobctl.c), proc_lock */
	bool stopped;                   /* the group is stopped (SIGSTOP, SIGTSTP ...) */
	int stop_report;                /* stop signal wait(WUNTRACED) has not reported yet, or 0 */
	bool cont_report;               /* a SIGCONT wait(WCONTINUED) has not reported yet */
};

/* FP state of a user thread: f0-f31, fcsr (layout known to arch/riscv/fpu.S) */
struct fpstate { uint64_t f[32]; uint32_t fcsr; uint32_t pad; };

/* arch/riscv/fpu.S */
void fpu_save(struct fpstate *fp);
void fpu_restore(struct fpstate *fp);

struct trapframe *thread_tf(struct thread *t);   /* user registers of a user thread */
struct proc *proc_find(int pid);                /* proc_lock held */
struct proc *proc_next_locked(struct proc *prev);   /* live processes in turn (NULL: first); proc_lock held */
/* The same with zombies too: a zombie still belongs to its process group and session until it is
 * reaped (pgrp.c: a group whose leader exited first still exists, as on Linux). */
struct proc *proc_next_any_locked(struct proc *prev);
struct thread *thread_find(int tid);            /* proc_lock held */
extern struct spinlock proc_lock;

/* start /init (or the rdinit= program) as pid 1 */
void proc_start_init(const char *path, char *const argv[], char *const envp[]);
/* leave the kernel for user mode: signals, FP state, then user_return */
void __noreturn proc_return_to_user(void);
void __noreturn thread_exit_user(int status_code);   /* this thread leaves (already encoded status) */
void proc_exit_group(int status);                     /* encoded wait status */
long do_execve(const char *path, char *const kargv[], char *const kenvp[]);
void proc_kill_other_threads(void);
void proc_times(struct proc *p, uint64_t *utime_ns, uint64_t *stime_ns);   /* exited + live threads */

long sys_exit(int code);
long sys_exit_group(int code);
long sys_clone(unsigned long flags, uintptr_t newsp, uintptr_t ptid, uintptr_t tls, uintptr_t ctid);
long sys_clone3(uintptr_t uargs, size_t size);
long sys_execve(uintptr_t path, uintptr_t argv, uintptr_t envp);
long sys_wait4(int pid, uintptr_t status, int options, uintptr_t rusage);
long sys_waitid(int idtype, int id, uintptr_t info, int options, uintptr_t rusage);
long sys_getpid(void);
long sys_getppid(void);
long sys_gettid(void);
long sys_set_tid_address(uintptr_t tidptr);
long sys_set_robust_list(uintptr_t head, size_t len);
long sys_get_robust_list(int pid, uintptr_t head_ptr, uintptr_t len_ptr);
long sys_getrusage(int who, uintptr_t usage);
long sys_times(uintptr_t buf);
long sys_reboot(int magic1, int magic2, unsigned cmd, uintptr_t arg);   /* reboot.c */
long sys_sched_getaffinity(int pid, size_t len, uintptr_t mask);
long sys_sched_setaffinity(int pid, size_t len, uintptr_t mask);

#endif
