/*
 * JID parsing and preparation: RFC 7622 splitting, the stringprep profiles
 * (case folding, NFKC, prohibited characters, bidi), part length limits,
 * domain labels, IP literals and malformed UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stringprep.h>

#include "../../common/jid.h"
#include "../../common/util.h"
#include "unit.h"

/* expects s to parse into the given parts (NULL: absent) */
static void
check_jid(const char *s, const char *node, const char *domain,
    const char *resource)
{
	struct jid	j;

	if (jid_parse(&j, s) != 0)
		fail_msg("jid_parse(\"%s\") failed", s);
	if (node == NULL)
		assert_null(j.node);
	else {
		assert_non_null(j.node);
		assert_string_equal(j.node, node);
	}
	assert_non_null(j.domain);
	assert_string_equal(j.domain, domain);
	if (resource == NULL)
		assert_null(j.resource);
	else {
		assert_non_null(j.resource);
		assert_string_equal(j.resource, resource);
	}
	jid_clear(&j);
}

static void
check_bad(const char *s)
{
	struct jid	j;

	if (jid_parse(&j, s) != -1)
		fail_msg("jid_parse(\"%s\") accepted: %s@%s/%s", s,
		    j.node ? j.node : "-", j.domain, j.resource ?
		    j.resource : "-");
	assert_null(j.node);
	assert_null(j.domain);
	assert_null(j.resource);
}

/* returns new: c repeated n times */
static char *
rep(const char *c, size_t n)
{
	size_t	 cl = strlen(c), i;
	char	*s;

	s = malloc(cl * n + 1);
	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * cl, c, cl);
	s[cl * n] = '\0';
	return s;
}

static void
test_jid_split_forms(void **state)
{
	(void)state;
	check_jid("alice@example.com/phone", "alice", "example.com", "phone");
	check_jid("alice@example.com", "alice", "example.com", NULL);
	check_jid("example.com", NULL, "example.com", NULL);
	check_jid("example.com/phone", NULL, "example.com", "phone");
}

/* RFC 7622 3.1: the first '/' ends the domain; '@' after it is resource */
static void
test_jid_split_rules(void **state)
{
	(void)state;
	check_jid("a/b@c", NULL, "a", "b@c");
	check_jid("a@b/c@d/e", "a", "b", "c@d/e");
	check_jid("a@b//", "a", "b", "/");
	/* node is before the first '@': the domain "b@c" is not a name */
	check_bad("a@b@c");
	check_bad("a@b@c/d");
}

static void
test_jid_empty_parts(void **state)
{
	(void)state;
	check_bad("");
	check_bad("@");
	check_bad("/");
	check_bad("@/");
	check_bad("@example.com");
	check_bad("example.com/");
	check_bad("alice@example.com/");
	check_bad("alice@");
	check_bad("alice@/res");
	check_bad("/res");
	assert_int_equal(jid_parse(&(struct jid){ 0 }, NULL), -1);
}

static void
test_jid_case_folding(void **state)
{
	(void)state;
	check_jid("\xc3\x84LICE@Example.COM/Res",
	    "\xc3\xa4lice", "example.com", "Res");
	check_jid("Alice@EXAMPLE.org/Phone", "alice", "example.org", "Phone");
	/* table B.2: U+00DF sharp s folds to "ss", Greek capital sigma */
	check_jid("Stra\xc3\x9f" "e@example.com", "strasse", "example.com",
	    NULL);
	check_jid("\xce\xa3\xce\x91\xce\xa3@example.com",
	    "\xcf\x83\xce\xb1\xcf\x83", "example.com", NULL);
	/* resourceprep keeps case */
	check_jid("a@b/\xc3\x84Z", "a", "b", "\xc3\x84Z");
	/* nameprep folds a non-ASCII domain too */
	check_jid("B\xc3\x9c" "CHER.example", NULL, "b\xc3\xbc" "cher.example",
	    NULL);
}

