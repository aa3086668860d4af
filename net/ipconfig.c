/*
 * Parsing the `ip=` kernel argument (format and meaning in net/ipconfig.h). Pure string work: the
 * host unit tests run it (tests/unit/test_ipconfig.c). Nothing here trusts the command line: every
 * field is length-checked, and a malformed value leaves the default configuration.
 */
#include "net/ipconfig.h"
#include "kernel/errno.h"
#include "lib/string.h"

#define IP_ARG "ip="
#define IP_FIELDS 7                  /* client, server, gw, mask, hostname, device, autoconf */

bool ipv4_parse(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		unsigned x = 0, digits = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			x = x * 10 + (unsigned)(s[i++] - '0');
			digits++;
		}
		if (!digits || digits > 3 || x > 255)
			return false;
		v = v << 8 | x;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
	}
	if (i != n)
		return false;
	*out = v;
	return true;
}

uint32_t ipv4_class_mask(uint32_t addr)
{
	if (!(addr & 0x80000000u))
		return 0xff000000u;
	if ((addr & 0xc0000000u) == 0x80000000u)
		return 0xffff0000u;
	return 0xffffff00u;
}

int ipv4_mask_len(uint32_t mask)
{
	int n = 0;
	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	if (n < 32 && (mask << n))
		return -1;
	return n;
}

static bool word_is(const char *s, size_t n, const char *w) { return strlen(w) == n && !strncmp(s, w, n); }

static bool is_off(const char *s, size_t n) { return word_is(s, n, "off") || word_is(s, n, "none"); }
static bool is_dhcp(const char *s, size_t n)
{
	return word_is(s, n, "on") || word_is(s, n, "any") || word_is(s, n, "dhcp") || word_is(s, n, "bootp") ||
	       word_is(s, n, "both") || word_is(s, n, "rarp");
}

/* Parses one value (the text after "ip=", n characters). */
static int parse_value(const char *v, size_t n, struct ipconfig *cfg)
{
	const char *f[IP_FIELDS];
	size_t len[IP_FIELDS];
	int nf = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n && nf < IP_FIELDS; i++) {
		if (i == n || v[i] == ':') {
			f[nf] = v + start;
			len[nf] = i - start;
			nf++;
			start = i + 1;
		}
	}
	for (int i = nf; i < IP_FIELDS; i++) {
		f[i] = v + n;
		len[i] = 0;
	}
	if (nf == 1) {                           /* the short forms */
		if (is_off(v, n))
			cfg->mode = IPCFG_OFF;
		else if (is_dhcp(v, n))
			cfg->mode = IPCFG_DHCP;
		else if (ipv4_parse(v, n, &cfg->addr))
			cfg->mode = IPCFG_STATIC;
		else
			return -EINVAL;
		if (cfg->mode == IPCFG_STATIC)
			cfg->mask = ipv4_class_mask(cfg->addr);
		return 0;
	}
	uint32_t *addrs[4] = { &cfg->addr, &cfg->server, &cfg->gw, &cfg->mask };
	for (int i = 0; i < 4; i++)
		if (len[i] && !ipv4_parse(f[i], len[i], addrs[i]))
			return -EINVAL;
	if (len[3] && ipv4_mask_len(cfg->mask) < 0)
		return -EINVAL;
	if (len[4] >= IPCFG_HOSTNAME_LEN || len[5] >= IPCFG_DEV_LEN)
		return -EINVAL;
	memcpy(cfg->hostname, f[4], len[4]);
	cfg->hostname[len[4]] = 0;
	memcpy(cfg->dev, f[5], len[5]);
	cfg->dev[len[5]] = 0;
	const char *ac = f[6];
	size_t acn = len[6];
	if (acn == 0)
		cfg->mode = cfg->addr ? IPCFG_STATIC : IPCFG_DHCP;
	else if (is_off(ac, acn) || word_is(ac, acn, "static"))
		cfg->mode = cfg->addr ? IPCFG_STATIC : IPCFG_OFF;
	else if (is_dhcp(ac, acn))
		cfg->mode = IPCFG_DHCP;
	else
		return -EINVAL;
	if (cfg->mode == IPCFG_STATIC && !cfg->mask)
		cfg->mask = ipv4_class_mask(cfg->addr);
	return 0;
}

int ipconfig_parse(const char *cmdline, struct ipconfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = IPCFG_DEFAULT;
	if (!cmdline)
		return 0;
	const char *val = NULL;
	size_t vlen = 0;
	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *tok = p;
		while (*p && *p != ' ')
			p++;
		size_t n = (size_t)(p - tok);
		if (!n)
			break;
		if (n == 2 && !strncmp(tok, "--", 2))
			break;
		if (n >= strlen(IP_ARG) && !strncmp(tok, IP_ARG, strlen(IP_ARG))) {
			val = tok + strlen(IP_ARG);      /* the last ip= wins */
			vlen = n - strlen(IP_ARG);
		}
	}
	if (!val)
		return 0;
	int err = parse_value(val, vlen, cfg);
	if (err) {
		memset(cfg, 0, sizeof(*cfg));
		cfg->mode = IPCFG_DEFAULT;
	}
	return err;
}
