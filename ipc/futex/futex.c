/*
 * Futexes: FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET, FUTEX_REQUEUE,
 * FUTEX_CMP_REQUEUE and FUTEX_WAKE_OP, private or shared, with relative (WAIT) and absolute
 * (WAIT_BITSET, monotonic or CLOCK_REALTIME) timeouts; robust lists walked at thread exit.
 *
 * Theory. Waiters hash into FUTEX_BUCKETS buckets (Jenkins' one-at-a-time hash of the key), each a
 * spinlock and a FIFO list. A private key is (mm, address); a shared key is (physical page,
 * offset) when the word lies in a MAP_SHARED mapping, so processes that map one word at different
 * addresses meet on it, and (mm, address) in private memory, whose page copy-on-write may replace. FUTEX_WAIT takes the
 * bucket lock, reads the word, compares it with the expected value and queues itself before
 * dropping the lock; a waker changes the word first and takes the same lock to wake, so a wake-up
 * between the check and the sleep cannot be lost. A waiter knows its bucket (w->bucket): requeue
 * moves it between buckets holding both locks (lower address first), and a waiter leaving on a
 * timeout or a signal re-reads w->bucket under the lock until it is stable.
 *
 * Read-modify-write of user words (WAKE_OP, robust lists) goes through the direct map after the
 * page has been made present and private-writable (copy-on-write broken) and pinned with a
 * reference, so the atomic operation hits the very page the process sees.
 */
#include "ipc/futex/futex.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "lib/list.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/spinlock.h"
#include "kernel/systime.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"
#include "arch/riscv/riscv.h"

#define FUTEX_BUCKETS 256
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX_BITSET_MATCH_ANY 0xffffffffU

#define FUTEX_OP_SET 0
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_ANDN 3
#define FUTEX_OP_XOR 4
#define FUTEX_OP_OPARG_SHIFT 8
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_NE 1
#define FUTEX_OP_CMP_LT 2
#define FUTEX_OP_CMP_LE 3
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP_CMP_GE 5

#define FUTEX_WAITERS 0x80000000U
#define FUTEX_OWNER_DIED 0x40000000U
#define FUTEX_TID_MASK 0x3fffffffU
#define ROBUST_LIST_LIMIT 2048

struct futex_key { uintptr_t a, b; };   /* (mm, uaddr) or (page pa | 1, offset) */

struct futex_bucket {
	struct spinlock lock;
	struct list_head waiters;
};

struct futex_waiter {
	struct list_head node;
	struct futex_key key;
	struct futex_bucket *volatile bucket;   /* changes only with both bucket locks held */
	uint32_t bitset;
	struct thread *thread;
	volatile bool woken;
};

static struct futex_bucket buckets[FUTEX_BUCKETS] = {
#define B4(i) { SPINLOCK_INIT("futex"), LIST_HEAD_INIT(buckets[i].waiters) }
#define B16(i) B4(i), B4(i + 1), B4(i + 2), B4(i + 3)
#define B64(i) B16(i), B16(i + 4), B16(i + 8), B16(i + 12)
	B64(0), B64(16), B64(32), B64(48), B64(64), B64(80), B64(96), B64(112),
	B64(128), B64(144), B64(160), B64(176), B64(192), B64(208), B64(224), B64(240),
};

/* Bob Jenkins' one-at-a-time hash over the key's bytes. */
static struct futex_bucket *bucket_of(const struct futex_key *k)
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
	return &buckets[h % FUTEX_BUCKETS];
}

static bool key_eq(const struct futex_key *x, const struct futex_key *y) { return x->a == y->a && x->b == y->b; }

static int make_key(struct mm *mm, uintptr_t uaddr, bool private_, struct futex_key *k)
{
	if (uaddr & 3)
		return -EINVAL;
	if (!access_ok(uaddr, sizeof(uint32_t)))
		return -EFAULT;
	/* A shared futex in private memory keys by (mm, address) too, as Linux's get_futex_key does
	 * for anonymous pages: copy-on-write after a fork moves the word to another page, and a
	 * waiter keyed by the old page would miss the wake (pthread_join's, through
	 * CLONE_CHILD_CLEARTID, hung that way: user/tests/mm_lazy_churn.c). */
	if (private_ || !mm_addr_shared(mm, uaddr)) {
		*k = (struct futex_key){ (uintptr_t)mm, uaddr };
		return 0;
	}
	paddr_t pa;
	if (mm_lookup_pa(mm, uaddr, &pa) < 0)
		return -EFAULT;
	*k = (struct futex_key){ ALIGN_DOWN(pa, PAGE_SIZE) | 1, uaddr & (PAGE_SIZE - 1) };
	return 0;
}