/* NFKC: compatibility characters and ligatures */
static void
test_jid_compatibility_mapping(void **state)
{
	(void)state;
	check_jid("\xef\xac\x81@example.com", "fi", "example.com", NULL);
	check_jid("a@example.com/\xef\xac\x81", "a", "example.com", "fi");
	/* fullwidth letters, and the fullwidth full stop as a dot */
	check_jid("\xef\xbc\xa1\xef\xbc\xa2@\xef\xbd\x85\xef\xbd\x98"
	    "\xef\xbc\x8e\xef\xbd\x83\xef\xbd\x8f", "ab", "ex.co", NULL);
	/* ideographic full stop separates labels (RFC 3490 3.1) */
	check_jid("a@example\xe3\x80\x82" "com", "a", "example.com", NULL);
	/* table B.1: soft hyphen maps to nothing */
	check_jid("a\xc2\xad" "b@example.com/x\xc2\xad" "y", "ab",
	    "example.com", "xy");
	/* a part that maps to nothing at all is empty */
	check_bad("\xc2\xad@example.com");
	check_bad("example.com/\xc2\xad");
	check_bad("\xc2\xad");
}

static void
test_jid_prohibited_node(void **state)
{
	const char	*bad = "\"&'/:<> @";
	char		 s[16], out[JID_PART_MAX + 1];
	size_t		 i;

	(void)state;
	for (i = 0; bad[i] != '\0'; i++) {
		snprintf(s, sizeof(s), "a%cb", bad[i]);
		if (jid_nodeprep(s, out) != -1)
			fail_msg("nodeprep accepted '%c'", bad[i]);
	}
	check_bad("a\"b@example.com");
	check_bad("a&b@example.com");
	check_bad("a'b@example.com");
	check_bad("a:b@example.com");
	check_bad("a<b@example.com");
	check_bad("a>b@example.com");
	check_bad("al ice@example.com");
	check_bad("a\tb@example.com");
	check_bad("a\x7f" "b@example.com");
	/* C.1.2 ideographic space, C.3 private use, C.6 U+FFFD */
	check_bad("a\xe3\x80\x80" "b@example.com");
	check_bad("a\xee\x80\x80" "b@example.com");
	check_bad("a\xef\xbf\xbd" "b@example.com");
	assert_int_equal(jid_nodeprep("alice", out), 0);
	assert_string_equal(out, "alice");
}

static void
test_jid_prohibited_resource(void **state)
{
	(void)state;
	/* resourceprep allows ASCII space and the node-only prohibitions */
	check_jid("a@example.com/my phone", "a", "example.com", "my phone");
	check_jid("a@example.com/ ", "a", "example.com", " ");
	check_jid("a@example.com/\"&'<>:@/", "a", "example.com",
	    "\"&'<>:@/");
	check_bad("a@example.com/x\ty");
	check_bad("a@example.com/x\x7f");
	/* NFKC turns U+3000 into a space; U+2028 stays and is C.1.2 */
	check_jid("a@example.com/x\xe3\x80\x80y", "a", "example.com", "x y");
	check_bad("a@example.com/x\xe2\x80\xa8y");
	check_bad("a@example.com/x\xee\x80\x80");
	/* code points unassigned in Unicode 3.2 are allowed, as in Prosody */
	check_jid("a@example.com/phone \xf0\x9f\x93\xb1", "a",
	    "example.com", "phone \xf0\x9f\x93\xb1");
}

/* RFC 3454 6: no mixing RAL and L, and RAL strings start and end in RAL */
static void
test_jid_bidi(void **state)
{
	(void)state;
	check_jid("\xd7\x90\xd7\x91@example.com", "\xd7\x90\xd7\x91",
	    "example.com", NULL);
	check_bad("\xd7\x90" "a@example.com");
	check_bad("a\xd7\x90@example.com");
	check_bad("\xd7\x90" "1@example.com");
	check_bad("a@example.com/x\xd7\x90");
	check_bad("a@\xd7\x90x.example");
	check_jid("a@example.com/\xd7\x90" "1\xd7\x91", "a", "example.com",
	    "\xd7\x90" "1\xd7\x91");
}

