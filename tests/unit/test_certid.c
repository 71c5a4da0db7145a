/*
 * Unit tests for s2s/certid.c: DNS-ID matching and its wildcard rules,
 * every identifier type on certificates made by certtool (see
 * tests/unit/certid-pem.sh), and the chain plus identity check after real
 * TLS handshakes in both directions over a socketpair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../common/util.h"
#include "../../s2s/certid.h"
#include "test_certid_pem.h"
#include "unit.h"

static void
test_certid_dns_exact(void **state)
{
	(void)state;
	assert_true(certid_dns_match("example.org", "example.org"));
	assert_true(certid_dns_match("EXAMPLE.Org", "example.org"));
	assert_true(certid_dns_match("example.org", "Example.ORG"));
	/* the absolute form on either side */
	assert_true(certid_dns_match("example.org.", "example.org"));
	assert_true(certid_dns_match("example.org", "example.org."));
	assert_true(certid_dns_match("xmpp.example.org.", "xmpp.example.org."));

	assert_false(certid_dns_match("example.com", "example.org"));
	assert_false(certid_dns_match("example.org", "www.example.org"));
	assert_false(certid_dns_match("www.example.org", "example.org"));
	assert_false(certid_dns_match("example.or", "example.org"));
	assert_false(certid_dns_match("example.orgg", "example.org"));
	/* no suffix match: a dNSName is not a domain and its subdomains */
	assert_false(certid_dns_match("org", "example.org"));
	/* empty names and labels never match, even themselves */
	assert_false(certid_dns_match("", ""));
	assert_false(certid_dns_match(".", "."));
	assert_false(certid_dns_match("", "example.org"));
	assert_false(certid_dns_match("example.org", ""));
	assert_false(certid_dns_match("example..org", "example..org"));
	assert_false(certid_dns_match(".example.org", ".example.org"));
	assert_false(certid_dns_match("example.org..", "example.org.."));
	assert_false(certid_dns_match("example.org..", "example.org"));
	/* only ASCII: an IDN is compared in its A-label form */
	assert_false(certid_dns_match("b\xc3\xbc" "cher.example",
	    "b\xc3\xbc" "cher.example"));
	assert_true(certid_dns_match("XN--BCHER-KVA.example",
	    "xn--bcher-kva.example"));
	assert_false(certid_dns_match("exa mple.org", "exa mple.org"));
	/* a '*' in the reference is no wildcard and no name */
	assert_false(certid_dns_match("*.example.org", "*.example.org"));
	assert_false(certid_dns_match("a.example.org", "*.example.org"));
}

static void
test_certid_dns_wildcard(void **state)
{
	(void)state;
	assert_true(certid_dns_match("*.example.org", "a.example.org"));
	assert_true(certid_dns_match("*.example.org", "xmpp.example.org"));
	assert_true(certid_dns_match("*.Example.ORG", "XMPP.example.org"));
	assert_true(certid_dns_match("*.example.org.", "a.example.org"));
	assert_true(certid_dns_match("*.example.org", "a.example.org."));
	/* A-labels around the wildcard, or matched by it, are labels */
	assert_true(certid_dns_match("*.xn--bcher-kva.example",
	    "a.xn--bcher-kva.example"));
	assert_true(certid_dns_match("*.example.org",
	    "xn--bcher-kva.example.org"));

	/* exactly one label: never the bare parent, never two */
	assert_false(certid_dns_match("*.example.org", "example.org"));
	assert_false(certid_dns_match("*.example.org", "a.b.example.org"));
	assert_false(certid_dns_match("*.example.org", ".example.org"));
	assert_false(certid_dns_match("*.example.org", "a.example.com"));
	assert_false(certid_dns_match("*.example.org", "a.example.org.."));
	/* only as the complete left-most label */
	assert_false(certid_dns_match("a*.example.org", "ab.example.org"));
	assert_false(certid_dns_match("a*.example.org", "a.example.org"));
	assert_false(certid_dns_match("*a.example.org", "ba.example.org"));
	assert_false(certid_dns_match("a*b.example.org", "axb.example.org"));
	assert_false(certid_dns_match("**.example.org", "a.example.org"));
	assert_false(certid_dns_match("*.*.org", "a.b.org"));
	assert_false(certid_dns_match("*.*.org", "a.example.org"));
	assert_false(certid_dns_match("foo.*.org", "foo.bar.org"));
	assert_false(certid_dns_match("example.*", "example.org"));
	assert_false(certid_dns_match("xn--*.org", "xn--abc.org"));
	assert_false(certid_dns_match("xn--*.example.org",
	    "xn--bcher-kva.example.org"));
	/* nor so high that it spans a registry */
	assert_false(certid_dns_match("*.org", "example.org"));
	assert_false(certid_dns_match("*.org.", "example.org"));
	assert_false(certid_dns_match("*", "example"));
	assert_false(certid_dns_match("*", "*"));
	assert_false(certid_dns_match("*.", "example."));
	assert_false(certid_dns_match("*..example.org", "a..example.org"));
}

