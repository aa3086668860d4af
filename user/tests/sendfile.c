/* sendfile(2): a regular file to a TCP socket over loopback (all of it from the file position,
 * which moves; a slice from an explicit offset, which moves instead of the position), to another
 * regular file, at EOF and with count 0; and the errors in Linux's order (bad offset pointer, bad
 * or write-only input, negative offset, read-only output, O_APPEND output). iperf3 -Z and netperf
 * TCP_SENDFILE use it. */
#include "harness.h"
#include "sockutil.h"
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#define FILE_SIZE (300 * 1024 + 123)
#define SLICE_OFF 1000
#define SLICE_LEN 5000
#define TO_FILE_LEN 10000

static unsigned char pattern[FILE_SIZE];
static unsigned char got[FILE_SIZE + SLICE_LEN];

struct reader { int fd; size_t want; size_t n; };

static void *read_all(void *arg)
{
	struct reader *r = arg;
	while (r->n < r->want) {
		ssize_t k = read(r->fd, got + r->n, r->want - r->n);
		if (k <= 0)
			break;
		r->n += (size_t)k;
	}
	return NULL;
}

int main(void)
{
	start_watchdog(60);
	for (size_t i = 0; i < FILE_SIZE; i++)
		pattern[i] = (unsigned char)(i * 7 + (i >> 9));
	int fd = open("sendfile.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK("create", fd >= 0 && write(fd, pattern, FILE_SIZE) == FILE_SIZE, "errno %d", errno);
	lseek(fd, 0, SEEK_SET);

	uint16_t port = 0;
	int lfd = tcp_listener(&port, 1);
	int cfd = tcp_connect(port);
	int sfd = accept(lfd, NULL, NULL);
	CHECK("tcp pair", lfd >= 0 && cfd >= 0 && sfd >= 0, "errno %d", errno);

	struct reader rd = { sfd, FILE_SIZE + SLICE_LEN, 0 };
	pthread_t th;
	start_thread(&th, read_all, &rd);

	/* the whole file from the position */
	size_t total = 0;
	for (;;) {
		ssize_t k = sendfile(cfd, fd, NULL, FILE_SIZE - total);
		if (k <= 0)
			break;
		total += (size_t)k;
		if (total == FILE_SIZE)
			break;
	}
	CHECK("whole file sent", total == FILE_SIZE, "sent %zu of %d errno %d", total, FILE_SIZE, errno);
	CHECK("file position moved", lseek(fd, 0, SEEK_CUR) == FILE_SIZE, "pos %ld", (long)lseek(fd, 0, SEEK_CUR));
	CHECK("at EOF: 0", sendfile(cfd, fd, NULL, 100) == 0, "errno %d", errno);

	/* a slice from an explicit offset: the offset moves, the position does not */
	lseek(fd, 17, SEEK_SET);
	off_t off = SLICE_OFF;
	ssize_t k = sendfile(cfd, fd, &off, SLICE_LEN);
	CHECK("slice sent", k == SLICE_LEN, "returned %zd errno %d", k, errno);
	CHECK("offset advanced", off == SLICE_OFF + SLICE_LEN, "off %ld", (long)off);
	CHECK("position kept", lseek(fd, 0, SEEK_CUR) == 17, "pos %ld", (long)lseek(fd, 0, SEEK_CUR));
	off = FILE_SIZE;
	CHECK("offset at EOF: 0", sendfile(cfd, fd, &off, 100) == 0 && off == FILE_SIZE, "off %ld", (long)off);
	CHECK("count 0: 0", sendfile(cfd, fd, NULL, 0) == 0, "errno %d", errno);

	pthread_join(th, NULL);
	CHECK("peer got every byte", rd.n == FILE_SIZE + SLICE_LEN, "got %zu", rd.n);
	CHECK("file bytes in order", memcmp(got, pattern, FILE_SIZE) == 0, "mismatch");
	CHECK("slice bytes", memcmp(got + FILE_SIZE, pattern + SLICE_OFF, SLICE_LEN) == 0, "mismatch");

	/* to a regular file */
	int out = open("sendfile.out", O_RDWR | O_CREAT | O_TRUNC, 0644);
	off = 0;
	k = sendfile(out, fd, &off, TO_FILE_LEN);
	CHECK("to a file", k == TO_FILE_LEN && off == TO_FILE_LEN, "returned %zd errno %d", k, errno);
	unsigned char back[TO_FILE_LEN];
	CHECK("file copy matches", pread(out, back, TO_FILE_LEN, 0) == TO_FILE_LEN &&
	      memcmp(back, pattern, TO_FILE_LEN) == 0, "mismatch");
	CHECK("output position moved", lseek(out, 0, SEEK_CUR) == TO_FILE_LEN, "pos %ld", (long)lseek(out, 0, SEEK_CUR));

	/* errors */
	EXPECT("bad offset pointer: EFAULT", sendfile(cfd, fd, BAD_PTR, 10), EFAULT);
	EXPECT("bad in fd: EBADF", sendfile(cfd, 999, NULL, 10), EBADF);
	int wo = open("sendfile.dat", O_WRONLY);
	EXPECT("write-only in: EBADF", sendfile(cfd, wo, NULL, 10), EBADF);
	off = -1;
	EXPECT("negative offset: EINVAL", sendfile(cfd, fd, &off, 10), EINVAL);
	EXPECT("bad out fd: EBADF", sendfile(999, fd, NULL, 10), EBADF);
	int ro = open("sendfile.out", O_RDONLY);
	EXPECT("read-only out: EBADF", sendfile(ro, fd, NULL, 10), EBADF);
	int ap = open("sendfile.out", O_WRONLY | O_APPEND);
	EXPECT("O_APPEND out: EINVAL", sendfile(ap, fd, NULL, 10), EINVAL);

	close(ap);
	close(ro);
	close(wo);
	close(out);
	close(cfd);
	close(sfd);
	close(lfd);
	close(fd);
	unlink("sendfile.dat");
	unlink("sendfile.out");
	return t_finish();
}
