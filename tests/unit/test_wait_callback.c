// unit-sources: kernel/wait.c
/*
 * Callback wait entries (kernel/wait.c), the path poll and epoll use: an entry with func set is
 * called by wake_up under the queue lock, stays queued, is not counted against nr, sits ahead of
 * every sleeper, and is gone for good once waitq_remove returns. Single-threaded on the host with
 * the same scheduler stubs as test_wait.c: sched_wake records who it woke, cpus[0].cur is
 * "current". The last cases replay poll's sleep protocol (register, check, sleep, callback).
 */
#include <string.h>
#include "tests/unit/unit.h"
#include "kernel/printk.h"
#include "kernel/wait.h"
#include "kernel/sched.h"
#include "kernel/timer.h"

/* ---- scheduler / timer stubs ---- */

#define MAX_LOG 32
static struct thread *woken_log[MAX_LOG];
static int nwoken, nsched;
static void (*sched_cb)(void);

void sched_wake(struct thread *t)
{
	if (nwoken < MAX_LOG)
		woken_log[nwoken] = t;
	nwoken++;
	if (t->state == THREAD_SLEEPING)
		t->state = THREAD_RUNNABLE;
}

void schedule(void)
{
	nsched++;
	if (nsched > 20)
		panic("schedule() called %d times: sleeper never woke", nsched);
	if (sched_cb) {
		host_cpu_id = 1;
		sched_cb();
		host_cpu_id = 0;
	}
}

uint64_t time_now(void) { return 0; }
uint64_t ns_to_ticks(uint64_t ns) { return ns; }
void timer_setup(struct timer *t, void (*fn)(void *), void *arg) { t->fn = fn; t->arg = arg; t->cpu = -1; }
void timer_add(struct timer *t, uint64_t deadline) { t->deadline = deadline; }
void timer_cancel(struct timer *t) { t->cpu = -1; }

/* ---- fixtures ---- */

static struct thread A, B, C;
static struct waitq wq, wq2;

/* A callback entry that records its calls and what it saw. */
struct probe {
	struct wait_entry e;
	int calls;
	bool lock_held;                   /* was wq's lock held during the last call? */
	bool queued_during;               /* was the entry still queued during the call? */
	struct waitq *chain;              /* wake this queue from the callback (nested epoll) */
	struct thread *wake;              /* sched_wake this thread (poll's callback) */
	int *order_log, *order_n, id;
};

static void probe_fn(struct wait_entry *e)
{
	struct probe *p = container_of(e, struct probe, e);
	p->calls++;
	p->lock_held = wq.lock.locked || wq2.lock.locked;
	p->queued_during = e->queued;
	if (p->order_log)
		p->order_log[(*p->order_n)++] = p->id;
	if (p->chain)
		wake_all(p->chain);
	if (p->wake)
		sched_wake(p->wake);
}

static void probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	p->e.queued = false;
}

static void reset(void)
{
	memset(woken_log, 0, sizeof(woken_log));
	nwoken = nsched = 0;
	sched_cb = NULL;
	struct thread *ts[] = { &A, &B, &C };
	for (int i = 0; i < 3; i++) {
		memset(ts[i], 0, sizeof(*ts[i]));
		ts[i]->tid = i + 1;
		ts[i]->state = THREAD_RUNNING;
	}
	waitq_init(&wq, "test-wq");
	waitq_init(&wq2, "test-wq2");
	host_cpu_id = 0;
	cpus[0].cur = &A;
}

static void as(struct thread *t) { cpus[0].cur = t; }

static int qlen(struct waitq *q)
{
	int n = 0;
	struct list_head *p;
	list_for_each(p, &q->head)
		if (++n > 64)
			return -1;
	return n;
}

static struct wait_entry *qnth(struct waitq *q, int i)
{
	struct list_head *p;
	list_for_each(p, &q->head)
		if (i-- == 0)
			return list_entry(p, struct wait_entry, node);
	return NULL;
}

/* ---- cases ---- */

TEST(callback_called_stays_queued)
{
	struct probe p;
	reset();
	probe_init(&p);
	waitq_add_callback(&wq, &p.e, probe_fn);
	CHECK(p.e.queued && p.e.func == probe_fn && p.e.thread == NULL);
	CHECK(waitq_active(&wq));
	CHECK_EQ(A.state, THREAD_RUNNING);            /* registering is not going to sleep */
	CHECK(!wq.lock.locked);
	CHECK_EQ(wake_all(&wq), 0);                   /* callbacks are not counted */
	CHECK_EQ(p.calls, 1);
	CHECK(p.lock_held);                           /* called under the queue lock */
	CHECK(p.queued_during);
	CHECK(p.e.queued && !p.e.woken);
	CHECK_EQ(qlen(&wq), 1);
	CHECK_EQ(nwoken, 0);
	CHECK_EQ(wake_one(&wq), 0);
	CHECK_EQ(wake_up(&wq, 3), 0);
	CHECK_EQ(p.calls, 3);                         /* every wake_up, whatever nr */
	CHECK(!wq.lock.locked);
}

