/*
 * Listening TCP sockets under a SYN flood: a bounded half-open queue per listener and, once it is
 * full, SYN cookies, as Linux does with net.ipv4.tcp_syncookies=1.
 *
 * The problem. lwIP answers a SYN by allocating a pcb in SYN_RCVD, which lives until the final ACK
 * comes or for 20 s (TCP_SYN_RCVD_TIMEOUT). A flood of SYNs from addresses that never answer fills
 * any finite queue of them, and then a real client's SYN finds no room: it was silently dropped
 * (and, before this file, the connections waiting for accept() shared that same budget).
 *
 * The queues. Two, as in Linux:
 *   - the half-open queue: lwIP's own accepts_pending/backlog pair of the listen pcb. With the
 *     socket layer no longer calling tcp_backlog_delayed, accepts_pending counts exactly the
 *     SYN_RCVD pcbs of the listener; its bound is the listen() backlog + 1 (at most 255, lwIP's
 *     u8), Linux's bound for its request queue too. Nothing established ever counts against it.
 *   - the accept queue: the socket layer's (net/sock_tcp.c), connections waiting for accept(),
 *     full when it holds more than the backlog (Linux's sk_acceptq_is_full). A SYN or a cookie ACK
 *     that finds it full is dropped and counted (ListenOverflows, ListenDrops): the client retries.
 *
 * Cookies, not eviction. lwIP calls LWIP_HOOK_TCP_INPACKET_PCB (lwipopts.h) with the listen pcb
 * for every segment that matched no connection but a listener, before tcp_listen_input, with the
 * header already parsed (ports and sequence numbers in host order) and the option bytes at hand;
 * a non-zero answer drops the segment. That is enough for stateless cookies, so they are what is
 * built (evicting the oldest half-open entry, the fallback the design allowed, is not needed):
 *   - a SYN while the half-open queue is full: answer with a SYN-ACK made here and sent at once
 *     (no pcb, no allocation beyond the packet), whose sequence number is a cookie
 *     (net/syncookie.c: the peer's MSS as an index, a 64 s time counter and SipHash of the 4-tuple
 *     under a key drawn from the kernel's random source at the first cookie). The reply goes to
 *     the MAC the SYN came from (stack_tcp_reply), not through ARP: spoofed sources would
 *     otherwise queue packets on ARP and evict real neighbours from lwIP's small ARP table.
 *   - an ACK to a listener, while cookies were sent in the last 2 minutes: if it acknowledges a
 *     valid cookie, the connection is created here as lwIP's tcp_listen_input would have created
 *     it for the SYN, in SYN_RCVD with its SYN-ACK already sent (snd_nxt = cookie + 1, nothing to
 *     retransmit), registered with lwIP, and the ACK (copied back to wire byte order) is fed to
 *     ip_input again right after this packet (stack_input_again): lwIP then finds the pcb and
 *     completes the handshake its own way (ESTABLISHED, the accept callback, any data the ACK
 *     carried). An invalid cookie is counted (SyncookiesFailed) and left to lwIP, which resets it.
 *   - the poll threads' shortcut: once a listener's queue is found full, its (address, port) is in
 *     cookie mode (a small lock-free table) and net/stack.c's stack_input, on the NIC's poll
 *     thread, hands its SYNs to tcp_synq_answer, which checks and answers them before any squeue
 *     or the stack lock: a flood then costs a frame in and a frame out, and the squeues and the
 *     stack lock stay free for established traffic (lwIP's path took ~45-65 us of stack lock per
 *     SYN under TCG; 20,000 SYNs/s saturated it, and real clients' SYNs queued for seconds). One
 *     SYN per 250 ms still goes through lwIP as a probe: the hook extends the mode while the queue
 *     is full and ends it once there is room.
 *   - a half-open pcb whose client's retransmitted SYN was answered by the shortcut (which cannot
 *     see pcbs) gets the client's ACK of the cookie, which lwIP would reset: the hook (also
 *     called for SYN_RCVD pcbs) checks the cookie and makes the pcb the cookie's connection.
 * IPv6 listeners get the same queues and cookies through the hook (the tuple hashes both 128-bit
 * addresses; the SYN-ACK carries an IPv6 header and the interface's MSS less IPv6's 20 extra
 * header bytes; an ACK fed back in loses any extension headers), and the same shortcut
 * (tcp_synq_answer6, for a SYN right behind the IPv6 header, no extension headers): its cookie
 * mode table is mode6[], whose words hold a 48-bit hash of the 128-bit address and the port in
 * place of the address (a collision, 1 in 2^48 per pair of listeners in one slot, would only make
 * the shortcut answer the other (address, port)'s SYNs with cookies, which its listener accepts).
 * What a cookie cannot carry: window scaling and SACK (Linux keeps them in the TCP timestamp
 * option, which lwIP does not use), so a cookie connection has a 64 KiB window and no SACK. The
 * MSS is rounded down to Linux's table (536, 1300, 1440, 1460). The first backlog + 1 SYNs of a
 * flood still get full half-open entries, which expire after 20 s as before.
 *
 * Context: the hook runs inside lwIP's input, on an squeue with the stack lock held; it alone
 * draws the key (published with a release store before the first cookie mode) and writes the
 * mode table. tcp_synq_answer runs on poll threads (thread context, no lock): it reads the key
 * and the table, transmits with netdev_xmit_nosleep and bumps counters atomically. /proc reads the
 * counters without locks.
 */