/* returns new: fmt with its one %s replaced by c repeated n times */
static char *
rep_in(const char *fmt, const char *c, size_t n)
{
	const char	*at = strstr(fmt, "%s");
	char		*r, *s;
	size_t		 pre, rl;

	assert_non_null(at);
	pre = (size_t)(at - fmt);
	r = rep(c, n);
	rl = strlen(r);
	s = malloc(strlen(fmt) - 2 + rl + 1);
	assert_non_null(s);
	memcpy(s, fmt, pre);
	memcpy(s + pre, r, rl);
	strcpy(s + pre + rl, at + 2);
	free(r);
	return s;
}

/* stands for the repeated string among a length case's expected parts */
#define REP	((const char *)1)

/*
 * A part at its length limit: c repeated n times, written into good (it
 * parses into node@domain/resource, REP being the repeated string) and
 * into bad (refused); either may be NULL.
 */
static const struct {
	const char	*c;
	size_t		 n;
	const char	*good, *bad;
	const char	*node, *domain, *resource;
} lengths[] = {
	{ "a", JID_PART_MAX, "%s@example.com", "%sa@example.com",
	    REP, "example.com", NULL },
	/* 511 two-byte characters: 1022 bytes fit, 512 (1024) do not */
	{ "\xc3\xa4", 511, "%s@x", "%s\xc3\xa4@x", REP, "x", NULL },
	/* the limit applies after preparation: soft hyphens vanish */
	{ "a", JID_PART_MAX, "%s\xc2\xad@x", NULL, REP, "x", NULL },
	{ "r", JID_PART_MAX, "a@x/%s", "a@x/%sr", "a", "x", REP },
	/*
	 * NFKC expansion: U+FDFA (3 bytes) becomes 33 bytes, so 32 of them
	 * are too long although the input is only 99 bytes.
	 */
	{ "\xef\xb7\xba", 32, NULL, "a@x/%s", NULL, NULL, NULL },
};

static void
test_jid_part_lengths(void **state)
{
	struct jid	 j;
	char		*r, *s;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(lengths); i++) {
		r = rep(lengths[i].c, lengths[i].n);
		if (lengths[i].good != NULL) {
			s = rep_in(lengths[i].good, lengths[i].c,
			    lengths[i].n);
			check_jid(s,
			    lengths[i].node == REP ? r : lengths[i].node,
			    lengths[i].domain,
			    lengths[i].resource == REP ? r :
			    lengths[i].resource);
			free(s);
		}
		if (lengths[i].bad != NULL) {
			s = rep_in(lengths[i].bad, lengths[i].c, lengths[i].n);
			check_bad(s);
			free(s);
		}
		free(r);
	}

	/* 31 of U+FDFA prepare to exactly 1023 bytes */
	s = rep_in("a@x/%s", "\xef\xb7\xba", 31);
	assert_int_equal(jid_parse(&j, s), 0);
	assert_int_equal(strlen(j.resource), JID_PART_MAX);
	jid_clear(&j);
	free(s);
}

/* 16 labels of 63 'a' joined by dots: 1023 bytes */
static void
test_jid_domain_length(void **state)
{
	char	*d, *s;
	size_t	 i;

	(void)state;
	d = rep("a", JID_PART_MAX);
	for (i = 63; i < JID_PART_MAX; i += 64)
		d[i] = '.';
	check_jid(d, NULL, d, NULL);
	s = malloc(JID_PART_MAX + 16);
	assert_non_null(s);
	/* a final dot is stripped before the length counts */
	sprintf(s, "u@%s./r", d);
	check_jid(s, "u", d, "r");
	/* one more byte in the last label, which stays under 63 */
	sprintf(s, "u@%sb", d);
	check_bad(s);
	free(s);
	free(d);
}

