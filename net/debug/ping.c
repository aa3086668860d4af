/*
 * Kernel ping (stack_ping in net/stack.h; the monitor's `ping`): ICMP echo requests through an lwIP
 * raw pcb, before there are sockets. IPv6 (stack_ping6: an address with a colon): ICMPv6 echo
 * through an IPv6 raw pcb that has lwIP compute the checksum (it covers a pseudo-header).
 *
 * The monitor thread runs stack_ping. It opens the pcb and sends each request with squeue_call on
 * its CPU's squeue (lwIP only under the stack lock), and sleeps on ping_wq for the reply. The raw
 * pcb's receive callback runs in squeue context on whichever squeue the reply was classified to
 * (ICMP: the receiving CPU's); it records the reply's arrival time, TTL and length in the slot of
 * its sequence number and wakes ping_wq. Replies that are not ours (other id, not an echo reply)
 * are left to lwIP (return 0), so echo requests to us are still answered by icmp_input.
 *
 * One ping runs at a time (ping_busy); the slots are written under the stack lock and read by the
 * pinger after it sees `ns` set (acquire).
 */
#include "net/stack.h"
#include "net/debug/debug.h"
#include "lwip/raw.h"
#include "lwip/ip.h"
#include "lwip/inet_chksum.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/icmp6.h"
#include "lwip/ip6_addr.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "kernel/timer.h"

#define PING_MAX_COUNT 1000
#define PING_MAX_DATA 1400
#define ICMP6_CHKSUM_OFFSET 2          /* the checksum field of an ICMPv6 header */
#define PING_PATTERN_OFF 8             /* the payload starts with the send time (8 bytes) */

struct ping_slot {
	uint64_t sent_ns;
	uint64_t ns;                       /* reply arrival, 0 = none yet */
	unsigned ttl, len;
};

static struct ping {
	struct raw_pcb *pcb;
	uint16_t id;
	ip_addr_t dst;
	unsigned datalen;
	int count;
	uint16_t seq;                      /* for the sender */
	struct ping_slot slot[PING_MAX_COUNT];
	int err;
} ping;
static int ping_busy;
static struct waitq ping_wq = WAITQ_INIT(ping_wq, "ping");
static uint16_t next_id = 0x4500;

static u8_t ping_recv(void *arg __unused, struct raw_pcb *pcb __unused, struct pbuf *p, const ip_addr_t *addr __unused)
{
	struct ip_hdr iph;
	struct ip6_hdr ip6h;
	struct icmp_echo_hdr e;
	u16_t hlen;
	unsigned ttl, reply;
	if (IP_IS_V6_VAL(ping.dst)) {          /* an IPv6 raw pcb sees the packet from its IPv6 header */
		if (pbuf_copy_partial(p, &ip6h, sizeof(ip6h), 0) != sizeof(ip6h))
			return 0;
		hlen = IP6_HLEN;
		ttl = IP6H_HOPLIM(&ip6h);
		reply = ICMP6_TYPE_EREP;
	} else {
		if (pbuf_copy_partial(p, &iph, sizeof(iph), 0) != sizeof(iph))
			return 0;
		hlen = (u16_t)(IPH_HL(&iph) * 4);
		ttl = IPH_TTL(&iph);
		reply = ICMP_ER;
	}
	if (pbuf_copy_partial(p, &e, sizeof(e), hlen) != sizeof(e))
		return 0;
	if (e.type != reply || lwip_ntohs(e.id) != ping.id)
		return 0;                          /* not ours (ND, MLD, other echoes): lwIP's */
	unsigned seq = lwip_ntohs(e.seqno);
	if (seq < (unsigned)ping.count && !ping.slot[seq].ns) {
		struct ping_slot *s = &ping.slot[seq];
		s->ttl = ttl;
		s->len = (unsigned)(p->tot_len - hlen);
		__atomic_store_n(&s->ns, time_ns(), __ATOMIC_RELEASE);
		wake_all(&ping_wq);
	}
	pbuf_free(p);
	return 1;
}

