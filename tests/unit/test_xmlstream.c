/*
 * Unit tests for common/xmlstream.c: stream events, trees, round trips
 * through xnode_write, chunking independence, RFC 6120 11 restrictions,
 * UTF-8, limits (with bounded buffering), stop and reset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/arena.h"
#include "../../common/buf.h"
#include "../../common/xml.h"
#include "../../common/xmlstream.h"
#include "../../common/xmpp.h"
#include "unit.h"

#define HDR	"<?xml version='1.0'?>" \
		"<stream:stream xmlns='jabber:client' " \
		"xmlns:stream='http://etherx.jabber.org/streams' " \
		"to='example.com' version='1.0' xml:lang='en' id='abc'>"
#define MAXEL	64

struct rec {
	struct xstream	*st;
	struct buf	 log;
	struct arena	 keep;		/* copies of the elements */
	struct xnode	*els[MAXEL];
	int		 nels;
	int		 opens, closes;
	char		 dns[128];
	char		 hdr_ns[128], hdr_name[64], hdr_to[64];
	char		 hdr_lang[16], hdr_id[16];
	int		 hdr_nattrs;
	const char	*stop_at;	/* element name: xstream_stop */
	const char	*reset_at;	/* element name: xstream_reset */
};

static void
copystr(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s != NULL ? s : "(null)");
}

static void
rec_open(void *ctx, const struct xnode *hdr, const char *default_ns)
{
	struct rec		*r = ctx;
	const struct xattr	*at;

	r->opens++;
	copystr(r->dns, sizeof(r->dns), default_ns);
	copystr(r->hdr_ns, sizeof(r->hdr_ns), hdr->ns);
	copystr(r->hdr_name, sizeof(r->hdr_name), hdr->name);
	copystr(r->hdr_to, sizeof(r->hdr_to), xnode_attr(hdr, "to"));
	copystr(r->hdr_id, sizeof(r->hdr_id), xnode_attr(hdr, "id"));
	copystr(r->hdr_lang, sizeof(r->hdr_lang),
	    xnode_attr_ns(hdr, NS_XML, "lang"));
	r->hdr_nattrs = 0;
	buf_printf(&r->log, "open {%s}%s dns=%s", hdr->ns, hdr->name,
	    default_ns);
	for (at = hdr->attrs; at != NULL; at = at->next, r->hdr_nattrs++)
		buf_printf(&r->log, " {%s}%s=%s", at->ns ? at->ns : "",
		    at->name, at->value);
	buf_puts(&r->log, "\n");
}

static void
rec_element(void *ctx, struct xnode *el, struct arena *a)
{
	struct rec	*r = ctx;

	assert_non_null(a);
	buf_puts(&r->log, "el ");
	assert_int_equal(xnode_write(&r->log, el, r->dns), 0);
	buf_puts(&r->log, "\n");
	if (r->nels < MAXEL)
		r->els[r->nels++] = xnode_copy(&r->keep, el);
	if (r->stop_at != NULL && strcmp(el->name, r->stop_at) == 0)
		xstream_stop(r->st);
	if (r->reset_at != NULL && strcmp(el->name, r->reset_at) == 0)
		xstream_reset(r->st);
}

static void
rec_close(void *ctx)
{
	struct rec	*r = ctx;

	r->closes++;
	buf_puts(&r->log, "close\n");
}

static const struct xstream_cb rec_cb = {
	rec_open, rec_element, rec_close
};

static struct rec *
rec_new(size_t max_stanza)
{
	struct rec	*r;

	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	buf_init(&r->log, 0);
	arena_init(&r->keep);
	r->st = xstream_new(&rec_cb, r, max_stanza);
	return r;
}

static void
rec_free(struct rec *r)
{
	xstream_free(r->st);
	buf_clear(&r->log);
	arena_free(&r->keep);
	free(r);
}

static const char *
rec_log(struct rec *r)
{
	return buf_cstr(&r->log);
}

/* chunk 0: all at once; otherwise pieces of at most chunk bytes */
static int
feed(struct rec *r, const char *s, size_t len, size_t chunk)
{
	size_t	n;

	if (chunk == 0)
		return xstream_feed(r->st, s, len);
	while (len > 0) {
		n = len < chunk ? len : chunk;
		if (xstream_feed(r->st, s, n) == -1)
			return -1;
		s += n;
		len -= n;
	}
	return 0;
}

static int
feeds(struct rec *r, const char *s)
{
	return feed(r, s, strlen(s), 0);
}

static int
feed_random(struct rec *r, const char *s, size_t len, unsigned seed)
{
	size_t	n;

	srand(seed);
	while (len > 0) {
		n = 1 + (size_t)rand() % 40;
		if (n > len)
			n = len;
		if (xstream_feed(r->st, s, n) == -1)
			return -1;
		s += n;
		len -= n;
	}
	return 0;
}

/* parses HDR + s and expects one error */
static void
expect_error(const char *s, size_t len, enum stream_err want, size_t max)
{
	struct rec	*r;
	size_t		 chunks[] = { 0, 1, 3 };
	size_t		 i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		r = rec_new(max);
		assert_int_equal(feed(r, s, len, chunks[i]), -1);
		assert_int_equal(xstream_error(r->st), want);
		assert_true(strlen(xstream_error_text(r->st)) > 0);
		/* dead after an error */
		assert_int_equal(feeds(r, " "), -1);
		assert_int_equal(xstream_error(r->st), want);
		rec_free(r);
	}
}

static void
expect_error_s(const char *s, enum stream_err want)
{
	expect_error(s, strlen(s), want, 65536);
}

static bool
tree_equal(const struct xnode *a, const struct xnode *b)
{
	const struct xattr	*x;
	const struct xnode	*ca, *cb;
	int			 na = 0, nb = 0;
	const char		*v;

	if (a->type != b->type)
		return false;
	if (a->type == XNODE_TEXT)
		return a->len == b->len &&
		    memcmp(a->text, b->text, a->len) == 0;
	if (strcmp(a->ns, b->ns) != 0 || strcmp(a->name, b->name) != 0)
		return false;
	for (x = a->attrs; x != NULL; x = x->next, na++) {
		v = xnode_attr_ns(b, x->ns, x->name);
		if (v == NULL || strcmp(v, x->value) != 0)
			return false;
	}
	for (x = b->attrs; x != NULL; x = x->next)
		nb++;
	if (na != nb)
		return false;
	for (ca = a->children, cb = b->children; ca != NULL && cb != NULL;
	    ca = ca->next, cb = cb->next)
		if (!tree_equal(ca, cb))
			return false;
	return ca == NULL && cb == NULL;
}

