/*
 * Identity of an XMPP server certificate (RFC 6120 13.7.2, RFC 6125,
 * RFC 7590): which names in a peer's certificate count for a domain, and
 * the chain check that must come with them. Pure apart from GnuTLS.
 */
#ifndef PARLEY_CERTID_H
#define PARLEY_CERTID_H

#include <stdbool.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

enum certid_result {
	CERTID_OK,
	CERTID_NO_CERT,		/* the peer sent none */
	CERTID_UNTRUSTED,	/* chain does not verify */
	CERTID_NAME_MISMATCH,	/* trusted, but for another domain */
	CERTID_ERROR		/* malformed certificate, GnuTLS failure */
};

/*
 * presented: a dNSName (may be "*.example.org"); reference: the domain we
 * expect, in ASCII (A-labels). ASCII case-insensitive; trailing dots are
 * ignored on both; empty labels never match. A wildcard counts only as
 * the whole left-most label of a name with at least two more labels
 * ("*.example.org", never "a*.example.org", "*.*.org", "foo.*.org",
 * "xn--*.org" or "*.org"), and stands for exactly one non-empty label:
 * "a.example.org", but not "example.org" or "a.b.example.org".
 */
bool	certid_dns_match(const char *presented, const char *reference);

/*
 * Whether crt names domain (a prepared JID domainpart, UTF-8; borrowed):
 * an SRV-ID "_xmpp-server.<domain>" or "_xmpps-server.<domain>" (otherName
 * id-on-dnsSRV, RFC 4985; no wildcard), an XmppAddr equal to the domain
 * but for ASCII case (otherName id-on-xmppAddr, RFC 6120 13.7.1.4), or a
 * DNS-ID by the rules of certid_dns_match. IDNs are compared as A-labels
 * except in XmppAddr, which holds UTF-8.
 * The CN counts only when no DNS-ID, SRV-ID, URI-ID or XmppAddr is
 * present (RFC 6125 6.4.4). Returns CERTID_OK, CERTID_NAME_MISMATCH,
 * CERTID_NO_CERT (crt NULL) or CERTID_ERROR (unparsable names).
 */
enum certid_result certid_match_cert(gnutls_x509_crt_t crt,
	    const char *domain);

/*
 * After a handshake, in either role: verifies the peer's chain against
 * the session credentials' trust list, without GnuTLS's hostname check or
 * key purpose (a server certificate is fine from a dialling server), then
 * the end-entity certificate with certid_match_cert(). Returns CERTID_OK
 * only when both pass.
 */
enum certid_result certid_verify_session(gnutls_session_t s,
	    const char *domain);

/* "ok", "no-cert", "untrusted", "name-mismatch", "error"; static */
const char	*certid_result_name(enum certid_result);

#endif
