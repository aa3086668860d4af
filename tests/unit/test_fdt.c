/* unit-sources: kernel/fdt.c
 * Device-tree reader tests on QEMU virt's real DTB ($EMBER_DTB) and on hand-built/damaged blobs. */
#include <string.h>
#include "tests/unit/unit.h"
#include "kernel/fdt.h"

static uint8_t *dtb;       /* QEMU's DTB in a buffer of exactly totalsize bytes, so ASan sees overruns */
static uint32_t dtb_size;

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

static uint8_t *dup_blob(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	memcpy(p, src, n);
	return p;
}

/* Load $EMBER_DTB once; a missing or bad file fails the calling test. */
static bool load(void)
{
	static bool tried;
	const char *path = getenv("EMBER_DTB");
	uint8_t hdr[8];
	FILE *f;

	if (!tried) {
		tried = true;
		if (path && (f = fopen(path, "rb"))) {
			if (fread(hdr, 1, 8, f) == 8 && rd32(hdr) == FDT_MAGIC && rd32(hdr + 4) >= 40 &&
			    rd32(hdr + 4) < (64u << 20)) {
				dtb_size = rd32(hdr + 4);
				dtb = malloc(dtb_size);
				rewind(f);
				if (fread(dtb, 1, dtb_size, f) != dtb_size) {
					free(dtb);
					dtb = NULL;
				}
			}
			fclose(f);
		}
		if (!dtb)
			printf("  cannot load DTB from EMBER_DTB=%s\n", path ? path : "(unset)");
	}
	CHECK(dtb != NULL);
	return dtb != NULL;
}

/* Load QEMU's DTB and make it current. */
static bool setup(void)
{
	if (!load())
		return false;
	CHECK_EQ(fdt_init_sized(dtb, dtb_size), 0);
	return fdt_totalsize() == dtb_size;
}

static uint32_t u32(int node, const char *name)
{
	uint32_t v = 0xdeadbeef;
	CHECK(fdt_getprop_u32(node, name, &v));
	return v;
}

TEST(header)
{
	if (!setup())
		return;
	CHECK_EQ(fdt_init(dtb), 0);
	CHECK_EQ(fdt_totalsize(), dtb_size);
	CHECK_EQ(fdt_root(), fdt_path_offset("/"));
	CHECK(fdt_root() >= 0);
	CHECK_EQ(strcmp(fdt_node_name(fdt_root()), ""), 0);
	CHECK(fdt_parent(fdt_root()) < 0);
	CHECK(fdt_next_sibling(fdt_root()) < 0);
	CHECK_EQ(fdt_address_cells(fdt_root()), 2);
	CHECK_EQ(fdt_size_cells(fdt_root()), 2);
	CHECK(!fdt_mem_rsv(0, NULL, NULL));    /* QEMU reserves nothing */
	CHECK(fdt_is_compatible(fdt_root(), "riscv-virtio"));
}

/* fdt_next_node, first_child/next_sibling and fdt_parent must describe the same tree. */
TEST(traversal)
{
	int n, d, count = 0, depth1 = 0, children = 0, maxd = 0;

	if (!setup())
		return;
	n = fdt_next_node(-1, &d);
	CHECK_EQ(n, fdt_root());
	CHECK_EQ(d, 0);
	for (; n >= 0; n = fdt_next_node(n, &d)) {
		count++;
		depth1 += d == 1;
		maxd = MAX(maxd, d);
		if (d > 0) {
			/* n must be among its parent's children */
			int p = fdt_parent(n), c, found = 0;
			CHECK(p >= 0 && p < n);
			for (c = fdt_first_child(p); c >= 0; c = fdt_next_sibling(c))
				found += c == n;
			CHECK_EQ(found, 1);
		}
	}
	for (n = fdt_first_child(fdt_root()); n >= 0; n = fdt_next_sibling(n))
		children++;
	CHECK(count > 30);
	CHECK_EQ(children, depth1);
	CHECK_EQ(maxd, 4);    /* /cpus/cpu-map/cluster0/core0 */
	CHECK_EQ(fdt_parent(fdt_path_offset("/cpus")), fdt_root());
	CHECK_EQ(fdt_parent(fdt_path_offset("/cpus/cpu@2/interrupt-controller")),
		 fdt_path_offset("/cpus/cpu@2"));
	/* with depth == NULL the iteration is the same */
	int a = -1, b = -1, same = 1;
	do {
		a = fdt_next_node(a, NULL);
		b = fdt_next_node(b, &d);
		same &= a == b;
	} while (a >= 0 && b >= 0);
	CHECK(same);
}

