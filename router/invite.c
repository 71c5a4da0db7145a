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
#include "../storage/store_codec.h"
#include "adhoc.h"
#include "ctl.h"
#include "router.h"

/* '@' never is in a localpart (RFC 7622 3.3.1): no account's documents */
#define INVITE_NODE	"@invite"
#define INVITE_RAND	16	/* bytes of randomness in a token */
#define NS_INVITE	"urn:xmpp:invite"
#define NS_PARS		"urn:xmpp:pars:0"
/* what an ad-hoc invitation lasts and may be used */
#define INVITE_ADHOC_TTL	(7 * 86400)

/* the hex SHA-256 of the token: the document's key */
static int
invite_hash(const char *token, char hex[INVITE_HASH_LEN + 1])
{
	unsigned char	md[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token),
	    md) < 0) {
		errno = EIO;
		return -1;
	}
	hex_encode(hex, md, sizeof(md));
	return 0;
}

/* the record: storage/store_codec.c */
static int
invite_put(const char *domain, const struct invite *iv)
{
	char	rec[INVITE_REC_MAX];
	size_t	n;

	if ((n = rec_invite_encode(rec, iv)) == 0) {
		errno = EINVAL;
		return -1;
	}
	return store_doc_put(router.store, DOC_INVITE, INVITE_NODE, domain,
	    iv->hash, rec, n);
}

static const char *
invite_kind_name(char kind)
{
	switch (kind) {
	case INVITE_ACCOUNT:
		return "account";
	case INVITE_CONTACT:
		return "contact";
	default:
		return "roster";
	}
}

/* XEP-0379 3.2: a token the receiver cannot guess */
static int
token_ok(const char *t)
{
	size_t	i;

	for (i = 0; t[i] != '\0'; i++)
		if (i >= INVITE_TOKEN_MAX || !((t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' &&
		    t[i] <= '9') || t[i] == '-' || t[i] == '_'))
			return -1;
	return i > 0 ? 0 : -1;
}

int
invite_create(const char *domain, const char *creator, char kind,
    uint32_t uses, uint32_t lifetime, char token[INVITE_TOKEN_MAX + 1],
    struct invite *iv)
{
	unsigned char	r[INVITE_RAND];

	memset(iv, 0, sizeof(*iv));
	random_bytes(r, sizeof(r));
	hex_encode(token, r, sizeof(r));
	explicit_bzero(r, sizeof(r));
	if (invite_hash(token, iv->hash) == -1)
		return -1;
	iv->kind = kind;
	iv->uses = uses > 0 ? uses : 1;
	iv->expires = lifetime > 0 ? (int64_t)clock_wall() + lifetime : 0;
	if (creator != NULL)
		snprintf(iv->creator, sizeof(iv->creator), "%s", creator);
	if (invite_put(domain, iv) == -1)
		return -1;
	log_info("invite: created kind=%s host=%s creator=%s uses=%" PRIu32
	    " expires=%" PRId64, invite_kind_name(kind), log_escs(domain), creator != NULL ?
	    log_escs(creator) : "-", iv->uses, iv->expires);
	return 0;
}

/*
 * The invitation token names at domain, if it may still be used: -1
 * with errno ENOENT when it is unknown (forged, revoked, used up) or
 * expired. A stored record of an expired one is removed.
 */
int
invite_find(const char *domain, const char *token, struct invite *iv)
{
	char	hash[INVITE_HASH_LEN + 1], *v;
	size_t	len;
	int	rc;

	memset(iv, 0, sizeof(*iv));
	if (token_ok(token) == -1 || invite_hash(token, hash) == -1) {
		errno = ENOENT;
		return -1;
	}
	if (store_doc_get(router.store, DOC_INVITE, INVITE_NODE, domain, hash,
	    &v, &len) == -1)
		return -1;
	rc = rec_invite_decode(v, len, iv);
	free(v);
	if (rc == -1 || timingsafe_memcmp(iv->hash, hash, sizeof(hash)) != 0) {
		log_warnx("invite: %s: a stored invitation is damaged",
		    log_escs(domain));
		errno = ENOENT;
		return -1;
	}
	if (iv->expires != 0 && (double)iv->expires <= clock_wall()) {
		(void)store_doc_put(router.store, DOC_INVITE, INVITE_NODE,
		    domain, hash, NULL, 0);
		errno = ENOENT;
		return -1;
	}
	return 0;
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
	return invite_put(domain, iv);
}

