/*
 * Software receive coalescing (interface in net/gro.h).
 *
 * Theory. A NIC without LRO (e1000, RTL8139, virtio-net without GUEST_TSO4) hands the stack one
 * wire frame at a time, and a bulk TCP receiver then pays per 1460 bytes for everything above
 * the driver: an allocation, an squeue entry, the stack lock, lwIP's segment processing, and an
 * ACK every second segment, each ACK a transmit through the device (on QEMU a register write
 * that stops the vCPU and takes the emulator's global lock). Linux's answer is GRO: within one
 * NAPI poll, segments that continue each other are merged into one large segment before the
 * protocol sees them. Ember already takes such frames from virtio-net's LRO (NETDEV_RX_LRO), so
 * GRO builds exactly that kind of frame for the other NICs.
 *
 * The held frame. At most one frame is being built per device (struct gro). A frame that may
 * start or join one (a candidate) is a TCP segment with data over IPv4 or IPv6: for IPv4 no IP
 * options, not a fragment and a valid IP header checksum; for IPv6 TCP as the next header of the
 * fixed header (no extension headers, so no fragments and no jumbograms); then ACK set and none of
 * SYN/FIN/RST/URG/ECE/CWR, and a valid TCP checksum (checked here unless the device vouched for
 * it: the merged frame goes up with NETDEV_RX_CSUM_OK, so nothing bad may enter it). A candidate
 * joins the held frame when it is the next segment of the same connection as Linux's
 * inet_gro_receive/ipv6_gro_receive and tcp_gro_receive decide it: same MAC header (so the same
 * family), addresses, for IPv4 the same TOS, TTL and DF, for IPv6 the same first word (version,
 * traffic class, flow label) and hop limit, same ports, its sequence number where the held data ends,
 * the same acknowledgement number, the same TCP header length and option bytes, and a payload no
 * longer than the first segment's (the sender's MSS); and the result fits GRO_MAX. Its payload
 * is appended and its window taken. A segment with PSH, or shorter than the first, ends the
 * frame: it is delivered at once. Anything else (an ACK without data, another connection, a
 * gap, a bad checksum, ARP, ICMPv6, ...) first delivers the held frame, then is itself delivered
 * or, if it is a candidate, held to start a new frame. So frames are delivered in arrival order
 * and a connection's segments are never reordered; what the stack sees is what a sender with
 * TSO would have sent.
 *
 * The end of a poll delivers the held frame (gro_flush from net/netdev.c), so nothing waits for
 * later traffic. A merged frame gets its IPv4 total length and header checksum (IPv6: its payload
 * length) rewritten and goes
 * up flagged NETDEV_RX_LRO | NETDEV_RX_CSUM_OK; its TCP checksum field is the first segment's
 * (as on Linux, where packet captures of GRO frames show the same). A frame held alone goes up
 * as it came, with NETDEV_RX_CSUM_OK added since its checksum was checked.
 */
#include "net/gro.h"
#include "net/netdev.h"
#include "lib/string.h"
#include "lib/inet_csum.h"       /* 64-bit loads: every received segment is summed */

#define ETH_TYPE_OFF   12
#define ETH_HDR        14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IP_HDR         20            /* IPv4 without options: the only kind merged */
#define IP6_HDR        40            /* the IPv6 fixed header: extension headers are not merged */
#define IP6_PLEN_OFF   4             /* its payload length */
#define IP6_NEXT_OFF   6             /* its next header */
#define IP6_HOP_OFF    7             /* its hop limit */
#define IP6_ADDRS_OFF  8             /* source and destination, 32 bytes */
#define IP6_ADDRS_LEN  32
#define IP_PROTO_TCP_  6
#define IP_FRAG_MASK   0x3fff        /* MF and the fragment offset */
#define IP_DF          0x4000
#define TCP_HDR_MIN    20
#define TCP_F_FIN 0x01
#define TCP_F_SYN 0x02
#define TCP_F_RST 0x04
#define TCP_F_PSH 0x08
#define TCP_F_ACK 0x10
#define TCP_F_NOMERGE (TCP_F_FIN | TCP_F_SYN | TCP_F_RST | 0x20 /* URG */ | 0x40 /* ECE */ | 0x80 /* CWR */)

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* A candidate's layout (see the theory); false for any other frame. */
struct seg {
	const uint8_t *ip, *tcp;
	bool v6;
	unsigned doff;                   /* TCP header length */
	unsigned payload;                /* TCP data bytes */
	size_t end;                      /* frame bytes that count (Ethernet padding excluded) */
};

