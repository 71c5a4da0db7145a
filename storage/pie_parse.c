/*
 * The XEP-0227 reader: expat, streaming. The envelope (server-data, host,
 * user and the containers under a user) is followed by depth; each
 * element worth storing (a roster item, a vCard, a private document, an
 * offline message, a PEP item) is built as a tree of at most
 * PIE_ELEM_MAX bytes, checked, and handed to the caller as a record, so
 * memory stays bounded whatever the file's size. Archived messages
 * (XEP-0227 1.1's urn:xmpp:pie:0#mam, as Prosody writes it) are built
 * one <result/> at a time; Parley's own extension (urn:parley:pie:0)
 * adds documents of a user and group chat rooms with their archives.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "../common/arena.h"
#include "../common/base64.h"
#include "../common/buf.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/xeptime.h"
#include "../common/xml.h"
#include "pie.h"

#define PIE_SEP		'\x01'
#define NS_XINCLUDE	"http://www.w3.org/2001/XInclude"
#define NS_PIE_DELAY	"urn:xmpp:delay"
#define NS_PIE_XDATA	"jabber:x:data"
/* router/muc_config.c's room record */
#define NS_PIE_ROOM_REC	"urn:parley:muc:0"
/* a Parley stanza-id (router/mam_query.c): archive id and nonce, hex */
#define PIE_SID_LEN	32
#define PIE_FRAMES	8	/* envelope levels: root .. pubsub items */
#define PIE_CHUNK	(64 * 1024)

enum frame {
	F_ROOT, F_HOST, F_USER, F_ROSTER, F_PRIVATE, F_OFFLINE, F_PUBSUB,
	F_ITEMS, F_BLOCK, F_OWNER, F_MAM, F_SERVICE, F_ROOM, F_SKIP
};

struct pie_parser {
	XML_Parser	 p;
	pie_fn		*fn;
	void		*arg;
	int		 depth;		/* of the envelope */
	enum frame	 frames[PIE_FRAMES];
	const char	*ns;		/* NS_PIE or NS_PIE_OLD */
	char		 domain[JID_PART_MAX + 1];
	char		 node[JID_PART_MAX + 1];
	bool		 in_user;	/* a valid user is open */
	char		*items;		/* the open <items node/> */
	/* the element being built */
	struct arena	 a;
	struct xnode	*root, *cur;
	int		 cdepth;	/* 0: none */
	size_t		 bytes;
	unsigned long	 cline;		/* where it started */
	enum frame	 cparent;	/* the frame it is in */
	struct buf	 out;
	const char	*stamp;		/* for a missing <delay/> */
	char		 err[256];
	unsigned long	 errline;
	bool		 failed;
};

static int	pie_emit(struct pie_parser *, struct pie_rec *);

