/*
 * The scheduler: per-CPU run queues, round robin, kernel preemption on the timer tick.
 *
 * Theory. Each CPU owns a run queue (a FIFO of RUNNABLE threads) guarded by its lock. A thread
 * belongs to exactly one run queue at a time (t->cpu); it changes queue only under the lock of the
 * queue it leaves (work stealing by an idle CPU, a migration: below). The running thread is not on
 * any queue. schedule() takes the local queue lock, puts the outgoing thread back unless it is going
 * to sleep, picks the next one (or steals one, or falls back to the idle thread) and switches
 * stacks with the lock still held; the thread switched to releases it (finish_switch). Holding the
 * lock across the switch is what makes sleeping race-free:
 *
 *   - A sleeper sets itself SLEEPING (under its wait queue lock) before checking its condition.
 *   - sched_wake(t) takes t's run-queue lock; if t is SLEEPING it becomes RUNNABLE, and it is put
 *     on the queue only if it is off the CPU already (t->on_cpu == false). If t is still on its CPU,
 *     schedule() will see RUNNABLE and keep it runnable. on_cpu is cleared by finish_switch while the
 *     queue lock is still held, so a waker never sees a half-switched thread.
 *   - Preemption (timer tick at trap return) puts the thread back on the queue whatever its state,
 *     so a thread preempted between "SLEEPING" and schedule() is not lost; on_rq tells the waker it
 *     is queued already.
 *
 * Which queue, which lock. t->cpu names the queue that owns t and is written only under that
 * queue's lock (steal holds both; a migration sets it before finish_switch drops the old queue's
 * lock and queues t under the new one's). So a running thread always has t->cpu == the CPU it runs
 * on, and sched_wake, which locks runqs[t->cpu] and re-checks t->cpu, serialises with everything
 * that thread's CPU does to it. A thread's own state writes (SLEEPING, RUNNING) race with a
 * waker's SLEEPING -> RUNNABLE harmlessly (a spurious wake-up, which every sleep loop tolerates);
 * THREAD_DEAD is written under the run-queue lock (kthread_exit) so that a waker which read SLEEPING
 * before the thread's last sleep ended cannot turn a dead thread back into a runnable one.
 *
 * Who starts a thread. thread_alloc makes it THREAD_NEW and only kthread_start makes it runnable,
 * once, after linking it. A wake-up cannot: clone puts the new thread on its process's thread list
 * (where kill, exit_group and SIGKILL's kick find it) before its creator starts it, and when that
 * kick could start it (a new thread used to be SLEEPING), it ran half-built, saw its process
 * exiting and died before kthread_start linked it: free_thread's list_del stored through NULL
 * (issue 17, fuzz-corpus/004; user/tests/thread_teardown.c reproduced it in seconds).
 *
 * Who frees a thread. A dead thread is freed exactly once, by the next thread to run on the CPU
 * it died on, in finish_switch, after the
 * switch away from it is complete (its stack is no longer in use) and after the run-queue lock
 * has been dropped. By then nothing may point at it: it left its process's thread list under
 * proc_lock, every wait-queue entry was removed under its queue's lock (finish_wait), a futex
 * waiter hands off under its bucket lock before returning (ipc/futex), its sleep timer was
 * cancelled (timer_cancel waits for a running handler), and it was on no run queue since DEAD is
 * never queued (enqueue refuses DEAD and NEW threads). A wake-up that reached a freed thread would
 * be a use after free.
 *
 * Urgent threads. The kernel's service threads (squeue workers, NIC poll threads) are urgent: a
 * wake-up puts one at the head of its run queue and, when its CPU runs a thread that is not urgent,
 * preempts that thread at once (IPI_RESCHED, or need_resched on the waker's own CPU), as Solaris
 * runs its squeue workers at system priority and Linux runs softirqs before returning to the task
 * they interrupted. Without it a worker woken on a CPU busy with a user thread waited for the next
 * tick (up to 10 ms): a socket call that went through that squeue (close of a listener, a connect)
 * stalled for as long, and iperf3 clients were refused by a daemon that was still closing its old
 * listener. Only the wake-up is favoured: a preempted urgent thread goes to the tail like any
 * other, so a worker with endless work still shares its CPU tick by tick.
 *
 * Wake placement. A woken thread is queued on its own CPU (t->cpu). When that CPU runs another
 * thread, a plain (not urgent) thread would wait there for it to block or for the next tick (up to
 * 10 ms) while other CPUs idle: an idle CPU only steals when it schedules, and it sleeps in wfi.
 * So sched_wake moves such a thread to an idle CPU it may run on and kicks that CPU, as Linux's
 * select_task_rq picks an idle sibling. Not when its CPU is the waker's own: a waker that wakes
 * its peer usually blocks next (a request/response, a pipe), and the peer then runs at once where
 * it was. A new thread (kthread_start: a clone sharing the address space, a kernel thread) is
 * placed the same way, even from its creator's CPU: the creator keeps running, and a new thread
 * left behind it waited for the creator to block or for a tick. The move holds both queue locks
 * (the second by trylock: a busy lock just means no move).
 *
 * Fork placement. A forked process (a new address space) is the exception: it starts on its
 * parent's CPU, after the parent, which keeps running (kthread_start_behind). The usual fork is
 * followed by the parent blocking (wait, a read of the child's pipe, accept again) or exiting (a
 * daemon), and the child then runs where the parent's caches are. Run at once on another hart,
 * parent and child both break copy-on-write on the same pages in parallel right after fork, and
 * their first lines of output interleave: the contest's test_pipe prints "cpid: %d\n" in three
 * write()s from both, and read "cpid: cpid: 8" in most runs at -smp 4. Linux balances a fork
 * child onto the idlest CPU; this is the trade-off of its old sched_child_runs_first without the
 * preemption of the parent.
 *   The child is parked: it is RUNNABLE but on no run queue, owned by its parent (parent->holding),
 * so no CPU can run or steal it. It is released (queued on the CPU the parent is on, under that
 * queue's lock) when the parent leaves its CPU other than by preemption (it sleeps, exits or
 * migrates: __schedule), forks again (the earlier child is released and an idle CPU is kicked to
 * take it), or has held it for FORK_HOLD_TICKS ticks of its own running (sched_tick). A preempted
 * parent keeps its child parked, wherever it is queued and whichever CPU steals it: an urgent
 * squeue worker that preempted the parent between two of its write()s used to let the child run
 * first and an idle CPU take the parent (the forkline test tore a line in 3 runs of 10 at 1000 rounds).
 *   Only ticks taken on time count towards FORK_HOLD_TICKS: a late tick means the host held the
 * vCPU back, so the parent made little progress (under a loaded host two ticks fell inside the
 * parent's three write()s and tore the line). FORK_HOLD_MAX_TICKS bounds the hold whatever the
 * host does. Only the CPU the parent runs on touches parent->holding and hold_*, with interrupts
 * off; a parked child's t->cpu is written when it is released, under the lock of the queue it
 * joins (nothing else acts on a RUNNABLE thread that is on no CPU and no queue: sched_wake needs
 * SLEEPING).
 *
 * Spreading a queue. When a CPU switches to a thread and still has others queued while a CPU
 * sits idle, it kicks that idle CPU, which steals one when it schedules (a parent that forked
 * two children and then waited: the second goes to the idle CPU at once, not at its next tick).
 *
 * Interrupts: the run-queue lock is a spinlock, so interrupts are off from schedule() until the
 * next thread releases the lock; each thread's own interrupt state (cpu->intena) is carried across
 * the switch in t->intena. Lock order: wait-queue lock -> run-queue lock -> (another run-queue lock
 * only with trylock). Nothing else is taken under a run-queue lock.
 */
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "mm/page.h"
#include "mm/kmalloc.h"
#include "kernel/timer.h"
#include "kernel/ipi.h"
#include "mm/uvm.h"
#include "arch/riscv/riscv.h"