/* The IP part of candidate(): s->ip, s->tcp, s->v6 and s->end (the TCP length is s->end less
 * the headers), and the pseudo-header sum for the TCP checksum in *pseudo. */
static bool ip_candidate(const uint8_t *f, size_t len, struct seg *s, uint64_t *pseudo)
{
	const uint8_t *ip = f + ETH_HDR;
	if (len >= ETH_HDR + IP_HDR + TCP_HDR_MIN && be16(f + ETH_TYPE_OFF) == ETHERTYPE_IPV4) {
		unsigned tot = be16(ip + 2);
		if (ip[0] != 0x45 || ip[9] != IP_PROTO_TCP_ || (be16(ip + 6) & IP_FRAG_MASK) ||
		    tot < IP_HDR + TCP_HDR_MIN || ETH_HDR + (size_t)tot > len)
			return false;
		if (inet_csum_fold(inet_csum_add(0, ip, IP_HDR)) != 0xffff)
			return false;
		*s = (struct seg){ .ip = ip, .tcp = ip + IP_HDR, .v6 = false, .end = ETH_HDR + (size_t)tot };
		*pseudo = inet_csum_add(0, ip + 12, 8) + IP_PROTO_TCP_ + (tot - IP_HDR);
		return true;
	}
	if (len >= ETH_HDR + IP6_HDR + TCP_HDR_MIN && be16(f + ETH_TYPE_OFF) == ETHERTYPE_IPV6) {
		unsigned plen = be16(ip + IP6_PLEN_OFF);
		if (ip[0] >> 4 != 6 || ip[IP6_NEXT_OFF] != IP_PROTO_TCP_ || plen < TCP_HDR_MIN ||
		    ETH_HDR + IP6_HDR + (size_t)plen > len)
			return false;            /* extension headers, a jumbogram (length 0), truncated */
		*s = (struct seg){ .ip = ip, .tcp = ip + IP6_HDR, .v6 = true, .end = ETH_HDR + IP6_HDR + (size_t)plen };
		*pseudo = inet_csum_add(0, ip + IP6_ADDRS_OFF, IP6_ADDRS_LEN) + IP_PROTO_TCP_ + plen;
		return true;
	}
	return false;
}

static bool candidate(const uint8_t *f, size_t len, unsigned flags, struct seg *s)
{
	uint64_t pseudo;
	if (!ip_candidate(f, len, s, &pseudo))
		return false;
	const uint8_t *tcp = s->tcp;
	unsigned tcp_len = (unsigned)(f + s->end - tcp);
	unsigned doff = (unsigned)(tcp[12] >> 4) * 4;
	if (doff < TCP_HDR_MIN || doff >= tcp_len)
		return false;                    /* no data: an ACK, a window update, a probe */
	if ((tcp[13] & TCP_F_NOMERGE) || !(tcp[13] & TCP_F_ACK))
		return false;
	if (!(flags & NETDEV_RX_CSUM_OK) && inet_csum_fold(inet_csum_add(pseudo, tcp, tcp_len)) != 0xffff)
		return false;                    /* the stack will see it, count it and drop it */
	s->doff = doff;
	s->payload = tcp_len - doff;
	return true;
}

/* Do s's IP header and the held frame's agree on everything but lengths and IPv4's checksum?
 * (The MAC header, compared first, made the families equal.) */
