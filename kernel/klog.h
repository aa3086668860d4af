/* The kernel log buffer behind printk and syslog(2) (kernel/klog.c). */
#ifndef KERNEL_KLOG_H
#define KERNEL_KLOG_H
#include "kernel/types.h"
void klog_write(const char *s, size_t n);      /* any context */
long sys_syslog(int type, uintptr_t ubuf, int len);
bool klog_console_on(void);                    /* printk text goes to the console (level > info) */
void klog_console_verbose(void);               /* a panic: everything to the console again */
#endif
