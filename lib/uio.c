/* User buffer lists (lib/uio.h has the contract). */
#include "lib/uio.h"
#include "kernel/errno.h"
#include "mm/uaccess.h"
#include "lib/string.h"

static long uio_move(struct uio *u, void *kbuf, size_t n, bool out)
{
	size_t moved = 0;
	while (moved < n && u->iovcnt > 0) {
		const struct linux_iovec *v = u->iov;
		size_t chunk = MIN((size_t)v->iov_len, n - moved);
		if (chunk && u->kernel) {
			if (out)
				memcpy((void *)v->iov_base, (const char *)kbuf + moved, chunk);
			else
				memcpy((char *)kbuf + moved, (const void *)v->iov_base, chunk);
		} else if (chunk) {
			int r = out ? copy_to_user(v->iov_base, (const char *)kbuf + moved, chunk)
				    : copy_from_user((char *)kbuf + moved, v->iov_base, chunk);
			if (r)
				return -EFAULT;
		}
		moved += chunk;
		u->done += chunk;
		u->resid -= chunk;
		if (chunk == v->iov_len) {
			u->iov++;
			u->iovcnt--;
		} else {
			/* a partial segment: keep our place in a private copy of it */
			u->cur = (struct linux_iovec){ v->iov_base + chunk, v->iov_len - chunk };
			u->iov = &u->cur;
		}
	}
	return (long)moved;
}

long uio_copy_out(struct uio *u, const void *kbuf, size_t n) { return uio_move(u, (void *)kbuf, n, true); }
long uio_copy_in(struct uio *u, void *kbuf, size_t n) { return uio_move(u, kbuf, n, false); }

void uio_skip(struct uio *u, size_t n)
{
	while (n && u->iovcnt > 0) {
		size_t chunk = MIN((size_t)u->iov->iov_len, n);
		n -= chunk;
		u->resid -= chunk;
		if (chunk == u->iov->iov_len) {
			u->iov++;
			u->iovcnt--;
		} else {
			u->cur = (struct linux_iovec){ u->iov->iov_base + chunk, u->iov->iov_len - chunk };
			u->iov = &u->cur;
		}
	}
}

/* The segments after validation (rw_vec did it for readv/writev; we do it for the others). */
void uio_init(struct uio *u, const struct linux_iovec *iov, int iovcnt, size_t total)
{
	*u = (struct uio){ .iov = iov, .iovcnt = iovcnt, .resid = total };
	while (u->iovcnt > 0 && u->iov->iov_len == 0) {
		u->iov++;
		u->iovcnt--;
	}
}

void uio_init_kernel(struct uio *u, struct linux_iovec *seg, const void *kbuf, size_t n)
{
	*seg = (struct linux_iovec){ (uintptr_t)kbuf, n };
	uio_init(u, seg, 1, n);
	u->kernel = true;
}
