/*
 * Network benchmarks through BSD sockets, measured the way iperf3 and netperf do (make bench runs
 * them inside Ember over 127.0.0.1 and, for reference, under qemu-riscv64-static on the host; see
 * bench/bench_sock.py). Prints "bench NAME VALUE UNIT" lines and exits 0 when every test ran.
 *
 *   netbench [-t SECONDS] [TEST [ARG]] ...   loopback tests, each SECONDS long (3); no TEST = all
 *     tcp [FLOWS]     TCP stream, 128 KiB writes and reads (iperf3's default), FLOWS connections
 *                     (1; "all" runs 1 and 4), receiver side              -> tcp_stream_FLOWS Mbit/s
 *     udp [SIZE]      UDP stream, SIZE-byte datagrams (1024) sent as fast as possible, receiver
 *                     side, and the share the receiver never got   -> udp_stream Mbit/s, _loss %
 *     tcp_rr          64-byte request, 64-byte response on one connection      -> tcp_rr trans/s
 *     tcp_crr         connect, 64-byte request/response, close                -> tcp_crr trans/s
 *     udp_rr          64-byte request/response datagrams                      -> udp_rr trans/s
 *     netperf_tcp     netperf TCP_STREAM -s 16k -S 16k -m 1k -M 1k   -> netperf_tcp_stream Mbit/s
 *     netperf_udp     netperf UDP_STREAM -s 16k -S 16k -m 1k -M 1k   -> netperf_udp_stream Mbit/s
 *   netbench server PORT                                  TCP sink/source on 0.0.0.0:PORT, forever;
 *                                                          after each connection it prints
 *                                                          "netbench: served SEND|RECV bytes B
 *                                                          interrupts I" (device interrupts,
 *                                                          all CPUs, from /proc/interrupts)
 *   netbench client ADDR PORT SECONDS send|recv [FLOWS]   against a server        -> tcp_send_FLOWS
 *                                                          or tcp_recv_FLOWS Mbit/s, receiver side
 *
 * Each loopback test runs in a child process with a watchdog (alarm), so a test that hangs or
 * crashes is reported on stderr ("netbench: NAME failed ...") and the others still run; the exit
 * status is then 1. Server and clients are separate processes (fork), with a thread per flow.
 * Timing is CLOCK_MONOTONIC; every socket blocks; nothing polls or sleeps.
 *
 * Stream protocol (tcp, netperf_tcp, server/client mode). The client connects and writes 5 bytes:
 *   "SEND\n"  then sends data until it is done and shuts down its writing side; the server reads
 *             and discards everything, and at EOF answers one line
 *             "OK <bytes> <t_first> <t_eof>\n" (decimal byte count; seconds on the server's
 *             monotonic clock when the first data arrived and when EOF did) and closes. The client
 *             computes receiver-side throughput from the server's figures; for several flows,
 *             sum(bytes) / (max t_eof - min t_first), like iperf3's receiver summary.
 *   "RECV\n"  the server sends 128 KiB writes until the connection fails (the client closes it
 *             after SECONDS counted from its first received byte; it is the receiver).
 * UDP stream: each datagram starts with a 64-bit sequence number (1, 2, ...); UINT64_MAX marks the
 * end. The sender reports its count of accepted datagrams through a pipe and repeats the end
 * marker until the receiver acknowledges through another pipe (the marker may be dropped too).
 * RR tests echo fixed 64-byte messages; UDP_RR numbers them and resends after 1 s of silence.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "bench.h"
#include "ember/netstat.h"

#define STREAM_BUF (128 << 10)      /* iperf3's default TCP block */
#define RR_SIZE 64
#define UDP_SIZE 1024
#define NP_BUF (16 << 10)           /* netperf -s 16k -S 16k */
#define NP_MSG 1024                 /* netperf -m 1k -M 1k */
#define MAX_FLOWS 64
#define END_SEQ UINT64_MAX

static double duration = 3.0;
static const char *test_name = "netbench";
static pid_t kids[8];
static int nkids;

static int fail(const char *what)
{
	fprintf(stderr, "netbench: %s: %s: %s\n", test_name, what, strerror(errno));
	return -1;
}

static int failx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "netbench: %s: ", test_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

/* Read exactly n bytes unless EOF comes first: returns the count read, -1 on an error. */
static ssize_t readn(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += r;
	}
	return got;
}

