/*
 * Serialization queues (interface and caller contract in net/squeue.h).
 *
 * Theory. This follows the squeue of Solaris FireEngine (illumos usr/src/uts/common/inet/squeue.c),
 * pared down for a small kernel whose TCP/IP state lives in lwIP behind one lock.
 *
 * The problem. Protocol processing for one connection must be serialized (lwIP's pcbs have no
 * locks of their own), while different connections should be spread over CPUs and stay warm in
 * one CPU's cache. Locking each connection would cost a lock per packet and per socket call, and
 * would still leave the question of where the work runs.
 *
 * The answer is a queue per CPU that serializes everything bound to it. Each connection is bound
 * to one squeue for its whole life (net/stack.h says how); every packet for it and every socket
 * operation on it is an item entered on that squeue. Items on one squeue run one at a time, in
 * order; items on different squeues may run at the same time on different CPUs, up to the stack
 * lock below.
 *
 * Entering. squeue_enter(sq, item, fn, arg, flags) either runs fn at once on the caller's stack
 * ("inline"), or appends the item to sq's queue:
 *   - inline, when the caller is allowed to run protocol code (thread context, no spinlock held,
 *     not SQ_FILL), runs on sq's CPU, and sq is idle: nobody is processing it (SQS_PROC clear).
 *     The caller then becomes sq's processor: it runs its item, and (SQ_PROCESS) drains whatever
 *     queued meanwhile, for at most SQ_DRAIN_NS, after which it hands the squeue to the worker.
 *     With SQ_ANYCPU (squeue_call, window updates) it may also enter an idle, empty squeue from
 *     another CPU; what queues while it runs is then mostly what its own item made (a send's or
 *     a window update's loopback packets), which it drains too rather than waking sq's worker.
 *     If items were already queued when it arrived, it queues its own behind them and drains,
 *     so order is kept. This is the fast path of a NIC poll thread whose frame belongs to its
 *     own CPU: no queueing, no wake-up, no context switch.
 *   - queued, otherwise. If nobody is processing sq, the worker is woken (wait queue; nothing
 *     spins); if somebody is, that processor will find the item when it looks at the queue again
 *     before it lets go (it always looks under sq->lock before clearing SQS_PROC).
 * Interrupt handlers, spinlock holders and squeue callbacks (which hold the stack lock) never run
 * inline: they queue. So lwIP is never entered from interrupt context or recursively.
 *
 * The worker. One kernel thread per squeue, pinned to its CPU ("squeue/N"). It sleeps on
 * worker_wq until the queue is non-empty and nobody processes it, then takes SQS_PROC and drains
 * without a time limit (it is the one whose job it is; kernel preemption keeps it fair).
 *
 * Draining takes the whole queue as a chain under sq->lock and runs the chain unlocked, so
 * producers on other CPUs contend for sq->lock only for the append. A non-worker that runs out of
 * time in the middle of a chain puts the rest back at the head of the queue before handing off.
 *
 * The stack lock. lwIP's state is global, so every callback runs holding one global spinlock,
 * taken per item (not per drain) to keep hold times short and let squeues interleave. The
 * per-squeue counters record the time callbacks held it and the time spent waiting for it.
 *
 * Delegation. When a processor cannot get the stack lock after a short spin, it does not wait:
 * it puts its unrun items back at the head of its queue, keeps SQS_PROC (so nobody else starts
 * on the squeue) and hands the squeue to whoever holds the lock, by appending it to the
 * delegation list; then it returns (a worker goes back to sleep, an inline caller to its caller).
 * Before the holder lets go of the lock it drains the delegated squeues on its own CPU (running
 * each item as that squeue's: squeue_running() names it, its order is kept), for at most
 * SQ_DRAIN_NS, after which it hands any still listed to their workers. On a machine whose vCPUs
 * outnumber its cores, waiting for the lock was the expensive part: a spinning vCPU takes host
 * time from the holder, and a sleeping one costs a wake-up per hand-over. Delegation turns the
 * contention into batching: under load the lwIP work of several squeues runs back to back on the
 * CPU that has the lock, and the others go on with the copies and system calls around it.
 * No lost delegation: the delegator appends itself, then (after a fence) tries the lock once
 * more and runs the list itself if it gets it; the holder, after unlocking (and a fence), looks
 * at the list again and takes the lock back if it is not empty. So either the delegator sees
 * the lock free or the holder sees the delegator listed.
 *
 * Invariants
 *   - At most one processor per squeue: SQS_PROC is set and cleared under sq->lock. A delegated
 *     squeue keeps SQS_PROC; its processor is then the stack lock's holder, whoever that is.
 *   - An item is on at most one queue, and fn is called exactly once per squeue_enter.
 *   - A processor clears SQS_PROC only after seeing the queue empty under sq->lock, or after
 *     waking the worker (handoff, SQ_NODRAIN); so an item is never stranded.
 *   - The worker's sleep condition is (queue non-empty and SQS_PROC clear); everyone who makes it
 *     true wakes the worker after dropping sq->lock (wait.h's protocol: no lost wake-up).
 *   - Processing counters are written only by the current processor; queue counters under
 *     sq->lock. Readers sum without locks (64-bit loads are atomic on RV64).
 */
