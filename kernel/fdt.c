/*
 * Flattened device tree reader (Devicetree Specification v0.4, chapter 5).
 *
 * A DTB is a header, a memory reservation block (big-endian u64 address/size pairs ending with
 * 0,0), a structure block and a strings block. The structure block is a stream of big-endian
 * tokens, each starting on a 4-byte boundary:
 *   FDT_BEGIN_NODE name\0 <pad>      FDT_PROP len nameoff value[len] <pad>
 *   FDT_END_NODE     FDT_NOP     FDT_END (once, last)
 * Nodes nest; a node's properties come before its subnodes; nameoff indexes the strings block.
 *
 * The blob is never copied: node handles are offsets of FDT_BEGIN_NODE tokens within the structure
 * block, and property values are pointers into the blob (big-endian, possibly unaligned: decode
 * them with fdt_read_cells). fdt_init checks the header and walks the whole structure block once,
 * so a blob it accepts is well formed. Every token is nevertheless decoded through token(), which
 * bounds-checks it, so a bogus handle from a caller cannot make us read outside the blob either.
 * There are no parent links: fdt_parent rescans from the root (device trees are small).
 */
#include "kernel/types.h"
#include "lib/string.h"
#include "kernel/fdt.h"

#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

#define HDR_V16 36    /* header size up to version 16 */
#define HDR_V17 40    /* version 17 adds size_dt_struct */

static const uint8_t *fdt;        /* the blob, NULL if fdt_init failed */
static const uint8_t *dt_struct;  /* structure block */
static const char *dt_strings;    /* strings block */
static uint32_t total, struct_size, strings_size, rsv_off;

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t be64(const void *p)
{
	return (uint64_t)be32(p) << 32 | be32((const uint8_t *)p + 4);
}

/* Big-endian cells at p; with more than two cells only the low 64 bits survive. */
uint64_t fdt_read_cells(const void *p, int ncells)
{
	uint64_t v = 0;
	for (int i = 0; i < ncells; i++)
		v = v << 32 | be32((const uint8_t *)p + 4 * i);
	return v;
}

/* Is there a NUL within s[0..max)? */
static bool terminated(const char *s, uint32_t max)
{
	return strnlen(s, max) < max;
}

/*
 * Decode the token at structure-block offset off: return its tag and set *next to the offset of the
 * token after it, or return -1 if off does not hold a well-formed token lying wholly inside the
 * structure block (with its property name inside the strings block).
 */
static int token(int off, int *next)
{
	uint32_t o = off, tag, len, nameoff;

	if (off < 0 || (o & 3) || o > struct_size || struct_size - o < 4)
		return -1;
	tag = be32(dt_struct + o);
	o += 4;
	switch (tag) {
	case FDT_BEGIN_NODE:
		if (!terminated((const char *)dt_struct + o, struct_size - o))
			return -1;
		o += strlen((const char *)dt_struct + o) + 1;
		break;
	case FDT_PROP:
		if (struct_size - o < 8)
			return -1;
		len = be32(dt_struct + o);
		nameoff = be32(dt_struct + o + 4);
		o += 8;
		if (len > struct_size - o || nameoff >= strings_size ||
		    !terminated(dt_strings + nameoff, strings_size - nameoff))
			return -1;
		o += len;
		break;
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		break;
	default:
		return -1;
	}
	o = ALIGN_UP(o, 4);    /* no overflow: struct_size <= INT32_MAX */
	if (o > struct_size)
		return -1;
	*next = o;
	return tag;
}

/* Offset of the first token inside node (just past its name), or -1 if node is not a node. */
static int node_body(int node)
{
	int next;
	return token(node, &next) == FDT_BEGIN_NODE ? next : -1;
}

/* Offset just past node's FDT_END_NODE, or -1. */
static int node_end(int node)
{
	int off = node, next, depth = 0;

	if (node_body(node) < 0)
		return -1;
	for (;;) {
		switch (token(off, &next)) {
		case FDT_BEGIN_NODE:
			depth++;
			break;
		case FDT_END_NODE:
			if (--depth == 0)
				return next;
			break;
		case FDT_PROP:
		case FDT_NOP:
			break;
		default:
			return -1;
		}
		off = next;
	}
}

/* Exactly one root node, balanced nesting, properties only inside nodes, FDT_END last. */
static int check_struct(void)
{
	int off = 0, next, depth = 0;
	bool root_done = false;

	for (;;) {
		switch (token(off, &next)) {
		case FDT_BEGIN_NODE:
			if (root_done)
				return -1;
			depth++;
			break;
		case FDT_END_NODE:
			if (depth == 0)
				return -1;
			if (--depth == 0)
				root_done = true;
			break;
		case FDT_PROP:
			if (depth == 0)
				return -1;
			break;
		case FDT_NOP:
			break;
		case FDT_END:
			return root_done ? 0 : -1;
		default:
			return -1;
		}
		off = next;
	}
}

