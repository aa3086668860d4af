/* TEMPORARY: placeholders until net/sock_udp.c, sock_raw.c, sock_packet.c, sock_ifioctl.c land. */
#include "net/socket.h"
#include "kernel/errno.h"
static int nocreate(struct socket *s) { (void)s; return -EPROTONOSUPPORT; }
const struct sock_ops udp_sock_ops = { .create = nocreate };
const struct sock_ops icmp_sock_ops = { .create = nocreate };
const struct sock_ops packet_sock_ops = { .create = nocreate };
long netif_ioctl(unsigned long cmd, unsigned long arg) { (void)cmd; (void)arg; return -ENOTTY; }
