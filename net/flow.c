/*
 * Flow keys, the flow hash and the binding table (interface in net/flow.h).
 *
 * Parsing trusts nothing: every length and header field is checked before it is used, and a
 * packet that does not parse simply has no key (it still goes to the stack, which drops and
 * counts it). The hash is a multiply-xorshift mix (the splitmix64 finalizer) of the five fields:
 * cheap, and every input bit affects every output bit, so consecutive ports spread evenly over
 * the squeues.
 *
 * The binding table has FLOW_BUCKETS chains, each under its own spinlock (a leaf lock). Lookups
 * skip the table entirely while nothing is bound (nbound, atomic), which is the common case for a
 * machine that only accepts connections.
 */
#include "net/flow.h"

#define ETH_HDR_LEN 14
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_IPV6 0x86dd
#define IPV6_HDR_LEN 40
#define IPV6_NH_HOPOPTS 0
#define IPV6_NH_ROUTING 43
#define IPV6_NH_FRAGMENT 44
#define IPV6_NH_DSTOPTS 60
#define IPV6_FRAG_HDR_LEN 8
#define IPV6_MAX_EXT_HDRS 8            /* a longer chain has no key (it still reaches lwIP) */
#define IPV4_MIN_HDR 20
#define IPV4_FRAG_MASK 0x3fff          /* MF flag and fragment offset */
#define L4_PORTS_LEN 4
#define FLOW_BUCKETS 1024

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

bool flow_key_from_ipv4(const uint8_t *ip, size_t len, struct flow_key *k)
{
	if (len < IPV4_MIN_HDR || (ip[0] >> 4) != 4)
		return false;
	size_t hlen = (size_t)(ip[0] & 0xf) * 4;
	size_t tot = be16(ip + 2);
	if (hlen < IPV4_MIN_HDR || hlen > len || tot < hlen)
		return false;
	uint8_t proto = ip[9];
	if (proto != FLOW_PROTO_TCP && proto != FLOW_PROTO_UDP)
		return false;
	k->proto = proto;
	k->v6 = false;
	k->saddr = be32(ip + 12);
	k->daddr = be32(ip + 16);
	k->sport = k->dport = 0;
	if (be16(ip + 6) & IPV4_FRAG_MASK)
		return true;                   /* a fragment: addresses only */
	if (len < hlen + L4_PORTS_LEN || tot < hlen + L4_PORTS_LEN)
		return false;
	k->sport = be16(ip + hlen);
	k->dport = be16(ip + hlen + 2);
	return true;
}

uint32_t flow_addr6_fold(const uint8_t a[16])
{
	uint64_t hi = (uint64_t)be32(a) << 32 | be32(a + 4), lo = (uint64_t)be32(a + 8) << 32 | be32(a + 12);
	uint64_t h = hi * 0x9e3779b97f4a7c15ULL ^ lo;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(h ^ (h >> 32));
}

bool flow_key_from_ipv6(const uint8_t *ip, size_t len, struct flow_key *k)
{
	if (len < IPV6_HDR_LEN || (ip[0] >> 4) != 6)
		return false;
	size_t end = IPV6_HDR_LEN + be16(ip + 4);   /* payload length: the bytes that belong to the packet */
	if (end > len)
		end = len;
	uint8_t nh = ip[6];
	size_t off = IPV6_HDR_LEN;
	bool frag = false;
	for (int i = 0; i < IPV6_MAX_EXT_HDRS && nh != FLOW_PROTO_TCP && nh != FLOW_PROTO_UDP; i++) {
		if (nh != IPV6_NH_HOPOPTS && nh != IPV6_NH_ROUTING && nh != IPV6_NH_DSTOPTS && nh != IPV6_NH_FRAGMENT)
			return false;
		if (off + 2 > end)
			return false;
		size_t hl = nh == IPV6_NH_FRAGMENT ? IPV6_FRAG_HDR_LEN : ((size_t)ip[off + 1] + 1) * 8;
		if (nh == IPV6_NH_FRAGMENT) {
			if (off + IPV6_FRAG_HDR_LEN > end)
				return false;
			frag = true;
		}
		nh = ip[off];
		off += hl;
	}
	if (nh != FLOW_PROTO_TCP && nh != FLOW_PROTO_UDP)
		return false;
	k->proto = nh;
	k->v6 = true;
	k->saddr = flow_addr6_fold(ip + 8);
	k->daddr = flow_addr6_fold(ip + 24);
	k->sport = k->dport = 0;
	if (frag)
		return true;                   /* every fragment of a datagram: addresses only */
	if (off + L4_PORTS_LEN > end)
		return false;
	k->sport = be16(ip + off);
	k->dport = be16(ip + off + 2);
	return true;
}

