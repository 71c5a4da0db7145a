/*
 * In-band registration (XEP-0077), the router's part: accounts created
 * for a c2s (LINK_REG_ADD: the c2s checked the form and derived the
 * credentials), rate-limited per client address across all c2s; and for
 * a logged-in user, jabber:iq:register on the own account: what is on
 * file, password change, cancellation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/credwire.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "ctl.h"
#include "pwjob.h"
#include "router.h"

#define NS_REGISTER	"jabber:iq:register"
#define REG_ADDR_MAX	64	/* as the c2s writes it: "ipv6/64" */
/*
 * Addresses remembered for register-interval. When that many registered
 * within one interval, the whole server refuses until some expire: a
 * flood from that many addresses is not people signing up.
 */
#define REG_ADDRS_MAX	4096

static struct map	*reg_addrs;	/* client address -> struct reg_addr */

/*
 * An address that registered an account at t, or (pending) was let
 * through the check before the c2s derives credentials: one derivation
 * at a time per address, until the account is made or REG_PENDING_TTL.
 */
struct reg_addr {
	ev_tstamp	t;
	bool		pending;
};
#define REG_PENDING_TTL	30.0

struct reg_prune {
	ev_tstamp	  now;
	char		**old;
	size_t		  n;
};

static int
reg_collect(const void *key, size_t len, void *val, void *arg)
{
	struct reg_prune	*p = arg;
	struct reg_addr		*ra = val;

	if (p->now - ra->t >= (ra->pending ? REG_PENDING_TTL :
	    router.conf.register_interval))
		p->old[p->n++] = xstrndup(key, len);
	return 0;
}

/* forgets the addresses whose interval is over */
static void
reg_prune(ev_tstamp now)
{
	struct reg_prune	p;
	size_t			i;

	p.now = now;
	p.n = 0;
	p.old = xcalloc(map_count(reg_addrs) + 1, sizeof(*p.old));
	map_foreach(reg_addrs, reg_collect, &p);
	for (i = 0; i < p.n; i++) {
		free(map_del(reg_addrs, p.old[i]));
		free(p.old[i]);
	}
	free(p.old);
}

/*
 * 0 when addr may register now. The limit counts accounts created, not
 * attempts: a taken name costs nothing but a check. A check is refused
 * while another of the address's registrations is being derived; the
 * account creation that follows a check is let through.
 */
static int
reg_admit(const char *addr, ev_tstamp now, bool check)
{
	struct reg_addr	*ra;

	if (reg_addrs == NULL)
		reg_addrs = map_new();
	if ((ra = map_get(reg_addrs, addr)) != NULL) {
		if (ra->pending)
			return check && now - ra->t < REG_PENDING_TTL ? -1 : 0;
		return now - ra->t < router.conf.register_interval ? -1 : 0;
	}
	if (map_count(reg_addrs) >= REG_ADDRS_MAX)
		reg_prune(now);
	if (map_count(reg_addrs) >= REG_ADDRS_MAX) {
		log_info("registration refused: %d addresses registered "
		    "within %d seconds", REG_ADDRS_MAX,
		    router.conf.register_interval);
		return -1;
	}
	return 0;
}

/* a check let through (pending), or an account made */
static void
reg_remember(const char *addr, ev_tstamp now, bool pending)
{
	struct reg_addr	*ra;

	if ((ra = map_get(reg_addrs, addr)) == NULL) {
		ra = xmalloc(sizeof(*ra));
		map_put(reg_addrs, addr, ra);
	}
	ra->t = now;
	ra->pending = pending;
}

/* the derivation the check let through ended without an account */
static void
reg_forget(const char *addr)
{
	struct reg_addr	*ra;

	if ((ra = map_get(reg_addrs, addr)) != NULL && ra->pending)
		free(map_del(reg_addrs, addr));
}

static int
reg_reply(struct rlink *rl, uint64_t sid, uint16_t flags,
    enum stanza_err err)
{
	struct link_out	m;

	link_begin(&m, rl->l, LINK_REG_RESULT, sid);
	link_set_flags(&m, flags);
	link_put_stanza_err(&m, err);	/* XERR_COUNT: created */
	return link_end(&m) == -1 ? -1 : 0;
}

/*
 * XEP-0445: a registration with an invitation's token, open registration
 * or not, and without the per-address limit (the token is the limit).
 * An unknown, used up, revoked or expired token: item-not-found. The
 * check only looks; the creation spends a use (given back if the account
 * cannot be made) and, for a contact invitation, subscribes the new
 * account and the creator both ways (XEP-0401 ibr=y).
 */
