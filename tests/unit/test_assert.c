// unit-sources:
/* kernel/assert.h's checks against the unit stubs: each fires exactly when its rule is broken. */
#include "tests/unit/unit.h"
#include "kernel/assert.h"
#include "kernel/spinlock.h"

static struct spinlock lk = SPINLOCK_INIT("unit_lk");

TEST(bug_on_and_assert)
{
	int before = unit_panics;
	BUG_ON(1 + 1 == 3);
	ASSERT(1 + 1 == 2);
	CHECK_EQ(unit_panics, before);
	UNIT_EXPECT_PANIC(BUG_ON(1 + 1 == 2));
	UNIT_EXPECT_PANIC(ASSERT(1 + 1 == 3));
	CHECK_EQ(unit_panics, before + 2);
}

TEST(might_sleep_only_outside_atomic_context)
{
	int before = unit_panics;
	might_sleep();
	CHECK_EQ(unit_panics, before);
	irq_push_off();
	UNIT_EXPECT_PANIC(might_sleep());
	irq_pop_off();
	spin_lock(&lk);
	UNIT_EXPECT_PANIC(might_sleep());
	spin_unlock(&lk);
	might_sleep();
	CHECK_EQ(unit_panics, before + 2);
}

TEST(spin_held)
{
	UNIT_EXPECT_PANIC(assert_spin_held(&lk));
	spin_lock(&lk);
	int before = unit_panics;
	assert_spin_held(&lk);
	CHECK_EQ(unit_panics, before);
	spin_unlock(&lk);
}

UNIT_TESTS(CASE(bug_on_and_assert), CASE(might_sleep_only_outside_atomic_context), CASE(spin_held))
