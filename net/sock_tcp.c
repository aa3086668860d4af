/*
 * TCP sockets: AF_INET and AF_INET6 SOCK_STREAM over lwIP's raw TCP API (net/socket.h has the
 * socket layer's theory, net/stack.h the rules for entering lwIP, net/inet_addr.h the addresses).
 *
 * Families. An AF_INET socket's pcb is IPv4 (IPADDR_TYPE_V4). An AF_INET6 socket's pcb starts as
 * IPADDR_TYPE_ANY, lwIP's dual stack: bound to the wildcard it stays ANY, so a listener hears IPv4
 * and IPv6 SYNs alike and the connections it accepts have IPv4 or IPv6 addresses (IPv4 ones are
 * reported v4-mapped); bound to an address it takes that address's family (a v4-mapped address
 * is IPv4 inside). IPV6_V6ONLY makes the wildcard IPv6's :: (an IPv6-only listener) and refuses
 * v4-mapped addresses, as Linux does. Addresses are kept as ip_addr_t (with the zone of a
 * link-local one) and turned into the user's sockaddr at getsockname/getpeername/accept.
 *
 * One struct tcp_sock per socket, tied to one lwIP pcb. The pcb is touched only under the stack
 * lock, inside squeue callbacks: either ours (squeue_call from a thread, or the receive-window
 * item) or lwIP's (recv, sent, err, connected, accept), which get the tcp_sock as their arg. The
 * state threads look at (connection state, the receive queue, send space, flags) is written by
 * those callbacks under s->lock, and every change that can end a wait is followed by sock_wake.
 *
 * A connection lives on one squeue (ts->sq), chosen when it is created (DESIGN.md decision 4):
 *   connect: the connecting thread's CPU (squeue_local), and stack_flow_bind steers the peer's
 *            frames there; over loopback the other end's frames too, so both halves of the
 *            connection share the squeue;
 *   accept:  the squeue the handshake ran on (squeue_running() in the accept callback), which is
 *            where the flow hash sends the connection's frames anyway.
 * Every later operation (send, the window updates, options, close) enters ts->sq.
 *
 * Receive. lwIP's recv callback appends the pbuf chain to ts->rx (linked through pbuf->next, the
 * byte count in rx_bytes) and wakes. A reader (s->rx_lock held, so readers are serialized) takes
 * a snapshot of the queue under s->lock, copies straight from the pbufs to user memory with no
 * lock held (only the reader removes pbufs; the callback only appends behind the snapshot), then
 * unlinks and frees what it consumed. The window is reopened with tcp_recved from ts->sq through
 * an embedded sq_item (run on the reader's CPU when ts->sq is idle), batched: once a quarter of
 * the connection's window (TCP_WND, or 64 KiB when the peer does not scale windows, as a SYN
 * cookie's connection or an old stack) was consumed, and not sooner even when the queue ran
 * empty. Until then lwIP's window stays closed by what is queued and what was read but not handed
 * back, which is the flow control. No batch can be left unfilled with the window shut: a window
 * below three quarters means more than a batch is queued or pending, so reading it fills the
 * batch (a batch larger than the window would deadlock: the window is fixed once connected).
 * Handing back at every emptied queue cost a window update packet, and a wake-up of the squeue's
 * CPU, per read once the reader kept up (iperf3 over lo: 1 per ~50 KiB).
 *
 * Send. A writer (s->tx_lock held) copies user bytes into a new send chunk (net/stack.h) outside
 * every lock, then squeue_call()s into ts->sq to queue them with stack_tcp_write_chunk (lwIP's
 * segments reference the chunk's bytes: no second copy; over lo the receiver is lent them too)
 * and tcp_output. It waits for send space (ts->snd_space, refreshed under the stack lock whenever
 * lwIP frees buffer: the sent callback) on s->wq. Bytes lwIP did not take stay in the chunk and go
 * first next time, so nothing is lost or reordered; a chunk is freed when its last byte is
 * acknowledged (and read, over lo).
 *
 * Errors follow Linux: a reset before the connection is up is ECONNREFUSED, after it ECONNRESET;
 * lwIP's timeouts (SYN retries, retransmissions, keepalive) are ETIMEDOUT. The error is reported
 * once (by the next call or SO_ERROR); after that reads give 0 and writes EPIPE (with SIGPIPE).
 * A connection *attempt* that failed (or whose connection was up and already gone before any
 * connect() returned 0 for it) is different: once connect() has reported the failure (the
 * blocking call itself, or the next call after a non-blocking attempt), the socket is unconnected
 * again, with a fresh pcb (the old one is gone), its options, and the address it was bound to,
 * so connect() may be called again (Linux's inet_stream_connect and tcp_disconnect). An explicitly
 * bound port is kept; a port connect() chose is given up, so the next attempt chooses again.
 * Bytes the dead connection received and nobody read are dropped then, as tcp_disconnect does.
 *
 * Close. release() enters ts->sq: the consumed-but-unreported window is handed back first, then
 * tcp_close (FIN; lwIP sends RST instead if unread data remains, as Linux does), or tcp_abort for
 * SO_LINGER with a zero timeout. The callbacks are detached before, so lwIP finishes the
 * connection (FIN_WAIT, TIME_WAIT) on its own and nothing reaches the freed socket. A listener's
 * close aborts the connections that were never accepted. SO_LINGER with a timeout makes close
 * send the FIN at once and wait, up to the timeout or a signal, until the peer has acknowledged
 * all the data (Linux waits for the FIN's acknowledgement; lwIP's sent callback reports data
 * only, so that is what is awaited); not while the process exits, as on Linux.
 */
#include "net/socket.h"
#include "net/stack.h"
#include "net/flow_stats.h"
#include "net/tcp_synq.h"
#include "net/inet_addr.h"
#include "kernel/printk.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "fs/poll.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"

/* A send chunk's bytes: up to one 256 KiB allocation, so iperf3's 128 KiB writes are one chunk and
 * one write_fn each. With 64 KiB chunks each such write took three stack passes, the third for
 * 128 bytes, which went out as a segment of its own (over lo, 3.5 -> 4.0 Gbit/s for one flow).
 * Where memory is too fragmented for the big block, a 64 KiB one serves. */
#define TX_CHUNK (256 * 1024 - 64)
#define TX_CHUNK_MIN (64 * 1024 - 64)
#define TCP_WRITE_MAX 0xffff            /* tcp_write takes a u16 length */
#define RECVED_BATCH_DIV 4              /* the window goes back to lwIP a quarter at a time */
/* Send space a writer is woken for and poll reports as writable: a third of the buffer, Linux's
 * sk_stream_min_wspace for a full one. Waking at every acknowledgement (a few KiB freed) cost a
 * wake-up per ACK, and select()ing writers (iperf3) woke only to find the socket not writable. */
#define SND_LOWAT (TCP_SND_BUF / 3)
#define LOCAL_CONNECT_NS (200 * NSEC_PER_MSEC)  /* connect() to a local peer: no signals meanwhile */
#define LISTEN_BACKLOG_MAX 255          /* lwIP's backlog (the half-open queue, net/tcp_synq.c) is a u8 */
#define MSS_MIN 88                      /* Linux's TCP_MIN_MSS */
#define MSS_MAX 32767
#define TCP_INFO_LEN 104                /* struct tcp_info up to tcpi_total_retrans */
#define TCP_TW_MAX 128                  /* connections kept in TIME_WAIT (trim_timewait) */

enum ts_state {
	TS_NEW,                          /* never connected (maybe bound) */
	TS_LISTEN,
	TS_CONNECTING,
	TS_CONNECTED,                    /* established, possibly half closed */
	TS_CLOSED,                       /* reset, timed out, or fully closed: the pcb is gone */
};

struct tcp_sock {
	struct socket *s;
	struct squeue *sq;               /* fixed once connected/accepted */
	struct tcp_pcb *pcb;             /* stack lock; NULL once lwIP freed it or we let it go */
	struct flow_binding flow;        /* connect(): steers the peer's frames to sq */
	struct flow_binding flow_loop;   /* connect() to ourselves: the other end's frames too */
	bool flow_bound, loop_bound;

	/* s->lock */
	enum ts_state state;
	bool bound;
	bool rx_eof;                     /* the peer's FIN arrived */
	bool shut_rd, shut_wr;           /* local shutdown() */
	bool connect_reported;           /* connect() returned 0 (or accept made it): Linux's SS_CONNECTED */
	bool user_bound;                 /* bind() was called: bind_addr/bind_port, kept for a new attempt */
	ip_addr_t bind_addr;
	uint16_t bind_port;              /* as bind() asked (0: lwIP chose lport) */
	struct pbuf *rx_head, *rx_tail;  /* received, not yet read: pbufs linked through ->next */
	size_t rx_off;                   /* bytes of rx_head already read */
	size_t rx_bytes;                 /* bytes queued in total (beyond rx_off) */
	uint32_t snd_space;              /* pcb->snd_buf, or 0 while the segment queue is full */
	bool tx_drained;                 /* all queued data acknowledged (kept up to date while lingering) */
	ip_addr_t laddr, raddr;          /* either family (an AF_INET6 socket's IPv4 peers too) */
	uint16_t lport, rport;
	bool v6only;                     /* IPV6_V6ONLY (AF_INET6; set before bind) */
	uint8_t family;                  /* s->family, for readers of all_socks (s may go first) */
	bool nodelay;
	uint16_t mss;                    /* TCP_MAXSEG set before connect (0 = default) */
	uint8_t ttl, tos;                /* IP_TTL (0 = default), IP_TOS */
	int keepidle, keepintvl, keepcnt; /* TCP_KEEP*: seconds, count (0 = lwIP's default) */

