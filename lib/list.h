/* Intrusive circular doubly-linked lists (the Linux shape). Not thread-safe: the owner's lock guards. */
#ifndef KERNEL_LIST_H
#define KERNEL_LIST_H
#include "kernel/types.h"

struct list_head { struct list_head *next, *prev; };

#define LIST_HEAD_INIT(name) { &(name), &(name) }
static inline void list_init(struct list_head *h) { h->next = h; h->prev = h; }
static inline bool list_empty(const struct list_head *h) { return h->next == h; }
static inline void __list_add(struct list_head *n, struct list_head *prev, struct list_head *next)
{
	next->prev = n; n->next = next; n->prev = prev; prev->next = n;
}
/* add after head (stack order) */
static inline void list_add(struct list_head *n, struct list_head *h) { __list_add(n, h, h->next); }
/* add before head (queue order) */
static inline void list_add_tail(struct list_head *n, struct list_head *h) { __list_add(n, h->prev, h); }
static inline void list_del(struct list_head *e)
{
	e->prev->next = e->next; e->next->prev = e->prev; e->next = e->prev = e;
}
#define list_entry(p, type, member) container_of(p, type, member)
#define list_first_entry(h, type, member) list_entry((h)->next, type, member)
#define list_for_each(p, h) for ((p) = (h)->next; (p) != (h); (p) = (p)->next)
#define list_for_each_safe(p, n, h) for ((p) = (h)->next, (n) = (p)->next; (p) != (h); (p) = (n), (n) = (p)->next)

#endif