#include "net/squeue.h"
#include "net/netdev.h"
#include "kernel/printk.h"
#include "kernel/assert.h"
#include "kernel/sched.h"
#include "kernel/timer.h"
#include "lib/string.h"
#ifndef HOST_TEST
#include "arch/riscv/riscv.h"
#include "kernel/sysrq.h"
#endif

#define SQS_PROC 0x1

static struct squeue squeues[NCPU];
static struct squeue *online[NCPU];      /* squeues of the online CPUs, for hashing */
static int nonline;
static struct squeue *running[NCPU];     /* per CPU: squeue whose callback runs now (stack lock held) */
static struct spinlock stack_lock = SPINLOCK_INIT("stack");
static struct netdev_tx_batch stack_tx;  /* stack lock: doorbells owed when it is let go */

/* ---- context ---- */

#ifdef HOST_TEST
bool squeue_test_atomic;
static bool atomic_context(void) { return squeue_test_atomic; }
#else
/* True where protocol code must not run on the caller's stack: interrupt handlers (SIE is off
 * while one runs) and anything holding a spinlock (the stack lock included). */
static bool atomic_context(void) { return this_cpu()->noff != 0 || !intr_enabled(); }
#endif

bool stack_lock_held(void) { return spin_holding(&stack_lock); }

struct netdev_tx_batch *stack_tx_batch(void)
{
	assert_spin_held(&stack_lock);
	return &stack_tx;
}

/*
 * Taking the stack lock: a few tries (STACK_LOCK_SPINS), then the caller delegates instead of
 * waiting (see the theory above). Held, the lock is a spinlock (interrupts off, no sleeping).
 */
#define STACK_LOCK_SPINS 100
static struct spinlock deleg_lock = SPINLOCK_INIT("sq_deleg");   /* the delegation list; a leaf */
static struct squeue *deleg_head, *deleg_tail;
static unsigned ndeleg;                  /* list length; written under deleg_lock, read without */

static bool stack_lock_try(struct squeue *sq)
{
	if (spin_trylock(&stack_lock))
		return true;
	sq->st.lock_contended++;
	for (int i = 0; i < STACK_LOCK_SPINS; i++)
		if (spin_trylock(&stack_lock))
			return true;
	return false;
}