static void lock2(struct futex_bucket *a, struct futex_bucket *b)
{
	if (a == b) {
		spin_lock(&a->lock);
	} else if (a < b) {
		spin_lock(&a->lock);
		spin_lock(&b->lock);
	} else {
		spin_lock(&b->lock);
		spin_lock(&a->lock);
	}
}

static void unlock2(struct futex_bucket *a, struct futex_bucket *b)
{
	spin_unlock(&a->lock);
	if (a != b)
		spin_unlock(&b->lock);
}

/* Wake up to nr waiters of key whose bitset matches. Bucket lock held. */
static int wake_locked(struct futex_bucket *b, const struct futex_key *k, int nr, uint32_t bitset)
{
	int n = 0;
	struct list_head *p, *tmp;
	list_for_each_safe(p, tmp, &b->waiters) {
		if (n >= nr)
			break;
		struct futex_waiter *w = list_entry(p, struct futex_waiter, node);
		if (!key_eq(&w->key, k) || !(w->bitset & bitset))
			continue;
		struct thread *t = w->thread;  /* before woken: the waiter may leave once it sees it */
		list_del(&w->node);
		__atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
		sched_wake(t);
		n++;
	}
	return n;
}

static int wake_key(const struct futex_key *k, int nr, uint32_t bitset)
{
	struct futex_bucket *b = bucket_of(k);
	spin_lock(&b->lock);
	int n = wake_locked(b, k, nr, bitset);
	spin_unlock(&b->lock);
	return n;
}

static void futex_timeout_fn(void *arg) { sched_wake(arg); }

static long futex_wait_restart(struct restart_block *rb);

static long futex_wait(uintptr_t uaddr, bool private_, uint32_t val, uint64_t deadline, uint32_t bitset)
{
	struct thread *t = current;
	struct futex_waiter w = { .bitset = bitset, .thread = t };
	int r = make_key(t->mm, uaddr, private_, &w.key);
	if (r < 0)
		return r;
	struct futex_bucket *b = bucket_of(&w.key);
	uint32_t cur;
	if (copy_from_user(&cur, uaddr, sizeof(cur)) < 0)   /* fault it in before taking the lock */
		return -EFAULT;
	spin_lock(&b->lock);
	if (copy_from_user(&cur, uaddr, sizeof(cur)) < 0) {
		spin_unlock(&b->lock);
		return -EFAULT;
	}
	if (cur != val) {
		spin_unlock(&b->lock);
		return -EAGAIN;
	}
	w.bucket = b;
	list_add_tail(&w.node, &b->waiters);
	t->state = THREAD_SLEEPING;
	spin_unlock(&b->lock);

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
	/*
	 * Leave whichever bucket we are on now. Even when woken: the waker sets woken and then calls
	 * sched_wake(t) under the bucket lock, so taking that lock is what tells us it is done with
	 * w and with this thread. Returning at once could let the thread exit and be freed while the
	 * waker still wakes it (issue 17, fuzz-corpus/004: the freed struct, reused by a new thread,
	 * was run before it was set up).
	 */
	for (;;) {
		struct futex_bucket *cb = w.bucket;
		spin_lock(&cb->lock);
		if (cb != w.bucket) {
			spin_unlock(&cb->lock);
			continue;
		}
		if (!w.woken)
			list_del(&w.node);
		else
			ret = 0;                /* woken after all: report the wake */
		spin_unlock(&cb->lock);
		break;
	}
	/* As Linux: a wait with a timeout goes on to the same deadline through restart_syscall when
	 * no handler runs (EINTR when one does); one without restarts as is, or under SA_RESTART. */
	if (ret == -ERESTARTSYS && deadline != TIMER_NONE) {
		struct restart_block *rb = &current->restart;
		rb->fn = futex_wait_restart;
		rb->futex.uaddr = uaddr;
		rb->futex.deadline = deadline;
		rb->futex.val = val;
		rb->futex.bitset = bitset;
		rb->futex.private_ = private_;
		return -ERESTART_RESTARTBLOCK;
	}
	return ret;
}

static long futex_wait_restart(struct restart_block *rb)
{
	return futex_wait(rb->futex.uaddr, rb->futex.private_, rb->futex.val, rb->futex.deadline, rb->futex.bitset);
}

