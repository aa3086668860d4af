// unit-sources: net/gro.c lib/string.c lib/inet_csum.c
/*
 * Software GRO (net/gro.c): which segments merge, what the merged frame looks like (lengths, IP
 * checksum, payload, flags, window), what ends a frame, and that every other frame passes through
 * unchanged and in arrival order, with nothing lost or duplicated.
 */
#include <string.h>
#include "tests/unit/unit.h"
#include "tests/unit/netbytes.h"
#include "net/gro.h"
#include "net/netdev.h"

#define ETH 14
#define MSS 1000
#define OPTS 12                      /* a timestamp option's 12 bytes: merged only when equal */
#define MAXD 128

struct got { uint8_t *f; size_t len; unsigned flags, segs; };
static struct got got[MAXD];
static int ngot;
static uint8_t gbuf[GRO_MAX];
static struct gro g;

static void deliver(void *ctx, const uint8_t *f, size_t len, unsigned flags, unsigned segs)
{
	CHECK(ctx == &g);
	if (ngot == MAXD)
		return;
	got[ngot].f = malloc(len);
	memcpy(got[ngot].f, f, len);
	got[ngot].len = len;
	got[ngot].flags = flags;
	got[ngot].segs = segs;
	ngot++;
}

static void reset(void)
{
	for (int i = 0; i < ngot; i++)
		free(got[i].f);
	ngot = 0;
	gro_init(&g, gbuf, deliver, &g);
}

struct seg {
	uint16_t sport;              /* the flow */
	uint32_t seq, ack;
	uint16_t win;
	uint8_t flags;               /* TCP flags; 0 means ACK */
	unsigned payload;
	uint8_t ts;                  /* the option bytes' value */
	uint8_t tos, ttl;            /* IPv6: traffic class, hop limit */
	bool v6;                     /* IPv6 (fd00::1 -> fd00::2) instead of IPv4 */
	uint32_t flow;               /* IPv6 flow label */
	uint8_t src_last;            /* the source address's last byte (0: 1) */
};

#define IP4H 20
#define IP6H 40
static unsigned iph(bool v6) { return v6 ? IP6H : IP4H; }

