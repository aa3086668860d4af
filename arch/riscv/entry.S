/*
 * Boot entry. OpenSBI enters _start (physical address, MMU off) on the boot hart with a0 = hartid,
 * a1 = physical address of the device tree; secondary harts started with SBI HSM hart_start enter
 * _secondary_start with a0 = hartid, a1 = the virtual address of their stack top.
 *
 * Only one hart may run _start: OpenSBI normally sends just the lottery winner here, but a hart that
 * was still inside the firmware when the boot hart asked for it can arrive at the firmware's
 * default entry (this one) instead of _secondary_start. The first hart to swap boot_claimed wins;
 * any other parks in wfi until start_secondaries leaves a stack top in hart_mailbox[hartid] and
 * sends it an IPI, and then takes the _secondary_start path like any started hart.
 *
 * Both build boot_pgtable (once, on the boot hart): gigapages mapping physical 0..4 GiB twice, at
 * identity (only so the instruction after `csrw satp` can still be fetched) and in the direct map at
 * KERNEL_VOFFSET, then jump to the kernel's virtual addresses. vm.c replaces this table with the
 * real kernel page table, which has no identity mapping.
 */
#define KERNEL_VOFFSET 0xffffffc000000000
#define BOOT_GIGAPAGES 4
#define PTE_VRWXAD 0xcf
#define SATP_SV39 (8 << 60)
#define BOOT_STACK_SIZE 16384
#define MAX_HARTS 8
#define SIE_SSIE 2

	.section .text.entry
	.globl _start
_start:
	csrw	sie, zero
	csrw	sscratch, zero
	la	t0, boot_claimed
	li	t1, 1
	amoswap.w.aqrl t1, t1, (t0)
	bnez	t1, park
	mv	s0, a0
	mv	s1, a1

	/* clear .bss (running at physical addresses; la is pc-relative) */
	la	t0, _bss_start
	la	t1, _bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:
	/* fill boot_pgtable: entries i and 256+i map physical i GiB */
	la	t0, boot_pgtable
	li	t1, 0
	li	t2, BOOT_GIGAPAGES
	li	t6, 256 * 8
3:	slli	t3, t1, 28             /* (i << 30) >> 12 << 10 */
	ori	t3, t3, PTE_VRWXAD
	slli	t4, t1, 3
	add	t4, t4, t0
	sd	t3, 0(t4)
	add	t5, t4, t6
	sd	t3, 0(t5)
	addi	t1, t1, 1
	blt	t1, t2, 3b

	call	enable_boot_mmu
	la	sp, boot_stack_top     /* virtual now */
	mv	a0, s0
	li	s0, 0                  /* fp = 0: backtraces stop here */
	mv	a1, s1
	call	kmain
4:	wfi
	j	4b

/* A hart that reached _start second: wait for a stack top in hart_mailbox[hartid] (MMU off). */
park:
	li	t0, MAX_HARTS
	bgeu	a0, t0, 2f
	la	t0, hart_mailbox
	slli	t1, a0, 3
	add	t0, t0, t1
	csrw	sie, SIE_SSIE          /* an IPI ends wfi; sstatus.SIE stays off */
1:	ld	a1, 0(t0)
	bnez	a1, 3f
	wfi
	csrc	sip, SIE_SSIE
	j	1b
2:	wfi
	j	2b
3:	csrw	sie, zero
	csrc	sip, SIE_SSIE
	j	_secondary_start

	.globl _secondary_start
_secondary_start:
	csrw	sie, zero
	csrw	sscratch, zero
	mv	s0, a0
	mv	s1, a1
	call	enable_boot_mmu
	mv	sp, s1
	mv	a0, s0
	li	s0, 0
	call	secondary_main
5:	wfi
	j	5b

/* Turn on Sv39 with boot_pgtable and return to the caller's virtual address. Clobbers t0-t2. */
enable_boot_mmu:
	la	t0, boot_pgtable
	srli	t0, t0, 12
	li	t1, SATP_SV39
	or	t0, t0, t1
	sfence.vma
	csrw	satp, t0
	sfence.vma
	li	t2, KERNEL_VOFFSET
	add	ra, ra, t2
	ret

	.section .data.pgtable
	.align 12
	.globl boot_pgtable
boot_pgtable:
	.zero 4096

	/* in .data, not .bss: read before the boot hart clears .bss */
	.section .data
	.align 3
	.globl hart_mailbox
boot_claimed:
	.word 0
	.align 3
hart_mailbox:
	.zero 8 * MAX_HARTS

	.section .bss.stack
	.align 14                       /* KSTACK_SIZE-aligned: `current` is found from sp */
	.globl boot_stack, boot_stack_top
boot_stack:
	.zero BOOT_STACK_SIZE
boot_stack_top:
