/*
 * TCP over 127.0.0.1: the data path of an established connection.
 *   - socket/bind/listen/accept/connect; getsockname/getpeername on every end (unbound socket
 *     0.0.0.0:0, listener's ephemeral port, the two ends mirror each other), accept's address
 *     (and its truncation to a short addrlen), accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) and
 *     socket(SOCK_NONBLOCK|SOCK_CLOEXEC) seen through fcntl, plain accept inheriting neither
 *   - 4 MiB echo through a forked echo server: every byte checked in place (whole and in order)
 *     plus a checksum of everything sent against everything received
 *   - 4 flows at once, 8 MiB each from its own process (so from different CPUs and squeues) to
 *     its own reader thread, uneven write sizes, every byte of each flow checked
 *   - single writes bigger than the kernel's send chunk and than a 64 KiB segment (1 MiB + 7,
 *     200000, 3 * 64 KiB + 1, 128 KiB bytes), read back in small reads: whole and in order
 *   - read/write, readv/writev, send/recv, sendto/recvfrom (no address on a stream socket),
 *     sendmsg/recvmsg with scattered buffers
 *   - MSG_PEEK, MSG_DONTWAIT (EAGAIN on a blocking socket), MSG_WAITALL across several writes
 *   - FIONREAD, FIONBIO (turns O_NONBLOCK on and off)
 *   - SO_RCVTIMEO (recv fails with EAGAIN after about the timeout), SO_SNDTIMEO round trip
 *   - EINTR: a blocking recv interrupted by a SIGALRM handler without SA_RESTART, and with
 *     SA_RESTART the same recv continues and returns the data sent later
 * Connection setup/teardown errors are in sock_tcp_conn.c, options in sock_opts.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "sockutil.h"

#define ECHO_BYTES (4L << 20)
#define CHUNK 65536

static void test_addresses(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK("tcp_socket", fd >= 0, "fd=%d errno=%d", fd, errno);
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	memset(&a, 0xff, sizeof(a));
	int r = getsockname(fd, (struct sockaddr *)&a, &len);
	CHECK("getsockname_unbound_any_0", r == 0 && len == sizeof(a) && a.sin_family == AF_INET && a.sin_port == 0 &&
	      a.sin_addr.s_addr == 0, "r=%d len=%u fam=%d port=%u addr=%#x", r, len, a.sin_family, ntohs(a.sin_port),
	      a.sin_addr.s_addr);
	a = lo_addr(0);
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_loopback_port0", r == 0, "r=%d errno=%d", r, errno);
	len = sizeof(a);
	memset(&a, 0, sizeof(a));
	r = getsockname(fd, (struct sockaddr *)&a, &len);
	uint16_t port = ntohs(a.sin_port);
	CHECK("getsockname_bound_ephemeral", r == 0 && len == sizeof(a) && a.sin_addr.s_addr == LOOPBACK && port != 0,
	      "r=%d len=%u port=%u addr=%#x", r, len, port, a.sin_addr.s_addr);
	r = listen(fd, 8);
	CHECK("listen", r == 0, "r=%d errno=%d", r, errno);
	CHECK("listen_keeps_port", local_port(fd) == port, "port %u -> %u", port, local_port(fd));

	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int fl = fcntl(c, F_GETFL), fdfl = fcntl(c, F_GETFD);
	CHECK("socket_nonblock_cloexec_flags", c >= 0 && (fl & O_NONBLOCK) && (fdfl & FD_CLOEXEC) && (fl & O_ACCMODE) == O_RDWR,
	      "fd=%d fl=%#x fdfl=%#x", c, fl, fdfl);
	close(c);

	c = tcp_connect(port);
	CHECK("connect_loopback", c >= 0, "errno=%d", errno);
	struct sockaddr_in peer, cl_local, acc_addr;
	len = sizeof(peer);
	r = getpeername(c, (struct sockaddr *)&peer, &len);
	CHECK("getpeername_client", r == 0 && len == sizeof(peer) && peer.sin_family == AF_INET &&
	      peer.sin_addr.s_addr == LOOPBACK && ntohs(peer.sin_port) == port, "r=%d len=%u addr=%#x port=%u", r, len,
	      peer.sin_addr.s_addr, ntohs(peer.sin_port));
	len = sizeof(cl_local);
	r = getsockname(c, (struct sockaddr *)&cl_local, &len);
	CHECK("getsockname_client_autobound", r == 0 && cl_local.sin_addr.s_addr == LOOPBACK && cl_local.sin_port != 0 &&
	      ntohs(cl_local.sin_port) != port, "r=%d addr=%#x port=%u", r, cl_local.sin_addr.s_addr, ntohs(cl_local.sin_port));

	len = sizeof(acc_addr);
	memset(&acc_addr, 0, sizeof(acc_addr));
	int s = accept(fd, (struct sockaddr *)&acc_addr, &len);
	CHECK("accept_returns_client_addr", s >= 0 && len == sizeof(acc_addr) && acc_addr.sin_family == AF_INET &&
	      acc_addr.sin_addr.s_addr == LOOPBACK && acc_addr.sin_port == cl_local.sin_port,
	      "s=%d errno=%d len=%u addr=%#x port=%u want %u", s, errno, len, acc_addr.sin_addr.s_addr,
	      ntohs(acc_addr.sin_port), ntohs(cl_local.sin_port));
	fl = fcntl(s, F_GETFL);
	fdfl = fcntl(s, F_GETFD);
	CHECK("accept_plain_blocking_no_cloexec", !(fl & O_NONBLOCK) && !(fdfl & FD_CLOEXEC), "fl=%#x fdfl=%#x", fl, fdfl);
	len = sizeof(peer);
	r = getpeername(s, (struct sockaddr *)&peer, &len);
	CHECK("getpeername_accepted_is_client", r == 0 && peer.sin_port == cl_local.sin_port &&
	      peer.sin_addr.s_addr == LOOPBACK, "r=%d port=%u", r, ntohs(peer.sin_port));
	len = sizeof(peer);
	r = getsockname(s, (struct sockaddr *)&peer, &len);
	CHECK("getsockname_accepted_is_listener_port", r == 0 && ntohs(peer.sin_port) == port &&
	      peer.sin_addr.s_addr == LOOPBACK, "r=%d port=%u", r, ntohs(peer.sin_port));
	close(s);
	close(c);

	/* accept with a short addrlen: the address is truncated, the full length reported */
	c = tcp_connect(port);
	unsigned char small[16];
	memset(small, 0xee, sizeof(small));
	len = 4;
	s = accept(fd, (struct sockaddr *)small, &len);
	CHECK("accept_short_addrlen_truncates", s >= 0 && len == sizeof(struct sockaddr_in) && small[0] == AF_INET &&
	      small[4] == 0xee, "s=%d len=%u bytes %02x %02x %02x %02x %02x", s, len, small[0], small[1], small[2], small[3],
	      small[4]);
	close(s);
	close(c);

	/* accept4 flags; a non-blocking listener does not make accept()ed sockets non-blocking */
	c = tcp_connect(port);
	s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	fl = fcntl(s, F_GETFL);
	fdfl = fcntl(s, F_GETFD);
	CHECK("accept4_nonblock_cloexec", s >= 0 && (fl & O_NONBLOCK) && (fdfl & FD_CLOEXEC), "s=%d errno=%d fl=%#x fdfl=%#x",
	      s, errno, fl, fdfl);
	char ch;
	errno = 0;
	r = read(s, &ch, 1);
	CHECK("accept4_nonblock_read_eagain", r == -1 && errno == EAGAIN, "r=%d errno=%d", r, errno);
	close(s);
	close(c);
	c = tcp_connect(port);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	long t0 = now_ms();
	while ((s = accept(fd, NULL, NULL)) < 0 && errno == EAGAIN && now_ms() - t0 < 2000)
		sleep_ms(5);                         /* connect returned: the connection is queued */
	fl = fcntl(s, F_GETFL);
	CHECK("accept_from_nonblocking_listener_is_blocking", s >= 0 && !(fl & O_NONBLOCK), "s=%d errno=%d fl=%#x", s, errno, fl);
	close(s);
	close(c);
	c = tcp_connect(port);
	/* the listener is still non-blocking: the handshake's last ACK may still be on its way to
	 * it (Linux's loopback delivers it inside connect(); Ember's squeues may not have yet) */
	t0 = now_ms();
	while ((s = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EAGAIN && now_ms() - t0 < 2000)
		sleep_ms(5);
	fl = fcntl(s, F_GETFL);
	fdfl = fcntl(s, F_GETFD);
	CHECK("accept4_cloexec_only", s >= 0 && !(fl & O_NONBLOCK) && (fdfl & FD_CLOEXEC), "s=%d fl=%#x fdfl=%#x", s, fl, fdfl);
	close(s);
	close(c);
	close(fd);
}

