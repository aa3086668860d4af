/*
 * Access to user memory. Every pointer that comes from user space goes through these: they check
 * the range lies in the user half, fault pages in (lazy and copy-on-write pages), and turn a bad
 * address into -EFAULT instead of a kernel panic (arch/riscv/uaccess.S copies with sstatus.SUM set;
 * a fault inside it resumes at the caller with an error). They may sleep? No: they never sleep,
 * but must be called from process context (current has the address space).
 */
#ifndef KERNEL_UACCESS_H
#define KERNEL_UACCESS_H
#include "kernel/types.h"

#define USER_TOP 0x4000000000UL    /* Sv39 lower half: user addresses are below this */

static inline bool access_ok(uintptr_t addr, size_t len)
{
	return addr <= USER_TOP && len <= USER_TOP - addr;
}

int copy_from_user(void *dst, uintptr_t usrc, size_t n);     /* 0 or -EFAULT */
int copy_to_user(uintptr_t udst, const void *src, size_t n);  /* 0 or -EFAULT */
int clear_user(uintptr_t udst, size_t n);                     /* 0 or -EFAULT */
/* Copies a NUL-terminated string of at most max bytes including the NUL: returns its length,
 * -EFAULT, or -ENAMETOOLONG when no NUL is found within max. */
long strncpy_from_user(char *dst, uintptr_t usrc, size_t max);

#endif
