/*
 * Console multiplexer. Output: console_write takes console_lock and emits the bytes through the
 * registered driver's polled putc, turning "\n" into "\r\n". Before a driver registers, the SBI
 * legacy console putchar is used so early panics still print. Input: the UART interrupt handler
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
#define SBI_LEGACY_PUTCHAR 0x01

static struct spinlock console_lock = SPINLOCK_INIT("console");
static const struct console_ops *out_ops;
static volatile bool panicking;

static struct spinlock in_lock = SPINLOCK_INIT("console_in");
static char in_buf[CONSOLE_IN_SIZE];
static unsigned in_head, in_tail;          /* head: next read, tail: next write; free-running */
static uint64_t in_bytes, in_dropped;
static struct waitq in_wait = WAITQ_INIT(in_wait, "console_in");

static void sbi_putc(char c) { sbi_call(SBI_LEGACY_PUTCHAR, 0, c, 0, 0); }

void console_set_output(const struct console_ops *ops) { out_ops = ops; }

void console_panic_mode(void) { panicking = true; }

void console_write(const char *s, size_t n)
{
	bool locked = !panicking;
	if (locked)
		spin_lock(&console_lock);
	void (*put)(char) = out_ops ? out_ops->putc : sbi_putc;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			put('\r');
		put(s[i]);
	}
	if (locked)
		spin_unlock(&console_lock);
}

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
