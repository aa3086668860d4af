/* Helpers shared by the file-mapping tests (mmap_shared_file.c, mmap_truncate.c): a file of size
 * bytes of pattern(i), opened read-write. */
#ifndef USER_TESTS_MMAPUTIL_H
#define USER_TESTS_MMAPUTIL_H
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + 3); }

/* path created or truncated, filled with size bytes of pattern(i): the fd, or -1 */
static int make_file(const char *path, long size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	unsigned char *b = fd >= 0 ? malloc(size ? size : 1) : NULL;
	if (!b) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (long i = 0; i < size; i++)
		b[i] = pattern(i);
	long done = write(fd, b, size);
	free(b);
	if (done != size) {
		close(fd);
		return -1;
	}
	return fd;
}

#endif
