/*
 * The flow-counter system call, shared by the kernel (net/flow_stats.c) and user tools
 * (user/flowstat.c, user/tests/sock_stats.c): Ember's own number in the range Linux leaves unused.
 *
 *   long ember_netstat(int what, void *buf, size_t size)
 *     what = EMBER_NETSTAT_FLOWS:    one struct ember_flow_stat per TCP socket (listeners included)
 *     what = EMBER_NETSTAT_SQUEUES:  one struct ember_sq_stat per squeue (per CPU)
 *   Fills as many whole records as fit in size bytes and returns how many records exist (so a
 *   caller with a short buffer learns the size it needs; size 0 with buf NULL just counts).
 *   EINVAL for another `what`, EFAULT for a bad buffer. Counters are read while traffic runs,
 *   without stopping it: each is exact, a record as a whole is not a snapshot.
 * Include after <stdint.h> (user) or kernel/types.h (kernel).
 */
#ifndef EMBER_NETSTAT_ABI_H
#define EMBER_NETSTAT_ABI_H

#define SYS_ember_netstat 500
#define EMBER_NETSTAT_FLOWS 1
#define EMBER_NETSTAT_SQUEUES 2

struct ember_flow_stat {
	uint32_t laddr, raddr;       /* IPv4, network byte order (as in struct sockaddr_in); 0 for IPv6 */
	uint16_t lport, rport;       /* host byte order */
	uint8_t proto;               /* 6 = TCP */
	uint8_t state;               /* Linux's TCP state numbers: 1 ESTABLISHED ... 10 LISTEN */
	uint8_t cpu;                 /* the squeue (CPU) the connection lives on */
	uint8_t family;              /* the socket's: AF_INET (2) or AF_INET6 (10) */
	uint32_t rx_queued;          /* bytes received, not yet read */
	uint32_t tx_space;           /* free send buffer */
	uint64_t bytes_in;           /* payload bytes received from the peer */
	uint64_t bytes_out;          /* payload bytes the peer acknowledged */
	uint64_t segs_in;            /* receive callbacks (data deliveries) */
	uint64_t sends;              /* writes handed to TCP */
	uint8_t laddr6[16], raddr6[16];  /* both families as IPv6 (IPv4 v4-mapped), network order */
};

struct ember_sq_stat {
	uint32_t cpu, queue_len;
	uint64_t inline_entries, queued_entries, drains, handoffs, worker_runs, items, max_queue;
	uint64_t lock_ns, lock_max_ns, lock_wait_ns, lock_contended;
};

#endif
