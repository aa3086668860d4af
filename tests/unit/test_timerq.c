// unit-sources: kernel/timerq.c
/* Deadline-ordered timer queues (kernel/timerq.c): ordering, FIFO ties, expiry, removal, and a
 * randomized run against a reference model. */
#include <string.h>
#include "tests/unit/unit.h"
#include "kernel/timerq.h"

static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;   /* xorshift64 */
	return rng_state;
}

static void tinit(struct timer *t, uint64_t deadline)
{
	memset(t, 0, sizeof(*t));
	list_init(&t->node);
	t->deadline = deadline;
	t->cpu = -1;
}

static int qlen(const struct list_head *q)
{
	int n = 0;
	const struct list_head *p;
	for (p = q->next; p != q; p = p->next)
		if (++n > 100000)
			return -1;               /* corrupt: a cycle that misses the head */
	return n;
}

/* The queue holds exactly want[0..n) in that order, and its back links agree. */
static void check_queue(const struct list_head *q, struct timer **want, int n)
{
	const struct list_head *p = q->next;
	int i = 0;
	for (; p != q && i < n; p = p->next, i++) {
		CHECK(list_entry(p, struct timer, node) == want[i]);
		CHECK(p->next->prev == p);
	}
	CHECK(p == q);
	CHECK_EQ(i, n);
	CHECK(q->next->prev == q);
}

TEST(random_inserts_pop_sorted)
{
	enum { N = 200 };
	static struct timer t[N];
	struct list_head q;

	list_init(&q);
	rng_state = 0x1234567887654321ULL;
	for (int i = 0; i < N; i++) {
		tinit(&t[i], rng() % 1000000);
		timerq_insert(&q, &t[i]);
	}
	CHECK_EQ(qlen(&q), N);
	uint64_t min = TIMER_NONE;
	for (int i = 0; i < N; i++)
		if (t[i].deadline < min)
			min = t[i].deadline;
	CHECK_EQ(timerq_next_deadline(&q), min);

	uint64_t last = 0;
	int popped = 0;
	struct timer *x;
	while ((x = timerq_pop_expired(&q, TIMER_NONE - 1)) != NULL) {
		CHECK(x->deadline >= last);
		last = x->deadline;
		CHECK(x->node.next == &x->node);          /* list_del left it self-linked */
		popped++;
		if (popped > N)
			break;
	}
	CHECK_EQ(popped, N);
	CHECK(list_empty(&q));
	CHECK_EQ(timerq_next_deadline(&q), TIMER_NONE);
}

TEST(equal_deadlines_fifo)
{
	struct timer t[8];
	struct list_head q;
	list_init(&q);
	/* deadlines 5,3,5,3,5,7,3,5 inserted in index order */
	static const uint64_t dl[8] = { 5, 3, 5, 3, 5, 7, 3, 5 };
	for (int i = 0; i < 8; i++) {
		tinit(&t[i], dl[i]);
		timerq_insert(&q, &t[i]);
	}
	struct timer *want[8] = { &t[1], &t[3], &t[6], &t[0], &t[2], &t[4], &t[7], &t[5] };
	check_queue(&q, want, 8);
	for (int i = 0; i < 8; i++)
		CHECK(timerq_pop_expired(&q, 100) == want[i]);
	CHECK(timerq_pop_expired(&q, 100) == NULL);

	/* all equal: pure insertion order */
	for (int i = 0; i < 8; i++) {
		tinit(&t[i], 42);
		timerq_insert(&q, &t[i]);
	}
	for (int i = 0; i < 8; i++)
		CHECK(timerq_pop_expired(&q, 42) == &t[i]);
	CHECK(list_empty(&q));
}

