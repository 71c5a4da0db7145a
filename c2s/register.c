/*
 * In-band registration (XEP-0077) before authentication: the stream
 * feature, the form, and account creation. The c2s checks the form and
 * derives the SCRAM credentials (the costly part, on the tier that
 * scales); the router rate-limits per client address and stores.
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
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

#define NS_REGISTER		"jabber:iq:register"
#define NS_REGISTER_FEATURE	"http://jabber.org/features/iq-register"
#define REG_ADDR_MAX		64	/* "ipv6/64" fits */

/* the host allows it, and TLS is on when required (RFC 6120 5.3.1) */
static bool
register_allowed(const struct stream *st)
{
	const struct conf_host	*h;

	if (!st->tls_on && c2s.conf.c2s_require_tls)
		return false;
	h = st->domain != NULL ? conf_host_find(&c2s.conf, st->domain) : NULL;
	return h != NULL && h->allow_register;
}

void
register_features(struct stream *st, struct buf *b)
{
	/* XEP-0077 8 */
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

static void
register_set(struct stream *st, struct xnode *iq, struct xnode *q,
    struct arena *a)
{
	struct scram_creds	 c;
	struct link_out		 m;
	struct xnode		*u, *p, *t;
	char			*user, *pass;
	char			 node[JID_PART_MAX + 1];
	char			 addr[REG_ADDR_MAX];
	int			 rc;

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
		    "the server is restarting; try again");
		goto done;
	}
	/* SASLprep (RFC 4013) as a stored string: the same form as SCRAM */
	rc = scram_creds_make(&c, pass, c2s.conf.scram_iterations);
	if (rc == -1) {
		register_reply(st, iq, a, XERR_NOT_ACCEPTABLE,
		    "the password has characters SASLprep prohibits");
		goto done;
	}
	snprintf(addr, sizeof(addr), "%s", st->peer);
	log_info("%016llx register user=%s@%s addr=%s",
	    (unsigned long long)st->sid, log_esc(node, strlen(node)),
	    st->domain, addr);
	link_begin(&m, c2s.up, LINK_REG_ADD, st->sid);
	link_put_str(&m, node);
	link_put_str(&m, st->domain);
	link_put_str(&m, addr);
	cred_put(&m, &c);
	explicit_bzero(&c, sizeof(c));
	if (link_end(&m) == -1) {
		register_reply(st, iq, a, XERR_RESOURCE_CONSTRAINT,
		    "the server is busy; try again");
		goto done;
	}
	st->reg_id = xstrdup(xnode_attr(iq, "id"));
done:
	/* the password does not outlive the request in our memory */
	if (pass != NULL)
		explicit_bzero(pass, strlen(pass));
	for (t = p != NULL ? p->children : NULL; t != NULL; t = t->next)
		if (t->type == XNODE_TEXT)
			explicit_bzero(t->text, t->len);
}

int
register_element(struct stream *st, struct xnode *el, struct arena *a)
{
	struct xnode	*q;
	const char	*type;

	if (strcmp(el->ns, NS_CLIENT) != 0 || strcmp(el->name, "iq") != 0 ||
	    (q = xnode_child(el, NS_REGISTER, "query")) == NULL)
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
	/* XEP-0077 3.1: a host without in-band registration */
	if (!register_allowed(st)) {
		register_reply(st, el, a, XERR_SERVICE_UNAVAILABLE, NULL);
		return 0;
	}
	if (st->reg_id != NULL) {
		register_reply(st, el, a, XERR_UNEXPECTED_REQUEST,
		    "a registration is in progress");
		return 0;
	}
	if (strcmp(type, "get") == 0)
		register_form(st, el, a);
	else
		register_set(st, el, q, a);
	return 0;
}

void
register_result(struct stream *st, enum stanza_err cond)
{
	struct arena	 a;
	struct xnode	*iq;
	int		 err = cond == XERR_COUNT ? -1 : (int)cond;

	if (st->reg_id == NULL) {
		log_debug("%016llx registration result for no request",
		    (unsigned long long)st->sid);
		return;
	}
	log_info("%016llx register result=%s", (unsigned long long)st->sid,
	    err == -1 ? "ok" : stanza_err_name((enum stanza_err)err));
	arena_init(&a);
	iq = xnode_new(&a, NS_CLIENT, "iq");
	xnode_set_attr(&a, iq, "type", "set");
	xnode_set_attr(&a, iq, "id", st->reg_id);
	register_reply(st, iq, &a, err, err == XERR_RESOURCE_CONSTRAINT ?
	    "too many registrations; try again later" : NULL);
	arena_free(&a);
	free(st->reg_id);
	st->reg_id = NULL;
}
