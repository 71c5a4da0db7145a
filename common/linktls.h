/*
 * Remote links (docs/internals.md, "Remote links"): a c2s or s2s process
 * on another host reaches the router over TCP with TLS, both ends
 * authenticated by a pre-shared key (TLS-PSK, RFC 4279 and RFC 8446
 * 2.2 with (EC)DHE, so a stolen key does not open recorded traffic).
 * The router takes every identity of link-psk-file; a process presents
 * link-psk-identity and its key from the same file format (GnuTLS's
 * psktool: "identity:hexkey" lines).
 */
#ifndef PARLEY_LINKTLS_H
#define PARLEY_LINKTLS_H

#include <stdbool.h>

#include <gnutls/gnutls.h>

#include "conf.h"

/* a remote peer that has not finished its handshake in this time goes */
#define LINKTLS_HANDSHAKE_TIMEOUT	10.0
/* handshakes in progress on the router's link port; more are refused */
#define LINKTLS_PREAUTH_MAX		16
/* a TCP connect to the router that takes longer is abandoned */
#define LINKTLS_CONNECT_TIMEOUT		10.0
/* the longest key, in bytes (hex in the file: twice that) */
#define LINKTLS_KEY_MAX			64

struct linktls {
	bool					 server;
	gnutls_psk_server_credentials_t		 srv;
	gnutls_psk_client_credentials_t		 cli;
	gnutls_priority_t			 prio;
};

/* the router's end: every identity in link-psk-file; -1 logged */
int		 linktls_server_init(struct linktls *, const struct conf *);
/* a process's end: link-psk-identity's key in link-psk-file; -1 logged */
int		 linktls_client_init(struct linktls *, const struct conf *);
void		 linktls_clear(struct linktls *);
/* a non-blocking session on fd, or NULL (logged) */
gnutls_session_t linktls_session(struct linktls *, int fd);
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
