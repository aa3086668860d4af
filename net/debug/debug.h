/* The test kernel's network diagnostics (net/debug/): monitor commands and what they share. */
#ifndef NET_DEBUG_DEBUG_H
#define NET_DEBUG_DEBUG_H
#include "kernel/types.h"

/* Kernel ping (the monitor's `ping`, net/debug/ping.c): count echo requests of datalen bytes to dst
 * (host order), interval_ms apart, each waiting up to timeout_ms; prints a line per reply (unless
 * quiet) and a summary with the median round trip. Returns the number of replies. Thread context. */
int stack_ping(uint32_t dst, int count, unsigned interval_ms, unsigned timeout_ms, unsigned datalen, bool quiet);
/* The same over IPv6 (dst: a global or unique-local address in text). */
int stack_ping6(const char *dst, int count, unsigned interval_ms, unsigned timeout_ms, unsigned datalen, bool quiet);

void cmd_sqstress(int argc, char **argv);     /* net/debug/sqstress.c: the squeue stress test */
void cmd_tcpsink(int argc, char **argv);      /* net/debug/tcptest.c: raw-API TCP discard server */
void cmd_tcpsend(int argc, char **argv);      /* net/debug/tcptest.c: raw-API TCP sender */

#endif
