/*
 * Host-side helpers shared by the ext4 unit tests: a struct ext4_bdev over an image file or a
 * memory buffer, shell commands (mkfs.ext4, e2fsck, debugfs), deterministic file contents and
 * a comparison of an ext4 tree (read through fs/ext4) with a host directory.
 */
#ifndef TESTS_UNIT_EXT4_HOST_H
#define TESTS_UNIT_EXT4_HOST_H
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "fs/ext4/ext4.h"

struct img {
	struct ext4_bdev bd;
	int fd;                 /* file-backed when >= 0 */
	uint8_t *mem;           /* else memory-backed */
	size_t size;
	long reads, writes, flushes;
	long write_budget;      /* > 0: writes after this many are dropped (a power cut) */
};

static int img_read(struct ext4_bdev *bd, uint64_t blk, uint32_t n, void *buf)
{
	struct img *im = bd->priv;
	size_t off = (size_t)blk * bd->block_size, len = (size_t)n * bd->block_size;
	if (blk >= bd->block_count || n > bd->block_count - blk)
		return -5;
	im->reads++;
	if (im->fd < 0) {
		memcpy(buf, im->mem + off, len);
		return 0;
	}
	return pread(im->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -5;
}

static int img_write(struct ext4_bdev *bd, uint64_t blk, uint32_t n, const void *buf)
{
	struct img *im = bd->priv;
	size_t off = (size_t)blk * bd->block_size, len = (size_t)n * bd->block_size;
	if (blk >= bd->block_count || n > bd->block_count - blk)
		return -5;
	im->writes++;
	if (im->write_budget > 0 && im->writes > im->write_budget)
		return 0;               /* the power is gone: the write never lands */
	if (im->fd < 0) {
		memcpy(im->mem + off, buf, len);
		return 0;
	}
	return pwrite(im->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -5;
}

/* Host tests need no durability (no power is lost): count flushes instead of fsync. */
static int img_flush(struct ext4_bdev *bd)
{
	struct img *im = bd->priv;
	im->flushes++;
	return 0;
}

static void img_setup(struct img *im, uint32_t dev_bs, size_t size)
{
	im->bd.block_size = dev_bs;
	im->bd.block_count = size / dev_bs;
	im->bd.read_blocks = img_read;
	im->bd.write_blocks = img_write;
	im->bd.flush = img_flush;
	im->bd.priv = im;
	im->size = size;
}

static int img_open(struct img *im, const char *path, uint32_t dev_bs)
{
	memset(im, 0, sizeof(*im));
	im->fd = open(path, O_RDWR);
	if (im->fd < 0)
		return -1;
	struct stat st;
	fstat(im->fd, &st);
	img_setup(im, dev_bs, (size_t)st.st_size);
	return 0;
}

static void img_close(struct img *im)
{
	if (im->fd >= 0)
		close(im->fd);
	im->fd = -1;
}

static void img_mem(struct img *im, uint8_t *mem, size_t size, uint32_t dev_bs)
{
	memset(im, 0, sizeof(*im));
	im->fd = -1;
	im->mem = mem;
	img_setup(im, dev_bs, size);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The test's scratch directory, /tmp/ember-<tag>-XXXXXX, made by the first setup_work. */
static char work[256];

static void setup_work(const char *tag)
{
	if (!work[0]) {
		snprintf(work, sizeof(work), "/tmp/ember-%s-XXXXXX", tag);
		if (!mkdtemp(work))
			abort();
	}
}

/* Run a shell command; returns its exit status (or -1). */
__attribute__((format(printf, 1, 2)))
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	static int path_set;
	if (!path_set) {              /* e2fsprogs live in /sbin, not always in a user's PATH */
		const char *old = getenv("PATH");
		char path[4096];
		snprintf(path, sizeof(path), "/usr/sbin:/sbin:%s", old ? old : "/usr/bin:/bin");
		setenv("PATH", path, 1);
		path_set = 1;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static uint8_t content_byte(uint64_t i, unsigned seed)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32 | seed);
	x ^= x >> 29;
	return (uint8_t)(x * 0xBF58476D1CE4E5B9ull >> 56);
}

static void fill_content(uint8_t *b, uint64_t off, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = content_byte(off + i, seed);
}

/* A host file of `size` bytes of content(seed). */
static void host_file(const char *path, size_t size, unsigned seed)
{
	FILE *f = fopen(path, "wb");
	uint8_t buf[8192];
	for (size_t off = 0; off < size;) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);
		fill_content(buf, off, n, seed);
		fwrite(buf, 1, n, f);
		off += n;
	}
	fclose(f);
}

