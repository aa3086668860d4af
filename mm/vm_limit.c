/*
 * RLIMIT_AS and RLIMIT_DATA for address spaces (kernel/rlimit.c holds the limits), as Linux's
 * may_expand_vm: a new mapping (mmap) or a heap growth (brk) fails with ENOMEM when the address
 * space's total size would exceed RLIMIT_AS, or when it is data (private and writable, the stack
 * excepted) and the data total would exceed RLIMIT_DATA.
 *
 * The totals are summed over the VMAs at each check (a walk under mm->lock; nothing is cached).
 * Simplification: a MAP_FIXED mapping over an existing range counts as if nothing were there.
 *
 * Context: process context, no lock held; takes mm->lock (a leaf).
 */
#include "mm/uvm.h"
#include "kernel/errno.h"
#include "kernel/rlimit.h"
#include "lib/list.h"

static bool is_data(int prot, int flags)
{
	return (prot & PROT_WRITE) && (flags & MAP_TYPE) == MAP_PRIVATE;
}

int mm_may_expand(struct mm *mm, size_t len, int prot, int flags)
{
	uint64_t as = rlimit_cur(RLIMIT_AS), data = rlimit_cur(RLIMIT_DATA);
	bool data_map = is_data(prot, flags);
	if (as == RLIM_INFINITY && (data == RLIM_INFINITY || !data_map))
		return 0;
	uint64_t total = 0, data_total = 0;
	spin_lock(&mm->lock);
	struct list_head *q;
	list_for_each(q, &mm->vmas) {
		struct vma *v = list_entry(q, struct vma, node);
		total += v->end - v->start;
		if (is_data(v->prot, v->flags) && v->end != USER_STACK_TOP)
			data_total += v->end - v->start;
	}
	spin_unlock(&mm->lock);
	if (as != RLIM_INFINITY && (total + len > as || total + len < total))
		return -ENOMEM;
	if (data_map && data != RLIM_INFINITY && (data_total + len > data || data_total + len < data_total))
		return -ENOMEM;
	return 0;
}
