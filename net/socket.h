/*
 * BSD sockets with the Linux riscv64 ABI. net/socket.c holds the system calls, the socket file and
 * what every family shares (options of level SOL_SOCKET, timeouts, the pending error, blocking);
 * each protocol lives in its own file behind struct sock_ops:
 *   net/sock_tcp.c     AF_INET/AF_INET6 SOCK_STREAM  (lwIP raw TCP; addresses: net/inet_addr.h)
 *   net/sock_udp.c     AF_INET/AF_INET6 SOCK_DGRAM   (lwIP raw UDP)
 *   net/sock_raw.c     AF_INET SOCK_RAW / SOCK_DGRAM with IPPROTO_ICMP (ping sockets)
 *   net/sock_icmp6.c   AF_INET6 SOCK_RAW / SOCK_DGRAM with IPPROTO_ICMPV6 (ping sockets)
 *   net/sock_packet.c  AF_PACKET SOCK_RAW / SOCK_DGRAM (frames of one interface or all)
 *   net/unix/          AF_UNIX SOCK_STREAM / SOCK_DGRAM / SOCK_SEQPACKET (names, pairs, SCM_RIGHTS)
 *   net/netlink/       AF_NETLINK SOCK_RAW / SOCK_DGRAM, NETLINK_ROUTE (interfaces, addresses, routes)
 *
 * A socket is an open file (anon_file_new(S_IFSOCK)) whose priv is the struct socket. The file's
 * last reference runs sock_ops.release, which detaches the protocol state from lwIP (entering its
 * squeue) and frees the socket once no lwIP callback can reach it any more.
 *
 * Blocking and readiness. Each socket has one wait queue, s->wq. Every sleeper (readers,
 * writers, accept, connect) and every poll/select/epoll watcher waits there; protocol callbacks,
 * which run in squeue context under the stack lock (net/stack.h), change the socket's state under
 * s->lock and then call sock_wake(s). Sleepers use sock_wait(), which handles O_NONBLOCK,
 * SO_RCVTIMEO/SO_SNDTIMEO and signals the way Linux does: -EAGAIN when non-blocking or timed out,
 * -ERESTARTSYS on a signal without a timeout (so SA_RESTART restarts the call) and -EINTR with one.
 *
 * Locks, outermost first: s->rx_lock, s->tx_lock (sleeplocks: one reader and one writer at a time
 * while they move bytes, dropped while they sleep in sock_wait, as Linux releases the socket lock;
 * copies to and from user memory happen under them only) -> the stack lock (squeue callbacks) -> s->lock (spinlock, interrupts off: the protocol
 * state shared between callbacks and threads) -> s->wq's lock.
 */
#ifndef NET_SOCKET_H
#define NET_SOCKET_H
#include "kernel/types.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "lib/sleeplock.h"
#include "fs/abi.h"
#include "lib/uio.h"

/* ---- Linux ABI constants ---- */
#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define AF_PACKET 17
#define AF_MAX_K 46                  /* families run 0 .. AF_MAX - 1 */

#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define SOCK_SEQPACKET 5
#define SOCK_TYPE_MASK 0xf
#define SOCK_MAX_K 11                /* types run 0 .. SOCK_MAX - 1 */
#define SOCK_NONBLOCK 04000          /* O_NONBLOCK */
#define SOCK_CLOEXEC 02000000        /* O_CLOEXEC */

#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_RAW 255
#define IPPROTO_IPV6 41
#define IPPROTO_ICMPV6 58

#define SOL_SOCKET 1
#define SOL_IP 0
#define SOL_TCP 6
#define SOL_UDP 17
#define SOL_PACKET 263
#define SOL_IPV6 41

#define SO_DEBUG 1
#define SO_REUSEADDR 2
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_DONTROUTE 5
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_OOBINLINE 10
#define SO_NO_CHECK 11
#define SO_PRIORITY 12
#define SO_LINGER 13
#define SO_PEERCRED 17
#define SO_REUSEPORT 15
#define SO_RCVLOWAT 18
#define SO_SNDLOWAT 19
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21
#define SO_BINDTODEVICE 25
#define SO_TIMESTAMP_OLD 29
#define SO_ACCEPTCONN 30
#define SO_SNDBUFFORCE 32
#define SO_RCVBUFFORCE 33
#define SO_PROTOCOL 38
#define SO_DOMAIN 39
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67

