/*
 * sysfuzz: a typed system-call fuzzer (issue 17 item 2). The same static riscv64 binary runs under
 * qemu-riscv64-static (the host's Linux answers) and inside Ember.
 *
 * Theory. A parent process makes no random calls: it forks W workers, watches them and prints a
 * heartbeat line every second. Each worker is a deterministic program of its seed: it builds
 * resources (fds of every kind: regular files, directories, pipes, TCP listeners and connected
 * pairs, UDP sockets, AF_UNIX stream and datagram pairs, epoll sets, /dev and /proc nodes; memory
 * mappings in a private window; futex words; helper threads that wait on them; a forked child),
 * then makes calls from a table that knows each argument's type (an fd of a kind, a buffer and its
 * length, a flag set, a pid, a futex word, a sockaddr, an iovec array, a signal mask ...). Results
 * feed back: an fd a call returns joins the worker's fd table, an mmap result joins its mapping
 * pool. With probability 1/8 an argument is hostile instead: NULL, unmapped and kernel pointers
 * (0xffffffc000000000 ...), a pointer straddling a guard page, huge sizes, negative numbers,
 * flag soups.
 *
 * Containment: what a worker must never do. Workers run in their own process group; signals go
 * only to the worker itself, its threads, its child, its group or to pids no process has (never
 * kill(-1), never the parent). No reboot, mount, sethostname, clock setting, ptrace, rt_sigreturn,
 * execve of anything real, no mknod of devices, no set-type socket ioctls (0x89xx). Paths of
 * mutating calls are relative to the worker's own directory under the work directory (the host's
 * files are safe under qemu-user as root); absolute paths only to /dev/null, /dev/zero,
 * /dev/urandom and /proc read-only files. Buffers live in an arena followed by a PROT_NONE guard,
 * so a huge length never overwrites the worker's own state; memory-management calls with a valid
 * address stay inside the worker's window. Sockets talk only to 127.0.0.1 and the worker's own
 * ports. SIGALRM (an interval timer every 50 ms, no SA_RESTART, blocked in the helper threads)
 * interrupts any call that blocks, so a worker stuck in one call for STUCK_S seconds is a finding
 * (a kernel sleep that ignores signals), not a fuzzer artefact: signal masks and SIGALRM's action
 * are never handed to the kernel with SIGALRM blocked or changed. System V shared memory: at most
 * SHM_MAX_SEGS segments of at most SHM_MAX_BYTES per worker, removed at once (-S 0 leaves shmget
 * out): memory exhaustion is another issue's business (issue 17 item 3).
 *
 * Deaths. A worker killed by a signal it sent itself (kill/tkill/tgkill recorded in shared memory
 * before the call), by SIGPIPE right after a write-type call, or by the parent's SIGKILL is
 * explained. Any other death (SIGSEGV, SIGBUS, an exit status other than 0) is UNEXPLAINED and
 * printed with the worker's last RING_N calls from the shared-memory ring.
 *
 * Watchdog. Every second: "sysfuzz: hb t=N calls=... alive=... deaths=... unexplained=... stuck=...".
 * A worker whose call counter has not moved for STUCK_S seconds is STUCK: its last calls (the
 * current one marked "...") are printed, then it is killed; one that survives SIGKILL for
 * UNKILLABLE_S seconds is UNKILLABLE. The host (scripts/fuzz.py) reads the console: panic text =
 * kernel panic; no heartbeat and no ping answer = kernel hang; heartbeat but STUCK = user hang.
 *
 * Usage: sysfuzz [-s SEED] [-t SECONDS] [-w WORKERS] [-d WORKDIR] [-S SHM_SEGS] [-r WSEED -n CALLS]
 * -r replays one worker seed for CALLS calls (a corpus reproducer) and prints its calls as it goes.
 * The last line is "sysfuzz: result PASS|FAIL ..."; the exit status is 0 for PASS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define RING_N 32               /* calls kept per worker for the post-mortem */
#define STUCK_S 10              /* no progress for this long: a stuck worker */
#define UNKILLABLE_S 10
#define ALARM_US 50000          /* SIGALRM period: interrupts blocking calls */
#define ARENA_BYTES (256 * 1024)
#define WINDOW_BYTES (16u << 20) /* the worker's mapping window */
#define MAX_FDS 64
#define MAX_MAPS 16
#define MAX_PIDS 8
#define SHM_MAX_SEGS 4
#define SHM_MAX_BYTES (64 * 1024)
#define FILE_CAP (4u << 20)     /* valid offsets and lengths for files stay below this */
#define NCALLS_PER_GEN 20000    /* a worker is replaced by a fresh one after this many calls */
#define PORT_BASE 20000

/* ---------------- shared memory: what the parent sees of each worker ---------------- */
struct callrec {
	uint64_t seq;
	int64_t nr;
	uint64_t a[6];
	int64_t ret;            /* RET_RUNNING while the call is in the kernel */
};
#define RET_RUNNING ((int64_t)0x7eadbeefcafe0000LL)

struct wslot {
	volatile int pid;
	volatile uint64_t seed;
	volatile uint64_t calls;
	volatile uint64_t selfsig;      /* bit s-1: the worker sent signal s to itself or its group */
	volatile int lastnr;
	volatile uint64_t fault_pc, fault_addr, fault_ra;  /* a fatal fault's pc and address (0: none) */
	volatile int fault_sig;
	struct callrec ring[RING_N];
};
struct shared {
	struct wslot w[MAX_WORKERS];
};
static struct shared *sh;

/* ---------------- the random source (xorshift64*; splitmix64 for seeds) ---------------- */
static uint64_t rs;
static uint64_t rnd(void)
{
	rs ^= rs >> 12; rs ^= rs << 25; rs ^= rs >> 27;
	return rs * 2685821657736338717ULL;
}
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
static int chance(int n) { return below(n) == 0; }
#define PICK(arr) ((arr)[below(sizeof(arr) / sizeof((arr)[0]))])

/* ---------------- argument types ---------------- */
enum at {
	A_NONE, A_INT, A_U64, A_FD, A_FD_FILE, A_FD_SOCK, A_FD_EPOLL, A_DIRFD, A_BUF, A_LEN, A_OUT,
	A_PATH, A_PATH_RO, A_FLAGS, A_OFF, A_PID, A_KPID, A_SIG, A_ADDR, A_MMLEN, A_PROT, A_FUTEX,
	A_TS, A_SOCKADDR, A_SOCKLEN, A_IOV, A_IOVCNT, A_MSGHDR, A_MMSG, A_SIGSET, A_SIGSETSZ,
	A_EPEV, A_POLLFD, A_NFDS, A_SIGACT, A_ITIMER, A_WHICH, A_FDSET, A_LEVEL, A_OPTNAME, A_IOCTL,
	A_FCNTL, A_CLOCK, A_SHMID, A_MODE, A_TV, A_PRCTL, A_FAMILY, A_STYPE, A_RES, A_PGID, A_CPUSET,
};

/* flag sets: valid bits of each family; a soup is a random subset, sometimes random bits */
enum fs { F_NONE, F_OPEN, F_AT, F_PIPE, F_SOCKMSG, F_MMAP, F_MREMAP, F_MADV, F_EPCTL, F_EPCREATE,
	F_FUTEXOP, F_WAIT, F_CLONE, F_SHUT, F_RENAME, F_SOCKF, F_ACCEPT, F_POLL, F_SHMAT, F_SHMGET,
	F_FALLOC, F_SEEK, F_STATX, F_GETRANDOM, F_SHMCTL, F_EFD, F_TFD, F_MEMFD, F_MSYNC, F_NFS };
static const uint64_t flagsets[F_NFS][12] = {
	[F_OPEN] = { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK, O_DIRECTORY,
		     O_NOFOLLOW, O_CLOEXEC, O_PATH },
	[F_AT] = { AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH, AT_EACCESS },
	[F_PIPE] = { O_CLOEXEC, O_NONBLOCK, O_DIRECT },
	[F_SOCKMSG] = { MSG_DONTWAIT, MSG_PEEK, MSG_OOB, MSG_WAITALL, MSG_TRUNC, MSG_NOSIGNAL, MSG_MORE,
			MSG_CMSG_CLOEXEC, MSG_WAITFORONE, MSG_ERRQUEUE },
	[F_MMAP] = { MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED, MAP_POPULATE, MAP_NORESERVE,
		     MAP_GROWSDOWN, MAP_FIXED_NOREPLACE, MAP_STACK, MAP_HUGETLB },
	[F_MREMAP] = { MREMAP_MAYMOVE, MREMAP_FIXED, 4 /* MREMAP_DONTUNMAP */ },
	[F_MADV] = { MADV_NORMAL, MADV_RANDOM, MADV_DONTNEED, MADV_WILLNEED, MADV_FREE, MADV_DONTFORK,
		     MADV_DOFORK, MADV_SEQUENTIAL },
	[F_EPCTL] = { EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLET, EPOLLONESHOT, EPOLLRDHUP, EPOLLPRI,
		      EPOLLEXCLUSIVE, EPOLLWAKEUP },
	[F_EPCREATE] = { EPOLL_CLOEXEC },
	[F_FUTEXOP] = { FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME },
	[F_WAIT] = { WNOHANG, WUNTRACED, WCONTINUED, WEXITED, WSTOPPED, WNOWAIT, __WALL, __WCLONE },
	[F_SHUT] = { 0, 1, 2 },
	[F_RENAME] = { RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT },
	[F_SOCKF] = { SOCK_NONBLOCK, SOCK_CLOEXEC },
	[F_ACCEPT] = { SOCK_NONBLOCK, SOCK_CLOEXEC },
	[F_POLL] = { POLLIN, POLLOUT, POLLPRI, POLLERR, POLLHUP, POLLNVAL, POLLRDHUP, POLLRDNORM, POLLWRBAND },
	[F_SHMAT] = { SHM_RDONLY, SHM_RND, SHM_REMAP, SHM_EXEC },
	[F_SHMGET] = { IPC_CREAT, IPC_EXCL, 0600, 0400, 0200 },
	[F_FALLOC] = { 1 /* KEEP_SIZE */, 2 /* PUNCH_HOLE */, 0x10 /* ZERO_RANGE */, 8 /* COLLAPSE */ },
	[F_SEEK] = { SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE },
	[F_STATX] = { AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, 0x2000 /* FORCE_SYNC */, 0x4000 /* DONT_SYNC */ },
	[F_GETRANDOM] = { 1, 2, 4 },
	[F_SHMCTL] = { IPC_STAT, IPC_SET, 13 /* SHM_STAT */, 3 /* IPC_INFO */, 14 /* SHM_INFO */, 11, 12 },
	[F_EFD] = { 1 /* SEMAPHORE */, O_NONBLOCK, O_CLOEXEC },
	[F_TFD] = { O_NONBLOCK, O_CLOEXEC, 1 /* TFD_TIMER_ABSTIME */ },
	[F_MEMFD] = { 1, 2, 4 },
	[F_MSYNC] = { MS_ASYNC, MS_SYNC, MS_INVALIDATE },
};