static bool same_ip(const struct gro *g, const struct seg *s)
{
	const uint8_t *hip = g->buf + g->ip_off;
	if (s->v6)
		return memcmp(s->ip, hip, 4) == 0 &&                        /* version, class, flow label */
		       s->ip[IP6_HOP_OFF] == hip[IP6_HOP_OFF] &&
		       memcmp(s->ip + IP6_ADDRS_OFF, hip + IP6_ADDRS_OFF, IP6_ADDRS_LEN) == 0;
	return s->ip[1] == hip[1] && s->ip[8] == hip[8] &&                  /* TOS, TTL */
	       (be16(s->ip + 6) & IP_DF) == (be16(hip + 6) & IP_DF) &&
	       memcmp(s->ip + 12, hip + 12, 8) == 0;                        /* addresses */
}

/* Does s continue the held frame? */
static bool joins(const struct gro *g, const uint8_t *f, const struct seg *s)
{
	const uint8_t *htcp = g->buf + g->tcp_off;
	return memcmp(g->buf, f, ETH_TYPE_OFF + 2) == 0 &&                  /* MACs, ethertype */
	       same_ip(g, s) &&
	       memcmp(s->tcp, htcp, 4) == 0 &&                              /* ports */
	       be32(s->tcp + 4) == g->next_seq &&
	       memcmp(s->tcp + 8, htcp + 8, 4) == 0 &&                      /* acknowledgement */
	       s->doff == g->hdr_len - g->tcp_off &&
	       memcmp(s->tcp + TCP_HDR_MIN, htcp + TCP_HDR_MIN, s->doff - TCP_HDR_MIN) == 0 &&
	       s->payload <= g->mss && g->len + s->payload <= GRO_MAX;
}

void gro_init(struct gro *g, uint8_t *buf, gro_deliver_fn deliver, void *ctx)
{
	memset(g, 0, sizeof(*g));
	g->buf = buf;
	g->deliver = deliver;
	g->ctx = ctx;
}

void gro_flush(struct gro *g)
{
	if (!g->len)
		return;
	size_t len = g->len;
	unsigned flags = g->flags, segs = g->segs;
	g->len = 0;
	if (segs > 1) {
		uint8_t *ip = g->buf + g->ip_off;
		if (g->tcp_off - g->ip_off == IP6_HDR) {
			put16(ip + IP6_PLEN_OFF, (uint16_t)(len - g->tcp_off));
		} else {
			put16(ip + 2, (uint16_t)(len - g->ip_off));
			put16(ip + 10, 0);
			put16(ip + 10, (uint16_t)~inet_csum_fold(inet_csum_add(0, ip, IP_HDR)));
		}
		flags |= NETDEV_RX_LRO;
	}
	g->deliver(g->ctx, g->buf, len, flags, segs);
}

void gro_receive(struct gro *g, const uint8_t *f, size_t len, unsigned flags)
{
	struct seg s;
	if (!candidate(f, len, flags, &s)) {
		gro_flush(g);
		g->deliver(g->ctx, f, len, flags, 1);
		return;
	}
	if (g->len && joins(g, f, &s)) {
		memcpy(g->buf + g->len, s.tcp + s.doff, s.payload);
		g->len += s.payload;
		g->segs++;
		g->next_seq += s.payload;
		memcpy(g->buf + g->tcp_off + 14, s.tcp + 14, 2);            /* the newest window */
		if (s.tcp[13] & TCP_F_PSH)
			g->buf[g->tcp_off + 13] |= TCP_F_PSH;
		if ((s.tcp[13] & TCP_F_PSH) || s.payload < g->mss)
			gro_flush(g);
		return;
	}
	gro_flush(g);
	if (s.tcp[13] & TCP_F_PSH) {             /* ends a frame by itself: nothing to hold */
		g->deliver(g->ctx, f, len, flags | NETDEV_RX_CSUM_OK, 1);
		return;
	}
	memcpy(g->buf, f, s.end);
	g->len = s.end;
	g->flags = flags | NETDEV_RX_CSUM_OK;
	g->segs = 1;
	g->ip_off = ETH_HDR;
	g->tcp_off = (unsigned)(s.tcp - f);
	g->hdr_len = g->tcp_off + s.doff;
	g->mss = s.payload;
	g->next_seq = be32(s.tcp + 4) + s.payload;
}
