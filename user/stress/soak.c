/*
 * The soak (issue 17 item 4; `make soak`, tests/system/test_soak.py): for SECONDS, inside Ember,
 *   - LOOP_FLOWS TCP flows over loopback, each a sender process streaming a known pattern and a
 *     receiver process checking every byte of it (and a running checksum of both ends),
 *   - with HOSTIP PORT given, one more sender streaming the pattern to a host peer over the NIC
 *     (the host checks it: tests/system/hostsoak.py),
 *   - fork/exec churn: a process forking children that exec this program ("soak --child"), each
 *     of which must exit 0,
 * then stops everything and checks: every byte sent on loopback arrived and matched, every
 * process came back with status 0 (none lost, none killed), and MemFree (/proc/meminfo) is back
 * to its value at the start within FREE_SLACK_PCT percent. Prints progress every PROGRESS_S
 * seconds and ends with "N passed, N failed" like user/tests.
 *
 * usage: soak SECONDS [HOSTIP PORT]     (soak --child: the exec churn's child)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../tests/harness.h"

#define LOOP_FLOWS 4
#define BASE_PORT 7100
#define PERIOD 251                       /* the pattern: byte k of flow f is (k + 17 f) % PERIOD */
#define CHUNK (64 * 1024)
#define PROGRESS_S 10
#define FREE_SLACK_PCT 1
#define SETTLE_TRIES 100                 /* x 100 ms for memory to come back after the last exit */
#define MAX_PROCS (2 * LOOP_FLOWS + 2)

struct flow_stat { volatile uint64_t sent, received, bad, sum_sent, sum_recv; volatile int done; };
struct shared {
	volatile int stop;
	struct flow_stat flow[LOOP_FLOWS + 1];    /* the last one: the host flow (sender side only) */
	volatile uint64_t execs, exec_bad, fork_fail;
};
static struct shared *sh;
static unsigned char pattern[LOOP_FLOWS + 1][CHUNK + PERIOD];

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static long mem_free_kb(void)
{
	char b[2048];
	int fd = open("/proc/meminfo", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	b[n] = 0;
	char *p = strstr(b, "MemFree:");
	return p ? strtol(p + 8, NULL, 10) : -1;
}

/* a cheap running checksum over the stream (order-sensitive) */
static uint64_t sum_update(uint64_t s, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s = (s ^ p[i]) * 0x100000001b3ULL;
	return s;
}

static int sender(int f, const struct sockaddr_in *to)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	for (int tries = 0; connect(s, (const struct sockaddr *)to, sizeof(*to)) < 0; tries++) {
		if (tries > 100)
			return 2;
		close(s);
		usleep(50000);
		s = socket(AF_INET, SOCK_STREAM, 0);
	}
	struct flow_stat *st = &sh->flow[f];
	uint64_t sent = 0, sum = 0xcbf29ce484222325ULL;
	while (!sh->stop) {
		const unsigned char *p = pattern[f] + sent % PERIOD;
		ssize_t n = write(s, p, CHUNK);
		if (n <= 0)
			return 3;
		sum = sum_update(sum, p, (size_t)n);
		sent += (uint64_t)n;
		st->sent = sent;
	}
	st->sum_sent = sum;
	close(s);
	return 0;
}

static int receiver(int f, int ls)
{
	int c = accept(ls, NULL, NULL);
	close(ls);
	if (c < 0)
		return 2;
	struct flow_stat *st = &sh->flow[f];
	static unsigned char buf[CHUNK];
	uint64_t got = 0, bad = 0, sum = 0xcbf29ce484222325ULL;
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n < 0)
			return 3;
		if (n == 0)
			break;
		if (memcmp(buf, pattern[f] + got % PERIOD, (size_t)n) != 0)
			bad++;
		sum = sum_update(sum, buf, (size_t)n);
		got += (uint64_t)n;
		st->received = got;
	}
	st->bad = bad;
	st->sum_recv = sum;
	close(c);
	return bad ? 1 : 0;
}

static int churn(const char *self)
{
	while (!sh->stop) {
		pid_t c = fork();
		if (c < 0) {
			sh->fork_fail++;
			usleep(10000);
			continue;
		}
		if (c == 0) {
			char *argv[] = { (char *)self, "--child", NULL };
			execv(self, argv);
			_exit(127);
		}
		int st;
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			sh->exec_bad++;
		sh->execs++;
	}
	return 0;
}

