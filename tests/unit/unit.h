/*
 * A tiny host unit-test framework. Each tests/unit/test_*.c defines UNIT_TESTS(...) cases with
 * TEST(name) { CHECK(cond); ... } and is linked with the kernel sources named on its
 * "unit-sources:" comment line (see tests/unit/run.sh). Kernel code is compiled with -DHOST_TEST,
 * where kernel/mm.h maps "physical" addresses 1:1 onto host memory and the stubs in unit.c stand in
 * for spinlocks, printk and panic (single-threaded).
 */
#ifndef TESTS_UNIT_H
#define TESTS_UNIT_H
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>

struct unit_case { const char *name; void (*fn)(void); };
extern int unit_failed_checks;

#define TEST(name) static void test_##name(void)
#define CHECK(cond) do { if (!(cond)) { \
	printf("  check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); unit_failed_checks++; } } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); if (_a != _b) { \
	printf("  check failed: %s == %s (%lld != %lld) (%s:%d)\n", #a, #b, _a, _b, __FILE__, __LINE__); \
	unit_failed_checks++; } } while (0)
#define CASE(name) { #name, test_##name }
#define UNIT_TESTS(...) \
	static const struct unit_case unit_cases[] = { __VA_ARGS__ }; \
	int main(void) { return unit_run(unit_cases, sizeof(unit_cases) / sizeof(unit_cases[0])); }

int unit_run(const struct unit_case *cases, int n);
/* Counted by the panic() stub: a test can expect a panic with UNIT_EXPECT_PANIC(). */
extern int unit_panics;

/*
 * UNIT_EXPECT_PANIC(stmt): run stmt, which must panic. The panic() stub longjmps back here (instead
 * of failing the whole case) and the test goes on; if stmt returns normally, a check fails. Nests.
 * Code that panics while holding a (stub) spinlock leaves it held, so expect panics only from code
 * that checks before locking.
 */
extern jmp_buf *unit_expect_jmp;
#define UNIT_EXPECT_PANIC(stmt) do { \
	jmp_buf _uej, *_uprev = unit_expect_jmp; \
	unit_expect_jmp = &_uej; \
	if (setjmp(_uej) == 0) { \
		stmt; \
		unit_expect_jmp = _uprev; \
		printf("  expected a panic: %s (%s:%d)\n", #stmt, __FILE__, __LINE__); \
		unit_failed_checks++; \
	} else { \
		unit_expect_jmp = _uprev; \
	} } while (0)

#endif