static long futex_requeue(uintptr_t uaddr, uintptr_t uaddr2, bool private_, int nr_wake, int nr_requeue,
			  bool cmp, uint32_t val3)
{
	struct mm *mm = current->mm;
	struct futex_key k1, k2;
	int r = make_key(mm, uaddr, private_, &k1);
	if (r == 0)
		r = make_key(mm, uaddr2, private_, &k2);
	if (r < 0)
		return r;
	if (nr_wake < 0 || nr_requeue < 0)
		return -EINVAL;
	struct futex_bucket *b1 = bucket_of(&k1), *b2 = bucket_of(&k2);
	uint32_t cur;
	if (cmp && copy_from_user(&cur, uaddr, sizeof(cur)) < 0)
		return -EFAULT;
	lock2(b1, b2);
	if (cmp) {
		if (copy_from_user(&cur, uaddr, sizeof(cur)) < 0) {
			unlock2(b1, b2);
			return -EFAULT;
		}
		if (cur != val3) {
			unlock2(b1, b2);
			return -EAGAIN;
		}
	}
	int woken = wake_locked(b1, &k1, nr_wake, FUTEX_BITSET_MATCH_ANY), moved = 0;
	struct list_head *p, *tmp;
	list_for_each_safe(p, tmp, &b1->waiters) {
		if (moved >= nr_requeue)
			break;
		struct futex_waiter *w = list_entry(p, struct futex_waiter, node);
		if (!key_eq(&w->key, &k1))
			continue;
		list_del(&w->node);
		w->key = k2;
		list_add_tail(&w->node, &b2->waiters);
		w->bucket = b2;
		moved++;
	}
	unlock2(b1, b2);
	return woken + moved;          /* as Linux: woken plus requeued, for both ops */
}

/* Make the user word present and private-writable (copy-on-write broken). May sleep: call it
 * before taking bucket locks. */
static int user_prefault(uintptr_t uaddr)
{
	if ((uaddr & 3) || !access_ok(uaddr, sizeof(uint32_t)))
		return -EFAULT;
	return mm_fault(current->mm, uaddr, EXC_STORE_PAGE_FAULT) < 0 ? -EFAULT : 0;
}

/* Atomically apply fn to the user word at uaddr (prefaulted). Returns the old value in *old, or
 * -EFAULT when the page is gone again. Never sleeps. */
