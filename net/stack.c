/*
 * The stack: lwIP brought up behind the squeues (the contract is net/stack.h; the squeue theory is
 * net/squeue.c).
 *
 * What runs where
 *   - stack_input: the NIC's poll thread ("netpoll/N", pinned, thread context). Copies the frame,
 *     classifies it, enters an squeue. Inline on its own CPU's squeue, queued for the others.
 *   - every lwIP call: squeue callbacks with the stack lock held (rx delivery, loopback delivery,
 *     the timer tick, squeue_call'd configuration and queries).
 *   - the stack timer: a kernel timer on CPU 0 (interrupt context) that only enters CPU 0's squeue
 *     with SQ_FILL and re-arms itself.
 *   - boot configuration: the "netcfg" thread (pinned to CPU 0) through squeue_call, because
 *     kmain runs as CPU 0's idle thread and must not sleep.
 *
 * Locks: the stack lock (squeue.c) around all lwIP state, including everything in this file's
 * netif callbacks, tx_bounce and the lo/stack_if tables after boot. Below it: squeue locks,
 * txq_lock -> driver ring locks, SYS_ARCH_PROTECT, kmalloc. Nothing here sleeps under a lock.
 *
 * Memory of a received frame: one kmalloc holding the squeue item, the custom pbuf and the bytes
 * (struct pkt). It is freed by lwIP's pbuf_free through pkt_free, wherever lwIP (or the socket
 * layer, outside the lock) drops the last reference.
 */
#include "kernel/init.h"
#include "net/stack.h"
#include "net/ipconfig.h"
#include "net/tcp_synq.h"
#include "net/stack6.h"
#include "net/udp_unreach.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/nd6.h"
#include "net/inet_addr.h"
#include "lwip/prot/ip6.h"
#include "lwip/etharp.h"
#include "lwip/dhcp.h"
#include "lwip/ip4_frag.h"
#include "lwip/inet_chksum.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "kernel/timer.h"

#define NET_IP_ALIGN 2                 /* 14-byte Ethernet header + 2: the IP header 4-byte aligned */
#define LO_MTU 65535                   /* lwIP's netif mtu is 16 bits */
#define LO_ADDR 0x7f000001u
#define LO_MASK 0xff000000u
#define LO_LEND_MIN 1024               /* TCP payloads over lo from this size on are lent, not copied */
#define LO_LEND_PIECES 2               /* ... when they are in at most this many pbufs */
#define MAX_IFS 16

struct stack_if {
	struct netif netif;
	struct net_device *dev;
	enum ipcfg_mode mode;              /* how it was configured (DHCP or static or none) */
	uint32_t shown_addr;               /* last address announced on the console */
	bool link;                         /* link state last given to lwIP */
	/* interrupt steering (steer_irqs): bytes classified to each squeue since the last tick
	 * (atomic: the device's poll adds, the tick takes), and how often the IRQ was moved */
	uint32_t rx_to_sq[NCPU];
	uint64_t steer_moves;
};

/* A packet on its way into lwIP: squeue item + custom pbuf + the bytes, one allocation. A big TCP
 * segment over lo is lent rather than copied (loop_output): then pc holds only a copy of its
 * headers (the receiver rewrites them in place) and is chained to lent[0..n), custom pbufs over
 * the pieces of the sender's payload, each holding a reference to the sender's pbuf of that piece. The allocation goes when both
 * pbufs are freed (refs), which may happen apart and outside the stack lock (the socket reader
 * frees what it consumed). */
struct pkt {
	struct sq_item item;
	struct pbuf_custom pc;
	struct lent_piece {
		struct pbuf_custom pc;
		struct pbuf *lender;       /* the sender's pbuf behind it, referenced */
		struct pkt *pkt;
	} lent[LO_LEND_PIECES];
	uint32_t refs;                     /* atomic: pbufs of this allocation not yet freed */
	struct netif *netif;
	bool csum_ok;                      /* NETDEV_RX_CSUM_OK: lwIP skips the TCP/UDP checksum check */
	uint8_t data[] __aligned(8);
};

static struct stack_if *ifs[MAX_IFS];  /* attached interfaces (written at boot, then read-only) */
static int nifs;
static struct stack_if *lo_if;
static volatile bool ready;
static struct waitq ready_wq = WAITQ_INIT(ready_wq, "stack_ready");
static uint8_t tx_bounce[ETH_HLEN + NETDEV_TSO_MAX];   /* gathers multi-pbuf frames; stack lock */
static struct timer stack_timer;
static struct sq_item timer_item;
static int timer_item_queued;              /* atomic: the tick item is on CPU 0's queue */
static struct ipconfig bootcfg;
/* Synchronous loopback (stack_lo_sync): per squeue (by CPU), lo packets queued to it and delivered
 * by it. Written under the stack lock; lo_done is read without it. */
static uint64_t lo_queued[NCPU], lo_done[NCPU];
static struct stack_lo_ticket lo_last;       /* stack lock: the last packet loop_output queued */

void ipv4_format(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static uint32_t host_addr(const ip4_addr_t *a) { return lwip_ntohl(ip4_addr_get_u32(a)); }
static void set_addr(ip4_addr_t *a, uint32_t host) { ip4_addr_set_u32(a, lwip_htonl(host)); }

bool stack_ready(void) { return READ_ONCE(ready); }

int stack_wait_ready(uint64_t timeout_ns)
{
	return wait_event_timeout(&ready_wq, READ_ONCE(ready), timeout_ns);
}

/* ---- packets ---- */

static void pkt_put(struct pkt *pkt)
{
	if (__atomic_sub_fetch(&pkt->refs, 1, __ATOMIC_ACQ_REL) == 0)
		kfree(pkt);
}

static void pkt_free(struct pbuf *p)
{
	pkt_put(container_of(p, struct pkt, pc.pbuf));
}

static void pkt_lent_free(struct pbuf *p)
{
	struct lent_piece *l = container_of(p, struct lent_piece, pc.pbuf);
	pbuf_free(l->lender);
	pkt_put(l->pkt);
}

/* A packet of len bytes whose data start off bytes into the buffer; NULL without memory. */
static struct pkt *pkt_new(size_t len, size_t off)
{
	struct pkt *pkt = kmalloc(sizeof(*pkt) + off + len);
	if (!pkt)
		return NULL;
	pkt->pc.custom_free_function = pkt_free;
	pkt->refs = 1;
	pkt->csum_ok = false;
	/* only initializes the pbuf header: safe without the stack lock */
	pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &pkt->pc, pkt->data + off, (u16_t)len);
	return pkt;
}

static uint8_t *pkt_bytes(struct pkt *pkt) { return pkt->pc.pbuf.payload; }

/* ---- zero-copy TCP sends (net/stack.h) ---- */

struct stack_chunk {
	uint32_t refs;                     /* atomic: the creator's, and one per piece */
	uint8_t data[] __aligned(8);
};

