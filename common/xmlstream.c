/*
 * The XML stream layer: one expat parser per stream, fed raw bytes. It checks
 * UTF-8 itself, refuses what RFC 6120 11.1 forbids, bounds every stanza (and
 * expat's own buffering) by max_stanza, and builds each top-level element as
 * a tree in one arena that is reset after the element callback.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "arena.h"
#include "buf.h"
#include "log.h"
#include "siphash.h"
#include "util.h"
#include "xml.h"
#include "xmlstream.h"
#include "xmpp.h"

/* cannot occur in a name or a namespace URI: XML forbids the character */
#define XS_SEP			'\x01'
/* the prolog and the stream header together */
#define XSTREAM_MAX_HEADER	4096
/*
 * Bytes expat may hold beyond a stanza of max_stanza bytes: whitespace it
 * has not reported yet and the start of the next token.
 */
#define XSTREAM_SLACK		1024
/* one XML_Parse call; expat takes an int length */
#define XSTREAM_MAX_SLICE	(1U << 30)
#define XS_NS_BUCKETS		64
/*
 * A partial token this long makes us hold back input that cannot end it
 * (see xstream_feed).
 */
#define XS_DEFER_MIN		1024
/* prefixes on the stream header that hibernation can rebuild */
#define XS_HDR_PREFIXES		8
/* what xstream_feed may hold back: the larger of its two limits */
#define XS_HOLD_MAX(max)	((max) + XSTREAM_SLACK + XSTREAM_MAX_HEADER)
/* past this the character data buffer is freed after each stanza */
#define XS_TEXT_KEEP		16384

/* a namespace URI copied once per stanza, however often it is used */
struct xs_ns {
	struct xs_ns	*next;
	uint64_t	 hash;
	size_t		 len;
	char		*uri;
};

struct xstream {
	XML_Parser		 p;
	const struct xstream_cb	*cb;
	void			*ctx;
	size_t			 max_stanza;
	uint64_t		 ns_probes; /* entries compared, for tests */
	unsigned long		 salt;	/* expat's hash salt, drawn once */

	struct arena		 arena;
	struct xs_ns		*ns[XS_NS_BUCKETS];
	bool			 ns_used;
	struct buf		 text;	/* adjacent character data */
	struct buf		 hold;	/* input held back from expat */
	uint64_t		 partial; /* bytes expat holds unparsed */
	struct xnode		*root;	/* top-level element in progress */
	struct xnode		*cur;	/* innermost open element */
	const char		*hdr_ns; /* default ns on the header */
	unsigned		 depth;	/* open below the stream element */
	unsigned		 nsdecls; /* declared on the next element */

	/* byte offsets in expat's numbering, from this stream's start */
	uint64_t		 fed;
	uint64_t		 mark;	/* end of the last complete item */
	uint64_t		 el_start; /* start of the top element */

	/* UTF-8 check: continuation bytes still due and their range */
	uint8_t			 u8need, u8lo, u8hi;

	bool			 opened;
	bool			 waking;	/* feeding the rebuilt header */
	struct buf		 decls;	/* the header's namespace declarations,
					   to rebuild it after hibernation */
	char			*hdr_qname; /* the header's name as written
					   (NULL: cannot be rebuilt) */
	char			*dprefix[XS_HDR_PREFIXES];
	char			*duri[XS_HDR_PREFIXES];
	unsigned		 ndecl;
	uint64_t		 elements; /* completed top-level elements */
	bool			 in_parse;
	bool			 stopped;
	bool			 reset_pending;
	enum stream_err		 err;
	char			 errtext[160];
	struct log_redact	 redact; /* TRACE_XML of the input */
	const struct xstream_preauth *preauth; /* NULL: authenticated */
	size_t			 charged; /* in xs_preauth_used */
};

/* the namespace table's hash key, secret and one per process */
static struct siphash_key	xs_key;
static bool			xs_keyed;

/* bytes held by the pre-authentication streams of this process */
static size_t			xs_preauth_used;
static size_t			xs_preauth_max;	/* 0: no limit */

static void	xs_setup(struct xstream *);
static int	xs_wake(struct xstream *);

static int __attribute__((format(printf, 3, 4)))
xs_fail(struct xstream *st, enum stream_err e, const char *fmt, ...)
{
	va_list	ap;

	if (st->err == SERR_NONE) {
		st->err = e;
		va_start(ap, fmt);
		vsnprintf(st->errtext, sizeof(st->errtext), fmt, ap);
		va_end(ap);
	}
	if (st->in_parse)
		XML_StopParser(st->p, XML_FALSE);
	return -1;
}

/* once set, expat may still deliver an event or two: ignore them */
static bool
xs_halted(const struct xstream *st)
{
	return st->err != SERR_NONE || st->stopped || st->reset_pending;
}

