/*
 * Per-CPU timers and the scheduler tick (interface in timer.h).
 *
 * Each CPU has a deadline-ordered queue (timerq.c) guarded by its lock and a periodic tick every
 * 1/SCHED_HZ s. The hardware timer is always programmed for min(next tick, earliest timer). Timer
 * functions run in interrupt context on the queue's CPU with the queue unlocked; q->running names
 * the one running so timer_cancel can wait for it to finish (a timer often lives on a stack).
 * A timer is added to the current CPU's queue and remembers which (t->cpu) for cancellation.
 *
 * Storms. After an interrupt the hardware is never programmed sooner than TIMER_MIN_GAP_NS ahead
 * (Linux's default timer slack, 50 us), whatever the queue asks: a timer that keeps expiring in
 * the past (one re-added from its own handler with a tiny period, say) could otherwise keep the
 * CPU taking timer interrupts back to back, and nothing queued on it would ever run (issue 17,
 * fuzz-corpus/005, where a timerfd did it; fs/timerfd.c and kernel/itimer.c no longer re-arm from
 * their handlers, and this bounds whatever may do it next to a fraction of the CPU).
 */
#include "kernel/timer.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "kernel/sched.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/sbi.h"

#define CSR_STIMECMP 0x14d
#define TIMER_MIN_GAP_NS 50000ULL
/* A tick taken more than 1/TICK_LATE_DIV of a period after it was due is late: the host held this
 * vCPU back (or interrupts were off that long), so the running thread ran less than a period. */
#define TICK_LATE_DIV 2

struct timer_cpu {
	struct spinlock lock;
	struct list_head queue;
	struct timer *volatile running;
	uint64_t armed;                  /* value last programmed into the hardware */
};

uint64_t timebase_hz;
static uint64_t tick_period;
static uint64_t min_gap;                 /* TIMER_MIN_GAP_NS in timebase ticks */
static bool use_sstc;
static struct timer_cpu timer_cpus[NCPU];

uint64_t time_now(void) { return rdtime(); }
uint64_t ns_to_ticks(uint64_t ns) { return ns / NSEC_PER_SEC * timebase_hz + ns % NSEC_PER_SEC * timebase_hz / NSEC_PER_SEC; }
uint64_t ticks_to_ns(uint64_t t) { return t / timebase_hz * NSEC_PER_SEC + t % timebase_hz * NSEC_PER_SEC / timebase_hz; }
uint64_t time_ns(void) { return ticks_to_ns(time_now()); }

static void hw_program(struct timer_cpu *tc, uint64_t when)
{
	tc->armed = when;
	if (use_sstc)
		__asm__ volatile("csrw 0x14d, %0" :: "r"(when));
	else
		sbi_set_timer(when);
}

void timer_init(uint64_t hz, bool sstc)
{
	timebase_hz = hz;
	tick_period = hz / SCHED_HZ;
	min_gap = ns_to_ticks(TIMER_MIN_GAP_NS);
	use_sstc = sstc;
	for (int i = 0; i < NCPU; i++) {
		spin_init(&timer_cpus[i].lock, "timerq");
		list_init(&timer_cpus[i].queue);
	}
}

void timer_cpu_init(void)
{
	struct cpu *c = this_cpu();
	struct timer_cpu *tc = &timer_cpus[c->id];
	spin_lock(&tc->lock);
	c->next_tick = time_now() + tick_period;
	hw_program(tc, c->next_tick);
	spin_unlock(&tc->lock);
	csr_set(sie, SIE_STIE);
}

/* Program the hardware for the earliest event, not before `floor`. Queue lock held. */
static void reprogram(struct cpu *c, struct timer_cpu *tc, uint64_t floor)
{
	uint64_t next = timerq_next_deadline(&tc->queue);
	if (c->next_tick < next)
		next = c->next_tick;
	hw_program(tc, next > floor ? next : floor);
}

void timer_interrupt(void)
{
	struct cpu *c = this_cpu();
	struct timer_cpu *tc = &timer_cpus[c->id];
	uint64_t now = time_now();
	bool tick = false, late = false;
	struct timer *t;

	c->timer_irqs++;
	spin_lock(&tc->lock);
	while ((t = timerq_pop_expired(&tc->queue, now)) != NULL) {
		/* running before cpu: a timer_cancel that reads cpu == -1 without the lock must
		 * then see running == t and wait (else it could return while t->fn is about to run
		 * on a thread that is then freed: issue 17, fuzz-corpus/004) */
		tc->running = t;
		__atomic_store_n(&t->cpu, -1, __ATOMIC_RELEASE);
		spin_unlock(&tc->lock);
		t->fn(t->arg);
		spin_lock(&tc->lock);
		tc->running = NULL;
	}
	if (now >= c->next_tick) {
		tick = true;
		late = now - c->next_tick > tick_period / TICK_LATE_DIV;
		c->next_tick += tick_period;
		if (c->next_tick <= now)
			c->next_tick = now + tick_period;
	}
	reprogram(c, tc, time_now() + min_gap);
	spin_unlock(&tc->lock);
	if (tick)
		sched_tick(late);
}

void timer_setup(struct timer *t, void (*fn)(void *), void *arg)
{
	list_init(&t->node);
	t->fn = fn;
	t->arg = arg;
	t->cpu = -1;
}

void timer_add(struct timer *t, uint64_t deadline)
{
	irq_push_off();
	struct cpu *c = this_cpu();
	struct timer_cpu *tc = &timer_cpus[c->id];
	spin_lock(&tc->lock);
	t->deadline = deadline;
	t->cpu = c->id;
	timerq_insert(&tc->queue, t);
	if (deadline < tc->armed)
		reprogram(c, tc, 0);
	spin_unlock(&tc->lock);
	irq_pop_off();
}

void timer_cancel(struct timer *t)
{
	int cpu = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);    /* pairs with timer_interrupt */
	if (cpu >= 0) {
		struct timer_cpu *tc = &timer_cpus[cpu];
		spin_lock(&tc->lock);
		if (t->cpu == cpu) {
			timerq_remove(t);
			t->cpu = -1;
		}
		spin_unlock(&tc->lock);
	}
	/* it may have been popped and be running on some CPU right now */
	for (int i = 0; i < ncpus; i++)
		while (timer_cpus[i].running == t)
			__asm__ volatile("nop");
}
