/*
 * Self-tests of the scheduler core, run from the monitor (test builds only):
 *   spin [threads-per-cpu] [iterations]: threads pinned to every CPU increment one counter under a
 *       spinlock; the total must be exact and every CPU must have taken part.
 *   pingpong [rounds]: two threads on two different CPUs hand a token back and forth through two
 *       wait queues; every round must complete, in order.
 *   sleep [ms]: msleep and wait_event_timeout wake no earlier than asked and not much later.
 *   storm: a kernel timer that re-adds itself from its handler 1 tick ahead (a timer storm)
 *       must leave the CPU it runs on at least 1/STORM_FAIR_SHARE of a thread's progress there
 *       (kernel/timer.c's minimum gap), and be stopped by timer_cancel.
 *   wake: an urgent thread woken onto a CPU kept busy by a spinning thread must preempt it and run
 *       before that CPU's next tick (kernel/sched.c, "Urgent threads"); a plain thread woken there
 *       must be queued on an idle CPU by the wake-up itself ("Wake placement"), and so must a new
 *       thread whose creator keeps its CPU busy.
 *   fault: a deliberate load from an unmapped address (panics with a backtrace).
 */
#include "kernel/debug/selftest.h"
#include "lib/sleeplock.h"
#include "kernel/cpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "kernel/wait.h"
#include "kernel/errno.h"

#define SPIN_DEFAULT_THREADS 2
#define SPIN_DEFAULT_ITERS 20000
#define PINGPONG_DEFAULT_ROUNDS 10000
#define SLEEP_DEFAULT_MS 100
#define SLEEP_SLACK_MS 50

static struct waitq done_wq = WAITQ_INIT(done_wq, "selftest_done");
static volatile int done;

/* ---- spin ---- */
static struct spinlock spin_test_lock = SPINLOCK_INIT("selftest");
static volatile uint64_t spin_counter;
static volatile unsigned long spin_cpus_seen;
static unsigned long spin_iters;

static void spin_worker(void *arg __unused)
{
	for (unsigned long i = 0; i < spin_iters; i++) {
		spin_lock(&spin_test_lock);
		spin_counter = spin_counter + 1;
		spin_cpus_seen |= 1UL << cpu_id();
		spin_unlock(&spin_test_lock);
	}
	__atomic_fetch_add(&done, 1, __ATOMIC_RELEASE);
	wake_all(&done_wq);
}

static void test_spin(int argc, char **argv)
{
	int per_cpu = argc > 2 ? (int)strtoul(argv[2], NULL, 0) : SPIN_DEFAULT_THREADS;
	spin_iters = argc > 3 ? strtoul(argv[3], NULL, 0) : SPIN_DEFAULT_ITERS;
	int n = per_cpu * ncpus;
	spin_counter = 0;
	spin_cpus_seen = 0;
	done = 0;
	uint64_t t0 = time_ns();
	for (int i = 0; i < n; i++)
		if (!kthread_create(spin_worker, NULL, "spin", i % ncpus))
			panic("selftest: kthread_create");
	wait_event(&done_wq, READ_ONCE(done) == n);
	uint64_t expect = (uint64_t)n * spin_iters;
	unsigned long all = (1UL << ncpus) - 1;
	bool ok = spin_counter == expect && spin_cpus_seen == all;
	printk("selftest spin: %s counter %llu expected %llu threads %d cpus-seen %#lx in %llu ms\n",
	       ok ? "PASS" : "FAIL", (unsigned long long)spin_counter, (unsigned long long)expect, n,
	       spin_cpus_seen, (unsigned long long)((time_ns() - t0) / NSEC_PER_MSEC));
}

/* ---- pingpong ---- */
static struct waitq ping_wq = WAITQ_INIT(ping_wq, "ping");
static struct waitq pong_wq = WAITQ_INIT(pong_wq, "pong");
static volatile unsigned long token;       /* even: ping's turn, odd: pong's turn */
static unsigned long rounds;
static volatile int pp_errors;
static volatile int pp_cpu[2];

static void pp_worker(void *arg)
{
	unsigned long side = (unsigned long)arg;
	struct waitq *mine = side ? &pong_wq : &ping_wq, *other = side ? &ping_wq : &pong_wq;
	pp_cpu[side] = cpu_id();
	for (unsigned long r = 0; r < rounds; r++) {
		unsigned long want = 2 * r + side;
		wait_event(mine, READ_ONCE(token) >= want);
		if (token != want)
			pp_errors++;
		if (cpu_id() != pp_cpu[side])
			pp_errors++;
		__atomic_store_n(&token, want + 1, __ATOMIC_RELEASE);
		wake_one(other);
	}
	__atomic_fetch_add(&done, 1, __ATOMIC_RELEASE);
	wake_all(&done_wq);
}

