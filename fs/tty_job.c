/*
 * The console as a controlling terminal, for job control: which session it belongs to and which
 * of that session's process groups is in the foreground. A shell reads and sets the foreground
 * group with TIOCGPGRP/TIOCSPGRP (tcgetpgrp/tcsetpgrp); ^C and ^\ typed with ISIG on signal that
 * group (SIGINT, SIGQUIT; dev.c's tty_intr sees the byte in interrupt context and calls
 * tty_job_signal).
 *
 * The console starts as the controlling terminal of init's session (sid 1), with no foreground
 * group set: TIOCGPGRP then answers the session leader's group (the session id) and ^C signals
 * nobody, so programs that never use job control see the old behaviour. TIOCSCTTY lets a
 * session leader take the console, TIOCNOTTY lets its session leader give it up, TIOCGSID names
 * the session. Callers outside the owning session get ENOTTY, as Linux answers for a terminal
 * that is not the caller's controlling terminal.
 *
 * Hangup (Linux's disassociate_ctty): when the session leader exits, the console stops being the
 * session's terminal and its foreground group gets SIGHUP (Linux 6.1 sends SIGCONT too only when
 * the leader gives the terminal up with TIOCNOTTY, which sends both, with si_code SI_USER and the
 * leader's pid where an exit's SIGHUP has SI_KERNEL). Not modelled: Linux's
 * vhangup of a non-pty terminal's open files (later reads and writes on them would fail); the
 * console stays usable by every descriptor.
 *
 * Stopping jobs (kernel/jobctl.c has the stopped state): ^Z (VSUSP) with ISIG sends SIGTSTP to
 * the foreground group. A process of the owning session outside the foreground group that reads
 * the console (tty_job_check(SIGTTIN)), writes it while TOSTOP is set (SIGTTOU) or sets the
 * foreground group (SIGTTOU) signals its own group and the call restarts once it is continued
 * (-ERESTARTSYS), as Linux's __tty_check_change: unless the signal is ignored or blocked (the read
 * fails with EIO, the write or TIOCSPGRP goes ahead) or the group is orphaned (EIO: nobody would
 * continue it). With no foreground group set (fg_pgrp 0) nobody is in the background.
 *
 * Locks: tty_sid and fg_pgrp are guarded by proc_lock, like the pgid/sid they name.
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/jobctl.h"
#include "kernel/pgrp.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/siginfo.h"
#include "kernel/signal.h"
#include "mm/uaccess.h"

#define INIT_SID 1
#define TIOCSCTTY 0x540E
#define TIOCNOTTY 0x5422
#define TIOCGSID 0x5429

static int tty_sid = INIT_SID;            /* owning session, 0: none */
static int fg_pgrp;                       /* foreground group, 0: the session leader's */

/* The session loses the console; its foreground group gets SIGHUP (and SIGCONT unless the leader
 * is exiting), as disassociate_ctty. proc_lock held. */
static void hangup_locked(bool on_exit)
{
	int fg = fg_pgrp;
	tty_sid = fg_pgrp = 0;
	if (fg <= 0)
		return;
	if (on_exit) {
		signal_pgrp_locked(fg, SIGHUP);     /* SI_KERNEL (kill_pgrp with priv 1) */
		return;
	}
	struct ksiginfo si;                     /* SI_USER from the leader (priv 0) */
	siginfo_sender(&si, SIGHUP, SI_USER);
	signal_pgrp_info_locked(fg, &si);
	siginfo_sender(&si, SIGCONT, SI_USER);
	signal_pgrp_info_locked(fg, &si);
}

void tty_session_leader_exit_locked(int sid)
{
	if (tty_sid && tty_sid == sid)
		hangup_locked(true);
}

bool tty_job_signal(int sig)
{
	spin_lock(&proc_lock);
	bool sent = fg_pgrp > 0 && signal_pgrp_locked(fg_pgrp, sig) == 0;
	spin_unlock(&proc_lock);
	return sent;
}

/* proc_lock held: 0 (go ahead) or -EIO/-ERESTARTSYS for a background caller, as above */
static long background_check_locked(int sig)
{
	struct thread *t = current;
	struct proc *self = t->proc;
	if (!tty_sid || self->sid != tty_sid || fg_pgrp <= 0 || self->pgid == fg_pgrp)
		return 0;
	if (signal_ignored_or_blocked(t, sig))
		return sig == SIGTTIN ? -EIO : 0;
	if (pgrp_orphaned_locked(self->pgid))
		return -EIO;
	signal_pgrp_locked(self->pgid, sig);
	return -ERESTARTSYS;
}

long tty_job_check(int sig)
{
	if (!current || !current->proc)
		return 0;
	spin_lock(&proc_lock);
	long r = background_check_locked(sig);
	spin_unlock(&proc_lock);
	return r;
}

long tty_job_ioctl(unsigned long cmd, unsigned long arg)
{
	struct proc *self = current->proc;
	int v = 0;
	long r = 0;
	if (cmd == TIOCSPGRP && copy_from_user(&v, arg, sizeof(v)))
		return -EFAULT;
	spin_lock(&proc_lock);
	bool ours = tty_sid && self->sid == tty_sid;
	switch (cmd) {
	case TIOCGPGRP:
	case TIOCGSID:
		if (!ours)
			r = -ENOTTY;
		else
			v = cmd == TIOCGSID ? tty_sid : fg_pgrp ? fg_pgrp : tty_sid;
		break;
	case TIOCSPGRP:
		if (!ours)
			r = -ENOTTY;
		else if (v < 0)
			r = -EINVAL;
		else if (!pgrp_in_session_locked(v, tty_sid))
			r = -EPERM;
		else if (!(r = background_check_locked(SIGTTOU)))
			fg_pgrp = v;
		break;
	case TIOCSCTTY:
		if (ours)
			break;
		if (self->sid != self->pid)
			r = -EPERM;               /* only a session leader takes a terminal */
		else {
			tty_sid = self->sid;
			fg_pgrp = self->pgid;
		}
		break;
	case TIOCNOTTY:
		if (!ours)
			r = -ENOTTY;
		else if (self->sid == self->pid)
			hangup_locked(false);
		break;
	default:
		r = -ENOTTY;
	}
	spin_unlock(&proc_lock);
	if (!r && (cmd == TIOCGPGRP || cmd == TIOCGSID) && copy_to_user(arg, &v, sizeof(v)))
		r = -EFAULT;
	return r;
}