#define FORK_HOLD_TICKS 2          /* on-time ticks a parent keeps its child parked: "Fork placement" */
#define FORK_HOLD_MAX_TICKS 10     /* all ticks, late ones included */

struct runq {
	struct spinlock lock;
	struct list_head queue;      /* RUNNABLE threads, FIFO */
	uint64_t nr_running;         /* threads on the queue */
	bool prev_migrates;          /* __schedule left the outgoing thread for finish_switch to move */
};

static struct runq runqs[NCPU];
static struct thread idle_threads[NCPU];
static struct spinlock threads_lock = SPINLOCK_INIT("threads");
static struct list_head all_threads = LIST_HEAD_INIT(all_threads);
static int nthreads;
static int next_tid = 1;

/* on_rq: a thread is on a queue iff its rq_node is linked (list_del re-initialises it). */
static bool on_rq(struct thread *t) { return !list_empty(&t->rq_node); }

static void enqueue(struct runq *rq, struct thread *t)
{
	if (t->state == THREAD_DEAD || t->state == THREAD_NEW || !t->all_node.next)
		panic("sched: queueing thread %d (%s) in state %d", t->tid, t->name, t->state);
	list_add_tail(&t->rq_node, &rq->queue);
	rq->nr_running++;
}

static void dequeue(struct runq *rq, struct thread *t)
{
	list_del(&t->rq_node);
	rq->nr_running--;
}

