/*
 * lwIP's system layer for Ember (NO_SYS=1): clock, protection, memory, randomness, diagnostics.
 * See net/lwip/arch/sys_arch.h and net/lwip/lwipopts.h for what each piece promises.
 */
#include "lwip/opt.h"
#include "lwip/sys.h"
#include "net/squeue.h"
#include "mm/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/random.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "kernel/timer.h"

/* ---- time ---- */

u32_t sys_now(void) { return (u32_t)(time_ns() / NSEC_PER_MSEC); }
u32_t sys_jiffies(void) { return (u32_t)(time_ns() / (NSEC_PER_SEC / SCHED_HZ)); }
void sys_init(void) {}

/* ---- SYS_ARCH_PROTECT: a recursive leaf spinlock ---- */

static struct spinlock prot_lock = SPINLOCK_INIT("lwip_prot");

/* Returns 1 when this CPU already held it (nested), 0 when it was taken now. A spinlock holder
 * cannot be preempted or interrupted, so "held by this CPU" means "held by this very context". */
sys_prot_t sys_arch_protect(void)
{
	irq_push_off();
	bool nested = spin_holding(&prot_lock);
	if (!nested)
		spin_lock(&prot_lock);
	irq_pop_off();
	return nested;
}

void sys_arch_unprotect(sys_prot_t nested)
{
	if (!nested)
		spin_unlock(&prot_lock);
}

/* ---- memory ---- */

void *ember_lwip_malloc(size_t size) { return kmalloc(size); }
void ember_lwip_free(void *p) { kfree(p); }
void *ember_lwip_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kzalloc(n * size);
}

int atoi(const char *s)
{
	int sign = 1, v = 0;
	if (*s == '-') {
		sign = -1;
		s++;
	}
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return sign * v;
}

/* ---- randomness (TCP initial sequence numbers, DHCP transaction ids, ephemeral ports) ---- */

uint32_t ember_lwip_rand(void) { return (uint32_t)random_u64(); }

/* ---- diagnostics ---- */

uint64_t ember_lwip_asserts;          /* failed LWIP_ASSERTs (shown by the monitor's netstat) */
uint64_t ember_lwip_unlocked_calls;   /* core entered without the stack lock (then it panics) */

void ember_lwip_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void ember_lwip_assert(const char *msg, const char *file, int line)
{
	__atomic_fetch_add(&ember_lwip_asserts, 1, __ATOMIC_RELAXED);
	printk("lwip: assertion \"%s\" failed at %s:%d (continuing)\n", msg, file, line);
}

/* lwIP's state is global: entering its core without the stack lock is a kernel bug (net/stack.h). */
void ember_lwip_assert_core_locked(void)
{
	if (unlikely(!stack_lock_held())) {
		__atomic_fetch_add(&ember_lwip_unlocked_calls, 1, __ATOMIC_RELAXED);
		panic("lwip: core entered without the stack lock (cpu %d); see net/stack.h", cpu_id());
	}
}
