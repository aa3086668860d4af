/*
 * Reverse map of file mappings: the VMAs mapping each inode, and truncation's unmap.
 *
 * Theory. A page of a file may be mapped by many address spaces (MAP_SHARED, MAP_PRIVATE before
 * its first write copies it, and both across fork). When the file shrinks, Linux takes the pages
 * past the new end of file out of all of them (unmap_mapping_range), so the next access there
 * faults, finds the offset past EOF and gets SIGBUS (BUS_ADRERR); the page holding the new EOF
 * stays mapped and shared, its bytes past EOF zeroed by the file system. A private mapping loses
 * its pages there too, the copies it made at a write included (Linux's truncate_pagecache passes
 * even_cows: user/tests/mmap_truncate checks it against Linux). To find those address spaces each inode keeps
 * the list of file VMAs that map it (inode->i_mmap, through vma->rnode; vma->mm says whose it is).
 * A VMA joins the list in the same hold of mm->lock that puts it in mm->vmas (mmap, split by
 * munmap/mprotect, fork) and leaves it when freed (free_vma, after mm->lock: munmap, exit, exec).
 *
 * rmap_unmap_from runs with the new size already visible. It walks the list under i_mmap_lock
 * only to pick the next address space not yet handled, pins that mm's struct (mm_pin: an exiting
 * mm empties its VMA list under mm->lock, so a pinned mm with no users is simply empty), drops the
 * list lock, and lets mm/uvm.c unmap there (mm_zap_file: mm->lock, the VMAs of mm->vmas that map
 * this inode, whatever entry led there; then the TLB fence on the harts of that mm, and only then
 * the pages' references go). So the two spinlocks are never held together on this side, and the
 * order mm->lock -> i_mmap_lock (rmap_link) cannot invert. No allocation: an address space is
 * marked handled by stamping its VMAs on this list with this truncation's ticket (vma->zap_ticket,
 * under i_mmap_lock); truncations of one inode are serialized by inode->rw, so tickets are unique.
 * The walk is O(VMAs x address spaces) per truncation.
 *
 * Faults racing the truncation: a fault fetches the file page with mm->lock dropped (the file
 * system may sleep), so it can hold a page fetched under the old size when the unmap runs. The
 * ticket is inode->mmap_seq, bumped before the walk (after the size change); a fault reads it
 * before fetching and installs its page only if it is unchanged under mm->lock (mm/uvm.c). If the
 * bump came first, the fault sees it and fetches again (now past EOF: SIGBUS); if the fault's
 * install came first, the mm was mapping the inode with that VMA on the list, and the unmap
 * (which takes the same mm->lock after the bump) removes it. A VMA linked after the walk was
 * linked after the bump, so its faults see the new size. Fault-around (mm->lock held throughout)
 * either runs before the unmap of its mm or sees the new size.
 */
#include "mm/rmap.h"
#include "mm/uvm.h"
#include "fs/fs.h"

void rmap_link(struct mm *mm, struct vma *v)
{
	if (!v->file || !mm)
		return;
	struct inode *ino = v->file->inode;
	v->mm = mm;
	v->zap_ticket = 0;                       /* never a ticket (mmap_seq is bumped first) */
	spin_lock(&ino->i_mmap_lock);
	list_add_tail(&v->rnode, &ino->i_mmap);
	spin_unlock(&ino->i_mmap_lock);
}

void rmap_unlink(struct vma *v)
{
	if (!v->mm)
		return;
	struct inode *ino = v->file->inode;
	spin_lock(&ino->i_mmap_lock);
	list_del(&v->rnode);
	spin_unlock(&ino->i_mmap_lock);
	v->mm = NULL;
}

/* The next address space on ino's list not yet stamped with ticket, pinned (its VMAs on the
 * list stamped now), or NULL when every one is. */
static struct mm *next_unhandled(struct inode *ino, uint64_t ticket)
{
	struct mm *mm = NULL;
	struct list_head *p;
	spin_lock(&ino->i_mmap_lock);
	list_for_each(p, &ino->i_mmap) {
		struct vma *v = list_entry(p, struct vma, rnode);
		if (!mm && v->zap_ticket != ticket) {
			mm = v->mm;
			mm_pin(mm);
		}
		if (mm && v->mm == mm)
			v->zap_ticket = ticket;
	}
	spin_unlock(&ino->i_mmap_lock);
	return mm;
}

void rmap_unmap_from(struct inode *ino, uint64_t pgoff)
{
	uint64_t ticket = __atomic_add_fetch(&ino->mmap_seq, 1, __ATOMIC_SEQ_CST);
	struct mm *mm;
	while ((mm = next_unhandled(ino, ticket))) {
		mm_zap_file(mm, ino, pgoff);
		mm_unpin(mm);
	}
}
