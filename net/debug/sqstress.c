/*
 * Squeue stress test (the monitor's `sqstress [items] [rounds]`; tests/system/test_stack.py runs it):
 * the cross-CPU enqueue path under load, checked for exactly-once, in-order processing.
 *
 * One producer thread per online CPU, pinned there. Producer p enters `items` items on every
 * squeue, interleaving the squeues, with the flags cycling through SQ_PROCESS, SQ_NODRAIN and
 * SQ_FILL, and yielding now and then so that the producers overlap. Entries on the producer's own
 * CPU take the inline path when the squeue is idle; the others queue and wake workers, or are
 * found by a processor that is already draining. After the storm each producer enters a few more
 * on its own squeue, one at a time once it is idle, so that the inline path is taken too. A kernel timer on each CPU also enters items
 * from interrupt context (always queued).
 *
 * The callback (stack lock held, so the checking state needs no lock of its own) checks that it
 * runs on the squeue the item was entered on and that the item's sequence number is the next one
 * for its (producer, squeue) pair, and counts each item's hits. When every item has run once the
 * waiter is woken. Violations and double hits are reported; the test passes when there are none.
 *
 * The stack lock itself: every HOLD_EVERY-th item holds it for HOLD_NS, so that processors on the
 * other CPUs give up spinning and delegate their squeues to the holder (squeue.c, "Delegation"),
 * whose callbacks then run items of several squeues: each still checks that squeue_running() is
 * its item's squeue and its order, and that no other callback is inside at the same time. The run
 * reports how often an squeue was delegated.
 */
#include "net/stack.h"
#include "net/debug/debug.h"
#include "mm/kmalloc.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "kernel/timer.h"

#define DEFAULT_ITEMS 2000
#define MAX_ITEMS 20000
#define YIELD_EVERY 64
#define IRQ_ITEMS 200                  /* items each CPU's timer enters from interrupt context */
#define IRQ_PERIOD_US 500
#define WAIT_S 120
#define NPROD (NCPU + NCPU)            /* thread producers, then interrupt producers */
#define HOLD_EVERY 16                  /* one item in this many holds the stack lock ... */
#define HOLD_NS (50 * 1000ULL)         /* ... this long, so that other squeues delegate */
#define QUIET_ITEMS 8                  /* per producer, on its own squeue after the storm */
#define QUIET_WAIT_NS (5 * 1000 * 1000 * 1000ULL)   /* a quiet item waits at most this for its turn */

struct st_item {
	struct sq_item it;
	struct squeue *sq;
	uint16_t prod;
	uint32_t seq;
	uint32_t hits;
};

static struct {
	int nsq, items;
	struct squeue *sqs[NCPU];
	struct st_item *arr[NPROD][NCPU];      /* [producer][squeue index] -> items */
	uint32_t next[NPROD][NCPU];            /* expected seq; stack lock */
	uint64_t done, expected, order_errors, wrong_sq, overlaps; /* stack lock */
	bool inside;                           /* a callback is running (checked under the stack lock) */
	struct timer timers[NCPU];
	int irq_sent[NCPU];                    /* interrupt context, one CPU each */
	volatile bool timer_started[NCPU];
	volatile int producers_left;
	int storming;                          /* atomic: producers still in the storm */
} S;
static struct waitq st_wq = WAITQ_INIT(st_wq, "sqstress");

static int sq_index(struct squeue *sq)
{
	for (int i = 0; i < S.nsq; i++)
		if (S.sqs[i] == sq)
			return i;
	return -1;
}

static void st_proc(void *arg, struct sq_item *item __unused)
{
	struct st_item *x = arg;
	if (S.inside)
		S.overlaps++;                  /* two callbacks at once: the stack lock failed */
	S.inside = true;
	if (x->seq % HOLD_EVERY == 0) {
		uint64_t t = time_ns();
		while (time_ns() - t < HOLD_NS)
			;
	}
	S.inside = false;
	x->hits++;
	if (squeue_running() != x->sq)
		S.wrong_sq++;
	int q = sq_index(x->sq);
	if (q < 0 || S.next[x->prod][q] != x->seq)
		S.order_errors++;
	else
		S.next[x->prod][q]++;
	if (++S.done == S.expected)
		wake_all(&st_wq);
}

