/* 16550-compatible UART console (QEMU virt's ns16550a): polled transmit, interrupt-driven receive. */
#ifndef DRIVERS_UART_H
#define DRIVERS_UART_H
#include "kernel/types.h"

void uart_init(paddr_t base, int reg_shift);   /* early: output only */
int uart_enable_rx(int irq);                   /* once the PLIC is up */

#endif
