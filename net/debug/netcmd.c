/*
 * Monitor commands for the network devices (until user-space tools exist):
 *   ifconfig [dev]                    (alias netdevs) one line per device plus its summed counters
 *   arping <dev> <a.b.c.d> [src]      ARP request from src (default 10.0.2.15, QEMU user networking's
 *                                     guest address); waits up to ARPING_TIMEOUT_MS for the reply
 *   txburst <dev> <count> [size...]   raw ETH_P_EXP broadcast frames, sizes cycling through the list
 *                                     (default 60..1514); prints the rate
 *   rxtypes [dev]                     receive counters by ethertype
 *   rxwait <dev> <count> [ms]         sleep until count ETH_P_EXP frames arrived; prints the rate
 *   netirq <dev> <cpu>                route the device's IRQ to another CPU
 *   ping [-q] [-c n] [-i ms] [-W ms] [-s bytes] <a.b.c.d>   ICMP echo from the kernel's stack
 *   netstat                           lwIP's protocol counters
 *   sqstat                            the squeues' counters (/proc/net/squeue)
 *   sqstress [items]                  squeue stress test (net/sqstress.c)
 *   tcpsink [port], tcpsend <addr> <port> <MiB> [n]   raw-API TCP before sockets (net/tcptest.c)
 * They run in the monitor thread (thread context: they may sleep, never holding a lock).
 */
#include "net/netdev.h"
#include "net/debug/rxsink.h"
#include "net/stack.h"
#include "net/debug/debug.h"
#include "kernel/init.h"
#include "net/ipconfig.h"
#include "kernel/irq.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/debug/monitor.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "kernel/timer.h"

#define ARPING_TIMEOUT_MS 2000
#define ARPING_RETRY_MS 500
#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_LEN 28
#define RXWAIT_DEFAULT_MS 60000
#define TXBURST_MIN ETH_ZLEN
#define TXBURST_SEQ_OFF ETH_HLEN       /* 32-bit big-endian sequence number after the header */
#define MAX_RX_TYPES 32
#define MAX_SIZES 8
#define PING_DEFAULT_COUNT 4
#define PING_DEFAULT_INTERVAL_MS 1000
#define PING_DEFAULT_TIMEOUT_MS 1000
#define PING_DEFAULT_SIZE 56
#define SQSTAT_BUF 4096

static const uint8_t default_src_ip[IPV4_ALEN] = { 10, 0, 2, 15 };
static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define U(x) ((unsigned long long)(x))

static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static bool parse_ipv4(const char *s, uint8_t ip[IPV4_ALEN])
{
	for (int i = 0; i < IPV4_ALEN; i++) {
		char *end;
		if (*s < '0' || *s > '9')
			return false;
		unsigned long v = strtoul(s, &end, 10);
		if (v > 255 || end == s || (i < IPV4_ALEN - 1 ? *end != '.' : *end != 0))
			return false;
		ip[i] = (uint8_t)v;
		s = end + 1;
	}
	return true;
}

static bool parse_num(const char *s, unsigned long *v)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	*v = strtoul(s, &end, 0);
	return *end == 0;
}

static struct net_device *get_dev(const char *name)
{
	struct net_device *d = netdev_get_by_name(name);
	if (!d)
		printk("no such device '%s'\n", name);
	return d;
}

static void print_counters(struct net_device *dev)
{
	struct netdev_stats s;
	netdev_get_stats(dev, &s);
	printk("  rx packets %llu bytes %llu dropped %llu errors %llu lro %llu gro %llu\n", U(s.rx_packets),
	       U(s.rx_bytes), U(s.rx_dropped), U(s.rx_errors), U(s.rx_lro), U(s.rx_gro));
	printk("  tx packets %llu bytes %llu dropped %llu errors %llu busy %llu tso %llu\n", U(s.tx_packets),
	       U(s.tx_bytes), U(s.tx_dropped), U(s.tx_errors), U(s.tx_busy), U(s.tx_tso));
	printk("  interrupts %llu polls %llu releases %llu\n", U(s.interrupts), U(s.polls), U(s.rx_releases));
}

/* The stack's view: address, mask, gateway, how configured. */
static void print_inet(struct net_device *dev)
{
	struct stack_ifinfo info;
	if (stack_if_info(dev, &info) < 0)
		return;
	if (!info.addr) {
		printk("  inet none%s\n", info.dhcp ? " (dhcp pending)" : "");
		return;
	}
	char a[16], g[16];
	ipv4_format(info.addr, a);
	ipv4_format(info.gw, g);
	printk("  inet %s/%d gw %s (%s)\n", a, ipv4_mask_len(info.mask), g,
	       info.loopback ? "loopback" : info.dhcp ? "dhcp" : "static");
}

