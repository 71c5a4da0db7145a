/*
 * JID parsing and normalisation (RFC 7622) with the stringprep profiles
 * Prosody and ejabberd use (libidn nodeprep, nameprep, resourceprep), so
 * that an address compares the same here as on their side of a federation.
 *
 * Unassigned code points are allowed (stringprep flags 0), as Prosody's
 * default jid.prep does: libidn's tables are Unicode 3.2, and refusing
 * everything assigned since 2002 (emoji in resources, newer scripts)
 * would make us reject addresses our peers accept and store.
 */
#include <arpa/inet.h>
#include <idna.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stringprep.h>

#include "jid.h"
#include "util.h"

/*
 * A raw part may shrink in preparation (table B.1 maps some code points to
 * nothing) so raw input is allowed up to JID_STR_MAX bytes; the limit of
 * RFC 7622 3.3.1 / 3.2.1 / 3.4.1 is checked on the prepared part.
 */
#define JID_RAW_MAX	JID_STR_MAX
#define JID_LABEL_MAX	63		/* RFC 1035 2.3.4, in ACE form */

enum prep_kind {
	PREP_NODE,
	PREP_NAME,
	PREP_RESOURCE,
};

static int
is_ascii(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * The three profiles restricted to US-ASCII, where NFKC and table B.1 are
 * the identity and bidi (RFC 3454 6) cannot fail: nodeprep and nameprep map
 * A-Z by table B.2; nodeprep prohibits C.1.1 (space), C.2.1 (controls) and
 * the RFC 3920 Appendix A.5 characters; resourceprep prohibits only C.2.1;
 * nameprep prohibits no ASCII at all. This path carries nearly every JID
 * the router sees and spares libidn's UCS-4 conversions and allocations;
 * the unit test checks it against libidn for every ASCII character.
 */
static int
prep_ascii(enum prep_kind kind, const char *in, size_t len, char *out)
{
	size_t	i;
	char	c;

	for (i = 0; i < len; i++) {
		c = in[i];
		switch (kind) {
		case PREP_NODE:
			if (c <= 0x20 || c == 0x7f ||
			    strchr("\"&'/:<>@", c) != NULL)
				return -1;
			c = ascii_lower(c);
			break;
		case PREP_NAME:
			c = ascii_lower(c);
			break;
		case PREP_RESOURCE:
			if (c < 0x20 || c == 0x7f)
				return -1;
			break;
		}
		out[i] = c;
	}
	out[len] = '\0';
	return 0;
}

/*
 * Applies one stringprep profile to in[0..len) and writes the NUL-terminated
 * result to out (JID_PART_MAX + 1 bytes). Empty results are refused: no
 * part of a JID may be empty (RFC 7622 3.2.1, 3.3.1, 3.4.1).
 */
static int
prep_profile(enum prep_kind kind, const char *in, size_t len, char *out)
{
	const Stringprep_profile	*profile;
	char				 buf[JID_RAW_MAX + 1];
	size_t				 n;

	if (len == 0 || len > JID_RAW_MAX)
		return -1;
	if (!utf8_valid(in, len))
		return -1;
	if (is_ascii(in, len)) {
		if (len > JID_PART_MAX)
			return -1;
		return prep_ascii(kind, in, len, out);
	}

	switch (kind) {
	case PREP_NODE:
		profile = stringprep_xmpp_nodeprep;
		break;
	case PREP_NAME:
		profile = stringprep_nameprep;
		break;
	default:
		profile = stringprep_xmpp_resourceprep;
		break;
	}
	memcpy(buf, in, len);
	buf[len] = '\0';
	/* a result that outgrows buf is far past JID_PART_MAX anyway */
	if (stringprep(buf, sizeof(buf), 0, profile) != STRINGPREP_OK)
		return -1;
	n = strlen(buf);
	if (n == 0 || n > JID_PART_MAX)
		return -1;
	memcpy(out, buf, n + 1);
	return 0;
}

/*
 * "[v6]" per RFC 7622 3.2 (IP-literal of RFC 3986, IPv6 only: IPvFuture
 * and zone ids are not addresses a peer can reach us at). Kept as written
 * apart from lowercased hex digits.
 */
static int
domain_ipv6(const char *in, size_t len, char *out)
{
	char		addr[INET6_ADDRSTRLEN + 1];
	struct in6_addr	a6;
	size_t		i;

	if (len < 3 || in[len - 1] != ']' || len - 2 >= sizeof(addr))
		return -1;
	memcpy(addr, in + 1, len - 2);
	addr[len - 2] = '\0';
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return -1;
	out[0] = '[';
	for (i = 0; i < len - 2; i++)
		out[i + 1] = ascii_lower(addr[i]);
	out[len - 1] = ']';
	out[len] = '\0';
	return 0;
}

/*
 * Each label of a prepared domain is non-empty and at most 63 octets once
 * in ACE form (RFC 5890 2.3.2.1; libidn's ToASCII checks the length of a
 * non-ASCII label). ASCII characters must be letters, digits or '-' (the
 * NR-LDH labels of RFC 7622 3.2); '_' is also let through because service
 * and component names in the wild use it. Anything else, such as space,
 * '@', '/' or controls (none of which nameprep prohibits), is refused.
 */
static int
domain_labels_ok(const char *d)
{
	const char	*p, *dot;
	char		 label[JID_PART_MAX + 1];
	char		*ace;
	size_t		 n, i;
	int		 rc;

	for (p = d;; p = dot + 1) {
		if ((dot = strchr(p, '.')) == NULL)
			dot = p + strlen(p);
		n = (size_t)(dot - p);
		if (n == 0)
			return -1;
		for (i = 0; i < n; i++) {
			unsigned char	c = (unsigned char)p[i];

			if (c < 0x80 && !(
			    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_'))
				return -1;
		}
		if (is_ascii(p, n)) {
			if (n > JID_LABEL_MAX)
				return -1;
		} else {
			memcpy(label, p, n);
			label[n] = '\0';
			ace = NULL;
			rc = idna_to_ascii_8z(label, &ace,
			    IDNA_ALLOW_UNASSIGNED);
			if (rc == IDNA_SUCCESS && strlen(ace) > JID_LABEL_MAX)
				rc = IDNA_INVALID_LENGTH;
			free(ace);
			if (rc != IDNA_SUCCESS)
				return -1;
		}
		if (*dot == '\0')
			return 0;
	}
}

/*
 * The whole domainpart: dots recognised by IDNA (RFC 3490 3.1: U+3002,
 * U+FF0E, U+FF61) become '.', one final dot is stripped before anything
 * else (RFC 7622 3.2), IP literals are kept as written, and a name goes
 * through nameprep and the label checks.
 */
static int
domain_prep(const char *in, size_t len, char *out)
{
	char		buf[JID_RAW_MAX + 1];
	struct in_addr	a4;
	size_t		i, n;

	if (len == 0 || len > JID_RAW_MAX)
		return -1;
	if (!utf8_valid(in, len))
		return -1;
	for (i = 0, n = 0; i < len; i++) {
		if (len - i >= 3 && ((memcmp(in + i, "\xe3\x80\x82", 3) == 0 ||
		    memcmp(in + i, "\xef\xbc\x8e", 3) == 0 ||
		    memcmp(in + i, "\xef\xbd\xa1", 3) == 0))) {
			buf[n++] = '.';
			i += 2;
		} else
			buf[n++] = in[i];
	}
	if (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	if (n == 0)
		return -1;

	if (buf[0] == '[')
		return domain_ipv6(buf, n, out);
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		memcpy(out, buf, n + 1);
		return 0;
	}
	if (prep_profile(PREP_NAME, buf, n, out) == -1)
		return -1;
	return domain_labels_ok(out);
}

int
jid_nodeprep(const char *in, char *out)
{
	return prep_profile(PREP_NODE, in, strlen(in), out);
}

/* the full domainpart rules, not bare nameprep: callers prepare domains */
int
jid_nameprep(const char *in, char *out)
{
	return domain_prep(in, strlen(in), out);
}

int
jid_resourceprep(const char *in, char *out)
{
	return prep_profile(PREP_RESOURCE, in, strlen(in), out);
}

int
jid_parse(struct jid *j, const char *s)
{
	char		 node[JID_PART_MAX + 1], domain[JID_PART_MAX + 1];
	char		 res[JID_PART_MAX + 1];
	const char	*slash, *at, *dstart, *dend;
	bool		 has_node = false, has_res = false;

	j->node = j->domain = j->resource = NULL;
	if (s == NULL)
		return -1;

	/*
	 * RFC 7622 3.1: the resource is everything after the first '/'; the
	 * node is what precedes the first '@' before that '/'.
	 */
	slash = strchr(s, '/');
	dend = slash != NULL ? slash : s + strlen(s);
	at = memchr(s, '@', (size_t)(dend - s));
	dstart = s;
	if (at != NULL) {
		if (prep_profile(PREP_NODE, s, (size_t)(at - s), node) == -1)
			return -1;
		has_node = true;
		dstart = at + 1;
	}
	if (domain_prep(dstart, (size_t)(dend - dstart), domain) == -1)
		return -1;
	if (slash != NULL) {
		if (prep_profile(PREP_RESOURCE, slash + 1, strlen(slash + 1),
		    res) == -1)
			return -1;
		has_res = true;
	}

	j->node = has_node ? xstrdup(node) : NULL;
	j->domain = xstrdup(domain);
	j->resource = has_res ? xstrdup(res) : NULL;
	return 0;
}

void
jid_clear(struct jid *j)
{
	free(j->node);
	free(j->domain);
	free(j->resource);
	j->node = j->domain = j->resource = NULL;
}

char *
jid_full(const struct jid *j)
{
	return xasprintf("%s%s%s%s%s",
	    j->node != NULL ? j->node : "", j->node != NULL ? "@" : "",
	    j->domain,
	    j->resource != NULL ? "/" : "",
	    j->resource != NULL ? j->resource : "");
}

char *
jid_bare(const struct jid *j)
{
	return xasprintf("%s%s%s",
	    j->node != NULL ? j->node : "", j->node != NULL ? "@" : "",
	    j->domain);
}

/* parts longer than JID_PART_MAX (a caller's bug) are truncated, not run */
char *
jid_format(char *out, const char *node, const char *domain,
    const char *resource)
{
	snprintf(out, JID_STR_MAX + 1, "%s%s%s%s%s",
	    node != NULL ? node : "", node != NULL ? "@" : "",
	    domain,
	    resource != NULL ? "/" : "",
	    resource != NULL ? resource : "");
	return out;
}

bool
jid_domain_of(const char *s, char *dom)
{
	const char	*slash = strchr(s, '/'), *at, *d;
	size_t		 n = slash != NULL ? (size_t)(slash - s) : strlen(s);

	at = memchr(s, '@', n);
	d = at != NULL ? at + 1 : s;
	n -= (size_t)(d - s);
	if (n == 0 || n > JID_PART_MAX)
		return false;
	memcpy(dom, d, n);
	dom[n] = '\0';
	return true;
}