static int writen(int fd, const void *buf, size_t n)
{
	while (n) {
		ssize_t r = write(fd, buf, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf = (const char *)buf + r;
		n -= r;
	}
	return 0;
}

static void set_bufs(int fd, int size)
{
	if (size <= 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0)
		fail("setsockopt SO_SNDBUF (continuing with the default)");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		fail("setsockopt SO_RCVBUF (continuing with the default)");
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A bound socket (TCP: listening) at *a; port 0 picks one and writes it back into *a. */
static int bound_socket(int type, struct sockaddr_in *a, int bufsize)
{
	int fd = socket(AF_INET, type, 0);
	if (fd < 0)
		return fail("socket");
	int one = 1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_bufs(fd, bufsize);
	socklen_t len = sizeof(*a);
	if (bind(fd, (struct sockaddr *)a, sizeof(*a)) < 0) {
		fail("bind");
	} else if (type == SOCK_STREAM && listen(fd, 128) < 0) {
		fail("listen");
	} else if (getsockname(fd, (struct sockaddr *)a, &len) < 0) {
		fail("getsockname");
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

static int connected_socket(int type, const struct sockaddr_in *a, int bufsize)
{
	int fd = socket(AF_INET, type, 0);
	if (fd < 0)
		return fail("socket");
	set_bufs(fd, bufsize);
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0) {
		fail("connect");
		close(fd);
		return -1;
	}
	return fd;
}

/* Child processes of the running test: killed by reap() or by the watchdog. */
static pid_t spawn(void (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t p = fork();
	if (p < 0)
		return fail("fork");
	if (p == 0) {
		fn(arg);
		_exit(0);
	}
	if (nkids < (int)(sizeof(kids) / sizeof(kids[0])))
		kids[nkids++] = p;
	return p;
}

static void reap(void)
{
	for (int i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	nkids = 0;
}

static void watchdog(int sig)
{
	(void)sig;
	static const char msg[] = "netbench: watchdog: the test took too long, killing it\n";
	write(2, msg, sizeof(msg) - 1);
	for (int i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	_exit(124);
}

/* ---------------------------------------------------------------- stream server and clients */

struct conn { int fd, msg; };

/* Device interrupts so far, summed over CPUs: /proc/interrupts' numbered rows except the console's
 * (the UART's). -1 when it cannot be read (under qemu-riscv64-static it is the host's file). */
static long long device_interrupts(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	char line[256];
	long long sum = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		strtol(p, &end, 10);
		if (end == p || *end != ':' || strstr(line, "uart"))
			continue;
		for (p = end + 1;;) {
			long long v = strtoll(p, &end, 10);
			if (end == p)
				break;
			sum += v;
			p = end;
		}
	}
	fclose(f);
	return sum;
}

static void *serve_conn(void *arg)
{
	struct conn c = *(struct conn *)arg;
	free(arg);
	char cmd[5], *buf = malloc(STREAM_BUF);
	long long irq0 = device_interrupts();
	if (buf && readn(c.fd, cmd, 5) == 5) {
		if (!memcmp(cmd, "SEND\n", 5)) {
			unsigned long long bytes = 0;
			double t0 = 0;
			ssize_t r;
			while ((r = read(c.fd, buf, c.msg)) != 0) {
				if (r < 0) {
					if (errno == EINTR)
						continue;
					break;
				}
				if (!bytes)
					t0 = now();
				bytes += r;
			}
			char line[96];
			int n = snprintf(line, sizeof(line), "OK %llu %.6f %.6f\n", bytes, t0, now());
			printf("netbench: served SEND bytes %llu interrupts %lld\n", bytes, device_interrupts() - irq0);
			fflush(stdout);
			writen(c.fd, line, n);
		} else if (!memcmp(cmd, "RECV\n", 5)) {
			unsigned long long bytes = 0;
			memset(buf, 0x5a, STREAM_BUF);
			while (writen(c.fd, buf, c.msg) == 0)
				bytes += c.msg;
			printf("netbench: served RECV bytes %llu interrupts %lld\n", bytes, device_interrupts() - irq0);
			fflush(stdout);
		}
	}
	free(buf);
	close(c.fd);
	return NULL;
}

/* Accept forever; a detached thread per connection, reading and writing msg bytes at a time. */
static void serve(int lfd, int msg)
{
	signal(SIGPIPE, SIG_IGN);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 << 10);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			fail("accept");
			_exit(1);
		}
		struct conn *c = malloc(sizeof(*c));
		c->fd = fd;
		c->msg = msg;
		pthread_t t;
		if (pthread_create(&t, &at, serve_conn, c))
			serve_conn(c);
	}
}

struct serve_args { int lfd, msg; };

static void serve_child(void *arg)
{
	struct serve_args *s = arg;
	serve(s->lfd, s->msg);
}

struct flow {
	struct sockaddr_in addr;
	int send, msg, bufsize;
	double secs;
	unsigned long long bytes;
	double t0, t1;          /* receiver's clock: first data, end */
	int err;
};

static void *flow_send(void *arg)
{
	struct flow *f = arg;
	char *buf = malloc(STREAM_BUF);
	int fd = connected_socket(SOCK_STREAM, &f->addr, f->bufsize);
	f->err = 1;
	if (fd < 0 || !buf)
		goto out;
	memset(buf, 0xa5, STREAM_BUF);
	if (writen(fd, "SEND\n", 5) < 0) {
		fail("write");
		goto out;
	}
	double end = now() + f->secs;
	size_t since = 0;
	for (;;) {
		if (writen(fd, buf, f->msg) < 0) {
			fail("write");
			goto out;
		}
		if ((since += f->msg) >= STREAM_BUF) {   /* look at the clock every 128 KiB */
			since = 0;
			if (now() >= end)
				break;
		}
	}
	if (shutdown(fd, SHUT_WR) < 0) {
		fail("shutdown");
		goto out;
	}
	char line[128];
	ssize_t n = readn(fd, line, sizeof(line) - 1);
	line[n > 0 ? n : 0] = 0;
	if (sscanf(line, "OK %llu %lf %lf", &f->bytes, &f->t0, &f->t1) != 3) {
		failx("bad answer from the server: \"%s\"", line);
		goto out;
	}
	f->err = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static void *flow_recv(void *arg)
{
	struct flow *f = arg;
	char *buf = malloc(STREAM_BUF);
	int fd = connected_socket(SOCK_STREAM, &f->addr, f->bufsize);
	f->err = 1;
	if (fd < 0 || !buf)
		goto out;
	if (writen(fd, "RECV\n", 5) < 0) {
		fail("write");
		goto out;
	}
	double end = 0;
	size_t since = 0;
	for (;;) {
		ssize_t r = read(fd, buf, f->msg);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				fail("read");
			else
				failx("the server closed the connection early");
			goto out;
		}
		if (!f->bytes) {
			f->t0 = now();
			end = f->t0 + f->secs;
		}
		f->bytes += r;
		if ((since += r) >= STREAM_BUF) {
			since = 0;
			if ((f->t1 = now()) >= end)
				break;
		}
	}
	f->err = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* Run n flows at once; receiver-side Mbit/s into *mbps. */
static int run_flows(const struct sockaddr_in *a, int n, int send, int msg, int bufsize, double secs,
		     double *mbps)
{
	struct flow f[MAX_FLOWS];
	pthread_t t[MAX_FLOWS];
	int started = 0, bad = 0;
	for (int i = 0; i < n; i++) {
		f[i] = (struct flow){ .addr = *a, .send = send, .msg = msg, .bufsize = bufsize, .secs = secs };
		if (pthread_create(&t[i], NULL, send ? flow_send : flow_recv, &f[i])) {
			bad = failx("pthread_create failed");
			break;
		}
		started++;
	}
	unsigned long long bytes = 0;
	double t0 = 0, t1 = 0;
	for (int i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		if (f[i].err) {
			bad = -1;
			continue;
		}
		bytes += f[i].bytes;
		if (f[i].bytes && (!t0 || f[i].t0 < t0))
			t0 = f[i].t0;
		if (f[i].t1 > t1)
			t1 = f[i].t1;
	}
	if (bad)
		return -1;
	if (!bytes || t1 <= t0)
		return failx("no data arrived");
	*mbps = bytes * 8 / (t1 - t0) / 1e6;
	fprintf(stderr, "netbench: %s: %d flow%s, %llu bytes in %.3f s\n", test_name, n, n > 1 ? "s" : "",
		bytes, t1 - t0);
	return 0;
}

/* ---------------------------------------------------------------- loopback tests */

static int tcp_stream(const char *name, int flows, int msg, int bufsize)
{
	struct sockaddr_in a = loopback(0);
	int lfd = bound_socket(SOCK_STREAM, &a, bufsize);
	if (lfd < 0)
		return -1;
	struct serve_args s = { lfd, msg };
	if (spawn(serve_child, &s) < 0)
		return -1;
	close(lfd);
	double mbps;
	int r = run_flows(&a, flows, 1, msg, bufsize, duration, &mbps);
	reap();
	if (r < 0)
		return -1;
	printf("bench %s %.1f Mbit/s\n", name, mbps);
	return 0;
}

struct udp_sender { struct sockaddr_in addr; int size, bufsize, count_fd, ack_fd; };

static void udp_send_child(void *arg)
{
	struct udp_sender *u = arg;
	int fd = connected_socket(SOCK_DGRAM, &u->addr, u->bufsize);
	char *buf = calloc(1, u->size);
	if (fd < 0 || !buf)
		_exit(1);
	uint64_t sent = 0, tries = 0;
	double end = now() + duration;
	for (;;) {
		uint64_t seq = sent + 1;
		memcpy(buf, &seq, sizeof(seq));
		ssize_t r = send(fd, buf, u->size, 0);
		if (r == u->size)
			sent++;                 /* a full queue drops silently or fails: not counted */
		else if (r < 0 && errno != ENOBUFS && errno != ENOMEM && errno != EAGAIN &&
			 errno != EINTR && errno != ECONNREFUSED)
			_exit(fail("send"));
		if ((++tries & 63) == 0 && now() >= end)
			break;
	}
	if (write(u->count_fd, &sent, sizeof(sent)) != sizeof(sent))
		_exit(fail("write to the pipe"));
	/* The end marker can be dropped like any datagram: repeat it until the receiver says it saw it
	 * (or is gone). */
	fcntl(u->ack_fd, F_SETFL, O_NONBLOCK);
	uint64_t endm = END_SEQ;
	memcpy(buf, &endm, sizeof(endm));
	for (;;) {
		send(fd, buf, u->size, 0);
		char c;
		if (read(u->ack_fd, &c, 1) >= 0 || errno != EAGAIN)
			break;
	}
	_exit(0);
}

static int udp_stream(const char *name, int size, int bufsize)
{
	if (size < 8 || size > 65507)
		return failx("datagram size %d out of range (8..65507)", size);
	struct sockaddr_in a = loopback(0);
	int fd = bound_socket(SOCK_DGRAM, &a, bufsize);
	int count[2], ack[2];
	if (fd < 0)
		return -1;
	if (pipe(count) < 0 || pipe(ack) < 0)
		return fail("pipe");
	struct udp_sender u = { a, size, bufsize, count[1], ack[0] };
	pid_t p = spawn(udp_send_child, &u);
	if (p < 0)
		return -1;
	close(count[1]);
	close(ack[0]);
	char *buf = malloc(size);
	unsigned long long got = 0, bytes = 0;
	double t0 = 0;
	for (;;) {
		ssize_t r = recv(fd, buf, size, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return fail("recv");
		}
		uint64_t seq = 0;
		if (r >= 8)
			memcpy(&seq, buf, sizeof(seq));
		if (seq == END_SEQ)
			break;
		if (!got)
			t0 = now();
		got++;
		bytes += r;
	}
	double t1 = now();
	uint64_t sent = 0;
	if (readn(count[0], &sent, sizeof(sent)) != sizeof(sent))
		return failx("the sender did not report its count");
	writen(ack[1], "x", 1);
	waitpid(p, NULL, 0);
	nkids = 0;
	close(fd);
	if (!got || t1 <= t0)
		return failx("no datagram arrived (%llu sent)", (unsigned long long)sent);
	double loss = sent > got ? (sent - got) * 100.0 / sent : 0;
	fprintf(stderr, "netbench: %s: %llu of %llu datagrams of %d bytes in %.3f s\n", name, got,
		(unsigned long long)sent, size, t1 - t0);
	printf("bench %s %.1f Mbit/s\n", name, bytes * 8 / (t1 - t0) / 1e6);
	printf("bench %s_loss %.2f %%\n", name, loss);
	return 0;
}

static void print_rate(const char *name, unsigned long n, double t0, double t1)
{
	fprintf(stderr, "netbench: %s: %lu transactions in %.3f s\n", name, n, t1 - t0);
	printf("bench %s %.1f trans/s\n", name, n / (t1 - t0));
}

static void tcp_rr_server(void *arg)
{
	int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL);
	char buf[RR_SIZE];
	if (fd < 0)
		_exit(fail("accept"));
	while (readn(fd, buf, RR_SIZE) == RR_SIZE && writen(fd, buf, RR_SIZE) == 0)
		;
	_exit(0);
}

static int tcp_rr(const char *name)
{
	struct sockaddr_in a = loopback(0);
	int lfd = bound_socket(SOCK_STREAM, &a, 0);
	if (lfd < 0 || spawn(tcp_rr_server, &lfd) < 0)
		return -1;
	close(lfd);
	int fd = connected_socket(SOCK_STREAM, &a, 0);
	if (fd < 0)
		return -1;
	char req[RR_SIZE] = "request", resp[RR_SIZE];
	unsigned long n = 0;
	double t0 = now(), t1, end = t0 + duration;
	do {
		if (writen(fd, req, RR_SIZE) < 0)
			return fail("write");
		ssize_t r = readn(fd, resp, RR_SIZE);
		if (r != RR_SIZE)
			return r < 0 ? fail("read") : failx("the server closed the connection");
		n++;
	} while ((t1 = now()) < end);
	close(fd);
	reap();
	print_rate(name, n, t0, t1);
	return 0;
}

static void tcp_crr_server(void *arg)
{
	int lfd = *(int *)arg;
	char buf[RR_SIZE];
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(fail("accept"));
		}
		if (readn(fd, buf, RR_SIZE) == RR_SIZE && writen(fd, buf, RR_SIZE) == 0)
			while (read(fd, buf, sizeof(buf)) > 0)   /* wait for the client's close */
				;
		close(fd);
	}
}

