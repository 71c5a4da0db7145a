/*
 * Unit tests for common/xml.c (trees, serializer, escaping, stanza errors)
 * and the name tables of common/xmpp.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/arena.h"
#include "../../common/buf.h"
#include "../../common/xml.h"
#include "../../common/xmpp.h"
#include "unit.h"

struct fix {
	struct arena	a;
	struct buf	b;
};

static int
setup(void **state)
{
	static struct fix	f;

	arena_init(&f.a);
	buf_init(&f.b, 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix	*f = *state;

	arena_free(&f->a);
	buf_clear(&f->b);
	return 0;
}

static const char *
written(struct fix *f, const struct xnode *n, const char *parent_ns)
{
	buf_reset(&f->b);
	assert_int_equal(xnode_write(&f->b, n, parent_ns), 0);
	return buf_cstr(&f->b);
}

static void
test_xmpp_names(void **state)
{
	(void)state;
	assert_string_equal(stream_err_name(SERR_POLICY_VIOLATION),
	    "policy-violation");
	assert_string_equal(stream_err_name(SERR_UNSUPPORTED_VERSION),
	    "unsupported-version");
	assert_string_equal(stream_err_name(SERR_NONE), "");
	assert_string_equal(stanza_err_name(XERR_ITEM_NOT_FOUND),
	    "item-not-found");
	assert_string_equal(stanza_err_type(XERR_FORBIDDEN), "auth");
	assert_string_equal(stanza_err_type(XERR_UNEXPECTED_REQUEST), "wait");
	assert_string_equal(sasl_err_name(SASLERR_MALFORMED_REQUEST),
	    "malformed-request");
	/* codes may come from another process: no abort */
	assert_string_equal(stream_err_name((enum stream_err)999),
	    "undefined-condition");
	assert_string_equal(stanza_err_name((enum stanza_err)-1),
	    "undefined-condition");
	assert_string_equal(stanza_err_type(XERR_COUNT), "cancel");
	assert_string_equal(sasl_err_name(SASLERR_COUNT), "not-authorized");
}

static void
test_write_simple_message(void **state)
{
	struct fix	*f = *state;
	struct xnode	*m, *body;

	m = xnode_new(&f->a, NS_CLIENT, "message");
	xnode_set_attr(&f->a, m, "to", "juliet@example.com");
	xnode_set_attr(&f->a, m, "type", "chat");
	body = xnode_add(&f->a, m, NULL, "body");
	xnode_add_text(&f->a, body, "a<b & c>'\"", 10);
	assert_string_equal(body->ns, NS_CLIENT);
	assert_string_equal(written(f, m, NS_CLIENT),
	    "<message to='juliet@example.com' type='chat'>"
	    "<body>a&lt;b &amp; c&gt;'\"</body></message>");
	/* on a server stream the namespace must be declared */
	assert_string_equal(written(f, m, NS_SERVER),
	    "<message xmlns='jabber:client' to='juliet@example.com' "
	    "type='chat'><body>a&lt;b &amp; c&gt;'\"</body></message>");
}

static void
test_write_namespaces(void **state)
{
	struct fix	*f = *state;
	struct xnode	*iq, *q, *item, *none;

	iq = xnode_new(&f->a, NS_CLIENT, "iq");
	xnode_set_attr(&f->a, iq, "id", "1");
	q = xnode_add(&f->a, iq, "jabber:iq:roster", "query");
	item = xnode_add(&f->a, q, NULL, "item");
	xnode_set_attr(&f->a, item, "jid", "a@b");
	xnode_add(&f->a, iq, NS_PING, "ping");
	none = xnode_add(&f->a, iq, "", "bare");
	xnode_add(&f->a, none, NULL, "inner");
	assert_string_equal(written(f, iq, NS_CLIENT),
	    "<iq id='1'><query xmlns='jabber:iq:roster'><item jid='a@b'/>"
	    "</query><ping xmlns='urn:xmpp:ping'/>"
	    "<bare xmlns=''><inner/></bare></iq>");
	/* a subtree written on its own carries its namespace */
	assert_string_equal(written(f, item, NS_CLIENT),
	    "<item xmlns='jabber:iq:roster' jid='a@b'/>");
	assert_string_equal(written(f, none, ""), "<bare><inner/></bare>");
	assert_string_equal(written(f, none, NULL), "<bare><inner/></bare>");
}