#include "net/tcp_synq.h"
#include "net/syncookie.h"
#include "net/stack.h"
#include "net/netdev.h"
#include "kernel/random.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/inet_chksum.h"
#include "lwip/prot/tcp.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/ip6.h"
#include "lwip/prot/ethernet.h"

#define TCP_OPT_END 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_MSS_LEN 4
#define TCP_DEFAULT_MSS 536                  /* RFC 1122: a SYN without the MSS option */
#define COOKIE_WND 0xffff                    /* unscaled: the cookie cannot remember a scale */
#define COOKIES_RECENT_S (SYNCOOKIE_PERIOD_S * SYNCOOKIE_MAX_AGE)   /* validate ACKs this long */

static struct syncookie_key key;             /* drawn at the first cookie (stack lock), then read-only */
static bool key_ready;                       /* atomic: key is set */
static bool cookies_sent;                    /* atomic, as last_cookie_s */
static uint64_t last_cookie_s;               /* when the last cookie went out */

/* Cookie mode: the (address, port) pairs whose listener has a full half-open queue, so that the
 * poll threads answer their SYNs (tcp_synq_answer). One 64-bit word per slot, written under the
 * stack lock, read without it: address << 32 | port << 16 | the low 16 bits of the second until
 * which the mode holds. While it holds, one SYN every MODE_PROBE_MS still goes to lwIP as a probe
 * (probe[], claimed with a compare-and-swap by whichever poll thread sees it due): the hook then
 * finds the queue still full and extends the mode, or finds room and ends it, so the mode neither
 * lapses during a flood nor outlives it by more than a probe period. A slot shared by two
 * listeners holds the last one armed. */
#define MODE_SLOTS 64
#define MODE_HOLD_S 10
#define MODE_PROBE_MS 250
static uint64_t mode[MODE_SLOTS], mode6[MODE_SLOTS];
static uint32_t probe[MODE_SLOTS], probe6[MODE_SLOTS];   /* atomic: milliseconds of the last probe */
static struct tcp_synq_stats stats;

#define STAT_INC(f) __atomic_add_fetch(&stats.f, 1, __ATOMIC_RELAXED)   /* poll threads count too */

static uint64_t now_s(void) { return time_ns() / NSEC_PER_SEC; }

static const struct syncookie_key *cookie_key(void)
{
	if (!__atomic_load_n(&key_ready, __ATOMIC_ACQUIRE)) {
		get_random_bytes(&key, sizeof(key));
		__atomic_store_n(&key_ready, true, __ATOMIC_RELEASE);
	}
	return &key;
}

static void cookie_went_out(uint64_t now)
{
	STAT_INC(syncookies_sent);
	__atomic_store_n(&last_cookie_s, now, __ATOMIC_RELAXED);
	__atomic_store_n(&cookies_sent, true, __ATOMIC_RELAXED);
}

static bool cookies_recent(uint64_t now)
{
	return __atomic_load_n(&cookies_sent, __ATOMIC_RELAXED) &&
	       now - __atomic_load_n(&last_cookie_s, __ATOMIC_RELAXED) < COOKIES_RECENT_S;
}

static unsigned mode_slot(uint32_t addr, uint16_t port) { return (port ^ addr ^ (addr >> 16)) % MODE_SLOTS; }

static uint64_t mode_word(uint32_t addr, uint16_t port) { return (uint64_t)addr << 32 | (uint64_t)port << 16; }

/* IPv6: FNV-1a (64 bits) of the address and port; the word is its top 48 bits (never 0). */
static uint64_t mode6_word(const uint8_t a[16], uint16_t port)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < 18; i++) {
		h ^= i < 16 ? a[i] : (uint8_t)(port >> (i == 16 ? 8 : 0));
		h *= 0x100000001b3ull;
	}
	return (h & ~0xffffull) | 0x10000ull;
}

static unsigned mode6_slot(uint64_t word) { return (unsigned)(word >> 16) % MODE_SLOTS; }

static void arm(uint64_t *tab, unsigned slot, uint64_t word, uint64_t now)
{
	__atomic_store_n(&tab[slot], word | (uint16_t)(now + MODE_HOLD_S), __ATOMIC_RELEASE);
}

static void end(uint64_t *tab, unsigned slot, uint64_t word)
{
	uint64_t *w = &tab[slot];
	if ((__atomic_load_n(w, __ATOMIC_RELAXED) & ~0xffffull) == word)
		__atomic_store_n(w, 0, __ATOMIC_RELEASE);
}