static gnutls_x509_crt_t
load(const char *pem)
{
	gnutls_x509_crt_t	crt;
	gnutls_datum_t		d;

	d.data = (unsigned char *)(uintptr_t)pem;
	d.size = (unsigned int)strlen(pem);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM),
	    0);
	return crt;
}

/* the result of certid_match_cert() on one certificate for one domain */
static enum certid_result
match(const char *pem, const char *domain)
{
	gnutls_x509_crt_t	crt;
	enum certid_result	res;

	crt = load(pem);
	res = certid_match_cert(crt, domain);
	gnutls_x509_crt_deinit(crt);
	return res;
}

static void
test_certid_cert_dns_id(void **state)
{
	(void)state;
	assert_int_equal(match(PEM_DNS_ONLY, "example.org"), CERTID_OK);
	assert_int_equal(match(PEM_DNS_ONLY, "example.org."), CERTID_OK);
	assert_int_equal(match(PEM_DNS_ONLY, "other.example"),
	    CERTID_NAME_MISMATCH);
	assert_int_equal(match(PEM_DNS_ONLY, "a.example.org"),
	    CERTID_NAME_MISMATCH);
	/* the CN "Parley test" is no domain: it must not confuse anything */
	assert_int_equal(match(PEM_DNS_ONLY, "Parley test"),
	    CERTID_NAME_MISMATCH);

	assert_int_equal(match(PEM_WILDCARD, "a.example.org"), CERTID_OK);
	assert_int_equal(match(PEM_WILDCARD, "example.org"),
	    CERTID_NAME_MISMATCH);
	assert_int_equal(match(PEM_WILDCARD, "a.b.example.org"),
	    CERTID_NAME_MISMATCH);

	/* a UTF-8 domain is looked for as its A-label form */
	assert_int_equal(match(PEM_IDN, "b\xc3\xbc" "cher.example"),
	    CERTID_OK);
	assert_int_equal(match(PEM_IDN, "xn--bcher-kva.example"), CERTID_OK);
	assert_int_equal(match(PEM_IDN, "bucher.example"),
	    CERTID_NAME_MISMATCH);
}

static void
test_certid_cert_xmpp_addr(void **state)
{
	(void)state;
	assert_int_equal(match(PEM_XMPP_ADDR, "example.org"), CERTID_OK);
	assert_int_equal(match(PEM_XMPP_ADDR, "other.example"),
	    CERTID_NAME_MISMATCH);
	/* a JID, not a DNS name: no subdomain, no absolute form */
	assert_int_equal(match(PEM_XMPP_ADDR, "a.example.org"),
	    CERTID_NAME_MISMATCH);
	assert_int_equal(match(PEM_XMPP_ADDR, "example.org."),
	    CERTID_NAME_MISMATCH);
	/* what nameprep would lower-case is no difference */
	assert_int_equal(match(PEM_XMPP_UPPER, "example.org"), CERTID_OK);
}

static void
test_certid_cert_srv_id(void **state)
{
	(void)state;
	assert_int_equal(match(PEM_SRV_ID, "example.org"), CERTID_OK);
	assert_int_equal(match(PEM_SRV_ID, "other.example"),
	    CERTID_NAME_MISMATCH);
	assert_int_equal(match(PEM_SRV_ID, "a.example.org"),
	    CERTID_NAME_MISMATCH);
	/* XEP-0368: the direct TLS service names the domain as well */
	assert_int_equal(match(PEM_SRV_ID_XMPPS, "example.org"), CERTID_OK);
	assert_int_equal(match(PEM_SRV_ID_XMPPS, "other.example"),
	    CERTID_NAME_MISMATCH);
	/* RFC 4985 has no wildcard SRVName */
	assert_int_equal(match(PEM_SRV_WILDCARD, "a.example.org"),
	    CERTID_NAME_MISMATCH);
}

