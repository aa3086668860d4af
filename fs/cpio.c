/*
 * newc cpio parser (interface in cpio.h). Every length read from the archive is checked against
 * the bytes that remain before it is used, with arithmetic that cannot overflow (all sizes are
 * 32-bit fields widened to size_t), so a hostile archive can only make it return -EINVAL.
 */
#include "fs/cpio.h"
#include "kernel/errno.h"
#include "lib/string.h"

#define CPIO_MAGIC_LEN 6
#define CPIO_FIELD_LEN 8
#define CPIO_NFIELDS 13

enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_DEVMAJOR, F_DEVMINOR,
       F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK };

static bool parse_hex(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < CPIO_FIELD_LEN; i++) {
		char c = s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static size_t pad(size_t off) { return ALIGN_UP(off, (size_t)CPIO_ALIGN); }

int cpio_parse(const void *data, size_t len, int (*fn)(const struct cpio_entry *e, void *arg), void *arg)
{
	const char *p = data;
	size_t off = 0;
	bool in_archive = false;                     /* between a first header and its trailer */
	for (;;) {
		if (!in_archive) {                   /* skip padding between concatenated archives */
			while (off < len && p[off] == '\0')
				off++;
			if (off >= len)
				return 0;
		}
		if (len - off < CPIO_HDR_SIZE)
			return -EINVAL;
		const char *h = p + off;
		if (memcmp(h, "070701", CPIO_MAGIC_LEN) != 0 && memcmp(h, "070702", CPIO_MAGIC_LEN) != 0)
			return -EINVAL;
		uint32_t f[CPIO_NFIELDS];
		for (int i = 0; i < CPIO_NFIELDS; i++)
			if (!parse_hex(h + CPIO_MAGIC_LEN + i * CPIO_FIELD_LEN, &f[i]))
				return -EINVAL;
		in_archive = true;

		size_t namesize = f[F_NAMESIZE], size = f[F_FILESIZE];
		size_t name_off = off + CPIO_HDR_SIZE;
		if (namesize == 0 || namesize > len - name_off)
			return -EINVAL;
		if (h[CPIO_HDR_SIZE + namesize - 1] != '\0')
			return -EINVAL;
		size_t data_off = pad(name_off + namesize);
		if (data_off > len || size > len - data_off)
			return -EINVAL;

		struct cpio_entry e = {
			.name = h + CPIO_HDR_SIZE, .namelen = namesize - 1,
			.ino = f[F_INO], .mode = f[F_MODE], .uid = f[F_UID], .gid = f[F_GID],
			.nlink = f[F_NLINK], .mtime = f[F_MTIME],
			.devmajor = f[F_DEVMAJOR], .devminor = f[F_DEVMINOR],
			.rdevmajor = f[F_RDEVMAJOR], .rdevminor = f[F_RDEVMINOR],
			.data = p + data_off, .size = size,
		};
		off = data_off + size;
		off = off <= len ? MIN(pad(off), len) : len;
		if (e.namelen == sizeof(CPIO_TRAILER) - 1 && memcmp(e.name, CPIO_TRAILER, e.namelen) == 0) {
			in_archive = false;
			continue;
		}
		int r = fn(&e, arg);
		if (r)
			return r;
	}
}
