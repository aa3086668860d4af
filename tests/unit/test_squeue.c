// unit-sources: net/squeue.c
/*
 * Squeues (net/squeue.c), single-threaded on the host: "CPUs" are host_cpu_id, the worker is driven
 * by hand (squeue_test_worker_step), the clock is fake. Checks the inline/queued decision, order and
 * exactly-once processing, the drain time limit and handoff, SQ_FILL/SQ_NODRAIN, re-entry from a
 * callback, the stack lock around callbacks, squeue_call, and the queue accounting.
 */
#include <string.h>
#include "tests/unit/unit.h"
#include "net/squeue.h"
#include "net/netdev.h"
#include "kernel/sched.h"
#include "kernel/timer.h"
#include "kernel/printk.h"

/* ---- stubs ---- */

static uint64_t fake_ns;
uint64_t time_ns(void) { return fake_ns; }
static struct thread fake_threads[NCPU];
static int nthreads;
struct thread *kthread_create(void (*fn)(void *), void *arg, const char *name, int cpu)
{
	(void)fn; (void)arg; (void)name; (void)cpu;
	return &fake_threads[nthreads++ % NCPU];
}
struct thread *kthread_create_urgent(void (*fn)(void *), void *arg, const char *name, int cpu)
{
	return kthread_create(fn, arg, name, cpu);
}
static int nwakes;
int wake_up(struct waitq *wq, int nr) { (void)wq; (void)nr; nwakes++; return 0; }
void waitq_init(struct waitq *wq, const char *name) { spin_init(&wq->lock, name); list_init(&wq->head); }
void prepare_to_wait(struct waitq *wq, struct wait_entry *e) { (void)wq; (void)e; }
void finish_wait(struct waitq *wq, struct wait_entry *e) { (void)wq; (void)e; }
void wait_schedule(uint64_t deadline) { (void)deadline; panic("a test slept"); }
bool waitq_active(struct waitq *wq) { return !list_empty(&wq->head); }

/* The stack's transmit batch (net/netdev.h: Doorbells): what the lock holder kicks, and whether
 * it still held the lock then. */
static int nkicks, kicked_devs;
static bool kicked_unlocked;
void netdev_tx_batch_kick(struct netdev_tx_batch *b)
{
	nkicks++;
	kicked_devs += (int)b->n;
	kicked_unlocked = kicked_unlocked && !stack_lock_held();
	b->n = 0;
}

/* ---- a log of callbacks ---- */

#define LOG_MAX 64
static int log_v[LOG_MAX], nlog;
static bool lock_seen_held, running_ok;
static struct squeue *expect_sq;
static uint64_t advance_ns;          /* each callback moves the fake clock this far */

struct item { struct sq_item it; int v; };

static void record(void *arg, struct sq_item *it)
{
	struct item *x = arg;
	CHECK(&x->it == it);
	if (nlog < LOG_MAX)
		log_v[nlog] = x->v;
	nlog++;
	lock_seen_held = lock_seen_held && stack_lock_held();
	running_ok = running_ok && squeue_running() == expect_sq;
	fake_ns += advance_ns;
}

static void setup(int online_cpus)
{
	memset(cpus, 0, sizeof(cpus));
	for (int i = 0; i < NCPU; i++)
		cpus[i].id = i;
	for (int i = 0; i < online_cpus; i++)
		cpus[i].online = true;
	ncpus = online_cpus;
	squeue_init();
	nlog = 0;
	nwakes = 0;
	fake_ns = 1000;
	advance_ns = 0;
	lock_seen_held = running_ok = true;
	nkicks = kicked_devs = 0;
	kicked_unlocked = true;
	squeue_test_atomic = false;
	host_cpu_id = 0;
}

static struct squeue_stats stats(struct squeue *sq)
{
	struct squeue_stats s;
	squeue_get_stats(sq, &s);
	return s;
}

TEST(inline_on_own_cpu)
{
	setup(4);
	struct squeue *sq = squeue_of_cpu(0);
	expect_sq = sq;
	struct item a = { .v = 7 };
	squeue_enter(sq, &a.it, record, &a, SQ_PROCESS);
	CHECK_EQ(nlog, 1);
	CHECK_EQ(log_v[0], 7);
	CHECK(lock_seen_held && running_ok);
	CHECK(!stack_lock_held());
	CHECK(squeue_running() == NULL);
	struct squeue_stats s = stats(sq);
	CHECK_EQ(s.inline_entries, 1);
	CHECK_EQ(s.queued_entries, 0);
	CHECK_EQ(s.items, 1);
	CHECK_EQ(nwakes, 0);
}

/* SQ_ANYCPU (squeue_call's flag): an idle, empty squeue runs the item at once on the caller's
 * CPU; a busy or non-empty one queues it behind the others, in order. */
