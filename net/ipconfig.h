/*
 * The `ip=` kernel argument (net/ipconfig.c parses it; net/stack.c applies it), as Linux's
 * Documentation/admin-guide/nfs/nfsroot.rst defines it:
 *   ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>:...
 *   ip=dhcp | ip=on | ip=any | ip=off | ip=none
 * Ember's reading: autoconf off/none/static with a client address -> static; off/none without
 * one -> no configuration; dhcp/on/any/bootp/both/rarp -> DHCP; autoconf empty -> static when a
 * client address is given, else DHCP. A missing netmask is the address's class default (as Linux).
 * Device empty -> the first NIC (eth0). server-ip and the fields after autoconf are accepted and
 * ignored. Without ip= at all the stack runs DHCP on eth0 when a NIC exists. Parsing stops at
 * "--" (what follows belongs to init).
 */
#ifndef NET_IPCONFIG_H
#define NET_IPCONFIG_H
#include "kernel/types.h"

#define IPCFG_DEV_LEN 16
#define IPCFG_HOSTNAME_LEN 64

enum ipcfg_mode {
	IPCFG_DEFAULT,     /* no ip= given */
	IPCFG_OFF,         /* ip=off: leave the NICs unconfigured (lo is always up) */
	IPCFG_DHCP,
	IPCFG_STATIC,
};

struct ipconfig {
	enum ipcfg_mode mode;
	uint32_t addr, server, gw, mask;       /* host byte order; 0 = not given */
	char hostname[IPCFG_HOSTNAME_LEN];
	char dev[IPCFG_DEV_LEN];               /* "" = first NIC */
};

/* Parses cmdline (may be NULL). 0, or -EINVAL for a malformed ip= (cfg is then IPCFG_DEFAULT). */
int ipconfig_parse(const char *cmdline, struct ipconfig *cfg);
/* "a.b.c.d" of exactly n characters -> host-order address. */
bool ipv4_parse(const char *s, size_t n, uint32_t *out);
/* The class default netmask of addr (A /8, B /16, otherwise /24). */
uint32_t ipv4_class_mask(uint32_t addr);
int ipv4_mask_len(uint32_t mask);            /* prefix length, -1 if not contiguous */

#endif
