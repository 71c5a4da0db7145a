/*
 * parley-s2s: the federation process. Started by parleyd as
 * "parley-s2s -c FILE"; one per server.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/priv.h"
#include "../common/map.h"
#include "../common/proc.h"
#include "../common/util.h"
#include "s2s.h"

struct s2s	s2s;

/* trust for peer certificates: the configured CA file or the system's */
static int
s2s_trust(gnutls_certificate_credentials_t creds)
{
	int	rc;

	if (s2s.conf.s2s_ca_file != NULL)
		rc = gnutls_certificate_set_x509_trust_file(creds,
		    s2s.conf.s2s_ca_file, GNUTLS_X509_FMT_PEM);
	else
		rc = gnutls_certificate_set_x509_system_trust(creds);
	if (rc < 0) {
		log_warnx("%s: s2s-ca-file %s: %s", s2s.conf.path,
		    s2s.conf.s2s_ca_file ? s2s.conf.s2s_ca_file : "(system)",
		    gnutls_strerror(rc));
		return -1;
	}
	if (rc == 0)
		log_warnx("no trusted CA certificates for peer servers: "
		    "only dialback can authenticate them");
	return 0;
}

/* host_creds: the hosts', the trust-only one, the components' */
static size_t
s2s_ncreds(void)
{
	return s2s.conf.nhosts + 1 + s2s.conf.ncomponent_certs;
}

/* loads the certificate of entry i of host_creds (s2s.h); -1 logged */
static int
s2s_cert_load(gnutls_certificate_credentials_t creds, size_t i)
{
	const struct conf_host			*h;
	const struct conf_component_cert	*k;
	int					 rc = 0;

	if (i < s2s.conf.nhosts) {
		h = &s2s.conf.hosts[i];
		if ((rc = gnutls_certificate_set_x509_key_file(creds, h->cert,
		    h->key, GNUTLS_X509_FMT_PEM)) < 0)
			log_warnx("%s:%d: host %s: %s", s2s.conf.path,
			    h->line, h->name, gnutls_strerror(rc));
	} else if (i > s2s.conf.nhosts) {
		k = &s2s.conf.component_certs[i - s2s.conf.nhosts - 1];
		if ((rc = gnutls_certificate_set_x509_key_file(creds, k->cert,
		    k->key, GNUTLS_X509_FMT_PEM)) < 0)
			log_warnx("%s:%d: component-certificate %s: %s",
			    s2s.conf.path, k->line, k->domain,
			    gnutls_strerror(rc));
	}
	return rc < 0 ? -1 : 0;
}

/*
 * A client credentials object per host, with the trust, one more (index
 * nhosts) with the trust alone, for a domain with no certificate of its
 * own, and one per component-certificate after it (out.c's out_creds);
 * -1 logged.
 */
static gnutls_certificate_credentials_t *
s2s_host_creds(void)
{
	gnutls_certificate_credentials_t	*hc;
	size_t					 i;
	int					 rc;

	hc = xcalloc(s2s_ncreds(), sizeof(*hc));
	for (i = 0; i < s2s_ncreds(); i++) {
		if ((rc = gnutls_certificate_allocate_credentials(
		    &hc[i])) < 0) {
			log_warnx("tls: credentials: %s", gnutls_strerror(rc));
			goto fail;
		}
		if (s2s_cert_load(hc[i], i) == -1 || s2s_trust(hc[i]) == -1)
			goto fail;
	}
	return hc;
fail:
	for (i = 0; i < s2s_ncreds(); i++)
		if (hc[i] != NULL)
			gnutls_certificate_free_credentials(hc[i]);
	free(hc);
	return NULL;
}

/*
 * The server side uses the c2s's credentials (every host, SNI) plus the
 * trust list; the client side needs one credentials object per host so
 * that the certificate we present is the one of the domain we speak for.
 */
static int
s2s_tls_init(void)
{
	if (tls_ctx_init(&s2s.tls, &s2s.conf) == -1 ||
	    s2s_trust(s2s.tls.creds) == -1)
		return -1;
	return (s2s.host_creds = s2s_host_creds()) == NULL ? -1 : 0;
}

/*
 * SIGHUP: new connections, both ways, get the certificates as they are
 * now. Outgoing streams set up before keep pointers into the old client
 * credentials, which therefore stay (as tls_ctx_reload keeps the server's).
 */
static void
s2s_reload(void)
{
	static gnutls_certificate_credentials_t	**old;
	static size_t				  nold;
	gnutls_certificate_credentials_t	 *hc;
	size_t					  i;

	routerlink_reload(&s2s.uplink);
	if ((hc = s2s_host_creds()) == NULL)
		goto fail;
	if (tls_ctx_reload(&s2s.tls, &s2s.conf) == -1) {
		for (i = 0; i < s2s_ncreds(); i++)
			gnutls_certificate_free_credentials(hc[i]);
		free(hc);
		goto fail;
	}
	/* the trust file was read at start by the same process: it holds */
	(void)s2s_trust(s2s.tls.creds);
	old = xrealloc(old, (nold + 1) * sizeof(*old));
	old[nold++] = s2s.host_creds;
	s2s.host_creds = hc;
	return;
fail:
	log_warnx("reload: keeping the running certificates");
}

int
main(int argc, char *argv[])
{
	unsigned char	 rnd[32];

	(void)proc_init(argc, argv, "s2s", false, &s2s.conf);
	s2s.loop = ev_default_loop(EVFLAG_AUTO);
	s2s.conns = map_new();
	s2s.outs = map_new();
	if (s2s.conf.s2s_dialback_secret != NULL)
		snprintf(s2s.secret, sizeof(s2s.secret), "%s",
		    s2s.conf.s2s_dialback_secret);
	else {
		/* keys we issued before a restart then fail: they are
		   short-lived, and the peer simply asks again */
		random_bytes(rnd, sizeof(rnd));
		hex_encode(s2s.secret, rnd, sizeof(rnd));
	}
	if (s2s_tls_init() == -1 || dns_init() == -1 || listen_open() == -1)
		exit(1);
	priv_drop(&s2s.conf, true);	/* ports bound, keys read */
	link_loop_init(s2s.loop);
	transport_loop_init(s2s.loop);
	uplink_start();
	stats_start();
	proc_reload_watch(s2s.loop, &s2s.conf, s2s_reload);
	log_info("started");
	proc_run(s2s.loop);
	return 0;
}
