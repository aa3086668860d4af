/* Out of memory (mm/oom.c): what to do when a page cannot be had. */
#ifndef MM_OOM_H
#define MM_OOM_H
#include "kernel/types.h"

#define OOM_SCORE_ADJ_MIN (-1000)          /* never chosen */
#define OOM_SCORE_ADJ_MAX 1000

/*
 * Called by a thread whose allocation failed, with no lock held (it sleeps): make memory free by
 * killing the process with the largest footprint (or wait for the one already killed), then tell
 * the caller whether retrying the allocation makes sense. false: the caller itself is being
 * killed, or nothing can be killed.
 */
bool out_of_memory(const char *why);
/* Whether the current thread is on its way out (SIGKILL pending, exiting): no point in waiting. */
bool oom_current_dying(void);

/* /proc/<pid>/oom_score (Linux's scale, 0..2000) and oom_score_adj; -ESRCH for no such process. */
long oom_score(int pid);
long oom_score_adj_get(int pid);
long oom_score_adj_set(int pid, long adj);     /* -EINVAL outside [-1000, 1000] */

#endif
