/*
 * System V shared memory: shmget, shmat, shmdt, shmctl with Linux's semantics.
 *
 * Theory. A segment is a sparse table of pages plus the Linux bookkeeping (key, mode, sizes,
 * times, pids, nattch). As on Linux (where a segment is a shmem file), shmget allocates no page:
 * a page is allocated, zeroed and charged at the first touch of it through any attachment (the
 * fault calls the VMA's ops->page, mm/uvm.h), and every later attachment, in any process, maps
 * that very page. The table is two levels: a directory of ceil(npages / SLOT_FANOUT) pointers
 * (kzalloc at shmget, 8 bytes per 2 MiB of segment) to leaf pages of SLOT_FANOUT physical
 * addresses, each leaf allocated with the first page it holds. So a huge segment costs nothing
 * until used, and running out of memory happens at a fault, where the OOM policy (mm/oom.c) can
 * pick a victim, not at shmget.
 * Limits are Linux's defaults (ipc/shm.c, include/uapi/linux/shm.h): SHMMAX bytes per segment,
 * SHMALL pages in all segments, SHMMNI segments; and, as Linux's overcommit heuristic
 * (__vm_enough_memory, mode 0) refuses a single request larger than RAM, a segment bigger than
 * RAM is ENOMEM.
 * shmat maps the segment into a MAP_SHARED VMA whose vm_ops lead back to the segment;
 * every VMA mapping a segment counts one attachment, so fork (which copies VMAs), a split of the
 * VMA, munmap/shmdt, exec and exit keep nattch true through the ops' open and close. IPC_RMID
 * hides the key at once and frees the pages when the last attachment goes.
 *
 * MAP_SHARED|MAP_ANONYMOUS memory is an unnamed segment (shm_map_anon, Linux's shmem_zero_setup):
 * removed from birth and in no table, so it lives exactly as long as some mapping of it (fork
 * shares it), with pages at first touch like any segment.
 *
 * /proc/sys/kernel/shmmax, shmall and shmmni show the limits (read-only: Ember's are fixed).
 *
 * Locking: shm_lock (a spinlock) guards the segment table and every segment's fields. It is taken
 * under mm->lock (VMA teardown), never the other way round; nothing under it sleeps.
 * Ember has one user (root), so the mode bits never refuse access (as for Linux's root).
 */
#include "ipc/shm/shm.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "kernel/systime.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"
#include "fs/fs.h"
#include "kernel/init.h"
#include "kernel/printk.h"

#define IPC_PRIVATE 0
#define IPC_CREAT 01000
#define IPC_EXCL 02000
#define IPC_RMID 0
#define IPC_SET 1
#define IPC_STAT 2
#define IPC_INFO 3
#define IPC_64 0x100
#define SHM_STAT 13
#define SHM_INFO 14
#define SHM_STAT_ANY 15
#define SHM_RDONLY 010000
#define SHM_RND 020000
#define SHM_REMAP 040000
#define SHM_EXEC 0100000
#define SHM_DEST 01000              /* mode flag: marked for destruction */
#define SHMLBA PAGE_SIZE
#define SHMMIN 1UL
#define SHMMNI 4096
#define SHMSEG SHMMNI
#define SHMMAX (~0UL - (1UL << 24))  /* bytes per segment (Linux's default) */
#define SHMALL (~0UL - (1UL << 24))  /* pages in all segments (Linux's default) */
#define SLOT_SHIFT 9
#define SLOT_FANOUT (1UL << SLOT_SHIFT)    /* physical addresses per leaf page */
#define IPCMNI_SEQ_SHIFT 15          /* id = seq << 15 | index, as Linux */
#define MODE_BITS 0777

struct shm_seg {
	int key, index;
	unsigned seq;
	size_t size;
	uint64_t npages;
	paddr_t **dir;                  /* ceil(npages / SLOT_FANOUT) leaves, NULL until touched */
	uint64_t resident;              /* pages allocated so far */
	unsigned mode;
	unsigned uid, gid, cuid, cgid;
	int cpid, lpid;
	long atime, dtime, ctime;
	unsigned long nattch;
	bool removed;
};

struct ipc64_perm { int key; unsigned uid, gid, cuid, cgid, mode; unsigned short seq, pad2; unsigned long u1, u2; };
struct shmid64_ds {
	struct ipc64_perm perm;
	size_t segsz;
	long atime, dtime, ctime;
	int cpid, lpid;
	unsigned long nattch, u4, u5;
};
struct shminfo64 { unsigned long shmmax, shmmin, shmmni, shmseg, shmall, u1, u2, u3, u4; };
struct shm_info { int used_ids; int pad; unsigned long shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes; };