static int tcp_crr(const char *name)
{
	struct sockaddr_in a = loopback(0);
	int lfd = bound_socket(SOCK_STREAM, &a, 0);
	if (lfd < 0 || spawn(tcp_crr_server, &lfd) < 0)
		return -1;
	close(lfd);
	char req[RR_SIZE] = "request", resp[RR_SIZE];
	unsigned long n = 0;
	double t0 = now(), t1, end = t0 + duration;
	do {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return fail("socket");
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			if (errno == EADDRNOTAVAIL && n) {     /* out of ephemeral ports: report so far */
				failx("out of local ports after %lu connections, stopping early", n);
				close(fd);
				t1 = now();
				break;
			}
			return fail("connect");
		}
		if (writen(fd, req, RR_SIZE) < 0)
			return fail("write");
		ssize_t r = readn(fd, resp, RR_SIZE);
		if (r != RR_SIZE)
			return r < 0 ? fail("read") : failx("the server closed the connection");
		close(fd);
		n++;
	} while ((t1 = now()) < end);
	reap();
	print_rate(name, n, t0, t1);
	return 0;
}

static void udp_rr_server(void *arg)
{
	int fd = *(int *)arg;
	char buf[RR_SIZE];
	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (r > 0)
			sendto(fd, buf, r, 0, (struct sockaddr *)&from, len);
		else if (r < 0 && errno != EINTR)
			_exit(fail("recvfrom"));
	}
}