/* Does the table's slot hold word's mode, and is this SYN not the probe? */
static bool in_mode(const uint64_t *tab, uint32_t *probes, unsigned slot, uint64_t word)
{
	uint64_t w = __atomic_load_n(&tab[slot], __ATOMIC_ACQUIRE);
	if (!w || (w & ~0xffffull) != word || (int16_t)((uint16_t)w - (uint16_t)now_s()) <= 0)
		return false;
	uint32_t ms = (uint32_t)(time_ns() / NSEC_PER_MSEC), last = __atomic_load_n(&probes[slot], __ATOMIC_RELAXED);
	if (ms - last >= MODE_PROBE_MS &&
	    __atomic_compare_exchange_n(&probes[slot], &last, ms, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return false;                             /* this one is the probe */
	return true;
}

/* The listener of tuple t's local end is full (arm) or has room again (end: SYNs go to lwIP). */
static void mode_arm(const struct syncookie_tuple *t, uint64_t now)
{
	if (t->v6) {
		uint64_t w = mode6_word(t->local6, t->local_port);
		arm(mode6, mode6_slot(w), w, now);
	} else {
		arm(mode, mode_slot(t->local_addr, t->local_port), mode_word(t->local_addr, t->local_port), now);
	}
}

static void mode_end(const struct syncookie_tuple *t)
{
	if (t->v6) {
		uint64_t w = mode6_word(t->local6, t->local_port);
		end(mode6, mode6_slot(w), w);
	} else {
		end(mode, mode_slot(t->local_addr, t->local_port), mode_word(t->local_addr, t->local_port));
	}
}

bool tcp_synq_cookie_mode(uint32_t addr, uint16_t port)
{
	return in_mode(mode, probe, mode_slot(addr, port), mode_word(addr, port));
}

bool tcp_synq_cookie_mode6(const uint8_t addr[16], uint16_t port)
{
	uint64_t w = mode6_word(addr, port);
	return in_mode(mode6, probe6, mode6_slot(w), w);
}

/* The 4-tuple of the segment being received (lwIP already turned the ports to host order). */
static struct syncookie_tuple tuple_of(const struct tcp_hdr *h)
{
	struct syncookie_tuple t = { .peer_port = h->src, .local_port = h->dest };
	if (ip_current_is_v6()) {
		t.v6 = true;
		memcpy(t.peer6, ip6_current_src_addr()->addr, 16);
		memcpy(t.local6, ip6_current_dest_addr()->addr, 16);
	} else {
		t.peer_addr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(ip_current_src_addr())));
		t.local_addr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(ip_current_dest_addr())));
	}
	return t;
}

/* The MSS option among a SYN's optlen option bytes (the first opt1len at opt1, the rest at opt2),
 * or TCP_DEFAULT_MSS. Stops at anything malformed. */
static unsigned opts_mss(const uint8_t *opt1, unsigned opt1len, const uint8_t *opt2, unsigned optlen)
{
#define OPT(i) ((i) < opt1len ? opt1[(i)] : opt2[(i) - opt1len])
	if (optlen > opt1len && !opt2)
		return TCP_DEFAULT_MSS;
	for (unsigned i = 0; i < optlen;) {
		uint8_t kind = OPT(i);
		if (kind == TCP_OPT_END)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= optlen)
			break;
		uint8_t len = OPT(i + 1);
		if (len < 2 || i + len > optlen)
			break;
		if (kind == TCP_OPT_MSS && len == TCP_OPT_MSS_LEN) {
			unsigned mss = (unsigned)OPT(i + 2) << 8 | OPT(i + 3);
			return mss ? mss : TCP_DEFAULT_MSS;
		}
		i += len;
	}
#undef OPT
	return TCP_DEFAULT_MSS;
}

static unsigned syn_mss(const struct tcp_hdr *h, uint16_t optlen, uint16_t opt1len, const uint8_t *opt2)
{
	return opts_mss((const uint8_t *)(h + 1), opt1len, opt2, optlen);
}

