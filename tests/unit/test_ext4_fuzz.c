// unit-sources: fs/ext4/orphan.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/htree.c fs/ext4/namei.c lib/crc32c.c
/*
 * A seeded corruption fuzzer for fs/ext4: 640 images (1 KiB and 4 KiB blocks) made from a clean
 * mkfs.ext4 image by flipping bytes in the superblock, the group descriptors, bitmaps, the inode
 * table, directory blocks (linear and htree) and extent tree blocks. In half of them the
 * checksums are recomputed after the damage, so that the structure checks behind the checksum
 * checks are reached too. Each image is mounted (read-write) and, when the mount succeeds, the
 * whole tree is walked, files and symlinks read, and files created, written, renamed, truncated
 * and unlinked. Nothing may crash, hang (an alarm) or trip ASan/UBSan/LeakSanitizer; the case
 * checks that both outcomes happen (some images refused, some mounted) and that the clean image
 * still works after the same operations.
 */
#include "tests/unit/ext4_host.h"
#include "fs/ext4/ext4_fs.h"

#define FUZZ_IMAGES_PER_BS 320
#define FUZZ_TIME_LIMIT_S 120
#define MAX_TARGETS 4096

enum { T_SB, T_GDT, T_BITMAP, T_ITABLE, T_DIR, T_EXTENT, T_JOURNAL, T_KINDS };

struct target { int kind; uint64_t blk; uint32_t owner; };

struct fuzz {
	uint8_t *clean, *img;
	size_t len;
	unsigned bs;
	struct ext4_fs *cfs;           /* clean mount: geometry and checksum seeds */
	struct img cim;
	struct target t[MAX_TARGETS];
	int nt, nkind[T_KINDS];
	uint64_t rng;
	long mounted, refused, op_errors, ops;
};

static uint32_t rnd(struct fuzz *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return (uint32_t)(f->rng >> 11);
}

static void add_target(struct fuzz *f, int kind, uint64_t blk, uint32_t owner)
{
	for (int i = 0; i < f->nt; i++)
		if (f->t[i].blk == blk && f->t[i].kind == kind)
			return;
	if (f->nt < MAX_TARGETS) {
		f->t[f->nt++] = (struct target){ kind, blk, owner };
		f->nkind[kind]++;
	}
}

/* Extent tree blocks of an inode, found by walking its tree in the clean image. */
static void extent_targets(struct fuzz *f, uint32_t ino, const uint8_t *node, int depth)
{
	const struct ext4_extent_header *h = (const void *)node;
	if (h->eh_magic != EXT4_EXT_MAGIC || depth == 0 || h->eh_depth == 0)
		return;
	const struct ext4_extent_idx *ix = (const void *)(h + 1);
	for (int i = 0; i < h->eh_entries; i++) {
		uint64_t b = ix[i].ei_leaf_lo | (uint64_t)ix[i].ei_leaf_hi << 32;
		if ((b + 1) * f->bs > f->len)
			continue;
		add_target(f, T_EXTENT, b, ino);
		extent_targets(f, ino, f->clean + b * f->bs, depth - 1);
	}
}

struct collect { struct fuzz *f; uint32_t inos[512]; int n; };
static int collect_cb(void *arg, const char *name, size_t len, uint32_t ino, unsigned dt, uint64_t next)
{
	(void)next;
	struct collect *c = arg;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (c->n < 512 && (dt == EXT4_DT_DIR || dt == EXT4_DT_REG || dt == EXT4_DT_LNK))
		c->inos[c->n++] = ino;
	return 0;
}

static void collect_inode(struct fuzz *f, uint32_t ino, int depth)
{
	struct ext4_iref *ir;
	if (depth > 20 || ext4_iget(f->cfs, ino, &ir))
		return;
	if (ir->i.i_flags & EXT4_EXTENTS_FL)
		extent_targets(f, ino, (const uint8_t *)ir->i.i_block, 5);
	if (ext4_is_dir(ir)) {
		uint64_t nb = ext4_isize(ir) / f->bs;
		for (uint64_t l = 0; l < nb && l < 4096; l++) {
			uint64_t pb;
			if (ext4_bmap(f->cfs, ino, l, &pb) == 0 && pb)
				add_target(f, T_DIR, pb, ino);
		}
		struct collect *c = calloc(1, sizeof(*c));
		uint64_t cookie = 0;
		ext4_readdir(f->cfs, ino, &cookie, collect_cb, c);
		for (int i = 0; i < c->n; i++)
			collect_inode(f, c->inos[i], depth + 1);
		free(c);
	}
	ext4_iput(ir);
}

