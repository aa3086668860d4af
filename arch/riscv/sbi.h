/* Calls into the SBI firmware (OpenSBI): timer, IPI, hart state management, system reset. */
#ifndef ARCH_SBI_H
#define ARCH_SBI_H
#include "kernel/types.h"

struct sbiret { long error; long value; };

#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_IPI  0x735049
#define SBI_EXT_RFENCE 0x52464E43
#define SBI_EXT_HSM  0x48534D
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_DBCN 0x4442434E

#define SBI_SRST_SHUTDOWN 0
#define SBI_SRST_COLD_REBOOT 1
#define SBI_SRST_REASON_NONE 0
#define SBI_SRST_REASON_FAILURE 1

#define SBI_ERR_ALREADY_AVAILABLE (-6)

#define SBI_HSM_STARTED 0
#define SBI_HSM_STOPPED 1

struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2);
struct sbiret sbi_call4(long ext, long fid, long a0, long a1, long a2, long a3);
void sbi_remote_sfence_vma(unsigned long hart_mask, unsigned long base, unsigned long start, unsigned long size);
bool sbi_probe(long ext);
void sbi_set_timer(uint64_t when);
void sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base);
long sbi_hart_start(unsigned long hartid, unsigned long start_pa, unsigned long opaque);
long sbi_hart_status(unsigned long hartid);
void sbi_system_reset(int type, int reason);
long sbi_spec_version(void);

#endif
