/*
 * Message Carbons (XEP-0280): a session enables them with an IQ; then
 * it gets a copy, wrapped in <received/> or <sent/>, of the instant
 * messages its account's other sessions receive or send. The router
 * makes every carbon and hands it to the session directly, so a message
 * that arrives carrying one was made by someone else and is dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xml.h"
#include "router.h"

#define NS_CARBONS	"urn:xmpp:carbons:2"
#define NS_FORWARD	"urn:xmpp:forward:0"
#define NS_HINTS	"urn:xmpp:hints"		/* XEP-0334 */
#define NS_MUC_USER	"http://jabber.org/protocol/muc#user"
#define NS_CONFERENCE	"jabber:x:conference"		/* XEP-0249 */
#define NS_CHATSTATES	"http://jabber.org/protocol/chatstates"
#define NS_RECEIPTS	"urn:xmpp:receipts"		/* XEP-0184 */
#define NS_MARKERS	"urn:xmpp:chat-markers:0"	/* XEP-0333 */

/* what the content of a message says (struct carbons_msg) */
#define CM_READ		0x01	/* the message was parsed */
#define CM_PRIVATE	0x02	/* <private/> or <no-copy/>: never copied */
#define CM_CARBON	0x04	/* carries <sent/> or <received/> */
#define CM_MUC		0x08	/* a MUC private message (muc#user <x/>) */
#define CM_IM		0x10	/* an IM payload: body, chat state, ... */
#define CM_STRIP	0x20	/* has <private/>, to be removed */
#define CM_BAD		0x40	/* not one element: never copied */

/* the bytes of one carbon, built per account and direction */
static struct buf	carbon_out;

/*
 * Whether the bytes name ns: every routed message pays this once, so it
 * looks for the namespace's first ':' with memchr (vectorised) and
 * compares there, about a third of memmem's cost on a chat message,
 * which holds few colons (xml:lang, a time in the body).
 */
static bool
carbons_present(const char *xml, size_t len, const char *ns)
{
	size_t		 off = (size_t)(strchr(ns, ':') - ns), nl = strlen(ns);
	const char	*p, *end = xml + len;

	if (len < nl)
		return false;
	for (p = xml + off; (p = memchr(p, ':', (size_t)(end - p))) != NULL;
	    p++)
		if ((size_t)(end - (p - off)) >= nl &&
		    memcmp(p - off, ns, nl) == 0)
			return true;
	return false;
}

void
carbons_msg_init(struct carbons_msg *cm)
{
	cm->flags = 0;
	buf_init(&cm->copy, LINK_STANZA_MAX);
}

void
carbons_msg_clear(struct carbons_msg *cm)
{
	buf_clear(&cm->copy);
}

static void
carbons_unlink(struct xnode *parent, struct xnode *c)
{
	struct xnode	**pp, *prev = NULL;

	for (pp = &parent->children; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			if (parent->last == c)
				parent->last = prev;
			return;
		}
		prev = *pp;
	}
}

struct read_job {
	struct carbons_msg	*cm;
	bool			 strip;	/* write the message without
					   <private/> into cm->copy */
};

/* XEP-0280 6: the children that decide whether a message is copied */
static void
carbons_read(struct xnode *el, struct arena *a, void *arg)
{
	struct read_job		*job = arg;
	struct carbons_msg	*cm = job->cm;
	struct xnode		*c, *next;

	(void)a;
	for (c = el->children; c != NULL; c = next) {
		next = c->next;
		if (c->type != XNODE_ELEM)
			continue;
		if (strcmp(c->ns, NS_CARBONS) == 0) {
			if (strcmp(c->name, "private") == 0) {
				cm->flags |= CM_PRIVATE | CM_STRIP;
				if (job->strip)
					carbons_unlink(el, c);
			} else if (strcmp(c->name, "sent") == 0 ||
			    strcmp(c->name, "received") == 0)
				cm->flags |= CM_CARBON;
		} else if (strcmp(c->ns, NS_HINTS) == 0) {
			if (strcmp(c->name, "no-copy") == 0)
				cm->flags |= CM_PRIVATE;
		} else if (strcmp(c->ns, NS_MUC_USER) == 0 &&
		    strcmp(c->name, "x") == 0) {
			/* a mediated invitation is copied, a PM maybe not */
			if (xnode_child(c, NS_MUC_USER, "invite") != NULL)
				cm->flags |= CM_IM;
			else
				cm->flags |= CM_MUC;
		} else if ((strcmp(c->ns, NS_CLIENT) == 0 &&
		    strcmp(c->name, "body") == 0) ||
		    (strcmp(c->ns, NS_CONFERENCE) == 0 &&
		    strcmp(c->name, "x") == 0) ||
		    strcmp(c->ns, NS_CHATSTATES) == 0 ||
		    strcmp(c->ns, NS_RECEIPTS) == 0 ||
		    strcmp(c->ns, NS_MARKERS) == 0)
			cm->flags |= CM_IM;
	}
	if (job->strip && (cm->flags & CM_STRIP) && !(cm->flags & CM_CARBON) &&
	    xnode_write(&cm->copy, el, NS_CLIENT) == -1)
		buf_reset(&cm->copy);	/* grown past the cap: sent as is */
}