/* ---- 4 MiB echo ---- */

static inline unsigned char pattern(long i) { return (unsigned char)((i * 2654435761u) >> 13 ^ i >> 16); }

static void echo_server(int l)
{
	alarm(60);                                   /* the child's own watchdog: SIGALRM kills it */
	int s = accept(l, NULL, NULL);
	close(l);
	if (s < 0)
		_exit(2);
	static char buf[CHUNK];
	long total = 0, n;
	while ((n = read(s, buf, sizeof(buf))) > 0) {
		if (write_full(s, buf, n) != n)
			_exit(3);
		total += n;
	}
	if (n < 0)
		_exit(4);
	close(s);
	_exit(total == ECHO_BYTES ? 0 : 5);
}

struct sender { int fd; long sent; uint32_t sum; };

static void *sender_fn(void *arg)
{
	struct sender *sd = arg;
	static unsigned char buf[CHUNK];
	uint32_t sum = 2166136261u;
	for (long off = 0; off < ECHO_BYTES;) {
		long n = CHUNK - (off / CHUNK % 7) * 1000;  /* uneven write sizes */
		if (n > ECHO_BYTES - off)
			n = ECHO_BYTES - off;
		for (long i = 0; i < n; i++) {
			buf[i] = pattern(off + i);
			sum = (sum ^ buf[i]) * 16777619u;
		}
		if (write_full(sd->fd, buf, n) != n)
			break;
		off += n;
		sd->sent = off;
	}
	sd->sum = sum;
	shutdown(sd->fd, SHUT_WR);
	return NULL;
}

