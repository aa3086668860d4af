/*
 * In-kernel TCP through lwIP's raw API, before there are sockets: the monitor's
 *   tcpsink [port]                        start a discard server on port (no port: its counters)
 *   tcpsend <addr> <port> <MiB> [n]       n connections (default 1), each sending MiB MiB (addr:
 *                                         IPv4 a.b.c.d, or IPv6 without a scope: a global address)
 * They exercise the paths the socket layer will use (net/stack.h): connections bound to squeues,
 * flow bindings for connect(), callbacks waking a sleeping thread, and measure TCP throughput over
 * lo and the NICs (tests/system/test_stack.py, bench/bench_tcp.py).
 *
 * Sender. The monitor thread picks its CPU's squeue for the connections and opens them there with
 * squeue_call (connect: the caller's CPU). When tcp_connect has chosen the local port, the
 * connection's inbound flow is bound to that squeue (stack_flow_bind), so ACKs from the peer are
 * classified to it. The connected and sent callbacks (squeue context, stack lock) queue more data
 * with tcp_write from a static pattern buffer; when all is acknowledged the connection is closed and
 * the thread, sleeping on tcp_wq, is woken. Errors (RST, timeouts) end a connection the same way.
 *
 * Sink. A listening pcb on any squeue; each accepted connection remembers the squeue it was
 * accepted on (squeue_running(): the SYN's squeue); the recv callback counts and acknowledges
 * (tcp_recved) the data and frees the pbufs; FIN closes. Counters are written under the stack
 * lock and read without it (they are only counters).
 *
 * One tcpsend at a time (the monitor is single-threaded); the sink lives until poweroff.
 */
#include "net/stack.h"
#include "net/debug/debug.h"
#include "lwip/tcp.h"
#include "lwip/ip_addr.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "kernel/timer.h"

#define PATTERN_SIZE 65535             /* tcp_write takes at most 64 KiB - 1 per call */
#define MAX_CONNS 16
#define SEND_TIMEOUT_S 600
#define MIB (1024ULL * 1024)

static uint8_t pattern[PATTERN_SIZE];
static struct waitq tcp_wq = WAITQ_INIT(tcp_wq, "tcptest");

/* ---- sender ---- */

struct conn {
	struct tcp_pcb *pcb;
	struct squeue *sq;
	struct flow_binding flow;
	uint64_t total, queued, acked;
	uint64_t t_connect, t_done;
	volatile bool done;
	int err;                           /* lwIP err_t, ERR_OK when all was acknowledged */
};

static struct {
	struct conn c[MAX_CONNS];
	int n;
	ip_addr_t dst;
	uint16_t port;
} snd;

static void conn_finish(struct conn *c, int err)
{
	if (c->done)
		return;
	c->err = err;
	c->t_done = time_ns();
	__atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
	wake_all(&tcp_wq);
}

/* Queue as much as the send buffer takes, then push it out. Stack lock held. ERR_ABRT when the
 * connection had to be aborted (a callback must then return ERR_ABRT). */
static err_t conn_push(struct conn *c)
{
	while (c->queued < c->total) {
		uint32_t room = c->pcb->snd_buf;
		if (room == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 1)
			break;
		uint64_t n = MIN(MIN((uint64_t)room, c->total - c->queued), (uint64_t)PATTERN_SIZE);
		err_t e = tcp_write(c->pcb, pattern, (u16_t)n, c->queued + n < c->total ? TCP_WRITE_FLAG_MORE : 0);
		if (e == ERR_MEM)
			break;                     /* retried from the sent callback */
		if (e != ERR_OK) {
			tcp_arg(c->pcb, NULL);
			tcp_abort(c->pcb);
			c->pcb = NULL;
			conn_finish(c, e);
			return ERR_ABRT;
		}
		c->queued += n;
	}
	tcp_output(c->pcb);
	return ERR_OK;
}

static err_t snd_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;
	c->acked += len;
	if (c->acked >= c->total) {
		tcp_arg(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		c->pcb = NULL;
		conn_finish(c, ERR_OK);
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			return ERR_ABRT;
		}
		return ERR_OK;
	}
	return conn_push(c);
}