/* Seg as a frame: payload bytes are (seq + i) & 0xff, so a merged payload can be checked. */
static size_t mkseg(uint8_t *f, const struct seg *s)
{
	size_t ih = iph(s->v6), thl = 20 + OPTS, tot = ih + thl + s->payload;
	memset(f, 0, ETH + tot);
	memset(f, 0x52, 12);
	uint8_t *ip = f + ETH, *t = ip + ih;
	uint32_t ps;
	if (s->v6) {
		wr16(f + 12, 0x86dd);
		wr32(ip, 6u << 28 | (uint32_t)s->tos << 20 | (s->flow & 0xfffff));
		wr16(ip + 4, (uint16_t)(thl + s->payload));
		ip[6] = 6;
		ip[7] = s->ttl ? s->ttl : 64;
		ip[8] = ip[24] = 0xfd;
		ip[23] = s->src_last ? s->src_last : 1;
		ip[39] = 2;
		ps = sum16(ip + 8, 32, 0);
	} else {
		f[12] = 0x08;
		ip[0] = 0x45;
		ip[1] = s->tos;
		wr16(ip + 2, (uint16_t)tot);
		wr16(ip + 6, 0x4000);                          /* DF */
		ip[8] = s->ttl ? s->ttl : 64;
		ip[9] = 6;
		wr32(ip + 12, 0x0a000000u | (s->src_last ? s->src_last : 1));
		wr32(ip + 16, 0x0a000002);
		wr16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
		ps = sum16(ip + 12, 8, 0);
	}
	wr16(t, s->sport);
	wr16(t + 2, 5001);
	wr32(t + 4, s->seq);
	wr32(t + 8, s->ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = s->flags ? s->flags : 0x10;
	wr16(t + 14, s->win ? s->win : 500);
	memset(t + 20, s->ts, OPTS);
	for (unsigned i = 0; i < s->payload; i++)
		t[thl + i] = (uint8_t)(s->seq + i);
	ps += 6 + (uint32_t)(thl + s->payload);
	wr16(t + 16, (uint16_t)~fold(sum16(t, thl + s->payload, ps)));
	return ETH + tot;
}

static void feed(const struct seg *s, unsigned flags)
{
	uint8_t f[ETH + IP6H + 20 + OPTS + 2 * MSS];
	size_t len = mkseg(f, s);
	gro_receive(&g, f, len, flags);
}

static struct seg data(uint16_t sport, uint32_t seq) { return (struct seg){ .sport = sport, .seq = seq, .ack = 7, .payload = MSS, .ts = 1 }; }

/* A delivered frame: a valid IPv4 or IPv6 header whose length matches, the expected flow, sequence
 * number, and payload bytes in order. */
static void check_frame(const struct got *d, uint16_t sport, uint32_t seq, unsigned payload)
{
	bool v6 = rd16(d->f + 12) == 0x86dd;
	const uint8_t *ip = d->f + ETH, *t = ip + iph(v6);
	CHECK_EQ(d->len, ETH + iph(v6) + 20 + OPTS + payload);
	if (v6) {
		CHECK_EQ(rd16(ip + 4), d->len - ETH - IP6H);
	} else {
		CHECK_EQ(rd16(ip + 2), d->len - ETH);
		CHECK_EQ(fold(sum16(ip, 20, 0)), 0xffff);
	}
	CHECK_EQ(rd16(t), sport);
	CHECK_EQ(rd32(t + 4), seq);
	int bad = 0;
	for (unsigned i = 0; i < payload; i++)
		bad += t[20 + OPTS + i] != (uint8_t)(seq + i);
	CHECK_EQ(bad, 0);
}

TEST(consecutive_segments_merge)
{
	reset();
	for (int i = 0; i < 5; i++) {
		struct seg s = data(40000, 1000000 + (uint32_t)i * MSS);
		s.win = (uint16_t)(500 + i);
		feed(&s, 0);
	}
	CHECK_EQ(ngot, 0);                       /* all held until the poll ends */
	gro_flush(&g);
	CHECK_EQ(ngot, 1);
	check_frame(&got[0], 40000, 1000000, 5 * MSS);
	CHECK_EQ(got[0].segs, 5);
	CHECK_EQ(got[0].flags, NETDEV_RX_LRO | NETDEV_RX_CSUM_OK);
	CHECK_EQ(rd16(got[0].f + ETH + 20 + 14), 504);     /* the newest window */
	gro_flush(&g);
	CHECK_EQ(ngot, 1);                       /* nothing held twice */
}

TEST(single_segment_goes_up_as_it_came)
{
	reset();
	struct seg s = data(40000, 5);
	uint8_t f[4096];
	size_t len = mkseg(f, &s);
	gro_receive(&g, f, len, 0);
	gro_flush(&g);
	CHECK_EQ(ngot, 1);
	CHECK_EQ(got[0].segs, 1);
	CHECK_EQ(got[0].flags, NETDEV_RX_CSUM_OK);          /* checked here, not LRO */
	CHECK(got[0].len == len && memcmp(got[0].f, f, len) == 0);
}

TEST(psh_and_short_segments_end_a_frame)
{
	reset();
	struct seg a = data(1, 100), b = data(1, 100 + MSS), c = data(1, 100 + 2 * MSS);
	b.flags = 0x18;                          /* ACK|PSH */
	feed(&a, 0);
	feed(&b, 0);
	CHECK_EQ(ngot, 1);                       /* delivered at once, PSH kept */
	CHECK_EQ(got[0].segs, 2);
	CHECK(got[0].f[ETH + 20 + 13] & 0x08);
	check_frame(&got[0], 1, 100, 2 * MSS);
	feed(&c, 0);
	struct seg d = data(1, 100 + 3 * MSS);
	d.payload = 10;                          /* shorter than the MSS: the end of a burst */
	feed(&d, 0);
	CHECK_EQ(ngot, 2);
	check_frame(&got[1], 1, 100 + 2 * MSS, MSS + 10);
	struct seg e = data(1, 100 + 3 * MSS + 10);
	e.payload = MSS + 1;                     /* longer than the first: starts a new frame */
	feed(&e, 0);
	gro_flush(&g);
	CHECK_EQ(ngot, 3);
	check_frame(&got[2], 1, 100 + 3 * MSS + 10, MSS + 1);
	CHECK_EQ(got[2].segs, 1);
}

TEST(gaps_and_other_flows_keep_arrival_order)
{
	reset();
	struct seg a1 = data(1, 0), b1 = data(2, 5000), a2 = data(1, MSS), a3 = data(1, 3 * MSS);
	feed(&a1, 0);
	feed(&b1, 0);                            /* another connection: a1 goes up first */
	feed(&a2, 0);
	feed(&a3, 0);                            /* a gap (a retransmission will fill it) */
	gro_flush(&g);
	CHECK_EQ(ngot, 4);
	check_frame(&got[0], 1, 0, MSS);
	check_frame(&got[1], 2, 5000, MSS);
	check_frame(&got[2], 1, MSS, MSS);
	check_frame(&got[3], 1, 3 * MSS, MSS);
}

TEST(differing_headers_do_not_merge)
{
	struct seg base = data(1, 0);
	for (int k = 0; k < 5; k++) {
		reset();
		struct seg n = data(1, MSS);
		if (k == 0) n.ack = 8;
		if (k == 1) n.ts = 2;
		if (k == 2) n.tos = 0x10;
		if (k == 3) n.ttl = 63;
		if (k == 4) n.flags = 0x10 | 0x40;           /* ECE */
		feed(&base, 0);
		feed(&n, 0);
		gro_flush(&g);
		CHECK_EQ(ngot, 2);
		CHECK_EQ(got[0].segs + got[1].segs, 2);
	}
}

TEST(other_frames_pass_through_unchanged_in_order)
{
	reset();
	uint8_t f[8][2048];
	size_t len[8];
	struct seg ack = data(1, MSS);
	ack.payload = 0;                         /* a pure ACK */
	struct seg syn = data(1, 0), fin = data(1, MSS), rst = data(1, MSS);
	syn.flags = 0x02;
	fin.flags = 0x11;
	rst.flags = 0x04;
	struct seg held = data(1, 0);
	len[0] = mkseg(f[0], &ack);
	len[1] = mkseg(f[1], &syn);
	len[2] = mkseg(f[2], &fin);
	len[3] = mkseg(f[3], &rst);
	len[4] = mkseg(f[4], &held);             /* then bent into: a fragment, UDP, IP options, ARP */
	f[4][ETH + 6] = 0x20;                    /* MF */
	len[5] = mkseg(f[5], &held);
	f[5][ETH + 9] = 17;
	len[6] = mkseg(f[6], &held);
	f[6][ETH] = 0x46;
	len[7] = 60;
	memset(f[7], 0xff, 60);
	f[7][12] = 0x08;
	f[7][13] = 0x06;
	for (int i = 0; i < 8; i++) {
		feed(&held, 0);                      /* a held frame must go up before each */
		gro_receive(&g, f[i], len[i], 0);
	}
	CHECK_EQ(ngot, 16);
	for (int i = 0; i < 8 && ngot == 16; i++) {
		check_frame(&got[2 * i], 1, 0, MSS);
		CHECK(got[2 * i + 1].len == len[i] && memcmp(got[2 * i + 1].f, f[i], len[i]) == 0);
		CHECK_EQ(got[2 * i + 1].flags, 0);
		CHECK_EQ(got[2 * i + 1].segs, 1);
	}
}

TEST(bad_checksums_are_left_to_the_stack)
{
	reset();
	uint8_t f[4096];
	struct seg a = data(1, 0), b = data(1, MSS), c = data(1, 2 * MSS);
	feed(&a, 0);
	size_t len = mkseg(f, &b);
	f[len - 1] ^= 1;                         /* corrupted payload */
	gro_receive(&g, f, len, 0);
	feed(&c, 0);
	gro_flush(&g);
	CHECK_EQ(ngot, 3);
	CHECK_EQ(got[1].flags, 0);               /* not vouched for: lwIP checks it and drops it */
	CHECK(got[1].len == len && memcmp(got[1].f, f, len) == 0);
	/* a bad IP header checksum is not merged either (the merged header gets a fresh one) */
	reset();
	feed(&a, 0);
	len = mkseg(f, &b);
	f[ETH + 10] ^= 1;
	gro_receive(&g, f, len, 0);
	gro_flush(&g);
	CHECK_EQ(ngot, 2);
	CHECK_EQ(got[1].flags, 0);
	/* a device's NETDEV_RX_CSUM_OK is trusted: no second look */
	reset();
	feed(&a, NETDEV_RX_CSUM_OK);
	len = mkseg(f, &b);
	f[len - 1] ^= 1;
	gro_receive(&g, f, len, NETDEV_RX_CSUM_OK);
	gro_flush(&g);
	CHECK_EQ(ngot, 1);
	CHECK_EQ(got[0].segs, 2);
}

/* 150 consecutive segments of one flow: at least three frames, none above GRO_MAX, all in order */
static void check_within_gro_max(bool v6)
{
	reset();
	const int n = 150;
	for (int i = 0; i < n; i++) {
		struct seg s = data(1, 77 + (uint32_t)i * MSS);
		s.v6 = v6;
		feed(&s, 0);
	}
	gro_flush(&g);
	CHECK(ngot >= 3);
	uint32_t seq = 77;
	unsigned segs = 0;
	for (int i = 0; i < ngot; i++) {
		CHECK(got[i].len <= GRO_MAX);
		unsigned payload = (unsigned)got[i].len - (ETH + iph(v6) + 20 + OPTS);
		check_frame(&got[i], 1, seq, payload);
		seq += payload;
		segs += got[i].segs;
	}
	CHECK_EQ(seq, 77 + n * MSS);
	CHECK_EQ(segs, n);
}

TEST(merged_frames_stay_within_gro_max)
{
	check_within_gro_max(false);
}

TEST(ethernet_padding_is_trimmed)
{
	reset();
	uint8_t f[128] = { 0 };
	struct seg s = data(1, 0);
	s.payload = 2;                           /* 14 + 20 + 32 + 2 = 68 bytes, padded to 80 */
	size_t len = mkseg(f, &s);
	memset(f + len, 0xee, 12);
	gro_receive(&g, f, len + 12, 0);
	gro_flush(&g);
	CHECK_EQ(ngot, 1);
	check_frame(&got[0], 1, 0, 2);
}

static struct seg data6(uint16_t sport, uint32_t seq)
{
	struct seg s = data(sport, seq);
	s.v6 = true;
	s.flow = 0x12345;
	return s;
}

TEST(v6_consecutive_segments_merge)
{
	reset();
	for (int i = 0; i < 5; i++) {
		struct seg s = data6(40000, 3000000 + (uint32_t)i * MSS);
		s.win = (uint16_t)(600 + i);
		feed(&s, 0);
	}
	CHECK_EQ(ngot, 0);
	gro_flush(&g);
	CHECK_EQ(ngot, 1);
	check_frame(&got[0], 40000, 3000000, 5 * MSS);
	CHECK_EQ(got[0].segs, 5);
	CHECK_EQ(got[0].flags, NETDEV_RX_LRO | NETDEV_RX_CSUM_OK);
	CHECK_EQ(rd16(got[0].f + ETH + IP6H + 14), 604);
	CHECK_EQ(rd32(got[0].f + ETH) & 0xfffff, 0x12345);  /* the flow label kept */
	/* a lone IPv6 segment goes up as it came, its checksum checked */
	reset();
	uint8_t f[4096];
	struct seg s = data6(1, 9);
	size_t len = mkseg(f, &s);
	gro_receive(&g, f, len, 0);
	gro_flush(&g);
	CHECK_EQ(ngot, 1);
	CHECK_EQ(got[0].flags, NETDEV_RX_CSUM_OK);
	CHECK(got[0].len == len && memcmp(got[0].f, f, len) == 0);
}

TEST(v6_differing_headers_do_not_merge)
{
	struct seg base = data6(1, 0);
	for (int k = 0; k < 8; k++) {
		reset();
		struct seg n = data6(1, MSS);
		if (k == 0) n.ack = 8;
		if (k == 1) n.ts = 2;
		if (k == 2) n.tos = 0x10;                    /* traffic class */
		if (k == 3) n.ttl = 63;                      /* hop limit */
		if (k == 4) n.flow = 0x54321;
		if (k == 5) n.src_last = 9;                  /* another source address */
		if (k == 6) n.v6 = false;                    /* the same segment over IPv4 */
		if (k == 7) n.flags = 0x10 | 0x80;           /* CWR */
		feed(&base, 0);
		feed(&n, 0);
		gro_flush(&g);
		CHECK_EQ(ngot, 2);
		if (ngot == 2)
			CHECK_EQ(got[0].segs + got[1].segs, 2);
	}
}

TEST(v6_other_frames_pass_through_unchanged_in_order)
{
	reset();
	uint8_t f[7][2048];
	size_t len[7];
	struct seg held = data6(1, 0), ack = data6(1, MSS), fin = data6(1, MSS);
	ack.payload = 0;
	fin.flags = 0x11;
	len[0] = mkseg(f[0], &ack);
	len[1] = mkseg(f[1], &fin);
	for (int i = 2; i < 7; i++)
		len[i] = mkseg(f[i], &held);
	f[2][ETH + 6] = 0;                       /* a hop-by-hop options header first */
	f[3][ETH + 6] = 44;                      /* a fragment header */
	f[4][ETH + 6] = 17;                      /* UDP */
	wr16(f[5] + ETH + 4, (uint16_t)(len[5] - ETH - IP6H + 1));  /* longer than the frame */
	f[6][ETH] = 0x40;                        /* version 4 in an IPv6 frame */
	for (int i = 0; i < 7; i++) {
		feed(&held, 0);
		gro_receive(&g, f[i], len[i], 0);
	}
	CHECK_EQ(ngot, 14);
	for (int i = 0; i < 7 && ngot == 14; i++) {
		check_frame(&got[2 * i], 1, 0, MSS);
		CHECK(got[2 * i + 1].len == len[i] && memcmp(got[2 * i + 1].f, f[i], len[i]) == 0);
		CHECK_EQ(got[2 * i + 1].flags, 0);
		CHECK_EQ(got[2 * i + 1].segs, 1);
	}
}

TEST(v6_bad_checksums_are_left_to_the_stack)
{
	uint8_t f[4096];
	struct seg a = data6(1, 0), b = data6(1, MSS);
	for (int k = 0; k < 2; k++) {
		reset();
		feed(&a, 0);
		size_t len = mkseg(f, &b);
		if (k == 0)
			f[len - 1] ^= 1;                 /* corrupted payload */
		else
			f[ETH + 8 + 31] ^= 1;            /* the pseudo-header changed: the sum fails */
		gro_receive(&g, f, len, 0);
		gro_flush(&g);
		CHECK_EQ(ngot, 2);
		CHECK_EQ(got[1].flags, 0);
		CHECK(got[1].len == len && memcmp(got[1].f, f, len) == 0);
	}
	/* a payload length past the frame's end is refused even when the device vouched for it */
	reset();
	feed(&a, NETDEV_RX_CSUM_OK);
	size_t len = mkseg(f, &b);
	wr16(f + ETH + 4, (uint16_t)(len - ETH - IP6H + 1));
	gro_receive(&g, f, len, NETDEV_RX_CSUM_OK);
	gro_flush(&g);
	CHECK_EQ(ngot, 2);
	CHECK(got[1].len == len && memcmp(got[1].f, f, len) == 0);
	CHECK_EQ(got[1].segs, 1);
}

TEST(v6_merged_frames_stay_within_gro_max)
{
	check_within_gro_max(true);
}

UNIT_TESTS(CASE(consecutive_segments_merge), CASE(single_segment_goes_up_as_it_came),
	   CASE(psh_and_short_segments_end_a_frame), CASE(gaps_and_other_flows_keep_arrival_order),
	   CASE(differing_headers_do_not_merge), CASE(other_frames_pass_through_unchanged_in_order),
	   CASE(bad_checksums_are_left_to_the_stack), CASE(merged_frames_stay_within_gro_max),
	   CASE(ethernet_padding_is_trimmed), CASE(v6_consecutive_segments_merge),
	   CASE(v6_differing_headers_do_not_merge), CASE(v6_other_frames_pass_through_unchanged_in_order),
	   CASE(v6_bad_checksums_are_left_to_the_stack), CASE(v6_merged_frames_stay_within_gro_max))
