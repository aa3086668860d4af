/*
 * ns16550a UART. Polled output (wait for THR empty, write) serves early boot and panics. Once the
 * interrupt is registered, output is interrupt driven: the console queues bytes and starts the
 * transmitter (IER.THRI); the "THR empty" interrupt hands the console's ring to the FIFO, up to
 * FIFO_DEPTH bytes each time THR is empty, and the console stops it when the ring is empty.
 * Input raises the "received data available" interrupt; the handler drains the receive FIFO into
 * the console's input ring. The IER shadow is written under console_lock (start/stop_tx) or
 * before the console uses the interrupt (uart_enable_rx).
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
#define IER_THR_EMPTY 0x02
#define FIFO_DEPTH 16       /* a 16550A's transmit FIFO: bytes it takes once THR is empty */
#define FCR_ENABLE 0x01     /* FIFOs on; no reset bits: bytes typed ahead of boot survive */
#define LCR_8N1 0x03
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

static uint8_t *uart;
static int shift;
static uint8_t ier;     /* shadow of IER */

static uint8_t rd(int r) { return mmio_read8(uart + (r << shift)); }
static void wr(int r, uint8_t v) { mmio_write8(uart + (r << shift), v); }

static void uart_putc(char c)
{
	while (!(rd(UART_LSR) & LSR_THR_EMPTY))
		;
	wr(UART_THR, (uint8_t)c);
}

static void uart_start_tx(void) { wr(UART_IER, ier |= IER_THR_EMPTY); }
static void uart_stop_tx(void) { wr(UART_IER, ier &= ~IER_THR_EMPTY); }
static int uart_tx_room(void) { return (rd(UART_LSR) & LSR_THR_EMPTY) ? FIFO_DEPTH : 0; }
static void uart_tx_byte(char c) { wr(UART_THR, (uint8_t)c); }

static const struct console_ops uart_console = {
	.putc = uart_putc,
	.start_tx = uart_start_tx,
	.stop_tx = uart_stop_tx,
	.tx_room = uart_tx_room,
	.tx_byte = uart_tx_byte,
};

void uart_init(paddr_t base, int reg_shift)
{
	uart = pa_to_va(base);
	shift = reg_shift;
	wr(UART_IER, ier = 0);
	wr(UART_LCR, LCR_8N1);
	wr(UART_FCR, FCR_ENABLE);
	console_set_output(&uart_console);
}

static void uart_irq(int irq __unused, void *arg __unused)
{
	while (rd(UART_LSR) & LSR_DATA_READY)
		console_input((char)rd(UART_RBR));
	console_tx_irq();
}

int uart_enable_rx(int irq)
{
	if (irq_register(irq, uart_irq, NULL, "uart") < 0)
		return -1;
	wr(UART_IER, ier |= IER_RX_AVAIL);
	console_set_tx_irq();
	return 0;
}
