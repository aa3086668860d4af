/*
 * TSO frames (net/netdev.h): recognising one a driver was handed (netdev_tso_frame,
 * netdev_tx_kind), the pseudo-header sum the chips want in it (netdev_tso_pseudo_sum), and cutting
 * one into segments in software (netdev_tso_segment): IPv6 for chips that only cut IPv4, and the
 * last segment of an IPv4 one whose FIN the RTL8139 model would lose.
 * Pure functions of the frame's bytes and the device's features and MTU: drivers call them in
 * start_xmit, under their transmit lock or not; nothing here sleeps or takes a lock.
 */
#include "net/netdev.h"
#include "lib/inet_csum.h"
#include "lib/string.h"

#define IPV4_HLEN_MIN 20
#define TCP_HLEN_MIN 20
#define IP_PROTO_TCP_NUM 6
#define IPV4_FRAG_BITS 0x3fff          /* MF and the fragment offset */
#define IPV4_TOTLEN_OFF 2
#define IPV4_ID_OFF 4
#define IPV4_CSUM_OFF 10

#define TCP_SEQ_OFF 4
#define TCP_CSUM_OFF 16

static uint16_t be16_at(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32_at(const uint8_t *p) { return (uint32_t)be16_at(p) << 16 | be16_at(p + 2); }
static void put16_at(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32_at(uint8_t *p, uint32_t v) { put16_at(p, (uint16_t)(v >> 16)); put16_at(p + 2, (uint16_t)v); }

#define IPV6_HLEN 40
#define IPV6_PLEN_OFF 4
#define IPV6_NEXT_OFF 6
#define IPV6_ADDRS_OFF 8
#define IPV6_ADDRS_LEN 32

/* The IP part of netdev_tso_frame: the IP header's length in *ihl, or false. */
static bool tso_ip(const struct net_device *dev, const uint8_t *frame, size_t len, bool *v6, unsigned *ihl)
{
	const uint8_t *ip = frame + ETH_HLEN;
	uint16_t type = be16_at(frame + 2 * ETH_ALEN);
	if (type == ETH_P_IP && (dev->features & NETDEV_F_TSO)) {
		*v6 = false;
		*ihl = (ip[0] & 0xf) * 4u;
		return ip[0] >> 4 == 4 && *ihl >= IPV4_HLEN_MIN && ip[9] == IP_PROTO_TCP_NUM &&
		       be16_at(ip + 2) == len - ETH_HLEN && !(be16_at(ip + 6) & IPV4_FRAG_BITS);
	}
	if (type == ETH_P_IPV6 && (dev->features & NETDEV_F_TSO6)) {
		*v6 = true;
		*ihl = IPV6_HLEN;
		return ip[0] >> 4 == 6 && ip[IPV6_NEXT_OFF] == IP_PROTO_TCP_NUM &&
		       be16_at(ip + IPV6_PLEN_OFF) == len - ETH_HLEN - IPV6_HLEN;
	}
	return false;
}

bool netdev_tso_frame(const struct net_device *dev, const uint8_t *frame, size_t len, struct netdev_tso_frame *t)
{
	bool v6;
	unsigned ihl;
	if (len < ETH_HLEN + IPV6_HLEN + TCP_HLEN_MIN || !tso_ip(dev, frame, len, &v6, &ihl) ||
	    ETH_HLEN + ihl + TCP_HLEN_MIN > len)
		return false;
	const uint8_t *ip = frame + ETH_HLEN;
	unsigned thl = (ip[ihl + 12] >> 4) * 4u;
	if (thl < TCP_HLEN_MIN || ETH_HLEN + ihl + thl >= len || ihl + thl >= dev->mtu)
		return false;
	t->v6 = v6;
	t->ip_off = ETH_HLEN;
	t->tcp_off = ETH_HLEN + ihl;
	t->hdr_len = ETH_HLEN + ihl + thl;
	t->mss = dev->mtu - ihl - thl;
	return true;
}

enum netdev_tx_kind netdev_tx_kind(const struct net_device *dev, const void *frame, size_t len, size_t max_plain,
				   struct netdev_tso_frame *t)
{
	const uint8_t *f = frame;
	uint16_t type = be16_at(f + 2 * ETH_ALEN);
	if (len > ETH_HLEN + dev->mtu && (((dev->features & NETDEV_F_TSO) && type == ETH_P_IP) ||
					  ((dev->features & NETDEV_F_TSO6) && type == ETH_P_IPV6)))
		return len <= ETH_HLEN + netdev_tso_max(dev) && netdev_tso_frame(dev, f, len, t) ? NETDEV_TX_TSO : NETDEV_TX_BAD;
	return len <= max_plain ? NETDEV_TX_PLAIN : NETDEV_TX_BAD;
}

uint16_t netdev_tso_pseudo_sum(const uint8_t *frame, const struct netdev_tso_frame *t, uint32_t tcp_len)
{
	const uint8_t *ip = frame + t->ip_off;
	const uint8_t *a = t->v6 ? ip + IPV6_ADDRS_OFF : ip + 12;
	unsigned alen = t->v6 ? IPV6_ADDRS_LEN : 8;
	uint32_t sum = IP_PROTO_TCP_NUM + (tcp_len >> 16) + (tcp_len & 0xffff);
	for (unsigned i = 0; i < alen; i += 2)
		sum += be16_at(a + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

size_t netdev_tso_segment(const uint8_t *frame, size_t len, const struct netdev_tso_frame *t, size_t off, uint8_t *buf,
			  bool full_csum)
{
	size_t n = MIN(len - off, (size_t)t->mss);
	memcpy(buf, frame, t->hdr_len);
	memcpy(buf + t->hdr_len, frame + off, n);
	uint32_t tcp_len = (uint32_t)(t->hdr_len - t->tcp_off + n);
	uint32_t seq = be32_at(frame + t->tcp_off + TCP_SEQ_OFF) + (uint32_t)(off - t->hdr_len);
	uint8_t *ip = buf + t->ip_off, *th = buf + t->tcp_off;
	if (t->v6) {
		put16_at(ip + IPV6_PLEN_OFF, (uint16_t)(t->tcp_off - t->ip_off - IPV6_HLEN + tcp_len));
	} else {
		/* the k-th segment: its total length, the id advanced by k (as the chips do), the sum */
		unsigned ihl = t->tcp_off - t->ip_off;
		put16_at(ip + IPV4_TOTLEN_OFF, (uint16_t)(ihl + tcp_len));
		put16_at(ip + IPV4_ID_OFF, (uint16_t)(be16_at(ip + IPV4_ID_OFF) + (off - t->hdr_len) / t->mss));
		put16_at(ip + IPV4_CSUM_OFF, 0);
		put16_at(ip + IPV4_CSUM_OFF, (uint16_t)~inet_csum_fold(inet_csum_add(0, ip, ihl)));
	}
	put32_at(th + TCP_SEQ_OFF, seq);
	if (off + n < len)
		th[NETDEV_TCP_FLAGS_OFF] &= (uint8_t)~(NETDEV_TCP_FIN | NETDEV_TCP_PSH);
	uint16_t pseudo = netdev_tso_pseudo_sum(buf, t, tcp_len);
	if (full_csum) {
		put16_at(th + TCP_CSUM_OFF, 0);
		pseudo = (uint16_t)~inet_csum_fold(inet_csum_add(pseudo, th, tcp_len));
	}
	put16_at(th + TCP_CSUM_OFF, pseudo);
	return t->hdr_len + n;
}