TEST(paths)
{
	int cpus, soc;

	if (!setup())
		return;
	cpus = fdt_path_offset("/cpus");
	soc = fdt_path_offset("/soc");
	CHECK(cpus >= 0 && soc >= 0);
	CHECK_EQ(strcmp(fdt_node_name(cpus), "cpus"), 0);
	CHECK_EQ(fdt_path_offset("/cpus/"), cpus);
	CHECK_EQ(fdt_path_offset("//cpus"), cpus);
	CHECK_EQ(strcmp(fdt_node_name(fdt_path_offset("/memory")), "memory@80000000"), 0);
	CHECK_EQ(fdt_path_offset("/memory@80000000"), fdt_path_offset("/memory"));
	CHECK_EQ(strcmp(fdt_node_name(fdt_path_offset("/soc/plic")), "plic@c000000"), 0);
	CHECK_EQ(fdt_path_offset("/soc/plic@c000000"), fdt_path_offset("/soc/plic"));
	CHECK_EQ(fdt_parent(fdt_path_offset("/soc/plic")), soc);
	CHECK(fdt_path_offset("/cpus/cpu@3") >= 0);
	CHECK(fdt_path_offset("/cpus/cpu@4") < 0);
	CHECK(fdt_path_offset("/soc/plic@c000001") < 0);
	CHECK(fdt_path_offset("/soc/pli") < 0);
	CHECK(fdt_path_offset("/nonexistent") < 0);
	CHECK(fdt_path_offset("/cpus/nonexistent") < 0);
	CHECK(fdt_path_offset("cpus") < 0);
	CHECK(fdt_path_offset("") < 0);
	CHECK(fdt_path_offset(NULL) < 0);
	/* "/soc/virtio_mmio" is ambiguous: the first one in document order wins */
	CHECK_EQ(fdt_path_offset("/soc/virtio_mmio"), fdt_find_compatible(soc, "virtio,mmio"));
}

TEST(memory)
{
	int mem;
	uint64_t addr = 0, size = 0;

	if (!setup())
		return;
	mem = fdt_path_offset("/memory");
	CHECK(mem >= 0);
	CHECK(fdt_getprop_str(mem, "device_type") && !strcmp(fdt_getprop_str(mem, "device_type"), "memory"));
	CHECK(fdt_reg(mem, 0, &addr, &size));
	CHECK_EQ(addr, 0x80000000ull);
	CHECK_EQ(size, 512ull << 20);
	CHECK(!fdt_reg(mem, 1, &addr, &size));
	CHECK(!fdt_reg(mem, -1, &addr, &size));
}

TEST(cpus)
{
	int cpus, n, ncpu = 0;
	unsigned seen = 0;
	uint64_t addr, size;

	if (!setup())
		return;
	cpus = fdt_path_offset("/cpus");
	CHECK(cpus >= 0);
	CHECK_EQ(fdt_address_cells(cpus), 1);
	CHECK_EQ(fdt_size_cells(cpus), 0);
	CHECK_EQ(u32(cpus, "timebase-frequency"), 10000000);
	for (n = fdt_first_child(cpus); n >= 0; n = fdt_next_sibling(n)) {
		if (strncmp(fdt_node_name(n), "cpu@", 4) != 0)
			continue;
		ncpu++;
		const char *isa = fdt_getprop_str(n, "riscv,isa");
		CHECK(isa && strncmp(isa, "rv64ima", 7) == 0);
		CHECK(fdt_getprop_str(n, "device_type") && !strcmp(fdt_getprop_str(n, "device_type"), "cpu"));
		CHECK(fdt_reg(n, 0, &addr, &size));
		CHECK_EQ(size, 0);
		CHECK(addr < 4);
		CHECK_EQ(u32(n, "reg"), addr);
		CHECK_EQ(strtoul(fdt_node_name(n) + 4, NULL, 16), addr);
		seen |= 1u << addr;
		/* each cpu has a local interrupt controller child */
		int intc = fdt_first_child(n);
		CHECK(fdt_is_compatible(intc, "riscv,cpu-intc"));
		CHECK(fdt_getprop(intc, "interrupt-controller", NULL) != NULL);
	}
	CHECK_EQ(ncpu, 4);
	CHECK_EQ(seen, 0xf);
}