/* a use taken for an account that could not be made is given back */
void
invite_refund(const char *domain, struct invite *iv)
{
	iv->uses++;
	if (invite_put(domain, iv) == -1)
		log_warn("invite: %s: a use not given back", log_escs(domain));
}

/* ---- the sweep of expired invitations ------------------------------- */

/*
 * invite_find removes an expired record it meets, but one nobody uses
 * again would stay for ever: a sweep on the router's clock removes them.
 * A tick walks at most INVITE_SWEEP_BATCH records of one host and
 * deletes the expired ones among them in one deferred commit, then
 * resumes after the last record it saw at the next tick (in the next
 * loop iteration); a pass over every host ends with a wait of
 * invite-sweep-interval.
 */
#define INVITE_SWEEP_BATCH	64

static struct {
	struct ctimer	timer;
	size_t		host;		/* index in router.conf.hosts */
	char		after[INVITE_HASH_LEN + 1];	/* where to resume */
	size_t		removed;	/* in this pass */
} sweep;

struct sweep_batch {
	double	now;
	size_t	seen, nexp;
	char	expired[INVITE_SWEEP_BATCH][INVITE_HASH_LEN + 1];
	char	last[INVITE_HASH_LEN + 1];
};

static int
sweep_one(const char *name, const char *v, size_t len, void *arg)
{
	struct sweep_batch	*b = arg;
	struct invite		 iv;

	b->seen++;
	snprintf(b->last, sizeof(b->last), "%s", name);
	/*
	 * A damaged record (or one of a host name so long that its key
	 * holds a digest of the hash) stays, for invite_find to report.
	 */
	if (rec_invite_decode(v, len, &iv) == 0 && strcmp(iv.hash,
	    name) == 0 && iv.expires != 0 && (double)iv.expires <= b->now &&
	    b->nexp < INVITE_SWEEP_BATCH)
		memcpy(b->expired[b->nexp++], iv.hash, sizeof(iv.hash));
	return 0;
}

