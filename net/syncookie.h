/*
 * SYN cookies (net/syncookie.c): the arithmetic only, no lwIP and no clock. net/tcp_synq.c decides
 * when to send one and turns a valid one back into a connection.
 *
 * A cookie is the initial sequence number of a SYN-ACK sent without keeping any state. It encodes
 * what the connection needs later (the peer's MSS, as an index into syncookie_mss) and proves that
 * we sent it recently to this 4-tuple, as Linux's cookies (net/ipv4/syncookies.c) do:
 *
 *     cookie = H0(tuple) + peer_isn + (counter << 24) + ((H1(tuple, counter) + mss_index) mod 2^24)
 *
 * H0 and H1 are SipHash-2-4 under two secret keys; counter is a time counter that ticks every
 * SYNCOOKIE_PERIOD_S seconds; peer_isn is the sequence number of the peer's SYN. The final ACK
 * carries cookie + 1 as its acknowledgement number and peer_isn + 1 as its sequence number: the
 * check subtracts H0 and peer_isn, reads the counter from the top byte (accepted while it is less
 * than SYNCOOKIE_MAX_AGE ticks old) and the MSS index from what remains after H1 (accepted only
 * if it is a valid index: a forger without the keys hits one in 2^22 tries).
 */
#ifndef NET_SYNCOOKIE_H
#define NET_SYNCOOKIE_H
#include "kernel/types.h"
#include "lib/siphash.h"

#define SYNCOOKIE_PERIOD_S 64          /* the counter ticks every 64 s */
#define SYNCOOKIE_MAX_AGE 2            /* valid for the counter it was made with and the next one */
#define SYNCOOKIE_MSS_COUNT 4

/* The MSS values a cookie can carry (Linux's msstab for IPv4), ascending. */
extern const uint16_t syncookie_mss[SYNCOOKIE_MSS_COUNT];

struct syncookie_key {
	uint8_t k[2][SIPHASH_KEY_LEN];     /* H0's and H1's keys */
};

/* A connection's 4-tuple, host byte order, as the peer's segments carry it. An IPv6 one has its
 * addresses in peer6 / local6 (network order, v6 set; peer_addr and local_addr unused): the
 * hashes then cover all 128 bits of each, as Linux's IPv6 cookies do. */
struct syncookie_tuple {
	uint32_t peer_addr, local_addr;
	uint16_t peer_port, local_port;
	bool v6;
	uint8_t peer6[16], local6[16];
};

/* The index of the largest table MSS not above the peer's (0 when the peer's is below them all). */
unsigned syncookie_mss_index(unsigned peer_mss);

/* The time counter for a clock reading in seconds. */
uint32_t syncookie_counter(uint64_t seconds);

/* The cookie for a SYN with sequence number peer_isn (mss_index < SYNCOOKIE_MSS_COUNT). */
uint32_t syncookie_make(const struct syncookie_key *key, const struct syncookie_tuple *t, uint32_t peer_isn,
			uint32_t counter, unsigned mss_index);

/* Is cookie one we made for t and peer_isn, at most SYNCOOKIE_MAX_AGE - 1 ticks before counter?
 * Returns its MSS index, or -1. */
int syncookie_check(const struct syncookie_key *key, const struct syncookie_tuple *t, uint32_t cookie,
		    uint32_t peer_isn, uint32_t counter);

#endif
