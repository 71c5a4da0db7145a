/*
 * The XEP-0133 administration commands that fit Parley, for adhoc.c:
 * deleting, disabling and re-enabling accounts, the number and the
 * list of online users, and an announcement to every session of the
 * host. A command is a line of admin_cmds.
 */
#include <stdio.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/util.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/xdata.h"
#include "adhoc.h"
#include "ctl.h"
#include "router.h"

/* accounts one delete-, disable- or reenable-user submission may name */
#define ACCTS_MAX	16

static bool
form_ok(const struct xnode *x)
{
	const char	*t;

	return x != NULL && (t = xnode_attr(x, "type")) != NULL &&
	    strcmp(t, "submit") == 0;
}

char *
adhoc_field(struct arena *a, const struct xnode *x, const char *var)
{
	const struct xnode	*f, *v;
	struct buf		 b;
	char			*out;

	if (!form_ok(x))
		return NULL;
	for (f = xnode_child(x, NS_XDATA, "field"); f != NULL;
	    f = xnode_next(f, NS_XDATA, "field")) {
		if (xnode_attr(f, "var") == NULL ||
		    strcmp(xnode_attr(f, "var"), var) != 0)
			continue;
		buf_init(&b, 64 * 1024);
		for (v = xnode_child(f, NS_XDATA, "value"); v != NULL;
		    v = xnode_next(v, NS_XDATA, "value")) {
			if (buf_avail(&b) > 0)
				(void)buf_puts(&b, "\n");
			(void)buf_puts(&b, xnode_text(a, v));
		}
		out = arena_strndup(a, buf_rptr(&b), buf_avail(&b));
		buf_clear(&b);
		return out;
	}
	return NULL;
}

int
adhoc_host_jid(const struct rstanza *rs, const char *s, struct jid *j)
{
	if (s == NULL || jid_parse(j, s) == -1)
		return -1;
	if (j->node == NULL || j->resource != NULL ||
	    strcmp(j->domain, rs->tdomain) != 0) {
		jid_clear(j);
		return -1;
	}
	return 0;
}

struct online {
	const char	*domain;
	size_t		 n;
	struct arena	*a;
	struct xnode	*f;	/* NULL: count only */
};

static int
online_cb(const void *key, size_t len, void *val, void *arg)
{
	struct user	*u = val;
	struct online	*o = arg;
	struct xnode	*v;

	(void)key;
	(void)len;
	if (strcmp(u->domain, o->domain) != 0 || u->sessions == NULL)
		return 0;
	o->n++;
	if (o->f != NULL) {
		v = xnode_add(o->a, o->f, NS_XDATA, "value");
		xnode_add_text(o->a, v, u->bare, strlen(u->bare));
	}
	return 0;
}

/* XEP-0133 4.21 and 4.24, answered at once */
static void
online_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    bool list)
{
	struct xnode	*c, *x;
	struct online	 o;
	char		 num[32], node[128], dom[JID_STR_MAX + 1];

	snprintf(dom, sizeof(dom), "%s", rs->tdomain);
	snprintf(node, sizeof(node), "%s", xnode_attr(xnode_child(iq,
	    NS_COMMANDS, "command"), "node"));
	c = adhoc_reply(iq, a, node, NULL, "completed");
	x = xdata_new(a, c, "result", NS_ADMIN);
	memset(&o, 0, sizeof(o));
	o.domain = dom;
	o.a = a;
	if (list)
		o.f = xdata_add(a, x, "onlineuserjids", "jid-multi",
		    "The list of all online users", NULL);
	map_foreach(router.by_bare, online_cb, &o);
	if (!list) {
		snprintf(num, sizeof(num), "%zu", o.n);
		/* text-single: XEP-0133 8.2 */
		(void)xdata_add(a, x, "onlineusersnum", "text-single",
		    "The number of online users", num);
	}
	deliver_tree(rs->sender, iq);
}

static void
num_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	(void)sid;
	(void)x;
	online_submit(rs, iq, a, false);
}

static void
list_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	(void)sid;
	(void)x;
	online_submit(rs, iq, a, true);
}

/*
 * XEP-0133 4.23: a headline to every session of the host. The text is
 * the XEP's announcement field; subject is ours, optional.
 */
static void
announce_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	struct xnode	*x;

	(void)rs;
	x = xdata_new(a, c, "form", NS_ADMIN);
	(void)xdata_add(a, x, "subject", "text-single", "Subject", NULL);
	(void)xdata_add_required(a, x, "announcement", "text-multi",
	    "Announcement");
}

struct announce {
	const char	*domain;
	struct arena	*a;
	struct xnode	*msg;
	size_t		 n;
};

static int
announce_cb(const void *key, size_t len, void *val, void *arg)
{
	struct sess	*s = val;
	struct announce	*an = arg;

	(void)key;
	(void)len;
	if (strcmp(s->user->domain, an->domain) != 0)
		return 0;
	xnode_set_attr(an->a, an->msg, "to", s->full);
	deliver_tree(s, an->msg);
	an->n++;
	return 0;
}

