/*
 * Fuzz target: JID parsing and normalisation (common/jid.c). Oracles:
 * normalisation is idempotent -- parse(full(parse(x))) == parse(x), and
 * the same for the bare form, jid_format() and each single-part prep --
 * and what comes out respects RFC 7622's lengths and never holds a
 * character the part's profile maps away (upper-case ASCII in node and
 * domain, '@' or '/' where they would change the split).
 *
 * Input: the bytes up to the first NUL are the JID; the rest, if any,
 * goes to jid_nodeprep, jid_nameprep and jid_resourceprep.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/jid.h"
#include "../../common/util.h"
#include "fuzz.h"

static bool
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
check_part(const char *what, const char *s, bool lower, const char *deny)
{
	size_t	i, n;

	if (s == NULL)
		return;
	n = strlen(s);
	FUZZ_CHECK(n > 0 && n <= JID_PART_MAX, "%s of %zu bytes", what, n);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(!lower || s[i] < 'A' || s[i] > 'Z',
		    "%s \"%s\" keeps upper case", what, s);
		FUZZ_CHECK(deny == NULL || strchr(deny, s[i]) == NULL,
		    "%s \"%s\" holds '%c'", what, s, s[i]);
	}
}

static void
check_parse_again(const char *s, const struct jid *want, bool bare)
{
	struct jid	j;

	FUZZ_CHECK(jid_parse(&j, s) == 0, "\"%s\" (normalised) does not "
	    "parse", s);
	FUZZ_CHECK(same(j.node, want->node) && same(j.domain, want->domain) &&
	    same(j.resource, bare ? NULL : want->resource),
	    "\"%s\" parses to %s@%s/%s, not %s@%s/%s", s,
	    j.node ? j.node : "-", j.domain, j.resource ? j.resource : "-",
	    want->node ? want->node : "-", want->domain,
	    want->resource ? want->resource : "-");
	jid_clear(&j);
}

static void
check_jid(const char *s)
{
	struct jid	 j;
	char		*full, *bare;
	char		 fmt[JID_STR_MAX + 1];

	if (jid_parse(&j, s) == -1) {
		FUZZ_CHECK(j.node == NULL && j.domain == NULL &&
		    j.resource == NULL, "a failed parse left parts behind");
		return;
	}
	FUZZ_CHECK(j.domain != NULL, "no domain");
	check_part("node", j.node, true, "@/\"&':<> ");
	/* a domain is labels of LDH (and '_') or non-ASCII, or [v6] */
	check_part("domain", j.domain, true, "@/ ");
	check_part("resource", j.resource, false, NULL);

	full = jid_full(&j);
	bare = jid_bare(&j);
	FUZZ_CHECK(strlen(full) <= JID_STR_MAX, "full JID of %zu bytes",
	    strlen(full));
	jid_format(fmt, j.node, j.domain, j.resource);
	FUZZ_CHECK(strcmp(fmt, full) == 0, "jid_format \"%s\" != jid_full "
	    "\"%s\"", fmt, full);
	check_parse_again(full, &j, false);
	check_parse_again(bare, &j, true);
	free(full);
	free(bare);
	jid_clear(&j);
}

/* one profile: out = prep(in) must be a fixed point */
static void
check_prep(const char *what, int (*prep)(const char *, char *),
    const char *in)
{
	char	out[JID_PART_MAX + 1], again[JID_PART_MAX + 1];

	if (prep(in, out) == -1)
		return;
	FUZZ_CHECK(strlen(out) > 0 && strlen(out) <= JID_PART_MAX,
	    "%s of %zu bytes", what, strlen(out));
	FUZZ_CHECK(prep(out, again) == 0, "%s(\"%s\") = \"%s\" is refused "
	    "the second time", what, in, out);
	FUZZ_CHECK(strcmp(out, again) == 0, "%s is not idempotent: \"%s\" "
	    "-> \"%s\" -> \"%s\"", what, in, out, again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	*s, *rest;
	size_t	 n;

	s = xstrndup((const char *)data, len);
	check_jid(s);
	n = strlen(s);
	if (n < len) {
		rest = s + n + 1;
		check_prep("nodeprep", jid_nodeprep, rest);
		check_prep("nameprep", jid_nameprep, rest);
		check_prep("resourceprep", jid_resourceprep, rest);
	}
	free(s);
	return 0;
}