TEST(callback_ahead_of_sleepers_not_counted)
{
	struct probe p, q;
	struct wait_entry ea = { .queued = false }, eb = { .queued = false };
	reset();
	probe_init(&p);
	probe_init(&q);
	as(&A); prepare_to_wait(&wq, &ea);
	as(&B); prepare_to_wait(&wq, &eb);
	waitq_add_callback(&wq, &p.e, probe_fn);      /* after the sleepers, but queued ahead */
	waitq_add_callback(&wq, &q.e, probe_fn);
	CHECK_EQ(qlen(&wq), 4);
	CHECK(qnth(&wq, 0)->func && qnth(&wq, 1)->func);
	CHECK(qnth(&wq, 2) == &ea && qnth(&wq, 3) == &eb);
	CHECK_EQ(wake_one(&wq), 1);                   /* one sleeper, and both callbacks */
	CHECK_EQ(p.calls, 1);
	CHECK_EQ(q.calls, 1);
	CHECK_EQ(nwoken, 1);
	CHECK(woken_log[0] == &A);
	CHECK_EQ(A.state, THREAD_RUNNABLE);
	CHECK_EQ(B.state, THREAD_SLEEPING);
	CHECK_EQ(qlen(&wq), 3);                       /* the woken sleeper left; callbacks stayed */
	CHECK_EQ(wake_one(&wq), 1);
	CHECK(woken_log[1] == &B);
	CHECK_EQ(p.calls, 2);
	CHECK_EQ(qlen(&wq), 2);
	CHECK_EQ(wake_all(&wq), 0);
	CHECK_EQ(p.calls, 3);
	CHECK_EQ(q.calls, 3);
}

TEST(remove_stops_calls)
{
	struct probe p, q;
	reset();
	probe_init(&p);
	probe_init(&q);
	waitq_add_callback(&wq, &p.e, probe_fn);
	waitq_add_callback(&wq, &q.e, probe_fn);
	waitq_add_callback(&wq, &p.e, probe_fn);      /* adding again does not queue twice */
	CHECK_EQ(qlen(&wq), 2);
	wake_all(&wq);
	CHECK_EQ(p.calls, 1);
	CHECK_EQ(q.calls, 1);
	waitq_remove(&wq, &p.e);
	CHECK(!p.e.queued);
	CHECK_EQ(qlen(&wq), 1);
	CHECK(qnth(&wq, 0) == &q.e);
	wake_all(&wq);
	CHECK_EQ(p.calls, 1);                         /* never again */
	CHECK_EQ(q.calls, 2);
	waitq_remove(&wq, &p.e);                      /* twice: harmless */
	CHECK_EQ(qlen(&wq), 1);
	waitq_remove(&wq, &q.e);
	CHECK(!waitq_active(&wq));
	CHECK_EQ(wake_all(&wq), 0);
	CHECK_EQ(q.calls, 2);
	CHECK(!wq.lock.locked);
	/* an entry never added */
	struct probe r;
	probe_init(&r);
	waitq_remove(&wq, &r.e);
	CHECK(!r.e.queued);
	CHECK_EQ(qlen(&wq), 0);
}

TEST(callback_order_newest_first)
{
	struct probe p[3];
	int log[8], n = 0;
	reset();
	for (int i = 0; i < 3; i++) {
		probe_init(&p[i]);
		p[i].order_log = log;
		p[i].order_n = &n;
		p[i].id = i;
		waitq_add_callback(&wq, &p[i].e, probe_fn);
	}
	wake_all(&wq);
	CHECK_EQ(n, 3);
	CHECK(log[0] == 2 && log[1] == 1 && log[2] == 0);   /* each one pushed at the head */
	/* removing the middle one keeps the others linked */
	waitq_remove(&wq, &p[1].e);
	n = 0;
	wake_all(&wq);
	CHECK_EQ(n, 2);
	CHECK(log[0] == 2 && log[1] == 0);
}

TEST(sleeper_entry_reuse_clears_func)
{
	struct probe p;
	reset();
	probe_init(&p);
	waitq_add_callback(&wq, &p.e, probe_fn);
	waitq_remove(&wq, &p.e);
	as(&B);
	prepare_to_wait(&wq, &p.e);                   /* the same storage as a sleeper now */
	CHECK(p.e.func == NULL && p.e.thread == &B);
	CHECK_EQ(B.state, THREAD_SLEEPING);
	CHECK_EQ(wake_one(&wq), 1);
	CHECK_EQ(p.calls, 0);
	CHECK(woken_log[0] == &B);
	CHECK(!p.e.queued && p.e.woken);
	finish_wait(&wq, &p.e);
	CHECK_EQ(B.state, THREAD_RUNNING);
}

