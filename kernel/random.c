/* Pseudo-random numbers (see random.h). Each CPU's state is touched only by that CPU with
 * interrupts off; it is mixed with the time counter on first use and on every getrandom call. */
#include "kernel/random.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/spinlock.h"
#include "mm/uaccess.h"
#include "arch/riscv/riscv.h"

#define GRND_NONBLOCK 1
#define GRND_RANDOM 2
#define GRND_INSECURE 4
#define GETRANDOM_MAX (32 * 1024 * 1024)

static uint64_t state[NCPU][4];

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t random_u64(void)
{
	irq_push_off();
	uint64_t *s = state[cpu_id()];
	if (!(s[0] | s[1] | s[2] | s[3])) {
		uint64_t seed = rdtime() ^ ((uint64_t)cpu_id() << 56);
		for (int i = 0; i < 4; i++)
			s[i] = splitmix(&seed);
	}
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	irq_pop_off();
	return r;
}

void get_random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n) {
		uint64_t r = random_u64();
		for (int i = 0; i < 8 && n; i++, n--, r >>= 8)
			*p++ = (uint8_t)r;
	}
}

long sys_getrandom(uintptr_t buf, size_t len, unsigned flags)
{
	if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if (len > GETRANDOM_MAX)
		len = GETRANDOM_MAX;
	uint8_t chunk[256];
	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		get_random_bytes(chunk, n);
		if (copy_to_user(buf + done, chunk, n) < 0)
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)len;
}
