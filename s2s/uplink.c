/*
 * The s2s side of the router link: connect (and reconnect after a router
 * restart), take the router's stanzas for remote domains, and hand it
 * what remote servers sent us.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "s2s.h"

#define UPLINK_RETRY	0.5	/* seconds between connection attempts */

static int
uplink_frame(struct link *l, const struct link_hdr *h, const char *payload,
    void *ctx)
{
	struct link_in	 in;
	struct link_stanza ls;
	char		 to[JID_STR_MAX + 1], from[JID_STR_MAX + 1];

	(void)ctx;
	if (!l->hello_heard)
		return link_hello_recv(l, h, payload,
		    LINK_ROLE_BIT(LINK_ROLE_ROUTER), LINK_ROLE_S2S);
	link_in_init(&in, payload, h->len);
	switch (h->type) {
	case LINK_STANZA:
		link_get_stanza(&in, &ls);
		if (!link_in_done(&in) ||
		    !link_strcpy(to, sizeof(to), ls.to, ls.tolen) ||
		    !link_strcpy(from, sizeof(from), ls.from, ls.fromlen))
			return -1;
		out_stanza(to, from, ls.xml, ls.xlen);
		return 0;
	default:
		log_warnx("router sent unexpected %s", link_msg_name(h->type));
		return -1;
	}
}

bool
uplink_up(void)
{
	return s2s.up != NULL && !s2s.up->failed;
}

static void
uplink_closed(struct link *l, const char *why, void *ctx)
{
	(void)l;
	(void)ctx;
	log_warnx("router link lost: %s; reconnecting", why);
	s2s.up = NULL;
	/* paused streams read again (their stanzas are held) */
	in_resume_all();
	ev_timer_start(s2s.loop, &s2s.reconnect);
}

static void
uplink_drained(struct link *l, void *ctx)
{
	(void)l;
	(void)ctx;
	in_resume_all();
}

static void
uplink_connect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	int		 fd;
	static bool	 warned;

	(void)revents;
	if ((fd = unix_connect(s2s.conf.rundir, "router.sock")) == -1) {
		if (!warned)
			log_info("waiting for the router at %s/router.sock: %s",
			    s2s.conf.rundir, strerror(errno));
		warned = true;
		return;
	}
	warned = false;
	ev_timer_stop(loop, w);
	s2s.up = link_new(loop, fd, "router", s2s.conf.link_queue_max,
	    uplink_frame, uplink_closed, NULL);
	s2s.up->on_drain = uplink_drained;
	link_hello(s2s.up, LINK_ROLE_S2S, 0);
	log_info("connected to the router");
	/* servers are accepted once stanzas can go somewhere */
	listen_pause(false);
	in_release_held();
}

void
uplink_start(void)
{
	ev_timer_init(&s2s.reconnect, uplink_connect_cb, 0., UPLINK_RETRY);
	ev_timer_start(s2s.loop, &s2s.reconnect);
}

int
uplink_stanza(int kind, int type, const char *to, const char *from,
    const char *xml, size_t len)
{
	struct link_out	m;

	if (!uplink_up())
		return -1;
	link_begin(&m, s2s.up, LINK_STANZA, 0);
	link_put_stanza(&m, kind, type, to, from, xml, len);
	return link_end(&m);
}