/* offset just past the event being reported */
static uint64_t
xs_pos(const struct xstream *st)
{
	return (uint64_t)XML_GetCurrentByteIndex(st->p) +
	    (uint64_t)XML_GetCurrentByteCount(st->p);
}

/* the cap on one stanza: smaller before authentication */
static size_t
xs_cap(const struct xstream *st)
{
	if (st->preauth != NULL && st->preauth->max_stanza < st->max_stanza)
		return st->preauth->max_stanza;
	return st->max_stanza;
}

static int
xs_check_size(struct xstream *st)
{
	uint64_t	size = xs_pos(st) - st->el_start;

	if (size > xs_cap(st))
		return xs_fail(st, SERR_POLICY_VIOLATION,
		    "stanza larger than %zu bytes", xs_cap(st));
	return 0;
}

/*
 * What an unauthenticated stream holds: its tree, its text and held
 * input, and what expat buffers (bounded by the stanza cap, counted as
 * the bytes it has not consumed). Charged against the stream's budget
 * and the process's total; -1 (the stream fails) past either.
 */
static int
xs_charge(struct xstream *st)
{
	size_t	use;

	if (st->preauth == NULL)
		return 0;
	use = st->arena.used + st->text.cap + st->hold.cap +
	    (size_t)st->partial;
	xs_preauth_used = xs_preauth_used - st->charged + use;
	st->charged = use;
	if (st->err != SERR_NONE)
		return -1;
	if (use > st->preauth->budget)
		return xs_fail(st, SERR_POLICY_VIOLATION, "more than %zu bytes "
		    "held before authentication", st->preauth->budget);
	if (xs_preauth_max > 0 && xs_preauth_used > xs_preauth_max)
		return xs_fail(st, SERR_RESOURCE_CONSTRAINT, "unauthenticated "
		    "streams hold more than %zu bytes", xs_preauth_max);
	return 0;
}

static void
xs_discharge(struct xstream *st)
{
	xs_preauth_used -= st->charged;
	st->charged = 0;
}

/* before authentication only some top-level elements may come */
static bool
xs_allowed(const struct xstream *st, const struct xnode *n)
{
	const struct xstream_name	*a;

	if (st->preauth == NULL || st->preauth->allowed == NULL)
		return true;
	for (a = st->preauth->allowed; a->ns != NULL; a++)
		if (strcmp(a->ns, n->ns) == 0 &&
		    (a->name == NULL || strcmp(a->name, n->name) == 0))
			return true;
	return false;
}

static void
xs_clear_stanza(struct xstream *st)
{
	/*
	 * Nothing stays allocated between stanzas: an idle session costs no
	 * tree memory (docs/BENCHMARKS.md, memory per session); the next
	 * stanza's first chunk is one malloc.
	 */
	arena_free(&st->arena);
	if (st->ns_used) {
		memset(st->ns, 0, sizeof(st->ns));
		st->ns_used = false;
	}
	/* one big stanza must not pin its buffer for the connection's life */
	if (st->text.cap > XS_TEXT_KEEP)
		buf_clear(&st->text);
	else
		buf_reset(&st->text);
	st->root = st->cur = NULL;
	st->hdr_ns = NULL;
	if (st->charged > 0)
		(void)xs_charge(st);
}

/*
 * Namespace URIs are interned per stanza: expat hands over a fresh copy of
 * the URI with every name, and copying each one would let a long URI bound
 * to a short prefix multiply a stanza's size in memory.
 */
static const char *
xs_intern(struct xstream *st, const char *uri, size_t len,
    const char *parent_ns)
{
	static const char *const known[] = {
		NS_CLIENT, NS_SERVER, NS_STREAM, NS_XML
	};
	struct xs_ns	*e;
	uint64_t	 h;
	size_t		 i;

	if (len == 0)
		return "";
	if (parent_ns != NULL && strncmp(parent_ns, uri, len) == 0 &&
	    parent_ns[len] == '\0')
		return parent_ns;
	for (i = 0; i < nitems(known); i++)
		if (strncmp(known[i], uri, len) == 0 && known[i][len] == '\0')
			return known[i];
	/*
	 * Keyed: with an unkeyed or merely seeded hash (FNV-1a was used)
	 * a peer can pick URIs that share a bucket, and each new one is
	 * compared with all before it.
	 */
	if (!xs_keyed) {
		siphash_key_random(&xs_key);
		xs_keyed = true;
	}
	h = siphash13(&xs_key, uri, len);
	for (e = st->ns[h % XS_NS_BUCKETS]; e != NULL; e = e->next) {
		st->ns_probes++;
		if (e->hash == h && e->len == len &&
		    memcmp(e->uri, uri, len) == 0)
			return e->uri;
	}
	e = arena_alloc(&st->arena, sizeof(*e));
	e->hash = h;
	e->len = len;
	e->uri = arena_strndup(&st->arena, uri, len);
	e->next = st->ns[h % XS_NS_BUCKETS];
	st->ns[h % XS_NS_BUCKETS] = e;
	st->ns_used = true;
	return e->uri;
}

