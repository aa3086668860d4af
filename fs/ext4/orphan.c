/*
 * The orphan list: inodes whose last name is gone while the VFS still has them open. Instead of
 * being freed they keep their blocks, get i_links_count 0 and are chained from the superblock's
 * s_last_orphan through their i_dtime fields (ext4's on-disk format, which e2fsck understands).
 * ext4_release() frees one at its last close; a mount frees whatever a crash left on the list;
 * umount frees what is still there.
 *
 * The VFS says which inodes are open through the callback given to ext4_set_in_use(); without
 * one every inode is freed at its last unlink.
 */
#include "fs/ext4/ext4_fs.h"

void ext4_set_in_use(struct ext4_fs *fs, bool (*in_use)(void *arg, uint32_t ino), void *arg)
{
	fs->in_use = in_use;
	fs->in_use_arg = arg;
}

static int orphan_add(struct ext4_fs *fs, struct ext4_iref *ir)
{
	ir->i.i_links_count = 0;
	ir->i.i_dtime = fs->sb.s_last_orphan;
	fs->sb.s_last_orphan = ir->ino;
	fs->orphan_dirty = true;
	ext4_touch(fs, ir, EXT4_T_CTIME);
	return ext4_iwrite(fs, ir);
}

static int orphan_del(struct ext4_fs *fs, uint32_t ino, uint32_t next);

/* An inode on the list, freed in pieces (each may commit: the list keeps it valid), then off the
 * list and freed: what a huge unlinked file takes, as Linux frees one from its orphan list. */
static int free_listed(struct ext4_fs *fs, struct ext4_iref *ir)
{
	int r = ext4_itrunc_blocks(fs, ir, 0, true);
	if (r == 0)
		r = orphan_del(fs, ir->ino, ir->i.i_dtime);
	return r < 0 ? r : ext4_ifree(fs, ir);
}

int ext4_last_link(struct ext4_fs *fs, struct ext4_iref *ir)
{
	if (fs->in_use && fs->in_use(fs->in_use_arg, ir->ino))
		return orphan_add(fs, ir);
	if (ext4_ibig(fs, ir)) {
		int r = orphan_add(fs, ir);
		return r < 0 ? r : free_listed(fs, ir);
	}
	return ext4_ifree(fs, ir);
}

/* Unchain ino (its successor is `next`) from the list. */
static int orphan_del(struct ext4_fs *fs, uint32_t ino, uint32_t next)
{
	if (fs->sb.s_last_orphan == ino) {
		fs->sb.s_last_orphan = next;
		fs->orphan_dirty = true;
		return 0;
	}
	uint32_t cur = fs->sb.s_last_orphan;
	for (uint32_t steps = 0; cur && steps < fs->sb.s_inodes_count; steps++) {
		struct ext4_iref *c;
		int r = ext4_iget(fs, cur, &c);
		if (r < 0)
			return r;
		uint32_t after = c->i.i_dtime;
		if (c->i.i_links_count == 0 && after == ino) {
			c->i.i_dtime = next;
			r = ext4_iwrite(fs, c);
			ext4_iput(c);
			return r;
		}
		ext4_iput(c);
		cur = after;
	}
	return 0;                           /* not on the list: nothing to unchain */
}

static int release_op(struct ext4_fs *fs, uint32_t ino)
{
	if (fs->ro)
		return -EROFS;
	struct ext4_iref *ir;
	int r = ext4_iget(fs, ino, &ir);
	if (r < 0)
		return r;
	if (ir->i.i_links_count == 0)
		r = free_listed(fs, ir);
	ext4_iput(ir);
	return r;
}

int ext4_release(struct ext4_fs *fs, uint32_t ino)
{
	ext4_tx_begin(fs);
	return ext4_tx_end(fs, release_op(fs, ino));
}

/* Free everything on the list (mount after a crash, umount). */
int ext4_orphan_cleanup(struct ext4_fs *fs, uint32_t *freed)
{
	*freed = 0;
	if (!fs->sb.s_last_orphan || fs->ro)
		return 0;
	ext4_tx_begin(fs);
	int r = 0;
	uint32_t cur = fs->sb.s_last_orphan;
	for (uint32_t steps = 0; cur && steps < fs->sb.s_inodes_count && r == 0; steps++) {
		struct ext4_iref *ir;
		r = ext4_iget(fs, cur, &ir);
		if (r < 0)
			break;
		uint32_t next = ir->i.i_dtime;
		if (ir->i.i_links_count == 0) {
			/* the list starts at cur while its blocks go in pieces (each may commit) */
			r = ext4_itrunc_blocks(fs, ir, 0, true);
			if (r == 0)
				r = ext4_ifree(fs, ir);
			(*freed)++;
		}
		ext4_iput(ir);
		cur = next;
		fs->sb.s_last_orphan = cur;
		fs->orphan_dirty = true;
	}
	fs->sb.s_last_orphan = 0;          /* a broken chain is dropped: e2fsck finds the rest */
	fs->orphan_dirty = true;
	return ext4_tx_end(fs, r);
}