TEST(anycpu_inline_only_when_idle_and_empty)
{
	setup(4);
	struct squeue *sq = squeue_of_cpu(0);
	expect_sq = sq;
	host_cpu_id = 2;
	struct item a = { .v = 1 }, b = { .v = 2 }, c = { .v = 3 };
	squeue_enter(sq, &a.it, record, &a, SQ_PROCESS | SQ_ANYCPU);
	CHECK_EQ(nlog, 1);                                /* ran in the caller, on CPU 2 */
	CHECK(lock_seen_held && running_ok);
	CHECK_EQ(stats(sq).inline_entries, 1);
	CHECK_EQ(nwakes, 0);
	squeue_enter(sq, &b.it, record, &b, SQ_PROCESS);  /* without the flag: queued */
	CHECK_EQ(nlog, 1);
	squeue_enter(sq, &c.it, record, &c, SQ_PROCESS | SQ_ANYCPU);
	CHECK_EQ(nlog, 1);                                /* b is waiting: c must not pass it */
	CHECK_EQ(squeue_len(sq), 2);
	host_cpu_id = 0;
	CHECK(squeue_test_worker_step(sq));
	CHECK_EQ(nlog, 3);
	CHECK_EQ(log_v[1], 2);
	CHECK_EQ(log_v[2], 3);
	CHECK(!stack_lock_held());
}

TEST(other_cpu_queues_worker_drains_in_order)
{
	setup(4);
	struct squeue *sq = squeue_of_cpu(0);
	expect_sq = sq;
	struct item it[5];
	host_cpu_id = 2;
	for (int i = 0; i < 5; i++) {
		it[i].v = i;
		squeue_enter(sq, &it[i].it, record, &it[i], SQ_PROCESS);
	}
	CHECK_EQ(nlog, 0);
	CHECK(nwakes >= 1);
	CHECK_EQ(squeue_len(sq), 5);
	CHECK_EQ(stats(sq).max_queue, 5);
	host_cpu_id = 0;
	CHECK(squeue_test_worker_step(sq));
	CHECK(!squeue_test_worker_step(sq));              /* nothing left */
	CHECK_EQ(nlog, 5);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(log_v[i], i);
	struct squeue_stats s = stats(sq);
	CHECK_EQ(s.queued_entries, 5);
	CHECK_EQ(s.inline_entries, 0);
	CHECK_EQ(s.drains, 1);
	CHECK_EQ(s.worker_runs, 1);
	CHECK_EQ(s.queue_len, 0);
	CHECK(lock_seen_held && running_ok);
}

TEST(fill_and_atomic_context_always_queue)
{
	setup(4);
	struct squeue *sq = squeue_of_cpu(0);
	expect_sq = sq;
	struct item a = { .v = 1 }, b = { .v = 2 };
	squeue_enter(sq, &a.it, record, &a, SQ_FILL);
	squeue_test_atomic = true;                         /* an interrupt handler or a lock holder */
	squeue_enter(sq, &b.it, record, &b, SQ_PROCESS);
	squeue_test_atomic = false;
	CHECK_EQ(nlog, 0);
	CHECK_EQ(squeue_len(sq), 2);
	squeue_test_worker_step(sq);
	CHECK_EQ(nlog, 2);
	CHECK(log_v[0] == 1 && log_v[1] == 2);
}

static struct squeue *reenter_sq;
static struct item reenter_child = { .v = 99 };
static void reenter(void *arg, struct sq_item *it)
{
	record(arg, it);
	squeue_enter(reenter_sq, &reenter_child.it, record, &reenter_child, SQ_PROCESS);
	CHECK_EQ(nlog, 1);                                /* queued, not run recursively */
}

TEST(reentry_from_a_callback_runs_after_it)
{
	setup(4);
	struct squeue *sq = squeue_of_cpu(0);
	expect_sq = reenter_sq = sq;
	struct item a = { .v = 1 };
	int wakes0 = nwakes;
	squeue_enter(sq, &a.it, reenter, &a, SQ_PROCESS);
	CHECK_EQ(nlog, 2);                                /* the inline processor drained it */
	CHECK(log_v[0] == 1 && log_v[1] == 99);
	CHECK_EQ(nwakes, wakes0);                         /* no worker needed */
	CHECK_EQ(squeue_len(sq), 0);
}

/* An SQ_ANYCPU item run inline off sq's CPU drains what it queued itself (a send's loopback
 * packets), in order, without waking sq's worker. */
TEST(anycpu_drains_what_its_item_queued)
{
	setup(4);
	struct squeue *sq = squeue_of_cpu(0);
	expect_sq = reenter_sq = sq;
	host_cpu_id = 3;
	struct item a = { .v = 1 };
	squeue_enter(sq, &a.it, reenter, &a, SQ_PROCESS | SQ_ANYCPU);
	CHECK_EQ(nlog, 2);
	CHECK(log_v[0] == 1 && log_v[1] == 99);
	CHECK_EQ(nwakes, 0);
	CHECK_EQ(squeue_len(sq), 0);
	CHECK_EQ(stats(sq).inline_entries, 1);
	CHECK(!stack_lock_held());
}

