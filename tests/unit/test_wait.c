// unit-sources: kernel/wait.c
/*
 * Wait queues (kernel/wait.c), single-threaded on the host. The scheduler and timer calls wait.c
 * makes are stubbed here: sched_wake records who it woke, schedule() runs a test-supplied callback
 * standing in for "another CPU" while the caller sleeps, and the timer stubs record what was armed
 * against a fake clock. cpus[0].cur picks the "current" thread.
 */
#include <string.h>
#include "tests/unit/unit.h"
#include "kernel/printk.h"
#include "kernel/wait.h"
#include "kernel/sched.h"
#include "kernel/timer.h"

/* ---- scheduler stubs ---- */

#define MAX_LOG 32
static struct thread *woken_log[MAX_LOG];
static int nwoken;
static int nsched;
static int sched_entry_state[MAX_LOG];        /* current->state on each schedule() entry */
static bool sched_lock_held[MAX_LOG];         /* was the test's queue lock held at schedule()? */
static struct waitq *test_wq;
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
	struct thread *me = current;
	if (nsched < MAX_LOG) {
		sched_entry_state[nsched] = me->state;
		sched_lock_held[nsched] = test_wq && test_wq->lock.locked;
	}
	nsched++;
	if (nsched > 20)
		panic("schedule() called %d times: sleeper never woke", nsched);
	if (sched_cb) {
		/* "another CPU" acts while we are off-CPU */
		host_cpu_id = 1;
		cpus[1].cur = NULL;
		sched_cb();
		host_cpu_id = 0;
	}
	CHECK(cpus[0].cur == me);
}

/* ---- timer / clock stubs ---- */

static uint64_t fake_now;
static int nsetup, nadd, ncancel;
static uint64_t add_deadline[MAX_LOG];
static struct timer *armed;                    /* added and not cancelled */
static struct timer *last_setup;
static void *last_setup_arg;

uint64_t time_now(void) { return fake_now; }
uint64_t ns_to_ticks(uint64_t ns) { return ns / 10; }   /* 100 MHz timebase */

void timer_setup(struct timer *t, void (*fn)(void *), void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->cpu = -1;
	list_init(&t->node);
	nsetup++;
	last_setup = t;
	last_setup_arg = arg;
}

void timer_add(struct timer *t, uint64_t deadline)
{
	CHECK(armed == NULL);                      /* never two armed at once */
	t->deadline = deadline;
	t->cpu = 0;
	if (nadd < MAX_LOG)
		add_deadline[nadd] = deadline;
	nadd++;
	armed = t;
}

void timer_cancel(struct timer *t)
{
	ncancel++;
	t->cpu = -1;
	if (armed == t)
		armed = NULL;
}

/* The timer interrupt: run the armed timer if it is due. */
static bool fire_due_timer(void)
{
	if (!armed || armed->deadline > fake_now)
		return false;
	struct timer *t = armed;
	armed = NULL;
	t->cpu = -1;
	t->fn(t->arg);
	return true;
}

/* ---- fixtures ---- */

static struct thread A, B, C, D;
static struct waitq wq;

static void reset(void)
{
	memset(woken_log, 0, sizeof(woken_log));
	nwoken = nsched = 0;
	memset(sched_entry_state, -1, sizeof(sched_entry_state));
	memset(sched_lock_held, 0, sizeof(sched_lock_held));
	sched_cb = NULL;
	fake_now = 0;
	nsetup = nadd = ncancel = 0;
	memset(add_deadline, 0, sizeof(add_deadline));
	armed = last_setup = NULL;
	last_setup_arg = NULL;
	struct thread *ts[] = { &A, &B, &C, &D };
	static const char *names[] = { "A", "B", "C", "D" };
	for (int i = 0; i < 4; i++) {
		memset(ts[i], 0, sizeof(*ts[i]));
		ts[i]->tid = i + 1;
		strcpy(ts[i]->name, names[i]);
		ts[i]->state = THREAD_RUNNING;
	}
	waitq_init(&wq, "test-wq");
	test_wq = &wq;
	host_cpu_id = 0;
	cpus[0].cur = &A;
}

static void as(struct thread *t) { cpus[0].cur = t; }

/* Entries on the test queue; -1 if the list is corrupt (a cycle that misses the head). */
static int wq_len(void)
{
	int n = 0;
	struct list_head *p;
	list_for_each(p, &wq.head)
		if (++n > 64)
			return -1;
	return n;
}

