/*
 * The ICMP socket core both families share (the interface and the locking: net/sock_icmp_core.h;
 * the sockets' theory: net/sock_raw.c for IPv4, net/sock_icmp6.c for ICMPv6).
 */
#include "net/sock_icmp_core.h"
#include "net/stack.h"
#include "net/inet_addr.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "lwip/ip.h"

bool icmp_sock_connected(struct icmp_sock *is)
{
	spin_lock(&is->s->lock);
	bool c = is->connected;
	spin_unlock(&is->s->lock);
	return c;
}

/* ---- identifiers of ping sockets (stack lock) ---- */

static bool ident_in_use(struct icmp_idents *ids, uint16_t id)
{
	struct list_head *p;
	list_for_each(p, &ids->socks) {
		if (list_entry(p, struct icmp_sock, ping_node)->ident == id)
			return true;
	}
	return false;
}

int icmp_ping_autobind(struct icmp_sock *is, struct icmp_idents *ids)
{
	if (!is->ping || is->ident)
		return 0;
	for (unsigned i = 0; i < 0xffff; i++) {
		uint16_t id = ++ids->rover;
		if (id && !ident_in_use(ids, id)) {
			is->ident = id;
			return 0;
		}
	}
	return -EAGAIN;
}

/* ---- create, release, disconnect ---- */

void icmp_sock_attach(struct icmp_sock *is, raw_recv_fn recv, struct icmp_idents *ids)
{
	raw_recv(is->pcb, recv, is);
	list_add_tail(&is->ping_node, is->ping ? &ids->socks : &ids->raws);
}

int icmp_sock_create(struct socket *s, void (*create_fn)(void *))
{
	struct icmp_sock *is = kzalloc(sizeof(*is));
	if (!is)
		return -ENOMEM;
	dgq_init(&is->q);
	is->s = s;
	is->ping = s->type == SOCK_DGRAM;
	s->proto = is;                   /* before the pcb exists: its callback finds the queue there */
	s->rcvbuf = s->sndbuf = DGRAM_BUF_DEFAULT;
	s->reuseaddr = true;             /* Linux's INET_PROTOSW_REUSE for raw and ping sockets */
	squeue_call(squeue_local(), create_fn, is);
	if (!is->pcb) {
		s->proto = NULL;
		kfree(is);
		return -ENOMEM;
	}
	return 0;
}

static void release_fn(void *arg)
{
	struct icmp_sock *is = arg;
	raw_remove(is->pcb);
	list_del(&is->ping_node);
}

void icmp_sock_release(struct socket *s)
{
	struct icmp_sock *is = icmp_sock_of(s);
	squeue_call(squeue_local(), release_fn, is);
	dgq_flush(s);
	kfree(is);
	s->proto = NULL;
}

int icmp_sock_bind(struct icmp_sock *is, const ip_addr_t *a, uint16_t port, struct icmp_idents *ids)
{
	if (!inet_addr_local(a))
		return -EADDRNOTAVAIL;
	if (is->ping && is->ident)
		return -EINVAL;
	if (is->ping) {
		/* a given identifier may be shared, as Linux lets ping sockets (SO_REUSEADDR is on) */
		is->ident = port;
		int e = icmp_ping_autobind(is, ids);
		if (e < 0)
			return e;
		is->ident_bound = port != 0;
	}
	raw_bind(is->pcb, a);
	is->addr_bound = !ip_addr_isany(a);
	is->addr_from_connect = false;
	return 0;
}

int icmp_sock_connect(struct icmp_sock *is, ip_addr_t *dst, uint16_t port, struct icmp_idents *ids)
{
	struct netif *n;
	if (ip_addr_isany_val(*dst))
		ip_addr_set_loopback(IP_IS_V6_VAL(*dst), dst);   /* Linux: INADDR_ANY / :: mean this host */
	int e = inet_route_ip(is->s, dst, &n);
	if (e == 0)
		e = icmp_ping_autobind(is, ids);
	if (e < 0)
		return e;
	if (ip_addr_isany(&is->pcb->local_ip)) {
		const ip_addr_t *src = ip_netif_get_local_ip(n, dst);
		if (!src)
			return -EADDRNOTAVAIL;
		raw_bind(is->pcb, src);
		is->addr_from_connect = true;
	}
	raw_connect(is->pcb, dst);
	spin_lock(&is->s->lock);
	is->connected = true;
	is->peer = *dst;
	is->peer_port = port;
	spin_unlock(&is->s->lock);
	return 0;
}

void icmp_sock_disconnect(struct icmp_sock *is)
{
	raw_disconnect(is->pcb);
	if (is->addr_from_connect)
		raw_bind(is->pcb, is->s->family == AF_INET6 ? IP6_ADDR_ANY : IP4_ADDR_ANY);
	is->addr_from_connect = false;
	if (!is->ident_bound)
		is->ident = 0;
	spin_lock(&is->s->lock);
	is->connected = false;
	spin_unlock(&is->s->lock);
}

/* ---- the rest ---- */

long icmp_sock_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (icmp_sock_of(s)->ping)
		m->flags &= ~MSG_TRUNC;          /* Linux's ping sockets return what they copied */
	return dgq_recvmsg(s, m, nonblock);
}

int icmp_sock_shutdown(struct socket *s, int how)
{
	return dgq_shutdown(s, how, icmp_sock_connected(icmp_sock_of(s)));
}

long icmp_sock_ioctl(struct socket *s, unsigned long cmd, unsigned long arg)
{
	if (icmp_sock_of(s)->ping)
		return -ENOTTY;                  /* Linux's ping sockets have no FIONREAD */
	return dgq_ioctl(s, cmd, arg);
}
