/*
 * Network observability: /proc/net/dev, /proc/net/netstat and /proc/net/squeue (generated at open by proc_create's
 * show callbacks, fs/fs.h), and the monitor's views of the same counters.
 *
 * /proc/net/dev follows Linux's layout (net/core/net-procfs.c), so tools that parse it work
 * unchanged.
 * /proc/net/squeue is Ember's own: one line per squeue, then the stack lock's totals.
 *
 * Everything here reads counters without locks (per-CPU or single-writer 64-bit counters: each
 * load is atomic; a line may mix values from slightly different moments, as on Linux).
 */
#include "kernel/init.h"
#include "net/stack.h"
#include "net/tcp_synq.h"
#include "net/stack6.h"
#include "net/flow_stats.h"
#include "kernel/kallsyms.h"
#include "lwip/stats.h"
#include "lwip/etharp.h"
#include "net/squeue.h"
#include "net/netdev.h"
#include "fs/fs.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define U(x) ((unsigned long long)(x))

/* ---- /proc/net/dev ---- */

static size_t show_net_dev(char *buf, size_t size)
{
	size_t n = 0;
	bufprintf(buf, size, &n, "Inter-|   Receive                                                |  Transmit\n");
	bufprintf(buf, size, &n, " face |bytes    packets errs drop fifo frame compressed multicast|"
			   "bytes    packets errs drop fifo colls carrier compressed\n");
	for (struct net_device *d = netdev_next(NULL); d; d = netdev_next(d)) {
		struct netdev_stats s;
		netdev_get_stats(d, &s);
		bufprintf(buf, size, &n, "%6s: %7llu %7llu %4llu %4llu %4llu %5llu %10llu %9llu %8llu %7llu %4llu %4llu %4llu %5llu %7llu %10llu\n",
		    d->name, U(s.rx_bytes), U(s.rx_packets), U(s.rx_errors), U(s.rx_dropped), U(0), U(0), U(0), U(0),
		    U(s.tx_bytes), U(s.tx_packets), U(s.tx_errors), U(s.tx_dropped), U(0), U(0), U(0), U(0));
	}
	return n;
}

/* ---- /proc/net/squeue ---- */

size_t squeue_show(char *buf, size_t size)
{
	size_t n = 0;
	struct squeue_stats t = { 0 };
	bufprintf(buf, size, &n, "sq cpu        inline        queued      drains  handoffs worker_runs         items"
			   "  maxq  qlen       lock_ns   lock_max_ns  lock_wait_ns contended\n");
	for (int c = 0; c < NCPU; c++) {
		struct squeue *sq = squeue_of_cpu(c);
		if (!sq)
			continue;
		struct squeue_stats s;
		squeue_get_stats(sq, &s);
		bufprintf(buf, size, &n, "%2d %3d %13llu %13llu %11llu %9llu %11llu %13llu %5llu %5u %13llu %13llu %13llu %9llu\n",
		    c, s.cpu, U(s.inline_entries), U(s.queued_entries), U(s.drains), U(s.handoffs), U(s.worker_runs),
		    U(s.items), U(s.max_queue), s.queue_len, U(s.lock_ns), U(s.lock_max_ns), U(s.lock_wait_ns),
		    U(s.lock_contended));
		t.inline_entries += s.inline_entries;
		t.queued_entries += s.queued_entries;
		t.items += s.items;
		t.lock_ns += s.lock_ns;
		t.lock_wait_ns += s.lock_wait_ns;
		t.lock_contended += s.lock_contended;
		t.delegations += s.delegations;
	}
	bufprintf(buf, size, &n, "stack lock: acquisitions %llu held_ns %llu wait_ns %llu contended %llu delegated %llu\n",
	    U(t.items), U(t.lock_ns), U(t.lock_wait_ns), U(t.lock_contended), U(t.delegations));
	bufprintf(buf, size, &n, "entries: inline %llu queued %llu; flow bindings %u\n", U(t.inline_entries),
	    U(t.queued_entries), flow_bound_count());
	n += stack_steer_show(buf + n, size - n);
	/* which callbacks hold the stack lock, most time first */
	static struct sq_fn_stat fs[SQ_FN_STATS];      /* callers are serialized by /proc's open */
	size_t nf = squeue_fn_stats(fs, SQ_FN_STATS);
	for (size_t i = 1; i < nf; i++)                 /* insertion sort by time, descending */
		for (size_t j = i; j > 0 && fs[j].ns > fs[j - 1].ns; j--) {
			struct sq_fn_stat tmp = fs[j];
			fs[j] = fs[j - 1];
			fs[j - 1] = tmp;
		}
	bufprintf(buf, size, &n, "%-28s %12s %14s %9s\n", "callback", "calls", "held_ns", "ns/call");
	for (size_t i = 0; i < nf; i++) {
		uint64_t off;
		const char *name = ksym_lookup((uint64_t)(uintptr_t)fs[i].fn, &off);
		bufprintf(buf, size, &n, "%-28s %12llu %14llu %9llu\n", name ? name : "?", U(fs[i].calls), U(fs[i].ns),
		    U(fs[i].calls ? fs[i].ns / fs[i].calls : 0));
	}
	return n;
}

