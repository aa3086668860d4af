/*
 * lwIP's system layer for Ember with NO_SYS=1: no threads, semaphores or mailboxes, only time
 * (sys_now: milliseconds from the kernel clock; sys_jiffies: scheduler ticks) and the lightweight
 * protection lwIP wraps around pbuf reference counts and statistics counters.
 *
 * SYS_ARCH_PROTECT is a recursive spinlock (the same CPU may nest it; it disables interrupts like
 * every spinlock). It is a leaf: nothing is taken inside it. It is what makes pbuf_free,
 * pbuf_ref and pbuf_alloc(PBUF_RAM) safe outside the stack lock (net/stack.h).
 */
#ifndef EMBER_LWIP_ARCH_SYS_ARCH_H
#define EMBER_LWIP_ARCH_SYS_ARCH_H

typedef unsigned long sys_prot_t;

#define SYS_ARCH_DECL_PROTECT(lev) sys_prot_t lev
#define SYS_ARCH_PROTECT(lev) lev = sys_arch_protect()
#define SYS_ARCH_UNPROTECT(lev) sys_arch_unprotect(lev)
sys_prot_t sys_arch_protect(void);
void sys_arch_unprotect(sys_prot_t lev);

#endif
