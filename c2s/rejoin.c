/*
 * The group chat rooms a session is in, joined again when the router
 * comes back after a crash (docs/internals.md, "Group chat after a
 * crash"). A crashed router loses its rooms' occupants; the clients
 * still believe they are joined. The c2s keeps, per session, the last
 * join presence (XEP-0045 7.2.1: directed presence with <x xmlns=muc>)
 * sent to each room of one of our services, rewritten to ask for no
 * history (7.2.14: <history maxstanzas='0'/>), and sends each again,
 * flagged LINK_F_MUC_REJOIN, when it announces the session to a new
 * router. The router takes such a join only from a session that is not
 * already the room's occupant (a planned restart's handover put it
 * back) and only into a room that exists.
 *
 * Forgotten on: an unavailable or error presence to the room (the
 * router removes an occupant on either, XEP-0045 17.1.4), the session's
 * broadcast unavailable (RFC 6121 4.6.3: the router sends unavailable
 * to the rooms), an unavailable or error presence from the occupant
 * JID (a leave, kick, ban, destroy, a refused join). The record and
 * its rewriting are common/mucjoin.c, shared with s2s/rejoin.c. Nothing
 * here is on the message path: only presence is looked at.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/mucjoin.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

/* the record of the room of jid (room@service[/nick]), or NULL */
static struct mucjoin *
rejoin_find(struct stream *st, const char *jid)
{
	size_t	i;

	for (i = 0; i < st->nrooms; i++)
		if (mucjoin_room_is(&st->rooms[i], jid))
			return &st->rooms[i];
	return NULL;
}

static void
rejoin_forget(struct stream *st, struct mucjoin *r)
{
	mucjoin_clear(r);
	*r = st->rooms[--st->nrooms];
	if (st->nrooms == 0) {
		free(st->rooms);
		st->rooms = NULL;
	}
}

void
rejoin_free(struct stream *st)
{
	while (st->nrooms > 0)
		rejoin_forget(st, &st->rooms[st->nrooms - 1]);
}

/* xml (taken) as the join of the room of to: r's, or a new record */
static void
rejoin_put(struct stream *st, struct mucjoin *r, const char *to, char *xml,
    size_t len)
{
	if (r == NULL) {
		if (st->nrooms >= C2S_REJOIN_ROOMS_MAX) {
			log_debug("%016llx in %d rooms: %s not kept",
			    (unsigned long long)st->sid, C2S_REJOIN_ROOMS_MAX,
			    log_escs(to));
			free(xml);
			return;
		}
		st->rooms = xrealloc(st->rooms, (st->nrooms + 1) *
		    sizeof(*st->rooms));
		r = &st->rooms[st->nrooms++];
		memset(r, 0, sizeof(*r));
	}
	mucjoin_set(r, to, xml, len);
}

void
rejoin_out(struct stream *st, const struct xnode *el, struct arena *a,
    int type, const char *to)
{
	struct mucjoin	*r;
	char		*xml;
	size_t		 len = 0;

	r = st->nrooms > 0 ? rejoin_find(st, to) : NULL;
	switch (mucjoin_out(r, el, type, to)) {
	case MUCJOIN_LEAVE:
		if (r != NULL)
			rejoin_forget(st, r);
		return;
	case MUCJOIN_NONE:
		return;
	case MUCJOIN_JOIN:
		break;
	}
	if (r == NULL && !mucjoin_ours(&c2s.conf, to))
		return;		/* a remote room did not lose us */
	if ((xml = mucjoin_build(el, a, &len)) == NULL) {
		log_debug("%016llx join presence to %s too large to keep",
		    (unsigned long long)st->sid, log_escs(to));
		if (r != NULL)
			rejoin_forget(st, r);
		return;
	}
	rejoin_put(st, r, to, xml, len);
}

/*
 * The router's LINK_SESS_KEEP: a room the session, resumed here, is in
 * (router/sesskeep.c); the c2s it left had kept the join
 */
void
rejoin_keep(struct stream *st, const char *to, const char *xml, size_t len)
{
	char	*copy;

	if (strchr(to, '/') == NULL || len > C2S_REJOIN_XML_MAX ||
	    !mucjoin_ours(&c2s.conf, to)) {
		log_debug("%016llx join of %s from the router not kept",
		    (unsigned long long)st->sid, log_escs(to));
		return;
	}
	copy = xmalloc(len + 1);
	memcpy(copy, xml, len);
	copy[len] = '\0';
	rejoin_put(st, rejoin_find(st, to), to, copy, len);
}

void
rejoin_own(struct stream *st, int type)
{
	/* RFC 6121 4.6.3: the router sends unavailable to every room */
	if (type == PRES_UNAVAILABLE)
		rejoin_free(st);
}

void
rejoin_in(struct stream *st, const struct link_stanza *ls)
{
	struct mucjoin	*r;
	char		 from[JID_STR_MAX + 1];

	if (st->nrooms == 0 || ls->kind != KIND_PRESENCE ||
	    !link_strcpy(from, sizeof(from), ls->from, ls->fromlen) ||
	    (r = rejoin_find(st, from)) == NULL)
		return;
	if (mucjoin_in(r, from, ls->type) == MUCJOIN_GONE)
		rejoin_forget(st, r);
}

void
rejoin_announce(struct stream *st)
{
	struct link_out	m;
	size_t		i;

	for (i = 0; i < st->nrooms; i++) {
		/* as the presence: past the high-water mark, not queued */
		if (link_congested(c2s.up)) {
			log_debug("%016llx rooms not joined again: link "
			    "congested", (unsigned long long)st->sid);
			return;
		}
		link_begin(&m, c2s.up, LINK_STANZA, st->sid);
		link_set_flags(&m, LINK_F_MUC_REJOIN);
		link_put_stanza(&m, KIND_PRESENCE, PRES_AVAILABLE,
		    st->rooms[i].to, st->jid, st->rooms[i].xml,
		    st->rooms[i].len);
		link_end(&m);
	}
}
