// unit-sources: net/unix/unix_gc.c
/*
 * The AF_UNIX collector's mark and sweep (net/unix/unix_gc.c) on graphs of model sockets: a file
 * whose last reference runs a model release (its queue freed, then unix_gc() again, as
 * unix_release does). Checks that unreachable cycles (self, rings, a listener queued on its own
 * embryo, whatever hangs off them) are collected with the files they carry, and that sockets
 * referenced from outside (an fd, a held socket's queue, a thread's reference) are not, nor
 * anything reachable from them; that in-flight counts follow sends, takes and purges; and that a
 * collection started inside a collection's sweep (nested releases) comes back as another pass.
 * AddressSanitizer's leak check sees any record or descriptor array left behind.
 */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "net/unix/unix.h"
#include "fs/fs.h"

#define MAX_SOCKS 16

struct spinlock unix_lock = SPINLOCK_INIT("unix");
const struct sock_ops unix_sock_ops;
static const struct file_ops model_sock_fops, model_pipe_fops;

struct msock {
	struct file file;
	struct socket sock;
	struct unix_sock u;
	bool released;
};

static struct msock socks[MAX_SOCKS];
static struct file pipe_end;
static bool pipe_closed;
static int releases, gc_calls;

bool file_is_socket(struct file *f) { return f->ops == &model_sock_fops; }
int wake_up(struct waitq *wq, int nr) { (void)wq; (void)nr; return 0; }
void unix_wake(struct unix_sock *u) { (void)u; }

static void model_put(struct file *f);

void unix_free_recs(struct list_head *recs)
{
	while (!list_empty(recs)) {
		struct unix_rec *r = list_first_entry(recs, struct unix_rec, node);
		list_del(&r->node);
		for (int i = 0; r->fds && i < r->fds->n; i++)
			model_put(r->fds->f[i]);
		free(r->fds);
		free(r);
	}
}

/* af_unix.c's, for the model (that file needs the whole kernel) */
void unix_queue_drain_locked(struct unix_sock *u, struct list_head *recs)
{
	while (!list_empty(&u->q)) {
		struct list_head *n = u->q.next;
		list_del(n);
		unix_inflight_del_locked(list_entry(n, struct unix_rec, node)->fds);
		list_add_tail(n, recs);
	}
	u->qbytes = u->qlen = u->off = 0;
}

/* unix_release's part that matters here: the queue (and a listener's embryos' queues) freed,
 * then a collection. */
static void model_release(struct msock *m)
{
	struct list_head recs;
	list_init(&recs);
	spin_lock(&unix_lock);
	unix_queue_drain_locked(&m->u, &recs);
	while (!list_empty(&m->u.acceptq)) {
		struct unix_sock *e = list_first_entry(&m->u.acceptq, struct unix_sock, accept_node);
		list_del(&e->accept_node);
		unix_queue_drain_locked(e, &recs);
	}
	m->u.s = NULL;
	spin_unlock(&unix_lock);
	m->released = true;
	releases++;
	unix_free_recs(&recs);
	if (unix_gc_wanted()) {
		gc_calls++;
		unix_gc();
	}
}

static void model_put(struct file *f)
{
	if (--f->refcount)
		return;
	if (f == &pipe_end)
		pipe_closed = true;
	else
		model_release(container_of(f, struct msock, file));
}

static void reset(void)
{
	if (unix_gc_wanted()) {                      /* the collector's list still links the old models */
		printf("FAIL a previous case left sockets in flight: cannot go on\n");
		exit(1);
	}
	memset(socks, 0, sizeof(socks));
	for (int i = 0; i < MAX_SOCKS; i++) {
		struct msock *m = &socks[i];
		m->file.refcount = 1;                    /* the fd */
		m->file.ops = &model_sock_fops;
		m->file.priv = &m->sock;
		m->sock.ops = &unix_sock_ops;
		m->sock.proto = &m->u;
		m->sock.file = &m->file;
		m->u.s = &m->sock;
		m->u.state = UNIX_CONNECTED;
		list_init(&m->u.q);
		list_init(&m->u.acceptq);
		list_init(&m->u.accept_node);
		list_init(&m->u.inflight_node);
		list_init(&m->u.gc_node);
		list_init(&m->u.gc_work);
	}
	memset(&pipe_end, 0, sizeof(pipe_end));
	pipe_end.refcount = 1;
	pipe_end.ops = &model_pipe_fops;
	pipe_closed = false;
	releases = gc_calls = 0;
}

/* A record on to's queue carrying the files (each gets a reference, as SCM_RIGHTS takes one). */
static void send_files(struct unix_sock *to, struct file **f, int n)
{
	struct unix_rec *r = calloc(1, sizeof(*r));
	r->fds = calloc(1, sizeof(*r->fds) + (size_t)n * sizeof(struct file *));
	r->fds->n = n;
	for (int i = 0; i < n; i++) {
		r->fds->f[i] = f[i];
		f[i]->refcount++;
	}
	spin_lock(&unix_lock);
	list_add_tail(&r->node, &to->q);
	to->qlen++;
	unix_inflight_add_locked(r->fds);
	spin_unlock(&unix_lock);
}

static void send_sock(int to, int what) { struct file *f = &socks[what].file; send_files(&socks[to].u, &f, 1); }
static void close_fd(int i) { model_put(&socks[i].file); }
static void gc(void) { unix_gc(); }

TEST(self_cycle_collected_only_when_closed)
{
	reset();
	send_sock(0, 0);                             /* 0 queued on itself */
	CHECK_EQ(socks[0].u.inflight, 1);
	gc();
	CHECK(!socks[0].released);                   /* its fd is still open */
	CHECK_EQ(socks[0].u.qlen, 1);
	close_fd(0);
	CHECK(!socks[0].released);                   /* the queue holds the last reference */
	gc();
	CHECK(socks[0].released);
	CHECK(!unix_gc_wanted());
}