static void show_dev(struct net_device *d)
{
	netdev_print(d);
	print_inet(d);
	print_counters(d);
}

static void cmd_ifconfig(int argc, char **argv)
{
	if (argc > 1) {
		struct net_device *d = get_dev(argv[1]);
		if (d)
			show_dev(d);
		return;
	}
	int n = 0;
	for (struct net_device *d = netdev_next(NULL); d; d = netdev_next(d), n++)
		show_dev(d);
	if (!n)
		printk("no network devices\n");
}

/* rate printing: frames and bytes over ns */
static void print_rate(uint64_t frames, uint64_t bytes, uint64_t ns)
{
	if (!ns)
		ns = 1;
	uint64_t fps = frames * NSEC_PER_SEC / ns;
	uint64_t mbit10 = bytes * 80000 / ns;          /* tenths of Mbit/s = bits * 10 / us */
	printk("%llu frames %llu bytes in %llu.%06llu s: %llu frames/s %llu.%llu Mbit/s\n", U(frames), U(bytes),
	       U(ns / NSEC_PER_SEC), U(ns % NSEC_PER_SEC / 1000), U(fps), U(mbit10 / 10), U(mbit10 % 10));
}

static void cmd_arping(int argc, char **argv)
{
	uint8_t target[IPV4_ALEN], src[IPV4_ALEN];
	memcpy(src, default_src_ip, IPV4_ALEN);
	if (argc < 3 || !parse_ipv4(argv[2], target) || (argc > 3 && !parse_ipv4(argv[3], src))) {
		printk("usage: arping <dev> <a.b.c.d> [source a.b.c.d]\n");
		return;
	}
	struct net_device *dev = get_dev(argv[1]);
	if (!dev)
		return;
	uint8_t f[ETH_ZLEN];
	memset(f, 0, sizeof(f));
	memcpy(f, broadcast, ETH_ALEN);
	memcpy(f + ETH_ALEN, dev->mac, ETH_ALEN);
	put_be16(f + 2 * ETH_ALEN, ETH_P_ARP);
	uint8_t *a = f + ETH_HLEN;
	put_be16(a, ARP_HTYPE_ETHER);
	put_be16(a + 2, ETH_P_IP);
	a[4] = ETH_ALEN;
	a[5] = IPV4_ALEN;
	put_be16(a + 6, ARP_OP_REQUEST);
	memcpy(a + 8, dev->mac, ETH_ALEN);
	memcpy(a + 14, src, IPV4_ALEN);
	memcpy(a + 24, target, IPV4_ALEN);

	printk("arping %s %s from %u.%u.%u.%u\n", dev->name, argv[2], src[0], src[1], src[2], src[3]);
	uint64_t seq0 = arp_reply_seq(), t0 = time_ns();
	uint64_t deadline = t0 + ARPING_TIMEOUT_MS * NSEC_PER_MSEC;
	struct arp_reply r;
	bool found = false;
	int sent = 0;
	while (!found) {
		uint64_t now = time_ns();
		if (now >= deadline)
			break;
		int err = netdev_xmit(dev, f, ETH_HLEN + ARP_LEN, true);
		if (err < 0) {
			printk("arping: transmit failed (%d)\n", err);
			break;
		}
		sent++;
		uint64_t wait = MIN(deadline - now, (uint64_t)ARPING_RETRY_MS * NSEC_PER_MSEC);
		wait_event_timeout(&arp_wq, arp_reply_find(target, dev->ifindex, seq0, &r), wait);
		found = arp_reply_find(target, dev->ifindex, seq0, &r);
	}
	if (found) {
		uint64_t us = (r.ns - t0) / 1000;
		printk("arp reply from %u.%u.%u.%u is-at %02x:%02x:%02x:%02x:%02x:%02x in %llu.%03llu ms (%d sent)\n",
		       r.ip[0], r.ip[1], r.ip[2], r.ip[3], r.mac[0], r.mac[1], r.mac[2], r.mac[3], r.mac[4], r.mac[5],
		       U(us / 1000), U(us % 1000), sent);
	} else {
		printk("arping: no reply from %s within %d ms (%d sent)\n", argv[2], ARPING_TIMEOUT_MS, sent);
	}
	netdev_print(dev);
	print_counters(dev);
}