/* A custom pbuf over a run of a chunk's bytes, standing in for the PBUF_ROM pbuf tcp_write made. */
struct chunk_piece {
	struct pbuf_custom pc;
	struct stack_chunk *chunk;
};

struct stack_chunk *stack_chunk_new(size_t size)
{
	struct stack_chunk *c = kmalloc(sizeof(*c) + size);
	if (c)
		c->refs = 1;
	return c;
}

uint8_t *stack_chunk_data(struct stack_chunk *c) { return c->data; }

void stack_chunk_put(struct stack_chunk *c)
{
	if (c && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		kfree(c);
}

static void piece_free(struct pbuf *p)
{
	struct chunk_piece *piece = container_of(p, struct chunk_piece, pc.pbuf);
	stack_chunk_put(piece->chunk);
	kfree(piece);
}

/* Does p own the memory behind its payload for as long as it is referenced? (A heap pbuf, or a
 * chunk piece; not a ROM or plain REF pbuf, whose bytes belong to someone else.) */
static bool pbuf_stable(const struct pbuf *p)
{
	if (p->type_internal == (u8_t)PBUF_RAM)
		return true;
	return (p->flags & PBUF_FLAG_IS_CUSTOM) && ((const struct pbuf_custom *)p)->custom_free_function == piece_free;
}

/* Replace the PBUF_ROM pbufs in the chain after *link by chunk pieces of c. false: no memory (the
 * ROM pbufs left are then harmless while c lives, which the caller's reference ensures until the
 * segments go: see stack_tcp_write_chunk). */
static bool pieces_for(struct pbuf **link, struct stack_chunk *c)
{
	for (struct pbuf *p; (p = *link) != NULL; link = &p->next) {
		if (p->type_internal != (u8_t)PBUF_ROM)
			continue;
		struct chunk_piece *piece = kmalloc(sizeof(*piece));
		if (!piece)
			return false;
		piece->pc.custom_free_function = piece_free;
		piece->chunk = c;
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
		struct pbuf *q = pbuf_alloced_custom(PBUF_RAW, p->len, PBUF_REF, &piece->pc, p->payload, p->len);
		q->next = p->next;
		q->tot_len = p->tot_len;
		*link = q;
		p->next = NULL;
		pbuf_free(p);
		p = q;
	}
	return true;
}

int stack_tcp_write_chunk(struct tcp_pcb *pcb, struct stack_chunk *c, size_t off, uint16_t len, uint8_t flags)
{
	/* the new bytes land in the last unsent segment and in new ones behind it */
	struct tcp_seg *from = pcb->unsent;
	while (from && from->next)
		from = from->next;
	err_t e = tcp_write(pcb, c->data + off, len, (u8_t)(flags & ~TCP_WRITE_FLAG_COPY));
	if (e != ERR_OK)
		return e;
	for (struct tcp_seg *seg = from ? from : pcb->unsent; seg; seg = seg->next)
		if (!pieces_for(&seg->p->next, c)) {
			/* out of memory for a piece: keep c alive for good rather than let a ROM pbuf
			 * outlive it (a leak of one chunk, reported, instead of a use after free) */
			__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
			printk("net: zero-copy send: no memory for a pbuf; a send buffer is kept\n");
			break;
		}
	return ERR_OK;
}

static unsigned rx_mss(const struct netif *n);

/* lwIP's tcp_input, with the header removed (p holds the data), before the state machine; stack
 * lock held. TF_ACK_DELAY makes the tcp_ack of in-order data an immediate ACK (lwipopts.h). A
 * segment is big when it carries more than one wire segment of the interface it came in on: not
 * pcb->mss, which is what we send (a TSO connection's is up to 64 KiB). */
void stack_tcp_big_segment(struct tcp_pcb *pcb, const struct pbuf *p)
{
	const struct pbuf_custom *pc = (const struct pbuf_custom *)p;
	unsigned one = pcb->mss;
	if ((p->flags & PBUF_FLAG_IS_CUSTOM) && pc->custom_free_function == pkt_free)
		one = rx_mss(container_of(pc, struct pkt, pc)->netif);
	if (p->tot_len > one)
		tcp_set_flags(pcb, TF_ACK_DELAY);
}

/* ---- classification ---- */

struct squeue *stack_classify(const struct flow_key *k)
{
	struct squeue *sq = flow_lookup(k);
	return sq ? sq : squeue_for_hash(flow_hash(k));
}

void stack_flow_bind(struct flow_binding *b, uint8_t proto, uint32_t local_ip, uint16_t local_port,
		     uint32_t peer_ip, uint16_t peer_port, struct squeue *sq)
{
	struct flow_key k = { .saddr = peer_ip, .daddr = local_ip, .sport = peer_port, .dport = local_port,
			      .proto = proto };
	flow_bind(b, &k, sq);
}

void stack_flow_bind_ip(struct flow_binding *b, uint8_t proto, const ip_addr_t *local, uint16_t local_port,
			const ip_addr_t *peer, uint16_t peer_port, struct squeue *sq)
{
	struct flow_key k = { .saddr = inet_addr_flow(peer), .daddr = inet_addr_flow(local), .sport = peer_port,
			      .dport = local_port, .proto = proto, .v6 = IP_IS_V6(peer) };
	flow_bind(b, &k, sq);
}

void stack_flow_unbind(struct flow_binding *b) { flow_unbind(b); }

/* ---- receive from a NIC ---- */

/* The frame being received (stack lock): its sender's MAC, for stack_tcp_reply; and a packet to
 * go through ip_input again after it (stack_input_again). */
static uint8_t rx_src_mac[ETH_ALEN];
static struct netif *rx_netif;
static struct pbuf *again;
static struct netif *again_netif;

bool stack_input_again(struct netif *n, struct pbuf *p)
{
	if (again) {
		pbuf_free(p);
		return false;
	}
	again = p;
	again_netif = n;
	return true;
}

/* After a packet's input: the one it asked to go in again, if any (it was checked once already). */
static void input_again(void)
{
	while (again) {
		struct pbuf *p = again;
		struct netif *n = again_netif;
		again = NULL;
		u16_t lifted = (u16_t)(n->chksum_flags & (NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_IP));
		n->chksum_flags &= (u16_t)~lifted;
		if (ip_input(p, n) != ERR_OK)
			pbuf_free(p);
		n->chksum_flags |= lifted;      /* the CHECK bits only: GEN_TCP is the TSO hook's */
	}
}

static void eth_deliver(void *arg, struct sq_item *item __unused)
{
	struct pkt *pkt = arg;
	struct netif *n = pkt->netif;
	struct pbuf *p = &pkt->pc.pbuf;
	/* lwIP checks checksums per netif: lift the TCP/UDP checks for this one packet (everything
	 * below runs now, under the stack lock; a segment is checked before it is queued anywhere) */
	u16_t lifted = pkt->csum_ok ? (u16_t)(n->chksum_flags & (NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP)) : 0;
	n->chksum_flags &= (u16_t)~lifted;
	if (p->len >= ETH_HLEN) {
		memcpy(rx_src_mac, (const uint8_t *)p->payload + ETH_ALEN, ETH_ALEN);
		rx_netif = n;
	}
	if (n->input(p, n) != ERR_OK)
		pbuf_free(p);
	rx_netif = NULL;
	n->chksum_flags |= lifted;          /* the CHECK bits only: GEN_TCP is the TSO hook's */
	input_again();
}

/* Is this frame (whose flow key k says IPv4 TCP, not a fragment) a connection request: SYN
 * without ACK? */
static bool tcp_syn_frame(const uint8_t *frame, size_t len, bool v6)
{
	const uint8_t *ip = frame + ETH_HLEN;
	size_t ihl = v6 ? IP6_HLEN : (size_t)(ip[0] & 0xf) * 4;
	if (v6 && ip[6] != IP6_NEXTH_TCP)
		return false;                  /* behind extension headers: lwIP's path */
	if (len < ETH_HLEN + ihl + TCP_HLEN)
		return false;
	return (ip[ihl + 13] & (TCP_SYN | TCP_ACK)) == TCP_SYN;
}

/* An IPv6 SYN to one of this interface's addresses whose listener is in cookie mode: answered by
 * tcp_synq_answer6 (poll thread, no lock: the address slots are read as the IPv4 shortcut reads
 * netif_ip4_addr). The MSS is the IPv4 one less IPv6's 20 extra header bytes, as send_cookie's. */
static bool syn6_answered(struct stack_if *sif, struct net_device *dev, const uint8_t *frame, size_t len,
			  uint16_t dport, unsigned flags)
{
	const uint8_t *dst = frame + ETH_HLEN + 24;        /* the IPv6 destination address */
	bool ours = false;
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES && !ours; i++)
		ours = ip6_addr_isvalid(netif_ip6_addr_state(&sif->netif, i)) &&
		       !memcmp(netif_ip6_addr(&sif->netif, i)->addr, dst, 16);
	return ours && tcp_synq_cookie_mode6(dst, dport) &&
	       tcp_synq_answer6(dev, frame, len, rx_mss(&sif->netif) - (IP6_HLEN - IP_HLEN), flags & NETDEV_RX_CSUM_OK);
}

