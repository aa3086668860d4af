/*
 * select and pselect6 with fds beyond FD_SETSIZE (1024), as Linux: the sets are as long as nfds
 * says (bounded by the fd table's size, to which a larger nfds is cut), a ready fd numbered 2000
 * or 3000 is reported in its bit, bits at or above nfds are not looked at (and come back clear in
 * the last word), a set bit naming a
 * closed fd is EBADF, a negative nfds is EINVAL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define READ_FD 2000
#define WRITE_FD 3000
#define CLOSED_FD 2500
#define NOFILE 4096
#define BIG_BITS (1 << 20)                 /* nfds far beyond any fd table: cut to the table */
#define WORDS (BIG_BITS / 64)

static uint64_t rset[WORDS], wset[WORDS];

static void set_bit(uint64_t *s, int fd) { s[fd / 64] |= 1ULL << (fd % 64); }
static int has_bit(const uint64_t *s, int fd) { return (s[fd / 64] >> (fd % 64)) & 1; }

static int count_bits(const uint64_t *s, int n)
{
	int c = 0;
	for (int w = 0; w < (n + 63) / 64; w++)
		c += __builtin_popcountll(s[w]);
	return c;
}

static void prepare(void)
{
	memset(rset, 0, sizeof(rset));
	memset(wset, 0, sizeof(wset));
	set_bit(rset, READ_FD);
	set_bit(wset, WRITE_FD);
	set_bit(rset, 0);                      /* stdin: whatever it is, it is open */
}

static void test_big(int use_pselect)
{
	const char *tag = use_pselect ? "pselect6" : "select";
	char name[64];
	prepare();
	long r = use_pselect ? syscall(SYS_pselect6, WRITE_FD + 1, rset, wset, NULL, &(struct timespec){ 0, 0 }, NULL)
			     : select(WRITE_FD + 1, (fd_set *)rset, (fd_set *)wset, NULL, &(struct timeval){ 0, 0 });
	snprintf(name, sizeof(name), "%s_fd_2000_and_3000", tag);
	CHECK(name, r >= 2 && has_bit(rset, READ_FD) && has_bit(wset, WRITE_FD) &&
	      count_bits(rset, WRITE_FD + 1) + count_bits(wset, WRITE_FD + 1) == r, "r %ld errno %d", r, errno);

	prepare();
	r = use_pselect ? syscall(SYS_pselect6, BIG_BITS, rset, wset, NULL, &(struct timespec){ 0, 0 }, NULL)
			: select(BIG_BITS, (fd_set *)rset, (fd_set *)wset, NULL, &(struct timeval){ 0, 0 });
	snprintf(name, sizeof(name), "%s_nfds_beyond_table", tag);
	CHECK(name, r >= 2 && has_bit(rset, READ_FD) && has_bit(wset, WRITE_FD), "r %ld errno %d", r, errno);

	prepare();                             /* nfds 3000: fd 3000's bit is not looked at */
	r = use_pselect ? syscall(SYS_pselect6, WRITE_FD, rset, wset, NULL, &(struct timespec){ 0, 0 }, NULL)
			: select(WRITE_FD, (fd_set *)rset, (fd_set *)wset, NULL, &(struct timeval){ 0, 0 });
	snprintf(name, sizeof(name), "%s_bits_past_nfds_ignored", tag);
	CHECK(name, r >= 1 && has_bit(rset, READ_FD) && !has_bit(wset, WRITE_FD) &&
	      count_bits(rset, WRITE_FD) + count_bits(wset, WRITE_FD) == r, "r %ld errno %d", r, errno);

	prepare();
	set_bit(rset, CLOSED_FD);
	errno = 0;
	r = use_pselect ? syscall(SYS_pselect6, WRITE_FD + 1, rset, wset, NULL, &(struct timespec){ 0, 0 }, NULL)
			: select(WRITE_FD + 1, (fd_set *)rset, (fd_set *)wset, NULL, &(struct timeval){ 0, 0 });
	snprintf(name, sizeof(name), "%s_closed_high_fd_ebadf", tag);
	CHECK(name, r == -1 && errno == EBADF, "r %ld errno %d", r, errno);

	errno = 0;
	r = syscall(SYS_pselect6, -1, NULL, NULL, NULL, &(struct timespec){ 0, 0 }, NULL);
	snprintf(name, sizeof(name), "%s_negative_nfds_einval", tag);
	CHECK(name, r == -1 && errno == EINVAL, "r %ld errno %d", r, errno);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct rlimit rl = { NOFILE, NOFILE };
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		SKIP("select_big", "RLIMIT_NOFILE cannot reach 4096 here");
		return t_finish();
	}
	int p[2];
	if (pipe(p) || dup2(p[0], READ_FD) != READ_FD || dup2(p[1], WRITE_FD) != WRITE_FD) {
		FAIL("setup", "errno %d", errno);
		return t_finish();
	}
	close(p[0]);
	close(p[1]);
	CHECK("write_to_fd_3000", write(WRITE_FD, "x", 1) == 1, "errno %d", errno);
	/* qemu-user copies the sets into the host's 1024-bit fd_set and aborts: try it in a child */
	pid_t c = fork();
	if (c == 0) {
		prepare();
		select(WRITE_FD + 1, (fd_set *)rset, (fd_set *)wset, NULL, &(struct timeval){ 0, 0 });
		_exit(0);
	}
	int st = 0;
	waitpid(c, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {     /* a skip inside Ember is a failure */
		SKIP("select_big", "select died on fds >= 1024 (qemu-user's emulation, not the kernel's)");
		return t_finish();
	}
	test_big(0);
	test_big(1);
	return t_finish();
}