static void
test_write_prefixed_attributes(void **state)
{
	struct fix	*f = *state;
	struct xnode	*m, *x;

	m = xnode_new(&f->a, NS_CLIENT, "message");
	xnode_set_attr_ns(&f->a, m, NS_XML, "lang", "en");
	xnode_set_attr_ns(&f->a, m, "urn:a", "one", "1");
	xnode_set_attr_ns(&f->a, m, "urn:b", "two", "2");
	xnode_set_attr_ns(&f->a, m, "urn:a", "three", "3");
	xnode_set_attr(&f->a, m, "plain", "p");
	x = xnode_add(&f->a, m, "urn:x", "x");
	xnode_set_attr_ns(&f->a, x, "urn:b", "b", "v");
	assert_string_equal(written(f, m, NS_CLIENT),
	    "<message xml:lang='en' xmlns:ns1='urn:a' ns1:one='1' "
	    "xmlns:ns2='urn:b' ns2:two='2' ns1:three='3' plain='p'>"
	    "<x xmlns='urn:x' xmlns:ns1='urn:b' ns1:b='v'/></message>");
	assert_string_equal(xnode_attr_ns(m, NS_XML, "lang"), "en");
	assert_null(xnode_attr(m, "lang"));
	assert_string_equal(xnode_attr_ns(m, "urn:a", "three"), "3");
	assert_string_equal(xnode_attr_ns(m, NULL, "plain"), "p");
	assert_string_equal(xnode_attr_ns(m, "", "plain"), "p");
}

static void
test_write_never_emits_own_declarations(void **state)
{
	struct fix	*f = *state;
	struct xnode	*n;

	/* an attribute posing as a declaration would corrupt the output */
	n = xnode_new(&f->a, "urn:real", "x");
	xnode_set_attr(&f->a, n, "xmlns", "urn:fake");
	xnode_set_attr_ns(&f->a, n, "http://www.w3.org/2000/xmlns/", "p",
	    "urn:fake");
	assert_string_equal(written(f, n, NS_CLIENT), "<x xmlns='urn:real'/>");
}

static void
test_escaping(void **state)
{
	struct fix	*f = *state;
	struct xnode	*n;
	const char	 raw[] = "a&b<c>d'e\"f\tg\nh\ri]]>";

	buf_reset(&f->b);
	assert_int_equal(xml_escape(&f->b, raw, sizeof(raw) - 1), 0);
	assert_string_equal(buf_cstr(&f->b),
	    "a&amp;b&lt;c&gt;d&apos;e&quot;f&#9;g&#10;h&#13;i]]&gt;");
	buf_reset(&f->b);
	assert_int_equal(xml_escape(&f->b, "plain", 5), 0);
	assert_int_equal(xml_escape(&f->b, "", 0), 0);
	assert_string_equal(buf_cstr(&f->b), "plain");

	/* text keeps tabs, newlines and quotes, escapes CR */
	n = xnode_new(&f->a, NS_CLIENT, "body");
	xnode_add_text(&f->a, n, raw, sizeof(raw) - 1);
	xnode_set_attr(&f->a, n, "v", raw);
	assert_string_equal(written(f, n, NS_CLIENT),
	    "<body v='a&amp;b&lt;c&gt;d&apos;e&quot;f&#9;g&#10;h&#13;i]]&gt;'>"
	    "a&amp;b&lt;c&gt;d'e\"f\tg\nh&#13;i]]&gt;</body>");
}

static void
test_attrs_set_replace_remove(void **state)
{
	struct fix	*f = *state;
	struct xnode	*n;

	n = xnode_new(&f->a, NS_CLIENT, "presence");
	assert_null(xnode_attr(n, "to"));
	xnode_set_attr(&f->a, n, "to", "a");
	xnode_set_attr(&f->a, n, "id", "x");
	xnode_set_attr(&f->a, n, "to", "b");
	assert_string_equal(xnode_attr(n, "to"), "b");
	assert_string_equal(written(f, n, NS_CLIENT),
	    "<presence to='b' id='x'/>");
	xnode_set_attr(&f->a, n, "to", NULL);
	assert_null(xnode_attr(n, "to"));
	xnode_set_attr(&f->a, n, "missing", NULL);
	assert_string_equal(written(f, n, NS_CLIENT), "<presence id='x'/>");
	/* qualified and unqualified attributes of one name are distinct */
	xnode_set_attr_ns(&f->a, n, "urn:q", "id", "q");
	assert_string_equal(xnode_attr(n, "id"), "x");
	assert_string_equal(xnode_attr_ns(n, "urn:q", "id"), "q");
	xnode_set_attr_ns(&f->a, n, "urn:q", "id", NULL);
	assert_null(xnode_attr_ns(n, "urn:q", "id"));
	assert_string_equal(xnode_attr(n, "id"), "x");
}