static void build_targets(struct fuzz *f)
{
	struct ext4_fs *fs = f->cfs;
	add_target(f, T_SB, 1024 / f->bs, 0);
	for (uint32_t b = 0; b < fs->gdt_blocks; b++)
		add_target(f, T_GDT, fs->first_data_block + 1 + b, 0);
	for (uint32_t g = 0; g < fs->groups && g < 4; g++) {
		add_target(f, T_BITMAP, ext4_gd_block_bitmap(fs, ext4_gd(fs, g)), g);
		add_target(f, T_BITMAP, ext4_gd_inode_bitmap(fs, ext4_gd(fs, g)), g);
	}
	uint32_t used = fs->sb.s_inodes_count - fs->sb.s_free_inodes_count;
	uint64_t it = ext4_gd_inode_table(fs, ext4_gd(fs, 0));
	for (uint32_t b = 0; b * fs->inodes_per_block < used + 8 && b < fs->itable_blocks; b++)
		add_target(f, T_ITABLE, it + b, 0);
	collect_inode(f, EXT4_ROOT_INO, 0);
	for (uint64_t l = 0; l < 8; l++) {                   /* the journal: superblock and log */
		uint64_t pb;
		if (ext4_bmap(fs, fs->sb.s_journal_inum, l, &pb) == 0 && pb)
			add_target(f, T_JOURNAL, pb, 0);
	}
}

/* Recompute the checksums of a damaged block so the deeper checks see the damage. */
static void fix_csums(struct fuzz *f, const struct target *t)
{
	struct ext4_fs *fs = f->cfs;
	uint8_t *b = f->img + t->blk * f->bs;
	struct ext4_iref *ir = calloc(1, sizeof(*ir));
	switch (t->kind) {
	case T_SB: {
		struct ext4_super *sb = (void *)(f->img + 1024);
		ext4_sb_csum_set(fs, sb);
		break;
	}
	case T_GDT: {
		uint32_t per = f->bs / fs->desc_size;
		uint32_t first = (uint32_t)(t->blk - fs->first_data_block - 1) * per;
		for (uint32_t i = 0; i < per && first + i < fs->groups; i++) {
			struct ext4_group_desc *gd = (void *)(b + i * fs->desc_size);
			gd->bg_checksum = ext4_gd_csum(fs, first + i, gd);
		}
		break;
	}
	case T_ITABLE: {
		uint64_t it = ext4_gd_inode_table(fs, ext4_gd(fs, 0));
		for (uint32_t i = 0; i < fs->inodes_per_block; i++) {
			ir->ino = (uint32_t)(t->blk - it) * fs->inodes_per_block + i + 1;
			memcpy(ir->raw, b + i * fs->inode_size, fs->inode_size);
			if (fs->inode_size > 128 && ir->i.i_extra_isize > fs->inode_size - 128)
				continue;
			ext4_inode_csum_set(fs, ir);
			memcpy(b + i * fs->inode_size, ir->raw, fs->inode_size);
		}
		break;
	}
	case T_DIR:
	case T_EXTENT: {
		struct ext4_iref *o;
		if (ext4_iget(fs, t->owner, &o))
			break;
		if (t->kind == T_EXTENT)
			ext4_extent_csum_set(fs, o, b);
		else if (ext4_dirblock_has_tail(fs, b))
			ext4_dirblock_csum_set(fs, o, b);
		ext4_iput(o);
		break;
	}
	}
	free(ir);
}

