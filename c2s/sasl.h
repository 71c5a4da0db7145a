/*
 * SASL server mechanisms, sans-IO: SCRAM-SHA-256, SCRAM-SHA-1 (RFC 5802,
 * RFC 7677), their -PLUS variants with channel binding (RFC 5056, RFC
 * 9266, XEP-0440) and PLAIN (RFC 4616). The caller decodes base64, feeds the
 * client's bytes and writes the returned challenge or success data. The
 * credentials are looked up asynchronously (the router holds storage):
 * a step that learns the username returns SASL_NEED_CREDS, and
 * sasl_set_creds() resumes the exchange.
 */
#ifndef PARLEY_SASL_H
#define PARLEY_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/scram.h"
#include "../common/xmpp.h"

enum sasl_mech {
	SASL_SCRAM_SHA256,
	SASL_SCRAM_SHA1,
	SASL_PLAIN,
	SASL_SCRAM_SHA256_PLUS,
	SASL_SCRAM_SHA1_PLUS,
	SASL_HT_SHA256_NONE,	/* XEP-0484 tokens (draft-schmaus-kitten- */
	SASL_HT_SHA256_ENDP,	/*   sasl-ht): one round trip, bound to */
	SASL_HT_SHA256_EXPR,	/*   no channel, tls-server-end-point, */
	SASL_HT_SHA256_UNIQ,	/*   tls-exporter or tls-unique */
	SASL_NMECH
};

/* channel-binding types (RFC 5929, RFC 9266), as XEP-0440 names them */
enum sasl_cb {
	SASL_CB_EXPORTER,	/* tls-exporter: TLS 1.3 */
	SASL_CB_ENDPOINT,	/* tls-server-end-point: any TLS */
	SASL_CB_UNIQUE,		/* tls-unique: TLS 1.2 only */
	SASL_NCB
};
#define SASL_CB_MAX	64	/* bytes of one type's binding data */

enum sasl_rc {
	SASL_CHALLENGE,		/* out holds a challenge to send */
	SASL_NEED_CREDS,	/* call sasl_username(), then sasl_set_creds() */
	SASL_NEED_WORK,		/* PLAIN with sasl_set_async: derive with
				   sasl_work_*, then sasl_work_done() */
	SASL_SUCCESS,		/* out holds additional data (may be empty) */
	SASL_FAILURE		/* sasl_error() names the <failure/> condition */
};

struct sasl;

const char	*sasl_mech_name(enum sasl_mech);
/* -1 if the name is not one of ours */
int		 sasl_mech_lookup(const char *name);

/* a -PLUS mechanism: binds the channel */
bool		 sasl_mech_plus(enum sasl_mech);
/* an HT-* mechanism: a FAST token instead of a password */
bool		 sasl_mech_ht(enum sasl_mech);
/* the binding an HT-* mechanism needs; SASL_NCB for none */
enum sasl_cb	 sasl_mech_cb(enum sasl_mech);
const char	*sasl_cb_name(enum sasl_cb);

/* returns new */
struct sasl	*sasl_new(enum sasl_mech);
void		 sasl_free(struct sasl *);
/*
 * Feeds the client's (decoded) bytes: the initial response, then each
 * response. out receives the raw (not base64) server data.
 */
enum sasl_rc	 sasl_step(struct sasl *, const char *in, size_t len,
		    struct buf *out);
/*
 * Valid after SASL_NEED_CREDS: the authentication identity as the client
 * sent it after SASLprep (the caller nodepreps it into a localpart), and
 * the authzid or NULL. Borrowed from the sasl object.
 */
const char	*sasl_username(const struct sasl *);
const char	*sasl_authzid(const struct sasl *);
/*
 * Resumes after SASL_NEED_CREDS. creds NULL means no such account: the
 * exchange goes on with a fake salt so that a client cannot tell unknown
 * users from wrong passwords, and fails with not-authorized at the end.
 */