static int user_atomic(uintptr_t uaddr, uint32_t (*fn)(uint32_t old, uint32_t arg), uint32_t arg,
		       uint32_t expect, bool cmpxchg, uint32_t *old)
{
	struct mm *mm = current->mm;
	paddr_t pa;
	if (mm_pin_pa(mm, uaddr, &pa) < 0)
		return -EFAULT;
	uint32_t *word = pa_to_va(pa);
	if (cmpxchg) {
		uint32_t e = expect;
		__atomic_compare_exchange_n(word, &e, arg, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = e;
	} else {
		uint32_t o = __atomic_load_n(word, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(word, &o, fn(o, arg), false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			;
		*old = o;
	}
	page_put(ALIGN_DOWN(pa, PAGE_SIZE));
	return 0;
}

static uint32_t op_set(uint32_t o, uint32_t a) { (void)o; return a; }
static uint32_t op_add(uint32_t o, uint32_t a) { return o + a; }
static uint32_t op_or(uint32_t o, uint32_t a) { return o | a; }
static uint32_t op_andn(uint32_t o, uint32_t a) { return o & ~a; }
static uint32_t op_xor(uint32_t o, uint32_t a) { return o ^ a; }

static int32_t sext12(uint32_t v) { return (int32_t)(v << 20) >> 20; }

static long futex_wake_op(uintptr_t uaddr, uintptr_t uaddr2, bool private_, int nr1, int nr2, uint32_t val3)
{
	static uint32_t (*const ops[])(uint32_t, uint32_t) = { op_set, op_add, op_or, op_andn, op_xor };
	unsigned op = (val3 >> 28) & 7, cmp = (val3 >> 24) & 15;
	int32_t oparg = sext12(val3 >> 12), cmparg = sext12(val3);
	if (val3 & (FUTEX_OP_OPARG_SHIFT << 28)) {
		if (oparg < 0 || oparg > 31)
			return -EINVAL;
		oparg = 1 << oparg;
	}
	if (op > FUTEX_OP_XOR || cmp > FUTEX_OP_CMP_GE)
		return -ENOSYS;
	struct mm *mm = current->mm;
	struct futex_key k1, k2;
	int r = make_key(mm, uaddr, private_, &k1);
	if (r == 0)
		r = make_key(mm, uaddr2, private_, &k2);
	if (r < 0)
		return r;
	struct futex_bucket *b1 = bucket_of(&k1), *b2 = bucket_of(&k2);
	uint32_t old;
	r = user_prefault(uaddr2);
	if (r < 0)
		return r;
	lock2(b1, b2);
	r = user_atomic(uaddr2, ops[op], (uint32_t)oparg, 0, false, &old);
	if (r < 0) {
		unlock2(b1, b2);
		return r;
	}
	int n = wake_locked(b1, &k1, nr1, FUTEX_BITSET_MATCH_ANY);
	int32_t o = (int32_t)old;
	bool c = cmp == FUTEX_OP_CMP_EQ ? o == cmparg : cmp == FUTEX_OP_CMP_NE ? o != cmparg :
		 cmp == FUTEX_OP_CMP_LT ? o < cmparg : cmp == FUTEX_OP_CMP_LE ? o <= cmparg :
		 cmp == FUTEX_OP_CMP_GT ? o > cmparg : o >= cmparg;
	if (c)
		n += wake_locked(b2, &k2, nr2, FUTEX_BITSET_MATCH_ANY);
	unlock2(b1, b2);
	return n;
}

int futex_wake_addr(struct mm *mm, uintptr_t uaddr, int nr)
{
	struct futex_key k = { (uintptr_t)mm, uaddr };
	int n = wake_key(&k, nr, FUTEX_BITSET_MATCH_ANY);
	paddr_t pa;
	if (mm && mm_lookup_pa(mm, uaddr, &pa) == 0) {   /* shared waiters key by page */
		struct futex_key sk = { ALIGN_DOWN(pa, PAGE_SIZE) | 1, uaddr & (PAGE_SIZE - 1) };
		n += wake_key(&sk, nr, FUTEX_BITSET_MATCH_ANY);
	}
	return n;
}

/* ---- robust lists ---- */

struct robust_list_head { uintptr_t list; long futex_offset; uintptr_t list_op_pending; };

/* The owner died holding the lock at uaddr: mark it and wake one waiter (Linux's handle_futex_death). */
static void futex_owner_died(struct thread *t, uintptr_t uaddr)
{
	uint32_t cur;
	for (int tries = 0; tries < 16; tries++) {
		if (copy_from_user(&cur, uaddr, sizeof(cur)) < 0 || (cur & FUTEX_TID_MASK) != (uint32_t)t->tid)
			return;
		uint32_t nv = (cur & FUTEX_WAITERS) | FUTEX_OWNER_DIED, old;
		if (user_prefault(uaddr) < 0 || user_atomic(uaddr, NULL, nv, cur, true, &old) < 0)
			return;
		if (old == cur) {
			if (cur & FUTEX_WAITERS)
				futex_wake_addr(t->mm, uaddr, 1);
			return;
		}
	}
}

void futex_exit_robust_list(struct thread *t)
{
	struct robust_list_head h;
	if (!t->robust_list || !t->mm || copy_from_user(&h, t->robust_list, sizeof(h)) < 0)
		return;
	uintptr_t entry = h.list & ~1UL, pending = h.list_op_pending & ~1UL;
	for (int n = 0; entry && entry != t->robust_list && n < ROBUST_LIST_LIMIT; n++) {
		uintptr_t next;
		if (copy_from_user(&next, entry, sizeof(next)) < 0)
			break;
		if (entry != pending)
			futex_owner_died(t, entry + h.futex_offset);
		entry = next & ~1UL;
	}
	if (pending)
		futex_owner_died(t, pending + h.futex_offset);
}

/* ---- the system call ---- */

struct k_timespec { long sec, nsec; };

long sys_futex(uintptr_t uaddr, int op, uint32_t val, uintptr_t utimeout, uintptr_t uaddr2, uint32_t val3)
{
	bool private_ = op & FUTEX_PRIVATE_FLAG;
	int cmd = op & FUTEX_CMD_MASK;
	if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	uint64_t deadline = TIMER_NONE;
	if ((cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) && utimeout) {
		struct k_timespec ts;
		if (copy_from_user(&ts, utimeout, sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (long)NSEC_PER_SEC)
			return -EINVAL;
		uint64_t ns = (uint64_t)ts.sec * NSEC_PER_SEC + (uint64_t)ts.nsec;
		if (cmd == FUTEX_WAIT) {
			deadline = time_now() + ns_to_ticks(ns);
		} else {
			if (op & FUTEX_CLOCK_REALTIME)
				ns = ns > realtime_offset_ns() ? ns - realtime_offset_ns() : 0;
			deadline = ns_to_ticks(ns);
		}
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
		int r = make_key(current->mm, uaddr, private_, &k);
		if (r < 0)
			return r;
		return wake_key(&k, (int)val, bits);
	}
	case FUTEX_REQUEUE:
		return futex_requeue(uaddr, uaddr2, private_, (int)val, (int)utimeout, false, 0);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(uaddr, uaddr2, private_, (int)val, (int)utimeout, true, val3);
	case FUTEX_WAKE_OP:
		return futex_wake_op(uaddr, uaddr2, private_, (int)val, (int)utimeout, val3);
	default:
		return -ENOSYS;
	}
}
