/*
 * Rate limits of the ICMP and ICMPv6 errors Ember sends, as Linux's icmp_send and icmp6_send apply
 * them (the interface: net/icmp_ratelimit.h). Users: net/udp_unreach.c (the port unreachable for a
 * closed UDP port) and net/icmp_lwip_err.c (every error lwIP sends itself: protocol unreachable,
 * time exceeded, ICMPv6 port unreachable, parameter problem ...).
 *
 * Theory. Two token buckets, in milliseconds and messages:
 *   - the global one (icmpv4_global_allow / icmp_global_allow): while it holds credit a message
 *     passes; when empty it is refilled by icmp_msgs_per_sec per elapsed second (at most one
 *     second's worth, and not before 20 ms went by: Linux's HZ/50), capped at icmp_msgs_burst.
 *     Each message that passes takes one credit (Linux takes a random 0..2, one on average).
 *     A packet that came in on lo is not held by it.
 *   - one per destination (icmpv4_xrlim_allow / inet_peer_xrlim_allow): it gains a millisecond
 *     per millisecond up to 6 x icmp_ratelimit (XRLIM_BURST_FACTOR), and a message needs and
 *     takes icmp_ratelimit of them; a destination not seen before starts full, so a burst gets
 *     6 answers and then one per icmp_ratelimit ms (1000: one a second). icmp_ratelimit 0 turns
 *     it off. Messages to a destination through lo are not held by it.
 * Only types whose bit is set in icmp_ratemask are limited (6168 = 0x1818: destination
 * unreachable, source quench, time exceeded, parameter problem), and never "fragmentation needed".
 * The destinations live in a small table indexed by a hash of the address (DEST_SLOTS): a new
 * address takes over its slot with a full bucket (Linux keeps an inet_peer tree that ages).
 *
 * ICMPv6 (icmpv6_mask_allow / icmpv6_xrlim_allow): types 0..127 but 2 (packet too big) are limited
 * (Linux's default net.ipv6.icmp.ratemask "0-1,3-127", not settable here); the global bucket is the
 * same one (Linux's icmp_global_allow is shared by both families), skipped for a packet from lo;
 * the destination's bucket works as IPv4's with net.ipv6.icmp.ratelimit (1000 ms) shifted right
 * by (128 - the route's prefix length) / 32, as Linux "gives more bandwidth to wider prefixes":
 * a neighbour on a /64 gets one per 250 ms after its burst of 6, one behind the default route one
 * per 62 ms. Ember's "route" is the /64 of one of our addresses (on link) or else the default (0).
 *
 * /proc/sys/net/ipv4/icmp_ratelimit (ms), icmp_ratemask, icmp_msgs_per_sec, icmp_msgs_burst and
 * /proc/sys/net/ipv6/icmp/ratelimit (ms) read and write the settings as decimal integers
 * (icmp_msgs_* must not be negative: EINVAL).
 *
 * Context and locks: icmp_rate_allow runs in squeue context with the stack lock held, which
 * serialises the buckets; the settings are single words written with WRITE_ONCE by /proc writers
 * (thread context) and read with READ_ONCE.
 */
#include "net/icmp_ratelimit.h"
#include "net/netdev.h"
#include "net/stack.h"
#include "fs/internal.h"
#include "kernel/errno.h"
#include "kernel/init.h"
#include "kernel/printk.h"
#include "kernel/timer.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define NR_ICMP_TYPES_K 18
#define ICMPV6_PKT_TOOBIG_K 2
#define ICMPV6_INFO_MIN_K 128            /* informational messages are never limited */
#define IPV6_PLEN_SHIFT 5                /* tmo >>= (128 - plen) >> 5 */
#define ICMP_DEST_UNREACH_K 3
#define ICMP_FRAG_NEEDED_K 4
#define XRLIM_BURST_FACTOR 6
#define GLOBAL_MIN_REFILL_MS 20        /* Linux's HZ / 50 */
#define MS_PER_SEC 1000
#define NEW_PEER_AGE_MS 60000          /* inet_getpeer: rate_last = now - 60 s (a full bucket) */
#define DEST_SLOTS 64
#define SYSCTL_INPUT_MAX 32

static int ratelimit_ms = 1000;        /* net.ipv4.icmp_ratelimit */
static int ratemask = 0x1818;          /* net.ipv4.icmp_ratemask */
static int msgs_per_sec = 1000;        /* net.ipv4.icmp_msgs_per_sec */
static int msgs_burst = 50;            /* net.ipv4.icmp_msgs_burst */
static int ratelimit6_ms = 1000;       /* net.ipv6.icmp.ratelimit */

/* stack lock */
static long global_credit;
static uint64_t global_stamp;
static bool global_started;
struct dest {
	uint32_t addr[4];                /* IPv4: addr[0] */
	bool used;
	uint64_t tokens, last;           /* ms */
};
static struct dest dests[DEST_SLOTS], dests6[DEST_SLOTS];
static uint64_t limited_global, limited_host;   /* Linux's OutRateLimitGlobal / OutRateLimitHost */

static uint64_t now_ms(void) { return time_ns() / NSEC_PER_MSEC; }

static bool is_lo(struct netif *n)
{
	struct net_device *dev = n ? stack_netif_dev(n) : NULL;
	return dev && (dev->flags & NETDEV_LOOPBACK);
}

