/* copy_from_user and friends (interface and rules in uaccess.h; the copies are arch/riscv/uaccess.S,
 * whose faults trap_kernel resolves or turns into -EFAULT). */
#include "mm/uaccess.h"
#include "kernel/errno.h"

long __uaccess_copy(void *dst, const void *src, size_t n);
long __uaccess_clear(void *dst, size_t n);
long __uaccess_strncpy(char *dst, const void *usrc, size_t max);

int copy_from_user(void *dst, uintptr_t usrc, size_t n)
{
	if (!access_ok(usrc, n))
		return -EFAULT;
	return n ? (int)__uaccess_copy(dst, (const void *)usrc, n) : 0;
}

int copy_to_user(uintptr_t udst, const void *src, size_t n)
{
	if (!access_ok(udst, n))
		return -EFAULT;
	return n ? (int)__uaccess_copy((void *)udst, src, n) : 0;
}

int clear_user(uintptr_t udst, size_t n)
{
	if (!access_ok(udst, n))
		return -EFAULT;
	return n ? (int)__uaccess_clear((void *)udst, n) : 0;
}

long strncpy_from_user(char *dst, uintptr_t usrc, size_t max)
{
	if (usrc >= USER_TOP)
		return -EFAULT;
	if (max > USER_TOP - usrc)
		max = USER_TOP - usrc;
	return __uaccess_strncpy(dst, (const void *)usrc, max);
}