TEST(uart)
{
	int uart, plic;
	uint64_t addr = 0, size = 0;
	const char *out;

	if (!setup())
		return;
	uart = fdt_find_compatible(-1, "ns16550a");
	CHECK(uart >= 0);
	CHECK(fdt_find_compatible(uart, "ns16550a") < 0);
	CHECK(fdt_reg(uart, 0, &addr, &size));
	CHECK_EQ(addr, 0x10000000);
	CHECK_EQ(size, 0x100);
	CHECK_EQ(u32(uart, "interrupts"), 10);
	CHECK_EQ(u32(uart, "clock-frequency"), 3686400);
	plic = fdt_node_by_phandle(u32(uart, "interrupt-parent"));
	CHECK(fdt_is_compatible(plic, "riscv,plic0"));
	/* /chosen points at it */
	CHECK(fdt_path_offset("/chosen") >= 0);
	out = fdt_getprop_str(fdt_path_offset("/chosen"), "stdout-path");
	CHECK(out != NULL);
	if (out)
		CHECK_EQ(fdt_path_offset(out), uart);
}

TEST(plic)
{
	int plic, len, hartctx[4][2] = {{0}};
	const uint8_t *ie;
	uint64_t addr = 0, size = 0;

	if (!setup())
		return;
	plic = fdt_find_compatible(-1, "riscv,plic0");
	CHECK(plic >= 0);
	CHECK_EQ(fdt_find_compatible(-1, "sifive,plic-1.0.0"), plic);
	CHECK(fdt_reg(plic, 0, &addr, &size));
	CHECK_EQ(addr, 0xc000000);
	CHECK_EQ(size, 0x600000);
	CHECK_EQ(u32(plic, "riscv,ndev"), 96);    /* QEMU 7.2: VIRT_IRQCHIP_NUM_SOURCES */
	CHECK(fdt_getprop(plic, "interrupt-controller", &len) && len == 0);
	/* interrupts-extended = <intc-phandle irq>...: one M (11) and one S (9) context per hart */
	ie = fdt_getprop(plic, "interrupts-extended", &len);
	CHECK(ie != NULL);
	CHECK_EQ(len, 4 * 2 * 2 * 4);
	for (int i = 0; ie && i + 8 <= len; i += 8) {
		int intc = fdt_node_by_phandle(fdt_read_cells(ie + i, 1));
		uint32_t irq = fdt_read_cells(ie + i + 4, 1);
		uint64_t hart = 99;
		CHECK(fdt_is_compatible(intc, "riscv,cpu-intc"));
		int cpu = fdt_parent(intc);
		CHECK(fdt_getprop_str(cpu, "device_type") && !strcmp(fdt_getprop_str(cpu, "device_type"), "cpu"));
		CHECK(fdt_reg(cpu, 0, &hart, NULL));
		CHECK(irq == 9 || irq == 11);
		if (hart < 4 && (irq == 9 || irq == 11))
			hartctx[hart][irq == 9]++;
	}
	for (int h = 0; h < 4; h++) {
		CHECK_EQ(hartctx[h][0], 1);
		CHECK_EQ(hartctx[h][1], 1);
	}
	/* the CLINT too */
	int clint = fdt_find_compatible(-1, "riscv,clint0");
	CHECK(fdt_reg(clint, 0, &addr, &size));
	CHECK_EQ(addr, 0x2000000);
}

TEST(virtio)
{
	int n = -1, count = 0;
	unsigned seen = 0;
	uint64_t addr = 0, size = 0;

	if (!setup())
		return;
	while ((n = fdt_find_compatible(n, "virtio,mmio")) >= 0) {
		count++;
		CHECK(fdt_reg(n, 0, &addr, &size));
		CHECK_EQ(size, 0x1000);
		int i = (int)((addr - 0x10001000) / 0x1000);
		CHECK(addr >= 0x10001000 && addr % 0x1000 == 0 && i < 8);
		CHECK_EQ(u32(n, "interrupts"), i + 1);
		if (i >= 0 && i < 8)
			seen |= 1u << i;
	}
	CHECK_EQ(count, 8);
	CHECK_EQ(seen, 0xff);
}

