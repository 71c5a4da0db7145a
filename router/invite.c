/*
 * Invitations: account invitations (XEP-0401 with XEP-0445, in-band
 * registration with a preauth token, even on a host without open
 * registration) and contact invitations (XEP-0379: whoever uses the
 * token is subscribed both ways with its creator). Tokens come from
 * parleyctl invite (LINK_CTL_INVITE) and the XEP-0401 ad-hoc commands.
 *
 * Each is a DOC_INVITE document of the pseudo-account INVITE_NODE of its
 * host, keyed by the SHA-256 of the token: the token itself is never
 * stored, so a copy of the database invites nobody. The router is the
 * one writer and does its check, decrement and account creation in one
 * loop iteration, so one use cannot be spent twice.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../storage/invitation.h"
#include "../storage/store_codec.h"
#include "adhoc.h"
#include "ctl.h"
#include "router.h"

#define NS_INVITE	"urn:xmpp:invite"
#define NS_PARS		"urn:xmpp:pars:0"

int
invite_create(const char *domain, const char *creator, char kind,
    uint32_t uses, uint32_t lifetime, const char *username,
    char token[INVITE_TOKEN_MAX + 1], struct invite *iv)
{
	return invitation_create(router.store, domain, creator, kind, uses,
	    lifetime, username, clock_wall(), token, iv);
}

/*
 * The invitation token names at domain, if it may still be used: -1
 * with errno ENOENT when it is unknown (forged, revoked, used up) or
 * expired. A stored record of an expired one is removed.
 */
int
invite_find(const char *domain, const char *token, struct invite *iv)
{
	return invitation_find(router.store, domain, token, clock_wall(), iv);
}

/* one use of a valid invitation: the last removes it */
int
invite_use(const char *domain, const char *token, struct invite *iv)
{
	if (invite_find(domain, token, iv) == -1)
		return -1;
	if (--iv->uses == 0)
		return store_doc_put(router.store, DOC_INVITE, INVITE_NODE,
		    domain, iv->hash, NULL, 0);
	return invitation_put(router.store, domain, iv);
}

/* a use taken for an account that could not be made is given back */
void
invite_refund(const char *domain, struct invite *iv)
{
	iv->uses++;
	if (invitation_put(router.store, domain, iv) == -1)
		log_warn("invite: %s: a use not given back", log_escs(domain));
}

/* ---- the sweep of expired invitations and of their holds ------------- */

/*
 * invite_find removes an expired record it meets, and invite_reserved a
 * hold whose invitation is gone, but what nobody looks up again would
 * stay for ever: a sweep on the router's clock removes them. A tick
 * walks at most INVITE_SWEEP_BATCH records of one host, the invitations
 * first, then the held usernames (so a hold whose invitation the same
 * pass removed goes too), and deletes what is dead among them in one
 * deferred commit; it resumes after the last record it saw at the next
 * tick (in the next loop iteration); a pass over every host ends with a
 * wait of invite-sweep-interval.
 */
#define INVITE_SWEEP_BATCH	64

static struct {
	struct ctimer	timer;
	size_t		host;		/* index in router.conf.hosts */
	bool		holds;		/* at the host's held usernames */
	char		after[JID_PART_MAX + 1];	/* where to resume */
	size_t		removed;	/* invitations, in this pass */
	size_t		released;	/* holds, in this pass */
} sweep;

struct sweep_batch {
	double	now;
	bool	holds;
	size_t	seen, n;
	/* invitations: the expired ones' hashes; holds: every name seen */
	char	name[INVITE_SWEEP_BATCH][JID_PART_MAX + 1];
	/* holds: the hash each held for ("": none) when walked */
	char	val[INVITE_SWEEP_BATCH][INVITE_HASH_LEN + 1];
	char	last[JID_PART_MAX + 1];
};