TEST(ring_of_three_with_a_pipe)
{
	reset();
	struct file *f[2] = { &socks[1].file, &pipe_end };
	send_files(&socks[0].u, f, 2);
	send_sock(1, 2);
	send_sock(2, 0);
	close_fd(0);
	close_fd(1);
	close_fd(2);
	model_put(&pipe_end);                        /* the test's own fd of the pipe end */
	CHECK(!pipe_closed);
	gc();
	CHECK(socks[0].released && socks[1].released && socks[2].released);
	CHECK(pipe_closed);
	CHECK(!unix_gc_wanted());
}

TEST(reachable_from_a_held_socket_is_kept)
{
	reset();
	send_sock(1, 2);                             /* 1 and 2 hold each other */
	send_sock(2, 1);
	send_sock(0, 1);                             /* 0 (open) holds 1 */
	send_sock(2, 3);                             /* and 2 holds 3 */
	close_fd(1);
	close_fd(2);
	close_fd(3);
	gc();
	CHECK(!socks[1].released && !socks[2].released && !socks[3].released);
	CHECK_EQ(socks[1].u.qlen, 1);
	CHECK_EQ(socks[2].u.qlen, 2);
	CHECK_EQ(socks[1].u.inflight, 2);
	close_fd(0);                                 /* its release frees its queue and collects */
	CHECK(socks[0].released && socks[1].released && socks[2].released && socks[3].released);
	CHECK(gc_calls > 0);
	CHECK(!unix_gc_wanted());
}

TEST(a_thread_reference_keeps_a_cycle)
{
	reset();
	send_sock(0, 1);
	send_sock(1, 0);
	close_fd(0);
	close_fd(1);
	socks[1].file.refcount++;                    /* a system call on 1 holds a reference */
	gc();
	CHECK(!socks[0].released && !socks[1].released);
	CHECK_EQ(socks[0].u.qlen, 1);
	socks[1].file.refcount--;
	gc();
	CHECK(socks[0].released && socks[1].released);
}

TEST(taken_descriptors_leave_flight)
{
	reset();
	send_sock(0, 1);                             /* 1 on 0's queue, 1's fd closed */
	close_fd(1);
	CHECK_EQ(socks[1].u.inflight, 1);
	spin_lock(&unix_lock);
	struct unix_rec *r = list_first_entry(&socks[0].u.q, struct unix_rec, node);
	struct unix_fds *fds = unix_rec_take_fds_locked(r);   /* a reader took it, not installed yet */
	spin_unlock(&unix_lock);
	CHECK(r->fds == NULL);
	CHECK_EQ(socks[1].u.inflight, 0);
	CHECK(!unix_gc_wanted());
	send_sock(1, 1);                             /* in flight on its own queue, and held by fds */
	gc();
	CHECK(!socks[1].released);                   /* the reader's reference counts */
	model_put(fds->f[0]);                        /* the reader closes what it took */
	free(fds);
	CHECK(!socks[1].released);
	close_fd(0);                                 /* any release collects */
	CHECK(socks[1].released);
	CHECK(!unix_gc_wanted());
}

TEST(listener_on_its_own_embryo)
{
	reset();
	struct msock *l = &socks[0], *e = &socks[1];
	l->u.state = UNIX_LISTENING;
	e->u.s = NULL;                               /* an embryo: no socket, no file yet */
	e->file.refcount = 0;
	list_add_tail(&e->u.accept_node, &l->u.acceptq);
	send_sock(1, 0);                             /* the client sent the listener to the embryo */
	gc();
	CHECK(!l->released);
	close_fd(0);
	CHECK(!l->released);
	gc();
	CHECK(l->released);
	CHECK_EQ(e->u.qlen, 0);
	CHECK(!unix_gc_wanted());
}

TEST(embryo_queue_of_a_held_listener_is_reachable)
{
	reset();
	struct msock *l = &socks[0], *e = &socks[1];
	l->u.state = UNIX_LISTENING;
	e->u.s = NULL;
	e->file.refcount = 0;
	list_add_tail(&e->u.accept_node, &l->u.acceptq);
	send_sock(1, 2);                             /* 2 and 3 hold each other, 2 also on the embryo */
	send_sock(2, 3);
	send_sock(3, 2);
	close_fd(2);
	close_fd(3);
	gc();
	CHECK(!socks[2].released && !socks[3].released);
	close_fd(0);
	CHECK(l->released && socks[2].released && socks[3].released);
	CHECK(!unix_gc_wanted());
}

TEST(many_disjoint_cycles_in_one_pass)
{
	reset();
	for (int i = 0; i + 1 < MAX_SOCKS; i += 2) {
		send_sock(i, i + 1);
		send_sock(i + 1, i);
	}
	for (int i = 0; i < MAX_SOCKS; i++)
		close_fd(i);
	CHECK_EQ(releases, 0);
	gc();
	CHECK_EQ(releases, MAX_SOCKS);
	CHECK(!unix_gc_wanted());
}

UNIT_TESTS(CASE(self_cycle_collected_only_when_closed), CASE(ring_of_three_with_a_pipe),
	   CASE(reachable_from_a_held_socket_is_kept), CASE(a_thread_reference_keeps_a_cycle),
	   CASE(taken_descriptors_leave_flight), CASE(listener_on_its_own_embryo),
	   CASE(embryo_queue_of_a_held_listener_is_reachable), CASE(many_disjoint_cycles_in_one_pass))
