/* /proc files larger than one 64 KiB buffer: with 2,500 unix socket pairs open, /proc/net/unix
 * lists every one of them (5,000 sockets, ~300 KiB), read whole in small reads, each line in the
 * header's format, and our sockets' inodes (fstat) all present. Ember used to stop at ~1,100 lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"

#define PAIRS 2500
#define READ_CHUNK 1000          /* not a multiple of anything the kernel uses */

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	struct rlimit rl = { 2 * PAIRS + 64, 2 * PAIRS + 64 };
	CHECK("raise RLIMIT_NOFILE", setrlimit(RLIMIT_NOFILE, &rl) == 0, "errno %d", errno);
	static int fds[PAIRS][2];
	static unsigned long mine[2 * PAIRS];
	int made = 0;
	for (; made < PAIRS; made++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds[made]) < 0)
			break;
		struct stat st;
		fstat(fds[made][0], &st);
		mine[2 * made] = st.st_ino;
		fstat(fds[made][1], &st);
		mine[2 * made + 1] = st.st_ino;
	}
	CHECK("2500 socket pairs", made == PAIRS, "made %d: errno %d", made, errno);

	int fd = open("/proc/net/unix", O_RDONLY);
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap + 1);
	long r;
	while (fd >= 0 && len + READ_CHUNK <= cap && (r = read(fd, text + len, READ_CHUNK)) > 0)
		len += (size_t)r;
	text[len] = 0;
	close(fd);
	CHECK("read /proc/net/unix to its end", fd >= 0 && len > 0 && len + READ_CHUNK <= cap, "len %zu", len);

	size_t nlines = 0, bad = 0, nino = 0;
	static unsigned long seen[1 << 16];
	char *save, *line = strtok_r(text, "\n", &save);
	CHECK("header line", line && strncmp(line, "Num ", 4) == 0, "%.40s", line ? line : "(none)");
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned long num, ref, proto, flags, type, st, ino;
		nlines++;
		if (sscanf(line, "%lx: %lx %lx %lx %lx %lx %lu", &num, &ref, &proto, &flags, &type, &st, &ino) != 7)
			bad++;
		else if (nino < sizeof(seen) / sizeof(seen[0]))
			seen[nino++] = ino;
	}
	CHECK("every line in the header's format", bad == 0, "%zu bad of %zu", bad, nlines);
	CHECK("at least our 5000 sockets listed", nlines >= 2 * PAIRS, "%zu lines", nlines);
	qsort(seen, nino, sizeof(seen[0]), cmp_ul);
	int missing = 0;
	for (int i = 0; i < 2 * made; i++)
		if (!bsearch(&mine[i], seen, nino, sizeof(seen[0]), cmp_ul))
			missing++;
	CHECK("each of our sockets' inodes is listed", missing == 0, "%d of %d missing", missing, 2 * made);
	for (int i = 0; i < made; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	free(text);
	return t_finish();
}