static int listener(int port)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 4) < 0)
		return -1;
	return ls;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return getppid() > 0 ? 0 : 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	int seconds = argc > 1 ? atoi(argv[1]) : 600;
	const char *host = argc > 3 ? argv[2] : NULL;
	int host_port = argc > 3 ? atoi(argv[3]) : 0;
	const char *self = "/stress/soak";
	for (int f = 0; f <= LOOP_FLOWS; f++)
		for (int j = 0; j < CHUNK + PERIOD; j++)
			pattern[f][j] = (unsigned char)((j + 17 * f) % PERIOD);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	sleep(1);
	long base_kb = mem_free_kb();
	printf("soak: %d s, %d loopback flows%s, fork/exec churn; MemFree at start %ld kB\n", seconds, LOOP_FLOWS,
	       host ? ", one host flow" : "", base_kb);

	pid_t procs[MAX_PROCS];
	const char *what[MAX_PROCS];
	int np = 0;
	for (int f = 0; f < LOOP_FLOWS; f++) {
		int ls = listener(BASE_PORT + f);
		CHECK("listen", ls >= 0, "port %d errno %d", BASE_PORT + f, errno);
		if (ls < 0)
			return t_finish();
		pid_t r = fork();
		if (r == 0)
			_exit(receiver(f, ls));
		close(ls);
		what[np] = "receiver";
		procs[np++] = r;
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(BASE_PORT + f),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		pid_t s = fork();
		if (s == 0)
			_exit(sender(f, &to));
		what[np] = "sender";
		procs[np++] = s;
	}
	if (host) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(host_port) };
		inet_pton(AF_INET, host, &to.sin_addr);
		pid_t s = fork();
		if (s == 0)
			_exit(sender(LOOP_FLOWS, &to));
		what[np] = "host sender";
		procs[np++] = s;
	}
	pid_t ch = fork();
	if (ch == 0)
		_exit(churn(self));
	what[np] = "churn";
	procs[np++] = ch;

	uint64_t t0 = now_ms(), next = t0 + PROGRESS_S * 1000;
	while (now_ms() - t0 < (uint64_t)seconds * 1000) {
		usleep(200000);
		int st;
		pid_t w = waitpid(-1, &st, WNOHANG);
		if (w > 0) {
			printf("soak: process %d ended early, status %#x\n", w, st);
			for (int i = 0; i < np; i++)
				if (procs[i] == w)
					procs[i] = -procs[i];          /* reaped: reported below */
			break;
		}
		if (now_ms() >= next) {
			next += PROGRESS_S * 1000;
			uint64_t mib = 0;
			for (int f = 0; f <= LOOP_FLOWS; f++)
				mib += sh->flow[f].sent >> 20;
			printf("soak: %llu s: %llu MiB sent, %llu execs, MemFree %ld kB\n",
			       (unsigned long long)(now_ms() - t0) / 1000, (unsigned long long)mib,
			       (unsigned long long)sh->execs, mem_free_kb());
		}
	}
	sh->stop = 1;
	int lost = 0;
	for (int i = 0; i < np; i++) {
		int st = -1;
		if (procs[i] < 0) {
			lost++;
			printf("FAIL %s %d ended before the end\n", what[i], -procs[i]);
			continue;
		}
		pid_t w = waitpid(procs[i], &st, 0);
		if (w != procs[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			lost++;
			printf("FAIL %s %d: waitpid %d status %#x\n", what[i], procs[i], w, st);
		}
	}
	CHECK("no_process_lost", lost == 0, "%d of %d processes failed", lost, np);
	uint64_t total = 0;
	for (int f = 0; f < LOOP_FLOWS; f++) {
		struct flow_stat *s = &sh->flow[f];
		char name[32];
		snprintf(name, sizeof(name), "loop_flow_%d", f);
		CHECK(name, s->sent > 0 && s->sent == s->received && !s->bad && s->sum_sent == s->sum_recv,
		      "sent %llu received %llu bad chunks %llu sums %llx/%llx", (unsigned long long)s->sent,
		      (unsigned long long)s->received, (unsigned long long)s->bad, (unsigned long long)s->sum_sent,
		      (unsigned long long)s->sum_recv);
		total += s->received;
	}
	printf("soak: loopback %llu MiB in %d s\n", (unsigned long long)(total >> 20), seconds);
	if (host)
		printf("soak: host flow sent %llu bytes\n", (unsigned long long)sh->flow[LOOP_FLOWS].sent);
	CHECK("exec_churn", sh->execs > 0 && sh->exec_bad == 0 && sh->fork_fail == 0,
	      "%llu execs, %llu bad, %llu forks failed", (unsigned long long)sh->execs,
	      (unsigned long long)sh->exec_bad, (unsigned long long)sh->fork_fail);
	printf("soak: %llu fork/exec rounds\n", (unsigned long long)sh->execs);
	long end_kb = 0;
	for (int i = 0; i < SETTLE_TRIES; i++) {
		end_kb = mem_free_kb();
		if (end_kb >= base_kb - base_kb * FREE_SLACK_PCT / 100)
			break;
		usleep(100000);
	}
	printf("soak: MemFree at end %ld kB (start %ld kB)\n", end_kb, base_kb);
	CHECK("memory_back", end_kb >= base_kb - base_kb * FREE_SLACK_PCT / 100, "start %ld kB end %ld kB", base_kb,
	      end_kb);
	return t_finish();
}
