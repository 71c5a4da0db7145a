/*
 * Unit tests for common/credwire.c: the encoder writes the same bytes into
 * a frame on a link and into a plain buffer (as parleyctl builds its
 * frames), the decoder reads them back, and every field the decoder must
 * police (iterations, salt and key lengths, NULL strings, short and
 * trailing bytes) is refused.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/credwire.h"
#include "unit.h"

static void
creds_fill(struct scram_creds *c)
{
	int	h;
	size_t	i;

	memset(c, 0, sizeof(*c));
	for (h = 0; h < SCRAM_NHASH; h++) {
		c->h[h].iter = 4096 + (uint32_t)h;
		c->h[h].saltlen = (uint8_t)(SCRAM_SALT_LEN + h);
		for (i = 0; i < c->h[h].saltlen; i++)
			c->h[h].salt[i] = (uint8_t)(i + 1 + 50 * h);
		for (i = 0; i < scram_hash_len((enum scram_hash)h); i++) {
			c->h[h].stored_key[i] = (uint8_t)(3 * i + h);
			c->h[h].server_key[i] = (uint8_t)(5 * i + h);
		}
	}
}

/* cred_put into a plain buffer capped at max: the bytes, or 0 */
static size_t
encode(uint8_t *out, size_t max, const struct scram_creds *c)
{
	struct buf	b;
	struct link_out	m;
	size_t		n = 0;

	buf_init(&b, max);
	link_out_buf(&m, &b);
	cred_put(&m, c);
	if (!m.fail) {
		n = buf_avail(&b);
		memcpy(out, buf_rptr(&b), n);
	}
	buf_clear(&b);
	return n;
}

static int
decode(const uint8_t *p, size_t len, struct scram_creds *out)
{
	struct link_in	in;
	int		rc;

	link_in_init(&in, p, len);
	rc = cred_get(&in, out);
	if (rc == 0 && !link_in_done(&in))
		return -2;
	return rc;
}

