// unit-sources: drivers/e1000/ring.c
/* e1000 ring bookkeeping against a model of the device's head/tail behaviour (QEMU's e1000.c:
 * the device uses RX descriptors from RDH while RDH != RDT and sets DD|EOP; it processes TX
 * descriptors from TDH up to TDT and sets DD on each). Random interleavings, fixed seeds. */
#include <string.h>
#include "tests/unit/unit.h"
#include "drivers/e1000/ring.h"

static uint64_t rng = 88172645463325252ULL;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
	return (unsigned)(rng % n);
}

TEST(index_arithmetic)
{
	CHECK_EQ(e1000_ring_next(0, 8), 1);
	CHECK_EQ(e1000_ring_next(7, 8), 0);
	CHECK_EQ(e1000_ring_prev(0, 8), 7);
	CHECK_EQ(e1000_ring_prev(5, 8), 4);
	CHECK_EQ(e1000_ring_dist(2, 2, 8), 0);
	CHECK_EQ(e1000_ring_dist(2, 5, 8), 3);
	CHECK_EQ(e1000_ring_dist(6, 1, 8), 3);
	CHECK_EQ(e1000_ring_dist(1, 0, 8), 7);
	struct e1000_txq q;
	e1000_txq_init(&q, 8);
	CHECK_EQ(e1000_tx_space(&q), 7);        /* one slot always kept empty */
	q.clean = 6; q.tail = 1;
	CHECK_EQ(e1000_tx_inflight(&q), 3);
	CHECK_EQ(e1000_tx_space(&q), 4);
	q.clean = 3; q.tail = 2;
	CHECK_EQ(e1000_tx_space(&q), 0);
	struct e1000_rxq r;
	e1000_rxq_init(&r, 8);
	CHECK_EQ(e1000_rx_tail(&r), 7);          /* initial RDT: all but one descriptor */
	r.next = 5;
	CHECK_EQ(e1000_rx_tail(&r), 4);
}

static uint8_t frame[2048];

static void fill_desc(struct e1000_rx_desc *d, uint8_t status, uint8_t errors, uint16_t len)
{
	memset(d, 0, sizeof(*d));
	d->status = status; d->errors = errors; d->length = len;
}

TEST(rx_classification)
{
	struct e1000_rxq q;
	struct e1000_rx_desc d;
	unsigned len = 0;
	e1000_rxq_init(&q, 8);
	memset(frame, 0, sizeof(frame));

	fill_desc(&d, 0, 0, 100);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_EMPTY);
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0, 60);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_FRAME);
	CHECK_EQ(len, 60);
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0, 1514);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_FRAME);
	CHECK_EQ(len, 1514);
	/* runt and oversize */
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0, 59);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_ERROR);
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0, 1515);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_ERROR);
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0, 4000);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_ERROR);
	/* 802.1Q tagged: 4 more bytes allowed */
	frame[12] = 0x81; frame[13] = 0x00;
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0, 1518);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_FRAME);
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0, 1519);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_ERROR);
	frame[12] = 0x08;
	/* hardware error bits */
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, E1000_RXD_ERR_CE, 100);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_ERROR);
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, E1000_RXD_ERR_RXE, 100);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_ERROR);
	/* a frame spanning three descriptors: one error, then two silent skips, then normal again */
	fill_desc(&d, E1000_RXD_STAT_DD, 0, 2048);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_ERROR);
	CHECK(q.discarding);
	fill_desc(&d, E1000_RXD_STAT_DD, 0, 2048);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_SKIP);
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0, 100);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_SKIP);
	CHECK(!q.discarding);
	fill_desc(&d, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0, 100);
	CHECK_EQ(e1000_rx_check(&q, &d, frame, &len), E1000_RX_FRAME);
}

/* ---- RX against the device model ---- */
#define RXN 16
static struct e1000_rx_desc rxring[RXN];
static uint8_t rxbuf[RXN][E1000_RX_BUF_SIZE];
static unsigned rdh, rdt;
static unsigned overwrites;

/* QEMU's e1000_receive: needs RDH != RDT; writes the buffer then the descriptor with DD|EOP */
static bool dev_receive(uint32_t seq, unsigned len, bool bad)
{
	if (rdh == rdt)
		return false;          /* can_receive() false: QEMU keeps the packet queued */
	struct e1000_rx_desc *d = &rxring[rdh];
	if (d->status & E1000_RXD_STAT_DD)
		overwrites++;          /* the driver handed back a descriptor it had not consumed */
	memset(rxbuf[rdh], 0, 64);
	memcpy(rxbuf[rdh], &seq, sizeof(seq));
	rxbuf[rdh][len - 1] = (uint8_t)seq;
	d->length = (uint16_t)len;
	d->errors = bad ? E1000_RXD_ERR_CE : 0;
	d->status = E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP;
	rdh = e1000_ring_next(rdh, RXN);
	return true;
}

