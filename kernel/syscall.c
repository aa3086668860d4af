/*
 * The system-call table: Linux riscv64 numbers (asm-generic/unistd.h) to handlers. Unknown numbers
 * return -ENOSYS; a few calls whose effect Ember does not model (prctl names,
 * membarrier on a kernel that fences on every switch) answer as Linux would for a lone process.
 */
#include "kernel/syscall.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "ipc/futex/futex.h"
#include "kernel/itimer.h"
#include "kernel/pgrp.h"
#include "kernel/klog.h"
#include "fs/poll.h"
#include "kernel/proc.h"
#include "kernel/random.h"
#include "kernel/rlimit.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/systime.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"
#include "fs/fs.h"
#include "ipc/shm/shm.h"
#include "net/socket.h"
#include "net/flow_stats.h"
#include "arch/riscv/trap.h"

#define PR_SET_NAME 15
#define PR_GET_NAME 16

static long sys_sched_yield(void) { sched_yield(); return 0; }
static long sys_zero(void) { return 0; }                   /* getuid & co: everyone is root */
static long sys_enosys(void) { return -ENOSYS; }

static long sys_getcpu(uintptr_t ucpu, uintptr_t unode)
{
	unsigned cpu = (unsigned)cpu_id(), node = 0;
	if (ucpu && copy_to_user(ucpu, &cpu, sizeof(cpu)) < 0)
		return -EFAULT;
	if (unode && copy_to_user(unode, &node, sizeof(node)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_prctl(int option, unsigned long a2)
{
	struct proc *p = current->proc;
	if (option == PR_SET_NAME) {
		char name[PROC_COMM_LEN];
		long n = strncpy_from_user(name, a2, sizeof(name));
		if (n == -EFAULT)
			return -EFAULT;
		name[sizeof(name) - 1] = 0;
		for (size_t i = 0; i < sizeof(name); i++)
			p->comm[i] = name[i];
		return 0;
	}
	if (option == PR_GET_NAME)
		return copy_to_user(a2, p->comm, sizeof(p->comm)) < 0 ? -EFAULT : 0;
	return -EINVAL;
}

long sys_set_robust_list(uintptr_t head, size_t len)
{
	if (len != 3 * sizeof(uintptr_t))
		return -EINVAL;
	current->robust_list = head;
	current->robust_len = len;
	return 0;
}

long sys_get_robust_list(int pid, uintptr_t head_ptr, uintptr_t len_ptr)
{
	spin_lock(&proc_lock);
	struct thread *t = pid ? thread_find(pid) : current;
	uintptr_t head = t ? t->robust_list : 0;
	size_t len = t ? t->robust_len : 0;
	spin_unlock(&proc_lock);
	if (!t)
		return -ESRCH;
	if (copy_to_user(head_ptr, &head, sizeof(head)) < 0 || copy_to_user(len_ptr, &len, sizeof(len)) < 0)
		return -EFAULT;
	return 0;
}

#define S(nr, fn) [nr] = (syscall_fn)(void (*)(void))(fn)

static const syscall_fn table[SYSCALL_MAX] = {
	S(17, sys_getcwd), S(23, sys_dup), S(24, sys_dup3), S(25, sys_fcntl), S(29, sys_ioctl),
	S(34, sys_mkdirat), S(35, sys_unlinkat), S(36, sys_symlinkat), S(37, sys_linkat),
	S(43, sys_statfs), S(44, sys_fstatfs), S(45, sys_truncate), S(46, sys_ftruncate), S(48, sys_faccessat), S(49, sys_chdir), S(50, sys_fchdir),
	S(52, sys_fchmod), S(53, sys_fchmodat), S(56, sys_openat), S(57, sys_close), S(59, sys_pipe2), S(61, sys_getdents64),
	S(62, sys_lseek), S(63, sys_read), S(64, sys_write), S(65, sys_readv), S(66, sys_writev),
	S(67, sys_pread64), S(68, sys_pwrite64), S(71, sys_sendfile), S(78, sys_readlinkat), S(79, sys_newfstatat),
	S(80, sys_fstat), S(81, sys_sync), S(82, sys_fsync), S(83, sys_fdatasync), S(88, sys_utimensat),
	S(93, sys_exit), S(94, sys_exit_group), S(95, sys_waitid), S(96, sys_set_tid_address),
	S(98, sys_futex), S(99, sys_set_robust_list), S(100, sys_get_robust_list), S(101, sys_nanosleep), S(102, sys_getitimer), S(103, sys_setitimer),
	S(113, sys_clock_gettime), S(116, sys_syslog), S(114, sys_clock_getres), S(115, sys_clock_nanosleep),
	S(122, sys_sched_setaffinity), S(123, sys_sched_getaffinity), S(124, sys_sched_yield), S(128, sys_restart_syscall),
	S(129, sys_kill), S(130, sys_tkill), S(131, sys_tgkill), S(132, sys_sigaltstack),
	S(133, sys_rt_sigsuspend), S(134, sys_rt_sigaction), S(135, sys_rt_sigprocmask),
	S(136, sys_rt_sigpending), S(139, sys_rt_sigreturn), S(142, sys_reboot), S(153, sys_times), S(154, sys_setpgid),
	S(155, sys_getpgid), S(156, sys_getsid), S(157, sys_setsid), S(160, sys_uname),
	S(163, sys_getrlimit), S(164, sys_setrlimit), S(165, sys_getrusage), S(166, sys_umask), S(167, sys_prctl), S(168, sys_getcpu), S(169, sys_gettimeofday),
	S(172, sys_getpid), S(173, sys_getppid), S(174, sys_zero), S(175, sys_zero), S(176, sys_zero),
	S(177, sys_zero), S(178, sys_gettid), S(179, sys_sysinfo), S(194, sys_shmget), S(195, sys_shmctl), S(196, sys_shmat), S(197, sys_shmdt), S(214, sys_brk), S(215, sys_munmap),
	S(220, sys_clone), S(221, sys_execve_cmdline) /* fs/proc_pid.c */, S(222, sys_mmap), S(226, sys_mprotect), S(227, sys_msync),
	S(233, sys_madvise), S(260, sys_wait4), S(261, sys_prlimit64), S(276, sys_renameat2),
	S(278, sys_getrandom), S(283, sys_zero), S(291, sys_statx), S(293, sys_enosys),
	S(435, sys_clone3), S(439, sys_faccessat2),
	/* mounts, statfs, sync, copies: fs/mount.c, fs/sync.c, fs/copy.c */
	S(39, sys_umount2), S(40, sys_mount), S(47, sys_fallocate),
	S(267, sys_syncfs), S(285, sys_copy_file_range),
	/* readiness: fs/poll.c, fs/epoll.c */
	S(20, sys_epoll_create1), S(21, sys_epoll_ctl), S(22, sys_epoll_pwait), S(72, sys_pselect6),
	S(73, sys_ppoll), S(441, sys_epoll_pwait2),
	/* event files: fs/eventfd.c, fs/timerfd.c, fs/signalfd.c, fs/memfd.c */
	S(19, sys_eventfd2), S(74, sys_signalfd4), S(85, sys_timerfd_create), S(86, sys_timerfd_settime),
	S(87, sys_timerfd_gettime), S(279, sys_memfd_create),
	/* sockets: net/socket.c */
	S(198, sys_socket), S(199, sys_socketpair), S(200, sys_bind), S(201, sys_listen), S(202, sys_accept),
	S(203, sys_connect), S(204, sys_getsockname), S(205, sys_getpeername), S(206, sys_sendto),
	S(207, sys_recvfrom), S(208, sys_setsockopt), S(209, sys_getsockopt), S(210, sys_shutdown),
	S(211, sys_sendmsg), S(212, sys_recvmsg), S(242, sys_accept4), S(243, sys_recvmmsg), S(269, sys_sendmmsg),
	/* signals taken synchronously and queued with a siginfo: kernel/sigwait.c */
	S(137, sys_rt_sigtimedwait), S(138, sys_rt_sigqueueinfo), S(240, sys_rt_tgsigqueueinfo),
	S(SYS_ember_netstat, sys_ember_netstat),      /* Ember's own: include/uapi/ember/netstat.h */
};

long syscall_dispatch(struct trapframe *tf)
{
	unsigned long nr = tf->regs[17];
	if (nr >= SYSCALL_MAX || !table[nr])
		return -ENOSYS;
	return table[nr](tf->regs[10], tf->regs[11], tf->regs[12], tf->regs[13], tf->regs[14], tf->regs[15]);
}
