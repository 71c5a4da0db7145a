/*
 * Last Activity (XEP-0012): to the server, its uptime; to an account's
 * bare JID, 0 while it has an available resource, else the time since
 * its last logout and the status it left with, for those allowed to see
 * its presence.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "router.h"

#define NS_LAST	"jabber:iq:last"

static double	last_started;

void
last_init(void)
{
	last_started = clock_wall();
}

static void
last_reply(struct rstanza *rs, struct xnode *iq, struct arena *a,
    double secs, const char *status)
{
	struct xnode	*q;

	if (!(secs >= 0))	/* the clock went back */
		secs = 0;
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_LAST, "query");
	xnode_set_attr(a, q, "seconds",
	    arena_printf(a, "%llu", (unsigned long long)secs));
	if (status != NULL && *status != '\0')
		xnode_add_text(a, q, status, strlen(status));
	deliver_tree(rs->sender, iq);
}

/* XEP-0012 3, 8: only those who may see the account's presence */
static bool
last_allowed(const struct rstanza *rs)
{
	struct jid	j;
	char		bare[JID_STR_MAX + 1];
	int		sub;

	if (iq_own_account(rs))
		return true;
	/* a contact on this server or another: its bare JID */
	if (rs->from == NULL || jid_parse(&j, rs->from) == -1)
		return false;
	jid_format(bare, j.node, j.domain, NULL);
	jid_clear(&j);
	sub = roster_sub_of(rs->tnode, rs->tdomain, bare);
	return sub == SUB_FROM || sub == SUB_BOTH;
}

static bool
last_online(const char *node, const char *domain)
{
	struct user	*u;
	struct sess	*s;
	char		 bare[JID_STR_MAX + 1];

	jid_format(bare, node, domain, NULL);
	if ((u = map_get(router.by_bare, bare)) == NULL)
		return false;
	for (s = u->sessions; s != NULL; s = s->next)
		if (s->available)
			return true;
	return false;
}

static void
last_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	double		 now = clock_wall(), then;
	char		*val, *rec, *end;
	size_t		 len;

	/* XEP-0012 5: to the server, how long it has been up */
	if (rs->tnode == NULL) {
		last_reply(rs, iq, a, now - last_started, NULL);
		return;
	}
	if (!last_allowed(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	/* XEP-0012 3: an available resource makes it 0 */
	if (last_online(rs->tnode, rs->tdomain)) {
		last_reply(rs, iq, a, 0, NULL);
		return;
	}
	if (store_doc_get(router.store, DOC_LAST, rs->tnode, rs->tdomain, "",
	    &val, &len) == -1) {
		/*
		 * Never logged out since records were kept: XEP-0012 names
		 * no error for it; item-not-found (RFC 6120 8.3.3.7) says
		 * there is no such record.
		 */
		iq_error(rs, iq, a, errno == ENOENT ? XERR_ITEM_NOT_FOUND :
		    XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	/* "SECONDS STATUS": the epoch time of the logout, then the text */
	rec = arena_strndup(a, val, len);
	free(val);
	then = strtod(rec, &end);
	if (end == rec || (*end != '\0' && *end != ' ')) {
		log_warnx("last activity of %s@%s unreadable",
		    log_escs(rs->tnode), log_escs(rs->tdomain));
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	last_reply(rs, iq, a, now - then, *end == ' ' ? end + 1 : NULL);
}

/* XEP-0012 defines no set: iq.c answers it service-unavailable */
const struct iq_handler last_handler = {
	.ns = NS_LAST, .name = "query", .server = true, .account = true,
	.get = last_get,
};