/* RFC 6125 6.4.4: the CN counts only without the SAN identifier types */
static void
test_certid_cert_cn(void **state)
{
	(void)state;
	assert_int_equal(match(PEM_CN_ONLY, "example.org"), CERTID_OK);
	assert_int_equal(match(PEM_CN_ONLY, "other.example"),
	    CERTID_NAME_MISMATCH);
	/* a DNS-ID, XmppAddr or URI-ID for another name hides the CN */
	assert_int_equal(match(PEM_DNS_OTHER_CN, "example.org"),
	    CERTID_NAME_MISMATCH);
	assert_int_equal(match(PEM_DNS_OTHER_CN, "other.example"), CERTID_OK);
	assert_int_equal(match(PEM_XMPP_OTHER_CN, "example.org"),
	    CERTID_NAME_MISMATCH);
	assert_int_equal(match(PEM_XMPP_OTHER_CN, "other.example"),
	    CERTID_OK);
	assert_int_equal(match(PEM_URI_CN, "example.org"),
	    CERTID_NAME_MISMATCH);
	/* an IP address SAN names no domain, so the CN still counts */
	assert_int_equal(match(PEM_IP_CN, "example.org"), CERTID_OK);
	assert_int_equal(match(PEM_IP_CN, "other.example"),
	    CERTID_NAME_MISMATCH);
}

static void
test_certid_result_names(void **state)
{
	(void)state;
	assert_int_equal(certid_match_cert(NULL, "example.org"),
	    CERTID_NO_CERT);
	assert_string_equal(certid_result_name(CERTID_OK), "ok");
	assert_string_equal(certid_result_name(CERTID_NO_CERT), "no-cert");
	assert_string_equal(certid_result_name(CERTID_UNTRUSTED),
	    "untrusted");
	assert_string_equal(certid_result_name(CERTID_NAME_MISMATCH),
	    "name-mismatch");
	assert_string_equal(certid_result_name(CERTID_ERROR), "error");
}

/*
 * One TLS connection over a socketpair. Either side may hold a
 * certificate, trust the test CA, or both.
 */
struct tls_pair {
	int					 fd[2];
	gnutls_certificate_credentials_t	 ccred, scred;
	gnutls_session_t			 client, server;
};

static gnutls_certificate_credentials_t
creds(const char *cert_pem, bool trust_ca)
{
	gnutls_certificate_credentials_t	 c;
	gnutls_datum_t				 cert, key, ca;

	assert_int_equal(gnutls_certificate_allocate_credentials(&c), 0);
	if (cert_pem != NULL) {
		cert.data = (unsigned char *)(uintptr_t)cert_pem;
		cert.size = (unsigned int)strlen(cert_pem);
		key.data = (unsigned char *)(uintptr_t)PEM_EE_KEY;
		key.size = (unsigned int)strlen(PEM_EE_KEY);
		assert_int_equal(gnutls_certificate_set_x509_key_mem(c, &cert,
		    &key, GNUTLS_X509_FMT_PEM), 0);
	}
	if (trust_ca) {
		ca.data = (unsigned char *)(uintptr_t)PEM_CA;
		ca.size = (unsigned int)strlen(PEM_CA);
		assert_int_equal(gnutls_certificate_set_x509_trust_mem(c, &ca,
		    GNUTLS_X509_FMT_PEM), 1);
	}
	return c;
}

static void
session(gnutls_session_t *s, unsigned int flags,
    gnutls_certificate_credentials_t c, int fd)
{
	assert_int_equal(gnutls_init(s, flags | GNUTLS_NONBLOCK), 0);
	assert_int_equal(gnutls_set_default_priority(*s), 0);
	assert_int_equal(gnutls_credentials_set(*s, GNUTLS_CRD_CERTIFICATE,
	    c), 0);
	gnutls_transport_set_int(*s, fd);
}