static struct squeue *deleg_pop(void)
{
	if (!__atomic_load_n(&ndeleg, __ATOMIC_ACQUIRE))
		return NULL;
	spin_lock(&deleg_lock);
	struct squeue *sq = deleg_head;
	if (sq) {
		deleg_head = sq->deleg_next;
		if (!deleg_head)
			deleg_tail = NULL;
		sq->deleg_next = NULL;
		__atomic_store_n(&ndeleg, ndeleg - 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&deleg_lock);
	return sq;
}

static void drain_until(struct squeue *sq, uint64_t deadline, bool locked);

/* Stack lock held: drain the delegated squeues until *deadline (set at the first one to
 * SQ_DRAIN_NS from then); past it, hand them to their workers. */
static void run_delegated(uint64_t *deadline)
{
	struct squeue *sq;
	while ((sq = deleg_pop()) != NULL) {
		if (!*deadline)
			*deadline = time_ns() + SQ_DRAIN_NS;
		drain_until(sq, *deadline, true);
	}
}

/* Let go of the stack lock, having run what was delegated to us (and what is delegated while we
 * let go: see "No lost delegation" above), for SQ_DRAIN_NS in all. The doorbells the callbacks
 * left (stack_tx) are rung after the unlock: on QEMU a NIC's doorbell may run its whole transmit
 * in the calling vCPU, which no other CPU's protocol work should wait for. */
static void stack_lock_release(void)
{
	uint64_t deadline = 0;
	for (;;) {
		run_delegated(&deadline);
		struct netdev_tx_batch kicks = stack_tx;
		stack_tx.n = 0;
		spin_unlock(&stack_lock);
		if (kicks.n)
			netdev_tx_batch_kick(&kicks);
		__sync_synchronize();
		if (!__atomic_load_n(&ndeleg, __ATOMIC_ACQUIRE) || !spin_trylock(&stack_lock))
			return;
	}
}

/* sq's processor (SQS_PROC held, its unrun items back on its queue) gives sq to the lock holder. */
static void delegate(struct squeue *sq)
{
	sq->st.delegations++;
	spin_lock(&deleg_lock);
	sq->deleg_next = NULL;
	if (deleg_tail)
		deleg_tail->deleg_next = sq;
	else
		deleg_head = sq;
	deleg_tail = sq;
	__atomic_store_n(&ndeleg, ndeleg + 1, __ATOMIC_RELEASE);
	spin_unlock(&deleg_lock);
	__sync_synchronize();
	if (spin_trylock(&stack_lock))           /* the holder let go before it could see us */
		stack_lock_release();
}

/* ---- lookup ---- */

int squeue_count(void) { return nonline; }

struct squeue *squeue_of_cpu(int cpu)
{
	if (cpu < 0 || cpu >= NCPU || !squeues[cpu].worker)
		return NULL;
	return &squeues[cpu];
}

struct squeue *squeue_local(void)
{
	irq_push_off();
	struct squeue *sq = squeue_of_cpu(cpu_id());
	irq_pop_off();
	return sq ? sq : online[0];
}

struct squeue *squeue_for_hash(uint32_t hash)
{
	return nonline ? online[hash % (uint32_t)nonline] : NULL;
}

struct squeue *squeue_running(void)
{
	irq_push_off();
	struct squeue *sq = running[cpu_id()];
	irq_pop_off();
	return sq;
}

unsigned squeue_len(const struct squeue *sq) { return READ_ONCE(sq->len); }

void squeue_get_stats(const struct squeue *sq, struct squeue_stats *st)
{
	const struct squeue_stats *s = &sq->st;
	st->inline_entries = READ_ONCE(s->inline_entries);
	st->queued_entries = READ_ONCE(s->queued_entries);
	st->drains = READ_ONCE(s->drains);
	st->handoffs = READ_ONCE(s->handoffs);
	st->worker_runs = READ_ONCE(s->worker_runs);
	st->items = READ_ONCE(s->items);
	st->max_queue = READ_ONCE(s->max_queue);
	st->lock_ns = READ_ONCE(s->lock_ns);
	st->lock_max_ns = READ_ONCE(s->lock_max_ns);
	st->lock_wait_ns = READ_ONCE(s->lock_wait_ns);
	st->lock_contended = READ_ONCE(s->lock_contended);
	st->delegations = READ_ONCE(s->delegations);
	st->queue_len = READ_ONCE(sq->len);
	st->cpu = sq->cpu;
}

/* ---- queue (sq->lock held) ---- */

static void enqueue_locked(struct squeue *sq, struct sq_item *item)
{
	item->next = NULL;
	if (sq->tail)
		sq->tail->next = item;
	else
		sq->head = item;
	sq->tail = item;
	sq->len++;
	sq->st.queued_entries++;
	if (sq->len > sq->st.max_queue)
		sq->st.max_queue = sq->len;
}

/* ---- processing ---- */

struct sq_call {
	struct sq_item item;
	void (*fn)(void *arg);
	void *arg;
	struct squeue *sq;
	bool done;
};

static void call_proc(void *arg, struct sq_item *item);

/* Time under the stack lock by callback: which kind of work holds it (/proc/net/squeue). A small
 * open-addressed table keyed by the callback's address, written only under the stack lock. */
static struct sq_fn_stat fn_stats[SQ_FN_STATS];

static void account_fn(const void *fn, uint64_t ns)
{
	unsigned h = (unsigned)(((uintptr_t)fn >> 2) * 2654435761u) % SQ_FN_STATS;
	for (unsigned i = 0; i < SQ_FN_STATS; i++, h = (h + 1) % SQ_FN_STATS) {
		struct sq_fn_stat *e = &fn_stats[h];
		if (e->fn == fn || !e->fn) {
			e->fn = fn;
			e->calls++;
			e->ns += ns;
			return;
		}
	}
}

size_t squeue_fn_stats(struct sq_fn_stat *out, size_t max)
{
	size_t n = 0;
	for (unsigned i = 0; i < SQ_FN_STATS && n < max; i++)
		if (READ_ONCE(fn_stats[i].fn))
			out[n++] = fn_stats[i];         /* counters: a torn copy is harmless */
	return n;
}

/* Run one item; the caller holds the stack lock (since t1). The item is not touched after fn
 * starts. */
static void run_locked(struct squeue *sq, struct sq_item *item, uint64_t t1)
{
	assert_spin_held(&stack_lock);           /* every callback runs under the stack lock */
	ASSERT(sq->state & SQS_PROC);            /* ... as its squeue's one processor */
	sq_proc_t fn = item->fn;
	void *arg = item->arg;
	/* accounted under the function squeue_call runs, not its wrapper (read now: see above) */
	const void *key = fn == call_proc ? (const void *)((struct sq_call *)arg)->fn : (const void *)fn;
	int cpu = cpu_id();                  /* stable: the lock keeps interrupts (and preemption) off */
	struct squeue *outer = running[cpu];
	running[cpu] = sq;
	fn(arg, item);
	running[cpu] = outer;
	uint64_t t2 = time_ns();
	account_fn(key, t2 - t1);
	sq->st.items++;
	sq->st.lock_ns += t2 - t1;
	if (t2 - t1 > sq->st.lock_max_ns)
		sq->st.lock_max_ns = t2 - t1;
}

/* Run one item taking the stack lock; false (nothing run) if the lock is busy: then delegate. */
static bool run_one(struct squeue *sq, struct sq_item *item)
{
	uint64_t t0 = time_ns();
	if (!stack_lock_try(sq)) {
		sq->st.lock_wait_ns += time_ns() - t0;
		return false;
	}
	uint64_t t1 = time_ns();
	sq->st.lock_wait_ns += t1 - t0;
	run_locked(sq, item, t1);
	stack_lock_release();
	return true;
}

/* Put a chain of n unrun items back at the head of sq's queue (their processor still holds
 * SQS_PROC; anything queued since goes behind them). */
static void give_back(struct squeue *sq, struct sq_item *chain, unsigned n)
{
	struct sq_item *last = chain;
	while (last->next)
		last = last->next;
	spin_lock(&sq->lock);
	last->next = sq->head;
	if (!sq->head)
		sq->tail = last;
	sq->head = chain;
	sq->len += n;
	spin_unlock(&sq->lock);
}

/* Stop processing sq (sq->lock held, released here): the worker takes over what is queued. */
static void handoff(struct squeue *sq)
{
	assert_spin_held(&sq->lock);
	ASSERT(sq->state & SQS_PROC);            /* only the processor hands off */
	sq->state &= ~SQS_PROC;
	sq->st.handoffs++;
	spin_unlock(&sq->lock);
	wake_one(&sq->worker_wq);
}

/* The caller holds SQS_PROC for sq and, if locked, the stack lock (sq was delegated to it). Runs
 * the queue until it is empty (then clears SQS_PROC), until deadline (then hands the rest to the
 * worker) or, not locked, until the stack lock is busy (then delegates sq to its holder). */
static void drain_until(struct squeue *sq, uint64_t deadline, bool locked)
{
	ASSERT(!locked || spin_holding(&stack_lock));
	spin_lock(&sq->lock);
	ASSERT(sq->state & SQS_PROC);            /* the caller is sq's processor */
	for (;;) {
		struct sq_item *chain = sq->head;
		if (!chain) {
			sq->state &= ~SQS_PROC;
			spin_unlock(&sq->lock);
			return;
		}
		if (time_ns() >= deadline) {
			handoff(sq);
			return;
		}
		unsigned n = sq->len;
		sq->head = sq->tail = NULL;
		sq->len = 0;
		sq->st.drains++;
		spin_unlock(&sq->lock);

		while (chain) {
			struct sq_item *next = chain->next;
			if (locked) {
				run_locked(sq, chain, time_ns());
			} else if (!run_one(sq, chain)) {
				give_back(sq, chain, n);
				delegate(sq);
				return;
			}
			chain = next;
			n--;
			if (chain && time_ns() >= deadline) {
				/* out of time: put the rest back in front of anything that queued since */
				give_back(sq, chain, n);
				break;
			}
		}
		spin_lock(&sq->lock);
	}
}

/* The caller holds SQS_PROC: a worker drains until the queue is empty, anyone else for at most
 * SQ_DRAIN_NS. */
static void drain(struct squeue *sq, bool worker)
{
	drain_until(sq, worker ? UINT64_MAX : time_ns() + SQ_DRAIN_NS, false);
}

void squeue_enter(struct squeue *sq, struct sq_item *item, sq_proc_t fn, void *arg, unsigned flags)
{
	item->fn = fn;
	item->arg = arg;
	item->next = NULL;
	bool may_inline = !(flags & SQ_FILL) && !atomic_context();
	spin_lock(&sq->lock);
	bool here = cpu_id() == sq->cpu;        /* stable: sq->lock keeps interrupts off */
	if (may_inline && !(sq->state & SQS_PROC) && (here || ((flags & SQ_ANYCPU) && !sq->head)) &&
	    (!sq->head || !(flags & SQ_NODRAIN))) {
		sq->state |= SQS_PROC;
		if (sq->head) {
			/* older items first: queue behind them and drain */
			enqueue_locked(sq, item);
			spin_unlock(&sq->lock);
			drain(sq, false);
			return;
		}
		sq->st.inline_entries++;
		spin_unlock(&sq->lock);
		if (!run_one(sq, item)) {
			item->next = NULL;
			give_back(sq, item, 1);
			delegate(sq);
			return;
		}
		if (!(flags & SQ_NODRAIN)) {
			drain(sq, false);
			return;
		}
		spin_lock(&sq->lock);
		sq->state &= ~SQS_PROC;
		bool wake = sq->head != NULL;
		spin_unlock(&sq->lock);
		if (wake)
			wake_one(&sq->worker_wq);
		return;
	}
	enqueue_locked(sq, item);
	bool wake = !(sq->state & SQS_PROC);
	spin_unlock(&sq->lock);
	if (wake)
		wake_one(&sq->worker_wq);
}

/* ---- the worker ---- */

static bool worker_has_work(struct squeue *sq)
{
	return READ_ONCE(sq->head) != NULL && !(READ_ONCE(sq->state) & SQS_PROC);
}

/* Take the squeue if there is work and nobody has it, and drain it. */
static bool worker_step(struct squeue *sq)
{
	spin_lock(&sq->lock);
	if (!sq->head || (sq->state & SQS_PROC)) {
		spin_unlock(&sq->lock);
		return false;
	}
	sq->state |= SQS_PROC;
	sq->st.worker_runs++;
	spin_unlock(&sq->lock);
	drain(sq, true);
	return true;
}

#ifdef HOST_TEST
bool squeue_test_worker_step(struct squeue *sq) { return worker_step(sq); }
#endif

static void worker(void *arg)
{
	struct squeue *sq = arg;
	for (;;) {
		wait_event(&sq->worker_wq, worker_has_work(sq));
		worker_step(sq);
	}
}

/* ---- synchronous calls ---- */



static void call_proc(void *arg, struct sq_item *item __unused)
{
	struct sq_call *c = arg;
	struct squeue *sq = c->sq;
	c->fn(c->arg);
	/* after this store the caller may return and its stack frame (c) be reused: touch only sq */
	__atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
	wake_all(&sq->done_wq);
}

void squeue_call(struct squeue *sq, void (*fn)(void *arg), void *arg)
{
	might_sleep();
	if (atomic_context())
		panic("squeue_call from atomic context (interrupt, spinlock or squeue callback)");
	struct sq_call c = { .fn = fn, .arg = arg, .sq = sq, .done = false };
	squeue_enter(sq, &c.item, call_proc, &c, SQ_PROCESS | SQ_ANYCPU);
	wait_event(&sq->done_wq, __atomic_load_n(&c.done, __ATOMIC_ACQUIRE));
}

/* ---- diagnostics: sysrq Q (kernel/sysrq.c), racy reads ---- */

#ifndef HOST_TEST
static void squeue_sysrq(void)
{
	printk("sysrq: Show squeues (stack lock %s on cpu %d, %u delegated)\n",
	       stack_lock.locked ? "held" : "free", stack_lock.cpu, READ_ONCE(ndeleg));
	for (int i = 0; i < nonline; i++) {
		struct squeue *sq = online[i];
		struct thread *w = sq->worker;
		struct squeue *in = READ_ONCE(running[sq->cpu]);
		printk("  squeue/%d: len %u, %s, worker %s, sq_done waiters %s",
		       sq->cpu, READ_ONCE(sq->len), READ_ONCE(sq->state) & SQS_PROC ? "processing" : "idle",
		       sched_state_name(w->state), waitq_active(&sq->done_wq) ? "yes" : "no");
		if (in)
			printk("; cpu %d in a callback of squeue/%d", sq->cpu, in->cpu);
		printk("\n");
	}
}
#endif

/* ---- start-up ---- */

void squeue_init(void)
{
	nonline = 0;
	for (int c = 0; c < NCPU; c++) {
		struct squeue *sq = &squeues[c];
		spin_init(&sq->lock, "squeue");
		waitq_init(&sq->worker_wq, "squeue");
		waitq_init(&sq->done_wq, "sq_done");
		sq->head = sq->tail = NULL;
		sq->len = 0;
		sq->state = 0;
		sq->cpu = c;
		memset(&sq->st, 0, sizeof(sq->st));
		sq->st.cpu = c;
		sq->worker = NULL;
		if (c >= ncpus || !cpus[c].online)
			continue;
		char name[THREAD_NAME_LEN];
		snprintf(name, sizeof(name), "squeue/%u", (unsigned)c % NCPU);
		sq->worker = kthread_create_urgent(worker, sq, name, c);
		if (!sq->worker)
			panic("squeue: cannot start %s", name);
		online[nonline++] = sq;
	}
#ifndef HOST_TEST
	sysrq_register('Q', "show-squeues", squeue_sysrq);
#endif
}
