/*
 * Resource limits, as Linux's kernel/sys.c do_prlimit keeps them.
 *
 * Theory. Every process has RLIM_NLIMITS (soft, hard) pairs in struct proc, copied at fork and
 * kept across exec. A soft limit may be anything up to the hard one; lowering the hard limit is
 * always allowed and raising it needs CAP_SYS_RESOURCE, which every Ember process has (everyone
 * is root), except that RLIMIT_NOFILE can never exceed nr_open (Linux's fs.nr_open, 1048576
 * unless root writes /proc/sys/fs/nr_open: EPERM); the fd table grows as fds are used
 * (fs/file.c). Linux's defaults for NOFILE are 1024 soft, 4096 hard (INR_OPEN_CUR,
 * INR_OPEN_MAX). prlimit64 reads and sets any process's limits (pid 0: the caller); the old
 * value it returns is the one before the change.
 *
 * Who enforces what (each reads the caller's soft limit with rlimit_cur):
 *   RLIMIT_NOFILE  fd allocation (fs/file.c: EMFILE; dup2/dup3 EBADF and F_DUPFD EINVAL beyond it)
 *   RLIMIT_FSIZE   regular-file writes and truncates (fs/inode.c: SIGXFSZ, then EFBIG or a short
 *                  write up to the limit)
 *   RLIMIT_AS      mmap and brk (mm/uvm.c: ENOMEM / brk unchanged when the address space would
 *                  exceed it)
 *   RLIMIT_DATA    brk and private writable mmaps (mm/uvm.c), as Linux's data_vm accounting
 *   RLIMIT_STACK   the main thread's stack at exec (kernel/exec.c), at most USER_STACK_MAX
 *   RLIMIT_CPU     rlimit_cpu_check on every return to user mode (kernel/proc.c), as Linux's
 *                  check_process_timers: once the process's CPU time (user + system, every
 *                  thread) reaches the soft limit, SIGXCPU and the soft limit goes up by a second
 *                  (so SIGXCPU comes again every CPU second); at the hard limit, SIGKILL
 *   RLIMIT_SIGPENDING  queued signal records (kernel/sigqueue.c: sigqueue's EAGAIN). The default
 *                  is Linux's fork_init one, max_threads / 2 with max_threads = RAM / (8 *
 *                  THREAD_SIZE) and riscv64's 16 KiB THREAD_SIZE: 2048 for 512 MiB of RAM
 * Accepted and reported but not enforced: CORE (Ember writes no core files), RSS, NPROC
 * (Linux exempts root, and everyone is root), MEMLOCK, LOCKS, MSGQUEUE, NICE, RTPRIO, RTTIME.
 *
 * Locks: proc_lock guards another process's limits; a process reads its own without it (a
 * word-sized read of a limit being changed sees the old or the new value).
 */
#include "kernel/rlimit.h"
#include "kernel/errno.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/timer.h"
#include "fs/fs.h"
#include "lib/string.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "mm/uaccess.h"

#define STACK_DEFAULT (8UL << 20)            /* _STK_LIM */
#define NOFILE_SOFT 1024                     /* INR_OPEN_CUR */
#define NOFILE_HARD 4096                     /* INR_OPEN_MAX */
#define MEMLOCK_DEFAULT (8UL << 20)          /* MLOCK_LIMIT */
#define MSGQUEUE_DEFAULT 819200              /* MQ_BYTES_MAX */
#define LINUX_THREAD_SIZE (16UL << 10)       /* riscv64's THREAD_SIZE */
#define MIN_THREADS 20                       /* Linux's floor for max_threads */

/* Linux's init_task RLIMIT_SIGPENDING: max_threads / 2, from the RAM size (computed once) */
static uint64_t sigpending_default(void)
{
	static uint64_t value;
	if (!READ_ONCE(value)) {
		struct page_stats st;
		page_get_stats(&st);
		uint64_t threads = st.total * PAGE_SIZE / (8 * LINUX_THREAD_SIZE);
		WRITE_ONCE(value, (threads < MIN_THREADS ? MIN_THREADS : threads) / 2);
	}
	return value;
}

void rlimit_init_defaults(struct k_rlimit *rlim)
{
	for (int i = 0; i < RLIM_NLIMITS; i++)
		rlim[i] = (struct k_rlimit){ RLIM_INFINITY, RLIM_INFINITY };
	rlim[RLIMIT_STACK].cur = STACK_DEFAULT;
	rlim[RLIMIT_CORE].cur = 0;
	rlim[RLIMIT_NOFILE] = (struct k_rlimit){ NOFILE_SOFT, NOFILE_HARD };
	rlim[RLIMIT_MEMLOCK] = (struct k_rlimit){ MEMLOCK_DEFAULT, MEMLOCK_DEFAULT };
	rlim[RLIMIT_MSGQUEUE] = (struct k_rlimit){ MSGQUEUE_DEFAULT, MSGQUEUE_DEFAULT };
	rlim[RLIMIT_NICE] = (struct k_rlimit){ 0, 0 };
	rlim[RLIMIT_RTPRIO] = (struct k_rlimit){ 0, 0 };
	uint64_t sigpending = sigpending_default();
	rlim[RLIMIT_SIGPENDING] = (struct k_rlimit){ sigpending, sigpending };
}

