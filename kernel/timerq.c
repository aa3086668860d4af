/* Deadline-ordered timer lists (see timerq.h). Insertion walks from the tail: most new timers
 * expire after the ones already queued, so this is short in practice. */
#include "kernel/timerq.h"

void timerq_insert(struct list_head *q, struct timer *t)
{
	struct list_head *p = q->prev;
	while (p != q && list_entry(p, struct timer, node)->deadline > t->deadline)
		p = p->prev;
	__list_add(&t->node, p, p->next);
}

void timerq_remove(struct timer *t) { list_del(&t->node); }

struct timer *timerq_pop_expired(struct list_head *q, uint64_t now)
{
	if (list_empty(q))
		return NULL;
	struct timer *t = list_first_entry(q, struct timer, node);
	if (t->deadline > now)
		return NULL;
	list_del(&t->node);
	return t;
}

uint64_t timerq_next_deadline(const struct list_head *q)
{
	return list_empty(q) ? TIMER_NONE : list_first_entry(q, struct timer, node)->deadline;
}
