/* The vDSO image (arch/riscv/vdso/, built by the Makefile as build/vdso/vdso.so), copied into
 * pages of its own at boot by kernel/vdso.c. */
	.section .rodata
	.balign 4096
	.globl vdso_image_start, vdso_image_end
vdso_image_start:
	.incbin VDSO_SO
vdso_image_end:
