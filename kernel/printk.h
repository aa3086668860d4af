/* Kernel console output. printk formats a whole message and writes it under the console lock, so
 * lines from different harts never interleave. Safe from any context, including interrupts. */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H
#include "kernel/types.h"

void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/* Appends to buf at *n, as the /proc generators build their text: buf stays NUL-terminated and
 * never overflows (output past size - 1 is cut). */
void bufprintf(char *buf, size_t size, size_t *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void __noreturn panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));


#endif