TEST(pci)
{
	int pci, len;
	uint64_t addr = 0, size = 0;
	const uint8_t *r;

	if (!setup())
		return;
	pci = fdt_find_compatible(-1, "pci-host-ecam-generic");
	CHECK(pci >= 0);
	CHECK(fdt_reg(pci, 0, &addr, &size));
	CHECK_EQ(addr, 0x30000000);
	CHECK_EQ(size, 0x10000000);
	CHECK_EQ(fdt_address_cells(pci), 3);
	CHECK_EQ(fdt_size_cells(pci), 2);
	/* ranges = <pci-addr(3) cpu-addr(2) size(2)>...: there is a 32-bit MMIO window at 0x40000000 */
	r = fdt_getprop(pci, "ranges", &len);
	CHECK(r != NULL && len > 0 && len % 28 == 0);
	int mmio = 0;
	for (int i = 0; r && i + 28 <= len; i += 28)
		if (fdt_read_cells(r + i, 1) >> 24 == 2 && fdt_read_cells(r + i + 12, 2) == 0x40000000 &&
		    fdt_read_cells(r + i + 20, 2) == 0x40000000)
			mmio++;
	CHECK_EQ(mmio, 1);
	if (r && len >= 56)    /* low 64 bits of the 3-cell PCI address of the 2nd entry */
		CHECK_EQ(fdt_read_cells(r + 28, 3), 0x40000000);
}

TEST(poweroff)
{
	int off, test, reboot;
	uint64_t addr = 0;

	if (!setup())
		return;
	off = fdt_find_compatible(-1, "syscon-poweroff");
	reboot = fdt_find_compatible(-1, "syscon-reboot");
	test = fdt_find_compatible(-1, "sifive,test0");
	CHECK(off >= 0 && reboot >= 0 && test >= 0);
	CHECK(fdt_is_compatible(test, "syscon"));
	CHECK(!fdt_is_compatible(test, "sifive,test"));    /* whole entries only */
	CHECK(!fdt_is_compatible(test, "syscon-poweroff"));
	CHECK(fdt_reg(test, 0, &addr, NULL));
	CHECK_EQ(addr, 0x100000);
	CHECK_EQ(fdt_node_by_phandle(u32(off, "regmap")), test);
	CHECK_EQ(fdt_node_by_phandle(u32(reboot, "regmap")), test);
	CHECK_EQ(u32(off, "value"), 0x5555);
	CHECK_EQ(u32(off, "offset"), 0);
	CHECK_EQ(u32(reboot, "value"), 0x7777);
}

TEST(missing)
{
	int root, uart;
	uint32_t v = 42;
	int len = 7;

	if (!setup())
		return;
	root = fdt_root();
	uart = fdt_find_compatible(-1, "ns16550a");
	CHECK(fdt_getprop(uart, "no-such-prop", &len) == NULL);
	CHECK_EQ(len, 7);
	CHECK(fdt_getprop(root, "", NULL) == NULL);
	CHECK(!fdt_getprop_u32(uart, "no-such-prop", &v));
	CHECK(!fdt_getprop_u32(uart, "reg", &v));           /* 4 cells, not 1 */
	CHECK(!fdt_getprop_u32(uart, "compatible", &v));
	CHECK_EQ(v, 42);
	CHECK(fdt_getprop_str(uart, "no-such-prop") == NULL);
	CHECK(fdt_getprop_str(uart, "interrupts") == NULL);  /* 00 00 00 0a: no trailing NUL */
	CHECK(fdt_find_compatible(-1, "no,such-device") < 0);
	CHECK(!fdt_is_compatible(root, ""));
	CHECK(fdt_node_by_phandle(0) < 0);
	CHECK(fdt_node_by_phandle(0xffffffff) < 0);
	CHECK(fdt_node_by_phandle(0x1234) < 0);
	CHECK(fdt_node_by_phandle(1) >= 0);
	CHECK(!fdt_reg(root, 0, NULL, NULL));                 /* no parent */
	CHECK(!fdt_reg(fdt_path_offset("/chosen"), 0, NULL, NULL));
	CHECK(fdt_first_child(fdt_path_offset("/chosen")) < 0);
}

