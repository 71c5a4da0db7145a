/*
 * Extensible SASL (XEP-0388) beside RFC 6120 SASL: <authenticate/> with
 * its <user-agent/>, channel-binding types (XEP-0440), and what may be
 * asked inline: Bind2 (XEP-0386) with carbons, CSI and stream management
 * enable, and stream management resumption (XEP-0198 with SASL2). The
 * exchange itself is auth.c's (mechanisms in sasl.c); this file parses
 * the request, writes the XEP-0388 elements and runs the inline steps
 * between the mechanism's success and <success/>.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "../common/base64.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

#define NS_BIND2	"urn:xmpp:bind:0"
#define NS_SASL_CB	"urn:xmpp:sasl-cb:0"
#define NS_SM		"urn:xmpp:sm:3"
#define NS_CSI		"urn:xmpp:csi:0"
#define NS_CARBONS	"urn:xmpp:carbons:2"

#define SASL2_DATA_MAX	8192	/* decoded bytes of one message */
#define SASL2_TAG_MAX	32	/* bytes of a Bind2 tag we use */
#define SASL2_UAID_LEN	36	/* RFC 4122 3: 8-4-4-4-12 hex digits */
#define SASL2_OUT_MAX	4096	/* results of the inline steps */

/* where the inline steps are, once the mechanism succeeded */
enum sasl2_phase {
	S2_AUTH,	/* the mechanism runs */
	S2_RESUME,	/* XEP-0198 <resume/> at the router */
	S2_BIND,	/* Bind2 at the router */
	S2_SM,		/* XEP-0198 <enable/> at the router */
	S2_DONE
};

struct sasl2 {
	enum sasl2_phase	 phase;
	char			*ua_id;		/* <user-agent id/>, or NULL */
	char			*tag;		/* Bind2 <tag/>, prepared */
	bool			 bind;		/* <bind/> asked */
	bool			 carbons;
	bool			 inactive;
	bool			 sm_enable;
	bool			 sm_resumable;
	uint32_t		 sm_max;
	bool			 resume;
	char			*previd;
	uint32_t		 resume_h;
	struct buf		 data;		/* <additional-data/>, raw */
	struct buf		 top;		/* results in <success/> */
	struct buf		 bound;		/* results in <bound/> */
};

static void	sasl2_next(struct stream *);

static void
sasl2_free(struct stream *st)
{
	struct sasl2	*s2 = st->sasl2;

	if (s2 == NULL)
		return;
	fast_stream_free(st);
	upgrade_stream_free(st);
	free(s2->ua_id);
	free(s2->tag);
	free(s2->previd);
	buf_clear(&s2->data);
	buf_clear(&s2->top);
	buf_clear(&s2->bound);
	free(s2);
	st->sasl2 = NULL;
}

/* the state of one XEP-0388 request, replacing any before it */
static void
sasl2_new(struct stream *st)
{
	sasl2_free(st);
	st->sasl2 = xcalloc(1, sizeof(*st->sasl2));
	buf_init(&st->sasl2->data, SASL2_DATA_MAX);
	buf_init(&st->sasl2->top, SASL2_OUT_MAX);
	buf_init(&st->sasl2->bound, SASL2_OUT_MAX);
}

void
sasl2_stream_free(struct stream *st)
{
	sasl2_free(st);
}

bool
sasl2_pending(const struct stream *st)
{
	return st->sasl2 != NULL && st->sasl2->phase != S2_AUTH &&
	    st->sasl2->phase != S2_DONE;
}

/*
 * The binding data of the connection's TLS session for each type we
 * offer: tls-server-end-point always (XEP-0440 3 makes it mandatory),
 * tls-exporter on TLS 1.3 only and tls-unique below it (RFC 9266 3,
 * 4: tls-unique is not defined for TLS 1.3). With s NULL only have[]
 * is filled, for the features. Without TLS there is none.
 */