static enum stanza_err
register_invited(const char *node, const char *domain, const char *token,
    bool check, const struct scram_creds *c)
{
	struct invite		iv;
	struct scram_creds	old;
	char			prep[JID_PART_MAX + 1];
	int			rc;

	if (jid_nodeprep(node, prep) == -1 || *prep == '\0' ||
	    strcmp(prep, node) != 0)
		return XERR_JID_MALFORMED;
	/* a roster-only invitation registers nothing (XEP-0401 ibr) */
	if (invite_find(domain, token, &iv) == -1 || iv.kind == INVITE_ROSTER)
		return iv.kind == INVITE_ROSTER || errno == ENOENT ?
		    XERR_ITEM_NOT_FOUND : XERR_INTERNAL_SERVER_ERROR;
	/* XEP-0401 5.2: an invitation naming the account makes that one,
	   and a name held for one is not another's */
	if (iv.username[0] != '\0' && strcmp(iv.username, node) != 0)
		return XERR_NOT_ALLOWED;
	if (iv.username[0] == '\0' && invite_reserved(domain, node, NULL))
		return XERR_CONFLICT;
	if (check) {
		rc = store_account_get(router.store, node, domain, &old);
		explicit_bzero(&old, sizeof(old));
		if (rc == 0)
			return XERR_CONFLICT;
		return errno == ENOENT ? XERR_COUNT :
		    XERR_INTERNAL_SERVER_ERROR;
	}
	if (invite_use(domain, token, &iv) == -1)
		return errno == ENOENT ? XERR_ITEM_NOT_FOUND :
		    XERR_INTERNAL_SERVER_ERROR;
	if (store_account_add(router.store, node, domain, c) == -1) {
		invite_refund(domain, &iv);
		return errno == EEXIST ? XERR_CONFLICT :
		    XERR_INTERNAL_SERVER_ERROR;
	}
	if (iv.kind == INVITE_CONTACT)
		presence_invited(node, domain, iv.creator);
	return XERR_COUNT;
}

/*
 * LINK_REG_ADD: str node, str domain, str client address, str token,
 * creds; with LINK_F_REG_CHECK and no creds, whether it may be made (the
 * c2s derives the creds only then).
 */
int
register_frame(struct rlink *rl, const struct link_hdr *h,
    const char *payload)
{
	const struct conf_host	*host;
	struct link_in		 in;
	struct scram_creds	 c;
	char			 node[JID_PART_MAX + 1], prep[JID_PART_MAX + 1];
	char			 domain[JID_PART_MAX + 1];
	char			 addr[REG_ADDR_MAX];
	double			 now = clock_now();
	enum stanza_err		 err;
	const char		*why;
	bool			 check = (h->flags & LINK_F_REG_CHECK) != 0;
	bool			 only = check &&
				    (h->flags & LINK_F_REG_TOKEN) != 0;
	const char		*tok;
	size_t			 tlen;
	char			 token[INVITE_TOKEN_MAX + 1];
	struct invite		 iv;

	memset(&c, 0, sizeof(c));
	link_in_init(&in, payload, h->len);
	link_get_str(&in, node, sizeof(node));
	link_get_str(&in, domain, sizeof(domain));
	link_get_str(&in, addr, sizeof(addr));
	link_get_strn(&in, &tok, &tlen);
	if (!check)
		(void)cred_get(&in, &c);
	if (!link_in_done(&in) || (tok != NULL && (tlen > INVITE_TOKEN_MAX ||
	    memchr(tok, '\0', tlen) != NULL)) || (only && tok == NULL)) {
		explicit_bzero(&c, sizeof(c));
		return link_fail(rl->l, "bad %s", link_msg_name(h->type));
	}
	if (tok != NULL) {
		memcpy(token, tok, tlen);
		token[tlen] = '\0';
	}
	/* the c2s checked all this; storage has one gatekeeper still */
	host = conf_host_find(&router.conf, domain);
	if (host == NULL)
		err = XERR_SERVICE_UNAVAILABLE;
	else if (only) {
		/* XEP-0445 3: the token alone, before the form is filled */
		err = invite_find(domain, token, &iv) == 0 &&
		    iv.kind != INVITE_ROSTER ? XERR_COUNT :
		    XERR_ITEM_NOT_FOUND;
	} else if (tok != NULL)
		err = register_invited(node, domain, token, check, &c);
	else if (!host->allow_register)
		err = XERR_SERVICE_UNAVAILABLE;
	else if (jid_nodeprep(node, prep) == -1 || *prep == '\0' ||
	    strcmp(prep, node) != 0)
		err = XERR_JID_MALFORMED;
	/* XEP-0401 5.2: held for an account invitation */
	else if (invite_reserved(domain, node, NULL))
		err = XERR_CONFLICT;
	/*
	 * RFC 6120 8.3.3.18, type wait: try again later. XEP-0077 3.1.1
	 * lets a server refuse repeated registrations; not-acceptable,
	 * which it names, also means a missing field there.
	 */
	else if (reg_admit(addr, now, check) == -1)
		err = XERR_RESOURCE_CONSTRAINT;
	else if (check) {
		/* a taken name is told before any work is spent on it */
		if (store_account_get(router.store, node, domain, &c) == 0)
			err = XERR_CONFLICT;
		else if (errno != ENOENT)
			err = XERR_INTERNAL_SERVER_ERROR;
		else {
			reg_remember(addr, now, true);
			err = XERR_COUNT;
		}
	} else if (store_account_add(router.store, node, domain, &c) == -1) {
		err = errno == EEXIST ? XERR_CONFLICT :
		    XERR_INTERNAL_SERVER_ERROR;
		reg_forget(addr);
	} else {
		reg_remember(addr, now, false);
		err = XERR_COUNT;
	}
	explicit_bzero(&c, sizeof(c));
	explicit_bzero(token, sizeof(token));
	why = err == XERR_COUNT ? "ok" : stanza_err_name(err);
	log_info("register%s%s user=%s@%s addr=%s result=%s",
	    only ? " token" : check ? " check" : "", tok != NULL ?
	    " invited" : "",
	    log_esc(node, strlen(node)),
	    log_esc(domain, strlen(domain)), log_esc(addr, strlen(addr)),
	    why);
	return reg_reply(rl, h->sid, h->flags & (LINK_F_REG_CHECK |
	    LINK_F_REG_TOKEN), err);
}