struct sc {
	int nr;
	const char *name;
	uint8_t arg[6];
	uint8_t flags[6];       /* the flag set of each A_FLAGS argument */
	uint8_t weight;
	uint8_t ret;            /* what a success returns */
};
enum { R_NONE, R_FD, R_FD2_IN_ARG, R_MAP, R_PID };

#define ARGS(...) { __VA_ARGS__ }
/* The table. Syscalls that are left out on purpose: see the header comment. */
static const struct sc table[] = {
	{ 17, "getcwd", ARGS(A_OUT, A_LEN), {0}, 1, 0 },
	{ 19, "eventfd2", ARGS(A_INT, A_FLAGS), {0, F_EFD}, 2, R_FD },
	{ 20, "epoll_create1", ARGS(A_FLAGS), {F_EPCREATE}, 2, R_FD },
	{ 21, "epoll_ctl", ARGS(A_FD_EPOLL, A_INT, A_FD, A_EPEV), {0}, 8, 0 },
	{ 22, "epoll_pwait", ARGS(A_FD_EPOLL, A_OUT, A_INT, A_INT, A_SIGSET, A_SIGSETSZ), {0}, 4, 0 },
	{ 23, "dup", ARGS(A_FD), {0}, 2, R_FD },
	{ 24, "dup3", ARGS(A_FD, A_FD, A_FLAGS), {0, 0, F_PIPE}, 2, R_FD },
	{ 25, "fcntl", ARGS(A_FD, A_FCNTL, A_U64), {0}, 6, R_NONE },
	{ 29, "ioctl", ARGS(A_FD, A_IOCTL, A_OUT), {0}, 6, 0 },
	{ 34, "mkdirat", ARGS(A_DIRFD, A_PATH, A_MODE), {0}, 2, 0 },
	{ 35, "unlinkat", ARGS(A_DIRFD, A_PATH, A_FLAGS), {0, 0, F_AT}, 2, 0 },
	{ 36, "symlinkat", ARGS(A_PATH, A_DIRFD, A_PATH), {0}, 1, 0 },
	{ 37, "linkat", ARGS(A_DIRFD, A_PATH, A_DIRFD, A_PATH, A_FLAGS), {0, 0, 0, 0, F_AT}, 1, 0 },
	{ 43, "statfs", ARGS(A_PATH_RO, A_OUT), {0}, 1, 0 },
	{ 44, "fstatfs", ARGS(A_FD, A_OUT), {0}, 1, 0 },
	{ 45, "truncate", ARGS(A_PATH, A_OFF), {0}, 1, 0 },
	{ 46, "ftruncate", ARGS(A_FD, A_OFF), {0}, 2, 0 },
	{ 47, "fallocate", ARGS(A_FD_FILE, A_FLAGS, A_OFF, A_OFF), {0, F_FALLOC}, 2, 0 },
	{ 48, "faccessat", ARGS(A_DIRFD, A_PATH_RO, A_INT, A_FLAGS), {0, 0, 0, F_AT}, 1, 0 },
	{ 49, "chdir", ARGS(A_PATH), {0}, 0, 0 },   /* weight 0: leaves the worker's directory */
	{ 50, "fchdir", ARGS(A_FD), {0}, 0, 0 },
	{ 52, "fchmod", ARGS(A_FD_FILE, A_MODE), {0}, 1, 0 },
	{ 53, "fchmodat", ARGS(A_DIRFD, A_PATH, A_MODE, A_FLAGS), {0, 0, 0, F_AT}, 1, 0 },
	{ 56, "openat", ARGS(A_DIRFD, A_PATH_RO, A_FLAGS, A_MODE), {0, 0, F_OPEN}, 8, R_FD },
	{ 57, "close", ARGS(A_FD), {0}, 3, 0 },
	{ 59, "pipe2", ARGS(A_OUT, A_FLAGS), {0, F_PIPE}, 2, R_FD2_IN_ARG },
	{ 61, "getdents64", ARGS(A_FD, A_OUT, A_LEN), {0}, 2, 0 },
	{ 62, "lseek", ARGS(A_FD, A_OFF, A_FLAGS), {0, 0, F_SEEK}, 3, 0 },
	{ 63, "read", ARGS(A_FD, A_OUT, A_LEN), {0}, 10, 0 },
	{ 64, "write", ARGS(A_FD, A_BUF, A_LEN), {0}, 10, 0 },
	{ 65, "readv", ARGS(A_FD, A_IOV, A_IOVCNT), {0}, 4, 0 },
	{ 66, "writev", ARGS(A_FD, A_IOV, A_IOVCNT), {0}, 4, 0 },
	{ 67, "pread64", ARGS(A_FD, A_OUT, A_LEN, A_OFF), {0}, 3, 0 },
	{ 68, "pwrite64", ARGS(A_FD, A_BUF, A_LEN, A_OFF), {0}, 3, 0 },
	{ 71, "sendfile", ARGS(A_FD, A_FD, A_OUT, A_LEN), {0}, 3, 0 },
	{ 72, "pselect6", ARGS(A_NFDS, A_FDSET, A_FDSET, A_FDSET, A_TS, A_SIGSET), {0}, 3, 0 },
	{ 73, "ppoll", ARGS(A_POLLFD, A_NFDS, A_TS, A_SIGSET, A_SIGSETSZ), {0}, 4, 0 },
	{ 76, "splice", ARGS(A_FD, A_OUT, A_FD, A_OUT, A_LEN, A_INT), {0}, 2, 0 },
	{ 77, "tee", ARGS(A_FD, A_FD, A_LEN, A_INT), {0}, 1, 0 },
	{ 78, "readlinkat", ARGS(A_DIRFD, A_PATH_RO, A_OUT, A_LEN), {0}, 1, 0 },
	{ 79, "newfstatat", ARGS(A_DIRFD, A_PATH_RO, A_OUT, A_FLAGS), {0, 0, 0, F_AT}, 2, 0 },
	{ 80, "fstat", ARGS(A_FD, A_OUT), {0}, 3, 0 },
	{ 82, "fsync", ARGS(A_FD), {0}, 1, 0 },
	{ 83, "fdatasync", ARGS(A_FD), {0}, 1, 0 },
	{ 85, "timerfd_create", ARGS(A_CLOCK, A_FLAGS), {0, F_TFD}, 2, R_FD },
	{ 86, "timerfd_settime", ARGS(A_FD, A_FLAGS, A_ITIMER, A_OUT), {0, F_TFD}, 2, 0 },
	{ 87, "timerfd_gettime", ARGS(A_FD, A_OUT), {0}, 1, 0 },
	{ 88, "utimensat", ARGS(A_DIRFD, A_PATH, A_TS, A_FLAGS), {0, 0, 0, F_AT}, 1, 0 },
	{ 95, "waitid", ARGS(A_INT, A_PID, A_OUT, A_FLAGS, A_OUT), {0, 0, 0, F_WAIT}, 2, 0 },
	{ 96, "set_tid_address", ARGS(A_FUTEX), {0}, 0, 0 },
	{ 98, "futex", ARGS(A_FUTEX, A_FLAGS, A_INT, A_TS, A_FUTEX, A_INT), {0, F_FUTEXOP}, 8, 0 },
	{ 99, "set_robust_list", ARGS(A_OUT, A_LEN), {0}, 1, 0 },
	{ 100, "get_robust_list", ARGS(A_KPID, A_OUT, A_OUT), {0}, 1, 0 },
	{ 101, "nanosleep", ARGS(A_TS, A_OUT), {0}, 1, 0 },
	{ 102, "getitimer", ARGS(A_WHICH, A_OUT), {0}, 1, 0 },
	{ 103, "setitimer", ARGS(A_WHICH, A_ITIMER, A_OUT), {0}, 1, 0 },
	{ 113, "clock_gettime", ARGS(A_CLOCK, A_OUT), {0}, 2, 0 },
	{ 114, "clock_getres", ARGS(A_CLOCK, A_OUT), {0}, 1, 0 },
	{ 115, "clock_nanosleep", ARGS(A_CLOCK, A_INT, A_TS, A_OUT), {0}, 1, 0 },
	{ 122, "sched_setaffinity", ARGS(A_KPID, A_LEN, A_CPUSET), {0}, 1, 0 },
	{ 123, "sched_getaffinity", ARGS(A_KPID, A_LEN, A_OUT), {0}, 1, 0 },
	{ 124, "sched_yield", ARGS(A_NONE), {0}, 1, 0 },
	{ 129, "kill", ARGS(A_KPID, A_SIG), {0}, 2, 0 },
	{ 130, "tkill", ARGS(A_KPID, A_SIG), {0}, 1, 0 },
	{ 131, "tgkill", ARGS(A_KPID, A_KPID, A_SIG), {0}, 1, 0 },
	{ 132, "sigaltstack", ARGS(A_SIGACT, A_OUT), {0}, 1, 0 },
	{ 133, "rt_sigsuspend", ARGS(A_SIGSET, A_SIGSETSZ), {0}, 1, 0 },
	{ 134, "rt_sigaction", ARGS(A_SIG, A_SIGACT, A_OUT, A_SIGSETSZ), {0}, 2, 0 },
	{ 135, "rt_sigprocmask", ARGS(A_INT, A_SIGSET, A_OUT, A_SIGSETSZ), {0}, 2, 0 },
	{ 136, "rt_sigpending", ARGS(A_OUT, A_SIGSETSZ), {0}, 1, 0 },
	{ 153, "times", ARGS(A_OUT), {0}, 1, 0 },
	{ 154, "setpgid", ARGS(A_KPID, A_PGID), {0}, 1, 0 },
	{ 155, "getpgid", ARGS(A_PID), {0}, 1, 0 },
	{ 156, "getsid", ARGS(A_PID), {0}, 1, 0 },
	{ 160, "uname", ARGS(A_OUT), {0}, 1, 0 },
	{ 163, "getrlimit", ARGS(A_RES, A_OUT), {0}, 1, 0 },
	{ 165, "getrusage", ARGS(A_INT, A_OUT), {0}, 1, 0 },
	{ 166, "umask", ARGS(A_MODE), {0}, 1, 0 },
	{ 167, "prctl", ARGS(A_PRCTL, A_U64, A_U64, A_U64, A_U64), {0}, 2, 0 },
	{ 168, "getcpu", ARGS(A_OUT, A_OUT, A_OUT), {0}, 1, 0 },
	{ 169, "gettimeofday", ARGS(A_OUT, A_OUT), {0}, 1, 0 },
	{ 172, "getpid", ARGS(A_NONE), {0}, 1, 0 },
	{ 173, "getppid", ARGS(A_NONE), {0}, 1, 0 },
	{ 178, "gettid", ARGS(A_NONE), {0}, 1, 0 },
	{ 179, "sysinfo", ARGS(A_OUT), {0}, 1, 0 },
	{ 194, "shmget", ARGS(A_INT, A_LEN, A_FLAGS), {0, 0, F_SHMGET}, 2, 0 },
	{ 195, "shmctl", ARGS(A_SHMID, A_FLAGS, A_OUT), {0, F_SHMCTL}, 2, 0 },
	{ 196, "shmat", ARGS(A_SHMID, A_ADDR, A_FLAGS), {0, 0, F_SHMAT}, 2, 0 },
	{ 197, "shmdt", ARGS(A_ADDR), {0}, 1, 0 },
	{ 198, "socket", ARGS(A_FAMILY, A_STYPE, A_INT), {0}, 4, R_FD },
	{ 199, "socketpair", ARGS(A_FAMILY, A_STYPE, A_INT, A_OUT), {0}, 2, R_FD2_IN_ARG },
	{ 200, "bind", ARGS(A_FD_SOCK, A_SOCKADDR, A_SOCKLEN), {0}, 4, 0 },
	{ 201, "listen", ARGS(A_FD_SOCK, A_INT), {0}, 3, 0 },
	{ 202, "accept", ARGS(A_FD_SOCK, A_OUT, A_OUT), {0}, 2, R_FD },
	{ 203, "connect", ARGS(A_FD_SOCK, A_SOCKADDR, A_SOCKLEN), {0}, 4, 0 },
	{ 204, "getsockname", ARGS(A_FD_SOCK, A_OUT, A_OUT), {0}, 2, 0 },
	{ 205, "getpeername", ARGS(A_FD_SOCK, A_OUT, A_OUT), {0}, 2, 0 },
	{ 206, "sendto", ARGS(A_FD_SOCK, A_BUF, A_LEN, A_FLAGS, A_SOCKADDR, A_SOCKLEN), {0, 0, 0, F_SOCKMSG}, 6, 0 },
	{ 207, "recvfrom", ARGS(A_FD_SOCK, A_OUT, A_LEN, A_FLAGS, A_OUT, A_OUT), {0, 0, 0, F_SOCKMSG}, 6, 0 },
	{ 208, "setsockopt", ARGS(A_FD_SOCK, A_LEVEL, A_OPTNAME, A_BUF, A_LEN), {0}, 6, 0 },
	{ 209, "getsockopt", ARGS(A_FD_SOCK, A_LEVEL, A_OPTNAME, A_OUT, A_OUT), {0}, 4, 0 },
	{ 210, "shutdown", ARGS(A_FD_SOCK, A_FLAGS), {0, F_SHUT}, 2, 0 },
	{ 211, "sendmsg", ARGS(A_FD_SOCK, A_MSGHDR, A_FLAGS), {0, 0, F_SOCKMSG}, 5, 0 },
	{ 212, "recvmsg", ARGS(A_FD_SOCK, A_MSGHDR, A_FLAGS), {0, 0, F_SOCKMSG}, 5, 0 },
	{ 214, "brk", ARGS(A_ADDR), {0}, 1, 0 },
	{ 215, "munmap", ARGS(A_ADDR, A_MMLEN), {0}, 3, 0 },
	{ 216, "mremap", ARGS(A_ADDR, A_MMLEN, A_MMLEN, A_FLAGS, A_ADDR), {0, 0, 0, F_MREMAP}, 2, R_MAP },
	{ 220, "clone", ARGS(A_NONE), {0}, 1, R_PID },    /* fork-like only: see do_call */
	{ 221, "execve", ARGS(A_PATH, A_OUT, A_OUT), {0}, 1, 0 },  /* hostile paths only: see gen */
	{ 222, "mmap", ARGS(A_ADDR, A_MMLEN, A_PROT, A_FLAGS, A_FD, A_OFF), {0, 0, 0, F_MMAP}, 5, R_MAP },
	{ 223, "fadvise64", ARGS(A_FD, A_OFF, A_OFF, A_INT), {0}, 1, 0 },
	{ 226, "mprotect", ARGS(A_ADDR, A_MMLEN, A_PROT), {0}, 3, 0 },
	{ 227, "msync", ARGS(A_ADDR, A_MMLEN, A_FLAGS), {0, 0, F_MSYNC}, 1, 0 },
	{ 232, "mincore", ARGS(A_ADDR, A_MMLEN, A_OUT), {0}, 1, 0 },
	{ 233, "madvise", ARGS(A_ADDR, A_MMLEN, A_FLAGS), {0, 0, F_MADV}, 2, 0 },
	{ 242, "accept4", ARGS(A_FD_SOCK, A_OUT, A_OUT, A_FLAGS), {0, 0, 0, F_ACCEPT}, 2, R_FD },
	{ 243, "recvmmsg", ARGS(A_FD_SOCK, A_MMSG, A_IOVCNT, A_FLAGS, A_TS), {0, 0, 0, F_SOCKMSG}, 2, 0 },
	{ 260, "wait4", ARGS(A_PID, A_OUT, A_FLAGS, A_OUT), {0, 0, F_WAIT}, 2, 0 },
	{ 261, "prlimit64", ARGS(A_KPID, A_RES, A_NONE, A_OUT), {0}, 1, 0 },
	{ 267, "syncfs", ARGS(A_FD), {0}, 1, 0 },
	{ 269, "sendmmsg", ARGS(A_FD_SOCK, A_MMSG, A_IOVCNT, A_FLAGS), {0, 0, 0, F_SOCKMSG}, 2, 0 },
	{ 276, "renameat2", ARGS(A_DIRFD, A_PATH, A_DIRFD, A_PATH, A_FLAGS), {0, 0, 0, 0, F_RENAME}, 2, 0 },
	{ 278, "getrandom", ARGS(A_OUT, A_LEN, A_FLAGS), {0, 0, F_GETRANDOM}, 1, 0 },
	{ 279, "memfd_create", ARGS(A_PATH, A_FLAGS), {0, F_MEMFD}, 1, R_FD },
	{ 285, "copy_file_range", ARGS(A_FD, A_OUT, A_FD, A_OUT, A_LEN, A_INT), {0}, 2, 0 },
	{ 291, "statx", ARGS(A_DIRFD, A_PATH_RO, A_FLAGS, A_U64, A_OUT), {0, 0, F_STATX}, 2, 0 },
	{ 434, "pidfd_open", ARGS(A_KPID, A_INT), {0}, 1, R_FD },
	{ 435, "clone3", ARGS(A_OUT, A_LEN), {0}, 1, 0 },   /* hostile only: see gen */
	{ 439, "faccessat2", ARGS(A_DIRFD, A_PATH_RO, A_INT, A_FLAGS), {0, 0, 0, F_AT}, 1, 0 },
	{ 441, "epoll_pwait2", ARGS(A_FD_EPOLL, A_OUT, A_INT, A_TS, A_SIGSET, A_SIGSETSZ), {0}, 2, 0 },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

/* ---------------- the worker's state ---------------- */
enum fdkind { K_FILE, K_DIR, K_PIPE, K_SOCK, K_EPOLL, K_DEV, K_OTHER };
static struct { int fd; int kind; } fds[MAX_FDS];
static int nfds;
static struct { uint64_t addr, len; } maps[MAX_MAPS];
static int nmaps;
static int pids[MAX_PIDS], npids;     /* own pid, own tid, helper tids, child pid */
static int shmids[SHM_MAX_SEGS], nshm;
static int shm_segs = SHM_MAX_SEGS;
static int my_pid, slot_i;
static uint8_t *arena;                 /* ARENA_BYTES, a PROT_NONE page after it */
static uint64_t window;                /* WINDOW_BYTES of the worker's own mappings */
static uint32_t *futexes;              /* in the arena: shared with the helper threads */
static int verbose;
static FILE *logf;                     /* -v: the call log, on a high fd (the fd numbers stay the campaign's) */
static int in_ember;                   /* uname's release says ember: raw and packet sockets allowed */
static int ports[4];
static const char *const paths_rel[] = { "f0", "f1", "f2", "d0", "d0/f3", "d1", "s0", "sym0", "p0", "",
	".", "d0/../f0", "nonexistent/x", "f0/x" };
static const char *const paths_abs[] = { "/dev/null", "/dev/zero", "/dev/urandom", "/proc/self/stat",
	"/proc/meminfo", "/proc/self/maps", "/proc/self/status", "/proc/net/dev", "/proc", "/" };

static const uint64_t hostile_ptrs[] = { 0, 1, 0xffffffc000000000ULL, 0xffffffc080200000ULL,
	0xffffffffffffffffULL, 0xfffffffffffff000ULL, 0x4000000000ULL, 0x3ffffff000ULL, 0x8000000000000000ULL,
	0x80000000ULL, 0x1000, 0x3fffffffffULL, 0x7ffffffff000ULL };
static const uint64_t hostile_sizes[] = { 0, 1, 7, 4095, 4096, 4097, 65536, 1 << 20, 0x7fffffff,
	0x80000000ULL, 0xffffffffULL, 0xffffffffffffffffULL, 0xfffffffffffff000ULL, 1ULL << 40,
	0x8000000000000000ULL, 0x7fffffffffffffffULL };

static uint64_t hostile_ptr(void)
{
	switch (below(4)) {
	case 0: return (uint64_t)arena + ARENA_BYTES - below(16);     /* straddles the guard page */
	case 1: return (uint64_t)arena + ARENA_BYTES + below(4096);   /* inside the guard page */
	default: return PICK(hostile_ptrs);
	}
}
static uint64_t hostile_num(void)
{
	switch (below(4)) {
	case 0: return PICK(hostile_sizes);
	case 1: return (uint64_t)-(int64_t)below(4096);
	case 2: return rnd();
	default: return rnd() & 0xffffffff;
	}
}

/* arena allocation: a bump pointer reset before each call */
static size_t arena_used;
static uint8_t *aalloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (arena_used + n > ARENA_BYTES - 4096)   /* keep the last page for straddling buffers */
		arena_used = 0;
	uint8_t *p = arena + arena_used;
	arena_used += n;
	return p;
}

