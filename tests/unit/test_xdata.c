/*
 * Unit tests for common/xdata.c: reading submitted data forms strictly
 * (XEP-0004 3) and building forms.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/xdata.h"
#include "../../common/xmlstream.h"
#include "unit.h"

struct parsed {
	int		 rc;
	const char	*why;
	size_t		 nfields;
	size_t		 nv[4];		/* values of the first fields */
	bool		 has_m, has_zz;
	char		 first[64];
	char		 form_type[64];
};

static void
on_el(struct xnode *el, struct arena *a, void *arg)
{
	struct parsed	*p = arg;
	struct xdata	 d;
	size_t		 i;

	/* the tree lives for this call only: keep what the tests check */
	p->rc = xdata_parse(a, el, &d, &p->why);
	p->first[0] = p->form_type[0] = '\0';
	if (p->rc != 0)
		return;
	p->nfields = d.nfields;
	for (i = 0; i < d.nfields && i < 4; i++)
		p->nv[i] = d.fields[i].nvalues;
	if (d.nfields > 0)
		snprintf(p->first, sizeof(p->first), "%s=%s",
		    d.fields[0].var, d.fields[0].nvalues > 0 ?
		    d.fields[0].values[0] : "(none)");
	if (d.form_type != NULL)
		snprintf(p->form_type, sizeof(p->form_type), "%s",
		    d.form_type);
	p->has_m = xdata_field(&d, "m") != NULL;
	p->has_zz = xdata_field(&d, "zz") != NULL;
}

static struct parsed
parse(const char *xml)
{
	struct xparse	*xp = xparse_new("jabber:client", 65536);
	struct parsed	 p;

	memset(&p, 0, sizeof(p));
	p.rc = 99;
	assert_int_equal(xparse_one(xp, xml, strlen(xml), on_el, &p), 0);
	xparse_free(xp);
	return p;
}

static void
test_submit_ok(void **state)
{
	struct parsed	p;

	(void)state;
	p = parse("<x xmlns='jabber:x:data' type='submit'>"
	    "<field var='FORM_TYPE' type='hidden'><value>urn:t</value></field>"
	    "<field var='a'><value>1</value></field>"
	    "<field var='m' type='list-multi'><value>x</value><value>y</value>"
	    "</field><field var='e'/></x>");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.form_type, "urn:t");
	assert_int_equal(p.nfields, 3);	/* FORM_TYPE apart */
	assert_string_equal(p.first, "a=1");
	assert_int_equal(p.nv[1], 2);
	assert_int_equal(p.nv[2], 0);
	assert_true(p.has_m);
	assert_false(p.has_zz);
}

static void
test_submit_bad(void **state)
{
	static const char *const bad[] = {
		/* no type, unknown type */
		"<x xmlns='jabber:x:data'/>",
		"<x xmlns='jabber:x:data' type='sub'/>",
		/* not a form */
		"<x xmlns='urn:other' type='submit'/>",
		/* var missing in a submission, given twice */
		"<x xmlns='jabber:x:data' type='submit'><field/></x>",
		"<x xmlns='jabber:x:data' type='submit'><field var='a'/>"
		    "<field var='a'/></x>",
		/* two values in a single-valued field */
		"<x xmlns='jabber:x:data' type='submit'><field var='a'>"
		    "<value>1</value><value>2</value></field></x>",
		"<x xmlns='jabber:x:data' type='submit'><field var='a' "
		    "type='boolean'><value>1</value><value>0</value></field></x>",
		/* FORM_TYPE twice or empty */
		"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
		    "<value>a</value></field><field var='FORM_TYPE'><value>b"
		    "</value></field></x>",
		"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'/>"
		    "</x>",
	};
	struct parsed	p;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		p = parse(bad[i]);
		if (p.rc != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(p.why);
	}
}

static void
test_limits(void **state)
{
	char		xml[65536], *o = xml;
	struct parsed	p;
	int		i;

	(void)state;
	o += sprintf(o, "<x xmlns='jabber:x:data' type='submit'>");
	for (i = 0; i <= XDATA_FIELDS_MAX; i++)
		o += sprintf(o, "<field var='f%d'/>", i);
	sprintf(o, "</x>");
	p = parse(xml);
	assert_int_equal(p.rc, -1);
	o = xml;
	o += sprintf(o, "<x xmlns='jabber:x:data' type='submit'><field var='m'"
	    " type='list-multi'>");
	for (i = 0; i <= XDATA_VALUES_MAX; i++)
		o += sprintf(o, "<value>%d</value>", i);
	sprintf(o, "</field></x>");
	p = parse(xml);
	assert_int_equal(p.rc, -1);
}

static void
test_bool(void **state)
{
	(void)state;
	assert_int_equal(xdata_bool("1"), 1);
	assert_int_equal(xdata_bool("true"), 1);
	assert_int_equal(xdata_bool("0"), 0);
	assert_int_equal(xdata_bool("false"), 0);
	assert_int_equal(xdata_bool("yes"), -1);
	assert_int_equal(xdata_bool(""), -1);
	assert_int_equal(xdata_bool(NULL), -1);
}

static void
test_build_reads_back(void **state)
{
	struct arena	 a;
	struct xnode	*x, *f;
	struct buf	 b;
	struct parsed	 p;

	(void)state;
	arena_init(&a);
	x = xdata_new(&a, NULL, "submit", "urn:t");
	xdata_add(&a, x, "a", "text-single", "A", "v & <w>");
	f = xdata_add(&a, x, "m", "list-multi", NULL, "1");
	xdata_add_value(&a, f, "2");
	xdata_add_option(&a, f, "3");
	buf_init(&b, 0);
	assert_int_equal(xnode_write(&b, x, "jabber:client"), 0);
	p = parse(buf_cstr(&b));
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.form_type, "urn:t");
	assert_string_equal(p.first, "a=v & <w>");
	assert_int_equal(p.nv[1], 2);
	buf_clear(&b);
	arena_free(&a);
}

UNIT_MAIN(
	cmocka_unit_test(test_submit_ok),
	cmocka_unit_test(test_submit_bad),
	cmocka_unit_test(test_limits),
	cmocka_unit_test(test_bool),
	cmocka_unit_test(test_build_reads_back),
)
