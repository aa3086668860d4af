/*
 * The kernel's record of one pending signal instance (kernel/signal.c): the first 48 bytes of
 * Linux's siginfo_t (riscv64 generic layout), which is all any si_code's fields use. Standard
 * signals are not queued: one record per signal number per pending set (a thread's, a process's),
 * and a second send while the signal is pending keeps the first record (Linux's legacy_queue).
 * Real-time signals (SIGRTMIN 32 .. 64) are queued: each send adds one instance with its own
 * record to the set's FIFO (struct sigqueue, kernel/sigqueue.c), bounded by RLIMIT_SIGPENDING.
 */
#ifndef KERNEL_SIGINFO_H
#define KERNEL_SIGINFO_H
#include "kernel/types.h"

#define KSIG_MAX 64                   /* NSIG */
#define KSIG_RTMIN 32                 /* the kernel's SIGRTMIN (glibc keeps 32, 33 for itself) */

/* si_code values (include/uapi/asm-generic/siginfo.h) */
#define SI_USER 0
#define SI_KERNEL 0x80
#define SI_QUEUE (-1)
#define SI_TIMER (-2)
#define SI_TKILL (-6)
#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_DUMPED 3
#define CLD_TRAPPED 4
#define CLD_STOPPED 5
#define CLD_CONTINUED 6

struct ksiginfo {
	int32_t signo, errno_, code, pad;
	union {
		struct { int32_t pid, uid; uint64_t value; } kill;     /* SI_USER, SI_TKILL, SI_QUEUE */
		struct { int32_t pid, uid, status, pad; int64_t utime, stime; } chld;   /* clock ticks */
		struct { uintptr_t addr; } fault;
		uint64_t raw[4];
	};
};
_Static_assert(sizeof(struct ksiginfo) == 48, "the head of siginfo_t");

/* What a pending set (a thread's, a process's) keeps besides its bits and standard records: which
 * standard records count against RLIMIT_SIGPENDING, and the queued real-time instances in the
 * order they were sent. All zeros is empty. proc_lock. */
struct sigq_entry;
struct sigqueue {
	uint64_t counted;
	struct sigq_entry *head, *tail;
};

#endif
