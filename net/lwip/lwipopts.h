/*
 * lwIP 2.1.3 configuration for Ember (the port: net/lwip/; the theory of how lwIP is entered:
 * net/squeue.c and net/stack.h).
 *
 * Mode. NO_SYS=1 with the raw API only: lwIP never creates threads or blocks. It is entered from
 * squeue callbacks, which always run with the stack lock held (one global spinlock: lwIP's state is
 * global), and never from interrupt context. LWIP_ASSERT_CORE_LOCKED checks that on every entry to
 * the core.
 *
 * Memory. MEM_LIBC_MALLOC + MEMP_MEM_MALLOC: every lwIP allocation (heap and "pools" alike) is a
 * kmalloc/kfree through ember_lwip_malloc (net/lwip/sys_arch.c). There is no fixed heap to size and
 * no per-type pool limit (MEMP_NUM_* are unused); limits come from TCP_SND_BUF, TCP_WND, the
 * listen backlog and the squeue queue bound. The kernel allocator is thread-safe, and the few
 * places lwIP touches shared counters or pbuf reference counts outside the core are covered by
 * SYS_LIGHTWEIGHT_PROT (a leaf spinlock in sys_arch.c), which is what lets the socket layer read and
 * free received pbufs outside the stack lock (net/stack.h).
 *
 * Protocols. IPv4 with ARP, ICMP (echo replies), raw pcbs (ping, SOCK_RAW), UDP, TCP (window
 * scaling, SACK for out-of-order data, listen backlog, keepalive), DHCP client, IP fragmentation and
 * reassembly. Loopback: lwIP's own loopback queue is off (LWIP_NETIF_LOOPBACK 0); net/stack.c has
 * an "lo" netif (127.0.0.1/8) whose output re-enters the squeues, and sends traffic for our own
 * addresses through it too, so loopback traffic is classified and serialized like wire traffic.
 */
#ifndef EMBER_LWIPOPTS_H
#define EMBER_LWIPOPTS_H

/* ---- system ---- */
#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            1
#define LWIP_TIMERS                     1
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0
#define LWIP_NETIF_API                  0
#define LWIP_CALLBACK_API               1
#define LWIP_ASSERT_CORE_LOCKED()       ember_lwip_assert_core_locked()
void ember_lwip_assert_core_locked(void);

/* ---- memory: all from kmalloc ---- */
#define MEM_LIBC_MALLOC                 1
#define MEMP_MEM_MALLOC                 1
#define MEM_ALIGNMENT                   8
#define mem_clib_malloc                 ember_lwip_malloc
#define mem_clib_free                   ember_lwip_free
#define mem_clib_calloc                 ember_lwip_calloc
#include <stddef.h>
void *ember_lwip_malloc(size_t size);
void ember_lwip_free(void *p);
void *ember_lwip_calloc(size_t n, size_t size);
#define MEMP_NUM_SYS_TIMEOUT            32
#define PBUF_POOL_SIZE                  64     /* unused as a limit with MEMP_MEM_MALLOC */
#define LWIP_SUPPORT_CUSTOM_PBUF        1      /* received frames: one kmalloc holds item, pbuf, bytes */

/* ---- interfaces ---- */
#define LWIP_SINGLE_NETIF               0
#define LWIP_NETIF_HOSTNAME             1
#define LWIP_NETIF_STATUS_CALLBACK      1
#define LWIP_NETIF_LINK_CALLBACK        0
#define LWIP_NETIF_LOOPBACK             0      /* net/stack.c's lo netif instead */
#define LWIP_HAVE_LOOPIF                0
#define LWIP_NETIF_TX_SINGLE_PBUF       0      /* off: sockets queue TCP data without a copy (net/stack.h), so a segment may be a header pbuf and its data */
#define LWIP_CHECKSUM_CTRL_PER_NETIF    1      /* lo neither computes nor checks checksums */
#define LWIP_ETHERNET                   1
#define ETH_PAD_SIZE                    0      /* the receive path aligns the IP header itself */

