/*
 * Resource binding (RFC 6120 7) and the legacy session IQ (RFC 3921,
 * RFC 6121 appendix E: "optional"). The router owns the session table and
 * settles conflicts: the new session wins, the old one gets <conflict/>.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

void
bind_features(struct stream *st, struct buf *b)
{
	if (st->jid == NULL)
		buf_puts(b, "<bind xmlns='" NS_BIND "'/>"
		    "<session xmlns='" NS_SESSION "'><optional/></session>");
	/*
	 * XEP-0237 roster versioning, RFC 6121 3.4 pre-approval: what the
	 * server offers, not a step still to take, so also in the features
	 * after a XEP-0388 <success/> that bound inline (XEP-0386): clients
	 * (Conversations, Monal) read them there and without <ver/> fetch
	 * the whole roster at every login.
	 */
	buf_puts(b, "<ver xmlns='urn:xmpp:features:rosterver'/>"
	    "<sub xmlns='urn:xmpp:features:pre-approval'/>");
}

static void
bind_reply_error(struct stream *st, struct xnode *iq, struct arena *a,
    enum stanza_err cond)
{
	xnode_set_attr(a, iq, "to", NULL);
	xnode_set_attr(a, iq, "from", NULL);
	stanza_make_error(a, iq, cond, NULL);
	stream_send_element(st, iq);
}

static int
bind_request(struct stream *st, struct xnode *iq, struct xnode *bind,
    struct arena *a)
{
	struct xnode	*r;
	char		 res[JID_PART_MAX + 1], rnd[8], full[JID_STR_MAX + 1];
	char		*text;

	if (st->state != ST_AUTHED) {
		/* RFC 6120 7.6.2.2: one resource per stream */
		bind_reply_error(st, iq, a, XERR_NOT_ALLOWED);
		return 0;
	}
	if ((r = xnode_child(bind, NS_BIND, "resource")) != NULL &&
	    *(text = xnode_text(a, r)) != '\0') {
		/* RFC 6120 7.7.2.1: a resource that fails resourceprep */
		if (jid_resourceprep(text, res) == -1) {
			bind_reply_error(st, iq, a, XERR_BAD_REQUEST);
			return 0;
		}
	} else {
		/* RFC 6120 7.6: the server generates an unguessable one */
		random_bytes(rnd, sizeof(rnd));
		hex_encode(res, rnd, sizeof(rnd));
	}
	jid_format(full, st->node, st->domain, res);
	switch (bind_begin(st, full, xnode_attr(iq, "id"))) {
	case -1:
		bind_reply_error(st, iq, a, XERR_BAD_REQUEST);
		break;
	case -2:
		bind_reply_error(st, iq, a, XERR_RESOURCE_CONSTRAINT);
		break;
	}
	return 0;
}

/*
 * Asks the router for the session full (RFC 6120 7, or XEP-0386 with id
 * NULL); bind_result answers. -1: the JID is too long, -2: no router.
 */
int
bind_begin(struct stream *st, const char *full, const char *id)
{
	if (strlen(full) > JID_STR_MAX - 1)
		return -1;
	if (!uplink_up())
		return -2;
	free(st->bind_id);
	st->bind_id = id != NULL ? xstrdup(id) : NULL;
	st->state = ST_BIND_WAIT;
	uplink_sess_begin(st, full);
	return 0;
}

/*
 * Returns 0 when el was a bind or session IQ (answered), -1 when the
 * stream was closed, 1 when el is for the caller.
 */
int
bind_element(struct stream *st, struct xnode *el, struct arena *a)
{
	struct xnode	*c;
	const char	*type, *id, *to;

	if (strcmp(el->ns, NS_CLIENT) != 0 || strcmp(el->name, "iq") != 0)
		return 1;
	type = xnode_attr(el, "type");
	id = xnode_attr(el, "id");
	if (type == NULL || strcmp(type, "set") != 0 || id == NULL ||
	    (c = xnode_child(el, NULL, NULL)) == NULL)
		return 1;
	if (strcmp(c->ns, NS_BIND) == 0 && strcmp(c->name, "bind") == 0) {
		/* RFC 6120 8.2.3: the bind is the one payload */
		if (xnode_next(c, NULL, NULL) != NULL) {
			bind_reply_error(st, el, a, XERR_BAD_REQUEST);
			return 0;
		}
		return bind_request(st, el, c, a);
	}
	to = xnode_attr(el, "to");
	/* with another payload it is no session request: refused below */
	if (st->state == ST_BOUND && xnode_next(c, NULL, NULL) == NULL &&
	    strcmp(c->ns, NS_SESSION) == 0 &&
	    strcmp(c->name, "session") == 0 &&
	    (to == NULL || strcmp(to, st->domain) == 0)) {
		buf_reset(&c2s.scratch);
		if (buf_puts(&c2s.scratch, "<iq type='result' id='") |
		    xml_escape(&c2s.scratch, id, strlen(id)) |
		    buf_puts(&c2s.scratch, "'/>")) {
			stream_error(st, SERR_POLICY_VIOLATION,
			    "stanza too large once serialised");
			return 0;
		}
		stream_write(st, buf_rptr(&c2s.scratch),
		    buf_avail(&c2s.scratch));
		sm_written(st, -1);
		return 0;
	}
	return 1;
}

static void
bind_done(struct stream *st, const char *jid)
{
	st->jid = xstrdup(jid);
	st->state = ST_BOUND;
	st->registered = true;
	stream_bound(st);
	log_info("%016llx bound jid=%s", (unsigned long long)st->sid,
	    log_escs(jid));
}

/* the router's answer to LINK_SESS_BEGIN */
void
bind_result(struct stream *st, enum stanza_err err, const char *jid)
{
	struct buf	*b = &c2s.scratch;
	int		 rc;

	if (sasl2_pending(st)) {
		/* XEP-0386: the answer goes in XEP-0388 <success/> */
		if (err == XERR_COUNT)
			bind_done(st, jid);
		else
			st->state = ST_AUTHED;
		sasl2_bound(st, err);
		return;
	}
	/* the client's id may pass the scratch cap once escaped */
	buf_reset(b);
	rc = buf_puts(b, "<iq type='") |
	    buf_puts(b, err == XERR_COUNT ? "result" : "error") |
	    buf_puts(b, "' id='") |
	    xml_escape(b, st->bind_id, strlen(st->bind_id)) |
	    buf_puts(b, "'><bind xmlns='" NS_BIND "'>");
	if (err == XERR_COUNT) {
		rc |= buf_puts(b, "<jid>") | xml_escape(b, jid, strlen(jid)) |
		    buf_puts(b, "</jid></bind></iq>");
		bind_done(st, jid);
	} else {
		rc |= buf_printf(b, "</bind><error type='%s'><%s xmlns='"
		    NS_STANZAS "'/></error></iq>", stanza_err_type(err),
		    stanza_err_name(err));
		st->state = ST_AUTHED;
	}
	free(st->bind_id);
	st->bind_id = NULL;
	if (rc != 0) {
		stream_error(st, SERR_POLICY_VIOLATION,
		    "stanza too large once serialised");
		return;
	}
	stream_write(st, buf_rptr(b), buf_avail(b));
}
