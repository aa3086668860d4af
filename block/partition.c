/*
 * MBR and GPT partition tables (block/partition.h has the interface).
 *
 * MBR: the 0x55aa signature at byte 510 and four 16-byte entries at 446 (type at +4, first block
 * at +8, length at +12, little-endian). Types 0x05/0x0f/0x85 are extended partitions: a chain of
 * EBRs, each holding one logical partition (its start relative to that EBR) and a link to the next
 * EBR (relative to the extended partition's start); logical ones are numbered from 5. Type 0xee in
 * any slot means the disk is GPT (a protective MBR).
 *
 * GPT: the header ("EFI PART") at LBA 1 (or the backup at the last LBA), its CRC32 computed with
 * the CRC field zeroed, then num_entries entries of entry_size bytes from entries_lba whose CRC32
 * must match the header's. An entry with an all-zero type GUID is unused; used entries give first
 * and last LBA (inclusive). Entry i is partition i + 1, as Linux numbers them.
 */
#include "block/partition.h"
#include "kernel/errno.h"
#include "lib/crc32.h"
#include "lib/string.h"

#define MBR_SIG_OFF 510
#define MBR_SIG0 0x55
#define MBR_SIG1 0xaa
#define MBR_TABLE_OFF 446
#define MBR_ENTRY_SIZE 16
#define MBR_NENTRIES 4
#define MBR_TYPE_OFF 4
#define MBR_START_OFF 8
#define MBR_LEN_OFF 12
#define MBR_TYPE_EMPTY 0x00
#define MBR_TYPE_EXT_CHS 0x05
#define MBR_TYPE_EXT_LBA 0x0f
#define MBR_TYPE_EXT_LINUX 0x85
#define MBR_TYPE_GPT 0xee
#define MBR_FIRST_LOGICAL 5
#define MBR_MAX_EBRS 64                   /* a loop in the EBR chain stops here */

#define GPT_SIG "EFI PART"
#define GPT_SIG_LEN 8
#define GPT_HDR_SIZE_OFF 12
#define GPT_HDR_CRC_OFF 16
#define GPT_MY_LBA_OFF 24
#define GPT_ENTRIES_LBA_OFF 72
#define GPT_NUM_ENTRIES_OFF 80
#define GPT_ENTRY_SIZE_OFF 84
#define GPT_ENTRIES_CRC_OFF 88
#define GPT_HDR_MIN 92
#define GPT_ENTRY_MIN 128
#define GPT_MAX_ENTRIES 1024
#define GPT_ENT_FIRST_OFF 32
#define GPT_ENT_LAST_OFF 40
#define GPT_GUID_LEN 16

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

struct parser {
	part_read_t rd;
	void *ctx;
	uint32_t lbsize;
	uint64_t nblocks;
	uint8_t *buf, *buf2;              /* two lbsize blocks of scratch */
	struct part_info *out;
	int max, n;
};

static void add(struct parser *p, int partno, uint64_t start, uint64_t len)
{
	if (!len || start == 0 || start >= p->nblocks || len > p->nblocks - start || p->n >= p->max)
		return;
	p->out[p->n].partno = partno;
	p->out[p->n].start = start;
	p->out[p->n].nblocks = len;
	p->n++;
}

static bool is_extended(uint8_t t) { return t == MBR_TYPE_EXT_CHS || t == MBR_TYPE_EXT_LBA || t == MBR_TYPE_EXT_LINUX; }

static bool mbr_valid(const uint8_t *b) { return b[MBR_SIG_OFF] == MBR_SIG0 && b[MBR_SIG_OFF + 1] == MBR_SIG1; }

/* The logical partitions of the extended partition at ext_start (blocks). */
static int parse_ebrs(struct parser *p, uint64_t ext_start, uint64_t ext_len)
{
	uint64_t ebr = ext_start;
	int partno = MBR_FIRST_LOGICAL;
	for (int hops = 0; hops < MBR_MAX_EBRS; hops++) {
		int r = p->rd(p->ctx, ebr, p->buf2);
		if (r < 0)
			return r;
		if (!mbr_valid(p->buf2))
			return 0;
		const uint8_t *e0 = p->buf2 + MBR_TABLE_OFF, *e1 = e0 + MBR_ENTRY_SIZE;
		if (e0[MBR_TYPE_OFF] != MBR_TYPE_EMPTY && !is_extended(e0[MBR_TYPE_OFF]))
			add(p, partno++, ebr + le32(e0 + MBR_START_OFF), le32(e0 + MBR_LEN_OFF));
		if (!is_extended(e1[MBR_TYPE_OFF]))
			return 0;
		uint64_t next = ext_start + le32(e1 + MBR_START_OFF);
		if (next <= ebr || next >= ext_start + ext_len || next >= p->nblocks)
			return 0;                  /* chains only go forward: no loops */
		ebr = next;
	}
	return 0;
}

