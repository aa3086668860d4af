/*
 * AF_UNIX internals shared by the files of net/unix/ (the theory is at the top of af_unix.c).
 * Nothing outside net/unix/ includes this; the rest of the kernel sees net/socket.h.
 */
#ifndef NET_UNIX_UNIX_H
#define NET_UNIX_UNIX_H
#include "net/socket.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "lib/list.h"

#define UNIX_PATH_MAX 108                   /* sizeof(sun_path) */
#define UNIX_SUN_OFF 2                      /* offsetof(struct sockaddr_un, sun_path) */
#define UNIX_ADDR_MAX (UNIX_SUN_OFF + UNIX_PATH_MAX)
#define UNIX_BUF_DEFAULT 212992             /* SO_SNDBUF/SO_RCVBUF as Linux reports them (wmem_default) */
#define UNIX_STREAM_CHUNK (64 * 1024)       /* bytes per record of a long stream write */
#define UNIX_MAX_DGRAM_QLEN 10              /* net.unix.max_dgram_qlen: a receiver is full above it */
#define UNIX_SCM_MAX_FD 253                 /* SCM_MAX_FD: descriptors in one message */
#define UNIX_CONTROL_MAX 20480              /* net.core.optmem_max: control bytes of one send */

#define SOL_SOCKET_K 1
#define SCM_RIGHTS_K 1
#define SCM_CREDENTIALS_K 2
#define SO_PASSCRED_K 16

/* A bound name as the user gave it (abstract: every byte counts) or as Linux stores a path
 * (family, the path, its NUL: len = 2 + strlen + 1). */
struct unix_addr {
	int len;
	uint8_t bytes[UNIX_ADDR_MAX + 1];       /* sockaddr_un, NUL-terminated for paths */
};

static inline bool unix_addr_abstract(const struct unix_addr *a) { return a->bytes[UNIX_SUN_OFF] == 0; }

struct unix_cred {                          /* struct ucred */
	int32_t pid;
	uint32_t uid, gid;
};

/* Descriptors in flight: references to the files, owned by the record carrying them. */
struct unix_fds {
	int n;
	struct file *f[];
};

/* One send's bytes on the receiver's queue (or one chunk of a long stream write). */
struct unix_rec {
	struct list_head node;
	size_t len;
	struct unix_cred cred;                  /* the sender's, or what SCM_CREDENTIALS said */
	struct unix_fds *fds;                   /* SCM_RIGHTS, NULL when none */
	struct unix_addr *from;                 /* the sender's name (a copy), NULL if unbound */
	uint8_t data[];
};

enum unix_state { UNIX_UNCONNECTED, UNIX_LISTENING, UNIX_CONNECTED };

/* Linux's struct unix_sock. Fields are guarded by unix_lock unless said otherwise. */
struct unix_sock {
	int refs;                               /* atomic: see af_unix.c ("Lifetime") */
	struct socket *s;                       /* NULL when released, or an embryo not yet accepted */
	int type;                               /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	enum unix_state state;
	bool dead;                              /* released: nothing may queue on it */
	struct unix_sock *peer;                 /* connected to (a reference) */
	struct list_head q;                     /* received records, oldest first */
	size_t qbytes;                          /* bytes queued (beyond off) */
	size_t qlen;                            /* records queued */
	size_t off;                             /* stream: bytes of the first record already read */
	bool rcv_shut, snd_shut;                /* Linux's RCV_SHUTDOWN, SEND_SHUTDOWN */
	int err;                                /* pending error (ECONNRESET), reported once */
	struct unix_addr *addr;                 /* bound name (owned) or NULL */
	struct inode *inode;                    /* pathname binding: the node (a reference) */
	struct list_head all_node;              /* unix_all: every live unix socket */
	struct list_head bound_node;            /* unix_bound: the named ones */
	struct list_head acceptq;               /* listener: embryos, oldest first (refs owned) */
	struct list_head accept_node;           /* embryo: on its listener's acceptq */
	int backlog, nacc;                      /* listener: listen()'s backlog, embryos queued */
	bool passcred;                          /* SO_PASSCRED */
	struct unix_cred peercred;              /* SO_PEERCRED: the peer's at connect/listen time */
	struct unix_cred owncred;               /* ours (creator's, or at listen) */
	struct waitq peer_wait;                 /* senders waiting for room here, connectors for backlog */
	size_t send_want;                       /* the blocked writer's record size */
	/* descriptors in flight and their collector (unix_gc.c) */
	int inflight;                           /* references to our file on queues */
	struct list_head inflight_node;         /* on unix_gc.c's list while inflight > 0 */
	struct list_head gc_node, gc_work;      /* a pass's candidates and work list */
	int gc_refs;                            /* a pass: inflight minus references from candidates */
	bool gc_cand, gc_reach;                 /* a pass: candidate, found reachable */
};