void stack_input(struct net_device *dev, const void *frame, size_t len, unsigned flags)
{
	struct stack_if *sif = __atomic_load_n(&dev->stack, __ATOMIC_ACQUIRE);
	if (!sif || (dev->flags & NETDEV_LOOPBACK) || len > ((flags & NETDEV_RX_LRO) ? NETDEV_LRO_MAX : ETH_MAX_FRAME))
		return;
	struct flow_key k;
	bool keyed = flow_key_from_eth(frame, len, &k);
	struct squeue *sq = keyed ? stack_classify(&k) : squeue_local();
	unsigned qlen = squeue_len(sq);
	if (keyed && k.proto == IP_PROTO_TCP && k.dport && tcp_syn_frame(frame, len, k.v6)) {
		/* a SYN for a listener that answers with cookies: answered here, no lock, no queue
		 * (net/tcp_synq.c); any other SYN may only join a short queue (STACK_RX_SYN_QUEUE_MAX) */
		if (!k.v6) {
			uint32_t local = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&sif->netif)));
			if (k.daddr == local && tcp_synq_cookie_mode(k.daddr, k.dport) &&
			    tcp_synq_answer(dev, frame, len, rx_mss(&sif->netif), flags & NETDEV_RX_CSUM_OK))
				return;
		} else if (syn6_answered(sif, dev, frame, len, k.dport, flags)) {
			return;
		}
		if (qlen >= STACK_RX_SYN_QUEUE_MAX) {
			NETDEV_STAT_INC(dev, rx_dropped);
			return;
		}
	}
	if (qlen >= STACK_RX_QUEUE_MAX) {
		NETDEV_STAT_INC(dev, rx_dropped);
		return;
	}
	struct pkt *pkt = pkt_new(len, NET_IP_ALIGN);
	if (!pkt) {
		NETDEV_STAT_INC(dev, rx_dropped);
		return;
	}
	memcpy(pkt_bytes(pkt), frame, len);
	pkt->netif = &sif->netif;
	pkt->csum_ok = flags & NETDEV_RX_CSUM_OK;
	__atomic_add_fetch(&sif->rx_to_sq[sq->cpu], (uint32_t)len, __ATOMIC_RELAXED);
	squeue_enter(sq, &pkt->item, eth_deliver, pkt, SQ_PROCESS);
}

/* ---- loopback ---- */

/* The Ethernet header packet taps see on lo's IP packets (Linux's lo: zero MACs, ETH_P_IP). */
static const uint8_t lo_eth_hdr[ETH_HLEN] = { [2 * ETH_ALEN] = ETH_P_IP >> 8, [2 * ETH_ALEN + 1] = ETH_P_IP & 0xff };
static const uint8_t lo_eth_hdr6[ETH_HLEN] = { [2 * ETH_ALEN] = ETH_P_IPV6 >> 8, [2 * ETH_ALEN + 1] = ETH_P_IPV6 & 0xff };
#define LO_ETH_HDR(p) (((const uint8_t *)(p)->payload)[0] >> 4 == 6 ? lo_eth_hdr6 : lo_eth_hdr)

/* Shows an lo packet (one pbuf, or the pieces of a lent segment) to lo's packet taps. */
static void tap_lo(struct pbuf *p, bool outgoing)
{
	if (!netdev_tapped(lo_if->dev))
		return;
	if (!p->next) {
		netdev_tap_frame(lo_if->dev, LO_ETH_HDR(p), p->payload, p->tot_len, outgoing, NULL);
		return;
	}
	uint8_t *flat = kmalloc(p->tot_len);      /* rare: a tap opened while lent segments flow */
	if (!flat)
		return;
	pbuf_copy_partial(p, flat, p->tot_len, 0);
	netdev_tap_frame(lo_if->dev, LO_ETH_HDR(p), flat, p->tot_len, outgoing, NULL);
	kfree(flat);
}

static void lo_deliver(void *arg, struct sq_item *item __unused)
{
	struct pkt *pkt = arg;
	struct pbuf *p = &pkt->pc.pbuf;
	struct net_device *lo = lo_if->dev;
	irq_push_off();
	struct netdev_stats *s = netdev_stats_this_cpu(lo);
	s->rx_packets++;
	s->rx_bytes += p->tot_len;
	irq_pop_off();
	tap_lo(p, false);
	if (ip_input(p, &lo_if->netif) != ERR_OK)
		pbuf_free(p);
	input_again();
	/* delivered (queued at its socket, if any): stack_lo_sync may return */
	int cpu = squeue_running()->cpu;
	__atomic_store_n(&lo_done[cpu], lo_done[cpu] + 1, __ATOMIC_RELEASE);
}

