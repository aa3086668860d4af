// unit-sources: net/flow.c
/*
 * Flow keys and the flow hash (net/flow.c): parsing of well-formed and hostile frames, fragment
 * handling, determinism and spread of the hash over four squeues, and the binding table.
 */
#include <string.h>
#include "tests/unit/unit.h"
#include "net/flow.h"

#define ETH 14

/* An Ethernet + IPv4 (+ ports) frame into buf; returns its length. */
static size_t mkframe(uint8_t *buf, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
		      uint16_t frag, int ihl)
{
	memset(buf, 0, 128);
	buf[12] = 0x08;
	buf[13] = 0x00;
	uint8_t *ip = buf + ETH;
	size_t hlen = (size_t)ihl * 4, tot = hlen + 20;
	ip[0] = (uint8_t)(0x40 | ihl);
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = proto;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	ip[hlen] = (uint8_t)(sp >> 8);
	ip[hlen + 1] = (uint8_t)sp;
	ip[hlen + 2] = (uint8_t)(dp >> 8);
	ip[hlen + 3] = (uint8_t)dp;
	return ETH + tot;
}

TEST(tcp_and_udp_keys)
{
	uint8_t f[128];
	struct flow_key k;
	size_t n = mkframe(f, FLOW_PROTO_TCP, 0x0a000202, 0x0a00020f, 40000, 80, 0, 5);
	CHECK(flow_key_from_eth(f, n, &k));
	CHECK_EQ(k.saddr, 0x0a000202);
	CHECK_EQ(k.daddr, 0x0a00020f);
	CHECK_EQ(k.sport, 40000);
	CHECK_EQ(k.dport, 80);
	CHECK_EQ(k.proto, FLOW_PROTO_TCP);
	n = mkframe(f, FLOW_PROTO_UDP, 1, 2, 53, 5353, 0, 6);   /* with an IP option */
	CHECK(flow_key_from_eth(f, n, &k));
	CHECK_EQ(k.sport, 53);
	CHECK_EQ(k.dport, 5353);
}

TEST(no_key_for_other_traffic)
{
	uint8_t f[128];
	struct flow_key k;
	size_t n = mkframe(f, 1 /* ICMP */, 1, 2, 0, 0, 0, 5);
	CHECK(!flow_key_from_eth(f, n, &k));
	f[12] = 0x08;
	f[13] = 0x06;                                  /* ARP */
	CHECK(!flow_key_from_eth(f, n, &k));
	n = mkframe(f, FLOW_PROTO_TCP, 1, 2, 3, 4, 0, 5);
	f[ETH] = 0x65;                                 /* IPv6 version nibble */
	CHECK(!flow_key_from_eth(f, n, &k));
}

TEST(hostile_lengths)
{
	uint8_t f[128];
	struct flow_key k;
	size_t n = mkframe(f, FLOW_PROTO_TCP, 1, 2, 3, 4, 0, 5);
	for (size_t len = 0; len < ETH + 24; len++)    /* every truncation: no key, no overread (ASan) */
		CHECK(!flow_key_from_eth(f, len, &k));
	CHECK(flow_key_from_eth(f, n, &k));
	f[ETH] = 0x44;                                 /* IHL 4 < 5 */
	CHECK(!flow_key_from_eth(f, n, &k));
	f[ETH] = 0x4f;                                 /* IHL 15: 60 bytes > the packet */
	CHECK(!flow_key_from_eth(f, ETH + 40, &k));
	n = mkframe(f, FLOW_PROTO_TCP, 1, 2, 3, 4, 0, 5);
	f[ETH + 2] = 0;
	f[ETH + 3] = 10;                               /* total length below the header length */
	CHECK(!flow_key_from_eth(f, n, &k));
}

