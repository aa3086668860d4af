/*
 * /proc/net/tcp in Linux's format (net/ipv4/tcp_ipv4.c tcp4_seq_show): a header, then one line
 * per IPv4 TCP socket, each padded to 149 characters: slot, local and remote address as the
 * 32-bit network-order value printed in hex (127.0.0.1 is 0100007F) with the port in host order,
 * the state (Linux's numbers: 01 ESTABLISHED ... 0A LISTEN), tx_queue:rx_queue (bytes not yet
 * acknowledged by the peer is not kept: 0; bytes received and unread), then timer fields, uid
 * and inode as zeros (Ember keeps no socket inode in the flow records). The records are the
 * flow counters' (net/flow_stats.h, tcp_flow_stats), taken at open. IPv6 sockets are not listed.
 */
#include "net/flow_stats.h"
#include "kernel/init.h"
#include "kernel/printk.h"
#include "fs/fs.h"
#include "mm/kmalloc.h"
#include "ember/netstat.h"

#define TCP_LINE_WIDTH 149                  /* Linux's TMPSZ - 1 */
#define TCP_PROC_MAX 1024                   /* sockets listed at most */

static void pad_line(char *buf, size_t size, size_t *n, size_t start)
{
	while (*n - start < TCP_LINE_WIDTH && *n + 1 < size)
		bufprintf(buf, size, n, " ");
	bufprintf(buf, size, n, "\n");
}

static size_t tcp_proc_show(char *buf, size_t size)
{
	size_t n = 0, start = 0;
	bufprintf(buf, size, &n, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
		  "   uid  timeout inode");
	pad_line(buf, size, &n, start);
	struct ember_flow_stat *fs = kmalloc(TCP_PROC_MAX * sizeof(*fs));
	if (!fs)
		return n;
	size_t cnt = tcp_flow_stats(fs, TCP_PROC_MAX);
	cnt = cnt < TCP_PROC_MAX ? cnt : TCP_PROC_MAX;
	for (size_t i = 0; i < cnt; i++) {
		struct ember_flow_stat *f = &fs[i];
		start = n;
		bufprintf(buf, size, &n, "%4u: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5u %8d %lu",
			  (unsigned)i, f->laddr, f->lport, f->raddr, f->rport, f->state, 0u, f->rx_queued, 0u, 0u,
			  0u, 0u, 0, 0ul);
		pad_line(buf, size, &n, start);
	}
	kfree(fs);
	return n;
}

static void tcp_proc_init(void)
{
	if (proc_create("/proc/net/tcp", tcp_proc_show) < 0)
		printk("net: cannot create /proc/net/tcp\n");
}
late_init(tcp_proc_init);