/* Offsets that are not node handles must be refused, not followed. */
TEST(bad_handles)
{
	int root, len;
	uint64_t a, s;

	if (!setup())
		return;
	root = fdt_root();
	for (int h = -8; h < (int)dtb_size + 8; h++) {
		if (h == root || fdt_node_name(h) != NULL) {
			/* an aligned offset whose word happens to be FDT_BEGIN_NODE still stays in bounds */
			CHECK(h >= 0 && h % 4 == 0);
			continue;
		}
		CHECK(fdt_first_child(h) < 0);
		CHECK(fdt_next_sibling(h) < 0);
		CHECK(fdt_parent(h) < 0);
		CHECK(h < 0 ? fdt_next_node(h, NULL) == root : fdt_next_node(h, NULL) < 0);    /* <0: start */
		CHECK(fdt_getprop(h, "reg", &len) == NULL);
		CHECK(!fdt_reg(h, 0, &a, &s));
		CHECK(fdt_address_cells(h) < 0);
	}
	CHECK(fdt_find_compatible(-5, "ns16550a") == fdt_find_compatible(-1, "ns16550a"));
	CHECK(fdt_find_compatible(3, "ns16550a") < 0);
}

/* After a failed fdt_init nothing is reachable. */
static void check_dead(void)
{
	CHECK_EQ(fdt_totalsize(), 0);
	CHECK(fdt_root() < 0);
	CHECK(fdt_next_node(-1, NULL) < 0);
	CHECK(fdt_path_offset("/") < 0);
	CHECK(fdt_find_compatible(-1, "ns16550a") < 0);
	CHECK(fdt_node_by_phandle(1) < 0);
	CHECK(fdt_node_name(0) == NULL);
	CHECK(fdt_getprop(0, "compatible", NULL) == NULL);
	CHECK(!fdt_mem_rsv(0, NULL, NULL));
}

/* Patch the header word at off in a copy of the DTB and expect fdt_init to refuse it. */
static void expect_reject(uint32_t off, uint32_t val, const char *what)
{
	uint8_t *b = dup_blob(dtb, dtb_size);
	wr32(b + off, val);
	if (fdt_init_sized(b, dtb_size) != -1)
		printf("  accepted: %s\n", what);
	CHECK_EQ(fdt_init_sized(b, dtb_size), -1);
	check_dead();
	free(b);
}

TEST(bad_header)
{
	uint32_t struct_off, strings_off;

	if (!setup())
		return;
	struct_off = rd32(dtb + 8);
	strings_off = rd32(dtb + 12);
	CHECK(fdt_init(NULL) < 0);
	check_dead();
	expect_reject(0, 0xfeedd00d, "bad magic");
	expect_reject(0, 0, "zero magic");
	expect_reject(4, dtb_size + 1, "totalsize > buffer");
	expect_reject(4, 0xffffffff, "huge totalsize");
	expect_reject(4, 39, "totalsize < header");
	expect_reject(4, struct_off + 16, "totalsize cuts the struct block");
	expect_reject(8, dtb_size, "struct at end");
	expect_reject(8, 0xfffffff0, "struct offset huge");
	expect_reject(8, struct_off + 2, "misaligned struct");
	expect_reject(8, 8, "struct inside header");
	expect_reject(12, dtb_size - 1, "strings past end");
	expect_reject(12, 0xffffffff, "strings offset huge");
	expect_reject(16, ALIGN_DOWN(dtb_size - 16, 8), "reservation block has no terminator");
	expect_reject(16, 0x80000000, "reservation offset huge");
	expect_reject(20, 15, "version 15");
	expect_reject(24, 18, "last_comp_version 18");
	expect_reject(32, dtb_size, "strings size too big");
	expect_reject(32, 0xfffffff0, "strings size wraps");
	expect_reject(36, dtb_size, "struct size too big");
	expect_reject(36, 0xfffffffc, "struct size wraps");
	expect_reject(36, strings_off - struct_off - 4, "struct size loses FDT_END");
	expect_reject(36, 0, "empty struct block");
	expect_reject(struct_off, 2, "root is END_NODE");
	expect_reject(struct_off, 0x77, "unknown token");
	/* a short buffer, and the real one again */
	CHECK_EQ(fdt_init_sized(dtb, 39), -1);
	CHECK_EQ(fdt_init_sized(dtb, dtb_size - 1), -1);
	CHECK_EQ(fdt_init_sized(dtb, dtb_size), 0);
	CHECK(fdt_root() >= 0);
}

