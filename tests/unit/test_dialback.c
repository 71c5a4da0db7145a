/*
 * Unit tests for s2s/dialback.c: the worked example of XEP-0185 section 3,
 * further vectors computed independently with Python's hmac and hashlib,
 * and the key comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../s2s/dialback.h"
#include "unit.h"

/* XEP-0185 3: the key both steps 3 and 8 arrive at */
#define XEP0185_KEY \
	"37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643"

/*
 * XEP-0185 3's example (the key both steps 3 and 8 arrive at), then
 * vectors computed with
 *   k = hashlib.sha256(secret.encode()).hexdigest().encode()
 *   hmac.new(k, (r + " " + o + " " + sid).encode(),
 *       hashlib.sha256).hexdigest()
 * Keying with the raw digest instead gives 4530485c... for the XEP's
 * example, which is how a wrong construction would show.
 */
static const struct {
	const char	*secret, *receiving, *originating, *id, *key;
} vectors[] = {
	/* receiving xmpp.example.com, originating example.org */
	{ "s3cr3tf0rd14lb4ck", "xmpp.example.com", "example.org",
	    "D60000229F", XEP0185_KEY },
	/* the roles matter: swapped domains give another key */
	{ "s3cr3tf0rd14lb4ck", "example.org", "xmpp.example.com",
	    "D60000229F", "07335aa400436780596e1102ba010c85"
	    "129ea50e13e58ab8830a523a8706b575" },
	/* the XMPP wiki's script for the XEP uses these */
	{ "s3cr3tf0rd14lb4ck", "domain2.tld", "domain1.tld", "D60000229F",
	    "5e598fae34b90be084fb6a4a8a543ceb"
	    "33549140bac9d829ef8d734d900616e4" },
	/* empty secret and stream id are still well defined */
	{ "", "a", "b", "", "24493a3e68a36bf1749a41caf122c525"
	    "c2134bd96b74481b06f0df39e617c772" },
	/* UTF-8 domains and secrets go in as their bytes */
	{ "s\xc3\xa9" "cret", "b\xc3\xbc" "cher.example", "example.org", "ab",
	    "e28592b2805e6a8aab1860c455f1c015"
	    "b678c38cf4accbc9dbe2e744a21429be" },
};

static void
test_dialback_vectors(void **state)
{
	char	key[DIALBACK_KEY_LEN + 1];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		dialback_key(vectors[i].secret, vectors[i].receiving,
		    vectors[i].originating, vectors[i].id, key);
		assert_string_equal(key, vectors[i].key);
		assert_int_equal(strlen(key), DIALBACK_KEY_LEN);
	}
}

static void
test_dialback_inputs_change_key(void **state)
{
	char	base[DIALBACK_KEY_LEN + 1], key[DIALBACK_KEY_LEN + 1];

	(void)state;
	dialback_key("secret", "a.example", "b.example", "id1", base);
	dialback_key("secret", "a.example", "b.example", "id1", key);
	assert_string_equal(key, base);
	dialback_key("secret2", "a.example", "b.example", "id1", key);
	assert_string_not_equal(key, base);
	dialback_key("secret", "a.example", "b.example", "id2", key);
	assert_string_not_equal(key, base);
	/* XEP-0185 2 note 5: the spaces keep the boundaries */
	dialback_key("secret", "example.info", "rm.example.org", "id1", base);
	dialback_key("secret", "example.in", "form.example.org", "id1", key);
	assert_string_not_equal(key, base);
}

static void
test_dialback_key_equal(void **state)
{
	char	key[DIALBACK_KEY_LEN + 1], other[DIALBACK_KEY_LEN + 2];

	(void)state;
	assert_true(dialback_key_equal(XEP0185_KEY, XEP0185_KEY));
	memcpy(key, XEP0185_KEY, sizeof(key));
	assert_true(dialback_key_equal(key, XEP0185_KEY));

	/* a difference at either end */
	key[0] = '4';
	assert_false(dialback_key_equal(key, XEP0185_KEY));
	memcpy(key, XEP0185_KEY, sizeof(key));
	key[DIALBACK_KEY_LEN - 1] = '4';
	assert_false(dialback_key_equal(key, XEP0185_KEY));

	/* wrong lengths, whichever side */
	memcpy(key, XEP0185_KEY, sizeof(key));
	key[DIALBACK_KEY_LEN - 1] = '\0';
	assert_false(dialback_key_equal(key, XEP0185_KEY));
	assert_false(dialback_key_equal(XEP0185_KEY, key));
	memcpy(other, XEP0185_KEY, DIALBACK_KEY_LEN);
	other[DIALBACK_KEY_LEN] = '3';
	other[DIALBACK_KEY_LEN + 1] = '\0';
	assert_false(dialback_key_equal(other, XEP0185_KEY));
	assert_false(dialback_key_equal(XEP0185_KEY, other));
	assert_false(dialback_key_equal("", XEP0185_KEY));
	assert_false(dialback_key_equal("", ""));

	/* we only issue lower case, so only lower case is ours */
	assert_false(dialback_key_equal(
	    "37C69B1CF07A3F67C04A5EF5902FA5114F2C76FE4A2686482BA5B89323075643",
	    XEP0185_KEY));
}

UNIT_MAIN(
	cmocka_unit_test(test_dialback_vectors),
	cmocka_unit_test(test_dialback_inputs_change_key),
	cmocka_unit_test(test_dialback_key_equal),
)
