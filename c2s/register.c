/*
 * In-band registration (XEP-0077) before authentication: the stream
 * feature, the form, and account creation. The c2s checks the form, asks
 * the router whether the address may register and the name is free, then
 * derives the SCRAM credentials on a worker thread (the costly part, on
 * the tier that scales, never on the loop); the router checks again and
 * stores.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../common/credwire.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/work.h"
#include "../common/xml.h"
#include "c2s.h"

#define NS_REGISTER		"jabber:iq:register"
#define NS_REGISTER_FEATURE	"http://jabber.org/features/iq-register"
#define NS_INVITE		"urn:xmpp:invite"	/* XEP-0445 4 */
#define NS_PARS			"urn:xmpp:pars:0"
/* router/invite.c's INVITE_TOKEN_MAX */
#define PREAUTH_TOKEN_MAX	64
#define REG_ADDR_MAX		64	/* "ipv6/64" fits */

/* the host is ours, and TLS is on when required (RFC 6120 5.3.1) */
static const struct conf_host *
register_host(const struct stream *st)
{
	if (!st->tls_on && c2s.conf.c2s_require_tls)
		return NULL;
	return st->domain != NULL ? conf_host_find(&c2s.conf, st->domain) :
	    NULL;
}

/*
 * The host allows it, or the client gave an invitation's token (XEP-0445
 * 3: registration with it even where it is closed; the router judges
 * the token)
 */
static bool
register_allowed(const struct stream *st)
{
	const struct conf_host	*h = register_host(st);

	return h != NULL && (h->allow_register || st->preauth != NULL);
}

void
register_features(struct stream *st, struct buf *b)
{
	/* XEP-0445 4: registration with a token; XEP-0077 8 */
	if (register_host(st) != NULL)
		buf_puts(b, "<register xmlns='" NS_INVITE "'/>");
	if (register_allowed(st))
		buf_puts(b, "<register xmlns='" NS_REGISTER_FEATURE "'/>");
}

/* answers the IQ el in place; before login it has no to or from */
static void
register_reply(struct stream *st, struct xnode *iq, struct arena *a,
    int err, const char *text)
{
	xnode_set_attr(a, iq, "to", NULL);
	xnode_set_attr(a, iq, "from", NULL);
	if (err == -1) {
		xnode_set_attr(a, iq, "type", "result");
		iq->children = iq->last = NULL;
	} else {
		/* XEP-0077 3.3: never echo a password back */
		iq->children = iq->last = NULL;
		stanza_make_error(a, iq, (enum stanza_err)err, text);
		xnode_set_attr(a, iq, "to", NULL);
		xnode_set_attr(a, iq, "from", NULL);
	}
	stream_send_element(st, iq);
}

/* XEP-0077 3.1: the fields we need */
static void
register_form(struct stream *st, struct xnode *iq, struct arena *a)
{
	struct xnode	*q, *in;
	const char	*text = "Choose a username and password for an "
			    "account on this server.";

	xnode_set_attr(a, iq, "to", NULL);
	xnode_set_attr(a, iq, "from", NULL);
	xnode_set_attr(a, iq, "type", "result");
	iq->children = iq->last = NULL;
	q = xnode_add(a, iq, NS_REGISTER, "query");
	in = xnode_add(a, q, NS_REGISTER, "instructions");
	xnode_add_text(a, in, text, strlen(text));
	xnode_add(a, q, NS_REGISTER, "username");
	xnode_add(a, q, NS_REGISTER, "password");
	stream_send_element(st, iq);
}

/*
 * A registration between the router's admission and its end: the
 * password lives here (wiped on free) until a worker has derived the
 * credentials from it. Keyed by stream id, so a stream that went away
 * meanwhile is noticed when the answer comes.
 */
struct reg_req {
	uint64_t		 sid;
	char			 node[JID_PART_MAX + 1];
	char			*domain;
	char			 addr[REG_ADDR_MAX];
	char			*pass;
	char			*preauth;	/* XEP-0445, or NULL */
	uint32_t		 iter;
	struct scram_creds	 c;
	int			 rc;	/* scram_creds_make's */
};

static struct map	*reg_reqs;	/* sid -> struct reg_req */

static void
reg_req_free(void *p)
{
	struct reg_req	*r = p;

	if (r == NULL)
		return;
	explicit_bzero(r->pass, strlen(r->pass));
	free(r->pass);
	free(r->preauth);
	free(r->domain);
	explicit_bzero(&r->c, sizeof(r->c));
	free(r);
}

/* LINK_REG_ADD: str node, str domain, str address[, creds] */
static int
reg_send(struct reg_req *r, bool check)
{
	struct link_out	m;

	link_begin(&m, c2s.up, LINK_REG_ADD, r->sid);
	if (check)
		link_set_flags(&m, LINK_F_REG_CHECK);
	link_put_str(&m, r->node);
	link_put_str(&m, r->domain);
	link_put_str(&m, r->addr);
	link_put_str(&m, r->preauth);
	if (!check)
		cred_put(&m, &r->c);
	return link_end(&m);
}