#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_CORK 3
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_INFO 11
#define TCP_QUICKACK 12
#define TCP_CONGESTION 13

#define IP_TOS 1
#define IP_TTL 2
#define IP_HDRINCL 3
#define IP_RECVERR 11

#define IPV6_UNICAST_HOPS 16
#define IPV6_MULTICAST_IF 17
#define IPV6_MULTICAST_HOPS 18
#define IPV6_MULTICAST_LOOP 19
#define IPV6_ADD_MEMBERSHIP 20      /* IPV6_JOIN_GROUP */
#define IPV6_DROP_MEMBERSHIP 21     /* IPV6_LEAVE_GROUP */
#define IPV6_V6ONLY 26
#define IPV6_RECVPKTINFO 49
#define IPV6_TCLASS 67

#define MSG_OOB 0x1
#define MSG_PEEK 0x2
#define MSG_DONTROUTE 0x4
#define MSG_CTRUNC 0x8
#define MSG_TRUNC 0x20
#define MSG_DONTWAIT 0x40
#define MSG_EOR 0x80
#define MSG_WAITALL 0x100
#define MSG_ERRQUEUE 0x2000
#define MSG_NOSIGNAL 0x4000
#define MSG_WAITFORONE 0x10000
#define MSG_MORE 0x8000
#define MSG_CMSG_CLOEXEC 0x40000000

#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2

#define SIOCOUTQ_K 0x5411            /* TIOCOUTQ: bytes not yet sent (FIONREAD is SIOCINQ) */

#define SOMAXCONN 4096
#define SOCK_MIN_BUF 2048            /* Linux's SOCK_MIN_RCVBUF-ish floor for SO_*BUF */
#define SOCK_MAX_BUF (4 << 20)       /* and a ceiling (Linux: net.core.[rw]mem_max) */

/* ---- addresses ---- */
struct sockaddr_in_k {               /* struct sockaddr_in */
	uint16_t sin_family;
	uint16_t sin_port;           /* network order */
	uint32_t sin_addr;           /* network order */
	uint8_t sin_zero[8];
};

struct sockaddr_in6_k {              /* struct sockaddr_in6 */
	uint16_t sin6_family;
	uint16_t sin6_port;          /* network order */
	uint32_t sin6_flowinfo;
	uint8_t sin6_addr[16];
	uint32_t sin6_scope_id;      /* an ifindex, for link-local addresses */
};
#define SIN6_LEN_RFC2133 24          /* the shortest sockaddr_in6 Linux takes (no scope id) */

struct sockaddr_ll_k {               /* struct sockaddr_ll */
	uint16_t sll_family;
	uint16_t sll_protocol;       /* network order */
	int32_t sll_ifindex;
	uint16_t sll_hatype;
	uint8_t sll_pkttype;
	uint8_t sll_halen;
	uint8_t sll_addr[8];
};

struct sockaddr_nl_k {               /* struct sockaddr_nl */
	uint16_t nl_family;
	uint16_t nl_pad;
	uint32_t nl_pid;             /* port id: the kernel is 0 */
	uint32_t nl_groups;          /* multicast groups (a mask) */
};

#define SOCKADDR_MAX 128             /* struct sockaddr_storage */
struct sockaddr_k {
	union {
		uint16_t family;
		struct sockaddr_in_k in;
		struct sockaddr_in6_k in6;
		struct sockaddr_ll_k ll;
		struct sockaddr_nl_k nl;
		uint8_t raw[SOCKADDR_MAX];
	};
};

