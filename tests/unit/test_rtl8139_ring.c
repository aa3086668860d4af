// unit-sources: drivers/rtl8139/rxring.c lib/crc32.c
/* RTL8139 receive-ring arithmetic (CAPR, wrap-around, header checks) and the C+ transmit ring, driven
 * against a model of the chip's ring writer as QEMU's rtl8139.c implements it: free space is
 * (RxBufPtr - RxBufAddr) mod size with RxBufPtr = CAPR + 16; a packet needing
 * ALIGN4(len + 8) >= free space overflows (QEMU keeps it queued and retries after the next CAPR
 * write); the header, data and CRC are written at RxBufAddr, wrapping to offset 0 (WRAP clear or a
 * 64 KiB ring) or running on past the end (WRAP set); RxBufAddr is then aligned to 4 and folded. */
#include <string.h>
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "drivers/rtl8139/rxring.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
	return (unsigned)(rng % n);
}

#define SLACK (16 + 4096)      /* WRAP mode: room after the ring (the datasheet asks for 1.5 KiB) */

struct chip {
	uint8_t *ring;
	uint32_t size;
	bool wrap_mode;            /* RCR.WRAP set and size < 64 KiB */
	uint32_t bufptr, bufaddr;  /* QEMU's RxBufPtr (CAPR + 16) and RxBufAddr (CBR) */
	unsigned overflows;
};

static void chip_write(struct chip *c, const void *buf, uint32_t n)
{
	const uint8_t *p = buf;
	if (c->bufaddr + n > c->size) {
		uint32_t wrapped = (c->bufaddr + n) & (c->size - 1);
		if (wrapped && !c->wrap_mode) {
			if (n > wrapped)
				memcpy(c->ring + c->bufaddr, p, n - wrapped);
			memcpy(c->ring, p + (n - wrapped), wrapped);
			c->bufaddr = wrapped;
			return;
		}
	}
	CHECK(c->bufaddr + n <= c->size + SLACK);
	memcpy(c->ring + c->bufaddr, p, n);
	c->bufaddr += n;
}

/* returns false when QEMU would report an overflow and keep the packet queued */
static bool chip_receive(struct chip *c, const uint8_t *frame, uint32_t n)
{
	uint32_t avail = (c->size + c->bufptr - c->bufaddr) & (c->size - 1);
	if (avail != 0 && ((n + 8 + 3) & ~3U) >= avail) {
		c->overflows++;
		return false;
	}
	uint32_t hdr = RTL_RXS_ROK | RTL_RXS_PAM | (n + RTL_RX_CRC_LEN) << 16;
	uint32_t crc = 0xdeadbeef;
	chip_write(c, &hdr, 4);
	chip_write(c, frame, n);
	chip_write(c, &crc, 4);
	c->bufaddr = ((c->bufaddr + 3) & ~3U) & (c->size - 1);
	return true;
}

static void chip_write_capr(struct chip *c, uint16_t capr) { c->bufptr = (uint32_t)(capr + 16) & (c->size - 1); }

TEST(capr_arithmetic)
{
	const uint32_t sizes[] = { 8192, 16384, 32768, 65536 };
	for (unsigned s = 0; s < 4; s++) {
		uint32_t size = sizes[s];
		CHECK_EQ(rtl_capr(0), 0xfff0);
		for (uint32_t off = 0; off < size; off += 4)
			CHECK_EQ(rtl_capr_to_off(rtl_capr(off), size), off);
		/* advance: header + len (CRC included) rounded up to 4, folded */
		CHECK_EQ(rtl_rx_advance(0, 64, size), 68);
		CHECK_EQ(rtl_rx_advance(0, 65, size), 72);
		CHECK_EQ(rtl_rx_advance(size - 68, 64, size), 0);
		CHECK_EQ(rtl_rx_advance(size - 8, 64, size), 60);
		CHECK_EQ(rtl_rx_advance(size - 4, 1518, size), 1520);
		CHECK_EQ(rtl_rx_pending(100, 100, size), 0);
		CHECK_EQ(rtl_rx_pending(100, 180, size), 80);
		CHECK_EQ(rtl_rx_pending(size - 20, 40, size), 60);
	}
}