/* Answer the SYN being received with a SYN-ACK whose sequence number is cookie. */
static bool send_cookie(struct netif *n, const struct tcp_hdr *h, uint32_t cookie)
{
	struct pbuf *q = pbuf_alloc(PBUF_IP, TCP_HLEN + TCP_OPT_MSS_LEN, PBUF_RAM);
	if (!q)
		return false;
	struct tcp_hdr *t = q->payload;
	t->src = lwip_htons(h->dest);
	t->dest = lwip_htons(h->src);
	t->seqno = lwip_htonl(cookie);
	t->ackno = lwip_htonl(h->seqno + 1);
	TCPH_HDRLEN_FLAGS_SET(t, (TCP_HLEN + TCP_OPT_MSS_LEN) / 4, TCP_SYN | TCP_ACK);
	t->wnd = lwip_htons(COOKIE_WND);
	t->chksum = 0;
	t->urgp = 0;
	uint8_t *o = (uint8_t *)(t + 1);
	unsigned mss = stack_rx_mss(n) - (ip_current_is_v6() ? IP6_HLEN - IP_HLEN : 0);
	o[0] = TCP_OPT_MSS;
	o[1] = TCP_OPT_MSS_LEN;
	o[2] = (uint8_t)(mss >> 8);
	o[3] = (uint8_t)mss;
	t->chksum = ip_chksum_pseudo(q, IP_PROTO_TCP, q->tot_len, ip_current_dest_addr(), ip_current_src_addr());
	if (ip_current_is_v6()) {
		if (pbuf_add_header(q, IP6_HLEN)) {
			pbuf_free(q);
			return false;
		}
		struct ip6_hdr *ip6 = q->payload;
		IP6H_VTCFL_SET(ip6, 6, 0, 0);
		IP6H_PLEN_SET(ip6, (u16_t)(q->tot_len - IP6_HLEN));
		IP6H_NEXTH_SET(ip6, IP6_NEXTH_TCP);
		IP6H_HOPLIM_SET(ip6, TCP_TTL);
		ip6_addr_copy_to_packed(ip6->src, *ip6_current_dest_addr());
		ip6_addr_copy_to_packed(ip6->dest, *ip6_current_src_addr());
		int e = stack_tcp_reply(n, q);
		pbuf_free(q);
		return e == ERR_OK;
	}
	if (pbuf_add_header(q, IP_HLEN)) {
		pbuf_free(q);
		return false;
	}
	struct ip_hdr *ip = q->payload;
	IPH_VHL_SET(ip, 4, IP_HLEN / 4);
	IPH_TOS_SET(ip, 0);
	IPH_LEN_SET(ip, lwip_htons(q->tot_len));
	IPH_ID_SET(ip, 0);
	IPH_OFFSET_SET(ip, lwip_htons(IP_DF));
	IPH_TTL_SET(ip, TCP_TTL);
	IPH_PROTO_SET(ip, IP_PROTO_TCP);
	ip4_addr_copy(ip->src, *ip_2_ip4(ip_current_dest_addr()));
	ip4_addr_copy(ip->dest, *ip_2_ip4(ip_current_src_addr()));
	IPH_CHKSUM_SET(ip, 0);
	IPH_CHKSUM_SET(ip, inet_chksum(ip, IP_HLEN));
	int e = stack_tcp_reply(n, q);
	pbuf_free(q);
	return e == ERR_OK;
}

/* The segment being received as it came off the wire (IP header, TCP header in network byte
 * order, options, data), in one new pbuf; NULL without memory. */
static struct pbuf *wire_copy(const struct tcp_hdr *h, uint16_t optlen, uint16_t opt1len, const uint8_t *opt2,
			      struct pbuf *p)
{
	bool v6 = ip_current_is_v6();
	const void *iph = v6 ? (const void *)ip6_current_header() : (const void *)ip4_current_header();
	uint16_t iphl = v6 ? IP6_HLEN : (uint16_t)IPH_HL_BYTES((const struct ip_hdr *)iph);
	uint32_t len = (uint32_t)iphl + TCP_HLEN + optlen + p->tot_len;
	if (len > 0xffff || (optlen > opt1len && !opt2))
		return NULL;
	struct pbuf *q = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!q)
		return NULL;
	uint8_t *d = q->payload;
	memcpy(d, iph, iphl);
	if (v6) {                                         /* extension headers left out */
		struct ip6_hdr *ip6 = (struct ip6_hdr *)d;
		IP6H_PLEN_SET(ip6, (u16_t)(len - IP6_HLEN));
		IP6H_NEXTH_SET(ip6, IP6_NEXTH_TCP);
	}
	struct tcp_hdr *t = (struct tcp_hdr *)(d + iphl);
	memcpy(t, h, TCP_HLEN);
	t->src = lwip_htons(h->src);
	t->dest = lwip_htons(h->dest);
	t->seqno = lwip_htonl(h->seqno);
	t->ackno = lwip_htonl(h->ackno);
	t->wnd = lwip_htons(h->wnd);
	memcpy(t + 1, h + 1, opt1len);
	if (optlen > opt1len)
		memcpy((uint8_t *)(t + 1) + opt1len, opt2, optlen - opt1len);
	pbuf_copy_partial(p, d + iphl + TCP_HLEN + optlen, p->tot_len, 0);
	return q;
}

/* The listener's connection for a validated cookie, as tcp_listen_input makes one for a SYN, but
 * with its SYN-ACK already sent. */