static int
sweep_one(const char *name, const char *v, size_t len, void *arg)
{
	struct sweep_batch	*b = arg;
	struct invite		 iv;

	b->seen++;
	snprintf(b->last, sizeof(b->last), "%s", name);
	if (strlen(name) > JID_PART_MAX || b->n == INVITE_SWEEP_BATCH)
		return 0;
	if (b->holds) {
		memcpy(b->name[b->n], name, strlen(name) + 1);
		if (len == INVITE_HASH_LEN) {
			memcpy(b->val[b->n], v, len);
			b->val[b->n][len] = '\0';
		} else
			b->val[b->n][0] = '\0';
		b->n++;
		return 0;
	}
	/*
	 * A damaged record (or one of a host name so long that its key
	 * holds a digest of the hash) stays, for invite_find to report.
	 */
	if (rec_invite_decode(v, len, &iv) == 0 && strcmp(iv.hash,
	    name) == 0 && iv.expires != 0 && (double)iv.expires <= b->now)
		memcpy(b->name[b->n++], iv.hash, sizeof(iv.hash));
	return 0;
}

/*
 * The holds of the batch whose invitation may not be used any more,
 * deleted (deferred). A hold is looked up again by its name and must
 * still name what the walk saw: a name cut for a long key (the store's
 * digest) finds another record or none, and is left to invite_reserved.
 */
static size_t
sweep_holds(const char *dom, struct sweep_batch *b)
{
	char	h[INVITE_HASH_LEN + 1];
	size_t	i, n = 0;
	bool	live;

	for (i = 0; i < b->n; i++)
		if (invitation_hold(router.store, dom, b->name[i], b->now, h,
		    &live) == 0 && !live && strcmp(h, b->val[i]) == 0 &&
		    store_doc_put_later(router.store, DOC_INVITE,
		    INVITE_RESERVE_NODE, dom, b->name[i], NULL, 0) == 0)
			n++;
	return n;
}

/* one tick: a bounded part of the pass; the delay to the next */
static double
invite_sweep_step(void)
{
	struct sweep_batch	*b;
	const char		*dom;
	size_t			 i, gone = 0;
	double			 next = 0;

	if (router.conf.nhosts == 0)
		return router.conf.invite_sweep_interval;
	if (sweep.host >= router.conf.nhosts)
		sweep.host = 0;
	dom = router.conf.hosts[sweep.host].name;
	b = xcalloc(1, sizeof(*b));
	b->now = clock_wall();
	b->holds = sweep.holds;
	if (store_doc_walk_account(router.store, DOC_INVITE, sweep.holds ?
	    INVITE_RESERVE_NODE : INVITE_NODE, dom, sweep.after,
	    INVITE_SWEEP_BATCH, sweep_one, b) == -1) {
		log_warn("invite: %s: sweep", log_escs(dom));
		b->seen = b->n = 0;	/* on to what comes next */
	}
	if (sweep.holds)
		sweep.released += (gone = sweep_holds(dom, b));
	else
		for (i = 0; i < b->n; i++)
			if (store_doc_put_later(router.store, DOC_INVITE,
			    INVITE_NODE, dom, b->name[i], NULL, 0) == 0) {
				sweep.removed++;
				gone++;
			}
	if (gone > 0)
		(void)store_flush(router.store);
	if (b->seen > 0)
		log_debug("invite: %s: %s saw %zu removed %zu%s%s",
		    log_escs(dom), sweep.holds ? "hold sweep" : "sweep",
		    b->seen, gone, sweep.after[0] != '\0' ? " resumed" : "",
		    b->seen == INVITE_SWEEP_BATCH ? " more" : "");
	if (b->seen == INVITE_SWEEP_BATCH)
		memcpy(sweep.after, b->last, sizeof(sweep.after));
	else if (!sweep.holds) {
		sweep.after[0] = '\0';
		sweep.holds = true;
	} else {
		sweep.after[0] = '\0';
		sweep.holds = false;
		if (++sweep.host == router.conf.nhosts) {
			sweep.host = 0;
			if (sweep.removed > 0)
				log_info("invite: %zu expired invitations "
				    "removed", sweep.removed);
			if (sweep.released > 0)
				log_info("invite: %zu held usernames "
				    "released", sweep.released);
			sweep.removed = sweep.released = 0;
			next = router.conf.invite_sweep_interval;
		}
	}
	free(b);
	return next;
}

