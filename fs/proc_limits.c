/*
 * /proc/<pid>/limits: the process's resource limits (kernel/rlimit.c) in Linux's format
 * (fs/proc/base.c proc_pid_limits): a header, then per limit its name, soft and hard values
 * ("unlimited" for RLIM_INFINITY) and its unit, in columns of 25, 20, 20 and 10 characters.
 */
#include "fs/internal.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/rlimit.h"
#include "lib/string.h"

struct limit_name { const char *name, *unit; };

static const struct limit_name names[RLIM_NLIMITS] = {
	[RLIMIT_CPU] = { "Max cpu time", "seconds" },
	[RLIMIT_FSIZE] = { "Max file size", "bytes" },
	[RLIMIT_DATA] = { "Max data size", "bytes" },
	[RLIMIT_STACK] = { "Max stack size", "bytes" },
	[RLIMIT_CORE] = { "Max core file size", "bytes" },
	[RLIMIT_RSS] = { "Max resident set", "bytes" },
	[RLIMIT_NPROC] = { "Max processes", "processes" },
	[RLIMIT_NOFILE] = { "Max open files", "files" },
	[RLIMIT_MEMLOCK] = { "Max locked memory", "bytes" },
	[RLIMIT_AS] = { "Max address space", "bytes" },
	[RLIMIT_LOCKS] = { "Max file locks", "locks" },
	[RLIMIT_SIGPENDING] = { "Max pending signals", "signals" },
	[RLIMIT_MSGQUEUE] = { "Max msgqueue size", "bytes" },
	[RLIMIT_NICE] = { "Max nice priority", NULL },
	[RLIMIT_RTPRIO] = { "Max realtime priority", NULL },
	[RLIMIT_RTTIME] = { "Max realtime timeout", "us" },
};

#define OUT(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))

size_t proc_limits_show(char *buf, size_t size, int pid)
{
	struct k_rlimit rl[RLIM_NLIMITS];
	int err = rlimit_get_pid(pid, rl);
	if (err)
		return (size_t)(long)err;
	size_t n = 0;
	OUT("%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		if (rl[i].cur == RLIM_INFINITY)
			OUT("%-25s %-20s ", names[i].name, "unlimited");
		else
			OUT("%-25s %-20lu ", names[i].name, (unsigned long)rl[i].cur);
		if (rl[i].max == RLIM_INFINITY)
			OUT("%-20s ", "unlimited");
		else
			OUT("%-20lu ", (unsigned long)rl[i].max);
		if (names[i].unit)
			OUT("%-10s\n", names[i].unit);
		else
			OUT("\n");
	}
	return MIN(n, size);
}