/* Called with the stack lock held (from lwIP's output path): copy p and re-enter it through the
 * squeue its flow belongs to; a UDP datagram of no bound flow through the squeue sending it, which
 * is where Linux's lo receives it too (the sender's CPU) and lets the sender see it delivered
 * within its own squeue pass (stack_lo_sync). Always queues (we are in a callback), so lwIP never
 * recurses. */
/* The header length of a TCP segment whose payload loop_output may lend instead of copying, else
 * 0: LO_LEND_MIN bytes or more, in stable pbufs (pbuf_stable; lwIP does not write a segment's data
 * once sent): behind the headers in the same pbuf, or in at most LO_LEND_PIECES pbufs after them. */
static size_t lendable(const struct pbuf *p)
{
	const uint8_t *ip = p->payload;
	size_t hlen;
	if (p->len >= IP6_HLEN && ip[0] >> 4 == 6) {   /* IPv6: TCP right behind the fixed header */
		if (IP6H_NEXTH((const struct ip6_hdr *)ip) != IP6_NEXTH_TCP || p->tot_len < LO_LEND_MIN)
			return 0;
		hlen = IP6_HLEN;
	} else {
		if (p->len < IP_HLEN || IPH_PROTO((const struct ip_hdr *)ip) != IP_PROTO_TCP || p->tot_len < LO_LEND_MIN)
			return 0;
		hlen = (size_t)(ip[0] & 0xf) * 4;
	}
	if (p->len < hlen + TCP_HLEN)
		return 0;
	hlen += (size_t)(ip[hlen + 12] >> 4) * 4;
	if (!p->next)
		return pbuf_stable(p) && p->len >= hlen ? hlen : 0;
	if (p->len != hlen)
		return 0;
	int n = 0;
	for (const struct pbuf *d = p->next; d; d = d->next)
		if (++n > LO_LEND_PIECES || !pbuf_stable(d))
			return 0;
	return hlen;
}

/* Chain pieces of pkt over the payload of p (lendable said hlen): each references the pbuf whose
 * bytes it covers. */
static void lend(struct pkt *pkt, struct pbuf *p, size_t hlen)
{
	struct pbuf *from = p->next ? p->next : p;
	size_t skip = p->next ? 0 : hlen;
	int i = 0;
	for (struct pbuf *d = from; d; d = d->next, skip = 0, i++) {
		struct lent_piece *l = &pkt->lent[i];
		l->pc.custom_free_function = pkt_lent_free;
		l->pkt = pkt;
		l->lender = d;
		pbuf_ref(d);
		pbuf_alloced_custom(PBUF_RAW, (u16_t)(d->len - skip), PBUF_REF, &l->pc, (uint8_t *)d->payload + skip,
				    (u16_t)(d->len - skip));
		__atomic_add_fetch(&pkt->refs, 1, __ATOMIC_RELAXED);   /* not yet shared */
		pbuf_cat(&pkt->pc.pbuf, &l->pc.pbuf);
	}
}

err_t stack_loop_output(struct pbuf *p)
{
	struct net_device *lo = lo_if->dev;
	size_t len = p->tot_len;
	size_t hlen = lendable(p);
	struct pkt *pkt = pkt_new(hlen ? hlen : len, 0);
	if (!pkt) {
		NETDEV_STAT_INC(lo, tx_dropped);
		return ERR_MEM;
	}
	if (hlen) {                        /* headers copied, payload lent */
		memcpy(pkt_bytes(pkt), p->payload, hlen);
		lend(pkt, p, hlen);
	} else {
		pbuf_copy_partial(p, pkt_bytes(pkt), (u16_t)len, 0);
	}
	struct flow_key k;
	struct squeue *sq;
	if (!flow_key_from_ip(pkt_bytes(pkt), len, &k))
		sq = squeue_local();
	else if (k.proto == IP_PROTO_UDP && !flow_lookup(&k) && squeue_running())
		sq = squeue_running();         /* received where it was sent, as Linux's lo does (stack_lo_sync) */
	else
		sq = stack_classify(&k);
	if (squeue_len(sq) >= STACK_RX_QUEUE_MAX) {
		pbuf_free(&pkt->pc.pbuf);
		NETDEV_STAT_INC(lo, tx_dropped);
		return ERR_MEM;
	}
	irq_push_off();
	struct netdev_stats *s = netdev_stats_this_cpu(lo);
	s->tx_packets++;
	s->tx_bytes += len;
	irq_pop_off();
	tap_lo(&pkt->pc.pbuf, true);
	pkt->netif = &lo_if->netif;
	lo_last = (struct stack_lo_ticket){ sq, ++lo_queued[sq->cpu] };
	squeue_enter(sq, &pkt->item, lo_deliver, pkt, SQ_PROCESS);
	return ERR_OK;
}

void stack_lo_track(void) { lo_last.sq = NULL; }

bool stack_lo_tracked(struct stack_lo_ticket *t)
{
	*t = lo_last;
	return t->sq != NULL;
}

static void lo_sync_fn(void *arg __unused) {}

/* An squeue delivers its lo packets in order, so the count tells whether ours was; if not, a call
 * queued behind it returns once it was. */
void stack_lo_sync(const struct stack_lo_ticket *t)
{
	if (__atomic_load_n(&lo_done[t->sq->cpu], __ATOMIC_ACQUIRE) < t->seq)
		squeue_call(t->sq, lo_sync_fn, NULL);
}

/* ---- DF on a socket's datagrams (stack_set_tx_df) ----
 * lwIP's ip4_output_if always writes a zero fragment field; Linux sets DF on a UDP datagram that
 * fits the route's MTU under IP_PMTUDISC_WANT / DO / PROBE (__ip_make_skb, ip_dont_fragment). The
 * sender says so with stack_set_tx_df, and the netif's output sets the bit in the header lwIP built
 * (not on a fragment ip4_frag made of a bigger one) and redoes the header checksum when lwIP
 * computed it. Stack lock held. */
static bool tx_df;

void stack_set_tx_df(bool df) { tx_df = df; }

static void set_df(struct netif *n, struct pbuf *p)
{
	if (!tx_df || p->len < IP_HLEN)
		return;
	struct ip_hdr *iph = p->payload;
	if (IPH_V(iph) != 4 || (IPH_OFFSET(iph) & PP_HTONS(IP_MF | IP_OFFMASK)))
		return;
	IPH_OFFSET_SET(iph, IPH_OFFSET(iph) | PP_HTONS(IP_DF));
	IF__NETIF_CHECKSUM_ENABLED(n, NETIF_CHECKSUM_GEN_IP) {
		IPH_CHKSUM_SET(iph, 0);
		IPH_CHKSUM_SET(iph, inet_chksum(iph, (u16_t)(IPH_HL(iph) * 4)));
	}
}

static err_t lo_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst __unused)
{
	set_df(n, p);
	return stack_loop_output(p);
}