/* The one lock of the family (af_unix.c says why one): every field above, the tables. A leaf
 * except for the wait-queue locks of sock_wake/wake_all taken inside it. Interrupts off. */
extern struct spinlock unix_lock;
extern struct list_head unix_all, unix_bound;
extern const struct sock_ops unix_sock_ops;

static inline struct unix_sock *unix_sk(struct socket *s) { return s->proto; }

/* af_unix.c */
struct unix_sock *unix_sock_new(int type);          /* refs 1, unconnected; NULL: no memory */
void unix_get(struct unix_sock *u);
void unix_put(struct unix_sock *u);                 /* any context; frees at 0 (queue already empty) */
void unix_wake(struct unix_sock *u);                /* its socket's sleepers/watchers (unix_lock held or not) */
void unix_current_cred(struct unix_cred *c);
/* Attach a new struct socket to u (u's existing reference becomes the socket's: accept). */
void unix_attach(struct socket *s, struct unix_sock *u);
/* Room on r's queue for a record of len bytes from u (unix_lock held). */
bool unix_room(struct unix_sock *u, struct unix_sock *r, size_t len);
/* Sleep on wq until cond(arg) (checked with nothing held): sock_wait's rules for O_NONBLOCK,
 * timeouts and signals; drop is released while asleep. */
int unix_wait(struct waitq *wq, bool (*cond)(void *arg), void *arg, bool nonblock, uint64_t timeo_ns,
	      uint64_t *deadline, struct sleeplock *drop);
/* Free records (their in-flight files are closed): a list of struct unix_rec. Thread context,
 * no lock held (closing a file may release a socket). */
void unix_free_recs(struct list_head *recs);
/* Move u's queued records to recs (unix_lock held): their descriptors leave flight. */
void unix_queue_drain_locked(struct unix_sock *u, struct list_head *recs);

/* unix_gc.c: descriptors in flight and the collector of unreachable cycles (theory there).
 * add: a record carrying fds was appended to a queue; del: fds left a queue (taken by a reader,
 * or their record unlinked). take: r's fds out of r, leaving flight (r on a queue). */
void unix_inflight_add_locked(const struct unix_fds *fds);
void unix_inflight_del_locked(const struct unix_fds *fds);
struct unix_fds *unix_rec_take_fds_locked(struct unix_rec *r);
bool unix_gc_wanted(void);                          /* any unix socket in flight */
void unix_gc(void);                                 /* thread context, nothing held */
void unix_gc_maybe(void);                           /* sendmsg: unix_gc when very many are in flight */

/* unix_conn.c: names and connections */
int unix_bind(struct socket *s, const struct sockaddr_k *a, int len);
int unix_listen(struct socket *s, int backlog);
int unix_accept(struct socket *s, struct socket **out, bool nonblock);
int unix_connect(struct socket *s, const struct sockaddr_k *a, int len, bool nonblock);
int unix_autobind(struct unix_sock *u);
/* The live socket named by a (of len bytes, checked as connect does), referenced: 0 or -errno
 * (-ENOENT and other lookup errors for paths, -ECONNREFUSED when nothing is bound there). */
int unix_find(const struct sockaddr_k *a, int len, struct unix_sock **out);
/* Unbind at release: unix_lock held; the inode reference moves to *ino (put it afterwards). */
void unix_unbind_locked(struct unix_sock *u, struct inode **ino);

/* unix_msg.c */
long unix_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock);
long unix_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock);

/* unix_scm.c: control messages. parse: the sender's cmsgs (user memory) into fds and creds
 * (creds preset to the sender's). deliver: SCM_CREDENTIALS (if want_cred) and SCM_RIGHTS into
 * the receiver's control buffer, installing the fds (consume: the files' references move to the
 * new fds; otherwise, MSG_PEEK, they are duplicated); what does not fit sets MSG_CTRUNC and is
 * closed. m->flags gets MSG_CTRUNC, m->control_out the bytes written. */
int unix_scm_parse(uintptr_t control, size_t controllen, struct unix_fds **fds, struct unix_cred *cred);
void unix_fds_free(struct unix_fds *fds);
int unix_scm_deliver(struct sock_msg *m, const struct unix_cred *cred, bool want_cred,
		     struct unix_fds *fds, bool consume, bool cloexec);

#endif
