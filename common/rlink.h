/*
 * A process's link to the router, kept up (c2s/uplink.c, s2s/uplink.c):
 * connects to router.sock in the run directory at once, again every
 * RLINK_RETRY seconds until it succeeds, and again after the link is
 * lost (the supervisor restarts a router that died). The retry timer is
 * on the process clock (clock.h). The owner embeds a struct rlink, fills
 * in the fields above the line and calls rlink_start().
 */
#ifndef PARLEY_RLINK_H
#define PARLEY_RLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "link.h"

#define RLINK_RETRY	0.5	/* seconds between connection attempts */

struct rlink;
/* connected (our LINK_HELLO queued) or lost (l is freed after the call) */
typedef void	rlink_cb(struct rlink *, struct link *l);

struct rlink {
	struct ev_loop	*loop;
	const char	*rundir;
	size_t		 queue_max;	/* link_new's cap */
	enum link_role	 role;		/* we say it, the router checks it */
	uint32_t	 instance;	/* of a c2s; 0 for the others */
	link_frame_cb	*on_frame;	/* frames after the router's HELLO */
	rlink_cb	*on_up;
	rlink_cb	*on_lost;
	void		(*on_drain)(void);	/* the queue drained */
	/* ---- the helper's own */
	struct ctimer	 retry;
	bool		 warned;	/* said once that the router is away */
};

/* the first attempt, now (from the loop: the clock fires it) */
void	rlink_start(struct rlink *);
/* the owner's link can take frames: connected and not failed */
bool	rlink_ok(const struct link *);
/* on_frame's answer to a frame type it does not take: logs, fails it */
int	rlink_unexpected(const struct link_hdr *);

#endif