static err_t lo_netif_init(struct netif *n)
{
	n->name[0] = 'l';
	n->name[1] = 'o';
	n->mtu = LO_MTU;
	n->output = lo_output;
	n->flags = 0;
	/* No checksum is checked on lo and none is computed for TCP and UDP; the IP header's and
	 * ICMP's are (cheap, and raw and ping sockets show them: Linux's are right on lo too). */
	NETIF_SET_CHECKSUM_CTRL(n, NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_ICMP | NETIF_CHECKSUM_GEN_ICMP6);
	stack6_lo_init(n);
	return ERR_OK;
}

/* ---- NICs ---- */

static bool is_local_addr(const ip4_addr_t *a)
{
	struct netif *n;
	NETIF_FOREACH(n) {
		if (!ip4_addr_isany_val(*netif_ip4_addr(n)) && ip4_addr_cmp(a, netif_ip4_addr(n)))
			return true;
	}
	return false;
}

bool stack_addr_broadcast(uint32_t addr)
{
	struct netif *n;
	if (addr == IPADDR_BROADCAST)
		return true;
	NETIF_FOREACH(n) {
		uint32_t a = host_addr(netif_ip4_addr(n)), m = host_addr(netif_ip4_netmask(n));
		if (a && m != 0xffffffffu && (addr & m) == (a & m) && (addr | m) == 0xffffffffu)
			return true;
	}
	return false;
}

bool stack_addr_local(uint32_t addr)
{
	ip4_addr_t a;
	if ((addr >> 24) == 127 || addr == 0 || IP_CLASSD(addr) || stack_addr_broadcast(addr))
		return true;
	set_addr(&a, addr);
	return is_local_addr(&a);
}

/* ---- TSO (NETDEV_F_TSO, net/netdev.h) ----
 * On a TSO device the netif's MTU is the device's TSO limit (netdev_tso_max: 64 KiB for
 * virtio-net, 16 KiB for the others), so that lwIP passes big TCP segments down
 * whole instead of fragmenting them (ip4_output fragments anything above netif->mtu). The
 * device's real MTU still rules everything else:
 *   - any other IP packet above it is fragmented here (eth_output) with the real MTU;
 *   - the MSS we advertise is the real MTU's (stack_tcp_opts), or a jumbo-MTU peer would send
 *     frames our receive buffers cannot hold;
 *   - IPv6 likewise on a NETDEV_F_TSO6 device: its netif's mtu6 is that limit too and net/stack6.c
 *     fragments other IPv6 packets with the real MTU;
 *   - a connection sends big segments only once stack_tcp_offload says so (the peer's MSS covers
 *     the real MTU, so the device's MTU-sized cuts suit it).
 */
#define TSO_INITIAL_SEGMENTS 2        /* initial congestion window, in big segments (lwIP's rule) */
#define TSO_HDR_ROOM 256               /* a TSO segment's IP and TCP headers (with options) and more */
_Static_assert(TSO_HDR_ROOM >= IP6_HLEN + 60, "a TSO segment with the longest headers fits the netif MTU");
_Static_assert(NETDEV_TSO_DEFAULT > 2 * TSO_HDR_ROOM, "TSO segments are big");

#define TSO_WND_SEGS 4                 /* a TSO segment is at most a quarter of our window */

/* The segment size of a TSO connection through dev: 16128 bytes at NETDEV_TSO_DEFAULT (a frame
 * with its headers and a driver's in 16 KiB), 65254 over virtio-net (VNET_TSO_MAX); less where our
 * receive window is small (below). Not capped by TCP_MSS,
 * which sizes lo's segments: lwIP never allocates a TSO segment's bytes (a send chunk's pieces
 * are referenced: net/stack.h), and 64 KiB segments instead of 16 KiB ones took virtio-net's
 * guest->host iperf3 from ~1.7 to ~2.7 Gbit/s (fewer frames for every per-frame cost: lwIP's
 * segments and ACKs, the driver, QEMU's tap writes). */
static unsigned tso_mss(const struct net_device *dev) { return netdev_tso_max(dev) - TSO_HDR_ROOM; }

/* The netif MTU of a TSO6 device for IPv6 (stack6_set_mtu), 0 without TSO6. */
static unsigned tso6_max(const struct net_device *dev)
{
	return (dev->features & NETDEV_F_TSO6) ? netdev_tso_max(dev) : 0;
}

static bool tso_netif(const struct netif *n, bool v6)
{
	const struct stack_if *sif = n->state;
	return sif != lo_if && (sif->dev->features & (v6 ? NETDEV_F_TSO6 : NETDEV_F_TSO));
}

/* The largest TCP payload a peer may send us through n (the device MTU less the headers). */
static unsigned rx_mss(const struct netif *n)
{
	const struct stack_if *sif = n->state;
	return MIN(sif->dev->mtu, (unsigned)LO_MTU) - IP_HLEN - TCP_HLEN;
}

/* The route of a connection (stack lock held); NULL when there is none. */
static struct netif *pcb_route(const struct tcp_pcb *pcb)
{
	if (IP_IS_V4_VAL(pcb->remote_ip))
		return ip4_route_src(ip_2_ip4(&pcb->local_ip), ip_2_ip4(&pcb->remote_ip));
	return ip6_route(ip_2_ip6(&pcb->local_ip), ip_2_ip6(&pcb->remote_ip));
}

/* Checksums of TSO frames. A NETDEV_F_TSO_CSUM driver writes the TCP checksum field of every TSO
 * frame itself and its device completes each segment's (net/netdev.h), so lwIP's software sum
 * over a whole 16 KiB segment is thrown away, and it was a large part of the stack lock's time per segment of a
 * bulk sender (the lock is busy most of the time in a guest->host iperf3). lwIP decides per netif whether to compute it
 * (NETIF_CHECKSUM_GEN_TCP), right after LWIP_HOOK_TCP_OUT_ADD_TCPOPTS, which it calls for every
 * TCP segment it sends (tcp_output_segment, and tcp_output_fill_options for ACKs, RSTs, keepalives
 * and window probes). So the hook (stack_tcp_opts) clears that bit on the segment's netif when the
 * segment will reach such a device as a TSO frame, and the bit is set again by the next hook call
 * (before it decides anything) and by the NIC's output (eth_output, net/stack6.c's eth_output6) as
 * soon as the segment is there. Invariant: GEN_TCP is clear only between that hook call and its
 * segment's output, and nothing else in that window computes a TCP checksum; the receive paths
 * that lift checks for a packet (eth_deliver, input_again) touch only the CHECK bits. A packet
 * tap sees such a frame with the checksum unset, as Linux's captures show offloaded ones.
 * Stack lock held throughout. */
static struct netif *gen_tcp_off;             /* the netif whose GEN_TCP the hook cleared, if any */
static uint64_t tso_csum_left;                /* segments whose checksum was left to the device */

uint64_t stack_tso_csum_left(void) { return READ_ONCE(tso_csum_left); }

