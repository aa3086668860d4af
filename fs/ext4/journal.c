/*
 * JBD2 journal replay at mount (what Linux's fs/jbd2/recovery.c does, written afresh).
 *
 * The journal is the file of inode s_journal_inum: block 0 holds the journal superblock, blocks
 * [s_first, s_maxlen) a circular log. All journal fields are big-endian. The log is a sequence
 * of transactions, each: descriptor blocks (a tag per following data block: which file-system
 * block it is a new copy of), the data blocks, revoke blocks (file-system blocks whose earlier
 * copies must not be replayed), then a commit block. Every journal block starts with a header
 * {magic, type, sequence}; s_start and s_sequence say where the oldest transaction still needed
 * starts (s_start == 0: nothing to replay).
 *
 * Three passes over the log, as Linux: SCAN finds the last complete (committed, checksums right)
 * transaction; REVOKE collects revoke records with the sequence that revoked them; REPLAY writes
 * each tagged data block to its home unless a revoke at the same or a later sequence covers it.
 * Checksums (csum v2/v3: crc32c seeded by the journal uuid) are verified on descriptor, revoke,
 * commit and data blocks. Afterwards the journal is marked empty (s_start = 0, s_sequence past
 * the last transaction) and the caller clears needs_recovery.
 *
 * Everything read is bounds-checked: a damaged journal makes the mount fail with -EUCLEAN (or is
 * treated as the end of the log, as Linux does for a commit block with a bad checksum); it can
 * never make us write outside the file system.
 */
#include "fs/ext4/ext4_fs.h"

#define JBD2_MAGIC              0xC03B3998u
#define JBD2_DESCRIPTOR_BLOCK   1
#define JBD2_COMMIT_BLOCK       2
#define JBD2_SUPERBLOCK_V1      3
#define JBD2_SUPERBLOCK_V2      4
#define JBD2_REVOKE_BLOCK       5
#define JBD2_FLAG_ESCAPE        1
#define JBD2_FLAG_SAME_UUID     2
#define JBD2_FLAG_LAST_TAG      8
#define JBD2_INCOMPAT_REVOKE    0x01
#define JBD2_INCOMPAT_64BIT     0x02
#define JBD2_INCOMPAT_ASYNC     0x04
#define JBD2_INCOMPAT_CSUM_V2   0x08
#define JBD2_INCOMPAT_CSUM_V3   0x10
#define JBD2_INCOMPAT_KNOWN     (JBD2_INCOMPAT_REVOKE | JBD2_INCOMPAT_64BIT | JBD2_INCOMPAT_ASYNC | \
				 JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3)
#define JBD2_HDR_SIZE           12
#define JBD2_UUID_SIZE          16
#define JBD2_TAIL_SIZE          4
#define JBD2_REVOKE_HDR_SIZE    16
#define JBD2_SB_SIZE            1024
#define JBD2_COMMIT_CSUM_OFF    16      /* h_chksum[0] in the commit block */
#define JBD2_MAX_REVOKES        65536

/* journal superblock field offsets */
#define JSB_BLOCKSIZE   0x0C
#define JSB_MAXLEN      0x10
#define JSB_FIRST       0x14
#define JSB_SEQUENCE    0x18
#define JSB_START       0x1C
#define JSB_INCOMPAT    0x28
#define JSB_UUID        0x30
#define JSB_CHECKSUM    0xFC