static void add_fd(int fd, int kind)
{
	if (fd < 0)
		return;
	if (nfds == MAX_FDS) {
		int i = below(MAX_FDS);
		close(fds[i].fd);
		fds[i] = fds[--nfds];
	}
	fds[nfds].fd = fd;
	fds[nfds].kind = kind;
	nfds++;
}
static int fd_of(int kind)
{
	if (chance(16))
		return (int)PICK(((const int[]){ -1, 1023, 4096, 0x7fffffff, -100, 200 }));
	if (!nfds)
		return -1;
	if (kind < 0)
		return fds[below(nfds)].fd;
	/* an fd of that kind, never another: fchmod or mkdirat on /dev/null or "/" would touch the
	 * host's files under qemu-user */
	int start = below(nfds);
	for (int k = 0; k < nfds; k++)
		if (fds[(start + k) % nfds].kind == kind)
			return fds[(start + k) % nfds].fd;
	return -1;
}

static uint64_t flags_of(int set)
{
	if (chance(8))
		return chance(2) ? rnd() & 0xffffffff : rnd();
	uint64_t f = 0;
	int n = 0;
	while (n < 12 && flagsets[set][n])
		n++;
	for (int i = 0; i < n; i++)
		if (chance(3))
			f |= flagsets[set][i];
	return f;
}

