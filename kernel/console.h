/*
 * The console: output goes to the UART (or to the SBI debug console before the UART is known);
 * input arrives from the UART's receive interrupt into a ring buffer that readers sleep on. The
 * ring's wait queue is woken on every byte, so poll/epoll can watch it (console_waitq).
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
/* The terminal's hook for signal characters, called by console_input first (interrupt context);
 * when it returns true the byte is not buffered. */
void console_set_intr_hook(bool (*hook)(char c));
struct waitq;
/* Sleeps until a byte is there and returns it, or returns -ERESTARTSYS when a signal is pending
 * (never for kernel threads, which have no signals: the monitor may treat it as uninterruptible). */
int console_getc(void);
/* Is a buffered byte for which match(c, arg) holds (any byte when match is NULL) waiting? */
bool console_input_any(bool (*match)(int c, void *arg), void *arg);
struct waitq *console_waitq(void);                  /* woken by console_input */
uint64_t console_rx_bytes(void);

#endif