static void
test_header_reported(void **state)
{
	struct rec	*r;

	(void)state;
	r = rec_new(65536);
	assert_int_equal(xstream_error(r->st), SERR_NONE);
	assert_string_equal(xstream_error_text(r->st), "");
	assert_int_equal(feeds(r, HDR), 0);
	assert_int_equal(r->opens, 1);
	assert_string_equal(r->hdr_ns, NS_STREAM);
	assert_string_equal(r->hdr_name, "stream");
	assert_string_equal(r->dns, NS_CLIENT);
	assert_string_equal(r->hdr_to, "example.com");
	assert_string_equal(r->hdr_id, "abc");
	assert_string_equal(r->hdr_lang, "en");
	/* to, version, xml:lang, id: declarations are not attributes */
	assert_int_equal(r->hdr_nattrs, 4);
	assert_int_equal(feeds(r, "</stream:stream>"), 0);
	assert_int_equal(r->closes, 1);
	rec_free(r);

	/* no default namespace declared */
	r = rec_new(65536);
	assert_int_equal(feeds(r, "<stream:stream xmlns:stream="
	    "'http://etherx.jabber.org/streams' to='x'>"), 0);
	assert_int_equal(r->opens, 1);
	assert_string_equal(r->dns, "");
	assert_string_equal(r->hdr_lang, "(null)");
	rec_free(r);

	/* wrong names are reported, not judged: the callback checks them */
	r = rec_new(65536);
	assert_int_equal(feeds(r, "<stream xmlns='jabber:client'>"), 0);
	assert_string_equal(r->hdr_ns, NS_CLIENT);
	assert_string_equal(r->hdr_name, "stream");
	assert_string_equal(r->dns, NS_CLIENT);
	rec_free(r);
}

static void
test_stanza_tree(void **state)
{
	struct rec	*r;
	struct xnode	*m, *body, *x, *y, *z;

	(void)state;
	r = rec_new(65536);
	assert_int_equal(feeds(r, HDR "<message to='a@b' xml:lang='fr'>"
	    "<body>hi &amp; <![CDATA[<bye>]]> &#x263A;</body>"
	    "<p:x xmlns:p='urn:p' p:a='1' b='2'><p:y/><z/></p:x>"
	    "</message>"), 0);
	assert_int_equal(r->nels, 1);
	m = r->els[0];
	assert_string_equal(m->ns, NS_CLIENT);
	assert_string_equal(m->name, "message");
	assert_string_equal(xnode_attr(m, "to"), "a@b");
	assert_string_equal(xnode_attr_ns(m, NS_XML, "lang"), "fr");
	body = xnode_child(m, NS_CLIENT, "body");
	assert_non_null(body);
	/* one text node however expat split it */
	assert_non_null(body->children);
	assert_null(body->children->next);
	assert_int_equal(body->children->type, XNODE_TEXT);
	assert_string_equal(body->children->text, "hi & <bye> \xe2\x98\xba");
	x = xnode_child(m, "urn:p", "x");
	assert_non_null(x);
	assert_string_equal(xnode_attr_ns(x, "urn:p", "a"), "1");
	assert_null(xnode_attr(x, "a"));
	assert_string_equal(xnode_attr(x, "b"), "2");
	y = xnode_child(x, "urn:p", "y");
	z = xnode_child(x, NS_CLIENT, "z");
	assert_non_null(y);
	assert_non_null(z);
	assert_ptr_equal(z->parent, x);
	rec_free(r);
}

/* checks the arena tree itself: copies do not keep its sharing */
static int	shared_children;
static size_t	shared_arena_used;

static void
shared_element(void *ctx, struct xnode *m, struct arena *a)
{
	struct xnode	*c;

	(void)ctx;
	shared_children = 0;
	shared_arena_used = a->used;
	for (c = m->children; c != NULL; c = c->next, shared_children++) {
		assert_ptr_equal(c->ns, m->children->ns);
		assert_ptr_equal(c->attrs->ns, m->children->ns);
	}
	assert_int_equal(strlen(m->children->ns), 904);
}

static void
test_namespace_uris_are_shared(void **state)
{
	static const struct xstream_cb	 cb = {
		NULL, shared_element, NULL
	};
	struct xstream			*st;
	struct buf			 in;
	int				 i;

	(void)state;
	/* a long URI behind a short prefix is stored once, not per use */
	buf_init(&in, 0);
	buf_puts(&in, HDR "<message xmlns:p='urn:");
	for (i = 0; i < 900; i++)
		buf_puts(&in, "x");
	buf_puts(&in, "'>");
	for (i = 0; i < 100; i++)
		buf_puts(&in, "<p:a p:b=''/>");
	buf_puts(&in, "</message>");
	st = xstream_new(&cb, NULL, 65536);
	assert_int_equal(xstream_feed(st, buf_rptr(&in), buf_avail(&in)), 0);
	assert_int_equal(shared_children, 100);
	/* 100 elements and attributes, not 200 copies of 904 bytes */
	assert_true(shared_arena_used < 100 * 300);
	xstream_free(st);
	buf_clear(&in);
}

static const char *const roundtrip[] = {
	"<message to='a@b' type='chat' id='m1'><body>Hello &amp; &lt;world"
	    "&gt; \"quoted\" 'single'</body></message>",
	"<iq type='get' id='r'><query xmlns='jabber:iq:roster'><item "
	    "jid='x@y' name='X &amp; Y &lt;&gt; &apos;&quot;'><group>Friends"
	    "</group></item></query></iq>",
	"<message><p:x xmlns:p='urn:p' p:a='1' b='2'><p:y/><z/></p:x>"
	    "</message>",
	"<message xml:lang='fr'><body xml:lang='en'>hi</body></message>",
	"<presence id='a&#9;b&#10;c&#13;d'><status>x\ty</status></presence>",
	"<presence id='a\tb\nc'/>",
	"<message><body>caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
	    "\xf0\x9d\x84\x9e &#x1F600; &#233;</body></message>",
	"<message><body><![CDATA[<not markup> & stuff]]></body></message>",
	"<message><x xmlns=''><y/></x></message>",
	"<iq><a xmlns='urn:a'><b xmlns='urn:b'><c/></b><d/></a><e/></iq>",
	"<message><body>line1&#13;&#10;line2\r\nline3\rline4</body>"
	    "</message>",
	"<message><body>a<b>b</b>c<i/>d</body></message>",
	"<message xmlns:a='urn:1' xmlns:b='urn:2' a:x='1' b:y='2' a:z='3'>"
	    "<c xmlns:a='urn:3' a:x='4'/></message>",
	"<message><body>]]&gt; a > b</body></message>",
	"<s:message xmlns:s='jabber:server' s:from='x'><s:body/>"
	    "</s:message>",
	"<message xmlns:ns1='urn:taken' ns1:a='1' xmlns:q='urn:other' "
	    "q:b='2'><ns1:e/></message>",
};

