/*
 * XEP-0133 4.29 Edit Admin List, for adhoc.c's table: the form lists the
 * host's administrators in adminjids, those of the host's admins option
 * and the accounts whose stored role is admin (router/roles.c); the
 * submitted list becomes the stored roles. The configuration wins: a JID
 * of the admins option stays an admin whatever is submitted (the note
 * says so). An admin may not take themselves off the list, so the
 * command never leaves a host without an administrator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "adhoc.h"
#include "router.h"

/* JIDs one submission may list; the stored admins one form shows */
#define EDITADMIN_MAX	64

/* localparts of the host: the stored admins, or the submitted list */
struct admins {
	char	 nodes[EDITADMIN_MAX][JID_PART_MAX + 1];
	size_t	 n;
	bool	 more;		/* stored admins past EDITADMIN_MAX */
};

struct walk {
	struct buf	 names;	/* NUL-terminated nodes, in a row */
};

static int
walk_cb(const char *node, const char *domain, void *arg)
{
	struct walk	*w = arg;

	(void)domain;
	/* the cap only bounds memory: past it the walk stops, said below */
	return buf_append(&w->names, node, strlen(node) + 1) == -1;
}

/*
 * The host's accounts whose stored role is admin. The walk collects the
 * names first: a role read inside the walk's read transaction would
 * open a second one on the same thread.
 */
static int
admins_stored(const char *domain, struct admins *ad)
{
	struct walk	 w;
	const char	*p, *end;
	enum role	 r;
	int		 rc = 0;

	memset(ad, 0, sizeof(*ad));
	buf_init(&w.names, 64 * 1024 * 1024);
	if (store_account_list(router.store, domain, walk_cb, &w) == -1)
		rc = -1;
	p = buf_rptr(&w.names);
	end = p + buf_avail(&w.names);
	for (; rc == 0 && p < end; p += strlen(p) + 1) {
		if (store_account_role_get(router.store, p, domain, &r) == -1 ||
		    r != ROLE_ADMIN)
			continue;
		if (ad->n == EDITADMIN_MAX) {
			ad->more = true;
			break;
		}
		snprintf(ad->nodes[ad->n++], sizeof(ad->nodes[0]), "%s", p);
	}
	buf_clear(&w.names);
	return rc;
}

static bool
admins_has(const struct admins *ad, const char *node)
{
	size_t	i;

	for (i = 0; i < ad->n; i++)
		if (strcmp(ad->nodes[i], node) == 0)
			return true;
	return false;
}

void
adhoc_editadmin_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	const struct conf_host	*h;
	struct xnode		*x, *f, *v;
	struct admins		 ad;
	char			 jid[JID_STR_MAX + 1], *conf, *w;
	const char		*text;
	size_t			 i;

	h = conf_host_find(&router.conf, rs->tdomain);
	x = xdata_new(a, c, "form", NS_ADMIN);
	f = xdata_add(a, x, "adminjids", "jid-multi", "The admin list", NULL);
	conf = arena_strdup(a, h != NULL && h->admins != NULL ? h->admins :
	    "");
	for (w = strtok(conf, " "); w != NULL; w = strtok(NULL, " "))
		xdata_add_value(a, f, w);
	if (admins_stored(rs->tdomain, &ad) == -1)
		log_warn("adhoc: %s: the admin list", rs->tdomain);
	for (i = 0; i < ad.n; i++) {
		if (role_listed_admin(h, ad.nodes[i], rs->tdomain))
			continue;
		snprintf(jid, sizeof(jid), "%s@%s", ad.nodes[i],
		    rs->tdomain);
		xdata_add_value(a, f, jid);
	}
	/* which of them the configuration holds, as a fixed field */
	text = h != NULL && h->admins != NULL && h->admins[0] != '\0' ?
	    arena_printf(a, "Admins in the configuration file (admins "
	    "option), admins whatever is submitted: %s", h->admins) :
	    "The configuration file lists no admins (admins option).";
	f = xnode_add(a, x, NS_XDATA, "field");
	xnode_set_attr(a, f, "type", "fixed");
	v = xnode_add(a, f, NS_XDATA, "value");
	xnode_add_text(a, v, text, strlen(text));
	if (ad.more) {
		text = "More admin accounts than the form shows: use "
		    "parleyctl role.";
		f = xnode_add(a, x, NS_XDATA, "field");
		xnode_set_attr(a, f, "type", "fixed");
		v = xnode_add(a, f, NS_XDATA, "value");
		xnode_add_text(a, v, text, strlen(text));
	}
}