TEST(pop_expired_respects_now)
{
	struct timer a, b, c;
	struct list_head q;
	list_init(&q);
	CHECK(timerq_pop_expired(&q, TIMER_NONE) == NULL);   /* empty */

	tinit(&a, 10); tinit(&b, 20); tinit(&c, 30);
	timerq_insert(&q, &c);
	timerq_insert(&q, &a);
	timerq_insert(&q, &b);

	CHECK(timerq_pop_expired(&q, 0) == NULL);
	CHECK(timerq_pop_expired(&q, 9) == NULL);
	CHECK_EQ(qlen(&q), 3);
	CHECK(timerq_pop_expired(&q, 10) == &a);          /* deadline == now counts */
	CHECK(timerq_pop_expired(&q, 10) == NULL);
	CHECK_EQ(timerq_next_deadline(&q), 20);
	CHECK(timerq_pop_expired(&q, 25) == &b);
	CHECK(timerq_pop_expired(&q, 25) == NULL);        /* c (30) stays */
	CHECK_EQ(qlen(&q), 1);
	CHECK_EQ(timerq_next_deadline(&q), 30);
	CHECK(timerq_pop_expired(&q, 29) == NULL);
	CHECK(timerq_pop_expired(&q, 1000) == &c);
	CHECK(timerq_pop_expired(&q, 1000) == NULL);
	CHECK(list_empty(&q));
}

TEST(next_deadline)
{
	struct timer a, b, c;
	struct list_head q;
	list_init(&q);
	CHECK_EQ(timerq_next_deadline(&q), TIMER_NONE);
	tinit(&a, 500); tinit(&b, 200); tinit(&c, 900);
	timerq_insert(&q, &a);
	CHECK_EQ(timerq_next_deadline(&q), 500);
	timerq_insert(&q, &b);
	CHECK_EQ(timerq_next_deadline(&q), 200);
	timerq_insert(&q, &c);
	CHECK_EQ(timerq_next_deadline(&q), 200);
	timerq_remove(&b);
	CHECK_EQ(timerq_next_deadline(&q), 500);
	timerq_remove(&a);
	CHECK_EQ(timerq_next_deadline(&q), 900);
	timerq_remove(&c);
	CHECK_EQ(timerq_next_deadline(&q), TIMER_NONE);
	CHECK(list_empty(&q));
}

TEST(remove_keeps_order)
{
	enum { N = 6 };
	struct timer t[N];
	struct timer *want[N];
	struct list_head q;

	list_init(&q);
	for (int i = 0; i < N; i++) {                      /* deadlines 60,50,...,10 */
		tinit(&t[i], (uint64_t)(N - i) * 10);
		timerq_insert(&q, &t[i]);
	}
	for (int i = 0; i < N; i++)
		want[i] = &t[N - 1 - i];                       /* 10,20,...,60 */
	check_queue(&q, want, N);

	timerq_remove(&t[2]);                              /* middle: deadline 40 */
	CHECK(t[2].node.next == &t[2].node);
	struct timer *w1[] = { &t[5], &t[4], &t[3], &t[1], &t[0] };
	check_queue(&q, w1, 5);

	timerq_remove(&t[5]);                              /* first: 10 */
	struct timer *w2[] = { &t[4], &t[3], &t[1], &t[0] };
	check_queue(&q, w2, 4);
	CHECK_EQ(timerq_next_deadline(&q), 20);

	timerq_remove(&t[0]);                              /* last: 60 */
	struct timer *w3[] = { &t[4], &t[3], &t[1] };
	check_queue(&q, w3, 3);

	/* re-inserting a removed timer goes back in its place; a tie goes after the existing one */
	t[2].deadline = 30;
	timerq_insert(&q, &t[2]);
	struct timer *w4[] = { &t[4], &t[3], &t[2], &t[1] };
	check_queue(&q, w4, 4);
	for (int i = 0; i < 4; i++)
		CHECK(timerq_pop_expired(&q, 1000) == w4[i]);
	CHECK(list_empty(&q));
}

/* Reference model: pending timers with their insertion sequence numbers; the queue order must be
 * (deadline, seq) ascending. */
