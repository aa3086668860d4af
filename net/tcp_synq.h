/*
 * Listening TCP sockets under a SYN flood (net/tcp_synq.c): the bounded half-open queue, SYN
 * cookies when it is full, and the TcpExt counters of /proc/net/netstat.
 */
#ifndef NET_TCP_SYNQ_H
#define NET_TCP_SYNQ_H
#include "kernel/types.h"

struct tcp_pcb;
struct tcp_pcb_listen;
struct tcp_hdr;
struct pbuf;

/* LWIP_HOOK_TCP_INPACKET_PCB for a segment lwIP matched to a listening pcb or to a half-open
 * connection (lwipopts.h calls it only for those): 0 (ERR_OK) lets lwIP have it, anything else
 * drops it. Squeue context, stack lock held. */
int tcp_synq_listen_input(struct tcp_pcb *lpcb, struct tcp_hdr *hdr, uint16_t optlen, uint16_t opt1len,
			  uint8_t *opt2, struct pbuf *p);

/* The receive path's shortcut (net/stack.c: stack_input, the NIC's poll thread, no lock held).
 * tcp_synq_cookie_mode: does the listener on (addr, port) (host order) answer SYNs with cookies
 * now (its half-open queue was full within the last MODE_HOLD_S seconds)? tcp_synq_answer: answer
 * the SYN in frame (an Ethernet frame received on dev) with a cookie SYN-ACK, advertising mss;
 * csum_ok: the device checked the TCP checksum. false: not a SYN it may answer (malformed, bad
 * checksum, odd addresses): the stack has it as usual. */
struct net_device;
bool tcp_synq_cookie_mode(uint32_t addr, uint16_t port);
bool tcp_synq_answer(struct net_device *dev, const uint8_t *frame, size_t len, unsigned mss, bool csum_ok);
/* The same for IPv6: addr is the 128-bit destination (network order, as in the frame); mss the
 * interface's IPv6 MSS. Only a SYN right behind the IPv6 header is answered. */
bool tcp_synq_cookie_mode6(const uint8_t addr[16], uint16_t port);
bool tcp_synq_answer6(struct net_device *dev, const uint8_t *frame, size_t len, unsigned mss, bool csum_ok);

/* The IPv4 output's question for a SYN-ACK to addr (network order) on n with no ARP entry: did
 * addr's SYN, answered by a half-open pcb in the last PEER_HOLD_S seconds, come from a MAC on n?
 * Then mac is it and the SYN-ACK goes there, not through ARP. Stack lock held. */
struct netif;
bool tcp_synq_synack_mac(struct netif *n, uint32_t addr, uint8_t mac[6]);

/* Provided by the socket layer (net/sock_tcp.c): is the accept queue of the socket listening on l
 * full (more than its backlog waiting for accept())? false for listeners that are not sockets.
 * Stack lock held; takes the socket's lock. */
bool tcp_sock_acceptq_full(const struct tcp_pcb_listen *l);

/* Linux's TcpExt counters that this file keeps (64-bit, read without locks). */
struct tcp_synq_stats {
	uint64_t syncookies_sent;          /* SYN-ACKs with a cookie */
	uint64_t syncookies_recv;          /* ACKs that carried a valid cookie */
	uint64_t syncookies_failed;        /* ACKs to a listener, cookies recently sent, cookie invalid */
	uint64_t listen_overflows;         /* SYNs or cookie ACKs refused: the accept queue was full */
	uint64_t listen_drops;             /* every SYN or cookie ACK a listener dropped */
};
void tcp_synq_get_stats(struct tcp_synq_stats *out);

#endif
