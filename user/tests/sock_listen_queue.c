/*
 * A listener's accept queue and /proc/net/netstat, over 127.0.0.1 (Linux's behaviour with
 * net.ipv4.tcp_abort_on_overflow=0, the default):
 *   - /proc/net/netstat has a "TcpExt:" line of names and a "TcpExt:" line of as many numbers,
 *     and the names include SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows
 *     ListenDrops
 *   - listen(fd, 1): two connections complete the handshake before anyone accepts (the queue is
 *     full only when it holds more than the backlog); a third one's SYN is dropped, so its
 *     non-blocking connect is still in progress half a second later, and ListenOverflows and
 *     ListenDrops grew; once accept() takes one, the third connects (on its SYN retransmission)
 *     and all three are accepted, in order
 * (Under qemu-user the counters are the host's: only their growth is checked.)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include "sockutil.h"

#define NETSTAT_FIELDS 5
static const char *const fields[NETSTAT_FIELDS] = { "SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed",
						    "ListenOverflows", "ListenDrops" };

/* The TcpExt counters named in fields (into v); false when the file or a field is missing or the
 * two lines do not pair up. */
static bool tcpext(long long v[NETSTAT_FIELDS])
{
	FILE *f = fopen("/proc/net/netstat", "r");
	if (!f)
		return false;
	static char names[16384], values[16384];
	bool ok = fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f) &&
		  !strncmp(names, "TcpExt:", 7) && !strncmp(values, "TcpExt:", 7);
	fclose(f);
	if (!ok)
		return false;
	char *sn, *sv;
	char *n = strtok_r(names + 7, " \n", &sn), *val = strtok_r(values + 7, " \n", &sv);
	int found = 0;
	for (; n && val; n = strtok_r(NULL, " \n", &sn), val = strtok_r(NULL, " \n", &sv)) {
		for (int i = 0; i < NETSTAT_FIELDS; i++)
			if (!strcmp(n, fields[i])) {
				v[i] = atoll(val);
				found |= 1 << i;
			}
	}
	return !n && !val && found == (1 << NETSTAT_FIELDS) - 1;
}

static int connect_nb(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = lo_addr(port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Has fd's non-blocking connect completed without error within ms? */
static bool connected_within(int fd, int ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	if (poll(&p, 1, ms) != 1)
		return false;
	int err = -1;
	socklen_t len = sizeof(err);
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

static void test_netstat_layout(void)
{
	long long v[NETSTAT_FIELDS];
	CHECK("proc_net_netstat_tcpext", tcpext(v), "no paired TcpExt lines with %s ... %s", fields[0],
	      fields[NETSTAT_FIELDS - 1]);
}

static void test_accept_queue_overflow(void)
{
	enum { N = 3, OVERFLOW_WAIT_MS = 500, RETRY_WAIT_MS = 8000, SETTLE_MS = 100 };
	long long before[NETSTAT_FIELDS], after[NETSTAT_FIELDS];
	bool have = tcpext(before);
	uint16_t port = 0;
	int l = tcp_listener(&port, 1);
	int c[N];
	uint16_t cport[N];
	for (int i = 0; i < N; i++) {
		c[i] = connect_nb(port);
		cport[i] = c[i] >= 0 ? local_port(c[i]) : 0;
		if (i < N - 1) {
			CHECK("backlog_1_queues_two", connected_within(c[i], 5000), "connection %d did not complete", i);
			sleep_ms(SETTLE_MS);             /* the listener has taken its final ACK */
		}
	}
	CHECK("third_syn_dropped_while_queue_full", !connected_within(c[N - 1], OVERFLOW_WAIT_MS),
	      "the third connection completed although two were waiting for accept()");
	have = have && tcpext(after);
	CHECK("listen_overflows_counted", have && after[3] > before[3] && after[4] > before[4],
	      "ListenOverflows %lld -> %lld, ListenDrops %lld -> %lld", have ? before[3] : -1, have ? after[3] : -1,
	      have ? before[4] : -1, have ? after[4] : -1);
	int matched = 0;
	for (int i = 0; i < N; i++) {
		if (i == 1)
			CHECK("third_connects_once_room", connected_within(c[N - 1], RETRY_WAIT_MS),
			      "the third connection did not complete after accept() made room");
		struct sockaddr_in pa;
		socklen_t len = sizeof(pa);
		int s = accept(l, (struct sockaddr *)&pa, &len);
		if (s >= 0 && ntohs(pa.sin_port) == cport[i])
			matched++;
		if (s >= 0)
			close(s);
	}
	CHECK("all_accepted_in_order", matched == N, "matched %d of %d", matched, N);
	for (int i = 0; i < N; i++)
		if (c[i] >= 0)
			close(c[i]);
	close(l);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	test_netstat_layout();
	test_accept_queue_overflow();
	return t_finish();
}