static void test_pingpong(int argc, char **argv)
{
	rounds = argc > 2 ? strtoul(argv[2], NULL, 0) : PINGPONG_DEFAULT_ROUNDS;
	int a = ncpus > 2 ? 1 : 0, b = ncpus > 2 ? 2 : ncpus - 1;
	token = 0;
	done = 0;
	pp_errors = 0;
	uint64_t t0 = time_ns();
	kthread_create(pp_worker, (void *)0UL, "ping", a);
	kthread_create(pp_worker, (void *)1UL, "pong", b);
	wait_event(&done_wq, READ_ONCE(done) == 2);
	uint64_t ns = time_ns() - t0;
	bool ok = token == 2 * rounds && pp_errors == 0 && (ncpus == 1 || pp_cpu[0] != pp_cpu[1]);
	printk("selftest pingpong: %s rounds %lu token %lu errors %d cpus %d,%d in %llu ms (%llu round trips/s)\n",
	       ok ? "PASS" : "FAIL", rounds, token, pp_errors, pp_cpu[0], pp_cpu[1],
	       (unsigned long long)(ns / NSEC_PER_MSEC),
	       (unsigned long long)(ns ? rounds * NSEC_PER_SEC / ns : 0));
}

/* ---- sleep ---- */
static struct waitq never_wq = WAITQ_INIT(never_wq, "never");

static void test_sleep(int argc, char **argv)
{
	uint64_t ms = argc > 2 ? strtoul(argv[2], NULL, 0) : SLEEP_DEFAULT_MS;
	uint64_t t0 = time_ns();
	msleep(ms);
	uint64_t slept = (time_ns() - t0) / NSEC_PER_MSEC;
	t0 = time_ns();
	int r = wait_event_timeout(&never_wq, false, ms * NSEC_PER_MSEC);
	uint64_t waited = (time_ns() - t0) / NSEC_PER_MSEC;
	bool ok = slept >= ms && slept < ms + SLEEP_SLACK_MS && r == -ETIMEDOUT && waited >= ms &&
		  waited < ms + SLEEP_SLACK_MS;
	printk("selftest sleep: %s msleep(%llu) took %llu ms, wait_event_timeout returned %d after %llu ms\n",
	       ok ? "PASS" : "FAIL", (unsigned long long)ms, (unsigned long long)slept, r,
	       (unsigned long long)waited);
}

/* ---- storm ---- */
#define STORM_WINDOW_MS 200
#define STORM_FAIR_SHARE 10
static struct timer storm_timer;
static volatile bool storm_on;
static volatile uint64_t storm_fires;
static uint64_t storm_base, storm_with;

static void storm_fn(void *arg __unused)
{
	storm_fires++;
	if (storm_on)
		timer_add(&storm_timer, time_now() + 1);    /* in interrupt context, on this CPU */
}

static uint64_t storm_work(void)
{
	volatile uint64_t n = 0;
	uint64_t end = time_ns() + STORM_WINDOW_MS * NSEC_PER_MSEC;
	while (time_ns() < end)
		for (int i = 0; i < 256; i++)
			n++;
	return n;
}

static void storm_worker(void *arg __unused)
{
	storm_base = storm_work();
	timer_setup(&storm_timer, storm_fn, NULL);
	storm_fires = 0;
	storm_on = true;
	timer_add(&storm_timer, time_now() + 1);
	storm_with = storm_work();
	storm_on = false;
	timer_cancel(&storm_timer);
	done = 1;
	wake_all(&done_wq);
}

static void test_storm(void)
{
	done = 0;
	int cpu = ncpus > 1 ? 1 : 0;
	if (!kthread_create(storm_worker, NULL, "storm", cpu)) {
		printk("selftest storm: FAIL no thread\n");
		return;
	}
	wait_event(&done_wq, done);
	uint64_t fires = storm_fires;
	msleep(20);
	bool stopped = storm_fires == fires;
	bool ok = storm_with * STORM_FAIR_SHARE >= storm_base && fires > 0 && stopped;
	printk("selftest storm: %s cpu %d work %llu with the storm, %llu without; %llu timer runs; stopped %d\n",
	       ok ? "PASS" : "FAIL", cpu, (unsigned long long)storm_with, (unsigned long long)storm_base,
	       (unsigned long long)fires, stopped);
}