TEST(rx_ring_against_device_model)
{
	struct e1000_rxq q;
	memset(rxring, 0, sizeof(rxring));
	e1000_rxq_init(&q, RXN);
	rdh = 0; rdt = e1000_rx_tail(&q); overwrites = 0;
	uint32_t sent = 0, got = 0, errors = 0, expect_errors = 0, stalls = 0;
	const uint32_t total = 20000;
	uint32_t seq_next_rx = 0;
	while (got + errors < total) {
		/* the device receives a burst (as long as it has descriptors) */
		unsigned burst = rnd(40);
		for (unsigned i = 0; i < burst && sent < total; i++) {
			bool bad = rnd(50) == 0;
			unsigned len = 60 + rnd(1455);
			if (!dev_receive(sent, len, bad))
				break;
			expect_errors += bad;
			sent++;
		}
		/* the driver polls with a random budget, then hands back what it consumed */
		unsigned budget = 1 + rnd(20), n = 0, len;
		while (n < budget) {
			enum e1000_rx_verdict v = e1000_rx_check(&q, &rxring[q.next], rxbuf[q.next], &len);
			if (v == E1000_RX_EMPTY)
				break;
			uint32_t seq;
			memcpy(&seq, rxbuf[q.next], sizeof(seq));
			CHECK_EQ(seq, seq_next_rx);
			seq_next_rx++;
			if (v == E1000_RX_FRAME) {
				CHECK_EQ(rxbuf[q.next][len - 1], (uint8_t)seq);
				got++;
			} else {
				errors++;
			}
			e1000_rx_recycle(&q, rxring);
			n++;
		}
		rdt = e1000_rx_tail(&q);
		if (n == 0 && burst == 0)
			stalls++;
		if (stalls > 100000)
			break;
	}
	CHECK_EQ(got + errors, total);
	CHECK_EQ(errors, expect_errors);
	CHECK_EQ(overwrites, 0);
	/* ring fully recycled: every descriptor but one is the device's */
	CHECK_EQ(e1000_ring_dist(rdh, rdt, RXN), RXN - 1);
}

/* ---- TX against the device model ---- */
#define TXN 16
static struct e1000_tx_desc txring[TXN];
static unsigned tdh, tdt;

/* QEMU's start_xmit processes TDH..TDT on a TDT write; a real chip may lag, so process a random
 * number of them */
static unsigned dev_xmit(unsigned max, uint64_t *next_expected)
{
	unsigned done = 0;
	while (tdh != tdt && done < max) {
		struct e1000_tx_desc *d = &txring[tdh];
		CHECK(!(d->status & E1000_TXD_STAT_DD));
		CHECK(d->cmd & E1000_TXD_CMD_EOP);
		CHECK(d->cmd & E1000_TXD_CMD_RS);
		CHECK_EQ(d->addr, *next_expected);     /* frames go out in the order posted */
		(*next_expected)++;
		d->status |= E1000_TXD_STAT_DD;
		tdh = e1000_ring_next(tdh, TXN);
		done++;
	}
	return done;
}

TEST(tx_ring_against_device_model)
{
	struct e1000_txq q;
	memset(txring, 0, sizeof(txring));
	e1000_txq_init(&q, TXN);
	tdh = tdt = 0;
	uint64_t posted = 0, sent = 0, reclaimed = 0, busy = 0;
	const uint64_t total = 50000;
	while (reclaimed < total) {
		unsigned want = rnd(24);
		for (unsigned i = 0; i < want && posted < total; i++) {
			if (e1000_tx_space(&q) == 0) {
				busy++;
				break;
			}
			/* the slot being filled must not be one the device still owns */
			CHECK(e1000_ring_dist(tdh, tdt, TXN) < TXN - 1);
			e1000_tx_post(&q, txring, posted, (uint16_t)(60 + rnd(1455)));
			posted++;
			tdt = q.tail;
		}
		dev_xmit(rnd(20), &sent);      /* advances `sent` per frame, checking the order */
		reclaimed += e1000_tx_reclaim(&q, txring);
		CHECK_EQ(e1000_tx_inflight(&q) + e1000_tx_space(&q), TXN - 1);
		CHECK(e1000_tx_inflight(&q) == posted - reclaimed);
	}
	CHECK_EQ(sent, total);
	CHECK_EQ(reclaimed, total);
	CHECK(busy > 0);          /* the ring did fill up along the way */
	CHECK_EQ(q.clean, q.tail);
}

