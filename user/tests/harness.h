/* A tiny test harness for user/tests/: CHECK prints PASS/FAIL lines; main ends with the
 * "N passed, N failed" line and exits 0 only when everything passed. Every test runs both under
 * qemu-riscv64-static (Linux answers) and inside Ember. */
#ifndef USER_TESTS_HARNESS_H
#define USER_TESTS_HARNESS_H
#include <stdio.h>
#include <stdlib.h>

static int t_passed, t_failed;

#define PASS(name) do { printf("PASS %s\n", name); t_passed++; } while (0)
#define FAIL(name, ...) do { printf("FAIL %s: ", name); printf(" " __VA_ARGS__); printf("\n"); t_failed++; } while (0)
#define CHECK(name, cond, ...) do { if (cond) PASS(name); else FAIL(name, __VA_ARGS__); } while (0)
#define SKIP(name, why) printf("SKIP %s: %s\n", name, why)

static inline int t_finish(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	fflush(stdout);
	return t_failed ? 1 : 0;
}

#endif