static void
test_roundtrip(void **state)
{
	struct rec	*r1, *r2;
	struct buf	 out, in;
	size_t		 i;
	const char	*again;

	(void)state;
	for (i = 0; i < sizeof(roundtrip) / sizeof(roundtrip[0]); i++) {
		r1 = rec_new(65536);
		r2 = rec_new(65536);
		assert_int_equal(feeds(r1, HDR), 0);
		assert_int_equal(feeds(r1, roundtrip[i]), 0);
		assert_int_equal(r1->nels, 1);

		buf_init(&out, 0);
		assert_int_equal(xnode_write(&out, r1->els[0], NS_CLIENT), 0);
		buf_init(&in, 0);
		buf_puts(&in, HDR);
		buf_append(&in, buf_rptr(&out), buf_avail(&out));
		assert_int_equal(feed(r2, buf_rptr(&in), buf_avail(&in), 0),
		    0);
		assert_int_equal(r2->nels, 1);
		if (!tree_equal(r1->els[0], r2->els[0]))
			fail_msg("round trip differs for %s: wrote %s",
			    roundtrip[i], buf_cstr(&out));
		/* and the serialization is a fixed point */
		buf_reset(&in);
		assert_int_equal(xnode_write(&in, r2->els[0], NS_CLIENT), 0);
		again = buf_cstr(&in);
		assert_string_equal(again, buf_cstr(&out));
		buf_clear(&out);
		buf_clear(&in);
		rec_free(r1);
		rec_free(r2);
	}
}

static void
test_chunking_gives_identical_results(void **state)
{
	struct rec	*r;
	struct buf	 in;
	char		*whole;
	size_t		 i, chunk;
	unsigned	 seed;

	(void)state;
	buf_init(&in, 0);
	buf_puts(&in, HDR " \n");
	for (i = 0; i < sizeof(roundtrip) / sizeof(roundtrip[0]); i++) {
		buf_puts(&in, roundtrip[i]);
		buf_puts(&in, i % 3 ? "\n" : "");
	}
	buf_puts(&in, "\t</stream:stream>");

	r = rec_new(65536);
	assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in), 0), 0);
	assert_int_equal(r->nels, (int)(sizeof(roundtrip) /
	    sizeof(roundtrip[0])));
	assert_int_equal(r->closes, 1);
	whole = strdup(rec_log(r));
	rec_free(r);

	for (chunk = 1; chunk <= 5; chunk++) {
		r = rec_new(65536);
		assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in),
		    chunk), 0);
		assert_string_equal(rec_log(r), whole);
		rec_free(r);
	}
	for (seed = 1; seed <= 20; seed++) {
		r = rec_new(65536);
		assert_int_equal(feed_random(r, buf_rptr(&in),
		    buf_avail(&in), seed), 0);
		assert_string_equal(rec_log(r), whole);
		rec_free(r);
	}
	free(whole);
	buf_clear(&in);
}

static void
test_restricted_xml(void **state)
{
	(void)state;
	/* billion laughs: refused at the DOCTYPE, before any expansion */
	expect_error_s("<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol "
	    "'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
	    "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
	    "<lolz>&lol3;</lolz>", SERR_RESTRICTED_XML);
	expect_error_s("<!DOCTYPE stream:stream>" HDR, SERR_RESTRICTED_XML);
	expect_error_s("<!DOCTYPE x SYSTEM 'http://example.com/x.dtd'>",
	    SERR_RESTRICTED_XML);
	expect_error_s(HDR "<?php echo 1; ?>", SERR_RESTRICTED_XML);
	expect_error_s(HDR "<message><?pi x?></message>", SERR_RESTRICTED_XML);
	expect_error_s("<?xml version='1.0'?><?style x?>" HDR,
	    SERR_RESTRICTED_XML);
	expect_error_s(HDR "<!-- hello -->", SERR_RESTRICTED_XML);
	expect_error_s(HDR "<message><body><!-- c --></body></message>",
	    SERR_RESTRICTED_XML);
	expect_error_s("<!-- before -->" HDR, SERR_RESTRICTED_XML);
	/* entities other than the predefined five need a DTD */
	expect_error_s(HDR "<message><body>&foo;</body></message>",
	    SERR_NOT_WELL_FORMED);
	expect_error_s(HDR "<message><body>&lt;&gt;&amp;&apos;&quot;&nbsp;"
	    "</body></message>", SERR_NOT_WELL_FORMED);
}

static void
test_restricted_stops_before_callbacks(void **state)
{
	struct rec	*r;

	(void)state;
	r = rec_new(65536);
	assert_int_equal(feeds(r, "<!DOCTYPE s [<!ENTITY e 'x'>]>" HDR
	    "<message/>"), -1);
	assert_int_equal(r->opens, 0);
	assert_int_equal(r->nels, 0);
	rec_free(r);

	/* a stanza before the offence is delivered, nothing after it */
	r = rec_new(65536);
	assert_int_equal(feeds(r, HDR "<a/><!-- x --><b/>"), -1);
	assert_int_equal(r->nels, 1);
	assert_string_equal(r->els[0]->name, "a");
	rec_free(r);
}