/* ---- wake ---- */

#define WAKE_ROUNDS 20
/* Rounds of WAKE_ROUNDS in which the woken urgent thread must run within the busy CPU's tick.
 * Without urgent threads: 0 (the busy CPU's next tick is the first chance); with them 17-20. */
#define WAKE_PASS 10
#define WAKE_BUSY_CPU 1
#define WAKE_WAIT_NS (200 * NSEC_PER_MSEC)

static volatile bool busy_on, busy_done;
static struct waitq wake_wq = WAITQ_INIT(wake_wq, "selftest_wake");
static volatile int wake_go, wake_ready, wake_ran;
static volatile uint64_t wake_tick;       /* the busy CPU's timer_irqs when the target ran */

static void busy_fn(void *arg __unused)
{
	while (READ_ONCE(busy_on))
		;
	busy_done = true;
}

/* arg non-NULL: a plain thread free to run anywhere, which goes back to the busy CPU before each
 * sleep so that its wake-up finds its own CPU busy (the urgent one is pinned there). */
static void wake_target(void *arg)
{
	struct thread *me = current;
	for (int r = 0; r < WAKE_ROUNDS; r++) {
		if (arg && cpu_id() != WAKE_BUSY_CPU) {
			me->affinity = 1UL << WAKE_BUSY_CPU;
			sched_migrate_current();
		}
		if (arg)
			me->affinity = CPU_MASK_ALL;
		wake_ready = r + 1;
		wait_event(&wake_wq, READ_ONCE(wake_go) > r);
		wake_tick = cpus[WAKE_BUSY_CPU].timer_irqs;
		__atomic_store_n(&wake_ran, r + 1, __ATOMIC_RELEASE);
	}
}

/* From a controller on CPU 0: rounds in which the target (urgent, or plain) ran within the busy
 * CPU's tick. -1 if something did not start or answer. */
static int wake_rounds(bool plain)
{
	wake_go = wake_ready = wake_ran = 0;
	busy_on = true;
	busy_done = false;
	if (!kthread_create(busy_fn, NULL, "wake-busy", WAKE_BUSY_CPU))
		return -1;
	struct thread *t = plain ? kthread_create(wake_target, (void *)1, "wake-plain", WAKE_BUSY_CPU)
			         : kthread_create_urgent(wake_target, NULL, "wake-urgent", WAKE_BUSY_CPU);
	int good = t ? 0 : -1;
	for (int r = 0; t && r < WAKE_ROUNDS; r++) {
		uint64_t end = time_ns() + WAKE_WAIT_NS;
		while (READ_ONCE(wake_ready) <= r && time_ns() < end)
			msleep(1);
		msleep(2);                                     /* it is asleep by now */
		uint64_t tick = cpus[WAKE_BUSY_CPU].timer_irqs;
		wake_go = r + 1;
		wake_all(&wake_wq);
		int placed = READ_ONCE(t->cpu);        /* where the wake-up queued it */
		end = time_ns() + WAKE_WAIT_NS;
		while (__atomic_load_n(&wake_ran, __ATOMIC_ACQUIRE) <= r && time_ns() < end)
			;
		if (READ_ONCE(wake_ran) <= r) {
			good = -1;
			break;
		}
		/* urgent: before the busy CPU's tick. plain: the wake-up itself queued it on another
		 * CPU (an idle CPU would also steal it, but only at its own tick; how soon the kicked
		 * CPU runs it depends on the host scheduling that vCPU, so time is not the measure) */
		if (plain ? placed != WAKE_BUSY_CPU : wake_tick == tick)
			good++;
	}
	busy_on = false;
	while (!READ_ONCE(busy_done))
		msleep(1);
	msleep(5);                                             /* the target has returned */
	return good;
}

static struct waitq new_wq = WAITQ_INIT(new_wq, "selftest_new");
static volatile int new_ran, new_go;

static void new_thread_fn(void *arg __unused)
{
	__atomic_store_n(&new_ran, 1, __ATOMIC_RELEASE);
	wait_event(&new_wq, READ_ONCE(new_go));       /* alive until the creator has looked */
}

/* Rounds in which a new plain thread, created on this CPU which its creator keeps busy, was
 * queued on another CPU by kthread_start itself; -1 if one never ran. */
