/*
 * Linux's ICMP port unreachable for IPv4 UDP (net/udp_unreach.c): a datagram to a closed port is
 * answered with an error quoting as much of it as fits in 576 bytes (lwIP's own quotes 8 bytes).
 */
#ifndef NET_UDP_UNREACH_H
#define NET_UDP_UNREACH_H

/* Squeue context, stack lock held, after lwip_init (the stack's bring-up). */
void udp_unreach_init(void);

#endif