static void
test_jid_labels(void **state)
{
	char	*s;

	(void)state;
	s = rep_in("%s.example", "a", 63);
	check_jid(s, NULL, s, NULL);
	free(s);
	s = rep_in("%s.example", "a", 64);
	check_bad(s);
	free(s);

	check_bad(".example.com");
	check_bad("example..com");
	check_bad("a@.");
	check_bad(".");
	check_bad("example.com..");
	check_bad("exa mple.com");
	check_bad("alice@exa mple.com");
	check_bad("exa!mple.com");
	check_bad("exa\x01mple.com");
	check_bad("b\xc3\xbc" "cher!.example");
	check_jid("_xmpp-server.Example.com", NULL, "_xmpp-server.example.com",
	    NULL);
	check_jid("xn--bcher-kva.example", NULL, "xn--bcher-kva.example",
	    NULL);

	/* the 63-octet limit counts the ACE form of a non-ASCII label */
	s = rep_in("%s\xc3\xa4.example", "a", 50);
	check_jid(s, NULL, s, NULL);
	free(s);
	s = rep_in("%s\xc3\xa4.example", "a", 58);
	assert_true(strlen(s) - strlen(".example") <= 63);
	check_bad(s);
	free(s);
}

/* RFC 7622 3.2: one final dot goes before any other canonicalisation */
static void
test_jid_trailing_dot(void **state)
{
	(void)state;
	check_jid("example.com.", NULL, "example.com", NULL);
	check_jid("Alice@Example.COM./r", "alice", "example.com", "r");
	check_jid("a@example.com\xe3\x80\x82", "a", "example.com", NULL);
	check_jid("1.2.3.4.", NULL, "1.2.3.4", NULL);
}

static void
test_jid_ip_literals(void **state)
{
	(void)state;
	check_jid("1.2.3.4", NULL, "1.2.3.4", NULL);
	check_jid("a@192.168.0.1/r", "a", "192.168.0.1", "r");
	check_jid("a@[::1]/r", "a", "[::1]", "r");
	check_jid("[2001:DB8::A]", NULL, "[2001:db8::a]", NULL);
	check_jid("[::FFFF:1.2.3.4]", NULL, "[::ffff:1.2.3.4]", NULL);
	check_jid("[::1].", NULL, "[::1]", NULL);
	check_bad("[::1");
	check_bad("[]");
	check_bad("[");
	check_bad("[1.2.3.4]");
	check_bad("[zz::1]");
	check_bad("[::1]x");
	check_bad("[fe80::1%eth0]");
	check_bad("a@[::1]@b");
}

static void
test_jid_invalid_utf8(void **state)
{
	static const char	*bad[] = {
		"\xc3",			/* truncated */
		"\xc0\xaf",		/* overlong '/' */
		"\xe0\x80\xaf",		/* overlong '/' */
		"\xed\xa0\x80",		/* surrogate */
		"\xf4\x90\x80\x80",	/* past U+10FFFF */
		"\xff",
		"\x80",
		"\xe2\x82",		/* truncated */
	};
	char			 s[64];
	size_t			 i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		snprintf(s, sizeof(s), "a%sb@example.com/r", bad[i]);
		check_bad(s);
		snprintf(s, sizeof(s), "a@exa%smple.com/r", bad[i]);
		check_bad(s);
		snprintf(s, sizeof(s), "a@example.com/r%s", bad[i]);
		check_bad(s);
	}
	/* a four-byte sequence is fine */
	check_jid("a@b/\xf0\x9d\x84\x9e", "a", "b", "\xf0\x9d\x84\x9e");
}

static void
test_jid_failure_leaves_cleared(void **state)
{
	struct jid	j;
	char		dummy;

	(void)state;
	j.node = j.domain = j.resource = &dummy;
	assert_int_equal(jid_parse(&j, "a@b@c"), -1);
	assert_null(j.node);
	assert_null(j.domain);
	assert_null(j.resource);
	jid_clear(&j);
	jid_clear(&j);
	assert_null(j.domain);
}