static struct spinlock shm_lock = SPINLOCK_INIT("shm");
static struct shm_seg *segs[SHMMNI];
static unsigned next_seq;
static int max_index = -1;
static uint64_t shm_tot;              /* pages of all segments (SHMALL) */

static long now_s(void) { return (long)((time_ns() + realtime_offset_ns()) / NSEC_PER_SEC); }
static int seg_id(const struct shm_seg *s) { return (int)(s->seq << IPCMNI_SEQ_SHIFT | (unsigned)s->index); }

static uint64_t dir_len(uint64_t npages) { return (npages + SLOT_FANOUT - 1) >> SLOT_SHIFT; }

/* Drops the segment's pages (a mapping that still holds one keeps it: page refcounts). No lock:
 * the segment is out of the table and has no attachment. */
static void free_seg(struct shm_seg *s)
{
	for (uint64_t d = 0; s->dir && d < dir_len(s->npages); d++) {
		if (!s->dir[d])
			continue;
		for (uint64_t i = 0; i < SLOT_FANOUT; i++)
			if (s->dir[d][i])
				page_put(s->dir[d][i]);
		free_pages(s->dir[d], 0);
	}
	kfree(s->dir);
	kfree(s);
}

/* shm_lock held */
static struct shm_seg *find_id(int id)
{
	int index = id & ((1 << IPCMNI_SEQ_SHIFT) - 1);
	if (id < 0 || index >= SHMMNI)
		return NULL;
	struct shm_seg *s = segs[index];
	return s && seg_id(s) == id ? s : NULL;
}

static struct shm_seg *find_key(int key)
{
	for (int i = 0; i <= max_index; i++)
		if (segs[i] && !segs[i]->removed && segs[i]->key == key)
			return segs[i];
	return NULL;
}

/* the segment goes when it is removed and nobody maps it. shm_lock held; returns it to free. */
static struct shm_seg *maybe_destroy(struct shm_seg *s)
{
	if (!s->removed || s->nattch)
		return NULL;
	if (s->index >= 0) {                    /* not an unnamed one (shm_map_anon) */
		segs[s->index] = NULL;
		shm_tot -= s->npages;
	}
	return s;
}

/* ---- the mapping side (mm/uvm.h's vm_ops): mm->lock held, must not sleep ---- */

static void shm_vma_open(struct vma *v)
{
	struct shm_seg *seg = v->priv;
	spin_lock(&shm_lock);
	seg->nattch++;
	spin_unlock(&shm_lock);
}

static void shm_vma_close(struct vma *v)
{
	struct shm_seg *seg = v->priv;
	spin_lock(&shm_lock);
	seg->nattch--;
	seg->dtime = now_s();
	if (current->proc)
		seg->lpid = current->proc->pid;
	struct shm_seg *dead = maybe_destroy(seg);
	spin_unlock(&shm_lock);
	if (dead)
		free_seg(dead);
}

/* The segment's page (with a reference for the mapping), allocated and zeroed at its first touch;
 * 0 outside the segment or when memory is out (the fault then asks mm/oom.c and retries). */
static paddr_t shm_vma_page(struct vma *v, uint64_t pgoff)
{
	struct shm_seg *seg = v->priv;
	if (pgoff >= seg->npages)
		return 0;
	paddr_t pa = 0;
	spin_lock(&shm_lock);
	paddr_t **leaf = &seg->dir[pgoff >> SLOT_SHIFT];
	if (!*leaf)
		*leaf = alloc_pages(0, PAGE_ZERO);
	paddr_t *slot = *leaf ? &(*leaf)[pgoff & (SLOT_FANOUT - 1)] : NULL;
	if (slot && !*slot && (*slot = page_alloc(0, PAGE_ZERO)))
		seg->resident++;
	if (slot && *slot) {
		pa = *slot;
		page_get(pa);
	}
	spin_unlock(&shm_lock);
	return pa;
}

static const struct vm_ops shm_vm_ops = { .open = shm_vma_open, .close = shm_vma_close, .page = shm_vma_page };
/* the same for unnamed segments (MAP_SHARED|MAP_ANONYMOUS): a distinct table so shmdt refuses them */
static const struct vm_ops shm_anon_vm_ops = { .open = shm_vma_open, .close = shm_vma_close, .page = shm_vma_page };

/* A segment of npages with its empty page table, or NULL (kzalloc'd fields otherwise). */
static struct shm_seg *seg_new(uint64_t npages)
{
	struct shm_seg *s = kzalloc(sizeof(*s));
	paddr_t **dir = s ? kzalloc(dir_len(npages) * sizeof(*dir)) : NULL;
	if (!dir) {
		kfree(s);
		return NULL;
	}
	s->dir = dir;
	s->npages = npages;
	return s;
}

