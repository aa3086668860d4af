/*
 * Socket options over 127.0.0.1, as Linux answers them:
 *   - SOL_SOCKET: SO_TYPE (stream, dgram), SO_DOMAIN, SO_PROTOCOL, SO_ERROR (0 when nothing
 *     happened), SO_ACCEPTCONN (0, 1 after listen, 0 on an accepted socket), SO_REUSEADDR,
 *     SO_KEEPALIVE (non-zero reads back as 1, inherited by accepted sockets), SO_BROADCAST on
 *     UDP, SO_RCVBUF/SO_SNDBUF (set works, get >= what was set: Linux doubles), SO_LINGER
 *     (default off, {1,5} round trip, switched off again, a short optlen is EINVAL)
 *   - SO_REUSEADDR's purpose: a port whose last connection sits in TIME_WAIT cannot be bound
 *     again without it (EADDRINUSE) and can with it; the new listener works
 *   - IPPROTO_TCP: TCP_NODELAY round trip, TCP_MAXSEG > 0, TCP_INFO tcpi_state (ESTABLISHED on
 *     both ends of a connection, LISTEN on a listener, CLOSE on a fresh socket), TCP_CONGESTION
 *     a non-empty name, TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT round trips
 *   - IPPROTO_IP: IP_TTL round trip
 *   - an int option read with a larger optlen writes back 4
 */
#define _GNU_SOURCE
#include <netinet/tcp.h>
#include <poll.h>
#include "sockutil.h"

static int get_int(int fd, int level, int name, int *val)
{
	socklen_t len = sizeof(*val);
	*val = -12345;
	int r = getsockopt(fd, level, name, val, &len);
	if (r == 0 && len != sizeof(*val))
		return -2;
	return r;
}

static int set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

/* set val, read it back: want what comes back */
static void round_trip(const char *name, int fd, int level, int opt, int val, int want)
{
	int got;
	int r = set_int(fd, level, opt, val);
	int e = errno;
	int g = get_int(fd, level, opt, &got);
	CHECK(name, r == 0 && g == 0 && got == want, "set=%d (errno %d) get=%d value=%d want %d", r, e, g, got, want);
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0xff, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || len < 1)
		return -1;
	return ti.tcpi_state;
}

