/*
 * Unit tests for c2s/sasl.c: the RFC 5802 and RFC 7677 exchanges byte for
 * byte, a full exchange with a random nonce, wrong passwords, unknown
 * users, every class of malformed SCRAM message, and PLAIN.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../c2s/sasl.h"
#include "../../common/base64.h"
#include "../../common/buf.h"
#include "../../common/scram.h"

#define RFC5802_CFIRST	"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
#define RFC5802_SNONCE	"3rfcNHYJY1ZVvWVs7j"
#define RFC5802_NONCE	"fyko+d2lbbFgONRv9qkxdawL" RFC5802_SNONCE
#define RFC5802_SFIRST	"r=" RFC5802_NONCE ",s=QSXCR+Q6sek8bf92,i=4096"
#define RFC5802_CFINAL	"c=biws,r=" RFC5802_NONCE \
			",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
#define RFC5802_SFINAL	"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="

#define RFC7677_CFIRST	"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC7677_SNONCE	"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC7677_NONCE	"rOprNGfwEbeRWgbNEkqO" RFC7677_SNONCE
#define RFC7677_SFIRST	"r=" RFC7677_NONCE \
			",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC7677_CFINAL	"c=biws,r=" RFC7677_NONCE \
			",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC7677_SFINAL	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* the RFC accounts: "pencil" under both RFCs' salts */
static struct scram_creds	rfc_creds;
/* "pencil" with fresh salts, few iterations */
static struct scram_creds	pencil_creds;

static void
cred_set(struct scram_cred *c, enum scram_hash h, const char *password,
    const char *salt64, uint32_t iter)
{
	struct buf	b;
	uint8_t		salted[SCRAM_KEY_MAX];

	buf_init(&b, 0);
	assert_int_equal(base64_decode(&b, salt64, strlen(salt64)), 0);
	assert_int_equal(scram_salted_password(h, password,
	    (const uint8_t *)buf_rptr(&b), buf_avail(&b), iter, salted), 0);
	scram_cred_from_salted(c, h, salted, (const uint8_t *)buf_rptr(&b),
	    buf_avail(&b), iter);
	buf_clear(&b);
}

static int
setup_creds(void **state)
{
	(void)state;
	cred_set(&rfc_creds.h[SCRAM_SHA1], SCRAM_SHA1, "pencil",
	    "QSXCR+Q6sek8bf92", 4096);
	cred_set(&rfc_creds.h[SCRAM_SHA256], SCRAM_SHA256, "pencil",
	    "W22ZaJ0SNY7soEsUEjb6gQ==", 4096);
	if (scram_creds_make(&pencil_creds, "pencil", 16) == -1)
		return -1;
	return 0;
}

static enum sasl_rc
step(struct sasl *s, const char *msg, struct buf *out)
{
	buf_reset(out);
	return sasl_step(s, msg, strlen(msg), out);
}

static const char *
str(struct buf *b)
{
	const char	*p = buf_cstr(b);

	assert_non_null(p);
	return p;
}

/* runs client-first up to our server-first with the RFC nonce */
static struct sasl *
scram_begin(enum sasl_mech m, const char *cfirst, const char *snonce,
    const struct scram_creds *creds, struct buf *out)
{
	struct sasl	*s;

	s = sasl_new(m);
	sasl_test_set_nonce(s, snonce);
	assert_int_equal(step(s, cfirst, out), SASL_NEED_CREDS);
	buf_reset(out);
	assert_int_equal(sasl_set_creds(s, creds, out), SASL_CHALLENGE);
	return s;
}

static void
test_sasl_mech_names(void **state)
{
	(void)state;
	assert_string_equal(sasl_mech_name(SASL_SCRAM_SHA256),
	    "SCRAM-SHA-256");
	assert_string_equal(sasl_mech_name(SASL_SCRAM_SHA1), "SCRAM-SHA-1");
	assert_string_equal(sasl_mech_name(SASL_PLAIN), "PLAIN");
	assert_int_equal(sasl_mech_lookup("SCRAM-SHA-256"), SASL_SCRAM_SHA256);
	assert_int_equal(sasl_mech_lookup("SCRAM-SHA-1"), SASL_SCRAM_SHA1);
	assert_int_equal(sasl_mech_lookup("PLAIN"), SASL_PLAIN);
	assert_int_equal(sasl_mech_lookup("SCRAM-SHA-1-PLUS"),
	    SASL_SCRAM_SHA1_PLUS);
	assert_int_equal(sasl_mech_lookup("SCRAM-SHA-256-PLUS"),
	    SASL_SCRAM_SHA256_PLUS);
	assert_int_equal(sasl_mech_lookup("SCRAM-SHA-512-PLUS"), -1);
	assert_true(sasl_mech_plus(SASL_SCRAM_SHA1_PLUS));
	assert_false(sasl_mech_plus(SASL_SCRAM_SHA256));
	assert_string_equal(sasl_cb_name(SASL_CB_EXPORTER), "tls-exporter");
	assert_string_equal(sasl_cb_name(SASL_CB_ENDPOINT),
	    "tls-server-end-point");
	assert_int_equal(sasl_mech_lookup("plain"), -1);
	assert_int_equal(sasl_mech_lookup(""), -1);
}