/* LINK_REG_ADD asking about the stream's token alone */
static int
preauth_send(struct stream *st)
{
	struct link_out	m;

	link_begin(&m, c2s.up, LINK_REG_ADD, st->sid);
	link_set_flags(&m, LINK_F_REG_CHECK | LINK_F_REG_TOKEN);
	link_put_str(&m, "");
	link_put_str(&m, st->domain);
	link_put_str(&m, st->peer);
	link_put_str(&m, st->preauth);
	return link_end(&m);
}

/* the answer to a stream's registration, if it is still there */
static void
reg_finish(uint64_t sid, int err, const char *text)
{
	struct stream	*st;
	struct arena	 a;
	struct xnode	*iq;

	if ((st = stream_find(sid)) == NULL || st->reg_id == NULL) {
		log_debug("%016llx registration ended for a gone stream",
		    (unsigned long long)sid);
		return;
	}
	log_info("%016llx register result=%s", (unsigned long long)sid,
	    err == -1 ? "ok" : stanza_err_name((enum stanza_err)err));
	arena_init(&a);
	iq = xnode_new(&a, NS_CLIENT, "iq");
	xnode_set_attr(&a, iq, "type", "set");
	xnode_set_attr(&a, iq, "id", st->reg_id);
	register_reply(st, iq, &a, err, text);
	arena_free(&a);
	free(st->reg_id);
	st->reg_id = NULL;
}

/* on a worker: the costly part, PBKDF2 (RFC 5802 Hi) per hash */
static void
reg_derive(void *arg)
{
	struct reg_req	*r = arg;

	r->rc = scram_creds_make(&r->c, r->pass, r->iter);
}

/* back on the loop: the credentials go to the router to be stored */
static void
reg_derived(void *arg, bool cancelled)
{
	struct reg_req	*r = arg;
	struct stream	*st;

	if (cancelled || (st = stream_find(r->sid)) == NULL ||
	    st->reg_id == NULL)
		log_debug("%016llx credentials derived for a gone stream",
		    (unsigned long long)r->sid);
	else if (r->rc == -1)
		reg_finish(r->sid, XERR_NOT_ACCEPTABLE,
		    "the password has characters SASLprep prohibits");
	else if (!uplink_up() || reg_send(r, false) == -1)
		reg_finish(r->sid, XERR_RESOURCE_CONSTRAINT,
		    "the server is busy; try again");
	reg_req_free(r);
}

/*
 * XEP-0077 3.1: the router says first whether this address may register
 * now and the name is free; only then is a worker spent on the password
 * (scram-iterations up to a million costs about a second).
 */
static void
register_set(struct stream *st, struct xnode *iq, struct xnode *q,
    struct arena *a)
{
	struct reg_req		*r;
	struct xnode		*u, *p;
	char			*user, *pass;
	char			 node[JID_PART_MAX + 1];

	if (xnode_child(q, NS_REGISTER, "remove") != NULL) {
		/* XEP-0077 3.2: nothing to cancel before logging in */
		register_reply(st, iq, a, XERR_UNEXPECTED_REQUEST, NULL);
		return;
	}
	u = xnode_child(q, NS_REGISTER, "username");
	p = xnode_child(q, NS_REGISTER, "password");
	user = u != NULL ? xnode_text(a, u) : NULL;
	pass = p != NULL ? xnode_text(a, p) : NULL;
	/* XEP-0077 3.1: every field given, an empty password is none */
	if (user == NULL || pass == NULL || *user == '\0' || *pass == '\0') {
		register_reply(st, iq, a, XERR_NOT_ACCEPTABLE,
		    "a username and a password are required");
		goto done;
	}
	/* the username becomes the localpart of a JID (RFC 7622 3.3) */
	if (jid_nodeprep(user, node) == -1 || *node == '\0') {
		register_reply(st, iq, a, XERR_JID_MALFORMED,
		    "the username is not a valid JID localpart");
		goto done;
	}
	if (strlen(pass) > SCRAM_PASSWORD_MAX) {
		register_reply(st, iq, a, XERR_NOT_ACCEPTABLE,
		    "the password is too long");
		goto done;
	}
	if (!uplink_up()) {
		register_reply(st, iq, a, XERR_RESOURCE_CONSTRAINT,
		    UPLINK_AWAY_TEXT);
		goto done;
	}
	r = xcalloc(1, sizeof(*r));
	r->sid = st->sid;
	snprintf(r->node, sizeof(r->node), "%s", node);
	r->domain = xstrdup(st->domain);
	snprintf(r->addr, sizeof(r->addr), "%s", st->peer);
	r->pass = xstrdup(pass);
	if (st->preauth != NULL)
		r->preauth = xstrdup(st->preauth);
	r->iter = (uint32_t)c2s.conf.scram_iterations;
	log_info("%016llx register user=%s@%s addr=%s",
	    (unsigned long long)st->sid, log_esc(node, strlen(node)),
	    st->domain, r->addr);
	if (reg_send(r, true) == -1) {
		reg_req_free(r);
		register_reply(st, iq, a, XERR_RESOURCE_CONSTRAINT,
		    "the server is busy; try again");
		goto done;
	}
	if (reg_reqs == NULL)
		reg_reqs = map_new();
	reg_req_free(map_put64(reg_reqs, st->sid, r));
	st->reg_id = xstrdup(xnode_attr(iq, "id"));
done:
	/* the password does not outlive the request in our memory */
	xnode_wipe(p, pass);
}

