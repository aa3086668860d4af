/* System V shared memory (ipc/shm/shm.c): the system calls. Segments are mapped as owner-backed
 * VMAs (mm/uvm.h's vm_ops), so the address-space code knows nothing of shm. */
#ifndef IPC_SHM_H
#define IPC_SHM_H
#include "kernel/types.h"

long sys_shmget(int key, size_t size, int flags);
long sys_shmat(int id, uintptr_t addr, int flags);
long sys_shmdt(uintptr_t addr);
long sys_shmctl(int id, int cmd, uintptr_t buf);
struct mm;
/* MAP_SHARED|MAP_ANONYMOUS (mm/uvm.c's mmap): an unnamed segment mapped at addr (fixed; replacing
 * what is there unless noreplace, then -EEXIST) or anywhere; pages at first touch. The address or
 * -errno. */
long shm_map_anon(struct mm *mm, uintptr_t addr, size_t len, int prot, bool fixed, bool noreplace);

#endif