static struct tcp_pcb *cookie_pcb(struct tcp_pcb_listen *l, const struct tcp_hdr *h, uint32_t iss, unsigned mss)
{
	struct tcp_pcb *npcb = tcp_alloc(l->prio);
	if (!npcb)
		return NULL;
	ip_addr_copy(npcb->local_ip, *ip_current_dest_addr());
	ip_addr_copy(npcb->remote_ip, *ip_current_src_addr());
	npcb->local_port = l->local_port;
	npcb->remote_port = h->src;
	npcb->state = SYN_RCVD;
	npcb->rcv_nxt = h->seqno;                         /* the peer's ISN + 1 */
	npcb->rcv_ann_right_edge = npcb->rcv_nxt;
	npcb->snd_wl2 = iss;
	npcb->lastack = iss;
	npcb->snd_nxt = iss + 1;                          /* the SYN-ACK went out */
	npcb->snd_lbb = iss + 1;
	npcb->snd_wl1 = h->seqno - 2;                     /* SYN's seqno - 1: the ACK updates the window */
	npcb->callback_arg = l->callback_arg;
	npcb->listener = l;
	npcb->so_options = l->so_options & SOF_INHERITED;
	npcb->netif_idx = l->netif_idx;
	npcb->snd_wnd = h->wnd;
	npcb->snd_wnd_max = npcb->snd_wnd;
	npcb->mss = tcp_eff_send_mss((u16_t)mss, &npcb->local_ip, &npcb->remote_ip);
	TCP_REG_ACTIVE(npcb);
	return npcb;
}

static void listen_drop(bool overflow)
{
	if (overflow)
		STAT_INC(listen_overflows);
	STAT_INC(listen_drops);
}

/* Half-open peers' link addresses: the MAC (and netif) each IPv4 SYN that lwIP answers with a
 * half-open pcb came from, so that the pcb's SYN-ACKs, first and retransmitted, go back to it
 * rather than through ARP (tcp_synq_synack_mac, called from the stack's IPv4 output). lwIP's ARP
 * table (64 entries) recycles its oldest complete entry before any pending one: a flood's
 * backlog + 1 half-open pcbs, each ARPing for a spoofed address every retransmission, evicted the
 * real neighbours over and over (and dropped the packets queued on them), and a legitimate
 * connection's retransmission timer backed off past a minute. A direct-mapped table, stack lock:
 * a slot overwritten by another peer only sends that SYN-ACK through ARP as before. An entry
 * lives as long as a half-open pcb can (TCP_SYN_RCVD_TIMEOUT) and a little more. */
#define PEER_SLOTS 256
#define PEER_HOLD_S 25
struct synack_peer {
	uint32_t addr;                            /* network order; 0: free */
	uint32_t until_s;
	uint8_t netif_idx;
	uint8_t mac[6];
};
static struct synack_peer peers[PEER_SLOTS];

static unsigned peer_slot(uint32_t addr) { return (addr ^ addr >> 8 ^ addr >> 16 ^ addr >> 24) % PEER_SLOTS; }

static void note_peer(uint32_t addr, uint64_t now)
{
	struct netif *n = ip_current_input_netif();
	struct synack_peer *e = &peers[peer_slot(addr)];
	if (!n || !(n->flags & NETIF_FLAG_ETHERNET) || !stack_rx_src_mac(n, e->mac))
		return;
	e->addr = addr;
	e->netif_idx = netif_get_index(n);
	e->until_s = (uint32_t)(now + PEER_HOLD_S);
}

bool tcp_synq_synack_mac(struct netif *n, uint32_t addr, uint8_t mac[6])
{
	const struct synack_peer *e = &peers[peer_slot(addr)];
	if (!addr || e->addr != addr || e->netif_idx != netif_get_index(n) || (int32_t)(e->until_s - (uint32_t)now_s()) <= 0)
		return false;
	memcpy(mac, e->mac, sizeof(e->mac));
	return true;
}

static int listen_syn(struct tcp_pcb_listen *l, const struct tcp_hdr *h, uint16_t optlen, uint16_t opt1len,
		      const uint8_t *opt2)
{
	if (tcp_sock_acceptq_full(l)) {
		listen_drop(true);
		return ERR_ABRT;
	}
	struct syncookie_tuple t = tuple_of(h);
	if (l->accepts_pending < l->backlog) {
		mode_end(&t);
		if (!t.v6)
			note_peer(ip4_addr_get_u32(ip4_current_src_addr()), now_s());
		return ERR_OK;                            /* room: lwIP's own half-open entry */
	}
	uint64_t now = now_s();
	unsigned idx = syncookie_mss_index(syn_mss(h, optlen, opt1len, opt2));
	uint32_t cookie = syncookie_make(cookie_key(), &t, h->seqno, syncookie_counter(now), idx);
	if (!send_cookie(ip_current_input_netif(), h, cookie)) {
		listen_drop(false);
		return ERR_ABRT;
	}
	cookie_went_out(now);
	mode_arm(&t, now);                                /* the poll threads answer the next ones (again) */
	return ERR_ABRT;                                  /* no state kept */
}