static void
test_sasl_scram_sha1_rfc5802(void **state)
{
	struct sasl	*s;
	struct buf	 out;

	(void)state;
	buf_init(&out, 0);
	s = sasl_new(SASL_SCRAM_SHA1);
	sasl_test_set_nonce(s, RFC5802_SNONCE);
	assert_int_equal(step(s, RFC5802_CFIRST, &out), SASL_NEED_CREDS);
	assert_string_equal(sasl_username(s), "user");
	assert_null(sasl_authzid(s));
	buf_reset(&out);
	assert_int_equal(sasl_set_creds(s, &rfc_creds, &out), SASL_CHALLENGE);
	assert_string_equal(str(&out), RFC5802_SFIRST);
	assert_int_equal(step(s, RFC5802_CFINAL, &out), SASL_SUCCESS);
	assert_string_equal(str(&out), RFC5802_SFINAL);
	assert_int_equal(sasl_error(s), SASLERR_NONE);
	/* nothing comes after success */
	assert_int_equal(step(s, RFC5802_CFINAL, &out), SASL_FAILURE);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_sha256_rfc7677(void **state)
{
	struct sasl	*s;
	struct buf	 out;

	(void)state;
	buf_init(&out, 0);
	s = sasl_new(SASL_SCRAM_SHA256);
	sasl_test_set_nonce(s, RFC7677_SNONCE);
	assert_int_equal(step(s, RFC7677_CFIRST, &out), SASL_NEED_CREDS);
	assert_string_equal(sasl_username(s), "user");
	buf_reset(&out);
	assert_int_equal(sasl_set_creds(s, &rfc_creds, &out), SASL_CHALLENGE);
	assert_string_equal(str(&out), RFC7677_SFIRST);
	assert_int_equal(step(s, RFC7677_CFINAL, &out), SASL_SUCCESS);
	assert_string_equal(str(&out), RFC7677_SFINAL);
	sasl_free(s);
	buf_clear(&out);
}

/*
 * A client written from RFC 5802 section 3, to run a whole exchange
 * against the random server nonce. Returns the client-final-message and
 * the expected server signature in sfinal.
 */
static void
client_final(enum scram_hash h, const char *password, const char *gs2,
    const char *cfirst_bare, const char *sfirst, char *cfinal,
    size_t cfsize, char *sfinal, size_t sfsize)
{
	struct buf		 b, salt;
	struct scram_cred	 c;
	const char		*r, *sp, *ip;
	char			 nonce[512], without[1024], *am;
	uint8_t			 salted[SCRAM_KEY_MAX], ck[SCRAM_KEY_MAX];
	uint8_t			 sig[SCRAM_KEY_MAX];
	size_t			 hl = scram_hash_len(h), i;
	unsigned long		 iter;
	int			 n;

	assert_true(strncmp(sfirst, "r=", 2) == 0);
	r = sfirst + 2;
	assert_non_null(sp = strstr(r, ",s="));
	assert_non_null(ip = strstr(sp, ",i="));
	assert_true((size_t)(sp - r) < sizeof(nonce));
	memcpy(nonce, r, (size_t)(sp - r));
	nonce[sp - r] = '\0';
	buf_init(&salt, 0);
	assert_int_equal(base64_decode(&salt, sp + 3, (size_t)(ip - sp - 3)),
	    0);
	iter = strtoul(ip + 3, NULL, 10);
	assert_int_equal(scram_salted_password(h, password,
	    (const uint8_t *)buf_rptr(&salt), buf_avail(&salt),
	    (uint32_t)iter, salted), 0);
	scram_cred_from_salted(&c, h, salted,
	    (const uint8_t *)buf_rptr(&salt), buf_avail(&salt),
	    (uint32_t)iter);
	scram_hmac(h, salted, hl, "Client Key", 10, ck);
	buf_clear(&salt);

	buf_init(&b, 0);
	assert_int_equal(base64_encode(&b, gs2, strlen(gs2)), 0);
	n = snprintf(without, sizeof(without), "c=%s,r=%s", str(&b), nonce);
	assert_true(n > 0 && (size_t)n < sizeof(without));
	n = snprintf(NULL, 0, "%s,%s,%s", cfirst_bare, sfirst, without);
	am = test_malloc((size_t)n + 1);
	snprintf(am, (size_t)n + 1, "%s,%s,%s", cfirst_bare, sfirst, without);
	scram_hmac(h, c.stored_key, hl, am, strlen(am), sig);
	for (i = 0; i < hl; i++)
		ck[i] ^= sig[i];
	buf_reset(&b);
	assert_int_equal(base64_encode(&b, ck, hl), 0);
	n = snprintf(cfinal, cfsize, "%s,p=%s", without, str(&b));
	assert_true(n > 0 && (size_t)n < cfsize);
	scram_hmac(h, c.server_key, hl, am, strlen(am), sig);
	buf_reset(&b);
	assert_int_equal(base64_encode(&b, sig, hl), 0);
	n = snprintf(sfinal, sfsize, "v=%s", str(&b));
	assert_true(n > 0 && (size_t)n < sfsize);
	test_free(am);
	buf_clear(&b);
}

static void
test_sasl_scram_random_nonce_full_exchange(void **state)
{
	struct sasl	*s;
	struct buf	 out;
	char		 cfinal[1024], sfinal[256], first[512];
	const char	*sf;
	int		 m;

	(void)state;
	buf_init(&out, 0);
	for (m = SASL_SCRAM_SHA256; m <= SASL_SCRAM_SHA1; m++) {
		s = sasl_new(m);
		assert_int_equal(step(s, "y,,n=user,r=abcdef", &out),
		    SASL_NEED_CREDS);
		buf_reset(&out);
		assert_int_equal(sasl_set_creds(s, &pencil_creds, &out),
		    SASL_CHALLENGE);
		sf = str(&out);
		/* client nonce, then 24 random bytes in base64 */
		assert_true(strncmp(sf, "r=abcdef", 8) == 0);
		assert_int_equal(strcspn(sf + 8, ","), 32);
		assert_true(strstr(sf, ",i=16") != NULL);
		snprintf(first, sizeof(first), "%s", sf);
		client_final(m == SASL_SCRAM_SHA1 ? SCRAM_SHA1 : SCRAM_SHA256,
		    "pencil", "y,,", "n=user,r=abcdef", first, cfinal,
		    sizeof(cfinal), sfinal, sizeof(sfinal));
		assert_int_equal(step(s, cfinal, &out), SASL_SUCCESS);
		assert_string_equal(str(&out), sfinal);
		sasl_free(s);
	}
	/* two exchanges never share a server nonce */
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, "n,,n=user,r=abcdef", &out),
	    SASL_NEED_CREDS);
	buf_reset(&out);
	assert_int_equal(sasl_set_creds(s, &pencil_creds, &out),
	    SASL_CHALLENGE);
	assert_string_not_equal(str(&out), first);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_wrong_password(void **state)
{
	struct scram_creds	 other;
	struct sasl		*s;
	struct buf		 out;

	(void)state;
	buf_init(&out, 0);
	memset(&other, 0, sizeof(other));
	cred_set(&other.h[SCRAM_SHA1], SCRAM_SHA1, "pencil2",
	    "QSXCR+Q6sek8bf92", 4096);
	s = scram_begin(SASL_SCRAM_SHA1, RFC5802_CFIRST, RFC5802_SNONCE,
	    &other, &out);
	/* same salt and count: the challenge alone does not tell */
	assert_string_equal(str(&out), RFC5802_SFIRST);
	assert_int_equal(step(s, RFC5802_CFINAL, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	assert_int_equal(buf_avail(&out), 0);
	/* a retry on the same object fails and keeps the first error */
	assert_int_equal(step(s, "x", &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_unknown_user(void **state)
{
	struct sasl	*s;
	struct buf	 out;
	char		 first[256], cfinal[512], sfinal[128];
	const char	*salt;

	(void)state;
	buf_init(&out, 0);
	s = scram_begin(SASL_SCRAM_SHA1, RFC5802_CFIRST, RFC5802_SNONCE,
	    NULL, &out);
	snprintf(first, sizeof(first), "%s", str(&out));
	/* looks like a real account: 16-byte salt, default count */
	assert_true(strncmp(first, "r=" RFC5802_NONCE ",s=", 5 +
	    strlen(RFC5802_NONCE)) == 0);
	salt = first + 5 + strlen(RFC5802_NONCE);
	assert_int_equal(strcspn(salt, ","), 24);
	assert_string_equal(salt + 24, ",i=4096");
	assert_int_equal(step(s, RFC5802_CFINAL, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);

	/* the same name gets the same salt again */
	s = scram_begin(SASL_SCRAM_SHA1, RFC5802_CFIRST, RFC5802_SNONCE,
	    NULL, &out);
	assert_string_equal(str(&out), first);
	sasl_free(s);
	/* another name, or another hash, gets another */
	s = scram_begin(SASL_SCRAM_SHA1, "n,,n=usex,r=fyko+d2lbbFgONRv9qkxdawL",
	    RFC5802_SNONCE, NULL, &out);
	assert_string_not_equal(str(&out), first);
	sasl_free(s);
	s = scram_begin(SASL_SCRAM_SHA256, RFC5802_CFIRST, RFC5802_SNONCE,
	    NULL, &out);
	assert_string_not_equal(str(&out), first);
	sasl_free(s);

	/* even a proof computed against the fake salt fails */
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, "n,,n=nobody,r=xyz", &out),
	    SASL_NEED_CREDS);
	buf_reset(&out);
	assert_int_equal(sasl_set_creds(s, NULL, &out), SASL_CHALLENGE);
	snprintf(first, sizeof(first), "%s", str(&out));
	client_final(SCRAM_SHA256, "pencil", "n,,", "n=nobody,r=xyz", first,
	    cfinal, sizeof(cfinal), sfinal, sizeof(sfinal));
	assert_int_equal(step(s, cfinal, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	buf_clear(&out);
}

/* the salt offered to an unknown account, as base64 */
static void
fake_salt(const char *user, const char *node, char *out, size_t size)
{
	struct sasl	*s;
	struct buf	 b;
	char		 first[128];
	const char	*p;

	buf_init(&b, 0);
	s = sasl_new(SASL_SCRAM_SHA256);
	snprintf(first, sizeof(first), "n,,n=%s,r=abc", user);
	assert_int_equal(step(s, first, &b), SASL_NEED_CREDS);
	sasl_set_account(s, node, "example.com");
	buf_reset(&b);
	assert_int_equal(sasl_set_creds(s, NULL, &b), SASL_CHALLENGE);
	p = strstr(str(&b), ",s=");
	assert_non_null(p);
	snprintf(out, size, "%.*s", (int)strcspn(p + 3, ","), p + 3);
	sasl_free(s);
	buf_clear(&b);
}

/*
 * The fake salt is keyed on the secret the router hands every c2s (the
 * same in every c2s process) and on the normalised account, not on the
 * name as typed; a key the router sends again replaces it.
 */
static void
test_sasl_fake_salt_shared_secret(void **state)
{
	static const char	 msg[] = "SHA-256\0alice@example.com";
	uint8_t			 key[SASL_SECRET_LEN], other[SASL_SECRET_LEN];
	uint8_t			 mac[SCRAM_KEY_MAX];
	char			 a[64], b[64];
	struct buf		 want;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)i;
		other[i] = (uint8_t)(0xff - i);
	}
	sasl_secret_put(other);
	assert_true(sasl_secret_known());
	fake_salt("alice", "alice", b, sizeof(b));
	sasl_secret_put(key);
	fake_salt("Alice", "alice", a, sizeof(a));
	assert_string_not_equal(a, b);
	fake_salt("alice", "alice", b, sizeof(b));
	assert_string_equal(a, b);
	scram_hmac(SCRAM_SHA256, key, sizeof(key), msg, sizeof(msg) - 1, mac);
	buf_init(&want, 0);
	assert_int_equal(base64_encode(&want, mac, SCRAM_SALT_LEN), 0);
	assert_string_equal(a, str(&want));
	buf_clear(&want);
	fake_salt("bob", "bob", b, sizeof(b));
	assert_string_not_equal(a, b);
}

static void
test_sasl_scram_missing_hash_creds(void **state)
{
	struct scram_creds	 only256;
	struct sasl		*s;
	struct buf		 out;

	(void)state;
	buf_init(&out, 0);
	/* an account without SHA-1 credentials is unknown to SCRAM-SHA-1 */
	only256 = rfc_creds;
	memset(&only256.h[SCRAM_SHA1], 0, sizeof(only256.h[SCRAM_SHA1]));
	s = scram_begin(SASL_SCRAM_SHA1, RFC5802_CFIRST, RFC5802_SNONCE,
	    &only256, &out);
	assert_string_not_equal(str(&out), RFC5802_SFIRST);
	assert_int_equal(step(s, RFC5802_CFINAL, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_first_malformed(void **state)
{
	static const char *const bad[] = {
		"p=tls-unique,,n=user,r=abc",	/* we advertise no -PLUS */
		"p,,n=user,r=abc",
		"x,,n=user,r=abc",
		"N,,n=user,r=abc",
		"n,n=user,r=abc",		/* gs2 header cut short */
		"n,,",
		"n,",
		"n",
		"n,,r=abc",			/* no username */
		"n,,n=user",			/* no nonce */
		"n,,n=user,",
		"n,,n=user,r=",
		"n,,n=,r=abc",
		"n,,n=us=2Der,r=abc",		/* only =2C and =3D */
		"n,,n=us=3der,r=abc",
		"n,,n=user=,r=abc",
		"n,,n=user=2,r=abc",
		"n,,n=user,r=ab c",		/* nonce not printable */
		"n,,n=user,r=ab\x7f",
		"n,,n=user,r=ab\xc3\xa9",
		"n,,r=abc,n=user",		/* order */
		"n,,m=ext,n=user,r=abc",	/* mandatory extension */
		"n,,n=user,r=abc,",		/* empty extension */
		"n,,n=user,r=abc,1=x",
		"n,,n=user,r=abc,x=",
		"n,,n=user,r=abc,x",
		"n,,n=user,s=abc",
		"n,a=,n=user,r=abc",		/* empty authzid */
		"n,a=x=41,n=user,r=abc",
		"n,b=x,n=user,r=abc",
		"n,,n=u\x07ser,r=abc",		/* SASLprep prohibits */
		"n,,n=\xc2\xad,r=abc",		/* SASLprep empties */
		"n,,n=us\xffr,r=abc",		/* not UTF-8 */
		"n,a=\xc0\xaf,n=user,r=abc",	/* overlong UTF-8 */
	};
	struct sasl	*s;
	struct buf	 out;
	size_t		 i;

	(void)state;
	buf_init(&out, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = sasl_new(SASL_SCRAM_SHA256);
		if (step(s, bad[i], &out) != SASL_FAILURE ||
		    sasl_error(s) != SASLERR_MALFORMED_REQUEST)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(buf_avail(&out), 0);
		sasl_free(s);
	}
	/* an embedded NUL */
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(sasl_step(s, "n,,n=us\0er,r=abc", 16, &out),
	    SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_first_length_caps(void **state)
{
	struct sasl	*s;
	struct buf	 out;
	char		 msg[5000];

	(void)state;
	buf_init(&out, 0);
	/* a 256-byte client nonce is fine, 257 is not */
	snprintf(msg, sizeof(msg), "n,,n=user,r=%0256d", 7);
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, msg, &out), SASL_NEED_CREDS);
	sasl_free(s);
	snprintf(msg, sizeof(msg), "n,,n=user,r=%0257d", 7);
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, msg, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
	/* more than 4 KiB in one message */
	snprintf(msg, sizeof(msg), "n,,n=user,r=abc,x=%04090d", 7);
	assert_int_equal(strlen(msg), 4108);
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, msg, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_first_accepted_forms(void **state)
{
	struct sasl	*s;
	struct buf	 out;

	(void)state;
	buf_init(&out, 0);
	/* escapes decoded, then SASLprep (soft hyphen maps to nothing) */
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, "n,,n=a=2Cb=3Dc\xc2\xad" "d,r=abc", &out),
	    SASL_NEED_CREDS);
	assert_string_equal(sasl_username(s), "a,b=cd");
	assert_null(sasl_authzid(s));
	sasl_free(s);
	/* authzid, escaped too, and extensions after the nonce */
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, "y,a=juliet=2Cx@example.com,n=romeo,"
	    "r=a!b~c,x=one,y=two=2", &out), SASL_NEED_CREDS);
	assert_string_equal(sasl_username(s), "romeo");
	assert_string_equal(sasl_authzid(s), "juliet,x@example.com");
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_authzid_in_full_exchange(void **state)
{
	struct sasl	*s;
	struct buf	 out;
	char		 first[256], cfinal[512], sfinal[128];

	(void)state;
	buf_init(&out, 0);
	/* the gs2 header with the authzid is what c= must carry */
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, "n,a=admin,n=user,r=q", &out),
	    SASL_NEED_CREDS);
	assert_string_equal(sasl_authzid(s), "admin");
	buf_reset(&out);
	assert_int_equal(sasl_set_creds(s, &pencil_creds, &out),
	    SASL_CHALLENGE);
	snprintf(first, sizeof(first), "%s", str(&out));
	client_final(SCRAM_SHA256, "pencil", "n,a=admin,", "n=user,r=q",
	    first, cfinal, sizeof(cfinal), sfinal, sizeof(sfinal));
	assert_int_equal(step(s, cfinal, &out), SASL_SUCCESS);
	assert_string_equal(str(&out), sfinal);
	sasl_free(s);

	/* and "biws" (n,,) does not do for it */
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, "n,a=admin,n=user,r=q", &out),
	    SASL_NEED_CREDS);
	buf_reset(&out);
	assert_int_equal(sasl_set_creds(s, &pencil_creds, &out),
	    SASL_CHALLENGE);
	snprintf(first, sizeof(first), "%s", str(&out));
	client_final(SCRAM_SHA256, "pencil", "n,,", "n=user,r=q", first,
	    cfinal, sizeof(cfinal), sfinal, sizeof(sfinal));
	assert_int_equal(step(s, cfinal, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_final_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"r=" RFC5802_NONCE ",c=biws,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=eSws,r=" RFC5802_NONCE	/* y,, but we saw n,, */
		    ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=biw,r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=biws=,r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=,r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL"	/* nonce mismatch */
		    ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=biws,r=" RFC5802_NONCE "x,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7k"
		    ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",	/* same length */
		"c=biws,r=" RFC5802_NONCE,		/* no proof */
		"c=biws,r=" RFC5802_NONCE ",",
		"c=biws,r=" RFC5802_NONCE ",p=",
		"c=biws,r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts",
		"c=biws,r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4T!=",
		"c=biws,r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4TsA",
		"c=biws,r=" RFC5802_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHg"
		    "sqmmiz7AndVQ=",			/* SHA-256 length */
		"c=biws,r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=,"
		    "x=y",				/* after the proof */
		"c=biws,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=,r=" RFC5802_NONCE,
		"c=biws,r=" RFC5802_NONCE ",1=x,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=biws,r=" RFC5802_NONCE ",x=,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=biws,,r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		" c=biws,r=" RFC5802_NONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	};
	struct sasl	*s;
	struct buf	 out;
	size_t		 i;

	(void)state;
	buf_init(&out, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = scram_begin(SASL_SCRAM_SHA1, RFC5802_CFIRST,
		    RFC5802_SNONCE, &rfc_creds, &out);
		if (bad[i][0] == '\0') {
			/* an empty response is no client-final either */
			buf_reset(&out);
			assert_int_equal(sasl_step(s, "", 0, &out),
			    SASL_FAILURE);
		} else if (step(s, bad[i], &out) != SASL_FAILURE)
			fail_msg("accepted \"%s\"", bad[i]);
		if (sasl_error(s) != SASLERR_MALFORMED_REQUEST)
			fail_msg("\"%s\": error %d", bad[i], sasl_error(s));
		assert_int_equal(buf_avail(&out), 0);
		sasl_free(s);
	}
	/* an embedded NUL in the final message */
	s = scram_begin(SASL_SCRAM_SHA1, RFC5802_CFIRST, RFC5802_SNONCE,
	    &rfc_creds, &out);
	buf_reset(&out);
	assert_int_equal(sasl_step(s, RFC5802_CFINAL "\0",
	    sizeof(RFC5802_CFINAL), &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_final_extension_is_signed(void **state)
{
	struct sasl	*s;
	struct buf	 out;

	(void)state;
	buf_init(&out, 0);
	/*
	 * A well-formed extension before the proof parses, but it is part
	 * of AuthMessage, so the RFC's proof no longer matches.
	 */
	s = scram_begin(SASL_SCRAM_SHA1, RFC5802_CFIRST, RFC5802_SNONCE,
	    &rfc_creds, &out);
	assert_int_equal(step(s, "c=biws,r=" RFC5802_NONCE ",x=1,"
	    "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	/* a proof one bit off */
	s = scram_begin(SASL_SCRAM_SHA1, RFC5802_CFIRST, RFC5802_SNONCE,
	    &rfc_creds, &out);
	assert_int_equal(step(s, "c=biws,r=" RFC5802_NONCE
	    ",p=w0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_scram_out_of_turn(void **state)
{
	struct sasl	*s;
	struct buf	 out;

	(void)state;
	buf_init(&out, 0);
	/* a response while the credentials are being looked up */
	s = sasl_new(SASL_SCRAM_SHA1);
	assert_int_equal(step(s, RFC5802_CFIRST, &out), SASL_NEED_CREDS);
	assert_int_equal(step(s, RFC5802_CFINAL, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
	/* after a failure, everything fails with the first error */
	s = sasl_new(SASL_SCRAM_SHA1);
	assert_int_equal(step(s, "bogus", &out), SASL_FAILURE);
	assert_int_equal(step(s, RFC5802_CFIRST, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_absent_initial_response(void **state)
{
	struct sasl	*s;
	struct buf	 out;

	(void)state;
	buf_init(&out, 0);
	/* RFC 6120 6.4.2: no initial response, so an empty challenge */
	s = sasl_new(SASL_SCRAM_SHA1);
	sasl_test_set_nonce(s, RFC5802_SNONCE);
	assert_int_equal(sasl_step(s, "", 0, &out), SASL_CHALLENGE);
	assert_int_equal(buf_avail(&out), 0);
	assert_int_equal(step(s, RFC5802_CFIRST, &out), SASL_NEED_CREDS);
	assert_int_equal(sasl_set_creds(s, &rfc_creds, &out), SASL_CHALLENGE);
	assert_string_equal(str(&out), RFC5802_SFIRST);
	assert_int_equal(step(s, RFC5802_CFINAL, &out), SASL_SUCCESS);
	sasl_free(s);
	/* but only once */
	s = sasl_new(SASL_PLAIN);
	assert_int_equal(sasl_step(s, "", 0, &out), SASL_CHALLENGE);
	assert_int_equal(sasl_step(s, "", 0, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
	buf_clear(&out);
}

static enum sasl_rc
plain(struct sasl **sp, const char *msg, size_t len,
    const struct scram_creds *creds)
{
	struct buf	out;
	enum sasl_rc	rc;

	buf_init(&out, 0);
	*sp = sasl_new(SASL_PLAIN);
	rc = sasl_step(*sp, msg, len, &out);
	assert_int_equal(buf_avail(&out), 0);
	if (rc == SASL_NEED_CREDS) {
		rc = sasl_set_creds(*sp, creds, &out);
		assert_int_equal(buf_avail(&out), 0);
	}
	buf_clear(&out);
	return rc;
}

#define PLAIN(s, lit, creds)	plain(&(s), lit, sizeof(lit) - 1, creds)

static void
test_sasl_plain_success(void **state)
{
	struct scram_creds	 only1;
	struct sasl		*s;

	(void)state;
	assert_int_equal(PLAIN(s, "\0user\0pencil", &pencil_creds),
	    SASL_SUCCESS);
	assert_string_equal(sasl_username(s), "user");
	assert_null(sasl_authzid(s));
	assert_int_equal(sasl_error(s), SASLERR_NONE);
	sasl_free(s);
	/* RFC 4616 example with an authzid; SASLprep on both */
	assert_int_equal(PLAIN(s, "admin@example.org\0us\xc2\xad" "er\0"
	    "pen\xc2\xad" "cil", &rfc_creds), SASL_SUCCESS);
	assert_string_equal(sasl_username(s), "user");
	assert_string_equal(sasl_authzid(s), "admin@example.org");
	sasl_free(s);
	/* without SHA-256 credentials, the SHA-1 ones are used */
	only1 = rfc_creds;
	memset(&only1.h[SCRAM_SHA256], 0, sizeof(only1.h[SCRAM_SHA256]));
	assert_int_equal(PLAIN(s, "\0user\0pencil", &only1), SASL_SUCCESS);
	sasl_free(s);
	assert_int_equal(PLAIN(s, "\0user\0pencil2", &only1), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
}

/*
 * Async PLAIN: the credentials ask for work instead of deriving; the
 * work, run apart, decides; a response while it runs is out of turn.
 */
static enum sasl_rc
plain_async(const char *msg, size_t len, const struct scram_creds *creds)
{
	struct sasl		*s;
	struct sasl_work	*w;
	struct buf		 out;
	enum sasl_rc		 rc;

	buf_init(&out, 0);
	s = sasl_new(SASL_PLAIN);
	sasl_set_async(s, true);
	assert_int_equal(sasl_step(s, msg, len, &out), SASL_NEED_CREDS);
	assert_int_equal(sasl_set_creds(s, creds, &out), SASL_NEED_WORK);
	w = sasl_work_new(s);
	sasl_work_run(w);
	rc = sasl_work_done(s, w);
	sasl_work_free(w);
	sasl_free(s);
	buf_clear(&out);
	return rc;
}

static void
test_sasl_plain_async(void **state)
{
	struct sasl	*s;
	struct buf	 out;

	(void)state;
	assert_int_equal(plain_async("\0user\0pencil", 12, &pencil_creds),
	    SASL_SUCCESS);
	assert_int_equal(plain_async("\0user\0Pencil", 12, &pencil_creds),
	    SASL_FAILURE);
	assert_int_equal(plain_async("\0user\0pencil", 12, NULL),
	    SASL_FAILURE);
	buf_init(&out, 0);
	s = sasl_new(SASL_PLAIN);
	sasl_set_async(s, true);
	assert_int_equal(sasl_step(s, "\0user\0pencil", 12, &out),
	    SASL_NEED_CREDS);
	assert_int_equal(sasl_set_creds(s, &pencil_creds, &out),
	    SASL_NEED_WORK);
	assert_int_equal(sasl_step(s, "x", 1, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_plain_need_creds_reports_identity(void **state)
{
	struct sasl	*s;
	struct buf	 out;

	(void)state;
	buf_init(&out, 0);
	s = sasl_new(SASL_PLAIN);
	assert_null(sasl_username(s));
	assert_int_equal(sasl_step(s, "me\0\xe2\x85\xa8\0pw", 8, &out),
	    SASL_NEED_CREDS);
	assert_string_equal(sasl_username(s), "IX");
	assert_string_equal(sasl_authzid(s), "me");
	assert_int_equal(sasl_set_creds(s, &pencil_creds, &out),
	    SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	buf_clear(&out);
}

static void
test_sasl_plain_failure(void **state)
{
	struct sasl	*s;

	(void)state;
	assert_int_equal(PLAIN(s, "\0user\0Pencil", &pencil_creds),
	    SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	assert_int_equal(PLAIN(s, "\0user\0pencil", NULL), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	/* RFC 4616 4: a password SASLprep rejects or empties fails */
	assert_int_equal(PLAIN(s, "\0user\0pen\x07", &pencil_creds),
	    SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	assert_int_equal(PLAIN(s, "\0user\0\xc2\xad", &pencil_creds),
	    SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
}

static void
test_sasl_plain_malformed(void **state)
{
	struct sasl	*s;
	char		 big[1100];

	(void)state;
#define MALFORMED(lit) do {						\
	assert_int_equal(PLAIN(s, lit, &pencil_creds), SASL_FAILURE);	\
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);	\
	sasl_free(s);							\
} while (0)
	MALFORMED("user\0pencil");		/* one NUL */
	MALFORMED("userpencil");
	MALFORMED("\0\0pencil");		/* empty authcid */
	MALFORMED("\0user\0");			/* empty password */
	MALFORMED("\0user\0pen\0cil");		/* three NULs */
	MALFORMED("\0\0");
	MALFORMED("\0us\xffr\0pencil");		/* not UTF-8 */
	MALFORMED("\xed\xa0\x80\0user\0pencil");	/* a surrogate */
	MALFORMED("\0user\0pen\xe2\x82");	/* truncated sequence */
#undef MALFORMED
	/* 1023 bytes of password pass the parser, 1024 do not */
	memset(big, 'a', sizeof(big));
	big[0] = '\0';
	memcpy(big + 1, "user", 5);
	assert_int_equal(plain(&s, big, 6 + 1023, &pencil_creds),
	    SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	assert_int_equal(plain(&s, big, 6 + 1024, &pencil_creds),
	    SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_MALFORMED_REQUEST);
	sasl_free(s);
}

#define CB_EXPORTER	"0123456789abcdef0123456789abcdef"
#define CB_ENDPOINT	"fedcba9876543210fedcba9876543210"

/* a -PLUS exchange with both bindings known; the gs2 flag as given */
static struct sasl *
plus_new(enum sasl_mech m)
{
	struct sasl	*s = sasl_new(m);

	sasl_set_cb(s, SASL_CB_EXPORTER, (const uint8_t *)CB_EXPORTER,
	    strlen(CB_EXPORTER));
	sasl_set_cb(s, SASL_CB_ENDPOINT, (const uint8_t *)CB_ENDPOINT,
	    strlen(CB_ENDPOINT));
	sasl_set_plus_offered(s, true);
	return s;
}

/* runs a whole exchange; cbind is what the client puts after gs2 in c= */
static enum sasl_rc
plus_run(enum sasl_mech m, const char *gs2, const char *cbind,
    struct sasl **sp)
{
	struct sasl	*s = plus_new(m);
	struct buf	 out;
	char		 cfirst[256], cbin[256], cfinal[1024], sfinal[256];
	char		 first[512];
	enum sasl_rc	 rc;

	buf_init(&out, 0);
	snprintf(cfirst, sizeof(cfirst), "%sn=user,r=abcdef", gs2);
	rc = step(s, cfirst, &out);
	if (rc == SASL_NEED_CREDS) {
		buf_reset(&out);
		assert_int_equal(sasl_set_creds(s, &pencil_creds, &out),
		    SASL_CHALLENGE);
		snprintf(first, sizeof(first), "%s", str(&out));
		snprintf(cbin, sizeof(cbin), "%s%s", gs2, cbind);
		client_final(m == SASL_SCRAM_SHA1_PLUS ||
		    m == SASL_SCRAM_SHA1 ? SCRAM_SHA1 : SCRAM_SHA256,
		    "pencil", cbin, "n=user,r=abcdef", first, cfinal,
		    sizeof(cfinal), sfinal, sizeof(sfinal));
		rc = step(s, cfinal, &out);
		if (rc == SASL_SUCCESS)
			assert_string_equal(str(&out), sfinal);
	}
	buf_clear(&out);
	*sp = s;
	return rc;
}

/*
 * A whole exchange (plus_run) that must end as rc; on a failure, with
 * the error err (ANY_ERR: not checked) and the text (NULL: not checked).
 */
#define ANY_ERR	(-1)
static void
plus_expect(enum sasl_mech m, const char *gs2, const char *cbind,
    enum sasl_rc rc, int err, const char *text)
{
	struct sasl	*s;

	assert_int_equal(plus_run(m, gs2, cbind, &s), rc);
	if (err != ANY_ERR)
		assert_int_equal(sasl_error(s), err);
	if (text != NULL)
		assert_string_equal(sasl_error_text(s), text);
	sasl_free(s);
}

static void
test_sasl_scram_plus(void **state)
{
	int	m;

	(void)state;
	for (m = SASL_SCRAM_SHA256_PLUS; m <= SASL_SCRAM_SHA1_PLUS; m++) {
		plus_expect(m, "p=tls-exporter,,", CB_EXPORTER, SASL_SUCCESS,
		    ANY_ERR, NULL);
		plus_expect(m, "p=tls-server-end-point,,", CB_ENDPOINT,
		    SASL_SUCCESS, ANY_ERR, NULL);
		/* RFC 5802 7: the other binding's data, or none: a MITM */
		plus_expect(m, "p=tls-exporter,,", CB_ENDPOINT, SASL_FAILURE,
		    SASLERR_NOT_AUTHORIZED,
		    "channel-binding data does not match");
		plus_expect(m, "p=tls-exporter,,", "", SASL_FAILURE,
		    SASLERR_NOT_AUTHORIZED, NULL);
		/* a type this connection has not got, or nobody has */
		plus_expect(m, "p=tls-unique,,", CB_EXPORTER, SASL_FAILURE,
		    SASLERR_MALFORMED_REQUEST,
		    "unsupported channel-binding type");
		plus_expect(m, "p=tls-foo,,", "x", SASL_FAILURE,
		    SASLERR_MALFORMED_REQUEST, NULL);
		plus_expect(m, "p=,,", "x", SASL_FAILURE,
		    SASLERR_MALFORMED_REQUEST, NULL);
		plus_expect(m, "p=tls_exporter,,", "x", SASL_FAILURE,
		    ANY_ERR, NULL);
		/* -PLUS without binding */
		plus_expect(m, "n,,", "", SASL_FAILURE,
		    SASLERR_MALFORMED_REQUEST, NULL);
		plus_expect(m, "y,,", "", SASL_FAILURE, ANY_ERR, NULL);
	}
	/* binding on a mechanism that has none */
	plus_expect(SASL_SCRAM_SHA256, "p=tls-exporter,,", CB_EXPORTER,
	    SASL_FAILURE, SASLERR_MALFORMED_REQUEST, NULL);
	/* "n": the client cannot bind; fine without -PLUS */
	plus_expect(SASL_SCRAM_SHA1, "n,,", "", SASL_SUCCESS, ANY_ERR, NULL);
	/* "n" with binding data after the header */
	plus_expect(SASL_SCRAM_SHA1, "n,,", "x", SASL_FAILURE,
	    SASLERR_MALFORMED_REQUEST, NULL);
}

/* RFC 5802 6: "y" while -PLUS was offered means someone stripped it */
static void
test_sasl_scram_y_downgrade(void **state)
{
	struct sasl	*s;
	struct buf	 out;

	(void)state;
	buf_init(&out, 0);
	plus_expect(SASL_SCRAM_SHA256, "y,,", "", SASL_FAILURE,
	    SASLERR_NOT_AUTHORIZED,
	    "channel binding is supported: downgrade refused");
	/* with -PLUS not offered (RFC 6120 SASL, plain TCP) it is fine */
	s = sasl_new(SASL_SCRAM_SHA256);
	assert_int_equal(step(s, "y,,n=user,r=abc", &out), SASL_NEED_CREDS);
	sasl_free(s);
	buf_clear(&out);
}

/* XEP-0474 4.1 and its example 1: h= over the advertised lists */
static void
test_sasl_scram_ssdp(void **state)
{
	static const char	 xep[] = "SCRAM-SHA-1\x1eSCRAM-SHA-1-PLUS\x1f"
				    "tls-exporter\x1etls-server-end-point";
	struct sasl		*s;
	struct buf		 out;
	char			 cfinal[1024], sfinal[256], first[512];

	(void)state;
	buf_init(&out, 0);
	s = sasl_new(SASL_SCRAM_SHA1);
	sasl_set_ssdp(s, xep, strlen(xep));
	sasl_test_set_nonce(s, RFC5802_SNONCE);
	assert_int_equal(step(s, RFC5802_CFIRST, &out), SASL_NEED_CREDS);
	buf_reset(&out);
	assert_int_equal(sasl_set_creds(s, &rfc_creds, &out), SASL_CHALLENGE);
	assert_string_equal(str(&out), RFC5802_SFIRST
	    ",h=G6k/rBLDqgOhRRaCuuatSDFkJ08=");
	/* the attribute is signed: a client's proof covers it */
	snprintf(first, sizeof(first), "%s", str(&out));
	client_final(SCRAM_SHA1, "pencil", "n,,",
	    "n=user,r=fyko+d2lbbFgONRv9qkxdawL", first, cfinal,
	    sizeof(cfinal), sfinal, sizeof(sfinal));
	assert_int_equal(step(s, cfinal, &out), SASL_SUCCESS);
	assert_string_equal(str(&out), sfinal);
	/* the RFC's own proof, made without h=, no longer passes */
	sasl_free(s);
	s = sasl_new(SASL_SCRAM_SHA1);
	sasl_set_ssdp(s, xep, strlen(xep));
	sasl_test_set_nonce(s, RFC5802_SNONCE);
	assert_int_equal(step(s, RFC5802_CFIRST, &out), SASL_NEED_CREDS);
	buf_reset(&out);
	assert_int_equal(sasl_set_creds(s, &rfc_creds, &out), SASL_CHALLENGE);
	assert_int_equal(step(s, RFC5802_CFINAL, &out), SASL_FAILURE);
	assert_int_equal(sasl_error(s), SASLERR_NOT_AUTHORIZED);
	sasl_free(s);
	buf_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sasl_mech_names),
		cmocka_unit_test(test_sasl_scram_sha1_rfc5802),
		cmocka_unit_test(test_sasl_scram_sha256_rfc7677),
		cmocka_unit_test(test_sasl_scram_random_nonce_full_exchange),
		cmocka_unit_test(test_sasl_scram_wrong_password),
		cmocka_unit_test(test_sasl_scram_unknown_user),
		cmocka_unit_test(test_sasl_scram_missing_hash_creds),
		cmocka_unit_test(test_sasl_fake_salt_shared_secret),
		cmocka_unit_test(test_sasl_scram_first_malformed),
		cmocka_unit_test(test_sasl_scram_first_length_caps),
		cmocka_unit_test(test_sasl_scram_first_accepted_forms),
		cmocka_unit_test(test_sasl_scram_authzid_in_full_exchange),
		cmocka_unit_test(test_sasl_scram_final_malformed),
		cmocka_unit_test(test_sasl_scram_final_extension_is_signed),
		cmocka_unit_test(test_sasl_scram_out_of_turn),
		cmocka_unit_test(test_sasl_absent_initial_response),
		cmocka_unit_test(test_sasl_plain_success),
		cmocka_unit_test(test_sasl_plain_need_creds_reports_identity),
		cmocka_unit_test(test_sasl_plain_async),
		cmocka_unit_test(test_sasl_plain_failure),
		cmocka_unit_test(test_sasl_plain_malformed),
		cmocka_unit_test(test_sasl_scram_plus),
		cmocka_unit_test(test_sasl_scram_y_downgrade),
		cmocka_unit_test(test_sasl_scram_ssdp),
	};

	return cmocka_run_group_tests(tests, setup_creds, NULL);
}