static void
announce_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	struct announce	 an;
	struct xnode	*c, *n, *el;
	const char	*subject, *body;
	char		 node[128], dom[JID_STR_MAX + 1], note[64];

	subject = adhoc_field(a, x, "subject");
	body = adhoc_field(a, x, "announcement");
	if (body == NULL || body[0] == '\0') {
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "bad-payload");
		return;
	}
	snprintf(dom, sizeof(dom), "%s", rs->tdomain);
	memset(&an, 0, sizeof(an));
	an.domain = dom;
	an.a = a;
	an.msg = xnode_new(a, NS_CLIENT, "message");
	xnode_set_attr(a, an.msg, "from", dom);
	xnode_set_attr(a, an.msg, "type", "headline");
	if (subject != NULL && subject[0] != '\0') {
		el = xnode_add(a, an.msg, NS_CLIENT, "subject");
		xnode_add_text(a, el, subject, strlen(subject));
	}
	el = xnode_add(a, an.msg, NS_CLIENT, "body");
	xnode_add_text(a, el, body, strlen(body));
	map_foreach(router.by_full, announce_cb, &an);
	log_info("adhoc: %s announced to %zu sessions of %s",
	    log_escs(rs->from), an.n, dom);
	snprintf(node, sizeof(node), "%s", xnode_attr(xnode_child(iq,
	    NS_COMMANDS, "command"), "node"));
	c = adhoc_reply(iq, a, node, sid, "completed");
	n = xnode_add(a, c, NS_COMMANDS, "note");
	xnode_set_attr(a, n, "type", "info");
	snprintf(note, sizeof(note), "sent to %zu sessions", an.n);
	xnode_add_text(a, n, note, strlen(note));
	deliver_tree(rs->sender, iq);
}

/*
 * XEP-0133 4.2, 4.3 and 4.4: accounts to delete, disable or re-enable,
 * bare JIDs of this host. A disabled account keeps its data and may not
 * log in (storage/store_disabled.c, as parleyctl disable).
 */
enum acct_op {
	ACCT_DELETE,
	ACCT_DISABLE,
	ACCT_ENABLE
};

static const char *const acct_verb[] = { "deleted", "disabled",
    "re-enabled" };

static void
acct_form(struct xnode *c, struct arena *a, const char *label)
{
	struct xnode	*x;

	x = xdata_new(a, c, "form", NS_ADMIN);
	(void)xdata_add_required(a, x, "accountjids", "jid-multi", label);
}

static void
delete_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	(void)rs;
	acct_form(c, a, "The Jabber ID(s) to delete");
}

static void
disable_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	(void)rs;
	acct_form(c, a, "The Jabber ID(s) to disable");
}

static void
enable_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	(void)rs;
	acct_form(c, a, "The Jabber ID(s) to re-enable");
}

/* -1 (errno ENOENT) when there is no such account */
static int
acct_apply(enum acct_op op, const char *node, const char *domain)
{
	if (op == ACCT_DELETE)
		return router_account_remove(node, domain);
	return store_account_disable(router.store, node, domain,
	    op == ACCT_DISABLE);
}

static void
acct_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x, enum acct_op op)
{
	struct xnode	*c, *n;
	struct jid	 j;
	char		*list, *w, *e;
	char		 nodes[ACCTS_MAX][JID_PART_MAX + 1];
	char		 dom[JID_STR_MAX + 1], node[128], note[64];
	size_t		 i, cnt = 0, missing = 0;
	bool		 bad = false;

	list = adhoc_field(a, x, "accountjids");
	if (list == NULL || *list == '\0') {
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "bad-payload");
		return;
	}
	snprintf(dom, sizeof(dom), "%s", rs->tdomain);
	/* all or nothing: every JID is an account's here, or none goes */
	for (w = list; *w != '\0' && !bad; w = e) {
		e = w + strcspn(w, "\n");
		if (*e != '\0')
			*e++ = '\0';
		if (*w == '\0')
			continue;
		if (cnt == ACCTS_MAX || adhoc_host_jid(rs, w, &j) == -1) {
			bad = true;
			break;
		}
		snprintf(nodes[cnt++], sizeof(nodes[0]), "%s", j.node);
		jid_clear(&j);
	}
	if (bad || cnt == 0) {
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "bad-payload");
		return;
	}
	for (i = 0; i < cnt; i++) {
		if (acct_apply(op, nodes[i], dom) == 0)
			log_info("adhoc: %s %s user=%s@%s",
			    log_escs(rs->from), acct_verb[op],
			    log_escs(nodes[i]), dom);
		else {
			missing++;
			nodes[i][0] = '\0';
		}
	}
	snprintf(node, sizeof(node), "%s", xnode_attr(xnode_child(iq,
	    NS_COMMANDS, "command"), "node"));
	c = adhoc_reply(iq, a, node, sid, "completed");
	n = xnode_add(a, c, NS_COMMANDS, "note");
	xnode_set_attr(a, n, "type", missing > 0 ? "warn" : "info");
	snprintf(note, sizeof(note), "%s %zu, not found %zu", acct_verb[op],
	    cnt - missing, missing);
	xnode_add_text(a, n, note, strlen(note));
	deliver_tree(rs->sender, iq);
	/* last: their sessions end, perhaps the admin's own (rs with it) */
	for (i = 0; i < cnt && op != ACCT_ENABLE; i++)
		if (nodes[i][0] != '\0')
			router_user_changed(nodes[i], dom);
}