static bool global_allow(uint64_t now)
{
	if (global_credit > 0)
		return true;
	if (!global_started) {                   /* the first look fills the bucket */
		global_started = true;
		global_stamp = now - MS_PER_SEC;
	}
	uint64_t delta = MIN(now - global_stamp, (uint64_t)MS_PER_SEC);
	if (delta < GLOBAL_MIN_REFILL_MS)
		return false;
	long incr = (long)((uint64_t)READ_ONCE(msgs_per_sec) * delta / MS_PER_SEC);
	if (!incr)
		return false;
	global_stamp = now;
	global_credit = MIN(global_credit + incr, (long)READ_ONCE(msgs_burst));
	return true;
}

/* inet_peer_xrlim_allow on the slot of addr (nwords 32-bit words) in table t. */
static bool dest_allow(struct dest *t, const uint32_t *addr, int nwords, int timeout, uint64_t now)
{
	if (timeout <= 0)
		return true;
	uint32_t h = 0;
	for (int i = 0; i < nwords; i++)
		h = (h ^ addr[i]) * 2654435761u;
	struct dest *d = &t[h >> 26];            /* 64 slots: the hash's top 6 bits */
	if (!d->used || memcmp(d->addr, addr, (size_t)nwords * 4)) {
		*d = (struct dest){ .used = true, .tokens = 0, .last = now - NEW_PEER_AGE_MS };
		memcpy(d->addr, addr, (size_t)nwords * 4);
	}
	uint64_t t_ = d->tokens + (now - d->last);
	d->last = now;
	t_ = MIN(t_, (uint64_t)XRLIM_BURST_FACTOR * (uint64_t)timeout);
	bool ok = t_ >= (uint64_t)timeout;
	if (ok)
		t_ -= (uint64_t)timeout;
	d->tokens = t_;
	return ok;
}

bool icmp_rate_allow(uint8_t type, uint8_t code, uint32_t dst, struct netif *in, struct netif *out)
{
	if (type > NR_ICMP_TYPES_K || (type == ICMP_DEST_UNREACH_K && code == ICMP_FRAG_NEEDED_K) ||
	    !((1u << type) & (unsigned)READ_ONCE(ratemask)))
		return true;
	uint64_t now = now_ms();
	if (!is_lo(in) && !global_allow(now)) {
		limited_global++;
		return false;
	}
	if (!is_lo(out) && !dest_allow(dests, &dst, 1, READ_ONCE(ratelimit_ms), now)) {
		limited_host++;
		return false;
	}
	global_credit--;
	return true;
}

bool icmp6_rate_allow(uint8_t type, const uint32_t dst[4], int plen, struct netif *in)
{
	if (type >= ICMPV6_INFO_MIN_K || type == ICMPV6_PKT_TOOBIG_K)
		return true;
	if (is_lo(in))                           /* from us: global skipped, and the route is lo */
		return true;
	uint64_t now = now_ms();
	if (!global_allow(now)) {
		limited_global++;
		return false;
	}
	int tmo = READ_ONCE(ratelimit6_ms);
	if (plen < 128 && tmo > 0)
		tmo >>= (128 - plen) >> IPV6_PLEN_SHIFT;
	if (!dest_allow(dests6, dst, 4, tmo, now)) {
		limited_host++;
		return false;
	}
	global_credit--;
	return true;
}

/* ---- /proc/sys/net/ipv4, /proc/sys/net/ipv6/icmp ---- */

struct sysctl_int {
	const char *path;
	int *v;
	int min;                             /* INT_MIN: none */
};

#define NO_MIN (-2147483647 - 1)
static struct sysctl_int sysctls[] = {
	{ "/proc/sys/net/ipv4/icmp_ratelimit", &ratelimit_ms, NO_MIN },
	{ "/proc/sys/net/ipv4/icmp_ratemask", &ratemask, NO_MIN },
	{ "/proc/sys/net/ipv4/icmp_msgs_per_sec", &msgs_per_sec, 0 },
	{ "/proc/sys/net/ipv4/icmp_msgs_burst", &msgs_burst, 0 },
	{ "/proc/sys/net/ipv6/icmp/ratelimit", &ratelimit6_ms, NO_MIN },
};

static size_t show_int(char *buf, size_t size, void *arg)
{
	struct sysctl_int *c = arg;
	return MIN((size_t)snprintf(buf, size, "%d\n", READ_ONCE(*c->v)), size);
}

static int sysctl_open(struct inode *ino, struct file *f)
{
	return proc_snapshot_open(f, show_int, ino->priv);
}

/* Linux's proc_dointvec: a decimal integer, blanks and a newline around it. */
static long sysctl_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos __unused)
{
	struct sysctl_int *c = f->inode->priv;
	char b[SYSCTL_INPUT_MAX];
	size_t len = MIN(n, sizeof(b) - 1);
	if (copy_from_user(b, ubuf, len))
		return -EFAULT;
	b[len] = 0;
	char *s = b;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	long v = 0;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s++ - '0');
		if (v > 2147483647L)
			return -EINVAL;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	if (neg)
		v = -v;
	if (v < c->min)
		return -EINVAL;
	WRITE_ONCE(*c->v, (int)v);
	return (long)n;
}

static const struct file_ops sysctl_fops = {
	.open = sysctl_open,
	.read = proc_snapshot_read,
	.write = sysctl_write,
	.llseek = proc_snapshot_llseek,
	.release = proc_snapshot_release,
};
static const struct inode_ops sysctl_iops = { 0 };

static void icmp_ratelimit_init(void)
{
	for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++)
		if (proc_node(sysctls[i].path, S_IFREG | 0644, &sysctl_fops, &sysctl_iops, &sysctls[i]) < 0)
			printk("icmp: cannot create %s\n", sysctls[i].path);
}
late_init(icmp_ratelimit_init);
