// unit-sources: fs/cpio.c
/*
 * newc cpio parsing (fs/cpio.c): archives written by the host's `cpio -o -H newc` and by
 * hand, then damaged ones: every truncation of a good archive, bad magic, bad hex, names and data
 * running past the end, missing trailers. Each damaged buffer is malloc'd at its exact size so
 * ASan reports any read beyond it.
 */
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "tests/unit/unit.h"
#include "fs/cpio.h"

#define MAX_SEEN 32
#define EINVAL_ 22

struct seen {
	int n;
	char name[MAX_SEEN][64];
	unsigned mode[MAX_SEEN];
	char data[MAX_SEEN][64];
	size_t size[MAX_SEEN];
	int stop_at;                     /* return -1 from the callback at this entry (0 = never) */
};

static int collect(const struct cpio_entry *e, void *arg)
{
	struct seen *s = arg;
	if (s->stop_at && s->n + 1 == s->stop_at)
		return -1;
	if (s->n < MAX_SEEN) {
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", e->name);
		s->mode[s->n] = e->mode;
		s->size[s->n] = e->size;
		memcpy(s->data[s->n], e->data, e->size < 63 ? e->size : 63);
		s->data[s->n][e->size < 63 ? e->size : 63] = '\0';
		if (strlen(e->name) != e->namelen)
			s->name[s->n][0] = '?';
	}
	s->n++;
	return 0;
}

/* ---- a hand-made archive ---- */

struct ar { char *buf; size_t len, cap; };

static void put(struct ar *a, const void *p, size_t n)
{
	if (a->len + n > a->cap) {
		a->cap = (a->len + n) * 2;
		a->buf = realloc(a->buf, a->cap);
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void pad4(struct ar *a)
{
	while (a->len % 4)
		put(a, "", 1);
}

static void entry(struct ar *a, const char *name, unsigned mode, const char *data, size_t size)
{
	char hdr[2 * CPIO_HDR_SIZE];
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 1, mode, 0, 0, 1, 1000, (unsigned)size, 0, 0, 0, 0, (unsigned)strlen(name) + 1, 0);
	put(a, hdr, CPIO_HDR_SIZE);
	put(a, name, strlen(name) + 1);
	pad4(a);
	put(a, data, size);
	pad4(a);
}

static struct ar sample(void)
{
	struct ar a = { 0 };
	entry(&a, ".", 040755, "", 0);
	entry(&a, "bin", 040755, "", 0);
	entry(&a, "bin/hello", 0100755, "hello world\n", 12);
	entry(&a, "link", 0120777, "bin/hello", 9);
	entry(&a, CPIO_TRAILER, 0, "", 0);
	return a;
}

static int parse_copy(const char *buf, size_t len, struct seen *s)
{
	char *copy = malloc(len ? len : 1);
	memcpy(copy, buf, len);
	int r = cpio_parse(copy, len, collect, s);
	free(copy);
	return r;
}

TEST(hand_made)
{
	struct ar a = sample();
	struct seen s = { 0 };
	CHECK_EQ(parse_copy(a.buf, a.len, &s), 0);
	CHECK_EQ(s.n, 4);
	CHECK(strcmp(s.name[0], ".") == 0);
	CHECK(strcmp(s.name[2], "bin/hello") == 0);
	CHECK_EQ(s.mode[2], 0100755);
	CHECK_EQ(s.size[2], 12);
	CHECK(strcmp(s.data[2], "hello world\n") == 0);
	CHECK(strcmp(s.name[3], "link") == 0);
	CHECK(strcmp(s.data[3], "bin/hello") == 0);
	free(a.buf);
}

TEST(every_truncation)
{
	struct ar a = sample();
	size_t trailer_end = a.len;
	for (size_t cut = 0; cut < a.len; cut++) {
		struct seen s = { 0 };
		int r = parse_copy(a.buf, cut, &s);
		if (cut == 0)
			CHECK_EQ(r, 0);              /* nothing at all: an empty archive list */
		else if (r != -EINVAL_) {
			printf("  cut at %zu of %zu: %d\n", cut, trailer_end, r);
			CHECK_EQ(r, -EINVAL_);
		}
	}
	free(a.buf);
}

TEST(padding_and_concatenation)
{
	struct ar a = sample();
	size_t one = a.len;
	for (int i = 0; i < 512; i++)                /* cpio pads to 512-byte blocks */
		put(&a, "", 1);
	struct ar b = sample();
	put(&a, b.buf, one);                         /* a second archive after the padding */
	struct seen s = { 0 };
	CHECK_EQ(parse_copy(a.buf, a.len, &s), 0);
	CHECK_EQ(s.n, 8);
	free(a.buf);
	free(b.buf);
}

TEST(bad_magic_and_hex)
{
	struct ar a = sample();
	struct seen s = { 0 };
	a.buf[0] = 'X';
	CHECK_EQ(parse_copy(a.buf, a.len, &s), -EINVAL_);
	CHECK_EQ(s.n, 0);
	a.buf[0] = '0';
	a.buf[6 + 8] = 'g';                          /* the mode field */
	CHECK_EQ(parse_copy(a.buf, a.len, &s), -EINVAL_);
	CHECK_EQ(s.n, 0);
	free(a.buf);
	/* "070702" (with checksums) is accepted */
	a = sample();
	a.buf[5] = '2';
	s.n = 0;
	CHECK_EQ(parse_copy(a.buf, a.len, &s), 0);
	free(a.buf);
}

static void set_field(char *hdr, int field, unsigned v)
{
	char tmp[9];
	snprintf(tmp, sizeof(tmp), "%08X", v);
	memcpy(hdr + 6 + field * 8, tmp, 8);
}

#define FIELD_FILESIZE 6
#define FIELD_NAMESIZE 11

TEST(sizes_beyond_the_end)
{
	unsigned bad[] = { 0xffffffffu, 0x7fffffffu, 0x10000u, 1000u };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ar a = sample();
		struct seen s = { 0 };
		set_field(a.buf, FIELD_NAMESIZE, bad[i]);
		CHECK_EQ(parse_copy(a.buf, a.len, &s), -EINVAL_);
		free(a.buf);
		a = sample();
		set_field(a.buf, FIELD_FILESIZE, bad[i]);
		CHECK_EQ(parse_copy(a.buf, a.len, &s), -EINVAL_);
		free(a.buf);
	}
	/* namesize 0, and a name whose last byte is not NUL */
	struct ar a = sample();
	struct seen s = { 0 };
	set_field(a.buf, FIELD_NAMESIZE, 0);
	CHECK_EQ(parse_copy(a.buf, a.len, &s), -EINVAL_);
	set_field(a.buf, FIELD_NAMESIZE, 1);         /* cuts "." before its NUL */
	CHECK_EQ(parse_copy(a.buf, a.len, &s), -EINVAL_);
	free(a.buf);
	a = sample();
	a.buf[CPIO_HDR_SIZE + 1] = 'x';              /* overwrite the NUL of "." */
	CHECK_EQ(parse_copy(a.buf, a.len, &s), -EINVAL_);
	free(a.buf);
}

