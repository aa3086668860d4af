/*
 * Sleeping locks for the file system: held across copies to and from user memory (which may fault
 * pages in), so a waiter sleeps on a wait queue instead of spinning. Not interruptible by signals:
 * holders never wait for another event while holding one. `lk` guards `held`.
 */
#ifndef KERNEL_FS_SLEEPLOCK_H
#define KERNEL_FS_SLEEPLOCK_H
#include "kernel/spinlock.h"
#include "kernel/wait.h"

struct sleeplock {
	struct spinlock lk;
	bool held;
	struct waitq wq;
};

#define SLEEPLOCK_INIT(l, n) { SPINLOCK_INIT(n), false, WAITQ_INIT((l).wq, n) }

void sleeplock_init(struct sleeplock *l, const char *name);
void sleep_lock(struct sleeplock *l);
void sleep_unlock(struct sleeplock *l);

#endif