static void
invite_sweep_tick(struct ctimer *t)
{
	ctimer_start(t, invite_sweep_step());
}

void
invite_sweep_init(void)
{
	ctimer_init(&sweep.timer, invite_sweep_tick);
	ctimer_start(&sweep.timer, router.conf.invite_sweep_interval);
}

/*
 * Whether node@domain is held for an account invitation other than the
 * one whose hash is hash (NULL: any): while that invitation may still
 * be used (XEP-0401 5.2). A hold whose invitation is gone (used up,
 * revoked, expired) is removed here.
 */
bool
invite_reserved(const char *domain, const char *node, const char *hash)
{
	char	h[INVITE_HASH_LEN + 1];
	bool	live;

	if (invitation_hold(router.store, domain, node, clock_wall(), h,
	    &live) == -1)
		return errno != ENOENT;	/* storage cannot say: held */
	if (!live)
		(void)store_doc_put(router.store, DOC_INVITE,
		    INVITE_RESERVE_NODE, domain, node, NULL, 0);
	return live && (hash == NULL || strcmp(h, hash) != 0);
}

/* ---- XEP-0379: a subscription request with the token ----------------- */

struct pars_tok {
	char	token[INVITE_TOKEN_MAX + 1];
};

static void
pars_read(struct xnode *el, struct arena *a, void *arg)
{
	struct pars_tok	*pt = arg;
	struct xnode	*p = xnode_child(el, NS_PARS, "preauth");
	const char	*t;

	(void)a;
	/* the namespace's bytes may stand anywhere: in a status text */
	if (p == NULL || (t = xnode_attr(p, "token")) == NULL)
		return;
	if (strlen(t) <= INVITE_TOKEN_MAX)
		snprintf(pt->token, sizeof(pt->token), "%s", t);
}

/* the token of the stanza's <preauth/>, if it has one */
static bool
pars_token(const struct rstanza *rs, struct pars_tok *pt)
{
	pt->token[0] = '\0';
	if (rs->xlen == 0 || memmem(rs->xml, rs->xlen, NS_PARS,
	    strlen(NS_PARS)) == NULL)
		return false;
	(void)deliver_parse(rs->xml, rs->xlen, pars_read, pt);
	return pt->token[0] != '\0';
}

bool
invite_presence_has(const struct rstanza *rs)
{
	struct pars_tok	pt;

	return pars_token(rs, &pt);
}

/*
 * XEP-0379 3.5: a subscribe to node@domain carrying the token of one of
 * its contact invitations is approved for it; one use is spent.
 */
bool
invite_presence_use(const struct rstanza *rs, const char *node,
    const char *domain)
{
	struct pars_tok	pt;
	struct invite	iv;
	char		bare[JID_STR_MAX + 1];

	if (!pars_token(rs, &pt))
		return false;
	jid_format(bare, node, domain, NULL);
	if (invite_find(domain, pt.token, &iv) == -1 ||
	    iv.kind == INVITE_ACCOUNT || strcmp(iv.creator, bare) != 0) {
		/* the request stays an ordinary one, for the user to answer */
		log_info("invite: subscription to %s from %s with a token "
		    "that is not one of its invitations", log_esc(bare,
		    strlen(bare)),
		    log_escs(rs->from));
		return false;
	}
	if (invite_use(domain, pt.token, &iv) == -1)
		return false;
	log_info("invite: %s approved for %s by its invitation",
	    log_escs(rs->from), log_esc(bare, strlen(bare)));
	return true;
}

/* ---- parleyctl invite ------------------------------------------------- */

_Static_assert(INVITATION_OUT_MAX <= CTL_LIST_CHUNK, "one control reply");

/*
 * LINK_CTL_INVITE: str op ("create", "list", "revoke"), str host (or
 * the token to revoke), str contact (NULL: an account invitation), u32
 * uses, u32 lifetime (seconds, 0: none). The reply's text is the URI,
 * the list, or the reason: storage/invitation.c, as parleyctl writes
 * it with the server stopped.
 */
