/*
 * Pending signals with their siginfo records, as Linux's struct sigpending keeps them.
 *
 * Theory. A pending set (a thread's, a process's) is a bit per signal, a record per standard
 * signal and a FIFO of real-time instances (struct sigqueue). Standard signals (1..31) are not
 * queued: a signal already pending keeps its first record (Linux's legacy_queue). Real-time
 * signals (32..64) are: every send adds an instance with its own record at the tail, and taking
 * one removes the oldest instance of that number; the bit stays while another instance is left.
 * So delivery goes by signal number (the caller picks the lowest bit) and then by sending order.
 *
 * RLIMIT_SIGPENDING bounds the records queued by a user (Linux's ucounts; every Ember process is
 * uid 0, so one count for all): every real-time instance counts, and so does a standard
 * signal's record. A sender that is over the receiver's soft limit:
 *   - a standard signal sent by the kernel or with a non-negative si_code (kill's SI_USER, a
 *     fault, SIGCHLD) is recorded anyway (Linux's override_rlimit);
 *   - any other standard one (sigqueue's SI_QUEUE, tgkill's SI_TKILL) becomes pending with its
 *     record lost: the taker sees si_code SI_USER and zeros, as Linux's collect_signal;
 *   - a real-time one sent by kill (SI_USER) the same; any other fails with EAGAIN.
 * Taking, discarding (an ignored action, SIGCONT/stop's discards) and a thread's or process's
 * exit give the counted records back.
 *
 * Locking: proc_lock, always; kmalloc does not sleep, so an instance is allocated under it.
 */
#include "kernel/sigqueue.h"
#include "kernel/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define SIGBIT(s) (1ULL << ((s) - 1))

struct sigq_entry {
	struct sigq_entry *next;
	struct ksiginfo info;
};

static long queued;                     /* the count against RLIMIT_SIGPENDING; proc_lock */

long sigqueue_count(void) { return READ_ONCE(queued); }

static void info_lost(struct ksiginfo *out, int sig)
{
	memset(out, 0, sizeof(*out));
	out->signo = sig;
	out->code = SI_USER;
}

int sigqueue_add_locked(struct sigset_ref s, const struct ksiginfo *info, uint64_t limit)
{
	int sig = info->signo;
	uint64_t bit = SIGBIT(sig);
	bool room = (uint64_t)queued < limit;
	if (sig < KSIG_RTMIN) {
		if (READ_ONCE(*s.bits) & bit)
			return 0;               /* not queued: the first record stays */
		if (room || info->code >= 0) {
			s.records[sig - 1] = *info;
			s.q->counted |= bit;
			queued++;
		} else {
			info_lost(&s.records[sig - 1], sig);
		}
	} else {
		struct sigq_entry *e = room ? kmalloc(sizeof(*e)) : NULL;
		if (e) {
			e->next = NULL;
			e->info = *info;
			if (s.q->tail)
				s.q->tail->next = e;
			else
				s.q->head = e;
			s.q->tail = e;
			queued++;
		} else if (info->code != SI_USER) {
			return -EAGAIN;
		}
	}
	__atomic_fetch_or(s.bits, bit, __ATOMIC_RELEASE);
	return 0;
}

void sigqueue_force_locked(struct sigset_ref s, const struct ksiginfo *info)
{
	int sig = info->signo;
	if (sig >= KSIG_RTMIN || !(READ_ONCE(*s.bits) & SIGBIT(sig))) {
		sigqueue_add_locked(s, info, ~0ULL);    /* faults are never refused */
		return;
	}
	s.records[sig - 1] = *info;
}

static void drop(struct sigq_entry *e)
{
	queued--;
	kfree(e);
}

bool sigqueue_take_locked(struct sigset_ref s, int sig, struct ksiginfo *out)
{
	uint64_t bit = SIGBIT(sig);
	if (!(READ_ONCE(*s.bits) & bit))
		return false;
	if (sig < KSIG_RTMIN) {
		__atomic_fetch_and(s.bits, ~bit, __ATOMIC_ACQ_REL);
		*out = s.records[sig - 1];
		if (s.q->counted & bit) {
			s.q->counted &= ~bit;
			queued--;
		}
		out->signo = sig;
		return true;
	}
	struct sigq_entry **pp = &s.q->head, *prev = NULL;
	while (*pp && (*pp)->info.signo != sig) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	struct sigq_entry *e = *pp;
	bool more = false;
	if (e) {
		*pp = e->next;
		if (s.q->tail == e)
			s.q->tail = prev;
		for (struct sigq_entry *o = e->next; o && !more; o = o->next)
			more = o->info.signo == sig;
		*out = e->info;
		drop(e);
	} else {
		info_lost(out, sig);            /* sent with the queue full (kill's SI_USER) */
	}
	if (!more)
		__atomic_fetch_and(s.bits, ~bit, __ATOMIC_ACQ_REL);
	out->signo = sig;
	return true;
}

void sigqueue_discard_locked(struct sigset_ref s, uint64_t mask)
{
	__atomic_fetch_and(s.bits, ~mask, __ATOMIC_ACQ_REL);
	for (uint64_t uncount = s.q->counted & mask; uncount; uncount &= uncount - 1)
		queued--;
	s.q->counted &= ~mask;
	struct sigq_entry **pp = &s.q->head, *prev = NULL;
	while (*pp) {
		struct sigq_entry *e = *pp;
		if (mask & SIGBIT(e->info.signo)) {
			*pp = e->next;
			drop(e);
		} else {
			prev = e;
			pp = &e->next;
		}
	}
	s.q->tail = prev;
}
