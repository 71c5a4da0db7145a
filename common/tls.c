/*
 * Server-side TLS setup. All hosts' certificates go into one credentials
 * object: GnuTLS then selects the certificate whose names match the SNI
 * the client sent, and the first one when there is none.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "log.h"
#include "tls.h"
#include "util.h"

int
tls_ctx_init(struct tls_ctx *t, const struct conf *c)
{
	const char	*errpos = NULL;
	size_t		 i;
	int		 rc;

	if ((rc = gnutls_global_init()) < 0) {
		log_warnx("tls: init: %s", gnutls_strerror(rc));
		return -1;
	}
	if ((rc = gnutls_certificate_allocate_credentials(&t->creds)) < 0) {
		log_warnx("tls: credentials: %s", gnutls_strerror(rc));
		return -1;
	}
	for (i = 0; i < c->nhosts; i++) {
		rc = gnutls_certificate_set_x509_key_file(t->creds,
		    c->hosts[i].cert, c->hosts[i].key, GNUTLS_X509_FMT_PEM);
		if (rc < 0) {
			log_warnx("tls: host %s: certificate %s / key %s: %s",
			    c->hosts[i].name, c->hosts[i].cert,
			    c->hosts[i].key, gnutls_strerror(rc));
			gnutls_certificate_free_credentials(t->creds);
			return -1;
		}
	}
	/* a component's own (XEP-0114 federation), chosen by SNI too */
	for (i = 0; i < c->ncomponent_certs; i++) {
		rc = gnutls_certificate_set_x509_key_file(t->creds,
		    c->component_certs[i].cert, c->component_certs[i].key,
		    GNUTLS_X509_FMT_PEM);
		if (rc < 0) {
			log_warnx("tls: component %s: certificate %s / key "
			    "%s: %s", c->component_certs[i].domain,
			    c->component_certs[i].cert,
			    c->component_certs[i].key, gnutls_strerror(rc));
			gnutls_certificate_free_credentials(t->creds);
			return -1;
		}
	}
	rc = gnutls_priority_init(&t->prio, c->tls_priority, &errpos);
	if (rc < 0) {
		log_warnx("tls: priority \"%s\" at \"%s\": %s",
		    c->tls_priority, errpos ? errpos : "", gnutls_strerror(rc));
		gnutls_certificate_free_credentials(t->creds);
		return -1;
	}
	return 0;
}

void
tls_ctx_clear(struct tls_ctx *t)
{
	size_t	i;

	for (i = 0; i < t->nold; i++) {
		gnutls_priority_deinit(t->old_prio[i]);
		gnutls_certificate_free_credentials(t->old_creds[i]);
		gnutls_global_deinit();
	}
	free(t->old_prio);
	free(t->old_creds);
	gnutls_priority_deinit(t->prio);
	gnutls_certificate_free_credentials(t->creds);
	gnutls_global_deinit();
	memset(t, 0, sizeof(*t));
}

int
tls_ctx_reload(struct tls_ctx *t, const struct conf *c)
{
	struct tls_ctx	fresh;

	memset(&fresh, 0, sizeof(fresh));
	if (tls_ctx_init(&fresh, c) == -1)
		return -1;
	t->old_creds = xrealloc(t->old_creds,
	    (t->nold + 1) * sizeof(*t->old_creds));
	t->old_prio = xrealloc(t->old_prio,
	    (t->nold + 1) * sizeof(*t->old_prio));
	t->old_creds[t->nold] = t->creds;
	t->old_prio[t->nold] = t->prio;
	t->nold++;
	t->creds = fresh.creds;
	t->prio = fresh.prio;
	return 0;
}

gnutls_session_t
tls_server_new(struct tls_ctx *t, int fd)
{
	gnutls_session_t	s;
	int			rc;

	if ((rc = gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK |
	    GNUTLS_NO_SIGNAL)) < 0) {
		log_warnx("tls: session: %s", gnutls_strerror(rc));
		return NULL;
	}
	if ((rc = gnutls_priority_set(s, t->prio)) < 0 ||
	    (rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
	    t->creds)) < 0) {
		log_warnx("tls: session setup: %s", gnutls_strerror(rc));
		gnutls_deinit(s);
		return NULL;
	}
	gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_int(s, fd);
	return s;
}
