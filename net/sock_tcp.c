#include "net/socket.h"
#include "kernel/errno.h"
static int nocreate(struct socket *s) { (void)s; return -EPROTONOSUPPORT; }
const struct sock_ops tcp_sock_ops = { .create = nocreate };
