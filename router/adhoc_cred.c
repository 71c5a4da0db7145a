/*
 * The XEP-0133 commands that set a password, add-user (4.1) and
 * change-user-password (4.7): the credentials are derived on a worker
 * (pwjob.c; PBKDF2 at scram-iterations must not hold the loop),
 * then stored, and the admin's session, found again by full JID and id,
 * gets the answer. A result nobody can be told of is not stored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/scram.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "adhoc.h"
#include "ctl.h"
#include "pwjob.h"
#include "router.h"

/* what the answer needs beside the IQ (pwjob.h): no secret here */
struct cred_req {
	bool			 add;
	char			 cmd[128], sessid[17];
	char			 node[JID_PART_MAX + 1];
	char			 domain[JID_PART_MAX + 1];
};

/* the answer: completed (err -1) or the error, to the admin's session */
static void
cred_answer(struct sess *s, const struct pwjob *j, const struct cred_req *r,
    int err, const char *app)
{
	struct rstanza	 rs;
	struct arena	 a;
	struct xnode	*iq, *c, *n;
	char		 note[JID_STR_MAX + 64];

	arena_init(&a);
	iq = pwjob_iq(j, s, &a);
	if (err == -1) {
		c = adhoc_reply(iq, &a, r->cmd, r->sessid, "completed");
		n = xnode_add(&a, c, NS_COMMANDS, "note");
		xnode_set_attr(&a, n, "type", "info");
		snprintf(note, sizeof(note), "%s %s@%s", r->add ? "added" :
		    "password changed for", r->node, r->domain);
		xnode_add_text(&a, n, note, strlen(note));
		deliver_tree(s, iq);
	} else {
		memset(&rs, 0, sizeof(rs));
		rs.sender = s;
		adhoc_error(&rs, iq, &a, (enum stanza_err)err, app);
	}
	arena_free(&a);
}

static void
cred_derived(struct sess *s, const struct pwjob *j, void *arg)
{
	struct cred_req	*r = arg;
	int		 rc;

	if (s == NULL) {
		log_info("adhoc: %s of %s@%s dropped: the admin's session is "
		    "gone", r->add ? "add-user" : "change-user-password",
		    log_escs(r->node), r->domain);
		goto done;
	}
	if (j->rc == -1) {
		cred_answer(s, j, r, XERR_BAD_REQUEST, "bad-payload");
		goto done;
	}
	rc = r->add ? store_account_add(router.store, r->node, r->domain,
	    &j->c) : store_account_set(router.store, r->node, r->domain,
	    &j->c);
	if (rc == -1) {
		log_info("adhoc: %s %s@%s: %s", r->add ? "add-user" :
		    "change-user-password", log_escs(r->node), r->domain,
		    strerror(errno));
		cred_answer(s, j, r, errno == EEXIST ? XERR_CONFLICT :
		    errno == ENOENT ? XERR_ITEM_NOT_FOUND :
		    XERR_INTERNAL_SERVER_ERROR, NULL);
		goto done;
	}
	log_info("adhoc: %s %s user=%s@%s", log_escs(j->full),
	    r->add ? "added" : "changed the password of", log_escs(r->node),
	    r->domain);
	cred_answer(s, j, r, -1, NULL);
	/* as parleyctl passwd: sessions with the old password end */
	if (!r->add)
		router_user_changed(r->node, r->domain);
done:
	free(r);
}

/* XEP-0133 4.1 and 4.7 */
static void
cred_form(struct rstanza *rs, struct xnode *c, struct arena *a, bool add)
{
	struct xnode	*x;

	(void)rs;
	x = xdata_new(a, c, "form", NS_ADMIN);
	(void)xdata_add_required(a, x, "accountjid", "jid-single",
	    "The Jabber ID of the account");
	(void)xdata_add_required(a, x, "password", "text-private",
	    "The password for this account");
	if (add) {
		(void)xdata_add_required(a, x, "password-verify",
		    "text-private", "Retype password");
	}
}

void
adhoc_add_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	cred_form(rs, c, a, true);
}

void
adhoc_passwd_form(struct rstanza *rs, struct xnode *c, struct arena *a)
{
	cred_form(rs, c, a, false);
}

/* zeroes the passwords in the submitted form (the tree is read only) */
static void
cred_wipe(const struct xnode *x, char *pass, char *verify)
{
	const struct xnode	*f, *v;
	const char		*var;

	for (f = xnode_child(x, NS_XDATA, "field"); f != NULL;
	    f = xnode_next(f, NS_XDATA, "field")) {
		var = xnode_attr(f, "var");
		if (var == NULL || strncmp(var, "password", 8) != 0)
			continue;
		for (v = xnode_child(f, NS_XDATA, "value"); v != NULL;
		    v = xnode_next(v, NS_XDATA, "value"))
			xnode_wipe((struct xnode *)v, NULL);
	}
	if (pass != NULL)
		explicit_bzero(pass, strlen(pass));
	if (verify != NULL && verify != pass)
		explicit_bzero(verify, strlen(verify));
}

static void
cred_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x, bool add)
{
	struct cred_req	*r;
	struct jid	 j;
	const char	*jid;
	char		*pass, *verify;
	bool		 ok;

	jid = adhoc_field(a, x, "accountjid");
	pass = adhoc_field(a, x, "password");
	verify = add ? adhoc_field(a, x, "password-verify") : pass;
	ok = pass != NULL && *pass != '\0' &&
	    strlen(pass) <= SCRAM_PASSWORD_MAX && verify != NULL &&
	    strcmp(pass, verify) == 0 && adhoc_host_jid(rs, jid, &j) == 0;
	if (!ok) {
		/* sent (echoing the form) before the wipe: no NUL goes out */
		adhoc_error(rs, iq, a, XERR_BAD_REQUEST, "bad-payload");
		cred_wipe(x, pass, verify);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->add = add;
	snprintf(r->cmd, sizeof(r->cmd), "%s", xnode_attr(xnode_child(iq,
	    NS_COMMANDS, "command"), "node"));
	snprintf(r->sessid, sizeof(r->sessid), "%s", sid);
	snprintf(r->node, sizeof(r->node), "%s", j.node);
	snprintf(r->domain, sizeof(r->domain), "%s", j.domain);
	jid_clear(&j);
	if (pwjob_submit(rs, iq, pass, cred_derived, r) == -1) {
		free(r);
		iq_error(rs, iq, a, XERR_RESOURCE_CONSTRAINT,
		    "the server is busy; try again");
	}
	cred_wipe(x, pass, verify);
}

void
adhoc_add_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	cred_submit(rs, iq, a, sid, x, true);
}

void
adhoc_passwd_submit(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	cred_submit(rs, iq, a, sid, x, false);
}