void
sasl2_cb_collect(struct stream *st, struct sasl *s, bool have[SASL_NCB])
{
	static const struct {
		enum sasl_cb			t;
		gnutls_channel_binding_t	g;
	} types[] = {
		{ SASL_CB_EXPORTER, GNUTLS_CB_TLS_EXPORTER },
		{ SASL_CB_ENDPOINT, GNUTLS_CB_TLS_SERVER_END_POINT },
		{ SASL_CB_UNIQUE, GNUTLS_CB_TLS_UNIQUE },
	};
	gnutls_session_t	 tls = st->tp.tls;
	gnutls_datum_t		 d;
	bool			 tls13;
	size_t			 i;

	memset(have, 0, SASL_NCB * sizeof(have[0]));
	if (!st->tls_on || tls == NULL)
		return;
	tls13 = gnutls_protocol_get_version(tls) == GNUTLS_TLS1_3;
	for (i = 0; i < nitems(types); i++) {
		if ((types[i].t == SASL_CB_EXPORTER && !tls13) ||
		    (types[i].t == SASL_CB_UNIQUE && tls13))
			continue;
		if (gnutls_session_channel_binding(tls, types[i].g, &d) < 0)
			continue;
		if (d.size > 0 && d.size <= SASL_CB_MAX) {
			have[types[i].t] = true;
			if (s != NULL)
				sasl_set_cb(s, types[i].t, d.data, d.size);
		}
		gnutls_free(d.data);
	}
}

static int
sasl2_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * XEP-0474 4.1: S is the advertised mechanisms sorted (i;octet) and
 * joined by %x1E, then, as XEP-0440 was used, %x1F and the binding types
 * likewise (have[], from sasl2_cb_collect). The client checks its hash,
 * h= in server-first-message.
 */
void
sasl2_ssdp(struct stream *st, bool sasl2, const bool have[SASL_NCB],
    struct buf *b)
{
	const char	*names[SASL_NMECH + SASL_NCB];
	size_t		 n, i;
	int		 t;

	n = auth_mechs(st, sasl2, names);
	qsort(names, n, sizeof(names[0]), sasl2_strcmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_puts(b, "\x1e");
		buf_puts(b, names[i]);
	}
	for (n = 0, t = 0; t < SASL_NCB; t++)
		if (have[t])
			names[n++] = sasl_cb_name((enum sasl_cb)t);
	if (!st->tls_on)
		return;
	qsort(names, n, sizeof(names[0]), sasl2_strcmp);
	buf_puts(b, "\x1f");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_puts(b, "\x1e");
		buf_puts(b, names[i]);
	}
}

/* XEP-0440 2: the types a -PLUS mechanism may bind to here */
void
sasl2_cb_features(struct stream *st, struct buf *b)
{
	bool	have[SASL_NCB];
	int	t;

	if (!st->tls_on)
		return;
	sasl2_cb_collect(st, NULL, have);
	buf_puts(b, "<sasl-channel-binding xmlns='" NS_SASL_CB "'>");
	for (t = 0; t < SASL_NCB; t++)
		if (have[t])
			buf_printf(b, "<channel-binding type='%s'/>",
			    sasl_cb_name((enum sasl_cb)t));
	buf_puts(b, "</sasl-channel-binding>");
}

/* XEP-0388 2.1, XEP-0386 2.1: mechanisms and what may come inline */
void
sasl2_features(struct stream *st, struct buf *b)
{
	const char	*names[SASL_NMECH];
	size_t		 n, i;

	if (!st->tls_on && c2s.conf.c2s_require_tls)
		return;
	n = auth_mechs(st, true, names);
	buf_puts(b, "<authentication xmlns='" NS_SASL2 "'>");
	for (i = 0; i < n; i++)
		buf_printf(b, "<mechanism>%s</mechanism>", names[i]);
	upgrade_features(st, b);
	buf_puts(b, "<inline><bind xmlns='" NS_BIND2 "'><inline>"
	    "<feature var='" NS_CARBONS "'/><feature var='" NS_CSI "'/>"
	    "<feature var='" NS_SM "'/></inline></bind>"
	    "<sm xmlns='" NS_SM "'/>");
	fast_features(st, b);
	buf_puts(b, "</inline></authentication>");
}

/* RFC 4122 3: the user-agent id is a UUID (XEP-0388 2.3) */
static bool
sasl2_uuid_valid(const char *s)
{
	size_t	i;

	if (strlen(s) != SASL2_UAID_LEN)
		return false;
	for (i = 0; i < SASL2_UAID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL ||
		    s[i] == '\0')
			return false;
	}
	return true;
}

