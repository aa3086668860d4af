// unit-sources: drivers/virtio/virtq.c
/* Host tests of the split-virtqueue bookkeeping: free-running 16-bit indices across the wrap, the
 * descriptor free list, chains, event-suppression flags and a misbehaving device. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "drivers/virtio/virtq.h"

/* A fake device: consumes avail entries in order and returns them in the used ring. */
struct fakedev {
	uint16_t next_avail;           /* next avail index the device will read */
};

static struct virtq vq;
static void *mem;
static void **cookies;

static void setup(unsigned num)
{
	free(mem);
	free(cookies);
	size_t sz = virtq_ring_size(num);
	CHECK(posix_memalign(&mem, VIRTQ_LEGACY_ALIGN, sz) == 0);
	memset(mem, 0, sz);
	cookies = calloc(num, sizeof(void *));
	CHECK_EQ(virtq_init(&vq, num, mem, (paddr_t)(uintptr_t)mem, cookies), 0);
}

/* Device side: take one avail chain, walk it, and return it as used with `len` written. */
static int dev_complete(struct fakedev *d, uint32_t len)
{
	if (d->next_avail == vq.avail->idx)
		return -1;
	uint16_t head = vq.avail->ring[d->next_avail % vq.num];
	d->next_avail++;
	uint16_t slot = vq.used->idx % vq.num;
	vq.used->ring[slot].id = head;
	vq.used->ring[slot].len = len;
	vq.used->idx++;
	return head;
}

static unsigned chain_len(uint16_t head)
{
	unsigned n = 1;
	while (vq.desc[head].flags & VIRTQ_DESC_F_NEXT) {
		head = vq.desc[head].next;
		n++;
	}
	return n;
}

TEST(layout)
{
	/* 256 entries: 4 KiB of descriptors, avail ring, used ring on the next 4 KiB boundary */
	CHECK_EQ(virtq_ring_size(256), 8192 + 4 + 8 * 256 + 2);
	setup(256);
	CHECK_EQ((char *)vq.avail - (char *)vq.desc, 4096);
	CHECK_EQ((char *)vq.used - (char *)vq.desc, 8192);
	CHECK_EQ(vq.used_pa - vq.desc_pa, 8192);
	CHECK_EQ(virtq_num_free(&vq), 256);
	void *c[1];
	CHECK(virtq_init(&vq, 100, mem, 0, c) < 0);     /* not a power of two */
	CHECK(virtq_init(&vq, 0, mem, 0, c) < 0);
	setup(8);
}

TEST(fill_and_drain)
{
	setup(8);
	struct fakedev d = { 0 };
	int tokens[8];
	struct virtq_buf b = { 0x1000, 100, true };
	for (int i = 0; i < 8; i++)
		CHECK(virtq_add(&vq, &b, 1, &tokens[i]) >= 0);
	CHECK_EQ(virtq_num_free(&vq), 0);
	CHECK_EQ(virtq_add(&vq, &b, 1, &tokens[0]), -1);    /* full: nothing changes */
	CHECK_EQ(vq.avail->idx, 8);
	CHECK(!virtq_has_used(&vq));
	uint32_t len;
	CHECK(virtq_get_used(&vq, &len) == NULL);
	for (int i = 0; i < 8; i++)
		CHECK(dev_complete(&d, 60 + i) >= 0);
	CHECK(dev_complete(&d, 0) < 0);
	for (int i = 0; i < 8; i++) {
		CHECK(virtq_has_used(&vq));
		CHECK(virtq_get_used(&vq, &len) == &tokens[i]);    /* in order, with their lengths */
		CHECK_EQ(len, 60 + i);
	}
	CHECK(!virtq_has_used(&vq));
	CHECK_EQ(virtq_num_free(&vq), 8);
}

TEST(indices_wrap_at_16_bits)
{
	/* 70,000 round trips through a 16-entry queue: avail->idx and used->idx pass 65535 -> 0 while
	 * the slot sequence and the free count stay right. */
	setup(16);
	struct fakedev d = { 0 };
	int tok[16];
	struct virtq_buf b = { 0x2000, 1500, false };
	unsigned long added = 0, done = 0;
	bool wrapped = false;
	while (done < 70000) {
		while (virtq_num_free(&vq) > 0 && added - done < 11) {   /* uneven occupancy */
			int h = virtq_add(&vq, &b, 1, &tok[added % 16]);
			CHECK(h >= 0);
			added++;
		}
		for (int k = 0; k < 3; k++)
			dev_complete(&d, (uint32_t)k);
		uint32_t len;
		void *c;
		while ((c = virtq_get_used(&vq, &len)) != NULL) {
			CHECK(c == &tok[done % 16]);
			done++;
		}
		CHECK_EQ(virtq_num_free(&vq) + (added - done), 16);
		CHECK_EQ(vq.avail_idx, (uint16_t)added);
		CHECK_EQ(vq.last_used, (uint16_t)done);
		if (vq.last_used < 16 && done > 16)
			wrapped = true;
		if (unit_failed_checks)
			break;
	}
	CHECK(wrapped);
	CHECK_EQ((uint16_t)(vq.avail->idx - vq.last_used), added - done);
}

