/*
 * ember_netstat: the flow counters as structures, for tools that watch traffic while it runs
 * (DESIGN.md, observability). The records and their meaning are in include/uapi/ember/netstat.h; the TCP
 * records come from net/sock_tcp.c's list of sockets, the squeue records from net/squeue.c.
 * Records are gathered into a kernel buffer first (under the protocol's list lock, never while
 * copying to user memory), then copied out.
 */
#include "net/flow_stats.h"
#include "net/squeue.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "lib/string.h"
#include "mm/uaccess.h"

#define NETSTAT_MAX_RECORDS 4096     /* most records one call returns */

static long copy_records(const void *recs, size_t have, size_t rec_size, uintptr_t ubuf, size_t size)
{
	size_t fit = MIN(have, size / rec_size);
	if (fit && copy_to_user(ubuf, recs, fit * rec_size))
		return -EFAULT;
	return 0;
}

long sys_ember_netstat(int what, uintptr_t ubuf, size_t size)
{
	if (what == EMBER_NETSTAT_FLOWS) {
		size_t want = MIN(size / sizeof(struct ember_flow_stat), (size_t)NETSTAT_MAX_RECORDS);
		struct ember_flow_stat *buf = want ? kmalloc(want * sizeof(*buf)) : NULL;
		if (want && !buf)
			return -ENOMEM;
		size_t n = tcp_flow_stats(buf, want);
		long r = copy_records(buf, MIN(n, want), sizeof(*buf), ubuf, size);
		kfree(buf);
		return r < 0 ? r : (long)n;
	}
	if (what == EMBER_NETSTAT_SQUEUES) {
		struct ember_sq_stat recs[NCPU];
		size_t n = 0;
		for (int c = 0; c < NCPU; c++) {
			struct squeue *sq = squeue_of_cpu(c);
			if (!sq)
				continue;
			struct squeue_stats st;
			squeue_get_stats(sq, &st);
			recs[n++] = (struct ember_sq_stat){
				.cpu = (uint32_t)c, .queue_len = st.queue_len,
				.inline_entries = st.inline_entries, .queued_entries = st.queued_entries,
				.drains = st.drains, .handoffs = st.handoffs, .worker_runs = st.worker_runs,
				.items = st.items, .max_queue = st.max_queue, .lock_ns = st.lock_ns,
				.lock_max_ns = st.lock_max_ns, .lock_wait_ns = st.lock_wait_ns,
				.lock_contended = st.lock_contended,
			};
		}
		long r = copy_records(recs, n, sizeof(recs[0]), ubuf, size);
		return r < 0 ? r : (long)n;
	}
	return -EINVAL;
}