static void
test_deep_nesting(void **state)
{
	struct rec	*r;
	struct buf	 in;
	int		 i;

	(void)state;
	buf_init(&in, 0);
	buf_puts(&in, HDR);
	for (i = 0; i < 10000; i++)
		buf_puts(&in, "<a>");
	expect_error(buf_rptr(&in), buf_avail(&in), SERR_POLICY_VIOLATION,
	    1 << 20);
	buf_clear(&in);

	/* exactly the limit is fine, one more is not */
	for (i = XSTREAM_MAX_DEPTH; i <= XSTREAM_MAX_DEPTH + 1; i++) {
		int	j;

		buf_init(&in, 0);
		buf_puts(&in, HDR);
		for (j = 0; j < i; j++)
			buf_puts(&in, "<a>");
		for (j = 0; j < i; j++)
			buf_puts(&in, "</a>");
		r = rec_new(65536);
		if (i == XSTREAM_MAX_DEPTH) {
			assert_int_equal(feed(r, buf_rptr(&in),
			    buf_avail(&in), 0), 0);
			assert_int_equal(r->nels, 1);
		} else {
			assert_int_equal(feed(r, buf_rptr(&in),
			    buf_avail(&in), 0), -1);
			assert_int_equal(xstream_error(r->st),
			    SERR_POLICY_VIOLATION);
			assert_int_equal(r->nels, 0);
		}
		rec_free(r);
		buf_clear(&in);
	}
}

static void
attrs_stanza(struct buf *in, int nattrs, int ndecls)
{
	int	i;

	buf_reset(in);
	buf_puts(in, HDR "<message");
	for (i = 0; i < ndecls; i++)
		buf_printf(in, " xmlns:p%d='urn:%d'", i, i);
	for (i = 0; i < nattrs; i++)
		buf_printf(in, " a%d='%d'", i, i);
	buf_puts(in, "/>");
}

static void
test_attribute_limit(void **state)
{
	struct rec	*r;
	struct buf	 in;

	(void)state;
	buf_init(&in, 0);
	attrs_stanza(&in, XSTREAM_MAX_ATTRS, 0);
	r = rec_new(65536);
	assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in), 0), 0);
	assert_int_equal(r->nels, 1);
	rec_free(r);

	attrs_stanza(&in, XSTREAM_MAX_ATTRS + 1, 0);
	expect_error(buf_rptr(&in), buf_avail(&in), SERR_POLICY_VIOLATION,
	    65536);
	/* declarations count too */
	attrs_stanza(&in, XSTREAM_MAX_ATTRS - 2, 3);
	expect_error(buf_rptr(&in), buf_avail(&in), SERR_POLICY_VIOLATION,
	    65536);
	attrs_stanza(&in, XSTREAM_MAX_ATTRS - 3, 3);
	r = rec_new(65536);
	assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in), 0), 0);
	assert_int_equal(r->nels, 1);
	rec_free(r);
	buf_clear(&in);
}

static void
sized_stanza(struct buf *in, size_t size)
{
	const char	*pre = "<message><body>", *post = "</body></message>";
	size_t		 i, n = size - strlen(pre) - strlen(post);

	buf_reset(in);
	buf_puts(in, pre);
	for (i = 0; i < n; i++)
		buf_append(in, "x", 1);
	buf_puts(in, post);
	assert_int_equal(buf_avail(in), size);
}

static void
test_stanza_size_limit(void **state)
{
	struct rec	*r;
	struct buf	 in;
	size_t		 chunk;

	(void)state;
	buf_init(&in, 0);
	for (chunk = 0; chunk <= 7; chunk += 7) {
		r = rec_new(1000);
		assert_int_equal(feeds(r, HDR "\n"), 0);
		sized_stanza(&in, 1000);
		assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in),
		    chunk), 0);
		assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in),
		    chunk), 0);
		assert_int_equal(r->nels, 2);
		sized_stanza(&in, 1001);
		assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in),
		    chunk), -1);
		assert_int_equal(xstream_error(r->st), SERR_POLICY_VIOLATION);
		assert_int_equal(r->nels, 2);
		rec_free(r);
	}
	buf_clear(&in);
}

/*
 * A long start tag trickled in one byte per feed (held back from expat
 * until a '>' can end it) arrives whole and unchanged, and the stanzas
 * around it too.
 */
static void
test_long_tag_trickled(void **state)
{
	struct rec		*r;
	struct buf		 in;
	const char		*v;
	size_t			 i;

	(void)state;
	buf_init(&in, 0);
	buf_puts(&in, "<message id='1'/><message id='2' a='");
	for (i = 0; i < 60000; i++)
		buf_puts(&in, "x");
	buf_puts(&in, "'><body>hi</body></message><message id='3'/>");
	r = rec_new(100000);
	assert_int_equal(feeds(r, HDR), 0);
	assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in), 1), 0);
	assert_int_equal(r->nels, 3);
	v = xnode_attr(r->els[1], "a");
	assert_non_null(v);
	assert_int_equal(strlen(v), 60000);
	assert_string_equal(xnode_attr(r->els[2], "id"), "3");
	rec_free(r);

	/* the held bytes count against the limit all the same */
	r = rec_new(10000);
	assert_int_equal(feeds(r, HDR), 0);
	assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in), 1), -1);
	assert_int_equal(xstream_error(r->st), SERR_POLICY_VIOLATION);
	rec_free(r);
	buf_clear(&in);
}

/*
 * Input held back behind a long partial token has a cap (the stanza cap
 * plus the slack and the header): a read that would pass it is given to
 * the parser after what was held, not refused.
 */
static void
test_hold_cap_large_read(void **state)
{
	struct rec	*r;
	struct buf	 in;
	size_t		 i;

	(void)state;
	buf_init(&in, 0);
	buf_puts(&in, "<message id='1' a='");
	for (i = 0; i < 1500; i++)
		buf_puts(&in, "x");
	r = rec_new(3000);
	assert_int_equal(feeds(r, HDR), 0);
	assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in), 1), 0);
	buf_reset(&in);
	buf_puts(&in, "'/>");
	for (i = 0; i < 50; i++)
		buf_printf(&in, "<iq type='get' id='%zu'>%0200d</iq>", i, 0);
	assert_true(buf_avail(&in) > 3000 + 1024 + 4096);
	assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in), 0), 0);
	assert_int_equal(xstream_error(r->st), SERR_NONE);
	assert_int_equal(r->nels, 51);
	assert_int_equal(strlen(xnode_attr(r->els[0], "a")), 1500);
	assert_string_equal(xnode_attr(r->els[50], "id"), "49");
	rec_free(r);
	buf_clear(&in);
}

