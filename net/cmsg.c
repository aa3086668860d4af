/*
 * Control messages on recvmsg: Linux's put_cmsg, shared by the socket families (the interface
 * and its users: net/cmsg.h). Thread context, no lock held: it writes user memory.
 */
#include "net/cmsg.h"
#include "kernel/errno.h"
#include "lib/string.h"
#include "mm/uaccess.h"

size_t cmsg_room(const struct sock_msg *m)
{
	return m->control ? m->controllen - m->control_out : 0;
}

int put_cmsg(struct sock_msg *m, int level, int type, const void *data, size_t len)
{
	size_t room = cmsg_room(m);
	uintptr_t at = m->control + m->control_out;
	if (!m->control || room < CMSG_HDR) {
		m->flags |= MSG_CTRUNC;
		return 0;
	}
	size_t cmlen = CMSG_HDR + len;
	if (room < cmlen) {
		m->flags |= MSG_CTRUNC;
		cmlen = room;
	}
	struct cmsghdr_k h = { cmlen, level, type };
	if (copy_to_user(at, &h, sizeof(h)) || copy_to_user(at + CMSG_HDR, data, cmlen - CMSG_HDR))
		return -EFAULT;
	m->control_out += MIN(CMSG_HDR + CMSG_ALIGN_K(len), room);
	return 0;
}