static void thread_link(struct thread *t)
{
	spin_lock(&threads_lock);
	list_add_tail(&t->all_node, &all_threads);
	nthreads++;
	spin_unlock(&threads_lock);
}

static void init_idle(int cpu)
{
	struct thread *t = &idle_threads[cpu];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "idle/%d", cpu);
	t->state = THREAD_RUNNING;
	t->cpu = cpu;
	t->on_cpu = true;
	t->affinity = 1UL << cpu;
	t->tid = 0;
	list_init(&t->rq_node);
	t->kstack = (char *)cpus[cpu].boot_stack_top - KSTACK_SIZE;
	*(struct thread **)t->kstack = t;       /* `current` (sched.h) */
	cpus[cpu].idle = t;
	cpus[cpu].cur = t;
	thread_link(t);
}

void sched_init(void)
{
	for (int i = 0; i < NCPU; i++) {
		spin_init(&runqs[i].lock, "runq");
		list_init(&runqs[i].queue);
		cpus[i].sched = &runqs[i];
	}
	init_idle(0);
}

void sched_cpu_init(void) { init_idle(cpu_id()); }

/* Take one thread that may run here from another CPU's queue. Called with our queue locked. */
static struct thread *steal(struct cpu *c)
{
	for (int i = 1; i < ncpus; i++) {
		struct runq *other = &runqs[(c->id + i) % ncpus];
		if (!READ_ONCE(other->nr_running) || !spin_trylock(&other->lock))
			continue;
		struct list_head *p;
		list_for_each(p, &other->queue) {
			struct thread *t = list_entry(p, struct thread, rq_node);
			if (t->affinity & (1UL << c->id)) {
				dequeue(other, t);
				t->cpu = c->id;
				spin_unlock(&other->lock);
				return t;
			}
		}
		spin_unlock(&other->lock);
	}
	return NULL;
}

/* Wake an idle CPU (running its idle thread, nothing queued) on which a thread queued here may
 * run, so that it steals it. Our queue locked. */
static void kick_idle_cpu(struct cpu *self, struct runq *rq)
{
	struct list_head *p;
	list_for_each(p, &rq->queue) {
		unsigned long may = list_entry(p, struct thread, rq_node)->affinity & ~(1UL << self->id);
		for (int i = 1; may && i < ncpus; i++) {
			struct cpu *c = &cpus[(self->id + i) % ncpus];
			if ((may & (1UL << c->id)) && c->online && READ_ONCE(c->cur) == c->idle &&
			    !READ_ONCE(runqs[c->id].nr_running)) {
				ipi_send(c->id, IPI_RESCHED);
				return;
			}
		}
	}
}

