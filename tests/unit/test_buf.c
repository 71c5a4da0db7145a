/*
 * struct buf: appends, the hard cap, consumption and compaction.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/buf.h"
#include "unit.h"

static void
test_buf_append_and_consume(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "hello "), 0);
	assert_int_equal(buf_printf(&b, "%s %d", "world", 42), 0);
	assert_int_equal(buf_avail(&b), strlen("hello world 42"));
	assert_string_equal(buf_cstr(&b), "hello world 42");
	buf_consume(&b, 6);
	assert_string_equal(buf_cstr(&b), "world 42");
	buf_consume(&b, 100);
	assert_int_equal(buf_avail(&b), 0);
	buf_clear(&b);
}

static void
test_buf_cap_is_hard(void **state)
{
	struct buf	b;
	char		big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, 64);
	assert_int_equal(buf_append(&b, big, 64), 0);
	/* one more byte passes the cap: refused, contents unchanged */
	assert_int_equal(buf_append(&b, "y", 1), -1);
	assert_int_equal(buf_avail(&b), 64);
	assert_int_equal(buf_printf(&b, "%s", "z"), -1);
	/* consuming makes room again: the cap is on unread bytes */
	buf_consume(&b, 10);
	assert_int_equal(buf_append(&b, big, 10), 0);
	assert_int_equal(buf_append(&b, big, 1), -1);
	assert_null(buf_reserve(&b, SIZE_MAX));
	buf_clear(&b);
}

static void
test_buf_steady_state_stays_small(void **state)
{
	struct buf	b;
	int		i;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < 100000; i++) {
		assert_int_equal(buf_append(&b, "0123456789", 10), 0);
		buf_consume(&b, 7);
		if (buf_avail(&b) > 30)
			buf_consume(&b, buf_avail(&b));
	}
	/* consumed bytes are reclaimed, not accumulated */
	assert_true(b.cap <= 256);
	buf_clear(&b);
}

static void
test_buf_reserve_commit(void **state)
{
	struct buf	 b;
	char		*w;

	(void)state;
	buf_init(&b, 0);
	w = buf_reserve(&b, 5);
	assert_non_null(w);
	memcpy(w, "abcde", 5);
	buf_commit(&b, 3);
	assert_string_equal(buf_cstr(&b), "abc");
	buf_reset(&b);
	assert_int_equal(buf_avail(&b), 0);
	buf_clear(&b);
}

/* truncation counts from the read offset and never grows the buffer */
static void
test_buf_truncate(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "xxabcdef"), 0);
	buf_consume(&b, 2);
	buf_truncate(&b, 3);
	assert_string_equal(buf_cstr(&b), "abc");
	buf_truncate(&b, 10);
	assert_string_equal(buf_cstr(&b), "abc");
	assert_int_equal(buf_puts(&b, "z"), 0);
	assert_string_equal(buf_cstr(&b), "abcz");
	buf_clear(&b);
}

UNIT_MAIN(
	cmocka_unit_test(test_buf_append_and_consume),
	cmocka_unit_test(test_buf_cap_is_hard),
	cmocka_unit_test(test_buf_steady_state_stays_small),
	cmocka_unit_test(test_buf_reserve_commit),
	cmocka_unit_test(test_buf_truncate),
)
