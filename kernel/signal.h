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
#define SIGXFSZ 25
#define NSIG 64

/* Restart codes a blocking call returns when a signal interrupted it (never seen by user space):
 * the syscall is restarted if the handler has SA_RESTART, else it fails with EINTR. */
#define ERESTARTSYS 512

struct thread;
bool signal_pending(void);                    /* the current thread has a deliverable signal */
void signal_send_thread(struct thread *t, int sig);
/* fs/signalfd.c: a signal was made pending; wake signalfd readers and watchers (any context) */
void signalfd_notify(void);
void signal_raise(int sig);                   /* to the current thread (e.g. SIGPIPE) */
size_t signal_frame_size(void);               /* bytes a handler's frame takes (AT_MINSIGSTKSZ) */



struct proc;
void signal_send_proc_locked(struct proc *p, int sig);   /* proc_lock held */
void signal_kick(struct thread *t);
bool signal_ignored_or_blocked(struct thread *t, int sig);   /* t's mask has it, or its action is SIG_IGN */
unsigned long signal_action_flags(struct proc *p, int sig);   /* sa_flags of p's action for sig */
long signal_all_locked(int sig, struct proc *self);    /* kill(-1): proc_lock held */                      /* make t notice a signal or kill */
long sys_rt_sigaction(int sig, uintptr_t act, uintptr_t oact, size_t sigsetsize);
long sys_rt_sigprocmask(int how, uintptr_t set, uintptr_t oset, size_t sigsetsize);
long sys_rt_sigreturn(void);
long sys_rt_sigpending(uintptr_t set, size_t sigsetsize);
long sys_rt_sigsuspend(uintptr_t mask, size_t sigsetsize);
long sys_sigaltstack(uintptr_t ss, uintptr_t oss);
long sys_kill(int pid, int sig);
long sys_tkill(int tid, int sig);
long sys_tgkill(int tgid, int tid, int sig);
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