/* Queue the child a parent parked ("Fork placement") on the parent's CPU c; rq (c's) locked, the
 * parent running on c or leaving it. */
static void release_child(struct cpu *c, struct runq *rq, struct thread *parent)
{
	struct thread *t = parent->holding;
	parent->holding = NULL;
	t->cpu = c->id;
	enqueue(rq, t);
}

static void free_thread(struct thread *t)
{
	if (!t->all_node.next)                  /* never started: something ran it early */
		panic("sched: freeing thread %d (%s), never started", t->tid, t->name);
	if (t->fp)
		kfree(t->fp);
	spin_lock(&threads_lock);
	list_del(&t->all_node);
	nthreads--;
	spin_unlock(&threads_lock);
	free_pages(t->kstack, KSTACK_ORDER);
	kfree(t);
}

static void __schedule(bool preempt, bool exiting);

/* Runs first in the thread switched to, with the local queue lock still held. A thread that may
 * no longer run here (affinity changed) was left off every queue by __schedule: it is given to an
 * allowed CPU (t->cpu, under this queue's lock) and queued there once it is off this one. A dead
 * thread is freed here, once, after the switch away from it: see the theory. */
static void finish_switch(void)
{
	struct cpu *c = this_cpu();
	struct runq *rq = &runqs[c->id];
	struct thread *prev = c->switch_prev;
	bool dead = prev->state == THREAD_DEAD;
	bool migrate = rq->prev_migrates;
	int target = c->id;
	rq->prev_migrates = false;
	if (migrate) {
		unsigned long allowed = READ_ONCE(prev->affinity) & ((1UL << ncpus) - 1);
		if (allowed && !(allowed & (1UL << c->id)))
			target = ctz64(allowed);
		prev->cpu = target;             /* still under the old queue's lock */
	}
	__atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
	spin_unlock(&rq->lock);
	if (dead)
		free_thread(prev);
	if (migrate) {
		/* RUNNABLE and off every queue: no waker queues it (not SLEEPING), no CPU steals it */
		struct runq *trq = &runqs[target];
		spin_lock(&trq->lock);
		enqueue(trq, prev);
		spin_unlock(&trq->lock);
		if (target != cpu_id())
			ipi_send(target, IPI_RESCHED);
	}
}

void sched_migrate_current(void) { __schedule(true, false); }

/* preempt: the caller stays runnable whatever its state; exiting: the caller is dead (kthread_exit) */
static void __schedule(bool preempt, bool exiting)
{
	/* interrupts off before looking at this_cpu(): a preempted caller may move to another CPU */
	bool on = intr_enabled();
	intr_off();
	struct cpu *c = this_cpu();
	struct runq *rq = &runqs[c->id];
	struct thread *prev = c->cur;

	if (c->noff != 0)
		panic("schedule() with a spinlock held (cpu %d, depth %d, thread %s)", c->id, c->noff, prev->name);
	spin_lock(&rq->lock);
	c->intena = on;                 /* the caller's state, not the one intr_off made */
	prev->intena = c->intena;
	c->need_resched = false;
	if (exiting)
		prev->state = THREAD_DEAD;      /* under the lock every waker of prev takes (theory) */

	if (prev != c->idle && prev->state != THREAD_DEAD && !on_rq(prev) &&
	    (preempt || prev->state != THREAD_SLEEPING)) {
		if (prev->state == THREAD_RUNNING)
			prev->state = THREAD_RUNNABLE;
		/* affinity is read once: finish_switch moves it iff it was not queued here */
		if (prev->state == THREAD_RUNNABLE && !(READ_ONCE(prev->affinity) & (1UL << c->id)))
			rq->prev_migrates = true;
		else
			enqueue(rq, prev);      /* a preempted sleeper stays here until it runs again */
	}
	if (prev->holding && !on_rq(prev))
		release_child(c, rq, prev);     /* sleeping, dead or migrating: "Fork placement" */

	struct thread *next = NULL;
	if (!list_empty(&rq->queue)) {
		next = list_first_entry(&rq->queue, struct thread, rq_node);
		dequeue(rq, next);
	} else if (prev == c->idle || prev->state == THREAD_SLEEPING || prev->state == THREAD_DEAD) {
		next = steal(c);
	}
	if (!next)
		next = c->idle;
	if (next != c->idle && rq->nr_running)
		kick_idle_cpu(c, rq);   /* others still wait here: "Spreading a queue" */
	if (next->state == THREAD_RUNNABLE)
		next->state = THREAD_RUNNING;

	if (next == prev) {
		spin_unlock(&rq->lock);
		return;
	}
	next->on_cpu = true;
	next->switches++;
	if (prev->state == THREAD_SLEEPING && !preempt)
		prev->nvcsw++;
	else
		prev->nivcsw++;
	c->ctx_switches++;
	c->cur = next;
	c->switch_prev = prev;
	c->kstack_top = (uint64_t)next->kstack + KSTACK_SIZE;
	if (prev->proc || next->proc) {         /* system time of user threads */
		uint64_t now = time_ns();
		if (prev->proc)
			prev->stime_ns += now - prev->kernel_enter_ns;
		next->kernel_enter_ns = now;
	}
	mm_switch_to(next->mm);        /* a kernel thread keeps prev's (lazy: mm/uvm.c) */
	context_switch(&prev->ctx, &next->ctx);

	/* back in prev, possibly on another CPU */
	this_cpu()->intena = prev->intena;
	finish_switch();
}

