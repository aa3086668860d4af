/*
 * Futexes: FUTEX_WAIT / FUTEX_WAKE (private and shared), with relative timeouts; what glibc's
 * mutexes, condition variables and pthread_join need. (Stage 3 extends this file with bitsets,
 * requeue, wake-op and robust lists.)
 *
 * Theory. Waiters hash by key into FUTEX_BUCKETS buckets, each a spinlock and a list. A private key
 * is (mm, address); a shared key is (physical page, offset) so processes mapping the word at
 * different addresses meet. FUTEX_WAIT takes the bucket lock, reads the word and compares it with
 * the expected value, and queues itself before releasing the lock: a waker changes the word first
 * and then takes the same bucket lock to wake, so a wake-up between the check and the sleep cannot
 * be lost.
 */
#include "kernel/futex.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/list.h"
#include "kernel/mm.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/spinlock.h"
#include "kernel/timer.h"
#include "kernel/systime.h"
#include "kernel/uaccess.h"
#include "kernel/uvm.h"

#define FUTEX_BUCKETS 256
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX_BITSET_MATCH_ANY 0xffffffffU

struct futex_key { uintptr_t a, b; };   /* (mm, uaddr) or (page pa, offset) */

struct futex_waiter {
	struct list_head node;
	struct futex_key key;
	uint32_t bitset;
	struct thread *thread;
	volatile bool woken;
};

struct futex_bucket {
	struct spinlock lock;
	struct list_head waiters;
};

static struct futex_bucket buckets[FUTEX_BUCKETS];
static bool buckets_ready;

static void futex_init_once(void)
{
	if (__atomic_load_n(&buckets_ready, __ATOMIC_ACQUIRE))
		return;
	static struct spinlock init_lock = SPINLOCK_INIT("futex_init");
	spin_lock(&init_lock);
	if (!buckets_ready) {
		for (int i = 0; i < FUTEX_BUCKETS; i++) {
			spin_init(&buckets[i].lock, "futex");
			list_init(&buckets[i].waiters);
		}
		__atomic_store_n(&buckets_ready, true, __ATOMIC_RELEASE);
	}
	spin_unlock(&init_lock);
}

/* Bob Jenkins' one-at-a-time hash over the key's bytes. */
static unsigned hash_key(const struct futex_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 0;
	for (size_t i = 0; i < sizeof(*k); i++) {
		h += p[i];
		h += h << 10;
		h ^= h >> 6;
	}
	h += h << 3;
	h ^= h >> 11;
	h += h << 15;
	return h % FUTEX_BUCKETS;
}

static bool key_eq(const struct futex_key *x, const struct futex_key *y) { return x->a == y->a && x->b == y->b; }

static int make_key(uintptr_t uaddr, bool private_, struct futex_key *k)
{
	if (uaddr & 3)
		return -EINVAL;
	if (!access_ok(uaddr, sizeof(uint32_t)))
		return -EFAULT;
	struct mm *mm = current->mm;
	if (private_) {
		*k = (struct futex_key){ (uintptr_t)mm, uaddr };
		return 0;
	}
	paddr_t pa;
	if (mm_lookup_pa(mm, uaddr, &pa) < 0)
		return -EFAULT;
	*k = (struct futex_key){ ALIGN_DOWN(pa, PAGE_SIZE) | 1, uaddr & (PAGE_SIZE - 1) };
	return 0;
}

static int read_word(uintptr_t uaddr, uint32_t *v) { return copy_from_user(v, uaddr, sizeof(*v)); }

static int wake_key(const struct futex_key *k, int nr, uint32_t bitset)
{
	struct futex_bucket *b = &buckets[hash_key(k)];
	int n = 0;
	struct list_head *p, *tmp;
	spin_lock(&b->lock);
	list_for_each_safe(p, tmp, &b->waiters) {
		struct futex_waiter *w = list_entry(p, struct futex_waiter, node);
		if (!key_eq(&w->key, k) || !(w->bitset & bitset))
			continue;
		if (n >= nr)
			break;
		list_del(&w->node);
		__atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
		sched_wake(w->thread);
		n++;
	}
	spin_unlock(&b->lock);
	return n;
}

