/* SYN cookie arithmetic (the theory is in net/syncookie.h). Pure functions: callers supply the keys
 * and the counter, so the host unit test (tests/unit/test_syncookie.c) drives them directly. */
#include "net/syncookie.h"

#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)

const uint16_t syncookie_mss[SYNCOOKIE_MSS_COUNT] = { 536, 1300, 1440, 1460 };

unsigned syncookie_mss_index(unsigned peer_mss)
{
	for (unsigned i = SYNCOOKIE_MSS_COUNT - 1; i > 0; i--)
		if (peer_mss >= syncookie_mss[i])
			return i;
	return 0;
}

uint32_t syncookie_counter(uint64_t seconds) { return (uint32_t)(seconds / SYNCOOKIE_PERIOD_S); }

/* SipHash of the tuple and counter under key k[which], serialized byte by byte (no padding, the
 * same on any host). */
static uint32_t cookie_hash6(const struct syncookie_key *key, int which, const struct syncookie_tuple *t,
			     uint32_t counter)
{
	uint8_t m[40];
	for (int i = 0; i < 16; i++) {
		m[i] = t->peer6[i];
		m[16 + i] = t->local6[i];
	}
	m[32] = (uint8_t)t->peer_port;
	m[33] = (uint8_t)(t->peer_port >> 8);
	m[34] = (uint8_t)t->local_port;
	m[35] = (uint8_t)(t->local_port >> 8);
	for (int i = 0; i < 4; i++)
		m[36 + i] = (uint8_t)(counter >> (8 * i));
	return (uint32_t)siphash_2_4(key->k[which], m, sizeof(m));
}

static uint32_t cookie_hash(const struct syncookie_key *key, int which, const struct syncookie_tuple *t,
			    uint32_t counter)
{
	if (t->v6)
		return cookie_hash6(key, which, t, counter);
	uint8_t m[16];
	uint32_t words[3] = { t->peer_addr, t->local_addr, counter };
	for (int i = 0; i < 4; i++) {
		m[i] = (uint8_t)(words[0] >> (8 * i));
		m[4 + i] = (uint8_t)(words[1] >> (8 * i));
		m[12 + i] = (uint8_t)(words[2] >> (8 * i));
	}
	m[8] = (uint8_t)t->peer_port;
	m[9] = (uint8_t)(t->peer_port >> 8);
	m[10] = (uint8_t)t->local_port;
	m[11] = (uint8_t)(t->local_port >> 8);
	return (uint32_t)siphash_2_4(key->k[which], m, sizeof(m));
}

uint32_t syncookie_make(const struct syncookie_key *key, const struct syncookie_tuple *t, uint32_t peer_isn,
			uint32_t counter, unsigned mss_index)
{
	return cookie_hash(key, 0, t, 0) + peer_isn + (counter << COOKIE_BITS) +
	       ((cookie_hash(key, 1, t, counter) + mss_index) & COOKIE_MASK);
}

int syncookie_check(const struct syncookie_key *key, const struct syncookie_tuple *t, uint32_t cookie,
		    uint32_t peer_isn, uint32_t counter)
{
	cookie -= cookie_hash(key, 0, t, 0) + peer_isn;
	uint32_t age = (counter - (cookie >> COOKIE_BITS)) & (0xffffffffu >> COOKIE_BITS);
	if (age >= SYNCOOKIE_MAX_AGE)
		return -1;
	uint32_t idx = (cookie - cookie_hash(key, 1, t, counter - age)) & COOKIE_MASK;
	return idx < SYNCOOKIE_MSS_COUNT ? (int)idx : -1;
}