static struct wait_entry *wq_nth(int i)
{
	struct list_head *p;
	int n = 0;
	list_for_each(p, &wq.head) {
		if (i-- == 0)
			return list_entry(p, struct wait_entry, node);
		if (++n > 64)
			break;
	}
	return NULL;
}

/* ---- cases ---- */

TEST(fifo_wake_order)
{
	struct wait_entry ea = { .queued = false }, eb = { .queued = false }, ec = { .queued = false };
	reset();
	as(&A); prepare_to_wait(&wq, &ea);
	as(&B); prepare_to_wait(&wq, &eb);
	as(&C); prepare_to_wait(&wq, &ec);
	CHECK_EQ(A.state, THREAD_SLEEPING);
	CHECK_EQ(B.state, THREAD_SLEEPING);
	CHECK_EQ(C.state, THREAD_SLEEPING);
	CHECK(ea.thread == &A && eb.thread == &B && ec.thread == &C);
	CHECK(ea.queued && eb.queued && ec.queued);
	CHECK_EQ(wq_len(), 3);
	CHECK(wq_nth(0) == &ea && wq_nth(1) == &eb && wq_nth(2) == &ec);
	CHECK(!wq.lock.locked);

	CHECK_EQ(wake_one(&wq), 1);
	CHECK_EQ(nwoken, 1);
	CHECK(woken_log[0] == &A);
	CHECK_EQ(A.state, THREAD_RUNNABLE);
	CHECK_EQ(B.state, THREAD_SLEEPING);
	CHECK_EQ(C.state, THREAD_SLEEPING);
	CHECK(ea.woken && !ea.queued);
	CHECK(!eb.woken && eb.queued && !ec.woken && ec.queued);
	CHECK_EQ(wq_len(), 2);
	CHECK(wq_nth(0) == &eb);

	CHECK_EQ(wake_one(&wq), 1);
	CHECK_EQ(nwoken, 2);
	CHECK(woken_log[1] == &B);
	CHECK_EQ(B.state, THREAD_RUNNABLE);
	CHECK_EQ(C.state, THREAD_SLEEPING);
	CHECK(eb.woken && !eb.queued);
	CHECK_EQ(wq_len(), 1);

	CHECK_EQ(wake_all(&wq), 1);
	CHECK_EQ(nwoken, 3);
	CHECK(woken_log[2] == &C);
	CHECK_EQ(C.state, THREAD_RUNNABLE);
	CHECK(ec.woken && !ec.queued);
	CHECK_EQ(wq_len(), 0);
	CHECK(!waitq_active(&wq));

	CHECK_EQ(wake_one(&wq), 0);
	CHECK_EQ(wake_all(&wq), 0);
	CHECK_EQ(nwoken, 3);
	CHECK(!wq.lock.locked);
	/* woken entries were unlinked: their own links point at themselves, not into the queue */
	CHECK(ea.node.next == &ea.node && ec.node.prev == &ec.node);
}

TEST(prepare_twice_enqueues_once)
{
	struct wait_entry ea = { .queued = false }, eb = { .queued = false };
	reset();
	as(&A);
	prepare_to_wait(&wq, &ea);
	prepare_to_wait(&wq, &ea);
	CHECK_EQ(wq_len(), 1);
	as(&B);
	prepare_to_wait(&wq, &eb);
	as(&A);
	prepare_to_wait(&wq, &ea);                 /* A keeps its place ahead of B */
	CHECK_EQ(wq_len(), 2);
	CHECK(wq_nth(0) == &ea && wq_nth(1) == &eb);

	CHECK_EQ(wake_one(&wq), 1);
	CHECK(woken_log[0] == &A);
	CHECK(ea.woken);
	/* re-preparing a woken entry queues it again (at the tail) with woken cleared */
	prepare_to_wait(&wq, &ea);
	CHECK(!ea.woken && ea.queued);
	CHECK_EQ(A.state, THREAD_SLEEPING);
	CHECK_EQ(wq_len(), 2);
	CHECK(wq_nth(0) == &eb && wq_nth(1) == &ea);
	CHECK_EQ(wake_all(&wq), 2);
	CHECK_EQ(nwoken, 3);
	CHECK(woken_log[1] == &B && woken_log[2] == &A);
	CHECK_EQ(wake_all(&wq), 0);
}

