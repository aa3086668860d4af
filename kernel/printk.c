/*
 * printk and a small vsnprintf (%d %i %u %x %X %p %s %c %%, with l/ll/z length, width, '0' and '-').
 * printk formats the whole message on the stack first and hands it to console_write in one piece,
 * which writes it under the console lock: lines from different harts never interleave.
 */
#include "kernel/printk.h"
#include "kernel/console.h"
#include "kernel/klog.h"
#include "lib/string.h"

#define PRINTK_MAX 512

struct outbuf { char *buf; size_t size, len; };

static void out_c(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_num(struct outbuf *o, unsigned long long v, int base, bool upper, bool neg,
		    int width, char pad, bool left)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	int len = n + (neg ? 1 : 0);
	if (neg && pad == '0')
		out_c(o, '-');
	if (!left)
		for (; width > len; width--)
			out_c(o, pad);
	if (neg && pad != '0')
		out_c(o, '-');
	while (n)
		out_c(o, tmp[--n]);
	if (left)
		for (; width > len; width--)
			out_c(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { buf, size, 0 };
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out_c(&o, *fmt);
			continue;
		}
		fmt++;
		bool left = false, alt = false;
		char pad = ' ';
		int width = 0, lng = 0;
		for (;; fmt++) {
			if (*fmt == '-') left = true;
			else if (*fmt == '#') alt = true;
			else if (*fmt == '0') pad = '0';
			else break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		if (left)
			pad = ' ';
		switch (*fmt) {
		case 'd': case 'i': {
			long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
			out_num(&o, v < 0 ? -(unsigned long long)v : (unsigned long long)v, 10, false, v < 0,
				width, pad, left);
			break;
		}
		case 'u': case 'x': case 'X': {
			unsigned long long v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
			if (alt && *fmt != 'u') {
				out_c(&o, '0');
				out_c(&o, 'x');
				width = width > 2 ? width - 2 : 0;
			}
			out_num(&o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', false, width, pad, left);
			break;
		}
		case 'p':
			out_c(&o, '0');
			out_c(&o, 'x');
			out_num(&o, (uintptr_t)va_arg(ap, void *), 16, false, false, width, pad, left);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int len = (int)strlen(s);
			if (!left)
				for (; width > len; width--)
					out_c(&o, ' ');
			while (*s)
				out_c(&o, *s++);
			if (left)
				for (; width > len; width--)
					out_c(&o, ' ');
			break;
		}
		case 'c':
			out_c(&o, (char)va_arg(ap, int));
			break;
		case '%':
			out_c(&o, '%');
			break;
		case 0:
			fmt--;
			break;
		default:
			out_c(&o, '%');
			out_c(&o, *fmt);
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[PRINTK_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	klog_write(buf, n < PRINTK_MAX ? (size_t)n : PRINTK_MAX - 1);     /* for dmesg: kernel/klog.c */
	if (klog_console_on())                        /* syslog(2)'s console level */
		console_write(buf, n < PRINTK_MAX ? (size_t)n : PRINTK_MAX - 1);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void bufprintf(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	if (*n + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf + *n, size - *n, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n = MIN(*n + (size_t)w, size - 1);
}