/* Every prefix of the DTB (header totalsize patched to match, so fdt_init believes it) is refused. */
TEST(truncated)
{
	int accepted = 0;

	if (!setup())
		return;
	for (uint32_t n = 8; n < dtb_size; n++) {
		uint8_t *b = dup_blob(dtb, n);
		wr32(b + 4, n);
		accepted += fdt_init(b) == 0;
		free(b);
	}
	CHECK_EQ(accepted, 0);
	/* the same with size_dt_struct cut short at every length */
	uint32_t ssize = rd32(dtb + 36);
	for (uint32_t s = 0; s < ssize; s++) {
		uint8_t *b = dup_blob(dtb, dtb_size);
		wr32(b + 36, s);
		accepted += fdt_init(b) == 0;
		free(b);
	}
	CHECK_EQ(accepted, 0);
}

/* Call everything on whatever tree is current; ASan/UBSan catch any stray access. */
static void workout(void)
{
	int n, d, len, steps = 0;
	uint32_t v;
	uint64_t a, s;

	for (n = fdt_next_node(-1, &d); n >= 0 && steps < 10000; n = fdt_next_node(n, &d), steps++) {
		const char *name = fdt_node_name(n);
		CHECK(name != NULL);
		fdt_getprop(n, "compatible", &len);
		fdt_getprop_u32(n, "reg", &v);
		fdt_getprop_str(n, "status");
		fdt_is_compatible(n, "virtio,mmio");
		fdt_first_child(n);
		fdt_next_sibling(n);
		fdt_address_cells(n);
		if (steps % 8 == 0)
			fdt_reg(n, steps % 3, &a, &s);
	}
	CHECK(steps < 10000);
	fdt_path_offset("/soc/serial@10000000");
	fdt_path_offset("/cpus/cpu");
	fdt_find_compatible(-1, "ns16550a");
	fdt_node_by_phandle(9);
	for (int i = 0; i < 4; i++)
		fdt_mem_rsv(i, &a, &s);
}

/* Random damage to the struct/strings blocks: accepted blobs must still be safe to walk. */
TEST(fuzz)
{
	static const uint32_t toks[] = { 1, 2, 3, 4, 9, 0xffffffff, 0x1000 };
	uint32_t rng = 12345, struct_off, accepted = 0;

	if (!setup())
		return;
	struct_off = rd32(dtb + 8);
	for (int iter = 0; iter < 3000; iter++) {
		uint8_t *b = dup_blob(dtb, dtb_size);
		int nmut = 1 + iter % 3;
		for (int m = 0; m < nmut; m++) {
			rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
			uint32_t off = struct_off + rng % (dtb_size - struct_off);
			if (rng & 0x100000)    /* plant a token or length-like word... */
				wr32(b + (off & ~3u), toks[(rng >> 21) % ARRAY_SIZE(toks)]);
			else                   /* ...or a random byte */
				b[off] = rng >> 24;
		}
		if (fdt_init_sized(b, dtb_size) == 0) {
			accepted++;
			workout();
		}
		free(b);
	}
	printf("  fuzz: %u of 3000 damaged blobs accepted and walked\n", accepted);
	CHECK(accepted > 0);
}

/* --- a hand-built blob for what QEMU's tree lacks --- */

struct builder {
	uint8_t st[1024];
	uint32_t slen;
	char str[256];
	uint32_t strsz;
};

static void put32(struct builder *b, uint32_t v) { wr32(b->st + b->slen, v); b->slen += 4; }

static void begin(struct builder *b, const char *name)
{
	put32(b, 1);
	strcpy((char *)b->st + b->slen, name);
	b->slen += (strlen(name) + 4) & ~3u;    /* name + NUL, padded */
}

static void prop(struct builder *b, const char *name, const void *val, uint32_t len)
{
	uint32_t nameoff = b->strsz;
	put32(b, 3);
	put32(b, len);
	put32(b, nameoff);
	strcpy(b->str + b->strsz, name);
	b->strsz += strlen(name) + 1;
	memcpy(b->st + b->slen, val, len);
	b->slen += (len + 3) & ~3u;
}

static void prop_cells(struct builder *b, const char *name, int n, const uint32_t *cells)
{
	uint8_t v[64];
	for (int i = 0; i < n; i++)
		wr32(v + 4 * i, cells[i]);
	prop(b, name, v, 4 * n);
}

#define CELLS(b, name, ...) do { const uint32_t c_[] = { __VA_ARGS__ }; \
	prop_cells(b, name, ARRAY_SIZE(c_), c_); } while (0)

