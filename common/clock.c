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
static struct ctimer	*armed;		/* fake clock: unordered */
static unsigned long	 armed_seq;

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
	t->active = false;
	t->cb(t, t->arg);
}

void
ctimer_init(struct ctimer *t, ctimer_cb *cb, void *arg)
{
	ev_timer_init(&t->w, ctimer_ev_cb, 0., 0.);
	t->cb = cb;
	t->arg = arg;
	t->at = 0;
	t->active = false;
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
}

void
ctimer_start(struct ctimer *t, double after)
{
	if (after < 0)
		after = 0;
	if (fake) {
		if (t->active)
			fake_unlink(t);
		t->at = fake_now + after;
		t->seq = ++armed_seq;
		t->next = armed;
		armed = t;
	} else {
		/* ev_timer_again: cheap to re-arm on every read */
		t->w.repeat = after > 0 ? after : 1e-9;
		ev_timer_again(loop(), &t->w);
		t->at = ev_now(loop()) + after;
	}
	t->active = true;
}

void
ctimer_stop(struct ctimer *t)
{
	if (!t->active)
		return;
	if (fake)
		fake_unlink(t);
	else
		ev_timer_stop(loop(), &t->w);
	t->active = false;
}

bool
ctimer_active(const struct ctimer *t)
{
	return t->active;
}

double
ctimer_remaining(const struct ctimer *t)
{
	double	left;

	if (!t->active)
		return 0;
	left = t->at - clock_now();
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
			if (t->at <= end && (due == NULL || t->at < due->at ||
			    (t->at == due->at && t->seq < due->seq)))
				due = t;
		if (due == NULL)
			break;
		fake_unlink(due);
		due->active = false;
		if (due->at > fake_now)
			fake_now = due->at;
		due->cb(due, due->arg);
	}
	fake_now = end;
}