static void cmd_txburst(int argc, char **argv)
{
	unsigned long count, sizes[MAX_SIZES];
	int nsizes = 0;
	if (argc < 3 || !parse_num(argv[2], &count)) {
		printk("usage: txburst <dev> <count> [size...]  (sizes %d..mtu+%d, default cycling 60..1514)\n",
		       ETH_HLEN, ETH_HLEN);
		return;
	}
	struct net_device *dev = get_dev(argv[1]);
	if (!dev)
		return;
	for (int i = 3; i < argc && nsizes < MAX_SIZES; i++) {
		if (!parse_num(argv[i], &sizes[nsizes]) || sizes[nsizes] < ETH_HLEN + 4 ||
		    sizes[nsizes] > dev->mtu + ETH_HLEN) {
			printk("txburst: bad size '%s'\n", argv[i]);
			return;
		}
		nsizes++;
	}
	size_t max = dev->mtu + ETH_HLEN;
	uint8_t *buf = kmalloc(max);
	if (!buf) {
		printk("txburst: out of memory\n");
		return;
	}
	for (size_t i = 0; i < max; i++)
		buf[i] = (uint8_t)i;
	memcpy(buf, broadcast, ETH_ALEN);
	memcpy(buf + ETH_ALEN, dev->mac, ETH_ALEN);
	put_be16(buf + 2 * ETH_ALEN, ETH_P_EXP);
	struct netdev_stats before, after;
	netdev_get_stats(dev, &before);
	uint64_t bytes = 0, sent = 0, t0 = time_ns();
	int err = 0;
	for (unsigned long i = 0; i < count; i++) {
		size_t len = nsizes ? sizes[i % nsizes] : TXBURST_MIN + i % (ETH_FRAME_LEN - TXBURST_MIN + 1);
		len = MIN(len, max);
		buf[TXBURST_SEQ_OFF] = (uint8_t)(i >> 24);
		buf[TXBURST_SEQ_OFF + 1] = (uint8_t)(i >> 16);
		buf[TXBURST_SEQ_OFF + 2] = (uint8_t)(i >> 8);
		buf[TXBURST_SEQ_OFF + 3] = (uint8_t)i;
		err = netdev_xmit(dev, buf, len, true);
		if (err < 0)
			break;
		sent++;
		bytes += MAX(len, (size_t)ETH_ZLEN);
	}
	uint64_t ns = time_ns() - t0;
	kfree(buf);
	netdev_get_stats(dev, &after);
	printk("txburst %s: ", dev->name);
	print_rate(sent, bytes, ns);
	if (err < 0)
		printk("txburst: stopped by error %d after %llu frames\n", err, U(sent));
	printk("txburst %s: busy %llu interrupts %llu polls %llu\n", dev->name, U(after.tx_busy - before.tx_busy),
	       U(after.interrupts - before.interrupts), U(after.polls - before.polls));
}

static void print_types(struct net_device *dev)
{
	struct netdev_rx_type_stats t[MAX_RX_TYPES];
	int n = netdev_rx_types(dev, t, MAX_RX_TYPES);
	for (int i = 0; i < n; i++)
		printk("%s type %#06x frames %llu bytes %llu\n", dev->name, t[i].type, U(t[i].frames), U(t[i].bytes));
	if (!n)
		printk("%s no frames\n", dev->name);
}

static void cmd_rxtypes(int argc, char **argv)
{
	if (argc > 1) {
		struct net_device *d = get_dev(argv[1]);
		if (d)
			print_types(d);
		return;
	}
	for (struct net_device *d = netdev_next(NULL); d; d = netdev_next(d))
		print_types(d);
}

static void cmd_rxwait(int argc, char **argv)
{
	unsigned long count, ms = RXWAIT_DEFAULT_MS;
	if (argc < 3 || !parse_num(argv[2], &count) || (argc > 3 && !parse_num(argv[3], &ms))) {
		printk("usage: rxwait <dev> <count> [timeout-ms]\n");
		return;
	}
	struct net_device *dev = get_dev(argv[1]);
	if (!dev)
		return;
	struct netdev_stats before, after;
	struct rx_watch_result r;
	netdev_get_stats(dev, &before);
	if (rx_watch_start(dev, count) < 0) {
		printk("rxwait: busy\n");
		return;
	}
	printk("rxwait %s: waiting for %lu frames\n", dev->name, count);
	int err = rx_watch_wait(ms * NSEC_PER_MSEC, &r);
	netdev_get_stats(dev, &after);
	printk("rxwait %s: %s ", dev->name, err ? "timeout" : "done");
	print_rate(r.frames, r.bytes, r.last_ns - r.first_ns);
	printk("rxwait %s: interrupts %llu polls %llu errors %llu dropped %llu\n", dev->name,
	       U(after.interrupts - before.interrupts), U(after.polls - before.polls),
	       U(after.rx_errors - before.rx_errors), U(after.rx_dropped - before.rx_dropped));
}

