/*
 * The ICMP port unreachable for an IPv4 UDP datagram nobody listens for, as Linux sends it
 * (net/udp_unreach.h is the interface).
 *
 * Theory. lwIP's udp_input answers such a datagram itself, but its ICMP error quotes the IP
 * header and 8 bytes only (icmp.c's fixed ICMP_DEST_UNREACH_DATASIZE), so the sender's error
 * queue (IP_RECVERR: net/sock_errq.c) would lack the payload Linux's icmp_send quotes: as much
 * of the datagram as fits in a 576-byte ICMP packet. A raw pcb of protocol UDP, created when the
 * stack comes up, sees every IPv4 UDP datagram for us before udp_input does (ip4_input runs
 * raw_input first). It looks for the pcb udp_input would hand the datagram to (udp_input's own
 * match: local port, then address); when there is none and udp_input would answer (a unicast to
 * the receiving interface's address with a good checksum), it sends Linux's port unreachable (the
 * datagram's destination as source, TTL 64, TOS internetwork control over the datagram's TOS
 * bits) unless Linux's rate limits hold it back (net/icmp_ratelimit.c) and eats the datagram,
 * counting it as udp_input would. Everything else it leaves to
 * udp_input. IPv6 needs none of this: lwIP's ICMPv6 errors already quote up to the minimum MTU.
 *
 * Context: the callback runs in squeue context with the stack lock held (net/stack.h).
 */
#include "net/udp_unreach.h"
#include "net/icmp_ratelimit.h"
#include "lib/string.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/udp.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/udp.h"

#define ICMP_ERR_MAX_PKT 576          /* Linux's icmp_send: an error fits in 576 bytes */
#define ICMP_HDR_LEN 8
#define ICMP_ERR_TTL 64               /* net.ipv4.ip_default_ttl */
#define IPTOS_TOS_MASK_K 0x1e
#define IPTOS_PREC_INTERNETCONTROL_K 0xc0
#define ICMP_DUR_PORT_CODE 3

static struct raw_pcb *udp_raw_pcb;  /* stack lock */

/* udp_input's choice: is there a pcb for this datagram (the current packet's addresses)? */
static bool udp_has_listener(uint16_t dport, struct netif *inp)
{
	for (struct udp_pcb *pcb = udp_pcbs; pcb; pcb = pcb->next) {
		if (pcb->local_port != dport)
			continue;
		if (pcb->netif_idx != NETIF_NO_INDEX && pcb->netif_idx != netif_get_index(inp))
			continue;
		if (IP_IS_ANY_TYPE_VAL(pcb->local_ip))
			return true;
		if (IP_IS_V4_VAL(pcb->local_ip) &&
		    (ip4_addr_isany(ip_2_ip4(&pcb->local_ip)) || ip4_addr_cmp(ip_2_ip4(&pcb->local_ip), ip4_current_dest_addr())))
			return true;
	}
	return false;
}

static void send_unreach(struct pbuf *p, const struct ip_hdr *iph)
{
	ip4_addr_t to;
	ip4_addr_copy(to, iph->src);
	struct netif *out = ip4_route(&to);
	if (!out || !icmp_rate_allow(ICMP_DUR, ICMP_DUR_PORT_CODE, ip4_addr_get_u32(&to), ip_current_input_netif(), out))
		return;                          /* no route, or rate limited (net/icmp_ratelimit.c) */
	u16_t quote = (u16_t)MIN((size_t)p->tot_len, (size_t)(ICMP_ERR_MAX_PKT - IP_HLEN - ICMP_HDR_LEN));
	struct pbuf *q = pbuf_alloc(PBUF_IP, (u16_t)(ICMP_HDR_LEN + quote), PBUF_RAM);
	if (!q)
		return;
	uint8_t *b = q->payload;
	memset(b, 0, ICMP_HDR_LEN);
	b[0] = ICMP_DUR;
	b[1] = ICMP_DUR_PORT_CODE;
	pbuf_copy_partial(p, b + ICMP_HDR_LEN, quote, 0);
	ip4_addr_t src, dst;
	ip4_addr_copy(src, iph->dest);
	ip4_addr_copy(dst, iph->src);
	struct netif *n = ip4_route(&dst);
	if (n) {
		u16_t sum = 0;
		IF__NETIF_CHECKSUM_ENABLED(n, NETIF_CHECKSUM_GEN_ICMP) {
			sum = inet_chksum(b, q->len);
		}
		memcpy(b + 2, &sum, sizeof(sum));
		ICMP_STATS_INC(icmp.xmit);
		MIB2_STATS_INC(mib2.icmpoutmsgs);
		MIB2_STATS_INC(mib2.icmpoutdestunreachs);
		u8_t tos = (u8_t)((IPH_TOS(iph) & IPTOS_TOS_MASK_K) | IPTOS_PREC_INTERNETCONTROL_K);
		ip4_output_if(q, &src, &dst, ICMP_ERR_TTL, tos, IP_PROTO_ICMP, n);
	}
	pbuf_free(q);
}

/* p starts at the IPv4 header. Eats (and answers) only what udp_input would answer itself. */
static u8_t udp_raw_cb(void *arg __unused, struct raw_pcb *pcb __unused, struct pbuf *p, const ip_addr_t *src __unused)
{
	struct netif *inp = ip_current_input_netif();
	const struct ip_hdr *iph = ip4_current_header();
	if (ip_current_is_v6() || !iph || !inp)
		return 0;
	u16_t hl = IPH_HL_BYTES(iph);
	struct udp_hdr uh;
	if (p->tot_len < hl + UDP_HLEN || pbuf_copy_partial(p, &uh, sizeof(uh), hl) != sizeof(uh))
		return 0;
	if (ip_addr_isbroadcast(ip_current_dest_addr(), ip_current_netif()) ||
	    ip4_addr_ismulticast(ip4_current_dest_addr()) || !ip4_addr_cmp(netif_ip4_addr(inp), ip4_current_dest_addr()) ||
	    udp_has_listener(lwip_ntohs(uh.dest), inp))
		return 0;
	IF__NETIF_CHECKSUM_ENABLED(inp, NETIF_CHECKSUM_CHECK_UDP) {
		if (uh.chksum != 0) {
			if (pbuf_remove_header(p, hl))
				return 0;
			u16_t sum = ip_chksum_pseudo(p, IP_PROTO_UDP, p->tot_len, ip_current_src_addr(), ip_current_dest_addr());
			pbuf_add_header_force(p, hl);
			if (sum != 0)
				return 0;                    /* udp_input drops it silently */
		}
	}
	UDP_STATS_INC(udp.recv);
	UDP_STATS_INC(udp.proterr);
	UDP_STATS_INC(udp.drop);
	MIB2_STATS_INC(mib2.udpnoports);
	send_unreach(p, iph);
	pbuf_free(p);
	return 1;
}

void udp_unreach_init(void)
{
	if (udp_raw_pcb)
		return;
	udp_raw_pcb = raw_new_ip_type(IPADDR_TYPE_V4, IP_PROTO_UDP);
	if (udp_raw_pcb)
		raw_recv(udp_raw_pcb, udp_raw_cb, NULL);
}