void schedule(void) { __schedule(false, false); }

void sched_yield(void) { __schedule(true, false); }

void sched_preempt_check(void)
{
	struct cpu *c = this_cpu();
	if (c->need_resched && c->noff == 0)
		__schedule(true, false);
}

/* late: this tick was taken long after it was due (timer.c) */
void sched_tick(bool late)
{
	struct cpu *c = this_cpu();
	struct thread *cur = c->cur;
	if (cur == c->idle)
		c->idle_ticks++;
	else if (cur->proc)
		c->user_ticks++;
	else
		c->system_ticks++;
	if (c->id == 0)                         /* load average: fs/proc_sys.c */
		loadavg_tick();
	struct runq *rq = &runqs[c->id];
	if (cur->holding) {                     /* "Fork placement" */
		cur->hold_age++;
		cur->hold_ticks += !late;
		if (cur->hold_ticks >= FORK_HOLD_TICKS || cur->hold_age >= FORK_HOLD_MAX_TICKS) {
			spin_lock(&rq->lock);
			release_child(c, rq, cur);
			spin_unlock(&rq->lock);
		}
	}
	if (READ_ONCE(rq->nr_running))
		c->need_resched = true;
}

/* Lock the queue that owns t (t->cpu may change until we hold it). */
static struct runq *lock_rq_of(struct thread *t)
{
	for (;;) {
		int cpu = READ_ONCE(t->cpu);
		struct runq *rq = &runqs[cpu];
		spin_lock(&rq->lock);
		if (t->cpu == cpu)
			return rq;
		spin_unlock(&rq->lock);
	}
}

/* Queue a thread that just became RUNNABLE and kick its CPU if idle, or if the thread is urgent
 * and its CPU runs one that is not (urgent threads go first: see the theory above). Its queue's
 * lock held. */
static void enqueue_woken(struct runq *rq, struct thread *t)
{
	enqueue(rq, t);
	struct cpu *target = &cpus[t->cpu];
	if (t->urgent) {
		list_del(&t->rq_node);
		list_add(&t->rq_node, &rq->queue);
	}
	struct thread *cur = READ_ONCE(target->cur);
	if (cur == target->idle || (t->urgent && cur && !cur->urgent)) {
		if (target == this_cpu())
			target->need_resched = true;
		else
			ipi_send(target->id, IPI_RESCHED);
	}
}

/* An idle CPU other than t's own that t may run on, its queue locked (trylock: we hold t's), or
 * NULL. Idle means running its idle thread with nothing queued. */