TEST(header_checks)
{
	uint32_t len = 0, size = 65536;
	/* a good 60-byte frame */
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 64u << 16, 68, size, &len), RTL_RX_FRAME);
	CHECK_EQ(len, 60);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 1518u << 16, 1524, size, &len), RTL_RX_FRAME);
	CHECK_EQ(len, 1514);
	/* nothing written, or an early receive still in progress */
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 64u << 16, 0, size, &len), RTL_RX_EMPTY);
	CHECK_EQ(rtl_rx_check(0xfff0u << 16, 200, size, &len), RTL_RX_EMPTY);
	/* error bits, runts, oversized frames: well-formed packets, skipped */
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | RTL_RXS_CRC | 100u << 16, 104, size, &len), RTL_RX_BAD_FRAME);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | RTL_RXS_RUNT | 100u << 16, 104, size, &len), RTL_RX_BAD_FRAME);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 40u << 16, 44, size, &len), RTL_RX_BAD_FRAME);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 3004u << 16, 3008, size, &len), RTL_RX_BAD_FRAME);
	CHECK_EQ(len, 3000);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 1523u << 16, 1528, size, &len), RTL_RX_BAD_FRAME);
	/* corrupt: ROK clear, impossible length, or more than the chip wrote */
	CHECK_EQ(rtl_rx_check(64u << 16, 68, size, &len), RTL_RX_CORRUPT);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK, 68, size, &len), RTL_RX_CORRUPT);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 3u << 16, 68, size, &len), RTL_RX_CORRUPT);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 200u << 16, 68, size, &len), RTL_RX_CORRUPT);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 64u << 16, 2, size, &len), RTL_RX_CORRUPT);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 0xfff0u << 16, 65532, 8192, &len), RTL_RX_EMPTY);
	CHECK_EQ(rtl_rx_check(RTL_RXS_ROK | 9000u << 16, 8188, 8192, &len), RTL_RX_CORRUPT);
	/* frame length rule with and without an 802.1Q tag */
	uint8_t f[1600] = { 0 };
	CHECK(rtl_frame_len_ok(f, 60));
	CHECK(!rtl_frame_len_ok(f, 59));
	CHECK(rtl_frame_len_ok(f, 1514));
	CHECK(!rtl_frame_len_ok(f, 1515));
	f[12] = 0x81; f[13] = 0x00;
	CHECK(rtl_frame_len_ok(f, 1518));
	CHECK(!rtl_frame_len_ok(f, 1519));
}

TEST(frame_extraction_at_the_end)
{
	enum { SIZE = 8192 };
	static uint8_t ring[SIZE + SLACK], bounce[2048];
	for (unsigned i = 0; i < sizeof(ring); i++)
		ring[i] = (uint8_t)(i * 7);
	/* contiguous */
	CHECK(rtl_rx_frame(ring, SIZE, 0, 100, 60, bounce) == ring + 104);
	/* header in the last 4 bytes: data starts at offset 0 */
	CHECK(rtl_rx_frame(ring, SIZE, 0, SIZE - 4, 60, bounce) == ring);
	/* data ending exactly at the end */
	CHECK(rtl_rx_frame(ring, SIZE, 0, SIZE - 64, 60, bounce) == ring + SIZE - 60);
	/* split: 20 bytes at the end, 40 at the start */
	const uint8_t *p = rtl_rx_frame(ring, SIZE, 0, SIZE - 24, 60, bounce);
	CHECK(p == bounce);
	CHECK(memcmp(bounce, ring + SIZE - 20, 20) == 0);
	CHECK(memcmp(bounce + 20, ring, 40) == 0);
	/* WRAP mode: the same frame runs into the slack and comes back in place */
	CHECK(rtl_rx_frame(ring, SIZE, SLACK, SIZE - 24, 60, bounce) == ring + SIZE - 20);
	/* WRAP mode, header in the last 4 bytes: the chip puts the data after the end, not at 0 */
	CHECK(rtl_rx_frame(ring, SIZE, SLACK, SIZE - 4, 60, bounce) == ring + SIZE);
}

/* Stream `total` frames (mixed sizes, some oversized) through the chip model and the driver's
 * bookkeeping with random interleavings; every frame must come out once, in order, intact. */
