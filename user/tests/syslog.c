/*
 * syslog(2) as dmesg calls it (glibc's klogctl): the buffer size, reading the newest bytes in
 * syslog's "<level>" line format, and EINVAL/EFAULT for bad arguments. (qemu-user answers a
 * NULL or negative-length read differently from Linux, so those are not checked here.) (Where the host forbids
 * reading its log, qemu-user reports a SKIP; inside Ember that is a failure.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/klog.h>
#include <unistd.h>
#include "harness.h"

#define BAD_PTR ((void *)0x10)
#define READ_ALL 3
#define SIZE_UNREAD 9
#define SIZE_BUFFER 10

static char buf[1 << 20];

int main(void)
{
	int size = klogctl(SIZE_BUFFER, NULL, 0);
	CHECK("size_buffer", size > 0 && size <= (int)sizeof(buf), "%d errno %d", size, errno);
	int n = klogctl(READ_ALL, buf, size > 0 ? size : 1);
	if (n < 0 && errno == EPERM) {
		SKIP("read_all", "the host forbids reading its kernel log");
		return t_finish();
	}
	CHECK("read_all", n > 0 && n <= size && buf[0] == '<' && strchr(buf, '\n'), "%d errno %d", n, errno);
	CHECK("read_all_zero_len", klogctl(READ_ALL, buf, 0) == 0, "errno %d", errno);
	errno = 0;
	CHECK("read_all_efault", klogctl(READ_ALL, BAD_PTR, 10) == -1 && errno == EFAULT, "errno %d", errno);
	errno = 0;
	CHECK("bad_action", klogctl(99, buf, 10) == -1 && errno == EINVAL, "errno %d", errno);
	int unread = klogctl(SIZE_UNREAD, NULL, 0);
	/* Linux counts the unread records' text, which may pass the buffer's size when the ring is
	 * full (133906 of 131072 on a busy 6.18 host); Ember's log is its buffer (Ember runs this as
	 * init, pid 1) */
	CHECK("size_unread", unread >= 0 && (getpid() != 1 || unread <= size), "%d of %d errno %d", unread, size, errno);
	return t_finish();
}
