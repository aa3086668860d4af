/* The test kernel's monitor (kernel/debug/monitor.c): a console command loop run by a kernel thread
 * when there is no init to run. */
#ifndef KERNEL_MONITOR_H
#define KERNEL_MONITOR_H
typedef void (*monitor_fn)(int argc, char **argv);

/* Subsystems add their own commands at boot (before monitor_start); returns -1 when full. */
int monitor_add_command(const char *name, const char *help, monitor_fn fn);
#endif
