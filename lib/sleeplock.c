/* Sleeping locks (theory in sleeplock.h). The fast path takes and drops only the spinlock. */
#include "lib/sleeplock.h"
#include "kernel/assert.h"

void sleeplock_init(struct sleeplock *l, const char *name)
{
	spin_init(&l->lk, name);
	l->held = false;
	waitq_init(&l->wq, name);
}

static bool try_take(struct sleeplock *l)
{
	bool ok;
	spin_lock(&l->lk);
	ok = !l->held;
	l->held = true;
	spin_unlock(&l->lk);
	return ok;
}

void sleep_lock(struct sleeplock *l)
{
	might_sleep();
	while (!try_take(l))
		wait_event(&l->wq, !READ_ONCE(l->held));
}

void sleep_unlock(struct sleeplock *l)
{
	spin_lock(&l->lk);
	l->held = false;
	spin_unlock(&l->lk);
	wake_one(&l->wq);       /* always: the queue lock orders us against a sleeper's check */
}