/* "uri<SEP>local" or "local": sets *ns (NULL when unqualified) */
static const char *
xs_split(struct xstream *st, const char *name, const char **ns,
    const char *parent_ns)
{
	const char	*sep;

	if ((sep = strchr(name, XS_SEP)) == NULL) {
		*ns = NULL;
		return name;
	}
	*ns = xs_intern(st, name, (size_t)(sep - name), parent_ns);
	return sep + 1;
}

/* gives the pending character data of st->cur its final, merged form */
static void
xs_flush_text(struct xstream *st)
{
	struct xnode	*t;

	if (st->text.len == 0)
		return;
	t = st->cur->last;
	t->text = arena_strndup(&st->arena, st->text.data, st->text.len);
	t->len = st->text.len;
	buf_reset(&st->text);
}

static struct xnode *
xs_node(struct xstream *st, const char *name, const char **atts)
{
	struct xnode	*n;
	struct xattr	*at, **tail;
	const char	*ns, *local, *pns;

	pns = st->cur != NULL ? st->cur->ns : NULL;
	n = arena_alloc(&st->arena, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->type = XNODE_ELEM;
	local = xs_split(st, name, &ns, pns);
	n->ns = ns != NULL ? ns : "";
	n->name = arena_strdup(&st->arena, local);
	tail = &n->attrs;
	for (; *atts != NULL; atts += 2) {
		at = arena_alloc(&st->arena, sizeof(*at));
		at->next = NULL;
		local = xs_split(st, atts[0], &at->ns, n->ns);
		at->name = arena_strdup(&st->arena, local);
		at->value = arena_strdup(&st->arena, atts[1]);
		*tail = at;
		tail = &at->next;
	}
	return n;
}

static void
xs_free_decls(struct xstream *st)
{
	unsigned	i;

	for (i = 0; i < st->ndecl; i++) {
		free(st->dprefix[i]);
		free(st->duri[i]);
	}
	st->ndecl = 0;
	free(st->hdr_qname);
	st->hdr_qname = NULL;
	buf_clear(&st->decls);
}

/* the header's qualified name, from the prefix bound to its namespace */
static void
xs_header_qname(struct xstream *st, const struct xnode *n)
{
	unsigned	i;

	free(st->hdr_qname);
	st->hdr_qname = NULL;
	for (i = 0; i < st->ndecl; i++)
		if (strcmp(st->duri[i], n->ns) == 0) {
			st->hdr_qname = xasprintf("%s:%s", st->dprefix[i],
			    n->name);
			return;
		}
	if (st->hdr_ns != NULL && strcmp(st->hdr_ns, n->ns) == 0)
		st->hdr_qname = xstrdup(n->name);
}

static void
xs_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xstream	*st = ud;
	struct xnode	*n;
	size_t		 nattrs = st->nsdecls, i;
	const char	*dns;

	if (xs_halted(st))
		return;
	if (st->waking) {
		/* the rebuilt stream header: not an element of the stream */
		st->waking = false;
		st->nsdecls = 0;
		return;
	}
	st->nsdecls = 0;
	for (i = 0; atts[i] != NULL; i += 2)
		nattrs++;
	if (nattrs > XSTREAM_MAX_ATTRS) {
		xs_fail(st, SERR_POLICY_VIOLATION,
		    "more than %d attributes on an element", XSTREAM_MAX_ATTRS);
		return;
	}
	if (st->opened) {
		if (++st->depth > XSTREAM_MAX_DEPTH) {
			xs_fail(st, SERR_POLICY_VIOLATION,
			    "elements nested deeper than %d",
			    XSTREAM_MAX_DEPTH);
			return;
		}
		if (st->depth == 1)
			st->el_start = (uint64_t)XML_GetCurrentByteIndex(st->p);
		else {
			if (xs_check_size(st) == -1)
				return;
			xs_flush_text(st);
		}
	}
	n = xs_node(st, name, atts);
	if (!st->opened) {
		xs_header_qname(st, n);
		st->opened = true;
		st->mark = xs_pos(st);
		dns = st->hdr_ns != NULL ? st->hdr_ns : "";
		if (st->cb->open != NULL)
			st->cb->open(st->ctx, n, dns);
		xs_clear_stanza(st);
		return;
	}
	if (st->cur == NULL && !xs_allowed(st, n)) {
		/* at the start tag: nothing of its content is read */
		xs_fail(st, st->preauth->refuse, "<%s/> in %s before "
		    "authentication", log_escs(n->name), log_escs(n->ns));
		return;
	}
	if (st->cur != NULL)
		xnode_append(st->cur, n);
	else
		st->root = n;
	st->cur = n;
	(void)xs_charge(st);
}