static void
test_roundtrip(void **state)
{
	struct scram_creds	in, out;
	uint8_t			buf[CRED_WIRE_MAX];
	size_t			n;

	(void)state;
	creds_fill(&in);
	n = encode(buf, sizeof(buf), &in);
	/* per hash: u32 iter, then salt, stored and server key as str */
	assert_int_equal(n, 4 + 4 + 16 + 4 + 20 + 4 + 20 +
	    4 + 4 + 17 + 4 + 32 + 4 + 32);
	assert_int_equal(buf[3], 0x00);		/* 4096 = 0x00001000 */
	assert_int_equal(buf[2], 0x10);
	assert_int_equal(buf[7], 16);		/* SHA-1 salt length */
	assert_int_equal(decode(buf, n, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void
test_encode_too_small(void **state)
{
	struct scram_creds	c;
	uint8_t			buf[CRED_WIRE_MAX];
	size_t			n;

	(void)state;
	creds_fill(&c);
	n = encode(buf, sizeof(buf), &c);
	assert_int_equal(encode(buf, n - 1, &c), 0);
	assert_int_equal(encode(buf, n, &c), n);
}

static void
test_short_and_trailing(void **state)
{
	struct scram_creds	c, out;
	uint8_t			buf[CRED_WIRE_MAX + 1];
	size_t			n, cut;

	(void)state;
	creds_fill(&c);
	n = encode(buf, sizeof(buf), &c);
	for (cut = 0; cut < n; cut++)
		assert_int_equal(decode(buf, cut, &out), -1);
	buf[n] = 0;
	assert_int_equal(decode(buf, n + 1, &out), -2);
}

/* offsets into the SHA-1 part: iter 0, salt len 4, stored key len 24 */
static void
expect_refused(size_t off, uint32_t v)
{
	struct scram_creds	c, out;
	uint8_t			buf[CRED_WIRE_MAX];
	size_t			n;

	creds_fill(&c);
	n = encode(buf, sizeof(buf), &c);
	buf[off] = (uint8_t)(v >> 24);
	buf[off + 1] = (uint8_t)(v >> 16);
	buf[off + 2] = (uint8_t)(v >> 8);
	buf[off + 3] = (uint8_t)v;
	memset(&out, 0x55, sizeof(out));
	assert_int_equal(decode(buf, n, &out), -1);
	/* nothing half-decoded is left behind */
	assert_int_equal(out.h[SCRAM_SHA1].iter, 0);
	assert_int_equal(out.h[SCRAM_SHA1].saltlen, 0);
}

static void
test_bad_fields(void **state)
{
	(void)state;
	expect_refused(0, 0);				/* no iterations */
	expect_refused(0, SCRAM_ITER_MAX + 1);
	expect_refused(4, UINT32_MAX);			/* NULL salt */
	expect_refused(4, 0);				/* empty salt */
	expect_refused(4 + 4 + 16, 19);			/* short stored key */
	expect_refused(4 + 4 + 16, UINT32_MAX);		/* NULL stored key */
}

static void
test_salt_too_long(void **state)
{
	struct scram_creds	c, out;
	uint8_t			buf[CRED_WIRE_MAX + 8], *p;
	size_t			n;

	(void)state;
	creds_fill(&c);
	c.h[SCRAM_SHA1].saltlen = SCRAM_SALT_MAX;
	n = encode(buf, sizeof(buf), &c);
	assert_int_equal(decode(buf, n, &out), 0);
	/* one byte more than we keep: splice an extra salt byte in */
	p = buf + 8 + SCRAM_SALT_MAX;
	memmove(p + 1, p, n - (size_t)(p - buf));
	*p = 0xee;
	buf[7] = SCRAM_SALT_MAX + 1;
	assert_int_equal(decode(buf, n + 1, &out), -1);
}

/* an absent hash (iterations and salt 0) reads back; both absent do not */
static void
test_absent_hash(void **state)
{
	struct scram_creds	c, out;
	uint8_t			buf[CRED_WIRE_MAX];
	size_t			n;

	(void)state;
	creds_fill(&c);
	memset(&c.h[SCRAM_SHA256], 0, sizeof(c.h[SCRAM_SHA256]));
	n = encode(buf, sizeof(buf), &c);
	assert_int_equal(decode(buf, n, &out), 0);
	assert_memory_equal(&c, &out, sizeof(c));
	memset(&c.h[SCRAM_SHA1], 0, sizeof(c.h[SCRAM_SHA1]));
	n = encode(buf, sizeof(buf), &c);
	assert_int_equal(decode(buf, n, &out), -1);
}

static void
test_link_put_matches_encode(void **state)
{
	struct scram_creds	 c, out;
	struct link		*l;
	struct link_out		 m;
	uint8_t			 flat[CRED_WIRE_MAX];
	const uint8_t		*q;
	size_t			 n;
	int			 sv[2];

	(void)state;
	creds_fill(&c);
	n = encode(flat, sizeof(flat), &c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	l = link_new(EV_DEFAULT, sv[0], "test", 1 << 16, NULL, NULL, NULL);
	link_begin(&m, l, LINK_CTL_ADDUSER, 0);
	cred_put(&m, &c);
	assert_int_equal(link_end(&m), 0);
	assert_int_equal(buf_avail(&l->out), LINK_HDR_LEN + n);
	q = (const uint8_t *)buf_rptr(&l->out);
	assert_memory_equal(q + LINK_HDR_LEN, flat, n);
	assert_int_equal(decode(q + LINK_HDR_LEN, n, &out), 0);
	assert_memory_equal(&c, &out, sizeof(c));
	link_free(l);
	close(sv[1]);
}

UNIT_MAIN(
	cmocka_unit_test(test_roundtrip),
	cmocka_unit_test(test_encode_too_small),
	cmocka_unit_test(test_short_and_trailing),
	cmocka_unit_test(test_bad_fields),
	cmocka_unit_test(test_salt_too_long),
	cmocka_unit_test(test_link_put_matches_encode),
	cmocka_unit_test(test_absent_hash),
)