static void
test_children_and_text(void **state)
{
	struct fix	*f = *state;
	struct xnode	*m, *b1, *x, *b2, *s;

	m = xnode_new(&f->a, NS_CLIENT, "message");
	b1 = xnode_add(&f->a, m, NULL, "body");
	xnode_add_text(&f->a, m, "one ", 4);
	x = xnode_add(&f->a, m, "urn:x", "body");
	xnode_add_text(&f->a, m, "two", 3);
	xnode_add_text(&f->a, m, " three", 6);
	b2 = xnode_add(&f->a, m, NULL, "body");
	s = xnode_add(&f->a, m, NULL, "subject");

	assert_ptr_equal(xnode_child(m, NS_CLIENT, "body"), b1);
	assert_ptr_equal(xnode_child(m, "urn:x", NULL), x);
	assert_ptr_equal(xnode_child(m, NULL, "subject"), s);
	assert_ptr_equal(xnode_child(m, NULL, NULL), b1);
	assert_null(xnode_child(m, "urn:none", NULL));
	assert_ptr_equal(xnode_next(b1, NS_CLIENT, "body"), b2);
	assert_ptr_equal(xnode_next(b1, NULL, "body"), x);
	assert_null(xnode_next(b2, NS_CLIENT, "body"));
	assert_ptr_equal(m->last, s);
	assert_ptr_equal(s->parent, m);

	/* adjacent text merged into one node */
	assert_int_equal(x->next->type, XNODE_TEXT);
	assert_string_equal(x->next->text, "two three");
	assert_int_equal(x->next->len, 9);
	assert_string_equal(xnode_text(&f->a, m), "one two three");
	assert_string_equal(xnode_text(&f->a, x->next->next), "");
	xnode_add_text(&f->a, b1, "only", 4);
	assert_string_equal(xnode_text(&f->a, b1), "only");

	/* the one payload (RFC 6120 8.2.3): text does not count */
	assert_null(xnode_only_child(m));
	assert_null(xnode_only_child(s));
	assert_null(xnode_only_child(NULL));
	xnode_add_text(&f->a, s, "text ", 5);
	b2 = xnode_add(&f->a, s, "urn:x", "payload");
	xnode_add_text(&f->a, s, " more", 5);
	assert_ptr_equal(xnode_only_child(s), b2);
}

static void
test_copy_is_deep_and_independent(void **state)
{
	struct fix	*f = *state;
	struct arena	 other;
	struct xnode	*m, *c, *q;
	char		*orig;

	m = xnode_new(&f->a, NS_CLIENT, "message");
	xnode_set_attr(&f->a, m, "to", "x@y");
	xnode_set_attr_ns(&f->a, m, NS_XML, "lang", "de");
	xnode_add_text(&f->a, xnode_add(&f->a, m, NULL, "body"), "hi", 2);
	q = xnode_add(&f->a, m, "urn:q", "q");
	xnode_add(&f->a, xnode_add(&f->a, q, NULL, "r"), "", "s");
	xnode_add_text(&f->a, m, "tail", 4);
	orig = strdup(written(f, m, NS_CLIENT));

	arena_init(&other);
	c = xnode_copy(&other, m);
	assert_string_equal(written(f, c, NS_CLIENT), orig);
	assert_null(c->parent);
	assert_ptr_not_equal(c->children, m->children);
	xnode_set_attr(&other, c, "to", "changed");
	xnode_add_text(&other, c->children, "!", 1);
	assert_string_equal(written(f, m, NS_CLIENT), orig);

	/* a subtree copy stops at the subtree */
	c = xnode_copy(&other, q);
	assert_null(c->next);
	assert_string_equal(written(f, c, NS_CLIENT),
	    "<q xmlns='urn:q'><r><s xmlns=''/></r></q>");
	arena_free(&other);
	free(orig);
}