static uint64_t path_of(int ro)
{
	if (chance(12)) {
		if (chance(2)) {    /* a name longer than PATH_MAX, or one crossing into the guard page */
			uint8_t *p = chance(2) ? arena + ARENA_BYTES - 3 : aalloc(5000);
			size_t n = p == arena + ARENA_BYTES - 3 ? 3 : 4999;
			memset(p, 'a', n);
			if (n == 4999)
				p[n] = 0;
			return (uint64_t)p;
		}
		return hostile_ptr();
	}
	const char *s = ro && chance(3) ? PICK(paths_abs) : PICK(paths_rel);
	uint8_t *p = aalloc(strlen(s) + 1);
	memcpy(p, s, strlen(s) + 1);
	return (uint64_t)p;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd();
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* a pointer no read can go through (a readable "hostile" one could smuggle in any mask) */
static uint64_t unreadable_ptr(void)
{
	if (chance(3))
		return (uint64_t)arena + ARENA_BYTES + below(4096);     /* the guard page */
	return PICK(((const uint64_t[]){ 0xffffffc000000000ULL, 0xffffffc080200000ULL, 0xfffffffffffff000ULL,
					 0x4000000000ULL, 0x8000000000000000ULL, 0xffffffffffffffffULL }));
}

/* a signal mask that never blocks SIGALRM (the worker's way out of blocking calls) */
static uint64_t sigset_of(void)
{
	if (chance(6))
		return chance(2) ? 0 : unreadable_ptr();
	uint64_t m = chance(2) ? rnd() : 0;
	m &= ~(1ULL << (SIGALRM - 1));
	uint64_t *p = (uint64_t *)aalloc(16);
	p[0] = m;
	p[1] = rnd();
	return (uint64_t)p;
}

static const int sigs_safe[] = { 0, SIGUSR1, SIGUSR2, SIGCHLD, SIGCONT, SIGWINCH, SIGURG, SIGTERM,
	SIGINT, SIGHUP, SIGKILL, SIGSEGV, SIGPIPE, SIGALRM, 34, 40, 64, 65, -1, 1000 };
static const int sigs_mild[] = { 0, SIGUSR1, SIGUSR2, SIGCHLD, SIGCONT, SIGWINCH, SIGURG, SIGALRM, 65, -1, 1000 };
/* signals whose action the fuzzer may change (never SIGALRM, the faults, SIGIO, the itimers') */
static const int sigs_action[] = { SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGURG,
	SIGWINCH, SIGCONT, 34, 64, 0, 65, SIGKILL, SIGSTOP, -1 };

static void noop_handler(int s) { (void)s; }

static uint64_t sockaddr_of(size_t *len)
{
	uint8_t *p = aalloc(128);
	memset(p, 0, 128);
	switch (below(5)) {
	case 0: case 1: {
		struct sockaddr_in *a = (void *)p;
		a->sin_family = chance(10) ? below(50) : AF_INET;
		a->sin_port = htons(chance(4) ? 0 : ports[below(4)] + (chance(4) ? below(3) : 0));
		a->sin_addr.s_addr = htonl(PICK(((const uint32_t[]){ 0x7f000001, 0, 0x7f000001, 0x7f000002 })));
		*len = sizeof(*a);
		break;
	}
	case 2: {
		struct sockaddr_in6 *a = (void *)p;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(ports[below(4)]);
		if (chance(2))
			a->sin6_addr.s6_addr[15] = 1;   /* ::1 */
		*len = sizeof(*a);
		break;
	}
	case 3: {
		struct sockaddr_un *a = (void *)p;
		a->sun_family = AF_UNIX;
		const char *n = PICK(((const char *const[]){ "s0", "s1", "f0", "d0", "" }));
		if (chance(4)) {   /* abstract name */
			a->sun_path[0] = 0;
			snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "sysfuzz%d-%d", my_pid, (int)below(3));
		} else {
			strcpy(a->sun_path, n);
		}
		*len = chance(8) ? sizeof(*a) : offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1;
		break;
	}
	default:
		p[0] = below(50);
		p[1] = 0;
		*len = below(128);
	}
	return (uint64_t)p;
}

static uint64_t iov_of(int *cnt, int out)
{
	int n = below(5);
	struct iovec *v = (struct iovec *)aalloc(sizeof(*v) * (n + 1));
	for (int i = 0; i < n; i++) {
		size_t l = chance(6) ? hostile_num() : below(2048);
		v[i].iov_base = chance(10) ? (void *)hostile_ptr() : aalloc(l < 2048 ? l : 1);
		v[i].iov_len = l;
		if (!out)
			fill_random(v[i].iov_base >= (void *)arena && v[i].iov_base < (void *)(arena + ARENA_BYTES - 4096)
				    ? v[i].iov_base : aalloc(1), l < 2048 ? l : 1);
	}
	*cnt = chance(10) ? (int)hostile_num() : n;
	return (uint64_t)v;
}

static uint64_t msghdr_of(void)
{
	struct msghdr *m = (struct msghdr *)aalloc(sizeof(*m));
	memset(m, 0, sizeof(*m));
	int cnt;
	m->msg_iov = (struct iovec *)iov_of(&cnt, 0);
	m->msg_iovlen = cnt;
	if (chance(2)) {
		size_t l;
		m->msg_name = (void *)sockaddr_of(&l);
		m->msg_namelen = chance(8) ? hostile_num() : l;
	}
	if (chance(3)) {   /* control data: SCM_RIGHTS with our fds, or garbage */
		size_t cl = chance(2) ? CMSG_SPACE(sizeof(int) * 2) : below(64);
		uint8_t *c = aalloc(cl + 64);
		fill_random(c, cl);
		if (cl == CMSG_SPACE(sizeof(int) * 2)) {
			struct cmsghdr *h = (struct cmsghdr *)c;
			h->cmsg_len = chance(6) ? hostile_num() : CMSG_LEN(sizeof(int) * 2);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = chance(6) ? below(4) : SCM_RIGHTS;
			int f[2] = { fd_of(-1), fd_of(-1) };
			memcpy(CMSG_DATA(h), f, sizeof(f));
		}
		m->msg_control = chance(10) ? (void *)hostile_ptr() : c;
		m->msg_controllen = chance(8) ? hostile_num() : cl;
	}
	m->msg_flags = rnd();
	return (uint64_t)m;
}

static uint64_t ts_of(void)
{
	if (chance(5))
		return chance(2) ? 0 : hostile_ptr();
	struct timespec *t = (struct timespec *)aalloc(sizeof(*t) * 2);
	t[0].tv_sec = chance(8) ? (int64_t)hostile_num() : 0;
	t[0].tv_nsec = chance(8) ? (int64_t)hostile_num() : (int64_t)below(20000000);
	t[1] = t[0];
	return (uint64_t)t;
}

/* an address for memory-management calls: in the window, a pooled mapping, 0, or hostile */
static uint64_t cur_addr_lim;          /* how long a valid length for the last address may be */
static uint64_t addr_of(void)
{
	int r = below(8);
	if (r < 4) {
		uint64_t off = below(WINDOW_BYTES / 4096) * 4096 + (chance(10) ? below(4096) : 0);
		cur_addr_lim = WINDOW_BYTES - (off & ~4095ULL);
		return window + off;
	}
	if (r < 6 && nmaps) {
		int i = below(nmaps);
		cur_addr_lim = maps[i].len;
		return maps[i].addr;
	}
	if (r == 6) {          /* page 0: lengths stay below the lowest text address */
		cur_addr_lim = 0xf000;
		return 0;
	}
	cur_addr_lim = 0;      /* outside every user mapping: any length */
	return PICK(((const uint64_t[]){ 0xffffffc000000000ULL, 0xffffffc080200000ULL, 0xfffffffffffff000ULL,
					 0x4000000000ULL, 0x8000000000000000ULL, 0xffffffffffffffffULL }));
}
static uint64_t mmlen_of(void)
{
	if (!cur_addr_lim)     /* the address is 0 or hostile: any length, huge ones included */
		return chance(2) ? hostile_num() : below(1 << 20);
	uint64_t len = below(cur_addr_lim / 4096 + 1) * 4096 + (chance(10) ? below(4096) : 0);
	return len > cur_addr_lim ? cur_addr_lim : len;
}