/*
 * XEP-0445 3: <preauth xmlns='urn:xmpp:pars:0' token=.../> in an IQ set
 * before registering. The router says whether the token is valid now
 * (LINK_F_REG_TOKEN; an unknown, used or expired one is item-not-found)
 * and the stream keeps it for the registration, where the router checks
 * it again and spends a use: a single-use token is not used until an
 * account is made.
 */
static void
register_preauth(struct stream *st, struct xnode *iq, struct xnode *p,
    struct arena *a)
{
	const char	*t = xnode_attr(p, "token");
	size_t		 i, n = t != NULL ? strlen(t) : 0;

	for (i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' &&
		    t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		    t[i] == '-' || t[i] == '_'))
			break;
	if (n == 0 || n > PREAUTH_TOKEN_MAX || i < n) {
		register_reply(st, iq, a, XERR_ITEM_NOT_FOUND,
		    "not an invitation token");
		return;
	}
	free(st->preauth);
	st->preauth = xstrdup(t);
	if (!uplink_up() || preauth_send(st) == -1) {
		free(st->preauth);
		st->preauth = NULL;
		register_reply(st, iq, a, XERR_RESOURCE_CONSTRAINT,
		    "the server is busy; try again");
		return;
	}
	st->reg_id = xstrdup(xnode_attr(iq, "id"));
}

int
register_element(struct stream *st, struct xnode *el, struct arena *a)
{
	struct xnode	*q, *p = NULL;
	const char	*type;

	if (strcmp(el->ns, NS_CLIENT) != 0 || strcmp(el->name, "iq") != 0 ||
	    ((q = xnode_child(el, NS_REGISTER, "query")) == NULL &&
	    (p = xnode_child(el, NS_PARS, "preauth")) == NULL))
		return 1;
	/* with TLS required nothing but STARTTLS comes first */
	if (!st->tls_on && c2s.conf.c2s_require_tls)
		return 1;
	type = xnode_attr(el, "type");
	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0))
		return 1;
	if (xnode_attr(el, "id") == NULL) {
		register_reply(st, el, a, XERR_BAD_REQUEST,
		    "an iq needs an id");
		return 0;
	}
	if (xnode_only_child(el) == NULL) {
		/* RFC 6120 8.2.3: not the query beside something else */
		register_reply(st, el, a, XERR_BAD_REQUEST,
		    "an iq needs one payload element");
		return 0;
	}
	if (st->reg_id != NULL) {
		register_reply(st, el, a, XERR_UNEXPECTED_REQUEST,
		    "a registration is in progress");
		return 0;
	}
	if (p != NULL) {
		if (strcmp(type, "set") != 0 || register_host(st) == NULL)
			register_reply(st, el, a, XERR_SERVICE_UNAVAILABLE,
			    NULL);
		else
			register_preauth(st, el, p, a);
		return 0;
	}
	/* XEP-0077 3.1: a host without in-band registration */
	if (!register_allowed(st)) {
		register_reply(st, el, a, XERR_SERVICE_UNAVAILABLE, NULL);
		return 0;
	}
	if (strcmp(type, "get") == 0)
		register_form(st, el, a);
	else
		register_set(st, el, q, a);
	return 0;
}

/* the router's answer to either LINK_REG_ADD; st NULL when it is gone */
void
register_result(uint64_t sid, uint16_t flags, enum stanza_err cond)
{
	struct reg_req	*r = NULL;
	struct stream	*st;
	int		 err = cond == XERR_COUNT ? -1 : (int)cond;

	if (reg_reqs != NULL)
		r = map_del64(reg_reqs, sid);
	if ((flags & LINK_F_REG_CHECK) != 0 && err == -1 && r != NULL &&
	    stream_find(sid) != NULL) {
		if (work_submit(reg_derive, reg_derived, r) != NULL) {
			log_debug("%016llx register: deriving credentials",
			    (unsigned long long)sid);
			return;
		}
		log_warnx("%016llx register: the worker queue is full",
		    (unsigned long long)sid);
		err = XERR_RESOURCE_CONSTRAINT;
	}
	reg_req_free(r);
	/* XEP-0445 3: a token the router refused is not kept */
	if ((flags & LINK_F_REG_TOKEN) != 0 && err != -1 &&
	    (st = stream_find(sid)) != NULL) {
		free(st->preauth);
		st->preauth = NULL;
	}
	reg_finish(sid, err, err == XERR_RESOURCE_CONSTRAINT ?
	    "too many registrations; try again later" : NULL);
}

/* the router link is gone: no answer comes for what it was asked */
void
register_link_lost(void)
{
	map_free(reg_reqs, reg_req_free);
	reg_reqs = NULL;
}
