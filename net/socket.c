/*
 * The socket layer: Linux's socket system calls, the socket file, and what all families share.
 * The theory (objects, locks, blocking) is in net/socket.h; the protocols are net/sock_*.c.
 *
 * What is decided here rather than by a protocol:
 *   - family/type/protocol -> sock_ops (socket_lookup): AF_INET STREAM (TCP), DGRAM (UDP, or ICMP
 *     ping sockets with IPPROTO_ICMP), RAW with IPPROTO_ICMP; AF_INET6 STREAM and DGRAM (the same
 *     TCP and UDP, dual-stack), DGRAM and RAW with IPPROTO_ICMPV6; AF_PACKET RAW and DGRAM. Linux's
 *     errors otherwise: EAFNOSUPPORT for a family, EINVAL for a type (or bad flags),
 *     EPROTONOSUPPORT for a protocol the type does not have, ESOCKTNOSUPPORT for a type the
 *     family lacks.
 *   - SOL_SOCKET options are stored on the socket (the protocol reads the fields it honours);
 *     SO_KEEPALIVE is passed on to the protocol too. Buffer sizes are reported as Linux does
 *     (twice the value set, clamped) but lwIP's windows stay as net/lwip/lwipopts.h sets them.
 *   - Blocking rules (sock_wait), the pending error (SO_ERROR, reported once), SIGPIPE on EPIPE
 *     unless MSG_NOSIGNAL, O_NONBLOCK or MSG_DONTWAIT.
 *   - read/write/readv/writev on a socket are recvmsg/sendmsg with flags 0, one call for all the
 *     segments (a datagram spans them).
 * User pointers are copied in before a protocol sees them (addresses, option values, iovecs) and
 * results copied out after it returns; protocols only move payload bytes with uio_copy_*.
 */
#include "net/socket.h"
#include "net/stack.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "fs/poll.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "fs/fs.h"
#include "kernel/syscall.h"
#include "lwip/err.h"

#define SOCK_OPT_MAX 256             /* largest option value copied in or out (TCP_INFO is 232) */
#define SOCK_RCVBUF_DEFAULT 131072   /* Linux's tcp_rmem[1] */
#define SOCK_SNDBUF_DEFAULT 16384    /* Linux's tcp_wmem[1] */
#define SOCK_READY_TIMEOUT_NS (10ULL * 1000 * 1000 * 1000)   /* socket() waits this long for lwIP */

/* struct __kernel_sock_timeval / the 64-bit struct timeval */
struct sock_timeval {
	int64_t sec, usec;
};

struct linger_k {
	int32_t l_onoff, l_linger;
};

/* struct msghdr (64-bit) */
struct msghdr_k {
	uint64_t name;
	int32_t namelen;
	int32_t pad0;
	uint64_t iov;
	uint64_t iovlen;
	uint64_t control;
	uint64_t controllen;
	int32_t flags;
	int32_t pad1;
};

/* struct mmsghdr (64-bit) */
struct mmsghdr_k {
	struct msghdr_k hdr;
	uint32_t len;                /* bytes sent or received for this message */
	uint32_t pad;
};
#define MMSGHDR_SIZE sizeof(struct mmsghdr_k)
_Static_assert(sizeof(struct mmsghdr_k) == 64, "struct mmsghdr is 64 bytes on riscv64");

/* Sum and check user segments: -EINVAL for sizes, -EFAULT for addresses (Linux's order). */
static long iov_check(const struct linux_iovec *iov, int iovcnt)
{
	uint64_t sum = 0;
	for (int i = 0; i < iovcnt; i++) {
		if ((int64_t)iov[i].iov_len < 0 || iov[i].iov_len > (uint64_t)LINUX_SSIZE_MAX - sum)
			return -EINVAL;
		sum += iov[i].iov_len;
	}
	for (int i = 0; i < iovcnt; i++)
		if (!access_ok(iov[i].iov_base, iov[i].iov_len))
			return -EFAULT;
	return (long)MIN(sum, (uint64_t)MAX_RW_COUNT);
}

/* ---- sockets ---- */

struct socket *sock_alloc(int family, int type, int protocol, const struct sock_ops *ops)
{
	struct socket *s = kzalloc(sizeof(*s));
	if (!s)
		return NULL;
	spin_init(&s->lock, "socket");
	waitq_init(&s->wq, "socket");
	sleeplock_init(&s->rx_lock, "sock-rx");
	sleeplock_init(&s->tx_lock, "sock-tx");
	s->family = family;
	s->type = type;
	s->protocol = protocol;
	s->ops = ops;
	s->rcvbuf = SOCK_RCVBUF_DEFAULT;
	s->sndbuf = SOCK_SNDBUF_DEFAULT;
	return s;
}

void sock_free(struct socket *s) { kfree(s); }

void sock_wake(struct socket *s)
{
	/* Safe without the queue lock: a sleeper queues itself before it checks its condition
	 * under s->lock, which the waker released after changing the condition. */
	if (waitq_active(&s->wq))
		wake_all(&s->wq);
}

int sock_wait(struct socket *s, bool (*cond)(struct socket *s), bool nonblock, uint64_t timeo_ns,
	      uint64_t *deadline, struct sleeplock *drop)
{
	if (cond(s))
		return 0;
	if (nonblock)
		return -EAGAIN;
	if (timeo_ns && !*deadline)
		*deadline = time_now() + ns_to_ticks(timeo_ns);
	struct wait_entry e = { .queued = false };
	int r = 0;
	for (;;) {
		prepare_to_wait(&s->wq, &e);
		if (cond(s))
			break;
		if (signal_pending()) {
			/* Linux's sock_intr_errno: restartable only without a timeout */
			r = timeo_ns ? -EINTR : -ERESTARTSYS;
			break;
		}
		if (timeo_ns && time_now() >= *deadline) {
			r = -EAGAIN;
			break;
		}
		if (drop) {
			/* sleeplocks are not held across waits for events (lib/sleeplock.h) */
			sleep_unlock(drop);
			wait_schedule(timeo_ns ? *deadline : TIMER_NONE);
			finish_wait(&s->wq, &e);
			sleep_lock(drop);
		} else {
			wait_schedule(timeo_ns ? *deadline : TIMER_NONE);
		}
	}
	finish_wait(&s->wq, &e);
	return r;
}

int sock_take_error(struct socket *s)
{
	spin_lock(&s->lock);
	int e = s->error;
	s->error = 0;
	spin_unlock(&s->lock);
	return e;
}

void sock_set_error(struct socket *s, int err)
{
	spin_lock(&s->lock);
	s->error = err;
	spin_unlock(&s->lock);
	sock_wake(s);
}

int sockaddr_in_get(const struct sockaddr_k *a, int len, uint32_t *addr, uint16_t *port)
{
	if (len < (int)sizeof(struct sockaddr_in_k))
		return -EINVAL;
	if (a->family != AF_INET)
		return -EAFNOSUPPORT;
	*addr = swab32(a->in.sin_addr);
	*port = swab16(a->in.sin_port);
	return 0;
}

void sockaddr_in_set(struct sockaddr_k *a, int *len, uint32_t addr, uint16_t port)
{
	memset(a, 0, sizeof(a->in));
	a->in.sin_family = AF_INET;
	a->in.sin_port = swab16(port);
	a->in.sin_addr = swab32(addr);
	*len = sizeof(a->in);
}

int lwip_to_errno(int err)
{
	switch (err) {
	case ERR_OK: return 0;
	case ERR_MEM: return ENOMEM;
	case ERR_BUF: return ENOBUFS;
	case ERR_TIMEOUT: return ETIMEDOUT;
	case ERR_RTE: return EHOSTUNREACH;
	case ERR_INPROGRESS: return EINPROGRESS;
	case ERR_VAL: return EINVAL;
	case ERR_WOULDBLOCK: return EAGAIN;
	case ERR_USE: return EADDRINUSE;
	case ERR_ALREADY: return EALREADY;
	case ERR_ISCONN: return EISCONN;
	case ERR_CONN: return ENOTCONN;
	case ERR_IF: return ENETDOWN;
	case ERR_ABRT: return ECONNABORTED;
	case ERR_RST: return ECONNRESET;
	case ERR_CLSD: return ENOTCONN;
	case ERR_ARG: return EINVAL;
	default: return EIO;
	}
}

/* ---- the socket file ---- */

static struct socket *file_sock(struct file *f) { return f->priv; }

static bool file_nonblock(struct file *f, int flags)
{
	return (READ_ONCE(f->f_flags) & O_NONBLOCK) || (flags & MSG_DONTWAIT);
}

/* EPIPE from a stream send raises SIGPIPE unless MSG_NOSIGNAL (Linux's sk_stream_error); a
 * datagram socket's EPIPE (a send after shutdown) comes without a signal, as on Linux. */
static long send_result(struct socket *s, long r, int flags)
{
	if (r == -EPIPE && s->type == SOCK_STREAM && !(flags & MSG_NOSIGNAL))
		signal_raise(SIGPIPE);
	return r;
}

static long sock_send_uio(struct file *f, struct sock_msg *m)
{
	struct socket *s = file_sock(f);
	if (!s->ops->sendmsg)
		return -EOPNOTSUPP;
	return send_result(s, s->ops->sendmsg(s, m, file_nonblock(f, m->flags)), m->flags);
}

static long sock_recv_uio(struct file *f, struct sock_msg *m)
{
	struct socket *s = file_sock(f);
	if (!s->ops->recvmsg)
		return -EOPNOTSUPP;
	return s->ops->recvmsg(s, m, file_nonblock(f, m->flags));
}

long sock_send_kernel(struct file *f, const void *kbuf, size_t n)
{
	struct linux_iovec seg;
	struct sock_msg m = { .flags = 0 };
	uio_init_kernel(&m.data, &seg, kbuf, n);
	return sock_send_uio(f, &m);
}

static long sock_rw_vec(struct file *f, const struct linux_iovec *iov, int iovcnt, bool write)
{
	struct sock_msg m = { .flags = 0 };
	long total = iov_check(iov, iovcnt);
	if (total < 0)
		return total;
	uio_init(&m.data, iov, iovcnt, (size_t)total);
	return write ? sock_send_uio(f, &m) : sock_recv_uio(f, &m);
}

static long sock_read(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos __unused)
{
	struct linux_iovec v = { ubuf, n };
	return sock_rw_vec(f, &v, 1, false);
}

static long sock_write(struct file *f, uintptr_t ubuf, size_t n, uint64_t *pos __unused)
{
	struct linux_iovec v = { ubuf, n };
	return sock_rw_vec(f, &v, 1, true);
}

static unsigned sock_poll(struct file *f)
{
	struct socket *s = file_sock(f);
	return s->ops->poll ? s->ops->poll(s) : 0;
}

static struct waitq *sock_waitq(struct file *f) { return &file_sock(f)->wq; }

static long sock_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
	struct socket *s = file_sock(f);
	long r = s->ops->ioctl ? s->ops->ioctl(s, cmd, arg) : -ENOTTY;
	if (r != -ENOTTY)
		return r;
	return netif_ioctl(cmd, arg);        /* the interface ioctls any socket answers */
}

static void sock_release(struct file *f)
{
	struct socket *s = file_sock(f);
	if (s->ops->release)
		s->ops->release(s);
	sock_free(s);
}

static const struct file_ops socket_fops = {
	.read = sock_read,
	.write = sock_write,
	.rw_vec = sock_rw_vec,
	.ioctl = sock_ioctl,
	.poll = sock_poll,
	.waitq = sock_waitq,
	.release = sock_release,
};

bool file_is_socket(struct file *f) { return f->ops == &socket_fops; }

/* A new fd for s (which the file then owns): the fd, or -errno with s released. */
static int sock_install(struct socket *s, int flags)
{
	struct file *f = anon_file_new(S_IFSOCK | 0777, &socket_fops, O_RDWR | (flags & SOCK_NONBLOCK), s);
	if (!f) {
		if (s->ops->release)
			s->ops->release(s);
		sock_free(s);
		return -ENFILE;
	}
	s->file = f;
	int fd = fd_install(current->files, f, flags & SOCK_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

/* The socket behind fd with a file reference, or NULL with *err = -EBADF / -ENOTSOCK. */
static struct socket *sock_get(int fd, struct file **fp, long *err)
{
	struct file *f = fd_get(fd);
	if (!f) {
		*err = -EBADF;
		return NULL;
	}
	if (!file_is_socket(f)) {
		file_put(f);
		*err = -ENOTSOCK;
		return NULL;
	}
	*fp = f;
	return f->priv;
}

static const struct sock_ops *socket_lookup(int family, int type, int *protocol, long *err)
{
	if (family == AF_INET || family == AF_INET6) {     /* AF_INET6: TCP and UDP (net/inet_addr.h) */
		switch (type) {
		case SOCK_STREAM:
			if (*protocol == IPPROTO_IP || *protocol == IPPROTO_TCP) {
				*protocol = IPPROTO_TCP;
				return &tcp_sock_ops;
			}
			break;
		case SOCK_DGRAM:
			if (*protocol == IPPROTO_IP || *protocol == IPPROTO_UDP) {
				*protocol = IPPROTO_UDP;
				return &udp_sock_ops;
			}
			if (*protocol == IPPROTO_ICMP && family == AF_INET)
				return &icmp_sock_ops;
			if (*protocol == IPPROTO_ICMPV6 && family == AF_INET6)
				return &icmp6_sock_ops;          /* net/sock_icmp6.c */
			break;
		case SOCK_RAW:
			if (*protocol == IPPROTO_ICMP && family == AF_INET)
				return &icmp_sock_ops;
			if (*protocol == IPPROTO_ICMPV6 && family == AF_INET6)
				return &icmp6_sock_ops;
			break;
		default:
			*err = -ESOCKTNOSUPPORT;
			return NULL;
		}
		*err = -EPROTONOSUPPORT;
		return NULL;
	}
	if (family == AF_UNIX)                      /* net/unix/: the type and protocol are checked there */
		return &unix_sock_ops;
	if (family == AF_PACKET || family == AF_NETLINK) {   /* netlink: the protocol is checked in create */
		if (type == SOCK_RAW || type == SOCK_DGRAM)
			return family == AF_PACKET ? &packet_sock_ops : &netlink_sock_ops;
		*err = -ESOCKTNOSUPPORT;
		return NULL;
	}
	*err = -EAFNOSUPPORT;
	return NULL;
}

/* Linux's checks of socket()'s and socketpair()'s family and type: 0 or -errno. */
static long check_family_type(int family, int type_arg)
{
	int type = type_arg & SOCK_TYPE_MASK;
	if (type_arg & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (family < 0 || family >= AF_MAX_K)
		return -EAFNOSUPPORT;
	if (type >= SOCK_MAX_K)                     /* below it the family decides: ESOCKTNOSUPPORT */
		return -EINVAL;
	return 0;
}

static long socket_create(int family, int type_arg, int protocol, struct socket **out)
{
	int type = type_arg & SOCK_TYPE_MASK;
	long err = check_family_type(family, type_arg);
	if (err < 0)
		return err;
	const struct sock_ops *ops = socket_lookup(family, type, &protocol, &err);
	if (!ops)
		return err;
	if (family != AF_UNIX && stack_wait_ready(SOCK_READY_TIMEOUT_NS) < 0)
		return -ENETDOWN;
	struct socket *s = sock_alloc(family, type, protocol, ops);
	if (!s)
		return -ENOMEM;
	int r = ops->create ? ops->create(s) : 0;
	if (r < 0) {
		sock_free(s);
		return r;
	}
	*out = s;
	return 0;
}

long sys_socket(int family, int type, int protocol)
{
	struct socket *s;
	long r = socket_create(family, type, protocol, &s);
	return r < 0 ? r : sock_install(s, type);
}

/* AF_UNIX pairs only (net/unix/af_unix.c); AF_INET has none (Linux: EOPNOTSUPP). */
long sys_socketpair(int family, int type_arg, int protocol, uintptr_t usv)
{
	long err = check_family_type(family, type_arg);
	if (err < 0)
		return err;
	if (family != AF_UNIX)
		return family == AF_INET || family == AF_INET6 ? -EOPNOTSUPP : -EAFNOSUPPORT;
	if (!access_ok(usv, 2 * sizeof(int)))
		return -EFAULT;
	struct socket *sv[2];
	err = unix_socketpair(type_arg & SOCK_TYPE_MASK, protocol, sv);
	if (err < 0)
		return err;
	int fd[2];
	fd[0] = sock_install(sv[0], type_arg);           /* on failure it released sv[0] */
	if (fd[0] < 0) {
		sv[1]->ops->release(sv[1]);
		sock_free(sv[1]);
		return fd[0];
	}
	fd[1] = sock_install(sv[1], type_arg);
	if (fd[1] < 0) {
		sys_close(fd[0]);
		return fd[1];
	}
	if (copy_to_user(usv, fd, sizeof(fd))) {
		sys_close(fd[0]);
		sys_close(fd[1]);
		return -EFAULT;
	}
	return 0;
}

/* Copy a sockaddr in: -EINVAL for a bad length, -EFAULT. */
static int addr_in(struct sockaddr_k *a, uintptr_t uaddr, int len)
{
	if (len < 0 || len > SOCKADDR_MAX)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (len && copy_from_user(a, uaddr, len))
		return -EFAULT;
	return 0;
}

/* Copy a sockaddr out Linux's way: the full length goes to *ulen, the bytes up to the user's. */
static int addr_out(const struct sockaddr_k *a, int len, uintptr_t uaddr, uintptr_t ulen)
{
	int ulen_v;
	if (copy_from_user(&ulen_v, ulen, sizeof(ulen_v)))
		return -EFAULT;
	if (ulen_v < 0)
		return -EINVAL;
	if (len > 0 && copy_to_user(uaddr, a, MIN(ulen_v, len)))
		return -EFAULT;
	if (copy_to_user(ulen, &len, sizeof(len)))
		return -EFAULT;
	return 0;
}

long sys_bind(int fd, uintptr_t uaddr, int len)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	struct sockaddr_k a;
	if (!(r = addr_in(&a, uaddr, len)))
		r = s->ops->bind ? s->ops->bind(s, &a, len) : -EOPNOTSUPP;
	file_put(f);
	return r;
}

long sys_listen(int fd, int backlog)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	if (backlog < 0 || backlog > SOMAXCONN)
		backlog = SOMAXCONN;
	r = s->ops->listen ? s->ops->listen(s, backlog) : -EOPNOTSUPP;
	file_put(f);
	return r;
}

long sys_accept4(int fd, uintptr_t uaddr, uintptr_t ulen, int flags)
{
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	struct socket *ns = NULL;
	int ulen_v = 0;
	if (uaddr && copy_from_user(&ulen_v, ulen, sizeof(ulen_v)))
		r = -EFAULT;
	else if (uaddr && ulen_v < 0)
		r = -EINVAL;
	else if (!s->ops->accept)
		r = -EOPNOTSUPP;
	else
		r = s->ops->accept(s, &ns, file_nonblock(f, 0));
	file_put(f);
	if (r < 0)
		return r;
	/* Linux reserves the fd, then copies the address out; a fault there loses the connection */
	struct sockaddr_k a;
	int alen = 0;
	if (uaddr && ns->ops->getname && ns->ops->getname(ns, &a, &alen, true) == 0 &&
	    (r = addr_out(&a, alen, uaddr, ulen)) < 0) {
		ns->ops->release(ns);
		sock_free(ns);
		return r;
	}
	return sock_install(ns, flags);
}

long sys_accept(int fd, uintptr_t uaddr, uintptr_t ulen) { return sys_accept4(fd, uaddr, ulen, 0); }

long sys_connect(int fd, uintptr_t uaddr, int len)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	struct sockaddr_k a;
	if (!(r = addr_in(&a, uaddr, len)))
		r = s->ops->connect ? s->ops->connect(s, &a, len, file_nonblock(f, 0)) : -EOPNOTSUPP;
	file_put(f);
	return r;
}

static long getname(int fd, uintptr_t uaddr, uintptr_t ulen, bool peer)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	struct sockaddr_k a;
	int alen = 0;
	int ulen_v;
	memset(&a, 0, sizeof(a));
	if (copy_from_user(&ulen_v, ulen, sizeof(ulen_v)))
		r = -EFAULT;
	else if (ulen_v < 0)
		r = -EINVAL;
	else if (!s->ops->getname)
		r = -EOPNOTSUPP;
	else if (!(r = s->ops->getname(s, &a, &alen, peer)))
		r = addr_out(&a, alen, uaddr, ulen);
	file_put(f);
	return r;
}

long sys_getsockname(int fd, uintptr_t uaddr, uintptr_t ulen) { return getname(fd, uaddr, ulen, false); }
long sys_getpeername(int fd, uintptr_t uaddr, uintptr_t ulen) { return getname(fd, uaddr, ulen, true); }

long sys_sendto(int fd, uintptr_t ubuf, size_t n, int flags, uintptr_t uaddr, int alen)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	struct sock_msg m = { .flags = flags };
	struct linux_iovec v = { ubuf, MIN(n, (size_t)MAX_RW_COUNT) };
	if (!access_ok(ubuf, n))
		r = -EFAULT;
	else if (uaddr && (r = addr_in(&m.addr, uaddr, alen)) < 0)
		;
	else {
		m.addrlen = uaddr ? alen : 0;
		uio_init(&m.data, &v, 1, v.iov_len);
		r = sock_send_uio(f, &m);
	}
	file_put(f);
	return r;
}

long sys_recvfrom(int fd, uintptr_t ubuf, size_t n, int flags, uintptr_t uaddr, uintptr_t ulen)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	struct sock_msg m = { .flags = flags };
	struct linux_iovec v = { ubuf, MIN(n, (size_t)MAX_RW_COUNT) };
	if (!access_ok(ubuf, n)) {
		r = -EFAULT;
	} else {
		uio_init(&m.data, &v, 1, v.iov_len);
		r = sock_recv_uio(f, &m);
		if (r >= 0 && uaddr) {
			long e = addr_out(&m.addr, m.addrlen, uaddr, ulen);
			if (e < 0)
				r = e;
		}
	}
	file_put(f);
	return r;
}

/* sendmsg/recvmsg: the header and segments in, the call, the name and flags out. */
static long msg_call(int fd, uintptr_t umsg, int flags, bool send)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	struct msghdr_k mh;
	struct linux_iovec *iov = NULL;
	struct sock_msg m = { .flags = flags };
	if (copy_from_user(&mh, umsg, sizeof(mh))) {
		r = -EFAULT;
		goto out;
	}
	if (mh.iovlen > IOV_MAX) {
		r = -EMSGSIZE;
		goto out;
	}
	if (mh.iovlen && !(iov = kmalloc(mh.iovlen * sizeof(*iov)))) {
		r = -ENOMEM;
		goto out;
	}
	if (mh.iovlen && copy_from_user(iov, mh.iov, mh.iovlen * sizeof(*iov))) {
		r = -EFAULT;
		goto out;
	}
	if ((r = iov_check(iov, (int)mh.iovlen)) < 0)
		goto out;
	uio_init(&m.data, iov, (int)mh.iovlen, (size_t)r);
	if (send) {
		if (mh.name && (r = addr_in(&m.addr, mh.name, mh.namelen)) < 0)
			goto out;
		m.addrlen = mh.name ? mh.namelen : 0;
		m.control = mh.control;                  /* ancillary data: AF_UNIX reads it */
		m.controllen = mh.controllen;
		r = sock_send_uio(f, &m);
		goto out;
	}
	if (mh.namelen < 0) {
		r = -EINVAL;
		goto out;
	}
	m.control = mh.control;                      /* room for ancillary data (AF_UNIX fills it) */
	m.controllen = mh.controllen;
	r = sock_recv_uio(f, &m);
	if (r < 0)
		goto out;
	/* out: the name (truncated to namelen, namelen set to the full length), the control bytes
	 * written, the flags */
	int32_t namelen = mh.name ? m.addrlen : 0;
	uint64_t controllen = m.control_out;
	int32_t oflags = m.flags & (MSG_TRUNC | MSG_CTRUNC | MSG_EOR | MSG_ERRQUEUE);
	if ((mh.name && m.addrlen && copy_to_user(mh.name, &m.addr, MIN(mh.namelen, m.addrlen))) ||
	    copy_to_user(umsg + offsetof(struct msghdr_k, namelen), &namelen, sizeof(namelen)) ||
	    copy_to_user(umsg + offsetof(struct msghdr_k, controllen), &controllen, sizeof(controllen)) ||
	    copy_to_user(umsg + offsetof(struct msghdr_k, flags), &oflags, sizeof(oflags)))
		r = -EFAULT;
out:
	kfree(iov);
	file_put(f);
	return r;
}

long sys_sendmsg(int fd, uintptr_t umsg, int flags) { return msg_call(fd, umsg, flags, true); }
long sys_recvmsg(int fd, uintptr_t umsg, int flags) { return msg_call(fd, umsg, flags, false); }

/* sendmmsg/recvmmsg: msg_call on each struct mmsghdr (a msghdr and its msg_len), up to IOV_MAX of
 * them. Returns how many went through; an error on the first is returned, a later one ends the
 * batch (Linux keeps it as the socket's pending error for recvmmsg; Ember drops it). recvmmsg:
 * MSG_WAITFORONE makes every receive after the first non-blocking; the timeout is looked at after
 * each datagram, as on Linux. */
static long mmsg_call(int fd, uintptr_t uvec, unsigned vlen, int flags, bool send, const struct poll_timeout *to)
{
	bool wait_one = !send && (flags & MSG_WAITFORONE);
	flags &= ~MSG_WAITFORONE;
	vlen = MIN(vlen, (unsigned)IOV_MAX);
	long done = 0;
	for (unsigned i = 0; i < vlen; i++) {
		uintptr_t m = uvec + (uintptr_t)i * MMSGHDR_SIZE;
		long r = msg_call(fd, m, flags, send);
		uint32_t len = (uint32_t)r;
		if (r >= 0 && copy_to_user(m + offsetof(struct mmsghdr_k, len), &len, sizeof(len)))
			r = -EFAULT;
		if (r < 0)
			return done ? done : r;
		done++;
		if (wait_one)
			flags |= MSG_DONTWAIT;
		if (to && poll_timed_out(to))
			break;
	}
	return done;
}

long sys_sendmmsg(int fd, uintptr_t uvec, unsigned vlen, int flags)
{
	return mmsg_call(fd, uvec, vlen, flags, true, NULL);
}

long sys_recvmmsg(int fd, uintptr_t uvec, unsigned vlen, int flags, uintptr_t utimeout)
{
	struct poll_timeout to;
	if (utimeout) {
		int e = poll_timeout_from_user(utimeout, &to);
		if (e < 0)
			return e;
	}
	return mmsg_call(fd, uvec, vlen, flags, false, utimeout ? &to : NULL);
}

long sys_shutdown(int fd, int how)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	if (how < SHUT_RD || how > SHUT_RDWR)
		r = -EINVAL;
	else
		r = s->ops->shutdown ? s->ops->shutdown(s, how) : -EOPNOTSUPP;
	file_put(f);
	return r;
}

/* ---- options ---- */