static void corrupt(struct fuzz *f)
{
	memcpy(f->img, f->clean, f->len);
	int nblk = 1 + (int)(rnd(f) % 3);
	bool fix = rnd(f) & 1;
	for (int k = 0; k < nblk; k++) {
		int kind;
		do
			kind = (int)(rnd(f) % T_KINDS);
		while (!f->nkind[kind]);
		int pick = (int)(rnd(f) % (uint32_t)f->nkind[kind]);
		const struct target *t = NULL;
		for (int i = 0; i < f->nt; i++)
			if (f->t[i].kind == kind && pick-- == 0) {
				t = &f->t[i];
				break;
			}
		uint8_t *b = f->img + t->blk * f->bs;
		uint32_t span = f->bs, base = 0;
		if (kind == T_SB) {
			base = (uint32_t)(1024 - (1024 / f->bs) * f->bs);
			span = 0x180;                   /* the fields that matter */
		} else if (kind == T_GDT) {
			span = f->cfs->groups * f->cfs->desc_size < f->bs ? f->cfs->groups * f->cfs->desc_size : f->bs;
		} else if (kind == T_EXTENT || (kind == T_DIR && (rnd(f) & 1))) {
			span = 64;                      /* headers and first entries */
		}
		int flips = 1 + (int)(rnd(f) % 8);
		for (int i = 0; i < flips; i++) {
			uint32_t at = base + rnd(f) % span;
			uint8_t x = (uint8_t)(rnd(f) % 3 == 0 ? 0xff : 1u << (rnd(f) % 8));
			b[at] ^= x;
		}
		if (fix)
			fix_csums(f, t);
	}
}

/* ---- exercising a (maybe) damaged file system ---- */
struct walk_state { struct fuzz *f; struct ext4_fs *fs; int entries; uint32_t a_file, a_dir, a_frag; uint8_t *buf; };
struct child { char name[256]; size_t len; uint32_t ino; };
struct kids { struct child c[64]; int n; int seen; };

static int kids_cb(void *arg, const char *name, size_t len, uint32_t ino, unsigned dt, uint64_t next)
{
	(void)dt;
	(void)next;
	struct kids *k = arg;
	if (++k->seen > 5000)
		return 1;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (k->n < 64) {
		memcpy(k->c[k->n].name, name, len);
		k->c[k->n].len = len;
		k->c[k->n].ino = ino;
		k->n++;
	}
	return 0;
}

static void exercise(struct walk_state *w, uint32_t dir, int depth)
{
	if (depth > 12 || w->entries > 3000)
		return;
	struct kids *k = calloc(1, sizeof(*k));
	uint64_t cookie = 0;
	w->f->ops++;
	if (ext4_readdir(w->fs, dir, &cookie, kids_cb, k) < 0)
		w->f->op_errors++;
	for (int i = 0; i < k->n; i++) {
		w->entries++;
		uint32_t ino;
		w->f->ops++;
		if (ext4_lookup(w->fs, dir, k->c[i].name, k->c[i].len, &ino) < 0) {
			w->f->op_errors++;
			continue;
		}
		struct ext4_stat st;
		if (ext4_stat(w->fs, ino, &st) < 0) {
			w->f->op_errors++;
			continue;
		}
		uint32_t type = st.mode & EXT4_S_IFMT;
		if (type == EXT4_S_IFREG) {
			for (uint64_t off = 0; off < 256 * 1024; off += 65536)
				if (ext4_read(w->fs, ino, off, w->buf, 65536) <= 0)
					break;
			ext4_read(w->fs, ino, st.size > 100 ? st.size - 100 : 0, w->buf, 4096);
			if (!w->a_file && dir == EXT4_ROOT_INO)
				w->a_file = ino;
			if (st.size > 100000 && !w->a_frag)
				w->a_frag = ino;
		} else if (type == EXT4_S_IFLNK) {
			ext4_readlink(w->fs, ino, (char *)w->buf, 4096);
		} else if (type == EXT4_S_IFDIR) {
			if (!w->a_dir && dir == EXT4_ROOT_INO)
				w->a_dir = ino;
			exercise(w, ino, depth + 1);
		}
	}
	free(k);
}

static void counted(struct fuzz *f, long r)
{
	f->ops++;
	if (r < 0)
		f->op_errors++;
}

