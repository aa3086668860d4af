// unit-sources: net/tso.c lib/inet_csum.c lib/string.c
/* net/tso.c: which frames a driver gets as TSO frames (netdev_tx_kind) and the software cut of an
 * IPv6 one (netdev_tso_segment): every segment within the MTU, its payload length, sequence
 * number, flags (FIN and PSH only on the last) and TCP checksum right (the full one checked with a
 * plain one's complement sum, or the pseudo-header seed for a chip that finishes it), the
 * payloads together exactly the frame's, in order. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "tests/unit/netbytes.h"
#include "net/netdev.h"

#define ETH 14
#define IP6 40
#define TCPH 32                      /* 20 + a 12-byte timestamp option */
#define HDR (ETH + IP6 + TCPH)
#define MTU 1500
#define MSS (MTU - IP6 - TCPH)
#define PAYLOAD 15000

static uint8_t frame[ETH + NETDEV_TSO_MAX];   /* room for IP's largest packet */
static struct net_device dev;

static size_t make_frame(size_t payload, uint8_t flags)
{
	srand((unsigned)payload);
	memset(frame, 0, HDR);
	memset(frame, 0x02, 12);
	wr16(frame + 12, ETH_P_IPV6);
	uint8_t *ip = frame + ETH, *th = ip + IP6;
	ip[0] = 0x60;
	wr16(ip + 4, (uint16_t)(TCPH + payload));
	ip[6] = 6;
	ip[7] = 64;
	for (int i = 0; i < 32; i++)
		ip[8 + i] = (uint8_t)(0xfd + i * 7);
	wr16(th, 40000);
	wr16(th + 2, 5001);
	wr32(th + 4, 0xfffff000u);           /* the sequence numbers wrap inside the frame */
	wr32(th + 8, 0x12345678u);
	th[12] = (TCPH / 4) << 4;
	th[13] = flags;
	wr16(th + 14, 4096);
	th[20] = 1, th[21] = 1, th[22] = 8, th[23] = 10;
	for (size_t i = 0; i < payload; i++)
		frame[HDR + i] = (uint8_t)rand();
	dev.mtu = MTU;
	dev.features = NETDEV_F_TSO6;
	return HDR + payload;
}

static uint32_t pseudo(const uint8_t *seg, uint32_t tcp_len)
{
	return sum16(seg + ETH + 8, 32, 6 + tcp_len);
}

static void cut_and_check(size_t payload, uint8_t flags, bool full)
{
	size_t len = make_frame(payload, flags);
	struct netdev_tso_frame t;
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_TSO);
	CHECK(t.v6);
	CHECK_EQ(t.hdr_len, HDR);
	CHECK_EQ(t.mss, MSS);
	static uint8_t seg[HDR + MSS], joined[PAYLOAD];
	size_t got = 0, nseg = 0;
	for (size_t off = t.hdr_len; off < len; off += t.mss, nseg++) {
		size_t n = netdev_tso_segment(frame, len, &t, off, seg, full);
		CHECK(n <= ETH + MTU && n > HDR);
		uint32_t tcp_len = (uint32_t)(n - ETH - IP6);
		const uint8_t *th = seg + ETH + IP6;
		CHECK_EQ(rd16(seg + ETH + 4), tcp_len);
		CHECK_EQ(rd32(th + 4), 0xfffff000u + (uint32_t)(off - HDR));
		CHECK(memcmp(seg, frame, ETH + 4) == 0 && memcmp(seg + ETH + 6, frame + ETH + 6, 34) == 0);
		CHECK(memcmp(th + 8, frame + ETH + IP6 + 8, 5) == 0 && memcmp(th + 14, frame + ETH + IP6 + 14, 2) == 0 &&
		      memcmp(th + 18, frame + ETH + IP6 + 18, TCPH - 18) == 0);     /* ack, offset, window, options */
		bool last = off + (n - HDR) == len;
		CHECK_EQ(th[13], last ? flags : (uint8_t)(flags & ~0x09));
		if (full)
			CHECK_EQ(fold(sum16(th, tcp_len, pseudo(seg, tcp_len))), 0xffff);
		else
			CHECK_EQ(rd16(th + 16), fold(pseudo(seg, tcp_len)));
		memcpy(joined + got, seg + HDR, n - HDR);
		got += n - HDR;
	}
	CHECK_EQ(got, payload);
	CHECK(memcmp(joined, frame + HDR, payload) == 0);
	CHECK_EQ(nseg, (payload + MSS - 1) / MSS);
	CHECK(nseg <= NETDEV_TSO6_SEGS_MAX);
}

TEST(ipv6_frames_cut_with_full_checksums)
{
	cut_and_check(PAYLOAD, 0x18, true);            /* ACK PSH */
	cut_and_check(MSS * 3, 0x19, true);            /* ACK PSH FIN, exact multiple */
	cut_and_check(MSS * 2 + 1, 0x10, true);        /* an odd last segment */
}

TEST(ipv6_frames_cut_with_pseudo_seeds)
{
	cut_and_check(PAYLOAD, 0x19, false);
	cut_and_check(MSS + 7, 0x18, false);
}

TEST(which_frames_are_tso)
{
	struct netdev_tso_frame t;
	size_t len = make_frame(PAYLOAD, 0x10);
	dev.features = 0;
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_BAD);    /* no TSO6: too long */
	dev.features = NETDEV_F_TSO;
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_BAD);    /* IPv4 TSO only */
	dev.features = NETDEV_F_TSO6;
	frame[ETH + 6] = 0;                                                    /* an extension header */
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_BAD);
	len = make_frame(MSS, 0x10);
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_PLAIN);  /* fits the MTU */
	len = make_frame(PAYLOAD, 0x10);
	wr16(frame + ETH + 4, 100);                                            /* payload length lies */
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_BAD);
}