/* The reservation block must end with a 0,0 entry inside the blob. */
static int check_rsv(void)
{
	for (uint32_t off = rsv_off; total - off >= 16; off += 16)
		if (be64(fdt + off) == 0 && be64(fdt + off + 8) == 0)
			return 0;
	return -1;
}

/* Is [off, off+size) inside a blob of total bytes, not overlapping a header of hdr bytes? */
static bool in_blob(uint32_t off, uint32_t size, uint32_t hdr, uint32_t tot)
{
	return off >= hdr && off <= tot && size <= tot - off;
}

/*
 * Validate the blob and make it the current tree. bufsize bounds what the header may claim; the
 * header is only read once we know the first HDR_V17 bytes are in it.
 */
int fdt_init_sized(const void *blob, size_t bufsize)
{
	const uint8_t *h = blob;
	uint32_t tot, ver, hdr, off_struct, off_strings, ssize;

	fdt = NULL;
	total = struct_size = strings_size = rsv_off = 0;
	if (!h || bufsize < 8 || be32(h) != FDT_MAGIC)
		return -1;
	tot = be32(h + 4);
	if (tot < HDR_V17 || tot > bufsize || tot > INT32_MAX)
		return -1;
	ver = be32(h + 20);
	if (ver < 16 || be32(h + 24) > 17)    /* last_comp_version: we read v16/v17 layouts */
		return -1;
	hdr = ver >= 17 ? HDR_V17 : HDR_V16;
	off_struct = be32(h + 8);
	off_strings = be32(h + 12);
	rsv_off = be32(h + 16);
	ssize = ver >= 17 ? be32(h + 36) : tot - MIN(off_struct, tot);
	if ((off_struct & 3) || (rsv_off & 7) || !in_blob(off_struct, ssize, hdr, tot) ||
	    !in_blob(off_strings, be32(h + 32), hdr, tot) || !in_blob(rsv_off, 0, hdr, tot))
		return -1;

	fdt = h;
	total = tot;
	dt_struct = h + off_struct;
	struct_size = ssize;
	dt_strings = (const char *)h + off_strings;
	strings_size = be32(h + 32);
	if (check_struct() < 0 || check_rsv() < 0) {
		fdt = NULL;
		total = struct_size = strings_size = rsv_off = 0;
		return -1;
	}
	return 0;
}

/* Trusts the header's totalsize (firmware gives us no other bound). */
int fdt_init(const void *blob)
{
	return fdt_init_sized(blob, INT32_MAX);
}

uint32_t fdt_totalsize(void)
{
	return total;
}

int fdt_root(void)
{
	int off = 0, next, tag;

	while ((tag = token(off, &next)) == FDT_NOP)
		off = next;
	return tag == FDT_BEGIN_NODE ? off : -1;
}

int fdt_first_child(int node)
{
	int off = node_body(node), next, tag;

	if (off < 0)
		return -1;
	while ((tag = token(off, &next)) == FDT_PROP || tag == FDT_NOP)
		off = next;
	return tag == FDT_BEGIN_NODE ? off : -1;
}

int fdt_next_sibling(int node)
{
	int off = node_end(node), next, tag;

	if (off < 0)
		return -1;
	while ((tag = token(off, &next)) == FDT_NOP)
		off = next;
	return tag == FDT_BEGIN_NODE ? off : -1;
}

/* Document order; *depth (if given) is node's depth on entry and the result's on return. */
int fdt_next_node(int node, int *depth)
{
	int off, next, d = -1;

	if (node < 0) {
		off = 0;
	} else {
		if ((off = node_body(node)) < 0)
			return -1;
		if (depth)
			d = *depth;
	}
	for (;;) {
		switch (token(off, &next)) {
		case FDT_BEGIN_NODE:
			if (depth)
				*depth = d + 1;
			return off;
		case FDT_END_NODE:
			d--;
			break;
		case FDT_PROP:
		case FDT_NOP:
			break;
		default:    /* FDT_END or garbage */
			return -1;
		}
		off = next;
	}
}

/* The last node before `node` (in document order) one level up; handles grow in document order. */
int fdt_parent(int node)
{
	int n, d, want, parent = -1;

	for (n = fdt_next_node(-1, &d); n >= 0 && n != node; n = fdt_next_node(n, &d))
		;
	if (n < 0 || d == 0)
		return -1;
	want = d - 1;
	for (n = fdt_next_node(-1, &d); n >= 0 && n < node; n = fdt_next_node(n, &d))
		if (d == want)
			parent = n;
	return parent;
}

const char *fdt_node_name(int node)
{
	return node_body(node) < 0 ? NULL : (const char *)dt_struct + node + 4;
}

