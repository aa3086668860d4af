/*
 * Flow classification for the receive path (net/flow.c): which squeue an incoming IPv4 packet
 * belongs to. Pure logic plus a small binding table; no lwIP.
 *
 * A flow key is what an inbound packet carries: source = the peer, destination = us, in host byte
 * order. TCP and UDP packets have a key with ports; fragments (MF set or a non-zero offset) get
 * ports 0, so every fragment of a datagram lands on the same squeue. Everything else (ARP, ICMP,
 * malformed IPv4, other protocols) has no key and goes to the receiving CPU's squeue.
 *
 * Bindings override the hash: the socket layer binds a connection's key to the squeue that owns
 * it when that is not the one the hash picks (connect() binds to the caller's CPU), so every frame
 * of the connection is classified to its owner before it is queued. Entries are embedded in the
 * caller's object (no allocation); the table's bucket locks are leaves.
 */
#ifndef NET_FLOW_H
#define NET_FLOW_H
#include "kernel/types.h"
#include "kernel/spinlock.h"

#define FLOW_PROTO_TCP 6
#define FLOW_PROTO_UDP 17

struct flow_key {
	uint32_t saddr, daddr;     /* peer, us */
	uint16_t sport, dport;     /* peer's port, ours (0 for fragments) */
	uint8_t proto;
};

/* Key of the IPv4 packet at ip (len bytes); false when it has none (see above). */
bool flow_key_from_ipv4(const uint8_t *ip, size_t len, struct flow_key *k);
/* Same for an Ethernet frame (ethertype IPv4, no VLAN tag). */
bool flow_key_from_eth(const uint8_t *frame, size_t len, struct flow_key *k);
/* A well-mixed 32-bit hash of the key (not symmetric: each direction is its own flow). */
uint32_t flow_hash(const struct flow_key *k);

struct flow_binding {
	struct flow_binding *next;   /* bucket chain */
	struct flow_key key;
	void *owner;                 /* the squeue (net/stack.h wraps this) */
	bool bound;
};

void flow_table_init(void);
/* Binds key -> owner (b must not be bound; it stays the caller's memory until flow_unbind). A key
 * bound twice: the newest binding wins until it is unbound. */
void flow_bind(struct flow_binding *b, const struct flow_key *key, void *owner);
void flow_unbind(struct flow_binding *b);
void *flow_lookup(const struct flow_key *key);   /* owner, or NULL */
unsigned flow_bound_count(void);

#endif