/* a fatal error: the file is not one we can read on */
static void __attribute__((format(printf, 2, 3)))
pie_fatal(struct pie_parser *pp, const char *fmt, ...)
{
	va_list	ap;

	if (pp->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(pp->err, sizeof(pp->err), fmt, ap);
	va_end(ap);
	pp->errline = (unsigned long)XML_GetCurrentLineNumber(pp->p);
	pp->failed = true;
	XML_StopParser(pp->p, XML_FALSE);
}

/* a problem in one element: said, and the parse goes on */
static void __attribute__((format(printf, 4, 5)))
pie_note(struct pie_parser *pp, enum pie_kind kind, unsigned long line,
    const char *fmt, ...)
{
	struct pie_rec	r;
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.line = line;
	r.xml = msg;
	r.len = strlen(msg);
	(void)pie_emit(pp, &r);
}

#define pie_error_at(pp, line, ...)	\
	pie_note(pp, PIE_ERROR, line, __VA_ARGS__)
#define pie_skip_at(pp, line, ...)	\
	pie_note(pp, PIE_SKIP, line, __VA_ARGS__)

static int
pie_emit(struct pie_parser *pp, struct pie_rec *r)
{
	if (pp->failed)
		return -1;
	if (pp->in_user) {
		r->node = pp->node;
		r->domain = pp->domain;
	}
	if (pp->fn(r, pp->arg) == -1) {
		pp->err[0] = '\0';
		pp->failed = true;
		XML_StopParser(pp->p, XML_FALSE);
		return -1;
	}
	return 0;
}

/* "uri<SEP>local" or "local" into the arena */
static const char *
pie_split(struct arena *a, const char *name, const char **ns)
{
	const char	*sep;

	if ((sep = strchr(name, PIE_SEP)) == NULL) {
		*ns = "";
		return name;
	}
	*ns = arena_strndup(a, name, (size_t)(sep - name));
	return sep + 1;
}

static bool
is(const char *ns, const char *name, const char *wns, const char *wname)
{
	return strcmp(ns, wns) == 0 && strcmp(name, wname) == 0;
}

/* an unqualified attribute of expat's list, or NULL */
static const char *
pie_attr(const XML_Char **atts, const char *name)
{
	size_t	i;

	for (i = 0; atts[i] != NULL; i += 2)
		if (strcmp(atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

/* ---- records from built elements -------------------------------------- */

/* the text of el, NULL when there is no el */
static const char *
pie_text_of(struct pie_parser *pp, const struct xnode *el)
{
	return el != NULL ? xnode_text(&pp->a, el) : NULL;
}

/* decodes base64 text (whitespace ignored) of min..max bytes into out */
static int
pie_b64_text(const char *t, size_t tlen, uint8_t *out, size_t min,
    size_t max, size_t *len)
{
	struct buf	 in, dec;
	size_t		 i;
	int		 rc = -1;

	buf_init(&in, 4 * SCRAM_SALT_MAX);
	buf_init(&dec, SCRAM_SALT_MAX);
	for (i = 0; i < tlen; i++)
		if (strchr(" \t\r\n", t[i]) == NULL &&
		    buf_append(&in, t + i, 1) == -1)
			goto done;
	if (buf_avail(&in) == 0 ||
	    base64_decode(&dec, buf_rptr(&in), buf_avail(&in)) == -1 ||
	    buf_avail(&dec) < min || buf_avail(&dec) > max)
		goto done;
	memcpy(out, buf_rptr(&dec), buf_avail(&dec));
	*len = buf_avail(&dec);
	rc = 0;
done:
	buf_clear(&in);
	buf_clear(&dec);
	return rc;
}

static int
pie_b64(struct pie_parser *pp, const struct xnode *el, const char *name,
    uint8_t *out, size_t min, size_t max, size_t *len)
{
	const struct xnode	*c;
	const char		*t;

	if ((c = xnode_child(el, NS_PIE_SCRAM, name)) == NULL)
		return -1;
	t = xnode_text(&pp->a, c);
	return pie_b64_text(t, strlen(t), out, min, max, len);
}

/*
 * A key of want bytes. ejabberd 23.01 writes base64 of the base64 text
 * it keeps (keys and salt): a key that decodes to the base64 of want
 * bytes is decoded once more, and *twice says so (the salt then is
 * too). Random key bytes are never base64 text of the right length.
 */
static int
pie_b64_key(struct pie_parser *pp, const struct xnode *el, const char *name,
    uint8_t *out, size_t want, bool *twice)
{
	uint8_t	tmp[SCRAM_SALT_MAX];
	size_t	n;

	if (pie_b64(pp, el, name, tmp, 1, sizeof(tmp), &n) == -1)
		return -1;
	if (n == want) {
		memcpy(out, tmp, n);
		return 0;
	}
	if (pie_b64_text((const char *)tmp, n, out, want, want, &n) == -1)
		return -1;
	*twice = true;
	return 0;
}

/*
 * ejabberd (auth_password_format scram) exports its SCRAM-SHA-1
 * credentials in the password attribute: "scram:" and base64 StoredKey,
 * ServerKey, salt, then the iterations, comma-separated. 0 with *r set,
 * -1 if s is not that (then it is a password like any other).
 */
static int
pie_ejabberd_scram(const char *s, struct pie_rec *r)
{
	const char	*f[4], *end;
	size_t		 n, i;
	unsigned long	 it;
	char		*ep;

	if (strncmp(s, "scram:", 6) != 0)
		return -1;
	f[0] = s + 6;
	for (i = 1; i < 4; i++)
		if ((f[i] = strchr(f[i - 1], ',')) == NULL)
			return -1;
		else
			f[i]++;
	memset(r, 0, sizeof(*r));
	r->kind = PIE_CRED;
	r->hash = SCRAM_SHA1;
	errno = 0;
	it = strtoul(f[3], &ep, 10);
	end = f[3] + strlen(f[3]);
	if (*f[3] < '0' || *f[3] > '9' || ep != end || errno != 0 ||
	    it < 1 || it > SCRAM_ITER_MAX)
		return -1;
	r->cred.iter = (uint32_t)it;
	if (pie_b64_text(f[0], (size_t)(f[1] - 1 - f[0]), r->cred.stored_key,
	    20, 20, &n) == -1 ||
	    pie_b64_text(f[1], (size_t)(f[2] - 1 - f[1]), r->cred.server_key,
	    20, 20, &n) == -1 ||
	    pie_b64_text(f[2], (size_t)(f[3] - 1 - f[2]), r->cred.salt, 1,
	    SCRAM_SALT_MAX, &n) == -1)
		return -1;
	r->cred.saltlen = (uint8_t)n;
	return 0;
}

/* XEP-0227 (1.1) 4.2: <scram-credentials mechanism='SCRAM-SHA-1'/> */
static void
pie_cred(struct pie_parser *pp, const struct xnode *el)
{
	struct pie_rec	 r;
	const char	*mech = xnode_attr(el, "mechanism"), *t;
	uint8_t		 salt[SCRAM_SALT_MAX];
	size_t		 hlen, n;
	char		*end;
	unsigned long	 it;
	bool		 twice = false;

	memset(&r, 0, sizeof(r));
	r.kind = PIE_CRED;
	r.line = pp->cline;
	if (mech != NULL && strcmp(mech, "SCRAM-SHA-1") == 0)
		r.hash = SCRAM_SHA1;
	else if (mech != NULL && strcmp(mech, "SCRAM-SHA-256") == 0)
		r.hash = SCRAM_SHA256;
	else {
		pie_skip_at(pp, pp->cline, "scram-credentials for %s: not a "
		    "mechanism Parley has (SCRAM-SHA-1, SCRAM-SHA-256)",
		    mech != NULL ? mech : "no mechanism");
		return;
	}
	hlen = scram_hash_len(r.hash);
	t = pie_text_of(pp, xnode_child(el, NS_PIE_SCRAM, "iter-count"));
	errno = 0;
	it = t != NULL ? strtoul(t, &end, 10) : 0;
	if (t == NULL || *t < '0' || *t > '9' || *end != '\0' || errno != 0 ||
	    it < 1 || it > SCRAM_ITER_MAX) {
		pie_error_at(pp, pp->cline, "%s: iter-count is not a number "
		    "from 1 to %d", mech, SCRAM_ITER_MAX);
		return;
	}
	r.cred.iter = (uint32_t)it;
	if (pie_b64_key(pp, el, "stored-key", r.cred.stored_key, hlen,
	    &twice) == -1 || pie_b64_key(pp, el, "server-key",
	    r.cred.server_key, hlen, &twice) == -1) {
		pie_error_at(pp, pp->cline, "%s: stored-key and server-key "
		    "must be base64 of %zu bytes", mech, hlen);
		return;
	}
	if (pie_b64(pp, el, "salt", salt, 1, sizeof(salt), &n) == -1 ||
	    (twice && pie_b64_text((const char *)salt, n, salt, 1,
	    sizeof(salt), &n) == -1)) {
		pie_error_at(pp, pp->cline, "%s: salt is not base64 of 1 to "
		    "%d bytes", mech, SCRAM_SALT_MAX);
		return;
	}
	memcpy(r.cred.salt, salt, n);
	r.cred.saltlen = (uint8_t)n;
	(void)pie_emit(pp, &r);
	explicit_bzero(&r.cred, sizeof(r.cred));
}

/* prepares a JID attribute; bare: no resource allowed. NULL if bad */
static char *
pie_jid(struct pie_parser *pp, const char *s, bool bare)
{
	struct jid	 j;
	char		*out;

	if (s == NULL || jid_parse(&j, s) == -1)
		return NULL;
	if (bare && j.resource != NULL) {
		jid_clear(&j);
		return NULL;
	}
	out = jid_full(&j);
	jid_clear(&j);
	s = arena_strdup(&pp->a, out);
	free(out);
	return (char *)s;
}

/* RFC 6121 2.1.2: jid, name, subscription, ask, approved, groups */
static void
pie_roster(struct pie_parser *pp, const struct xnode *el)
{
	static const char *const subs[] = { "none", "to", "from", "both" };
	struct roster_item	 it;
	struct pie_rec		 r;
	const struct xnode	*g;
	const char		*s, *jid = xnode_attr(el, "jid");
	size_t			 i;

	memset(&it, 0, sizeof(it));
	if ((it.jid = pie_jid(pp, jid, true)) == NULL) {
		pie_error_at(pp, pp->cline, "roster item: \"%s\" is not a "
		    "bare JID", jid != NULL ? log_escs(jid) : "(no jid)");
		return;
	}
	if ((s = xnode_attr(el, "name")) != NULL && *s != '\0')
		it.name = (char *)s;
	if ((s = xnode_attr(el, "subscription")) == NULL)
		s = "none";
	for (i = 0; i < nitems(subs); i++)
		if (strcmp(s, subs[i]) == 0)
			break;
	if (i == nitems(subs)) {
		pie_error_at(pp, pp->cline, "roster item %s: subscription "
		    "\"%s\" is not none, to, from or both", it.jid,
		    log_escs(s));
		return;
	}
	it.sub = (enum roster_sub)i;
	if ((s = xnode_attr(el, "ask")) != NULL) {
		if (strcmp(s, "subscribe") != 0) {
			pie_error_at(pp, pp->cline, "roster item %s: ask "
			    "\"%s\" is not subscribe", it.jid, log_escs(s));
			return;
		}
		it.ask = true;
	}
	s = xnode_attr(el, "approved");
	it.preapproved = s != NULL && (strcmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0);
	for (g = xnode_child(el, NULL, "group"); g != NULL;
	    g = xnode_next(g, NULL, "group")) {
		s = xnode_text(&pp->a, g);
		if (*s == '\0')
			continue;
		if (it.ngroups == ROSTER_GROUPS_MAX) {
			pie_error_at(pp, pp->cline, "roster item %s: more "
			    "than %d groups", it.jid, ROSTER_GROUPS_MAX);
			return;
		}
		it.groups[it.ngroups++] = (char *)s;
	}
	memset(&r, 0, sizeof(r));
	r.kind = PIE_ROSTER;
	r.line = pp->cline;
	r.item = &it;
	(void)pie_emit(pp, &r);
}

/* the element's bytes with no namespace in scope (router/vcard.c's) */
static int
pie_write(struct pie_parser *pp, const struct xnode *el, const char *pns,
    struct pie_rec *r)
{
	buf_reset(&pp->out);
	if (xnode_write(&pp->out, el, pns) == -1 ||
	    buf_avail(&pp->out) > PIE_ELEM_MAX) {
		pie_error_at(pp, pp->cline, "<%s/> larger than %u bytes",
		    log_escs(el->name), PIE_ELEM_MAX);
		return -1;
	}
	/* the cap left room for the NUL (pie_parser_new) */
	if ((r->xml = buf_cstr(&pp->out)) == NULL)
		fatalx("%s: buffer", __func__);
	r->len = buf_avail(&pp->out);
	return 0;
}

/*
 * A message written without its own xmlns inherits the file's (or
 * none): it is a jabber:client stanza all the same, children too.
 */
static void
pie_to_client(struct xnode *el, const char *from)
{
	struct xnode	*c;

	if (strcmp(el->ns, from) != 0)
		return;
	el->ns = NS_CLIENT;
	for (c = el->children; c != NULL; c = c->next)
		if (c->type == XNODE_ELEM)
			pie_to_client(c, from);
}

static void
pie_offline(struct pie_parser *pp, struct xnode *el)
{
	struct pie_rec	 r;
	struct xnode	*d;

	if (strcmp(el->name, "message") != 0 || (strcmp(el->ns, NS_CLIENT) !=
	    0 && strcmp(el->ns, pp->ns) != 0 && *el->ns != '\0')) {
		pie_skip_at(pp, pp->cline, "offline-messages: <%s xmlns='%s'/> "
		    "is not a message", log_escs(el->name), log_escs(el->ns));
		return;
	}
	if (strcmp(el->ns, NS_CLIENT) != 0)
		pie_to_client(el, el->ns);
	/* XEP-0160 / XEP-0203: stored, so delayed; since the import */
	if (pp->stamp != NULL && xnode_child(el, NS_PIE_DELAY, "delay") ==
	    NULL) {
		d = xnode_add(&pp->a, el, NS_PIE_DELAY, "delay");
		xnode_set_attr(&pp->a, d, "from", pp->domain);
		xnode_set_attr(&pp->a, d, "stamp", pp->stamp);
	}
	memset(&r, 0, sizeof(r));
	r.kind = PIE_OFFLINE;
	r.line = pp->cline;
	if (pie_write(pp, el, NS_CLIENT, &r) == 0)
		(void)pie_emit(pp, &r);
}

/* <item id='...'>payload</item> of <items node='...'/> */
static void
pie_pep_item(struct pie_parser *pp, const struct xnode *el)
{
	struct pie_rec		 r;
	const struct xnode	*pl;

	memset(&r, 0, sizeof(r));
	r.kind = PIE_PEP_ITEM;
	r.line = pp->cline;
	r.key = pp->items;
	r.id = xnode_attr(el, "id");
	if (!is(el->ns, el->name, NS_PIE_PUBSUB, "item") || r.id == NULL ||
	    *r.id == '\0') {
		pie_error_at(pp, pp->cline, "PEP node %s: an <item/> with an "
		    "id is expected", log_escs(pp->items));
		return;
	}
	pl = xnode_child(el, NULL, NULL);
	if (pl != NULL && xnode_next(pl, NULL, NULL) != NULL) {
		pie_error_at(pp, pp->cline, "PEP node %s item %s: more than "
		    "one payload", log_escs(pp->items), log_escs(r.id));
		return;
	}
	if (pl == NULL)
		r.xml = "";
	else if (pie_write(pp, pl, "", &r) == -1)
		return;
	(void)pie_emit(pp, &r);
}

/* a data form's single value of var, or NULL */
static const char *
pie_form_value(struct pie_parser *pp, const struct xnode *x,
    const char *var)
{
	const struct xnode	*f;
	const char		*v;

	for (f = xnode_child(x, NS_PIE_XDATA, "field"); f != NULL;
	    f = xnode_next(f, NS_PIE_XDATA, "field"))
		if ((v = xnode_attr(f, "var")) != NULL && strcmp(v, var) == 0)
			return pie_text_of(pp, xnode_child(f, NS_PIE_XDATA,
			    "value"));
	return NULL;
}

/*
 * Another server's configuration of a PEP node (Prosody writes
 * <pubsub xmlns='...#owner'><configure node><x type='submit'/>): who
 * may read it and how many items it keeps, all Parley takes from it.
 */
static void
pie_pep_form(struct pie_parser *pp, const struct xnode *el)
{
	struct pie_rec		 r;
	const struct xnode	*x;

	memset(&r, 0, sizeof(r));
	r.line = pp->cline;
	r.key = xnode_attr(el, "node");
	if (strcmp(el->name, "configure") != 0 || r.key == NULL ||
	    *r.key == '\0') {
		pie_skip_at(pp, pp->cline, "pubsub#owner: <%s/> is not a "
		    "node's configuration", log_escs(el->name));
		return;
	}
	x = xnode_child(el, NS_PIE_XDATA, "x");
	r.kind = PIE_PEP_FORM;
	r.access = pie_form_value(pp, x, "pubsub#access_model");
	r.max_items = pie_form_value(pp, x, "pubsub#max_items");
	(void)pie_emit(pp, &r);
}

/* an element directly under <user/> */
/* the documents <doc kind/> may carry: name, which, a room's or a user's */
static const struct {
	const char	*name;
	enum store_doc	 doc;
} pie_docs[] = {
	{ "last", DOC_LAST },
	{ "mam-prefs", DOC_MAM_PREFS },
	{ "push", DOC_PUSH },
};

int
pie_doc_kind(const char *name, enum store_doc *doc)
{
	size_t	i;

	for (i = 0; name != NULL && i < nitems(pie_docs); i++)
		if (strcmp(pie_docs[i].name, name) == 0) {
			*doc = pie_docs[i].doc;
			return 0;
		}
	return -1;
}

const char *
pie_doc_name(enum store_doc doc)
{
	size_t	i;

	for (i = 0; i < nitems(pie_docs); i++)
		if (pie_docs[i].doc == doc)
			return pie_docs[i].name;
	return NULL;
}

/*
 * <doc xmlns='urn:parley:pie:0' kind='K'>base64</doc>: a stored record
 * as it is (its format is the router's: last activity, archive
 * preferences, push registrations; text, no NUL), which the router
 * reads as any record it stored, refusing what it cannot. FAST token
 * records are not carried (docs/operator.md, "Migration").
 */
static void
pie_doc(struct pie_parser *pp, const struct xnode *el)
{
	struct pie_rec	 r;
	const char	*kind = xnode_attr(el, "kind"), *t;

	memset(&r, 0, sizeof(r));
	r.line = pp->cline;
	r.kind = PIE_DOC;
	r.key = "";
	if (pie_doc_kind(kind, &r.doc) == -1) {
		pie_error_at(pp, pp->cline, "a <doc/> of kind \"%s\": not one "
		    "Parley imports", kind != NULL ? log_escs(kind) : "");
		return;
	}
	t = xnode_text(&pp->a, el);
	buf_reset(&pp->out);
	if (base64_decode(&pp->out, t, strlen(t)) == -1 ||
	    buf_avail(&pp->out) == 0 ||
	    memchr(buf_rptr(&pp->out), '\0', buf_avail(&pp->out)) != NULL) {
		pie_error_at(pp, pp->cline, "a <doc/> of kind %s: not base64 "
		    "of text", kind);
		return;
	}
	/* the cap left room for the NUL (pie_parser_new) */
	if ((r.xml = buf_cstr(&pp->out)) == NULL)
		fatalx("%s: buffer", __func__);
	r.len = buf_avail(&pp->out);
	(void)pie_emit(pp, &r);
}

/*
 * A JID's bare form, prepared; NULL if it is none. The first '/' of a
 * prepared JID starts its resource: nodeprep and nameprep leave none.
 */
static const char *
pie_bare(struct pie_parser *pp, const char *s)
{
	char	*j = pie_jid(pp, s, false), *slash;

	if (j != NULL && (slash = strchr(j, '/')) != NULL)
		*slash = '\0';
	return j;
}

/*
 * <result xmlns='urn:xmpp:mam:2' id='...'><forwarded xmlns=
 * 'urn:xmpp:forward:0'><delay stamp='...'/><message/></forwarded>
 * </result>, an archived message (XEP-0227 1.1, XEP-0313). with, the
 * other party, is Parley's parley:with attribute when there is one (in
 * a room's archive, an occupant's full JID), else the bare JID of
 * whichever of to and from is not the owner, as Prosody reads it.
 */
static void
pie_mam(struct pie_parser *pp, struct xnode *el)
{
	struct pie_rec	 r;
	struct xnode	*fw, *msg, *d;
	const char	*owner, *to, *from;

	memset(&r, 0, sizeof(r));
	r.line = pp->cline;
	r.kind = PIE_MAM;
	fw = xnode_child(el, NS_PIE_FORWARD, "forwarded");
	d = fw != NULL ? xnode_child(fw, NS_PIE_DELAY, "delay") : NULL;
	for (msg = fw != NULL ? fw->children : NULL; msg != NULL;
	    msg = msg->next)
		if (msg->type == XNODE_ELEM && strcmp(msg->name,
		    "message") == 0)
			break;
	if (!is(el->ns, el->name, NS_PIE_MAM2, "result") ||
	    (r.id = xnode_attr(el, "id")) == NULL || *r.id == '\0' ||
	    msg == NULL || (strcmp(msg->ns, NS_CLIENT) != 0 &&
	    strcmp(msg->ns, pp->ns) != 0 && *msg->ns != '\0') ||
	    d == NULL || xeptime_parse(xnode_attr(d, "stamp"),
	    &r.stamp) == -1) {
		pie_error_at(pp, pp->cline, "archive: a <result xmlns='%s' "
		    "id='...'/> forwarding a message with its <delay "
		    "stamp='...'/> is expected", NS_PIE_MAM2);
		return;
	}
	if (strcmp(msg->ns, NS_CLIENT) != 0)
		pie_to_client(msg, msg->ns);
	owner = arena_printf(&pp->a, "%s@%s", pp->node, pp->domain);
	to = pie_bare(pp, xnode_attr(msg, "to"));
	from = pie_bare(pp, xnode_attr(msg, "from"));
	/* as the archive kept it: a room's is an occupant's full JID */
	r.jid = pie_jid(pp, xnode_attr_ns(el, NS_PIE_PARLEY, "with"), false);
	if (r.jid == NULL)
		r.jid = to != NULL && strcmp(to, owner) == 0 ? from : to;
	if (r.jid == NULL) {
		pie_error_at(pp, pp->cline, "archive: a message without a "
		    "valid to or from");
		return;
	}
	/* with its xmlns: router/mam.c stores it so */
	if (pie_write(pp, msg, "", &r) == 0)
		(void)pie_emit(pp, &r);
}

/* a room's record (router/muc_config.c's, whole): it names the room */
static void
pie_room_child(struct pie_parser *pp, const struct xnode *el)
{
	struct pie_rec	 r;
	const char	*node = xnode_attr(el, "node");

	if (!is(el->ns, el->name, NS_PIE_ROOM_REC, "room")) {
		pie_skip_at(pp, pp->cline, "room: <%s xmlns='%s'/>: not "
		    "something Parley imports", log_escs(el->name),
		    log_escs(el->ns));
		return;
	}
	if (node == NULL || strcmp(node, pp->node) != 0) {
		pie_error_at(pp, pp->cline, "room %s: its record names "
		    "another room", pp->node);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.line = pp->cline;
	r.kind = PIE_DOC;
	r.doc = DOC_MUC;
	r.key = "";
	if (pie_write(pp, el, "", &r) == 0)
		(void)pie_emit(pp, &r);
}

static void
pie_user_child(struct pie_parser *pp, struct xnode *el)
{
	struct pie_rec	 r;
	const char	*s;

	memset(&r, 0, sizeof(r));
	r.line = pp->cline;
	if (is(el->ns, el->name, NS_PIE_SCRAM, "scram-credentials")) {
		pie_cred(pp, el);
		return;
	}
	if (is(el->ns, el->name, NS_PIE_VCARD, "vCard")) {
		r.kind = PIE_VCARD;
		if (pie_write(pp, el, "", &r) == 0)
			(void)pie_emit(pp, &r);
		return;
	}
	if (strcmp(el->name, "presence") == 0 && (strcmp(el->ns,
	    NS_CLIENT) == 0 || strcmp(el->ns, pp->ns) == 0) &&
	    (s = xnode_attr(el, "type")) != NULL &&
	    strcmp(s, "subscribe") == 0) {
		/* XEP-0227 4.8: a subscription request left unanswered */
		s = xnode_attr(el, "from");
		if ((r.jid = pie_jid(pp, s, false)) == NULL) {
			pie_error_at(pp, pp->cline, "subscription request "
			    "from \"%s\": not a JID", s != NULL ?
			    log_escs(s) : "");
			return;
		}
		r.kind = PIE_SUBREQ;
		r.xml = pie_text_of(pp, xnode_child(el, el->ns, "status"));
		if (r.xml == NULL)
			r.xml = "";
		r.len = strlen(r.xml);
		(void)pie_emit(pp, &r);
		return;
	}
	if (is(el->ns, el->name, NS_PIE_PARLEY, "account")) {
		r.kind = PIE_ACCOUNT;
		r.role = ROLE_MEMBER;
		if ((s = xnode_attr(el, "role")) != NULL &&
		    role_parse(s, &r.role) == -1) {
			pie_error_at(pp, pp->cline, "role \"%s\" is not "
			    "admin, member or limited", log_escs(s));
			return;
		}
		s = xnode_attr(el, "disabled");
		r.disabled = s != NULL && strcmp(s, "true") == 0;
		(void)pie_emit(pp, &r);
		return;
	}
	if (is(el->ns, el->name, NS_PIE_PARLEY, "doc")) {
		pie_doc(pp, el);
		return;
	}
	if (is(el->ns, el->name, NS_PIE_PARLEY, "node")) {
		r.kind = PIE_PEP_CONF;
		r.key = xnode_attr(el, "name");
		if (r.key == NULL || *r.key == '\0') {
			pie_error_at(pp, pp->cline, "a PEP node's "
			    "configuration without a name");
			return;
		}
		r.xml = xnode_text(&pp->a, el);
		r.len = strlen(r.xml);
		(void)pie_emit(pp, &r);
		return;
	}
	pie_skip_at(pp, pp->cline, "<%s xmlns='%s'/>: not something Parley "
	    "imports", log_escs(el->name), log_escs(el->ns));
}

/* the element built under a container is complete */
static void
pie_built(struct pie_parser *pp)
{
	struct xnode	*el = pp->root;
	struct pie_rec	 r;
	const char	*s;

	memset(&r, 0, sizeof(r));
	r.line = pp->cline;
	switch (pp->cparent) {
	case F_USER:
		pie_user_child(pp, el);
		break;
	case F_ROSTER:
		if (is(el->ns, el->name, NS_PIE_ROSTER, "item"))
			pie_roster(pp, el);
		else
			pie_skip_at(pp, pp->cline, "roster: <%s/> is not an "
			    "item", log_escs(el->name));
		break;
	case F_PRIVATE:
		/* XEP-0049: one document per namespace and name */
		r.kind = PIE_PRIVATE;
		r.key = arena_printf(&pp->a, "{%s}%s", el->ns, el->name);
		if (*el->ns == '\0')
			pie_error_at(pp, pp->cline, "private XML <%s/> has no "
			    "namespace", log_escs(el->name));
		else if (pie_write(pp, el, "", &r) == 0)
			(void)pie_emit(pp, &r);
		break;
	case F_OFFLINE:
		pie_offline(pp, el);
		break;
	case F_BLOCK:
		s = xnode_attr(el, "jid");
		if (!is(el->ns, el->name, NS_PIE_BLOCK, "item") ||
		    (r.jid = pie_jid(pp, s, false)) == NULL) {
			pie_error_at(pp, pp->cline, "blocklist: an <item/> "
			    "with a valid jid is expected");
			break;
		}
		r.kind = PIE_BLOCK;
		(void)pie_emit(pp, &r);
		break;
	case F_ITEMS:
		pie_pep_item(pp, el);
		break;
	case F_OWNER:
		pie_pep_form(pp, el);
		break;
	case F_MAM:
		pie_mam(pp, el);
		break;
	case F_ROOM:
		pie_room_child(pp, el);
		break;
	default:
		fatalx("%s: element under frame %d", __func__, pp->cparent);
	}
}

/* ---- the envelope ------------------------------------------------------ */

/*
 * The name attribute of a <user/> (prepared here) or of Parley's <room/>
 * (prepared already: the record inside names it so) as pp->node, and
 * the record kind that opens it; -1 said why.
 */
static int
pie_named(struct pie_parser *pp, const XML_Char **atts, enum pie_kind kind,
    struct pie_rec *r)
{
	const char	*name = pie_attr(atts, "name");

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->line = (unsigned long)XML_GetCurrentLineNumber(pp->p);
	if (name == NULL || jid_nodeprep(name, pp->node) == -1 ||
	    (kind == PIE_ROOM && strcmp(name, pp->node) != 0)) {
		pie_error_at(pp, r->line, "%s \"%s\": not a %s node (RFC 7622 "
		    "nodeprep)", kind == PIE_ROOM ? "room" : "user",
		    name != NULL ? log_escs(name) : "(no name)",
		    kind == PIE_ROOM ? "prepared" : "valid");
		return -1;
	}
	pp->in_user = true;
	return 0;
}

static enum frame
pie_user_open(struct pie_parser *pp, const XML_Char **atts)
{
	struct pie_rec	 r, cr;
	unsigned long	 line;

	if (pie_named(pp, atts, PIE_USER, &r) == -1)
		return F_SKIP;
	line = r.line;
	r.password = pie_attr(atts, "password");
	if (r.password != NULL && *r.password == '\0')
		r.password = NULL;
	if (r.password != NULL && pie_ejabberd_scram(r.password, &cr) == 0) {
		r.password = NULL;
		cr.line = line;
		if (pie_emit(pp, &r) == 0)
			(void)pie_emit(pp, &cr);
		explicit_bzero(&cr.cred, sizeof(cr.cred));
		return F_USER;
	}
	(void)pie_emit(pp, &r);
	return F_USER;
}

/* Parley's <room name='...'/> of a <service jid='...'/> */
static enum frame
pie_room_open(struct pie_parser *pp, const XML_Char **atts)
{
	struct pie_rec	 r;

	if (pie_named(pp, atts, PIE_ROOM, &r) == -1)
		return F_SKIP;
	(void)pie_emit(pp, &r);
	return F_ROOM;
}

/* which frame an envelope element opens; F_SKIP for what is not ours */
static enum frame
pie_frame(struct pie_parser *pp, enum frame parent, const char *ns,
    const char *name, const XML_Char **atts)
{
	const char	*s;
	unsigned long	 line;

	line = (unsigned long)XML_GetCurrentLineNumber(pp->p);
	switch (parent) {
	case F_ROOT:
		if (is(ns, name, NS_XINCLUDE, "include")) {
			s = pie_attr(atts, "href");
			pie_skip_at(pp, line, "XInclude of %s: import that "
			    "file itself", s != NULL ? log_escs(s) :
			    "(no href)");
			return F_SKIP;
		}
		if (is(ns, name, NS_PIE_PARLEY, "service")) {
			s = pie_attr(atts, "jid");
			if (s == NULL || jid_nameprep(s, pp->domain) == -1) {
				pie_error_at(pp, line, "service \"%s\": not a "
				    "valid domain", s != NULL ? log_escs(s) :
				    "(no jid)");
				return F_SKIP;
			}
			return F_SERVICE;
		}
		if (!is(ns, name, pp->ns, "host"))
			break;
		s = pie_attr(atts, "jid");
		if (s == NULL || jid_nameprep(s, pp->domain) == -1) {
			pie_error_at(pp, line, "host \"%s\": not a valid "
			    "domain", s != NULL ? log_escs(s) : "(no jid)");
			return F_SKIP;
		}
		return F_HOST;
	case F_HOST:
		if (!is(ns, name, pp->ns, "user"))
			break;
		return pie_user_open(pp, atts);
	case F_USER:
		if (is(ns, name, NS_PIE_ROSTER, "query"))
			return F_ROSTER;
		if (is(ns, name, NS_PIE_PRIVATE, "query"))
			return F_PRIVATE;
		if (is(ns, name, pp->ns, "offline-messages"))
			return F_OFFLINE;
		if (is(ns, name, NS_PIE_PUBSUB, "pubsub"))
			return F_PUBSUB;
		if (is(ns, name, NS_PIE_PUBSUB "#owner", "pubsub"))
			return F_OWNER;
		if (is(ns, name, NS_PIE_BLOCK, "blocklist"))
			return F_BLOCK;
		if (is(ns, name, NS_PIE_MAM, "archive"))
			return F_MAM;
		return F_USER;		/* built */
	case F_SERVICE:
		if (!is(ns, name, NS_PIE_PARLEY, "room"))
			break;
		return pie_room_open(pp, atts);
	case F_ROOM:
		if (is(ns, name, NS_PIE_MAM, "archive"))
			return F_MAM;
		return F_ROOM;		/* built */
	case F_PUBSUB:
		if (!is(ns, name, NS_PIE_PUBSUB, "items"))
			break;
		if ((s = pie_attr(atts, "node")) == NULL || *s == '\0') {
			pie_error_at(pp, line, "PEP <items/> without a node");
			return F_SKIP;
		}
		free(pp->items);
		pp->items = xstrdup(s);
		return F_ITEMS;
	case F_SKIP:
		return F_SKIP;
	default:
		return parent;		/* built under it */
	}
	pie_skip_at(pp, line, "<%s xmlns='%s'/>: not part of XEP-0227 here",
	    log_escs(name), log_escs(ns));
	return F_SKIP;
}

static void
pie_charge(struct pie_parser *pp, size_t n)
{
	pp->bytes += n;
	if (pp->bytes > PIE_ELEM_MAX)
		pie_fatal(pp, "an element larger than %u bytes",
		    PIE_ELEM_MAX);
}

static void
pie_build(struct pie_parser *pp, const XML_Char *name, const XML_Char **atts)
{
	struct xnode	*n;
	const char	*ns, *local, *ans, *alocal;
	size_t		 i;

	if (pp->cdepth - 1 >= PIE_DEPTH_MAX) {
		pie_fatal(pp, "elements nested deeper than %d",
		    PIE_DEPTH_MAX);
		return;
	}
	local = pie_split(&pp->a, name, &ns);
	pie_charge(pp, strlen(name) + 16);
	n = pp->cur == NULL ? xnode_new(&pp->a, ns, local) :
	    xnode_add(&pp->a, pp->cur, ns, local);
	for (i = 0; atts[i] != NULL; i += 2) {
		pie_charge(pp, strlen(atts[i]) + strlen(atts[i + 1]) + 8);
		alocal = pie_split(&pp->a, atts[i], &ans);
		if (*ans == '\0')
			xnode_set_attr(&pp->a, n, alocal, atts[i + 1]);
		else
			xnode_set_attr_ns(&pp->a, n, ans, alocal,
			    atts[i + 1]);
	}
	if (pp->cur == NULL)
		pp->root = n;
	pp->cur = n;
}

static void
pie_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct pie_parser	*pp = ud;
	struct arena		 tmp;
	const char		*ns, *local;
	enum frame		 f;

	if (pp->failed)
		return;
	if (pp->cdepth > 0) {
		pp->cdepth++;
		pie_build(pp, name, atts);
		return;
	}
	arena_init(&tmp);
	local = pie_split(&tmp, name, &ns);
	if (pp->depth == 0) {
		/* ejabberd writes a file per host, <host/> its root */
		if (strcmp(ns, NS_PIE) == 0 || strcmp(ns, NS_PIE_OLD) == 0)
			pp->ns = strcmp(ns, NS_PIE) == 0 ? NS_PIE : NS_PIE_OLD;
		if (pp->ns != NULL && strcmp(local, "server-data") == 0)
			f = F_ROOT;
		else if (pp->ns != NULL && strcmp(local, "host") == 0)
			f = pie_frame(pp, F_ROOT, ns, local, atts);
		else {
			pie_fatal(pp, "not a XEP-0227 file: the root is <%s "
			    "xmlns='%s'/>, not <server-data xmlns='%s'/>",
			    log_escs(local), log_escs(ns), NS_PIE);
			f = F_SKIP;
		}
		pp->frames[pp->depth++] = f;
		arena_free(&tmp);
		return;
	}
	f = pie_frame(pp, pp->frames[pp->depth - 1], ns, local, atts);
	arena_free(&tmp);
	if (f == pp->frames[pp->depth - 1] && f != F_SKIP) {
		/* an element to build whole, under this container */
		pp->cparent = f;
		pp->cdepth = 1;
		pp->bytes = 0;
		pp->cline = (unsigned long)XML_GetCurrentLineNumber(pp->p);
		arena_reset(&pp->a);
		pie_build(pp, name, atts);
		return;
	}
	if (pp->depth == PIE_FRAMES) {
		pie_fatal(pp, "the envelope is nested too deep");
		return;
	}
	pp->frames[pp->depth++] = f;
}

static void
pie_end(void *ud, const XML_Char *name)
{
	struct pie_parser	*pp = ud;
	struct pie_rec		 r;

	(void)name;
	if (pp->failed)
		return;
	if (pp->cdepth > 0) {
		pp->cur = pp->cur->parent;
		if (--pp->cdepth > 0)
			return;
		pie_built(pp);
		pp->root = pp->cur = NULL;
		arena_reset(&pp->a);
		return;
	}
	switch (pp->frames[--pp->depth]) {
	case F_USER:
	case F_ROOM:
		memset(&r, 0, sizeof(r));
		r.kind = pp->frames[pp->depth] == F_USER ? PIE_USER_END :
		    PIE_ROOM_END;
		r.line = (unsigned long)XML_GetCurrentLineNumber(pp->p);
		(void)pie_emit(pp, &r);
		pp->in_user = false;
		break;
	case F_ITEMS:
		free(pp->items);
		pp->items = NULL;
		break;
	default:
		break;
	}
}

static void
pie_text(void *ud, const XML_Char *s, int len)
{
	struct pie_parser	*pp = ud;

	if (pp->failed || pp->cdepth == 0 || len <= 0)
		return;
	pie_charge(pp, (size_t)len);
	if (!pp->failed)
		xnode_add_text(&pp->a, pp->cur, s, (size_t)len);
}

/*
 * No DTD, so nothing may declare entities (billion laughs): an entity
 * declaration is only ever inside a DOCTYPE, refused at its start.
 */
static void
pie_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	pie_fatal(ud, "a DOCTYPE (entity declarations are refused)");
}

struct pie_parser *
pie_parser_new(pie_fn *fn, void *arg)
{
	struct pie_parser	*pp = xcalloc(1, sizeof(*pp));

	if ((pp->p = XML_ParserCreateNS("UTF-8", PIE_SEP)) == NULL)
		fatalx("%s: XML_ParserCreateNS", __func__);
	pp->fn = fn;
	pp->arg = arg;
	arena_init(&pp->a);
	buf_init(&pp->out, PIE_ELEM_MAX + 4096);
	XML_SetUserData(pp->p, pp);
	XML_SetElementHandler(pp->p, pie_start, pie_end);
	XML_SetCharacterDataHandler(pp->p, pie_text);
	XML_SetStartDoctypeDeclHandler(pp->p, pie_doctype);
	XML_SetParamEntityParsing(pp->p, XML_PARAM_ENTITY_PARSING_NEVER);
	return pp;
}

void
pie_parser_stamp(struct pie_parser *pp, const char *stamp)
{
	pp->stamp = stamp;
}

void
pie_parser_free(struct pie_parser *pp)
{
	if (pp == NULL)
		return;
	XML_ParserFree(pp->p);
	arena_free(&pp->a);
	buf_clear(&pp->out);
	free(pp->items);
	free(pp);
}

int
pie_parse(struct pie_parser *pp, const char *data, size_t len, bool final)
{
	size_t	n;

	do {
		n = len > PIE_CHUNK ? PIE_CHUNK : len;
		/* expat may take two bytes with a NUL for UTF-16, whatever
		   encoding it was given (docs/hardening.md, "Fuzzing") */
		if (!pp->failed && memchr(data, '\0', n) != NULL) {
			snprintf(pp->err, sizeof(pp->err), "a NUL byte (XML "
			    "1.0 2.2: not a character)");
			pp->errline = (unsigned long)
			    XML_GetCurrentLineNumber(pp->p);
			pp->failed = true;
			break;
		}
		if (!pp->failed && XML_Parse(pp->p, data, (int)n,
		    final && n == len) == XML_STATUS_ERROR && !pp->failed) {
			snprintf(pp->err, sizeof(pp->err), "%s",
			    XML_GetErrorCode(pp->p) == XML_ERROR_NO_ELEMENTS &&
			    pp->depth > 0 ? "the file ends inside an element "
			    "(truncated?)" :
			    XML_ErrorString(XML_GetErrorCode(pp->p)));
			pp->errline = (unsigned long)
			    XML_GetCurrentLineNumber(pp->p);
			pp->failed = true;
		}
		data += n;
		len -= n;
	} while (len > 0 && !pp->failed);
	if (!pp->failed && final && pp->depth != 0) {
		snprintf(pp->err, sizeof(pp->err), "the file ends inside "
		    "an element");
		pp->errline = (unsigned long)XML_GetCurrentLineNumber(pp->p);
		pp->failed = true;
	}
	return pp->failed ? -1 : 0;
}

const char *
pie_error(const struct pie_parser *pp)
{
	return pp->err;
}

unsigned long
pie_line(const struct pie_parser *pp)
{
	return pp->errline;
}
