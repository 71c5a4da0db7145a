/*
 * An administration command in the style of XEP-0133 for roles, which
 * XEP-0133 does not cover: set an account's role, as parleyctl role does
 * (router/roles.c decides what the role may do). Its node is in a
 * namespace of ours, NS_PARLEY_ADMIN.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "adhoc.h"
#include "router.h"

void
adhoc_role_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	struct xnode	*x, *f;

	(void)rs;
	x = xdata_new(a, c, "form", NS_PARLEY_ADMIN);
	f = xdata_add_required(a, x, "accountjid", "jid-single",
	    "The Jabber ID of the account");
	f = xdata_add(a, x, "role", "list-single", "Its role", "member");
	xdata_add_option(a, f, "admin");
	xdata_add_option(a, f, "member");
	xdata_add_option(a, f, "limited");
	(void)xnode_add(a, f, NS_XDATA, "required");
}

void
adhoc_role_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	struct xnode	*c, *n;
	struct jid	 j;
	const char	*jid, *name;
	char		 node[128], note[JID_STR_MAX + 64];
	enum role	 r;
	bool		 ok;

	jid = adhoc_field(a, x, "accountjid");
	name = adhoc_field(a, x, "role");
	/* the admin's own host only, as the other commands */
	if (name == NULL || role_parse(name, &r) == -1 ||
	    adhoc_host_jid(rs, jid, &j) == -1) {
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "bad-payload");
		return;
	}
	if (store_account_role_set(router.store, j.node, j.domain, r) == -1) {
		snprintf(note, sizeof(note), "%s@%s: %s", j.node, j.domain,
		    errno == ENOENT ? "no such account" : "not stored "
		    "(storage error)");
		ok = false;
	} else {
		log_info("adhoc: %s set role=%s user=%s@%s",
		    log_escs(rs->from), role_name(r), log_escs(j.node),
		    log_escs(j.domain));
		/* a listed admin stays one (router/roles.c) */
		ok = role_of(j.node, j.domain) == r;
		snprintf(note, sizeof(note), "%s@%s is %s%s", j.node,
		    j.domain, role_name(r), ok ? "" :
		    " (stays admin: listed in admins)");
	}
	jid_clear(&j);
	snprintf(node, sizeof(node), "%s", xnode_attr(xnode_child(iq,
	    NS_COMMANDS, "command"), "node"));
	c = adhoc_reply(iq, a, node, sid, "completed");
	n = xnode_add(a, c, NS_COMMANDS, "note");
	xnode_set_attr(a, n, "type", ok ? "info" : "warn");
	xnode_add_text(a, n, note, strlen(note));
	deliver_tree(rs->sender, iq);
}