static void
sasl2_send_failure(struct stream *st, enum sasl_err cond, const char *text)
{
	struct buf	*b = &c2s.scratch;

	buf_reset(b);
	buf_printf(b, "<failure xmlns='" NS_SASL2 "'><%s xmlns='" NS_SASL
	    "'/>", sasl_err_name(cond));
	if (text != NULL) {
		buf_puts(b, "<text>");
		xml_escape(b, text, strlen(text));
		buf_puts(b, "</text>");
	}
	buf_puts(b, "</failure>");
	stream_write(st, buf_rptr(b), buf_avail(b));
}

/* auth.c: the exchange failed; the stream stays as it was (2.6.2) */
void
sasl2_failure(struct stream *st, enum sasl_err cond, const char *text)
{
	sasl2_free(st);
	sasl2_send_failure(st, cond, text);
}

void
sasl2_challenge(struct stream *st, const struct buf *data)
{
	struct buf	*b = &c2s.scratch;

	buf_reset(b);
	buf_puts(b, "<challenge xmlns='" NS_SASL2 "'>");
	if (data != NULL && buf_avail(data) > 0)
		base64_encode(b, buf_rptr(data), buf_avail(data));
	buf_puts(b, "</challenge>");
	stream_write(st, buf_rptr(b), buf_avail(b));
}

/*
 * XEP-0386 3: the resource is the client's tag and a part that is
 * stable for one device of one account (the user-agent id, keyed with
 * the secret every c2s shares) and unguessable to others; random
 * without an id.
 */
static void
sasl2_resource(struct stream *st, char *res, size_t size)
{
	struct sasl2	*s2 = st->sasl2;
	uint8_t		 mac[32], rnd[8];
	char		 hex[17], *msg;

	if (s2->ua_id != NULL) {
		msg = xasprintf("%s@%s/%s", st->node, st->domain, s2->ua_id);
		sasl_keyed_hash(msg, strlen(msg), mac);
		free(msg);
		hex_encode(hex, mac, 8);
	} else {
		random_bytes(rnd, sizeof(rnd));
		hex_encode(hex, rnd, sizeof(rnd));
	}
	if (s2->tag != NULL)
		snprintf(res, size, "%s.%s", s2->tag, hex);
	else
		snprintf(res, size, "%s", hex);
}

/*
 * Carbons are the router's (router/carbons.c): the IQ a client would
 * send, from the session, once <success/> is out (XEP-0388 2.5: nothing
 * before it). The client did not send it, so its result is ours: the
 * uplink keeps it from the client (sasl2_carbons_answer).
 */
static void
sasl2_carbons(struct stream *st)
{
	struct buf	x;

	buf_init(&x, 256 + 6 * JID_STR_MAX);
	/* from= as on every stanza of the session (stream.c stamps it) */
	buf_puts(&x, "<iq xmlns='" NS_CLIENT "' type='set' "
	    "id='" SASL2_CARBONS_ID "' from='");
	xml_escape(&x, st->jid, strlen(st->jid));
	buf_puts(&x, "'><enable xmlns='" NS_CARBONS "'/></iq>");
	if (uplink_stanza(st, KIND_IQ, IQ_SET, NULL, st->jid, &x) == 0)
		st->carbons_asked = true;
	buf_clear(&x);
}

/*
 * The router's answer to sasl2_carbons, which the client never asked
 * for (Monal answers an unknown result with an error): true when ls is
 * it, and it is then not the client's. Only the first result or error
 * with that id after the enable; one from elsewhere with the same id
 * (anyone may send the session an IQ result) is taken instead only if
 * it comes first, and the router's then reaches the client, as any
 * unknown result would.
 */
bool
sasl2_carbons_answer(struct stream *st, const struct link_stanza *ls)
{
	static const char	 id1[] = " id='" SASL2_CARBONS_ID "'";
	static const char	 id2[] = " id=\"" SASL2_CARBONS_ID "\"";
	const char		*end;
	size_t			 n;

	if (!st->carbons_asked || ls->kind != KIND_IQ ||
	    (ls->type != IQ_RESULT && ls->type != IQ_ERROR))
		return false;
	/* the start tag alone */
	if ((end = memchr(ls->xml, '>', ls->xlen)) == NULL)
		return false;
	n = (size_t)(end - ls->xml);
	if (memmem(ls->xml, n, id1, sizeof(id1) - 1) == NULL &&
	    memmem(ls->xml, n, id2, sizeof(id2) - 1) == NULL)
		return false;
	st->carbons_asked = false;
	if (ls->type == IQ_ERROR)
		log_warnx("%016llx carbons enabled inline were refused by the "
		    "router", (unsigned long long)st->sid);
	return true;
}