TEST(chains_and_free_list)
{
	setup(8);
	struct fakedev d = { 0 };
	int t1, t2, t3;
	struct virtq_buf three[3] = { { 0x1000, 12, false }, { 0x2000, 1514, false }, { 0x3000, 64, true } };
	int h1 = virtq_add(&vq, three, 3, &t1);
	int h2 = virtq_add(&vq, three, 3, &t2);
	CHECK(h1 >= 0 && h2 >= 0 && h1 != h2);
	CHECK_EQ(chain_len((uint16_t)h1), 3);
	CHECK_EQ(vq.desc[h1].flags, VIRTQ_DESC_F_NEXT);
	uint16_t last = vq.desc[vq.desc[h1].next].next;
	CHECK_EQ(vq.desc[last].flags, VIRTQ_DESC_F_WRITE);
	CHECK_EQ(vq.desc[last].addr, 0x3000);
	CHECK_EQ(virtq_num_free(&vq), 2);
	CHECK_EQ(virtq_add(&vq, three, 3, &t3), -1);      /* 2 free: a 3-chain does not fit */
	CHECK_EQ(virtq_num_free(&vq), 2);
	CHECK_EQ(vq.avail->idx, 2);
	/* the device returns the second chain first */
	d.next_avail = 1;
	CHECK_EQ(dev_complete(&d, 5), h2);
	uint32_t len;
	CHECK(virtq_get_used(&vq, &len) == &t2);
	CHECK_EQ(virtq_num_free(&vq), 5);
	/* its descriptors are reused by the next chain */
	int h3 = virtq_add(&vq, three, 3, &t3);
	CHECK_EQ(h3, h2);
	d.next_avail = 0;
	CHECK_EQ(dev_complete(&d, 7), h1);
	CHECK(virtq_get_used(&vq, &len) == &t1);
	CHECK_EQ(virtq_num_free(&vq), 5);
	CHECK_EQ(virtq_add(&vq, three, 0, &t1), -1);
	CHECK_EQ(virtq_add(&vq, three, VIRTQ_CHAIN_MAX + 1, &t1), -1);
}

TEST(bogus_device_entries_are_skipped)
{
	setup(8);
	int t;
	struct virtq_buf b = { 0x1000, 100, true };
	int h = virtq_add(&vq, &b, 1, &t);
	CHECK(h >= 0);
	/* an id out of range, an id that is not in flight, then the real one */
	vq.used->ring[0] = (struct virtq_used_elem){ 999, 1 };
	vq.used->ring[1] = (struct virtq_used_elem){ (uint32_t)(h + 1), 1 };
	vq.used->ring[2] = (struct virtq_used_elem){ (uint32_t)h, 42 };
	vq.used->idx = 3;
	uint32_t len = 0;
	CHECK(virtq_get_used(&vq, &len) == &t);
	CHECK_EQ(len, 42);
	CHECK_EQ(vq.bad_used, 2);
	CHECK_EQ(virtq_num_free(&vq), 8);
	/* a chain returned twice counts as bogus the second time */
	vq.used->ring[3] = (struct virtq_used_elem){ (uint32_t)h, 42 };
	vq.used->idx = 4;
	CHECK(virtq_get_used(&vq, &len) == NULL);
	CHECK_EQ(vq.bad_used, 3);
	CHECK_EQ(virtq_num_free(&vq), 8);
}

TEST(event_suppression)
{
	setup(8);
	struct fakedev d = { 0 };
	int t;
	struct virtq_buf b = { 0x1000, 100, true };
	virtq_disable_cb(&vq);
	CHECK(vq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	CHECK(virtq_enable_cb(&vq));                 /* nothing pending: safe to wait for the interrupt */
	CHECK(!(vq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT));
	virtq_disable_cb(&vq);
	virtq_add(&vq, &b, 1, &t);
	dev_complete(&d, 1);
	CHECK(!virtq_enable_cb(&vq));                /* raced with the device: caller must poll again */
	CHECK(virtq_need_notify(&vq));
	vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	CHECK(!virtq_need_notify(&vq));
	free(mem);
	free(cookies);
	mem = NULL;
	cookies = NULL;
}

UNIT_TESTS(CASE(layout), CASE(fill_and_drain), CASE(indices_wrap_at_16_bits), CASE(chains_and_free_list),
	   CASE(bogus_device_entries_are_skipped), CASE(event_suppression))