static void
xs_end(void *ud, const XML_Char *name)
{
	struct xstream	*st = ud;
	struct xnode	*el;

	(void)name;
	if (xs_halted(st))
		return;
	if (st->depth == 0) {
		/* expat has matched it to the header: </stream:stream> */
		if (st->cb->close != NULL)
			st->cb->close(st->ctx);
		return;
	}
	if (xs_check_size(st) == -1)
		return;
	xs_flush_text(st);
	st->cur = st->cur->parent;
	if (--st->depth > 0)
		return;
	st->elements++;
	st->mark = xs_pos(st);
	el = st->root;
	if (st->cb->element != NULL)
		st->cb->element(st->ctx, el, &st->arena);
	xs_clear_stanza(st);
}

static void
xs_chardata(void *ud, const XML_Char *s, int len)
{
	struct xstream	*st = ud;
	struct xnode	*last, *t;
	int		 i;

	if (xs_halted(st) || len <= 0)
		return;
	if (st->depth == 0) {
		/*
		 * Between stanzas only whitespace (keepalives, RFC 6120
		 * 4.6.1) is allowed. Other text is well-formed XML, just not
		 * XMPP, hence bad-format rather than not-well-formed.
		 */
		for (i = 0; i < len; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
			    s[i] != '\r') {
				xs_fail(st, SERR_BAD_FORMAT,
				    "text between stanzas");
				return;
			}
		st->mark = xs_pos(st);
		return;
	}
	if (xs_check_size(st) == -1)
		return;
	last = st->cur->last;
	if (last != NULL && last->type == XNODE_TEXT) {
		/* expat splits text at entities and feeds: merge once */
		if ((st->text.len == 0 &&
		    buf_append(&st->text, last->text, last->len) == -1) ||
		    buf_append(&st->text, s, (size_t)len) == -1)
			xs_fail(st, SERR_RESOURCE_CONSTRAINT, "text buffer");
		(void)xs_charge(st);
		return;
	}
	/* the usual single piece goes straight to the arena */
	t = arena_alloc(&st->arena, sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->type = XNODE_TEXT;
	t->ns = "";
	t->name = "";
	t->text = arena_strndup(&st->arena, s, (size_t)len);
	t->len = (size_t)len;
	xnode_append(st->cur, t);
	(void)xs_charge(st);
}

static void
xs_nsdecl(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
	struct xstream	*st = ud;

	if (xs_halted(st))
		return;
	/* counted with the attributes of the element they sit on */
	st->nsdecls++;
	if (st->opened)
		return;
	if (prefix == NULL)
		st->hdr_ns = uri != NULL ?
		    xs_intern(st, uri, strlen(uri), NULL) : "";
	/* kept to rebuild the header when the parser wakes up */
	if (prefix != NULL && uri != NULL && st->ndecl < XS_HDR_PREFIXES) {
		st->dprefix[st->ndecl] = xstrdup(prefix);
		st->duri[st->ndecl++] = xstrdup(uri);
	}
	buf_puts(&st->decls, prefix != NULL ? " xmlns:" : " xmlns");
	if (prefix != NULL)
		buf_puts(&st->decls, prefix);
	buf_puts(&st->decls, "='");
	if (uri != NULL)
		xml_escape(&st->decls, uri, strlen(uri));
	buf_puts(&st->decls, "'");
}

static void
xs_xmldecl(void *ud, const XML_Char *version, const XML_Char *encoding,
    int standalone)
{
	struct xstream	*st = ud;

	(void)version;
	(void)standalone;
	if (xs_halted(st))
		return;
	/* RFC 6120 11.6: UTF-8 only */
	if (encoding != NULL && strcasecmp(encoding, "UTF-8") != 0)
		xs_fail(st, SERR_UNSUPPORTED_ENCODING,
		    "XML declaration names encoding %s",
		    log_escs(encoding));
}

/* RFC 6120 11.1: no DTD, entity declarations, PIs or comments */
static void
xs_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	xs_fail(ud, SERR_RESTRICTED_XML, "DOCTYPE");
}

static void
xs_entitydecl(void *ud, const XML_Char *name, int is_param,
    const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	xs_fail(ud, SERR_RESTRICTED_XML, "entity declaration");
}