int
invite_ctl(struct link *l, const struct link_hdr *h, const char *payload)
{
	struct link_in		 in;
	struct invitation_op	 op;
	char			 opname[8], arg[JID_STR_MAX + 1];
	char			 contact[JID_STR_MAX + 1];
	char			*out;
	const char		*c;
	size_t			 clen, len;
	int			 rc;

	link_in_init(&in, payload, h->len);
	link_get_str(&in, opname, sizeof(opname));
	link_get_str(&in, arg, sizeof(arg));
	link_get_strn(&in, &c, &clen);
	link_get_u32(&in, &op.uses);
	link_get_u32(&in, &op.lifetime);
	if (!link_in_done(&in) || (c != NULL && (clen >= sizeof(contact) ||
	    memchr(c, '\0', clen) != NULL)))
		return link_fail(l, "bad %s", link_msg_name(h->type));
	if (c != NULL) {
		memcpy(contact, c, clen);
		contact[clen] = '\0';
	}
	op.op = opname;
	op.arg = arg;
	op.contact = c != NULL ? contact : NULL;
	out = xmalloc(INVITATION_OUT_MAX);
	if ((rc = invitation_ctl(router.store, &router.conf, clock_wall(), &op,
	    out, &len)) == -1) {
		free(out);
		return link_fail(l, "bad %s", link_msg_name(h->type));
	}
	rc = ctl_reply(l, h->sid, 0, rc, out, len);
	explicit_bzero(out, len);	/* a URI holds a token */
	free(out);
	return rc;
}

/* ---- XEP-0401 ad-hoc commands ----------------------------------------- */

/*
 * XEP-0401 4: urn:xmpp:invite#invite, a contact invitation of the
 * sender that also lets the invitee register here (ibr=y) when the
 * sender's role may register-accounts, answered at once as 4 says it
 * should; and (5.2) urn:xmpp:invite#create-account, an account
 * invitation, whose form names the account (username) if the sender
 * wants. Both take "uses" and "lifetime" (seconds) within the host's
 * invite-max-uses and invite-max-lifetime: #create-account in its form,
 * #invite in a form submitted with the execute request, if any
 * (defaults: one use, the longest lifetime). The result form has the
 * URI and when it expires.
 */
struct invite_req {
	uint32_t	 uses;
	uint32_t	 lifetime;
	char		 username[JID_PART_MAX + 1];	/* "": any */
};

