/*
 * Character devices in /dev (devtmpfs, fs/super.c): null, zero, and the console (/dev/console,
 * /dev/tty). Block devices register through fs/blkdev.h.
 *
 * The console is a minimal terminal. Output goes straight to console_write (which turns "\n"
 * into "\r\n"). Input in canonical mode (ICANON, the default) is edited a line at a time: bytes
 * are echoed, backspace/DEL erases one, ^U the whole line, ^C discards it, ^D ends input (an empty
 * line reads as end of file), and a read returns at most one line; what the reader's buffer did
 * not take is kept for the next read. With ICANON off each read returns one byte as it arrives.
 * TCGETS/TCSETS* read and set a struct termios (only ICANON, ECHO and ICRNL change behaviour),
 * TIOCGWINSZ/TIOCSWINSZ a window size (24x80 by default). Job control (the foreground process
 * group, ^C, ^\ and ^Z with ISIG, background reads and TOSTOP writes): tty_job.c.
 *
 * Reads sleep in console_getc and are interrupted by signals (-ERESTARTSYS: restarted or EINTR as
 * the handler says); a line being edited when the signal came stays in the buffer (done false)
 * and the next read goes on editing it, so no typed byte is lost.
 *
 * poll: always writable; readable when a read would not sleep: in canonical mode when a finished
 * line is buffered or the console's input ring holds a byte that ends a line (newline, CR with
 * ICRNL, VEOF); otherwise when any byte is buffered or waiting. The wait queue is the console's
 * input queue, woken by every byte that arrives.
 *
 * Locks: tty.rlock (sleeplock) makes one reader at a time own the line buffer (line, len, pos,
 * done); it is held while sleeping in console_getc. tty.lock (spinlock) guards termios and winsize.
 * poll reads len/pos/done without rlock: a racy snapshot, corrected by the wake-up that follows.
 */
#include "fs/internal.h"
#include "fs/tmpfs.h"
#include "kernel/console.h"
#include "kernel/errno.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define TTY_LINE_MAX 1024
#define TTY_ROWS 24
#define TTY_COLS 80
#define WRITE_CHUNK 256                      /* bytes copied from user space per console_write */
#define MEM_MAJOR 1                          /* Linux device numbers */
#define NULL_MINOR 3
#define ZERO_MINOR 5
#define TTY_MAJOR 5
#define TTY_MINOR 0
#define CONSOLE_MINOR 1
#define CTRL(c) ((c) & 0x1f)
#define LINUX_SIGINT 2
#define LINUX_SIGQUIT 3
#define LINUX_SIGTSTP 20
#define LINUX_SIGTTIN 21
#define LINUX_SIGTTOU 22
#define ASCII_DEL 0x7f

static struct {
	struct sleeplock rlock;
	char line[TTY_LINE_MAX];
	size_t len, pos;                     /* cooked bytes [pos, len) not yet read */
	bool done;                           /* line[0, len) is a finished line (else being edited) */
	struct spinlock lock;
	struct linux_termios tio;
	struct linux_winsize ws;
} tty;

/* ---- /dev/null and /dev/zero ---- */

static long null_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)ubuf; (void)n; (void)pos;
	return 0;
}

static long null_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)ubuf; (void)pos;
	return n;
}

static long zero_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)pos;
	return clear_user(ubuf, n) ? -EFAULT : (long)n;
}

static long null_llseek(struct file *f, long off, int whence)
{
	(void)off; (void)whence;
	return f->pos = 0;
}

static const struct file_ops null_ops = { .read = null_read, .write = null_write, .llseek = null_llseek };
static const struct file_ops zero_ops = { .read = zero_read, .write = null_write, .llseek = null_llseek };

/* ---- the console ---- */

static void echo(const char *s, size_t n)
{
	if (READ_ONCE(tty.tio.c_lflag) & TIO_ECHO)
		console_write(s, n);
}

/* c is the control character cc[i] (0 disables one, as _POSIX_VDISABLE) */
static bool is_cc(const struct linux_termios *t, int i, int c) { return t->c_cc[i] && c == t->c_cc[i]; }

/* Edits the line in tty.line until it is finished (rlock held): 0, or -ERESTARTSYS when a signal
 * interrupts the wait for input (what was typed so far stays for the next read). */