static void stream(uint32_t size, bool wrap_mode, unsigned total)
{
	struct chip c = { .size = size, .wrap_mode = wrap_mode };
	c.ring = calloc(1, size + SLACK);
	static uint8_t frame[4096], bounce[2048];
	uint32_t off = 0;
	unsigned sent = 0, good = 0, bad = 0, expect_bad = 0, seen = 0, bounced = 0;
	uint32_t cur_len = 0;
	bool have = false;
	chip_write_capr(&c, rtl_capr(off));
	while (seen < total) {
		/* the chip receives a burst until it would overflow (QEMU then waits for CAPR) */
		unsigned burst = rnd(30);
		for (unsigned i = 0; i < burst && sent < total; i++) {
			if (!have) {
				cur_len = rnd(40) == 0 ? 1515 + rnd(2500) : 60 + rnd(1455);
				have = true;
			}
			memset(frame, 0, 16);
			memcpy(frame, &sent, sizeof(sent));
			frame[12] = 0x88; frame[13] = 0xb5;
			frame[cur_len - 1] = (uint8_t)(sent ^ 0x5a);
			if (!chip_receive(&c, frame, cur_len))
				break;
			expect_bad += cur_len > 1514;
			have = false;
			sent++;
		}
		/* the driver drains up to a budget, reading CBR once per poll like the driver does */
		unsigned budget = 1 + rnd(16), n = 0;
		uint32_t cbr = c.bufaddr;
		while (n < budget) {
			uint32_t len = 0, hdr = rtl_rx_header(c.ring, off);
			enum rtl_rx_verdict v = rtl_rx_check(hdr, rtl_rx_pending(off, cbr, size), size, &len);
			if (v == RTL_RX_EMPTY)
				break;
			CHECK(v != RTL_RX_CORRUPT);
			if (v == RTL_RX_CORRUPT)
				goto out;
			const uint8_t *p = NULL;
			if (v == RTL_RX_FRAME) {
				p = rtl_rx_frame(c.ring, size, wrap_mode ? SLACK : 0, off, len, bounce);
				bounced += p == bounce;
				uint32_t seq;
				memcpy(&seq, p, sizeof(seq));
				CHECK_EQ(seq, seen);
				CHECK_EQ(p[len - 1], (uint8_t)(seq ^ 0x5a));
			}
			if (p && rtl_frame_len_ok(p, len))
				good++;
			else
				bad++;          /* oversized (1515..1518 untagged ones are caught on the data) */
			seen++;
			off = rtl_rx_advance(off, hdr >> 16, size);
			chip_write_capr(&c, rtl_capr(off));
			n++;
		}
	}
out:
	CHECK_EQ(seen, total);
	CHECK_EQ(bad, expect_bad);
	CHECK_EQ(good + bad, total);
	CHECK_EQ(off, c.bufaddr);               /* consumed everything the chip wrote */
	CHECK(c.overflows > 0);                 /* the ring did fill up along the way */
	if (wrap_mode)
		CHECK_EQ(bounced, 0);
	else
		CHECK(bounced > 0);             /* and frames did wrap around */
	free(c.ring);
}

TEST(stream_8k_wrap_to_start) { stream(8192, false, 20000); }
TEST(stream_8k_wrap_bit_contiguous) { stream(8192, true, 20000); }
TEST(stream_32k_wrap_to_start) { stream(32768, false, 20000); }
TEST(stream_64k) { stream(65536, false, 20000); }

/* The C+ transmit ring against a model of QEMU's reader (rtl8139_cplus_transmit): from its own
 * index it takes descriptors while OWN is set, clears OWN in each, moves to 0 after EOR (or after
 * 64), and sends a frame when it reads LS. */
static struct rtl_cp_desc cpring[RTL_CP_TX_RING];
static unsigned chip_idx, chip_frames, chip_pieces;

static void chip_transmit(void)
{
	while (cpring[chip_idx].dw0 & RTL_CP_OWN) {
		uint32_t dw0 = cpring[chip_idx].dw0;
		chip_pieces++;
		if (dw0 & RTL_CP_LS)
			chip_frames++;
		cpring[chip_idx].dw0 = dw0 & ~RTL_CP_OWN;
		chip_idx = (dw0 & RTL_CP_EOR) ? 0 : (chip_idx + 1) % RTL_CP_TX_RING;
	}
}

TEST(cplus_tx_ring_against_chip_model)
{
	struct rtl_cp_txq q;
	memset(cpring, 0, sizeof(cpring));
	rtl_cp_txq_init(&q);
	chip_idx = chip_frames = chip_pieces = 0;
	unsigned errors = 0, frames = 0, pieces = 0;
	for (unsigned round = 0; round < 5000; round++) {
		unsigned n = 1 + rnd(9);                     /* a frame of n pieces (a TSO frame: up to 9) */
		if (rtl_cp_tx_space(&q) < n)
			rtl_cp_tx_reclaim(&q, cpring, &errors);
		if (rtl_cp_tx_space(&q) < n) {
			chip_transmit();
			CHECK(rtl_cp_tx_reclaim(&q, cpring, &errors) > 0);
			continue;
		}
		unsigned first = q.tail;
		for (unsigned k = 0; k < n; k++) {
			uint32_t flags = (k == 0 ? RTL_CP_FS : 0) | (k == n - 1 ? RTL_CP_LS : 0);
			unsigned idx = rtl_cp_tx_fill(&q, cpring, 0x80000000ULL + 2048ULL * q.tail, 100 + k, flags);
			CHECK_EQ(idx, (first + k) % RTL_CP_TX_RING);
			CHECK(!(cpring[idx].dw0 & RTL_CP_OWN));  /* not the chip's until given */
			CHECK_EQ(!!(cpring[idx].dw0 & RTL_CP_EOR), idx == RTL_CP_TX_RING - 1);
		}
		if (rnd(3) == 0) {
			chip_transmit();                         /* it stops at the frame not yet given */
			CHECK_EQ(chip_idx, first);
		}
		rtl_cp_tx_give(cpring, first, n);
		frames++;
		pieces += n;
		if (rnd(2))
			chip_transmit();
	}
	chip_transmit();
	rtl_cp_tx_reclaim(&q, cpring, &errors);
	CHECK_EQ(q.inflight, 0);
	CHECK_EQ(chip_frames, frames);
	CHECK_EQ(chip_pieces, pieces);
	CHECK_EQ(chip_idx, q.tail);
	CHECK_EQ(errors, 0);
}

