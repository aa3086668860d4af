/* Pending-signal sets with queued real-time signals and RLIMIT_SIGPENDING (kernel/sigqueue.c).
 * Every call: proc_lock held. */
#ifndef KERNEL_SIGQUEUE_H
#define KERNEL_SIGQUEUE_H
#include "kernel/types.h"
#include "kernel/siginfo.h"

/* One pending set: its bits (a thread's sigpending or a process's shared_pending), the standard
 * signals' records and the queue. */
struct sigset_ref {
	uint64_t *bits;
	struct ksiginfo *records;
	struct sigqueue *q;
};

/* Make info->signo pending with its record. A standard signal already pending keeps its first
 * record; a real-time one adds an instance. limit: the receiver's RLIMIT_SIGPENDING. 0, or
 * -EAGAIN when a real-time signal sent with a record (not kill's SI_USER) finds the queue full. */
int sigqueue_add_locked(struct sigset_ref s, const struct ksiginfo *info, uint64_t limit);
/* The fault's record replaces whatever is pending for its signal (Linux's force_sig_fault). */
void sigqueue_force_locked(struct sigset_ref s, const struct ksiginfo *info);
/* Take one instance of sig: false if none is pending. */
bool sigqueue_take_locked(struct sigset_ref s, int sig, struct ksiginfo *out);
/* Drop every instance of the signals in mask (ignored actions, job control, exit). */
void sigqueue_discard_locked(struct sigset_ref s, uint64_t mask);
/* Queued instances counted against RLIMIT_SIGPENDING, every process's (everyone is uid 0):
 * Linux's per-user count of /proc/PID/status's SigQ. */
long sigqueue_count(void);

struct thread;
struct proc;
struct sigset_ref signal_thread_set(struct thread *t);   /* kernel/signal.c */
struct sigset_ref signal_proc_set(struct proc *p);
#endif