static int listen_ack(struct tcp_pcb_listen *l, const struct tcp_hdr *h, uint16_t optlen, uint16_t opt1len,
		      uint8_t *opt2, struct pbuf *p)
{
	uint64_t now = now_s();
	if (!cookies_recent(now))
		return ERR_OK;                            /* lwIP resets it */
	struct syncookie_tuple t = tuple_of(h);
	uint32_t iss = h->ackno - 1;
	int idx = syncookie_check(cookie_key(), &t, iss, h->seqno - 1, syncookie_counter(now));
	if (idx < 0) {
		STAT_INC(syncookies_failed);
		return ERR_OK;                            /* lwIP resets it, as Linux does */
	}
	STAT_INC(syncookies_recv);
	if (tcp_sock_acceptq_full(l)) {
		listen_drop(true);
		return ERR_ABRT;
	}
	struct pbuf *again = wire_copy(h, optlen, opt1len, opt2, p);
	if (!again) {
		listen_drop(false);
		return ERR_ABRT;
	}
	if (!cookie_pcb(l, h, iss, syncookie_mss[idx])) {
		pbuf_free(again);
		listen_drop(false);
		return ERR_ABRT;
	}
	stack_input_again(ip_current_input_netif(), again);
	return ERR_ABRT;                                  /* this copy is done; the other completes it */
}

/* A listener on the local port of this TIME_WAIT pcb (lwIP's matching, both families). */
static bool listener_for(const struct tcp_pcb *tw)
{
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
		if (l->local_port == tw->local_port && IP_ADDR_PCB_VERSION_MATCH_EXACT(l, ip_current_dest_addr()) &&
		    (ip_addr_isany(&l->local_ip) || ip_addr_cmp(&l->local_ip, ip_current_dest_addr())))
			return true;
	return false;
}

/* A new SYN for the 4-tuple of a connection in TIME_WAIT, whose port has a listener: the peer
 * starts a new connection (a client reusing its port, as netperf's TCP_CRR does). lwIP would
 * answer an in-window SYN with a reset (the client's connect fails with ECONNREFUSED) and any
 * other with an ACK the client resets, until TIME_WAIT ends; Linux takes the SYN as a new
 * connection (tcp_timewait_state_process: TCP_TW_SYN). Ember's ISNs are not the clock-driven
 * ones that let Linux insist on a sequence number past the old one, so any SYN is taken: the
 * TIME_WAIT pcb goes and the SYN is input again, to meet the listener. */
