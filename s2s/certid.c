/*
 * Server certificate identity for s2s (RFC 6120 13.7.2, RFC 7590):
 * the identifiers of RFC 6125 that XMPP uses, matched by hand because
 * GnuTLS's hostname check knows neither SRV-ID nor XmppAddr and does not
 * suppress the CN when only those are present.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>
#include <idna.h>

#include "../common/util.h"
#include "certid.h"

#define CERTID_OID_SAN	"2.5.29.17"
#define CERTID_OID_SRV	"1.3.6.1.5.5.7.8.7"	/* RFC 4985 id-on-dnsSRV */
#define CERTID_OID_XMPP	"1.3.6.1.5.5.7.8.5"	/* RFC 6120 id-on-xmppAddr */
/* a CN longer than a DNS name (RFC 1035 2.3.4) cannot match one */
#define CERTID_CN_MAX	256

static const char	*certid_srv_prefix[] = {
	"_xmpp-server.",
	"_xmpps-server.",	/* XEP-0368 direct TLS */
};

static char
certid_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
certid_ascii_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (certid_lower(a[i]) != certid_lower(b[i]))
			return false;
	return true;
}

/* strips one final dot: "example.org." is the absolute form */
static size_t
certid_name_len(const char *s, size_t len)
{
	return len > 0 && s[len - 1] == '.' ? len - 1 : len;
}

/*
 * Printable ASCII (dNSName is an IA5String; a NUL inside one is the old
 * "www.bank.com\0.evil.org" trick) in non-empty labels.
 */
static bool
certid_labels_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.')
			return false;
	}
	return true;
}

/*
 * Presented p[0..plen) against reference r[0..rlen), a final dot ignored
 * on either. With wildcard false only equality counts: RFC 4985 defines
 * no wildcard SRVName.
 */
static bool
certid_name_match(const char *p, size_t plen, const char *r, size_t rlen,
    bool wildcard)
{
	const char	*dot;

	plen = certid_name_len(p, plen);
	rlen = certid_name_len(r, rlen);
	if (!certid_labels_ok(p, plen) || !certid_labels_ok(r, rlen) ||
	    memchr(r, '*', rlen) != NULL)
		return false;
	if (memchr(p, '*', plen) == NULL)
		return certid_ascii_eq(p, plen, r, rlen);
	/*
	 * RFC 6125 6.4.3, narrowed as browsers do: "*" must be the whole
	 * left-most label, alone, so never inside an A-label, and must
	 * leave at least two labels, so "*.org" covers no registry.
	 */
	if (!wildcard || plen < 2 || p[0] != '*' || p[1] != '.')
		return false;
	p += 2;
	plen -= 2;
	if (memchr(p, '*', plen) != NULL || memchr(p, '.', plen) == NULL)
		return false;
	/* exactly one label of r stands for the "*" */
	if ((dot = memchr(r, '.', rlen)) == NULL)
		return false;
	dot++;
	return certid_ascii_eq(p, plen, dot, rlen - (size_t)(dot - r));
}

bool
certid_dns_match(const char *presented, const char *reference)
{
	return certid_name_match(presented, strlen(presented), reference,
	    strlen(reference), true);
}

/* RFC 6125 6.5.1: the service label is compared case-insensitively too */
static bool
certid_srv_match(const char *v, size_t len, const char *ace)
{
	size_t	i, plen;

	for (i = 0; i < nitems(certid_srv_prefix); i++) {
		plen = strlen(certid_srv_prefix[i]);
		if (len > plen &&
		    certid_ascii_eq(v, plen, certid_srv_prefix[i], plen) &&
		    certid_name_match(v + plen, len - plen, ace, strlen(ace),
		    false))
			return true;
	}
	return false;
}

/*
 * An XmppAddr is a JID (RFC 6120 13.7.1.4), here a bare domain in UTF-8,
 * compared with the prepared domain as is, save ASCII case: nameprep
 * would lower-case it anyway.
 */
static bool
certid_xmpp_match(const char *v, size_t len, const char *domain)
{
	if (memchr(v, '\0', len) != NULL)
		return false;
	return certid_ascii_eq(v, len, domain, strlen(domain));
}

static bool
certid_oid_is(const gnutls_datum_t *oid, const char *want)
{
	size_t	len = strlen(want);

	/* GnuTLS counts the OID's NUL in some versions, not in others */
	return (oid->size == len || (oid->size == len + 1 &&
	    oid->data[len] == '\0')) && memcmp(oid->data, want, len) == 0;
}

/* the decoded string of a known otherName; false when undecodable */
static bool
certid_othername(const char *oid, const gnutls_datum_t *der,
    unsigned int want, gnutls_datum_t *out)
{
	unsigned int	type;

	out->data = NULL;
	if (gnutls_x509_othername_to_virtual(oid, der, &type, out) < 0)
		return false;
	if (type != want) {
		gnutls_free(out->data);
		out->data = NULL;
		return false;
	}
	return true;
}

/*
 * The subjectAltName identifiers. *match is set on a match, *has_ids when
 * an identifier type that rules out the CN is present. -1 on a malformed
 * extension: never guess around a certificate we cannot read.
 */