TEST(nodrain_leaves_the_rest_to_the_worker)
{
	setup(4);
	struct squeue *sq = squeue_of_cpu(0);
	expect_sq = reenter_sq = sq;
	struct item a = { .v = 1 };
	squeue_enter(sq, &a.it, reenter, &a, SQ_NODRAIN);
	CHECK_EQ(nlog, 1);
	CHECK_EQ(squeue_len(sq), 1);
	CHECK(nwakes >= 1);                               /* the worker was told */
	squeue_test_worker_step(sq);
	CHECK_EQ(nlog, 2);
	/* with items already queued, NODRAIN queues behind them instead of jumping the queue */
	struct item x = { .v = 5 }, y = { .v = 6 };
	host_cpu_id = 1;
	squeue_enter(sq, &x.it, record, &x, SQ_PROCESS);
	host_cpu_id = 0;
	squeue_enter(sq, &y.it, record, &y, SQ_NODRAIN);
	CHECK_EQ(nlog, 2);
	squeue_test_worker_step(sq);
	CHECK(nlog == 4 && log_v[2] == 5 && log_v[3] == 6);
}

TEST(drain_limit_hands_off_in_order)
{
	setup(4);
	struct squeue *sq = squeue_of_cpu(0);
	expect_sq = sq;
	enum { N = 12 };
	struct item it[N];
	host_cpu_id = 3;
	for (int i = 0; i < N - 1; i++) {
		it[i].v = i;
		squeue_enter(sq, &it[i].it, record, &it[i], SQ_PROCESS);
	}
	host_cpu_id = 0;
	advance_ns = SQ_DRAIN_NS / 4;                     /* each callback takes a quarter of the limit */
	it[N - 1].v = N - 1;
	int wakes0 = nwakes;
	squeue_enter(sq, &it[N - 1].it, record, &it[N - 1], SQ_PROCESS);   /* queues behind, drains */
	int ran = nlog;
	CHECK(ran >= 3 && ran <= 5);                      /* stopped at the limit */
	struct squeue_stats s = stats(sq);
	CHECK_EQ(s.handoffs, 1);
	CHECK_EQ(nwakes, wakes0 + 1);
	CHECK_EQ(squeue_len(sq), N - ran);
	advance_ns = 0;
	squeue_test_worker_step(sq);
	CHECK_EQ(nlog, N);
	for (int i = 0; i < N; i++)
		CHECK_EQ(log_v[i], i);
	CHECK_EQ(stats(sq).items, N);
	CHECK_EQ(stats(sq).max_queue, N);
}

static int called;
static void call_fn(void *arg) { called += *(int *)arg; CHECK(stack_lock_held()); }

TEST(squeue_call_and_lookup)
{
	setup(4);
	int three = 3;
	squeue_call(squeue_of_cpu(0), call_fn, &three);  /* idle and local: runs inline, never sleeps */
	CHECK_EQ(called, 3);
	CHECK_EQ(squeue_count(), 4);
	CHECK(squeue_local() == squeue_of_cpu(0));
	host_cpu_id = 2;
	CHECK(squeue_local() == squeue_of_cpu(2));
	host_cpu_id = 0;
	UNIT_EXPECT_PANIC({ squeue_test_atomic = true; squeue_call(squeue_of_cpu(0), call_fn, &three); });
	squeue_test_atomic = false;
	/* hashes spread over the online CPUs only */
	setup(3);
	CHECK(squeue_of_cpu(3) == NULL);
	int hits[4] = { 0 };
	for (uint32_t h = 0; h < 300; h++)
		hits[squeue_for_hash(h)->cpu]++;
	CHECK(hits[0] == 100 && hits[1] == 100 && hits[2] == 100 && hits[3] == 0);
}

/* A callback that leaves two devices' doorbells to the batch, as the stack's TSO frames do. */
static struct net_device fake_devs[2];
static void send_two(void *arg, struct sq_item *it)
{
	record(arg, it);
	struct netdev_tx_batch *b = stack_tx_batch();
	b->dev[b->n++] = &fake_devs[0];
	b->dev[b->n++] = &fake_devs[1];
}

/* The doorbells a callback left are rung once, by the lock holder, after it let go of the lock;
 * a callback that sent nothing rings nothing. */
TEST(transmit_batch_kicked_after_the_lock_is_let_go)
{
	setup(4);
	struct squeue *sq = squeue_of_cpu(0);
	expect_sq = sq;
	struct item a = { .v = 1 }, b = { .v = 2 };
	squeue_enter(sq, &a.it, send_two, &a, SQ_PROCESS);
	CHECK_EQ(nlog, 1);
	CHECK_EQ(nkicks, 1);
	CHECK_EQ(kicked_devs, 2);
	CHECK(kicked_unlocked);
	squeue_enter(sq, &b.it, record, &b, SQ_PROCESS);
	CHECK_EQ(nlog, 2);
	CHECK_EQ(nkicks, 1);
}

UNIT_TESTS(CASE(inline_on_own_cpu), CASE(transmit_batch_kicked_after_the_lock_is_let_go),
	   CASE(anycpu_inline_only_when_idle_and_empty), CASE(other_cpu_queues_worker_drains_in_order),
	   CASE(fill_and_atomic_context_always_queue), CASE(reentry_from_a_callback_runs_after_it), CASE(anycpu_drains_what_its_item_queued),
	   CASE(nodrain_leaves_the_rest_to_the_worker), CASE(drain_limit_hands_off_in_order),
	   CASE(squeue_call_and_lookup))