static void enter(int prod, int q, int seq, unsigned flags)
{
	struct st_item *x = &S.arr[prod][q][seq];
	x->sq = S.sqs[q];
	x->prod = (uint16_t)prod;
	x->seq = (uint32_t)seq;
	x->hits = 0;
	squeue_enter(x->sq, &x->it, st_proc, x, flags);
}

static void producer(void *arg)
{
	int p = (int)(uintptr_t)arg;
	static const unsigned flags[] = { SQ_PROCESS, SQ_NODRAIN, SQ_FILL };
	for (int i = 0; i < S.items; i++) {
		for (int q = 0; q < S.nsq; q++)
			enter(p, q, i, flags[(i + q) % 3]);
		if (i % YIELD_EVERY == YIELD_EVERY - 1)
			sched_yield();
	}
	/* The quiet round: under the storm an squeue is seldom idle, so its own CPU's entries queue.
	 * Once every producer is through, enter QUIET_ITEMS more on our own squeue, each when the one
	 * before has run and the queue is empty: these take the inline path (unless a late worker
	 * still holds the squeue), which the test wants to see under the same checks. */
	__atomic_fetch_sub(&S.storming, 1, __ATOMIC_ACQ_REL);
	int q = sq_index(squeue_of_cpu(p));
	uint64_t deadline = time_ns() + QUIET_WAIT_NS;
	for (int i = 0; i < QUIET_ITEMS; i++) {
		while ((__atomic_load_n(&S.storming, __ATOMIC_ACQUIRE) || READ_ONCE(S.next[p][q]) != (uint32_t)(S.items + i) ||
			squeue_len(S.sqs[q])) && time_ns() < deadline)
			sched_yield();
		enter(p, q, S.items + i, SQ_PROCESS);
	}
	__atomic_fetch_sub(&S.producers_left, 1, __ATOMIC_ACQ_REL);
	wake_all(&st_wq);
	kthread_exit();
}

/* Interrupt context, on CPU c: one item per firing, to squeue (c + k) round-robin. */
static void irq_producer(void *arg)
{
	int c = (int)(uintptr_t)arg;
	int k = S.irq_sent[c]++;
	int q = k % S.nsq, seq = k / S.nsq;
	enter(NCPU + c, q, seq, SQ_PROCESS);    /* queued: squeue_enter sees interrupt context */
	if (S.irq_sent[c] < IRQ_ITEMS * S.nsq)
		timer_add(&S.timers[c], time_now() + ns_to_ticks(IRQ_PERIOD_US * 1000ULL));
}

static void irq_starter(void *arg)
{
	int c = (int)(uintptr_t)arg;
	timer_setup(&S.timers[c], irq_producer, arg);
	timer_add(&S.timers[c], time_now() + ns_to_ticks(IRQ_PERIOD_US * 1000ULL));   /* this CPU's queue */
	S.timer_started[c] = true;
	__atomic_fetch_sub(&S.producers_left, 1, __ATOMIC_ACQ_REL);
	wake_all(&st_wq);
	kthread_exit();
}

static void free_all(void)
{
	for (int p = 0; p < NPROD; p++)
		for (int q = 0; q < NCPU; q++) {
			kfree(S.arr[p][q]);
			S.arr[p][q] = NULL;
		}
}