static int udp_rr(const char *name)
{
	struct sockaddr_in a = loopback(0);
	int sfd = bound_socket(SOCK_DGRAM, &a, 0);
	if (sfd < 0 || spawn(udp_rr_server, &sfd) < 0)
		return -1;
	close(sfd);
	int fd = connected_socket(SOCK_DGRAM, &a, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = 1 };      /* a lost datagram is sent again after 1 s */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		fail("setsockopt SO_RCVTIMEO (a lost datagram will hang the test)");
	char req[RR_SIZE] = { 0 }, resp[RR_SIZE];
	unsigned long n = 0, resent = 0;
	double t0 = now(), t1, end = t0 + duration;
	do {
		uint64_t seq = n + 1, rseq;
		memcpy(req, &seq, sizeof(seq));
		if (send(fd, req, RR_SIZE, 0) < 0)
			return fail("send");
		for (;;) {
			ssize_t r = recv(fd, resp, RR_SIZE, 0);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				resent++;
				if (send(fd, req, RR_SIZE, 0) < 0)
					return fail("send");
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return fail("recv");
			memcpy(&rseq, resp, sizeof(rseq));
			if (r == RR_SIZE && rseq == seq)
				break;                          /* else a late answer to a resent request */
		}
		n++;
	} while ((t1 = now()) < end);
	close(fd);
	reap();
	if (resent)
		failx("%lu requests sent again after a 1 s timeout", resent);
	print_rate(name, n, t0, t1);
	return 0;
}