long shm_map_anon(struct mm *mm, uintptr_t addr, size_t len, int prot, bool fixed, bool noreplace)
{
	uint64_t npages = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
	struct page_stats ps;
	page_get_stats(&ps);
	if (npages > ps.total)
		return -ENOMEM;                         /* Linux's overcommit heuristic: more than RAM */
	struct shm_seg *s = seg_new(npages);
	if (!s)
		return -ENOMEM;
	s->index = -1;                              /* in no table: freed with its last mapping */
	s->removed = true;
	s->mode = 0600;
	s->cpid = current->proc ? current->proc->pid : 0;
	s->ctime = now_s();
	s->nattch = 1;                              /* held while mapping; the VMA takes its own */
	long r = mm_map_owned(mm, fixed ? addr : 0, npages * PAGE_SIZE, prot, &shm_anon_vm_ops, s, !noreplace);
	if (r == -EINVAL && noreplace)
		r = -EEXIST;
	spin_lock(&shm_lock);
	s->nattch--;
	struct shm_seg *dead = maybe_destroy(s);
	spin_unlock(&shm_lock);
	if (dead)
		free_seg(dead);
	return r;
}

long sys_shmget(int key, size_t size, int flags)
{
	spin_lock(&shm_lock);
	struct shm_seg *s = key != IPC_PRIVATE ? find_key(key) : NULL;
	if (s) {
		long r = (flags & IPC_CREAT) && (flags & IPC_EXCL) ? -EEXIST : size > s->size ? -EINVAL : seg_id(s);
		spin_unlock(&shm_lock);
		return r;
	}
	spin_unlock(&shm_lock);
	if (key != IPC_PRIVATE && !(flags & IPC_CREAT))
		return -ENOENT;
	if (size < SHMMIN || size > SHMMAX)
		return -EINVAL;
	uint64_t npages = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;
	struct page_stats ps;
	page_get_stats(&ps);
	if (npages > ps.total)
		return -ENOMEM;                         /* Linux's overcommit heuristic: more than RAM */
	if (!(s = seg_new(npages)))
		return -ENOMEM;
	s->key = key;
	s->size = size;
	s->mode = (unsigned)flags & MODE_BITS;
	s->cpid = current->proc->pid;
	s->ctime = now_s();
	spin_lock(&shm_lock);
	if (key != IPC_PRIVATE && find_key(key)) {      /* lost a race with another creator */
		struct shm_seg *o = find_key(key);
		long r = (flags & IPC_EXCL) ? -EEXIST : size > o->size ? -EINVAL : seg_id(o);
		spin_unlock(&shm_lock);
		free_seg(s);
		return r;
	}
	int index = -1;
	for (int i = 0; i < SHMMNI && index < 0; i++)
		if (!segs[i])
			index = i;
	if (index < 0 || shm_tot + npages > SHMALL || shm_tot + npages < shm_tot) {
		spin_unlock(&shm_lock);
		free_seg(s);
		return -ENOSPC;
	}
	s->index = index;
	s->seq = next_seq++ & 0xffff;
	segs[index] = s;
	shm_tot += npages;
	if (index > max_index)
		max_index = index;
	long id = seg_id(s);
	spin_unlock(&shm_lock);
	return id;
}

long sys_shmat(int id, uintptr_t addr, int flags)
{
	struct mm *mm = current->mm;
	spin_lock(&shm_lock);
	struct shm_seg *s = find_id(id);
	if (!s) {
		spin_unlock(&shm_lock);
		return -EINVAL;
	}
	size_t len = s->npages * PAGE_SIZE;
	s->nattch++;                    /* held while mapping; the VMA takes its own */
	spin_unlock(&shm_lock);
	long r;
	if (addr) {
		if (flags & SHM_RND)
			addr = ALIGN_DOWN(addr, SHMLBA);
		if ((addr & (SHMLBA - 1)) || !access_ok(addr, len) || addr < USER_MIN_ADDR) {
			r = -EINVAL;
			goto out;
		}
	}
	int prot = PROT_READ | (flags & SHM_RDONLY ? 0 : PROT_WRITE) | (flags & SHM_EXEC ? PROT_EXEC : 0);
	r = mm_map_owned(mm, addr, len, prot, &shm_vm_ops, s, flags & SHM_REMAP);    /* addr 0: anywhere */
	if (r >= 0) {
		spin_lock(&shm_lock);
		s->atime = now_s();
		s->lpid = current->proc->pid;
		spin_unlock(&shm_lock);
	}
out:
	spin_lock(&shm_lock);           /* drop the temporary hold (the VMA has its own) */
	s->nattch--;
	struct shm_seg *dead = maybe_destroy(s);
	spin_unlock(&shm_lock);
	if (dead)
		free_seg(dead);
	return r;
}

