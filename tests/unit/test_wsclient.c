/*
 * tests/bench/wsclient.c: the load generator's WebSocket framing against
 * the examples of RFC 6455 5.7 and 4.2.2, fed whole and byte by byte,
 * and the frames a server must not send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../bench/wsclient.h"

struct got {
	char	text[70000];
	size_t	len;
	int	ops[8];
	int	nmsg;		/* messages and control frames ended */
};

static int
collect(void *arg, int op, const char *p, size_t n, bool end)
{
	struct got	*g = arg;

	assert_true(g->len + n <= sizeof(g->text));
	memcpy(g->text + g->len, p, n);
	g->len += n;
	if (end) {
		assert_true(g->nmsg < 8);
		g->ops[g->nmsg++] = op;
	}
	return 0;
}

/* feeds s whole, then byte by byte: the same result both ways */
static void
feed_both(const uint8_t *s, size_t n, struct got *g)
{
	struct ws_rx	 r;
	struct got	 b;
	const char	*why;
	size_t		 i;

	memset(&r, 0, sizeof(r));
	memset(g, 0, sizeof(*g));
	assert_int_equal(ws_rx_feed(&r, (const char *)s, n, collect, g,
	    &why), 0);
	memset(&r, 0, sizeof(r));
	memset(&b, 0, sizeof(b));
	for (i = 0; i < n; i++)
		assert_int_equal(ws_rx_feed(&r, (const char *)s + i, 1,
		    collect, &b, &why), 0);
	assert_int_equal(b.len, g->len);
	assert_memory_equal(b.text, g->text, g->len);
	assert_int_equal(b.nmsg, g->nmsg);
	assert_memory_equal(b.ops, g->ops, sizeof(b.ops));
}

/* 5.7: a single-frame masked text message, the client's side */
static void
test_frame_masked_hello(void **state)
{
	static const uint8_t	key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	static const uint8_t	want[] = { 0x81, 0x85, 0x37, 0xfa, 0x21,
	    0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	struct obuf		b = { 0 };

	(void)state;
	ws_frame(&b, WS_TEXT, "Hello", 5, key);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	free(b.data);
}

/* 5.2: the 16- and 64-bit lengths, the payload masked after them */
static void
test_frame_lengths(void **state)
{
	static const uint8_t	key[4] = { 1, 2, 3, 4 };
	static char		p[70000];
	struct obuf		b = { 0 };
	size_t			i;

	(void)state;
	memset(p, 'x', sizeof(p));
	ws_frame(&b, WS_TEXT, p, 256, key);
	assert_int_equal(b.len, 4 + 4 + 256);
	assert_int_equal((uint8_t)b.data[1], 0x80 | 126);
	assert_int_equal((uint8_t)b.data[2], 1);
	assert_int_equal((uint8_t)b.data[3], 0);
	for (i = 0; i < 256; i++)
		assert_int_equal((uint8_t)b.data[8 + i], 'x' ^ key[i & 3]);
	b.len = 0;
	ws_frame(&b, WS_TEXT, p, 65536, key);
	assert_int_equal(b.len, 10 + 4 + 65536);
	assert_int_equal((uint8_t)b.data[1], 0x80 | 127);
	assert_int_equal((uint8_t)b.data[7], 1);	/* 0x10000 */
	assert_int_equal((uint8_t)b.data[8], 0);
	assert_int_equal((uint8_t)b.data[9], 0);
	free(b.data);
}

/* 5.7: unmasked text, fragmented text, a ping between, 256 bytes */
static void
test_rx_examples(void **state)
{
	static const uint8_t	hello[] = { 0x81, 0x05, 'H', 'e', 'l', 'l',
	    'o' };
	static const uint8_t	frag[] = { 0x01, 0x03, 'H', 'e', 'l',
	    0x89, 0x02, 'h', 'i', 0x80, 0x02, 'l', 'o' };
	static uint8_t		big[4 + 256];
	struct got		*g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	feed_both(hello, sizeof(hello), g);
	assert_int_equal(g->len, 5);
	assert_memory_equal(g->text, "Hello", 5);
	assert_int_equal(g->nmsg, 1);
	assert_int_equal(g->ops[0], WS_TEXT);

	/* a control frame may come between the fragments (5.4) */
	feed_both(frag, sizeof(frag), g);
	assert_int_equal(g->len, 7);
	assert_memory_equal(g->text, "Helhilo", 7);
	assert_int_equal(g->nmsg, 2);
	assert_int_equal(g->ops[0], WS_PING);
	assert_int_equal(g->ops[1], WS_TEXT);

	big[0] = 0x81;
	big[1] = 126;
	big[2] = 1;
	big[3] = 0;
	memset(big + 4, 'y', 256);
	feed_both(big, sizeof(big), g);
	assert_int_equal(g->len, 256);
	assert_int_equal(g->nmsg, 1);
	free(g);
}

static void
expect_bad(const uint8_t *s, size_t n)
{
	struct ws_rx	 r;
	struct got	*g = calloc(1, sizeof(*g));
	const char	*why = NULL;

	assert_non_null(g);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ws_rx_feed(&r, (const char *)s, n, collect, g,
	    &why), -1);
	assert_non_null(why);
	free(g);
}

/* 5.1, 5.2, 5.4, 5.5: what a server must not send */
static void
test_rx_bad(void **state)
{
	static const uint8_t	masked[] = { 0x81, 0x81, 0, 0, 0, 0, 'x' };
	static const uint8_t	rsv[] = { 0xc1, 0x01, 'x' };
	static const uint8_t	longping[] = { 0x89, 126, 0, 126 };
	static const uint8_t	fragping[] = { 0x09, 0x00 };
	static const uint8_t	cont[] = { 0x80, 0x01, 'x' };
	static const uint8_t	twice[] = { 0x01, 0x01, 'x', 0x01, 0x01,
	    'y' };
	static const uint8_t	opcode[] = { 0x83, 0x00 };
	static const uint8_t	huge[] = { 0x81, 127, 0x80, 0, 0, 0, 0, 0,
	    0, 0 };

	(void)state;
	expect_bad(masked, sizeof(masked));
	expect_bad(rsv, sizeof(rsv));
	expect_bad(longping, sizeof(longping));
	expect_bad(fragping, sizeof(fragping));
	expect_bad(cont, sizeof(cont));
	expect_bad(twice, sizeof(twice));
	expect_bad(opcode, sizeof(opcode));
	expect_bad(huge, sizeof(huge));
}

/* 4.2.2's example key and answer */
static void
test_accept(void **state)
{
	char	out[29];

	(void)state;
	ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_frame_masked_hello),
		cmocka_unit_test(test_frame_lengths),
		cmocka_unit_test(test_rx_examples),
		cmocka_unit_test(test_rx_bad),
		cmocka_unit_test(test_accept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