static int new_rounds(void)
{
	int good = 0;
	for (int r = 0; r < WAKE_ROUNDS; r++) {
		new_ran = new_go = 0;
		struct thread *t = kthread_create(new_thread_fn, NULL, "wake-new", -1);
		if (!t)
			return -1;
		int placed = READ_ONCE(t->cpu);
		uint64_t end = time_ns() + WAKE_WAIT_NS;
		while (!__atomic_load_n(&new_ran, __ATOMIC_ACQUIRE) && time_ns() < end)
			;                                      /* the creator stays busy */
		if (!new_ran)
			return -1;
		if (placed != cpu_id())
			good++;
		new_go = 1;
		wake_all(&new_wq);
		msleep(2);                                     /* it has exited */
	}
	return good;
}

static void wake_controller(void *arg __unused)
{
	int urgent = wake_rounds(false);
	int plain = wake_rounds(true);
	int fresh = new_rounds();
	printk("selftest wake: %s urgent thread ran within the busy CPU's tick in %d/%d rounds, "
	       "plain thread placed on an idle CPU in %d/%d, new thread in %d/%d\n",
	       urgent >= WAKE_PASS && plain >= WAKE_PASS && fresh >= WAKE_PASS ? "PASS" : "FAIL",
	       urgent, WAKE_ROUNDS, plain, WAKE_ROUNDS, fresh, WAKE_ROUNDS);
	done = 1;
	wake_all(&done_wq);
}

static void test_wake(void)
{
	if (ncpus <= WAKE_BUSY_CPU) {
		printk("selftest wake: FAIL needs %d CPUs\n", WAKE_BUSY_CPU + 1);
		return;
	}
	done = 0;
	if (!kthread_create(wake_controller, NULL, "wake-ctl", 0)) {
		printk("selftest wake: FAIL no thread\n");
		return;
	}
	wait_event(&done_wq, done);
}

void selftest_cmd(int argc, char **argv)
{
	if (argc < 2)
		printk("usage: selftest spin|pingpong|sleep|storm|wake [args]\n");
	else if (!strcmp(argv[1], "storm"))
		test_storm();
	else if (!strcmp(argv[1], "wake"))
		test_wake();
	else if (!strcmp(argv[1], "spin"))
		test_spin(argc, argv);
	else if (!strcmp(argv[1], "pingpong"))
		test_pingpong(argc, argv);
	else if (!strcmp(argv[1], "sleep"))
		test_sleep(argc, argv);
	else
		printk("selftest: unknown test '%s'\n", argv[1]);
}

/* An address no page table maps: the lower half is empty in the kernel's table. */
static volatile uintptr_t fault_addr = 0x10;
static struct spinlock fault_lock = SPINLOCK_INIT("fault_lock");

static __attribute__((noinline)) uint64_t fault_deref(void)
{
	return *(volatile uint64_t *)fault_addr;
}

/* fault [null|wtext|xdata|deadlock|sleepatomic]: each must end in a panic (and QEMU exiting
 * non-zero). */
void selftest_fault(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "null";
	if (!strcmp(kind, "wtext")) {           /* kernel text is never writable */
		volatile uint32_t *text = (volatile uint32_t *)(uintptr_t)selftest_fault;
		printk("fault: writing kernel text at %p\n", (void *)text);
		*text = 0;
	} else if (!strcmp(kind, "xdata")) {    /* data is never executable */
		static uint32_t data_insn = 0x00008067;   /* "ret", in .data */
		printk("fault: executing kernel data at %p\n", (void *)&data_insn);
		((void (*)(void))(uintptr_t)&data_insn)();
	} else if (!strcmp(kind, "deadlock")) {  /* taking a held lock on the same CPU */
		printk("fault: taking '%s' twice\n", fault_lock.name);
		spin_lock(&fault_lock);
		spin_lock(&fault_lock);
	} else if (!strcmp(kind, "sleepatomic")) {   /* sleeping under a spinlock (might_sleep) */
		printk("fault: sleeping holding '%s'\n", fault_lock.name);
		spin_lock(&fault_lock);
		struct sleeplock sl;
		sleeplock_init(&sl, "fault_sleeplock");
		sleep_lock(&sl);
		spin_unlock(&fault_lock);
	} else {
		printk("fault: loading from %#lx\n", (unsigned long)fault_addr);
		printk("fault: survived (%llu)?\n", (unsigned long long)fault_deref());
	}
	printk("fault: survived '%s'?\n", kind);
}
