/*
 * Client listeners. Every c2s process opens every configured listener
 * with SO_REUSEPORT, so the kernel spreads connections over the
 * processes. Accept errors such as EMFILE pause accepting for a moment
 * instead of spinning (common/accept.c).
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/accept.h"
#include "../common/log.h"
#include "../common/util.h"
#include "c2s.h"

static struct accept_backoff	backoff;

static void
listen_take(int fd, void *arg)
{
	struct listener	*lst = arg;

	if (c2s.nstreams >= c2s.conf.c2s_max_sessions) {
		log_warnx("c2s-max-sessions (%zu) reached, refusing",
		    c2s.conf.c2s_max_sessions);
		close(fd);
		return;
	}
	stream_accept(lst, fd);
}

static void
listen_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener	*lst = container_of(w, struct listener, io);

	(void)loop;
	(void)revents;
	accept_batch(&backoff, lst->fd, lst->cl->addr, lst->cl->port,
	    listen_take, lst);
}

void
listen_pause(bool pause)
{
	struct listener	*lst;

	for (lst = c2s.listeners; lst != NULL; lst = lst->next) {
		if (pause)
			ev_io_stop(c2s.loop, &lst->io);
		else
			ev_io_start(c2s.loop, &lst->io);
	}
}

int
listen_open(void)
{
	const struct conf_listen	*cl;
	struct listener			*lst;
	size_t				 i;
	int				 fd;

	accept_backoff_init(&backoff, c2s.loop, listen_pause);
	for (i = 0; i < c2s.conf.nlistens; i++) {
		cl = &c2s.conf.listens[i];
		if (cl->kind != LISTEN_C2S && cl->kind != LISTEN_C2S_TLS)
			continue;	/* the s2s process's */
		/* every c2s process listens: the kernel spreads clients */
		if ((fd = tcp_listen((const struct sockaddr *)&cl->sa,
		    cl->salen, true)) == -1) {
			log_warn("%s:%d: listen on %s port %u",
			    c2s.conf.path, cl->line, cl->addr, cl->port);
			return -1;
		}
		lst = xcalloc(1, sizeof(*lst));
		lst->cl = cl;
		lst->fd = fd;
		/* accepting starts once the router link is up */
		ev_io_init(&lst->io, listen_accept_cb, fd, EV_READ);
		lst->next = c2s.listeners;
		c2s.listeners = lst;
	}
	return 0;
}
