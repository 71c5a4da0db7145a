/*
 * c2s/wsframe.c: the stream's output cut into RFC 7395 messages, and the
 * client's <open/> and <close/> read into a stream header and end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../c2s/websocket.h"

struct got {
	char	msgs[8][512];
	bool	close[8];
	int	n;
};

static int
collect(void *arg, const char *p, size_t n, bool close)
{
	struct got	*g = arg;

	assert_true(g->n < 8 && n < 512);
	memcpy(g->msgs[g->n], p, n);
	g->msgs[g->n][n] = '\0';
	g->close[g->n++] = close;
	return 0;
}

static void
feed_bytewise(struct ws_split *s, const char *p, struct got *g)
{
	size_t	i;

	for (i = 0; p[i] != '\0'; i++)
		assert_int_equal(ws_split_feed(s, p + i, 1, collect, g), 0);
}

static void
test_split_header_stanzas_close(void **state)
{
	struct ws_split	s;
	struct got	g;
	static const char out[] = "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
	    "streams' id='ab' from='localhost' version='1.0' xml:lang='en'>"
	    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'"
	    "/></stream:features><message to='a@b' id='x>y'><body>1 &lt; 2"
	    "</body></message><r xmlns='urn:xmpp:sm:3'/></stream:stream>";

	(void)state;
	memset(&g, 0, sizeof(g));
	ws_split_init(&s, 1 << 16);
	/* byte by byte: every boundary is a read boundary somewhere */
	feed_bytewise(&s, out, &g);
	assert_int_equal(g.n, 5);
	assert_string_equal(g.msgs[0], "<open xmlns='" NS_FRAMING "' id='ab' "
	    "from='localhost' version='1.0' xml:lang='en'/>");
	assert_string_equal(g.msgs[1], "<stream:features xmlns:stream='"
	    "http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:"
	    "xml:ns:xmpp-bind'/></stream:features>");
	/* a '>' quoted in an attribute does not end the tag */
	assert_string_equal(g.msgs[2], "<message xmlns='jabber:client' "
	    "to='a@b' id='x>y'><body>1 &lt; 2</body></message>");
	assert_string_equal(g.msgs[3], "<r xmlns='urn:xmpp:sm:3'/>");
	assert_string_equal(g.msgs[4], "<close xmlns='" NS_FRAMING "'/>");
	assert_true(g.close[4] && !g.close[3]);
	ws_split_clear(&s);
}

static void
test_split_cap(void **state)
{
	struct ws_split	s;
	struct got	g;
	char		big[300];

	(void)state;
	memset(&g, 0, sizeof(g));
	memset(big, 'a', sizeof(big));
	ws_split_init(&s, 256);
	assert_int_equal(ws_split_feed(&s, "<iq>", 4, collect, &g), 0);
	/* an element that never ends cannot grow past the cap */
	assert_int_equal(ws_split_feed(&s, big, sizeof(big), collect, &g),
	    -1);
	ws_split_clear(&s);
}

static int
translate(const char *s, struct buf *b)
{
	return ws_frame_translate(s, strlen(s), b);
}

static void
test_translate(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(translate("<open xmlns='" NS_FRAMING "' "
	    "to='example.org' version='1.0' xml:lang='de' x='y'/>", &b), 0);
	assert_string_equal(buf_cstr(&b), "<stream:stream xmlns='jabber:"
	    "client' xmlns:stream='http://etherx.jabber.org/streams' "
	    "to='example.org' version='1.0' xml:lang='de'>");
	buf_reset(&b);
	assert_int_equal(translate("<close xmlns='" NS_FRAMING "'/>", &b), 0);
	assert_string_equal(buf_cstr(&b), "</stream:stream>");
	buf_reset(&b);
	/* another namespace, not well-formed, two elements */
	assert_int_equal(translate("<open xmlns='jabber:client'/>", &b), -1);
	assert_int_equal(translate("<open xmlns='" NS_FRAMING "'", &b), -1);
	assert_int_equal(translate("<open xmlns='" NS_FRAMING "'/><x/>", &b),
	    -1);
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_split_header_stanzas_close),
		cmocka_unit_test(test_split_cap),
		cmocka_unit_test(test_translate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
