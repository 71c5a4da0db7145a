/*
 * The fake clock: time stands still, clock_advance() fires due timers in
 * order at their own time, and timers armed by callbacks fire too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/clock.h"

struct rec {
	int	order[8];
	double	at[8];
	int	n;
};

static struct rec	rec;

static void
note_cb(struct ctimer *t, void *arg)
{
	(void)t;
	rec.order[rec.n] = (int)(intptr_t)arg;
	rec.at[rec.n] = clock_now();
	rec.n++;
}

static void
test_clock_fires_in_order_at_their_time(void **state)
{
	struct ctimer	a, b, c;

	(void)state;
	rec.n = 0;
	clock_fake_start(1000.0);
	assert_true(clock_is_fake());
	assert_true(clock_now() == 1000.0);
	assert_true(clock_wall() == 1000.0);
	ctimer_init(&a, note_cb, (void *)1);
	ctimer_init(&b, note_cb, (void *)2);
	ctimer_init(&c, note_cb, (void *)3);
	ctimer_start(&a, 3);
	ctimer_start(&b, 1);
	ctimer_start(&c, 2);
	ctimer_stop(&c);
	assert_false(ctimer_active(&c));
	assert_true(ctimer_remaining(&a) == 3);
	clock_advance(0.5);
	assert_int_equal(rec.n, 0);
	clock_advance(10);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.order[0], 2);
	assert_true(rec.at[0] == 1001.0);
	assert_int_equal(rec.order[1], 1);
	assert_true(rec.at[1] == 1003.0);
	assert_true(clock_now() == 1010.5);
	assert_false(ctimer_active(&a));
}

static void
rearm_cb(struct ctimer *t, void *arg)
{
	note_cb(t, arg);
	if (rec.n < 3)
		ctimer_start(t, 1);
}

/* one-shot, re-armed from its callback: fires again within the advance */
static void
test_clock_rearmed_in_callback(void **state)
{
	struct ctimer	t;

	(void)state;
	rec.n = 0;
	clock_fake_start(0);
	ctimer_init(&t, rearm_cb, (void *)7);
	ctimer_start(&t, 1);
	clock_advance(2.5);
	assert_int_equal(rec.n, 2);
	assert_true(rec.at[1] == 2.0);
	assert_true(ctimer_active(&t));
	/* re-arming moves the deadline */
	ctimer_start(&t, 5);
	clock_advance(4);
	assert_int_equal(rec.n, 2);
	clock_advance(1);
	assert_int_equal(rec.n, 3);
	assert_false(ctimer_active(&t));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_fires_in_order_at_their_time),
		cmocka_unit_test(test_clock_rearmed_in_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
