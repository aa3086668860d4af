/*
 * Flow classification for the receive path (net/flow.c): which squeue an incoming IPv4 or IPv6
 * packet belongs to. Pure logic plus a small binding table; no lwIP.
 *
 * A flow key is what an inbound packet carries: source = the peer, destination = us, in host byte
 * order. TCP and UDP packets have a key with ports; fragments (MF set or a non-zero offset) get
 * ports 0, so every fragment of a datagram lands on the same squeue. Everything else (ARP, ICMP,
 * malformed IPv4, other protocols) has no key and goes to the receiving CPU's squeue.
 *
 * IPv6: the same five fields, with each 128-bit address folded to 32 bits (flow_addr6_fold) and
 * v6 set, so an IPv6 flow never equals an IPv4 one. Extension headers (hop-by-hop, routing,
 * destination options) are walked to the TCP/UDP header; a fragment header gives ports 0 as for
 * IPv4; ICMPv6 (neighbour discovery, MLD, echo) has no key. Two IPv6 flows whose folded addresses
 * collide share a hash and could share a binding: that only moves a packet to another squeue (all
 * lwIP work is under the stack lock anyway), never to another connection.
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
	bool v6;                   /* IPv6: saddr, daddr are flow_addr6_fold of the addresses */
};

/* Key of the IPv4 packet at ip (len bytes); false when it has none (see above). */
bool flow_key_from_ipv4(const uint8_t *ip, size_t len, struct flow_key *k);
/* Key of the IPv6 packet at ip (len bytes). */
bool flow_key_from_ipv6(const uint8_t *ip, size_t len, struct flow_key *k);
/* Either, by the version nibble. */
bool flow_key_from_ip(const uint8_t *ip, size_t len, struct flow_key *k);
/* A 128-bit IPv6 address (network byte order) folded to the 32 bits a key holds. */
uint32_t flow_addr6_fold(const uint8_t a[16]);
/* Same for an Ethernet frame (ethertype IPv4 or IPv6, no VLAN tag). */
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
