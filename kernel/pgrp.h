/* Process groups and sessions (kernel/pgrp.c). */
#ifndef KERNEL_PGRP_H
#define KERNEL_PGRP_H
#include "kernel/types.h"
bool pgrp_in_session_locked(int pgid, int sid);        /* proc_lock held */
bool pgrp_orphaned_locked(int pgid);                   /* proc_lock held */
int signal_pgrp_locked(int pgid, int sig);             /* 0, or -ESRCH: no such group; SI_KERNEL */
struct ksiginfo;
int signal_pgrp_info_locked(int pgid, const struct ksiginfo *info);   /* kill(-pgid): the caller's record */
int signal_pgrp(int pgid, int sig);
/* p is exiting (before its children are reparented): SIGHUP+SIGCONT to the process groups this
 * orphans that have stopped members; a session leader hangs up its terminal. proc_lock held. */
struct proc;
void pgrp_exit_locked(struct proc *p);
/* fs/tty_job.c: session sid's leader exits: the terminal it controls (if any) loses its session
 * and its foreground group gets SIGHUP. proc_lock held. */
void tty_session_leader_exit_locked(int sid);                    /* takes proc_lock; any context */
long sys_setpgid(int pid, int pgid);
long sys_getpgid(int pid);
long sys_getsid(int pid);
long sys_setsid(void);
#endif