static int timewait_syn(struct tcp_pcb *pcb, const struct tcp_hdr *h, uint16_t optlen, uint16_t opt1len,
			uint8_t *opt2, struct pbuf *p)
{
	if ((TCPH_FLAGS(h) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN || !listener_for(pcb))
		return ERR_OK;
	struct pbuf *again = wire_copy(h, optlen, opt1len, opt2, p);
	if (!again)
		return ERR_OK;
	tcp_abort(pcb);                                   /* TIME_WAIT: removed and freed, nothing sent */
	stack_input_again(ip_current_input_netif(), again);
	return ERR_ABRT;
}

/* An ACK for a half-open connection that lwIP would refuse, because it acknowledges a cookie: the
 * peer's SYN made this pcb, a retransmission of that SYN came while the queue was full and was
 * answered with a cookie (by a poll thread, which cannot see pcbs), and the peer took that one.
 * Turn the pcb into what the cookie promised (its ISN, no window scaling, no SACK, the cookie's
 * MSS) so that lwIP accepts the ACK instead of resetting a real client. */
static int synrcvd_ack(struct tcp_pcb *pcb, const struct tcp_hdr *h)
{
	if ((TCPH_FLAGS(h) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_ACK ||
	    TCP_SEQ_BETWEEN(h->ackno, pcb->lastack + 1, pcb->snd_nxt) || h->seqno != pcb->rcv_nxt ||
	    !cookies_recent(now_s()))
		return ERR_OK;
	struct syncookie_tuple t = tuple_of(h);
	uint32_t iss = h->ackno - 1;
	int idx = syncookie_check(cookie_key(), &t, iss, h->seqno - 1, syncookie_counter(now_s()));
	if (idx < 0)
		return ERR_OK;
	STAT_INC(syncookies_recv);
	tcp_segs_free(pcb->unsent);
	tcp_segs_free(pcb->unacked);
	pcb->unsent = pcb->unacked = NULL;
	pcb->snd_queuelen = 0;
	pcb->rtime = -1;
	pcb->nrtx = 0;
	pcb->snd_wl2 = pcb->lastack = iss;
	pcb->snd_nxt = pcb->snd_lbb = iss + 1;
	pcb->snd_wl1 = h->seqno - 2;
	tcp_clear_flags(pcb, TF_WND_SCALE | TF_SACK);
	pcb->snd_scale = pcb->rcv_scale = 0;
	pcb->rcv_wnd = pcb->rcv_ann_wnd = TCPWND_MIN16(TCP_WND);
	pcb->snd_wnd = pcb->snd_wnd_max = h->wnd;
	pcb->mss = tcp_eff_send_mss(syncookie_mss[idx], &pcb->local_ip, &pcb->remote_ip);
	return ERR_OK;
}

int tcp_synq_listen_input(struct tcp_pcb *pcb, struct tcp_hdr *hdr, uint16_t optlen, uint16_t opt1len,
			  uint8_t *opt2, struct pbuf *p)
{
	if (pcb->state == SYN_RCVD)
		return synrcvd_ack(pcb, hdr);
	if (pcb->state == TIME_WAIT)
		return timewait_syn(pcb, hdr, optlen, opt1len, opt2, p);
	struct tcp_pcb_listen *l = (struct tcp_pcb_listen *)pcb;
	u8_t flags = TCPH_FLAGS(hdr);
	if (flags & TCP_RST)
		return ERR_OK;                            /* lwIP ignores it */
	if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return listen_syn(l, hdr, optlen, opt1len, opt2);
	if ((flags & (TCP_SYN | TCP_ACK)) == TCP_ACK)
		return listen_ack(l, hdr, optlen, opt1len, opt2, p);
	return ERR_OK;
}

void tcp_synq_get_stats(struct tcp_synq_stats *out)
{
	out->syncookies_sent = __atomic_load_n(&stats.syncookies_sent, __ATOMIC_RELAXED);
	out->syncookies_recv = __atomic_load_n(&stats.syncookies_recv, __ATOMIC_RELAXED);
	out->syncookies_failed = __atomic_load_n(&stats.syncookies_failed, __ATOMIC_RELAXED);
	out->listen_overflows = __atomic_load_n(&stats.listen_overflows, __ATOMIC_RELAXED);
	out->listen_drops = __atomic_load_n(&stats.listen_drops, __ATOMIC_RELAXED);
}

/* ---- the poll threads' shortcut ---- */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

/* The ones' complement sum of n bytes, added to sum (not folded). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; p += 2, n -= 2)
		sum += be16(p);
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP checksum of a segment (tcp, n bytes) between src and dst (host order). */
static uint16_t tcp_sum(uint32_t src, uint32_t dst, const uint8_t *tcp, size_t n)
{
	uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IP_PROTO_TCP + (uint32_t)n;
	return fold(sum16(tcp, n, sum));
}

static bool unicast_source(uint32_t a)
{
	return a && a != 0xffffffffu && (a >> 28) != 0xe && (a >> 24) != 127;
}

/* The TCP part of a cookie SYN-ACK at rt (TCP_HLEN + the MSS option), checksum left 0. */
static void put_synack(uint8_t *rt, const struct tcp_hdr *h, uint32_t cookie, unsigned mss)
{
	put16(rt, h->dest);
	put16(rt + 2, h->src);
	put32(rt + 4, cookie);
	put32(rt + 8, h->seqno + 1);
	rt[12] = (uint8_t)(((TCP_HLEN + TCP_OPT_MSS_LEN) / 4) << 4);
	rt[13] = TCP_SYN | TCP_ACK;
	put16(rt + 14, COOKIE_WND);
	rt[20] = TCP_OPT_MSS;
	rt[21] = TCP_OPT_MSS_LEN;
	put16(rt + 22, (uint16_t)mss);
}

/* The TCP checksum over IPv6 (RFC 8200 8.1's pseudo-header) of n bytes at tcp. */
static uint16_t tcp6_sum(const uint8_t *src, const uint8_t *dst, const uint8_t *tcp, size_t n)
{
	uint32_t sum = sum16(src, 16, sum16(dst, 16, 0)) + IP_PROTO_TCP + (uint32_t)(n >> 16) + (uint32_t)(n & 0xffff);
	return fold(sum16(tcp, n, sum));
}

static bool unicast_source6(const uint8_t *a)
{
	static const uint8_t zero[16], loop[16] = { [15] = 1 };
	return a[0] != 0xff && memcmp(a, zero, 16) && memcmp(a, loop, 16);
}

bool tcp_synq_answer6(struct net_device *dev, const uint8_t *frame, size_t len, unsigned mss, bool csum_ok)
{
	if (!__atomic_load_n(&key_ready, __ATOMIC_ACQUIRE) || len < ETH_HLEN + IP6_HLEN + TCP_HLEN || (frame[0] & 1))
		return false;
	const uint8_t *ip = frame + ETH_HLEN, *tcp = ip + IP6_HLEN;
	size_t plen = be16(ip + 4), thl = (size_t)(tcp[12] >> 4) * 4;
	if ((ip[0] >> 4) != 6 || ip[6] != IP6_NEXTH_TCP || plen < TCP_HLEN || ETH_HLEN + IP6_HLEN + plen > len ||
	    thl < TCP_HLEN || thl > plen || (tcp[13] & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN ||
	    !unicast_source6(ip + 8) || (!csum_ok && tcp6_sum(ip + 8, ip + 24, tcp, plen) != 0))
		return false;
	struct tcp_hdr h = { .src = be16(tcp), .dest = be16(tcp + 2), .seqno = be32(tcp + 4) };
	struct syncookie_tuple t = { .v6 = true, .peer_port = h.src, .local_port = h.dest };
	memcpy(t.peer6, ip + 8, 16);
	memcpy(t.local6, ip + 24, 16);
	uint64_t now = now_s();
	unsigned idx = syncookie_mss_index(opts_mss(tcp + TCP_HLEN, (unsigned)(thl - TCP_HLEN), NULL, (unsigned)(thl - TCP_HLEN)));
	uint32_t cookie = syncookie_make(&key, &t, h.seqno, syncookie_counter(now), idx);

	uint8_t f[ETH_HLEN + IP6_HLEN + TCP_HLEN + TCP_OPT_MSS_LEN];
	memset(f, 0, sizeof(f));
	memcpy(f, frame + ETH_ALEN, ETH_ALEN);            /* back to the sender's MAC */
	memcpy(f + ETH_ALEN, dev->mac, ETH_ALEN);
	put16(f + 2 * ETH_ALEN, ETHTYPE_IPV6);
	uint8_t *rip = f + ETH_HLEN, *rt = rip + IP6_HLEN;
	rip[0] = 0x60;                                    /* version 6, traffic class and flow label 0 */
	put16(rip + 4, TCP_HLEN + TCP_OPT_MSS_LEN);
	rip[6] = IP6_NEXTH_TCP;
	rip[7] = TCP_TTL;                                 /* lwIP's hop limit for TCP, as send_cookie */
	memcpy(rip + 8, ip + 24, 16);
	memcpy(rip + 24, ip + 8, 16);
	put_synack(rt, &h, cookie, mss);
	put16(rt + 16, tcp6_sum(rip + 8, rip + 24, rt, TCP_HLEN + TCP_OPT_MSS_LEN));
	if (netdev_xmit_nosleep(dev, f, sizeof(f), NULL) < 0) {
		listen_drop(false);
		return true;
	}
	cookie_went_out(now);
	return true;
}

bool tcp_synq_answer(struct net_device *dev, const uint8_t *frame, size_t len, unsigned mss, bool csum_ok)
{
	if (!__atomic_load_n(&key_ready, __ATOMIC_ACQUIRE) || len < ETH_HLEN + IP_HLEN + TCP_HLEN || (frame[0] & 1))
		return false;
	const uint8_t *ip = frame + ETH_HLEN;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, tot = be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < IP_HLEN || tot < ihl + TCP_HLEN || ETH_HLEN + tot > len || ip[9] != IP_PROTO_TCP ||
	    (be16(ip + 6) & (IP_MF | IP_OFFMASK)) || fold(sum16(ip, ihl, 0)) != 0)
		return false;
	const uint8_t *tcp = ip + ihl;
	size_t tlen = tot - ihl, thl = (size_t)(tcp[12] >> 4) * 4;
	uint32_t src = be32(ip + 12), dst = be32(ip + 16);
	if (thl < TCP_HLEN || thl > tlen || (tcp[13] & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN ||
	    !unicast_source(src) || (!csum_ok && tcp_sum(src, dst, tcp, tlen) != 0))
		return false;
	struct tcp_hdr h = { .src = be16(tcp), .dest = be16(tcp + 2), .seqno = be32(tcp + 4) };
	struct syncookie_tuple t = { .peer_addr = src, .local_addr = dst, .peer_port = h.src, .local_port = h.dest };
	uint64_t now = now_s();
	unsigned idx = syncookie_mss_index(opts_mss(tcp + TCP_HLEN, (unsigned)(thl - TCP_HLEN), NULL, (unsigned)(thl - TCP_HLEN)));
	uint32_t cookie = syncookie_make(&key, &t, h.seqno, syncookie_counter(now), idx);

	uint8_t f[ETH_HLEN + IP_HLEN + TCP_HLEN + TCP_OPT_MSS_LEN];
	memset(f, 0, sizeof(f));
	memcpy(f, frame + ETH_ALEN, ETH_ALEN);            /* back to the sender's MAC */
	memcpy(f + ETH_ALEN, dev->mac, ETH_ALEN);
	put16(f + 2 * ETH_ALEN, ETHTYPE_IP);
	uint8_t *rip = f + ETH_HLEN, *rt = rip + IP_HLEN;
	rip[0] = 0x45;
	put16(rip + 2, IP_HLEN + TCP_HLEN + TCP_OPT_MSS_LEN);
	put16(rip + 6, IP_DF);
	rip[8] = TCP_TTL;
	rip[9] = IP_PROTO_TCP;
	put32(rip + 12, dst);
	put32(rip + 16, src);
	put16(rip + 10, fold(sum16(rip, IP_HLEN, 0)));
	put_synack(rt, &h, cookie, mss);
	put16(rt + 16, tcp_sum(dst, src, rt, TCP_HLEN + TCP_OPT_MSS_LEN));
	if (netdev_xmit_nosleep(dev, f, sizeof(f), NULL) < 0) {
		listen_drop(false);
		return true;
	}
	cookie_went_out(now);
	return true;
}