TEST(random_vs_model)
{
	enum { NT = 64, OPS = 10000 };
	static struct timer t[NT];
	static uint64_t seq_of[NT];
	static bool pending[NT];
	static struct timer *want[NT];
	struct list_head q;
	uint64_t seq = 0, now = 0;
	int npending = 0, inserts = 0, removes = 0, pops = 0, null_pops = 0;

	list_init(&q);
	rng_state = 0xdeadbeefcafef00dULL;
	for (int i = 0; i < NT; i++) {
		tinit(&t[i], 0);
		pending[i] = false;
	}
	for (int op = 0; op < OPS; op++) {
		uint64_t r = rng();
		unsigned kind = (unsigned)(r % 100);
		if (kind < 45 || npending == 0) {
			/* insert a free timer; narrow deadline range so ties are common */
			int i = (int)((r >> 8) % NT);
			for (int k = 0; k < NT && pending[i]; k++)
				i = (i + 1) % NT;
			if (pending[i])
				continue;
			t[i].deadline = now + (r >> 20) % 40;
			timerq_insert(&q, &t[i]);
			pending[i] = true;
			seq_of[i] = seq++;
			npending++;
			inserts++;
		} else if (kind < 70) {
			/* remove a random pending timer */
			int i = (int)((r >> 8) % NT);
			while (!pending[i])
				i = (i + 1) % NT;
			timerq_remove(&t[i]);
			pending[i] = false;
			npending--;
			removes++;
		} else {
			/* advance the clock a little and pop one expired timer */
			now += (r >> 8) % 4;
			uint64_t pnow = now + (r >> 16) % 8;
			int best = -1;
			for (int i = 0; i < NT; i++) {
				if (!pending[i])
					continue;
				if (best < 0 || t[i].deadline < t[best].deadline ||
				    (t[i].deadline == t[best].deadline && seq_of[i] < seq_of[best]))
					best = i;
			}
			struct timer *got = timerq_pop_expired(&q, pnow);
			if (best >= 0 && t[best].deadline <= pnow) {
				CHECK(got == &t[best]);
				if (got != &t[best])
					return;
				pending[best] = false;
				npending--;
				pops++;
			} else {
				CHECK(got == NULL);
				if (got)
					return;
				null_pops++;
			}
		}

		/* build the expected order: selection by (deadline, seq) */
		int n = 0;
		static bool used[NT];
		memset(used, 0, sizeof(used));
		for (;;) {
			int best = -1;
			for (int i = 0; i < NT; i++) {
				if (!pending[i] || used[i])
					continue;
				if (best < 0 || t[i].deadline < t[best].deadline ||
				    (t[i].deadline == t[best].deadline && seq_of[i] < seq_of[best]))
					best = i;
			}
			if (best < 0)
				break;
			used[best] = true;
			want[n++] = &t[best];
		}
		CHECK_EQ(n, npending);
		int before = unit_failed_checks;
		check_queue(&q, want, n);
		CHECK_EQ(timerq_next_deadline(&q), n ? want[0]->deadline : TIMER_NONE);
		if (unit_failed_checks != before) {
			printf("  diverged at op %d\n", op);
			return;
		}
	}
	/* the mix actually exercised every path */
	CHECK(inserts > OPS / 4);
	CHECK(removes > OPS / 10);
	CHECK(pops > OPS / 20);
	CHECK(null_pops > OPS / 100);
	/* drain in order */
	uint64_t last = 0;
	struct timer *x;
	int drained = 0;
	while ((x = timerq_pop_expired(&q, TIMER_NONE - 1)) != NULL && drained <= NT) {
		CHECK(x->deadline >= last);
		last = x->deadline;
		drained++;
	}
	CHECK_EQ(drained, npending);
	CHECK(list_empty(&q));
}

UNIT_TESTS(CASE(random_inserts_pop_sorted), CASE(equal_deadlines_fifo), CASE(pop_expired_respects_now),
	   CASE(next_deadline), CASE(remove_keeps_order), CASE(random_vs_model))
