/*
 * TLS with GnuTLS for the server side of client (and later server)
 * streams: one credentials object holding every virtual host's
 * certificate, so that SNI picks the certificate per domain, and the
 * configured priority string.
 */
#ifndef PARLEY_TLS_H
#define PARLEY_TLS_H

#include <gnutls/gnutls.h>

#include "conf.h"

struct tls_ctx {
	gnutls_certificate_credentials_t	creds;
	gnutls_priority_t			prio;
};

/* -1 with a message logged (file names and GnuTLS's reason) */
int		 tls_ctx_init(struct tls_ctx *, const struct conf *);
void		 tls_ctx_clear(struct tls_ctx *);
/* returns a server session on fd, or NULL (logged) */
gnutls_session_t tls_server_new(struct tls_ctx *, int fd);

#endif
