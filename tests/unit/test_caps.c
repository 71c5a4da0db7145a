/*
 * Unit tests for router/capsver.c: the XEP-0115 verification string of
 * the section 5.2 and 5.3 worked examples (S and ver), the checks of
 * section 5.4 that make an answer ill-formed, forms that are ignored,
 * sort order by field rather than by the joined string, and answers
 * that do not hash to the ver they claim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/xmlstream.h"
#include "../../router/router.h"
#include "unit.h"

/* XEP-0115 5.2 */
static const char simple[] =
    "<query xmlns='http://jabber.org/protocol/disco#info'>"
    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
    "<feature var='http://jabber.org/protocol/muc'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "</query>";

/* XEP-0115 5.3 (Psi, two languages, a software information form) */
static const char complex_[] =
    "<query xmlns='http://jabber.org/protocol/disco#info' "
    "node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>"
    "<identity xml:lang='en' category='client' name='Psi 0.11' "
    "type='pc'/>"
    "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' "
    "type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/>"
    "<x xmlns='jabber:x:data' type='result'>"
    "<field var='FORM_TYPE' type='hidden'>"
    "<value>urn:xmpp:dataforms:softwareinfo</value></field>"
    "<field var='ip_version'><value>ipv6</value><value>ipv4</value>"
    "</field>"
    "<field var='os'><value>Mac</value></field>"
    "<field var='os_version'><value>10.5.1</value></field>"
    "<field var='software'><value>Psi</value></field>"
    "<field var='software_version'><value>0.11</value></field>"
    "</x></query>";

struct result {
	int	 rc;
	char	 ver[CAPS_VER_MAX];
	char	 s[4096];
	char	 feats[1024];	/* the sorted features, ' '-separated */
	int	 algo;
};

static void
run(struct xnode *q, struct arena *a, void *arg)
{
	struct result	*r = arg;
	const char	**feat;
	struct buf	 b;
	size_t		 n, i;

	buf_init(&b, 65536);
	r->rc = caps_string(a, &b, q, &feat, &n);
	if (r->rc == 0) {
		snprintf(r->s, sizeof(r->s), "%.*s", (int)buf_avail(&b),
		    buf_rptr(&b));
		for (i = 0; i < n; i++) {
			strncat(r->feats, feat[i],
			    sizeof(r->feats) - strlen(r->feats) - 2);
			strcat(r->feats, " ");
		}
		assert_int_equal(caps_ver_make(a, q, r->algo, r->ver,
		    sizeof(r->ver), NULL, NULL), 0);
	}
	buf_clear(&b);
}

static struct result
ver_of(const char *xml, int algo)
{
	struct xparse	*xp = xparse_new(NS_CLIENT, 65536);
	struct result	 r;

	memset(&r, 0, sizeof(r));
	r.algo = algo;
	assert_int_equal(xparse_one(xp, xml, strlen(xml), run, &r), 0);
	xparse_free(xp);
	return r;
}

static void
test_simple_example(void **state)
{
	struct result	r = ver_of(simple, CAPS_SHA1);

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.s, "client/pc//Exodus 0.9.1<"
	    "http://jabber.org/protocol/caps<"
	    "http://jabber.org/protocol/disco#info<"
	    "http://jabber.org/protocol/disco#items<"
	    "http://jabber.org/protocol/muc<");
	assert_string_equal(r.ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
	assert_string_equal(r.feats, "http://jabber.org/protocol/caps "
	    "http://jabber.org/protocol/disco#info "
	    "http://jabber.org/protocol/disco#items "
	    "http://jabber.org/protocol/muc ");
}

static void
test_complex_example(void **state)
{
	struct result	r = ver_of(complex_, CAPS_SHA1);

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.s, "client/pc/el/\xce\xa8 0.11<"
	    "client/pc/en/Psi 0.11<"
	    "http://jabber.org/protocol/caps<"
	    "http://jabber.org/protocol/disco#info<"
	    "http://jabber.org/protocol/disco#items<"
	    "http://jabber.org/protocol/muc<"
	    "urn:xmpp:dataforms:softwareinfo<"
	    "ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<"
	    "software<Psi<software_version<0.11<");
	assert_string_equal(r.ver, "q07IKJEyjvHSyhy//CH0CxmKi8w=");
}

/* the hash attribute names the function: the same S, another ver */
static void
test_other_algorithms(void **state)
{
	struct result	r = ver_of(simple, CAPS_SHA256);

	(void)state;
	assert_int_equal(caps_algo_find("sha-1"), CAPS_SHA1);
	assert_int_equal(caps_algo_find("sha-256"), CAPS_SHA256);
	assert_int_equal(caps_algo_find("sha3-512"), CAPS_SHA3_512);
	/* MD5 is not one we trust; unknown names neither */
	assert_int_equal(caps_algo_find("md5"), -1);
	assert_int_equal(caps_algo_find("SHA-1"), -1);
	assert_int_equal(caps_algo_find(""), -1);
	assert_int_equal(r.rc, 0);
	/* base64 of 32 bytes */
	assert_int_equal(strlen(r.ver), 44);
	assert_string_not_equal(r.ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
}

/* 5.4 step 3.4 */
static void
test_duplicate_feature(void **state)
{
	struct result	r = ver_of("<query xmlns='http://jabber.org/protocol/"
	    "disco#info'><identity category='client' type='pc'/>"
	    "<feature var='a'/><feature var='b'/><feature var='a'/>"
	    "</query>", CAPS_SHA1);

	(void)state;
	assert_int_equal(r.rc, -1);
}

/* 5.4 step 3.3: same category/type/lang/name twice */
static void
test_duplicate_identity(void **state)
{
	struct result	r;

	(void)state;
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<identity category='client' type='pc' name='x'/>"
	    "<identity category='client' type='pc' name='x'/>"
	    "</query>", CAPS_SHA1);
	assert_int_equal(r.rc, -1);
	/* another language is another identity */
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<identity category='client' type='pc' name='x'/>"
	    "<identity category='client' type='pc' name='x' xml:lang='en'/>"
	    "</query>", CAPS_SHA1);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.s, "client/pc//x<client/pc/en/x<");
}

