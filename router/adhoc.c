/*
 * Ad-hoc commands (XEP-0050) on the server's JID, for the host's admins
 * (the host option admins, or a role with admin-commands, router/roles.c):
 * the command list in disco#items (node NS_COMMANDS), execution with
 * multi-step forms tied to a sessionid, cancel, and the errors of
 * XEP-0050 4.6. The commands are a table in adhoc_admin.c. Sessions are
 * few and short: a bounded table, expiring.
 */
#include <stdio.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/util.h"
#include "adhoc.h"
#include "router.h"

#define ADHOC_SESS_MAX		32	/* open sessions, all hosts */
#define ADHOC_SESS_TTL		600.0	/* seconds a session waits */

struct adhoc_sess {
	char			 id[17];	/* "": a free slot */
	char			 owner[JID_STR_MAX + 1]; /* full JID */
	const struct adhoc_cmd	*cmd;
	double			 expires;
};

static struct adhoc_sess	adhoc_sess[ADHOC_SESS_MAX];

/*
 * May the sender run the host's admin commands? Those the host's admins
 * option lists may (as before roles), and the host's own accounts whose
 * role has admin-commands (router/roles.c).
 */
bool
adhoc_is_admin(const struct rstanza *rs)
{
	const struct conf_host	*h;
	const struct user	*u;

	if (rs->sender == NULL || (u = rs->sender->user) == NULL ||
	    (h = conf_host_find(&router.conf, rs->tdomain)) == NULL)
		return false;
	if (role_listed_admin(h, u->node, u->domain))
		return true;
	return strcmp(u->domain, h->name) == 0 &&
	    role_may(u->node, u->domain, ROLE_CAP_ADMIN);
}

/*
 * May the sender run cmd? Admin commands need adhoc_is_admin; the
 * others (cap set) an account of the host whose role grants cap.
 */
bool
adhoc_may(const struct rstanza *rs, const struct adhoc_cmd *cmd)
{
	const struct user	*u;
	enum role_cap		 cap = adhoc_cmd_cap(cmd);

	if (cap == 0 || adhoc_is_admin(rs))
		return adhoc_is_admin(rs);
	if (rs->sender == NULL || (u = rs->sender->user) == NULL ||
	    strcmp(u->domain, rs->tdomain) != 0)
		return false;
	return role_may(u->node, u->domain, cap);
}

/* the error of XEP-0050 4.6: a stanza error and its specific condition */
void
adhoc_error(struct rstanza *rs, struct xnode *iq, struct arena *a,
    enum stanza_err err, const char *app)
{
	struct xnode	*e;

	stanza_make_error(a, iq, err, NULL);
	if (app != NULL && (e = xnode_child(iq, NULL, "error")) != NULL)
		(void)xnode_add(a, e, NS_COMMANDS, app);
	deliver_tree(rs->sender, iq);
}

static struct adhoc_sess *
asess_find(const char *id, const char *owner)
{
	size_t	i;
	double	now = clock_wall();

	for (i = 0; i < ADHOC_SESS_MAX; i++) {
		if (adhoc_sess[i].id[0] != '\0' &&
		    adhoc_sess[i].expires < now)
			adhoc_sess[i].id[0] = '\0';
		if (adhoc_sess[i].id[0] != '\0' &&
		    strcmp(adhoc_sess[i].id, id) == 0 &&
		    strcmp(adhoc_sess[i].owner, owner) == 0)
			return &adhoc_sess[i];
	}
	return NULL;
}

