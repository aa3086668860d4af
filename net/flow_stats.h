/* The flow-counter system call (net/flow_stats.c); the ABI is include/uapi/ember/netstat.h. */
#ifndef NET_FLOW_STATS_H
#define NET_FLOW_STATS_H
#include "kernel/types.h"
#include "ember/netstat.h"

long sys_ember_netstat(int what, uintptr_t ubuf, size_t size);
/* net/sock_tcp.c: up to max records of TCP sockets; returns how many exist. Thread context. */
size_t tcp_flow_stats(struct ember_flow_stat *out, size_t max);
/* TIME_WAIT connections dropped past the bound (net/sock_tcp.c trim_timewait): TcpExt's TCPTimeWaitOverflow */
uint64_t tcp_timewait_overflows(void);
/* /proc/net/tcp6 (net/sock_tcp.c) and /proc/net/udp6 (net/sock_udp.c) in Linux's formats. */
size_t tcp6_proc_show(char *buf, size_t size);
size_t udp6_proc_show(char *buf, size_t size);
size_t udp4_proc_show(char *buf, size_t size);        /* /proc/net/udp (net/sock_udp.c) */

#endif