/* one thread, both ends non-blocking: step each until both are done */
static void
tls_pair_open(struct tls_pair *p, const char *client_cert,
    bool client_trusts, const char *server_cert, bool request_cert)
{
	int	rc, rs, i;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	assert_int_equal(fd_nonblock(p->fd[0]), 0);
	assert_int_equal(fd_nonblock(p->fd[1]), 0);
	p->ccred = creds(client_cert, client_trusts);
	p->scred = creds(server_cert, true);
	session(&p->client, GNUTLS_CLIENT, p->ccred, p->fd[0]);
	session(&p->server, GNUTLS_SERVER, p->scred, p->fd[1]);
	gnutls_certificate_server_set_request(p->server,
	    request_cert ? GNUTLS_CERT_REQUEST : GNUTLS_CERT_IGNORE);
	rc = rs = GNUTLS_E_AGAIN;
	for (i = 0; i < 100 && (rc != 0 || rs != 0); i++) {
		if (rc != 0)
			rc = gnutls_handshake(p->client);
		if (rs != 0)
			rs = gnutls_handshake(p->server);
		assert_true(rc == 0 || gnutls_error_is_fatal(rc) == 0);
		assert_true(rs == 0 || gnutls_error_is_fatal(rs) == 0);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
}

static void
tls_pair_close(struct tls_pair *p)
{
	gnutls_deinit(p->client);
	gnutls_deinit(p->server);
	gnutls_certificate_free_credentials(p->ccred);
	gnutls_certificate_free_credentials(p->scred);
	close(p->fd[0]);
	close(p->fd[1]);
}

/* dialling: we are the TLS client and check the receiving server */
static void
test_certid_session_outgoing(void **state)
{
	struct tls_pair	p;

	(void)state;
	tls_pair_open(&p, NULL, true, PEM_DNS_ONLY, false);
	assert_int_equal(certid_verify_session(p.client, "example.org"),
	    CERTID_OK);
	assert_int_equal(certid_verify_session(p.client, "other.example"),
	    CERTID_NAME_MISMATCH);
	/* we asked for no certificate */
	assert_int_equal(certid_verify_session(p.server, "example.org"),
	    CERTID_NO_CERT);
	tls_pair_close(&p);

	/* SRV-ID only: GnuTLS's own hostname check would refuse this */
	tls_pair_open(&p, NULL, true, PEM_SRV_ID, false);
	assert_int_equal(certid_verify_session(p.client, "example.org"),
	    CERTID_OK);
	tls_pair_close(&p);
}

static void
test_certid_session_untrusted(void **state)
{
	struct tls_pair	p;

	(void)state;
	/* right name, but the client trusts no CA */
	tls_pair_open(&p, NULL, false, PEM_DNS_ONLY, false);
	assert_int_equal(certid_verify_session(p.client, "example.org"),
	    CERTID_UNTRUSTED);
	tls_pair_close(&p);
}

/*
 * Receiving: the dialling server authenticates with its certificate as a
 * TLS client (RFC 6120 13.7.2), here one with only the server purpose.
 */
static void
test_certid_session_incoming(void **state)
{
	struct tls_pair	p;

	(void)state;
	tls_pair_open(&p, PEM_XMPP_ADDR, true, PEM_DNS_ONLY, true);
	assert_int_equal(certid_verify_session(p.server, "example.org"),
	    CERTID_OK);
	assert_int_equal(certid_verify_session(p.server, "other.example"),
	    CERTID_NAME_MISMATCH);
	tls_pair_close(&p);

	/* a client that has no certificate to give */
	tls_pair_open(&p, NULL, true, PEM_DNS_ONLY, true);
	assert_int_equal(certid_verify_session(p.server, "example.org"),
	    CERTID_NO_CERT);
	tls_pair_close(&p);
}

UNIT_MAIN(
	cmocka_unit_test(test_certid_dns_exact),
	cmocka_unit_test(test_certid_dns_wildcard),
	cmocka_unit_test(test_certid_cert_dns_id),
	cmocka_unit_test(test_certid_cert_xmpp_addr),
	cmocka_unit_test(test_certid_cert_srv_id),
	cmocka_unit_test(test_certid_cert_cn),
	cmocka_unit_test(test_certid_result_names),
	cmocka_unit_test(test_certid_session_outgoing),
	cmocka_unit_test(test_certid_session_untrusted),
	cmocka_unit_test(test_certid_session_incoming),
)
