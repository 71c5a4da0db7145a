/*
 * Fuzz target: the name and key checks of server authentication --
 * s2s/certid.c (certificate names, RFC 6125 as RFC 6120 13.7.2 uses it)
 * and s2s/dialback.c (XEP-0185 keys).
 *
 * Byte 0 picks the mode:
 *   0  "presented\nreference": certid_dns_match() against a model written
 *      from its documentation in certid.h (and RFC 6125 6.4.3);
 *   1  a DER certificate: certid_match_cert() for a few domains, which
 *      walks the subjectAltName and CN as GnuTLS decodes them; it must
 *      answer OK, NAME_MISMATCH or ERROR and the same every time;
 *   2  "presented\nexpected": dialback_key_equal() against its
 *      definition, and dialback_key() giving 64 lower-case hex digits
 *      that compare equal to themselves only.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../common/util.h"
#include "../../s2s/certid.h"
#include "../../s2s/dialback.h"
#include "fuzz.h"

#define NAME_MAX_LEN	512
#define MAX_LABELS	128

/* ---- the model of certid_dns_match -------------------------------------- */

struct name {
	char	buf[NAME_MAX_LEN + 1];
	char	*label[MAX_LABELS];
	size_t	 n;
	bool	 ok;
};

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * A final dot is dropped; the rest must be labels of printable ASCII
 * (dNSName is an IA5String), none of them empty.
 */
static void
split(struct name *nm, const char *s)
{
	size_t	len = strlen(s), i;
	char	*p;

	memset(nm, 0, sizeof(*nm));
	if (len > NAME_MAX_LEN)
		return;
	memcpy(nm->buf, s, len + 1);
	if (len > 0 && nm->buf[len - 1] == '.')
		nm->buf[--len] = '\0';
	if (len == 0)
		return;
	for (i = 0; i < len; i++)
		if ((unsigned char)nm->buf[i] <= 0x20 ||
		    (unsigned char)nm->buf[i] >= 0x7f)
			return;
	for (p = nm->buf; nm->n < MAX_LABELS; ) {
		nm->label[nm->n++] = p;
		if ((p = strchr(p, '.')) == NULL)
			break;
		*p++ = '\0';
	}
	if (p != NULL)
		return;		/* too many labels for the model */
	for (i = 0; i < nm->n; i++)
		if (nm->label[i][0] == '\0')
			return;
	nm->ok = true;
}

static bool
label_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (lower(*a) != lower(*b))
			return false;
	return *a == *b;
}

static bool
model_match(const char *presented, const char *reference, bool *known)
{
	struct name	p, r;
	size_t		i, first = 0;

	split(&p, presented);
	split(&r, reference);
	*known = true;
	if (!p.ok || !r.ok) {
		/* names the model cannot hold: let the code decide */
		if (strlen(presented) > NAME_MAX_LEN ||
		    strlen(reference) > NAME_MAX_LEN || p.n == MAX_LABELS ||
		    r.n == MAX_LABELS)
			*known = false;
		return false;
	}
	/* a reference is a domain, never a pattern */
	if (strchr(reference, '*') != NULL)
		return false;
	for (i = 1; i < p.n; i++)
		if (strchr(p.label[i], '*') != NULL)
			return false;
	if (strchr(p.label[0], '*') != NULL) {
		/* "*" alone, leaving two labels, standing for exactly one */
		if (strcmp(p.label[0], "*") != 0 || p.n < 3)
			return false;
		first = 1;
	}
	if (p.n != r.n)
		return false;
	for (i = first; i < p.n; i++)
		if (!label_eq(p.label[i], r.label[i]))
			return false;
	return true;
}

static void
run_names(const char *in)
{
	const char	*nl = strchr(in, '\n');
	char		*presented, *reference;
	bool		 got, want, known;

	if (nl == NULL)
		return;
	presented = xstrndup(in, (size_t)(nl - in));
	reference = xstrdup(nl + 1);
	got = certid_dns_match(presented, reference);
	want = model_match(presented, reference, &known);
	FUZZ_CHECK(!known || got == want, "certid_dns_match(\"%s\", \"%s\") "
	    "= %d, the documented rules say %d", presented, reference, got,
	    want);
	/* case never matters, and a name is itself when it is no pattern */
	if (got && strchr(presented, '*') == NULL)
		FUZZ_CHECK(certid_dns_match(reference, presented),
		    "matching is not symmetric for \"%s\", \"%s\"",
		    presented, reference);
	free(presented);
	free(reference);
}

/* ---- certificates ------------------------------------------------------- */

static void
run_cert(const uint8_t *data, size_t len)
{
	static const char *const domains[] = {
		"example.org", "xmpp.example.org", "m\xc3\xbcnchen.example",
		"a.b.example.org", "[::1]",
	};
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 der = { (unsigned char *)(uintptr_t)data,
				    (unsigned int)len };
	enum certid_result	 r, again;
	size_t			 i;

	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return;
	}
	for (i = 0; i < nitems(domains); i++) {
		r = certid_match_cert(crt, domains[i]);
		FUZZ_CHECK(r == CERTID_OK || r == CERTID_NAME_MISMATCH ||
		    r == CERTID_ERROR, "certid_match_cert: %d", (int)r);
		again = certid_match_cert(crt, domains[i]);
		FUZZ_CHECK(r == again, "certid_match_cert changed its mind");
	}
	FUZZ_CHECK(certid_match_cert(NULL, "example.org") == CERTID_NO_CERT,
	    "no certificate");
	gnutls_x509_crt_deinit(crt);
}

/* ---- dialback keys ------------------------------------------------------ */

static void
run_dialback(const char *in)
{
	const char	*nl = strchr(in, '\n');
	char		*presented, *expected, key[DIALBACK_KEY_LEN + 1];
	bool		 got, want;
	size_t		 i;

	if (nl == NULL)
		return;
	presented = xstrndup(in, (size_t)(nl - in));
	expected = xstrdup(nl + 1);
	got = dialback_key_equal(presented, expected);
	want = strlen(presented) == DIALBACK_KEY_LEN &&
	    strcmp(presented, expected) == 0;
	FUZZ_CHECK(got == want, "dialback_key_equal(\"%s\", \"%s\") = %d",
	    presented, expected, got);

	/* the secret, the domains and the id from the input */
	dialback_key(presented, expected, presented, expected, key);
	FUZZ_CHECK(strlen(key) == DIALBACK_KEY_LEN, "key of %zu digits",
	    strlen(key));
	for (i = 0; i < DIALBACK_KEY_LEN; i++)
		FUZZ_CHECK((key[i] >= '0' && key[i] <= '9') ||
		    (key[i] >= 'a' && key[i] <= 'f'), "key \"%s\"", key);
	FUZZ_CHECK(dialback_key_equal(key, key), "a key differs from itself");
	FUZZ_CHECK(dialback_key_equal(key, expected) ==
	    (strcmp(key, expected) == 0), "key compared with the input");
	free(presented);
	free(expected);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	*s;

	if (len < 1)
		return 0;
	if (data[0] % 3 == 1) {
		run_cert(data + 1, len - 1);
		return 0;
	}
	s = xstrndup((const char *)data + 1, len - 1);
	if (data[0] % 3 == 0)
		run_names(s);
	else
		run_dialback(s);
	free(s);
	return 0;
}