static void run_one(struct fuzz *f, uint8_t *image)
{
	struct img im;
	img_mem(&im, image, f->len, f->bs == 1024 ? 512 : 4096);
	struct ext4_fs *fs;
	if (ext4_mount(&im.bd, 0, &fs) < 0) {
		f->refused++;
		return;
	}
	f->mounted++;
	struct walk_state w = { f, fs, 0, 0, 0, 0, malloc(65536) };
	exercise(&w, EXT4_ROOT_INO, 0);
	uint32_t ino, dino = 0;
	fill_content(w.buf, 0, 65536, 5);
	if (ext4_create(fs, EXT4_ROOT_INO, "fz", 2, 0644, 0, 0, &ino) == 0) {
		counted(f, ext4_write(fs, ino, 0, w.buf, 20000));
		counted(f, ext4_write(fs, ino, 50000, w.buf, 3000));
	}
	if (ext4_mkdir(fs, EXT4_ROOT_INO, "fzd", 3, 0755, 0, 0, &dino) == 0)
		counted(f, ext4_rename(fs, EXT4_ROOT_INO, "fz", 2, dino, "fz", 2, 0));
	if (w.a_dir) {
		for (int i = 0; i < 40; i++) {
			char n[32];
			snprintf(n, sizeof(n), "fuzz-added-%d", i);
			counted(f, ext4_create(fs, w.a_dir, n, strlen(n), 0644, 0, 0, &ino));
		}
		counted(f, ext4_rename(fs, w.a_dir, "fuzz-added-1", 12, EXT4_ROOT_INO, "moved", 5, 0));
		counted(f, ext4_unlink(fs, w.a_dir, "fuzz-added-2", 12));
	}
	if (w.a_frag) {
		for (int i = 0; i < 30; i++)
			counted(f, ext4_write(fs, w.a_frag, (uint64_t)i * 3 * f->bs + 1, w.buf, 100));
		counted(f, ext4_truncate(fs, w.a_frag, 30000));
	}
	if (w.a_file) {
		counted(f, ext4_truncate(fs, w.a_file, 1000));
		counted(f, ext4_link(fs, w.a_file, EXT4_ROOT_INO, "fzlink", 6));
		counted(f, ext4_unlink(fs, EXT4_ROOT_INO, "fzlink", 6));
	}
	memset(w.buf, 'L', 300);
	counted(f, ext4_symlink(fs, EXT4_ROOT_INO, "fzs", 3, (const char *)w.buf, 300, 0, 0, &ino));
	if (dino) {
		counted(f, ext4_unlink(fs, dino, "fz", 2));
		counted(f, ext4_rmdir(fs, EXT4_ROOT_INO, "fzd", 3));
	}
	ext4_umount(fs);
	free(w.buf);
}

