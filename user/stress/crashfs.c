/*
 * The crash-consistency workload (tests/system/test_ext4_crash.py): run inside Ember as init on
 * an ext4 disk, it writes until the host kills QEMU (SIGKILL) at a random moment; the host then
 * checks the image (journal replay by Ember or by e2fsck, e2fsck -fn clean, fsynced files whole).
 *
 * usage: crashfs DEV SEED ROUND
 * mounts DEV on /mnt, makes /mnt/rROUND (a new directory per round: the image carries the
 * earlier rounds' files, replayed), and starts WORKERS processes, each in its own directory
 * /mnt/rROUND/wW with a few subdirectories, doing random operations forever (seeded by SEED, ROUND
 * and W): create a file, append to one, rename one (across directories too, sometimes over
 * another file), unlink one, mkdir/rename/rmdir empty scratch directories, and fsync (or
 * fdatasync) one.
 *
 * File names say what a file must hold: "ID.GEN" (GEN counts its renames), and its content is
 * always the first SIZE bytes of pattern ID (byte i: ((i * 2654435761 + ID * 40503) >> 11) & 0xff,
 * appends continue it), so after any crash every file found must be a prefix of its pattern
 * (ordered mode: no stale or zero blocks inside i_size). What the host is told, one whole line
 * per write(2) so workers never mix lines:
 *   "crashfs: running"              the workers started
 *   "SEAL PATH ID SIZE"             fsync of PATH returned, PATH holds SIZE bytes; a sealed file
 *                                   is never written or unlinked again, only renamed (until
 *                                   the table of files is full: then it is left alone):
 *   "MV OLD NEW"                    printed BEFORE rename(OLD, NEW) of a sealed file, so after the
 *                                   crash the host knows the names it may be found under
 * Paths are relative to the mount point. The host checks that every sealed file is found, SIZE
 * bytes long, under one of its names. A rename sometimes replaces a file: the workload first
 * creates one with the new name holding a prefix of the renamed file's pattern.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 3
#define SUBDIRS 3
#define MAX_FILES 32                /* live files per worker */
#define FILE_MAX (1024 * 1024)      /* no appends past this: the disk stays far from full */
#define MAX_SCRATCH 4               /* empty scratch directories per worker */
#define APPEND_MAX 24000            /* bytes per append: not a multiple of any block size */
#define BIG_APPEND 200000           /* sometimes a big one, many blocks at once */
#define PATH_MAX_LEN 96

struct file {
	bool live, sealed;
	uint32_t id, gen, dir;
	uint64_t size;
};

static struct file files[MAX_FILES];
static bool scratch[MAX_SCRATCH];
static uint32_t scratch_gen[MAX_SCRATCH], scratch_dir[MAX_SCRATCH];
static uint64_t rng;
static uint32_t next_id;
static char base[32];     /* "rR/wW", relative to /mnt */
static uint8_t buf[BIG_APPEND];

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static uint8_t pattern_byte(uint64_t i, uint64_t id)
{
	return (uint8_t)(((i * 2654435761u + id * 40503u) >> 11) & 0xff);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[3 * PATH_MAX_LEN];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	(void)!write(1, line, (size_t)n);
}

static void die(const char *what)
{
	say("crashfs: FAIL %s: %s", what, strerror(errno));
	exit(1);
}

/* "/mnt/rR/wW/dD/ID.GEN" (abs) or without "/mnt/" (what the host is told) */
static void path_of(const struct file *f, char *out, bool abs)
{
	snprintf(out, PATH_MAX_LEN, "%s%s/d%u/%u.%u", abs ? "/mnt/" : "", base, f->dir, f->id, f->gen);
}

static struct file *pick(bool live, bool sealed_ok)
{
	uint32_t start = rnd(MAX_FILES);
	for (uint32_t k = 0; k < MAX_FILES; k++) {
		struct file *f = &files[(start + k) % MAX_FILES];
		if (f->live == live && (!live || sealed_ok || !f->sealed))
			return f;
	}
	return NULL;
}

static void append(struct file *f, uint32_t n)
{
	char p[PATH_MAX_LEN];
	path_of(f, p, true);
	int fd = open(p, O_WRONLY | O_APPEND);
	if (fd < 0)
		die("open for append");
	for (uint32_t k = 0; k < n; k++)
		buf[k] = pattern_byte(f->size + k, f->id);
	ssize_t w = write(fd, buf, n);
	if (w != (ssize_t)n)
		die("append");
	f->size += n;
	close(fd);
}

/* A sealed file to forget (it stays on the disk, never touched again) when the table is full. */
static struct file *retire(void)
{
	uint32_t start = rnd(MAX_FILES);
	for (uint32_t k = 0; k < MAX_FILES; k++) {
		struct file *f = &files[(start + k) % MAX_FILES];
		if (f->live && f->sealed)
			return f;
	}
	return NULL;
}

