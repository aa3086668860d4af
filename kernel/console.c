/*
 * Console multiplexer.
 *
 * Output. console_write turns "\n" into "\r\n" and, once the driver's transmit interrupt is wired
 * (console_set_tx_irq), only copies the bytes into the output ring and starts the transmitter: the
 * driver's interrupt handler empties the ring (console_tx_irq) on whichever hart the interrupt is
 * routed to, and stops the transmitter when the ring is empty. So a write(2) to the terminal
 * returns as soon as its bytes are queued, as Linux's tty does. That matters beyond speed: every
 * byte written to the emulated UART is a trap into QEMU and a host write, and a parent that
 * printed a line in three write()s right after fork() was still in the middle of it when its child,
 * started at once on an idle hart, printed its own (the contest's test_pipe read "cpid: cpid: 31").
 * Order is kept: every byte goes through the ring once it is in use, the ring is emptied in order
 * under console_lock, and a full ring makes the writer put out the oldest bytes itself (polled) until
 * there is room: nothing is dropped and the writer never sleeps (printk may write from any context).
 * Before the transmit interrupt is wired, and from a panic, output is polled (putc); power-off and
 * panic first empty the ring (console_flush). Before a driver registers, the SBI legacy console
 * putchar is used so early panics still print.
 *
 * Input: the UART interrupt handler
 * calls console_input, which stores the byte in a ring (dropped when full, counted) and wakes
 * readers; console_getc sleeps on the wait queue until a byte is there or a signal is pending.
 * Pollers (the tty's poll op, epoll) watch the same wait queue through callback entries.
 * Wake-ups run in interrupt context, so pollers' callbacks do too (they only take spinlocks).
 * Lock order: console_lock is a leaf (nothing is taken under it). in_lock guards the input ring and
 * is a leaf as well: console_input drops it before waking in_wait.
 */
#include "kernel/console.h"
#include "kernel/errno.h"
#include "kernel/signal.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "arch/riscv/sbi.h"

#define CONSOLE_IN_SIZE 256
#define CONSOLE_OUT_SIZE 16384     /* output ring; a power of two (free-running indices) */
#define SBI_LEGACY_PUTCHAR 0x01

static struct spinlock console_lock = SPINLOCK_INIT("console");
static const struct console_ops *out_ops;
static volatile bool panicking;
/* Output ring, guarded by console_lock. tx_on: the driver's transmitter is started (its interrupt
 * will call console_tx_irq); it is stopped, under the lock, only when the ring is empty. */
static char out_buf[CONSOLE_OUT_SIZE];
static unsigned out_head, out_tail;        /* head: next byte out, tail: next byte in */
static bool tx_irq, tx_on;
static uint64_t out_bytes, out_polled;

static struct spinlock in_lock = SPINLOCK_INIT("console_in");
static char in_buf[CONSOLE_IN_SIZE];
static unsigned in_head, in_tail;          /* head: next read, tail: next write; free-running */
static uint64_t in_bytes, in_dropped;
static struct waitq in_wait = WAITQ_INIT(in_wait, "console_in");

static void sbi_putc(char c) { sbi_call(SBI_LEGACY_PUTCHAR, 0, c, 0, 0); }

void console_set_output(const struct console_ops *ops) { out_ops = ops; }

static void (*putc_fn(void))(char) { return out_ops ? out_ops->putc : sbi_putc; }

/* Puts out every queued byte, polled. Caller holds console_lock (or is panicking). */
static void drain_polled(void)
{
	void (*put)(char) = putc_fn();
	while (out_head != out_tail) {
		put(out_buf[out_head++ % CONSOLE_OUT_SIZE]);
		out_polled++;
	}
}

void console_set_tx_irq(void)
{
	spin_lock(&console_lock);
	tx_irq = out_ops && out_ops->start_tx && out_ops->stop_tx;
	spin_unlock(&console_lock);
}

void console_panic_mode(void)
{
	panicking = true;
	drain_polled();         /* what was queued comes before the panic report */
}

void console_flush(void)
{
	if (panicking) {        /* the lock may be held by a hart that was stopped */
		drain_polled();
		return;
	}
	spin_lock(&console_lock);
	drain_polled();
	spin_unlock(&console_lock);
}

/* Queues one byte; a full ring first gives up its oldest byte to the wire. Under console_lock. */
static void queue_byte(char c)
{
	if (out_tail - out_head == CONSOLE_OUT_SIZE) {
		putc_fn()(out_buf[out_head++ % CONSOLE_OUT_SIZE]);
		out_polled++;
	}
	out_buf[out_tail++ % CONSOLE_OUT_SIZE] = c;
	out_bytes++;
}

void console_write(const char *s, size_t n)
{
	if (panicking) {
		void (*put)(char) = putc_fn();
		drain_polled();
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\n')
				put('\r');
			put(s[i]);
		}
		return;
	}
	spin_lock(&console_lock);
	if (!tx_irq) {
		void (*put)(char) = putc_fn();
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\n')
				put('\r');
			put(s[i]);
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\n')
				queue_byte('\r');
			queue_byte(s[i]);
		}
		if (!tx_on && out_head != out_tail) {
			tx_on = true;
			out_ops->start_tx();
		}
	}
	spin_unlock(&console_lock);
}

void console_tx_irq(void)
{
	spin_lock(&console_lock);
	if (out_ops && out_ops->tx_room) {
		for (int room = out_ops->tx_room(); room > 0 && out_head != out_tail; room--)
			out_ops->tx_byte(out_buf[out_head++ % CONSOLE_OUT_SIZE]);
	}
	if (out_head == out_tail && tx_on) {
		tx_on = false;
		out_ops->stop_tx();
	}
	spin_unlock(&console_lock);
}

uint64_t console_tx_bytes(void) { return out_bytes; }
uint64_t console_tx_polled(void) { return out_polled; }

static bool (*intr_hook)(char c);

void console_set_intr_hook(bool (*hook)(char c)) { intr_hook = hook; }

void console_input(char c)
{
	if (intr_hook && intr_hook(c))
		return;
	spin_lock(&in_lock);
	if (in_tail - in_head < CONSOLE_IN_SIZE) {
		in_buf[in_tail++ % CONSOLE_IN_SIZE] = c;
		in_bytes++;
	} else {
		in_dropped++;
	}
	spin_unlock(&in_lock);
	wake_all(&in_wait);
}

/* The next buffered byte, or -1 when the ring is empty. */
static int take_byte(void)
{
	int c = -1;
	spin_lock(&in_lock);
	if (in_tail != in_head)
		c = (uint8_t)in_buf[in_head++ % CONSOLE_IN_SIZE];
	spin_unlock(&in_lock);
	return c;
}

int console_getc(void)
{
	struct wait_entry e = { .queued = false };
	int c;
	for (;;) {
		prepare_to_wait(&in_wait, &e);        /* queued before the check: no lost wake-up */
		if ((c = take_byte()) >= 0)
			break;
		if (signal_pending()) {
			c = -ERESTARTSYS;
			break;
		}
		wait_schedule(TIMER_NONE);
	}
	finish_wait(&in_wait, &e);
	return c;
}

bool console_input_any(bool (*match)(int c, void *arg), void *arg)
{
	bool found = false;
	spin_lock(&in_lock);
	for (unsigned i = in_head; i != in_tail && !found; i++)
		found = !match || match((uint8_t)in_buf[i % CONSOLE_IN_SIZE], arg);
	spin_unlock(&in_lock);
	return found;
}

struct waitq *console_waitq(void) { return &in_wait; }

uint64_t console_rx_bytes(void) { return in_bytes; }