void stack_tcp_csum_restore(void)
{
	if (gen_tcp_off) {
		gen_tcp_off->chksum_flags |= NETIF_CHECKSUM_GEN_TCP;
		gen_tcp_off = NULL;
	}
}

/* Will the TCP segment p (its TCP header and data) leave through n as a TSO frame whose checksum
 * the driver writes: a TSO and TSO_CSUM device for its family, longer than the device's MTU but within its TSO limit and within what IP
 * sends without fragmenting (the netif's MTU, IPv6's destination MTU), to a peer not ours (our
 * own addresses go through lo)? */
static bool tso_segment(struct netif *n, const struct tcp_pcb *pcb, const struct pbuf *p)
{
	bool v6 = !IP_IS_V4_VAL(pcb->remote_ip);
	unsigned ip_len = p->tot_len + (v6 ? IP6_HLEN : IP_HLEN);
	const struct stack_if *sif = n->state;
	if (sif == lo_if || !tso_netif(n, v6) || !(sif->dev->features & NETDEV_F_TSO_CSUM) ||
	    ip_len <= stack_wire_mtu(n) || ip_len > netdev_tso_max(sif->dev))
		return false;
	if (!v6)
		return ip_len <= n->mtu && !is_local_addr(ip_2_ip4(&pcb->remote_ip));
	const ip6_addr_t *dst = ip_2_ip6(&pcb->remote_ip);
	return ip_len <= nd6_get_destination_mtu(dst, n) && !stack6_addr_local(dst);
}

/* LWIP_HOOK_TCP_OUT_ADD_TCPOPTS (lwipopts.h), for every TCP segment lwIP sends: leaves a TSO
 * frame's checksum to the device (above); and lwIP computes the MSS option of a SYN from the
 * netif's MTU: clamp it to the device's. Squeue context, stack lock held. */
uint32_t *stack_tcp_opts(struct pbuf *p, struct tcp_hdr *h, const struct tcp_pcb *pcb, uint32_t *opts)
{
	stack_tcp_csum_restore();
	if (pcb && p->tot_len > TCP_WIRE_MSS) {    /* a cheap first test (smaller ones are summed) */
		/* the netif tcp_route gives lwIP (a mismatch would only leave this one summed) */
		struct netif *n = pcb->netif_idx != NETIF_NO_INDEX ? netif_get_by_index(pcb->netif_idx) : pcb_route(pcb);
		if (n && tso_segment(n, pcb, p)) {
			n->chksum_flags &= (u16_t)~NETIF_CHECKSUM_GEN_TCP;
			gen_tcp_off = n;
			tso_csum_left++;
		}
	}
	uint8_t *o = (uint8_t *)(h + 1);
	if (!pcb || !(TCPH_FLAGS(h) & TCP_SYN) || (uint8_t *)opts < o + LWIP_TCP_OPT_LEN_MSS ||
	    o[0] != LWIP_TCP_OPT_MSS || o[1] != LWIP_TCP_OPT_LEN_MSS)
		return opts;
	struct netif *n = pcb_route(pcb);
	if (!n || n->state == lo_if)
		return opts;
	unsigned mss = (unsigned)(o[2] << 8 | o[3]);
	unsigned max = rx_mss(n) - (IP_IS_V4_VAL(pcb->remote_ip) ? 0 : IP6_HLEN - IP_HLEN);
	if (mss > max) {
		o[2] = (uint8_t)(max >> 8);
		o[3] = (uint8_t)max;
	}
	return opts;
}

unsigned stack_rx_mss(struct netif *n) { return rx_mss(n); }

unsigned stack_wire_mtu(struct netif *n)
{
	const struct stack_if *sif = n->state;
	return MIN(sif->dev->mtu, (unsigned)LO_MTU);
}

bool stack_rx_src_mac(struct netif *n, uint8_t mac[6])
{
	if (n != rx_netif)
		return false;
	memcpy(mac, rx_src_mac, ETH_ALEN);
	return true;
}

int stack_tcp_reply(struct netif *n, struct pbuf *p)
{
	if (n->state == lo_if)
		return stack_loop_output(p);
	if (n != rx_netif || !(n->flags & NETIF_FLAG_ETHERNET))
		return ERR_RTE;
	if (pbuf_add_header(p, ETH_HLEN))
		return ERR_BUF;
	struct eth_hdr *eh = p->payload;
	memcpy(&eh->dest, rx_src_mac, ETH_ALEN);
	memcpy(&eh->src, n->hwaddr, ETH_ALEN);
	eh->type = lwip_htons(IP_HDR_GET_VERSION((uint8_t *)p->payload + ETH_HLEN) == 6 ? ETHTYPE_IPV6 : ETHTYPE_IP);
	err_t e = n->linkoutput(n, p);
	pbuf_remove_header(p, ETH_HLEN);
	return e;
}

void stack_tcp_offload(struct tcp_pcb *pcb)
{
	bool v6 = !IP_IS_V4_VAL(pcb->remote_ip);
	struct netif *n = pcb_route(pcb);
	if (!n || !tso_netif(n, v6) || pcb->mss < rx_mss(n) - (v6 ? IP6_HLEN - IP_HLEN : 0) ||
	    (v6 ? stack6_addr_local(ip_2_ip6(&pcb->remote_ip)) : is_local_addr(ip_2_ip4(&pcb->remote_ip))))
		return;
	/* lwIP announces a reopened receive window only once it grew by min(TCP_WND / 2, mss): an
	 * mss near our whole window (64 KiB without window scaling: a SYN cookie's connection, an old
	 * peer) would keep the window shut for good */
	pcb->mss = (u16_t)MIN(tso_mss(((const struct stack_if *)n->state)->dev), (unsigned)TCP_WND_MAX(pcb) / TSO_WND_SEGS);
	pcb->cwnd = MAX(pcb->cwnd, (tcpwnd_size_t)(TSO_INITIAL_SEGMENTS * pcb->mss));
}

/* ip4_frag with the device's MTU (a TSO netif's own MTU is bigger). */
static err_t frag_wire(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
	struct stack_if *sif = n->state;
	u16_t mtu = n->mtu;
	n->mtu = (u16_t)sif->dev->mtu;
	err_t e = ip4_frag(p, n, dst);
	n->mtu = mtu;
	return e;
}

/* A half-open connection's SYN-ACK to a peer ARP does not know goes to the MAC its SYN came from
 * (net/tcp_synq.c: half-open peers' link addresses says why). */
static bool synack_direct(struct netif *n, struct pbuf *p, const ip4_addr_t *dst, struct eth_addr *mac)
{
	const uint8_t *ip = p->payload;
	unsigned hl = (ip[0] & 0xf) * 4u;
	if (IPH_PROTO((const struct ip_hdr *)ip) != IP_PROTO_TCP || p->len < hl + TCP_HLEN ||
	    (ip[hl + 13] & (TCP_SYN | TCP_ACK | TCP_RST)) != (TCP_SYN | TCP_ACK))
		return false;
	struct eth_addr *known;
	const ip4_addr_t *known_ip;
	if (etharp_find_addr(n, dst, &known, &known_ip) >= 0)
		return false;
	return tcp_synq_synack_mac(n, ip4_addr_get_u32(dst), mac->addr);
}

