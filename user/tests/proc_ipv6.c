/*
 * /proc/net/if_inet6 and /proc/net/ipv6_route in Linux's formats (glibc's getaddrinfo with
 * AI_ADDRCONFIG and tools like busybox's ip read them):
 *   - if_inet6: every line is "<32 hex> <ifindex> <plen> <scope> <flags> <name>", its ifindex is
 *     the interface's (SIOCGIFINDEX), lo has ::1/128 with host scope (0x10) and IFA_F_PERMANENT,
 *     every link-scope (0x20) address is in fe80::/64
 *   - ipv6_route: every line has the ten fields (32-hex destination, its length <= 128, source,
 *     its length, next hop, four 8-hex numbers, an interface that exists), and some route leads to
 *     every interface that has an IPv6 address
 * The host's other interfaces differ from Ember's, so only lo is compared exactly.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"

#define IFA_F_PERMANENT 0x80
#define SCOPE_HOST 0x10
#define SCOPE_LINK 0x20
#define MAX_LINES 64

static int ifindex_of(const char *name)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	strncpy(r.ifr_name, name, IFNAMSIZ - 1);
	int e = ioctl(fd, SIOCGIFINDEX, &r);
	close(fd);
	return e < 0 ? -1 : r.ifr_ifindex;
}

static int all_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

static char addr_devs[MAX_LINES][IFNAMSIZ];
static int naddr_devs;

static void test_if_inet6(void)
{
	FILE *f = fopen("/proc/net/if_inet6", "r");
	CHECK("if_inet6 opens", f != NULL, "fopen failed");
	if (!f)
		return;
	char line[256];
	int lines = 0, bad = 0, lo_ok = 0, ll_bad = 0, idx_bad = 0;
	while (fgets(line, sizeof(line), f)) {
		char addr[64], name[32];
		unsigned idx, plen, scope, flags;
		lines++;
		if (sscanf(line, "%63s %x %x %x %x %31s", addr, &idx, &plen, &scope, &flags, name) != 6 ||
		    !all_hex(addr, 32) || plen > 128) {
			bad++;
			continue;
		}
		if (ifindex_of(name) != (int)idx)
			idx_bad++;
		if (naddr_devs < MAX_LINES)
			strcpy(addr_devs[naddr_devs++], name);
		if (!strcmp(name, "lo") && !strcmp(addr, "00000000000000000000000000000001") && plen == 128 &&
		    scope == SCOPE_HOST && (flags & IFA_F_PERMANENT))
			lo_ok = 1;
		if (scope == SCOPE_LINK && (strncmp(addr, "fe80000000000000", 16) || plen != 64))
			ll_bad++;
	}
	fclose(f);
	CHECK("if_inet6 has lines", lines > 0, "empty");
	CHECK("if_inet6 lines parse", bad == 0, "%d of %d malformed", bad, lines);
	CHECK("if_inet6 ifindex matches SIOCGIFINDEX", idx_bad == 0, "%d wrong", idx_bad);
	CHECK("if_inet6 lo ::1/128 host permanent", lo_ok, "no such line");
	CHECK("if_inet6 link scope is fe80::/64", ll_bad == 0, "%d not", ll_bad);
}

static void test_ipv6_route(void)
{
	FILE *f = fopen("/proc/net/ipv6_route", "r");
	CHECK("ipv6_route opens", f != NULL, "fopen failed");
	if (!f)
		return;
	char line[512], routed[MAX_LINES][IFNAMSIZ];
	int lines = 0, bad = 0, nrouted = 0;
	while (fgets(line, sizeof(line), f)) {
		char dst[64], src[64], via[64], m[4][16], name[32];
		unsigned dlen, slen;
		lines++;
		if (sscanf(line, "%63s %x %63s %x %63s %15s %15s %15s %15s %31s", dst, &dlen, src, &slen, via, m[0], m[1],
			   m[2], m[3], name) != 10 || !all_hex(dst, 32) || !all_hex(src, 32) || !all_hex(via, 32) ||
		    dlen > 128 || slen > 128 || !all_hex(m[0], 8) || !all_hex(m[1], 8) || !all_hex(m[2], 8) ||
		    !all_hex(m[3], 8) || ifindex_of(name) < 0) {
			bad++;
			continue;
		}
		if (nrouted < MAX_LINES)
			strcpy(routed[nrouted++], name);
	}
	fclose(f);
	CHECK("ipv6_route lines parse", bad == 0, "%d of %d malformed", bad, lines);
	int missing = 0;
	for (int i = 0; i < naddr_devs; i++) {
		int found = 0;
		for (int j = 0; j < nrouted && !found; j++)
			found = !strcmp(addr_devs[i], routed[j]);
		missing += !found;
	}
	CHECK("ipv6_route reaches every addressed interface", missing == 0, "%d without a route", missing);
}

int main(void)
{
	test_if_inet6();
	test_ipv6_route();
	return t_finish();
}