	/* listeners: s->lock */
	struct tcp_sock *acceptq_head, *acceptq_tail, *acceptq_next;
	unsigned acceptq_len;
	int backlog;

	/* window updates: recved_pending is added by readers, taken by recved_fn */
	struct sq_item recved_item;
	size_t recved_pending;           /* atomic */
	size_t recved_batch;             /* a quarter of the connection's window (recved_batch_set) */
	uint32_t recved_queued;          /* atomic: recved_item is on ts->sq (32 bits: no byte AMOs) */

	/* flow counters (net/flow_stats.c): written under the stack lock, read without it */
	uint64_t bytes_in, bytes_out, segs_in, sends;
	struct list_head all_node;       /* all_lock: every TCP socket, for ember_netstat */

	/* the send chunk: set and consumed under the stack lock, refilled by the writer (tx_lock) */
	struct stack_chunk *tx_chunk;    /* the last one written (our reference), or NULL */
	size_t tx_off, tx_len;           /* its bytes [tx_off, tx_len) lwIP has not taken yet */
};

/* Every TCP socket (its tcp_sock from creation or accept to release), for the flow counters. */
static struct spinlock all_lock = SPINLOCK_INIT("tcp_all");
static struct list_head all_socks = LIST_HEAD_INIT(all_socks);

static struct tcp_sock *ts_of(struct socket *s) { return s->proto; }


/* ---- callbacks (squeue context, stack lock held) ---- */

/* lwIP's send space as writers see it: pcb->snd_buf itself, as tcp_write checks it (lwIP's
 * tcp_sndbuf() clamps it to 64 KiB when windows scale, which hid most of TCP_SND_BUF from poll,
 * SIOCOUTQ and the wake-up threshold). */
static uint32_t send_space(struct tcp_pcb *pcb)
{
	if (tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4)
		return 0;
	return pcb->snd_buf;
}

static err_t tcp_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tcp_sock *ts = arg;
	struct socket *s = ts->s;
	(void)err;
	if (!p) {
		spin_lock(&s->lock);
		ts->rx_eof = true;
		spin_unlock(&s->lock);
		sock_wake(s);
		return ERR_OK;
	}
	struct pbuf *last = p;
	while (last->next)
		last = last->next;
	spin_lock(&s->lock);
	if (ts->rx_tail)
		ts->rx_tail->next = p;
	else
		ts->rx_head = p;
	ts->rx_tail = last;
	ts->rx_bytes += p->tot_len;
	ts->bytes_in += p->tot_len;
	ts->segs_in++;
	spin_unlock(&s->lock);
	(void)pcb;
	sock_wake(s);
	return ERR_OK;
}

/* Every byte queued on pcb acknowledged (a lone FIN may still be in flight)? */
static bool pcb_drained(const struct tcp_pcb *pcb)
{
	return !pcb->unsent && (!pcb->unacked || (!pcb->unacked->next && pcb->unacked->len == 0));
}

static err_t tcp_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct tcp_sock *ts = arg;
	ts->bytes_out += len;
	uint32_t space = send_space(pcb);
	bool drained = pcb_drained(pcb);
	spin_lock(&ts->s->lock);
	uint32_t old = ts->snd_space;
	ts->snd_space = space;
	bool was_drained = ts->tx_drained;
	ts->tx_drained = drained;
	spin_unlock(&ts->s->lock);
	if ((space >= SND_LOWAT && old < SND_LOWAT) || (drained && !was_drained))
		sock_wake(ts->s);               /* a sleeping writer waits for space 0 -> SND_LOWAT */
	return ERR_OK;
}

/* lwIP freed the pcb: a reset, a timeout, or the end of a connection we only half closed. */
static void tcp_err_cb(void *arg, err_t err)
{
	struct tcp_sock *ts = arg;
	struct socket *s = ts->s;
	ts->pcb = NULL;
	spin_lock(&s->lock);
	int e = 0;
	if (err == ERR_RST)   /* Linux's tcp_reset: refused while connecting, EPIPE after the peer's FIN */
		e = ts->state == TS_CONNECTING ? ECONNREFUSED : ts->rx_eof ? EPIPE : ECONNRESET;
	else if (err == ERR_ABRT)
		e = ETIMEDOUT;
	else if (err != ERR_CLSD)
		e = lwip_to_errno(err);
	if (e)
		s->error = e;
	ts->state = TS_CLOSED;
	ts->rx_eof = true;
	ts->snd_space = 0;
	spin_unlock(&s->lock);
	sock_wake(s);
}

/* The window update batch of an established connection: its window is fixed by then (scaled, or
 * 64 KiB without the peer's window scale option). Before any data, so readers see it set. */
static void recved_batch_set(struct tcp_sock *ts, const struct tcp_pcb *pcb)
{
	WRITE_ONCE(ts->recved_batch, (size_t)TCP_WND_MAX(pcb) / RECVED_BATCH_DIV);
}

static err_t tcp_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct tcp_sock *ts = arg;
	struct socket *s = ts->s;
	(void)err;                       /* always ERR_OK in lwIP 2.1 */
	if (!ts->mss)                    /* TCP_MAXSEG keeps the segments at what the user chose */
		stack_tcp_offload(pcb);
	recved_batch_set(ts, pcb);
	spin_lock(&s->lock);
	ts->state = TS_CONNECTED;
	ts->snd_space = send_space(pcb);
	spin_unlock(&s->lock);
	sock_wake(s);
	return ERR_OK;
}

static void attach_pcb(struct tcp_sock *ts, struct tcp_pcb *pcb)
{
	ts->pcb = pcb;
	tcp_arg(pcb, ts);
	tcp_recv(pcb, tcp_recv_cb);
	tcp_sent(pcb, tcp_sent_cb);
	tcp_err(pcb, tcp_err_cb);
}

static void detach_pcb(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
}

static struct tcp_sock *tcp_sock_new(struct socket *s)
{
	struct tcp_sock *ts = kzalloc(sizeof(*ts));
	if (!ts)
		return NULL;
	ts->s = s;
	ts->family = (uint8_t)s->family;
	s->proto = ts;
	spin_lock(&all_lock);
	list_add_tail(&ts->all_node, &all_socks);
	spin_unlock(&all_lock);
	return ts;
}

static void tcp_sock_free(struct tcp_sock *ts)
{
	spin_lock(&all_lock);
	list_del(&ts->all_node);
	spin_unlock(&all_lock);
	stack_chunk_put(ts->tx_chunk);
	kfree(ts);
}

static void trim_timewait(void);

/* A connection completed its handshake on a listener (the SYN's squeue). The new socket waits
 * on the listener's accept queue; lwIP counts it against the backlog until accept() takes it. */
static err_t tcp_accept_cb(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct tcp_sock *lts = arg;
	if (err != ERR_OK || !newpcb || !lts)
		return ERR_VAL;
	struct socket *ls = lts->s;
	trim_timewait();
	struct socket *s = sock_alloc(ls->family, SOCK_STREAM, IPPROTO_TCP, &tcp_sock_ops);
	struct tcp_sock *ts = s ? tcp_sock_new(s) : NULL;
	if (!ts) {
		if (s)
			sock_free(s);
		return ERR_MEM;                   /* lwIP aborts newpcb */
	}
	ts->sq = squeue_running();
	recved_batch_set(ts, newpcb);
	ts->state = TS_CONNECTED;
	ts->connect_reported = true;
	ts->bound = true;
	ts->snd_space = send_space(newpcb);
	ip_addr_copy(ts->laddr, newpcb->local_ip);
	ts->lport = newpcb->local_port;
	ip_addr_copy(ts->raddr, newpcb->remote_ip);
	ts->rport = newpcb->remote_port;
	ts->v6only = lts->v6only;
	ts->ttl = lts->ttl;
	ts->tos = lts->tos;
	/* inherited from the listener, as Linux does */
	s->keepalive = ls->keepalive;
	s->rcvbuf = ls->rcvbuf;
	s->sndbuf = ls->sndbuf;
	s->linger_on = ls->linger_on;
	s->linger_s = ls->linger_s;
	ts->nodelay = lts->nodelay;
	if (ts->nodelay)
		tcp_nagle_disable(newpcb);
	stack_tcp_offload(newpcb);
	attach_pcb(ts, newpcb);
	/* no tcp_backlog_delayed: lwIP's backlog bounds the half-open queue only, the accept queue is
	 * bounded here (tcp_sock_acceptq_full, net/tcp_synq.c) */
	spin_lock(&ls->lock);
	if (lts->acceptq_tail)
		lts->acceptq_tail->acceptq_next = ts;
	else
		lts->acceptq_head = ts;
	lts->acceptq_tail = ts;
	lts->acceptq_len++;
	spin_unlock(&ls->lock);
	sock_wake(ls);
	return ERR_OK;
}