TEST(finish_wait_unwoken)
{
	struct wait_entry ea = { .queued = false }, eb = { .queued = false }, ec = { .queued = false };
	reset();
	as(&A); prepare_to_wait(&wq, &ea);
	as(&B); prepare_to_wait(&wq, &eb);
	as(&C); prepare_to_wait(&wq, &ec);

	as(&B);
	finish_wait(&wq, &eb);                     /* middle, never woken */
	CHECK_EQ(B.state, THREAD_RUNNING);
	CHECK(!eb.queued && !eb.woken);
	CHECK_EQ(wq_len(), 2);
	CHECK(wq_nth(0) == &ea && wq_nth(1) == &ec);
	CHECK_EQ(A.state, THREAD_SLEEPING);        /* only current's state changes */
	CHECK_EQ(C.state, THREAD_SLEEPING);
	CHECK_EQ(nwoken, 0);

	as(&A);
	finish_wait(&wq, &ea);                     /* first */
	CHECK_EQ(A.state, THREAD_RUNNING);
	CHECK_EQ(wq_len(), 1);
	CHECK(wq_nth(0) == &ec);

	CHECK_EQ(wake_all(&wq), 1);
	CHECK_EQ(nwoken, 1);
	CHECK(woken_log[0] == &C);

	/* finish_wait on an already-woken (unqueued) entry leaves the queue alone */
	as(&A); prepare_to_wait(&wq, &ea);
	as(&B); prepare_to_wait(&wq, &eb);
	CHECK_EQ(wake_one(&wq), 1);
	as(&A);
	finish_wait(&wq, &ea);
	CHECK_EQ(A.state, THREAD_RUNNING);
	CHECK_EQ(wq_len(), 1);
	CHECK(wq_nth(0) == &eb);
	as(&C);
	finish_wait(&wq, &ec);                     /* woken long ago */
	CHECK_EQ(C.state, THREAD_RUNNING);
	CHECK_EQ(wq_len(), 1);
	CHECK(!wq.lock.locked);
}

TEST(wake_up_nr)
{
	struct wait_entry e[4];
	struct thread *ts[] = { &A, &B, &C, &D };
	reset();
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 4; i++) {
		as(ts[i]);
		prepare_to_wait(&wq, &e[i]);
	}
	CHECK_EQ(wake_up(&wq, 2), 2);
	CHECK_EQ(nwoken, 2);
	CHECK(woken_log[0] == &A && woken_log[1] == &B);
	CHECK_EQ(A.state, THREAD_RUNNABLE);
	CHECK_EQ(B.state, THREAD_RUNNABLE);
	CHECK_EQ(C.state, THREAD_SLEEPING);
	CHECK_EQ(D.state, THREAD_SLEEPING);
	CHECK(e[0].woken && e[1].woken && !e[2].woken && !e[3].woken);
	CHECK_EQ(wq_len(), 2);
	CHECK(wq_nth(0) == &e[2] && wq_nth(1) == &e[3]);

	CHECK_EQ(wake_up(&wq, 5), 2);              /* asks for more than there are */
	CHECK_EQ(nwoken, 4);
	CHECK(woken_log[2] == &C && woken_log[3] == &D);
	CHECK_EQ(wq_len(), 0);
	CHECK_EQ(wake_up(&wq, 2), 0);
}

TEST(waitq_active_tracks_list)
{
	struct wait_entry ea = { .queued = false }, eb = { .queued = false };
	reset();
	CHECK(!waitq_active(&wq));
	as(&A); prepare_to_wait(&wq, &ea);
	CHECK(waitq_active(&wq));
	as(&B); prepare_to_wait(&wq, &eb);
	CHECK(waitq_active(&wq));
	as(&A); finish_wait(&wq, &ea);
	CHECK(waitq_active(&wq));                  /* B still there */
	wake_one(&wq);
	CHECK(!waitq_active(&wq));
	as(&A); prepare_to_wait(&wq, &ea);
	CHECK(waitq_active(&wq));
	finish_wait(&wq, &ea);
	CHECK(!waitq_active(&wq));

	struct waitq wq2 = WAITQ_INIT(wq2, "static");
	CHECK(!waitq_active(&wq2));
	prepare_to_wait(&wq2, &ea);
	CHECK(waitq_active(&wq2));
	CHECK_EQ(wake_all(&wq2), 1);
	CHECK(!waitq_active(&wq2));
}

static int cond;

TEST(wait_event_cond_already_true)
{
	reset();
	cond = 1;
	as(&B);
	wait_event(&wq, cond);
	CHECK_EQ(nsched, 0);
	CHECK_EQ(B.state, THREAD_RUNNING);
	CHECK(!waitq_active(&wq));
	CHECK_EQ(nwoken, 0);
	CHECK(!wq.lock.locked);
}

static int cb_calls, cb_wake_ret[MAX_LOG];

static void cb_set_and_wake(void)
{
	cond = 1;
	cb_wake_ret[cb_calls++] = wake_all(&wq);
}

