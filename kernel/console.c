/*
 * Console multiplexer. Output: console_write takes console_lock and emits the bytes through the
 * registered driver's polled putc, turning "\n" into "\r\n". Before a driver registers, the SBI
 * legacy console putchar is used so early panics still print. Input: the UART interrupt handler
 * calls console_input, which stores the byte in a ring (dropped when full, counted) and wakes
 * readers; console_getc sleeps on the wait queue until a byte is there.
 * Lock order: console_lock is a leaf (nothing is taken under it). in_lock guards the input ring.
 */
#include "kernel/console.h"
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

void console_input(char c)
{
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

static bool input_ready(void) { return READ_ONCE(in_tail) != READ_ONCE(in_head); }

int console_getc(void)
{
	for (;;) {
		wait_event(&in_wait, input_ready());
		spin_lock(&in_lock);
		if (in_tail != in_head) {
			char c = in_buf[in_head++ % CONSOLE_IN_SIZE];
			spin_unlock(&in_lock);
			return (uint8_t)c;
		}
		spin_unlock(&in_lock);
	}
}

uint64_t console_rx_bytes(void) { return in_bytes; }
