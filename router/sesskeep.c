/*
 * What a resumed session's new c2s must know to tell a router that comes
 * back after a crash (docs/internals.md, "Group chat after a crash"):
 * the session's available presence and a join for each room it is in.
 * The c2s it left had them as its client sent them (c2s/rejoin.c); they
 * went with that stream. The router's session and occupancy are the
 * truth, so the new c2s learns them from here (LINK_SESS_KEEP).
 */
#include <string.h>

#include "../common/buf.h"
#include "../common/link.h"
#include "../common/log.h"
#include "../common/xml.h"
#include "muc.h"
#include "router.h"

/*
 * c2s/rejoin.c keeps no larger join and no more rooms
 * (C2S_REJOIN_XML_MAX, C2S_REJOIN_ROOMS_MAX): sending them would only
 * grow the link's queue
 */
#define KEEP_JOIN_MAX	4096
#define KEEP_ROOMS_MAX	128

static void
keep_put(struct sess *s, const char *to, const char *xml, size_t len)
{
	struct link_out	m;

	link_begin(&m, s->rl->l, LINK_SESS_KEEP, s->sid);
	link_put_str(&m, to);
	link_put_strn(&m, xml, len);
	link_end(&m);
}

/*
 * The join as the client's c2s would have kept it: XEP-0045 7.2.14 no
 * history (the session had it), the room's password (7.2.6) if it has
 * one now, and the occupant's presence (show, status, caps)
 */
static int
keep_join(struct buf *b, const struct muc_room *r, const struct muc_occ *o,
    const char *full, const char *to)
{
	const char	*pw = r->cfg.password;
	int		 rc;

	buf_reset(b);
	rc = buf_puts(b, "<presence from='") |
	    xml_escape(b, full, strlen(full)) | buf_puts(b, "' to='") |
	    xml_escape(b, to, strlen(to)) |
	    buf_puts(b, "'><x xmlns='" NS_MUC "'><history maxstanzas='0'/>");
	if (pw != NULL && pw[0] != '\0')
		rc |= buf_puts(b, "<password>") |
		    xml_escape(b, pw, strlen(pw)) | buf_puts(b, "</password>");
	rc |= buf_puts(b, "</x>");
	if (o->extra != NULL)
		rc |= buf_puts(b, o->extra);
	return rc | buf_puts(b, "</presence>");
}

void
sess_keep_send(struct sess *s)
{
	struct muc_room	*const *v;
	struct muc_occ	*o;
	struct buf	 b;
	char		 to[JID_STR_MAX + 1];
	size_t		 i, n, sent = 0;

	if (s->rl == NULL)
		return;
	if (s->available && s->presence != NULL)
		keep_put(s, "", s->presence, strlen(s->presence));
	v = muc_sess_rooms(s->full, &n);
	buf_init(&b, KEEP_JOIN_MAX);
	for (i = 0; i < n && sent < KEEP_ROOMS_MAX; i++) {
		if ((o = muc_occ_of(v[i], s->full)) == NULL)
			continue;
		muc_occ_jid(to, v[i], o->nick);
		if (keep_join(&b, v[i], o, s->full, to) == -1) {
			log_debug("session %s: join of %s too large to keep",
			    log_escs(s->full), log_esc(to, strlen(to)));
			continue;
		}
		keep_put(s, to, buf_rptr(&b), buf_avail(&b));
		sent++;
	}
	buf_clear(&b);
}