TEST(wait_event_one_schedule)
{
	reset();
	cond = 0;
	cb_calls = 0;
	sched_cb = cb_set_and_wake;
	as(&A);
	wait_event(&wq, cond);
	CHECK_EQ(nsched, 1);
	CHECK_EQ(cb_calls, 1);
	CHECK_EQ(cb_wake_ret[0], 1);               /* A was queued when the waker ran */
	CHECK_EQ(sched_entry_state[0], THREAD_SLEEPING);
	CHECK(!sched_lock_held[0]);                /* slept without the queue lock */
	CHECK_EQ(nwoken, 1);
	CHECK(woken_log[0] == &A);
	CHECK_EQ(A.state, THREAD_RUNNING);
	CHECK(!waitq_active(&wq));
	CHECK_EQ(nadd, 0);                         /* no timer for an untimed wait */
}

/* A wake without the condition (spurious) sends the sleeper round the loop again. */
static void cb_spurious_then_real(void)
{
	if (cb_calls == 1)
		cond = 1;
	cb_wake_ret[cb_calls++] = wake_all(&wq);
}

TEST(wait_event_spurious_wake_loops)
{
	reset();
	cond = 0;
	cb_calls = 0;
	sched_cb = cb_spurious_then_real;
	as(&C);
	wait_event(&wq, cond);
	CHECK_EQ(nsched, 2);
	CHECK_EQ(cb_calls, 2);
	CHECK_EQ(cb_wake_ret[0], 1);
	CHECK_EQ(cb_wake_ret[1], 1);               /* re-queued for the second sleep */
	CHECK_EQ(sched_entry_state[0], THREAD_SLEEPING);
	CHECK_EQ(sched_entry_state[1], THREAD_SLEEPING);
	CHECK_EQ(C.state, THREAD_RUNNING);
	CHECK(!waitq_active(&wq));
}

/*
 * No lost wake-up: the waker runs after the sleeper checked its condition but before it reached
 * schedule(). The sleeper must then enter schedule() already RUNNABLE, so the scheduler keeps it
 * running instead of parking it forever.
 */
static int race_evals, race_wake_ret;
static int racy_cond(void)
{
	int v = cond;
	if (race_evals++ == 0) {
		/* the condition was just read as false; now "CPU 1" sets it and wakes */
		host_cpu_id = 1;
		cond = 1;
		race_wake_ret = wake_one(&wq);
		host_cpu_id = 0;
	}
	return v;
}

TEST(no_lost_wakeup)
{
	reset();
	cond = 0;
	race_evals = 0;
	race_wake_ret = -1;
	as(&B);
	wait_event(&wq, racy_cond());
	CHECK_EQ(race_wake_ret, 1);                /* the sleeper was already queued */
	CHECK_EQ(nsched, 1);
	CHECK_EQ(sched_entry_state[0], THREAD_RUNNABLE);
	CHECK(sched_entry_state[0] != THREAD_SLEEPING);
	CHECK_EQ(race_evals, 2);
	CHECK_EQ(nwoken, 1);
	CHECK(woken_log[0] == &B);
	CHECK_EQ(B.state, THREAD_RUNNING);
	CHECK(!waitq_active(&wq));

	/* the same by hand with the primitives */
	struct wait_entry e = { .queued = false };
	reset();
	as(&A);
	prepare_to_wait(&wq, &e);
	CHECK_EQ(A.state, THREAD_SLEEPING);
	host_cpu_id = 1;
	CHECK_EQ(wake_one(&wq), 1);                /* between the check and schedule() */
	host_cpu_id = 0;
	CHECK_EQ(A.state, THREAD_RUNNABLE);
	wait_schedule(TIMER_NONE);
	CHECK_EQ(nsched, 1);
	CHECK_EQ(sched_entry_state[0], THREAD_RUNNABLE);
	finish_wait(&wq, &e);
	CHECK_EQ(A.state, THREAD_RUNNING);
}

/* ---- timeouts ---- */

static void cb_advance_200(void)
{
	fake_now += 200;
	fire_due_timer();
}

