/*
 * Time and timers. The clock is the RISC-V `time` CSR at the device tree's timebase-frequency.
 * Each CPU has a timer queue and a periodic scheduler tick (SCHED_HZ); the hardware timer (Sstc
 * stimecmp when the ISA string has it, else SBI set_timer) is programmed for whichever comes first.
 */
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H
#include "kernel/timerq.h"

#define SCHED_HZ 100
#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

extern uint64_t timebase_hz;

void timer_init(uint64_t hz, bool sstc);   /* boot CPU, once */
void timer_cpu_init(void);                 /* every CPU: start its tick */
void timer_interrupt(void);                /* trap handler: supervisor timer interrupt */
uint64_t time_now(void);                   /* timebase ticks since reset */
uint64_t time_ns(void);                    /* nanoseconds since reset */
uint64_t ns_to_ticks(uint64_t ns);
uint64_t ticks_to_ns(uint64_t ticks);

void timer_setup(struct timer *t, void (*fn)(void *), void *arg);
void timer_add(struct timer *t, uint64_t deadline);   /* on this CPU's queue */
void timer_cancel(struct timer *t);                   /* returns once fn is not running */

#endif