static void
xs_unparsed(void *ud, const XML_Char *name, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	xs_fail(ud, SERR_RESTRICTED_XML, "unparsed entity declaration");
}

static void
xs_notation(void *ud, const XML_Char *name, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid)
{
	(void)name;
	(void)base;
	(void)sysid;
	(void)pubid;
	xs_fail(ud, SERR_RESTRICTED_XML, "notation declaration");
}

static void
xs_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
	(void)target;
	(void)data;
	xs_fail(ud, SERR_RESTRICTED_XML, "processing instruction");
}

static void
xs_comment(void *ud, const XML_Char *data)
{
	(void)data;
	xs_fail(ud, SERR_RESTRICTED_XML, "comment");
}

/*
 * Handlers and salt: XML_ParserReset clears both. The salt is the
 * stream's for its life: expat would otherwise draw one (a getrandom
 * call) at every reset, that is at every stanza the router parses.
 */
static void
xs_setup(struct xstream *st)
{
	XML_Parser	p = st->p;

	while (st->salt == 0)
		random_bytes(&st->salt, sizeof(st->salt));
	XML_SetHashSalt(p, st->salt);
	XML_SetUserData(p, st);
	XML_SetElementHandler(p, xs_start, xs_end);
	XML_SetCharacterDataHandler(p, xs_chardata);
	XML_SetStartNamespaceDeclHandler(p, xs_nsdecl);
	XML_SetXmlDeclHandler(p, xs_xmldecl);
	XML_SetStartDoctypeDeclHandler(p, xs_doctype);
	XML_SetEntityDeclHandler(p, xs_entitydecl);
	XML_SetUnparsedEntityDeclHandler(p, xs_unparsed);
	XML_SetNotationDeclHandler(p, xs_notation);
	XML_SetProcessingInstructionHandler(p, xs_pi);
	XML_SetCommentHandler(p, xs_comment);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
	/*
	 * expat >= 2.6 may hold a completed stanza until more input comes;
	 * a stream is interactive. The reparse cost it saves is bounded
	 * here by the cap on bytes past the last complete item.
	 */
	XML_SetReparseDeferralEnabled(p, XML_FALSE);
#endif
}

struct xstream *
xstream_new(const struct xstream_cb *cb, void *ctx, size_t max_stanza)
{
	struct xstream	*st;

	assert(max_stanza > 0);
	st = xcalloc(1, sizeof(*st));
	st->cb = cb;
	st->ctx = ctx;
	st->max_stanza = max_stanza;
	arena_init(&st->arena);
	/* one text node decodes from at most one stanza's bytes */
	buf_init(&st->text, max_stanza);
	/* xstream_feed holds input only while it stays under its limit */
	buf_init(&st->hold, XS_HOLD_MAX(max_stanza));
	buf_init(&st->decls, XSTREAM_MAX_HEADER);
	if ((st->p = XML_ParserCreateNS("UTF-8", XS_SEP)) == NULL)
		fatalx("%s: XML_ParserCreateNS", __func__);
	xs_setup(st);
	return st;
}

void
xstream_free(struct xstream *st)
{
	if (st == NULL)
		return;
	assert(!st->in_parse);
	xs_discharge(st);
	if (st->p != NULL)
		XML_ParserFree(st->p);
	arena_free(&st->arena);
	buf_clear(&st->text);
	buf_clear(&st->hold);
	xs_free_decls(st);
	free(st);
}

static void
xs_reinit(struct xstream *st)
{
	if (st->p == NULL) {
		if ((st->p = XML_ParserCreateNS("UTF-8", XS_SEP)) == NULL)
			fatalx("%s: XML_ParserCreateNS", __func__);
	} else if (!XML_ParserReset(st->p, "UTF-8"))
		fatalx("%s: XML_ParserReset", __func__);
	xs_free_decls(st);
	st->waking = false;
	xs_setup(st);
	xs_clear_stanza(st);
	st->depth = st->nsdecls = 0;
	st->fed = st->mark = st->el_start = st->partial = 0;
	buf_reset(&st->hold);
	st->u8need = 0;
	st->opened = st->stopped = st->reset_pending = false;
	st->err = SERR_NONE;
	st->errtext[0] = '\0';
	memset(&st->redact, 0, sizeof(st->redact));
}

void
xstream_reset(struct xstream *st)
{
	/* expat cannot be reset from its own handler: finish the feed first */
	if (st->in_parse) {
		st->reset_pending = true;
		XML_StopParser(st->p, XML_FALSE);
		return;
	}
	xs_reinit(st);
}

void
xstream_stop(struct xstream *st)
{
	/*
	 * Not resumable: whatever followed in this read (RFC 6120 5.4.3.3:
	 * bytes after <starttls/>) must never be parsed in the new context.
	 */
	st->stopped = true;
	if (st->in_parse)
		XML_StopParser(st->p, XML_FALSE);
}

