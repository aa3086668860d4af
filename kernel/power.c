/*
 * Power off through SBI system reset (SRST); if the firmware lacks it, the device tree's
 * syscon-poweroff register. A failure exit writes FAIL to the sifive,test0 finisher, which makes
 * QEMU exit with status (code << 1) | 1 — SBI's reset reasons do not reach QEMU's exit status.
 */
#include "kernel/power.h"
#include "kernel/console.h"
#include "kernel/platform.h"
#include "mm/mm.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/sbi.h"

#define FINISHER_FAIL 0x3333
#define FINISHER_CODE_SHIFT 16

static void __attribute__((noreturn)) halt(void)
{
	for (;;) {
		intr_off();
		wfi();
	}
}

void power_off(void)
{
	console_flush();
	intr_off();
	if (sbi_probe(SBI_EXT_SRST))
		sbi_system_reset(SBI_SRST_SHUTDOWN, SBI_SRST_REASON_NONE);
	if (platform.poweroff_reg)
		mmio_write32(pa_to_va(platform.poweroff_reg), platform.poweroff_value);
	halt();
}

void power_fail(int code)
{
	console_flush();
	intr_off();
	if (platform.test_dev)
		mmio_write32(pa_to_va(platform.test_dev), ((uint32_t)code << FINISHER_CODE_SHIFT) | FINISHER_FAIL);
	if (sbi_probe(SBI_EXT_SRST))
		sbi_system_reset(SBI_SRST_SHUTDOWN, SBI_SRST_REASON_FAILURE);
	halt();
}
