/* Signals (kernel/signal.c): what other subsystems need to know. */
#ifndef KERNEL_SIGNAL_H
#define KERNEL_SIGNAL_H
#include "kernel/types.h"

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGXCPU 24
#define SIGXFSZ 25
#define NSIG 64

/* Restart codes a blocking call returns when a signal interrupted it (never seen by user space;
 * signal_deliver turns them into a restart or EINTR, as Linux's arch signal code):
 *   ERESTARTSYS            restarted when no handler runs or it has SA_RESTART, else EINTR;
 *   ERESTARTNOHAND         restarted when no handler runs (an ignored signal, a stop), else EINTR
 *                          whatever SA_RESTART says (ppoll, pselect6, absolute clock_nanosleep);
 *   ERESTART_RESTARTBLOCK  as ERESTARTNOHAND, but the call goes on through restart_syscall with
 *                          what the thread's restart block kept (a relative sleep's deadline). */
#define ERESTARTSYS 512
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

struct thread;
bool signal_pending(void);                    /* the current thread has a deliverable signal */
void signal_send_thread(struct thread *t, int sig);   /* kernel-sent (SI_KERNEL); takes proc_lock */
/* fs/signalfd.c: a signal was made pending; wake signalfd readers and watchers (any context) */
void signalfd_notify(void);
void signal_raise(int sig);                   /* to the current thread (e.g. SIGPIPE) */
size_t signal_frame_size(void);               /* bytes a handler's frame takes (AT_MINSIGSTKSZ) */



struct proc;
struct ksiginfo;
void signal_send_proc_locked(struct proc *p, int sig);   /* proc_lock held; si_code SI_KERNEL */
/* With a record (kernel/siginfo.h): the first one stays while a standard signal is pending; a
 * real-time one is queued (-EAGAIN: the receiver's RLIMIT_SIGPENDING is reached). proc_lock held. */
int signal_send_proc_info_locked(struct proc *p, const struct ksiginfo *info);
int signal_send_thread_info_locked(struct thread *t, const struct ksiginfo *info);
long signal_send_tid(int tgid, int tid, const struct ksiginfo *info);   /* tgid -1: any; takes proc_lock */
void siginfo_kernel(struct ksiginfo *si, int sig);               /* SI_KERNEL */
void siginfo_sender(struct ksiginfo *si, int sig, int code);     /* si_pid/si_uid of the caller */
/* SIGCHLD to child's parent for a wait(2) status word (exit, kill, stop, 0xffff continue), with
 * CLD_* si_code, si_pid, si_status and CPU times. proc_lock held. */
void signal_child_event_locked(struct proc *child, int wstatus);
/* Take the lowest pending signal of mask from the current thread (its own set first) with its
 * record: the signal, or 0. Takes proc_lock. */
int signal_dequeue(uint64_t mask, struct ksiginfo *out);
void signal_kick(struct thread *t);
bool signal_ignored_or_blocked(struct thread *t, int sig);   /* t's mask has it, or its action is SIG_IGN */
unsigned long signal_action_flags(struct proc *p, int sig);   /* sa_flags of p's action for sig */
long signal_all_locked(const struct ksiginfo *info, struct proc *self);    /* kill(-1): proc_lock held */
long sys_rt_sigaction(int sig, uintptr_t act, uintptr_t oact, size_t sigsetsize);
long sys_rt_sigprocmask(int how, uintptr_t set, uintptr_t oset, size_t sigsetsize);
long sys_rt_sigreturn(void);
long sys_restart_syscall(void);
long sys_rt_sigpending(uintptr_t set, size_t sigsetsize);
long sys_rt_sigsuspend(uintptr_t mask, size_t sigsetsize);
long sys_sigaltstack(uintptr_t ss, uintptr_t oss);
long sys_kill(int pid, int sig);
long sys_tkill(int tid, int sig);
long sys_tgkill(int tgid, int tid, int sig);
long sys_rt_sigtimedwait(uintptr_t uset, uintptr_t uinfo, uintptr_t uts, size_t sigsetsize);   /* sigwait.c */
long sys_rt_sigqueueinfo(int pid, int sig, uintptr_t uinfo);
long sys_rt_tgsigqueueinfo(int tgid, int tid, int sig, uintptr_t uinfo);
/* a fault in user mode the kernel cannot resolve: deliver sig with si_addr */
void signal_fault(int sig, int code, uintptr_t addr);

struct sighand;
struct trapframe;
struct sighand *sighand_new(void);
struct sighand *sighand_dup(struct sighand *sh);
void sighand_get(struct sighand *sh);
void sighand_put(struct sighand *sh);
void signal_exec_reset(struct sighand *sh);   /* handlers back to default, ignored stay ignored */
void signal_deliver(struct trapframe *tf);    /* on the way back to user mode */
#endif
