/*
 * A user buffer list consumed from the front: what readv/writev/sendmsg/recvmsg (and the plain calls,
 * as one segment) hand to the code that moves the bytes. The segments are a kernel copy of the
 * user's iovec array, validated (sizes, access_ok) before a uio is built; the bytes themselves are
 * copied with copy_to_user/copy_from_user, so a fault mid-way gives -EFAULT with the uio showing
 * what was moved. Thread context (the copies may fault in pages and sleep).
 */
#ifndef LIB_UIO_H
#define LIB_UIO_H
#include "kernel/types.h"
#include "fs/abi.h"

/* A user buffer list being consumed from the front (readv/writev/sendmsg/recvmsg and the plain
 * calls with a single segment). */
struct uio {
	const struct linux_iovec *iov; /* user segments (kernel copy), validated */
	int iovcnt;
	size_t resid;                /* bytes left over all segments */
	size_t done;                 /* bytes moved so far */
	struct linux_iovec cur;      /* the rest of a partly consumed segment (iov may point here) */
	bool kernel;                 /* the segments are kernel addresses (sendfile's bounce buffer) */
};
/* Copy n bytes between kernel memory and the next user bytes of u, advancing it: n, or -EFAULT
 * (u then reflects what was copied). n must be <= u->resid. */
long uio_copy_out(struct uio *u, const void *kbuf, size_t n);   /* kernel -> user */
long uio_copy_in(struct uio *u, void *kbuf, size_t n);          /* user -> kernel */
void uio_skip(struct uio *u, size_t n);                         /* drop n bytes (MSG_TRUNC) */

/* The segments after validation, with empty leading segments skipped. */
void uio_init(struct uio *u, const struct linux_iovec *iov, int iovcnt, size_t total);
/* One kernel buffer as a uio (the copies are plain memcpy): sendfile hands file data to a socket. */
void uio_init_kernel(struct uio *u, struct linux_iovec *seg, const void *kbuf, size_t n);

#endif
