/*
 * Unit tests for common/upslot.c: a signed slot verifies, and changing
 * any field it covers (id, name, size, type, expiry, the MAC itself)
 * or the key makes it a forgery; expiry; malformed tokens; the id and
 * name checks; the key file made once and read back.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/upslot.h"
#include "../../common/util.h"
#include "unit.h"

#define ID	"0123456789abcdef0123456789abcdef"

static void
key(uint8_t v)
{
	uint8_t	k[UPSLOT_KEY_LEN];

	memset(k, v, sizeof(k));
	upslot_key_set(k);
}

static void
test_upslot_roundtrip(void **state)
{
	char		tok[UPSLOT_TOKEN_MAX];
	uint64_t	size = 0;

	(void)state;
	key(1);
	upslot_sign(tok, ID, "a b.png", 1234, "image/png", 1000);
	assert_int_equal(upslot_verify(tok, ID, "a b.png", "image/png", 1000,
	    &size), UPSLOT_OK);
	assert_int_equal(size, 1234);
	assert_int_equal(upslot_verify(tok, ID, "a b.png", "image/png", 999,
	    &size), UPSLOT_OK);
	assert_int_equal(upslot_verify(tok, ID, "a b.png", "image/png", 1001,
	    &size), UPSLOT_EXPIRED);
}

static void
test_upslot_forgeries(void **state)
{
	char		tok[UPSLOT_TOKEN_MAX], t2[UPSLOT_TOKEN_MAX];
	const char	*mac;
	uint64_t	size;

	(void)state;
	key(2);
	upslot_sign(tok, ID, "f", 10, "text/plain", 5000);
	/* each field the MAC covers */
	assert_int_equal(upslot_verify(tok, "1123456789abcdef0123456789abcdef",
	    "f", "text/plain", 0, &size), UPSLOT_BAD);
	assert_int_equal(upslot_verify(tok, ID, "g", "text/plain", 0, &size),
	    UPSLOT_BAD);
	assert_int_equal(upslot_verify(tok, ID, "f", "text/html", 0, &size),
	    UPSLOT_BAD);
	/* a larger size or a later expiry with the same MAC */
	mac = strrchr(tok, '-') + 1;
	snprintf(t2, sizeof(t2), "5000-11-%s", mac);
	assert_int_equal(upslot_verify(t2, ID, "f", "text/plain", 0, &size),
	    UPSLOT_BAD);
	snprintf(t2, sizeof(t2), "5001-10-%s", mac);
	assert_int_equal(upslot_verify(t2, ID, "f", "text/plain", 0, &size),
	    UPSLOT_BAD);
	/* the MAC's last digit */
	strcpy(t2, tok);
	t2[strlen(t2) - 1] ^= 1;
	assert_int_equal(upslot_verify(t2, ID, "f", "text/plain", 0, &size),
	    UPSLOT_BAD);
	/* fields cannot slide into each other: name "f" type "text/plain" */
	assert_int_equal(upslot_verify(tok, ID, "ftext/plain", "", 0, &size),
	    UPSLOT_BAD);
	/* another key */
	key(3);
	assert_int_equal(upslot_verify(tok, ID, "f", "text/plain", 0, &size),
	    UPSLOT_BAD);
}

static void
test_upslot_malformed(void **state)
{
	static const char	*bad[] = { "", "-", "1-2", "1-2-", "x-1-00",
	    "01-1-" "0000000000000000000000000000000000000000000000000000000000"
	    "000000", "1--1-00", "+1-1-00",
	    "1-1-000000000000000000000000000000000000000000000000000000000000"
	    "00000", "1234567890123456789-1-00" };
	uint64_t		 size;
	size_t			 i;

	(void)state;
	key(4);
	for (i = 0; i < nitems(bad); i++)
		assert_int_equal(upslot_verify(bad[i], ID, "f", "t/t", 0,
		    &size), UPSLOT_BAD);
}

static void
test_upslot_names(void **state)
{
	char	id[UPSLOT_ID_LEN + 1], big[300];

	(void)state;
	upslot_id(id);
	assert_true(upslot_id_valid(id));
	assert_false(upslot_id_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(upslot_id_valid("0123"));
	assert_false(upslot_id_valid("../3456789abcdef0123456789abcdef"));
	assert_true(upslot_name_valid("photo é.jpg"));
	assert_true(upslot_name_valid("..."));
	assert_false(upslot_name_valid(""));
	assert_false(upslot_name_valid("."));
	assert_false(upslot_name_valid(".."));
	assert_false(upslot_name_valid("a/b"));
	assert_false(upslot_name_valid("a\\b"));
	assert_false(upslot_name_valid("a\nb"));
	assert_false(upslot_name_valid("a\x7f"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(upslot_name_valid(big));
}

/* the router's key file (secret_load): made once, the same read back */
static void
test_upslot_key_file(void **state)
{
	char		dir[] = "/tmp/upslot-XXXXXX", tok[UPSLOT_TOKEN_MAX];
	char		path[64];
	uint8_t		k[UPSLOT_KEY_LEN], again[UPSLOT_KEY_LEN];
	uint64_t	size;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(secret_load(dir, UPSLOT_KEY_FILE, k, sizeof(k)), 0);
	upslot_key_set(k);
	assert_true(upslot_key_known());
	upslot_sign(tok, ID, "f", 1, "t/t", 10);
	key(9);
	/* read back: the same key, so the token verifies again */
	assert_int_equal(secret_load(dir, UPSLOT_KEY_FILE, again,
	    sizeof(again)), 0);
	assert_memory_equal(k, again, sizeof(k));
	upslot_key_set(again);
	assert_int_equal(upslot_verify(tok, ID, "f", "t/t", 0, &size),
	    UPSLOT_OK);
	snprintf(path, sizeof(path), "%s/%s", dir, UPSLOT_KEY_FILE);
	assert_int_equal(truncate(path, 5), 0);
	assert_int_equal(secret_load(dir, UPSLOT_KEY_FILE, again,
	    sizeof(again)), -1);
	unlink(path);
	rmdir(dir);
}

UNIT_MAIN(
	cmocka_unit_test(test_upslot_roundtrip),
	cmocka_unit_test(test_upslot_forgeries),
	cmocka_unit_test(test_upslot_malformed),
	cmocka_unit_test(test_upslot_names),
	cmocka_unit_test(test_upslot_key_file),
)