/* IP output of a NIC: our own addresses go through lo, the rest through ARP to the wire. */
static err_t eth_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
	stack_tcp_csum_restore();
	struct stack_if *sif_ = n->state;
	if (p->tot_len <= sif_->dev->mtu)
		set_df(n, p);
	if (is_local_addr(dst))
		return stack_loop_output(p);
	struct stack_if *sif = n->state;
	if (p->tot_len > sif->dev->mtu && IPH_PROTO((struct ip_hdr *)p->payload) != IP_PROTO_TCP)
		return frag_wire(n, p, dst);
	struct eth_addr mac;
	if (synack_direct(n, p, dst, &mac))
		return ethernet_output(n, p, (const struct eth_addr *)n->hwaddr, &mac, ETHTYPE_IP);
	return etharp_output(n, p, dst);
}

static err_t eth_linkoutput(struct netif *n, struct pbuf *p)
{
	struct stack_if *sif = n->state;
	const void *frame = p->payload;
	if (p->len != p->tot_len) {             /* a chain: gather (the stack lock guards tx_bounce) */
		_Static_assert(sizeof(tx_bounce) > 0xffff, "tx_bounce holds any pbuf chain (tot_len is a u16)");
		pbuf_copy_partial(p, tx_bounce, p->tot_len, 0);
		frame = tx_bounce;
	}
	int r = netdev_xmit_nosleep(sif->dev, frame, p->tot_len, stack_tx_batch());
	if (r < 0) {
		LINK_STATS_INC(link.drop);
		return r == -ENOBUFS ? ERR_MEM : ERR_IF;
	}
	LINK_STATS_INC(link.xmit);
	return ERR_OK;
}

static void announce(struct stack_if *sif)
{
	struct netif *n = &sif->netif;
	uint32_t a = host_addr(netif_ip4_addr(n));
	if (a == sif->shown_addr)
		return;
	sif->shown_addr = a;
	char ab[16], gb[16];
	if (!a) {
		printk("net: %s address removed\n", sif->dev->name);
		return;
	}
	ipv4_format(a, ab);
	ipv4_format(host_addr(netif_ip4_gw(n)), gb);
	printk("net: %s inet %s/%d gw %s (%s)\n", sif->dev->name, ab, ipv4_mask_len(host_addr(netif_ip4_netmask(n))),
	       gb, sif->mode == IPCFG_DHCP ? "dhcp" : sif->mode == IPCFG_STATIC ? "static" : "-");
}

static void status_callback(struct netif *n) { announce(n->state); }

static err_t eth_netif_init(struct netif *n)
{
	struct stack_if *sif = n->state;
	struct net_device *dev = sif->dev;
	n->name[0] = 'e';
	n->name[1] = 't';
	n->hwaddr_len = ETH_ALEN;
	memcpy(n->hwaddr, dev->mac, ETH_ALEN);
	n->mtu = (u16_t)((dev->features & NETDEV_F_TSO) ? netdev_tso_max(dev) : MIN(dev->mtu, (unsigned)ETH_DATA_LEN));
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	n->output = eth_output;
	n->linkoutput = eth_linkoutput;
	stack6_nic_init(n, dev);
	netif_set_hostname(n, STACK_HOSTNAME);
	netif_set_status_callback(n, status_callback);
	return ERR_OK;
}

/* ---- queries ---- */

struct netif *stack_netif(struct net_device *dev)
{
	struct stack_if *sif = READ_ONCE(dev->stack);
	return sif ? &sif->netif : NULL;
}

struct net_device *stack_netif_dev(struct netif *n)
{
	for (int i = 0; i < nifs; i++)
		if (&ifs[i]->netif == n)
			return ifs[i]->dev;
	return NULL;
}

struct info_req {
	struct stack_if *sif;
	struct stack_ifinfo *out;
};

static void info_fn(void *arg)
{
	struct info_req *r = arg;
	struct netif *n = &r->sif->netif;
	struct net_device *dev = r->sif->dev;
	struct stack_ifinfo *o = r->out;
	memset(o, 0, sizeof(*o));
	strlcpy(o->name, dev->name, sizeof(o->name));
	o->ifindex = dev->ifindex;
	memcpy(o->mac, dev->mac, ETH_ALEN);
	o->mtu = dev->mtu;
	o->up = netif_is_up(n);
	o->link = netif_is_link_up(n);
	o->loopback = r->sif == lo_if;
	o->dhcp = r->sif->mode == IPCFG_DHCP;
	o->addr = host_addr(netif_ip4_addr(n));
	o->mask = host_addr(netif_ip4_netmask(n));
	o->gw = host_addr(netif_ip4_gw(n));
}

int stack_if_info(struct net_device *dev, struct stack_ifinfo *out)
{
	struct stack_if *sif = READ_ONCE(dev->stack);
	if (!sif || !stack_ready())
		return -ENODEV;
	struct info_req r = { sif, out };
	squeue_call(squeue_local(), info_fn, &r);
	return 0;
}

/* ---- timers ---- */

/* Keep lwIP's idea of the link in step with the driver's (drivers flip NETDEV_LINK from their
 * interrupt handlers; lwIP wants netif_set_link_up/down, which needs the stack lock). */
static void link_sync(void)
{
	for (int i = 0; i < nifs; i++) {
		struct stack_if *sif = ifs[i];
		if (sif == lo_if)
			continue;
		bool link = (READ_ONCE(sif->dev->flags) & NETDEV_LINK) != 0;
		if (link == sif->link)
			continue;
		sif->link = link;
		if (link)
			netif_set_link_up(&sif->netif);
		else
			netif_set_link_down(&sif->netif);
		stack6_set_mtu(&sif->netif, sif->dev->mtu, tso6_max(sif->dev));   /* lwIP reset mtu6 */
	}
}

/*
 * Interrupt steering: a NIC's IRQ, and with it the device's poll, follows the squeue most of its
 * traffic went to in the last tick, so its frames enter that squeue inline instead of being queued
 * across CPUs and waking its worker. Traffic is counted in bytes, so an LRO or GRO frame weighs as
 * the segments it stands for. Moves only for a clear majority (STEER_SHARE of at least
 * STEER_MIN_BYTES), so mixed traffic stays where it is. Squeue context (the tick).
 */
#define STEER_MIN_BYTES (64 * ETH_FRAME_LEN)     /* 64 full frames */
#define STEER_SHARE_NUM 3                  /* 3/4 of the frames */
#define STEER_SHARE_DEN 4

