/*
 * Out of memory: who dies when a page cannot be had.
 *
 * Theory. Ember has no swap and (yet) no page cache to reclaim, so when the page allocator is dry
 * the only way to get memory back is to end a process. As Linux does (mm/oom_kill.c), the victim
 * is the process whose death frees the most: its badness is its footprint in pages (resident
 * pages of every kind, anonymous, file and System V shm mapped into it, plus its page tables:
 * Linux's get_mm_rss + mm_pgtables_bytes), shifted by oom_score_adj * totalpages / 1000, where
 * totalpages is RAM. oom_score_adj (-1000..1000, /proc/<pid>/oom_score_adj, inherited at fork)
 * lets user space steer the choice; -1000 means never. init (pid 1), kernel threads and processes
 * without an address space are never chosen. The victim gets SIGKILL and a line in the kernel log
 * in Linux's words ("Out of memory: Killed process N (comm) total-vm:..kB, anon-rss:..kB, ...").
 *
 * Who calls: a thread whose page allocation failed where it may sleep (a page fault, fork;
 * mm/uvm.c), after dropping its locks. It kills a victim, or finds one already killed and not yet
 * gone (then it kills no second one: Linux's "an OOM victim is on its way" rule), waits for that
 * process to become a zombie (its memory is freed before that: the last thread's mm_put), at most
 * OOM_WAIT_MS, and tells the caller to retry its allocation. A victim that outlives
 * OOM_VICTIM_STUCK_MS is passed over: the next round picks another (Linux has its OOM reaper for
 * that case). The faulting thread may be the victim itself; it notices its own pending SIGKILL,
 * stops waiting and returns to die. Unlike the old behaviour (SIGSEGV to whichever thread faulted
 * next), an innocent process that merely touched its own memory is not punished for someone
 * else's appetite.
 *
 * When much memory is still free (more than 1/FRAGMENTED_FREE_DIV of RAM) the failure was not a
 * shortage but fragmentation (a multi-page block such as a kernel stack) or pages parked in other
 * CPUs' caches: nobody is killed, the caller just waits a moment and retries (bounded).
 *
 * /proc/<pid>/oom_score shows Linux's (1000 + badness * 1000 / totalpages) * 2 / 3 (0 for
 * unkillable ones), so a process with the largest score is the one that would go.
 *
 * Locks: oom_lock (spinlock) guards the victim record and serializes choosing; it is taken before
 * proc_lock, which is taken before mm->lock (mm_get_usage). Waiting happens with no lock held.
 * An mm is read under proc_lock: exit and exec detach a thread's mm under proc_lock before
 * dropping it (kernel/proc.c, kernel/exec.c), so an mm seen there stays alive meanwhile.
 */
#include "mm/oom.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/spinlock.h"
#include "kernel/timer.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "mm/uvm.h"

#define OOM_WAIT_MS 3000                 /* longest one caller waits for a victim to go */
#define OOM_POLL_MS 5                    /* how often it looks */
#define OOM_VICTIM_STUCK_MS 10000        /* a victim still alive after this is passed over */
#define FRAGMENTED_FREE_DIV 32            /* more than 1/32 of RAM free: the failure was fragmentation */
#define INIT_PID 1
#define KB_PER_PAGE (PAGE_SIZE / 1024)
#define BADNESS_NONE (-(long)(~0UL >> 1) - 1)   /* LONG_MIN: never chosen */

static struct spinlock oom_lock = SPINLOCK_INIT("oom");
static int victim_pid;                   /* killed, maybe not gone yet; 0: none */
static uint64_t victim_since_ns;

static uint64_t total_pages(void)
{
	struct page_stats st;
	page_get_stats(&st);
	return st.total;
}

static bool proc_dying(struct proc *p)
{
	return p->exiting || p->zombie || (p->shared_pending & (1UL << (SIGKILL - 1)));
}

bool oom_current_dying(void)
{
	struct thread *t = current;
	if (!t || !t->proc)
		return false;
	return t->killed || proc_dying(t->proc) || (t->sigpending & (1UL << (SIGKILL - 1)));
}

/* The mm of p (any live thread's), or NULL. proc_lock held. */
static struct mm *proc_mm_locked(struct proc *p)
{
	struct list_head *q;
	list_for_each(q, &p->threads) {
		struct thread *t = list_entry(q, struct thread, thread_node);
		if (t->mm)
			return t->mm;
	}
	return NULL;
}

/* Linux's oom_badness: BADNESS_NONE (LONG_MIN) for a process that must not be chosen. proc_lock held. */
static long badness_locked(struct proc *p, uint64_t totalpages, struct mm_usage *u)
{
	if (p->pid == INIT_PID || p->zombie || p->oom_score_adj <= OOM_SCORE_ADJ_MIN)
		return BADNESS_NONE;
	struct mm *mm = proc_mm_locked(p);
	if (!mm)
		return BADNESS_NONE;
	mm_get_usage(mm, u);
	long points = (long)(u->anon_rss + u->file_rss + u->shmem_rss + u->pgtables);
	return points + (long)p->oom_score_adj * (long)(totalpages / 1000);
}

static bool proc_alive(int pid)
{
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	bool alive = p && !p->zombie;
	spin_unlock(&proc_lock);
	return alive;
}

