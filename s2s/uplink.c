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

static int
uplink_frame(struct link *l, const struct link_hdr *h, const char *payload,
    void *ctx)
{
	struct link_in	 in;
	struct link_stanza ls;
	char		 to[JID_STR_MAX + 1], from[JID_STR_MAX + 1];

	(void)ctx;
	link_in_init(&in, payload, h->len);
	switch (h->type) {
	case LINK_STANZA:
		link_get_stanza(&in, &ls);
		if (!link_in_done(&in) ||
		    !link_strcpy(to, sizeof(to), ls.to, ls.tolen) ||
		    !link_strcpy(from, sizeof(from), ls.from, ls.fromlen))
			return -1;
		if (ls.kind == KIND_PRESENCE)
			rejoin_in(ls.type, to, from);
		out_stanza(to, from, ls.xml, ls.xlen);
		return 0;
	case LINK_QUIESCE: {
		struct link_out	m;

		if (h->len != 0 || h->sid != 0)
			return -1;
		/*
		 * A planned router restart: what remote servers send from
		 * here is held with their streams paused (in_forward), as
		 * while the router is away, until the next router took our
		 * LINK_HELLO. Bounces meanwhile are dropped, as then.
		 */
		log_info("the router is restarting: holding what servers "
		    "send");
		s2s.quiesced = true;
		link_begin(&m, l, LINK_QUIESCED, 0);
		return link_end(&m);
	}
	case LINK_RELEASE:
		if (h->len != 0 || h->sid != 0)
			return -1;
		s2s.quiesced = false;
		in_release_held();
		return 0;
	default:
		return routerlink_unexpected(h);
	}
}

bool
uplink_up(void)
{
	return routerlink_ok(s2s.up) && !s2s.quiesced;
}

static void
uplink_lost(struct routerlink *rl, struct link *l)
{
	(void)rl;
	(void)l;
	s2s.up = NULL;
	/* paused streams read again (their stanzas are held) */
	in_resume_all();
}

static void
uplink_connected(struct routerlink *rl, struct link *l)
{
	(void)rl;
	s2s.up = l;
	/* servers are accepted once stanzas can go somewhere */
	listen_pause(false);
}

/*
 * The router took our LINK_HELLO: what was held goes, or, after a
 * planned restart, waits for its LINK_RELEASE (once the workers have
 * announced their sessions). Not at the connect: a router of another
 * link version would close the link with the held stanzas in it.
 * Not quiesced, the router is new after a crash (or the first): the
 * remote occupants of its rooms join again first (rejoin.c), then what
 * they sent meanwhile (a leave) follows in order. After a planned
 * restart the handover carried them (router/muc_handover.c).
 */
static void
uplink_hello(struct routerlink *rl, struct link *l)
{
	struct link_out	m;

	(void)rl;
	if (!s2s.quiesced) {
		rejoin_announce(l);
		in_release_held();
		return;
	}
	link_begin(&m, l, LINK_QUIESCED, 0);
	link_end(&m);
}

void
uplink_start(void)
{
	struct routerlink	*rl = &s2s.uplink;

	rl->on_frame = uplink_frame;
	rl->on_up = uplink_connected;
	rl->on_lost = uplink_lost;
	rl->on_drain = in_resume_all;
	rl->on_hello = uplink_hello;
	if (routerlink_start(rl, s2s.loop, &s2s.conf, LINK_ROLE_S2S, 0) == -1)
		fatalx("cannot set up the router link");
}

int
uplink_stanza(int kind, int type, const char *to, const char *from,
    const char *xml, size_t len, bool comp)
{
	struct link_out	m;

	if (!uplink_up())
		return -1;
	link_begin(&m, s2s.up, LINK_STANZA, 0);
	if (comp)
		link_set_flags(&m, LINK_F_COMPONENT);
	link_put_stanza(&m, kind, type, to, from, xml, len);
	return link_end(&m);
}
