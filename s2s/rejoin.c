/*
 * The rooms of our group chat services that users of other servers are
 * in, joined again when the router comes back after a crash
 * (docs/internals.md, "Group chat after a crash: remote occupants"), as
 * c2s/rejoin.c does for sessions. The s2s process outlives a router
 * crash with its connections; the rooms lose their occupants and the
 * remote servers still believe their users joined.
 *
 * One record per remote real full JID and room: the last join presence
 * (XEP-0045 7.2.1) it sent the room, rewritten to ask for no history
 * (common/mucjoin.c). Sent again (LINK_F_MUC_REJOIN) only once the room
 * took it: its self-presence, the one available presence from the
 * occupant JID to the real JID, went out. Forgotten on the user's
 * unavailable or error to the room (in_pass, or our bounce of what the
 * room sent a server we cannot reach), and on an unavailable or error
 * from the occupant JID to the user (a leave, kick, ban, destroy, a
 * refused join). Any server may send joins, so the records are capped
 * in all and per remote domain (docs/hardening.md). Only presence is
 * looked at: nothing here is on the message path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/mucjoin.h"
#include "../common/util.h"
#include "s2s.h"

struct rejoin {
	struct mucjoin	 j;
	char		*real;		/* the remote user's full JID */
	char		*domain;	/* its domain, counted in s2s.rjdomains */
	bool		 joined;	/* the room's self-presence went out */
	bool		 comp;		/* a component's user (XEP-0114) */
};

/* the key of a record: "room@service real-full-JID" (a room has no ' ') */
static size_t
rejoin_key(char *key, size_t max, const char *room, const char *real)
{
	int	n;

	n = snprintf(key, max, "%.*s %s", (int)mucjoin_bare_len(room), room,
	    real);
	return n > 0 && (size_t)n < max ? (size_t)n : 0;
}

static struct rejoin *
rejoin_find(const char *room, const char *real, char *key, size_t *klen)
{
	if ((*klen = rejoin_key(key, 2 * JID_STR_MAX + 2, room, real)) == 0 ||
	    s2s.rejoins == NULL)
		return NULL;
	return map_getn(s2s.rejoins, key, *klen);
}

static size_t
domain_count(const char *domain)
{
	return s2s.rjdomains != NULL ?
	    (size_t)(uintptr_t)map_get(s2s.rjdomains, domain) : 0;
}

static void
domain_add(const char *domain, int d)
{
	size_t	n = domain_count(domain) + (size_t)d;

	if (n == 0)
		(void)map_del(s2s.rjdomains, domain);
	else
		(void)map_put(s2s.rjdomains, domain, (void *)(uintptr_t)n);
}

static void
rejoin_free(void *v)
{
	struct rejoin	*r = v;

	mucjoin_clear(&r->j);
	free(r->real);
	free(r->domain);
	free(r);
}

static void
rejoin_forget(const char *key, size_t klen)
{
	struct rejoin	*r;

	if ((r = map_deln(s2s.rejoins, key, klen)) == NULL)
		return;
	domain_add(r->domain, -1);
	rejoin_free(r);
}

