/*
 * Interface ioctls, checked on lo (the one interface both Linux and Ember always have):
 *   - SIOCGIFINDEX 1, SIOCGIFNAME of index 1 is "lo", SIOCGIFFLAGS IFF_UP|IFF_LOOPBACK|IFF_RUNNING,
 *     SIOCGIFMTU 65536, SIOCGIFHWADDR ARPHRD_LOOPBACK and a zero address, SIOCGIFADDR 127.0.0.1,
 *     SIOCGIFNETMASK 255.0.0.0, SIOCGIFBRDADDR 0.0.0.0 (lo has no broadcast address)
 *   - SIOCGIFCONF: a NULL buffer asks for the length; lo is listed with 127.0.0.1; every listed
 *     interface is up and its name and index agree both ways; a buffer for one entry gets one,
 *     one smaller than an entry none
 *   - any socket answers (UDP, TCP, AF_PACKET)
 *   - errors: ENODEV for an unknown name (also one that fills all 16 bytes) and index, EFAULT for
 *     a bad ifreq pointer
 * Which other interfaces exist differs between the host and Ember, so only lo is compared exactly.
 */
#define _GNU_SOURCE
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include "sockutil.h"

#define MAX_IFS 64

static struct ifreq lo_req(void)
{
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	strcpy(r.ifr_name, "lo");
	return r;
}

static uint32_t in_addr_of(const struct sockaddr *sa)
{
	struct sockaddr_in a;
	memcpy(&a, sa, sizeof(a));
	return a.sin_family == AF_INET ? ntohl(a.sin_addr.s_addr) : 0xdeadbeef;
}

static void test_lo(int fd)
{
	struct ifreq r = lo_req();
	int rc = ioctl(fd, SIOCGIFINDEX, &r);
	CHECK("ifindex_lo_1", rc == 0 && r.ifr_ifindex == 1, "rc=%d index=%d errno=%d", rc, r.ifr_ifindex, errno);
	r = lo_req();
	rc = ioctl(fd, SIOCGIFFLAGS, &r);
	CHECK("ifflags_lo", rc == 0 && r.ifr_flags == (IFF_UP | IFF_LOOPBACK | IFF_RUNNING), "rc=%d flags=%#x", rc,
	      (unsigned)(uint16_t)r.ifr_flags);
	r = lo_req();
	rc = ioctl(fd, SIOCGIFMTU, &r);
	CHECK("ifmtu_lo_65536", rc == 0 && r.ifr_mtu == 65536, "rc=%d mtu=%d", rc, r.ifr_mtu);
	r = lo_req();
	static const char zero[6];
	rc = ioctl(fd, SIOCGIFHWADDR, &r);
	CHECK("ifhwaddr_lo", rc == 0 && r.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK && !memcmp(r.ifr_hwaddr.sa_data, zero, 6),
	      "rc=%d family=%d", rc, r.ifr_hwaddr.sa_family);
	r = lo_req();
	rc = ioctl(fd, SIOCGIFADDR, &r);
	CHECK("ifaddr_lo", rc == 0 && in_addr_of(&r.ifr_addr) == INADDR_LOOPBACK && !strcmp(r.ifr_name, "lo"),
	      "rc=%d addr=%#x", rc, in_addr_of(&r.ifr_addr));
	r = lo_req();
	rc = ioctl(fd, SIOCGIFNETMASK, &r);
	CHECK("ifnetmask_lo", rc == 0 && in_addr_of(&r.ifr_netmask) == 0xff000000u, "rc=%d mask=%#x", rc,
	      in_addr_of(&r.ifr_netmask));
	r = lo_req();
	rc = ioctl(fd, SIOCGIFBRDADDR, &r);
	CHECK("ifbrdaddr_lo_none", rc == 0 && in_addr_of(&r.ifr_broadaddr) == 0, "rc=%d brd=%#x", rc,
	      in_addr_of(&r.ifr_broadaddr));
	memset(&r, 0xff, sizeof(r));
	r.ifr_ifindex = 1;
	rc = ioctl(fd, SIOCGIFNAME, &r);
	CHECK("ifname_1_lo", rc == 0 && !strcmp(r.ifr_name, "lo"), "rc=%d name=%.16s", rc, r.ifr_name);
}

