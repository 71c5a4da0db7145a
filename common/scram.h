/*
 * SCRAM credentials (RFC 5802, RFC 7677): what storage keeps for an account
 * instead of the password, one set per hash, and the primitives to derive
 * them. SASL protocol handling is in c2s/sasl.c.
 */
#ifndef PARLEY_SCRAM_H
#define PARLEY_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#define SCRAM_KEY_MAX		32	/* SHA-256 */
#define SCRAM_SALT_LEN		16	/* salts we generate */
#define SCRAM_SALT_MAX		64	/* salts we accept from storage */
#define SCRAM_ITER_DEFAULT	4096
#define SCRAM_ITER_MAX		1000000
/* longest password we set: PBKDF2 hashes it in every round */
#define SCRAM_PASSWORD_MAX	1023

enum scram_hash { SCRAM_SHA1, SCRAM_SHA256, SCRAM_NHASH };

struct scram_cred {
	uint32_t	iter;
	uint8_t		saltlen;
	uint8_t		salt[SCRAM_SALT_MAX];
	uint8_t		stored_key[SCRAM_KEY_MAX];	/* H(ClientKey) */
	uint8_t		server_key[SCRAM_KEY_MAX];
};

/* all hashes' credentials of one account */
struct scram_creds {
	struct scram_cred	h[SCRAM_NHASH];
};

size_t		 scram_hash_len(enum scram_hash);	/* 20 or 32 */
const char	*scram_hash_name(enum scram_hash);	/* "SHA-1", ... */

/*
 * SASLprep (RFC 4013) of a password or username: writes a NUL-terminated
 * string of at most outlen-1 bytes. Returns -1 for prohibited input.
 */
int	 scram_saslprep(const char *in, char *out, size_t outlen);
/* SaltedPassword = Hi(Normalize(password), salt, i); out: hash length */
int	 scram_salted_password(enum scram_hash, const char *password,
	    const uint8_t *salt, size_t saltlen, uint32_t iter, uint8_t *out);
/* fills c from a salted password (StoredKey, ServerKey) */
void	 scram_cred_from_salted(struct scram_cred *c, enum scram_hash,
	    const uint8_t *salted, const uint8_t *salt, size_t saltlen,
	    uint32_t iter);
/* new random salt per hash, derived keys; password is SASLprepped here */
int	 scram_creds_make(struct scram_creds *, const char *password,
	    uint32_t iter);
/* HMAC and hash for the mechanism code */
void	 scram_hmac(enum scram_hash, const void *key, size_t keylen,
	    const void *msg, size_t msglen, uint8_t *out);
void	 scram_h(enum scram_hash, const void *msg, size_t len, uint8_t *out);

#endif
