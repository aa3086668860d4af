/*
 * Readiness: poll/ppoll and select/pselect6 (fs/poll.c), epoll (fs/epoll.c).
 *
 * A file takes part through two of its ops (fs/fs.h):
 *   poll(f)   the EPOLL* bits true now (EPOLLIN/OUT/HUP/ERR/RDNORM/WRNORM...). Called with no
 *             spinlock held; it may take spinlocks and even a sleeplock (epoll's own does) but must
 *             not wait for an event.
 *   waitq(f)  the wait queue woken (wake_up) whenever poll(f)'s answer may have gained a bit.
 *             It must stay the same queue for the life of the open file.
 * A file without poll is always readable and writable (POLL_DEFAULT_MASK, Linux's DEFAULT_POLLMASK)
 * and cannot be added to an epoll (EPERM). A file with poll but no waitq is checked but wakes
 * nobody when it changes. Sockets plug in exactly like pipes and the console.
 *
 * Waiters watch a file's queue with callback wait entries (kernel/wait.h): poll/select put one on
 * each file for the duration of the call; an epoll item keeps one on its file while registered.
 *
 * Signals: a blocking ppoll/pselect6 returns -ERESTARTNOHAND when a signal is pending, as Linux:
 * EINTR whenever a handler runs (whatever SA_RESTART says), and made again, with the time left
 * that it wrote back to the caller's timespec, when none does (an ignored signal another thread
 * blocked, a stop and SIGCONT). epoll_wait returns -EINTR outright, as Linux's ep_poll. The
 * temporary mask of ppoll/pselect6/epoll_pwait is kept for the handler and restored by sigreturn
 * (thread->has_saved_sigmask, as rt_sigsuspend does), or by signal_deliver when no handler runs,
 * or at once when the call was not interrupted.
 */
#ifndef KERNEL_POLL_H
#define KERNEL_POLL_H
#include "kernel/types.h"
#include "fs/abi.h"

struct file;
struct waitq;

#ifndef EPOLLNVAL
#define EPOLLNVAL   0x020
#endif
#ifndef EPOLLRDBAND
#define EPOLLRDBAND 0x080
#endif
#ifndef EPOLLRDHUP
#define EPOLLRDHUP  0x2000
#endif
#ifndef EPOLLWRBAND
#define EPOLLWRBAND 0x200
#endif
#define POLL_DEFAULT_MASK (EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM)

unsigned file_poll(struct file *f);              /* ops->poll, or POLL_DEFAULT_MASK without one */
struct waitq *file_waitq(struct file *f);        /* ops->waitq, or NULL */

/* ---- shared by poll.c and epoll.c ---- */

/* A timeout: none (wait forever), zero (never sleep), or an absolute deadline in timebase ticks. */
struct poll_timeout {
	bool forever;
	bool zero;
	uint64_t deadline;                         /* ticks (time_now); meaningful unless forever */
};
void poll_timeout_forever(struct poll_timeout *to);
/* From a relative duration in nanoseconds. */
void poll_timeout_ns(struct poll_timeout *to, uint64_t ns);
/* From a user struct timespec (0 = forever): -EFAULT, -EINVAL (negative or nsec >= 1e9), 0. */
int poll_timeout_from_user(uintptr_t uts, struct poll_timeout *to);
bool poll_timed_out(const struct poll_timeout *to);
/* Linux's update of a user timespec to the time left (not for zero or absent timeouts; a fault
 * writing it is ignored, as Linux does). */
void poll_timeout_to_user(uintptr_t uts, const struct poll_timeout *to);
uint64_t poll_sleep_deadline(const struct poll_timeout *to);   /* for wait_schedule */

/* The temporary signal mask of ppoll/pselect6/epoll_pwait (Linux's set_user_sigmask). */
struct poll_sigmask {
	uint64_t old;
	bool set;
};
/* usig == 0: no change. -EINVAL when size is not 8, -EFAULT. */
int poll_sigmask_set(uintptr_t usig, size_t size, struct poll_sigmask *sm);
/* interrupted (the call returns -EINTR): keep the temporary mask for the handler about to run and
 * let sigreturn (or the next return to user mode without a handler) put the old one back. */
void poll_sigmask_restore(struct poll_sigmask *sm, bool interrupted);

/* ---- system calls (numbers in kernel/syscall.c) ---- */
long sys_ppoll(unsigned long ufds, unsigned long nfds, unsigned long tsp, unsigned long usig,
	       unsigned long sigsetsize);
long sys_pselect6(unsigned long n, unsigned long inp, unsigned long outp, unsigned long exp,
		  unsigned long tsp, unsigned long sig);
long sys_epoll_create1(unsigned long flags);
long sys_epoll_ctl(unsigned long epfd, unsigned long op, unsigned long fd, unsigned long uevent);
long sys_epoll_pwait(unsigned long epfd, unsigned long uevents, unsigned long maxevents,
		     unsigned long timeout_ms, unsigned long usig, unsigned long sigsetsize);
long sys_epoll_pwait2(unsigned long epfd, unsigned long uevents, unsigned long maxevents,
		      unsigned long tsp, unsigned long usig, unsigned long sigsetsize);

#endif