static void fuzz_bs(unsigned bs, uint64_t seed)
{
	char dir[64] = "/tmp/ember-ext4fuzz-XXXXXX", p[200];
	if (!mkdtemp(dir))
		abort();
	sh("mkdir -p %s/t/sub/deeper/deepest %s/t/hdir", dir, dir);
	snprintf(p, sizeof(p), "%s/t/small", dir);
	host_file(p, 20000, 1);
	snprintf(p, sizeof(p), "%s/t/sub/deeper/deepest/x", dir);
	host_file(p, 5000, 2);
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "%s/t/hdir/some-entry-name-%d", dir, i);
		host_file(p, (size_t)(i % 3) * 10, (unsigned)i);
	}
	snprintf(p, sizeof(p), "%s/t/frag", dir);
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	uint8_t b[4096];
	for (int k = 0; k < 400; k++) {
		fill_content(b, 0, bs, (unsigned)k);
		if (pwrite(fd, b, bs, (off_t)k * 2 * bs) != (ssize_t)bs)
			abort();
	}
	close(fd);
	snprintf(p, sizeof(p), "%s/t/fast", dir);
	if (symlink("small", p)) abort();
	memset(b, 'q', 200);
	b[200] = 0;
	snprintf(p, sizeof(p), "%s/t/slow", dir);
	if (symlink((char *)b, p)) abort();
	/* fixed uuid, hash seed and clock: the same seed gives the same images */
	CHECK_EQ(sh("E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -b %u -N 1024 -U 6b1d3c2e-0f7a-4e55-9c1e-2a8f5b7d9e01 "
		    "-E hash_seed=0e9f3a5c-7b21-4d8e-a6f0-1c2d3e4f5a6b -d %s/t %s/img %s >/dev/null 2>&1", bs, dir, dir,
		    bs == 1024 ? "4M" : "16M"), 0);
	int r = sh("E2FSPROGS_FAKE_TIME=1700000000 e2fsck -fyD %s/img >/dev/null 2>&1", dir);
	CHECK(r == 0 || r == 1);
	/* Leave two committed transactions in the journal (a copy of the root directory's first
	 * block and a free block), so every mount replays and the log itself can be damaged. */
	{
		struct img ji;
		struct ext4_fs *jfs;
		uint64_t rb = 0, last = 0;
		snprintf(p, sizeof(p), "%s/img", dir);
		if (img_open(&ji, p, 1024) == 0 && ext4_mount(&ji.bd, EXT4_MOUNT_RDONLY, &jfs) == 0) {
			ext4_bmap(jfs, EXT4_ROOT_INO, 0, &rb);
			last = jfs->blocks_count - 10;
			ext4_umount(jfs);
		}
		img_close(&ji);
		CHECK(rb != 0);
		CHECK_EQ(sh("dd if=%s/img of=%s/rootblk bs=%u skip=%llu count=1 2>/dev/null && head -c %u /dev/zero | tr '\\0' 'J' > %s/jfill && "
			    "printf 'jo -c\\njw -b %llu %s/rootblk\\njw -b %llu %s/jfill\\njc\\n' > %s/jcmd && "
			    "E2FSPROGS_FAKE_TIME=1700000000 debugfs -w -f %s/jcmd %s/img >/dev/null 2>&1", dir, dir, bs, (unsigned long long)rb, bs, dir,
			    (unsigned long long)rb, dir, (unsigned long long)last, dir, dir, dir, dir), 0);
	}
	struct fuzz *f = calloc(1, sizeof(*f));
	f->bs = bs;
	f->rng = seed;
	snprintf(p, sizeof(p), "%s/img", dir);
	f->clean = slurp(p, &f->len);
	sh("rm -rf %s", dir);
	if (!f->clean) {
		CHECK(0);
		free(f);
		return;
	}
	f->img = malloc(f->len);
	img_mem(&f->cim, f->clean, f->len, 1024);
	CHECK_EQ(ext4_mount(&f->cim.bd, EXT4_MOUNT_RDONLY, &f->cfs), 0);
	if (!f->cfs)
		return;
	build_targets(f);
	for (int k = 0; k < T_KINDS; k++)
		CHECK(f->nkind[k] > 0);
	CHECK(f->nkind[T_EXTENT] >= 2);
	int n = getenv("EXT4_FUZZ_N") ? atoi(getenv("EXT4_FUZZ_N")) : FUZZ_IMAGES_PER_BS;
	if (getenv("EXT4_FUZZ_SEED"))
		f->rng ^= strtoull(getenv("EXT4_FUZZ_SEED"), NULL, 0);
	for (int i = 0; i < n; i++) {
		corrupt(f);
		run_one(f, f->img);
	}
	printf("  %u-byte blocks: %d targets, %ld images mounted, %ld refused, %ld/%ld operations failed\n",
	       bs, f->nt, f->mounted, f->refused, f->op_errors, f->ops);
	fflush(stdout);
	CHECK_EQ(f->mounted + f->refused, n);
	CHECK(f->refused > n / 20);
	CHECK(f->mounted > n / 5);
	CHECK(f->op_errors > 0);
	/* The clean image replays its two journal blocks, and the same operations all succeed. */
	memcpy(f->img, f->clean, f->len);
	struct img ci;
	struct ext4_fs *rfs;
	img_mem(&ci, f->img, f->len, 1024);
	CHECK_EQ(ext4_mount(&ci.bd, 0, &rfs), 0);
	if (rfs) {
		CHECK_EQ(rfs->journal_replayed, 2);
		ext4_umount(rfs);
	}
	memcpy(f->img, f->clean, f->len);
	long before = f->op_errors;
	run_one(f, f->img);
	CHECK_EQ(f->op_errors, before);
	ext4_umount(f->cfs);
	free(f->img);
	free(f->clean);
	free(f);
}

TEST(fuzz_1k) { alarm(getenv("EXT4_FUZZ_N") ? 0 : FUZZ_TIME_LIMIT_S); fuzz_bs(1024, 0x1234567887654321ull); }
TEST(fuzz_4k) { alarm(getenv("EXT4_FUZZ_N") ? 0 : FUZZ_TIME_LIMIT_S); fuzz_bs(4096, 0x0badc0ffee123457ull); alarm(0); }

UNIT_TESTS(CASE(fuzz_1k), CASE(fuzz_4k))