static void op_create(void)
{
	struct file *f = pick(false, false);
	if (!f && !(f = retire()))
		return;
	*f = (struct file){ .live = true, .id = next_id++, .dir = rnd(SUBDIRS) };
	char p[PATH_MAX_LEN];
	path_of(f, p, true);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		die("create");
	close(fd);
	if (rnd(2))
		append(f, 1 + rnd(APPEND_MAX));
}

static void op_append(void)
{
	struct file *f = pick(true, false);
	if (f && f->size < FILE_MAX)
		append(f, rnd(16) ? 1 + rnd(APPEND_MAX) : BIG_APPEND - rnd(1000));
}

static void op_rename(void)
{
	struct file *f = pick(true, true);
	if (!f)
		return;
	char from[PATH_MAX_LEN], to[PATH_MAX_LEN];
	path_of(f, from, true);
	struct file moved = *f;
	moved.gen++;
	moved.dir = rnd(SUBDIRS);
	path_of(&moved, to, true);
	if (!rnd(4)) {
		/* rename's replace path: a file already has the new name, holding a prefix of the
		 * pattern (so whichever one a crash leaves there is a valid file too) */
		int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("create victim");
		uint32_t n = rnd(4096);
		for (uint32_t k = 0; k < n; k++)
			buf[k] = pattern_byte(k, f->id);
		if (write(fd, buf, n) != (ssize_t)n)
			die("write victim");
		close(fd);
	}
	if (f->sealed) {
		char a[PATH_MAX_LEN], b[PATH_MAX_LEN];
		path_of(f, a, false);
		path_of(&moved, b, false);
		say("MV %s %s", a, b);
	}
	if (rename(from, to) < 0)
		die("rename");
	*f = moved;
}

static void op_unlink(void)
{
	struct file *f = pick(true, false);
	if (!f)
		return;
	char p[PATH_MAX_LEN];
	path_of(f, p, true);
	if (unlink(p) < 0)
		die("unlink");
	f->live = false;
}

static void op_fsync(void)
{
	struct file *f = pick(true, false);
	if (!f)
		return;
	char p[PATH_MAX_LEN];
	path_of(f, p, true);
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		die("open for fsync");
	if ((rnd(2) ? fsync(fd) : fdatasync(fd)) < 0)
		die("fsync");
	close(fd);
	f->sealed = true;
	path_of(f, p, false);
	say("SEAL %s %u %llu", p, f->id, (unsigned long long)f->size);
}

static void op_scratch(void)
{
	uint32_t s = rnd(MAX_SCRATCH);
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	snprintf(p, sizeof(p), "/mnt/%s/d%u/s%u.%u", base, scratch_dir[s], s, scratch_gen[s]);
	if (!scratch[s]) {
		if (mkdir(p, 0755) < 0)
			die("mkdir");
		scratch[s] = true;
	} else if (rnd(2)) {
		scratch_gen[s]++;
		scratch_dir[s] = rnd(SUBDIRS);
		snprintf(q, sizeof(q), "/mnt/%s/d%u/s%u.%u", base, scratch_dir[s], s, scratch_gen[s]);
		if (rename(p, q) < 0)
			die("rename dir");
	} else {
		if (rmdir(p) < 0)
			die("rmdir");
		scratch[s] = false;
		scratch_gen[s]++;
	}
}

static void worker(uint32_t w)
{
	char p[PATH_MAX_LEN];
	for (uint32_t d = 0; d < SUBDIRS; d++) {
		snprintf(p, sizeof(p), "/mnt/%s/d%u", base, d);
		if (mkdir(p, 0755) < 0)
			die("mkdir subdir");
	}
	next_id = (w + 1) * 1000000u;
	for (;;) {
		uint32_t r = rnd(100);
		if (r < 25)
			op_create();
		else if (r < 55)
			op_append();
		else if (r < 70)
			op_rename();
		else if (r < 80)
			op_unlink();
		else if (r < 90)
			op_fsync();
		else
			op_scratch();
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: crashfs DEV SEED ROUND\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[2], NULL, 0);
	uint32_t round = (uint32_t)strtoul(argv[3], NULL, 0);
	mkdir("/mnt", 0755);
	if (mount(argv[1], "/mnt", "ext4", 0, NULL) < 0)
		die("mount");
	char p[PATH_MAX_LEN];
	snprintf(p, sizeof(p), "/mnt/r%u", round);
	if (mkdir(p, 0755) < 0)
		die("mkdir round");
	for (uint32_t w = 0; w < WORKERS; w++) {
		snprintf(base, sizeof(base), "r%u/w%u", round, w);
		snprintf(p, sizeof(p), "/mnt/%s", base);
		if (mkdir(p, 0755) < 0)
			die("mkdir worker");
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			rng = (seed * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)round << 32) ^ (w + 1) * 0xBF58476D1CE4E5B9ull;
			if (!rng)
				rng = 1;
			worker(w);
		}
	}
	say("crashfs: running");
	for (;;) {
		int st;
		pid_t pid = wait(&st);
		if (pid < 0)
			pause();
		else
			say("crashfs: FAIL worker %d ended (status %#x)", pid, st);
	}
}
