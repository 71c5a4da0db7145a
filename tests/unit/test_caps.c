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

#include "../../common/util.h"
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
	assert_int_equal(caps_ver_len(CAPS_SHA256), 44);
	assert_int_equal(caps_ver_len(CAPS_SHA1), 28);
	assert_int_equal(caps_ver_len(CAPS_SHA512), 88);
	assert_int_equal(caps_ver_len(CAPS_ALGO_NONE), 0);
	assert_string_not_equal(r.ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
}

/* answers judged by 5.4, and S where it is accepted */
static const struct {
	const char	*why;
	const char	*xml;	/* inside the <query/> */
	int		 rc;
	const char	*s;
} cases[] = {
	{ "5.4 3.4: a feature twice",
	  "<identity category='client' type='pc'/>"
	  "<feature var='a'/><feature var='b'/><feature var='a'/>", -1, NULL },
	{ "5.4 3.3: an identity twice",
	  "<identity category='client' type='pc' name='x'/>"
	  "<identity category='client' type='pc' name='x'/>", -1, NULL },
	{ "another language is another identity",
	  "<identity category='client' type='pc' name='x'/>"
	  "<identity category='client' type='pc' name='x' xml:lang='en'/>",
	  0, "client/pc//x<client/pc/en/x<" },
	{ "5.4 3.5: two forms of one FORM_TYPE",
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	  "</field></x><x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	  "</field></x>", -1, NULL },
	{ "5.4 3.5: a FORM_TYPE of two values",
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	  "<value>urn:b</value></field></x>", -1, NULL },
	{ "the same FORM_TYPE value twice is one",
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	  "<value>urn:a</value></field><field var='f'><value>v</value>"
	  "</field></x>", 0, "urn:a<f<v<" },
	{ "two fields of one var: their order would be a guess",
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
	  "</field><field var='f'><value>1</value></field>"
	  "<field var='f'><value>2</value></field></x>", -1, NULL },
	{ "two FORM_TYPE fields, one hidden",
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE'><value>urn:a</value></field>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:b</value>"
	  "</field></x>", -1, NULL },
	{ "5.4 3.6: no FORM_TYPE, or one not hidden: the form is ignored",
	  "<feature var='f'/>"
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE'><value>urn:a</value></field>"
	  "<field var='g'><value>1</value></field></x>"
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='h'><value>2</value></field></x>"
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:b</value></field>"
	  "</x>", 0, "f<urn:b<" },
	/*
	 * 5.1 step 2: identities by category, then type, then lang, not by
	 * the joined string ("a" before "a-b" although '-' sorts before
	 * '/'); forms by FORM_TYPE, fields by var, values by their text
	 */
	{ "sorted field by field",
	  "<identity category='a-b' type='x'/>"
	  "<identity category='a' type='y'/>"
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:z</value></field>"
	  "<field var='b'><value>2</value><value>10</value></field>"
	  "<field var='a'><value/></field></x>"
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:m</value></field>"
	  "</x>", 0, "a/y//<a-b/x//<urn:m<urn:z<a<<b<10<2<" },
	{ "elements of other namespaces are neither identities nor features",
	  "<feature xmlns='urn:other' var='x'/>"
	  "<identity xmlns='urn:other' category='c' type='t'/>"
	  "<feature var='y'/>", 0, "y<" },
	/* a name ending "<feature" would hash like one feature more */
	{ "'<' inside a part",
	  "<identity category='client' name='Exodus 0.9.1&lt;"
	  "http://jabber.org/protocol/caps' type='pc'/>"
	  "<feature var='http://jabber.org/protocol/disco#info'/>", -1, NULL },
	{ "'<' inside a value",
	  "<x xmlns='jabber:x:data' type='result'>"
	  "<field var='FORM_TYPE' type='hidden'><value>urn:a</value></field>"
	  "<field var='f'><value>a&lt;b</value></field></x>", -1, NULL },
};

static void
test_cases(void **state)
{
	struct result	r;
	char		xml[2048];
	size_t		i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		snprintf(xml, sizeof(xml), "<query xmlns='" NS_DISCO_INFO
		    "'>%s</query>", cases[i].xml);
		r = ver_of(xml, CAPS_SHA1);
		if (r.rc != cases[i].rc)
			fail_msg("%s: rc %d", cases[i].why, r.rc);
		if (cases[i].s != NULL && strcmp(r.s, cases[i].s) != 0)
			fail_msg("%s: S is \"%s\"", cases[i].why, r.s);
	}
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
}

UNIT_MAIN(
	cmocka_unit_test(test_simple_example),
	cmocka_unit_test(test_complex_example),
	cmocka_unit_test(test_other_algorithms),
	cmocka_unit_test(test_cases),
	cmocka_unit_test(test_wrong_hash),
)