static void
test_jid_full_bare_format(void **state)
{
	static const struct {
		const char	*in, *full, *bare;
	} forms[] = {
		{ "Alice@Example.COM/Phone", "alice@example.com/Phone",
		    "alice@example.com" },
		{ "example.com/x", "example.com/x", "example.com" },
	};
	struct jid	 j;
	char		*s, out[JID_STR_MAX + 1];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(forms); i++) {
		assert_int_equal(jid_parse(&j, forms[i].in), 0);
		s = jid_full(&j);
		assert_string_equal(s, forms[i].full);
		free(s);
		s = jid_bare(&j);
		assert_string_equal(s, forms[i].bare);
		free(s);
		jid_clear(&j);
	}

	assert_ptr_equal(jid_format(out, "a", "b", "c"), out);
	assert_string_equal(out, "a@b/c");
	assert_string_equal(jid_format(out, NULL, "b", "c"), "b/c");
	assert_string_equal(jid_format(out, "a", "b", NULL), "a@b");
	assert_string_equal(jid_format(out, NULL, "b", NULL), "b");
}

/* the longest JID fills JID_STR_MAX exactly and round-trips */
static void
test_jid_longest(void **state)
{
	struct jid	 j, k;
	char		*n, *d, *r, *full, *s;
	char		 out[JID_STR_MAX + 1];
	size_t		 i;

	(void)state;
	n = rep("n", JID_PART_MAX);
	r = rep("r", JID_PART_MAX);
	d = rep("a", JID_PART_MAX);
	for (i = 63; i < JID_PART_MAX; i += 64)
		d[i] = '.';
	full = malloc(JID_STR_MAX + 1);
	assert_non_null(full);
	sprintf(full, "%s@%s/%s", n, d, r);
	assert_int_equal(strlen(full), JID_STR_MAX);
	assert_int_equal(jid_parse(&j, full), 0);
	jid_format(out, j.node, j.domain, j.resource);
	assert_string_equal(out, full);
	s = jid_full(&j);
	assert_string_equal(s, full);
	assert_int_equal(jid_parse(&k, s), 0);
	assert_string_equal(k.domain, d);
	jid_clear(&k);
	free(s);
	jid_clear(&j);
	free(n);
	free(r);
	free(d);
	free(full);
}

/* preparing a prepared JID changes nothing */
static void
test_jid_idempotent(void **state)
{
	static const char	*in[] = {
		"\xc3\x84LICE@Example.COM/Res",
		"\xef\xac\x81@\xef\xbd\x85\xef\xbd\x98\xef\xbc\x8e"
		    "\xef\xbd\x83\xef\xbd\x8f/\xef\xac\x81",
		"Stra\xc3\x9f" "e@B\xc3\x9c" "CHER.example./x y",
		"[::FFFF:1.2.3.4]/r",
		"a/b@c",
	};
	struct jid		 j, k;
	char			*s, *t;
	size_t			 i;

	(void)state;
	for (i = 0; i < nitems(in); i++) {
		assert_int_equal(jid_parse(&j, in[i]), 0);
		s = jid_full(&j);
		assert_int_equal(jid_parse(&k, s), 0);
		t = jid_full(&k);
		assert_string_equal(s, t);
		free(s);
		free(t);
		jid_clear(&j);
		jid_clear(&k);
	}
}

/* libidn and fn (ours) agree on in under profile: refused or the same */
static void
check_like_libidn(const char *what, int c, const char *in,
    const Stringprep_profile *profile, int (*fn)(const char *, char *))
{
	char	ref[64], out[JID_PART_MAX + 1];
	int	rc, ours;

	strcpy(ref, in);
	rc = stringprep(ref, sizeof(ref), 0, profile);
	ours = fn(in, out);
	if ((rc == STRINGPREP_OK) != (ours == 0))
		fail_msg("%s differs on 0x%02x", what, c);
	if (ours == 0)
		assert_string_equal(out, ref);
}

/*
 * The module prepares pure ASCII without libidn; it must agree with libidn
 * on every ASCII character, for nodeprep and resourceprep, and for
 * nameprep on the characters a domain label may hold.
 */