/* ---------------------------------------------------------------- driver */

struct test { const char *what; int arg; };

static int run_test(const struct test *t)
{
	char name[64];
	if (!strcmp(t->what, "tcp")) {
		snprintf(name, sizeof(name), "tcp_stream_%d", t->arg);
		test_name = name;
		if (t->arg < 1 || t->arg > MAX_FLOWS)
			return failx("flows must be 1..%d", MAX_FLOWS);
		return tcp_stream(name, t->arg, STREAM_BUF, 0);
	}
	if (!strcmp(t->what, "udp")) {
		if (t->arg == UDP_SIZE)
			snprintf(name, sizeof(name), "udp_stream");
		else
			snprintf(name, sizeof(name), "udp_stream_%d", t->arg);
		test_name = name;
		return udp_stream(name, t->arg, 0);
	}
	test_name = t->what;
	if (!strcmp(t->what, "tcp_rr"))
		return tcp_rr("tcp_rr");
	if (!strcmp(t->what, "tcp_crr"))
		return tcp_crr("tcp_crr");
	if (!strcmp(t->what, "udp_rr"))
		return udp_rr("udp_rr");
	if (!strcmp(t->what, "netperf_tcp"))
		return tcp_stream("netperf_tcp_stream", 1, NP_MSG, NP_BUF);
	if (!strcmp(t->what, "netperf_udp"))
		return udp_stream("netperf_udp_stream", NP_MSG, NP_BUF);
	return failx("unknown test");
}

