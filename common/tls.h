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
	/*
	 * What reloads replaced: sessions made before a reload still use
	 * them (GnuTLS does not count references), so they live until
	 * tls_ctx_clear; a few kilobytes per reload.
	 */
	gnutls_certificate_credentials_t	*old_creds;
	gnutls_priority_t			*old_prio;
	size_t					 nold;
};

/* -1 with a message logged (file names and GnuTLS's reason) */
int		 tls_ctx_init(struct tls_ctx *, const struct conf *);
void		 tls_ctx_clear(struct tls_ctx *);
/*
 * Loads every host's certificate and key and the priority of c again;
 * new sessions get them, the running ones keep theirs. -1 (logged) and
 * nothing changed when any of them fails.
 */
int		 tls_ctx_reload(struct tls_ctx *, const struct conf *c);
/* returns a server session on fd, or NULL (logged) */
gnutls_session_t tls_server_new(struct tls_ctx *, int fd);

#endif
