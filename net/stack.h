/*
 * The TCP/IP stack: lwIP 2.1.3 (NO_SYS, raw API) behind per-CPU squeues (net/squeue.h), one lwIP
 * netif per net_device plus "lo". Implementation in net/stack.c; this header is the contract the
 * socket layer and other kernel users (ping, the monitor) build on.
 *
 * ---- The rules ----
 * 1. lwIP is entered only from squeue callbacks, which hold the stack lock (a spinlock: interrupts
 *    off). Never from interrupt context, never from a thread directly. A thread that needs lwIP
 *    either
 *      - calls squeue_call(sq, fn, arg): fn(arg) runs on sq with the stack lock held and the
 *        thread sleeps (wait queue) until it has run; or
 *      - embeds a struct sq_item in its object, calls squeue_enter(sq, &obj->item, fn, obj, 0) and
 *        sleeps on its own wait queue until fn (or a later lwIP callback) changes the state it
 *        waits for and wakes it. This is the shape for connect/accept/send/recv: lwIP's callbacks
 *        (recv, sent, connected, accept, err) run in squeue context and wake the sleeper.
 * 2. In a callback: no sleeping, no copy_to_user/copy_from_user, no squeue_call; keep it short (the
 *    per-squeue lock_ns counter measures it). Waking is fine (lock order: stack lock -> waitq
 *    lock -> run-queue lock), as are kmalloc/kfree and squeue_enter (which then always queues).
 * 3. Copies to and from user memory happen outside the stack lock:
 *      - receive: the recv callback keeps the pbuf chain lwIP hands it (on a per-socket list under
 *        the socket's own spinlock) and wakes the reader. The reader, in thread context and
 *        without the stack lock, copies out with pbuf_copy_partial() and releases with
 *        pbuf_free(): both are safe outside the lock (pbuf reference counts and lwIP's memory
 *        statistics are covered by SYS_ARCH_PROTECT, net/lwip/arch/sys_arch.h). It then reports
 *        what it consumed with tcp_recved() from the connection's squeue (batch it: a window
 *        update per read of a few bytes is wasteful).
 *      - send: copy the user's bytes into kernel memory first (a kmalloc'd buffer, or pbufs from
 *        pbuf_alloc(layer, n, PBUF_RAM), also safe outside the lock: the layer only reserves
 *        headroom, as PBUF_TRANSPORT does for UDP's header and lower ones), then enter the
 *        connection's squeue to tcp_write(..., TCP_WRITE_FLAG_COPY) and tcp_output(). The sent
 *        callback frees space and wakes writers sleeping on a full send buffer (tcp_sndbuf()).
 *    Any other lwIP call (pbuf_alloc of other types, pbuf_cat/chain, everything tcp_/udp_/raw_)
 *    needs the stack lock.
 * 4. A connection lives on one squeue, chosen at creation, and every operation on it enters that
 *    squeue:
 *      - connect(): the caller's CPU, squeue_local() at connect time. Once tcp_connect() has picked
 *        the local port (inside that squeue's callback), call stack_flow_bind() with the
 *        connection's addresses so the peer's frames are classified to this squeue rather than to
 *        the squeue the flow hash would pick.
 *      - accept(): the squeue its SYN arrived on. lwIP calls the listener's accept callback while
 *        processing the handshake's final ACK, which has the SYN's 4-tuple and therefore went to
 *        the same squeue: squeue_running() inside the accept callback is the one.
 *      - A listening pcb receives SYNs on every squeue, and an unconnected UDP pcb datagrams from
 *        many flows: their callbacks may run on any squeue (never two at once: the stack lock),
 *        so the state they share with threads needs the object's own spinlock.
 *    Unbind (stack_flow_unbind) before the connection's memory is freed.
 * 5. Timers: lwIP's timeouts (TCP fast/slow timers, ARP, DHCP, reassembly) run on CPU 0's squeue
 *    every STACK_TIMER_MS, entered from a kernel timer (interrupt context, so SQ_FILL).
 *
 * ---- Receive path ----
 * driver poll -> netdev_rx (counts, ethertype counters) -> stack_input: copy into a pbuf (one copy;
 * the IP header 4-byte aligned), classify (bound flow, else flow hash of the IPv4 4-tuple for TCP
 * and UDP, else the receiving CPU's squeue) -> squeue_enter -> netif->input (ethernet_input) under
 * the stack lock. A squeue with STACK_RX_QUEUE_MAX packets waiting drops further frames (counted in
 * the device's rx_dropped).
 *
 * ---- Transmit path ----
 * netif->linkoutput -> netdev_xmit_nosleep: sent, or queued in the device's backlog behind a full
 * ring (in order), or dropped and counted when the backlog is full too (lwIP sees ERR_MEM; TCP
 * retransmits). Never sleeps.
 *
 * ---- Loopback ----
 * "lo" (127.0.0.1/8) is a net_device and an lwIP netif that checks no checksum and computes only the
 * IP header's and ICMP's. Packets to 127/8 and to any of our own addresses are copied and re-entered
 * through the squeues, classified like wire traffic (but a UDP datagram stays on the squeue that
 * sent it, as Linux receives it on the sending CPU), counted on lo and shown to lo's packet taps
 * (net/netdev.h), as Linux does.
 */
