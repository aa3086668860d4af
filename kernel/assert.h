/*
 * Checked invariants, compiled into both kernels (and the host unit tests). A failed check is a
 * kernel bug: it panics with the file and line, whatever the build.
 *
 *   BUG_ON(cond)        panics when cond is true
 *   ASSERT(cond)        panics when cond is false
 *   might_sleep()       at the top of anything that may block: panics when the caller cannot sleep
 *                       (interrupts off, a spinlock held: this CPU's irq_push_off depth is not 0,
 *                       which is also the case in interrupt context)
 *   assert_spin_held(l) the caller must hold spinlock l (on this CPU)
 */
#ifndef KERNEL_ASSERT_H
#define KERNEL_ASSERT_H
#include "kernel/types.h"
#include "kernel/printk.h"

#define BUG_ON(cond) do {                                                             \
	if (unlikely(cond))                                                           \
		panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);                 \
} while (0)

#define ASSERT(cond) do {                                                             \
	if (unlikely(!(cond)))                                                        \
		panic("assertion failed at %s:%d: %s", __FILE__, __LINE__, #cond);    \
} while (0)

/* kernel/spinlock.c: false when this CPU holds a spinlock or has interrupts off. */
bool may_sleep(void);
#define might_sleep() do {                                                            \
	if (unlikely(!may_sleep()))                                                   \
		panic("sleeping in atomic context at %s:%d", __FILE__, __LINE__);     \
} while (0)

#define assert_spin_held(l) do {                                                      \
	if (unlikely(!spin_holding(l)))                                               \
		panic("%s:%d: spinlock '%s' not held", __FILE__, __LINE__, (l)->name); \
} while (0)

#endif
