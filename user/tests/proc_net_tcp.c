/*
 * /proc/net/tcp, the same on Linux and in Ember: the header line; a listener on 127.0.0.1 is a
 * line "0100007F:PORT 00000000:0000 0A"; a connected pair gives two 01 (ESTABLISHED) lines
 * with the ports crossed; bytes sent and not yet read show in the receiver's rx_queue; every
 * line is 149 characters wide (plus the newline).
 */
#define _GNU_SOURCE
#include "sockutil.h"

struct tcp_line {
	unsigned laddr, lport, raddr, rport, st, txq, rxq;
	size_t len;
};

static int read_tcp(struct tcp_line *out, int max, char *header, size_t hsize)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	if (!f)
		return -1;
	char line[512];
	int n = 0;
	if (!fgets(header, (int)hsize, f))
		header[0] = 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		struct tcp_line *t = &out[n];
		unsigned sl;
		if (sscanf(line, "%u: %X:%X %X:%X %X %X:%X", &sl, &t->laddr, &t->lport, &t->raddr, &t->rport, &t->st,
			   &t->txq, &t->rxq) == 8) {
			t->len = strlen(line);
			n++;
		}
	}
	fclose(f);
	return n;
}

static struct tcp_line lines[4096];

static struct tcp_line *find(int n, unsigned lport, unsigned rport, unsigned st)
{
	for (int i = 0; i < n; i++)
		if (lines[i].laddr == 0x0100007F && lines[i].lport == lport && lines[i].rport == rport && lines[i].st == st)
			return &lines[i];
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	start_watchdog(60);
	uint16_t port = 0;
	int l = tcp_listener(&port, 4);
	int c = tcp_connect(port);
	int a = accept(l, NULL, NULL);
	uint16_t cport = local_port(c);
	write(c, "12345", 5);
	sleep_ms(100);
	char header[256];
	int n = read_tcp(lines, 4096, header, sizeof(header));
	CHECK("tcp_header", !strncmp(header, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 95),
	      "header=%s", header);
	struct tcp_line *lis = find(n, port, 0, 0x0A);
	CHECK("tcp_listener_line", lis && lis->raddr == 0 && lis->len == 150, "n=%d len=%zu", n, lis ? lis->len : 0);
	struct tcp_line *srv = find(n, port, cport, 0x01), *cli = find(n, cport, port, 0x01);
	CHECK("tcp_established_lines", srv && cli && srv->raddr == 0x0100007F && cli->raddr == 0x0100007F, "srv=%p cli=%p",
	      (void *)srv, (void *)cli);
	CHECK("tcp_rx_queue", srv && srv->rxq == 5, "rxq=%u", srv ? srv->rxq : 0);
	close(a);
	close(c);
	close(l);
	return t_finish();
}