static int tty_edit_line(void)
{
	while (!tty.done) {
		int c = console_getc();
		if (c < 0)
			return c;
		struct linux_termios t = tty.tio;    /* a racy copy is fine: flags only steer editing */
		if (c == '\r' && (t.c_iflag & TIO_ICRNL))
			c = '\n';
		if (is_cc(&t, VERASE, c) || c == '\b') {
			if (tty.len) {
				tty.len--;
				echo("\b \b", 3);
			}
		} else if (is_cc(&t, VKILL, c)) {
			for (; tty.len; tty.len--)
				echo("\b \b", 3);
		} else if (is_cc(&t, VINTR, c)) {
			tty.len = 0;
			echo("^C\n", 3);
		} else if (is_cc(&t, VEOF, c)) {
			tty.done = true;             /* the line so far, without a newline */
		} else if (c == '\n') {
			tty.line[tty.len++] = '\n';
			echo("\n", 1);
			tty.done = true;
		} else if (tty.len < TTY_LINE_MAX - 1) {     /* room kept for the newline */
			char ch = c;
			tty.line[tty.len++] = ch;
			echo(&ch, 1);
		}
	}
	return 0;
}

static long tty_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	(void)f; (void)pos;
	if (n == 0)
		return 0;
	long bg = tty_job_check(LINUX_SIGTTIN);      /* a background job's read: tty_job.c */
	if (bg)
		return bg;
	sleep_lock(&tty.rlock);
	long ret;
	bool canon = READ_ONCE(tty.tio.c_lflag) & TIO_ICANON;
	if (!canon && tty.pos == tty.len) {
		int c = console_getc();
		if (c >= 0) {
			char ch = c;
			if (ch == '\r' && (READ_ONCE(tty.tio.c_iflag) & TIO_ICRNL))
				ch = '\n';
			echo(&ch, 1);
			ret = copy_to_user(ubuf, &ch, 1) ? -EFAULT : 1;
		} else {
			ret = c;
		}
	} else if (canon && (ret = tty_edit_line()) < 0) {
		/* interrupted: the partial line stays */
	} else {
		/* a finished line (canonical), or what is left of one (the mode changed under it) */
		size_t k = MIN(n, tty.len - tty.pos);
		ret = copy_to_user(ubuf, tty.line + tty.pos, k) ? -EFAULT : (long)k;
		if (ret >= 0) {
			tty.pos += k;
			if (tty.pos == tty.len) {    /* consumed (an empty finished line is EOF) */
				tty.pos = tty.len = 0;
				tty.done = false;
			}
		}
	}
	sleep_unlock(&tty.rlock);
	return ret;
}

static long tty_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos)
{
	char buf[WRITE_CHUNK];
	size_t done = 0;
	(void)f; (void)pos;
	if (READ_ONCE(tty.tio.c_lflag) & TIO_TOSTOP) {
		long bg = tty_job_check(LINUX_SIGTTOU);
		if (bg)
			return bg;
	}
	while (done < n) {
		size_t k = MIN(n - done, sizeof(buf));
		if (copy_from_user(buf, ubuf + done, k))
			return done ? (long)done : -EFAULT;
		console_write(buf, k);
		done += k;
	}
	return done;
}

static long tty_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
	struct linux_termios t;
	struct linux_winsize ws;
	(void)f;
	switch (cmd) {
	case TCGETS:
		spin_lock(&tty.lock);
		t = tty.tio;
		spin_unlock(&tty.lock);
		return copy_to_user(arg, &t, sizeof(t));
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		if (copy_from_user(&t, arg, sizeof(t)))
			return -EFAULT;
		spin_lock(&tty.lock);
		tty.tio = t;
		spin_unlock(&tty.lock);
		return 0;
	case TIOCGWINSZ:
		spin_lock(&tty.lock);
		ws = tty.ws;
		spin_unlock(&tty.lock);
		return copy_to_user(arg, &ws, sizeof(ws));
	case TIOCSWINSZ:
		if (copy_from_user(&ws, arg, sizeof(ws)))
			return -EFAULT;
		spin_lock(&tty.lock);
		tty.ws = ws;
		spin_unlock(&tty.lock);
		return 0;
	}
	return tty_job_ioctl(cmd, arg);          /* TIOCGPGRP, TIOCSPGRP ...: tty_job.c */
}

/* Interrupt context: byte c arrived. With ISIG, ^C, ^\ and ^Z signal the foreground process group
 * (tty_job.c) and are consumed; a line being typed stays (Linux would flush it). With no
 * foreground group the byte goes on to the line editor, which drops the line on ^C. True: do
 * not buffer it. */