/*
 * Checks len bytes as UTF-8 (RFC 3629: no overlongs, surrogates or code
 * points past U+10FFFF), carrying a split sequence over to the next feed.
 * Returns len, or the offset of the first byte that cannot be valid.
 */
static size_t
xs_utf8(struct xstream *st, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0;
	unsigned		 need = st->u8need, c;
	unsigned		 lo = st->u8lo, hi = st->u8hi;
	uint64_t		 w;

	while (i < len) {
		c = p[i];
		if (need > 0) {
			if (c < lo || c > hi)
				break;
			need--;
			lo = 0x80;
			hi = 0xbf;
			i++;
			continue;
		}
		if (c < 0x80) {
			/*
			 * NUL is no XML character, and two bytes with a NUL
			 * at the start make expat switch to UTF-16 whatever
			 * encoding it was given: stop at one.
			 */
			if (c == 0)
				break;
			/* ASCII eight bytes at a time, none of them NUL */
			i++;
			while (len - i >= 8) {
				memcpy(&w, p + i, 8);
				if ((w & 0x8080808080808080ULL) ||
				    ((w - 0x0101010101010101ULL) & ~w &
				    0x8080808080808080ULL))
					break;
				i += 8;
			}
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0;	/* overlong */
			else if (c == 0xed)
				hi = 0x9f;	/* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90;	/* overlong */
			else if (c == 0xf4)
				hi = 0x8f;	/* past U+10FFFF */
		} else
			break;
		i++;
	}
	st->u8need = (uint8_t)need;
	st->u8lo = (uint8_t)lo;
	st->u8hi = (uint8_t)hi;
	return i;
}

static int
xs_expat_error(struct xstream *st)
{
	enum XML_Error	 code = XML_GetErrorCode(st->p);
	enum stream_err	 e;

	switch (code) {
	case XML_ERROR_UNBOUND_PREFIX:
		/* RFC 6120 4.9.3.2 */
		e = SERR_BAD_NAMESPACE_PREFIX;
		break;
	case XML_ERROR_INCORRECT_ENCODING:
	case XML_ERROR_UNKNOWN_ENCODING:
		e = SERR_UNSUPPORTED_ENCODING;
		break;
	case XML_ERROR_NO_MEMORY:
		e = SERR_RESOURCE_CONSTRAINT;
		break;
	default:
		e = SERR_NOT_WELL_FORMED;
		break;
	}
	return xs_fail(st, e, "expat: %s at byte %lld", XML_ErrorString(code),
	    (long long)XML_GetCurrentByteIndex(st->p));
}

static int
xs_feed(struct xstream *st, const char *data, size_t len)
{
	enum XML_Status	 rc;
	uint64_t	 limit;
	size_t		 n, ok;

	assert(!st->in_parse);
	if (st->err != SERR_NONE)
		return -1;
	if (st->stopped)
		return xs_fail(st, SERR_INTERNAL_SERVER_ERROR,
		    "input after xstream_stop without a reset");
	if (st->p == NULL && xs_wake(st) == -1)
		return -1;
	while (len > 0) {
		/*
		 * expat sees no more than the cap past the last complete
		 * item, so a token that never ends (a huge attribute value,
		 * endless text) fails before it can grow memory.
		 */
		limit = st->mark + (st->opened ?
		    xs_cap(st) + XSTREAM_SLACK : XSTREAM_MAX_HEADER);
		if (st->fed >= limit)
			return xs_fail(st, SERR_POLICY_VIOLATION, "%s larger "
			    "than %zu bytes", st->opened ? "stanza" :
			    "stream header", st->opened ? xs_cap(st) :
			    (size_t)XSTREAM_MAX_HEADER);
		n = len;
		if (n > limit - st->fed)
			n = (size_t)(limit - st->fed);
		if (n > XSTREAM_MAX_SLICE)
			n = XSTREAM_MAX_SLICE;
		ok = xs_utf8(st, data, n);
		if (ok > 0) {
			st->in_parse = true;
			rc = XML_Parse(st->p, data, (int)ok, XML_FALSE);
			st->in_parse = false;
			st->fed += ok;
			st->partial = st->fed -
			    (uint64_t)XML_GetCurrentByteIndex(st->p);
			if (st->reset_pending) {
				xs_reinit(st);
				return 0;
			}
			if (st->stopped)
				return 0;
			if (st->err != SERR_NONE)
				return -1;
			if (rc != XML_STATUS_OK)
				return xs_expat_error(st);
		}
		if (ok < n && data[ok] == '\0' && st->u8need == 0)
			return xs_fail(st, SERR_NOT_WELL_FORMED,
			    "NUL at byte %llu", (unsigned long long)st->fed);
		if (ok < n)
			return xs_fail(st, SERR_UNSUPPORTED_ENCODING,
			    "invalid UTF-8 at byte %llu",
			    (unsigned long long)st->fed);
		data += n;
		len -= n;
	}
	return 0;
}

