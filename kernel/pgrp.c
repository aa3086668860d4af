/*
 * Process groups and sessions, for shells' job control: setpgid, getpgid, getsid, setsid,
 * signalling a whole group (kill(0) and kill(-pgid), and the terminal's ^C), and the membership
 * checks the console's TIOCSPGRP needs (fs/dev.c keeps the terminal's session and
 * foreground group).
 *
 * Theory. Every process has a pgid and a sid (struct proc), inherited at fork; init starts with
 * both equal to its pid. The rules are POSIX's, as Linux enforces them: setpgid moves the caller
 * or one of its children (same session, not a session leader) into a group of that session, or
 * makes a new group named by the process's pid; setsid makes a new session and group unless the
 * caller already leads a group. A group exists while a live process has that pgid; there is no
 * group object, so membership is found by a walk over the process table.
 *
 * A process's exit may orphan process groups (POSIX; Linux's kill_orphaned_pgrp): its own group,
 * if it was the member whose parent sat in another group of the session, and the groups of its
 * children, whose parent it was. A group orphaned that way with a stopped member gets SIGHUP then
 * SIGCONT (si_code SI_KERNEL): nobody is left to continue it. A session leader's exit also hangs
 * up its controlling terminal (fs/tty_job.c).
 *
 * Locks: proc_lock guards pgid and sid (a process reads its own without it) and the walk.
 */
#include "kernel/pgrp.h"
#include "kernel/errno.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"

bool pgrp_in_session_locked(int pgid, int sid)
{
	for (struct proc *p = proc_next_any_locked(NULL); p; p = proc_next_any_locked(p))
		if (p->pgid == pgid && p->sid == sid)
			return true;
	return false;
}

/* POSIX's orphaned process group, as Linux's will_become_orphaned_pgrp: no live member has a
 * parent in another group of the same session (a parent that is init does not count). Job
 * control's stop signals are discarded in such a group (kernel/jobctl.c), and a background read
 * from the terminal fails with EIO (fs/tty_job.c). */
bool pgrp_orphaned_locked(int pgid)
{
	for (struct proc *p = proc_next_locked(NULL); p; p = proc_next_locked(p)) {
		struct proc *pp = p->parent;
		if (p->pgid != pgid || !pp || pp->zombie || pp->pid == 1)
			continue;
		if (pp->pgid != pgid && pp->sid == p->sid)
			return false;
	}
	return true;
}

/* Linux's will_become_orphaned_pgrp(pgrp, gone): as pgrp_orphaned_locked, with gone counted
 * neither as a member nor as a parent (it is exiting; its children go to init). */
static bool orphaned_without_locked(int pgid, struct proc *gone)
{
	for (struct proc *p = proc_next_locked(NULL); p; p = proc_next_locked(p)) {
		struct proc *pp = p->parent;
		if (p == gone || p->pgid != pgid || !pp || pp == gone || pp->zombie || pp->pid == 1)
			continue;
		if (pp->pgid != pgid && pp->sid == p->sid)
			return false;
	}
	return true;
}

static bool has_stopped_locked(int pgid, struct proc *gone)
{
	for (struct proc *p = proc_next_locked(NULL); p; p = proc_next_locked(p))
		if (p->pgid == pgid && p != gone && p->stopped)
			return true;
	return false;
}

/* Linux's kill_orphaned_pgrp: parent is the process whose exit may orphan pgid (the exiting one
 * for its children's groups, the exiting one's parent for its own group). */
static void kill_orphaned_locked(int pgid, int sid, struct proc *parent, struct proc *gone)
{
	if (!parent || parent->pgid == pgid || parent->sid != sid)
		return;                   /* it did not keep pgid joined to the session */
	if (orphaned_without_locked(pgid, gone) && has_stopped_locked(pgid, gone)) {
		signal_pgrp_locked(pgid, SIGHUP);
		signal_pgrp_locked(pgid, SIGCONT);
	}
}

void pgrp_exit_locked(struct proc *p)
{
	kill_orphaned_locked(p->pgid, p->sid, p->parent, p);
	struct list_head *c;
	list_for_each(c, &p->children) {
		struct proc *child = list_entry(c, struct proc, sibling);
		if (!child->zombie)
			kill_orphaned_locked(child->pgid, child->sid, p, p);
	}
	if (p->sid == p->pid)
		tty_session_leader_exit_locked(p->sid);
}

int signal_pgrp_info_locked(int pgid, const struct ksiginfo *info)
{
	int r = -ESRCH;
	for (struct proc *p = proc_next_locked(NULL); p; p = proc_next_locked(p)) {
		if (p->pgid != pgid)
			continue;
		if (info->signo)
			signal_send_proc_info_locked(p, info);
		r = 0;
	}
	return r;
}

int signal_pgrp_locked(int pgid, int sig)
{
	struct ksiginfo si;
	siginfo_kernel(&si, sig);
	return signal_pgrp_info_locked(pgid, &si);
}

int signal_pgrp(int pgid, int sig)
{
	spin_lock(&proc_lock);
	int r = signal_pgrp_locked(pgid, sig);
	spin_unlock(&proc_lock);
	return r;
}

long sys_setpgid(int pid, int pgid)
{
	struct proc *self = current->proc;
	if (pgid < 0)
		return -EINVAL;
	spin_lock(&proc_lock);
	struct proc *p = pid == 0 || pid == self->pid ? self : proc_find(pid);
	long r = 0;
	if (!p || (p != self && p->parent != self))
		r = -ESRCH;
	else if (p->sid != self->sid || p->sid == p->pid)
		r = -EPERM;                   /* another session's, or a session leader */
	else if (pgid == 0)
		pgid = p->pid;
	if (!r && pgid != p->pid && !pgrp_in_session_locked(pgid, self->sid))
		r = -EPERM;
	if (!r)
		p->pgid = pgid;
	spin_unlock(&proc_lock);
	return r;
}

static long get_id(int pid, bool sid)
{
	spin_lock(&proc_lock);
	struct proc *p = pid == 0 ? current->proc : proc_find(pid);
	long r = !p ? -ESRCH : sid ? p->sid : p->pgid;
	spin_unlock(&proc_lock);
	return r;
}

long sys_getpgid(int pid) { return pid < 0 ? -ESRCH : get_id(pid, false); }
long sys_getsid(int pid) { return pid < 0 ? -ESRCH : get_id(pid, true); }

long sys_setsid(void)
{
	struct proc *self = current->proc;
	spin_lock(&proc_lock);
	long r = self->pid;
	for (struct proc *p = proc_next_locked(NULL); p; p = proc_next_locked(p))
		if (p->pgid == self->pid)
			r = -EPERM;               /* the caller leads a group (its own or a remnant) */
	if (r > 0)
		self->pgid = self->sid = self->pid;
	spin_unlock(&proc_lock);
	return r;
}