/* a new record for real in the room of to, or NULL past a cap */
static struct rejoin *
rejoin_new(const char *to, const char *real, bool comp, const char *key,
    size_t klen)
{
	struct rejoin	*r;
	const char	*at = strchr(real, '@');
	char		 dom[JID_STR_MAX + 1];

	snprintf(dom, sizeof(dom), "%.*s", (int)mucjoin_bare_len(at != NULL ?
	    at + 1 : real), at != NULL ? at + 1 : real);
	if (s2s.rejoins == NULL) {
		s2s.rejoins = map_new();
		s2s.rjdomains = map_new();
	}
	if (map_count(s2s.rejoins) >= S2S_REJOIN_MAX ||
	    domain_count(dom) >= S2S_REJOIN_DOMAIN_MAX) {
		log_debug("%s in %s: not kept for a crash (%zu joins of %s, "
		    "%zu in all)", log_escs(real), log_escs(to),
		    domain_count(dom), log_esc(dom, strlen(dom)),
		    map_count(s2s.rejoins));
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->real = xstrdup(real);
	r->domain = xstrdup(dom);
	r->comp = comp;
	map_putn(s2s.rejoins, key, klen, r);
	domain_add(dom, 1);
	return r;
}

void
rejoin_out(const struct xnode *el, struct arena *a, int type, const char *to,
    const char *from, bool comp)
{
	struct rejoin	*r;
	char		 key[2 * JID_STR_MAX + 2], *xml;
	size_t		 klen, len = 0;

	r = rejoin_find(to, from, key, &klen);
	if (klen == 0)
		return;
	switch (mucjoin_out(r != NULL ? &r->j : NULL, el, type, to)) {
	case MUCJOIN_LEAVE:
		/* a leave, or its server saying the user is gone (17.1.4) */
		if (r != NULL)
			rejoin_forget(key, klen);
		return;
	case MUCJOIN_NONE:
		return;
	case MUCJOIN_JOIN:
		break;
	}
	if (r == NULL && !mucjoin_ours(&s2s.conf, to))
		return;
	if ((xml = mucjoin_build(el, a, &len)) == NULL) {
		log_debug("join presence of %s to %s too large to keep",
		    log_escs(from), log_escs(to));
		if (r != NULL)
			rejoin_forget(key, klen);
		return;
	}
	if (r == NULL && (r = rejoin_new(to, from, comp, key, klen)) == NULL) {
		free(xml);
		return;
	}
	/* joined stays: a join sent again by an occupant is no new one */
	mucjoin_set(&r->j, to, xml, len);
}

void
rejoin_in(int type, const char *to, const char *from)
{
	struct rejoin	*r;
	char		 key[2 * JID_STR_MAX + 2];
	size_t		 klen;

	if (s2s.rejoins == NULL || map_count(s2s.rejoins) == 0 ||
	    (r = rejoin_find(from, to, key, &klen)) == NULL)
		return;
	switch (mucjoin_in(&r->j, from, type)) {
	case MUCJOIN_SELF:
		r->joined = true;
		break;
	case MUCJOIN_GONE:
		rejoin_forget(key, klen);
		break;
	case MUCJOIN_OTHER:
		break;
	}
}

struct announce {
	struct link	*l;
	size_t		 sent, skipped;
};

static int
rejoin_announce_one(const void *key, size_t len, void *val, void *arg)
{
	struct announce	*an = arg;
	struct rejoin	*r = val;
	struct link_out	 m;

	(void)key;
	(void)len;
	if (!r->joined)
		return 0;
	/* as in the c2s: past the high-water mark, not queued */
	if (link_congested(an->l)) {
		an->skipped++;
		return 0;
	}
	link_begin(&m, an->l, LINK_STANZA, 0);
	link_set_flags(&m, LINK_F_MUC_REJOIN |
	    (r->comp ? LINK_F_COMPONENT : 0));
	link_put_stanza(&m, KIND_PRESENCE, PRES_AVAILABLE, r->j.to, r->real,
	    r->j.xml, r->j.len);
	if (link_end(&m) == 0)
		an->sent++;
	return 0;
}

void
rejoin_announce(struct link *l)
{
	struct announce	an = { l, 0, 0 };

	if (s2s.rejoins == NULL)
		return;
	map_foreach(s2s.rejoins, rejoin_announce_one, &an);
	if (an.sent > 0)
		log_info("the router is back after a crash: %zu remote "
		    "occupants join again", an.sent);
	if (an.skipped > 0)
		log_warnx("%zu remote occupants not joined again: the router "
		    "link is congested", an.skipped);
}

size_t
rejoin_count(const char *domain)
{
	if (domain != NULL)
		return domain_count(domain);
	return s2s.rejoins != NULL ? map_count(s2s.rejoins) : 0;
}

void
rejoin_clear(void)
{
	map_free(s2s.rejoins, rejoin_free);
	map_free(s2s.rjdomains, NULL);
	s2s.rejoins = NULL;
	s2s.rjdomains = NULL;
}