/* ---- IPv4, ARP, ICMP, raw ---- */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       1      /* dual stack: ip_addr_t carries a type; see the IPv6 block below */
#define LWIP_ARP                        1
#define ARP_TABLE_SIZE                  64
#define ARP_QUEUEING                    1
#define ARP_QUEUE_LEN                   16
#define ETHARP_SUPPORT_VLAN             0
#define IP_FORWARD                      0
#define IP_REASSEMBLY                   1
#define IP_FRAG                         1
#define IP_REASS_MAX_PBUFS              64
#define IP_DEFAULT_TTL                  64
#define LWIP_ICMP                       1
#define LWIP_BROADCAST_PING             0
#define LWIP_RAW                        1
#define LWIP_IGMP                       0
#define LWIP_AUTOIP                     0
#define LWIP_DNS                        0

/* ---- IPv6 (net/stack6.c): ND, SLAAC from router advertisements, MLD, fragmentation ----
 * Every NIC gets a link-local address from its MAC and takes the prefixes routers advertise
 * (QEMU's user networking: fec0::/64); lo has ::1. MLD reports are sent as lwIP does them, and the
 * NICs accept all multicast (net/stack6.c: why). */
#define LWIP_IPV6_NUM_ADDRESSES         3      /* link-local + two SLAAC/static */
#define LWIP_IPV6_AUTOCONFIG            1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT   1
#define LWIP_IPV6_MLD                   1
#define LWIP_IPV6_FRAG                  1
#define LWIP_IPV6_REASS                 1
#define IPV6_FRAG_COPYHEADER            1      /* 64-bit pointers: the reassembly helper does not fit the fragment header (ip6_frag.c) */
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS   1
#define LWIP_ND6_QUEUEING               1
#define LWIP_ND6_NUM_NEIGHBORS          32
#define LWIP_ND6_NUM_DESTINATIONS       32
#define LWIP_ND6_ALLOW_RA_UPDATES       1
#define LWIP_IPV6_DHCP6                 0
#define LWIP_ICMP6                      1
#define LWIP_ICMP6_HL                   64     /* echo replies and errors: Linux's default hop limit (ND keeps its 255) */

/* ---- UDP, DHCP ---- */
#define LWIP_UDP                        1
#define LWIP_DHCP                       1
#define DHCP_DOES_ARP_CHECK             1
#define LWIP_DHCP_CHECK_LINK_UP         1

/* ---- TCP ----
 * TCP_MSS is the largest segment, used by connections over lo (MTU 65535) and over NICs that do
 * TSO (net/stack.c: stack_tcp_offload; at most the TSO netif's MTU less headers, 16344); a
 * connection over another NIC gets its MTU's (1460 for 1500 bytes) from
 * TCP_CALCULATE_EFF_SEND_MSS, and that is what every NIC connection advertises. Big segments cut
 * the per-packet work (lwIP input, squeue items, ACKs): over lo 1460 -> 16128 gave 3x, 16128 ->
 * 32600 another ~20% (one flow 2400 -> 2970 Mbit/s), 32600 -> 65000 another ~20% (4.0 -> 4.8
 * Gbit/s). No allocation grows with it: a segment's bytes are send-chunk pieces, lent over lo
 * (net/stack.h), never a copy lwIP allocates. 65000 stays below lo's 65535-byte packets with the
 * longest IPv6 and TCP headers, and a segment's pbuf chain (u16 tot_len) with link room too.
 * The queue limits are sized for wire segments, the smallest ones.
 * lwIP's TCP sanity checks are off only because one of them ties TCP_SNDLOWAT (used by the netconn
 * API, not built here) to TCP_MSS < 16 KiB; the others are repeated below TCP's settings. */
#define LWIP_TCP                        1
#define TCP_WIRE_MSS                    1460
#define TCP_MSS                         65000
#define LWIP_WND_SCALE                  1
#define TCP_RCV_SCALE                   4       /* windows up to 1 MiB */
/* 512 KiB windows: a reader hands bytes back in quarters of the window (net/sock_tcp.c RECVED_BATCH),
 * and over lo every window update and ACK is a packet through the squeues too; at 256 KiB they
 * outnumbered the data segments (loopback 4 flows ~1900 -> ~2250 Mbit/s, virtio host->guest
 * ~2950 -> ~3370). */
