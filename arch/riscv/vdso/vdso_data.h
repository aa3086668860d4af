/*
 * The page the kernel shares read-only with every process, right below the vDSO's text (the vDSO
 * finds it at a fixed distance from its own code: vdso.lds). Written once at boot, before the
 * first process; a clock that could be set would need a sequence count here.
 */
#ifndef ARCH_RISCV_VDSO_DATA_H
#define ARCH_RISCV_VDSO_DATA_H
#include <stdint.h>

struct vdso_data {
	uint64_t timebase_hz;       /* rdtime ticks per second (the device tree's timebase-frequency) */
	uint64_t rt_offset_ns;      /* CLOCK_REALTIME - CLOCK_MONOTONIC, in ns */
};

#endif