bool tcp_sock_acceptq_full(const struct tcp_pcb_listen *l)
{
	if (l->accept != tcp_accept_cb || !l->callback_arg)
		return false;
	struct tcp_sock *lts = l->callback_arg;
	spin_lock(&lts->s->lock);
	/* as Linux's sk_acceptq_is_full (listen() already capped the backlog at SOMAXCONN) */
	bool full = lts->acceptq_len > (unsigned)lts->backlog;
	spin_unlock(&lts->s->lock);
	return full;
}

/* The window update: hand consumed bytes back to lwIP. */
static void recved_fn(void *arg, struct sq_item *item __unused)
{
	struct tcp_sock *ts = arg;
	__atomic_store_n(&ts->recved_queued, 0, __ATOMIC_RELEASE);
	size_t n = __atomic_exchange_n(&ts->recved_pending, 0, __ATOMIC_ACQ_REL);
	while (ts->pcb && n) {
		u16_t chunk = (u16_t)MIN(n, (size_t)0xffff);
		tcp_recved(ts->pcb, chunk);
		n -= chunk;
	}
}

/* ---- operations entered from threads (squeue_call) ---- */

static void ipopt_fn(void *arg);

struct tcp_req {
	struct tcp_sock *ts;
	ip_addr_t addr;
	uint16_t port;
	int arg;
	const void *data;
	size_t len;
	struct stack_chunk *chunk;       /* write_fn: a refilled send chunk of len bytes */
	long result;                     /* -errno or a count */
};

static void create_fn(void *arg)
{
	struct tcp_req *r = arg;
	struct tcp_pcb *pcb = tcp_new_ip_type(r->ts->s->family == AF_INET6 ? IPADDR_TYPE_ANY : IPADDR_TYPE_V4);
	if (!pcb) {
		r->result = -ENOBUFS;
		return;
	}
	attach_pcb(r->ts, pcb);
	r->result = 0;
}

static int tcp_create(struct socket *s)
{
	struct tcp_sock *ts = tcp_sock_new(s);
	if (!ts)
		return -ENOMEM;
	ts->sq = squeue_local();
	inet_addr_any(s->family, false, &ts->laddr);
	inet_addr_any(s->family, false, &ts->raddr);
	struct tcp_req r = { .ts = ts };
	squeue_call(ts->sq, create_fn, &r);
	if (r.result < 0) {
		tcp_sock_free(ts);
		s->proto = NULL;
	}
	return (int)r.result;
}

/* Is port (host order) taken by a listener, whatever SO_REUSEADDR says (Linux refuses a second
 * listener on the same address and port)? A dual-stack wildcard (IPADDR_TYPE_ANY) overlaps both
 * families; otherwise only addresses of one family overlap (a wildcard, or the same address). */
static bool listener_on(const ip_addr_t *addr, uint16_t port)
{
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next) {
		if (l->local_port != port)
			continue;
		if (IP_IS_ANY_TYPE_VAL(l->local_ip) || IP_IS_ANY_TYPE_VAL(*addr))
			return true;
		if (IP_IS_V6_VAL(l->local_ip) != IP_IS_V6(addr))
			continue;
		if (ip_addr_isany(&l->local_ip) || ip_addr_isany(addr) || ip_addr_cmp_zoneless(&l->local_ip, addr))
			return true;
	}
	return false;
}

static void bind_fn(void *arg)
{
	struct tcp_req *r = arg;
	struct tcp_sock *ts = r->ts;
	struct tcp_pcb *pcb = ts->pcb;
	if (!pcb) {
		r->result = -EINVAL;
		return;
	}
	if (!inet_addr_local(&r->addr)) {
		r->result = -EADDRNOTAVAIL;
		return;
	}
	if (r->port && listener_on(&r->addr, r->port)) {
		r->result = -EADDRINUSE;
		return;
	}
	if (ts->s->reuseaddr)
		ip_set_option(pcb, SOF_REUSEADDR);
	else
		ip_reset_option(pcb, SOF_REUSEADDR);
	err_t e = tcp_bind(pcb, &r->addr, r->port);
	if (e != ERR_OK) {
		r->result = e == ERR_USE ? -EADDRINUSE : -lwip_to_errno(e);
		return;
	}
	spin_lock(&ts->s->lock);
	ts->bound = true;
	ts->user_bound = true;
	ip_addr_copy(ts->bind_addr, r->addr);
	ts->bind_port = r->port;
	ip_addr_copy(ts->laddr, pcb->local_ip);
	ts->lport = pcb->local_port;
	spin_unlock(&ts->s->lock);
	r->result = 0;
}

static int tcp_bind_op(struct socket *s, const struct sockaddr_k *a, int len)
{
	struct tcp_sock *ts = ts_of(s);
	struct tcp_req r = { .ts = ts };
	bool mapped;
	int e = inet_sockaddr_get(s->family, a, len, &r.addr, &r.port, &mapped);
	if (e < 0)
		return e;
	if (mapped && ts->v6only)
		return -EINVAL;                   /* Linux: no IPv4 for an IPv6-only socket */
	if (s->family == AF_INET6 && IP_IS_V6_VAL(r.addr) && ip_addr_isany_val(r.addr))
		inet_addr_any(AF_INET6, ts->v6only, &r.addr);   /* ::, dual-stack unless v6only */
	spin_lock(&s->lock);
	bool bad = ts->bound || ts->state != TS_NEW;
	spin_unlock(&s->lock);
	if (bad)
		return -EINVAL;
	squeue_call(ts->sq, bind_fn, &r);
	return (int)r.result;
}

static void listen_fn(void *arg)
{
	struct tcp_req *r = arg;
	struct tcp_sock *ts = r->ts;
	struct socket *s = ts->s;
	u8_t backlog = (u8_t)MIN(r->arg + 1, LISTEN_BACKLOG_MAX);
	if (ts->state == TS_LISTEN) {
		tcp_backlog_set(ts->pcb, backlog);           /* listen() again: a new backlog */
		r->result = 0;
		return;
	}
	if (!ts->pcb) {
		r->result = -EINVAL;
		return;
	}
	if (!ts->bound) {
		if (s->reuseaddr)
			ip_set_option(ts->pcb, SOF_REUSEADDR);
		ip_addr_t any;
		inet_addr_any(s->family, ts->v6only, &any);
		err_t e = tcp_bind(ts->pcb, &any, 0);
		if (e != ERR_OK) {
			r->result = -EADDRINUSE;
			return;
		}
	} else if (listener_on(&ts->laddr, ts->lport)) {
		r->result = -EADDRINUSE;
		return;
	}
	err_t e = ERR_OK;
	struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(ts->pcb, backlog, &e);
	if (!lpcb) {
		r->result = -lwip_to_errno(e);
		return;
	}
	ts->pcb = lpcb;                    /* the old pcb is freed; a listen pcb has no recv/sent/err */
	tcp_arg(lpcb, ts);
	tcp_accept(lpcb, tcp_accept_cb);
	spin_lock(&s->lock);
	ts->state = TS_LISTEN;
	ts->bound = true;
	ip_addr_copy(ts->laddr, lpcb->local_ip);
	ts->lport = lpcb->local_port;
	ts->backlog = r->arg;
	spin_unlock(&s->lock);
	r->result = 0;
}

static int tcp_listen_op(struct socket *s, int backlog)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	bool bad = ts->state != TS_NEW && ts->state != TS_LISTEN;
	spin_unlock(&s->lock);
	if (bad)
		return -EINVAL;
	struct tcp_req r = { .ts = ts, .arg = backlog };
	squeue_call(ts->sq, listen_fn, &r);
	return (int)r.result;
}

static bool accept_ready(struct socket *s)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	bool ok = ts->acceptq_head || ts->state != TS_LISTEN || ts->shut_rd;
	spin_unlock(&s->lock);
	return ok;
}

static int tcp_accept_op(struct socket *s, struct socket **out, bool nonblock)
{
	struct tcp_sock *lts = ts_of(s);
	uint64_t deadline = 0;
	int r;
	spin_lock(&s->lock);
	bool listening = lts->state == TS_LISTEN;
	spin_unlock(&s->lock);
	if (!listening)
		return -EINVAL;
	for (;;) {
		if ((r = sock_wait(s, accept_ready, nonblock, s->rcvtimeo_ns, &deadline, NULL)) < 0)
			return r;
		spin_lock(&s->lock);
		struct tcp_sock *ts = lts->acceptq_head;
		if (ts) {
			lts->acceptq_head = ts->acceptq_next;
			if (!lts->acceptq_head)
				lts->acceptq_tail = NULL;
			lts->acceptq_len--;
			ts->acceptq_next = NULL;
		}
		bool gone = lts->state != TS_LISTEN || lts->shut_rd;
		spin_unlock(&s->lock);
		if (ts) {
			*out = ts->s;
			return 0;
		}
		if (gone)
			return -EINVAL;
	}
}

