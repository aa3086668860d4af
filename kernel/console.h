/*
 * The console: output goes to the UART (or to the SBI debug console before the UART is known);
 * input arrives from the UART's receive interrupt into a ring buffer that readers sleep on.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H
#include "kernel/types.h"

struct console_ops {
	void (*putc)(char c);        /* polled output of one byte; safe with interrupts off */
};

void console_set_output(const struct console_ops *ops);
void console_write(const char *s, size_t n);        /* whole message under the console lock */
void console_panic_mode(void);                      /* stop taking the lock: we are dying */
void console_input(char c);                         /* interrupt context: a byte arrived */
int console_getc(void);                             /* sleeps until a byte is there */
uint64_t console_rx_bytes(void);

#endif