static struct runq *lock_idle_rq_for(struct thread *t)
{
	for (int i = 1; i < ncpus; i++) {
		int id = (t->cpu + i) % ncpus;
		struct cpu *c = &cpus[id];
		if (!(t->affinity & (1UL << id)) || !c->online || READ_ONCE(c->cur) != c->idle ||
		    READ_ONCE(runqs[id].nr_running) || !spin_trylock(&runqs[id].lock))
			continue;
		if (READ_ONCE(c->cur) == c->idle && !runqs[id].nr_running)
			return &runqs[id];
		spin_unlock(&runqs[id].lock);
	}
	return NULL;
}

/* Queue t, just RUNNABLE and off every CPU, on rq (its own CPU's, locked) or, when that CPU is
 * busy with another thread, on an idle CPU's (see "Wake placement" in the theory). may_stay: the
 * caller runs on t's CPU and is about to leave it (a waker of its peer), so t stays. The move
 * holds both queue locks, so t->cpu changes under both as steal() does. */
static void place_woken(struct runq *rq, struct thread *t, bool may_stay)
{
	struct cpu *own = &cpus[t->cpu];
	struct runq *idle_rq = NULL;
	if (!t->urgent && !(may_stay && own == this_cpu()) && READ_ONCE(own->cur) != own->idle)
		idle_rq = lock_idle_rq_for(t);
	if (!idle_rq) {
		enqueue_woken(rq, t);
		return;
	}
	t->cpu = (int)(idle_rq - runqs);
	enqueue_woken(idle_rq, t);
	spin_unlock(&idle_rq->lock);
}