static void snd_err(void *arg, err_t err)
{
	struct conn *c = arg;
	if (!c)
		return;
	c->pcb = NULL;                     /* lwIP has freed it */
	conn_finish(c, err);
}

static err_t snd_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn *c = arg;
	c->t_connect = time_ns();
	if (err != ERR_OK) {
		conn_finish(c, err);
		return err;
	}
	stack_tcp_offload(pcb);
	return conn_push(c);
}

static void snd_open_fn(void *arg)
{
	struct conn *c = arg;
	c->pcb = tcp_new_ip_type(IP_GET_TYPE(&snd.dst));
	if (!c->pcb) {
		conn_finish(c, ERR_MEM);
		return;
	}
	tcp_arg(c->pcb, c);
	tcp_err(c->pcb, snd_err);
	tcp_sent(c->pcb, snd_sent);
	tcp_nagle_disable(c->pcb);
	err_t e = tcp_connect(c->pcb, &snd.dst, snd.port, snd_connected);
	if (e != ERR_OK) {
		tcp_abort(c->pcb);
		c->pcb = NULL;
		conn_finish(c, e);
		return;
	}
	/* connect() binds the connection to the caller's squeue: steer the peer's frames to it */
	stack_flow_bind_ip(&c->flow, IP_PROTO_TCP, &c->pcb->local_ip, c->pcb->local_port, &c->pcb->remote_ip,
			   c->pcb->remote_port, c->sq);
}

static void snd_abort_fn(void *arg)
{
	struct conn *c = arg;
	if (c->pcb) {
		tcp_arg(c->pcb, NULL);
		tcp_abort(c->pcb);
		c->pcb = NULL;
	}
	conn_finish(c, ERR_ABRT);
}

