/*
 * User-memory copies. S-mode runs with sstatus.SUM set at all times (arch/riscv/trap.c says why),
 * so these touch user pages directly; they are the only kernel code that does, after access_ok
 * checked the range. If one faults, trap_kernel sees the faulting pc inside [uaccess_start,
 * uaccess_end): it first tries to resolve the fault like a user fault (lazy or copy-on-write page);
 * if the address is bad it resumes at the caller (sepc = ra) with a0 = -EFAULT. So these must stay
 * leaf functions that keep ra intact and use no stack.
 */
#define EFAULT 14
#define ENAMETOOLONG 36

	.section .text
	.globl uaccess_start, uaccess_end
uaccess_start:

/* long __uaccess_copy(void *dst, const void *src, size_t n): 0 or -EFAULT
 * Bytes until dst is 8-aligned, then 32 and 8 bytes at a time with 64-bit loads from wherever src
 * is (RISC-V allows misaligned loads; QEMU does them directly), then the tail. */
	.globl __uaccess_copy
__uaccess_copy:
	li	t1, 16
	bltu	a2, t1, 2f             /* short: bytes */
4:	andi	t0, a0, 7              /* align dst */
	beqz	t0, 5f
	lb	t2, 0(a1)
	sb	t2, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	addi	a2, a2, -1
	j	4b
5:	li	t1, 32
	bltu	a2, t1, 1f
	ld	t2, 0(a1)
	ld	t3, 8(a1)
	ld	t4, 16(a1)
	ld	t5, 24(a1)
	sd	t2, 0(a0)
	sd	t3, 8(a0)
	sd	t4, 16(a0)
	sd	t5, 24(a0)
	addi	a0, a0, 32
	addi	a1, a1, 32
	addi	a2, a2, -32
	j	5b
1:	li	t1, 8
	bltu	a2, t1, 2f
	ld	t2, 0(a1)
	sd	t2, 0(a0)
	addi	a0, a0, 8
	addi	a1, a1, 8
	addi	a2, a2, -8
	j	1b
2:	beqz	a2, 3f
	lb	t2, 0(a1)
	sb	t2, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	addi	a2, a2, -1
	j	2b
3:	li	a0, 0
	ret

/* long __uaccess_clear(void *dst, size_t n): 0 or -EFAULT */
	.globl __uaccess_clear
__uaccess_clear:
1:	beqz	a1, 2f
	sb	zero, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, -1
	j	1b
2:	li	a0, 0
	ret

/* long __uaccess_strncpy(char *dst, const char *usrc, size_t max): length, -EFAULT, -ENAMETOOLONG */
	.globl __uaccess_strncpy
__uaccess_strncpy:
	li	t0, 0
1:	bgeu	t0, a2, 3f
	add	t1, a1, t0
	lb	t2, 0(t1)
	add	t3, a0, t0
	sb	t2, 0(t3)
	beqz	t2, 2f
	addi	t0, t0, 1
	j	1b
2:	mv	a0, t0
	ret
3:	li	a0, -ENAMETOOLONG
	ret

uaccess_end:
