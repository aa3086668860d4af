/*
 * AF_UNIX names and connections: bind (pathname, abstract, autobind), finding the socket a name
 * means, listen, connect (stream, seqpacket, datagram) and accept. The rules are in af_unix.c's
 * theory comment; locking: unix_lock around every state change, path walks and node creation
 * (which may sleep) outside it.
 */
#include "net/unix/unix.h"
#include "kernel/errno.h"
#include "fs/fs.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define AUTOBIND_NAMES 0x100000             /* "\0XXXXX": five hex digits, as Linux */
#define AUTOBIND_DIGITS 5

static uint32_t autobind_next;              /* unix_lock */

/* Linux's unix_validate_addr + unix_mkname: the name of a (len bytes) into out. */
static int unix_mkname(const struct sockaddr_k *a, int len, struct unix_addr *out)
{
	if (len <= UNIX_SUN_OFF || len > UNIX_ADDR_MAX || a->family != AF_UNIX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out->bytes, a->raw, (size_t)len);
	if (out->bytes[UNIX_SUN_OFF] == 0) {
		out->len = len;                      /* abstract: every byte counts */
		return 0;
	}
	out->bytes[len] = 0;
	out->len = UNIX_SUN_OFF + (int)strlen((const char *)out->bytes + UNIX_SUN_OFF) + 1;
	return 0;
}

static const char *addr_path(const struct unix_addr *a) { return (const char *)a->bytes + UNIX_SUN_OFF; }

/* A live socket bound to this abstract name (unix_lock held). */
static struct unix_sock *find_abstract_locked(const struct unix_addr *a)
{
	struct list_head *p;
	list_for_each(p, &unix_bound) {
		struct unix_sock *u = list_entry(p, struct unix_sock, bound_node);
		if (!u->inode && u->addr->len == a->len && !memcmp(u->addr->bytes, a->bytes, (size_t)a->len))
			return u;
	}
	return NULL;
}

static struct unix_sock *find_inode_locked(const struct inode *ino)
{
	struct list_head *p;
	list_for_each(p, &unix_bound) {
		struct unix_sock *u = list_entry(p, struct unix_sock, bound_node);
		if (u->inode == ino)
			return u;
	}
	return NULL;
}

void unix_unbind_locked(struct unix_sock *u, struct inode **ino)
{
	if (!list_empty(&u->bound_node))
		list_del(&u->bound_node);
	*ino = u->inode;
	u->inode = NULL;
}

int unix_find(const struct sockaddr_k *a, int len, struct unix_sock **out)
{
	struct unix_addr *na = kmalloc(sizeof(*na));
	if (!na)
		return -ENOMEM;
	int err = unix_mkname(a, len, na);
	struct unix_sock *u = NULL;
	if (err) {
		;
	} else if (unix_addr_abstract(na)) {
		spin_lock(&unix_lock);
		if ((u = find_abstract_locked(na)))
			unix_get(u);
		spin_unlock(&unix_lock);
	} else {
		struct inode *ino;
		err = sock_node_lookup(addr_path(na), &ino);
		if (!err) {
			if ((ino->mode & S_IFMT) == S_IFSOCK) {
				spin_lock(&unix_lock);
				if ((u = find_inode_locked(ino)))
					unix_get(u);
				spin_unlock(&unix_lock);
			}
			inode_put(ino);
		}
	}
	kfree(na);
	if (err)
		return err;
	if (!u)
		return -ECONNREFUSED;
	*out = u;
	return 0;
}

static void hex_digits(uint8_t *out, uint32_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 4)
		out[i] = "0123456789abcdef"[v & 0xf];
}

int unix_autobind(struct unix_sock *u)
{
	struct unix_addr *na = kzalloc(sizeof(*na));
	if (!na)
		return -ENOMEM;
	na->len = UNIX_SUN_OFF + 1 + AUTOBIND_DIGITS;
	na->bytes[0] = AF_UNIX;                      /* little-endian sa_family_t */
	int err = -ENOSPC;
	spin_lock(&unix_lock);
	if (u->addr) {
		spin_unlock(&unix_lock);
		kfree(na);
		return 0;
	}
	for (uint32_t i = 0; i < AUTOBIND_NAMES; i++) {
		autobind_next = (autobind_next + 1) % AUTOBIND_NAMES;
		hex_digits(na->bytes + UNIX_SUN_OFF + 1, autobind_next, AUTOBIND_DIGITS);
		if (!find_abstract_locked(na)) {
			u->addr = na;
			list_add_tail(&u->bound_node, &unix_bound);
			err = 0;
			break;
		}
	}
	spin_unlock(&unix_lock);
	if (err)
		kfree(na);
	return err;
}

int unix_bind(struct socket *s, const struct sockaddr_k *a, int len)
{
	struct unix_sock *u = unix_sk(s);
	if (len < UNIX_SUN_OFF || a->family != AF_UNIX)
		return -EINVAL;
	if (len == UNIX_SUN_OFF)
		return unix_autobind(u);
	struct unix_addr *na = kmalloc(sizeof(*na));
	if (!na)
		return -ENOMEM;
	int err = unix_mkname(a, len, na);
	if (err) {
		kfree(na);
		return err;
	}
	struct inode *ino = NULL;
	if (!unix_addr_abstract(na)) {
		spin_lock(&unix_lock);
		bool bound = u->addr != NULL;
		spin_unlock(&unix_lock);
		err = bound ? -EINVAL : sock_node_create(addr_path(na), 0777, &ino);
		if (err == -EEXIST)
			err = -EADDRINUSE;
		if (err) {
			kfree(na);
			return err;
		}
	}
	spin_lock(&unix_lock);
	if (u->addr)
		err = -EINVAL;
	else if (!ino && find_abstract_locked(na))
		err = -EADDRINUSE;
	if (!err) {
		u->addr = na;
		u->inode = ino;
		list_add_tail(&u->bound_node, &unix_bound);
	}
	spin_unlock(&unix_lock);
	if (err) {
		kfree(na);
		if (ino)
			inode_put(ino);
	}
	return err;
}

