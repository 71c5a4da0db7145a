/*
 * Unit tests for common/scram.c: SASLprep (RFC 4013 section 3 examples),
 * HMAC and hash vectors (RFC 2202, RFC 4231, FIPS 180), and the derived
 * keys of the RFC 5802 and RFC 7677 examples.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/base64.h"
#include "../../common/buf.h"
#include "../../common/scram.h"
#include "unit.h"

static void
unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t		i;
	unsigned	v;

	assert_int_equal(strlen(hex), len * 2);
	for (i = 0; i < len; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void
assert_hex(const uint8_t *got, const char *hex)
{
	uint8_t	want[64];
	size_t	len = strlen(hex) / 2;

	unhex(hex, want, len);
	assert_memory_equal(got, want, len);
}

/* decodes base64 into out; returns the length */
static size_t
unb64(const char *in, uint8_t *out, size_t max)
{
	struct buf	b;
	size_t		n;

	buf_init(&b, 0);
	assert_int_equal(base64_decode(&b, in, strlen(in)), 0);
	n = buf_avail(&b);
	assert_true(n <= max);
	memcpy(out, buf_rptr(&b), n);
	buf_clear(&b);
	return n;
}

static void
test_scram_hash_names(void **state)
{
	(void)state;
	assert_int_equal(scram_hash_len(SCRAM_SHA1), 20);
	assert_int_equal(scram_hash_len(SCRAM_SHA256), 32);
	assert_string_equal(scram_hash_name(SCRAM_SHA1), "SHA-1");
	assert_string_equal(scram_hash_name(SCRAM_SHA256), "SHA-256");
}

static void
test_scram_saslprep_rfc4013_examples(void **state)
{
	char	out[64];

	(void)state;
	/* RFC 4013 section 3 */
	assert_int_equal(scram_saslprep("I\xc2\xadX", out, sizeof(out)), 0);
	assert_string_equal(out, "IX");			/* soft hyphen */
	assert_int_equal(scram_saslprep("user", out, sizeof(out)), 0);
	assert_string_equal(out, "user");
	assert_int_equal(scram_saslprep("USER", out, sizeof(out)), 0);
	assert_string_equal(out, "USER");		/* no case folding */
	assert_int_equal(scram_saslprep("\xc2\xaa", out, sizeof(out)), 0);
	assert_string_equal(out, "a");			/* NFKC */
	assert_int_equal(scram_saslprep("\xe2\x85\xa8", out, sizeof(out)), 0);
	assert_string_equal(out, "IX");
	assert_int_equal(scram_saslprep("\x07", out, sizeof(out)), -1);
	assert_int_equal(scram_saslprep("\xd8\xa7" "1", out, sizeof(out)),
	    -1);					/* bidi */
	/* non-ASCII space maps to SPACE (RFC 4013 2.1) */
	assert_int_equal(scram_saslprep("a\xc2\xa0" "b", out, sizeof(out)),
	    0);
	assert_string_equal(out, "a b");
}

static void
test_scram_saslprep_rejects(void **state)
{
	char	out[8];

	(void)state;
	assert_int_equal(scram_saslprep("\xff\xfe", out, sizeof(out)), -1);
	assert_int_equal(scram_saslprep("a\xc3", out, sizeof(out)), -1);
	/* output must fit with its NUL */
	assert_int_equal(scram_saslprep("1234567", out, sizeof(out)), 0);
	assert_string_equal(out, "1234567");
	assert_int_equal(scram_saslprep("12345678", out, sizeof(out)), -1);
	/* U+0221 was unassigned in Unicode 3.2: fine in a query string */
	assert_int_equal(scram_saslprep("\xc8\xa1", out, sizeof(out)), 0);
	assert_string_equal(out, "\xc8\xa1");
}

