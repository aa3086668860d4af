/*
 * Wait queues: the one blocking primitive. A sleeper queues an entry, marks itself SLEEPING, checks
 * its condition and only then calls schedule(); a waker changes the condition first and then wakes.
 * Because the sleeper's state change happens under the queue lock before the check, and the waker
 * takes the same lock after changing the condition, no wake-up is lost (see wait.c).
 * Wakers may run in interrupt context. Sleepers must hold no spinlock.
 *
 * Callback entries (for poll and epoll, which watch many queues at once): an entry with `func`
 * set is not a sleeper. wake_up calls func(entry) with the queue lock held instead of waking a
 * thread, and the entry STAYS queued until its owner calls waitq_remove; it does not count
 * against wake_up's nr (like Linux's non-exclusive entries), and it sits at the head of the queue
 * so a wake_one never stops before reaching it. func runs in the waker's context (maybe an
 * interrupt), so it must not sleep; it may take spinlocks that come after waitq locks in the lock
 * order (epoll's ready-list lock, run-queue locks) and may wake other queues (nested epoll), but
 * never its own queue. Once waitq_remove returns, func is not running and will not run again for
 * that entry, so the entry can be freed.
 */
#ifndef KERNEL_WAIT_H
#define KERNEL_WAIT_H
#include "kernel/spinlock.h"
#include "lib/list.h"
#include "kernel/timer.h"

struct thread;

struct waitq {
	struct spinlock lock;
	struct list_head head;            /* wait_entry, oldest first */
};

struct wait_entry {
	struct list_head node;
	struct thread *thread;            /* sleepers: who to wake (NULL for callback entries) */
	bool queued;                      /* on the queue (guarded by the queue lock) */
	bool woken;                       /* sleepers: removed by a wake_up */
	void (*func)(struct wait_entry *e);   /* callback entries: called by wake_up; NULL for sleepers */
};

#define WAITQ_INIT(wq, n) { SPINLOCK_INIT(n), LIST_HEAD_INIT((wq).head) }

void waitq_init(struct waitq *wq, const char *name);
void prepare_to_wait(struct waitq *wq, struct wait_entry *e);
void finish_wait(struct waitq *wq, struct wait_entry *e);
/* Wake up to nr sleepers (0 = all), oldest first; woken sleepers leave the queue. Every callback
 * entry on the queue is called as well (they stay queued and are not counted). Returns the number
 * of sleepers woken. */
int wake_up(struct waitq *wq, int nr);
#define wake_one(wq) wake_up((wq), 1)
#define wake_all(wq) wake_up((wq), 0)
bool waitq_active(struct waitq *wq);            /* any entry queued (sleeper or callback) */
/* Queue a callback entry (e->func is set to func); it stays until waitq_remove. */
void waitq_add_callback(struct waitq *wq, struct wait_entry *e, void (*func)(struct wait_entry *));
/* Dequeue a callback entry (no-op if not queued). Afterwards func is not running on it. */
void waitq_remove(struct waitq *wq, struct wait_entry *e);
/* Sleep once (schedule), with an optional deadline in timebase ticks (TIMER_NONE = none). */
void wait_schedule(uint64_t deadline);

/* Sleep until cond is true. */
#define wait_event(wq, cond) do {                                     \
	struct wait_entry __e = { .queued = false };                  \
	for (;;) {                                                    \
		prepare_to_wait((wq), &__e);                          \
		if (cond)                                             \
			break;                                        \
		wait_schedule(TIMER_NONE);                            \
	}                                                             \
	finish_wait((wq), &__e);                                      \
} while (0)

/* Sleep until cond is true or timeout_ns passes. Evaluates to 0 when cond became true,
 * -ETIMEDOUT (-110) otherwise. */
#define wait_event_timeout(wq, cond, timeout_ns) ({                   \
	struct wait_entry __e = { .queued = false };                  \
	uint64_t __dl = time_now() + ns_to_ticks(timeout_ns);         \
	int __r = 0;                                                  \
	for (;;) {                                                    \
		prepare_to_wait((wq), &__e);                          \
		if (cond)                                             \
			break;                                        \
		if (time_now() >= __dl) {                             \
			__r = -110;                                   \
			break;                                        \
		}                                                     \
		wait_schedule(__dl);                                  \
	}                                                             \
	finish_wait((wq), &__e);                                      \
	__r;                                                          \
})

#endif