static const uint64_t ioctls[] = { 0x541B /* FIONREAD */, 0x5421 /* FIONBIO */, 0x5451 /* FIOCLEX */,
	0x5450 /* FIONCLEX */, 0x5401 /* TCGETS */, 0x5413 /* TIOCGWINSZ */, 0x8912 /* SIOCGIFCONF */,
	0x8913 /* SIOCGIFFLAGS */, 0x8915 /* SIOCGIFADDR */, 0x8933 /* SIOCGIFINDEX */, 0x8905 /* SIOCATMARK */,
	0x5411 /* TIOCOUTQ */, 0x540F /* TIOCGPGRP */, 0x80086601 /* FS_IOC_GETFLAGS */, 0x5452 /* FIOASYNC */,
	0x8927 /* SIOCGIFHWADDR */, 0x8921 /* SIOCGIFMTU */ };
static const int levels[] = { SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_UDP, 0, 255, -1 };
static const int prctls[] = { 15 /* SET_NAME */, 16 /* GET_NAME */, 3 /* GET_DUMPABLE */, 4 /* SET_DUMPABLE */,
	1 /* SET_PDEATHSIG */, 2 /* GET_PDEATHSIG */, 36 /* SET_CHILD_SUBREAPER */, 37, 38 /* NO_NEW_PRIVS */,
	39, 0, 1000, 0x59616d61 };

static int gen_arg(const struct sc *c, int i, uint64_t *a, uint64_t *prevlen, int *iovcnt, size_t *salen)
{
	int t = c->arg[i];
	switch (t) {
	case A_NONE: return 0;
	case A_INT: *a = chance(6) ? hostile_num() : below(8); return 0;
	case A_U64: *a = chance(3) ? hostile_num() : below(64); return 0;
	case A_FD: *a = (uint64_t)(int64_t)fd_of(-1); return 0;
	case A_FD_FILE: *a = (uint64_t)(int64_t)fd_of(chance(4) ? K_DIR : K_FILE); return 0;
	case A_FD_SOCK: *a = (uint64_t)(int64_t)fd_of(K_SOCK); return 0;
	case A_FD_EPOLL: *a = (uint64_t)(int64_t)fd_of(K_EPOLL); return 0;
	case A_DIRFD: *a = chance(2) ? (uint64_t)(int64_t)AT_FDCWD : (uint64_t)(int64_t)fd_of(K_DIR); return 0;
	case A_BUF: case A_OUT: {
		if (chance(8)) { *a = hostile_ptr(); *prevlen = 4096; return 0; }
		size_t n = PICK(((const size_t[]){ 1, 8, 16, 64, 128, 512, 4096, 8192, 65536 }));
		if (n > 8192 && chance(2))
			n = 512;
		uint8_t *p = aalloc(n);
		if (t == A_BUF || chance(4))
			fill_random(p, n < 256 ? n : 256);
		*a = (uint64_t)p;
		*prevlen = (uint64_t)(arena + ARENA_BYTES - p);   /* up to the guard page */
		return 0;
	}
	case A_LEN:
		*a = chance(8) ? hostile_num() : below(*prevlen < 8192 ? *prevlen + 1 : 8193);
		return 0;
	case A_PATH:
		if (c->nr == 221) { *a = chance(2) ? hostile_ptr() : path_of(0); return 0; }
		*a = path_of(0); return 0;
	case A_PATH_RO: *a = path_of(1); return 0;
	case A_FLAGS: *a = flags_of(c->flags[i]); return 0;
	case A_OFF: *a = chance(6) ? hostile_num() : below(FILE_CAP); return 0;
	case A_PID: case A_KPID: {
		int r = below(10);
		if (r < 5 && npids) *a = (uint64_t)(int64_t)pids[below(npids)];
		else if (r == 5) *a = 0;
		else if (r == 6) *a = (uint64_t)(int64_t)-getpgid(0);
		else if (r == 7) *a = 0x7fffffff;
		else if (r == 8) *a = (uint64_t)(int64_t)-0x7fffffff;
		else *a = t == A_PID ? (uint64_t)-1 : (uint64_t)(int64_t)my_pid;  /* -1 only where harmless */
		return 0;
	}
	case A_PGID: *a = chance(2) ? 0 : (uint64_t)(int64_t)my_pid; return 0;
	case A_SIG:
		/* lethal signals rarely, so a worker lives long enough to chain calls */
		*a = (uint64_t)(int64_t)(c->nr == 134 ? PICK(sigs_action) : chance(8) ? PICK(sigs_safe) : PICK(sigs_mild));
		return 0;
	case A_ADDR: *a = addr_of(); return 0;
	case A_MMLEN: *a = mmlen_of(); return 0;
	case A_PROT: *a = chance(8) ? rnd() : below(8); return 0;
	case A_FUTEX:
		*a = chance(8) ? hostile_ptr() : (uint64_t)(futexes + below(8)) + (chance(16) ? 1 : 0);
		return 0;
	case A_TS: *a = ts_of(); return 0;
	case A_SOCKADDR: *a = chance(10) ? hostile_ptr() : sockaddr_of(salen); return 0;
	case A_SOCKLEN: *a = chance(8) ? hostile_num() : *salen; return 0;
	case A_IOV: *a = chance(10) ? hostile_ptr() : iov_of(iovcnt, c->nr == 65); return 0;
	case A_IOVCNT: *a = chance(10) ? hostile_num() : (uint64_t)(*iovcnt ? *iovcnt : (int)below(4)); return 0;
	case A_MSGHDR: *a = chance(10) ? hostile_ptr() : msghdr_of(); return 0;
	case A_MMSG: {
		int n = 1 + below(3);
		struct mmsghdr *m = (struct mmsghdr *)aalloc(sizeof(*m) * n);
		for (int k = 0; k < n; k++) {
			memcpy(&m[k].msg_hdr, (void *)msghdr_of(), sizeof(struct msghdr));
			m[k].msg_len = 0;
		}
		*iovcnt = n;
		*a = chance(10) ? hostile_ptr() : (uint64_t)m;
		return 0;
	}
	case A_SIGSET: *a = sigset_of(); return 0;
	case A_SIGSETSZ: *a = chance(8) ? hostile_num() : 8; return 0;
	case A_EPEV: {
		struct epoll_event *e = (struct epoll_event *)aalloc(sizeof(*e));
		e->events = flags_of(F_EPCTL);
		e->data.u64 = rnd();
		*a = chance(8) ? hostile_ptr() : (uint64_t)e;
		return 0;
	}
	case A_POLLFD: {
		int n = below(6);
		struct pollfd *p = (struct pollfd *)aalloc(sizeof(*p) * (n + 1));
		for (int k = 0; k < n; k++) {
			p[k].fd = fd_of(-1);
			p[k].events = flags_of(F_POLL);
			p[k].revents = rnd();
		}
		*iovcnt = n;
		*a = chance(10) ? hostile_ptr() : (uint64_t)p;
		return 0;
	}
	case A_NFDS:
		if (c->nr == 72) { *a = chance(8) ? hostile_num() : below(70); return 0; }
		*a = chance(10) ? hostile_num() : (uint64_t)*iovcnt;
		return 0;
	case A_FDSET: {
		uint64_t *s = (uint64_t *)aalloc(128);
		memset(s, 0, 128);
		for (int k = below(4); k > 0; k--) {
			int f = fd_of(-1);
			if (f >= 0 && f < 1024)
				s[f / 64] |= 1ULL << (f % 64);
		}
		*a = chance(4) ? 0 : chance(10) ? hostile_ptr() : (uint64_t)s;
		return 0;
	}
	case A_SIGACT: {   /* rt_sigaction's act, sigaltstack's ss */
		uint64_t *s = (uint64_t *)aalloc(32);
		if (c->nr == 132) {    /* an alternate stack inside the arena: a frame never lands elsewhere */
			s[0] = (uint64_t)aalloc(4096);       /* ss_sp */
			s[1] = chance(4) ? rnd() & 0xffffffff : PICK(((const uint64_t[]){ 0, 1, 2, 1U << 31 }));
			s[2] = below((uint64_t)arena + ARENA_BYTES - s[0] + 1);
		} else {
			s[0] = PICK(((const uint64_t[]){ (uint64_t)SIG_DFL, (uint64_t)SIG_IGN, (uint64_t)noop_handler }));
			s[1] = (chance(2) ? SA_RESTART : 0) | (chance(3) ? SA_SIGINFO : 0) | (chance(4) ? SA_NODEFER : 0) |
			       (chance(4) ? SA_RESETHAND : 0) | (chance(6) ? SA_ONSTACK : 0) | (chance(10) ? rnd() & 0xffff0000 : 0);
			s[2] = rnd() & ~(1ULL << (SIGALRM - 1));
		}
		/* never a readable "hostile" pointer: Ember's signal trampoline page (0x3ffffff000) read
		 * as a sigaction installs a garbage handler */
		*a = chance(3) ? 0 : chance(8) ? unreadable_ptr() : (uint64_t)s;
		return 0;
	}
	case A_ITIMER: {
		uint64_t *s = (uint64_t *)aalloc(32);
		for (int k = 0; k < 4; k++)
			s[k] = chance(6) ? hostile_num() : (k & 1) ? below(100000) : below(2);
		*a = chance(8) ? hostile_ptr() : (uint64_t)s;
		return 0;
	}
	case A_WHICH:      /* never ITIMER_REAL: the worker's own watchdog alarm */
		*a = chance(6) ? hostile_num() | 4 : 1 + below(2);
		if (*a == 0)
			*a = 1;
		return 0;
	case A_LEVEL: *a = (uint64_t)(int64_t)PICK(levels); return 0;
	case A_OPTNAME: *a = chance(6) ? hostile_num() : below(70); return 0;
	case A_IOCTL: *a = chance(4) ? (rnd() & 0xffffffff) | 0x10000 : PICK(ioctls); return 0;
	case A_FCNTL: *a = chance(8) ? hostile_num() : below(48); return 0;
	case A_CLOCK: *a = chance(6) ? hostile_num() : below(12); return 0;
	case A_SHMID: *a = nshm && !chance(4) ? (uint64_t)shmids[below(nshm)] : hostile_num(); return 0;
	case A_MODE: *a = chance(8) ? rnd() : below(01000); return 0;
	case A_PRCTL: *a = (uint64_t)PICK(prctls); return 0;
	case A_FAMILY: *a = chance(8) ? hostile_num() : PICK(((const int[]){ AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, AF_PACKET, 0 })); return 0;
	case A_STYPE: *a = chance(8) ? hostile_num() : PICK(((const int[]){ SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET })) | (chance(3) ? SOCK_NONBLOCK : 0) | (chance(3) ? SOCK_CLOEXEC : 0); return 0;
	case A_RES: *a = chance(6) ? hostile_num() : below(16); return 0;
	case A_CPUSET: {
		uint64_t *s = (uint64_t *)aalloc(128);
		fill_random((uint8_t *)s, 128);
		if (chance(2))
			s[0] |= 1;
		*a = chance(8) ? hostile_ptr() : (uint64_t)s;
		return 0;
	}
	}
	return -1;
}

