/*
 * nettool: the guest side of the host-peer socket tests (tests/system/test_sock_host.py), run from
 * /init's shell as /bin/nettool. Every mode uses ordinary BSD sockets, prints what it saw in
 * key=value lines the tests parse, and exits 0 only when everything checked out.
 *
 *   nettool xfer serve PORT BYTES SEED [duplex]       accept one connection, then exchange a stream
 *   nettool xfer connect ADDR PORT BYTES SEED [duplex] with a peer (the protocol below); serve6
 *       listens on AF_INET6 [::] (dual-stack, prints the peer as it names it), ADDR may be IPv6
 *       (fe80::...%IFNAME: with the interface's scope id)
 *   nettool echo PORT CONNS          TCP echo server: a thread per connection, exits after CONNS
 *                                    connections closed; counts the most that were open at once
 *                                    (echo6: the same on AF_INET6 [::])
 *   nettool ping ADDR COUNT          ICMP echo through SOCK_RAW/IPPROTO_ICMP, prints the replies
 *   nettool capture IFNAME COUNT [ETHERTYPE]   AF_PACKET: prints COUNT received frames (of that
 *                                    ethertype, if given) and checks rawpkt.py's byte pattern
 *   nettool churn N                  N socket/connect/accept/close cycles over 127.0.0.1, the
 *                                    connecting side closing with SO_LINGER {1, 0} (a reset: no
 *                                    TIME_WAIT), each cycle moving one byte each way
 *   nettool mem                      free and total pages (sysinfo), and whether the kernel wrote
 *                                    past struct sysinfo
 * A watchdog thread ends any mode that runs longer than WATCHDOG_S (-w S before the mode changes
 * it) with "nettool: watchdog" and status 3.
 *
 * The stream protocol (xfer). The connecting side sends BYTES bytes of stream(SEED) and shuts down
 * its writing side; the accepting side sends BYTES bytes of stream(SEED + 1) and shuts down. Both
 * read until EOF. Without "duplex" the connecting side sends before it reads and the accepting side
 * reads before it sends, so each direction is timed alone; with it both send from a second thread
 * while the main thread receives. Each side prints one line:
 *   xfer sent=N sent_sha256=HEX send_s=T recv=N recv_sha256=HEX recv_s=T recv_mbps=R first_bad=OFF
 * where first_bad is the offset of the first received byte that differs from the expected stream
 * (-1: none) and recv_s runs from the first received byte to EOF.
 *
 * stream(SEED) (tests/system/hostsock.py generates the same bytes): a 64 KiB base block of
 * xorshift64 words (little-endian; state = SEED * 0x9E3779B97F4A7C15 + 1, or 1 if that is 0;
 * each word after the step x ^= x << 13, x ^= x >> 7, x ^= x << 17), then chunk k is that block
 * rotated left by (k * 4099) mod 65536 bytes with its first 16 bytes replaced by SEED and k (two
 * little-endian 64-bit words). The stream is chunk 0, chunk 1, ... cut at BYTES.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#define WATCHDOG_S 600
#define BLOCK 65536
#define ROT_STEP 4099
#define IO_BUF (128 << 10)
#define ECHO_MAX 256
#define ECHO_BUF 16384
#define PING_SIZE 56
#define PING_WAIT_MS 1000
#define CAPTURE_IDLE_MS 15000
#define ETH_P_EXP 0x88B5
#define PAGE 4096
#define SYSINFO_GUARD 1024
#define GUARD_BYTE 0xA5

static int watchdog_s = WATCHDOG_S;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stdout, "nettool: ");
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fprintf(stdout, "\n");
	fflush(stdout);
	exit(2);
}

static void *watchdog(void *arg)
{
	(void)arg;
	sleep(watchdog_s);
	printf("nettool: watchdog: still running after %d s\n", watchdog_s);
	fflush(stdout);
	_exit(3);
}

/* ---- SHA-256 (FIPS 180-4) ---- */

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t n;
};

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct sha256 *c, const uint8_t *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4], f = c->h[5], g = c->h[6],
		 h = c->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = cc;
		cc = b;
		b = a;
		a = t1 + t2;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
	c->h[5] += f;
	c->h[6] += g;
	c->h[7] += h;
}

