/*
 * A process's link to the router, kept up (c2s/uplink.c, s2s/uplink.c):
 * connects to router.sock in the run directory at once, again every
 * ROUTERLINK_RETRY seconds until it succeeds, and again after the link
 * is lost (the supervisor restarts a router that died). The retry timer
 * is on the process clock (clock.h). The owner embeds a struct
 * routerlink, fills in the callbacks above the line and calls
 * routerlink_start(). (The router's end of a link is its struct rlink,
 * router/router.h.)
 */
#ifndef PARLEY_ROUTERLINK_H
#define PARLEY_ROUTERLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "conf.h"
#include "link.h"
#include "linktls.h"

#define ROUTERLINK_RETRY	0.5	/* seconds between attempts */
/* a remote link's attempts back off, doubling up to this */
#define ROUTERLINK_RETRY_MAX	8.0

struct routerlink;
/* connected (our LINK_HELLO queued) or lost (l is freed after the call) */
typedef void	routerlink_cb(struct routerlink *, struct link *l);

struct routerlink {
	link_frame_cb	*on_frame;	/* frames after the router's HELLO */
	routerlink_cb	*on_up;
	routerlink_cb	*on_lost;
	void		(*on_drain)(void);	/* the queue drained */
	/*
	 * the router's LINK_HELLO passed: it takes our frames (a router of
	 * another link version closes instead); NULL: nothing to do then
	 */
	routerlink_cb	*on_hello;
	/* ---- the helper's own */
	struct ev_loop	*loop;
	/*
	 * borrowed: run-directory, link-queue-max, and router-address
	 * (set: over TCP and TLS-PSK, linktls.h)
	 */
	const struct conf *conf;
	enum link_role	 role;		/* we say it, the router checks it */
	uint32_t	 instance;	/* of a c2s; 0 for the others */
	struct ctimer	 retry;
	int		 warned;	/* the errno last said (0: none) */
	const struct conf_listen *remote;	/* router-address, or NULL */
	struct linktls	 tls;
	int		 cfd;		/* a TCP connect in progress, or -1 */
	ev_io		 cio;
	double		 delay;		/* the next attempt's back-off */
};

/*
 * the first attempt, now (from the loop: the clock fires it); -1 (logged)
 * when the remote link's key cannot be loaded
 */
int	routerlink_start(struct routerlink *, struct ev_loop *,
	    const struct conf *, enum link_role, uint32_t);
/*
 * SIGHUP: a remote link's certificate, key and CA read again for its next
 * handshake (linktls_reload); nothing for a Unix socket or TLS-PSK
 */
void	routerlink_reload(struct routerlink *);
/* the owner's link can take frames: connected and not failed */
bool	routerlink_ok(const struct link *);
/* on_frame's answer to a frame type it does not take: logs, fails it */
int	routerlink_unexpected(const struct link_hdr *);

#endif
