/*
 * The buffer cache's boot set-up and its flusher thread (block/bcache.c has the theory; this part
 * is kept apart so the cache itself builds on the host for the unit tests).
 *
 * Size: BCACHE_RAM_FRACTION of RAM (an eighth) of unreferenced block data, in BCACHE_BUCKETS hash
 * buckets. The flusher wakes every BCACHE_FLUSH_MS and writes every dirty buffer back.
 */
#include "block/bcache.h"
#include "kernel/init.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "mm/page.h"

#define BCACHE_BUCKETS 1024
#define BCACHE_RAM_FRACTION 8
#define BCACHE_FLUSH_MS 1000

static void flusher(void *arg)
{
	(void)arg;
	for (;;) {
		msleep(BCACHE_FLUSH_MS);
		bcache_writeback(NULL, UINT32_MAX);
	}
}

static void bcache_boot(void)
{
	struct page_stats st;
	page_get_stats(&st);
	size_t bytes = st.total * PAGE_SIZE / BCACHE_RAM_FRACTION;
	if (bcache_init(BCACHE_BUCKETS, bytes) < 0)
		printk("bcache: no memory\n");
}
core_init(bcache_boot);

static void bcache_start(void)
{
	if (!kthread_create(flusher, NULL, "bflush", -1))
		printk("bcache: cannot start the flusher\n");
}
late_init(bcache_start);