static void
carbons_parse(const struct rstanza *rs, struct carbons_msg *cm, bool strip)
{
	struct read_job	job = { cm, strip };

	if (cm->flags & CM_READ)
		return;
	cm->flags |= CM_READ;
	if (deliver_parse(rs->xml, rs->xlen, carbons_read, &job) == -1)
		cm->flags |= CM_BAD;
}

int
carbons_check(struct rstanza *rs, struct carbons_msg *cm)
{
	if (!carbons_present(rs->xml, rs->xlen, NS_CARBONS))
		return 0;
	/* XEP-0280 7: the receiving server removes <private/> */
	carbons_parse(rs, cm, domain_is_local_jid(rs->to));
	/*
	 * XEP-0280 11: a carbon comes from the user's bare JID. The router
	 * hands its own carbons to sessions directly, never through here,
	 * so one routed to an account (from a remote server, another user,
	 * or a session of its own) is forged whatever its 'from'. It is
	 * dropped whole: a client must never see it, and an error would
	 * only tell the forger what we filter.
	 */
	if (cm->flags & CM_CARBON) {
		log_info("forged carbon from %s to %s dropped",
		    log_escs(rs->from), log_escs(rs->to));
		return -1;
	}
	if (buf_avail(&cm->copy) > 0) {
		rs->xml = buf_rptr(&cm->copy);
		rs->xlen = buf_avail(&cm->copy);
	}
	return 0;
}

/*
 * XEP-0280 6: which messages are copied, in the direction received or
 * sent. The envelope decides most: a chat message naming none of the
 * namespaces that could exclude it is copied without being parsed (one
 * naming the carbons namespace was parsed by carbons_check already).
 */
static bool
carbons_eligible(const struct rstanza *rs, struct carbons_msg *cm,
    bool received)
{
	if (rs->type != MTYPE_CHAT && rs->type != MTYPE_NORMAL &&
	    rs->type != MTYPE_ERROR)
		return false;	/* groupchat, headline: 6 */
	if (rs->type == MTYPE_CHAT && !(cm->flags & CM_READ) &&
	    !carbons_present(rs->xml, rs->xlen, NS_HINTS) &&
	    !carbons_present(rs->xml, rs->xlen, NS_MUC_USER))
		return true;
	carbons_parse(rs, cm, false);
	if (cm->flags & (CM_BAD | CM_PRIVATE | CM_CARBON))
		return false;
	/*
	 * 6: a private message from a MUC occupant (a full JID) is not
	 * copied, the room sends it to each joined session; one a user
	 * sends to an occupant is.
	 */
	if (received && (cm->flags & CM_MUC) && rs->from != NULL &&
	    strchr(rs->from, '/') != NULL)
		return false;
	/*
	 * Chat messages; normal ones with a body; and an IM payload (a
	 * chat state, a receipt, a marker, an invitation), which in an
	 * error means it answers such a message (its payload echoed).
	 */
	return rs->type == MTYPE_CHAT || (cm->flags & CM_IM);
}

/*
 * <message from='bare' type='..'><received|sent><forwarded>the original
 * in jabber:client</forwarded></...></message>, into carbon_out. The
 * original's bytes open with "<message" and declare no default
 * namespace (xnode_write with parent jabber:client, as the c2s and s2s
 * processes write them), so one is written in. It has no 'to': 7 and 8
 * want each copy addressed to its session's full JID, which the c2s
 * writes in (deliver_fanout_begin_each), so that one frame per c2s
 * carries the copies of all its sessions.
 */