static void
test_many_small_stanzas_in_one_feed(void **state)
{
	struct rec	*r;
	struct buf	 in;
	int		 i;

	(void)state;
	/* one read far bigger than the cap, made of stanzas under it */
	buf_init(&in, 0);
	buf_puts(&in, HDR);
	for (i = 0; i < 2000; i++)
		buf_printf(&in, "<iq type='get' id='%d'/>\n", i);
	r = rec_new(100);
	assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in), 0), 0);
	assert_int_equal(xstream_error(r->st), SERR_NONE);
	assert_int_equal(r->nels, MAXEL);
	assert_string_equal(xnode_attr(r->els[MAXEL - 1], "id"), "63");
	rec_free(r);
	buf_clear(&in);
}

/*
 * Feeds prefix, then filler in 4 KiB pieces until the stream fails: the
 * failure must come once the cap is crossed, so nothing buffers more.
 */
static void
endless(const char *prefix, char fill, size_t max, size_t bound,
    bool opened)
{
	struct rec	*r;
	char		 piece[4096];
	size_t		 total = 0;

	memset(piece, fill, sizeof(piece));
	r = rec_new(max);
	assert_int_equal(feeds(r, prefix), 0);
	while (total < (size_t)100 << 20) {
		if (xstream_feed(r->st, piece, sizeof(piece)) == -1)
			break;
		total += sizeof(piece);
	}
	assert_int_equal(xstream_error(r->st), SERR_POLICY_VIOLATION);
	assert_true(total <= bound);
	assert_int_equal(r->opens, opened ? 1 : 0);
	assert_int_equal(r->nels, 0);
	rec_free(r);
}

static void
test_endless_tokens_fail_early(void **state)
{
	(void)state;
	endless(HDR "<message to='", 'a', 1000, 1000 + 1024, true);
	endless(HDR "<message><body>", 'a', 1000, 1000 + 1024, true);
	endless(HDR "<message", ' ', 1000, 1000 + 1024, true);
	endless(HDR "<message><bo", 'd', 1000, 1000 + 1024, true);
	endless(HDR "<message><body><![CDATA[", 'd', 8192, 8192 + 1024,
	    true);
	/* bigger cap, same rule */
	endless(HDR "<message to='", 'a', 65536, 65536 + 1024, true);
	/* the header has its own bound */
	endless("<stream:stream to='", 'a', 65536, 4096, false);
	endless("<?xml version='1.0'?>", ' ', 65536, 4096, false);
}

static void
test_whitespace_keepalives(void **state)
{
	struct rec	*r;
	char		 ws[4096];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(ws); i++)
		ws[i] = " \n\t\r"[i % 4];
	r = rec_new(1000);
	assert_int_equal(feeds(r, HDR), 0);
	/* far more whitespace than the cap, in small and large pieces */
	for (i = 0; i < 300; i++)
		assert_int_equal(xstream_feed(r->st, ws, i % 2 ? 1 : 4096), 0);
	for (i = 0; i < 2000; i++)
		assert_int_equal(xstream_feed(r->st, " ", 1), 0);
	assert_int_equal(feeds(r, "<presence/>"), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(xstream_feed(r->st, ws, sizeof(ws)), 0);
	assert_int_equal(feeds(r, "<presence/>"), 0);
	assert_int_equal(r->nels, 2);
	assert_int_equal(xstream_error(r->st), SERR_NONE);
	rec_free(r);

	expect_error_s(HDR "<a/>hello<b/>", SERR_BAD_FORMAT);
	expect_error_s(HDR "  x", SERR_BAD_FORMAT);
}

static void
test_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\xc0\x80",		/* overlong NUL */
		"\xc1\xbf",		/* overlong */
		"\xe0\x80\x80",		/* overlong */
		"\xe0\x9f\xbf",		/* overlong */
		"\xed\xa0\x80",		/* surrogate */
		"\xed\xbf\xbf",		/* surrogate */
		"\xf0\x80\x80\x80",	/* overlong */
		"\xf0\x8f\xbf\xbf",	/* overlong */
		"\xf4\x90\x80\x80",	/* past U+10FFFF */
		"\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80",
		"\x80",			/* lone continuation */
		"\xbf",
		"\xff",
		"\xfe",
		"\xc3" "a",		/* truncated */
		"\xe2\x82" "a",
		"\xf0\x9f\x98" "a",
	};
	char	 s[256];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), HDR "<message><body>x%sx</body>"
		    "</message>", bad[i]);
		expect_error(s, strlen(s), SERR_UNSUPPORTED_ENCODING, 65536);
	}
	/* UTF-16 byte order mark */
	expect_error("\xfe\xff\0<", 4, SERR_UNSUPPORTED_ENCODING, 65536);
	/* in an attribute and in the header */
	expect_error_s(HDR "<message to='\xed\xa0\x80'/>",
	    SERR_UNSUPPORTED_ENCODING);
	expect_error_s("<stream:stream to='\xc0\xaf'>",
	    SERR_UNSUPPORTED_ENCODING);
}

static void
test_utf8_split_across_feeds(void **state)
{
	struct rec	*r;

	(void)state;
	r = rec_new(65536);
	assert_int_equal(feeds(r, HDR "<message><body>\xf0\x9d"), 0);
	assert_int_equal(feeds(r, "\x84"), 0);
	assert_int_equal(feeds(r, "\x9e\xc3"), 0);
	assert_int_equal(feeds(r, "\xa9</body></message>"), 0);
	assert_int_equal(r->nels, 1);
	assert_string_equal(xnode_text(&r->keep,
	    xnode_child(r->els[0], NULL, "body")), "\xf0\x9d\x84\x9e\xc3\xa9");
	/* a sequence broken across feeds fails on the feed that breaks it */
	assert_int_equal(feeds(r, "<message><body>\xe2\x82"), 0);
	assert_int_equal(feeds(r, "\xe2"), -1);
	assert_int_equal(xstream_error(r->st), SERR_UNSUPPORTED_ENCODING);
	rec_free(r);

	/* what came before the bad byte in the same feed was delivered */
	r = rec_new(65536);
	assert_int_equal(feeds(r, HDR "<a/><b/>\xff<c/>"), -1);
	assert_int_equal(r->nels, 2);
	rec_free(r);
}