/* 5.4 step 3.5: two forms of one FORM_TYPE; a FORM_TYPE of two values */
static void
test_form_type_rules(void **state)
{
	struct result	r;

	(void)state;
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	    "</field></x>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	    "</field></x></query>", CAPS_SHA1);
	assert_int_equal(r.rc, -1);
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	    "<value>urn:b</value></field></x></query>", CAPS_SHA1);
	assert_int_equal(r.rc, -1);
	/* the same value twice is one FORM_TYPE */
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	    "<value>urn:a</value></field><field var='f'><value>v</value>"
	    "</field></x></query>", CAPS_SHA1);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.s, "urn:a<f<v<");
	/* two fields of one var: which comes first would be a guess */
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	    "</field><field var='f'><value>1</value></field>"
	    "<field var='f'><value>2</value></field></x></query>", CAPS_SHA1);
	assert_int_equal(r.rc, -1);
	/* two FORM_TYPE fields, only one hidden */
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE'><value>urn:a</value></field>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:b</value>"
	    "</field></x></query>", CAPS_SHA1);
	assert_int_equal(r.rc, -1);
}

/* 5.4 step 3.6: no FORM_TYPE, or one not hidden: the form is ignored */
static void
test_ignored_forms(void **state)
{
	struct result	r;

	(void)state;
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<feature var='f'/>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE'><value>urn:a</value></field>"
	    "<field var='g'><value>1</value></field></x>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='h'><value>2</value></field></x>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:b</value></field>"
	    "</x></query>", CAPS_SHA1);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.s, "f<urn:b<");
}

/*
 * Identities sort by category, then type, then lang (5.1 step 2), not
 * by the joined string: "a" before "a-b" although '-' sorts before '/'.
 * Forms by FORM_TYPE, fields by var, values by their text.
 */
static void
test_sort_by_field(void **state)
{
	struct result	r;

	(void)state;
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<identity category='a-b' type='x'/>"
	    "<identity category='a' type='y'/>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:z</value></field>"
	    "<field var='b'><value>2</value><value>10</value></field>"
	    "<field var='a'><value/></field></x>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:m</value></field>"
	    "</x></query>", CAPS_SHA1);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.s, "a/y//<a-b/x//<urn:m<urn:z<a<<b<10<2<");
}

/*
 * A wrong hash: an answer that leaves out one feature of the simple
 * example, or adds one, does not hash to the example's ver.
 */
static void
test_wrong_hash(void **state)
{
	struct result	r;

	(void)state;
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
	    "<feature var='http://jabber.org/protocol/disco#info'/>"
	    "<feature var='http://jabber.org/protocol/caps'/>"
	    "<feature var='http://jabber.org/protocol/disco#items'/>"
	    "</query>", CAPS_SHA1);
	assert_int_equal(r.rc, 0);
	assert_string_not_equal(r.ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
	    "<feature var='http://jabber.org/protocol/muc'/>"
	    "<feature var='http://jabber.org/protocol/disco#info'/>"
	    "<feature var='http://jabber.org/protocol/caps'/>"
	    "<feature var='http://jabber.org/protocol/disco#items'/>"
	    "<feature var='http://jabber.org/protocol/pubsub+notify'/>"
	    "</query>", CAPS_SHA1);
	assert_int_equal(r.rc, 0);
	assert_string_not_equal(r.ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
	/*
	 * '<' inside a name would give the bytes of S of the example with
	 * one feature fewer: refused, so it cannot pass for the separator
	 */
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<identity category='client' name='Exodus 0.9.1&lt;"
	    "http://jabber.org/protocol/caps' type='pc'/>"
	    "<feature var='http://jabber.org/protocol/disco#info'/>"
	    "<feature var='http://jabber.org/protocol/disco#items'/>"
	    "<feature var='http://jabber.org/protocol/muc'/>"
	    "</query>", CAPS_SHA1);
	assert_int_equal(r.rc, -1);
}

/* elements of other namespaces are not identities or features */
static void
test_foreign_elements(void **state)
{
	struct result	r;

	(void)state;
	r = ver_of("<query xmlns='http://jabber.org/protocol/disco#info'>"
	    "<feature xmlns='urn:other' var='x'/>"
	    "<identity xmlns='urn:other' category='c' type='t'/>"
	    "<feature var='y'/></query>", CAPS_SHA1);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.s, "y<");
	assert_string_equal(r.feats, "y ");
}

UNIT_MAIN(
	cmocka_unit_test(test_simple_example),
	cmocka_unit_test(test_complex_example),
	cmocka_unit_test(test_other_algorithms),
	cmocka_unit_test(test_duplicate_feature),
	cmocka_unit_test(test_duplicate_identity),
	cmocka_unit_test(test_form_type_rules),
	cmocka_unit_test(test_ignored_forms),
	cmocka_unit_test(test_sort_by_field),
	cmocka_unit_test(test_wrong_hash),
	cmocka_unit_test(test_foreign_elements),
)