int unix_listen(struct socket *s, int backlog)
{
	struct unix_sock *u = unix_sk(s);
	if (u->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	int err = 0;
	spin_lock(&unix_lock);
	if (!u->addr || u->state == UNIX_CONNECTED) {
		err = -EINVAL;
	} else {
		u->state = UNIX_LISTENING;
		u->backlog = backlog;
		unix_current_cred(&u->owncred);     /* what connecting peers see as SO_PEERCRED */
		u->peercred = u->owncred;           /* and the listener itself, as Linux's init_peercred */
		wake_all(&u->peer_wait);            /* a larger backlog: waiting connectors retry */
	}
	spin_unlock(&unix_lock);
	return err;
}

/* Drop a never-used unix_sock (connect's embryo on failure). */
static void unix_discard(struct unix_sock *u)
{
	spin_lock(&unix_lock);
	list_del(&u->all_node);
	spin_unlock(&unix_lock);
	unix_put(u);
}

static bool backlog_room(void *arg)
{
	struct unix_sock *l = arg;
	spin_lock(&unix_lock);
	bool ok = l->dead || l->state != UNIX_LISTENING || l->nacc <= l->backlog;
	spin_unlock(&unix_lock);
	return ok;
}

static int stream_connect(struct socket *s, const struct sockaddr_k *a, int len, bool nonblock)
{
	struct unix_sock *u = unix_sk(s);
	uint64_t deadline = 0;
	struct unix_sock *e = unix_sock_new(u->type);
	struct unix_addr *ea = kmalloc(sizeof(*ea));
	if (!e || !ea) {
		if (e)
			unix_discard(e);
		kfree(ea);
		return -ENOMEM;
	}
	int err;
	if (READ_ONCE(u->passcred) && (err = unix_autobind(u)))
		goto fail;
	for (;;) {
		struct unix_sock *l;
		if ((err = unix_find(a, len, &l)))
			goto fail;
		spin_lock(&unix_lock);
		if (l->type != u->type)
			err = -EPROTOTYPE;
		else if (l->dead || l->state != UNIX_LISTENING)
			err = -ECONNREFUSED;
		else if (u->state == UNIX_CONNECTED)
			err = -EISCONN;
		else if (u->state == UNIX_LISTENING || u->dead)
			err = -EINVAL;
		else if (l->nacc > l->backlog)
			err = -EAGAIN;
		if (err) {
			spin_unlock(&unix_lock);
			if (err == -EAGAIN && !nonblock) {
				err = unix_wait(&l->peer_wait, backlog_room, l, false, s->sndtimeo_ns, &deadline, NULL);
				unix_put(l);
				if (err)
					goto fail;
				continue;                    /* look the name up again, as Linux restarts */
			}
			unix_put(l);
			goto fail;
		}
		/* the embryo: connected to us, named as the listener, queued for accept */
		memcpy(ea, l->addr, sizeof(*ea));
		e->addr = ea;
		e->state = u->state = UNIX_CONNECTED;
		e->peer = u;
		unix_get(u);
		u->peer = e;
		unix_get(e);
		unix_current_cred(&e->peercred);     /* the accepted side sees the connecting process */
		e->owncred = l->owncred;
		u->peercred = l->owncred;
		e->passcred = l->passcred;
		list_add_tail(&e->accept_node, &l->acceptq);   /* e's first reference goes with it */
		l->nacc++;
		unix_wake(l);
		spin_unlock(&unix_lock);
		unix_put(l);
		return 0;
	}
fail:
	unix_discard(e);
	kfree(ea);
	return err;
}

static int dgram_connect(struct socket *s, const struct sockaddr_k *a, int len)
{
	struct unix_sock *u = unix_sk(s);
	if (len < (int)sizeof(a->family))
		return -EINVAL;
	struct unix_sock *t = NULL, *old;
	if (a->family != AF_UNSPEC) {
		int err;
		if (READ_ONCE(u->passcred) && (err = unix_autobind(u)))
			return err;
		if ((err = unix_find(a, len, &t)))
			return err;
		spin_lock(&unix_lock);
		if (t->type != u->type)
			err = -EPROTOTYPE;
		else if (t->dead)
			err = -ECONNREFUSED;
		else if (t->peer && t->peer != u)
			err = -EPERM;                    /* Linux's unix_may_send */
		if (err) {
			spin_unlock(&unix_lock);
			unix_put(t);
			return err;
		}
	} else {
		spin_lock(&unix_lock);               /* AF_UNSPEC: dissolve the association */
	}
	old = u->peer;
	u->peer = t;                                 /* t's reference moves in */
	u->state = t ? UNIX_CONNECTED : UNIX_UNCONNECTED;
	if (t)
		u->peercred = t->owncred;
	spin_unlock(&unix_lock);
	if (old)
		unix_put(old);
	return 0;
}

int unix_connect(struct socket *s, const struct sockaddr_k *a, int len, bool nonblock)
{
	if (unix_sk(s)->type == SOCK_DGRAM)
		return dgram_connect(s, a, len);
	return stream_connect(s, a, len, nonblock);
}

static bool accept_ready(struct socket *s)
{
	struct unix_sock *u = unix_sk(s);
	spin_lock(&unix_lock);
	bool ok = !list_empty(&u->acceptq) || u->state != UNIX_LISTENING;
	spin_unlock(&unix_lock);
	return ok;
}

int unix_accept(struct socket *s, struct socket **out, bool nonblock)
{
	struct unix_sock *u = unix_sk(s);
	if (u->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	if (READ_ONCE(u->state) != UNIX_LISTENING)
		return -EINVAL;
	struct socket *ns = sock_alloc(AF_UNIX, u->type, 0, &unix_sock_ops);
	if (!ns)
		return -ENOMEM;
	uint64_t deadline = 0;
	int err = sock_wait(s, accept_ready, nonblock, s->rcvtimeo_ns, &deadline, NULL);
	struct unix_sock *e = NULL;
	if (!err) {
		spin_lock(&unix_lock);
		if (list_empty(&u->acceptq)) {
			err = -EINVAL;
		} else {
			e = list_first_entry(&u->acceptq, struct unix_sock, accept_node);
			list_del(&e->accept_node);
			u->nacc--;
			wake_all(&u->peer_wait);         /* room for a waiting connector */
		}
		spin_unlock(&unix_lock);
	}
	if (err) {
		sock_free(ns);
		return err;
	}
	unix_attach(ns, e);
	*out = ns;
	return 0;
}
