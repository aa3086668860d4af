/* System V shared memory (ipc/shm/shm.c): the system calls. Segments are mapped as owner-backed
 * VMAs (mm/uvm.h's vm_ops), so the address-space code knows nothing of shm. */
#ifndef IPC_SHM_H
#define IPC_SHM_H
#include "kernel/types.h"

long sys_shmget(int key, size_t size, int flags);
long sys_shmat(int id, uintptr_t addr, int flags);
long sys_shmdt(uintptr_t addr);
long sys_shmctl(int id, int cmd, uintptr_t buf);

#endif