/* ---- jabber:iq:register for a logged-in user -------------------------- */

/*
 * Which registration the IQ is about. XEP-0077 3.2, 3.3: with no 'to'
 * or to the own server (or the own bare JID, the same account), the
 * user's own; another host or account is not ours to change.
 */
static enum stanza_err
reg_target(const struct rstanza *rs)
{
	if (rs->sender == NULL)
		return XERR_FORBIDDEN;
	if (iq_own_account(rs))
		return XERR_COUNT;
	if (rs->tnode != NULL)
		return XERR_FORBIDDEN;
	if (rs->tdomain != NULL &&
	    strcmp(rs->tdomain, rs->sender->user->domain) == 0)
		return XERR_COUNT;
	return XERR_SERVICE_UNAVAILABLE;
}

static void
reg_error(struct rstanza *rs, struct xnode *iq, struct arena *a,
    enum stanza_err cond, const char *text)
{
	/* XEP-0077 3.3: the request (a password) is not sent back */
	iq->children = iq->last = NULL;
	stanza_make_error(a, iq, cond, text);
	deliver_tree(rs->sender, iq);
}

/* XEP-0077 3.1: an authenticated user is registered: what is on file */
static void
register_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q, *u;
	enum stanza_err	 err;
	const char	*node;

	if ((err = reg_target(rs)) != XERR_COUNT) {
		reg_error(rs, iq, a, err, NULL);
		return;
	}
	node = rs->sender->user->node;
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_REGISTER, "query");
	xnode_add(a, q, NS_REGISTER, "registered");
	u = xnode_add(a, q, NS_REGISTER, "username");
	xnode_add_text(a, u, node, strlen(node));
	xnode_add(a, q, NS_REGISTER, "password");
	deliver_tree(rs->sender, iq);
}

/*
 * XEP-0077 3.2: the account goes (with its roster, offline messages and
 * documents) and its contacts see the subscriptions cancelled
 * (router_account_remove), the result is sent, then every session of the
 * account is closed with <not-authorized/>.
 */
static void
register_remove(struct rstanza *rs, struct xnode *iq, struct xnode *q,
    struct arena *a)
{
	struct xnode	*c;
	char		 node[JID_PART_MAX + 1], domain[JID_PART_MAX + 1];
	int		 n = 0;

	for (c = xnode_child(q, NULL, NULL); c != NULL;
	    c = xnode_next(c, NULL, NULL))
		n++;
	if (n != 1) {
		reg_error(rs, iq, a, XERR_BAD_REQUEST,
		    "<remove/> must be the only child");
		return;
	}
	/* copies: the user and its strings go with its last session */
	snprintf(node, sizeof(node), "%s", rs->sender->user->node);
	snprintf(domain, sizeof(domain), "%s", rs->sender->user->domain);
	if (router_account_remove(node, domain) == -1) {
		log_warn("register: remove %s",
		    log_escs(rs->sender->user->bare));
		reg_error(rs, iq, a, errno == ENOENT ?
		    XERR_REGISTRATION_REQUIRED : XERR_INTERNAL_SERVER_ERROR,
		    NULL);
		return;
	}
	log_info("register: removed user=%s",
	    log_escs(rs->sender->user->bare));
	iq_make_result(iq, a);
	deliver_tree(rs->sender, iq);
	/* the same link carries the result first; rs is gone after this */
	router_user_changed(node, domain);
}