/* a decimal in [1, max], or def when absent */
static int
invite_num(const char *s, uint32_t max, uint32_t def, uint32_t *out)
{
	char		*end;
	unsigned long	 v;

	if (s == NULL || *s == '\0') {
		*out = def;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/*
 * The submitted values, checked: -1 with *err (and *app) for the
 * answer. x may be NULL (the defaults).
 */
static int
invite_req_read(struct rstanza *rs, struct arena *a, const struct xnode *x,
    bool account, struct invite_req *rq, enum stanza_err *err,
    const char **app)
{
	const struct conf_host	*host;
	struct scram_creds	 cr;
	const char		*dom = rs->sender->user->domain, *u;
	int			 rc;

	memset(rq, 0, sizeof(*rq));
	*err = XERR_BAD_REQUEST;
	*app = "bad-payload";
	if ((host = conf_host_find(&router.conf, dom)) == NULL) {
		*err = XERR_INTERNAL_SERVER_ERROR;
		*app = NULL;
		return -1;
	}
	if (invite_num(adhoc_field(a, x, "uses"),
	    (uint32_t)host->invite_max_uses, 1, &rq->uses) == -1 ||
	    invite_num(adhoc_field(a, x, "lifetime"),
	    (uint32_t)host->invite_max_lifetime,
	    (uint32_t)host->invite_max_lifetime, &rq->lifetime) == -1)
		return -1;
	u = account ? adhoc_field(a, x, "username") : NULL;
	if (u == NULL || *u == '\0')
		return 0;
	/* RFC 7622 3.3 (XEP-0401 5.2); one name makes one account */
	if (strlen(u) > JID_PART_MAX || jid_nodeprep(u, rq->username) == -1 ||
	    rq->username[0] == '\0' || rq->uses != 1)
		return -1;
	rc = store_account_get(router.store, rq->username, dom, &cr);
	explicit_bzero(&cr, sizeof(cr));
	if (rc == 0 || (rc == -1 && errno != ENOENT) ||
	    invite_reserved(dom, rq->username, NULL)) {
		*err = rc == -1 && errno != ENOENT ?
		    XERR_INTERNAL_SERVER_ERROR : XERR_CONFLICT;
		*app = NULL;
		return -1;
	}
	return 0;
}

static void
invite_adhoc(struct rstanza *rs, struct xnode *iq, struct arena *a,
    char kind, const char *node, const char *sid, const struct xnode *x)
{
	struct invite_req rq;
	struct invite	 iv;
	struct xnode	*c, *xr;
	char		 token[INVITE_TOKEN_MAX + 1], uri[2 * JID_STR_MAX];
	char		 exp[32], bare[JID_STR_MAX + 1];
	struct tm	 tm;
	time_t		 t;
	const char	*dom = rs->sender->user->domain, *app;
	enum stanza_err	 err;

	if (invite_req_read(rs, a, x, kind == INVITE_ACCOUNT, &rq, &err,
	    &app) == -1) {
		adhoc_error(rs, iq, a, err, app);
		return;
	}
	snprintf(bare, sizeof(bare), "%s", rs->sender->user->bare);
	/* ibr=y (XEP-0401) only for whoever may invite new accounts */
	if (kind == INVITE_CONTACT && !role_may(rs->sender->user->node, dom,
	    ROLE_CAP_REGISTER))
		kind = INVITE_ROSTER;
	if (invite_create(dom, kind != INVITE_ACCOUNT ? bare : NULL, kind,
	    rq.uses, rq.lifetime, rq.username[0] != '\0' ? rq.username :
	    NULL, token, &iv) == -1 ||
	    invitation_uri(uri, sizeof(uri), dom, &iv, token) == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	explicit_bzero(token, sizeof(token));
	/* XEP-0082 DateTime */
	t = (time_t)iv.expires;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		exp[0] = '\0';
	c = adhoc_reply(iq, a, node, sid, "completed");
	xr = xdata_new(a, c, "result", NS_INVITE "#invitation");
	(void)xdata_add(a, xr, "uri", "text-single", "Invitation URI", uri);
	(void)xdata_add(a, xr, "expire", "text-single", "Expires", exp);
	deliver_tree(rs->sender, iq);
	explicit_bzero(uri, sizeof(uri));
}

void
invite_adhoc_contact(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	(void)x;
	/* one step (XEP-0401 4): a form comes with the execute, if any */
	x = xnode_child(xnode_child(iq, NS_COMMANDS, "command"), NS_XDATA,
	    "x");
	invite_adhoc(rs, iq, a, INVITE_CONTACT, NS_INVITE "#invite", sid, x);
}

/* XEP-0401 5.2: the form of #create-account */
void
invite_adhoc_account_form(struct rstanza *rs, struct xnode *c,
    struct arena *a)
{
	const struct conf_host	*host;
	struct xnode		*x;
	char			 max[64];

	host = conf_host_find(&router.conf, rs->sender->user->domain);
	x = xdata_new(a, c, "form", NULL);
	(void)xdata_add(a, x, "username", "text-single",
	    "Username (empty: the invitee chooses)", NULL);
	snprintf(max, sizeof(max), "Uses (1 to %d; one with a username)",
	    host != NULL ? host->invite_max_uses : 1);
	(void)xdata_add(a, x, "uses", "text-single", max, "1");
	snprintf(max, sizeof(max), "Valid for, in seconds (at most %d)",
	    host != NULL ? host->invite_max_lifetime : 0);
	(void)xdata_add(a, x, "lifetime", "text-single", max, NULL);
}

void
invite_adhoc_account(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	invite_adhoc(rs, iq, a, INVITE_ACCOUNT, NS_INVITE "#create-account",
	    sid, x);
}
