/* Kernel console output. printk formats a whole message and writes it under the console lock, so
 * lines from different harts never interleave. Safe from any context, including interrupts. */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H
#include "kernel/types.h"

void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void __noreturn panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define BUG_ON(c) do { if (unlikely(c)) panic("BUG_ON(%s) at %s:%d", #c, __FILE__, __LINE__); } while (0)

#endif