TEST(tx_reclaim_stops_at_first_unfinished)
{
	struct e1000_txq q;
	memset(txring, 0, sizeof(txring));
	e1000_txq_init(&q, TXN);
	for (int i = 0; i < 5; i++)
		e1000_tx_post(&q, txring, 0x1000 * i, 100);
	txring[0].status = E1000_TXD_STAT_DD;
	txring[1].status = E1000_TXD_STAT_DD;
	txring[3].status = E1000_TXD_STAT_DD;   /* out of order: must wait for 2 */
	CHECK_EQ(e1000_tx_reclaim(&q, txring), 2);
	CHECK_EQ(q.clean, 2);
	txring[2].status = E1000_TXD_STAT_DD;
	CHECK_EQ(e1000_tx_reclaim(&q, txring), 2);
	CHECK_EQ(e1000_tx_inflight(&q), 1);
	/* a stale DD beyond tail is never reclaimed */
	txring[5].status = E1000_TXD_STAT_DD;
	txring[4].status = E1000_TXD_STAT_DD;
	CHECK_EQ(e1000_tx_reclaim(&q, txring), 1);
	CHECK_EQ(q.clean, q.tail);
	CHECK_EQ(e1000_tx_reclaim(&q, txring), 0);
	/* wrap-around */
	for (int i = 0; i < 14; i++) {
		e1000_tx_post(&q, txring, i, 100);
		txring[e1000_ring_prev(q.tail, TXN)].status = E1000_TXD_STAT_DD;
	}
	CHECK_EQ(q.tail, (5 + 14) % TXN);
	CHECK_EQ(e1000_tx_reclaim(&q, txring), 14);
}

