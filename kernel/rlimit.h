/* Resource limits (kernel/rlimit.c): getrlimit, setrlimit, prlimit64 and the checks that enforce
 * them elsewhere (fds in fs/file.c, file size in fs/inode.c, memory in mm/uvm.c, the stack in
 * kernel/exec.c). */
#ifndef KERNEL_RLIMIT_H
#define KERNEL_RLIMIT_H
#include "kernel/types.h"

#define RLIMIT_CPU 0
#define RLIMIT_FSIZE 1
#define RLIMIT_DATA 2
#define RLIMIT_STACK 3
#define RLIMIT_CORE 4
#define RLIMIT_RSS 5
#define RLIMIT_NPROC 6
#define RLIMIT_NOFILE 7
#define RLIMIT_MEMLOCK 8
#define RLIMIT_AS 9
#define RLIMIT_LOCKS 10
#define RLIMIT_SIGPENDING 11
#define RLIMIT_MSGQUEUE 12
#define RLIMIT_NICE 13
#define RLIMIT_RTPRIO 14
#define RLIMIT_RTTIME 15
#define RLIM_INFINITY (~0UL)

struct k_rlimit;
/* Linux's boot-time limits (init_task), for the first process */
void rlimit_init_defaults(struct k_rlimit *rlim);
/* RLIMIT_CPU: on the way back to user mode, SIGXCPU past the soft limit, SIGKILL at the hard one */
void rlimit_cpu_check(void);
/* the current process's soft limit (RLIM_INFINITY for kernel threads) */
uint64_t rlimit_cur(int resource);
/* a copy of pid's limits (all RLIM_NLIMITS): 0 or -ESRCH */
int rlimit_get_pid(int pid, struct k_rlimit *out);

long sys_getrlimit(unsigned long resource, uintptr_t rlim);
long sys_setrlimit(unsigned long resource, uintptr_t rlim);
long sys_prlimit64(unsigned long pid, unsigned long resource, uintptr_t new_limit, uintptr_t old_limit);
#endif
