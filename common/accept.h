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

#include "clock.h"
#include "conf.h"

#define ACCEPT_BATCH	64	/* connections per readiness event */
#define ACCEPT_BACKOFF	1.0	/* seconds paused after a shortage */

/* the pause is on the process clock (clock.h), so tests can drive it */
struct accept_backoff {
	struct ctimer	 timer;
	/* stops (true) or restarts (false) every listener of the process */
	void		(*pause)(bool);
};

/* one listening socket of the process, on the list *head of listeners_open */
struct listener {
	const struct conf_listen *cl;
	int			 fd;
	ev_io			 io;
	struct accept_backoff	*backoff;
	void			(*take)(int fd, void *lst);
	struct listener		*next;
};

void	accept_backoff_init(struct accept_backoff *, void (*pause)(bool));
void	accept_backoff_clear(struct accept_backoff *);
/*
 * Accepts up to ACCEPT_BATCH connections on lfd, each handed to fn as a
 * non-blocking, close-on-exec descriptor that fn owns. addr and port name
 * the listener in the log.
 */
void	accept_batch(struct accept_backoff *, int lfd, const char *addr,
	    unsigned port, void (*fn)(int fd, void *arg), void *arg);

/*
 * Opens every listener of conf of kind plain or tls (the process's two
 * kinds), each accepting in batches on ab and handing the descriptors to
 * take with the listener; not watched until listeners_pause(false).
 * reuseport: for listeners shared by several processes. -1 after logging.
 */
int	listeners_open(struct listener **head, struct accept_backoff *ab,
	    const struct conf *conf, enum listen_kind plain,
	    enum listen_kind tls, bool reuseport,
	    void (*take)(int fd, void *lst));
/* stops (true) or restarts (false) watching every listener of head */
void	listeners_pause(struct listener *head, struct ev_loop *, bool pause);
/* stops and closes every listener of head, for good; *head is NULL */
void	listeners_close(struct listener **head, struct ev_loop *);

#endif
