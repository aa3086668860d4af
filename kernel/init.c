/* Runs the start-up functions collected by the *_init() macros (kernel/init.h has the levels). */
#include "kernel/init.h"

extern const initcall_t __initcall_start[], __initcall_end[];

void initcalls_run(void)
{
	for (const initcall_t *fn = __initcall_start; fn < __initcall_end; fn++)
		(*fn)();
}
