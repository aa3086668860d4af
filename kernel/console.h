/*
 * The console: output goes to the UART (or to the SBI debug console before the UART is known);
 * input arrives from the UART's receive interrupt into a ring buffer that readers sleep on. The
 * ring's wait queue is woken on every byte, so poll/epoll can watch it (console_waitq).
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H
#include "kernel/types.h"

/* A console driver. putc is required; the four transmit-interrupt ops are optional (all or none)
 * and are called with console_lock held and interrupts off. */
struct console_ops {
	void (*putc)(char c);        /* polled output of one byte; safe with interrupts off */
	void (*start_tx)(void);      /* enable the transmit interrupt: it will call console_tx_irq */
	void (*stop_tx)(void);       /* disable it (the output ring is empty) */
	int (*tx_room)(void);        /* bytes the transmitter takes now without waiting */
	void (*tx_byte)(char c);     /* hand it one byte (only after tx_room said there is room) */
};

void console_set_output(const struct console_ops *ops);
/* Queues the whole message under the console lock (or, before the transmit interrupt is wired,
 * puts it out polled). Any context; never sleeps. */
void console_write(const char *s, size_t n);
/* The driver's transmit interrupt works: from now on output is queued (the driver's IRQ handler
 * is registered and calls console_tx_irq). */
void console_set_tx_irq(void);
void console_tx_irq(void);                          /* interrupt context: the transmitter has room */
void console_flush(void);                           /* put out everything queued, polled */
void console_panic_mode(void);                      /* flush and stop taking the lock: we are dying */
uint64_t console_tx_bytes(void);                    /* bytes queued for output since boot */
uint64_t console_tx_polled(void);                   /* of those, put out by a writer or flush */
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