int futex_wake_addr(struct mm *mm, uintptr_t uaddr, int nr)
{
	futex_init_once();
	struct futex_key k = { (uintptr_t)mm, uaddr };
	int n = wake_key(&k, nr, FUTEX_BITSET_MATCH_ANY);
	/* a shared waiter (pthread_join on a pshared word is rare) is keyed by page */
	paddr_t pa;
	if (mm && mm_lookup_pa(mm, uaddr, &pa) == 0) {
		struct futex_key sk = { ALIGN_DOWN(pa, PAGE_SIZE) | 1, uaddr & (PAGE_SIZE - 1) };
		n += wake_key(&sk, nr, FUTEX_BITSET_MATCH_ANY);
	}
	return n;
}

static void futex_timeout_fn(void *arg) { sched_wake(arg); }

static long futex_wait(uintptr_t uaddr, bool private_, uint32_t val, uint64_t deadline, uint32_t bitset)
{
	struct futex_waiter w = { .bitset = bitset, .thread = current };
	int r = make_key(uaddr, private_, &w.key);
	if (r < 0)
		return r;
	struct futex_bucket *b = &buckets[hash_key(&w.key)];
	uint32_t cur;
	/* fault the word in first: copy_from_user must not fault while we hold the bucket lock */
	if (read_word(uaddr, &cur) < 0)
		return -EFAULT;
	spin_lock(&b->lock);
	if (read_word(uaddr, &cur) < 0) {
		spin_unlock(&b->lock);
		return -EFAULT;
	}
	if (cur != val) {
		spin_unlock(&b->lock);
		return -EAGAIN;
	}
	list_add_tail(&w.node, &b->waiters);
	current->state = THREAD_SLEEPING;
	spin_unlock(&b->lock);

	struct thread *t = current;
	if (deadline != TIMER_NONE) {
		timer_setup(&t->sleep_timer, futex_timeout_fn, t);
		timer_add(&t->sleep_timer, deadline);
	}
	long ret = 0;
	for (;;) {
		if (__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE))
			break;
		if (signal_pending()) {
			ret = -ERESTARTSYS;
			break;
		}
		if (deadline != TIMER_NONE && time_now() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		schedule();
		t->state = THREAD_SLEEPING;
	}
	t->state = THREAD_RUNNING;
	if (deadline != TIMER_NONE)
		timer_cancel(&t->sleep_timer);
	if (ret) {
		spin_lock(&b->lock);
		if (!w.woken)
			list_del(&w.node);
		else
			ret = 0;                /* woken after all: report the wake */
		spin_unlock(&b->lock);
	}
	return ret;
}

struct k_timespec { long sec, nsec; };

long sys_futex(uintptr_t uaddr, int op, uint32_t val, uintptr_t utimeout, uintptr_t uaddr2, uint32_t val3)
{
	(void)uaddr2;
	futex_init_once();
	bool private_ = op & FUTEX_PRIVATE_FLAG;
	int cmd = op & FUTEX_CMD_MASK;
	uint64_t deadline = TIMER_NONE;
	if ((cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) && utimeout) {
		struct k_timespec ts;
		if (copy_from_user(&ts, utimeout, sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (long)NSEC_PER_SEC)
			return -EINVAL;
		uint64_t ns = (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec;
		if (cmd == FUTEX_WAIT)
			deadline = time_now() + ns_to_ticks(ns);
		else if (op & FUTEX_CLOCK_REALTIME)
			deadline = ns_to_ticks(ns > realtime_offset_ns() ? ns - realtime_offset_ns() : 0);
		else
			deadline = ns_to_ticks(ns);
	}
	switch (cmd) {
	case FUTEX_WAIT:
		return futex_wait(uaddr, private_, val, deadline, FUTEX_BITSET_MATCH_ANY);
	case FUTEX_WAIT_BITSET:
		if (!val3)
			return -EINVAL;
		return futex_wait(uaddr, private_, val, deadline, val3);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET: {
		uint32_t bits = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3;
		if (!bits)
			return -EINVAL;
		struct futex_key k;
		int r = make_key(uaddr, private_, &k);
		if (r < 0)
			return r;
		return wake_key(&k, (int)val, bits);
	}
	default:
		return -ENOSYS;
	}
}

void futex_exit_robust_list(struct thread *t) { (void)t; }
