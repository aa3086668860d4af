/* Sequential read of a whole block device (or file) as `dd if=DEV of=/dev/null bs=BS` does it:
 * read(2) in a loop, for bs = 1 MiB, 128 KiB and 4 KiB; prints "bench NAME VALUE MB/s" lines.
 * Usage: blkbench [path] (default /dev/vda). Run by bench/bench_blk.py. */
#include "bench.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static double seq_read(const char *path, size_t bs, long long *bytes)
{
	int fd = open(path, O_RDONLY);
	char *buf = malloc(bs);
	if (fd < 0 || !buf) {
		perror(path);
		exit(1);
	}
	*bytes = 0;
	double t0 = now();
	ssize_t r;
	while ((r = read(fd, buf, bs)) > 0)
		*bytes += r;
	double t = now() - t0;
	if (r < 0)
		perror("read");
	close(fd);
	free(buf);
	return t;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/vda";
	static const size_t sizes[] = { 1 << 20, 128 << 10, 4 << 10 };
	static const char *names[] = { "1M", "128K", "4K" };
	for (int i = 0; i < 3; i++) {
		long long bytes;
		double t = seq_read(path, sizes[i], &bytes);
		printf("bench seqread_%lldMiB_bs%s %.1f MB/s\n", bytes >> 20, names[i], bytes / t / 1e6);
	}
	return 0;
}
