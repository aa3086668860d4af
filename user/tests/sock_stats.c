/*
 * The flow-counter system call (ember_netstat, include/uapi/ember/netstat.h), read while traffic runs:
 *   - an 8 MiB transfer over 127.0.0.1 arrives whole (checked on both kernels);
 *   - Ember: during the transfer the sender's record shows its ports, ESTABLISHED, a CPU below
 *     the squeue count and bytes_out growing between two reads; afterwards the receiver's
 *     bytes_in and the sender's bytes_out are exactly 8 MiB; a listener shows state LISTEN;
 *     the squeue records count entries; a short buffer still returns the number of records;
 *     a bad `what` gives EINVAL and a bad buffer EFAULT.
 *   - Linux has no such call: it answers ENOSYS, and the Ember-only checks are skipped there.
 */
#include "sockutil.h"
#include <stdio.h>
#include <sys/syscall.h>
#include "ember/netstat.h"

#define TOTAL (8L << 20)
#define CHUNK 65536
#define MAX_FLOWS 256

static long netstat(int what, void *buf, size_t size) { return syscall(SYS_ember_netstat, what, buf, size); }

struct sender { int fd; long sent; };

static void *send_fn(void *arg)
{
	struct sender *s = arg;
	static char buf[CHUNK];
	for (long i = 0; i < CHUNK; i++)
		buf[i] = (char)(i * 7);
	while (s->sent < TOTAL) {
		long n = write(s->fd, buf, CHUNK);
		if (n <= 0)
			break;
		__atomic_add_fetch(&s->sent, n, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The record of the TCP socket with local port lport and remote port rport (0: any). */
static bool find_flow(uint16_t lport, uint16_t rport, struct ember_flow_stat *out)
{
	static struct ember_flow_stat recs[MAX_FLOWS];
	long n = netstat(EMBER_NETSTAT_FLOWS, recs, sizeof(recs));
	for (long i = 0; i < n && i < MAX_FLOWS; i++)
		if (recs[i].lport == lport && (!rport || recs[i].rport == rport)) {
			*out = recs[i];
			return true;
		}
	return false;
}

int main(void)
{
	start_watchdog(120);
	errno = 0;
	long probe = netstat(EMBER_NETSTAT_SQUEUES, NULL, 0);
	bool ember = probe >= 0;
	if (!ember)
		CHECK("linux_answers_enosys", probe == -1 && errno == ENOSYS, "r=%ld errno=%d", probe, errno);
	else
		CHECK("squeue_count", probe >= 1 && probe <= 64, "r=%ld", probe);

	uint16_t lport = 0;
	int l = tcp_listener(&lport, 4);
	int c = tcp_connect(lport);
	int s = accept(l, NULL, NULL);
	uint16_t cport = local_port(c);
	struct ember_flow_stat f1, f2, fl;
	if (ember) {
		bool ok = find_flow(lport, 0, &fl) && fl.state == 10;
		CHECK("listener_state_listen", ok, "found state=%u", fl.state);
	}

	struct sender snd = { c, 0 };
	pthread_t th;
	start_thread(&th, send_fn, &snd);
	static char rbuf[CHUNK];
	long got = 0, sum = 0, want_sum = 0;
	bool mid_checked = false;
	while (got < TOTAL) {
		long n = read(s, rbuf, sizeof(rbuf));
		if (n <= 0)
			break;
		for (long i = 0; i < n; i++)
			sum += (unsigned char)rbuf[i];
		got += n;
		if (ember && !mid_checked && got > TOTAL / 4) {
			/* two reads of the sender's counters while the transfer runs */
			bool a = find_flow(cport, lport, &f1), b = false;
			/* let more data move: read until the sender has sent more (what we read first may all
			 * have been queued already), or until three quarters of the transfer are in */
			while (got < TOTAL * 3 / 4) {
				long m = read(s, rbuf, sizeof(rbuf));
				if (m <= 0)
					break;
				for (long i = 0; i < m; i++)
					sum += (unsigned char)rbuf[i];
				got += m;
				if ((b = find_flow(cport, lport, &f2)) && f2.bytes_out > f1.bytes_out)
					break;
			}
			CHECK("flow_found_while_running", a && b, "a=%d b=%d", a, b);
			CHECK("flow_ports_state_cpu", f1.rport == lport && f1.state == 1 && f1.proto == 6 &&
			      f1.cpu < (unsigned)probe && f1.laddr == LOOPBACK && f1.raddr == LOOPBACK,
			      "rport=%u state=%u proto=%u cpu=%u", f1.rport, f1.state, f1.proto, f1.cpu);
			CHECK("bytes_out_grows_while_running", f2.bytes_out > f1.bytes_out && f1.bytes_out > 0,
			      "%llu -> %llu", (unsigned long long)f1.bytes_out, (unsigned long long)f2.bytes_out);
			mid_checked = true;
		}
	}
	pthread_join(th, NULL);
	for (long i = 0; i < TOTAL; i++)
		want_sum += (unsigned char)(char)((i % CHUNK) * 7);
	CHECK("transfer_whole", got == TOTAL && sum == want_sum, "got=%ld sum=%ld want=%ld", got, sum, want_sum);

	if (ember) {
		struct ember_flow_stat fs, fc;
		bool a = find_flow(lport, cport, &fs);
		CHECK("receiver_bytes_in_exact", a && fs.bytes_in == (uint64_t)TOTAL && fs.rx_queued == 0,
		      "found=%d in=%llu queued=%u", a, (unsigned long long)fs.bytes_in, fs.rx_queued);
		long t0 = now_ms();
		bool b;
		while ((b = find_flow(cport, lport, &fc)) && fc.bytes_out < (uint64_t)TOTAL && now_ms() - t0 < 5000)
			sleep_ms(10);                      /* the last acknowledgements */
		CHECK("sender_bytes_out_exact", b && fc.bytes_out == (uint64_t)TOTAL, "found=%d out=%llu", b,
		      (unsigned long long)fc.bytes_out);

		struct ember_sq_stat sq[64];
		long n = netstat(EMBER_NETSTAT_SQUEUES, sq, sizeof(sq));
		uint64_t items = 0;
		for (long i = 0; i < n && i < 64; i++)
			items += sq[i].items;
		CHECK("squeue_items_counted", n == probe && items > 0, "n=%ld items=%llu", n, (unsigned long long)items);
		struct ember_flow_stat one;
		long all = netstat(EMBER_NETSTAT_FLOWS, &one, sizeof(one) - 1);
		CHECK("short_buffer_counts", all >= 3, "r=%ld", all);
		errno = 0;
		long r = netstat(99, NULL, 0);
		CHECK("bad_what_einval", r == -1 && errno == EINVAL, "r=%ld errno=%d", r, errno);
		errno = 0;
		r = netstat(EMBER_NETSTAT_FLOWS, BAD_PTR, 4096);
		CHECK("bad_buffer_efault", r == -1 && errno == EFAULT, "r=%ld errno=%d", r, errno);
	} else {
		SKIP("ember_counters", "Linux has no ember_netstat");
	}
	close(c);
	close(s);
	close(l);
	return t_finish();
}