static void test_ifconf(int fd)
{
	struct ifconf ifc = { .ifc_len = 0, .ifc_buf = NULL };
	int rc = ioctl(fd, SIOCGIFCONF, &ifc);
	int need = ifc.ifc_len;
	CHECK("ifconf_null_buffer_length", rc == 0 && need > 0 && need % (int)sizeof(struct ifreq) == 0 &&
	      need <= MAX_IFS * (int)sizeof(struct ifreq), "rc=%d len=%d", rc, need);
	static struct ifreq reqs[MAX_IFS];
	ifc.ifc_len = sizeof(reqs);
	ifc.ifc_req = reqs;
	rc = ioctl(fd, SIOCGIFCONF, &ifc);
	int n = ifc.ifc_len / (int)sizeof(struct ifreq);
	CHECK("ifconf_fills", rc == 0 && ifc.ifc_len == need, "rc=%d len=%d need=%d", rc, ifc.ifc_len, need);
	bool lo = false, consistent = n > 0;
	for (int i = 0; i < n; i++) {
		if (!strcmp(reqs[i].ifr_name, "lo") && in_addr_of(&reqs[i].ifr_addr) == INADDR_LOOPBACK)
			lo = true;
		struct ifreq r;
		memset(&r, 0, sizeof(r));
		memcpy(r.ifr_name, reqs[i].ifr_name, IFNAMSIZ);
		int a = ioctl(fd, SIOCGIFINDEX, &r);
		int idx = r.ifr_ifindex;
		int b = ioctl(fd, SIOCGIFFLAGS, &r);
		int up = r.ifr_flags & IFF_UP;
		memset(r.ifr_name, 0, IFNAMSIZ);
		r.ifr_ifindex = idx;
		int c = ioctl(fd, SIOCGIFNAME, &r);
		if (a || b || c || !up || strcmp(r.ifr_name, reqs[i].ifr_name)) {
			consistent = false;
			printf("  %s: index rc %d, flags rc %d up %d, name rc %d back %.16s\n", reqs[i].ifr_name, a, b, up, c,
			       r.ifr_name);
		}
	}
	CHECK("ifconf_lists_lo", lo, "%d entries", n);
	CHECK("ifconf_entries_consistent", consistent, "%d entries", n);
	ifc.ifc_len = sizeof(struct ifreq) + 4;
	rc = ioctl(fd, SIOCGIFCONF, &ifc);
	CHECK("ifconf_room_for_one", rc == 0 && ifc.ifc_len == sizeof(struct ifreq), "rc=%d len=%d", rc, ifc.ifc_len);
	ifc.ifc_len = 10;
	rc = ioctl(fd, SIOCGIFCONF, &ifc);
	CHECK("ifconf_room_for_none", rc == 0 && ifc.ifc_len == 0, "rc=%d len=%d", rc, ifc.ifc_len);
}

static void test_errors(int fd)
{
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	strcpy(r.ifr_name, "nosuch0");
	const unsigned long cmds[] = { SIOCGIFINDEX, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFNETMASK };
	const char *names[] = { "index", "flags", "addr", "mtu", "hwaddr", "netmask" };
	for (int i = 0; i < 6; i++) {
		char name[64];
		snprintf(name, sizeof(name), "if%s_unknown_enodev", names[i]);
		errno = 0;
		int rc = ioctl(fd, cmds[i], &r);
		CHECK(name, rc == -1 && errno == ENODEV, "rc=%d errno=%d", rc, errno);
	}
	memset(r.ifr_name, 'l', IFNAMSIZ);      /* no NUL within the 16 bytes */
	errno = 0;
	int rc = ioctl(fd, SIOCGIFINDEX, &r);
	CHECK("ifindex_unterminated_name_enodev", rc == -1 && errno == ENODEV, "rc=%d errno=%d", rc, errno);
	memset(&r, 0, sizeof(r));
	r.ifr_ifindex = 99999;
	errno = 0;
	rc = ioctl(fd, SIOCGIFNAME, &r);
	CHECK("ifname_unknown_index_enodev", rc == -1 && errno == ENODEV, "rc=%d errno=%d", rc, errno);
	errno = 0;
	rc = ioctl(fd, SIOCGIFFLAGS, BAD_PTR);
	CHECK("ifflags_bad_pointer_efault", rc == -1 && errno == EFAULT, "rc=%d errno=%d", rc, errno);
	errno = 0;
	rc = ioctl(fd, SIOCGIFINDEX, BAD_PTR);
	CHECK("ifindex_bad_pointer_efault", rc == -1 && errno == EFAULT, "rc=%d errno=%d", rc, errno);
}

static void test_any_socket(void)
{
	int fds[3] = { socket(AF_INET, SOCK_STREAM, 0), socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)), -1 };
	const char *names[3] = { "ifindex_via_tcp_socket", "ifindex_via_packet_socket" };
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0 && i == 1 && !running_in_ember()) {
			SKIP(names[i], "AF_PACKET needs CAP_NET_RAW on this host");
			continue;
		}
		struct ifreq r = lo_req();
		int rc = ioctl(fds[i], SIOCGIFINDEX, &r);
		CHECK(names[i], fds[i] >= 0 && rc == 0 && r.ifr_ifindex == 1, "fd=%d rc=%d errno=%d", fds[i], rc, errno);
		close(fds[i]);
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_watchdog(60);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK("udp_socket", u >= 0, "errno=%d", errno);
	test_lo(u);
	test_ifconf(u);
	test_errors(u);
	test_any_socket();
	close(u);
	return t_finish();
}
