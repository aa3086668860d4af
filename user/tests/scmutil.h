/* Helpers shared by the SCM_RIGHTS garbage-collection tests (scm_gc.c, scm_gc_stress.c):
 * passing descriptors, waiting for a pipe's end of file, counting Ember's unix sockets and free
 * memory, and the cycle builders. A cycle builder hides the write end of a pipe inside a cycle
 * of unix sockets whose only references are their own queued descriptors and closes every fd
 * of it: once the kernel collects the cycle, the pipe's reader sees end of file. */
#ifndef USER_TESTS_SCMUTIL_H
#define USER_TESTS_SCMUTIL_H
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "sockutil.h"

#define SCM_MAX_TEST_FDS 8
#define GC_WAIT_MS 10000            /* Linux collects asynchronously (a work queue): allow for it */

/* One message of len bytes (at least 1: Linux sends nothing for an empty stream write) carrying
 * n descriptors. The bytes sent or -1. */
static inline long scm_send(int sock, const int *fds, int n, const void *data, size_t len)
{
	char ctl[CMSG_SPACE(sizeof(int) * SCM_MAX_TEST_FDS)];
	memset(ctl, 0, sizeof(ctl));
	struct iovec iov = { (void *)data, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = n ? ctl : NULL,
			    .msg_controllen = n ? CMSG_SPACE(sizeof(int) * n) : 0 };
	if (n) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL);
}

/* One message into buf (len bytes): the byte count or -1; the descriptors it carried in
 * out[0 .. *nfds). */
static inline long scm_recv(int sock, void *buf, size_t len, int *out, int *nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * SCM_MAX_TEST_FDS)];
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	long r = recvmsg(sock, &m, 0);
	*nfds = 0;
	if (r < 0)
		return r;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(out + *nfds, CMSG_DATA(c), sizeof(int) * (size_t)k);
			*nfds += k;
		}
	return r;
}

/* Wait up to ms for fd to become readable and read one byte: 0 at end of file, 1 for a byte,
 * -1 on an error, -2 when nothing came in time. */
static inline long read_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;
	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return -2;
	char c;
	return read(fd, &c, 1);
}

/* Ember only: the number of unix sockets (/proc/net/unix lines after the header), -1 if unknown. */
static inline int unix_socket_count(void)
{
	FILE *f = fopen("/proc/net/unix", "r");
	if (!f)
		return -1;
	int n = -1, c;
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

/* MemFree of /proc/meminfo in KiB, -1 if unknown. */
static inline long mem_free_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	char line[128];
	long kb = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---- cycle builders: 0 or -1 (a call failed); every fd they made is closed either way ---- */

/* A socket queued on itself: sv[1] sends sv[0] (and the pipe end) to sv[0]; both closed. */
static inline int cycle_self(int type, int wpipe)
{
	int sv[2];
	if (socketpair(AF_UNIX, type, 0, sv) < 0)
		return -1;
	int fds[2] = { sv[0], wpipe };
	long r = scm_send(sv[1], fds, 2, "s", 1);
	close(sv[0]);
	close(sv[1]);
	return r == 1 ? 0 : -1;
}

/* A ring of n (>= 2) pairs: pair i's sv[0] holds pair i+1's sv[0] (mod n), the first also the
 * pipe end; every fd closed. */
static inline int cycle_ring(int type, int n, int wpipe)
{
	int sv[SCM_MAX_TEST_FDS][2], made = 0, err = 0;
	for (; made < n && made < SCM_MAX_TEST_FDS; made++)
		if (socketpair(AF_UNIX, type, 0, sv[made]) < 0) {
			err = -1;
			break;
		}
	for (int i = 0; !err && i < n; i++) {
		int fds[2] = { sv[(i + 1) % n][0], wpipe };
		if (scm_send(sv[i][1], fds, i == 0 ? 2 : 1, "r", 1) != 1)
			err = -1;
	}
	for (int i = 0; i < made; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
	return err;
}

/* A listener queued on its own unaccepted connection: the client sends the listener (and the
 * pipe end) before accept; both closed. name: a unique abstract name. */
static inline int cycle_listener(const char *name, int wpipe)
{
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	size_t len = strlen(name);
	memcpy(a.sun_path + 1, name, len);
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	int l = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0), err = -1;
	if (l >= 0 && c >= 0 && bind(l, (struct sockaddr *)&a, alen) == 0 && listen(l, 4) == 0 &&
	    connect(c, (struct sockaddr *)&a, alen) == 0) {
		int fds[2] = { l, wpipe };
		err = scm_send(c, fds, 2, "l", 1) == 1 ? 0 : -1;
	}
	if (l >= 0)
		close(l);
	if (c >= 0)
		close(c);
	return err;
}

#endif
