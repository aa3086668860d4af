/*
 * Periodic write-back: every WRITEBACK_INTERVAL_MS a kernel thread syncs every file system, as
 * Linux's flusher threads and the JBD2 commit interval do together. It is what bounds the work a
 * crash can lose on a disk file system that batches its journal commits (ext4: a transaction
 * commits at most a few seconds after its first change even when nothing else happens); file
 * systems with nothing to write answer at once (ext4 skips the device flush then).
 */
#include "fs/internal.h"
#include "fs/mount.h"
#include "kernel/init.h"
#include "kernel/printk.h"
#include "kernel/sched.h"

#define WRITEBACK_INTERVAL_MS 5000

static void writeback_thread(void *arg)
{
	(void)arg;
	for (;;) {
		msleep(WRITEBACK_INTERVAL_MS);
		sync_all();
	}
}

static void writeback_start(void)
{
	if (!kthread_create(writeback_thread, NULL, "writeback", -1))
		printk("writeback: cannot start the thread\n");
}
late_init(writeback_start);