void sched_wake(struct thread *t)
{
	struct runq *rq = lock_rq_of(t);
	if (t->state == THREAD_SLEEPING) {
		t->state = THREAD_RUNNABLE;
		if (!on_rq(t) && !__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
			place_woken(rq, t, true);
	}
	spin_unlock(&rq->lock);
}

static void thread_start(void)
{
	struct thread *t = this_cpu()->cur;
	this_cpu()->intena = false;
	finish_switch();
	intr_on();
	t->fn(t->arg);
	kthread_exit();
}

struct thread *thread_alloc(void (*fn)(void *), void *arg, const char *name, int cpu)
{
	struct thread *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->kstack = alloc_pages(KSTACK_ORDER, 0);
	if (!t->kstack) {
		kfree(t);
		return NULL;
	}
	*(struct thread **)t->kstack = t;       /* `current` (sched.h); buddy blocks are aligned */
	strlcpy(t->name, name, sizeof(t->name));
	t->tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
	t->fn = fn;
	t->arg = arg;
	t->ctx.ra = (uint64_t)thread_start;
	t->ctx.sp = (uint64_t)t->kstack + KSTACK_SIZE;
	t->affinity = cpu >= 0 ? 1UL << cpu : CPU_MASK_ALL;
	t->cpu = cpu >= 0 ? cpu : cpu_id();
	t->state = THREAD_NEW;                  /* kthread_start runs it, nothing else */
	t->fp_cpu = -1;
	list_init(&t->rq_node);
	list_init(&t->thread_node);
	return t;
}

/* Start t, a forked child, parked behind its creator (the caller): "Fork placement". */
void kthread_start_behind(struct thread *t)
{
	struct thread *parent = current;
	thread_link(t);
	irq_push_off();                 /* the parent stays on this CPU until its queue is locked */
	struct cpu *c = this_cpu();
	struct runq *rq = &runqs[c->id];
	spin_lock(&rq->lock);
	if (t->state != THREAD_NEW)
		panic("sched: thread %d (%s) started twice", t->tid, t->name);
	t->cpu = c->id;
	t->state = THREAD_RUNNABLE;
	if (t->affinity & (1UL << c->id)) {
		if (parent->holding) {  /* forked again: the earlier child goes to an idle CPU */
			release_child(c, rq, parent);
			kick_idle_cpu(c, rq);
		}
		parent->holding = t;
		parent->hold_ticks = parent->hold_age = 0;
	} else {
		place_woken(rq, t, false);
	}
	spin_unlock(&rq->lock);
	irq_pop_off();
}

void kthread_start(struct thread *t)
{
	thread_link(t);
	struct runq *rq = lock_rq_of(t);
	if (t->state != THREAD_NEW)
		panic("sched: thread %d (%s) started twice", t->tid, t->name);
	t->state = THREAD_RUNNABLE;
	place_woken(rq, t, false);      /* its creator keeps running: Linux's fork balancing */
	spin_unlock(&rq->lock);
}

struct thread *kthread_create(void (*fn)(void *), void *arg, const char *name, int cpu)
{
	struct thread *t = thread_alloc(fn, arg, name, cpu);
	if (t)
		kthread_start(t);
	return t;
}

struct thread *kthread_create_urgent(void (*fn)(void *), void *arg, const char *name, int cpu)
{
	struct thread *t = thread_alloc(fn, arg, name, cpu);
	if (t) {
		t->urgent = true;
		kthread_start(t);
	}
	return t;
}

void kthread_exit(void)
{
	intr_off();
	__schedule(false, true);
	panic("dead thread ran");
}

static void sleep_timer_fn(void *arg) { sched_wake(arg); }

void sleep_until(uint64_t deadline)
{
	struct thread *t = current;
	timer_setup(&t->sleep_timer, sleep_timer_fn, t);
	while (time_now() < deadline) {
		t->state = THREAD_SLEEPING;
		timer_add(&t->sleep_timer, deadline);
		schedule();
		timer_cancel(&t->sleep_timer);
	}
	t->state = THREAD_RUNNING;
}

void msleep(uint64_t ms) { sleep_until(time_now() + ns_to_ticks(ms * NSEC_PER_MSEC)); }

void __noreturn sched_idle_loop(void)
{
	struct cpu *c = this_cpu();
	for (;;) {
		intr_off();
		if (!READ_ONCE(runqs[c->id].nr_running) && !c->need_resched)
			wfi();
		intr_on();
		schedule();
	}
}

unsigned sched_nr_active(void)
{
	unsigned n = 0;
	for (int i = 0; i < NCPU; i++) {
		n += (unsigned)READ_ONCE(runqs[i].nr_running);
		if (cpus[i].online && READ_ONCE(cpus[i].cur) && READ_ONCE(cpus[i].cur) != cpus[i].idle)
			n++;
	}
	return n;
}

void sched_get_stats(struct sched_stats *st)
{
	for (int i = 0; i < NCPU; i++)
		st->nr_running[i] = READ_ONCE(runqs[i].nr_running);
	st->nthreads = nthreads;
}

const char *sched_state_name(int s)
{
	static const char *names[] = { "runnable", "running", "sleeping", "dead", "new" };
	return s >= 0 && s <= THREAD_NEW ? names[s] : "?";
}

void sched_for_each_thread(void (*fn)(struct thread *t, void *arg), void *arg)
{
	struct list_head *p;
	spin_lock(&threads_lock);
	list_for_each(p, &all_threads)
		fn(list_entry(p, struct thread, all_node), arg);
	spin_unlock(&threads_lock);
}

static void dump_one(struct thread *t, void *arg __unused)
{
	printk("  %4d %-16s cpu %d %-9s switches %llu\n", t->tid, t->name, t->cpu, sched_state_name(t->state),
	       (unsigned long long)t->switches);
}

void sched_dump_cpu(int cpu)
{
	struct cpu *c = &cpus[cpu];
	struct thread *cur = READ_ONCE(c->cur);
	printk("  cpu %d: cur %d %s, run queue %llu, need_resched %d, switches %llu, timer irqs %llu, ipis %llu\n",
	       cpu, cur ? cur->tid : -1, cur ? cur->name : "?", (unsigned long long)READ_ONCE(runqs[cpu].nr_running),
	       (int)c->need_resched, (unsigned long long)c->ctx_switches, (unsigned long long)c->timer_irqs,
	       (unsigned long long)c->ipi_irqs);
}

void sched_dump(void)
{
	sched_for_each_thread(dump_one, NULL);
}
