/*
 * The router link kept up (routerlink.h): what the c2s and the s2s share about
 * their uplinks, which differ only in the frames they take and in what a
 * connection or a loss means to their streams.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ready.h"
#include "routerlink.h"
#include "util.h"

/* the router speaks first with its LINK_HELLO: checked here for both */
static int
routerlink_frame(struct link *l, const struct link_hdr *h, const char *payload,
    void *ctx)
{
	struct routerlink	*rl = ctx;

	if (!l->hello_heard) {
		if (link_hello_recv(l, h, payload,
		    LINK_ROLE_BIT(LINK_ROLE_ROUTER), rl->role) == -1)
			return -1;
		rl->delay = ROUTERLINK_RETRY;	/* the router took us */
		ready_report();
		if (rl->on_hello != NULL)
			rl->on_hello(rl, l);
		return 0;
	}
	return rl->on_frame(l, h, payload, ctx);
}

/*
 * The next attempt: a Unix socket's at the fixed pace (the supervisor
 * restarts the router within seconds), a remote link's backing off, so
 * that hosts cut off from the router do not hammer it when it returns.
 */
static void
routerlink_again(struct routerlink *rl)
{
	if (rl->remote == NULL) {
		ctimer_start(&rl->retry, ROUTERLINK_RETRY);
		return;
	}
	ctimer_start(&rl->retry, rl->delay);
	rl->delay *= 2;
	if (rl->delay > ROUTERLINK_RETRY_MAX)
		rl->delay = ROUTERLINK_RETRY_MAX;
}

static void
routerlink_closed(struct link *l, const char *why, void *ctx)
{
	struct routerlink	*rl = ctx;

	log_warnx("router link lost: %s; reconnecting", why);
	rl->on_lost(rl, l);
	/* not at once: a router that refuses us would make a busy loop */
	routerlink_again(rl);
}

static void
routerlink_drained(struct link *l, void *ctx)
{
	struct routerlink	*rl = ctx;

	(void)l;
	rl->on_drain();
}

/* the link is up: our LINK_HELLO first, then the owner's frames */
static void
routerlink_up(struct routerlink *rl, struct link *l)
{
	rl->warned = 0;
	l->on_drain = routerlink_drained;
	link_hello(l, rl->role, rl->instance);
	log_info("connected to the router");
	rl->on_up(rl, l);
}

static void
routerlink_secure(struct link *l, void *ctx)
{
	routerlink_up(ctx, l);
}

/*
 * The router cannot be reached: said once per reason, so that a change
 * (the socket there at last, but refused) is seen, not every attempt
 */
static void
routerlink_warn(struct routerlink *rl, const char *what, const char *where)
{
	int	err = errno;

	if (rl->warned != err)
		log_info("waiting for the router at %s%s: %s", what, where,
		    strerror(err));
	rl->warned = err;
}

static void
routerlink_away(struct routerlink *rl, const char *what)
{
	routerlink_warn(rl, what, "");
	routerlink_again(rl);
}

/* the TCP connect ended (or timed out: the retry timer) */
static void
routerlink_connected(struct routerlink *rl)
{
	struct link		*l;
	gnutls_session_t	 s;
	socklen_t		 len = sizeof(int);
	int			 fd = rl->cfd, err = 0;

	ev_io_stop(rl->loop, &rl->cio);
	ctimer_stop(&rl->retry);
	rl->cfd = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0 || (s = linktls_session(&rl->tls, fd)) == NULL) {
		close(fd);
		errno = err != 0 ? err : EPROTO;
		routerlink_away(rl, rl->remote->addr);
		return;
	}
	l = link_new(rl->loop, fd, "router", rl->conf->link_queue_max,
	    routerlink_frame, routerlink_closed, rl);
	l->on_secure = routerlink_secure;
	link_start_tls(l, s, LINKTLS_HANDSHAKE_TIMEOUT);
}

static void
routerlink_cio(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	routerlink_connected(container_of(w, struct routerlink, cio));
}

/* a non-blocking connect to router-address; the link once connected */
static void
routerlink_dial(struct routerlink *rl)
{
	const struct conf_listen	*r = rl->remote;
	int				 fd;

	if (rl->cfd != -1) {		/* the connect timed out */
		close(rl->cfd);
		ev_io_stop(rl->loop, &rl->cio);
		rl->cfd = -1;
		errno = ETIMEDOUT;
		routerlink_away(rl, r->addr);
		return;
	}
	if ((fd = socket(r->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		routerlink_away(rl, r->addr);
		return;
	}
	linktls_sockopts(fd);
	if (connect(fd, (const struct sockaddr *)&r->sa, r->salen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		routerlink_away(rl, r->addr);
		return;
	}
	rl->cfd = fd;
	ev_io_init(&rl->cio, routerlink_cio, fd, EV_WRITE);
	ev_io_start(rl->loop, &rl->cio);
	ctimer_start(&rl->retry, LINKTLS_CONNECT_TIMEOUT);
}

static void
routerlink_try(struct ctimer *t)
{
	struct routerlink	*rl = container_of(t, struct routerlink, retry);
	struct link	*l;
	int		 fd;

	if (rl->remote != NULL) {
		routerlink_dial(rl);
		return;
	}
	if ((fd = unix_connect(rl->conf->rundir, "router.sock")) == -1) {
		routerlink_warn(rl, rl->conf->rundir, "/router.sock");
		ctimer_start(t, ROUTERLINK_RETRY);
		return;
	}
	l = link_new(rl->loop, fd, "router", rl->conf->link_queue_max,
	    routerlink_frame, routerlink_closed, rl);
	routerlink_up(rl, l);
}

int
routerlink_start(struct routerlink *rl, struct ev_loop *loop,
    const struct conf *conf, enum link_role role, uint32_t instance)
{
	rl->loop = loop;
	rl->conf = conf;
	rl->role = role;
	rl->instance = instance;
	ctimer_init(&rl->retry, routerlink_try);
	rl->warned = 0;
	rl->cfd = -1;
	rl->delay = ROUTERLINK_RETRY;
	rl->remote = conf_listen_find(conf, LISTEN_ROUTER);
	if (rl->remote != NULL && linktls_client_init(&rl->tls,
	    rl->conf) == -1)
		return -1;
	ctimer_start(&rl->retry, 0);
	return 0;
}

void
routerlink_reload(struct routerlink *rl)
{
	if (rl->remote != NULL)
		(void)linktls_reload(&rl->tls, rl->conf);
}

bool
routerlink_ok(const struct link *l)
{
	return l != NULL && !l->failed;
}

int
routerlink_unexpected(const struct link_hdr *h)
{
	log_warnx("router sent unexpected %s", link_msg_name(h->type));
	return -1;
}