static void test_echo_4mib(void)
{
	uint16_t port;
	int l = tcp_listener(&port, 1);
	pid_t pid = fork();
	if (pid == 0)
		echo_server(l);
	close(l);
	int c = tcp_connect(port);
	CHECK("echo_connect", c >= 0, "errno=%d", errno);
	if (c < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	struct sender sd = { c, 0, 0 };
	pthread_t th;
	long t0 = now_ms();
	start_thread(&th, sender_fn, &sd);
	static unsigned char buf[CHUNK];
	long got = 0, bad_at = -1, n;
	uint32_t sum = 2166136261u;
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		for (long i = 0; i < n; i++) {
			if (bad_at < 0 && buf[i] != pattern(got + i))
				bad_at = got + i;
			sum = (sum ^ buf[i]) * 16777619u;
		}
		got += n;
	}
	int e = errno;
	pthread_join(th, NULL);
	long dt = now_ms() - t0;
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK("echo_4mib_all_sent", sd.sent == ECHO_BYTES, "sent=%ld", sd.sent);
	CHECK("echo_4mib_eof_after_all", n == 0 && got == ECHO_BYTES, "got=%ld last=%ld errno=%d", got, n, e);
	CHECK("echo_4mib_in_order", bad_at < 0, "first wrong byte at offset %ld", bad_at);
	CHECK("echo_4mib_checksum", sum == sd.sum, "sent sum %#x received sum %#x (%ld ms)", sd.sum, sum, dt);
	CHECK("echo_server_exit_ok", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%#x", st);
	close(c);
}

/* ---- parallel flows ---- */

#define FLOWS 4
#define FLOW_BYTES (8L << 20)

static inline unsigned char flow_byte(int flow, long i) { return pattern(i + 7919L * flow); }

struct flow_reader { int fd, flow; long got, bad_at; };

static void *flow_reader_fn(void *arg)
{
	struct flow_reader *fr = arg;
	static __thread unsigned char buf[CHUNK];
	long n;
	fr->bad_at = -1;
	while ((n = read(fr->fd, buf, sizeof(buf))) > 0) {
		for (long i = 0; i < n; i++)
			if (fr->bad_at < 0 && buf[i] != flow_byte(fr->flow, fr->got + i))
				fr->bad_at = fr->got + i;
		fr->got += n;
	}
	return NULL;
}

static void flow_sender(uint16_t port, int flow)
{
	alarm(60);
	int c = tcp_connect(port);
	if (c < 0)
		_exit(2);
	unsigned char id = (unsigned char)flow;
	if (write(c, &id, 1) != 1)                   /* which flow this connection is */
		_exit(3);
	static unsigned char buf[CHUNK];
	for (long off = 0; off < FLOW_BYTES;) {
		long n = CHUNK - (off / CHUNK % 5) * 3333 - flow * 17;
		if (n > FLOW_BYTES - off)
			n = FLOW_BYTES - off;
		for (long i = 0; i < n; i++)
			buf[i] = flow_byte(flow, off + i);
		if (write_full(c, buf, n) != n)
			_exit(4);
		off += n;
	}
	close(c);
	_exit(0);
}

static void test_parallel_flows(void)
{
	uint16_t port;
	int l = tcp_listener(&port, FLOWS);
	pid_t pids[FLOWS];
	for (int f = 0; f < FLOWS; f++) {
		pids[f] = fork();
		if (pids[f] == 0)
			flow_sender(port, f);
	}
	struct flow_reader fr[FLOWS];
	pthread_t th[FLOWS];
	int started = 0;
	memset(fr, 0, sizeof(fr));
	for (int k = 0; k < FLOWS; k++) {
		int s = accept(l, NULL, NULL);
		unsigned char id = 0xff;
		if (s < 0 || read_full(s, &id, 1) != 1 || id >= FLOWS || fr[id].fd) {
			FAIL("parallel_flows_accept", "s=%d id=%d errno=%d", s, id, errno);
			break;
		}
		fr[id] = (struct flow_reader){ .fd = s, .flow = id };
		start_thread(&th[id], flow_reader_fn, &fr[id]);
		started++;
	}
	close(l);
	bool ok = started == FLOWS;
	for (int f = 0; f < FLOWS; f++) {
		if (fr[f].fd)
			pthread_join(th[f], NULL);
		int st = -1;
		waitpid(pids[f], &st, 0);
		ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0 && fr[f].got == FLOW_BYTES && fr[f].bad_at < 0;
		if (!ok) {
			FAIL("parallel_flows_whole_and_in_order", "flow %d: status=%#x got=%ld bad_at=%ld", f, st, fr[f].got,
			     fr[f].bad_at);
			break;
		}
		close(fr[f].fd);
	}
	if (ok)
		PASS("parallel_flows_whole_and_in_order");
}

/* ---- the I/O calls ---- */

static void test_io_calls(void)
{
	int c, s;
	if (tcp_pair(&c, &s) < 0) {
		FAIL("io_pair", "errno=%d", errno);
		return;
	}
	char buf[64];
	long n = write(c, "hello", 5);
	long m = read_full(s, buf, 5);
	CHECK("write_read", n == 5 && m == 5 && !memcmp(buf, "hello", 5), "n=%ld m=%ld", n, m);

	struct iovec wv[3] = { { "ab", 2 }, { "", 0 }, { "cdefg", 5 } };
	n = writev(s, wv, 3);
	memset(buf, 0, sizeof(buf));
	char b1[3], b2[10];
	struct iovec rv[2] = { { b1, 3 }, { b2, sizeof(b2) } };
	long t0 = now_ms();
	m = 0;
	while (m < 7 && now_ms() - t0 < 2000) {          /* the 7 bytes may come in pieces */
		long k = readv(c, rv, 2);
		if (k <= 0)
			break;
		m += k;
		if (m < 7) {
			/* rebuild the vector past what arrived */
			long off = m;
			rv[0] = (struct iovec){ b1 + (off < 3 ? off : 3), off < 3 ? 3 - off : 0 };
			rv[1] = (struct iovec){ b2 + (off > 3 ? off - 3 : 0), sizeof(b2) - (off > 3 ? off - 3 : 0) };
		}
	}
	CHECK("writev_readv", n == 7 && m == 7 && !memcmp(b1, "abc", 3) && !memcmp(b2, "defg", 4), "n=%ld m=%ld", n, m);

	n = send(c, "xyz", 3, 0);
	memset(buf, 0, sizeof(buf));
	m = recv(s, buf, sizeof(buf), 0);
	if (m > 0 && m < 3)
		m += read_full(s, buf + m, 3 - m);
	CHECK("send_recv", n == 3 && m == 3 && !memcmp(buf, "xyz", 3), "n=%ld m=%ld", n, m);

	n = sendto(s, "12345", 5, 0, NULL, 0);
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	memset(&from, 0xaa, sizeof(from));
	m = recvfrom(c, buf, 5, MSG_WAITALL, (struct sockaddr *)&from, &flen);
	CHECK("sendto_recvfrom_stream", n == 5 && m == 5 && !memcmp(buf, "12345", 5), "n=%ld m=%ld errno=%d", n, m, errno);
	CHECK("recvfrom_stream_no_address", flen == 0, "addrlen=%u", flen);

	char h1[] = "head-", h2[] = "body-", h3[] = "tail";
	struct iovec mv[3] = { { h1, 5 }, { h2, 5 }, { h3, 4 } };
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = mv;
	mh.msg_iovlen = 3;
	n = sendmsg(c, &mh, 0);
	char r1[6] = { 0 }, r2[32] = { 0 };
	struct iovec rmv[2] = { { r1, 5 }, { r2, 9 } };
	struct msghdr rh;
	memset(&rh, 0, sizeof(rh));
	rh.msg_iov = rmv;
	rh.msg_iovlen = 2;
	m = recvmsg(s, &rh, MSG_WAITALL);
	CHECK("sendmsg_recvmsg_scatter", n == 14 && m == 14 && !memcmp(r1, "head-", 5) && !memcmp(r2, "body-tail", 9) &&
	      rh.msg_flags == 0, "n=%ld m=%ld flags=%#x r1=%s r2=%s", n, m, rh.msg_flags, r1, r2);
	CHECK("recvmsg_stream_namelen_0", rh.msg_namelen == 0, "namelen=%u", rh.msg_namelen);

	/* MSG_PEEK leaves the data queued */
	write(c, "peekaboo", 8);
	memset(buf, 0, sizeof(buf));
	m = recv(s, buf, 4, MSG_PEEK | MSG_WAITALL);
	CHECK("msg_peek", m == 4 && !memcmp(buf, "peek", 4), "m=%ld buf=%.8s", m, buf);
	memset(buf, 0, sizeof(buf));
	m = recv(s, buf, 8, MSG_WAITALL);
	CHECK("after_peek_data_still_there", m == 8 && !memcmp(buf, "peekaboo", 8), "m=%ld buf=%.8s", m, buf);

	/* MSG_DONTWAIT on a blocking socket */
	errno = 0;
	t0 = now_ms();
	m = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK("msg_dontwait_eagain", m == -1 && errno == EAGAIN && now_ms() - t0 < 1000, "m=%ld errno=%d", m, errno);
	int fl = fcntl(s, F_GETFL);
	CHECK("msg_dontwait_leaves_blocking", !(fl & O_NONBLOCK), "fl=%#x", fl);

	/* FIONREAD */
	int avail = -1;
	int r = ioctl(s, FIONREAD, &avail);
	CHECK("fionread_empty", r == 0 && avail == 0, "r=%d avail=%d", r, avail);
	write(c, "0123456789", 10);
	t0 = now_ms();
	while ((r = ioctl(s, FIONREAD, &avail)) == 0 && avail < 10 && now_ms() - t0 < 2000)
		sleep_ms(5);
	CHECK("fionread_with_data", r == 0 && avail == 10, "r=%d avail=%d errno=%d", r, avail, errno);
	recv(s, buf, 3, 0);
	ioctl(s, FIONREAD, &avail);
	CHECK("fionread_after_partial_read", avail == 7, "avail=%d", avail);
	recv(s, buf, 7, MSG_WAITALL);

	/* FIONBIO */
	int on = 1;
	r = ioctl(s, FIONBIO, &on);
	fl = fcntl(s, F_GETFL);
	errno = 0;
	m = read(s, buf, 1);
	CHECK("fionbio_on", r == 0 && (fl & O_NONBLOCK) && m == -1 && errno == EAGAIN, "r=%d fl=%#x m=%ld errno=%d", r, fl, m,
	      errno);
	on = 0;
	r = ioctl(s, FIONBIO, &on);
	fl = fcntl(s, F_GETFL);
	CHECK("fionbio_off", r == 0 && !(fl & O_NONBLOCK), "r=%d fl=%#x", r, fl);
	close(c);
	close(s);
}

/* MSG_WAITALL: the data comes in three writes with pauses; one recv returns all of it */
struct slow_writer { int fd; pthread_t th; };

static void *slow_writer_fn(void *arg)
{
	struct slow_writer *w = arg;
	const char *parts[3] = { "alpha-", "beta-", "gamma" };
	for (int i = 0; i < 3; i++) {
		sleep_ms(40);
		write(w->fd, parts[i], strlen(parts[i]));
	}
	return NULL;
}

static void test_waitall(void)
{
	int c, s;
	if (tcp_pair(&c, &s) < 0) {
		FAIL("waitall_pair", "errno=%d", errno);
		return;
	}
	struct slow_writer w = { .fd = c };
	start_thread(&w.th, slow_writer_fn, &w);
	char buf[32] = { 0 };
	long m = recv(s, buf, 16, MSG_WAITALL);
	pthread_join(w.th, NULL);
	CHECK("msg_waitall_gathers_writes", m == 16 && !memcmp(buf, "alpha-beta-gamma", 16), "m=%ld buf=%s", m, buf);

	/* MSG_WAITALL stops early at EOF with what there is */
	write(c, "short", 5);
	shutdown(c, SHUT_WR);
	memset(buf, 0, sizeof(buf));
	m = recv(s, buf, 20, MSG_WAITALL);
	CHECK("msg_waitall_short_at_eof", m == 5 && !memcmp(buf, "short", 5), "m=%ld buf=%s", m, buf);
	close(c);
	close(s);
}

/* ---- single big writes ---- */

static const long big_sizes[] = { (1L << 20) + 7, 200000, 3 * 65536 + 1, 131072 };
#define BIG_TOTAL ((1L << 20) + 7 + 200000 + 3 * 65536 + 1 + 131072)

struct big_writer { pthread_t th; int fd; long written[4]; };

static void *big_writer_fn(void *arg)
{
	struct big_writer *w = arg;
	static unsigned char buf[(1L << 20) + 7];
	long off = 0;
	for (int k = 0; k < 4; k++) {
		for (long i = 0; i < big_sizes[k]; i++)
			buf[i] = pattern(off + i);
		w->written[k] = write(w->fd, buf, big_sizes[k]);   /* blocking: all of it or an error */
		if (w->written[k] != big_sizes[k])
			break;
		off += big_sizes[k];
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

static void test_big_writes(void)
{
	int c, s;
	if (tcp_pair(&c, &s) < 0) {
		FAIL("big_writes_pair", "errno=%d", errno);
		return;
	}
	struct big_writer w = { .fd = c };
	start_thread(&w.th, big_writer_fn, &w);
	static unsigned char buf[4000];                 /* small reads: the writer runs far ahead */
	long total = 0, bad = -1, n;
	while ((n = read(s, buf, sizeof(buf))) > 0) {
		for (long i = 0; i < n && bad < 0; i++)
			if (buf[i] != pattern(total + i))
				bad = total + i;
		total += n;
	}
	pthread_join(w.th, NULL);
	int short_k = -1;
	for (int k = 0; k < 4 && short_k < 0; k++)
		if (w.written[k] != big_sizes[k])
			short_k = k;
	CHECK("big_writes_return_their_size", short_k < 0, "write %d: %ld of %ld", short_k,
	      short_k < 0 ? 0 : w.written[short_k], short_k < 0 ? 0 : big_sizes[short_k]);
	CHECK("big_writes_arrive_whole_in_order", n == 0 && total == BIG_TOTAL && bad < 0,
	      "n=%ld total=%ld of %ld first bad byte %ld", n, total, BIG_TOTAL, bad);
	close(c);
	close(s);
}

/* ---- timeouts and signals ---- */

static void test_timeouts(void)
{
	int c, s;
	if (tcp_pair(&c, &s) < 0) {
		FAIL("timeouts_pair", "errno=%d", errno);
		return;
	}
	struct timeval tv = { 0, 200000 };
	int r = setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK("so_rcvtimeo_set", r == 0, "r=%d errno=%d", r, errno);
	char buf[8];
	long t0 = now_ms();
	errno = 0;
	long m = recv(s, buf, sizeof(buf), 0);
	long dt = now_ms() - t0;
	CHECK("so_rcvtimeo_recv_eagain", m == -1 && errno == EAGAIN && dt >= 180 && dt < 3000, "m=%ld errno=%d dt=%ld", m,
	      errno, dt);
	write(c, "d", 1);
	m = recv(s, buf, sizeof(buf), 0);
	CHECK("so_rcvtimeo_data_before_timeout", m == 1, "m=%ld errno=%d", m, errno);
	struct timeval got = { 9, 9 };
	socklen_t len = sizeof(got);
	r = getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &len);
	CHECK("so_rcvtimeo_get", r == 0 && len == sizeof(got) && got.tv_sec == 0 && got.tv_usec == 200000,
	      "r=%d len=%u %ld.%06ld", r, len, (long)got.tv_sec, (long)got.tv_usec);

	tv = (struct timeval){ 1, 500000 };
	r = setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	len = sizeof(got);
	memset(&got, 0, sizeof(got));
	int r2 = getsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &got, &len);
	CHECK("so_sndtimeo_round_trip", r == 0 && r2 == 0 && got.tv_sec == 1 && got.tv_usec == 500000, "r=%d r2=%d %ld.%06ld",
	      r, r2, (long)got.tv_sec, (long)got.tv_usec);
	tv = (struct timeval){ 0, 0 };
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	len = sizeof(got);
	getsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &got, &len);
	CHECK("so_sndtimeo_zero_is_none", got.tv_sec == 0 && got.tv_usec == 0, "%ld.%06ld", (long)got.tv_sec, (long)got.tv_usec);
	close(c);
	close(s);
}