/* ---------------- the worker ---------------- */
static void *helper(void *arg)
{
	uint32_t *w = arg;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		syscall(SYS_futex, w, FUTEX_WAIT, *w, &ts, NULL, 0);
		__atomic_fetch_add(w + 1, 1, __ATOMIC_RELAXED);
		syscall(SYS_futex, w + 1, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	return NULL;
}

static int tcp_listener(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001) };
	if (bind(s, (void *)&a, sizeof(a)) < 0 || listen(s, 8) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static void build_resources(void)
{
	static const char *const files[] = { "f0", "f1", "f2" };
	mkdir("d0", 0755);
	mkdir("d1", 0755);
	for (unsigned i = 0; i < 3; i++) {
		int fd = open(files[i], O_RDWR | O_CREAT, 0644);
		if (fd >= 0 && write(fd, "sysfuzz data\n", 13) < 0)
			fd = fd;
		add_fd(fd, K_FILE);
	}
	add_fd(open("d0/f3", O_RDWR | O_CREAT, 0600), K_FILE);
	symlink("f0", "sym0");
	add_fd(open(".", O_RDONLY | O_DIRECTORY), K_DIR);
	add_fd(open("d0", O_RDONLY | O_DIRECTORY), K_DIR);
	int p[2];
	for (int i = 0; i < 2; i++)
		if (pipe2(p, i ? O_NONBLOCK : 0) == 0) {
			add_fd(p[0], K_PIPE);
			add_fd(p[1], K_PIPE);
		}
	add_fd(open("/dev/null", O_RDWR), K_DEV);
	add_fd(open("/dev/zero", O_RDONLY), K_DEV);
	add_fd(open("/dev/urandom", O_RDONLY), K_DEV);
	add_fd(open("/proc/self/stat", O_RDONLY), K_OTHER);
	/* ports: distinct per worker process so parallel workers do not share listeners */
	for (int i = 0; i < 4; i++)
		ports[i] = PORT_BASE + (my_pid % 4000) * 4 + i;
	int l = tcp_listener(ports[0]);
	add_fd(l, K_SOCK);
	if (l >= 0) {     /* a connected pair through the listener */
		int c = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ports[0]), .sin_addr.s_addr = htonl(0x7f000001) };
		if (connect(c, (void *)&a, sizeof(a)) == 0) {
			add_fd(c, K_SOCK);
			add_fd(accept(l, NULL, NULL), K_SOCK);
		} else {
			close(c);
		}
	}
	add_fd(tcp_listener(ports[1]), K_SOCK);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = { .sin_family = AF_INET, .sin_port = htons(ports[2]), .sin_addr.s_addr = htonl(0x7f000001) };
	bind(u, (void *)&ua, sizeof(ua));
	add_fd(u, K_SOCK);
	add_fd(socket(AF_INET, SOCK_DGRAM, 0), K_SOCK);
	add_fd(socket(AF_INET6, SOCK_STREAM, 0), K_SOCK);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0) { add_fd(sp[0], K_SOCK); add_fd(sp[1], K_SOCK); }
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) == 0) { add_fd(sp[0], K_SOCK); add_fd(sp[1], K_SOCK); }
	int e = epoll_create1(0);
	if (e >= 0) {
		for (int i = 0; i < nfds && i < 12; i++) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u64 = i };
			epoll_ctl(e, EPOLL_CTL_ADD, fds[i].fd, &ev);
		}
		add_fd(e, K_EPOLL);
	}
	add_fd(epoll_create1(EPOLL_CLOEXEC), K_EPOLL);
	add_fd((int)syscall(19 /* eventfd2 */, 0, 0), K_OTHER);
	add_fd((int)syscall(85 /* timerfd_create */, CLOCK_MONOTONIC, 0), K_OTHER);
	/* mappings: a few in the window */
	for (int i = 0; i < 3; i++) {
		uint64_t len = (1 + i) * 4096 * 4;
		void *m = mmap((void *)(window + i * (1 << 20)), len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (m != MAP_FAILED) {
			maps[nmaps].addr = (uint64_t)m;
			maps[nmaps++].len = len;
		}
	}
	/* pids: self, a forked child that idles, helper threads */
	pids[npids++] = my_pid;
	pid_t ch = fork();
	if (ch == 0) {
		for (;;) {
			struct timespec ts = { 0, 100 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			if (getppid() != my_pid)
				_exit(0);
		}
	}
	if (ch > 0)
		pids[npids++] = ch;
	for (int i = 0; i < 2; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, helper, futexes + 2 * i) == 0)
			pids[npids++] = 0;   /* the tid is filled in below */
	}
	/* helper tids: read from /proc would be Linux-specific; gettid() in the helper is racy; use
	 * the worker's tid and pid only, plus the child (tkill targets are the worker's own) */
	npids = ch > 0 ? 2 : 1;
}

static const char *call_name(int64_t nr)
{
	for (unsigned i = 0; i < NTABLE; i++)
		if (table[i].nr == nr)
			return table[i].name;
	return "?";
}

static void print_rec(FILE *f, const char *pfx, const struct callrec *r)
{
	fprintf(f, "%s#%llu %s(%#llx, %#llx, %#llx, %#llx, %#llx, %#llx) = ", pfx, (unsigned long long)r->seq,
		call_name(r->nr), (unsigned long long)r->a[0], (unsigned long long)r->a[1], (unsigned long long)r->a[2],
		(unsigned long long)r->a[3], (unsigned long long)r->a[4], (unsigned long long)r->a[5]);
	if (r->ret == RET_RUNNING)
		fprintf(f, "... (in the kernel)\n");
	else
		fprintf(f, "%lld\n", (long long)r->ret);
}

static int is_write_call(int nr)
{
	return nr == 64 || nr == 66 || nr == 68 || nr == 71 || nr == 76 || nr == 77 || nr == 206 || nr == 211 ||
	       nr == 269 || nr == 285;
}

static void alarm_handler(int s) { (void)s; }

/* a fatal fault: note where for the parent's report, then die of it */
static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	struct wslot *w = &sh->w[slot_i];
	w->fault_sig = sig;
	w->fault_addr = (uint64_t)si->si_addr;
	w->fault_pc = ((ucontext_t *)uc)->uc_mcontext.__gregs[0];
	w->fault_ra = ((ucontext_t *)uc)->uc_mcontext.__gregs[1];
	signal(sig, SIG_DFL);
	raise(sig);
}