enum sasl_rc	 sasl_set_creds(struct sasl *, const struct scram_creds *,
		    struct buf *out);
enum sasl_err	 sasl_error(const struct sasl *);
/* why, for XEP-0388 <text/>, or NULL: borrowed, static */
const char	*sasl_error_text(const struct sasl *);

/*
 * Channel binding, set before the first step. sasl_set_cb gives one
 * type's data on this connection (copied; at most SASL_CB_MAX bytes): a
 * client may bind to the types given and no other. plus_offered says the
 * server advertised -PLUS mechanisms: a SCRAM client that says "y" (it
 * could bind but believes we cannot) is then refused (RFC 5802 6).
 */
void		 sasl_set_cb(struct sasl *, enum sasl_cb, const uint8_t *,
		    size_t);
void		 sasl_set_plus_offered(struct sasl *, bool);
/*
 * XEP-0474: the advertised mechanisms and channel-binding types as the
 * XEP's string S (sorted, %x1E between names, %x1F before the types);
 * SCRAM's server-first-message then carries h=, its hash. Copied.
 */
void		 sasl_set_ssdp(struct sasl *, const char *s, size_t len);
/*
 * HT-*: the stored keys the token may match, set before sasl_set_creds
 * (copied; at most SASL_HT_KEYS). A token is longer than SHA-256's
 * block, so HMAC keys with its hash (RFC 2104 2): the server keeps only
 * that. sasl_ht_used says which key matched after SASL_SUCCESS.
 */
#define SASL_HT_KEYS	2
#define SASL_HT_KEYLEN	32
void		 sasl_set_ht_keys(struct sasl *, const uint8_t keys[][32],
		    size_t n);
int		 sasl_ht_used(const struct sasl *);
/*
 * The account the exchange is for, normalised (nodeprep and the stream's
 * host), before sasl_set_creds: the fake salt of an unknown account is
 * keyed on it. Without it the SASLprepped name is used.
 */
void		 sasl_set_account(struct sasl *, const char *node,
		    const char *domain);

/*
 * The key of the fake salts, shared by every c2s process: the router's
 * (LINK_SECRETS), kept across a router link loss; key borrowed, the one it
 * replaces wiped. sasl_secret_known: the router's key is here, so that
 * an unknown account's salt is the one every c2s gives it.
 */
#define SASL_SECRET_LEN	32
void		 sasl_secret_put(const uint8_t key[SASL_SECRET_LEN]);
bool		 sasl_secret_known(void);
/* wipes it: for tests, the state before the router's first key */
void		 sasl_secret_clear(void);
/*
 * HMAC-SHA-256 of msg under that key: the same in every c2s and across
 * restarts, unguessable to clients (a device's stable resource part).
 */
void		 sasl_keyed_hash(const char *msg, size_t len, uint8_t out[32]);

/*
 * PLAIN's PBKDF2 (the stored iterations, up to a million) off the event
 * loop. With async set, sasl_set_creds returns SASL_NEED_WORK instead of
 * deriving: sasl_work_new copies what the derivation needs (returns new),
 * sasl_work_run derives (on any thread; it touches nothing else), and
 * sasl_work_done resumes the exchange with the result. Without async the
 * derivation runs inside sasl_set_creds.
 */
struct sasl_work;
void		 sasl_set_async(struct sasl *, bool);
struct sasl_work *sasl_work_new(struct sasl *);
void		 sasl_work_run(struct sasl_work *);
enum sasl_rc	 sasl_work_done(struct sasl *, const struct sasl_work *);
void		 sasl_work_free(struct sasl_work *);

/*
 * Tests only: fixes the server's part of the SCRAM nonce (otherwise 24
 * random bytes in base64) so that the RFC 5802 and RFC 7677 examples can
 * be reproduced byte for byte. Call before the step that answers with the
 * server-first-message. Copies snonce.
 */
void		 sasl_test_set_nonce(struct sasl *, const char *snonce);

#endif