static void cmd_netirq(int argc, char **argv)
{
	unsigned long cpu;
	if (argc < 3 || !parse_num(argv[2], &cpu)) {
		printk("usage: netirq <dev> <cpu>\n");
		return;
	}
	struct net_device *dev = get_dev(argv[1]);
	if (!dev)
		return;
	if (netdev_set_irq_affinity(dev, (int)cpu) < 0)
		printk("netirq: cannot route %s to cpu %lu\n", dev->name, cpu);
	netdev_print(dev);
}

static void cmd_ping(int argc, char **argv)
{
	unsigned long count = PING_DEFAULT_COUNT, interval = PING_DEFAULT_INTERVAL_MS;
	unsigned long timeout = PING_DEFAULT_TIMEOUT_MS, size = PING_DEFAULT_SIZE;
	const char *target = NULL;
	bool quiet = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q")) {
			quiet = true;
			continue;
		}
		unsigned long *opt = !strcmp(argv[i], "-c") ? &count : !strcmp(argv[i], "-i") ? &interval :
				     !strcmp(argv[i], "-W") ? &timeout : !strcmp(argv[i], "-s") ? &size : NULL;
		if (opt) {
			if (i + 1 >= argc || !parse_num(argv[i + 1], opt))
				goto usage;
			i++;
		} else if (!target) {
			target = argv[i];
		} else {
			goto usage;
		}
	}
	uint32_t dst;
	if (target && strchr(target, ':') && count) {
		stack_ping6(target, (int)MIN(count, 100000UL), (unsigned)MIN(interval, 60000UL),
			    (unsigned)MIN(timeout, 60000UL), (unsigned)MIN(size, 65535UL), quiet);
		return;
	}
	if (!target || !ipv4_parse(target, strlen(target), &dst) || !count)
		goto usage;
	stack_ping(dst, (int)MIN(count, 100000UL), (unsigned)MIN(interval, 60000UL), (unsigned)MIN(timeout, 60000UL),
		   (unsigned)MIN(size, 65535UL), quiet);
	return;
usage:
	printk("usage: ping [-q] [-c count] [-i interval-ms] [-W timeout-ms] [-s bytes] <a.b.c.d | ipv6>\n");
}

static void cmd_netstat(int argc __unused, char **argv __unused) { stack_print_stats(); }

static void cmd_sqstat(int argc __unused, char **argv __unused)
{
	char *buf = kmalloc(SQSTAT_BUF);
	if (!buf)
		return;
	size_t n = squeue_show(buf, SQSTAT_BUF);
	for (size_t i = 0; i < n;) {             /* a line at a time: printk formats at most 512 bytes */
		size_t j = i;
		while (j < n && buf[j] != '\n')
			j++;
		buf[j] = 0;
		printk("%s\n", buf + i);
		i = j + 1;
	}
	kfree(buf);
}

static void net_cmds_init(void)
{
	monitor_add_command("ifconfig", "network devices and counters [dev]", cmd_ifconfig);
	monitor_add_command("netdevs", "same as ifconfig", cmd_ifconfig);
	monitor_add_command("arping", "arping <dev> <a.b.c.d> [src]: ARP request, wait for the reply", cmd_arping);
	monitor_add_command("txburst", "txburst <dev> <count> [size...]: raw 0x88b5 frames", cmd_txburst);
	monitor_add_command("rxtypes", "receive counters by ethertype [dev]", cmd_rxtypes);
	monitor_add_command("rxwait", "rxwait <dev> <count> [ms]: wait for 0x88b5 frames, print rate", cmd_rxwait);
	monitor_add_command("netirq", "netirq <dev> <cpu>: route a device's interrupt", cmd_netirq);
	monitor_add_command("ping", "ping [-q] [-c n] [-i ms] [-W ms] [-s bytes] <a.b.c.d>: ICMP echo", cmd_ping);
	monitor_add_command("netstat", "lwIP protocol counters", cmd_netstat);
	monitor_add_command("sqstat", "squeue counters (as /proc/net/squeue)", cmd_sqstat);
	monitor_add_command("sqstress", "sqstress [items]: cross-CPU squeue stress, checks order", cmd_sqstress);
	monitor_add_command("tcpsink", "tcpsink [port]: in-kernel TCP discard server (no port: counters)", cmd_tcpsink);
	monitor_add_command("tcpsend", "tcpsend <a.b.c.d|IPv6> <port> <MiB> [conns]: in-kernel TCP sender", cmd_tcpsend);
}
debug_init(net_cmds_init);