static void run_worker(int idx, uint64_t seed, uint64_t ncalls)
{
	struct wslot *w = &sh->w[idx];
	slot_i = idx;
	rs = seed | 1;
	my_pid = getpid();
	setpgid(0, 0);
	int nul = open("/dev/null", O_RDWR);
	/* no standard fds: an fd the fuzzer may chmod must never be the console or a host file */
	close(nul);
	if (verbose) {
		int lf = dup2(1, 999);
		logf = lf >= 0 ? fdopen(lf, "w") : NULL;
		if (logf)
			setvbuf(logf, NULL, _IOLBF, 0);
	}
	close(0);
	close(1);
	close(2);
	char dir[64];
	snprintf(dir, sizeof(dir), "w%d", my_pid);
	mkdir(dir, 0755);
	if (chdir(dir) < 0)
		_exit(3);
	arena = mmap(NULL, ARENA_BYTES + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED)
		_exit(3);
	mprotect(arena + ARENA_BYTES, 4096, PROT_NONE);
	futexes = (uint32_t *)(arena + ARENA_BYTES - 4096 - 64);  /* never handed out by aalloc */
	/* the window: reserved PROT_NONE, so nothing else lands in it */
	void *win = mmap(NULL, WINDOW_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (win == MAP_FAILED)
		_exit(3);
	window = (uint64_t)win;
	struct sigaction sa = { .sa_handler = alarm_handler };
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = noop_handler;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGIO, &sa, NULL);
	sigaction(SIGVTALRM, &sa, NULL);
	sigaction(SIGPROF, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	static uint8_t altstack[16384];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	sigaltstack(&ss, NULL);
	struct sigaction fa = { .sa_sigaction = fault_handler, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND };
	sigaction(SIGSEGV, &fa, NULL);
	sigaction(SIGBUS, &fa, NULL);
	sigaction(SIGILL, &fa, NULL);
	sigaction(SIGFPE, &fa, NULL);
	build_resources();
	struct itimerval it = { { 0, ALARM_US }, { 0, ALARM_US } };
	setitimer(ITIMER_REAL, &it, NULL);

	/* the weighted table */
	static uint16_t pick[2048];
	int npick = 0;
	for (unsigned i = 0; i < NTABLE; i++) {
		int wgt = table[i].weight;
		if (table[i].nr == 194 && shm_segs == 0)
			wgt = 0;
		for (int k = 0; k < wgt && npick < 2048; k++)
			pick[npick++] = i;
	}
	for (uint64_t n = 0; n < ncalls; n++) {
		const struct sc *c = &table[pick[below(npick)]];
		uint64_t a[6] = { 0 }, prevlen = 0;
		int iovcnt = 0;
		size_t salen = 16;
		arena_used = 0;
		for (int i = 0; i < 6; i++)
			gen_arg(c, i, &a[i], &prevlen, &iovcnt, &salen);
		/* containment fixes for particular calls */
		switch (c->nr) {
		case 36: a[0] = path_of(0); break;                  /* symlink targets: relative names */
		case 72: if (a[5] >= (uint64_t)arena && a[5] < (uint64_t)arena + ARENA_BYTES - 4096) {
				uint64_t *sp = (uint64_t *)aalloc(16);   /* { const sigset_t *ss; size_t ss_len } */
				sp[0] = sigset_of();
				sp[1] = chance(8) ? hostile_num() : 8;
				a[5] = (uint64_t)sp;
			}
			break;
		case 220: a[0] = SIGCHLD | (chance(4) ? (rnd() & (CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)) : 0);
			a[1] = 0; a[2] = a[3] = a[4] = (uint64_t)(futexes + 7); break;
		case 435: a[0] = chance(2) ? hostile_ptr() : (uint64_t)aalloc(128); a[1] = chance(2) ? below(128) : hostile_num();
			if (a[0] >= (uint64_t)arena && a[0] < (uint64_t)arena + ARENA_BYTES - 4096) {
				fill_random((uint8_t *)a[0], 128);
				((uint64_t *)a[0])[0] |= 0x00010000; /* CLONE_THREAD without CLONE_SIGHAND|VM: EINVAL */
				((uint64_t *)a[0])[0] &= ~(uint64_t)(CLONE_VM | CLONE_SIGHAND);
			}
			break;
		case 221: if (a[0] >= (uint64_t)arena && a[0] < (uint64_t)arena + ARENA_BYTES - 4096)
				strcpy((char *)a[0], "nonexistent/x");
			break;
		case 29: if (((a[1] & 0xff00) == 0x8900 && (a[1] & 0xffff) != a[1]) || ((a[1] & 0xffff0000) == 0 && (a[1] & 0xff00) == 0x8900 &&
			      a[1] != 0x8912 && a[1] != 0x8913 && a[1] != 0x8915 && a[1] != 0x8933 && a[1] != 0x8905 && a[1] != 0x8927 && a[1] != 0x8921))
				a[1] = 0x541B;   /* never a set-type socket ioctl */
			break;
		case 25: if (a[1] == F_SETOWN || a[1] == 15 /* F_SETOWN_EX */ || a[1] == F_SETSIG)
				a[2] = chance(2) ? (uint64_t)my_pid : 0;
			if (a[1] == F_SETSIG) a[2] = SIGUSR1;
			if (a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC) a[2] &= 0xff;
			break;
		case 167: if (a[0] == 1) a[1] = SIGUSR1;    /* PDEATHSIG: a harmless one */
			break;
		case 194: /* IPC_PRIVATE always creates (IPC_CREAT or not): small segments, few of them;
			   * beyond the quota only sizes no kernel can grant (1 TiB and up) */
			a[0] = 0;
			if (nshm >= shm_segs)
				a[1] = (1ULL << 40) | hostile_num();
			else if (a[1] > SHM_MAX_BYTES && a[1] < (1ULL << 40))
				a[1] = SHM_MAX_BYTES;
			break;
		case 195: if (a[1] == IPC_SET) a[2] = chance(2) ? hostile_ptr() : 0; break;
		case 47: if (!(a[1] & 2) && a[3] > FILE_CAP && a[3] < (1ULL << 62)) a[3] = FILE_CAP; break;
		case 46: case 45: if (a[1] > (1ULL << 40) && a[1] < (1ULL << 62)) a[1] = 1ULL << 40; break;
		case 122: if (a[0] != 0 && a[0] != (uint64_t)my_pid) a[0] = 0x7fffffff; break;
		case 154: if (a[0] != 0 && a[0] != (uint64_t)my_pid) a[0] = 0x7fffffff; break;
		case 222: if (a[1] > WINDOW_BYTES && a[1] < (1ULL << 40)) a[1] = WINDOW_BYTES;
			if ((a[3] & MAP_FIXED) && cur_addr_lim == 0 && a[0] != 0 && a[0] < 0x4000000000ULL)
				a[3] &= ~(uint64_t)MAP_FIXED;
			break;
		case 216: /* mremap's new address: the window or hostile; new size bounded */
			if (a[2] > WINDOW_BYTES && a[2] < (1ULL << 40)) a[2] = WINDOW_BYTES;
			if ((a[3] & 2) && a[4] && a[4] < 0x4000000000ULL && (a[4] < window || a[4] + a[2] > window + WINDOW_BYTES))
				a[4] = window;
			if (!(a[3] & 2) && a[0] >= window && a[0] < window + WINDOW_BYTES && a[0] + a[2] > window + WINDOW_BYTES)
				a[2] = window + WINDOW_BYTES - (a[0] & ~4095ULL);
			break;
		case 214: if (a[0] && a[0] < 0x4000000000ULL) a[0] = 0; break;  /* brk: query, or hostile high */
		case 196: if (a[1] && a[1] < 0x4000000000ULL && (a[1] < window || a[1] + SHM_MAX_BYTES > window + WINDOW_BYTES))
				a[1] = 0;
			break;
		case 197: if (a[0] && a[0] < 0x4000000000ULL && (a[0] < window || a[0] >= window + WINDOW_BYTES)) a[0] = window; break;
		case 226: case 215: case 233: case 227:
			/* a pooled mapping outside the window with the window's length limit: clip */
			break;
		case 198: case 199:   /* on the host's Linux (qemu-user, maybe root): no raw, packet or netlink sockets */
			if (!in_ember && (a[0] == AF_PACKET || a[0] == AF_NETLINK || (a[1] & 0xf) == SOCK_RAW ||
					  (a[1] & 0xf) == SOCK_PACKET || a[0] > 0xffff))
				a[0] = AF_UNIX;
			if (!in_ember && a[0] != AF_INET && a[0] != AF_INET6 && a[0] != AF_UNIX)
				a[0] = AF_INET6;
			if (!in_ember && ((a[1] & 0xf) == SOCK_RAW || (a[1] & 0xf) == SOCK_PACKET))
				a[1] = SOCK_DGRAM;
			break;
		case 129: case 130: case 131: {
			int sig = (int)a[c->nr == 131 ? 2 : 1];
			if (sig > 0 && sig <= 64)
				w->selfsig |= 1ULL << (sig - 1);
			if (c->nr == 131) a[0] = (uint64_t)my_pid;
			break;
		}
		}
		struct callrec *r = &w->ring[w->calls % RING_N];
		r->seq = w->calls;
		r->nr = c->nr;
		memcpy(r->a, a, sizeof(a));
		__atomic_store_n(&r->ret, RET_RUNNING, __ATOMIC_RELEASE);
		w->lastnr = c->nr;
		long ret = syscall(c->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (ret < 0)
			ret = -errno;
		if (c->nr == 220 && ret == 0 && getpid() != my_pid)
			_exit(0);
		__atomic_store_n(&r->ret, ret, __ATOMIC_RELEASE);
		if (ret == -EPIPE)     /* a SIGPIPE may now be pending (blocked, delivered later) */
			w->selfsig |= 1ULL << (SIGPIPE - 1);
		__atomic_store_n(&w->calls, w->calls + 1, __ATOMIC_RELEASE);
		if (logf)
			print_rec(logf, "", r);
		if (ret >= 0) {
			switch (c->ret) {
			case R_FD:
				add_fd((int)ret, c->nr == 198 ? K_SOCK : c->nr == 20 ? K_EPOLL : c->nr == 242 || c->nr == 202 ? K_SOCK :
				       c->nr == 56 && a[1] >= (uint64_t)arena && a[1] < (uint64_t)arena + ARENA_BYTES &&
				       *(char *)a[1] != '/' && (int64_t)a[0] == AT_FDCWD ? K_FILE : K_OTHER);
				break;
			case R_FD2_IN_ARG: {
				int two[2] = { -1, -1 };
				uint64_t p = a[c->nr == 59 ? 0 : 3];
				if (p >= (uint64_t)arena && p + sizeof(two) <= (uint64_t)arena + ARENA_BYTES)
					memcpy(two, (void *)p, sizeof(two));
				add_fd(two[0], c->nr == 59 ? K_PIPE : K_SOCK);
				add_fd(two[1], c->nr == 59 ? K_PIPE : K_SOCK);
				break;
			}
			case R_MAP:
				if (nmaps < MAX_MAPS && (uint64_t)ret < 0x4000000000ULL) {
					maps[nmaps].addr = ret;
					maps[nmaps++].len = c->nr == 222 ? a[1] : a[2];
				}
				break;
			case R_PID:
				if (ret > 0 && npids < MAX_PIDS)
					pids[npids++] = (int)ret;
				break;
			}
			if (c->nr == 194 && nshm < SHM_MAX_SEGS) {
				shmids[nshm++] = (int)ret;
				syscall(195, ret, IPC_RMID, 0);    /* gone when the last detach happens */
			}
		}
		(void)is_write_call;
	}
	_exit(0);
}

/* ---------------- the parent ---------------- */
static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

struct wstate {
	int pid;
	uint64_t seed, gen;
	uint64_t last_calls, last_progress_ms;
	uint64_t killed_ms;       /* when the watchdog sent SIGKILL (0: not yet) */
	int stuck_reported;
	int exited, status;
};

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st; (void)f;
	return type == FTW_DP ? rmdir(path) : unlink(path), 0;
}

/* In Ember, a stuck worker's kernel side: every thread's kernel backtrace and every CPU's
 * (/proc/sysrq-trigger 't', 'l' and 'Q', kernel/sysrq.c), printed on the console after the ring.
 * Never under qemu-user: there the file would be the host's. */
static void kernel_report(void)
{
	fflush(stdout);
	int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "tlQ", 3) != 3)
		printf("sysfuzz: /proc/sysrq-trigger: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	printf("sysfuzz: kernel report ends\n");
}

