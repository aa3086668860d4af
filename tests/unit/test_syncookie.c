// unit-sources: net/syncookie.c lib/siphash.c
/*
 * SipHash-2-4 against the reference vectors, and SYN cookies (net/syncookie.c): every MSS index
 * round-trips through make/check, within and only within SYNCOOKIE_MAX_AGE counter ticks, for the
 * tuple, peer ISN and keys it was made with; wrap-around of sequence numbers and of the 8-bit
 * counter field; and a forger without the keys almost never finds a valid cookie.
 */
#include <string.h>
#include "tests/unit/unit.h"
#include "net/syncookie.h"

static const uint8_t ref_key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* The reference implementation's vectors_sip64 (key 00..0f, message 00..n-1). */
TEST(siphash_reference_vectors)
{
	uint8_t m[16];
	for (int i = 0; i < 16; i++)
		m[i] = (uint8_t)i;
	CHECK(siphash_2_4(ref_key, m, 0) == 0x726fdb47dd0e0e31ULL);
	CHECK(siphash_2_4(ref_key, m, 1) == 0x74f839c593dc67fdULL);
	CHECK(siphash_2_4(ref_key, m, 8) == 0x93f5f5799a932462ULL);
	CHECK(siphash_2_4(ref_key, m, 15) == 0xa129ca6149be45e5ULL);
	CHECK(siphash_2_4(ref_key, m, 16) == 0x3f2acc7f57c29bdbULL);
}

/* A tiny deterministic generator for keys, tuples and ISNs. */
static uint64_t rng = 0x1234567887654321ULL;
static uint32_t next32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void random_key(struct syncookie_key *k)
{
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < SIPHASH_KEY_LEN; j++)
			k->k[i][j] = (uint8_t)next32();
}

static struct syncookie_tuple random_tuple(void)
{
	return (struct syncookie_tuple){ .peer_addr = 0xc0a84d00 | (next32() & 0xff), .local_addr = 0xc0a84d02,
					 .peer_port = (uint16_t)next32(), .local_port = 5000 };
}

TEST(mss_index_picks_largest_not_above)
{
	CHECK_EQ(syncookie_mss_index(0), 0);
	CHECK_EQ(syncookie_mss_index(535), 0);
	CHECK_EQ(syncookie_mss_index(536), 0);
	CHECK_EQ(syncookie_mss_index(1299), 0);
	CHECK_EQ(syncookie_mss_index(1300), 1);
	CHECK_EQ(syncookie_mss_index(1440), 2);
	CHECK_EQ(syncookie_mss_index(1459), 2);
	CHECK_EQ(syncookie_mss_index(1460), 3);
	CHECK_EQ(syncookie_mss_index(65495), 3);
	for (unsigned i = 1; i < SYNCOOKIE_MSS_COUNT; i++)
		CHECK(syncookie_mss[i] > syncookie_mss[i - 1]);
}

TEST(counter_ticks_every_period)
{
	CHECK_EQ(syncookie_counter(0), 0);
	CHECK_EQ(syncookie_counter(SYNCOOKIE_PERIOD_S - 1), 0);
	CHECK_EQ(syncookie_counter(SYNCOOKIE_PERIOD_S), 1);
	CHECK_EQ(syncookie_counter(10 * SYNCOOKIE_PERIOD_S + 3), 10);
}

TEST(round_trip_every_mss_and_age)
{
	struct syncookie_key k;
	for (int round = 0; round < 2000; round++) {
		random_key(&k);
		struct syncookie_tuple t = random_tuple();
		uint32_t isn = next32(), counter = next32();   /* any counter: the field wraps at 8 bits */
		unsigned idx = next32() % SYNCOOKIE_MSS_COUNT;
		uint32_t c = syncookie_make(&k, &t, isn, counter, idx);
		CHECK_EQ(syncookie_check(&k, &t, c, isn, counter), idx);
		CHECK_EQ(syncookie_check(&k, &t, c, isn, counter + SYNCOOKIE_MAX_AGE - 1), idx);
		CHECK_EQ(syncookie_check(&k, &t, c, isn, counter + SYNCOOKIE_MAX_AGE), -1);   /* too old */
		CHECK_EQ(syncookie_check(&k, &t, c, isn, counter + 200), -1);
		CHECK_EQ(syncookie_check(&k, &t, c, isn, counter - 1), -1);                   /* from the future */
	}
}

TEST(sequence_numbers_wrap)
{
	struct syncookie_key k;
	random_key(&k);
	struct syncookie_tuple t = random_tuple();
	uint32_t isns[] = { 0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff };
	for (size_t i = 0; i < sizeof(isns) / sizeof(isns[0]); i++)
		for (unsigned idx = 0; idx < SYNCOOKIE_MSS_COUNT; idx++) {
			uint32_t c = syncookie_make(&k, &t, isns[i], 255, idx);  /* the counter's byte about to wrap */
			CHECK_EQ(syncookie_check(&k, &t, c, isns[i], 255), idx);
			CHECK_EQ(syncookie_check(&k, &t, c, isns[i], 256), idx);
			CHECK_EQ(syncookie_check(&k, &t, c, isns[i], 257), -1);
		}
}