static void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->n = 0;
}

static void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	c->len += len;
	if (c->n) {
		size_t take = 64 - c->n < len ? 64 - c->n : len;
		memcpy(c->buf + c->n, p, take);
		c->n += take;
		p += take;
		len -= take;
		if (c->n < 64)
			return;
		sha256_block(c, c->buf);
		c->n = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(c, p);
	memcpy(c->buf, p, len);
	c->n = len;
}

static void sha256_hex(struct sha256 *c, char out[65])
{
	uint64_t bits = c->len * 8;
	uint8_t pad = 0x80, zero = 0, lenb[8];
	sha256_update(c, &pad, 1);
	while (c->n != 56)
		sha256_update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(c, lenb, 8);
	for (int i = 0; i < 8; i++)
		sprintf(out + 8 * i, "%08x", c->h[i]);
}

/* ---- the test stream ---- */

struct stream {
	uint64_t seed;
	uint8_t base[BLOCK];
	uint8_t chunk[BLOCK];
	uint64_t chunk_no;               /* which chunk `chunk` holds (UINT64_MAX: none) */
};

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void stream_init(struct stream *st, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
	if (!x)
		x = 1;
	for (int i = 0; i < BLOCK / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		put_le64(st->base + 8 * i, x);
	}
	st->seed = seed;
	st->chunk_no = UINT64_MAX;
}

static const uint8_t *stream_chunk(struct stream *st, uint64_t k)
{
	if (st->chunk_no != k) {
		size_t rot = (size_t)((k * ROT_STEP) % BLOCK);
		memcpy(st->chunk, st->base + rot, BLOCK - rot);
		memcpy(st->chunk + BLOCK - rot, st->base, rot);
		put_le64(st->chunk, st->seed);
		put_le64(st->chunk + 8, k);
		st->chunk_no = k;
	}
	return st->chunk;
}

/* First offset in [off, off + n) where data differs from the stream, or -1. */
static long long stream_compare(struct stream *st, uint64_t off, const uint8_t *data, size_t n)
{
	while (n) {
		const uint8_t *c = stream_chunk(st, off / BLOCK);
		size_t at = off % BLOCK, take = BLOCK - at < n ? BLOCK - at : n;
		if (memcmp(c + at, data, take)) {
			for (size_t i = 0; i < take; i++)
				if (c[at + i] != data[i])
					return (long long)(off + i);
		}
		off += take;
		data += take;
		n -= take;
	}
	return -1;
}

/* ---- small socket helpers ---- */

static long write_all(int fd, const void *buf, size_t n)
{
	size_t put = 0;
	while (put < n) {
		ssize_t r = write(fd, (const char *)buf + put, n - put);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		put += r;
	}
	return (long)put;
}

static int parse_addr(const char *s, uint16_t port, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	return inet_pton(AF_INET, s, &a->sin_addr) == 1 ? 0 : -1;
}

/* An address of either family: IPv4 dotted, or IPv6 with an optional %IFNAME for a link-local
 * one (its scope id). 0, or -1 when it is neither. */
static int parse_addr_any(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (!strchr(s, ':')) {
		*len = sizeof(struct sockaddr_in);
		return parse_addr(s, port, (struct sockaddr_in *)ss);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	snprintf(buf, sizeof(buf), "%s", s);
	char *pct = strchr(buf, '%');
	if (pct) {
		*pct = 0;
		a->sin6_scope_id = if_nametoindex(pct + 1);
		if (!a->sin6_scope_id)
			return -1;
	}
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	*len = sizeof(*a);
	return inet_pton(AF_INET6, buf, &a->sin6_addr) == 1 ? 0 : -1;
}

/* serve6: an AF_INET6 listener on [::] (dual-stack: IPv4 clients come v4-mapped). */
static int listener6(uint16_t port, int backlog)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket(AF_INET6): %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind [::]:%u: %s", port, strerror(errno));
	if (listen(fd, backlog) < 0)
		die("listen: %s", strerror(errno));
	return fd;
}