TEST(cplus_tx_fields)
{
	struct rtl_cp_txq q;
	memset(cpring, 0, sizeof(cpring));
	rtl_cp_txq_init(&q);
	uint32_t flags = RTL_CP_FS | RTL_CP_LS | RTL_CP_LGSEN | 1460u << RTL_CP_MSS_SHIFT;
	unsigned i = rtl_cp_tx_fill(&q, cpring, 0x123456789aULL, 1514, flags);
	CHECK_EQ(cpring[i].addr_lo, 0x3456789a);
	CHECK_EQ(cpring[i].addr_hi, 0x12);
	CHECK_EQ(cpring[i].dw0 & RTL_CP_SIZE_MASK, 1514);
	CHECK_EQ((cpring[i].dw0 >> RTL_CP_MSS_SHIFT) & RTL_CP_MSS_MASK, 1460);
	CHECK(cpring[i].dw0 & RTL_CP_LGSEN);
	rtl_cp_tx_give(cpring, i, 1);
	CHECK(cpring[i].dw0 & RTL_CP_OWN);
	unsigned errors = 0;
	CHECK_EQ(rtl_cp_tx_reclaim(&q, cpring, &errors), 0);     /* still the chip's */
	cpring[i].dw0 = (cpring[i].dw0 & ~RTL_CP_OWN) | RTL_CP_TES;
	CHECK_EQ(rtl_cp_tx_reclaim(&q, cpring, &errors), 1);
	CHECK_EQ(errors, 1);
}

/* MAR buckets: the top 6 bits of the big-endian Ethernet CRC (Linux's ether_crc(6, mac) >> 26,
 * QEMU's net_crc32 >> 26). Expected values from a bit-by-bit ether_crc written apart from the
 * kernel's (Python, the polynomial 0x04c11db7 shifted in LSB first); 01:00:5e:00:00:01 -> 31 is
 * the value drivers' comments commonly quote for the IPv4 all-hosts group. */
TEST(mar_from_groups)
{
	static const uint8_t macs[][6] = {
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },   /* 62 */
		{ 0x33, 0x33, 0xff, 0x12, 0x34, 0x79 },   /* 36 */
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },   /* 31 */
		{ 0x33, 0x33, 0xde, 0xad, 0xbe, 0xef },   /* 60 */
	};
	CHECK_EQ(rtl_mar_bucket(macs[0]), 62);
	CHECK_EQ(rtl_mar_bucket(macs[1]), 36);
	CHECK_EQ(rtl_mar_bucket(macs[2]), 31);
	CHECK_EQ(rtl_mar_bucket(macs[3]), 60);
	uint8_t mar[8];
	memset(mar, 0x55, sizeof(mar));
	rtl_mar_build(mar, macs, 3);
	static const uint8_t want[8] = { 0, 0, 0, 0x80, 0x10, 0, 0, 0x40 };   /* buckets 31, 36, 62 */
	CHECK(memcmp(mar, want, 8) == 0);
	rtl_mar_build(mar, macs, 0);
	static const uint8_t none[8] = { 0 };
	CHECK(memcmp(mar, none, 8) == 0);
}

UNIT_TESTS(CASE(mar_from_groups), CASE(capr_arithmetic), CASE(header_checks), CASE(frame_extraction_at_the_end),
	   CASE(stream_8k_wrap_to_start), CASE(stream_8k_wrap_bit_contiguous),
	   CASE(stream_32k_wrap_to_start), CASE(stream_64k), CASE(cplus_tx_ring_against_chip_model), CASE(cplus_tx_fields))