#define TCP_WND                         (512 * 1024)
#define TCP_SND_BUF                     (512 * 1024)
#define TCP_SND_QUEUELEN                ((4 * (TCP_SND_BUF) + (TCP_WIRE_MSS - 1)) / (TCP_WIRE_MSS))
#define TCP_SNDLOWAT                    512     /* used by the netconn API only */
#define LWIP_DISABLE_TCP_SANITY_CHECKS  1       /* see above; the checks that apply: */
#if TCP_SND_BUF < 2 * TCP_MSS || TCP_SND_QUEUELEN < 2 * (TCP_SND_BUF / TCP_MSS) || TCP_WND < TCP_MSS || \
    TCP_SNDLOWAT >= TCP_SND_BUF
#error "lwipopts.h: TCP buffer sizes out of lwIP's sane ranges (init.c, lwip_sanity_check)"
#endif
#define TCP_WND_UPDATE_THRESHOLD        (4 * TCP_WIRE_MSS)  /* announce a reopened window after 4 wire segments (not 4 lo ones) */
#define TCP_QUEUE_OOSEQ                 1
#define LWIP_TCP_SACK_OUT               1
#define LWIP_TCP_MAX_SACK_NUM           4
#define TCP_LISTEN_BACKLOG              1       /* the half-open queue's bound (net/tcp_synq.c) */
#define TCP_DEFAULT_LISTEN_BACKLOG      0xff
#define LWIP_TCP_KEEPALIVE              1
#define SO_REUSE                        1       /* SO_REUSEADDR (sockets set SOF_REUSEADDR) */
#define SO_REUSE_RXTOALL                1       /* a broadcast reaches every UDP socket sharing its port */
#define TCP_OVERSIZE                    TCP_WIRE_MSS   /* spare room per pbuf for later small writes */
#define LWIP_TCP_TIMESTAMPS             0
#define TCP_MAXRTX                      12
#define TCP_MSL                         30000UL /* TIME_WAIT lasts 2 MSL: 60 s, Linux's TCP_TIMEWAIT_LEN (lwIP: 120 s) */
/* a SYN's MSS option is the device MTU's, not the netif's (TSO netifs: net/stack.c) */
#include <stdint.h>
struct pbuf; struct tcp_hdr; struct tcp_pcb;
uint32_t *stack_tcp_opts(struct pbuf *p, struct tcp_hdr *h, const struct tcp_pcb *pcb, uint32_t *opts);
#define LWIP_HOOK_TCP_OUT_ADD_TCPOPTS(p, h, pcb, opts) stack_tcp_opts(p, h, pcb, opts)
#define TCP_SYNMAXRTX                   6
/* Listeners under a SYN flood (net/tcp_synq.c, both families): every segment lwIP matched to a listening pcb or a
 * half-open (SYN_RCVD) one goes through tcp_synq_listen_input first (the half-open queue's bound,
 * SYN cookies, their ACKs), and so does one for a TIME_WAIT pcb (a new SYN reusing the 4-tuple
 * becomes a new connection, as Linux); segments of connections only pay the state test. */
int tcp_synq_listen_input(struct tcp_pcb *lpcb, struct tcp_hdr *hdr, uint16_t optlen, uint16_t opt1len,
			  uint8_t *opt2, struct pbuf *p);
/* A connection's segment carrying more than one MSS of data (an LRO or GRO frame: net/gro.c) is
 * acknowledged at once, as Linux does when more than one full segment is unacknowledged
 * (__tcp_ack_snd_check): lwIP's own rule counts segments, and would delay the ACK of a lone
 * merged frame standing for dozens of them (stack_tcp_big_segment, net/stack.c). */
void stack_tcp_big_segment(struct tcp_pcb *pcb, const struct pbuf *p);
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
	(((pcb)->state == LISTEN || (pcb)->state == SYN_RCVD || (pcb)->state == TIME_WAIT) ? \
	 (err_t)tcp_synq_listen_input((pcb), (hdr), (optlen), (opt1len), (opt2), (p)) : \
	 (stack_tcp_big_segment((pcb), (p)), ERR_OK))

/* ---- statistics: /proc/net/... and the monitor's netstat ---- */
#define LWIP_STATS                      1
#define LWIP_STATS_DISPLAY              0
#define LWIP_STATS_LARGE                1       /* 32-bit counters */
#define LINK_STATS                      1
#define ETHARP_STATS                    1
#define IP_STATS                        1
#define IPFRAG_STATS                    1
#define ICMP_STATS                      1
#define UDP_STATS                       1
#define TCP_STATS                       1
#define MEM_STATS                       1
#define MEMP_STATS                      0
#define SYS_STATS                       0


#endif
