/*
 * The router link kept up (routerlink.h): what the c2s and the s2s share about
 * their uplinks, which differ only in the frames they take and in what a
 * connection or a loss means to their streams.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "routerlink.h"
#include "util.h"

/* the router speaks first with its LINK_HELLO: checked here for both */
static int
routerlink_frame(struct link *l, const struct link_hdr *h, const char *payload,
    void *ctx)
{
	struct routerlink	*rl = ctx;

	if (!l->hello_heard)
		return link_hello_recv(l, h, payload,
		    LINK_ROLE_BIT(LINK_ROLE_ROUTER), rl->role);
	return rl->on_frame(l, h, payload, ctx);
}

static void
routerlink_closed(struct link *l, const char *why, void *ctx)
{
	struct routerlink	*rl = ctx;

	log_warnx("router link lost: %s; reconnecting", why);
	rl->on_lost(rl, l);
	/* not at once: a router that refuses us would make a busy loop */
	ctimer_start(&rl->retry, ROUTERLINK_RETRY);
}

static void
routerlink_drained(struct link *l, void *ctx)
{
	struct routerlink	*rl = ctx;

	(void)l;
	rl->on_drain();
}

static void
routerlink_try(struct ctimer *t)
{
	struct routerlink	*rl = container_of(t, struct routerlink, retry);
	struct link	*l;
	int		 fd;

	if ((fd = unix_connect(rl->rundir, "router.sock")) == -1) {
		if (!rl->warned)
			log_info("waiting for the router at %s/router.sock: %s",
			    rl->rundir, strerror(errno));
		rl->warned = true;
		ctimer_start(t, ROUTERLINK_RETRY);
		return;
	}
	rl->warned = false;
	l = link_new(rl->loop, fd, "router", rl->queue_max, routerlink_frame,
	    routerlink_closed, rl);
	l->on_drain = routerlink_drained;
	link_hello(l, rl->role, rl->instance);
	log_info("connected to the router");
	rl->on_up(rl, l);
}

void
routerlink_start(struct routerlink *rl)
{
	ctimer_init(&rl->retry, routerlink_try);
	rl->warned = false;
	ctimer_start(&rl->retry, 0);
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
