/* Freestanding string and memory routines. memcpy/memset move 8 bytes at a time when aligned:
 * they sit on every copy path (packets, pages), so they matter. */
#include "lib/string.h"

/* A 64-bit load from any address: RISC-V permits misaligned loads (QEMU performs them directly;
 * hardware may trap to firmware, which emulates them), and the compiler would otherwise split an
 * unaligned access into bytes. */
static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
#ifdef __riscv
	__asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(p) : "memory");
#else
	__builtin_memcpy(&v, p, sizeof(v));  /* host unit tests */
#endif
	return v;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (n >= 16) {
		while ((uintptr_t)d & 7) {           /* align the destination; the source may stay odd */
			*d++ = *s++;
			n--;
		}
		if (((uintptr_t)s & 7) == 0) {
			while (n >= 32) {
				uint64_t a = ((const uint64_t *)s)[0], b = ((const uint64_t *)s)[1];
				uint64_t c = ((const uint64_t *)s)[2], e = ((const uint64_t *)s)[3];
				((uint64_t *)d)[0] = a; ((uint64_t *)d)[1] = b;
				((uint64_t *)d)[2] = c; ((uint64_t *)d)[3] = e;
				d += 32; s += 32; n -= 32;
			}
		} else {
			while (n >= 32) {
				uint64_t a = load64(s), b = load64(s + 8), c = load64(s + 16), e = load64(s + 24);
				((uint64_t *)d)[0] = a; ((uint64_t *)d)[1] = b;
				((uint64_t *)d)[2] = c; ((uint64_t *)d)[3] = e;
				d += 32; s += 32; n -= 32;
			}
		}
		while (n >= 8) { *(uint64_t *)d = load64(s); d += 8; s += 8; n -= 8; }
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;
	if (((uintptr_t)d & 7) == 0) {
		uint64_t v = (uint8_t)c * 0x0101010101010101ULL;
		while (n >= 8) { *(uint64_t *)d = v; d += 8; n -= 8; }
	}
	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
size_t strnlen(const char *s, size_t max) { size_t n = 0; while (n < max && s[n]) n++; return n; }

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) { a++; b++; }
	return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (uint8_t)*a - (uint8_t)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;
	while (*s == ' ')
		s++;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = 10;
	}
	for (;; s++) {
		int d;
		if (*s >= '0' && *s <= '9') d = *s - '0';
		else if (*s >= 'a' && *s <= 'z') d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'Z') d = *s - 'A' + 10;
		else break;
		if (d >= base)
			break;
		v = v * base + d;
	}
	if (end)
		*end = (char *)s;
	return v;
}