struct victim {
	int pid, adj;
	char comm[PROC_COMM_LEN];
	struct mm_usage u;
};

/* Choose and SIGKILL the process with the highest badness. oom_lock held. false: none. */
static bool kill_one_locked(struct victim *out)
{
	uint64_t totalpages = total_pages();
	long best = BADNESS_NONE;
	struct proc *chosen = NULL;
	struct mm_usage u;
	spin_lock(&proc_lock);
	for (struct proc *p = proc_next_locked(NULL); p; p = proc_next_locked(p)) {
		if (proc_dying(p))
			continue;               /* already on its way out: counted by the caller's wait */
		long points = badness_locked(p, totalpages, &u);
		if (points == BADNESS_NONE || points < best)
			continue;
		best = points;
		chosen = p;
		out->u = u;
	}
	if (chosen) {
		out->pid = chosen->pid;
		out->adj = chosen->oom_score_adj;
		memcpy(out->comm, chosen->comm, sizeof(out->comm));
		out->comm[sizeof(out->comm) - 1] = 0;
		signal_send_proc_locked(chosen, SIGKILL);
	}
	spin_unlock(&proc_lock);
	return chosen != NULL;
}

/* More than 1/FRAGMENTED_FREE_DIV of RAM free: a failed allocation was not a shortage. */
static bool plenty_free(void)
{
	struct page_stats ps;
	page_get_stats(&ps);
	return ps.free > ps.total / FRAGMENTED_FREE_DIV;
}

bool out_of_memory(const char *why)
{
	if (oom_current_dying())
		return false;
	kmalloc_shrink();                       /* the slabs' cached empty pages first */
	if (plenty_free()) {
		/* plenty free, but not as asked (a multi-page block, or pages in other CPUs' caches):
		 * killing would not help; let the caller try again a bounded number of times */
		msleep(OOM_POLL_MS);
		return !oom_current_dying();
	}
	struct victim v;
	bool killed = false;
	int pid;
	spin_lock(&oom_lock);
	uint64_t now = time_ns();
	if (victim_pid && proc_alive(victim_pid) && now - victim_since_ns < OOM_VICTIM_STUCK_MS * NSEC_PER_MSEC) {
		pid = victim_pid;               /* one is already on its way: wait for it */
	} else if (plenty_free()) {
		/* Memory came back since this caller found it short (an earlier victim finished dying
		 * meanwhile: the caller may have been descheduled between the two looks): retry, no
		 * kill. Linux's __alloc_pages_may_oom tries the allocation again under oom_lock for
		 * the same race; without this check a bystander died right after the aggressor. */
		pid = -1;
	} else if (kill_one_locked(&v)) {
		pid = victim_pid = v.pid;
		victim_since_ns = now;
		killed = true;
	} else {
		pid = victim_pid = 0;
	}
	spin_unlock(&oom_lock);
	struct thread *t = current;
	if (killed) {
		printk("%s invoked oom-killer (%s): order=0, oom_score_adj=%d\n", t->proc ? t->proc->comm : t->name,
		       why, t->proc ? t->proc->oom_score_adj : 0);
		printk("Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, file-rss:%llukB, "
		       "shmem-rss:%llukB, UID:0 pgtables:%llukB oom_score_adj:%d\n", v.pid, v.comm,
		       (unsigned long long)(v.u.total_vm * KB_PER_PAGE), (unsigned long long)(v.u.anon_rss * KB_PER_PAGE),
		       (unsigned long long)(v.u.file_rss * KB_PER_PAGE), (unsigned long long)(v.u.shmem_rss * KB_PER_PAGE),
		       (unsigned long long)(v.u.pgtables * KB_PER_PAGE), v.adj);
	}
	if (pid < 0)
		return !oom_current_dying();
	if (!pid) {
		printk("Out of memory and no killable process (%s, pid %d)\n", why, t->proc ? t->proc->pid : 0);
		return false;
	}
	for (int waited = 0; waited < OOM_WAIT_MS && proc_alive(pid); waited += OOM_POLL_MS) {
		if (oom_current_dying())
			return false;
		msleep(OOM_POLL_MS);
	}
	return !oom_current_dying();
}

/* ---- /proc/<pid>/oom_score, oom_score_adj ---- */

long oom_score(int pid)
{
	uint64_t totalpages = total_pages();
	struct mm_usage u;
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	long r = -ESRCH;
	if (p) {
		long b = badness_locked(p, totalpages, &u);
		r = b == BADNESS_NONE ? 0 : (1000 + b * 1000 / (long)totalpages) * 2 / 3;
		if (r < 0)
			r = 0;
	}
	spin_unlock(&proc_lock);
	return r;
}

long oom_score_adj_get(int pid)
{
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	long r = p ? p->oom_score_adj : -ESRCH;
	spin_unlock(&proc_lock);
	return r;
}

long oom_score_adj_set(int pid, long adj)
{
	if (adj < OOM_SCORE_ADJ_MIN || adj > OOM_SCORE_ADJ_MAX)
		return -EINVAL;
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	if (p)
		p->oom_score_adj = (int)adj;
	spin_unlock(&proc_lock);
	return p ? 0 : -ESRCH;
}
