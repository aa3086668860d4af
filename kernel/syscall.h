/*
 * System calls: Linux riscv64 numbers (asm-generic/unistd.h) and signatures. Arguments arrive as
 * unsigned longs from a0..a5; user pointers are plain uintptr_t and must only be touched through
 * mm/uaccess.h. A handler returns a value >= 0 or -errno. syscall.c holds the table; unknown
 * numbers give -ENOSYS.
 */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H
#include "kernel/types.h"

struct trapframe;
long syscall_dispatch(struct trapframe *tf);

#define SYSCALL_MAX 512
typedef long (*syscall_fn)(unsigned long, unsigned long, unsigned long, unsigned long, unsigned long,
			   unsigned long);

/* files (fs/) */
long sys_openat(int dirfd, uintptr_t path, int flags, unsigned mode);
long sys_close(int fd);
long sys_read(int fd, uintptr_t buf, size_t n);
long sys_write(int fd, uintptr_t buf, size_t n);
long sys_readv(int fd, uintptr_t iov, int iovcnt);
long sys_writev(int fd, uintptr_t iov, int iovcnt);
long sys_pread64(int fd, uintptr_t buf, size_t n, long off);
long sys_pwrite64(int fd, uintptr_t buf, size_t n, long off);
long sys_lseek(int fd, long off, int whence);
long sys_fstat(int fd, uintptr_t st);
long sys_newfstatat(int dirfd, uintptr_t path, uintptr_t st, int flags);
long sys_statx(int dirfd, uintptr_t path, int flags, unsigned mask, uintptr_t stx);
long sys_getdents64(int fd, uintptr_t dirp, size_t n);
long sys_mkdirat(int dirfd, uintptr_t path, unsigned mode);
long sys_unlinkat(int dirfd, uintptr_t path, int flags);
long sys_renameat2(int olddirfd, uintptr_t oldpath, int newdirfd, uintptr_t newpath, unsigned flags);
long sys_ftruncate(int fd, long length);
long sys_getcwd(uintptr_t buf, size_t size);
long sys_chdir(uintptr_t path);
long sys_fchdir(int fd);
long sys_fcntl(int fd, int cmd, unsigned long arg);
long sys_dup(int fd);
long sys_dup3(int oldfd, int newfd, int flags);
long sys_pipe2(uintptr_t fds, int flags);
long sys_ioctl(int fd, unsigned long cmd, unsigned long arg);
long sys_readlinkat(int dirfd, uintptr_t path, uintptr_t buf, size_t size);
long sys_faccessat(int dirfd, uintptr_t path, int mode);
long sys_faccessat2(int dirfd, uintptr_t path, int mode, int flags);
long sys_sync(void);
long sys_fsync(int fd);

#endif
