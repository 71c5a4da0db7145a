/*
 * Remote links (docs/internals.md, "Remote links"): a c2s or s2s process
 * on another host reaches the router over TCP with TLS, both ends
 * authenticated, with (EC)DHE so that a stolen key or certificate does not
 * open recorded traffic. Two ways, picked per deployment:
 * - a pre-shared key (TLS-PSK, RFC 4279 and RFC 8446 2.2): the router takes
 *   every identity of link-psk-file; a process presents link-psk-identity
 *   and its key from the same file format (psktool's "identity:hexkey");
 * - certificates (link-cert, link-key) signed by link-ca: the router
 *   requires the remote host's and takes it when it carries a name of
 *   link-peers; the remote host checks the router's against
 *   link-router-name (RFC 6125 name matching, no wildcards).
 * A router with both takes both; a remote host links one way.
 */
#ifndef PARLEY_LINKTLS_H
#define PARLEY_LINKTLS_H

#include <stdbool.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "conf.h"

/* a remote peer that has not finished its handshake in this time goes */
#define LINKTLS_HANDSHAKE_TIMEOUT	10.0
/* handshakes in progress on the router's link port; more are refused */
#define LINKTLS_PREAUTH_MAX		16
/* a TCP connect to the router that takes longer is abandoned */
#define LINKTLS_CONNECT_TIMEOUT		10.0
/* the longest key, in bytes (hex in the file: twice that) */
#define LINKTLS_KEY_MAX			64

/* why a certificate was refused, for the link's log line */
#define LINKTLS_WHY_MAX			64

struct linktls {
	bool					 server;
	gnutls_psk_server_credentials_t		 srv;
	gnutls_psk_client_credentials_t		 cli;
	gnutls_certificate_credentials_t	 cert;	/* NULL: PSK only */
	gnutls_priority_t			 prio;
	char					*peers;	/* router: link-peers */
	char					*name;	/* link-router-name */
	/*
	 * What reloads replaced: sessions made before still use them
	 * (GnuTLS does not count references), so they live until
	 * linktls_clear, as in tls.h.
	 */
	gnutls_certificate_credentials_t	*old;
	size_t					 nold;
	/*
	 * The last refusal of the peer (linktls_strerror), and the session
	 * it is about: handshakes interleave, a reason is only its own's
	 */
	char					 why[LINKTLS_WHY_MAX];
	gnutls_session_t			 why_session;
};

/*
 * The router's end: every identity in link-psk-file, and certificates
 * from link-ca carrying a name of link-peers; -1 logged
 */
int		 linktls_server_init(struct linktls *, const struct conf *);
/*
 * A process's end: its certificate when link-cert is set, else
 * link-psk-identity's key in link-psk-file; -1 logged
 */
int		 linktls_client_init(struct linktls *, const struct conf *);
/*
 * Loads link-cert, link-key and link-ca again (SIGHUP: renewed
 * certificates); new handshakes use them, links up keep theirs. -1
 * (logged) and nothing changed when one does not load.
 */
int		 linktls_reload(struct linktls *, const struct conf *);
/* loads the certificate files of c, as a reload would; -1 logged */
int		 linktls_check(const struct conf *);
void		 linktls_clear(struct linktls *);
/* a non-blocking session on fd, or NULL (logged); t must stay put */
gnutls_session_t linktls_session(struct linktls *, int fd);
/*
 * A failed handshake's reason: why the peer's certificate was refused
 * when that was it, else GnuTLS's text for rc. Valid until the next
 * handshake of that linktls.
 */
const char	*linktls_strerror(gnutls_session_t, int rc);
/*
 * Who the authenticated peer of a server session is: its PSK identity, or
 * the name of link-peers its certificate carries; into buf, returns buf
 */
const char	*linktls_peer(gnutls_session_t, char *buf, size_t len);
/*
 * The first name of peers (a comma-separated list) that crt carries
 * (a DNS name, or the common name when it has none; no wildcards),
 * copied into buf; NULL when none.
 */
const char	*linktls_cert_name(gnutls_x509_crt_t crt, const char *peers,
		    char *buf, size_t len);
/* a short reason for a failed verification's status bits */
const char	*linktls_status_why(unsigned status);
/*
 * A link's TCP socket: no Nagle delay (frames are small and latency
 * counts), and keepalive with a user timeout so that a cut cable is
 * noticed in seconds on both ends, not after the kernel's two hours.
 */
void		 linktls_sockopts(int fd);
/*
 * The key of identity in a psktool file's text (NUL-terminated): 0 and
 * key/keylen, or -1 (no such identity, or a bad line for it).
 */
int		 linktls_find_key(const char *text, const char *identity,
		    unsigned char *key, size_t *keylen);

#endif