static int opt_int(const void *val, int len, int *out)
{
	if (len < (int)sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

static int opt_timeo(const void *val, int len, uint64_t *out)
{
	struct sock_timeval tv;
	if (len < (int)sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.usec < 0 || tv.usec >= 1000000)
		return -EDOM;
	if (tv.sec < 0) {
		*out = 0;                         /* Linux: a negative timeout is "none", not an error */
		return 0;
	}
	if (tv.sec > 1000000000)
		tv.sec = 1000000000;
	*out = (uint64_t)tv.sec * 1000000000ULL + (uint64_t)tv.usec * 1000;
	return 0;
}

static int sol_socket_set(struct socket *s, int name, const void *val, int len)
{
	int v = 0, r;
	if (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW) {
		uint64_t ns;
		if ((r = opt_timeo(val, len, &ns)) < 0)
			return r;
		if (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW)
			s->rcvtimeo_ns = ns;
		else
			s->sndtimeo_ns = ns;
		return 0;
	}
	if (name == SO_LINGER) {
		struct linger_k l;
		if (len < (int)sizeof(l))
			return -EINVAL;
		memcpy(&l, val, sizeof(l));
		spin_lock(&s->lock);
		s->linger_on = l.l_onoff != 0;
		s->linger_s = l.l_linger < 0 ? 0 : l.l_linger;
		spin_unlock(&s->lock);
		return 0;
	}
	if ((r = opt_int(val, len, &v)) < 0)
		return r;
	switch (name) {
	case SO_REUSEADDR: s->reuseaddr = v != 0; return 0;
	case SO_BROADCAST: s->broadcast = v != 0; return 0;
	case SO_KEEPALIVE:
		s->keepalive = v != 0;
		if (s->ops->setsockopt)
			s->ops->setsockopt(s, SOL_SOCKET, name, val, len);
		return 0;
	case SO_RCVBUF: case SO_RCVBUFFORCE:
	case SO_SNDBUF: case SO_SNDBUFFORCE: {
		/* Linux: twice the request, at least its minimum, at most the maximum */
		int64_t b = (int64_t)MIN(MAX(v, 0), SOCK_MAX_BUF) * 2;
		if (b < SOCK_MIN_BUF * 2)
			b = SOCK_MIN_BUF * 2;
		if (name == SO_RCVBUF || name == SO_RCVBUFFORCE)
			s->rcvbuf = (int)b;
		else
			s->sndbuf = (int)b;
		return 0;
	}
	case SO_DEBUG: case SO_DONTROUTE: case SO_OOBINLINE: case SO_NO_CHECK: case SO_PRIORITY:
	case SO_REUSEPORT: case SO_RCVLOWAT: case SO_TIMESTAMP_OLD:
		return 0;                         /* accepted and without effect here */
	case SO_SNDLOWAT:
		return -ENOPROTOOPT;              /* Linux: not changeable */
	case SO_TYPE: case SO_ERROR: case SO_ACCEPTCONN: case SO_PROTOCOL: case SO_DOMAIN:
		return -ENOPROTOOPT;
	}
	/* others the protocol may know (AF_UNIX: SO_PASSCRED) */
	return s->family == AF_UNIX ? s->ops->setsockopt(s, SOL_SOCKET, name, val, len) : -ENOPROTOOPT;
}

static int sol_socket_get(struct socket *s, int name, void *val, int *len)
{
	int v;
	switch (name) {
	case SO_RCVTIMEO_OLD: case SO_RCVTIMEO_NEW: case SO_SNDTIMEO_OLD: case SO_SNDTIMEO_NEW: {
		uint64_t ns = (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW) ? s->rcvtimeo_ns : s->sndtimeo_ns;
		struct sock_timeval tv = { (int64_t)(ns / 1000000000ULL), (int64_t)(ns % 1000000000ULL) / 1000 };
		memcpy(val, &tv, sizeof(tv));
		*len = MIN(*len, (int)sizeof(tv));
		return 0;
	}
	case SO_LINGER: {
		struct linger_k l = { s->linger_on, s->linger_s };
		memcpy(val, &l, sizeof(l));
		*len = MIN(*len, (int)sizeof(l));
		return 0;
	}
	case SO_REUSEADDR: v = s->reuseaddr; break;
	case SO_BROADCAST: v = s->broadcast; break;
	case SO_KEEPALIVE: v = s->keepalive; break;
	case SO_RCVBUF: v = s->rcvbuf; break;
	case SO_SNDBUF: v = s->sndbuf; break;
	case SO_TYPE: v = s->type; break;
	case SO_PROTOCOL: v = s->protocol; break;
	case SO_DOMAIN: v = s->family; break;
	case SO_ERROR: v = sock_take_error(s); break;
	case SO_ACCEPTCONN: {
		int l = sizeof(v);
		if (!s->ops->getsockopt || s->ops->getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) < 0)
			v = 0;
		break;
	}
	case SO_RCVLOWAT: case SO_SNDLOWAT: v = 1; break;
	case SO_PEERCRED:
		return s->ops->getsockopt ? s->ops->getsockopt(s, SOL_SOCKET, name, val, len) : -ENOPROTOOPT;
	case SO_DEBUG: case SO_DONTROUTE: case SO_OOBINLINE: case SO_NO_CHECK: case SO_PRIORITY:
	case SO_REUSEPORT:
		v = 0;
		break;
	default:                                      /* others the protocol may know (SO_PASSCRED) */
		return s->family == AF_UNIX ? s->ops->getsockopt(s, SOL_SOCKET, name, val, len) : -ENOPROTOOPT;
	}
	memcpy(val, &v, sizeof(v));
	*len = MIN(*len, (int)sizeof(v));
	return 0;
}

long sys_setsockopt(int fd, int level, int name, uintptr_t uval, int len)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	uint8_t val[SOCK_OPT_MAX];
	memset(val, 0, sizeof(val));
	if (len < 0)
		r = -EINVAL;
	else if (copy_from_user(val, uval, MIN(len, SOCK_OPT_MAX)))
		r = -EFAULT;
	else if (level == SOL_SOCKET)
		r = sol_socket_set(s, name, val, MIN(len, SOCK_OPT_MAX));
	else
		r = s->ops->setsockopt ? s->ops->setsockopt(s, level, name, val, MIN(len, SOCK_OPT_MAX)) : -ENOPROTOOPT;
	file_put(f);
	return r;
}

long sys_getsockopt(int fd, int level, int name, uintptr_t uval, uintptr_t ulen)
{
	struct file *f;
	long r = 0;
	struct socket *s = sock_get(fd, &f, &r);
	if (!s)
		return r;
	uint8_t val[SOCK_OPT_MAX];
	int len;
	memset(val, 0, sizeof(val));
	if (copy_from_user(&len, ulen, sizeof(len))) {
		r = -EFAULT;
	} else if (len < 0) {
		r = -EINVAL;
	} else {
		int klen = MIN(len, SOCK_OPT_MAX);
		if (level == SOL_SOCKET)
			r = sol_socket_get(s, name, val, &klen);
		else
			r = s->ops->getsockopt ? s->ops->getsockopt(s, level, name, val, &klen) : -ENOPROTOOPT;
		if (r == 0 && (copy_to_user(uval, val, klen) || copy_to_user(ulen, &klen, sizeof(klen))))
			r = -EFAULT;
	}
	file_put(f);
	return r;
}