static uint32_t le32_at(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static unsigned le16_at(const uint8_t *p) { return p[0] | p[1] << 8; }

/* The TSO descriptors byte by byte, as the 8254x manual (and QEMU's e1000x_read_tx_ctx_descr and
 * process_tx_desc) lay out struct e1000_context_desc and the extended data descriptor. */
TEST(tso_descriptors_layout)
{
	struct e1000_txq q;
	memset(txring, 0, sizeof(txring));
	e1000_txq_init(&q, TXN);
	q.tail = q.clean = TXN - 1;                       /* the data descriptor wraps to 0 */
	struct e1000_tso_ctx c = { .ip_off = 14, .tcp_off = 34, .hdr_len = 54, .mss = 1460, .paylen = 0x12345 };
	CHECK_EQ(e1000_tx_post_tso_ctx(&q, txring, &c), TXN - 1);
	const uint8_t *b = (const uint8_t *)&txring[TXN - 1];
	CHECK_EQ(b[0], 14);                               /* IPCSS */
	CHECK_EQ(b[1], 14 + 10);                          /* IPCSO: the IP checksum */
	CHECK_EQ(le16_at(b + 2), 33);                     /* IPCSE: the IP header's last byte */
	CHECK_EQ(b[4], 34);                               /* TUCSS */
	CHECK_EQ(b[5], 34 + 16);                          /* TUCSO: the TCP checksum */
	CHECK_EQ(le16_at(b + 6), 0);                      /* TUCSE: to the end */
	uint32_t cmd = le32_at(b + 8);
	CHECK_EQ(cmd & 0xfffff, 0x12345);                 /* PAYLEN, 20 bits */
	CHECK_EQ((cmd >> 20) & 0xf, 0);                   /* DTYP: context */
	CHECK_EQ(cmd >> 24, 0x20 | 0x08 | 0x04 | 0x02 | 0x01);   /* TUCMD: DEXT RS TSE IP TCP */
	CHECK_EQ(b[13], 54);                              /* HDRLEN */
	CHECK_EQ(le16_at(b + 14), 1460);                  /* MSS */
	CHECK_EQ(e1000_tx_post_tso_data(&q, txring, 0x8000, 2048, false), 0);
	CHECK_EQ(e1000_tx_post_tso_data(&q, txring, 0x9000, 300, true), 1);
	for (int i = 0; i < 2; i++) {
		b = (const uint8_t *)&txring[i];
		CHECK_EQ(le32_at(b), i ? 0x9000 : 0x8000);
		cmd = le32_at(b + 8);
		CHECK_EQ(cmd & 0xfffff, i ? 300 : 2048);
		CHECK_EQ((cmd >> 20) & 0xf, 1);               /* DTYP: data */
		CHECK_EQ(cmd >> 24, 0x20 | 0x08 | 0x04 | 0x02 | (i ? 0x01 : 0));   /* DEXT RS TSE IFCS (EOP) */
		CHECK_EQ(b[13], 0x01 | 0x02);                 /* POPTS: IXSM TXSM */
	}
	CHECK_EQ(e1000_tx_inflight(&q), 3);
	for (int i = 0; i < 3; i++)                       /* all three report status: reclaimed alike */
		txring[(TXN - 1 + i) % TXN].status = E1000_TXD_STAT_DD;
	CHECK_EQ(e1000_tx_reclaim(&q, txring), 3);
}

/* The checksum-only descriptors the driver's IPv6 segmentation uses: a context that names the TCP
 * checksum and nothing else (not TSE, so QEMU keeps it as its plain checksum context), and whole
 * frames asking for TXSM only. */
TEST(csum_descriptors_layout)
{
	struct e1000_txq q;
	memset(txring, 0, sizeof(txring));
	e1000_txq_init(&q, TXN);
	CHECK_EQ(e1000_tx_post_csum_ctx(&q, txring, 54), 0);
	const uint8_t *b = (const uint8_t *)&txring[0];
	CHECK_EQ(le32_at(b), 0);                          /* IPCSS, IPCSO, IPCSE: no IP checksum */
	CHECK_EQ(b[4], 54);                               /* TUCSS */
	CHECK_EQ(b[5], 54 + 16);                          /* TUCSO */
	CHECK_EQ(le16_at(b + 6), 0);                      /* TUCSE: to the end */
	uint32_t cmd = le32_at(b + 8);
	CHECK_EQ(cmd & 0xfffff, 0);
	CHECK_EQ((cmd >> 20) & 0xf, 0);                   /* DTYP: context */
	CHECK_EQ(cmd >> 24, 0x20 | 0x08 | 0x01);          /* TUCMD: DEXT RS TCP; not TSE, not IP */
	CHECK_EQ(b[13], 0);
	CHECK_EQ(le16_at(b + 14), 0);
	CHECK_EQ(e1000_tx_post_csum_data(&q, txring, 0xa000, 1514), 1);
	b = (const uint8_t *)&txring[1];
	CHECK_EQ(le32_at(b), 0xa000);
	cmd = le32_at(b + 8);
	CHECK_EQ(cmd & 0xfffff, 1514);
	CHECK_EQ((cmd >> 20) & 0xf, 1);                   /* DTYP: data */
	CHECK_EQ(cmd >> 24, 0x20 | 0x08 | 0x02 | 0x01);   /* DEXT RS IFCS EOP; not TSE */
	CHECK_EQ(b[13], 0x02);                            /* POPTS: TXSM only */
	CHECK_EQ(e1000_tx_inflight(&q), 2);
}

/* The MTA for multicast groups: address bits 47:36 pick the bit (QEMU's receive_filter with
 * RCTL.MO = 0: ((mac[5] << 8 | mac[4]) >> 4) & 0xfff); expected values worked out by hand. */
TEST(mta_from_groups)
{
	static const uint8_t macs[][6] = {
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },   /* all-nodes: 0x010 */
		{ 0x33, 0x33, 0xff, 0x12, 0x34, 0x79 },   /* a solicited-node group: 0x793 */
		{ 0x33, 0x33, 0xde, 0xad, 0xbe, 0xef },   /* 0xefb */
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },   /* 0x010 again: shares a bit */
	};
	CHECK_EQ(e1000_mta_hash(macs[0]), 0x010);
	CHECK_EQ(e1000_mta_hash(macs[1]), 0x793);
	CHECK_EQ(e1000_mta_hash(macs[2]), 0xefb);
	uint32_t mta[E1000_MTA_WORDS];
	memset(mta, 0xaa, sizeof(mta));
	e1000_mta_build(mta, macs, 4);
	unsigned set = 0;
	for (int i = 0; i < E1000_MTA_WORDS; i++)
		set += (unsigned)__builtin_popcount(mta[i]);
	CHECK_EQ(set, 3);
	CHECK_EQ(mta[0x010 >> 5], 1u << (0x010 & 31));
	CHECK_EQ(mta[0x793 >> 5], 1u << (0x793 & 31));
	CHECK_EQ(mta[0xefb >> 5], 1u << (0xefb & 31));
	e1000_mta_build(mta, macs, 0);                    /* no group: nothing passes */
	for (int i = 0; i < E1000_MTA_WORDS; i++)
		CHECK_EQ(mta[i], 0);
}

UNIT_TESTS(CASE(index_arithmetic), CASE(rx_classification), CASE(rx_ring_against_device_model),
	   CASE(tx_ring_against_device_model), CASE(tx_reclaim_stops_at_first_unfinished),
	   CASE(tso_descriptors_layout), CASE(csum_descriptors_layout), CASE(mta_from_groups))
