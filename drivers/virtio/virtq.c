/*
 * Split-virtqueue bookkeeping (theory in virtq.h). Ordering with the device: the descriptors and
 * the avail ring entry are written before avail->idx (a full fence between them), and the used
 * entries are read only after used->idx (a fence after the read). The device is another agent
 * sharing RAM (QEMU threads), so ordinary fences are enough: no cache maintenance on RISC-V.
 * No locking here: each queue has one owner at a time (the driver's lock or its poll context).
 */
#include "drivers/virtio/virtq.h"
#include "lib/string.h"

static inline void vq_mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

static size_t avail_size(unsigned num) { return sizeof(struct virtq_avail) + sizeof(uint16_t) * (num + 1); }
static size_t used_size(unsigned num) { return sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * num + sizeof(uint16_t); }

size_t virtq_ring_size(unsigned num)
{
	size_t used_off = ALIGN_UP(sizeof(struct virtq_desc) * num + avail_size(num), (size_t)VIRTQ_LEGACY_ALIGN);
	return used_off + used_size(num);
}

int virtq_init(struct virtq *vq, unsigned num, void *mem, paddr_t mem_pa, void **cookie)
{
	if (num == 0 || num > VIRTQ_MAX_SIZE || (num & (num - 1)))
		return -1;
	size_t used_off = ALIGN_UP(sizeof(struct virtq_desc) * num + avail_size(num), (size_t)VIRTQ_LEGACY_ALIGN);
	memset(vq, 0, sizeof(*vq));
	vq->num = num;
	vq->desc = mem;
	vq->avail = (struct virtq_avail *)((char *)mem + sizeof(struct virtq_desc) * num);
	vq->used = (struct virtq_used *)((char *)mem + used_off);
	vq->desc_pa = mem_pa;
	vq->avail_pa = mem_pa + sizeof(struct virtq_desc) * num;
	vq->used_pa = mem_pa + used_off;
	vq->cookie = cookie;
	for (unsigned i = 0; i < num; i++) {
		vq->desc[i].next = (uint16_t)(i + 1 < num ? i + 1 : 0);
		cookie[i] = NULL;
	}
	vq->free_head = 0;
	vq->num_free = num;
	return 0;
}

int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned n, void *cookie)
{
	if (n == 0 || n > VIRTQ_CHAIN_MAX || n > vq->num_free || !cookie)
		return -1;
	uint16_t head = vq->free_head, d = head;
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *e = &vq->desc[d];
		uint16_t next = e->next;
		e->addr = bufs[i].addr;
		e->len = bufs[i].len;
		e->flags = (uint16_t)((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		d = next;
	}
	vq->free_head = d;           /* the descriptor after the chain's last one */
	vq->num_free -= n;
	vq->cookie[head] = cookie;
	vq->avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx++;
	vq_mb();                     /* descriptors and ring entry before the index */
	WRITE_ONCE(vq->avail->idx, vq->avail_idx);
	return head;
}

bool virtq_has_used(struct virtq *vq)
{
	return READ_ONCE(vq->used->idx) != vq->last_used;
}

/* Give the chain starting at head back to the free list. Returns false for a malformed chain
 * (a cycle or an index out of range), which is then leaked rather than corrupting the list. */
static bool free_chain(struct virtq *vq, uint16_t head)
{
	uint16_t d = head;
	unsigned n = 1;
	while (vq->desc[d].flags & VIRTQ_DESC_F_NEXT) {
		d = vq->desc[d].next;
		if (d >= vq->num || ++n > VIRTQ_CHAIN_MAX)
			return false;
	}
	vq->desc[d].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
	return true;
}

void *virtq_get_used(struct virtq *vq, uint32_t *len)
{
	for (;;) {
		uint16_t used_idx = READ_ONCE(vq->used->idx);
		if (used_idx == vq->last_used)
			return NULL;
		vq_mb();                     /* the index before the entries it covers */
		struct virtq_used_elem *e = &vq->used->ring[vq->last_used % vq->num];
		uint32_t id = READ_ONCE(e->id), l = READ_ONCE(e->len);
		vq->last_used++;
		void *cookie = id < vq->num ? vq->cookie[id] : NULL;
		if (!cookie || !free_chain(vq, (uint16_t)id)) {
			vq->bad_used++;
			continue;
		}
		vq->cookie[id] = NULL;
		*len = l;
		return cookie;
	}
}

void virtq_disable_cb(struct virtq *vq)
{
	WRITE_ONCE(vq->avail->flags, (uint16_t)(vq->avail->flags | VIRTQ_AVAIL_F_NO_INTERRUPT));
}

bool virtq_enable_cb(struct virtq *vq)
{
	WRITE_ONCE(vq->avail->flags, (uint16_t)(vq->avail->flags & ~VIRTQ_AVAIL_F_NO_INTERRUPT));
	vq_mb();                         /* flag visible before we look at the used index */
	return !virtq_has_used(vq);
}

bool virtq_need_notify(struct virtq *vq)
{
	vq_mb();                         /* avail->idx visible before we read the device's flag */
	return !(READ_ONCE(vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY);
}