/* the answer to the change, or its error, to the session s */
static void
pw_answer(struct sess *s, const struct pwjob *j, int err, const char *text)
{
	struct arena	 a;
	struct xnode	*iq;

	arena_init(&a);
	iq = pwjob_iq(j, s, &a);
	if (err == -1)
		iq_make_result(iq, &a);
	else
		stanza_make_error(&a, iq, (enum stanza_err)err, text);
	deliver_tree(s, iq);
	arena_free(&a);
}

/* the credentials derived (pwjob.c): stored if the session is still here */
static void
pw_derived(struct sess *s, const struct pwjob *j, void *arg)
{
	(void)arg;
	if (s == NULL) {
		/* nobody to tell: a change nobody confirms is not made */
		log_info("register: password change of %s dropped: the "
		    "session is gone", log_escs(j->full));
		return;
	}
	if (j->rc == -1) {
		pw_answer(s, j, XERR_NOT_ACCEPTABLE,
		    "the password has characters SASLprep prohibits");
		return;
	}
	if (store_account_set(router.store, s->user->node, s->user->domain,
	    &j->c) == -1) {
		log_warn("register: password of %s",
		    log_escs(s->user->bare));
		pw_answer(s, j, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	log_info("register: password changed user=%s",
	    log_escs(s->user->bare));
	pw_answer(s, j, -1, NULL);
	/*
	 * As parleyctl passwd: whoever else is logged in with the old
	 * password (perhaps the reason for the change) is logged out.
	 */
	router_user_others_end(s, SERR_NOT_AUTHORIZED);
}

/* XEP-0077 3.3: a new password for the own account */
static void
register_passwd(struct rstanza *rs, struct xnode *iq, struct xnode *q,
    struct arena *a)
{
	struct xnode		*u, *p;
	struct jid		 j;
	char			*user, *pass;
	const char		*node = rs->sender->user->node;
	const char		*domain = rs->sender->user->domain;
	char			 prep[JID_PART_MAX + 1];
	bool			 mine;

	u = xnode_child(q, NS_REGISTER, "username");
	p = xnode_child(q, NS_REGISTER, "password");
	user = u != NULL ? xnode_text(a, u) : NULL;
	pass = p != NULL ? xnode_text(a, p) : NULL;
	/* an empty password changes nothing: "MUST NOT" set a null one */
	if (user == NULL || pass == NULL || *pass == '\0') {
		reg_error(rs, iq, a, XERR_BAD_REQUEST,
		    "a username and a new password are required");
		goto done;
	}
	/* the username is ours, as a localpart or as the bare JID */
	if (strchr(user, '@') != NULL) {
		mine = jid_parse(&j, user) == 0;
		if (mine) {
			mine = j.node != NULL && j.resource == NULL &&
			    strcmp(j.node, node) == 0 &&
			    strcmp(j.domain, domain) == 0;
			jid_clear(&j);
		}
	} else
		mine = jid_nodeprep(user, prep) == 0 &&
		    strcmp(prep, node) == 0;
	if (!mine) {
		reg_error(rs, iq, a, XERR_FORBIDDEN,
		    "only the own password can be changed");
		goto done;
	}
	if (strlen(pass) > SCRAM_PASSWORD_MAX) {
		reg_error(rs, iq, a, XERR_NOT_ACCEPTABLE,
		    "the password is too long");
		goto done;
	}
	if (pwjob_submit(rs, iq, pass, pw_derived, NULL) == -1)
		reg_error(rs, iq, a, XERR_RESOURCE_CONSTRAINT,
		    "the server is busy; try again");
done:
	xnode_wipe(p, pass);
}

static void
register_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q = xnode_child(iq, NULL, NULL);
	enum stanza_err	 err;

	if ((err = reg_target(rs)) != XERR_COUNT) {
		reg_error(rs, iq, a, err, NULL);
		return;
	}
	if (xnode_child(q, NS_REGISTER, "remove") != NULL)
		register_remove(rs, iq, q, a);
	else
		register_passwd(rs, iq, q, a);
}

/*
 * Also answered for the server's JID: XEP-0077 3.3 sends the password
 * change there, and disco#info of the server lists the feature (8).
 */
const struct iq_handler register_handler = {
	.ns = NS_REGISTER, .name = "query", .server = true, .account = true,
	.get = register_get, .set = register_set,
};