/* Connections in TIME_WAIT are kept up to TCP_TW_MAX (Linux's tcp_max_tw_buckets): lwIP keeps
 * them in one list that every connect (the port search) and every SYN (the demultiplexing, after
 * the active connections) walks, so without a bound a connect-heavy load slows down as the list
 * grows for 2 MSL (netperf TCP_CRR over lo: 1500/s falling to 280/s within 20 s). Past the
 * bound the oldest go (lwIP's list is newest first), as lwIP itself kills the oldest when it is
 * out of pcbs (Linux instead closes a new one without TIME_WAIT; both count TCPTimeWaitOverflow);
 * a 4-tuple comes back only after the ephemeral ports wrap. Called before a
 * connection is made (connect, accept); stack lock held. */
static uint64_t tw_overflows;           /* TIME_WAIT connections trimmed; stack lock */

static void trim_timewait(void)
{
	struct tcp_pcb *last_kept = tcp_tw_pcbs;
	for (int i = 1; last_kept && i < TCP_TW_MAX; i++)
		last_kept = last_kept->next;
	while (last_kept && last_kept->next) {
		tcp_abort(last_kept->next);      /* TIME_WAIT: removed and freed, nothing sent */
		tw_overflows++;
	}
}

uint64_t tcp_timewait_overflows(void) { return READ_ONCE(tw_overflows); }

/* A connect from an explicitly bound port to a loopback peer whose previous connection on the same
 * four addresses and ports is still in TIME_WAIT here: the old connection goes and the new one
 * proceeds, as Linux's tcp_tw_reuse (default 2: loopback only) lets it, where lwIP would refuse
 * (EADDRNOTAVAIL). Nothing of the old connection can still be in flight on loopback. netperf's
 * TCP_CRR binds its client ports in sequence and meets its own TIME_WAITs this way. Stack lock. */
static void reuse_timewait(struct tcp_pcb *pcb, const ip_addr_t *addr, uint16_t port)
{
	if (!pcb->local_port || !inet_addr_local(addr))
		return;
	/* unbound to an address, the connection's source will be the peer's own (a local address) */
	const ip_addr_t *src = ip_addr_isany(&pcb->local_ip) ? addr : &pcb->local_ip;
	for (struct tcp_pcb *tw = tcp_tw_pcbs; tw; tw = tw->next) {
		if (tw->local_port == pcb->local_port && tw->remote_port == port &&
		    ip_addr_cmp(&tw->local_ip, src) && ip_addr_cmp(&tw->remote_ip, addr)) {
			tcp_abort(tw);                   /* TIME_WAIT: removed and freed, nothing sent */
			return;
		}
	}
}

static void connect_fn(void *arg)
{
	struct tcp_req *r = arg;
	struct tcp_sock *ts = r->ts;
	struct tcp_pcb *pcb = ts->pcb;
	if (!pcb) {
		r->result = -EINVAL;
		return;
	}
	if (ts->mss)
		pcb->mss = ts->mss;
	ipopt_fn(ts);
	if (!IP_IS_ANY_TYPE_VAL(pcb->local_ip) && IP_IS_V6_VAL(pcb->local_ip) != IP_IS_V6(&r->addr)) {
		r->result = -ENETUNREACH;         /* bound to one family, connecting to the other */
		return;
	}
	spin_lock(&ts->s->lock);
	ts->state = TS_CONNECTING;
	spin_unlock(&ts->s->lock);
	reuse_timewait(pcb, &r->addr, r->port);
	trim_timewait();
	err_t e = tcp_connect(pcb, &r->addr, r->port, tcp_connected_cb);
	if (e != ERR_OK) {
		spin_lock(&ts->s->lock);
		ts->state = TS_NEW;
		spin_unlock(&ts->s->lock);
		r->result = e == ERR_RTE ? -ENETUNREACH : e == ERR_USE ? -EADDRNOTAVAIL : -lwip_to_errno(e);
		return;
	}
	spin_lock(&ts->s->lock);
	ts->bound = true;
	ip_addr_copy(ts->laddr, pcb->local_ip);
	ts->lport = pcb->local_port;
	ip_addr_copy(ts->raddr, pcb->remote_ip);     /* with the zone tcp_connect gave it */
	ts->rport = r->port;
	spin_unlock(&ts->s->lock);
	stack_flow_bind_ip(&ts->flow, IP_PROTO_TCP, &ts->laddr, ts->lport, &ts->raddr, ts->rport, ts->sq);
	ts->flow_bound = true;
	if (inet_addr_local(&ts->raddr)) {
		/* Both ends are ours (loopback): steer the other end's frames, the SYN first, to the
		 * same squeue, so the accepted side lives there too and the connection's two halves
		 * never bounce between CPUs (each crossing is an IPI and a wake-up). */
		stack_flow_bind_ip(&ts->flow_loop, IP_PROTO_TCP, &ts->raddr, ts->rport, &ts->laddr, ts->lport, ts->sq);
		ts->loop_bound = true;
	}
	r->result = 0;
}

/* Frees received pbufs linked through ->next (each its own packet: unlinked before pbuf_free). */
static void free_rx_chain(struct pbuf *p)
{
	while (p) {
		struct pbuf *n = p->next;
		p->next = NULL;
		pbuf_free(p);
		p = n;
	}
}

/* A new pcb for a socket whose connection attempt failed and was reported: unconnected again,
 * with the socket's options and its bind() address (see the top of the file). On failure (no
 * pcb, or the bound port taken meanwhile) the socket stays closed: connect() says ECONNABORTED. */
static void renew_fn(void *arg)
{
	struct tcp_req *r = arg;
	struct tcp_sock *ts = r->ts;
	struct socket *s = ts->s;
	spin_lock(&s->lock);
	bool go = ts->state == TS_CLOSED && !ts->connect_reported && !ts->pcb;
	spin_unlock(&s->lock);
	r->result = 0;
	if (!go)
		return;                           /* another thread renewed it first */
	struct tcp_pcb *pcb = tcp_new_ip_type(s->family == AF_INET6 ? IPADDR_TYPE_ANY : IPADDR_TYPE_V4);
	if (!pcb) {
		r->result = -ENOBUFS;
		return;
	}
	if (s->reuseaddr)
		ip_set_option(pcb, SOF_REUSEADDR);
	if (ts->user_bound && tcp_bind(pcb, &ts->bind_addr, ts->bind_port) != ERR_OK) {
		tcp_abort(pcb);
		r->result = -EADDRINUSE;
		return;
	}
	if (s->keepalive)
		ip_set_option(pcb, SOF_KEEPALIVE);
	if (ts->keepidle)
		pcb->keep_idle = (u32_t)ts->keepidle * 1000;
	if (ts->keepintvl)
		pcb->keep_intvl = (u32_t)ts->keepintvl * 1000;
	if (ts->keepcnt)
		pcb->keep_cnt = (u32_t)ts->keepcnt;
	if (ts->nodelay)
		tcp_nagle_disable(pcb);
	attach_pcb(ts, pcb);
	if (ts->tx_chunk) {                       /* bytes written for the failed attempt go nowhere */
		stack_chunk_put(ts->tx_chunk);
		ts->tx_chunk = NULL;
		ts->tx_off = ts->tx_len = 0;
	}
	spin_lock(&s->lock);
	ts->state = TS_NEW;
	ts->connect_reported = false;
	ts->rx_eof = ts->shut_rd = ts->shut_wr = false;
	ts->snd_space = 0;
	ts->bound = ts->user_bound;
	ip_addr_copy(ts->laddr, pcb->local_ip);
	ts->lport = pcb->local_port;
	inet_addr_any(s->family, false, &ts->raddr);
	ts->rport = 0;
	spin_unlock(&s->lock);
}

/* After connect() reported a failed attempt (thread context, no lock held). What the old
 * connection received and nobody read goes, as Linux's tcp_disconnect purges it: the next
 * connection's reader must not get it first. rx_lock keeps readers out (only they unlink pbufs). */
static void renew_after_failure(struct tcp_sock *ts)
{
	struct socket *s = ts->s;
	sleep_lock(&s->rx_lock);
	spin_lock(&s->lock);
	struct pbuf *stale = ts->rx_head;
	ts->rx_head = ts->rx_tail = NULL;
	ts->rx_off = ts->rx_bytes = 0;
	spin_unlock(&s->lock);
	sleep_unlock(&s->rx_lock);
	free_rx_chain(stale);
	if (ts->flow_bound)                       /* the next attempt binds its own flow */
		stack_flow_unbind(&ts->flow);
	if (ts->loop_bound)
		stack_flow_unbind(&ts->flow_loop);
	ts->flow_bound = ts->loop_bound = false;
	struct tcp_req r = { .ts = ts };
	squeue_call(ts->sq, renew_fn, &r);
}

static bool connect_done(struct socket *s)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	bool done = ts->state != TS_CONNECTING;
	spin_unlock(&s->lock);
	return done;
}

/* The outcome of a connection attempt once it is no longer in progress. */
static int connect_outcome(struct socket *s)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	int r;
	bool renew = false;
	if (ts->state == TS_CONNECTED && !ts->connect_reported) {
		ts->connect_reported = true;
		r = 0;
	} else if (ts->connect_reported) {
		r = -EISCONN;                     /* Linux: once connect() said so, it stays "connected" */
	} else {
		/* failed, or up and already gone (reset) before any connect() reported it */
		r = s->error ? -s->error : -ECONNABORTED;
		s->error = 0;
		renew = true;
	}
	spin_unlock(&s->lock);
	if (renew)
		renew_after_failure(ts);
	return r;
}

