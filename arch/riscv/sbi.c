/* SBI calls (v0.2+ extensions; QEMU's OpenSBI implements all of them). */
#include "arch/riscv/sbi.h"

struct sbiret sbi_call4(long ext, long fid, long a0, long a1, long a2, long a3)
{
	register long r_a0 __asm__("a0") = a0;
	register long r_a1 __asm__("a1") = a1;
	register long r_a2 __asm__("a2") = a2;
	register long r_a3 __asm__("a3") = a3;
	register long r_a6 __asm__("a6") = fid;
	register long r_a7 __asm__("a7") = ext;
	__asm__ volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a3), "r"(r_a6), "r"(r_a7) : "memory");
	return (struct sbiret){ r_a0, r_a1 };
}

struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2) { return sbi_call4(ext, fid, a0, a1, a2, 0); }

/* Synchronous: returns after the target harts have fenced. */
void sbi_remote_sfence_vma(unsigned long mask, unsigned long base, unsigned long start, unsigned long size)
{
	sbi_call4(SBI_EXT_RFENCE, 1, (long)mask, (long)base, (long)start, (long)size);
}

bool sbi_probe(long ext) { return sbi_call(SBI_EXT_BASE, 3, ext, 0, 0).value != 0; }
long sbi_spec_version(void) { return sbi_call(SBI_EXT_BASE, 0, 0, 0, 0).value; }
void sbi_set_timer(uint64_t when) { sbi_call(SBI_EXT_TIME, 0, (long)when, 0, 0); }
void sbi_send_ipi(unsigned long mask, unsigned long base) { sbi_call(SBI_EXT_IPI, 0, (long)mask, (long)base, 0); }

long sbi_hart_start(unsigned long hartid, unsigned long start_pa, unsigned long opaque)
{
	return sbi_call(SBI_EXT_HSM, 0, (long)hartid, (long)start_pa, (long)opaque).error;
}

long sbi_hart_status(unsigned long hartid)
{
	struct sbiret r = sbi_call(SBI_EXT_HSM, 2, (long)hartid, 0, 0);
	return r.error ? r.error : r.value;
}

void sbi_system_reset(int type, int reason) { sbi_call(SBI_EXT_SRST, 0, type, reason, 0); }