static bool all_done(void)
{
	for (int i = 0; i < snd.n; i++)
		if (!__atomic_load_n(&snd.c[i].done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* ---- sink ---- */

static struct {
	struct tcp_pcb *listener;
	uint16_t port;
	uint64_t conns, closed, bytes, resets;
	uint64_t on_squeue[NCPU];          /* accepted connections per squeue (the SYN's) */
} sink;

static err_t sink_recv(void *arg __unused, struct tcp_pcb *pcb, struct pbuf *p, err_t err __unused)
{
	if (!p) {
		sink.closed++;
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_err(pcb, NULL);
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			return ERR_ABRT;
		}
		wake_all(&tcp_wq);
		return ERR_OK;
	}
	sink.bytes += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static void sink_err(void *arg __unused, err_t err __unused) { sink.resets++; }

static err_t sink_accept(void *arg __unused, struct tcp_pcb *pcb, err_t err)
{
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct squeue *sq = squeue_running();
	sink.conns++;
	if (sq)
		sink.on_squeue[sq->cpu]++;
	stack_tcp_offload(pcb);
	tcp_recv(pcb, sink_recv);
	tcp_err(pcb, sink_err);
	return ERR_OK;
}

struct listen_req {
	uint16_t port;
	int err;
};

static void sink_listen_fn(void *arg)
{
	struct listen_req *r = arg;
	struct tcp_pcb *pcb = tcp_new();
	if (!pcb) {
		r->err = ERR_MEM;
		return;
	}
	r->err = tcp_bind(pcb, IP_ANY_TYPE, r->port);
	if (r->err != ERR_OK) {
		tcp_abort(pcb);
		return;
	}
	struct tcp_pcb *l = tcp_listen_with_backlog(pcb, 64);
	if (!l) {
		tcp_abort(pcb);
		r->err = ERR_MEM;
		return;
	}
	tcp_accept(l, sink_accept);
	sink.listener = l;
	sink.port = r->port;
}

/* ---- commands ---- */

static void print_sink(void)
{
	printk("tcpsink: port %u connections %llu closed %llu resets %llu bytes %llu\n", sink.port,
	       (unsigned long long)sink.conns, (unsigned long long)sink.closed, (unsigned long long)sink.resets,
	       (unsigned long long)sink.bytes);
	char line[128];
	int n = snprintf(line, sizeof(line), "tcpsink: accepted per squeue:");
	for (int c = 0; c < NCPU; c++)
		if (squeue_of_cpu(c))
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %llu", (unsigned long long)sink.on_squeue[c]);
	printk("%s\n", line);
}

void cmd_tcpsink(int argc, char **argv)
{
	if (argc < 2) {
		print_sink();
		return;
	}
	unsigned long port = strtoul(argv[1], NULL, 10);
	if (!port || port > 65535) {
		printk("usage: tcpsink [port]\n");
		return;
	}
	if (sink.listener) {
		printk("tcpsink: already listening on %u\n", sink.port);
		return;
	}
	if (stack_wait_ready(5 * NSEC_PER_SEC) < 0)
		return;
	struct listen_req r = { (uint16_t)port, ERR_OK };
	squeue_call(squeue_local(), sink_listen_fn, &r);
	if (r.err != ERR_OK)
		printk("tcpsink: cannot listen on %lu (lwIP error %d)\n", port, r.err);
	else
		printk("tcpsink: listening on %lu\n", port);
}

void cmd_tcpsend(int argc, char **argv)
{
	ip_addr_t dst;
	unsigned long port, mib, n = 1;
	if (argc < 4 || !ipaddr_aton(argv[1], &dst) || !(port = strtoul(argv[2], NULL, 10)) ||
	    port > 65535 || !(mib = strtoul(argv[3], NULL, 10)) || mib > 4096 ||
	    (argc > 4 && (!(n = strtoul(argv[4], NULL, 10)) || n > MAX_CONNS))) {
		printk("usage: tcpsend <a.b.c.d|IPv6> <port> <MiB per connection, 1..4096> [connections, 1..%d]\n", MAX_CONNS);
		return;
	}
	if (stack_wait_ready(5 * NSEC_PER_SEC) < 0)
		return;
	for (size_t i = 0; i < PATTERN_SIZE; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	memset(&snd, 0, sizeof(snd));
	snd.n = (int)n;
	ip_addr_copy(snd.dst, dst);
	snd.port = (uint16_t)port;
	struct squeue *sq = squeue_local();
	uint64_t sink0 = sink.bytes;
	uint64_t t0 = time_ns();
	for (int i = 0; i < snd.n; i++) {
		struct conn *c = &snd.c[i];
		c->sq = sq;
		c->total = mib * MIB;
		squeue_call(sq, snd_open_fn, c);
	}
	int r = wait_event_timeout(&tcp_wq, all_done(), SEND_TIMEOUT_S * NSEC_PER_SEC);
	if (r) {
		for (int i = 0; i < snd.n; i++)
			squeue_call(sq, snd_abort_fn, &snd.c[i]);
	}
	uint64_t t1 = 0, acked = 0;
	int failed = 0;
	for (int i = 0; i < snd.n; i++) {
		struct conn *c = &snd.c[i];
		stack_flow_unbind(&c->flow);
		t1 = MAX(t1, c->t_done);
		acked += c->acked;
		if (c->err != ERR_OK) {
			failed++;
			printk("tcpsend: connection %d: lwIP error %d after %llu bytes\n", i, c->err,
			       (unsigned long long)c->acked);
		}
	}
	uint64_t ns = t1 > t0 ? t1 - t0 : 1;
	uint64_t mbit10 = acked * 80000 / ns;
	printk("tcpsend: %d connection%s, %llu bytes acknowledged in %llu.%03llu s: %llu.%llu Mbit/s%s\n", snd.n,
	       snd.n == 1 ? "" : "s", (unsigned long long)acked, (unsigned long long)(ns / NSEC_PER_SEC),
	       (unsigned long long)(ns % NSEC_PER_SEC / NSEC_PER_MSEC), (unsigned long long)(mbit10 / 10),
	       (unsigned long long)(mbit10 % 10), failed ? " (errors)" : "");
	if (sink.listener)
		printk("tcpsend: local sink got %llu bytes meanwhile\n", (unsigned long long)(sink.bytes - sink0));
}