static int
carbons_build(const struct rstanza *rs, const char *dir, const char *bare)
{
	struct buf	*b = &carbon_out;

	if (rs->xlen < 9 || memcmp(rs->xml, "<message", 8) != 0 ||
	    strchr(" \t\r\n/>", rs->xml[8]) == NULL)
		return -1;
	if (b->max == 0)
		buf_init(b, LINK_STANZA_MAX);
	buf_reset(b);
	if (buf_puts(b, "<message from='") == -1 ||
	    xml_escape(b, bare, strlen(bare)) == -1 ||
	    buf_puts(b, rs->type == MTYPE_CHAT ? "' type='chat'>" :
	    rs->type == MTYPE_ERROR ? "' type='error'>" : "'>") == -1 ||
	    buf_printf(b, "<%s xmlns='" NS_CARBONS "'><forwarded xmlns='"
	    NS_FORWARD "'><message xmlns='" NS_CLIENT "'", dir) == -1 ||
	    buf_append(b, rs->xml + 8, rs->xlen - 8) == -1 ||
	    buf_printf(b, "</forwarded></%s></message>", dir) == -1)
		return -1;
	return 0;
}

/*
 * The copies for u's enabled sessions but not, nor those the message
 * reached (best, as carbons_copy says).
 */
static void
carbons_send(const struct rstanza *rs, struct user *u, const char *dir,
    const struct sess *not, const struct sess *got, int best)
{
	struct sess	*t;

	if (carbons_build(rs, dir, u->bare) == -1) {
		log_warnx("%s: carbon for %s too large, not sent", __func__,
		    log_escs(u->bare));
		return;
	}
	deliver_fanout_begin_each(KIND_MESSAGE, rs->type, u->bare,
	    buf_rptr(&carbon_out), buf_avail(&carbon_out));
	for (t = u->sessions; t != NULL; t = t->next) {
		if (!t->carbons || t == not || t == got)
			continue;
		if (best >= 0 && t->available && t->priority == best)
			continue;
		deliver_to_sess(t, KIND_MESSAGE, rs->type, t->full, u->bare,
		    buf_rptr(&carbon_out), buf_avail(&carbon_out));
	}
	deliver_fanout_end();
}

void
carbons_copy(struct rstanza *rs, struct carbons_msg *cm, struct user *u,
    const struct sess *got, int best)
{
	struct sess	*snd = rs->sender;
	bool		 sent, recv;

	/* 8: the sender's other enabled sessions; its own are received */
	sent = snd != NULL && snd->user != u &&
	    snd->user->ncarbons > (snd->carbons ? 1 : 0);
	recv = u != NULL && u->ncarbons > 0;
	if (!sent && !recv)
		return;
	if (sent && carbons_eligible(rs, cm, false))
		carbons_send(rs, snd->user, "sent", snd, NULL, -1);
	/* 7: each enabled session that did not receive the message */
	if (recv && carbons_eligible(rs, cm, true))
		carbons_send(rs, u, "received", snd, got, best);
}

/* XEP-0280 4, 5: enable or disable, for the session itself only */
static void
carbons_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct sess	*s = rs->sender;
	struct xnode	*q = xnode_child(iq, NULL, NULL);
	bool		 on;

	/* 4.1, 5.1: not-allowed for another account or a remote client */
	if (s == NULL || (rs->tnode != NULL && !iq_own_account(rs))) {
		iq_error(rs, iq, a, XERR_NOT_ALLOWED, NULL);
		return;
	}
	if (strcmp(q->name, "enable") == 0)
		on = true;
	else if (strcmp(q->name, "disable") == 0)
		on = false;
	else {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, NULL);
		return;
	}
	/* 9.1: enabling twice (or disabling) is no error */
	if (on != s->carbons) {
		s->carbons = on;
		s->user->ncarbons += on ? 1 : -1;
		log_debug("%s carbons %s", log_escs(s->full),
		    on ? "enabled" : "disabled");
	}
	iq_make_result(iq, a);
	deliver_tree(s, iq);
}

const struct iq_handler carbons_handler = {
	.ns = NS_CARBONS, .server = true, .own = true, .set = carbons_set,
};