static void test_basic(void)
{
	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0), v;
	int r = get_int(t, SOL_SOCKET, SO_TYPE, &v);
	CHECK("so_type_stream", r == 0 && v == SOCK_STREAM, "r=%d v=%d", r, v);
	r = get_int(u, SOL_SOCKET, SO_TYPE, &v);
	CHECK("so_type_dgram", r == 0 && v == SOCK_DGRAM, "r=%d v=%d", r, v);
	r = get_int(t, SOL_SOCKET, SO_DOMAIN, &v);
	CHECK("so_domain_inet", r == 0 && v == AF_INET, "r=%d v=%d errno=%d", r, v, errno);
	r = get_int(t, SOL_SOCKET, SO_PROTOCOL, &v);
	CHECK("so_protocol_tcp", r == 0 && v == IPPROTO_TCP, "r=%d v=%d errno=%d", r, v, errno);
	r = get_int(u, SOL_SOCKET, SO_PROTOCOL, &v);
	CHECK("so_protocol_udp", r == 0 && v == IPPROTO_UDP, "r=%d v=%d errno=%d", r, v, errno);
	r = get_int(t, SOL_SOCKET, SO_ERROR, &v);
	CHECK("so_error_fresh_0", r == 0 && v == 0, "r=%d v=%d", r, v);
	r = get_int(t, SOL_SOCKET, SO_ACCEPTCONN, &v);
	CHECK("so_acceptconn_0", r == 0 && v == 0, "r=%d v=%d", r, v);

	/* a bigger optlen: the kernel writes back how much it wrote */
	long long wide = -1;
	socklen_t len = sizeof(wide);
	r = getsockopt(t, SOL_SOCKET, SO_TYPE, &wide, &len);
	CHECK("int_option_optlen_written_back", r == 0 && len == sizeof(int) && (int)wide == SOCK_STREAM, "r=%d len=%u", r, len);

	r = get_int(t, SOL_SOCKET, SO_REUSEADDR, &v);
	CHECK("so_reuseaddr_default_0", r == 0 && v == 0, "r=%d v=%d", r, v);
	round_trip("so_reuseaddr_on", t, SOL_SOCKET, SO_REUSEADDR, 1, 1);
	round_trip("so_reuseaddr_off", t, SOL_SOCKET, SO_REUSEADDR, 0, 0);
	r = get_int(t, SOL_SOCKET, SO_KEEPALIVE, &v);
	CHECK("so_keepalive_default_0", r == 0 && v == 0, "r=%d v=%d", r, v);
	round_trip("so_keepalive_nonzero_reads_1", t, SOL_SOCKET, SO_KEEPALIVE, 7, 1);
	round_trip("so_keepalive_off", t, SOL_SOCKET, SO_KEEPALIVE, 0, 0);
	r = get_int(u, SOL_SOCKET, SO_BROADCAST, &v);
	CHECK("so_broadcast_default_0", r == 0 && v == 0, "r=%d v=%d", r, v);
	round_trip("so_broadcast_on", u, SOL_SOCKET, SO_BROADCAST, 1, 1);
	round_trip("so_broadcast_off", u, SOL_SOCKET, SO_BROADCAST, 0, 0);

	int fds[2] = { t, u };
	const char *names[2] = { "tcp", "udp" };
	for (int i = 0; i < 2; i++) {
		char name[64];
		int def_r, def_s;
		int r1 = get_int(fds[i], SOL_SOCKET, SO_RCVBUF, &def_r), r2 = get_int(fds[i], SOL_SOCKET, SO_SNDBUF, &def_s);
		snprintf(name, sizeof(name), "so_rcvbuf_sndbuf_default_positive_%s", names[i]);
		CHECK(name, r1 == 0 && r2 == 0 && def_r > 0 && def_s > 0, "r=%d/%d rcvbuf=%d sndbuf=%d", r1, r2, def_r, def_s);
		r1 = set_int(fds[i], SOL_SOCKET, SO_RCVBUF, 65536);
		r2 = get_int(fds[i], SOL_SOCKET, SO_RCVBUF, &v);
		snprintf(name, sizeof(name), "so_rcvbuf_set_get_%s", names[i]);
		CHECK(name, r1 == 0 && r2 == 0 && v >= 65536, "set=%d get=%d value=%d", r1, r2, v);
		r1 = set_int(fds[i], SOL_SOCKET, SO_SNDBUF, 65536);
		r2 = get_int(fds[i], SOL_SOCKET, SO_SNDBUF, &v);
		snprintf(name, sizeof(name), "so_sndbuf_set_get_%s", names[i]);
		CHECK(name, r1 == 0 && r2 == 0 && v >= 65536, "set=%d get=%d value=%d", r1, r2, v);
	}

	struct linger lg = { 9, 9 };
	len = sizeof(lg);
	r = getsockopt(t, SOL_SOCKET, SO_LINGER, &lg, &len);
	CHECK("so_linger_default_off", r == 0 && len == sizeof(lg) && lg.l_onoff == 0 && lg.l_linger == 0, "r=%d len=%u {%d,%d}",
	      r, len, lg.l_onoff, lg.l_linger);
	lg = (struct linger){ 1, 5 };
	r = setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	memset(&lg, 0, sizeof(lg));
	len = sizeof(lg);
	int r2 = getsockopt(t, SOL_SOCKET, SO_LINGER, &lg, &len);
	CHECK("so_linger_round_trip", r == 0 && r2 == 0 && lg.l_onoff == 1 && lg.l_linger == 5, "r=%d r2=%d {%d,%d}", r, r2,
	      lg.l_onoff, lg.l_linger);
	lg = (struct linger){ 0, 0 };
	r = setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	len = sizeof(lg);
	r2 = getsockopt(t, SOL_SOCKET, SO_LINGER, &lg, &len);
	CHECK("so_linger_off_again", r == 0 && r2 == 0 && lg.l_onoff == 0, "r=%d r2=%d {%d,%d}", r, r2, lg.l_onoff, lg.l_linger);
	errno = 0;
	r = setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, sizeof(int));
	CHECK("so_linger_short_optlen_einval", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);

	round_trip("ip_ttl_round_trip", t, IPPROTO_IP, IP_TTL, 33, 33);
	round_trip("ip_ttl_udp_round_trip", u, IPPROTO_IP, IP_TTL, 17, 17);
	close(t);
	close(u);
}