static bool tty_intr(char c)
{
	spin_lock(&tty.lock);
	struct linux_termios t = tty.tio;
	spin_unlock(&tty.lock);
	if (!(t.c_lflag & TIO_ISIG))
		return false;
	int sig = is_cc(&t, VINTR, (uint8_t)c) ? LINUX_SIGINT : is_cc(&t, VQUIT, (uint8_t)c) ? LINUX_SIGQUIT :
		  is_cc(&t, VSUSP, (uint8_t)c) ? LINUX_SIGTSTP : 0;
	return sig && tty_job_signal(sig);
}

/* Does byte c end a canonical line under termios *arg? (the same tests as tty_edit_line) */
static bool ends_line(int c, void *arg)
{
	const struct linux_termios *t = arg;
	return c == '\n' || (c == '\r' && (t->c_iflag & TIO_ICRNL)) || is_cc(t, VEOF, c);
}

static unsigned tty_poll(struct file *f)
{
	(void)f;
	struct linux_termios t;
	spin_lock(&tty.lock);
	t = tty.tio;
	spin_unlock(&tty.lock);
	bool in;
	if (t.c_lflag & TIO_ICANON)
		in = READ_ONCE(tty.done) || console_input_any(ends_line, &t);
	else
		in = READ_ONCE(tty.pos) < READ_ONCE(tty.len) || console_input_any(NULL, NULL);
	return EPOLLOUT | EPOLLWRNORM | (in ? EPOLLIN | EPOLLRDNORM : 0);
}

static struct waitq *tty_waitq(struct file *f)
{
	(void)f;
	return console_waitq();
}

static const struct file_ops tty_ops = {
	.read = tty_read,
	.write = tty_write,
	.ioctl = tty_ioctl,
	.poll = tty_poll,
	.waitq = tty_waitq,
};

static void tty_init(void)
{
	static const uint8_t cc[LINUX_NCCS] = {   /* Linux INIT_C_CC */
		CTRL('C'), CTRL('\\'), ASCII_DEL, CTRL('U'), CTRL('D'), 0, 1, 0, CTRL('Q'), CTRL('S'),
		CTRL('Z'), 0, CTRL('R'), CTRL('O'), CTRL('W'), CTRL('V'), 0,
	};
	sleeplock_init(&tty.rlock, "tty_read");
	spin_init(&tty.lock, "tty");
	tty.tio.c_iflag = TIO_ICRNL | TIO_IXON;
	tty.tio.c_oflag = TIO_OPOST | TIO_ONLCR;
	tty.tio.c_cflag = TIO_CFLAG_DEFAULT;
	tty.tio.c_lflag = TIO_ISIG | TIO_ICANON | TIO_ECHO | TIO_ECHOE | TIO_ECHOK | TIO_ECHOCTL |
			  TIO_ECHOKE | TIO_IEXTEN;
	memcpy(tty.tio.c_cc, cc, sizeof(cc));
	tty.ws.ws_row = TTY_ROWS;
	tty.ws.ws_col = TTY_COLS;
	console_set_intr_hook(tty_intr);
}

/* ---- device nodes ---- */

/* Paths name /dev/... ; the node is made in devtmpfs's own tree, mounted or not. */
int dev_create(const char *path, uint32_t perm, unsigned major, unsigned minor,
	       const struct file_ops *fops, void *priv)
{
	static const char prefix[] = "/dev/";
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return -EINVAL;
	return tmpfs_make_node(dev_sb->root, path + sizeof(prefix) - 1, S_IFCHR | (perm & 07777),
			       linux_dev(major, minor), fops, NULL, priv);
}

int dev_init(void)
{
	tty_init();
	int err = 0;
	err = err ?: dev_create("/dev/null", 0666, MEM_MAJOR, NULL_MINOR, &null_ops, NULL);
	err = err ?: dev_create("/dev/zero", 0666, MEM_MAJOR, ZERO_MINOR, &zero_ops, NULL);
	err = err ?: dev_create("/dev/console", 0600, TTY_MAJOR, CONSOLE_MINOR, &tty_ops, NULL);
	err = err ?: dev_create("/dev/tty", 0666, TTY_MAJOR, TTY_MINOR, &tty_ops, NULL);
	err = err ?: dev_mem_init();              /* random, urandom, full: dev_mem.c */
	err = err ?: dev_rtc_init();              /* rtc0: dev_rtc.c */
	return err;
}