TEST(finish_wait_leaves_callbacks)
{
	struct probe p;
	struct wait_entry ea = { .queued = false };
	reset();
	probe_init(&p);
	waitq_add_callback(&wq, &p.e, probe_fn);
	as(&A);
	prepare_to_wait(&wq, &ea);
	finish_wait(&wq, &ea);
	CHECK_EQ(qlen(&wq), 1);
	CHECK(qnth(&wq, 0) == &p.e && p.e.queued);
	CHECK_EQ(wake_all(&wq), 0);
	CHECK_EQ(p.calls, 1);
}

/* Nested epoll: a callback on wq wakes wq2, whose sleeper and callback see it. */
TEST(callback_chains_to_other_queue)
{
	struct probe inner, outer;
	struct wait_entry ec = { .queued = false };
	reset();
	probe_init(&inner);
	probe_init(&outer);
	inner.chain = &wq2;
	waitq_add_callback(&wq, &inner.e, probe_fn);
	waitq_add_callback(&wq2, &outer.e, probe_fn);
	as(&C);
	prepare_to_wait(&wq2, &ec);
	as(&A);
	CHECK_EQ(wake_all(&wq), 0);
	CHECK_EQ(inner.calls, 1);
	CHECK_EQ(outer.calls, 1);
	CHECK(outer.lock_held);                       /* wq2's lock, taken inside wq's */
	CHECK(!wq.lock.locked && !wq2.lock.locked);
	CHECK_EQ(nwoken, 1);
	CHECK(woken_log[0] == &C);
	CHECK_EQ(C.state, THREAD_RUNNABLE);
	CHECK_EQ(qlen(&wq2), 1);                      /* the sleeper left, the callback stayed */
}

/*
 * poll's protocol with two queues: register callbacks (thread stays RUNNING), check, set
 * SLEEPING, sleep; a wake on either queue runs the callback, which wakes the thread. Here the
 * "other CPU" wakes wq2 while the poller is in schedule().
 */
static volatile bool triggered;

static void poll_cb_fn(struct wait_entry *e)
{
	probe_fn(e);
	triggered = true;
}

static void other_cpu_wakes_wq2(void) { wake_all(&wq2); }

TEST(poll_protocol_two_queues)
{
	struct probe p[2];
	reset();
	triggered = false;
	for (int i = 0; i < 2; i++) {
		probe_init(&p[i]);
		p[i].wake = &A;
	}
	as(&A);
	waitq_add_callback(&wq, &p[0].e, poll_cb_fn);
	waitq_add_callback(&wq2, &p[1].e, poll_cb_fn);
	CHECK_EQ(A.state, THREAD_RUNNING);
	/* nothing ready: sleep */
	A.state = THREAD_SLEEPING;
	sched_cb = other_cpu_wakes_wq2;
	if (!triggered)
		wait_schedule(TIMER_NONE);
	CHECK_EQ(nsched, 1);
	CHECK(triggered);
	CHECK_EQ(p[0].calls, 0);
	CHECK_EQ(p[1].calls, 1);
	CHECK_EQ(A.state, THREAD_RUNNABLE);           /* the callback woke it */
	CHECK(woken_log[0] == &A);
	A.state = THREAD_RUNNING;
	/* a wake between the check and the sleep: triggered is seen, no sleep at all */
	triggered = false;
	sched_cb = NULL;
	host_cpu_id = 1;
	wake_all(&wq);
	host_cpu_id = 0;
	A.state = THREAD_SLEEPING;
	if (!triggered)
		wait_schedule(TIMER_NONE);
	CHECK_EQ(nsched, 1);                          /* skipped */
	CHECK_EQ(A.state, THREAD_SLEEPING);           /* the waker saw RUNNING; poll resets it itself */
	CHECK_EQ(p[0].calls, 1);
	A.state = THREAD_RUNNING;
	/* done: both removed, later wakes reach nobody */
	waitq_remove(&wq, &p[0].e);
	waitq_remove(&wq2, &p[1].e);
	int before = nwoken;
	wake_all(&wq);
	wake_all(&wq2);
	CHECK_EQ(nwoken, before);
	CHECK(!waitq_active(&wq) && !waitq_active(&wq2));
}

UNIT_TESTS(CASE(callback_called_stays_queued), CASE(callback_ahead_of_sleepers_not_counted),
	   CASE(remove_stops_calls), CASE(callback_order_newest_first), CASE(sleeper_entry_reuse_clears_func),
	   CASE(finish_wait_leaves_callbacks), CASE(callback_chains_to_other_queue),
	   CASE(poll_protocol_two_queues))
