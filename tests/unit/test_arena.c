/*
 * struct arena: alignment, large allocations, reset and reuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/arena.h"
#include "unit.h"

static void
test_arena_alignment_and_strings(void **state)
{
	struct arena	 a;
	char		*s;
	void		*p;
	int		 i;

	(void)state;
	arena_init(&a);
	for (i = 1; i < 200; i++) {
		p = arena_alloc(&a, (size_t)i);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0xab, (size_t)i);
	}
	s = arena_strndup(&a, "abcdef", 3);
	assert_string_equal(s, "abc");
	s = arena_printf(&a, "%s-%d", "x", 7);
	assert_string_equal(s, "x-7");
	assert_string_equal(arena_strdup(&a, ""), "");
	arena_free(&a);
}

static void
test_arena_large_and_reset(void **state)
{
	struct arena	 a;
	char		*big;

	(void)state;
	arena_init(&a);
	big = arena_alloc(&a, 1 << 20);
	memset(big, 1, 1 << 20);
	assert_true(a.used >= (1u << 20));
	arena_reset(&a);
	assert_int_equal(a.used, 0);
	/* usable again after reset */
	memset(arena_alloc(&a, 100), 2, 100);
	arena_reset(&a);
	memset(arena_alloc(&a, 10), 3, 10);
	arena_free(&a);
	arena_free(&a);		/* idempotent */
}

UNIT_MAIN(
	cmocka_unit_test(test_arena_alignment_and_strings),
	cmocka_unit_test(test_arena_large_and_reset),
)