/*
 * The submitted list: each JID an existing account of this host (kept
 * in wt) or an admin of the configuration (any domain, nothing to
 * store); -1 for anything else, and nothing is changed.
 */
static int
want_parse(const struct rstanza *rs, const struct conf_host *h,
    char *list, struct admins *wt)
{
	struct jid	 j;
	enum role	 r;
	char		*w, *e;
	bool		 ours, listed;
	int		 rc = 0;

	memset(wt, 0, sizeof(*wt));
	for (w = list; *w != '\0' && rc == 0; w = e) {
		e = w + strcspn(w, "\n");
		if (*e != '\0')
			*e++ = '\0';
		if (*w == '\0')
			continue;
		if (jid_parse(&j, w) == -1)
			return -1;
		listed = j.node != NULL && j.resource == NULL &&
		    role_listed_admin(h, j.node, j.domain);
		ours = j.node != NULL && j.resource == NULL &&
		    strcmp(j.domain, rs->tdomain) == 0 &&
		    (store_account_role_get(router.store, j.node, j.domain,
		    &r) == 0 || errno != ENOENT);
		if (ours && wt->n < EDITADMIN_MAX)
			snprintf(wt->nodes[wt->n++], sizeof(wt->nodes[0]), "%s",
			    j.node);
		else if (!listed)
			rc = -1;
		jid_clear(&j);
	}
	return rc;
}

/* node@dom's stored role becomes r (logged): 0, or -1 */
static int
role_write(const struct rstanza *rs, const char *node, const char *dom,
    enum role r)
{
	if (store_account_role_set(router.store, node, dom, r) == -1)
		return -1;
	log_info("adhoc: %s set role=%s user=%s@%s", log_escs(rs->from),
	    role_name(r), log_escs(node), dom);
	return 0;
}

void
adhoc_editadmin_submit(struct rstanza *rs, struct xnode *iq,
    struct arena *a, const char *sid, const struct xnode *x)
{
	const struct conf_host	*h;
	const struct user	*u;
	struct xnode		*c, *n;
	struct admins		 ad;
	struct admins		 wt;
	char			*list, node[128], note[256];
	const char		*dom = rs->tdomain;
	size_t			 i, added = 0, removed = 0, failed = 0;

	h = conf_host_find(&router.conf, rs->tdomain);
	list = adhoc_field(a, x, "adminjids");
	if (list == NULL || h == NULL || want_parse(rs, h, list, &wt) == -1) {
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "bad-payload");
		return;
	}
	if (admins_stored(dom, &ad) == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	u = rs->sender->user;
	if (strcmp(u->domain, dom) == 0 && admins_has(&ad, u->node) &&
	    !admins_has(&wt, u->node) && !role_listed_admin(h, u->node, dom)) {
		/* another admin, or parleyctl role, may take one off */
		iq_error(rs, iq, a, XERR_NOT_ALLOWED, "an admin cannot take "
		    "themselves off the admin list");
		return;
	}
	for (i = 0; i < wt.n; i++) {
		if (admins_has(&ad, wt.nodes[i]) ||
		    role_listed_admin(h, wt.nodes[i], dom))
			continue;
		if (role_write(rs, wt.nodes[i], dom, ROLE_ADMIN) == -1)
			failed++;
		else
			added++;
	}
	for (i = 0; i < ad.n; i++) {
		if (admins_has(&wt, ad.nodes[i]))
			continue;
		if (role_write(rs, ad.nodes[i], dom, ROLE_MEMBER) == -1)
			failed++;
		else
			removed++;
	}
	snprintf(note, sizeof(note), "admins added %zu, removed %zu, not "
	    "stored (storage error) %zu%s", added, removed, failed,
	    h->admins != NULL && h->admins[0] != '\0' ? "; those of the "
	    "configuration file (admins option) stay admins" : "");
	snprintf(node, sizeof(node), "%s", xnode_attr(xnode_child(iq,
	    NS_COMMANDS, "command"), "node"));
	c = adhoc_reply(iq, a, node, sid, "completed");
	n = xnode_add(a, c, NS_COMMANDS, "note");
	xnode_set_attr(a, n, "type", failed > 0 ? "error" : "info");
	xnode_add_text(a, n, note, strlen(note));
	deliver_tree(rs->sender, iq);
}