/* the inline steps are over: <success/>, then the features (2.6.1) */
static void
sasl2_finish(struct stream *st)
{
	struct sasl2	*s2 = st->sasl2;
	struct buf	 b;
	char		 bare[JID_STR_MAX + 1];
	const char	*id;
	bool		 carbons = s2->bind && s2->carbons && st->jid != NULL;

	s2->phase = S2_DONE;
	buf_init(&b, 3 * SASL2_OUT_MAX);
	buf_puts(&b, "<success xmlns='" NS_SASL2 "'>");
	if (buf_avail(&s2->data) > 0) {
		buf_puts(&b, "<additional-data>");
		base64_encode(&b, buf_rptr(&s2->data), buf_avail(&s2->data));
		buf_puts(&b, "</additional-data>");
	}
	jid_format(bare, st->node, st->domain, NULL);
	id = st->jid != NULL ? st->jid : bare;
	buf_puts(&b, "<authorization-identifier>");
	xml_escape(&b, id, strlen(id));
	buf_puts(&b, "</authorization-identifier>");
	buf_append(&b, buf_rptr(&s2->top), buf_avail(&s2->top));
	if (s2->bind && st->jid != NULL) {
		buf_puts(&b, "<bound xmlns='" NS_BIND2 "'>");
		buf_append(&b, buf_rptr(&s2->bound), buf_avail(&s2->bound));
		/*
		 * Carbons enabled inline: Conversations takes them as on
		 * only when <bound/> has their <enabled/>, else it enables
		 * them again with an IQ.
		 */
		if (carbons)
			buf_puts(&b, "<enabled xmlns='" NS_CARBONS "'/>");
		buf_puts(&b, "</bound>");
	}
	buf_puts(&b, "</success>");
	stream_write(st, buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
	log_info("%016llx auth user=%s@%s mech=%s sasl2 jid=%s",
	    (unsigned long long)st->sid, log_escs(st->node), st->domain,
	    sasl_mech_name(st->mech), log_escs(id));
	sasl2_free(st);
	stream_features(st);
	if (carbons)
		sasl2_carbons(st);
}

/* the session is bound: what Bind2 asked to enable */
static void
sasl2_bound_inline(struct stream *st)
{
	struct sasl2	*s2 = st->sasl2;

	if (s2->inactive)
		st->inactive = true;	/* XEP-0352 as if sent next */
	if (s2->sm_enable) {
		s2->phase = S2_SM;
		sm_enable_with(st, s2->sm_resumable, s2->sm_max);
		return;
	}
	sasl2_finish(st);
}

/* bind.c: the router's answer to the Bind2 request */
void
sasl2_bound(struct stream *st, enum stanza_err err)
{
	if (err != XERR_COUNT) {
		/*
		 * Authenticated all the same: <success/> without <bound/>,
		 * and the client may bind as RFC 6120 7 says.
		 */
		log_info("%016llx bind2 failed: %s",
		    (unsigned long long)st->sid, stanza_err_name(err));
		st->sasl2->bind = false;
		sasl2_finish(st);
		return;
	}
	sasl2_bound_inline(st);
}

/*
 * sm.c: an inline <enabled/>, <resumed/> or <failed/>. A resumption
 * goes in <success/>; one that failed lets Bind2 go on if asked.
 */
void
sasl2_sm_result(struct stream *st, const char *xml, size_t len, bool ok)
{
	struct sasl2	*s2 = st->sasl2;

	if (s2->phase == S2_SM) {
		buf_append(&s2->bound, xml, len);
		sasl2_finish(st);
		return;
	}
	buf_append(&s2->top, xml, len);
	if (ok) {
		/* XEP-0386 4: a resumed session is bound already */
		s2->bind = false;
		sasl2_finish(st);
		return;
	}
	s2->resume = false;
	sasl2_next(st);
}

/* the next inline step after the mechanism's success */
static void
sasl2_next(struct stream *st)
{
	struct sasl2	*s2 = st->sasl2;
	char		 res[JID_PART_MAX + 1], full[JID_STR_MAX + 1];

	if (s2->resume) {
		s2->phase = S2_RESUME;
		sm_resume_with(st, s2->previd, s2->resume_h);
		return;
	}
	if (s2->bind) {
		s2->phase = S2_BIND;
		sasl2_resource(st, res, sizeof(res));
		jid_format(full, st->node, st->domain, res);
		if (bind_begin(st, full, NULL) == 0)
			return;
		s2->bind = false;
	}
	sasl2_finish(st);
}

/* auth.c: the mechanism succeeded with data for <additional-data/> */
void
sasl2_success(struct stream *st, const struct buf *data)
{
	struct sasl2	*s2 = st->sasl2;

	if (data != NULL)
		buf_append(&s2->data, buf_rptr(data), buf_avail(data));
	fast_success(st, &s2->top);
	st->state = ST_AUTHED;
	s2->phase = S2_RESUME;	/* not S2_AUTH: the steps run */
	sasl2_next(st);
}

/*
 * XEP-0386 2.2: <tag/> and the inline features we advertised; anything
 * else is refused before the exchange starts, with its name.
 */
static int
sasl2_parse_bind(struct sasl2 *s2, const struct xnode *bind,
    struct arena *a, const char **why)
{
	struct xnode	*c;
	char		*text, cut[SASL2_TAG_MAX + 1], res[JID_PART_MAX + 1];
	size_t		 n;
	bool		 tag = false;

	s2->bind = true;
	for (c = xnode_child(bind, NULL, NULL); c != NULL;
	    c = xnode_next(c, NULL, NULL)) {
		if (strcmp(c->ns, NS_BIND2) == 0 &&
		    strcmp(c->name, "tag") == 0 && !tag) {
			/*
			 * XEP-0386 3: the tag only names the resource. One
			 * too long is cut on a character boundary; one that
			 * is empty or no resource is left out (a random
			 * resource): neither is worth refusing a login for.
			 */
			tag = true;
			text = xnode_text(a, c);
			if ((n = strlen(text)) > SASL2_TAG_MAX) {
				n = SASL2_TAG_MAX;
				while (n > 0 && ((unsigned char)text[n] &
				    0xc0) == 0x80)
					n--;
			}
			memcpy(cut, text, n);
			cut[n] = '\0';
			if (n > 0 && jid_resourceprep(cut, res) == 0 &&
			    strchr(res, '/') == NULL)
				s2->tag = xstrdup(res);
		} else if (strcmp(c->ns, NS_CARBONS) == 0 &&
		    strcmp(c->name, "enable") == 0)
			s2->carbons = true;
		else if (strcmp(c->ns, NS_CSI) == 0 &&
		    strcmp(c->name, "inactive") == 0)
			s2->inactive = true;
		else if (strcmp(c->ns, NS_CSI) == 0 &&
		    strcmp(c->name, "active") == 0)
			s2->inactive = false;
		else if (strcmp(c->ns, NS_SM) == 0 &&
		    strcmp(c->name, "enable") == 0) {
			s2->sm_enable = true;
			sm_enable_parse(c, &s2->sm_resumable, &s2->sm_max);
		} else {
			*why = "unknown Bind2 inline feature";
			return -1;
		}
	}
	return 0;
}

static int
sasl2_parse(struct stream *st, const struct xnode *el, struct arena *a,
    const char **why)
{
	struct sasl2	*s2 = st->sasl2;
	struct xnode	*c;
	const char	*v;

	for (c = xnode_child(el, NULL, NULL); c != NULL;
	    c = xnode_next(c, NULL, NULL)) {
		if (strcmp(c->ns, NS_SASL2) == 0 &&
		    strcmp(c->name, "user-agent") == 0) {
			v = xnode_attr(c, "id");
			if (v != NULL && !sasl2_uuid_valid(v)) {
				*why = "the user-agent id must be a UUID";
				return -1;
			}
			if (v != NULL && s2->ua_id == NULL)
				s2->ua_id = xstrdup(v);
		} else if (strcmp(c->ns, NS_BIND2) == 0 &&
		    strcmp(c->name, "bind") == 0 && !s2->bind) {
			if (sasl2_parse_bind(s2, c, a, why) == -1)
				return -1;
		} else if (strcmp(c->ns, NS_SM) == 0 &&
		    strcmp(c->name, "resume") == 0 && !s2->resume) {
			s2->resume = true;
			if (sm_resume_parse(c, &v, &s2->resume_h) == -1) {
				*why = "bad <resume/>";
				return -1;
			}
			s2->previd = xstrdup(v);
		}
		/* <initial-response/>, <supported/> and extensions */
	}
	upgrade_parse(st, el, a);
	return fast_parse(st, el, s2->ua_id, why);
}

static int
sasl2_decode(struct stream *st, const struct xnode *el, struct arena *a,
    struct buf *in, bool *present)
{
	char	*text;

	*present = el != NULL;
	if (el == NULL)
		return 0;
	text = xnode_text(a, el);
	/* RFC 6120 6.5.6: more than a message holds is no encoding error */
	if (base64_decoded_len(text, strlen(text)) > SASL2_DATA_MAX) {
		auth_fail_text(st, SASLERR_MALFORMED_REQUEST, "too much data");
		return -1;
	}
	/* XEP-0388 2.2: "=" is an empty response, as in RFC 6120 */
	if (strcmp(text, "=") != 0 && *text != '\0' &&
	    base64_decode(in, text, strlen(text)) == -1) {
		auth_fail(st, SASLERR_INCORRECT_ENCODING);
		return -1;
	}
	return 0;
}

static void
sasl2_authenticate(struct stream *st, const struct xnode *el,
    struct arena *a)
{
	struct buf	 in;
	const char	*why = NULL;
	bool		 present;

	/* the abandoned exchange was the last failure allowed: closed */
	if (auth_reset(st) == -1)
		return;
	sasl2_new(st);
	if (sasl2_parse(st, el, a, &why) == -1) {
		auth_fail_text(st, SASLERR_MALFORMED_REQUEST, why);
		return;
	}
	buf_init(&in, SASL2_DATA_MAX);
	if (sasl2_decode(st, xnode_child(el, NS_SASL2, "initial-response"),
	    a, &in, &present) == 0)
		auth_start(st, xnode_attr(el, "mechanism"), true,
		    present ? &in : NULL);
	buf_clear(&in);
}

/*
 * Returns 0 when el was an XEP-0388 element (handled, or the stream
 * closed), 1 when it is for the caller.
 */
int
sasl2_element(struct stream *st, struct xnode *el, struct arena *a)
{
	struct buf	in;
	bool		present;

	if (strcmp(el->ns, NS_SASL2) != 0)
		return 1;
	if (st->state == ST_AUTH_WAIT) {
		if (strcmp(el->name, "abort") != 0) {
			/* 2.5: nothing else while it runs */
			stream_error(st, SERR_POLICY_VIOLATION,
			    "authentication in progress");
			return 0;
		}
		auth_abort(st);
		return 0;
	}
	/*
	 * XEP-0480: while a task runs, its elements, a new <authenticate/>
	 * or <abort/>; anything else ends the exchange.
	 */
	if (upgrade_running(st)) {
		if (upgrade_element(st, el, a) == 0)
			return 0;
		if (strcmp(el->name, "authenticate") != 0 &&
		    strcmp(el->name, "abort") != 0) {
			auth_fail_text(st, SASLERR_MALFORMED_REQUEST,
			    "unexpected element during the task");
			return 0;
		}
	}
	if (strcmp(el->name, "authenticate") == 0) {
		if (!st->tls_on && c2s.conf.c2s_require_tls) {
			sasl2_send_failure(st, SASLERR_ENCRYPTION_REQUIRED,
			    NULL);
			return 0;
		}
		sasl2_authenticate(st, el, a);
	} else if (strcmp(el->name, "response") == 0 && st->sasl2 != NULL) {
		buf_init(&in, SASL2_DATA_MAX);
		if (sasl2_decode(st, el, a, &in, &present) == 0)
			auth_response(st, &in);
		buf_clear(&in);
	} else if (strcmp(el->name, "abort") == 0) {
		/*
		 * With nothing under way too (2.6.2): auth.c answers in
		 * XEP-0388's namespace only while st->sasl2 is set.
		 */
		if (st->sasl2 == NULL)
			sasl2_new(st);
		auth_fail(st, SASLERR_ABORTED);
	} else {
		/* a <response/> without <authenticate/>, or unknown */
		sasl2_send_failure(st, SASLERR_MALFORMED_REQUEST,
		    "unexpected element");
	}
	return 0;
}