/* ---- messages ---- */
/* What sendmsg/recvmsg pass to a protocol, the user pointers already checked and copied. */
struct sock_msg {
	struct uio data;
	struct sockaddr_k addr;      /* send: destination if addrlen > 0; recv: source, filled in */
	int addrlen;                 /* send: given length (0 = none); recv: set by the protocol */
	int flags;                   /* MSG_* in; recv: the msg_flags out (MSG_TRUNC ...) */
	/* ancillary data (AF_UNIX; inet datagram sockets: net/inet_cmsg.h): the user's msg_control buffer.
	 * send: its cmsgs; recv: room for them, control_out the bytes the protocol wrote there. */
	uintptr_t control;
	size_t controllen;
	size_t control_out;
};

/* ---- the socket ---- */
struct socket;
struct file;

struct sock_ops {
	/* Set up protocol state (s->proto); s->family/type/protocol are set. */
	int (*create)(struct socket *s);
	/* The file's last reference: detach from lwIP, free protocol state. The socket itself is
	 * freed by socket.c afterwards, so nothing may reach s once this returns. */
	void (*release)(struct socket *s);
	int (*bind)(struct socket *s, const struct sockaddr_k *a, int len);
	int (*listen)(struct socket *s, int backlog);
	/* Blocks (sock_wait) unless nonblock; *out is a new socket (no file yet). */
	int (*accept)(struct socket *s, struct socket **out, bool nonblock);
	int (*connect)(struct socket *s, const struct sockaddr_k *a, int len, bool nonblock);
	long (*sendmsg)(struct socket *s, struct sock_msg *m, bool nonblock);
	long (*recvmsg)(struct socket *s, struct sock_msg *m, bool nonblock);
	int (*shutdown)(struct socket *s, int how);              /* SHUT_RD / SHUT_WR / SHUT_RDWR */
	int (*getname)(struct socket *s, struct sockaddr_k *a, int *len, bool peer);
	unsigned (*poll)(struct socket *s);                       /* EPOLL* bits now */
	/* Options of the protocol's own levels (and SOL_SOCKET ones it must see, see socket.c);
	 * optval is a kernel copy. -ENOPROTOOPT for unknown ones. */
	int (*setsockopt)(struct socket *s, int level, int name, const void *val, int len);
	int (*getsockopt)(struct socket *s, int level, int name, void *val, int *len);
	long (*ioctl)(struct socket *s, unsigned long cmd, unsigned long arg);   /* -ENOTTY: generic */
};

struct socket {
	struct spinlock lock;        /* state the protocol shares with its callbacks (and below) */
	struct waitq wq;             /* sleepers and poll watchers (see the top of this file) */
	struct sleeplock rx_lock, tx_lock;
	int family, type, protocol;
	const struct sock_ops *ops;
	void *proto;                 /* the protocol's state */
	struct file *file;           /* the socket's file (set once installed; not a reference) */

	int error;                   /* pending error (positive errno), reported once: SO_ERROR */
	/* SOL_SOCKET options (lock): */
	bool reuseaddr, keepalive, broadcast, linger_on;
	int linger_s;
	int rcvbuf, sndbuf;          /* as Linux reports them (doubled) */
	uint64_t rcvtimeo_ns, sndtimeo_ns;   /* 0 = none */
};

/* Wake every sleeper and poll watcher of s. Any context (callbacks call it under the stack lock). */
void sock_wake(struct socket *s);

/* Sleep on s->wq until cond() (evaluated with nothing held) is true. timeo_ns: the socket timeout
 * for this direction (0 = none). Returns 0 when cond is true, -EAGAIN when nonblock (cond false)
 * or the timeout passed, -ERESTARTSYS / -EINTR on a signal (Linux's sock_intr_errno). *deadline
 * carries the timeout across several calls of one syscall: pass a zero-initialized variable.
 * drop: a sleeplock the caller holds (rx_lock/tx_lock) that is released while asleep and taken
 * again before cond is checked anew (NULL: none), since sleeplocks are never held across a wait
 * for an event; the caller must re-read any state it had before the call. */
int sock_wait(struct socket *s, bool (*cond)(struct socket *s), bool nonblock, uint64_t timeo_ns,
	      uint64_t *deadline, struct sleeplock *drop);

/* Take s's pending error (positive errno, 0 if none), clearing it. */
int sock_take_error(struct socket *s);
/* Record an error to report (any context; s->lock must not be held). */
void sock_set_error(struct socket *s, int err);