/*
 * Hibernation: an idle stream between stanzas needs nothing of expat's
 * state (some 9 KiB per parser) but the namespaces its header declared.
 * The parser is freed; when input comes, a new one is fed a header with
 * the same declarations, silently, and parsing goes on.
 */
bool
xstream_hibernate(struct xstream *st)
{
	if (st->p == NULL)
		return true;
	if (!st->opened || st->depth != 0 || st->in_parse || st->partial > 0 ||
	    buf_avail(&st->hold) > 0 || st->u8need > 0 || xs_halted(st) ||
	    st->hdr_qname == NULL)
		return false;
	XML_ParserFree(st->p);
	st->p = NULL;
	xs_clear_stanza(st);
	buf_clear(&st->text);
	buf_clear(&st->hold);
	return true;
}

bool
xstream_hibernating(const struct xstream *st)
{
	return st->p == NULL;
}

uint64_t
xstream_elements(const struct xstream *st)
{
	return st->elements;
}

bool
xstream_between(const struct xstream *st)
{
	/* stopped: the rest of that input was discarded on purpose */
	if (st->p == NULL || !st->opened || st->stopped)
		return true;
	return st->depth == 0 && st->partial == 0 &&
	    buf_avail(&st->hold) == 0 && st->u8need == 0;
}

static int
xs_wake(struct xstream *st)
{
	struct buf	h;
	enum XML_Status	rc;

	if ((st->p = XML_ParserCreateNS("UTF-8", XS_SEP)) == NULL)
		fatalx("%s: XML_ParserCreateNS", __func__);
	xs_setup(st);
	/* the name and declarations both came from one header */
	buf_init(&h, 2 * XSTREAM_MAX_HEADER + 2);
	if (buf_puts(&h, "<") == -1 || buf_puts(&h, st->hdr_qname) == -1 ||
	    buf_append(&h, buf_rptr(&st->decls), buf_avail(&st->decls)) ==
	    -1 || buf_puts(&h, ">") == -1) {
		buf_clear(&h);
		return xs_fail(st, SERR_INTERNAL_SERVER_ERROR,
		    "cannot rebuild the stream header");
	}
	st->waking = true;
	st->in_parse = true;
	rc = XML_Parse(st->p, buf_rptr(&h), (int)buf_avail(&h), XML_FALSE);
	st->in_parse = false;
	st->fed = st->mark = buf_avail(&h);
	st->partial = 0;
	buf_clear(&h);
	if (rc != XML_STATUS_OK || st->waking) {
		st->waking = false;
		return xs_fail(st, SERR_INTERNAL_SERVER_ERROR,
		    "cannot rebuild the stream header");
	}
	return 0;
}

/*
 * expat 2.5 scans a partial token again from its start on every
 * XML_Parse, so a long start tag trickled in one byte per read would cost
 * time quadratic in its length. Such a token can only end at a '>': while
 * expat holds a long partial token, input without one is held back (and
 * counted against the size limit), then given to expat in one piece.
 */
int
xstream_feed(struct xstream *st, const char *data, size_t len)
{
	uint64_t	limit;
	int		rc;

	if (st->err != SERR_NONE || st->stopped || st->p == NULL)
		return xs_feed(st, data, len);
	limit = st->mark + (st->opened ? xs_cap(st) + XSTREAM_SLACK :
	    XSTREAM_MAX_HEADER);
	if (st->partial >= XS_DEFER_MIN && memchr(data, '>', len) == NULL &&
	    st->fed + buf_avail(&st->hold) + len < limit) {
		if (buf_append(&st->hold, data, len) == -1)
			return xs_fail(st, SERR_RESOURCE_CONSTRAINT, "hold");
		return xs_charge(st);
	}
	if (buf_avail(&st->hold) == 0) {
		if ((rc = xs_feed(st, data, len)) == 0)
			rc = xs_charge(st);
		return rc;
	}
	if (buf_append(&st->hold, data, len) == -1) {
		/* a large read: hand over what was held, then the read */
		if ((rc = xs_feed(st, buf_rptr(&st->hold),
		    buf_avail(&st->hold))) == 0)
			rc = xs_feed(st, data, len);
	} else
		rc = xs_feed(st, buf_rptr(&st->hold), buf_avail(&st->hold));
	if (st->hold.cap > XS_TEXT_KEEP)
		buf_clear(&st->hold);
	else
		buf_reset(&st->hold);
	if (rc == 0)
		rc = xs_charge(st);
	return rc;
}

