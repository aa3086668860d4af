/*
 * flowstat: print Ember's flow counters (the ember_netstat system call, include/uapi/ember/netstat.h).
 *   flowstat            every TCP socket: addresses, state, squeue CPU, bytes in/out, queues
 *   flowstat -s         the per-CPU squeue counters
 *   flowstat -i MS N    repeat N times, MS milliseconds apart (watch traffic while it runs)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "ember/netstat.h"

#define MAX_RECORDS 1024

static const char *state_name(unsigned s)
{
	static const char *names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
				       "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING" };
	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static int show_flows(void)
{
	static struct ember_flow_stat f[MAX_RECORDS];
	long n = syscall(SYS_ember_netstat, EMBER_NETSTAT_FLOWS, f, sizeof(f));
	if (n < 0) {
		perror("ember_netstat");
		return 1;
	}
	printf("%-21s %-21s %-11s %3s %12s %12s %8s %8s\n", "local", "remote", "state", "cpu", "bytes_in",
	       "bytes_out", "rx_q", "tx_space");
	for (long i = 0; i < n && i < MAX_RECORDS; i++) {
		char la[64], ra[64], ip[INET6_ADDRSTRLEN];
		if (f[i].family == AF_INET6) {         /* IPv6 flows (IPv4 peers of IPv6 sockets v4-mapped) */
			snprintf(la, sizeof(la), "[%s]:%u", inet_ntop(AF_INET6, f[i].laddr6, ip, sizeof(ip)), f[i].lport);
			snprintf(ra, sizeof(ra), "[%s]:%u", inet_ntop(AF_INET6, f[i].raddr6, ip, sizeof(ip)), f[i].rport);
		} else {
			snprintf(la, sizeof(la), "%s:%u", inet_ntop(AF_INET, &f[i].laddr, ip, sizeof(ip)), f[i].lport);
			snprintf(ra, sizeof(ra), "%s:%u", inet_ntop(AF_INET, &f[i].raddr, ip, sizeof(ip)), f[i].rport);
		}
		printf("%-21s %-21s %-11s %3u %12llu %12llu %8u %8u\n", la, ra, state_name(f[i].state), f[i].cpu,
		       (unsigned long long)f[i].bytes_in, (unsigned long long)f[i].bytes_out, f[i].rx_queued,
		       f[i].tx_space);
	}
	return 0;
}

static int show_squeues(void)
{
	struct ember_sq_stat s[64];
	long n = syscall(SYS_ember_netstat, EMBER_NETSTAT_SQUEUES, s, sizeof(s));
	if (n < 0) {
		perror("ember_netstat");
		return 1;
	}
	printf("%3s %10s %10s %8s %8s %8s %10s %6s %10s %10s\n", "cpu", "inline", "queued", "drains", "handoff",
	       "worker", "items", "maxq", "lock_ms", "wait_ms");
	for (long i = 0; i < n && i < 64; i++)
		printf("%3u %10llu %10llu %8llu %8llu %8llu %10llu %6llu %10.1f %10.1f\n", s[i].cpu,
		       (unsigned long long)s[i].inline_entries, (unsigned long long)s[i].queued_entries,
		       (unsigned long long)s[i].drains, (unsigned long long)s[i].handoffs,
		       (unsigned long long)s[i].worker_runs, (unsigned long long)s[i].items,
		       (unsigned long long)s[i].max_queue, s[i].lock_ns / 1e6, s[i].lock_wait_ns / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	bool squeues = false;
	int interval = 0, count = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s"))
			squeues = true;
		else if (!strcmp(argv[i], "-i") && i + 2 < argc) {
			interval = atoi(argv[++i]);
			count = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: flowstat [-s] [-i MS N]\n");
			return 2;
		}
	}
	for (int k = 0; k < count; k++) {
		if (k) {
			struct timespec ts = { interval / 1000, (interval % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		if ((squeues ? show_squeues() : show_flows()) != 0)
			return 1;
	}
	return 0;
}