static int tcp_connect_op(struct socket *s, const struct sockaddr_k *a, int len, bool nonblock)
{
	struct tcp_sock *ts = ts_of(s);
	struct tcp_req r = { .ts = ts };
	bool mapped;
	int e = inet_sockaddr_get(s->family, a, len, &r.addr, &r.port, &mapped);
	if (e < 0)
		return e;
	if (mapped && ts->v6only)
		return -ENETUNREACH;              /* Linux's tcp_v6_connect */
	if (s->family == AF_INET6 && IP_IS_V6_VAL(r.addr) && ip_addr_isany_val(r.addr))
		ip_addr_set_loopback(true, &r.addr);   /* Linux: :: means this host */
	spin_lock(&s->lock);
	enum ts_state st = ts->state;
	spin_unlock(&s->lock);
	switch (st) {
	case TS_LISTEN:
		return -EISCONN;
	case TS_CONNECTED:
		return connect_outcome(s);        /* 0 once after a non-blocking connect, then EISCONN */
	case TS_CLOSED:
		return connect_outcome(s);
	case TS_CONNECTING:
		if (nonblock)
			return -EALREADY;
		break;
	case TS_NEW:
		if (r.port == 0)
			return -ECONNREFUSED;         /* Linux: nobody listens on port 0 */
		/* connect() binds the connection to the caller's CPU (the squeue of this CPU) */
		ts->sq = squeue_local();
		squeue_call(ts->sq, connect_fn, &r);
		if (r.result < 0)
			return (int)r.result;
		if (nonblock)
			return -EINPROGRESS;
		/* On Linux a handshake with a local peer completes inside connect() (lo's receive
		 * runs in the caller's context), so no signal can cut it short. Here it takes a few
		 * squeue passes, and a signal in between made connect fail with EINTR while the
		 * connection went on being made: netperf's TCP_CRR then shut the socket down, found
		 * it not connected, and waited for a reply to a request it never sent (5 s for a 1 s
		 * test). So a local handshake is waited for without signals, for a bounded time. */
		if (inet_addr_local(&ts->raddr))
			wait_event_timeout(&s->wq, connect_done(s), LOCAL_CONNECT_NS);
		break;
	}
	uint64_t deadline = 0;
	int w = sock_wait(s, connect_done, false, s->sndtimeo_ns, &deadline, NULL);
	if (w == -EAGAIN)
		return -EINPROGRESS;
	if (w < 0)
		return w;
	return connect_outcome(s);
}

/* ---- receive ---- */

static bool recv_ready(struct socket *s)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	bool ok = ts->rx_bytes || ts->rx_eof || ts->shut_rd || s->error || ts->state == TS_CLOSED ||
		  ts->state == TS_NEW || ts->state == TS_LISTEN;
	spin_unlock(&s->lock);
	return ok;
}

static void recved_later(struct tcp_sock *ts, size_t n)
{
	size_t pending = __atomic_add_fetch(&ts->recved_pending, n, __ATOMIC_ACQ_REL);
	if (pending < READ_ONCE(ts->recved_batch))
		return;
	if (__atomic_exchange_n(&ts->recved_queued, 1, __ATOMIC_ACQ_REL))
		return;                             /* already on its way */
	/* from the reader's CPU if ts->sq is idle (its window update packet too), rather than
	 * waking ts->sq's worker, which would preempt the writer there */
	squeue_enter(ts->sq, &ts->recved_item, recved_fn, ts, SQ_PROCESS | SQ_ANYCPU);
}

/* Copy up to n queued bytes to u (no lock held while copying); consume them unless peek.
 * Returns bytes copied or -EFAULT when nothing could be copied. */
static long rx_copy(struct tcp_sock *ts, struct uio *u, size_t n, bool peek)
{
	struct socket *s = ts->s;
	spin_lock(&s->lock);
	struct pbuf *p = ts->rx_head;
	size_t off = ts->rx_off;
	n = MIN(n, ts->rx_bytes);
	spin_unlock(&s->lock);
	size_t done = 0;
	while (done < n) {
		size_t chunk = MIN((size_t)p->len - off, n - done);
		long c = uio_copy_out(u, (uint8_t *)p->payload + off, chunk);
		if (c < 0)
			break;
		done += chunk;
		off += chunk;
		if (off == p->len) {
			p = p->next;
			off = 0;
		}
	}
	if (peek || done == 0)
		return done ? (long)done : -EFAULT;
	/* unlink the pbufs read to the end; free them after dropping the lock */
	struct pbuf *freed = NULL, *freed_tail = NULL;
	spin_lock(&s->lock);
	size_t left = done + ts->rx_off;
	while (ts->rx_head && left >= ts->rx_head->len) {
		struct pbuf *q = ts->rx_head;
		left -= q->len;
		ts->rx_head = q->next;
		q->next = NULL;
		if (freed_tail)
			freed_tail->next = q;
		else
			freed = q;
		freed_tail = q;
	}
	if (!ts->rx_head)
		ts->rx_tail = NULL;
	ts->rx_off = left;
	ts->rx_bytes -= done;
	spin_unlock(&s->lock);
	free_rx_chain(freed);
	recved_later(ts, done);
	return (long)done;
}

static long tcp_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct tcp_sock *ts = ts_of(s);
	if (m->flags & MSG_OOB)
		return -EINVAL;                  /* no urgent data kept (Linux: EINVAL without it) */
	bool peek = m->flags & MSG_PEEK;
	bool waitall = (m->flags & MSG_WAITALL) && !peek;
	uint64_t deadline = 0;
	long done = 0;
	sleep_lock(&s->rx_lock);
	spin_lock(&s->lock);
	enum ts_state st = ts->state;
	spin_unlock(&s->lock);
	if (st == TS_NEW || st == TS_LISTEN) {
		sleep_unlock(&s->rx_lock);
		return -ENOTCONN;
	}
	while (m->data.resid > 0) {
		int w = sock_wait(s, recv_ready, nonblock || (done && !waitall), s->rcvtimeo_ns, &deadline, &s->rx_lock);
		if (w < 0) {
			if (!done)
				done = w;
			break;
		}
		spin_lock(&s->lock);
		size_t avail = ts->rx_bytes;
		spin_unlock(&s->lock);
		if (avail) {
			long c = rx_copy(ts, &m->data, m->data.resid, peek);
			if (c < 0) {
				if (!done)
					done = c;
				break;
			}
			done += c;
			if (peek || !waitall)
				break;
			continue;
		}
		/* nothing queued: an error once, then end of file */
		int e = sock_take_error(s);
		if (e && !done)
			done = -e;
		break;
	}
	sleep_unlock(&s->rx_lock);
	return done;
}

/* ---- send ---- */

/* Hand lwIP what it takes of the send chunk's unsent bytes (without copying them: net/stack.h) and
 * push them out. Stack lock held; tx_chunk/tx_off/tx_len change only under it, so shutdown and
 * close can flush what a writer left behind. */
static void tx_flush(struct tcp_sock *ts, bool more)
{
	struct tcp_pcb *pcb = ts->pcb;
	size_t n = MIN(ts->tx_len - ts->tx_off, (size_t)send_space(pcb));
	while (n) {
		/* in tcp_write's pieces; each fills the last unsent segment before it starts new ones,
		 * and nothing is sent before tcp_output, so the pieces leave no short segments between */
		size_t part = MIN(n, (size_t)TCP_WRITE_MAX);
		u8_t flags = more || part < n ? TCP_WRITE_FLAG_MORE : 0;
		if (stack_tcp_write_chunk(pcb, ts->tx_chunk, ts->tx_off, (u16_t)part, flags) != ERR_OK) {
			n = part / 2;            /* ERR_MEM: the segment queue is nearly full: less */
			continue;
		}
		ts->tx_off += part;
		ts->sends++;
		n -= part;
	}
	tcp_output(pcb);
}

static void write_fn(void *arg)
{
	struct tcp_req *r = arg;
	struct tcp_sock *ts = r->ts;
	if (r->chunk) {                          /* the writer refilled: the old chunk is all taken */
		stack_chunk_put(ts->tx_chunk);
		ts->tx_chunk = r->chunk;
		ts->tx_off = 0;
		ts->tx_len = r->len;
	}
	if (!ts->pcb) {
		ts->tx_off = ts->tx_len = 0;     /* the connection is gone: the caller reports it */
		return;
	}
	tx_flush(ts, r->arg);
	uint32_t space = send_space(ts->pcb);
	spin_lock(&ts->s->lock);
	ts->snd_space = space;
	spin_unlock(&ts->s->lock);
}

static bool send_ready(struct socket *s)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	bool ok = ts->snd_space > 0 || ts->state != TS_CONNECTED || ts->shut_wr || s->error;
	spin_unlock(&s->lock);
	return ok;
}

/* Why a send cannot go on: 0 if it can, else -errno (the pending error once, then EPIPE). */
static int send_blocked(struct socket *s)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	int r = 0;
	if (s->error) {
		r = -s->error;
		s->error = 0;
	} else if (ts->shut_wr || ts->state == TS_CLOSED || ts->state == TS_NEW || ts->state == TS_LISTEN) {
		r = -EPIPE;
	}
	spin_unlock(&s->lock);
	return r;
}

