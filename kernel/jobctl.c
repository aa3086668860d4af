/*
 * Job control: stopped and continued thread groups, as Linux's kernel/signal.c keeps them.
 *
 * Theory. A stop signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) whose action is the default stops the
 * whole process: the thread that dequeues it (signal_deliver) marks the group stopped, records
 * the signal for its parent's wait(WUNTRACED) (stop_report), tells the parent (SIGCHLD unless the
 * parent's SIGCHLD action has SA_NOCLDSTOP; the parent's child_wait is woken either way) and kicks
 * the other threads. signal_pending() is true for every thread of a stopped group, so a thread
 * blocked in a system call unwinds with -ERESTARTSYS; every thread then sleeps on its way back to
 * user mode (proc_return_to_user -> jobctl_wait_continue) and the interrupted call restarts once
 * the group runs again. SIGCONT, when it is sent (not when delivered, and whatever its action or
 * mask), resumes a stopped group, clears the unreported stop and records a continue report for
 * wait(WCONTINUED), with SIGCHLD to the parent as for a stop. Sending SIGCONT discards pending
 * stop signals and sending a stop signal discards a pending SIGCONT, so the last one sent wins.
 * SIGKILL wakes a stopped group (the sleeper's condition watches for it and signal_deliver takes
 * it first). As on Linux, SIGTSTP/SIGTTIN/SIGTTOU with the default action are discarded in a
 * process group that is orphaned (no member's parent in another group of the same session: nobody
 * left to continue it); SIGSTOP always stops.
 *
 * A race closed: SIGCONT may be sent between signal_deliver's choice of a stop signal and the stop.
 * The stop signal is therefore dequeued here under proc_lock, the lock under which SIGCONT
 * discards it: if it is already gone, the group does not stop.
 *
 * Simplification: a group is reported stopped when its stop begins, not once every thread has
 * parked (Linux's group_stop_count); the threads park within a trap return.
 *
 * Locks: stopped, stop_report and cont_report are guarded by proc_lock. Sleepers wait on one
 * global queue (stops are rare; a SIGCONT wakes every stopped thread, each re-checks its own
 * group). Order: proc_lock -> stop_wq's lock.
 */
#include "kernel/jobctl.h"
#include "kernel/pgrp.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/sigqueue.h"
#include "kernel/wait.h"

#define SIGBIT(s) (1UL << ((s) - 1))
#define STOP_MASK (SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))
#define SA_NOCLDSTOP 0x1
#define STOPPED_STATUS(sig) (((sig) << 8) | 0x7f)   /* wait(2)'s words */
#define CONTINUED_STATUS 0xffff

static struct waitq stop_wq = WAITQ_INIT(stop_wq, "jobstop");

bool sig_is_stop(int sig) { return sig >= 1 && sig <= NSIG && (STOP_MASK & SIGBIT(sig)); }

/* proc_lock held */
static void discard_pending_locked(struct proc *p, uint64_t mask)
{
	sigqueue_discard_locked(signal_proc_set(p), mask);
	struct list_head *q;
	list_for_each(q, &p->threads) {
		struct thread *t = list_entry(q, struct thread, thread_node);
		sigqueue_discard_locked(signal_thread_set(t), mask);
	}
}

/* A child stopped or continued (wstatus: wait's word for it): SIGCHLD with CLD_STOPPED or
 * CLD_CONTINUED (unless SA_NOCLDSTOP) and a wake-up for wait. proc_lock held. */
static void notify_parent_locked(struct proc *p, int wstatus)
{
	struct proc *pp = p->parent;
	if (!pp || pp->zombie)
		return;
	if (!(signal_action_flags(pp, SIGCHLD) & SA_NOCLDSTOP))
		signal_child_event_locked(p, wstatus);
	wake_all(&pp->child_wait);
}

void jobctl_send_locked(struct proc *p, int sig)
{
	if (sig == SIGCONT) {
		discard_pending_locked(p, STOP_MASK);
		if (p->stopped) {
			p->stopped = false;
			p->stop_report = 0;
			p->cont_report = true;
			notify_parent_locked(p, CONTINUED_STATUS);
			wake_all(&stop_wq);
		}
	} else if (sig_is_stop(sig)) {
		discard_pending_locked(p, SIGBIT(SIGCONT));
	}
}

void jobctl_stop(int sig, bool shared)
{
	struct thread *t = current;
	struct proc *p = t->proc;
	spin_lock(&proc_lock);
	struct ksiginfo info;
	bool taken = sigqueue_take_locked(shared ? signal_proc_set(p) : signal_thread_set(t), sig, &info);
	bool stop = taken && !p->exiting && !p->stopped &&
		    (sig == SIGSTOP || !pgrp_orphaned_locked(p->pgid));
	if (stop) {
		p->stopped = true;
		p->stop_report = sig;
		p->cont_report = false;
		struct list_head *q;
		list_for_each(q, &p->threads) {
			struct thread *o = list_entry(q, struct thread, thread_node);
			if (o != t)
				signal_kick(o);
		}
		notify_parent_locked(p, STOPPED_STATUS(sig));
	}
	spin_unlock(&proc_lock);
}

bool jobctl_must_park(struct thread *t)
{
	struct proc *p = t->proc;
	return READ_ONCE(p->stopped) && !READ_ONCE(t->killed) && !READ_ONCE(p->exiting) &&
	       !((READ_ONCE(p->shared_pending) | READ_ONCE(t->sigpending)) & SIGBIT(SIGKILL));
}

void jobctl_wait_continue(void)
{
	wait_event(&stop_wq, !jobctl_must_park(current));
}
