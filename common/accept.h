/*
 * Accepting connections on a listening socket, shared by the c2s and s2s
 * listeners: a bounded batch per readiness event, and when descriptors or
 * memory run out (EMFILE, ENFILE, ENOBUFS, ENOMEM) every listener of the
 * process pauses for a moment instead of spinning on a socket that stays
 * readable.
 */
#ifndef PARLEY_ACCEPT_H
#define PARLEY_ACCEPT_H

#include <stdbool.h>

#include <ev.h>

#define ACCEPT_BATCH	64	/* connections per readiness event */
#define ACCEPT_BACKOFF	1.0	/* seconds paused after a shortage */

struct accept_backoff {
	struct ev_loop	*loop;
	ev_timer	 timer;
	/* stops (true) or restarts (false) every listener of the process */
	void		(*pause)(bool);
};

void	accept_backoff_init(struct accept_backoff *, struct ev_loop *,
	    void (*pause)(bool));
void	accept_backoff_clear(struct accept_backoff *);
/*
 * Accepts up to ACCEPT_BATCH connections on lfd, each handed to fn as a
 * non-blocking, close-on-exec descriptor that fn owns. addr and port name
 * the listener in the log.
 */
void	accept_batch(struct accept_backoff *, int lfd, const char *addr,
	    unsigned port, void (*fn)(int fd, void *arg), void *arg);

#endif
