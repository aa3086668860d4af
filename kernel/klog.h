/* The kernel log buffer behind printk and syslog(2) (kernel/klog.c). */
#ifndef KERNEL_KLOG_H
#define KERNEL_KLOG_H
#include "kernel/types.h"
void klog_write(const char *s, size_t n);      /* any context */
long sys_syslog(int type, uintptr_t ubuf, int len);
#endif