void
xstream_preauth(struct xstream *st, const struct xstream_preauth *pa)
{
	st->preauth = pa;
	(void)xs_charge(st);
}

void
xstream_preauth_end(struct xstream *st)
{
	xs_discharge(st);
	st->preauth = NULL;
}

void
xstream_preauth_total(size_t max)
{
	xs_preauth_max = max;
}

const struct xstream_preauth *
xstream_preauth_policy(struct xstream_preauth *pa,
    const struct xstream_name *allowed, size_t max_stanza, size_t budget,
    size_t total)
{
	if (pa->allowed == NULL) {
		pa->allowed = allowed;
		/* RFC 6120 4.9.3.12: the rest is refused at its start tag */
		pa->refuse = SERR_NOT_AUTHORIZED;
		pa->max_stanza = max_stanza;
		pa->budget = budget;
		xstream_preauth_total(total);
	}
	return pa;
}

size_t
xstream_preauth_used(void)
{
	return xs_preauth_used;
}

const char *
xstream_trace_text(struct xstream *st, const char *data, size_t len)
{
	return log_esc_redacted(&st->redact, data, len);
}

uint64_t
xstream_ns_probes(const struct xstream *st)
{
	return st->ns_probes;
}

enum stream_err
xstream_error(const struct xstream *st)
{
	return st->err;
}

const char *
xstream_error_text(const struct xstream *st)
{
	if (st->err == SERR_NONE)
		return "";
	return st->errtext;
}

/* ---- one-shot parsing --------------------------------------------------- */

#define XPARSE_LEVELS	4

struct xparse_job {
	void	(*fn)(struct xnode *, struct arena *, void *);
	void	 *arg;
	int	  count;
};

struct xparse_level {
	struct xparse		*xp;
	struct xstream		*xs;
	struct xparse_job	*job;
};

struct xparse {
	char			*header;
	size_t			 max;
	int			 depth;
	bool			 peer;		/* xparse_peer() */
	struct xparse_level	 lv[XPARSE_LEVELS];
};

static void
xparse_open(void *ctx, const struct xnode *hdr, const char *ns)
{
	(void)ctx;
	(void)hdr;
	(void)ns;
}

static void
xparse_element(void *ctx, struct xnode *el, struct arena *a)
{
	struct xparse_level	*lv = ctx;

	if (lv->job->count++ == 0)
		lv->job->fn(el, a, lv->job->arg);
}

static void
xparse_close(void *ctx)
{
	(void)ctx;
}

static const struct xstream_cb xparse_cbs = {
	xparse_open, xparse_element, xparse_close
};

struct xparse *
xparse_new(const char *ns, size_t max_stanza)
{
	struct xparse	*xp;
	int		 i;

	xp = xcalloc(1, sizeof(*xp));
	xp->header = xasprintf("<stream:stream xmlns='%s' xmlns:stream='"
	    NS_STREAM "'>", ns);
	xp->max = max_stanza;
	for (i = 0; i < XPARSE_LEVELS; i++)
		xp->lv[i].xp = xp;
	return xp;
}

void
xparse_free(struct xparse *xp)
{
	int	i;

	if (xp == NULL)
		return;
	for (i = 0; i < XPARSE_LEVELS; i++)
		xstream_free(xp->lv[i].xs);
	free(xp->header);
	free(xp);
}

int
xparse_one(struct xparse *xp, const char *xml, size_t len,
    void (*fn)(struct xnode *, struct arena *, void *), void *arg)
{
	struct xparse_job	 job = { fn, arg, 0 };
	struct xparse_level	*lv;
	int			 rc = 0;

	if (xp->depth >= XPARSE_LEVELS) {
		log_warnx("%s: nested too deeply", __func__);
		return -1;
	}
	lv = &xp->lv[xp->depth];
	if (lv->xs == NULL)
		lv->xs = xstream_new(&xparse_cbs, lv, xp->max);
	xstream_reset(lv->xs);
	lv->job = &job;
	xp->depth++;
	if (xstream_feed(lv->xs, xp->header, strlen(xp->header)) == -1 ||
	    xstream_feed(lv->xs, xml, len) == -1 || job.count != 1) {
		if (xp->peer)
			log_debug("unparsable input from a peer: %s",
			    xstream_error_text(lv->xs));
		else
			log_warnx("an unparsable stanza inside the server: %s",
			    xstream_error_text(lv->xs));
		rc = -1;
	}
	xp->depth--;
	return rc;
}

void
xparse_peer(struct xparse *xp)
{
	xp->peer = true;
}