#ifndef NET_STACK_H
#define NET_STACK_H
#include "kernel/types.h"
#include "net/squeue.h"
#include "net/flow.h"
#include "net/netdev.h"

#define STACK_TIMER_MS 50              /* period of lwIP's timeout processing */
#define STACK_RX_QUEUE_MAX 4096        /* packets waiting on one squeue before receive drops */
/* ... and before a new connection's SYN is dropped: under a SYN flood the queues stay short, so
 * a SYN (a real client's too) waits milliseconds, not seconds, behind the flood's, and the flood
 * never takes the queue room of established connections' segments (net/tcp_synq.c). */
#define STACK_RX_SYN_QUEUE_MAX 512
#define STACK_HOSTNAME "ember"

/* Boot: net_init calls stack_init after the drivers registered their devices; a thread then
 * brings lwIP up, attaches every device, applies `ip=` and starts DHCP. */
void stack_init(void);
bool stack_ready(void);
/* Sleep until the stack is up (0) or timeout_ns passed (-ETIMEDOUT). Thread context. */
int stack_wait_ready(uint64_t timeout_ns);

/* netdev_rx's hand-off for IPv4 and ARP frames, with their NETDEV_RX_* flags (poll-thread
 * context; never sleeps). */
void stack_input(struct net_device *dev, const void *frame, size_t len, unsigned flags);

/* The squeue for an inbound flow key: its binding, else its hash. */
struct squeue *stack_classify(const struct flow_key *k);

/* Bind / unbind a connection's inbound flow to sq (addresses in host byte order, as the
 * connection sees them). b is the caller's memory, bound until unbound. Any context. */
void stack_flow_bind(struct flow_binding *b, uint8_t proto, uint32_t local_ip, uint16_t local_port,
		     uint32_t peer_ip, uint16_t peer_port, struct squeue *sq);
/* The same for addresses of either family (lwIP's ip_addr_t; IPv6 keys fold the addresses). */
struct ip_addr;
void stack_flow_bind_ip(struct flow_binding *b, uint8_t proto, const struct ip_addr *local, uint16_t local_port,
			const struct ip_addr *peer, uint16_t peer_port, struct squeue *sq);
void stack_flow_unbind(struct flow_binding *b);

/* From a callback (stack lock held): may a socket bind to addr (host order)? INADDR_ANY, 127/8
 * (lo is 127.0.0.1/8, and Linux answers for the whole net), every interface's address, and as on
 * Linux the broadcast and multicast addresses. */
bool stack_addr_local(uint32_t addr);
/* From a callback: is addr (host order) a broadcast address here? 255.255.255.255 and the directed
 * broadcast of every interface's subnet, lo's 127.255.255.255 included (Linux's local table). */
bool stack_addr_broadcast(uint32_t addr);

/* Synchronous loopback. On Linux a datagram sent to a local address is in the receiver's queue
 * when send returns (lo's receive runs in the sender's context); here lo re-enters the packet
 * through an squeue (a UDP datagram: the sender's own, so it is usually delivered in the same
 * pass). A sender that wants Linux's behaviour calls stack_lo_track() in its squeue callback
 * before it outputs, and stack_lo_tracked() after, which fills a ticket for the last packet that
 * looped back (false: none did). Back in its thread (no lock held), stack_lo_sync(ticket) returns
 * once that packet has been delivered (at once if it already was). */
struct stack_lo_ticket {
	struct squeue *sq;
	uint64_t seq;
};
void stack_lo_track(void);
bool stack_lo_tracked(struct stack_lo_ticket *t);

/* IPv4's DF bit on what a socket sends now (stack lock held, squeue context): a sender sets it
 * around its lwIP output call (UDP: IP_MTU_DISCOVER, net/sock_udp.c) and clears it after; every
 * unfragmented IPv4 packet output meanwhile through a NIC or lo leaves with DF set. */