static uint32_t be32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return swab32(v); }
static uint16_t be16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return swab16(v); }
static void put_be32(uint8_t *p, uint32_t v) { v = swab32(v); memcpy(p, &v, 4); }
static bool seq_after(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

struct revoke { uint64_t blk; uint32_t seq; };

struct journal {
	struct ext4_fs *fs;
	struct ext4_iref *ir;
	uint8_t *sb;                 /* journal superblock block */
	uint32_t maxlen, first, start, sequence, incompat;
	uint32_t csum_seed;
	bool csum;                   /* v2 or v3 */
	uint32_t tag_bytes;
	struct revoke *rv;
	uint32_t nrv, rvcap;
	uint32_t end_seq;            /* first sequence not to replay */
	uint32_t replayed;
	bool bad;                    /* a data block failed its checksum */
};

static int jread(struct journal *j, uint32_t lblk, uint8_t *buf)
{
	uint64_t pblk;
	uint32_t run;
	bool uw;
	if (lblk >= j->maxlen)
		return ext4_corrupt(j->fs);
	int r = ext4_ext_map(j->fs, j->ir, lblk, &pblk, &run, &uw);
	if (r < 0)
		return r;
	if (!pblk || uw)
		return ext4_corrupt(j->fs);
	return ext4_bread(j->fs, pblk, buf);
}

static uint32_t jnext(struct journal *j, uint32_t b)
{
	return b + 1 >= j->maxlen ? j->first : b + 1;
}

/* crc32c(seed, block with the 4 bytes at csum_off read as zero) */
static uint32_t block_csum(struct journal *j, uint8_t *buf, uint32_t csum_off)
{
	uint8_t save[4];
	memcpy(save, buf + csum_off, 4);
	memset(buf + csum_off, 0, 4);
	uint32_t c = ext4_csum(j->fs, j->csum_seed, buf, j->fs->bs);
	memcpy(buf + csum_off, save, 4);
	return c;
}

static bool tail_csum_ok(struct journal *j, uint8_t *buf)
{
	if (!j->csum)
		return true;
	return block_csum(j, buf, j->fs->bs - JBD2_TAIL_SIZE) == be32(buf + j->fs->bs - JBD2_TAIL_SIZE);
}

static int load(struct journal *j)
{
	struct ext4_fs *fs = j->fs;
	uint8_t *sb = j->sb;
	j->maxlen = 1;                       /* until the superblock says how long the log is */
	int r = jread(j, 0, sb);
	if (r < 0)
		return r;
	uint32_t type = be32(sb + 4);
	if (be32(sb) != JBD2_MAGIC || (type != JBD2_SUPERBLOCK_V1 && type != JBD2_SUPERBLOCK_V2))
		return ext4_corrupt(fs);
	j->maxlen = be32(sb + JSB_MAXLEN);
	j->first = be32(sb + JSB_FIRST);
	j->start = be32(sb + JSB_START);
	j->sequence = be32(sb + JSB_SEQUENCE);
	j->incompat = type == JBD2_SUPERBLOCK_V2 ? be32(sb + JSB_INCOMPAT) : 0;
	uint64_t have = ext4_isize(j->ir) >> fs->log_bs;
	if (be32(sb + JSB_BLOCKSIZE) != fs->bs || j->maxlen > have || j->first == 0 || j->first >= j->maxlen ||
	    (j->start && (j->start < j->first || j->start >= j->maxlen)))
		return ext4_corrupt(fs);
	if (j->incompat & ~JBD2_INCOMPAT_KNOWN)
		return -EINVAL;              /* fast commits and the like: not ours to replay */
	j->csum = j->incompat & (JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3);
	j->csum_seed = ext4_csum(fs, ~0u, sb + JSB_UUID, JBD2_UUID_SIZE);
	if (j->csum) {
		uint8_t save[4];
		memcpy(save, sb + JSB_CHECKSUM, 4);
		memset(sb + JSB_CHECKSUM, 0, 4);
		uint32_t c = ext4_csum(fs, ~0u, sb, JBD2_SB_SIZE);
		memcpy(sb + JSB_CHECKSUM, save, 4);
		if (c != be32(save))
			return ext4_corrupt(fs);
	}
	if (j->incompat & JBD2_INCOMPAT_CSUM_V3)
		j->tag_bytes = 16;
	else
		j->tag_bytes = 8 + ((j->incompat & JBD2_INCOMPAT_64BIT) ? 4 : 0) +
			       ((j->incompat & JBD2_INCOMPAT_CSUM_V2) ? 2 : 0);
	return 0;
}

struct tag { uint64_t blk; uint32_t flags; uint32_t csum; };

/* The tags of a descriptor block, one call per tag; returns false after the last. */
static bool next_tag(struct journal *j, const uint8_t *buf, uint32_t *off, struct tag *t)
{
	uint32_t end = j->fs->bs - (j->csum ? JBD2_TAIL_SIZE : 0);
	if (*off + j->tag_bytes > end)
		return false;
	const uint8_t *p = buf + *off;
	t->blk = be32(p);
	if (j->incompat & JBD2_INCOMPAT_CSUM_V3) {
		t->flags = be32(p + 4);
		if (j->incompat & JBD2_INCOMPAT_64BIT)
			t->blk |= (uint64_t)be32(p + 8) << 32;
		t->csum = be32(p + 12);
	} else {
		t->csum = be16(p + 4);
		t->flags = be16(p + 6);
		if (j->incompat & JBD2_INCOMPAT_64BIT)
			t->blk |= (uint64_t)be32(p + 8) << 32;
	}
	*off += j->tag_bytes + ((t->flags & JBD2_FLAG_SAME_UUID) ? 0 : JBD2_UUID_SIZE);
	return true;
}

static int add_revoke(struct journal *j, uint64_t blk, uint32_t seq)
{
	for (uint32_t i = 0; i < j->nrv; i++)
		if (j->rv[i].blk == blk) {
			if (seq_after(seq, j->rv[i].seq))
				j->rv[i].seq = seq;
			return 0;
		}
	if (j->nrv == j->rvcap) {
		if (j->rvcap >= JBD2_MAX_REVOKES)
			return ext4_corrupt(j->fs);
		uint32_t cap = j->rvcap ? j->rvcap * 2 : 64;
		struct revoke *n = ext4_malloc(cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		if (j->rv)
			memcpy(n, j->rv, j->nrv * sizeof(*n));
		ext4_free(j->rv);
		j->rv = n;
		j->rvcap = cap;
	}
	j->rv[j->nrv++] = (struct revoke){ blk, seq };
	return 0;
}

static bool revoked(struct journal *j, uint64_t blk, uint32_t seq)
{
	for (uint32_t i = 0; i < j->nrv; i++)
		if (j->rv[i].blk == blk)
			return !seq_after(seq, j->rv[i].seq);
	return false;
}

enum { PASS_SCAN, PASS_REVOKE, PASS_REPLAY };

static int one_pass(struct journal *j, int pass, uint8_t *buf, uint8_t *data)
{
	struct ext4_fs *fs = j->fs;
	uint32_t blk = j->start, seq = j->sequence;
	/* Each pass reads at most the whole log once per transaction it finds. */
	for (uint64_t steps = 0; steps <= (uint64_t)j->maxlen * 2; steps++) {
		if (pass != PASS_SCAN && !seq_after(j->end_seq, seq))
			return 0;
		int r = jread(j, blk, buf);
		if (r < 0)
			return r;
		if (be32(buf) != JBD2_MAGIC || be32(buf + 8) != seq)
			break;                               /* the end of the log */
		uint32_t type = be32(buf + 4);
		blk = jnext(j, blk);
		if (type == JBD2_DESCRIPTOR_BLOCK) {
			if (!tail_csum_ok(j, buf)) {
				if (pass == PASS_SCAN)
					break;
				return ext4_corrupt(fs);
			}
			uint32_t off = JBD2_HDR_SIZE;
			struct tag t;
			while (next_tag(j, buf, &off, &t)) {
				if (pass == PASS_REPLAY) {
					r = jread(j, blk, data);
					if (r < 0)
						return r;
					bool ok = true;
					if (j->csum) {
						uint32_t be = swab32(seq);
						uint32_t c = ext4_csum(fs, j->csum_seed, &be, 4);
						c = ext4_csum(fs, c, data, fs->bs);
						ok = (j->incompat & JBD2_INCOMPAT_CSUM_V3) ? c == t.csum
											   : (c & 0xffff) == t.csum;
					}
					if (t.blk >= fs->blocks_count || t.blk < fs->first_data_block) {
						return ext4_corrupt(fs);
					} else if (!ok) {
						j->bad = true;              /* as Linux: skip it, fail the mount */
					} else if (!revoked(j, t.blk, seq)) {
						if (t.flags & JBD2_FLAG_ESCAPE)
							put_be32(data, JBD2_MAGIC);
						r = ext4_bwrite(fs, t.blk, data);
						if (r < 0)
							return r;
						j->replayed++;
					}
				}
				blk = jnext(j, blk);
				if (t.flags & JBD2_FLAG_LAST_TAG)
					break;
			}
		} else if (type == JBD2_COMMIT_BLOCK) {
			if (j->csum && block_csum(j, buf, JBD2_COMMIT_CSUM_OFF) != be32(buf + JBD2_COMMIT_CSUM_OFF)) {
				if (pass == PASS_SCAN)
					break;                       /* an unfinished commit ends the log */
				return ext4_corrupt(fs);
			}
			seq++;
		} else if (type == JBD2_REVOKE_BLOCK) {
			if (!tail_csum_ok(j, buf)) {
				if (pass == PASS_SCAN)
					break;
				return ext4_corrupt(fs);
			}
			if (pass == PASS_REVOKE) {
				uint32_t count = be32(buf + JBD2_HDR_SIZE);
				uint32_t rsz = (j->incompat & JBD2_INCOMPAT_64BIT) ? 8 : 4;
				uint32_t lim = fs->bs - (j->csum ? JBD2_TAIL_SIZE : 0);
				if (count > lim || count < JBD2_REVOKE_HDR_SIZE)
					return ext4_corrupt(fs);
				for (uint32_t o = JBD2_REVOKE_HDR_SIZE; o + rsz <= count; o += rsz) {
					uint64_t b = rsz == 8 ? ((uint64_t)be32(buf + o) << 32) | be32(buf + o + 4)
							      : be32(buf + o);
					r = add_revoke(j, b, seq);
					if (r < 0)
						return r;
				}
			}
		} else {
			break;
		}
	}
	if (pass == PASS_SCAN)
		j->end_seq = seq;
	return 0;
}

/* Replay the journal if the superblock says it needs it; 0 when there is nothing to do. */
int ext4_journal_recover(struct ext4_fs *fs, uint32_t *replayed)
{
	*replayed = 0;
	if (!(fs->sb.s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL) || !fs->sb.s_journal_inum)
		return 0;
	if (fs->sb.s_journal_inum > fs->sb.s_inodes_count)
		return ext4_corrupt(fs);
	struct journal j = { .fs = fs };
	int r = ext4_iget(fs, fs->sb.s_journal_inum, &j.ir);
	if (r < 0)
		return r;
	j.sb = ext4_malloc(fs->bs);
	uint8_t *buf = ext4_malloc(fs->bs), *data = ext4_malloc(fs->bs);
	r = -ENOMEM;
	if (!j.sb || !buf || !data)
		goto out;
	r = -EUCLEAN;
	if (!(j.ir->i.i_flags & EXT4_EXTENTS_FL) || (j.ir->i.i_flags & EXT4_INLINE_DATA_FL))
		goto out;
	r = load(&j);
	if (r < 0 || j.start == 0)
		goto out;
	r = one_pass(&j, PASS_SCAN, buf, data);
	if (r == 0)
		r = one_pass(&j, PASS_REVOKE, buf, data);
	if (r == 0)
		r = one_pass(&j, PASS_REPLAY, buf, data);
	if (r == 0 && j.bad)
		r = ext4_corrupt(fs);
	if (r < 0)
		goto out;
	if (fs->bd->flush && (r = fs->bd->flush(fs->bd)) < 0)
		goto out;
	/* The log is empty now: the next transaction starts after the last one replayed. */
	put_be32(j.sb + JSB_SEQUENCE, j.end_seq);
	put_be32(j.sb + JSB_START, 0);
	if (j.csum) {
		memset(j.sb + JSB_CHECKSUM, 0, 4);
		put_be32(j.sb + JSB_CHECKSUM, ext4_csum(fs, ~0u, j.sb, JBD2_SB_SIZE));
	}
	uint64_t pblk;
	uint32_t run;
	bool uw;
	r = ext4_ext_map(fs, j.ir, 0, &pblk, &run, &uw);
	if (r == 0)
		r = pblk ? ext4_bwrite(fs, pblk, j.sb) : ext4_corrupt(fs);
	*replayed = j.replayed;
out:
	ext4_free(j.rv);
	ext4_free(j.sb);
	ext4_free(buf);
	ext4_free(data);
	ext4_iput(j.ir);
	return r;
}

/*
 * Writing metadata through the journal.
 *
 * Each public write operation (namei.c) is one transaction: between ext4_tx_begin and
 * ext4_tx_end every metadata block write (ext4_bwrite) lands in an in-memory list instead of
 * its home, and reads (ext4_bread) see the list first. File data (and brand-new directory or
 * symlink blocks, which nothing references before the commit) go straight to their homes
 * first: ordered mode. At the end of the operation:
 *   1. descriptor block(s) and copies of the blocks go to the log, starting at s_first;
 *      the journal superblock gets s_start = s_first, s_sequence = this transaction; flush;
 *   2. the commit block; flush (the transaction now survives a crash: replay redoes it);
 *   3. every block to its home; flush;
 *   4. the journal superblock says the log is empty again (s_start = 0, next sequence).
 * Batching (ext4_journal_batch, the VFS turns it on): an operation's end no longer commits; the
 * running transaction gathers the blocks of many operations, each whole (an operation starts a
 * new transaction first when less than half the log's room is left), and is committed by
 * ext4_journal_commit (fsync, sync, umount), by an operation ending when the transaction is
 * older than JNL_BATCH_AGE_S, or when full: Linux's JBD2 commit interval. A crash then loses
 * the operations of the running transaction, never a part of one, and never anything a sync
 * had returned for. Blocks freed in the running transaction must not be reused before it
 * commits (a new owner's data, written straight home, would land in blocks the committed
 * metadata still gives to the old owner): alloc.c keeps them in per-group pending bitmaps,
 * which the commit clears (ext4_pending_clear).
 * Costs per operation, kept low because a batched transaction takes thousands of them: the
 * copies are found through a hash of their block numbers; an inode write patches its copy in
 * place (ext4_bpatch); the superblock (free counters, orphan list head) joins the transaction
 * once, when it commits (super_to_tx); and the checksums of bitmaps (kept in their group
 * descriptors) and directory leaves put into it are computed once, by the commit, before the
 * log is written (ext4_bwrite_csum_later, tx_csum_all: jbd2's commit-time triggers); until
 * then such a copy carries a stale checksum, which every reader takes as good (it is our own
 * copy: ext4_csum_known_good).
 * So the log holds at most one transaction and is always replayed from s_first; there is
 * nothing to revoke (a block freed by the operation is dropped from the list, ext4_tx_forget),
 * and a crash anywhere leaves either the old or the new metadata. While mounted the superblock
 * carries needs_recovery, as Linux's does. An operation bigger than half the log (a huge write,
 * fallocate or truncate, freeing a huge file) is split by its loop into several transactions at
 * points where the file is valid (ext4_tx_restart: a prefix of a write, part of a fallocate, a
 * truncation done from the end down to some size, an unlinked file on the orphan list partly
 * freed), as Linux restarts its handles; a crash leaves one of those states, never a broken one.
 * Only an operation that still fills the whole log by itself (more than max_tx blocks between
 * two such points) is cut wherever it is, as a last resort.
 */
#define JNL_MAX_TX        1024          /* blocks per transaction, whatever the log size */
#define JNL_BATCH_AGE_S   5             /* a batched transaction commits once this old */
#define JNL_HASH_BITS     11            /* buckets of the block -> copy index: 2 per block of max_tx */
#define JNL_HASH          (1u << JNL_HASH_BITS)
_Static_assert(JNL_HASH >= 2 * JNL_MAX_TX, "short chains");

/* next: the following copy of the same hash bucket (index into tx, -1: none); csum: EXT4_TXC_*
 * (0: the copy's checksums are right), what the commit must compute, with csum_arg */
struct tx_block { uint64_t blk; uint8_t *data; int32_t next; uint8_t csum; uint32_t csum_arg; bool home_only; };

struct ext4_jnl {
	struct journal j;                /* geometry, checksums (the replay's view) */
	uint64_t sb_pblk;                /* where the journal superblock lives */
	uint32_t seq;                    /* sequence of the next transaction */
	uint32_t tags_per_desc;
	uint32_t max_tx;
	struct tx_block *tx;
	uint32_t ntx, cap;
	int32_t *hash;                   /* JNL_HASH chain heads into tx (-1: empty): every copy is on its chain */
	uint32_t ndata;                  /* copies that are home_only (ext4_tx_data_put), not logged */
	int depth;                       /* nesting of ext4_tx_begin */
	uint8_t *buf;
	bool batch;                      /* commit lazily (see above) */
	int64_t opened;                  /* seconds (fs clock) of the running transaction's first block */
	uint32_t commits;                /* transactions committed (tests) */
};

static uint32_t jnl_tag_space(struct journal *j)
{
	return j->fs->bs - JBD2_HDR_SIZE - (j->csum ? JBD2_TAIL_SIZE : 0) - JBD2_UUID_SIZE;
}

int ext4_journal_start(struct ext4_fs *fs)
{
	fs->jnl = NULL;
	if (!(fs->sb.s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL) || !fs->sb.s_journal_inum ||
	    fs->sb.s_journal_inum > fs->sb.s_inodes_count)
		return 0;
	struct ext4_jnl *n = ext4_zalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->j.fs = fs;
	n->j.sb = ext4_malloc(fs->bs);
	n->buf = ext4_malloc(fs->bs);
	n->hash = ext4_malloc(JNL_HASH * sizeof(*n->hash));
	int r = -ENOMEM;
	if (!n->j.sb || !n->buf || !n->hash)
		goto fail;
	memset(n->hash, 0xff, JNL_HASH * sizeof(*n->hash));
	r = ext4_iget(fs, fs->sb.s_journal_inum, &n->j.ir);
	if (r < 0)
		goto fail;
	r = -EUCLEAN;
	if (!(n->j.ir->i.i_flags & EXT4_EXTENTS_FL) || (n->j.ir->i.i_flags & EXT4_INLINE_DATA_FL))
		goto fail;
	r = load(&n->j);
	if (r < 0)
		goto fail;
	if (n->j.start != 0 || be32(n->j.sb + 4) != JBD2_SUPERBLOCK_V2 ||
	    (fs->blocks_count > 0xffffffffull && !(n->j.incompat & JBD2_INCOMPAT_64BIT))) {
		r = 0;                           /* not a journal we can write: stay in place */
		goto fail;
	}
	uint32_t run;
	bool uw;
	r = ext4_ext_map(fs, n->j.ir, 0, &n->sb_pblk, &run, &uw);
	if (r < 0 || !n->sb_pblk) {
		r = r < 0 ? r : ext4_corrupt(fs);
		goto fail;
	}
	n->seq = n->j.sequence;
	n->tags_per_desc = jnl_tag_space(&n->j) / n->j.tag_bytes;
	uint32_t log = n->j.maxlen - n->j.first;
	/* room for the copies, their descriptors and the commit block; the spare blocks also cover
	 * what the commit may add to a full transaction: the superblock (super_to_tx), a group
	 * descriptor block (gd_csum_to_tx) and a descriptor block for them */
	n->max_tx = log > 16 ? (uint32_t)((uint64_t)(log - 8) * n->tags_per_desc / (n->tags_per_desc + 1)) : 0;
	if (n->max_tx > JNL_MAX_TX)
		n->max_tx = JNL_MAX_TX;
	if (n->max_tx < 16) {
		r = 0;
		goto fail;
	}
	fs->jnl = n;
	return 0;
fail:
	ext4_iput(n->j.ir);
	ext4_free(n->j.sb);
	ext4_free(n->buf);
	ext4_free(n->hash);
	ext4_free(n);
	return r;
}

bool ext4_tx_active(struct ext4_fs *fs)
{
	return fs->jnl && fs->jnl->depth > 0;
}

static uint32_t tx_bucket(uint64_t blk)
{
	return (uint32_t)((blk * 0x9E3779B97F4A7C15ull) >> (64 - JNL_HASH_BITS));
}

static struct tx_block *tx_find(struct ext4_jnl *n, uint64_t blk)
{
	for (int32_t i = n->hash[tx_bucket(blk)]; i >= 0; i = n->tx[i].next)
		if (n->tx[i].blk == blk)
			return &n->tx[i];
	return NULL;
}

static void tx_link(struct ext4_jnl *n, uint32_t i)
{
	uint32_t h = tx_bucket(n->tx[i].blk);
	n->tx[i].next = n->hash[h];
	n->hash[h] = (int32_t)i;
}

uint8_t *ext4_tx_block(struct ext4_fs *fs, uint64_t blk)
{
	struct tx_block *t = tx_find(fs->jnl, blk);
	return t ? t->data : NULL;
}

bool ext4_tx_get(struct ext4_fs *fs, uint64_t blk, void *buf)
{
	struct tx_block *t = tx_find(fs->jnl, blk);
	if (t)
		memcpy(buf, t->data, fs->bs);
	return t != NULL;
}

void ext4_tx_forget(struct ext4_fs *fs, uint64_t first, uint32_t count)
{
	struct ext4_jnl *n = fs->jnl;
	bool moved = false;
	for (uint32_t i = 0; i < n->ntx;) {
		if (n->tx[i].blk >= first && n->tx[i].blk - first < count) {
			if (n->tx[i].home_only)
				n->ndata--;              /* freed before it was written: never written */
			ext4_bfree(fs, n->tx[i].data);
			n->tx[i] = n->tx[--n->ntx];
			moved = true;
		} else {
			i++;
		}
	}
	if (moved) {                             /* indices changed: chain them again */
		memset(n->hash, 0xff, JNL_HASH * sizeof(*n->hash));
		for (uint32_t i = 0; i < n->ntx; i++)
			tx_link(n, i);
	}
}

static void tx_drop(struct ext4_jnl *n)
{
	for (uint32_t i = 0; i < n->ntx; i++)
		ext4_bfree(n->j.fs, n->tx[i].data);
	n->ntx = 0;
	n->ndata = 0;
	memset(n->hash, 0xff, JNL_HASH * sizeof(*n->hash));
}

static int jwrite(struct ext4_jnl *n, uint32_t lblk, const uint8_t *buf)
{
	uint64_t pblk;
	uint32_t run;
	bool uw;
	int r = ext4_ext_map(n->j.fs, n->j.ir, lblk, &pblk, &run, &uw);
	if (r < 0)
		return r;
	if (!pblk || uw)
		return ext4_corrupt(n->j.fs);
	return ext4_bwrite_raw(n->j.fs, pblk, buf);
}

static int write_jsb(struct ext4_jnl *n, uint32_t start, uint32_t seq)
{
	uint8_t *sb = n->j.sb;
	put_be32(sb + JSB_START, start);
	put_be32(sb + JSB_SEQUENCE, seq);
	if (n->j.csum) {
		memset(sb + JSB_CHECKSUM, 0, 4);
		put_be32(sb + JSB_CHECKSUM, ext4_csum(n->j.fs, ~0u, sb, JBD2_SB_SIZE));
	}
	return ext4_bwrite_raw(n->j.fs, n->sb_pblk, sb);
}

static int jflush(struct ext4_fs *fs)
{
	return fs->bd->flush ? fs->bd->flush(fs->bd) : 0;
}

static void put_tag(struct ext4_jnl *n, uint8_t *p, uint64_t blk, uint32_t flags, uint32_t csum)
{
	bool b64 = n->j.incompat & JBD2_INCOMPAT_64BIT;
	put_be32(p, (uint32_t)blk);
	if (n->j.incompat & JBD2_INCOMPAT_CSUM_V3) {
		put_be32(p + 4, flags);
		put_be32(p + 8, b64 ? (uint32_t)(blk >> 32) : 0);
		put_be32(p + 12, csum);
	} else {
		uint16_t c = swab16((uint16_t)csum), fl = swab16((uint16_t)flags);
		memcpy(p + 4, &c, 2);
		memcpy(p + 6, &fl, 2);
		if (b64)
			put_be32(p + 8, (uint32_t)(blk >> 32));
	}
}

static void set_header(uint8_t *b, uint32_t type, uint32_t seq)
{
	put_be32(b, JBD2_MAGIC);
	put_be32(b + 4, type);
	put_be32(b + 8, seq);
}

static int tx_add(struct ext4_fs *fs, uint64_t blk, const void *buf);
static int home_write(struct ext4_fs *fs, uint64_t blk, const void *buf);
static int tx_data_out(struct ext4_fs *fs);

/*
 * The superblock (free counters, the orphan list head) into the transaction about to commit,
 * when an operation of it changed them: once per commit, not once per operation, so the
 * superblock travels with the operations that changed it and a replay leaves it exact. It is
 * added past max_tx when the transaction is full: max_tx leaves the log room for that block
 * (see ext4_journal_start).
 */
static int super_to_tx(struct ext4_fs *fs)
{
	if (fs->ro || !(fs->orphan_dirty || fs->sb_dirty))
		return 0;
	fs->orphan_dirty = false;
	fs->sb_dirty = false;
	uint64_t blk = EXT4_SB_OFFSET / fs->bs;
	uint32_t off = EXT4_SB_OFFSET % fs->bs;
	if (fs->csum)
		ext4_sb_csum_set(fs, &fs->sb);
	uint8_t *in_tx = ext4_tx_block(fs, blk);
	if (in_tx) {
		memcpy(in_tx + off, &fs->sb, EXT4_SB_SIZE);
		return 0;
	}
	uint8_t *b = ext4_balloc(fs);
	if (!b)
		return -ENOMEM;
	int r = ext4_bread(fs, blk, b);
	if (r == 0) {
		memcpy(b + off, &fs->sb, EXT4_SB_SIZE);
		r = tx_add(fs, blk, b);
	}
	ext4_bfree(fs, b);
	return r;
}

/* A bitmap's checksum lives in its group descriptor: that descriptor, checksummed again, into
 * its block's copy (added past max_tx when an operation was cut between the bitmap and the
 * descriptor: ext4_journal_start leaves room). */
static int gd_csum_to_tx(struct ext4_fs *fs, uint32_t g)
{
	struct ext4_group_desc *gd = ext4_gd(fs, g);
	gd->bg_checksum = ext4_gd_csum(fs, g, gd);
	uint32_t per_block = fs->bs / fs->desc_size, b = g / per_block;
	uint64_t blk = fs->first_data_block + 1 + b;
	struct tx_block *t = tx_find(fs->jnl, blk);
	if (!t)
		return tx_add(fs, blk, fs->gdt + (size_t)b * fs->bs);
	memcpy(t->data + (size_t)(g % per_block) * fs->desc_size, gd, fs->desc_size);
	return 0;
}

static int csum_now(struct ext4_fs *fs, struct tx_block *t)
{
	uint8_t kind = t->csum;
	t->csum = 0;
	if (kind == EXT4_TXC_DIRLEAF) {
		ext4_dirblock_csum_seed_set(fs, t->csum_arg, t->data);
		return 0;
	}
	if (t->csum_arg >= fs->groups)
		return ext4_corrupt(fs);
	ext4_bitmap_csum_set(fs, ext4_gd(fs, t->csum_arg), kind == EXT4_TXC_IBITMAP, t->data);
	return gd_csum_to_tx(fs, t->csum_arg);
}

/* The checksums ext4_bwrite_csum_later left to the commit. */
static int tx_csum_all(struct ext4_fs *fs)
{
	struct ext4_jnl *n = fs->jnl;
	int r = 0;
	for (uint32_t i = 0; i < n->ntx && r == 0; i++)   /* gd_csum_to_tx may append: n->ntx grows */
		if (n->tx[i].csum)
			r = csum_now(fs, &n->tx[i]);
	return r;
}

/*
 * Delayed writes of new data blocks (what Linux's delayed allocation gains for short-lived
 * files, without delaying the allocation): a block this transaction allocated and a write
 * fills only in part (a small file) stays in memory as a home_only copy, found by reads like
 * any copy, written home by the commit before its log (ordered mode), never logged; freed
 * before that (the file unlinked: ext4_tx_forget) it is never written at all. A copy is only
 * made in a batched transaction and at most JNL_MAX_DATA are kept (then they go home at once).
 * Writes straight to the device over such a block drop its copy first (ext4_tx_data_drop);
 * ext4_bwrite_raw updates it instead.
 */
#define JNL_MAX_DATA 1024

int ext4_tx_data_put(struct ext4_fs *fs, uint64_t blk, const void *buf)
{
	struct ext4_jnl *n = fs->jnl;
	if (!n || n->depth == 0 || !n->batch || fs->ro)
		return home_write(fs, blk, buf);
	struct tx_block *t = tx_find(n, blk);
	if (t) {
		memcpy(t->data, buf, fs->bs);
		return 0;
	}
	if (n->ndata >= JNL_MAX_DATA) {
		int r = tx_data_out(fs);
		if (r < 0)
			return r;
	}
	int r = tx_add(fs, blk, buf);
	if (r == 0) {
		n->tx[n->ntx - 1].home_only = true;
		n->ndata++;
	}
	return r;
}

bool ext4_tx_data_update(struct ext4_fs *fs, uint64_t blk, const void *buf)
{
	struct ext4_jnl *n = fs->jnl;
	struct tx_block *t = n && n->ndata ? tx_find(n, blk) : NULL;
	if (!t || !t->home_only)
		return false;
	memcpy(t->data, buf, fs->bs);
	return true;
}

void ext4_tx_data_drop(struct ext4_fs *fs, uint64_t first, uint32_t count)
{
	struct ext4_jnl *n = fs->jnl;
	if (!n || !n->ndata)
		return;
	for (uint32_t i = 0; i < count; i++) {
		struct tx_block *t = tx_find(n, first + i);
		if (t && t->home_only)
			ext4_tx_forget(fs, first + i, 1);
	}
}

void ext4_tx_data_overlay(struct ext4_fs *fs, uint64_t first, uint32_t count, uint8_t *buf)
{
	struct ext4_jnl *n = fs->jnl;
	if (!n || !n->ndata)
		return;
	for (uint32_t i = 0; i < count; i++) {
		struct tx_block *t = tx_find(n, first + i);
		if (t && t->home_only)
			memcpy(buf + (size_t)i * fs->bs, t->data, fs->bs);
	}
}

bool ext4_tx_csum_deferrable(struct ext4_fs *fs)
{
	return fs->csum && fs->jnl && fs->jnl->depth > 0 && !fs->ro;
}

int ext4_bwrite_csum_later(struct ext4_fs *fs, uint64_t blk, const void *buf, uint8_t kind, uint32_t arg)
{
	int r = ext4_bwrite(fs, blk, buf);
	struct tx_block *t = r == 0 && fs->jnl ? tx_find(fs->jnl, blk) : NULL;
	if (!t)
		return r;                        /* not deferrable (the caller checks first): no copy */
	t->csum = kind;
	t->csum_arg = arg;
	return 0;
}

bool ext4_tx_csum_pending(struct ext4_fs *fs, uint64_t blk)
{
	struct tx_block *t = tx_find(fs->jnl, blk);
	return t && t->csum;
}

static int home_write(struct ext4_fs *fs, uint64_t blk, const void *buf)
{
	if (fs->ro)
		return -EROFS;
	int r = fs->bd->write_blocks(fs->bd, blk * fs->dev_per_block, fs->dev_per_block, buf);
	return r < 0 ? r : 0;
}

/* The home_only copies to their homes (before anything of the transaction goes to the log:
 * ordered mode), then out of the transaction. */
static int tx_data_out(struct ext4_fs *fs)
{
	struct ext4_jnl *n = fs->jnl;
	if (n->ndata == 0)
		return 0;
	int r = 0;
	uint32_t k = 0;
	for (uint32_t i = 0; i < n->ntx; i++) {
		if (!n->tx[i].home_only) {
			n->tx[k++] = n->tx[i];
			continue;
		}
		if (r == 0)
			r = home_write(fs, n->tx[i].blk, n->tx[i].data);
		ext4_bfree(fs, n->tx[i].data);
	}
	n->ntx = k;
	n->ndata = 0;
	memset(n->hash, 0xff, JNL_HASH * sizeof(*n->hash));
	for (uint32_t i = 0; i < n->ntx; i++)
		tx_link(n, i);
	return r;
}

static int commit(struct ext4_fs *fs)
{
	struct ext4_jnl *n = fs->jnl;
	struct journal *j = &n->j;
	/* Without metadata to commit a changed counter waits for ext4_sync's in-place write. */
	if (n->ntx > 0 || fs->orphan_dirty) {
		int r = fs->ro ? 0 : tx_csum_all(fs);  /* first: a new directory block may be home_only */
		if (r == 0 && !fs->ro)
			r = tx_data_out(fs);
		if (r == 0)
			r = super_to_tx(fs);
		if (r < 0) {
			tx_drop(n);
			fs->ro = true;
			return r;
		}
	}
	if (n->ntx == 0)
		return 0;
	if (fs->ro) {
		tx_drop(n);                      /* an operation that hit corruption: abandon it */
		return -EROFS;
	}
	uint8_t *b = n->buf;
	uint32_t seq = n->seq, lblk = j->first;
	int r = 0;
	/* 1. descriptors and copies */
	for (uint32_t i = 0; i < n->ntx && r == 0;) {
		uint32_t k = n->ntx - i < n->tags_per_desc ? n->ntx - i : n->tags_per_desc;
		uint32_t dlblk = lblk++;
		uint8_t *desc = ext4_zalloc(fs->bs);
		if (!desc)
			return -ENOMEM;
		set_header(desc, JBD2_DESCRIPTOR_BLOCK, seq);
		uint32_t off = JBD2_HDR_SIZE;
		for (uint32_t t = 0; t < k && r == 0; t++, i++) {
			memcpy(b, n->tx[i].data, fs->bs);
			uint32_t flags = t ? JBD2_FLAG_SAME_UUID : 0;
			if (be32(b) == JBD2_MAGIC) {
				memset(b, 0, 4);         /* escaped: replay puts the magic back */
				flags |= JBD2_FLAG_ESCAPE;
			}
			if (t == k - 1)
				flags |= JBD2_FLAG_LAST_TAG;
			uint32_t csum = 0;
			if (j->csum) {
				uint32_t be = swab32(seq);
				csum = ext4_csum(fs, ext4_csum(fs, j->csum_seed, &be, 4), b, fs->bs);
			}
			put_tag(n, desc + off, n->tx[i].blk, flags, csum);
			off += j->tag_bytes;
			if (t == 0) {
				memcpy(desc + off, j->sb + JSB_UUID, JBD2_UUID_SIZE);
				off += JBD2_UUID_SIZE;
			}
			r = jwrite(n, lblk++, b);
		}
		if (r == 0 && j->csum)
			put_be32(desc + fs->bs - JBD2_TAIL_SIZE, block_csum(j, desc, fs->bs - JBD2_TAIL_SIZE));
		if (r == 0)
			r = jwrite(n, dlblk, desc);
		ext4_free(desc);
	}
	if (r == 0)
		r = write_jsb(n, j->first, seq);
	if (r == 0)
		r = jflush(fs);
	/* 2. the commit block */
	if (r == 0) {
		memset(b, 0, fs->bs);
		set_header(b, JBD2_COMMIT_BLOCK, seq);
		struct ext4_time t;
		ext4_now(fs, &t);
		put_be32(b + 0x30, (uint32_t)((uint64_t)t.sec >> 32));
		put_be32(b + 0x34, (uint32_t)t.sec);
		put_be32(b + 0x38, t.nsec);
		if (j->csum)
			put_be32(b + JBD2_COMMIT_CSUM_OFF, block_csum(j, b, JBD2_COMMIT_CSUM_OFF));
		r = jwrite(n, lblk, b);
	}
	if (r == 0)
		r = jflush(fs);
	if (r == 0)
		ext4_pending_clear(fs);          /* the frees are committed: their blocks may be reused */
	/* 3. home */
	for (uint32_t i = 0; i < n->ntx && r == 0; i++)
		r = ext4_bwrite_raw(fs, n->tx[i].blk, n->tx[i].data);
	if (r == 0)
		r = jflush(fs);
	/* 4. the log is empty again */
	if (r == 0)
		r = write_jsb(n, 0, seq + 1);
	n->seq = seq + 1;
	n->commits++;
	tx_drop(n);
	if (r < 0)
		fs->ro = true;                   /* the journal is unusable: stop writing */
	return r;
}

/* A new copy in the running transaction, whatever its size (the callers check). */
static int tx_add(struct ext4_fs *fs, uint64_t blk, const void *buf)
{
	struct ext4_jnl *n = fs->jnl;
	if (n->ntx == n->cap) {
		uint32_t cap = n->cap ? n->cap * 2 : 32;
		struct tx_block *t = ext4_malloc(cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		if (n->tx)
			memcpy(t, n->tx, n->ntx * sizeof(*t));
		ext4_free(n->tx);
		n->tx = t;
		n->cap = cap;
	}
	uint8_t *d = ext4_balloc(fs);
	if (!d)
		return -ENOMEM;
	memcpy(d, buf, fs->bs);
	if (n->ntx == 0) {
		struct ext4_time t;
		ext4_now(fs, &t);
		n->opened = t.sec;
	}
	n->tx[n->ntx] = (struct tx_block){ blk, d, -1, 0, 0, false };
	tx_link(n, n->ntx++);
	return 0;
}

int ext4_tx_put(struct ext4_fs *fs, uint64_t blk, const void *buf)
{
	struct ext4_jnl *n = fs->jnl;
	struct tx_block *t = tx_find(n, blk);
	if (t) {
		if (t->data != buf)              /* not a block patched in place (ext4_tx_block) */
			memcpy(t->data, buf, fs->bs);
		t->csum = 0;                     /* the caller checksummed it */
		return 0;
	}
	if (n->ntx - n->ndata >= n->max_tx) {
		int r = commit(fs);              /* too big for the log: cut it here */
		if (r < 0)
			return r;
	}
	return tx_add(fs, blk, buf);
}

void ext4_tx_begin(struct ext4_fs *fs)
{
	struct ext4_jnl *n = fs->jnl;
	if (n && n->depth++ == 0 && n->batch && n->ntx - n->ndata > n->max_tx / 2)
		commit(fs);                      /* room for a whole operation; an error sets fs->ro */
}

static bool tx_old(struct ext4_jnl *n)
{
	struct ext4_time t;
	ext4_now(n->j.fs, &t);
	return t.sec - n->opened >= JNL_BATCH_AGE_S || t.sec < n->opened;
}

void ext4_journal_batch(struct ext4_fs *fs, bool on)
{
	if (fs->jnl)
		fs->jnl->batch = on;
}

bool ext4_journal_batching(struct ext4_fs *fs) { return fs->jnl && fs->jnl->batch; }

int ext4_journal_commit(struct ext4_fs *fs)
{
	return fs->jnl && fs->jnl->depth == 0 ? commit(fs) : 0;
}

int ext4_journal_commit_now(struct ext4_fs *fs)
{
	return fs->jnl ? commit(fs) : 0;
}

int ext4_tx_restart(struct ext4_fs *fs, struct ext4_iref *ir)
{
	struct ext4_jnl *n = fs->jnl;
	if (!n || n->depth == 0 || n->ntx - n->ndata <= n->max_tx / 2 || fs->ro)
		return 0;
	int r = ext4_iwrite(fs, ir);
	return r < 0 ? r : commit(fs);          /* with the superblock (super_to_tx) */
}

uint32_t ext4_journal_commits(struct ext4_fs *fs)
{
	return fs->jnl ? fs->jnl->commits : 0;
}

int ext4_tx_end(struct ext4_fs *fs, int r)
{
	if (fs->jnl && --fs->jnl->depth > 0)
		return r;
	int c = 0;
	/* With a journal the superblock joins the transaction when it commits (super_to_tx);
	 * without one only the orphan head needs writing now. */
	if (!fs->jnl && fs->orphan_dirty && !fs->ro) {
		fs->orphan_dirty = false;
		c = ext4_write_super(fs);
	}
	int cc = fs->jnl && (!fs->jnl->batch || tx_old(fs->jnl)) ? commit(fs) : 0;
	if (c == 0)
		c = cc;
	return r < 0 ? r : c;
}

int ext4_journal_stop(struct ext4_fs *fs)
{
	struct ext4_jnl *n = fs->jnl;
	if (!n)
		return 0;
	n->depth = 0;
	int r = commit(fs);
	tx_drop(n);
	ext4_pending_clear(fs);
	ext4_free(n->tx);
	ext4_iput(n->j.ir);
	ext4_free(n->j.sb);
	ext4_free(n->buf);
	ext4_free(n->hash);
	ext4_free(n);
	fs->jnl = NULL;
	return r;
}