TEST(wait_event_timeout_expires)
{
	reset();
	cond = 0;
	fake_now = 1000;
	sched_cb = cb_advance_200;
	as(&A);
	int r = wait_event_timeout(&wq, cond, 5000);     /* 5000 ns = 500 ticks: deadline 1500 */
	CHECK_EQ(r, -110);
	/* slept at 1000, 1200, 1400; woke at 1600 past the deadline */
	CHECK_EQ(nsched, 3);
	CHECK_EQ(fake_now, 1600);
	CHECK_EQ(nadd, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(add_deadline[i], 1500);
		CHECK_EQ(sched_entry_state[i], THREAD_SLEEPING);
	}
	CHECK_EQ(nsetup, 3);
	CHECK(last_setup == &A.sleep_timer);
	CHECK(last_setup_arg == &A);
	CHECK_EQ(ncancel, 3);                             /* every armed timer was cancelled */
	CHECK(armed == NULL);
	/* the timer fired once and woke A */
	CHECK_EQ(nwoken, 1);
	CHECK(woken_log[0] == &A);
	CHECK_EQ(A.state, THREAD_RUNNING);
	CHECK(!waitq_active(&wq));
	CHECK(!wq.lock.locked);
}

TEST(wait_event_timeout_zero_or_past)
{
	reset();
	cond = 0;
	fake_now = 777;
	sched_cb = cb_advance_200;
	as(&B);
	int r = wait_event_timeout(&wq, cond, 0);
	CHECK_EQ(r, -110);
	CHECK_EQ(nsched, 0);
	CHECK_EQ(nadd, 0);
	CHECK_EQ(B.state, THREAD_RUNNING);
	CHECK(!waitq_active(&wq));

	/* condition already true wins even with no time left */
	cond = 1;
	r = wait_event_timeout(&wq, cond, 0);
	CHECK_EQ(r, 0);
	CHECK_EQ(nsched, 0);
	CHECK_EQ(nadd, 0);
}

static void cb_set_wake_tick(void)
{
	fake_now += 10;
	cond = 1;
	cb_wake_ret[cb_calls++] = wake_all(&wq);
	fire_due_timer();
}

TEST(wait_event_timeout_condition)
{
	reset();
	cond = 0;
	cb_calls = 0;
	fake_now = 5000;
	sched_cb = cb_set_wake_tick;
	as(&C);
	int r = wait_event_timeout(&wq, cond, 1000000);  /* 100000 ticks: deadline 105000 */
	CHECK_EQ(r, 0);
	CHECK_EQ(nsched, 1);
	CHECK_EQ(cb_calls, 1);
	CHECK_EQ(cb_wake_ret[0], 1);
	CHECK_EQ(nadd, 1);
	CHECK_EQ(add_deadline[0], 105000);
	CHECK(last_setup == &C.sleep_timer);
	CHECK(last_setup_arg == &C);
	CHECK(C.sleep_timer.fn != NULL);
	CHECK_EQ(ncancel, 1);
	CHECK(armed == NULL);                             /* cancelled, never fired */
	CHECK_EQ(nwoken, 1);                              /* only the wake_all, not the timer */
	CHECK(woken_log[0] == &C);
	CHECK_EQ(C.state, THREAD_RUNNING);
	CHECK(!waitq_active(&wq));

	/* already true: no timer at all */
	reset();
	cond = 1;
	fake_now = 5000;
	as(&C);
	r = wait_event_timeout(&wq, cond, 1000000);
	CHECK_EQ(r, 0);
	CHECK_EQ(nsched, 0);
	CHECK_EQ(nadd, 0);
	CHECK_EQ(nsetup, 0);
}

/* The timeout callback wait.c installs wakes the sleeping thread (and nothing else). */
TEST(timeout_fn_wakes_thread)
{
	reset();
	as(&D);
	D.state = THREAD_SLEEPING;
	wait_schedule(4242);
	CHECK_EQ(nsched, 1);
	CHECK_EQ(nadd, 1);
	CHECK_EQ(add_deadline[0], 4242);
	CHECK_EQ(ncancel, 1);
	CHECK(D.sleep_timer.arg == &D);
	CHECK(D.sleep_timer.fn != NULL);
	CHECK_EQ(nwoken, 0);
	D.sleep_timer.fn(D.sleep_timer.arg);
	CHECK_EQ(nwoken, 1);
	CHECK(woken_log[0] == &D);
	CHECK_EQ(D.state, THREAD_RUNNABLE);
}

UNIT_TESTS(CASE(fifo_wake_order), CASE(prepare_twice_enqueues_once), CASE(finish_wait_unwoken),
	   CASE(wake_up_nr), CASE(waitq_active_tracks_list), CASE(wait_event_cond_already_true),
	   CASE(wait_event_one_schedule), CASE(wait_event_spurious_wake_loops), CASE(no_lost_wakeup),
	   CASE(wait_event_timeout_expires), CASE(wait_event_timeout_zero_or_past),
	   CASE(wait_event_timeout_condition), CASE(timeout_fn_wakes_thread))
