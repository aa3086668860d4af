/*
 * /proc/sys/fs/nr_open, as Linux's: root may write a number within [64, 2147483584]
 * (BITS_PER_LONG .. INT_MAX rounded down to it); anything else (63, one past the maximum, a
 * negative number, text) is EINVAL and leaves the value alone. Changing it bounds RLIMIT_NOFILE's
 * hard limit (EPERM above it) and the growth of fd tables (EMFILE for an fd at or above it);
 * limits and tables already larger stay.
 *
 * The value is system-wide: under qemu-user it is the host's, so this test changes it only when
 * it owns the machine (it is pid 1, as inside Ember); elsewhere it writes only values Linux
 * rejects and the value already there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define PATH "/proc/sys/fs/nr_open"
#define LOW 5000
#define HIGH 2000000

static long read_nr(void)
{
	char b[32] = "";
	int fd = open(PATH, O_RDONLY);
	long v = -1;
	if (fd >= 0 && read(fd, b, sizeof(b) - 1) > 0)
		v = strtol(b, NULL, 10);
	if (fd >= 0)
		close(fd);
	return v;
}

/* write s: 0 or the errno */
static int write_nr(const char *s)
{
	int fd = open(PATH, O_WRONLY);
	if (fd < 0)
		return errno;
	int e = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : errno;
	close(fd);
	return e;
}

static void test_rejected(long orig)
{
	static const char *bad[] = { "63\n", "2147483585\n", "4294967296\n", "-1\n", "abc\n", "" };
	for (int i = 0; bad[i][0]; i++) {
		char name[48];
		snprintf(name, sizeof(name), "rejects_%.*s", (int)strcspn(bad[i], "\n"), bad[i]);
		int e = write_nr(bad[i]);
		CHECK(name, e == EINVAL && read_nr() == orig, "errno %d, value %ld", e, read_nr());
	}
	char same[32];
	snprintf(same, sizeof(same), "%ld\n", orig);
	CHECK("rewrite_same_value", write_nr(same) == 0 && read_nr() == orig, "value %ld", read_nr());
}

static void test_change(long orig)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d\n", HIGH);
	CHECK("raise_nr_open", write_nr(buf) == 0 && read_nr() == HIGH, "value %ld", read_nr());
	struct rlimit high = { HIGH, HIGH }, past = { HIGH + 1, HIGH + 1 }, o;
	errno = 0;
	CHECK("nofile_past_raised_eperm", setrlimit(RLIMIT_NOFILE, &past) == -1 && errno == EPERM, "errno %d", errno);
	CHECK("nofile_up_to_raised", setrlimit(RLIMIT_NOFILE, &high) == 0 && getrlimit(RLIMIT_NOFILE, &o) == 0 &&
	      o.rlim_max == HIGH, "errno %d", errno);

	snprintf(buf, sizeof(buf), "%d\n", LOW);
	CHECK("lower_nr_open", write_nr(buf) == 0 && read_nr() == LOW, "value %ld", read_nr());
	CHECK("limit_above_lowered_stays", getrlimit(RLIMIT_NOFILE, &o) == 0 && o.rlim_max == HIGH, "max %lu",
	      (unsigned long)o.rlim_max);
	struct rlimit low_past = { LOW + 1, LOW + 1 }, low = { LOW, LOW };
	errno = 0;
	CHECK("nofile_past_lowered_eperm", setrlimit(RLIMIT_NOFILE, &low_past) == -1 && errno == EPERM, "errno %d", errno);
	/* the rlimit (HIGH) allows fd 6000, nr_open (5000) does not: the table cannot grow there
	 * (F_DUPFD: EMFILE; dup2: EBADF, as Linux's dup3 turns expand_files' EMFILE) */
	errno = 0;
	CHECK("dupfd_past_nr_open_emfile", fcntl(0, F_DUPFD, LOW + 1000) == -1 && errno == EMFILE, "errno %d", errno);
	errno = 0;
	CHECK("dup2_past_nr_open_ebadf", dup2(0, LOW + 1000) == -1 && errno == EBADF, "errno %d", errno);
	CHECK("fd_below_nr_open", dup2(0, LOW - 1) == LOW - 1, "errno %d", errno);
	close(LOW - 1);
	CHECK("nofile_at_lowered", setrlimit(RLIMIT_NOFILE, &low) == 0, "errno %d", errno);

	snprintf(buf, sizeof(buf), "%ld", orig);       /* no newline: also a number */
	CHECK("restore_nr_open", write_nr(buf) == 0 && read_nr() == orig, "value %ld", read_nr());
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	long orig = read_nr();
	CHECK("nr_open_readable", orig >= 64, "value %ld", orig);
	if (orig < 64 || access(PATH, W_OK) != 0) {
		SKIP("nr_open_write", "not writable here (not root)");
		return t_finish();
	}
	test_rejected(orig);
	if (getpid() == 1)
		test_change(orig);
	else
		SKIP("nr_open_change", "the value is system-wide: changed only by pid 1 (inside Ember)");
	return t_finish();
}