/*
 * Bytes count as sent once they are in the bounce buffer: a writer copies no more than lwIP's
 * free space, so they normally all go in the same call; what lwIP could not take (its segment
 * queue was full) goes first in the next send, or is flushed by shutdown and close.
 */
static long tcp_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct tcp_sock *ts = ts_of(s);
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	uint64_t deadline = 0;
	long done = 0;
	sleep_lock(&s->tx_lock);
	spin_lock(&s->lock);
	bool connecting = ts->state == TS_CONNECTING;
	spin_unlock(&s->lock);
	if (connecting) {
		int w = sock_wait(s, connect_done, nonblock, s->sndtimeo_ns, &deadline, &s->tx_lock);
		if (w < 0) {
			sleep_unlock(&s->tx_lock);
			return w;
		}
	}
	bool more = m->flags & MSG_MORE;
	for (;;) {
		bool pending = ts->tx_off < ts->tx_len;
		if (!pending && m->data.resid == 0)
			break;
		int b = send_blocked(s);
		if (b < 0) {
			if (!done)
				done = b;
			break;
		}
		int w = sock_wait(s, send_ready, nonblock, s->sndtimeo_ns, &deadline, &s->tx_lock);
		if (w < 0) {
			if (!done)
				done = w;
			break;
		}
		struct tcp_req r = { .ts = ts, .arg = more || m->data.resid > 0 };
		if (!pending) {
			spin_lock(&s->lock);
			size_t space = ts->snd_space;
			spin_unlock(&s->lock);
			if (!space)
				continue;                 /* send_blocked says why */
			size_t n = MIN(m->data.resid, MIN(space, (size_t)TX_CHUNK));
			r.chunk = stack_chunk_new(n);
			if (!r.chunk && n > TX_CHUNK_MIN)
				r.chunk = stack_chunk_new(n = TX_CHUNK_MIN);
			if (!r.chunk) {
				if (!done)
					done = -ENOBUFS;
				break;
			}
			if (uio_copy_in(&m->data, stack_chunk_data(r.chunk), n) < 0) {
				stack_chunk_put(r.chunk);
				if (!done)
					done = -EFAULT;
				break;
			}
			done += (long)n;
			r.len = n;
			r.arg = more || m->data.resid > 0;
		}
		squeue_call(ts->sq, write_fn, &r);
	}
	sleep_unlock(&s->tx_lock);
	return done;
}

/* ---- shutdown, close ---- */

static void shutdown_fn(void *arg)
{
	struct tcp_req *r = arg;
	struct tcp_sock *ts = r->ts;
	r->result = 0;
	if (ts->pcb && ts->state != TS_LISTEN && (r->arg == SHUT_WR || r->arg == SHUT_RDWR)) {
		if (ts->tx_chunk)
			tx_flush(ts, false);
		err_t e = tcp_shutdown(ts->pcb, 0, 1);
		if (e != ERR_OK)
			r->result = -lwip_to_errno(e);
	}
}

/* shutdown() of an attempt still in SYN_SENT: Linux's inet_shutdown disconnects it whatever `how`
 * says (tcp_disconnect: nothing is sent in SYN_SENT, sk_err = ECONNRESET, the socket is closed),
 * so a connect() waiting on it fails with ECONNRESET and shutdown() returns 0. result 1: the
 * attempt had already ended (connected or failed), the caller shuts down as usual. Stack lock. */
static void abort_connect_fn(void *arg)
{
	struct tcp_req *r = arg;
	struct tcp_sock *ts = r->ts;
	struct socket *s = ts->s;
	struct tcp_pcb *pcb = ts->pcb;
	r->result = 1;
	if (!pcb || ts->state != TS_CONNECTING)  /* state changes only in stack context */
		return;
	ts->pcb = NULL;
	detach_pcb(pcb);
	tcp_abandon(pcb, 0);                     /* no reset: the peer has seen only our SYN */
	spin_lock(&s->lock);
	s->error = ECONNRESET;
	ts->state = TS_CLOSED;
	ts->rx_eof = true;
	ts->snd_space = 0;
	spin_unlock(&s->lock);
	r->result = 0;
}

static int tcp_shutdown_op(struct socket *s, int how)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	enum ts_state st = ts->state;
	spin_unlock(&s->lock);
	if (st == TS_CONNECTING) {
		struct tcp_req q = { .ts = ts };
		squeue_call(ts->sq, abort_connect_fn, &q);
		if (q.result == 0) {
			sock_wake(s);
			return 0;
		}
	}
	spin_lock(&s->lock);
	st = ts->state;
	if (how != SHUT_WR)
		ts->shut_rd = true;
	if (how != SHUT_RD && st == TS_CONNECTED)
		ts->shut_wr = true;
	spin_unlock(&s->lock);
	int r = 0;
	if (st == TS_NEW || st == TS_CLOSED) {
		r = -ENOTCONN;
	} else if (st == TS_CONNECTED && how != SHUT_RD) {
		/* not under tx_lock: shutdown must be able to end a writer blocked on a full buffer */
		struct tcp_req q = { .ts = ts, .arg = how };
		squeue_call(ts->sq, shutdown_fn, &q);
		r = (int)q.result;
	}
	sock_wake(s);
	return r;
}

static void rx_free_all(struct tcp_sock *ts)
{
	free_rx_chain(ts->rx_head);
	ts->rx_head = ts->rx_tail = NULL;
	ts->rx_bytes = 0;
}

