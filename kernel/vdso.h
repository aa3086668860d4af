/* The vDSO (kernel/vdso.c): set up once at boot, mapped by exec into every new image. */
#ifndef KERNEL_VDSO_H
#define KERNEL_VDSO_H
#include "kernel/types.h"

struct mm;

void vdso_init(void);              /* after timer_init and systime_init */
/* Map [vvar][vdso] into mm: the vDSO's ELF header address (AT_SYSINFO_EHDR), or -errno. */
long vdso_map(struct mm *mm);

#endif