static int listener(uint16_t port, int backlog)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind port %u: %s", port, strerror(errno));
	if (listen(fd, backlog) < 0)
		die("listen: %s", strerror(errno));
	return fd;
}

/* ---- xfer ---- */

struct xsend {
	int fd;
	uint64_t bytes, seed;
	uint64_t sent;
	char sha[65];
	double t0, t1;
	int err;                         /* errno of a failed write, 0 */
};

static void *xfer_send(void *arg)
{
	struct xsend *x = arg;
	static struct stream st;
	struct sha256 h;
	stream_init(&st, x->seed);
	sha256_init(&h);
	x->t0 = now_s();
	for (uint64_t k = 0; x->sent < x->bytes; k++) {
		size_t n = x->bytes - x->sent < BLOCK ? (size_t)(x->bytes - x->sent) : BLOCK;
		const uint8_t *c = stream_chunk(&st, k);
		if (write_all(x->fd, c, n) < 0) {
			x->err = errno;
			break;
		}
		sha256_update(&h, c, n);
		x->sent += n;
	}
	if (shutdown(x->fd, SHUT_WR) < 0 && !x->err)
		x->err = errno;
	x->t1 = now_s();
	sha256_hex(&h, x->sha);
	return NULL;
}

static int xfer(int fd, uint64_t bytes, uint64_t send_seed, uint64_t recv_seed, bool sender_first, bool duplex)
{
	static uint8_t buf[IO_BUF];
	static struct stream expect;
	struct xsend xs = { .fd = fd, .bytes = bytes, .seed = send_seed };
	pthread_t th;
	if (duplex) {
		if (pthread_create(&th, NULL, xfer_send, &xs))
			die("pthread_create failed");
	} else if (sender_first) {
		xfer_send(&xs);
	}
	stream_init(&expect, recv_seed);
	struct sha256 h;
	sha256_init(&h);
	uint64_t got = 0;
	long long first_bad = -1;
	double r0 = 0, r1;
	int rerr = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rerr = errno;
			break;
		}
		if (n == 0)
			break;
		if (!got)
			r0 = now_s();
		if (first_bad < 0)
			first_bad = stream_compare(&expect, got, buf, n);
		sha256_update(&h, buf, n);
		got += n;
	}
	r1 = now_s();
	if (duplex)
		pthread_join(th, NULL);
	else if (!sender_first)
		xfer_send(&xs);
	char rsha[65];
	sha256_hex(&h, rsha);
	double rs = got ? r1 - r0 : 0;
	printf("xfer sent=%llu sent_sha256=%s send_s=%.3f recv=%llu recv_sha256=%s recv_s=%.3f recv_mbps=%.1f "
	       "first_bad=%lld\n", (unsigned long long)xs.sent, xs.sha, xs.t1 - xs.t0, (unsigned long long)got, rsha,
	       rs, rs > 0 ? got * 8 / rs / 1e6 : 0.0, first_bad);
	if (xs.err)
		printf("xfer: write failed after %llu bytes: %s\n", (unsigned long long)xs.sent, strerror(xs.err));
	if (rerr)
		printf("xfer: read failed after %llu bytes: %s\n", (unsigned long long)got, strerror(rerr));
	return xs.err || rerr || got != bytes || xs.sent != bytes || first_bad >= 0;
}