static void test_tcp_options(void)
{
	int fresh = socket(AF_INET, SOCK_STREAM, 0), v;
	int r = get_int(fresh, IPPROTO_TCP, TCP_NODELAY, &v);
	CHECK("tcp_nodelay_default_0", r == 0 && v == 0, "r=%d v=%d", r, v);
	round_trip("tcp_nodelay_on", fresh, IPPROTO_TCP, TCP_NODELAY, 1, 1);
	round_trip("tcp_nodelay_off", fresh, IPPROTO_TCP, TCP_NODELAY, 0, 0);
	r = get_int(fresh, IPPROTO_TCP, TCP_MAXSEG, &v);
	CHECK("tcp_maxseg_unconnected_positive", r == 0 && v > 0, "r=%d v=%d errno=%d", r, v, errno);
	int st = tcp_state(fresh);
	CHECK("tcp_info_fresh_close", st == 7, "state=%d errno=%d", st, errno);
	round_trip("tcp_keepidle_round_trip", fresh, IPPROTO_TCP, TCP_KEEPIDLE, 60, 60);
	round_trip("tcp_keepintvl_round_trip", fresh, IPPROTO_TCP, TCP_KEEPINTVL, 5, 5);
	round_trip("tcp_keepcnt_round_trip", fresh, IPPROTO_TCP, TCP_KEEPCNT, 4, 4);
	char cc[32];
	memset(cc, 0, sizeof(cc));
	socklen_t len = sizeof(cc);
	r = getsockopt(fresh, IPPROTO_TCP, TCP_CONGESTION, cc, &len);
	CHECK("tcp_congestion_name", r == 0 && len > 0 && cc[0] >= 'a' && cc[0] <= 'z', "r=%d len=%u name=%.16s errno=%d", r, len,
	      cc, errno);
	close(fresh);

	uint16_t port;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	set_int(l, SOL_SOCKET, SO_KEEPALIVE, 1);
	struct sockaddr_in a = lo_addr(0);
	bind(l, (struct sockaddr *)&a, sizeof(a));
	port = local_port(l);
	listen(l, 4);
	r = get_int(l, SOL_SOCKET, SO_ACCEPTCONN, &v);
	CHECK("so_acceptconn_listener_1", r == 0 && v == 1, "r=%d v=%d", r, v);
	st = tcp_state(l);
	CHECK("tcp_info_listen", st == 10, "state=%d errno=%d", st, errno);
	int c = tcp_connect(port);
	int s = accept(l, NULL, NULL);
	CHECK("opts_pair", c >= 0 && s >= 0, "c=%d s=%d errno=%d", c, s, errno);
	r = get_int(s, SOL_SOCKET, SO_ACCEPTCONN, &v);
	CHECK("so_acceptconn_accepted_0", r == 0 && v == 0, "r=%d v=%d", r, v);
	r = get_int(s, SOL_SOCKET, SO_KEEPALIVE, &v);
	CHECK("so_keepalive_inherited_by_accept", r == 0 && v == 1, "r=%d v=%d", r, v);
	st = tcp_state(c);
	int st2 = tcp_state(s);
	CHECK("tcp_info_established", st == 1 && st2 == 1, "client=%d server=%d", st, st2);
	r = get_int(c, IPPROTO_TCP, TCP_MAXSEG, &v);
	CHECK("tcp_maxseg_connected_positive", r == 0 && v > 0, "r=%d v=%d", r, v);
	round_trip("tcp_nodelay_connected", c, IPPROTO_TCP, TCP_NODELAY, 1, 1);
	r = get_int(c, SOL_SOCKET, SO_ERROR, &v);
	CHECK("so_error_connected_0", r == 0 && v == 0, "r=%d v=%d", r, v);
	/* nodelay on: small writes still arrive */
	write(c, "nd", 2);
	char buf[2];
	CHECK("tcp_nodelay_data", read_full(s, buf, 2) == 2, "errno=%d", errno);
	close(c);
	close(s);
	close(l);
}

/* The server end closes first, so its side of the connection waits in TIME_WAIT on the port. */
static void test_reuseaddr_time_wait(void)
{
	int one = 1;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = lo_addr(0);
	bind(l, (struct sockaddr *)&a, sizeof(a));
	uint16_t port = local_port(l);
	listen(l, 1);
	int c = tcp_connect(port);
	int s = accept(l, NULL, NULL);
	close(l);
	close(s);                                    /* active close: TIME_WAIT on our port */
	char ch;
	long eof = read(c, &ch, 1);
	close(c);
	struct pollfd pf = { -1, 0, 0 };
	poll(&pf, 0, 50);                            /* let the last ACK go */
	CHECK("time_wait_setup", port != 0 && eof == 0, "port=%u eof=%ld", port, eof);

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a = lo_addr(port);
	errno = 0;
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_time_wait_port_eaddrinuse", r == -1 && errno == EADDRINUSE, "r=%d errno=%d", r, errno);
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("bind_time_wait_port_with_reuseaddr", r == 0, "r=%d errno=%d", r, errno);
	r = listen(fd, 1);
	c = tcp_connect(port);
	s = accept(fd, NULL, NULL);
	CHECK("reused_port_accepts", r == 0 && c >= 0 && s >= 0, "listen=%d c=%d s=%d errno=%d", r, c, s, errno);
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	close(fd);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	test_basic();
	test_tcp_options();
	test_reuseaddr_time_wait();
	return t_finish();
}