void stack_set_tx_df(bool df);
void stack_lo_sync(const struct stack_lo_ticket *t);

/* An interface as the socket layer's ioctls and ifconfig see it. */
struct stack_ifinfo {
	char name[NETDEV_NAME_LEN];
	int ifindex;
	uint8_t mac[ETH_ALEN];
	unsigned mtu;
	bool up, link, loopback, dhcp;
	uint32_t addr, mask, gw;           /* host byte order; 0 when unconfigured */
};
/* Snapshot of dev's configuration (thread context: it enters an squeue). -ENODEV if not attached. */
int stack_if_info(struct net_device *dev, struct stack_ifinfo *out);
/* From a callback (stack lock held): the lwIP netif of dev (NULL if none), and back. */
struct netif *stack_netif(struct net_device *dev);
struct net_device *stack_netif_dev(struct netif *n);

/* One line per NIC: its IRQ's CPU and how often interrupt steering moved it (/proc/net/squeue). */
size_t stack_steer_show(char *buf, size_t size);

/* Monitor output: lwIP's protocol counters; one line per squeue (/proc/net/squeue's text). */
void stack_print_stats(void);
/* A TCP connection is established (its callback, squeue context): if its route's device does TSO
 * for the connection's family (NETDEV_F_TSO, NETDEV_F_TSO6) and the peer's MSS covers the device MTU, the connection sends segments of up to the device's
 * TSO limit less header room (net/stack.c tso_mss: 16128 bytes by default; the device cuts them) and its congestion window starts at two of them (lwIP never splits a queued
 * segment, so a window smaller than one would stall it). */
struct tcp_pcb;
void stack_tcp_offload(struct tcp_pcb *pcb);
/* A NIC's output calls this first: lwIP computes the TCP checksum again for the next segments
 * (net/stack.c: the TSO hook leaves a TSO frame's checksum to the device). Stack lock held. */
void stack_tcp_csum_restore(void);
/* How many TCP segments went out with their checksum left to a TSO device (monitor: netstat). */
uint64_t stack_tso_csum_left(void);

/* ---- For net/tcp_synq.c (SYN cookies): all from lwIP's input path, stack lock held ---- */
struct netif;
struct pbuf;
/* The MSS a SYN-ACK advertises on n (its device's MTU less the headers). */
unsigned stack_rx_mss(struct netif *n);
/* n's device's MTU (a TSO netif's own MTUs are bigger: net/stack6.c fragments by this one). */
unsigned stack_wire_mtu(struct netif *n);
/* Send p, an IPv4 packet with room for a link header in front, back to whoever sent the frame
 * being received on n: on Ethernet straight to that frame's source MAC (no ARP lookup, so a flood
 * from spoofed addresses neither queues packets on ARP nor evicts real neighbours), over lo
 * through lo. The caller keeps p. */
/* The source MAC of the frame being received on n (stack lock, inside its input): false when no
 * Ethernet frame of n is being received. */
bool stack_rx_src_mac(struct netif *n, uint8_t mac[6]);
int stack_tcp_reply(struct netif *n, struct pbuf *p);
/* Take p (an IPv4 packet received on n) and feed it to ip_input again once the packet being
 * received now is done (net/tcp_synq.c: the ACK that completed a cookie, once its connection
 * exists). At most one is held; a second replaces nothing and is freed (returns false). */
bool stack_input_again(struct netif *n, struct pbuf *p);

/* ---- Zero-copy TCP sends ----
 * A chunk holds bytes a writer copied in outside every lock. stack_tcp_write_chunk queues some of
 * them on a connection without copying: lwIP's segments reference them through pbufs that each
 * hold a reference on the chunk, so the chunk lives until the last segment that carries its bytes
 * is acknowledged (or dropped with the connection), and until every receiver over lo that was
 * lent them has read them (net/stack.c, loop_output). The bytes must not change once queued. */
struct stack_chunk;
struct stack_chunk *stack_chunk_new(size_t size);     /* any context that may kmalloc; NULL: no memory */
uint8_t *stack_chunk_data(struct stack_chunk *c);
void stack_chunk_put(struct stack_chunk *c);          /* drop the creator's reference (any context) */
/* tcp_write of c's bytes [off, off + len) without copying them (flags as tcp_write's, without
 * TCP_WRITE_FLAG_COPY). Squeue context, stack lock held. */
int stack_tcp_write_chunk(struct tcp_pcb *pcb, struct stack_chunk *c, size_t off, uint16_t len, uint8_t flags);
size_t squeue_show(char *buf, size_t size);

/* Text helpers */
void ipv4_format(uint32_t addr, char buf[16]);

#endif