long sys_shmdt(uintptr_t addr)
{
	if (addr & (SHMLBA - 1))
		return -EINVAL;
	return mm_unmap_owned(current->mm, addr, &shm_vm_ops);
}

static void fill_ds(struct shm_seg *s, struct shmid64_ds *d)
{
	memset(d, 0, sizeof(*d));
	d->perm.key = s->removed ? IPC_PRIVATE : s->key;
	d->perm.uid = s->uid;
	d->perm.gid = s->gid;
	d->perm.cuid = s->cuid;
	d->perm.cgid = s->cgid;
	d->perm.mode = s->mode | (s->removed ? SHM_DEST : 0);
	d->perm.seq = (unsigned short)s->seq;
	d->segsz = s->size;
	d->atime = s->atime;
	d->dtime = s->dtime;
	d->ctime = s->ctime;
	d->cpid = s->cpid;
	d->lpid = s->lpid;
	d->nattch = s->nattch;
}

long sys_shmctl(int id, int cmd, uintptr_t buf)
{
	cmd &= ~IPC_64;
	if (cmd == IPC_INFO) {
		struct shminfo64 in = { SHMMAX, SHMMIN, SHMMNI, SHMSEG, SHMALL, 0, 0, 0, 0 };
		if (copy_to_user(buf, &in, sizeof(in)) < 0)
			return -EFAULT;
		spin_lock(&shm_lock);
		long r = max_index < 0 ? 0 : max_index;
		spin_unlock(&shm_lock);
		return r;
	}
	if (cmd == SHM_INFO) {
		struct shm_info in;
		memset(&in, 0, sizeof(in));
		spin_lock(&shm_lock);
		for (int i = 0; i <= max_index; i++)
			if (segs[i]) {
				in.used_ids++;
				in.shm_tot += segs[i]->npages;
				in.shm_rss += segs[i]->resident;
			}
		long r = max_index < 0 ? 0 : max_index;
		spin_unlock(&shm_lock);
		return copy_to_user(buf, &in, sizeof(in)) < 0 ? -EFAULT : r;
	}
	struct shmid64_ds d;
	if (cmd == IPC_SET && copy_from_user(&d, buf, sizeof(d)) < 0)
		return -EFAULT;
	spin_lock(&shm_lock);
	struct shm_seg *s = (cmd == SHM_STAT || cmd == SHM_STAT_ANY) ? (id >= 0 && id < SHMMNI ? segs[id] : NULL) : find_id(id);
	long r = 0;
	struct shm_seg *dead = NULL;
	if (!s) {
		r = -EINVAL;
	} else {
		switch (cmd) {
		case IPC_STAT:
		case SHM_STAT:
		case SHM_STAT_ANY:
			fill_ds(s, &d);
			r = cmd == IPC_STAT ? 0 : seg_id(s);
			break;
		case IPC_SET:
			s->uid = d.perm.uid;
			s->gid = d.perm.gid;
			s->mode = (s->mode & ~MODE_BITS) | (d.perm.mode & MODE_BITS);
			s->ctime = now_s();
			break;
		case IPC_RMID:
			s->removed = true;
			s->ctime = now_s();
			dead = maybe_destroy(s);
			break;
		default:
			r = -EINVAL;
		}
	}
	spin_unlock(&shm_lock);
	if (dead)
		free_seg(dead);
	if (r >= 0 && (cmd == IPC_STAT || cmd == SHM_STAT || cmd == SHM_STAT_ANY) && copy_to_user(buf, &d, sizeof(d)) < 0)
		return -EFAULT;
	return r;
}

/* ---- /proc/sys/kernel/shm* ---- */

static size_t show_shmmax(char *buf, size_t size) { return MIN((size_t)snprintf(buf, size, "%lu\n", SHMMAX), size); }
static size_t show_shmall(char *buf, size_t size) { return MIN((size_t)snprintf(buf, size, "%lu\n", SHMALL), size); }
static size_t show_shmmni(char *buf, size_t size) { return MIN((size_t)snprintf(buf, size, "%d\n", SHMMNI), size); }

static void shm_proc_init(void)
{
	if (proc_create("/proc/sys/kernel/shmmax", show_shmmax) < 0 ||
	    proc_create("/proc/sys/kernel/shmall", show_shmall) < 0 ||
	    proc_create("/proc/sys/kernel/shmmni", show_shmmni) < 0)
		printk("shm: /proc/sys/kernel/shm* not created\n");
}
late_init(shm_proc_init);