bool flow_key_from_ip(const uint8_t *ip, size_t len, struct flow_key *k)
{
	if (len >= 1 && (ip[0] >> 4) == 6)
		return flow_key_from_ipv6(ip, len, k);
	return flow_key_from_ipv4(ip, len, k);
}

bool flow_key_from_eth(const uint8_t *frame, size_t len, struct flow_key *k)
{
	if (len < ETH_HDR_LEN)
		return false;
	if (be16(frame + 12) == ETH_TYPE_IPV6)
		return flow_key_from_ipv6(frame + ETH_HDR_LEN, len - ETH_HDR_LEN, k);
	if (be16(frame + 12) != ETH_TYPE_IPV4)
		return false;
	return flow_key_from_ipv4(frame + ETH_HDR_LEN, len - ETH_HDR_LEN, k);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint32_t flow_hash(const struct flow_key *k)
{
	uint64_t a = (uint64_t)k->saddr << 32 | k->daddr;
	uint64_t b = (uint64_t)k->v6 << 40 | (uint64_t)k->sport << 24 | (uint64_t)k->dport << 8 | k->proto;
	uint64_t h = mix64(a ^ mix64(b + 0x9e3779b97f4a7c15ULL));
	return (uint32_t)(h ^ (h >> 32));
}

/* ---- binding table ---- */

struct flow_bucket {
	struct spinlock lock;
	struct flow_binding *head;
};

static struct flow_bucket buckets[FLOW_BUCKETS];
static unsigned nbound;                /* atomic */

static bool key_eq(const struct flow_key *a, const struct flow_key *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr && a->sport == b->sport && a->dport == b->dport &&
	       a->proto == b->proto && a->v6 == b->v6;
}

static struct flow_bucket *bucket_of(const struct flow_key *k) { return &buckets[flow_hash(k) % FLOW_BUCKETS]; }

void flow_table_init(void)
{
	for (int i = 0; i < FLOW_BUCKETS; i++) {
		spin_init(&buckets[i].lock, "flow");
		buckets[i].head = NULL;
	}
	nbound = 0;
}

void flow_bind(struct flow_binding *b, const struct flow_key *key, void *owner)
{
	b->key = *key;
	b->owner = owner;
	struct flow_bucket *bk = bucket_of(key);
	spin_lock(&bk->lock);
	b->next = bk->head;                /* newest first: it wins the lookup */
	bk->head = b;
	b->bound = true;
	spin_unlock(&bk->lock);
	__atomic_fetch_add(&nbound, 1, __ATOMIC_RELEASE);
}

void flow_unbind(struct flow_binding *b)
{
	if (!b->bound)
		return;
	struct flow_bucket *bk = bucket_of(&b->key);
	spin_lock(&bk->lock);
	for (struct flow_binding **pp = &bk->head; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	b->bound = false;
	b->next = NULL;
	spin_unlock(&bk->lock);
	__atomic_fetch_sub(&nbound, 1, __ATOMIC_RELEASE);
}

void *flow_lookup(const struct flow_key *key)
{
	if (!__atomic_load_n(&nbound, __ATOMIC_ACQUIRE))
		return NULL;
	struct flow_bucket *bk = bucket_of(key);
	void *owner = NULL;
	spin_lock(&bk->lock);
	for (struct flow_binding *b = bk->head; b; b = b->next) {
		if (key_eq(&b->key, key)) {
			owner = b->owner;
			break;
		}
	}
	spin_unlock(&bk->lock);
	return owner;
}

unsigned flow_bound_count(void) { return __atomic_load_n(&nbound, __ATOMIC_ACQUIRE); }