static struct adhoc_sess *
asess_new(const char *owner, const struct adhoc_cmd *cmd)
{
	struct adhoc_sess	*s = NULL;
	uint8_t			 rnd[8];
	size_t			 i;

	(void)asess_find("", "");	/* expire the old ones */
	for (i = 0; i < ADHOC_SESS_MAX && s == NULL; i++)
		if (adhoc_sess[i].id[0] == '\0')
			s = &adhoc_sess[i];
	if (s == NULL)
		return NULL;
	random_bytes(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
	snprintf(s->owner, sizeof(s->owner), "%s", owner);
	s->cmd = cmd;
	s->expires = clock_wall() + ADHOC_SESS_TTL;
	return s;
}

/* the <command/> of an answer, with its node, sessionid and status */
struct xnode *
adhoc_reply(struct xnode *iq, struct arena *a, const char *node,
    const char *sid, const char *status)
{
	struct xnode	*c;

	iq_make_result(iq, a);
	c = xnode_add(a, iq, NS_COMMANDS, "command");
	xnode_set_attr(a, c, "node", node);
	if (sid != NULL)
		xnode_set_attr(a, c, "sessionid", sid);
	xnode_set_attr(a, c, "status", status);
	return c;
}

static void
adhoc_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode		*c;
	const struct adhoc_cmd	*cmd;
	struct adhoc_sess	*s = NULL;
	const char		*node, *sid, *action;
	char			 id[17], nodebuf[256];

	c = xnode_child(iq, NS_COMMANDS, "command");
	node = xnode_attr(c, "node");
	sid = xnode_attr(c, "sessionid");
	action = xnode_attr(c, "action");
	if (node == NULL) {
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "malformed-action");
		return;
	}
	cmd = adhoc_cmd_find(node);
	if (cmd == NULL || !adhoc_may(rs, cmd)) {
		/* an admin learns the node is not there, others no more
		   than that they may not */
		iq_error(rs, iq, a, adhoc_is_admin(rs) ? XERR_ITEM_NOT_FOUND :
		    XERR_FORBIDDEN, NULL);
		return;
	}
	if (action != NULL && strcmp(action, "execute") != 0 &&
	    strcmp(action, "complete") != 0 && strcmp(action, "cancel") != 0) {
		/* prev and next: our commands have one form each */
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "bad-action");
		return;
	}
	if (sid != NULL && ((s = asess_find(sid, rs->from)) == NULL ||
	    s->cmd != cmd)) {
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "bad-sessionid");
		return;
	}
	snprintf(nodebuf, sizeof(nodebuf), "%s", node);
	if (action != NULL && strcmp(action, "cancel") == 0) {
		if (s != NULL)
			s->id[0] = '\0';
		(void)adhoc_reply(iq, a, nodebuf, sid, "canceled");
		deliver_tree(rs->sender, iq);
		return;
	}
	if (s == NULL) {
		/* the first step: the form, or the answer at once */
		if (cmd->form == NULL) {
			cmd->submit(rs, iq, a, NULL, NULL);
			return;
		}
		if ((s = asess_new(rs->from, cmd)) == NULL) {
			iq_error(rs, iq, a, XERR_RESOURCE_CONSTRAINT,
			    "too many command sessions");
			return;
		}
		c = adhoc_reply(iq, a, nodebuf, s->id, "executing");
		cmd->form(rs, c, a);
		deliver_tree(rs->sender, iq);
		return;
	}
	snprintf(id, sizeof(id), "%s", s->id);
	s->id[0] = '\0';	/* one submission ends it, answered or not */
	cmd->submit(rs, iq, a, id, xnode_child(c, NS_XDATA, "x"));
}

/*
 * XEP-0050 2.3: disco#info of a command's node, for those who may run
 * it (others get item-not-found, as for a node that is not there)
 */
void
adhoc_disco_info(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *node)
{
	struct xnode	*q, *el;
	const struct adhoc_cmd	*cmd = adhoc_cmd_find(node);
	char		 nodebuf[256];

	if (cmd == NULL || !adhoc_may(rs, cmd)) {
		iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	snprintf(nodebuf, sizeof(nodebuf), "%s", node);
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_DISCO_INFO, "query");
	xnode_set_attr(a, q, "node", nodebuf);
	el = xnode_add(a, q, NS_DISCO_INFO, "identity");
	xnode_set_attr(a, el, "category", "automation");
	xnode_set_attr(a, el, "type", "command-node");
	el = xnode_add(a, q, NS_DISCO_INFO, "feature");
	xnode_set_attr(a, el, "var", NS_COMMANDS);
	el = xnode_add(a, q, NS_DISCO_INFO, "feature");
	xnode_set_attr(a, el, "var", NS_XDATA);
	deliver_tree(rs->sender, iq);
}

/* disco#items on node NS_COMMANDS: the commands the sender may run */
void
adhoc_disco_items(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q;
	char		 dom[JID_STR_MAX + 1];

	snprintf(dom, sizeof(dom), "%s", rs->tdomain);
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_DISCO_ITEMS, "query");
	xnode_set_attr(a, q, "node", NS_COMMANDS);
	adhoc_cmd_items(rs, q, a, dom);
	deliver_tree(rs->sender, iq);
}

const struct iq_handler adhoc_handler = {
	.ns = NS_COMMANDS, .name = "command", .server = true,
	.set = adhoc_set,
};
