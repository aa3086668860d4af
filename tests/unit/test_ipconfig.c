// unit-sources: net/ipconfig.c lib/string.c
/* The ip= kernel argument (net/ipconfig.c): Linux's forms, defaults, and malformed input. */
#include "tests/unit/unit.h"
#include "net/ipconfig.h"
#include "lib/string.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

TEST(absent_and_short_forms)
{
	struct ipconfig c;
	CHECK_EQ(ipconfig_parse(NULL, &c), 0);
	CHECK_EQ(c.mode, IPCFG_DEFAULT);
	CHECK_EQ(ipconfig_parse("console=ttyS0 rdinit=/init", &c), 0);
	CHECK_EQ(c.mode, IPCFG_DEFAULT);
	CHECK_EQ(ipconfig_parse("ip=dhcp", &c), 0);
	CHECK_EQ(c.mode, IPCFG_DHCP);
	CHECK_EQ(ipconfig_parse("a=b ip=off c=d", &c), 0);
	CHECK_EQ(c.mode, IPCFG_OFF);
	CHECK_EQ(ipconfig_parse("ip=none", &c), 0);
	CHECK_EQ(c.mode, IPCFG_OFF);
	CHECK_EQ(ipconfig_parse("ip=on", &c), 0);
	CHECK_EQ(c.mode, IPCFG_DHCP);
	CHECK_EQ(ipconfig_parse("ip=192.168.1.9", &c), 0);
	CHECK_EQ(c.mode, IPCFG_STATIC);
	CHECK_EQ(c.addr, A(192, 168, 1, 9));
	CHECK_EQ(c.mask, A(255, 255, 255, 0));
}

TEST(full_static_form)
{
	struct ipconfig c;
	CHECK_EQ(ipconfig_parse("ip=192.168.77.2::192.168.77.1:255.255.255.0::eth0:off", &c), 0);
	CHECK_EQ(c.mode, IPCFG_STATIC);
	CHECK_EQ(c.addr, A(192, 168, 77, 2));
	CHECK_EQ(c.gw, A(192, 168, 77, 1));
	CHECK_EQ(c.mask, A(255, 255, 255, 0));
	CHECK(!strcmp(c.dev, "eth0"));
	CHECK_EQ(ipconfig_parse("ip=10.1.2.3:10.1.2.1:10.1.2.254:255.255.0.0:box:eth1:none:8.8.8.8:1.1.1.1", &c), 0);
	CHECK_EQ(c.mode, IPCFG_STATIC);
	CHECK_EQ(c.server, A(10, 1, 2, 1));
	CHECK_EQ(c.mask, A(255, 255, 0, 0));
	CHECK(!strcmp(c.hostname, "box"));
	CHECK(!strcmp(c.dev, "eth1"));
	/* no mask: the class default; no autoconf with an address: static */
	CHECK_EQ(ipconfig_parse("ip=10.0.0.5::10.0.0.1:::eth0", &c), 0);
	CHECK_EQ(c.mode, IPCFG_STATIC);
	CHECK_EQ(c.mask, A(255, 0, 0, 0));
	CHECK_EQ(ipconfig_parse("ip=172.16.0.5:::::", &c), 0);
	CHECK_EQ(c.mask, A(255, 255, 0, 0));
}

TEST(dhcp_on_a_device_and_off_without_address)
{
	struct ipconfig c;
	CHECK_EQ(ipconfig_parse("ip=:::::eth1:dhcp", &c), 0);
	CHECK_EQ(c.mode, IPCFG_DHCP);
	CHECK(!strcmp(c.dev, "eth1"));
	CHECK_EQ(ipconfig_parse("ip=::::::off", &c), 0);
	CHECK_EQ(c.mode, IPCFG_OFF);
	CHECK_EQ(ipconfig_parse("ip=::::::", &c), 0);
	CHECK_EQ(c.mode, IPCFG_DHCP);
}

TEST(last_wins_and_init_args_ignored)
{
	struct ipconfig c;
	CHECK_EQ(ipconfig_parse("ip=off ip=dhcp", &c), 0);
	CHECK_EQ(c.mode, IPCFG_DHCP);
	CHECK_EQ(ipconfig_parse("rdinit=/x -- ip=off", &c), 0);
	CHECK_EQ(c.mode, IPCFG_DEFAULT);
}

TEST(malformed)
{
	struct ipconfig c;
	const char *bad[] = { "ip=", "ip=dhcpx", "ip=1.2.3", "ip=1.2.3.4.5", "ip=256.1.1.1", "ip=1.2.3.4::1.2.3.x:",
			      "ip=1.2.3.4:::255.0.255.0::eth0:off", "ip=1.2.3.4::::::bogus",
			      "ip=1.2.3.4:::::eth0123456789abcdef:off", "ip=01234.1.1.1" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(ipconfig_parse(bad[i], &c), -22);
		CHECK_EQ(c.mode, IPCFG_DEFAULT);
	}
}

TEST(helpers)
{
	uint32_t a;
	CHECK(ipv4_parse("0.0.0.0", 7, &a) && a == 0);
	CHECK(ipv4_parse("255.255.255.255", 15, &a) && a == 0xffffffffu);
	CHECK(!ipv4_parse("1.2.3.4 ", 8, &a));
	CHECK(!ipv4_parse(".1.2.3", 6, &a));
	CHECK_EQ(ipv4_mask_len(0), 0);
	CHECK_EQ(ipv4_mask_len(0xffffff00u), 24);
	CHECK_EQ(ipv4_mask_len(0xffffffffu), 32);
	CHECK_EQ(ipv4_mask_len(0xff00ff00u), -1);
}

UNIT_TESTS(CASE(absent_and_short_forms), CASE(full_static_form), CASE(dhcp_on_a_device_and_off_without_address),
	   CASE(last_wins_and_init_args_ignored), CASE(malformed), CASE(helpers))