/* header | 2 reservations + terminator | struct | strings, in a buffer of exactly that size */
static uint8_t *finish(struct builder *b, uint32_t *size)
{
	const uint32_t rsv = 40, st = rsv + 3 * 16, strs = st + b->slen, tot = strs + b->strsz;
	const uint32_t hdr[10] = { FDT_MAGIC, tot, st, strs, rsv, 17, 16, 0, b->strsz, b->slen };
	uint8_t *p = calloc(1, tot);

	for (int i = 0; i < 10; i++)
		wr32(p + 4 * i, hdr[i]);
	wr32(p + rsv, 0); wr32(p + rsv + 4, 0x80000000); wr32(p + rsv + 12, 0x200000);
	wr32(p + rsv + 16, 0x1); wr32(p + rsv + 20, 0); wr32(p + rsv + 24, 0); wr32(p + rsv + 28, 0x1000);
	memcpy(p + st, b->st, b->slen);
	memcpy(p + strs, b->str, b->strsz);
	*size = tot;
	return p;
}

static uint8_t *build(uint32_t *size)
{
	static struct builder b;

	memset(&b, 0, sizeof(b));
	put32(&b, 4);                           /* NOP before the root */
	begin(&b, "");
	CELLS(&b, "#address-cells", 1);
	CELLS(&b, "#size-cells", 1);
	prop(&b, "compatible", "acme,board\0acme,soc", 19);    /* last entry unterminated */
	put32(&b, 4);
	begin(&b, "foo@1");
	put32(&b, 2);
	begin(&b, "foo");
	CELLS(&b, "reg", 0x1000, 0x100, 0x2000, 0x200);
	CELLS(&b, "#address-cells", 7);
	put32(&b, 2);
	begin(&b, "bar@2");
	CELLS(&b, "linux,phandle", 5);
	prop(&b, "s", "unterminated", 12);
	prop(&b, "empty", "", 0);
	CELLS(&b, "big", 1, 2, 3);
	put32(&b, 2);
	begin(&b, "bar@3");
	CELLS(&b, "phandle", 6);
	put32(&b, 2);
	put32(&b, 4);
	begin(&b, "deep");
	begin(&b, "a");
	begin(&b, "b");
	put32(&b, 4);
	begin(&b, "c");
	put32(&b, 2); put32(&b, 2); put32(&b, 2); put32(&b, 2);    /* c, b, a, deep */
	put32(&b, 2);                           /* root */
	put32(&b, 4);
	put32(&b, 9);
	return finish(&b, size);
}