static int cmd_xfer(int argc, char **argv)
{
	if (argc >= 5 && (!strcmp(argv[1], "serve") || !strcmp(argv[1], "serve6"))) {
		uint16_t port = (uint16_t)atoi(argv[2]);
		uint64_t bytes = strtoull(argv[3], NULL, 0), seed = strtoull(argv[4], NULL, 0);
		bool duplex = argc > 5 && !strcmp(argv[5], "duplex");
		bool six = !strcmp(argv[1], "serve6");
		int l = six ? listener6(port, 4) : listener(port, 4);
		printf("xfer: listening on %u\n", port);
		fflush(stdout);
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept(l, (struct sockaddr *)&peer, &plen);
		if (fd < 0)
			die("accept: %s", strerror(errno));
		if (six) {                              /* who connected, as the AF_INET6 socket names it */
			char ip[INET6_ADDRSTRLEN] = "?";
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, ip, sizeof(ip));
			printf("xfer: peer family=%d addr=%s len=%u\n", peer.ss_family, ip, (unsigned)plen);
		}
		close(l);
		int r = xfer(fd, bytes, seed + 1, seed, false, duplex);
		close(fd);
		return r;
	}
	if (argc >= 6 && !strcmp(argv[1], "connect")) {
		struct sockaddr_storage a;
		socklen_t alen;
		if (parse_addr_any(argv[2], (uint16_t)atoi(argv[3]), &a, &alen) < 0)
			die("bad address %s", argv[2]);
		uint64_t bytes = strtoull(argv[4], NULL, 0), seed = strtoull(argv[5], NULL, 0);
		bool duplex = argc > 6 && !strcmp(argv[6], "duplex");
		int fd = socket(a.ss_family, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&a, alen) < 0)
			die("connect %s:%s: %s", argv[2], argv[3], strerror(errno));
		int r = xfer(fd, bytes, seed, seed + 1, true, duplex);
		close(fd);
		return r;
	}
	return die("usage: xfer serve|serve6 PORT BYTES SEED [duplex] | xfer connect ADDR[%IF] PORT BYTES SEED [duplex]");
}

/* ---- echo ---- */

static pthread_mutex_t echo_lock = PTHREAD_MUTEX_INITIALIZER;
static int echo_open, echo_max_open, echo_errors;
static unsigned long long echo_bytes;

static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t buf[ECHO_BUF];
	unsigned long long n = 0;
	int err = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			break;
		}
		if (r == 0)
			break;
		if (write_all(fd, buf, r) < 0) {
			err = errno;
			break;
		}
		n += r;
	}
	close(fd);
	pthread_mutex_lock(&echo_lock);
	echo_open--;
	echo_bytes += n;
	if (err) {
		echo_errors++;
		printf("echo: connection error after %llu bytes: %s\n", n, strerror(err));
	}
	pthread_mutex_unlock(&echo_lock);
	return NULL;
}

static int cmd_echo(int argc, char **argv)
{
	if (argc < 3)
		return die("usage: echo PORT CONNS");
	uint16_t port = (uint16_t)atoi(argv[1]);
	int conns = atoi(argv[2]);
	if (conns < 1 || conns > ECHO_MAX)
		return die("echo: 1..%d connections", ECHO_MAX);
	/* a connection the peer reset is counted as an error (the wire fuzzer's RSTs may end one
	 * legitimately); a write racing the reset must not kill the server with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	int l = strcmp(argv[0], "echo6") ? listener(port, 128) : listener6(port, 128);
	printf("echo: listening on %u\n", port);
	fflush(stdout);
	pthread_t th[ECHO_MAX];
	for (int i = 0; i < conns; i++) {
		int fd = accept(l, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR) {
				i--;
				continue;
			}
			die("accept: %s", strerror(errno));
		}
		pthread_mutex_lock(&echo_lock);
		if (++echo_open > echo_max_open)
			echo_max_open = echo_open;
		pthread_mutex_unlock(&echo_lock);
		if (pthread_create(&th[i], NULL, echo_conn, (void *)(intptr_t)fd))
			die("pthread_create failed");
	}
	close(l);
	for (int i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	printf("echo connections=%d bytes=%llu max_open=%d errors=%d\n", conns, echo_bytes, echo_max_open,
	       echo_errors);
	return echo_errors != 0;
}

/* ---- ping ---- */

static uint16_t inet_csum(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint32_t s = 0;
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static int cmd_ping(int argc, char **argv)
{
	if (argc < 3)
		return die("usage: ping ADDR COUNT");
	struct sockaddr_in to;
	if (parse_addr(argv[1], 0, &to) < 0)
		return die("bad address %s", argv[1]);
	int count = atoi(argv[2]);
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0) {
		printf("nettool: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): %s (errno %d)\n", strerror(errno), errno);
		return 2;
	}
	uint16_t ident = (uint16_t)getpid();
	int received = 0;
	for (int seq = 0; seq < count; seq++) {
		uint8_t pkt[sizeof(struct icmphdr) + PING_SIZE];
		struct icmphdr *ic = (struct icmphdr *)pkt;
		memset(pkt, 0, sizeof(pkt));
		ic->type = ICMP_ECHO;
		ic->un.echo.id = htons(ident);
		ic->un.echo.sequence = htons((uint16_t)seq);
		for (int i = 0; i < PING_SIZE; i++)
			pkt[sizeof(*ic) + i] = (uint8_t)(i + seq);
		ic->checksum = inet_csum(pkt, sizeof(pkt));
		double t0 = now_s();
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)sizeof(pkt)) {
			printf("ping: sendto: %s\n", strerror(errno));
			continue;
		}
		bool got = false;
		while (!got) {
			int left = PING_WAIT_MS - (int)((now_s() - t0) * 1000);
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			if (left <= 0 || poll(&pfd, 1, left) <= 0)
				break;
			uint8_t in[2048];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
			if (n < (ssize_t)sizeof(struct iphdr))
				continue;
			struct iphdr *ip = (struct iphdr *)in;
			size_t ihl = ip->ihl * 4u;
			if ((size_t)n < ihl + sizeof(struct icmphdr))
				continue;
			struct icmphdr *r = (struct icmphdr *)(in + ihl);
			if (r->type != ICMP_ECHOREPLY || ntohs(r->un.echo.id) != ident ||
			    ntohs(r->un.echo.sequence) != seq || from.sin_addr.s_addr != to.sin_addr.s_addr)
				continue;
			bool payload_ok = (size_t)n - ihl == sizeof(pkt) &&
					  !memcmp(in + ihl + sizeof(struct icmphdr), pkt + sizeof(*ic), PING_SIZE);
			printf("%zd bytes from %s: icmp_seq=%d ttl=%d time=%.3f ms%s\n", n - (ssize_t)ihl, argv[1], seq,
			       ip->ttl, (now_s() - t0) * 1000, payload_ok ? "" : " (payload differs)");
			got = payload_ok;
		}
		received += got;
		if (!got)
			printf("ping: no reply to icmp_seq=%d\n", seq);
	}
	printf("%d packets transmitted, %d received\n", count, received);
	close(fd);
	return received != count;
}