static void
test_forbidden_characters(void **state)
{
	(void)state;
	expect_error(HDR "<message><body>a\0b</body></message>",
	    sizeof(HDR "<message><body>a\0b</body></message>") - 1,
	    SERR_NOT_WELL_FORMED, 65536);
	expect_error_s(HDR "<message><body>a\x01" "b</body></message>",
	    SERR_NOT_WELL_FORMED);
	expect_error_s(HDR "<message><body>&#0;</body></message>",
	    SERR_NOT_WELL_FORMED);
	expect_error_s(HDR "<message><body>\xef\xbf\xbe</body></message>",
	    SERR_NOT_WELL_FORMED);
	expect_error_s(HDR "<message><body></message>", SERR_NOT_WELL_FORMED);
	expect_error_s(HDR "<message a='1' a='2'/>", SERR_NOT_WELL_FORMED);
	expect_error_s(HDR "<p:message/>", SERR_BAD_NAMESPACE_PREFIX);
}

static void
test_encoding_declaration(void **state)
{
	struct rec	*r;

	(void)state;
	expect_error_s("<?xml version='1.0' encoding='ISO-8859-1'?>"
	    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>",
	    SERR_UNSUPPORTED_ENCODING);
	expect_error_s("<?xml version='1.0' encoding='UTF-16'?><a>",
	    SERR_UNSUPPORTED_ENCODING);
	r = rec_new(65536);
	assert_int_equal(feeds(r, "<?xml version='1.0' encoding='utf-8'?>"
	    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"),
	    0);
	assert_int_equal(r->opens, 1);
	rec_free(r);
	/* a UTF-8 byte order mark is fine */
	r = rec_new(65536);
	assert_int_equal(feeds(r, "\xef\xbb\xbf" HDR), 0);
	assert_int_equal(r->opens, 1);
	rec_free(r);
}

/* after a reset, a whole new stream (header and all) carries on */
static void
check_second_stream(struct rec *r, const char *id)
{
	char	xml[sizeof(HDR) + 64];
	size_t	n = r->nels;

	snprintf(xml, sizeof(xml), "%s<iq id='%s'/>", HDR, id);
	assert_int_equal(feeds(r, xml), 0);
	assert_int_equal(r->opens, 2);
	assert_int_equal(r->nels, n + 1);
	assert_string_equal(xnode_attr(r->els[n], "id"), id);
}

static void
test_stop_discards_tail(void **state)
{
	struct rec	*r;

	(void)state;
	r = rec_new(65536);
	r->stop_at = "starttls";
	/* RFC 6120 5.4.3.3: nothing after <starttls/> may be processed */
	assert_int_equal(feeds(r, HDR "<presence/><starttls xmlns="
	    "'urn:ietf:params:xml:ns:xmpp-tls'/><iq type='set' id='evil'>"
	    "<query/></iq></stream:stream>"), 0);
	assert_int_equal(r->nels, 2);
	assert_string_equal(r->els[1]->name, "starttls");
	assert_int_equal(r->closes, 0);
	assert_null(strstr(rec_log(r), "evil"));
	/* no more input until the stream is reset */
	assert_int_equal(feeds(r, "<iq id='late'/>"), -1);
	assert_int_equal(r->nels, 2);

	xstream_reset(r->st);
	assert_int_equal(xstream_error(r->st), SERR_NONE);
	r->stop_at = NULL;
	check_second_stream(r, "after");
	rec_free(r);
}

static void
test_reset_from_callback(void **state)
{
	struct rec	*r;

	(void)state;
	r = rec_new(65536);
	r->reset_at = "auth";
	assert_int_equal(feeds(r, HDR "<auth xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-sasl'/><iq id='pipelined'/>"), 0);
	assert_int_equal(r->nels, 1);
	r->reset_at = NULL;
	/* the next bytes start a new stream: XML declaration and all */
	check_second_stream(r, "new");
	rec_free(r);
}

static void
test_reset_second_stream(void **state)
{
	struct rec	*r;
	struct buf	 in;
	int		 i;

	(void)state;
	r = rec_new(1000);
	/* fill most of the first stream's window, then fail it */
	assert_int_equal(feeds(r, HDR "<message><body>"), 0);
	for (i = 0; i < 90; i++)
		assert_int_equal(feeds(r, "0123456789"), 0);
	assert_int_equal(feeds(r, "</oops>"), -1);
	assert_int_equal(xstream_error(r->st), SERR_NOT_WELL_FORMED);

	/* a reset clears the error and all counters */
	xstream_reset(r->st);
	assert_int_equal(xstream_error(r->st), SERR_NONE);
	assert_string_equal(xstream_error_text(r->st), "");
	buf_init(&in, 0);
	sized_stanza(&in, 1000);
	assert_int_equal(feeds(r, "<stream:stream xmlns='jabber:server' "
	    "xmlns:stream='http://etherx.jabber.org/streams' from='s2'>"), 0);
	assert_string_equal(r->dns, NS_SERVER);
	assert_int_equal(feed(r, buf_rptr(&in), buf_avail(&in), 0), 0);
	assert_int_equal(r->opens, 2);
	assert_int_equal(r->nels, 1);
	assert_string_equal(r->els[0]->ns, NS_SERVER);
	assert_int_equal(feeds(r, "</stream:stream>"), 0);
	assert_int_equal(r->closes, 1);
	buf_clear(&in);
	rec_free(r);
}

/* ---- xparse: one-shot parsing, also from inside a callback ------------- */

struct nest {
	struct xparse	*xp;
	int		 depth;
	char		 names[4][16];
};

static void
nest_cb(struct xnode *el, struct arena *a, void *arg)
{
	struct nest	*n = arg;
	int		 d = n->depth++;

	(void)a;
	snprintf(n->names[d], sizeof(n->names[d]), "%s", el->name);
	/* a parse from within a parse: the outer tree must survive it */
	if (d == 0)
		assert_int_equal(xparse_one(n->xp, "<iq type='get' id='x'>"
		    "<ping xmlns='urn:xmpp:ping'/></iq>", 56, nest_cb, n), 0);
	assert_string_equal(xnode_attr(el, d == 0 ? "to" : "id"),
	    d == 0 ? "a@b" : "x");
}

static void
count_cb(struct xnode *el, struct arena *a, void *arg)
{
	(void)el;
	(void)a;
	(*(int *)arg)++;
}

static void
test_xparse_nested(void **state)
{
	struct nest	n;
	const char	*msg = "<message to='a@b'><body>hi</body></message>";
	int		 calls;

	(void)state;
	memset(&n, 0, sizeof(n));
	n.xp = xparse_new(NS_CLIENT, 4096);
	assert_int_equal(xparse_one(n.xp, msg, strlen(msg), nest_cb, &n), 0);
	assert_int_equal(n.depth, 2);
	assert_string_equal(n.names[0], "message");
	assert_string_equal(n.names[1], "iq");
	/* not one element: refused (the first one is seen) */
	calls = 0;
	assert_int_equal(xparse_one(n.xp, "<a/><b/>", 8, count_cb, &calls),
	    -1);
	assert_int_equal(xparse_one(n.xp, "<a>", 3, count_cb, &calls), -1);
	assert_int_equal(calls, 1);
	/* and reusable afterwards */
	n.depth = 1;
	assert_int_equal(xparse_one(n.xp, "<iq id='x'/>", 12, nest_cb, &n), 0);
	xparse_free(n.xp);
}

/* ---- hibernation: the parser freed between stanzas, rebuilt on input ---- */

/* the boundary a framing of whole elements checks (RFC 7395 3.3.3) */
static void
test_between_elements(void **state)
{
	struct rec	*r;

	(void)state;
	r = rec_new(65536);
	assert_true(xstream_between(r->st));	/* not opened yet */
	assert_int_equal(feeds(r, HDR), 0);
	assert_true(xstream_between(r->st));
	assert_int_equal(xstream_elements(r->st), 0);
	assert_int_equal(feeds(r, "<presence/>"), 0);
	assert_true(xstream_between(r->st));
	assert_int_equal(xstream_elements(r->st), 1);
	/* whitespace after an element, and alone, is a boundary */
	assert_int_equal(feeds(r, "<presence/>\n"), 0);
	assert_true(xstream_between(r->st));
	assert_int_equal(feeds(r, " \r\n\t"), 0);
	assert_true(xstream_between(r->st));
	assert_int_equal(xstream_elements(r->st), 2);
	/* inside an element, inside a start tag, inside a character */
	assert_int_equal(feeds(r, "<message><body>hi"), 0);
	assert_false(xstream_between(r->st));
	assert_int_equal(feeds(r, "</body></message>"), 0);
	assert_true(xstream_between(r->st));
	assert_int_equal(feeds(r, "<message to='a@b"), 0);
	assert_false(xstream_between(r->st));
	assert_int_equal(feeds(r, "'/>"), 0);
	assert_true(xstream_between(r->st));
	assert_int_equal(feeds(r, "<message><body>\xc3"), 0);
	assert_false(xstream_between(r->st));
	assert_int_equal(feeds(r, "\xa9</body></message>"), 0);
	assert_true(xstream_between(r->st));
	/* two in one feed count two */
	assert_int_equal(feeds(r, "<iq type='get' id='1'/><iq type='get' "
	    "id='2'/>"), 0);
	assert_int_equal(xstream_elements(r->st), 7);
	rec_free(r);
}

static void
test_hibernate(void **state)
{
	struct rec	*r;
	const char	*once, *twice;
	struct buf	 a;

	(void)state;
	/* the reference: one stream, never hibernated */
	r = rec_new(65536);
	assert_int_equal(feeds(r, HDR "<message to='a@b'><body>1</body>"
	    "</message><stream:error><x xmlns='urn:x'/></stream:error>"
	    "<iq type='get' id='2'/></stream:stream>"), 0);
	buf_init(&a, 0);
	buf_puts(&a, rec_log(r));
	once = buf_cstr(&a);
	rec_free(r);

	r = rec_new(65536);
	assert_false(xstream_hibernate(r->st));		/* not opened yet */
	assert_int_equal(feeds(r, HDR "<message to='a@b'><body>1</body>"), 0);
	assert_false(xstream_hibernate(r->st));		/* inside a stanza */
	assert_int_equal(feeds(r, "</message>"), 0);
	assert_true(xstream_hibernate(r->st));
	assert_true(xstream_hibernating(r->st));
	/* a prefix of the header, then the default namespace again */
	assert_int_equal(feeds(r, "<stream:error><x xmlns='urn:x'/>"
	    "</stream:error>"), 0);
	assert_false(xstream_hibernating(r->st));
	assert_true(xstream_hibernate(r->st));
	assert_int_equal(feeds(r, "<iq type='get' id='2'/></stream:stream>"),
	    0);
	twice = rec_log(r);
	/* the same events: nothing seen twice, nothing lost */
	assert_string_equal(once, twice);
	assert_int_equal(r->opens, 1);
	assert_int_equal(r->closes, 1);
	rec_free(r);

	/* limits hold after waking: an oversized stanza still fails */
	r = rec_new(100);
	assert_int_equal(feeds(r, HDR "<a/>"), 0);
	assert_true(xstream_hibernate(r->st));
	assert_int_equal(feeds(r, "<message><body>"
	    "0123456789012345678901234567890123456789012345678901234567890"
	    "0123456789012345678901234567890123456789</body></message>"), -1);
	assert_int_equal(xstream_error(r->st), SERR_POLICY_VIOLATION);
	rec_free(r);
	buf_clear(&a);
}

/*
 * URIs built from 'a' (0x61) and '!' (0x21), which agree in their low six
 * bits: under the old seeded FNV-1a they all fell into one of the 64
 * buckets whatever the seed, so each new one was compared with all before
 * it. Keyed, the table must stay near n*n/128 comparisons.
 */
static void
test_ns_table_resists_collisions(void **state)
{
	struct rec	*r;
	struct buf	 in;
	char		 uri[32];
	size_t		 n = 2048, i, b;

	(void)state;
	r = rec_new(1024 * 1024);
	buf_init(&in, 0);
	buf_puts(&in, HDR "<message>");
	for (i = 0; i < n; i++) {
		for (b = 0; b < 11; b++)
			uri[b] = (i >> b) & 1 ? 'a' : '!';
		uri[b] = '\0';
		buf_printf(&in, "<x xmlns='urn:x:%s'/>", uri);
	}
	buf_puts(&in, "</message>");
	assert_int_equal(xstream_feed(r->st, in.data, in.len), 0);
	assert_int_equal(r->nels, 1);
	assert_true(xstream_ns_probes(r->st) < n * n / 16);
	buf_clear(&in);
	rec_free(r);
}

static const struct xstream_name preauth_names[] = {
	{ "urn:ietf:params:xml:ns:xmpp-sasl", NULL },
	{ "jabber:client", "iq" },
	{ NULL, NULL }
};

/*
 * Before authentication: an element not in the list fails at its start
 * tag (its content never arrives here), stanzas are held to the smaller
 * cap, the tree to the budget, and all streams to the process total.
 */
static void
test_preauth_limits(void **state)
{
	struct xstream_preauth	 pa = {
		preauth_names, SERR_NOT_AUTHORIZED, 1000, 16 * 1024
	};
	struct rec		*r;
	struct buf		 in;
	int			 i;

	(void)state;
	r = rec_new(64 * 1024);
	xstream_preauth(r->st, &pa);
	assert_int_equal(feeds(r, HDR "<auth xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-sasl'>=</auth><iq type='get'/>"), 0);
	assert_int_equal(r->nels, 2);
	/* refused at the start tag: the element is never finished */
	assert_int_equal(xstream_feed(r->st, "<message><body>", 15), -1);
	assert_int_equal(xstream_error(r->st), SERR_NOT_AUTHORIZED);
	assert_int_equal(r->nels, 2);
	rec_free(r);

	/* the smaller cap, before authentication only */
	buf_init(&in, 0);
	buf_puts(&in, "<iq>");
	for (i = 0; i < 300; i++)
		buf_puts(&in, "xxxx");
	buf_puts(&in, "</iq>");
	r = rec_new(64 * 1024);
	xstream_preauth(r->st, &pa);
	assert_int_equal(xstream_feed(r->st, HDR, strlen(HDR)), 0);
	assert_int_equal(xstream_feed(r->st, in.data, in.len), -1);
	assert_int_equal(xstream_error(r->st), SERR_POLICY_VIOLATION);
	rec_free(r);
	r = rec_new(64 * 1024);
	xstream_preauth(r->st, &pa);
	assert_int_equal(xstream_feed(r->st, HDR, strlen(HDR)), 0);
	xstream_preauth_end(r->st);
	assert_int_equal(xstream_preauth_used(), 0);
	assert_int_equal(xstream_feed(r->st, in.data, in.len), 0);
	assert_int_equal(xstream_feed(r->st, "<message/>", 10), 0);
	assert_int_equal(r->nels, 2);
	rec_free(r);

	/* the tree of many small elements passes the budget first */
	pa.max_stanza = 64 * 1024;
	buf_reset(&in);
	buf_puts(&in, "<iq>");
	for (i = 0; i < 4000; i++)
		buf_puts(&in, "<a/>");
	r = rec_new(64 * 1024);
	xstream_preauth(r->st, &pa);
	assert_int_equal(xstream_feed(r->st, HDR, strlen(HDR)), 0);
	assert_int_equal(xstream_feed(r->st, in.data, in.len), -1);
	assert_int_equal(xstream_error(r->st), SERR_POLICY_VIOLATION);
	assert_non_null(strstr(xstream_error_text(r->st), "before auth"));
	rec_free(r);
	assert_int_equal(xstream_preauth_used(), 0);
	buf_clear(&in);
}

static void
test_preauth_total(void **state)
{
	struct xstream_preauth	 pa = {
		NULL, SERR_NOT_AUTHORIZED, 8 * 1024, 64 * 1024
	};
	struct rec		*r[4];
	char			 text[6000];
	int			 i;

	(void)state;
	memset(text, 'y', sizeof(text));
	xstream_preauth_total(16 * 1024);
	for (i = 0; i < 4; i++) {
		r[i] = rec_new(64 * 1024);
		xstream_preauth(r[i]->st, &pa);
		assert_int_equal(xstream_feed(r[i]->st, HDR "<iq>",
		    strlen(HDR) + 4), 0);
	}
	assert_int_equal(xstream_feed(r[0]->st, text, sizeof(text)), 0);
	assert_int_equal(xstream_feed(r[1]->st, text, sizeof(text)), 0);
	/* the third would pass the total */
	assert_int_equal(xstream_feed(r[2]->st, text, sizeof(text)), -1);
	assert_int_equal(xstream_error(r[2]->st), SERR_RESOURCE_CONSTRAINT);
	rec_free(r[0]);
	rec_free(r[2]);
	/* freed streams give their share back */
	assert_int_equal(xstream_feed(r[3]->st, text, sizeof(text)), 0);
	rec_free(r[1]);
	rec_free(r[3]);
	assert_int_equal(xstream_preauth_used(), 0);
	xstream_preauth_total(0);
}

UNIT_MAIN(
	cmocka_unit_test(test_header_reported),
	cmocka_unit_test(test_stanza_tree),
	cmocka_unit_test(test_namespace_uris_are_shared),
	cmocka_unit_test(test_roundtrip),
	cmocka_unit_test(test_chunking_gives_identical_results),
	cmocka_unit_test(test_restricted_xml),
	cmocka_unit_test(test_restricted_stops_before_callbacks),
	cmocka_unit_test(test_deep_nesting),
	cmocka_unit_test(test_attribute_limit),
	cmocka_unit_test(test_stanza_size_limit),
	cmocka_unit_test(test_long_tag_trickled),
	cmocka_unit_test(test_hold_cap_large_read),
	cmocka_unit_test(test_many_small_stanzas_in_one_feed),
	cmocka_unit_test(test_endless_tokens_fail_early),
	cmocka_unit_test(test_whitespace_keepalives),
	cmocka_unit_test(test_invalid_utf8),
	cmocka_unit_test(test_utf8_split_across_feeds),
	cmocka_unit_test(test_forbidden_characters),
	cmocka_unit_test(test_encoding_declaration),
	cmocka_unit_test(test_stop_discards_tail),
	cmocka_unit_test(test_reset_from_callback),
	cmocka_unit_test(test_reset_second_stream),
	cmocka_unit_test(test_xparse_nested),
	cmocka_unit_test(test_between_elements),
	cmocka_unit_test(test_hibernate),
	cmocka_unit_test(test_ns_table_resists_collisions),
	cmocka_unit_test(test_preauth_limits),
	cmocka_unit_test(test_preauth_total),
)