static int
certid_match_sans(gnutls_x509_crt_t crt, const char *domain,
    const char *ace, bool *match, bool *has_ids)
{
	gnutls_subject_alt_names_t	 sans = NULL;
	gnutls_datum_t			 ext = { NULL, 0 }, san, oid, v;
	unsigned int			 critical, type, i;
	int				 rc, ret = -1;

	rc = gnutls_x509_crt_get_extension_by_oid2(crt, CERTID_OID_SAN, 0,
	    &ext, &critical);
	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return 0;
	if (rc < 0)
		return -1;
	if (gnutls_subject_alt_names_init(&sans) < 0)
		goto done;
	if (gnutls_x509_ext_import_subject_alt_names(&ext, sans, 0) < 0)
		goto done;
	for (i = 0; !*match; i++) {
		rc = gnutls_subject_alt_names_get(sans, i, &type, &san, &oid);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0)
			goto done;
		switch (type) {
		case GNUTLS_SAN_DNSNAME:
			*has_ids = true;
			*match = certid_name_match((const char *)san.data,
			    san.size, ace, strlen(ace), true);
			break;
		case GNUTLS_SAN_URI:
			/* XMPP defines no URI-ID, yet one still hides the CN */
			*has_ids = true;
			break;
		case GNUTLS_SAN_OTHERNAME:
			if (certid_oid_is(&oid, CERTID_OID_SRV)) {
				*has_ids = true;
				if (!certid_othername(CERTID_OID_SRV, &san,
				    GNUTLS_SAN_OTHERNAME_SRV, &v))
					break;
				*match = certid_srv_match((const char *)v.data,
				    v.size, ace);
				gnutls_free(v.data);
			} else if (certid_oid_is(&oid, CERTID_OID_XMPP)) {
				*has_ids = true;
				if (!certid_othername(CERTID_OID_XMPP, &san,
				    GNUTLS_SAN_OTHERNAME_XMPP, &v))
					break;
				*match = certid_xmpp_match((const char *)v.data,
				    v.size, domain);
				gnutls_free(v.data);
			}
			break;
		default:
			/* IP addresses, e-mail and the like name no domain */
			break;
		}
	}
	ret = 0;
done:
	if (sans != NULL)
		gnutls_subject_alt_names_deinit(sans);
	gnutls_free(ext.data);
	return ret;
}

/* RFC 6125 6.4.4: any CN of the subject, by the DNS-ID rules */
static int
certid_match_cn(gnutls_x509_crt_t crt, const char *ace, bool *match)
{
	char		cn[CERTID_CN_MAX];
	size_t		size;
	unsigned int	i;
	int		rc;

	for (i = 0; !*match; i++) {
		size = sizeof(cn);
		rc = gnutls_x509_crt_get_dn_by_oid(crt,
		    GNUTLS_OID_X520_COMMON_NAME, i, 0, cn, &size);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return 0;
		if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (rc < 0)
			return -1;
		*match = certid_name_match(cn, size, ace, strlen(ace), true);
	}
	return 0;
}

enum certid_result
certid_match_cert(gnutls_x509_crt_t crt, const char *domain)
{
	enum certid_result	 res = CERTID_ERROR;
	const unsigned char	*p;
	char			*ace = NULL;
	bool			 match = false, has_ids = false;

	if (crt == NULL)
		return CERTID_NO_CERT;
	/* DNS-IDs and SRV-IDs hold A-labels (RFC 6125 6.4.2, RFC 4985 3) */
	for (p = (const unsigned char *)domain; *p != '\0' && *p < 0x80; p++)
		;
	if (*p != '\0' &&
	    idna_to_ascii_8z(domain, &ace, IDNA_ALLOW_UNASSIGNED) !=
	    IDNA_SUCCESS)
		goto done;
	if (certid_match_sans(crt, domain, ace != NULL ? ace : domain,
	    &match, &has_ids) == -1)
		goto done;
	if (!match && !has_ids &&
	    certid_match_cn(crt, ace != NULL ? ace : domain, &match) == -1)
		goto done;
	res = match ? CERTID_OK : CERTID_NAME_MISMATCH;
done:
	free(ace);
	return res;
}

enum certid_result
certid_verify_session(gnutls_session_t s, const char *domain)
{
	const gnutls_datum_t	*chain;
	gnutls_x509_crt_t	 crt;
	enum certid_result	 res;
	unsigned int		 n = 0, status;

	if (gnutls_auth_get_type(s) != GNUTLS_CRD_CERTIFICATE)
		return CERTID_NO_CERT;
	if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509)
		return CERTID_ERROR;
	if ((chain = gnutls_certificate_get_peers(s, &n)) == NULL || n == 0)
		return CERTID_NO_CERT;
	/*
	 * No hostname given: GnuTLS would match DNS-IDs and the CN only.
	 * No purpose either: RFC 7590 does not ask for one, and the dialling
	 * side of s2s presents its server certificate as a TLS client.
	 */
	if (gnutls_certificate_verify_peers2(s, &status) < 0)
		return CERTID_ERROR;
	if (status != 0)
		return CERTID_UNTRUSTED;
	if (gnutls_x509_crt_init(&crt) < 0)
		return CERTID_ERROR;
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0)
		res = CERTID_ERROR;
	else
		res = certid_match_cert(crt, domain);
	gnutls_x509_crt_deinit(crt);
	return res;
}

const char *
certid_result_name(enum certid_result r)
{
	switch (r) {
	case CERTID_OK:
		return "ok";
	case CERTID_NO_CERT:
		return "no-cert";
	case CERTID_UNTRUSTED:
		return "untrusted";
	case CERTID_NAME_MISMATCH:
		return "name-mismatch";
	case CERTID_ERROR:
		return "error";
	}
	return "unknown";
}