TEST(missing_trailer)
{
	struct ar a = { 0 };
	entry(&a, "a", 0100644, "abc", 3);
	struct seen s = { 0 };
	CHECK_EQ(parse_copy(a.buf, a.len, &s), -EINVAL_);
	CHECK_EQ(s.n, 1);                            /* what came before is still reported */
	for (int i = 0; i < 64; i++)                 /* zeros are not a trailer either */
		put(&a, "", 1);
	s.n = 0;
	CHECK_EQ(parse_copy(a.buf, a.len, &s), -EINVAL_);
	free(a.buf);
}

TEST(callback_stops)
{
	struct ar a = sample();
	struct seen s = { .stop_at = 2 };
	CHECK_EQ(parse_copy(a.buf, a.len, &s), -1);
	CHECK_EQ(s.n, 1);
	free(a.buf);
}

TEST(host_cpio)
{
	char dir[] = "/tmp/ember-cpio-XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p root/sub && printf 'abc' > root/sub/f && ln -s sub/f root/l && "
		 "chmod 0750 root/sub && cd root && find . | LC_ALL=C sort | cpio -o -H newc --quiet > ../a.cpio",
		 dir);
	if (system(cmd) != 0) {
		printf("  (host cpio unavailable: skipped)\n");
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK_EQ(system(cmd), 0);
		return;
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/a.cpio", dir);
	FILE *fp = fopen(path, "rb");
	CHECK(fp != NULL);
	static char buf[1 << 16];
	size_t len = fp ? fread(buf, 1, sizeof(buf), fp) : 0;
	if (fp)
		fclose(fp);
	struct seen s = { 0 };
	CHECK_EQ(parse_copy(buf, len, &s), 0);
	CHECK_EQ(s.n, 4);                            /* ., l, sub, sub/f (cpio drops "./") */
	int found = 0;
	for (int i = 0; i < s.n && i < MAX_SEEN; i++) {
		if (strcmp(s.name[i], "sub/f") == 0 && strcmp(s.data[i], "abc") == 0 &&
		    S_ISREG(s.mode[i]))
			found |= 1;
		if (strcmp(s.name[i], "l") == 0 && strcmp(s.data[i], "sub/f") == 0 && S_ISLNK(s.mode[i]))
			found |= 2;
		if (strcmp(s.name[i], "sub") == 0 && s.mode[i] == (S_IFDIR | 0750))
			found |= 4;
	}
	CHECK_EQ(found, 7);
	for (size_t cut = 1; cut + 1 < len; cut += 7) {     /* a real archive cut anywhere */
		struct seen t = { 0 };
		int r = parse_copy(buf, cut, &t);
		CHECK(r == 0 || r == -EINVAL_);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
}

UNIT_TESTS(CASE(hand_made), CASE(every_truncation), CASE(padding_and_concatenation),
	   CASE(bad_magic_and_hex), CASE(sizes_beyond_the_end), CASE(missing_trailer),
	   CASE(callback_stops), CASE(host_cpio))
