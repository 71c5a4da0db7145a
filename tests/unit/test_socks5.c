/*
 * Unit tests for proxy/socks5.c: the XEP-0065 profile of the RFC 1928
 * handshake, byte by byte and at once, and each refusal with its reply.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/buf.h"
#include "../../proxy/socks5.h"
#include "unit.h"

#define HASH	"0123456789abcdef0123456789abcdef01234567"

/* the greeting and a CONNECT to HASH, as slixmpp sends them */
static size_t
handshake(unsigned char *p, unsigned char cmd, unsigned char atyp)
{
	size_t	n = 0;

	p[n++] = 5; p[n++] = 1; p[n++] = 0;
	p[n++] = 5; p[n++] = cmd; p[n++] = 0; p[n++] = atyp; p[n++] = 40;
	memcpy(p + n, HASH, 40);
	n += 40;
	p[n++] = 0; p[n++] = 0;
	return n;
}

static void
test_socks5_connect_at_once(void **state)
{
	struct socks5	s;
	struct buf	out;
	unsigned char	in[64];
	size_t		n;

	(void)state;
	n = handshake(in, 1, 3);
	memcpy(in + n, "data", 4);
	socks5_init(&s);
	buf_init(&out, 0);
	/* what follows the handshake is left to the caller */
	assert_int_equal(socks5_feed(&s, (char *)in, n + 4, &out), n);
	assert_int_equal(s.state, SOCKS5_DONE);
	assert_string_equal(s.hash, HASH);
	assert_int_equal(out.len, 2 + 7 + 40);
	assert_memory_equal(out.data, "\x05\x00\x05\x00\x00\x03\x28", 7);
	assert_memory_equal(out.data + 7, HASH, 40);
	assert_memory_equal(out.data + 47, "\x00\x00", 2);
	buf_clear(&out);
}

static void
test_socks5_byte_by_byte(void **state)
{
	struct socks5	s;
	struct buf	out, pending;
	unsigned char	in[64];
	size_t		n, i;
	ssize_t		used;

	(void)state;
	n = handshake(in, 1, 3);
	socks5_init(&s);
	buf_init(&out, 0);
	buf_init(&pending, 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(buf_append(&pending, in + i, 1), 0);
		used = socks5_feed(&s, buf_rptr(&pending),
		    buf_avail(&pending), &out);
		assert_true(used >= 0);
		buf_consume(&pending, (size_t)used);
		/* the method reply once the greeting is whole */
		if (i == 1)
			assert_int_equal(out.len, 0);
		if (i == 2)
			assert_int_equal(out.len, 2);
	}
	assert_int_equal(s.state, SOCKS5_DONE);
	assert_int_equal(buf_avail(&pending), 0);
	assert_int_equal(out.len, 49);
	buf_clear(&out);
	buf_clear(&pending);
}

/* rep: the start of the replies; a request's failure reply is 10 bytes */
static void
expect_fail(const unsigned char *in, size_t n, const char *rep,
    size_t replen)
{
	size_t		full = replen == 4 ? 2 + 10 : replen;
	struct socks5	s;
	struct buf	out;

	socks5_init(&s);
	buf_init(&out, 0);
	assert_int_equal(socks5_feed(&s, (const char *)in, n, &out), -1);
	assert_int_equal(s.state, SOCKS5_FAILED);
	assert_non_null(s.err);
	assert_int_equal(out.len, full);
	if (replen > 0)
		assert_memory_equal(out.data, rep, replen);
	/* failed stays failed */
	assert_int_equal(socks5_feed(&s, (const char *)in, n, &out), -1);
	buf_clear(&out);
}

static void
test_socks5_refusals(void **state)
{
	unsigned char	in[64];
	size_t		n;

	(void)state;
	/* RFC 1928 3: no acceptable method */
	expect_fail((const unsigned char *)"\x05\x01\x02", 3, "\x05\xff", 2);
	expect_fail((const unsigned char *)"\x05\x00", 2, "\x05\xff", 2);
	/* not version 5: no reply */
	expect_fail((const unsigned char *)"\x04\x01", 2, NULL, 0);
	/* RFC 1928 6: command not supported (BIND) */
	n = handshake(in, 2, 3);
	expect_fail(in, n, "\x05\x00\x05\x07", 4);
	/* address type not supported (IPv4) */
	n = handshake(in, 1, 1);
	expect_fail(in, n, "\x05\x00\x05\x08", 4);
	/* a domain that is no hash: general failure */
	n = handshake(in, 1, 3);
	in[10] = 'G';
	expect_fail(in, n, "\x05\x00\x05\x01", 4);
	/* a bad version in the request */
	n = handshake(in, 1, 3);
	in[3] = 4;
	expect_fail(in, n, "\x05\x00\x05\x01", 4);
}

static void
test_socks5_incomplete_waits(void **state)
{
	struct socks5	s;
	struct buf	out;
	unsigned char	in[64];
	size_t		n;

	(void)state;
	n = handshake(in, 1, 3);
	socks5_init(&s);
	buf_init(&out, 0);
	/* greeting used, the request one byte short: nothing more used */
	assert_int_equal(socks5_feed(&s, (char *)in, n - 1, &out), 3);
	assert_int_equal(s.state, SOCKS5_REQUEST);
	assert_int_equal(socks5_feed(&s, (char *)in + 3, n - 4, &out), 0);
	assert_int_equal(socks5_feed(&s, (char *)in + 3, n - 3, &out),
	    n - 3);
	assert_int_equal(s.state, SOCKS5_DONE);
	buf_clear(&out);
}

UNIT_MAIN(
	cmocka_unit_test(test_socks5_connect_at_once),
	cmocka_unit_test(test_socks5_byte_by_byte),
	cmocka_unit_test(test_socks5_refusals),
	cmocka_unit_test(test_socks5_incomplete_waits),
)
