/* Host-side runner and stubs for kernel code built with -DHOST_TEST (see unit.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <setjmp.h>
#include "tests/unit/unit.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"

int unit_failed_checks;
int unit_panics;
int unit_locks_held;           /* stub spinlocks and irq_push_off held (may_sleep) */
int host_cpu_id;
struct cpu cpus[NCPU];
int ncpus = 4;

static jmp_buf panic_jmp;
static int in_case;
jmp_buf *unit_expect_jmp;     /* set inside UNIT_EXPECT_PANIC: where an expected panic returns */

/* Runs one case; an unexpected panic longjmps back here. Kept apart from unit_run so that no
 * local of the loop is live across setjmp (-Wclobbered). */
static void run_case(void (*fn)(void))
{
	host_cpu_id = 0;
	in_case = 1;
	if (setjmp(panic_jmp) == 0)
		fn();
	else
		unit_failed_checks++;
	in_case = 0;
	unit_expect_jmp = NULL;
}

int unit_run(const struct unit_case *cases, int n)
{
	int passed = 0, failed = 0;
	for (int i = 0; i < NCPU; i++)
		cpus[i].id = i;
	const char *only = getenv("UNIT_ONLY");      /* a developer's filter: cases whose name holds it */
	for (int i = 0; i < n; i++) {
		if (only && *only && !strstr(cases[i].name, only))
			continue;
		int before = unit_failed_checks;
		run_case(cases[i].fn);
		if (unit_failed_checks == before) {
			printf("PASS %s\n", cases[i].name);
			passed++;
		} else {
			printf("FAIL %s\n", cases[i].name);
			failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* Single-threaded stand-ins: a lock must never be taken twice (that would deadlock on the target). */
void spin_init(struct spinlock *l, const char *name) { l->locked = 0; l->cpu = -1; l->name = name; }
void spin_lock(struct spinlock *l)
{
	if (l->locked) {
		printf("  self-deadlock on %s\n", l->name);
		unit_failed_checks++;
	}
	l->locked = 1; l->cpu = host_cpu_id;
	unit_locks_held++;
}
void spin_unlock(struct spinlock *l) { l->locked = 0; l->cpu = -1; unit_locks_held--; }
bool spin_trylock(struct spinlock *l) { if (l->locked) return false; spin_lock(l); return true; }
bool spin_holding(const struct spinlock *l) { return l->locked && l->cpu == host_cpu_id; }
void irq_push_off(void) { unit_locks_held++; }
void irq_pop_off(void) { unit_locks_held--; }
bool may_sleep(void) { return unit_locks_held <= 0; }   /* kernel/assert.h's might_sleep() */

void vprintk(const char *fmt, va_list ap) { vprintf(fmt, ap); }
void printk(const char *fmt, ...) { va_list ap; va_start(ap, fmt); vprintf(fmt, ap); va_end(ap); }
void panic(const char *fmt, ...)
{
	va_list ap;
	printf("  panic: ");
	va_start(ap, fmt); vprintf(fmt, ap); va_end(ap);
	printf("\n");
	unit_panics++;
	if (unit_expect_jmp) {
		jmp_buf *j = unit_expect_jmp;
		unit_expect_jmp = NULL;
		longjmp(*j, 1);
	}
	if (in_case)
		longjmp(panic_jmp, 1);
	exit(2);
}
