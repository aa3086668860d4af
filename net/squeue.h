/*
 * Serialization queues (squeues), after Solaris FireEngine / illumos squeue.c: one per CPU, each
 * with a worker thread pinned to that CPU. Work is an sq_item (an intrusive node the caller owns:
 * embedded in a packet, a connection, a call) plus a function; an squeue runs its items one at a
 * time, in arrival order, with the stack lock held. net/squeue.c opens with the theory.
 *
 * Contract for callers
 *   - squeue_enter(sq, item, fn, arg, flags): fn(arg, item) runs exactly once, on sq, after every
 *     item entered on sq before it. It may run before squeue_enter returns (inline, on the
 *     caller's stack) or later in sq's worker. The item belongs to the squeue from the call until
 *     fn starts; fn may free or re-enter it.
 *   - fn runs with the stack lock held (a spinlock: interrupts off, no sleeping, no copies to or
 *     from user memory) and must be short. fn may call squeue_enter on any squeue (that queues).
 *   - Inline processing happens only when the caller may run the stack: thread context, no
 *     spinlock held, on sq's CPU (or any CPU with SQ_ANYCPU), sq idle, and not SQ_FILL. From interrupt context, with a spinlock
 *     held, or from inside an squeue callback, squeue_enter always queues (it never spins on the
 *     stack lock in those contexts and never recurses into lwIP).
 *   - squeue_call(sq, fn, arg): run fn(arg) on sq and sleep (wait queue) until it has run. Thread
 *     context only, holding no spinlock.
 *
 * Flags (illumos's names and spirit):
 *   SQ_PROCESS  run inline if allowed, then drain what is queued for up to SQ_DRAIN_NS; a
 *               non-worker that reaches the limit hands the rest to the worker. The default.
 *   SQ_NODRAIN  run inline if allowed, but leave whatever else is queued to the worker.
 *   SQ_FILL     never inline: queue and wake the worker (interrupt context, deferral).
 *   SQ_ANYCPU   also inline from another CPU, when nobody processes sq and nothing is queued on
 *               it; the caller then drains what its item queued (its loopback packets) as
 *               SQ_PROCESS does. squeue_call and the window updates use it: a socket call on an
 *               idle squeue runs at once in the caller, instead of waking a worker on a CPU that
 *               may be busy or, on a host with fewer cores than vCPUs, not running at all
 *               (iperf3's daemon waited 40 ms to close its listener that way; a reader's window
 *               update preempted the writer on the squeue's CPU once per 128 KiB).
 *
 * Locks: sq->lock is taken inside nothing but may wrap a wake_up (waitq lock); the stack lock is
 * never taken while holding sq->lock (only tried). Order: stack lock -> sq->lock -> waitq lock ->
 * run-queue lock. (A callback may enter another squeue: stack lock, then that squeue's lock.) The
 * delegation list's lock is a leaf.
 *
 * A callback usually runs on its squeue's CPU, but not always: when the stack lock is busy an
 * squeue's items may be run by the lock's holder on another CPU (squeue.c, "Delegation").
 * squeue_running() names the squeue either way; callbacks must not assume cpu_id() == sq->cpu.
 */
#ifndef NET_SQUEUE_H
#define NET_SQUEUE_H
#include "kernel/types.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"

#define SQ_PROCESS 0x1
#define SQ_NODRAIN 0x2
#define SQ_FILL    0x4
#define SQ_ANYCPU  0x8   /* may also run inline off sq's CPU, when sq is idle and empty */

#define SQ_DRAIN_NS (2 * 1000 * 1000ULL)   /* a non-worker drains at most this long, then hands off */

struct sq_item;
typedef void (*sq_proc_t)(void *arg, struct sq_item *item);

struct sq_item {
	struct sq_item *next;
	sq_proc_t fn;
	void *arg;
};

struct squeue_stats {
	uint64_t inline_entries;   /* ran at once on the caller's stack */
	uint64_t queued_entries;   /* queued (for the worker or for the current processor) */
	uint64_t drains;           /* batches taken off the queue */
	uint64_t handoffs;         /* a non-worker hit SQ_DRAIN_NS and woke the worker */
	uint64_t worker_runs;      /* times the worker took the squeue */
	uint64_t items;            /* callbacks run */
	uint64_t max_queue;        /* longest queue seen */
	uint64_t lock_ns;          /* time callbacks held the stack lock */
	uint64_t lock_max_ns;      /* longest single hold */
	uint64_t lock_wait_ns;     /* time spent waiting for the stack lock */
	uint64_t lock_contended;   /* stack lock acquisitions that had to wait */
	uint64_t delegations;      /* ... of which gave the squeue to the lock's holder (squeue.c) */
	unsigned queue_len;        /* now */
	int cpu;
};

struct thread;

struct squeue {
	struct spinlock lock;      /* head, tail, len, state, queue counters */
	struct sq_item *head, *tail;
	unsigned len;
	unsigned state;            /* SQS_PROC: someone (worker or inline caller) is processing */
	int cpu;
	struct thread *worker;
	struct waitq worker_wq;    /* the worker sleeps here */
	struct waitq done_wq;      /* squeue_call waiters */
	struct squeue_stats st;    /* queue counters under lock; processing counters by the processor */
	struct squeue *deleg_next; /* on the delegation list (squeue.c, deleg_lock) */
} __aligned(64);

void squeue_init(void);                        /* after the harts are online: squeues and workers */
int squeue_count(void);                        /* one per online CPU */
struct squeue *squeue_of_cpu(int cpu);         /* NULL if that CPU has none */
struct squeue *squeue_local(void);             /* the calling CPU's (its squeue or CPU 0's) */
struct squeue *squeue_for_hash(uint32_t hash); /* a flow hash spread over the online CPUs */
struct squeue *squeue_running(void);           /* inside a callback: the squeue running it; else NULL */

void squeue_enter(struct squeue *sq, struct sq_item *item, sq_proc_t fn, void *arg, unsigned flags);
void squeue_call(struct squeue *sq, void (*fn)(void *arg), void *arg);
unsigned squeue_len(const struct squeue *sq);
void squeue_get_stats(const struct squeue *sq, struct squeue_stats *st);

/* Time under the stack lock per callback function (squeue_call's items count as their fn's
 * wrapper, so their own fns are told apart by squeue_call itself). */
#define SQ_FN_STATS 64
struct sq_fn_stat {
	const void *fn;
	uint64_t calls, ns;
};
size_t squeue_fn_stats(struct sq_fn_stat *out, size_t max);   /* copies up to max; returns how many */

/* The stack lock: held by every squeue callback, by nothing else. */
bool stack_lock_held(void);
/* The stack's transmit batch (net/netdev.h: Doorbells), for netdev_xmit_nosleep under the stack
 * lock; the lock's holder kicks it each time it lets go of the lock. Stack lock held. */
struct netdev_tx_batch;
struct netdev_tx_batch *stack_tx_batch(void);

#ifdef HOST_TEST
/* Host unit tests drive the worker by hand and decide whether the caller may run inline. */
extern bool squeue_test_atomic;
bool squeue_test_worker_step(struct squeue *sq);   /* one worker wake-up; false if nothing to do */
#endif

#endif