static void
test_jid_ascii_matches_libidn(void **state)
{
	char	in[8], ref[64], out[JID_PART_MAX + 1];
	int	c, rc, ours;

	(void)state;
	for (c = 1; c < 128; c++) {
		snprintf(in, sizeof(in), "x%cY", c);

		check_like_libidn("nodeprep", c, in, stringprep_xmpp_nodeprep,
		    jid_nodeprep);
		check_like_libidn("resourceprep", c, in,
		    stringprep_xmpp_resourceprep, jid_resourceprep);

		strcpy(ref, in);
		rc = stringprep_nameprep(ref, sizeof(ref));
		assert_int_equal(rc, STRINGPREP_OK);
		ours = jid_nameprep(in, out);
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '-' || c == '_') {
			assert_int_equal(ours, 0);
			assert_string_equal(out, ref);
		} else if (c != '.')
			assert_int_equal(ours, -1);
	}
}

static void
test_jid_single_part_helpers(void **state)
{
	char	out[JID_PART_MAX + 1], *s;

	(void)state;
	assert_int_equal(jid_nodeprep("\xc3\x84LICE", out), 0);
	assert_string_equal(out, "\xc3\xa4lice");
	assert_int_equal(jid_nodeprep("", out), -1);
	assert_int_equal(jid_nodeprep("a@b", out), -1);
	assert_int_equal(jid_resourceprep("Phone/1@x", out), 0);
	assert_string_equal(out, "Phone/1@x");
	assert_int_equal(jid_resourceprep("", out), -1);
	assert_int_equal(jid_nameprep("Example.COM.", out), 0);
	assert_string_equal(out, "example.com");
	assert_int_equal(jid_nameprep("[::1]", out), 0);
	assert_string_equal(out, "[::1]");
	assert_int_equal(jid_nameprep("a/b", out), -1);
	assert_int_equal(jid_nameprep("", out), -1);

	s = rep("a", JID_PART_MAX);
	assert_int_equal(jid_nodeprep(s, out), 0);
	assert_int_equal(strlen(out), JID_PART_MAX);
	free(s);
	s = rep("a", JID_PART_MAX + 1);
	assert_int_equal(jid_nodeprep(s, out), -1);
	assert_int_equal(jid_resourceprep(s, out), -1);
	free(s);
	/* raw input far past any valid part is refused without preparing */
	s = rep("\xc2\xad", 4 * JID_PART_MAX);
	assert_int_equal(jid_nodeprep(s, out), -1);
	free(s);
}

/* the domain read off a prepared JID (router envelopes) */
static void
test_jid_domain_of(void **state)
{
	char	dom[JID_PART_MAX + 1], big[JID_PART_MAX + 8];

	(void)state;
	assert_true(jid_domain_of("bot@gw.example.org/x@y", dom));
	assert_string_equal(dom, "gw.example.org");
	assert_true(jid_domain_of("gw.example.org", dom));
	assert_string_equal(dom, "gw.example.org");
	assert_true(jid_domain_of("example.org/res", dom));
	assert_string_equal(dom, "example.org");
	assert_false(jid_domain_of("user@", dom));
	assert_false(jid_domain_of("/res", dom));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(jid_domain_of(big, dom));
}

UNIT_MAIN(
	cmocka_unit_test(test_jid_domain_of),
	cmocka_unit_test(test_jid_split_forms),
	cmocka_unit_test(test_jid_split_rules),
	cmocka_unit_test(test_jid_empty_parts),
	cmocka_unit_test(test_jid_case_folding),
	cmocka_unit_test(test_jid_compatibility_mapping),
	cmocka_unit_test(test_jid_prohibited_node),
	cmocka_unit_test(test_jid_prohibited_resource),
	cmocka_unit_test(test_jid_bidi),
	cmocka_unit_test(test_jid_part_lengths),
	cmocka_unit_test(test_jid_domain_length),
	cmocka_unit_test(test_jid_labels),
	cmocka_unit_test(test_jid_trailing_dot),
	cmocka_unit_test(test_jid_ip_literals),
	cmocka_unit_test(test_jid_invalid_utf8),
	cmocka_unit_test(test_jid_failure_leaves_cleared),
	cmocka_unit_test(test_jid_full_bare_format),
	cmocka_unit_test(test_jid_longest),
	cmocka_unit_test(test_jid_idempotent),
	cmocka_unit_test(test_jid_ascii_matches_libidn),
	cmocka_unit_test(test_jid_single_part_helpers),
)
