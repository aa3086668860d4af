/*
 * Trap vectors. stvec points at trap_vector for both privilege levels; sscratch tells them apart:
 * it holds this hart's struct cpu pointer while the hart runs user code, and 0 in the kernel.
 *
 * From the kernel (kernel_vector): every register is saved in a struct trapframe on the current
 * kernel stack, trap_kernel(tf) runs (it may switch threads: each thread has its own stack, and
 * sepc/sstatus come back from the frame), then everything is restored and sret returns.
 *
 * From user mode (user_entry): tp becomes the struct cpu, sp the top of the thread's kernel stack
 * (cpu->kstack_top), where the user registers are saved; trap_user(tf) runs and returns to user
 * space through user_return, which is also how a new user thread first enters user mode.
 * Interrupts stay off while a frame is being saved or restored (hardware cleared sstatus.SIE).
 */
#define TF_SIZE (36 * 8)
#define TF_SEPC (32 * 8)
#define TF_SSTATUS (33 * 8)
#define TF_SCAUSE (34 * 8)
#define TF_STVAL (35 * 8)
#define CPU_KSTACK_TOP 0
#define CPU_USER_SP 8
#define SSTATUS_SIE 2

.macro SAVE_GPRS_EXCEPT_SP_TP
	sd	x1, 1*8(sp)
	sd	x3, 3*8(sp)
	sd	x5, 5*8(sp)
	sd	x6, 6*8(sp)
	sd	x7, 7*8(sp)
	sd	x8, 8*8(sp)
	sd	x9, 9*8(sp)
	sd	x10, 10*8(sp)
	sd	x11, 11*8(sp)
	sd	x12, 12*8(sp)
	sd	x13, 13*8(sp)
	sd	x14, 14*8(sp)
	sd	x15, 15*8(sp)
	sd	x16, 16*8(sp)
	sd	x17, 17*8(sp)
	sd	x18, 18*8(sp)
	sd	x19, 19*8(sp)
	sd	x20, 20*8(sp)
	sd	x21, 21*8(sp)
	sd	x22, 22*8(sp)
	sd	x23, 23*8(sp)
	sd	x24, 24*8(sp)
	sd	x25, 25*8(sp)
	sd	x26, 26*8(sp)
	sd	x27, 27*8(sp)
	sd	x28, 28*8(sp)
	sd	x29, 29*8(sp)
	sd	x30, 30*8(sp)
	sd	x31, 31*8(sp)
.endm

.macro SAVE_CSRS
	csrr	t0, sepc
	sd	t0, TF_SEPC(sp)
	csrr	t0, sstatus
	sd	t0, TF_SSTATUS(sp)
	csrr	t0, scause
	sd	t0, TF_SCAUSE(sp)
	csrr	t0, stval
	sd	t0, TF_STVAL(sp)
.endm

.macro RESTORE_GPRS_EXCEPT_SP_TP
	ld	x1, 1*8(sp)
	ld	x3, 3*8(sp)
	ld	x5, 5*8(sp)
	ld	x6, 6*8(sp)
	ld	x7, 7*8(sp)
	ld	x8, 8*8(sp)
	ld	x9, 9*8(sp)
	ld	x10, 10*8(sp)
	ld	x11, 11*8(sp)
	ld	x12, 12*8(sp)
	ld	x13, 13*8(sp)
	ld	x14, 14*8(sp)
	ld	x15, 15*8(sp)
	ld	x16, 16*8(sp)
	ld	x17, 17*8(sp)
	ld	x18, 18*8(sp)
	ld	x19, 19*8(sp)
	ld	x20, 20*8(sp)
	ld	x21, 21*8(sp)
	ld	x22, 22*8(sp)
	ld	x23, 23*8(sp)
	ld	x24, 24*8(sp)
	ld	x25, 25*8(sp)
	ld	x26, 26*8(sp)
	ld	x27, 27*8(sp)
	ld	x28, 28*8(sp)
	ld	x29, 29*8(sp)
	ld	x30, 30*8(sp)
	ld	x31, 31*8(sp)
.endm

	.section .text
	.align 4
	.globl trap_vector
trap_vector:
	csrrw	tp, sscratch, tp
	bnez	tp, user_entry
	csrrw	tp, sscratch, tp       /* from the kernel: tp back, sscratch = 0 again */

	.globl kernel_vector
kernel_vector:
	addi	sp, sp, -TF_SIZE
	SAVE_GPRS_EXCEPT_SP_TP
	sd	x4, 4*8(sp)
	addi	t0, sp, TF_SIZE
	sd	t0, 2*8(sp)            /* the interrupted sp */
	SAVE_CSRS
	mv	a0, sp
	call	trap_kernel
	ld	t0, TF_SEPC(sp)
	csrw	sepc, t0
	ld	t0, TF_SSTATUS(sp)
	csrw	sstatus, t0
	RESTORE_GPRS_EXCEPT_SP_TP
	/* x4 (tp) is not restored: it holds this CPU's struct cpu, and a preempted thread may
	 * come back on another CPU. */
	addi	sp, sp, TF_SIZE
	sret

user_entry:
	sd	sp, CPU_USER_SP(tp)
	ld	sp, CPU_KSTACK_TOP(tp)
	addi	sp, sp, -TF_SIZE
	SAVE_GPRS_EXCEPT_SP_TP
	ld	t0, CPU_USER_SP(tp)
	sd	t0, 2*8(sp)
	csrr	t0, sscratch           /* the user's tp */
	sd	t0, 4*8(sp)
	csrw	sscratch, zero
	SAVE_CSRS
	mv	a0, sp
	li	s0, 0                  /* backtraces end here */
	call	trap_user

/* Return to user space from the trap frame at sp (the top of this thread's kernel stack). */
	.globl user_return
user_return:
	csrci	sstatus, SSTATUS_SIE
	ld	t0, TF_SEPC(sp)
	csrw	sepc, t0
	ld	t0, TF_SSTATUS(sp)
	csrw	sstatus, t0
	csrw	sscratch, tp
	RESTORE_GPRS_EXCEPT_SP_TP
	ld	x4, 4*8(sp)
	ld	x2, 2*8(sp)
	sret
