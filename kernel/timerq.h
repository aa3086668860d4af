/*
 * Timer queues: a list of timers ordered by deadline (timebase ticks), earliest first; timers with
 * equal deadlines fire in the order they were added. Pure logic, no locking: kernel/timer.c wraps
 * one queue per CPU with a lock and the hardware timer.
 */
#ifndef KERNEL_TIMERQ_H
#define KERNEL_TIMERQ_H
#include "lib/list.h"

struct timer {
	struct list_head node;
	uint64_t deadline;            /* absolute, in timebase ticks */
	void (*fn)(void *arg);        /* runs in interrupt context on the queue's CPU */
	void *arg;
	int cpu;                      /* queue it is on, -1 when not pending */
};

#define TIMER_NONE UINT64_MAX

void timerq_insert(struct list_head *q, struct timer *t);
void timerq_remove(struct timer *t);
/* Earliest pending timer whose deadline is <= now, removed from the queue; NULL if none. */
struct timer *timerq_pop_expired(struct list_head *q, uint64_t now);
uint64_t timerq_next_deadline(const struct list_head *q);   /* TIMER_NONE when empty */

#endif
