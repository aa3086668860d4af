/*
 * Address spaces that die while CPUs still hold them lazily (mm/uvm.c, "Lazy address spaces"):
 * inside Ember a CPU that switches from a user thread to a kernel thread (a squeue worker, a NIC
 * poll thread, the idle loop) keeps that thread's page table in satp, and the last mm_put must
 * take it off every such CPU before the tables are freed. A freed table still in some CPU's satp
 * would be reused for other data while that CPU's kernel thread walks it.
 *
 * So: TRAFFIC_PAIRS loopback TCP connections echo a checked byte stream (that keeps squeue workers
 * and wake-ups busy on every CPU), while CHURNERS threads fork children that map and touch
 * CHILD_PAGES pages (so each mm has tables of its own) and exit, for
 * CHURN_SECONDS. Every child must exit with its code, every echoed byte must come back in order,
 * and the kernel must neither panic nor hang (the harness's timeout).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define CHURN_SECONDS 6
#define CHURNERS 3
#define TRAFFIC_PAIRS 2
#define CHILD_PAGES 24
#define CHILD_CODE 23
#define CHUNK 8192
#define PAGE 4096

static atomic_int stop;
static atomic_long children, bad_children, echoed, bad_bytes;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* In the child: its own tables and pages, then exit. (No thread in the child: under qemu-user a
 * dynamically linked child of a multi-threaded process hung creating one.) */
static void child_body(unsigned seed)
{
	unsigned char *p = mmap(NULL, CHILD_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	for (int i = 0; i < CHILD_PAGES; i++)
		p[i * PAGE] = (unsigned char)(seed + i);
	for (int i = 0; i < CHILD_PAGES; i++)
		if (p[i * PAGE] != (unsigned char)(seed + i))
			_exit(2);
	_exit(CHILD_CODE);
}

static void *churner(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	while (!atomic_load(&stop)) {
		pid_t pid = fork();
		if (pid == 0)
			child_body(seed);
		if (pid < 0) {
			atomic_fetch_add(&bad_children, 1);
			continue;
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != CHILD_CODE)
			atomic_fetch_add(&bad_children, 1);
		atomic_fetch_add(&children, 1);
		seed++;
	}
	return NULL;
}

struct pair { int a, b; };

/* b echoes what a sends; a checks that the stream comes back in order. */
static void *echo_side(void *arg)
{
	int fd = *(int *)arg;
	char buf[CHUNK];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w <= 0)
				return NULL;
			off += w;
		}
	}
	return NULL;
}

static void *traffic(void *arg)
{
	struct pair *pr = arg;
	unsigned char out[CHUNK], in[CHUNK];
	uint64_t sent = 0, got = 0;
	while (!atomic_load(&stop)) {
		for (int i = 0; i < CHUNK; i++)
			out[i] = (unsigned char)((sent + i) * 7 + 3);
		if (write(pr->a, out, CHUNK) != CHUNK)
			break;
		sent += CHUNK;
		size_t have = 0;
		while (have < CHUNK) {
			ssize_t n = read(pr->a, in + have, CHUNK - have);
			if (n <= 0)
				goto out;
			have += (size_t)n;
		}
		for (int i = 0; i < CHUNK; i++)
			if (in[i] != (unsigned char)((got + i) * 7 + 3))
				atomic_fetch_add(&bad_bytes, 1);
		got += CHUNK;
	}
out:
	atomic_fetch_add(&echoed, (long)got);
	shutdown(pr->a, SHUT_WR);
	return NULL;
}

static int tcp_pair(struct pair *pr)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sa, &len))
		return -1;
	pr->a = socket(AF_INET, SOCK_STREAM, 0);
	if (pr->a < 0 || connect(pr->a, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	pr->b = accept(l, NULL, NULL);
	close(l);
	int one = 1;
	setsockopt(pr->a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return pr->b < 0 ? -1 : 0;
}

int main(void)
{
	struct pair pairs[TRAFFIC_PAIRS];
	pthread_t echo_t[TRAFFIC_PAIRS], traffic_t[TRAFFIC_PAIRS], churn_t[CHURNERS];
	int ok = 1;
	for (int i = 0; i < TRAFFIC_PAIRS && ok; i++) {
		ok = tcp_pair(&pairs[i]) == 0;
		ok = ok && !pthread_create(&echo_t[i], NULL, echo_side, &pairs[i].b);
		ok = ok && !pthread_create(&traffic_t[i], NULL, traffic, &pairs[i]);
	}
	CHECK("loopback traffic started", ok, "errno %d", errno);
	if (!ok)
		return t_finish();
	for (int i = 0; i < CHURNERS; i++)
		pthread_create(&churn_t[i], NULL, churner, (void *)(uintptr_t)(i * 1000));
	double end = now() + CHURN_SECONDS;
	while (now() < end)
		usleep(100000);
	atomic_store(&stop, 1);
	for (int i = 0; i < CHURNERS; i++)
		pthread_join(churn_t[i], NULL);
	for (int i = 0; i < TRAFFIC_PAIRS; i++) {
		pthread_join(traffic_t[i], NULL);
		pthread_join(echo_t[i], NULL);
		close(pairs[i].a);
		close(pairs[i].b);
	}
	long n = atomic_load(&children);
	printf("children %ld, echoed %ld bytes\n", n, atomic_load(&echoed));
	CHECK("children forked and reaped", n >= CHURNERS, "only %ld", n);
	CHECK("every child exited with its code", atomic_load(&bad_children) == 0, "%ld did not",
	      atomic_load(&bad_children));
	CHECK("traffic flowed", atomic_load(&echoed) >= CHUNK, "%ld bytes", atomic_load(&echoed));
	CHECK("every echoed byte came back in order", atomic_load(&bad_bytes) == 0, "%ld bad",
	      atomic_load(&bad_bytes));
	return t_finish();
}