static void
delete_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	acct_submit(rs, iq, a, sid, x, ACCT_DELETE);
}

static void
disable_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	acct_submit(rs, iq, a, sid, x, ACCT_DISABLE);
}

static void
enable_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	acct_submit(rs, iq, a, sid, x, ACCT_ENABLE);
}

static const struct adhoc_cmd admin_cmds[] = {
	{ NS_ADMIN "#add-user", "Add User", adhoc_add_form,
	  adhoc_add_submit },
	{ NS_ADMIN "#delete-user", "Delete User", delete_form,
	  delete_submit },
	{ NS_ADMIN "#change-user-password", "Change User Password",
	  adhoc_passwd_form, adhoc_passwd_submit },
	{ NS_ADMIN "#get-online-users-num", "Get Number of Online Users",
	  NULL, num_submit },
	{ NS_ADMIN "#get-online-users-list", "Get List of Online Users",
	  NULL, list_submit },
	{ NS_ADMIN "#announce", "Send Announcement to Online Users",
	  announce_form, announce_submit },
	{ NS_ADMIN "#set-motd", "Set Message of the Day", motd_set_form,
	  motd_set_submit },
	{ NS_ADMIN "#edit-motd", "Edit Message of the Day", motd_edit_form,
	  motd_set_submit },
	{ NS_ADMIN "#delete-motd", "Delete Message of the Day", NULL,
	  motd_delete_submit },
	{ NS_ADMIN "#disable-user", "Disable a User", disable_form,
	  disable_submit },
	{ NS_ADMIN "#reenable-user", "Re-Enable a User", enable_form,
	  enable_submit },
	{ NS_PARLEY_ADMIN "#set-user-role", "Set a User's Role",
	  adhoc_role_form, adhoc_role_submit },
	{ NS_ADMIN "#edit-admin", "Edit Admin List", adhoc_editadmin_form,
	  adhoc_editadmin_submit },
};

/* commands for whoever the role lets do cap (router/roles.c) */
static const struct {
	struct adhoc_cmd	cmd;
	enum role_cap		cap;
} user_cmds[] = {
	/* XEP-0401 4 */
	{ { "urn:xmpp:invite#invite", "Invite", NULL, invite_adhoc_contact },
	  ROLE_CAP_INVITE },
	{ { "urn:xmpp:invite#create-account", "Create Account Invitation",
	  invite_adhoc_account_form, invite_adhoc_account },
	  ROLE_CAP_REGISTER },
};

enum role_cap
adhoc_cmd_cap(const struct adhoc_cmd *cmd)
{
	size_t	i;

	for (i = 0; i < nitems(user_cmds); i++)
		if (cmd == &user_cmds[i].cmd)
			return user_cmds[i].cap;
	return 0;
}

const struct adhoc_cmd *
adhoc_cmd_find(const char *node)
{
	size_t	i;

	for (i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++)
		if (strcmp(admin_cmds[i].node, node) == 0)
			return &admin_cmds[i];
	for (i = 0; i < nitems(user_cmds); i++)
		if (strcmp(user_cmds[i].cmd.node, node) == 0)
			return &user_cmds[i].cmd;
	return NULL;
}

static void
adhoc_cmd_item(struct xnode *q, struct arena *a, const char *domain,
    const struct adhoc_cmd *cmd)
{
	struct xnode	*it;

	it = xnode_add(a, q, NS_DISCO_ITEMS, "item");
	xnode_set_attr(a, it, "jid", domain);
	xnode_set_attr(a, it, "node", cmd->node);
	xnode_set_attr(a, it, "name", cmd->name);
}

void
adhoc_cmd_items(const struct rstanza *rs, struct xnode *q, struct arena *a,
    const char *domain)
{
	size_t	i;

	if (adhoc_is_admin(rs))
		for (i = 0; i < nitems(admin_cmds); i++)
			adhoc_cmd_item(q, a, domain, &admin_cmds[i]);
	for (i = 0; i < nitems(user_cmds); i++)
		if (adhoc_may(rs, &user_cmds[i].cmd))
			adhoc_cmd_item(q, a, domain, &user_cmds[i].cmd);
}