/* ---- /proc/net/netstat ----
 * Linux's layout (net/ipv4/proc.c, netstat_seq_show): a "TcpExt:" line of names, then a "TcpExt:"
 * line of values in the same order. Only the counters Ember keeps are listed (nstat and other
 * parsers pair names and values, they do not assume Linux's full list); in Linux's order. */

static size_t show_netstat(char *buf, size_t size)
{
	struct tcp_synq_stats st;
	tcp_synq_get_stats(&st);
	size_t n = 0;
	bufprintf(buf, size, &n, "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows ListenDrops"
	    " TCPTimeWaitOverflow\n");
	bufprintf(buf, size, &n, "TcpExt: %llu %llu %llu %llu %llu %llu\n", U(st.syncookies_sent), U(st.syncookies_recv),
	    U(st.syncookies_failed), U(st.listen_overflows), U(st.listen_drops), U(tcp_timewait_overflows()));
	return n;
}

/* ---- /proc/net/arp ----
 * Linux's layout (net/ipv4/arp.c: arp_seq_show): a header line, then per neighbour its address
 * (%-16s), HW type 0x1 (Ethernet), flags 0x2 (ATF_COM: complete), the MAC, mask "*" and the
 * device. lwIP's table (etharp_get_entry) gives only complete entries, so the incomplete ones
 * Linux also lists (flags 0x0, MAC 00:00:00:00:00:00) are not shown; Ember makes no static (ATF_PERM)
 * entries. The table is the stack's: read in squeue context, under the stack lock. */
#define ARP_HEADER "IP address       HW type     Flags       HW address            Mask     Device\n"
#define ARPHRD_ETHER 1
#define ATF_COM 0x02

struct arp_show_req {
	char *buf;
	size_t size, n;
};