static void
test_write_cap_leaves_buffer_unchanged(void **state)
{
	struct fix	*f = *state;
	struct buf	 small;
	struct xnode	*m;
	size_t		 i;

	m = xnode_new(&f->a, NS_CLIENT, "message");
	for (i = 0; i < 20; i++)
		xnode_add_text(&f->a, xnode_add(&f->a, m, NULL, "b"),
		    "0123456789", 10);
	buf_init(&small, 100);
	assert_int_equal(buf_append(&small, "keep", 4), 0);
	assert_int_equal(xnode_write(&small, m, NS_CLIENT), -1);
	assert_int_equal(buf_avail(&small), 4);
	assert_memory_equal(buf_rptr(&small), "keep", 4);
	/* the same tree fits a bigger cap */
	buf_clear(&small);
	buf_init(&small, 1000);
	assert_int_equal(xnode_write(&small, m, NS_CLIENT), 0);
	assert_int_equal(buf_avail(&small), strlen("<message></message>") +
	    20 * strlen("<b>0123456789</b>"));
	buf_clear(&small);
}

static void
test_deep_tree_is_not_recursive(void **state)
{
	struct fix	*f = *state;
	struct xnode	*root, *n, *c;
	struct buf	 out;
	size_t		 i, depth = 200000;

	/* deeper than any stack frame per level would survive */
	root = n = xnode_new(&f->a, "urn:d", "d");
	for (i = 0; i < depth; i++)
		n = xnode_add(&f->a, n, NULL, "d");
	xnode_add_text(&f->a, n, "x", 1);
	buf_init(&out, 0);
	assert_int_equal(xnode_write(&out, root, "urn:d"), 0);
	assert_int_equal(buf_avail(&out), (depth + 1) * 7 + 1);
	c = xnode_copy(&f->a, root);
	for (i = 0; i < depth; i++)
		c = c->children;
	assert_string_equal(c->children->text, "x");
	buf_clear(&out);
}