static void open_fn(void *arg __unused)
{
	if (IP_IS_V6_VAL(ping.dst)) {
		ping.pcb = raw_new_ip_type(IPADDR_TYPE_V6, IP6_NEXTH_ICMP6);
		if (ping.pcb) {
			ping.pcb->chksum_reqd = 1;
			ping.pcb->chksum_offset = ICMP6_CHKSUM_OFFSET;
		}
	} else {
		ping.pcb = raw_new(IP_PROTO_ICMP);
	}
	if (ping.pcb)
		raw_recv(ping.pcb, ping_recv, NULL);
}

static void close_fn(void *arg __unused)
{
	if (ping.pcb)
		raw_remove(ping.pcb);
	ping.pcb = NULL;
}

static void send_fn(void *arg __unused)
{
	size_t len = sizeof(struct icmp_echo_hdr) + ping.datalen;
	struct pbuf *p = pbuf_alloc(PBUF_IP, (u16_t)len, PBUF_RAM);
	if (!p) {
		ping.err = ERR_MEM;
		return;
	}
	struct icmp_echo_hdr *e = p->payload;
	e->type = IP_IS_V6_VAL(ping.dst) ? ICMP6_TYPE_EREQ : ICMP_ECHO;
	e->code = 0;
	e->chksum = 0;
	e->id = lwip_htons(ping.id);
	e->seqno = lwip_htons(ping.seq);
	uint8_t *d = (uint8_t *)(e + 1);
	uint64_t now = time_ns();
	for (unsigned i = 0; i < ping.datalen; i++)
		d[i] = i < PING_PATTERN_OFF ? (uint8_t)(now >> (8 * i)) : (uint8_t)i;
	if (!IP_IS_V6_VAL(ping.dst))
		e->chksum = inet_chksum(e, (u16_t)len);   /* ICMPv6: raw_sendto fills it in */
	ping.slot[ping.seq].sent_ns = now;
	ping.err = raw_sendto(ping.pcb, p, &ping.dst);
	pbuf_free(p);
}

/* Median round trip of the answered requests (insertion sort into rtts: count <= PING_MAX_COUNT). */
static uint64_t rtts[PING_MAX_COUNT];
static uint64_t median_rtt(int count)
{
	int n = 0;
	for (int i = 0; i < count; i++) {
		struct ping_slot *s = &ping.slot[i];
		uint64_t ns = __atomic_load_n(&s->ns, __ATOMIC_ACQUIRE);
		if (!ns || !s->sent_ns)
			continue;
		uint64_t v = ns - s->sent_ns;
		int j = n++;
		for (; j > 0 && rtts[j - 1] > v; j--)
			rtts[j] = rtts[j - 1];
		rtts[j] = v;
	}
	return n ? (n % 2 ? rtts[n / 2] : (rtts[n / 2 - 1] + rtts[n / 2]) / 2) : 0;
}

