/* System V shared memory (ipc/shm/shm.c): the system calls and the hooks mm/uvm.c calls when a
 * VMA that maps a segment is created (fork, split) or destroyed (munmap, exec, exit). */
#ifndef IPC_SHM_H
#define IPC_SHM_H
#include "kernel/types.h"

struct shm_seg;

void shm_vma_open(struct shm_seg *seg);              /* one more VMA maps it */
void shm_vma_close(struct shm_seg *seg);             /* a VMA went away (detach) */
paddr_t shm_page(struct shm_seg *seg, uint64_t pgoff);   /* 0 outside the segment */

long sys_shmget(int key, size_t size, int flags);
long sys_shmat(int id, uintptr_t addr, int flags);
long sys_shmdt(uintptr_t addr);
long sys_shmctl(int id, int cmd, uintptr_t buf);

#endif