/* A connection that is going away (close, or a listener's unaccepted one). Stack lock held. */
static void close_pcb(struct tcp_sock *ts, bool reset)
{
	struct tcp_pcb *pcb = ts->pcb;
	if (!pcb)
		return;
	ts->pcb = NULL;
	detach_pcb(pcb);
	size_t n = __atomic_exchange_n(&ts->recved_pending, 0, __ATOMIC_ACQ_REL);
	while (n && !reset) {
		u16_t chunk = (u16_t)MIN(n, (size_t)0xffff);
		tcp_recved(pcb, chunk);
		n -= chunk;
	}
	if (reset || tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

static void close_fn(void *arg)
{
	struct tcp_sock *ts = arg;
	struct socket *s = ts->s;
	if (ts->state == TS_LISTEN) {
		if (ts->pcb) {
			tcp_arg(ts->pcb, NULL);
			tcp_accept(ts->pcb, NULL);
			tcp_close(ts->pcb);      /* a listener closes at once */
			ts->pcb = NULL;
		}
		/* connections nobody accepted: reset, as Linux does */
		struct tcp_sock *c = ts->acceptq_head;
		ts->acceptq_head = ts->acceptq_tail = NULL;
		while (c) {
			struct tcp_sock *next = c->acceptq_next;
			close_pcb(c, true);
			rx_free_all(c);
			struct socket *cs = c->s;
			tcp_sock_free(c);        /* off all_socks first: /proc/net/tcp6 looks at c->s */
			sock_free(cs);
			c = next;
		}
		return;
	}
	bool reset = s->linger_on && s->linger_s == 0;
	if (ts->pcb && ts->tx_chunk && !reset)
		tx_flush(ts, false);
	close_pcb(ts, reset);
}

/* SO_LINGER with a timeout: the FIN now (after what the writer left), and whether all is acked. */
static void linger_fn(void *arg)
{
	struct tcp_sock *ts = arg;
	if (!ts->pcb)
		return;
	if (ts->tx_chunk)
		tx_flush(ts, false);
	if (!ts->shut_wr)                        /* else shutdown() sent the FIN already */
		tcp_shutdown(ts->pcb, 0, 1);
	bool drained = pcb_drained(ts->pcb);
	spin_lock(&ts->s->lock);
	ts->tx_drained = drained;
	spin_unlock(&ts->s->lock);
}

static bool linger_done(struct socket *s)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	bool done = ts->tx_drained || ts->state != TS_CONNECTED || s->error;
	spin_unlock(&s->lock);
	return done;
}

static void tcp_release(struct socket *s)
{
	struct tcp_sock *ts = ts_of(s);
	if (!ts)
		return;
	spin_lock(&s->lock);
	bool linger = s->linger_on && s->linger_s > 0 && ts->state == TS_CONNECTED &&
		      !(current->proc && current->proc->exiting);
	spin_unlock(&s->lock);
	if (linger) {
		squeue_call(ts->sq, linger_fn, ts);
		uint64_t deadline = 0;
		sock_wait(s, linger_done, false, (uint64_t)s->linger_s * NSEC_PER_SEC, &deadline, NULL);
	}
	squeue_call(ts->sq, close_fn, ts);       /* runs after any queued window update (FIFO) */
	if (ts->flow_bound)
		stack_flow_unbind(&ts->flow);
	if (ts->loop_bound)
		stack_flow_unbind(&ts->flow_loop);
	rx_free_all(ts);
	tcp_sock_free(ts);
	s->proto = NULL;
}

/* ---- names, readiness, options ---- */

static int tcp_getname(struct socket *s, struct sockaddr_k *a, int *len, bool peer)
{
	struct tcp_sock *ts = ts_of(s);
	spin_lock(&s->lock);
	bool connected = ts->state == TS_CONNECTED;
	ip_addr_t addr = peer ? ts->raddr : ts->laddr;
	uint16_t port = peer ? ts->rport : ts->lport;
	spin_unlock(&s->lock);
	if (peer && !connected)
		return -ENOTCONN;
	inet_sockaddr_set(s->family, a, len, &addr, port);
	return 0;
}

static unsigned tcp_poll_op(struct socket *s)
{
	struct tcp_sock *ts = ts_of(s);
	unsigned m = 0;
	spin_lock(&s->lock);
	if (ts->state == TS_LISTEN) {
		if (ts->acceptq_head)
			m |= EPOLLIN | EPOLLRDNORM;
		spin_unlock(&s->lock);
		return m;
	}
	bool rcv_shut = ts->rx_eof || ts->shut_rd;
	bool closed = ts->state == TS_CLOSED || ts->state == TS_NEW;
	if ((rcv_shut && ts->shut_wr) || closed)
		m |= EPOLLHUP;
	if (rcv_shut)
		m |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (ts->state != TS_CONNECTING) {
		if (ts->rx_bytes)
			m |= EPOLLIN | EPOLLRDNORM;
		if (ts->shut_wr || closed || ts->snd_space >= SND_LOWAT || ts->snd_space == TCP_SND_BUF)
			m |= EPOLLOUT | EPOLLWRNORM;
	}
	if (s->error)
		m |= EPOLLERR;
	spin_unlock(&s->lock);
	return m;
}

struct tcp_info_k {                       /* struct tcp_info, the part lwIP can fill */
	uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, flags;
	uint32_t rto, ato, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans, fackets;
	uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
	uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
	uint32_t rcv_rtt, rcv_space, total_retrans;
};

/* lwIP's states in Linux's numbering (TCP_ESTABLISHED = 1 ... TCP_CLOSING = 11) */
static const uint8_t linux_state[] = {
	[CLOSED] = 7, [LISTEN] = 10, [SYN_SENT] = 2, [SYN_RCVD] = 3, [ESTABLISHED] = 1,
	[FIN_WAIT_1] = 4, [FIN_WAIT_2] = 5, [CLOSE_WAIT] = 8, [CLOSING] = 11, [LAST_ACK] = 9,
	[TIME_WAIT] = 6,
};

struct opt_req {
	struct tcp_sock *ts;
	int level, name;
	const void *in;
	void *out;
	int len;
	int result;
};

static void info_fn(void *arg)
{
	struct opt_req *o = arg;
	struct tcp_info_k *ti = o->out;
	struct tcp_pcb *pcb = o->ts->pcb;
	memset(ti, 0, sizeof(*ti));
	if (!pcb) {
		ti->state = 7;
		return;
	}
	ti->state = linux_state[pcb->state];
	if (pcb->state == LISTEN)
		return;
	ti->retransmits = pcb->nrtx;
	ti->rto = (uint32_t)pcb->rto * TCP_SLOW_INTERVAL * 1000;
	ti->snd_mss = pcb->mss;
	ti->rcv_mss = pcb->mss;
	ti->advmss = pcb->mss;
	unsigned n = 0;
	for (struct tcp_seg *seg = pcb->unacked; seg; seg = seg->next)
		n++;
	ti->unacked = n;
	/* lwIP keeps the RTT in slow-timer ticks: sa is 8x the average, sv 4x the deviation */
	ti->rtt = (uint32_t)(pcb->sa >> 3) * TCP_SLOW_INTERVAL * 1000;
	ti->rttvar = (uint32_t)(pcb->sv >> 2) * TCP_SLOW_INTERVAL * 1000;
	ti->snd_ssthresh = pcb->ssthresh / (pcb->mss ? pcb->mss : 1);
	ti->snd_cwnd = pcb->cwnd / (pcb->mss ? pcb->mss : 1);
	ti->rcv_space = pcb->rcv_wnd;
	ti->rcv_ssthresh = pcb->rcv_wnd;
	ti->pmtu = pcb->mss + 40;
	ti->reordering = 3;
	ti->wscale = (uint8_t)((pcb->snd_scale & 0xf) | (pcb->rcv_scale << 4));
}

static void setopt_fn(void *arg)
{
	struct opt_req *o = arg;
	struct tcp_pcb *pcb = o->ts->pcb;
	int v = *(const int *)o->in;
	o->result = 0;
	if (!pcb)
		return;
	if (o->level == SOL_SOCKET && o->name == SO_KEEPALIVE) {
		if (v)
			ip_set_option(pcb, SOF_KEEPALIVE);
		else
			ip_reset_option(pcb, SOF_KEEPALIVE);
		return;
	}
	if (pcb->state == LISTEN)
		return;                               /* a listen pcb has no such fields */
	switch (o->name) {
	case TCP_NODELAY:
		if (v)
			tcp_nagle_disable(pcb);
		else
			tcp_nagle_enable(pcb);
		tcp_output(pcb);
		break;
	case TCP_KEEPIDLE: pcb->keep_idle = (u32_t)v * 1000; break;
	case TCP_KEEPINTVL: pcb->keep_intvl = (u32_t)v * 1000; break;
	case TCP_KEEPCNT: pcb->keep_cnt = (u32_t)v; break;
	}
}

/* IP_TTL and IP_TOS: kept on the socket and applied to the pcb (now, or when it connects). */
static void ipopt_fn(void *arg)
{
	struct tcp_sock *ts = arg;
	if (ts->pcb && ts->pcb->state != LISTEN) {
		ts->pcb->ttl = ts->ttl ? ts->ttl : IP_DEFAULT_TTL;
		ts->pcb->tos = ts->tos;
	}
}

static int ip_setsockopt(struct tcp_sock *ts, int name, const void *val, int len)
{
	int v;
	if (name != IP_TTL && name != IP_TOS)
		return -ENOPROTOOPT;
	if (len < (int)sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	if (name == IP_TTL) {
		if (v != -1 && (v < 1 || v > 255))
			return -EINVAL;
		ts->ttl = v == -1 ? 0 : (uint8_t)v;
	} else {
		ts->tos = (uint8_t)v;
	}
	squeue_call(ts->sq, ipopt_fn, ts);
	return 0;
}

static int ip_getsockopt(struct tcp_sock *ts, int name, void *val, int *len)
{
	int v;
	if (name == IP_TTL)
		v = ts->ttl ? ts->ttl : IP_DEFAULT_TTL;
	else if (name == IP_TOS)
		v = ts->tos;
	else
		return -ENOPROTOOPT;
	*len = MIN(*len, (int)sizeof(v));
	memcpy(val, &v, *len);
	return 0;
}

/* SOL_IPV6 on an AF_INET6 socket: IPV6_V6ONLY (before bind, as Linux), IPV6_UNICAST_HOPS and
 * IPV6_TCLASS (the pcb's ttl and tos fields, which lwIP's ip6_output takes as hop limit and
 * traffic class). Multicast memberships are for datagram sockets: EPROTO, as Linux's
 * do_ipv6_setsockopt answers a connection socket (after its ipv6_mreq length check). */
#define IPV6_MREQ_LEN 20
static int ipv6_setsockopt(struct tcp_sock *ts, int name, const void *val, int len)
{
	int v;
	if (ts->s->family != AF_INET6)
		return -ENOPROTOOPT;
	if (name == IPV6_ADD_MEMBERSHIP || name == IPV6_DROP_MEMBERSHIP)
		return len < IPV6_MREQ_LEN ? -EINVAL : -EPROTO;
	if (len < (int)sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case IPV6_V6ONLY: {
		spin_lock(&ts->s->lock);
		bool bound = ts->bound || ts->state != TS_NEW;
		if (!bound)
			ts->v6only = v != 0;
		spin_unlock(&ts->s->lock);
		return bound ? -EINVAL : 0;
	}
	case IPV6_UNICAST_HOPS:
		if (v < -1 || v > 255)
			return -EINVAL;
		ts->ttl = v == -1 ? 0 : (uint8_t)v;
		break;
	case IPV6_TCLASS:
		if (v < -1 || v > 255)
			return -EINVAL;
		ts->tos = v == -1 ? 0 : (uint8_t)v;
		break;
	default:
		return -ENOPROTOOPT;
	}
	squeue_call(ts->sq, ipopt_fn, ts);
	return 0;
}

static int ipv6_getsockopt(struct tcp_sock *ts, int name, void *val, int *len)
{
	int v;
	if (ts->s->family != AF_INET6)
		return -EOPNOTSUPP;
	switch (name) {
	case IPV6_V6ONLY: v = ts->v6only; break;
	case IPV6_UNICAST_HOPS: v = ts->ttl ? ts->ttl : IP_DEFAULT_TTL; break;
	case IPV6_TCLASS: v = ts->tos; break;
	default: return -ENOPROTOOPT;
	}
	*len = MIN(*len, (int)sizeof(v));
	memcpy(val, &v, *len);
	return 0;
}

static int tcp_setsockopt(struct socket *s, int level, int name, const void *val, int len)
{
	struct tcp_sock *ts = ts_of(s);
	struct opt_req o = { .ts = ts, .level = level, .name = name, .in = val, .len = len };
	int v;
	if (level == SOL_SOCKET) {
		if (name == SO_KEEPALIVE)
			squeue_call(ts->sq, setopt_fn, &o);
		return 0;
	}
	if (level == SOL_IP)
		return ip_setsockopt(ts, name, val, len);
	if (level == SOL_IPV6)
		return ipv6_setsockopt(ts, name, val, len);
	if (level != SOL_TCP)
		return -ENOPROTOOPT;
	if (name == TCP_CONGESTION) {
		char cc[16] = { 0 };
		memcpy(cc, val, MIN(len, 15));
		return strcmp(cc, "reno") == 0 ? 0 : -ENOENT;
	}
	if (len < (int)sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case TCP_NODELAY:
		spin_lock(&s->lock);
		ts->nodelay = v != 0;
		spin_unlock(&s->lock);
		break;
	case TCP_MAXSEG:
		if (v && (v < MSS_MIN || v > MSS_MAX))
			return -EINVAL;
		ts->mss = (uint16_t)v;
		return 0;
	case TCP_KEEPIDLE: case TCP_KEEPINTVL: case TCP_KEEPCNT:
		if (v < 1 || v > 32767)
			return -EINVAL;
		spin_lock(&s->lock);
		*(name == TCP_KEEPIDLE ? &ts->keepidle : name == TCP_KEEPINTVL ? &ts->keepintvl : &ts->keepcnt) = v;
		spin_unlock(&s->lock);
		break;
	case TCP_CORK: case TCP_QUICKACK:
		return 0;                                  /* accepted, no effect */
	default:
		return -ENOPROTOOPT;
	}
	squeue_call(ts->sq, setopt_fn, &o);
	return o.result;
}

static void mss_fn(void *arg)
{
	struct opt_req *o = arg;
	struct tcp_pcb *pcb = o->ts->pcb;
	o->result = pcb && pcb->state != LISTEN ? pcb->mss : TCP_MSS;
}

static int tcp_getsockopt(struct socket *s, int level, int name, void *val, int *len)
{
	struct tcp_sock *ts = ts_of(s);
	struct opt_req o = { .ts = ts, .out = val };
	int v;
	if (level == SOL_SOCKET && name == SO_ACCEPTCONN) {
		spin_lock(&s->lock);
		v = ts->state == TS_LISTEN;
		spin_unlock(&s->lock);
		memcpy(val, &v, sizeof(v));
		return 0;
	}
	if (level == SOL_IP)
		return ip_getsockopt(ts, name, val, len);
	if (level == SOL_IPV6)
		return ipv6_getsockopt(ts, name, val, len);
	if (level != SOL_TCP)
		return -EOPNOTSUPP;               /* Linux's answer for a level TCP does not know */
	switch (name) {
	case TCP_INFO: {
		struct tcp_info_k ti;
		o.out = &ti;
		squeue_call(ts->sq, info_fn, &o);
		*len = MIN(*len, (int)sizeof(ti));
		memcpy(val, &ti, *len);
		return 0;
	}
	case TCP_CONGESTION:
		*len = MIN(*len, 16);
		memset(val, 0, *len);
		memcpy(val, "reno", MIN(*len, 4));
		return 0;
	case TCP_NODELAY: v = ts->nodelay; break;
	case TCP_MAXSEG:
		spin_lock(&s->lock);
		bool conn = ts->state == TS_CONNECTED;
		spin_unlock(&s->lock);
		if (conn) {
			squeue_call(ts->sq, mss_fn, &o);
			v = o.result;
		} else {
			v = ts->mss ? ts->mss : 536;        /* Linux's default before a connection */
		}
		break;
	case TCP_KEEPIDLE: v = ts->keepidle ? ts->keepidle : (int)(TCP_KEEPIDLE_DEFAULT / 1000); break;
	case TCP_KEEPINTVL: v = ts->keepintvl ? ts->keepintvl : (int)(TCP_KEEPINTVL_DEFAULT / 1000); break;
	case TCP_KEEPCNT: v = ts->keepcnt ? ts->keepcnt : (int)TCP_KEEPCNT_DEFAULT; break;
	case TCP_CORK: case TCP_QUICKACK: v = 0; break;
	default:
		return -ENOPROTOOPT;
	}
	*len = MIN(*len, (int)sizeof(v));
	memcpy(val, &v, *len);
	return 0;
}

static long tcp_ioctl(struct socket *s, unsigned long cmd, unsigned long arg)
{
	struct tcp_sock *ts = ts_of(s);
	int v;
	spin_lock(&s->lock);
	bool listening = ts->state == TS_LISTEN;
	if (cmd == FIONREAD)                 /* SIOCINQ */
		v = (int)MIN(ts->rx_bytes, (size_t)0x7fffffff);
	else if (cmd == SIOCOUTQ_K)          /* bytes not yet acknowledged */
		v = (int)(TCP_SND_BUF - MIN((uint32_t)TCP_SND_BUF, ts->snd_space));
	else
		v = -1;
	spin_unlock(&s->lock);
	if (v < 0)
		return -ENOTTY;
	if (listening)
		return -EINVAL;
	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

const struct sock_ops tcp_sock_ops = {
	.create = tcp_create,
	.release = tcp_release,
	.bind = tcp_bind_op,
	.listen = tcp_listen_op,
	.accept = tcp_accept_op,
	.connect = tcp_connect_op,
	.sendmsg = tcp_sendmsg,
	.recvmsg = tcp_recvmsg,
	.shutdown = tcp_shutdown_op,
	.getname = tcp_getname,
	.poll = tcp_poll_op,
	.setsockopt = tcp_setsockopt,
	.getsockopt = tcp_getsockopt,
	.ioctl = tcp_ioctl,
};

/* ---- flow counters (net/flow_stats.c) ---- */

static uint8_t linux_state_of(struct tcp_sock *ts)
{
	switch (ts->state) {
	case TS_LISTEN: return 10;
	case TS_CONNECTING: return 2;
	case TS_CONNECTED: return ts->rx_eof ? (ts->shut_wr ? 9 : 8) : (ts->shut_wr ? 4 : 1);
	default: return 7;
	}
}

/* /proc/net/tcp6: Linux's tcp6_seq_show lines for the AF_INET6 sockets (their IPv4 connections
 * v4-mapped). Timers and uids are not kept: those columns are 0. Thread context. */
size_t tcp6_proc_show(char *buf, size_t size)
{
	size_t n = 0;
	int sl = 0;
	bufprintf(buf, size, &n, "%s\n", INET6_PROC_HEADER);
	spin_lock(&all_lock);
	struct list_head *pos;
	list_for_each(pos, &all_socks) {
		struct tcp_sock *ts = list_entry(pos, struct tcp_sock, all_node);
		if (ts->family != AF_INET6)
			continue;
		char la[INET_PROC_ADDR_LEN], ra[INET_PROC_ADDR_LEN];
		ip_addr_t l = ts->laddr, r = ts->raddr;
		inet_proc_addr(la, &l, ts->lport);
		inet_proc_addr(ra, &r, ts->rport);
		uint8_t st = linux_state_of(ts);
		uint32_t txq = st == 10 ? 0 : (uint32_t)TCP_SND_BUF - MIN((uint32_t)TCP_SND_BUF, READ_ONCE(ts->snd_space));
		uint32_t rxq = st == 10 ? READ_ONCE(ts->acceptq_len) : (uint32_t)MIN(READ_ONCE(ts->rx_bytes), (size_t)0xffffffffu);
		if (st == 7 || st == 2)
			txq = 0;
		bufprintf(buf, size, &n, "%4d: %s %s %02X %08X:%08X 00:00000000 00000000 %5u %8d %lu 1 0000000000000000 0 0 0 10 -1\n",
			  sl++, la, ra, st, txq, rxq, 0u, 0, (unsigned long)inet_sock_ino(ts->s));
	}
	spin_unlock(&all_lock);
	return n;
}

size_t tcp_flow_stats(struct ember_flow_stat *out, size_t max)
{
	size_t n = 0;
	spin_lock(&all_lock);
	struct list_head *pos;
	list_for_each(pos, &all_socks) {
		struct tcp_sock *ts = list_entry(pos, struct tcp_sock, all_node);
		if (n < max) {
			struct ember_flow_stat *f = &out[n];
			memset(f, 0, sizeof(*f));
			f->family = ts->family;
			if (!IP_IS_V6_VAL(ts->laddr))
				f->laddr = ip4_addr_get_u32(ip_2_ip4(&ts->laddr));
			if (!IP_IS_V6_VAL(ts->raddr))
				f->raddr = ip4_addr_get_u32(ip_2_ip4(&ts->raddr));
			inet_addr_to16(&ts->laddr, f->laddr6);
			inet_addr_to16(&ts->raddr, f->raddr6);
			f->lport = ts->lport;
			f->rport = ts->rport;
			f->proto = IPPROTO_TCP;
			f->state = linux_state_of(ts);
			f->cpu = ts->sq ? (uint8_t)ts->sq->cpu : 0;
			f->rx_queued = (uint32_t)MIN(READ_ONCE(ts->rx_bytes), (size_t)0xffffffffu);
			f->tx_space = READ_ONCE(ts->snd_space);
			f->bytes_in = READ_ONCE(ts->bytes_in);
			f->bytes_out = READ_ONCE(ts->bytes_out);
			f->segs_in = READ_ONCE(ts->segs_in);
			f->sends = READ_ONCE(ts->sends);
		}
		n++;
	}
	spin_unlock(&all_lock);
	return n;
}
