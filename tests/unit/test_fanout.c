/*
 * Fan-out frames: every session is in exactly one frame, in order, and
 * no frame passes the payload limit, whatever the head and the count; a
 * head that leaves no room for one session is refused whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../router/fanout.h"
#include "unit.h"

struct seen {
	uint64_t	next;		/* the id expected next */
	size_t		frames;
	size_t		head, max;
};

static void
emit(const uint64_t *sids, size_t k, void *arg)
{
	struct seen	*s = arg;
	size_t		 i;

	assert_true(k > 0);
	assert_true(s->head + 4 + 8 * k <= s->max);
	for (i = 0; i < k; i++)
		assert_int_equal(sids[i], s->next++);
	s->frames++;
}

static void
check(size_t n, size_t head, size_t max, size_t frames)
{
	struct seen	 s = { 0, 0, head, max };
	uint64_t	*v = calloc(n + 1, sizeof(*v));
	size_t		 i;

	for (i = 0; i < n; i++)
		v[i] = i;
	assert_int_equal(fanout_split(v, n, head, max, emit, &s), 0);
	assert_int_equal(s.next, n);
	assert_int_equal(s.frames, frames);
	free(v);
}

static void
test_fanout_one_frame_when_it_fits(void **state)
{
	(void)state;
	check(3, 100, 1 << 20, 1);
	check(0, 100, 1 << 20, 0);
}

static void
test_fanout_split_at_the_limit(void **state)
{
	size_t	max = 1 << 20, head = max - 4 - 8 * 10;

	(void)state;
	/* exactly 10 fit beside this head: 10 in one, 11 in two */
	check(10, head, max, 1);
	check(11, head, max, 2);
	check(25, head, max, 3);
	/* a large stanza to many sessions of one c2s */
	check(200000, 1000, max, 2);
}

static void
test_fanout_head_too_large(void **state)
{
	struct seen	s = { 0, 0, 0, 0 };
	uint64_t	v[2] = { 0, 1 };

	(void)state;
	assert_int_equal(fanout_split(v, 2, 1000 - 11, 1000, emit, &s), -1);
	assert_int_equal(s.frames, 0);
	assert_int_equal(fanout_head_len(3, 5, 7), 4 + 4 + 3 + 4 + 5 + 4 + 7);
}

UNIT_MAIN(
	cmocka_unit_test(test_fanout_one_frame_when_it_fits),
	cmocka_unit_test(test_fanout_split_at_the_limit),
	cmocka_unit_test(test_fanout_head_too_large),
)