/* ---- capture ---- */

static int cmd_capture(int argc, char **argv)
{
	if (argc < 3)
		return die("usage: capture IFNAME COUNT [ETHERTYPE]");
	int count = atoi(argv[2]);
	int type = argc > 3 ? (int)strtol(argv[3], NULL, 0) : -1;
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		printf("nettool: socket(AF_PACKET, SOCK_RAW, ETH_P_ALL): %s (errno %d)\n", strerror(errno), errno);
		return 2;
	}
	unsigned ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		printf("nettool: if_nametoindex(%s): %s (errno %d)\n", argv[1], strerror(errno), errno);
		return 2;
	}
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		printf("nettool: bind(AF_PACKET, %s): %s (errno %d)\n", argv[1], strerror(errno), errno);
		return 2;
	}
	printf("capture: ready on %s (ifindex %u)\n", argv[1], ifindex);
	fflush(stdout);
	int got = 0, others = 0, bad = 0;
	while (got < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, CAPTURE_IDLE_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			printf("capture: nothing for %d ms\n", CAPTURE_IDLE_MS);
			break;
		}
		uint8_t f[2048];
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, f, sizeof(f), 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			printf("capture: recvfrom: %s\n", strerror(errno));
			break;
		}
		if (n < 14 || from.sll_pkttype == PACKET_OUTGOING) {
			others++;
			continue;
		}
		int et = f[12] << 8 | f[13];
		if (type >= 0 && et != type) {
			others++;
			continue;
		}
		long seq = -1;
		bool pattern_ok = true;
		if (n >= 18) {
			seq = (long)((uint32_t)f[14] << 24 | (uint32_t)f[15] << 16 | (uint32_t)f[16] << 8 | f[17]);
			for (ssize_t i = 18; i < n; i++)                /* rawpkt.py: bytes(range(256)) repeated */
				if (f[i] != (uint8_t)(i - 18)) {
					pattern_ok = false;
					break;
				}
		}
		bad += !pattern_ok;
		printf("frame len=%zd type=%#06x src=%02x:%02x:%02x:%02x:%02x:%02x ifindex=%d seq=%ld pattern=%s\n", n, et,
		       f[6], f[7], f[8], f[9], f[10], f[11], from.sll_ifindex, seq, pattern_ok ? "ok" : "BAD");
		got++;
	}
	printf("capture frames=%d others=%d bad=%d\n", got, others, bad);
	close(fd);
	return got != count || bad;
}

