/* The kernel's text symbols (kernel/kallsyms.c): backtraces, /proc/kallsyms, readprofile. */
#ifndef KERNEL_KALLSYMS_H
#define KERNEL_KALLSYMS_H
#include "kernel/types.h"

/* The name of the function holding addr and addr's offset in it; NULL if not in the text. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

#endif