static void steer_irqs(void)
{
	for (int i = 0; i < MAX_IFS; i++) {
		struct stack_if *sif = ifs[i];
		if (!sif || sif->dev->irq <= 0)
			continue;
		uint32_t total = 0, best = 0;
		int best_cpu = -1;
		for (int c = 0; c < NCPU; c++) {
			uint32_t n = __atomic_exchange_n(&sif->rx_to_sq[c], 0, __ATOMIC_RELAXED);
			total += n;
			if (n > best) {
				best = n;
				best_cpu = c;
			}
		}
		if (total < STEER_MIN_BYTES || (uint64_t)best * STEER_SHARE_DEN < (uint64_t)total * STEER_SHARE_NUM ||
		    best_cpu == sif->dev->irq_cpu)
			continue;
		if (netdev_set_irq_affinity(sif->dev, best_cpu) == 0)
			sif->steer_moves++;
	}
}

size_t stack_steer_show(char *buf, size_t size)
{
	size_t n = 0;
	for (int i = 0; i < MAX_IFS && n < size; i++) {
		struct stack_if *sif = ifs[i];
		if (!sif || sif->dev->irq <= 0)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "irq steering: %s irq %d on cpu %d, moved %llu times\n",
				      sif->dev->name, sif->dev->irq, sif->dev->irq_cpu,
				      (unsigned long long)READ_ONCE(sif->steer_moves));
	}
	return n < size ? n : size - 1;   /* snprintf says what it would have written */
}

static void tick(void *arg __unused, struct sq_item *item __unused)
{
	__atomic_store_n(&timer_item_queued, 0, __ATOMIC_RELEASE);
	sys_check_timeouts();
	link_sync();
	steer_irqs();
}

/* Interrupt context on CPU 0: only queue the tick, and re-arm. */
static void stack_timer_fn(void *arg __unused)
{
	struct squeue *sq = squeue_of_cpu(0);
	if (sq && !__atomic_exchange_n(&timer_item_queued, 1, __ATOMIC_ACQ_REL))
		squeue_enter(sq, &timer_item, tick, NULL, SQ_FILL);
	timer_add(&stack_timer, time_now() + ns_to_ticks(STACK_TIMER_MS * NSEC_PER_MSEC));
}

/* ---- bring-up (squeue context, from the netcfg thread) ---- */

static struct stack_if *attach(struct net_device *dev)
{
	if (nifs == MAX_IFS) {
		printk("net: %s: too many interfaces\n", dev->name);
		return NULL;
	}
	struct stack_if *sif = kzalloc(sizeof(*sif));
	if (!sif)
		return NULL;
	sif->dev = dev;
	sif->mode = IPCFG_OFF;
	struct netif *n;
	if (dev->flags & NETDEV_LOOPBACK) {
		ip4_addr_t a, m;
		set_addr(&a, LO_ADDR);
		set_addr(&m, LO_MASK);
		n = netif_add(&sif->netif, &a, &m, IP4_ADDR_ANY4, sif, lo_netif_init, ip_input);
		sif->mode = IPCFG_STATIC;
		sif->shown_addr = LO_ADDR;
	} else {
		n = netif_add(&sif->netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, sif, eth_netif_init,
			      ethernet_input);
	}
	if (!n) {
		kfree(sif);
		printk("net: %s: netif_add failed\n", dev->name);
		return NULL;
	}
	if (dev->flags & NETDEV_UP)
		netif_set_up(n);
	sif->link = (dev->flags & NETDEV_LINK) || (dev->flags & NETDEV_LOOPBACK);
	if (sif->link)
		netif_set_link_up(n);
	if (dev->flags & NETDEV_LOOPBACK)
		lo_if = sif;
	else
		stack6_nic_up(n, dev->mtu, tso6_max(dev), bootcfg.mode != IPCFG_OFF);   /* ip=off: silent */
	ifs[nifs++] = sif;
	/* publish: stack_input may now deliver this device's frames */
	__atomic_store_n(&dev->stack, sif, __ATOMIC_RELEASE);
	return sif;
}

static void configure(struct stack_if *sif, const struct ipconfig *cfg)
{
	struct netif *n = &sif->netif;
	sif->mode = cfg->mode == IPCFG_DEFAULT ? IPCFG_DHCP : cfg->mode;
	if (cfg->hostname[0]) {
		static char hostname[IPCFG_HOSTNAME_LEN];   /* lwIP keeps the pointer */
		strlcpy(hostname, cfg->hostname, sizeof(hostname));
		netif_set_hostname(n, hostname);
	}
	if (sif->mode == IPCFG_STATIC) {
		ip4_addr_t a, m, g;
		set_addr(&a, cfg->addr);
		set_addr(&m, cfg->mask);
		set_addr(&g, cfg->gw);
		netif_set_addr(n, &a, &m, &g);
		announce(sif);
	} else if (sif->mode == IPCFG_DHCP) {
		err_t e = dhcp_start(n);
		if (e != ERR_OK)
			printk("net: %s: dhcp_start failed (%d)\n", sif->dev->name, e);
		else
			printk("net: %s: DHCP started\n", sif->dev->name);
	}
	netif_set_default(n);
}

static void bringup_fn(void *arg __unused)
{
	lwip_init();
	udp_unreach_init();              /* Linux's port unreachable (net/udp_unreach.c) */
	for (struct net_device *d = netdev_next(NULL); d; d = netdev_next(d))
		attach(d);
	const struct ipconfig *cfg = &bootcfg;
	if (cfg->mode == IPCFG_OFF)
		return;
	struct stack_if *target = NULL;
	for (int i = 0; i < nifs && !target; i++) {
		struct stack_if *sif = ifs[i];
		if (sif == lo_if)
			continue;
		if (!cfg->dev[0] || !strcmp(cfg->dev, sif->dev->name))
			target = sif;
	}
	if (!target) {
		if (cfg->dev[0])
			printk("net: ip=: no device %s\n", cfg->dev);
		return;
	}
	configure(target, cfg);
}

static void netcfg_thread(void *arg __unused)
{
	squeue_call(squeue_of_cpu(0), bringup_fn, NULL);
	timer_setup(&stack_timer, stack_timer_fn, NULL);
	timer_add(&stack_timer, time_now() + ns_to_ticks(STACK_TIMER_MS * NSEC_PER_MSEC));   /* CPU 0's queue */
	WRITE_ONCE(ready, true);
	wake_all(&ready_wq);
	kthread_exit();
}

void stack_init(void)
{
	flow_table_init();
	if (netdev_add_proto(ETH_P_IP, stack_input) < 0 || netdev_add_proto(ETH_P_ARP, stack_input) < 0 ||
	    netdev_add_proto(ETH_P_IPV6, stack_input) < 0)
		panic("net: cannot register the stack's receive handlers");
	if (ipconfig_parse(platform.bootargs, &bootcfg) < 0)
		printk("net: ignoring malformed ip= argument\n");
	if (!kthread_create(netcfg_thread, NULL, "netcfg", 0))
		panic("net: cannot start netcfg");
}
late_init(stack_init);
