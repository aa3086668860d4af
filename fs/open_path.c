/*
 * The name an open file is known by: the absolute path given to open(2), made absolute against
 * dirfd or the cwd and normalized lexically ("//", "." and ".." removed; symlinks are not
 * resolved, so a path through a symlink shows as typed, unlike Linux's d_path). Kept in
 * struct file for /proc/<pid>/fd links and /proc/<pid>/maps names. Thread context, may sleep.
 */
#include "fs/internal.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

char *open_path(int dirfd, const char *path)
{
	char *b = kmalloc(PATH_MAX);
	if (!b)
		return NULL;
	size_t n = 0;
	b[0] = 0;
	if (path[0] != '/') {
		struct path base;
		if (path_base(dirfd, path, &base)) {
			kfree(b);
			return NULL;
		}
		long r = path_name(&base, b, PATH_MAX);
		path_put(&base);
		if (r < 0) {
			kfree(b);
			return NULL;
		}
		n = strlen(b);
		if (n == 1)
			n = 0;                               /* "/": components follow */
	}
	/* append component by component, folding "." and ".." */
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t len = (size_t)(e - p);
		if (len == 0 || (len == 1 && p[0] == '.')) {
			;
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && b[n - 1] != '/')
				n--;
			if (n > 0)
				n--;                         /* the slash before it */
		} else if (n + 1 + len + 1 <= PATH_MAX) {
			b[n++] = '/';
			memcpy(b + n, p, len);
			n += len;
		}
		p = e;
	}
	if (n == 0)
		b[n++] = '/';
	b[n] = 0;
	char *out = kmalloc(n + 1);
	if (out)
		memcpy(out, b, n + 1);
	kfree(b);
	return out;
}
