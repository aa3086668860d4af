/*
 * ns16550a UART. Output is polled (wait for THR empty, write), which keeps printk usable from any
 * context including panics. Input raises the "received data available" interrupt through the PLIC;
 * the handler drains the receive FIFO into the console's input ring.
 */
#include "drivers/uart/uart.h"
#include "kernel/irq.h"
#include "kernel/console.h"
#include "mm/mm.h"
#include "arch/riscv/riscv.h"

#define UART_RBR 0     /* receive buffer (read) */
#define UART_THR 0     /* transmit holding (write) */
#define UART_IER 1     /* interrupt enable */
#define UART_FCR 2     /* FIFO control (write) */
#define UART_LCR 3     /* line control */
#define UART_LSR 5     /* line status */
#define IER_RX_AVAIL 0x01
#define FCR_ENABLE 0x01     /* FIFOs on; no reset bits: bytes typed ahead of boot survive */
#define LCR_8N1 0x03
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

static uint8_t *uart;
static int shift;

static uint8_t rd(int r) { return mmio_read8(uart + (r << shift)); }
static void wr(int r, uint8_t v) { mmio_write8(uart + (r << shift), v); }

static void uart_putc(char c)
{
	while (!(rd(UART_LSR) & LSR_THR_EMPTY))
		;
	wr(UART_THR, (uint8_t)c);
}

static const struct console_ops uart_console = { .putc = uart_putc };

void uart_init(paddr_t base, int reg_shift)
{
	uart = pa_to_va(base);
	shift = reg_shift;
	wr(UART_IER, 0);
	wr(UART_LCR, LCR_8N1);
	wr(UART_FCR, FCR_ENABLE);
	console_set_output(&uart_console);
}

static void uart_irq(int irq __unused, void *arg __unused)
{
	while (rd(UART_LSR) & LSR_DATA_READY)
		console_input((char)rd(UART_RBR));
}

int uart_enable_rx(int irq)
{
	if (irq_register(irq, uart_irq, NULL, "uart") < 0)
		return -1;
	wr(UART_IER, IER_RX_AVAIL);
	return 0;
}