/* ---- churn ---- */

static int cmd_churn(int argc, char **argv)
{
	if (argc < 2)
		return die("usage: churn N");
	long n = atol(argv[1]);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	parse_addr("127.0.0.1", 0, &a);
	socklen_t al = sizeof(a);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		return die("churn: listener: %s", strerror(errno));
	struct linger lg = { 1, 0 };
	double t0 = now_s();
	long done = 0;
	for (; done < n; done++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0) {
			printf("churn: socket failed at cycle %ld: %s\n", done, strerror(errno));
			break;
		}
		if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
		    connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
			printf("churn: connect failed at cycle %ld: %s\n", done, strerror(errno));
			close(c);
			break;
		}
		int s = accept(l, NULL, NULL);
		char b = 'x';
		if (s < 0 || write(c, &b, 1) != 1 || read(s, &b, 1) != 1 || write(s, &b, 1) != 1 || read(c, &b, 1) != 1) {
			printf("churn: exchange failed at cycle %ld: %s\n", done, strerror(errno));
			close(c);
			if (s >= 0)
				close(s);
			break;
		}
		close(c);                               /* linger {1, 0}: reset, no TIME_WAIT */
		ssize_t r;
		while ((r = read(s, &b, 1)) < 0 && errno == EINTR)
			;
		if (r != 0 && !(r < 0 && errno == ECONNRESET)) {
			printf("churn: cycle %ld: the reset was not seen (read %zd: %s)\n", done, r, strerror(errno));
			close(s);
			break;
		}
		close(s);
	}
	close(l);
	double t = now_s() - t0;
	printf("churn cycles=%ld seconds=%.2f per_s=%.0f\n", done, t, t > 0 ? done / t : 0.0);
	return done != n;
}

/* sysinfo() into a struct sysinfo followed by a guard area: the free pages, and how many bytes the
 * kernel wrote past the structure (Linux writes exactly sizeof(struct sysinfo), 112 bytes). */
static int cmd_mem(void)
{
	union {
		struct sysinfo si;
		unsigned char raw[sizeof(struct sysinfo) + SYSINFO_GUARD];
	} u;
	memset(u.raw, GUARD_BYTE, sizeof(u.raw));
	if (sysinfo(&u.si) < 0)
		return die("sysinfo: %s", strerror(errno));
	size_t overrun = 0;
	for (size_t i = sizeof(struct sysinfo); i < sizeof(u.raw); i++)
		if (u.raw[i] != GUARD_BYTE)
			overrun = i + 1 - sizeof(struct sysinfo);
	unsigned long long unit = u.si.mem_unit ? u.si.mem_unit : 1;
	printf("mem free_pages=%llu total_pages=%llu sysinfo_overrun=%zu\n", u.si.freeram * unit / PAGE,
	       u.si.totalram * unit / PAGE, overrun);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "-w")) {
		watchdog_s = atoi(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return die("usage: nettool [-w S] xfer|echo|ping|capture|churn|mem ...");
	pthread_t wd;
	pthread_create(&wd, NULL, watchdog, NULL);
	pthread_detach(wd);
	const char *m = argv[1];
	if (!strcmp(m, "xfer"))
		return cmd_xfer(argc - 1, argv + 1);
	if (!strcmp(m, "echo") || !strcmp(m, "echo6"))
		return cmd_echo(argc - 1, argv + 1);
	if (!strcmp(m, "ping"))
		return cmd_ping(argc - 1, argv + 1);
	if (!strcmp(m, "capture"))
		return cmd_capture(argc - 1, argv + 1);
	if (!strcmp(m, "churn"))
		return cmd_churn(argc - 1, argv + 1);
	if (!strcmp(m, "mem"))
		return cmd_mem();
	return die("unknown mode %s", m);
}
