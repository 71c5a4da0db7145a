/*
 * Unit tests for common/base64.c: RFC 4648 section 10 vectors, the strict
 * decoder's rejections, buffer caps and the SASL "=" convention.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/base64.h"
#include "../../common/buf.h"
#include "unit.h"

static const struct {
	const char	*plain;
	const char	*enc;
} vectors[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

/* each vector from one side (encoded if decode) to the other */
static void
check_vectors(bool decode)
{
	struct buf	b;
	const char	*in, *want;
	size_t		i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		in = decode ? vectors[i].enc : vectors[i].plain;
		want = decode ? vectors[i].plain : vectors[i].enc;
		buf_reset(&b);
		assert_int_equal(decode ? base64_decode(&b, in, strlen(in)) :
		    base64_encode(&b, in, strlen(in)), 0);
		assert_int_equal(buf_avail(&b), strlen(want));
		if (buf_avail(&b) > 0)
			assert_memory_equal(buf_rptr(&b), want, strlen(want));
	}
	buf_clear(&b);
}

static void
test_base64_encode_rfc4648(void **state)
{
	(void)state;
	check_vectors(false);
}

static void
test_base64_decode_rfc4648(void **state)
{
	(void)state;
	check_vectors(true);
}

static void
test_base64_roundtrip_all_bytes(void **state)
{
	struct buf	e, d;
	uint8_t		raw[256];
	size_t		i, len;

	(void)state;
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(255 - i);
	buf_init(&e, 0);
	buf_init(&d, 0);
	/* every length mod 3, and every byte value */
	for (len = 250; len <= 256; len++) {
		buf_reset(&e);
		buf_reset(&d);
		assert_int_equal(base64_encode(&e, raw, len), 0);
		assert_int_equal(buf_avail(&e), (len + 2) / 3 * 4);
		assert_int_equal(base64_decode(&d, buf_rptr(&e),
		    buf_avail(&e)), 0);
		assert_int_equal(buf_avail(&d), len);
		assert_memory_equal(buf_rptr(&d), raw, len);
	}
	buf_clear(&e);
	buf_clear(&d);
}

static void
test_base64_equals_alone_is_empty(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 0);
	/* RFC 6120 6.4.2: "=" is how an empty SASL response is written */
	assert_int_equal(base64_decode(&b, "=", 1), 0);
	assert_int_equal(buf_avail(&b), 0);
	assert_int_equal(base64_decode(&b, "", 0), 0);
	assert_int_equal(buf_avail(&b), 0);
	assert_int_equal(base64_decode(&b, "==", 2), -1);
	buf_clear(&b);
}

static void
test_base64_decode_rejects(void **state)
{
	static const char *const bad[] = {
		"Zg=",		/* not a multiple of 4 */
		"Zg",		/* padding required */
		"Zm9vY",
		"Zh==",		/* non-zero trailing bits */
		"Zm9=",
		"Zg==Zg==",	/* padding in the middle */
		"Z===",
		"====",
		"=Zm8",
		"Zm=8",
		"Zm9v\n",	/* RFC 6120 6.4.2: no whitespace */
		"Zm 9v",
		"Zm9v ",
		"\tZm9v",
		"Zm9v!AAA",
		"Zm9-",		/* base64url alphabet is not ours */
		"Zm9_",
		"Zm\x80v",
	};
	struct buf	b;
	size_t		i;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		if (base64_decode(&b, bad[i], strlen(bad[i])) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(buf_avail(&b), 0);
	}
	/* an embedded NUL is just another bad character */
	assert_int_equal(base64_decode(&b, "Zm\0v", 4), -1);
	buf_clear(&b);
}

static void
test_base64_appends_to_existing(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "v="), 0);
	assert_int_equal(base64_encode(&b, "foo", 3), 0);
	assert_string_equal(buf_cstr(&b), "v=Zm9v");
	assert_int_equal(base64_decode(&b, "YmFy", 4), 0);
	assert_string_equal(buf_cstr(&b), "v=Zm9vbar");
	/* a failed decode leaves what was there */
	assert_int_equal(base64_decode(&b, "YmF!", 4), -1);
	assert_string_equal(buf_cstr(&b), "v=Zm9vbar");
	buf_clear(&b);
}

static void
test_base64_respects_cap(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 4);
	assert_int_equal(base64_encode(&b, "foo", 3), 0);
	assert_int_equal(base64_encode(&b, "f", 1), -1);
	assert_int_equal(buf_avail(&b), 4);
	buf_reset(&b);
	assert_int_equal(base64_decode(&b, "Zm9vYmFy", 8), -1);
	assert_int_equal(buf_avail(&b), 0);
	assert_int_equal(base64_decode(&b, "Zm9vYg==", 8), 0);
	assert_memory_equal(buf_rptr(&b), "foob", 4);
	buf_clear(&b);
}

/* the decoded length from the encoding, for every vector */
static void
test_base64_decoded_len(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		assert_int_equal(base64_decoded_len(vectors[i].enc,
		    strlen(vectors[i].enc)), strlen(vectors[i].plain));
	assert_int_equal(base64_decoded_len("=", 1), 0);
	assert_int_equal(base64_decoded_len("Zm9vYmFyYmF6", 12), 9);
}

UNIT_MAIN(
	cmocka_unit_test(test_base64_decoded_len),
	cmocka_unit_test(test_base64_encode_rfc4648),
	cmocka_unit_test(test_base64_decode_rfc4648),
	cmocka_unit_test(test_base64_roundtrip_all_bytes),
	cmocka_unit_test(test_base64_equals_alone_is_empty),
	cmocka_unit_test(test_base64_decode_rejects),
	cmocka_unit_test(test_base64_appends_to_existing),
	cmocka_unit_test(test_base64_respects_cap),
)