TEST(bound_to_tuple_isn_and_keys)
{
	struct syncookie_key k, other;
	int accepted = 0, tries = 0;
	for (int round = 0; round < 2000; round++) {
		random_key(&k);
		other = k;
		other.k[round & 1][next32() % SIPHASH_KEY_LEN] ^= (uint8_t)(1u << (next32() % 8));
		struct syncookie_tuple t = random_tuple();
		uint32_t isn = next32(), counter = next32();
		uint32_t c = syncookie_make(&k, &t, isn, counter, next32() % SYNCOOKIE_MSS_COUNT);
		struct syncookie_tuple v[4] = { t, t, t, t };
		v[0].peer_addr ^= 1u << (next32() % 32);
		v[1].local_addr ^= 1u << (next32() % 32);
		v[2].peer_port ^= (uint16_t)(1u << (next32() % 16));
		v[3].local_port ^= (uint16_t)(1u << (next32() % 16));
		for (int i = 0; i < 4; i++, tries++)
			accepted += syncookie_check(&k, &v[i], c, isn, counter) >= 0;
		/* a neighbouring ISN or cookie decodes to a neighbouring MSS index (Linux's cookies too: it
		 * takes the real cookie to get there), so step by more than the table */
		uint32_t step = SYNCOOKIE_MSS_COUNT + next32() % 1000;
		accepted += syncookie_check(&k, &t, c, isn + step, counter) >= 0;   /* another ISN */
		accepted += syncookie_check(&k, &t, c + step, isn, counter) >= 0;   /* another cookie */
		accepted += syncookie_check(&other, &t, c, isn, counter) >= 0;                     /* another key */
		tries += 3;
	}
	/* each wrong guess passes with probability about 2 * 4 / 2^24 */
	CHECK(tries == 14000);
	CHECK(accepted <= 1);
}

/* IPv6 tuples: the cookie covers every bit of both 128-bit addresses */
static struct syncookie_tuple random_tuple6(void)
{
	struct syncookie_tuple t = { .peer_port = (uint16_t)next32(), .local_port = 5000, .v6 = true };
	for (int i = 0; i < 16; i++) {
		t.peer6[i] = (uint8_t)next32();
		t.local6[i] = (uint8_t)next32();
	}
	return t;
}

TEST(ipv6_round_trip_and_bound_to_all_address_bits)
{
	struct syncookie_key k;
	int accepted = 0, tries = 0;
	for (int round = 0; round < 2000; round++) {
		random_key(&k);
		struct syncookie_tuple t = random_tuple6();
		uint32_t isn = next32(), counter = next32();
		unsigned idx = next32() % SYNCOOKIE_MSS_COUNT;
		uint32_t c = syncookie_make(&k, &t, isn, counter, idx);
		CHECK_EQ(syncookie_check(&k, &t, c, isn, counter), idx);
		CHECK_EQ(syncookie_check(&k, &t, c, isn, counter + SYNCOOKIE_MAX_AGE - 1), idx);
		CHECK_EQ(syncookie_check(&k, &t, c, isn, counter + SYNCOOKIE_MAX_AGE), -1);
		struct syncookie_tuple v[3] = { t, t, t };
		v[0].peer6[next32() % 16] ^= (uint8_t)(1u << (next32() % 8));
		v[1].local6[next32() % 16] ^= (uint8_t)(1u << (next32() % 8));
		v[2].v6 = false;                          /* the same ports as an IPv4 tuple */
		for (int i = 0; i < 3; i++, tries++)
			accepted += syncookie_check(&k, &v[i], c, isn, counter) >= 0;
	}
	CHECK(tries == 6000);
	CHECK(accepted <= 1);
}

TEST(forged_cookies_rarely_pass)
{
	struct syncookie_key k;
	random_key(&k);
	struct syncookie_tuple t = random_tuple();
	int accepted = 0;
	for (int i = 0; i < 200000; i++)
		accepted += syncookie_check(&k, &t, next32(), 1000, 77) >= 0;
	/* expected 200000 * 8 / 2^32 = 0.0004 */
	CHECK(accepted <= 1);
}

UNIT_TESTS(CASE(siphash_reference_vectors), CASE(mss_index_picks_largest_not_above), CASE(counter_ticks_every_period),
	   CASE(round_trip_every_mss_and_age), CASE(sequence_numbers_wrap), CASE(bound_to_tuple_isn_and_keys),
	   CASE(forged_cookies_rarely_pass), CASE(ipv6_round_trip_and_bound_to_all_address_bits))