/* one tick: a bounded part of the pass; the delay to the next */
static double
invite_sweep_step(void)
{
	struct sweep_batch	*b;
	const char		*dom;
	size_t			 i;
	double			 next = 0;

	if (router.conf.nhosts == 0)
		return router.conf.invite_sweep_interval;
	if (sweep.host >= router.conf.nhosts)
		sweep.host = 0;
	dom = router.conf.hosts[sweep.host].name;
	b = xcalloc(1, sizeof(*b));
	b->now = clock_wall();
	if (store_doc_walk_account(router.store, DOC_INVITE, INVITE_NODE, dom,
	    sweep.after, INVITE_SWEEP_BATCH, sweep_one, b) == -1) {
		log_warn("invite: %s: sweep", log_escs(dom));
		b->seen = 0;	/* on to the next host */
	}
	for (i = 0; i < b->nexp; i++)
		if (store_doc_put_later(router.store, DOC_INVITE, INVITE_NODE,
		    dom, b->expired[i], NULL, 0) == 0)
			sweep.removed++;
	if (b->nexp > 0)
		(void)store_flush(router.store);
	if (b->seen == INVITE_SWEEP_BATCH)
		memcpy(sweep.after, b->last, sizeof(sweep.after));
	else {
		sweep.after[0] = '\0';
		if (++sweep.host == router.conf.nhosts) {
			sweep.host = 0;
			if (sweep.removed > 0)
				log_info("invite: %zu expired invitations "
				    "removed", sweep.removed);
			sweep.removed = 0;
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

/* XEP-0401 3 and XEP-0379 3.2: the xmpp: URI of an invitation */
int
invite_uri(char *out, size_t len, const char *domain,
    const struct invite *iv, const char *token)
{
	int	n;

	if (iv->kind != INVITE_ACCOUNT)
		n = snprintf(out, len, "xmpp:%s?roster;preauth=%s%s",
		    iv->creator, token, iv->kind == INVITE_CONTACT ?
		    ";ibr=y" : "");
	else
		n = snprintf(out, len, "xmpp:%s?register;preauth=%s", domain,
		    token);
	return n < 0 || (size_t)n >= len ? -1 : 0;
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

struct invite_list {
	char	*buf;
	size_t	 len, cap;
	double	 now;
};

static int
invite_list_one(const char *v, size_t len, void *arg)
{
	struct invite_list	*il = arg;
	struct invite		 iv;
	char			 line[INVITE_REC_MAX + 64];
	int			 n;

	if (rec_invite_decode(v, len, &iv) == -1)
		return 0;
	if (iv.expires != 0 && (double)iv.expires <= il->now)
		return 0;
	n = snprintf(line, sizeof(line), "%.16s %s uses=%" PRIu32
	    " expires=%" PRId64 " creator=%s\n", iv.hash,
	    invite_kind_name(iv.kind), iv.uses, iv.expires,
	    iv.creator[0] != '\0' ? iv.creator : "-");
	if (n < 0 || (size_t)n >= sizeof(line) || il->len + (size_t)n >
	    CTL_LIST_CHUNK)
		return 1;	/* the rest is not shown */
	memcpy(il->buf + il->len, line, (size_t)n);
	il->len += (size_t)n;
	return 0;
}

/* removes the invitation whose token is token on any host */
static int
invite_revoke(const char *token)
{
	struct invite	iv;
	size_t		i;

	for (i = 0; i < router.conf.nhosts; i++)
		if (invite_find(router.conf.hosts[i].name, token, &iv) == 0)
			return store_doc_put(router.store, DOC_INVITE,
			    INVITE_NODE, router.conf.hosts[i].name, iv.hash,
			    NULL, 0);
	errno = ENOENT;
	return -1;
}

static int
invite_reply(struct link *l, uint64_t sid, int status, const char *text)
{
	return ctl_reply(l, sid, 0, status, text, strlen(text));
}

/*
 * LINK_CTL_INVITE: str op ("create", "list", "revoke"), str host (or
 * the token to revoke), str contact (NULL: an account invitation), u32
 * uses, u32 lifetime (seconds, 0: none). The reply's text is the URI,
 * the list, or the reason.
 */
int
invite_ctl(struct link *l, const struct link_hdr *h, const char *payload)
{
	struct link_in		 in;
	struct invite		 iv;
	struct invite_list	 il;
	struct jid		 j;
	struct scram_creds	 cr;
	char			 op[8], arg[JID_STR_MAX + 1];
	char			 contact[JID_STR_MAX + 1];
	char			 dom[JID_PART_MAX + 1];
	char			 token[INVITE_TOKEN_MAX + 1];
	char			 uri[2 * JID_STR_MAX + 1] = "";
	const char		*c;
	size_t			 clen;
	uint32_t		 uses, lifetime;
	int			 rc;

	link_in_init(&in, payload, h->len);
	link_get_str(&in, op, sizeof(op));
	link_get_str(&in, arg, sizeof(arg));
	link_get_strn(&in, &c, &clen);
	link_get_u32(&in, &uses);
	link_get_u32(&in, &lifetime);
	if (!link_in_done(&in) || (c != NULL && (clen >= sizeof(contact) ||
	    memchr(c, '\0', clen) != NULL)))
		return link_fail(l, "bad %s", link_msg_name(h->type));
	if (strcmp(op, "revoke") == 0) {
		rc = invite_revoke(arg);
		log_info("ctl: invite revoke result=%s", rc == 0 ? "ok" :
		    "not found");
		return invite_reply(l, h->sid, rc == 0 ? 0 : ENOENT,
		    rc == 0 ? "revoked\n" : "no such invitation");
	}
	if (jid_nameprep(arg, dom) == -1 ||
	    conf_host_find(&router.conf, dom) == NULL)
		return invite_reply(l, h->sid, EINVAL, "not a host of this "
		    "server");
	if (strcmp(op, "list") == 0) {
		memset(&il, 0, sizeof(il));
		il.buf = xmalloc(CTL_LIST_CHUNK);
		il.now = clock_wall();
		rc = store_doc_walk(router.store, DOC_INVITE, dom,
		    invite_list_one, &il);
		rc = ctl_reply(l, h->sid, 0, rc == 0 ? 0 : EIO, il.buf,
		    il.len);
		free(il.buf);
		return rc;
	}
	if (strcmp(op, "create") != 0)
		return link_fail(l, "bad %s", link_msg_name(h->type));
	contact[0] = '\0';
	memset(&j, 0, sizeof(j));
	if (c != NULL) {
		memcpy(contact, c, clen);
		contact[clen] = '\0';
		if (jid_parse(&j, contact) == -1 || j.node == NULL ||
		    j.resource != NULL || strcmp(j.domain, dom) != 0) {
			if (j.domain != NULL)
				jid_clear(&j);
			return invite_reply(l, h->sid, EINVAL, "the contact "
			    "is not a bare JID of that host");
		}
		jid_format(contact, j.node, j.domain, NULL);
		if (store_account_get(router.store, j.node, j.domain,
		    &cr) == -1) {
			explicit_bzero(&cr, sizeof(cr));
			jid_clear(&j);
			return invite_reply(l, h->sid, ENOENT,
			    "no such account");
		}
		explicit_bzero(&cr, sizeof(cr));
		jid_clear(&j);
	}
	if (invite_create(dom, c != NULL ? contact : NULL,
	    c != NULL ? INVITE_CONTACT : INVITE_ACCOUNT, uses, lifetime, token,
	    &iv) == -1 ||
	    invite_uri(uri, sizeof(uri) - 1, dom, &iv, token) == -1)
		return invite_reply(l, h->sid, EIO, "not stored");
	explicit_bzero(token, sizeof(token));
	uri[strlen(uri)] = '\n';	/* invite_uri left room */
	rc = invite_reply(l, h->sid, 0, uri);
	explicit_bzero(uri, sizeof(uri));
	return rc;
}

/* ---- XEP-0401 ad-hoc commands ----------------------------------------- */

/*
 * XEP-0401 4: urn:xmpp:invite#invite, a contact invitation of the
 * sender that also lets the invitee register here (ibr=y) when the
 * sender's role may register-accounts, and
 * urn:xmpp:invite#create-account, an account invitation. The result form
 * has the URI and when it expires.
 */
static void
invite_adhoc(struct rstanza *rs, struct xnode *iq, struct arena *a,
    char kind, const char *node)
{
	struct invite	 iv;
	struct xnode	*c, *x;
	char		 token[INVITE_TOKEN_MAX + 1], uri[2 * JID_STR_MAX];
	char		 exp[32], bare[JID_STR_MAX + 1];
	struct tm	 tm;
	time_t		 t;
	const char	*dom = rs->sender->user->domain;

	snprintf(bare, sizeof(bare), "%s", rs->sender->user->bare);
	/* ibr=y (XEP-0401) only for whoever may invite new accounts */
	if (kind == INVITE_CONTACT && !role_may(rs->sender->user->node, dom,
	    ROLE_CAP_REGISTER))
		kind = INVITE_ROSTER;
	if (invite_create(dom, kind != INVITE_ACCOUNT ? bare : NULL, kind, 1,
	    INVITE_ADHOC_TTL, token, &iv) == -1 ||
	    invite_uri(uri, sizeof(uri), dom, &iv, token) == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	explicit_bzero(token, sizeof(token));
	/* XEP-0082 DateTime */
	t = (time_t)iv.expires;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		exp[0] = '\0';
	c = adhoc_reply(iq, a, node, NULL, "completed");
	x = xdata_new(a, c, "result", NULL);
	(void)xdata_add(a, x, "uri", "text-single", "Invitation URI", uri);
	(void)xdata_add(a, x, "expire", "text-single", "Expires", exp);
	deliver_tree(rs->sender, iq);
	explicit_bzero(uri, sizeof(uri));
}

void
invite_adhoc_contact(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	(void)sid;
	(void)x;
	invite_adhoc(rs, iq, a, INVITE_CONTACT, NS_INVITE "#invite");
}

void
invite_adhoc_account(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *sid, const struct xnode *x)
{
	(void)sid;
	(void)x;
	invite_adhoc(rs, iq, a, INVITE_ACCOUNT, NS_INVITE "#create-account");
}
