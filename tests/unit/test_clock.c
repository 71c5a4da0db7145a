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
#include "../../common/util.h"
#include "unit.h"

struct rec {
	int	order[8];
	double	at[8];
	int	n;
};

static struct rec	rec;

struct id_timer {
	struct ctimer	t;
	int		id;
};

static void
note_cb(struct ctimer *t)
{
	rec.order[rec.n] = container_of(t, struct id_timer, t)->id;
	rec.at[rec.n] = clock_now();
	rec.n++;
}

static void
test_clock_fires_in_order_at_their_time(void **state)
{
	struct id_timer	a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	struct id_timer	d = { .id = 4 };

	(void)state;
	rec.n = 0;
	clock_fake_start(1000.0);
	assert_true(clock_is_fake());
	assert_true(clock_now() == 1000.0);
	assert_true(clock_wall() == 1000.0);
	ctimer_init(&a.t, note_cb);
	ctimer_init(&b.t, note_cb);
	ctimer_init(&c.t, note_cb);
	ctimer_init(&d.t, note_cb);
	ctimer_start(&a.t, 3);
	ctimer_start(&b.t, 1);
	ctimer_start(&c.t, 2);
	ctimer_start(&d.t, 3);	/* due with a, armed after it */
	ctimer_stop(&c.t);
	assert_false(ctimer_active(&c.t));
	assert_true(ctimer_remaining(&a.t) == 3);
	clock_advance(0.5);
	assert_int_equal(rec.n, 0);
	clock_advance(10);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.order[0], 2);
	assert_true(rec.at[0] == 1001.0);
	assert_int_equal(rec.order[1], 1);
	assert_true(rec.at[1] == 1003.0);
	assert_int_equal(rec.order[2], 4);
	assert_true(clock_now() == 1010.5);
	assert_false(ctimer_active(&a.t));
}

static void
rearm_cb(struct ctimer *t)
{
	note_cb(t);
	if (rec.n < 3)
		ctimer_start(t, 1);
}

/* one-shot, re-armed from its callback: fires again within the advance */
static void
test_clock_rearmed_in_callback(void **state)
{
	struct id_timer	it = { .id = 7 };
	struct ctimer	*t = &it.t;

	(void)state;
	rec.n = 0;
	clock_fake_start(0);
	ctimer_init(t, rearm_cb);
	ctimer_start(t, 1);
	clock_advance(2.5);
	assert_int_equal(rec.n, 2);
	assert_true(rec.at[1] == 2.0);
	assert_true(ctimer_active(t));
	/* re-arming moves the deadline */
	ctimer_start(t, 5);
	clock_advance(4);
	assert_int_equal(rec.n, 2);
	clock_advance(1);
	assert_int_equal(rec.n, 3);
	assert_false(ctimer_active(t));
}

UNIT_MAIN(
	cmocka_unit_test(test_clock_fires_in_order_at_their_time),
	cmocka_unit_test(test_clock_rearmed_in_callback),
)