TEST(fragments_share_a_key)
{
	uint8_t f[128];
	struct flow_key a, b;
	size_t n = mkframe(f, FLOW_PROTO_UDP, 7, 8, 1000, 2000, 0x2000 /* MF */, 5);
	CHECK(flow_key_from_eth(f, n, &a));
	CHECK_EQ(a.sport, 0);
	CHECK_EQ(a.dport, 0);
	n = mkframe(f, FLOW_PROTO_UDP, 7, 8, 0xdead, 0xbeef, 185 /* offset, last */, 5);
	CHECK(flow_key_from_eth(f, n, &b));
	CHECK_EQ(flow_hash(&a), flow_hash(&b));
}

TEST(hash_is_deterministic_and_spreads)
{
	int bins[4] = { 0 };
	const int n = 4000;
	for (int i = 0; i < n; i++) {
		struct flow_key k = { 0x0a000202, 0x0a00020f, (uint16_t)(32768 + i), 5201, FLOW_PROTO_TCP, false };
		uint32_t h = flow_hash(&k);
		CHECK_EQ(h, flow_hash(&k));
		bins[h % 4]++;
	}
	for (int i = 0; i < 4; i++)                    /* consecutive ports: each squeue within 20% of fair */
		CHECK(bins[i] > n / 4 * 8 / 10 && bins[i] < n / 4 * 12 / 10);
	struct flow_key a = { 1, 2, 3, 4, FLOW_PROTO_TCP, false }, b = { 2, 1, 4, 3, FLOW_PROTO_TCP, false };
	struct flow_key c = { 1, 2, 3, 4, FLOW_PROTO_UDP, false };
	CHECK(flow_hash(&a) != flow_hash(&b));          /* each direction is its own flow */
	CHECK(flow_hash(&a) != flow_hash(&c));
}

TEST(binding_table)
{
	flow_table_init();
	struct flow_key k = { 10, 20, 30, 40, FLOW_PROTO_TCP, false }, other = { 10, 20, 30, 41, FLOW_PROTO_TCP, false };
	int owner1, owner2;
	struct flow_binding b1, b2;
	CHECK(flow_lookup(&k) == NULL);
	flow_bind(&b1, &k, &owner1);
	CHECK(flow_lookup(&k) == &owner1);
	CHECK(flow_lookup(&other) == NULL);
	CHECK_EQ(flow_bound_count(), 1);
	flow_bind(&b2, &k, &owner2);                   /* newest wins */
	CHECK(flow_lookup(&k) == &owner2);
	flow_unbind(&b2);
	CHECK(flow_lookup(&k) == &owner1);
	flow_unbind(&b1);
	flow_unbind(&b1);                              /* twice is harmless */
	CHECK(flow_lookup(&k) == NULL);
	CHECK_EQ(flow_bound_count(), 0);
	/* many bindings in few buckets' worth of keys */
	static struct flow_binding many[3000];
	static int owners[3000];
	for (int i = 0; i < 3000; i++) {
		struct flow_key x = { 1, 2, (uint16_t)i, 80, FLOW_PROTO_TCP, false };
		flow_bind(&many[i], &x, &owners[i]);
	}
	int ok = 0;
	for (int i = 0; i < 3000; i++) {
		struct flow_key x = { 1, 2, (uint16_t)i, 80, FLOW_PROTO_TCP, false };
		ok += flow_lookup(&x) == &owners[i];
	}
	CHECK_EQ(ok, 3000);
	for (int i = 0; i < 3000; i += 2)
		flow_unbind(&many[i]);
	ok = 0;
	for (int i = 0; i < 3000; i++) {
		struct flow_key x = { 1, 2, (uint16_t)i, 80, FLOW_PROTO_TCP, false };
		ok += flow_lookup(&x) == (i % 2 ? &owners[i] : NULL);
	}
	CHECK_EQ(ok, 3000);
	for (int i = 1; i < 3000; i += 2)
		flow_unbind(&many[i]);
	CHECK_EQ(flow_bound_count(), 0);
}

/* An Ethernet + IPv6 frame: optional extension header ext (0: none; 44: fragment; 60: dst options
 * of 8 bytes) before proto's ports; addresses are all-x bytes (src) and all-y (dst). */
