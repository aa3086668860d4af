/*
 * signalfd4(fd, mask, sizemask, flags): a file from which the calling thread reads its pending
 * signals of the mask (normally blocked ones) as struct signalfd_siginfo records instead of
 * having them delivered. Each read takes at least one (waiting for it unless O_NONBLOCK) and as
 * many as fit, lowest number first, the thread's own pending set before the process's. Each
 * record carries the fields of the signal's siginfo (kernel/signal.c keeps one per pending
 * signal) that Linux's signalfd_copyinfo copies for its si_code: ssi_pid/ssi_uid for kill, tkill
 * and sigqueue (with ssi_int/ssi_ptr), ssi_status/ssi_utime/ssi_stime for SIGCHLD, ssi_addr for
 * faults. signalfd4 on an existing signalfd replaces its mask.
 *
 * Readiness (poll, epoll) is judged for the thread that looks, as on Linux. Every signal sent
 * wakes the one signalfd wait queue (signalfd_notify, called by kernel/signal.c's senders in any
 * context, proc_lock possibly held: the queue lock nests inside it).
 */
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/siginfo.h"
#include "kernel/signal.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"

#define SFD_FLAGS (O_NONBLOCK | O_CLOEXEC)
#define SIGSET_SIZE 8
#define SIGBIT_K(s) (1ULL << ((s) - 1))
#define SIG_UNBLOCKABLE (SIGBIT_K(SIGKILL) | SIGBIT_K(SIGSTOP))

struct signalfd_siginfo_k {
	uint32_t signo;
	int32_t errno_, code;
	uint32_t pid, uid;
	int32_t fd;
	uint32_t tid, band, overrun, trapno;
	int32_t status, int_;
	uint64_t ptr, utime, stime, addr;
	uint16_t addr_lsb, pad2;
	int32_t syscall;
	uint64_t call_addr;
	uint32_t arch;
	uint8_t pad[28];
};
_Static_assert(sizeof(struct signalfd_siginfo_k) == 128, "struct signalfd_siginfo is 128 bytes");

struct signalfd {
	uint64_t mask;                       /* atomic: replaced by signalfd4 */
};

static struct waitq signalfd_wq = WAITQ_INIT(signalfd_wq, "signalfd");
static const struct file_ops signalfd_ops;

void signalfd_notify(void)
{
	if (waitq_active(&signalfd_wq))
		wake_all(&signalfd_wq);
}

static uint64_t pending_of(struct thread *t, uint64_t mask)
{
	return (READ_ONCE(t->sigpending) | READ_ONCE(t->proc->shared_pending)) & mask;
}

static bool is_fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

/* The record as Linux's signalfd_copyinfo lays it out for the si_code's siginfo layout. */
static void to_ssi(const struct ksiginfo *k, struct signalfd_siginfo_k *si)
{
	memset(si, 0, sizeof(*si));
	si->signo = (uint32_t)k->signo;
	si->errno_ = k->errno_;
	si->code = k->code;
	if (k->code > SI_USER && k->code < SI_KERNEL && k->signo == SIGCHLD) {
		si->pid = (uint32_t)k->chld.pid;
		si->uid = (uint32_t)k->chld.uid;
		si->status = k->chld.status;
		si->utime = (uint64_t)k->chld.utime;
		si->stime = (uint64_t)k->chld.stime;
	} else if (k->code > SI_USER && k->code < SI_KERNEL && is_fault_signal(k->signo)) {
		si->addr = k->fault.addr;
	} else if (k->code == SI_USER || k->code == SI_KERNEL) {
		si->pid = (uint32_t)k->kill.pid;
		si->uid = (uint32_t)k->kill.uid;
	} else if (k->code < 0) {              /* SI_QUEUE, SI_TKILL, ...: the rt layout */
		si->pid = (uint32_t)k->kill.pid;
		si->uid = (uint32_t)k->kill.uid;
		si->ptr = k->kill.value;
		si->int_ = (int32_t)k->kill.value;
	}
}

static long signalfd_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos __unused)
{
	struct signalfd *sfd = f->priv;
	size_t max = n / sizeof(struct signalfd_siginfo_k);
	if (!max)
		return -EINVAL;
	struct wait_entry e = { .queued = false };
	size_t got = 0;
	int r = 0;
	for (;;) {
		prepare_to_wait(&signalfd_wq, &e);
		struct ksiginfo k;
		while (got < max && signal_dequeue(READ_ONCE(sfd->mask), &k)) {
			struct signalfd_siginfo_k si;
			to_ssi(&k, &si);
			if (copy_to_user(ubuf + got * sizeof(si), &si, sizeof(si))) {
				r = -EFAULT;
				break;
			}
			got++;
		}
		if (got || r)
			break;
		if (READ_ONCE(f->f_flags) & O_NONBLOCK) {
			r = -EAGAIN;
			break;
		}
		if (signal_pending()) {
			r = -ERESTARTSYS;
			break;
		}
		wait_schedule(TIMER_NONE);
	}
	finish_wait(&signalfd_wq, &e);
	return got ? (long)(got * sizeof(struct signalfd_siginfo_k)) : r;
}

static unsigned signalfd_poll(struct file *f)
{
	struct signalfd *sfd = f->priv;
	if (!current->proc)
		return 0;
	return pending_of(current, READ_ONCE(sfd->mask)) ? EPOLLIN | EPOLLRDNORM : 0;
}

static struct waitq *signalfd_waitq(struct file *f __unused) { return &signalfd_wq; }

static void signalfd_release(struct file *f) { kfree(f->priv); }

static const struct file_ops signalfd_ops = {
	.read = signalfd_read,
	.poll = signalfd_poll,
	.waitq = signalfd_waitq,
	.release = signalfd_release,
};

long sys_signalfd4(int fd, uintptr_t umask, size_t sizemask, int flags)
{
	uint64_t mask;
	if (sizemask != SIGSET_SIZE || (flags & ~SFD_FLAGS))
		return -EINVAL;
	if (copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	mask &= ~SIG_UNBLOCKABLE;
	if (fd != -1) {
		struct file *f = fd_get(fd);
		if (!f)
			return -EBADF;
		if (f->ops != &signalfd_ops) {
			file_put(f);
			return -EINVAL;
		}
		__atomic_store_n(&((struct signalfd *)f->priv)->mask, mask, __ATOMIC_RELEASE);
		file_put(f);
		signalfd_notify();                  /* watchers look again with the new mask */
		return fd;
	}
	struct signalfd *sfd = kzalloc(sizeof(*sfd));
	if (!sfd)
		return -ENOMEM;
	sfd->mask = mask;
	struct file *f = anon_file_new(0600, &signalfd_ops, O_RDWR | (flags & O_NONBLOCK), sfd);
	if (!f) {
		kfree(sfd);
		return -ENFILE;
	}
	int nfd = fd_install(current->files, f, flags & O_CLOEXEC);
	if (nfd < 0)
		file_put(f);
	return nfd;
}
