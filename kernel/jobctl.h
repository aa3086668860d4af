/* Job control: stopping and continuing thread groups (kernel/jobctl.c). */
#ifndef KERNEL_JOBCTL_H
#define KERNEL_JOBCTL_H
#include "kernel/types.h"

#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22

struct proc;
bool sig_is_stop(int sig);                     /* SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU */
/* A signal is about to be queued on p (proc_lock held, p live): SIGCONT resumes a stopped p and
 * discards p's pending stop signals; a stop signal discards a pending SIGCONT. */
void jobctl_send_locked(struct proc *p, int sig);
/* signal_deliver: the current thread found sig, a stop signal with the default action, pending
 * (shared: in the process's set). Dequeues it under proc_lock and stops the whole group; the
 * caller then returns to proc_return_to_user, which sleeps in jobctl_wait_continue. */
void jobctl_stop(int sig, bool shared);
struct thread;
/* t's group is stopped and nothing (SIGKILL, exit) overrides it: t must park */
bool jobctl_must_park(struct thread *t);
/* proc_return_to_user: sleep while the group is stopped (until SIGCONT, SIGKILL or exit) */
void jobctl_wait_continue(void);
#endif
