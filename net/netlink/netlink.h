/*
 * AF_NETLINK inside the kernel (net/netlink/): the message layout of Linux's uapi
 * <linux/netlink.h> and <linux/rtnetlink.h> that the two files share, and the reply builder
 * rtnetlink.c fills for af_netlink.c.
 */
#ifndef NET_NETLINK_H
#define NET_NETLINK_H
#include "kernel/types.h"

#define NETLINK_ROUTE 0

struct nlmsghdr_k {
	uint32_t nlmsg_len;          /* header included */
	uint16_t nlmsg_type;
	uint16_t nlmsg_flags;
	uint32_t nlmsg_seq;
	uint32_t nlmsg_pid;
};
#define NLMSG_ALIGNTO 4
#define NLMSG_ALIGN(n) (((n) + NLMSG_ALIGNTO - 1) & ~(size_t)(NLMSG_ALIGNTO - 1))
#define NLMSG_HDRLEN NLMSG_ALIGN(sizeof(struct nlmsghdr_k))
#define NLMSG_NOOP 1
#define NLMSG_ERROR 2
#define NLMSG_DONE 3
#define NLM_F_REQUEST 0x01
#define NLM_F_MULTI 0x02
#define NLM_F_ACK 0x04
#define NLM_F_ROOT 0x100
#define NLM_F_MATCH 0x200
#define NLM_F_DUMP (NLM_F_ROOT | NLM_F_MATCH)
#define NLM_F_CAPPED 0x100           /* in an error's flags: the request is not echoed in full */

struct nlattr_k {
	uint16_t nla_len;            /* header included */
	uint16_t nla_type;
};
#define NLA_HDRLEN NLMSG_ALIGN(sizeof(struct nlattr_k))

/*
 * The replies to one request, as the datagrams the requester will read: messages are appended to
 * the current chunk, a new chunk starts when the next message would not fit (Linux fills dump
 * datagrams to about a page the same way). Thread context: it allocates.
 */
#define NL_CHUNK 4096
struct nl_reply {
	struct socket *s;            /* the requester */
	uint32_t portid;             /* its port id: every reply's nlmsg_pid */
	struct dgram *d;             /* the chunk being filled, or NULL */
	struct nlmsghdr_k *msg;      /* the message being built in it, or NULL */
	int err;                     /* -ENOMEM once something could not be queued */
};
/* Start a message (type, flags, seq) with a fixed header of hdrlen bytes (zeroed): its address. */
void *nl_msg_begin(struct nl_reply *r, uint16_t type, uint16_t flags, uint32_t seq, size_t hdrlen);
/* Append an attribute to the message being built. */
void nl_attr(struct nl_reply *r, uint16_t type, const void *data, size_t len);
void nl_attr_u32(struct nl_reply *r, uint16_t type, uint32_t v);
void nl_attr_str(struct nl_reply *r, uint16_t type, const char *s);
/* NLMSG_DONE (a dump's end) and NLMSG_ERROR (err 0: an acknowledgement), echoing req's header. */
void nl_done(struct nl_reply *r, const struct nlmsghdr_k *req);
void nl_error(struct nl_reply *r, const struct nlmsghdr_k *req, int err);

/* rtnetlink.c: answer one NETLINK_ROUTE request; 0 (replies built, a dump's NLMSG_DONE included)
 * or -errno for an NLMSG_ERROR reply. */
int rtnl_request(struct nl_reply *r, const struct nlmsghdr_k *req);

#endif