TEST(synthetic)
{
	uint32_t size, v;
	uint8_t *blob = build(&size);
	int root, foo, foo1, bar2, bar3, c, d, n, len;
	uint64_t a = 0, s = 0;
	const uint8_t *big;

	CHECK_EQ(fdt_init_sized(blob, size), 0);
	root = fdt_root();
	CHECK_EQ(root, 4);                      /* after the NOP */
	CHECK(fdt_is_compatible(root, "acme,board"));
	CHECK(!fdt_is_compatible(root, "acme,soc"));
	CHECK(!fdt_is_compatible(root, "acme"));
	foo1 = fdt_path_offset("/foo@1");
	foo = fdt_path_offset("/foo");
	bar2 = fdt_path_offset("/bar");
	bar3 = fdt_path_offset("/bar@3");
	CHECK(foo1 >= 0 && foo >= 0 && bar2 >= 0 && bar3 >= 0);
	CHECK_EQ(fdt_first_child(root), foo1);
	CHECK_EQ(strcmp(fdt_node_name(foo), "foo"), 0);    /* exact match beats foo@1 */
	CHECK_EQ(strcmp(fdt_node_name(bar2), "bar@2"), 0); /* first of bar@2, bar@3 */
	CHECK(fdt_path_offset("/bar@4") < 0);
	CHECK(fdt_path_offset("/fo") < 0);
	CHECK(fdt_path_offset("/foo@1/x") < 0);
	CHECK_EQ(fdt_next_sibling(foo1), foo);
	CHECK_EQ(fdt_next_sibling(bar2), bar3);

	CHECK(fdt_reg(foo, 0, &a, &s));
	CHECK_EQ(a, 0x1000);
	CHECK_EQ(s, 0x100);
	CHECK(fdt_reg(foo, 1, &a, &s));
	CHECK_EQ(a, 0x2000);
	CHECK_EQ(s, 0x200);
	CHECK(!fdt_reg(foo, 2, &a, &s));
	CHECK_EQ(fdt_address_cells(foo), -1);   /* 7 cells: absurd */
	CHECK_EQ(fdt_address_cells(bar2), 2);   /* defaults */
	CHECK_EQ(fdt_size_cells(bar2), 1);

	CHECK_EQ(fdt_node_by_phandle(5), bar2);
	CHECK_EQ(fdt_node_by_phandle(6), bar3);
	CHECK(fdt_node_by_phandle(7) < 0);
	CHECK(fdt_getprop_str(bar2, "s") == NULL);
	CHECK(fdt_getprop(bar2, "empty", &len) != NULL);
	CHECK_EQ(len, 0);
	CHECK(!fdt_getprop_u32(bar2, "empty", &v));
	CHECK(!fdt_getprop_u32(bar2, "big", &v));
	big = fdt_getprop(bar2, "big", &len);
	CHECK(big && len == 12);
	CHECK_EQ(fdt_read_cells(big, 1), 1);
	CHECK_EQ(fdt_read_cells(big, 2), 0x100000002ull);
	CHECK_EQ(fdt_read_cells(big, 3), 0x200000003ull);
	CHECK_EQ(fdt_read_cells(big, 0), 0);

	c = fdt_path_offset("/deep/a/b/c");
	CHECK(c >= 0);
	CHECK_EQ(fdt_parent(c), fdt_path_offset("/deep/a/b"));
	CHECK_EQ(fdt_parent(fdt_path_offset("/deep")), root);
	for (n = fdt_next_node(-1, &d); n >= 0 && n != c; n = fdt_next_node(n, &d))
		;
	CHECK_EQ(n, c);
	CHECK_EQ(d, 4);
	CHECK(fdt_next_node(c, &d) < 0);        /* last node */

	CHECK(fdt_mem_rsv(0, &a, &s));
	CHECK_EQ(a, 0x80000000);
	CHECK_EQ(s, 0x200000);
	CHECK(fdt_mem_rsv(1, &a, &s));
	CHECK_EQ(a, 0x100000000ull);
	CHECK_EQ(s, 0x1000);
	CHECK(!fdt_mem_rsv(2, &a, &s));
	CHECK(!fdt_mem_rsv(-1, &a, &s));

	/* version 16 has no size_dt_struct: the struct block runs to the end of the blob */
	wr32(blob + 20, 16);
	wr32(blob + 36, 0xdeadbeef);
	CHECK_EQ(fdt_init_sized(blob, size), 0);
	CHECK_EQ(fdt_path_offset("/bar"), bar2);
	wr32(blob + 20, 17);
	CHECK_EQ(fdt_init_sized(blob, size), -1);

	/* a property name offset outside the strings block */
	wr32(blob + 36, size - 40 - 48 - rd32(blob + 32));
	CHECK_EQ(fdt_init_sized(blob, size), 0);
	wr32(blob + rd32(blob + 8) + root + 4 + 4 + 8, 0x7ffffff0);    /* #address-cells nameoff */
	CHECK_EQ(fdt_init_sized(blob, size), -1);
	free(blob);

	/* two roots, a property outside any node, unbalanced END_NODE */
	static const uint32_t bad[][6] = {
		{ 1, 0, 2, 1, 0, 2 },    /* BEGIN "" END BEGIN "" END (then END appended) */
		{ 3, 0, 0, 1, 0, 2 },    /* PROP len 0 before root */
		{ 1, 0, 2, 2, 4, 4 },
		{ 1, 0, 1, 0, 2, 4 },    /* root never closed */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct builder *b = calloc(1, sizeof(*b));
		for (int j = 0; j < 6; j++)
			put32(b, bad[i][j]);
		put32(b, 9);
		b->str[0] = 'x';
		b->strsz = 2;
		blob = finish(b, &size);
		CHECK_EQ(fdt_init_sized(blob, size), -1);
		free(blob);
		free(b);
	}
}

UNIT_TESTS(CASE(header), CASE(traversal), CASE(paths), CASE(memory), CASE(cpus), CASE(uart), CASE(plic),
	   CASE(virtio), CASE(pci), CASE(poweroff), CASE(missing), CASE(bad_handles), CASE(bad_header),
	   CASE(truncated), CASE(fuzz), CASE(synthetic))