static bool guid_zero(const uint8_t *g)
{
	for (int i = 0; i < GPT_GUID_LEN; i++)
		if (g[i])
			return false;
	return true;
}

/* Checks the GPT header in p->buf (read from lba); 0 when it and its entries are sound, then
 * adds the entries. -EINVAL when not. */
static int parse_gpt_at(struct parser *p, uint64_t lba)
{
	int r = p->rd(p->ctx, lba, p->buf);
	if (r < 0)
		return r;
	uint8_t *h = p->buf;
	if (memcmp(h, GPT_SIG, GPT_SIG_LEN))
		return -EINVAL;
	uint32_t hsize = le32(h + GPT_HDR_SIZE_OFF);
	if (hsize < GPT_HDR_MIN || hsize > p->lbsize || le64(h + GPT_MY_LBA_OFF) != lba)
		return -EINVAL;
	uint32_t want = le32(h + GPT_HDR_CRC_OFF);
	memset(h + GPT_HDR_CRC_OFF, 0, 4);
	if (crc32(0, h, hsize) != want)
		return -EINVAL;
	uint64_t elba = le64(h + GPT_ENTRIES_LBA_OFF);
	uint32_t nent = le32(h + GPT_NUM_ENTRIES_OFF), esz = le32(h + GPT_ENTRY_SIZE_OFF);
	uint32_t ecrc = le32(h + GPT_ENTRIES_CRC_OFF);
	if (esz < GPT_ENTRY_MIN || esz > p->lbsize || p->lbsize % esz || nent > GPT_MAX_ENTRIES)
		return -EINVAL;
	uint64_t bytes = (uint64_t)nent * esz, nblk = (bytes + p->lbsize - 1) / p->lbsize;
	if (elba >= p->nblocks || nblk > p->nblocks - elba)
		return -EINVAL;
	/* first pass: the entries' CRC */
	uint32_t crc = 0;
	for (uint64_t i = 0; i < nblk; i++) {
		if ((r = p->rd(p->ctx, elba + i, p->buf2)) < 0)
			return r;
		crc = crc32(crc, p->buf2, MIN((uint64_t)p->lbsize, bytes - i * p->lbsize));
	}
	if (crc != ecrc)
		return -EINVAL;
	/* second pass: the used entries */
	uint32_t per = p->lbsize / esz;
	for (uint64_t i = 0; i < nblk; i++) {
		if ((r = p->rd(p->ctx, elba + i, p->buf2)) < 0)
			return r;
		for (uint32_t k = 0; k < per && i * per + k < nent; k++) {
			const uint8_t *e = p->buf2 + k * esz;
			uint64_t first = le64(e + GPT_ENT_FIRST_OFF), last = le64(e + GPT_ENT_LAST_OFF);
			if (guid_zero(e) || last < first)
				continue;
			add(p, (int)(i * per + k) + 1, first, last - first + 1);
		}
	}
	return 0;
}

int part_parse(part_read_t rd, void *ctx, uint32_t lbsize, uint64_t nblocks, void *scratch,
	       struct part_info *out, int max)
{
	struct parser p = { rd, ctx, lbsize, nblocks, scratch, (uint8_t *)scratch + lbsize, out, max, 0 };
	if (lbsize < 512 || nblocks < 2)
		return 0;
	int r = rd(ctx, 0, p.buf);
	if (r < 0)
		return r;
	if (!mbr_valid(p.buf))
		return 0;
	uint8_t types[MBR_NENTRIES];
	uint64_t starts[MBR_NENTRIES], lens[MBR_NENTRIES];
	bool gpt = false;
	for (int i = 0; i < MBR_NENTRIES; i++) {
		const uint8_t *e = p.buf + MBR_TABLE_OFF + i * MBR_ENTRY_SIZE;
		types[i] = e[MBR_TYPE_OFF];
		starts[i] = le32(e + MBR_START_OFF);
		lens[i] = le32(e + MBR_LEN_OFF);
		gpt |= types[i] == MBR_TYPE_GPT;
	}
	if (gpt) {
		r = parse_gpt_at(&p, 1);
		if (r == -EINVAL) {
			p.n = 0;
			r = parse_gpt_at(&p, nblocks - 1);     /* the backup header */
		}
		if (r < 0)
			p.n = 0;
		return r == -EINVAL ? 0 : (r < 0 ? r : p.n);
	}
	for (int i = 0; i < MBR_NENTRIES; i++)
		if (types[i] != MBR_TYPE_EMPTY)
			add(&p, i + 1, starts[i], lens[i]);
	for (int i = 0; i < MBR_NENTRIES; i++)
		if (is_extended(types[i]) && (r = parse_ebrs(&p, starts[i], lens[i])) < 0)
			return r;
	return p.n;
}