const void *fdt_getprop(int node, const char *name, int *len)
{
	int off = node_body(node), next, tag;

	if (off < 0)
		return NULL;
	while ((tag = token(off, &next)) == FDT_PROP || tag == FDT_NOP) {
		/* token() checked the layout: len at +4, nameoff at +8, value at +12 */
		if (tag == FDT_PROP && strcmp(dt_strings + be32(dt_struct + off + 8), name) == 0) {
			if (len)
				*len = be32(dt_struct + off + 4);
			return dt_struct + off + 12;
		}
		off = next;
	}
	return NULL;
}

bool fdt_getprop_u32(int node, const char *name, uint32_t *out)
{
	int len;
	const void *p = fdt_getprop(node, name, &len);

	if (!p || len != 4)
		return false;
	*out = be32(p);
	return true;
}

const char *fdt_getprop_str(int node, const char *name)
{
	int len;
	const char *p = fdt_getprop(node, name, &len);

	return p && len > 0 && p[len - 1] == '\0' ? p : NULL;
}

bool fdt_is_compatible(int node, const char *compat)
{
	int len;
	const char *p = fdt_getprop(node, "compatible", &len);
	size_t clen = strlen(compat), l;

	/* a stringlist: "a\0b\0"; an unterminated tail is ignored */
	for (; p && len > 0; p += l + 1, len -= l + 1) {
		l = strnlen(p, len);
		if (l == (size_t)len)
			break;
		if (l == clen && memcmp(p, compat, l) == 0)
			return true;
	}
	return false;
}

int fdt_find_compatible(int after, const char *compat)
{
	int n = after < 0 ? -1 : after;

	while ((n = fdt_next_node(n, NULL)) >= 0)
		if (fdt_is_compatible(n, compat))
			return n;
	return -1;
}

/*
 * Components are matched against child names: exactly, or, for a component without a unit
 * address, against the part before '@' (first such child wins; an exact match beats it).
 */
int fdt_path_offset(const char *path)
{
	int node = fdt_root(), match, c;
	const char *end, *name;
	size_t len;
	bool unit;

	if (!path || path[0] != '/')
		return -1;
	while (node >= 0) {
		while (*path == '/')
			path++;
		if (*path == '\0')
			return node;
		end = strchr(path, '/');
		len = end ? (size_t)(end - path) : strlen(path);
		unit = false;
		for (size_t i = 0; i < len; i++)
			unit |= path[i] == '@';
		match = -1;
		for (c = fdt_first_child(node); c >= 0; c = fdt_next_sibling(c)) {
			name = fdt_node_name(c);
			/* equal first len chars => name has at least len chars, name[len] is valid */
			if (strncmp(name, path, len) != 0)
				continue;
			if (name[len] == '\0') {
				match = c;
				break;
			}
			if (name[len] == '@' && !unit && match < 0)
				match = c;
		}
		node = match;
		path += len;
	}
	return -1;
}

int fdt_node_by_phandle(uint32_t phandle)
{
	uint32_t v;

	if (phandle == 0 || phandle == 0xffffffff)
		return -1;
	for (int n = fdt_next_node(-1, NULL); n >= 0; n = fdt_next_node(n, NULL))
		if ((fdt_getprop_u32(n, "phandle", &v) || fdt_getprop_u32(n, "linux,phandle", &v)) &&
		    v == phandle)
			return n;
	return -1;
}

/* A #...-cells property of node, def if absent, -1 if node is bad or the value absurd (> 4). */
static int cells(int node, const char *name, int def)
{
	uint32_t v;

	if (node_body(node) < 0)
		return -1;
	if (!fdt_getprop_u32(node, name, &v))
		return def;
	return v <= 4 ? (int)v : -1;
}

int fdt_address_cells(int node)
{
	return cells(node, "#address-cells", 2);
}

int fdt_size_cells(int node)
{
	return cells(node, "#size-cells", 1);
}

bool fdt_reg(int node, int index, uint64_t *addr, uint64_t *size)
{
	int parent = fdt_parent(node), ac, sc, len, entry;
	const uint8_t *p;

	if (parent < 0)
		return false;
	ac = fdt_address_cells(parent);
	sc = fdt_size_cells(parent);
	if (ac < 1 || ac > 2 || sc < 0 || sc > 2)
		return false;
	entry = 4 * (ac + sc);
	p = fdt_getprop(node, "reg", &len);
	if (!p || index < 0 || index >= len / entry)
		return false;
	p += index * entry;
	if (addr)
		*addr = fdt_read_cells(p, ac);
	if (size)
		*size = fdt_read_cells(p + 4 * ac, sc);
	return true;
}

bool fdt_mem_rsv(int index, uint64_t *addr, uint64_t *size)
{
	uint64_t a, s;

	if (!fdt || index < 0)
		return false;
	for (uint32_t off = rsv_off, i = 0; total - off >= 16; off += 16, i++) {
		a = be64(fdt + off);
		s = be64(fdt + off + 8);
		if (a == 0 && s == 0)
			return false;
		if (i == (uint32_t)index) {
			if (addr)
				*addr = a;
			if (size)
				*size = s;
			return true;
		}
	}
	return false;
}