static uint32_t mode_of(mode_t m) { return (uint32_t)m; }

static int cmp_failures;

#define TREE_CHECK(cond, ...) do { if (!(cond)) { if (cmp_failures++ < 10) { \
	printf("  tree mismatch: " __VA_ARGS__); printf(" (%s:%d)\n", __FILE__, __LINE__); } } } while (0)

struct rd_count { int n; int dots; };
static int rd_count_cb(void *arg, const char *name, size_t len, uint32_t ino, unsigned dt, uint64_t next)
{
	(void)ino; (void)dt; (void)next;
	struct rd_count *c = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		c->dots++;
	else if (len == 10 && !memcmp(name, "lost+found", 10))
		;                       /* mkfs makes it; host trees do not have it */
	else
		c->n++;
	return 0;
}

/* Compare the ext4 directory `ino` with the host directory `path`, recursively. */
static void cmp_tree(struct ext4_fs *fs, uint32_t ino, const char *path, long *files)
{
	DIR *d = opendir(path);
	if (!d) {
		TREE_CHECK(0, "opendir %s", path);
		return;
	}
	int n = 0;
	struct dirent *e;
	static uint8_t hb[1 << 16], eb[1 << 16];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "lost+found"))
			continue;
		n++;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		struct stat hs;
		lstat(p, &hs);
		uint32_t ci;
		int r = ext4_lookup(fs, ino, e->d_name, strlen(e->d_name), &ci);
		TREE_CHECK(r == 0, "lookup %s: %d", p, r);
		if (r)
			continue;
		struct ext4_stat st;
		r = ext4_stat(fs, ci, &st);
		TREE_CHECK(r == 0 && st.mode == mode_of(hs.st_mode), "mode %s: %o vs %o", p, st.mode, hs.st_mode);
		if (r)
			continue;
		if (S_ISREG(hs.st_mode)) {
			TREE_CHECK(st.size == (uint64_t)hs.st_size, "size %s: %llu vs %lld", p,
				   (unsigned long long)st.size, (long long)hs.st_size);
			int fd = open(p, O_RDONLY);
			uint64_t off = 0;
			/* odd chunk sizes so reads start and end inside blocks */
			size_t chunk = 7777 + (size_t)(hs.st_size % 50000);
			for (;;) {
				ssize_t h = read(fd, hb, chunk);
				long g = ext4_read(fs, ci, off, eb, chunk);
				if (h <= 0) {
					TREE_CHECK(g == 0, "eof %s at %llu: %ld", p, (unsigned long long)off, g);
					break;
				}
				TREE_CHECK(g == h && !memcmp(hb, eb, (size_t)h), "data %s at %llu (%ld vs %zd)", p,
					   (unsigned long long)off, g, h);
				if (g != h)
					break;
				off += (uint64_t)h;
			}
			close(fd);
			(*files)++;
		} else if (S_ISLNK(hs.st_mode)) {
			char ht[4096], et[4096];
			ssize_t hl = readlink(p, ht, sizeof(ht));
			long el = ext4_readlink(fs, ci, et, sizeof(et));
			TREE_CHECK(hl == el && hl > 0 && !memcmp(ht, et, (size_t)hl), "symlink %s", p);
		} else if (S_ISDIR(hs.st_mode)) {
			cmp_tree(fs, ci, p, files);
		}
	}
	closedir(d);
	struct rd_count c = { 0, 0 };
	uint64_t cookie = 0;
	int r = ext4_readdir(fs, ino, &cookie, rd_count_cb, &c);
	TREE_CHECK(r == 0 && c.n == n && c.dots == 2, "readdir %s: r=%d %d entries vs %d, dots %d", path, r, c.n, n, c.dots);
}

#endif
