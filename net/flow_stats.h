/* The flow-counter system call (net/flow_stats.c); the ABI is include/uapi/ember/netstat.h. */
#ifndef NET_FLOW_STATS_H
#define NET_FLOW_STATS_H
#include "kernel/types.h"
#include "ember/netstat.h"

long sys_ember_netstat(int what, uintptr_t ubuf, size_t size);
/* net/sock_tcp.c: up to max records of TCP sockets; returns how many exist. Thread context. */
size_t tcp_flow_stats(struct ember_flow_stat *out, size_t max);

#endif
