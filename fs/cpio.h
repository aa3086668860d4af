/*
 * newc cpio archives ("070701"; "070702" is the same with checksums, which are not checked), as
 * the kernel's initramfs and `cpio -H newc` write them. Pure parsing, no allocation: cpio_parse
 * calls fn once per entry with pointers into the archive, so it can be tested on the host.
 */
#ifndef KERNEL_FS_CPIO_H
#define KERNEL_FS_CPIO_H
#include "kernel/types.h"

#define CPIO_HDR_SIZE 110                     /* "070701" + 13 fields of 8 hex digits */
#define CPIO_ALIGN 4
#define CPIO_TRAILER "TRAILER!!!"

struct cpio_entry {
	const char *name;                     /* NUL-terminated, inside the archive */
	size_t namelen;                       /* without the NUL */
	uint32_t ino, mode, uid, gid, nlink, mtime;
	uint32_t devmajor, devminor, rdevmajor, rdevminor;
	const void *data;                     /* file contents, symlink target (not NUL-terminated) */
	size_t size;
};

/*
 * Calls fn(entry, arg) for every entry up to the trailer; a non-zero return from fn stops the walk
 * and is returned. Archives may be concatenated, with zero padding between them. Returns 0, or
 * -EINVAL for a bad magic, a bad hex digit, a name or data running past len, a name without its
 * NUL, or a missing trailer (entries before the fault have been passed to fn).
 */
int cpio_parse(const void *data, size_t len, int (*fn)(const struct cpio_entry *e, void *arg), void *arg);

#endif