static void dump_ring(int i, const char *why)
{
	struct wslot *w = &sh->w[i];
	printf("sysfuzz: %s worker %d pid %d seed %#llx after %llu calls; last calls:\n", why, i, w->pid,
	       (unsigned long long)w->seed, (unsigned long long)w->calls);
	uint64_t n = w->calls;
	uint64_t first = n >= RING_N - 1 ? n - (RING_N - 1) : 0;
	for (uint64_t k = first; k <= n; k++) {
		struct callrec *r = &w->ring[k % RING_N];
		if (r->seq == k && r->nr)
			print_rec(stdout, "sysfuzz:   ", r);
	}
	if (w->fault_sig)
		printf("sysfuzz: fault: signal %d at pc %#llx ra %#llx addr %#llx\n", w->fault_sig, (unsigned long long)w->fault_ra,
		       (unsigned long long)w->fault_pc, (unsigned long long)w->fault_addr);
	printf("sysfuzz: reproduce: sysfuzz -r %#llx -n %llu\n", (unsigned long long)w->seed,
	       (unsigned long long)n + 1);
	if (in_ember && strcmp(why, "UNEXPLAINED") != 0)
		kernel_report();
}

static int explained(int i, int status)
{
	struct wslot *w = &sh->w[i];
	/* under qemu-user the "kernel" is the emulator in the same process: a death inside a call is
	 * the emulator's (alloca of a huge length, "qemu: unhandled ..." exits), not the host kernel's */
	struct callrec *r = &w->ring[w->calls % RING_N];
	int inflight = r->seq == w->calls && r->nr && r->ret == RET_RUNNING;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (!in_ember && inflight && !(sig > 0 && sig <= 64 && (w->selfsig & (1ULL << (sig - 1)))))
		return 2;
	if (WIFEXITED(status))
		return 0;
	int s = WTERMSIG(status);
	if (s > 0 && s <= 64 && (w->selfsig & (1ULL << (s - 1))))
		return 1;
	if (s == SIGPIPE && is_write_call(w->lastnr))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, seconds = 30, replay = 0, ncalls = 2000;
	int nworkers = 4;
	const char *workdir = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "s:t:w:d:S:r:n:v")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': seconds = strtoull(optarg, NULL, 0); break;
		case 'w': nworkers = atoi(optarg); break;
		case 'd': workdir = optarg; break;
		case 'S': shm_segs = atoi(optarg); break;
		case 'r': replay = strtoull(optarg, NULL, 0); break;
		case 'n': ncalls = strtoull(optarg, NULL, 0); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: sysfuzz [-s SEED] [-t SECONDS] [-w WORKERS] [-d DIR] [-S SHMSEGS] [-r WSEED -n CALLS] [-v]\n");
			return 2;
		}
	}
	if (nworkers < 1 || nworkers > MAX_WORKERS)
		nworkers = 4;
	if (shm_segs > SHM_MAX_SEGS)
		shm_segs = SHM_MAX_SEGS;
	setvbuf(stdout, NULL, _IOLBF, 0);
	char tmpl[] = "/tmp/sysfuzz.XXXXXX";
	if (!workdir) {
		workdir = mkdtemp(tmpl);
		if (!workdir) {
			perror("mkdtemp");
			return 2;
		}
	}
	if (chdir(workdir) < 0) {
		perror(workdir);
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	/* what workers may send the parent by mistake (F_SETOWN, SIGURG, PDEATHSIG ...) is ignored */
	static const int ign[] = { SIGIO, SIGURG, SIGPIPE, SIGUSR1, SIGUSR2, SIGHUP, SIGALRM, SIGVTALRM, SIGPROF, SIGWINCH };
	for (unsigned i = 0; i < sizeof(ign) / sizeof(ign[0]); i++)
		signal(ign[i], SIG_IGN);
	struct utsname u;
	uname(&u);
	in_ember = strstr(u.release, "ember") != NULL;
	struct wstate ws[MAX_WORKERS] = { 0 };
	uint64_t total_done = 0;
	uint64_t emulator = 0;
	uint64_t deaths = 0, unexplained = 0, stuck = 0, unkillable = 0, gens = 0;

	if (replay) {
		printf("sysfuzz: replay worker seed %#llx for %llu calls on %s %s\n", (unsigned long long)replay,
		       (unsigned long long)ncalls, u.sysname, u.release);
		sh->w[0].seed = replay;
		pid_t p = fork();
		if (p == 0) {
			verbose = 1;
			run_worker(0, replay, ncalls);
		}
		sh->w[0].pid = p;
		int st = 0;
		uint64_t start = now_ms(), last = 0, lastms = start;
		for (;;) {
			pid_t r = waitpid(p, &st, WNOHANG);
			if (r == p)
				break;
			if (sh->w[0].calls != last) { last = sh->w[0].calls; lastms = now_ms(); }
			if (now_ms() - lastms > STUCK_S * 1000) {
				dump_ring(0, "STUCK");
				kill(p, SIGKILL);
				waitpid(p, &st, 0);
				stuck++;
				break;
			}
			usleep(20000);
		}
		if (!stuck && !explained(0, st)) {
			unexplained++;
			printf("sysfuzz: UNEXPLAINED %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
			       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			dump_ring(0, "UNEXPLAINED");
		}
		(void)start;
		printf("sysfuzz: result %s calls=%llu unexplained=%llu stuck=%llu\n", unexplained || stuck ? "FAIL" : "PASS",
		       (unsigned long long)sh->w[0].calls, (unsigned long long)unexplained, (unsigned long long)stuck);
		return unexplained || stuck ? 1 : 0;
	}

	printf("sysfuzz: seed=%llu workers=%d seconds=%llu shm_segs=%d kernel=%s %s %s\n", (unsigned long long)seed,
	       nworkers, (unsigned long long)seconds, shm_segs, u.sysname, u.release, u.machine);
	uint64_t start = now_ms(), next_hb = start + 1000, end = start + seconds * 1000;
	for (;;) {
		uint64_t t = now_ms();
		int alive = 0;
		for (int i = 0; i < nworkers; i++) {
			struct wstate *s = &ws[i];
			if (!s->pid && t < end) {   /* (re)start a worker with a fresh seed */
				s->gen++;
				gens++;
				s->seed = mix(seed * 1000003 + i * 7919 + s->gen);
				memset((void *)&sh->w[i], 0, sizeof(sh->w[i]));
				sh->w[i].seed = s->seed;
				fflush(stdout);
				pid_t p = fork();
				if (p == 0)
					run_worker(i, s->seed, NCALLS_PER_GEN);
				if (p < 0) {
					printf("sysfuzz: fork: %s\n", strerror(errno));
					continue;
				}
				s->pid = p;
				sh->w[i].pid = p;
				s->last_calls = 0;
				s->last_progress_ms = t;
				s->killed_ms = 0;
				s->stuck_reported = 0;
			}
			if (!s->pid)
				continue;
			if (s->exited) {
				int st = s->status;
				if (WIFSIGNALED(st) || WEXITSTATUS(st))
					deaths++;
				int why = s->killed_ms ? 1 : explained(i, st);
				if (why == 2) {
					emulator++;
					struct callrec *cr = &sh->w[i].ring[sh->w[i].calls % RING_N];
					printf("sysfuzz: emulator death (qemu-user): %s %d in %s, seed %#llx call %llu\n",
					       WIFSIGNALED(st) ? "signal" : "exit status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
					       call_name(cr->nr), (unsigned long long)s->seed, (unsigned long long)sh->w[i].calls);
				} else if (!why) {
					unexplained++;
					printf("sysfuzz: UNEXPLAINED death: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit status",
					       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
					dump_ring(i, "UNEXPLAINED");
				}
				/* its leftovers: the idle child and its process group, its directory */
				kill(-s->pid, SIGKILL);
				total_done += sh->w[i].calls;
				char dir[64];
				snprintf(dir, sizeof(dir), "w%d", s->pid);
				nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
				s->pid = 0;
				s->exited = 0;
				continue;
			}
			alive++;
			uint64_t c = sh->w[i].calls;
			if (c != s->last_calls) {
				s->last_calls = c;
				s->last_progress_ms = t;
			} else if (!s->killed_ms && t - s->last_progress_ms > STUCK_S * 1000) {
				stuck++;
				dump_ring(i, "STUCK");
				kill(-s->pid, SIGKILL);
				kill(s->pid, SIGKILL);
				s->killed_ms = t;
			} else if (s->killed_ms && t - s->killed_ms > UNKILLABLE_S * 1000 && !s->stuck_reported) {
				unkillable++;
				s->stuck_reported = 1;
				dump_ring(i, "UNKILLABLE");
			}
			if (t >= end && !s->killed_ms) {
				kill(-s->pid, SIGKILL);
				kill(s->pid, SIGKILL);
				s->killed_ms = t;
				s->last_progress_ms = t;
			}
		}
		if (t >= next_hb) {
			uint64_t calls = 0;
			for (int i = 0; i < nworkers; i++)
				calls += sh->w[i].calls;
			printf("sysfuzz: hb t=%llu calls=%llu alive=%d gens=%llu deaths=%llu unexplained=%llu stuck=%llu\n",
			       (unsigned long long)(t - start) / 1000, (unsigned long long)(total_done + calls), alive,
			       (unsigned long long)gens, (unsigned long long)deaths, (unsigned long long)unexplained,
			       (unsigned long long)stuck);
			next_hb += 1000;
		}
		if (t >= end && !alive)
			break;
		if (t >= end + (STUCK_S + UNKILLABLE_S + 5) * 1000)
			break;
		/* reap workers, and stray grandchildren re-parented to us */
		int st;
		pid_t r;
		while ((r = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
			for (int i = 0; i < nworkers; i++)
				if (ws[i].pid == r) {
					ws[i].exited = 1;
					ws[i].status = st;
				}
		usleep(20000);
	}
	uint64_t calls = total_done;
	for (int i = 0; i < nworkers; i++)
		if (ws[i].pid)
			calls += sh->w[i].calls;
	int fail = unexplained || stuck || unkillable;
	printf("sysfuzz: result %s seed=%llu seconds=%llu workers=%d calls=%llu gens=%llu deaths=%llu emulator=%llu "
	       "unexplained=%llu stuck=%llu unkillable=%llu\n",
	       fail ? "FAIL" : "PASS", (unsigned long long)seed, (unsigned long long)seconds, nworkers,
	       (unsigned long long)calls, (unsigned long long)gens, (unsigned long long)deaths, (unsigned long long)emulator,
	       (unsigned long long)unexplained,
	       (unsigned long long)stuck, (unsigned long long)unkillable);
	return fail ? 1 : 0;
}