static void print_ms(char *buf, size_t size, uint64_t ns)
{
	uint64_t us = ns / 1000;
	snprintf(buf, size, "%llu.%03llu", (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
}

static int ping_run(const ip_addr_t *dst, const char *ab, int count, unsigned interval_ms, unsigned timeout_ms,
		    unsigned datalen, bool quiet);

int stack_ping(uint32_t dst, int count, unsigned interval_ms, unsigned timeout_ms, unsigned datalen, bool quiet)
{
	char ab[16];
	ipv4_format(dst, ab);
	ip_addr_t a;
	ip_addr_set_ip4_u32_val(a, lwip_htonl(dst));
	return ping_run(&a, ab, count, interval_ms, timeout_ms, datalen, quiet);
}

int stack_ping6(const char *dst, int count, unsigned interval_ms, unsigned timeout_ms, unsigned datalen, bool quiet)
{
	ip_addr_t a;
	ip_addr_set_zero_ip6(&a);
	if (!ip6addr_aton(dst, ip_2_ip6(&a)) || ip6_addr_islinklocal(ip_2_ip6(&a))) {
		printk("ping: %s: give a global or unique-local IPv6 address (no zones here)\n", dst);
		return -1;
	}
	return ping_run(&a, dst, count, interval_ms, timeout_ms, datalen, quiet);
}

static int ping_run(const ip_addr_t *dst, const char *ab, int count, unsigned interval_ms, unsigned timeout_ms,
		    unsigned datalen, bool quiet)
{
	if (count < 1 || count > PING_MAX_COUNT || datalen > PING_MAX_DATA) {
		printk("ping: count 1..%d, size 0..%d\n", PING_MAX_COUNT, PING_MAX_DATA);
		return -1;
	}
	if (stack_wait_ready(5 * NSEC_PER_SEC) < 0) {
		printk("ping: the stack is not up\n");
		return -1;
	}
	if (__atomic_exchange_n(&ping_busy, 1, __ATOMIC_ACQUIRE)) {
		printk("ping: another ping is running\n");
		return -1;
	}
	struct squeue *sq = squeue_local();
	memset(ping.slot, 0, sizeof(ping.slot[0]) * (size_t)count);
	ping.count = count;
	ping.datalen = datalen;
	ping.id = next_id++;
	ip_addr_copy(ping.dst, *dst);
	squeue_call(sq, open_fn, NULL);
	if (!ping.pcb) {
		printk("ping: no memory\n");
		__atomic_store_n(&ping_busy, 0, __ATOMIC_RELEASE);
		return -1;
	}
	printk("PING %s: %u data bytes\n", ab, datalen);
	int received = 0;
	uint64_t min = UINT64_MAX, max = 0, sum = 0;
	for (int i = 0; i < count; i++) {
		uint64_t start = time_ns();
		ping.seq = (uint16_t)i;
		squeue_call(sq, send_fn, NULL);
		if (ping.err != ERR_OK) {
			printk("ping: icmp_seq=%d: send failed (lwIP error %d)\n", i, ping.err);
		} else {
			struct ping_slot *s = &ping.slot[i];
			int r = wait_event_timeout(&ping_wq, __atomic_load_n(&s->ns, __ATOMIC_ACQUIRE) != 0,
						   (uint64_t)timeout_ms * NSEC_PER_MSEC);
			if (r == 0) {
				uint64_t rtt = s->ns - s->sent_ns;
				char t[24];
				print_ms(t, sizeof(t), rtt);
				if (!quiet)
					printk("%u bytes from %s: icmp_seq=%d ttl=%u time=%s ms\n", s->len, ab, i, s->ttl, t);
				received++;
				sum += rtt;
				min = MIN(min, rtt);
				max = MAX(max, rtt);
			} else if (!quiet) {
				printk("no reply from %s: icmp_seq=%d within %u ms\n", ab, i, timeout_ms);
			}
		}
		uint64_t spent = time_ns() - start;
		if (i + 1 < count && spent < (uint64_t)interval_ms * NSEC_PER_MSEC)
			msleep(((uint64_t)interval_ms * NSEC_PER_MSEC - spent) / NSEC_PER_MSEC);
	}
	squeue_call(sq, close_fn, NULL);
	__atomic_store_n(&ping_busy, 0, __ATOMIC_RELEASE);
	printk("--- %s ping statistics ---\n", ab);
	printk("%d packets transmitted, %d received, %d%% packet loss\n", count, received,
	       (count - received) * 100 / count);
	if (received) {
		char a[24], b[24], c[24], d[24];
		print_ms(a, sizeof(a), min);
		print_ms(b, sizeof(b), sum / (uint64_t)received);
		print_ms(c, sizeof(c), max);
		print_ms(d, sizeof(d), median_rtt(count));
		printk("rtt min/avg/max = %s/%s/%s ms, median %s ms\n", a, b, c, d);
	}
	return received;
}