static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

static void set_alarm_handler(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void arm_timer_ms(int ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

struct late_write { int fd, ms; pthread_t th; };

static void *late_write_fn(void *arg)
{
	struct late_write *lw = arg;
	sleep_ms(lw->ms);
	write(lw->fd, "late", 4);
	return NULL;
}

static void test_eintr(void)
{
	int c, s;
	if (tcp_pair(&c, &s) < 0) {
		FAIL("eintr_pair", "errno=%d", errno);
		return;
	}
	char buf[8];
	set_alarm_handler(0);
	alarms = 0;
	long t0 = now_ms();
	arm_timer_ms(100);
	errno = 0;
	long m = recv(s, buf, sizeof(buf), 0);
	int e = errno;
	long dt = now_ms() - t0;
	CHECK("recv_eintr_without_sa_restart", m == -1 && e == EINTR && alarms == 1 && dt >= 90, "m=%ld errno=%d alarms=%d dt=%ld",
	      m, e, alarms, dt);

	/* the same with SA_RESTART: the signal comes at 100 ms, the data at 300 ms */
	set_alarm_handler(SA_RESTART);
	alarms = 0;
	struct late_write lw = { .fd = c, .ms = 300 };
	t0 = now_ms();
	start_thread(&lw.th, late_write_fn, &lw);
	arm_timer_ms(100);
	memset(buf, 0, sizeof(buf));
	m = recv(s, buf, sizeof(buf), 0);
	dt = now_ms() - t0;
	pthread_join(lw.th, NULL);
	CHECK("recv_restarted_with_sa_restart", m >= 1 && !memcmp(buf, "late", m) && alarms == 1 && dt >= 250,
	      "m=%ld errno=%d alarms=%d dt=%ld", m, errno, alarms, dt);
	if (m > 0 && m < 4)
		recv(s, buf, 4 - m, MSG_WAITALL);

	/* and accept() is interrupted the same way */
	uint16_t port;
	int l = tcp_listener(&port, 1);
	set_alarm_handler(0);
	alarms = 0;
	arm_timer_ms(100);
	errno = 0;
	int a = accept(l, NULL, NULL);
	e = errno;
	CHECK("accept_eintr_without_sa_restart", a == -1 && e == EINTR && alarms == 1, "a=%d errno=%d alarms=%d", a, e, alarms);
	close(l);
	signal(SIGALRM, SIG_IGN);
	close(c);
	close(s);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	start_watchdog(120);
	test_addresses();
	test_echo_4mib();
	test_parallel_flows();
	test_io_calls();
	test_waitall();
	test_big_writes();
	test_timeouts();
	test_eintr();
	return t_finish();
}
