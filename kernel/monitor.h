/* The kernel monitor: a console command loop run by a kernel thread until user space exists. */
#ifndef KERNEL_MONITOR_H
#define KERNEL_MONITOR_H
void monitor_start(void);
#endif