/* A new socket of the given family/type/protocol with ops, zeroed options (no protocol state:
 * the caller calls ops->create or fills s->proto itself, as accept does). NULL: no memory. */
struct socket *sock_alloc(int family, int type, int protocol, const struct sock_ops *ops);
void sock_free(struct socket *s);   /* after ops->release; or of a never-created socket */

/* Raise SIGPIPE for an EPIPE from a send unless flags has MSG_NOSIGNAL; returns -EPIPE. */
long sock_epipe(int flags);

/* Address helpers: -EINVAL for a short length, -EAFNOSUPPORT for another family (Linux's
 * answers for bind/connect); addr and port come out in host byte order. */
int sockaddr_in_get(const struct sockaddr_k *a, int len, uint32_t *addr, uint16_t *port);
void sockaddr_in_set(struct sockaddr_k *a, int *len, uint32_t addr, uint16_t port);

/* The protocols (their files) */
extern const struct sock_ops tcp_sock_ops, udp_sock_ops, icmp_sock_ops, icmp6_sock_ops, packet_sock_ops;
extern const struct sock_ops unix_sock_ops;     /* net/unix/af_unix.c */
extern const struct sock_ops netlink_sock_ops;  /* net/netlink/af_netlink.c */
/* net/unix/af_unix.c: a connected AF_UNIX pair of the type (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET;
 * SOCK_RAW is SOCK_DGRAM), sockets without files yet. -EPROTONOSUPPORT, -ESOCKTNOSUPPORT, -ENOMEM. */
int unix_socketpair(int type, int protocol, struct socket *sv[2]);

/* lwIP err_t -> positive Linux errno */
int lwip_to_errno(int err);

struct file;
bool file_is_socket(struct file *f);
/* Send n bytes of kernel memory on socket file f as write(2) would (blocking unless O_NONBLOCK;
 * EPIPE raises SIGPIPE): bytes sent or -errno. Thread context. sendfile's way into a socket. */
long sock_send_kernel(struct file *f, const void *kbuf, size_t n);

/* The interface ioctls any socket answers (SIOCGIFCONF, SIOCGIFADDR, SIOCGIFFLAGS, SIOCGIFHWADDR,
 * SIOCGIFINDEX, SIOCGIFMTU, SIOCGIFNETMASK, SIOCGIFBRDADDR, SIOCGIFNAME): net/sock_ifioctl.c.
 * arg is the user's struct ifreq / ifconf. */
long netif_ioctl(unsigned long cmd, unsigned long arg);

/* ---- system calls (Linux riscv64 numbers in kernel/syscall.c) ---- */
long sys_socket(int family, int type, int protocol);
long sys_socketpair(int family, int type, int protocol, uintptr_t usv);
long sys_bind(int fd, uintptr_t uaddr, int len);
long sys_listen(int fd, int backlog);
long sys_accept(int fd, uintptr_t uaddr, uintptr_t ulen);
long sys_accept4(int fd, uintptr_t uaddr, uintptr_t ulen, int flags);
long sys_connect(int fd, uintptr_t uaddr, int len);
long sys_getsockname(int fd, uintptr_t uaddr, uintptr_t ulen);
long sys_getpeername(int fd, uintptr_t uaddr, uintptr_t ulen);
long sys_sendto(int fd, uintptr_t ubuf, size_t n, int flags, uintptr_t uaddr, int alen);
long sys_recvfrom(int fd, uintptr_t ubuf, size_t n, int flags, uintptr_t uaddr, uintptr_t ulen);
long sys_setsockopt(int fd, int level, int name, uintptr_t uval, int len);
long sys_getsockopt(int fd, int level, int name, uintptr_t uval, uintptr_t ulen);
long sys_shutdown(int fd, int how);
long sys_sendmsg(int fd, uintptr_t umsg, int flags);
long sys_recvmsg(int fd, uintptr_t umsg, int flags);
long sys_sendmmsg(int fd, uintptr_t uvec, unsigned vlen, int flags);
long sys_recvmmsg(int fd, uintptr_t uvec, unsigned vlen, int flags, uintptr_t utimeout);

#endif