static size_t mkframe6(uint8_t *buf, uint8_t proto, uint8_t x, uint8_t y, uint16_t sp, uint16_t dp, uint8_t ext)
{
	memset(buf, 0, 160);
	buf[12] = 0x86;
	buf[13] = 0xdd;
	uint8_t *ip = buf + ETH;
	size_t off = 40, plen = (ext ? 8 : 0) + 20;
	ip[0] = 0x60;
	ip[4] = (uint8_t)(plen >> 8);
	ip[5] = (uint8_t)plen;
	ip[6] = ext ? ext : proto;
	ip[7] = 64;
	memset(ip + 8, x, 16);
	memset(ip + 24, y, 16);
	if (ext) {
		ip[off] = proto;               /* next header; frag: offset 0 with MF; dstopts: length 0 = 8 bytes */
		if (ext == 44)
			ip[off + 3] = 1;
		off += 8;
	}
	ip[off] = (uint8_t)(sp >> 8);
	ip[off + 1] = (uint8_t)sp;
	ip[off + 2] = (uint8_t)(dp >> 8);
	ip[off + 3] = (uint8_t)dp;
	return ETH + 40 + plen;
}

TEST(ipv6_keys)
{
	uint8_t f[160], a6[16];
	struct flow_key k, k4;
	size_t n = mkframe6(f, FLOW_PROTO_TCP, 0x11, 0x22, 40000, 5201, 0);
	CHECK(flow_key_from_eth(f, n, &k));
	CHECK(k.v6);
	CHECK_EQ(k.proto, FLOW_PROTO_TCP);
	CHECK_EQ(k.sport, 40000);
	CHECK_EQ(k.dport, 5201);
	memset(a6, 0x11, 16);
	CHECK_EQ(k.saddr, flow_addr6_fold(a6));
	memset(a6, 0x22, 16);
	CHECK_EQ(k.daddr, flow_addr6_fold(a6));
	CHECK(flow_key_from_ip(f + ETH, n - ETH, &k4));
	CHECK_EQ(flow_hash(&k4), flow_hash(&k));
	n = mkframe6(f, FLOW_PROTO_UDP, 1, 2, 53, 5353, 60);     /* through a destination-options header */
	CHECK(flow_key_from_eth(f, n, &k));
	CHECK_EQ(k.proto, FLOW_PROTO_UDP);
	CHECK_EQ(k.sport, 53);
	CHECK_EQ(k.dport, 5353);
	/* an IPv4 key with the same numbers is another flow */
	k4 = k;
	k4.v6 = false;
	CHECK(flow_hash(&k4) != flow_hash(&k));
	/* a fragment: addresses only, as every fragment of the datagram */
	n = mkframe6(f, FLOW_PROTO_UDP, 1, 2, 53, 5353, 44);
	CHECK(flow_key_from_eth(f, n, &k));
	CHECK_EQ(k.sport, 0);
	CHECK_EQ(k.dport, 0);
	/* ICMPv6 has no key; nor does any truncation */
	n = mkframe6(f, 58, 1, 2, 0, 0, 0);
	CHECK(!flow_key_from_eth(f, n, &k));
	n = mkframe6(f, FLOW_PROTO_TCP, 1, 2, 3, 4, 60);
	for (size_t len = 0; len < ETH + 40 + 8 + 4; len++)
		CHECK(!flow_key_from_eth(f, len, &k));
	CHECK(flow_key_from_eth(f, n, &k));
	f[ETH + 40 + 1] = 200;                         /* an extension header longer than the packet */
	CHECK(!flow_key_from_eth(f, n, &k));
	/* different addresses fold apart */
	uint8_t b6[16] = { 0xfe, 0x80 }, c6[16] = { 0xfe, 0x80 };
	c6[15] = 1;
	CHECK(flow_addr6_fold(b6) != flow_addr6_fold(c6));
}

UNIT_TESTS(CASE(ipv6_keys), CASE(tcp_and_udp_keys), CASE(no_key_for_other_traffic), CASE(hostile_lengths),
	   CASE(fragments_share_a_key), CASE(hash_is_deterministic_and_spreads), CASE(binding_table))