static void
test_scram_hmac_and_hash_vectors(void **state)
{
	uint8_t	out[SCRAM_KEY_MAX];
	const char *what = "what do ya want for nothing?";

	(void)state;
	/* RFC 2202 test case 2, RFC 4231 test case 2 */
	scram_hmac(SCRAM_SHA1, "Jefe", 4, what, strlen(what), out);
	assert_hex(out, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	scram_hmac(SCRAM_SHA256, "Jefe", 4, what, strlen(what), out);
	assert_hex(out, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	scram_h(SCRAM_SHA1, "abc", 3, out);
	assert_hex(out, "a9993e364706816aba3e25717850c26c9cd0d89d");
	scram_h(SCRAM_SHA256, "abc", 3, out);
	assert_hex(out, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

/* RFC 5802 section 5 (SHA-1) and RFC 7677 section 3 (SHA-256) */
static const struct {
	int		 hash;
	const char	*salt;		/* base64 */
	size_t		 saltlen;
	const char	*salted, *stored_key, *server_key;
} rfc_keys[] = {
	{ SCRAM_SHA1, "QSXCR+Q6sek8bf92", 12,
	    "1d96ee3a529b5a5f9e47c01f229a2cb8a6e15f7d",
	    "e9d94660c39d65c38fbad91c358f14da0eef2bd6",
	    "0fe09258b3ac852ba502cc62ba903eaacdbf7d31" },
	{ SCRAM_SHA256, "W22ZaJ0SNY7soEsUEjb6gQ==", 16,
	    "c4a49510323ab4f952cac1fa99441939"
	    "e78ea74d6be81ddf7096e87513dc615d",
	    "586e5df283e6dceb5c3e791d8b8528ec"
	    "191e664045ce971792e2e6b5bb13e2a6",
	    "c1f3cbc1c13a9d35a14c0990eed97629"
	    "ea225863e566a4314ab99f3f00e5d9d5" },
};

static void
test_scram_rfc_keys(void **state)
{
	struct scram_cred	c;
	uint8_t			salt[SCRAM_SALT_MAX], salted[SCRAM_KEY_MAX];
	size_t			saltlen, i;

	(void)state;
	for (i = 0; i < sizeof(rfc_keys) / sizeof(rfc_keys[0]); i++) {
		saltlen = unb64(rfc_keys[i].salt, salt, sizeof(salt));
		assert_int_equal(saltlen, rfc_keys[i].saltlen);
		assert_int_equal(scram_salted_password(rfc_keys[i].hash,
		    "pencil", salt, saltlen, 4096, salted), 0);
		assert_hex(salted, rfc_keys[i].salted);
		scram_cred_from_salted(&c, rfc_keys[i].hash, salted, salt,
		    saltlen, 4096);
		assert_int_equal(c.iter, 4096);
		assert_int_equal(c.saltlen, saltlen);
		assert_memory_equal(c.salt, salt, saltlen);
		assert_hex(c.stored_key, rfc_keys[i].stored_key);
		assert_hex(c.server_key, rfc_keys[i].server_key);
	}
}

static void
test_scram_salted_password_normalizes(void **state)
{
	uint8_t	salt[4] = { 1, 2, 3, 4 }, a[SCRAM_KEY_MAX], b[SCRAM_KEY_MAX];

	(void)state;
	assert_int_equal(scram_salted_password(SCRAM_SHA256, "pen\xc2\xad"
	    "cil", salt, sizeof(salt), 2, a), 0);
	assert_int_equal(scram_salted_password(SCRAM_SHA256, "pencil", salt,
	    sizeof(salt), 2, b), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(scram_salted_password(SCRAM_SHA256, "pencil", salt,
	    sizeof(salt), 3, b), 0);
	assert_memory_not_equal(a, b, 32);
	/* prohibited, empty, bad parameters */
	assert_int_equal(scram_salted_password(SCRAM_SHA256, "pen\x07",
	    salt, sizeof(salt), 2, a), -1);
	assert_int_equal(scram_salted_password(SCRAM_SHA256, "", salt,
	    sizeof(salt), 2, a), -1);
	assert_int_equal(scram_salted_password(SCRAM_SHA256, "\xc2\xad",
	    salt, sizeof(salt), 2, a), -1);
	assert_int_equal(scram_salted_password(SCRAM_SHA256, "pencil", salt,
	    sizeof(salt), 0, a), -1);
	assert_int_equal(scram_salted_password(SCRAM_SHA256, "pencil", salt,
	    0, 2, a), -1);
	assert_int_equal(scram_salted_password(SCRAM_SHA256, "pencil", salt,
	    sizeof(salt), SCRAM_ITER_MAX + 1, a), -1);
}

static void
test_scram_creds_make(void **state)
{
	struct scram_creds	cs, cs2;
	struct scram_cred	c;
	uint8_t			salted[SCRAM_KEY_MAX];
	int			h;

	(void)state;
	assert_int_equal(scram_creds_make(&cs, "pencil", 8), 0);
	for (h = 0; h < SCRAM_NHASH; h++) {
		assert_int_equal(cs.h[h].iter, 8);
		assert_int_equal(cs.h[h].saltlen, SCRAM_SALT_LEN);
		/* the stored keys are those of the password */
		assert_int_equal(scram_salted_password(h, "pencil",
		    cs.h[h].salt, cs.h[h].saltlen, cs.h[h].iter, salted), 0);
		scram_cred_from_salted(&c, h, salted, cs.h[h].salt,
		    cs.h[h].saltlen, cs.h[h].iter);
		assert_memory_equal(&c, &cs.h[h], sizeof(c));
	}
	/* a salt per hash, and a new one per call */
	assert_memory_not_equal(cs.h[SCRAM_SHA1].salt,
	    cs.h[SCRAM_SHA256].salt, SCRAM_SALT_LEN);
	assert_int_equal(scram_creds_make(&cs2, "pencil", 8), 0);
	assert_memory_not_equal(cs.h[SCRAM_SHA256].salt,
	    cs2.h[SCRAM_SHA256].salt, SCRAM_SALT_LEN);
	assert_memory_not_equal(cs.h[SCRAM_SHA256].stored_key,
	    cs2.h[SCRAM_SHA256].stored_key, 32);
}

static void
test_scram_creds_make_default_and_errors(void **state)
{
	struct scram_creds	cs;

	(void)state;
	assert_int_equal(scram_creds_make(&cs, "pencil", 0), 0);
	assert_int_equal(cs.h[SCRAM_SHA1].iter, SCRAM_ITER_DEFAULT);
	assert_int_equal(cs.h[SCRAM_SHA256].iter, SCRAM_ITER_DEFAULT);
	assert_int_equal(scram_creds_make(&cs, "", 1), -1);
	assert_int_equal(cs.h[SCRAM_SHA256].iter, 0);
	assert_int_equal(scram_creds_make(&cs, "bad\x07", 1), -1);
	assert_int_equal(scram_creds_make(&cs, "pencil",
	    SCRAM_ITER_MAX + 1), -1);
	assert_int_equal(cs.h[SCRAM_SHA1].iter, 0);
	/* a stored string may not hold unassigned code points (RFC 4013) */
	assert_int_equal(scram_creds_make(&cs, "x\xc8\xa1", 1), -1);
}

UNIT_MAIN(
	cmocka_unit_test(test_scram_hash_names),
	cmocka_unit_test(test_scram_saslprep_rfc4013_examples),
	cmocka_unit_test(test_scram_saslprep_rejects),
	cmocka_unit_test(test_scram_hmac_and_hash_vectors),
	cmocka_unit_test(test_scram_rfc_keys),
	cmocka_unit_test(test_scram_salted_password_normalizes),
	cmocka_unit_test(test_scram_creds_make),
	cmocka_unit_test(test_scram_creds_make_default_and_errors),
)
