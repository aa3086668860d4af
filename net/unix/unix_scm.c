/*
 * AF_UNIX control messages (Linux's net/core/scm.c for one family): a sender's SCM_RIGHTS
 * descriptors become file references carried by its record (af_unix.c: "Descriptors in
 * flight"); SCM_CREDENTIALS replaces the credentials the record carries (everyone is root here,
 * so any are accepted). On receipt, SCM_CREDENTIALS comes first (SO_PASSCRED), then SCM_RIGHTS,
 * laid out as Linux's put_cmsg and scm_detach_fds do: what does not fit sets MSG_CTRUNC, and
 * descriptors that do not fit are closed. Thread context; no locks held (files are closed here).
 */
#include "net/unix/unix.h"
#include "net/cmsg.h"
#include "kernel/errno.h"
#include "kernel/sched.h"
#include "fs/fs.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"

#define O_CLOEXEC_K 02000000


void unix_fds_free(struct unix_fds *fds)
{
	if (!fds)
		return;
	for (int i = 0; i < fds->n; i++)
		if (fds->f[i])
			file_put(fds->f[i]);
	kfree(fds);
}

/* SCM_RIGHTS: the fds of one cmsg appended to *fds. */
static int add_rights(const uint8_t *data, size_t len, struct unix_fds **fds)
{
	int num = (int)(len / sizeof(int));
	if (num <= 0)
		return 0;
	if (!*fds) {
		*fds = kzalloc(sizeof(**fds) + UNIX_SCM_MAX_FD * sizeof(struct file *));
		if (!*fds)
			return -ENOMEM;
	}
	struct unix_fds *v = *fds;
	if (v->n + num > UNIX_SCM_MAX_FD)
		return -EINVAL;
	for (int i = 0; i < num; i++) {
		int fd;
		memcpy(&fd, data + i * sizeof(int), sizeof(fd));
		struct file *f = fd < 0 ? NULL : fd_get(fd);
		if (!f)
			return -EBADF;
		v->f[v->n++] = f;
	}
	return 0;
}

int unix_scm_parse(uintptr_t control, size_t controllen, struct unix_fds **fds, struct unix_cred *cred)
{
	*fds = NULL;
	if (controllen < CMSG_HDR)
		return 0;                            /* CMSG_FIRSTHDR is NULL: no messages */
	if (controllen > UNIX_CONTROL_MAX)
		return -ENOBUFS;
	uint8_t *buf = kmalloc(controllen);
	if (!buf)
		return -ENOMEM;
	int err = 0;
	if (copy_from_user(buf, control, controllen))
		err = -EFAULT;
	size_t off = 0;
	while (!err && off + CMSG_HDR <= controllen) {
		struct cmsghdr_k h;
		memcpy(&h, buf + off, sizeof(h));
		if (h.len < CMSG_HDR || h.len > controllen - off) {
			err = -EINVAL;                   /* !CMSG_OK */
			break;
		}
		if (h.level == SOL_SOCKET_K) {
			if (h.type == SCM_RIGHTS_K) {
				err = add_rights(buf + off + CMSG_HDR, h.len - CMSG_HDR, fds);
			} else if (h.type == SCM_CREDENTIALS_K) {
				if (h.len != CMSG_HDR + sizeof(*cred))
					err = -EINVAL;
				else
					memcpy(cred, buf + off + CMSG_HDR, sizeof(*cred));
			} else {
				err = -EINVAL;
			}
		}
		off += CMSG_ALIGN_K(h.len);
	}
	kfree(buf);
	if (err) {
		unix_fds_free(*fds);
		*fds = NULL;
	}
	return err;
}

int unix_scm_deliver(struct sock_msg *m, const struct unix_cred *cred, bool want_cred,
		     struct unix_fds *fds, bool consume, bool cloexec)
{
	m->control_out = 0;
	int err = 0;
	if (want_cred)
		err = put_cmsg(m, SOL_SOCKET_K, SCM_CREDENTIALS_K, cred, sizeof(*cred));
	if (fds && !err) {
		size_t room = cmsg_room(m);
		int fdmax = room <= CMSG_HDR ? 0 : (int)((room - CMSG_HDR) / sizeof(int));
		fdmax = MIN(fdmax, fds->n);
		int *out = fdmax ? kmalloc((size_t)fdmax * sizeof(int)) : NULL;
		int i = 0;
		for (; out && i < fdmax; i++) {
			struct file *f = fds->f[i];
			if (!consume)
				file_get(f);
			int fd = fd_install(current->files, f, cloexec);
			if (fd < 0) {
				if (!consume)
					file_put(f);
				break;
			}
			if (consume)
				fds->f[i] = NULL;            /* the reference is the new fd's */
			out[i] = fd;
		}
		if (i > 0)                               /* fits: fdmax saw to it */
			err = put_cmsg(m, SOL_SOCKET_K, SCM_RIGHTS_K, out, (size_t)i * sizeof(int));
		if (i < fds->n)
			m->flags |= MSG_CTRUNC;
		kfree(out);
	}
	if (consume)
		unix_fds_free(fds);                  /* what was not delivered is closed */
	return err;
}