uint64_t rlimit_cur(int resource)
{
	struct thread *t = current;
	if (!t || !t->proc)
		return RLIM_INFINITY;
	return READ_ONCE(t->proc->rlim[resource].cur);
}

#define CPU_LIMIT_MAX_SEC (~0UL / NSEC_PER_SEC)   /* beyond it a limit never comes */

void rlimit_cpu_check(void)
{
	struct thread *t = current;
	struct proc *p = t->proc;
	if (!p || READ_ONCE(p->rlim[RLIMIT_CPU].cur) == RLIM_INFINITY)
		return;                               /* the usual case: nothing to add up */
	spin_lock(&proc_lock);
	uint64_t soft = p->rlim[RLIMIT_CPU].cur, hard = p->rlim[RLIMIT_CPU].max;
	uint64_t ns = p->utime_ns + p->stime_ns;
	struct list_head *q;
	list_for_each(q, &p->threads) {
		struct thread *o = list_entry(q, struct thread, thread_node);
		ns += o->utime_ns + o->stime_ns;
	}
	if (hard < CPU_LIMIT_MAX_SEC && ns >= hard * NSEC_PER_SEC) {
		signal_send_proc_locked(p, SIGKILL);
	} else if (soft < CPU_LIMIT_MAX_SEC && ns >= soft * NSEC_PER_SEC) {
		signal_send_proc_locked(p, SIGXCPU);
		p->rlim[RLIMIT_CPU].cur = soft + 1;    /* Linux: the next one a CPU second later */
	}
	spin_unlock(&proc_lock);
}

int rlimit_get_pid(int pid, struct k_rlimit *out)
{
	spin_lock(&proc_lock);
	struct proc *p = proc_find(pid);
	if (p)
		memcpy(out, p->rlim, sizeof(p->rlim));
	spin_unlock(&proc_lock);
	return p ? 0 : -ESRCH;
}

/* Reads (old) and sets (nl) one limit of pid (0: the caller). */
static long do_prlimit(int pid, unsigned resource, const struct k_rlimit *nl, struct k_rlimit *old)
{
	if (resource >= RLIM_NLIMITS)
		return -EINVAL;
	if (nl) {
		if (nl->cur > nl->max)
			return -EINVAL;
		if (resource == RLIMIT_NOFILE && nl->max > (uint64_t)NR_OPEN)
			return -EPERM;
	}
	spin_lock(&proc_lock);
	struct proc *p = pid == 0 ? current->proc : proc_find(pid);     /* negative: ESRCH */
	if (!p) {
		spin_unlock(&proc_lock);
		return -ESRCH;
	}
	if (old)
		*old = p->rlim[resource];
	if (nl) {
		/* raising the hard limit needs CAP_SYS_RESOURCE: every Ember process is root */
		WRITE_ONCE(p->rlim[resource].cur, nl->cur);
		WRITE_ONCE(p->rlim[resource].max, nl->max);
	}
	spin_unlock(&proc_lock);
	return 0;
}

/* The register arguments are taken whole and narrowed here, as Linux's int pid and unsigned int
 * resource: the upper 32 bits of a register are ignored (the syscall table passes raw registers,
 * which a C int parameter would trust to be sign-extended). */
long sys_prlimit64(unsigned long pid_reg, unsigned long resource_reg, uintptr_t new_limit, uintptr_t old_limit)
{
	int pid = (int)(uint32_t)pid_reg;
	unsigned resource = (uint32_t)resource_reg;
	struct k_rlimit nl, old;
	if (new_limit && copy_from_user(&nl, new_limit, sizeof(nl)) < 0)
		return -EFAULT;
	long r = do_prlimit(pid, resource, new_limit ? &nl : NULL, old_limit ? &old : NULL);
	if (!r && old_limit && copy_to_user(old_limit, &old, sizeof(old)) < 0)
		return -EFAULT;
	return r;
}

long sys_getrlimit(unsigned long resource_reg, uintptr_t rlim)
{
	unsigned resource = (uint32_t)resource_reg;
	struct k_rlimit old;
	long r = do_prlimit(0, resource, NULL, &old);
	if (!r && copy_to_user(rlim, &old, sizeof(old)) < 0)
		return -EFAULT;
	return r;
}

long sys_setrlimit(unsigned long resource_reg, uintptr_t rlim)
{
	unsigned resource = (uint32_t)resource_reg;
	struct k_rlimit nl;
	if (copy_from_user(&nl, rlim, sizeof(nl)) < 0)
		return -EFAULT;
	return do_prlimit(0, resource, &nl, NULL);
}
