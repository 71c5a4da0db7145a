/*
 * The one clock of a process. Protocol code reads time and arms timers
 * only through it, so that a test can replace it: clock_fake_start()
 * freezes time, clock_advance() moves it and fires the timers that fall
 * due, in order, with no sleeping and no event loop.
 */
#ifndef PARLEY_CLOCK_H
#define PARLEY_CLOCK_H

#include <stdbool.h>

#include <ev.h>

struct ctimer;
/* the owner finds itself with container_of, as with libev's watchers */
typedef void	ctimer_cb(struct ctimer *);

/*
 * A one-shot timer, embedded in the object it serves. It must be stopped
 * before that object is freed (as an ev_timer must).
 */
struct ctimer {
	ev_timer	 w;		/* the real clock's watcher */
	ctimer_cb	*cb;
	double		 at;		/* fake clock: when due; < 0 off */
	struct ctimer	*next;		/* fake clock: armed, in order */
};

/*
 * Seconds for intervals and deadlines: the loop's time of this iteration
 * (ev_now of the default loop), or the fake clock's.
 */
double	clock_now(void);
/*
 * Seconds since the epoch for what is shown or stored (delay stamps, last
 * activity). libev's loop time is wall-clock based, so with the real
 * clock this is clock_now(); the fake clock returns its wall time.
 */
double	clock_wall(void);

void	ctimer_init(struct ctimer *, ctimer_cb *);
/* (re)arms: fires once, after seconds, unless stopped or re-armed */
void	ctimer_start(struct ctimer *, double after);
void	ctimer_stop(struct ctimer *);
bool	ctimer_active(const struct ctimer *);
/* seconds until the timer fires; 0 when stopped */
double	ctimer_remaining(const struct ctimer *);

/*
 * Tests: from now on time stands still at wall (seconds since the epoch)
 * and moves only with clock_advance(). Timers armed before the switch
 * are not carried over: switch before creating what the test drives.
 */
void	clock_fake_start(double wall);
bool	clock_is_fake(void);
/*
 * Moves the fake clock forward by seconds, firing each timer that falls
 * due, earliest first, with the clock set to its due time; a timer armed
 * by a callback fires in the same call if it falls due within it.
 */
void	clock_advance(double seconds);

#endif
