/*
 * The accept loop of every listener. A listening socket with a pending
 * connection stays readable while accept fails for want of descriptors,
 * so the only ways out of a busy loop are to close something or to stop
 * watching the socket: we stop watching, for ACCEPT_BACKOFF, and the
 * pending clients wait in the kernel's backlog meanwhile.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "accept.h"
#include "log.h"
#include "util.h"

static void
accept_timer_cb(struct ctimer *t)
{
	struct accept_backoff	*ab = container_of(t, struct accept_backoff,
				    timer);

	log_info("accepting connections again");
	ab->pause(false);
}

void
accept_backoff_init(struct accept_backoff *ab, void (*pause)(bool))
{
	ab->pause = pause;
	ctimer_init(&ab->timer, accept_timer_cb);
}

void
accept_backoff_clear(struct accept_backoff *ab)
{
	ctimer_stop(&ab->timer);
}

void
accept_batch(struct accept_backoff *ab, int lfd, const char *addr,
    unsigned port, void (*fn)(int fd, void *arg), void *arg)
{
	int	fd, i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			fn(fd, arg);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_warn("accept on %s port %u; pausing %.0f s", addr,
			    port, ACCEPT_BACKOFF);
			ab->pause(true);
			/* a full ACCEPT_BACKOFF from the last shortage */
			ctimer_start(&ab->timer, ACCEPT_BACKOFF);
		} else
			log_warn("accept on %s port %u", addr, port);
		return;
	}
}

static void
listener_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener	*lst = container_of(w, struct listener, io);

	(void)loop;
	(void)revents;
	accept_batch(lst->backoff, lst->fd, lst->cl->addr, lst->cl->port,
	    lst->take, lst);
}

int
listeners_open(struct listener **head, struct accept_backoff *ab,
    const struct conf *conf, enum listen_kind plain, enum listen_kind tls,
    bool reuseport, void (*take)(int fd, void *lst))
{
	const struct conf_listen	*cl;
	struct listener			*lst;
	size_t				 i;
	int				 fd;

	for (i = 0; i < conf->nlistens; i++) {
		cl = &conf->listens[i];
		if (cl->kind != plain && cl->kind != tls)
			continue;	/* the other process's */
		if ((fd = tcp_listen((const struct sockaddr *)&cl->sa,
		    cl->salen, reuseport)) == -1) {
			log_warn("%s:%d: listen on %s port %u",
			    conf->path, cl->line, cl->addr, cl->port);
			return -1;
		}
		lst = xcalloc(1, sizeof(*lst));
		lst->cl = cl;
		lst->fd = fd;
		lst->backoff = ab;
		lst->take = take;
		ev_io_init(&lst->io, listener_cb, fd, EV_READ);
		lst->next = *head;
		*head = lst;
	}
	return 0;
}

void
listeners_pause(struct listener *head, struct ev_loop *loop, bool pause)
{
	struct listener	*lst;

	for (lst = head; lst != NULL; lst = lst->next) {
		if (pause)
			ev_io_stop(loop, &lst->io);
		else
			ev_io_start(loop, &lst->io);
	}
}

void
listeners_close(struct listener **head, struct ev_loop *loop)
{
	struct listener	*lst;

	while ((lst = *head) != NULL) {
		*head = lst->next;
		ev_io_stop(loop, &lst->io);
		close(lst->fd);
		free(lst);
	}
}