static void arp_show_fn(void *arg)
{
	struct arp_show_req *r = arg;
	bufprintf(r->buf, r->size, &r->n, ARP_HEADER);
	for (size_t i = 0; i < ARP_TABLE_SIZE; i++) {
		ip4_addr_t *ip;
		struct netif *nif;
		struct eth_addr *mac;
		if (!etharp_get_entry(i, &ip, &nif, &mac))
			continue;
		struct net_device *dev = stack_netif_dev(nif);
		char addr[IP4ADDR_STRLEN_MAX];
		ip4addr_ntoa_r(ip, addr, sizeof(addr));
		const uint8_t *m = mac->addr;
		char hw[18];
		snprintf(hw, sizeof(hw), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		bufprintf(r->buf, r->size, &r->n, "%-16s 0x%-10x0x%-10x%-17s     %-8s %s\n", addr, ARPHRD_ETHER, ATF_COM, hw,
			  "*", dev ? dev->name : "?");
	}
}

static size_t show_arp(char *buf, size_t size)
{
	struct arp_show_req r = { buf, size, 0 };
	if (stack_ready())
		squeue_call(squeue_local(), arp_show_fn, &r);
	else
		bufprintf(buf, size, &r.n, ARP_HEADER);
	return r.n;
}

/* ---- /proc/net/snmp6 ----
 * Linux's layout (net/ipv6/proc.c, snmp6_seq_show): one "Name<spaces>value" line per counter, the
 * name padded to 32 columns. The IPv6 and ICMPv6 counters lwIP keeps, under Linux's names (lwIP's
 * UDP counters do not tell the families apart: no Udp6 lines). Read without the stack lock. */

static size_t show_snmp6(char *buf, size_t size)
{
	const struct stats_proto *ip = &lwip_stats.ip6, *fr = &lwip_stats.ip6_frag, *ic = &lwip_stats.icmp6;
	const struct { const char *name; uint32_t v; } rows[] = {
		{ "Ip6InReceives", ip->recv }, { "Ip6InHdrErrors", ip->err + ip->lenerr },
		{ "Ip6InUnknownProtos", ip->proterr }, { "Ip6InDiscards", ip->drop },
		{ "Ip6OutRequests", ip->xmit }, { "Ip6OutNoRoutes", ip->rterr },
		{ "Ip6ReasmReqds", fr->recv }, { "Ip6ReasmFails", fr->drop }, { "Ip6FragCreates", fr->xmit },
		{ "Icmp6InMsgs", ic->recv }, { "Icmp6InErrors", ic->chkerr + ic->lenerr + ic->err },
		{ "Icmp6OutMsgs", ic->xmit },
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		bufprintf(buf, size, &n, "%-32s\t%u\n", rows[i].name, rows[i].v);
	return n;
}

/* ---- lwIP's protocol counters (monitor: netstat) ---- */

extern uint64_t ember_lwip_asserts, ember_lwip_unlocked_calls;

static void print_proto(const char *name, const struct stats_proto *p)
{
	printk("%-6s xmit %u recv %u fw %u drop %u chkerr %u lenerr %u memerr %u rterr %u proterr %u opterr %u err %u\n",
	       name, p->xmit, p->recv, p->fw, p->drop, p->chkerr, p->lenerr, p->memerr, p->rterr, p->proterr, p->opterr,
	       p->err);
}

void stack_print_stats(void)
{
	/* a snapshot without the stack lock: counters only, torn values are harmless */
	print_proto("link", &lwip_stats.link);
	print_proto("etharp", &lwip_stats.etharp);
	print_proto("ipfrag", &lwip_stats.ip_frag);
	print_proto("ip", &lwip_stats.ip);
	print_proto("icmp", &lwip_stats.icmp);
	print_proto("udp", &lwip_stats.udp);
	print_proto("tcp", &lwip_stats.tcp);
	printk("mem    avail %llu used %llu max %llu err %u\n", U(lwip_stats.mem.avail), U(lwip_stats.mem.used),
	       U(lwip_stats.mem.max), lwip_stats.mem.err);
	printk("lwip   asserts %llu unlocked-calls %llu\n", U(ember_lwip_asserts), U(ember_lwip_unlocked_calls));
	printk("tso    csum-left %llu\n", U(stack_tso_csum_left()));
}

void net_proc_init(void)
{
	if (proc_create("/proc/net/dev", show_net_dev) < 0 || proc_create("/proc/net/squeue", squeue_show) < 0 ||
	    proc_create("/proc/net/netstat", show_netstat) < 0 ||
	    proc_create("/proc/net/if_inet6", stack6_show_if_inet6) < 0 ||
	    proc_create("/proc/net/ipv6_route", stack6_show_ipv6_route) < 0 ||
	    proc_create("/proc/net/tcp6", tcp6_proc_show) < 0 || proc_create("/proc/net/udp6", udp6_proc_show) < 0 ||
	    proc_create("/proc/net/udp", udp4_proc_show) < 0 ||
	    proc_create("/proc/net/snmp6", show_snmp6) < 0 || proc_create("/proc/net/arp", show_arp) < 0)
		printk("net: cannot create the /proc files\n");
}
late_init(net_proc_init);
