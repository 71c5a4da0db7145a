/*
 * The process clock (clock.h): libev's loop time and ev_timer, or, in
 * tests, a fake time with a list of armed timers fired by
 * clock_advance().
 */
#include <stddef.h>

#include "clock.h"
#include "util.h"

static struct ev_loop	*clock_loop;
static bool		 fake;
static double		 fake_now;
static struct ctimer	*armed;		/* fake clock: in arming order */

static struct ev_loop *
loop(void)
{
	/* every process runs the default loop */
	if (clock_loop == NULL)
		clock_loop = ev_default_loop(0);
	return clock_loop;
}

double
clock_now(void)
{
	return fake ? fake_now : ev_now(loop());
}

double
clock_wall(void)
{
	return fake ? fake_now : ev_now(loop());
}

static void
ctimer_ev_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct ctimer	*t = container_of(w, struct ctimer, w);

	(void)revents;
	/* one-shot: ev_timer_again() would repeat it */
	ev_timer_stop(l, w);
	t->cb(t);
}

void
ctimer_init(struct ctimer *t, ctimer_cb *cb)
{
	ev_timer_init(&t->w, ctimer_ev_cb, 0., 0.);
	t->cb = cb;
	t->at = -1;
	t->next = NULL;
}

static void
fake_unlink(struct ctimer *t)
{
	struct ctimer	**pp;

	for (pp = &armed; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->next = NULL;
	t->at = -1;
}

void
ctimer_start(struct ctimer *t, double after)
{
	struct ctimer	**pp;

	if (after < 0)
		after = 0;
	if (!fake) {
		/* ev_timer_again: cheap to re-arm on every read */
		t->w.repeat = after > 0 ? after : 1e-9;
		ev_timer_again(loop(), &t->w);
		return;
	}
	if (t->at >= 0)
		fake_unlink(t);
	t->at = fake_now + after;
	/* at the tail: of timers due together, the first armed fires first */
	for (pp = &armed; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = t;
}

void
ctimer_stop(struct ctimer *t)
{
	if (fake) {
		if (t->at >= 0)
			fake_unlink(t);
	} else
		ev_timer_stop(loop(), &t->w);
}

bool
ctimer_active(const struct ctimer *t)
{
	return fake ? t->at >= 0 : ev_is_active(&t->w);
}

double
ctimer_remaining(const struct ctimer *t)
{
	double	left;

	if (!ctimer_active(t))
		return 0;
	if (!fake)
		return ev_timer_remaining(loop(), (ev_timer *)&t->w);
	left = t->at - fake_now;
	return left > 0 ? left : 0;
}

void
clock_fake_start(double wall)
{
	fake = true;
	fake_now = wall;
	armed = NULL;
}

bool
clock_is_fake(void)
{
	return fake;
}

void
clock_advance(double seconds)
{
	struct ctimer	*t, *due;
	double		 end = fake_now + seconds;

	for (;;) {
		due = NULL;
		for (t = armed; t != NULL; t = t->next)
			if (t->at <= end && (due == NULL || t->at < due->at))
				due = t;
		if (due == NULL)
			break;
		if (due->at > fake_now)
			fake_now = due->at;
		fake_unlink(due);
		due->cb(due);
	}
	fake_now = end;
}