/* Ember only (ember_netstat; Linux answers ENOSYS): the stack lock's hold and wait time summed
 * over the squeues, in nanoseconds. False where there is no such call. */
static bool stack_lock_ns(uint64_t *held, uint64_t *waited)
{
	struct ember_sq_stat sq[64];
	long n = syscall(SYS_ember_netstat, EMBER_NETSTAT_SQUEUES, sq, sizeof(sq));
	if (n < 0)
		return false;
	*held = *waited = 0;
	for (long i = 0; i < n && i < 64; i++) {
		*held += sq[i].lock_ns;
		*waited += sq[i].lock_wait_ns;
	}
	return true;
}

/* The name a test's main figure has (the bench line the child prints). */
static void test_label(const struct test *t, char *buf, size_t size)
{
	if (!strcmp(t->what, "tcp"))
		snprintf(buf, size, "tcp_stream_%d", t->arg);
	else if (!strcmp(t->what, "udp") && t->arg != UDP_SIZE)
		snprintf(buf, size, "udp_stream_%d", t->arg);
	else if (!strcmp(t->what, "udp"))
		snprintf(buf, size, "udp_stream");
	else if (!strncmp(t->what, "netperf_", 8))
		snprintf(buf, size, "%s_stream", t->what);
	else
		snprintf(buf, size, "%s", t->what);
}

/* Each test in its own process, under a watchdog: a hang or a crash costs only that test. Inside
 * Ember it also reports the share of the test's time the stack lock was held and waited for
 * (percent of one CPU; the squeue counters, so setup and teardown are included). */
