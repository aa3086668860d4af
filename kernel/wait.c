/*
 * Wait queues (theory in wait.h). The queue lock guards the entry list and each entry's queued and
 * woken flags. prepare_to_wait sets the thread SLEEPING under the queue lock; wake_up removes the
 * oldest entries under the same lock and calls sched_wake, which flips SLEEPING -> RUNNABLE under the
 * run-queue lock. If the sleeper has not reached schedule() yet, schedule() sees RUNNABLE and simply
 * keeps it running: the wake-up is not lost. Lock order: waitq lock -> run-queue lock.
 *
 * Callback entries (func != NULL) are queued at the head and never removed by wake_up: it calls
 * func under the queue lock and moves on without counting them against nr. Sleepers are queued at
 * the tail, so all callbacks come before any sleeper and a wake_one still reaches every callback.
 * Because func only ever runs under the queue lock, waitq_remove (which takes that lock) is a
 * barrier: once it returns the entry's owner may free it.
 */
#include "kernel/wait.h"
#include "kernel/assert.h"
#include "kernel/sched.h"

void waitq_init(struct waitq *wq, const char *name)
{
	spin_init(&wq->lock, name);
	list_init(&wq->head);
}

void prepare_to_wait(struct waitq *wq, struct wait_entry *e)
{
	struct thread *t = current;
	spin_lock(&wq->lock);
	e->thread = t;
	e->func = NULL;                            /* a sleeper, never a callback entry */
	e->woken = false;
	if (!e->queued) {
		list_add_tail(&e->node, &wq->head);
		e->queued = true;
	}
	t->state = THREAD_SLEEPING;
	spin_unlock(&wq->lock);
}

void finish_wait(struct waitq *wq, struct wait_entry *e)
{
	current->state = THREAD_RUNNING;
	spin_lock(&wq->lock);
	if (e->queued) {
		list_del(&e->node);
		e->queued = false;
	}
	spin_unlock(&wq->lock);
}

int wake_up(struct waitq *wq, int nr)
{
	int n = 0;
	struct list_head *p, *tmp;
	spin_lock(&wq->lock);
	list_for_each_safe(p, tmp, &wq->head) {
		struct wait_entry *e = list_entry(p, struct wait_entry, node);
		if (e->func) {
			/* stays queued; func must not touch this queue (tmp stays valid) */
			e->func(e);
			continue;
		}
		list_del(&e->node);
		e->queued = false;
		e->woken = true;
		sched_wake(e->thread);
		if (++n == nr)
			break;
	}
	spin_unlock(&wq->lock);
	return n;
}

bool waitq_active(struct waitq *wq) { return !list_empty(&wq->head); }

void waitq_add_callback(struct waitq *wq, struct wait_entry *e, void (*func)(struct wait_entry *))
{
	spin_lock(&wq->lock);
	e->func = func;
	e->thread = NULL;
	e->woken = false;
	if (!e->queued) {
		list_add(&e->node, &wq->head);     /* head: ahead of every sleeper */
		e->queued = true;
	}
	spin_unlock(&wq->lock);
}

void waitq_remove(struct waitq *wq, struct wait_entry *e)
{
	spin_lock(&wq->lock);
	if (e->queued) {
		list_del(&e->node);
		e->queued = false;
	}
	spin_unlock(&wq->lock);
}

static void wait_timeout_fn(void *arg) { sched_wake(arg); }

void wait_schedule(uint64_t deadline)
{
	might_sleep();
	if (deadline == TIMER_NONE) {
		schedule();
		return;
	}
	struct thread *t = current;
	timer_setup(&t->sleep_timer, wait_timeout_fn, t);
	timer_add(&t->sleep_timer, deadline);
	schedule();
	timer_cancel(&t->sleep_timer);
}