void cmd_sqstress(int argc, char **argv)
{
	unsigned long items = DEFAULT_ITEMS;
	if (argc > 1 && ((items = strtoul(argv[1], NULL, 10)) == 0 || items > MAX_ITEMS)) {
		printk("usage: sqstress [items per producer and squeue, 1..%d]\n", MAX_ITEMS);
		return;
	}
	memset(&S, 0, sizeof(S));
	S.items = (int)items;
	int ncpu_on = 0;
	for (int c = 0; c < NCPU; c++) {
		struct squeue *sq = squeue_of_cpu(c);
		if (sq) {
			S.sqs[S.nsq++] = sq;
			ncpu_on++;
		}
	}
	struct squeue_stats before[NCPU], after;
	for (int q = 0; q < S.nsq; q++)
		squeue_get_stats(S.sqs[q], &before[q]);
	for (int p = 0; p < NPROD; p++) {
		bool used = p < NCPU ? squeue_of_cpu(p) != NULL : squeue_of_cpu(p - NCPU) != NULL;
		if (!used)
			continue;
		int n = p < NCPU ? S.items : IRQ_ITEMS;
		for (int q = 0; q < S.nsq; q++) {
			int own = p < NCPU && S.sqs[q] == squeue_of_cpu(p) ? QUIET_ITEMS : 0;
			S.arr[p][q] = kzalloc(sizeof(struct st_item) * (size_t)(n + own));
			if (!S.arr[p][q]) {
				printk("sqstress: out of memory\n");
				free_all();
				return;
			}
			S.expected += (uint64_t)(n + own);
		}
	}
	uint64_t t0 = time_ns();
	S.producers_left = 2 * ncpu_on;
	S.storming = ncpu_on;
	for (int c = 0; c < NCPU; c++) {
		if (!squeue_of_cpu(c))
			continue;
		char name[THREAD_NAME_LEN];
		snprintf(name, sizeof(name), "sqprod/%u", (unsigned)c % NCPU);
		if (!kthread_create(producer, (void *)(uintptr_t)c, name, c) ||
		    !kthread_create(irq_starter, (void *)(uintptr_t)c, "sqirq", c))
			panic("sqstress: cannot start producers");
	}
	int r = wait_event_timeout(&st_wq, READ_ONCE(S.done) == S.expected && READ_ONCE(S.producers_left) == 0,
				   WAIT_S * NSEC_PER_SEC);
	uint64_t ns = time_ns() - t0;
	for (int c = 0; c < NCPU; c++)          /* all done already unless we timed out */
		if (S.timer_started[c])
			timer_cancel(&S.timers[c]);
	uint64_t once = 0, multi = 0;
	for (int p = 0; p < NPROD; p++)
		for (int q = 0; q < S.nsq; q++) {
			int n = p < NCPU ? S.items : IRQ_ITEMS;
			if (p < NCPU && S.sqs[q] == squeue_of_cpu(p))
				n += QUIET_ITEMS;
			for (int i = 0; S.arr[p][q] && i < n; i++) {
				once += S.arr[p][q][i].hits == 1;
				multi += S.arr[p][q][i].hits > 1;
			}
		}
	uint64_t inl = 0, queued = 0, handoffs = 0, drains = 0, maxq = 0, delegations = 0;
	for (int q = 0; q < S.nsq; q++) {
		squeue_get_stats(S.sqs[q], &after);
		inl += after.inline_entries - before[q].inline_entries;
		queued += after.queued_entries - before[q].queued_entries;
		handoffs += after.handoffs - before[q].handoffs;
		drains += after.drains - before[q].drains;
		maxq = MAX(maxq, after.max_queue);
		delegations += after.delegations - before[q].delegations;
	}
	printk("sqstress: %d producers (+%d interrupt) x %d squeues: %llu of %llu items in %llu ms%s\n", ncpu_on,
	       ncpu_on, S.nsq, (unsigned long long)S.done, (unsigned long long)S.expected,
	       (unsigned long long)(ns / NSEC_PER_MSEC), r ? " (timeout)" : "");
	printk("sqstress: exactly once %llu, more than once %llu, order errors %llu, wrong squeue %llu\n",
	       (unsigned long long)once, (unsigned long long)multi, (unsigned long long)S.order_errors,
	       (unsigned long long)S.wrong_sq);
	printk("sqstress: inline %llu queued %llu drains %llu handoffs %llu max queue %llu\n",
	       (unsigned long long)inl, (unsigned long long)queued, (unsigned long long)drains,
	       (unsigned long long)handoffs, (unsigned long long)maxq);
	printk("sqstress: stack lock overlaps %llu, squeues delegated %llu times\n", (unsigned long long)S.overlaps,
	       (unsigned long long)delegations);
	bool ok = !r && once == S.expected && !multi && !S.order_errors && !S.wrong_sq && !S.overlaps;
	printk("sqstress: %s\n", ok ? "PASS" : "FAIL");
	if (!r)
		free_all();   /* on a timeout items may still be queued: leak them rather than free live memory */
}