static int run_isolated(const struct test *t)
{
	uint64_t held0, wait0;
	bool ember = stack_lock_ns(&held0, &wait0);
	double t0 = now();
	fflush(NULL);
	pid_t p = fork();
	if (p < 0) {
		perror("netbench: fork");
		return -1;
	}
	if (p == 0) {
		signal(SIGALRM, watchdog);
		alarm((unsigned)(duration * 4) + 30);
		int r = run_test(t);
		reap();                 /* servers left behind by a failed test */
		fflush(NULL);
		_exit(r < 0 ? 1 : 0);
	}
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR) {
			perror("netbench: waitpid");
			return -1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		uint64_t held1, wait1;
		double secs = now() - t0;
		if (ember && stack_lock_ns(&held1, &wait1) && secs > 0) {
			char label[64];
			test_label(t, label, sizeof(label));
			printf("bench %s_stack_lock_held %.1f %%\n", label, (held1 - held0) / 1e7 / secs);
			printf("bench %s_stack_lock_wait %.1f %%\n", label, (wait1 - wait0) / 1e7 / secs);
		}
		return 0;
	}
	char what[64];
	snprintf(what, sizeof(what), t->arg ? "%s %d" : "%s", t->what, t->arg);
	if (WIFSIGNALED(st))
		fprintf(stderr, "netbench: %s failed: killed by signal %d\n", what, WTERMSIG(st));
	else
		fprintf(stderr, "netbench: %s failed: exit status %d\n", what, WEXITSTATUS(st));
	return -1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: netbench [-t SECONDS] [tcp [FLOWS] | udp [SIZE] | tcp_rr | tcp_crr | udp_rr |\n"
		"                 netperf_tcp | netperf_udp | all] ...\n"
		"       netbench server PORT\n"
		"       netbench client ADDR PORT SECONDS send|recv [FLOWS]\n");
	return 2;
}

static int cmd_server(int argc, char **argv)
{
	if (argc != 3)
		return usage();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	test_name = "server";
	int lfd = bound_socket(SOCK_STREAM, &a, 0);
	if (lfd < 0)
		return 1;
	printf("netbench server listening on port %d\n", ntohs(a.sin_port));
	fflush(stdout);
	serve(lfd, STREAM_BUF);
	return 1;
}

static int cmd_client(int argc, char **argv)
{
	if (argc != 6 && argc != 7)
		return usage();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
	int flows = argc == 7 ? atoi(argv[6]) : 1, send = !strcmp(argv[5], "send");
	double secs = atof(argv[4]);
	if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
		fprintf(stderr, "netbench: client: bad IPv4 address %s\n", argv[2]);
		return 2;
	}
	if ((!send && strcmp(argv[5], "recv")) || flows < 1 || flows > MAX_FLOWS || secs <= 0)
		return usage();
	char name[64];
	snprintf(name, sizeof(name), "tcp_%s_%d", argv[5], flows);
	test_name = name;
	double mbps;
	if (run_flows(&a, flows, send, STREAM_BUF, 0, secs, &mbps) < 0)
		return 1;
	printf("bench %s %.1f Mbit/s\n", name, mbps);
	return 0;
}

static const struct test all_tests[] = {
	{ "tcp", 1 }, { "tcp", 4 }, { "udp", UDP_SIZE }, { "tcp_rr", 0 }, { "tcp_crr", 0 },
	{ "udp_rr", 0 }, { "netperf_tcp", 0 }, { "netperf_udp", 0 },
};
#define NALL (int)(sizeof(all_tests) / sizeof(all_tests[0]))

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "server"))
		return cmd_server(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return cmd_client(argc, argv);

	struct test list[64];
	int n = 0, i = 1;
	if (i + 1 < argc && !strcmp(argv[i], "-t")) {
		duration = atof(argv[i + 1]);
		i += 2;
		if (duration <= 0)
			return usage();
	}
	for (; i < argc; i++) {
		const char *w = argv[i];
		if (!strcmp(w, "all")) {
			for (int k = 0; k < NALL && n < 64; k++)
				list[n++] = all_tests[k];
			continue;
		}
		static const char *const names[] = { "tcp", "udp", "tcp_rr", "tcp_crr", "udp_rr",
						      "netperf_tcp", "netperf_udp" };
		int known = 0;
		for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			known |= !strcmp(w, names[k]);
		if (!known || n == 64)
			return usage();
		struct test t = { w, !strcmp(w, "tcp") ? 1 : !strcmp(w, "udp") ? UDP_SIZE : 0 };
		if (t.arg && i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
			t.arg = atoi(argv[++i]);
		list[n++] = t;
	}
	if (!n)
		for (; n < NALL; n++)
			list[n] = all_tests[n];
	int rc = 0;
	for (i = 0; i < n; i++)
		if (run_isolated(&list[i]) < 0)
			rc = 1;
	return rc;
}