#define IP4 20
#define HDR4 (ETH + IP4 + TCPH)
#define MSS4 (MTU - IP4 - TCPH)
#define PAYLOAD4_MAX (NETDEV_TSO_MAX - IP4 - TCPH)     /* an IPv4 packet of IP's largest size */

/* An IPv4/TCP frame of `payload` bytes (id 0xfffe: it wraps within the frame). */
static size_t make_frame4(size_t payload, uint8_t flags)
{
	srand((unsigned)payload + 4);
	memset(frame, 0, HDR4);
	memset(frame, 0x02, 12);
	wr16(frame + 12, ETH_P_IP);
	uint8_t *ip = frame + ETH, *th = ip + IP4;
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(IP4 + TCPH + payload));
	wr16(ip + 4, 0xfffe);
	wr16(ip + 6, 0x4000);                /* DF */
	ip[8] = 64;
	ip[9] = 6;
	wr32(ip + 12, 0xc0a84d02u);
	wr32(ip + 16, 0xc0a84d01u);
	wr16(th, 40000);
	wr16(th + 2, 5001);
	wr32(th + 4, 0xfffff000u);
	wr32(th + 8, 0x12345678u);
	th[12] = (TCPH / 4) << 4;
	th[13] = flags;
	wr16(th + 14, 4096);
	for (size_t i = 0; i < payload; i++)
		frame[HDR4 + i] = (uint8_t)rand();
	dev.mtu = MTU;
	dev.features = NETDEV_F_TSO;
	return HDR4 + payload;
}

TEST(ipv4_segments_cut_with_length_id_and_both_checksums)
{
	static const size_t payloads[] = { MSS4 * 3, MSS4 * 2 + 1, 15000, PAYLOAD4_MAX };
	for (unsigned p = 0; p < sizeof(payloads) / sizeof(payloads[0]); p++) {
		size_t payload = payloads[p];
		size_t len = make_frame4(payload, 0x19);        /* ACK PSH FIN */
		dev.tso_max = NETDEV_TSO_MAX;                   /* as virtio-net's, for the largest */
		struct netdev_tso_frame t;
		CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_TSO);
		CHECK(!t.v6);
		CHECK_EQ(t.hdr_len, HDR4);
		CHECK_EQ(t.mss, MSS4);
		static uint8_t seg[HDR4 + MSS4], joined[PAYLOAD4_MAX];
		size_t got = 0;
		unsigned k = 0;
		for (size_t off = t.hdr_len; off < len; off += t.mss, k++) {
			size_t n = netdev_tso_segment(frame, len, &t, off, seg, true);
			CHECK(n <= ETH + MTU && n > HDR4);
			const uint8_t *ip = seg + ETH, *th = ip + IP4;
			uint32_t tcp_len = (uint32_t)(n - ETH - IP4);
			CHECK_EQ(rd16(ip + 2), IP4 + tcp_len);
			CHECK_EQ(rd16(ip + 4), (uint16_t)(0xfffe + k));
			CHECK_EQ(fold(sum16(ip, IP4, 0)), 0xffff);             /* the header checksum */
			CHECK(memcmp(ip + 6, frame + ETH + 6, 4) == 0 && memcmp(ip + 12, frame + ETH + 12, 8) == 0);
			CHECK_EQ(rd32(th + 4), 0xfffff000u + (uint32_t)(off - HDR4));
			bool last = off + (n - HDR4) == len;
			CHECK_EQ(th[13], last ? 0x19 : 0x10);
			CHECK_EQ(fold(sum16(th, tcp_len, sum16(ip + 12, 8, 6 + tcp_len))), 0xffff);
			memcpy(joined + got, seg + HDR4, n - HDR4);
			got += n - HDR4;
		}
		CHECK_EQ(got, payload);
		CHECK(memcmp(joined, frame + HDR4, payload) == 0);
		CHECK_EQ(k, (payload + MSS4 - 1) / MSS4);
	}
	dev.tso_max = 0;
}

/* A TSO frame is one only within the device's limit: NETDEV_TSO_DEFAULT unless the driver set
 * tso_max, and never above IP's 64 KiB. */
TEST(tso_frames_within_the_device_limit)
{
	struct netdev_tso_frame t;
	size_t len = make_frame4(NETDEV_TSO_DEFAULT - IP4 - TCPH, 0x10);      /* exactly the default */
	dev.tso_max = 0;
	CHECK_EQ(netdev_tso_max(&dev), NETDEV_TSO_DEFAULT);
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_TSO);
	len = make_frame4(NETDEV_TSO_DEFAULT + 1 - IP4 - TCPH, 0x10);         /* one byte more */
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_BAD);
	dev.tso_max = NETDEV_TSO_MAX;
	CHECK_EQ(netdev_tso_max(&dev), NETDEV_TSO_MAX);
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_TSO);
	len = make_frame4(PAYLOAD4_MAX, 0x10);
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_TSO);
	CHECK_EQ(t.mss, MSS4);
	dev.tso_max = NETDEV_TSO_MAX - 1;                                      /* a device that takes less */
	CHECK_EQ(netdev_tx_kind(&dev, frame, len, 2048, &t), NETDEV_TX_BAD);
	dev.tso_max = 0;
}

UNIT_TESTS(CASE(ipv6_frames_cut_with_full_checksums), CASE(ipv6_frames_cut_with_pseudo_seeds), CASE(which_frames_are_tso),
	   CASE(ipv4_segments_cut_with_length_id_and_both_checksums), CASE(tso_frames_within_the_device_limit))
