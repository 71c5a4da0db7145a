/*
 * The message of the day (XEP-0133 4.26-4.28): set, edited and deleted by
 * a host's admins with ad-hoc commands, kept in storage as a document of
 * the host itself (DOC_PRIVATE of node MOTD_NODE, which no account has),
 * and sent as a headline to each session at its initial presence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/xdata.h"
#include "adhoc.h"
#include "router.h"

/* no account's: nodeprep (RFC 7622 3.3.1) refuses ':' in a localpart */
#define MOTD_NODE	":host"
#define MOTD_KEY	"{urn:xmpp:parley:motd}motd"
#define MOTD_MAX	8192	/* bytes of a message of the day */

static void
motd_message(struct sess *s, const char *text, size_t len)
{
	struct arena	 a;
	struct xnode	*m, *b;

	arena_init(&a);
	m = xnode_new(&a, NS_CLIENT, "message");
	xnode_set_attr(&a, m, "from", s->user->domain);
	xnode_set_attr(&a, m, "to", s->full);
	xnode_set_attr(&a, m, "type", "headline");
	b = xnode_add(&a, m, NS_CLIENT, "body");
	xnode_add_text(&a, b, text, len);
	deliver_tree(s, m);
	arena_free(&a);
}

void
motd_send(struct sess *s)
{
	char	*text;
	size_t	 len;

	if (store_doc_get(router.store, DOC_PRIVATE, MOTD_NODE, s->user->domain,
	    MOTD_KEY, &text, &len) == -1)
		return;		/* none (ENOENT), or storage trouble */
	motd_message(s, text, len);
	free(text);
}

static void
motd_form(struct rstanza *rs, struct xnode *c, struct arena *a, bool edit)
{
	struct xnode	*x, *f;
	char		*text = NULL;
	size_t		 len;

	x = xdata_new(a, c, "form", NS_ADMIN);
	f = xdata_add_required(a, x, "motd", "text-multi",
	    "Message of the day");
	if (edit && store_doc_get(router.store, DOC_PRIVATE, MOTD_NODE, rs->tdomain,
	    MOTD_KEY, &text, &len) == 0) {
		xnode_add_text(a, xnode_add(a, f, NS_XDATA, "value"), text,
		    len);
		free(text);
	}
}

void
motd_set_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	motd_form(rs, c, a, false);
}

void
motd_edit_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	motd_form(rs, c, a, true);
}

static void
motd_done(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const char *what)
{
	char	node[128];

	log_info("adhoc: %s %s the message of the day of %s",
	    log_escs(rs->from), what, rs->tdomain);
	snprintf(node, sizeof(node), "%s", xnode_attr(xnode_child(iq,
	    NS_COMMANDS, "command"), "node"));
	(void)adhoc_reply(iq, a, node, sid, "completed");
	deliver_tree(rs->sender, iq);
}

void
motd_set_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	const char	*text = adhoc_field(a, x, "motd");

	if (text == NULL || *text == '\0' || strlen(text) > MOTD_MAX) {
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "bad-payload");
		return;
	}
	if (store_doc_put(router.store, DOC_PRIVATE, MOTD_NODE, rs->tdomain,
	    MOTD_KEY, text, strlen(text)) == -1) {
		log_warn("adhoc: message of the day of %s", rs->tdomain);
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	motd_done(rs, iq, a, sid, "set");
}

void
motd_delete_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	(void)x;
	if (store_doc_put(router.store, DOC_PRIVATE, MOTD_NODE, rs->tdomain,
	    MOTD_KEY, NULL, 0) == -1 && errno != ENOENT) {
		log_warn("adhoc: message of the day of %s", rs->tdomain);
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	motd_done(rs, iq, a, sid, "deleted");
}