static void
test_stanza_make_error(void **state)
{
	struct fix	*f = *state;
	struct xnode	*iq, *e;

	iq = xnode_new(&f->a, NS_CLIENT, "iq");
	xnode_set_attr(&f->a, iq, "from", "romeo@example.net/orchard");
	xnode_set_attr(&f->a, iq, "to", "example.net");
	xnode_set_attr(&f->a, iq, "type", "get");
	xnode_set_attr(&f->a, iq, "id", "q1");
	xnode_add(&f->a, iq, "urn:xmpp:nope", "query");
	assert_false(stanza_is_error(iq));
	stanza_make_error(&f->a, iq, XERR_SERVICE_UNAVAILABLE, NULL);
	assert_true(stanza_is_error(iq));
	assert_string_equal(xnode_attr(iq, "to"), "romeo@example.net/orchard");
	assert_string_equal(xnode_attr(iq, "from"), "example.net");
	assert_string_equal(xnode_attr(iq, "id"), "q1");
	e = xnode_child(iq, NS_CLIENT, "error");
	assert_non_null(e);
	assert_string_equal(xnode_attr(e, "type"), "cancel");
	assert_non_null(xnode_child(e, NS_STANZAS, "service-unavailable"));
	assert_string_equal(written(f, iq, NS_CLIENT),
	    "<iq from='example.net' to='romeo@example.net/orchard' "
	    "type='error' id='q1'><query xmlns='urn:xmpp:nope'/>"
	    "<error type='cancel'><service-unavailable "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
}

static void
test_stanza_make_error_without_from(void **state)
{
	struct fix	*f = *state;
	struct xnode	*m, *e, *t;

	m = xnode_new(&f->a, NS_SERVER, "message");
	xnode_set_attr(&f->a, m, "to", "juliet@example.com");
	stanza_make_error(&f->a, m, XERR_POLICY_VIOLATION, "too <big>");
	/* RFC 6120 8.3.1: no from, so no to */
	assert_null(xnode_attr(m, "to"));
	assert_string_equal(xnode_attr(m, "from"), "juliet@example.com");
	e = xnode_child(m, NS_SERVER, "error");
	assert_non_null(e);
	assert_string_equal(xnode_attr(e, "type"), "modify");
	assert_non_null(xnode_child(e, NS_STANZAS, "policy-violation"));
	t = xnode_child(e, NS_STANZAS, "text");
	assert_non_null(t);
	assert_string_equal(xnode_text(&f->a, t), "too <big>");
	assert_string_equal(written(f, m, NS_SERVER),
	    "<message from='juliet@example.com' type='error'>"
	    "<error type='modify'><policy-violation xmlns='urn:ietf:params:"
	    "xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-stanzas'>too &lt;big&gt;</text></error></message>");
}

/* a stream error is written whole; a text too large for the cap is not */
static void
test_stream_err_xml_whole(void **state)
{
	struct buf	 b;
	char		 text[200];
	const char	*tail = "</stream:error></stream:stream>";

	(void)state;
	buf_init(&b, 300);
	assert_int_equal(buf_puts(&b, "<x/>"), 0);
	assert_int_equal(stream_err_xml(&b, SERR_POLICY_VIOLATION, "a<b"), 0);
	assert_non_null(strstr(buf_cstr(&b), "'>a&lt;b</text>"));
	buf_reset(&b);
	/* escaped, the text would pass the cap: the condition alone */
	memset(text, '<', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(stream_err_xml(&b, SERR_POLICY_VIOLATION, text), 0);
	assert_null(strstr(buf_cstr(&b), "<text"));
	assert_non_null(strstr(buf_cstr(&b), "<policy-violation "));
	assert_string_equal(buf_cstr(&b) + buf_avail(&b) - strlen(tail), tail);
	buf_clear(&b);
	/* not even the condition: nothing */
	buf_init(&b, 40);
	assert_int_equal(buf_puts(&b, "<x/>"), 0);
	assert_int_equal(stream_err_xml(&b, SERR_POLICY_VIOLATION, NULL), -1);
	assert_string_equal(buf_cstr(&b), "<x/>");
	buf_clear(&b);
}

/* RFC 6120 4.9.3.19: see-other-host carries HOST:PORT, escaped */
static void
test_stream_err_xml_data(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 300);
	assert_int_equal(stream_err_xml_data(&b, SERR_SEE_OTHER_HOST,
	    "[2001:db8::2]:5222", "drained"), 0);
	assert_string_equal(buf_cstr(&b), "<stream:error><see-other-host "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>[2001:db8::2]:5222"
	    "</see-other-host><text xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-streams'>drained</text></stream:error></stream:stream>");
	buf_reset(&b);
	assert_int_equal(stream_err_xml_data(&b, SERR_SEE_OTHER_HOST, "a<b",
	    NULL), 0);
	assert_non_null(strstr(buf_cstr(&b), "'>a&lt;b</see-other-host>"));
	buf_clear(&b);
	/* the data does not fit: nothing, unlike a text */
	buf_init(&b, 60);
	assert_int_equal(stream_err_xml_data(&b, SERR_SEE_OTHER_HOST,
	    "xmpp2.example.org:5222", NULL), -1);
	assert_int_equal(buf_avail(&b), 0);
	buf_clear(&b);
}

UNIT_MAIN(
	cmocka_unit_test(test_stream_err_xml_whole),
	cmocka_unit_test(test_stream_err_xml_data),
	cmocka_unit_test(test_xmpp_names),
	cmocka_unit_test_setup_teardown(test_write_simple_message,
	    setup, teardown),
	cmocka_unit_test_setup_teardown(test_write_namespaces,
	    setup, teardown),
	cmocka_unit_test_setup_teardown(test_write_prefixed_attributes,
	    setup, teardown),
	cmocka_unit_test_setup_teardown(
	    test_write_never_emits_own_declarations, setup, teardown),
	cmocka_unit_test_setup_teardown(test_escaping,
	    setup, teardown),
	cmocka_unit_test_setup_teardown(test_attrs_set_replace_remove,
	    setup, teardown),
	cmocka_unit_test_setup_teardown(test_children_and_text,
	    setup, teardown),
	cmocka_unit_test_setup_teardown(
	    test_copy_is_deep_and_independent, setup, teardown),
	cmocka_unit_test_setup_teardown(
	    test_write_cap_leaves_buffer_unchanged, setup, teardown),
	cmocka_unit_test_setup_teardown(
	    test_deep_tree_is_not_recursive, setup, teardown),
	cmocka_unit_test_setup_teardown(test_stanza_make_error,
	    setup, teardown),
	cmocka_unit_test_setup_teardown(
	    test_stanza_make_error_without_from, setup, teardown),
)
