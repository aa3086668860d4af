/*
 * Control messages (struct cmsghdr) as every socket family lays them out in the user's
 * msg_control buffer (net/cmsg.c): the 64-bit header, the alignment, and Linux's put_cmsg for
 * recvmsg. Users: AF_UNIX's SCM_RIGHTS / SCM_CREDENTIALS (net/unix/unix_scm.c), the internet
 * sockets' IP_* / IPV6_* messages (net/inet_cmsg.c). Thread context, no lock held (user memory).
 */
#ifndef NET_CMSG_H
#define NET_CMSG_H
#include "net/socket.h"

struct cmsghdr_k {                          /* struct cmsghdr (64-bit) */
	uint64_t len;
	int32_t level;
	int32_t type;
};
#define CMSG_HDR ((size_t)sizeof(struct cmsghdr_k))
#define CMSG_ALIGN_K(n) (((n) + 7) & ~(size_t)7)

/* Bytes left in m's control buffer after the m->control_out already written (0 without one). */
size_t cmsg_room(const struct sock_msg *m);
/* Linux's put_cmsg: append a message of level/type with len bytes of data after what m holds (a
 * header that does not fit is left out, a body that does not fit is cut; both set MSG_CTRUNC in
 * m->flags); m->control_out grows by the space used. 0 or -EFAULT. */
int put_cmsg(struct sock_msg *m, int level, int type, const void *data, size_t len);

#endif
